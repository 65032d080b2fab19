/* The referral lifecycle's pure rules (docs/referral.md): when a referral
 * is due, when 'unreachable' is suggested, the local day of a UTC time. */
#include <stdlib.h>

#include "harness.h"
#include "plein/referral.h"

TEST(due_by_follow_up_date_today_or_earlier)
{
	CHECK_EQ_INT(plein_referral_due("2026-11-24", "new", "2026-11-24", "2026-11-24", 7), PLEIN_DUE_FOLLOW_UP);
	CHECK_EQ_INT(plein_referral_due("2026-11-24", "contacted", "2026-10-01", "2026-11-24", 7), PLEIN_DUE_FOLLOW_UP);
	CHECK_EQ_INT(plein_referral_due("2026-11-24", "appointment", "2026-11-25", "2026-11-24", 7), PLEIN_DUE_NOT);
	CHECK_EQ_INT(plein_referral_due("2026-11-24", NULL, "2026-11-23", NULL, 0), PLEIN_DUE_FOLLOW_UP);
}

TEST(due_when_not_moved_for_stale_days)
{
	CHECK_EQ_INT(plein_referral_due("2026-11-24", "new", NULL, "2026-11-17", 7), PLEIN_DUE_STALE);
	CHECK_EQ_INT(plein_referral_due("2026-11-24", "new", NULL, "2026-11-18", 7), PLEIN_DUE_NOT);
	/* across a month and a year end */
	CHECK_EQ_INT(plein_referral_due("2027-01-03", "contacted", "2027-02-01", "2026-12-27", 7), PLEIN_DUE_STALE);
	CHECK_EQ_INT(plein_referral_due("2027-01-03", "contacted", NULL, "2026-12-28", 7), PLEIN_DUE_NOT);
	/* 0 turns the rule off; an unknown movement is never stale */
	CHECK_EQ_INT(plein_referral_due("2026-11-24", "new", NULL, "2000-01-01", 0), PLEIN_DUE_NOT);
	CHECK_EQ_INT(plein_referral_due("2026-11-24", "new", NULL, NULL, 7), PLEIN_DUE_NOT);
	/* the follow-up date is said first */
	CHECK_EQ_INT(plein_referral_due("2026-11-24", "new", "2026-11-01", "2026-01-01", 7), PLEIN_DUE_FOLLOW_UP);
}

TEST(closed_referrals_are_never_due)
{
	const char *ends[] = { "done", "declined", "unreachable" };
	for (int i = 0; i < 3; i++) {
		CHECK(plein_referral_closed(ends[i]));
		CHECK_EQ_INT(plein_referral_due("2026-11-24", ends[i], "2026-01-01", "2026-01-01", 7), PLEIN_DUE_NOT);
	}
	CHECK(!plein_referral_closed(NULL));
	CHECK(!plein_referral_closed("appointment"));
}

TEST(dates_that_do_not_parse_count_as_absent)
{
	CHECK_EQ_INT(plein_referral_due("2026-11-24", "new", "24-11-2026", "2026-11-24", 7), PLEIN_DUE_NOT);
	CHECK_EQ_INT(plein_referral_due("2026-11-24", "new", "2026-02-30", "morgen", 7), PLEIN_DUE_NOT);
	CHECK_EQ_INT(plein_referral_due("gisteren", "new", "2026-01-01", "2026-01-01", 7), PLEIN_DUE_NOT);
	CHECK_STR(plein_referral_due_name(PLEIN_DUE_FOLLOW_UP), "follow_up");
	CHECK_STR(plein_referral_due_name(PLEIN_DUE_STALE), "stale");
	CHECK(plein_referral_due_name(PLEIN_DUE_NOT) == NULL);
}

TEST(unreachable_is_suggested_at_the_agreed_attempts)
{
	CHECK(!plein_referral_suggest_unreachable("contacted", 2, 3));
	CHECK(plein_referral_suggest_unreachable("contacted", 3, 3));
	CHECK(plein_referral_suggest_unreachable(NULL, 4, 3));
	CHECK(!plein_referral_suggest_unreachable("new", 9, 0)); /* nothing agreed */
	CHECK(!plein_referral_suggest_unreachable("done", 3, 3));
	CHECK(!plein_referral_suggest_unreachable("unreachable", 3, 3));
}

TEST(local_day_of_utc_times_in_amsterdam)
{
	char d[11];
	CHECK_OK(plein_referral_local_day(d, "2026-11-24T13:05:00Z"));
	CHECK_STR(d, "2026-11-24");
	CHECK_OK(plein_referral_local_day(d, "2026-11-24T23:30:00.125Z")); /* CET: 00:30 the next day */
	CHECK_STR(d, "2026-11-25");
	CHECK_OK(plein_referral_local_day(d, "2026-06-30T22:00:00Z")); /* CEST: midnight */
	CHECK_STR(d, "2026-07-01");
	CHECK_OK(plein_referral_local_day(d, "2026-06-30T21:59:59Z"));
	CHECK_STR(d, "2026-06-30");
	CHECK_OK(plein_referral_local_day(d, "2026-12-31T23:00:00Z"));
	CHECK_STR(d, "2027-01-01");
}

TEST(local_day_refuses_what_is_no_utc_time)
{
	char d[11];
	const char *bad[] = { "", "2026-11-24", "2026-11-24 13:05:00Z", "2026-11-24T13:05:00", "2026-11-24T13:05:00+01:00",
			      "2026-11-24T25:05:00Z", "2026-02-30T10:00:00Z", "2026-11-24T13:05:00.Zx", "2026-11-24T1:05:00Z",
			      "2026-11-24T13:05:0xZ", "2026-11-24T13:05:00ZZ" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (plein_referral_local_day(d, bad[i]) != PLEIN_EINVAL)
			FAIL_AT("'%s' was accepted as %s", bad[i], d);
	CHECK(plein_referral_local_day(d, NULL) == PLEIN_EINVAL);
}

