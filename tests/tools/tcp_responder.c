/* A TCP sync responder for tests: the responder side of plein_tcp_accept
 * on 127.0.0.1, without the daemon.
 *   tcp_responder SITE_DIR PORT_FILE [SESSIONS]
 * Listens on an ephemeral port of 127.0.0.1, writes the port to PORT_FILE,
 * and prints one line per finished session:
 *   session rc=0 peer=ID in=N out=N accepted=N rejected=N error=...
 * Exits after SESSIONS sessions (0 or absent: runs until SIGTERM).
 * TCP_RESPONDER_IDLE_MS sets the idle limit (default: plein's). */
#include <arpa/inet.h>
#include <event2/event.h>
#include <event2/listener.h>
#include "loopback.h"
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "plein/error.h"
#include "plein/journal.h"
#include "plein/site.h"
#include "plein/tcp.h"

static plein_site *site;
static struct event_base *base;
static long want, done;

static void session_done(plein_tcp_result *r, void *arg)
{
	(void)arg;
	printf("session rc=%d peer=%s in=%zu out=%zu accepted=%zu rejected=%zu forks=%zu bytes_in=%llu bytes_out=%llu "
	       "error=%s\n",
	       r->rc, r->peer[0] ? r->peer : "-", r->batches_in, r->batches_out, r->ingest.accepted + r->ingest.released,
	       r->ingest.rejected, r->ingest.forks, (unsigned long long)r->bytes_in, (unsigned long long)r->bytes_out,
	       r->error);
	/* What ingest said, one line each (forks, refusals, holds). */
	for (size_t i = 0; i < r->ingest.nnotes; i++)
		printf("note batch %" PRIu64 " of %s: %s\n", r->ingest.notes[i].seq, r->ingest.notes[i].site,
		       r->ingest.notes[i].reason);
	fflush(stdout);
	if (want > 0 && ++done >= want)
		event_base_loopexit(base, NULL);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len, void *arg)
{
	(void)l;
	(void)sa;
	(void)len;
	(void)arg;
	/* What was written here since goes along, as the daemon would seal it. */
	uint64_t seq = 0;
	if (!plein_journal_paused(site) && plein_journal_seal(site, &seq) < 0)
		fprintf(stderr, "tcp_responder: %s\n", plein_error());
	plein_tcp_limits lim;
	plein_tcp_limits_default(&lim);
	if (getenv("TCP_RESPONDER_IDLE_MS")) /* fault tests: a stalled session ends sooner */
		lim.idle_ms = atoi(getenv("TCP_RESPONDER_IDLE_MS"));
	if (plein_tcp_accept(base, site, fd, &lim, session_done, NULL) < 0) {
		printf("session rc=%d peer=- error=%s\n", plein_error_code(), plein_error());
		fflush(stdout);
	}
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	(void)arg;
	event_base_loopexit(base, NULL);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: tcp_responder SITE_DIR PORT_FILE [SESSIONS]\n");
		return 2;
	}
	want = argc > 3 ? atol(argv[3]) : 0;
	if (plein_site_open(&site, argv[1]) < 0) {
		fprintf(stderr, "tcp_responder: %s\n", plein_error());
		return 2;
	}
	base = event_base_new();
	struct evconnlistener *l = loopback_listen(base, on_accept, NULL, argv[2], "tcp_responder");
	if (!l)
		return 2;
	struct event *term = evsignal_new(base, SIGTERM, on_signal, NULL);
	struct event *intr = evsignal_new(base, SIGINT, on_signal, NULL);
	event_add(term, NULL);
	event_add(intr, NULL);
	event_base_dispatch(base);
	event_free(term);
	event_free(intr);
	evconnlistener_free(l);
	event_base_free(base);
	plein_site_close(site);
	return 0;
}
