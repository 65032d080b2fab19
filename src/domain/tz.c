#include "plein/tz.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plein/buf.h"
#include "plein/error.h"

/* glibc converts through the process-wide TZ; plein is single-threaded
 * where it converts, and restores TZ afterwards. */
static char *saved;

static int enter(const char *tz)
{
	if (!plein_tz_valid(tz))
		return plein_fail(PLEIN_EINVAL, "unknown time zone '%s'; use an IANA name such as Europe/Amsterdam", tz ? tz : "");
	const char *cur = getenv("TZ");
	free(saved);
	saved = cur ? plein_xstrdup(cur) : NULL;
	plein_buf b = PLEIN_BUF_INIT;
	plein_buf_printf(&b, ":%s", tz);
	setenv("TZ", plein_buf_cstr(&b), 1);
	plein_buf_free(&b);
	tzset();
	return 0;
}

static void leave(void)
{
	if (saved)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	free(saved);
	saved = NULL;
	tzset();
}

int plein_tz_valid(const char *tz)
{
	if (!tz || !*tz || tz[0] == '/' || strstr(tz, "..") || strlen(tz) > 64)
		return 0;
	if (strcmp(tz, "UTC") == 0)
		return 1;
	plein_buf b = PLEIN_BUF_INIT;
	plein_buf_printf(&b, "/usr/share/zoneinfo/%s", tz);
	int ok = access(plein_buf_cstr(&b), R_OK) == 0;
	plein_buf_free(&b);
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
	leave();
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
	leave();
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
