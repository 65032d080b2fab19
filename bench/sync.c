/* Sync benchmark (design §5, §10; issue 3): what it costs to seal captured
 * writes into the log, to store them, and to apply them at another replica,
 * each against a baseline measured in the same run.
 *
 *   apply  a fresh replica catches up (plein_journal_catch_up) with the
 *          batches a source site sealed, against sqlite3changeset_apply of
 *          the same row changes recorded by SQLite's session extension.
 *          Two scenarios: ROWS inserts into `visit` (id + 4 columns), then
 *          updates of 1 or 2 columns of every row (channel; daypart too on
 *          even rows). Both sides apply one batch / one changeset of CHUNK
 *          rows per transaction, in databases opened by plein_db_open (WAL,
 *          synchronous=FULL, plein's cache_size) with the same table.
 *   seal   plein_journal_seal of CHUNK captured rows at a time; the writes
 *          themselves are not timed. The time is split by function: git
 *          (log reads and the append), encode + sign, and SQLite (collecting
 *          the captured rows, folding the batch back in, commit).
 *   size   bytes added to log.git per change, loose and after `git gc`,
 *          against the stored payloads alone and against the same changes
 *          (and rows) as TSV, zlib level 1, chunk by chunk.
 *
 * The split is measured without touching the library: the benchmark is
 * linked with ld's --wrap for the functions the journal calls (see
 * bench/meson.build), and the wrappers add up their time.
 *
 * Each run builds everything afresh; the order of plein and the baseline
 * alternates between runs. Printed are medians over runs, ratios being the
 * median of the per-run ratios (which cancels most of a shared machine's
 * drift). Every run checks that the two replicas agree after each
 * scenario and end equal to the source.
 *
 * Usage: sync [ROWS [RUNS [CHUNK]]]   (defaults 200000, 5, 10000)
 * Lines starting with "RESULT name value" are for machines. */
#define SQLITE_ENABLE_SESSION 1
#define SQLITE_ENABLE_PREUPDATE_HOOK 1
#include <sqlite3.h>

#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <zlib.h>

#include "plein/batch.h"
#include "plein/buf.h"
#include "plein/db.h"
#include "plein/error.h"
#include "plein/id.h"
#include "plein/journal.h"
#include "plein/local.h"
#include "plein/log.h"
#include "plein/merge.h"
#include "plein/site.h"

#define MAXRUNS 64
enum { INS, UPD, NSCEN };
static const char *scen_name[NSCEN] = { "insert", "update" };

/* ---- time accounting of the library's functions (ld --wrap) ---- */

enum { A_GIT_READ, A_GIT_WRITE, A_VERIFY, A_ENCODE, A_COLLECT, A_MERGE, A_CONSUMED, A_COMMIT, NACC };
static const char *acc_name[NACC] = {
	"git read", "git write", "verify+decode", "encode+sign", "collect captured",
	"merge (fold in)", "forget captured", "commit",
};
static double acc[NACC];

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A wrapper that adds the time of the real function to acc[cat]. The
 * __typeof__ declarations make a wrapper that no longer matches the
 * library's prototype a compile error. */
#define WRAP(cat, name, params, args)                  \
	__typeof__(name) __real_##name, __wrap_##name; \
	int __wrap_##name params                       \
	{                                              \
		double t0_ = now();                    \
		int r_ = __real_##name args;           \
		acc[cat] += now() - t0_;               \
		return r_;                             \
	}

WRAP(A_GIT_READ, plein_log_tips, (plein_log_ref **o, size_t *n, plein_log *l), (o, n, l))
WRAP(A_GIT_READ, plein_log_tip, (plein_log_ref *o, plein_log *l, const char *s), (o, l, s))
WRAP(A_GIT_READ, plein_log_read, (plein_log_entry *o, plein_log *l, const char *c, uint64_t q), (o, l, c, q))
WRAP(A_GIT_WRITE, plein_log_append, (plein_log *l, const plein_log_batch *b), (l, b))
WRAP(A_GIT_WRITE, plein_log_append_run, (size_t *o, plein_log *l, const plein_log_batch *b, size_t n), (o, l, b, n))
WRAP(A_VERIFY, plein_batch_verify,
     (plein_batch_header *o, const unsigned char *b, size_t n, const unsigned char s[PLEIN_BATCH_SIG_BYTES]), (o, b, n, s))
WRAP(A_VERIFY, plein_batch_decode,
     (plein_batch **o, const plein_batch_header *h, const unsigned char *p, size_t pn, const unsigned char *q, size_t qn),
     (o, h, p, pn, q, qn))
WRAP(A_ENCODE, plein_batch_encode,
     (plein_batch_header *h, plein_buf *p, plein_buf *q, const plein_seen *x, size_t nx, const plein_change *c, size_t n,
      int l, const unsigned char *s),
     (h, p, q, x, nx, c, n, l, s))
WRAP(A_ENCODE, plein_batch_seal,
     (unsigned char h[PLEIN_BATCH_HEADER_BYTES], unsigned char s[PLEIN_BATCH_SIG_BYTES], const plein_batch_header *x,
      const unsigned char k[64]), (h, s, x, k))
WRAP(A_COLLECT, plein_local_changes, (plein_changeset *o, int64_t *h, plein_merge *m, plein_site *s), (o, h, m, s))
WRAP(A_MERGE, plein_merge_begin, (plein_merge **o, plein_site *s), (o, s))
WRAP(A_MERGE, plein_merge_apply_batch,
     (plein_merge *m, const unsigned char k[32], uint64_t q, const plein_seen *x, size_t nx, const plein_change *c, size_t n),
     (m, k, q, x, nx, c, n))
WRAP(A_MERGE, plein_merge_end, (plein_merge *m), (m))
WRAP(A_CONSUMED, plein_local_consumed, (plein_site *s, int64_t h), (s, h))
WRAP(A_COMMIT, plein_db_commit, (plein_db *d), (d))

/* ---- helpers ---- */

static void die(const char *what)
{
	fprintf(stderr, "bench/sync: %s: %s\n", what, plein_error());
	exit(2);
}

static void die_sql(sqlite3 *h, const char *what)
{
	fprintf(stderr, "bench/sync: %s: %s\n", what, sqlite3_errmsg(h));
	exit(2);
}

static void exec(sqlite3 *h, const char *sql)
{
	if (sqlite3_exec(h, sql, NULL, NULL, NULL) != SQLITE_OK)
		die_sql(h, sql);
}

static sqlite3_stmt *prepare(sqlite3 *h, const char *sql)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
		die_sql(h, sql);
	return st;
}

static void step_done(sqlite3 *h, sqlite3_stmt *st)
{
	if (sqlite3_step(st) != SQLITE_DONE)
		die_sql(h, "step");
	sqlite3_reset(st);
}

static void shell(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void shell(const char *fmt, ...)
{
	char *cmd = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&cmd, fmt, ap);
	va_end(ap);
	if (n < 0 || system(cmd) != 0) {
		fprintf(stderr, "bench/sync: failed: %s\n", n < 0 ? fmt : cmd);
		exit(2);
	}
	free(cmd);
}

static char *path_of(const char *base, const char *name, int run, const char *file)
{
	plein_buf p = PLEIN_BUF_INIT;
	plein_buf_printf(&p, "%s/%s-%d", base, name, run);
	if (file)
		plein_buf_printf(&p, "/%s", file);
	char *s = plein_xstrdup(plein_buf_cstr(&p));
	plein_buf_free(&p);
	return s;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(const double *v, int n)
{
	double s[MAXRUNS];
	memcpy(s, v, sizeof *v * (size_t)n);
	qsort(s, (size_t)n, sizeof *s, cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* ---- the workload: made before any clock starts ---- */

static const char *dayparts[] = { "ochtend", "middag", "avond" };
static const char *channels[] = { "walk_in", "appointment", "phone" };

typedef struct {
	int n, chunk;
	char (*id)[PLEIN_ID_LEN + 1];
	char (*at)[24];
	char loc[16][PLEIN_ID_LEN + 1];
} workload;

static void make_workload(workload *w, int n, int chunk)
{
	w->n = n;
	w->chunk = chunk;
	w->id = plein_xmalloc(sizeof *w->id * (size_t)n);
	w->at = plein_xmalloc(sizeof *w->at * (size_t)n);
	for (int i = 0; i < 16; i++)
		plein_id_new(w->loc[i]);
	/* A day of visits per 500 rows, 08:00 onwards, one a minute. */
	for (int i = 0; i < n; i++) {
		plein_id_new(w->id[i]);
		time_t t = (time_t)1764000000 + (time_t)(i / 500) * 86400 + 8 * 3600 + (i % 500) * 60;
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(w->at[i], sizeof w->at[i], "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
}

static int nchunks(const workload *w)
{
	return (w->n + w->chunk - 1) / w->chunk;
}

static const char *new_daypart(int i)
{
	return dayparts[(i / 200 + 1) % 3];
}

/* Column values written per scenario: 4 per insert, 1 or 2 per update. */
static int64_t col_changes(const workload *w, int scen)
{
	return scen == INS ? (int64_t)w->n * 4 : (int64_t)w->n + (w->n + 1) / 2;
}

/* Rows [from, to) of a scenario, in one transaction. */
static void write_rows(sqlite3 *h, const workload *w, int scen, int from, int to)
{
	sqlite3_stmt *st = prepare(h, scen == INS ?
		"INSERT INTO visit(id, location_id, at, daypart, channel) VALUES (?1, ?2, ?3, ?4, ?5)" :
		"UPDATE visit SET channel = ?2, daypart = coalesce(?3, daypart) WHERE id = ?1");
	exec(h, "BEGIN");
	for (int i = from; i < to; i++) {
		sqlite3_bind_text(st, 1, w->id[i], PLEIN_ID_LEN, SQLITE_STATIC);
		if (scen == INS) {
			sqlite3_bind_text(st, 2, w->loc[i % 16], PLEIN_ID_LEN, SQLITE_STATIC);
			sqlite3_bind_text(st, 3, w->at[i], -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 4, dayparts[(i / 200) % 3], -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 5, channels[i % 3], -1, SQLITE_STATIC);
		} else {
			sqlite3_bind_text(st, 2, channels[(i + 1) % 3], -1, SQLITE_STATIC);
			if (i % 2 == 0)
				sqlite3_bind_text(st, 3, new_daypart(i), -1, SQLITE_STATIC);
			else
				sqlite3_bind_null(st, 3);
		}
		step_done(h, st);
	}
	exec(h, "COMMIT");
	sqlite3_finalize(st);
}

/* BLAKE2b of the visit table's contents, to check replicas are equal. */
static void table_digest(sqlite3 *h, unsigned char out[32])
{
	crypto_generichash_state gs;
	crypto_generichash_init(&gs, NULL, 0, 32);
	sqlite3_stmt *st = prepare(h, "SELECT id, location_id, at, daypart, channel FROM visit ORDER BY id");
	while (sqlite3_step(st) == SQLITE_ROW) {
		for (int c = 0; c < 5; c++) {
			const unsigned char *v = sqlite3_column_text(st, c);
			crypto_generichash_update(&gs, v ? v : (const unsigned char *)"\x01", v ? (size_t)sqlite3_column_bytes(st, c) + 1 : 1);
		}
	}
	sqlite3_finalize(st);
	crypto_generichash_final(&gs, out, 32);
}

/* ---- the run ---- */

typedef struct {
	char *base;
	char *ddl;
	workload w;
	int runs;
	/* per scenario, per run */
	double apply_plein[NSCEN][MAXRUNS], apply_sqlite[NSCEN][MAXRUNS];
	double receive[NSCEN][MAXRUNS];
	double seal[NSCEN][MAXRUNS], write[NSCEN][MAXRUNS];
	double seal_acc[NSCEN][MAXRUNS][NACC];
	double apply_acc[NSCEN][MAXRUNS][NACC];
	int64_t changes[NSCEN];       /* plein changes sealed per scenario */
	int64_t cs_bytes[NSCEN];      /* session changeset bytes per scenario */
	uint64_t batches[NSCEN];
	int cache_size;               /* PRAGMA cache_size of the databases */
} bench;

static void copy_buf(plein_buf *to, const plein_buf *from)
{
	memset(to, 0, sizeof *to);
	plein_buf_put(to, from->data, from->len);
}

/* plein_log_foreach callback: copy batch seq into payload[seq - 1]. */
static int keep_entry(const plein_log_entry *e, void *payload)
{
	plein_log_entry *k = (plein_log_entry *)payload + (e->seq - 1);
	*k = *e;
	copy_buf(&k->header, &e->header);
	copy_buf(&k->sig, &e->sig);
	copy_buf(&k->payload, &e->payload);
	copy_buf(&k->personal, &e->personal);
	return 0;
}

static plein_site *new_site(const char *dir, int network)
{
	plein_site *s = NULL;
	if (plein_site_create(&s, dir, "bench") < 0)
		die("creating a site");
	if (network) {
		char pk[65];
		sodium_bin2hex(pk, sizeof pk, s->pk, 32);
		if (plein_site_local_set(s, "network_name", "Benchnetwerk") < 0 ||
		    plein_site_local_set(s, "network_id", "00112233445566778899aabbccddeeff") < 0 ||
		    plein_site_local_set(s, "admin_pk", pk) < 0)
			die("joining the bench network");
	}
	return s;
}

static char *visit_ddl(const char *base)
{
	char *dir = path_of(base, "ddl", 0, NULL);
	plein_site *s = new_site(dir, 0);
	sqlite3 *h = plein_db_handle(s->db);
	sqlite3_stmt *st = prepare(h, "SELECT sql FROM sqlite_schema WHERE tbl_name = 'visit'"
		" AND type IN ('table', 'index') AND sql IS NOT NULL ORDER BY type DESC");
	plein_buf ddl = PLEIN_BUF_INIT;
	while (sqlite3_step(st) == SQLITE_ROW)
		plein_buf_printf(&ddl, "%s;\n", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	plein_site_close(s);
	shell("rm -rf '%s'", dir);
	free(dir);
	char *out = plein_xstrdup(plein_buf_cstr(&ddl));
	plein_buf_free(&ddl);
	return out;
}

static plein_db *plain_db(const bench *b, const char *name, int run)
{
	char *dir = path_of(b->base, name, run, NULL);
	if (mkdir(dir, 0700) != 0) {
		fprintf(stderr, "bench/sync: mkdir %s: %s\n", dir, strerror(errno));
		exit(2);
	}
	char *path = path_of(b->base, name, run, "plein.db");
	plein_db *db = NULL;
	if (plein_db_open(&db, path, 1) < 0)
		die("opening a plain database");
	exec(plein_db_handle(db), b->ddl);
	free(dir);
	free(path);
	return db;
}

static int conflict(void *ctx, int kind, sqlite3_changeset_iter *it)
{
	(*(int *)ctx)++;
	return SQLITE_CHANGESET_ABORT;
}

/* ---- log sizes (run 0) ---- */

static int64_t du_apparent, du_blocks;

static int du_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	if (flag == FTW_F) {
		du_apparent += st->st_size;
		du_blocks += (int64_t)st->st_blocks * 512;
	}
	return 0;
}

static void du(const char *dir, int64_t *apparent, int64_t *blocks)
{
	du_apparent = du_blocks = 0;
	if (nftw(dir, du_one, 16, FTW_PHYS) != 0) {
		fprintf(stderr, "bench/sync: cannot walk %s\n", dir);
		exit(2);
	}
	*apparent = du_apparent;
	*blocks = du_blocks;
}

static uint64_t zlib1(const plein_buf *b)
{
	uLongf n = compressBound(b->len);
	unsigned char *out = plein_xmalloc(n);
	if (compress2(out, &n, b->data, b->len, 1) != Z_OK) {
		fprintf(stderr, "bench/sync: zlib failed\n");
		exit(2);
	}
	free(out);
	return n;
}

static void tsv_value(plein_buf *t, const plein_value *v)
{
	switch (v->type) {
	case PLEIN_V_INT: plein_buf_printf(t, "%" PRId64, v->i); break;
	case PLEIN_V_REAL: plein_buf_printf(t, "%.17g", v->f); break;
	case PLEIN_V_TEXT: case PLEIN_V_BLOB: plein_buf_put(t, v->p, v->n); break;
	default: plein_buf_puts(t, "\\N");
	}
}

typedef struct {
	int64_t apparent, blocks, packed;  /* objects dir, loose; packed after git gc */
	uint64_t payload, raw, hdr;        /* payload blobs, inflated, header + sig */
	uint64_t tsv_changes, tsv_rows;    /* zlib level 1 */
	uint64_t changes;
} sizes;

/* Batches [from, to] of the source's log: their bytes and their changes
 * as TSV lines "tid id cid cl hlc value", each batch compressed alone. */
static void measure_batches(sizes *z, const plein_log_entry *bt, uint64_t from, uint64_t to)
{
	for (uint64_t q = from; q <= to; q++) {
		const plein_log_entry *e = &bt[q - 1];
		plein_batch_header h;
		plein_batch *b = NULL;
		if (plein_batch_verify(&h, e->header.data, e->header.len, e->sig.data) < 0 ||
		    plein_batch_decode(&b, &h, e->payload.data, e->payload.len, NULL, 0) < 0)
			die("decoding a stored batch");
		z->payload += e->payload.len + e->personal.len;
		z->raw += h.raw_len;
		z->hdr += e->header.len + e->sig.len;
		z->changes += b->n;
		plein_buf t = PLEIN_BUF_INIT;
		for (size_t i = 0; i < b->n; i++) {
			const plein_change *c = &b->changes[i];
			plein_buf_printf(&t, "%d\t%.*s\t%d\t%" PRId64 "\t%" PRId64 "\t", c->tid, (int)c->id_len, c->id,
					 c->cid, c->cl, c->hlc);
			tsv_value(&t, &c->value);
			plein_buf_putc(&t, '\n');
		}
		z->tsv_changes += zlib1(&t);
		plein_buf_free(&t);
		plein_batch_free(b);
	}
}

/* The same writes as plain rows: "id location_id at daypart channel" per
 * insert, "id channel [daypart]" per update, a chunk per zlib stream. */
static void measure_rows(sizes *z, const workload *w, int scen)
{
	for (int k = 0; k < nchunks(w); k++) {
		plein_buf t = PLEIN_BUF_INIT;
		int to = (k + 1) * w->chunk < w->n ? (k + 1) * w->chunk : w->n;
		for (int i = k * w->chunk; i < to; i++) {
			if (scen == INS)
				plein_buf_printf(&t, "%s\t%s\t%s\t%s\t%s\n", w->id[i], w->loc[i % 16], w->at[i],
						 dayparts[(i / 200) % 3], channels[i % 3]);
			else if (i % 2 == 0)
				plein_buf_printf(&t, "%s\t%s\t%s\n", w->id[i], channels[(i + 1) % 3], new_daypart(i));
			else
				plein_buf_printf(&t, "%s\t%s\n", w->id[i], channels[(i + 1) % 3]);
		}
		z->tsv_rows += zlib1(&t);
		plein_buf_free(&t);
	}
}

static void measure_git(sizes *z, const char *logdir, const char *base)
{
	char *objs = plein_xmalloc(strlen(logdir) + 16);
	sprintf(objs, "%s/objects", logdir);
	du(objs, &z->apparent, &z->blocks);
	/* git gc on a copy: the run goes on with the loose log. */
	char *copy = path_of(base, "gc", 0, NULL);
	shell("rm -rf '%s' && cp -a '%s' '%s' && git -C '%s' gc --quiet --prune=now", copy, logdir, copy, copy);
	char *cobjs = plein_xmalloc(strlen(copy) + 16);
	sprintf(cobjs, "%s/objects", copy);
	int64_t blocks;
	du(cobjs, &z->packed, &blocks);
	shell("rm -rf '%s'", copy);
	free(cobjs);
	free(copy);
	free(objs);
}

static void print_sizes(const char *what, const sizes *z, int64_t rows)
{
	double n = (double)z->changes;
	printf("%-8s %9" PRIu64 " %8.1f %8.1f %8.1f %8.1f %8.1f %8.1f %8.1f   (%.1f rows)\n", what, z->changes,
	       z->blocks / n, z->apparent / n, z->packed / n, z->payload / n, z->raw / n,
	       z->tsv_changes / n, z->tsv_rows / n, (double)z->changes / (double)rows);
	printf("RESULT log_%s_loose_disk_bytes_per_change %.1f\n", what, z->blocks / n);
	printf("RESULT log_%s_loose_bytes_per_change %.1f\n", what, z->apparent / n);
	printf("RESULT log_%s_packed_bytes_per_change %.1f\n", what, z->packed / n);
	printf("RESULT log_%s_payload_bytes_per_change %.1f\n", what, z->payload / n);
	printf("RESULT log_%s_tsv_changes_zlib1_bytes_per_change %.1f\n", what, z->tsv_changes / n);
	printf("RESULT log_%s_tsv_rows_zlib1_bytes_per_change %.1f\n", what, z->tsv_rows / n);
	printf("RESULT log_%s_packed_vs_tsv_changes %.2f\n", what, (double)z->packed / (double)z->tsv_changes);
}

/* ---- one run ---- */

typedef struct {
	plein_site *src, *dst;
	plein_db *bsrc, *bdst;
	plein_log_entry *bt; /* the source's batches, by seq - 1 */
	uint64_t first[NSCEN + 1]; /* seq of each scenario's first batch */
	plein_buf *cs;       /* changesets, [scen * nchunks + k] */
} replicas;

static int chunk_end(const workload *w, int k)
{
	return (k + 1) * w->chunk < w->n ? (k + 1) * w->chunk : w->n;
}

/* Write and seal a scenario at the source, a chunk per batch; only the
 * seals are timed. With z (run 0): the log's size afterwards. */
static void seal_scenario(bench *b, replicas *x, int sc, int r, sizes *z)
{
	const workload *w = &b->w;
	sqlite3 *h = plein_db_handle(x->src->db);
	uint64_t seq = 0;
	x->first[sc] = 0;
	b->seal[sc][r] = b->write[sc][r] = 0;
	memset(acc, 0, sizeof acc);
	for (int k = 0; k < nchunks(w); k++) {
		double t0 = now();
		write_rows(h, w, sc, k * w->chunk, chunk_end(w, k));
		double t1 = now();
		if (plein_journal_seal(x->src, &seq) < 0 || seq == 0)
			die("sealing");
		b->seal[sc][r] += now() - t1;
		b->write[sc][r] += t1 - t0;
		if (!x->first[sc])
			x->first[sc] = seq;
	}
	memcpy(b->seal_acc[sc][r], acc, sizeof acc);
	x->first[sc + 1] = seq + 1;
	b->batches[sc] = seq + 1 - x->first[sc];
	if (z) {
		char *logdir = plein_site_path(x->src, "log.git");
		measure_git(z, logdir, b->base);
		free(logdir);
	}
}

/* The baseline's source: the session extension records the same writes,
 * one changeset per chunk. */
static void record_scenario(bench *b, replicas *x, int sc)
{
	const workload *w = &b->w;
	sqlite3 *h = plein_db_handle(x->bsrc);
	int nk = nchunks(w);
	b->cs_bytes[sc] = 0;
	for (int k = 0; k < nk; k++) {
		sqlite3_session *sess = NULL;
		int n = 0;
		void *p = NULL;
		if (sqlite3session_create(h, "main", &sess) != SQLITE_OK ||
		    sqlite3session_attach(sess, "visit") != SQLITE_OK)
			die_sql(h, "session");
		write_rows(h, w, sc, k * w->chunk, chunk_end(w, k));
		if (sqlite3session_changeset(sess, &n, &p) != SQLITE_OK)
			die_sql(h, "changeset");
		plein_buf_put(&x->cs[sc * nk + k], p, (size_t)n);
		b->cs_bytes[sc] += n;
		sqlite3_free(p);
		sqlite3session_delete(sess);
	}
}

/* Store the scenario's batches in the replica's log, as sync does with
 * a run received from a peer (one pack). */
static void receive_scenario(bench *b, replicas *x, int sc, int r)
{
	size_t nb = (size_t)b->batches[sc];
	plein_log_batch *lb = plein_xcalloc(nb, sizeof *lb);
	b->changes[sc] = 0;
	for (size_t i = 0; i < nb; i++) {
		const plein_log_entry *e = &x->bt[x->first[sc] - 1 + i];
		plein_batch_header h;
		if (plein_batch_header_parse(&h, e->header.data, e->header.len) < 0)
			die("reading a batch header");
		b->changes[sc] += h.count;
		plein_log_batch_of(&lb[i], e);
	}
	size_t added = 0;
	double t0 = now();
	if (plein_log_append_run(&added, plein_site_log(x->dst), lb, nb) < 0 || added != nb)
		die("storing the batches at the replica");
	b->receive[sc][r] = now() - t0;
	free(lb);
}

static void apply_plein(bench *b, replicas *x, int sc, int r)
{
	uint64_t applied = 0;
	memset(acc, 0, sizeof acc);
	double t0 = now();
	if (plein_journal_catch_up(x->dst, &applied) < 0 || applied != b->batches[sc])
		die("catching up");
	b->apply_plein[sc][r] = now() - t0;
	memcpy(b->apply_acc[sc][r], acc, sizeof acc);
}

static void apply_sqlite(bench *b, replicas *x, int sc, int r)
{
	sqlite3 *h = plein_db_handle(x->bdst);
	int nk = nchunks(&b->w), conflicts = 0;
	double t0 = now();
	for (int k = 0; k < nk; k++) {
		const plein_buf *p = &x->cs[sc * nk + k];
		if (sqlite3changeset_apply(h, (int)p->len, p->data, NULL, conflict, &conflicts) != SQLITE_OK || conflicts)
			die_sql(h, "sqlite3changeset_apply (or a conflict)");
	}
	b->apply_sqlite[sc][r] = now() - t0;
	sqlite3_stmt *st = prepare(h, "PRAGMA cache_size");
	if (sqlite3_step(st) == SQLITE_ROW)
		b->cache_size = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
}

/* The two replicas must agree; once both have everything, with the source. */
static void check_equal(replicas *x, int sc)
{
	unsigned char d0[32], d1[32], d2[32];
	table_digest(plein_db_handle(x->src->db), d0);
	table_digest(plein_db_handle(x->dst->db), d1);
	table_digest(plein_db_handle(x->bdst), d2);
	if (memcmp(d1, d2, 32) != 0 || (sc == NSCEN - 1 && memcmp(d0, d1, 32) != 0)) {
		fprintf(stderr, "bench/sync: after the %ss, the replicas differ from each other or the source\n",
			scen_name[sc]);
		exit(2);
	}
}

static void run(bench *b, int r, sizes *zs)
{
	const workload *w = &b->w;
	int nk = nchunks(w);
	replicas x;
	memset(&x, 0, sizeof x);
	char *sdir = path_of(b->base, "src", r, NULL), *ddir = path_of(b->base, "dst", r, NULL);
	x.src = new_site(sdir, 1);
	x.dst = new_site(ddir, 0);
	x.bsrc = plain_db(b, "session", r);
	x.bdst = plain_db(b, "sqlite", r);
	x.bt = plein_xcalloc((size_t)nk * NSCEN, sizeof *x.bt);
	x.cs = plein_xcalloc((size_t)nk * NSCEN, sizeof *x.cs);

	for (int sc = 0; sc < NSCEN; sc++) {
		seal_scenario(b, &x, sc, r, zs ? &zs[sc] : NULL);
		record_scenario(b, &x, sc);
	}
	if (plein_log_foreach(plein_site_log(x.src), x.src->id, 1, 0, keep_entry, x.bt) < 0)
		die("reading the source's log");
	for (int sc = 0; sc < NSCEN; sc++) {
		receive_scenario(b, &x, sc, r);
		/* Alternate who goes first, so drift hits both alike. */
		if ((r + sc) % 2 == 0) {
			apply_plein(b, &x, sc, r);
			apply_sqlite(b, &x, sc, r);
		} else {
			apply_sqlite(b, &x, sc, r);
			apply_plein(b, &x, sc, r);
		}
		check_equal(&x, sc);
	}
	if (zs) {
		for (int sc = 0; sc < NSCEN; sc++) {
			measure_rows(&zs[sc], w, sc);
			measure_batches(&zs[sc], x.bt, x.first[sc], x.first[sc + 1] - 1);
		}
		/* measure_git saw the whole log: the updates' share is the growth. */
		zs[UPD].apparent -= zs[INS].apparent;
		zs[UPD].blocks -= zs[INS].blocks;
		zs[UPD].packed -= zs[INS].packed;
	}

	for (int i = 0; i < nk * NSCEN; i++) {
		plein_log_entry_free(&x.bt[i]);
		plein_buf_free(&x.cs[i]);
	}
	free(x.bt);
	free(x.cs);
	plein_site_close(x.src);
	plein_site_close(x.dst);
	plein_db_close(x.bsrc);
	plein_db_close(x.bdst);
	char *dirs[4] = { sdir, ddir, path_of(b->base, "session", r, NULL), path_of(b->base, "sqlite", r, NULL) };
	for (int i = 0; i < 4; i++) {
		shell("rm -rf '%s'", dirs[i]);
		free(dirs[i]);
	}
}

/* ---- report ---- */

static double med_rate(const bench *b, const double (*secs)[MAXRUNS], int sc, double units)
{
	double v[MAXRUNS];
	for (int r = 0; r < b->runs; r++)
		v[r] = units / secs[sc][r];
	return median(v, b->runs);
}

static void report_apply(const bench *b)
{
	const workload *w = &b->w;
	printf("\napply: a fresh replica applies the source's changes (%d-row batches / changesets, one\n"
	       "transaction each; both databases from plein_db_open: WAL, synchronous=FULL, cache_size=%d)\n",
	       w->chunk, b->cache_size);
	printf("%-7s %8s %9s %12s %12s %12s %12s %7s %10s\n", "", "rows", "col chg", "plein rows/s",
	       "sqlite rows/s", "plein col/s", "sqlite col/s", "ratio", "receive s");
	for (int sc = 0; sc < NSCEN; sc++) {
		double ratio[MAXRUNS];
		for (int r = 0; r < b->runs; r++)
			ratio[r] = b->apply_sqlite[sc][r] / b->apply_plein[sc][r];
		int64_t cc = col_changes(w, sc);
		double rr = median(ratio, b->runs);
		printf("%-7s %8d %9" PRId64 " %12.0f %12.0f %12.0f %12.0f %7.2f %10.3f\n", scen_name[sc], w->n, cc,
		       med_rate(b, b->apply_plein, sc, w->n), med_rate(b, b->apply_sqlite, sc, w->n),
		       med_rate(b, b->apply_plein, sc, (double)cc), med_rate(b, b->apply_sqlite, sc, (double)cc),
		       rr, median(b->receive[sc], b->runs));
		printf("RESULT apply_%s_plein_rows_per_s %.0f\n", scen_name[sc], med_rate(b, b->apply_plein, sc, w->n));
		printf("RESULT apply_%s_sqlite_rows_per_s %.0f\n", scen_name[sc], med_rate(b, b->apply_sqlite, sc, w->n));
		printf("RESULT apply_%s_plein_col_changes_per_s %.0f\n", scen_name[sc], med_rate(b, b->apply_plein, sc, (double)cc));
		printf("RESULT apply_%s_sqlite_col_changes_per_s %.0f\n", scen_name[sc], med_rate(b, b->apply_sqlite, sc, (double)cc));
		printf("RESULT apply_%s_ratio %.2f\n", scen_name[sc], rr);
		printf("RESULT receive_%s_s %.3f\n", scen_name[sc], median(b->receive[sc], b->runs));
	}
	printf("ratio: median over runs of plein rate / sqlite3changeset_apply rate in the same run; goal >= 0.50\n"
	       "col chg: column values set (4 per insert; 1 or 2 per update); plein also carries an\n"
	       "existence change per inserted row. receive: plein_log_append_run of the batches (not in apply).\n");
	printf("\nwhere plein's apply time goes (median share of catch-up time):\n");
	for (int sc = 0; sc < NSCEN; sc++) {
		printf("  %-7s", scen_name[sc]);
		double other[MAXRUNS];
		for (int r = 0; r < b->runs; r++)
			other[r] = 1;
		for (int a = 0; a < NACC; a++) {
			double v[MAXRUNS];
			for (int r = 0; r < b->runs; r++) {
				v[r] = b->apply_acc[sc][r][a] / b->apply_plein[sc][r];
				other[r] -= v[r];
			}
			if (a == A_GIT_WRITE || a == A_ENCODE || a == A_COLLECT || a == A_CONSUMED)
				continue;
			printf("  %s %.1f%%", acc_name[a], 100 * median(v, b->runs));
		}
		printf("  other %.1f%%\n", 100 * median(other, b->runs));
	}
}

static void report_seal(const bench *b)
{
	printf("\nseal: plein_journal_seal of %d captured rows at a time (the writes not timed)\n", b->w.chunk);
	printf("%-7s %9s %8s %12s %10s %8s %8s %8s %12s\n", "", "changes", "batches", "changes/s", "batches/s",
	       "git", "enc+sign", "SQLite", "write rows/s");
	for (int sc = 0; sc < NSCEN; sc++) {
		double git[MAXRUNS], enc[MAXRUNS], sql[MAXRUNS];
		for (int r = 0; r < b->runs; r++) {
			const double *a = b->seal_acc[sc][r];
			git[r] = (a[A_GIT_READ] + a[A_GIT_WRITE]) / b->seal[sc][r];
			enc[r] = a[A_ENCODE] / b->seal[sc][r];
			sql[r] = 1 - git[r] - enc[r];
		}
		double cps = med_rate(b, b->seal, sc, (double)b->changes[sc]);
		double bps = med_rate(b, b->seal, sc, (double)b->batches[sc]);
		printf("%-7s %9" PRId64 " %8" PRIu64 " %12.0f %10.1f %7.1f%% %7.1f%% %7.1f%% %12.0f\n", scen_name[sc],
		       b->changes[sc], b->batches[sc], cps, bps, 100 * median(git, b->runs), 100 * median(enc, b->runs),
		       100 * median(sql, b->runs), med_rate(b, b->write, sc, b->w.n));
		printf("RESULT seal_%s_changes_per_s %.0f\n", scen_name[sc], cps);
		printf("RESULT seal_%s_batches_per_s %.1f\n", scen_name[sc], bps);
		printf("RESULT seal_%s_share_git %.3f\n", scen_name[sc], median(git, b->runs));
		printf("RESULT seal_%s_share_encode_sign %.3f\n", scen_name[sc], median(enc, b->runs));
		printf("RESULT seal_%s_share_sqlite %.3f\n", scen_name[sc], median(sql, b->runs));
	}
	printf("SQLite = the rest of the seal: of which (median share of seal time)\n");
	for (int sc = 0; sc < NSCEN; sc++) {
		printf("  %-7s", scen_name[sc]);
		for (int a = A_COLLECT; a < NACC; a++) {
			double v[MAXRUNS];
			for (int r = 0; r < b->runs; r++)
				v[r] = b->seal_acc[sc][r][a] / b->seal[sc][r];
			printf("  %s %.1f%%", acc_name[a], 100 * median(v, b->runs));
		}
		double gr[MAXRUNS];
		for (int r = 0; r < b->runs; r++)
			gr[r] = b->seal_acc[sc][r][A_GIT_READ] / b->seal[sc][r];
		printf("  (git read %.1f%% of it the log reads)\n", 100 * median(gr, b->runs));
	}
}

static void report_sizes(const sizes *zs, const workload *w)
{
	printf("\nlog size per change (run 1; bytes; payload = stored payload blobs, raw = inflated;\n"
	       "TSV = the same changes \"tid id cid cl hlc value\" / the plain rows, zlib level 1, a stream per batch)\n");
	printf("%-8s %9s %8s %8s %8s %8s %8s %8s %8s\n", "", "changes", "du", "loose", "git gc", "payload", "raw",
	       "TSV chg", "TSV rows");
	for (int sc = 0; sc < NSCEN; sc++)
		print_sizes(scen_name[sc], &zs[sc], w->n);
	printf("du: disk blocks of log.git/objects; loose: their apparent size; git gc: after `git gc` (a pack).\n");
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 200000;
	int runs = argc > 2 ? atoi(argv[2]) : 5;
	int chunk = argc > 3 ? atoi(argv[3]) : 10000;
	if (argc > 4 || n < 10 || n > 10000000 || runs < 1 || runs > MAXRUNS || chunk < 1 || chunk > n ||
	    (n + chunk - 1) / chunk > 100000) {
		fprintf(stderr, "usage: sync [ROWS [RUNS [CHUNK]]]  (ROWS 10..10M, default 200000; RUNS 1..%d, default 5;"
			" CHUNK rows per batch, default 10000)\n", MAXRUNS);
		return 1;
	}
	if (sodium_init() < 0)
		return 2;
	bench *b = plein_xcalloc(1, sizeof *b);
	b->runs = runs;
	plein_buf tmp = PLEIN_BUF_INIT;
	plein_buf_printf(&tmp, "%s/plein-bench.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	b->base = plein_xstrdup(plein_buf_cstr(&tmp));
	plein_buf_free(&tmp);
	if (!mkdtemp(b->base)) {
		fprintf(stderr, "bench/sync: mkdtemp %s: %s\n", b->base, strerror(errno));
		return 2;
	}
	b->ddl = visit_ddl(b->base);
	make_workload(&b->w, n, chunk);
	printf("sync benchmark: %d rows of visit (id + 4 columns), %d-row batches, %d runs, SQLite %s\n",
	       n, chunk, runs, sqlite3_libversion());

	sizes zs[NSCEN];
	memset(zs, 0, sizeof zs);
	for (int r = 0; r < runs; r++) {
		run(b, r, r == 0 ? zs : NULL);
		fprintf(stderr, "run %d/%d: apply insert plein %.3f s, sqlite %.3f s; update plein %.3f s, sqlite %.3f s;"
			" seal insert %.3f s, update %.3f s\n", r + 1, runs,
			b->apply_plein[INS][r], b->apply_sqlite[INS][r], b->apply_plein[UPD][r], b->apply_sqlite[UPD][r],
			b->seal[INS][r], b->seal[UPD][r]);
	}
	report_apply(b);
	report_seal(b);
	report_sizes(zs, &b->w);
	printf("session changesets: %.1f bytes per insert row, %.1f per update row (uncompressed)\n",
	       (double)b->cs_bytes[INS] / n, (double)b->cs_bytes[UPD] / n);

	shell("rm -rf '%s'", b->base);
	free(b->base);
	free(b->ddl);
	free(b->w.id);
	free(b->w.at);
	free(b);
	return 0;
}
