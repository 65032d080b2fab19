/* Personal parts between replicas (design §8, docs/erasure.md): a
 * personal part only ever shrinks. Two copies of one batch's part are
 * merged entry by entry — a value stays only where both still hold it —
 * so a purge made anywhere is never undone by a copy that missed it.
 * This needs no key, no payload and no SQL: the entries' framing is
 * enough (docs/batch-format.md, "Personal part"). */
#include "plein/personal.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "plein/batch.h"
#include "plein/error.h"

#define P_PURGED 0
#define P_PRESENT 1

/* Inflate a stored personal part, bounded like plein_batch_decode. */
static int inflate_part(plein_buf *out, const unsigned char *p, size_t n)
{
	z_stream z;
	unsigned char chunk[16384];
	uint64_t limit = (uint64_t)n * 1032u;
	int zr;
	if (n == 0)
		return 0;
	if (limit > PLEIN_BATCH_MAX_RAW)
		limit = PLEIN_BATCH_MAX_RAW;
	memset(&z, 0, sizeof z);
	if (inflateInit(&z) != Z_OK)
		return plein_fail(PLEIN_ERR, "zlib could not start");
	z.next_in = (unsigned char *)p;
	z.avail_in = (uInt)n;
	do {
		z.next_out = chunk;
		z.avail_out = sizeof chunk;
		zr = inflate(&z, Z_NO_FLUSH);
		if (zr != Z_OK && zr != Z_STREAM_END)
			break;
		plein_buf_put(out, chunk, sizeof chunk - z.avail_out);
		if (out->len > limit)
			break;
	} while (zr != Z_STREAM_END);
	int bad = zr != Z_STREAM_END || out->len > limit || z.avail_in != 0;
	inflateEnd(&z);
	return bad ? plein_fail(PLEIN_EREJECT, "a personal part is not a valid zlib stream of at most %llu bytes",
				(unsigned long long)limit) : 0;
}

static int varint_len(const unsigned char *p, size_t n, size_t at, uint64_t *v, size_t *len)
{
	*v = 0;
	for (size_t i = 0; i < 10 && at + i < n; i++) {
		*v |= (uint64_t)(p[at + i] & 0x7f) << (7 * i);
		if (!(p[at + i] & 0x80)) {
			*len = i + 1;
			return 0;
		}
	}
	return -1;
}

/* The length of the entry at raw[at], or -1 when it does not parse. */
static int entry_len(size_t *out, const unsigned char *raw, size_t n, size_t at)
{
	uint64_t v;
	size_t l;
	if (at >= n)
		return -1;
	if (raw[at] == P_PURGED) {
		*out = 1;
		return 0;
	}
	if (raw[at] != P_PRESENT || n - at < 2 + PLEIN_BATCH_SALT_BYTES)
		return -1;
	size_t t = at + 1 + PLEIN_BATCH_SALT_BYTES, body = t + 1;
	switch (raw[t]) {
	case 0: l = 0; break;
	case 1: if (varint_len(raw, n, body, &v, &l) < 0) return -1; break;
	case 2: l = 8; break;
	case 3: case 4:
		if (varint_len(raw, n, body, &v, &l) < 0 || v > n)
			return -1;
		l += (size_t)v;
		break;
	default: return -1;
	}
	if (l > n - body)
		return -1;
	*out = body + l - at;
	return 0;
}

int plein_personal_intersect(plein_buf *out, int *out_same_a, int *out_same_b,
			     const unsigned char *a, size_t na, const unsigned char *b, size_t nb)
{
	plein_buf ra = PLEIN_BUF_INIT, rb = PLEIN_BUF_INIT, m = PLEIN_BUF_INIT;
	int rc, kept = 0, lost_a = 0, lost_b = 0;
	*out_same_a = *out_same_b = 0;
	if ((rc = inflate_part(&ra, a, na)) < 0 || (rc = inflate_part(&rb, b, nb)) < 0)
		goto done;
	if (ra.len == 0 || rb.len == 0) { /* purged entirely on one side */
		*out_same_a = ra.len == 0;
		*out_same_b = rb.len == 0;
		goto done;
	}
	size_t ia = 0, ib = 0;
	while (ia < ra.len && ib < rb.len) {
		size_t la, lb;
		if (entry_len(&la, ra.data, ra.len, ia) < 0 || entry_len(&lb, rb.data, rb.len, ib) < 0) {
			rc = plein_fail(PLEIN_EREJECT, "a personal part has a malformed entry");
			goto done;
		}
		int pa = ra.data[ia] == P_PRESENT, pb = rb.data[ib] == P_PRESENT;
		if (pa && pb && (la != lb || memcmp(ra.data + ia, rb.data + ib, la) != 0)) {
			rc = plein_fail(PLEIN_EREJECT, "two copies of one personal part hold different values");
			goto done;
		}
		if (pa && pb) {
			plein_buf_put(&m, ra.data + ia, la);
			kept++;
		} else {
			plein_buf_putc(&m, P_PURGED);
			lost_a += pa;
			lost_b += pb;
		}
		ia += la;
		ib += lb;
	}
	if (ia != ra.len || ib != rb.len) {
		rc = plein_fail(PLEIN_EREJECT, "two copies of one personal part have different numbers of values");
		goto done;
	}
	*out_same_a = !lost_a;
	*out_same_b = !lost_b;
	if (kept && (lost_a || lost_b)) {
		uLongf cap = compressBound((uLong)m.len);
		plein_buf_grow(out, cap);
		if (compress2(out->data + out->len, &cap, m.data, (uLong)m.len, 1) != Z_OK) {
			rc = plein_fail(PLEIN_ERR, "zlib could not compress a personal part");
			goto done;
		}
		out->len += cap;
	}
done:
	plein_buf_free(&ra);
	plein_buf_free(&rb);
	plein_buf_free(&m);
	return rc;
}

/* The merged part of ours and theirs, stored as ours when it is smaller.
 * *out_push: whether the remote needs ours (it holds a value we purged). */
static int reconcile_one(int *out_push, plein_log *log, const plein_log_personal *ours, const char *theirs,
			 char (**gone)[PLEIN_LOG_OID_HEX + 1], size_t *ngone)
{
	plein_buf a = PLEIN_BUF_INIT, b = PLEIN_BUF_INIT, m = PLEIN_BUF_INIT;
	int same_a = 0, same_b = 0;
	*out_push = 0;
	int rc = plein_log_blob_read(&a, log, ours->blob);
	if (rc == 0 && plein_log_blob_read(&b, log, theirs) < 0) {
		plein_error_clear();
		/* Their commit is here but its part is gone: we purged that very
		 * version (the bytes were pruned), so ours is the smaller one.
		 * Not here at all: not fetched (a push-only sync), send nothing. */
		*out_push = plein_log_has(log, theirs);
		goto done;
	}
	if (rc == 0 && plein_personal_intersect(&m, &same_a, &same_b, a.data, a.len, b.data, b.len) < 0) {
		plein_error_clear(); /* not the same batch's part: leave both alone */
		goto done;
	}
	if (rc == 0 && !same_a) { /* the remote purged values we still hold */
		char nb[PLEIN_LOG_OID_HEX + 1];
		rc = plein_log_personal_set(nb, log, ours->site, ours->seq, ours->header, m.data, m.len, ours->blob);
		if (rc == 0) {
			*gone = plein_xrealloc(*gone, (*ngone + 1) * sizeof **gone);
			memcpy((*gone)[(*ngone)++], ours->blob, PLEIN_LOG_OID_HEX + 1);
		}
	}
	if (rc == 0)
		*out_push = !same_b;
done:
	plein_buf_free(&a);
	plein_buf_free(&b);
	plein_buf_free(&m);
	return rc;
}

int plein_personal_reconcile(char ***out_push, size_t *out_n, plein_log *log,
			     const plein_personal_head *remote, size_t nremote)
{
	plein_log_personal *mine = NULL;
	size_t n = 0, ngone = 0, npush = 0;
	char (*gone)[PLEIN_LOG_OID_HEX + 1] = NULL;
	char **push = NULL;
	*out_push = NULL;
	*out_n = 0;
	int rc = plein_log_personals(&mine, &n, log, NULL);
	for (size_t i = 0; i < n && rc == 0; i++) {
		const char *theirs = NULL;
		for (size_t k = 0; k < nremote && !theirs; k++)
			if (strcmp(remote[k].name, mine[i].name) == 0)
				theirs = remote[k].commit;
		int send = !theirs;
		if (theirs && strcmp(theirs, mine[i].commit) != 0)
			rc = reconcile_one(&send, log, &mine[i], theirs, &gone, &ngone);
		if (rc == 0 && send) {
			push = plein_xrealloc(push, (npush + 1) * sizeof *push);
			push[npush++] = plein_xstrdup(mine[i].name);
		}
	}
	if (rc == 0 && ngone)
		rc = plein_log_prune(NULL, log, (const char (*)[PLEIN_LOG_OID_HEX + 1])gone, ngone);
	free(gone);
	free(mine);
	if (rc < 0) {
		for (size_t i = 0; i < npush; i++)
			free(push[i]);
		free(push);
		return rc;
	}
	*out_push = push;
	*out_n = npush;
	return 0;
}

int plein_personal_prune_relay(const char *path, const plein_personal_head *before, size_t nbefore,
			       char *const *pushed, size_t npushed)
{
	plein_log *relay = NULL;
	char (*gone)[PLEIN_LOG_OID_HEX + 1] = NULL;
	size_t ngone = 0;
	int rc = plein_log_open(&relay, path, 0);
	if (rc < 0) { /* not a bare repository: git does not let us in */
		plein_error_clear();
		return 0;
	}
	for (size_t i = 0; i < npushed; i++) {
		const char *name = pushed[i][0] == '+' ? pushed[i] + 1 : pushed[i];
		for (size_t k = 0; k < nbefore; k++) {
			char blob[PLEIN_LOG_OID_HEX + 1];
			size_t len = strlen(before[k].name);
			if (strncmp(name, before[k].name, len) != 0 || name[len] != ':')
				continue;
			if (plein_log_personal_blob(blob, relay, before[k].commit) == 0) {
				gone = plein_xrealloc(gone, (ngone + 1) * sizeof *gone);
				memcpy(gone[ngone++], blob, sizeof blob);
			}
			plein_error_clear();
		}
	}
	if (ngone)
		rc = plein_log_prune(NULL, relay, (const char (*)[PLEIN_LOG_OID_HEX + 1])gone, ngone);
	free(gone);
	plein_log_close(relay);
	return rc;
}
