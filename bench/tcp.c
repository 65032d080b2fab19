/* TCP sync benchmark (issue 4, docs/tcp-sync.md): a fresh site pulls a
 * source site's whole log over loopback TCP, against `git clone --bare`
 * of the same log.git measured in the same run.
 *
 *   time   the TCP sync (handshake, transfer, verify, apply) against git
 *          clone of log.git (transfer and indexing only: no verification,
 *          no apply) — a ratio, median of the runs
 *   bytes  on the wire (both ways, handshake included) against the pack
 *          git clone makes of the same log (the compressed log)
 *   rss    peak RSS of the responder (the source) and the initiator
 *   idle   a sync where nothing changed: bytes each way, round trips; at
 *          first contact (XX), and again to the address of the first sync,
 *          whose site the initiator remembers (IK: the goal, 1 round trip)
 *
 * The source holds ROWS visits (4 column changes each), sealed CHUNK rows
 * per batch. Each side runs in its own process (this binary again, by
 * /proc/self/exe), so each one's peak RSS is its own.
 *
 * BENCH_TCP_CACHE_MIB sets the puller's site.daemon_cache_mib (default 16).
 *
 * Usage: tcp [ROWS [RUNS [CHUNK]]]   (defaults 25000, 3, 1000; 250000 rows
 * = 1,000,000 column changes). "RESULT name value" lines are for machines. */
#include <arpa/inet.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "plein/conf.h"
#include "plein/db.h"
#include "plein/digest.h"
#include "plein/error.h"
#include "plein/id.h"
#include "plein/journal.h"
#include "plein/roster.h"
#include "plein/site.h"
#include "plein/tcp.h"

#define MAXRUNS 32

static void die(const char *what)
{
	fprintf(stderr, "bench_tcp: %s: %s\n", what, plein_error());
	exit(2);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}


/* ---- the sites ---- */

static plein_site *new_site(const char *dir, const unsigned char *admin)
{
	plein_site *s = NULL;
	char pk[65];
	if (plein_site_create(&s, dir, "bench") < 0)
		die("creating a site");
	sodium_bin2hex(pk, sizeof pk, admin ? admin : s->pk, 32);
	if (plein_site_local_set(s, "network_name", "Benchnetwerk") < 0 ||
	    plein_site_local_set(s, "network_id", "00112233445566778899aabbccddeeff") < 0 ||
	    plein_site_local_set(s, "admin_pk", pk) < 0)
		die("joining the bench network");
	return s;
}

/* The source (the admin) with rows visits in batches of chunk rows. */
static void make_source(const char *dir, int rows, int chunk)
{
	plein_site *s = new_site(dir, NULL);
	sqlite3 *h = plein_db_handle(s->db);
	sqlite3_stmt *st;
	static const char *const parts[] = { "ochtend", "middag", "avond" };
	static const char *const chans[] = { "walk_in", "appointment", "phone" };
	if (sqlite3_prepare_v2(h, "INSERT INTO visit(id, location_id, at, daypart, channel) VALUES (?1, ?2, ?3, ?4, ?5)",
			       -1, &st, NULL) != SQLITE_OK)
		die("preparing");
	for (int i = 0; i < rows;) {
		uint64_t seq;
		sqlite3_exec(h, "BEGIN", NULL, NULL, NULL);
		for (int k = 0; k < chunk && i < rows; k++, i++) {
			char id[PLEIN_ID_LEN + 1], at[32];
			plein_id_new(id);
			snprintf(at, sizeof at, "2026-%02d-%02dT%02d:%02d:00Z", 1 + i % 12, 1 + i % 28, 8 + i % 10, i % 60);
			sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(st, 2, "01JDLOCATION00000000000000", -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 3, at, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(st, 4, parts[(i / 200) % 3], -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 5, chans[i % 3], -1, SQLITE_STATIC);
			if (sqlite3_step(st) != SQLITE_DONE)
				die("inserting");
			sqlite3_reset(st);
		}
		sqlite3_exec(h, "COMMIT", NULL, NULL, NULL);
		if (plein_journal_seal(s, &seq) < 0)
			die("sealing");
	}
	sqlite3_finalize(st);
	plein_site_close(s);
}

/* A fresh site of the source's network, admitted there. */
static void make_dest(const char *dir, const char *src)
{
	plein_site *s, *a;
	if (plein_site_open(&a, src) < 0)
		die("opening the source");
	s = new_site(dir, a->pk);
	if (plein_db_begin(a->db) < 0 || plein_roster_admit(a, s->id, s->pk, "Bench", "branch", NULL) < 0 ||
	    plein_db_commit(a->db) < 0)
		die("admitting");
	uint64_t seq;
	if (plein_journal_seal(a, &seq) < 0)
		die("sealing the admission");
	plein_site_close(a);
	/* BENCH_TCP_CACHE_MIB=64: pull with db.c's cache, as before the pull
	 * took the daemon's 16 MiB, for a comparison in the same run. */
	const char *mib = getenv("BENCH_TCP_CACHE_MIB");
	if (mib) {
		plein_conf_set(s->conf, "site.daemon_cache_mib", mib);
		if (plein_site_save_conf(s) < 0)
			die("saving plein.conf");
	}
	plein_site_close(s);
}

/* ---- the two sides, each its own process ---- */

/* Peak RSS of this process in KiB. VmHWM, not ru_maxrss: the latter
 * carries the forking parent's peak across exec. */
static long peak_rss(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, "VmHWM:", 6) == 0)
			kib = atol(line + 6);
	if (f)
		fclose(f);
	return kib;
}

static struct event_base *base;
static plein_tcp_result last;

static void served(plein_tcp_result *r, void *arg)
{
	(void)arg;
	last = *r;
	memset(&r->ingest, 0, sizeof r->ingest);
	event_base_loopexit(base, NULL);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len, void *arg)
{
	(void)l;
	(void)sa;
	(void)len;
	if (plein_tcp_accept(base, arg, fd, NULL, served, NULL) < 0)
		die("accepting");
}

/* serve DIR PORTFILE [PORT]: one session as the responder (on PORT, or
 * any free port). */
static int serve(const char *dir, const char *portfile, int port)
{
	plein_site *s;
	if (plein_site_open(&s, dir) < 0)
		die("opening");
	base = event_base_new();
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	struct evconnlistener *l = evconnlistener_new_bind(base, on_accept, s, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 4,
							   (struct sockaddr *)&sin, sizeof sin);
	if (!l)
		die("listening");
	socklen_t n = sizeof sin;
	getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&sin, &n);
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp", portfile);
	FILE *f = fopen(tmp, "w");
	fprintf(f, "%d\n", ntohs(sin.sin_port));
	fclose(f);
	rename(tmp, portfile);
	event_base_dispatch(base);
	evconnlistener_free(l);
	event_base_free(base);
	plein_site_close(s);
	snprintf(tmp, sizeof tmp, "%s.rss", portfile);
	if ((f = fopen(tmp, "w"))) {
		fprintf(f, "%ld\n", peak_rss());
		fclose(f);
	}
	if (last.rc)
		fprintf(stderr, "bench_tcp: serving: %s\n", last.error);
	return last.rc ? 2 : 0;
}

/* pull DIR PORT OUTFILE: one sync as the initiator; the result goes to
 * OUTFILE as "bytes_in bytes_out batches_in round_trips". */
static int pull(const char *dir, const char *port, const char *out)
{
	plein_site *s;
	plein_tcp_result r;
	char hp[64];
	if (plein_site_open(&s, dir) < 0)
		die("opening");
	snprintf(hp, sizeof hp, "127.0.0.1:%s", port);
	if (plein_tcp_sync(&r, s, hp) < 0)
		die("syncing");
	plein_tcp_result_free(&r);
	plein_site_close(s);
	FILE *f = fopen(out, "w");
	fprintf(f, "%" PRIu64 " %" PRIu64 " %zu %u %ld\n", r.bytes_in, r.bytes_out, r.batches_in, r.round_trips, peak_rss());
	fclose(f);
	return 0;
}

/* ---- the run ---- */

struct sync_run {
	double secs;
	long rss_serve, rss_pull; /* KiB */
	uint64_t bytes_in, bytes_out;
	size_t batches;
	unsigned round_trips;
	int port;                 /* where the responder listened */
};

static pid_t spawn(char *const argv[])
{
	pid_t p = fork();
	if (p == 0) {
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	return p;
}

/* One sync of dst from src, the responder on port (0: any). */
static void one_sync(struct sync_run *out, const char *src, const char *dst, const char *tmp, int on_port)
{
	char portfile[4096], resfile[4200], port[32] = "", want[32];
	snprintf(portfile, sizeof portfile, "%s/port", tmp);
	snprintf(resfile, sizeof resfile, "%s/result", tmp);
	snprintf(want, sizeof want, "%d", on_port);
	unlink(portfile);
	char *sargv[] = { "bench_tcp", "serve", (char *)src, portfile, want, NULL };
	pid_t ps = spawn(sargv);
	for (int i = 0; i < 2000; i++) {
		FILE *f = fopen(portfile, "r");
		if (f) {
			if (fgets(port, sizeof port, f))
				port[strcspn(port, "\n")] = 0;
			fclose(f);
			break;
		}
		usleep(5000);
	}
	out->port = atoi(port);
	double t0 = now();
	char *pargv[] = { "bench_tcp", "pull", (char *)dst, port, resfile, NULL };
	pid_t pp = spawn(pargv);
	int st1, st2;
	struct rusage ru1, ru2;
	wait4(pp, &st1, 0, &ru1);
	out->secs = now() - t0;
	wait4(ps, &st2, 0, &ru2);
	if (!WIFEXITED(st1) || WEXITSTATUS(st1) || !WIFEXITED(st2) || WEXITSTATUS(st2)) {
		fprintf(stderr, "bench_tcp: a side failed (pull: %d, serve: %d)\n", st1, st2);
		exit(2);
	}
	(void)ru1;
	(void)ru2;
	FILE *f = fopen(resfile, "r");
	if (!f || fscanf(f, "%" SCNu64 " %" SCNu64 " %zu %u %ld", &out->bytes_in, &out->bytes_out, &out->batches,
			 &out->round_trips, &out->rss_pull) != 5)
		exit(2);
	fclose(f);
	snprintf(resfile, sizeof resfile, "%s.rss", portfile);
	if (!(f = fopen(resfile, "r")) || fscanf(f, "%ld", &out->rss_serve) != 1)
		exit(2);
	fclose(f);
}

static void digest_of(const char *dir, char out[65])
{
	plein_site *s;
	if (plein_site_open(&s, dir) < 0 || plein_digest_hex(s->db, out) < 0)
		die("digest");
	plein_site_close(s);
}

static long pack_bytes(const char *repo)
{
	char cmd[5000];
	snprintf(cmd, sizeof cmd, "du -cb %s/objects/pack/*.pack | tail -1", repo);
	FILE *p = popen(cmd, "r");
	long n = 0;
	if (!p || fscanf(p, "%ld", &n) != 1)
		n = -1;
	if (p)
		pclose(p);
	return n;
}

int main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 2;
	if (argc >= 4 && strcmp(argv[1], "serve") == 0)
		return serve(argv[2], argv[3], argc >= 5 ? atoi(argv[4]) : 0);
	if (argc >= 5 && strcmp(argv[1], "pull") == 0)
		return pull(argv[2], argv[3], argv[4]);
	int rows = argc > 1 ? atoi(argv[1]) : 25000;
	int runs = argc > 2 ? atoi(argv[2]) : 3;
	int chunk = argc > 3 ? atoi(argv[3]) : 1000;
	if (rows < 1 || runs < 1 || runs > MAXRUNS || chunk < 1)
		return fprintf(stderr, "usage: tcp [ROWS [RUNS [CHUNK]]]\n"), 1;
	char tmp[] = "/tmp/bench-tcp.XXXXXX", src[4200], dst[4200], clone[4200], log[4200];
	if (!mkdtemp(tmp))
		return 2;
	snprintf(src, sizeof src, "%s/src", tmp);
	snprintf(log, sizeof log, "%s/src/log.git", tmp);
	printf("source: %d visits (%d column changes) in batches of %d rows\n", rows, rows * 4, chunk);
	fflush(stdout);
	double t_make = now();
	make_source(src, rows, chunk);
	printf("(made in %.1f s)\n", now() - t_make);
	fflush(stdout);
	double t_tcp[MAXRUNS], t_git[MAXRUNS], ratio[MAXRUNS], rss_serve[MAXRUNS], rss_pull[MAXRUNS];
	struct sync_run r, idle_xx, idle;
	int first_port = 0;
	long pack = 0;
	char ds[65], dd[65];
	for (int k = 0; k < runs; k++) {
		snprintf(dst, sizeof dst, "%s/dst%d", tmp, k);
		snprintf(clone, sizeof clone, "%s/clone%d.git", tmp, k);
		make_dest(dst, src);
		digest_of(src, ds);
		/* Alternate which goes first. */
		for (int pass = 0; pass < 2; pass++) {
			if ((pass == 0) == (k % 2 == 0)) {
				one_sync(&r, src, dst, tmp, 0);
				t_tcp[k] = r.secs;
				if (k == 0)
					first_port = r.port;
				rss_serve[k] = (double)r.rss_serve;
				rss_pull[k] = (double)r.rss_pull;
			} else {
				char cmd[10000];
				snprintf(cmd, sizeof cmd, "git clone -q --bare --mirror 'file://%s' '%s'", log, clone);
				double t0 = now();
				if (system(cmd) != 0)
					return 2;
				t_git[k] = now() - t0;
			}
		}
		ratio[k] = t_tcp[k] / t_git[k];
		pack = pack_bytes(clone);
		digest_of(dst, dd);
		if (strcmp(ds, dd) != 0) {
			fprintf(stderr, "bench_tcp: the pulled site's digest differs from the source's\n");
			return 2;
		}
		if (k == 0) {
			one_sync(&idle_xx, src, dst, tmp, 0);      /* a new address: XX */
			one_sync(&idle, src, dst, tmp, first_port); /* the site it knows: IK */
		}
	}
	uint64_t wire = r.bytes_in + r.bytes_out;
	printf("tcp sync   %.3f s (median), %zu batches, %.0f column changes/s\n", median(t_tcp, runs), r.batches,
	       rows * 4 / median(t_tcp, runs));
	printf("git clone  %.3f s (median)\n", median(t_git, runs));
	printf("ratio      tcp / git clone = %.2f (median of per-run ratios)\n", median(ratio, runs));
	printf("wire       %" PRIu64 " bytes (in %" PRIu64 ", out %" PRIu64 "); git's pack %ld bytes; ratio %.3f\n", wire,
	       r.bytes_in, r.bytes_out, pack, (double)wire / (double)pack);
	long rs = (long)median(rss_serve, runs), rp = (long)median(rss_pull, runs);
	printf("peak RSS   responder %ld KiB, initiator %ld KiB (medians)\n", rs, rp);
	printf("no change  %" PRIu64 " bytes out, %" PRIu64 " in, %u round trip(s), handshake included (IK: a known site)\n",
	       idle.bytes_out, idle.bytes_in, idle.round_trips);
	printf("           %" PRIu64 " bytes out, %" PRIu64 " in, %u round trips at first contact (XX)\n", idle_xx.bytes_out,
	       idle_xx.bytes_in, idle_xx.round_trips);
	printf("RESULT tcp_over_git_clone %.3f\nRESULT wire_over_pack %.3f\nRESULT rss_responder_kib %ld\n"
	       "RESULT rss_initiator_kib %ld\nRESULT idle_bytes_out %" PRIu64 "\nRESULT idle_bytes_in %" PRIu64 "\n"
	       "RESULT idle_round_trips %u\nRESULT idle_xx_bytes_out %" PRIu64 "\nRESULT idle_xx_bytes_in %" PRIu64 "\n"
	       "RESULT idle_xx_round_trips %u\n",
	       median(ratio, runs), (double)wire / (double)pack, rs, rp, idle.bytes_out, idle.bytes_in,
	       idle.round_trips, idle_xx.bytes_out, idle_xx.bytes_in, idle_xx.round_trips);
	char rm[200];
	snprintf(rm, sizeof rm, "rm -rf '%s'", tmp);
	return system(rm) == 0 ? 0 : 2;
}
