/* The change log in log.git: append and read back, compare-and-swap,
 * version vectors, packs, determinism, held batches and fork proofs,
 * adopting fetched chains; checked against the real git CLI too. */
#include <dirent.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "log_util.h"
#include "util.h"

static int buf_is(const plein_buf *b, const void *p, size_t n)
{
	return b->len == n && (n == 0 || memcmp(b->data, p, n) == 0);
}

static int append_n(plein_log *log, const char *site, uint64_t from, uint64_t to, const char *variant)
{
	for (uint64_t s = from; s <= to; s++) {
		struct tb t;
		tb_make(&t, site, s, variant, s % 3 == 0);
		int rc = plein_log_append(log, &t.b);
		if (rc != 0)
			return rc;
	}
	return 0;
}

TEST(append_and_read_back)
{
	char dir[256];
	CHECK(test_tmpdir(dir) == 0);
	plein_log *log = test_log(dir, "log.git");
	CHECK(log != NULL);
	struct tb t[4];
	for (int i = 1; i <= 3; i++) {
		tb_make(&t[i], SITE_A, (uint64_t)i, "x", i == 2);
		CHECK_OK(plein_log_append(log, &t[i].b));
	}
	plein_log_ref tip;
	CHECK_OK(plein_log_tip(&tip, log, SITE_A));
	CHECK_EQ_INT(tip.seq, 3);
	CHECK_STR(tip.name, "refs/plein/sites/" SITE_A);
	char prev[41] = "";
	for (int i = 1; i <= 3; i++) {
		plein_log_entry e;
		CHECK_OK(plein_log_read(&e, log, SITE_A, (uint64_t)i));
		CHECK_STR(e.site, SITE_A);
		CHECK_EQ_INT(e.seq, i);
		CHECK_EQ_INT(e.time, 1700000000 + i);
		CHECK_STR(e.summary, t[i].summary);
		CHECK_STR(e.parent, prev);
		CHECK(buf_is(&e.header, t[i].b.header, t[i].b.header_len));
		CHECK(buf_is(&e.sig, t[i].sig, 64));
		CHECK(buf_is(&e.payload, t[i].b.payload, t[i].b.payload_len));
		CHECK_EQ_INT(e.has_personal, i == 2);
		if (i == 2)
			CHECK(buf_is(&e.personal, t[i].b.personal, t[i].b.personal_len));
		snprintf(prev, sizeof prev, "%s", e.commit);
		plein_log_entry_free(&e);
	}
	CHECK_STR(prev, tip.commit);
	/* seq 0 reads the tip; missing things are ENOTFOUND */
	plein_log_entry e;
	CHECK_OK(plein_log_read(&e, log, SITE_A, 0));
	CHECK_EQ_INT(e.seq, 3);
	plein_log_entry_free(&e);
	CHECK_EQ_INT(plein_log_read(&e, log, SITE_A, 4), PLEIN_ENOTFOUND);
	CHECK_EQ_INT(plein_log_read(&e, log, SITE_B, 1), PLEIN_ENOTFOUND);
	CHECK_EQ_INT(plein_log_read(&e, log, "not-a-site", 1), PLEIN_EINVAL);
	CHECK_OK(plein_log_tip(&tip, log, SITE_B));
	CHECK_EQ_INT(tip.seq, 0);
	CHECK_STR(tip.commit, "");
	plein_log_close(log);
	/* reopening reads the same chain */
	log = test_log(dir, "log.git");
	CHECK(log != NULL);
	CHECK_OK(plein_log_read(&e, log, SITE_A, 2));
	CHECK(buf_is(&e.personal, t[2].b.personal, t[2].b.personal_len));
	plein_log_entry_free(&e);
	plein_log_close(log);
	test_rmdir(dir);
}

TEST(append_refuses_gaps_forks_and_bad_input)
{
	char dir[256];
	CHECK(test_tmpdir(dir) == 0);
	plein_log *log = test_log(dir, "log.git");
	CHECK(log != NULL);
	struct tb t;
	tb_make(&t, SITE_A, 2, "x", 0);
	CHECK_EQ_INT(plein_log_append(log, &t.b), PLEIN_LOG_EGAP);
	CHECK(strstr(plein_error(), "batches 1 to 1 are missing") != NULL);
	CHECK_OK(append_n(log, SITE_A, 1, 2, "x"));
	plein_log_ref before, after;
	CHECK_OK(plein_log_tip(&before, log, SITE_A));
	/* the same batch again: stored already */
	tb_make(&t, SITE_A, 1, "x", 0);
	CHECK_EQ_INT(plein_log_append(log, &t.b), PLEIN_LOG_SAME);
	/* another batch with seq 1: a fork */
	tb_make(&t, SITE_A, 1, "other", 0);
	CHECK_EQ_INT(plein_log_append(log, &t.b), PLEIN_LOG_EFORK);
	CHECK(strstr(plein_error(), "fork") != NULL);
	tb_make(&t, SITE_A, 5, "x", 0);
	CHECK_EQ_INT(plein_log_append(log, &t.b), PLEIN_LOG_EGAP);
	/* bad input */
	tb_make(&t, "2F1A-0TNN", 3, "x", 0);
	CHECK_EQ_INT(plein_log_append(log, &t.b), PLEIN_EINVAL);
	tb_make(&t, "2f1a-0tnn-pf0h-mqk5", 3, "x", 0); /* not canonical */
	CHECK_EQ_INT(plein_log_append(log, &t.b), PLEIN_EINVAL);
	tb_make(&t, SITE_A, 3, "x", 0);
	t.b.summary = "two\nlines";
	CHECK_EQ_INT(plein_log_append(log, &t.b), PLEIN_EINVAL);
	tb_make(&t, SITE_A, 3, "x", 0);
	t.b.sig = NULL;
	CHECK_EQ_INT(plein_log_append(log, &t.b), PLEIN_EINVAL);
	tb_make(&t, SITE_A, 3, "x", 0);
	t.b.header_len = 0;
	CHECK_EQ_INT(plein_log_append(log, &t.b), PLEIN_EINVAL);
	tb_make(&t, SITE_A, 0, "x", 0);
	CHECK_EQ_INT(plein_log_append(log, &t.b), PLEIN_EINVAL);
	tb_make(&t, SITE_A, 3, "x", 0);
	t.b.parent = "xyz";
	CHECK_EQ_INT(plein_log_append(log, &t.b), PLEIN_EINVAL);
	/* nothing changed */
	CHECK_OK(plein_log_tip(&after, log, SITE_A));
	CHECK_EQ_INT(after.seq, 2);
	CHECK_STR(after.commit, before.commit);
	plein_log_close(log);
	test_rmdir(dir);
}

TEST(cas_refuses_a_stale_parent)
{
	char dir[256];
	CHECK(test_tmpdir(dir) == 0);
	plein_log *one = test_log(dir, "log.git"), *two = test_log(dir, "log.git");
	CHECK(one && two);
	struct tb t;
	tb_make(&t, SITE_A, 1, "one", 0);
	t.b.parent = "";
	CHECK_OK(plein_log_append(one, &t.b));
	/* both writers read the tip, then seal their batch 2 */
	plein_log_ref tip1, tip2, end;
	CHECK_OK(plein_log_tip(&tip1, one, SITE_A));
	CHECK_OK(plein_log_tip(&tip2, two, SITE_A));
	CHECK_STR(tip1.commit, tip2.commit);
	tb_make(&t, SITE_A, 2, "one", 0);
	t.b.parent = tip1.commit;
	CHECK_OK(plein_log_append(one, &t.b));
	tb_make(&t, SITE_A, 2, "two", 0);
	t.b.parent = tip2.commit;
	CHECK_EQ_INT(plein_log_append(two, &t.b), PLEIN_EBUSY);
	CHECK(strstr(plein_error(), "moved on") != NULL);
	/* "" means: the chain must be empty */
	tb_make(&t, SITE_A, 3, "two", 0);
	t.b.parent = "";
	CHECK_EQ_INT(plein_log_append(two, &t.b), PLEIN_EBUSY);
	CHECK_OK(plein_log_tip(&end, two, SITE_A));
	CHECK_EQ_INT(end.seq, 2);
	plein_log_entry e;
	CHECK_OK(plein_log_read(&e, two, SITE_A, 2));
	CHECK(strstr((char *)plein_buf_cstr(&e.header), " one") != NULL);
	plein_log_entry_free(&e);
	plein_log_close(one);
	plein_log_close(two);
	test_rmdir(dir);
}

/* Several processes append to one chain at once, each reading the tip and
 * appending on it. Every append that reported success must be in the
 * chain: a lost update or a fork would show here. */
TEST(concurrent_writers_never_lose_or_fork)
{
	enum { WRITERS = 3, TARGET = 45 };
	char dir[256], path[300];
	CHECK(test_tmpdir(dir) == 0);
	plein_log *log = test_log(dir, "log.git");
	CHECK(log != NULL);
	plein_log_close(log);
	pid_t pids[WRITERS];
	fflush(stdout);
	for (int w = 0; w < WRITERS; w++) {
		pids[w] = fork();
		CHECK(pids[w] >= 0);
		if (pids[w] > 0)
			continue;
		char variant[16];
		snprintf(variant, sizeof variant, "w%d", w);
		snprintf(path, sizeof path, "%s/claims-%d", dir, w);
		FILE *f = fopen(path, "w");
		plein_log *mine = test_log(dir, "log.git");
		int bad = !f || !mine;
		for (int guard = 0; !bad && guard < 10000; guard++) {
			plein_log_ref tip;
			if (plein_log_tip(&tip, mine, SITE_A) < 0) {
				bad = 1;
				break;
			}
			if (tip.seq >= TARGET)
				break;
			struct tb t;
			tb_make(&t, SITE_A, tip.seq + 1, variant, 0);
			t.b.parent = tip.commit;
			int rc = plein_log_append(mine, &t.b);
			if (rc == 0)
				fprintf(f, "%" PRIu64 "\n", tip.seq + 1);
			else if (rc != PLEIN_EBUSY && rc != PLEIN_LOG_EFORK && rc != PLEIN_LOG_SAME) {
				fprintf(stderr, "writer %d: %d %s\n", w, rc, plein_error());
				bad = 1;
			}
		}
		if (f)
			fclose(f);
		plein_log_close(mine);
		_exit(bad);
	}
	for (int w = 0; w < WRITERS; w++) {
		int st = 0;
		waitpid(pids[w], &st, 0);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	log = test_log(dir, "log.git");
	CHECK(log != NULL);
	plein_log_ref tip;
	CHECK_OK(plein_log_tip(&tip, log, SITE_A));
	CHECK_EQ_INT(tip.seq, TARGET);
	int claimed = 0;
	for (int w = 0; w < WRITERS; w++) {
		char want[16];
		snprintf(want, sizeof want, " w%d", w);
		snprintf(path, sizeof path, "%s/claims-%d", dir, w);
		FILE *f = fopen(path, "r");
		CHECK(f != NULL);
		unsigned long long seq;
		while (fscanf(f, "%llu", &seq) == 1) {
			plein_log_entry e;
			CHECK_OK(plein_log_read(&e, log, SITE_A, seq));
			int mine = strstr(plein_buf_cstr(&e.header), want) != NULL;
			plein_log_entry_free(&e);
			if (!mine)
				FAIL_AT("writer %d was told batch %llu was stored, but another writer's is there", w, seq);
			claimed++;
		}
		fclose(f);
	}
	CHECK_EQ_INT(claimed, TARGET);
	plein_log_close(log);
	test_rmdir(dir);
}

TEST(version_vector_lists_every_site)
{
	char dir[256];
	CHECK(test_tmpdir(dir) == 0);
	plein_log *log = test_log(dir, "log.git");
	CHECK(log != NULL);
	plein_log_ref *v = NULL;
	size_t n = 99;
	CHECK_OK(plein_log_tips(&v, &n, log));
	CHECK_EQ_INT(n, 0);
	free(v);
	CHECK_OK(append_n(log, SITE_B, 1, 1, "x"));
	CHECK_OK(append_n(log, SITE_A, 1, 3, "x"));
	CHECK_OK(append_n(log, SITE_C, 1, 5, "x"));
	/* held batches, fork proofs and incoming chains are not part of it */
	struct tb t;
	tb_make(&t, SITE_B, 7, "x", 0);
	CHECK_OK(plein_log_hold(log, &t.b));
	CHECK_OK(plein_log_tips(&v, &n, log));
	CHECK_EQ_INT(n, 3);
	CHECK_STR(v[0].site, SITE_C);
	CHECK_EQ_INT(v[0].seq, 5);
	CHECK_STR(v[1].site, SITE_A);
	CHECK_EQ_INT(v[1].seq, 3);
	CHECK_STR(v[2].site, SITE_B);
	CHECK_EQ_INT(v[2].seq, 1);
	plein_log_ref tip;
	CHECK_OK(plein_log_tip(&tip, log, SITE_A));
	CHECK_STR(v[1].commit, tip.commit);
	free(v);
	plein_log_close(log);
	test_rmdir(dir);
}

static int count_cb(const plein_log_entry *e, void *payload)
{
	uint64_t *next = payload;
	if (e->seq != *next)
		return -99;
	(*next)++;
	return 0;
}

TEST(foreach_walks_a_range_in_order)
{
	char dir[256];
	CHECK(test_tmpdir(dir) == 0);
	plein_log *log = test_log(dir, "log.git");
	CHECK(log != NULL);
	CHECK_OK(append_n(log, SITE_A, 1, 12, "x"));
	uint64_t next = 4;
	CHECK_OK(plein_log_foreach(log, SITE_A, 4, 9, count_cb, &next));
	CHECK_EQ_INT(next, 10);
	next = 1;
	CHECK_OK(plein_log_foreach(log, SITE_A, 0, 0, count_cb, &next));
	CHECK_EQ_INT(next, 13);
	next = 1;
	CHECK_EQ_INT(plein_log_foreach(log, SITE_A, 1, 13, count_cb, &next), PLEIN_ENOTFOUND);
	next = 5; /* the callback's own return stops the walk */
	CHECK_EQ_INT(plein_log_foreach(log, SITE_A, 1, 12, count_cb, &next), -99);
	plein_log_close(log);
	test_rmdir(dir);
}

TEST(git_cli_reads_the_log)
{
	char dir[256], out[900], want[900] = "";
	CHECK(test_tmpdir(dir) == 0);
	plein_log *log = test_log(dir, "log.git");
	CHECK(log != NULL);
	CHECK_OK(append_n(log, SITE_A, 1, 4, "x"));
	CHECK_EQ_INT(sh(out, sizeof out, "git --git-dir '%s/log.git' log --format=%%s refs/plein/sites/" SITE_A, dir), 0);
	for (int i = 4; i >= 1; i--) {
		size_t len = strlen(want);
		snprintf(want + len, sizeof want - len, "%sbatch %d from " SITE_A ": %d changes", i < 4 ? "\n" : "", i, i + 1);
	}
	CHECK_STR(out, want);
	CHECK_EQ_INT(sh(out, sizeof out, "git --git-dir '%s/log.git' log -1 --format='%%(trailers:key=Plein-Seq,valueonly)%%an <%%ae> %%at' refs/plein/sites/" SITE_A, dir), 0);
	CHECK_STR(out, "4\n" SITE_A " <" SITE_A "@plein.invalid> 1700000004");
	CHECK_EQ_INT(sh(out, sizeof out, "git --git-dir '%s/log.git' cat-file -p refs/plein/sites/" SITE_A "~1:header", dir), 0);
	CHECK_STR(out, "header " SITE_A " 3 x");
	/* The personal part is beside the commit, under its own ref. */
	CHECK_EQ_INT(sh(out, sizeof out, "git --git-dir '%s/log.git' cat-file -p refs/plein/sites/" SITE_A "~1:personal 2>/dev/null", dir), 128);
	CHECK_EQ_INT(sh(out, sizeof out, "d='%s/log.git'; git --git-dir \"$d\" cat-file -p "
			"$(git --git-dir \"$d\" for-each-ref --format='%%(refname)' refs/plein/personal/" SITE_A "/3/):personal", dir), 0);
	CHECK_STR(out, "personal 3");
	CHECK_EQ_INT(sh(out, sizeof out, "d='%s/log.git'; git --git-dir \"$d\" for-each-ref --format='%%(refname:lstrip=4)' "
			"refs/plein/personal/ | cut -d/ -f1 | tr '\\n' ' '", dir), 0);
	CHECK_STR(out, "3 "); /* only batch 3 has a personal part */
	CHECK_EQ_INT(sh(out, sizeof out, "git --git-dir '%s/log.git' cat-file -s refs/plein/sites/" SITE_A ":sig", dir), 0);
	CHECK_STR(out, "64");
	CHECK_EQ_INT(sh(out, sizeof out, "git --git-dir '%s/log.git' ls-tree --name-only refs/plein/sites/" SITE_A " | tr '\\n' ' '", dir), 0);
	CHECK_STR(out, "header payload sig ");
	CHECK_EQ_INT(sh(out, sizeof out, "git --git-dir '%s/log.git' rev-list --count refs/plein/sites/" SITE_A, dir), 0);
	CHECK_STR(out, "4");
	CHECK_EQ_INT(sh(out, sizeof out, "git --git-dir '%s/log.git' fsck --strict --no-dangling 2>&1", dir), 0);
	plein_log_close(log);
	test_rmdir(dir);
}

/* The commit plein makes is the one git makes from the same parts with
 * hash-object, mktree and commit-tree: the format is plain git. */
TEST(git_cli_builds_the_same_commit)
{
	char dir[256], out[512], mine[41];
	CHECK(test_tmpdir(dir) == 0);
	struct tb t;
	tb_make(&t, SITE_B, 1, "x", 1);
	CHECK_OK(plein_log_commit_id(mine, &t.b, NULL));
	CHECK_EQ_INT(sh(out, sizeof out,
		"set -e; export GIT_DIR='%s/g.git'; git init -q --bare \"$GIT_DIR\";"
		"h=$(printf '%%s' '%s' | git hash-object -w --stdin);"
		"s=$(head -c 64 /dev/zero | tr '\\0' '\\001' | git hash-object -w --stdin);"
		"p=$(printf '%%s' '%s' | git hash-object -w --stdin);"
		"q=$(printf '%%s' '%s' | git hash-object -w --stdin);"
		"t=$(printf '100644 blob %%s\\theader\\n100644 blob %%s\\tpayload\\n100644 blob %%s\\tsig\\n' $h $p $s | git mktree);"
		"printf 'batch 1 from %s: 2 changes\\n\\nPlein-Site: %s\\nPlein-Seq: 1\\n' > '%s/msg';"
		"GIT_AUTHOR_NAME=%s GIT_AUTHOR_EMAIL=%s@plein.invalid GIT_AUTHOR_DATE='1700000001 +0000' "
		"GIT_COMMITTER_NAME=%s GIT_COMMITTER_EMAIL=%s@plein.invalid GIT_COMMITTER_DATE='1700000001 +0000' "
		"git commit-tree $t -F '%s/msg'",
		dir, t.header, t.payload, t.personal, SITE_B, SITE_B, dir, SITE_B, SITE_B, SITE_B, SITE_B, dir), 0);
	CHECK_STR(mine, out);
	test_rmdir(dir);
}

/* The test vector of docs/log-format.md. */
TEST(commit_id_test_vector)
{
	static const unsigned char sig[64] = { 0 };
	plein_log_batch b = {
		.site = SITE_A, .seq = 1, .time = 1718000000, .summary = "3 changes",
		.header = (const unsigned char *)"H", .header_len = 1, .sig = sig,
		.payload = (const unsigned char *)"P", .payload_len = 1,
	};
	char id[41];
	CHECK_OK(plein_log_commit_id(id, &b, NULL));
	CHECK_STR(id, "9fa17e5cff18be4fc02fa65b7d05a7be4fe741b8");
	b.seq = 2;
	char id2[41], id2p[41];
	CHECK_OK(plein_log_commit_id(id2, &b, id));
	CHECK_STR(id2, "4757a2567009a36078a3883155d5e77cf44b3b8a");
	/* A personal part does not change the commit: it lives beside it. */
	b.personal = (const unsigned char *)"N";
	b.personal_len = 1;
	CHECK_OK(plein_log_commit_id(id2p, &b, id));
	CHECK_STR(id2p, id2);
}

static int count_files(const char *dir, const char *suffix)
{
	DIR *d = opendir(dir);
	int n = 0;
	struct dirent *e;
	while (d && (e = readdir(d))) {
		size_t l = strlen(e->d_name), sl = strlen(suffix);
		if (e->d_name[0] != '.' && l >= sl && strcmp(e->d_name + l - sl, suffix) == 0)
			n++;
	}
	if (d)
		closedir(d);
	return n;
}

/* Loose object folders objects/00..ff. */
static int count_loose_dirs(const char *objects)
{
	DIR *d = opendir(objects);
	int n = 0;
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (strlen(e->d_name) == 2 && e->d_name[0] != '.')
			n++;
	if (d)
		closedir(d);
	return n;
}

static double now_ms(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return tv.tv_sec * 1000.0 + tv.tv_usec / 1000.0;
}

TEST(run_of_1000_batches_goes_into_one_pack)
{
	enum { N = 1000, NA = 600 };
	char dir[256], path[400], out[256];
	CHECK(test_tmpdir(dir) == 0);
	plein_log *log = test_log(dir, "log.git");
	CHECK(log != NULL);
	struct tb *t = plein_xcalloc(N + 1, sizeof *t);
	plein_log_batch *b = plein_xcalloc(N + 1, sizeof *b);
	/* two sites interleaved, each in seq order */
	for (int i = 0, a = 0, c = 0; i < N; i++) {
		if ((i % 5 < 3 && a < NA) || c == N - NA)
			tb_make(&t[i], SITE_A, (uint64_t)++a, "x", i % 7 == 0);
		else
			tb_make(&t[i], SITE_B, (uint64_t)++c, "x", 0);
		b[i] = t[i].b;
	}
	size_t added = 0;
	double t0 = now_ms();
	CHECK_OK(plein_log_append_run(&added, log, b, N));
	double ms = now_ms() - t0;
	printf("# %d batches in %.0f ms (%.0f batches/s)\n", N, ms, N * 1000.0 / (ms > 0 ? ms : 1));
	CHECK_EQ_INT(added, N);
	snprintf(path, sizeof path, "%s/log.git/objects/pack", dir);
	CHECK_EQ_INT(count_files(path, ".pack"), 1);
	CHECK_EQ_INT(count_files(path, ".idx"), 1);
	snprintf(path, sizeof path, "%s/log.git/objects", dir);
	CHECK_EQ_INT(count_loose_dirs(path), 0);
	plein_log_ref tip;
	CHECK_OK(plein_log_tip(&tip, log, SITE_A));
	CHECK_EQ_INT(tip.seq, NA);
	CHECK_OK(plein_log_tip(&tip, log, SITE_B));
	CHECK_EQ_INT(tip.seq, N - NA);
	plein_log_entry e;
	CHECK_OK(plein_log_read(&e, log, SITE_A, 300));
	CHECK(buf_is(&e.payload, "payload of batch 300 x", strlen("payload of batch 300 x")));
	plein_log_entry_free(&e);
	CHECK_EQ_INT(sh(out, sizeof out, "git --git-dir '%s/log.git' rev-list --count refs/plein/sites/" SITE_A, dir), 0);
	CHECK_STR(out, "600");
	CHECK_EQ_INT(sh(out, sizeof out, "git --git-dir '%s/log.git' fsck --strict --no-dangling 2>&1", dir), 0);

	/* the same run again adds nothing; an overlapping one adds the rest */
	CHECK_OK(plein_log_append_run(&added, log, b, N));
	CHECK_EQ_INT(added, 0);
	struct tb more[3];
	plein_log_batch mb[3];
	for (int i = 0; i < 3; i++) {
		tb_make(&more[i], SITE_A, (uint64_t)(NA - 1 + i), "x", 0);
		mb[i] = more[i].b;
	}
	mb[0] = t[0].b; /* A 1, stored */
	for (int i = 0; i < N; i++)
		if (!strcmp(b[i].site, SITE_A) && b[i].seq == NA)
			mb[1] = b[i]; /* A 600, stored */
	CHECK_OK(plein_log_append_run(&added, log, mb, 3)); /* A 601 new */
	CHECK_EQ_INT(added, 1);
	/* a gap or a fork refuses the whole run, changing nothing */
	struct tb g[2];
	tb_make(&g[0], SITE_B, N - NA + 1, "x", 0);
	tb_make(&g[1], SITE_A, NA + 3, "x", 0);
	plein_log_batch gb[2] = { g[0].b, g[1].b };
	CHECK_EQ_INT(plein_log_append_run(&added, log, gb, 2), PLEIN_LOG_EGAP);
	tb_make(&g[1], SITE_A, 5, "other", 0);
	gb[1] = g[1].b;
	CHECK_EQ_INT(plein_log_append_run(&added, log, gb, 2), PLEIN_LOG_EFORK);
	CHECK_OK(plein_log_tip(&tip, log, SITE_B));
	CHECK_EQ_INT(tip.seq, N - NA);
	CHECK_OK(plein_log_tip(&tip, log, SITE_A));
	CHECK_EQ_INT(tip.seq, NA + 1);
	free(t);
	free(b);
	plein_log_close(log);
	test_rmdir(dir);
}

TEST(same_batches_make_the_same_commits_everywhere)
{
	enum { N = 20 };
	char dir[256];
	CHECK(test_tmpdir(dir) == 0);
	plein_log *one = test_log(dir, "one.git"), *two = test_log(dir, "two.git");
	CHECK(one && two);
	/* one by one, loose ... */
	CHECK_OK(append_n(one, SITE_A, 1, N, "x"));
	/* ... and as one packed run, in another repository */
	struct tb t[N + 1];
	plein_log_batch b[N];
	for (int i = 0; i < N; i++) {
		tb_make(&t[i], SITE_A, (uint64_t)i + 1, "x", (i + 1) % 3 == 0);
		b[i] = t[i].b;
	}
	CHECK_OK(plein_log_append_run(NULL, two, b, N));
	for (uint64_t s = 1; s <= N; s++) {
		plein_log_entry e1, e2;
		CHECK_OK(plein_log_read(&e1, one, SITE_A, s));
		CHECK_OK(plein_log_read(&e2, two, SITE_A, s));
		CHECK_STR(e1.commit, e2.commit);
		plein_log_entry_free(&e1);
		plein_log_entry_free(&e2);
	}
	/* and commit_id predicts them without a repository */
	char id[41];
	plein_log_entry e;
	CHECK_OK(plein_log_read(&e, one, SITE_A, 1));
	CHECK_OK(plein_log_commit_id(id, &b[0], ""));
	CHECK_STR(id, e.commit);
	plein_log_entry_free(&e);
	CHECK_OK(plein_log_read(&e, one, SITE_A, 2));
	char parent[41];
	snprintf(parent, sizeof parent, "%s", e.parent);
	CHECK_OK(plein_log_commit_id(id, &b[1], parent));
	CHECK_STR(id, e.commit);
	plein_log_entry_free(&e);
	plein_log_close(one);
	plein_log_close(two);
	test_rmdir(dir);
}

TEST(held_batches_store_list_read_remove)
{
	char dir[256];
	CHECK(test_tmpdir(dir) == 0);
	plein_log *log = test_log(dir, "log.git");
	CHECK(log != NULL);
	struct tb t;
	tb_make(&t, SITE_B, 12, "x", 1);
	CHECK_OK(plein_log_hold(log, &t.b));
	CHECK_EQ_INT(plein_log_hold(log, &t.b), PLEIN_LOG_SAME);
	tb_make(&t, SITE_B, 12, "other", 0);
	CHECK_EQ_INT(plein_log_hold(log, &t.b), PLEIN_LOG_EFORK);
	tb_make(&t, SITE_B, 3, "x", 0);
	CHECK_OK(plein_log_hold(log, &t.b));
	tb_make(&t, SITE_A, 2, "x", 0);
	CHECK_OK(plein_log_hold(log, &t.b));
	plein_log_ref *v;
	size_t n;
	CHECK_OK(plein_log_held(&v, &n, log));
	CHECK_EQ_INT(n, 3);
	CHECK_STR(v[0].site, SITE_A);
	CHECK_EQ_INT(v[0].seq, 2);
	CHECK_STR(v[1].site, SITE_B);
	CHECK_EQ_INT(v[1].seq, 3); /* numeric order, not 12 < 3 */
	CHECK_EQ_INT(v[2].seq, 12);
	CHECK_STR(v[2].name, "refs/plein/held/" SITE_B "/12");
	plein_log_entry e;
	CHECK_OK(plein_log_read(&e, log, v[2].name, 0));
	CHECK_EQ_INT(e.seq, 12);
	CHECK_STR(e.site, SITE_B);
	CHECK_EQ_INT(e.has_personal, 1);
	CHECK_STR(e.parent, "");
	plein_log_entry_free(&e);
	/* a ref whose name does not match its batch is refused */
	CHECK_EQ_INT(sh(NULL, 0, "git --git-dir '%s/log.git' update-ref refs/plein/held/" SITE_B "/99 %s", dir, v[1].commit), 0);
	free(v);
	CHECK_EQ_INT(plein_log_read(&e, log, "refs/plein/held/" SITE_B "/99", 0), PLEIN_EREJECT);
	CHECK_OK(plein_log_unhold(log, SITE_B, 99));
	CHECK_OK(plein_log_unhold(log, SITE_B, 12));
	CHECK_EQ_INT(plein_log_unhold(log, SITE_B, 12), PLEIN_ENOTFOUND);
	CHECK_OK(plein_log_held(&v, &n, log));
	CHECK_EQ_INT(n, 2);
	free(v);
	/* held batches are not in the chain */
	plein_log_ref tip;
	CHECK_OK(plein_log_tip(&tip, log, SITE_B));
	CHECK_EQ_INT(tip.seq, 0);
	plein_log_close(log);
	test_rmdir(dir);
}

TEST(fork_proofs_are_kept_beside_the_chain)
{
	char dir[256];
	CHECK(test_tmpdir(dir) == 0);
	plein_log *log = test_log(dir, "log.git");
	CHECK(log != NULL);
	CHECK_OK(append_n(log, SITE_A, 1, 3, "x"));
	struct tb t;
	tb_make(&t, SITE_A, 2, "evil", 0);
	CHECK_EQ_INT(plein_log_append(log, &t.b), PLEIN_LOG_EFORK);
	unsigned n = 0;
	CHECK_OK(plein_log_fork_keep(&n, log, &t.b));
	CHECK_EQ_INT(n, 1);
	n = 0;
	CHECK_EQ_INT(plein_log_fork_keep(&n, log, &t.b), PLEIN_LOG_SAME);
	CHECK_EQ_INT(n, 1);
	tb_make(&t, SITE_A, 2, "evil2", 0);
	CHECK_OK(plein_log_fork_keep(&n, log, &t.b));
	CHECK_EQ_INT(n, 2);
	plein_log_ref *v;
	size_t cnt;
	CHECK_OK(plein_log_forks(&v, &cnt, log));
	CHECK_EQ_INT(cnt, 2);
	CHECK_STR(v[0].name, "refs/plein/forks/" SITE_A "/2-1");
	CHECK_EQ_INT(v[1].n, 2);
	/* the proof: two different headers for seq 2 */
	plein_log_entry ours, theirs;
	CHECK_OK(plein_log_read(&ours, log, SITE_A, 2));
	CHECK_OK(plein_log_read(&theirs, log, v[0].name, 0));
	CHECK_EQ_INT(theirs.seq, 2);
	CHECK(strstr(plein_buf_cstr(&theirs.header), "evil") != NULL);
	CHECK(strstr(plein_buf_cstr(&ours.header), "evil") == NULL);
	plein_log_entry_free(&ours);
	plein_log_entry_free(&theirs);
	free(v);
	CHECK_OK(plein_log_fork_drop(log, SITE_A, 2, 1));
	CHECK_EQ_INT(plein_log_fork_drop(log, SITE_A, 2, 1), PLEIN_ENOTFOUND);
	CHECK_OK(plein_log_forks(&v, &cnt, log));
	CHECK_EQ_INT(cnt, 1);
	free(v);
	/* the chain itself is untouched */
	plein_log_ref tip;
	CHECK_OK(plein_log_tip(&tip, log, SITE_A));
	CHECK_EQ_INT(tip.seq, 3);
	plein_log_close(log);
	test_rmdir(dir);
}

/* A chain fetched (here with the git CLI) into refs/plein/incoming/ is
 * adopted as it is, when it extends ours and is in canonical form. */
TEST(adopt_takes_a_fetched_chain_forward)
{
	char dir[256], out[512];
	CHECK(test_tmpdir(dir) == 0);
	plein_log *src = test_log(dir, "src.git"), *dst = test_log(dir, "dst.git");
	CHECK(src && dst);
	CHECK_OK(append_n(src, SITE_A, 1, 6, "x"));
	CHECK_OK(append_n(dst, SITE_A, 1, 2, "x"));
	CHECK_EQ_INT(sh(out, sizeof out, "git --git-dir '%s/dst.git' fetch -q '%s/src.git' "
		"'+refs/plein/sites/*:refs/plein/incoming/stick/*' 2>&1", dir, dir), 0);
	plein_log_ref *v;
	size_t n;
	CHECK_OK(plein_log_incoming(&v, &n, dst, "stick"));
	CHECK_EQ_INT(n, 1);
	CHECK_STR(v[0].key, "stick");
	CHECK_STR(v[0].site, SITE_A);
	CHECK_EQ_INT(v[0].seq, 6);
	free(v);
	CHECK_OK(plein_log_incoming(&v, &n, dst, "other"));
	CHECK_EQ_INT(n, 0);
	free(v);
	const char *in = "refs/plein/incoming/stick/" SITE_A;
	CHECK_OK(plein_log_adopt(dst, SITE_A, in, 4));
	plein_log_ref tip, stip;
	CHECK_OK(plein_log_tip(&tip, dst, SITE_A));
	CHECK_EQ_INT(tip.seq, 4);
	CHECK_EQ_INT(plein_log_adopt(dst, SITE_A, in, 3), PLEIN_LOG_SAME);
	CHECK_OK(plein_log_adopt(dst, SITE_A, in, 0));
	CHECK_OK(plein_log_tip(&tip, dst, SITE_A));
	CHECK_OK(plein_log_tip(&stip, src, SITE_A));
	CHECK_STR(tip.commit, stip.commit);
	CHECK_EQ_INT(plein_log_adopt(dst, SITE_A, in, 7), PLEIN_ENOTFOUND);
	/* a chain signed by another site is not adopted as A's */
	CHECK_EQ_INT(plein_log_adopt(dst, SITE_B, in, 0), PLEIN_EREJECT);
	CHECK_OK(plein_log_incoming_drop(dst, "stick", NULL));
	CHECK_OK(plein_log_incoming(&v, &n, dst, NULL));
	CHECK_EQ_INT(n, 0);
	free(v);
	plein_log_close(src);
	plein_log_close(dst);
	test_rmdir(dir);
}

TEST(adopt_refuses_forks_and_foreign_commits)
{
	char dir[256], out[512];
	CHECK(test_tmpdir(dir) == 0);
	plein_log *src = test_log(dir, "src.git"), *dst = test_log(dir, "dst.git");
	CHECK(src && dst);
	CHECK_OK(append_n(src, SITE_A, 1, 4, "x"));
	CHECK_OK(append_n(dst, SITE_A, 1, 1, "x"));
	CHECK_OK(append_n(dst, SITE_A, 2, 2, "forked"));
	CHECK_EQ_INT(sh(out, sizeof out, "git --git-dir '%s/dst.git' fetch -q '%s/src.git' "
		"'+refs/plein/sites/*:refs/plein/incoming/k/*' 2>&1", dir, dir), 0);
	const char *in = "refs/plein/incoming/k/" SITE_A;
	CHECK_EQ_INT(plein_log_adopt(dst, SITE_A, in, 0), PLEIN_LOG_EFORK);
	CHECK_EQ_INT(plein_log_adopt(dst, SITE_A, in, 1), PLEIN_LOG_SAME);
	/* a commit made by hand on top of the incoming chain: right trailers,
	 * wrong author; not what plein writes, so refused */
	CHECK_EQ_INT(sh(out, sizeof out,
		"export GIT_DIR='%s/src.git'; c=$(printf 'batch 5 from %s\\n\\nPlein-Site: %s\\nPlein-Seq: 5\\n' | "
		"GIT_AUTHOR_NAME=Mallory GIT_AUTHOR_EMAIL=m@example.org GIT_COMMITTER_NAME=Mallory "
		"GIT_COMMITTER_EMAIL=m@example.org git commit-tree refs/plein/sites/%s^{tree} -p refs/plein/sites/%s) && "
		"git update-ref refs/plein/sites/%s $c && git --git-dir '%s/dst.git' fetch -q \"$GIT_DIR\" "
		"'+refs/plein/sites/*:refs/plein/incoming/k/*' 2>&1",
		dir, SITE_A, SITE_A, SITE_A, SITE_A, SITE_A, dir), 0);
	plein_log *fresh = test_log(dir, "fresh.git");
	CHECK(fresh != NULL);
	CHECK_EQ_INT(sh(out, sizeof out, "git --git-dir '%s/fresh.git' fetch -q '%s/src.git' "
		"'+refs/plein/sites/*:refs/plein/incoming/k/*' 2>&1", dir, dir), 0);
	CHECK_OK(plein_log_adopt(fresh, SITE_A, in, 4));
	CHECK_EQ_INT(plein_log_adopt(fresh, SITE_A, in, 5), PLEIN_EREJECT);
	CHECK(strstr(plein_error(), "canonical") != NULL);
	plein_log_ref tip;
	CHECK_OK(plein_log_tip(&tip, fresh, SITE_A));
	CHECK_EQ_INT(tip.seq, 4);
	/* reading it directly is refused too */
	plein_log_entry e;
	CHECK_EQ_INT(plein_log_read(&e, fresh, in, 5), PLEIN_EREJECT);
	plein_log_close(fresh);
	plein_log_close(src);
	plein_log_close(dst);
	test_rmdir(dir);
}

TEST(open_refuses_what_is_not_a_log)
{
	char dir[256], path[300];
	CHECK(test_tmpdir(dir) == 0);
	plein_log *log = NULL;
	snprintf(path, sizeof path, "%s/missing.git", dir);
	CHECK_EQ_INT(plein_log_open(&log, path, 0), PLEIN_ENOTFOUND);
	CHECK(log == NULL);
	CHECK_EQ_INT(plein_log_check_key("peer-1.nl"), 0);
	CHECK_EQ_INT(plein_log_check_key("a/b"), PLEIN_EINVAL);
	CHECK_EQ_INT(plein_log_check_key(".hidden"), PLEIN_EINVAL);
	CHECK_EQ_INT(plein_log_check_key("x.lock"), PLEIN_EINVAL);
	CHECK_EQ_INT(plein_log_check_key(""), PLEIN_EINVAL);
	test_rmdir(dir);
}

/* A writer killed while holding a ref lock leaves refname.lock behind; a
 * fresh lock means "busy", an old one is cleared. */
TEST(stale_ref_lock_from_a_crash_is_cleared)
{
	char dir[256], lock[400];
	CHECK(test_tmpdir(dir) == 0);
	plein_log *log = test_log(dir, "log.git");
	CHECK(log != NULL);
	CHECK_OK(append_n(log, SITE_A, 1, 1, "x"));
	snprintf(lock, sizeof lock, "%s/log.git/refs/plein/sites/" SITE_A ".lock", dir);
	FILE *f = fopen(lock, "w");
	CHECK(f != NULL);
	fputs("0000000000000000000000000000000000000000\n", f);
	fclose(f);
	struct tb t;
	tb_make(&t, SITE_A, 2, "x", 0);
	CHECK_EQ_INT(plein_log_append(log, &t.b), PLEIN_EBUSY);
	plein_log_batch run[PLEIN_LOG_PACK_MIN];
	struct tb rt[PLEIN_LOG_PACK_MIN];
	for (int i = 0; i < PLEIN_LOG_PACK_MIN; i++) {
		tb_make(&rt[i], SITE_A, (uint64_t)i + 2, "x", 0);
		run[i] = rt[i].b;
	}
	CHECK_EQ_INT(plein_log_append_run(NULL, log, run, PLEIN_LOG_PACK_MIN), PLEIN_EBUSY);
	plein_log_ref tip;
	CHECK_OK(plein_log_tip(&tip, log, SITE_A));
	CHECK_EQ_INT(tip.seq, 1);
	/* a minute old: its writer is gone */
	struct timeval old[2] = { { time(NULL) - 60, 0 }, { time(NULL) - 60, 0 } };
	CHECK(utimes(lock, old) == 0);
	CHECK_OK(plein_log_append(log, &t.b));
	CHECK(access(lock, F_OK) != 0);
	/* the same for the lock a run takes */
	f = fopen(lock, "w");
	CHECK(f != NULL);
	fclose(f);
	CHECK(utimes(lock, old) == 0);
	size_t added = 0;
	CHECK_OK(plein_log_append_run(&added, log, run, PLEIN_LOG_PACK_MIN));
	CHECK_EQ_INT(added, PLEIN_LOG_PACK_MIN - 1);
	CHECK_OK(plein_log_tip(&tip, log, SITE_A));
	CHECK_EQ_INT(tip.seq, PLEIN_LOG_PACK_MIN + 1);
	plein_log_close(log);
	test_rmdir(dir);
}

/* docs/log-format.md, "Personal parts": the ref names a parentless
 * commit holding the part as one blob; the same bytes make the same
 * commit at every site, and git builds it the same way. */
TEST(personal_part_test_vector)
{
	char dir[256], out[512], blob[41];
	CHECK(test_tmpdir(dir) == 0);
	plein_log *log = test_log(dir, "log.git");
	CHECK(log != NULL);
	CHECK_OK(plein_log_personal_set(blob, log, SITE_A, 2, "8ac2eb508956928faf94cbca788daa7b2aeb7735",
					(const unsigned char *)"N", 1, NULL));
	CHECK_STR(blob, "2f94675b7cc5772325e379fc48538156958bab62");
	CHECK_EQ_INT(sh(out, sizeof out, "git --git-dir '%s/log.git' rev-parse refs/plein/personal/" SITE_A
			"/2/8ac2eb508956928faf94cbca788daa7b2aeb7735", dir), 0);
	CHECK_STR(out, "59c5616a0da2ee5b11e0504c93480b9a56ff91a3");
	/* never replaced without naming the part it replaces */
	CHECK_EQ_INT(plein_log_personal_set(NULL, log, SITE_A, 2, "8ac2eb508956928faf94cbca788daa7b2aeb7735",
					    (const unsigned char *)"M", 1, NULL), PLEIN_EBUSY);
	CHECK_EQ_INT(plein_log_personal_set(NULL, log, SITE_A, 2, "8ac2eb508956928faf94cbca788daa7b2aeb7735",
					    (const unsigned char *)"", 0, "675f43ab433f9bacd8574d633afe18364af6a107"), PLEIN_EBUSY);
	CHECK_EQ_INT(sh(out, sizeof out,
		"set -e; export GIT_DIR='%s/g.git'; git init -q --bare \"$GIT_DIR\";"
		"n=$(printf N | git hash-object -w --stdin);"
		"t=$(printf '100644 blob %%s\\tpersonal\\n' $n | git mktree);"
		"printf 'personal part of batch 2 from %s\\n\\nPlein-Site: %s\\nPlein-Seq: 2\\nPlein-Header: "
		"8ac2eb508956928faf94cbca788daa7b2aeb7735\\n' > '%s/msg';"
		"GIT_AUTHOR_NAME=%s GIT_AUTHOR_EMAIL=%s@plein.invalid GIT_AUTHOR_DATE='@0 +0000' "
		"GIT_COMMITTER_NAME=%s GIT_COMMITTER_EMAIL=%s@plein.invalid GIT_COMMITTER_DATE='@0 +0000' "
		"git commit-tree $t -F '%s/msg'",
		dir, SITE_A, SITE_A, dir, SITE_A, SITE_A, SITE_A, SITE_A, dir), 0);
	CHECK_STR(out, "59c5616a0da2ee5b11e0504c93480b9a56ff91a3");
	plein_log_close(log);
	test_rmdir(dir);
}

/* Purging a personal part changes no commit, and pruning makes its bytes
 * gone from loose objects and from packs alike; git still finds the
 * repository sound. */
static void purge_and_prune(int packed)
{
	char dir[256], out[512], tip_before[41], blob[41];
	CHECK(test_tmpdir(dir) == 0);
	plein_log *log = test_log(dir, "log.git");
	CHECK(log != NULL);
	enum { N = 10 };
	struct tb t[N];
	plein_log_batch run[N];
	for (int i = 0; i < N; i++) {
		tb_make(&t[i], SITE_A, (uint64_t)i + 1, "x", 1);
		run[i] = t[i].b;
		if (!packed)
			CHECK_OK(plein_log_append(log, &t[i].b));
	}
	if (packed)
		CHECK_OK(plein_log_append_run(NULL, log, run, N));
	CHECK_EQ_INT(sh(out, sizeof out, "git --git-dir '%s/log.git' count-objects -v | grep -c '^count: 0'", dir), packed ? 0 : 1);
	CHECK_EQ_INT(sh(out, sizeof out, "git --git-dir '%s/log.git' cat-file --batch-all-objects --batch | grep -ac 'personal 3$'", dir), 0);
	plein_log_ref tip;
	CHECK_OK(plein_log_tip(&tip, log, SITE_A));
	memcpy(tip_before, tip.commit, sizeof tip_before);
	plein_log_entry e;
	CHECK_OK(plein_log_read(&e, log, SITE_A, 3));
	CHECK(e.has_personal && buf_is(&e.personal, "personal 3", 10));
	char old[41];
	memcpy(old, e.personal_id, sizeof old);
	CHECK_OK(plein_log_personal_set(blob, log, SITE_A, 3, e.header_id, NULL, 0, old));
	plein_log_entry_free(&e);
	size_t removed = 0;
	const char gone[1][41] = { "" };
	memcpy((char *)gone[0], old, sizeof old);
	CHECK_OK(plein_log_prune(&removed, log, gone, 1));
	CHECK_EQ_INT(removed, 1);
	CHECK_EQ_INT(sh(out, sizeof out, "git --git-dir '%s/log.git' cat-file --batch-all-objects --batch | grep -ac 'personal 3$'", dir), 1);
	CHECK_EQ_INT(sh(out, sizeof out, "git --git-dir '%s/log.git' fsck --strict --no-dangling 2>&1", dir), 0);
	/* the chain is the same; batch 3 reads as purged, the others intact */
	CHECK_OK(plein_log_tip(&tip, log, SITE_A));
	CHECK_STR(tip.commit, tip_before);
	CHECK_OK(plein_log_read(&e, log, SITE_A, 3));
	CHECK(e.has_personal && e.personal.len == 0);
	plein_log_entry_free(&e);
	CHECK_OK(plein_log_read(&e, log, SITE_A, 5));
	CHECK(e.has_personal && buf_is(&e.personal, "personal 5", 10));
	plein_log_entry_free(&e);
	plein_log_close(log);
	/* and a fresh process reads it too */
	log = test_log(dir, "log.git");
	CHECK_OK(plein_log_read(&e, log, SITE_A, 4));
	CHECK(buf_is(&e.personal, "personal 4", 10));
	plein_log_entry_free(&e);
	plein_log_close(log);
	test_rmdir(dir);
}

TEST(purged_loose_part_is_gone)
{
	purge_and_prune(0);
}

TEST(purged_packed_part_is_gone)
{
	purge_and_prune(1);
}
