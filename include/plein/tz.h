/* Time zones: local wall time <-> UTC through the system's zoneinfo
 * (tzdata). Deterministic at the DST changes: an ambiguous local time
 * (the repeated hour in October) is its first instance; a local time that
 * does not exist (the skipped hour in March) is moved forward by the gap. */
#ifndef PLEIN_TZ_H
#define PLEIN_TZ_H

#include <stdint.h>
#include <time.h>

/* The zone exists in the system's zoneinfo ("Europe/Amsterdam"). */
int plein_tz_valid(const char *tz);
/* local: year, month, day, hour, minute (seconds too) are read. */
int plein_tz_local_to_utc(const char *tz, const struct tm *local, int64_t *out_utc);
int plein_tz_utc_to_local(const char *tz, int64_t utc, struct tm *out);
/* Offset from UTC in seconds at that instant (+3600 for CET). */
int plein_tz_offset(const char *tz, int64_t utc, int *out_seconds);

#endif
