#include "plein/clock.h"

#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "plein/error.h"

int64_t plein_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t plein_hlc_tick(int64_t last, int64_t now_ms)
{
	int64_t wall = plein_hlc_from_ms(now_ms);
	return wall > last ? wall : last + 1;
}

int plein_hlc_receive(int64_t *out, int64_t last, int64_t remote, int64_t now_ms, int64_t max_ahead_ms)
{
	if (plein_hlc_ms(remote) > now_ms + max_ahead_ms) {
		char when[64];
		plein_hlc_format(when, sizeof when, remote);
		return plein_fail(PLEIN_EREJECT,
			"a clock %s is %lld s ahead of this machine's (at most %lld s is allowed); "
			"check the clock of the site that wrote it",
			when, (long long)((plein_hlc_ms(remote) - now_ms) / 1000), (long long)(max_ahead_ms / 1000));
	}
	*out = remote > last ? remote : last;
	return 0;
}

/* The highest clock this replica issued or received. (Captured writes
 * get theirs at sealing, above this one.) */
static int current(plein_db *db, int64_t *out)
{
	return plein_db_int(db, out, "SELECT hlc FROM plein_clock WHERE id = 1", NULL);
}

static int store(plein_db *db, int64_t hlc)
{
	sqlite3_stmt *st = plein_db_stmt(db, "UPDATE plein_clock SET hlc = ?1 WHERE id = 1");
	if (!st)
		return PLEIN_ERR;
	sqlite3_bind_int64(st, 1, hlc);
	return plein_db_step_done(db, st);
}

int plein_hlc_next(plein_db *db, int64_t *out)
{
	int64_t last = 0;
	int rc = current(db, &last);
	if (rc < 0)
		return rc;
	*out = plein_hlc_tick(last, plein_now_ms());
	return store(db, *out);
}

int plein_hlc_observe(plein_db *db, int64_t remote)
{
	int64_t last = 0, next = 0;
	int rc = current(db, &last);
	if (rc < 0)
		return rc;
	rc = plein_hlc_receive(&next, last, remote, plein_now_ms(), PLEIN_HLC_MAX_AHEAD_MS);
	if (rc < 0)
		return rc;
	return next == last ? 0 : store(db, next);
}

void plein_hlc_format(char *out, size_t n, int64_t hlc)
{
	int64_t ms = plein_hlc_ms(hlc);
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	char day[32];
	strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, n, "%s.%03dZ/%d", day, (int)(ms % 1000), (int)(hlc & 0xffff));
}
