#include "plein/db.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plein/buf.h"
#include "plein/error.h"

#define STMT_CACHE 256

struct plein_db {
	sqlite3 *h;
	char *path;
	const char *tx_file; /* where the open transaction began */
	int tx_line;
	int ncache;
	struct {
		char *sql;
		sqlite3_stmt *st;
	} cache[STMT_CACHE];
};

int plein_db_fail(plein_db *db, const char *what)
{
	int rc = sqlite3_extended_errcode(db->h);
	const char *msg = sqlite3_errmsg(db->h);
	/* A full disk often surfaces as an I/O error; the OS error tells. */
	if ((rc & 0xff) == SQLITE_IOERR && (sqlite3_system_errno(db->h) == ENOSPC || sqlite3_system_errno(db->h) == EDQUOT))
		rc = SQLITE_FULL;
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return plein_fail(PLEIN_EBUSY,
			"%s: the database %s is busy (another plein or sqlite3 is writing%s%s:%d); try again in a moment",
			what, db->path, db->tx_file ? ", our transaction began at " : "",
			db->tx_file ? db->tx_file : "", db->tx_file ? db->tx_line : 0);
	case SQLITE_FULL:
		return plein_fail(PLEIN_ERR, "%s: the disk is full; nothing was changed (free some space and try again)", what);
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return plein_fail(PLEIN_ERR, "%s: %s is not a plein database or is damaged (%s); restore it with 'plein verify' from the logs",
			what, db->path, msg);
	case SQLITE_READONLY:
	case SQLITE_CANTOPEN:
	case SQLITE_PERM:
	case SQLITE_IOERR:
		return plein_fail(PLEIN_ERR, "%s: cannot write %s (%s); check the disk and the file permissions", what, db->path, msg);
	case SQLITE_CONSTRAINT:
		return plein_fail(PLEIN_EINVAL, "%s: %s", what, msg);
	default:
		return plein_fail(PLEIN_ERR, "%s: %s", what, msg);
	}
}

int plein_db_open(plein_db **out, const char *path, int create)
{
	*out = NULL;
	plein_db *db = plein_xcalloc(1, sizeof *db);
	db->path = plein_xstrdup(path);
	/* Keep statement journals in memory up to 1 MiB: a trigger makes every
	 * insert keep one, and past the default 64 KiB SQLite moves it to a
	 * temp file for the rest of the transaction, tripling the cost of a
	 * large one (docs/capture.md). Only possible before SQLite starts;
	 * SQLITE_MISUSE afterwards is harmless. */
	sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, 1 << 20);
	int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
	if (sqlite3_open_v2(path, &db->h, flags, NULL) != SQLITE_OK) {
		int rc = db->h ? plein_db_fail(db, "open")
			       : plein_fail(PLEIN_ERR, "open %s: out of memory", path);
		plein_db_close(db);
		return rc;
	}
	sqlite3_extended_result_codes(db->h, 1);
	sqlite3_busy_timeout(db->h, 5000);
	/* Keep -wal and -shm between runs: on a full disk a replica can then
	 * still be opened and read (creating -shm would need space). */
	int persist = 1;
	sqlite3_file_control(db->h, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
	/* WAL: readers never block the writer. FULL: a write acknowledged to
	 * a person survives power loss, not only a crash (design §5). */
	if (plein_db_exec(db, "PRAGMA journal_mode=WAL") < 0 ||
	    plein_db_exec(db, "PRAGMA synchronous=FULL") < 0 ||
	    /* Up to 64 MiB of page cache (taken only as needed): a large
	     * transaction that outgrows the default 8 MiB spills pages into the
	     * WAL one write at a time, several times slower (design §10). */
	    plein_db_exec(db, "PRAGMA cache_size=-65536") < 0 ||
	    plein_db_exec(db, "PRAGMA foreign_keys=OFF") < 0 ||
	    /* Deleted content is overwritten, so erased personal data leaves
	     * no copy in free pages (docs/erasure.md). */
	    plein_db_exec(db, "PRAGMA secure_delete=ON") < 0) {
		plein_db_close(db);
		return plein_error_code() ? plein_error_code() : PLEIN_ERR;
	}
	*out = db;
	return 0;
}

void plein_db_close(plein_db *db)
{
	if (!db)
		return;
	for (int i = 0; i < db->ncache; i++) {
		sqlite3_finalize(db->cache[i].st);
		free(db->cache[i].sql);
	}
	sqlite3_close(db->h);
	free(db->path);
	free(db);
}

sqlite3 *plein_db_handle(plein_db *db)
{
	return db->h;
}

int plein_db_exec(plein_db *db, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(db->h, sql, NULL, NULL, &err) != SQLITE_OK) {
		sqlite3_free(err);
		return plein_db_fail(db, "database");
	}
	return 0;
}

sqlite3_stmt *plein_db_stmt(plein_db *db, const char *sql)
{
	for (int i = 0; i < db->ncache; i++) {
		if (strcmp(db->cache[i].sql, sql) == 0) {
			sqlite3_stmt *st = db->cache[i].st;
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			return st;
		}
	}
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
		plein_db_fail(db, "prepare");
		return NULL;
	}
	if (db->ncache == STMT_CACHE) { /* full: evict the oldest */
		sqlite3_finalize(db->cache[0].st);
		free(db->cache[0].sql);
		memmove(&db->cache[0], &db->cache[1], sizeof db->cache[0] * (STMT_CACHE - 1));
		db->ncache--;
	}
	db->cache[db->ncache].sql = plein_xstrdup(sql);
	db->cache[db->ncache].st = st;
	db->ncache++;
	return st;
}

int plein_db_step_done(plein_db *db, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	int ret = (rc == SQLITE_DONE || rc == SQLITE_ROW) ? 0 : plein_db_fail(db, "database");
	sqlite3_reset(st);
	return ret;
}

int plein_db_int(plein_db *db, int64_t *out, const char *sql, ...)
{
	sqlite3_stmt *st = plein_db_stmt(db, sql);
	if (!st)
		return PLEIN_ERR;
	va_list ap;
	va_start(ap, sql);
	const char *arg;
	for (int i = 1; (arg = va_arg(ap, const char *)) != NULL; i++)
		sqlite3_bind_text(st, i, arg, -1, SQLITE_TRANSIENT);
	va_end(ap);
	int rc = sqlite3_step(st);
	int ret;
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		ret = 0;
	} else if (rc == SQLITE_DONE) {
		ret = PLEIN_ENOTFOUND;
	} else {
		ret = plein_db_fail(db, "database");
	}
	sqlite3_reset(st);
	return ret;
}

int plein_db_begin_at(plein_db *db, const char *file, int line)
{
	/* IMMEDIATE: take the write lock now, so a busy database fails here,
	 * before any work, instead of at commit. */
	int rc = plein_db_exec(db, "BEGIN IMMEDIATE");
	if (rc == 0) {
		db->tx_file = file;
		db->tx_line = line;
	}
	return rc;
}

int plein_db_commit(plein_db *db)
{
	int rc = plein_db_exec(db, "COMMIT");
	if (rc < 0)
		plein_db_rollback(db);
	db->tx_file = NULL;
	return rc;
}

void plein_db_rollback(plein_db *db)
{
	if (!sqlite3_get_autocommit(db->h))
		sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
	db->tx_file = NULL;
}

int plein_db_cache_size(plein_db *db, int size, int *out_old)
{
	int64_t old = 0;
	if (out_old && plein_db_int(db, &old, "PRAGMA cache_size", NULL) < 0)
		return plein_error_code();
	char sql[64];
	snprintf(sql, sizeof sql, "PRAGMA cache_size=%d", size);
	int rc = plein_db_exec(db, sql);
	if (rc == 0 && out_old)
		*out_old = (int)old;
	return rc;
}
