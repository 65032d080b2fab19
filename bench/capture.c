/* Capture benchmark (design §3, §10): the same writes to the `visit` table
 * with and without capture, in one process, so every figure is a ratio
 * against a baseline measured in the same run.
 *
 *   plain     the visit table (same DDL, read from a real site) in a
 *             database of its own: no triggers, same pragmas (WAL, NORMAL)
 *   captured  a real plein site (plein_site_create): capture triggers on
 *   session   the plain setup with SQLite's session extension recording the
 *             same writes: the reference a trigger design has to beat
 *
 * Phases, each one transaction of one prepared statement per row: insert
 * ROWS rows, update one column of every row, delete every tenth row. RUNS
 * repetitions rotate the order of the variants; we print medians of rows/s
 * and the median of the per-run ratios (captured time / plain time of the
 * same run, which cancels most of the machine's drift).
 *
 * Then one more captured run measures the capture log with dbstat: bytes
 * per (row, column) of the table and per captured write.
 *
 * The rows (ids) are made once per invocation, so a slow mode that depends
 * on them (SQLite's statement journal moving to a temp file, which we
 * detect and report) tends to show in every run of one invocation and in
 * none of the next: compare invocations, not only runs.
 *
 * Usage: capture [ROWS [RUNS]]   (defaults 200000 and 5)
 * Lines starting with "RESULT name value" are for machines. */
#define SQLITE_ENABLE_SESSION 1
#define SQLITE_ENABLE_PREUPDATE_HOOK 1
#include <sqlite3.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "plein/buf.h"
#include "plein/db.h"
#include "plein/error.h"
#include "plein/id.h"
#include "plein/site.h"

enum { PLAIN, CAPTURED, SESSION, NVARIANT };
enum { INSERT, UPDATE, DELETE, NPHASE };
enum { NCOLS = 4 }; /* visit: location_id, at, daypart, channel */

static const char *variant_name[NVARIANT] = { "plain", "captured", "session" };
static const char *phase_name[NPHASE] = { "insert", "update", "delete" };

/* The rows written, made before any clock starts. */
typedef struct {
	int n;
	char (*id)[PLEIN_ID_LEN + 1];
	char (*at)[24];
	char loc[16][PLEIN_ID_LEN + 1];
} workload;

typedef struct {
	char *base; /* temp dir holding every database of the run */
	char *ddl;  /* CREATE TABLE visit ...; CREATE INDEX ...; from a real site */
	workload w;
	double secs[NVARIANT][NPHASE][64]; /* per run */
	double changeset_secs[64];
	int spilled[NVARIANT][NPHASE]; /* runs whose statement journal went to disk */
	long changeset_bytes;
} bench;

static const char *dayparts[] = { "ochtend", "middag", "avond" };
static const char *channels[] = { "walk_in", "appointment", "phone" };

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench/capture: %s: %s\n", what, plein_error());
	exit(2);
}

static void die_sql(sqlite3 *h, const char *what)
{
	fprintf(stderr, "bench/capture: %s: %s\n", what, sqlite3_errmsg(h));
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

/* Whether this process holds one of SQLite's temporary files (named
 * etilqs_*): inside a write transaction that is the statement journal,
 * which SQLite moves from memory to a file once one statement has
 * journalled 64 KiB, and then writes with two syscalls per page for the
 * rest of the transaction. Linux only; elsewhere it says no. */
static int temp_file_open(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return 0;
	int found = 0;
	struct dirent *e;
	while (!found && (e = readdir(d))) {
		char path[300], target[300];
		snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
		ssize_t n = readlink(path, target, sizeof target - 1);
		if (n > 0) {
			target[n] = 0;
			found = strstr(target, "/etilqs_") != NULL;
		}
	}
	closedir(d);
	return found;
}

static int journal_spilled;

static void commit(sqlite3 *h)
{
	journal_spilled = temp_file_open();
	exec(h, "COMMIT");
}

static void rmtree(const char *dir)
{
	plein_buf b = PLEIN_BUF_INIT;
	plein_buf_printf(&b, "rm -rf '%s'", dir);
	if (system(plein_buf_cstr(&b)) != 0)
		fprintf(stderr, "bench/capture: could not remove %s\n", dir);
	plein_buf_free(&b);
}

/* base/name-run[/file] */
static char *path_in(const bench *b, const char *name, int run, const char *file)
{
	plein_buf p = PLEIN_BUF_INIT;
	plein_buf_printf(&p, "%s/%s-%d", b->base, name, run);
	if (file)
		plein_buf_printf(&p, "/%s", file);
	char *s = plein_xstrdup(plein_buf_cstr(&p));
	plein_buf_free(&p);
	return s;
}

static void make_workload(workload *w, int n)
{
	w->n = n;
	w->id = plein_xmalloc(sizeof *w->id * (size_t)n);
	w->at = plein_xmalloc(sizeof *w->at * (size_t)n);
	for (size_t i = 0; i < sizeof w->loc / sizeof *w->loc; i++)
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

/* The visit table's DDL as a real site has it, so both sides match. */
static char *visit_ddl(const bench *b)
{
	char *dir = path_in(b, "ddl", 0, NULL);
	plein_site *s = NULL;
	if (plein_site_create(&s, dir, "bench") < 0)
		die("creating a site");
	sqlite3 *h = plein_db_handle(s->db);
	sqlite3_stmt *st = prepare(h, "SELECT sql FROM sqlite_schema WHERE tbl_name = 'visit'"
		" AND type IN ('table', 'index') AND sql IS NOT NULL ORDER BY type DESC");
	plein_buf ddl = PLEIN_BUF_INIT;
	while (sqlite3_step(st) == SQLITE_ROW)
		plein_buf_printf(&ddl, "%s;\n", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	plein_site_close(s);
	rmtree(dir);
	free(dir);
	char *out = plein_xstrdup(plein_buf_cstr(&ddl));
	plein_buf_free(&ddl);
	return out;
}

static void phase_insert(sqlite3 *h, const workload *w)
{
	sqlite3_stmt *st = prepare(h, "INSERT INTO visit(id, location_id, at, daypart, channel) VALUES (?1, ?2, ?3, ?4, ?5)");
	exec(h, "BEGIN");
	for (int i = 0; i < w->n; i++) {
		sqlite3_bind_text(st, 1, w->id[i], PLEIN_ID_LEN, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, w->loc[i % 16], PLEIN_ID_LEN, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, w->at[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, dayparts[(i / 200) % 3], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, channels[i % 3], -1, SQLITE_STATIC);
		step_done(h, st);
	}
	commit(h);
	sqlite3_finalize(st);
}

static void phase_update(sqlite3 *h, const workload *w)
{
	sqlite3_stmt *st = prepare(h, "UPDATE visit SET channel = ?2 WHERE id = ?1");
	exec(h, "BEGIN");
	for (int i = 0; i < w->n; i++) {
		sqlite3_bind_text(st, 1, w->id[i], PLEIN_ID_LEN, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, channels[(i + 1) % 3], -1, SQLITE_STATIC);
		step_done(h, st);
	}
	commit(h);
	sqlite3_finalize(st);
}

static void phase_delete(sqlite3 *h, const workload *w)
{
	sqlite3_stmt *st = prepare(h, "DELETE FROM visit WHERE id = ?1");
	exec(h, "BEGIN");
	for (int i = 0; i < w->n; i += 10) {
		sqlite3_bind_text(st, 1, w->id[i], PLEIN_ID_LEN, SQLITE_STATIC);
		step_done(h, st);
	}
	commit(h);
	sqlite3_finalize(st);
}

static void (*const phases[NPHASE])(sqlite3 *, const workload *) = { phase_insert, phase_update, phase_delete };

static int phase_rows(int phase, int n)
{
	return phase == DELETE ? (n + 9) / 10 : n;
}

/* Bytes of the pages of one table or index (dbstat). */
static int64_t table_bytes(sqlite3 *h, const char *name)
{
	sqlite3_stmt *st = prepare(h, "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name = ?1");
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW)
		die_sql(h, "dbstat");
	int64_t n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static int64_t count(sqlite3 *h, const char *sql)
{
	sqlite3_stmt *st = prepare(h, sql);
	if (sqlite3_step(st) != SQLITE_ROW)
		die_sql(h, sql);
	int64_t n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* One database of a run. */
typedef struct {
	char *dir;
	plein_site *site;
	plein_db *db;
	sqlite3_session *sess;
	sqlite3 *h;
} target;

static void target_open(target *t, const bench *b, int variant, int run)
{
	memset(t, 0, sizeof *t);
	t->dir = path_in(b, variant_name[variant], run, NULL);
	if (variant == CAPTURED) {
		if (plein_site_create(&t->site, t->dir, "bench") < 0)
			die("creating a site");
		t->h = plein_db_handle(t->site->db);
		return;
	}
	if (mkdir(t->dir, 0700) != 0) {
		fprintf(stderr, "bench/capture: mkdir %s: %s\n", t->dir, strerror(errno));
		exit(2);
	}
	char *path = path_in(b, variant_name[variant], run, "plein.db");
	if (plein_db_open(&t->db, path, 1) < 0)
		die("opening the plain database");
	free(path);
	t->h = plein_db_handle(t->db);
	exec(t->h, b->ddl);
	if (variant == SESSION &&
	    (sqlite3session_create(t->h, "main", &t->sess) != SQLITE_OK ||
	     sqlite3session_attach(t->sess, "visit") != SQLITE_OK))
		die_sql(t->h, "session");
}

static void target_close(target *t)
{
	if (t->sess)
		sqlite3session_delete(t->sess);
	plein_site_close(t->site);
	plein_db_close(t->db);
	rmtree(t->dir);
	free(t->dir);
}

/* One run: fresh databases for every variant; each phase is run on all
 * of them back to back, in an order that rotates with run and phase, so
 * a slow spell of the machine hits every variant alike. */
static void run(bench *b, int r)
{
	target t[NVARIANT];
	for (int v = 0; v < NVARIANT; v++)
		target_open(&t[v], b, v, r);
	for (int p = 0; p < NPHASE; p++) {
		for (int k = 0; k < NVARIANT; k++) {
			int v = (r + p + k) % NVARIANT;
			double t0 = now();
			phases[p](t[v].h, &b->w);
			b->secs[v][p][r] = now() - t0;
			b->spilled[v][p] += journal_spilled;
		}
	}
	int n = 0;
	void *cs = NULL;
	double t0 = now();
	if (sqlite3session_changeset(t[SESSION].sess, &n, &cs) != SQLITE_OK)
		die_sql(t[SESSION].h, "changeset");
	b->changeset_secs[r] = now() - t0;
	b->changeset_bytes = n;
	sqlite3_free(cs);
	for (int v = 0; v < NVARIANT; v++)
		target_close(&t[v]);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(const double *v, int n)
{
	double s[64];
	memcpy(s, v, sizeof *v * (size_t)n);
	qsort(s, (size_t)n, sizeof *s, cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static double median_rate(const bench *b, int variant, int phase, int runs)
{
	double r[64];
	for (int i = 0; i < runs; i++)
		r[i] = phase_rows(phase, b->w.n) / b->secs[variant][phase][i];
	return median(r, runs);
}

/* Median over runs of (variant time / plain time of the same run). */
static double median_ratio(const bench *b, int variant, int phase, int runs)
{
	double r[64];
	for (int i = 0; i < runs; i++)
		r[i] = b->secs[variant][phase][i] / b->secs[PLAIN][phase][i];
	return median(r, runs);
}

/* The highest per-run ratio: a median hides a slow mode in some runs. */
static double max_ratio(const bench *b, int variant, int phase, int runs)
{
	double m = 0;
	for (int i = 0; i < runs; i++) {
		double r = b->secs[variant][phase][i] / b->secs[PLAIN][phase][i];
		m = r > m ? r : m;
	}
	return m;
}

static double median_total_ratio(const bench *b, int variant, int runs)
{
	double r[64];
	for (int i = 0; i < runs; i++) {
		double v = 0, p = 0;
		for (int ph = 0; ph < NPHASE; ph++) {
			v += b->secs[variant][ph][i];
			p += b->secs[PLAIN][ph][i];
		}
		r[i] = v / p;
	}
	return median(r, runs);
}

/* The capture log's size after each phase, on a site of its own. */
static void measure_metadata(bench *b)
{
	char *dir = path_in(b, "meta", 0, NULL);
	plein_site *s = NULL;
	if (plein_site_create(&s, dir, "bench") < 0)
		die("creating a site");
	sqlite3 *h = plein_db_handle(s->db);
	int64_t before = 0;
	int64_t writes_before = 0;

	printf("\ncapture log (unsealed), from dbstat page sizes:\n");
	printf("%-8s %10s %12s %14s %16s %14s\n", "after", "log rows", "log bytes",
	       "B/(row,col)", "B/captured write", "table B/(row,col)");
	for (int p = 0; p < NPHASE; p++) {
		phases[p](h, &b->w);
		int64_t bytes = table_bytes(h, "plein_capture");
		int64_t writes = count(h, "SELECT count(*) FROM plein_capture");
		int64_t live = count(h, "SELECT count(*) FROM visit");
		int64_t data = table_bytes(h, "visit") + table_bytes(h, "visit_at");
		double per_cell = (double)bytes / (double)(live * NCOLS);
		double per_write = (double)(bytes - before) / (double)(writes - writes_before);
		printf("%-8s %10lld %12lld %14.1f %16.1f %14.1f\n", phase_name[p], (long long)writes,
		       (long long)bytes, per_cell, per_write, (double)data / (double)(live * NCOLS));
		printf("RESULT capture_bytes_per_row_col_after_%s %.1f\n", phase_name[p], per_cell);
		printf("RESULT capture_bytes_per_write_%s %.1f\n", phase_name[p], per_write);
		before = bytes;
		writes_before = writes;
	}
	printf("B/(row,col): log bytes / (rows in visit x %d columns), comparable to per-column\n"
	       "clock tables; B/captured write: growth of the log per row written in that phase.\n"
	       "Sealing (a later step) folds the log into batches and per-column clocks and\n"
	       "empties it, so the log only holds the writes since the last seal.\n", NCOLS);
	plein_site_close(s);
	rmtree(dir);
	free(dir);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 200000;
	int runs = argc > 2 ? atoi(argv[2]) : 5;
	if (argc > 3 || n < 10 || n > 100000000 || runs < 1 || runs > 64) {
		fprintf(stderr, "usage: capture [ROWS [RUNS]]  (ROWS >= 10, default 200000; RUNS 1..64, default 5)\n");
		return 1;
	}

	bench *b = plein_xcalloc(1, sizeof *b);
	plein_buf tmp = PLEIN_BUF_INIT;
	plein_buf_printf(&tmp, "%s/plein-bench.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	b->base = plein_xstrdup(plein_buf_cstr(&tmp));
	plein_buf_free(&tmp);
	if (!mkdtemp(b->base)) {
		fprintf(stderr, "bench/capture: mkdtemp %s: %s\n", b->base, strerror(errno));
		return 2;
	}
	b->ddl = visit_ddl(b);
	make_workload(&b->w, n);

	printf("capture benchmark: %d rows of visit (id + %d columns), %d runs, SQLite %s\n",
	       n, NCOLS, runs, sqlite3_libversion());
	for (int r = 0; r < runs; r++) {
		run(b, r);
		fprintf(stderr, "run %d/%d: insert plain %.3f s, captured %.3f s\n", r + 1, runs,
			b->secs[PLAIN][INSERT][r], b->secs[CAPTURED][INSERT][r]);
	}

	printf("\n%-8s %8s %14s %14s %8s %8s %14s %8s\n", "phase", "rows", "plain rows/s", "captured rows/s",
	       "ratio", "worst", "session rows/s", "ratio");
	for (int p = 0; p < NPHASE; p++) {
		printf("%-8s %8d %14.0f %14.0f %8.2f %8.2f %14.0f %8.2f\n", phase_name[p], phase_rows(p, n),
		       median_rate(b, PLAIN, p, runs), median_rate(b, CAPTURED, p, runs),
		       median_ratio(b, CAPTURED, p, runs), max_ratio(b, CAPTURED, p, runs),
		       median_rate(b, SESSION, p, runs), median_ratio(b, SESSION, p, runs));
	}
	printf("%-8s %8s %14s %14s %8.2f %8s %14s %8.2f\n", "all", "", "", "",
	       median_total_ratio(b, CAPTURED, runs), "", "", median_total_ratio(b, SESSION, runs));
	printf("ratio: median over runs of (time / plain time in the same run); worst: the highest\n"
	       "run; goal: captured <= 1.5\n");
	for (int v = 0; v < NVARIANT; v++)
		for (int p = 0; p < NPHASE; p++)
			if (b->spilled[v][p])
				printf("%s %s: SQLite's statement journal went to a temp file in %d of %d runs\n"
				       "  (a trigger makes every write keep one; on disk it costs two syscalls per\n"
				       "  page for the rest of the transaction: see docs/capture.md, Cost)\n",
				       variant_name[v], phase_name[p], b->spilled[v][p], runs);
	printf("session: in-memory recording only; building its changeset (%ld bytes) took %.3f s more\n",
	       b->changeset_bytes, median(b->changeset_secs, runs));

	for (int p = 0; p < NPHASE; p++) {
		printf("RESULT capture_%s_ratio %.2f\n", phase_name[p], median_ratio(b, CAPTURED, p, runs));
		printf("RESULT capture_%s_ratio_worst %.2f\n", phase_name[p], max_ratio(b, CAPTURED, p, runs));
		printf("RESULT capture_%s_journal_spills %d\n", phase_name[p], b->spilled[CAPTURED][p]);
		printf("RESULT session_%s_ratio %.2f\n", phase_name[p], median_ratio(b, SESSION, p, runs));
		for (int v = 0; v < NVARIANT; v++)
			printf("RESULT %s_%s_rows_per_s %.0f\n", variant_name[v], phase_name[p],
			       median_rate(b, v, p, runs));
	}
	printf("RESULT capture_all_ratio %.2f\n", median_total_ratio(b, CAPTURED, runs));
	printf("RESULT session_all_ratio %.2f\n", median_total_ratio(b, SESSION, runs));

	measure_metadata(b);

	rmtree(b->base);
	free(b->base);
	free(b->ddl);
	free(b->w.id);
	free(b->w.at);
	free(b);
	return 0;
}
