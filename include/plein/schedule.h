/* The schedule: schedule_rule rows expanded into occurrences, with their
 * exceptions (cancel, move) applied, in the location's time zone
 * (docs/schedule.md). An occurrence is named by (rule id, original date)
 * at every site; it is computed, never stored. */
#ifndef PLEIN_SCHEDULE_H
#define PLEIN_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

#include "plein/json.h"
#include "plein/rrule.h"
#include "plein/site.h"

#define PLEIN_DEFAULT_TZ "Europe/Amsterdam"

enum { PLEIN_OCC_PLANNED = 0, PLEIN_OCC_MOVED = 1, PLEIN_OCC_CANCELLED = 2 };

/* One occurrence. Strings are owned by it (NULL when unknown). */
typedef struct {
	char *rule_id;
	char original_date[11]; /* the date the rule gives: half of its identity */
	char date[11];          /* local date it takes place (the new one if moved) */
	char start[6], end[6];  /* local HH:MM in its location's time zone */
	int64_t start_utc, end_utc; /* seconds since the epoch */
	char *location_id, *location, *room;
	char *offering_id, *title, *kind, *theme;
	char *partner_id, *partner;
	int64_t capacity;       /* places; -1: no limit */
	int status;             /* PLEIN_OCC_* */
	char *reason;           /* of the cancellation or move */
} plein_occurrence;

typedef struct {
	plein_occurrence *items; /* sorted by start_utc, then title */
	size_t n;
	/* Rules left out, and exceptions ignored, because their stored data
	 * cannot be used (written by another program): one message each. */
	char **skipped;
	size_t nskipped;
} plein_schedule;

/* Every occurrence whose local date is in [from, to], optionally only at
 * location_id (where it takes place, after a move). Cancelled occurrences
 * are included with status PLEIN_OCC_CANCELLED. */
int plein_schedule_list(plein_schedule *out, plein_site *site, const char *location_id,
			plein_date from, plein_date to);
void plein_schedule_free(plein_schedule *s);

/* The occurrence of rule_id on original_date ("YYYY-MM-DD"), wherever and
 * whenever it now takes place. PLEIN_ENOTFOUND: no such rule; PLEIN_EINVAL:
 * that date is not an occurrence of the rule (the message names the nearest
 * ones). Free with plein_occurrence_clear. */
int plein_schedule_occurrence(plein_occurrence *out, plein_site *site, const char *rule_id,
			      const char *original_date);
void plein_occurrence_clear(plein_occurrence *o);

/* Dutch status label: "gepland", "verplaatst", "vervalt". */
const char *plein_occurrence_status(const plein_occurrence *o);
/* One occurrence as a JSON object (the fields of 'plein schedule --json'). */
void plein_occurrence_json(plein_json *j, const plein_occurrence *o);
/* "YYYY-MM-DDTHH:MM:SSZ". */
void plein_schedule_utc_format(char out[21], int64_t utc);

/* --- writes: each validates everything first and changes nothing on error */

typedef struct {
	const char *offering_id, *location_id;
	const char *rrule;          /* the RRULE subset; stored canonical */
	const char *start, *end;    /* local HH:MM, end after start */
	const char *from;           /* first date; NULL = today */
	const char *until;          /* last date or NULL */
	const char *room;           /* or NULL */
} plein_rule_spec;

/* Add a rule; out_id gets its new id. */
int plein_schedule_add_rule(char out_id[27], plein_site *site, const plein_rule_spec *spec);

/* Cancel the occurrence of rule_id on date (an original date). *out gets
 * the id of the exception (malloc'd): the one that already decided that
 * occurrence, updated, or a new one. */
int plein_schedule_cancel(char **out, plein_site *site, const char *rule_id, const char *date,
			  const char *reason);

typedef struct {
	const char *date;        /* the occurrence's original date */
	const char *to;          /* new local date; NULL = the same date */
	const char *start, *end; /* new local times, end after start */
	const char *location_id; /* new place; NULL = the rule's */
	const char *reason;
} plein_move_spec;

/* Move one occurrence; *out as for plein_schedule_cancel. */
int plein_schedule_move(char **out, plein_site *site, const char *rule_id, const plein_move_spec *m);

#endif
