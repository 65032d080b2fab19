/* Retention of personal data (domain.md "Personal data", docs/erasure.md):
 * a referral's contact details go when the referral closes (done,
 * declined, unreachable) or after [retention] referral_days (90) from its
 * creation; a sign-up's name [retention] signup_days (30) after the
 * occurrence. Each due row is erased like 'plein forget' does, with the
 * reason 'closed' or 'expired'; every site applies the same rule, and the
 * erasure row's id is the same everywhere, so two sites that both find a
 * row due make one erasure. Aggregates (reports) never read these
 * columns, so they are untouched. */
#include "plein/now.h"
#include "plein/retention.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plein/erase.h"
#include "plein/buf.h"
#include "plein/error.h"

#define MAX_DAYS 36500

static int days(plein_site *s, const char *key, int dflt)
{
	int d = plein_conf_get_int(s->conf, key, dflt);
	return d < 0 ? 0 : d > MAX_DAYS ? MAX_DAYS : d;
}

/* now - d days, as "%Y-%m-%dT%H:%M:%SZ" and as "%Y-%m-%d" (UTC). */
static void cutoff(char ts[21], char day[11], int64_t now_ms, int d)
{
	time_t t = (time_t)(now_ms / 1000) - (time_t)d * 86400;
	struct tm u;
	gmtime_r(&t, &u);
	strftime(ts, 21, "%Y-%m-%dT%H:%M:%SZ", &u);
	strftime(day, 11, "%Y-%m-%d", &u);
}

struct due {
	char *tbl, *id, *reason;
};

static int collect(struct due **v, size_t *n, plein_site *s, const char *sql, const char *tbl,
		   const char *arg)
{
	sqlite3_stmt *st = plein_db_stmt(s->db, sql);
	if (!st)
		return PLEIN_ERR;
	sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT);
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		*v = plein_xrealloc(*v, (*n + 1) * sizeof **v);
		(*v)[*n].tbl = plein_xstrdup(tbl);
		(*v)[*n].id = plein_xstrdup((const char *)sqlite3_column_text(st, 0));
		(*v)[*n].reason = plein_xstrdup((const char *)sqlite3_column_text(st, 1));
		(*n)++;
	}
	sqlite3_reset(st);
	return step == SQLITE_DONE ? 0 : plein_db_fail(s->db, "finding personal data past its retention");
}

int plein_retention_run(plein_site *s, size_t *out_n)
{
	char ts[21], day[11], sts[21], sday[11];
	struct due *v = NULL;
	size_t n = 0;
	int64_t now = plein_now() * 1000;
	if (out_n)
		*out_n = 0;
	cutoff(ts, day, now, days(s, "retention.referral_days", PLEIN_RETENTION_REFERRAL_DAYS));
	cutoff(sts, sday, now, days(s, "retention.signup_days", PLEIN_RETENTION_SIGNUP_DAYS));
	int rc = collect(&v, &n, s,
		"SELECT id, CASE WHEN status IN ('done','declined','unreachable') THEN 'closed' ELSE 'expired' END"
		" FROM referral WHERE contact IS NOT NULL"
		" AND (status IN ('done','declined','unreachable') OR created_at <= ?1) ORDER BY id",
		"referral", ts);
	if (rc == 0)
		rc = collect(&v, &n, s,
			"SELECT id, 'expired' FROM signup WHERE who IS NOT NULL AND occurrence_date <= ?1 ORDER BY id",
			"signup", sday);
	for (size_t i = 0; i < n; i++) {
		if (rc == 0 && (rc = plein_erase_row(s, v[i].tbl, v[i].id, v[i].reason)) == 0 && out_n)
			(*out_n)++;
		free(v[i].tbl);
		free(v[i].id);
		free(v[i].reason);
	}
	free(v);
	return rc;
}
