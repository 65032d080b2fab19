/* The calendar's clock (now.h): the real clock, or PLEIN_NOW. */
#include "plein/now.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plein/error.h"

/* Does s have this shape? 'd' is a digit, anything else itself. */
static int shaped(const char *s, const char *shape)
{
	for (; *shape; s++, shape++)
		if (*shape == 'd' ? !(*s >= '0' && *s <= '9') : *s != *shape)
			return 0;
	return *s == 0;
}

static int num(const char *s, int n)
{
	int v = 0;
	while (n--)
		v = v * 10 + (*s++ - '0');
	return v;
}

/* PLEIN_NOW as seconds since 1970: 0 when unset, -1 when not a time.
 * Seconds since 1970, YYYY-MM-DD (noon UTC: the same date everywhere in
 * Europe) or YYYY-MM-DDTHH:MM:SSZ. */
static int64_t fixed(void)
{
	const char *e = getenv("PLEIN_NOW");
	struct tm t = { .tm_hour = 12 }, back;
	if (!e || !*e)
		return 0;
	if (e[strspn(e, "0123456789")] == 0 && strlen(e) <= 12)
		return strtoll(e, NULL, 10) > 0 ? strtoll(e, NULL, 10) : -1;
	if (shaped(e, "dddd-dd-ddTdd:dd:ddZ")) {
		t.tm_hour = num(e + 11, 2);
		t.tm_min = num(e + 14, 2);
		t.tm_sec = num(e + 17, 2);
	} else if (!shaped(e, "dddd-dd-dd")) {
		return -1;
	}
	t.tm_year = num(e, 4) - 1900;
	t.tm_mon = num(e + 5, 2) - 1;
	t.tm_mday = num(e + 8, 2);
	back = t;
	time_t v = timegm(&t);
	/* timegm moves 2026-02-30 to March: refuse what it had to move. */
	if (t.tm_year != back.tm_year || t.tm_mon != back.tm_mon || t.tm_mday != back.tm_mday || t.tm_hour != back.tm_hour ||
	    t.tm_min != back.tm_min || t.tm_sec != back.tm_sec || v <= 0)
		return -1;
	return (int64_t)v;
}

int64_t plein_now(void)
{
	int64_t f = fixed();
	return f > 0 ? f : (int64_t)time(NULL);
}

void plein_now_utc(char out[21])
{
	time_t t = (time_t)plein_now();
	struct tm u;
	gmtime_r(&t, &u);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &u);
}

int plein_now_check(void)
{
	if (getenv("PLEIN_TODAY"))
		return plein_fail(PLEIN_EINVAL, "PLEIN_TODAY is no longer read; set the test clock with PLEIN_NOW=YYYY-MM-DD "
				  "instead (docs/test-clock.md), and unset PLEIN_TODAY");
	if (fixed() < 0)
		return plein_fail(PLEIN_EINVAL, "PLEIN_NOW='%s' is not a time; write YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or "
				  "seconds since 1970 (docs/test-clock.md), or unset it", getenv("PLEIN_NOW"));
	return 0;
}
