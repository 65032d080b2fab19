/* The digest depends on the synced state only: not on write order, not
 * on clocks or local tables. */
#include "harness.h"
#include "plein/digest.h"
#include "util.h"

static const char *rows[] = {
	"INSERT INTO location(id, name, kind) VALUES ('L1', 'Centrum', 'branch')",
	"INSERT INTO location(id, name, kind) VALUES ('L2', 'De Bron', 'community')",
	"INSERT INTO partner(id, name, max_attempts) VALUES ('P1', 'Taalhuis', 3)",
	"INSERT INTO daylog(id, location_id, day, text) VALUES ('D1', 'L1', '2026-11-24', 'Rustige ochtend')",
	"UPDATE location SET address = 'Markt 1' WHERE id = 'L1'",
};

TEST(same_rows_in_any_order_give_the_same_digest)
{
	char d1[256], d2[256], h1[65], h2[65];
	plein_site *a = test_site(d1), *b = test_site(d2);
	CHECK(a && b);
	for (int i = 0; i < 5; i++)
		CHECK_OK(plein_db_exec(a->db, rows[i]));
	/* b: reverse table order, the update folded into the insert, and an
	 * extra row that is deleted again */
	CHECK_OK(plein_db_exec(b->db, rows[3]));
	CHECK_OK(plein_db_exec(b->db, rows[2]));
	CHECK_OK(plein_db_exec(b->db, "INSERT INTO location(id, name, kind, address) VALUES ('L1', 'Centrum', 'branch', 'Markt 1')"));
	CHECK_OK(plein_db_exec(b->db, "INSERT INTO location(id, name, kind) VALUES ('L9', 'weg', 'mobile')"));
	CHECK_OK(plein_db_exec(b->db, rows[1]));
	CHECK_OK(plein_db_exec(b->db, "DELETE FROM location WHERE id = 'L9'"));
	CHECK_OK(plein_db_exec(b->db, "INSERT INTO plein_local(key, value) VALUES ('noise', 1)"));
	CHECK_OK(plein_digest_hex(a->db, h1));
	CHECK_OK(plein_digest_hex(b->db, h2));
	CHECK_STR(h1, h2);
	CHECK_EQ_INT(strlen(h1), 64);

	/* one value differs: the digest differs; types matter too */
	CHECK_OK(plein_db_exec(b->db, "UPDATE partner SET max_attempts = '3x' WHERE id = 'P1'"));
	CHECK_OK(plein_digest_hex(b->db, h2));
	CHECK(strcmp(h1, h2) != 0);
	plein_site_close(a);
	plein_site_close(b);
	test_rmdir(d1);
	test_rmdir(d2);
}

TEST(fresh_sites_share_the_seeded_state)
{
	char d1[256], d2[256], h1[65], h2[65];
	plein_site *a = test_site(d1), *b = test_site(d2);
	CHECK(a && b);
	CHECK_OK(plein_digest_hex(a->db, h1));
	CHECK_OK(plein_digest_hex(b->db, h2));
	CHECK_STR(h1, h2);
	int64_t terms = 0;
	CHECK_OK(plein_db_int(a->db, &terms, "SELECT count(*) FROM term WHERE scheme = 'theme'", NULL));
	CHECK_EQ_INT(terms, 12);
	plein_site_close(a);
	plein_site_close(b);
	test_rmdir(d1);
	test_rmdir(d2);
}

/* docs/digest.md: the byte stream, checked against its test vector. */
TEST(digest_matches_the_documented_vector)
{
	char dir[256], hex[65];
	plein_site *s = test_site(dir);
	CHECK(s != NULL);
	CHECK_EQ_INT(s->schema->ntables, 15);
	for (int i = 0; i < s->schema->ntables; i++) {
		char sql[200];
		snprintf(sql, sizeof sql, "DELETE FROM \"%s\"", s->schema->tables[i].name);
		CHECK_OK(plein_db_exec(s->db, sql));
	}
	CHECK_OK(plein_db_exec(s->db, "INSERT INTO location(id, name, kind, address, tz) VALUES ('L1', 'Centrum', 'branch', NULL, 'Europe/Amsterdam')"));
	CHECK_OK(plein_db_exec(s->db, "INSERT INTO partner(id, name, max_attempts) VALUES ('P1', 'Taalhuis', 3)"));
	CHECK_OK(plein_digest_hex(s->db, hex));
	CHECK_STR(hex, "1d8aa7cc6a0d4259943c7553a074e60d86e995b5a9a2e2ba199fae1bd2ce4bf9");
	plein_site_close(s);
	test_rmdir(dir);
}
