/* Checks of input from people and programs, shared by the CLI and the
 * HTTP API. Each check_* returns 0, or PLEIN_EINVAL / PLEIN_ENOTFOUND with
 * a message that says what is wrong and what to do. */
#ifndef PLEIN_VALIDATE_H
#define PLEIN_VALIDATE_H

#include <stddef.h>
#include <stdint.h>
#include "plein/site.h"

/* YYYY-MM-DD that exists in the calendar. */
int plein_valid_date(const char *s);
/* HH:MM, 00:00..23:59. */
int plein_valid_time(const char *s);

int plein_check_date(const char *what, const char *s);
int plein_check_time(const char *what, const char *s);
/* ISO 8601 timestamp: "YYYY-MM-DDTHH:MM[:SS](Z|±HH:MM)" or local
 * "YYYY-MM-DD HH:MM" (taken in Europe/Amsterdam); *out_utc is normalised
 * to "YYYY-MM-DDTHH:MM:SSZ" (21 bytes). */
int plein_check_timestamp(const char *what, const char *s, char out_utc[21]);
/* s must be one of allowed (NULL-terminated). */
int plein_check_enum(const char *what, const char *s, const char *const *allowed);
/* A row with this id must exist in table. */
int plein_check_exists(plein_site *site, const char *table, const char *id);
/* A term code of scheme must exist ("theme", "question", "agency"). */
int plein_check_term(plein_site *site, const char *scheme, const char *code);
/* Non-empty text of at most max bytes, no control characters. */
int plein_check_text(const char *what, const char *s, size_t max);

/* Insert a new row: cols[i] = vals[i] (NULL -> SQL NULL; column affinity
 * makes numbers of numeric text). Writes a fresh id to out_id. */
int plein_record_insert(plein_site *site, char out_id[27], const char *table,
			const char *const *cols, const char *const *vals, int n);
/* Update columns of an existing row; PLEIN_ENOTFOUND if there is none. */
int plein_record_update(plein_site *site, const char *table, const char *id,
			const char *const *cols, const char *const *vals, int n);

/* Today's date in Europe/Amsterdam, "YYYY-MM-DD". */
void plein_today(char out[11]);

#endif
