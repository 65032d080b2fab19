/* Encoding and decoding of the session's messages (include/plein/tcpmsg.h). */
#include "plein/tcpmsg.h"

#include <stdlib.h>
#include <string.h>

#include "plein/batch.h"
#include "plein/error.h"
#include "plein/id.h"

/* A bounded reader over outside bytes. */
struct rd {
	const unsigned char *p;
	size_t left;
};

static int get_varint(struct rd *r, uint64_t *v)
{
	size_t used = plein_get_varint(r->p, r->left, v);
	if (!used)
		return -1;
	r->p += used;
	r->left -= used;
	return 0;
}

/* A varint length, then that many bytes (checked against max and what
 * remains). */
static int get_bytes(struct rd *r, const unsigned char **out, size_t *out_n, size_t max)
{
	uint64_t n;
	if (get_varint(r, &n) < 0 || n > max || n > r->left)
		return -1;
	*out = r->p;
	*out_n = (size_t)n;
	r->p += n;
	r->left -= (size_t)n;
	return 0;
}

static void put_bytes(plein_buf *out, const void *p, size_t n)
{
	plein_buf_put_varint(out, n);
	plein_buf_put(out, p, n);
}

int plein_msg_site_pack(unsigned char out[10], const char *site)
{
	char norm[PLEIN_SITEID_LEN + 1];
	if (plein_siteid_normalize(norm, site) < 0 || strcmp(norm, site) != 0 ||
	    plein_base32_decode(out, 10, site) != 10)
		return plein_fail(PLEIN_EINVAL, "'%s' is not a canonical site id", site);
	return 0;
}

void plein_msg_site_unpack(char out[PLEIN_SITEID_LEN + 1], const unsigned char in[10])
{
	unsigned char pk[32] = { 0 };
	memcpy(pk, in, 10);
	plein_siteid_from_key(out, pk);
}

int plein_msg_vector_encode(plein_buf *out, const plein_vv_entry *v, size_t n)
{
	if (n > PLEIN_MSG_MAX_VECTOR)
		return plein_fail(PLEIN_EINVAL, "a version vector of %zu sites is over the limit of %d", n, PLEIN_MSG_MAX_VECTOR);
	plein_buf_putc(out, PLEIN_MSG_VECTOR);
	plein_buf_put_varint(out, n);
	for (size_t i = 0; i < n; i++) {
		unsigned char id[10];
		int rc = plein_msg_site_pack(id, v[i].site);
		if (rc < 0)
			return rc;
		if (v[i].seq < 1 || (i && strcmp(v[i - 1].site, v[i].site) >= 0))
			return plein_fail(PLEIN_EINVAL, "a version vector must be sorted by site with seqs from 1");
		plein_buf_put(out, id, sizeof id);
		plein_buf_put_varint(out, v[i].seq);
		plein_buf_put(out, v[i].tip, PLEIN_MSG_TIP_BYTES);
	}
	return 0;
}

static int bad(const char *what)
{
	return plein_fail(PLEIN_EREJECT, "the peer sent a malformed %s", what);
}

int plein_msg_vector_decode(plein_vv_entry **out, size_t *out_n, const unsigned char *p, size_t n)
{
	struct rd r = { p, n };
	uint64_t count;
	*out = NULL;
	*out_n = 0;
	if (n < 1 || p[0] != PLEIN_MSG_VECTOR)
		return bad("version vector");
	r.p++;
	r.left--;
	/* Each entry takes at least 11 + 20 bytes: a count beyond that is a lie. */
	if (get_varint(&r, &count) < 0 || count > PLEIN_MSG_MAX_VECTOR || count > r.left / (11 + PLEIN_MSG_TIP_BYTES))
		return bad("version vector");
	plein_vv_entry *v = plein_xcalloc(count ? (size_t)count : 1, sizeof *v);
	for (size_t i = 0; i < count; i++) {
		if (r.left < 10)
			goto fail;
		plein_msg_site_unpack(v[i].site, r.p);
		r.p += 10;
		r.left -= 10;
		if (get_varint(&r, &v[i].seq) < 0 || v[i].seq < 1 || v[i].seq > INT64_MAX ||
		    (i && strcmp(v[i - 1].site, v[i].site) >= 0) || r.left < PLEIN_MSG_TIP_BYTES)
			goto fail;
		memcpy(v[i].tip, r.p, PLEIN_MSG_TIP_BYTES);
		r.p += PLEIN_MSG_TIP_BYTES;
		r.left -= PLEIN_MSG_TIP_BYTES;
	}
	if (r.left)
		goto fail;
	*out = v;
	*out_n = (size_t)count;
	return 0;
fail:
	free(v);
	return bad("version vector");
}

void plein_msg_record_encode(plein_buf *out, const plein_log_entry *e)
{
	plein_buf_put_varint(out, (uint64_t)e->time);
	put_bytes(out, e->summary, strlen(e->summary));
	put_bytes(out, e->header.data, e->header.len);
	plein_buf_put(out, e->sig.data, PLEIN_LOG_SIG_LEN);
	put_bytes(out, e->payload.data, e->payload.len);
	plein_buf_putc(out, e->has_personal ? 1 : 0);
	if (e->has_personal)
		put_bytes(out, e->personal.data, e->personal.len);
}

int plein_msg_record_decode(plein_msg_record *out, const unsigned char *p, size_t n)
{
	struct rd r = { p, n };
	uint64_t time;
	const unsigned char *summary;
	size_t slen;
	plein_batch_header h;
	memset(out, 0, sizeof *out);
	plein_log_batch *b = &out->b;
	if (get_varint(&r, &time) < 0 || time > INT64_MAX ||
	    get_bytes(&r, &summary, &slen, PLEIN_LOG_MAX_SUMMARY) < 0 ||
	    get_bytes(&r, &b->header, &b->header_len, PLEIN_LOG_MAX_HEADER) < 0 || r.left < PLEIN_LOG_SIG_LEN)
		return bad("batch record");
	b->sig = r.p;
	r.p += PLEIN_LOG_SIG_LEN;
	r.left -= PLEIN_LOG_SIG_LEN;
	if (get_bytes(&r, &b->payload, &b->payload_len, PLEIN_LOG_MAX_PAYLOAD) < 0 || r.left < 1 || r.p[0] > 1)
		return bad("batch record");
	int personal = r.p[0];
	r.p++;
	r.left--;
	if (personal && get_bytes(&r, &b->personal, &b->personal_len, PLEIN_LOG_MAX_PAYLOAD) < 0)
		return bad("batch record");
	if (personal && !b->personal)
		b->personal = r.p; /* an empty personal part still counts */
	if (r.left)
		return bad("batch record");
	for (size_t i = 0; i < slen; i++)
		if (summary[i] < 0x20 || summary[i] == 0x7f)
			return bad("batch record (summary)");
	memcpy(out->summary, summary, slen);
	/* Where to file it comes from the header (the signature is ingest's
	 * check). */
	if (plein_batch_header_parse(&h, b->header, b->header_len) < 0)
		return plein_fail(PLEIN_EREJECT, "the peer sent a batch with a malformed header: %s", plein_error());
	plein_siteid_from_key(out->site, h.site_pk);
	b->site = out->site;
	b->seq = h.seq;
	b->time = (int64_t)time;
	b->summary = slen ? out->summary : NULL;
	return 0;
}

void plein_msg_count_encode(plein_buf *out, int type, uint64_t count)
{
	plein_buf_putc(out, type);
	plein_buf_put_varint(out, count);
}

int plein_msg_count_decode(uint64_t *out, int type, const unsigned char *p, size_t n)
{
	struct rd r = { p + 1, n ? n - 1 : 0 };
	if (n < 2 || p[0] != type || get_varint(&r, out) < 0 || r.left)
		return bad(type == PLEIN_MSG_BYE ? "goodbye" : type == PLEIN_MSG_BUSY ? "progress note" : "end of batches");
	return 0;
}

void plein_msg_refused_encode(plein_buf *out, const char *why)
{
	size_t n = strlen(why);
	plein_buf_putc(out, PLEIN_MSG_REFUSED);
	plein_buf_put(out, why, n > PLEIN_MSG_MAX_REASON ? PLEIN_MSG_MAX_REASON : n);
}

int plein_msg_refused_decode(char out[PLEIN_MSG_MAX_REASON + 1], const unsigned char *p, size_t n)
{
	if (n < 1 || p[0] != PLEIN_MSG_REFUSED || n - 1 > PLEIN_MSG_MAX_REASON)
		return bad("refusal");
	/* Shown to people: printable bytes only. */
	size_t o = 0;
	for (size_t i = 1; i < n; i++)
		out[o++] = p[i] < 0x20 || p[i] == 0x7f ? '?' : (char)p[i];
	out[o] = 0;
	return 0;
}

int plein_msg_hs_payload_encode(plein_buf *out, const unsigned char pk[32], const plein_buf *m, size_t room)
{
	int in = m->len <= room;
	plein_buf_put(out, pk, 32);
	plein_buf_putc(out, in);
	if (in)
		plein_buf_put(out, m->data, m->len);
	return in;
}

int plein_msg_hs_payload_decode(unsigned char pk[32], const unsigned char **m, size_t *mn, const unsigned char *p,
				size_t n)
{
	/* Flag 1 with nothing after it, or 0 with something: malformed. */
	if (n < 33 || p[32] > 1 || (p[32] == 1) != (n > 33))
		return bad("handshake payload");
	memcpy(pk, p, 32);
	*m = p + 33;
	*mn = n - 33;
	return 0;
}
