/* ics: the iCalendar feed. The test vector of docs/ics.md byte for byte,
 * folding inside UTF-8 text, filters, and a zone without summer time. */
#include "harness.h"
#include "plein/ics.h"
#include "util.h"

static const char vector_sql[] =
	"INSERT INTO location(id, name, kind, tz) VALUES ('loc-c', 'Bibliotheek Centrum', 'branch', 'Europe/Amsterdam');\n"
	"INSERT INTO partner(id, name) VALUES ('p-fb', 'Formulierenbrigade');\n"
	"INSERT INTO offering(id, partner_id, theme, kind, title) VALUES ('o-sp', 'p-fb', 'geld', 'spreekuur', 'Belastingaangifte, toeslagen en formulieren — spreekuur op inloop');\n"
	"INSERT INTO schedule_rule(id, offering_id, location_id, room, rrule, starts_at, ends_at, valid_from, valid_to) VALUES ('01KAQ3W2V0R5Z8E4M7N2P6X9B1', 'o-sp', 'loc-c', 'leeshoek', 'FREQ=WEEKLY;BYDAY=TU', '13:30', '16:00', '2026-10-01', '2026-12-31');\n"
	"INSERT INTO schedule_exception(id, rule_id, original_date, action, new_start, new_end, new_location_id, reason) VALUES ('01KAQ3X5G0000000000000000A', '01KAQ3W2V0R5Z8E4M7N2P6X9B1', '2026-10-20', 'cancel', NULL, NULL, NULL, 'Herfstvakantie');\n"
	"INSERT INTO schedule_exception(id, rule_id, original_date, action, new_start, new_end, new_location_id, reason) VALUES ('01KAQ3X5G0000000000000000B', '01KAQ3W2V0R5Z8E4M7N2P6X9B1', '2026-10-27', 'move', '2026-10-29 09:00', '2026-10-29 11:00', NULL, 'Verbouwing; zaal dicht');\n";

static const char vector_feed[] =
	"BEGIN:VCALENDAR\r\n"
	"VERSION:2.0\r\n"
	"PRODID:-//plein//Ontwikkelplein programma//NL\r\n"
	"CALSCALE:GREGORIAN\r\n"
	"X-WR-CALNAME:Ontwikkelplein\r\n"
	"BEGIN:VTIMEZONE\r\n"
	"TZID:Europe/Amsterdam\r\n"
	"BEGIN:DAYLIGHT\r\n"
	"TZOFFSETFROM:+0100\r\n"
	"TZOFFSETTO:+0200\r\n"
	"TZNAME:CEST\r\n"
	"DTSTART:20250330T020000\r\n"
	"RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n"
	"END:DAYLIGHT\r\n"
	"BEGIN:STANDARD\r\n"
	"TZOFFSETFROM:+0200\r\n"
	"TZOFFSETTO:+0100\r\n"
	"TZNAME:CET\r\n"
	"DTSTART:20251026T030000\r\n"
	"RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n"
	"END:STANDARD\r\n"
	"END:VTIMEZONE\r\n"
	"BEGIN:VEVENT\r\n"
	"UID:01KAQ3W2V0R5Z8E4M7N2P6X9B1@plein\r\n"
	"DTSTAMP:20251123T010528Z\r\n"
	"DTSTART;TZID=Europe/Amsterdam:20261006T133000\r\n"
	"DURATION:PT2H30M\r\n"
	"RRULE:FREQ=WEEKLY;BYDAY=TU;UNTIL=20261229T123000Z\r\n"
	"EXDATE;TZID=Europe/Amsterdam:20261020T133000\r\n"
	"SUMMARY:Belastingaangifte\\, toeslagen en formulieren — spreekuur op inloo\r\n"
	" p (Formulierenbrigade)\r\n"
	"LOCATION:Bibliotheek Centrum\\, leeshoek\r\n"
	"CATEGORIES:Geld\r\n"
	"END:VEVENT\r\n"
	"BEGIN:VEVENT\r\n"
	"UID:01KAQ3W2V0R5Z8E4M7N2P6X9B1@plein\r\n"
	"DTSTAMP:20251123T010528Z\r\n"
	"RECURRENCE-ID;TZID=Europe/Amsterdam:20261027T133000\r\n"
	"DTSTART;TZID=Europe/Amsterdam:20261029T090000\r\n"
	"DURATION:PT2H\r\n"
	"SUMMARY:Belastingaangifte\\, toeslagen en formulieren — spreekuur op inloo\r\n"
	" p (Formulierenbrigade)\r\n"
	"LOCATION:Bibliotheek Centrum\\, leeshoek\r\n"
	"CATEGORIES:Geld\r\n"
	"DESCRIPTION:Verplaatst: Verbouwing\\; zaal dicht\r\n"
	"END:VEVENT\r\n"
	"END:VCALENDAR\r\n";

static plein_site *vector_site(char *dir)
{
	plein_site *s = test_site(dir);
	if (s && plein_db_exec(s->db, vector_sql) < 0) {
		printf("# vector: %s\n", plein_error());
		plein_site_close(s);
		return NULL;
	}
	return s;
}

TEST(the_vector_of_docs_ics_md)
{
	char dir[256];
	plein_site *s = vector_site(dir);
	CHECK(s != NULL);
	plein_buf out = PLEIN_BUF_INIT;
	int rc = plein_ics_feed(&out, s->db, NULL);
	CHECK_EQ_INT(rc, 0);
	CHECK_STR(plein_buf_cstr(&out), vector_feed);
	plein_buf_free(&out);
	plein_site_close(s);
	test_rmdir(dir);
}

/* Unfolded content lines of a feed, checking the folding on the way. */
static int lines_ok(const plein_buf *b)
{
	size_t start = 0;
	for (size_t i = 0; i + 1 < b->len; i++) {
		if (b->data[i] != '\r')
			continue;
		if (b->data[i + 1] != '\n' || i - start > 75)
			return 0;
		/* a continuation line must not start inside a UTF-8 character */
		if (i + 2 < b->len && b->data[i + 2] == ' ' && i + 3 < b->len && (b->data[i + 3] & 0xc0) == 0x80)
			return 0;
		start = i + 2;
	}
	return b->len >= 2 && b->data[b->len - 2] == '\r' && b->data[b->len - 1] == '\n';
}

TEST(long_text_folds_at_75_octets_between_utf8_characters)
{
	char dir[256];
	plein_site *s = vector_site(dir);
	CHECK(s != NULL);
	/* 3-byte characters at every offset. */
	CHECK(plein_db_exec(s->db, "UPDATE offering SET title = 'x€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€'") == 0);
	plein_buf out = PLEIN_BUF_INIT;
	CHECK_EQ_INT(plein_ics_feed(&out, s->db, NULL), 0);
	CHECK(lines_ok(&out));
	CHECK(strstr(plein_buf_cstr(&out), "\r\n \xe2\x82\xac") != NULL);
	plein_buf_free(&out);
	plein_site_close(s);
	test_rmdir(dir);
}

TEST(filters_select_rules_and_unknown_names_fail)
{
	char dir[256];
	plein_site *s = vector_site(dir);
	CHECK(s != NULL);
	plein_buf out = PLEIN_BUF_INIT;
	plein_ics_filter taal = { .theme = "taal" }, geld = { .location_id = "loc-c", .partner_id = "p-fb", .theme = "geld" };
	CHECK_EQ_INT(plein_ics_feed(&out, s->db, &taal), 0);
	CHECK(strstr(plein_buf_cstr(&out), "BEGIN:VEVENT") == NULL);
	plein_buf_reset(&out);
	CHECK_EQ_INT(plein_ics_feed(&out, s->db, &geld), 0);
	CHECK(strstr(plein_buf_cstr(&out), "UID:01KAQ3W2V0R5Z8E4M7N2P6X9B1@plein") != NULL);
	CHECK(strstr(plein_buf_cstr(&out), "X-WR-CALNAME:Ontwikkelplein - Bibliotheek Centrum - Formulierenbrigade - ") != NULL);
	plein_ics_filter bad[] = { { .location_id = "nope" }, { .partner_id = "nope" }, { .theme = "nope" } };
	for (int i = 0; i < 3; i++)
		CHECK_EQ_INT(plein_ics_feed(&out, s->db, &bad[i]), PLEIN_ENOTFOUND);
	plein_buf_free(&out);
	plein_site_close(s);
	test_rmdir(dir);
}

TEST(a_zone_without_summer_time_has_one_standard_observance)
{
	char dir[256];
	plein_site *s = vector_site(dir);
	CHECK(s != NULL);
	CHECK(plein_db_exec(s->db, "UPDATE location SET tz = 'Asia/Tokyo'") == 0);
	plein_buf out = PLEIN_BUF_INIT;
	CHECK_EQ_INT(plein_ics_feed(&out, s->db, NULL), 0);
	CHECK(strstr(plein_buf_cstr(&out), "TZID:Asia/Tokyo\r\nBEGIN:STANDARD\r\nTZOFFSETFROM:+0900\r\n"
					    "TZOFFSETTO:+0900\r\nTZNAME:JST\r\nDTSTART:20250101T000000\r\n"
					    "END:STANDARD\r\nEND:VTIMEZONE\r\n") != NULL);
	CHECK(strstr(plein_buf_cstr(&out), "DTSTART;TZID=Asia/Tokyo:20261006T133000\r\n") != NULL);
	/* UNTIL in UTC: 13:30 in Tokyo is 04:30Z */
	CHECK(strstr(plein_buf_cstr(&out), "UNTIL=20261229T043000Z") != NULL);
	plein_buf_free(&out);
	plein_site_close(s);
	test_rmdir(dir);
}

TEST(a_period_cuts_each_rule_and_count_becomes_until)
{
	char dir[256];
	plein_site *s = vector_site(dir);
	CHECK(s != NULL);
	CHECK(plein_db_exec(s->db,
		"INSERT INTO schedule_rule(id, offering_id, location_id, rrule, starts_at, ends_at, valid_from)"
		" VALUES ('r-count', 'o-sp', 'loc-c', 'FREQ=MONTHLY;BYDAY=1WE;COUNT=3', '10:00', '11:00', '2026-10-01');") == 0);
	plein_buf out = PLEIN_BUF_INIT;
	CHECK_EQ_INT(plein_ics_feed(&out, s->db, NULL), 0);
	/* 7 October, 4 November, 2 December (10:00 CET = 09:00 UTC) */
	CHECK(strstr(plein_buf_cstr(&out), "RRULE:FREQ=MONTHLY;BYDAY=1WE;UNTIL=20261202T090000Z\r\n") != NULL);
	plein_buf_reset(&out);
	plein_ics_filter oct = { .from = "2026-10-10", .to = "2026-10-31" };
	CHECK_EQ_INT(plein_ics_feed(&out, s->db, &oct), 0);
	const char *f = plein_buf_cstr(&out);
	CHECK(strstr(f, "DTSTART;TZID=Europe/Amsterdam:20261013T133000\r\n") != NULL);
	CHECK(strstr(f, "RRULE:FREQ=WEEKLY;BYDAY=TU;UNTIL=20261027T123000Z\r\n") != NULL);
	CHECK(strstr(f, "EXDATE;TZID=Europe/Amsterdam:20261020T133000\r\n") != NULL);
	CHECK(strstr(f, "RECURRENCE-ID;TZID=Europe/Amsterdam:20261027T133000\r\n") != NULL);
	CHECK(strstr(f, "UID:r-count@plein") == NULL); /* its dates are 7 October and later months */
	static const char *const bad[][2] = { { "2026-10-10", NULL }, { "2026-13-01", "2026-12-01" },
					      { "2026-10-10", "2026-10-01" } };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		plein_ics_filter b = { .from = bad[i][0], .to = bad[i][1] };
		CHECK_EQ_INT(plein_ics_feed(&out, s->db, &b), PLEIN_EINVAL);
	}
	plein_buf_free(&out);
	plein_site_close(s);
	test_rmdir(dir);
}
