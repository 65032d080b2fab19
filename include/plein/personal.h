/* Personal parts between replicas (design §8, docs/erasure.md): a batch's
 * personal part only ever shrinks, wherever it travels. */
#ifndef PLEIN_PERSONAL_H
#define PLEIN_PERSONAL_H

#include <stddef.h>

#include "plein/buf.h"
#include "plein/log.h"

/* Merge two stored copies (zlib) of one batch's personal part: a value
 * stays only where both hold it. Appends the merged part to out (empty
 * when nothing is left, or when it equals both). *out_same_a / *out_same_b:
 * the merge equals a / b. PLEIN_EREJECT when the two are not copies of
 * one part (different values or counts, malformed). */
int plein_personal_intersect(plein_buf *out, int *out_same_a, int *out_same_b,
			     const unsigned char *a, size_t na, const unsigned char *b, size_t nb);

/* A personal ref a git remote listed. */
typedef struct {
	char name[PLEIN_LOG_REF_MAX];
	char commit[PLEIN_LOG_OID_HEX + 1]; /* what the remote's ref names */
} plein_personal_head;

/* For a git remote sync, after the fetch and before the push: compare our
 * personal refs with the remote's. Where the remote's copy (fetched) has
 * purged values ours still holds, ours is purged the same way now (and
 * the old bytes pruned). *out_push: the names of our refs the remote
 * lacks or holds with values we purged — push those, forced; never one
 * whose remote copy is already as purged. Free each string and the array. */
int plein_personal_reconcile(char ***out_push, size_t *out_n, plein_log *log,
			     const plein_personal_head *remote, size_t nremote);

/* After a push to a relay on a local path (a USB stick, a folder): make
 * the bytes of the parts our push replaced really gone there too
 * (plein_log_prune on the relay). before: the relay's personal refs as
 * listed before the push; pushed: the push specs ("+ref:ref"). */
int plein_personal_prune_relay(const char *path, const plein_personal_head *before, size_t nbefore,
			       char *const *pushed, size_t npushed);

#endif
