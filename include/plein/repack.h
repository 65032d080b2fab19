/* Keeping log.git compact: every fetch adds a packfile and every sealed
 * batch a few loose objects, and git reads slower the more packs it must
 * search. When the packs pass a threshold, everything the refs of
 * refs/plein/ reach is written into one new pack; then the loose objects
 * and old packs whose every object is in it are removed. A pack that
 * holds anything else (a concurrent fetch's objects, whose refs are not
 * written yet) is kept until it is an hour old: by then what it holds
 * that no ref reaches is garbage (the batches of refused chains). */
#ifndef PLEIN_REPACK_H
#define PLEIN_REPACK_H

#include <stddef.h>

#include "plein/log.h"
#include "plein/site.h"

#define PLEIN_REPACK_PACKS 32    /* default threshold: packs in log.git */
#define PLEIN_REPACK_LOOSE 4096  /* default threshold: loose objects (a site that only
				  * writes adds a few per batch and fetches no pack) */

typedef struct {
	size_t packs_before, packs_after; /* packfiles in objects/pack */
	size_t loose_before;              /* loose objects before */
	size_t loose_removed;             /* loose objects now in the pack */
	size_t objects;                   /* objects in the new pack */
} plein_repack_report;

/* Repack when log.git holds more than max_packs packfiles or more than
 * max_loose loose objects (max_packs 0: always). Nothing happens (and
 * out->packs_after = packs_before) when under both thresholds or when
 * another plein is repacking. */
int plein_log_repack(plein_repack_report *out, plein_log *log, size_t max_packs, size_t max_loose);

/* Repack with the thresholds of s's plein.conf: [log] maxpacks, maxloose. */
int plein_site_repack(plein_repack_report *out, plein_site *s);

#endif
