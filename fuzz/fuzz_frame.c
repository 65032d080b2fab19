/* libFuzzer target for TCP frames and session messages (docs/tcp-sync.md,
 * §2 and §3).
 *
 * Input: mode (1 byte), then:
 *   mode 0: a received stream (stream header, then frames) under a fixed
 *           key; whatever opens goes through the message decoders
 *   mode 1: messages, each as a 2-byte big-endian length and its bytes;
 *           the target seals them into a stream (the fuzzer cannot forge
 *           the encryption), then opens and decodes it as in mode 0
 * Every frame must open to what was sealed, and every decoder must either
 * refuse with PLEIN_EREJECT or give what re-encodes to the same bytes.
 *
 * PLEIN_FUZZ_SEEDS=DIR writes seeds (valid message sequences) and exits. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plein/error.h"
#include "plein/frame.h"
#include "plein/tcpmsg.h"

#include "seed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define LIMIT 4096

static const unsigned char key[32] = { 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
				       7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7 };

static void decode(const unsigned char *p, size_t n)
{
	if (n == 0)
		return;
	plein_buf again = PLEIN_BUF_INIT;
	int rc = 0;
	switch (p[0]) {
	case PLEIN_MSG_VECTOR: {
		plein_vv_entry *v = NULL;
		size_t k = 0;
		rc = plein_msg_vector_decode(&v, &k, p, n);
		/* What decodes re-encodes, and decodes to the same vector. */
		if (rc == 0) {
			plein_vv_entry *w = NULL;
			size_t kw = 0;
			if (plein_msg_vector_encode(&again, v, k) < 0 ||
			    plein_msg_vector_decode(&w, &kw, again.data, again.len) < 0 || kw != k ||
			    (k && memcmp(v, w, k * sizeof *v) != 0))
				abort();
			free(w);
		}
		free(v);
		break;
	}
	case PLEIN_MSG_BATCH: {
		plein_msg_record r;
		rc = plein_msg_record_decode(&r, p + 1, n - 1);
		break;
	}
	case PLEIN_MSG_DONE:
	case PLEIN_MSG_BUSY:
	case PLEIN_MSG_BYE: {
		uint64_t c;
		rc = plein_msg_count_decode(&c, p[0], p, n);
		break;
	}
	case PLEIN_MSG_REFUSED: {
		char why[PLEIN_MSG_MAX_REASON + 1];
		rc = plein_msg_refused_decode(why, p, n);
		break;
	}
	}
	if (rc != 0 && rc != PLEIN_EREJECT)
		abort();
	plein_buf_free(&again);
}

/* Open a whole stream; sealed (may be NULL) is what must come out. */
static void open_stream(const unsigned char *p, size_t n, const plein_buf *sealed)
{
	plein_frame_rx rx;
	plein_buf out = PLEIN_BUF_INIT;
	plein_frame_rx_init(&rx, key, LIMIT);
	size_t at = 0, got_bytes = 0;
	while (n) {
		size_t used = 0, before = out.len;
		int got = 0, final = 0;
		if (plein_frame_open(&rx, &used, &got, &final, &out, p, n) < 0 || used == 0)
			break;
		if (used > n)
			abort();
		if (got) {
			decode(out.data + before, out.len - before);
			got_bytes += out.len - before;
		}
		p += used;
		n -= used;
		at += used;
	}
	if (sealed && (out.len != sealed->len || (out.len && memcmp(out.data, sealed->data, out.len) != 0)))
		abort();
	(void)got_bytes;
	plein_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] % 2 == 0) {
		open_stream(data + 1, size - 1, NULL);
		return 0;
	}
	plein_frame_tx tx;
	plein_buf stream = PLEIN_BUF_INIT, plain = PLEIN_BUF_INIT;
	plein_frame_tx_init(&tx, &stream, key, LIMIT);
	const unsigned char *p = data + 1;
	size_t left = size - 1;
	while (left >= 2) {
		size_t len = (size_t)p[0] << 8 | p[1];
		p += 2;
		left -= 2;
		if (len > left)
			len = left;
		if (len > LIMIT)
			len = LIMIT;
		if (plein_frame_seal(&tx, &stream, p, len, left == len) < 0)
			abort();
		plein_buf_put(&plain, p, len);
		p += len;
		left -= len;
		if (tx.final)
			break;
	}
	open_stream(stream.data, stream.len, &plain);
	plein_buf_free(&stream);
	plein_buf_free(&plain);
	return 0;
}

static void put(const char *dir, const char *name, const plein_buf *b)
{
	FILE *f = fuzz_seed_open(dir, name);
	fwrite(b->data, 1, b->len, f);
	fclose(f);
}

static void add_msg(plein_buf *seed, const plein_buf *m)
{
	plein_buf_putc(seed, (int)(m->len >> 8));
	plein_buf_putc(seed, (int)(m->len & 0xff));
	plein_buf_put(seed, m->data, m->len);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	const char *dir = getenv("PLEIN_FUZZ_SEEDS");
	if (!dir)
		return 0;
	static const unsigned char ids[2][10] = { { 0x20, 0x12, 0xcb, 0x90, 0xca, 0x60, 0xe8, 0xe5, 0xd8, 0xda },
						  { 0x77, 0x2c, 0x8a, 0x44, 0x2b, 0x7d, 0xb0, 0x6e, 0x16, 0x6c } };
	plein_vv_entry v[2];
	plein_msg_site_unpack(v[0].site, ids[0]);
	plein_msg_site_unpack(v[1].site, ids[1]);
	v[0].seq = 3;
	v[1].seq = 300;
	memset(v[0].tip, 0x33, sizeof v[0].tip);
	memset(v[1].tip, 0xcc, sizeof v[1].tip);
	plein_buf m = PLEIN_BUF_INIT, seed = PLEIN_BUF_INIT;
	plein_buf_putc(&seed, 1);
	if (plein_msg_vector_encode(&m, v, 2) < 0)
		abort();
	add_msg(&seed, &m);
	plein_buf_reset(&m);
	plein_msg_count_encode(&m, PLEIN_MSG_DONE, 2);
	add_msg(&seed, &m);
	plein_buf_reset(&m);
	plein_msg_count_encode(&m, PLEIN_MSG_BYE, 0);
	add_msg(&seed, &m);
	put(dir, "vector-done", &seed);
	plein_buf_reset(&seed);
	plein_buf_reset(&m);
	plein_buf_putc(&seed, 1);
	plein_msg_refused_encode(&m, "site X is not on the roster");
	add_msg(&seed, &m);
	put(dir, "refused", &seed);
	/* A stream as received (mode 0). */
	plein_frame_tx tx;
	plein_buf_reset(&seed);
	plein_buf_putc(&seed, 0);
	plein_frame_tx_init(&tx, &seed, key, LIMIT);
	plein_buf_reset(&m);
	plein_msg_vector_encode(&m, v, 2);
	plein_frame_seal(&tx, &seed, m.data, m.len, 0);
	plein_buf_reset(&m);
	plein_msg_count_encode(&m, PLEIN_MSG_DONE, 0);
	plein_frame_seal(&tx, &seed, m.data, m.len, 0);
	plein_buf_reset(&m);
	plein_msg_count_encode(&m, PLEIN_MSG_BYE, 0);
	plein_frame_seal(&tx, &seed, m.data, m.len, 1);
	put(dir, "stream", &seed);
	exit(0);
}
