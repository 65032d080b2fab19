/* Encrypted frames after the TCP handshake (docs/tcp-sync.md): each
 * direction is one crypto_secretstream_xchacha20poly1305 stream keyed
 * with that direction's Noise split key. The stream starts with its
 * 24-byte header; then each frame is a 4-byte big-endian length followed
 * by that many bytes of secretstream ciphertext (plaintext + 17). The
 * frame tagged TAG_FINAL is the clean goodbye: nothing may follow it.
 *
 * Pure computation: the session feeds bytes in and takes frames out. */
#ifndef PLEIN_FRAME_H
#define PLEIN_FRAME_H

#include <sodium.h>
#include <stddef.h>

#include "plein/buf.h"

#define PLEIN_FRAME_HEADER_BYTES crypto_secretstream_xchacha20poly1305_HEADERBYTES /* 24 */
#define PLEIN_FRAME_OVERHEAD (4 + crypto_secretstream_xchacha20poly1305_ABYTES)  /* 4 + 17 */
#define PLEIN_FRAME_MIN_MAX 1024 /* no limit may be set below this */

/* The sending half of a direction. */
typedef struct plein_frame_tx {
	crypto_secretstream_xchacha20poly1305_state st;
	size_t max;   /* bytes of plaintext per frame */
	int final;    /* the final frame was sealed */
} plein_frame_tx;

/* The receiving half. */
typedef struct plein_frame_rx {
	crypto_secretstream_xchacha20poly1305_state st;
	unsigned char key[32];
	size_t max;
	int started;  /* the stream header was read */
	int final;    /* the final frame was read */
} plein_frame_rx;

/* Start sending with key; appends the stream header to out. */
void plein_frame_tx_init(plein_frame_tx *tx, plein_buf *out, const unsigned char key[32], size_t max);
/* Seal msg[0..n) into one frame appended to out; final = 1 for the last.
 * PLEIN_EINVAL when n exceeds the limit or the stream was ended. */
int plein_frame_seal(plein_frame_tx *tx, plein_buf *out, const unsigned char *msg, size_t n, int final);

/* Start receiving with key; the stream header is expected first. */
void plein_frame_rx_init(plein_frame_rx *rx, const unsigned char key[32], size_t max);
/* Take at most one frame from p[0..n). Returns the bytes consumed: 0 when
 * more bytes are needed (nothing consumed; at most max + overhead are ever
 * needed), else the header or one frame, whose plaintext is appended to
 * out (*got = 1; *final = 1 for the goodbye). PLEIN_EREJECT for an
 * oversized length, a frame that does not decrypt (altered, replayed,
 * reordered, truncated), or anything after the final frame. */
int plein_frame_open(plein_frame_rx *rx, size_t *consumed, int *got, int *final, plein_buf *out,
		     const unsigned char *p, size_t n);

void plein_frame_tx_wipe(plein_frame_tx *tx);
void plein_frame_rx_wipe(plein_frame_rx *rx);

#endif
