/* The record commands shared by the CLI and the HTTP API (domain.md): the
 * offer, visits, referrals, sign-ups and the site's status. Each write
 * checks all of its input first, writes in one transaction and changes
 * nothing on error; the caller seals afterwards.
 *
 * Messages name a field the way its user wrote it: as a CLI option
 * ("--contact-email") or as a JSON field ("contact_email"). */
#ifndef PLEIN_RECORDS_H
#define PLEIN_RECORDS_H

#include <sqlite3.h>
#include <stdint.h>

#include "plein/buf.h"
#include "plein/json.h"
#include "plein/rrule.h"
#include "plein/site.h"

typedef enum { PLEIN_NAMES_CLI = 0, PLEIN_NAMES_JSON = 1 } plein_names;

/* opt is the CLI spelling without dashes ("contact-email"): out gets
 * "--contact-email" or "contact_email"; returns out. */
const char *plein_field(char out[48], plein_names names, const char *opt);
/* The same, for use inside one expression (a call's argument). */
#define PLEIN_FIELD(names, opt) plein_field((char[48]){ 0 }, (names), (opt))

/* Limits of whole-number fields, the same from every face. */
#define PLEIN_MAX_ATTEMPTS_MAX 100
#define PLEIN_CAPACITY_MAX 100000
#define PLEIN_MINUTES_MAX (24 * 60)

/* Whole number n from lo to hi, or the message the CLI gives. */
int plein_check_range(plein_names names, const char *opt, long n, long lo, long hi);

/* --- rows as JSON ------------------------------------------------------ */
/* One row of st as a JSON object, keys = column names (a blob, which is
 * sealed data, shows as "(sealed)"). */
void plein_json_row(plein_json *j, sqlite3_stmt *st);
/* Every row of st as a JSON array, then a newline; steps st to the end
 * and resets it. */
int plein_json_rows(plein_buf *out, sqlite3_stmt *st);

/* --- the offer (offer.c) ----------------------------------------------- */
typedef struct {
	const char *name, *kind, *address;
	const char *tz; /* NULL: Europe/Amsterdam */
} plein_location_spec;
int plein_location_add(char out_id[27], plein_site *s, const plein_location_spec *sp, plein_names names);

typedef struct {
	const char *name, *kind, *website, *phone, *email, *reachable, *referral_method;
	long max_attempts;   /* -1: none agreed */
	const char *site_id; /* its plein site, or NULL */
} plein_partner_spec;
int plein_partner_add(char out_id[27], plein_site *s, const plein_partner_spec *sp, plein_names names);

typedef struct {
	const char *partner_id, *theme, *kind, *title, *description;
	long capacity; /* -1: no limit */
	int signup;    /* sign-up required */
} plein_offering_spec;
int plein_offering_add(char out_id[27], plein_site *s, const plein_offering_spec *sp, plein_names names);

/* The listings (lent cached statements, ready to step). */
sqlite3_stmt *plein_location_list(plein_site *s);
sqlite3_stmt *plein_partner_list(plein_site *s);
sqlite3_stmt *plein_offering_list(plein_site *s);

/* --- the programme's period (offer.c) ----------------------------------- */
/* from/to as given (NULL: not given): default Monday..Sunday of this
 * week; one given alone makes a week with it; at most ten years. */
int plein_schedule_period(plein_date *out_from, plein_date *out_to, const char *from, const char *to,
			  plein_names names);

/* --- visits (visit.c) --------------------------------------------------- */
typedef struct {
	const char *location_id;
	const char *const *themes; /* one question per theme */
	int nthemes;
	const char *kind, *agency, *partner_id; /* or NULL */
	const char *channel; /* NULL: walk_in */
	const char *at;      /* NULL: now; else an ISO 8601 or local timestamp */
	int solved;
	long minutes;        /* -1: not recorded */
} plein_visit_spec;
int plein_visit_add(char out_id[27], plein_site *s, const plein_visit_spec *sp, plein_names names);
/* Visits with local day and time, optionally at a location and within
 * local dates [from, to]; *out is a lent statement ready to step. */
int plein_visit_list(sqlite3_stmt **out, plein_site *s, const char *location_id, const char *from,
		     const char *to, plein_names names);

/* --- referrals (referral.c) --------------------------------------------- */
typedef struct {
	const char *to_partner_id, *theme;
	const char *question_id, *offering_id, *follow_up; /* or NULL */
	const char *contact_name, *contact_phone, *contact_email, *note; /* sealed; or NULL */
	const char *by; /* the staff member, for the history; or NULL */
} plein_referral_spec;
int plein_referral_add(char out_id[27], plein_site *s, const plein_referral_spec *sp, plein_names names);
/* Move a referral along new -> contacted -> appointment -> an end. */
int plein_referral_set(plein_site *s, const char *id, const char *status, const char *outcome, const char *by,
		       plein_names names);
/* Count one more contact attempt: *out_attempts the new count, *out_max
 * the partner's agreed limit (0: none). */
int plein_referral_attempt(plein_site *s, const char *id, int64_t *out_attempts, int64_t *out_max);
/* open: only open ones; due: open, and the follow-up date has come or it
 * has not moved in referral.stale_days (docs/referral.md). */
int plein_referral_list(sqlite3_stmt **out, plein_site *s, int open, int due);
/* One referral as text for people or as JSON ('plein referral show'):
 * contact details only where this site can open them. */
int plein_referral_show(plein_buf *out, plein_site *s, const char *id, int json);

/* --- sign-ups (signup.c) ------------------------------------------------ */
/* A place in the occurrence of rule on date (booked or waitlisted). */
int plein_signup_add(char out_id[27], plein_site *s, const char *rule_id, const char *date, const char *who,
		     plein_names names);
/* Appends the ids moved up from the waitlist to promoted, one per line. */
int plein_signup_set(plein_buf *promoted, plein_site *s, const char *id, const char *status, plein_names names);
int plein_signup_list(sqlite3_stmt **out, plein_site *s, const char *rule_id, const char *date, plein_names names);

/* --- status (status.c) -------------------------------------------------- */
/* 'plein status': identity, unsealed changes, version vector, peers,
 * records; as text or as one JSON document. */
int plein_status_write(plein_buf *out, plein_site *s, int json);

#endif
