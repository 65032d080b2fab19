#include "plein/seal.h"

#include "plein/roster.h"

#include <sodium.h>
#include <string.h>

#include "plein/error.h"
#include "plein/siteid.h"

/* Envelope layout (docs/sealed.md):
 *   version[1] count[1] { kid[8] epk[32] box[48] } * count nonce[24] aead[n+16]
 * box = crypto_box_easy(content key, BLAKE2b-192(epk || xpk), xpk, esk),
 * so epk || box is exactly crypto_box_seal's output. The AEAD's additional
 * data is everything before the ciphertext: no header byte can change
 * unnoticed. */
#define KEY_BYTES crypto_aead_xchacha20poly1305_ietf_KEYBYTES
#define NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_BYTES crypto_aead_xchacha20poly1305_ietf_ABYTES
#define SEALED_KEY_BYTES (crypto_box_SEALBYTES + KEY_BYTES)
#define ENTRY_BYTES (PLEIN_SEAL_KID_BYTES + SEALED_KEY_BYTES)
#define HEAD_BYTES 2

void plein_seal_key_id(unsigned char out[PLEIN_SEAL_KID_BYTES], const unsigned char pk[32])
{
	unsigned char h[32];
	crypto_generichash(h, sizeof h, pk, 32, NULL, 0);
	memcpy(out, h, PLEIN_SEAL_KID_BYTES);
}

/* crypto_box_seal with a given ephemeral seed: out = epk || box. */
static int seal_key(unsigned char out[SEALED_KEY_BYTES], const unsigned char key[KEY_BYTES],
		    const unsigned char xpk[32], const unsigned char seed[32])
{
	unsigned char esk[crypto_box_SECRETKEYBYTES], nonce[crypto_box_NONCEBYTES];
	crypto_generichash_state st;
	crypto_box_seed_keypair(out, esk, seed);
	crypto_generichash_init(&st, NULL, 0, sizeof nonce);
	crypto_generichash_update(&st, out, crypto_box_PUBLICKEYBYTES);
	crypto_generichash_update(&st, xpk, 32);
	crypto_generichash_final(&st, nonce, sizeof nonce);
	int rc = crypto_box_easy(out + crypto_box_PUBLICKEYBYTES, key, KEY_BYTES, nonce, xpk, esk);
	sodium_memzero(esk, sizeof esk);
	return rc;
}

/* The one sealing path: key, nonce and ephemeral seeds are drawn at
 * random unless fixed ones are given (the test vector only). */
static int seal(plein_buf *out, const unsigned char *plain, size_t n,
		const unsigned char (*recipients)[32], int nrecipients,
		const unsigned char *fixed_key, const unsigned char *fixed_nonce,
		const unsigned char (*fixed_seeds)[32])
{
	unsigned char key[KEY_BYTES], seed[32], xpks[PLEIN_SEAL_MAX_RECIPIENTS][32];
	unsigned char kids[PLEIN_SEAL_MAX_RECIPIENTS][PLEIN_SEAL_KID_BYTES];
	int rc = 0, count = 0;

	if (nrecipients < 1 || nrecipients > PLEIN_SEAL_MAX_RECIPIENTS)
		return plein_fail(PLEIN_EINVAL, "sealing needs 1 to %d recipients, not %d", PLEIN_SEAL_MAX_RECIPIENTS, nrecipients);
	if (n > PLEIN_SEAL_MAX_PLAIN)
		return plein_fail(PLEIN_EINVAL, "personal data of %zu bytes is too long to seal (at most %d)", n, PLEIN_SEAL_MAX_PLAIN);
	if (sodium_init() < 0)
		return plein_fail(PLEIN_ERR, "libsodium could not start (no entropy source?)");
	for (int i = 0; i < nrecipients; i++)
		if (crypto_sign_ed25519_pk_to_curve25519(xpks[i], recipients[i]) != 0)
			return plein_fail(PLEIN_EINVAL, "recipient %d of sealed data is not a valid ed25519 public key", i + 1);

	if (fixed_key)
		memcpy(key, fixed_key, sizeof key);
	else
		crypto_aead_xchacha20poly1305_ietf_keygen(key);

	size_t start = out->len;
	plein_buf_putc(out, PLEIN_SEAL_VERSION);
	plein_buf_putc(out, 0); /* count, set below */
	for (int i = 0; i < nrecipients; i++) {
		unsigned char kid[PLEIN_SEAL_KID_BYTES], entry[SEALED_KEY_BYTES];
		int dup = 0;
		plein_seal_key_id(kid, recipients[i]);
		for (int k = 0; k < count; k++)
			dup |= memcmp(kids[k], kid, sizeof kid) == 0;
		if (dup)
			continue;
		memcpy(kids[count++], kid, sizeof kid);
		if (fixed_seeds)
			memcpy(seed, fixed_seeds[i], sizeof seed);
		else
			randombytes_buf(seed, sizeof seed);
		if (seal_key(entry, key, xpks[i], seed) != 0) {
			rc = plein_fail(PLEIN_ERR, "sealing the key for recipient %d failed", i + 1);
			goto cleanup;
		}
		plein_buf_put(out, kid, sizeof kid);
		plein_buf_put(out, entry, sizeof entry);
	}
	out->data[start + 1] = (unsigned char)count;

	unsigned char nonce[NONCE_BYTES];
	if (fixed_nonce)
		memcpy(nonce, fixed_nonce, sizeof nonce);
	else
		randombytes_buf(nonce, sizeof nonce);
	plein_buf_put(out, nonce, sizeof nonce);

	size_t ad_len = out->len - start;
	plein_buf_grow(out, n + TAG_BYTES);
	unsigned long long clen = 0;
	crypto_aead_xchacha20poly1305_ietf_encrypt(out->data + out->len, &clen, plain, n,
		out->data + start, ad_len, NULL, nonce, key);
	out->len += (size_t)clen;

cleanup:
	if (rc < 0)
		out->len = start;
	sodium_memzero(key, sizeof key);
	sodium_memzero(seed, sizeof seed);
	return rc;
}

int plein_seal(plein_buf *out, const unsigned char *plain, size_t n,
	       const unsigned char (*recipients)[32], int nrecipients)
{
	return seal(out, plain, n, recipients, nrecipients, NULL, NULL, NULL);
}

int plein_seal_deterministic(plein_buf *out, const unsigned char *plain, size_t n,
			     const unsigned char (*recipients)[32], int nrecipients,
			     const unsigned char key[32], const unsigned char nonce[24],
			     const unsigned char (*ephemeral_seeds)[32])
{
	return seal(out, plain, n, recipients, nrecipients, key, nonce, ephemeral_seeds);
}

/* Check the frame: version, count and room for every part. Returns the
 * recipient count or PLEIN_EREJECT; never reads past env[n). */
static int parse(const unsigned char *env, size_t n)
{
	if (!env || n < HEAD_BYTES)
		return plein_fail(PLEIN_EREJECT, "sealed data is truncated (%zu bytes)", n);
	if (env[0] != PLEIN_SEAL_VERSION)
		return plein_fail(PLEIN_EREJECT, "sealed data has format version %u; this plein reads version %d (update plein)",
				  env[0], PLEIN_SEAL_VERSION);
	int count = env[1];
	if (count < 1 || count > PLEIN_SEAL_MAX_RECIPIENTS)
		return plein_fail(PLEIN_EREJECT, "sealed data names %d recipients (1 to %d allowed); it is damaged",
				  count, PLEIN_SEAL_MAX_RECIPIENTS);
	size_t need = HEAD_BYTES + (size_t)count * ENTRY_BYTES + NONCE_BYTES + TAG_BYTES;
	if (n < need)
		return plein_fail(PLEIN_EREJECT, "sealed data is truncated (%zu bytes, at least %zu needed)", n, need);
	return count;
}

int plein_seal_key_ids(unsigned char (*out)[PLEIN_SEAL_KID_BYTES], int max,
		       const unsigned char *env, size_t n)
{
	int count = parse(env, n);
	for (int i = 0; i < count && i < max; i++)
		memcpy(out[i], env + HEAD_BYTES + (size_t)i * ENTRY_BYTES, PLEIN_SEAL_KID_BYTES);
	return count;
}

int plein_seal_open(plein_buf *out, const unsigned char *env, size_t n,
		    const unsigned char pk[32], const unsigned char sk[64])
{
	unsigned char kid[PLEIN_SEAL_KID_BYTES], xpk[32], xsk[32], key[KEY_BYTES];
	const unsigned char *entry = NULL;
	int rc = 0, count = parse(env, n);
	if (count < 0)
		return count;
	if (sodium_init() < 0)
		return plein_fail(PLEIN_ERR, "libsodium could not start (no entropy source?)");

	plein_seal_key_id(kid, pk);
	for (int i = 0; i < count && !entry; i++) {
		const unsigned char *e = env + HEAD_BYTES + (size_t)i * ENTRY_BYTES;
		if (memcmp(e, kid, sizeof kid) == 0)
			entry = e;
	}
	if (!entry)
		return plein_fail(PLEIN_ENOTFOUND, "this site is not among the %d recipient(s) of the sealed data", count);

	if (crypto_sign_ed25519_pk_to_curve25519(xpk, pk) != 0 || crypto_sign_ed25519_sk_to_curve25519(xsk, sk) != 0) {
		rc = plein_fail(PLEIN_ERR, "this site's key cannot be converted for opening sealed data");
		goto cleanup;
	}
	if (crypto_box_seal_open(key, entry + PLEIN_SEAL_KID_BYTES, SEALED_KEY_BYTES, xpk, xsk) != 0) {
		rc = plein_fail(PLEIN_EREJECT, "sealed data does not open with this site's key: it was altered or damaged");
		goto cleanup;
	}

	size_t ad_len = HEAD_BYTES + (size_t)count * ENTRY_BYTES + NONCE_BYTES;
	size_t clen = n - ad_len, start = out->len;
	plein_buf_grow(out, clen - TAG_BYTES + 1);
	unsigned long long mlen = 0;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(out->data + start, &mlen, NULL, env + ad_len, clen,
						       env, ad_len, env + ad_len - NONCE_BYTES, key) != 0) {
		sodium_memzero(out->data + start, clen - TAG_BYTES);
		rc = plein_fail(PLEIN_EREJECT, "sealed data fails its authentication check: it was altered or damaged");
		goto cleanup;
	}
	out->len = start + (size_t)mlen;

cleanup:
	sodium_memzero(xsk, sizeof xsk);
	sodium_memzero(key, sizeof key);
	return rc;
}

int plein_site_key_lookup(plein_site *site, const char *site_id, unsigned char out_pk[32])
{
	char norm[PLEIN_SITEID_LEN + 1];

	if (!site_id || plein_siteid_normalize(norm, site_id) < 0)
		return plein_fail(PLEIN_ENOTFOUND, "'%s' is not a site id, so its key is not known", site_id ? site_id : "");
	if (strcmp(norm, site->id) == 0) {
		memcpy(out_pk, site->pk, 32);
		return 0;
	}
	/* Full keys of other sites come from the roster. */
	return plein_roster_key(site, norm, out_pk);
}

static void sql_unseal(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	plein_site *site = sqlite3_user_data(ctx);
	plein_buf plain = PLEIN_BUF_INIT;
	(void)argc;
	if (sqlite3_value_type(argv[0]) != SQLITE_BLOB)
		return; /* NULL: nothing sealed */
	const unsigned char *env = sqlite3_value_blob(argv[0]);
	size_t n = (size_t)sqlite3_value_bytes(argv[0]);
	if (plein_seal_open(&plain, env, n, site->pk, site->sk) == 0)
		sqlite3_result_text(ctx, plein_buf_cstr(&plain), (int)plain.len, SQLITE_TRANSIENT);
	if (plain.data)
		sodium_memzero(plain.data, plain.cap);
	plein_buf_free(&plain);
	plein_error_clear(); /* not readable here is an answer, not an error */
}

int plein_seal_sql_register(plein_site *site)
{
	int flags = SQLITE_UTF8 | SQLITE_DIRECTONLY;
	if (sqlite3_create_function_v2(plein_db_handle(site->db), "plein_unseal", 1, flags, site,
				       sql_unseal, NULL, NULL, NULL) != SQLITE_OK)
		return plein_db_fail(site->db, "registering plein_unseal");
	return 0;
}
