#include "plein/batch.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "plein/error.h"
#include "plein/siteid.h"

/* docs/batch-format.md is the reference for every byte written here. */

static const unsigned char magic[4] = { 'P', 'L', 'N', 'B' };

enum {
	OFF_MAGIC = 0, OFF_FORMAT = 4, OFF_SCHEMA = 6, OFF_NETWORK = 8,
	OFF_SITE = 24, OFF_SEQ = 56, OFF_PREV = 64, OFF_HLC_MIN = 96,
	OFF_HLC_MAX = 104, OFF_COUNT = 112, OFF_RAW_LEN = 116,
	OFF_PAYLOAD_LEN = 120, OFF_PAYLOAD_HASH = 124,
};

/* Value types in the payload; 0..4 are enum plein_value_type. */
#define T_HASHED 5     /* personal: a salted hash here, the value in the personal part */
#define P_PURGED 0     /* personal part entry markers */
#define P_PRESENT 1
/* Deflate turns one input byte into at most 1032 output bytes (a 258-byte
 * match in two 1-bit codes), so a larger declared ratio is a lie. */
#define MAX_INFLATE_RATIO 1032
#define HASH_BYTES PLEIN_BATCH_HASH_BYTES

static void put16(unsigned char *o, uint16_t v)
{
	o[0] = (unsigned char)(v >> 8);
	o[1] = (unsigned char)v;
}

static void put32(unsigned char *o, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		o[i] = (unsigned char)(v >> (24 - 8 * i));
}

static void put64(unsigned char *o, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		o[i] = (unsigned char)(v >> (56 - 8 * i));
}

static uint64_t get_be(const unsigned char *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static uint64_t zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v < 0 ? -1 : 0);
}

static int64_t unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static int is_zero(const unsigned char *p, size_t n)
{
	unsigned char acc = 0;
	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

/* ---- header ---------------------------------------------------------- */

/* The structural rules of a header; writes why it breaks one into why. */
static int header_check(const plein_batch_header *h, char *why, size_t n)
{
	if (h->schema_version < 1 || h->schema_version > 65535)
		snprintf(why, n, "schema version %d is out of range 1..65535", h->schema_version);
	else if (h->seq < 1 || h->seq > INT64_MAX)
		snprintf(why, n, "sequence number %llu is out of range", (unsigned long long)h->seq);
	else if ((h->seq == 1) != is_zero(h->prev_hash, HASH_BYTES))
		snprintf(why, n, h->seq == 1 ? "batch 1 names a previous batch"
					     : "batch %llu names no previous batch",
			 (unsigned long long)h->seq);
	else if (h->hlc_min < 0 || h->hlc_max < h->hlc_min)
		snprintf(why, n, "clock range %lld..%lld is not a range",
			 (long long)h->hlc_min, (long long)h->hlc_max);
	else if (h->count < 1 || h->count > PLEIN_BATCH_MAX_CHANGES)
		snprintf(why, n, "change count %u is out of range 1..%u", h->count, PLEIN_BATCH_MAX_CHANGES);
	else if (h->raw_len > PLEIN_BATCH_MAX_RAW)
		snprintf(why, n, "payload of %u bytes exceeds the limit of %u", h->raw_len, PLEIN_BATCH_MAX_RAW);
	else if (h->raw_len < 2 * (uint64_t)h->count)
		snprintf(why, n, "payload of %u bytes cannot hold %u changes", h->raw_len, h->count);
	else if (h->payload_len < 1 || h->payload_len > (uint64_t)h->raw_len + h->raw_len / 8 + 64)
		snprintf(why, n, "compressed payload length %u does not fit inflated length %u",
			 h->payload_len, h->raw_len);
	else if (h->raw_len > (uint64_t)h->payload_len * MAX_INFLATE_RATIO)
		snprintf(why, n, "payload of %u bytes cannot inflate to %u", h->payload_len, h->raw_len);
	else
		return 0;
	return -1;
}

static void header_write(unsigned char *o, const plein_batch_header *h)
{
	memcpy(o + OFF_MAGIC, magic, 4);
	put16(o + OFF_FORMAT, PLEIN_BATCH_FORMAT);
	put16(o + OFF_SCHEMA, (uint16_t)h->schema_version);
	memcpy(o + OFF_NETWORK, h->network_id, PLEIN_BATCH_NETWORK_ID_BYTES);
	memcpy(o + OFF_SITE, h->site_pk, 32);
	put64(o + OFF_SEQ, h->seq);
	memcpy(o + OFF_PREV, h->prev_hash, HASH_BYTES);
	put64(o + OFF_HLC_MIN, (uint64_t)h->hlc_min);
	put64(o + OFF_HLC_MAX, (uint64_t)h->hlc_max);
	put32(o + OFF_COUNT, h->count);
	put32(o + OFF_RAW_LEN, h->raw_len);
	put32(o + OFF_PAYLOAD_LEN, h->payload_len);
	memcpy(o + OFF_PAYLOAD_HASH, h->payload_hash, HASH_BYTES);
}

int plein_batch_header_parse(plein_batch_header *out, const unsigned char *p, size_t len)
{
	char why[160];
	if (len != PLEIN_BATCH_HEADER_BYTES)
		return plein_fail(PLEIN_EREJECT, "batch header is %zu bytes, expected %d",
				  len, PLEIN_BATCH_HEADER_BYTES);
	if (memcmp(p + OFF_MAGIC, magic, 4) != 0)
		return plein_fail(PLEIN_EREJECT, "not a plein batch header (bad magic)");
	unsigned format = (unsigned)get_be(p + OFF_FORMAT, 2);
	if (format != PLEIN_BATCH_FORMAT)
		return plein_fail(PLEIN_EREJECT, "batch format version %u is not supported "
				  "(this plein reads version %d; upgrade plein)", format, PLEIN_BATCH_FORMAT);
	plein_batch_header h;
	h.schema_version = (int)get_be(p + OFF_SCHEMA, 2);
	memcpy(h.network_id, p + OFF_NETWORK, sizeof h.network_id);
	memcpy(h.site_pk, p + OFF_SITE, 32);
	h.seq = get_be(p + OFF_SEQ, 8);
	memcpy(h.prev_hash, p + OFF_PREV, HASH_BYTES);
	uint64_t lo = get_be(p + OFF_HLC_MIN, 8), hi = get_be(p + OFF_HLC_MAX, 8);
	if (lo > INT64_MAX || hi > INT64_MAX)
		return plein_fail(PLEIN_EREJECT, "batch header: clock out of range");
	h.hlc_min = (int64_t)lo;
	h.hlc_max = (int64_t)hi;
	h.count = (uint32_t)get_be(p + OFF_COUNT, 4);
	h.raw_len = (uint32_t)get_be(p + OFF_RAW_LEN, 4);
	h.payload_len = (uint32_t)get_be(p + OFF_PAYLOAD_LEN, 4);
	memcpy(h.payload_hash, p + OFF_PAYLOAD_HASH, HASH_BYTES);
	if (header_check(&h, why, sizeof why) < 0)
		return plein_fail(PLEIN_EREJECT, "batch header: %s", why);
	*out = h;
	return 0;
}

int plein_batch_verify(plein_batch_header *out, const unsigned char *p, size_t len,
		       const unsigned char sig[PLEIN_BATCH_SIG_BYTES])
{
	plein_batch_header h;
	int rc = plein_batch_header_parse(&h, p, len);
	if (rc < 0)
		return rc;
	if (sodium_init() < 0)
		return plein_fail(PLEIN_ERR, "libsodium failed to initialise");
	if (crypto_sign_verify_detached(sig, p, len, h.site_pk) != 0) {
		char id[PLEIN_SITEID_LEN + 1];
		plein_siteid_from_key(id, h.site_pk);
		return plein_fail(PLEIN_EREJECT, "batch %llu of site %s: the signature does not match "
				  "the header (altered, or not signed by that site)",
				  (unsigned long long)h.seq, id);
	}
	*out = h;
	return 0;
}

int plein_batch_seal(unsigned char out_header[PLEIN_BATCH_HEADER_BYTES],
		     unsigned char out_sig[PLEIN_BATCH_SIG_BYTES],
		     const plein_batch_header *hdr, const unsigned char sk[64])
{
	char why[160];
	unsigned char pk[32];
	if (header_check(hdr, why, sizeof why) < 0)
		return plein_fail(PLEIN_EINVAL, "cannot seal batch: %s", why);
	if (sodium_init() < 0)
		return plein_fail(PLEIN_ERR, "libsodium failed to initialise");
	crypto_sign_ed25519_sk_to_pk(pk, sk);
	if (memcmp(pk, hdr->site_pk, 32) != 0)
		return plein_fail(PLEIN_EINVAL, "cannot seal batch: the secret key is not the header's site key");
	header_write(out_header, hdr);
	crypto_sign_detached(out_sig, NULL, out_header, PLEIN_BATCH_HEADER_BYTES, sk);
	return 0;
}

void plein_batch_hash(unsigned char out[PLEIN_BATCH_HASH_BYTES],
		      const unsigned char header[PLEIN_BATCH_HEADER_BYTES],
		      const unsigned char sig[PLEIN_BATCH_SIG_BYTES])
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, HASH_BYTES);
	crypto_generichash_update(&st, header, PLEIN_BATCH_HEADER_BYTES);
	crypto_generichash_update(&st, sig, PLEIN_BATCH_SIG_BYTES);
	crypto_generichash_final(&st, out, HASH_BYTES);
}

/* ---- encode ---------------------------------------------------------- */

/* A value's body: what follows its type (docs: "value"). */
static void put_body(plein_buf *b, const plein_value *v)
{
	unsigned char f[8];
	uint64_t bits;
	switch (v->type) {
	case PLEIN_V_INT:
		plein_buf_put_varint(b, zigzag(v->i));
		break;
	case PLEIN_V_REAL:
		memcpy(&bits, &v->f, 8);
		put64(f, bits);
		plein_buf_put(b, f, 8);
		break;
	case PLEIN_V_TEXT:
	case PLEIN_V_BLOB:
		plein_buf_put_varint(b, v->n);
		plein_buf_put(b, v->p, v->n);
		break;
	}
}

static int check_change(const plein_change *c, size_t i)
{
	const plein_value *v = &c->value;
	if (c->tid < 0 || c->tid > PLEIN_BATCH_MAX_TID)
		return plein_fail(PLEIN_EINVAL, "change %zu: table number %d is out of range 0..%d",
				  i, c->tid, PLEIN_BATCH_MAX_TID);
	if (c->cid < PLEIN_CID_ROW || c->cid > 61)
		return plein_fail(PLEIN_EINVAL, "change %zu: column number %d is out of range 0..61", i, c->cid);
	if (c->id_len > PLEIN_BATCH_MAX_ID || (c->id_len && !c->id))
		return plein_fail(PLEIN_EINVAL, "change %zu: row id of %zu bytes (at most %d)",
				  i, c->id_len, PLEIN_BATCH_MAX_ID);
	if (c->cl < 0 || c->hlc < 0)
		return plein_fail(PLEIN_EINVAL, "change %zu: negative causal length or clock", i);
	if (v->type < PLEIN_V_NULL || v->type > PLEIN_V_BLOB)
		return plein_fail(PLEIN_EINVAL, "change %zu: value type %d cannot be encoded%s", i, v->type,
				  v->type == PLEIN_V_PURGED ? " (a purged value is not a value)" : "");
	if ((v->type == PLEIN_V_TEXT || v->type == PLEIN_V_BLOB) &&
	    (v->n > PLEIN_BATCH_MAX_RAW || (v->n && !v->p)))
		return plein_fail(PLEIN_EINVAL, "change %zu: value of %zu bytes is too large", i, v->n);
	return 0;
}

/* The context's rules (docs/batch-format.md, "Context"). */
static int check_context(const plein_seen *ctx, size_t n, const unsigned char signer[32])
{
	if (n > PLEIN_BATCH_MAX_CONTEXT)
		return plein_fail(PLEIN_EINVAL, "a batch context holds at most %d entries, not %zu",
				  PLEIN_BATCH_MAX_CONTEXT, n);
	for (size_t i = 0; i < n; i++) {
		if (ctx[i].seq < 1 || ctx[i].seq > INT64_MAX)
			return plein_fail(PLEIN_EINVAL, "context entry %zu: sequence number %llu is out of range",
					  i, (unsigned long long)ctx[i].seq);
		if (i && memcmp(ctx[i - 1].pk, ctx[i].pk, 32) >= 0)
			return plein_fail(PLEIN_EINVAL, "context entry %zu: keys must be sorted and distinct", i);
		if (memcmp(ctx[i].pk, signer, 32) == 0)
			return plein_fail(PLEIN_EINVAL, "context entry %zu names the signer itself", i);
	}
	return 0;
}

static int same_row(const plein_change *a, const plein_change *b)
{
	return a->tid == b->tid && a->cl == b->cl && a->id_len == b->id_len &&
	       (a->id_len == 0 || memcmp(a->id, b->id, a->id_len) == 0);
}

/* Compress p[0..n) onto the end of out. */
static int deflate_onto(plein_buf *out, const unsigned char *p, size_t n, int level)
{
	uLongf zn = compressBound((uLong)n);
	plein_buf_grow(out, zn);
	if (compress2(out->data + out->len, &zn, p, (uLong)n, level) != Z_OK)
		return plein_fail(PLEIN_ERR, "zlib failed to compress a batch");
	out->len += zn;
	return 0;
}

int plein_batch_encode(plein_batch_header *out_hdr, plein_buf *out_payload, plein_buf *out_personal,
		       const plein_seen *context, size_t ncontext,
		       const plein_change *changes, size_t n, int level,
		       const unsigned char *salt_seed)
{
	plein_buf raw = PLEIN_BUF_INIT, praw = PLEIN_BUF_INIT, canon = PLEIN_BUF_INIT;
	unsigned char *salts = NULL;
	size_t np = 0, start = out_payload->len, pstart = out_personal->len;
	int64_t lo = INT64_MAX, hi = 0;
	int rc = 0;

	if (n < 1 || n > PLEIN_BATCH_MAX_CHANGES)
		return plein_fail(PLEIN_EINVAL, "a batch holds 1..%u changes, not %zu", PLEIN_BATCH_MAX_CHANGES, n);
	if (level < Z_DEFAULT_COMPRESSION || level > Z_BEST_COMPRESSION)
		return plein_fail(PLEIN_EINVAL, "zlib level %d is out of range", level);
	if ((rc = check_context(context, ncontext, out_hdr->site_pk)) < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if ((rc = check_change(&changes[i], i)) < 0)
			return rc;
		lo = changes[i].hlc < lo ? changes[i].hlc : lo;
		hi = changes[i].hlc > hi ? changes[i].hlc : hi;
		np += changes[i].personal != 0;
	}
	if (sodium_init() < 0)
		return plein_fail(PLEIN_ERR, "libsodium failed to initialise");
	if (np) {
		salts = plein_xmalloc(np * PLEIN_BATCH_SALT_BYTES);
		if (salt_seed)
			randombytes_buf_deterministic(salts, np * PLEIN_BATCH_SALT_BYTES, salt_seed);
		else
			randombytes_buf(salts, np * PLEIN_BATCH_SALT_BYTES);
	}

	plein_buf_put_varint(&raw, ncontext);
	for (size_t i = 0; i < ncontext; i++) {
		plein_buf_put(&raw, context[i].pk, 32);
		plein_buf_put_varint(&raw, context[i].seq);
	}
	int64_t prev = lo;
	const unsigned char *salt = salts;
	for (size_t i = 0; i < n; i++) {
		const plein_change *c = &changes[i];
		if (i == 0 || !same_row(&changes[i - 1], c)) {
			size_t run = 1;
			while (i + run < n && same_row(c, &changes[i + run]))
				run++;
			plein_buf_put_varint(&raw, (uint64_t)c->tid);
			plein_buf_put_varint(&raw, c->id_len);
			plein_buf_put(&raw, c->id, c->id_len);
			plein_buf_put_varint(&raw, (uint64_t)c->cl);
			plein_buf_put_varint(&raw, run);
		}
		int type = c->personal ? T_HASHED : c->value.type;
		plein_buf_put_varint(&raw, (uint64_t)(c->cid + 1) << 3 | (uint64_t)type);
		plein_buf_put_varint(&raw, zigzag(c->hlc - prev));
		prev = c->hlc;
		if (!c->personal) {
			put_body(&raw, &c->value);
			continue;
		}
		/* The canonical value, hashed with its own salt: after a purge
		 * the hash left in the signed payload gives nothing away, not
		 * even for a value one could guess. */
		unsigned char h[HASH_BYTES];
		plein_buf_reset(&canon);
		plein_buf_putc(&canon, c->value.type);
		put_body(&canon, &c->value);
		crypto_generichash(h, HASH_BYTES, canon.data, canon.len, salt, PLEIN_BATCH_SALT_BYTES);
		plein_buf_put(&raw, h, HASH_BYTES);
		plein_buf_putc(&praw, P_PRESENT);
		plein_buf_put(&praw, salt, PLEIN_BATCH_SALT_BYTES);
		plein_buf_put(&praw, canon.data, canon.len);
		salt += PLEIN_BATCH_SALT_BYTES;
	}
	if (raw.len > PLEIN_BATCH_MAX_RAW || praw.len > PLEIN_BATCH_MAX_RAW) {
		rc = plein_fail(PLEIN_EINVAL, "batch of %zu changes is larger than %u bytes; seal fewer changes",
				n, PLEIN_BATCH_MAX_RAW);
		goto done;
	}
	if ((rc = deflate_onto(out_payload, raw.data, raw.len, level)) < 0)
		goto done;
	if (np && (rc = deflate_onto(out_personal, praw.data, praw.len, level)) < 0)
		goto done;
	out_hdr->hlc_min = lo;
	out_hdr->hlc_max = hi;
	out_hdr->count = (uint32_t)n;
	out_hdr->raw_len = (uint32_t)raw.len;
	out_hdr->payload_len = (uint32_t)(out_payload->len - start);
	crypto_generichash(out_hdr->payload_hash, HASH_BYTES, out_payload->data + start,
			   out_hdr->payload_len, NULL, 0);
done:
	if (rc < 0) {
		out_payload->len = start;
		out_personal->len = pstart;
	}
	free(salts);
	plein_buf_free(&canon);
	plein_buf_free(&praw);
	plein_buf_free(&raw);
	return rc;
}

/* ---- decode ---------------------------------------------------------- */

/* A reader over inflated bytes; every read is checked against what remains. */
struct rd {
	const unsigned char *p;
	size_t n, at;
	const char *what; /* "payload" or "personal part" */
};

struct dec {
	const plein_batch_header *hdr;
	char site[PLEIN_SITEID_LEN + 1];
};

static int reject(const struct dec *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int reject(const struct dec *d, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return plein_fail(PLEIN_EREJECT, "batch %llu of site %s: %s",
			  (unsigned long long)d->hdr->seq, d->site, msg);
}

static int truncated(const struct dec *d, const struct rd *r)
{
	return reject(d, "%s truncated at byte %zu", r->what, r->at);
}

static int rd_varint(const struct dec *d, struct rd *r, uint64_t *out)
{
	size_t left = r->n - r->at, k = plein_get_varint(r->p + r->at, left, out);
	if (k) {
		r->at += k;
		return 0;
	}
	for (size_t i = 0; i < left && i < 10; i++)
		if (!(r->p[r->at + i] & 0x80))
			return reject(d, "%s has a malformed number at byte %zu (not minimal, or over 64 bits)",
				      r->what, r->at);
	return left < 10 ? truncated(d, r) : reject(d, "%s has a number over 64 bits at byte %zu", r->what, r->at);
}

static int rd_bytes(const struct dec *d, struct rd *r, size_t n, const unsigned char **out)
{
	if (n > r->n - r->at)
		return truncated(d, r);
	*out = r->p + r->at;
	r->at += n;
	return 0;
}

static int rd_body(const struct dec *d, struct rd *r, int type, plein_value *v)
{
	uint64_t u;
	const unsigned char *p = NULL;
	int rc = 0;
	memset(v, 0, sizeof *v);
	v->type = type;
	switch (type) {
	case PLEIN_V_NULL:
		break;
	case PLEIN_V_INT:
		if ((rc = rd_varint(d, r, &u)) == 0)
			v->i = unzigzag(u);
		break;
	case PLEIN_V_REAL:
		if ((rc = rd_bytes(d, r, 8, &p)) == 0) {
			u = get_be(p, 8);
			memcpy(&v->f, &u, 8);
		}
		break;
	case PLEIN_V_TEXT:
	case PLEIN_V_BLOB:
		if ((rc = rd_varint(d, r, &u)) < 0)
			break;
		if (u > r->n - r->at)
			return reject(d, "%s truncated at byte %zu (a value of %llu bytes runs past the end)",
				      r->what, r->at, (unsigned long long)u);
		rc = rd_bytes(d, r, (size_t)u, &v->p);
		v->n = (size_t)u;
		break;
	default:
		return reject(d, "%s has an unknown value type %d at byte %zu", r->what, type, r->at);
	}
	return rc;
}

/* Inflate exactly want bytes from src into dst (want + 1 bytes of room):
 * the declared length is checked on the way, never trusted. */
static int inflate_exact(const struct dec *d, unsigned char *dst, size_t want,
			 const unsigned char *src, size_t n)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	if (inflateInit(&z) != Z_OK)
		return plein_fail(PLEIN_ERR, "zlib failed to initialise");
	z.next_in = (unsigned char *)src;
	z.avail_in = (uInt)n;
	z.next_out = dst;
	z.avail_out = (uInt)(want + 1);
	int zr = inflate(&z, Z_FINISH);
	size_t got = z.total_out, left = z.avail_in;
	inflateEnd(&z);
	if (zr == Z_STREAM_END) {
		if (got != want)
			return reject(d, "payload inflates to %zu bytes, the signed header says %zu", got, want);
		if (left)
			return reject(d, "payload has %zu bytes after its zlib stream", left);
		return 0;
	}
	if (zr == Z_BUF_ERROR && got > want)
		return reject(d, "payload inflates beyond the %zu bytes the signed header declares", want);
	if (zr == Z_BUF_ERROR)
		return reject(d, "payload's zlib stream is truncated");
	return reject(d, "payload is not a valid zlib stream");
}

/* Inflate the personal part, whose length nobody signed: bounded by the
 * format's limit and by what its compressed size can possibly yield. */
static int inflate_capped(const struct dec *d, unsigned char **out, size_t *out_len,
			  const unsigned char *src, size_t n)
{
	uint64_t limit = (uint64_t)n * MAX_INFLATE_RATIO;
	if (limit > PLEIN_BATCH_MAX_RAW)
		limit = PLEIN_BATCH_MAX_RAW;
	size_t cap = n * 4 < limit ? n * 4 + 64 : (size_t)limit + 1;
	unsigned char *buf = plein_xmalloc(cap);
	z_stream z;
	memset(&z, 0, sizeof z);
	if (inflateInit(&z) != Z_OK) {
		free(buf);
		return plein_fail(PLEIN_ERR, "zlib failed to initialise");
	}
	z.next_in = (unsigned char *)src;
	z.avail_in = (uInt)n;
	int zr, rc = 0;
	for (;;) {
		z.next_out = buf + z.total_out;
		z.avail_out = (uInt)(cap - z.total_out);
		zr = inflate(&z, Z_NO_FLUSH);
		if (zr == Z_STREAM_END)
			break;
		if (zr == Z_OK && z.avail_out == 0) {
			if (cap > limit) {
				rc = reject(d, "personal part inflates beyond %llu bytes", (unsigned long long)limit);
				goto done;
			}
			cap = cap * 2 > limit ? (size_t)limit + 1 : cap * 2;
			buf = plein_xrealloc(buf, cap);
			continue;
		}
		if (zr == Z_OK || zr == Z_BUF_ERROR)
			rc = reject(d, "personal part's zlib stream is truncated");
		else
			rc = reject(d, "personal part is not a valid zlib stream");
		goto done;
	}
	if (z.total_out > limit)
		rc = reject(d, "personal part inflates beyond %llu bytes", (unsigned long long)limit);
	else if (z.avail_in)
		rc = reject(d, "personal part has %u bytes after its zlib stream", z.avail_in);
done:
	*out_len = z.total_out;
	inflateEnd(&z);
	if (rc < 0)
		free(buf);
	else
		*out = buf;
	return rc;
}

/* The personal value of change k, whose payload hash is h: fills v with
 * the value and *poff with the offset of its entry, or v with PURGED when
 * it is absent. */
static int rd_personal(const struct dec *d, struct rd *pr, size_t k, const unsigned char *h,
		       plein_value *v, size_t *poff)
{
	memset(v, 0, sizeof *v);
	v->type = PLEIN_V_PURGED;
	if (!pr->p)
		return 0;
	if (pr->at >= pr->n)
		return reject(d, "personal part ends before the value of change %zu", k);
	size_t entry = pr->at;
	unsigned char marker = pr->p[pr->at++];
	if (marker == P_PURGED)
		return 0;
	if (marker != P_PRESENT)
		return reject(d, "personal part has an unknown marker %u at byte %zu", marker, entry);
	const unsigned char *salt = NULL;
	int rc = rd_bytes(d, pr, PLEIN_BATCH_SALT_BYTES, &salt);
	if (rc < 0)
		return rc;
	size_t canon = pr->at;
	if (pr->at >= pr->n)
		return truncated(d, pr);
	int type = pr->p[pr->at++];
	if (type > PLEIN_V_BLOB)
		return reject(d, "personal part has an unknown value type %d at byte %zu", type, canon);
	if ((rc = rd_body(d, pr, type, v)) < 0)
		return rc;
	unsigned char got[HASH_BYTES];
	crypto_generichash(got, HASH_BYTES, pr->p + canon, pr->at - canon, salt, PLEIN_BATCH_SALT_BYTES);
	if (sodium_memcmp(got, h, HASH_BYTES) != 0)
		return reject(d, "personal value of change %zu does not match its hash in the signed payload", k);
	*poff = entry;
	return 0;
}

/* The causal context before the rows. */
static int parse_context(const struct dec *d, struct rd *r, plein_batch *b)
{
	uint64_t n, seq;
	const unsigned char *pk = NULL;
	int rc = rd_varint(d, r, &n);
	if (rc < 0)
		return rc;
	if (n > PLEIN_BATCH_MAX_CONTEXT)
		return reject(d, "payload: a context of %llu entries (at most %d)", (unsigned long long)n,
			      PLEIN_BATCH_MAX_CONTEXT);
	if (n > (r->n - r->at) / 33) /* each entry takes at least 33 bytes */
		return truncated(d, r);
	b->context = plein_xcalloc(n ? (size_t)n : 1, sizeof *b->context);
	for (size_t i = 0; i < n; i++) {
		size_t at = r->at;
		if ((rc = rd_bytes(d, r, 32, &pk)) < 0 || (rc = rd_varint(d, r, &seq)) < 0)
			return rc;
		if (seq < 1 || seq > INT64_MAX)
			return reject(d, "payload: context entry at byte %zu names batch %llu (out of range 1..2^63-1)",
				      at, (unsigned long long)seq);
		if (i && memcmp(b->context[i - 1].pk, pk, 32) >= 0)
			return reject(d, "payload: context entry at byte %zu is not sorted after the one before "
				      "(or repeats it)", at);
		if (memcmp(pk, d->hdr->site_pk, 32) == 0)
			return reject(d, "payload: context entry at byte %zu names the signer itself", at);
		memcpy(b->context[i].pk, pk, 32);
		b->context[i].seq = seq;
		b->ncontext = i + 1;
	}
	return 0;
}

/* Where reading the changes stands (plein_batch_next): after change k,
 * inside the row whose id starts at id with `left` changes to go. */
struct plein_batch_parse {
	struct dec d;
	struct rd r, pr;
	size_t k;
	int64_t prev, lo, hi;
	const unsigned char *id; /* the row being read, NULL before the first */
	uint64_t tid, idlen, cl, left;
	int ended;               /* all read, the totals checked */
};

/* After the last change: the payload must hold what the header says. */
static int parse_end(struct plein_batch_parse *ps)
{
	const struct dec *d = &ps->d;
	const plein_batch_header *h = d->hdr;
	if (ps->k != h->count)
		return reject(d, "payload holds %zu changes, the signed header says %u", ps->k, h->count);
	if (ps->lo != h->hlc_min || ps->hi != h->hlc_max)
		return reject(d, "payload's clocks do not span the signed range exactly");
	if (ps->pr.p && ps->pr.at != ps->pr.n)
		return reject(d, "personal part has %zu bytes after its last value", ps->pr.n - ps->pr.at);
	ps->ended = 1;
	return 0;
}

/* The next change into *c and *poff: 1, or 0 at the end of the payload
 * once parse_end found it whole. */
static int parse_one(struct plein_batch_parse *ps, plein_change *c, size_t *poff)
{
	const struct dec *d = &ps->d;
	const plein_batch_header *h = d->hdr;
	struct rd *r = &ps->r;
	int rc;
	if (ps->ended)
		return 0;
	if (ps->left == 0) {
		if (r->at == r->n)
			return parse_end(ps);
		size_t group = r->at;
		uint64_t tid, idlen, cl, nent;
		const unsigned char *id = NULL;
		if ((rc = rd_varint(d, r, &tid)) < 0 || (rc = rd_varint(d, r, &idlen)) < 0)
			return rc;
		if (tid > PLEIN_BATCH_MAX_TID)
			return reject(d, "payload: table number %llu at byte %zu is out of range",
				      (unsigned long long)tid, group);
		if (idlen > PLEIN_BATCH_MAX_ID)
			return reject(d, "payload: row id of %llu bytes at byte %zu (at most %d)",
				      (unsigned long long)idlen, group, PLEIN_BATCH_MAX_ID);
		if ((rc = rd_bytes(d, r, (size_t)idlen, &id)) < 0 ||
		    (rc = rd_varint(d, r, &cl)) < 0 || (rc = rd_varint(d, r, &nent)) < 0)
			return rc;
		if (cl > INT64_MAX)
			return reject(d, "payload: causal length at byte %zu is out of range", group);
		if (nent < 1 || nent > h->count - ps->k)
			return reject(d, "payload: row at byte %zu has %llu changes; the header allows %zu more",
				      group, (unsigned long long)nent, (size_t)(h->count - ps->k));
		if (ps->id && tid == ps->tid && cl == ps->cl && idlen == ps->idlen &&
		    memcmp(id, ps->id, (size_t)idlen) == 0)
			return reject(d, "payload: row at byte %zu continues the row before it (not canonical)", group);
		ps->id = id, ps->tid = tid, ps->cl = cl, ps->idlen = idlen, ps->left = nent;
	}

	size_t at = r->at;
	uint64_t head, dz;
	if ((rc = rd_varint(d, r, &head)) < 0 || (rc = rd_varint(d, r, &dz)) < 0)
		return rc;
	if ((head >> 3) > 62)
		return reject(d, "payload: column %llu at byte %zu is out of range 0..61",
			      (unsigned long long)(head >> 3) - 1, at);
	int64_t hlc;
	if (__builtin_add_overflow(ps->prev, unzigzag(dz), &hlc) || hlc < h->hlc_min || hlc > h->hlc_max)
		return reject(d, "payload: clock of the change at byte %zu is outside "
			      "the signed range", at);
	memset(c, 0, sizeof *c);
	*poff = SIZE_MAX;
	c->tid = (int)ps->tid;
	c->id = (const char *)ps->id;
	c->id_len = (size_t)ps->idlen;
	c->cl = (int64_t)ps->cl;
	c->cid = (int)(head >> 3) - 1;
	c->hlc = hlc;
	int type = (int)(head & 7);
	if (type == T_HASHED) {
		const unsigned char *hash = NULL;
		c->personal = 1;
		if ((rc = rd_bytes(d, r, HASH_BYTES, &hash)) < 0 ||
		    (rc = rd_personal(d, &ps->pr, ps->k, hash, &c->value, poff)) < 0)
			return rc;
	} else if ((rc = rd_body(d, r, type, &c->value)) < 0) {
		return rc;
	}
	ps->prev = hlc;
	ps->lo = hlc < ps->lo ? hlc : ps->lo;
	ps->hi = hlc > ps->hi ? hlc : ps->hi;
	ps->left--;
	ps->k++;
	return 1;
}

/* Read changes onto b->changes[b->n..) until b->n is max: 1 when it is,
 * 0 at the end of the payload (checked whole), or the refusal. The array
 * grows as changes arrive, never beyond max or the header's count. */
static int parse_fill(plein_batch *b, size_t max)
{
	plein_change c;
	size_t poff = SIZE_MAX;
	int rc;
	while (b->n < max) {
		if ((rc = parse_one(b->parse, &c, &poff)) <= 0)
			return rc;
		if (b->n == b->cap) {
			size_t cap = b->cap ? 2 * b->cap : 64;
			cap = cap > max ? max : cap;
			cap = cap > b->header.count ? b->header.count : cap;
			b->changes = plein_xrealloc(b->changes, cap * sizeof *b->changes);
			b->poff = plein_xrealloc(b->poff, cap * sizeof *b->poff);
			b->cap = cap;
		}
		b->changes[b->n] = c;
		b->poff[b->n++] = poff;
	}
	return 1;
}

int plein_batch_open(plein_batch **out, const plein_batch_header *hdr,
		     const unsigned char *payload, size_t payload_len,
		     const unsigned char *personal, size_t personal_len)
{
	struct dec d = { hdr, "" };
	char why[160];
	unsigned char h[HASH_BYTES];
	plein_batch *b = NULL;
	int rc;

	*out = NULL;
	plein_siteid_from_key(d.site, hdr->site_pk);
	if (header_check(hdr, why, sizeof why) < 0)
		return reject(&d, "header: %s", why);
	if (payload_len != hdr->payload_len)
		return reject(&d, "payload is %zu bytes, the signed header says %u", payload_len, hdr->payload_len);
	crypto_generichash(h, HASH_BYTES, payload, payload_len, NULL, 0);
	if (sodium_memcmp(h, hdr->payload_hash, HASH_BYTES) != 0)
		return reject(&d, "payload hash does not match the signed header");

	if (personal_len > (size_t)PLEIN_BATCH_MAX_RAW + PLEIN_BATCH_MAX_RAW / 8 + 64)
		return reject(&d, "personal part of %zu bytes exceeds the limit", personal_len);

	b = plein_xcalloc(1, sizeof *b);
	b->header = *hdr;
	b->parse = plein_xcalloc(1, sizeof *b->parse);
	struct plein_batch_parse *ps = b->parse;
	ps->d = d;
	ps->d.hdr = &b->header; /* the caller's may not outlive b */
	b->raw_len = hdr->raw_len;
	b->raw = plein_xmalloc(b->raw_len + 1);
	if ((rc = inflate_exact(&ps->d, b->raw, b->raw_len, payload, payload_len)) < 0)
		goto fail;
	if (personal && personal_len &&
	    (rc = inflate_capped(&ps->d, &b->personal, &b->personal_len, personal, personal_len)) < 0)
		goto fail;
	ps->r = (struct rd){ b->raw, b->raw_len, 0, "payload" };
	ps->pr = (struct rd){ b->personal, b->personal_len, 0, "personal part" };
	ps->prev = hdr->hlc_min;
	ps->lo = INT64_MAX;
	ps->hi = -1;
	if ((rc = parse_context(&ps->d, &ps->r, b)) < 0)
		goto fail;
	*out = b;
	return 0;
fail:
	plein_batch_free(b);
	return rc;
}

int plein_batch_next(plein_batch *b, size_t max)
{
	b->n = 0;
	if (max < 1)
		return plein_fail(PLEIN_EINVAL, "plein_batch_next: no room for a change");
	int rc = parse_fill(b, max);
	if (rc < 0)
		return rc;
	return b->n > 0;
}

int plein_batch_decode(plein_batch **out, const plein_batch_header *hdr,
		       const unsigned char *payload, size_t payload_len,
		       const unsigned char *personal, size_t personal_len)
{
	plein_batch *b = NULL;
	int rc = plein_batch_open(&b, hdr, payload, payload_len, personal, personal_len);
	if (rc < 0)
		return rc;
	if ((rc = parse_fill(b, SIZE_MAX)) < 0) {
		plein_batch_free(b);
		return rc;
	}
	*out = b;
	return 0;
}

void plein_batch_free(plein_batch *b)
{
	if (!b)
		return;
	free(b->context);
	free(b->changes);
	free(b->poff);
	free(b->personal);
	free(b->raw);
	free(b->parse);
	free(b);
}

int plein_batch_purge(plein_buf *out, const plein_batch *b, const unsigned char *drop, int level)
{
	plein_buf praw = PLEIN_BUF_INIT;
	int kept = 0, rc = 0;
	if (level < Z_DEFAULT_COMPRESSION || level > Z_BEST_COMPRESSION)
		return plein_fail(PLEIN_EINVAL, "zlib level %d is out of range", level);
	for (size_t i = 0; i < b->n; i++) {
		const plein_change *c = &b->changes[i];
		if (!c->personal)
			continue;
		if ((drop && drop[i]) || b->poff[i] == SIZE_MAX) {
			plein_buf_putc(&praw, P_PURGED);
			continue;
		}
		/* The entry as it was: marker, salt, canonical value. */
		plein_buf_putc(&praw, P_PRESENT);
		plein_buf_put(&praw, b->personal + b->poff[i] + 1, PLEIN_BATCH_SALT_BYTES);
		plein_buf_putc(&praw, c->value.type);
		put_body(&praw, &c->value);
		kept++;
	}
	if (kept)
		rc = deflate_onto(out, praw.data, praw.len, level);
	plein_buf_free(&praw);
	return rc;
}
