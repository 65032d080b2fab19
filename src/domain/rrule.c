/* The RRULE subset of docs/schedule.md: parsing, canonical text and
 * expansion into civil dates. Days are counted from 1970-01-01 so that
 * weekday and week arithmetic are plain integer operations. */
#include "plein/rrule.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plein/error.h"

#define SUBSET "plein takes FREQ=WEEKLY|MONTHLY with INTERVAL, BYDAY, UNTIL or COUNT (see docs/schedule.md)"

static const char *const weekdays[7] = { "MO", "TU", "WE", "TH", "FR", "SA", "SU" };

/* --- civil dates -------------------------------------------------------- */

int plein_days_in_month(int year, int month)
{
	static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (month < 1 || month > 12)
		return 0;
	if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0))
		return 29;
	return d[month - 1];
}

/* Howard Hinnant's days_from_civil: eras of 400 years, March-based years
 * so the leap day falls at the end. */
int64_t plein_date_to_days(plein_date d)
{
	int64_t y = d.year - (d.month <= 2);
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t mp = (d.month + 9) % 12;
	int64_t doy = (153 * mp + 2) / 5 + d.day - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

plein_date plein_date_from_days(int64_t days)
{
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	plein_date d;
	d.day = (int)(doy - (153 * mp + 2) / 5 + 1);
	d.month = (int)(mp < 10 ? mp + 3 : mp - 9);
	d.year = (int)(yoe + era * 400 + (d.month <= 2));
	return d;
}

plein_date plein_date_add(plein_date d, int64_t days)
{
	return plein_date_from_days(plein_date_to_days(d) + days);
}

int plein_date_cmp(plein_date a, plein_date b)
{
	if (a.year != b.year)
		return a.year < b.year ? -1 : 1;
	if (a.month != b.month)
		return a.month < b.month ? -1 : 1;
	return a.day < b.day ? -1 : a.day > b.day;
}

/* 1970-01-01 was a Thursday (3). */
static int weekday_of(int64_t days)
{
	return (int)(((days % 7) + 7 + 3) % 7);
}

int plein_date_weekday(plein_date d)
{
	return weekday_of(plein_date_to_days(d));
}

static int digits(const char *s, int n)
{
	for (int i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

static int num(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

static int make_date(plein_date *out, int y, int m, int d)
{
	if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1 || d > plein_days_in_month(y, m))
		return PLEIN_EINVAL;
	out->year = y;
	out->month = m;
	out->day = d;
	return 0;
}

int plein_date_parse(plein_date *out, const char *s)
{
	if (!s || strlen(s) != 10 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' || !digits(s + 8, 2))
		return PLEIN_EINVAL;
	return make_date(out, num(s, 4), num(s + 5, 2), num(s + 8, 2));
}

void plein_date_format(char out[11], plein_date d)
{
	snprintf(out, 11, "%04u-%02u-%02u", (unsigned)d.year % 10000u, (unsigned)d.month % 100u, (unsigned)d.day % 100u);
}

/* --- parsing ------------------------------------------------------------ */

enum { P_FREQ = 1, P_INTERVAL = 2, P_BYDAY = 4, P_UNTIL = 8, P_COUNT = 16 };

/* A whole number lo..hi written as 1 to 5 digits. */
static int parse_number(const char *name, const char *v, int lo, int hi, int *out)
{
	size_t n = strlen(v);
	if (n == 0 || n > 5 || !digits(v, (int)n) || num(v, (int)n) < lo || num(v, (int)n) > hi)
		return plein_fail(PLEIN_EINVAL, "RRULE %s=%s: %s must be a whole number from %d to %d", name, v, name, lo, hi);
	*out = num(v, (int)n);
	return 0;
}

/* One BYDAY entry: [+|-][n]DD. */
static int parse_byday_item(plein_rrule *r, const char *item, int *ordinal_seen)
{
	const char *p = item;
	int sign = 1, n = 0, nd = 0;
	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	while (isdigit((unsigned char)p[nd]) && nd < 3)
		nd++;
	if (nd)
		n = num(p, nd);
	p += nd;
	int w = -1;
	for (int i = 0; i < 7; i++)
		if (strcmp(p, weekdays[i]) == 0)
			w = i;
	if (w < 0 || (p != item && nd == 0))
		return plein_fail(PLEIN_EINVAL, "RRULE BYDAY '%s' is not a weekday; write MO, TU, WE, TH, FR, SA or SU, "
				  "for FREQ=MONTHLY optionally with the week of the month (1TU, -1FR)", item);
	if (nd && (n < 1 || n > 5))
		return plein_fail(PLEIN_EINVAL, "RRULE BYDAY '%s': the week of the month must be 1 to 5 or -1 to -5", item);
	unsigned char *set = !nd ? &r->byday_any : sign > 0 ? &r->byday_pos[w] : &r->byday_neg[w];
	unsigned bit = !nd ? 1u << w : 1u << (n - 1);
	if (*set & bit)
		return plein_fail(PLEIN_EINVAL, "RRULE BYDAY names '%s' twice; give each day once", item);
	*set = (unsigned char)(*set | bit);
	if (nd)
		*ordinal_seen = 1;
	return 0;
}

static int parse_byday(plein_rrule *r, char *v, int *ordinal_seen)
{
	char *p = v;
	for (;;) {
		char *comma = strchr(p, ',');
		if (comma)
			*comma = 0;
		if (!*p)
			return plein_fail(PLEIN_EINVAL, "RRULE BYDAY has an empty entry; write e.g. BYDAY=TU,TH");
		int rc = parse_byday_item(r, p, ordinal_seen);
		if (rc < 0)
			return rc;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

/* UNTIL=YYYYMMDD or YYYYMMDDTHHMMSS[Z]. */
static int parse_until(plein_rrule *r, const char *v)
{
	size_t n = strlen(v);
	int ok = (n == 8 || ((n == 15 || (n == 16 && v[15] == 'Z')) && v[8] == 'T' && digits(v + 9, 6))) && digits(v, 8);
	if (ok && make_date(&r->until, num(v, 4), num(v + 4, 2), num(v + 6, 2)) < 0)
		ok = 0;
	r->until_sec = -1;
	if (ok && n > 8) {
		int h = num(v + 9, 2), m = num(v + 11, 2), s = num(v + 13, 2);
		if (h > 23 || m > 59 || s > 59)
			ok = 0;
		r->until_sec = h * 3600 + m * 60 + s;
		r->until_utc = n == 16;
	}
	if (!ok)
		return plein_fail(PLEIN_EINVAL, "RRULE UNTIL=%s is not a date or date-time; write UNTIL=YYYYMMDD (e.g. 20261231) "
				  "or UNTIL=YYYYMMDDTHHMMSSZ", v);
	r->has_until = 1;
	return 0;
}

static int parse_part(plein_rrule *r, char *part, int *seen, int *ordinal_seen)
{
	static const struct { const char *name; int bit; } known[] = {
		{ "FREQ", P_FREQ }, { "INTERVAL", P_INTERVAL }, { "BYDAY", P_BYDAY },
		{ "UNTIL", P_UNTIL }, { "COUNT", P_COUNT },
	};
	static const char *const unsupported[] = {
		"BYMONTHDAY", "BYSETPOS", "BYMONTH", "BYWEEKNO", "BYYEARDAY", "BYHOUR",
		"BYMINUTE", "BYSECOND", "WKST", NULL,
	};
	char *eq = strchr(part, '=');
	if (!eq)
		return plein_fail(PLEIN_EINVAL, "RRULE part '%s' is not NAME=VALUE; %s", part, SUBSET);
	*eq = 0;
	char *name = part, *v = eq + 1;
	int bit = 0;
	for (size_t i = 0; i < sizeof known / sizeof *known; i++)
		if (strcmp(name, known[i].name) == 0)
			bit = known[i].bit;
	if (!bit) {
		for (int i = 0; unsupported[i]; i++)
			if (strcmp(name, unsupported[i]) == 0)
				return plein_fail(PLEIN_EINVAL, "RRULE part %s is not supported; %s", name, SUBSET);
		return plein_fail(PLEIN_EINVAL, "RRULE part '%s' is unknown; %s", name, SUBSET);
	}
	if (*seen & bit)
		return plein_fail(PLEIN_EINVAL, "RRULE gives %s twice; give each part once", name);
	*seen |= bit;
	if (!*v)
		return plein_fail(PLEIN_EINVAL, "RRULE %s has no value; %s", name, SUBSET);
	switch (bit) {
	case P_FREQ:
		if (strcmp(v, "WEEKLY") == 0)
			r->freq = PLEIN_RRULE_WEEKLY;
		else if (strcmp(v, "MONTHLY") == 0)
			r->freq = PLEIN_RRULE_MONTHLY;
		else
			return plein_fail(PLEIN_EINVAL, "RRULE FREQ=%s is not supported; use FREQ=WEEKLY or FREQ=MONTHLY", v);
		return 0;
	case P_INTERVAL:
		return parse_number(name, v, 1, PLEIN_RRULE_MAX_INTERVAL, &r->interval);
	case P_COUNT:
		return parse_number(name, v, 1, PLEIN_RRULE_MAX_COUNT, &r->count);
	case P_UNTIL:
		return parse_until(r, v);
	default:
		return parse_byday(r, v, ordinal_seen);
	}
}

int plein_rrule_parse(plein_rrule *out, const char *text)
{
	memset(out, 0, sizeof *out);
	out->interval = 1;
	out->until_sec = -1;
	if (!text || !*text)
		return plein_fail(PLEIN_EINVAL, "the RRULE is empty; write e.g. FREQ=WEEKLY;BYDAY=TU");
	size_t n = strlen(text);
	if (n > PLEIN_RRULE_MAX_LEN)
		return plein_fail(PLEIN_EINVAL, "the RRULE is longer than %d characters; %s", PLEIN_RRULE_MAX_LEN, SUBSET);
	char buf[PLEIN_RRULE_MAX_LEN + 1];
	for (size_t i = 0; i <= n; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c && (c <= ' ' || c >= 0x7f))
			return plein_fail(PLEIN_EINVAL, "the RRULE contains a space or a character outside ASCII; "
					  "write e.g. FREQ=WEEKLY;BYDAY=TU");
		buf[i] = (char)toupper(c);
	}
	char *p = buf;
	if (strncmp(p, "RRULE:", 6) == 0)
		p += 6;
	int seen = 0, ordinal_seen = 0, rc = 0;
	for (;;) {
		char *semi = strchr(p, ';');
		if (semi)
			*semi = 0;
		if (!*p) {
			rc = plein_fail(PLEIN_EINVAL, "the RRULE has an empty part (two ';' in a row, or one at an end); "
					"write e.g. FREQ=WEEKLY;BYDAY=TU");
			goto fail;
		}
		if ((rc = parse_part(out, p, &seen, &ordinal_seen)) < 0)
			goto fail;
		if (!semi)
			break;
		p = semi + 1;
	}
	if (!(seen & P_FREQ))
		rc = plein_fail(PLEIN_EINVAL, "the RRULE needs FREQ=WEEKLY or FREQ=MONTHLY");
	else if ((seen & P_UNTIL) && (seen & P_COUNT))
		rc = plein_fail(PLEIN_EINVAL, "the RRULE gives both UNTIL and COUNT; RFC 5545 allows one of them");
	else if (ordinal_seen && out->freq != PLEIN_RRULE_MONTHLY)
		rc = plein_fail(PLEIN_EINVAL, "RRULE BYDAY with a week number (1TU, -1FR) needs FREQ=MONTHLY; "
				"for FREQ=WEEKLY write plain days (BYDAY=TU,TH)");
	if (rc == 0)
		return 0;
fail:
	memset(out, 0, sizeof *out);
	return rc;
}

void plein_rrule_format(plein_buf *out, const plein_rrule *r)
{
	plein_buf_puts(out, r->freq == PLEIN_RRULE_MONTHLY ? "FREQ=MONTHLY" : "FREQ=WEEKLY");
	if (r->interval > 1)
		plein_buf_printf(out, ";INTERVAL=%d", r->interval);
	const char *sep = ";BYDAY=";
	for (int w = 0; w < 7; w++) {
		if (r->byday_any >> w & 1) {
			plein_buf_printf(out, "%s%s", sep, weekdays[w]);
			sep = ",";
		}
		for (int n = 1; n <= 5; n++)
			if (r->byday_pos[w] >> (n - 1) & 1) {
				plein_buf_printf(out, "%s%d%s", sep, n, weekdays[w]);
				sep = ",";
			}
		for (int n = 1; n <= 5; n++)
			if (r->byday_neg[w] >> (n - 1) & 1) {
				plein_buf_printf(out, "%s-%d%s", sep, n, weekdays[w]);
				sep = ",";
			}
	}
	if (r->has_until) {
		plein_buf_printf(out, ";UNTIL=%04d%02d%02d", r->until.year, r->until.month, r->until.day);
		if (r->until_sec >= 0)
			plein_buf_printf(out, "T%02d%02d%02d%s", r->until_sec / 3600, r->until_sec / 60 % 60,
					 r->until_sec % 60, r->until_utc ? "Z" : "");
	}
	if (r->count)
		plein_buf_printf(out, ";COUNT=%d", r->count);
}

/* --- expansion ---------------------------------------------------------- */

static int has_byday(const plein_rrule *r)
{
	if (r->byday_any)
		return 1;
	for (int w = 0; w < 7; w++)
		if (r->byday_pos[w] || r->byday_neg[w])
			return 1;
	return 0;
}

/* Does day (>= start) fit the pattern of r anchored at start? */
static int matches(const plein_rrule *r, int64_t start, int64_t day)
{
	int interval = r->interval > 0 ? r->interval : 1;
	int wd = weekday_of(day);
	if (r->freq != PLEIN_RRULE_MONTHLY) {
		/* Weeks start on Monday (WKST=MO); INTERVAL counts weeks from
		 * the week of DTSTART. */
		int64_t weeks = ((day - wd) - (start - weekday_of(start))) / 7;
		if (weeks % interval)
			return 0;
		return has_byday(r) ? (r->byday_any >> wd & 1) : wd == weekday_of(start);
	}
	plein_date d = plein_date_from_days(day), s = plein_date_from_days(start);
	int64_t months = ((int64_t)d.year * 12 + d.month) - ((int64_t)s.year * 12 + s.month);
	if (months % interval)
		return 0;
	if (!has_byday(r))
		return d.day == s.day; /* months without that day are skipped */
	if (r->byday_any >> wd & 1)
		return 1;
	int nth = (d.day - 1) / 7 + 1;
	int nth_from_end = (plein_days_in_month(d.year, d.month) - d.day) / 7 + 1;
	return (r->byday_pos[wd] >> (nth - 1) & 1) || (r->byday_neg[wd] >> (nth_from_end - 1) & 1);
}

int plein_rrule_expand(plein_date **out, size_t *out_n, const plein_rrule *r,
		       const plein_rrule_anchor *a, plein_date from, plein_date to, size_t max)
{
	*out = NULL;
	*out_n = 0;
	int64_t start = plein_date_to_days(a->dtstart);
	int64_t lo = plein_date_to_days(from), hi = plein_date_to_days(to);
	if (a->has_valid_to && plein_date_to_days(a->valid_to) < hi)
		hi = plein_date_to_days(a->valid_to);
	if (r->has_until) {
		/* An UNTIL with a time ends the day's occurrence if it starts later. */
		int64_t last = plein_date_to_days(r->until);
		if (r->until_sec >= 0 && a->start_sec > r->until_sec)
			last--;
		if (last < hi)
			hi = last;
	}
	/* COUNT counts from DTSTART, so then the walk must begin there. */
	int64_t day = r->count || lo < start ? start : lo;
	size_t cap = 0;
	int seen = 0;
	for (; day <= hi; day++) {
		if (!matches(r, start, day))
			continue;
		if (r->count && ++seen > r->count)
			break;
		if (day < lo)
			continue;
		if (*out_n == cap) {
			cap = cap ? cap * 2 : 16;
			*out = plein_xrealloc(*out, cap * sizeof **out);
		}
		(*out)[(*out_n)++] = plein_date_from_days(day);
		if (max && *out_n == max)
			break;
	}
	return 0;
}

int plein_rrule_occurs(const plein_rrule *r, const plein_rrule_anchor *a, plein_date d)
{
	plein_date *dates;
	size_t n;
	plein_rrule_expand(&dates, &n, r, a, d, d, 1);
	free(dates);
	return n == 1;
}
