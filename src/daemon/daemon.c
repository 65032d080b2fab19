/* plein serve: one libevent base, one thread. A tick (every TICK_MS)
 * notices local changes, seals them and starts the syncs that are due;
 * the listener hands accepted sockets to plein_tcp; signals stop it.
 *
 * Any writer is noticed, a sqlite3 shell too: PRAGMA data_version on the
 * daemon's own connection changes when another connection has committed.
 * Then captured writes are sealed and, when the version vector moved, the
 * peers that lack it are due at once. Writes through the HTTP face share
 * the daemon's connection, so they say so through on_write. */
#include "daemon_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "plein/buf.h"
#include "plein/capture.h"
#include "plein/erase.h"
#include "plein/error.h"
#include "plein/http.h"
#include "plein/journal.h"
#include "plein/repack.h"
#include "plein/retention.h"
#include "plein/log.h"

#define TICK_MS 250
#define STOP_GRACE 10.0 /* seconds a stop waits for running syncs */

double daemon_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the version vector and local changes ---- */

int daemon_vector(srv *d, unsigned char out[16])
{
	plein_log_ref *tips = NULL;
	size_t n = 0;
	int rc = plein_log_tips(&tips, &n, d->s->log);
	if (rc < 0)
		return rc;
	crypto_generichash_state h;
	crypto_generichash_init(&h, NULL, 0, 16);
	for (size_t i = 0; i < n; i++)
		crypto_generichash_update(&h, (const unsigned char *)tips[i].commit, sizeof tips[i].commit);
	crypto_generichash_final(&h, out, 16);
	free(tips);
	return 0;
}

void daemon_local_check(srv *d, int force)
{
	int64_t v = 0;
	if (plein_db_int(d->s->db, &v, "PRAGMA data_version", NULL) < 0) {
		plein_dlog_warn("cannot read the replica's data_version: %s", plein_error());
		return;
	}
	if (!force && v == d->data_version && !d->changed && !d->seal_failed)
		return;
	d->data_version = v;
	d->changed = 0;
	int64_t pending = 0;
	if (plein_capture_pending(d->s->db, &pending) == 0 && pending > 0 && !plein_journal_paused(d->s)) {
		uint64_t seq = 0;
		if (plein_journal_seal(d->s, &seq) < 0) {
			if (!d->seal_failed)
				plein_dlog_warn("%lld changes are saved but not sealed yet: %s; trying again", (long long)pending,
						plein_error());
			d->seal_failed = 1;
		} else {
			if (d->seal_failed)
				plein_dlog_info("sealing works again");
			d->seal_failed = 0;
			if (seq)
				plein_dlog_info("sealed %lld changes as batch %llu", (long long)pending, (unsigned long long)seq);
		}
	}
	unsigned char fp[16];
	if (daemon_vector(d, fp) < 0) {
		plein_dlog_warn("cannot read the version vector: %s", plein_error());
		return;
	}
	if (memcmp(fp, d->vector, sizeof fp) != 0) {
		memcpy(d->vector, fp, sizeof fp);
		plein_dlog_debug("the version vector moved");
		/* The log is the truth: a writer killed between storing batches
		 * and applying them (a sync stopped, kill -9) left the replica
		 * behind; bring it up to date before passing anything on. */
		uint64_t applied = 0;
		if (plein_journal_catch_up(d->s, &applied) < 0)
			plein_dlog_warn("cannot apply what the log holds: %s", plein_error());
		else if (applied)
			plein_dlog_info("applied %llu batches the log held and the replica lacked", (unsigned long long)applied);
		peers_vector_changed(d);
	}
}

/* Personal data past its retention period goes on a site that only runs
 * the daemon (and the HTTP face) too, not just at the next plein command:
 * every [retention] check_every seconds (600). Like main.c: erase, seal
 * the erasure, purge the stored parts (docs/erasure.md). */

static void daemon_retention(srv *d)
{
	double now = daemon_now();
	if (now < d->retention_at)
		return;
	int every = plein_conf_get_int(d->s->conf, "retention.check_every", 600);
	d->retention_at = now + (every > 0 ? every : 600);
	size_t n = 0;
	if (plein_retention_run(d->s, &n) < 0) {
		plein_dlog_warn("retention: %s; trying again later", plein_error());
		return;
	}
	if (!n)
		return;
	plein_dlog_info("retention: erased the personal data of %zu record%s", n, n == 1 ? "" : "s");
	daemon_local_check(d, 1);
	if (!d->seal_failed && !plein_journal_paused(d->s) && plein_erase_apply(d->s, NULL) < 0)
		plein_dlog_warn("retention: the erased values are not purged from log.git yet: %s", plein_error());
}

/* A daemon that syncs only over TCP runs no 'plein sync', so nothing else
 * would keep its log.git compact: every batch it seals or receives leaves
 * loose objects or a small pack. Every [log] check_every seconds (60),
 * when no session or git child is using log.git, it repacks past [log]
 * maxpacks or maxloose; the next tick opens log.git afresh (log_refresh). */
static void daemon_repack(srv *d)
{
	double now = daemon_now();
	if (now < d->repack_at || d->incoming || d->outgoing || d->git)
		return;
	int every = plein_conf_get_int(d->s->conf, "log.check_every", 60);
	d->repack_at = now + (every > 0 ? every : 60);
	plein_repack_report rr;
	if (plein_site_repack(&rr, d->s) < 0)
		plein_dlog_warn("repacking log.git: %s; trying again later", plein_error());
	else if (rr.packs_after != rr.packs_before || rr.loose_removed)
		plein_dlog_info("log.git repacked: %zu packs and %zu loose objects became %zu pack%s", rr.packs_before,
				rr.loose_removed, rr.packs_after, rr.packs_after == 1 ? "" : "s");
}

static void on_http_write(void *arg)
{
	srv *d = arg;
	d->changed = 1;
}

/* ---- stopping ---- */

static void stop_listening(srv *d)
{
	if (d->listener)
		evconnlistener_free(d->listener);
	d->listener = NULL;
	if (d->http)
		plein_http_free(d->http);
	d->http = NULL;
}

static void check_stopped(srv *d)
{
	int busy = (d->git != NULL) + d->incoming + d->outgoing;
	if (busy == 0) {
		event_base_loopexit(d->base, NULL);
		return;
	}
	if (daemon_now() > d->stop_at && !d->git) {
		plein_dlog_warn("%d TCP session%s still open after %.0f s; stopping anyway", d->incoming + d->outgoing,
				d->incoming + d->outgoing == 1 ? "" : "s", STOP_GRACE);
		event_base_loopexit(d->base, NULL);
	}
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	srv *d = arg;
	if (sig == SIGCHLD) {
		if (d->git)
			child_reap(d->git);
		if (d->stopping)
			check_stopped(d);
		return;
	}
	const char *name = sig == SIGTERM ? "SIGTERM" : "SIGINT";
	if (d->stopping) {
		plein_dlog_warn("%s again: stopping now", name);
		if (d->git)
			child_kill(d->git, SIGKILL);
		d->stop_at = 0;
		return;
	}
	d->stopping = 1;
	d->stop_at = daemon_now() + STOP_GRACE;
	int busy = (d->git != NULL) + d->incoming + d->outgoing;
	if (busy)
		plein_dlog_info("%s: stopping; waiting for %d running sync%s to finish", name, busy, busy == 1 ? "" : "s");
	else
		plein_dlog_info("%s: stopping", name);
	stop_listening(d);
	/* Every TCP session ends now, ours and the peers': what arrived whole
	 * is kept, a transfer cut short resumes at the next sync. */
	plein_tcp_stop(d->base);
	check_stopped(d);
}

/* ---- the tick ---- */

/* A repack by another process (a 'plein sync', the git sync's child)
 * deletes packs this process's libgit2 holds open and mapped: the objects
 * are still found, but the space of the deleted files is not freed while
 * the daemon runs, and each repack adds to it. So when the pack directory
 * changed, log.git is opened afresh (cheap; sessions hold no libgit2
 * object between callbacks). */
static void log_refresh(srv *d)
{
	char *packs = plein_site_path(d->s, "log.git/objects/pack"), *path = plein_site_path(d->s, "log.git");
	struct stat st;
	plein_log *fresh = NULL;
	if (stat(packs, &st) == 0 && (st.st_mtim.tv_sec != d->packs_mtime.tv_sec ||
				      st.st_mtim.tv_nsec != d->packs_mtime.tv_nsec)) {
		if (plein_log_open(&fresh, path, 0) == 0) {
			plein_log_close(d->s->log);
			d->s->log = fresh;
			d->packs_mtime = st.st_mtim;
		} else { /* the old one still works: try again at the next tick */
			plein_dlog_warn("cannot open log.git afresh after a repack: %s", plein_error());
		}
	}
	free(packs);
	free(path);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	srv *d = arg;
	if (d->stopping) {
		peers_run(d); /* watches a git sync that should end */
		check_stopped(d);
		return;
	}
	peers_load(d);
	log_refresh(d);
	daemon_local_check(d, 0);
	daemon_retention(d);
	daemon_repack(d);
	peers_run(d);
}

/* ---- incoming peers ---- */

static void in_unlink(in_sess *in)
{
	*in->prev = in->next;
	if (in->next)
		in->next->prev = in->prev;
	free(in);
}

static void in_done(plein_tcp_result *r, void *arg)
{
	in_sess *in = arg;
	srv *d = in->d;
	in_unlink(in);
	peers_incoming_done(d, r);
	if (d->stopping)
		check_stopped(d);
}

static void addr_text(char *out, size_t n, const struct sockaddr *sa)
{
	char host[64] = "?";
	int port = 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		evutil_inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
		port = ntohs(in->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		evutil_inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
		port = ntohs(in6->sin6_port);
	}
	snprintf(out, n, sa->sa_family == AF_INET6 ? "[%s]:%d" : "%s:%d", host, port);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
	srv *d = arg;
	char from[80];
	addr_text(from, sizeof from, sa);
	if (d->incoming >= d->max_conn) {
		evutil_closesocket(fd);
		/* A flood must not flood the log: one line per 10 s. */
		d->refused++;
		if (daemon_now() - d->refused_logged >= 10) {
			plein_dlog_warn("refused %u connection%s (last from %s): %d peers are connected, the most allowed "
					"(site.max_connections)", d->refused, d->refused == 1 ? "" : "s", from, d->incoming);
			d->refused = 0;
			d->refused_logged = daemon_now();
		}
		return;
	}
	plein_dlog_debug("a peer connected from %s", from);
	/* Counted and linked before: the session may end before accept returns. */
	in_sess *in = plein_xcalloc(1, sizeof *in);
	in->d = d;
	in->fd = fd;
	in->next = d->ins;
	in->prev = &d->ins;
	if (d->ins)
		d->ins->prev = &in->next;
	d->ins = in;
	d->incoming++;
	if (plein_tcp_accept(d->base, d->s, fd, &d->lim, in_done, in) < 0) {
		in_unlink(in);
		d->incoming--;
		plein_dlog_warn("a peer from %s: %s", from, plein_error());
		/* plein_tcp may have closed it already (with its session); no
		 * descriptor was opened since, so a closed fd fails F_GETFD. */
		if (fcntl(fd, F_GETFD) != -1)
			evutil_closesocket(fd);
	}
}

static void on_listen_error(struct evconnlistener *l, void *arg)
{
	int e = EVUTIL_SOCKET_ERROR();
	plein_dlog_error("accepting peers failed: %s; trying on", evutil_socket_error_to_string(e));
}

/* "IPv4:PORT" or "[IPv6]:PORT"; port 0 asks for any free port (libevent's
 * own parser refuses 0). */
static int parse_addr(struct sockaddr_storage *ss, int *len, const char *addr)
{
	char host[64];
	const char *colon = strrchr(addr, ':');
	if (!colon || colon == addr || (size_t)(colon - addr) >= sizeof host)
		return -1;
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = 0;
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || port < 0 || port > 65535)
		return -1;
	memset(ss, 0, sizeof *ss);
	size_t hl = strlen(host);
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
		host[hl - 1] = 0;
		if (evutil_inet_pton(AF_INET6, host + 1, &in6->sin6_addr) != 1)
			return -1;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*len = sizeof *in6;
		return 0;
	}
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	if (evutil_inet_pton(AF_INET, host, &in->sin_addr) != 1)
		return -1;
	in->sin_family = AF_INET;
	in->sin_port = htons((uint16_t)port);
	*len = sizeof *in;
	return 0;
}

static int start_listener(srv *d, const char *addr)
{
	struct sockaddr_storage ss;
	int len = 0;
	if (parse_addr(&ss, &len, addr) < 0)
		return plein_fail(PLEIN_EINVAL, "'%s' is not HOST:PORT with a numeric host (e.g. 127.0.0.1:7420; port 0: any free port)", addr);
	d->listener = evconnlistener_new_bind(d->base, on_accept, d,
		LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, 64, (struct sockaddr *)&ss, len);
	if (!d->listener)
		return plein_fail(PLEIN_ERR, "cannot listen on %s: %s (is another plein serve running there?)", addr,
				  evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	evconnlistener_set_error_cb(d->listener, on_listen_error);
	struct sockaddr_storage bound;
	socklen_t blen = sizeof bound;
	char text[80];
	if (getsockname(evconnlistener_get_fd(d->listener), (struct sockaddr *)&bound, &blen) == 0)
		addr_text(text, sizeof text, (struct sockaddr *)&bound);
	else
		snprintf(text, sizeof text, "%s", addr);
	plein_dlog_info("listening for peers on %s", text);
	return 0;
}

/* ---- setup ---- */

static int setting(const plein_site *s, const char *key, int given, int dflt, int lo, int hi)
{
	int v = given ? given : plein_conf_get_int(s->conf, key, dflt);
	if (v < lo || v > hi) {
		plein_dlog_warn("plein.conf %s = %d is out of range (%d..%d); using %d", key, v, lo, hi, dflt);
		v = dflt;
	}
	return v;
}

/* NULL or "" or "none" in plein.conf: not wanted. */
static const char *address(const plein_site *s, const char *given, const char *key)
{
	const char *a = given ? given : plein_conf_get(s->conf, key);
	return a && *a && strcmp(a, "none") != 0 ? a : NULL;
}

static void cleanup(srv *d)
{
	stop_listening(d);
	if (d->tick)
		event_free(d->tick);
	for (int i = 0; i < 3; i++)
		if (d->sig[i])
			event_free(d->sig[i]);
	peers_free(d);
	if (d->base)
		event_base_free(d->base);
}

int plein_daemon_run(plein_site *s, const plein_daemon_opts *o)
{
	srv dd, *d = &dd;
	memset(d, 0, sizeof *d);
	d->s = s;
	d->exe = o->exe;
	d->conf_size = -1;
	d->interval = setting(s, "site.sync_interval", o->interval, 30, 1, 86400);
	d->max_conn = setting(s, "site.max_connections", o->max_connections, 32, 1, 10000);
	d->sync_timeout = setting(s, "site.sync_timeout", 0, 600, 5, 86400);
	/* The daemon lives for days and applies one batch per transaction:
	 * 16 MiB of page cache keeps its memory bounded while a peer streams
	 * a whole log in (issue 4: under 64 MiB). The 64 MiB of db.c is for
	 * one-shot commands that write large transactions. */
	int cache_mib = setting(s, "site.daemon_cache_mib", 0, 16, 2, 1024);
	if (plein_db_cache_size(s->db, -cache_mib * 1024, NULL) < 0)
		return plein_error_code();
	d->backoff_base = 1;
	d->backoff_max = setting(s, "site.backoff_max", 0, 300, 1, 86400);
	plein_tcp_limits_default(&d->lim);
	d->lim.idle_ms = setting(s, "site.tcp_idle", 0, d->lim.idle_ms / 1000, 1, 3600) * 1000;
	if (sodium_init() < 0)
		return plein_fail(PLEIN_ERR, "libsodium cannot start");
	if (!plein_site_log(s))
		return plein_error_code();

	int rc = 0;
	signal(SIGPIPE, SIG_IGN); /* a peer hanging up is an error return, not a death */
	struct event_config *cfg = event_config_new();
	d->base = cfg ? event_base_new_with_config(cfg) : NULL;
	if (cfg)
		event_config_free(cfg);
	if (!d->base)
		return plein_fail(PLEIN_ERR, "cannot start the event loop (libevent)");
	int sigs[3] = { SIGTERM, SIGINT, SIGCHLD };
	for (int i = 0; i < 3; i++) {
		d->sig[i] = evsignal_new(d->base, sigs[i], on_signal, d);
		if (!d->sig[i] || event_add(d->sig[i], NULL) < 0) {
			rc = plein_fail(PLEIN_ERR, "cannot catch signal %d", sigs[i]);
			goto done;
		}
	}
	struct timeval tv = { 0, TICK_MS * 1000 };
	d->tick = event_new(d->base, -1, EV_PERSIST, on_tick, d);
	if (!d->tick || event_add(d->tick, &tv) < 0) {
		rc = plein_fail(PLEIN_ERR, "cannot start the daemon's timer");
		goto done;
	}

	const char *listen = address(s, o->listen, "site.listen");
	if (listen && (rc = start_listener(d, listen)) < 0)
		goto done;
	const char *http = address(s, o->http, "site.http");
	if (http) {
		plein_http_opts ho = { .listen = http, .on_write = on_http_write, .arg = d };
		plein_http *h = NULL;
		if ((rc = plein_http_start(&h, d->base, s, &ho)) < 0) {
			rc = plein_fail(rc, "--http %s: %s", http, plein_error());
			goto done;
		}
		d->http = h;
		plein_dlog_info("HTTP on http://%s/", plein_http_address(h));
	}

	peers_load(d);
	daemon_local_check(d, 1); /* seal what waited; every peer is due now */
	plein_dlog_info("plein serve: site %s (%s), %zu peer%s, sync every %d s%s", plein_site_name(s), s->id, d->npeers,
			d->npeers == 1 ? "" : "s", d->interval, listen ? "" : ", no TCP listener");
	if (event_base_dispatch(d->base) < 0)
		rc = plein_fail(PLEIN_ERR, "the event loop failed");
	if (d->git) { /* stopped in a hurry: make sure it is gone */
		child_abandon(d->git);
		d->git = NULL;
	}
	if (rc == 0)
		plein_dlog_info("stopped");
done:
	cleanup(d);
	return rc;
}
