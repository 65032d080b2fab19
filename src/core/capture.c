#include "plein/capture.h"

#include <stdlib.h>
#include <string.h>

#include "plein/buf.h"
#include "plein/error.h"
#include "plein/schema.h"

/* The HLC of a write, in plain SQL: 48 bits of Unix milliseconds and a
 * 16-bit counter, never below the last issued or received clock. */
#define HLC_NEXT \
	"max(c.hlc + 1," \
	" coalesce((SELECT max(hlc) FROM plein_capture), 0) + 1," \
	" CAST(round((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER) << 16)"

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
	plein_buf_printf(b, " BEGIN INSERT INTO plein_capture(hlc, tid, id, op, cols)"
		" SELECT " HLC_NEXT ", %d, NEW.id, 1, %llu FROM plein_clock c WHERE c.applying = 0; END;\n",
		t->tid, (unsigned long long)all);

	/* UPDATE, same id: a bitmask of the columns whose value changed. */
	plein_buf_printf(b, "CREATE TRIGGER plein_cap_%s_upd AFTER UPDATE ON ", t->name);
	quote_ident(b, t->name);
	plein_buf_puts(b, " WHEN NEW.id IS OLD.id BEGIN INSERT INTO plein_capture(hlc, tid, id, op, cols)"
		" SELECT " HLC_NEXT);
	plein_buf_printf(b, ", %d, NEW.id, 2, m FROM plein_clock c, (SELECT 0", t->tid);
	for (int i = 0; i < t->ncols; i++) {
		plein_buf_puts(b, " | ((NEW.");
		quote_ident(b, t->cols[i].name);
		plein_buf_puts(b, " IS NOT OLD.");
		quote_ident(b, t->cols[i].name);
		plein_buf_printf(b, ") << %d)", t->cols[i].cid);
	}
	plein_buf_puts(b, " AS m) WHERE c.applying = 0 AND m <> 0; END;\n");

	/* UPDATE of the id itself: the old row is gone, a new one exists. */
	plein_buf_printf(b, "CREATE TRIGGER plein_cap_%s_rekey AFTER UPDATE OF id ON ", t->name);
	quote_ident(b, t->name);
	plein_buf_printf(b, " WHEN NEW.id IS NOT OLD.id BEGIN"
		" INSERT INTO plein_capture(hlc, tid, id, op, cols)"
		" SELECT " HLC_NEXT ", %d, OLD.id, 3, 0 FROM plein_clock c WHERE c.applying = 0;"
		" INSERT INTO plein_capture(hlc, tid, id, op, cols)"
		" SELECT " HLC_NEXT ", %d, NEW.id, 1, %llu FROM plein_clock c WHERE c.applying = 0; END;\n",
		t->tid, t->tid, (unsigned long long)all);

	/* DELETE. */
	plein_buf_printf(b, "CREATE TRIGGER plein_cap_%s_del AFTER DELETE ON ", t->name);
	quote_ident(b, t->name);
	plein_buf_printf(b, " BEGIN INSERT INTO plein_capture(hlc, tid, id, op, cols)"
		" SELECT " HLC_NEXT ", %d, OLD.id, 3, 0 FROM plein_clock c WHERE c.applying = 0; END;\n",
		t->tid);
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
