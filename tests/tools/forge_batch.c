/* forge_batch: make a batch — a good one, or one with exactly one thing
 * wrong — and store it in a bare relay repository, for the rejection
 * tests (tests/e2e/sync_reject.sh). It is linked against the plein
 * library and signs with a site's own key, so every bad batch it makes
 * differs from a good one only in the defect asked for.
 *
 *   forge_batch -C SITE --relay REPO [options]
 *
 * The batch inserts one daylog row (all columns; text from --text) and
 * prints that row's id. Options:
 *   --text TEXT        the row's text (default "vervalst")
 *   --seq N            the header's sequence number (default: the tip of the
 *                      signer's chain in the relay + 1)
 *   --log-seq N        the sequence number it is filed under in the relay
 *                      (default: --seq); differing from --seq makes a gap
 *   --prev chain|zero|random   previous-batch hash: that of batch seq-1 of
 *                      the signer's chain in the relay (default), zeros or
 *                      random bytes
 *   --ahead-ms MS      the changes' clock: now + MS (default 0)
 *   --newer-schema     schema version one above this plein's
 *   --network random   another network id than the site's
 *   --sign-with DIR    sign the header with another site's key
 *   --tamper header|payload|sig   flip one byte after signing
 *   --copy SEQ         store batch SEQ of the signer's chain in the relay as
 *                      it is, instead of forging one (with --as: a replay)
 *   --as SITE_ID       file the batch under this site's ref
 * Exit status 0 when stored, 2 on any failure (message on stderr). */
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plein/batch.h"
#include "plein/buf.h"
#include "plein/clock.h"
#include "plein/error.h"
#include "plein/id.h"
#include "plein/log.h"
#include "plein/schema.h"
#include "plein/site.h"
#include "plein/siteid.h"

struct opts {
	const char *dir, *relay, *text, *prev, *network, *sign_with, *tamper, *as;
	uint64_t seq, log_seq, copy;
	int64_t ahead_ms;
	int newer_schema;
};

static int usage(void)
{
	fprintf(stderr, "usage: forge_batch -C SITE --relay REPO [--text T] [--seq N] [--log-seq N]\n"
			"  [--prev chain|zero|random] [--ahead-ms MS] [--newer-schema] [--network random]\n"
			"  [--sign-with DIR] [--tamper header|payload|sig] [--copy SEQ] [--as SITE_ID]\n");
	return 2;
}

static int parse_u64(uint64_t *out, const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (!*s || *end)
		return -1;
	*out = v;
	return 0;
}

static int parse_args(struct opts *o, int argc, char **argv)
{
	memset(o, 0, sizeof *o);
	o->text = "vervalst";
	o->prev = "chain";
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--newer-schema") == 0) {
			o->newer_schema = 1;
			continue;
		}
		if (!v)
			return -1;
		i++;
		uint64_t n = 0;
		if (strcmp(a, "-C") == 0)
			o->dir = v;
		else if (strcmp(a, "--relay") == 0)
			o->relay = v;
		else if (strcmp(a, "--text") == 0)
			o->text = v;
		else if (strcmp(a, "--prev") == 0)
			o->prev = v;
		else if (strcmp(a, "--network") == 0)
			o->network = v;
		else if (strcmp(a, "--sign-with") == 0)
			o->sign_with = v;
		else if (strcmp(a, "--tamper") == 0)
			o->tamper = v;
		else if (strcmp(a, "--as") == 0)
			o->as = v;
		else if (strcmp(a, "--seq") == 0 && parse_u64(&n, v) == 0 && n > 0)
			o->seq = n;
		else if (strcmp(a, "--log-seq") == 0 && parse_u64(&n, v) == 0 && n > 0)
			o->log_seq = n;
		else if (strcmp(a, "--copy") == 0 && parse_u64(&n, v) == 0 && n > 0)
			o->copy = n;
		else if (strcmp(a, "--ahead-ms") == 0)
			o->ahead_ms = strtoll(v, NULL, 10);
		else
			return -1;
	}
	return o->dir && o->relay ? 0 : -1;
}

/* The batch hash of batch seq of a chain in the relay. */
static int hash_of(unsigned char out[PLEIN_BATCH_HASH_BYTES], plein_log *log, const char *site, uint64_t seq)
{
	plein_log_entry e;
	memset(&e, 0, sizeof e);
	int rc = plein_log_read(&e, log, site, seq);
	if (rc == 0 && (e.header.len != PLEIN_BATCH_HEADER_BYTES || e.sig.len != PLEIN_BATCH_SIG_BYTES))
		rc = plein_fail(PLEIN_ERR, "batch %" PRIu64 " of %s in the relay is not a batch", seq, site);
	if (rc == 0)
		plein_batch_hash(out, e.header.data, e.sig.data);
	plein_log_entry_free(&e);
	return rc;
}

/* One daylog row, every column: a new row life (cl 1). */
static int make_changes(plein_changeset *cs, plein_site *s, const char *row, const char *text, int64_t hlc)
{
	const plein_table *t = plein_schema_table(s->schema, "daylog");
	if (!t)
		return plein_fail(PLEIN_ERR, "the schema has no daylog table");
	plein_change c = { .tid = t->tid, .id = row, .id_len = strlen(row), .cl = 1, .cid = PLEIN_CID_ROW, .hlc = hlc };
	plein_changeset_add(cs, &c);
	for (int i = 0; i < t->ncols; i++) {
		const char *v = strcmp(t->cols[i].name, "text") == 0 ? text :
				strcmp(t->cols[i].name, "author") == 0 ? "forge_batch" : NULL;
		c.cid = t->cols[i].cid;
		c.value.type = v ? PLEIN_V_TEXT : PLEIN_V_NULL;
		c.value.p = (const unsigned char *)v;
		c.value.n = v ? strlen(v) : 0;
		plein_changeset_add(cs, &c);
	}
	return 0;
}

static void flip(plein_buf *b, size_t at)
{
	if (b->len)
		b->data[at % b->len] ^= 0x01;
}

int main(int argc, char **argv)
{
	struct opts o;
	if (parse_args(&o, argc, argv) < 0)
		return usage();
	if (sodium_init() < 0)
		return 2;
	plein_site *s = NULL, *other = NULL;
	plein_log *log = NULL;
	plein_changeset cs = PLEIN_CHANGESET_INIT;
	plein_buf header = PLEIN_BUF_INIT, sig = PLEIN_BUF_INIT, payload = PLEIN_BUF_INIT, personal = PLEIN_BUF_INIT;
	plein_log_entry copied;
	memset(&copied, 0, sizeof copied);
	char row[PLEIN_ID_LEN + 1] = "", summary[PLEIN_LOG_MAX_SUMMARY + 1] = "";
	int rc;
	if ((rc = plein_site_open(&s, o.dir)) < 0 || (rc = plein_log_open(&log, o.relay, 1)) < 0)
		goto out;
	const char *file_under = o.as ? o.as : s->id;
	plein_log_ref tip;
	if ((rc = plein_log_tip(&tip, log, file_under)) < 0)
		goto out;
	uint64_t seq = 0, log_seq = 0;
	int64_t time = 0;

	if (o.copy) {
		if ((rc = plein_log_read(&copied, log, s->id, o.copy)) < 0)
			goto out;
		plein_buf_put(&header, copied.header.data, copied.header.len);
		plein_buf_put(&sig, copied.sig.data, copied.sig.len);
		plein_buf_put(&payload, copied.payload.data, copied.payload.len);
		if (copied.has_personal)
			plein_buf_put(&personal, copied.personal.data, copied.personal.len);
		snprintf(summary, sizeof summary, "%s", copied.summary);
		seq = copied.seq;
		log_seq = o.log_seq ? o.log_seq : tip.seq + 1;
		time = copied.time;
	} else {
		plein_log_ref own;
		if ((rc = plein_log_tip(&own, log, s->id)) < 0)
			goto out;
		seq = o.seq ? o.seq : own.seq + 1;
		log_seq = o.log_seq ? o.log_seq : (o.as ? tip.seq + 1 : seq);
		plein_batch_header h;
		memset(&h, 0, sizeof h);
		if ((rc = plein_site_network_id(s, h.network_id)) < 0)
			goto out;
		if (o.network)
			randombytes_buf(h.network_id, sizeof h.network_id);
		memcpy(h.site_pk, s->pk, 32);
		h.seq = seq;
		h.schema_version = plein_schema_version() + (o.newer_schema ? 1 : 0);
		if (strcmp(o.prev, "random") == 0)
			randombytes_buf(h.prev_hash, sizeof h.prev_hash);
		else if (strcmp(o.prev, "chain") == 0 && seq > 1 && (rc = hash_of(h.prev_hash, log, s->id, seq - 1)) < 0)
			goto out;
		plein_id_new(row);
		int64_t hlc = plein_hlc_from_ms(plein_now_ms() + o.ahead_ms);
		if ((rc = make_changes(&cs, s, row, o.text, hlc)) < 0 ||
		    (rc = plein_batch_encode(&h, &payload, &personal, NULL, 0, cs.v, cs.n, 1, NULL)) < 0)
			goto out;
		unsigned char hb[PLEIN_BATCH_HEADER_BYTES], sb[PLEIN_BATCH_SIG_BYTES];
		if ((rc = plein_batch_seal(hb, sb, &h, s->sk)) < 0)
			goto out;
		if (o.sign_with) {
			/* The header still names our site; another key signs it. */
			if ((rc = plein_site_open(&other, o.sign_with)) < 0)
				goto out;
			crypto_sign_detached(sb, NULL, hb, sizeof hb, other->sk);
		}
		plein_buf_put(&header, hb, sizeof hb);
		plein_buf_put(&sig, sb, sizeof sb);
		snprintf(summary, sizeof summary, "%zu changes", cs.n);
		time = (h.hlc_max >> 16) / 1000;
	}
	if (o.tamper) {
		if (strcmp(o.tamper, "header") == 0)
			flip(&header, 8); /* the network id: structure intact, signature not */
		else if (strcmp(o.tamper, "payload") == 0)
			flip(&payload, payload.len / 2);
		else if (strcmp(o.tamper, "sig") == 0)
			flip(&sig, 10);
		else {
			rc = plein_fail(PLEIN_EINVAL, "--tamper takes header, payload or sig");
			goto out;
		}
	}
	plein_log_batch lb = {
		.site = file_under, .seq = log_seq, .time = time, .summary = summary[0] ? summary : NULL,
		.header = header.data, .header_len = header.len, .sig = sig.data,
		.payload = payload.data, .payload_len = payload.len,
		.personal = personal.len ? personal.data : NULL, .personal_len = personal.len,
	};
	rc = plein_log_append(log, &lb);
	if (rc == PLEIN_LOG_SAME)
		rc = plein_fail(PLEIN_ERR, "the relay already holds exactly this batch");
	else if (rc == PLEIN_LOG_EGAP || rc == PLEIN_LOG_EFORK)
		rc = plein_fail(PLEIN_ERR, "the relay refused batch %" PRIu64 " under %s (%s)", log_seq, file_under,
				rc == PLEIN_LOG_EGAP ? "a gap" : "another batch has that number");
	if (rc == 0)
		printf("%s\n", o.copy ? "copied" : row);
out:
	if (rc < 0)
		fprintf(stderr, "forge_batch: %s\n", plein_error());
	plein_log_entry_free(&copied);
	plein_changeset_free(&cs);
	plein_buf_free(&header);
	plein_buf_free(&sig);
	plein_buf_free(&payload);
	plein_buf_free(&personal);
	plein_log_close(log);
	plein_site_close(other);
	plein_site_close(s);
	return rc < 0 ? 2 : 0;
}
