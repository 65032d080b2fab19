/* Sealed personal data (design §8, docs/sealed.md): a visitor's contact
 * details in a referral or a name in a sign-up travel through every
 * replica as an envelope that only the addressed sites can open.
 *
 * One random content key encrypts the plaintext (XChaCha20-Poly1305);
 * the key is sealed (crypto_box_seal) to each recipient's X25519 key,
 * derived from its ed25519 site key. Each recipient entry starts with a
 * short key id, so opening takes one try. */
#ifndef PLEIN_SEAL_H
#define PLEIN_SEAL_H

#include <stddef.h>

#include "plein/buf.h"
#include "plein/site.h"

#define PLEIN_SEAL_VERSION 1
#define PLEIN_SEAL_MAX_RECIPIENTS 32
#define PLEIN_SEAL_MAX_PLAIN (64 * 1024)
#define PLEIN_SEAL_KID_BYTES 8

/* Seal plain[0..n) to the ed25519 public keys in recipients (duplicates
 * are sealed once). Appends the envelope to out. PLEIN_EINVAL for a bad
 * recipient key, no recipients, too many, or too much plaintext. */
int plein_seal(plein_buf *out, const unsigned char *plain, size_t n,
	       const unsigned char (*recipients)[32], int nrecipients);

/* Open env[0..n) with this site's ed25519 key pair; appends the plaintext
 * to out. PLEIN_ENOTFOUND when pk is not a recipient; PLEIN_EREJECT when
 * the envelope is malformed, truncated or was altered. */
int plein_seal_open(plein_buf *out, const unsigned char *env, size_t n,
		    const unsigned char pk[32], const unsigned char sk[64]);

/* The key id of an ed25519 public key: BLAKE2b-256(pk)[0..8). */
void plein_seal_key_id(unsigned char out[PLEIN_SEAL_KID_BYTES], const unsigned char pk[32]);

/* The key ids of env's recipients, in envelope order, without opening it.
 * Returns their number (at most max are written), or PLEIN_EREJECT. */
int plein_seal_key_ids(unsigned char (*out)[PLEIN_SEAL_KID_BYTES], int max,
		       const unsigned char *env, size_t n);

/* For the test vector only: plein_seal with a fixed content key, nonce
 * and one ephemeral X25519 seed per recipient instead of random ones.
 * Never use it for real data. */
int plein_seal_deterministic(plein_buf *out, const unsigned char *plain, size_t n,
			     const unsigned char (*recipients)[32], int nrecipients,
			     const unsigned char key[32], const unsigned char nonce[24],
			     const unsigned char (*ephemeral_seeds)[32]);

/* The full ed25519 public key of a site, by its site id: this site's own,
 * or one from the local roster table (plein_roster: site_id, pk) when it
 * exists. PLEIN_ENOTFOUND when the key is not known here; PLEIN_EREJECT
 * when the stored key does not belong to the id. */
int plein_site_key_lookup(plein_site *site, const char *site_id, unsigned char out_pk[32]);

/* Register the SQL function plein_unseal(blob) on the site's connection:
 * the plaintext as text when this site can open blob, else NULL. Only
 * direct queries may call it (not triggers or views). */
int plein_seal_sql_register(plein_site *site);

#endif
