/* SQLite helpers: opening a replica, transactions that remember where they
 * were started (so every SQLITE_BUSY is traceable), a prepared-statement
 * cache, and translation of SQLite errors into messages for people. */
#ifndef PLEIN_DB_H
#define PLEIN_DB_H

#include <sqlite3.h>
#include <stdint.h>

typedef struct plein_db plein_db;

/* Open (create=1: create if missing) the database at path in WAL mode. */
int plein_db_open(plein_db **out, const char *path, int create);
void plein_db_close(plein_db *db);
/* The raw handle (lent). */
sqlite3 *plein_db_handle(plein_db *db);

/* Run SQL text with no results (DDL, pragmas). */
int plein_db_exec(plein_db *db, const char *sql);

/* A cached prepared statement for sql (lent; reset and unbound on return). */
sqlite3_stmt *plein_db_stmt(plein_db *db, const char *sql);

/* Step a statement that returns no rows; resets it. */
int plein_db_step_done(plein_db *db, sqlite3_stmt *st);

/* One integer from a query with bound text args (NULL ends the list);
 * returns PLEIN_ENOTFOUND when there is no row. */
int plein_db_int(plein_db *db, int64_t *out, const char *sql, ...);

/* Set the page cache (PRAGMA cache_size: pages, or KiB when negative);
 * *out_old (may be NULL) gets what it was, to put back. Connections open
 * with 64 MiB; what applies one batch per transaction needs far less. */
int plein_db_cache_size(plein_db *db, int size, int *out_old);

#define plein_db_begin(db) plein_db_begin_at((db), __FILE__, __LINE__)
int plein_db_begin_at(plein_db *db, const char *file, int line);
int plein_db_commit(plein_db *db);
void plein_db_rollback(plein_db *db);

/* Turn the connection's last error into a plein error code and message. */
int plein_db_fail(plein_db *db, const char *what);

#endif
