/* Hybrid logical clocks (design §3). An HLC is a 64-bit integer: the top
 * 48 bits are Unix milliseconds, the low 16 bits a counter, so plain
 * integer order is clock order and SQL triggers can compute it too. */
#ifndef PLEIN_CLOCK_H
#define PLEIN_CLOCK_H

#include <stddef.h>
#include <stdint.h>
#include "plein/db.h"

#define PLEIN_HLC_SHIFT 16
/* A remote clock further ahead of ours than this is refused (design §3). */
#define PLEIN_HLC_MAX_AHEAD_MS (5 * 60 * 1000)

static inline int64_t plein_hlc_ms(int64_t hlc) { return hlc >> PLEIN_HLC_SHIFT; }
static inline int64_t plein_hlc_from_ms(int64_t ms) { return ms << PLEIN_HLC_SHIFT; }

/* Wall-clock Unix milliseconds. */
int64_t plein_now_ms(void);

/* The next local clock after `last` at wall time now_ms: strictly greater
 * than last, and never behind the wall clock. */
int64_t plein_hlc_tick(int64_t last, int64_t now_ms);

/* Merge a received clock: *out = max(last, remote), or PLEIN_EREJECT (with
 * a message) when remote is more than max_ahead_ms ahead of now_ms. */
int plein_hlc_receive(int64_t *out, int64_t last, int64_t remote, int64_t now_ms, int64_t max_ahead_ms);

/* Issue the next HLC of this replica and persist it (in the caller's
 * transaction): never below any clock issued, captured or received. */
int plein_hlc_next(plein_db *db, int64_t *out);
/* Record a received clock in the replica; refuses one too far ahead. */
int plein_hlc_observe(plein_db *db, int64_t remote);

/* "2026-11-25T09:55:23.123Z/7" */
void plein_hlc_format(char *out, size_t n, int64_t hlc);

#endif
