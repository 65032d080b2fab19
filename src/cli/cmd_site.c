/* Sites and integrity: init, status, digest (cmd_network.c: id, card, roster). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
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
		plein_json_key(&j, "records");
		plein_json_obj_begin(&j);
	} else {
		plein_buf_printf(&out, "site:             %s (%s)\n", plein_site_name(s), s->id);
		plein_buf_printf(&out, "network:          %s (%s)\n", network ? network : "-", nid ? nid : "-");
		plein_buf_printf(&out, "role:             %s\n", role ? role : "-");
		plein_buf_printf(&out, "schema version:   %d\n", plein_schema_version());
		plein_buf_printf(&out, "unsealed changes: %lld\n", (long long)pending);
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
