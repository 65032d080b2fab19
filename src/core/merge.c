/* Merge: see docs/merge.md for the function this implements. Changes are
 * applied a row at a time: the row's clock is loaded once, every change
 * for it is decided in memory, and the domain row and its clock are
 * written once when the next row begins. */
#include "plein/merge.h"

#include <stdlib.h>
#include <string.h>

#include "plein/buf.h"
#include "plein/capture.h"
#include "plein/error.h"
#include "plein/schema.h"

#define MAXCOL 62

typedef struct {
	char *value;
	int rank;
} rank_entry;

typedef struct {
	const plein_table *t;
	sqlite3_stmt *sel_clk, *put_clk, *put_row, *del_row;
	int nclk;                      /* clock columns after id, cl */
	rank_entry *ranks[MAXCOL];
	int nranks[MAXCOL];
} table_ops;

/* The row being merged. */
typedef struct {
	table_ops *ops;
	plein_buf id;
	int active;
	int existed_clock;   /* a clock row was found */
	int64_t cl, cl_loaded;
	int reset;           /* a new life began: columns not set become NULL */
	int64_t h[MAXCOL], s[MAXCOL];
	int has[MAXCOL];
	uint64_t mask;       /* columns with a new value */
	plein_value val[MAXCOL];
	plein_buf vbuf[MAXCOL];
	plein_value win[MAXCOL];   /* 'max' columns: the winning value */
	plein_buf wbuf[MAXCOL];
	int dirty;
} row_state;

struct plein_merge {
	plein_site *site;
	plein_db *db;
	table_ops *ops; /* one per table, index = position in schema */
	int nops;
	unsigned char (*sites)[32]; /* plein_site_ref: index n-1 -> key */
	int nsites;
	row_state row;
	int err;
};

static void qident(plein_buf *b, const char *s)
{
	plein_buf_putc(b, '"');
	for (; *s; s++) {
		if (*s == '"')
			plein_buf_putc(b, '"');
		plein_buf_putc(b, *s);
	}
	plein_buf_putc(b, '"');
}

int plein_merge_install(plein_db *db)
{
	plein_schema *s = NULL;
	int rc = plein_db_exec(db,
		"CREATE TABLE IF NOT EXISTS plein_site_ref ("
		"  n  INTEGER PRIMARY KEY," /* small number used in clock tables */
		"  pk BLOB NOT NULL UNIQUE" /* the site's ed25519 public key */
		");"
		"CREATE TABLE IF NOT EXISTS plein_applied ("
		"  site TEXT PRIMARY KEY,"   /* site id of a chain in log.git */
		"  seq  INTEGER NOT NULL"    /* its last batch applied to this replica */
		");"
		"CREATE TABLE IF NOT EXISTS plein_rejected ("
		"  at     TEXT NOT NULL,"   /* when it was refused (UTC) */
		"  site   TEXT NOT NULL,"   /* the chain it came in */
		"  seq    INTEGER NOT NULL,"
		"  reason TEXT NOT NULL"
		");"
		"CREATE TABLE IF NOT EXISTS plein_counter ("
		"  tid INTEGER NOT NULL, id TEXT NOT NULL, cid INTEGER NOT NULL,"
		"  site INTEGER NOT NULL," /* plein_site_ref.n */
		"  cl INTEGER NOT NULL, hlc INTEGER NOT NULL,"
		"  value INTEGER NOT NULL," /* that site's running total */
		"  PRIMARY KEY (tid, id, cid, site)"
		") WITHOUT ROWID;");
	if (rc < 0 || (rc = plein_schema_load(&s, db)) < 0)
		return rc;
	plein_buf sql = PLEIN_BUF_INIT;
	for (int i = 0; i < s->ntables && rc == 0; i++) {
		const plein_table *t = &s->tables[i];
		plein_buf_reset(&sql);
		plein_buf_printf(&sql, "CREATE TABLE IF NOT EXISTS plein_clk_%s (id TEXT PRIMARY KEY, cl INTEGER NOT NULL", t->name);
		for (int c = 0; c < t->ncols; c++) {
			plein_buf_printf(&sql, ", h%d INTEGER, s%d INTEGER", t->cols[c].cid, t->cols[c].cid);
			if (t->cols[c].policy == PLEIN_MAX) /* the winner, to restore it */
				plein_buf_printf(&sql, ", v%d ANY", t->cols[c].cid);
		}
		plein_buf_puts(&sql, ") WITHOUT ROWID;");
		if ((rc = plein_db_exec(db, plein_buf_cstr(&sql))) < 0)
			break;
		/* A migration may have added columns since the table was made. */
		for (int c = 0; c < t->ncols && rc == 0; c++) {
			plein_buf_reset(&sql);
			plein_buf_printf(&sql, "SELECT count(*) FROM pragma_table_info('plein_clk_%s') WHERE name = 'h%d'",
					 t->name, t->cols[c].cid);
			int64_t n = 0;
			if ((rc = plein_db_int(db, &n, plein_buf_cstr(&sql), NULL)) < 0 || n)
				continue;
			plein_buf_reset(&sql);
			plein_buf_printf(&sql, "ALTER TABLE plein_clk_%s ADD COLUMN h%d INTEGER; ALTER TABLE plein_clk_%s ADD COLUMN s%d INTEGER;",
					 t->name, t->cols[c].cid, t->name, t->cols[c].cid);
			if (t->cols[c].policy == PLEIN_MAX)
				plein_buf_printf(&sql, "ALTER TABLE plein_clk_%s ADD COLUMN v%d ANY;", t->name, t->cols[c].cid);
			rc = plein_db_exec(db, plein_buf_cstr(&sql));
		}
		/* Rows from migrations (seeds) exist everywhere: causal length 1. */
		plein_buf_reset(&sql);
		plein_buf_printf(&sql, "INSERT OR IGNORE INTO plein_clk_%s(id, cl) SELECT id, 1 FROM ", t->name);
		qident(&sql, t->name);
		if (rc == 0)
			rc = plein_db_exec(db, plein_buf_cstr(&sql));
	}
	plein_buf_free(&sql);
	plein_schema_free(s);
	return rc;
}

static sqlite3_stmt *prep(plein_merge *m, const char *sql)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v3(plein_db_handle(m->db), sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
		plein_db_fail(m->db, "merge");
		return NULL;
	}
	return st;
}

static int prepare_table(plein_merge *m, table_ops *o, const plein_table *t)
{
	plein_buf b = PLEIN_BUF_INIT;
	o->t = t;
	/* Clock columns in order: h, s (and v for 'max') per column. */
	plein_buf cols = PLEIN_BUF_INIT;
	o->nclk = 0;
	for (int c = 0; c < t->ncols; c++) {
		plein_buf_printf(&cols, ", h%d, s%d", t->cols[c].cid, t->cols[c].cid);
		o->nclk += 2;
		if (t->cols[c].policy == PLEIN_MAX) {
			plein_buf_printf(&cols, ", v%d", t->cols[c].cid);
			o->nclk++;
		}
	}
	plein_buf_printf(&b, "SELECT cl%s FROM plein_clk_%s WHERE id = ?1", plein_buf_cstr(&cols), t->name);
	o->sel_clk = prep(m, plein_buf_cstr(&b));

	plein_buf_reset(&b);
	plein_buf_printf(&b, "INSERT OR REPLACE INTO plein_clk_%s(id, cl%s) VALUES (?1, ?2", t->name, plein_buf_cstr(&cols));
	for (int k = 0; k < o->nclk; k++)
		plein_buf_printf(&b, ", ?%d", 3 + k);
	plein_buf_puts(&b, ")");
	o->put_clk = prep(m, plein_buf_cstr(&b));
	plein_buf_free(&cols);

	/* Upsert the domain row: ?1 id, ?2 mask, ?3 reset, ?4.. values. */
	plein_buf_reset(&b);
	plein_buf_puts(&b, "INSERT INTO ");
	qident(&b, t->name);
	plein_buf_puts(&b, "(id");
	for (int c = 0; c < t->ncols; c++) {
		plein_buf_puts(&b, ", ");
		qident(&b, t->cols[c].name);
	}
	plein_buf_puts(&b, ") VALUES (?1");
	for (int c = 0; c < t->ncols; c++)
		plein_buf_printf(&b, ", ?%d", 4 + c);
	plein_buf_puts(&b, ") ON CONFLICT(id) DO UPDATE SET ");
	for (int c = 0; c < t->ncols; c++) {
		plein_buf_puts(&b, c ? ", " : "");
		qident(&b, t->cols[c].name);
		plein_buf_printf(&b, " = CASE WHEN (?2 >> %d) & 1 THEN excluded.", t->cols[c].cid);
		qident(&b, t->cols[c].name);
		plein_buf_puts(&b, " WHEN ?3 THEN NULL ELSE ");
		qident(&b, t->cols[c].name);
		plein_buf_puts(&b, " END");
	}
	o->put_row = prep(m, plein_buf_cstr(&b));

	plein_buf_reset(&b);
	plein_buf_puts(&b, "DELETE FROM ");
	qident(&b, t->name);
	plein_buf_puts(&b, " WHERE id = ?1");
	o->del_row = prep(m, plein_buf_cstr(&b));

	for (int c = 0; c < t->ncols; c++) {
		if (t->cols[c].policy != PLEIN_MAX)
			continue;
		int cid = t->cols[c].cid;
		sqlite3_stmt *st = prep(m, "SELECT value, rank FROM plein_rank WHERE tbl = ?1 AND col = ?2");
		if (!st)
			break;
		sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, t->cols[c].name, -1, SQLITE_STATIC);
		while (sqlite3_step(st) == SQLITE_ROW) {
			o->ranks[cid] = plein_xrealloc(o->ranks[cid], sizeof *o->ranks[cid] * (size_t)(o->nranks[cid] + 1));
			o->ranks[cid][o->nranks[cid]].value = plein_xstrdup((const char *)sqlite3_column_text(st, 0));
			o->ranks[cid][o->nranks[cid]].rank = sqlite3_column_int(st, 1);
			o->nranks[cid]++;
		}
		sqlite3_finalize(st);
	}
	plein_buf_free(&b);
	return (o->sel_clk && o->put_clk && o->put_row && o->del_row) ? 0 : PLEIN_ERR;
}

static int load_sites(plein_merge *m)
{
	sqlite3_stmt *st = prep(m, "SELECT n, pk FROM plein_site_ref ORDER BY n");
	if (!st)
		return PLEIN_ERR;
	while (sqlite3_step(st) == SQLITE_ROW) {
		int n = sqlite3_column_int(st, 0);
		if (n > m->nsites) {
			m->sites = plein_xrealloc(m->sites, sizeof *m->sites * (size_t)n);
			memset(m->sites + m->nsites, 0, sizeof *m->sites * (size_t)(n - m->nsites));
			m->nsites = n;
		}
		if (sqlite3_column_bytes(st, 1) == 32)
			memcpy(m->sites[n - 1], sqlite3_column_blob(st, 1), 32);
	}
	sqlite3_finalize(st);
	return 0;
}

/* The small number of a site's key, registering it on first sight. */
static int site_ref(plein_merge *m, const unsigned char pk[32], int64_t *out)
{
	for (int i = 0; i < m->nsites; i++)
		if (memcmp(m->sites[i], pk, 32) == 0) {
			*out = i + 1;
			return 0;
		}
	sqlite3_stmt *st = plein_db_stmt(m->db, "INSERT INTO plein_site_ref(n, pk) VALUES (?1, ?2)");
	if (!st)
		return PLEIN_ERR;
	sqlite3_bind_int(st, 1, m->nsites + 1);
	sqlite3_bind_blob(st, 2, pk, 32, SQLITE_STATIC);
	int rc = plein_db_step_done(m->db, st);
	if (rc < 0)
		return rc;
	m->sites = plein_xrealloc(m->sites, sizeof *m->sites * (size_t)(m->nsites + 1));
	memcpy(m->sites[m->nsites++], pk, 32);
	*out = m->nsites;
	return 0;
}

static const unsigned char *site_key(plein_merge *m, int64_t ref)
{
	static const unsigned char none[32];
	return ref >= 1 && ref <= m->nsites ? m->sites[ref - 1] : none;
}

int plein_merge_begin(plein_merge **out, plein_site *s)
{
	*out = NULL;
	plein_merge *m = plein_xcalloc(1, sizeof *m);
	m->site = s;
	m->db = s->db;
	m->nops = s->schema->ntables;
	m->ops = plein_xcalloc((size_t)m->nops, sizeof *m->ops);
	int rc = 0;
	for (int i = 0; i < m->nops && rc == 0; i++)
		rc = prepare_table(m, &m->ops[i], &s->schema->tables[i]);
	if (rc == 0)
		rc = load_sites(m);
	if (rc == 0)
		rc = plein_capture_suspend(m->db, 1);
	if (rc < 0) {
		m->err = rc;
		plein_merge_end(m);
		return rc;
	}
	*out = m;
	return 0;
}

static table_ops *ops_for(plein_merge *m, int tid)
{
	for (int i = 0; i < m->nops; i++)
		if (m->ops[i].t->tid == tid)
			return &m->ops[i];
	return NULL;
}

static void bind_value(sqlite3_stmt *st, int k, const plein_value *v)
{
	switch (v->type) {
	case PLEIN_V_INT: sqlite3_bind_int64(st, k, v->i); break;
	case PLEIN_V_REAL: sqlite3_bind_double(st, k, v->f); break;
	case PLEIN_V_TEXT: sqlite3_bind_text(st, k, (const char *)v->p, (int)v->n, SQLITE_STATIC); break;
	case PLEIN_V_BLOB: sqlite3_bind_blob(st, k, v->p, (int)v->n, SQLITE_STATIC); break;
	default: sqlite3_bind_null(st, k); /* NULL, or personal data erased */
	}
}

static int flush(plein_merge *m)
{
	row_state *r = &m->row;
	if (!r->active)
		return 0;
	r->active = 0;
	if (!r->dirty)
		return 0;
	table_ops *o = r->ops;
	const plein_table *t = o->t;
	int rc = 0;
	if (r->cl % 2 == 0) {
		sqlite3_bind_text(o->del_row, 1, (const char *)r->id.data, (int)r->id.len, SQLITE_STATIC);
		rc = plein_db_step_done(m->db, o->del_row);
	} else {
		sqlite3_stmt *st = o->put_row;
		sqlite3_bind_text(st, 1, (const char *)r->id.data, (int)r->id.len, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (int64_t)r->mask);
		sqlite3_bind_int(st, 3, r->reset);
		for (int c = 0; c < t->ncols; c++) {
			int cid = t->cols[c].cid;
			if (r->mask >> cid & 1)
				bind_value(st, 4 + c, &r->val[cid]);
			else
				sqlite3_bind_null(st, 4 + c);
		}
		rc = plein_db_step_done(m->db, st);
		sqlite3_clear_bindings(st);
	}
	if (rc < 0)
		return rc;
	sqlite3_stmt *st = o->put_clk;
	sqlite3_bind_text(st, 1, (const char *)r->id.data, (int)r->id.len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, r->cl);
	int k = 3;
	for (int c = 0; c < t->ncols; c++) {
		int cid = t->cols[c].cid, live = r->has[cid] && r->cl % 2;
		if (live) {
			sqlite3_bind_int64(st, k, r->h[cid]);
			sqlite3_bind_int64(st, k + 1, r->s[cid]);
		} else {
			sqlite3_bind_null(st, k);
			sqlite3_bind_null(st, k + 1);
		}
		k += 2;
		if (t->cols[c].policy == PLEIN_MAX) {
			if (live)
				bind_value(st, k, &r->win[cid]);
			else
				sqlite3_bind_null(st, k);
			k++;
		}
	}
	rc = plein_db_step_done(m->db, st);
	sqlite3_clear_bindings(st);
	return rc;
}

static void keep_winner(row_state *r, int cid, const plein_value *v);
static void column_value(plein_value *v, sqlite3_stmt *st, int col);

static int load_row(plein_merge *m, table_ops *o, const char *id, size_t id_len)
{
	row_state *r = &m->row;
	r->ops = o;
	plein_buf_reset(&r->id);
	plein_buf_put(&r->id, id, id_len);
	r->active = 1;
	r->dirty = 0;
	r->reset = 0;
	r->mask = 0;
	r->cl = 0;
	r->existed_clock = 0;
	memset(r->has, 0, sizeof r->has);
	sqlite3_stmt *st = o->sel_clk;
	sqlite3_bind_text(st, 1, id, (int)id_len, SQLITE_STATIC);
	int step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		r->existed_clock = 1;
		r->cl = sqlite3_column_int64(st, 0);
		int k = 1;
		for (int c = 0; c < o->t->ncols; c++) {
			int cid = o->t->cols[c].cid;
			if (sqlite3_column_type(st, k) != SQLITE_NULL) {
				r->has[cid] = 1;
				r->h[cid] = sqlite3_column_int64(st, k);
				r->s[cid] = sqlite3_column_int64(st, k + 1);
			}
			k += 2;
			if (o->t->cols[c].policy == PLEIN_MAX) {
				plein_value v;
				column_value(&v, st, k++);
				keep_winner(r, cid, &v);
			}
		}
	}
	r->cl_loaded = r->cl;
	sqlite3_reset(st);
	return (step == SQLITE_ROW || step == SQLITE_DONE) ? 0 : plein_db_fail(m->db, "merge");
}

static int rank_of(const table_ops *o, int cid, const plein_value *v)
{
	if (v->type != PLEIN_V_TEXT)
		return -1;
	for (int i = 0; i < o->nranks[cid]; i++)
		if (strlen(o->ranks[cid][i].value) == v->n && memcmp(o->ranks[cid][i].value, v->p, v->n) == 0)
			return o->ranks[cid][i].rank;
	return -1;
}

static void copy_value(plein_value *dst, plein_buf *buf, const plein_value *v)
{
	*dst = *v;
	if (v->type == PLEIN_V_TEXT || v->type == PLEIN_V_BLOB) {
		plein_buf_reset(buf);
		plein_buf_put(buf, v->p, v->n);
		dst->p = buf->data ? buf->data : (const unsigned char *)"";
	}
}

static void keep_winner(row_state *r, int cid, const plein_value *v)
{
	copy_value(&r->win[cid], &r->wbuf[cid], v);
}

static void column_value(plein_value *v, sqlite3_stmt *st, int col)
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

static void set_value(row_state *r, int cid, const plein_value *v)
{
	copy_value(&r->val[cid], &r->vbuf[cid], v);
	r->mask |= UINT64_C(1) << cid;
	r->dirty = 1;
}

/* (hlc, site key) of a against b: >0 when a is newer. */
static int newer(plein_merge *m, int64_t ha, int64_t sa, int64_t hb, int64_t sb)
{
	if (ha != hb)
		return ha > hb ? 1 : -1;
	if (sa == sb)
		return 0;
	return memcmp(site_key(m, sa), site_key(m, sb), 32);
}

static int apply_counter(plein_merge *m, const plein_change *ch, int64_t sref)
{
	row_state *r = &m->row;
	int tid = r->ops->t->tid;
	sqlite3_stmt *st = plein_db_stmt(m->db,
		"INSERT INTO plein_counter(tid, id, cid, site, cl, hlc, value) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
		" ON CONFLICT(tid, id, cid, site) DO UPDATE SET cl = excluded.cl, hlc = excluded.hlc, value = excluded.value"
		" WHERE (excluded.cl, excluded.hlc) > (cl, hlc)");
	if (!st)
		return PLEIN_ERR;
	sqlite3_bind_int(st, 1, tid);
	sqlite3_bind_text(st, 2, (const char *)r->id.data, (int)r->id.len, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, ch->cid);
	sqlite3_bind_int64(st, 4, sref);
	sqlite3_bind_int64(st, 5, ch->cl);
	sqlite3_bind_int64(st, 6, ch->hlc);
	sqlite3_bind_int64(st, 7, ch->value.type == PLEIN_V_INT ? ch->value.i : 0);
	int rc = plein_db_step_done(m->db, st);
	if (rc < 0)
		return rc;
	int64_t sum = 0;
	sqlite3_stmt *q = plein_db_stmt(m->db,
		"SELECT coalesce(sum(value), 0) FROM plein_counter WHERE tid = ?1 AND id = ?2 AND cid = ?3 AND cl = ?4");
	if (!q)
		return PLEIN_ERR;
	sqlite3_bind_int(q, 1, tid);
	sqlite3_bind_text(q, 2, (const char *)r->id.data, (int)r->id.len, SQLITE_STATIC);
	sqlite3_bind_int(q, 3, ch->cid);
	sqlite3_bind_int64(q, 4, r->cl);
	if (sqlite3_step(q) == SQLITE_ROW)
		sum = sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	plein_value v = { .type = PLEIN_V_INT, .i = sum };
	set_value(r, ch->cid, &v);
	if (!r->has[ch->cid] || ch->hlc > r->h[ch->cid]) {
		r->has[ch->cid] = 1;
		r->h[ch->cid] = ch->hlc;
		r->s[ch->cid] = sref;
	}
	return 0;
}

static int apply_one(plein_merge *m, const plein_change *ch, int64_t sref)
{
	table_ops *o = ops_for(m, ch->tid);
	if (!o)
		return plein_fail(PLEIN_EREJECT, "a change names table number %d, which this schema does not have", ch->tid);
	row_state *r = &m->row;
	int rc;
	if (!r->active || r->ops != o || r->id.len != ch->id_len || memcmp(r->id.data, ch->id, ch->id_len) != 0) {
		if ((rc = flush(m)) < 0 || (rc = load_row(m, o, ch->id, ch->id_len)) < 0)
			return rc;
	}
	if (ch->cl < r->cl)
		return 0; /* an older life of the row */
	if (ch->cl > r->cl) {
		/* A new life (or a delete): older column values are forgotten. */
		r->cl = ch->cl;
		r->reset = 1;
		r->mask = 0;
		memset(r->has, 0, sizeof r->has);
		r->dirty = 1;
	}
	if (ch->cid == PLEIN_CID_ROW || r->cl % 2 == 0)
		return 0;
	const plein_column *col = NULL;
	for (int c = 0; c < o->t->ncols; c++)
		if (o->t->cols[c].cid == ch->cid)
			col = &o->t->cols[c];
	if (!col)
		return plein_fail(PLEIN_EREJECT, "a change names column %d of table %s, which this schema does not have",
				  ch->cid, o->t->name);
	int cid = ch->cid;
	if (col->policy == PLEIN_COUNTER)
		return apply_counter(m, ch, sref);
	int wins;
	if (!r->has[cid]) {
		wins = 1;
	} else if (col->policy == PLEIN_MAX) {
		int a = rank_of(o, cid, &ch->value), b = rank_of(o, cid, &r->win[cid]);
		wins = a != b ? a > b : newer(m, ch->hlc, sref, r->h[cid], r->s[cid]) > 0;
		if (!wins) {
			/* Write the winner back: a local edit may have overwritten it. */
			set_value(r, cid, &r->win[cid]);
			return 0;
		}
	} else {
		wins = newer(m, ch->hlc, sref, r->h[cid], r->s[cid]) > 0;
	}
	if (!wins)
		return 0;
	if (col->policy == PLEIN_MAX)
		keep_winner(r, cid, &ch->value);
	set_value(r, cid, &ch->value);
	r->has[cid] = 1;
	r->h[cid] = ch->hlc;
	r->s[cid] = sref;
	return 0;
}

int plein_merge_apply(plein_merge *m, const unsigned char signer[32], const plein_change *ch, size_t n)
{
	if (m->err)
		return m->err;
	int64_t sref = 0;
	int rc = site_ref(m, signer, &sref);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = apply_one(m, &ch[i], sref);
	if (rc < 0)
		m->err = rc;
	return rc;
}

int plein_merge_row_cl(plein_merge *m, int tid, const char *id, size_t id_len, int64_t *out_cl)
{
	table_ops *o = ops_for(m, tid);
	if (!o)
		return plein_fail(PLEIN_ERR, "unknown table number %d", tid);
	int rc = flush(m);
	if (rc < 0 || (rc = load_row(m, o, id, id_len)) < 0)
		return rc;
	*out_cl = m->row.cl;
	m->row.active = 0;
	return 0;
}

int plein_merge_counter_others(plein_merge *m, int tid, const char *id, size_t id_len, int cid,
			       const unsigned char signer[32], int64_t cl, int64_t *out_sum)
{
	int64_t sref = 0;
	int rc = flush(m);
	if (rc < 0 || (rc = site_ref(m, signer, &sref)) < 0)
		return rc;
	sqlite3_stmt *q = plein_db_stmt(m->db,
		"SELECT coalesce(sum(value), 0) FROM plein_counter WHERE tid = ?1 AND id = ?2 AND cid = ?3 AND cl = ?4 AND site <> ?5");
	if (!q)
		return PLEIN_ERR;
	sqlite3_bind_int(q, 1, tid);
	sqlite3_bind_text(q, 2, id, (int)id_len, SQLITE_STATIC);
	sqlite3_bind_int(q, 3, cid);
	sqlite3_bind_int64(q, 4, cl);
	sqlite3_bind_int64(q, 5, sref);
	*out_sum = 0;
	if (sqlite3_step(q) == SQLITE_ROW)
		*out_sum = sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	return 0;
}

int plein_merge_end(plein_merge *m)
{
	if (!m)
		return 0;
	int rc = m->err;
	if (rc == 0)
		rc = flush(m);
	int rc2 = plein_capture_suspend(m->db, 0);
	if (rc == 0)
		rc = rc2;
	for (int i = 0; i < m->nops; i++) {
		table_ops *o = &m->ops[i];
		sqlite3_finalize(o->sel_clk);
		sqlite3_finalize(o->put_clk);
		sqlite3_finalize(o->put_row);
		sqlite3_finalize(o->del_row);
		for (int c = 0; c < MAXCOL; c++) {
			for (int k = 0; k < o->nranks[c]; k++)
				free(o->ranks[c][k].value);
			free(o->ranks[c]);
		}
	}
	free(m->ops);
	free(m->sites);
	plein_buf_free(&m->row.id);
	for (int c = 0; c < MAXCOL; c++) {
		plein_buf_free(&m->row.vbuf[c]);
		plein_buf_free(&m->row.wbuf[c]);
	}
	free(m);
	return rc;
}
