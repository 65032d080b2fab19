/* pages: the board and the folder as HTML — ISO weeks, escaping, the
 * version token, day-part themes, moves between locations. */
#include <time.h>

#include "harness.h"
#include "plein/pages.h"
#include "util.h"

static const char fixture[] =
	"INSERT INTO location(id, name, kind, tz) VALUES ('L', 'Bieb <script>alert(1)</script> & co', 'branch', NULL),"
	" ('K', 'Wijkgebouw De Kern', 'community', 'Europe/Amsterdam');"
	"INSERT INTO partner(id, name) VALUES ('P', 'Werkplein \"Twente\"'), ('T', 'Taalhuis');"
	"INSERT INTO offering(id, partner_id, theme, kind, title) VALUES"
	" ('o1', 'P', 'werk', 'spreekuur', 'Vacatures'), ('o2', 'P', 'werk', 'workshop', 'Cv & brief'),"
	" ('o3', 'T', 'taal', 'oefengroep', 'Taalcafé'), ('o4', 'T', 'taal', 'oefengroep', 'Leesclub');"
	"INSERT INTO schedule_rule(id, offering_id, location_id, room, rrule, starts_at, ends_at, valid_from) VALUES"
	" ('r1', 'o1', 'L', 'zaal <1>', 'FREQ=WEEKLY;BYDAY=TU', '13:00', '16:00', '2026-01-01'),"
	" ('r2', 'o2', 'L', NULL, 'FREQ=WEEKLY;BYDAY=TU', '14:00', '15:00', '2026-01-01'),"
	" ('r3', 'o3', 'L', NULL, 'FREQ=WEEKLY;BYDAY=TU', '15:00', '16:00', '2026-01-01'),"
	" ('r4', 'o4', 'K', NULL, 'FREQ=WEEKLY;BYDAY=TU', '10:00', '11:00', '2026-01-01');"
	/* Leesclub of De Kern comes to L on 24 November, Vacatures goes to K on 1 December. */
	"INSERT INTO schedule_exception(id, rule_id, original_date, action, new_start, new_end, new_location_id, reason) VALUES"
	" ('e1', 'r4', '2026-11-24', 'move', '2026-11-24 19:00', '2026-11-24 20:00', 'L', 'Kern dicht'),"
	" ('e2', 'r1', '2026-12-01', 'move', '2026-12-01 13:00', '2026-12-01 16:00', 'K', NULL);";

static plein_site *fixture_site(char *dir)
{
	plein_site *s = test_site(dir);
	if (s && plein_db_exec(s->db, fixture) < 0) {
		printf("# fixture: %s\n", plein_error());
		plein_site_close(s);
		return NULL;
	}
	return s;
}

/* 2026-11-24 at hh:mm Amsterdam (CET, +1). */
static int64_t at(int hh, int mm)
{
	struct tm t = {0};
	t.tm_year = 126;
	t.tm_mon = 10;
	t.tm_mday = 24;
	t.tm_hour = hh - 1;
	t.tm_min = mm;
	return (int64_t)timegm(&t);
}

TEST(iso_weeks_parse_and_refuse)
{
	char dir[256];
	plein_site *s = fixture_site(dir);
	CHECK(s != NULL);
	plein_buf out = PLEIN_BUF_INIT;
	static const struct { const char *week, *title; } good[] = {
		{ "2026-W01", "29 december 2025 t/m 4 januari 2026" },
		{ "2026-W48", "23 november t/m 29 november 2026" },
		{ "2026-W53", "28 december 2026 t/m 3 januari 2027" },
		{ "2020-W53", "28 december 2020 t/m 3 januari 2021" },
		{ "2032-W53", "27 december 2032 t/m 2 januari 2033" }, /* a leap year starting on Thursday */
	};
	for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
		plein_buf_reset(&out);
		CHECK_EQ_INT(plein_page_folder(&out, s, "L", good[i].week), 0);
		CHECK(strstr(plein_buf_cstr(&out), good[i].title) != NULL);
	}
	static const char *const bad[] = { "2021-W53", "2027-W53", "2026-W00", "2026-W54", "2026-w48", "2026-W4",
					   "2026-W480", " 2026-W48", "2026W48", "26-W48", "", "1969-W10", "abcd-Wef" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		CHECK_EQ_INT(plein_page_folder(&out, s, "L", bad[i]), PLEIN_EINVAL);
	plein_buf_reset(&out);
	CHECK_EQ_INT(plein_page_folder(&out, s, "L", NULL), 0); /* this week */
	CHECK(strstr(plein_buf_cstr(&out), "Programma week ") != NULL);
	CHECK_EQ_INT(plein_page_folder(&out, s, "nope", "2026-W48"), PLEIN_ENOTFOUND);
	plein_buf_free(&out);
	plein_site_close(s);
	test_rmdir(dir);
}

TEST(names_and_titles_are_escaped)
{
	char dir[256];
	plein_site *s = fixture_site(dir);
	CHECK(s != NULL);
	plein_buf out = PLEIN_BUF_INIT;
	CHECK_EQ_INT(plein_page_board(&out, s, "L", at(13, 30)), 0);
	const char *b = plein_buf_cstr(&out);
	CHECK(strstr(b, "<script>alert") == NULL);
	CHECK(strstr(b, "Bieb &lt;script&gt;alert(1)&lt;/script&gt; &amp; co") != NULL);
	CHECK(strstr(b, "Werkplein &quot;Twente&quot;") != NULL);
	CHECK(strstr(b, "zaal &lt;1&gt;") != NULL);
	CHECK(strstr(b, "Cv &amp; brief") != NULL);
	plein_buf_reset(&out);
	CHECK_EQ_INT(plein_page_folder(&out, s, "L", "2026-W48"), 0);
	CHECK(strstr(plein_buf_cstr(&out), "<script>alert") == NULL);
	plein_buf_free(&out);
	plein_site_close(s);
	test_rmdir(dir);
}

TEST(board_parts_theme_and_moves_between_locations)
{
	char dir[256];
	plein_site *s = fixture_site(dir);
	CHECK(s != NULL);
	plein_buf out = PLEIN_BUF_INIT;
	CHECK_EQ_INT(plein_page_board(&out, s, "L", at(14, 30)), 0);
	const char *b = plein_buf_cstr(&out);
	/* Two of three afternoon hours are werk: more than half. */
	CHECK(strstr(b, "Dinsdagmiddag: werk</div>") != NULL);
	const char *nu = strstr(b, "<section class=\"nu\">"), *straks = strstr(b, "<section class=\"straks\">"),
		   *later = strstr(b, "<section class=\"later\">");
	CHECK(nu && straks && later && nu < straks && straks < later);
	CHECK(strstr(nu, "Vacatures") < straks && strstr(nu, "Cv &amp; brief") < straks);
	CHECK(strstr(straks, "Taalcafé") && strstr(straks, "Taalcafé") < later);
	/* The Leesclub moved in from De Kern, at its new time. */
	CHECK(strstr(later, "data-start=\"19:00\" data-status=\"verplaatst\"") != NULL);
	CHECK(strstr(later, "Leesclub") != NULL);
	plein_buf_reset(&out);
	/* De Kern does not show what moved away from it. */
	CHECK_EQ_INT(plein_page_board(&out, s, "K", at(9, 0)), 0);
	CHECK(strstr(plein_buf_cstr(&out), "Leesclub") == NULL);
	CHECK(strstr(plein_buf_cstr(&out), "Vandaag is er verder geen programma") != NULL);
	/* One of two: no theme says the day-part. */
	CHECK_OK(plein_db_exec(s->db, "UPDATE offering SET theme = 'geld' WHERE id = 'o2'"));
	plein_buf_reset(&out);
	CHECK_EQ_INT(plein_page_board(&out, s, "L", at(14, 30)), 0);
	CHECK(strstr(plein_buf_cstr(&out), "class=\"daypart\"") == NULL);
	CHECK_EQ_INT(plein_page_board(&out, s, "nope", at(14, 30)), PLEIN_ENOTFOUND);
	CHECK_EQ_INT(plein_page_board(&out, s, NULL, at(14, 30)), PLEIN_EINVAL);
	plein_buf_free(&out);
	plein_site_close(s);
	test_rmdir(dir);
}

TEST(the_token_follows_what_the_board_shows)
{
	char dir[256];
	plein_site *s = fixture_site(dir);
	CHECK(s != NULL);
	plein_buf a = PLEIN_BUF_INIT, b = PLEIN_BUF_INIT, page = PLEIN_BUF_INIT;
	CHECK_EQ_INT(plein_page_board_version(&a, s, "L", at(13, 10)), 0);
	CHECK_EQ_INT(plein_page_board_version(&b, s, "L", at(13, 20)), 0);
	CHECK_EQ_INT((int)a.len, 16);
	CHECK_STR(plein_buf_cstr(&a), plein_buf_cstr(&b)); /* only the clock moved */
	CHECK_EQ_INT(plein_page_board(&page, s, "L", at(13, 20)), 0);
	char attr[64];
	snprintf(attr, sizeof attr, "data-version=\"%s\"", plein_buf_cstr(&a));
	CHECK(strstr(plein_buf_cstr(&page), attr) != NULL);
	plein_buf_reset(&b);
	CHECK_EQ_INT(plein_page_board_version(&b, s, "L", at(14, 0)), 0); /* Cv & brief begins */
	CHECK(strcmp(plein_buf_cstr(&a), plein_buf_cstr(&b)) != 0);
	plein_buf_reset(&b);
	CHECK_OK(plein_db_exec(s->db, "UPDATE partner SET name = 'Taalhuis Hengelo' WHERE id = 'T'"));
	CHECK_EQ_INT(plein_page_board_version(&b, s, "L", at(13, 10)), 0); /* a name shown changed */
	CHECK(strcmp(plein_buf_cstr(&a), plein_buf_cstr(&b)) != 0);
	plein_buf_free(&a);
	plein_buf_free(&b);
	plein_buf_free(&page);
	plein_site_close(s);
	test_rmdir(dir);
}
