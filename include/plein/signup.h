/* Sign-ups (docs/signup.md): who has a place in an occurrence and who
 * waits is derived from the merged state by one rule, the view
 * signup_place (schema/004_lifecycle.sql), so every site that holds the
 * same changes shows the same bookings and the same waitlist, and a
 * cancellation moves the same person up everywhere, without writing. */
#ifndef PLEIN_SIGNUP_H
#define PLEIN_SIGNUP_H

#include <stdint.h>

#include "plein/buf.h"
#include "plein/site.h"

/* The places of one occurrence (rule + original date), by signup_place. */
typedef struct {
	int64_t capacity;   /* -1: no limit */
	int64_t queued;     /* sign-ups not cancelled */
	int64_t taken;      /* places taken: booked, attended, no_show */
	int64_t waitlisted;
} plein_signup_places;

int plein_signup_count(plein_signup_places *out, plein_site *s, const char *rule, const char *date);

/* The effective status (malloc'd) and waitlist position (0: none) of one
 * sign-up; PLEIN_ENOTFOUND when there is none. */
int plein_signup_status(char **out_status, int64_t *out_position, plein_site *s, const char *id);

/* The ids of the occurrence's sign-ups whose effective status is status,
 * one per line, in queue order. */
int plein_signup_ids(plein_buf *out, plein_site *s, const char *rule, const char *date, const char *status);

/* Register plein_siteid(pk) -> site id text (NULL unless a 32-byte key),
 * to name a site the roster does not know. */
int plein_signup_sql_register(plein_site *s);

#endif
