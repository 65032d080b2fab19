/* The offer: locations, partners, terms, offerings (plein/records.h
 * checks and writes; this file turns options into specs). */
#include <string.h>

#include "commands.h"
#include "plein/error.h"
#include "plein/records.h"
#include "plein/validate.h"

static int print_new(int rc, const char *id)
{
	if (rc == 0)
		cli_print_id(id);
	return rc;
}

static int list(cli_ctx *ctx, sqlite3_stmt *(*stmt)(plein_site *))
{
	plein_site *s = cli_site(ctx);
	if (!s)
		return plein_error_code();
	sqlite3_stmt *st = stmt(s);
	return st ? cli_print_rows(ctx, st) : PLEIN_ERR;
}

int cmd_location_add(cli_ctx *ctx)
{
	plein_location_spec sp = { .address = cli_opt(ctx, "address"), .tz = cli_opt(ctx, "tz") };
	char id[27];
	int rc;
	if ((rc = cli_need_pos(ctx, 0, 0)) < 0 || (rc = cli_need(ctx, "name", &sp.name)) < 0 ||
	    (rc = cli_need(ctx, "kind", &sp.kind)) < 0)
		return rc;
	plein_site *s = cli_site(ctx);
	if (!s)
		return plein_error_code();
	return print_new(plein_location_add(id, s, &sp, PLEIN_NAMES_CLI), id);
}

int cmd_location_list(cli_ctx *ctx)
{
	return list(ctx, plein_location_list);
}

int cmd_partner_add(cli_ctx *ctx)
{
	plein_partner_spec sp = {
		.kind = cli_opt(ctx, "kind"), .website = cli_opt(ctx, "website"), .phone = cli_opt(ctx, "phone"),
		.email = cli_opt(ctx, "email"), .reachable = cli_opt(ctx, "reachable"),
		.referral_method = cli_opt(ctx, "referral-method"), .max_attempts = -1, .site_id = cli_opt(ctx, "site"),
	};
	char id[27];
	int rc;
	if ((rc = cli_need_pos(ctx, 0, 0)) < 0 || (rc = cli_need(ctx, "name", &sp.name)) < 0 ||
	    (rc = cli_opt_int(ctx, "max-attempts", 1, PLEIN_MAX_ATTEMPTS_MAX, &sp.max_attempts)) < 0)
		return rc;
	plein_site *s = cli_site(ctx);
	if (!s)
		return plein_error_code();
	return print_new(plein_partner_add(id, s, &sp, PLEIN_NAMES_CLI), id);
}

int cmd_partner_list(cli_ctx *ctx)
{
	return list(ctx, plein_partner_list);
}

int cmd_term_list(cli_ctx *ctx)
{
	static const char *const schemes[] = { "theme", "question", "agency", NULL };
	const char *scheme = cli_opt(ctx, "scheme");
	int rc;
	if (scheme && (rc = plein_check_enum("--scheme", scheme, schemes)) < 0)
		return rc;
	plein_site *s = cli_site(ctx);
	if (!s)
		return plein_error_code();
	sqlite3_stmt *st = plein_db_stmt(s->db,
		"SELECT scheme, code, label FROM term WHERE ?1 IS NULL OR scheme = ?1 ORDER BY scheme, code");
	if (!st)
		return PLEIN_ERR;
	if (scheme)
		sqlite3_bind_text(st, 1, scheme, -1, SQLITE_STATIC);
	return cli_print_rows(ctx, st);
}

int cmd_offering_add(cli_ctx *ctx)
{
	plein_offering_spec sp = { .description = cli_opt(ctx, "description"), .capacity = -1, .signup = cli_flag(ctx, "signup") };
	char id[27];
	int rc;
	if ((rc = cli_need_pos(ctx, 0, 0)) < 0 || (rc = cli_need(ctx, "partner", &sp.partner_id)) < 0 ||
	    (rc = cli_need(ctx, "theme", &sp.theme)) < 0 || (rc = cli_need(ctx, "kind", &sp.kind)) < 0 ||
	    (rc = cli_need(ctx, "title", &sp.title)) < 0 ||
	    (rc = cli_opt_int(ctx, "capacity", 1, PLEIN_CAPACITY_MAX, &sp.capacity)) < 0)
		return rc;
	plein_site *s = cli_site(ctx);
	if (!s)
		return plein_error_code();
	return print_new(plein_offering_add(id, s, &sp, PLEIN_NAMES_CLI), id);
}

int cmd_offering_list(cli_ctx *ctx)
{
	return list(ctx, plein_offering_list);
}
