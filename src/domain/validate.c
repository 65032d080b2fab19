#include "plein/validate.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plein/buf.h"
#include "plein/error.h"
#include "plein/id.h"
#include "plein/now.h"
#include "plein/tz.h"

static int digits(const char *s, int n)
{
	for (int i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

static int days_in_month(int y, int m)
{
	static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return d[m - 1];
}

int plein_valid_date(const char *s)
{
	if (!s || strlen(s) != 10 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' || !digits(s + 8, 2))
		return 0;
	int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
	return y >= 1970 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, m);
}

int plein_valid_time(const char *s)
{
	if (!s || strlen(s) != 5 || !digits(s, 2) || s[2] != ':' || !digits(s + 3, 2))
		return 0;
	return atoi(s) <= 23 && atoi(s + 3) <= 59;
}

int plein_check_date(const char *what, const char *s)
{
	if (plein_valid_date(s))
		return 0;
	return plein_fail(PLEIN_EINVAL, "%s '%s' is not a date; write YYYY-MM-DD, e.g. 2026-11-24", what, s ? s : "");
}

int plein_check_time(const char *what, const char *s)
{
	if (plein_valid_time(s))
		return 0;
	return plein_fail(PLEIN_EINVAL, "%s '%s' is not a time; write HH:MM from 00:00 to 23:59, e.g. 13:30", what, s ? s : "");
}

int plein_check_timestamp(const char *what, const char *s, char out_utc[21])
{
	const char *hint = "write YYYY-MM-DDTHH:MM:SSZ, or local time as 'YYYY-MM-DD HH:MM'";
	if (!s || strlen(s) < 16 || !plein_valid_date((char[11]){ s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8], s[9], 0 }) ||
	    (s[10] != 'T' && s[10] != ' ') || !plein_valid_time((char[6]){ s[11], s[12], s[13], s[14], s[15], 0 }))
		return plein_fail(PLEIN_EINVAL, "%s '%s' is not a timestamp; %s", what, s ? s : "", hint);
	int sec = 0;
	const char *p = s + 16;
	if (*p == ':') {
		if (!digits(p + 1, 2) || atoi(p + 1) > 59)
			return plein_fail(PLEIN_EINVAL, "%s '%s' has bad seconds; %s", what, s, hint);
		sec = atoi(p + 1);
		p += 3;
		if (*p == '.') /* fractions are dropped */
			for (p++; isdigit((unsigned char)*p); p++)
				;
	}
	struct tm tm = {0};
	tm.tm_year = atoi(s) - 1900;
	tm.tm_mon = atoi(s + 5) - 1;
	tm.tm_mday = atoi(s + 8);
	tm.tm_hour = atoi(s + 11);
	tm.tm_min = atoi(s + 14);
	tm.tm_sec = sec;
	int64_t t;
	if (*p == 'Z' && !p[1]) {
		t = (int64_t)timegm(&tm);
	} else if ((*p == '+' || *p == '-') && strlen(p) == 6 && digits(p + 1, 2) && p[3] == ':' && digits(p + 4, 2)) {
		int off = (atoi(p + 1) * 60 + atoi(p + 4)) * 60;
		t = (int64_t)timegm(&tm) - (*p == '+' ? off : -off);
	} else if (!*p) {
		if (plein_tz_local_to_utc("Europe/Amsterdam", &tm, &t) < 0)
			return PLEIN_EINVAL;
	} else {
		return plein_fail(PLEIN_EINVAL, "%s '%s' has a bad time zone; %s", what, s, hint);
	}
	time_t tt = (time_t)t;
	struct tm u;
	gmtime_r(&tt, &u);
	strftime(out_utc, 21, "%Y-%m-%dT%H:%M:%SZ", &u);
	return 0;
}

int plein_check_enum(const char *what, const char *s, const char *const *allowed)
{
	for (int i = 0; s && allowed[i]; i++)
		if (strcmp(s, allowed[i]) == 0)
			return 0;
	plein_buf b = PLEIN_BUF_INIT;
	for (int i = 0; allowed[i]; i++)
		plein_buf_printf(&b, "%s%s", i ? ", " : "", allowed[i]);
	int rc = plein_fail(PLEIN_EINVAL, "%s '%s' is not one of: %s", what, s ? s : "", plein_buf_cstr(&b));
	plein_buf_free(&b);
	return rc;
}

int plein_check_exists(plein_site *site, const char *table, const char *id)
{
	plein_buf sql = PLEIN_BUF_INIT;
	plein_buf_printf(&sql, "SELECT 1 FROM \"%s\" WHERE id = ?1", table);
	int64_t one = 0;
	int rc = plein_db_int(site->db, &one, plein_buf_cstr(&sql), id ? id : "", NULL);
	plein_buf_free(&sql);
	if (rc == PLEIN_ENOTFOUND) {
		/* Name the listing a person would use to find the right id. */
		static const struct { const char *table, *what, *list; } names[] = {
			{ "schedule_rule", "rule", "plein schedule --json" },
			{ "schedule_exception", "exception", "plein schedule --json" },
			{ "question", "question", "plein visit list" },
			{ "signup", "sign-up", "plein signup list --rule ID --date DATE" },
		};
		const char *what = table, *list = NULL;
		for (size_t i = 0; i < sizeof names / sizeof *names; i++)
			if (strcmp(names[i].table, table) == 0) {
				what = names[i].what;
				list = names[i].list;
			}
		if (list)
			return plein_fail(PLEIN_ENOTFOUND, "no %s with id '%s' (see '%s')", what, id ? id : "", list);
		return plein_fail(PLEIN_ENOTFOUND, "no %s with id '%s' (see 'plein %s list')", what, id ? id : "", table);
	}
	return rc;
}

int plein_check_term(plein_site *site, const char *scheme, const char *code)
{
	int64_t one = 0;
	int rc = plein_db_int(site->db, &one, "SELECT 1 FROM term WHERE scheme = ?1 AND code = ?2",
			      scheme, code ? code : "", NULL);
	if (rc == PLEIN_ENOTFOUND)
		return plein_fail(PLEIN_EINVAL, "unknown %s '%s' (see 'plein term list --scheme %s')",
				  strcmp(scheme, "question") == 0 ? "kind of question" : scheme, code ? code : "", scheme);
	return rc;
}

int plein_check_text(const char *what, const char *s, size_t max)
{
	if (!s || !*s)
		return plein_fail(PLEIN_EINVAL, "%s is empty", what);
	if (strlen(s) > max)
		return plein_fail(PLEIN_EINVAL, "%s is longer than %zu bytes; shorten it", what, max);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 && *p != '\n' && *p != '\t')
			return plein_fail(PLEIN_EINVAL, "%s contains a control character", what);
	return 0;
}

static int run_write(plein_site *site, const char *sql, const char *const *vals, int n, const char *first)
{
	sqlite3_stmt *st = plein_db_stmt(site->db, sql);
	if (!st)
		return PLEIN_ERR;
	int k = 1;
	if (first)
		sqlite3_bind_text(st, k++, first, -1, SQLITE_TRANSIENT);
	for (int i = 0; i < n; i++, k++)
		if (vals[i])
			sqlite3_bind_text(st, k, vals[i], -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	int ret = rc == SQLITE_DONE ? 0 : plein_db_fail(site->db, "saving");
	sqlite3_reset(st);
	return ret;
}

int plein_record_insert(plein_site *site, char out_id[27], const char *table,
			const char *const *cols, const char *const *vals, int n)
{
	plein_id_new(out_id);
	plein_buf sql = PLEIN_BUF_INIT;
	plein_buf_printf(&sql, "INSERT INTO \"%s\"(id", table);
	for (int i = 0; i < n; i++)
		plein_buf_printf(&sql, ", \"%s\"", cols[i]);
	plein_buf_puts(&sql, ") VALUES (?");
	for (int i = 0; i < n; i++)
		plein_buf_puts(&sql, ", ?");
	plein_buf_puts(&sql, ")");
	int rc = run_write(site, plein_buf_cstr(&sql), vals, n, out_id);
	plein_buf_free(&sql);
	return rc;
}

int plein_record_update(plein_site *site, const char *table, const char *id,
			const char *const *cols, const char *const *vals, int n)
{
	int rc = plein_check_exists(site, table, id);
	if (rc < 0)
		return rc;
	plein_buf sql = PLEIN_BUF_INIT;
	plein_buf_printf(&sql, "UPDATE \"%s\" SET ", table);
	for (int i = 0; i < n; i++)
		plein_buf_printf(&sql, "%s\"%s\" = ?%d", i ? ", " : "", cols[i], i + 1);
	plein_buf_printf(&sql, " WHERE id = ?%d", n + 1);
	sqlite3_stmt *st = plein_db_stmt(site->db, plein_buf_cstr(&sql));
	plein_buf_free(&sql);
	if (!st)
		return PLEIN_ERR;
	for (int i = 0; i < n; i++)
		if (vals[i])
			sqlite3_bind_text(st, i + 1, vals[i], -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, n + 1, id, -1, SQLITE_TRANSIENT);
	int step = sqlite3_step(st);
	rc = step == SQLITE_DONE ? 0 : plein_db_fail(site->db, "saving");
	sqlite3_reset(st);
	return rc;
}

void plein_today(char out[11])
{
	time_t now = (time_t)plein_now();
	struct tm tm;
	if (plein_tz_utc_to_local("Europe/Amsterdam", (int64_t)now, &tm) < 0)
		gmtime_r(&now, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}
