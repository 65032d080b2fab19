/* The offer: locations, partners, terms, offerings. */
#include <string.h>

#include "commands.h"
#include "plein/error.h"
#include "plein/siteid.h"
#include "plein/tz.h"
#include "plein/validate.h"

static const char *const location_kinds[] = { "branch", "community", "mobile", "partner", NULL };
static const char *const referral_methods[] = { "call", "mail", "card", "walk_in", NULL };
static const char *const offering_kinds[] = { "spreekuur", "workshop", "training", "voorlichting", "oefengroep", "activiteit", NULL };

/* Run a write in one transaction and print the new id. */
static int insert_and_print(plein_site *s, const char *table, const char *const *cols, const char *const *vals, int n)
{
	char id[27];
	int rc = plein_db_begin(s->db);
	if (rc < 0)
		return rc;
	if ((rc = plein_record_insert(s, id, table, cols, vals, n)) < 0 || (rc = plein_db_commit(s->db)) < 0) {
		plein_db_rollback(s->db);
		return rc;
	}
	cli_print_id(id);
	return 0;
}

static int list(cli_ctx *ctx, const char *sql)
{
	plein_site *s = cli_site(ctx);
	if (!s)
		return plein_error_code();
	sqlite3_stmt *st = plein_db_stmt(s->db, sql);
	return st ? cli_print_rows(ctx, st) : PLEIN_ERR;
}

int cmd_location_add(cli_ctx *ctx)
{
	const char *name, *kind, *address = cli_opt(ctx, "address"), *tz = cli_opt(ctx, "tz");
	int rc;
	if ((rc = cli_need_pos(ctx, 0, 0)) < 0 || (rc = cli_need(ctx, "name", &name)) < 0 ||
	    (rc = cli_need(ctx, "kind", &kind)) < 0 || (rc = plein_check_text("--name", name, 200)) < 0 ||
	    (rc = plein_check_enum("--kind", kind, location_kinds)) < 0 ||
	    (address && (rc = plein_check_text("--address", address, 500)) < 0))
		return rc;
	if (!tz)
		tz = "Europe/Amsterdam";
	if (!plein_tz_valid(tz))
		return plein_fail(PLEIN_EINVAL, "unknown time zone '%s'; use an IANA name such as Europe/Amsterdam", tz);
	plein_site *s = cli_site(ctx);
	if (!s)
		return plein_error_code();
	const char *cols[] = { "name", "kind", "address", "tz" };
	const char *vals[] = { name, kind, address, tz };
	return insert_and_print(s, "location", cols, vals, 4);
}

int cmd_location_list(cli_ctx *ctx)
{
	return list(ctx, "SELECT id, name, kind, address, tz FROM location ORDER BY name, id");
}

int cmd_partner_add(cli_ctx *ctx)
{
	const char *name, *method = cli_opt(ctx, "referral-method"), *site = cli_opt(ctx, "site");
	long max_attempts = -1;
	char site_norm[PLEIN_SITEID_LEN + 1];
	int rc;
	if ((rc = cli_need_pos(ctx, 0, 0)) < 0 || (rc = cli_need(ctx, "name", &name)) < 0 ||
	    (rc = plein_check_text("--name", name, 200)) < 0 ||
	    (method && (rc = plein_check_enum("--referral-method", method, referral_methods)) < 0) ||
	    (rc = cli_opt_int(ctx, "max-attempts", 1, 100, &max_attempts)) < 0)
		return rc;
	static const char *const text_opts[] = { "kind", "website", "phone", "email", "reachable" };
	for (size_t i = 0; i < sizeof text_opts / sizeof *text_opts; i++) {
		const char *v = cli_opt(ctx, text_opts[i]);
		char what[32];
		snprintf(what, sizeof what, "--%s", text_opts[i]);
		if (v && (rc = plein_check_text(what, v, 500)) < 0)
			return rc;
	}
	if (site && plein_siteid_normalize(site_norm, site) < 0)
		return plein_fail(PLEIN_EINVAL, "--site '%s' is not a site id; a site id looks like 7QF3-K9ZT-M2XA-PD4R ('plein id' at that site)", site);
	plein_site *s = cli_site(ctx);
	if (!s)
		return plein_error_code();
	char attempts[24];
	snprintf(attempts, sizeof attempts, "%ld", max_attempts);
	const char *cols[] = { "name", "kind", "website", "phone", "email", "reachable", "referral_method", "max_attempts", "site_id" };
	const char *vals[] = { name, cli_opt(ctx, "kind"), cli_opt(ctx, "website"), cli_opt(ctx, "phone"), cli_opt(ctx, "email"),
			       cli_opt(ctx, "reachable"), method, max_attempts > 0 ? attempts : NULL, site ? site_norm : NULL };
	return insert_and_print(s, "partner", cols, vals, 9);
}

int cmd_partner_list(cli_ctx *ctx)
{
	return list(ctx, "SELECT id, name, kind, phone, email, reachable, referral_method, max_attempts, site_id"
			 " FROM partner ORDER BY name, id");
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
	const char *partner, *theme, *kind, *title, *desc = cli_opt(ctx, "description");
	long capacity = -1;
	int rc;
	if ((rc = cli_need_pos(ctx, 0, 0)) < 0 || (rc = cli_need(ctx, "partner", &partner)) < 0 ||
	    (rc = cli_need(ctx, "theme", &theme)) < 0 || (rc = cli_need(ctx, "kind", &kind)) < 0 ||
	    (rc = cli_need(ctx, "title", &title)) < 0 || (rc = plein_check_enum("--kind", kind, offering_kinds)) < 0 ||
	    (rc = plein_check_text("--title", title, 200)) < 0 ||
	    (desc && (rc = plein_check_text("--description", desc, 4000)) < 0) ||
	    (rc = cli_opt_int(ctx, "capacity", 1, 100000, &capacity)) < 0)
		return rc;
	plein_site *s = cli_site(ctx);
	if (!s)
		return plein_error_code();
	if ((rc = plein_check_exists(s, "partner", partner)) < 0 || (rc = plein_check_term(s, "theme", theme)) < 0)
		return rc;
	char cap[24];
	snprintf(cap, sizeof cap, "%ld", capacity);
	const char *cols[] = { "partner_id", "theme", "kind", "title", "description", "capacity", "signup_required" };
	const char *vals[] = { partner, theme, kind, title, desc, capacity > 0 ? cap : NULL, cli_flag(ctx, "signup") ? "1" : "0" };
	return insert_and_print(s, "offering", cols, vals, 7);
}

int cmd_offering_list(cli_ctx *ctx)
{
	return list(ctx, "SELECT o.id, p.name AS partner, o.theme, o.kind, o.title, o.capacity, o.signup_required AS signup"
			 " FROM offering o LEFT JOIN partner p ON p.id = o.partner_id ORDER BY o.theme, o.title, o.id");
}
