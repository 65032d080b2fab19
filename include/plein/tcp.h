/* TCP sync between sites (design §6, docs/tcp-sync.md): a Noise-style
 * handshake that authenticates both site keys against the roster, then
 * crypto_secretstream frames carrying version vectors and the batches the
 * other side lacks, both ways. Sessions run on a libevent base, so the
 * daemon can hold many; plein_tcp_sync is the one-shot client.
 *
 * What arrives is verified and applied through ingest (verify, then
 * accept): a TCP peer is trusted no more than a git relay. */
#ifndef PLEIN_TCP_H
#define PLEIN_TCP_H

#include <stddef.h>
#include <stdint.h>

#include <event2/util.h>

#include "plein/ingest.h"
#include "plein/site.h"

struct event_base;

typedef struct plein_tcp_limits {
	size_t max_frame;     /* bytes of one decrypted frame */
	int handshake_ms;     /* the handshake must finish within this */
	int idle_ms;          /* a session with no progress this long is cut */
	/* Received batches are stored and ingested in chunks of at most this
	 * many batches or bytes: an interrupted transfer keeps every whole
	 * chunk, and memory stays bounded. */
	size_t chunk_batches;
	size_t chunk_bytes;
} plein_tcp_limits;

/* The defaults (documented in docs/tcp-sync.md). */
void plein_tcp_limits_default(plein_tcp_limits *out);

/* The outcome of one session, handed to the done callback. */
typedef struct plein_tcp_result {
	int rc;                                 /* 0, or a PLEIN_E* code */
	char error[300];                        /* rc != 0: what went wrong, for people */
	char peer[PLEIN_SITEID_LEN + 1];        /* the authenticated peer; "" before that */
	uint64_t bytes_in, bytes_out;           /* on the wire, handshake included */
	size_t batches_in, batches_out;
	unsigned round_trips;
	plein_ingest_report ingest;             /* what the received batches did here */
	/* The peer's vector entry for our own chain (0: it has none), and
	 * whether a clean session left our chain holding all of that: the
	 * peer confirmed our history, so a restored site may seal again
	 * (journal.h, docs/sync.md). */
	uint64_t peer_own_seq;
	int own_confirmed;
} plein_tcp_result;

/* Called once when a session ends, cleanly or not; r is freed after the
 * callback returns. */
typedef void (*plein_tcp_done_cb)(plein_tcp_result *r, void *arg);

/* Take over an accepted socket (the responder side). */
int plein_tcp_accept(struct event_base *base, plein_site *s, evutil_socket_t fd,
		const plein_tcp_limits *lim, plein_tcp_done_cb cb, void *arg);

/* Connect to "HOST:PORT" ("[V6]:PORT"; "tcp://" in front is allowed) and
 * sync (the initiator side). A bad address: PLEIN_EINVAL, nothing
 * started; every later failure reaches cb. Names resolve with
 * getaddrinfo, which blocks briefly. */
int plein_tcp_connect(struct event_base *base, plein_site *s, const char *hostport,
		const plein_tcp_limits *lim, plein_tcp_done_cb cb, void *arg);

/* One-shot: connect, sync both ways, return when done. *out is filled in
 * every case; free it with plein_tcp_result_free. */
int plein_tcp_sync(plein_tcp_result *out, plein_site *s, const char *hostport);
void plein_tcp_result_free(plein_tcp_result *r);

/* End every session on base now (a stop): each one's callback hears an
 * error; what arrived whole is stored and kept first, so nothing is half
 * applied and the next session resumes. */
void plein_tcp_stop(struct event_base *base);

#endif
