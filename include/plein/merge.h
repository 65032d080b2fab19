/* Merge (docs/merge.md): apply changes so that the state is a pure
 * function of the set of changes held — any order, any duplication, any
 * split into batches. Used for remote batches and to fold this site's own
 * sealed changes back in. */
#ifndef PLEIN_MERGE_H
#define PLEIN_MERGE_H

#include <stdint.h>

#include "plein/change.h"
#include "plein/site.h"

typedef struct plein_merge plein_merge;

/* Create the clock tables (plein_clk_<table>, plein_site_ref,
 * plein_counter) for the sync metadata, and plein_context and
 * plein_conflict (docs/merge.md, "Conflicts"); rows that exist without a clock
 * (seeded by migrations) get causal length 1. In the caller's transaction. */
int plein_merge_install(plein_db *db);

/* Start applying; the caller holds a write transaction for the whole
 * merge (plein_db_begin) and commits after plein_merge_end. Capture is
 * suspended until plein_merge_end. */
int plein_merge_begin(plein_merge **out, plein_site *s);
/* Apply the n changes of batch seq of the site with public key signer,
 * whose causal context is context[0..ncontext) (plein_batch.context):
 * besides merging them, note the concurrent writes that lose in
 * plein_conflict (docs/merge.md, "Conflicts"). A site's batches are to be
 * applied in the order of their seq, as the journal does; applying one
 * again changes nothing. */
int plein_merge_apply_batch(plein_merge *m, const unsigned char signer[32], uint64_t seq,
			    const plein_seen *context, size_t ncontext, const plein_change *ch, size_t n);
/* plein_merge_apply_batch in parts, for a batch read a part at a time
 * (plein_batch_next): begin it, apply its changes in order over any number
 * of calls, end it. Between begin and end nothing else is applied. */
int plein_merge_batch_begin(plein_merge *m, const unsigned char signer[32], uint64_t seq,
			    const plein_seen *context, size_t ncontext);
int plein_merge_batch_changes(plein_merge *m, const plein_change *ch, size_t n);
void plein_merge_batch_end(plein_merge *m);
/* Apply n changes signed by the site with public key signer, outside any
 * batch (tests, tools): the state is the same, but these writes never
 * count in a conflict, since nothing says what their writer had seen. */
int plein_merge_apply(plein_merge *m, const unsigned char signer[32], const plein_change *ch, size_t n);
/* Flush, resume capture, free. Returns the first error of the session. */
int plein_merge_end(plein_merge *m);

/* The clock state of a row, for the sealer: causal length (0 = none). */
int plein_merge_row_cl(plein_merge *m, int tid, const char *id, size_t id_len, int64_t *out_cl);
/* Sum of the counter totals of other sites than signer for a column. */
int plein_merge_counter_others(plein_merge *m, int tid, const char *id, size_t id_len, int cid,
			       const unsigned char signer[32], int64_t cl, int64_t *out_sum);

#endif
