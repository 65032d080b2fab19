/* TCP sync sessions on libevent (include/plein/tcp.h, docs/tcp-sync.md).
 *
 * One session, either side:
 *   handshake   Noise IK (two messages) when the initiator knows the
 *               site at that address, else XX (three), each with a 2-byte
 *               length; the peer's site key is checked against the roster
 *               before anything else is sent (a refused initiator gets
 *               one REFUSED saying why, nothing more)
 *   vectors     each side sends its version vector: in the IK payloads,
 *               or with XX's last message and in the first frame back
 *   batches     each side streams what the other lacks, refilling its
 *               output only when it drains (back-pressure), then DONE as
 *               its final frame
 *   goodbye     once both DONEs are through, the connection closes.
 * What arrives is stored and ingested chunk by chunk (tcp_recv.c). */
#include "plein/tcp.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <signal.h>
#include <sys/socket.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plein/conf.h"
#include "plein/db.h"
#include "plein/error.h"
#include "plein/frame.h"
#include "plein/noise.h"
#include "plein/tcpmsg.h"
#include "tcp_int.h"

#define HS_MAX_MSG 8192            /* XX: 32, 128, 96 bytes; IK: 129 and 81 plus the vectors */
#define HS_IK 0x49                 /* 'I' before IK's msg1; XX's msg1 starts 0x00 (its length) */
#define HS_ROOM (HS_MAX_MSG - 96 - 33) /* a larger vector goes in the first frame */
#define SEND_HIGH (1u << 20)       /* stop filling the output above this */
#define SEND_LOW (256u << 10)      /* refill when it drains below this */
#define LINGER_MS 2000             /* after our goodbye, wait this long for the peer to close */
#define BUSY_MS 500                /* while ingesting, a BUSY this often (the peer's idle limit is >= 1 s) */

enum { S_CONNECT, S_HS, S_VECTOR, S_RUN, S_CLOSING, S_DONE };

struct sess {
	struct event_base *base;
	plein_site *s;
	struct bufferevent *bev;
	int initiator, state;
	plein_tcp_limits lim;
	plein_tcp_done_cb cb;
	void *arg;
	char where[300];                 /* HOST:PORT, or "an incoming peer" */
	plein_tcp_result res;
	unsigned char peer_own_tip[PLEIN_MSG_TIP_BYTES]; /* with res.peer_own_seq */
	plein_noise hs;
	int ik;                          /* the handshake is IK (else XX) */
	int retried;                     /* IK failed before msg2; now XX */
	int vec_sent;                    /* our vector rode in the handshake */
	int await_proof;                 /* IK responder: no batch before the initiator's first frame */
	char host[256], addr[300];       /* initiator: where to (re)connect; HOST:PORT as remembered */
	int port;
	plein_frame_tx tx;
	plein_frame_rx rx;
	struct event *hs_timer, *idle_timer;
	int sent_end, got_end;           /* DONE: all batches sent / received */
	int sent_bye, got_bye;           /* BYE: the final frames */
	int fail_rc;
	int busy;                        /* callbacks on the stack: free only at 0 */
	int half_closed;                 /* our side of the connection is shut */
	unsigned char peer_ed[32], peer_x[32];
	tcp_send send;
	tcp_recv recv;
	int recv_ready;
	plein_buf part, msg, out;
	/* ingesting (see ingest_begin) */
	sigset_t sigs_before;            /* the signal mask to restore */
	int sigs_blocked;                /* we blocked SIGTERM/SIGINT */
	double busy_at;                  /* ms: our last BUSY, or the ingest's start */
	uint64_t busy_n;                 /* batches verified or applied this session */
	struct sess *live_next, **live_prev; /* every session (plein_tcp_stop) */
};

static struct sess *live;

void plein_tcp_limits_default(plein_tcp_limits *out)
{
	out->max_frame = 1u << 20;
	out->handshake_ms = 10000;
	out->idle_ms = 60000;
	out->chunk_batches = 2048;
	out->chunk_bytes = 8u << 20;
}

static void finish(struct sess *ss, int rc);
static void destroy(struct sess *ss);

/* finish() may run deep inside a callback; the session is freed when the
 * outermost one returns. */
static void enter(struct sess *ss)
{
	ss->busy++;
}

static void leave(struct sess *ss)
{
	if (--ss->busy == 0 && ss->state == S_DONE)
		destroy(ss);
}

/* ---- output ---- */

static void emit(struct sess *ss, plein_buf *b)
{
	if (b->len) {
		ss->res.bytes_out += b->len;
		bufferevent_write(ss->bev, b->data, b->len);
	}
	plein_buf_reset(b);
}

static int send_frame(struct sess *ss, const plein_buf *m, int final)
{
	int rc = plein_frame_seal(&ss->tx, &ss->out, m->data, m->len, final);
	if (rc == 0)
		emit(ss, &ss->out);
	return rc;
}

static int vector_msg(struct sess *ss, plein_buf *m)
{
	plein_vv_entry *v = NULL;
	size_t n = 0;
	int rc = tcp_our_vector(&v, &n, ss->s);
	if (rc == 0)
		rc = plein_msg_vector_encode(m, v, n);
	free(v);
	return rc;
}

static int send_vector(struct sess *ss)
{
	plein_buf m = PLEIN_BUF_INIT;
	int rc = vector_msg(ss, &m);
	if (rc == 0)
		rc = send_frame(ss, &m, 0);
	plein_buf_free(&m);
	return rc;
}

/* A batch record, split over frames of at most max_frame bytes. */
static int send_record(struct sess *ss, const plein_log_entry *e)
{
	plein_buf rec = PLEIN_BUF_INIT, m = PLEIN_BUF_INIT;
	plein_msg_record_encode(&rec, e);
	size_t piece = ss->lim.max_frame - 1, at = 0;
	int rc = 0;
	do {
		size_t n = rec.len - at < piece ? rec.len - at : piece;
		plein_buf_reset(&m);
		plein_buf_putc(&m, at + n < rec.len ? PLEIN_MSG_PART : PLEIN_MSG_BATCH);
		plein_buf_put(&m, rec.data + at, n);
		rc = send_frame(ss, &m, 0);
		at += n;
	} while (rc == 0 && at < rec.len);
	plein_buf_free(&rec);
	plein_buf_free(&m);
	return rc;
}

/* Once our output is out: shut our side and wait for the peer to close
 * its own. Closing at once could reset the connection while the peer's
 * last frames are in flight, and a reset may discard them at the peer. */
static void half_close(struct sess *ss)
{
	if (ss->half_closed || evbuffer_get_length(bufferevent_get_output(ss->bev)) != 0)
		return;
	ss->half_closed = 1;
	shutdown(bufferevent_getfd(ss->bev), SHUT_WR);
	struct timeval tv = { LINGER_MS / 1000, (LINGER_MS % 1000) * 1000 };
	evtimer_add(ss->idle_timer, &tv);
}

/* Done once our BYE is out and the peer's BYE confirmed what we sent
 * (nothing to confirm when we sent nothing). */
static void maybe_close(struct sess *ss)
{
	if (!ss->sent_bye || (!ss->got_bye && ss->res.batches_out) || ss->state >= S_CLOSING)
		return;
	ss->state = S_CLOSING;
	event_del(ss->hs_timer);
	bufferevent_setwatermark(ss->bev, EV_WRITE, 0, 0);
	half_close(ss);
}

static int send_count(struct sess *ss, int type, uint64_t count)
{
	plein_buf m = PLEIN_BUF_INIT;
	plein_msg_count_encode(&m, type, count);
	int rc = send_frame(ss, &m, type == PLEIN_MSG_BYE);
	plein_buf_free(&m);
	return rc;
}

/* BYE goes once we sent our DONE and stored everything of the peer's. */
static int maybe_bye(struct sess *ss)
{
	if (!ss->sent_end || !ss->got_end || ss->sent_bye)
		return 0;
	ss->sent_bye = 1;
	return send_count(ss, PLEIN_MSG_BYE, ss->res.batches_in);
}

/* Fill the output up to SEND_HIGH with the batches the peer lacks. */
static void pump(struct sess *ss)
{
	struct evbuffer *out = bufferevent_get_output(ss->bev);
	while (ss->state == S_RUN && !ss->sent_end && evbuffer_get_length(out) < SEND_HIGH) {
		if (ss->await_proof && ss->send.i < ss->send.n)
			break; /* batches wait until the initiator proved its keys */
		plein_log_entry e;
		memset(&e, 0, sizeof e);
		int rc = tcp_send_next(&ss->send, ss->s, &e);
		if (rc == 1) {
			rc = send_record(ss, &e);
			ss->res.batches_out++;
		} else if (rc == 0) {
			ss->sent_end = 1;
			if ((rc = send_count(ss, PLEIN_MSG_DONE, ss->res.batches_out)) == 0)
				rc = maybe_bye(ss);
		}
		plein_log_entry_free(&e);
		if (rc < 0) {
			finish(ss, rc);
			return;
		}
	}
	maybe_close(ss);
}

/* ---- timers ---- */

static void touch(struct sess *ss)
{
	if (ss->half_closed)
		return; /* the linger timer runs */
	struct timeval tv = { ss->lim.idle_ms / 1000, (ss->lim.idle_ms % 1000) * 1000 };
	evtimer_add(ss->idle_timer, &tv);
}

static void idle_fired(evutil_socket_t fd, short what, void *arg)
{
	struct sess *ss = arg;
	(void)fd;
	(void)what;
	enter(ss);
	if (ss->half_closed) /* the peer did not close: we are done anyway */
		finish(ss, 0);
	else
		finish(ss, plein_fail(PLEIN_ERR, "%s: no progress for %d s; the session was cut", ss->where,
				      ss->lim.idle_ms / 1000));
	leave(ss);
}

static void hs_fired(evutil_socket_t fd, short what, void *arg)
{
	struct sess *ss = arg;
	(void)fd;
	(void)what;
	enter(ss);
	/* No answer to IK at all: the next sync starts with XX. */
	if (ss->ik && ss->initiator && ss->hs.step == 1)
		tcp_peer_remember(ss->s, ss->addr, NULL);
	finish(ss, plein_fail(PLEIN_ERR, "%s: the handshake did not finish within %d s", ss->where,
			      ss->lim.handshake_ms / 1000));
	leave(ss);
}

/* ---- ingesting ----
 *
 * Storing a chunk verifies and applies it in one go, off the event loop:
 * minutes for a large one, with nothing read or written. So the peer does
 * not take us for hung (its idle limit), ingest calls back between batches
 * and we send BUSY now and then, straight onto the socket. And so a stop
 * signal is not left waiting for a whole chunk, SIGTERM and SIGINT are
 * held back meanwhile: one that comes stops the ingest at the next batch
 * boundary (what was verified and applied stays), then it is delivered. */

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int stop_pending(struct sess *ss)
{
	sigset_t pend;
	return ss->sigs_blocked && sigpending(&pend) == 0 && (sigismember(&pend, SIGTERM) || sigismember(&pend, SIGINT));
}

static int on_progress(void *arg)
{
	struct sess *ss = arg;
	if (stop_pending(ss))
		return 1;
	ss->busy_n++;
	double now = now_ms();
	if (ss->state == S_DONE || now - ss->busy_at < (ss->lim.idle_ms / 4 < BUSY_MS ? ss->lim.idle_ms / 4 : BUSY_MS))
		return 0;
	ss->busy_at = now;
	/* Our own clock counts this progress too; libevent's cached time is
	 * as old as the ingest. */
	event_base_update_cache_time(ss->base);
	touch(ss);
	if (ss->state == S_RUN && !ss->sent_bye) {
		plein_buf m = PLEIN_BUF_INIT;
		plein_msg_count_encode(&m, PLEIN_MSG_BUSY, ss->busy_n);
		if (send_frame(ss, &m, 0) == 0) {
			/* The loop is not running: write now, as much as fits. A
			 * socket bufferevent keeps its output frozen outside its
			 * own write callback. */
			struct evbuffer *out = bufferevent_get_output(ss->bev);
			evbuffer_unfreeze(out, 1);
			evbuffer_write(out, bufferevent_getfd(ss->bev));
			evbuffer_freeze(out, 1);
		}
		plein_buf_free(&m);
	}
	return 0;
}

static void ingest_begin(struct sess *ss)
{
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	ss->sigs_blocked = sigprocmask(SIG_BLOCK, &stop, &ss->sigs_before) == 0 &&
		!sigismember(&ss->sigs_before, SIGTERM) && !sigismember(&ss->sigs_before, SIGINT);
	ss->busy_at = now_ms();
	ss->s->progress = on_progress;
	ss->s->progress_arg = ss;
}

static void ingest_end(struct sess *ss)
{
	ss->s->progress = NULL;
	ss->s->progress_arg = NULL;
	if (ss->sigs_blocked)
		sigprocmask(SIG_SETMASK, &ss->sigs_before, NULL); /* a held signal is delivered here */
	ss->sigs_blocked = 0;
	if (ss->state != S_DONE) { /* the idle clock starts again after our own progress */
		event_base_update_cache_time(ss->base);
		touch(ss);
	}
}

static int recv_take(struct sess *ss, plein_buf *rec)
{
	ingest_begin(ss);
	int rc = tcp_recv_take(&ss->recv, ss->s, rec);
	ingest_end(ss);
	return rc;
}

static int recv_flush(struct sess *ss)
{
	ingest_begin(ss);
	int rc = tcp_recv_flush(&ss->recv, ss->s);
	ingest_end(ss);
	return rc;
}

/* ---- handshake ---- */

static int on_vector(struct sess *ss, const plein_buf *m);
static int on_message(struct sess *ss, plein_buf *m, int final);
static void bev_attach(struct sess *ss, struct bufferevent *bev);

static void emit_hs(struct sess *ss, const plein_buf *m)
{
	plein_buf b = PLEIN_BUF_INIT;
	if (ss->ik && ss->initiator && ss->hs.step == 1)
		plein_buf_putc(&b, HS_IK); /* tells the responder which pattern */
	plein_buf_putc(&b, (int)(m->len >> 8));
	plein_buf_putc(&b, (int)(m->len & 0xff));
	plein_buf_put(&b, m->data, m->len);
	emit(ss, &b);
	plein_buf_free(&b);
}

/* Noise state for XX, or IK (rs: the responder's key, initiator only). */
static int hs_init(struct sess *ss, int ik, const unsigned char rs[32])
{
	plein_buf pro = PLEIN_BUF_INIT;
	unsigned char x_sk[32];
	int rc = tcp_prologue(&pro, ss->s);
	if (rc == 0)
		rc = tcp_static_key(x_sk, ss->s);
	if (rc == 0 && ik)
		plein_noise_init_ik(&ss->hs, ss->initiator, pro.data, pro.len, x_sk, rs);
	else if (rc == 0)
		plein_noise_init(&ss->hs, ss->initiator, pro.data, pro.len, x_sk);
	ss->ik = ik;
	sodium_memzero(x_sk, sizeof x_sk);
	plein_buf_free(&pro);
	return rc;
}

/* The peer's IK payload: its site key into peer_ed (with the key the
 * handshake proved into peer_x), the message it carries into m (left
 * empty when the vector comes in the first frame). */
static int take_payload(struct sess *ss, const plein_buf *pl, plein_buf *m)
{
	const unsigned char *p;
	size_t n;
	if (plein_msg_hs_payload_decode(ss->peer_ed, &p, &n, pl->data, pl->len) < 0)
		return plein_fail(PLEIN_EREJECT, "%s: the handshake failed: the peer did not name its site key", ss->where);
	memcpy(ss->peer_x, ss->hs.rs, 32);
	plein_buf_put(m, p, n);
	return 0;
}

/* The initiator starts: IK when it remembers which site answers at this
 * address and the roster still has its key, else XX. */
static int hs_begin(struct sess *ss)
{
	unsigned char rs[32] = { 0 };
	plein_buf m = PLEIN_BUF_INIT, pl = PLEIN_BUF_INIT;
	int ik = ss->initiator && !ss->retried && tcp_peer_known(ss->s, ss->addr, rs);
	int rc = hs_init(ss, ik, rs);
	ss->state = S_HS;
	if (rc == 0 && ik && (rc = vector_msg(ss, &m)) == 0) {
		ss->vec_sent = plein_msg_hs_payload_encode(&pl, ss->s->pk, &m, HS_ROOM);
		plein_buf_reset(&m);
	}
	if (rc == 0 && ss->initiator && (rc = plein_noise_write(&ss->hs, &m, pl.data, pl.len)) == 0)
		emit_hs(ss, &m);
	plein_buf_free(&m);
	plein_buf_free(&pl);
	return rc;
}

/* The handshake is done: transport keys, then our stream header. */
static void start_streams(struct sess *ss)
{
	unsigned char ks[32], kr[32];
	plein_noise_split(&ss->hs, ks, kr);
	plein_frame_tx_init(&ss->tx, &ss->out, ks, ss->lim.max_frame);
	plein_frame_rx_init(&ss->rx, kr, ss->lim.max_frame);
	sodium_memzero(ks, sizeof ks);
	sodium_memzero(kr, sizeof kr);
	plein_noise_wipe(&ss->hs);
	emit(ss, &ss->out);
}

/* Both keys are checked: frames may flow. */
static void hs_accepted(struct sess *ss, const char *id)
{
	start_streams(ss);
	tcp_recv_init(&ss->recv, id, ss->lim.chunk_batches, ss->lim.chunk_bytes);
	ss->recv_ready = 1;
	ss->state = S_VECTOR;
}

/* The responder refused the initiator (the REFUSED is out): close. */
static void hs_refused(struct sess *ss, const char *why)
{
	ss->sent_bye = 1;
	ss->fail_rc = plein_fail(PLEIN_EREJECT, "refused an incoming peer: %s", why);
	snprintf(ss->res.error, sizeof ss->res.error, "%s", plein_error());
	maybe_close(ss);
}

static int xx_read(struct sess *ss, int step, const plein_buf *payload)
{
	plein_buf m = PLEIN_BUF_INIT;
	int rc = 0;
	if (step == 0) { /* responder: -> e in; <- e, ee, s, es out */
		if (payload->len != 0) {
			rc = plein_fail(PLEIN_EREJECT, "%s: the handshake failed: unexpected data in its first message", ss->where);
			goto done;
		}
		ss->res.round_trips++;
		if ((rc = plein_noise_write(&ss->hs, &m, ss->s->pk, 32)) == 0)
			emit_hs(ss, &m);
		goto done;
	}
	if (payload->len != 32) {
		rc = plein_fail(PLEIN_EREJECT, "%s: the handshake failed: the peer did not name its site key", ss->where);
		goto done;
	}
	char id[PLEIN_SITEID_LEN + 1];
	memcpy(ss->peer_ed, payload->data, 32);
	memcpy(ss->peer_x, ss->hs.rs, 32);
	int auth = tcp_peer_check(ss->s, ss->peer_ed, ss->peer_x, id);
	snprintf(ss->res.peer, sizeof ss->res.peer, "%s", id);
	if (step == 1) { /* initiator: <- e, ee, s, es in; -> s, se out */
		ss->res.round_trips++;
		if (auth < 0) {
			rc = plein_fail(auth, "%s: refused the peer: %s", ss->where, plein_error());
			goto done;
		}
		/* Next time: IK straight to this site (a failed memory costs nothing). */
		tcp_peer_remember(ss->s, ss->addr, id);
		if ((rc = plein_noise_write(&ss->hs, &m, ss->s->pk, 32)) < 0)
			goto done;
		emit_hs(ss, &m);
		hs_accepted(ss, id);
		rc = send_vector(ss);
		goto done;
	}
	/* responder: -> s, se in */
	if (auth < 0) {
		char why[PLEIN_MSG_MAX_REASON + 1];
		snprintf(why, sizeof why, "%s", plein_error());
		start_streams(ss);
		plein_msg_refused_encode(&m, why);
		send_frame(ss, &m, 1);
		hs_refused(ss, why);
		goto done;
	}
	hs_accepted(ss, id);
	event_del(ss->hs_timer);
	rc = send_vector(ss);
done:
	plein_buf_free(&m);
	return rc;
}

/* IK responder: -> e, es, s, ss with the initiator's key and vector in;
 * <- e, ee, se out with ours, or REFUSED. Nothing of our replica goes
 * before the initiator passed the roster check, and no batch before its
 * first frame decrypts: a replayed msg1 gets msg2 and nothing more. */
static int ik_msg1_in(struct sess *ss, const plein_buf *payload)
{
	plein_buf theirs = PLEIN_BUF_INIT, m = PLEIN_BUF_INIT, pl = PLEIN_BUF_INIT, out = PLEIN_BUF_INIT;
	char id[PLEIN_SITEID_LEN + 1], why[PLEIN_MSG_MAX_REASON + 1] = "";
	ss->res.round_trips++;
	int rc = take_payload(ss, payload, &theirs);
	if (rc < 0)
		goto done;
	int auth = tcp_peer_check(ss->s, ss->peer_ed, ss->peer_x, id);
	snprintf(ss->res.peer, sizeof ss->res.peer, "%s", id);
	if (auth < 0) {
		snprintf(why, sizeof why, "%s", plein_error());
		plein_msg_refused_encode(&m, why);
	} else if ((rc = vector_msg(ss, &m)) < 0) {
		goto done;
	}
	int ours_in = plein_msg_hs_payload_encode(&pl, ss->s->pk, &m, HS_ROOM);
	if ((rc = plein_noise_write(&ss->hs, &out, pl.data, pl.len)) < 0)
		goto done;
	emit_hs(ss, &out);
	if (auth < 0) {
		hs_refused(ss, why);
		goto done;
	}
	hs_accepted(ss, id);
	if (!ours_in && (rc = send_vector(ss)) < 0)
		goto done;
	if (theirs.len) {
		ss->await_proof = 1;
		rc = theirs.data[0] == PLEIN_MSG_VECTOR ? on_vector(ss, &theirs)
			: plein_fail(PLEIN_EREJECT, "%s: the peer did not start with its version vector", ss->where);
	}
done:
	plein_buf_free(&theirs);
	plein_buf_free(&m);
	plein_buf_free(&pl);
	plein_buf_free(&out);
	return rc;
}

/* IK initiator: <- e, ee, se with the responder's key and vector (or
 * REFUSED) in. The handshake is done; our first frame follows at once. */
static int ik_msg2_in(struct sess *ss, const plein_buf *payload)
{
	plein_buf theirs = PLEIN_BUF_INIT;
	char id[PLEIN_SITEID_LEN + 1];
	ss->res.round_trips++;
	int rc = take_payload(ss, payload, &theirs);
	if (rc == 0 && theirs.len && theirs.data[0] == PLEIN_MSG_REFUSED)
		rc = on_message(ss, &theirs, 1);
	if (rc < 0)
		goto done;
	int auth = tcp_peer_check(ss->s, ss->peer_ed, ss->peer_x, id);
	snprintf(ss->res.peer, sizeof ss->res.peer, "%s", id);
	if (auth < 0) {
		rc = plein_fail(auth, "%s: refused the peer: %s", ss->where, plein_error());
		goto done;
	}
	hs_accepted(ss, id);
	if (!ss->vec_sent && (rc = send_vector(ss)) < 0)
		goto done;
	if (theirs.len)
		rc = theirs.data[0] == PLEIN_MSG_VECTOR ? on_vector(ss, &theirs)
			: plein_fail(PLEIN_EREJECT, "%s: the peer did not start with its version vector", ss->where);
done:
	plein_buf_free(&theirs);
	return rc;
}

static int hs_read(struct sess *ss, const unsigned char *p, size_t n)
{
	plein_buf payload = PLEIN_BUF_INIT;
	int step = ss->hs.step, rc = plein_noise_read(&ss->hs, &payload, p, n);
	if (rc < 0)
		rc = plein_fail(PLEIN_EREJECT, "%s: the handshake failed (%s): the peer is not plein, belongs to another "
				"network, %sor the connection was tampered with", ss->where, plein_error(),
				ss->ik && !ss->initiator ? "expected another key of this site, " : "");
	else if (!ss->ik)
		rc = xx_read(ss, step, &payload);
	else
		rc = ss->initiator ? ik_msg2_in(ss, &payload) : ik_msg1_in(ss, &payload);
	plein_buf_free(&payload);
	return rc;
}

/* The bytes the next handshake message takes on the wire, its 2-byte
 * length included (and the pattern byte before IK's msg1); 0 until those
 * are in. *skip: the bytes before the message. */
static size_t hs_wire_len(struct sess *ss, struct evbuffer *in, size_t *skip)
{
	unsigned char h[3];
	size_t avail = evbuffer_get_length(in);
	if (avail < 2)
		return 0;
	evbuffer_copyout(in, h, avail < 3 ? 2 : 3);
	*skip = !ss->initiator && ss->hs.step == 0 && h[0] == HS_IK ? 3 : 2;
	if (avail < *skip)
		return 0;
	return *skip + ((size_t)h[*skip - 2] << 8 | h[*skip - 1]);
}

/* An IK attempt failed before msg2 came: most likely the site at that
 * address has another key now (or is another site). Forget it and go on
 * with XX on a new connection, once, within the same handshake time. */
static int retry_xx(struct sess *ss)
{
	if (!ss->initiator || !ss->ik || ss->hs.step != 1 || ss->retried || ss->state != S_HS)
		return 0;
	struct bufferevent *bev = bufferevent_socket_new(ss->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (!bev)
		return 0;
	ss->retried = 1;
	ss->res.round_trips++; /* the attempt cost one */
	tcp_peer_remember(ss->s, ss->addr, NULL);
	plein_noise_wipe(&ss->hs);
	ss->ik = ss->vec_sent = 0;
	bufferevent_free(ss->bev);
	bev_attach(ss, bev);
	ss->state = S_CONNECT;
	if (bufferevent_socket_connect_hostname(bev, NULL, AF_UNSPEC, ss->host, ss->port) < 0 && ss->state != S_DONE)
		finish(ss, plein_fail(PLEIN_ERR, "cannot reach %s", ss->where));
	return 1;
}

/* ---- messages ---- */

static int on_vector(struct sess *ss, const plein_buf *m)
{
	plein_vv_entry *v = NULL;
	size_t n = 0;
	int rc = plein_msg_vector_decode(&v, &n, m->data, m->len);
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (strcmp(v[i].site, ss->s->id) == 0) {
			ss->res.peer_own_seq = v[i].seq;
			memcpy(ss->peer_own_tip, v[i].tip, sizeof ss->peer_own_tip);
		}
	if (rc == 0)
		rc = tcp_send_plan(&ss->send, ss->s, v, n);
	for (size_t i = 0; rc == 0 && i < ss->send.n; i++)
		if (ss->send.v[i].fork_ahead)
			tcp_recv_fork_sent(&ss->recv, ss->send.v[i].site, ss->send.v[i].next);
	free(v);
	if (rc < 0)
		return rc;
	if (!ss->await_proof)
		event_del(ss->hs_timer);
	if (!ss->ik) /* IK: the vectors came with the handshake's one round trip */
		ss->res.round_trips++;
	ss->state = S_RUN;
	pump(ss);
	return 0;
}

static int on_message(struct sess *ss, plein_buf *m, int final)
{
	int type = m->len ? m->data[0] : 0;
	if (type == PLEIN_MSG_REFUSED) {
		char why[PLEIN_MSG_MAX_REASON + 1];
		int rc = plein_msg_refused_decode(why, m->data, m->len);
		return rc < 0 ? rc : plein_fail(PLEIN_EREJECT, "%s refused this site: %s", ss->where, why);
	}
	if (final != (type == PLEIN_MSG_BYE))
		return plein_fail(PLEIN_EREJECT, "%s: the peer ended its stream out of turn", ss->where);
	if (ss->state == S_VECTOR)
		return type == PLEIN_MSG_VECTOR ? on_vector(ss, m)
			: plein_fail(PLEIN_EREJECT, "%s: the peer did not start with its version vector", ss->where);
	if (type == PLEIN_MSG_PART || type == PLEIN_MSG_BATCH) {
		if (ss->got_end)
			return plein_fail(PLEIN_EREJECT, "%s: the peer sent a batch after saying it was done", ss->where);
		if (ss->part.len + m->len - 1 > PLEIN_MSG_MAX_RECORD)
			return plein_fail(PLEIN_EREJECT, "%s: the peer sent a batch larger than any plein writes", ss->where);
		plein_buf_put(&ss->part, m->data + 1, m->len - 1);
		if (type == PLEIN_MSG_PART)
			return 0;
		ss->res.batches_in++;
		int rc = recv_take(ss, &ss->part);
		plein_buf_reset(&ss->part);
		if (rc == 0 && ss->recv.n == 0) { /* a chunk went in: is the peer still admitted? */
			char id[PLEIN_SITEID_LEN + 1];
			if (tcp_peer_check(ss->s, ss->peer_ed, ss->peer_x, id) < 0)
				rc = plein_fail(PLEIN_EREJECT, "%s: cut off: %s", ss->where, plein_error());
		}
		return rc;
	}
	if (type == PLEIN_MSG_BUSY) /* the peer is ingesting: read_cb counted it as progress */
		return plein_msg_count_decode(&(uint64_t){0}, PLEIN_MSG_BUSY, m->data, m->len);
	if (type == PLEIN_MSG_DONE && !ss->got_end) {
		uint64_t count;
		int rc = plein_msg_count_decode(&count, PLEIN_MSG_DONE, m->data, m->len);
		if (rc < 0)
			return rc;
		if (ss->part.len || count != ss->res.batches_in)
			return plein_fail(PLEIN_EREJECT, "%s: the peer said it sent %llu batches, %zu arrived", ss->where,
					  (unsigned long long)count, ss->res.batches_in);
		ss->got_end = 1;
		if ((rc = recv_flush(ss)) < 0 || (rc = maybe_bye(ss)) < 0)
			return rc;
		maybe_close(ss);
		return 0;
	}
	if (type == PLEIN_MSG_BYE) {
		uint64_t count;
		int rc = plein_msg_count_decode(&count, PLEIN_MSG_BYE, m->data, m->len);
		if (rc < 0)
			return rc;
		if (count != ss->res.batches_out)
			return plein_fail(PLEIN_ERR, "%s: the peer stored %llu of the %zu batches sent", ss->where,
					  (unsigned long long)count, ss->res.batches_out);
		ss->got_bye = 1;
		maybe_close(ss);
		return 0;
	}
	return plein_fail(PLEIN_EREJECT, "%s: the peer sent an unknown message (type %d)", ss->where, type);
}

/* IK responder: the initiator's first frame decrypted, so it holds the
 * keys and is no replay of a recorded msg1: our batches may go. */
static void proved(struct sess *ss)
{
	ss->await_proof = 0;
	if (ss->state == S_DONE)
		return;
	event_del(ss->hs_timer);
	if (ss->state == S_RUN)
		pump(ss);
}

/* ---- libevent callbacks ---- */

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct sess *ss = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	enter(ss);
	touch(ss);
	while (ss->state != S_DONE && ss->state != S_CLOSING) {
		size_t avail = evbuffer_get_length(in), want;
		int rc = 0;
		if (ss->state == S_HS) {
			size_t skip = 0;
			if ((want = hs_wire_len(ss, in, &skip)) == 0)
				break;
			if (want - skip > HS_MAX_MSG) {
				finish(ss, plein_fail(PLEIN_EREJECT, "%s: the handshake failed: a message of %zu bytes (not plein?)",
						      ss->where, want - skip));
				break;
			}
			if (avail < want)
				break;
			unsigned char *p = evbuffer_pullup(in, (ev_ssize_t)want);
			if (skip == 3) /* the initiator chose IK */
				rc = hs_init(ss, 1, NULL);
			if (rc == 0)
				rc = hs_read(ss, p + skip, want - skip);
			evbuffer_drain(in, want);
			ss->res.bytes_in += want;
		} else {
			want = ss->rx.started ? 4 : PLEIN_FRAME_HEADER_BYTES;
			if (avail < want)
				break;
			if (ss->rx.started) {
				unsigned char len[4];
				evbuffer_copyout(in, len, 4);
				size_t clen = (size_t)len[0] << 24 | (size_t)len[1] << 16 | (size_t)len[2] << 8 | len[3];
				/* An oversized length is refused by plein_frame_open on its 4 bytes. */
				if (clen <= ss->rx.max + PLEIN_FRAME_OVERHEAD)
					want = 4 + clen;
				if (avail < want)
					break;
			}
			unsigned char *p = evbuffer_pullup(in, (ev_ssize_t)want);
			size_t used = 0;
			int got = 0, final = 0;
			plein_buf_reset(&ss->msg);
			rc = plein_frame_open(&ss->rx, &used, &got, &final, &ss->msg, p, want);
			if (rc < 0) {
				rc = plein_fail(rc, "%s: %s; the session was closed", ss->where, plein_error());
			} else {
				evbuffer_drain(in, used);
				ss->res.bytes_in += used;
				if (got)
					rc = on_message(ss, &ss->msg, final);
				if (got && rc == 0 && ss->await_proof)
					proved(ss);
			}
		}
		if (rc < 0) {
			finish(ss, rc);
			break;
		}
	}
	leave(ss);
}

static void write_cb(struct bufferevent *bev, void *arg)
{
	struct sess *ss = arg;
	(void)bev;
	enter(ss);
	touch(ss);
	if (ss->state == S_RUN)
		pump(ss);
	else if (ss->state == S_CLOSING)
		half_close(ss);
	leave(ss);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct sess *ss = arg;
	int err = EVUTIL_SOCKET_ERROR();
	enter(ss);
	if (ss->state == S_DONE) {
		/* finished already */
	} else if (what & BEV_EVENT_CONNECTED) {
		touch(ss);
		int rc = hs_begin(ss);
		if (rc < 0)
			finish(ss, rc);
	} else if (ss->state == S_CLOSING) {
		finish(ss, 0);
	} else if (retry_xx(ss)) {
		/* IK failed before msg2: the same sync goes on with XX */
	} else if (what & BEV_EVENT_EOF) {
		finish(ss, plein_fail(PLEIN_ERR, "%s hung up %s", ss->where,
				      ss->state <= S_HS ? "during the handshake (is it in another network?)"
							: "before the sync was complete"));
	} else if (ss->state == S_CONNECT) {
		int dns = bufferevent_socket_get_dns_error(bev);
		finish(ss, plein_fail(PLEIN_ERR, "cannot reach %s: %s", ss->where,
				      dns ? evutil_gai_strerror(dns) : evutil_socket_error_to_string(err)));
	} else {
		finish(ss, plein_fail(PLEIN_ERR, "%s: the connection broke: %s", ss->where, evutil_socket_error_to_string(err)));
	}
	leave(ss);
}

/* ---- start and end ---- */

/* Does our chain hold the peer's copy of it: its seq, and that very batch
 * (a peer holding a fork of our chain confirms nothing)? */
static int own_chain_holds(struct sess *ss)
{
	plein_log_ref own;
	char hex[PLEIN_LOG_OID_HEX + 1];
	unsigned char at[PLEIN_MSG_TIP_BYTES];
	if (plein_log_tip(&own, ss->s->log, ss->s->id) < 0 || own.seq < ss->res.peer_own_seq)
		return 0;
	return !ss->res.peer_own_seq ||
	       (plein_log_commit_at(hex, ss->s->log, ss->s->id, ss->res.peer_own_seq) == 0 && tcp_tip_parse(at, hex) == 0 &&
		memcmp(at, ss->peer_own_tip, sizeof at) == 0);
}

static void finish(struct sess *ss, int rc)
{
	if (ss->state == S_DONE)
		return;
	ss->state = S_DONE;
	if (rc < 0 && !ss->fail_rc) {
		ss->fail_rc = rc;
		snprintf(ss->res.error, sizeof ss->res.error, "%s", plein_error());
	}
	/* What arrived before a failure is kept: the next session goes on
	 * from there. */
	if (ss->recv_ready) {
		char keep[sizeof ss->res.error];
		snprintf(keep, sizeof keep, "%s", ss->res.error);
		int frc = recv_flush(ss);
		if (frc < 0 && !ss->fail_rc) {
			ss->fail_rc = frc;
			snprintf(ss->res.error, sizeof ss->res.error, "%s", plein_error());
		} else {
			snprintf(ss->res.error, sizeof ss->res.error, "%s", keep);
		}
		ss->res.ingest = ss->recv.rep;
		memset(&ss->recv.rep, 0, sizeof ss->recv.rep);
	}
	ss->res.rc = ss->fail_rc;
	ss->res.own_confirmed = !ss->fail_rc && ss->sent_bye && ss->got_end && own_chain_holds(ss);
	if (ss->fail_rc)
		plein_fail(ss->fail_rc, "%s", ss->res.error);
	event_free(ss->hs_timer);
	event_free(ss->idle_timer);
	bufferevent_free(ss->bev);
	ss->hs_timer = ss->idle_timer = NULL;
	ss->bev = NULL;
	if (ss->cb)
		ss->cb(&ss->res, ss->arg);
	if (ss->busy == 0)
		destroy(ss);
}

static void destroy(struct sess *ss)
{
	*ss->live_prev = ss->live_next;
	if (ss->live_next)
		ss->live_next->live_prev = ss->live_prev;
	plein_tcp_result_free(&ss->res);
	tcp_send_free(&ss->send);
	tcp_recv_free(&ss->recv);
	plein_noise_wipe(&ss->hs);
	plein_frame_tx_wipe(&ss->tx);
	plein_frame_rx_wipe(&ss->rx);
	plein_buf_free(&ss->part);
	plein_buf_free(&ss->msg);
	plein_buf_free(&ss->out);
	free(ss);
}

static void bev_attach(struct sess *ss, struct bufferevent *bev)
{
	ss->bev = bev;
	/* Read no more than one frame ahead; refill output below SEND_LOW. */
	bufferevent_setwatermark(bev, EV_READ, 0, ss->lim.max_frame + PLEIN_FRAME_OVERHEAD + 65536);
	bufferevent_setwatermark(bev, EV_WRITE, SEND_LOW, 0);
	bufferevent_setcb(bev, read_cb, write_cb, event_cb, ss);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

static struct sess *sess_new(struct event_base *base, plein_site *s, struct bufferevent *bev, int initiator,
			     const plein_tcp_limits *lim, plein_tcp_done_cb cb, void *arg)
{
	struct sess *ss = plein_xcalloc(1, sizeof *ss);
	ss->base = base;
	ss->s = s;
	ss->bev = bev;
	ss->initiator = initiator;
	if (lim)
		ss->lim = *lim;
	else
		plein_tcp_limits_default(&ss->lim);
	if (ss->lim.max_frame < PLEIN_FRAME_MIN_MAX)
		ss->lim.max_frame = PLEIN_FRAME_MIN_MAX;
	if (ss->lim.chunk_batches < 1)
		ss->lim.chunk_batches = 1;
	if (ss->lim.chunk_bytes < 1)
		ss->lim.chunk_bytes = 8u << 20;
	ss->cb = cb;
	ss->arg = arg;
	ss->live_next = live;
	ss->live_prev = &live;
	if (live)
		live->live_prev = &ss->live_next;
	live = ss;
	ss->hs_timer = evtimer_new(base, hs_fired, ss);
	ss->idle_timer = evtimer_new(base, idle_fired, ss);
	struct timeval tv = { ss->lim.handshake_ms / 1000, (ss->lim.handshake_ms % 1000) * 1000 };
	evtimer_add(ss->hs_timer, &tv);
	touch(ss);
	bev_attach(ss, bev);
	return ss;
}

static int ready(plein_site *s)
{
	/* A peer hanging up must be an error to handle, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	return plein_site_log(s) ? 0 : plein_error_code() ? plein_error_code() : PLEIN_ERR;
}

int plein_tcp_accept(struct event_base *base, plein_site *s, evutil_socket_t fd,
		const plein_tcp_limits *lim, plein_tcp_done_cb cb, void *arg)
{
	int rc = ready(s);
	if (rc < 0)
		return rc;
	evutil_make_socket_nonblocking(fd);
	struct bufferevent *bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!bev)
		return plein_fail(PLEIN_ERR, "cannot take the incoming connection (out of memory?)");
	struct sess *ss = sess_new(base, s, bev, 0, lim, cb, arg);
	snprintf(ss->where, sizeof ss->where, "an incoming peer");
	if ((rc = hs_begin(ss)) < 0) {
		ss->cb = NULL; /* the caller hears of it from our return */
		finish(ss, rc); /* keeps the message */
	}
	return rc;
}

/* "HOST:PORT" or "[V6]:PORT" (a tcp:// in front and a / behind are
 * allowed) -> host and port. */
static int split_hostport(char *host, size_t cap, int *port, const char *url)
{
	char hp[300];
	const char *at = strncmp(url, "tcp://", 6) == 0 ? url + 6 : url;
	snprintf(hp, sizeof hp, "%s", at);
	size_t n = strlen(hp);
	if (n && hp[n - 1] == '/')
		hp[n - 1] = 0;
	const char *hostport = hp;
	const char *colon = strrchr(hostport, ':');
	const char *h = hostport, *he = colon;
	if (hostport[0] == '[') {
		const char *close = strchr(hostport, ']');
		if (!close || close[1] != ':')
			colon = NULL;
		h = hostport + 1;
		he = close;
	}
	char *end = NULL;
	long p = colon ? strtol(colon + 1, &end, 10) : 0;
	if (!colon || he <= h || (size_t)(he - h) >= cap || !end || *end || p < 1 || p > 65535)
		return plein_fail(PLEIN_EINVAL, "'%s' is not HOST:PORT (like tcp://plein.example.org:7420)", url);
	memcpy(host, h, (size_t)(he - h));
	host[he - h] = 0;
	*port = (int)p;
	return 0;
}

int plein_tcp_connect(struct event_base *base, plein_site *s, const char *hostport,
		const plein_tcp_limits *lim, plein_tcp_done_cb cb, void *arg)
{
	char host[256];
	plein_buf pro = PLEIN_BUF_INIT;
	int port = 0, rc = split_hostport(host, sizeof host, &port, hostport);
	if (rc == 0 && (rc = ready(s)) == 0) /* a site without a network fails here, not later */
		rc = tcp_prologue(&pro, s);
	plein_buf_free(&pro);
	if (rc < 0)
		return rc;
	struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (!bev)
		return plein_fail(PLEIN_ERR, "cannot make a socket (out of memory?)");
	struct sess *ss = sess_new(base, s, bev, 1, lim, cb, arg);
	snprintf(ss->where, sizeof ss->where, "%s", hostport);
	snprintf(ss->host, sizeof ss->host, "%s", host);
	snprintf(ss->addr, sizeof ss->addr, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
	ss->port = port;
	ss->state = S_CONNECT;
	enter(ss);
	/* No evdns base: names resolve with getaddrinfo, blocking briefly. */
	if (bufferevent_socket_connect_hostname(bev, NULL, AF_UNSPEC, host, port) < 0 && ss->state != S_DONE)
		finish(ss, plein_fail(PLEIN_ERR, "cannot reach %s", hostport));
	leave(ss);
	return 0;
}

/* ---- one-shot ---- */

static void sync_done(plein_tcp_result *r, void *arg)
{
	plein_tcp_result *out = arg;
	*out = *r;
	memset(&r->ingest, 0, sizeof r->ingest); /* the notes move to out */
}

int plein_tcp_sync(plein_tcp_result *out, plein_site *s, const char *hostport)
{
	memset(out, 0, sizeof *out);
	out->rc = 1; /* not done yet */
	struct event_base *base = event_base_new();
	if (!base) {
		out->rc = plein_fail(PLEIN_ERR, "cannot start libevent");
		snprintf(out->error, sizeof out->error, "%s", plein_error());
		return out->rc;
	}
	/* Applying one batch per transaction, as the daemon does, needs no
	 * more page cache than the daemon's (site.daemon_cache_mib): db.c's
	 * 64 MiB would only let a large pull grow (docs/tcp-sync.md). */
	int mib = plein_conf_get_int(s->conf, "site.daemon_cache_mib", 16), cache = 0;
	int rc = plein_db_cache_size(s->db, -(mib >= 2 && mib <= 1024 ? mib : 16) * 1024, &cache);
	if (rc == 0)
		rc = plein_tcp_connect(base, s, hostport, NULL, sync_done, out);
	if (rc < 0) {
		out->rc = rc;
		snprintf(out->error, sizeof out->error, "%s", plein_error());
	} else {
		event_base_dispatch(base);
	}
	event_base_free(base);
	if (cache)
		plein_db_cache_size(s->db, cache, NULL);
	if (out->rc == 1)
		out->rc = plein_fail(PLEIN_ERR, "%s: the session ended without a result", hostport);
	else if (out->rc < 0)
		plein_fail(out->rc, "%s", out->error);
	return out->rc;
}

void plein_tcp_stop(struct event_base *base)
{
	for (struct sess *ss = live, *next; ss; ss = next) {
		next = ss->live_next;
		if (ss->base != base || ss->state == S_DONE)
			continue;
		enter(ss);
		finish(ss, plein_fail(PLEIN_ERR, "%s: this side is stopping; the session was closed (what arrived whole "
				      "is kept, the next sync goes on from there)", ss->where));
		leave(ss);
		next = live; /* its callback may have ended others: start again */
	}
}

void plein_tcp_result_free(plein_tcp_result *r)
{
	plein_ingest_report_free(&r->ingest);
}
