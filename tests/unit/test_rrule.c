/* rrule: civil-date arithmetic, parsing of the RRULE subset (every
 * rejection too), canonical text, and expansion into dates. */
#include "harness.h"
#include "plein/buf.h"
#include "plein/rrule.h"

static plein_date D(const char *s)
{
	plein_date d = { 0, 0, 0 };
	if (plein_date_parse(&d, s) < 0)
		fprintf(stderr, "# bad test date %s\n", s);
	return d;
}

/* The dates of rrule anchored at dtstart (valid_to may be NULL; start is
 * the local start time "HH:MM") in [from, to], space separated, or
 * "error: <message>". */
static const char *expand_at(const char *rrule, const char *dtstart, const char *valid_to, const char *start,
			     const char *from, const char *to)
{
	static char out[8192];
	plein_rrule r;
	plein_rrule_anchor a = {0};
	if (plein_rrule_parse(&r, rrule) < 0) {
		snprintf(out, sizeof out, "error: %s", plein_error());
		return out;
	}
	a.dtstart = D(dtstart);
	if (valid_to) {
		a.has_valid_to = 1;
		a.valid_to = D(valid_to);
	}
	a.start_sec = (atoi(start) * 60 + atoi(start + 3)) * 60;
	plein_date *dates;
	size_t n;
	plein_rrule_expand(&dates, &n, &r, &a, D(from), D(to), 0);
	out[0] = 0;
	for (size_t i = 0; i < n; i++) {
		char d[11];
		plein_date_format(d, dates[i]);
		snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s", i ? " " : "", d);
	}
	free(dates);
	return out;
}

static const char *expand(const char *rrule, const char *dtstart, const char *from, const char *to)
{
	return expand_at(rrule, dtstart, NULL, "10:00", from, to);
}

/* The canonical text of rrule, or "error: <message>". */
static const char *canon(const char *rrule)
{
	static char out[512];
	plein_rrule r;
	if (plein_rrule_parse(&r, rrule) < 0) {
		snprintf(out, sizeof out, "error: %s", plein_error());
		return out;
	}
	plein_buf b = PLEIN_BUF_INIT;
	plein_rrule_format(&b, &r);
	snprintf(out, sizeof out, "%s", plein_buf_cstr(&b));
	plein_buf_free(&b);
	return out;
}

/* rrule is refused with a message containing want. */
static int refused(const char *rrule, const char *want)
{
	plein_rrule r;
	int rc = plein_rrule_parse(&r, rrule);
	if (rc != PLEIN_EINVAL || !strstr(plein_error(), want)) {
		printf("# '%s' -> rc %d, message '%s' (wanted '%s')\n", rrule, rc, rc ? plein_error() : "", want);
		return 0;
	}
	return 1;
}

TEST(date_days_known_values)
{
	CHECK_EQ_INT(plein_date_to_days(D("1970-01-01")), 0);
	CHECK_EQ_INT(plein_date_to_days(D("2000-03-01")), 11017);
	CHECK_EQ_INT(plein_date_to_days(D("2026-11-24")), 20781);
	CHECK_EQ_INT(plein_date_to_days((plein_date){ 1, 1, 1 }), -719162);
	CHECK_EQ_INT(plein_date_to_days(D("9999-12-31")), 2932896);
	CHECK_EQ_INT(plein_date_weekday(D("2026-03-29")), 6); /* Sunday */
	CHECK_EQ_INT(plein_date_weekday(D("2026-11-24")), 1); /* Tuesday */
	CHECK_EQ_INT(plein_date_weekday(D("1970-01-01")), 3); /* Thursday */
	CHECK_EQ_INT(plein_date_weekday((plein_date){ 1969, 12, 29 }), 0); /* Monday, before the epoch */
}

TEST(date_days_round_trip_day_by_day)
{
	/* Walk the calendar by hand from 1899-12-31 to 2101-01-01 and check
	 * both conversions against it. */
	plein_date d = { 1899, 12, 31 };
	int64_t n = plein_date_to_days(d);
	for (; d.year < 2101; n++) {
		plein_date back = plein_date_from_days(n);
		if (plein_date_cmp(back, d) != 0 || plein_date_to_days(d) != n)
			FAIL_AT("day %lld: %04d-%02d-%02d vs %04d-%02d-%02d", (long long)n, back.year, back.month, back.day,
				d.year, d.month, d.day);
		if (++d.day > plein_days_in_month(d.year, d.month)) {
			d.day = 1;
			if (++d.month > 12) {
				d.month = 1;
				d.year++;
			}
		}
	}
	CHECK_EQ_INT(n, plein_date_to_days(D("2101-01-01")));
	CHECK_EQ_INT(n - plein_date_to_days((plein_date){ 1899, 12, 31 }), 73415);
}

TEST(date_parse_and_format)
{
	plein_date d;
	char s[11];
	CHECK_OK(plein_date_parse(&d, "2024-02-29"));
	CHECK_OK(plein_date_parse(&d, "2000-02-29"));
	CHECK_EQ_INT(plein_date_parse(&d, "2026-02-29"), PLEIN_EINVAL);
	CHECK_EQ_INT(plein_date_parse(&d, "1900-02-29"), PLEIN_EINVAL);
	CHECK_EQ_INT(plein_date_parse(&d, "2026-02-30"), PLEIN_EINVAL);
	CHECK_EQ_INT(plein_date_parse(&d, "2026-13-01"), PLEIN_EINVAL);
	CHECK_EQ_INT(plein_date_parse(&d, "2026-04-31"), PLEIN_EINVAL);
	CHECK_EQ_INT(plein_date_parse(&d, "2026-1-01"), PLEIN_EINVAL);
	CHECK_EQ_INT(plein_date_parse(&d, "2026-01-01x"), PLEIN_EINVAL);
	CHECK_EQ_INT(plein_date_parse(&d, "0000-01-01"), PLEIN_EINVAL);
	CHECK_EQ_INT(plein_date_parse(&d, NULL), PLEIN_EINVAL);
	CHECK_OK(plein_date_parse(&d, "2026-12-31"));
	plein_date_format(s, plein_date_add(d, 1));
	CHECK_STR(s, "2027-01-01");
	plein_date_format(s, plein_date_add(D("2024-03-01"), -1));
	CHECK_STR(s, "2024-02-29");
	CHECK(plein_date_cmp(D("2026-01-31"), D("2026-02-01")) < 0);
	CHECK(plein_date_cmp(D("2026-02-01"), D("2026-01-31")) > 0);
	CHECK_EQ_INT(plein_date_cmp(D("2026-02-01"), D("2026-02-01")), 0);
}

TEST(parse_fields)
{
	plein_rrule r;
	CHECK_OK(plein_rrule_parse(&r, "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;COUNT=10"));
	CHECK_EQ_INT(r.freq, PLEIN_RRULE_WEEKLY);
	CHECK_EQ_INT(r.interval, 2);
	CHECK_EQ_INT(r.count, 10);
	CHECK_EQ_INT(r.has_until, 0);
	CHECK_EQ_INT(r.byday_any, (1 << 1) | (1 << 3));
	CHECK_OK(plein_rrule_parse(&r, "FREQ=MONTHLY;BYDAY=1TU,-1FR,2WE;UNTIL=20261231T235959Z"));
	CHECK_EQ_INT(r.freq, PLEIN_RRULE_MONTHLY);
	CHECK_EQ_INT(r.interval, 1);
	CHECK_EQ_INT(r.byday_any, 0);
	CHECK_EQ_INT(r.byday_pos[1], 1);
	CHECK_EQ_INT(r.byday_pos[2], 2);
	CHECK_EQ_INT(r.byday_neg[4], 1);
	CHECK_EQ_INT(r.has_until, 1);
	CHECK_EQ_INT(plein_date_cmp(r.until, D("2026-12-31")), 0);
	CHECK_EQ_INT(r.until_sec, 23 * 3600 + 59 * 60 + 59);
	CHECK_EQ_INT(r.until_utc, 1);
	CHECK_OK(plein_rrule_parse(&r, "FREQ=WEEKLY;UNTIL=20260301"));
	CHECK_EQ_INT(r.until_sec, -1);
	CHECK_EQ_INT(r.until_utc, 0);
}

TEST(canonical_text)
{
	CHECK_STR(canon("FREQ=WEEKLY;BYDAY=TU"), "FREQ=WEEKLY;BYDAY=TU");
	CHECK_STR(canon("freq=weekly;byday=th,tu;interval=2"), "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH");
	CHECK_STR(canon("RRULE:FREQ=MONTHLY;BYDAY=-1FR,+1TU"), "FREQ=MONTHLY;BYDAY=1TU,-1FR");
	CHECK_STR(canon("FREQ=WEEKLY;INTERVAL=1;COUNT=005"), "FREQ=WEEKLY;COUNT=5");
	CHECK_STR(canon("UNTIL=20261231;FREQ=MONTHLY"), "FREQ=MONTHLY;UNTIL=20261231");
	CHECK_STR(canon("FREQ=MONTHLY;UNTIL=20261231T120000"), "FREQ=MONTHLY;UNTIL=20261231T120000");
	CHECK_STR(canon("FREQ=MONTHLY;UNTIL=20261231T120000Z"), "FREQ=MONTHLY;UNTIL=20261231T120000Z");
	CHECK_STR(canon("FREQ=MONTHLY;BYDAY=MO,1MO,-2MO,5SU"), "FREQ=MONTHLY;BYDAY=MO,1MO,-2MO,5SU");
}

TEST(canonical_text_parses_back_to_the_same_rule)
{
	static const char *const rules[] = {
		"FREQ=WEEKLY", "FREQ=WEEKLY;INTERVAL=3;BYDAY=MO,WE,FR,SU;COUNT=9999",
		"FREQ=MONTHLY;INTERVAL=99;BYDAY=1MO,2TU,3WE,4TH,5FR,SA,-1SA,-5SU;UNTIL=99991231T000000Z",
		"FREQ=MONTHLY;UNTIL=00010101",
	};
	for (size_t i = 0; i < sizeof rules / sizeof *rules; i++) {
		plein_rrule a, b;
		plein_buf t = PLEIN_BUF_INIT;
		CHECK_OK(plein_rrule_parse(&a, rules[i]));
		plein_rrule_format(&t, &a);
		int rc = plein_rrule_parse(&b, plein_buf_cstr(&t));
		int same = rc == 0 && memcmp(&a, &b, sizeof a) == 0 && strcmp(plein_buf_cstr(&t), rules[i]) == 0;
		if (!same)
			printf("# %s -> %s\n", rules[i], plein_buf_cstr(&t));
		plein_buf_free(&t);
		CHECK(same);
	}
}

TEST(parse_rejects_other_frequencies_and_parts)
{
	CHECK(refused("FREQ=DAILY", "FREQ=DAILY is not supported; use FREQ=WEEKLY or FREQ=MONTHLY"));
	CHECK(refused("FREQ=YEARLY", "FREQ=YEARLY is not supported"));
	CHECK(refused("FREQ=HOURLY", "FREQ=HOURLY is not supported"));
	CHECK(refused("FREQ=WEEKLY;BYMONTHDAY=1", "BYMONTHDAY is not supported; plein takes FREQ=WEEKLY|MONTHLY"));
	CHECK(refused("FREQ=MONTHLY;BYDAY=TU;BYSETPOS=1", "BYSETPOS is not supported"));
	CHECK(refused("FREQ=WEEKLY;WKST=SU", "WKST is not supported"));
	CHECK(refused("FREQ=MONTHLY;BYMONTH=3", "BYMONTH is not supported"));
	CHECK(refused("FREQ=WEEKLY;BYHOUR=10", "BYHOUR is not supported"));
	CHECK(refused("FREQ=WEEKLY;COLOUR=RED", "'COLOUR' is unknown; plein takes"));
	CHECK(refused("BYDAY=TU", "needs FREQ=WEEKLY or FREQ=MONTHLY"));
	CHECK(refused("FREQ=WEEKLY;UNTIL=20261231;COUNT=3", "both UNTIL and COUNT"));
	CHECK(refused("FREQ=WEEKLY;BYDAY=1TU", "needs FREQ=MONTHLY"));
	CHECK(refused("BYDAY=-1FR;FREQ=WEEKLY", "needs FREQ=MONTHLY"));
}

TEST(parse_rejects_duplicates)
{
	CHECK(refused("FREQ=WEEKLY;FREQ=MONTHLY", "gives FREQ twice"));
	CHECK(refused("FREQ=WEEKLY;FREQ=WEEKLY", "gives FREQ twice"));
	CHECK(refused("FREQ=WEEKLY;BYDAY=TU;BYDAY=TH", "gives BYDAY twice"));
	CHECK(refused("FREQ=WEEKLY;INTERVAL=2;INTERVAL=2", "gives INTERVAL twice"));
	CHECK(refused("FREQ=WEEKLY;COUNT=2;COUNT=3", "gives COUNT twice"));
	CHECK(refused("FREQ=WEEKLY;UNTIL=20261231;UNTIL=20261231", "gives UNTIL twice"));
	CHECK(refused("FREQ=WEEKLY;BYDAY=TU,TU", "names 'TU' twice"));
	CHECK(refused("FREQ=MONTHLY;BYDAY=1TU,+1TU", "names '+1TU' twice"));
}

TEST(parse_rejects_bad_numbers)
{
	CHECK(refused("FREQ=WEEKLY;INTERVAL=0", "INTERVAL must be a whole number from 1 to 99"));
	CHECK(refused("FREQ=WEEKLY;INTERVAL=-1", "INTERVAL=-1"));
	CHECK(refused("FREQ=WEEKLY;INTERVAL=x", "INTERVAL=X"));
	CHECK(refused("FREQ=WEEKLY;INTERVAL=1.5", "INTERVAL must be"));
	CHECK(refused("FREQ=WEEKLY;INTERVAL=100", "from 1 to 99"));
	CHECK(refused("FREQ=WEEKLY;INTERVAL=99999999999", "INTERVAL must be"));
	CHECK(refused("FREQ=WEEKLY;INTERVAL=", "INTERVAL has no value"));
	CHECK(refused("FREQ=WEEKLY;COUNT=0", "COUNT must be a whole number from 1 to 9999"));
	CHECK(refused("FREQ=WEEKLY;COUNT=10000", "COUNT must be"));
	CHECK(refused("FREQ=WEEKLY;COUNT=+3", "COUNT must be"));
}

TEST(parse_rejects_bad_byday)
{
	CHECK(refused("FREQ=WEEKLY;BYDAY=XX", "BYDAY 'XX' is not a weekday"));
	CHECK(refused("FREQ=WEEKLY;BYDAY=TUE", "BYDAY 'TUE' is not a weekday"));
	CHECK(refused("FREQ=WEEKLY;BYDAY=", "BYDAY has no value"));
	CHECK(refused("FREQ=WEEKLY;BYDAY=TU,", "BYDAY has an empty entry"));
	CHECK(refused("FREQ=WEEKLY;BYDAY=,TU", "BYDAY has an empty entry"));
	CHECK(refused("FREQ=MONTHLY;BYDAY=+TU", "BYDAY '+TU' is not a weekday"));
	CHECK(refused("FREQ=MONTHLY;BYDAY=6TU", "BYDAY '6TU': the week of the month must be 1 to 5 or -1 to -5"));
	CHECK(refused("FREQ=MONTHLY;BYDAY=0TU", "BYDAY '0TU'"));
	CHECK(refused("FREQ=MONTHLY;BYDAY=-6FR", "BYDAY '-6FR'"));
	CHECK(refused("FREQ=MONTHLY;BYDAY=1234TU", "is not a weekday"));
}

TEST(parse_rejects_bad_until)
{
	CHECK(refused("FREQ=WEEKLY;UNTIL=20260230", "UNTIL=20260230 is not a date or date-time"));
	CHECK(refused("FREQ=WEEKLY;UNTIL=2026123", "UNTIL=2026123 is not"));
	CHECK(refused("FREQ=WEEKLY;UNTIL=2026-12-31", "UNTIL=2026-12-31 is not"));
	CHECK(refused("FREQ=WEEKLY;UNTIL=20261231T250000Z", "UNTIL=20261231T250000Z is not"));
	CHECK(refused("FREQ=WEEKLY;UNTIL=20261231T126000", "is not"));
	CHECK(refused("FREQ=WEEKLY;UNTIL=20261231T1200Z", "is not"));
	CHECK(refused("FREQ=WEEKLY;UNTIL=20261231T120000X", "is not"));
	CHECK(refused("FREQ=WEEKLY;UNTIL=00000101", "is not"));
}

TEST(parse_rejects_bad_syntax)
{
	CHECK(refused("", "the RRULE is empty"));
	CHECK(refused(NULL, "the RRULE is empty"));
	CHECK(refused("FREQ=WEEKLY;", "empty part"));
	CHECK(refused("FREQ=WEEKLY;;BYDAY=TU", "empty part"));
	CHECK(refused(";FREQ=WEEKLY", "empty part"));
	CHECK(refused("FREQ", "'FREQ' is not NAME=VALUE"));
	CHECK(refused("FREQ=WEEKLY; BYDAY=TU", "contains a space"));
	CHECK(refused("FREQ=WEEKLY;BYDAY=TU\n", "contains a space"));
	CHECK(refused("FREQ=WEEKLY;BYDAY=D\xc3\x8b", "outside ASCII"));
	CHECK(refused("FREQ=", "FREQ has no value"));
	char longer[PLEIN_RRULE_MAX_LEN + 40];
	snprintf(longer, sizeof longer, "FREQ=WEEKLY;BYDAY=TU%0*d", PLEIN_RRULE_MAX_LEN, 0);
	CHECK(refused(longer, "longer than 256 characters"));
}

TEST(parse_failure_leaves_a_zero_rule)
{
	plein_rrule r;
	memset(&r, 0x5a, sizeof r);
	CHECK_EQ_INT(plein_rrule_parse(&r, "FREQ=WEEKLY;BYDAY=TU;COUNT=0"), PLEIN_EINVAL);
	CHECK_EQ_INT(r.freq, 0);
	CHECK_EQ_INT(r.byday_any, 0);
}

TEST(weekly_interval_two_tuesday_thursday)
{
	/* 2026-01-05 is a Monday: weeks of 5, 19 January and 2 February. */
	CHECK_STR(expand("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH", "2026-01-05", "2026-01-01", "2026-02-06"),
		  "2026-01-06 2026-01-08 2026-01-20 2026-01-22 2026-02-03 2026-02-05");
	/* Starting on a Wednesday: that week's Tuesday is before DTSTART. */
	CHECK_STR(expand("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH", "2026-01-07", "2026-01-01", "2026-01-31"),
		  "2026-01-08 2026-01-20 2026-01-22");
	/* A window in the middle keeps the phase of DTSTART's week. */
	CHECK_STR(expand("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH", "2026-01-05", "2026-03-01", "2026-03-15"),
		  "2026-03-03 2026-03-05");
}

TEST(weekly_without_byday_uses_the_weekday_of_dtstart)
{
	CHECK_STR(expand("FREQ=WEEKLY", "2026-03-01", "2026-02-20", "2026-03-20"), "2026-03-01 2026-03-08 2026-03-15");
	CHECK_STR(expand("FREQ=WEEKLY;INTERVAL=3", "2026-03-04", "2026-03-01", "2026-04-30"),
		  "2026-03-04 2026-03-25 2026-04-15");
	/* Across a year end: weeks are counted, not ISO week numbers. */
	CHECK_STR(expand("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO", "2026-12-21", "2026-12-01", "2027-01-20"),
		  "2026-12-21 2027-01-04 2027-01-18");
}

TEST(monthly_ordinal_weekdays)
{
	CHECK_STR(expand("FREQ=MONTHLY;BYDAY=1TU", "2026-01-01", "2026-01-01", "2026-06-30"),
		  "2026-01-06 2026-02-03 2026-03-03 2026-04-07 2026-05-05 2026-06-02");
	CHECK_STR(expand("FREQ=MONTHLY;BYDAY=-1FR", "2026-01-01", "2026-01-01", "2026-06-30"),
		  "2026-01-30 2026-02-27 2026-03-27 2026-04-24 2026-05-29 2026-06-26");
	CHECK_STR(expand("FREQ=MONTHLY;BYDAY=1TU,-1FR", "2026-01-10", "2026-01-01", "2026-03-31"),
		  "2026-01-30 2026-02-03 2026-02-27 2026-03-03 2026-03-27");
	CHECK_STR(expand("FREQ=MONTHLY;INTERVAL=2;BYDAY=2WE", "2026-01-01", "2026-01-01", "2026-12-31"),
		  "2026-01-14 2026-03-11 2026-05-13 2026-07-08 2026-09-09 2026-11-11");
	/* The fifth Thursday exists in five months of 2026. */
	CHECK_STR(expand("FREQ=MONTHLY;BYDAY=5TH", "2026-01-01", "2026-01-01", "2026-12-31"),
		  "2026-01-29 2026-04-30 2026-07-30 2026-10-29 2026-12-31");
	/* Plain TU in a monthly rule: every Tuesday of the month. */
	CHECK_STR(expand("FREQ=MONTHLY;INTERVAL=2;BYDAY=TU", "2026-01-01", "2026-02-01", "2026-03-15"),
		  "2026-03-03 2026-03-10");
}

TEST(monthly_without_byday_skips_months_without_that_day)
{
	CHECK_STR(expand("FREQ=MONTHLY", "2026-01-31", "2026-01-01", "2026-08-31"),
		  "2026-01-31 2026-03-31 2026-05-31 2026-07-31 2026-08-31");
	CHECK_STR(expand("FREQ=MONTHLY;INTERVAL=12", "2024-02-29", "2024-01-01", "2032-12-31"),
		  "2024-02-29 2028-02-29 2032-02-29");
}

TEST(count_counts_from_dtstart)
{
	CHECK_STR(expand("FREQ=WEEKLY;BYDAY=TU;COUNT=3", "2026-01-01", "2026-01-01", "2026-12-31"),
		  "2026-01-06 2026-01-13 2026-01-20");
	/* A window after the start still knows which occurrences were used. */
	CHECK_STR(expand("FREQ=WEEKLY;BYDAY=TU;COUNT=3", "2026-01-01", "2026-01-14", "2026-12-31"), "2026-01-20");
	CHECK_STR(expand("FREQ=WEEKLY;BYDAY=TU;COUNT=3", "2026-01-01", "2026-01-21", "2026-12-31"), "");
	CHECK_STR(expand("FREQ=MONTHLY;BYDAY=-1FR;COUNT=2", "2026-02-28", "2026-01-01", "2026-12-31"),
		  "2026-03-27 2026-04-24");
}

TEST(until_date_and_date_time)
{
	/* DATE form: inclusive. */
	CHECK_STR(expand("FREQ=WEEKLY;BYDAY=TU;UNTIL=20260120", "2026-01-01", "2026-01-01", "2026-12-31"),
		  "2026-01-06 2026-01-13 2026-01-20");
	CHECK_STR(expand("FREQ=WEEKLY;BYDAY=TU;UNTIL=20260119", "2026-01-01", "2026-01-01", "2026-12-31"),
		  "2026-01-06 2026-01-13");
	/* DATE-TIME form: the last day counts if it starts by then. */
	CHECK_STR(expand_at("FREQ=WEEKLY;BYDAY=TU;UNTIL=20260120T090000", "2026-01-01", NULL, "10:00", "2026-01-01",
			    "2026-12-31"),
		  "2026-01-06 2026-01-13");
	CHECK_STR(expand_at("FREQ=WEEKLY;BYDAY=TU;UNTIL=20260120T100000", "2026-01-01", NULL, "10:00", "2026-01-01",
			    "2026-12-31"),
		  "2026-01-06 2026-01-13 2026-01-20");
	CHECK_STR(expand_at("FREQ=WEEKLY;BYDAY=TU;UNTIL=20260120T090000", "2026-01-01", NULL, "08:30", "2026-01-01",
			    "2026-12-31"),
		  "2026-01-06 2026-01-13 2026-01-20");
	/* An UNTIL before DTSTART gives nothing. */
	CHECK_STR(expand("FREQ=WEEKLY;UNTIL=20251231", "2026-01-01", "2025-01-01", "2026-12-31"), "");
}

TEST(valid_to_bounds_the_rule)
{
	CHECK_STR(expand_at("FREQ=WEEKLY;BYDAY=TU", "2026-01-01", "2026-01-19", "10:00", "2026-01-01", "2026-12-31"),
		  "2026-01-06 2026-01-13");
	CHECK_STR(expand_at("FREQ=WEEKLY;BYDAY=TU", "2026-01-01", "2026-01-20", "10:00", "2026-01-01", "2026-12-31"),
		  "2026-01-06 2026-01-13 2026-01-20");
	/* valid_to and COUNT: whichever ends first. */
	CHECK_STR(expand_at("FREQ=WEEKLY;BYDAY=TU;COUNT=5", "2026-01-01", "2026-01-14", "10:00", "2026-01-01",
			    "2026-12-31"),
		  "2026-01-06 2026-01-13");
	/* Nothing before DTSTART, even if the window starts earlier. */
	CHECK_STR(expand("FREQ=WEEKLY;BYDAY=TU", "2026-01-14", "2026-01-01", "2026-01-31"), "2026-01-20 2026-01-27");
}

TEST(occurs_and_max)
{
	plein_rrule r;
	plein_rrule_anchor a = { .dtstart = D("2026-01-01"), .start_sec = 36000 };
	CHECK_OK(plein_rrule_parse(&r, "FREQ=MONTHLY;BYDAY=-1FR;COUNT=3"));
	CHECK_EQ_INT(plein_rrule_occurs(&r, &a, D("2026-01-30")), 1);
	CHECK_EQ_INT(plein_rrule_occurs(&r, &a, D("2026-03-27")), 1);
	CHECK_EQ_INT(plein_rrule_occurs(&r, &a, D("2026-04-24")), 0); /* the fourth: beyond COUNT */
	CHECK_EQ_INT(plein_rrule_occurs(&r, &a, D("2026-01-23")), 0);
	CHECK_EQ_INT(plein_rrule_occurs(&r, &a, D("2025-12-26")), 0); /* before DTSTART */
	plein_date *dates;
	size_t n;
	CHECK_OK(plein_rrule_parse(&r, "FREQ=WEEKLY;BYDAY=MO,TU,WE"));
	plein_rrule_expand(&dates, &n, &r, &a, D("2026-01-01"), D("2026-12-31"), 4);
	CHECK_EQ_INT(n, 4);
	CHECK_EQ_INT(plein_date_cmp(dates[3], D("2026-01-12")), 0);
	free(dates);
	plein_rrule_expand(&dates, &n, &r, &a, D("2026-02-01"), D("2026-01-01"), 0);
	CHECK_EQ_INT(n, 0);
	free(dates);
}
