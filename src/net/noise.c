/* Noise_XX and Noise_IK _25519_ChaChaPoly_BLAKE2b (include/plein/noise.h),
 * following the Noise spec (rev. 34) section by section: CipherState (5.1),
 * SymmetricState (5.2), HandshakeState (5.3) driven by the patterns' tokens.
 * Checked against the cacophony test vectors in tests/unit/test_net_noise.c. */
#include "plein/noise.h"

#include <sodium.h>
#include <string.h>

#include "plein/error.h"

#define BLOCKLEN 128 /* BLAKE2b's block, for HMAC */

/* ---- CipherState ---- */

static void nonce_bytes(unsigned char out[12], uint64_t n)
{
	memset(out, 0, 4);
	for (int i = 0; i < 8; i++)
		out[4 + i] = (unsigned char)(n >> (8 * i));
}

int plein_noise_encrypt(plein_noise_cipher *c, plein_buf *out, const unsigned char *ad, size_t adlen,
			const unsigned char *pt, size_t n)
{
	if (!c->has_k) {
		plein_buf_put(out, pt, n);
		return 0;
	}
	if (c->n == UINT64_MAX)
		return plein_fail(PLEIN_ERR, "noise: nonce exhausted");
	unsigned char nonce[12];
	nonce_bytes(nonce, c->n);
	plein_buf_grow(out, n + PLEIN_NOISE_TAGLEN);
	unsigned long long clen = 0;
	crypto_aead_chacha20poly1305_ietf_encrypt(out->data + out->len, &clen, pt, n, ad, adlen, NULL, nonce, c->k);
	out->len += (size_t)clen;
	c->n++;
	return 0;
}

int plein_noise_decrypt(plein_noise_cipher *c, plein_buf *out, const unsigned char *ad, size_t adlen,
			const unsigned char *ct, size_t n)
{
	if (!c->has_k) {
		plein_buf_put(out, ct, n);
		return 0;
	}
	if (n < PLEIN_NOISE_TAGLEN || c->n == UINT64_MAX)
		return plein_fail(PLEIN_EREJECT, "noise: a handshake message is too short");
	unsigned char nonce[12];
	nonce_bytes(nonce, c->n);
	plein_buf_grow(out, n);
	unsigned long long plen = 0;
	if (crypto_aead_chacha20poly1305_ietf_decrypt(out->data + out->len, &plen, NULL, ct, n, ad, adlen, nonce, c->k) != 0)
		return plein_fail(PLEIN_EREJECT, "noise: a handshake message does not decrypt");
	out->len += (size_t)plen;
	c->n++;
	return 0;
}

/* ---- hash functions ---- */

static void hash2(unsigned char out[PLEIN_NOISE_HASHLEN], const unsigned char *a, size_t alen,
		  const unsigned char *b, size_t blen)
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, PLEIN_NOISE_HASHLEN);
	crypto_generichash_update(&st, a, alen);
	crypto_generichash_update(&st, b, blen);
	crypto_generichash_final(&st, out, PLEIN_NOISE_HASHLEN);
}

void plein_noise_hmac(unsigned char out[PLEIN_NOISE_HASHLEN], const unsigned char *key, size_t keylen,
		      const unsigned char *data, size_t n)
{
	unsigned char k[BLOCKLEN], pad[BLOCKLEN], inner[PLEIN_NOISE_HASHLEN];
	memset(k, 0, sizeof k);
	if (keylen > BLOCKLEN)
		crypto_generichash(k, PLEIN_NOISE_HASHLEN, key, keylen, NULL, 0);
	else
		memcpy(k, key, keylen);
	for (int i = 0; i < BLOCKLEN; i++)
		pad[i] = k[i] ^ 0x36;
	hash2(inner, pad, BLOCKLEN, data, n);
	for (int i = 0; i < BLOCKLEN; i++)
		pad[i] = k[i] ^ 0x5c;
	hash2(out, pad, BLOCKLEN, inner, sizeof inner);
	sodium_memzero(k, sizeof k);
	sodium_memzero(pad, sizeof pad);
	sodium_memzero(inner, sizeof inner);
}

void plein_noise_hkdf(unsigned char out1[PLEIN_NOISE_HASHLEN], unsigned char out2[PLEIN_NOISE_HASHLEN],
		      unsigned char *out3, const unsigned char ck[PLEIN_NOISE_HASHLEN],
		      const unsigned char *ikm, size_t n)
{
	unsigned char temp[PLEIN_NOISE_HASHLEN], in[PLEIN_NOISE_HASHLEN + 1];
	plein_noise_hmac(temp, ck, PLEIN_NOISE_HASHLEN, ikm, n);
	in[0] = 0x01;
	plein_noise_hmac(out1, temp, sizeof temp, in, 1);
	memcpy(in, out1, PLEIN_NOISE_HASHLEN);
	in[PLEIN_NOISE_HASHLEN] = 0x02;
	plein_noise_hmac(out2, temp, sizeof temp, in, sizeof in);
	if (out3) {
		memcpy(in, out2, PLEIN_NOISE_HASHLEN);
		in[PLEIN_NOISE_HASHLEN] = 0x03;
		plein_noise_hmac(out3, temp, sizeof temp, in, sizeof in);
	}
	sodium_memzero(temp, sizeof temp);
	sodium_memzero(in, sizeof in);
}

/* ---- SymmetricState ---- */

static void mix_hash(plein_noise *hs, const unsigned char *data, size_t n)
{
	unsigned char h[PLEIN_NOISE_HASHLEN];
	hash2(h, hs->h, sizeof hs->h, data, n);
	memcpy(hs->h, h, sizeof h);
}

static void mix_key(plein_noise *hs, const unsigned char *ikm, size_t n)
{
	unsigned char ck[PLEIN_NOISE_HASHLEN], k[PLEIN_NOISE_HASHLEN];
	plein_noise_hkdf(ck, k, NULL, hs->ck, ikm, n);
	memcpy(hs->ck, ck, sizeof ck);
	memcpy(hs->cs.k, k, PLEIN_NOISE_KEYLEN); /* HASHLEN 64: truncated to 32 */
	hs->cs.n = 0;
	hs->cs.has_k = 1;
	sodium_memzero(ck, sizeof ck);
	sodium_memzero(k, sizeof k);
}

static int encrypt_and_hash(plein_noise *hs, plein_buf *out, const unsigned char *pt, size_t n)
{
	size_t at = out->len;
	int rc = plein_noise_encrypt(&hs->cs, out, hs->h, sizeof hs->h, pt, n);
	if (rc == 0)
		mix_hash(hs, out->data + at, out->len - at);
	return rc;
}

static int decrypt_and_hash(plein_noise *hs, plein_buf *out, const unsigned char *ct, size_t n)
{
	unsigned char h[PLEIN_NOISE_HASHLEN];
	memcpy(h, hs->h, sizeof h);
	int rc = plein_noise_decrypt(&hs->cs, out, h, sizeof h, ct, n);
	if (rc == 0)
		mix_hash(hs, ct, n);
	return rc;
}

/* ---- HandshakeState ---- */

/* The message patterns as tokens (spec 7.1); message i is the
 * initiator's when i is even. IK's pre-message "<- s" is in init. */
enum { T_END, T_E, T_S, T_EE, T_ES, T_SE, T_SS };
static const unsigned char patterns[2][3][5] = {
	[PLEIN_NOISE_XX] = { { T_E }, { T_E, T_EE, T_S, T_ES }, { T_S, T_SE } },
	[PLEIN_NOISE_IK] = { { T_E, T_ES, T_S, T_SS }, { T_E, T_EE, T_SE } },
};
static const char *const names[2] = {
	[PLEIN_NOISE_XX] = "Noise_XX_25519_ChaChaPoly_BLAKE2b",
	[PLEIN_NOISE_IK] = "Noise_IK_25519_ChaChaPoly_BLAKE2b",
};

static void init(plein_noise *hs, int pattern, int initiator, const unsigned char *prologue, size_t prologue_len,
		 const unsigned char s_sk[32])
{
	memset(hs, 0, sizeof *hs);
	hs->pattern = pattern;
	hs->nmsg = pattern == PLEIN_NOISE_IK ? 2 : 3;
	hs->initiator = initiator;
	/* The name fits in HASHLEN: h = name padded with zeros. */
	memcpy(hs->h, names[pattern], strlen(names[pattern]));
	memcpy(hs->ck, hs->h, sizeof hs->h);
	mix_hash(hs, prologue, prologue_len);
	memcpy(hs->s_sk, s_sk, 32);
	crypto_scalarmult_base(hs->s_pk, hs->s_sk);
}

void plein_noise_init(plein_noise *hs, int initiator, const unsigned char *prologue, size_t prologue_len,
		      const unsigned char s_sk[32])
{
	init(hs, PLEIN_NOISE_XX, initiator, prologue, prologue_len, s_sk);
}

void plein_noise_init_ik(plein_noise *hs, int initiator, const unsigned char *prologue, size_t prologue_len,
			 const unsigned char s_sk[32], const unsigned char rs[32])
{
	init(hs, PLEIN_NOISE_IK, initiator, prologue, prologue_len, s_sk);
	/* The pre-message "<- s": both sides hash the responder's key. */
	if (initiator)
		memcpy(hs->rs, rs, 32);
	mix_hash(hs, initiator ? hs->rs : hs->s_pk, 32);
}

void plein_noise_fix_ephemeral(plein_noise *hs, const unsigned char e_sk[32])
{
	memcpy(hs->e_sk, e_sk, 32);
	hs->fixed_e = 1;
}

static int dh(plein_noise *hs, const unsigned char sk[32], const unsigned char pk[32])
{
	unsigned char shared[32];
	/* libsodium refuses a low-order point (all-zero result). */
	if (crypto_scalarmult(shared, sk, pk) != 0)
		return plein_fail(PLEIN_EREJECT, "noise: the peer sent a weak key");
	mix_key(hs, shared, sizeof shared);
	sodium_memzero(shared, sizeof shared);
	return 0;
}

/* ee, es, se, ss: the same on both sides, seen from our role. */
static int dh_token(plein_noise *hs, int t)
{
	int i = hs->initiator;
	switch (t) {
	case T_EE:
		return dh(hs, hs->e_sk, hs->re);
	case T_ES:
		return i ? dh(hs, hs->e_sk, hs->rs) : dh(hs, hs->s_sk, hs->re);
	case T_SE:
		return i ? dh(hs, hs->s_sk, hs->re) : dh(hs, hs->e_sk, hs->rs);
	default: /* T_SS */
		return dh(hs, hs->s_sk, hs->rs);
	}
}

static void write_e(plein_noise *hs, plein_buf *out)
{
	if (!hs->fixed_e)
		randombytes_buf(hs->e_sk, sizeof hs->e_sk);
	crypto_scalarmult_base(hs->e_pk, hs->e_sk);
	plein_buf_put(out, hs->e_pk, 32);
	mix_hash(hs, hs->e_pk, 32);
}

/* Is the next message ours (1) or the peer's (0)? */
static int our_turn(const plein_noise *hs)
{
	return (hs->step % 2 == 0) == (hs->initiator != 0);
}

int plein_noise_write(plein_noise *hs, plein_buf *out, const unsigned char *payload, size_t n)
{
	if (hs->step >= hs->nmsg || !our_turn(hs))
		return plein_fail(PLEIN_EINVAL, "noise: not our turn to write");
	int rc = 0;
	for (const unsigned char *t = patterns[hs->pattern][hs->step]; *t && rc == 0; t++) {
		if (*t == T_E)
			write_e(hs, out);
		else if (*t == T_S)
			rc = encrypt_and_hash(hs, out, hs->s_pk, 32);
		else
			rc = dh_token(hs, *t);
	}
	if (rc == 0)
		rc = encrypt_and_hash(hs, out, payload, n);
	if (rc == 0)
		hs->step++;
	return rc;
}

static int too_short(void)
{
	return plein_fail(PLEIN_EREJECT, "noise: a handshake message is too short");
}

static int read_s(plein_noise *hs, const unsigned char **p, size_t *left)
{
	plein_buf rs = PLEIN_BUF_INIT;
	size_t need = 32 + PLEIN_NOISE_TAGLEN;
	int rc = *left < need ? too_short() : decrypt_and_hash(hs, &rs, *p, need);
	if (rc == 0) {
		memcpy(hs->rs, rs.data, 32);
		*p += need;
		*left -= need;
	}
	plein_buf_free(&rs);
	return rc;
}

int plein_noise_read(plein_noise *hs, plein_buf *out, const unsigned char *msg, size_t n)
{
	if (hs->step >= hs->nmsg || our_turn(hs))
		return plein_fail(PLEIN_EINVAL, "noise: not our turn to read");
	if (n > PLEIN_NOISE_MAX_MSG)
		return plein_fail(PLEIN_EREJECT, "noise: a handshake message is too long");
	const unsigned char *p = msg;
	size_t left = n;
	int rc = 0;
	for (const unsigned char *t = patterns[hs->pattern][hs->step]; *t && rc == 0; t++) {
		if (*t == T_E) {
			if (left < 32)
				return too_short();
			memcpy(hs->re, p, 32);
			mix_hash(hs, hs->re, 32);
			p += 32;
			left -= 32;
		} else if (*t == T_S) {
			rc = read_s(hs, &p, &left);
		} else {
			rc = dh_token(hs, *t);
		}
	}
	if (rc == 0)
		rc = decrypt_and_hash(hs, out, p, left);
	if (rc == 0)
		hs->step++;
	return rc;
}

int plein_noise_done(const plein_noise *hs)
{
	return hs->nmsg && hs->step == hs->nmsg;
}

void plein_noise_split(const plein_noise *hs, unsigned char out_send[32], unsigned char out_recv[32])
{
	unsigned char k1[PLEIN_NOISE_HASHLEN], k2[PLEIN_NOISE_HASHLEN];
	plein_noise_hkdf(k1, k2, NULL, hs->ck, NULL, 0);
	memcpy(out_send, hs->initiator ? k1 : k2, 32);
	memcpy(out_recv, hs->initiator ? k2 : k1, 32);
	sodium_memzero(k1, sizeof k1);
	sodium_memzero(k2, sizeof k2);
}

void plein_noise_wipe(plein_noise *hs)
{
	sodium_memzero(hs, sizeof *hs);
}
