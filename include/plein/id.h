/* Record ids: ULID-like, 26 characters of Crockford base32 — 48 bits of
 * Unix milliseconds then 80 random bits. Time-ordered, so inserts append
 * to the B-tree (design §10), and unique without coordination. */
#ifndef PLEIN_ID_H
#define PLEIN_ID_H

#include <stddef.h>
#include <stdint.h>

#define PLEIN_ID_LEN 26

/* out must hold PLEIN_ID_LEN + 1 bytes. */
void plein_id_new(char *out);

/* Crockford base32 of n bytes (big-endian bit order); out holds
 * ceil(n*8/5)+1 bytes. */
void plein_base32_encode(char *out, const unsigned char *in, size_t n);
/* Decode Crockford base32, forgiving case, I/L -> 1, O -> 0 and dashes.
 * Returns the number of bytes written, or -1 on a bad character. */
int plein_base32_decode(unsigned char *out, size_t cap, const char *in);

#endif
