/* Sealed personal data: the documented test vector byte for byte, and an
 * envelope that opens only for its recipients, and never when altered or
 * cut short. */
#include <sodium.h>

#include "harness.h"
#include "plein/roster.h"
#include "plein/seal.h"
#include "plein/siteid.h"
#include "util.h"

/* docs/sealed.md, "Test vector". */
static const char vector_plain[] = "{\"name\":\"Test Persoon\"}";
static const char vector_hex[] =
	"0102"
	"07a035f438b0e322"
	"1b7fcb001edc76ad88f31a3c64ca5b13a6cab636c528c95049ce0ce83e61d36a"
	"dd5639c3a7c46a7bbed3bf2a4ec2067c1cfc662b96c55eaab4af9c4b2535525543b20479780a02cff20dce5df9f05015"
	"26e88ab5574ac2e8"
	"dd850e5cfddbecfa5025ce44f2dd0f199a5fdab58c24533b34d4561c22c60252"
	"bb23a7b4dcfa2f7c1ecf7f1ab530c4cf92ee6114c877a3b28166cea2e2a3ad79bcf4ce701e8cf437cab9cc59fb13fe04"
	"4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e"
	"b8bf2e201b30ea9754e6774fec5cc1ed74a1dbbda547e85bf89a8dc80fe82d2feb2df99864e7bb";

typedef struct {
	unsigned char pk[32], sk[64];
} keypair;

static void seeded(keypair *k, int byte)
{
	unsigned char seed[32];
	memset(seed, byte, sizeof seed);
	crypto_sign_seed_keypair(k->pk, k->sk, seed);
}

/* The vector's inputs: recipients A (seed 0x41...) and B (0x42...), content
 * key 0x4b..., nonce 0x4e..., ephemeral seeds 0x61... and 0x62... */
static int vector_envelope(plein_buf *out, keypair *a, keypair *b)
{
	unsigned char key[32], nonce[24], eph[2][32], rcpt[2][32];
	seeded(a, 0x41);
	seeded(b, 0x42);
	memset(key, 0x4b, sizeof key);
	memset(nonce, 0x4e, sizeof nonce);
	memset(eph[0], 0x61, 32);
	memset(eph[1], 0x62, 32);
	memcpy(rcpt[0], a->pk, 32);
	memcpy(rcpt[1], b->pk, 32);
	return plein_seal_deterministic(out, (const unsigned char *)vector_plain, strlen(vector_plain),
					(const unsigned char(*)[32])rcpt, 2, key, nonce, (const unsigned char(*)[32])eph);
}

static size_t unhex(unsigned char *out, size_t cap, const char *hex)
{
	size_t n = 0;
	if (sodium_hex2bin(out, cap, hex, strlen(hex), NULL, &n, NULL) != 0)
		return 0;
	return n;
}

TEST(vector_is_reproduced_byte_for_byte)
{
	keypair a, b;
	plein_buf env = PLEIN_BUF_INIT;
	CHECK_OK(vector_envelope(&env, &a, &b));
	char *hex = plein_xmalloc(env.len * 2 + 1);
	sodium_bin2hex(hex, env.len * 2 + 1, env.data, env.len);
	int same = strcmp(hex, vector_hex) == 0;
	if (!same)
		printf("# got %s\n", hex);
	free(hex);
	size_t len = env.len;
	plein_buf_free(&env);
	CHECK_EQ_INT(len, 2 + 2 * 88 + 24 + strlen(vector_plain) + 16);
	CHECK(same);
}

/* Read the vector the way docs/sealed.md describes it, with libsodium
 * calls only: proves the document, not just the code, is right. */
TEST(vector_follows_the_documented_layout)
{
	keypair k[2];
	unsigned char env[1024], xpk[32], xsk[32], key[32], kid[32], plain[256];
	size_t n = unhex(env, sizeof env, vector_hex);
	seeded(&k[0], 0x41);
	seeded(&k[1], 0x42);
	CHECK(n > 0);
	CHECK_EQ_INT(env[0], 1);
	CHECK_EQ_INT(env[1], 2);
	for (int i = 0; i < 2; i++) {
		const unsigned char *entry = env + 2 + 88 * i;
		crypto_generichash(kid, 32, k[i].pk, 32, NULL, 0);
		CHECK(memcmp(entry, kid, 8) == 0);
		CHECK(crypto_sign_ed25519_pk_to_curve25519(xpk, k[i].pk) == 0);
		CHECK(crypto_sign_ed25519_sk_to_curve25519(xsk, k[i].sk) == 0);
		CHECK(crypto_box_seal_open(key, entry + 8, 80, xpk, xsk) == 0);
		unsigned char want[32];
		memset(want, 0x4b, 32);
		CHECK(memcmp(key, want, 32) == 0);
	}
	size_t ad = 2 + 2 * 88 + 24;
	unsigned long long mlen = 0;
	CHECK(crypto_aead_xchacha20poly1305_ietf_decrypt(plain, &mlen, NULL, env + ad, n - ad, env, ad,
							 env + ad - 24, key) == 0);
	CHECK_EQ_INT(mlen, strlen(vector_plain));
	CHECK(memcmp(plain, vector_plain, mlen) == 0);
}

TEST(vector_opens_for_each_recipient_and_no_one_else)
{
	keypair a, b, c;
	plein_buf env = PLEIN_BUF_INIT, out = PLEIN_BUF_INIT;
	seeded(&c, 0x43);
	CHECK_OK(vector_envelope(&env, &a, &b));
	CHECK_OK(plein_seal_open(&out, env.data, env.len, a.pk, a.sk));
	CHECK_STR(plein_buf_cstr(&out), vector_plain);
	plein_buf_reset(&out);
	CHECK_OK(plein_seal_open(&out, env.data, env.len, b.pk, b.sk));
	CHECK_STR(plein_buf_cstr(&out), vector_plain);
	plein_buf_reset(&out);
	CHECK_EQ_INT(plein_seal_open(&out, env.data, env.len, c.pk, c.sk), PLEIN_ENOTFOUND);
	CHECK_EQ_INT(out.len, 0);
	plein_buf_free(&env);
	plein_buf_free(&out);
}

TEST(round_trip_is_random_and_opens)
{
	keypair a;
	seeded(&a, 0x51);
	const unsigned char(*r)[32] = (const unsigned char(*)[32])a.pk;
	plein_buf e1 = PLEIN_BUF_INIT, e2 = PLEIN_BUF_INIT, out = PLEIN_BUF_INIT;
	const char *msg = "{\"name\":\"Fatima Yilmaz\",\"phone\":\"0612345678\"}";
	CHECK_OK(plein_seal(&e1, (const unsigned char *)msg, strlen(msg), r, 1));
	CHECK_OK(plein_seal(&e2, (const unsigned char *)msg, strlen(msg), r, 1));
	CHECK_EQ_INT(e1.len, e2.len);
	CHECK(memcmp(e1.data, e2.data, e1.len) != 0);
	CHECK(memmem(e1.data, e1.len, "Fatima", 6) == NULL);
	CHECK_OK(plein_seal_open(&out, e1.data, e1.len, a.pk, a.sk));
	CHECK_EQ_INT(out.len, strlen(msg));
	CHECK_STR(plein_buf_cstr(&out), msg);
	/* Appending: out keeps what it held. */
	CHECK_OK(plein_seal_open(&out, e2.data, e2.len, a.pk, a.sk));
	CHECK_EQ_INT(out.len, 2 * strlen(msg));
	plein_buf_free(&e1);
	plein_buf_free(&e2);
	plein_buf_free(&out);
}

TEST(empty_plaintext_and_duplicate_recipients)
{
	keypair a;
	seeded(&a, 0x52);
	unsigned char twice[2][32];
	memcpy(twice[0], a.pk, 32);
	memcpy(twice[1], a.pk, 32);
	plein_buf env = PLEIN_BUF_INIT, out = PLEIN_BUF_INIT;
	CHECK_OK(plein_seal(&env, (const unsigned char *)"", 0, (const unsigned char(*)[32])twice, 2));
	CHECK_EQ_INT(env.data[1], 1); /* sealed once */
	CHECK_EQ_INT(env.len, 2 + 88 + 24 + 16);
	CHECK_OK(plein_seal_open(&out, env.data, env.len, a.pk, a.sk));
	CHECK_EQ_INT(out.len, 0);
	plein_buf_free(&env);
	plein_buf_free(&out);
}

TEST(key_ids_list_the_recipients_in_order)
{
	keypair a, b;
	unsigned char ids[4][8], want[8];
	plein_buf env = PLEIN_BUF_INIT;
	CHECK_OK(vector_envelope(&env, &a, &b));
	CHECK_EQ_INT(plein_seal_key_ids(ids, 4, env.data, env.len), 2);
	plein_seal_key_id(want, a.pk);
	CHECK(memcmp(ids[0], want, 8) == 0);
	plein_seal_key_id(want, b.pk);
	CHECK(memcmp(ids[1], want, 8) == 0);
	CHECK_EQ_INT(plein_seal_key_ids(ids, 4, env.data, 5), PLEIN_EREJECT);
	plein_buf_free(&env);
}

/* Flip every bit of every byte: the envelope never opens, and only a
 * changed key id of our own entry reads as "not a recipient". */
TEST(tampering_with_any_byte_is_rejected)
{
	keypair a, b;
	plein_buf env = PLEIN_BUF_INIT, out = PLEIN_BUF_INIT;
	CHECK_OK(vector_envelope(&env, &a, &b));
	for (size_t i = 0; i < env.len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			env.data[i] ^= (unsigned char)(1 << bit);
			int rc = plein_seal_open(&out, env.data, env.len, a.pk, a.sk);
			env.data[i] ^= (unsigned char)(1 << bit);
			int want = (i >= 2 && i < 10) ? PLEIN_ENOTFOUND : PLEIN_EREJECT;
			if (rc != want)
				FAIL_AT("byte %zu bit %d: rc %d, expected %d", i, bit, rc, want);
			CHECK_EQ_INT(out.len, 0);
		}
	}
	CHECK_OK(plein_seal_open(&out, env.data, env.len, a.pk, a.sk)); /* restored */
	plein_buf_free(&env);
	plein_buf_free(&out);
}

TEST(truncation_at_every_length_and_extension_are_rejected)
{
	keypair a, b;
	plein_buf env = PLEIN_BUF_INIT, out = PLEIN_BUF_INIT;
	CHECK_OK(vector_envelope(&env, &a, &b));
	for (size_t n = 0; n < env.len; n++) {
		/* A copy of exactly n bytes, so ASan sees any read past it. */
		unsigned char *cut = plein_xmalloc(n);
		memcpy(cut, env.data, n);
		int rc = plein_seal_open(&out, cut, n, b.pk, b.sk);
		free(cut);
		if (rc != PLEIN_EREJECT)
			FAIL_AT("length %zu: rc %d, expected PLEIN_EREJECT", n, rc);
		CHECK_EQ_INT(out.len, 0);
	}
	plein_buf_putc(&env, 0);
	CHECK_EQ_INT(plein_seal_open(&out, env.data, env.len, b.pk, b.sk), PLEIN_EREJECT);
	CHECK_EQ_INT(plein_seal_open(&out, NULL, 0, b.pk, b.sk), PLEIN_EREJECT);
	plein_buf_free(&env);
	plein_buf_free(&out);
}

TEST(bad_frames_name_what_is_wrong)
{
	keypair a, b;
	plein_buf env = PLEIN_BUF_INIT, out = PLEIN_BUF_INIT;
	CHECK_OK(vector_envelope(&env, &a, &b));
	env.data[0] = 2;
	CHECK_EQ_INT(plein_seal_open(&out, env.data, env.len, a.pk, a.sk), PLEIN_EREJECT);
	CHECK(strstr(plein_error(), "version 2") != NULL);
	env.data[0] = 1;
	env.data[1] = 0;
	CHECK_EQ_INT(plein_seal_open(&out, env.data, env.len, a.pk, a.sk), PLEIN_EREJECT);
	env.data[1] = 200; /* more entries than the bytes can hold */
	CHECK_EQ_INT(plein_seal_open(&out, env.data, env.len, a.pk, a.sk), PLEIN_EREJECT);
	CHECK(strstr(plein_error(), "recipients") != NULL);
	env.data[1] = 3;
	CHECK_EQ_INT(plein_seal_open(&out, env.data, env.len, a.pk, a.sk), PLEIN_EREJECT);
	CHECK(strstr(plein_error(), "truncated") != NULL);
	plein_buf_free(&env);
	plein_buf_free(&out);
}

TEST(bad_seal_input_is_refused_and_writes_nothing)
{
	keypair a;
	seeded(&a, 0x53);
	unsigned char many[PLEIN_SEAL_MAX_RECIPIENTS + 1][32], bad[1][32];
	for (int i = 0; i <= PLEIN_SEAL_MAX_RECIPIENTS; i++)
		memcpy(many[i], a.pk, 32);
	memset(bad[0], 0, 32); /* a small-order point: no X25519 key */
	plein_buf env = PLEIN_BUF_INIT;
	plein_buf_puts(&env, "kept");
	const unsigned char *p = (const unsigned char *)"x";
	CHECK_EQ_INT(plein_seal(&env, p, 1, (const unsigned char(*)[32])many, 0), PLEIN_EINVAL);
	CHECK_EQ_INT(plein_seal(&env, p, 1, (const unsigned char(*)[32])many, PLEIN_SEAL_MAX_RECIPIENTS + 1), PLEIN_EINVAL);
	CHECK_EQ_INT(plein_seal(&env, p, 1, (const unsigned char(*)[32])bad, 1), PLEIN_EINVAL);
	unsigned char *big = plein_xcalloc(PLEIN_SEAL_MAX_PLAIN + 1, 1);
	int rc = plein_seal(&env, big, PLEIN_SEAL_MAX_PLAIN + 1, (const unsigned char(*)[32])many, 1);
	free(big);
	CHECK_EQ_INT(rc, PLEIN_EINVAL);
	CHECK_EQ_INT(env.len, 4);
	CHECK_OK(plein_seal(&env, p, 1, (const unsigned char(*)[32])many, PLEIN_SEAL_MAX_RECIPIENTS));
	CHECK(memcmp(env.data, "kept", 4) == 0);
	CHECK_EQ_INT(env.data[5], 1);
	plein_buf_free(&env);
}

TEST(site_key_lookup_knows_itself_and_the_roster_only)
{
	char dir[256], other[PLEIN_SITEID_LEN + 1], lower[PLEIN_SITEID_LEN + 1];
	unsigned char pk[32];
	keypair b;
	seeded(&b, 0x42);
	plein_siteid_from_key(other, b.pk);
	plein_site *s = test_site(dir);
	CHECK(s != NULL);
	CHECK_OK(plein_site_key_lookup(s, s->id, pk));
	CHECK(memcmp(pk, s->pk, 32) == 0);
	for (int i = 0; s->id[i]; i++) /* as a person may type it */
		lower[i] = (char)(s->id[i] == '-' ? '-' : (s->id[i] >= 'A' && s->id[i] <= 'Z' ? s->id[i] + 32 : s->id[i]));
	lower[PLEIN_SITEID_LEN] = 0;
	CHECK_OK(plein_site_key_lookup(s, lower, pk));
	CHECK_EQ_INT(plein_site_key_lookup(s, other, pk), PLEIN_ENOTFOUND);
	CHECK(strstr(plein_error(), "roster") != NULL);
	CHECK_EQ_INT(plein_site_key_lookup(s, "not-a-site", pk), PLEIN_ENOTFOUND);

	/* Admitted by this (admin) site: its full key is known. */
	CHECK_OK(plein_db_begin(s->db));
	CHECK_OK(plein_roster_admit(s, other, b.pk, "Taalhuis", "partner", NULL));
	CHECK_OK(plein_db_commit(s->db));
	memset(pk, 0, sizeof pk);
	CHECK_OK(plein_site_key_lookup(s, other, pk));
	CHECK(memcmp(pk, b.pk, 32) == 0);
	/* A key filed under the wrong id is refused, not used. */
	char hex[65];
	sodium_bin2hex(hex, sizeof hex, s->pk, 32);
	sqlite3_stmt *st = plein_db_stmt(s->db, "UPDATE roster SET pk = ?1 WHERE id = ?2");
	sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, other, -1, SQLITE_STATIC);
	CHECK_OK(plein_db_step_done(s->db, st));
	CHECK_EQ_INT(plein_site_key_lookup(s, other, pk), PLEIN_EREJECT);
	plein_site_close(s);
	test_rmdir(dir);
}

static const char *unseal_sql(plein_site *s, const unsigned char *env, size_t n, char *out, size_t cap)
{
	sqlite3_stmt *st = plein_db_stmt(s->db, "SELECT plein_unseal(?1)");
	if (!st)
		return NULL;
	if (env)
		sqlite3_bind_blob(st, 1, env, (int)n, SQLITE_STATIC);
	const char *res = NULL;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
		res = out;
	}
	sqlite3_reset(st);
	return res;
}

TEST(sql_function_opens_only_what_this_site_may_read)
{
	char dir[256], got[128];
	keypair b;
	seeded(&b, 0x42);
	plein_site *s = test_site(dir);
	CHECK(s != NULL);
	CHECK_OK(plein_seal_sql_register(s));
	const char *msg = "{\"name\":\"Sanne\"}";
	plein_buf mine = PLEIN_BUF_INIT, theirs = PLEIN_BUF_INIT;
	CHECK_OK(plein_seal(&mine, (const unsigned char *)msg, strlen(msg), (const unsigned char(*)[32])s->pk, 1));
	CHECK_OK(plein_seal(&theirs, (const unsigned char *)msg, strlen(msg), (const unsigned char(*)[32])b.pk, 1));
	const char *r = unseal_sql(s, mine.data, mine.len, got, sizeof got);
	CHECK(r != NULL);
	CHECK_STR(r, msg);
	CHECK(unseal_sql(s, theirs.data, theirs.len, got, sizeof got) == NULL);
	CHECK(unseal_sql(s, NULL, 0, got, sizeof got) == NULL);
	mine.data[mine.len - 1] ^= 1;
	CHECK(unseal_sql(s, mine.data, mine.len, got, sizeof got) == NULL);
	plein_buf_free(&mine);
	plein_buf_free(&theirs);
	plein_site_close(s);
	test_rmdir(dir);
}
