/* Anonymous registration: one visit, one question per theme. Categories
 * only, no free text and nothing about the person (domain.md, AVG). */
#include "plein/now.h"
#include "plein/records.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plein/buf.h"
#include "plein/error.h"
#include "plein/id.h"
#include "plein/tz.h"
#include "plein/validate.h"

#define DEFAULT_TZ "Europe/Amsterdam"

static const char *const channels[] = { "walk_in", "appointment", "phone", NULL };

static int64_t utc_seconds(const char utc[21])
{
	struct tm tm = {0};
	tm.tm_year = atoi(utc) - 1900;
	tm.tm_mon = atoi(utc + 5) - 1;
	tm.tm_mday = atoi(utc + 8);
	tm.tm_hour = atoi(utc + 11);
	tm.tm_min = atoi(utc + 14);
	tm.tm_sec = atoi(utc + 17);
	return (int64_t)timegm(&tm);
}

static void format_utc(char out[21], int64_t t)
{
	time_t tt = (time_t)t;
	struct tm u;
	gmtime_r(&tt, &u);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &u);
}

/* --at as UTC. A time without a zone is local time at the location, which
 * plein_check_timestamp takes in Europe/Amsterdam; redo it in tz. */
static int visit_time(char out[21], const char *at, const char *tz, plein_names names)
{
	int rc = plein_check_timestamp(PLEIN_FIELD(names, "at"), at, out);
	if (rc < 0)
		return rc;
	int zoned = strpbrk(at + 16, "Z+-") != NULL;
	if (!zoned && strcmp(tz, DEFAULT_TZ) != 0) {
		struct tm tm = {0};
		int64_t t;
		tm.tm_year = atoi(at) - 1900;
		tm.tm_mon = atoi(at + 5) - 1;
		tm.tm_mday = atoi(at + 8);
		tm.tm_hour = atoi(at + 11);
		tm.tm_min = atoi(at + 14);
		tm.tm_sec = at[16] == ':' ? atoi(at + 17) : 0;
		if ((rc = plein_tz_local_to_utc(tz, &tm, &t)) < 0)
			return rc;
		format_utc(out, t);
	}
	if (utc_seconds(out) > plein_now() + 86400)
		return plein_fail(PLEIN_EINVAL, "%s '%s' is more than a day in the future; register a visit when it happens",
				  PLEIN_FIELD(names, "at"), at);
	return 0;
}

/* ochtend before 12:00, middag before 17:00, avond after. */
static int daypart(const char **out, const char utc[21], const char *tz)
{
	struct tm tm;
	int rc = plein_tz_utc_to_local(tz, utc_seconds(utc), &tm);
	if (rc < 0)
		return rc;
	*out = tm.tm_hour < 12 ? "ochtend" : tm.tm_hour < 17 ? "middag" : "avond";
	return 0;
}

/* Minutes as the upper bound of their bucket; over an hour is 120. */
static const char *minutes_bucket(long m)
{
	return m <= 5 ? "5" : m <= 15 ? "15" : m <= 30 ? "30" : m <= 60 ? "60" : "120";
}

static char *location_tz(plein_site *s, const char *location_id)
{
	sqlite3_stmt *st = plein_db_stmt(s->db, "SELECT coalesce(tz, '" DEFAULT_TZ "') FROM location WHERE id = ?1");
	char *tz = NULL;
	if (!st)
		return NULL;
	sqlite3_bind_text(st, 1, location_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		tz = plein_xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_reset(st);
	return tz;
}

int plein_visit_add(char out_id[27], plein_site *s, const plein_visit_spec *sp, plein_names names)
{
	const char *channel = sp->channel ? sp->channel : "walk_in";
	char *tz = NULL, when[21], question_id[PLEIN_ID_LEN + 1];
	const char *part = NULL;
	int rc;

	if (sp->nthemes == 0)
		return plein_fail(PLEIN_EINVAL, "give the question's theme with %s, once per question (see 'plein term list --scheme theme')",
				  names == PLEIN_NAMES_CLI ? "--theme CODE" : "themes: [CODE, ...]");
	if ((rc = plein_check_enum(PLEIN_FIELD(names, "channel"), channel, channels)) < 0 ||
	    (sp->minutes != -1 && (rc = plein_check_range(names, "minutes", sp->minutes, 1, PLEIN_MINUTES_MAX)) < 0))
		return rc;
	if ((rc = plein_check_exists(s, "location", sp->location_id)) < 0)
		return rc;
	for (int i = 0; i < sp->nthemes; i++)
		if ((rc = plein_check_term(s, "theme", sp->themes[i])) < 0)
			return rc;
	if ((sp->kind && (rc = plein_check_term(s, "question", sp->kind)) < 0) ||
	    (sp->agency && (rc = plein_check_term(s, "agency", sp->agency)) < 0) ||
	    (sp->partner_id && (rc = plein_check_exists(s, "partner", sp->partner_id)) < 0))
		return rc;
	if (!(tz = location_tz(s, sp->location_id)))
		return plein_error_code() ? plein_error_code() : PLEIN_ERR;
	if (sp->at)
		rc = visit_time(when, sp->at, tz, names);
	else
		format_utc(when, plein_now());
	if (rc < 0 || (rc = daypart(&part, when, tz)) < 0)
		goto done;

	if ((rc = plein_db_begin(s->db)) < 0)
		goto done;
	const char *vcols[] = { "location_id", "at", "daypart", "channel" };
	const char *vvals[] = { sp->location_id, when, part, channel };
	rc = plein_record_insert(s, out_id, "visit", vcols, vvals, 4);
	for (int i = 0; rc == 0 && i < sp->nthemes; i++) {
		const char *qcols[] = { "visit_id", "theme", "kind", "agency", "partner_id", "solved", "minutes" };
		const char *qvals[] = { out_id, sp->themes[i], sp->kind, sp->agency, sp->partner_id, sp->solved ? "1" : "0",
					sp->minutes > 0 ? minutes_bucket(sp->minutes) : NULL };
		rc = plein_record_insert(s, question_id, "question", qcols, qvals, 7);
	}
	if (rc < 0 || (rc = plein_db_commit(s->db)) < 0)
		plein_db_rollback(s->db);
done:
	free(tz);
	return rc;
}

/* plein_local_time(utc, tz): "YYYY-MM-DD HH:MM" at tz, NULL if unreadable. */
static void sql_local_time(sqlite3_context *c, int argc, sqlite3_value **argv)
{
	const char *utc = (const char *)sqlite3_value_text(argv[0]);
	const char *tz = (const char *)sqlite3_value_text(argv[1]);
	char norm[21], out[17];
	struct tm tm;
	(void)argc;
	if (!utc || !tz || plein_check_timestamp("at", utc, norm) < 0 ||
	    plein_tz_utc_to_local(tz, utc_seconds(norm), &tm) < 0) {
		plein_error_clear();
		return;
	}
	strftime(out, sizeof out, "%Y-%m-%d %H:%M", &tm);
	sqlite3_result_text(c, out, -1, SQLITE_TRANSIENT);
}

int plein_visit_list(sqlite3_stmt **out, plein_site *s, const char *location, const char *from, const char *to,
		     plein_names names)
{
	const char *fname = PLEIN_FIELD(names, "from"), *tname = PLEIN_FIELD(names, "to");
	int rc;
	*out = NULL;
	if ((from && (rc = plein_check_date(fname, from)) < 0) || (to && (rc = plein_check_date(tname, to)) < 0))
		return rc;
	if (from && to && strcmp(from, to) > 0)
		return plein_fail(PLEIN_EINVAL, "%s %s is after %s %s", fname, from, tname, to);
	if (location && (rc = plein_check_exists(s, "location", location)) < 0)
		return rc;
	if (sqlite3_create_function_v2(plein_db_handle(s->db), "plein_local_time", 2, SQLITE_UTF8 | SQLITE_DIRECTONLY,
				       NULL, sql_local_time, NULL, NULL, NULL) != SQLITE_OK)
		return plein_db_fail(s->db, "registering plein_local_time");
	/* Dates are local at the visit's location (cli.md). */
	sqlite3_stmt *st = plein_db_stmt(s->db,
		"SELECT id, location, substr(lt, 1, 10) AS day, substr(lt, 12, 5) AS time, daypart, channel, themes, at FROM ("
		" SELECT v.id, l.name AS location, v.at, v.daypart, v.channel,"
		"  plein_local_time(v.at, coalesce(l.tz, '" DEFAULT_TZ "')) AS lt,"
		"  (SELECT group_concat(theme, ',') FROM"
		"    (SELECT q.theme FROM question q WHERE q.visit_id = v.id ORDER BY q.theme, q.id)) AS themes"
		" FROM visit v LEFT JOIN location l ON l.id = v.location_id"
		" WHERE ?1 IS NULL OR v.location_id = ?1)"
		" WHERE (?2 IS NULL OR substr(lt, 1, 10) >= ?2) AND (?3 IS NULL OR substr(lt, 1, 10) <= ?3)"
		" ORDER BY at, id");
	if (!st)
		return PLEIN_ERR;
	if (location)
		sqlite3_bind_text(st, 1, location, -1, SQLITE_TRANSIENT);
	if (from)
		sqlite3_bind_text(st, 2, from, -1, SQLITE_TRANSIENT);
	if (to)
		sqlite3_bind_text(st, 3, to, -1, SQLITE_TRANSIENT);
	*out = st;
	return 0;
}
