/* Sites and integrity: init, status, digest (cmd_network.c: id, card, roster). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "plein/log.h"
#include "plein/journal.h"
#include "plein/buf.h"
#include "plein/capture.h"
#include "plein/digest.h"
#include "plein/error.h"
#include "plein/json.h"
#include "plein/roster.h"
#include "plein/validate.h"

int cmd_init(cli_ctx *ctx)
{
	int rc = cli_need_pos(ctx, 1, 1);
	if (rc < 0)
		return rc;
	const char *dir = cli_pos(ctx, 0);
	const char *network = cli_opt(ctx, "new-network"), *card = cli_opt(ctx, "card");
	if (network && card)
		return plein_fail(PLEIN_EINVAL, "give either --new-network NAME (a new network) or --card FILE (join one), not both");
	if (card)
		return cmd_init_card(ctx, dir, card);
	if (cli_opt(ctx, "role"))
		return plein_fail(PLEIN_EINVAL, "--role is for a site joining with --card; the site that creates a network is its coordinator");
	if (!network || !*network)
		return plein_fail(PLEIN_EINVAL, "'plein init' needs --new-network NAME (or --card FILE to join a network)");
	if ((rc = plein_check_text("network name", network, 200)) < 0)
		return rc;
	const char *name = cli_opt(ctx, "name");
	if (!name)
		name = network;
	if ((rc = plein_check_text("site name", name, 200)) < 0)
		return rc;

	plein_site *s = NULL;
	if ((rc = plein_site_create(&s, dir, name)) < 0)
		return rc;
	ctx->site = s; /* main seals the roster row below and closes the site */
	unsigned char nid[16];
	char nidhex[33], pkhex[65];
	randombytes_buf(nid, sizeof nid);
	sodium_bin2hex(nidhex, sizeof nidhex, nid, sizeof nid);
	sodium_bin2hex(pkhex, sizeof pkhex, s->pk, sizeof s->pk);
	/* This site's key is the network's admin key; its own roster row is
	 * captured like any write and becomes its first batch. */
	if ((rc = plein_db_begin(s->db)) < 0 ||
	    (rc = plein_site_local_set(s, "network_name", network)) < 0 ||
	    (rc = plein_site_local_set(s, "network_id", nidhex)) < 0 ||
	    (rc = plein_site_local_set(s, "admin_pk", pkhex)) < 0 ||
	    (rc = plein_site_local_set(s, "role", "coordinator")) < 0 ||
	    (rc = plein_roster_admit(s, s->id, s->pk, name, "coordinator", NULL)) < 0 ||
	    (rc = plein_db_commit(s->db)) < 0) {
		plein_db_rollback(s->db);
		return rc;
	}
	if (cli_tty())
		fprintf(stderr, "Created site \"%s\" in %s, coordinator of the new network \"%s\".\n", name, dir, network);
	printf("%s\n", s->id);
	return 0;
}

int cmd_digest(cli_ctx *ctx)
{
	plein_site *s = cli_site(ctx);
	if (!s)
		return plein_error_code();
	char hex[65];
	int rc = plein_digest_hex(s->db, hex);
	if (rc == 0)
		printf("%s\n", hex);
	return rc;
}

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

int cmd_status(cli_ctx *ctx)
{
	plein_site *s = cli_site(ctx);
	if (!s)
		return plein_error_code();
	int64_t pending = 0;
	int rc = plein_capture_pending(s->db, &pending);
	if (rc < 0)
		return rc;
	char *network = plein_site_local_get(s, "network_name");
	char *nid = plein_site_local_get(s, "network_id");
	char *role = plein_site_local_get(s, "role");
	int paused = plein_journal_paused(s);
	plein_buf out = PLEIN_BUF_INIT;
	int json = cli_json(ctx);
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
		fwrite(out.data, 1, out.len, stdout);
	plein_buf_free(&out);
	free(network);
	free(nid);
	free(role);
	return rc;
}
