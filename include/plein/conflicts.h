/* What 'plein conflicts' lists (docs/merge.md "Conflicts", docs/signup.md):
 * values that lost to a concurrent edit of the same field, and sign-ups
 * that sites booked beyond the places while apart. The FROM clauses are
 * shared by the listing and by the count in 'plein status', so the two
 * always agree. */
#ifndef PLEIN_CONFLICTS_H
#define PLEIN_CONFLICTS_H

#include <stdint.h>

#include "plein/site.h"

/* Value conflicts still to show: c (plein_conflict), t (the table), col
 * (the column), kept_k/lost_k (the sites' keys), kept_r/lost_r (their
 * roster rows, or NULL). */
#define PLEIN_CONFLICT_FROM                                                                     \
	" FROM plein_conflict c"                                                                \
	" JOIN plein_sync_table t ON t.tid = c.tid"                                             \
	" JOIN plein_sync_column col ON col.tbl = t.name AND col.cid = c.cid"                   \
	" JOIN plein_site_ref kept_k ON kept_k.n = c.kept_site"                                 \
	" JOIN plein_site_ref lost_k ON lost_k.n = c.lost_site"                                 \
	" LEFT JOIN roster kept_r ON kept_r.pk = lower(hex(kept_k.pk))"                         \
	" LEFT JOIN roster lost_r ON lost_r.pk = lower(hex(lost_k.pk))"                         \
	" WHERE c.shown"

/* Sign-ups booked at a site that did not know of earlier bookings
 * elsewhere, and now waitlisted by the rule every site applies: p
 * (signup_place), ru (its rule), o (the offering), b (the booking site's
 * roster row, or NULL). */
#define PLEIN_OVERBOOKED_FROM                                                                   \
	" FROM signup_place p"                                                                  \
	" LEFT JOIN schedule_rule ru ON ru.id = p.rule_id"                                      \
	" LEFT JOIN offering o ON o.id = ru.offering_id"                                        \
	" LEFT JOIN roster b ON b.pk = lower(hex(p.queued_by))"                                 \
	" WHERE p.written = 'booked' AND p.status = 'waitlisted'"

/* How many entries 'plein conflicts --json' lists: both kinds. */
int plein_conflicts_count(plein_site *s, int64_t *out);

#endif
