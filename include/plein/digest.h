/* The digest (design §4): a BLAKE2b-256 hash of the canonical synced state
 * — the live rows and values of every synced table, in tid, id and cid
 * order, typed. No clocks, no local tables. docs/digest.md has the bytes. */
#ifndef PLEIN_DIGEST_H
#define PLEIN_DIGEST_H

#include "plein/db.h"

#define PLEIN_DIGEST_BYTES 32

int plein_digest(plein_db *db, unsigned char out[PLEIN_DIGEST_BYTES]);
/* The same as 64 lowercase hex characters (out holds 65 bytes). */
int plein_digest_hex(plein_db *db, char out[65]);

#endif
