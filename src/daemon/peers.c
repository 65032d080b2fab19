/* The configured peers: when to sync with each, how, and what came of it.
 *
 * A peer is due on a schedule (the interval, with a tenth of jitter), when
 * our version vector moves past what it last saw (a local change, or
 * batches from another peer to pass on), and after a failure when its
 * back-off runs out. Git remotes and sticks are synced by a child process
 * ('plein -C DIR sync NAME', the very code of the command), one at a time:
 * a git server that hangs or a slow stick never stalls the loop, the child
 * can be stopped when it takes too long, and what libgit2 holds in memory
 * goes away with it. TCP peers are sessions on the loop (plein_tcp). */
#include "daemon_int.h"

#include <errno.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "plein/buf.h"
#include "plein/error.h"
#include "plein/journal.h"
#include "plein/log.h"
#include "plein/peer.h"
#include "plein/remote.h"

double plein_daemon_backoff(unsigned failures, double base, double max, double r)
{
	double d = base;
	for (unsigned i = 1; i < failures && d < max; i++)
		d *= 2;
	if (d > max)
		d = max;
	return d / 2 + d / 2 * r;
}

static double rnd(void)
{
	return (double)randombytes_uniform(1u << 30) / (double)(1u << 30);
}

/* ---- the list, from plein.conf ---- */

static peer *peer_new(srv *d, const char *name, const char *url)
{
	peer *p = plein_xcalloc(1, sizeof *p);
	p->d = d;
	p->name = plein_xstrdup(name);
	p->url = plein_xstrdup(url);
	if (strncmp(url, "tcp://", 6) == 0) {
		p->kind = PEER_TCP;
		p->path = plein_xstrdup(url + 6); /* HOST:PORT */
		size_t n = strlen(p->path);
		while (n && p->path[n - 1] == '/')
			p->path[--n] = 0;
	} else if ((p->path = plein_remote_local_path(url)) != NULL) {
		p->kind = PEER_LOCAL;
	} else {
		p->kind = PEER_GIT;
	}
	p->due = daemon_now();
	return p;
}

static void peer_free(peer *p)
{
	free(p->name);
	free(p->url);
	free(p->path);
	free(p);
}

static void drop_gone(srv *d)
{
	size_t k = 0;
	for (size_t i = 0; i < d->npeers; i++) {
		if (!d->peers[i]->seen && !d->peers[i]->busy) {
			plein_dlog_info("peer %s: removed from plein.conf", d->peers[i]->name);
			peer_free(d->peers[i]);
		} else {
			d->peers[k++] = d->peers[i];
		}
	}
	d->npeers = k;
}

int peers_load(srv *d)
{
	char *path = plein_site_path(d->s, "plein.conf");
	struct stat st;
	if (stat(path, &st) == 0) {
		if (st.st_mtim.tv_sec == d->conf_mtime.tv_sec && st.st_mtim.tv_nsec == d->conf_mtime.tv_nsec &&
				st.st_size == d->conf_size) {
			free(path);
			return 0;
		}
		d->conf_mtime = st.st_mtim;
		d->conf_size = st.st_size;
	}
	plein_conf *c = NULL;
	int rc = plein_conf_load(&c, path);
	free(path);
	if (rc < 0) {
		plein_dlog_warn("plein.conf: %s; keeping the peers as they were", plein_error());
		return rc;
	}
	for (size_t i = 0; i < d->npeers; i++)
		d->peers[i]->seen = 0;
	const char *name;
	for (int i = 0; (name = plein_conf_subsection(c, "peer", i)) != NULL; i++) {
		char key[128];
		snprintf(key, sizeof key, "peer.%s.url", name);
		const char *url = plein_conf_get(c, key);
		if (!url || !*url)
			continue;
		peer *p = NULL;
		for (size_t k = 0; k < d->npeers && !p; k++)
			if (strcmp(d->peers[k]->name, name) == 0 && strcmp(d->peers[k]->url, url) == 0 && d->peers[k]->seen == 0)
				p = d->peers[k];
		if (!p) {
			p = peer_new(d, name, url);
			d->peers = plein_xrealloc(d->peers, (d->npeers + 1) * sizeof *d->peers);
			d->peers[d->npeers++] = p;
			plein_dlog_info("peer %s: %s", name, url);
		}
		p->seen = 1;
	}
	plein_conf_free(c);
	drop_gone(d);
	return 0;
}

void peers_free(srv *d)
{
	for (size_t i = 0; i < d->npeers; i++)
		peer_free(d->peers[i]);
	free(d->peers);
	d->peers = NULL;
	d->npeers = 0;
}

/* ---- outcomes ---- */

/* A peer gave us our own history back after a restore: seal what waited
 * (as 'plein sync' does). */
static void resume_if_paused(srv *d, int confirmed)
{
	if (!confirmed || !plein_journal_paused(d->s))
		return;
	uint64_t seq = 0;
	if (plein_journal_resume(d->s) < 0 || plein_journal_seal(d->s, &seq) < 0)
		plein_dlog_warn("this site's history is confirmed, but sealing failed: %s", plein_error());
	else
		plein_dlog_info("this site's history is confirmed by a peer; sealing resumes%s", seq ? " (what waited is sealed)" : "");
}

/* rtt: round trips of a TCP session; 0 when not known (git). */
static void moved_line(const peer *p, const plein_peer_moved *m, unsigned rtt)
{
	char rt[48] = "";
	if (rtt)
		snprintf(rt, sizeof rt, ", %u round trip%s", rtt, rtt == 1 ? "" : "s");
	if (m->batches_in || m->batches_out)
		plein_dlog_info("peer %s: synced: %llu batches in, %llu out (%llu bytes in, %llu out%s)", p->name,
				(unsigned long long)m->batches_in, (unsigned long long)m->batches_out,
				(unsigned long long)m->bytes_in, (unsigned long long)m->bytes_out, rt);
	else
		plein_dlog_debug("peer %s: in step (%llu bytes in, %llu out%s)", p->name,
				 (unsigned long long)m->bytes_in, (unsigned long long)m->bytes_out, rt);
}

/* confirmed: the sync confirmed our own chain (resume_if_paused). */
static void succeeded(srv *d, peer *p, const plein_peer_moved *m, unsigned rtt, int confirmed)
{
	if (p->failures)
		plein_dlog_info("peer %s: reachable again after %u failed attempt%s", p->name, p->failures,
				p->failures == 1 ? "" : "s");
	p->failures = 0;
	moved_line(p, m, rtt);
	resume_if_paused(d, confirmed);
	/* It holds what we held when the sync started (p->synced); if the
	 * vector moved since, by this sync or anything else, it is due again. */
	p->due = daemon_now() + d->interval * (0.9 + 0.2 * rnd());
	daemon_local_check(d, 1);
	if (memcmp(p->synced, d->vector, sizeof d->vector) != 0)
		p->due = daemon_now();
}

static void failed(srv *d, peer *p, const char *why)
{
	p->failures++;
	double wait = plein_daemon_backoff(p->failures, d->backoff_base, d->backoff_max, rnd());
	p->due = daemon_now() + wait;
	plein_dlog(p->failures == 1 ? PLEIN_DLOG_WARN : PLEIN_DLOG_INFO,
		   "peer %s: sync failed (attempt %u): %s; backing off, next try in %.1f s", p->name, p->failures, why, wait);
}

/* ---- git remotes and sticks: a child process ---- */

/* "plein: NAME: message" -> "message" */
static const char *strip(const peer *p, const char *line)
{
	size_t n = strlen(p->name);
	if (strncmp(line, "plein: ", 7) == 0)
		line += 7;
	if (strncmp(line, p->name, n) == 0 && line[n] == ':' && line[n + 1] == ' ')
		line += n + 2;
	return line;
}

static char git_last_err[600];

static void git_line(int stream, const char *line, void *arg)
{
	peer *p = arg;
	if (stream == 1) {
		plein_dlog_debug("peer %s: %s", p->name, line);
		return;
	}
	/* The last line of a failed sync is its error, said once with the
	 * back-off; the lines before it are notes (refused batches, ...). */
	if (git_last_err[0])
		plein_dlog_warn("peer %s: %s", p->name, git_last_err);
	snprintf(git_last_err, sizeof git_last_err, "%s", strip(p, line));
}

static void git_done(int status, void *arg)
{
	peer *p = arg;
	srv *d = p->d;
	d->git = NULL;
	d->git_peer = NULL;
	p->busy = 0;
	int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	if (ok) {
		if (git_last_err[0])
			plein_dlog_warn("peer %s: %s", p->name, git_last_err);
		plein_peer_moved now, m;
		plein_peer_totals(&now, d->s, p->name);
		m.batches_in = now.batches_in - d->git_before.batches_in;
		m.batches_out = now.batches_out - d->git_before.batches_out;
		m.bytes_in = now.bytes_in - d->git_before.bytes_in;
		m.bytes_out = now.bytes_out - d->git_before.bytes_out;
		succeeded(d, p, &m, 0, 0); /* the child, a 'plein sync', resumed sealing itself if it could */
	} else {
		char why[700];
		if (d->git_signalled || WIFSIGNALED(status)) {
			snprintf(why, sizeof why, "the sync was stopped after %.0f s%s%s", daemon_now() - d->git_started,
				 git_last_err[0] ? ": " : "", git_last_err);
			plein_peer_moved zero = {0};
			plein_peer_record(d->s, p->name, why, &zero); /* the child could not */
		} else {
			snprintf(why, sizeof why, "%s", git_last_err[0] ? git_last_err : "plein sync failed without a message");
		}
		if (!d->stopping)
			failed(d, p, why);
	}
	git_last_err[0] = 0;
	drop_gone(d);
}

/* A local path is there when it holds a repository (a bare one has HEAD).
 * The daemon does not create one: an empty mount point of a stick that is
 * not plugged in looks just like a fresh stick. 'plein sync NAME' does. */
static int local_present(const peer *p)
{
	plein_buf b = PLEIN_BUF_INIT;
	struct stat st;
	plein_buf_printf(&b, "%s/HEAD", p->path);
	int ok = stat(plein_buf_cstr(&b), &st) == 0;
	plein_buf_free(&b);
	if (!ok) {
		plein_buf_printf(&b, "%s/.git", p->path);
		ok = stat(plein_buf_cstr(&b), &st) == 0;
		plein_buf_free(&b);
	}
	return ok;
}

static void start_git(srv *d, peer *p)
{
	char *argv[] = { (char *)d->exe, "-C", d->s->dir, "sync", p->name, NULL };
	child_cbs cbs = { git_line, git_done, p };
	plein_peer_totals(&d->git_before, d->s, p->name);
	git_last_err[0] = 0;
	memcpy(p->synced, d->vector, sizeof p->synced);
	if (child_spawn(&d->git, d->base, argv, &cbs) < 0) {
		failed(d, p, plein_error());
		return;
	}
	p->busy = 1;
	d->git_peer = p;
	d->git_started = daemon_now();
	d->git_signalled = 0;
	plein_dlog_debug("peer %s: syncing through git (pid %d)", p->name, (int)child_pid(d->git));
}

/* Stop a git sync that takes too long: SIGTERM, then SIGKILL. A sync cut
 * anywhere loses nothing (design §5: the ref update is the commit point,
 * each batch applies in one transaction). */
static void watch_git(srv *d)
{
	if (!d->git)
		return;
	double ran = daemon_now() - d->git_started;
	double limit = d->stopping ? d->stop_at - 3 - d->git_started : d->sync_timeout;
	if (ran > limit && d->git_signalled == 0) {
		plein_dlog_warn("peer %s: the sync runs %.0f s; stopping it", d->git_peer->name, ran);
		child_kill(d->git, SIGTERM);
		d->git_signalled = 1;
	} else if (ran > limit + 3 && d->git_signalled == 1) {
		child_kill(d->git, SIGKILL);
		d->git_signalled = 2;
	}
}

/* ---- TCP peers: a session on the loop ---- */

static void notes(const char *name, const plein_ingest_report *r)
{
	for (size_t i = 0; i < r->nnotes; i++)
		plein_dlog_warn("peer %s: batch %llu of %s: %s", name, (unsigned long long)r->notes[i].seq,
				r->notes[i].site, r->notes[i].reason);
}

static void tcp_done(plein_tcp_result *r, void *arg)
{
	peer *p = arg;
	srv *d = p->d;
	p->busy = 0;
	d->outgoing--;
	plein_peer_moved m = { r->ingest.accepted + r->ingest.released, r->batches_out, r->bytes_in, r->bytes_out };
	if (plein_peer_record(d->s, p->name, r->rc == 0 ? NULL : r->error, &m) < 0)
		plein_dlog_warn("peer %s: cannot record the sync: %s", p->name, plein_error());
	notes(p->name, &r->ingest);
	if (r->rc == 0)
		succeeded(d, p, &m, r->round_trips, r->own_confirmed);
	else if (!d->stopping)
		failed(d, p, r->error[0] ? r->error : "the session failed without a message");
	drop_gone(d);
}

static void start_tcp(srv *d, peer *p)
{
	memcpy(p->synced, d->vector, sizeof p->synced);
	/* The session may end, and call back, before connect returns. */
	p->busy = 1;
	d->outgoing++;
	plein_dlog_debug("peer %s: connecting to %s", p->name, p->path);
	if (plein_tcp_connect(d->base, d->s, p->path, &d->lim, tcp_done, p) < 0) {
		p->busy = 0;
		d->outgoing--;
		char why[1024];
		snprintf(why, sizeof why, "%s", plein_error());
		plein_peer_moved zero = {0};
		plein_peer_record(d->s, p->name, why, &zero);
		failed(d, p, why);
	}
}

void peers_incoming_done(srv *d, plein_tcp_result *r)
{
	d->incoming--;
	/* One row per site in plein status: the roster's name for it. */
	char label[200];
	char *name = NULL;
	sqlite3_stmt *st = r->peer[0] ? plein_db_stmt(d->s->db, "SELECT name FROM roster WHERE id = ?1") : NULL;
	if (st) {
		sqlite3_bind_text(st, 1, r->peer, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
			name = plein_xstrdup((const char *)sqlite3_column_text(st, 0));
		sqlite3_reset(st);
	}
	snprintf(label, sizeof label, "%s (incoming)", name ? name : r->peer[0] ? r->peer : "unknown site");
	free(name);
	plein_peer_moved m = { r->ingest.accepted + r->ingest.released, r->batches_out, r->bytes_in, r->bytes_out };
	if (r->peer[0] && plein_peer_record(d->s, label, r->rc == 0 ? NULL : r->error, &m) < 0)
		plein_dlog_warn("%s: cannot record the sync: %s", label, plein_error());
	notes(label, &r->ingest);
	if (r->rc == 0) {
		plein_dlog(r->batches_in || r->batches_out ? PLEIN_DLOG_INFO : PLEIN_DLOG_DEBUG,
			   "%s: synced: %zu batches in, %zu out (%llu bytes in, %llu out, %u round trips)", label, r->batches_in,
			   r->batches_out, (unsigned long long)r->bytes_in, (unsigned long long)r->bytes_out, r->round_trips);
		resume_if_paused(d, r->own_confirmed);
		if (r->batches_in)
			daemon_local_check(d, 1);
	} else {
		plein_dlog_warn("%s: session failed: %s", label, r->error);
	}
}

/* ---- the schedule ---- */

void peers_vector_changed(srv *d)
{
	double now = daemon_now();
	for (size_t i = 0; i < d->npeers; i++) {
		peer *p = d->peers[i];
		if (p->failures == 0 && !p->absent && memcmp(p->synced, d->vector, sizeof d->vector) != 0 && p->due > now)
			p->due = now;
	}
}

static void check_local_peer(srv *d, peer *p)
{
	int present = local_present(p);
	if (!present && !p->absent) {
		p->absent = 1;
		char why[600];
		snprintf(why, sizeof why, "not present: %s has no repository (a stick not plugged in?); "
			 "syncing when it appears ('plein sync %s' creates it)", p->path, p->name);
		plein_dlog_info("peer %s: %s", p->name, why);
		plein_peer_moved zero = {0};
		plein_peer_record(d->s, p->name, why, &zero);
	} else if (present && p->absent) {
		p->absent = 0;
		p->failures = 0;
		p->due = daemon_now();
		plein_dlog_info("peer %s: %s is there", p->name, p->path);
	}
}

void peers_run(srv *d)
{
	watch_git(d);
	if (d->stopping)
		return;
	double now = daemon_now();
	peer *next_git = NULL;
	for (size_t i = 0; i < d->npeers; i++) {
		peer *p = d->peers[i];
		if (p->busy)
			continue;
		if (p->kind == PEER_LOCAL)
			check_local_peer(d, p);
		if (p->absent || p->due > now)
			continue;
		if (p->kind == PEER_TCP)
			start_tcp(d, p);
		else if (!d->git && (!next_git || p->due < next_git->due))
			next_git = p;
	}
	if (next_git)
		start_git(d, next_git);
}
