/* plein_peer_state: one row per peer, totals over all syncs. */
#include "plein/peer.h"

#include <string.h>

#include "plein/error.h"

int plein_peer_record(plein_site *s, const char *peer, const char *error, const plein_peer_moved *m)
{
	sqlite3_stmt *st = plein_db_stmt(s->db,
		"INSERT INTO plein_peer_state(peer, last_ok, last_error, last_error_at, batches_in, batches_out, bytes_in, bytes_out)"
		" VALUES (?1, CASE WHEN ?2 IS NULL THEN strftime('%Y-%m-%dT%H:%M:%SZ','now') END, ?2,"
		"         CASE WHEN ?2 IS NOT NULL THEN strftime('%Y-%m-%dT%H:%M:%SZ','now') END, ?3, ?4, ?5, ?6)"
		" ON CONFLICT(peer) DO UPDATE SET"
		"  last_ok = coalesce(excluded.last_ok, last_ok),"
		"  last_error = CASE WHEN ?2 IS NULL THEN last_error ELSE ?2 END,"
		"  last_error_at = coalesce(excluded.last_error_at, last_error_at),"
		"  batches_in = batches_in + ?3, batches_out = batches_out + ?4,"
		"  bytes_in = bytes_in + ?5, bytes_out = bytes_out + ?6");
	if (!st)
		return PLEIN_ERR;
	sqlite3_bind_text(st, 1, peer, -1, SQLITE_TRANSIENT);
	if (error)
		sqlite3_bind_text(st, 2, error, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, (int64_t)m->batches_in);
	sqlite3_bind_int64(st, 4, (int64_t)m->batches_out);
	sqlite3_bind_int64(st, 5, (int64_t)m->bytes_in);
	sqlite3_bind_int64(st, 6, (int64_t)m->bytes_out);
	return plein_db_step_done(s->db, st);
}

int plein_peer_totals(plein_peer_moved *out, plein_site *s, const char *peer)
{
	memset(out, 0, sizeof *out);
	sqlite3_stmt *st = plein_db_stmt(s->db,
		"SELECT batches_in, batches_out, bytes_in, bytes_out FROM plein_peer_state WHERE peer = ?1");
	if (!st)
		return PLEIN_ERR;
	sqlite3_bind_text(st, 1, peer, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->batches_in = (uint64_t)sqlite3_column_int64(st, 0);
		out->batches_out = (uint64_t)sqlite3_column_int64(st, 1);
		out->bytes_in = (uint64_t)sqlite3_column_int64(st, 2);
		out->bytes_out = (uint64_t)sqlite3_column_int64(st, 3);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : plein_db_fail(s->db, "reading plein_peer_state");
}
