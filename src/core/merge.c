/* Merge: see docs/merge.md for the function this implements. Changes are
 * applied a row at a time: the row's clock is loaded once, every change
 * for it is decided in memory, and the domain row and its clock are
 * written once when the next row begins. */
#include "plein/merge.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "plein/buf.h"
#include "plein/capture.h"
#include "plein/error.h"
#include "plein/schema.h"

#define MAXCOL 62
#define VHASH 16 /* bytes of a value's identity in plein_conflict */

typedef struct {
	char *value;
	int rank;
} rank_entry;

/* Cached UPDATEs of a row's changed columns, by column mask. */
#define UPD_CACHE 4

typedef struct {
	const plein_table *t;
	sqlite3_stmt *sel_clk, *put_clk, *put_row, *del_row;
	struct { uint64_t mask; sqlite3_stmt *st; } upd[UPD_CACHE];
	unsigned nupd;                 /* UPDATEs prepared: the next slot to reuse */
	char *sel_row;                 /* SQL: the row's columns in schema order */
	int nclk;                      /* clock columns after id, cl */
	rank_entry *ranks[MAXCOL];
	int nranks[MAXCOL];
} table_ops;

/* A write to one column: who wrote it, in which batch, when. seq 0: not
 * known (plein_merge_apply), such a write never takes part in a conflict. */
typedef struct {
	int64_t site, seq, hlc;
} write_ref;

/* A concurrent write that lost, still unseen by later writes: a row of
 * plein_conflict (docs/merge.md, "Conflicts"). */
typedef struct {
	int cid;
	write_ref w;
	unsigned char hash[VHASH];
	int has_hash;        /* 0: the value is not known (purged personal data) */
	int gone;            /* deleted in this session */
} sibling;

/* The row being merged. */
typedef struct {
	table_ops *ops;
	plein_buf id;
	int active;
	int existed_clock;   /* a clock row was found */
	int64_t cl, cl_loaded;
	int reset;           /* a new life began: columns not set become NULL */
	int64_t h[MAXCOL], s[MAXCOL], b[MAXCOL]; /* winner: hlc, site, batch seq */
	int has[MAXCOL];
	sibling *sibs;       /* this row's plein_conflict rows */
	size_t nsibs, capsibs;
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
	/* The batch being applied (plein_merge_apply_batch): its signer, seq
	 * and context as (site ref, seen) sorted by ref. */
	int64_t cur_site, cur_seq;
	struct ctx_entry { int64_t ref, seen; } *ctx;
	size_t nctx;
	int any_conflicts;   /* plein_conflict has rows: load them per row */
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
		/* What each batch's signer had applied (its causal context), as
		 * steps: from batch seq of site on, it had applied peer's batches
		 * 1..seen, until a later row says more. */
		"CREATE TABLE IF NOT EXISTS plein_context ("
		"  site INTEGER NOT NULL, peer INTEGER NOT NULL," /* plein_site_ref.n */
		"  seq  INTEGER NOT NULL, seen INTEGER NOT NULL,"
		"  PRIMARY KEY (site, peer, seq)"
		") WITHOUT ROWID;"
		/* Concurrent writes that lost (docs/merge.md, "Conflicts"). Local:
		 * not synced, not in the digest. Values have no declared type, so
		 * they are kept exactly as written. */
		"CREATE TABLE IF NOT EXISTS plein_conflict ("
		"  tid INTEGER NOT NULL, id TEXT NOT NULL, cid INTEGER NOT NULL,"
		"  cl INTEGER NOT NULL,"
		"  lost_site INTEGER NOT NULL, lost_seq INTEGER NOT NULL, lost_hlc INTEGER NOT NULL,"
		"  lost_value, lost_hash BLOB,"  /* value NULL for personal columns; hash NULL: unknown */
		"  kept_site INTEGER NOT NULL, kept_seq INTEGER NOT NULL, kept_hlc INTEGER NOT NULL,"
		"  kept_value,"
		"  shown INTEGER NOT NULL,"       /* 0: same value as kept, or not concurrent with it */
		"  noticed_at TEXT NOT NULL,"     /* when this replica first noticed it (UTC) */
		"  PRIMARY KEY (tid, id, cid, lost_site, lost_hlc)"
		") WITHOUT ROWID;"
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
			plein_buf_printf(&sql, ", h%d INTEGER, s%d INTEGER, b%d INTEGER",
					 t->cols[c].cid, t->cols[c].cid, t->cols[c].cid);
			if (t->cols[c].policy == PLEIN_MAX) /* the winner, to restore it */
				plein_buf_printf(&sql, ", v%d ANY", t->cols[c].cid);
		}
		plein_buf_puts(&sql, ") WITHOUT ROWID;");
		if ((rc = plein_db_exec(db, plein_buf_cstr(&sql))) < 0)
			break;
		/* A migration may have added columns since the table was made. */
		for (int c = 0; c < t->ncols && rc == 0; c++) {
			int cid = t->cols[c].cid;
			plein_buf_reset(&sql);
			plein_buf_printf(&sql, "SELECT count(*) FROM pragma_table_info('plein_clk_%s') WHERE name = 'h%d'",
					 t->name, cid);
			int64_t n = 0;
			if ((rc = plein_db_int(db, &n, plein_buf_cstr(&sql), NULL)) < 0)
				break;
			plein_buf_reset(&sql);
			if (!n) {
				plein_buf_printf(&sql, "ALTER TABLE plein_clk_%s ADD COLUMN h%d INTEGER; ALTER TABLE plein_clk_%s ADD COLUMN s%d INTEGER;",
						 t->name, cid, t->name, cid);
				if (t->cols[c].policy == PLEIN_MAX)
					plein_buf_printf(&sql, "ALTER TABLE plein_clk_%s ADD COLUMN v%d ANY;", t->name, cid);
			}
			/* Clock tables made before batches carried a context. */
			int64_t nb = 0;
			plein_buf q = PLEIN_BUF_INIT;
			plein_buf_printf(&q, "SELECT count(*) FROM pragma_table_info('plein_clk_%s') WHERE name = 'b%d'",
					 t->name, cid);
			rc = plein_db_int(db, &nb, plein_buf_cstr(&q), NULL);
			plein_buf_free(&q);
			if (rc < 0)
				break;
			if (!nb)
				plein_buf_printf(&sql, "ALTER TABLE plein_clk_%s ADD COLUMN b%d INTEGER;", t->name, cid);
			if (sql.len)
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
		plein_buf_printf(&cols, ", h%d, s%d, b%d", t->cols[c].cid, t->cols[c].cid, t->cols[c].cid);
		o->nclk += 3;
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

	plein_buf_reset(&b);
	plein_buf_puts(&b, "SELECT 1");
	for (int c = 0; c < t->ncols; c++) {
		plein_buf_puts(&b, ", ");
		qident(&b, t->cols[c].name);
	}
	plein_buf_puts(&b, " FROM ");
	qident(&b, t->name);
	plein_buf_puts(&b, " WHERE id = ?1");
	o->sel_row = plein_xstrdup(plein_buf_cstr(&b));

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
	int64_t any = 0;
	if (rc == 0 && (rc = plein_db_int(m->db, &any, "SELECT EXISTS (SELECT 1 FROM plein_conflict)", NULL)) == 0)
		m->any_conflicts = (int)any;
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

/* UPDATE of just the columns in mask (?1 id, ?2.. their values in schema
 * order): it leaves the other columns, their CHECKs and indexes alone. */
static sqlite3_stmt *update_stmt(plein_merge *m, table_ops *o, uint64_t mask)
{
	for (int i = 0; i < UPD_CACHE; i++)
		if (o->upd[i].st && o->upd[i].mask == mask)
			return o->upd[i].st;
	plein_buf b = PLEIN_BUF_INIT;
	plein_buf_puts(&b, "UPDATE ");
	qident(&b, o->t->name);
	plein_buf_puts(&b, " SET ");
	int k = 2;
	for (int c = 0; c < o->t->ncols; c++) {
		if (!(mask >> o->t->cols[c].cid & 1))
			continue;
		plein_buf_puts(&b, k > 2 ? ", " : "");
		qident(&b, o->t->cols[c].name);
		plein_buf_printf(&b, " = ?%d", k++);
	}
	plein_buf_puts(&b, " WHERE id = ?1");
	sqlite3_stmt *st = prep(m, plein_buf_cstr(&b));
	plein_buf_free(&b);
	if (st) {
		int slot = (int)(o->nupd++ % UPD_CACHE);
		sqlite3_finalize(o->upd[slot].st);
		o->upd[slot].mask = mask;
		o->upd[slot].st = st;
	}
	return st;
}

/* Set the changed columns of a row in the life the replica already has.
 * When the table lacks the row although its clock says it lives, it was
 * deleted here and the delete is not sealed yet: the UPDATE then touches
 * nothing, and the row stays deleted. Once sealed, that delete beats this
 * concurrent update everywhere (docs/merge.md); inserting the row here
 * instead would publish it as a new life at the next seal, and the local
 * delete would be lost. */
static int update_row(plein_merge *m, table_ops *o)
{
	row_state *r = &m->row;
	const plein_table *t = o->t;
	sqlite3_stmt *st = update_stmt(m, o, r->mask);
	if (!st)
		return PLEIN_ERR;
	sqlite3_bind_text(st, 1, (const char *)r->id.data, (int)r->id.len, SQLITE_STATIC);
	int k = 2;
	for (int c = 0; c < t->ncols; c++)
		if (r->mask >> t->cols[c].cid & 1)
			bind_value(st, k++, &r->val[t->cols[c].cid]);
	int rc = plein_db_step_done(m->db, st);
	sqlite3_clear_bindings(st);
	return rc;
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
	} else if (r->existed_clock && !r->reset && r->cl == r->cl_loaded) {
		if (r->mask) /* else only the clock moved */
			rc = update_row(m, o);
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
			if (r->b[cid])
				sqlite3_bind_int64(st, k + 2, r->b[cid]);
			else
				sqlite3_bind_null(st, k + 2);
		} else {
			sqlite3_bind_null(st, k);
			sqlite3_bind_null(st, k + 1);
			sqlite3_bind_null(st, k + 2);
		}
		k += 3;
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
static int load_siblings(plein_merge *m);

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
				r->b[cid] = sqlite3_column_int64(st, k + 2); /* NULL: 0, not known */
			}
			k += 3;
			if (o->t->cols[c].policy == PLEIN_MAX) {
				plein_value v;
				column_value(&v, st, k++);
				keep_winner(r, cid, &v);
			}
		}
	}
	r->cl_loaded = r->cl;
	sqlite3_reset(st);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return plein_db_fail(m->db, "merge");
	return load_siblings(m);
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

/* ---- conflicts (docs/merge.md, "Conflicts") ------------------------- */

static int load_siblings(plein_merge *m)
{
	row_state *r = &m->row;
	r->nsibs = 0;
	if (!m->any_conflicts)
		return 0;
	sqlite3_stmt *st = plein_db_stmt(m->db,
		"SELECT cid, lost_site, lost_seq, lost_hlc, lost_hash FROM plein_conflict WHERE tid = ?1 AND id = ?2");
	if (!st)
		return PLEIN_ERR;
	sqlite3_bind_int(st, 1, r->ops->t->tid);
	sqlite3_bind_text(st, 2, (const char *)r->id.data, (int)r->id.len, SQLITE_STATIC);
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (r->nsibs == r->capsibs) {
			r->capsibs = r->capsibs ? 2 * r->capsibs : 4;
			r->sibs = plein_xrealloc(r->sibs, sizeof *r->sibs * r->capsibs);
		}
		sibling *x = &r->sibs[r->nsibs++];
		memset(x, 0, sizeof *x);
		x->cid = sqlite3_column_int(st, 0);
		x->w.site = sqlite3_column_int64(st, 1);
		x->w.seq = sqlite3_column_int64(st, 2);
		x->w.hlc = sqlite3_column_int64(st, 3);
		x->has_hash = sqlite3_column_bytes(st, 4) == VHASH;
		if (x->has_hash)
			memcpy(x->hash, sqlite3_column_blob(st, 4), VHASH);
	}
	sqlite3_reset(st);
	return step == SQLITE_DONE ? 0 : plein_db_fail(m->db, "merge: reading conflicts");
}

/* A new life of the row: the conflicts of older lives are moot. */
static int clear_siblings(plein_merge *m)
{
	row_state *r = &m->row;
	if (!r->nsibs)
		return 0;
	r->nsibs = 0;
	sqlite3_stmt *st = plein_db_stmt(m->db, "DELETE FROM plein_conflict WHERE tid = ?1 AND id = ?2");
	if (!st)
		return PLEIN_ERR;
	sqlite3_bind_int(st, 1, r->ops->t->tid);
	sqlite3_bind_text(st, 2, (const char *)r->id.data, (int)r->id.len, SQLITE_STATIC);
	return plein_db_step_done(m->db, st);
}

/* A value's identity: equal values have equal hashes, whatever their
 * size. 0 when the value is not known (purged personal data). */
static int value_hash(unsigned char out[VHASH], const plein_value *v)
{
	crypto_generichash_state st;
	unsigned char b[8], t = (unsigned char)v->type;
	uint64_t u = 0;
	if (v->type == PLEIN_V_PURGED)
		return 0;
	crypto_generichash_init(&st, NULL, 0, VHASH);
	crypto_generichash_update(&st, &t, 1);
	if (v->type == PLEIN_V_INT || v->type == PLEIN_V_REAL) {
		if (v->type == PLEIN_V_INT)
			u = (uint64_t)v->i;
		else
			memcpy(&u, &v->f, 8);
		for (int i = 0; i < 8; i++)
			b[i] = (unsigned char)(u >> (56 - 8 * i));
		crypto_generichash_update(&st, b, 8);
	} else if (v->type == PLEIN_V_TEXT || v->type == PLEIN_V_BLOB) {
		crypto_generichash_update(&st, v->p ? v->p : b, v->n);
	}
	crypto_generichash_final(&st, out, VHASH);
	return 1;
}

static int ctx_cmp(const void *a, const void *b)
{
	int64_t x = ((const struct ctx_entry *)a)->ref, y = ((const struct ctx_entry *)b)->ref;
	return (x > y) - (x < y);
}

/* How many of peer's batches site had applied when it sealed batch seq:
 * the batch being applied answers from memory, others from plein_context. */
static int seen_of(plein_merge *m, int64_t site, int64_t seq, int64_t peer, int64_t *out)
{
	*out = 0;
	if (site == m->cur_site && seq == m->cur_seq) {
		struct ctx_entry key = { peer, 0 }, *e = bsearch(&key, m->ctx, m->nctx, sizeof *m->ctx, ctx_cmp);
		if (e) {
			*out = e->seen;
			return 0;
		}
	}
	sqlite3_stmt *st = plein_db_stmt(m->db,
		"SELECT seen FROM plein_context WHERE site = ?1 AND peer = ?2 AND seq <= ?3 ORDER BY seq DESC LIMIT 1");
	if (!st)
		return PLEIN_ERR;
	sqlite3_bind_int64(st, 1, site);
	sqlite3_bind_int64(st, 2, peer);
	sqlite3_bind_int64(st, 3, seq);
	int step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return step == SQLITE_ROW || step == SQLITE_DONE ? 0 : plein_db_fail(m->db, "merge: reading contexts");
}

/* Remember the current batch's context, as steps: a row only where it
 * differs from what the site's earlier batches said. */
static int store_context(plein_merge *m, int64_t site, int64_t seq)
{
	for (size_t i = 0; i < m->nctx; i++) {
		int64_t had = 0;
		int rc = seen_of(m, site, seq, m->ctx[i].ref, &had);
		if (rc < 0)
			return rc;
		if (had == m->ctx[i].seen)
			continue;
		sqlite3_stmt *st = plein_db_stmt(m->db,
			"INSERT OR REPLACE INTO plein_context(site, peer, seq, seen) VALUES (?1, ?2, ?3, ?4)");
		if (!st)
			return PLEIN_ERR;
		sqlite3_bind_int64(st, 1, site);
		sqlite3_bind_int64(st, 2, m->ctx[i].ref);
		sqlite3_bind_int64(st, 3, seq);
		sqlite3_bind_int64(st, 4, m->ctx[i].seen);
		if ((rc = plein_db_step_done(m->db, st)) < 0)
			return rc;
	}
	return 0;
}

static int same_write(const write_ref *a, const write_ref *b)
{
	return a->site == b->site && a->seq == b->seq && a->hlc == b->hlc;
}

/* Had x's site applied y when it wrote x? A site sees its own earlier
 * writes; another site's, once its context covers their batch. */
static int saw(plein_merge *m, const write_ref *x, const write_ref *y, int *out)
{
	int64_t seen = 0;
	*out = 0;
	if (x->site == y->site) {
		*out = x->seq > y->seq || (x->seq == y->seq && x->hlc > y->hlc);
		return 0;
	}
	int rc = seen_of(m, x->site, x->seq, y->site, &seen);
	*out = rc == 0 && seen >= y->seq;
	return rc;
}

/* The value of column col as the merge has it now (the current winner's):
 * pending in this session, or in the domain row. Copied into buf. */
static int current_value(plein_merge *m, const plein_column *col, plein_value *out, plein_buf *buf)
{
	row_state *r = &m->row;
	int cid = col->cid, c = (int)(col - r->ops->t->cols);
	memset(out, 0, sizeof *out);
	if (col->policy == PLEIN_MAX && r->has[cid]) {
		copy_value(out, buf, &r->win[cid]);
		return 0;
	}
	if (r->mask >> cid & 1) {
		copy_value(out, buf, &r->val[cid]);
		return 0;
	}
	sqlite3_stmt *st = plein_db_stmt(m->db, r->ops->sel_row);
	if (!st)
		return PLEIN_ERR;
	sqlite3_bind_text(st, 1, (const char *)r->id.data, (int)r->id.len, SQLITE_STATIC);
	int step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		plein_value v;
		column_value(&v, st, 1 + c);
		copy_value(out, buf, &v);
	}
	sqlite3_reset(st);
	return step == SQLITE_ROW || step == SQLITE_DONE ? 0 : plein_db_fail(m->db, "merge: reading a row");
}

static void bind_shown_value(sqlite3_stmt *st, int k, const plein_column *col, const plein_value *v)
{
	if (col->personal) /* never copied out of its envelope: 'versleuteld' */
		sqlite3_bind_null(st, k);
	else
		bind_value(st, k, v);
}

static int sibling_add(plein_merge *m, const plein_column *col, const write_ref *w, const plein_value *v)
{
	row_state *r = &m->row;
	if (r->nsibs == r->capsibs) {
		r->capsibs = r->capsibs ? 2 * r->capsibs : 4;
		r->sibs = plein_xrealloc(r->sibs, sizeof *r->sibs * r->capsibs);
	}
	sibling *x = &r->sibs[r->nsibs];
	memset(x, 0, sizeof *x);
	x->cid = col->cid;
	x->w = *w;
	x->has_hash = value_hash(x->hash, v);
	sqlite3_stmt *st = plein_db_stmt(m->db,
		"INSERT OR IGNORE INTO plein_conflict(tid, id, cid, cl, lost_site, lost_seq, lost_hlc, lost_value, lost_hash,"
		" kept_site, kept_seq, kept_hlc, kept_value, shown, noticed_at)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 0, 0, 0, NULL, 0, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))");
	if (!st)
		return PLEIN_ERR;
	sqlite3_bind_int(st, 1, r->ops->t->tid);
	sqlite3_bind_text(st, 2, (const char *)r->id.data, (int)r->id.len, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, col->cid);
	sqlite3_bind_int64(st, 4, r->cl);
	sqlite3_bind_int64(st, 5, w->site);
	sqlite3_bind_int64(st, 6, w->seq);
	sqlite3_bind_int64(st, 7, w->hlc);
	bind_shown_value(st, 8, col, v);
	if (x->has_hash)
		sqlite3_bind_blob(st, 9, x->hash, VHASH, SQLITE_STATIC);
	int rc = plein_db_step_done(m->db, st);
	if (rc == 0) {
		r->nsibs++;
		m->any_conflicts = 1;
	}
	return rc;
}

static int sibling_drop(plein_merge *m, sibling *x)
{
	row_state *r = &m->row;
	sqlite3_stmt *st = plein_db_stmt(m->db,
		"DELETE FROM plein_conflict WHERE tid = ?1 AND id = ?2 AND cid = ?3 AND lost_site = ?4 AND lost_hlc = ?5");
	if (!st)
		return PLEIN_ERR;
	sqlite3_bind_int(st, 1, r->ops->t->tid);
	sqlite3_bind_text(st, 2, (const char *)r->id.data, (int)r->id.len, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, x->cid);
	sqlite3_bind_int64(st, 4, x->w.site);
	sqlite3_bind_int64(st, 5, x->w.hlc);
	x->gone = 1;
	return plein_db_step_done(m->db, st);
}

/* Every lost write of the column against the write kept: shown when the
 * two are concurrent and their values differ. */
static int siblings_against(plein_merge *m, const plein_column *col, const write_ref *kept, const plein_value *kv)
{
	row_state *r = &m->row;
	unsigned char kh[VHASH];
	int khas = value_hash(kh, kv), rc = 0;
	for (size_t i = 0; i < r->nsibs && rc == 0; i++) {
		sibling *x = &r->sibs[i];
		int a = 0, b = 0;
		if (x->gone || x->cid != col->cid)
			continue;
		if ((rc = saw(m, &x->w, kept, &a)) < 0 || (rc = saw(m, kept, &x->w, &b)) < 0)
			break;
		int differ = !khas || !x->has_hash || memcmp(kh, x->hash, VHASH) != 0;
		sqlite3_stmt *st = plein_db_stmt(m->db,
			"UPDATE plein_conflict SET kept_site = ?6, kept_seq = ?7, kept_hlc = ?8, kept_value = ?9, shown = ?10"
			" WHERE tid = ?1 AND id = ?2 AND cid = ?3 AND lost_site = ?4 AND lost_hlc = ?5");
		if (!st)
			return PLEIN_ERR;
		sqlite3_bind_int(st, 1, r->ops->t->tid);
		sqlite3_bind_text(st, 2, (const char *)r->id.data, (int)r->id.len, SQLITE_STATIC);
		sqlite3_bind_int(st, 3, x->cid);
		sqlite3_bind_int64(st, 4, x->w.site);
		sqlite3_bind_int64(st, 5, x->w.hlc);
		sqlite3_bind_int64(st, 6, kept->site);
		sqlite3_bind_int64(st, 7, kept->seq);
		sqlite3_bind_int64(st, 8, kept->hlc);
		bind_shown_value(st, 9, col, kv);
		sqlite3_bind_int(st, 10, !a && !b && differ);
		rc = plein_db_step_done(m->db, st);
	}
	return rc;
}

/* Keep the column's frontier — the writes that no other write had seen —
 * as the winner plus its plein_conflict rows, before ch is merged. wins:
 * ch beats the current winner. See docs/merge.md for why this is a
 * function of the set of changes. */
static int track(plein_merge *m, const plein_column *col, const plein_change *ch, int64_t sref, int wins)
{
	row_state *r = &m->row;
	int cid = col->cid, rc, f = 0, dominated = 0, y_saw_v = 0, others = 0;
	write_ref y = { sref, m->cur_seq, ch->hlc }, v = { r->s[cid], r->b[cid], r->h[cid] };
	if (!y.seq || !v.seq || same_write(&y, &v))
		return 0; /* a write without a batch, or the winner again */
	for (size_t i = 0; i < r->nsibs; i++) {
		if (r->sibs[i].gone || r->sibs[i].cid != cid)
			continue;
		if (same_write(&r->sibs[i].w, &y))
			return 0; /* a lost write again */
		others++;
	}
	if ((rc = saw(m, &y, &v, &y_saw_v)) < 0)
		return rc;
	if (y_saw_v && wins && !others)
		return 0; /* an edit after the last one: the common case */
	if ((rc = saw(m, &v, &y, &dominated)) < 0)
		return rc;
	for (size_t i = 0; i < r->nsibs; i++) {
		sibling *x = &r->sibs[i];
		if (x->gone || x->cid != cid)
			continue;
		if (!dominated && (rc = saw(m, &x->w, &y, &dominated)) < 0)
			return rc;
		/* y's writer had the lost value: it no longer stands apart. */
		if ((rc = saw(m, &y, &x->w, &f)) < 0 || (f && (rc = sibling_drop(m, x)) < 0))
			return rc;
	}
	plein_value cur;
	plein_buf buf = PLEIN_BUF_INIT;
	if ((rc = current_value(m, col, &cur, &buf)) < 0)
		goto done;
	if (wins) {
		/* The old winner stays in the frontier unless someone saw it. */
		int v_stands = !y_saw_v;
		for (size_t i = 0; i < r->nsibs && v_stands && rc == 0; i++)
			if (!r->sibs[i].gone && r->sibs[i].cid == cid && (rc = saw(m, &r->sibs[i].w, &v, &f)) == 0)
				v_stands = !f;
		if (rc == 0 && v_stands)
			rc = sibling_add(m, col, &v, &cur);
		if (rc == 0)
			rc = siblings_against(m, col, &y, &ch->value);
	} else {
		if (!dominated)
			rc = sibling_add(m, col, &y, &ch->value);
		if (rc == 0)
			rc = siblings_against(m, col, &v, &cur);
	}
done:
	plein_buf_free(&buf);
	return rc;
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
		r->b[ch->cid] = m->cur_seq;
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
		if ((rc = clear_siblings(m)) < 0)
			return rc;
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
	} else {
		wins = newer(m, ch->hlc, sref, r->h[cid], r->s[cid]) > 0;
	}
	if (r->has[cid] && (rc = track(m, col, ch, sref, wins)) < 0)
		return rc;
	if (!wins) {
		/* Write the winner back: a local edit may have overwritten it. */
		if (col->policy == PLEIN_MAX)
			set_value(r, cid, &r->win[cid]);
		return 0;
	}
	if (col->policy == PLEIN_MAX)
		keep_winner(r, cid, &ch->value);
	set_value(r, cid, &ch->value);
	r->has[cid] = 1;
	r->h[cid] = ch->hlc;
	r->s[cid] = sref;
	r->b[cid] = m->cur_seq;
	return 0;
}

int plein_merge_apply(plein_merge *m, const unsigned char signer[32], const plein_change *ch, size_t n)
{
	if (m->err)
		return m->err;
	int64_t sref = 0;
	int rc = site_ref(m, signer, &sref);
	m->cur_site = m->cur_seq = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = apply_one(m, &ch[i], sref);
	if (rc < 0)
		m->err = rc;
	return rc;
}

int plein_merge_batch_begin(plein_merge *m, const unsigned char signer[32], uint64_t seq,
			    const plein_seen *context, size_t ncontext)
{
	if (m->err)
		return m->err;
	if (seq < 1 || seq > INT64_MAX)
		return m->err = plein_fail(PLEIN_EINVAL, "batch sequence number %llu is out of range",
					   (unsigned long long)seq);
	int64_t sref = 0;
	int rc = site_ref(m, signer, &sref);
	m->cur_site = m->cur_seq = 0;
	m->ctx = plein_xrealloc(m->ctx, sizeof *m->ctx * (ncontext ? ncontext : 1));
	m->nctx = 0;
	for (size_t i = 0; i < ncontext && rc == 0; i++) {
		int64_t ref = 0;
		if ((rc = site_ref(m, context[i].pk, &ref)) == 0 && ref != sref && context[i].seq <= INT64_MAX) {
			m->ctx[m->nctx].ref = ref;
			m->ctx[m->nctx++].seen = (int64_t)context[i].seq;
		}
	}
	qsort(m->ctx, m->nctx, sizeof *m->ctx, ctx_cmp);
	if (rc == 0)
		rc = store_context(m, sref, (int64_t)seq);
	if (rc < 0)
		return m->err = rc;
	m->cur_site = sref;
	m->cur_seq = (int64_t)seq;
	return 0;
}

int plein_merge_batch_changes(plein_merge *m, const plein_change *ch, size_t n)
{
	if (m->err)
		return m->err;
	if (m->cur_seq == 0)
		return m->err = plein_fail(PLEIN_EINVAL, "changes of a batch, but no batch was begun");
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = apply_one(m, &ch[i], m->cur_site);
	if (rc < 0)
		m->err = rc;
	return rc;
}

void plein_merge_batch_end(plein_merge *m)
{
	m->cur_site = m->cur_seq = 0;
}

int plein_merge_apply_batch(plein_merge *m, const unsigned char signer[32], uint64_t seq,
			    const plein_seen *context, size_t ncontext, const plein_change *ch, size_t n)
{
	int rc = plein_merge_batch_begin(m, signer, seq, context, ncontext);
	if (rc == 0)
		rc = plein_merge_batch_changes(m, ch, n);
	plein_merge_batch_end(m);
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
		for (int u = 0; u < UPD_CACHE; u++)
			sqlite3_finalize(o->upd[u].st);
		free(o->sel_row);
		for (int c = 0; c < MAXCOL; c++) {
			for (int k = 0; k < o->nranks[c]; k++)
				free(o->ranks[c][k].value);
			free(o->ranks[c]);
		}
	}
	free(m->ops);
	free(m->sites);
	free(m->ctx);
	free(m->row.sibs);
	plein_buf_free(&m->row.id);
	for (int c = 0; c < MAXCOL; c++) {
		plein_buf_free(&m->row.vbuf[c]);
		plein_buf_free(&m->row.wbuf[c]);
	}
	free(m);
	return rc;
}
