/* bench/erase.c: what carrying out one new erasure costs as the log grows
 * (docs/erasure.md). plein_erase_apply reads and decodes every batch that
 * has a personal part when an erasure is new, whichever rows it touches;
 * this measures that cost against the number of such batches, to decide
 * whether an index from row to batches is worth its upkeep.
 *
 * For each size N: a site seals N referrals, one batch each (each with a
 * personal part: the contact); then one referral is forgotten and the
 * erasure sealed; the figure is the time of plein_erase_apply, the median
 * of RUNS erasures. libgit2's fsync is off: it would time the disk. */
#include <git2.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plein/db.h"
#include "plein/erase.h"
#include "plein/error.h"
#include "plein/journal.h"
#include "plein/site.h"

#define RUNS 5

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench/erase: %s: %s\n", what, plein_error());
	exit(2);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double one_size(int n)
{
	char dir[256], sql[300];
	snprintf(dir, sizeof dir, "%s/plein-bench-erase.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		die("mkdtemp");
	plein_site *s = NULL;
	char pk[65];
	uint64_t seq;
	if (plein_site_create(&s, dir, "bench") < 0)
		die("creating a site");
	sodium_bin2hex(pk, sizeof pk, s->pk, 32);
	if (plein_site_local_set(s, "network_name", "Benchnetwerk") < 0 ||
	    plein_site_local_set(s, "network_id", "00112233445566778899aabbccddeeff") < 0 ||
	    plein_site_local_set(s, "admin_pk", pk) < 0 || !plein_site_log(s))
		die("joining the bench network");
	git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 0);
	for (int i = 0; i < n; i++) {
		snprintf(sql, sizeof sql, "INSERT INTO referral(id, status, contact) VALUES ('R%06d', 'new', "
			 "randomblob(120))", i);
		if (plein_db_exec(s->db, sql) < 0 || plein_journal_seal(s, &seq) < 0)
			die("sealing a referral");
	}
	double t[RUNS];
	for (int r = 0; r < RUNS; r++) {
		char id[16];
		size_t purged = 0;
		snprintf(id, sizeof id, "R%06d", (r * 7919) % n);
		if (plein_erase_row(s, "referral", id, "request") < 0 || plein_journal_seal(s, &seq) < 0)
			die("recording an erasure");
		double t0 = now();
		if (plein_erase_apply(s, &purged) < 0)
			die("carrying out the erasure");
		t[r] = now() - t0;
		if (purged != 1)
			die("the erasure purged not exactly one value");
	}
	plein_site_close(s);
	snprintf(sql, sizeof sql, "rm -rf '%s'", dir);
	if (system(sql) != 0)
		fprintf(stderr, "bench/erase: could not remove %s\n", dir);
	qsort(t, RUNS, sizeof *t, cmp_double);
	return t[RUNS / 2];
}

int main(int argc, char **argv)
{
	static const int sizes[] = { 100, 400, 1600 };
	int max = argc > 1 ? atoi(argv[1]) : 1600;
	printf("personal batches  erase_apply (median of %d)  per batch\n", RUNS);
	for (size_t i = 0; i < sizeof sizes / sizeof *sizes && sizes[i] <= max; i++) {
		double t = one_size(sizes[i]);
		printf("%16d  %22.1f ms  %6.1f us\n", sizes[i], t * 1e3, t * 1e6 / sizes[i]);
		fflush(stdout);
	}
	return 0;
}
