/* The iCalendar feed (include/plein/ics.h, docs/ics.md): schedule rules
 * as recurring VEVENTs. A rule's exceptions are resolved by the schedule
 * module (plein_schedule_occurrence), so the feed and 'plein schedule'
 * can never disagree about which exception decides a date. */
#include "plein/ics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plein/error.h"
#include "plein/rrule.h"
#include "plein/schedule.h"
#include "plein/tz.h"
#include "plein/validate.h"

#define LINE_MAX_OCTETS 75 /* RFC 5545 §3.1, without the CRLF */
#define MAX_ZONES 16

/* --- content lines ------------------------------------------------------ */

static size_t utf8_len(unsigned char c)
{
	return c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 1;
}

/* Write one content line folded at 75 octets, never inside a UTF-8
 * character; a continuation line starts with a space, which counts. */
static void put_line(plein_buf *out, const char *line)
{
	size_t len = strlen(line), col = 0;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_len((unsigned char)line[i]);
		if (n > len - i)
			n = len - i;
		if (col + n > LINE_MAX_OCTETS) {
			plein_buf_puts(out, "\r\n ");
			col = 1;
		}
		plein_buf_put(out, line + i, n);
		col += n;
		i += n;
	}
	plein_buf_puts(out, "\r\n");
}

static void linef(plein_buf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void linef(plein_buf *out, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	put_line(out, line);
}

/* TEXT value escaping (§3.3.11); control characters, which TEXT may not
 * hold, are dropped. */
static void escape_text(plein_buf *b, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '\\' || c == ';' || c == ',') {
			plein_buf_putc(b, '\\');
			plein_buf_putc(b, c);
		} else if (c == '\n') {
			plein_buf_puts(b, "\\n");
		} else if (c >= 0x20 && c != 0x7f) {
			plein_buf_putc(b, c);
		}
	}
}

/* NAME:escaped text (nothing when text is NULL or empty). */
static void prop_text(plein_buf *out, const char *name, const char *text)
{
	if (!text || !*text)
		return;
	plein_buf b = PLEIN_BUF_INIT;
	plein_buf_printf(&b, "%s:", name);
	escape_text(&b, text);
	put_line(out, plein_buf_cstr(&b));
	plein_buf_free(&b);
}

/* --- time ----------------------------------------------------------------- */

static const char *zone(const char *tz)
{
	return tz && plein_tz_valid(tz) ? tz : PLEIN_DEFAULT_TZ;
}

static void fmt_local(char out[16], plein_date d, int min)
{
	snprintf(out, 16, "%04u%02u%02uT%02u%02u00", (unsigned)d.year % 10000u, (unsigned)d.month % 100u,
		 (unsigned)d.day % 100u, (unsigned)(min / 60) % 100u, (unsigned)min % 60u);
}

static void fmt_utc(char out[17], int64_t utc)
{
	time_t t = (time_t)utc;
	struct tm u;
	gmtime_r(&t, &u);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &u);
}

static int local_utc(const char *tz, plein_date d, int min, int64_t *out)
{
	struct tm tm = {0};
	tm.tm_year = d.year - 1900;
	tm.tm_mon = d.month - 1;
	tm.tm_mday = d.day;
	tm.tm_hour = min / 60;
	tm.tm_min = min % 60;
	return plein_tz_local_to_utc(tz, &tm, out);
}

static int minutes(const char *hhmm)
{
	return atoi(hhmm) * 60 + atoi(hhmm + 3);
}

/* "PT2H30M" (or "P1DT2H" ...) for a positive number of minutes. */
static void fmt_duration(char out[32], int64_t min)
{
	int64_t d = min / 1440, h = min % 1440 / 60, m = min % 60;
	int n = snprintf(out, 32, "P");
	if (d)
		n += snprintf(out + n, (size_t)(32 - n), "%lldD", (long long)d);
	if (h || m || !d)
		n += snprintf(out + n, (size_t)(32 - n), "T");
	if (h)
		n += snprintf(out + n, (size_t)(32 - n), "%lldH", (long long)h);
	if (m || (!h && !d))
		snprintf(out + n, (size_t)(32 - n), "%lldM", (long long)m);
}

/* The time a plein id (a ULID) was made, in seconds; -1 for other ids. */
static int64_t id_time(const char *id)
{
	static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
	uint64_t ms = 0;
	if (!id || strlen(id) != 26)
		return -1;
	for (int i = 0; i < 10; i++) {
		const char *p = id[i] ? strchr(alphabet, id[i]) : NULL;
		if (!p)
			return -1;
		ms = ms * 32 + (uint64_t)(p - alphabet);
	}
	/* Between 2000 and 2200: anything else is not a time. */
	if (ms < 946684800000ULL || ms > 7258118400000ULL)
		return -1;
	return (int64_t)(ms / 1000);
}

/* --- VTIMEZONE -------------------------------------------------------------- */

typedef struct {
	int64_t at;          /* UTC instant of the change */
	int from, to;        /* offsets in seconds */
	int dst;             /* the new offset is summer time */
	char name[16];       /* its abbreviation: "CEST" */
} transition;

/* Offset changes of tz during the given year (UTC), at most max. */
static int year_transitions(const char *tz, int year, transition *out, int max, int *n)
{
	struct tm jan = {0};
	jan.tm_year = year - 1900;
	jan.tm_mday = 1;
	int64_t t = (int64_t)timegm(&jan), end;
	jan.tm_year++;
	end = (int64_t)timegm(&jan);
	int off, prev, rc;
	*n = 0;
	if ((rc = plein_tz_offset(tz, t, &prev)) < 0)
		return rc;
	for (int64_t step = 7 * 86400; t < end; t += step) {
		int64_t next = t + step < end ? t + step : end;
		if ((rc = plein_tz_offset(tz, next, &off)) < 0)
			return rc;
		if (off == prev)
			continue;
		int64_t lo = t, hi = next; /* offset(lo) = prev, offset(hi) = off */
		while (hi - lo > 1) {
			int64_t mid = lo + (hi - lo) / 2, o;
			int m;
			if ((rc = plein_tz_offset(tz, mid, &m)) < 0)
				return rc;
			o = m;
			if (o == prev)
				lo = mid;
			else
				hi = mid;
		}
		if (*n < max) {
			struct tm l;
			transition *x = &out[(*n)++];
			if ((rc = plein_tz_utc_to_local(tz, hi, &l)) < 0)
				return rc;
			x->at = hi;
			x->from = prev;
			x->to = off;
			x->dst = l.tm_isdst > 0;
			snprintf(x->name, sizeof x->name, "%s", l.tm_zone ? l.tm_zone : "");
		}
		prev = off;
	}
	return 0;
}

static void fmt_offset(char out[8], int sec)
{
	int a = sec < 0 ? -sec : sec;
	snprintf(out, 8, "%c%02d%02d", sec < 0 ? '-' : '+', (a / 3600) % 100, a % 3600 / 60);
}

/* The local wall time just before the change (as TZOFFSETFROM reads it). */
static struct tm wall_before(const transition *x)
{
	time_t t = (time_t)(x->at + x->from);
	struct tm w;
	gmtime_r(&t, &w);
	return w;
}

/* The week of the month of a day as BYDAY counts it: -1 for the last such
 * weekday, else 1..4. */
static int week_of_month(const struct tm *w)
{
	return w->tm_mday + 7 > plein_days_in_month(w->tm_year + 1900, w->tm_mon + 1) ? -1 : (w->tm_mday - 1) / 7 + 1;
}

/* Does the yearly rule of x (same month, weekday, week and wall time)
 * give the change of that kind in y? */
static int same_rule(const transition *x, const transition *y)
{
	struct tm a = wall_before(x), b = wall_before(y);
	return x->dst == y->dst && x->from == y->from && x->to == y->to && a.tm_mon == b.tm_mon &&
	       a.tm_wday == b.tm_wday && week_of_month(&a) == week_of_month(&b) && a.tm_hour == b.tm_hour &&
	       a.tm_min == b.tm_min;
}

static void observance(plein_buf *out, const transition *x, int yearly)
{
	static const char *const wd[] = { "SU", "MO", "TU", "WE", "TH", "FR", "SA" };
	struct tm w = wall_before(x);
	char from[8], to[8];
	fmt_offset(from, x->from);
	fmt_offset(to, x->to);
	linef(out, "BEGIN:%s", x->dst ? "DAYLIGHT" : "STANDARD");
	linef(out, "TZOFFSETFROM:%s", from);
	linef(out, "TZOFFSETTO:%s", to);
	if (x->name[0])
		prop_text(out, "TZNAME", x->name);
	linef(out, "DTSTART:%04d%02d%02dT%02d%02d%02d", w.tm_year + 1900, w.tm_mon + 1, w.tm_mday, w.tm_hour, w.tm_min,
	      w.tm_sec);
	if (yearly)
		linef(out, "RRULE:FREQ=YEARLY;BYMONTH=%d;BYDAY=%d%s", w.tm_mon + 1, week_of_month(&w), wd[w.tm_wday]);
	linef(out, "END:%s", x->dst ? "DAYLIGHT" : "STANDARD");
}

#define CHECK_YEARS 4   /* years after the first in which a yearly rule is checked */
#define LIST_YEARS 20   /* changes listed one by one when there is no such rule */

/* A VTIMEZONE valid from the start of year on: the changes of that year
 * with the yearly rule they follow, when the next years follow it too;
 * otherwise each change of the next LIST_YEARS years by itself. */
static int vtimezone_make(plein_buf *out, const char *tz, int year)
{
	transition first[8], later[8];
	int n, m, rc, yearly = 1;
	if ((rc = year_transitions(tz, year, first, 8, &n)) < 0)
		return rc;
	for (int y = year + 1; yearly && y <= year + CHECK_YEARS; y++) {
		if ((rc = year_transitions(tz, y, later, 8, &m)) < 0)
			return rc;
		yearly = m == n;
		for (int i = 0; yearly && i < n; i++)
			yearly = same_rule(&first[i], &later[i]);
	}
	linef(out, "BEGIN:VTIMEZONE");
	prop_text(out, "TZID", tz);
	if (n == 0) {
		/* No change that year: one observance from the start of it. */
		struct tm jan = {0}, l;
		jan.tm_year = year - 1900;
		jan.tm_mday = 1;
		if ((rc = plein_tz_utc_to_local(tz, (int64_t)timegm(&jan), &l)) < 0)
			return rc;
		transition x = { (int64_t)timegm(&jan), (int)l.tm_gmtoff, (int)l.tm_gmtoff, 0, "" };
		snprintf(x.name, sizeof x.name, "%s", l.tm_zone ? l.tm_zone : "");
		x.at -= x.from; /* so that wall_before gives 1 January 00:00 */
		observance(out, &x, 0);
	} else if (yearly) {
		for (int i = 0; i < n; i++)
			observance(out, &first[i], 1);
	} else {
		for (int y = year; y < year + LIST_YEARS; y++) {
			if ((rc = year_transitions(tz, y, later, 8, &m)) < 0)
				return rc;
			for (int i = 0; i < m; i++)
				observance(out, &later[i], 0);
		}
	}
	linef(out, "END:VTIMEZONE");
	return 0;
}

/* Finding the changes takes a few hundred zone conversions; a daemon
 * serving feeds keeps the few VTIMEZONEs it made (the zoneinfo of a
 * running system does not change under it often enough to matter). */
#define ZONE_CACHE 8
static struct {
	char *tz;
	int year;
	char *text;
} zone_cache[ZONE_CACHE];
static int zone_cache_next;

static int vtimezone(plein_buf *out, const char *tz, int year)
{
	for (int i = 0; i < ZONE_CACHE; i++)
		if (zone_cache[i].tz && zone_cache[i].year == year && strcmp(zone_cache[i].tz, tz) == 0) {
			plein_buf_puts(out, zone_cache[i].text);
			return 0;
		}
	plein_buf b = PLEIN_BUF_INIT;
	int rc = vtimezone_make(&b, tz, year);
	if (rc == 0) {
		int i = zone_cache_next++ % ZONE_CACHE;
		free(zone_cache[i].tz);
		free(zone_cache[i].text);
		zone_cache[i].tz = plein_xstrdup(tz);
		zone_cache[i].year = year;
		zone_cache[i].text = plein_xstrdup(plein_buf_cstr(&b));
		plein_buf_put(out, b.data, b.len);
	}
	plein_buf_free(&b);
	return rc;
}

/* --- the feed --------------------------------------------------------------- */

typedef struct {
	plein_buf events;       /* the VEVENTs, written after the VTIMEZONEs */
	char *zones[MAX_ZONES]; /* time zones used, with the first year used */
	int zone_year[MAX_ZONES];
	int nzones;
	plein_db *db;
	plein_site view;        /* the replica as the schedule module takes it */
	const plein_ics_filter *f;
	int has_period;         /* f->from and f->to, parsed */
	plein_date from, to;
} feed;

static int use_zone(feed *fd, const char *tz, int year)
{
	for (int i = 0; i < fd->nzones; i++)
		if (strcmp(fd->zones[i], tz) == 0) {
			if (year < fd->zone_year[i])
				fd->zone_year[i] = year;
			return 0;
		}
	if (fd->nzones == MAX_ZONES)
		return plein_fail(PLEIN_ERR, "the feed uses more than %d time zones; filter it by location", MAX_ZONES);
	fd->zones[fd->nzones] = plein_xstrdup(tz);
	fd->zone_year[fd->nzones++] = year;
	return 0;
}

static char *col(sqlite3_stmt *st, int c)
{
	const unsigned char *t = sqlite3_column_text(st, c);
	return t ? plein_xstrdup((const char *)t) : NULL;
}

/* The Dutch label of a theme code (malloc'd), or the code itself. */
static char *theme_label(plein_db *db, const char *code)
{
	char *label = NULL;
	if (!code)
		return NULL;
	sqlite3_stmt *st = plein_db_stmt(db, "SELECT label FROM term WHERE scheme = 'theme' AND code = ?1 ORDER BY id LIMIT 1");
	if (st) {
		sqlite3_bind_text(st, 1, code, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) == SQLITE_ROW)
			label = col(st, 0);
		sqlite3_reset(st);
	}
	return label ? label : plein_xstrdup(code);
}

/* What every event says about its offering: SUMMARY, LOCATION, CATEGORIES. */
static void describe(plein_buf *out, const char *title, const char *partner, const char *location, const char *room,
		     const char *theme)
{
	plein_buf b = PLEIN_BUF_INIT;
	plein_buf_puts(&b, title ? title : "Activiteit");
	if (partner)
		plein_buf_printf(&b, " (%s)", partner);
	prop_text(out, "SUMMARY", plein_buf_cstr(&b));
	plein_buf_reset(&b);
	if (location)
		plein_buf_puts(&b, location);
	if (location && room)
		plein_buf_puts(&b, ", ");
	if (room)
		plein_buf_puts(&b, room);
	prop_text(out, "LOCATION", plein_buf_cstr(&b));
	plein_buf_free(&b);
	prop_text(out, "CATEGORIES", theme);
}

/* One occurrence as it now takes place: DTSTART, DURATION and the rest. */
static int occurrence_event(feed *fd, const plein_occurrence *o, const char *uid, const char *recurrence_tz,
			    const char *recurrence, int64_t stamp)
{
	plein_buf *out = &fd->events;
	const char *tz = NULL;
	char *otz = NULL, *label = theme_label(fd->db, o->theme), start[16], dur[32], st[17];
	plein_date d;
	int rc;
	/* The zone of where it takes place now. */
	sqlite3_stmt *q = plein_db_stmt(fd->db, "SELECT tz FROM location WHERE id = ?1");
	if (q) {
		sqlite3_bind_text(q, 1, o->location_id ? o->location_id : "", -1, SQLITE_TRANSIENT);
		if (sqlite3_step(q) == SQLITE_ROW)
			otz = col(q, 0);
		sqlite3_reset(q);
	}
	tz = zone(otz);
	plein_date_parse(&d, o->date);
	if ((rc = use_zone(fd, tz, d.year)) < 0)
		goto done;
	fmt_local(start, d, minutes(o->start));
	fmt_duration(dur, (o->end_utc - o->start_utc) / 60);
	fmt_utc(st, stamp);
	linef(out, "BEGIN:VEVENT");
	prop_text(out, "UID", uid);
	linef(out, "DTSTAMP:%s", st);
	if (recurrence)
		linef(out, "RECURRENCE-ID;TZID=%s:%s", recurrence_tz, recurrence);
	linef(out, "DTSTART;TZID=%s:%s", tz, start);
	linef(out, "DURATION:%s", dur);
	describe(out, o->title, o->partner, o->location, o->room, label);
	if (o->reason) {
		plein_buf b = PLEIN_BUF_INIT;
		plein_buf_printf(&b, "Verplaatst: %s", o->reason);
		prop_text(out, "DESCRIPTION", plein_buf_cstr(&b));
		plein_buf_free(&b);
	}
	linef(out, "END:VEVENT");
done:
	free(otz);
	free(label);
	return rc;
}

/* A schedule_rule row with what the feed shows. */
typedef struct {
	char *id, *rrule, *starts_at, *ends_at, *valid_from, *valid_to, *location_id, *room;
	char *title, *theme, *partner, *location, *tz, *theme_label;
} rule_row;

static void row_free(rule_row *r)
{
	char **f[] = { &r->id, &r->rrule, &r->starts_at, &r->ends_at, &r->valid_from, &r->valid_to, &r->location_id,
		       &r->room, &r->title, &r->theme, &r->partner, &r->location, &r->tz, &r->theme_label };
	for (size_t i = 0; i < sizeof f / sizeof *f; i++)
		free(*f[i]);
}

/* A rule as RFC 5545 reads it: DTSTART is its first occurrence (in the
 * period, if one is asked for; plein does not count valid_from itself
 * unless it fits the pattern), and an end by UNTIL, COUNT, valid_to or the
 * period becomes one UNTIL at the start of its last occurrence. */
typedef struct {
	plein_rrule rr;
	plein_rrule_anchor anchor;
	int start_min, end_min;
	int empty;            /* no occurrence in the period: no master event */
	plein_date first;     /* the master's first and (has_last) last dates */
	int has_last;
	plein_date last;
	const char *tz;
	plein_buf text;       /* the RRULE value */
} rule_ics;

/* The last occurrence of ri in [ri->first, end], into ri->last. */
static void last_occurrence(rule_ics *ri, plein_date end)
{
	plein_date *dates = NULL;
	size_t n = 0;
	plein_rrule_expand(&dates, &n, &ri->rr, &ri->anchor, ri->first, end, 0);
	if (n) {
		ri->has_last = 1;
		ri->last = dates[n - 1];
	}
	free(dates);
}

static int rule_prepare(rule_ics *ri, const rule_row *r, const feed *fd)
{
	plein_date *dates = NULL;
	size_t n = 0;
	int rc;
	memset(ri, 0, sizeof *ri);
	if (plein_rrule_parse(&ri->rr, r->rrule) < 0 || !plein_valid_time(r->starts_at) ||
	    !plein_valid_time(r->ends_at) || strcmp(r->starts_at, r->ends_at) >= 0 ||
	    plein_date_parse(&ri->anchor.dtstart, r->valid_from) < 0 ||
	    (r->valid_to && plein_date_parse(&ri->anchor.valid_to, r->valid_to) < 0))
		return PLEIN_EINVAL; /* left out, as 'plein schedule' leaves it out */
	ri->tz = zone(r->tz);
	ri->anchor.has_valid_to = r->valid_to != NULL;
	ri->start_min = minutes(r->starts_at);
	ri->end_min = minutes(r->ends_at);
	ri->anchor.start_sec = ri->start_min * 60;
	if (ri->rr.has_until && ri->rr.until_utc) {
		/* Compared in local time, as the schedule module does. */
		struct tm u = {0}, l;
		u.tm_year = ri->rr.until.year - 1900;
		u.tm_mon = ri->rr.until.month - 1;
		u.tm_mday = ri->rr.until.day;
		u.tm_sec = ri->rr.until_sec;
		if ((rc = plein_tz_utc_to_local(ri->tz, (int64_t)timegm(&u), &l)) < 0)
			return rc;
		ri->rr.until = (plein_date){ l.tm_year + 1900, l.tm_mon + 1, l.tm_mday };
		ri->rr.until_sec = l.tm_hour * 3600 + l.tm_min * 60 + l.tm_sec;
		ri->rr.until_utc = 0;
	}
	/* COUNT counts from valid_from, so the window's start does not shift it. */
	plein_date lo = ri->anchor.dtstart, hi = { 9999, 12, 31 };
	if (fd->has_period && plein_date_cmp(fd->from, lo) > 0)
		lo = fd->from;
	if (fd->has_period)
		hi = fd->to;
	plein_rrule_expand(&dates, &n, &ri->rr, &ri->anchor, lo, hi, 1);
	ri->empty = n == 0;
	if (n)
		ri->first = dates[0];
	free(dates);
	if (ri->empty)
		return 0;
	/* Every end is one UNTIL: the last date by UNTIL, valid_to and the
	 * period, the COUNT counted out. */
	int finite = ri->rr.has_until || ri->anchor.has_valid_to || ri->rr.count || fd->has_period;
	if (finite) {
		plein_date end = hi;
		if (ri->anchor.has_valid_to && plein_date_cmp(ri->anchor.valid_to, end) < 0)
			end = ri->anchor.valid_to;
		if (ri->rr.has_until && plein_date_cmp(ri->rr.until, end) < 0)
			end = ri->rr.until;
		last_occurrence(ri, end);
	}
	plein_rrule plain = ri->rr;
	plain.has_until = 0;
	plain.count = 0;
	plein_rrule_format(&ri->text, &plain);
	if (ri->has_last) {
		int64_t last_utc;
		char u[17];
		if ((rc = local_utc(ri->tz, ri->last, ri->start_min, &last_utc)) < 0)
			return rc;
		fmt_utc(u, last_utc);
		plein_buf_printf(&ri->text, ";UNTIL=%s", u);
	}
	if (ri->rr.freq == PLEIN_RRULE_WEEKLY && ri->rr.interval > 1)
		plein_buf_puts(&ri->text, ";WKST=MO"); /* plein's weeks start on Monday */
	return 0;
}

static int in_master(const rule_ics *ri, const char *date)
{
	plein_date d;
	return !ri->empty && plein_date_parse(&d, date) == 0 && plein_date_cmp(d, ri->first) >= 0 &&
	       (!ri->has_last || plein_date_cmp(d, ri->last) <= 0);
}

/* Does occurrence o take place within the feed: at its location, in its
 * period? */
static int shown(const feed *fd, const plein_occurrence *o)
{
	plein_date d;
	if (fd->f->location_id && !(o->location_id && strcmp(o->location_id, fd->f->location_id) == 0))
		return 0;
	return !fd->has_period || (plein_date_parse(&d, o->date) == 0 && plein_date_cmp(d, fd->from) >= 0 &&
				   plein_date_cmp(d, fd->to) <= 0);
}

/* "<rule id>-<YYYYMMDD>@plein": an occurrence shown without its rule. */
static void occurrence_uid(char out[256], const plein_occurrence *o)
{
	snprintf(out, 256, "%s-%.4s%.2s%.2s@plein", o->rule_id, o->original_date, o->original_date + 5,
		 o->original_date + 8);
}

/* One recurring VEVENT for a rule, EXDATEs for the dates that do not take
 * place here, and a RECURRENCE-ID override per moved date that does (or
 * an event of its own, when its original date is outside the master). */
static int rule_events(feed *fd, const rule_row *r)
{
	rule_ics ri;
	int rc = rule_prepare(&ri, r, fd);
	char **dates = NULL;
	size_t ndates = 0;
	plein_occurrence *occ = NULL;
	plein_buf exdates = PLEIN_BUF_INIT;
	if (rc == PLEIN_EINVAL) {
		plein_buf_free(&ri.text);
		plein_error_clear();
		return 0;
	}
	if (rc < 0 || (!ri.empty && (rc = use_zone(fd, ri.tz, ri.first.year)) < 0))
		goto done;
	/* The dates this rule has exceptions for, resolved one by one. */
	sqlite3_stmt *st = plein_db_stmt(fd->db, "SELECT DISTINCT original_date FROM schedule_exception"
						 " WHERE rule_id = ?1 AND original_date IS NOT NULL ORDER BY original_date");
	if (!st) {
		rc = PLEIN_ERR;
		goto done;
	}
	sqlite3_bind_text(st, 1, r->id, -1, SQLITE_TRANSIENT);
	while (sqlite3_step(st) == SQLITE_ROW) {
		dates = plein_xrealloc(dates, (ndates + 1) * sizeof *dates);
		dates[ndates++] = col(st, 0);
	}
	sqlite3_reset(st);
	occ = plein_xcalloc(ndates ? ndates : 1, sizeof *occ);
	for (size_t i = 0; i < ndates; i++) {
		rc = plein_schedule_occurrence(&occ[i], &fd->view, r->id, dates[i]);
		if (rc == PLEIN_EINVAL) { /* no (longer an) occurrence: no effect */
			plein_error_clear();
			rc = 0;
			continue;
		}
		if (rc < 0)
			goto done;
		const plein_occurrence *o = &occ[i];
		if (in_master(&ri, o->original_date) &&
		    (o->status == PLEIN_OCC_CANCELLED || (o->status == PLEIN_OCC_MOVED && !shown(fd, o)))) {
			plein_date d;
			char t[16];
			plein_date_parse(&d, o->original_date);
			fmt_local(t, d, ri.start_min);
			plein_buf_printf(&exdates, "%s%s", exdates.len ? "," : "", t);
		}
	}
	/* The exceptions' ids say when the rule was last changed. */
	int64_t stamp = id_time(r->id);
	sqlite3_stmt *ids = plein_db_stmt(fd->db, "SELECT id FROM schedule_exception WHERE rule_id = ?1");
	if (ids) {
		sqlite3_bind_text(ids, 1, r->id, -1, SQLITE_TRANSIENT);
		while (sqlite3_step(ids) == SQLITE_ROW) {
			int64_t t = id_time((const char *)sqlite3_column_text(ids, 0));
			if (t > stamp)
				stamp = t;
		}
		sqlite3_reset(ids);
	}
	if (stamp < 0)
		local_utc("UTC", ri.anchor.dtstart, 0, &stamp);
	char uid[256];
	snprintf(uid, sizeof uid, "%s@plein", r->id);
	if (!ri.empty) {
		plein_buf *out = &fd->events;
		char start[16], dur[32], stamp_text[17];
		fmt_local(start, ri.first, ri.start_min);
		fmt_duration(dur, ri.end_min - ri.start_min);
		fmt_utc(stamp_text, stamp);
		linef(out, "BEGIN:VEVENT");
		prop_text(out, "UID", uid);
		linef(out, "DTSTAMP:%s", stamp_text);
		linef(out, "DTSTART;TZID=%s:%s", ri.tz, start);
		linef(out, "DURATION:%s", dur);
		linef(out, "RRULE:%s", plein_buf_cstr(&ri.text));
		if (exdates.len)
			linef(out, "EXDATE;TZID=%s:%s", ri.tz, plein_buf_cstr(&exdates));
		describe(out, r->title, r->partner, r->location, r->room, r->theme_label);
		linef(out, "END:VEVENT");
	}
	for (size_t i = 0; rc == 0 && i < ndates; i++) {
		const plein_occurrence *o = &occ[i];
		if (!o->rule_id || o->status != PLEIN_OCC_MOVED || !shown(fd, o))
			continue;
		if (in_master(&ri, o->original_date)) {
			plein_date d;
			char rid[16];
			plein_date_parse(&d, o->original_date);
			fmt_local(rid, d, ri.start_min);
			rc = occurrence_event(fd, o, uid, ri.tz, rid, stamp);
		} else {
			char own[256];
			occurrence_uid(own, o);
			rc = occurrence_event(fd, o, own, NULL, NULL, stamp);
		}
	}
done:
	plein_buf_free(&exdates);
	for (size_t i = 0; i < ndates; i++) {
		free(dates[i]);
		if (occ)
			plein_occurrence_clear(&occ[i]);
	}
	free(dates);
	free(occ);
	plein_buf_free(&ri.text);
	return rc;
}

/* With a location filter: occurrences of other locations' rules moved to
 * this one, each as an event of its own (its rule is not in this feed). */
static int moved_in(feed *fd)
{
	sqlite3_stmt *st = plein_db_stmt(fd->db,
		"SELECT DISTINCT e.rule_id, e.original_date, e.id FROM schedule_exception e"
		" JOIN schedule_rule r ON r.id = e.rule_id LEFT JOIN offering o ON o.id = r.offering_id"
		" WHERE e.action = 'move' AND e.new_location_id = ?1 AND r.location_id IS NOT ?1"
		" AND (?2 IS NULL OR o.partner_id = ?2) AND (?3 IS NULL OR o.theme = ?3)"
		" ORDER BY e.rule_id, e.original_date, e.id DESC"); /* the deciding one first */
	char **rows = NULL;
	size_t n = 0;
	int rc = 0;
	if (!st)
		return PLEIN_ERR;
	sqlite3_bind_text(st, 1, fd->f->location_id, -1, SQLITE_TRANSIENT);
	if (fd->f->partner_id)
		sqlite3_bind_text(st, 2, fd->f->partner_id, -1, SQLITE_TRANSIENT);
	if (fd->f->theme)
		sqlite3_bind_text(st, 3, fd->f->theme, -1, SQLITE_TRANSIENT);
	while (sqlite3_step(st) == SQLITE_ROW) {
		rows = plein_xrealloc(rows, (n + 3) * sizeof *rows);
		for (int c = 0; c < 3; c++)
			rows[n++] = col(st, c);
	}
	sqlite3_reset(st);
	for (size_t i = 0; rc == 0 && i < n; i += 3) {
		plein_occurrence o;
		if (i && strcmp(rows[i], rows[i - 3]) == 0 && strcmp(rows[i + 1], rows[i - 2]) == 0)
			continue; /* the same occurrence, named by two exceptions */
		rc = plein_schedule_occurrence(&o, &fd->view, rows[i], rows[i + 1]);
		if (rc == PLEIN_EINVAL) {
			plein_error_clear();
			rc = 0;
			continue;
		}
		if (rc == 0 && o.status == PLEIN_OCC_MOVED && shown(fd, &o)) {
			char uid[256];
			occurrence_uid(uid, &o);
			int64_t stamp = id_time(rows[i + 2]);
			if (stamp < 0)
				stamp = o.start_utc - o.start_utc % 86400;
			rc = occurrence_event(fd, &o, uid, NULL, NULL, stamp);
		}
		plein_occurrence_clear(&o);
	}
	for (size_t i = 0; i < n; i++)
		free(rows[i]);
	free(rows);
	return rc;
}

static int check_filter(plein_db *db, const plein_ics_filter *f)
{
	static const struct {
		const char *sql, *what, *hint;
	} checks[] = {
		{ "SELECT count(*) FROM location WHERE id = ?", "location with id", "plein location list" },
		{ "SELECT count(*) FROM partner WHERE id = ?", "partner with id", "plein partner list" },
		{ "SELECT (SELECT count(*) FROM term WHERE scheme = 'theme' AND code = ?1)"
		  " + (SELECT count(*) FROM offering WHERE theme = ?1)", "theme", "plein term list --scheme theme" },
	};
	const char *values[] = { f->location_id, f->partner_id, f->theme };
	for (int i = 0; i < 3; i++) {
		int64_t n = 0;
		int rc;
		if (!values[i])
			continue;
		if ((rc = plein_db_int(db, &n, checks[i].sql, values[i], NULL)) < 0)
			return rc;
		if (!n)
			return plein_fail(PLEIN_ENOTFOUND, "no %s '%s' (see '%s')", checks[i].what, values[i], checks[i].hint);
	}
	return 0;
}

/* from and to: both or neither, dates, in order. */
static int check_period(feed *fd)
{
	const plein_ics_filter *f = fd->f;
	if (!f->from && !f->to)
		return 0;
	if (!f->from || !f->to)
		return plein_fail(PLEIN_EINVAL, "a feed's period needs both a first and a last date");
	if (plein_date_parse(&fd->from, f->from) < 0)
		return plein_fail(PLEIN_EINVAL, "'%s' is not a date (YYYY-MM-DD)", f->from);
	if (plein_date_parse(&fd->to, f->to) < 0)
		return plein_fail(PLEIN_EINVAL, "'%s' is not a date (YYYY-MM-DD)", f->to);
	if (plein_date_cmp(fd->to, fd->from) < 0)
		return plein_fail(PLEIN_EINVAL, "the period %s to %s ends before it begins", f->from, f->to);
	fd->has_period = 1;
	return 0;
}

/* The calendar's name: the programme, and what it is filtered on. */
static void calendar_name(plein_buf *out, plein_db *db, const plein_ics_filter *f)
{
	plein_buf b = PLEIN_BUF_INIT;
	struct { const char *value, *sql; } parts[] = {
		{ f->location_id, "SELECT name FROM location WHERE id = ?1" },
		{ f->partner_id, "SELECT name FROM partner WHERE id = ?1" },
		{ f->theme, "SELECT label FROM term WHERE scheme = 'theme' AND code = ?1 ORDER BY id LIMIT 1" },
	};
	plein_buf_puts(&b, "Ontwikkelplein");
	for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
		if (!parts[i].value)
			continue;
		char *name = NULL;
		sqlite3_stmt *st = plein_db_stmt(db, parts[i].sql);
		if (st) {
			sqlite3_bind_text(st, 1, parts[i].value, -1, SQLITE_TRANSIENT);
			if (sqlite3_step(st) == SQLITE_ROW)
				name = col(st, 0);
			sqlite3_reset(st);
		}
		plein_buf_printf(&b, " - %s", name ? name : parts[i].value);
		free(name);
	}
	prop_text(out, "X-WR-CALNAME", plein_buf_cstr(&b));
	plein_buf_free(&b);
}

int plein_ics_feed(plein_buf *out, plein_db *db, const plein_ics_filter *f)
{
	static const plein_ics_filter none = { NULL, NULL, NULL, NULL, NULL };
	feed fd;
	int rc;
	memset(&fd, 0, sizeof fd);
	fd.db = db;
	fd.view.db = db;
	fd.f = f ? f : &none;
	if ((rc = check_filter(db, fd.f)) < 0 || (rc = check_period(&fd)) < 0)
		return rc;
	sqlite3_stmt *st = plein_db_stmt(db,
		"SELECT r.id, r.rrule, r.starts_at, r.ends_at, r.valid_from, r.valid_to, r.location_id, r.room,"
		" o.title, o.theme, p.name, l.name, l.tz,"
		" COALESCE((SELECT label FROM term WHERE scheme = 'theme' AND code = o.theme ORDER BY id LIMIT 1), o.theme)"
		" FROM schedule_rule r LEFT JOIN offering o ON o.id = r.offering_id"
		" LEFT JOIN partner p ON p.id = o.partner_id LEFT JOIN location l ON l.id = r.location_id"
		" WHERE (?1 IS NULL OR r.location_id = ?1) AND (?2 IS NULL OR o.partner_id = ?2)"
		" AND (?3 IS NULL OR o.theme = ?3) ORDER BY r.id");
	if (!st)
		return PLEIN_ERR;
	const char *binds[] = { fd.f->location_id, fd.f->partner_id, fd.f->theme };
	for (int i = 0; i < 3; i++)
		if (binds[i])
			sqlite3_bind_text(st, i + 1, binds[i], -1, SQLITE_TRANSIENT);
	rule_row *rows = NULL;
	size_t n = 0;
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		rows = plein_xrealloc(rows, (n + 1) * sizeof *rows);
		rule_row *r = &rows[n++];
		char **fields[] = { &r->id, &r->rrule, &r->starts_at, &r->ends_at, &r->valid_from, &r->valid_to,
				    &r->location_id, &r->room, &r->title, &r->theme, &r->partner, &r->location, &r->tz,
				    &r->theme_label };
		for (int c = 0; c < 14; c++)
			*fields[c] = col(st, c);
	}
	rc = step == SQLITE_DONE ? 0 : plein_db_fail(db, "reading the schedule for the feed");
	sqlite3_reset(st);
	/* The rows are read first: the schedule module uses the statement cache too. */
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = rule_events(&fd, &rows[i]);
	if (rc == 0 && fd.f->location_id)
		rc = moved_in(&fd);
	if (rc == 0) {
		linef(out, "BEGIN:VCALENDAR");
		linef(out, "VERSION:2.0");
		linef(out, "PRODID:-//plein//Ontwikkelplein programma//NL");
		linef(out, "CALSCALE:GREGORIAN");
		calendar_name(out, db, fd.f);
		/* From the year before the first event, so every event lies
		 * after an observance's onset. */
		for (int i = 0; rc == 0 && i < fd.nzones; i++)
			rc = vtimezone(out, fd.zones[i], fd.zone_year[i] - 1);
		plein_buf_put(out, fd.events.data, fd.events.len);
		linef(out, "END:VCALENDAR");
	}
	for (size_t i = 0; i < n; i++)
		row_free(&rows[i]);
	free(rows);
	for (int i = 0; i < fd.nzones; i++)
		free(fd.zones[i]);
	plein_buf_free(&fd.events);
	return rc;
}
