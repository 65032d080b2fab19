/* The journal: captured writes become signed batches in log.git, and the
 * replica catches up from the log after a crash at the commit point. */
#include <unistd.h>
#include <zlib.h>

#include "harness.h"
#include "plein/batch.h"
#include "plein/capture.h"
#include "plein/digest.h"
#include "plein/journal.h"
#include "plein/log.h"
#include "util.h"

static int copy_file(const char *from, const char *to)
{
	FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
	if (!a || !b) {
		if (a)
			fclose(a);
		if (b)
			fclose(b);
		return -1;
	}
	char buf[8192];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, a)) > 0)
		fwrite(buf, 1, n, b);
	fclose(a);
	return fclose(b);
}

TEST(sealing_makes_one_batch_per_round_and_forgets_captured_rows)
{
	char dir[256];
	plein_site *s = test_site(dir);
	CHECK(s != NULL);
	uint64_t seq = 99;
	CHECK_OK(plein_journal_seal(s, &seq));
	CHECK_EQ_INT(seq, 0); /* nothing captured: no batch */
	CHECK_OK(plein_db_exec(s->db, "INSERT INTO daylog(id, text) VALUES ('a', 'een'), ('b', 'twee')"));
	CHECK_OK(plein_journal_seal(s, &seq));
	CHECK_EQ_INT(seq, 1);
	CHECK_OK(plein_db_exec(s->db, "UPDATE daylog SET text = 'drie' WHERE id = 'a'"));
	CHECK_OK(plein_journal_seal(s, &seq));
	CHECK_EQ_INT(seq, 2);
	int64_t pending = -1;
	CHECK_OK(plein_capture_pending(s->db, &pending));
	CHECK_EQ_INT(pending, 0);
	plein_log_ref tip;
	CHECK_OK(plein_log_tip(&tip, plein_site_log(s), s->id));
	CHECK_EQ_INT(tip.seq, 2);
	uint64_t applied = 0;
	CHECK_OK(plein_journal_applied(s, s->id, &applied));
	CHECK_EQ_INT(applied, 2);
	plein_site_close(s);
	test_rmdir(dir);
}

TEST(crash_after_the_log_moved_is_repaired_once)
{
	char dir[256], db[300], saved[300];
	plein_site *s = test_site(dir);
	CHECK(s != NULL);
	snprintf(db, sizeof db, "%s/plein.db", dir);
	snprintf(saved, sizeof saved, "%s/saved.db", dir);
	CHECK_OK(plein_db_exec(s->db, "INSERT INTO referral(id, status, attempts) VALUES ('r', 'new', 0)"));
	CHECK_OK(plein_db_exec(s->db, "UPDATE referral SET attempts = attempts + 1 WHERE id = 'r'"));
	CHECK_OK(plein_db_exec(s->db, "PRAGMA wal_checkpoint(TRUNCATE)"));
	plein_site_close(s);
	CHECK_EQ_INT(copy_file(db, saved), 0); /* the replica before the seal */

	CHECK_OK(plein_site_open(&s, dir));
	uint64_t seq = 0;
	CHECK_OK(plein_journal_seal(s, &seq));
	CHECK_EQ_INT(seq, 1);
	char good[65];
	CHECK_OK(plein_digest_hex(s->db, good));
	plein_site_close(s);

	/* The crash: log.git has batch 1, the replica lost its transaction. */
	CHECK_EQ_INT(copy_file(saved, db), 0);
	char wal[320];
	snprintf(wal, sizeof wal, "%s-wal", db);
	remove(wal);
	CHECK_OK(plein_site_open(&s, dir));
	int64_t pending = 0;
	CHECK_OK(plein_capture_pending(s->db, &pending));
	CHECK(pending > 0);
	/* The next seal repairs first: no second batch, nothing doubled. */
	CHECK_OK(plein_journal_seal(s, &seq));
	CHECK_EQ_INT(seq, 0);
	CHECK_OK(plein_capture_pending(s->db, &pending));
	CHECK_EQ_INT(pending, 0);
	char after[65];
	CHECK_OK(plein_digest_hex(s->db, after));
	CHECK_STR(after, good);
	int64_t attempts = 0;
	CHECK_OK(plein_db_int(s->db, &attempts, "SELECT attempts FROM referral WHERE id = 'r'", NULL));
	CHECK_EQ_INT(attempts, 1);
	plein_log_ref tip;
	CHECK_OK(plein_log_tip(&tip, plein_site_log(s), s->id));
	CHECK_EQ_INT(tip.seq, 1);
	plein_site_close(s);
	test_rmdir(dir);
}

TEST(log_is_readable_with_the_git_cli)
{
	char dir[256], cmd[600];
	plein_site *s = test_site(dir);
	CHECK(s != NULL);
	CHECK_OK(plein_db_exec(s->db, "INSERT INTO location(id, name, kind) VALUES ('L', 'Centrum', 'branch')"));
	uint64_t seq = 0;
	CHECK_OK(plein_journal_seal(s, &seq));
	snprintf(cmd, sizeof cmd, "git --git-dir '%s/log.git' log --format=%%s 'refs/plein/sites/%s' | grep -q '^batch 1 from %s'",
		 dir, s->id, s->id);
	CHECK_EQ_INT(system(cmd), 0);
	plein_site_close(s);
	test_rmdir(dir);
}

/* Store batch seq of from's own chain in to's log, as a sync would. */
static int carry(plein_site *from, plein_site *to, uint64_t seq)
{
	plein_log_entry e;
	memset(&e, 0, sizeof e);
	int rc = plein_log_read(&e, plein_site_log(from), from->id, seq);
	if (rc == 0) {
		plein_log_batch b;
		plein_log_batch_of(&b, &e);
		rc = plein_log_append(plein_site_log(to), &b);
	}
	plein_log_entry_free(&e);
	return rc < 0 ? rc : 0;
}

/* A row deleted here but not sealed yet, when a concurrent update of it
 * arrives: catching up must not bring the row back (with only the updated
 * column), and the delete, once sealed, wins everywhere (merge.md: a
 * delete beats concurrent updates). So does a clock-only change. */
TEST(unsealed_local_delete_survives_a_concurrent_update)
{
	char da[256], db[256];
	plein_site *a = test_site(da), *b = test_site(db);
	CHECK(a && b);
	uint64_t seq = 0;
	CHECK_OK(plein_db_exec(a->db, "INSERT INTO daylog(id, day, author, text) VALUES ('r', '2026-12-01', 'Ans', 'een')"));
	CHECK_OK(plein_journal_seal(a, &seq));
	CHECK_EQ_INT(seq, 1);
	CHECK_OK(carry(a, b, 1));
	CHECK_OK(plein_journal_catch_up(b, NULL));
	CHECK_OK(plein_db_exec(b->db, "UPDATE daylog SET text = 'twee' WHERE id = 'r'"));
	CHECK_OK(plein_journal_seal(b, &seq));
	CHECK_EQ_INT(seq, 1);

	CHECK_OK(plein_db_exec(a->db, "DELETE FROM daylog WHERE id = 'r'")); /* not sealed yet */
	CHECK_OK(carry(b, a, 1));
	CHECK_OK(plein_journal_catch_up(a, NULL));
	int64_t n = -1;
	CHECK_OK(plein_db_int(a->db, &n, "SELECT count(*) FROM daylog WHERE id = 'r'", NULL));
	CHECK_EQ_INT(n, 0);

	CHECK_OK(plein_journal_seal(a, &seq));
	CHECK_EQ_INT(seq, 2);
	CHECK_OK(carry(a, b, 2));
	CHECK_OK(plein_journal_catch_up(b, NULL));
	CHECK_OK(plein_db_int(b->db, &n, "SELECT count(*) FROM daylog WHERE id = 'r'", NULL));
	CHECK_EQ_INT(n, 0);
	char ha[65], hb[65];
	CHECK_OK(plein_digest_hex(a->db, ha));
	CHECK_OK(plein_digest_hex(b->db, hb));
	CHECK_STR(ha, hb);
	plein_site_close(a);
	plein_site_close(b);
	test_rmdir(da);
	test_rmdir(db);
}

/* The daemon keeps log.git open while other processes seal into it: its
 * catch-up checks the loose objects they wrote before reading them, so a
 * damaged one is an error, not a hang in libgit2 (loose.h). */
TEST(catch_up_of_a_long_open_log_checks_loose_objects_others_wrote)
{
	char dir[256], cmd[700], hex[64] = "", path[400];
	plein_site *s = test_site(dir), *other = NULL;
	CHECK(s != NULL);
	uint64_t seq = 0;
	CHECK_OK(plein_db_exec(s->db, "INSERT INTO daylog(id, text) VALUES ('a', 'een')"));
	CHECK_OK(plein_journal_seal(s, &seq)); /* s's log is open from here on */
	CHECK_OK(plein_site_open(&other, dir));
	CHECK_OK(plein_db_exec(other->db, "INSERT INTO daylog(id, text) VALUES ('b', 'twee')"));
	CHECK_OK(plein_journal_seal(other, &seq));
	CHECK_EQ_INT(seq, 2);
	plein_site_close(other);
	snprintf(cmd, sizeof cmd, "git --git-dir '%s/log.git' rev-parse 'refs/plein/sites/%s:payload'", dir, s->id);
	FILE *p = popen(cmd, "r");
	CHECK(p != NULL);
	CHECK(fgets(hex, sizeof hex, p) != NULL);
	pclose(p);
	hex[strcspn(hex, "\n")] = 0;
	snprintf(path, sizeof path, "%s/log.git/objects/%.2s/%s", dir, hex, hex + 2);
	CHECK_EQ_INT(truncate(path, 10), 0);
	CHECK_EQ_INT(plein_journal_catch_up(s, NULL), PLEIN_EREJECT);
	CHECK(strstr(plein_error(), "log.git is damaged") != NULL);
	CHECK(strstr(plein_error(), hex) != NULL);
	plein_site_close(s);
	test_rmdir(dir);
}

/* Batch 2 of s: batch 1's changes with text "twee" and later clocks,
 * signed, whose payload has one byte after its last row: it decodes
 * until its very end, then is refused. */
static int seal_refused_at_the_end(plein_site *s, const plein_log_entry *e1)
{
	plein_batch_header h1, h2;
	plein_batch *b1 = NULL;
	plein_buf pay = PLEIN_BUF_INIT, pers = PLEIN_BUF_INIT;
	unsigned char hb[PLEIN_BATCH_HEADER_BYTES], sig[PLEIN_BATCH_SIG_BYTES], *raw = NULL, *z = NULL;
	int rc = plein_batch_verify(&h1, e1->header.data, e1->header.len, e1->sig.data);
	if (rc == 0)
		rc = plein_batch_decode(&b1, &h1, e1->payload.data, e1->payload.len,
					e1->has_personal ? e1->personal.data : NULL, e1->has_personal ? e1->personal.len : 0);
	if (rc < 0)
		return rc;
	plein_change *v = calloc(b1->n, sizeof *v);
	for (size_t i = 0; i < b1->n; i++) {
		v[i] = b1->changes[i];
		v[i].hlc += 1000;
		if (v[i].value.type == PLEIN_V_TEXT && v[i].value.n == 3) {
			v[i].value.p = (const unsigned char *)"twee";
			v[i].value.n = 4;
		}
	}
	memset(&h2, 0, sizeof h2);
	memcpy(h2.network_id, h1.network_id, sizeof h2.network_id);
	memcpy(h2.site_pk, h1.site_pk, 32);
	h2.seq = 2;
	plein_batch_hash(h2.prev_hash, e1->header.data, e1->sig.data);
	h2.schema_version = h1.schema_version;
	rc = plein_batch_encode(&h2, &pay, &pers, NULL, 0, v, b1->n, 1, NULL);
	uLongf rn = h2.raw_len + 1, zn = compressBound(h2.raw_len + 1);
	raw = malloc(rn);
	z = malloc(zn);
	if (rc == 0 && uncompress(raw, &rn, pay.data, pay.len) != Z_OK)
		rc = -100;
	if (rc == 0) {
		raw[rn] = 0x01; /* a row of table 1 begins, and ends at once */
		if (compress2(z, &zn, raw, rn + 1, 1) != Z_OK)
			rc = -101;
		h2.raw_len = (uint32_t)rn + 1;
		h2.payload_len = (uint32_t)zn;
		crypto_generichash(h2.payload_hash, sizeof h2.payload_hash, z, zn, NULL, 0);
	}
	if (rc == 0)
		rc = plein_batch_seal(hb, sig, &h2, s->sk);
	if (rc == 0) {
		plein_log_batch lb = { .site = s->id, .seq = 2, .time = e1->time, .header = hb,
				       .header_len = sizeof hb, .sig = sig, .payload = z, .payload_len = zn,
				       .personal = pers.len ? pers.data : NULL, .personal_len = pers.len,
				       .parent = e1->commit };
		rc = plein_log_append(plein_site_log(s), &lb);
	}
	free(z);
	free(raw);
	free(v);
	plein_buf_free(&pay);
	plein_buf_free(&pers);
	plein_batch_free(b1);
	return rc;
}

TEST(a_stored_batch_refused_partway_through_applying_is_rolled_back_whole)
{
	char dir[256];
	plein_site *s = test_site(dir);
	CHECK(s != NULL);
	/* 3000 rows, 6000 changes: more than one part of what apply reads at a time */
	CHECK_OK(plein_db_exec(s->db, "WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i < 2999) "
			       "INSERT INTO daylog(id, text) SELECT printf('r%04d', i), 'een' FROM k"));
	uint64_t seq = 0;
	CHECK_OK(plein_journal_seal(s, &seq));
	CHECK_EQ_INT(seq, 1);
	plein_log_entry e1;
	memset(&e1, 0, sizeof e1);
	CHECK_OK(plein_log_read(&e1, plein_site_log(s), s->id, 1));
	CHECK_OK(seal_refused_at_the_end(s, &e1));
	plein_log_entry_free(&e1);

	CHECK_EQ_INT(plein_journal_catch_up(s, NULL), PLEIN_ERR);
	CHECK(strstr(plein_error(), "log.git: batch 2 of ") != NULL);
	CHECK(strstr(plein_error(), "payload truncated at byte") != NULL);
	int64_t n = -1;
	CHECK_OK(plein_db_int(s->db, &n, "SELECT count(*) FROM daylog WHERE text = 'een'", NULL));
	CHECK_EQ_INT(n, 3000);
	uint64_t applied = 0;
	CHECK_OK(plein_journal_applied(s, s->id, &applied));
	CHECK_EQ_INT(applied, 1);
	plein_site_close(s);
	test_rmdir(dir);
}
