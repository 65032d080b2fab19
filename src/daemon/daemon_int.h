/* The daemon's state, shared by its files (src/daemon only):
 *   daemon.c  the loop: signals, the listener, the HTTP face, the tick, stop
 *   peers.c   the configured peers: schedule, back-off, git and TCP syncs
 *   child.c   a child process watched from the loop
 *   dlog.c    the log */
#ifndef PLEIN_DAEMON_INT_H
#define PLEIN_DAEMON_INT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "child.h"
#include "plein/daemon.h"
#include "plein/peer.h"
#include "plein/tcp.h"

struct event_base;
struct event;
struct evconnlistener;
struct plein_http;

enum peer_kind { PEER_GIT, PEER_LOCAL, PEER_TCP };

typedef struct peer {
	char *name, *url;
	enum peer_kind kind;
	char *path;             /* PEER_LOCAL: the repository's path */
	int busy;               /* a sync with it is running */
	int absent;             /* PEER_LOCAL: not there (a stick not plugged in) */
	int seen;               /* still in plein.conf (reload) */
	double due;             /* monotonic seconds: next sync no later than this */
	unsigned failures;      /* in a row */
	unsigned char synced[16]; /* our version vector after the last good sync */
	struct srv *d;
} peer;

/* A session a peer started here (counted; plein_tcp_stop ends it at a stop). */
typedef struct in_sess {
	struct srv *d;
	evutil_socket_t fd;
	struct in_sess *next, **prev;
} in_sess;

typedef struct srv {
	plein_site *s;
	struct event_base *base;
	struct evconnlistener *listener;
	struct plein_http *http;
	struct event *sig[3];   /* SIGTERM, SIGINT, SIGCHLD */
	struct event *tick;
	plein_tcp_limits lim;
	const char *exe;
	/* settings (plein.conf [site], options) */
	int interval, max_conn, sync_timeout;
	double backoff_base, backoff_max;
	/* peers, from plein.conf; reloaded when it changes */
	peer **peers;
	size_t npeers;
	struct timespec conf_mtime;
	off_t conf_size;
	struct timespec packs_mtime; /* log.git/objects/pack when log.git was opened */
	/* local changes */
	int64_t data_version;
	int changed;            /* HTTP wrote, or a session brought batches */
	int seal_failed;
	unsigned char vector[16]; /* fingerprint of the version vector */
	double retention_at;    /* when retention runs next (docs/erasure.md) */
	double repack_at;       /* when log.git's size is looked at next (repack.h) */
	/* the git sync running in a child (one at a time) */
	child *git;
	peer *git_peer;
	double git_started;
	int git_signalled;
	plein_peer_moved git_before;
	/* TCP sessions in flight */
	int incoming, outgoing;
	in_sess *ins;
	unsigned refused;       /* connections refused since the last warning */
	double refused_logged;
	/* stopping */
	int stopping;
	double stop_at;
} srv;

double daemon_now(void);

/* peers.c */
int peers_load(srv *d);
void peers_free(srv *d);
/* Called every tick: start the syncs that are due. */
void peers_run(srv *d);
/* The version vector changed: every peer that lacks it is due now. */
void peers_vector_changed(srv *d);
/* A TCP session that a peer started here ended. */
void peers_incoming_done(srv *d, plein_tcp_result *r);
/* Compute the version vector's fingerprint into out. */
int daemon_vector(srv *d, unsigned char out[16]);
/* After any session that may have brought batches: look again. */
void daemon_local_check(srv *d, int force);

#endif
