/* The journal: how changes move between the replica and the log.
 *
 * The log (log.git) is the source of truth and the replica a cache of it:
 * plein_journal_catch_up applies, in one SQLite transaction per batch,
 * every batch the log holds that the replica has not applied yet
 * (plein_applied records how far). Sealing writes this site's captured
 * changes as the next batch of its chain — the git ref update is the
 * commit point — and then catches up, which folds the batch back in and
 * forgets the captured rows. A crash between the two is repaired by the
 * next catch-up, so no acknowledged change is lost or applied twice. */
#ifndef PLEIN_JOURNAL_H
#define PLEIN_JOURNAL_H

#include <stdint.h>

#include "plein/site.h"

/* Seal every captured change into a new batch of this site's chain.
 * *out_seq: its sequence number, or 0 when there was nothing to seal. */
int plein_journal_seal(plein_site *s, uint64_t *out_seq);

/* After a restore or a copy of the site's files (site.c notices: the
 * replica's file is another one), sealing pauses — writes are still
 * captured — until a sync with a peer has brought back whatever this site
 * published before; then sync calls this to resume. */
int plein_journal_resume(plein_site *s);
/* 1 when sealing waits for a peer (see above). */
int plein_journal_paused(plein_site *s);

/* Apply what the log holds and the replica lacks. *out_applied (may be
 * NULL): number of batches applied. */
int plein_journal_catch_up(plein_site *s, uint64_t *out_applied);

/* Sequence number of a site's last applied batch (0: none). */
int plein_journal_applied(plein_site *s, const char *site_id, uint64_t *out_seq);

#endif
