/* Encrypted, length-prefixed frames (include/plein/frame.h). */
#include "plein/frame.h"

#include <string.h>

#include "plein/error.h"

#define ABYTES crypto_secretstream_xchacha20poly1305_ABYTES

void plein_frame_tx_init(plein_frame_tx *tx, plein_buf *out, const unsigned char key[32], size_t max)
{
	unsigned char header[PLEIN_FRAME_HEADER_BYTES];
	memset(tx, 0, sizeof *tx);
	tx->max = max < PLEIN_FRAME_MIN_MAX ? PLEIN_FRAME_MIN_MAX : max;
	crypto_secretstream_xchacha20poly1305_init_push(&tx->st, header, key);
	plein_buf_put(out, header, sizeof header);
}

int plein_frame_seal(plein_frame_tx *tx, plein_buf *out, const unsigned char *msg, size_t n, int final)
{
	if (tx->final)
		return plein_fail(PLEIN_EINVAL, "frame: the stream was already ended");
	if (n > tx->max)
		return plein_fail(PLEIN_EINVAL, "frame: %zu bytes exceed the frame limit of %zu", n, tx->max);
	size_t clen = n + ABYTES;
	plein_buf_grow(out, 4 + clen);
	unsigned char *p = out->data + out->len;
	p[0] = (unsigned char)(clen >> 24);
	p[1] = (unsigned char)(clen >> 16);
	p[2] = (unsigned char)(clen >> 8);
	p[3] = (unsigned char)clen;
	unsigned char tag = final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
				  : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
	crypto_secretstream_xchacha20poly1305_push(&tx->st, p + 4, NULL, msg, n, NULL, 0, tag);
	out->len += 4 + clen;
	tx->final = final;
	return 0;
}

void plein_frame_rx_init(plein_frame_rx *rx, const unsigned char key[32], size_t max)
{
	memset(rx, 0, sizeof *rx);
	memcpy(rx->key, key, 32);
	rx->max = max < PLEIN_FRAME_MIN_MAX ? PLEIN_FRAME_MIN_MAX : max;
}

int plein_frame_open(plein_frame_rx *rx, size_t *consumed, int *got, int *final, plein_buf *out,
		     const unsigned char *p, size_t n)
{
	*consumed = 0;
	*got = 0;
	*final = 0;
	if (n == 0)
		return 0;
	if (rx->final)
		return plein_fail(PLEIN_EREJECT, "the peer sent data after its goodbye");
	if (!rx->started) {
		if (n < PLEIN_FRAME_HEADER_BYTES)
			return 0;
		if (crypto_secretstream_xchacha20poly1305_init_pull(&rx->st, p, rx->key) != 0)
			return plein_fail(PLEIN_EREJECT, "the peer's stream header is invalid");
		sodium_memzero(rx->key, sizeof rx->key);
		rx->started = 1;
		*consumed = PLEIN_FRAME_HEADER_BYTES;
		return 0;
	}
	if (n < 4)
		return 0;
	size_t clen = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
	if (clen < ABYTES)
		return plein_fail(PLEIN_EREJECT, "the peer sent a malformed frame (length %zu)", clen);
	if (clen - ABYTES > rx->max)
		return plein_fail(PLEIN_EREJECT, "the peer sent a frame of %zu bytes, over the limit of %zu",
				  clen - ABYTES, rx->max);
	if (n - 4 < clen)
		return 0;
	unsigned char tag = 0;
	unsigned long long mlen = 0;
	plein_buf_grow(out, clen - ABYTES + 1);
	if (crypto_secretstream_xchacha20poly1305_pull(&rx->st, out->data + out->len, &mlen, &tag, p + 4, clen,
						       NULL, 0) != 0)
		return plein_fail(PLEIN_EREJECT, "a frame from the peer does not decrypt (altered, replayed or out of order)");
	if (tag != crypto_secretstream_xchacha20poly1305_TAG_MESSAGE &&
	    tag != crypto_secretstream_xchacha20poly1305_TAG_FINAL)
		return plein_fail(PLEIN_EREJECT, "a frame from the peer has an unknown tag %u", tag);
	out->len += (size_t)mlen;
	*consumed = 4 + clen;
	*got = 1;
	*final = tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL;
	rx->final = *final;
	return 0;
}

void plein_frame_tx_wipe(plein_frame_tx *tx)
{
	sodium_memzero(tx, sizeof *tx);
}

void plein_frame_rx_wipe(plein_frame_rx *rx)
{
	sodium_memzero(rx, sizeof *rx);
}
