/* Signed batches (docs/batch-format.md): round trips, the personal part and
 * its purge, and refusal of everything altered, truncated, inflated or
 * malformed — each with PLEIN_EREJECT and a message that names it. */
#include <math.h>
#include <sodium.h>
#include <time.h>
#include <zlib.h>

#include "harness.h"
#include "plein/batch.h"
#include "plein/clock.h"
#include "plein/id.h"

#define H0 ((int64_t)1764000000000 << 16) /* 2025-11-24T16:00:00Z */

static unsigned char pk[32], sk[64];

static void test_key(void)
{
	unsigned char seed[32];
	for (int i = 0; i < 32; i++)
		seed[i] = (unsigned char)i;
	crypto_sign_seed_keypair(pk, sk, seed);
}

/* ---- changes --------------------------------------------------------- */

static plein_value vnull(void) { plein_value v = { PLEIN_V_NULL, 0, 0, NULL, 0 }; return v; }
static plein_value vint(int64_t i) { plein_value v = { PLEIN_V_INT, i, 0, NULL, 0 }; return v; }
static plein_value vreal(double f) { plein_value v = { PLEIN_V_REAL, 0, f, NULL, 0 }; return v; }
static plein_value vtext(const char *s) { plein_value v = { PLEIN_V_TEXT, 0, 0, (const unsigned char *)s, strlen(s) }; return v; }
static plein_value vblob(const void *p, size_t n) { plein_value v = { PLEIN_V_BLOB, 0, 0, p, n }; return v; }

static void add(plein_changeset *cs, int tid, const char *id, size_t id_len, int64_t cl, int cid,
		int64_t hlc, int personal, plein_value v)
{
	plein_change c = { tid, id, id_len, cl, cid, hlc, personal, v };
	plein_changeset_add(cs, &c);
}
#define ADD(cs, tid, id, cl, cid, hlc, v) add(cs, tid, id, strlen(id), cl, cid, hlc, 0, v)

/* A working day at a plein: visits, their questions, referrals with sealed
 * contact details (personal), status updates and the odd delete. */
static void build_mix(plein_changeset *cs, int writes)
{
	static const char *dayparts[] = { "ochtend", "middag", "avond" };
	static const char *themes[] = { "werk", "geld", "digitaal", "taal", "gezondheid" };
	char loc[PLEIN_ID_LEN + 1], partner[PLEIN_ID_LEN + 1], visit[PLEIN_ID_LEN + 1] = "",
	     question[PLEIN_ID_LEN + 1] = "", referral[PLEIN_ID_LEN + 1] = "", id[PLEIN_ID_LEN + 1];
	char at[32];
	unsigned char env[150];
	int64_t hlc = H0;
	plein_id_new(loc);
	plein_id_new(partner);
	for (int w = 0; w < writes; w++) {
		hlc += plein_hlc_from_ms(20000 + (w * 7919) % 90000);
		time_t t = (time_t)(plein_hlc_ms(hlc) / 1000);
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", &tm);
		plein_id_new(id);
		switch (w % 8) {
		case 0: case 1: case 2: case 3:
			strcpy(visit, id);
			ADD(cs, 8, id, 1, -1, hlc, vnull());
			ADD(cs, 8, id, 1, 0, hlc, vtext(loc));
			ADD(cs, 8, id, 1, 1, hlc, vtext(at));
			ADD(cs, 8, id, 1, 2, hlc, vtext(dayparts[w % 3]));
			ADD(cs, 8, id, 1, 3, hlc, vtext(w % 3 ? "walk_in" : "appointment"));
			break;
		case 4: case 5:
			strcpy(question, id);
			ADD(cs, 9, id, 1, -1, hlc, vnull());
			ADD(cs, 9, id, 1, 0, hlc, vtext(visit));
			ADD(cs, 9, id, 1, 1, hlc, vtext(themes[w % 5]));
			ADD(cs, 9, id, 1, 2, hlc, vtext("vraag:aanvraag"));
			ADD(cs, 9, id, 1, 3, hlc, vnull());
			ADD(cs, 9, id, 1, 5, hlc, vint(w % 2));
			ADD(cs, 9, id, 1, 7, hlc, vint(15));
			break;
		case 6:
			strcpy(referral, id);
			randombytes_buf(env, sizeof env); /* a sealed envelope looks random */
			ADD(cs, 10, id, 1, -1, hlc, vnull());
			ADD(cs, 10, id, 1, 0, hlc, vtext(question));
			ADD(cs, 10, id, 1, 1, hlc, vtext("7QF3-K9ZT-M2XA-PD4R"));
			ADD(cs, 10, id, 1, 2, hlc, vtext(partner));
			ADD(cs, 10, id, 1, 5, hlc, vtext(themes[w % 5]));
			ADD(cs, 10, id, 1, 6, hlc, vtext("new"));
			ADD(cs, 10, id, 1, 8, hlc, vint(0));
			add(cs, 10, id, strlen(id), 1, 10, hlc, 1, vblob(env, sizeof env));
			ADD(cs, 10, id, 1, 11, hlc, vtext(at));
			break;
		case 7:
			if (w % 16 == 15) { /* a visit registered by mistake is deleted */
				ADD(cs, 8, visit, 2, -1, hlc, vnull());
				break;
			}
			ADD(cs, 10, referral, 1, 6, hlc, vtext("contacted"));
			ADD(cs, 10, referral, 1, 8, hlc + 1, vint(1));
			break;
		}
	}
}

/* Every value type and every edge the format has. */
static void build_edges(plein_changeset *cs)
{
	static char long_id[PLEIN_BATCH_MAX_ID];
	static char long_text[300];
	static const unsigned char bin[] = { 0, 1, 0xff, 0, 0x80 };
	memset(long_id, 'z', sizeof long_id);
	memset(long_text, 'a', sizeof long_text - 1);
	ADD(cs, 0, "a", 1, -1, 0, vnull());
	ADD(cs, 0, "a", 1, 0, 1, vint(INT64_MIN));
	ADD(cs, 0, "a", 1, 1, 1, vint(INT64_MAX));
	ADD(cs, 0, "a", 1, 2, 1, vint(-1));
	ADD(cs, 0, "a", 1, 3, 1, vreal(-0.0));
	ADD(cs, 0, "a", 1, 4, 1, vreal(1e300));
	ADD(cs, 0, "a", 1, 5, 1, vreal(NAN));
	ADD(cs, 0, "a", 1, 6, 1, vtext(""));
	ADD(cs, 0, "a", 1, 7, 1, vblob("", 0));
	ADD(cs, 0, "a", 1, 8, 1, vblob(bin, sizeof bin));
	ADD(cs, 0, "a", 1, 61, INT64_MAX, vtext(long_text));
	add(cs, 65535, "", 0, INT64_MAX, -1, 7, 0, vnull());
	add(cs, 3, long_id, sizeof long_id, 3, 4, 7, 0, vtext("x"));
	add(cs, 3, long_id, sizeof long_id, 3, 5, 7, 1, vnull());
	add(cs, 3, long_id, sizeof long_id, 3, 6, 7, 1, vreal(2.5));
	add(cs, 3, long_id, sizeof long_id, 3, 7, 7, 1, vint(-7));
	add(cs, 3, long_id, sizeof long_id, 3, 8, 7, 1, vtext(""));
	ADD(cs, 3, "a", 1, 0, 2, vtext("same id, other table"));
	ADD(cs, 0, "a", 3, 0, 2, vtext("same id, other life"));
}

static int same_value(const plein_value *a, const plein_value *b)
{
	if (a->type != b->type)
		return 0;
	switch (a->type) {
	case PLEIN_V_INT: return a->i == b->i;
	case PLEIN_V_REAL: return memcmp(&a->f, &b->f, sizeof a->f) == 0;
	case PLEIN_V_TEXT: case PLEIN_V_BLOB:
		return a->n == b->n && (a->n == 0 || memcmp(a->p, b->p, a->n) == 0);
	}
	return 1;
}

/* Index of the first change that differs, or -1. purged: personal values
 * are expected as PLEIN_V_PURGED (or where drop[i] is set). */
static long first_diff(const plein_change *a, const plein_batch *b, size_t n, int purged,
		       const unsigned char *drop)
{
	if (b->n != n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const plein_change *x = &a[i], *y = &b->changes[i];
		if (x->tid != y->tid || x->id_len != y->id_len || memcmp(x->id, y->id, x->id_len) != 0 ||
		    x->cl != y->cl || x->cid != y->cid || x->hlc != y->hlc || !x->personal != !y->personal)
			return (long)i;
		int gone = x->personal && (purged || (drop && drop[i]));
		if (gone ? y->value.type != PLEIN_V_PURGED : !same_value(&x->value, &y->value))
			return (long)i;
	}
	return -1;
}

/* ---- sealing --------------------------------------------------------- */

/* The causal context of the test batches (and of the documented vector):
 * the signer had applied batches 1..7 of one site and 1..300 of another. */
static plein_seen ctx2[2];

static void test_context(void)
{
	memset(ctx2[0].pk, 0x11, 32);
	ctx2[0].seq = 7;
	memset(ctx2[1].pk, 0xee, 32);
	ctx2[1].seq = 300;
}

static int same_context(const plein_batch *b, const plein_seen *c, size_t n)
{
	if (b->ncontext != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (memcmp(b->context[i].pk, c[i].pk, 32) != 0 || b->context[i].seq != c[i].seq)
			return 0;
	return 1;
}

typedef struct {
	plein_batch_header h;
	plein_buf payload, personal;
	unsigned char hb[PLEIN_BATCH_HEADER_BYTES], sig[PLEIN_BATCH_SIG_BYTES];
} sealed;

static void sealed_free(sealed *s)
{
	plein_buf_free(&s->payload);
	plein_buf_free(&s->personal);
}

static int seal(sealed *s, const plein_change *c, size_t n, uint64_t seq, const unsigned char *prev)
{
	memset(s, 0, sizeof *s);
	for (int i = 0; i < 16; i++)
		s->h.network_id[i] = (unsigned char)(0xa0 + i);
	memcpy(s->h.site_pk, pk, 32);
	s->h.seq = seq;
	if (prev)
		memcpy(s->h.prev_hash, prev, 32);
	s->h.schema_version = 1;
	test_context();
	int rc = plein_batch_encode(&s->h, &s->payload, &s->personal, ctx2, 2, c, n, 1, NULL);
	return rc < 0 ? rc : plein_batch_seal(s->hb, s->sig, &s->h, sk);
}

static int decode(plein_batch **out, const sealed *s, int with_personal)
{
	return plein_batch_decode(out, &s->h, s->payload.data, s->payload.len,
				  with_personal ? s->personal.data : NULL, with_personal ? s->personal.len : 0);
}

/* plein_batch_open, then plein_batch_next `part` changes at a time to the
 * end: the changes copied onto all, and the refusal or 0. A part larger
 * than asked for, or an empty one before the end, fails the test. */
static int read_parts(plein_changeset *all, const plein_batch_header *h, const unsigned char *payload,
		      size_t payload_len, const unsigned char *personal, size_t personal_len, size_t part)
{
	plein_batch *b = NULL;
	int rc = plein_batch_open(&b, h, payload, payload_len, personal, personal_len);
	while (rc == 0 && (rc = plein_batch_next(b, part)) > 0) {
		if (b->n < 1 || b->n > part) {
			printf("# a part of %zu changes (at most %zu asked)\n", b->n, part);
			rc = -100;
			break;
		}
		for (size_t i = 0; i < b->n; i++)
			plein_changeset_add(all, &b->changes[i]);
		rc = 0;
	}
	if (rc == 0 && b->n != 0)
		rc = -101;
	plein_batch_free(b);
	return rc;
}

/* Does reading in parts give what decoding whole gave (rc and message)? */
static int parts_agree(int whole_rc, const plein_batch_header *h, const unsigned char *payload, size_t payload_len,
		       const unsigned char *personal, size_t personal_len)
{
	char whole_msg[600];
	snprintf(whole_msg, sizeof whole_msg, "%s", whole_rc < 0 ? plein_error() : "");
	static const size_t parts[] = { 1, 2, 7 };
	for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
		plein_changeset all = PLEIN_CHANGESET_INIT;
		int rc = read_parts(&all, h, payload, payload_len, personal, personal_len, parts[i]);
		plein_changeset_free(&all);
		if (rc != whole_rc || (rc < 0 && strcmp(plein_error(), whole_msg) != 0)) {
			printf("# in parts of %zu: %d (%s); whole: %d (%s)\n", parts[i], rc, rc < 0 ? plein_error() : "",
			       whole_rc, whole_msg);
			return 0;
		}
	}
	if (whole_rc < 0)
		plein_fail(whole_rc, "%s", whole_msg); /* the caller checks the message too */
	return 1;
}

/* A header for arbitrary inflated bytes, so the payload grammar itself can
 * be fed anything: compressed here, hash and lengths set to match. */
static int decode_raw(plein_batch **out, const unsigned char *raw, size_t n, uint32_t count,
		      int64_t lo, int64_t hi, const unsigned char *praw, size_t pn)
{
	plein_batch_header h;
	memset(&h, 0, sizeof h);
	memcpy(h.site_pk, pk, 32);
	h.seq = 1;
	h.schema_version = 1;
	h.count = count;
	h.hlc_min = lo;
	h.hlc_max = hi;
	h.raw_len = (uint32_t)n;
	uLongf zn = compressBound(n), pzn = compressBound(pn);
	unsigned char *z = malloc(zn), *pz = malloc(pzn);
	compress2(z, &zn, raw, n, 1);
	if (praw)
		compress2(pz, &pzn, praw, pn, 1);
	h.payload_len = (uint32_t)zn;
	crypto_generichash(h.payload_hash, 32, z, zn, NULL, 0);
	*out = NULL;
	int rc = plein_batch_decode(out, &h, z, zn, praw ? pz : NULL, praw ? pzn : 0);
	if (!parts_agree(rc, &h, z, zn, praw ? pz : NULL, praw ? pzn : 0))
		rc = -102;
	free(z);
	free(pz);
	return rc;
}

static int msg_has(const char *s)
{
	if (strstr(plein_error(), s))
		return 1;
	printf("# message: %s\n", plein_error());
	return 0;
}

/* ---- round trips ----------------------------------------------------- */

TEST(round_trip_of_a_working_day_with_and_without_the_personal_part)
{
	plein_changeset cs = PLEIN_CHANGESET_INIT;
	sealed s;
	plein_batch *b = NULL, *c = NULL;
	plein_batch_header v;
	test_key();
	build_mix(&cs, 400);
	build_edges(&cs);
	CHECK_OK(seal(&s, cs.v, cs.n, 1, NULL));
	CHECK(s.personal.len > 0);
	CHECK_OK(plein_batch_verify(&v, s.hb, sizeof s.hb, s.sig));
	CHECK(memcmp(&v, &s.h, sizeof v) == 0);
	CHECK_EQ_INT(v.count, cs.n);

	CHECK_OK(decode(&b, &s, 1));
	CHECK_EQ_INT(first_diff(cs.v, b, cs.n, 0, NULL), -1);
	CHECK(same_context(b, ctx2, 2));
	CHECK_OK(decode(&c, &s, 0));
	CHECK_EQ_INT(first_diff(cs.v, c, cs.n, 1, NULL), -1);
	CHECK(same_context(c, ctx2, 2));
	plein_batch_free(b);
	plein_batch_free(c);
	sealed_free(&s);
	plein_changeset_free(&cs);
}

TEST(read_in_parts_a_batch_gives_the_changes_of_a_whole_decode)
{
	plein_changeset cs = PLEIN_CHANGESET_INIT;
	sealed s;
	plein_batch *b = NULL;
	test_key();
	build_mix(&cs, 400);
	build_edges(&cs);
	CHECK_OK(seal(&s, cs.v, cs.n, 1, NULL));
	static const size_t parts[] = { 1, 3, 64, 1000, SIZE_MAX };
	for (size_t i = 0; i < sizeof parts / sizeof *parts; i++)
		for (int with_personal = 0; with_personal < 2; with_personal++) {
			plein_changeset all = PLEIN_CHANGESET_INIT;
			CHECK_OK(read_parts(&all, &s.h, s.payload.data, s.payload.len,
					    with_personal ? s.personal.data : NULL, with_personal ? s.personal.len : 0,
					    parts[i]));
			plein_batch v;
			memset(&v, 0, sizeof v);
			v.n = all.n;
			v.changes = all.v;
			CHECK_EQ_INT(first_diff(cs.v, &v, cs.n, !with_personal, NULL), -1);
			plein_changeset_free(&all);
		}
	/* the context comes with the opening, before any change */
	CHECK_OK(plein_batch_open(&b, &s.h, s.payload.data, s.payload.len, NULL, 0));
	CHECK_EQ_INT(b->n, 0);
	CHECK(same_context(b, ctx2, 2));
	/* a part of no changes is no way to read */
	CHECK_EQ_INT(plein_batch_next(b, 0), PLEIN_EINVAL);
	plein_batch_free(b);
	sealed_free(&s);
	plein_changeset_free(&cs);
}

TEST(a_batch_without_personal_values_has_no_personal_part)
{
	plein_changeset cs = PLEIN_CHANGESET_INIT;
	sealed s;
	plein_batch *b = NULL;
	test_key();
	ADD(&cs, 1, "L1", 1, -1, H0, vnull());
	ADD(&cs, 1, "L1", 1, 0, H0, vtext("Centrum"));
	CHECK_OK(seal(&s, cs.v, cs.n, 1, NULL));
	CHECK_EQ_INT(s.personal.len, 0);
	CHECK_OK(decode(&b, &s, 1));
	CHECK_EQ_INT(first_diff(cs.v, b, cs.n, 0, NULL), -1);
	plein_batch_free(b);
	/* a personal part where none belongs is refused */
	unsigned char one = 1;
	uLongf zn = 64;
	unsigned char z[64];
	compress2(z, &zn, &one, 1, 1);
	CHECK_EQ_INT(plein_batch_decode(&b, &s.h, s.payload.data, s.payload.len, z, zn), PLEIN_EREJECT);
	CHECK(msg_has("after its last value"));
	sealed_free(&s);
	plein_changeset_free(&cs);
}

TEST(purging_one_value_keeps_the_others_and_the_signature)
{
	plein_changeset cs = PLEIN_CHANGESET_INIT;
	sealed s;
	plein_batch *b = NULL, *c = NULL, *e = NULL;
	plein_buf p1 = PLEIN_BUF_INIT, p2 = PLEIN_BUF_INIT;
	plein_batch_header v;
	test_key();
	build_mix(&cs, 64);
	CHECK_OK(seal(&s, cs.v, cs.n, 1, NULL));
	CHECK_OK(decode(&b, &s, 1));
	unsigned char *drop = calloc(cs.n, 1);
	size_t first = 0, npersonal = 0;
	for (size_t i = 0; i < cs.n; i++)
		if (cs.v[i].personal && !npersonal++)
			first = i;
	CHECK(npersonal >= 2);
	drop[first] = 1;
	CHECK_OK(plein_batch_purge(&p1, b, drop, 1));
	CHECK(p1.len > 0);
	/* the header and payload are untouched: the batch still verifies */
	CHECK_OK(plein_batch_verify(&v, s.hb, sizeof s.hb, s.sig));
	CHECK_OK(plein_batch_decode(&c, &s.h, s.payload.data, s.payload.len, p1.data, p1.len));
	CHECK_EQ_INT(first_diff(cs.v, c, cs.n, 0, drop), -1);
	CHECK_EQ_INT(c->changes[first].value.type, PLEIN_V_PURGED);
	/* purging everything leaves no personal part at all */
	memset(drop, 1, cs.n);
	CHECK_OK(plein_batch_purge(&p2, c, drop, 1));
	CHECK_EQ_INT(p2.len, 0);
	CHECK_OK(plein_batch_decode(&e, &s.h, s.payload.data, s.payload.len, p2.data, p2.len));
	CHECK_EQ_INT(first_diff(cs.v, e, cs.n, 1, NULL), -1);
	free(drop);
	plein_buf_free(&p1);
	plein_buf_free(&p2);
	plein_batch_free(b);
	plein_batch_free(c);
	plein_batch_free(e);
	sealed_free(&s);
	plein_changeset_free(&cs);
}

TEST(a_chain_names_the_previous_batch_by_its_hash)
{
	plein_changeset cs = PLEIN_CHANGESET_INIT;
	sealed s1, s2;
	unsigned char h1[32], h1b[32];
	plein_batch_header v;
	test_key();
	ADD(&cs, 1, "L1", 1, -1, H0, vnull());
	CHECK_OK(seal(&s1, cs.v, cs.n, 1, NULL));
	plein_batch_hash(h1, s1.hb, s1.sig);
	CHECK_OK(seal(&s2, cs.v, cs.n, 2, h1));
	CHECK_OK(plein_batch_verify(&v, s2.hb, sizeof s2.hb, s2.sig));
	CHECK(memcmp(v.prev_hash, h1, 32) == 0);
	/* the hash covers the signature too */
	s1.sig[0] ^= 1;
	plein_batch_hash(h1b, s1.hb, s1.sig);
	CHECK(memcmp(h1, h1b, 32) != 0);
	/* seq 1 names nothing, later batches name something */
	sealed bad;
	CHECK_EQ_INT(seal(&bad, cs.v, cs.n, 1, h1), PLEIN_EINVAL);
	sealed_free(&bad);
	CHECK_EQ_INT(seal(&bad, cs.v, cs.n, 2, NULL), PLEIN_EINVAL);
	sealed_free(&bad);
	CHECK_EQ_INT(seal(&bad, cs.v, cs.n, 0, NULL), PLEIN_EINVAL);
	sealed_free(&bad);
	sealed_free(&s1);
	sealed_free(&s2);
	plein_changeset_free(&cs);
}

TEST(encode_refuses_what_it_cannot_write)
{
	plein_changeset cs = PLEIN_CHANGESET_INIT;
	plein_batch_header h;
	plein_buf p = PLEIN_BUF_INIT, q = PLEIN_BUF_INIT;
	static const struct { int tid, cid; int64_t cl, hlc; int type; const char *why; } bad[] = {
		{ 1, 62, 1, 1, PLEIN_V_NULL, "column number 62" },
		{ 1, -2, 1, 1, PLEIN_V_NULL, "column number -2" },
		{ 65536, 0, 1, 1, PLEIN_V_NULL, "table number" },
		{ -1, 0, 1, 1, PLEIN_V_NULL, "table number" },
		{ 1, 0, -1, 1, PLEIN_V_NULL, "negative" },
		{ 1, 0, 1, -1, PLEIN_V_NULL, "negative" },
		{ 1, 0, 1, 1, PLEIN_V_PURGED, "purged" },
		{ 1, 0, 1, 1, 9, "value type 9" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		plein_change c = { bad[i].tid, "x", 1, bad[i].cl, bad[i].cid, bad[i].hlc, 0, vnull() };
		c.value.type = bad[i].type;
		CHECK_EQ_INT(plein_batch_encode(&h, &p, &q, NULL, 0, &c, 1, 1, NULL), PLEIN_EINVAL);
		CHECK(msg_has(bad[i].why));
		CHECK_EQ_INT(p.len + q.len, 0);
	}
	plein_change ok = { 1, "x", 1, 1, 0, 1, 0, vnull() };
	CHECK_EQ_INT(plein_batch_encode(&h, &p, &q, NULL, 0, &ok, 0, 1, NULL), PLEIN_EINVAL);
	CHECK_EQ_INT(plein_batch_encode(&h, &p, &q, NULL, 0, &ok, 1, 10, NULL), PLEIN_EINVAL);
	ok.id_len = PLEIN_BATCH_MAX_ID + 1;
	CHECK_EQ_INT(plein_batch_encode(&h, &p, &q, NULL, 0, &ok, 1, 1, NULL), PLEIN_EINVAL);
	/* a key that is not the header's site key cannot seal */
	unsigned char pk2[32], sk2[64], hb[PLEIN_BATCH_HEADER_BYTES], sig[64];
	test_key();
	ADD(&cs, 1, "L1", 1, -1, H0, vnull());
	memset(&h, 0, sizeof h);
	memcpy(h.site_pk, pk, 32);
	h.seq = 1;
	h.schema_version = 1;
	CHECK_OK(plein_batch_encode(&h, &p, &q, NULL, 0, cs.v, cs.n, 1, NULL));
	crypto_sign_keypair(pk2, sk2);
	CHECK_EQ_INT(plein_batch_seal(hb, sig, &h, sk2), PLEIN_EINVAL);
	CHECK(msg_has("not the header's site key"));
	plein_buf_free(&p);
	plein_buf_free(&q);
	plein_changeset_free(&cs);
}

TEST(a_context_round_trips_empty_or_full)
{
	plein_changeset cs = PLEIN_CHANGESET_INIT;
	plein_batch_header h;
	plein_buf p = PLEIN_BUF_INIT, q = PLEIN_BUF_INIT;
	plein_batch *b = NULL;
	static plein_seen full[PLEIN_BATCH_MAX_CONTEXT];
	test_key();
	ADD(&cs, 1, "L1", 1, -1, H0, vnull());
	/* every size up to the limit; keys in order, seqs of every varint length */
	size_t sizes[] = { 0, 1, PLEIN_BATCH_MAX_CONTEXT };
	for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
		size_t n = sizes[k];
		for (size_t i = 0; i < n; i++) {
			memset(full[i].pk, 0, 32);
			full[i].pk[0] = (unsigned char)(i >> 8);
			full[i].pk[1] = (unsigned char)i;
			full[i].seq = i == n - 1 ? (uint64_t)INT64_MAX : (uint64_t)1 << (i % 63);
		}
		memset(&h, 0, sizeof h);
		memcpy(h.site_pk, pk, 32);
		h.seq = 1;
		h.schema_version = 1;
		plein_buf_reset(&p);
		plein_buf_reset(&q);
		CHECK_OK(plein_batch_encode(&h, &p, &q, full, n, cs.v, cs.n, 1, NULL));
		CHECK_OK(plein_batch_decode(&b, &h, p.data, p.len, NULL, 0));
		CHECK(same_context(b, full, n));
		CHECK_EQ_INT(first_diff(cs.v, b, cs.n, 0, NULL), -1);
		plein_batch_free(b);
		b = NULL;
	}
	plein_buf_free(&p);
	plein_buf_free(&q);
	plein_changeset_free(&cs);
}

TEST(encode_refuses_a_context_that_breaks_the_rules)
{
	plein_changeset cs = PLEIN_CHANGESET_INIT;
	plein_batch_header h;
	plein_buf p = PLEIN_BUF_INIT, q = PLEIN_BUF_INIT;
	static plein_seen many[PLEIN_BATCH_MAX_CONTEXT + 1];
	plein_seen c[2];
	test_key();
	ADD(&cs, 1, "L1", 1, -1, H0, vnull());
	memset(&h, 0, sizeof h);
	memcpy(h.site_pk, pk, 32);
	h.seq = 1;
	h.schema_version = 1;
	static const struct { unsigned char a, b; uint64_t sa, sb; const char *why; } bad[] = {
		{ 0x22, 0x11, 1, 1, "sorted and distinct" },
		{ 0x11, 0x11, 1, 2, "sorted and distinct" },
		{ 0x11, 0x22, 0, 1, "sequence number 0" },
		{ 0x11, 0x22, 1, (uint64_t)INT64_MAX + 1, "out of range" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		memset(c[0].pk, bad[i].a, 32);
		memset(c[1].pk, bad[i].b, 32);
		c[0].seq = bad[i].sa;
		c[1].seq = bad[i].sb;
		CHECK_EQ_INT(plein_batch_encode(&h, &p, &q, c, 2, cs.v, cs.n, 1, NULL), PLEIN_EINVAL);
		CHECK(msg_has(bad[i].why));
		CHECK_EQ_INT(p.len + q.len, 0);
	}
	memcpy(c[0].pk, pk, 32); /* the signer itself */
	c[0].seq = 1;
	CHECK_EQ_INT(plein_batch_encode(&h, &p, &q, c, 1, cs.v, cs.n, 1, NULL), PLEIN_EINVAL);
	CHECK(msg_has("names the signer itself"));
	for (size_t i = 0; i < PLEIN_BATCH_MAX_CONTEXT + 1; i++) {
		memset(many[i].pk, 0, 32);
		many[i].pk[0] = (unsigned char)(i >> 8);
		many[i].pk[1] = (unsigned char)i;
		many[i].seq = 1;
	}
	CHECK_EQ_INT(plein_batch_encode(&h, &p, &q, many, PLEIN_BATCH_MAX_CONTEXT + 1, cs.v, cs.n, 1, NULL),
		     PLEIN_EINVAL);
	CHECK(msg_has("at most 4096"));
	CHECK_EQ_INT(p.len + q.len, 0);
	plein_buf_free(&p);
	plein_buf_free(&q);
	plein_changeset_free(&cs);
}

/* ---- forgery and damage ---------------------------------------------- */

TEST(every_altered_header_byte_is_refused)
{
	plein_changeset cs = PLEIN_CHANGESET_INIT;
	sealed s1, s;
	unsigned char h1[32];
	plein_batch_header v;
	test_key();
	build_mix(&cs, 16);
	CHECK_OK(seal(&s1, cs.v, cs.n, 1, NULL));
	plein_batch_hash(h1, s1.hb, s1.sig);
	CHECK_OK(seal(&s, cs.v, cs.n, 2, h1));
	for (size_t i = 0; i < PLEIN_BATCH_HEADER_BYTES; i++) {
		for (int bit = 0; bit < 8; bit += 7) {
			s.hb[i] ^= (unsigned char)(1 << bit);
			int rc = plein_batch_verify(&v, s.hb, sizeof s.hb, s.sig);
			s.hb[i] ^= (unsigned char)(1 << bit);
			if (rc != PLEIN_EREJECT)
				FAIL_AT("flipping bit %d of header byte %zu gave %d", bit, i, rc);
			/* fields with no structural rule fall to the signature */
			int sig_only = (i >= 8 && i < 56) || (i >= 64 && i < 96) || i >= 124;
			if (sig_only && !strstr(plein_error(), "signature does not match"))
				FAIL_AT("byte %zu: %s", i, plein_error());
		}
	}
	CHECK_OK(plein_batch_verify(&v, s.hb, sizeof s.hb, s.sig));
	for (size_t i = 0; i < PLEIN_BATCH_SIG_BYTES; i++) {
		s.sig[i] ^= 0x10;
		int rc = plein_batch_verify(&v, s.hb, sizeof s.hb, s.sig);
		s.sig[i] ^= 0x10;
		CHECK_EQ_INT(rc, PLEIN_EREJECT);
	}
	sealed_free(&s1);
	sealed_free(&s);
	plein_changeset_free(&cs);
}

TEST(a_signature_by_another_key_is_refused)
{
	plein_changeset cs = PLEIN_CHANGESET_INIT;
	sealed s;
	unsigned char pk2[32], sk2[64], sig[64];
	plein_batch_header v;
	test_key();
	ADD(&cs, 1, "L1", 1, -1, H0, vnull());
	CHECK_OK(seal(&s, cs.v, cs.n, 1, NULL));
	crypto_sign_keypair(pk2, sk2);
	/* the header names our site; another key signs it */
	crypto_sign_detached(sig, NULL, s.hb, sizeof s.hb, sk2);
	CHECK_EQ_INT(plein_batch_verify(&v, s.hb, sizeof s.hb, sig), PLEIN_EREJECT);
	CHECK(msg_has("signature does not match"));
	/* the same batch replayed under another site's name */
	memcpy(s.hb + 24, pk2, 32);
	CHECK_EQ_INT(plein_batch_verify(&v, s.hb, sizeof s.hb, s.sig), PLEIN_EREJECT);
	sealed_free(&s);
	plein_changeset_free(&cs);
}

TEST(every_altered_payload_or_personal_byte_is_refused)
{
	plein_changeset cs = PLEIN_CHANGESET_INIT;
	sealed s;
	plein_batch *b = NULL;
	test_key();
	build_mix(&cs, 24);
	CHECK_OK(seal(&s, cs.v, cs.n, 1, NULL));
	for (size_t i = 0; i < s.payload.len; i++) {
		s.payload.data[i] ^= 0x01;
		int rc = decode(&b, &s, 1);
		s.payload.data[i] ^= 0x01;
		CHECK(b == NULL);
		if (rc != PLEIN_EREJECT || !strstr(plein_error(), "payload hash does not match the signed header"))
			FAIL_AT("payload byte %zu: %d %s", i, rc, plein_error());
	}
	for (size_t i = 0; i < s.personal.len; i++) {
		s.personal.data[i] ^= 0x01;
		int rc = decode(&b, &s, 1);
		s.personal.data[i] ^= 0x01;
		CHECK(b == NULL);
		if (rc != PLEIN_EREJECT)
			FAIL_AT("personal byte %zu: %d", i, rc);
	}
	CHECK_OK(decode(&b, &s, 1));
	plein_batch_free(b);
	sealed_free(&s);
	plein_changeset_free(&cs);
}

TEST(truncation_at_every_length_is_refused)
{
	plein_changeset cs = PLEIN_CHANGESET_INIT;
	sealed s;
	plein_batch *b = NULL;
	plein_batch_header v;
	test_key();
	build_mix(&cs, 12);
	CHECK_OK(seal(&s, cs.v, cs.n, 1, NULL));
	for (size_t n = 0; n < sizeof s.hb; n++) {
		CHECK_EQ_INT(plein_batch_verify(&v, s.hb, n, s.sig), PLEIN_EREJECT);
		CHECK_EQ_INT(plein_batch_header_parse(&v, s.hb, n), PLEIN_EREJECT);
	}
	for (size_t n = 0; n < s.payload.len; n++) {
		CHECK_EQ_INT(plein_batch_decode(&b, &s.h, s.payload.data, n, NULL, 0), PLEIN_EREJECT);
		CHECK(b == NULL);
	}
	/* a personal part cut short: refused at every length but 0 (absent) */
	for (size_t n = 1; n < s.personal.len; n++)
		CHECK_EQ_INT(plein_batch_decode(&b, &s.h, s.payload.data, s.payload.len, s.personal.data, n),
			     PLEIN_EREJECT);
	/* the grammar itself, cut at every byte and re-signed to match */
	unsigned char *raw = malloc(s.h.raw_len);
	uLongf rn = s.h.raw_len;
	CHECK(uncompress(raw, &rn, s.payload.data, s.payload.len) == Z_OK);
	for (size_t n = 0; n < rn; n++) {
		int rc = decode_raw(&b, raw, n, s.h.count, s.h.hlc_min, s.h.hlc_max, NULL, 0);
		if (rc != PLEIN_EREJECT || b)
			FAIL_AT("inflated payload cut at %zu: %d", n, rc);
	}
	CHECK_OK(decode_raw(&b, raw, rn, s.h.count, s.h.hlc_min, s.h.hlc_max, NULL, 0));
	plein_batch_free(b);
	free(raw);
	sealed_free(&s);
	plein_changeset_free(&cs);
}

TEST(zlib_bombs_are_refused)
{
	plein_changeset cs = PLEIN_CHANGESET_INIT;
	sealed s;
	plein_batch *b = NULL;
	test_key();
	ADD(&cs, 1, "L1", 1, -1, H0, vnull());
	add(&cs, 10, "R1", 2, 1, 10, H0, 1, vblob("x", 1));
	CHECK_OK(seal(&s, cs.v, cs.n, 1, NULL));

	/* a payload that inflates far beyond what the header declares */
	size_t big = 16u << 20;
	unsigned char *zeros = calloc(1, big);
	uLongf zn = compressBound(big);
	unsigned char *z = malloc(zn);
	CHECK(compress2(z, &zn, zeros, big, 1) == Z_OK);
	plein_batch_header h = s.h;
	h.payload_len = (uint32_t)zn;
	h.raw_len = (uint32_t)zn; /* as much as a compressed size can claim */
	crypto_generichash(h.payload_hash, 32, z, zn, NULL, 0);
	CHECK_EQ_INT(plein_batch_decode(&b, &h, z, zn, NULL, 0), PLEIN_EREJECT);
	CHECK(msg_has("inflates beyond"));
	/* a header that declares more than its payload could ever hold */
	h.payload_len = 100;
	h.raw_len = 100 * 1033;
	crypto_generichash(h.payload_hash, 32, z, 100, NULL, 0);
	CHECK_EQ_INT(plein_batch_decode(&b, &h, z, 100, NULL, 0), PLEIN_EREJECT);
	CHECK(msg_has("cannot inflate to"));
	h.raw_len = PLEIN_BATCH_MAX_RAW + 1;
	CHECK_EQ_INT(plein_batch_decode(&b, &h, z, zn, NULL, 0), PLEIN_EREJECT);
	CHECK(msg_has("exceeds the limit"));
	free(z);
	free(zeros);

	/* a personal part (its length is not signed) beyond the format's limit */
	big = PLEIN_BATCH_MAX_RAW + 4096;
	zeros = calloc(1, big);
	zeros[0] = 1;
	zn = compressBound(big);
	z = malloc(zn);
	CHECK(compress2(z, &zn, zeros, big, 1) == Z_OK);
	CHECK_EQ_INT(plein_batch_decode(&b, &s.h, s.payload.data, s.payload.len, z, zn), PLEIN_EREJECT);
	CHECK(msg_has("personal part inflates beyond"));
	CHECK(b == NULL);
	free(z);
	free(zeros);
	sealed_free(&s);
	plein_changeset_free(&cs);
}

/* ---- the payload grammar, byte by byte -------------------------------- */

/* Row "L1" of table 1: exists (cl 1), column 0 = "x"; both at clock 5. */
static const unsigned char good[] = { 0x00, 0x01, 0x02, 'L', '1', 0x01, 0x02, 0x00, 0x00, 0x0b, 0x00, 0x01, 'x' };

static int raw_case(const unsigned char *raw, size_t n, uint32_t count, const char *why)
{
	plein_batch *b = NULL;
	int rc = decode_raw(&b, raw, n, count, 5, 5, NULL, 0);
	plein_batch_free(b);
	if (why && (rc != PLEIN_EREJECT || !strstr(plein_error(), why))) {
		printf("# expected \"%s\", got %d: %s\n", why, rc, plein_error());
		return 0;
	}
	return why || rc == 0;
}

TEST(malformed_payloads_are_refused_by_name)
{
	test_key();
	CHECK(raw_case(good, sizeof good, 2, NULL));
	{ /* a varint with a redundant zero byte */
		unsigned char r[] = { 0x00, 0x81, 0x00, 0x02, 'L', '1', 0x01, 0x02, 0x00, 0x00, 0x0b, 0x00, 0x01, 'x' };
		CHECK(raw_case(r, sizeof r, 2, "malformed number at byte 1"));
	}
	{ /* value type 6 */
		unsigned char r[] = { 0x00, 0x01, 0x02, 'L', '1', 0x01, 0x02, 0x00, 0x00, 0x0e, 0x00 };
		CHECK(raw_case(r, sizeof r, 2, "unknown value type 6"));
	}
	{ /* column 62 */
		unsigned char r[] = { 0x00, 0x01, 0x02, 'L', '1', 0x01, 0x01, 0xf8, 0x03, 0x00 };
		CHECK(raw_case(r, sizeof r, 1, "column 62 at byte 7 is out of range"));
	}
	{ /* table 65536 */
		unsigned char r[] = { 0x00, 0x80, 0x80, 0x04, 0x02, 'L', '1', 0x01, 0x01, 0x00, 0x00 };
		CHECK(raw_case(r, sizeof r, 1, "table number 65536"));
	}
	{ /* a second row the header does not count */
		unsigned char r[sizeof good + 6];
		memcpy(r, good, sizeof good);
		memcpy(r + sizeof good, (unsigned char[]){ 0x01, 0x01, 'M', 0x01, 0x01, 0x00 }, 6);
		CHECK(raw_case(r, sizeof r, 2, "the header allows 0 more"));
	}
	CHECK(raw_case(good, sizeof good, 3, "payload holds 2 changes, the signed header says 3"));
	CHECK(raw_case(good, sizeof good - 1, 2, "truncated at byte 12"));
	{ /* the same row split in two groups */
		unsigned char r[] = { 0x00, 0x01, 0x02, 'L', '1', 0x01, 0x01, 0x00, 0x00,
				      0x01, 0x02, 'L', '1', 0x01, 0x01, 0x0b, 0x00, 0x01, 'x' };
		CHECK(raw_case(r, sizeof r, 2, "continues the row before it"));
	}
	{ /* a row with no changes */
		unsigned char r[] = { 0x00, 0x01, 0x02, 'L', '1', 0x01, 0x00 };
		CHECK(raw_case(r, sizeof r, 1, "has 0 changes"));
	}
	{ /* a clock past the signed range */
		unsigned char r[] = { 0x00, 0x01, 0x02, 'L', '1', 0x01, 0x02, 0x00, 0x00, 0x0b, 0x02, 0x01, 'x' };
		CHECK(raw_case(r, sizeof r, 2, "outside the signed range"));
	}
	{ /* a text value longer than what is left */
		unsigned char r[] = { 0x00, 0x01, 0x02, 'L', '1', 0x01, 0x02, 0x00, 0x00, 0x0b, 0x00, 0x05, 'x' };
		CHECK(raw_case(r, sizeof r, 2, "runs past the end"));
	}
	{ /* a row id longer than what is left */
		unsigned char r[] = { 0x00, 0x01, 0x7f, 'L', '1', 0x01, 0x01, 0x00, 0x00 };
		CHECK(raw_case(r, sizeof r, 1, "truncated"));
	}
	{ /* a causal length over 2^63-1 */
		unsigned char r[] = { 0x00, 0x01, 0x01, 'L', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
				      0x01, 0x00, 0x00 };
		CHECK(raw_case(r, sizeof r, 1, "causal length"));
	}
	/* the header's range must be the payload's exact range */
	plein_batch *b = NULL;
	CHECK_EQ_INT(decode_raw(&b, good, sizeof good, 2, 5, 6, NULL, 0), PLEIN_EREJECT);
	CHECK(msg_has("do not span the signed range"));
}

/* A context (n, then entries of pk and seq) in front of good's row. */
static int ctx_case(const unsigned char *ctx, size_t n, const char *why)
{
	unsigned char r[256];
	memcpy(r, ctx, n);
	memcpy(r + n, good + 1, sizeof good - 1);
	return raw_case(r, n + sizeof good - 1, 2, why);
}

/* One entry: a key of byte k (or the signer's when k is 0), then seq bytes. */
static size_t entry(unsigned char *o, unsigned char k, const unsigned char *seq, size_t n)
{
	if (k)
		memset(o, k, 32);
	else
		memcpy(o, pk, 32);
	memcpy(o + 32, seq, n);
	return 32 + n;
}

TEST(malformed_contexts_are_refused_by_name)
{
	unsigned char c[200];
	size_t n;
	static const unsigned char one[] = { 0x01 }, zero[] = { 0x00 }, padded[] = { 0x81, 0x00 },
		top[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f },                 /* 2^63-1 */
		over[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 };         /* 2^63 */
	test_key();
	c[0] = 2;
	n = 1 + entry(c + 1, 0x11, one, 1);
	n += entry(c + n, 0x22, top, sizeof top);
	CHECK(ctx_case(c, n, NULL));
	n = 1 + entry(c + 1, 0x22, one, 1);
	n += entry(c + n, 0x11, one, 1);
	CHECK(ctx_case(c, n, "context entry at byte 34 is not sorted"));
	n = 1 + entry(c + 1, 0x11, one, 1);
	n += entry(c + n, 0x11, top, sizeof top);
	CHECK(ctx_case(c, n, "(or repeats it)"));
	c[0] = 1;
	n = 1 + entry(c + 1, 0x11, zero, 1);
	CHECK(ctx_case(c, n, "names batch 0"));
	n = 1 + entry(c + 1, 0x11, over, sizeof over);
	CHECK(ctx_case(c, n, "names batch 9223372036854775808"));
	n = 1 + entry(c + 1, 0x11, padded, sizeof padded);
	CHECK(ctx_case(c, n, "malformed number at byte 33"));
	n = 1 + entry(c + 1, 0, one, 1);
	CHECK(ctx_case(c, n, "names the signer itself"));
	/* the count: over the limit, padded, more than the bytes hold */
	CHECK(ctx_case((unsigned char[]){ 0x81, 0x20 }, 2, "a context of 4097 entries (at most 4096)"));
	CHECK(ctx_case((unsigned char[]){ 0x80, 0x00 }, 2, "malformed number at byte 0"));
	c[0] = 3;
	n = 1 + entry(c + 1, 0x11, one, 1);
	CHECK(ctx_case(c, n, "truncated"));
	/* an entry cut in its key */
	unsigned char cut[] = { 0x01, 0x11, 0x11, 0x11 };
	plein_batch *b = NULL;
	CHECK_EQ_INT(decode_raw(&b, cut, sizeof cut, 1, 5, 5, NULL, 0), PLEIN_EREJECT);
	CHECK(b == NULL);
}

TEST(personal_values_must_match_their_hash)
{
	/* row R1 of table 10, column 10 personal: BLOB "abc" behind its hash */
	unsigned char raw[1 + 8 + 32], praw[1 + 16 + 5];
	unsigned char salt[16];
	plein_batch *b = NULL;
	test_key();
	memset(salt, 7, sizeof salt);
	memcpy(raw, (unsigned char[]){ 0x00, 0x0a, 0x02, 'R', '1', 0x01, 0x01, (11 << 3) | 5, 0x00 }, 9);
	praw[0] = 1;
	memcpy(praw + 1, salt, 16);
	memcpy(praw + 17, (unsigned char[]){ PLEIN_V_BLOB, 0x03, 'a', 'b', 'c' }, 5);
	crypto_generichash(raw + 9, 32, praw + 17, 5, salt, 16);
	size_t rn = 9 + 32;

	CHECK_OK(decode_raw(&b, raw, rn, 1, 5, 5, praw, sizeof praw));
	CHECK_EQ_INT(b->changes[0].value.type, PLEIN_V_BLOB);
	CHECK_EQ_INT(b->changes[0].value.n, 3);
	CHECK(memcmp(b->changes[0].value.p, "abc", 3) == 0);
	CHECK_EQ_INT(b->changes[0].personal, 1);
	plein_batch_free(b);
	CHECK_OK(decode_raw(&b, raw, rn, 1, 5, 5, NULL, 0));
	CHECK_EQ_INT(b->changes[0].value.type, PLEIN_V_PURGED);
	plein_batch_free(b);
	CHECK_OK(decode_raw(&b, raw, rn, 1, 5, 5, (unsigned char[]){ 0 }, 1));
	CHECK_EQ_INT(b->changes[0].value.type, PLEIN_V_PURGED);
	plein_batch_free(b);

	praw[21] = 'C'; /* another value */
	CHECK_EQ_INT(decode_raw(&b, raw, rn, 1, 5, 5, praw, sizeof praw), PLEIN_EREJECT);
	CHECK(msg_has("personal value of change 0 does not match its hash"));
	praw[21] = 'c';
	praw[17] = PLEIN_V_TEXT; /* the same bytes as another type */
	CHECK_EQ_INT(decode_raw(&b, raw, rn, 1, 5, 5, praw, sizeof praw), PLEIN_EREJECT);
	CHECK(msg_has("does not match its hash"));
	praw[17] = PLEIN_V_BLOB;
	praw[1] ^= 1; /* another salt */
	CHECK_EQ_INT(decode_raw(&b, raw, rn, 1, 5, 5, praw, sizeof praw), PLEIN_EREJECT);
	praw[1] ^= 1;
	praw[0] = 2;
	CHECK_EQ_INT(decode_raw(&b, raw, rn, 1, 5, 5, praw, sizeof praw), PLEIN_EREJECT);
	CHECK(msg_has("unknown marker 2"));
	praw[0] = 1;
	CHECK_EQ_INT(decode_raw(&b, raw, rn, 1, 5, 5, praw, 0), PLEIN_EREJECT);
	CHECK(msg_has("ends before the value of change 0"));
	CHECK_EQ_INT(decode_raw(&b, raw, rn, 1, 5, 5, praw, sizeof praw - 1), PLEIN_EREJECT);
	CHECK(msg_has("runs past the end"));
	CHECK(b == NULL);
}

/* ---- size ------------------------------------------------------------ */

TEST(bytes_per_change_of_a_working_day)
{
	plein_changeset cs = PLEIN_CHANGESET_INIT;
	plein_batch_header h;
	plein_buf p1 = PLEIN_BUF_INIT, q1 = PLEIN_BUF_INIT, p6 = PLEIN_BUF_INIT, q6 = PLEIN_BUF_INIT;
	build_mix(&cs, 2000);
	size_t values = 0;
	for (size_t i = 0; i < cs.n; i++)
		if (cs.v[i].value.type == PLEIN_V_TEXT || cs.v[i].value.type == PLEIN_V_BLOB)
			values += cs.v[i].value.n;
	CHECK_OK(plein_batch_encode(&h, &p6, &q6, NULL, 0, cs.v, cs.n, 6, NULL));
	CHECK_OK(plein_batch_encode(&h, &p1, &q1, NULL, 0, cs.v, cs.n, 1, NULL));
	double n = (double)cs.n;
	printf("# %zu changes (%zu row writes), value bytes %.1f/change\n", cs.n, (size_t)2000, values / n);
	printf("# payload inflated %.1f, zlib 1: %.1f, zlib 6: %.1f bytes/change\n",
	       h.raw_len / n, p1.len / n, p6.len / n);
	printf("# personal part zlib 1: %zu bytes for %zu values\n", q1.len, (size_t)250);
	/* the framing (ids aside) costs a few bytes a change; zlib takes the
	 * repeated ids and values down further */
	CHECK(p1.len < h.raw_len / 2);
	CHECK(p1.len / n < 12.0);
	plein_buf_free(&p1);
	plein_buf_free(&q1);
	plein_buf_free(&p6);
	plein_buf_free(&q6);
	plein_changeset_free(&cs);
}

/* ---- the test vector of docs/batch-format.md ------------------------- */

static int hex_is(const char *what, const unsigned char *p, size_t n, const char *want)
{
	char *got = malloc(2 * n + 1);
	sodium_bin2hex(got, 2 * n + 1, p, n);
	int ok = strcmp(got, want) == 0;
	if (!ok)
		printf("# %s:\n# %s\n", what, got);
	free(got);
	return ok;
}

TEST(the_documented_test_vector)
{
	plein_changeset cs = PLEIN_CHANGESET_INIT;
	plein_batch_header h;
	plein_buf p = PLEIN_BUF_INIT, q = PLEIN_BUF_INIT;
	unsigned char hb[PLEIN_BATCH_HEADER_BYTES], sig[64], bh[32], seed[32];
	test_key();
	memset(seed, 0x42, sizeof seed);
	ADD(&cs, 1, "L1", 1, -1, H0, vnull());
	ADD(&cs, 1, "L1", 1, 0, H0, vtext("Centrum"));
	ADD(&cs, 1, "L1", 1, 1, H0, vtext("branch"));
	ADD(&cs, 2, "P1", 1, 8, H0 + 1, vint(3));
	ADD(&cs, 2, "P1", 1, 9, H0 + 1, vreal(-2.5));
	add(&cs, 10, "R1", 2, 1, 10, H0 + 65536, 1, vblob("geheim", 6));
	ADD(&cs, 10, "R1", 1, 8, H0 + 65536, vint(-1));
	ADD(&cs, 8, "V1", 2, -1, H0 + 65537, vnull());

	memset(&h, 0, sizeof h);
	for (int i = 0; i < 16; i++)
		h.network_id[i] = (unsigned char)(0xa0 + i);
	memcpy(h.site_pk, pk, 32);
	h.seq = 1;
	h.schema_version = 1;
	test_context();
	CHECK_OK(plein_batch_encode(&h, &p, &q, ctx2, 2, cs.v, cs.n, 1, seed));
	CHECK_OK(plein_batch_seal(hb, sig, &h, sk));
	plein_batch_hash(bh, hb, sig);

	unsigned char raw[512], praw[512];
	uLongf rn = sizeof raw, pn = sizeof praw;
	CHECK(uncompress(raw, &rn, p.data, p.len) == Z_OK);
	CHECK(uncompress(praw, &pn, q.data, q.len) == Z_OK);
	int ok = 1;
	ok &= hex_is("public key", pk, 32, "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8");
	ok &= hex_is("payload, inflated", raw, rn, "0211111111111111111111111111111111111111111111111111111111111111"
			"1107eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
			"eeeeac0201024c31010300000b000743656e7472756d1300066272616e636802"
			"02503101024902065200c0040000000000000a02523101025dfeff07875c0a9b"
			"fc15f7e060ad0f9d07bc8df11d0903121b48e16e004fe01d27364f4749000108"
			"02563102010002");
	ok &= hex_is("payload", p.data, p.len, "780163122400d8df11006b9818997c0c19991918b819d89d53f34a8a4a738519"
			"d8928a12f392339898020c19993c99d882180eb03080011753105028f6df7ff6"
			"f618aed97f44bf3f4858cb3f977d4fef47594e6621698f87790cfe0f64d5cdfc"
			"dd3d19183998c20c99181998009dd238eb");
	ok &= hex_is("personal part, inflated", praw, pn, "01dd95a4aca58678542e063c5ed5b61201040667656865696d");
	ok &= hex_is("personal part", q.data, q.len, "780163bc3b75c99aa56d15217a6c367157b70931b2b0a5a766a466e6020089e9"
			"09a0");
	ok &= hex_is("header", hb, sizeof hb, "504c4e4200010001a0a1a2a3a4a5a6a7a8a9aaabacadaeaf03a107bff3ce10be"
			"1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b80000000000000001"
			"0000000000000000000000000000000000000000000000000000000000000000"
			"019ab697e8000000019ab697e801000100000008000000a700000071f8cad8cd"
			"cd721908e5fc5fe1888bc16a9ee0f3abf439e14a3edf19c5b6d284c5");
	ok &= hex_is("signature", sig, sizeof sig, "6de13d4f77268eafbeed279189d5b3c93f3ef98415e88a8217dc373d89892a35"
			"8fa635b9bf614f0f0f6860a844ade93f0979fb56d18199f3d4959610c4056304");
	ok &= hex_is("batch hash", bh, sizeof bh, "d4d71c128f4d9457dab62221edbc1717f55fb947fb2b34cc50605ffb739b8624");
	CHECK(ok);
	plein_buf_free(&p);
	plein_buf_free(&q);
	plein_changeset_free(&cs);
}
