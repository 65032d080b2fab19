/* Convergence (design §9.1) at the merge level: sites make random edits to
 * shared rows, seal them, and receive each other's change sets in random
 * orders, with duplicates; all end with one digest, which a replica built
 * from the change sets alone also reaches. Set SEEDS=n for more seeds and
 * SEED=s to replay one. */
#include <sodium.h>

#include "harness.h"
#include "plein/buf.h"
#include "plein/digest.h"
#include "plein/local.h"
#include "plein/merge.h"
#include "util.h"

#define NSITES 5

typedef struct {
	int signer;
	plein_changeset cs;
} sealed;

static uint64_t rng;
static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

/* Seal: collect the captured writes and fold them back in. */
static int seal(plein_site *s, plein_changeset *out)
{
	plein_merge *m = NULL;
	int64_t hmax = 0;
	int rc = plein_db_begin(s->db);
	if (rc == 0)
		rc = plein_merge_begin(&m, s);
	if (rc == 0)
		rc = plein_local_changes(out, &hmax, m, s);
	if (rc == 0)
		rc = plein_merge_apply(m, s->pk, out->v, out->n);
	int rc2 = m ? plein_merge_end(m) : 0;
	if (rc == 0)
		rc = rc2;
	if (rc == 0)
		rc = plein_local_consumed(s, hmax);
	if (rc == 0)
		return plein_db_commit(s->db);
	plein_db_rollback(s->db);
	return rc;
}

static int deliver(plein_site *s, const unsigned char pk[32], const plein_changeset *cs)
{
	plein_merge *m = NULL;
	int rc = plein_db_begin(s->db);
	if (rc == 0)
		rc = plein_merge_begin(&m, s);
	if (rc == 0)
		rc = plein_merge_apply(m, pk, cs->v, cs->n);
	int rc2 = m ? plein_merge_end(m) : 0;
	if (rc == 0)
		rc = rc2;
	if (rc == 0)
		return plein_db_commit(s->db);
	plein_db_rollback(s->db);
	return rc;
}

static const char *statuses[] = { "new", "contacted", "appointment", "done", "declined", "unreachable" };

static int random_op(plein_site *s)
{
	char sql[300];
	int row = (int)rnd(6);
	switch (rnd(9)) {
	case 0: /* insert (maybe the same id as another site: concurrent insert) */
		snprintf(sql, sizeof sql, "INSERT OR IGNORE INTO daylog(id, day, text) VALUES ('d%d', '2026-11-24', 'nieuw %u')", row, rnd(1000));
		break;
	case 1:
		snprintf(sql, sizeof sql, "UPDATE daylog SET text = 'tekst %u' WHERE id = 'd%d'", rnd(1000), row);
		break;
	case 2:
		snprintf(sql, sizeof sql, "UPDATE daylog SET author = 'auteur %u', day = '2026-11-2%u' WHERE id = 'd%d'", rnd(100), rnd(9), row);
		break;
	case 3:
		snprintf(sql, sizeof sql, "DELETE FROM daylog WHERE id = 'd%d'", row);
		break;
	case 4: /* delete and re-insert before sealing */
		snprintf(sql, sizeof sql, "DELETE FROM daylog WHERE id = 'd%d'; INSERT INTO daylog(id, text) VALUES ('d%d', 'terug %u')", row, row, rnd(100));
		break;
	case 5:
		snprintf(sql, sizeof sql, "INSERT OR IGNORE INTO referral(id, status, attempts, theme) VALUES ('r%d', 'new', 0, 'werk')", row);
		break;
	case 6: /* status race: any status, also backwards */
		snprintf(sql, sizeof sql, "UPDATE referral SET status = '%s' WHERE id = 'r%d'", statuses[rnd(6)], row);
		break;
	case 7: /* contact attempts add up */
		snprintf(sql, sizeof sql, "UPDATE referral SET attempts = coalesce(attempts, 0) + 1 WHERE id = 'r%d'", row);
		break;
	default:
		snprintf(sql, sizeof sql, "UPDATE referral SET outcome = 'uitkomst %u' WHERE id = 'r%d'; DELETE FROM referral WHERE id = 'r%d' AND %u = 0",
			 rnd(50), row, (row + 1) % 6, rnd(4));
	}
	return plein_db_exec(s->db, sql);
}

static int run_seed(uint64_t seed, char *why, size_t whylen)
{
	char dirs[NSITES + 1][256];
	plein_site *site[NSITES + 1] = {0};
	sealed *all = NULL;
	size_t nall = 0;
	int ok = 0;
	rng = seed * 2654435761u + 1;
	for (int i = 0; i <= NSITES; i++)
		if (!(site[i] = test_site(dirs[i]))) {
			snprintf(why, whylen, "site: %s", plein_error());
			goto out;
		}
	for (int round = 0; round < 6; round++) {
		for (int i = 0; i < NSITES; i++) {
			int ops = 1 + (int)rnd(6);
			for (int k = 0; k < ops; k++)
				if (random_op(site[i]) < 0) {
					snprintf(why, whylen, "op: %s", plein_error());
					goto out;
				}
			all = plein_xrealloc(all, sizeof *all * (nall + 1));
			all[nall].signer = i;
			memset(&all[nall].cs, 0, sizeof all[nall].cs);
			if (seal(site[i], &all[nall].cs) < 0) {
				snprintf(why, whylen, "seal: %s", plein_error());
				goto out;
			}
			nall++;
		}
		/* Some random deliveries, repeats allowed. */
		for (int d = 0; d < NSITES * 3; d++) {
			int to = (int)rnd(NSITES);
			size_t k = rnd((uint32_t)nall);
			if (deliver(site[to], site[all[k].signer]->pk, &all[k].cs) < 0) {
				snprintf(why, whylen, "deliver: %s", plein_error());
				goto out;
			}
		}
	}
	/* Everyone gets everything, in a random order; the last site is a
	 * fresh replica built from the change sets alone. */
	for (int to = 0; to <= NSITES; to++) {
		size_t *order = plein_xmalloc(sizeof *order * nall);
		for (size_t k = 0; k < nall; k++)
			order[k] = k;
		for (size_t k = nall; k > 1; k--) {
			size_t j = rnd((uint32_t)k), tmp = order[k - 1];
			order[k - 1] = order[j];
			order[j] = tmp;
		}
		for (size_t k = 0; k < nall; k++)
			if (deliver(site[to], site[all[order[k]].signer]->pk, &all[order[k]].cs) < 0) {
				snprintf(why, whylen, "final deliver: %s", plein_error());
				free(order);
				goto out;
			}
		free(order);
	}
	char first[65], d[65];
	plein_digest_hex(site[0]->db, first);
	for (int i = 1; i <= NSITES; i++) {
		plein_digest_hex(site[i]->db, d);
		if (strcmp(first, d) != 0) {
			snprintf(why, whylen, "seed %llu: site %d digest %.12s differs from site 0 %.12s%s",
				 (unsigned long long)seed, i, d, first, i == NSITES ? " (the rebuild)" : "");
			goto out;
		}
	}
	ok = 1;
out:
	for (size_t k = 0; k < nall; k++)
		plein_changeset_free(&all[k].cs);
	free(all);
	for (int i = 0; i <= NSITES; i++) {
		plein_site_close(site[i]);
		test_rmdir(dirs[i]);
	}
	return ok;
}

TEST(five_sites_converge_whatever_the_order)
{
	const char *one = getenv("SEED");
	int seeds = getenv("SEEDS") ? atoi(getenv("SEEDS")) : 6;
	char why[512] = "";
	if (one) {
		if (!run_seed(strtoull(one, NULL, 10), why, sizeof why))
			FAIL_AT("%s (replay: SEED=%s)", why, one);
		return;
	}
	for (int s = 1; s <= seeds; s++)
		if (!run_seed((uint64_t)s, why, sizeof why))
			FAIL_AT("%s (replay: SEED=%d)", why, s);
}

/* Two sites, one row: exact outcomes of the rules. */
TEST(status_never_goes_back_and_attempts_add_up)
{
	char d1[256], d2[256], d3[256];
	plein_site *a = test_site(d1), *b = test_site(d2), *c = test_site(d3);
	CHECK(a && b && c);
	plein_changeset ca = PLEIN_CHANGESET_INIT, cb = PLEIN_CHANGESET_INIT, cc = PLEIN_CHANGESET_INIT;
	CHECK_OK(plein_db_exec(a->db, "INSERT INTO referral(id, status, attempts) VALUES ('r', 'new', 0)"));
	CHECK_OK(seal(a, &ca));
	CHECK_OK(deliver(b, a->pk, &ca));
	CHECK_OK(deliver(c, a->pk, &ca));
	plein_changeset_free(&ca);
	/* b: contacted (older), a: done (newer), c: contacted (newest clock) */
	CHECK_OK(plein_db_exec(b->db, "UPDATE referral SET status = 'contacted', attempts = attempts + 1 WHERE id = 'r'"));
	CHECK_OK(seal(b, &cb));
	CHECK_OK(plein_db_exec(a->db, "UPDATE referral SET status = 'done', attempts = attempts + 2 WHERE id = 'r'"));
	CHECK_OK(seal(a, &ca));
	CHECK_OK(plein_db_exec(c->db, "UPDATE referral SET status = 'contacted', attempts = attempts + 4 WHERE id = 'r'"));
	CHECK_OK(seal(c, &cc));
	CHECK_OK(deliver(a, b->pk, &cb));
	CHECK_OK(deliver(a, c->pk, &cc));
	CHECK_OK(deliver(b, c->pk, &cc));
	CHECK_OK(deliver(b, a->pk, &ca));
	CHECK_OK(deliver(c, a->pk, &ca));
	CHECK_OK(deliver(c, b->pk, &cb));
	plein_site *all[] = { a, b, c };
	for (int i = 0; i < 3; i++) {
		int64_t attempts = 0;
		CHECK_OK(plein_db_int(all[i]->db, &attempts, "SELECT attempts FROM referral WHERE id = 'r'", NULL));
		CHECK_EQ_INT(attempts, 7);
		int64_t done = 0;
		CHECK_OK(plein_db_int(all[i]->db, &done, "SELECT status = 'done' FROM referral WHERE id = 'r'", NULL));
		CHECK_EQ_INT(done, 1);
	}
	/* A local edit backwards is overruled at sealing, as everywhere. */
	plein_changeset cx = PLEIN_CHANGESET_INIT;
	CHECK_OK(plein_db_exec(b->db, "UPDATE referral SET status = 'new' WHERE id = 'r'"));
	CHECK_OK(seal(b, &cx));
	int64_t done = 0;
	CHECK_OK(plein_db_int(b->db, &done, "SELECT status = 'done' FROM referral WHERE id = 'r'", NULL));
	CHECK_EQ_INT(done, 1);
	plein_changeset_free(&ca);
	plein_changeset_free(&cb);
	plein_changeset_free(&cc);
	plein_changeset_free(&cx);
	for (int i = 0; i < 3; i++)
		plein_site_close(all[i]);
	test_rmdir(d1);
	test_rmdir(d2);
	test_rmdir(d3);
}

TEST(delete_beats_concurrent_update_and_reinsert_brings_back)
{
	char d1[256], d2[256];
	plein_site *a = test_site(d1), *b = test_site(d2);
	CHECK(a && b);
	plein_changeset c1 = PLEIN_CHANGESET_INIT, c2 = PLEIN_CHANGESET_INIT, c3 = PLEIN_CHANGESET_INIT, c4 = PLEIN_CHANGESET_INIT;
	CHECK_OK(plein_db_exec(a->db, "INSERT INTO daylog(id, text) VALUES ('x', 'een')"));
	CHECK_OK(seal(a, &c1));
	CHECK_OK(deliver(b, a->pk, &c1));
	CHECK_OK(plein_db_exec(a->db, "DELETE FROM daylog WHERE id = 'x'"));
	CHECK_OK(seal(a, &c2));
	CHECK_OK(plein_db_exec(b->db, "UPDATE daylog SET text = 'later edit' WHERE id = 'x'"));
	CHECK_OK(seal(b, &c3));
	CHECK_OK(deliver(a, b->pk, &c3));
	CHECK_OK(deliver(b, a->pk, &c2));
	int64_t n = -1;
	CHECK_OK(plein_db_int(a->db, &n, "SELECT count(*) FROM daylog WHERE id = 'x'", NULL));
	CHECK_EQ_INT(n, 0);
	CHECK_OK(plein_db_int(b->db, &n, "SELECT count(*) FROM daylog WHERE id = 'x'", NULL));
	CHECK_EQ_INT(n, 0);
	CHECK_OK(plein_db_exec(b->db, "INSERT INTO daylog(id, text) VALUES ('x', 'weer terug')"));
	CHECK_OK(seal(b, &c4));
	CHECK_OK(deliver(a, b->pk, &c4));
	CHECK_OK(plein_db_int(a->db, &n, "SELECT count(*) FROM daylog WHERE id = 'x' AND text = 'weer terug' AND author IS NULL", NULL));
	CHECK_EQ_INT(n, 1);
	plein_changeset_free(&c1);
	plein_changeset_free(&c2);
	plein_changeset_free(&c3);
	plein_changeset_free(&c4);
	plein_site_close(a);
	plein_site_close(b);
	test_rmdir(d1);
	test_rmdir(d2);
}
