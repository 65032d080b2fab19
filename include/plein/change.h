/* The unit of sync: one change to one row of a synced table (design §4).
 * A batch (batch.h) carries an ordered list of them, signed by one site.
 *
 * A change either sets one column of a row, or states only the row's
 * existence. Every change carries the row's causal length at the writer:
 * odd = the row exists, even = it was deleted; a re-insert after a delete
 * makes it odd again (cr-sqlite's causal length). */
#ifndef PLEIN_CHANGE_H
#define PLEIN_CHANGE_H

#include <stddef.h>
#include <stdint.h>

enum plein_value_type {
	PLEIN_V_NULL = 0,
	PLEIN_V_INT = 1,
	PLEIN_V_REAL = 2,
	PLEIN_V_TEXT = 3,
	PLEIN_V_BLOB = 4,
	/* A personal value (plein_column.personal) is not in the signed
	 * payload: the payload holds BLAKE2b-256 of it, the value travels in
	 * the batch's separate, purgeable personal part (design §5, §8). */
	PLEIN_V_PURGED = 5, /* decoded when the personal part was erased */
};

typedef struct {
	int type;               /* enum plein_value_type */
	int64_t i;              /* PLEIN_V_INT */
	double f;               /* PLEIN_V_REAL */
	const unsigned char *p; /* TEXT/BLOB bytes (lent: points into a buffer) */
	size_t n;
} plein_value;

#define PLEIN_CID_ROW (-1) /* the change states the row's existence only */

typedef struct {
	int tid;                /* plein_sync_table.tid */
	const char *id;         /* the row's id (lent, not NUL-terminated) */
	size_t id_len;
	int64_t cl;             /* causal length at the writer */
	int cid;                /* column, or PLEIN_CID_ROW */
	int64_t hlc;            /* clock of the write (the site is the batch's signer) */
	int personal;           /* the value belongs in the personal part */
	plein_value value;      /* for a 'counter' column: the signer's own running total */
} plein_change;

/* One entry of a batch's causal context (docs/merge.md, "Conflicts"):
 * when its signer sealed the batch, it had applied batches 1..seq of the
 * site with public key pk. A batch names every other site it had applied
 * anything of; its own earlier batches are implied. */
typedef struct {
	unsigned char pk[32];
	uint64_t seq;
} plein_seen;

/* A list of changes that owns its bytes (ids and values are copied). */
typedef struct {
	plein_change *v;
	size_t n, cap;
} plein_changeset;

#define PLEIN_CHANGESET_INIT { 0, 0, 0 }

void plein_changeset_add(plein_changeset *cs, const plein_change *c);
void plein_changeset_free(plein_changeset *cs);

#endif
