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
#include "plein/records.h"
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
	/* This site's key is the network's admin key; its own roster row and
	 * the network's name are captured like any write and become its first
	 * batch. */
	if ((rc = plein_db_begin(s->db)) < 0 ||
	    (rc = plein_site_local_set(s, "network_name", network)) < 0 ||
	    (rc = plein_site_local_set(s, "network_id", nidhex)) < 0 ||
	    (rc = plein_site_local_set(s, "admin_pk", pkhex)) < 0 ||
	    (rc = plein_site_local_set(s, "role", "coordinator")) < 0 ||
	    (rc = plein_roster_admit(s, s->id, s->pk, name, "coordinator", NULL)) < 0 ||
	    (rc = plein_roster_record_network(s)) < 0 ||
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
	plein_buf out = PLEIN_BUF_INIT;
	int rc = plein_status_write(&out, s, cli_json(ctx));
	if (rc == 0)
		fwrite(out.data, 1, out.len, stdout);
	plein_buf_free(&out);
	return rc;
}
