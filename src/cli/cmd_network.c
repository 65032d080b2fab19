/* The network: this site's identity, the network card, joining with a
 * card, admission and revocation (coordinator only), and the roster. */
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "plein/buf.h"
#include "plein/error.h"
#include "plein/json.h"
#include "plein/roster.h"
#include "plein/siteid.h"
#include "plein/validate.h"

static const char *const admit_roles[] = { "coordinator", "branch", "mobile", "partner", NULL };
static const char *const join_roles[] = { "branch", "mobile", "partner", NULL };

int cmd_id(cli_ctx *ctx)
{
	int rc = cli_need_pos(ctx, 0, 0);
	if (rc < 0)
		return rc;
	plein_site *s = cli_site(ctx);
	if (!s)
		return plein_error_code();
	if (cli_flag(ctx, "key")) {
		char hex[65];
		sodium_bin2hex(hex, sizeof hex, s->pk, sizeof s->pk);
		printf("%s\n", hex);
	} else {
		printf("%s\n", s->id);
	}
	return 0;
}

int cmd_card(cli_ctx *ctx)
{
	const char **peers = NULL;
	int npeers = cli_opt_all(ctx, "peer", &peers), rc;
	if ((rc = cli_need_pos(ctx, 0, 0)) < 0)
		return rc;
	if (npeers > PLEIN_CARD_MAX_PEERS)
		return plein_fail(PLEIN_EINVAL, "a card holds at most %d peers; give fewer --peer", PLEIN_CARD_MAX_PEERS);
	for (int i = 0; i < npeers; i++)
		if ((rc = plein_card_check_peer("--peer", peers[i])) < 0)
			return rc;
	plein_site *s = cli_site(ctx);
	if (!s)
		return plein_error_code();
	plein_card card;
	if ((rc = plein_card_of_site(&card, s)) < 0)
		return rc;
	for (int i = 0; i < npeers; i++)
		snprintf(card.peers[card.npeers++], sizeof card.peers[0], "%s", peers[i]);
	plein_buf out = PLEIN_BUF_INIT;
	if ((rc = plein_card_format(&out, &card)) == 0) {
		plein_buf_puts(&out, "# Join this network: plein init DIR --card FILE --name SITE [--role branch|mobile|partner]\n");
		fwrite(out.data, 1, out.len, stdout);
	}
	plein_buf_free(&out);
	return rc;
}

/* Read a card file whole, bounded. */
static int read_card(plein_card *out, const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return plein_fail(errno == ENOENT ? PLEIN_ENOTFOUND : PLEIN_ERR, "cannot read the network card %s: %s",
				  path, strerror(errno));
	char *text = plein_xmalloc(PLEIN_CARD_MAX_BYTES + 1);
	size_t n = fread(text, 1, PLEIN_CARD_MAX_BYTES + 1, f);
	int bad = ferror(f);
	fclose(f);
	int rc = 0;
	if (bad)
		rc = plein_fail(PLEIN_ERR, "cannot read the network card %s", path);
	else if ((rc = plein_card_parse(out, text, n)) < 0) {
		char why[512];
		snprintf(why, sizeof why, "%s", plein_error());
		rc = plein_fail(PLEIN_EINVAL, "network card %s: %s", path, why);
	}
	free(text);
	return rc;
}

/* s in single quotes for a shell, as a person would paste it. */
static void shell_quote(plein_buf *b, const char *s)
{
	plein_buf_putc(b, '\'');
	for (; *s; s++)
		if (*s == '\'')
			plein_buf_puts(b, "'\\''");
		else
			plein_buf_putc(b, *s);
	plein_buf_putc(b, '\'');
}

int cmd_init_card(cli_ctx *ctx, const char *dir, const char *file)
{
	const char *name = cli_opt(ctx, "name"), *role = cli_opt(ctx, "role");
	int rc;
	if (!name)
		return plein_fail(PLEIN_EINVAL, "'plein init DIR --card FILE' needs --name SITE: the name people see for this site");
	if ((rc = plein_check_text("site name", name, 200)) < 0)
		return rc;
	if (!role)
		role = "branch";
	if ((rc = plein_check_enum("--role", role, join_roles)) < 0)
		return rc;
	plein_card card;
	if ((rc = read_card(&card, file)) < 0)
		return rc;

	plein_site *s = NULL;
	if ((rc = plein_site_create(&s, dir, name)) < 0)
		return rc;
	ctx->site = s; /* main closes it */
	char nid[33], admin[65], pk[65];
	sodium_bin2hex(nid, sizeof nid, card.network_id, sizeof card.network_id);
	sodium_bin2hex(admin, sizeof admin, card.admin_pk, sizeof card.admin_pk);
	sodium_bin2hex(pk, sizeof pk, s->pk, sizeof s->pk);
	if ((rc = plein_db_begin(s->db)) < 0)
		return rc;
	if ((rc = plein_site_local_set(s, "network_name", card.network)) < 0 ||
	    (rc = plein_site_local_set(s, "network_id", nid)) < 0 ||
	    (rc = plein_site_local_set(s, "admin_pk", admin)) < 0 ||
	    (rc = plein_site_local_set(s, "role", role)) < 0 ||
	    (rc = plein_db_commit(s->db)) < 0) {
		plein_db_rollback(s->db);
		return rc;
	}
	for (int i = 0; i < card.npeers; i++) {
		char key[48];
		snprintf(key, sizeof key, "peer.peer%d.url", i + 1);
		plein_conf_set(s->conf, key, card.peers[i]);
	}
	if (card.npeers && (rc = plein_site_save_conf(s)) < 0)
		return rc;
	if (cli_tty()) {
		plein_buf hint = PLEIN_BUF_INIT;
		plein_buf_printf(&hint, "Created site \"%s\" in %s, joining the network \"%s\".\n"
				 "Ask the coordinator to admit this site: plein admit %s --key %s --name ",
				 name, dir, card.network, s->id, pk);
		shell_quote(&hint, name);
		plein_buf_printf(&hint, " --role %s\n", role);
		fputs(plein_buf_cstr(&hint), stderr);
		plein_buf_free(&hint);
	}
	printf("%s\n", s->id);
	return 0;
}

/* The full key of a site to admit: --key, this site, the roster, or a
 * batch of it in log.git. */
static int admit_key(plein_site *s, const char *id, const char *keyhex, unsigned char pk[32])
{
	if (keyhex) {
		size_t n = 0;
		char derived[PLEIN_SITEID_LEN + 1];
		if (strlen(keyhex) != 64 || sodium_hex2bin(pk, 32, keyhex, 64, NULL, &n, NULL) != 0 || n != 32)
			return plein_fail(PLEIN_EINVAL, "--key must be 64 hex characters, as 'plein id --key' prints them at the site");
		plein_siteid_from_key(derived, pk);
		if (strcmp(derived, id) != 0)
			return plein_fail(PLEIN_EINVAL, "--key belongs to site %s, not to %s; copy the key that 'plein id --key' prints at site %s",
					  derived, id, id);
		return 0;
	}
	if (strcmp(id, s->id) == 0) {
		memcpy(pk, s->pk, 32);
		return 0;
	}
	int rc = plein_roster_key(s, id, pk);
	if (rc != PLEIN_ENOTFOUND)
		return rc;
	rc = plein_roster_key_from_log(s, id, pk);
	if (rc == PLEIN_ENOTFOUND)
		return plein_fail(PLEIN_EINVAL, "no batch from %s has reached this site yet; pass --key (printed by 'plein id --key' "
				  "at that site) or sync with it first", id);
	return rc;
}

int cmd_admit(cli_ctx *ctx)
{
	const char *name, *role, *location = cli_opt(ctx, "location"), *keyhex = cli_opt(ctx, "key");
	char id[PLEIN_SITEID_LEN + 1];
	unsigned char pk[32];
	int rc;
	if ((rc = cli_need_pos(ctx, 1, 1)) < 0 || (rc = cli_need(ctx, "name", &name)) < 0 ||
	    (rc = cli_need(ctx, "role", &role)) < 0 || (rc = plein_check_text("--name", name, 200)) < 0 ||
	    (rc = plein_check_enum("--role", role, admit_roles)) < 0)
		return rc;
	if (plein_siteid_normalize(id, cli_pos(ctx, 0)) < 0)
		return plein_fail(PLEIN_EINVAL, "'%s' is not a site id; a site id looks like 7QF3-K9ZT-M2XA-PD4R ('plein id' at that site)",
				  cli_pos(ctx, 0));
	plein_site *s = cli_site(ctx);
	if (!s)
		return plein_error_code();
	/* Refuse a non-coordinator before asking anything else of it. */
	if ((rc = plein_roster_need_admin(s, "admit sites")) < 0 ||
	    (location && (rc = plein_check_exists(s, "location", location)) < 0) ||
	    (rc = admit_key(s, id, keyhex, pk)) < 0)
		return rc;
	if ((rc = plein_db_begin(s->db)) < 0)
		return rc;
	if ((rc = plein_roster_admit(s, id, pk, name, role, location)) < 0 || (rc = plein_db_commit(s->db)) < 0) {
		plein_db_rollback(s->db);
		return rc;
	}
	if (cli_tty())
		fprintf(stderr, "Admitted %s (\"%s\", %s); other sites trust it once this admission reaches them.\n", id, name, role);
	cli_print_id(id);
	return 0;
}

int cmd_revoke(cli_ctx *ctx)
{
	int rc = cli_need_pos(ctx, 1, 1);
	if (rc < 0)
		return rc;
	plein_site *s = cli_site(ctx);
	if (!s)
		return plein_error_code();
	uint64_t after = 0;
	if ((rc = plein_db_begin(s->db)) < 0)
		return rc;
	if ((rc = plein_roster_revoke(s, cli_pos(ctx, 0), &after)) < 0 || (rc = plein_db_commit(s->db)) < 0) {
		plein_db_rollback(s->db);
		return rc;
	}
	if (cli_tty())
		fprintf(stderr, "Revoked: its batches up to %" PRIu64 " stay valid, later ones are refused.\n", after);
	return 0;
}

static const char *col(sqlite3_stmt *st, int c)
{
	return sqlite3_column_type(st, c) == SQLITE_NULL ? NULL : (const char *)sqlite3_column_text(st, c);
}

/* The roster as JSON: typed fields, booleans for the markers. */
static int sites_json(plein_site *s, sqlite3_stmt *st, const char *admin_id)
{
	plein_buf out = PLEIN_BUF_INIT;
	plein_json j;
	int step;
	plein_json_init(&j, &out);
	plein_json_arr_begin(&j);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = col(st, 0);
		plein_json_obj_begin(&j);
		plein_json_key(&j, "id"); plein_json_str(&j, id);
		plein_json_key(&j, "name"); plein_json_str(&j, col(st, 1));
		plein_json_key(&j, "role"); plein_json_str(&j, col(st, 2));
		plein_json_key(&j, "location_id"); plein_json_str(&j, col(st, 3));
		plein_json_key(&j, "location"); plein_json_str(&j, col(st, 4));
		plein_json_key(&j, "status"); plein_json_str(&j, col(st, 5));
		plein_json_key(&j, "revoked_after");
		if (sqlite3_column_type(st, 6) == SQLITE_NULL)
			plein_json_null(&j);
		else
			plein_json_int(&j, sqlite3_column_int64(st, 6));
		plein_json_key(&j, "key"); plein_json_str(&j, col(st, 7));
		plein_json_key(&j, "admin"); plein_json_bool(&j, id && strcmp(id, admin_id) == 0);
		plein_json_key(&j, "this_site"); plein_json_bool(&j, id && strcmp(id, s->id) == 0);
		plein_json_obj_end(&j);
	}
	plein_json_arr_end(&j);
	plein_buf_putc(&out, '\n');
	int rc = step == SQLITE_DONE ? 0 : plein_db_fail(s->db, "reading the roster");
	sqlite3_reset(st);
	if (rc == 0)
		fwrite(out.data, 1, out.len, stdout);
	plein_buf_free(&out);
	return rc;
}

int cmd_sites(cli_ctx *ctx)
{
	int rc = cli_need_pos(ctx, 0, 0);
	if (rc < 0)
		return rc;
	plein_site *s = cli_site(ctx);
	if (!s)
		return plein_error_code();
	unsigned char admin[32];
	char admin_id[PLEIN_SITEID_LEN + 1];
	if ((rc = plein_roster_admin(s, admin)) < 0)
		return rc;
	plein_siteid_from_key(admin_id, admin);
	int json = cli_json(ctx);
	/* The coordinator first, then by name. */
	sqlite3_stmt *st = plein_db_stmt(s->db, json ?
		"SELECT r.id, r.name, r.role, r.location_id, l.name,"
		" CASE WHEN r.revoked_after IS NULL THEN 'toegelaten' ELSE 'ingetrokken na batch ' || r.revoked_after END,"
		" r.revoked_after, r.pk"
		" FROM roster r LEFT JOIN location l ON l.id = r.location_id"
		" ORDER BY r.id <> ?1, r.name, r.id" :
		"SELECT r.id, r.name, r.role, coalesce(l.name, r.location_id) AS location,"
		" CASE WHEN r.revoked_after IS NULL THEN 'toegelaten' ELSE 'ingetrokken na batch ' || r.revoked_after END AS status,"
		" CASE WHEN r.id = ?2 THEN 'deze site' ELSE '' END AS this_site"
		" FROM roster r LEFT JOIN location l ON l.id = r.location_id"
		" ORDER BY r.id <> ?1, r.name, r.id");
	if (!st)
		return PLEIN_ERR;
	sqlite3_bind_text(st, 1, admin_id, -1, SQLITE_TRANSIENT);
	if (!json)
		sqlite3_bind_text(st, 2, s->id, -1, SQLITE_TRANSIENT);
	int64_t mine = 0;
	int on = plein_db_int(s->db, &mine, "SELECT 1 FROM roster WHERE id = ?1", s->id, NULL);
	if (on == PLEIN_ENOTFOUND && cli_tty())
		fprintf(stderr, "This site (%s) is not on the roster here yet: the coordinator's admission reaches it with a sync.\n", s->id);
	return json ? sites_json(s, st, admin_id) : cli_print_rows(ctx, st);
}
