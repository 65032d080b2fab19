/* Who may read sealed personal data (design §8, docs/sealed.md,
 * "Recipients"). Everyone else — the coordinator included — stores and
 * forwards the envelope without being able to open it. A site whose key
 * is not known here (not admitted yet, or revoked) is left out: the
 * details then stay with the sites that can read them. */
#include "plein/recipients.h"

#include <string.h>

#include "plein/error.h"

static void add(plein_recipients *r, const unsigned char pk[32])
{
	for (int i = 0; i < r->n; i++)
		if (memcmp(r->pk[i], pk, 32) == 0)
			return;
	if (r->n < PLEIN_SEAL_MAX_RECIPIENTS)
		memcpy(r->pk[r->n++], pk, 32);
}

/* The site ids of sql's rows (one bound text argument), each added when
 * its key is known and the site is not revoked. */
static int add_sites(plein_recipients *r, plein_site *s, const char *sql, const char *arg)
{
	if (!arg)
		return 0;
	sqlite3_stmt *st = plein_db_stmt(s->db, sql);
	if (!st)
		return PLEIN_ERR;
	sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT);
	int step, rc = 0;
	while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *site = (const char *)sqlite3_column_text(st, 0);
		unsigned char pk[32];
		int64_t revoked = 0;
		if (!site)
			continue;
		if (plein_db_int(s->db, &revoked, "SELECT revoked_after IS NOT NULL FROM roster WHERE id = ?1", site, NULL) == 0 &&
		    revoked)
			continue;
		plein_error_clear();
		int k = plein_site_key_lookup(s, site, pk);
		if (k == 0)
			add(r, pk);
		else if (k == PLEIN_ENOTFOUND)
			plein_error_clear();
		else
			rc = k;
	}
	sqlite3_reset(st);
	return rc;
}

static void init(plein_recipients *out, plein_site *s)
{
	memset(out, 0, sizeof *out);
	add(out, s->pk); /* the writing site first (docs/sealed.md) */
}

int plein_recipients_referral(plein_recipients *out, plein_site *s, const char *partner_id)
{
	init(out, s);
	return add_sites(out, s, "SELECT site_id FROM partner WHERE id = ?1", partner_id);
}

int plein_recipients_signup(plein_recipients *out, plein_site *s, const char *location_id, const char *partner_id)
{
	init(out, s);
	int rc = add_sites(out, s, "SELECT id FROM roster WHERE location_id = ?1 ORDER BY id", location_id);
	if (rc == 0)
		rc = add_sites(out, s, "SELECT site_id FROM partner WHERE id = ?1", partner_id);
	return rc;
}
