/* Erasure (docs/erasure.md): two copies of a personal part merge to what
 * both still hold; an erasure purges every stored value of its row and
 * nothing else, its bytes leave log.git, and the log still rebuilds the
 * live state. */
#include "harness.h"
#include "plein/batch.h"
#include "plein/erase.h"
#include "plein/journal.h"
#include "plein/log.h"
#include "plein/personal.h"
#include "plein/verify.h"
#include "util.h"

/* A batch of three personal values (and one plain one). */
static int three_values(plein_batch **out, plein_buf *payload, plein_buf *personal)
{
	static const plein_change ch[] = {
		{ .tid = 10, .id = "R1", .id_len = 2, .cl = 1, .cid = 10, .hlc = 100, .personal = 1,
		  .value = { .type = PLEIN_V_BLOB, .p = (const unsigned char *)"een", .n = 3 } },
		{ .tid = 10, .id = "R2", .id_len = 2, .cl = 1, .cid = 10, .hlc = 101, .personal = 1,
		  .value = { .type = PLEIN_V_BLOB, .p = (const unsigned char *)"twee", .n = 4 } },
		{ .tid = 10, .id = "R2", .id_len = 2, .cl = 1, .cid = 8, .hlc = 101,
		  .value = { .type = PLEIN_V_INT, .i = 3 } },
		{ .tid = 7, .id = "S1", .id_len = 2, .cl = 1, .cid = 3, .hlc = 102, .personal = 1,
		  .value = { .type = PLEIN_V_TEXT, .p = (const unsigned char *)"drie", .n = 4 } },
	};
	plein_batch_header h;
	memset(&h, 0, sizeof h);
	h.seq = 1;
	h.schema_version = 1;
	h.site_pk[0] = 1;
	int rc = plein_batch_encode(&h, payload, personal, NULL, 0, ch, 4, 1, NULL);
	if (rc == 0)
		rc = plein_batch_decode(out, &h, payload->data, payload->len, personal->data, personal->len);
	return rc;
}

static int present(const plein_batch *b, size_t i)
{
	return b->changes[i].value.type != PLEIN_V_PURGED;
}

TEST(merge_keeps_only_what_both_copies_hold)
{
	plein_batch *b = NULL, *d = NULL;
	plein_buf payload = PLEIN_BUF_INIT, full = PLEIN_BUF_INIT, p1 = PLEIN_BUF_INIT, p2 = PLEIN_BUF_INIT, m = PLEIN_BUF_INIT;
	CHECK_OK(three_values(&b, &payload, &full));
	unsigned char drop1[4] = { 1, 0, 0, 0 }, drop2[4] = { 0, 1, 0, 0 };
	CHECK_OK(plein_batch_purge(&p1, b, drop1, 1));
	CHECK_OK(plein_batch_purge(&p2, b, drop2, 1));
	int sa = 0, sb = 0;
	/* full and p1: p1 is the merge */
	CHECK_OK(plein_personal_intersect(&m, &sa, &sb, full.data, full.len, p1.data, p1.len));
	CHECK(!sa && sb);
	CHECK_OK(plein_batch_decode(&d, &b->header, payload.data, payload.len, m.data, m.len));
	CHECK(!present(d, 0) && present(d, 1) && present(d, 3));
	plein_batch_free(d);
	/* p1 and p2: each lost something the other holds */
	plein_buf_reset(&m);
	CHECK_OK(plein_personal_intersect(&m, &sa, &sb, p1.data, p1.len, p2.data, p2.len));
	CHECK(!sa && !sb);
	CHECK_OK(plein_batch_decode(&d, &b->header, payload.data, payload.len, m.data, m.len));
	CHECK(!present(d, 0) && !present(d, 1) && present(d, 3));
	CHECK(d->changes[3].value.n == 4 && memcmp(d->changes[3].value.p, "drie", 4) == 0);
	plein_batch_free(d);
	/* a copy and itself; a copy and the empty (purged) part */
	plein_buf_reset(&m);
	CHECK_OK(plein_personal_intersect(&m, &sa, &sb, p1.data, p1.len, p1.data, p1.len));
	CHECK(sa && sb);
	CHECK_OK(plein_personal_intersect(&m, &sa, &sb, p1.data, p1.len, NULL, 0));
	CHECK(!sa && sb && m.len == 0);
	plein_buf_free(&payload);
	plein_buf_free(&full);
	plein_buf_free(&p1);
	plein_buf_free(&p2);
	plein_buf_free(&m);
	plein_batch_free(b);
}

TEST(copies_of_different_batches_do_not_merge)
{
	plein_batch *a = NULL, *b = NULL;
	plein_buf pa = PLEIN_BUF_INIT, fa = PLEIN_BUF_INIT, pb = PLEIN_BUF_INIT, fb = PLEIN_BUF_INIT, m = PLEIN_BUF_INIT;
	CHECK_OK(three_values(&a, &pa, &fa));
	CHECK_OK(three_values(&b, &pb, &fb)); /* other salts: other values */
	int sa = 0, sb = 0;
	CHECK_EQ_INT(plein_personal_intersect(&m, &sa, &sb, fa.data, fa.len, fb.data, fb.len), PLEIN_EREJECT);
	static const unsigned char junk[] = { 0x78, 0x01, 0x02 };
	CHECK_EQ_INT(plein_personal_intersect(&m, &sa, &sb, fa.data, fa.len, junk, sizeof junk), PLEIN_EREJECT);
	plein_error_clear();
	plein_buf_free(&pa);
	plein_buf_free(&fa);
	plein_buf_free(&pb);
	plein_buf_free(&fb);
	plein_buf_free(&m);
	plein_batch_free(a);
	plein_batch_free(b);
}

static int contact_of(plein_site *s, plein_log *log, uint64_t seq, int *out_present)
{
	plein_log_entry e;
	plein_batch_header h;
	plein_batch *b = NULL;
	int rc = plein_log_read(&e, log, s->id, seq);
	if (rc == 0 && (rc = plein_batch_header_parse(&h, e.header.data, e.header.len)) == 0 &&
	    (rc = plein_batch_decode(&b, &h, e.payload.data, e.payload.len, e.personal.data, e.personal.len)) == 0) {
		*out_present = 0;
		for (size_t i = 0; i < b->n; i++)
			if (b->changes[i].personal && b->changes[i].value.type == PLEIN_V_BLOB)
				(*out_present)++;
	}
	plein_batch_free(b);
	plein_log_entry_free(&e);
	return rc;
}

TEST(erasure_purges_its_row_everywhere_in_the_log_and_nothing_else)
{
	char dir[256], cmd[600];
	plein_site *s = test_site(dir);
	CHECK(s != NULL);
	uint64_t seq = 0;
	size_t purged = 99;
	CHECK_OK(plein_db_exec(s->db,
		"INSERT INTO referral(id, status, contact) VALUES ('r1', 'new', x'0102030405AA55'), ('r2', 'new', x'0102030405BB66');"));
	CHECK_OK(plein_journal_seal(s, &seq));
	CHECK_OK(plein_db_exec(s->db, "UPDATE referral SET contact = x'0102030405AA77' WHERE id = 'r1'"));
	CHECK_OK(plein_journal_seal(s, &seq));
	CHECK_EQ_INT(seq, 2);
	CHECK_OK(plein_erase_apply(s, &purged)); /* no erasure yet: nothing */
	CHECK_EQ_INT(purged, 0);
	char old[2][41];
	for (int i = 0; i < 2; i++) {
		plein_log_entry e;
		CHECK_OK(plein_log_read(&e, plein_site_log(s), s->id, (uint64_t)i + 1));
		memcpy(old[i], e.personal_id, 41);
		plein_log_entry_free(&e);
	}
	CHECK_OK(plein_erase_row(s, "referral", "r1", "request"));
	int64_t n = -1;
	CHECK_OK(plein_db_int(s->db, &n, "SELECT count(*) FROM referral WHERE contact IS NULL", NULL));
	CHECK_EQ_INT(n, 1);
	CHECK_OK(plein_journal_seal(s, &seq));
	CHECK_OK(plein_erase_apply(s, &purged));
	CHECK_EQ_INT(purged, 2); /* r1's value in batch 1 and in batch 2 */
	int present = -1;
	plein_log *log = plein_site_log(s);
	CHECK_OK(contact_of(s, log, 1, &present));
	CHECK_EQ_INT(present, 1); /* r2's stays */
	CHECK_OK(contact_of(s, log, 2, &present));
	CHECK_EQ_INT(present, 0);
	/* the old parts are gone from log.git, for git too */
	for (int i = 0; i < 2; i++) {
		CHECK(!plein_log_has(log, old[i]));
		snprintf(cmd, sizeof cmd, "git --git-dir '%s/log.git' cat-file -e %s 2>/dev/null", dir, old[i]);
		CHECK(system(cmd) != 0);
	}
	snprintf(cmd, sizeof cmd, "git --git-dir '%s/log.git' fsck --strict --no-dangling >/dev/null 2>&1", dir);
	CHECK(system(cmd) == 0);
	/* carried out once: nothing more to do */
	CHECK_OK(plein_erase_apply(s, &purged));
	CHECK_EQ_INT(purged, 0);
	/* the logs still verify and rebuild the live state */
	plein_verify_report r;
	CHECK_OK(plein_verify(&r, s));
	CHECK_EQ_INT(r.problems, 0);
	CHECK(r.equal);
	plein_site_close(s);
	test_rmdir(dir);
}
