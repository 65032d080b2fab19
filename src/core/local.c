#include "plein/local.h"

#include <stdlib.h>
#include <string.h>

#include "plein/buf.h"
#include "plein/capture.h"
#include "plein/error.h"

#define MAXCOL 62

/* What the capture log says about one row. */
typedef struct {
	int tid;
	plein_buf id;
	uint64_t cols;        /* columns written */
	int64_t h[MAXCOL];    /* last HLC per column */
	int64_t hmax;
	int saw_delete;
} group;

static void value_of(plein_value *v, sqlite3_stmt *st, int col)
{
	memset(v, 0, sizeof *v);
	switch (sqlite3_column_type(st, col)) {
	case SQLITE_INTEGER: v->type = PLEIN_V_INT; v->i = sqlite3_column_int64(st, col); break;
	case SQLITE_FLOAT: v->type = PLEIN_V_REAL; v->f = sqlite3_column_double(st, col); break;
	case SQLITE_TEXT:
		v->type = PLEIN_V_TEXT;
		v->p = sqlite3_column_text(st, col);
		v->n = (size_t)sqlite3_column_bytes(st, col);
		break;
	case SQLITE_BLOB:
		v->type = PLEIN_V_BLOB;
		v->p = sqlite3_column_blob(st, col);
		v->n = (size_t)sqlite3_column_bytes(st, col);
		break;
	default: v->type = PLEIN_V_NULL;
	}
}

static int emit_group(plein_changeset *out, group *g, plein_merge *m, plein_site *s)
{
	const plein_table *t = plein_schema_table_by_tid(s->schema, g->tid);
	if (!t)
		return plein_fail(PLEIN_ERR, "captured a write to table number %d, which the schema does not name", g->tid);
	int64_t cl = 0;
	int rc = plein_merge_row_cl(m, g->tid, (const char *)g->id.data, g->id.len, &cl);
	if (rc < 0)
		return rc;

	plein_buf sql = PLEIN_BUF_INIT;
	plein_buf_puts(&sql, "SELECT 1");
	for (int c = 0; c < t->ncols; c++)
		plein_buf_printf(&sql, ", \"%s\"", t->cols[c].name);
	plein_buf_printf(&sql, " FROM \"%s\" WHERE id = ?1", t->name);
	sqlite3_stmt *st = plein_db_stmt(s->db, plein_buf_cstr(&sql));
	plein_buf_free(&sql);
	if (!st)
		return PLEIN_ERR;
	sqlite3_bind_text(st, 1, (const char *)g->id.data, (int)g->id.len, SQLITE_STATIC);
	int step = sqlite3_step(st);
	if (step != SQLITE_ROW && step != SQLITE_DONE) {
		rc = plein_db_fail(s->db, "sealing");
		goto done;
	}
	int exists = step == SQLITE_ROW;
	plein_change ch = { .tid = g->tid, .id = (const char *)g->id.data, .id_len = g->id.len, .hlc = g->hmax };

	if (!exists) {
		if (cl % 2 == 1) { /* published, now deleted: a delete */
			ch.cl = cl + 1;
			ch.cid = PLEIN_CID_ROW;
			plein_changeset_add(out, &ch);
		}
		goto done;
	}
	uint64_t emit = g->cols;
	if (cl % 2 == 0 || g->saw_delete) {
		/* A new life: every column, so older values are not needed. */
		ch.cl = cl % 2 == 0 ? cl + 1 : cl + 2;
		emit = ~UINT64_C(0);
		ch.cid = PLEIN_CID_ROW;
		plein_changeset_add(out, &ch);
	} else {
		ch.cl = cl;
	}
	for (int c = 0; c < t->ncols; c++) {
		int cid = t->cols[c].cid;
		if (!(emit >> cid & 1))
			continue;
		ch.cid = cid;
		ch.hlc = (g->cols >> cid & 1) ? g->h[cid] : g->hmax;
		ch.personal = t->cols[c].personal;
		value_of(&ch.value, st, 1 + c);
		if (t->cols[c].policy == PLEIN_COUNTER) {
			/* This site's own running total: what it shows minus what the
			 * other sites contributed. */
			int64_t others = 0, shown = ch.value.type == PLEIN_V_INT ? ch.value.i : 0;
			if ((rc = plein_merge_counter_others(m, g->tid, ch.id, ch.id_len, cid, s->pk, ch.cl, &others)) < 0)
				goto done;
			ch.value.type = PLEIN_V_INT;
			ch.value.i = shown - others;
		}
		plein_changeset_add(out, &ch);
	}
done:
	sqlite3_reset(st);
	return rc;
}

int plein_local_changes(plein_changeset *out, int64_t *out_hlc_max, plein_merge *m, plein_site *s)
{
	*out_hlc_max = 0;
	sqlite3_stmt *st = plein_db_stmt(s->db, "SELECT tid, id, op, cols, hlc FROM plein_capture ORDER BY tid, id, hlc");
	if (!st)
		return PLEIN_ERR;
	/* The statement is stepped while groups are emitted, which runs other
	 * statements on the same connection: fine for SQLite readers. */
	group g = { .tid = -1 };
	int rc = 0, step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		int tid = sqlite3_column_int(st, 0);
		const char *id = (const char *)sqlite3_column_text(st, 1);
		size_t len = (size_t)sqlite3_column_bytes(st, 1);
		if (g.tid != tid || g.id.len != len || memcmp(g.id.data, id, len) != 0) {
			if (g.tid >= 0 && (rc = emit_group(out, &g, m, s)) < 0)
				break;
			g.tid = tid;
			plein_buf_reset(&g.id);
			plein_buf_put(&g.id, id, len);
			g.cols = 0;
			g.hmax = 0;
			g.saw_delete = 0;
		}
		int op = sqlite3_column_int(st, 2);
		uint64_t cols = (uint64_t)sqlite3_column_int64(st, 3);
		int64_t hlc = sqlite3_column_int64(st, 4);
		if (op == PLEIN_OP_DELETE)
			g.saw_delete = 1;
		for (int c = 0; c < MAXCOL; c++)
			if (cols >> c & 1)
				g.h[c] = hlc;
		g.cols |= cols;
		g.hmax = hlc;
		if (hlc > *out_hlc_max)
			*out_hlc_max = hlc;
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = plein_db_fail(s->db, "sealing");
	if (rc == 0 && g.tid >= 0)
		rc = emit_group(out, &g, m, s);
	sqlite3_reset(st);
	plein_buf_free(&g.id);
	return rc;
}

int plein_local_consumed(plein_site *s, int64_t hlc_max)
{
	sqlite3_stmt *st = plein_db_stmt(s->db, "DELETE FROM plein_capture WHERE hlc <= ?1");
	if (!st)
		return PLEIN_ERR;
	sqlite3_bind_int64(st, 1, hlc_max);
	int rc = plein_db_step_done(s->db, st);
	if (rc < 0)
		return rc;
	st = plein_db_stmt(s->db, "UPDATE plein_clock SET hlc = max(hlc, ?1) WHERE id = 1");
	if (!st)
		return PLEIN_ERR;
	sqlite3_bind_int64(st, 1, hlc_max);
	return plein_db_step_done(s->db, st);
}
