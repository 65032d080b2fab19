/* This site's own writes on their way into the log: captured rows become
 * changes (docs/merge.md, "Local writes"). */
#ifndef PLEIN_LOCAL_H
#define PLEIN_LOCAL_H

#include "plein/change.h"
#include "plein/merge.h"
#include "plein/site.h"

/* Collect the changes of every captured, unsealed write, giving each
 * write its HLC (in write order, after the replica's clock, never behind
 * the write's wall time). m is a merge session of the caller's write
 * transaction (its clock state is read). *out_hlc_max is the HLC of the
 * last captured write (0 when nothing was captured). */
int plein_local_changes(plein_changeset *out, int64_t *out_hlc_max, plein_merge *m, plein_site *s);

/* The captured writes whose HLC is at most hlc_max are sealed: forget
 * them and move the clock past them. Gives the same HLCs as
 * plein_local_changes as long as the clock has not moved in between. */
int plein_local_consumed(plein_site *s, int64_t hlc_max);

#endif
