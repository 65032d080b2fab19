#include "plein/referral.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plein/error.h"
#include "plein/rrule.h"
#include "plein/tz.h"
#include "plein/validate.h"

int plein_referral_closed(const char *status)
{
	return status && (strcmp(status, "done") == 0 || strcmp(status, "declined") == 0 ||
			  strcmp(status, "unreachable") == 0);
}

enum plein_due plein_referral_due(const char *today, const char *status, const char *follow_up_on,
				  const char *moved_on, int stale_days)
{
	plein_date t, f, m;
	if (plein_referral_closed(status) || plein_date_parse(&t, today) < 0)
		return PLEIN_DUE_NOT;
	if (follow_up_on && plein_date_parse(&f, follow_up_on) == 0 && plein_date_cmp(f, t) <= 0)
		return PLEIN_DUE_FOLLOW_UP;
	if (stale_days > 0 && moved_on && plein_date_parse(&m, moved_on) == 0 &&
	    plein_date_to_days(t) - plein_date_to_days(m) >= stale_days)
		return PLEIN_DUE_STALE;
	return PLEIN_DUE_NOT;
}

const char *plein_referral_due_name(enum plein_due due)
{
	return due == PLEIN_DUE_FOLLOW_UP ? "follow_up" : due == PLEIN_DUE_STALE ? "stale" : NULL;
}

int plein_referral_suggest_unreachable(const char *status, int64_t attempts, int64_t max_attempts)
{
	return !plein_referral_closed(status) && max_attempts > 0 && attempts >= max_attempts;
}

int plein_referral_local_day(char out[11], const char *utc)
{
	plein_date d;
	char day[11];
	struct tm tm;
	if (!utc || strlen(utc) < 20 || utc[10] != 'T' || utc[13] != ':' || utc[16] != ':')
		return PLEIN_EINVAL;
	for (int i = 11; i < 19; i++)
		if (i != 13 && i != 16 && (utc[i] < '0' || utc[i] > '9'))
			return PLEIN_EINVAL;
	int h = (utc[11] - '0') * 10 + utc[12] - '0', mi = (utc[14] - '0') * 10 + utc[15] - '0';
	int sec = (utc[17] - '0') * 10 + utc[18] - '0';
	memcpy(day, utc, 10);
	day[10] = 0;
	if (plein_date_parse(&d, day) < 0 || h > 23 || mi > 59 || sec > 60)
		return PLEIN_EINVAL;
	const char *rest = utc + 19;
	if (*rest == '.')
		for (rest++; *rest >= '0' && *rest <= '9'; rest++)
			;
	if (strcmp(rest, "Z") != 0)
		return PLEIN_EINVAL;
	int64_t t = plein_date_to_days(d) * 86400 + h * 3600 + mi * 60 + sec;
	if (plein_tz_utc_to_local("Europe/Amsterdam", t, &tm) < 0) {
		plein_error_clear(); /* no zoneinfo: the UTC date is close enough */
		snprintf(out, 11, "%s", day);
		return 0;
	}
	plein_date_format(out, (plein_date){ tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday });
	return 0;
}

int plein_referral_stale_days(plein_site *s, int *out)
{
	const char *v = plein_conf_get(s->conf, "referral.stale_days");
	char *end = NULL;
	*out = PLEIN_REFERRAL_STALE_DAYS;
	if (!v)
		return 0;
	long n = strtol(v, &end, 10);
	if (end == v || *end || n < 0 || n > PLEIN_REFERRAL_STALE_DAYS_MAX)
		return plein_fail(PLEIN_EINVAL, "plein.conf: referral.stale_days = '%s' is not a number of days from 0 to %d; "
				  "fix it in %s/plein.conf (0 turns the rule off)", v, PLEIN_REFERRAL_STALE_DAYS_MAX, s->dir);
	*out = (int)n;
	return 0;
}

static const char *arg_text(sqlite3_value *v)
{
	return sqlite3_value_type(v) == SQLITE_NULL ? NULL : (const char *)sqlite3_value_text(v);
}

static void sql_local_day(sqlite3_context *c, int argc, sqlite3_value **argv)
{
	char day[11];
	(void)argc;
	if (plein_referral_local_day(day, arg_text(argv[0])) == 0)
		sqlite3_result_text(c, day, -1, SQLITE_TRANSIENT);
}

static void sql_due(sqlite3_context *c, int argc, sqlite3_value **argv)
{
	char moved[11];
	const char *at = arg_text(argv[3]);
	(void)argc;
	int have_moved = at && plein_referral_local_day(moved, at) == 0;
	enum plein_due due = plein_referral_due(arg_text(argv[0]), arg_text(argv[1]), arg_text(argv[2]),
						have_moved ? moved : NULL, sqlite3_value_int(argv[4]));
	const char *name = plein_referral_due_name(due);
	if (name)
		sqlite3_result_text(c, name, -1, SQLITE_STATIC);
}

int plein_referral_sql_register(plein_site *s)
{
	sqlite3 *h = plein_db_handle(s->db);
	int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC;
	if (sqlite3_create_function_v2(h, "plein_referral_due", 5, flags, NULL, sql_due, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_create_function_v2(h, "plein_local_day", 1, flags, NULL, sql_local_day, NULL, NULL, NULL) != SQLITE_OK)
		return plein_db_fail(s->db, "registering the referral functions");
	return 0;
}

int plein_referral_staff(plein_site *s, const char *name)
{
	sqlite3_stmt *st = plein_db_stmt(s->db, name ? "INSERT OR REPLACE INTO plein_local(key, value) VALUES ('staff', ?1)"
						     : "DELETE FROM plein_local WHERE key = 'staff'");
	if (!st)
		return PLEIN_ERR;
	if (name)
		sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	return plein_db_step_done(s->db, st);
}

/* Oldest first by the clock the history row was sealed with (the same at
 * every site); a row not sealed yet has no clock and comes last. */
sqlite3_stmt *plein_referral_history(plein_site *s, const char *id)
{
	sqlite3_stmt *st = plein_db_stmt(s->db,
		"SELECT e.at, coalesce(ro.name, e.site_id) AS site, e.site_id, e.staff, e.from_status, e.to_status"
		" FROM referral_event e"
		" LEFT JOIN plein_clk_referral_event k ON k.id = e.id"
		" LEFT JOIN plein_site_ref r ON r.n = k.s0"
		" LEFT JOIN roster ro ON ro.id = e.site_id"
		" WHERE e.referral_id = ?1"
		" ORDER BY k.h0 IS NULL, k.h0, r.pk, e.at, e.id");
	if (st)
		sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	return st;
}
