/* The offer: locations, partners and offerings (records.h). */
#include "plein/records.h"

#include <stdio.h>

#include "plein/error.h"
#include "plein/siteid.h"
#include "plein/tz.h"
#include "plein/validate.h"

static const char *const location_kinds[] = { "branch", "community", "mobile", "partner", NULL };
static const char *const referral_methods[] = { "call", "mail", "card", "walk_in", NULL };
static const char *const offering_kinds[] = { "spreekuur", "workshop", "training", "voorlichting", "oefengroep", "activiteit", NULL };

/* One insert in its own transaction. */
static int insert(char id[27], plein_site *s, const char *table, const char *const *cols, const char *const *vals, int n)
{
	int rc = plein_db_begin(s->db);
	if (rc < 0)
		return rc;
	if ((rc = plein_record_insert(s, id, table, cols, vals, n)) < 0 || (rc = plein_db_commit(s->db)) < 0)
		plein_db_rollback(s->db);
	return rc;
}

int plein_location_add(char out_id[27], plein_site *s, const plein_location_spec *sp, plein_names names)
{
	const char *tz = sp->tz ? sp->tz : "Europe/Amsterdam";
	int rc;
	if ((rc = plein_check_text(PLEIN_FIELD(names, "name"), sp->name, 200)) < 0 ||
	    (rc = plein_check_enum(PLEIN_FIELD(names, "kind"), sp->kind, location_kinds)) < 0 ||
	    (sp->address && (rc = plein_check_text(PLEIN_FIELD(names, "address"), sp->address, 500)) < 0))
		return rc;
	if (!plein_tz_valid(tz))
		return plein_fail(PLEIN_EINVAL, "unknown time zone '%s'; use an IANA name such as Europe/Amsterdam", tz);
	const char *cols[] = { "name", "kind", "address", "tz" };
	const char *vals[] = { sp->name, sp->kind, sp->address, tz };
	return insert(out_id, s, "location", cols, vals, 4);
}

int plein_partner_add(char out_id[27], plein_site *s, const plein_partner_spec *sp, plein_names names)
{
	char site_norm[PLEIN_SITEID_LEN + 1], attempts[24];
	int rc;
	if ((rc = plein_check_text(PLEIN_FIELD(names, "name"), sp->name, 200)) < 0 ||
	    (sp->referral_method && (rc = plein_check_enum(PLEIN_FIELD(names, "referral-method"), sp->referral_method, referral_methods)) < 0) ||
	    (sp->max_attempts != -1 && (rc = plein_check_range(names, "max-attempts", sp->max_attempts, 1, PLEIN_MAX_ATTEMPTS_MAX)) < 0))
		return rc;
	const struct { const char *opt, *v; } texts[] = {
		{ "kind", sp->kind }, { "website", sp->website }, { "phone", sp->phone },
		{ "email", sp->email }, { "reachable", sp->reachable },
	};
	for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
		if (texts[i].v && (rc = plein_check_text(PLEIN_FIELD(names, texts[i].opt), texts[i].v, 500)) < 0)
			return rc;
	if (sp->site_id && plein_siteid_normalize(site_norm, sp->site_id) < 0)
		return plein_fail(PLEIN_EINVAL, "%s '%s' is not a site id; a site id looks like 7QF3-K9ZT-M2XA-PD4R ('plein id' at that site)",
				  PLEIN_FIELD(names, "site"), sp->site_id);
	snprintf(attempts, sizeof attempts, "%ld", sp->max_attempts);
	const char *cols[] = { "name", "kind", "website", "phone", "email", "reachable", "referral_method", "max_attempts", "site_id" };
	const char *vals[] = { sp->name, sp->kind, sp->website, sp->phone, sp->email, sp->reachable, sp->referral_method,
			       sp->max_attempts > 0 ? attempts : NULL, sp->site_id ? site_norm : NULL };
	return insert(out_id, s, "partner", cols, vals, 9);
}

int plein_offering_add(char out_id[27], plein_site *s, const plein_offering_spec *sp, plein_names names)
{
	char cap[24];
	int rc;
	if ((rc = plein_check_enum(PLEIN_FIELD(names, "kind"), sp->kind, offering_kinds)) < 0 ||
	    (rc = plein_check_text(PLEIN_FIELD(names, "title"), sp->title, 200)) < 0 ||
	    (sp->description && (rc = plein_check_text(PLEIN_FIELD(names, "description"), sp->description, 4000)) < 0) ||
	    (sp->capacity != -1 && (rc = plein_check_range(names, "capacity", sp->capacity, 1, PLEIN_CAPACITY_MAX)) < 0) ||
	    (rc = plein_check_exists(s, "partner", sp->partner_id)) < 0 || (rc = plein_check_term(s, "theme", sp->theme)) < 0)
		return rc;
	snprintf(cap, sizeof cap, "%ld", sp->capacity);
	const char *cols[] = { "partner_id", "theme", "kind", "title", "description", "capacity", "signup_required" };
	const char *vals[] = { sp->partner_id, sp->theme, sp->kind, sp->title, sp->description,
			       sp->capacity > 0 ? cap : NULL, sp->signup ? "1" : "0" };
	return insert(out_id, s, "offering", cols, vals, 7);
}

sqlite3_stmt *plein_location_list(plein_site *s)
{
	return plein_db_stmt(s->db, "SELECT id, name, kind, address, tz FROM location ORDER BY name, id");
}

sqlite3_stmt *plein_partner_list(plein_site *s)
{
	return plein_db_stmt(s->db, "SELECT id, name, kind, phone, email, reachable, referral_method, max_attempts, site_id"
				    " FROM partner ORDER BY name, id");
}

sqlite3_stmt *plein_offering_list(plein_site *s)
{
	return plein_db_stmt(s->db, "SELECT o.id, p.name AS partner, o.theme, o.kind, o.title, o.capacity, o.signup_required AS signup"
				    " FROM offering o LEFT JOIN partner p ON p.id = o.partner_id ORDER BY o.theme, o.title, o.id");
}
