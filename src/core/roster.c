/* Membership: the roster (who may sign for the network) and the network
 * card (how a new site learns which network it joins). docs/roster.md,
 * docs/network-card.md. */
#include "plein/roster.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plein/batch.h"
#include "plein/error.h"
#include "plein/log.h"
#include "plein/schema.h"
#include "plein/siteid.h"

static const char *const roles[] = { "coordinator", "branch", "mobile", "partner", NULL };

/* Exactly n bytes from 2n lowercase hex characters. */
static int from_hex(unsigned char *out, size_t n, const char *hex)
{
	if (!hex || strlen(hex) != 2 * n)
		return -1;
	for (const char *p = hex; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return -1;
	size_t got = 0;
	return sodium_hex2bin(out, n, hex, 2 * n, NULL, &got, NULL) == 0 && got == n ? 0 : -1;
}

/* The network's name for messages (caller frees). */
static char *network_name(plein_site *s)
{
	char *n = plein_site_local_get(s, "network_name");
	return n ? n : plein_xstrdup("this network");
}

int plein_roster_admin(plein_site *s, unsigned char out_pk[32])
{
	char *hex = plein_site_local_get(s, "admin_pk");
	int bad = from_hex(out_pk, 32, hex) < 0;
	free(hex);
	if (bad) {
		memset(out_pk, 0, 32);
		return plein_fail(PLEIN_ERR, "this site does not know its network's admin key; "
				  "was it made with 'plein init --new-network' or 'plein init --card'?");
	}
	return 0;
}

/* Text for a roster column: non-empty, bounded, no control characters. */
static int check_text(const char *what, const char *v, size_t max)
{
	if (!v || !*v)
		return plein_fail(PLEIN_EINVAL, "%s is empty", what);
	if (strlen(v) > max)
		return plein_fail(PLEIN_EINVAL, "%s is longer than %zu bytes; shorten it", what, max);
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return plein_fail(PLEIN_EINVAL, "%s contains a control character", what);
	return 0;
}

int plein_roster_admin_only(plein_site *s, int tid)
{
	int roster = plein_roster_tid(s);
	if (roster < 0)
		return roster;
	const plein_table *t = plein_schema_table(s->schema, PLEIN_NETWORK_TABLE);
	return tid == roster || (t && t->tid == tid);
}

int plein_roster_record_network(plein_site *s)
{
	int rc = plein_roster_is_admin(s);
	if (rc <= 0 || !plein_schema_table(s->schema, PLEIN_NETWORK_TABLE)) {
		plein_error_clear(); /* no admin key: not this function's to report */
		return 0;
	}
	char *name = plein_site_local_get(s, "network_name");
	char *nid = plein_site_local_get(s, "network_id");
	/* The name is the card's; writing it only when it differs keeps a
	 * second run from putting anything in the log. */
	sqlite3_stmt *st = name && nid ? plein_db_stmt(s->db,
		"INSERT INTO network(id, name) VALUES (?1, ?2)"
		" ON CONFLICT(id) DO UPDATE SET name = excluded.name WHERE name IS NOT excluded.name") : NULL;
	if (st) {
		sqlite3_bind_text(st, 1, nid, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = plein_db_fail(s->db, "writing the network's name");
		else
			rc = 0;
		sqlite3_reset(st);
	} else {
		rc = name && nid ? PLEIN_ERR : 0;
	}
	free(name);
	free(nid);
	return rc;
}

int plein_roster_network_from_table(plein_site *s)
{
	char *nid = plein_site_local_get(s, "network_id"), *name = NULL;
	sqlite3_stmt *st = nid ? plein_db_stmt(s->db, "SELECT name FROM network WHERE id = ?1") : NULL;
	int rc = nid && !st ? PLEIN_ERR : 0;
	if (st) {
		sqlite3_bind_text(st, 1, nid, -1, SQLITE_TRANSIENT);
		int step = sqlite3_step(st);
		if (step == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_TEXT)
			name = plein_xstrdup((const char *)sqlite3_column_text(st, 0));
		else if (step != SQLITE_ROW && step != SQLITE_DONE)
			rc = plein_db_fail(s->db, "reading the network's name");
		sqlite3_reset(st);
	}
	/* Only a name a card could carry: plein card must be able to print it. */
	if (rc == 0 && name) {
		if (check_text("the network name", name, PLEIN_CARD_MAX_NAME) == 0)
			rc = plein_site_local_set(s, "network_name", name);
		else
			plein_error_clear(); /* messages keep saying "this network" */
	}
	free(name);
	free(nid);
	return rc;
}

int plein_roster_is_admin(plein_site *s)
{
	unsigned char admin[32];
	int rc = plein_roster_admin(s, admin);
	if (rc < 0)
		return rc;
	return sodium_memcmp(admin, s->pk, 32) == 0;
}

int plein_roster_tid(plein_site *s)
{
	const plein_table *t = plein_schema_table(s->schema, PLEIN_ROSTER_TABLE);
	if (!t || t->tid <= 0)
		return plein_fail(PLEIN_ERR, "this replica's schema has no roster table; upgrade plein");
	return t->tid;
}

/* The roster row of a canonical site id: its key (hex, caller frees) and
 * revoked_after (-1: admitted). PLEIN_ENOTFOUND without a message. */
static int read_row(plein_site *s, const char *id, char **out_pk, int64_t *out_after)
{
	*out_pk = NULL;
	*out_after = -1;
	sqlite3_stmt *st = plein_db_stmt(s->db, "SELECT pk, revoked_after FROM roster WHERE id = ?1");
	if (!st)
		return PLEIN_ERR;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	int step = sqlite3_step(st), rc = 0;
	if (step == SQLITE_ROW) {
		if (sqlite3_column_type(st, 0) == SQLITE_TEXT)
			*out_pk = plein_xstrdup((const char *)sqlite3_column_text(st, 0));
		if (sqlite3_column_type(st, 1) != SQLITE_NULL)
			*out_after = sqlite3_column_int64(st, 1);
	} else if (step == SQLITE_DONE) {
		rc = PLEIN_ENOTFOUND;
	} else {
		rc = plein_db_fail(s->db, "reading the roster");
	}
	sqlite3_reset(st);
	return rc;
}

int plein_roster_check(plein_site *s, const unsigned char pk[32], uint64_t seq)
{
	unsigned char admin[32], have[32];
	int rc = plein_roster_admin(s, admin);
	if (rc < 0)
		return rc;
	if (sodium_memcmp(admin, pk, 32) == 0)
		return 0;
	char id[PLEIN_SITEID_LEN + 1];
	plein_siteid_from_key(id, pk);
	char *hex = NULL, *net = NULL;
	int64_t after = -1;
	rc = read_row(s, id, &hex, &after);
	if (rc == PLEIN_ERR)
		goto out;
	net = network_name(s);
	if (rc == PLEIN_ENOTFOUND) {
		rc = plein_fail(PLEIN_ENOTFOUND, "site %s is not on the roster of \"%s\" (yet): "
				"its changes are held until the coordinator admits it", id, net);
	} else if (from_hex(have, 32, hex) < 0) {
		/* A row without a usable key admits nobody; a later admission may mend it. */
		rc = plein_fail(PLEIN_ENOTFOUND, "site %s is on the roster of \"%s\" without a valid key: "
				"its changes are held until the coordinator admits it again", id, net);
	} else if (sodium_memcmp(have, pk, 32) != 0) {
		rc = plein_fail(PLEIN_EREJECT, "site id %s is on the roster with another key: refused", id);
	} else if (after >= 0 && seq > (uint64_t)after) {
		rc = plein_fail(PLEIN_EREJECT, "site %s was revoked after batch %" PRId64 ": batch %" PRIu64 " refused",
				id, after, seq);
	}
out:
	free(hex);
	free(net);
	return rc;
}

static int normalize(char out[PLEIN_SITEID_LEN + 1], const char *site_id)
{
	if (!site_id || plein_siteid_normalize(out, site_id) < 0)
		return plein_fail(PLEIN_EINVAL, "'%s' is not a site id; a site id looks like 7QF3-K9ZT-M2XA-PD4R ('plein id' at that site)",
				  site_id ? site_id : "");
	return 0;
}

int plein_roster_key(plein_site *s, const char *site_id, unsigned char out_pk[32])
{
	char id[PLEIN_SITEID_LEN + 1], derived[PLEIN_SITEID_LEN + 1];
	char *hex = NULL;
	int64_t after;
	int rc = normalize(id, site_id);
	if (rc < 0)
		return rc;
	rc = read_row(s, id, &hex, &after);
	if (rc == PLEIN_ENOTFOUND)
		rc = plein_fail(PLEIN_ENOTFOUND, "site %s is not on the roster ('plein sites' lists it)", id);
	else if (rc == 0 && from_hex(out_pk, 32, hex) < 0)
		rc = plein_fail(PLEIN_EREJECT, "the roster's key for site %s is damaged", id);
	else if (rc == 0) {
		plein_siteid_from_key(derived, out_pk);
		if (strcmp(derived, id) != 0)
			rc = plein_fail(PLEIN_EREJECT, "the roster's key for site %s belongs to site %s; the roster is damaged", id, derived);
	}
	free(hex);
	return rc;
}

/* The key in the tip batch of a chain (ref name or site id), if its
 * signature verifies and the key is site id's. 1: found, 0: not. */
static int key_in_chain(plein_log *log, const char *chain, const char *id, unsigned char out_pk[32])
{
	plein_log_entry e;
	plein_batch_header h;
	char derived[PLEIN_SITEID_LEN + 1];
	int found = 0;
	memset(&e, 0, sizeof e);
	if (plein_log_read(&e, log, chain, 0) == 0 && e.sig.len == PLEIN_BATCH_SIG_BYTES &&
	    plein_batch_verify(&h, e.header.data, e.header.len, e.sig.data) == 0) {
		plein_siteid_from_key(derived, h.site_pk);
		if (strcmp(derived, id) == 0) {
			memcpy(out_pk, h.site_pk, 32);
			found = 1;
		}
	}
	plein_log_entry_free(&e);
	return found;
}

int plein_roster_key_from_log(plein_site *s, const char *site_id, unsigned char out_pk[32])
{
	char id[PLEIN_SITEID_LEN + 1];
	int rc = normalize(id, site_id);
	if (rc < 0)
		return rc;
	plein_log *log = plein_site_log(s);
	if (!log)
		return plein_error_code() ? plein_error_code() : PLEIN_ERR;
	plein_log_ref tip;
	if ((rc = plein_log_tip(&tip, log, id)) < 0)
		return rc;
	if (tip.seq > 0 && key_in_chain(log, id, id, out_pk))
		return 0;
	/* Held batches and unverified incoming chains: damaged or foreign
	 * ones are skipped, the signature decides. */
	int found = 0;
	for (int pass = 0; pass < 2 && !found; pass++) {
		plein_log_ref *v = NULL;
		size_t n = 0;
		rc = pass == 0 ? plein_log_held(&v, &n, log) : plein_log_incoming(&v, &n, log, NULL);
		for (size_t i = 0; rc == 0 && i < n && !found; i++)
			if (strcmp(v[i].site, id) == 0)
				found = key_in_chain(log, v[i].name, id, out_pk);
		free(v);
		if (rc < 0)
			return rc;
	}
	if (!found)
		return plein_fail(PLEIN_ENOTFOUND, "no batch from %s has reached this site yet", id);
	return 0;
}

int plein_roster_need_admin(plein_site *s, const char *what)
{
	int rc = plein_roster_is_admin(s);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		char *net = network_name(s);
		plein_fail(PLEIN_EINVAL, "only the coordinator of \"%s\" can %s, and this site (%s) is not the coordinator; "
			   "run the command at the coordinator's site", net, what, s->id);
		free(net);
		return PLEIN_EINVAL;
	}
	return 0;
}

int plein_roster_admit(plein_site *s, const char *site_id, const unsigned char pk[32],
		       const char *name, const char *role, const char *location_id)
{
	char id[PLEIN_SITEID_LEN + 1], derived[PLEIN_SITEID_LEN + 1], hex[65];
	int rc;
	if ((rc = plein_roster_need_admin(s, "admit sites")) < 0 || (rc = normalize(id, site_id)) < 0 ||
	    (rc = check_text("the site name", name, 200)) < 0 ||
	    (location_id && (rc = check_text("the location id", location_id, 200)) < 0))
		return rc;
	int known = 0;
	for (int i = 0; role && roles[i]; i++)
		known |= strcmp(role, roles[i]) == 0;
	if (!known)
		return plein_fail(PLEIN_EINVAL, "role '%s' is not one of coordinator, branch, mobile, partner", role ? role : "");
	plein_siteid_from_key(derived, pk);
	if (strcmp(derived, id) != 0)
		return plein_fail(PLEIN_EINVAL, "that key belongs to site %s, not to %s; "
				  "copy the key that 'plein id --key' prints at site %s", derived, id, id);
	char *old = NULL;
	int64_t after;
	unsigned char oldpk[32];
	rc = read_row(s, id, &old, &after);
	if (rc == 0 && old && from_hex(oldpk, 32, old) == 0 && sodium_memcmp(oldpk, pk, 32) != 0)
		rc = plein_fail(PLEIN_EINVAL, "site id %s is on the roster with another key; nothing changed", id);
	free(old);
	if (rc < 0 && rc != PLEIN_ENOTFOUND)
		return rc;
	sodium_bin2hex(hex, sizeof hex, pk, 32);
	/* Capture records only the columns whose value changed, so admitting
	 * a site again unchanged puts nothing in the log. */
	sqlite3_stmt *st = plein_db_stmt(s->db,
		"INSERT INTO roster(id, pk, name, role, location_id, revoked_after) VALUES (?1, ?2, ?3, ?4, ?5, NULL)"
		" ON CONFLICT(id) DO UPDATE SET pk = excluded.pk, name = excluded.name, role = excluded.role,"
		" location_id = excluded.location_id, revoked_after = NULL");
	if (!st)
		return PLEIN_ERR;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, hex, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, role, -1, SQLITE_TRANSIENT);
	if (location_id)
		sqlite3_bind_text(st, 5, location_id, -1, SQLITE_TRANSIENT);
	return plein_db_step_done(s->db, st);
}

int plein_roster_revoke(plein_site *s, const char *site_id, uint64_t *out_after)
{
	char id[PLEIN_SITEID_LEN + 1], admin_id[PLEIN_SITEID_LEN + 1];
	unsigned char admin[32];
	int rc;
	if (out_after)
		*out_after = 0;
	if ((rc = plein_roster_need_admin(s, "revoke sites")) < 0 || (rc = normalize(id, site_id)) < 0 ||
	    (rc = plein_roster_admin(s, admin)) < 0)
		return rc;
	plein_siteid_from_key(admin_id, admin);
	if (strcmp(id, admin_id) == 0)
		return plein_fail(PLEIN_EINVAL, "site %s holds the network's admin key and cannot be revoked", id);
	char *hex = NULL;
	int64_t after;
	rc = read_row(s, id, &hex, &after);
	free(hex);
	if (rc == PLEIN_ENOTFOUND)
		return plein_fail(PLEIN_ENOTFOUND, "site %s is not on the roster ('plein sites' lists the sites)", id);
	if (rc < 0)
		return rc;
	if (after >= 0)
		return plein_fail(PLEIN_EINVAL, "site %s was already revoked after batch %" PRId64 "; nothing changed "
				  "('plein admit' admits it again)", id, after);
	plein_log *log = plein_site_log(s);
	plein_log_ref tip;
	if (!log)
		return plein_error_code() ? plein_error_code() : PLEIN_ERR;
	if ((rc = plein_log_tip(&tip, log, id)) < 0)
		return rc;
	sqlite3_stmt *st = plein_db_stmt(s->db, "UPDATE roster SET revoked_after = ?2 WHERE id = ?1");
	if (!st)
		return PLEIN_ERR;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, (int64_t)tip.seq);
	if ((rc = plein_db_step_done(s->db, st)) == 0 && out_after)
		*out_after = tip.seq;
	return rc;
}

/* ---- the network card ------------------------------------------------ */

/* Length of the valid UTF-8 sequence at p (at most n bytes), or 0. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	size_t len;
	uint32_t c;
	if (p[0] < 0x80)
		return 1;
	else if ((p[0] & 0xe0) == 0xc0)
		len = 2, c = p[0] & 0x1f;
	else if ((p[0] & 0xf0) == 0xe0)
		len = 3, c = p[0] & 0x0f;
	else if ((p[0] & 0xf8) == 0xf0)
		len = 4, c = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	static const uint32_t min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	if (c < min[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	return len;
}

/* A network name: 1..MAX_NAME bytes of UTF-8 text, no control
 * characters, no space at either end. NULL when good, else the problem. */
static const char *name_problem(const char *v, size_t n)
{
	if (n == 0)
		return "the network name is empty";
	if (n > PLEIN_CARD_MAX_NAME)
		return "the network name is longer than 200 bytes";
	if (v[0] == ' ' || v[n - 1] == ' ')
		return "the network name starts or ends with a space";
	const unsigned char *p = (const unsigned char *)v;
	for (size_t i = 0; i < n;) {
		if (p[i] < 0x20 || p[i] == 0x7f)
			return "the network name contains a control character";
		size_t k = utf8_len(p + i, n - i);
		if (!k)
			return "the network name is not valid UTF-8";
		i += k;
	}
	return NULL;
}

static const char *peer_problem(const char *v, size_t n)
{
	if (n == 0)
		return "the peer address is empty";
	if (n > PLEIN_CARD_MAX_URL)
		return "the peer address is longer than 1000 bytes";
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] <= 0x20 || (unsigned char)v[i] >= 0x7f)
			return "the peer address may hold printable ASCII only, no spaces";
	return NULL;
}

int plein_card_check_peer(const char *what, const char *url)
{
	const char *p = peer_problem(url ? url : "", url ? strlen(url) : 0);
	return p ? plein_fail(PLEIN_EINVAL, "%s '%s': %s", what, url ? url : "", p) : 0;
}

static void card_check(char out[2 * PLEIN_CARD_CHECK_BYTES + 1], const plein_buf *covered)
{
	unsigned char h[32];
	crypto_generichash(h, sizeof h, covered->data, covered->len, NULL, 0);
	sodium_bin2hex(out, 2 * PLEIN_CARD_CHECK_BYTES + 1, h, PLEIN_CARD_CHECK_BYTES);
}

int plein_card_format(plein_buf *out, const plein_card *card)
{
	const char *p = name_problem(card->network, strnlen(card->network, sizeof card->network));
	if (p)
		return plein_fail(PLEIN_EINVAL, "cannot write the card: %s", p);
	if (card->npeers < 0 || card->npeers > PLEIN_CARD_MAX_PEERS)
		return plein_fail(PLEIN_EINVAL, "a card holds at most %d peers", PLEIN_CARD_MAX_PEERS);
	for (int i = 0; i < card->npeers; i++) {
		int rc = plein_card_check_peer("peer", card->peers[i]);
		if (rc < 0)
			return rc;
	}
	char nid[33], admin[65], check[2 * PLEIN_CARD_CHECK_BYTES + 1];
	sodium_bin2hex(nid, sizeof nid, card->network_id, sizeof card->network_id);
	sodium_bin2hex(admin, sizeof admin, card->admin_pk, sizeof card->admin_pk);
	plein_buf b = PLEIN_BUF_INIT;
	plein_buf_printf(&b, PLEIN_CARD_MAGIC "\nnetwork: %s\nnetwork-id: %s\nadmin: %s\n", card->network, nid, admin);
	for (int i = 0; i < card->npeers; i++)
		plein_buf_printf(&b, "peer: %s\n", card->peers[i]);
	card_check(check, &b);
	plein_buf_put(out, b.data, b.len);
	plein_buf_printf(out, "check: %s\n", check);
	plein_buf_free(&b);
	return 0;
}

enum { K_NETWORK, K_NETWORK_ID, K_ADMIN, K_PEER, K_CHECK, K_N };
static const char *const card_keys[K_N] = { "network", "network-id", "admin", "peer", "check" };

/* One line of a card, checked and stored. seen[k]: the line that gave key k. */
static int card_line(plein_card *c, int seen[K_N], plein_buf *covered, char *check,
		     int lineno, const char *line, size_t n)
{
	const char *colon = memchr(line, ':', n);
	if (!colon || (size_t)(colon - line) + 1 >= n || colon[1] != ' ')
		return plein_fail(PLEIN_EINVAL, "line %d: expected 'key: value'", lineno);
	size_t klen = (size_t)(colon - line);
	const char *v = colon + 2;
	size_t vlen = n - klen - 2;
	int k = 0;
	while (k < K_N && !(strlen(card_keys[k]) == klen && memcmp(card_keys[k], line, klen) == 0))
		k++;
	if (k == K_N)
		return plein_fail(PLEIN_EINVAL, "line %d: unknown key '%.*s' (a card has network, network-id, admin, "
				  "peer and check lines; comments start with #)", lineno, (int)(klen > 40 ? 40 : klen), line);
	if (k != K_PEER && seen[k])
		return plein_fail(PLEIN_EINVAL, "line %d: a second '%s' line (the first is line %d)", lineno, card_keys[k], seen[k]);
	seen[k] = lineno;
	const char *p = NULL;
	char tmp[65];
	switch (k) {
	case K_NETWORK:
		if ((p = name_problem(v, vlen)) == NULL) {
			memcpy(c->network, v, vlen);
			c->network[vlen] = 0;
		}
		break;
	case K_NETWORK_ID:
	case K_ADMIN: {
		size_t bytes = k == K_ADMIN ? 32 : 16;
		unsigned char *dst = k == K_ADMIN ? c->admin_pk : c->network_id;
		if (vlen != 2 * bytes)
			p = k == K_ADMIN ? "the admin key must be 64 lowercase hex characters" : "the network id must be 32 lowercase hex characters";
		else {
			memcpy(tmp, v, vlen);
			tmp[vlen] = 0;
			if (from_hex(dst, bytes, tmp) < 0)
				p = k == K_ADMIN ? "the admin key must be 64 lowercase hex characters" : "the network id must be 32 lowercase hex characters";
			else if (k == K_ADMIN && !crypto_core_ed25519_is_valid_point(dst))
				p = "the admin key is not an ed25519 public key";
		}
		break;
	}
	case K_PEER:
		if (c->npeers == PLEIN_CARD_MAX_PEERS)
			p = "a card holds at most 16 peers";
		else if ((p = peer_problem(v, vlen)) == NULL) {
			memcpy(c->peers[c->npeers], v, vlen);
			c->peers[c->npeers++][vlen] = 0;
		}
		break;
	case K_CHECK: {
		unsigned char dummy[PLEIN_CARD_CHECK_BYTES];
		if (vlen == 2 * PLEIN_CARD_CHECK_BYTES) {
			memcpy(check, v, vlen);
			check[vlen] = 0;
		}
		if (vlen != 2 * PLEIN_CARD_CHECK_BYTES || from_hex(dummy, sizeof dummy, check) < 0)
			p = "the check must be 16 lowercase hex characters";
		break;
	}
	}
	if (p)
		return plein_fail(PLEIN_EINVAL, "line %d: %s", lineno, p);
	if (k != K_CHECK) {
		plein_buf_put(covered, line, n);
		plein_buf_putc(covered, '\n');
	}
	return 0;
}

int plein_card_parse(plein_card *out, const char *text, size_t len)
{
	memset(out, 0, sizeof *out);
	if (len > PLEIN_CARD_MAX_BYTES)
		return plein_fail(PLEIN_EINVAL, "it is larger than %d bytes: not a network card", PLEIN_CARD_MAX_BYTES);
	plein_buf covered = PLEIN_BUF_INIT;
	int seen[K_N] = {0};
	char check[2 * PLEIN_CARD_CHECK_BYTES + 1] = "";
	int rc = 0, lineno = 0;
	size_t pos = 0;
	while (pos < len && rc == 0) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos;
		pos += n + (nl != NULL);
		lineno++;
		if (n && line[n - 1] == '\r') /* a card that went through a CRLF system */
			n--;
		if (n > PLEIN_CARD_MAX_LINE) {
			rc = plein_fail(PLEIN_EINVAL, "line %d: longer than %d bytes", lineno, PLEIN_CARD_MAX_LINE);
			break;
		}
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f) {
				rc = plein_fail(PLEIN_EINVAL, "line %d: contains a control character", lineno);
				break;
			}
		if (rc < 0)
			break;
		if (lineno == 1) {
			if (n != strlen(PLEIN_CARD_MAGIC) || memcmp(line, PLEIN_CARD_MAGIC, n) != 0)
				rc = plein_fail(PLEIN_EINVAL, "line 1: not a plein network card (it must start with '" PLEIN_CARD_MAGIC "')");
			else {
				plein_buf_put(&covered, line, n);
				plein_buf_putc(&covered, '\n');
			}
			continue;
		}
		if (n == 0 || line[0] == '#')
			continue;
		if (seen[K_CHECK])
			rc = plein_fail(PLEIN_EINVAL, "line %d: nothing but comments may follow the check line (line %d)",
					lineno, seen[K_CHECK]);
		else
			rc = card_line(out, seen, &covered, check, lineno, line, n);
	}
	if (rc == 0 && lineno == 0)
		rc = plein_fail(PLEIN_EINVAL, "the card is empty");
	for (int k = 0; rc == 0 && k < K_N; k++)
		if (k != K_PEER && !seen[k])
			rc = plein_fail(PLEIN_EINVAL, "the card has no '%s:' line; ask the coordinator for a new card ('plein card')",
					card_keys[k]);
	if (rc == 0) {
		char want[2 * PLEIN_CARD_CHECK_BYTES + 1];
		card_check(want, &covered);
		if (strcmp(want, check) != 0)
			rc = plein_fail(PLEIN_EINVAL, "line %d: the check does not match: the card was mistyped or damaged; "
					"ask the coordinator for a new card ('plein card')", seen[K_CHECK]);
	}
	plein_buf_free(&covered);
	if (rc < 0)
		memset(out, 0, sizeof *out);
	return rc;
}

int plein_card_of_site(plein_card *out, plein_site *s)
{
	memset(out, 0, sizeof *out);
	char *name = plein_site_local_get(s, "network_name");
	char *nid = plein_site_local_get(s, "network_id");
	int rc = 0;
	if (!name || strlen(name) > PLEIN_CARD_MAX_NAME || from_hex(out->network_id, 16, nid) < 0)
		rc = plein_fail(PLEIN_ERR, "this site has no network; was it made with 'plein init'?");
	else
		rc = plein_roster_admin(s, out->admin_pk);
	if (rc == 0)
		snprintf(out->network, sizeof out->network, "%s", name);
	free(name);
	free(nid);
	return rc;
}
