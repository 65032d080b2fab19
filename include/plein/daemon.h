/* plein serve: the daemon (design §6, docs/daemon.md). One libevent base
 * in one thread: it accepts TCP peers, syncs with the configured peers on
 * a schedule and soon after a local change by any writer, backs off from
 * peers that cannot be reached, serves the HTTP face, and stops cleanly on
 * SIGTERM or SIGINT. Git remotes are synced by a child process running
 * 'plein sync NAME', so a slow remote never stalls the loop. */
#ifndef PLEIN_DAEMON_H
#define PLEIN_DAEMON_H

#include "plein/site.h"

typedef struct plein_daemon_opts {
	const char *listen;   /* "HOST:PORT" for TCP peers; NULL: plein.conf site.listen; none: no listener */
	const char *http;     /* "HOST:PORT"; NULL: plein.conf site.http; none: no HTTP face */
	int interval;         /* seconds between scheduled syncs; 0: site.sync_interval, else 30 */
	int max_connections;  /* concurrent incoming peers; 0: site.max_connections, else 32 */
	const char *exe;      /* the plein binary, run as 'plein -C DIR sync NAME' for git peers */
} plein_daemon_opts;

/* Run until SIGTERM or SIGINT; 0 after a clean stop. Fails before the
 * loop starts when an address is bad (PLEIN_EINVAL) or cannot be bound,
 * or the HTTP face cannot start (PLEIN_ERR), with the message set. */
int plein_daemon_run(plein_site *s, const plein_daemon_opts *opts);

/* ---- the daemon's log (src/daemon/dlog.c) ----
 * One line per event on stderr: "TIME LEVEL: message", or, when stderr is
 * the journal (systemd's JOURNAL_STREAM), "<N>message" so journald keeps
 * the level. Newlines inside a message become spaces. */
enum {
	PLEIN_DLOG_ERROR = 3, /* syslog priorities */
	PLEIN_DLOG_WARN = 4,
	PLEIN_DLOG_INFO = 6,
	PLEIN_DLOG_DEBUG = 7,
};

/* Lines above this level are dropped (default PLEIN_DLOG_INFO). */
void plein_dlog_level(int level);
int plein_dlog_enabled(int level);
void plein_dlog(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define plein_dlog_error(...) plein_dlog(PLEIN_DLOG_ERROR, __VA_ARGS__)
#define plein_dlog_warn(...) plein_dlog(PLEIN_DLOG_WARN, __VA_ARGS__)
#define plein_dlog_info(...) plein_dlog(PLEIN_DLOG_INFO, __VA_ARGS__)
#define plein_dlog_debug(...) plein_dlog(PLEIN_DLOG_DEBUG, __VA_ARGS__)

/* The delay before the next attempt after `failures` failures in a row
 * (>= 1): base * 2^(failures-1) seconds, at most max, of which a random
 * half is taken off ("equal jitter", so peers that failed together do not
 * retry together). r is a random number in [0, 1). */
double plein_daemon_backoff(unsigned failures, double base, double max, double r);

#endif
