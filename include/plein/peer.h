/* What the syncs with each peer did, kept in plein_peer_state (local to
 * this replica, never synced) for 'plein status' and 'plein peer list':
 * the last success, the last error and totals of batches and bytes moved,
 * whichever transport (git remote, stick, TCP) and whoever synced ('plein
 * sync' or the daemon). */
#ifndef PLEIN_PEER_H
#define PLEIN_PEER_H

#include <stdint.h>

#include "plein/site.h"

typedef struct plein_peer_moved {
	uint64_t batches_in, batches_out;
	uint64_t bytes_in, bytes_out;
} plein_peer_moved;

/* Add one sync's outcome to peer's row: error NULL = it worked (last_ok
 * becomes now), else the error is remembered with its time. */
int plein_peer_record(plein_site *s, const char *peer, const char *error, const plein_peer_moved *moved);

/* peer's totals so far (zeros when it never synced). */
int plein_peer_totals(plein_peer_moved *out, plein_site *s, const char *peer);

#endif
