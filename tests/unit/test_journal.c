/* The journal: captured writes become signed batches in log.git, and the
 * replica catches up from the log after a crash at the commit point. */
#include "harness.h"
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
