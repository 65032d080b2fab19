/* libFuzzer target for signed batches (docs/batch-format.md).
 *
 * Input: mode (1 byte), payload length L (2 bytes, big-endian), then the
 * header (156 bytes), the signature (64), the payload (L bytes) and the
 * personal part (the rest); a short input simply ends early.
 *   mode bit 0: the payload and personal part are given inflated; the
 *               target compresses them, so the grammar gets the mutations
 *   mode bit 1: pass the personal part (else NULL)
 *   mode bits 2-4: the part size (1 + this) for reading it part by part
 * The header goes through plein_batch_verify; the payload, with the
 * header's payload hash and length set to match (a fuzzer cannot forge
 * BLAKE2b), through plein_batch_decode. What decodes must then hold up:
 * purging and re-decoding works, and re-encoding gives the same bytes
 * (the format has one encoding per batch). Read part by part
 * (plein_batch_open/next, as ingest applies a large batch) it must give
 * the same changes and the same verdict, with the same message.
 *
 * PLEIN_FUZZ_SEEDS=DIR writes a seed corpus made from valid batches to
 * DIR and exits (tools/fuzz does this when fuzz/corpus/batch is empty). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "plein/batch.h"
#include "plein/error.h"

#include "seed.h"

#define HB PLEIN_BATCH_HEADER_BYTES
#define SB PLEIN_BATCH_SIG_BYTES

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static unsigned char *zip(const unsigned char *p, size_t n, size_t *out_n)
{
	uLongf zn = compressBound(n);
	unsigned char *z = plein_xmalloc(zn);
	if (compress2(z, &zn, p, n, 1) != Z_OK)
		abort();
	*out_n = zn;
	return z;
}

static int same_value(const plein_value *a, const plein_value *b)
{
	if (a->type != b->type)
		return 0;
	if (a->type == PLEIN_V_TEXT || a->type == PLEIN_V_BLOB)
		return a->n == b->n && (a->n == 0 || memcmp(a->p, b->p, a->n) == 0);
	if (a->type == PLEIN_V_INT)
		return a->i == b->i;
	if (a->type == PLEIN_V_REAL)
		return memcmp(&a->f, &b->f, sizeof a->f) == 0;
	return 1;
}

/* Properties of a batch that decoded: any violation is a bug. */
static void check_decoded(const plein_batch *b, const plein_batch_header *h,
			  const unsigned char *payload, size_t payload_n,
			  const unsigned char *raw, size_t raw_n, int raw_mode)
{
	if (b->n != h->count)
		abort();
	/* purge some values: the rest still match their hashes */
	unsigned char *drop = plein_xcalloc(b->n + 1, 1);
	for (size_t i = 0; i < b->n; i++)
		drop[i] = b->changes[i].hlc & 1;
	plein_buf q = PLEIN_BUF_INIT;
	plein_batch *c = NULL;
	if (plein_batch_purge(&q, b, drop, 1) < 0 ||
	    plein_batch_decode(&c, h, payload, payload_n, q.data, q.len) < 0)
		abort();
	for (size_t i = 0; i < b->n; i++) {
		const plein_value *was = &b->changes[i].value, *now = &c->changes[i].value;
		if (drop[i] && b->changes[i].personal ? now->type != PLEIN_V_PURGED : !same_value(was, now))
			abort();
	}

	/* Re-encode: purged values become NULL (a hashed entry is the same
	 * size whatever it hides); without personal values the bytes must be
	 * the very same. */
	plein_change *v = plein_xmalloc((b->n + 1) * sizeof *v);
	int personal = 0;
	for (size_t i = 0; i < b->n; i++) {
		v[i] = b->changes[i];
		personal |= v[i].personal;
		if (v[i].value.type == PLEIN_V_PURGED)
			v[i].value.type = PLEIN_V_NULL;
	}
	plein_batch_header h2 = *h;
	plein_buf p = PLEIN_BUF_INIT;
	plein_buf_reset(&q);
	if (plein_batch_encode(&h2, &p, &q, b->context, b->ncontext, v, b->n, 1, NULL) < 0)
		abort();
	if (h2.raw_len != h->raw_len || h2.count != h->count || h2.hlc_min != h->hlc_min ||
	    h2.hlc_max != h->hlc_max)
		abort();
	if (raw_mode && !personal) {
		size_t zn;
		unsigned char *z = zip(raw, raw_n, &zn);
		if (zn != p.len || memcmp(z, p.data, zn) != 0)
			abort();
		free(z);
	}
	plein_batch *d = NULL;
	if (plein_batch_decode(&d, &h2, p.data, p.len, q.data, q.len) < 0)
		abort();
	if (d->ncontext != b->ncontext ||
	    (b->ncontext && memcmp(d->context, b->context, b->ncontext * sizeof *b->context) != 0))
		abort();
	for (size_t i = 0; i < b->n; i++)
		if (!same_value(&d->changes[i].value, &v[i].value) || d->changes[i].hlc != v[i].hlc ||
		    d->changes[i].cid != v[i].cid || d->changes[i].cl != v[i].cl ||
		    d->changes[i].id_len != v[i].id_len || d->changes[i].personal != v[i].personal)
			abort();
	plein_batch_free(d);
	plein_batch_free(c);
	plein_buf_free(&p);
	plein_buf_free(&q);
	free(v);
	free(drop);
}

/* plein_batch_open/next, max changes at a time, agree with the whole
 * decode: whole is its result (NULL when refused, with message why). */
static void check_parts(const plein_batch *whole, const char *why, const plein_batch_header *h,
			const unsigned char *payload, size_t pn, const unsigned char *personal, size_t qn,
			size_t max)
{
	plein_batch *b = NULL;
	size_t k = 0;
	int rc = plein_batch_open(&b, h, payload, pn, personal, qn);
	while (rc == 0 && (rc = plein_batch_next(b, max)) == 1) {
		/* A refused batch may give parts before its refusal. */
		if (b->n < 1 || b->n > max || (whole && k + b->n > whole->n))
			abort();
		for (size_t i = 0; whole && i < b->n; i++, k++) {
			const plein_change *x = &b->changes[i], *y = &whole->changes[k];
			if (x->tid != y->tid || x->cid != y->cid || x->cl != y->cl || x->hlc != y->hlc ||
			    x->personal != y->personal || x->id_len != y->id_len ||
			    memcmp(x->id, y->id, x->id_len) != 0 || !same_value(&x->value, &y->value))
				abort();
		}
		rc = 0;
	}
	if (whole ? rc != 0 || k != whole->n : rc != PLEIN_EREJECT || strcmp(plein_error(), why) != 0)
		abort();
	plein_batch_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	int mode = data[0];
	size_t plen = (size_t)data[1] << 8 | data[2];
	const unsigned char *p = data + 3;
	size_t left = size - 3;

	size_t hn = left < HB ? left : HB;
	const unsigned char *hb = p;
	p += hn, left -= hn;
	unsigned char sig[SB] = { 0 };
	size_t sn = left < SB ? left : SB;
	memcpy(sig, p, sn);
	p += sn, left -= sn;
	plen = plen < left ? plen : left;
	const unsigned char *payload = p, *personal = p + plen;
	size_t personal_n = left - plen;

	plein_batch_header h;
	(void)plein_batch_verify(&h, hb, hn, sig);
	if (plein_batch_header_parse(&h, hb, hn) < 0)
		return 0;

	unsigned char *zp = NULL, *zq = NULL;
	size_t zpn = plen, zqn = personal_n;
	if (mode & 1) {
		zp = zip(payload, plen, &zpn);
		zq = zip(personal, personal_n, &zqn);
		h.raw_len = (uint32_t)plen;
		payload = zp;
		personal = zq;
	}
	h.payload_len = (uint32_t)zpn;
	crypto_generichash(h.payload_hash, PLEIN_BATCH_HASH_BYTES, payload, zpn, NULL, 0);
	plein_batch *b = NULL;
	const unsigned char *pp = mode & 2 ? personal : NULL;
	size_t pq = mode & 2 ? zqn : 0;
	int rc = plein_batch_decode(&b, &h, payload, zpn, pp, pq);
	char why[1024];
	snprintf(why, sizeof why, "%s", rc < 0 ? plein_error() : "");
	if (rc == 0)
		check_decoded(b, &h, payload, zpn, data + 3 + hn + sn, plen, mode & 1);
	else if (rc != PLEIN_EREJECT || b)
		abort();
	check_parts(b, why, &h, payload, zpn, pp, pq, 1 + (size_t)(mode >> 2 & 7));
	plein_batch_free(b);
	free(zp);
	free(zq);
	return 0;
}

/* ---- the seed corpus ------------------------------------------------- */

static void put_seed(const char *dir, const char *name, int mode, const unsigned char *hb,
		     const unsigned char *sig, const unsigned char *payload, size_t pn,
		     const unsigned char *personal, size_t qn)
{
	FILE *f = fuzz_seed_open(dir, name);
	unsigned char head[3] = { (unsigned char)mode, (unsigned char)(pn >> 8), (unsigned char)pn };
	fwrite(head, 1, 3, f);
	fwrite(hb, 1, HB, f);
	fwrite(sig, 1, SB, f);
	fwrite(payload, 1, pn, f);
	fwrite(personal, 1, qn, f);
	fclose(f);
}

static void inflate_all(plein_buf *out, const plein_buf *in)
{
	uLongf n = PLEIN_BATCH_MAX_RAW;
	plein_buf_reset(out);
	if (!in->len)
		return;
	plein_buf_grow(out, n);
	if (uncompress(out->data, &n, in->data, in->len) != Z_OK)
		abort();
	out->len = n;
}

/* One batch as four seeds: as stored and inflated, with and without the
 * personal part. */
static void seed_batch(const char *dir, const char *name, const plein_seen *ctx, size_t nctx,
		       const plein_change *c, size_t n, const unsigned char *sk, const unsigned char *pk)
{
	plein_batch_header h;
	plein_buf p = PLEIN_BUF_INIT, q = PLEIN_BUF_INIT, rp = PLEIN_BUF_INIT, rq = PLEIN_BUF_INIT;
	unsigned char hb[HB], sig[SB], salt_seed[32];
	char file[256];
	memset(&h, 0, sizeof h);
	memset(salt_seed, 0x42, sizeof salt_seed);
	memset(h.network_id, 0xa5, sizeof h.network_id);
	memcpy(h.site_pk, pk, 32);
	h.seq = 1;
	h.schema_version = 1;
	if (plein_batch_encode(&h, &p, &q, ctx, nctx, c, n, 1, salt_seed) < 0 || plein_batch_seal(hb, sig, &h, sk) < 0) {
		fprintf(stderr, "%s\n", plein_error());
		exit(2);
	}
	inflate_all(&rp, &p);
	inflate_all(&rq, &q);
	snprintf(file, sizeof file, "%s-stored", name);
	put_seed(dir, file, 2, hb, sig, p.data, p.len, q.data, q.len);
	snprintf(file, sizeof file, "%s-inflated", name);
	put_seed(dir, file, 3, hb, sig, rp.data, rp.len, rq.data, rq.len);
	snprintf(file, sizeof file, "%s-purged", name);
	put_seed(dir, file, 1, hb, sig, rp.data, rp.len, NULL, 0);
	plein_buf_free(&p);
	plein_buf_free(&q);
	plein_buf_free(&rp);
	plein_buf_free(&rq);
}

static void write_seeds(const char *dir)
{
	unsigned char pk[32], sk[64], seed[32];
	for (int i = 0; i < 32; i++)
		seed[i] = (unsigned char)i;
	crypto_sign_seed_keypair(pk, sk, seed);
	const int64_t h0 = (int64_t)1764000000000 << 16;
	static const unsigned char env[] = "\x01\x8e\x11\x90sealed-envelope-bytes\x00\xff";
#define V(t, i, f, p, n) { t, i, f, (const unsigned char *)(p), n }
	const plein_change day[] = {
		{ 1, "L1", 2, 1, -1, h0, 0, V(PLEIN_V_NULL, 0, 0, NULL, 0) },
		{ 1, "L1", 2, 1, 0, h0, 0, V(PLEIN_V_TEXT, 0, 0, "Centrum", 7) },
		{ 2, "P1", 2, 1, 8, h0 + 1, 0, V(PLEIN_V_INT, 3, 0, NULL, 0) },
		{ 2, "P1", 2, 1, 9, h0 + 1, 0, V(PLEIN_V_REAL, 0, -2.5, NULL, 0) },
		{ 10, "R1", 2, 1, 10, h0 + 65536, 1, V(PLEIN_V_BLOB, 0, 0, env, sizeof env - 1) },
		{ 10, "R1", 2, 1, 11, h0 + 65536, 1, V(PLEIN_V_TEXT, 0, 0, "Jan", 3) },
		{ 10, "R1", 2, 1, 8, h0 + 65536, 0, V(PLEIN_V_INT, -1, 0, NULL, 0) },
		{ 8, "V1", 2, 2, -1, h0 + 65537, 0, V(PLEIN_V_NULL, 0, 0, NULL, 0) },
	};
	const plein_change plain[] = {
		{ 9, "01JD0000000000000000000000", 26, 1, -1, h0, 0, V(PLEIN_V_NULL, 0, 0, NULL, 0) },
		{ 9, "01JD0000000000000000000000", 26, 1, 1, h0, 0, V(PLEIN_V_TEXT, 0, 0, "werk", 4) },
		{ 9, "01JD0000000000000000000000", 26, 1, 7, h0, 0, V(PLEIN_V_INT, 15, 0, NULL, 0) },
		{ 9, "01JD0000000000000000000001", 26, 3, 61, h0 + 5, 0, V(PLEIN_V_BLOB, 0, 0, "\x00\x01", 2) },
	};
#undef V
	/* what the signer had applied of two other sites */
	plein_seen ctx[2];
	memset(ctx[0].pk, 0x11, 32);
	ctx[0].seq = 7;
	memset(ctx[1].pk, 0xee, 32);
	ctx[1].seq = 300;
	seed_batch(dir, "day", ctx, 2, day, sizeof day / sizeof day[0], sk, pk);
	seed_batch(dir, "plain", NULL, 0, plain, sizeof plain / sizeof plain[0], sk, pk);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("PLEIN_FUZZ_SEEDS");
	if (sodium_init() < 0)
		abort();
	if (dir && *dir) {
		write_seeds(dir);
		exit(0);
	}
	return 0;
}
