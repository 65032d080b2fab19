/* Erasure of personal data (design §8, docs/erasure.md).
 *
 * plein_erase_row records the erasure as a synced row and clears the
 * row's personal columns; both are captured, sealed and travel like any
 * change. plein_erase_apply carries out every erasure the replica holds:
 * each stored personal part holding a value of an erased row (written at
 * or before the erasure's upto) is purged in log.git and the old bytes are
 * pruned. plein_erase_accept judges personal parts fetched from a git
 * remote before they are stored: they must match their batch's signed
 * hashes, lose what was erased here, and can only make ours smaller. */
#include "plein/erase.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plein/batch.h"
#include "plein/clock.h"
#include "plein/error.h"
#include "plein/journal.h"
#include "plein/log.h"
#include "plein/now.h"
#include "plein/personal.h"
#include "plein/schema.h"

typedef char blob_id[PLEIN_LOG_OID_HEX + 1];

struct erasure {
	char *id, *row_id;
	int tid;
	int64_t upto;
	int is_new; /* not carried out here yet (or for a smaller upto) */
};

struct eset {
	struct erasure *v;
	size_t n;
};

static void eset_free(struct eset *e)
{
	for (size_t i = 0; i < e->n; i++) {
		free(e->v[i].id);
		free(e->v[i].row_id);
	}
	free(e->v);
	memset(e, 0, sizeof *e);
}

static int eset_load(struct eset *out, plein_site *s)
{
	memset(out, 0, sizeof *out);
	sqlite3_stmt *st = plein_db_stmt(s->db,
		"SELECT e.id, e.tbl, e.row_id, e.upto, d.upto IS NULL OR d.upto < e.upto"
		" FROM erasure e LEFT JOIN plein_erase_done d ON d.id = e.id"
		" WHERE e.tbl IS NOT NULL AND e.row_id IS NOT NULL AND e.upto IS NOT NULL");
	if (!st)
		return PLEIN_ERR;
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const plein_table *t = plein_schema_table(s->schema, (const char *)sqlite3_column_text(st, 1));
		if (!t)
			continue; /* a table this plein does not know: nothing of it is stored here */
		out->v = plein_xrealloc(out->v, (out->n + 1) * sizeof *out->v);
		struct erasure *e = &out->v[out->n++];
		e->id = plein_xstrdup((const char *)sqlite3_column_text(st, 0));
		e->row_id = plein_xstrdup((const char *)sqlite3_column_text(st, 2));
		e->tid = t->tid;
		e->upto = sqlite3_column_int64(st, 3);
		e->is_new = sqlite3_column_int(st, 4);
	}
	sqlite3_reset(st);
	if (step != SQLITE_DONE) {
		eset_free(out);
		return plein_db_fail(s->db, "reading the erasures");
	}
	return 0;
}

static int covers(const struct erasure *e, const plein_change *c)
{
	return c->tid == e->tid && c->hlc <= e->upto && c->id_len == strlen(e->row_id) &&
		memcmp(c->id, e->row_id, c->id_len) == 0;
}

/* drop[i] for every present personal value of b that an erasure covers
 * (new ones only, or all). Returns how many. */
static size_t mark(unsigned char *drop, const plein_batch *b, const struct eset *es, int only_new)
{
	size_t n = 0;
	for (size_t i = 0; i < b->n; i++) {
		const plein_change *c = &b->changes[i];
		drop[i] = 0;
		if (!c->personal || c->value.type == PLEIN_V_PURGED)
			continue;
		for (size_t k = 0; k < es->n && !drop[i]; k++)
			if ((!only_new || es->v[k].is_new) && covers(&es->v[k], c))
				drop[i] = 1;
		n += drop[i];
	}
	return n;
}

static int decode(plein_batch **out, const plein_log_entry *e, const unsigned char *personal, size_t plen)
{
	plein_batch_header h;
	int rc = plein_batch_header_parse(&h, e->header.data, e->header.len);
	if (rc == 0)
		rc = plein_batch_decode(out, &h, e->payload.data, e->payload.len, personal, plen);
	return rc;
}

static void gone_add(blob_id **v, size_t *n, const char *blob)
{
	*v = plein_xrealloc(*v, (*n + 1) * sizeof **v);
	snprintf((*v)[(*n)++], sizeof **v, "%s", blob);
}

/* Old page images and freed cells must not keep erased bytes: fold the
 * WAL into the database and cut it to nothing (secure_delete is on). */
static int scrub_db(plein_site *s)
{
	return plein_db_exec(s->db, "PRAGMA wal_checkpoint(TRUNCATE)");
}

static int set_checked(plein_site *s, const char *ref, const char *blob)
{
	sqlite3_stmt *st = plein_db_stmt(s->db, "INSERT OR REPLACE INTO plein_personal_checked(ref, blob) VALUES (?1, ?2)");
	if (!st)
		return PLEIN_ERR;
	sqlite3_bind_text(st, 1, ref, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, blob, -1, SQLITE_TRANSIENT);
	return plein_db_step_done(s->db, st);
}

/* The checked blob of ref into out ("" when never checked). */
static void get_checked(plein_site *s, const char *ref, blob_id out)
{
	out[0] = 0;
	sqlite3_stmt *st = plein_db_stmt(s->db, "SELECT blob FROM plein_personal_checked WHERE ref = ?1");
	if (!st) {
		plein_error_clear();
		return;
	}
	sqlite3_bind_text(st, 1, ref, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(out, sizeof(blob_id), "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_reset(st);
}

/* Purge one stored personal part against the erasures. */
static int apply_one(size_t *purged, plein_site *s, const plein_log_personal *p, const struct eset *es,
		     blob_id **gone, size_t *ngone)
{
	blob_id checked, nb;
	plein_log_entry e;
	plein_batch *b = NULL;
	plein_buf out = PLEIN_BUF_INIT;
	unsigned char *drop = NULL;
	int rc, only_new;
	get_checked(s, p->name, checked);
	only_new = strcmp(checked, p->blob) == 0;
	int any = 0;
	for (size_t k = 0; k < es->n && !any; k++)
		any = !only_new || es->v[k].is_new;
	if (!any)
		return 0;
	memset(&e, 0, sizeof e);
	rc = plein_log_read(&e, s->log, p->site, p->seq);
	if (rc < 0 || strcmp(e.header_id, p->header) != 0 || strcmp(e.personal_id, p->blob) != 0) {
		/* Not (yet) in the chain: a held batch or a leftover; judged once
		 * it is. */
		plein_error_clear();
		plein_log_entry_free(&e);
		return 0;
	}
	if ((rc = decode(&b, &e, e.personal.data, e.personal.len)) < 0)
		goto done;
	drop = plein_xcalloc(b->n ? b->n : 1, 1);
	size_t n = mark(drop, b, es, only_new);
	snprintf(nb, sizeof nb, "%s", p->blob);
	if (n) {
		if ((rc = plein_batch_purge(&out, b, drop, 1)) < 0 ||
		    (rc = plein_log_personal_set(nb, s->log, p->site, p->seq, p->header, out.data, out.len, p->blob)) < 0)
			goto done;
		gone_add(gone, ngone, p->blob);
		*purged += n;
	}
	rc = set_checked(s, p->name, nb);
done:
	free(drop);
	plein_buf_free(&out);
	plein_batch_free(b);
	plein_log_entry_free(&e);
	return rc;
}

int plein_erase_apply(plein_site *s, size_t *out_purged)
{
	struct eset es;
	plein_log_personal *refs = NULL;
	blob_id *gone = NULL;
	size_t nrefs = 0, ngone = 0, purged = 0;
	if (out_purged)
		*out_purged = 0;
	int rc = eset_load(&es, s);
	if (rc < 0 || es.n == 0)
		return rc;
	if (!plein_site_log(s)) {
		eset_free(&es);
		return plein_error_code() ? plein_error_code() : PLEIN_ERR;
	}
	if ((rc = plein_log_personals(&refs, &nrefs, s->log, NULL)) < 0)
		goto done;
	/* One transaction for the marks of all parts (bench/erase.c): one
	 * commit, not one per part. A failure loses only marks: those parts
	 * are checked again next time. */
	int tx = sqlite3_get_autocommit(plein_db_handle(s->db)) && plein_db_begin(s->db) == 0;
	for (size_t i = 0; i < nrefs && rc == 0; i++)
		rc = apply_one(&purged, s, &refs[i], &es, &gone, &ngone);
	if (tx && (rc == 0 ? plein_db_commit(s->db) : (plein_db_rollback(s->db), 0)) < 0)
		rc = PLEIN_ERR;
	if (rc == 0 && ngone)
		rc = plein_log_prune(NULL, s->log, (const blob_id *)gone, ngone);
	for (size_t k = 0; k < es.n && rc == 0; k++) {
		if (!es.v[k].is_new)
			continue;
		sqlite3_stmt *st = plein_db_stmt(s->db, "INSERT OR REPLACE INTO plein_erase_done(id, upto) VALUES (?1, ?2)");
		if (!st) {
			rc = PLEIN_ERR;
			break;
		}
		sqlite3_bind_text(st, 1, es.v[k].id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2, es.v[k].upto);
		rc = plein_db_step_done(s->db, st);
	}
	if (rc == 0 && purged)
		rc = scrub_db(s);
	if (out_purged)
		*out_purged = purged;
done:
	free(gone);
	free(refs);
	eset_free(&es);
	return rc;
}

/* ---- recording an erasure ---- */

int plein_erase_row(plein_site *s, const char *tbl, const char *row_id, const char *reason)
{
	const plein_table *t = plein_schema_table(s->schema, tbl);
	plein_buf sql = PLEIN_BUF_INIT;
	int64_t clock = 0;
	char id[400], at[21];
	int npersonal = 0, rc;
	if (!t)
		return plein_fail(PLEIN_EINVAL, "'%s' is not a synced table", tbl);
	if (strlen(row_id) > 300)
		return plein_fail(PLEIN_EINVAL, "'%s' is not a row id", row_id);
	/* Names from the schema's metadata, quoted as identifiers (%w). */
	char *q = sqlite3_mprintf("UPDATE \"%w\" SET", tbl);
	plein_buf_puts(&sql, q);
	sqlite3_free(q);
	for (int i = 0; i < t->ncols; i++) {
		if (!t->cols[i].personal)
			continue;
		q = sqlite3_mprintf("%s \"%w\" = NULL", npersonal++ ? "," : "", t->cols[i].name);
		plein_buf_puts(&sql, q);
		sqlite3_free(q);
	}
	plein_buf_puts(&sql, " WHERE id = ?1");
	if (!npersonal) {
		plein_buf_free(&sql);
		return plein_fail(PLEIN_EINVAL, "table %s holds no personal data", tbl);
	}
	snprintf(id, sizeof id, "%s:%s", tbl, row_id);
	time_t now = (time_t)plein_now();
	struct tm u;
	gmtime_r(&now, &u);
	strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", &u);
	if ((rc = plein_db_begin(s->db)) < 0)
		goto out;
	/* Every value held here was written at or before the clock: the
	 * erasure covers them, and what this site writes later does not. */
	if ((rc = plein_db_int(s->db, &clock, "SELECT hlc FROM plein_clock WHERE id = 1", NULL)) < 0)
		goto fail;
	int64_t upto = plein_hlc_tick(clock, plein_now_ms());
	sqlite3_stmt *st = plein_db_stmt(s->db,
		"INSERT INTO erasure(id, tbl, row_id, upto, reason, erased_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
		" ON CONFLICT(id) DO UPDATE SET upto = excluded.upto, reason = excluded.reason, erased_at = excluded.erased_at");
	if (!st) {
		rc = PLEIN_ERR;
		goto fail;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, tbl, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, row_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, upto);
	sqlite3_bind_text(st, 5, reason, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, at, -1, SQLITE_TRANSIENT);
	if ((rc = plein_db_step_done(s->db, st)) < 0)
		goto fail;
	st = plein_db_stmt(s->db, plein_buf_cstr(&sql));
	if (!st) {
		rc = PLEIN_ERR;
		goto fail;
	}
	sqlite3_bind_text(st, 1, row_id, -1, SQLITE_TRANSIENT);
	if ((rc = plein_db_step_done(s->db, st)) < 0)
		goto fail;
	rc = plein_db_commit(s->db);
	goto out;
fail:
	plein_db_rollback(s->db);
out:
	plein_buf_free(&sql);
	return rc;
}

/* ---- personal parts fetched from a git remote ---- */

/* The batch a fetched personal part belongs to, read from our chain or
 * the held batches; 0 when found. */
static int find_batch(plein_log_entry *e, plein_site *s, const plein_log_personal *p)
{
	char held[PLEIN_LOG_REF_MAX];
	memset(e, 0, sizeof *e);
	if (plein_log_read(e, s->log, p->site, p->seq) == 0 && strcmp(e->header_id, p->header) == 0)
		return 0;
	plein_log_entry_free(e);
	snprintf(held, sizeof held, "refs/plein/held/%s/%" PRIu64, p->site, p->seq);
	if (plein_log_read(e, s->log, held, 0) == 0 && strcmp(e->header_id, p->header) == 0)
		return 0;
	plein_log_entry_free(e);
	plein_error_clear();
	return PLEIN_ENOTFOUND;
}

/* One fetched part whose batch we hold: merge it into ours, or (we have
 * none and have not applied the batch yet) check it against the signed
 * hashes, strip what was erased here and store it. */
static int accept_one(plein_site *s, const plein_log_personal *in, const plein_log_entry *e,
		      const struct eset *es, blob_id **gone, size_t *ngone)
{
	plein_buf theirs = PLEIN_BUF_INIT, m = PLEIN_BUF_INIT;
	plein_batch *b = NULL;
	unsigned char *drop = NULL;
	int rc = 0;
	if (plein_log_blob_read(&theirs, s->log, in->blob) < 0) {
		/* Its bytes are gone here: a version this site purged itself
		 * (the fetch did not bring what we already had). Nothing to take. */
		plein_error_clear();
		goto done;
	}
	if (e->has_personal) {
		int same_ours = 0, same_theirs = 0;
		if (strcmp(e->personal_id, in->blob) == 0)
			goto done;
		if (plein_personal_intersect(&m, &same_ours, &same_theirs, e->personal.data, e->personal.len,
					     theirs.data, theirs.len) < 0) {
			plein_error_clear(); /* not a copy of ours: keep ours */
		} else if (!same_ours &&
			   (rc = plein_log_personal_set(NULL, s->log, e->site, e->seq, e->header_id, m.data, m.len,
							e->personal_id)) == 0) {
			gone_add(gone, ngone, e->personal_id);
		}
		gone_add(gone, ngone, in->blob);
		goto done;
	}
	uint64_t applied = 0;
	if ((rc = plein_journal_applied(s, e->site, &applied)) < 0)
		goto done;
	/* Applied without it already: storing it now would make the log
	 * say more than the replica. */
	if (applied >= e->seq || decode(&b, e, theirs.data, theirs.len) < 0) {
		plein_error_clear();
		gone_add(gone, ngone, in->blob);
		goto done;
	}
	drop = plein_xcalloc(b->n ? b->n : 1, 1);
	if (mark(drop, b, es, 0)) {
		if ((rc = plein_batch_purge(&m, b, drop, 1)) == 0)
			rc = plein_log_personal_set(NULL, s->log, e->site, e->seq, e->header_id, m.data, m.len, NULL);
		gone_add(gone, ngone, in->blob);
	} else {
		rc = plein_log_personal_set(NULL, s->log, e->site, e->seq, e->header_id, theirs.data, theirs.len, NULL);
	}
	if (rc == PLEIN_EBUSY) { /* stored meanwhile: ours stays */
		plein_error_clear();
		rc = 0;
	}
done:
	free(drop);
	plein_batch_free(b);
	plein_buf_free(&theirs);
	plein_buf_free(&m);
	return rc;
}

int plein_erase_accept(plein_site *s, const char *key, int final)
{
	plein_log_personal *in = NULL;
	blob_id *gone = NULL;
	size_t n = 0, ngone = 0;
	struct eset es;
	if (!plein_site_log(s))
		return plein_error_code() ? plein_error_code() : PLEIN_ERR;
	int rc = eset_load(&es, s);
	if (rc < 0)
		return rc;
	if ((rc = plein_log_personals(&in, &n, s->log, key ? key : "")) < 0)
		goto done;
	for (size_t i = 0; i < n && rc == 0; i++) {
		plein_log_entry e;
		int found = find_batch(&e, s, &in[i]) == 0;
		if (found)
			rc = accept_one(s, &in[i], &e, &es, &gone, &ngone);
		else if (final)
			gone_add(&gone, &ngone, in[i].blob);
		plein_log_entry_free(&e);
		if (rc == 0 && (found || final))
			rc = plein_log_personal_drop(s->log, in[i].name);
	}
	if (rc == 0 && ngone)
		rc = plein_log_prune(NULL, s->log, (const blob_id *)gone, ngone);
done:
	free(gone);
	free(in);
	eset_free(&es);
	return rc;
}
