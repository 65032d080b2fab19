/* The calendar's clock (now.h): PLEIN_NOW in its three forms, today in
 * Europe/Amsterdam from it, and a bad value refused, never read. */
#include <stdlib.h>
#include <time.h>

#include "harness.h"
#include "plein/error.h"
#include "plein/now.h"
#include "plein/validate.h"

static void clear(void)
{
	unsetenv("PLEIN_NOW");
	unsetenv("PLEIN_TODAY");
}

TEST(a_date_is_noon_utc_that_day_and_today_everywhere)
{
	char day[11], utc[21];
	setenv("PLEIN_NOW", "2026-11-24", 1);
	CHECK_OK(plein_now_check());
	CHECK_EQ_INT(plein_now(), 1795521600);
	plein_now_utc(utc);
	CHECK_STR(utc, "2026-11-24T12:00:00Z");
	plein_today(day);
	CHECK_STR(day, "2026-11-24");
	clear();
}

TEST(a_utc_time_gives_the_local_date)
{
	char day[11];
	/* 23:30 UTC is 00:30 the next day in Amsterdam (CET, +1). */
	setenv("PLEIN_NOW", "2026-11-24T23:30:00Z", 1);
	CHECK_OK(plein_now_check());
	CHECK_EQ_INT(plein_now(), 1795563000);
	plein_today(day);
	CHECK_STR(day, "2026-11-25");
	clear();
}

TEST(seconds_since_1970)
{
	char utc[21];
	setenv("PLEIN_NOW", "1795563000", 1);
	CHECK_OK(plein_now_check());
	plein_now_utc(utc);
	CHECK_STR(utc, "2026-11-24T23:30:00Z");
	clear();
}

TEST(a_bad_value_is_refused_and_never_read)
{
	static const char *const bad[] = { "morgen", "2026-02-30", "2026-11-24T25:00:00Z", "2026-11-24T12:00:00", "0",
					   "2026-11-24 ", "-5", "2026-1-24", "1234567890123" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		setenv("PLEIN_NOW", bad[i], 1);
		if (plein_now_check() != PLEIN_EINVAL || !strstr(plein_error(), "is not a time"))
			FAIL_AT("PLEIN_NOW='%s' was accepted", bad[i]);
		int64_t before = (int64_t)time(NULL), now = plein_now(), after = (int64_t)time(NULL);
		if (now < before || now > after)
			FAIL_AT("PLEIN_NOW='%s' was read as %lld", bad[i], (long long)now);
	}
	clear();
}

TEST(the_old_PLEIN_TODAY_is_refused_with_its_successor)
{
	setenv("PLEIN_TODAY", "2026-11-24", 1);
	CHECK(plein_now_check() == PLEIN_EINVAL);
	CHECK(strstr(plein_error(), "PLEIN_NOW=YYYY-MM-DD") != NULL);
	clear();
}

TEST(unset_is_the_real_clock)
{
	clear();
	CHECK_OK(plein_now_check());
	int64_t before = (int64_t)time(NULL), now = plein_now(), after = (int64_t)time(NULL);
	CHECK(now >= before && now <= after);
}
