/* The referral lifecycle (docs/referral.md): new -> contacted ->
 * appointment -> done, or declined / unreachable. The status merges by
 * rank and the attempts add up across sites (docs/merge.md); every status
 * change is kept in referral_event (schema/004_lifecycle.sql); --due lists
 * what needs looking at. The rules here are pure where they can be. */
#ifndef PLEIN_REFERRAL_H
#define PLEIN_REFERRAL_H

#include <stdint.h>

#include "plein/site.h"

/* Days without a status change after which an open referral is due, when
 * plein.conf does not say (referral.stale_days). */
#define PLEIN_REFERRAL_STALE_DAYS 7
#define PLEIN_REFERRAL_STALE_DAYS_MAX 3650

/* Why a referral is due; PLEIN_DUE_NOT when it is not. */
enum plein_due { PLEIN_DUE_NOT = 0, PLEIN_DUE_FOLLOW_UP = 1, PLEIN_DUE_STALE = 2 };

/* done, declined, unreachable (NULL is 'new': open). */
int plein_referral_closed(const char *status);

/* Pure. An open referral is due when its follow-up date (YYYY-MM-DD or
 * NULL) is today or earlier, else when its last movement (local date,
 * YYYY-MM-DD, or NULL: unknown) is stale_days or more before today
 * (stale_days 0: only follow-up dates count). A date that does not parse
 * counts as absent. */
enum plein_due plein_referral_due(const char *today, const char *status, const char *follow_up_on,
				  const char *moved_on, int stale_days);
/* Its name in listings: "follow_up", "stale", or NULL. */
const char *plein_referral_due_name(enum plein_due due);

/* Pure: an open referral that has had the partner's agreed maximum of
 * contact attempts (max_attempts > 0) should perhaps become unreachable. */
int plein_referral_suggest_unreachable(const char *status, int64_t attempts, int64_t max_attempts);

/* The local date (Europe/Amsterdam) of an ISO 8601 UTC timestamp
 * ("2026-11-24T13:05:00Z", fractions allowed): 0, or PLEIN_EINVAL. */
int plein_referral_local_day(char out[11], const char *utc);

/* plein.conf referral.stale_days (0..PLEIN_REFERRAL_STALE_DAYS_MAX),
 * default PLEIN_REFERRAL_STALE_DAYS; a bad value is refused. */
int plein_referral_stale_days(plein_site *s, int *out);

/* Register plein_referral_due(today, status, follow_up_on, moved_at_utc,
 * stale_days) -> 'follow_up' | 'stale' | NULL and
 * plein_local_day(utc) -> 'YYYY-MM-DD' on the site's connection. */
int plein_referral_sql_register(plein_site *s);

/* The staff member a change is made by, recorded in the history by the
 * triggers (plein_local 'staff'); NULL clears it. Set and clear inside the
 * transaction that changes the referral. */
int plein_referral_staff(plein_site *s, const char *name);

/* The history of a referral, oldest first, for cli_print_rows and the
 * like (lent, bound): at, site (roster name, else id), site_id, staff,
 * from_status, to_status. */
sqlite3_stmt *plein_referral_history(plein_site *s, const char *id);

#endif
