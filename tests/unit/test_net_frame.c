/* Frames and messages of a TCP session (src/net/frame.c, tcpmsg.c): the
 * documented stream of docs/tcp-sync.md byte for byte; garbage, oversized,
 * truncated, reordered frames and data after the goodbye; every message
 * round trip and malformed ones. */
#include <sodium.h>

#include "harness.h"
#include "net_vectors.h"
#include "plein/frame.h"
#include "plein/log.h"
#include "plein/journal.h"
#include "plein/tcpmsg.h"
#include "util.h"


/* Open every frame of a whole stream; returns frames read or an error. */
static int open_all(plein_buf *msgs, size_t *lens, int max, int *final, const unsigned char key[32],
		    const unsigned char *p, size_t n, size_t limit)
{
	plein_frame_rx rx;
	plein_frame_rx_init(&rx, key, limit);
	int count = 0;
	*final = 0;
	while (n) {
		size_t used = 0;
		int got = 0, fin = 0;
		size_t before = msgs->len;
		int rc = plein_frame_open(&rx, &used, &got, &fin, msgs, p, n);
		if (rc < 0)
			return rc;
		if (used == 0)
			return PLEIN_ENOTFOUND; /* truncated: more bytes needed */
		if (got && count < max)
			lens[count++] = msgs->len - before;
		*final |= fin;
		p += used;
		n -= used;
	}
	return count;
}

static void vector_sites(plein_vv_entry v[2])
{
	unsigned char seed[32], pk[32], sk[64];
	char a[PLEIN_SITEID_LEN + 1], b[PLEIN_SITEID_LEN + 1];
	memset(seed, 0x49, 32);
	crypto_sign_seed_keypair(pk, sk, seed);
	plein_siteid_from_key(a, pk);
	memset(seed, 0x52, 32);
	crypto_sign_seed_keypair(pk, sk, seed);
	plein_siteid_from_key(b, pk);
	int ab = strcmp(a, b) < 0;
	strcpy(v[0].site, ab ? a : b);
	strcpy(v[1].site, ab ? b : a);
	v[0].seq = 3;
	v[1].seq = 300;
	memset(v[0].tip, 0x33, sizeof v[0].tip);
	memset(v[1].tip, 0xcc, sizeof v[1].tip);
}

TEST(frame_documented_stream_opens_to_documented_messages)
{
	plein_buf key = PLEIN_BUF_INIT, stream = PLEIN_BUF_INIT, msgs = PLEIN_BUF_INIT, want = PLEIN_BUF_INIT;
	plein_vv_entry v[2];
	vector_sites(v);
	CHECK_OK(plein_msg_vector_encode(&want, v, 2));
	size_t vlen = want.len;
	size_t dlen = want.len;
	plein_msg_count_encode(&want, PLEIN_MSG_DONE, 0);
	dlen = want.len - dlen;
	plein_msg_count_encode(&want, PLEIN_MSG_BYE, 0);
	CHECK(doc_hex(&key, "key_i2r") == 0 && key.len == 32);
	if (getenv("PLEIN_PRINT_VECTORS")) {
		plein_frame_tx tx;
		plein_frame_tx_init(&tx, &stream, key.data, 1u << 20);
		plein_frame_seal(&tx, &stream, want.data, vlen, 0);
		plein_frame_seal(&tx, &stream, want.data + vlen, dlen, 0);
		plein_frame_seal(&tx, &stream, want.data + vlen + dlen, want.len - vlen - dlen, 1);
		print_hex("stream_i2r", stream.data, stream.len);
		print_hex("vector_msg", want.data, vlen);
		plein_buf_reset(&stream);
	}
	CHECK(doc_hex(&stream, "stream_i2r") == 0);
	plein_buf docv = PLEIN_BUF_INIT;
	CHECK(doc_hex(&docv, "vector_msg") == 0 && docv.len == vlen && memcmp(docv.data, want.data, vlen) == 0);
	plein_buf_free(&docv);
	size_t lens[4];
	int final = 0;
	CHECK_EQ_INT(open_all(&msgs, lens, 4, &final, key.data, stream.data, stream.len, 1u << 20), 3);
	CHECK(final);
	CHECK_EQ_INT(lens[0], vlen);
	CHECK(msgs.len == want.len && memcmp(msgs.data, want.data, want.len) == 0);
	/* The frames are 4-byte lengths of ciphertext = message + 17. */
	const unsigned char *f = stream.data + PLEIN_FRAME_HEADER_BYTES;
	CHECK_EQ_INT(((size_t)f[0] << 24 | (size_t)f[1] << 16 | (size_t)f[2] << 8 | f[3]), vlen + 17);
	plein_buf_free(&key);
	plein_buf_free(&stream);
	plein_buf_free(&msgs);
	plein_buf_free(&want);
}

/* A fresh stream with messages of the given sizes; the last is final. */
static void make_stream(plein_buf *out, unsigned char key[32], const size_t *sizes, int n)
{
	plein_frame_tx tx;
	randombytes_buf(key, 32);
	plein_frame_tx_init(&tx, out, key, 1u << 16);
	for (int i = 0; i < n; i++) {
		unsigned char *m = calloc(sizes[i] + 1, 1);
		memset(m, 'a' + i, sizes[i]);
		plein_frame_seal(&tx, out, m, sizes[i], i == n - 1);
		free(m);
	}
}

TEST(frame_round_trip_and_final_tag)
{
	unsigned char key[32];
	size_t sizes[] = { 0, 1, 1000, 65536 }, lens[4];
	plein_buf s = PLEIN_BUF_INIT, m = PLEIN_BUF_INIT;
	make_stream(&s, key, sizes, 4);
	int final = 0;
	CHECK_EQ_INT(open_all(&m, lens, 4, &final, key, s.data, s.len, 1u << 16), 4);
	CHECK(final);
	for (int i = 0; i < 4; i++)
		CHECK_EQ_INT(lens[i], sizes[i]);
	/* Over the limit is refused when sealing. */
	plein_frame_tx tx;
	plein_buf_reset(&s);
	plein_frame_tx_init(&tx, &s, key, 1024);
	unsigned char big[1025] = { 0 };
	CHECK_EQ_INT(plein_frame_seal(&tx, &s, big, 1025, 0), PLEIN_EINVAL);
	CHECK_OK(plein_frame_seal(&tx, &s, big, 1024, 1));
	CHECK_EQ_INT(plein_frame_seal(&tx, &s, big, 1, 0), PLEIN_EINVAL); /* after the final frame */
	plein_buf_free(&s);
	plein_buf_free(&m);
}

TEST(frame_garbage_oversized_truncated_reordered)
{
	unsigned char key[32];
	size_t sizes[] = { 10, 20, 30 }, lens[3];
	plein_buf s = PLEIN_BUF_INIT, m = PLEIN_BUF_INIT, bad = PLEIN_BUF_INIT;
	int final;
	make_stream(&s, key, sizes, 3);
	/* Garbage: any flipped bit after the header. */
	for (size_t at = PLEIN_FRAME_HEADER_BYTES + 4; at < s.len; at += 7) {
		plein_buf_reset(&bad);
		plein_buf_put(&bad, s.data, s.len);
		bad.data[at] ^= 0x40;
		/* A flipped length bit may only make the frame look longer:
		 * then it waits for bytes that never come (the session's EOF
		 * or idle limit ends it). */
		int rc = open_all(&m, lens, 3, &final, key, bad.data, bad.len, 1u << 16);
		CHECK(rc == PLEIN_EREJECT || rc == PLEIN_ENOTFOUND);
	}
	/* Wrong key. */
	unsigned char other[32];
	randombytes_buf(other, 32);
	CHECK_EQ_INT(open_all(&m, lens, 3, &final, other, s.data, s.len, 1u << 16), PLEIN_EREJECT);
	/* Oversized: a length beyond the limit is refused on its 4 bytes. */
	plein_buf_reset(&bad);
	plein_buf_put(&bad, s.data, PLEIN_FRAME_HEADER_BYTES);
	plein_buf_put(&bad, "\x7f\xff\xff\xff", 4);
	CHECK_EQ_INT(open_all(&m, lens, 3, &final, key, bad.data, bad.len, 1u << 16), PLEIN_EREJECT);
	/* Shorter than a tag. */
	plein_buf_reset(&bad);
	plein_buf_put(&bad, s.data, PLEIN_FRAME_HEADER_BYTES);
	plein_buf_put(&bad, "\0\0\0\x05hello", 9);
	CHECK_EQ_INT(open_all(&m, lens, 3, &final, key, bad.data, bad.len, 1u << 16), PLEIN_EREJECT);
	/* Truncated anywhere: more bytes needed, never a frame. */
	for (size_t cut = 1; cut < s.len; cut += 5) {
		int n = open_all(&m, lens, 3, &final, key, s.data, cut, 1u << 16);
		CHECK(n == PLEIN_ENOTFOUND || (n >= 0 && !final));
	}
	/* Reordered: the second frame first. */
	size_t f1 = 4 + 10 + 17, f2 = 4 + 20 + 17;
	plein_buf_reset(&bad);
	plein_buf_put(&bad, s.data, PLEIN_FRAME_HEADER_BYTES);
	plein_buf_put(&bad, s.data + PLEIN_FRAME_HEADER_BYTES + f1, f2);
	CHECK_EQ_INT(open_all(&m, lens, 3, &final, key, bad.data, bad.len, 1u << 16), PLEIN_EREJECT);
	/* Replayed: the first frame twice. */
	plein_buf_reset(&bad);
	plein_buf_put(&bad, s.data, PLEIN_FRAME_HEADER_BYTES + f1);
	plein_buf_put(&bad, s.data + PLEIN_FRAME_HEADER_BYTES, f1);
	CHECK_EQ_INT(open_all(&m, lens, 3, &final, key, bad.data, bad.len, 1u << 16), PLEIN_EREJECT);
	/* Anything after the goodbye. */
	plein_buf_reset(&bad);
	plein_buf_put(&bad, s.data, s.len);
	plein_buf_put(&bad, "x", 1);
	CHECK_EQ_INT(open_all(&m, lens, 3, &final, key, bad.data, bad.len, 1u << 16), PLEIN_EREJECT);
	plein_buf_free(&s);
	plein_buf_free(&m);
	plein_buf_free(&bad);
}

TEST(msg_vector_round_trip_and_malformed)
{
	plein_vv_entry v[2], *got = NULL;
	size_t n = 0;
	vector_sites(v);
	plein_buf b = PLEIN_BUF_INIT;
	CHECK_OK(plein_msg_vector_encode(&b, v, 2));
	CHECK_EQ_INT(b.len, 1 + 1 + 2 * (10 + PLEIN_MSG_TIP_BYTES) + 1 + 2);
	CHECK_OK(plein_msg_vector_decode(&got, &n, b.data, b.len));
	CHECK_EQ_INT(n, 2);
	CHECK_STR(got[0].site, v[0].site);
	CHECK_EQ_INT(got[1].seq, 300);
	CHECK(memcmp(got[0].tip, v[0].tip, PLEIN_MSG_TIP_BYTES) == 0 && memcmp(got[1].tip, v[1].tip, PLEIN_MSG_TIP_BYTES) == 0);
	free(got);
	/* Every truncation, and a trailing byte, is refused. */
	for (size_t cut = 0; cut < b.len; cut++)
		CHECK_EQ_INT(plein_msg_vector_decode(&got, &n, b.data, cut), PLEIN_EREJECT);
	plein_buf_putc(&b, 0);
	CHECK_EQ_INT(plein_msg_vector_decode(&got, &n, b.data, b.len), PLEIN_EREJECT);
	/* Unsorted, seq 0, a count that lies. */
	plein_vv_entry w[2] = { v[1], v[0] };
	plein_buf_reset(&b);
	CHECK_EQ_INT(plein_msg_vector_encode(&b, w, 2), PLEIN_EINVAL);
	plein_buf_reset(&b);
	CHECK_OK(plein_msg_vector_encode(&b, v, 2));
	unsigned char swapped[128];
	size_t second = 2 + 11 + PLEIN_MSG_TIP_BYTES; /* id, seq 3 in one byte, tip */
	memcpy(swapped, b.data, b.len);
	memcpy(swapped + 2, b.data + second, 10); /* second id first */
	memcpy(swapped + second, b.data + 2, 10);
	CHECK_EQ_INT(plein_msg_vector_decode(&got, &n, swapped, b.len), PLEIN_EREJECT);
	unsigned char lie[] = { PLEIN_MSG_VECTOR, 0xff, 0xff, 0x03 };
	CHECK_EQ_INT(plein_msg_vector_decode(&got, &n, lie, sizeof lie), PLEIN_EREJECT);
	unsigned char empty[] = { PLEIN_MSG_VECTOR, 0 };
	CHECK_OK(plein_msg_vector_decode(&got, &n, empty, sizeof empty));
	CHECK_EQ_INT(n, 0);
	free(got);
	plein_buf_free(&b);
}

TEST(msg_record_round_trip_and_malformed)
{
	char dir[256];
	plein_site *s = test_site(dir);
	CHECK(s != NULL);
	uint64_t seq = 0;
	CHECK_OK(plein_db_exec(s->db, "INSERT INTO daylog(id, text) VALUES ('a', 'een')"));
	CHECK_OK(plein_journal_seal(s, &seq));
	plein_log_entry e;
	memset(&e, 0, sizeof e);
	CHECK_OK(plein_log_read(&e, plein_site_log(s), s->id, 1));
	plein_buf b = PLEIN_BUF_INIT;
	plein_msg_record_encode(&b, &e);
	plein_msg_record r;
	CHECK_OK(plein_msg_record_decode(&r, b.data, b.len));
	CHECK_STR(r.b.site, s->id);
	CHECK_EQ_INT(r.b.seq, 1);
	CHECK_EQ_INT(r.b.time, e.time);
	CHECK_STR(r.b.summary ? r.b.summary : "", e.summary);
	CHECK(r.b.header_len == e.header.len && memcmp(r.b.header, e.header.data, e.header.len) == 0);
	CHECK(r.b.payload_len == e.payload.len && memcmp(r.b.payload, e.payload.data, e.payload.len) == 0);
	CHECK(memcmp(r.b.sig, e.sig.data, 64) == 0);
	CHECK_EQ_INT(r.b.personal != NULL, e.has_personal);
	for (size_t cut = 0; cut < b.len; cut++)
		CHECK_EQ_INT(plein_msg_record_decode(&r, b.data, cut), PLEIN_EREJECT);
	plein_buf_putc(&b, 0);
	CHECK_EQ_INT(plein_msg_record_decode(&r, b.data, b.len), PLEIN_EREJECT);
	plein_buf_free(&b);
	plein_log_entry_free(&e);
	plein_site_close(s);
	test_rmdir(dir);
}

TEST(msg_done_and_refused)
{
	plein_buf b = PLEIN_BUF_INIT;
	uint64_t count = 0;
	char why[PLEIN_MSG_MAX_REASON + 1];
	plein_msg_count_encode(&b, PLEIN_MSG_DONE, 1234);
	CHECK_OK(plein_msg_count_decode(&count, PLEIN_MSG_DONE, b.data, b.len));
	CHECK_EQ_INT(count, 1234);
	CHECK_EQ_INT(plein_msg_count_decode(&count, PLEIN_MSG_BYE, b.data, b.len), PLEIN_EREJECT);
	CHECK_EQ_INT(plein_msg_count_decode(&count, PLEIN_MSG_DONE, b.data, 1), PLEIN_EREJECT);
	plein_buf_putc(&b, 0);
	CHECK_EQ_INT(plein_msg_count_decode(&count, PLEIN_MSG_DONE, b.data, b.len), PLEIN_EREJECT);
	plein_buf_reset(&b);
	plein_msg_refused_encode(&b, "not on the roster\n");
	CHECK_OK(plein_msg_refused_decode(why, b.data, b.len));
	CHECK_STR(why, "not on the roster?");
	plein_buf_free(&b);
}
