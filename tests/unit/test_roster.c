/* Membership: the network card (format, test vector, every way a card can
 * be malformed), the roster check that ingest relies on, admission and
 * revocation, the key of a site found in log.git, and the migration that
 * makes the roster a synced table. */
#include <sodium.h>
#include <sqlite3.h>

#include "harness.h"
#include "plein/batch.h"
#include "plein/capture.h"
#include "plein/journal.h"
#include "plein/log.h"
#include "plein/roster.h"
#include "util.h"

/* The test vector of docs/network-card.md. */
static const char vector[] =
	"plein network card 1\n"
	"network: Regio Twente\n"
	"network-id: 000102030405060708090a0b0c0d0e0f\n"
	"admin: 03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8\n"
	"peer: tcp://plein.hengelo.example:7411\n"
	"peer: /media/usb/plein.git\n"
	"check: 52ee9c13e0ab27f0\n";

static void vector_card(plein_card *c)
{
	unsigned char seed[32], sk[64];
	memset(c, 0, sizeof *c);
	snprintf(c->network, sizeof c->network, "Regio Twente");
	for (int i = 0; i < 16; i++)
		c->network_id[i] = (unsigned char)i;
	for (int i = 0; i < 32; i++)
		seed[i] = (unsigned char)i;
	crypto_sign_seed_keypair(c->admin_pk, sk, seed);
	c->npeers = 2;
	snprintf(c->peers[0], sizeof c->peers[0], "tcp://plein.hengelo.example:7411");
	snprintf(c->peers[1], sizeof c->peers[1], "/media/usb/plein.git");
}

static int parse(plein_card *c, const char *text)
{
	return plein_card_parse(c, text, strlen(text));
}

TEST(card_format_gives_the_documented_vector)
{
	plein_card c;
	plein_buf b = PLEIN_BUF_INIT;
	CHECK(sodium_init() >= 0);
	vector_card(&c);
	CHECK_OK(plein_card_format(&b, &c));
	CHECK_STR(plein_buf_cstr(&b), vector);
	plein_buf_free(&b);
}

TEST(card_round_trip)
{
	plein_card c, back;
	plein_buf b = PLEIN_BUF_INIT;
	vector_card(&c);
	CHECK_OK(parse(&back, vector));
	CHECK(memcmp(&c, &back, sizeof c) == 0);
	/* And with no peers, through format and parse again. */
	c.npeers = 0;
	memset(c.peers, 0, sizeof c.peers);
	CHECK_OK(plein_card_format(&b, &c));
	CHECK_OK(plein_card_parse(&back, (const char *)b.data, b.len));
	CHECK(memcmp(&c, &back, sizeof c) == 0);
	plein_buf_free(&b);
}

TEST(card_comments_blank_lines_crlf_and_no_final_newline_are_read)
{
	plein_card c, want;
	vector_card(&want);
	plein_buf b = PLEIN_BUF_INIT;
	/* Every line ending CRLF, a comment and a blank line in between. */
	for (const char *p = vector; *p; p++) {
		if (*p == '\n')
			plein_buf_putc(&b, '\r');
		plein_buf_putc(&b, *p);
		if (*p == '\n' && strncmp(p + 1, "admin", 5) == 0)
			plein_buf_puts(&b, "# from the coordinator, by mail\r\n\r\n");
	}
	plein_buf_puts(&b, "# Join this network: plein init DIR --card FILE --name SITE");
	CHECK_OK(plein_card_parse(&c, (const char *)b.data, b.len));
	CHECK(memcmp(&c, &want, sizeof c) == 0);
	plein_buf_free(&b);
}

/* vector with `from` replaced by `to` (once). */
static void edit(char *out, size_t n, const char *from, const char *to)
{
	const char *at = strstr(vector, from);
	if (!at) {
		snprintf(out, n, "edit: '%s' is not in the vector", from);
		return;
	}
	snprintf(out, n, "%.*s%s%s", (int)(at - vector), vector, to, at + strlen(from));
}

TEST(every_malformed_card_is_refused_with_its_line)
{
	static const struct { const char *from, *to, *msg; } cases[] = {
		/* the check line catches a flipped character anywhere it covers */
		{ "Regio Twente", "Regio Twenre", "line 7: the check does not match" },
		{ "0a0b0c", "0a0c0c", "line 7: the check does not match" },
		{ "plein.hengelo", "plein.hengel0", "line 7: the check does not match" },
		{ "52ee9c13e0ab27f0", "52ee9c13e0ab27f1", "line 7: the check does not match" },
		{ "peer: /media/usb/plein.git\n", "", "line 6: the check does not match" },
		/* structure */
		{ "plein network card 1", "plein network card 2", "line 1: not a plein network card" },
		{ "network: ", "network:", "line 2: expected 'key: value'" },
		{ "network: ", "name: ", "line 2: unknown key 'name'" },
		{ "network: ", "Network: ", "line 2: unknown key 'Network'" },
		{ "peer: tcp", "network: X\npeer: tcp", "line 5: a second 'network' line (the first is line 2)" },
		{ "check: 52ee9c13e0ab27f0\n", "check: 52ee9c13e0ab27f0\npeer: x\n", "line 8: nothing but comments may follow" },
		{ "network: Regio Twente\n", "", "no 'network:' line" },
		{ "network-id: 000102030405060708090a0b0c0d0e0f\n", "", "no 'network-id:' line" },
		{ "check: 52ee9c13e0ab27f0\n", "", "no 'check:' line" },
		{ "admin: ", "#admin: ", "no 'admin:' line" },
		/* values */
		{ "network: Regio Twente", "network:  Regio Twente", "line 2: the network name starts or ends with a space" },
		{ "Regio Twente", "Regio\tTwente", "line 2: contains a control character" },
		{ "Regio Twente", "Regio \xc3\x28", "line 2: the network name is not valid UTF-8" },
		{ "0e0f\n", "0e\n", "line 3: the network id must be 32 lowercase hex" },
		{ "0a0b0c", "0A0B0C", "line 3: the network id must be 32 lowercase hex" },
		{ "03a107", "03a1g7", "line 4: the admin key must be 64 lowercase hex" },
		{ "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8",
		  "0000000000000000000000000000000000000000000000000000000000000000", "line 4: the admin key is not an ed25519 public key" },
		{ "peer: /media", "peer: /my media", "line 6: the peer address may hold printable ASCII only" },
		{ "check: 52ee9c13e0ab27f0", "check: 52EE9C13E0AB27F0", "line 7: the check must be 16 lowercase hex" },
		{ "check: 52ee9c13e0ab27f0", "check: 52ee9c13", "line 7: the check must be 16 lowercase hex" },
	};
	char text[2048];
	plein_card c;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		edit(text, sizeof text, cases[i].from, cases[i].to);
		int rc = parse(&c, text);
		if (rc != PLEIN_EINVAL || !strstr(plein_error(), cases[i].msg))
			FAIL_AT("case %zu (%s -> %s): rc %d, '%s', expected '%s'", i, cases[i].from, cases[i].to, rc,
				plein_error(), cases[i].msg);
		/* nothing half-parsed is left in the result */
		CHECK(c.network[0] == 0 && c.npeers == 0);
	}
}

TEST(card_limits_are_enforced)
{
	plein_card c;
	plein_buf b = PLEIN_BUF_INIT;
	CHECK_EQ_INT(plein_card_parse(&c, "", 0), PLEIN_EINVAL);
	CHECK(strstr(plein_error(), "empty") != NULL);
	/* a NUL byte inside */
	CHECK_EQ_INT(plein_card_parse(&c, vector, sizeof vector), PLEIN_EINVAL);
	CHECK(strstr(plein_error(), "line 8: contains a control character") != NULL);
	/* 17 peers */
	plein_buf_puts(&b, "plein network card 1\nnetwork: N\nnetwork-id: 000102030405060708090a0b0c0d0e0f\n"
		       "admin: 03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8\n");
	for (int i = 0; i < 17; i++)
		plein_buf_printf(&b, "peer: tcp://p%d.example:1\n", i);
	CHECK_EQ_INT(plein_card_parse(&c, (const char *)b.data, b.len), PLEIN_EINVAL);
	CHECK(strstr(plein_error(), "line 21: a card holds at most 16 peers") != NULL);
	/* an over-long line */
	plein_buf_reset(&b);
	plein_buf_puts(&b, "plein network card 1\npeer: ");
	for (int i = 0; i < PLEIN_CARD_MAX_LINE; i++)
		plein_buf_putc(&b, 'x');
	CHECK_EQ_INT(plein_card_parse(&c, (const char *)b.data, b.len), PLEIN_EINVAL);
	CHECK(strstr(plein_error(), "line 2: longer than") != NULL);
	/* a file far larger than a card */
	plein_buf_reset(&b);
	plein_buf_puts(&b, "plein network card 1\n");
	while (b.len <= PLEIN_CARD_MAX_BYTES)
		plein_buf_puts(&b, "# padding padding padding padding\n");
	CHECK_EQ_INT(plein_card_parse(&c, (const char *)b.data, b.len), PLEIN_EINVAL);
	CHECK(strstr(plein_error(), "not a network card") != NULL);
	/* format refuses what parse would refuse */
	vector_card(&c);
	snprintf(c.peers[1], sizeof c.peers[1], "two words");
	plein_buf_reset(&b);
	CHECK_EQ_INT(plein_card_format(&b, &c), PLEIN_EINVAL);
	CHECK_EQ_INT(b.len, 0);
	plein_buf_free(&b);
}

/* ---- the roster ------------------------------------------------------- */

/* A site of network "Regio Test" whose admin key is admin (NULL: its own). */
static plein_site *net_site(char *dir, const unsigned char *admin)
{
	plein_site *s = test_site(dir);
	if (!s)
		return NULL;
	char hex[65];
	sodium_bin2hex(hex, sizeof hex, admin ? admin : s->pk, 32);
	if (plein_site_local_set(s, "network_name", "Regio Test") < 0 ||
	    plein_site_local_set(s, "network_id", "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf") < 0 ||
	    plein_site_local_set(s, "admin_pk", hex) < 0)
		return NULL;
	return s;
}

static int admit(plein_site *s, const unsigned char pk[32], const char *name)
{
	char id[PLEIN_SITEID_LEN + 1];
	plein_siteid_from_key(id, pk);
	int rc = plein_db_begin(s->db);
	if (rc == 0 && (rc = plein_roster_admit(s, id, pk, name, "branch", NULL)) == 0)
		return plein_db_commit(s->db);
	plein_db_rollback(s->db);
	return rc;
}

static int revoke(plein_site *s, const char *id, uint64_t *after)
{
	int rc = plein_db_begin(s->db);
	if (rc == 0 && (rc = plein_roster_revoke(s, id, after)) == 0)
		return plein_db_commit(s->db);
	plein_db_rollback(s->db);
	return rc;
}

static int64_t count(plein_site *s, const char *sql)
{
	int64_t n = -1;
	plein_db_int(s->db, &n, sql, NULL);
	return n;
}

TEST(roster_check_admin_admitted_unknown_revoked_and_wrong_key)
{
	char dir[256], id[PLEIN_SITEID_LEN + 1];
	unsigned char b_pk[32], b_sk[64], c_pk[32], c_sk[64];
	crypto_sign_keypair(b_pk, b_sk);
	crypto_sign_keypair(c_pk, c_sk);
	plein_site *s = net_site(dir, NULL);
	CHECK(s != NULL);

	/* The admin may always sign, on the roster or not. */
	CHECK_OK(plein_roster_check(s, s->pk, 1));
	CHECK_OK(plein_roster_check(s, s->pk, 1000000));

	/* Unknown: held, with a message naming the site and the network. */
	plein_siteid_from_key(id, b_pk);
	CHECK_EQ_INT(plein_roster_check(s, b_pk, 1), PLEIN_ENOTFOUND);
	CHECK(strstr(plein_error(), id) != NULL);
	CHECK(strstr(plein_error(), "is not on the roster of \"Regio Test\" (yet): its changes are held") != NULL);

	/* Admitted: any seq. */
	CHECK_OK(admit(s, b_pk, "Bibliotheek Delden"));
	CHECK_OK(plein_roster_check(s, b_pk, 1));
	CHECK_OK(plein_roster_check(s, b_pk, 77));

	/* Revoked after batch 5: 5 counts, 6 is refused. */
	CHECK_OK(plein_db_exec(s->db, "UPDATE roster SET revoked_after = 5"
			       " WHERE id <> (SELECT value FROM plein_local WHERE key = 'site_id')"));
	CHECK_OK(plein_roster_check(s, b_pk, 5));
	CHECK_EQ_INT(plein_roster_check(s, b_pk, 6), PLEIN_EREJECT);
	CHECK(strstr(plein_error(), "was revoked after batch 5: batch 6 refused") != NULL);

	/* Admitted again: revoked_after cleared. */
	CHECK_OK(admit(s, b_pk, "Bibliotheek Delden"));
	CHECK_OK(plein_roster_check(s, b_pk, 6));

	/* A roster row under B's id with another key: B is refused. */
	char chex[65];
	sodium_bin2hex(chex, sizeof chex, c_pk, 32);
	sqlite3_stmt *st = plein_db_stmt(s->db, "UPDATE roster SET pk = ?1 WHERE id = ?2");
	sqlite3_bind_text(st, 1, chex, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	CHECK_OK(plein_db_step_done(s->db, st));
	CHECK_EQ_INT(plein_roster_check(s, b_pk, 1), PLEIN_EREJECT);
	CHECK(strstr(plein_error(), "is on the roster with another key: refused") != NULL);

	/* A row whose key is damaged admits nobody (held). */
	CHECK_OK(plein_db_exec(s->db, "UPDATE roster SET pk = 'zz' WHERE name = 'Bibliotheek Delden'"));
	CHECK_EQ_INT(plein_roster_check(s, b_pk, 1), PLEIN_ENOTFOUND);
	plein_site_close(s);
	test_rmdir(dir);
}

TEST(roster_check_without_an_admin_key_fails)
{
	char dir[256];
	plein_site *s = test_site(dir);
	unsigned char pk[32];
	CHECK(s != NULL);
	CHECK_OK(plein_db_exec(s->db, "DELETE FROM plein_local WHERE key = 'admin_pk'"));
	CHECK_EQ_INT(plein_roster_admin(s, pk), PLEIN_ERR);
	CHECK_EQ_INT(plein_roster_check(s, s->pk, 1), PLEIN_ERR);
	CHECK(strstr(plein_error(), "admin key") != NULL);
	plein_site_close(s);
	test_rmdir(dir);
}

TEST(only_the_admin_admits_and_revokes_and_refusals_write_nothing)
{
	char dir[256], id[PLEIN_SITEID_LEN + 1], other[PLEIN_SITEID_LEN + 1];
	unsigned char admin_pk[32], admin_sk[64], b_pk[32], b_sk[64];
	crypto_sign_keypair(admin_pk, admin_sk);
	crypto_sign_keypair(b_pk, b_sk);
	plein_siteid_from_key(id, b_pk);
	plein_siteid_from_key(other, admin_pk);

	/* Not the admin. */
	plein_site *s = net_site(dir, admin_pk);
	CHECK(s != NULL);
	CHECK_EQ_INT(plein_roster_is_admin(s), 0);
	CHECK_EQ_INT(admit(s, b_pk, "Delden"), PLEIN_EINVAL);
	CHECK(strstr(plein_error(), "only the coordinator of \"Regio Test\" can admit sites") != NULL);
	CHECK_EQ_INT(revoke(s, id, NULL), PLEIN_EINVAL);
	CHECK(strstr(plein_error(), "can revoke sites") != NULL);
	CHECK_EQ_INT(count(s, "SELECT count(*) FROM roster"), 0);
	plein_site_close(s);
	test_rmdir(dir);

	/* The admin. */
	s = net_site(dir, NULL);
	CHECK(s != NULL);
	CHECK_EQ_INT(plein_roster_is_admin(s), 1);
	int64_t pending = 0;
	CHECK_OK(plein_capture_pending(s->db, &pending));
	CHECK_EQ_INT(pending, 0);
	CHECK_OK(plein_db_begin(s->db));
	/* a key that is not the named site's */
	CHECK_EQ_INT(plein_roster_admit(s, other, b_pk, "Delden", "branch", NULL), PLEIN_EINVAL);
	CHECK(strstr(plein_error(), "that key belongs to site") != NULL);
	CHECK_EQ_INT(plein_roster_admit(s, id, b_pk, "Delden", "boss", NULL), PLEIN_EINVAL);
	CHECK_EQ_INT(plein_roster_admit(s, id, b_pk, "", "branch", NULL), PLEIN_EINVAL);
	CHECK_EQ_INT(plein_roster_admit(s, "not-an-id", b_pk, "Delden", "branch", NULL), PLEIN_EINVAL);
	plein_db_rollback(s->db);
	CHECK_EQ_INT(count(s, "SELECT count(*) FROM roster"), 0);
	CHECK_OK(plein_capture_pending(s->db, &pending));
	CHECK_EQ_INT(pending, 0);

	/* revoke: unknown site, the admin itself, then B twice */
	CHECK_EQ_INT(revoke(s, id, NULL), PLEIN_ENOTFOUND);
	CHECK_EQ_INT(revoke(s, s->id, NULL), PLEIN_EINVAL);
	CHECK(strstr(plein_error(), "admin key and cannot be revoked") != NULL);
	CHECK_OK(admit(s, b_pk, "Delden"));
	/* an id typed in lower case with I/L/O mix-ups is the same site */
	char typed[PLEIN_SITEID_LEN + 1];
	snprintf(typed, sizeof typed, "%s", id);
	for (char *p = typed; *p; p++)
		*p = (char)(*p == '1' ? 'l' : *p == '0' ? 'o' : (*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
	uint64_t after = 99;
	CHECK_OK(revoke(s, typed, &after));
	CHECK_EQ_INT(after, 0); /* no batch of B here: everything of it is refused */
	CHECK_EQ_INT(count(s, "SELECT revoked_after FROM roster WHERE name = 'Delden'"), 0);
	CHECK_EQ_INT(revoke(s, id, NULL), PLEIN_EINVAL);
	CHECK(strstr(plein_error(), "already revoked after batch 0") != NULL);
	plein_site_close(s);
	test_rmdir(dir);
}

/* A signed batch of site b (one daylog row), read back from b's log. */
static int batch_of(plein_site *b, plein_log_entry *e)
{
	uint64_t seq = 0;
	int rc = plein_db_exec(b->db, "INSERT INTO daylog(id, text) VALUES ('d1', 'open')");
	if (rc == 0)
		rc = plein_journal_seal(b, &seq);
	if (rc == 0 && seq != 1)
		rc = PLEIN_ERR;
	memset(e, 0, sizeof *e);
	return rc ? rc : plein_log_read(e, plein_site_log(b), b->id, 1);
}

static plein_log_batch as_batch(const plein_log_entry *e)
{
	plein_log_batch lb = {
		.site = e->site, .seq = e->seq, .time = e->time, .summary = e->summary,
		.header = e->header.data, .header_len = e->header.len, .sig = e->sig.data,
		.payload = e->payload.data, .payload_len = e->payload.len, .parent = NULL,
	};
	return lb;
}

TEST(a_sites_key_is_found_in_a_held_batch_or_its_chain)
{
	char adir[256], bdir[256];
	unsigned char pk[32];
	plein_site *a = net_site(adir, NULL), *b = net_site(bdir, NULL);
	CHECK(a != NULL && b != NULL);
	plein_log_entry e;
	CHECK_OK(batch_of(b, &e));
	plein_log_batch lb = as_batch(&e);

	CHECK_EQ_INT(plein_roster_key_from_log(a, b->id, pk), PLEIN_ENOTFOUND);
	/* held (not admitted yet) */
	CHECK_OK(plein_log_hold(plein_site_log(a), &lb));
	memset(pk, 0, sizeof pk);
	CHECK_OK(plein_roster_key_from_log(a, b->id, pk));
	CHECK(memcmp(pk, b->pk, 32) == 0);
	/* another site's id finds nothing in it */
	CHECK_EQ_INT(plein_roster_key_from_log(a, a->id, pk), PLEIN_ENOTFOUND);
	CHECK_OK(plein_log_unhold(plein_site_log(a), b->id, 1));
	CHECK_EQ_INT(plein_roster_key_from_log(a, b->id, pk), PLEIN_ENOTFOUND);
	/* in its verified chain */
	CHECK_OK(plein_log_append(plein_site_log(a), &lb));
	memset(pk, 0, sizeof pk);
	CHECK_OK(plein_roster_key_from_log(a, b->id, pk));
	CHECK(memcmp(pk, b->pk, 32) == 0);

	/* revoking B now keeps batch 1 valid and refuses batch 2 */
	CHECK_OK(admit(a, b->pk, "B"));
	uint64_t after = 0;
	CHECK_OK(revoke(a, b->id, &after));
	CHECK_EQ_INT(after, 1);
	CHECK_OK(plein_roster_check(a, b->pk, 1));
	CHECK_EQ_INT(plein_roster_check(a, b->pk, 2), PLEIN_EREJECT);
	plein_log_entry_free(&e);
	plein_site_close(a);
	plein_site_close(b);
	test_rmdir(adir);
	test_rmdir(bdir);
}

TEST(a_held_batch_with_a_bad_signature_gives_no_key)
{
	char adir[256], bdir[256];
	unsigned char pk[32];
	plein_site *a = net_site(adir, NULL), *b = net_site(bdir, NULL);
	CHECK(a != NULL && b != NULL);
	plein_log_entry e;
	CHECK_OK(batch_of(b, &e));
	e.sig.data[0] ^= 1;
	plein_log_batch lb = as_batch(&e);
	CHECK_OK(plein_log_hold(plein_site_log(a), &lb));
	CHECK_EQ_INT(plein_roster_key_from_log(a, b->id, pk), PLEIN_ENOTFOUND);
	plein_log_entry_free(&e);
	plein_site_close(a);
	plein_site_close(b);
	test_rmdir(adir);
	test_rmdir(bdir);
}

TEST(roster_key_reads_the_table_and_checks_the_id)
{
	char dir[256];
	unsigned char b_pk[32], b_sk[64], pk[32];
	crypto_sign_keypair(b_pk, b_sk);
	plein_site *s = net_site(dir, NULL);
	CHECK(s != NULL);
	char id[PLEIN_SITEID_LEN + 1];
	plein_siteid_from_key(id, b_pk);
	CHECK_EQ_INT(plein_roster_key(s, id, pk), PLEIN_ENOTFOUND);
	CHECK_OK(admit(s, b_pk, "B"));
	CHECK_OK(plein_roster_key(s, id, pk));
	CHECK(memcmp(pk, b_pk, 32) == 0);
	/* a row under B's id holding this site's key is damaged */
	char hex[65];
	sodium_bin2hex(hex, sizeof hex, s->pk, 32);
	sqlite3_stmt *st = plein_db_stmt(s->db, "UPDATE roster SET pk = ?1 WHERE id = ?2");
	sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	CHECK_OK(plein_db_step_done(s->db, st));
	CHECK_EQ_INT(plein_roster_key(s, id, pk), PLEIN_EREJECT);
	plein_site_close(s);
	test_rmdir(dir);
}

/* ---- the migration ------------------------------------------------------ */

TEST(migration_makes_the_roster_a_synced_table)
{
	char dir[256];
	plein_site *s = test_site(dir);
	CHECK(s != NULL);
	CHECK_EQ_INT(plein_roster_tid(s), 12);
	const plein_table *t = plein_schema_table(s->schema, "roster");
	CHECK(t != NULL);
	CHECK_EQ_INT(t->ncols, 5);
	static const char *const cols[] = { "pk", "name", "role", "location_id", "revoked_after" };
	for (int i = 0; i < 5; i++) {
		CHECK_STR(t->cols[i].name, cols[i]);
		CHECK_EQ_INT(t->cols[i].cid, i);
		CHECK_EQ_INT(t->cols[i].policy, PLEIN_LWW);
	}
	CHECK_EQ_INT(count(s, "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = 'roster'"
			      " AND name LIKE 'plein_cap_roster_%'"), 4);
	CHECK_EQ_INT(count(s, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'plein_clk_roster'"), 1);
	CHECK_EQ_INT(count(s, "SELECT count(*) FROM pragma_table_info('plein_clk_roster') WHERE name IN ('h0','s4')"), 2);
	/* a write from a plain connection is captured under tid 12 */
	CHECK_OK(plein_db_exec(s->db, "INSERT INTO roster(id, name, role) VALUES ('0000-0000-0000-0001', 'X', 'mobile')"));
	CHECK_EQ_INT(count(s, "SELECT count(*) FROM plein_capture WHERE tid = 12 AND op = 1"), 1);
	CHECK(plein_db_exec(s->db, "INSERT INTO roster(id, role) VALUES ('x', 'boss')") < 0); /* the role CHECK */
	plein_site_close(s);
	test_rmdir(dir);
}
