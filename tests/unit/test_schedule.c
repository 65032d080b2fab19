/* schedule: rules and exceptions expanded into occurrences, in local time
 * and UTC, across both DST changes of 2026 in Europe/Amsterdam. */
#include "harness.h"
#include "plein/json.h"
#include "plein/schedule.h"
#include "plein/validate.h"
#include "util.h"

static plein_date D(const char *s)
{
	plein_date d = { 0, 0, 0 };
	if (plein_date_parse(&d, s) < 0)
		fprintf(stderr, "# bad test date %s\n", s);
	return d;
}

/* A site with two locations, two partners, three offerings. */
static plein_site *fixture(char *dir)
{
	plein_site *s = test_site(dir);
	if (!s)
		return NULL;
	if (plein_db_exec(s->db,
		"INSERT INTO location(id, name, kind, tz) VALUES"
		" ('loc-c', 'Centrum', 'branch', 'Europe/Amsterdam'),"
		" ('loc-b', 'Wijkgebouw De Bron', 'community', NULL),"
		" ('loc-l', 'Londen', 'partner', 'Europe/London');"
		"INSERT INTO partner(id, name) VALUES ('p-fb', 'Formulierenbrigade'), ('p-th', 'Taalhuis');"
		"INSERT INTO offering(id, partner_id, theme, kind, title, capacity) VALUES"
		" ('o-sp', 'p-fb', 'geld', 'spreekuur', 'Spreekuur belastingaangifte', NULL),"
		" ('o-nc', 'p-th', 'taal', 'activiteit', 'Nachtcafé', 12),"
		" ('o-tc', 'p-th', 'taal', 'oefengroep', 'Taalcafé', 8);") < 0) {
		printf("# fixture: %s\n", plein_error());
		plein_site_close(s);
		return NULL;
	}
	return s;
}

static int add_rule(plein_site *s, char id[27], const char *offering, const char *location, const char *rrule,
		    const char *start, const char *end, const char *from, const char *until, const char *room)
{
	plein_rule_spec sp = { offering, location, rrule, start, end, from, until, room };
	return plein_schedule_add_rule(id, s, &sp);
}

static int64_t rows(plein_site *s, const char *table)
{
	char sql[80];
	int64_t n = -1;
	snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
	plein_db_int(s->db, &n, sql, NULL);
	return n;
}

/* "date start-end start_utc status [original_date]" per occurrence of
 * rule (NULL: all), joined by " | ". */
static const char *summary(const plein_schedule *sc, const char *rule)
{
	static char out[900];
	out[0] = 0;
	for (size_t i = 0; i < sc->n; i++) {
		const plein_occurrence *o = &sc->items[i];
		char su[21];
		if (rule && strcmp(o->rule_id, rule) != 0)
			continue;
		plein_schedule_utc_format(su, o->start_utc);
		snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s %s-%s %s %s%s%s", out[0] ? " | " : "",
			 o->date, o->start, o->end, su, plein_occurrence_status(o),
			 strcmp(o->date, o->original_date) ? " from " : "",
			 strcmp(o->date, o->original_date) ? o->original_date : "");
	}
	return out;
}

TEST(weekly_ten_oclock_keeps_local_time_across_both_dst_changes)
{
	char dir[256], id[27];
	plein_site *s = fixture(dir);
	CHECK(s != NULL);
	CHECK_OK(add_rule(s, id, "o-sp", "loc-c", "FREQ=WEEKLY;BYDAY=SU", "10:00", "11:00", "2026-03-01", NULL, NULL));
	plein_schedule sc;
	CHECK_OK(plein_schedule_list(&sc, s, NULL, D("2026-03-22"), D("2026-04-05")));
	CHECK_STR(summary(&sc, NULL), "2026-03-22 10:00-11:00 2026-03-22T09:00:00Z gepland | "
				      "2026-03-29 10:00-11:00 2026-03-29T08:00:00Z gepland | "
				      "2026-04-05 10:00-11:00 2026-04-05T08:00:00Z gepland");
	CHECK_EQ_INT(sc.items[1].end_utc - sc.items[1].start_utc, 3600);
	plein_schedule_free(&sc);
	CHECK_OK(plein_schedule_list(&sc, s, NULL, D("2026-10-18"), D("2026-11-01")));
	CHECK_STR(summary(&sc, NULL), "2026-10-18 10:00-11:00 2026-10-18T08:00:00Z gepland | "
				      "2026-10-25 10:00-11:00 2026-10-25T09:00:00Z gepland | "
				      "2026-11-01 10:00-11:00 2026-11-01T09:00:00Z gepland");
	plein_schedule_free(&sc);
	plein_site_close(s);
	test_rmdir(dir);
}

TEST(half_past_two_in_the_night_across_both_dst_changes)
{
	char dir[256], id[27];
	plein_site *s = fixture(dir);
	CHECK(s != NULL);
	CHECK_OK(add_rule(s, id, "o-nc", "loc-c", "FREQ=WEEKLY;BYDAY=SU", "02:30", "03:30", "2026-03-01", NULL, NULL));
	plein_schedule sc;
	CHECK_OK(plein_schedule_list(&sc, s, NULL, D("2026-03-22"), D("2026-04-05")));
	/* 29 March: 02:30 does not exist; it is read with the winter offset
	 * and lands at 03:30 summer time, lasting its hour. */
	CHECK_STR(summary(&sc, NULL), "2026-03-22 02:30-03:30 2026-03-22T01:30:00Z gepland | "
				      "2026-03-29 03:30-04:30 2026-03-29T01:30:00Z gepland | "
				      "2026-04-05 02:30-03:30 2026-04-05T00:30:00Z gepland");
	CHECK_STR(sc.items[1].original_date, "2026-03-29");
	plein_schedule_free(&sc);
	CHECK_OK(plein_schedule_list(&sc, s, NULL, D("2026-10-18"), D("2026-11-01")));
	/* 25 October: 02:30 happens twice; the first (summer time) counts, and
	 * an hour later the clock reads 02:30 again. */
	CHECK_STR(summary(&sc, NULL), "2026-10-18 02:30-03:30 2026-10-18T00:30:00Z gepland | "
				      "2026-10-25 02:30-02:30 2026-10-25T00:30:00Z gepland | "
				      "2026-11-01 02:30-03:30 2026-11-01T01:30:00Z gepland");
	CHECK_EQ_INT(sc.items[1].end_utc - sc.items[1].start_utc, 3600);
	plein_schedule_free(&sc);
	plein_site_close(s);
	test_rmdir(dir);
}

TEST(two_rules_sorted_by_utc_then_title_and_location_time_zone)
{
	char dir[256], a[27], b[27], c[27], l[27];
	plein_site *s = fixture(dir);
	CHECK(s != NULL);
	CHECK_OK(add_rule(s, a, "o-sp", "loc-c", "FREQ=WEEKLY;BYDAY=SU", "10:00", "11:00", "2026-03-01", NULL, "leeshoek"));
	CHECK_OK(add_rule(s, b, "o-nc", "loc-c", "FREQ=WEEKLY;BYDAY=SU", "02:30", "03:30", "2026-03-01", NULL, NULL));
	CHECK_OK(add_rule(s, c, "o-tc", "loc-b", "FREQ=WEEKLY;BYDAY=SU", "10:00", "12:00", "2026-03-01", NULL, NULL));
	/* London is an hour behind: 09:00 there is 10:00 in Amsterdam. */
	CHECK_OK(add_rule(s, l, "o-tc", "loc-l", "FREQ=WEEKLY;BYDAY=SU", "09:00", "10:00", "2026-03-01", NULL, NULL));
	plein_schedule sc;
	CHECK_OK(plein_schedule_list(&sc, s, NULL, D("2026-03-29"), D("2026-03-29")));
	CHECK_EQ_INT(sc.n, 4);
	CHECK_STR(sc.items[0].title, "Nachtcafé");
	/* Three at 08:00Z: by title, then by rule id. */
	CHECK_STR(sc.items[1].title, "Spreekuur belastingaangifte");
	CHECK_STR(sc.items[2].title, "Taalcafé");
	CHECK_STR(sc.items[3].title, "Taalcafé");
	CHECK_EQ_INT(sc.items[1].start_utc, sc.items[3].start_utc);
	CHECK_STR(sc.items[2].rule_id, strcmp(c, l) < 0 ? c : l);
	CHECK_STR(sc.items[1].room, "leeshoek");
	CHECK_STR(sc.items[1].location, "Centrum");
	CHECK_STR(sc.items[1].partner, "Formulierenbrigade");
	CHECK_STR(sc.items[1].kind, "spreekuur");
	CHECK_STR(sc.items[1].theme, "geld");
	CHECK_EQ_INT(sc.items[1].capacity, -1);
	CHECK_EQ_INT(sc.items[0].capacity, 12);
	plein_schedule_free(&sc);
	/* One location only. */
	CHECK_OK(plein_schedule_list(&sc, s, "loc-b", D("2026-03-01"), D("2026-03-31")));
	CHECK_EQ_INT(sc.n, 5);
	for (size_t i = 0; i < sc.n; i++)
		CHECK_STR(sc.items[i].location, "Wijkgebouw De Bron");
	plein_schedule_free(&sc);
	plein_site_close(s);
	test_rmdir(dir);
}

TEST(cancel_and_move)
{
	char dir[256], r[27], *e1 = NULL, *e2 = NULL, *e3 = NULL, *e4 = NULL;
	plein_site *s = fixture(dir);
	CHECK(s != NULL);
	CHECK_OK(add_rule(s, r, "o-sp", "loc-c", "FREQ=WEEKLY;BYDAY=TU", "13:30", "16:00", "2026-11-01", NULL, "leeshoek"));
	CHECK_OK(plein_schedule_cancel(&e1, s, r, "2026-11-10", "Studiedag"));
	plein_move_spec m = { .date = "2026-11-17", .to = "2026-11-19", .start = "09:00", .end = "10:30",
			      .reason = "Verbouwing" };
	CHECK_OK(plein_schedule_move(&e2, s, r, &m));
	/* Moved out of the window, and one moved into it from outside. */
	plein_move_spec out = { .date = "2026-11-24", .to = "2026-12-02", .start = "13:30", .end = "16:00" };
	CHECK_OK(plein_schedule_move(&e3, s, r, &out));
	plein_move_spec in = { .date = "2026-12-08", .to = "2026-11-27", .start = "10:00", .end = "11:00",
			       .location_id = "loc-b" };
	CHECK_OK(plein_schedule_move(&e4, s, r, &in));
	CHECK_EQ_INT(rows(s, "schedule_exception"), 4);
	plein_schedule sc;
	CHECK_OK(plein_schedule_list(&sc, s, NULL, D("2026-11-09"), D("2026-11-30")));
	CHECK_STR(summary(&sc, NULL), "2026-11-10 13:30-16:00 2026-11-10T12:30:00Z vervalt | "
				      "2026-11-19 09:00-10:30 2026-11-19T08:00:00Z verplaatst from 2026-11-17 | "
				      "2026-11-27 10:00-11:00 2026-11-27T09:00:00Z verplaatst from 2026-12-08");
	CHECK_STR(sc.items[0].reason, "Studiedag");
	CHECK_STR(sc.items[1].reason, "Verbouwing");
	CHECK_STR(sc.items[1].room, "leeshoek");
	/* Moved elsewhere: that place, and not the rule's room. */
	CHECK_STR(sc.items[2].location_id, "loc-b");
	CHECK_STR(sc.items[2].location, "Wijkgebouw De Bron");
	CHECK(sc.items[2].room == NULL);
	plein_schedule_free(&sc);
	/* Per location: the moved one counts where it now takes place. */
	CHECK_OK(plein_schedule_list(&sc, s, "loc-c", D("2026-11-09"), D("2026-11-30")));
	CHECK_EQ_INT(sc.n, 2);
	plein_schedule_free(&sc);
	CHECK_OK(plein_schedule_list(&sc, s, "loc-b", D("2026-11-09"), D("2026-11-30")));
	CHECK_EQ_INT(sc.n, 1);
	CHECK_STR(sc.items[0].original_date, "2026-12-08");
	plein_schedule_free(&sc);
	/* The single occurrence by its identity. */
	plein_occurrence o;
	CHECK_OK(plein_schedule_occurrence(&o, s, r, "2026-11-24"));
	CHECK_EQ_INT(o.status, PLEIN_OCC_MOVED);
	CHECK_STR(o.date, "2026-12-02");
	plein_occurrence_clear(&o);
	/* Cancelling a moved date updates its exception: one per occurrence. */
	char *again = NULL;
	CHECK_OK(plein_schedule_cancel(&again, s, r, "2026-11-17", NULL));
	CHECK_STR(again, e2);
	CHECK_EQ_INT(rows(s, "schedule_exception"), 4);
	CHECK_OK(plein_schedule_occurrence(&o, s, r, "2026-11-17"));
	CHECK_EQ_INT(o.status, PLEIN_OCC_CANCELLED);
	CHECK_STR(o.date, "2026-11-17");
	CHECK_STR(o.start, "13:30");
	CHECK(o.reason == NULL);
	plein_occurrence_clear(&o);
	free(again);
	free(e1);
	free(e2);
	free(e3);
	free(e4);
	plein_site_close(s);
	test_rmdir(dir);
}

TEST(not_an_occurrence_and_unknown_rule)
{
	char dir[256], r[27], *e = NULL;
	plein_site *s = fixture(dir);
	CHECK(s != NULL);
	CHECK_OK(add_rule(s, r, "o-sp", "loc-c", "FREQ=WEEKLY;BYDAY=TU", "13:30", "16:00", "2026-11-01", "2026-12-31", NULL));
	CHECK_EQ_INT(plein_schedule_cancel(&e, s, r, "2026-11-25", NULL), PLEIN_EINVAL);
	CHECK(strstr(plein_error(), "2026-11-25 is not a date of rule") != NULL);
	CHECK(strstr(plein_error(), "the nearest are 2026-11-24 and 2026-12-01") != NULL);
	CHECK_EQ_INT(plein_schedule_cancel(&e, s, r, "2027-01-05", NULL), PLEIN_EINVAL); /* after valid_to */
	CHECK(strstr(plein_error(), "the nearest is 2026-12-29") != NULL);
	CHECK_EQ_INT(plein_schedule_cancel(&e, s, r, "2026-02-30", NULL), PLEIN_EINVAL);
	CHECK(strstr(plein_error(), "--date '2026-02-30' is not a date") != NULL);
	CHECK_EQ_INT(plein_schedule_cancel(&e, s, "no-such-rule", "2026-11-24", NULL), PLEIN_ENOTFOUND);
	CHECK(strstr(plein_error(), "no rule with id 'no-such-rule'") != NULL);
	plein_move_spec m = { .date = "2026-11-24", .start = "16:00", .end = "15:00" };
	CHECK_EQ_INT(plein_schedule_move(&e, s, r, &m), PLEIN_EINVAL);
	CHECK(strstr(plein_error(), "--end 15:00 is not after --start 16:00") != NULL);
	m.end = "17:00";
	m.location_id = "nowhere";
	CHECK_EQ_INT(plein_schedule_move(&e, s, r, &m), PLEIN_ENOTFOUND);
	m.location_id = NULL;
	m.to = "2026-11-31";
	CHECK_EQ_INT(plein_schedule_move(&e, s, r, &m), PLEIN_EINVAL);
	CHECK(strstr(plein_error(), "--to '2026-11-31' is not a date") != NULL);
	CHECK_EQ_INT(rows(s, "schedule_exception"), 0);
	CHECK(e == NULL);
	plein_site_close(s);
	test_rmdir(dir);
}

TEST(add_rule_refuses_bad_input_and_writes_nothing)
{
	char dir[256], id[27];
	plein_site *s = fixture(dir);
	CHECK(s != NULL);
	CHECK_EQ_INT(add_rule(s, id, "o-sp", "loc-c", "FREQ=WEEKLY", "10:00", "10:00", "2026-01-01", NULL, NULL), PLEIN_EINVAL);
	CHECK(strstr(plein_error(), "--end 10:00 is not after --start 10:00") != NULL);
	CHECK_EQ_INT(add_rule(s, id, "o-sp", "loc-c", "FREQ=WEEKLY", "10:00", "09:00", "2026-01-01", NULL, NULL), PLEIN_EINVAL);
	CHECK_EQ_INT(add_rule(s, id, "o-sp", "loc-c", "FREQ=WEEKLY", "25:00", "26:00", "2026-01-01", NULL, NULL), PLEIN_EINVAL);
	CHECK(strstr(plein_error(), "--start '25:00' is not a time") != NULL);
	CHECK_EQ_INT(add_rule(s, id, "o-sp", "loc-c", "FREQ=DAILY", "10:00", "11:00", "2026-01-01", NULL, NULL), PLEIN_EINVAL);
	CHECK(strstr(plein_error(), "FREQ=DAILY is not supported") != NULL);
	CHECK_EQ_INT(add_rule(s, id, "nope", "loc-c", "FREQ=WEEKLY", "10:00", "11:00", "2026-01-01", NULL, NULL), PLEIN_ENOTFOUND);
	CHECK_EQ_INT(add_rule(s, id, "o-sp", "nope", "FREQ=WEEKLY", "10:00", "11:00", "2026-01-01", NULL, NULL), PLEIN_ENOTFOUND);
	CHECK_EQ_INT(add_rule(s, id, "o-sp", "loc-c", "FREQ=WEEKLY", "10:00", "11:00", "2026-02-30", NULL, NULL), PLEIN_EINVAL);
	CHECK_EQ_INT(add_rule(s, id, "o-sp", "loc-c", "FREQ=WEEKLY", "10:00", "11:00", "2026-03-01", "2026-02-28", NULL), PLEIN_EINVAL);
	CHECK(strstr(plein_error(), "--until 2026-02-28 is before --from 2026-03-01") != NULL);
	/* A rule without a single date. */
	CHECK_EQ_INT(add_rule(s, id, "o-sp", "loc-c", "FREQ=WEEKLY;UNTIL=20251231", "10:00", "11:00", "2026-01-01", NULL, NULL),
		     PLEIN_EINVAL);
	CHECK(strstr(plein_error(), "the rule has no dates from 2026-01-01") != NULL);
	CHECK_EQ_INT(add_rule(s, id, "o-sp", "loc-c", "FREQ=WEEKLY;BYDAY=TU", "10:00", "11:00", "2026-01-07", "2026-01-12", NULL),
		     PLEIN_EINVAL);
	CHECK_EQ_INT(rows(s, "schedule_rule"), 0);
	/* Stored canonical, from today when --from is not given. */
	CHECK_OK(add_rule(s, id, "o-sp", "loc-c", "freq=weekly;byday=th,tu", "10:00", "11:00", NULL, NULL, NULL));
	char today[11];
	plein_today(today);
	sqlite3_stmt *st = plein_db_stmt(s->db, "SELECT rrule, valid_from, valid_to FROM schedule_rule WHERE id = ?1");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	CHECK_EQ_INT(sqlite3_step(st), SQLITE_ROW);
	CHECK_STR((const char *)sqlite3_column_text(st, 0), "FREQ=WEEKLY;BYDAY=TU,TH");
	CHECK_STR((const char *)sqlite3_column_text(st, 1), today);
	CHECK_EQ_INT(sqlite3_column_type(st, 2), SQLITE_NULL);
	sqlite3_reset(st);
	plein_site_close(s);
	test_rmdir(dir);
}

TEST(until_in_utc_is_compared_in_local_time)
{
	char dir[256], a[27], b[27];
	plein_site *s = fixture(dir);
	CHECK(s != NULL);
	/* 10:00 in January in Amsterdam is 09:00Z. */
	CHECK_OK(add_rule(s, a, "o-sp", "loc-c", "FREQ=WEEKLY;BYDAY=TU;UNTIL=20260120T090000Z", "10:00", "11:00",
			  "2026-01-01", NULL, NULL));
	CHECK_OK(add_rule(s, b, "o-nc", "loc-c", "FREQ=WEEKLY;BYDAY=TU;UNTIL=20260120T085959Z", "10:00", "11:00",
			  "2026-01-01", NULL, NULL));
	plein_schedule sc;
	CHECK_OK(plein_schedule_list(&sc, s, NULL, D("2026-01-01"), D("2026-01-31")));
	CHECK_STR(summary(&sc, a), "2026-01-06 10:00-11:00 2026-01-06T09:00:00Z gepland | "
				   "2026-01-13 10:00-11:00 2026-01-13T09:00:00Z gepland | "
				   "2026-01-20 10:00-11:00 2026-01-20T09:00:00Z gepland");
	CHECK_STR(summary(&sc, b), "2026-01-06 10:00-11:00 2026-01-06T09:00:00Z gepland | "
				   "2026-01-13 10:00-11:00 2026-01-13T09:00:00Z gepland");
	plein_schedule_free(&sc);
	plein_site_close(s);
	test_rmdir(dir);
}

TEST(stored_data_from_other_writers)
{
	char dir[256];
	plein_site *s = fixture(dir);
	CHECK(s != NULL);
	/* Two exceptions for one occurrence (two sites at once): the highest
	 * id decides. One for a date the rule does not give is ignored, and
	 * so is a move that cannot be read. A broken rule is left out. */
	CHECK_OK(plein_db_exec(s->db,
		"INSERT INTO schedule_rule(id, offering_id, location_id, rrule, starts_at, ends_at, valid_from) VALUES"
		" ('r-ok', 'o-sp', 'loc-c', 'FREQ=WEEKLY;BYDAY=MO', '10:00', '11:00', '2026-06-01'),"
		" ('r-bad', 'o-sp', 'loc-c', 'FREQ=DAILY', '10:00', '11:00', '2026-06-01'),"
		" ('r-ghost', 'o-gone', 'loc-gone', 'FREQ=WEEKLY', '12:00', '13:00', '2026-06-01');"
		"INSERT INTO schedule_exception(id, rule_id, original_date, action, new_start, new_end, reason) VALUES"
		" ('x-1', 'r-ok', '2026-06-08', 'cancel', NULL, NULL, 'eerst'),"
		" ('x-2', 'r-ok', '2026-06-08', 'move', '2026-06-09 14:00', '2026-06-09 15:00', 'later'),"
		" ('x-3', 'r-ok', '2026-06-10', 'cancel', NULL, NULL, 'geen maandag'),"
		" ('x-4', 'r-ok', '2026-06-15', 'move', 'morgen', NULL, NULL),"
		" ('x-5', 'r-ok', '2026-06-22', 'cancel', NULL, NULL, 'a'),"
		" ('x-6', 'r-ok', '2026-06-22', 'cancel', NULL, NULL, 'b');"));
	plein_schedule sc;
	CHECK_OK(plein_schedule_list(&sc, s, NULL, D("2026-06-01"), D("2026-06-22")));
	CHECK_STR(summary(&sc, "r-ok"), "2026-06-01 10:00-11:00 2026-06-01T08:00:00Z gepland | "
					"2026-06-09 14:00-15:00 2026-06-09T12:00:00Z verplaatst from 2026-06-08 | "
					"2026-06-15 10:00-11:00 2026-06-15T08:00:00Z gepland | "
					"2026-06-22 10:00-11:00 2026-06-22T08:00:00Z vervalt");
	for (size_t i = 0; i < sc.n; i++)
		if (strcmp(sc.items[i].rule_id, "r-ok") == 0 && strcmp(sc.items[i].date, "2026-06-22") == 0)
			CHECK_STR(sc.items[i].reason, "b");
	/* The rule whose offering and location have not arrived yet: shown
	 * with what is known, in the default zone. */
	CHECK_STR(summary(&sc, "r-ghost"), "2026-06-01 12:00-13:00 2026-06-01T10:00:00Z gepland | "
					   "2026-06-08 12:00-13:00 2026-06-08T10:00:00Z gepland | "
					   "2026-06-15 12:00-13:00 2026-06-15T10:00:00Z gepland | "
					   "2026-06-22 12:00-13:00 2026-06-22T10:00:00Z gepland");
	const plein_occurrence *ghost = NULL;
	for (size_t i = 0; i < sc.n; i++)
		if (strcmp(sc.items[i].rule_id, "r-ghost") == 0)
			ghost = &sc.items[i];
	CHECK(ghost != NULL);
	CHECK(ghost->title == NULL && ghost->location == NULL && ghost->partner == NULL);
	CHECK_STR(ghost->location_id, "loc-gone");
	CHECK_EQ_INT(sc.nskipped, 2);
	CHECK(strstr(sc.skipped[0], "rule r-bad left out: its rrule 'FREQ=DAILY'") != NULL);
	CHECK(strstr(sc.skipped[1], "exception x-4 of rule r-ok on 2026-06-15 ignored") != NULL);
	plein_schedule_free(&sc);
	plein_site_close(s);
	test_rmdir(dir);
}

TEST(occurrence_json)
{
	char dir[256], r[27], *e = NULL;
	plein_site *s = fixture(dir);
	CHECK(s != NULL);
	CHECK_OK(add_rule(s, r, "o-sp", "loc-c", "FREQ=WEEKLY;BYDAY=TU", "13:30", "16:00", "2026-11-01", NULL, "leeshoek"));
	CHECK_OK(plein_schedule_cancel(&e, s, r, "2026-11-24", "Ziek \"echt\""));
	plein_occurrence o;
	CHECK_OK(plein_schedule_occurrence(&o, s, r, "2026-11-24"));
	plein_buf b = PLEIN_BUF_INIT, want = PLEIN_BUF_INIT;
	plein_json j;
	plein_json_init(&j, &b);
	plein_occurrence_json(&j, &o);
	plein_buf_printf(&want,
		"{\"date\":\"2026-11-24\",\"start\":\"13:30\",\"end\":\"16:00\",\"start_utc\":\"2026-11-24T12:30:00Z\","
		"\"end_utc\":\"2026-11-24T15:00:00Z\",\"rule_id\":\"%s\",\"original_date\":\"2026-11-24\","
		"\"title\":\"Spreekuur belastingaangifte\",\"kind\":\"spreekuur\",\"theme\":\"geld\","
		"\"offering_id\":\"o-sp\",\"partner\":\"Formulierenbrigade\",\"partner_id\":\"p-fb\","
		"\"location_id\":\"loc-c\",\"location\":\"Centrum\",\"room\":\"leeshoek\",\"capacity\":null,"
		"\"status\":\"vervalt\",\"reason\":\"Ziek \\\"echt\\\"\"}", r);
	CHECK_STR(plein_buf_cstr(&b), plein_buf_cstr(&want));
	plein_buf_free(&b);
	plein_buf_free(&want);
	plein_occurrence_clear(&o);
	free(e);
	plein_site_close(s);
	test_rmdir(dir);
}

static int count_stmt(unsigned type, void *ctx, void *p, void *x)
{
	(void)type, (void)p, (void)x;
	++*(int *)ctx;
	return 0;
}

/* Each rule's exceptions reach that rule, read in one query for all the
 * rules (a query per rule made most of the cost of a schedule). */
TEST(exceptions_of_many_rules_read_at_once)
{
	char dir[256], r[10][27], *e = NULL;
	static const char *const day[] = { "MO", "TU", "WE", "TH", "FR" };
	plein_site *s = fixture(dir);
	CHECK(s != NULL);
	for (int i = 0; i < 10; i++) {
		char rrule[40], start[6];
		snprintf(rrule, sizeof rrule, "FREQ=WEEKLY;BYDAY=%s", day[i % 5]);
		snprintf(start, sizeof start, "%02d:00", 9 + i);
		CHECK_OK(add_rule(s, r[i], "o-sp", "loc-c", rrule, start, "20:00", "2026-11-01", NULL, NULL));
	}
	/* Every other rule cancels its date in the week of 2026-11-16. */
	for (int i = 0; i < 10; i += 2) {
		char d[11];
		snprintf(d, sizeof d, "2026-11-%02d", 16 + i % 5);
		CHECK_OK(plein_schedule_cancel(&e, s, r[i], d, NULL));
		free(e);
		e = NULL;
	}
	int stmts = 0;
	plein_schedule sc;
	sqlite3_trace_v2(plein_db_handle(s->db), SQLITE_TRACE_STMT, count_stmt, &stmts);
	CHECK_OK(plein_schedule_list(&sc, s, NULL, D("2026-11-16"), D("2026-11-22")));
	sqlite3_trace_v2(plein_db_handle(s->db), 0, NULL, NULL);
	CHECK_EQ_INT(sc.n, 10);
	for (size_t k = 0; k < sc.n; k++) {
		int i = 0;
		while (i < 10 && strcmp(r[i], sc.items[k].rule_id) != 0)
			i++;
		CHECK(i < 10);
		if ((sc.items[k].status == PLEIN_OCC_CANCELLED) != (i % 2 == 0))
			FAIL_AT("rule %d on %s: status %d", i, sc.items[k].date, sc.items[k].status);
	}
	plein_schedule_free(&sc);
	/* The rules and their exceptions: two queries, not one per rule. */
	CHECK_EQ_INT(stmts, 2);
	plein_site_close(s);
	test_rmdir(dir);
}
