#include "plein/schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plein/buf.h"
#include "plein/capture.h"
#include "plein/error.h"
#include "plein/merge.h"

/* The version of the core's own (local) tables below and in merge.c:
 * raise it when they change, so existing replicas get them. */
#define CORE_VERSION 3
#define CORE_VERSION_STR "3"

/* The core's own tables. Local to this replica: never synced, never in
 * the digest. Created before migrations so a migration may rely on them. */
static const char core_ddl[] =
	"CREATE TABLE IF NOT EXISTS plein_local ("
	"  key   TEXT PRIMARY KEY,"   /* network_id, network_name, site_id, tcp_site:HOST:PORT (docs/tcp-sync.md), ... */
	"  value ANY"
	");"
	"CREATE TABLE IF NOT EXISTS plein_clock ("
	"  id       INTEGER PRIMARY KEY CHECK (id = 1),"
	"  hlc      INTEGER NOT NULL,"  /* highest HLC issued or received */
	"  applying INTEGER NOT NULL DEFAULT 0" /* 1 while merge writes: not captured */
	");"
	"INSERT OR IGNORE INTO plein_clock(id, hlc, applying) VALUES (1, 0, 0);"
	/* What the last syncs with each peer did (plein status). */
	"CREATE TABLE IF NOT EXISTS plein_peer_state ("
	"  peer          TEXT PRIMARY KEY," /* a peer name, or a URL synced by hand */
	"  last_ok       TEXT,"             /* UTC time of the last sync that worked */
	"  last_error    TEXT,"             /* what went wrong the last time it failed */
	"  last_error_at TEXT,"
	"  batches_in    INTEGER NOT NULL DEFAULT 0," /* totals over all syncs */
	"  batches_out   INTEGER NOT NULL DEFAULT 0,"
	"  bytes_in      INTEGER NOT NULL DEFAULT 0,"
	"  bytes_out     INTEGER NOT NULL DEFAULT 0"
	");"
	/* One row per captured row write, in write order (docs/capture.md).
	 * The HLC is given at sealing, from seq order and at: a trigger that
	 * computed it would double the cost of every write. */
	"CREATE TABLE IF NOT EXISTS plein_capture ("
	"  seq  INTEGER PRIMARY KEY," /* write order (assigned by SQLite) */
	"  tid  INTEGER NOT NULL,"    /* plein_sync_table.tid */
	"  id   TEXT NOT NULL,"       /* the row's id */
	"  op   INTEGER NOT NULL,"    /* 1 insert, 2 update, 3 delete */
	"  cols INTEGER NOT NULL,"    /* bitmask of changed cids */
	"  at   INTEGER NOT NULL"     /* wall clock of the write, Unix ms */
	");";

/* Core version 1 stamped writes with an HLC in the trigger; keep any
 * unsealed rows, in order, with the wall time of their HLC. */
static int convert_capture_v1(plein_db *db)
{
	int64_t n = 0;
	int rc = plein_db_int(db, &n, "SELECT count(*) FROM pragma_table_info('plein_capture') WHERE name = 'hlc'", NULL);
	if (rc < 0 || n == 0)
		return rc;
	return plein_db_exec(db,
		"ALTER TABLE plein_capture RENAME TO plein_capture_v1;"
		"CREATE TABLE plein_capture (seq INTEGER PRIMARY KEY, tid INTEGER NOT NULL, id TEXT NOT NULL,"
		" op INTEGER NOT NULL, cols INTEGER NOT NULL, at INTEGER NOT NULL);"
		"INSERT INTO plein_capture(tid, id, op, cols, at) SELECT tid, id, op, cols, hlc >> 16 FROM plein_capture_v1 ORDER BY hlc;"
		"UPDATE plein_clock SET hlc = max(hlc, coalesce((SELECT max(hlc) FROM plein_capture_v1), 0));"
		"DROP TABLE plein_capture_v1;");
}

int plein_schema_version(void)
{
	return plein_migration_count;
}

int plein_schema_migrate(plein_db *db)
{
	int64_t have = 0;
	int rc = plein_db_int(db, &have, "PRAGMA user_version", NULL);
	if (rc < 0)
		return rc;
	if (have > plein_migration_count)
		return plein_fail(PLEIN_EINVAL,
			"this replica was written by a newer plein (schema version %lld, this plein knows %d); "
			"upgrade plein on this machine, the replica was not touched",
			(long long)have, plein_migration_count);
	if (have == plein_migration_count) {
		/* Fast path: the core's tables are of this version and the
		 * triggers exist (unless someone dropped them). */
		int64_t n = 0, core = 0;
		rc = plein_db_int(db, &n, "SELECT count(*) FROM sqlite_schema WHERE type='trigger' AND name LIKE 'plein_cap_%'", NULL);
		if (rc < 0)
			return rc;
		rc = plein_db_int(db, &core, "SELECT value FROM plein_local WHERE key = 'core_version'", NULL);
		if (rc < 0 && rc != PLEIN_ENOTFOUND)
			return rc;
		if (n > 0 && core == CORE_VERSION)
			return 0;
	}

	if ((rc = plein_db_begin(db)) < 0)
		return rc;
	/* Re-check under the write lock: another process may have migrated. */
	if ((rc = plein_db_int(db, &have, "PRAGMA user_version", NULL)) < 0)
		goto fail;
	if ((rc = convert_capture_v1(db)) < 0 || (rc = plein_db_exec(db, core_ddl)) < 0)
		goto fail;
	/* Seeds and data fixes in migrations are the same at every site:
	 * they are not captured, so drop the triggers while migrating. */
	if ((rc = plein_capture_uninstall(db)) < 0)
		goto fail;
	for (int i = (int)have; i < plein_migration_count; i++) {
		if ((rc = plein_db_exec(db, plein_migrations[i].sql)) < 0) {
			char why[512]; /* plein_fail writes the slot it would read */
			snprintf(why, sizeof why, "%s", plein_error());
			plein_fail(PLEIN_ERR, "schema migration %s failed: %s; the replica was left as it was",
				   plein_migrations[i].name, why);
			goto fail;
		}
	}
	char pragma[64];
	snprintf(pragma, sizeof pragma, "PRAGMA user_version=%d", plein_migration_count);
	if ((rc = plein_db_exec(db, pragma)) < 0)
		goto fail;
	if ((rc = plein_capture_install(db)) < 0 || (rc = plein_merge_install(db)) < 0)
		goto fail;
	if ((rc = plein_db_exec(db, "INSERT OR REPLACE INTO plein_local(key, value) VALUES ('core_version', " CORE_VERSION_STR ")")) < 0)
		goto fail;
	return plein_db_commit(db);
fail:
	plein_db_rollback(db);
	return rc;
}

static int policy_of(const char *s)
{
	if (strcmp(s, "max") == 0)
		return PLEIN_MAX;
	if (strcmp(s, "counter") == 0)
		return PLEIN_COUNTER;
	return PLEIN_LWW;
}

int plein_schema_load(plein_schema **out, plein_db *db)
{
	*out = NULL;
	sqlite3 *h = plein_db_handle(db);
	sqlite3_stmt *st = NULL;
	plein_schema *s = plein_xcalloc(1, sizeof *s);
	int rc = 0;

	if (sqlite3_prepare_v2(h, "SELECT name, tid FROM plein_sync_table ORDER BY tid", -1, &st, NULL) != SQLITE_OK) {
		rc = plein_db_fail(db, "reading the sync metadata");
		goto fail;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		s->tables = plein_xrealloc(s->tables, sizeof *s->tables * (size_t)(s->ntables + 1));
		plein_table *t = &s->tables[s->ntables++];
		memset(t, 0, sizeof *t);
		t->name = plein_xstrdup((const char *)sqlite3_column_text(st, 0));
		t->tid = sqlite3_column_int(st, 1);
	}
	sqlite3_finalize(st);
	st = NULL;

	if (sqlite3_prepare_v2(h, "SELECT name, cid, policy, personal FROM plein_sync_column WHERE tbl = ? ORDER BY cid",
			       -1, &st, NULL) != SQLITE_OK) {
		rc = plein_db_fail(db, "reading the sync metadata");
		goto fail;
	}
	for (int i = 0; i < s->ntables; i++) {
		plein_table *t = &s->tables[i];
		sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
		while (sqlite3_step(st) == SQLITE_ROW) {
			t->cols = plein_xrealloc(t->cols, sizeof *t->cols * (size_t)(t->ncols + 1));
			plein_column *c = &t->cols[t->ncols++];
			c->name = plein_xstrdup((const char *)sqlite3_column_text(st, 0));
			c->cid = sqlite3_column_int(st, 1);
			c->policy = policy_of((const char *)sqlite3_column_text(st, 2));
			c->personal = sqlite3_column_int(st, 3);
		}
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	*out = s;
	return 0;
fail:
	sqlite3_finalize(st);
	plein_schema_free(s);
	return rc;
}

void plein_schema_free(plein_schema *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->ntables; i++) {
		for (int j = 0; j < s->tables[i].ncols; j++)
			free(s->tables[i].cols[j].name);
		free(s->tables[i].cols);
		free(s->tables[i].name);
	}
	free(s->tables);
	free(s);
}

const plein_table *plein_schema_table(const plein_schema *s, const char *name)
{
	for (int i = 0; i < s->ntables; i++)
		if (strcmp(s->tables[i].name, name) == 0)
			return &s->tables[i];
	return NULL;
}

const plein_table *plein_schema_table_by_tid(const plein_schema *s, int tid)
{
	for (int i = 0; i < s->ntables; i++)
		if (s->tables[i].tid == tid)
			return &s->tables[i];
	return NULL;
}

const plein_column *plein_table_column(const plein_table *t, const char *name)
{
	for (int i = 0; i < t->ncols; i++)
		if (strcmp(t->cols[i].name, name) == 0)
			return &t->cols[i];
	return NULL;
}
