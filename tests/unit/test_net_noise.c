/* The TCP handshake (src/net/noise.c): the published cacophony vector for
 * Noise_XX_25519_ChaChaPoly_BLAKE2b, plein's own vector in
 * docs/tcp-sync.md byte for byte, and handshakes that must fail: another
 * network, a tampered message, a replayed one. */
#include <sodium.h>

#include "harness.h"
#include "net_vectors.h"
#include "plein/noise.h"
#include "plein/tcpmsg.h"

/* From the cacophony test suite (vectors/cacophony.txt, as shipped with
 * the snow and noise-c projects; the IK vector as in
 * github.com/haskell-cryptography/cacophony, commit 8ee9d41e34a1): the
 * same keys, prologue and payloads for both patterns. */
struct cac_vector {
	int pattern;
	const char *hash;
	const char *ciphertext[6];
};
static const char *cac_prologue = "4a6f686e2047616c74";
static const char *cac_init_static = "e61ef9919cde45dd5f82166404bd08e38bceb5dfdfded0a34c8df7ed542214d1";
static const char *cac_init_eph = "893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a";
static const char *cac_resp_static = "4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114246e4893";
static const char *cac_resp_eph = "bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b";
static const char *cac_payload[6] = {
	"4c756477696720766f6e204d69736573", "4d757272617920526f746862617264", "462e20412e20486179656b",
	"4361726c204d656e676572", "4a65616e2d426170746973746520536179", "457567656e2042f6686d20766f6e2042617765726b",
};
/* Noise_XX_25519_ChaChaPoly_BLAKE2b */
static const struct cac_vector cac_xx = {
	PLEIN_NOISE_XX,
	"8cf47d7b3cb5804c0109d48e8bcdbee2cbb65687d8ea2c92994ca361fb86151a"
	"d93627b98936cbb32de56e8abb21def3925011ac3e35db9cbeea73ab9a4392c2",
	{ "ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c79444c756477696720766f6e204d69736573",
	  "95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f1448088430505b6745ce64a5f33f0e8e3b83f11ce"
	  "8802bca507f4f2d8b564dbe277e1966116e132faa2dfd70b8b077b9f94b913df5056ae1319469b824a98d54bbaa82c32"
	  "5595587064f978c4b6d104f7596e6f",
	  "99579e1c1ee15e422a57ddd6b16d37087b17558e8369c18991b4b2ca3a824abf904cdcf5458b5431a75af034ca9e9b98"
	  "2de039eaaf156775e2d580cd4e5ebae89c3f8cb2594b556d8a8169",
	  "fc56eea290b3f3a21aac0c70cd5787b5ee99be37d2f4d751329b55",
	  "bb31c9da10d5639a4cdb88a12f5c61de41bbc7df09bf75d94f8184fe4157f5c68f",
	  "f6199cadb152fb27f82be0a0891ec76a33598ae92a46cab2fb5a8ed5bf48b7f267f8370af7" },
};
/* Noise_IK_25519_ChaChaPoly_BLAKE2b (the initiator's remote static key,
 * 31e0303f..., is the public key of cac_resp_static). */
static const struct cac_vector cac_ik = {
	PLEIN_NOISE_IK,
	"1c8fa891cb414fedba6daa7c6f4ae0a6d98e5f9768cc9cecd27e805614943ee9"
	"c8a1b27fbfb76dc197255c8aa69f6b4285c423840b8bedf45e652ca64f797d81",
	{ "ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c7944ba83a447b38c83e327ad936929812f62"
	  "4884847b7831e95e197b2f797088efdd2f88f1db7e1fb0e99c64419097af91cee64e470f4b6fcd9298ce0b56fe20f86e"
	  "13bf70439c538e3602a7127af71a29cc",
	  "95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f1448088439f069b267a06b3de3ecb1043bcb098e9"
	  "af91d9c64748d998c7b47890871571",
	  "cd54383060e7a28434cca27fb1cc524cfbabeb18181589df219d07",
	  "a856d3bf0246bfc476c655009cd1ed677b8dcc5b349ae8ef2a05f2",
	  "49063084b2c51f098337cb8a13739ac848f907e67cfb2cc8a8b60586467aa02fc7",
	  "8b9709d23b47e4639df7678d7a21741eba4ef1e9c60383001c7435549c20f9d56f30e935d3" },
};

static int hex_is(const plein_buf *b, const char *hex)
{
	char *s = malloc(b->len * 2 + 1);
	sodium_bin2hex(s, b->len * 2 + 1, b->data, b->len);
	int ok = strcmp(s, hex) == 0;
	if (!ok)
		printf("# got      %s\n# expected %s\n", s, hex);
	free(s);
	return ok;
}

static void unhex(plein_buf *out, const char *hex)
{
	plein_buf_reset(out);
	plein_buf_grow(out, strlen(hex) / 2 + 1);
	size_t got = 0;
	sodium_hex2bin(out->data, strlen(hex) / 2 + 1, hex, strlen(hex), NULL, &got, NULL);
	out->len = got;
}

/* One cacophony vector: the handshake messages, then Noise's own
 * transport ciphers for the rest (they check the split keys). Messages
 * alternate, the initiator first. */
static void cacophony_run(const struct cac_vector *v)
{
	unsigned char si[32], sr[32], ei[32], er[32], pro[9], rs[32];
	CHECK(from_hex(si, 32, cac_init_static) == 0 && from_hex(sr, 32, cac_resp_static) == 0);
	CHECK(from_hex(ei, 32, cac_init_eph) == 0 && from_hex(er, 32, cac_resp_eph) == 0);
	CHECK(from_hex(pro, 9, cac_prologue) == 0);
	plein_noise a, b;
	if (v->pattern == PLEIN_NOISE_IK) {
		CHECK_OK(from_hex(rs, 32, "31e0303fd6418d2f8c0e78b91f22e8caed0fbe48656dcf4767e4834f701b8f62"));
		plein_noise_init_ik(&a, 1, pro, sizeof pro, si, rs);
		plein_noise_init_ik(&b, 0, pro, sizeof pro, sr, NULL);
	} else {
		plein_noise_init(&a, 1, pro, sizeof pro, si);
		plein_noise_init(&b, 0, pro, sizeof pro, sr);
	}
	plein_noise_fix_ephemeral(&a, ei);
	plein_noise_fix_ephemeral(&b, er);
	plein_buf msg = PLEIN_BUF_INIT, pl = PLEIN_BUF_INIT, got = PLEIN_BUF_INIT, h = PLEIN_BUF_INIT;
	plein_noise_cipher ca[2], cb[2];
	memset(ca, 0, sizeof ca);
	memset(cb, 0, sizeof cb);
	for (int i = 0; i < 6; i++) {
		int from_a = i % 2 == 0;
		unhex(&pl, cac_payload[i]);
		plein_buf_reset(&msg);
		plein_buf_reset(&got);
		if (i < a.nmsg) {
			plein_noise *w = from_a ? &a : &b, *r = from_a ? &b : &a;
			CHECK_EQ_INT(plein_noise_write(w, &msg, pl.data, pl.len), 0);
			CHECK(hex_is(&msg, v->ciphertext[i]));
			CHECK_EQ_INT(plein_noise_read(r, &got, msg.data, msg.len), 0);
		} else {
			if (i == a.nmsg) {
				CHECK(plein_noise_done(&a) && plein_noise_done(&b));
				plein_buf_put(&h, a.h, sizeof a.h);
				CHECK(hex_is(&h, v->hash));
				CHECK(memcmp(a.h, b.h, sizeof a.h) == 0);
				plein_noise_split(&a, ca[0].k, ca[1].k);
				plein_noise_split(&b, cb[0].k, cb[1].k);
				ca[0].has_k = ca[1].has_k = cb[0].has_k = cb[1].has_k = 1;
			}
			plein_noise_cipher *send = from_a ? &ca[0] : &cb[0], *recv = from_a ? &cb[1] : &ca[1];
			CHECK_EQ_INT(plein_noise_encrypt(send, &msg, NULL, 0, pl.data, pl.len), 0);
			CHECK(hex_is(&msg, v->ciphertext[i]));
			CHECK_EQ_INT(plein_noise_decrypt(recv, &got, NULL, 0, msg.data, msg.len), 0);
		}
		CHECK(got.len == pl.len && memcmp(got.data, pl.data, pl.len) == 0);
	}
	plein_buf_free(&msg);
	plein_buf_free(&pl);
	plein_buf_free(&got);
	plein_buf_free(&h);
}

TEST(noise_cacophony_vector)
{
	cacophony_run(&cac_xx);
}

TEST(noise_ik_cacophony_vector)
{
	cacophony_run(&cac_ik);
}

/* plein's vectors (docs/tcp-sync.md): site keys from seeds 0x49.. and
 * 0x52.., ephemeral keys 0x65.. and 0x66.., network id 0011..eeff. XX:
 * payloads none and the site keys; IK: each side's site key, flag 1 and
 * the doc's vector_msg. */
static void plein_vector_run(int pattern, plein_buf m[3], unsigned char hash[64], unsigned char k_i2r[32],
			     unsigned char k_r2i[32])
{
	unsigned char seed[32], ipk[32], isk[64], rpk[32], rsk[64], ix[32], rx[32], rs[32], e[32];
	memset(seed, 0x49, 32);
	crypto_sign_seed_keypair(ipk, isk, seed);
	memset(seed, 0x52, 32);
	crypto_sign_seed_keypair(rpk, rsk, seed);
	crypto_sign_ed25519_sk_to_curve25519(ix, isk);
	crypto_sign_ed25519_sk_to_curve25519(rx, rsk);
	crypto_scalarmult_base(rs, rx);
	plein_buf pro = PLEIN_BUF_INIT, pl = PLEIN_BUF_INIT, vec = PLEIN_BUF_INIT, ipl = PLEIN_BUF_INIT, rpl = PLEIN_BUF_INIT;
	plein_buf_puts(&pro, "plein-tcp/1");
	unsigned char nid[16];
	from_hex(nid, 16, "00112233445566778899aabbccddeeff");
	plein_buf_put(&pro, nid, 16);
	plein_noise a, b;
	if (pattern == PLEIN_NOISE_IK) {
		plein_noise_init_ik(&a, 1, pro.data, pro.len, ix, rs);
		plein_noise_init_ik(&b, 0, pro.data, pro.len, rx, NULL);
		doc_hex(&vec, "vector_msg");
		plein_msg_hs_payload_encode(&ipl, ipk, &vec, 1024);
		plein_msg_hs_payload_encode(&rpl, rpk, &vec, 1024);
	} else {
		plein_noise_init(&a, 1, pro.data, pro.len, ix);
		plein_noise_init(&b, 0, pro.data, pro.len, rx);
		plein_buf_put(&rpl, rpk, 32); /* msg2 */
		plein_buf_put(&vec, ipk, 32); /* msg3 */
	}
	memset(e, 0x65, 32);
	plein_noise_fix_ephemeral(&a, e);
	memset(e, 0x66, 32);
	plein_noise_fix_ephemeral(&b, e);
	const plein_buf *payload[3] = { &ipl, &rpl, &vec };
	for (int i = 0; i < a.nmsg; i++) {
		plein_noise *w = i % 2 ? &b : &a, *r = i % 2 ? &a : &b;
		plein_noise_write(w, &m[i], payload[i]->data, payload[i]->len);
		plein_noise_read(r, &pl, m[i].data, m[i].len);
	}
	memcpy(hash, a.h, 64);
	unsigned char s1[32], r1[32];
	plein_noise_split(&a, k_i2r, k_r2i);
	plein_noise_split(&b, s1, r1);
	if (!plein_noise_done(&b) || memcmp(s1, k_r2i, 32) != 0 || memcmp(r1, k_i2r, 32) != 0)
		memset(hash, 0, 64); /* the sides disagree: fail below */
	plein_buf_free(&pro);
	plein_buf_free(&pl);
	plein_buf_free(&vec);
	plein_buf_free(&ipl);
	plein_buf_free(&rpl);
}

/* The doc's "prefix+name = hex" is exactly n bytes at p. */
static int doc_is(const char *prefix, const char *name, const unsigned char *p, size_t n)
{
	char full[64];
	plein_buf d = PLEIN_BUF_INIT;
	snprintf(full, sizeof full, "%s%s", prefix, name);
	if (getenv("PLEIN_PRINT_VECTORS"))
		print_hex(full, p, n);
	int ok = doc_hex(&d, full) == 0 && d.len == n && memcmp(d.data, p, n) == 0;
	plein_buf_free(&d);
	return ok;
}

static void plein_vector_check(int pattern, const size_t len[3])
{
	plein_buf m[3] = { PLEIN_BUF_INIT, PLEIN_BUF_INIT, PLEIN_BUF_INIT };
	unsigned char hash[64], k1[32], k2[32];
	const char *pre = pattern == PLEIN_NOISE_IK ? "ik_" : "";
	static const char *const names[3] = { "msg1", "msg2", "msg3" };
	int lens = 1, msgs = 1;
	plein_vector_run(pattern, m, hash, k1, k2);
	for (int i = 0; i < 3; i++) {
		lens &= m[i].len == len[i];
		if (len[i])
			msgs &= doc_is(pre, names[i], m[i].data, m[i].len);
		plein_buf_free(&m[i]);
	}
	int keys = doc_is(pre, "handshake_hash", hash, 64) & doc_is(pre, "key_i2r", k1, 32) &
		   doc_is(pre, "key_r2i", k2, 32);
	CHECK(lens);
	CHECK(msgs);
	CHECK(keys);
}

TEST(noise_plein_vector_matches_doc)
{
	static const size_t len[3] = { 32, 128, 96 };
	plein_vector_check(PLEIN_NOISE_XX, len);
}

TEST(noise_plein_ik_vector_matches_doc)
{
	/* 96 + 33 + 25 and 48 + 33 + 25: e, s, the key, flag and vector. */
	static const size_t len[3] = { 194, 146, 0 };
	plein_vector_check(PLEIN_NOISE_IK, len);
}

/* Two parties with random keys; returns 0 if the handshake completes.
 * ik: 1 for IK with the responder's right key, 2 with another key. */
static int handshake_p(int ik, const char *pro_i, const char *pro_r, int tamper_at, int tamper_byte)
{
	unsigned char si[32], sr[32], rs[32];
	randombytes_buf(si, 32);
	randombytes_buf(sr, 32);
	crypto_scalarmult_base(rs, sr);
	if (ik == 2)
		rs[0] ^= 1;
	plein_noise a, b;
	if (ik) {
		plein_noise_init_ik(&a, 1, (const unsigned char *)pro_i, strlen(pro_i), si, rs);
		plein_noise_init_ik(&b, 0, (const unsigned char *)pro_r, strlen(pro_r), sr, NULL);
	} else {
		plein_noise_init(&a, 1, (const unsigned char *)pro_i, strlen(pro_i), si);
		plein_noise_init(&b, 0, (const unsigned char *)pro_r, strlen(pro_r), sr);
	}
	plein_buf m = PLEIN_BUF_INIT, pl = PLEIN_BUF_INIT;
	int rc = 0;
	for (int i = 0; i < a.nmsg && rc == 0; i++) {
		plein_noise *w = i % 2 ? &b : &a, *r = i % 2 ? &a : &b;
		plein_buf_reset(&m);
		rc = plein_noise_write(w, &m, (const unsigned char *)"payload", 7);
		if (i == tamper_at)
			m.data[tamper_byte % m.len] ^= 1;
		if (rc == 0)
			rc = plein_noise_read(r, &pl, m.data, m.len);
	}
	if (rc == 0 && (!plein_noise_done(&a) || !plein_noise_done(&b)))
		rc = -1;
	plein_buf_free(&m);
	plein_buf_free(&pl);
	return rc;
}

static int handshake(const char *pro_i, const char *pro_r, int tamper_at, int tamper_byte)
{
	return handshake_p(0, pro_i, pro_r, tamper_at, tamper_byte);
}

TEST(noise_completes_with_same_prologue)
{
	CHECK_EQ_INT(handshake("net A", "net A", -1, 0), 0);
	CHECK_EQ_INT(handshake_p(1, "net A", "net A", -1, 0), 0);
}

TEST(noise_fails_for_another_network)
{
	/* The prologue carries the network id: a site of another network
	 * fails at the first encrypted field. */
	CHECK_EQ_INT(handshake("net A", "net B", -1, 0), PLEIN_EREJECT);
	CHECK_EQ_INT(handshake_p(1, "net A", "net B", -1, 0), PLEIN_EREJECT);
}

TEST(noise_fails_when_tampered)
{
	for (int at = 0; at < 3; at++)
		for (int byte = 0; byte < 130; byte += 13) {
			CHECK_EQ_INT(handshake("n", "n", at, byte), PLEIN_EREJECT);
			if (at < 2)
				CHECK_EQ_INT(handshake_p(1, "n", "n", at, byte), PLEIN_EREJECT);
		}
}

TEST(noise_ik_for_another_responder_key_fails_at_the_responder)
{
	/* The initiator's idea of the responder's key is wrong: message 1
	 * does not decrypt there (the session then falls back to XX). */
	CHECK_EQ_INT(handshake_p(2, "n", "n", -1, 0), PLEIN_EREJECT);
}

TEST(noise_replayed_handshake_fails)
{
	/* Record a real initiator's messages, then replay them to a fresh
	 * responder: its new ephemeral key makes the third message useless. */
	unsigned char si[32], sr[32];
	randombytes_buf(si, 32);
	randombytes_buf(sr, 32);
	plein_noise a, b, c;
	plein_buf m1 = PLEIN_BUF_INIT, m2 = PLEIN_BUF_INIT, m3 = PLEIN_BUF_INIT, pl = PLEIN_BUF_INIT, x = PLEIN_BUF_INIT;
	plein_noise_init(&a, 1, (const unsigned char *)"p", 1, si);
	plein_noise_init(&b, 0, (const unsigned char *)"p", 1, sr);
	CHECK_EQ_INT(plein_noise_write(&a, &m1, NULL, 0), 0);
	CHECK_EQ_INT(plein_noise_read(&b, &pl, m1.data, m1.len), 0);
	CHECK_EQ_INT(plein_noise_write(&b, &m2, sr, 0), 0);
	CHECK_EQ_INT(plein_noise_read(&a, &pl, m2.data, m2.len), 0);
	CHECK_EQ_INT(plein_noise_write(&a, &m3, NULL, 0), 0);
	CHECK_EQ_INT(plein_noise_read(&b, &pl, m3.data, m3.len), 0);
	/* The replay, against the same responder key. */
	plein_noise_init(&c, 0, (const unsigned char *)"p", 1, sr);
	CHECK_EQ_INT(plein_noise_read(&c, &pl, m1.data, m1.len), 0);
	CHECK_EQ_INT(plein_noise_write(&c, &x, NULL, 0), 0);
	CHECK_EQ_INT(plein_noise_read(&c, &pl, m3.data, m3.len), PLEIN_EREJECT);
	CHECK(!plein_noise_done(&c));
	plein_buf_free(&m1);
	plein_buf_free(&m2);
	plein_buf_free(&m3);
	plein_buf_free(&pl);
	plein_buf_free(&x);
}

TEST(noise_short_and_out_of_turn_messages)
{
	unsigned char sk[32];
	randombytes_buf(sk, 32);
	plein_noise a, b;
	plein_buf m = PLEIN_BUF_INIT, pl = PLEIN_BUF_INIT;
	plein_noise_init(&a, 1, (const unsigned char *)"p", 1, sk);
	plein_noise_init(&b, 0, (const unsigned char *)"p", 1, sk);
	CHECK_EQ_INT(plein_noise_read(&a, &pl, m.data, 0), PLEIN_EINVAL); /* initiator writes first */
	CHECK_EQ_INT(plein_noise_read(&b, &pl, (const unsigned char *)"short", 5), PLEIN_EREJECT);
	plein_noise_init(&b, 0, (const unsigned char *)"p", 1, sk);
	CHECK_EQ_INT(plein_noise_write(&a, &m, NULL, 0), 0);
	CHECK_EQ_INT(plein_noise_read(&b, &pl, m.data, m.len), 0);
	plein_buf_reset(&m);
	CHECK_EQ_INT(plein_noise_write(&b, &m, NULL, 0), 0);
	CHECK_EQ_INT(plein_noise_read(&a, &pl, m.data, 60), PLEIN_EREJECT); /* cut short */
	/* A low-order point as the peer's ephemeral key is refused. */
	plein_noise_init(&a, 1, (const unsigned char *)"p", 1, sk);
	plein_noise_init(&b, 0, (const unsigned char *)"p", 1, sk);
	plein_buf_reset(&m);
	plein_noise_write(&a, &m, NULL, 0);
	plein_noise_read(&b, &pl, m.data, m.len);
	plein_buf_reset(&m);
	plein_noise_write(&b, &m, NULL, 0);
	memset(m.data, 0, 32);
	CHECK_EQ_INT(plein_noise_read(&a, &pl, m.data, m.len), PLEIN_EREJECT);
	plein_buf_free(&m);
	plein_buf_free(&pl);
}
