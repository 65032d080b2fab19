/* Fair sign-ups (docs/signup.md): the view signup_place derives who has a
 * place and who waits from the merged state alone. Sign-ups are made here
 * as changes of known clocks signed by several sites, and delivered to
 * fresh replicas in many orders, with duplicates: every replica shows the
 * same queue, ordered by (HLC, site key, id), and a cancellation moves the
 * same person up. Set SEED=s to replay one order. */
#include <sodium.h>

#include "harness.h"
#include "plein/buf.h"
#include "plein/merge.h"
#include "util.h"

enum { TID_SIGNUP = 7, C_RULE = 0, C_DATE = 1, C_STATUS = 2, C_CREATED = 4 };

static plein_value vtext(const char *s)
{
	plein_value v = { PLEIN_V_TEXT, 0, 0, (const unsigned char *)s, strlen(s) };
	return v;
}

/* One change set per signer; the signer's key is 32 bytes of 'k'. */
typedef struct {
	unsigned char pk[32];
	plein_changeset cs;
} signer;

static void signer_init(signer *g, unsigned char k)
{
	memset(g->pk, k, sizeof g->pk);
	memset(&g->cs, 0, sizeof g->cs);
}

static void put(signer *g, const char *id, int64_t cl, int cid, int64_t hlc, const char *text)
{
	plein_change c = { .tid = TID_SIGNUP, .id = id, .id_len = strlen(id), .cl = cl, .cid = cid, .hlc = hlc };
	if (text)
		c.value = vtext(text);
	plein_changeset_add(&g->cs, &c);
}

/* A new sign-up for rule R1 on 2026-12-08, made with clock hlc. */
static void book(signer *g, const char *id, int64_t hlc, const char *status)
{
	put(g, id, 1, PLEIN_CID_ROW, hlc, NULL);
	put(g, id, 1, C_RULE, hlc, "R1");
	put(g, id, 1, C_DATE, hlc, "2026-12-08");
	put(g, id, 1, C_STATUS, hlc, status);
	put(g, id, 1, C_CREATED, hlc, "2026-11-24T10:00:00Z");
}

static int deliver(plein_site *s, const unsigned char pk[32], const plein_change *ch, size_t n)
{
	plein_merge *m = NULL;
	int rc = plein_db_begin(s->db);
	if (rc == 0)
		rc = plein_merge_begin(&m, s);
	if (rc == 0)
		rc = plein_merge_apply(m, pk, ch, n);
	int rc2 = m ? plein_merge_end(m) : 0;
	if (rc == 0)
		rc = rc2;
	if (rc == 0)
		return plein_db_commit(s->db);
	plein_db_rollback(s->db);
	return rc;
}

/* The occurrence's queue as text: "id:status:position ..." in place order,
 * then the cancelled ones. */
static int queue(plein_buf *out, plein_site *s)
{
	plein_buf_reset(out);
	sqlite3_stmt *st = plein_db_stmt(s->db,
		"SELECT id, status, coalesce(position, 0) FROM signup_place WHERE rule_id = 'R1' AND occurrence_date = '2026-12-08'"
		" ORDER BY place IS NULL, place, id");
	if (!st)
		return PLEIN_ERR;
	while (sqlite3_step(st) == SQLITE_ROW)
		plein_buf_printf(out, "%s%s:%s:%d", out->len ? " " : "", sqlite3_column_text(st, 0),
				 sqlite3_column_text(st, 1), sqlite3_column_int(st, 2));
	sqlite3_reset(st);
	return 0;
}

static uint64_t rng;
static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

/* A fresh replica with the workshop of capacity cap (NULL: no limit). */
static plein_site *replica(char *dir, const char *cap)
{
	plein_site *s = test_site(dir);
	char sql[300];
	/* durability is not under test here: spare the disk */
	snprintf(sql, sizeof sql, "PRAGMA synchronous = OFF; INSERT INTO offering(id, title, capacity) VALUES ('O1', 'Werken met DigiD', %s);"
		 "INSERT INTO schedule_rule(id, offering_id) VALUES ('R1', 'O1');", cap);
	if (s && plein_db_exec(s->db, sql) < 0) {
		plein_site_close(s);
		return NULL;
	}
	return s;
}

/* Deliver every change of the signers, one change at a time in a random
 * order, each maybe twice; return the queue. */
static int shuffled(plein_buf *out, signer *g, int ng, const char *cap)
{
	char dir[256];
	plein_site *s = replica(dir, cap);
	if (!s)
		return PLEIN_ERR;
	size_t total = 0;
	for (int i = 0; i < ng; i++)
		total += g[i].cs.n;
	struct { int g; size_t k; } *all = malloc(sizeof *all * total * 2);
	size_t n = 0;
	for (int i = 0; i < ng; i++)
		for (size_t k = 0; k < g[i].cs.n; k++) {
			all[n].g = i, all[n++].k = k;
			if (rnd(3) == 0)
				all[n].g = i, all[n++].k = k;
		}
	for (size_t i = n; i > 1; i--) {
		size_t j = rnd((uint32_t)i), tg = (size_t)all[i - 1].g, tk = all[i - 1].k;
		all[i - 1] = all[j];
		all[j].g = (int)tg, all[j].k = tk;
	}
	/* One merge session: the order of the changes is what counts. */
	plein_merge *m = NULL;
	int rc = plein_db_begin(s->db);
	if (rc == 0)
		rc = plein_merge_begin(&m, s);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = plein_merge_apply(m, g[all[i].g].pk, &g[all[i].g].cs.v[all[i].k], 1);
	int rc2 = m ? plein_merge_end(m) : 0;
	rc = rc ? rc : rc2;
	rc = rc ? rc : plein_db_commit(s->db);
	if (rc != 0)
		plein_db_rollback(s->db);
	else
		rc = queue(out, s);
	free(all);
	plein_site_close(s);
	test_rmdir(dir);
	return rc;
}

static void signers_free(signer *g, int n)
{
	for (int i = 0; i < n; i++)
		plein_changeset_free(&g[i].cs);
}

/* Two branches and a coordinator book 6 people into 3 places apart. By
 * clock: c1 (100), a1 (200), b1 (200: a tie, site key 'b' > 'a'), a2 (300),
 * b2 (250), b3 (400, written waitlisted at b). */
static void overbook(signer g[3])
{
	signer_init(&g[0], 'a');
	signer_init(&g[1], 'b');
	signer_init(&g[2], 'c');
	book(&g[2], "c1", 100, "booked");
	book(&g[0], "a1", 200, "booked");
	book(&g[1], "b1", 200, "booked");
	book(&g[0], "a2", 300, "booked");
	book(&g[1], "b2", 250, "booked");
	book(&g[1], "b3", 400, "waitlisted");
}

#define OVERBOOKED "c1:booked:0 a1:booked:0 b1:booked:0 b2:waitlisted:1 a2:waitlisted:2 b3:waitlisted:3"

TEST(earliest_by_clock_keep_the_places_in_any_order_of_arrival)
{
	signer g[3];
	plein_buf q = PLEIN_BUF_INIT;
	overbook(g);
	rng = getenv("SEED") ? strtoull(getenv("SEED"), NULL, 10) : 88172645463325252ull;
	for (int round = 0; round < 8; round++) {
		CHECK_OK(shuffled(&q, g, 3, "3"));
		if (strcmp(plein_buf_cstr(&q), OVERBOOKED) != 0)
			FAIL_AT("round %d: %s", round, plein_buf_cstr(&q));
	}
	signers_free(g, 3);
	plein_buf_free(&q);
}

TEST(a_cancellation_moves_the_first_waitlisted_up_everywhere)
{
	signer g[3];
	plein_buf q = PLEIN_BUF_INIT;
	overbook(g);
	put(&g[2], "a1", 1, C_STATUS, 500, "cancelled"); /* the coordinator cancels a1 */
	for (int round = 0; round < 4; round++) {
		CHECK_OK(shuffled(&q, g, 3, "3"));
		CHECK_STR(plein_buf_cstr(&q), "c1:booked:0 b1:booked:0 b2:booked:0 a2:waitlisted:1 b3:waitlisted:2 a1:cancelled:0");
	}
	signers_free(g, 3);
	plein_buf_free(&q);
}

TEST(attended_keeps_its_place_and_a_rebooking_queues_anew)
{
	signer g[3];
	plein_buf q = PLEIN_BUF_INIT;
	overbook(g);
	/* c1 attended (a later status write keeps its place); a1 cancelled and
	 * booked again at 600: its created_at write puts it at the end. */
	put(&g[2], "c1", 1, C_STATUS, 700, "attended");
	put(&g[0], "a1", 1, C_STATUS, 600, "booked");
	put(&g[0], "a1", 1, C_CREATED, 600, "2026-11-25T09:00:00Z");
	CHECK_OK(shuffled(&q, g, 3, "3"));
	CHECK_STR(plein_buf_cstr(&q), "c1:attended:0 b1:booked:0 b2:booked:0 a2:waitlisted:1 b3:waitlisted:2 a1:waitlisted:3");
	signers_free(g, 3);
	plein_buf_free(&q);
}

TEST(no_capacity_no_waitlist)
{
	signer g[3];
	plein_buf q = PLEIN_BUF_INIT;
	overbook(g);
	CHECK_OK(shuffled(&q, g, 3, "NULL"));
	CHECK_STR(plein_buf_cstr(&q), "c1:booked:0 a1:booked:0 b1:booked:0 b2:booked:0 a2:booked:0 b3:booked:0");
	signers_free(g, 3);
	plein_buf_free(&q);
}

TEST(a_local_write_not_sealed_yet_queues_last)
{
	signer g[3];
	char dir[256];
	plein_buf q = PLEIN_BUF_INIT;
	overbook(g);
	plein_site *s = replica(dir, "3");
	CHECK(s != NULL);
	for (int i = 0; i < 3; i++)
		CHECK_OK(deliver(s, g[i].pk, g[i].cs.v, g[i].cs.n));
	/* Written here (captured, not sealed): behind everything received,
	 * as its seal will give it a later clock; then b2 is cancelled. */
	CHECK_OK(plein_db_exec(s->db, "INSERT INTO signup(id, rule_id, occurrence_date, status, created_at)"
				      " VALUES ('0-local', 'R1', '2026-12-08', 'waitlisted', '2026-11-24T11:00:00Z');"
				      "UPDATE signup SET status = 'cancelled' WHERE id = 'b2'"));
	CHECK_OK(queue(&q, s));
	CHECK_STR(plein_buf_cstr(&q), "c1:booked:0 a1:booked:0 b1:booked:0 a2:waitlisted:1 b3:waitlisted:2 0-local:waitlisted:3 b2:cancelled:0");
	plein_site_close(s);
	test_rmdir(dir);
	signers_free(g, 3);
	plein_buf_free(&q);
}
