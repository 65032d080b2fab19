#include "plein/ingest.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plein/batch.h"
#include "plein/buf.h"
#include "plein/clock.h"
#include "plein/erase.h"
#include "plein/error.h"
#include "plein/journal.h"
#include "plein/log.h"
#include "plein/roster.h"
#include "plein/schema.h"

enum { VERDICT_OK = 0, VERDICT_HOLD = 1, VERDICT_REJECT = 2 };

static void note(plein_ingest_report *r, const char *site, uint64_t seq, const char *reason)
{
	r->notes = plein_xrealloc(r->notes, sizeof *r->notes * (r->nnotes + 1));
	plein_ingest_note *n = &r->notes[r->nnotes++];
	snprintf(n->site, sizeof n->site, "%s", site);
	n->seq = seq;
	snprintf(n->reason, sizeof n->reason, "%s", reason);
}

void plein_ingest_report_free(plein_ingest_report *r)
{
	free(r->notes);
	memset(r, 0, sizeof *r);
}

/* Refusals are kept where people and 'plein status' can see them. */
void plein_ingest_log_rejection(plein_site *s, const char *site, uint64_t seq, const char *reason)
{
	sqlite3_stmt *st = plein_db_stmt(s->db,
		"INSERT INTO plein_rejected(at, site, seq, reason) VALUES (strftime('%Y-%m-%dT%H:%M:%SZ','now'), ?1, ?2, ?3)");
	if (!st)
		return;
	sqlite3_bind_text(st, 1, site, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, (int64_t)seq);
	sqlite3_bind_text(st, 3, reason, -1, SQLITE_TRANSIENT);
	plein_db_step_done(s->db, st);
}

/* The hash of batch seq of a site's verified chain (zero for seq 0). */
static int chain_hash(plein_site *s, const char *site, uint64_t seq, unsigned char out[PLEIN_BATCH_HASH_BYTES])
{
	memset(out, 0, PLEIN_BATCH_HASH_BYTES);
	if (seq == 0)
		return 0;
	plein_log_entry e;
	memset(&e, 0, sizeof e);
	int rc = plein_log_read(&e, s->log, site, seq);
	if (rc == 0 && (e.header.len != PLEIN_BATCH_HEADER_BYTES || e.sig.len != PLEIN_BATCH_SIG_BYTES))
		rc = plein_fail(PLEIN_ERR, "log.git: batch %" PRIu64 " of %s is damaged", seq, site);
	if (rc == 0)
		plein_batch_hash(out, e.header.data, e.sig.data);
	plein_log_entry_free(&e);
	return rc;
}

/* Check one batch that would follow prev_hash as number `seq` of `site`.
 * Returns a verdict; the reason is in plein_error(). */
static int judge(plein_site *s, const plein_log_entry *e, const char *site, uint64_t seq,
		 const unsigned char prev_hash[PLEIN_BATCH_HASH_BYTES], unsigned char out_hash[PLEIN_BATCH_HASH_BYTES])
{
	plein_batch_header h;
	char signer[PLEIN_SITEID_LEN + 1];
	unsigned char network[16], admin[32];
	if (e->header.len != PLEIN_BATCH_HEADER_BYTES || e->sig.len != PLEIN_BATCH_SIG_BYTES) {
		plein_fail(PLEIN_EREJECT, "the batch's header or signature has the wrong size");
		return VERDICT_REJECT;
	}
	if (plein_batch_verify(&h, e->header.data, e->header.len, e->sig.data) < 0)
		return VERDICT_REJECT; /* bad signature or structure: message set */
	plein_siteid_from_key(signer, h.site_pk);
	if (strcmp(signer, site) != 0) {
		plein_fail(PLEIN_EREJECT, "a batch signed by %s was filed under site %s (replayed under another site)", signer, site);
		return VERDICT_REJECT;
	}
	if (plein_site_network_id(s, network) < 0 || memcmp(network, h.network_id, 16) != 0) {
		plein_fail(PLEIN_EREJECT, "the batch belongs to another network");
		return VERDICT_REJECT;
	}
	if (h.seq != seq || memcmp(h.prev_hash, prev_hash, PLEIN_BATCH_HASH_BYTES) != 0) {
		plein_fail(PLEIN_EREJECT, "a gap in the chain: batch %" PRIu64 " does not follow batch %" PRIu64 " of this site",
			   h.seq, seq - 1);
		return VERDICT_REJECT;
	}
	if (h.schema_version > plein_schema_version()) {
		plein_fail(PLEIN_EREJECT, "written by a newer plein (schema version %d, this plein knows %d); upgrade plein here",
			   h.schema_version, plein_schema_version());
		return VERDICT_REJECT;
	}
	int64_t ignored;
	if (plein_hlc_receive(&ignored, 0, h.hlc_max, plein_now_ms(), PLEIN_HLC_MAX_AHEAD_MS) < 0)
		return VERDICT_REJECT;
	int rc = plein_roster_check(s, h.site_pk, h.seq);
	if (rc == PLEIN_ENOTFOUND)
		return VERDICT_HOLD;
	if (rc < 0)
		return VERDICT_REJECT;
	/* The payload must decode (hash, length, grammar), and only the admin
	 * may change the roster and the network's name. */
	plein_batch *b = NULL;
	if (plein_batch_open(&b, &h, e->payload.data, e->payload.len,
			     e->has_personal ? e->personal.data : NULL, e->has_personal ? e->personal.len : 0) < 0)
		return VERDICT_REJECT;
	/* Read a part at a time (a large batch need not be held whole); the
	 * whole payload decodes before the roster rule is looked at. */
	int is_admin = plein_roster_admin(s, admin) == 0 && memcmp(admin, h.site_pk, 32) == 0;
	int verdict = VERDICT_OK, admin_only = 0, more;
	while ((more = plein_batch_next(b, PLEIN_BATCH_PART)) > 0)
		for (size_t i = 0; i < b->n && !is_admin && !admin_only; i++)
			admin_only = plein_roster_admin_only(s, b->changes[i].tid) != 0;
	if (more < 0) {
		verdict = VERDICT_REJECT; /* the decoder's message */
	} else if (admin_only) {
		plein_fail(PLEIN_EREJECT, "only the coordinator may change the roster or the network's name");
		verdict = VERDICT_REJECT;
	}
	plein_batch_free(b);
	if (verdict == VERDICT_OK)
		plein_batch_hash(out_hash, e->header.data, e->sig.data);
	return verdict;
}

/* Where an incoming chain first differs from ours: keep it as a proof. */
static void keep_fork(plein_site *s, plein_ingest_report *r, const plein_log_ref *in, uint64_t our_tip)
{
	uint64_t upto = in->seq < our_tip ? in->seq : our_tip;
	for (uint64_t seq = 1; seq <= upto; seq++) {
		char ours[PLEIN_LOG_OID_HEX + 1], theirs[PLEIN_LOG_OID_HEX + 1];
		if (plein_log_commit_at(ours, s->log, in->site, seq) < 0 ||
		    plein_log_commit_at(theirs, s->log, in->name, seq) < 0 || strcmp(ours, theirs) == 0)
			continue;
		plein_log_entry e;
		memset(&e, 0, sizeof e);
		if (plein_log_read(&e, s->log, in->name, seq) == 0) {
			plein_log_batch lb;
			plein_log_batch_of(&lb, &e);
			unsigned n = 0;
			int rc = plein_log_fork_keep(&n, s->log, &lb);
			if (rc == 0) {
				char reason[300];
				snprintf(reason, sizeof reason,
					 "site %s signed two different batches number %" PRIu64 " (a restored backup or a copied disk?): "
					 "the second is kept as proof and refused; tell the operator of that site",
					 in->site, seq);
				note(r, in->site, seq, reason);
				plein_ingest_log_rejection(s, in->site, seq, reason);
				r->forks++;
			}
		}
		plein_log_entry_free(&e);
		return;
	}
}

/* Verify the batches of one incoming chain beyond our tip and adopt the
 * longest verified prefix; hold or refuse the rest. */
static int ingest_chain(plein_site *s, plein_ingest_report *r, const plein_log_ref *in)
{
	plein_log_ref tip;
	int rc = plein_log_tip(&tip, s->log, in->site);
	if (rc < 0)
		return rc;
	if (in->seq <= tip.seq) {
		/* Nothing new, unless the remote's chain is another history. */
		char ours[PLEIN_LOG_OID_HEX + 1];
		if (in->seq > 0 && plein_log_commit_at(ours, s->log, in->site, in->seq) == 0 && strcmp(ours, in->commit) != 0)
			keep_fork(s, r, in, tip.seq);
		return 0;
	}
	/* The incoming chain must contain ours. */
	if (tip.seq > 0) {
		char theirs[PLEIN_LOG_OID_HEX + 1];
		if (plein_log_commit_at(theirs, s->log, in->name, tip.seq) < 0 || strcmp(theirs, tip.commit) != 0) {
			keep_fork(s, r, in, tip.seq);
			return 0;
		}
	}
	unsigned char prev[PLEIN_BATCH_HASH_BYTES], next[PLEIN_BATCH_HASH_BYTES];
	if ((rc = chain_hash(s, in->site, tip.seq, prev)) < 0)
		return rc;
	uint64_t good = tip.seq;
	int stop = 0;
	for (uint64_t seq = tip.seq + 1; seq <= in->seq; seq++) {
		plein_log_entry e;
		memset(&e, 0, sizeof e);
		rc = plein_log_read(&e, s->log, in->name, seq);
		if (rc < 0) {
			char reason[300];
			snprintf(reason, sizeof reason, "unreadable batch: %s", plein_error());
			note(r, in->site, seq, reason);
			plein_ingest_log_rejection(s, in->site, seq, reason);
			r->rejected++;
			plein_log_entry_free(&e);
			rc = 0;
			break;
		}
		int verdict = judge(s, &e, in->site, seq, prev, next);
		if (verdict == VERDICT_OK) {
			memcpy(prev, next, sizeof prev);
			good = seq;
			if ((stop = plein_site_progress(s)) < 0) {
				plein_log_entry_free(&e);
				break; /* what was verified is adopted below */
			}
		} else if (verdict == VERDICT_HOLD) {
			/* Hold this batch and the rest of the chain until admitted. */
			for (uint64_t k = seq; k <= in->seq; k++) {
				plein_log_entry h;
				memset(&h, 0, sizeof h);
				if (k == seq || plein_log_read(&h, s->log, in->name, k) == 0) {
					plein_log_batch lb;
					plein_log_batch_of(&lb, k == seq ? &e : &h);
					if (plein_log_hold(s->log, &lb) == 0)
						r->held++;
				}
				plein_log_entry_free(&h);
			}
			note(r, in->site, seq, plein_error());
			plein_log_entry_free(&e);
			break;
		} else {
			char reason[300];
			snprintf(reason, sizeof reason, "%s", plein_error());
			note(r, in->site, seq, reason);
			plein_ingest_log_rejection(s, in->site, seq, reason);
			r->rejected++;
			plein_log_entry_free(&e);
			break;
		}
		plein_log_entry_free(&e);
	}
	if (good > tip.seq) {
		rc = plein_log_adopt(s->log, in->site, in->name, good);
		if (rc >= 0) {
			r->accepted += good - tip.seq;
			rc = 0;
		}
	}
	return rc < 0 ? rc : stop;
}

/* Held batches whose signer is admitted now and that continue a chain. */
static int release_held(plein_site *s, plein_ingest_report *r, int *progress)
{
	plein_log_ref *held = NULL;
	size_t n = 0;
	*progress = 0;
	int rc = plein_log_held(&held, &n, s->log);
	for (size_t i = 0; i < n && rc == 0; i++) {
		plein_log_ref tip;
		if ((rc = plein_log_tip(&tip, s->log, held[i].site)) < 0)
			break;
		if (held[i].seq <= tip.seq) { /* arrived another way */
			plein_log_unhold(s->log, held[i].site, held[i].seq);
			continue;
		}
		if (held[i].seq != tip.seq + 1)
			continue;
		plein_log_entry e;
		memset(&e, 0, sizeof e);
		unsigned char prev[PLEIN_BATCH_HASH_BYTES], next[PLEIN_BATCH_HASH_BYTES];
		if ((rc = plein_log_read(&e, s->log, held[i].name, 0)) == 0 &&
		    (rc = chain_hash(s, held[i].site, tip.seq, prev)) == 0) {
			int verdict = judge(s, &e, held[i].site, held[i].seq, prev, next);
			if (verdict == VERDICT_OK) {
				plein_log_batch lb;
				plein_log_batch_of(&lb, &e);
				lb.parent = tip.seq ? tip.commit : "";
				rc = plein_log_append(s->log, &lb);
				if (rc >= 0) {
					rc = plein_log_unhold(s->log, held[i].site, held[i].seq);
					r->released++;
					if (r->held)
						r->held--;
					*progress = 1;
				}
			} else if (verdict == VERDICT_REJECT) {
				char reason[300];
				snprintf(reason, sizeof reason, "%s", plein_error());
				note(r, held[i].site, held[i].seq, reason);
				plein_ingest_log_rejection(s, held[i].site, held[i].seq, reason);
				r->rejected++;
				rc = plein_log_unhold(s->log, held[i].site, held[i].seq);
			}
		}
		plein_log_entry_free(&e);
	}
	free(held);
	return rc;
}

int plein_ingest(plein_ingest_report *out, plein_site *s, const char *key)
{
	memset(out, 0, sizeof *out);
	if (!plein_site_log(s))
		return plein_error_code() ? plein_error_code() : PLEIN_ERR;
	plein_log_ref *in = NULL;
	size_t n = 0;
	unsigned char admin[32];
	char admin_id[PLEIN_SITEID_LEN + 1] = "";
	if (plein_roster_admin(s, admin) == 0)
		plein_siteid_from_key(admin_id, admin);
	int rc = plein_log_incoming(&in, &n, s->log, key);
	/* The admin's chain first: it carries the roster the rest is judged by. */
	for (int pass = 0; pass < 2 && rc == 0; pass++) {
		for (size_t i = 0; i < n && rc == 0; i++)
			if ((strcmp(in[i].site, admin_id) == 0) == (pass == 0))
				rc = ingest_chain(s, out, &in[i]);
		/* Personal parts of what was adopted or held, before applying. */
		if (rc == 0)
			rc = plein_erase_accept(s, key, 0);
		if (rc == 0)
			rc = plein_journal_catch_up(s, NULL);
	}
	/* Admissions may have arrived: release held batches until none moves. */
	for (int progress = 1; progress && rc == 0;) {
		rc = release_held(s, out, &progress);
		if (rc == 0 && progress)
			rc = plein_journal_catch_up(s, NULL);
	}
	for (size_t i = 0; i < n && rc == 0; i++)
		plein_log_incoming_drop(s->log, key ? key : in[i].key, in[i].site);
	/* Erasures that arrived are carried out at once (docs/erasure.md). */
	if (rc == 0)
		rc = plein_erase_accept(s, key, 1);
	if (rc == 0)
		rc = plein_erase_apply(s, NULL);
	free(in);
	return rc;
}
