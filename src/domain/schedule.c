/* The schedule: rules + exceptions -> occurrences in local and UTC time.
 * Every site computes the same occurrences from the same rows, so nothing
 * here is stored but the rules and exceptions themselves. */
#include "plein/now.h"
#include "plein/schedule.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plein/buf.h"
#include "plein/error.h"
#include "plein/tz.h"
#include "plein/validate.h"

/* A schedule_rule row with what the listing shows of its offering. */
typedef struct {
	char *id, *offering_id, *location_id, *room, *rrule, *starts_at, *ends_at, *valid_from, *valid_to;
	char *title, *kind, *theme, *partner_id, *partner, *location, *tz;
	int64_t capacity;
} rule_row;

enum { EXC_IGNORED, EXC_CANCEL, EXC_MOVE };

/* A schedule_exception row, read and checked. */
typedef struct {
	char *id, *original_date, *action, *new_start, *new_end, *new_location_id, *reason;
	int kind;                 /* EXC_* */
	plein_date orig;
	plein_date day, end_day;  /* move: new local start and end */
	int start_min, end_min;
	const char *why;          /* EXC_IGNORED: what is wrong with it */
} exc_row;

typedef struct {
	rule_row row;
	plein_rrule rrule;
	plein_rrule_anchor anchor;
	int start_min, end_min;
	const char *tz;
	exc_row *exc;  /* one per original date: the winner */
	size_t nexc;
} rule;

static char *col(sqlite3_stmt *st, int c)
{
	const unsigned char *t = sqlite3_column_text(st, c);
	return sqlite3_column_type(st, c) == SQLITE_NULL || !t ? NULL : plein_xstrdup((const char *)t);
}

static char *dup(const char *s)
{
	return s ? plein_xstrdup(s) : NULL;
}

static int str_eq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static void exc_free(exc_row *e)
{
	free(e->id);
	free(e->original_date);
	free(e->action);
	free(e->new_start);
	free(e->new_end);
	free(e->new_location_id);
	free(e->reason);
}

static void rule_free(rule *r)
{
	char **f[] = { &r->row.id, &r->row.offering_id, &r->row.location_id, &r->row.room, &r->row.rrule,
		       &r->row.starts_at, &r->row.ends_at, &r->row.valid_from, &r->row.valid_to, &r->row.title,
		       &r->row.kind, &r->row.theme, &r->row.partner_id, &r->row.partner, &r->row.location, &r->row.tz };
	for (size_t i = 0; i < sizeof f / sizeof *f; i++)
		free(*f[i]);
	for (size_t i = 0; i < r->nexc; i++)
		exc_free(&r->exc[i]);
	free(r->exc);
}

static void rules_free(rule *rules, size_t n)
{
	for (size_t i = 0; i < n; i++)
		rule_free(&rules[i]);
	free(rules);
}

/* Rules (all, or the one with id only) joined with offering, partner and
 * location. */
static int load_rules(plein_site *site, const char *only, rule **out, size_t *out_n)
{
	sqlite3_stmt *st = plein_db_stmt(site->db,
		"SELECT r.id, r.offering_id, r.location_id, r.room, r.rrule, r.starts_at, r.ends_at,"
		" r.valid_from, r.valid_to, o.title, o.kind, o.theme, o.partner_id, p.name, l.name, l.tz, o.capacity"
		" FROM schedule_rule r LEFT JOIN offering o ON o.id = r.offering_id"
		" LEFT JOIN partner p ON p.id = o.partner_id LEFT JOIN location l ON l.id = r.location_id"
		" WHERE ?1 IS NULL OR r.id = ?1 ORDER BY r.id");
	*out = NULL;
	*out_n = 0;
	if (!st)
		return PLEIN_ERR;
	if (only)
		sqlite3_bind_text(st, 1, only, -1, SQLITE_TRANSIENT);
	size_t cap = 0;
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (*out_n == cap) {
			cap = cap ? cap * 2 : 16;
			*out = plein_xrealloc(*out, cap * sizeof **out);
		}
		rule *r = &(*out)[(*out_n)++];
		memset(r, 0, sizeof *r);
		char **f[] = { &r->row.id, &r->row.offering_id, &r->row.location_id, &r->row.room, &r->row.rrule,
			       &r->row.starts_at, &r->row.ends_at, &r->row.valid_from, &r->row.valid_to, &r->row.title,
			       &r->row.kind, &r->row.theme, &r->row.partner_id, &r->row.partner, &r->row.location,
			       &r->row.tz };
		for (int c = 0; c < (int)(sizeof f / sizeof *f); c++)
			*f[c] = col(st, c);
		r->row.capacity = sqlite3_column_type(st, 16) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 16);
	}
	int rc = step == SQLITE_DONE ? 0 : plein_db_fail(site->db, "reading the schedule");
	sqlite3_reset(st);
	if (rc < 0) {
		rules_free(*out, *out_n);
		*out = NULL;
		*out_n = 0;
	}
	return rc;
}

static int minutes(const char *hhmm)
{
	return atoi(hhmm) * 60 + atoi(hhmm + 3);
}

/* "YYYY-MM-DD HH:MM" (or with a T), as new_start and new_end are kept. */
static int parse_local(const char *s, plein_date *day, int *min)
{
	char date[11], time[6];
	if (!s || strlen(s) != 16 || (s[10] != ' ' && s[10] != 'T'))
		return PLEIN_EINVAL;
	memcpy(date, s, 10);
	date[10] = 0;
	memcpy(time, s + 11, 5);
	time[5] = 0;
	if (plein_date_parse(day, date) < 0 || !plein_valid_time(time))
		return PLEIN_EINVAL;
	*min = minutes(time);
	return 0;
}

static int local_to_utc(const char *tz, plein_date d, int min, int64_t *out)
{
	struct tm tm = {0};
	tm.tm_year = d.year - 1900;
	tm.tm_mon = d.month - 1;
	tm.tm_mday = d.day;
	tm.tm_hour = min / 60;
	tm.tm_min = min % 60;
	return plein_tz_local_to_utc(tz, &tm, out);
}

static const char *zone(const char *tz)
{
	return tz && plein_tz_valid(tz) ? tz : PLEIN_DEFAULT_TZ;
}

/* Check a rule's stored columns and anchor its RRULE. On failure *why says
 * what is wrong (malloc'd). */
static int prepare(rule *r, char **why)
{
	plein_buf b = PLEIN_BUF_INIT;
	int rc = PLEIN_EINVAL;
	*why = NULL;
	memset(&r->anchor, 0, sizeof r->anchor);
	if (plein_rrule_parse(&r->rrule, r->row.rrule) < 0)
		plein_buf_printf(&b, "its rrule '%s': %s", r->row.rrule ? r->row.rrule : "", plein_error());
	else if (!plein_valid_time(r->row.starts_at) || !plein_valid_time(r->row.ends_at) ||
		 strcmp(r->row.starts_at, r->row.ends_at) >= 0)
		plein_buf_printf(&b, "its times '%s'-'%s' are not HH:MM with the end after the start",
				 r->row.starts_at ? r->row.starts_at : "", r->row.ends_at ? r->row.ends_at : "");
	else if (plein_date_parse(&r->anchor.dtstart, r->row.valid_from) < 0)
		plein_buf_printf(&b, "its valid_from '%s' is not a date", r->row.valid_from ? r->row.valid_from : "");
	else if (r->row.valid_to && plein_date_parse(&r->anchor.valid_to, r->row.valid_to) < 0)
		plein_buf_printf(&b, "its valid_to '%s' is not a date", r->row.valid_to);
	else
		rc = 0;
	if (rc < 0) {
		*why = plein_xstrdup(plein_buf_cstr(&b));
		plein_buf_free(&b);
		return rc;
	}
	plein_buf_free(&b);
	r->anchor.has_valid_to = r->row.valid_to != NULL;
	r->start_min = minutes(r->row.starts_at);
	r->end_min = minutes(r->row.ends_at);
	r->anchor.start_sec = r->start_min * 60;
	r->tz = zone(r->row.tz);
	if (r->rrule.has_until && r->rrule.until_utc) {
		/* UNTIL in UTC: compare occurrences with it in local time. */
		struct tm u = {0}, l;
		u.tm_year = r->rrule.until.year - 1900;
		u.tm_mon = r->rrule.until.month - 1;
		u.tm_mday = r->rrule.until.day;
		u.tm_sec = r->rrule.until_sec;
		if ((rc = plein_tz_utc_to_local(r->tz, (int64_t)timegm(&u), &l)) < 0) {
			*why = plein_xstrdup(plein_error());
			return rc;
		}
		r->rrule.until = (plein_date){ l.tm_year + 1900, l.tm_mon + 1, l.tm_mday };
		r->rrule.until_sec = l.tm_hour * 3600 + l.tm_min * 60 + l.tm_sec;
		r->rrule.until_utc = 0;
	}
	return 0;
}

/* One schedule_exception row (rule_id, id, original_date, action,
 * new_start, new_end, new_location_id, reason) into r, keeping one per
 * original date: the first read, the one with the highest id (plein's ids
 * are time-ordered, so the latest written). */
static void add_exception(rule *r, sqlite3_stmt *st, size_t *cap)
{
	const char *orig = (const char *)sqlite3_column_text(st, 2);
	plein_date od;
	if (!orig || plein_date_parse(&od, orig) < 0)
		return; /* names no date: cannot name an occurrence */
	if (r->nexc && strcmp(r->exc[r->nexc - 1].original_date, orig) == 0)
		return; /* a lower id for the same date: superseded */
	if (r->nexc == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		r->exc = plein_xrealloc(r->exc, *cap * sizeof *r->exc);
	}
	exc_row *e = &r->exc[r->nexc++];
	memset(e, 0, sizeof *e);
	char **f[] = { &e->id, &e->original_date, &e->action, &e->new_start, &e->new_end, &e->new_location_id, &e->reason };
	for (int c = 0; c < 7; c++)
		*f[c] = col(st, c + 1);
	e->orig = od;
	if (str_eq(e->action, "cancel")) {
		e->kind = EXC_CANCEL;
	} else if (!str_eq(e->action, "move")) {
		e->why = "its action is neither cancel nor move";
	} else if (parse_local(e->new_start, &e->day, &e->start_min) < 0 ||
		   parse_local(e->new_end, &e->end_day, &e->end_min) < 0) {
		e->why = "its new_start or new_end is not 'YYYY-MM-DD HH:MM'";
	} else if (plein_date_cmp(e->end_day, e->day) < 0 ||
		   (plein_date_cmp(e->end_day, e->day) == 0 && e->end_min <= e->start_min)) {
		e->why = "its new_end is not after its new_start";
	} else {
		e->kind = EXC_MOVE;
	}
}

/* The exceptions of the rules (sorted by id, as load_rules reads them;
 * only: of that one rule alone) in one query for all of them: a query per
 * rule was most of the cost of a schedule. Rows come in the rules'
 * order, so each goes to its rule by walking both lists once. */
static int load_exceptions(plein_site *site, rule *rules, size_t n, const char *only)
{
	sqlite3_stmt *st = plein_db_stmt(site->db,
		"SELECT rule_id, id, original_date, action, new_start, new_end, new_location_id, reason"
		" FROM schedule_exception WHERE ?1 IS NULL OR rule_id = ?1 ORDER BY rule_id, original_date, id DESC");
	size_t k = 0, cap = 0;
	int step;
	if (!st)
		return PLEIN_ERR;
	if (only)
		sqlite3_bind_text(st, 1, only, -1, SQLITE_TRANSIENT);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *rule_id = (const char *)sqlite3_column_text(st, 0);
		if (!rule_id)
			continue;
		while (k < n && strcmp(rules[k].row.id, rule_id) < 0) {
			k++;
			cap = 0;
		}
		if (k < n && strcmp(rules[k].row.id, rule_id) == 0)
			add_exception(&rules[k], st, &cap);
	}
	int rc = step == SQLITE_DONE ? 0 : plein_db_fail(site->db, "reading the schedule exceptions");
	sqlite3_reset(st);
	return rc;
}

static exc_row *exception_on(rule *r, const char *date)
{
	for (size_t i = 0; i < r->nexc; i++)
		if (strcmp(r->exc[i].original_date, date) == 0)
			return &r->exc[i];
	return NULL;
}

/* Name and time zone of a location (either may come back NULL). */
static int location_info(plein_site *site, const char *id, char **name, char **tz)
{
	sqlite3_stmt *st = plein_db_stmt(site->db, "SELECT name, tz FROM location WHERE id = ?1");
	*name = *tz = NULL;
	if (!st)
		return PLEIN_ERR;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	int step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		*name = col(st, 0);
		*tz = col(st, 1);
	}
	int rc = step == SQLITE_ROW || step == SQLITE_DONE ? 0 : plein_db_fail(site->db, "reading a location");
	sqlite3_reset(st);
	return rc;
}

void plein_schedule_utc_format(char out[21], int64_t utc)
{
	time_t t = (time_t)utc;
	struct tm u;
	gmtime_r(&t, &u);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &u);
}

/* Start and end instants, and the local wall times they really fall on.
 * As in RFC 5545, a start in the skipped hour of March is read with the
 * offset before the change (02:30 becomes 03:30), and the occurrence lasts
 * as long as its wall times say, counted from its real start. */
static int set_times(plein_occurrence *o, const char *tz, plein_date day, int smin, int64_t duration_min)
{
	struct tm ls, le;
	int rc;
	if ((rc = local_to_utc(tz, day, smin, &o->start_utc)) < 0)
		return rc;
	o->end_utc = o->start_utc + duration_min * 60;
	if ((rc = plein_tz_utc_to_local(tz, o->start_utc, &ls)) < 0 || (rc = plein_tz_utc_to_local(tz, o->end_utc, &le)) < 0)
		return rc;
	plein_date_format(o->date, (plein_date){ ls.tm_year + 1900, ls.tm_mon + 1, ls.tm_mday });
	snprintf(o->start, sizeof o->start, "%02u:%02u", (unsigned)ls.tm_hour % 24u, (unsigned)ls.tm_min % 60u);
	snprintf(o->end, sizeof o->end, "%02u:%02u", (unsigned)le.tm_hour % 24u, (unsigned)le.tm_min % 60u);
	return 0;
}

void plein_occurrence_clear(plein_occurrence *o)
{
	char **f[] = { &o->rule_id, &o->location_id, &o->location, &o->room, &o->offering_id, &o->title,
		       &o->kind, &o->theme, &o->partner_id, &o->partner, &o->reason };
	for (size_t i = 0; i < sizeof f / sizeof *f; i++)
		free(*f[i]);
	memset(o, 0, sizeof *o);
}

/* The occurrence of r on orig, with its exception e (or NULL) applied. */
static int build(plein_occurrence *o, plein_site *site, const rule *r, plein_date orig, const exc_row *e)
{
	const rule_row *w = &r->row;
	memset(o, 0, sizeof *o);
	o->rule_id = dup(w->id);
	plein_date_format(o->original_date, orig);
	o->offering_id = dup(w->offering_id);
	o->title = dup(w->title);
	o->kind = dup(w->kind);
	o->theme = dup(w->theme);
	o->partner_id = dup(w->partner_id);
	o->partner = dup(w->partner);
	o->capacity = w->capacity;
	o->location_id = dup(w->location_id);
	o->location = dup(w->location);
	o->room = dup(w->room);
	const char *tz = r->tz;
	char *moved_tz = NULL;
	plein_date day = orig, end_day = orig;
	int smin = r->start_min, emin = r->end_min, rc = 0;
	if (e && e->kind == EXC_CANCEL) {
		o->status = PLEIN_OCC_CANCELLED;
		o->reason = dup(e->reason);
	} else if (e && e->kind == EXC_MOVE) {
		o->status = PLEIN_OCC_MOVED;
		o->reason = dup(e->reason);
		day = e->day;
		end_day = e->end_day;
		smin = e->start_min;
		emin = e->end_min;
		if (e->new_location_id && !str_eq(e->new_location_id, w->location_id)) {
			/* Elsewhere: the rule's room belongs to its own location. */
			free(o->location_id);
			free(o->location);
			free(o->room);
			o->room = NULL;
			o->location_id = dup(e->new_location_id);
			if ((rc = location_info(site, e->new_location_id, &o->location, &moved_tz)) < 0)
				goto done;
			tz = zone(moved_tz);
		}
	}
	rc = set_times(o, tz, day, smin,
		       (plein_date_to_days(end_day) - plein_date_to_days(day)) * 1440 + emin - smin);
done:
	free(moved_tz);
	if (rc < 0)
		plein_occurrence_clear(o);
	return rc;
}

static plein_occurrence *push(plein_schedule *s, size_t *cap)
{
	if (s->n == *cap) {
		*cap = *cap ? *cap * 2 : 32;
		s->items = plein_xrealloc(s->items, *cap * sizeof *s->items);
	}
	return &s->items[s->n++];
}

static void warn(plein_schedule *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(plein_schedule *s, const char *fmt, ...)
{
	va_list ap;
	char line[512];
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	s->skipped = plein_xrealloc(s->skipped, (s->nskipped + 1) * sizeof *s->skipped);
	s->skipped[s->nskipped++] = plein_xstrdup(line);
}

/* Add r's occurrences in [from, to] (at location_id, if given) to s. */
static int add_occurrences(plein_schedule *s, size_t *cap, plein_site *site, rule *r, const char *location_id,
			   plein_date from, plein_date to)
{
	plein_date *dates;
	size_t n;
	int rc = 0;
	plein_rrule_expand(&dates, &n, &r->rrule, &r->anchor, from, to, 0);
	for (size_t i = 0; i < n; i++) {
		char d[11];
		plein_date_format(d, dates[i]);
		exc_row *e = exception_on(r, d);
		if (e && e->kind == EXC_MOVE)
			continue; /* listed on its new date, below */
		if (e && e->kind == EXC_IGNORED)
			warn(s, "exception %s of rule %s on %s ignored: %s", e->id, r->row.id, d, e->why);
		if (location_id && !str_eq(location_id, r->row.location_id))
			continue;
		if ((rc = build(push(s, cap), site, r, dates[i], e)) < 0) {
			s->n--;
			goto done;
		}
	}
	for (size_t i = 0; i < r->nexc; i++) {
		exc_row *e = &r->exc[i];
		if (e->kind != EXC_MOVE || plein_date_cmp(e->day, from) < 0 || plein_date_cmp(e->day, to) > 0)
			continue;
		/* An exception names an occurrence; one for a date the rule does
		 * not give (any more) has nothing to move. */
		if (!plein_rrule_occurs(&r->rrule, &r->anchor, e->orig))
			continue;
		const char *where = e->new_location_id ? e->new_location_id : r->row.location_id;
		if (location_id && !str_eq(location_id, where))
			continue;
		if ((rc = build(push(s, cap), site, r, e->orig, e)) < 0) {
			s->n--;
			goto done;
		}
		/* A move across a DST change or zone may land just outside. */
		plein_occurrence *o = &s->items[s->n - 1];
		plein_date real;
		if (plein_date_parse(&real, o->date) == 0 &&
		    (plein_date_cmp(real, from) < 0 || plein_date_cmp(real, to) > 0)) {
			plein_occurrence_clear(o);
			s->n--;
		}
	}
done:
	free(dates);
	return rc;
}

static int cmp_str(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

static int by_start(const void *pa, const void *pb)
{
	const plein_occurrence *a = pa, *b = pb;
	int c;
	if (a->start_utc != b->start_utc)
		return a->start_utc < b->start_utc ? -1 : 1;
	if ((c = cmp_str(a->title, b->title)) || (c = cmp_str(a->rule_id, b->rule_id)))
		return c;
	return strcmp(a->original_date, b->original_date);
}

int plein_schedule_list(plein_schedule *out, plein_site *site, const char *location_id, plein_date from, plein_date to)
{
	rule *rules = NULL;
	size_t nrules = 0, cap = 0;
	memset(out, 0, sizeof *out);
	int rc = load_rules(site, NULL, &rules, &nrules);
	if (rc == 0)
		rc = load_exceptions(site, rules, nrules, NULL);
	for (size_t i = 0; rc == 0 && i < nrules; i++) {
		char *why;
		if (prepare(&rules[i], &why) < 0) {
			warn(out, "rule %s left out: %s", rules[i].row.id, why);
			free(why);
			continue;
		}
		rc = add_occurrences(out, &cap, site, &rules[i], location_id, from, to);
	}
	rules_free(rules, nrules);
	if (rc < 0) {
		plein_schedule_free(out);
		return rc;
	}
	if (out->n)
		qsort(out->items, out->n, sizeof *out->items, by_start);
	return 0;
}

void plein_schedule_free(plein_schedule *s)
{
	for (size_t i = 0; i < s->n; i++)
		plein_occurrence_clear(&s->items[i]);
	free(s->items);
	for (size_t i = 0; i < s->nskipped; i++)
		free(s->skipped[i]);
	free(s->skipped);
	memset(s, 0, sizeof *s);
}

/* Load and prepare one rule; PLEIN_ENOTFOUND if there is none. */
static int load_rule(rule **out, plein_site *site, const char *rule_id)
{
	size_t n;
	char *why;
	int rc = load_rules(site, rule_id ? rule_id : "", out, &n);
	if (rc < 0)
		return rc;
	if (n == 0) {
		rc = plein_fail(PLEIN_ENOTFOUND, "no rule with id '%s' (rule ids are in 'plein schedule --json')",
				rule_id ? rule_id : "");
	} else if (prepare(*out, &why) < 0) {
		rc = plein_fail(PLEIN_EINVAL, "rule %s cannot be expanded: %s", rule_id, why);
		free(why);
	} else {
		rc = load_exceptions(site, *out, 1, (*out)->row.id);
	}
	if (rc < 0) {
		rules_free(*out, n);
		*out = NULL;
	}
	return rc;
}

/* "2026-11-25 is not a date of rule R; the nearest are ...". */
static int not_an_occurrence(const rule *r, plein_date d)
{
	plein_date *before, *after;
	size_t nb, na;
	char date[11], prev[11] = "", next[11] = "";
	plein_rrule_expand(&before, &nb, &r->rrule, &r->anchor, plein_date_add(d, -800), plein_date_add(d, -1), 0);
	plein_rrule_expand(&after, &na, &r->rrule, &r->anchor, plein_date_add(d, 1), plein_date_add(d, 800), 1);
	plein_date_format(date, d);
	if (nb)
		plein_date_format(prev, before[nb - 1]);
	if (na)
		plein_date_format(next, after[0]);
	free(before);
	free(after);
	if (nb && na)
		return plein_fail(PLEIN_EINVAL, "%s is not a date of rule %s; the nearest are %s and %s",
				  date, r->row.id, prev, next);
	if (nb || na)
		return plein_fail(PLEIN_EINVAL, "%s is not a date of rule %s; the nearest is %s", date, r->row.id,
				  nb ? prev : next);
	return plein_fail(PLEIN_EINVAL, "%s is not a date of rule %s (it has no dates near it)", date, r->row.id);
}

int plein_schedule_occurrence(plein_occurrence *out, plein_site *site, const char *rule_id, const char *original_date)
{
	rule *r = NULL;
	plein_date d;
	memset(out, 0, sizeof *out);
	int rc = plein_check_date("--date", original_date);
	if (rc < 0 || (rc = load_rule(&r, site, rule_id)) < 0)
		return rc;
	plein_date_parse(&d, original_date);
	if (!plein_rrule_occurs(&r->rrule, &r->anchor, d))
		rc = not_an_occurrence(r, d);
	else
		rc = build(out, site, r, d, exception_on(r, original_date));
	rules_free(r, 1);
	return rc;
}

const char *plein_occurrence_status(const plein_occurrence *o)
{
	return o->status == PLEIN_OCC_CANCELLED ? "vervalt" : o->status == PLEIN_OCC_MOVED ? "verplaatst" : "gepland";
}

void plein_occurrence_json(plein_json *j, const plein_occurrence *o)
{
	char su[21], eu[21];
	plein_schedule_utc_format(su, o->start_utc);
	plein_schedule_utc_format(eu, o->end_utc);
	plein_json_obj_begin(j);
	const char *kv[][2] = {
		{ "date", o->date }, { "start", o->start }, { "end", o->end }, { "start_utc", su }, { "end_utc", eu },
		{ "rule_id", o->rule_id }, { "original_date", o->original_date }, { "title", o->title },
		{ "kind", o->kind }, { "theme", o->theme }, { "offering_id", o->offering_id },
		{ "partner", o->partner }, { "partner_id", o->partner_id }, { "location_id", o->location_id },
		{ "location", o->location }, { "room", o->room },
	};
	for (size_t i = 0; i < sizeof kv / sizeof *kv; i++) {
		plein_json_key(j, kv[i][0]);
		plein_json_str(j, kv[i][1]);
	}
	plein_json_key(j, "capacity");
	if (o->capacity < 0)
		plein_json_null(j);
	else
		plein_json_int(j, o->capacity);
	plein_json_key(j, "status");
	plein_json_str(j, plein_occurrence_status(o));
	plein_json_key(j, "reason");
	plein_json_str(j, o->reason);
	plein_json_obj_end(j);
}

/* --- writes ------------------------------------------------------------- */

static int check_times(const char *start, const char *end)
{
	int rc;
	if ((rc = plein_check_time("--start", start)) < 0 || (rc = plein_check_time("--end", end)) < 0)
		return rc;
	if (strcmp(end, start) <= 0)
		return plein_fail(PLEIN_EINVAL, "--end %s is not after --start %s; an hour ends later on the same day", end, start);
	return 0;
}

/* Today in the time zone tz. */
static void today_in(char out[11], const char *tz)
{
	struct tm l;
	if (plein_tz_utc_to_local(zone(tz), plein_now(), &l) < 0) {
		plein_today(out);
		return;
	}
	plein_date_format(out, (plein_date){ l.tm_year + 1900, l.tm_mon + 1, l.tm_mday });
}

static int write_one(plein_site *site, char *new_id, const char *table, const char *existing,
		     const char *const *cols, const char *const *vals, int n)
{
	int rc = plein_db_begin(site->db);
	if (rc < 0)
		return rc;
	if (existing)
		rc = plein_record_update(site, table, existing, cols, vals, n);
	else
		rc = plein_record_insert(site, new_id, table, cols, vals, n);
	if (rc < 0 || (rc = plein_db_commit(site->db)) < 0)
		plein_db_rollback(site->db);
	return rc;
}

int plein_schedule_add_rule(char out_id[27], plein_site *site, const plein_rule_spec *sp)
{
	plein_rrule rr;
	plein_buf canon = PLEIN_BUF_INIT;
	char today[11], *why;
	plein_date *first;
	size_t n;
	rule r;
	int rc;
	memset(&r, 0, sizeof r);
	if (!sp->offering_id || !sp->location_id || !sp->rrule || !sp->start || !sp->end)
		return plein_fail(PLEIN_EINVAL, "a rule needs --offering, --location, --rrule, --start and --end");
	if ((rc = plein_rrule_parse(&rr, sp->rrule)) < 0 || (rc = check_times(sp->start, sp->end)) < 0 ||
	    (sp->from && (rc = plein_check_date("--from", sp->from)) < 0) ||
	    (sp->until && (rc = plein_check_date("--until", sp->until)) < 0) ||
	    (sp->room && (rc = plein_check_text("--room", sp->room, 200)) < 0) ||
	    (rc = plein_check_exists(site, "offering", sp->offering_id)) < 0 ||
	    (rc = plein_check_exists(site, "location", sp->location_id)) < 0)
		return rc;
	plein_rrule_format(&canon, &rr);
	/* The row as it will be stored, checked by the same code that expands it. */
	if ((rc = location_info(site, sp->location_id, &r.row.location, &r.row.tz)) < 0)
		goto cleanup;
	if (!sp->from)
		today_in(today, r.row.tz);
	r.row.id = plein_xstrdup("(new)");
	r.row.rrule = plein_xstrdup(plein_buf_cstr(&canon));
	r.row.starts_at = plein_xstrdup(sp->start);
	r.row.ends_at = plein_xstrdup(sp->end);
	r.row.valid_from = plein_xstrdup(sp->from ? sp->from : today);
	r.row.valid_to = dup(sp->until);
	if (sp->until && strcmp(sp->until, r.row.valid_from) < 0) {
		rc = plein_fail(PLEIN_EINVAL, "--until %s is before --from %s", sp->until, r.row.valid_from);
		goto cleanup;
	}
	if ((rc = prepare(&r, &why)) < 0) {
		rc = plein_fail(PLEIN_EINVAL, "%s", why);
		free(why);
		goto cleanup;
	}
	plein_rrule_expand(&first, &n, &r.rrule, &r.anchor, r.anchor.dtstart, (plein_date){ 9999, 12, 31 }, 1);
	free(first);
	if (n == 0) {
		rc = plein_fail(PLEIN_EINVAL, "the rule has no dates from %s%s%s; check --from, --until and the RRULE's UNTIL or COUNT",
				r.row.valid_from, sp->until ? " to " : "", sp->until ? sp->until : "");
		goto cleanup;
	}
	static const char *const cols[] = { "offering_id", "location_id", "room", "rrule", "starts_at", "ends_at",
					    "valid_from", "valid_to" };
	rc = write_one(site, out_id, "schedule_rule", NULL, cols,
		       (const char *const[]){ sp->offering_id, sp->location_id, sp->room, r.row.rrule, sp->start,
					      sp->end, r.row.valid_from, sp->until }, 8);
cleanup:
	rule_free(&r);
	plein_buf_free(&canon);
	return rc;
}

/* The id of the exception that now decides (rule_id, date), or NULL. */
static int current_exception(char **out, plein_site *site, const char *rule_id, const char *date)
{
	sqlite3_stmt *st = plein_db_stmt(site->db,
		"SELECT id FROM schedule_exception WHERE rule_id = ?1 AND original_date = ?2 ORDER BY id DESC LIMIT 1");
	*out = NULL;
	if (!st)
		return PLEIN_ERR;
	sqlite3_bind_text(st, 1, rule_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, date, -1, SQLITE_TRANSIENT);
	int step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		*out = col(st, 0);
	int rc = step == SQLITE_ROW || step == SQLITE_DONE ? 0 : plein_db_fail(site->db, "reading the schedule exceptions");
	sqlite3_reset(st);
	return rc;
}

/* Write the exception of (rule_id, date): update the one that decides it
 * now, so an occurrence keeps one exception, or add one. */
static int set_exception(char **out, plein_site *site, const char *rule_id, const char *date,
			 const char *const *cols, const char *const *vals, int n)
{
	char *existing = NULL, new_id[27];
	int rc = current_exception(&existing, site, rule_id, date);
	if (rc == 0)
		rc = write_one(site, new_id, "schedule_exception", existing, cols, vals, n);
	if (rc == 0)
		*out = existing ? existing : plein_xstrdup(new_id);
	else
		free(existing);
	return rc;
}

int plein_schedule_cancel(char **out, plein_site *site, const char *rule_id, const char *date, const char *reason)
{
	plein_occurrence o;
	*out = NULL;
	int rc = plein_schedule_occurrence(&o, site, rule_id, date);
	plein_occurrence_clear(&o);
	if (rc < 0 || (reason && (rc = plein_check_text("--reason", reason, 500)) < 0))
		return rc;
	const char *cols[] = { "rule_id", "original_date", "action", "new_start", "new_end", "new_location_id", "reason" };
	const char *vals[] = { rule_id, date, "cancel", NULL, NULL, NULL, reason };
	return set_exception(out, site, rule_id, date, cols, vals, 7);
}

int plein_schedule_move(char **out, plein_site *site, const char *rule_id, const plein_move_spec *m)
{
	plein_occurrence o;
	*out = NULL;
	if (!m->date || !m->start || !m->end)
		return plein_fail(PLEIN_EINVAL, "a move needs --date, --start and --end");
	int rc = plein_schedule_occurrence(&o, site, rule_id, m->date);
	plein_occurrence_clear(&o);
	if (rc < 0 || (m->to && (rc = plein_check_date("--to", m->to)) < 0) || (rc = check_times(m->start, m->end)) < 0 ||
	    (m->location_id && (rc = plein_check_exists(site, "location", m->location_id)) < 0) ||
	    (m->reason && (rc = plein_check_text("--reason", m->reason, 500)) < 0))
		return rc;
	char ns[17], ne[17];
	const char *day = m->to ? m->to : m->date;
	snprintf(ns, sizeof ns, "%.10s %.5s", day, m->start);
	snprintf(ne, sizeof ne, "%.10s %.5s", day, m->end);
	const char *cols[] = { "rule_id", "original_date", "action", "new_start", "new_end", "new_location_id", "reason" };
	const char *vals[] = { rule_id, m->date, "move", ns, ne, m->location_id, m->reason };
	return set_exception(out, site, rule_id, m->date, cols, vals, 7);
}
