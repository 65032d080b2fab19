/* The TCP handshake (docs/tcp-sync.md): the Noise protocol framework's
 * patterns XX and IK with Curve25519, ChaCha20-Poly1305 (IETF) and
 * BLAKE2b — exactly "Noise_XX_25519_ChaChaPoly_BLAKE2b" and
 * "Noise_IK_25519_ChaChaPoly_BLAKE2b", revision 34 of the spec — built
 * from libsodium primitives:
 *
 *   XX:  -> e                      IK:  <- s
 *        <- e, ee, s, es                ...
 *        -> s, se                       -> e, es, s, ss
 *                                       <- e, ee, se
 *
 * XX is for a peer whose key we do not know yet; IK, when we know it,
 * saves a round trip. This module is pure computation (no sockets): the
 * session writes and reads the messages. After the last message both
 * sides know each other's static key and split the chaining key into one
 * key per direction. A fixed ephemeral key is for test vectors only. */
#ifndef PLEIN_NOISE_H
#define PLEIN_NOISE_H

#include <stddef.h>
#include <stdint.h>

#include "plein/buf.h"

#define PLEIN_NOISE_HASHLEN 64   /* BLAKE2b-512 */
#define PLEIN_NOISE_DHLEN 32     /* X25519 */
#define PLEIN_NOISE_KEYLEN 32
#define PLEIN_NOISE_TAGLEN 16
#define PLEIN_NOISE_MAX_MSG 65535 /* the spec's bound on a message */

/* A CipherState: a key and a 64-bit nonce. */
typedef struct plein_noise_cipher {
	unsigned char k[PLEIN_NOISE_KEYLEN];
	uint64_t n;
	int has_k;
} plein_noise_cipher;

enum { PLEIN_NOISE_XX, PLEIN_NOISE_IK };

/* A HandshakeState. */
typedef struct plein_noise {
	int pattern;                           /* PLEIN_NOISE_XX or _IK */
	int nmsg;                              /* its messages: 3 or 2 */
	int initiator;
	int step;                              /* messages done: 0..nmsg */
	unsigned char ck[PLEIN_NOISE_HASHLEN], h[PLEIN_NOISE_HASHLEN];
	plein_noise_cipher cs;
	unsigned char s_sk[32], s_pk[32];      /* our static key pair */
	unsigned char e_sk[32], e_pk[32];      /* our ephemeral key pair */
	unsigned char rs[32], re[32];          /* the peer's static and ephemeral keys */
	int fixed_e;                           /* e given (test vectors), not random */
} plein_noise;

/* Start an XX handshake: initiator 1 or 0, the prologue both sides must
 * agree on, and our static X25519 secret key. */
void plein_noise_init(plein_noise *hs, int initiator, const unsigned char *prologue, size_t prologue_len,
		      const unsigned char s_sk[32]);
/* Start an IK handshake. The initiator gives the responder's static key
 * rs (known beforehand); the responder passes NULL. */
void plein_noise_init_ik(plein_noise *hs, int initiator, const unsigned char *prologue, size_t prologue_len,
			 const unsigned char s_sk[32], const unsigned char rs[32]);
/* Use e_sk as the ephemeral secret key instead of a random one. For test
 * vectors only: a fixed ephemeral key voids the handshake's security. */
void plein_noise_fix_ephemeral(plein_noise *hs, const unsigned char e_sk[32]);

/* Write the next handshake message (with payload[0..n)) onto out. Only
 * in turn: PLEIN_EINVAL otherwise. */
int plein_noise_write(plein_noise *hs, plein_buf *out, const unsigned char *payload, size_t n);
/* Read the peer's next message; its payload is appended to out. A message
 * that is too short, too long, does not decrypt or carries a bad key:
 * PLEIN_EREJECT, and the handshake is dead (wipe it). */
int plein_noise_read(plein_noise *hs, plein_buf *out, const unsigned char *msg, size_t n);

/* 1 once all messages are done (three for XX, two for IK). */
int plein_noise_done(const plein_noise *hs);
/* The transport keys (done handshakes only): ours to send with, ours to
 * receive with. Noise's Split(): the first key is the initiator's. */
void plein_noise_split(const plein_noise *hs, unsigned char out_send[32], unsigned char out_recv[32]);
void plein_noise_wipe(plein_noise *hs);

/* ChaChaPoly with a Noise nonce (4 zero bytes, then n little-endian);
 * n goes up by one. For the handshake, and for checking the split keys
 * against published vectors. */
int plein_noise_encrypt(plein_noise_cipher *c, plein_buf *out, const unsigned char *ad, size_t adlen,
			const unsigned char *pt, size_t n);
int plein_noise_decrypt(plein_noise_cipher *c, plein_buf *out, const unsigned char *ad, size_t adlen,
			const unsigned char *ct, size_t n);

/* HMAC-BLAKE2b (RFC 2104, block 128 bytes, output 64) and Noise's HKDF
 * with two or three outputs (out3 may be NULL). */
void plein_noise_hmac(unsigned char out[PLEIN_NOISE_HASHLEN], const unsigned char *key, size_t keylen,
		      const unsigned char *data, size_t n);
void plein_noise_hkdf(unsigned char out1[PLEIN_NOISE_HASHLEN], unsigned char out2[PLEIN_NOISE_HASHLEN],
		      unsigned char *out3, const unsigned char ck[PLEIN_NOISE_HASHLEN],
		      const unsigned char *ikm, size_t n);

#endif
