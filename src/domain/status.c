/* 'plein status' (records.h): identity, unsealed changes, the version
 * vector, held and refused batches, peers, conflicts, records. For the CLI and the
 * HTTP API. */
#include "plein/records.h"

#include <stdlib.h>
#include <string.h>

#include "plein/capture.h"
#include "plein/conflicts.h"
#include "plein/error.h"
#include "plein/journal.h"
#include "plein/log.h"

/* One row per chain of the version vector: applied and held batches. */
static int status_chains(plein_site *s, plein_json *j, plein_buf *out, int json)
{
	plein_log_ref *tips = NULL, *held = NULL;
	size_t n = 0, nheld = 0;
	int rc = plein_site_log(s) ? plein_log_tips(&tips, &n, s->log) : plein_error_code();
	if (rc == 0)
		rc = plein_log_held(&held, &nheld, s->log);
	if (json) {
		plein_json_key(j, "version_vector");
		plein_json_obj_begin(j);
	} else {
		plein_buf_puts(out, "version vector (site: batches):\n");
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		sqlite3_stmt *st = plein_db_stmt(s->db, "SELECT name FROM roster WHERE id = ?1");
		const char *name = NULL;
		if (st) {
			sqlite3_bind_text(st, 1, tips[i].site, -1, SQLITE_STATIC);
			if (sqlite3_step(st) == SQLITE_ROW)
				name = (const char *)sqlite3_column_text(st, 0);
		}
		if (json) {
			plein_json_key(j, tips[i].site);
			plein_json_int(j, (int64_t)tips[i].seq);
		} else {
			plein_buf_printf(out, "  %s  %6llu  %s%s\n", tips[i].site, (unsigned long long)tips[i].seq,
					 name ? name : "", strcmp(tips[i].site, s->id) == 0 ? " (deze site)" : "");
		}
		if (st)
			sqlite3_reset(st);
	}
	if (json) {
		plein_json_obj_end(j);
		plein_json_key(j, "held_batches");
		plein_json_int(j, (int64_t)nheld);
	} else if (nheld) {
		plein_buf_printf(out, "held batches:     %zu (from sites not admitted yet)\n", nheld);
	}
	free(tips);
	free(held);
	return rc;
}

static int status_peers(plein_site *s, plein_json *j, plein_buf *out, int json)
{
	sqlite3_stmt *st = plein_db_stmt(s->db,
		"SELECT peer, last_ok, last_error, last_error_at, batches_in, batches_out, bytes_in, bytes_out"
		" FROM plein_peer_state ORDER BY peer");
	if (!st)
		return PLEIN_ERR;
	if (json) {
		plein_json_key(j, "peers");
		plein_json_arr_begin(j);
	} else {
		plein_buf_puts(out, "peers:\n");
	}
	int any = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		any = 1;
		const char *col[] = { "peer", "last_ok", "last_error", "last_error_at" };
		if (json) {
			plein_json_obj_begin(j);
			for (int c = 0; c < 4; c++) {
				plein_json_key(j, col[c]);
				plein_json_str(j, (const char *)sqlite3_column_text(st, c));
			}
			const char *num[] = { "batches_in", "batches_out", "bytes_in", "bytes_out" };
			for (int c = 0; c < 4; c++) {
				plein_json_key(j, num[c]);
				plein_json_int(j, sqlite3_column_int64(st, 4 + c));
			}
			plein_json_obj_end(j);
		} else {
			const char *ok = (const char *)sqlite3_column_text(st, 1), *err = (const char *)sqlite3_column_text(st, 2);
			plein_buf_printf(out, "  %s: laatst gelukt %s; %lld batches in, %lld uit; %lld bytes in, %lld uit",
					 (const char *)sqlite3_column_text(st, 0), ok ? ok : "nooit",
					 (long long)sqlite3_column_int64(st, 4), (long long)sqlite3_column_int64(st, 5),
					 (long long)sqlite3_column_int64(st, 6), (long long)sqlite3_column_int64(st, 7));
			if (err)
				plein_buf_printf(out, "; laatste fout %s: %s", (const char *)sqlite3_column_text(st, 3), err);
			plein_buf_putc(out, '\n');
		}
	}
	sqlite3_reset(st);
	if (json)
		plein_json_arr_end(j);
	else if (!any)
		plein_buf_puts(out, "  (nog niet gesynchroniseerd)\n");
	int64_t refused = 0;
	int rc = plein_db_int(s->db, &refused, "SELECT count(*) FROM plein_rejected", NULL);
	if (rc == 0 && json) {
		plein_json_key(j, "refused_batches");
		plein_json_int(j, refused);
	} else if (rc == 0 && refused) {
		plein_buf_printf(out, "refused batches:  %lld (see the sync output for the reasons)\n", (long long)refused);
	}
	return rc;
}

/* As many as 'plein conflicts' lists; always shown, so 0 is news too. */
static int status_conflicts(plein_site *s, plein_json *j, plein_buf *out, int json)
{
	int64_t n = 0;
	int rc = plein_conflicts_count(s, &n);
	if (rc == 0 && json) {
		plein_json_key(j, "conflicts");
		plein_json_int(j, n);
	} else if (rc == 0) {
		plein_buf_printf(out, "conflicts:        %lld%s\n", (long long)n, n ? " (see them with 'plein conflicts')" : "");
	}
	return rc;
}

int plein_status_write(plein_buf *res, plein_site *s, int json)
{
	int64_t pending = 0;
	int rc = plein_capture_pending(s->db, &pending);
	if (rc < 0)
		return rc;
	char *network = plein_site_local_get(s, "network_name");
	char *nid = plein_site_local_get(s, "network_id");
	char *role = plein_site_local_get(s, "role");
	int paused = plein_journal_paused(s);
	plein_buf out = PLEIN_BUF_INIT;
	plein_json j;
	plein_json_init(&j, &out);
	if (json) {
		plein_json_obj_begin(&j);
		plein_json_key(&j, "site_id"); plein_json_str(&j, s->id);
		plein_json_key(&j, "name"); plein_json_str(&j, plein_site_name(s));
		plein_json_key(&j, "network"); plein_json_str(&j, network);
		plein_json_key(&j, "network_id"); plein_json_str(&j, nid);
		plein_json_key(&j, "role"); plein_json_str(&j, role);
		plein_json_key(&j, "schema_version"); plein_json_int(&j, plein_schema_version());
		plein_json_key(&j, "unsealed_changes"); plein_json_int(&j, pending);
		plein_json_key(&j, "sealing_paused"); plein_json_bool(&j, paused);
	} else {
		plein_buf_printf(&out, "site:             %s (%s)\n", plein_site_name(s), s->id);
		plein_buf_printf(&out, "network:          %s (%s)\n", network ? network : "-", nid ? nid : "-");
		plein_buf_printf(&out, "role:             %s\n", role ? role : "-");
		plein_buf_printf(&out, "schema version:   %d\n", plein_schema_version());
		plein_buf_printf(&out, "unsealed changes: %lld%s\n", (long long)pending,
				 paused ? " (sealing waits for a peer after a restore: run 'plein sync')" : "");
	}
	if (rc == 0)
		rc = status_chains(s, &j, &out, json);
	if (rc == 0)
		rc = status_peers(s, &j, &out, json);
	if (rc == 0)
		rc = status_conflicts(s, &j, &out, json);
	if (json) {
		plein_json_key(&j, "records");
		plein_json_obj_begin(&j);
	} else {
		plein_buf_puts(&out, "records:\n");
	}
	for (int i = 0; i < s->schema->ntables && rc == 0; i++) {
		const char *t = s->schema->tables[i].name;
		plein_buf sql = PLEIN_BUF_INIT;
		plein_buf_printf(&sql, "SELECT count(*) FROM \"%s\"", t);
		int64_t n = 0;
		rc = plein_db_int(s->db, &n, plein_buf_cstr(&sql), NULL);
		plein_buf_free(&sql);
		if (json) {
			plein_json_key(&j, t);
			plein_json_int(&j, n);
		} else {
			plein_buf_printf(&out, "  %-20s %lld\n", t, (long long)n);
		}
	}
	if (json) {
		plein_json_obj_end(&j);
		plein_json_obj_end(&j);
		plein_buf_putc(&out, '\n');
	}
	if (rc == 0)
		plein_buf_put(res, out.data, out.len);
	plein_buf_free(&out);
	free(network);
	free(nid);
	free(role);
	return rc;
}
