#include "plein/local.h"

#include <stdlib.h>
#include <string.h>

#include "plein/buf.h"
#include "plein/capture.h"
#include "plein/clock.h"
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

/* A captured write with the HLC it gets at sealing. */
typedef struct {
	int64_t seq, hlc;
	int tid, op;
	uint64_t cols;
	char *id;
	size_t id_len;
} cap_row;

static void free_rows(cap_row *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(r[i].id);
	free(r);
}

/* The capture log in write order, each row given its HLC: after the
 * replica's clock, strictly increasing, never behind the write's wall
 * time. The same log and clock always give the same HLCs, which is what
 * lets a crash between log and replica be repaired (journal.c). */
static int read_log(plein_site *s, cap_row **out, size_t *out_n)
{
	*out = NULL;
	*out_n = 0;
	int64_t prev = 0;
	int rc = plein_db_int(s->db, &prev, "SELECT hlc FROM plein_clock WHERE id = 1", NULL);
	if (rc < 0)
		return rc;
	sqlite3_stmt *st = plein_db_stmt(s->db, "SELECT seq, tid, id, op, cols, at FROM plein_capture ORDER BY seq");
	if (!st)
		return PLEIN_ERR;
	size_t n = 0, cap = 0;
	cap_row *r = NULL;
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			r = plein_xrealloc(r, sizeof *r * cap);
		}
		cap_row *c = &r[n++];
		c->seq = sqlite3_column_int64(st, 0);
		c->tid = sqlite3_column_int(st, 1);
		c->id_len = (size_t)sqlite3_column_bytes(st, 2);
		c->id = plein_xmalloc(c->id_len + 1);
		memcpy(c->id, sqlite3_column_text(st, 2), c->id_len);
		c->id[c->id_len] = 0;
		c->op = sqlite3_column_int(st, 3);
		c->cols = (uint64_t)sqlite3_column_int64(st, 4);
		c->hlc = prev = plein_hlc_tick(prev, sqlite3_column_int64(st, 5));
	}
	sqlite3_reset(st);
	if (step != SQLITE_DONE) {
		free_rows(r, n);
		return plein_db_fail(s->db, "reading the captured writes");
	}
	*out = r;
	*out_n = n;
	return 0;
}

static int by_row(const void *a, const void *b)
{
	const cap_row *x = a, *y = b;
	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	size_t n = x->id_len < y->id_len ? x->id_len : y->id_len;
	int c = memcmp(x->id, y->id, n);
	if (c || x->id_len != y->id_len)
		return c ? c : (x->id_len < y->id_len ? -1 : 1);
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int plein_local_changes(plein_changeset *out, int64_t *out_hlc_max, plein_merge *m, plein_site *s)
{
	*out_hlc_max = 0;
	cap_row *r = NULL;
	size_t n = 0;
	int rc = read_log(s, &r, &n);
	if (rc < 0 || n == 0)
		return rc;
	*out_hlc_max = r[n - 1].hlc;
	qsort(r, n, sizeof *r, by_row);
	group g = { .tid = -1 };
	for (size_t i = 0; i < n && rc == 0; i++) {
		const cap_row *c = &r[i];
		if (g.tid != c->tid || g.id.len != c->id_len || memcmp(g.id.data, c->id, c->id_len) != 0) {
			if (g.tid >= 0 && (rc = emit_group(out, &g, m, s)) < 0)
				break;
			g.tid = c->tid;
			plein_buf_reset(&g.id);
			plein_buf_put(&g.id, c->id, c->id_len);
			g.cols = 0;
			g.hmax = 0;
			g.saw_delete = 0;
		}
		if (c->op == PLEIN_OP_DELETE)
			g.saw_delete = 1;
		for (int k = 0; k < MAXCOL; k++)
			if (c->cols >> k & 1)
				g.h[k] = c->hlc;
		g.cols |= c->cols;
		g.hmax = c->hlc;
	}
	if (rc == 0 && g.tid >= 0)
		rc = emit_group(out, &g, m, s);
	plein_buf_free(&g.id);
	free_rows(r, n);
	return rc;
}

int plein_local_consumed(plein_site *s, int64_t hlc_max)
{
	cap_row *r = NULL;
	size_t n = 0;
	int rc = read_log(s, &r, &n);
	if (rc < 0)
		return rc;
	/* The writes whose HLC is at most hlc_max are in the log now. */
	int64_t upto_seq = -1, clock = hlc_max;
	for (size_t i = 0; i < n && r[i].hlc <= hlc_max; i++) {
		upto_seq = r[i].seq;
		clock = r[i].hlc > clock ? r[i].hlc : clock;
	}
	free_rows(r, n);
	sqlite3_stmt *st = plein_db_stmt(s->db, "DELETE FROM plein_capture WHERE seq <= ?1");
	if (!st)
		return PLEIN_ERR;
	sqlite3_bind_int64(st, 1, upto_seq);
	if ((rc = plein_db_step_done(s->db, st)) < 0)
		return rc;
	st = plein_db_stmt(s->db, "UPDATE plein_clock SET hlc = max(hlc, ?1) WHERE id = 1");
	if (!st)
		return PLEIN_ERR;
	sqlite3_bind_int64(st, 1, clock);
	return plein_db_step_done(s->db, st);
}
