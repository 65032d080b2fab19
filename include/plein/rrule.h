/* Recurrence rules: the RFC 5545 RRULE subset plein keeps for a schedule
 * (docs/schedule.md), and their expansion into civil dates. Pure: no time
 * zone, no database. Dates are proleptic Gregorian calendar dates. */
#ifndef PLEIN_RRULE_H
#define PLEIN_RRULE_H

#include <stddef.h>
#include <stdint.h>

#include "plein/buf.h"

/* --- civil dates -------------------------------------------------------- */

typedef struct {
	int year, month, day; /* 2026, 1..12, 1..31 */
} plein_date;

int plein_days_in_month(int year, int month);
/* Days since 1970-01-01 (negative before it). */
int64_t plein_date_to_days(plein_date d);
plein_date plein_date_from_days(int64_t days);
plein_date plein_date_add(plein_date d, int64_t days);
/* <0, 0, >0 as a is before, on, after b. */
int plein_date_cmp(plein_date a, plein_date b);
/* 0 = Monday ... 6 = Sunday (ISO 8601 order, as RFC 5545's WKST=MO). */
int plein_date_weekday(plein_date d);
/* "YYYY-MM-DD", a day that exists, years 1..9999: 0, or PLEIN_EINVAL
 * (no message: callers name the input). */
int plein_date_parse(plein_date *out, const char *s);
void plein_date_format(char out[11], plein_date d);

/* --- the RRULE subset --------------------------------------------------- */

enum { PLEIN_RRULE_WEEKLY = 1, PLEIN_RRULE_MONTHLY = 2 };

#define PLEIN_RRULE_MAX_LEN 256  /* longest RRULE text accepted */
#define PLEIN_RRULE_MAX_INTERVAL 99
#define PLEIN_RRULE_MAX_COUNT 9999

typedef struct {
	int freq;              /* PLEIN_RRULE_WEEKLY or _MONTHLY */
	int interval;          /* 1.. PLEIN_RRULE_MAX_INTERVAL */
	int count;             /* 0: no COUNT */
	int has_until;
	plein_date until;      /* UNTIL's date */
	int until_sec;         /* UNTIL's time of day in seconds; -1: DATE form */
	int until_utc;         /* UNTIL ended in Z: until/until_sec are UTC */
	/* BYDAY as bit sets, weekday 0 = MO: byday_any bit w = every such
	 * weekday; byday_pos[w] bit n-1 = the nth of the month (nTU);
	 * byday_neg[w] bit n-1 = the nth from the end (-nTU). All zero: no
	 * BYDAY, the weekday or day of month of DTSTART is used. */
	unsigned char byday_any;
	unsigned char byday_pos[7];
	unsigned char byday_neg[7];
} plein_rrule;

/* Parse RRULE text ("FREQ=WEEKLY;BYDAY=TU,TH", an "RRULE:" prefix is
 * allowed; names and values are case-insensitive). Anything outside the
 * subset fails with PLEIN_EINVAL and a message naming the part. */
int plein_rrule_parse(plein_rrule *out, const char *text);
/* The canonical text of a rule (what plein stores): parts in the order
 * FREQ, INTERVAL (if not 1), BYDAY (MO..SU), UNTIL, COUNT. Appends to out. */
void plein_rrule_format(plein_buf *out, const plein_rrule *r);

/* Where a rule is anchored: its schedule_rule row. */
typedef struct {
	plein_date dtstart;  /* valid_from: the first date it may occur */
	int has_valid_to;
	plein_date valid_to; /* last date it may occur, inclusive */
	int start_sec;       /* local start time of day, compared with an UNTIL
			      * that has a time (which must be local by now) */
} plein_rrule_anchor;

/* The occurrence dates of r in [from, to], ascending, into a malloc'd
 * array (*out may be NULL when *out_n is 0). COUNT counts from dtstart;
 * max > 0 stops after that many dates. */
int plein_rrule_expand(plein_date **out, size_t *out_n, const plein_rrule *r,
		       const plein_rrule_anchor *a, plein_date from, plein_date to, size_t max);
/* 1 if d is an occurrence of r, else 0. */
int plein_rrule_occurs(const plein_rrule *r, const plein_rrule_anchor *a, plein_date d);

#endif
