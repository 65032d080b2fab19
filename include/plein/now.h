/* The calendar's clock: "now" and "today" wherever plein reads them (due
 * referrals, retention and erasure, the schedule's and the day log's
 * today, the board and the folder, the dates records are stamped with).
 * PLEIN_NOW in the environment fixes it, for tests and demos only
 * (docs/test-clock.md). The clocks of changes (HLCs, ids: clock.h) always
 * follow the real clock, so a fixed "now" never orders the log. */
#ifndef PLEIN_NOW_H
#define PLEIN_NOW_H

#include <stdint.h>

/* Seconds since 1970: PLEIN_NOW when set (and valid), else the clock. It
 * does not advance while PLEIN_NOW is set. */
int64_t plein_now(void);

/* plein_now() as "YYYY-MM-DDTHH:MM:SSZ". */
void plein_now_utc(char out[21]);

/* PLEIN_EINVAL with a message when PLEIN_NOW is set but not a time, or
 * when the old PLEIN_TODAY is set; 0 otherwise. The CLI checks this
 * first, so a typing error never falls back to the real clock unseen. */
int plein_now_check(void);

#endif
