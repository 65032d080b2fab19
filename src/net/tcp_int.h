/* Private parts of the TCP transport (src/net/): who the peer is, what
 * to send it, and where what it sends goes. */
#ifndef PLEIN_NET_TCP_INT_H
#define PLEIN_NET_TCP_INT_H

#include <stddef.h>
#include <stdint.h>

#include "plein/buf.h"
#include "plein/ingest.h"
#include "plein/log.h"
#include "plein/site.h"
#include "plein/tcpmsg.h"

/* ---- tcp_peer.c: identity ---- */

#define TCP_PROLOGUE_NAME "plein-tcp/1"

/* The handshake prologue: TCP_PROLOGUE_NAME, then the 16-byte network id. */
int tcp_prologue(plein_buf *out, plein_site *s);
/* Our Noise static key: the X25519 form of the ed25519 site key. */
int tcp_static_key(unsigned char out_sk[32], const plein_site *s);
/* May the peer that proved x_pk in the handshake and named ed_pk as its
 * site key sync with us? ed_pk must convert to x_pk, and be the admin's
 * or on the roster and not revoked. 0, or PLEIN_EREJECT saying why. */
int tcp_peer_check(plein_site *s, const unsigned char ed_pk[32], const unsigned char x_pk[32],
		   char out_id[PLEIN_SITEID_LEN + 1]);
/* Which site answered at addr ("HOST:PORT") in the last handshake that
 * worked, as its current X25519 key: 1 (out_x filled) if we remember one
 * and the roster still admits it with a key, else 0. For choosing IK. */
int tcp_peer_known(plein_site *s, const char *addr, unsigned char out_x[32]);
/* Remember that site id answers at addr; id NULL forgets. Local state
 * (plein_local), never synced. */
int tcp_peer_remember(plein_site *s, const char *addr, const char *id);
/* A commit id (hex) as a VECTOR entry's tip. */
int tcp_tip_parse(unsigned char out[PLEIN_MSG_TIP_BYTES], const char *hex);
/* Our version vector (plein_log_tips), tips included. */
int tcp_our_vector(plein_vv_entry **out, size_t *out_n, plein_site *s);

/* ---- tcp_send.c: the batches the peer lacks, one at a time ---- */

typedef struct tcp_send {
	struct tcp_send_chain {
		char site[PLEIN_SITEID_LEN + 1];
		uint64_t next, last;
		/* Forked where the peer's shorter chain ends: the peer gets our
		 * batch as the proof; we get none of its (it has none to send). */
		int fork_ahead;
	} *v;
	size_t n, i;
} tcp_send;

/* Plan: for every chain we hold beyond the peer's vector, its missing
 * batches; the admin's chain first (it carries the roster). Where the
 * peer's tip is not our batch of that seq (the chain forked), only our
 * batch of that seq: the peer keeps it as the fork proof. */
int tcp_send_plan(tcp_send *out, plein_site *s, const plein_vv_entry *theirs, size_t ntheirs);
/* The next batch to send: 1 (e filled; free it), 0 when all are sent. */
int tcp_send_next(tcp_send *t, plein_site *s, plein_log_entry *e);
void tcp_send_free(tcp_send *t);

/* ---- tcp_recv.c: batches in, stored in chunks, verified, applied ---- */

typedef struct tcp_recv {
	char key[PLEIN_LOG_KEY_MAX + 1];  /* refs/plein/incoming/<key>/ */
	plein_buf *raw;                   /* the records of the chunk */
	size_t n, cap, bytes;
	size_t max_n, max_bytes;          /* a full chunk */
	size_t received;                  /* records taken in */
	plein_ingest_report rep;          /* summed over the chunks */
} tcp_recv;

void tcp_recv_init(tcp_recv *r, const char *peer_id, size_t max_n, size_t max_bytes);
/* Take a record (its bytes move into r; rec is left empty); stores and
 * ingests the chunk when it is full. */
int tcp_recv_take(tcp_recv *r, plein_site *s, plein_buf *rec);
/* Note that we sent batch seq of site as the proof of a fork the peer
 * cannot prove to us (tcp_send_chain.fork_ahead): a refusal here too. */
void tcp_recv_fork_sent(tcp_recv *r, const char *site, uint64_t seq);
/* Store and ingest what was taken. */
int tcp_recv_flush(tcp_recv *r, plein_site *s);
void tcp_recv_free(tcp_recv *r);

#endif
