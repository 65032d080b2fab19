/* Batches received over TCP: kept in memory one chunk at a time, stored
 * onto refs/plein/incoming/tcp-<peer>/<site>, then verified and applied by
 * plein_ingest. Each chunk is adopted before the next is read, so an
 * interrupted transfer resumes at the next session from what was adopted
 * (our version vector says so). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plein/batch.h"
#include "plein/error.h"
#include "tcp_int.h"

void tcp_recv_init(tcp_recv *r, const char *peer_id, size_t max_n, size_t max_bytes)
{
	memset(r, 0, sizeof *r);
	r->max_n = max_n;
	r->max_bytes = max_bytes;
	snprintf(r->key, sizeof r->key, "tcp-%s", peer_id);
}

int tcp_recv_take(tcp_recv *r, plein_site *s, plein_buf *rec)
{
	plein_msg_record m;
	int rc = plein_msg_record_decode(&m, rec->data, rec->len);
	if (rc < 0)
		return rc;
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 64;
		r->raw = plein_xrealloc(r->raw, r->cap * sizeof *r->raw);
	}
	r->raw[r->n++] = *rec;
	r->bytes += rec->len;
	r->received++;
	memset(rec, 0, sizeof *rec);
	if (r->n >= r->max_n || r->bytes >= r->max_bytes)
		return tcp_recv_flush(r, s);
	return 0;
}

static void add_report(plein_ingest_report *sum, plein_ingest_report *part)
{
	sum->accepted += part->accepted;
	sum->held += part->held;
	sum->released += part->released;
	sum->rejected += part->rejected;
	sum->forks += part->forks;
	if (part->nnotes) {
		sum->notes = plein_xrealloc(sum->notes, (sum->nnotes + part->nnotes) * sizeof *sum->notes);
		memcpy(sum->notes + sum->nnotes, part->notes, part->nnotes * sizeof *part->notes);
		sum->nnotes += part->nnotes;
	}
	plein_ingest_report_free(part);
}

static void note(plein_ingest_report *rep, const char *site, uint64_t seq, const char *why)
{
	rep->notes = plein_xrealloc(rep->notes, (rep->nnotes + 1) * sizeof *rep->notes);
	plein_ingest_note *n = &rep->notes[rep->nnotes++];
	snprintf(n->site, sizeof n->site, "%s", site);
	n->seq = seq;
	snprintf(n->reason, sizeof n->reason, "%s", why);
}

/* The text git sync and TCP give a fork (docs/sync.md "Forks"). */
static void fork_note(tcp_recv *r, const char *site, uint64_t seq, const char *what)
{
	char why[300];
	snprintf(why, sizeof why, "site %s signed two different batches number %" PRIu64
		 " (a restored backup or a copied disk?): %s; tell the operator of that site", site, seq, what);
	note(&r->rep, site, seq, why);
}

void tcp_recv_fork_sent(tcp_recv *r, const char *site, uint64_t seq)
{
	fork_note(r, site, seq, "the peer holds the other one and keeps ours as proof");
	r->rep.rejected++;
}

/* Is batch seq - 1 of site held (waiting for its signer's admission)? */
static int predecessor_held(plein_site *s, const char *site, uint64_t seq)
{
	plein_log_ref *held = NULL;
	size_t n = 0;
	int found = 0;
	if (plein_log_held(&held, &n, s->log) < 0)
		return 0;
	for (size_t i = 0; i < n && !found; i++)
		found = strcmp(held[i].site, site) == 0 && held[i].seq + 1 == seq;
	free(held);
	return found;
}

/* Did the batch's site sign it, for this network? A fork proof names a
 * site as having signed two batches: only a real signature may say so. */
static int signed_here(plein_site *s, const plein_log_batch *b)
{
	plein_batch_header h;
	unsigned char network[16];
	if (b->header_len != PLEIN_BATCH_HEADER_BYTES) {
		plein_fail(PLEIN_EREJECT, "the batch's header has the wrong size");
		return 0;
	}
	if (plein_batch_verify(&h, b->header, b->header_len, b->sig) < 0)
		return 0; /* plein_error() says why */
	if (plein_site_network_id(s, network) < 0 || memcmp(network, h.network_id, sizeof network) != 0) {
		plein_fail(PLEIN_EREJECT, "the batch belongs to another network");
		return 0;
	}
	return 1;
}

/* A run that does not continue our chain. Held predecessors: hold these
 * too, ingest releases them in order. A fork: keep the proof. Otherwise
 * an earlier batch was refused: these cannot be used. */
static void off_chain(tcp_recv *r, plein_site *s, const plein_log_batch *b, size_t n, int why)
{
	if (why == PLEIN_LOG_EFORK) {
		for (size_t i = 0; i < n; i++) {
			plein_log_entry e;
			memset(&e, 0, sizeof e);
			int differs = plein_log_read(&e, s->log, b[i].site, b[i].seq) == 0 &&
				(e.header.len != b[i].header_len || memcmp(e.header.data, b[i].header, e.header.len) != 0);
			plein_log_entry_free(&e);
			if (differs && !signed_here(s, &b[i])) {
				char why_s[300];
				snprintf(why_s, sizeof why_s, "refused, not kept as a fork proof: %s", plein_error());
				note(&r->rep, b[i].site, b[i].seq, why_s);
				plein_ingest_log_rejection(s, b[i].site, b[i].seq, why_s);
				r->rep.rejected++;
				return;
			}
			unsigned k = 0;
			if (differs && plein_log_fork_keep(&k, s->log, &b[i]) == 0) {
				fork_note(r, b[i].site, b[i].seq, "the second is kept as proof and refused");
				/* Counted where 'plein status' sees it, as git sync does. */
				plein_ingest_log_rejection(s, b[i].site, b[i].seq, r->rep.notes[r->rep.nnotes - 1].reason);
				r->rep.forks++;
				return;
			}
		}
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (predecessor_held(s, b[i].site, b[i].seq)) {
			if (plein_log_hold(s->log, &b[i]) == 0)
				r->rep.held++;
			continue;
		}
		char why_s[300];
		snprintf(why_s, sizeof why_s, "batches %" PRIu64 " to %" PRIu64 " were not stored: %s",
			 b[i].seq, b[n - 1].seq, plein_error());
		note(&r->rep, b[i].site, b[i].seq, why_s);
		return;
	}
}

int tcp_recv_flush(tcp_recv *r, plein_site *s)
{
	if (r->n == 0)
		return 0;
	plein_msg_record *m = plein_xcalloc(r->n, sizeof *m);
	plein_log_batch *b = plein_xcalloc(r->n, sizeof *b);
	int rc = 0;
	for (size_t i = 0; i < r->n && rc == 0; i++) {
		rc = plein_msg_record_decode(&m[i], r->raw[i].data, r->raw[i].len);
		b[i] = m[i].b;
	}
	/* One site's run at a time, so one bad chain stops only itself. */
	for (size_t i = 0; i < r->n && rc == 0;) {
		size_t j = i + 1;
		while (j < r->n && strcmp(b[j].site, b[i].site) == 0)
			j++;
		size_t added = 0;
		int arc = plein_log_append_incoming(&added, s->log, r->key, b + i, j - i);
		if (arc == PLEIN_LOG_EGAP || arc == PLEIN_LOG_EFORK || arc == PLEIN_EREJECT) {
			/* A leftover of an interrupted session may be in the way. */
			plein_log_incoming_drop(s->log, r->key, b[i].site);
			arc = plein_log_append_incoming(&added, s->log, r->key, b + i, j - i);
		}
		if (arc == PLEIN_LOG_EGAP || arc == PLEIN_LOG_EFORK)
			off_chain(r, s, b + i, j - i, arc);
		else if (arc < 0)
			rc = arc;
		i = j;
	}
	/* The records are in log.git now, and ingest reads them from there:
	 * a chunk's bytes (up to chunk_bytes) are not held a second time
	 * while it verifies and applies them. */
	free(b);
	free(m);
	for (size_t i = 0; i < r->n; i++)
		plein_buf_free(&r->raw[i]);
	r->n = 0;
	r->bytes = 0;
	if (rc == 0) {
		plein_ingest_report part;
		rc = plein_ingest(&part, s, r->key);
		add_report(&r->rep, &part);
	}
	return rc;
}

void tcp_recv_free(tcp_recv *r)
{
	for (size_t i = 0; i < r->n; i++)
		plein_buf_free(&r->raw[i]);
	free(r->raw);
	plein_ingest_report_free(&r->rep);
	memset(r, 0, sizeof *r);
}
