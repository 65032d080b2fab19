/* libFuzzer target for the TCP handshake (docs/tcp-sync.md, §1).
 *
 * Input: mode (1 byte), then one handshake message as the peer would send
 * it. Keys and ephemerals are fixed, so the fuzzer can reach past the
 * first checks:
 *   mode 0: a responder reads it as message 1, then writes message 2
 *   mode 1: an initiator that wrote message 1 reads it as message 2
 *   mode 2: a responder that read a real message 1 and wrote message 2
 *           reads it as message 3
 *   mode 3: an IK responder reads it as IK message 1, then writes message 2
 *   mode 4: an IK initiator that wrote message 1 reads it as message 2
 *   mode 5: it is a decrypted IK payload (what modes 3 and 4 can only
 *           reach through a message that authenticates)
 * Whatever is read must either fail with PLEIN_EREJECT, or leave a state
 * that can go on (or refuse a weak key at the next step); a read that
 * succeeds must give a payload no longer than the message. An IK payload
 * that is read goes through the session's decoders (site key and flag,
 * then VECTOR or REFUSED), which must refuse or accept it cleanly.
 *
 * PLEIN_FUZZ_SEEDS=DIR writes the messages of a real handshake to DIR and
 * exits. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plein/error.h"
#include "plein/noise.h"
#include "plein/siteid.h"
#include "plein/tcpmsg.h"

#include "seed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static const unsigned char prologue[] = "plein-tcp/1\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\xcc\xdd\xee\xff";

static void keys(plein_noise *i, plein_noise *r)
{
	unsigned char k[32];
	memset(k, 0x49, 32);
	plein_noise_init(i, 1, prologue, sizeof prologue - 1, k);
	memset(k, 0x52, 32);
	plein_noise_init(r, 0, prologue, sizeof prologue - 1, k);
	memset(k, 0x65, 32);
	plein_noise_fix_ephemeral(i, k);
	memset(k, 0x66, 32);
	plein_noise_fix_ephemeral(r, k);
}

/* The same keys for IK: the initiator knows the responder's. */
static void keys_ik(plein_noise *i, plein_noise *r)
{
	unsigned char k[32], rs[32];
	memset(k, 0x52, 32);
	crypto_scalarmult_base(rs, k);
	plein_noise_init_ik(r, 0, prologue, sizeof prologue - 1, k, NULL);
	memset(k, 0x49, 32);
	plein_noise_init_ik(i, 1, prologue, sizeof prologue - 1, k, rs);
	memset(k, 0x65, 32);
	plein_noise_fix_ephemeral(i, k);
	memset(k, 0x66, 32);
	plein_noise_fix_ephemeral(r, k);
}

/* An IK payload as the session reads it: refused, or its parts decode. */
static void ik_payload(const plein_buf *pl)
{
	unsigned char pk[32];
	const unsigned char *m;
	size_t mn;
	int rc = plein_msg_hs_payload_decode(pk, &m, &mn, pl->data, pl->len);
	if (rc < 0) {
		if (rc != PLEIN_EREJECT)
			abort();
		return;
	}
	if (mn > pl->len)
		abort();
	plein_vv_entry *v = NULL;
	size_t n = 0;
	char why[PLEIN_MSG_MAX_REASON + 1];
	rc = mn && m[0] == PLEIN_MSG_REFUSED ? plein_msg_refused_decode(why, m, mn)
		: mn ? plein_msg_vector_decode(&v, &n, m, mn) : 0;
	if (rc < 0 && rc != PLEIN_EREJECT)
		abort();
	free(v);
}

/* Real IK messages 1 and 2 (key, flag and a VECTOR of one site, its seq
 * and tip, each), and that payload. */
static void real_ik(plein_buf m[3])
{
	plein_noise i, r;
	plein_buf pl = PLEIN_BUF_INIT, vec = PLEIN_BUF_INIT, got = PLEIN_BUF_INIT;
	unsigned char key[32];
	plein_vv_entry one;
	memset(key, 0x4b, 32);
	memset(&one, 0, sizeof one);
	plein_siteid_from_key(one.site, key);
	one.seq = 7;
	memset(one.tip, 0x7e, sizeof one.tip);
	if (plein_msg_vector_encode(&vec, &one, 1) < 0)
		abort();
	plein_msg_hs_payload_encode(&pl, key, &vec, 1024);
	keys_ik(&i, &r);
	if (plein_noise_write(&i, &m[0], pl.data, pl.len) < 0 || plein_noise_read(&r, &got, m[0].data, m[0].len) < 0 ||
	    plein_noise_write(&r, &m[1], pl.data, pl.len) < 0 || plein_noise_read(&i, &got, m[1].data, m[1].len) < 0)
		abort();
	plein_buf_put(&m[2], pl.data, pl.len);
	plein_buf_free(&pl);
	plein_buf_free(&vec);
	plein_buf_free(&got);
}

/* The real messages 1, 2 and 3 (payloads: none, and 32-byte keys). */
static void real(plein_buf m[3])
{
	plein_noise i, r;
	plein_buf pl = PLEIN_BUF_INIT;
	unsigned char key[32];
	memset(key, 0x4b, 32);
	keys(&i, &r);
	if (plein_noise_write(&i, &m[0], NULL, 0) < 0 || plein_noise_read(&r, &pl, m[0].data, m[0].len) < 0 ||
	    plein_noise_write(&r, &m[1], key, 32) < 0 || plein_noise_read(&i, &pl, m[1].data, m[1].len) < 0 ||
	    plein_noise_write(&i, &m[2], key, 32) < 0 || plein_noise_read(&r, &pl, m[2].data, m[2].len) < 0)
		abort();
	plein_buf_free(&pl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int mode = data[0] % 6, ik = mode >= 3;
	const unsigned char *msg = data + 1;
	size_t n = size - 1;
	if (mode == 5) {
		plein_buf p = PLEIN_BUF_INIT;
		plein_buf_put(&p, msg, n);
		ik_payload(&p);
		plein_buf_free(&p);
		return 0;
	}
	plein_noise i, r;
	plein_buf m = PLEIN_BUF_INIT, pl = PLEIN_BUF_INIT;
	if (ik)
		keys_ik(&i, &r);
	else
		keys(&i, &r);
	plein_noise *reader = mode == 1 || mode == 4 ? &i : &r;
	if (mode == 1 || mode == 2 || mode == 4) {
		if (plein_noise_write(&i, &m, NULL, 0) < 0)
			abort();
	}
	if (mode == 2) {
		if (plein_noise_read(&r, &pl, m.data, m.len) < 0)
			abort();
		plein_buf_reset(&m);
		if (plein_noise_write(&r, &m, (const unsigned char *)"k", 1) < 0)
			abort();
	}
	plein_buf_reset(&pl);
	int rc = plein_noise_read(reader, &pl, msg, n);
	if (rc == 0) {
		if (pl.len > n)
			abort();
		if (ik)
			ik_payload(&pl);
		/* The state goes on: the next step works, or refuses a weak
		 * (low-order) ephemeral key; the last message completes it. */
		plein_buf_reset(&m);
		if ((mode == 0 || mode == 3) && (rc = plein_noise_write(&r, &m, NULL, 0)) < 0 && rc != PLEIN_EREJECT)
			abort();
		if (mode == 1 && plein_noise_write(&i, &m, NULL, 0) < 0)
			abort();
		if ((mode == 2 && !plein_noise_done(&r)) || (mode == 4 && !plein_noise_done(&i)))
			abort();
	} else if (rc != PLEIN_EREJECT) {
		abort();
	}
	plein_noise_wipe(&i);
	plein_noise_wipe(&r);
	plein_buf_free(&m);
	plein_buf_free(&pl);
	return 0;
}

static void put(const char *dir, const char *name, int mode, const plein_buf *m)
{
	FILE *f = fuzz_seed_open(dir, name);
	fputc(mode, f);
	fwrite(m->data, 1, m->len, f);
	fclose(f);
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
	plein_buf m[3] = { PLEIN_BUF_INIT, PLEIN_BUF_INIT, PLEIN_BUF_INIT };
	real(m);
	put(dir, "msg1", 0, &m[0]);
	put(dir, "msg2", 1, &m[1]);
	put(dir, "msg3", 2, &m[2]);
	plein_buf ik[3] = { PLEIN_BUF_INIT, PLEIN_BUF_INIT, PLEIN_BUF_INIT };
	real_ik(ik);
	put(dir, "ik1", 3, &ik[0]);
	put(dir, "ik2", 4, &ik[1]);
	put(dir, "ikpayload", 5, &ik[2]);
	exit(0);
}
