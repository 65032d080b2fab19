/* Erasure of personal data (design §8, docs/erasure.md): on request
 * ('plein forget') and after the retention periods, everywhere the data
 * has travelled, without breaking a signature or a chain. */
#ifndef PLEIN_ERASE_H
#define PLEIN_ERASE_H

#include <stddef.h>
#include <stdint.h>

#include "plein/site.h"

/* Erase the personal columns of row row_id of table tbl: record the
 * erasure (a synced row of table erasure, id "<tbl>:<row_id>", upto = a
 * fresh HLC above every value held here) and set the columns to NULL, in
 * one transaction. Both are captured; seal them, then plein_erase_apply.
 * reason: "request", "closed" or "expired". */
int plein_erase_row(plein_site *s, const char *tbl, const char *row_id, const char *reason);

/* Carry out every erasure this replica holds: purge the values they cover
 * from every personal part in log.git and prune the old bytes; then fold
 * the WAL into the database. Cheap when nothing changed (parts already
 * checked are skipped). *out_purged (may be NULL): values purged now. */
int plein_erase_apply(plein_site *s, size_t *out_purged);

/* Judge the personal parts fetched from git remote key (NULL: every
 * remote) under refs/plein/incoming-personal/: one for a batch we hold
 * is merged into ours (only ever smaller), or — when we have none and
 * have not applied the batch yet — checked against the batch's signed
 * hashes, stripped of what was erased here and stored. Call it after the
 * batches are adopted and before they are applied. final: drop (and
 * prune) what is left, whose batches did not arrive. */
int plein_erase_accept(plein_site *s, const char *key, int final);

#endif
