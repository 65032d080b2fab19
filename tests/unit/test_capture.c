/* Capture: any writer's insert, update and delete is recorded, including
 * a plain SQLite connection that has none of plein's functions. */
#include <sqlite3.h>

#include "harness.h"
#include "plein/capture.h"
#include "util.h"

/* A bare connection, as the sqlite3 shell would open it. */
static sqlite3 *raw_open(const char *dir)
{
	char path[300];
	snprintf(path, sizeof path, "%s/plein.db", dir);
	sqlite3 *h = NULL;
	if (sqlite3_open(path, &h) != SQLITE_OK)
		return NULL;
	sqlite3_busy_timeout(h, 5000);
	return h;
}

static int raw_exec(sqlite3 *h, const char *sql)
{
	char *err = NULL;
	int rc = sqlite3_exec(h, sql, NULL, NULL, &err);
	if (err) {
		printf("# %s\n", err);
		sqlite3_free(err);
	}
	return rc;
}

/* "op:cols" of the capture rows for id, in HLC order, space separated. */
static void captured(plein_site *s, const char *id, char *out, size_t n)
{
	sqlite3_stmt *st = plein_db_stmt(s->db, "SELECT op, cols FROM plein_capture WHERE id = ?1 ORDER BY seq");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	out[0] = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		size_t len = strlen(out);
		snprintf(out + len, n - len, "%s%d:%lld", len ? " " : "", sqlite3_column_int(st, 0),
			 (long long)sqlite3_column_int64(st, 1));
	}
	sqlite3_reset(st);
}

TEST(raw_sql_insert_update_delete_are_captured)
{
	char dir[256], got[256];
	plein_site *s = test_site(dir);
	CHECK(s != NULL);
	sqlite3 *h = raw_open(dir);
	CHECK(h != NULL);
	/* location: name=0 kind=1 address=2 tz=3 */
	CHECK_EQ_INT(raw_exec(h, "INSERT INTO location(id, name, kind) VALUES ('any-fresh-text-id', 'Wijkgebouw De Bron', 'community')"), SQLITE_OK);
	CHECK_EQ_INT(raw_exec(h, "UPDATE location SET address = 'Brinkstraat 3' WHERE id = 'any-fresh-text-id'"), SQLITE_OK);
	CHECK_EQ_INT(raw_exec(h, "UPDATE location SET name = 'De Bron', kind = 'mobile' WHERE id = 'any-fresh-text-id'"), SQLITE_OK);
	CHECK_EQ_INT(raw_exec(h, "UPDATE location SET name = 'De Bron' WHERE id = 'any-fresh-text-id'"), SQLITE_OK); /* no change */
	CHECK_EQ_INT(raw_exec(h, "DELETE FROM location WHERE id = 'any-fresh-text-id'"), SQLITE_OK);
	sqlite3_close(h);
	captured(s, "any-fresh-text-id", got, sizeof got);
	CHECK_STR(got, "1:15 2:4 2:3 3:0");
	plein_site_close(s);
	test_rmdir(dir);
}

TEST(changing_an_id_is_a_delete_and_an_insert)
{
	char dir[256], got[256];
	plein_site *s = test_site(dir);
	CHECK(s != NULL);
	CHECK_OK(plein_db_exec(s->db, "INSERT INTO daylog(id, text) VALUES ('a', 'x')"));
	CHECK_OK(plein_db_exec(s->db, "UPDATE daylog SET id = 'b' WHERE id = 'a'"));
	captured(s, "a", got, sizeof got);
	CHECK_STR(got, "1:15 3:0");
	captured(s, "b", got, sizeof got);
	CHECK_STR(got, "1:15");
	plein_site_close(s);
	test_rmdir(dir);
}

TEST(capture_is_suspended_while_merging)
{
	char dir[256];
	plein_site *s = test_site(dir);
	CHECK(s != NULL);
	CHECK_OK(plein_db_begin(s->db));
	CHECK_OK(plein_capture_suspend(s->db, 1));
	CHECK_OK(plein_db_exec(s->db, "INSERT INTO daylog(id, text) VALUES ('merged', 'from a peer')"));
	CHECK_OK(plein_capture_suspend(s->db, 0));
	CHECK_OK(plein_db_commit(s->db));
	int64_t n = -1;
	CHECK_OK(plein_capture_pending(s->db, &n));
	CHECK_EQ_INT(n, 0);
	CHECK_OK(plein_db_exec(s->db, "UPDATE daylog SET text = 'edited here' WHERE id = 'merged'"));
	CHECK_OK(plein_capture_pending(s->db, &n));
	CHECK_EQ_INT(n, 1);
	plein_site_close(s);
	test_rmdir(dir);
}

TEST(every_synced_table_has_capture_and_local_tables_have_none)
{
	char dir[256];
	plein_site *s = test_site(dir);
	CHECK(s != NULL);
	for (int i = 0; i < s->schema->ntables; i++) {
		char sql[300];
		snprintf(sql, sizeof sql, "INSERT INTO \"%s\"(id) VALUES ('row-%d')", s->schema->tables[i].name, i);
		CHECK_OK(plein_db_exec(s->db, sql));
	}
	/* Every table's insert is captured (a referral's also writes its
	 * first history row: schema 004). */
	const char *tables = "SELECT count(DISTINCT tid) FROM plein_capture";
	int64_t n = 0, pending = 0;
	CHECK_OK(plein_db_int(s->db, &n, tables, NULL));
	CHECK_EQ_INT(n, s->schema->ntables);
	CHECK(s->schema->ntables >= 11); /* the domain tables of domain.md, and more */
	CHECK_OK(plein_capture_pending(s->db, &pending));
	CHECK_OK(plein_db_exec(s->db, "INSERT INTO plein_local(key, value) VALUES ('x', 'y')"));
	CHECK_OK(plein_capture_pending(s->db, &n));
	CHECK_EQ_INT(n, pending);
	plein_site_close(s);
	test_rmdir(dir);
}

TEST(merge_policies_come_from_the_schema)
{
	char dir[256];
	plein_site *s = test_site(dir);
	CHECK(s != NULL);
	const plein_table *t = plein_schema_table(s->schema, "referral");
	CHECK(t != NULL);
	CHECK_EQ_INT(plein_table_column(t, "status")->policy, PLEIN_MAX);
	CHECK_EQ_INT(plein_table_column(t, "attempts")->policy, PLEIN_COUNTER);
	CHECK_EQ_INT(plein_table_column(t, "outcome")->policy, PLEIN_LWW);
	CHECK_EQ_INT(plein_table_column(t, "contact")->personal, 1);
	plein_site_close(s);
	test_rmdir(dir);
}

TEST(newer_schema_version_is_refused_untouched)
{
	char dir[256], path[300];
	plein_site *s = test_site(dir);
	CHECK(s != NULL);
	CHECK_OK(plein_db_exec(s->db, "PRAGMA user_version = 999"));
	plein_site_close(s);
	snprintf(path, sizeof path, "%s/plein.db", dir);
	plein_site *again = NULL;
	CHECK_EQ_INT(plein_site_open(&again, dir), PLEIN_EINVAL);
	CHECK(strstr(plein_error(), "newer plein") != NULL);
	sqlite3 *h = NULL;
	CHECK_EQ_INT(sqlite3_open(path, &h), SQLITE_OK);
	sqlite3_stmt *st = NULL;
	sqlite3_prepare_v2(h, "PRAGMA user_version", -1, &st, NULL);
	CHECK_EQ_INT(sqlite3_step(st), SQLITE_ROW);
	CHECK_EQ_INT(sqlite3_column_int(st, 0), 999);
	sqlite3_finalize(st);
	sqlite3_close(h);
	test_rmdir(dir);
}
