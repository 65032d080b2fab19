/* The schedule as an iCalendar feed (RFC 5545, docs/ics.md): one VEVENT
 * per rule with RRULE, EXDATE for cancelled dates and RECURRENCE-ID
 * overrides for moved ones, stable UIDs, a Europe/Amsterdam VTIMEZONE, no
 * personal data. For `plein schedule --ics` and /schedule.ics. */
#ifndef PLEIN_ICS_H
#define PLEIN_ICS_H

#include "plein/buf.h"
#include "plein/db.h"

typedef struct plein_ics_filter {
	const char *location_id;  /* NULL: any */
	const char *partner_id;   /* NULL: any */
	const char *theme;        /* term code; NULL: any */
	/* A period (YYYY-MM-DD, inclusive, local dates; both or neither):
	 * only what takes place in it, each rule cut to its dates there.
	 * NULL: every date of every rule. */
	const char *from, *to;
} plein_ics_filter;

/* Append the feed to out. PLEIN_ENOTFOUND for an unknown location,
 * partner or theme; PLEIN_EINVAL for a bad period. */
int plein_ics_feed(plein_buf *out, plein_db *db, const plein_ics_filter *f);

#endif
