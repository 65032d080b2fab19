/* Hybrid logical clocks: monotonic, never behind the wall clock, and a
 * remote clock too far ahead is refused. */
#include "harness.h"
#include "plein/capture.h"
#include "plein/clock.h"
#include "util.h"

TEST(tick_is_strictly_increasing_when_wall_clock_stands_still)
{
	int64_t last = plein_hlc_from_ms(1000);
	for (int i = 0; i < 1000; i++) {
		int64_t next = plein_hlc_tick(last, 1000);
		CHECK(next > last);
		last = next;
	}
	CHECK_EQ_INT(plein_hlc_ms(last), 1000);
}

TEST(tick_never_goes_back_when_wall_clock_jumps_back)
{
	int64_t a = plein_hlc_tick(0, 5000);
	int64_t b = plein_hlc_tick(a, 1000); /* wall clock set back 4 s */
	CHECK(b > a);
	int64_t c = plein_hlc_tick(b, 9000);
	CHECK_EQ_INT(c, plein_hlc_from_ms(9000));
}

TEST(receive_takes_max_and_refuses_far_future)
{
	int64_t out = 0;
	CHECK_OK(plein_hlc_receive(&out, plein_hlc_from_ms(100), plein_hlc_from_ms(200), 150, 1000));
	CHECK_EQ_INT(out, plein_hlc_from_ms(200));
	CHECK_OK(plein_hlc_receive(&out, plein_hlc_from_ms(300), plein_hlc_from_ms(200), 150, 1000));
	CHECK_EQ_INT(out, plein_hlc_from_ms(300));
	out = 42;
	CHECK_EQ_INT(plein_hlc_receive(&out, 0, plein_hlc_from_ms(150 + 1001), 150, 1000), PLEIN_EREJECT);
	CHECK_EQ_INT(out, 42);
	CHECK(strstr(plein_error(), "ahead") != NULL);
}

TEST(replica_clock_is_monotonic_across_trigger_and_c_writes)
{
	char dir[256];
	plein_site *s = test_site(dir);
	CHECK(s != NULL);
	int64_t prev = 0;
	for (int i = 0; i < 200; i++) {
		int64_t h = 0;
		if (i % 2) {
			CHECK_OK(plein_hlc_next(s->db, &h));
		} else {
			char sql[200];
			snprintf(sql, sizeof sql, "INSERT INTO daylog(id, text) VALUES ('d%d', 'x')", i);
			CHECK_OK(plein_db_exec(s->db, sql));
			CHECK_OK(plein_db_int(s->db, &h, "SELECT max(hlc) FROM plein_capture", NULL));
		}
		CHECK(h > prev);
		prev = h;
	}
	plein_site_close(s);
	test_rmdir(dir);
}

TEST(replica_refuses_observed_clock_beyond_bound_and_keeps_its_own)
{
	char dir[256];
	plein_site *s = test_site(dir);
	CHECK(s != NULL);
	int64_t before = 0, after = 0;
	CHECK_OK(plein_hlc_next(s->db, &before));
	int64_t future = plein_hlc_from_ms(plein_now_ms() + PLEIN_HLC_MAX_AHEAD_MS + 60000);
	CHECK_EQ_INT(plein_hlc_observe(s->db, future), PLEIN_EREJECT);
	/* A clock within the bound is taken: later writes sort after it. */
	int64_t near = plein_hlc_from_ms(plein_now_ms() + 60000);
	CHECK_OK(plein_hlc_observe(s->db, near));
	CHECK_OK(plein_hlc_next(s->db, &after));
	CHECK(after > near);
	CHECK(after < future);
	plein_site_close(s);
	test_rmdir(dir);
}

TEST(format_is_readable)
{
	char buf[64];
	plein_hlc_format(buf, sizeof buf, plein_hlc_from_ms(INT64_C(1764064523123)) + 7);
	CHECK_STR(buf, "2025-11-25T09:55:23.123Z/7");
}
