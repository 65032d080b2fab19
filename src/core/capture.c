#include "plein/capture.h"

#include <stdlib.h>
#include <string.h>

#include "plein/buf.h"
#include "plein/error.h"
#include "plein/schema.h"

/* The wall clock of a write in Unix ms, in plain SQL. The HLC is derived
 * from it at sealing (local.c): computing it here costs a lookup per row. */
#define AT_MS "CAST(round((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER)"
/* Writes by the merge itself are not captured (plein_capture_suspend). */
#define NOT_MERGING "(SELECT applying FROM plein_clock WHERE id = 1) = 0"

static void quote_ident(plein_buf *b, const char *name)
{
	plein_buf_putc(b, '"');
	for (const char *p = name; *p; p++) {
		if (*p == '"')
			plein_buf_putc(b, '"');
		plein_buf_putc(b, *p);
	}
	plein_buf_putc(b, '"');
}

static void add_triggers(plein_buf *b, const plein_table *t)
{
	uint64_t all = 0;
	for (int i = 0; i < t->ncols; i++)
		all |= UINT64_C(1) << t->cols[i].cid;

	/* INSERT: every column is new. */
	plein_buf_printf(b, "CREATE TRIGGER plein_cap_%s_ins AFTER INSERT ON ", t->name);
	quote_ident(b, t->name);
	plein_buf_printf(b, " WHEN " NOT_MERGING " BEGIN INSERT INTO plein_capture(tid, id, op, cols, at)"
		" VALUES (%d, NEW.id, 1, %llu, " AT_MS "); END;\n", t->tid, (unsigned long long)all);

	/* UPDATE, same id: a bitmask of the columns whose value changed. An
	 * update that changes nothing is not captured. */
	plein_buf mask = PLEIN_BUF_INIT;
	plein_buf_puts(&mask, "(0");
	for (int i = 0; i < t->ncols; i++) {
		plein_buf_puts(&mask, " | ((NEW.");
		quote_ident(&mask, t->cols[i].name);
		plein_buf_puts(&mask, " IS NOT OLD.");
		quote_ident(&mask, t->cols[i].name);
		plein_buf_printf(&mask, ") << %d)", t->cols[i].cid);
	}
	plein_buf_puts(&mask, ")");
	plein_buf_printf(b, "CREATE TRIGGER plein_cap_%s_upd AFTER UPDATE ON ", t->name);
	quote_ident(b, t->name);
	plein_buf_printf(b, " WHEN NEW.id IS OLD.id AND %s <> 0 AND " NOT_MERGING
		" BEGIN INSERT INTO plein_capture(tid, id, op, cols, at) VALUES (%d, NEW.id, 2, %s, " AT_MS "); END;\n",
		plein_buf_cstr(&mask), t->tid, plein_buf_cstr(&mask));
	plein_buf_free(&mask);

	/* UPDATE of the id itself: the old row is gone, a new one exists. */
	plein_buf_printf(b, "CREATE TRIGGER plein_cap_%s_rekey AFTER UPDATE OF id ON ", t->name);
	quote_ident(b, t->name);
	plein_buf_printf(b, " WHEN NEW.id IS NOT OLD.id AND " NOT_MERGING " BEGIN"
		" INSERT INTO plein_capture(tid, id, op, cols, at) VALUES (%d, OLD.id, 3, 0, " AT_MS ");"
		" INSERT INTO plein_capture(tid, id, op, cols, at) VALUES (%d, NEW.id, 1, %llu, " AT_MS "); END;\n",
		t->tid, t->tid, (unsigned long long)all);

	/* DELETE. */
	plein_buf_printf(b, "CREATE TRIGGER plein_cap_%s_del AFTER DELETE ON ", t->name);
	quote_ident(b, t->name);
	plein_buf_printf(b, " WHEN " NOT_MERGING " BEGIN INSERT INTO plein_capture(tid, id, op, cols, at)"
		" VALUES (%d, OLD.id, 3, 0, " AT_MS "); END;\n", t->tid);
}

int plein_capture_install(plein_db *db)
{
	plein_schema *s = NULL;
	int rc = plein_capture_uninstall(db);
	if (rc < 0)
		return rc;
	if ((rc = plein_schema_load(&s, db)) < 0)
		return rc;
	plein_buf b = PLEIN_BUF_INIT;
	for (int i = 0; i < s->ntables; i++)
		add_triggers(&b, &s->tables[i]);
	rc = plein_db_exec(db, plein_buf_cstr(&b));
	plein_buf_free(&b);
	plein_schema_free(s);
	return rc;
}

int plein_capture_uninstall(plein_db *db)
{
	sqlite3 *h = plein_db_handle(db);
	sqlite3_stmt *st = NULL;
	plein_buf b = PLEIN_BUF_INIT;
	if (sqlite3_prepare_v2(h, "SELECT name FROM sqlite_schema WHERE type = 'trigger' AND name LIKE 'plein_cap_%'",
			       -1, &st, NULL) != SQLITE_OK)
		return plein_db_fail(db, "capture");
	while (sqlite3_step(st) == SQLITE_ROW) {
		plein_buf_puts(&b, "DROP TRIGGER ");
		quote_ident(&b, (const char *)sqlite3_column_text(st, 0));
		plein_buf_puts(&b, ";");
	}
	sqlite3_finalize(st);
	int rc = b.len ? plein_db_exec(db, plein_buf_cstr(&b)) : 0;
	plein_buf_free(&b);
	return rc;
}

int plein_capture_pending(plein_db *db, int64_t *out)
{
	return plein_db_int(db, out, "SELECT count(*) FROM plein_capture", NULL);
}

int plein_capture_suspend(plein_db *db, int suspended)
{
	sqlite3_stmt *st = plein_db_stmt(db, "UPDATE plein_clock SET applying = ?1 WHERE id = 1");
	if (!st)
		return PLEIN_ERR;
	sqlite3_bind_int(st, 1, suspended ? 1 : 0);
	return plein_db_step_done(db, st);
}
