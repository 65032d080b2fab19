/* Hybrid logical clocks: monotonic, never behind the wall clock, and a
 * remote clock too far ahead is refused. */
#include "harness.h"
#include "plein/capture.h"
#include "plein/clock.h"
#include "plein/batch.h"
#include "plein/log.h"
#include "plein/journal.h"
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

/* The HLC range of this site's last sealed batch. */
static int last_batch(plein_site *s, int64_t *lo, int64_t *hi)
{
	plein_log_entry e;
	memset(&e, 0, sizeof e);
	plein_batch_header h;
	int rc = plein_log_read(&e, plein_site_log(s), s->id, 0);
	if (rc == 0)
		rc = plein_batch_header_parse(&h, e.header.data, e.header.len);
	if (rc == 0) {
		*lo = h.hlc_min;
		*hi = h.hlc_max;
	}
	plein_log_entry_free(&e);
	return rc;
}

TEST(replica_clock_is_monotonic_across_captured_and_c_writes)
{
	char dir[256];
	plein_site *s = test_site(dir);
	CHECK(s != NULL);
	int64_t prev = 0;
	for (int i = 0; i < 40; i++) {
		if (i % 2) {
			int64_t h = 0;
			CHECK_OK(plein_hlc_next(s->db, &h));
			CHECK(h > prev);
			prev = h;
		} else {
			/* Several writes in one statement share one wall time; the
			 * sealed HLCs still strictly follow each other. */
			char sql[200];
			snprintf(sql, sizeof sql, "INSERT INTO daylog(id, text) VALUES ('a%d', 'x'), ('b%d', 'y'), ('c%d', 'z')", i, i, i);
			CHECK_OK(plein_db_exec(s->db, sql));
			uint64_t seq = 0;
			int64_t lo = 0, hi = 0;
			CHECK_OK(plein_journal_seal(s, &seq));
			CHECK(seq > 0);
			CHECK_OK(last_batch(s, &lo, &hi));
			CHECK(lo > prev);
			CHECK(hi >= lo + 2);
			prev = hi;
		}
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
