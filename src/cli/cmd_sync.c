/* Sync and integrity: peers, one-shot sync through git remotes, verify. */
#include <ctype.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "plein/buf.h"
#include "plein/error.h"
#include "plein/ingest.h"
#include "plein/journal.h"
#include "plein/json.h"
#include "plein/log.h"
#include "plein/peer.h"
#include "plein/remote.h"
#include "plein/repack.h"
#include "plein/tcp.h"
#include "plein/validate.h"
#include "plein/verify.h"

static int valid_peer_name(const char *name)
{
	if (!*name || strlen(name) > 40 || plein_log_check_key(name) < 0)
		return 0;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return 0;
	return 1;
}

static int is_url(const char *s)
{
	return strchr(s, '/') || strchr(s, ':') || strchr(s, '.');
}

int cmd_peer_add(cli_ctx *ctx)
{
	int rc = cli_need_pos(ctx, 2, 2);
	if (rc < 0)
		return rc;
	const char *name = cli_pos(ctx, 0), *url = cli_pos(ctx, 1);
	if (!valid_peer_name(name))
		return plein_fail(PLEIN_EINVAL, "peer name '%s' may hold only letters, digits, - and _ (at most 40)", name);
	if (!is_url(url) || (rc = plein_check_text("URL", url, 1000)) < 0)
		return rc < 0 ? rc : plein_fail(PLEIN_EINVAL, "'%s' is not a URL or path; e.g. tcp://host:7420, /media/usb/plein.git or git://server/plein.git", url);
	plein_site *s = cli_site(ctx);
	if (!s)
		return plein_error_code();
	char key[64];
	snprintf(key, sizeof key, "peer.%s.url", name);
	if (plein_conf_get(s->conf, key))
		return plein_fail(PLEIN_EINVAL, "there is already a peer '%s' (remove it first with 'plein peer remove %s')", name, name);
	plein_conf_set(s->conf, key, url);
	return plein_site_save_conf(s);
}

int cmd_peer_remove(cli_ctx *ctx)
{
	int rc = cli_need_pos(ctx, 1, 1);
	if (rc < 0)
		return rc;
	plein_site *s = cli_site(ctx);
	if (!s)
		return plein_error_code();
	char sec[64];
	snprintf(sec, sizeof sec, "peer.%s", cli_pos(ctx, 0));
	if (!plein_conf_remove_section(s->conf, sec))
		return plein_fail(PLEIN_ENOTFOUND, "no peer '%s' (see 'plein peer list')", cli_pos(ctx, 0));
	return plein_site_save_conf(s);
}

int cmd_peer_list(cli_ctx *ctx)
{
	plein_site *s = cli_site(ctx);
	if (!s)
		return plein_error_code();
	/* Peers live in plein.conf; their state in the replica. */
	int rc = plein_db_exec(s->db, "CREATE TEMP TABLE IF NOT EXISTS peer_conf(name TEXT, url TEXT); DELETE FROM peer_conf;");
	const char *name;
	for (int i = 0; rc == 0 && (name = plein_conf_subsection(s->conf, "peer", i)); i++) {
		char key[64];
		snprintf(key, sizeof key, "peer.%s.url", name);
		sqlite3_stmt *st = plein_db_stmt(s->db, "INSERT INTO peer_conf(name, url) VALUES (?1, ?2)");
		if (!st)
			return PLEIN_ERR;
		sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, plein_conf_get(s->conf, key), -1, SQLITE_TRANSIENT);
		rc = plein_db_step_done(s->db, st);
	}
	if (rc < 0)
		return rc;
	sqlite3_stmt *st = plein_db_stmt(s->db,
		"SELECT c.name, c.url, p.last_ok, p.last_error, p.batches_in, p.batches_out"
		" FROM peer_conf c LEFT JOIN plein_peer_state p ON p.peer = c.name ORDER BY c.name");
	return st ? cli_print_rows(ctx, st) : PLEIN_ERR;
}

static void record(plein_site *s, const char *peer, const char *error, size_t in, size_t out, size_t bin, size_t bout)
{
	plein_peer_moved m = { in, out, bin, bout };
	plein_peer_record(s, peer, error, &m);
}

/* A server that stops answering would hang a sync for ever (libgit2 1.5
 * has no network time-out): a network transfer gives up after
 * sync.timeout seconds (default 300) without progress. Ending the process
 * there is safe: it is what a kill -9 does, which sync_crash proves
 * harmless. A relay on a path needs no watch (its reads are bounded). */
static char stall_line[600];
static size_t stall_len;
static unsigned stall_secs;
static int watching;

static void on_stall(int sig)
{
	(void)sig;
	ssize_t ignored = write(STDERR_FILENO, stall_line, stall_len);
	(void)ignored;
	_exit(2);
}

/* Watch the transfer to url (label: for the message); NULL: stop. */
static void watch(const char *label, const char *url)
{
	watching = label && strstr(url, "://") && strncmp(url, "file://", 7) != 0;
	if (!watching) {
		alarm(0);
		return;
	}
	fflush(stdout);
	snprintf(stall_line, sizeof stall_line,
		 "plein: %s: no answer for %u s; gave up (is the server up and reachable? try again later)\n", label, stall_secs);
	stall_len = strlen(stall_line);
	signal(SIGALRM, on_stall);
	alarm(stall_secs);
}

static void progress(const char *stage, size_t done, size_t total, size_t bytes, void *payload)
{
	if (watching)
		alarm(stall_secs); /* progress: the watch starts over */
	if (!cli_tty())
		return;
	fprintf(stderr, "\r%s %s: %zu/%zu objects, %zu KiB", (const char *)payload, stage, done, total, bytes / 1024);
	if (done == total)
		fputc('\n', stderr);
}

/* The batch module names the batch in its messages too ("batch 3 of site
 * X: ..."); the line already starts with that. */
static const char *without_batch_prefix(const plein_ingest_note *n)
{
	char prefix[64 + PLEIN_SITEID_LEN];
	int len = snprintf(prefix, sizeof prefix, "batch %" PRIu64 " of site %s: ", n->seq, n->site);
	if (len > 0 && (size_t)len < sizeof prefix && strncmp(n->reason, prefix, (size_t)len) == 0)
		return n->reason + len;
	return n->reason;
}

/* After a restore, a peer has told this site its own history when the
 * fetch went through and this site's chain now holds everything of it the
 * peer has: sealing may go on from there without signing a second batch
 * under a number already published (journal.h). */
static int own_chain_confirmed(plein_site *s, const plein_remote_result *fetched)
{
	uint64_t theirs = 0;
	for (size_t i = 0; i < fetched->nrefs; i++)
		if (strcmp(fetched->refs[i].site, s->id) == 0) {
			if (fetched->refs[i].status == PLEIN_REMOTE_UNREADABLE ||
			    (fetched->refs[i].status == PLEIN_REMOTE_AHEAD && !fetched->refs[i].remote_seq))
				return 0;
			theirs = fetched->refs[i].remote_seq;
		}
	plein_log_ref tip;
	return plein_log_tip(&tip, s->log, s->id) == 0 && tip.seq >= theirs;
}

/* What a sync brought in, as the summary line and one line per note. */
static void print_ingest(const char *label, const plein_ingest_report *rep, size_t out)
{
	printf("%s: %zu batches received, %zu sent", label, rep->accepted + rep->released, out);
	if (rep->held)
		printf(", %zu held", rep->held);
	if (rep->rejected)
		printf(", %zu refused", rep->rejected);
	if (rep->forks)
		printf(", %zu fork proofs kept", rep->forks);
	printf("\n");
	for (size_t i = 0; i < rep->nnotes; i++)
		fprintf(stderr, "plein: %s: batch %" PRIu64 " of %s: %s\n", label, rep->notes[i].seq, rep->notes[i].site,
			without_batch_prefix(&rep->notes[i]));
}

/* A peer over TCP (include/plein/tcp.h): one session does both ways.
 * *confirmed: the session confirmed our own chain (own_chain_confirmed). */
static int sync_tcp(plein_site *s, const char *label, const char *hostport, int *confirmed)
{
	plein_tcp_result r;
	int rc = plein_tcp_sync(&r, s, hostport);
	*confirmed = rc == 0 && r.own_confirmed;
	const plein_ingest_report *rep = &r.ingest;
	record(s, label, rc < 0 ? r.error : NULL, rep->accepted + rep->released, r.batches_out,
	       (size_t)r.bytes_in, (size_t)r.bytes_out);
	if (rc < 0)
		rc = plein_fail(rc, "%s: %s", label, r.error);
	else
		print_ingest(label, rep, r.batches_out);
	if (rc == 0 && (rep->rejected || rep->forks))
		rc = plein_fail(PLEIN_EREJECT, "%s: %zu batch(es) refused; the rest was synced (see the lines above)",
				label, rep->rejected + rep->forks);
	plein_tcp_result_free(&r);
	return rc;
}

/* One peer: fetch into incoming, verify and apply, push what it lacks.
 * *confirmed: see own_chain_confirmed. */
static int sync_one(plein_site *s, const char *label, const char *url, const char *key, int *confirmed)
{
	if (strncmp(url, "tcp://", 6) == 0)
		return sync_tcp(s, label, url + 6, confirmed);
	plein_remote_result fetched, pushed;
	plein_ingest_report rep;
	memset(&fetched, 0, sizeof fetched);
	memset(&pushed, 0, sizeof pushed);
	memset(&rep, 0, sizeof rep);
	plein_remote_opts o = { .what = PLEIN_REMOTE_FETCH, .key = key, .progress = progress, .payload = (void *)label };
	watch(label, url);
	int rc = plein_remote_sync(&fetched, s->log, url, &o);
	watch(NULL, url);
	if (rc == 0)
		rc = plein_ingest(&rep, s, fetched.key);
	*confirmed = rc == 0 && own_chain_confirmed(s, &fetched);
	if (rc == 0) {
		o.what = PLEIN_REMOTE_PUSH;
		watch(label, url);
		rc = plein_remote_sync(&pushed, s->log, url, &o);
		watch(NULL, url);
	}
	/* Batches sent: what the remote had (seen at fetch) up to our tip. */
	size_t out = 0;
	for (size_t i = 0; i < pushed.nrefs; i++) {
		if (pushed.refs[i].status != PLEIN_REMOTE_PUSHED)
			continue;
		uint64_t had = 0;
		for (size_t k = 0; k < fetched.nrefs; k++)
			if (strcmp(fetched.refs[k].site, pushed.refs[i].site) == 0)
				had = fetched.refs[k].remote_seq;
		if (pushed.refs[i].local_seq > had)
			out += pushed.refs[i].local_seq - had;
	}
	if (rc < 0) {
		char msg[400];
		snprintf(msg, sizeof msg, "%s", plein_error());
		record(s, label, msg, rep.accepted + rep.released, out, fetched.received_bytes, pushed.sent_bytes);
		plein_fail(rc, "%s: %s", label, msg);
	} else {
		record(s, label, NULL, rep.accepted + rep.released, out, fetched.received_bytes, pushed.sent_bytes);
		print_ingest(label, &rep, out);
		size_t unread = 0, unsent = 0;
		for (size_t i = 0; i < fetched.nrefs; i++)
			if (fetched.refs[i].status == PLEIN_REMOTE_UNREADABLE) {
				fprintf(stderr, "plein: %s: the chain of %s could not be fetched: %s\n", label, fetched.refs[i].site,
					fetched.refs[i].message);
				unread++;
			}
		for (size_t i = 0; i < pushed.nrefs; i++)
			if (pushed.refs[i].status == PLEIN_REMOTE_DIVERGED || pushed.refs[i].status == PLEIN_REMOTE_REJECTED) {
				fprintf(stderr, "plein: %s: the chain of %s was not sent: %s %s\n", label, pushed.refs[i].site,
					plein_remote_status_name(pushed.refs[i].status), pushed.refs[i].message);
				unsent++;
			}
		if (rep.rejected || rep.forks)
			rc = plein_fail(PLEIN_EREJECT, "%s: %zu batch(es) refused; the rest was synced (see the lines above)",
					label, rep.rejected + rep.forks);
		else if (unread) /* damaged in the relay: not a full sync */
			rc = plein_fail(PLEIN_ERR, "%s: %zu chain(s) could not be fetched; the rest was synced (see the lines above)",
					label, unread);
		else if (unsent) /* the remote refused our push: not a full sync */
			rc = plein_fail(PLEIN_ERR, "%s: %zu chain(s) could not be sent; the rest was synced (see the lines above)",
					label, unsent);
	}
	plein_remote_result_free(&fetched);
	plein_remote_result_free(&pushed);
	plein_ingest_report_free(&rep);
	return rc;
}

int cmd_sync(cli_ctx *ctx)
{
	plein_site *s = cli_site(ctx);
	if (!s)
		return plein_error_code();
	if (!plein_site_log(s))
		return plein_error_code();
	/* Our own changes go along — unless sealing waits for a peer to
	 * confirm this site's history after a restore (journal.h). */
	uint64_t seq = 0;
	int paused = plein_journal_paused(s);
	int rc = paused ? 0 : plein_journal_seal(s, &seq);
	if (rc < 0)
		return rc;
	/* Each fetch adds a pack to log.git: keep it compact (repack.h). */
	plein_repack_report rr;
	if (plein_site_repack(&rr, s) < 0)
		fprintf(stderr, "plein: warning: %s; syncing anyway\n", plein_error());
	int timeout = plein_conf_get_int(s->conf, "sync.timeout", 300);
	stall_secs = timeout > 0 ? (unsigned)timeout : 300;
	int n = cli_npos(ctx), failed = 0, first = 0, targets = n, confirmed = 0;
	while (n == 0 && plein_conf_subsection(s->conf, "peer", targets))
		targets++;
	if (n == 0 && !plein_conf_subsection(s->conf, "peer", 0))
		return plein_fail(PLEIN_EINVAL, "no peers to sync with; add one with 'plein peer add NAME URL' or name a URL");
	for (int i = 0; n == 0 ? plein_conf_subsection(s->conf, "peer", i) != NULL : i < n; i++) {
		const char *arg = n ? cli_pos(ctx, i) : plein_conf_subsection(s->conf, "peer", i);
		char key[64];
		snprintf(key, sizeof key, "peer.%s.url", arg);
		const char *url = plein_conf_get(s->conf, key);
		int r, told = 0;
		if (url)
			r = sync_one(s, arg, url, arg, &told);
		else if (is_url(arg))
			r = sync_one(s, arg, arg, NULL, &told);
		else
			r = plein_fail(PLEIN_EINVAL, "no peer '%s' (see 'plein peer list'), and it is not a URL", arg);
		confirmed |= told;
		if (r < 0) {
			if (failed++ == 0)
				first = r;
			/* One target: its error is the one line. Several: a line
			 * each, then the count. */
			if (targets > 1)
				fprintf(stderr, "plein: %s\n", plein_error());
		}
	}
	if (paused && confirmed) {
		/* A peer told us our own chain: resume, and seal what waited. */
		if ((rc = plein_journal_resume(s)) < 0 || (rc = plein_journal_seal(s, &seq)) < 0)
			return rc;
		if (seq)
			fprintf(stderr, "plein: this site's history is confirmed; what waited is sealed now (batch %llu); "
					"run 'plein sync' again to send it\n", (unsigned long long)seq);
	}
	if (!failed || targets == 1)
		return failed ? first : 0;
	return plein_fail(first, "%d of %d syncs did not fully succeed (see the lines above)", failed, targets);
}

int cmd_verify(cli_ctx *ctx)
{
	plein_site *s = cli_site(ctx);
	if (!s)
		return plein_error_code();
	plein_verify_report r;
	int rc = plein_verify(&r, s);
	if (rc < 0)
		return rc;
	printf("%zu chains, %zu batches, %zu changes checked\n", r.chains, r.batches, r.changes);
	if (r.unsealed)
		printf("%zu changes of this site not sealed yet are taken as they are\n", r.unsealed);
	printf("live digest:    %s\nrebuilt digest: %s\n", r.live, r.rebuilt);
	if (r.problems)
		return plein_fail(PLEIN_EREJECT, "%zu problem(s) found; first: %s", r.problems, r.first_problem);
	if (!r.equal)
		return plein_fail(PLEIN_ERR, "the replica differs from the state the logs give; "
					     "move plein.db aside and run any plein command to rebuild it from log.git");
	printf("ok: every signature and chain checks, and the logs rebuild this state\n");
	return 0;
}
