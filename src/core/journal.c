#include "plein/journal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plein/batch.h"
#include "plein/buf.h"
#include "plein/error.h"
#include "plein/local.h"
#include "plein/log.h"
#include "plein/merge.h"
#include "plein/schema.h"

int plein_journal_applied(plein_site *s, const char *site_id, uint64_t *out_seq)
{
	int64_t seq = 0;
	int rc = plein_db_int(s->db, &seq, "SELECT seq FROM plein_applied WHERE site = ?1", site_id, NULL);
	if (rc == PLEIN_ENOTFOUND) {
		seq = 0;
		rc = 0;
	}
	*out_seq = (uint64_t)seq;
	return rc;
}

static int set_applied(plein_site *s, const char *site_id, uint64_t seq)
{
	sqlite3_stmt *st = plein_db_stmt(s->db, "INSERT OR REPLACE INTO plein_applied(site, seq) VALUES (?1, ?2)");
	if (!st)
		return PLEIN_ERR;
	sqlite3_bind_text(st, 1, site_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, (int64_t)seq);
	return plein_db_step_done(s->db, st);
}

/* Later local writes must sort after every applied change. */
static int raise_clock(plein_site *s, int64_t hlc)
{
	sqlite3_stmt *st = plein_db_stmt(s->db, "UPDATE plein_clock SET hlc = max(hlc, ?1) WHERE id = 1");
	if (!st)
		return PLEIN_ERR;
	sqlite3_bind_int64(st, 1, hlc);
	return plein_db_step_done(s->db, st);
}

/* Changes applied between two heartbeats: on a slow or loaded machine a
 * whole part can take seconds, a slice a fraction of one. */
#define APPLY_SLICE 512

/* Apply part ch[0..n) a slice at a time, telling s->progress after each. */
static int apply_part(plein_site *s, plein_merge *m, const plein_change *ch, size_t n)
{
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i += APPLY_SLICE) {
		rc = plein_merge_batch_changes(m, ch + i, n - i < APPLY_SLICE ? n - i : APPLY_SLICE);
		/* A large batch takes a while: say we are alive. */
		if (rc == 0)
			plein_site_heartbeat(s);
	}
	return rc;
}

/* Test-only fault hook: PLEIN_TEST_APPLY_DELAY_MS=N makes every applied
 * part of a batch (PLEIN_BATCH_PART changes; a small batch is one part) take N
 * ms longer, so tests can show a peer a long ingest, of many batches or
 * of one large one (tests/e2e/serve_busy.sh). Unset: no effect. */
static void test_apply_delay(void)
{
	static long ms = -1;
	if (ms < 0) {
		const char *e = getenv("PLEIN_TEST_APPLY_DELAY_MS");
		ms = e ? atol(e) : 0;
	}
	if (ms > 0) {
		struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
	}
}

/* Apply one stored batch in its own transaction. */
static int apply_entry(plein_site *s, const plein_log_entry *e)
{
	plein_batch_header h;
	plein_batch *b = NULL;
	plein_merge *m = NULL;
	char signer[PLEIN_SITEID_LEN + 1];
	int rc = plein_batch_verify(&h, e->header.data, e->header.len, e->sig.data);
	if (rc < 0)
		return plein_fail(PLEIN_ERR, "log.git: batch %" PRIu64 " of %s does not verify (%s); run 'plein verify'",
				  e->seq, e->site, plein_error());
	plein_siteid_from_key(signer, h.site_pk);
	if (strcmp(signer, e->site) != 0 || h.seq != e->seq)
		return plein_fail(PLEIN_ERR, "log.git: batch %" PRIu64 " of %s is filed under the wrong chain; run 'plein verify'",
				  e->seq, e->site);
	rc = plein_batch_open(&b, &h, e->payload.data, e->payload.len,
			      e->has_personal ? e->personal.data : NULL, e->has_personal ? e->personal.len : 0);
	if (rc < 0)
		return plein_fail(PLEIN_ERR, "log.git: batch %" PRIu64 " of %s: %s", e->seq, e->site, plein_error());
	if ((rc = plein_db_begin(s->db)) < 0)
		goto out;
	/* A part of the changes at a time, all in this transaction: a batch
	 * that turns out not to decode further on is rolled back whole. */
	if ((rc = plein_merge_begin(&m, s)) == 0 &&
	    (rc = plein_merge_batch_begin(m, h.site_pk, h.seq, b->context, b->ncontext)) == 0) {
		int more;
		while ((more = plein_batch_next(b, PLEIN_BATCH_PART)) > 0 && (rc = apply_part(s, m, b->changes, b->n)) == 0)
			test_apply_delay();
		if (more < 0)
			rc = plein_fail(PLEIN_ERR, "log.git: batch %" PRIu64 " of %s: %s", e->seq, e->site, plein_error());
		plein_merge_batch_end(m);
	}
	int rc2 = m ? plein_merge_end(m) : 0;
	if (rc == 0)
		rc = rc2;
	/* Our own batch: its captured rows are sealed now. */
	if (rc == 0 && memcmp(h.site_pk, s->pk, 32) == 0)
		rc = plein_local_consumed(s, h.hlc_max);
	if (rc == 0)
		rc = raise_clock(s, h.hlc_max);
	if (rc == 0)
		rc = set_applied(s, e->site, e->seq);
	if (rc == 0)
		rc = plein_db_commit(s->db);
	else
		plein_db_rollback(s->db);
out:
	plein_batch_free(b);
	return rc;
}

int plein_journal_catch_up(plein_site *s, uint64_t *out_applied)
{
	if (out_applied)
		*out_applied = 0;
	/* A log opened earlier (the daemon's) may hold objects other
	 * processes wrote since: check those before reading them. */
	int was_open = s->log != NULL;
	plein_log *log = plein_site_log(s);
	if (!log)
		return plein_error_code() ? plein_error_code() : PLEIN_ERR;
	if (was_open && plein_site_log_check(s) < 0)
		return PLEIN_EREJECT;
	plein_log_ref *tips = NULL;
	size_t n = 0;
	int rc = plein_log_tips(&tips, &n, log);
	/* Our own chain first: repairing a crash recomputes the HLCs of the
	 * captured writes from the clock, which other batches would move. */
	for (size_t i = 1; i < n; i++)
		if (strcmp(tips[i].site, s->id) == 0) {
			plein_log_ref own = tips[i];
			memmove(&tips[1], &tips[0], sizeof *tips * i);
			tips[0] = own;
		}
	for (size_t i = 0; i < n && rc == 0; i++) {
		uint64_t have = 0;
		if ((rc = plein_journal_applied(s, tips[i].site, &have)) < 0)
			break;
		for (uint64_t seq = have + 1; seq <= tips[i].seq && rc == 0; seq++) {
			plein_log_entry e;
			memset(&e, 0, sizeof e);
			if ((rc = plein_log_read(&e, log, tips[i].site, seq)) == 0)
				rc = apply_entry(s, &e);
			plein_log_entry_free(&e);
			if (rc == 0 && out_applied)
				(*out_applied)++;
			if (rc == 0)
				rc = plein_site_progress(s);
		}
	}
	free(tips);
	return rc;
}

/* This site's causal context for its next batch: how far it has applied
 * every other chain, by key, sorted by key. Every chain applied had its
 * signer's key registered in plein_site_ref by the merge. */
static int applied_context(plein_site *s, plein_seen **out, size_t *out_n)
{
	*out = NULL;
	*out_n = 0;
	sqlite3_stmt *st = plein_db_stmt(s->db, "SELECT pk FROM plein_site_ref WHERE length(pk) = 32 ORDER BY pk");
	if (!st)
		return PLEIN_ERR;
	plein_seen *v = NULL;
	size_t n = 0, cap = 0;
	int step, rc = 0;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const void *pk = sqlite3_column_blob(st, 0);
		if (memcmp(pk, s->pk, 32) == 0)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			v = plein_xrealloc(v, sizeof *v * cap);
		}
		memcpy(v[n].pk, pk, 32);
		v[n++].seq = 0;
	}
	sqlite3_reset(st);
	if (step != SQLITE_DONE)
		rc = plein_db_fail(s->db, "reading the site keys");
	/* Keys named only in others' contexts were never applied here. */
	size_t k = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		char id[PLEIN_SITEID_LEN + 1];
		plein_siteid_from_key(id, v[i].pk);
		if ((rc = plein_journal_applied(s, id, &v[i].seq)) == 0 && v[i].seq > 0)
			v[k++] = v[i];
	}
	if (rc == 0 && k > PLEIN_BATCH_MAX_CONTEXT)
		rc = plein_fail(PLEIN_ERR, "this site has applied the batches of %zu sites; a batch can name at most %d",
				k, PLEIN_BATCH_MAX_CONTEXT);
	if (rc < 0) {
		free(v);
		return rc;
	}
	*out = v;
	*out_n = k;
	return 0;
}

/* The hash and commit of this site's last batch, for the next one. */
static int chain_tip(plein_site *s, plein_log_ref *tip, unsigned char prev[PLEIN_BATCH_HASH_BYTES])
{
	memset(prev, 0, PLEIN_BATCH_HASH_BYTES);
	int rc = plein_log_tip(tip, s->log, s->id);
	if (rc < 0 || tip->seq == 0)
		return rc;
	plein_log_entry e;
	memset(&e, 0, sizeof e);
	rc = plein_log_read(&e, s->log, s->id, tip->seq);
	if (rc == 0 && (e.header.len != PLEIN_BATCH_HEADER_BYTES || e.sig.len != PLEIN_BATCH_SIG_BYTES))
		rc = plein_fail(PLEIN_ERR, "log.git: the last batch of this site is damaged; run 'plein verify'");
	if (rc == 0)
		plein_batch_hash(prev, e.header.data, e.sig.data);
	plein_log_entry_free(&e);
	return rc;
}

int plein_journal_paused(plein_site *s)
{
	char *v = plein_site_local_get(s, "awaiting_peer");
	int paused = v && strcmp(v, "1") == 0;
	free(v);
	return paused;
}

int plein_journal_resume(plein_site *s)
{
	sqlite3_stmt *st = plein_db_stmt(s->db, "DELETE FROM plein_local WHERE key = 'awaiting_peer'");
	return st ? plein_db_step_done(s->db, st) : PLEIN_ERR;
}

/* A site that never met a peer cannot have published a history to
 * contradict: no peers configured and no other site's chain in its log. */
static int never_synced(plein_site *s)
{
	if (plein_conf_subsection(s->conf, "peer", 0))
		return 0;
	plein_log_ref *tips = NULL;
	size_t n = 0;
	int alone = plein_log_tips(&tips, &n, s->log) == 0 && (n == 0 || (n == 1 && strcmp(tips[0].site, s->id) == 0));
	free(tips);
	return alone;
}

int plein_journal_seal(plein_site *s, uint64_t *out_seq)
{
	*out_seq = 0;
	if (!plein_site_log(s))
		return plein_error_code() ? plein_error_code() : PLEIN_ERR;
	if (plein_journal_paused(s)) {
		if (!never_synced(s))
			return plein_fail(PLEIN_EBUSY,
				"this site's files were restored or copied; so as not to sign a second history it seals "
				"nothing until a peer has confirmed what it published before: run 'plein sync'");
		int rc = plein_journal_resume(s);
		if (rc < 0)
			return rc;
	}
	/* First repair: a batch may be in the log but not yet in the replica. */
	int rc = plein_journal_catch_up(s, NULL);
	if (rc < 0)
		return rc;

	plein_changeset cs = PLEIN_CHANGESET_INIT;
	plein_buf payload = PLEIN_BUF_INIT, personal = PLEIN_BUF_INIT;
	plein_seen *ctx = NULL;
	size_t nctx = 0;
	plein_merge *m = NULL;
	int64_t hmax = 0;
	if ((rc = plein_db_begin(s->db)) < 0)
		return rc;
	plein_log_ref tip;
	plein_batch_header h;
	memset(&h, 0, sizeof h);
	uint64_t applied = 0;
	if ((rc = chain_tip(s, &tip, h.prev_hash)) < 0 || (rc = plein_journal_applied(s, s->id, &applied)) < 0)
		goto fail;
	if (applied != tip.seq) {
		/* Another plein sealed between our catch-up and our lock. */
		rc = plein_fail(PLEIN_EBUSY, "another plein is sealing this site's changes; try again in a moment");
		goto fail;
	}
	if ((rc = plein_merge_begin(&m, s)) < 0 || (rc = plein_local_changes(&cs, &hmax, m, s)) < 0)
		goto fail;
	if (cs.n > 0) {
		if ((rc = plein_site_network_id(s, h.network_id)) < 0)
			goto fail;
		memcpy(h.site_pk, s->pk, 32);
		h.seq = tip.seq + 1;
		h.schema_version = plein_schema_version();
		unsigned char hb[PLEIN_BATCH_HEADER_BYTES], sig[PLEIN_BATCH_SIG_BYTES];
		/* What this site had applied when these writes were made: sync
		 * seals before it applies what it received. */
		if ((rc = applied_context(s, &ctx, &nctx)) < 0 ||
		    (rc = plein_batch_encode(&h, &payload, &personal, ctx, nctx, cs.v, cs.n, 1, NULL)) < 0 ||
		    (rc = plein_batch_seal(hb, sig, &h, s->sk)) < 0)
			goto fail;
		char summary[64];
		snprintf(summary, sizeof summary, "%zu changes", cs.n);
		plein_log_batch lb = {
			.site = s->id, .seq = h.seq, .time = (h.hlc_max >> 16) / 1000, .summary = summary,
			.header = hb, .header_len = sizeof hb, .sig = sig,
			.payload = payload.data, .payload_len = payload.len,
			.personal = personal.len ? personal.data : NULL, .personal_len = personal.len,
			.parent = tip.seq ? tip.commit : "",
		};
		/* The commit point: once the ref moved, the batch exists. */
		if ((rc = plein_log_append(s->log, &lb)) < 0)
			goto fail;
		if ((rc = plein_merge_apply_batch(m, s->pk, h.seq, ctx, nctx, cs.v, cs.n)) < 0 ||
		    (rc = set_applied(s, s->id, h.seq)) < 0)
			goto fail;
		*out_seq = h.seq;
	}
	rc = plein_merge_end(m);
	m = NULL;
	if (rc == 0 && hmax)
		rc = plein_local_consumed(s, hmax);
	if (rc == 0)
		rc = plein_db_commit(s->db);
	else
		plein_db_rollback(s->db);
	goto out;
fail:
	plein_merge_end(m);
	plein_db_rollback(s->db);
	*out_seq = 0;
out:
	free(ctx);
	plein_changeset_free(&cs);
	plein_buf_free(&payload);
	plein_buf_free(&personal);
	return rc;
}
