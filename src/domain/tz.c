#include "plein/tz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plein/buf.h"
#include "plein/error.h"

/* glibc converts through the process-wide TZ, and tzset() parses the zone
 * file again whenever TZ changes. plein does all of its local-time work
 * through this module (nothing else reads TZ), so TZ stays at the last
 * zone used: a run of conversions in one zone parses its file once, not
 * twice per conversion (the schedule does hundreds per request). plein is
 * single-threaded where it converts. */
static char current[72];

static int enter(const char *tz)
{
	if (!plein_tz_valid(tz))
		return plein_fail(PLEIN_EINVAL, "unknown time zone '%s'; use an IANA name such as Europe/Amsterdam", tz ? tz : "");
	char want[sizeof current];
	snprintf(want, sizeof want, ":%s", tz);
	if (strcmp(want, current) != 0 || !getenv("TZ") || strcmp(getenv("TZ"), current) != 0) {
		memcpy(current, want, sizeof want);
		setenv("TZ", current, 1);
		tzset();
	}
	return 0;
}

int plein_tz_valid(const char *tz)
{
	static char known[65]; /* the last zone found valid: one access() per zone, not per call */
	if (!tz || !*tz || tz[0] == '/' || strstr(tz, "..") || strlen(tz) > 64)
		return 0;
	if (strcmp(tz, "UTC") == 0 || strcmp(tz, known) == 0)
		return 1;
	plein_buf b = PLEIN_BUF_INIT;
	plein_buf_printf(&b, "/usr/share/zoneinfo/%s", tz);
	int ok = access(plein_buf_cstr(&b), R_OK) == 0;
	plein_buf_free(&b);
	if (ok)
		snprintf(known, sizeof known, "%s", tz);
	return ok;
}

static int same_wall(const struct tm *a, const struct tm *b)
{
	return a->tm_year == b->tm_year && a->tm_mon == b->tm_mon && a->tm_mday == b->tm_mday &&
	       a->tm_hour == b->tm_hour && a->tm_min == b->tm_min;
}

int plein_tz_local_to_utc(const char *tz, const struct tm *local, int64_t *out_utc)
{
	int rc = enter(tz);
	if (rc < 0)
		return rc;
	int found = 0;
	int64_t best = 0, standard = 0;
	for (int isdst = 1; isdst >= 0; isdst--) {
		struct tm t = *local, back;
		t.tm_isdst = isdst;
		time_t u = mktime(&t);
		if (isdst == 0)
			standard = (int64_t)u;
		localtime_r(&u, &back);
		if (same_wall(local, &back) && (!found || (int64_t)u < best)) {
			best = (int64_t)u;
			found = 1;
		}
	}
	/* No match: the wall time falls in the gap of spring-forward. Read it
	 * with the offset before the change, which lands after the gap. */
	*out_utc = found ? best : standard;
	return 0;
}

int plein_tz_utc_to_local(const char *tz, int64_t utc, struct tm *out)
{
	int rc = enter(tz);
	if (rc < 0)
		return rc;
	time_t u = (time_t)utc;
	localtime_r(&u, out);
	return 0;
}

int plein_tz_offset(const char *tz, int64_t utc, int *out_seconds)
{
	struct tm t;
	int rc = plein_tz_utc_to_local(tz, utc, &t);
	if (rc == 0)
		*out_seconds = (int)t.tm_gmtoff;
	return rc;
}
