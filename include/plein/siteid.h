/* Site ids (design §2): the first 80 bits of a site's ed25519 public key
 * in Crockford base32, in four groups: "7QF3-K9ZT-M2XA-PD4R". Typo-safe:
 * reading ignores case and dashes and takes I/L for 1, O for 0. The full
 * key is always known from the roster; the id only names it. */
#ifndef PLEIN_SITEID_H
#define PLEIN_SITEID_H

#define PLEIN_SITEID_LEN 19 /* 16 chars + 3 dashes */

/* out holds PLEIN_SITEID_LEN + 1 bytes. */
void plein_siteid_from_key(char *out, const unsigned char pk[32]);
/* Normalise what a person typed into the canonical form; -1 if it is not
 * a site id. */
int plein_siteid_normalize(char *out, const char *in);

#endif
