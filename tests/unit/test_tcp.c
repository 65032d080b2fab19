/* TCP sessions (src/net/tcp.c) between real sites in one process, and a
 * hand-driven client against a live responder: a sync where nothing
 * changed is one round trip of vectors and a few hundred bytes; unknown,
 * revoked and replayed peers are refused before any data; garbage,
 * oversized and truncated frames end the session with a clear error; a
 * client that never finishes the handshake is cut; a forked chain is kept
 * as proof, never applied, and a forged proof is refused. */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "plein/digest.h"
#include "plein/frame.h"
#include "plein/journal.h"
#include "plein/log.h"
#include "plein/noise.h"
#include "plein/roster.h"
#include "plein/tcp.h"
#include "plein/tcpmsg.h"
#include "util.h"
#include "../../src/net/tcp_int.h"

struct outcome {
	int done, rc;
	char error[300], peer[PLEIN_SITEID_LEN + 1];
	uint64_t bytes_in, bytes_out;
	size_t batches_in, batches_out, accepted, rejected, forks;
	unsigned round_trips;
	int own_confirmed;
};

static void on_done(plein_tcp_result *r, void *arg)
{
	struct outcome *o = arg;
	o->done = 1;
	o->rc = r->rc;
	snprintf(o->error, sizeof o->error, "%s", r->error);
	snprintf(o->peer, sizeof o->peer, "%s", r->peer);
	o->bytes_in = r->bytes_in;
	o->bytes_out = r->bytes_out;
	o->batches_in = r->batches_in;
	o->batches_out = r->batches_out;
	o->accepted = r->ingest.accepted + r->ingest.released;
	o->rejected = r->ingest.rejected;
	o->forks = r->ingest.forks;
	o->own_confirmed = r->own_confirmed;
	o->round_trips = r->round_trips;
}

/* Two sites of one network: a is the admin; b is admitted unless told. */
static int pair(plein_site **a, plein_site **b, char *da, char *db, int admit)
{
	*a = test_site(da);
	*b = test_site(db);
	if (!*a || !*b)
		return -1;
	char hex[65];
	sodium_bin2hex(hex, sizeof hex, (*a)->pk, 32);
	if (plein_site_local_set(*b, "admin_pk", hex) < 0)
		return -1;
	uint64_t seq;
	if (admit && (plein_db_begin((*a)->db) < 0 ||
		      plein_roster_admit(*a, (*b)->id, (*b)->pk, "Borne", "branch", NULL) < 0 ||
		      plein_db_commit((*a)->db) < 0))
		return -1;
	if (plein_db_exec((*a)->db, "INSERT INTO daylog(id, text) VALUES ('a1', 'van a')") < 0 ||
	    plein_journal_seal(*a, &seq) < 0 ||
	    plein_db_exec((*b)->db, "INSERT INTO daylog(id, text) VALUES ('b1', 'van b')") < 0 ||
	    plein_journal_seal(*b, &seq) < 0)
		return -1;
	return 0;
}

static void unpair(plein_site *a, plein_site *b, const char *da, const char *db)
{
	plein_site_close(a);
	plein_site_close(b);
	test_rmdir(da);
	test_rmdir(db);
}

/* Run the loop until both outcomes are done (or far too long). */
static void run(struct event_base *base, struct outcome *x, struct outcome *y)
{
	for (int i = 0; i < 20000 && !(x->done && (!y || y->done)); i++) {
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		usleep(200);
	}
}

/* One session over a socketpair: a initiates... via accept on both ends
 * is not possible, so a listener-free trick: b accepts on one end, a
 * connects by HOST:PORT through a real listener. */
#include <event2/listener.h>
#include <netinet/in.h>
#include <arpa/inet.h>

struct lctx {
	plein_site *s;
	struct outcome *o;
	plein_tcp_limits lim;
};

static void lst_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len, void *arg)
{
	struct lctx *c = arg;
	plein_tcp_accept(evconnlistener_get_base(l), c->s, fd, &c->lim, on_done, c->o);
}

/* Listen on an ephemeral port of 127.0.0.1; *port and hostport say which. */
static struct evconnlistener *listen_any(struct event_base *base, evconnlistener_cb cb, void *arg, char hostport[64],
					 int *port)
{
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct evconnlistener *l = evconnlistener_new_bind(base, cb, arg, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
							   8, (struct sockaddr *)&sin, sizeof sin);
	socklen_t n = sizeof sin;
	getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&sin, &n);
	*port = ntohs(sin.sin_port);
	snprintf(hostport, 64, "127.0.0.1:%d", *port);
	return l;
}

static struct evconnlistener *listen_on(struct event_base *base, struct lctx *c, char hostport[64])
{
	int port;
	return listen_any(base, lst_accept, c, hostport, &port);
}

/* A full session: initiator `from` to responder `to`, both with lim
 * (NULL: the defaults). */
static void session_lim(plein_site *from, plein_site *to, struct outcome *oi, struct outcome *or,
			const plein_tcp_limits *lim)
{
	struct event_base *base = event_base_new();
	struct lctx c = { to, or, { 0 } };
	plein_tcp_limits_default(&c.lim);
	if (lim)
		c.lim = *lim;
	char hp[64];
	struct evconnlistener *l = listen_on(base, &c, hp);
	memset(oi, 0, sizeof *oi);
	memset(or, 0, sizeof *or);
	if (plein_tcp_connect(base, from, hp, lim, on_done, oi) == 0)
		run(base, oi, or);
	evconnlistener_free(l);
	event_base_free(base);
}

static void session(plein_site *from, plein_site *to, struct outcome *oi, struct outcome *or)
{
	session_lim(from, to, oi, or, NULL);
}

TEST(tcp_sync_both_ways_then_nothing_changed_at_first_contact_is_two_round_trips)
{
	char da[256], db[256];
	plein_site *a, *b;
	CHECK(pair(&a, &b, da, db, 1) == 0);
	struct outcome oi, or;
	session(b, a, &oi, &or);
	CHECK(oi.done && or.done);
	if (oi.rc)
		printf("# %s\n", oi.error);
	CHECK_EQ_INT(oi.rc, 0);
	CHECK_EQ_INT(or.rc, 0);
	CHECK_STR(oi.peer, a->id);
	CHECK_STR(or.peer, b->id);
	CHECK(oi.batches_in >= 1 && oi.batches_out == 1 && or.accepted == 1 && oi.accepted == oi.batches_in);
	char ha[80], hb[80];
	CHECK_OK(plein_digest_hex(a->db, ha));
	CHECK_OK(plein_digest_hex(b->db, hb));
	CHECK_STR(ha, hb);
	/* Nothing changed, to a new address each time (session() listens on a
	 * fresh port): first contact is XX, the handshake and one round trip
	 * of vectors. The IK case, one round trip, is
	 * tcp_ik_second_sync_with_nothing_changed_is_one_round_trip. */
	session(b, a, &oi, &or);
	CHECK_EQ_INT(oi.rc, 0);
	CHECK_EQ_INT(oi.batches_in + oi.batches_out, 0);
	CHECK_EQ_INT(oi.round_trips, 2);
	printf("# nothing changed: %llu bytes out, %llu in\n", (unsigned long long)oi.bytes_out,
	       (unsigned long long)oi.bytes_in);
	CHECK(oi.bytes_out <= 512 && oi.bytes_in <= 512);
	unpair(a, b, da, db);
}

TEST(tcp_unknown_and_revoked_peers_are_refused_with_nothing_applied)
{
	char da[256], db[256];
	plein_site *a, *b;
	CHECK(pair(&a, &b, da, db, 0) == 0);
	struct outcome oi, or;
	session(b, a, &oi, &or);
	CHECK(oi.done && or.done);
	CHECK_EQ_INT(oi.rc, PLEIN_EREJECT);
	CHECK(strstr(oi.error, "refused this site") && strstr(oi.error, "not on the roster"));
	CHECK_EQ_INT(or.rc, PLEIN_EREJECT);
	CHECK_EQ_INT(oi.batches_in + oi.batches_out + or.batches_in + or.batches_out, 0);
	plein_log_ref tip;
	CHECK_OK(plein_log_tip(&tip, plein_site_log(a), b->id));
	CHECK_EQ_INT(tip.seq, 0);
	CHECK_OK(plein_log_tip(&tip, plein_site_log(b), a->id));
	CHECK_EQ_INT(tip.seq, 0);
	/* Admitted, then revoked. */
	CHECK_OK(plein_db_begin(a->db));
	CHECK_OK(plein_roster_admit(a, b->id, b->pk, "Borne", "branch", NULL));
	CHECK_OK(plein_db_commit(a->db));
	CHECK_OK(plein_db_begin(a->db));
	CHECK_OK(plein_roster_revoke(a, b->id, NULL));
	CHECK_OK(plein_db_commit(a->db));
	session(b, a, &oi, &or);
	CHECK_EQ_INT(oi.rc, PLEIN_EREJECT);
	CHECK(strstr(oi.error, "was revoked") != NULL);
	/* The initiator refuses an unknown responder too: b knows a as its
	 * admin, but a does not know a third site c. */
	char dc[256];
	plein_site *c = test_site(dc);
	char hex[65];
	sodium_bin2hex(hex, sizeof hex, b->pk, 32);
	CHECK_OK(plein_site_local_set(c, "admin_pk", hex)); /* c thinks b is admin */
	session(a, c, &oi, &or);
	CHECK_EQ_INT(oi.rc, PLEIN_EREJECT);
	CHECK(strstr(oi.error, "refused the peer") && strstr(oi.error, "not on the roster"));
	CHECK_EQ_INT(or.rc, PLEIN_ERR); /* it only sees the hang-up */
	plein_site_close(a);
	plein_site_close(b);
	plein_site_close(c);
	test_rmdir(da);
	test_rmdir(db);
	test_rmdir(dc);
}

/* ---- a hand-driven client against a live responder ---- */

struct raw {
	struct event_base *base;
	int fd;                 /* our end */
	struct outcome o;       /* the responder's */
};

static void raw_start(struct raw *r, plein_site *resp, int handshake_ms)
{
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	r->base = event_base_new();
	r->fd = sv[1];
	fcntl(r->fd, F_SETFL, O_NONBLOCK);
	memset(&r->o, 0, sizeof r->o);
	plein_tcp_limits lim;
	plein_tcp_limits_default(&lim);
	if (handshake_ms)
		lim.handshake_ms = handshake_ms;
	plein_tcp_accept(r->base, resp, sv[0], &lim, on_done, &r->o);
}

static void raw_spin(struct raw *r, int rounds)
{
	for (int i = 0; i < rounds && !r->o.done; i++) {
		event_base_loop(r->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		usleep(200);
	}
}

static void raw_send(struct raw *r, const void *p, size_t n)
{
	if (write(r->fd, p, n) != (ssize_t)n)
		printf("# short write\n");
	raw_spin(r, 50);
}

/* Read what the responder wrote so far. */
static void raw_recv(struct raw *r, plein_buf *out)
{
	unsigned char buf[4096];
	ssize_t n;
	raw_spin(r, 50);
	while ((n = read(r->fd, buf, sizeof buf)) > 0)
		plein_buf_put(out, buf, (size_t)n);
}

static void raw_end(struct raw *r)
{
	plein_buf rest = PLEIN_BUF_INIT;
	raw_recv(r, &rest); /* unread bytes would make close() a reset */
	plein_buf_free(&rest);
	close(r->fd);
	raw_spin(r, 2000);
	event_base_free(r->base);
}

static void hs_put(plein_buf *wire, const plein_buf *m)
{
	plein_buf_putc(wire, (int)(m->len >> 8));
	plein_buf_putc(wire, (int)(m->len & 0xff));
	plein_buf_put(wire, m->data, m->len);
}

/* Play an initiator with site `as` up to and including message 3; the
 * wire bytes of msg1 and msg3 are kept; *tx is ready for frames. */
static int raw_handshake(struct raw *r, plein_site *as, plein_buf *w1, plein_buf *w3, plein_frame_tx *tx,
			 plein_buf *txbytes)
{
	plein_noise hs;
	unsigned char x[32], nid[16], ks[32], kr[32];
	plein_buf pro = PLEIN_BUF_INIT, m = PLEIN_BUF_INIT, in = PLEIN_BUF_INIT, pl = PLEIN_BUF_INIT;
	crypto_sign_ed25519_sk_to_curve25519(x, as->sk);
	plein_site_network_id(as, nid);
	plein_buf_puts(&pro, "plein-tcp/1");
	plein_buf_put(&pro, nid, 16);
	plein_noise_init(&hs, 1, pro.data, pro.len, x);
	plein_noise_write(&hs, &m, NULL, 0);
	hs_put(w1, &m);
	raw_send(r, w1->data, w1->len);
	raw_recv(r, &in);
	int rc = in.len == 130 ? plein_noise_read(&hs, &pl, in.data + 2, 128) : -1;
	if (rc == 0) {
		plein_buf_reset(&m);
		plein_noise_write(&hs, &m, as->pk, 32);
		hs_put(w3, &m);
		plein_noise_split(&hs, ks, kr);
		plein_frame_tx_init(tx, txbytes, ks, 1u << 20);
	}
	plein_buf_free(&pro);
	plein_buf_free(&m);
	plein_buf_free(&in);
	plein_buf_free(&pl);
	return rc;
}

TEST(tcp_replayed_handshake_is_refused)
{
	char da[256], db[256];
	plein_site *a, *b;
	CHECK(pair(&a, &b, da, db, 1) == 0);
	struct raw r;
	plein_buf w1 = PLEIN_BUF_INIT, w3 = PLEIN_BUF_INIT, tx = PLEIN_BUF_INIT, in = PLEIN_BUF_INIT;
	plein_frame_tx ftx;
	/* A real client's handshake, recorded. */
	raw_start(&r, a, 0);
	CHECK_OK(raw_handshake(&r, b, &w1, &w3, &ftx, &tx));
	raw_send(&r, w3.data, w3.len);
	raw_recv(&r, &in);
	CHECK(in.len > 24); /* accepted: the responder's stream header and vector */
	raw_end(&r);
	/* The same messages again on a new connection. */
	raw_start(&r, a, 0);
	raw_send(&r, w1.data, w1.len);
	plein_buf_reset(&in);
	raw_recv(&r, &in);
	CHECK_EQ_INT(in.len, 130); /* a fresh msg2 */
	raw_send(&r, w3.data, w3.len);
	raw_spin(&r, 500);
	CHECK(r.o.done);
	CHECK_EQ_INT(r.o.rc, PLEIN_EREJECT);
	CHECK(strstr(r.o.error, "handshake failed") != NULL);
	CHECK_STR(r.o.peer, "");
	CHECK_EQ_INT(r.o.batches_in + r.o.batches_out, 0);
	plein_buf_reset(&in);
	raw_recv(&r, &in);
	CHECK_EQ_INT(in.len, 0); /* nothing after msg2 */
	raw_end(&r);
	plein_log_ref tip;
	CHECK_OK(plein_log_tip(&tip, plein_site_log(a), b->id));
	CHECK_EQ_INT(tip.seq, 0);
	plein_buf_free(&w1);
	plein_buf_free(&w3);
	plein_buf_free(&tx);
	plein_buf_free(&in);
	unpair(a, b, da, db);
}

/* After a good handshake, send `bad` as the first bytes of our stream. */
static void bad_stream(plein_site *a, plein_site *b, int kind, struct outcome *out)
{
	struct raw r;
	plein_buf w1 = PLEIN_BUF_INIT, w3 = PLEIN_BUF_INIT, tx = PLEIN_BUF_INIT, m = PLEIN_BUF_INIT;
	plein_frame_tx ftx;
	raw_start(&r, a, 0);
	if (raw_handshake(&r, b, &w1, &w3, &ftx, &tx) == 0) {
		plein_buf_put(&w3, tx.data, tx.len); /* msg3, then our stream header */
		plein_buf_reset(&tx);
		if (kind == 0) { /* garbage */
			plein_buf_put(&w3, "\0\0\0\x40", 4);
			for (int i = 0; i < 64; i++)
				plein_buf_putc(&w3, i * 7);
		} else if (kind == 1) { /* oversized */
			plein_buf_put(&w3, "\x01\0\0\0", 4);
		} else if (kind == 2) { /* a frame cut short, then the hang-up */
			plein_vv_entry none;
			plein_msg_vector_encode(&m, &none, 0);
			plein_frame_seal(&ftx, &tx, m.data, m.len, 0);
			plein_buf_put(&w3, tx.data, tx.len - 3);
		} else { /* a goodbye before the vector */
			plein_msg_count_encode(&m, PLEIN_MSG_BYE, 0);
			plein_frame_seal(&ftx, &tx, m.data, m.len, 1);
			plein_buf_put(&w3, tx.data, tx.len);
		}
		raw_send(&r, w3.data, w3.len);
	}
	raw_end(&r);
	*out = r.o;
	plein_buf_free(&w1);
	plein_buf_free(&w3);
	plein_buf_free(&tx);
	plein_buf_free(&m);
}

TEST(tcp_garbage_oversized_truncated_frames_end_the_session)
{
	char da[256], db[256];
	plein_site *a, *b;
	CHECK(pair(&a, &b, da, db, 1) == 0);
	struct outcome o;
	bad_stream(a, b, 0, &o);
	CHECK(o.done && o.rc == PLEIN_EREJECT && strstr(o.error, "does not decrypt"));
	bad_stream(a, b, 1, &o);
	CHECK(o.done && o.rc == PLEIN_EREJECT && strstr(o.error, "over the limit"));
	bad_stream(a, b, 2, &o);
	CHECK(o.done && o.rc == PLEIN_ERR && strstr(o.error, "hung up before the sync was complete"));
	bad_stream(a, b, 3, &o);
	CHECK(o.done && o.rc == PLEIN_EREJECT && strstr(o.error, "did not start with its version vector"));
	CHECK_EQ_INT(o.batches_in, 0);
	plein_log_ref tip;
	CHECK_OK(plein_log_tip(&tip, plein_site_log(a), b->id));
	CHECK_EQ_INT(tip.seq, 0);
	unpair(a, b, da, db);
}

TEST(tcp_client_that_never_finishes_the_handshake_is_cut)
{
	char da[256];
	plein_site *a = test_site(da);
	CHECK(a != NULL);
	struct raw r;
	raw_start(&r, a, 100);
	raw_send(&r, "\0", 1); /* half a length, then nothing */
	raw_spin(&r, 5000);
	CHECK(r.o.done);
	CHECK(strstr(r.o.error, "did not finish within") != NULL);
	raw_end(&r);
	/* Not plein at all: a huge handshake message. */
	raw_start(&r, a, 0);
	raw_send(&r, "GET / HTTP/1.1\r\n\r\n", 18);
	CHECK(r.o.done && r.o.rc == PLEIN_EREJECT && strstr(r.o.error, "not plein"));
	raw_end(&r);
	plein_site_close(a);
	test_rmdir(da);
}

/* ---- an interrupted transfer ---- */

/* A relay between an initiator and a responder that cuts the connection
 * once `cut_after` bytes went from the initiator to the responder. */
struct relay {
	struct event_base *base;
	struct sockaddr_in to;
	struct bufferevent *a, *b;
	size_t moved, cut_after;
	int cut, eofs;
};

static void relay_close(struct relay *r)
{
	if (r->a)
		bufferevent_free(r->a);
	if (r->b)
		bufferevent_free(r->b);
	r->a = r->b = NULL;
}

static void relay_read(struct bufferevent *from, void *arg)
{
	struct relay *r = arg;
	struct bufferevent *to = from == r->a ? r->b : r->a;
	struct evbuffer *in = bufferevent_get_input(from);
	if (from == r->a && r->cut_after) {
		size_t n = evbuffer_get_length(in);
		if (r->moved + n >= r->cut_after) {
			r->cut = 1;
			relay_close(r);
			return;
		}
		r->moved += n;
	}
	bufferevent_write_buffer(to, in);
}

/* One side closed: pass its last bytes and its half-close on. */
static void relay_drained(struct bufferevent *to, void *arg)
{
	struct relay *r = arg;
	if (evbuffer_get_length(bufferevent_get_output(to)) == 0) {
		shutdown(bufferevent_getfd(to), SHUT_WR);
		if (++r->eofs == 2)
			relay_close(r);
	}
}

static void relay_event(struct bufferevent *bev, short what, void *arg)
{
	struct relay *r = arg;
	if (what & BEV_EVENT_ERROR) {
		relay_close(r);
	} else if (what & BEV_EVENT_EOF) {
		struct bufferevent *to = bev == r->a ? r->b : r->a;
		bufferevent_setcb(to, relay_read, relay_drained, relay_event, r);
		relay_drained(to, r);
	}
}

static void relay_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len, void *arg)
{
	struct relay *r = arg;
	r->a = bufferevent_socket_new(r->base, fd, BEV_OPT_CLOSE_ON_FREE);
	r->b = bufferevent_socket_new(r->base, -1, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_socket_connect(r->b, (struct sockaddr *)&r->to, sizeof r->to);
	bufferevent_setcb(r->a, relay_read, NULL, relay_event, r);
	bufferevent_setcb(r->b, relay_read, NULL, relay_event, r);
	bufferevent_enable(r->a, EV_READ | EV_WRITE);
	bufferevent_enable(r->b, EV_READ | EV_WRITE);
}

/* b sends its chain to a through a relay that may cut it. */
static void relayed_session(plein_site *b, plein_site *a, size_t cut_after, struct outcome *oi, struct outcome *or,
			    int *was_cut)
{
	struct event_base *base = event_base_new();
	struct lctx c = { a, or, { 0 } };
	plein_tcp_limits_default(&c.lim);
	c.lim.chunk_batches = 4; /* store every 4 batches */
	char hp[64], rp[64];
	int port;
	struct evconnlistener *l = listen_any(base, lst_accept, &c, hp, &port);
	struct relay r;
	memset(&r, 0, sizeof r);
	r.base = base;
	r.cut_after = cut_after;
	r.to.sin_family = AF_INET;
	r.to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	r.to.sin_port = htons((uint16_t)port);
	struct evconnlistener *rl = listen_any(base, relay_accept, &r, rp, &port);
	memset(oi, 0, sizeof *oi);
	memset(or, 0, sizeof *or);
	if (plein_tcp_connect(base, b, rp, NULL, on_done, oi) == 0)
		run(base, oi, or);
	*was_cut = r.cut;
	relay_close(&r);
	evconnlistener_free(rl);
	evconnlistener_free(l);
	event_base_free(base);
}

TEST(tcp_interrupted_transfer_resumes_where_it_stopped)
{
	char da[256], db[256];
	plein_site *a, *b;
	CHECK(pair(&a, &b, da, db, 1) == 0);
	struct outcome oi, or;
	/* b learns the roster first, then makes 40 more batches. */
	session(b, a, &oi, &or);
	CHECK_EQ_INT(oi.rc, 0);
	for (int i = 0; i < 40; i++) {
		char sql[200];
		uint64_t seq;
		snprintf(sql, sizeof sql, "INSERT INTO daylog(id, text) VALUES ('r%d', '%s')", i,
			 "een regel die wat ruimte inneemt zodat de stroom lang genoeg is om te knippen");
		CHECK_OK(plein_db_exec(b->db, sql));
		CHECK_OK(plein_journal_seal(b, &seq));
	}
	plein_log_ref tip;
	CHECK_OK(plein_log_tip(&tip, plein_site_log(b), b->id));
	uint64_t total = tip.seq;
	CHECK_EQ_INT(total, 41);
	int cut = 0;
	relayed_session(b, a, 12000, &oi, &or, &cut);
	CHECK(cut);
	CHECK(oi.done && oi.rc != 0 && or.done && or.rc != 0);
	CHECK_OK(plein_log_tip(&tip, plein_site_log(a), b->id));
	uint64_t kept = tip.seq;
	printf("# cut after %zu of %zu batches; %llu of b's chain adopted\n", or.batches_in, oi.batches_out,
	       (unsigned long long)kept);
	CHECK(kept > 1 && kept < total);
	/* The next session sends only the rest. */
	relayed_session(b, a, 0, &oi, &or, &cut);
	if (oi.rc)
		printf("# %s / %s\n", oi.error, or.error);
	CHECK_EQ_INT(oi.rc, 0);
	CHECK_EQ_INT(oi.batches_out, total - kept);
	CHECK_EQ_INT(or.accepted, total - kept);
	CHECK_OK(plein_log_tip(&tip, plein_site_log(a), b->id));
	CHECK_EQ_INT(tip.seq, total);
	char ha[80], hb[80];
	CHECK_OK(plein_digest_hex(a->db, ha));
	CHECK_OK(plein_digest_hex(b->db, hb));
	CHECK_STR(ha, hb);
	unpair(a, b, da, db);
}

TEST(tcp_batches_larger_than_a_frame_go_in_pieces)
{
	char da[256], db[256];
	plein_site *a, *b;
	CHECK(pair(&a, &b, da, db, 1) == 0);
	/* Batches of several KiB over frames of at most 1 KiB. */
	for (int i = 0; i < 5; i++) {
		char sql[8300];
		uint64_t seq;
		int n = snprintf(sql, sizeof sql, "INSERT INTO daylog(id, text) VALUES ('big%d', '", i);
		for (int k = 0; k < 8000; k++)
			sql[n++] = (char)('a' + randombytes_uniform(26)); /* incompressible enough */
		snprintf(sql + n, sizeof sql - (size_t)n, "')");
		CHECK_OK(plein_db_exec(b->db, sql));
		CHECK_OK(plein_journal_seal(b, &seq));
	}
	plein_tcp_limits lim;
	plein_tcp_limits_default(&lim);
	lim.max_frame = 1024;
	struct outcome oi, or;
	session_lim(b, a, &oi, &or, &lim);
	if (oi.rc)
		printf("# %s / %s\n", oi.error, or.error);
	CHECK_EQ_INT(oi.rc, 0);
	CHECK_EQ_INT(or.accepted, 6);
	CHECK(oi.bytes_out > 5 * 4096);
	char ha[80], hb[80];
	CHECK_OK(plein_digest_hex(a->db, ha));
	CHECK_OK(plein_digest_hex(b->db, hb));
	CHECK_STR(ha, hb);
	unpair(a, b, da, db);
}

/* plein_log_append_incoming, which stores what arrives over TCP. */
TEST(tcp_log_append_incoming_builds_on_the_verified_chain)
{
	char da[256], db[256];
	plein_site *a = test_site(da), *b = test_site(db);
	CHECK(a && b);
	plein_log_entry e[5];
	plein_log_batch lb[5];
	memset(e, 0, sizeof e);
	for (int i = 0; i < 5; i++) {
		char sql[100];
		uint64_t seq;
		snprintf(sql, sizeof sql, "INSERT INTO daylog(id, text) VALUES ('x%d', 'regel')", i);
		CHECK_OK(plein_db_exec(b->db, sql));
		CHECK_OK(plein_journal_seal(b, &seq));
		CHECK_OK(plein_log_read(&e[i], plein_site_log(b), b->id, (uint64_t)i + 1));
		plein_log_batch_of(&lb[i], &e[i]);
	}
	plein_log *log = plein_site_log(a);
	size_t added = 9;
	CHECK_OK(plein_log_append_run(&added, log, lb, 1)); /* a holds batch 1 of b, verified */
	CHECK_OK(plein_log_append_incoming(&added, log, "tcp-x", lb + 1, 2));
	CHECK_EQ_INT(added, 2);
	char ref[200], ours[PLEIN_LOG_OID_HEX + 1], theirs[PLEIN_LOG_OID_HEX + 1];
	snprintf(ref, sizeof ref, "refs/plein/incoming/tcp-x/%s", b->id);
	/* A whole chain from 1, with the commits the signer made. */
	for (uint64_t s = 1; s <= 3; s++) {
		CHECK_OK(plein_log_commit_at(ours, plein_site_log(b), b->id, s));
		CHECK_OK(plein_log_commit_at(theirs, log, ref, s));
		CHECK_STR(theirs, ours);
	}
	/* A leftover incoming ref is continued; what it holds is skipped. */
	CHECK_OK(plein_log_append_incoming(&added, log, "tcp-x", lb + 2, 2));
	CHECK_EQ_INT(added, 1);
	CHECK_EQ_INT(plein_log_append_incoming(&added, log, "tcp-y", lb + 3, 2), PLEIN_LOG_EGAP);
	CHECK_EQ_INT(plein_log_append_incoming(&added, log, "bad/key", lb + 1, 1), PLEIN_EINVAL);
	plein_log_ref tip;
	CHECK_OK(plein_log_tip(&tip, log, b->id));
	CHECK_EQ_INT(tip.seq, 1); /* the verified chain did not move */
	for (int i = 0; i < 5; i++)
		plein_log_entry_free(&e[i]);
	unpair(a, b, da, db);
}

/* ---- IK: one round trip when the initiator knows the site ---- */

/* A responder that keeps one address across sessions, so the initiator
 * can remember which site answers there. Its sessions are counted: a
 * failed IK attempt and the XX retry are two. */
struct fixed {
	struct event_base *base;
	struct evconnlistener *l;
	plein_site *s;
	struct outcome o;          /* the responder's last session */
	int n;                     /* its sessions done */
	char hp[64];
};

static void fixed_done(plein_tcp_result *r, void *arg)
{
	struct fixed *f = arg;
	on_done(r, &f->o);
	f->n++;
}

static void fixed_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len, void *arg)
{
	struct fixed *f = arg;
	plein_tcp_accept(evconnlistener_get_base(l), f->s, fd, NULL, fixed_done, f);
}

static void fixed_open(struct fixed *f, plein_site *to)
{
	int port;
	memset(f, 0, sizeof *f);
	f->base = event_base_new();
	f->s = to;
	f->l = listen_any(f->base, fixed_accept, f, f->hp, &port);
}

/* from syncs with whoever listens; wait for `nresp` responder sessions. */
static void fixed_session(struct fixed *f, plein_site *from, struct outcome *oi, int nresp)
{
	memset(oi, 0, sizeof *oi);
	memset(&f->o, 0, sizeof f->o);
	f->n = 0;
	if (plein_tcp_connect(f->base, from, f->hp, NULL, on_done, oi) < 0)
		return;
	for (int i = 0; i < 20000 && !(oi->done && f->n >= nresp); i++) {
		event_base_loop(f->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		usleep(200);
	}
}

static void fixed_close(struct fixed *f)
{
	evconnlistener_free(f->l);
	event_base_free(f->base);
}

/* pair(), a listening at f, and b's first sync with it (XX): 0 if it worked. */
static int fixed_pair(plein_site **a, plein_site **b, char *da, char *db, struct fixed *f, struct outcome *oi)
{
	if (pair(a, b, da, db, 1) < 0)
		return -1;
	fixed_open(f, *a);
	fixed_session(f, *b, oi, 1);
	return oi->rc == 0 && f->o.rc == 0 && oi->round_trips == 2 ? 0 : -1;
}

TEST(tcp_ik_second_sync_with_nothing_changed_is_one_round_trip)
{
	char da[256], db[256];
	plein_site *a, *b;
	struct fixed f;
	struct outcome oi;
	/* First contact: XX, handshake plus vectors. */
	CHECK(fixed_pair(&a, &b, da, db, &f, &oi) == 0);
	CHECK(oi.batches_in >= 1 && oi.batches_out == 1);
	char key[128], *was;
	snprintf(key, sizeof key, "tcp_site:%s", f.hp);
	CHECK((was = plein_site_local_get(b, key)) != NULL && strcmp(was, a->id) == 0);
	free(was);
	/* Nothing changed: IK, its msg2 the only wait. */
	fixed_session(&f, b, &oi, 1);
	if (oi.rc)
		printf("# %s\n", oi.error);
	CHECK_EQ_INT(oi.rc, 0);
	CHECK_EQ_INT(f.o.rc, 0);
	CHECK_STR(oi.peer, a->id);
	CHECK_STR(f.o.peer, b->id);
	CHECK_EQ_INT(oi.batches_in + oi.batches_out, 0);
	CHECK_EQ_INT(oi.round_trips, 1);
	printf("# IK, nothing changed: %llu bytes out, %llu in, %u round trip\n", (unsigned long long)oi.bytes_out,
	       (unsigned long long)oi.bytes_in, oi.round_trips);
	CHECK(oi.bytes_out <= 512 && oi.bytes_in <= 512);
	/* Changes both ways over IK: the batches go, the digests agree. */
	uint64_t seq;
	CHECK_OK(plein_db_exec(a->db, "INSERT INTO daylog(id, text) VALUES ('a2', 'nog van a')"));
	CHECK_OK(plein_journal_seal(a, &seq));
	CHECK_OK(plein_db_exec(b->db, "INSERT INTO daylog(id, text) VALUES ('b2', 'nog van b')"));
	CHECK_OK(plein_journal_seal(b, &seq));
	fixed_session(&f, b, &oi, 1);
	CHECK_EQ_INT(oi.rc, 0);
	CHECK_EQ_INT(f.o.rc, 0);
	CHECK(oi.batches_in == 1 && oi.batches_out == 1 && oi.accepted == 1 && f.o.accepted == 1);
	char ha[80], hb[80];
	CHECK_OK(plein_digest_hex(a->db, ha));
	CHECK_OK(plein_digest_hex(b->db, hb));
	CHECK_STR(ha, hb);
	fixed_close(&f);
	unpair(a, b, da, db);
}

TEST(tcp_ik_to_a_site_with_another_key_falls_back_to_xx)
{
	char da[256], db[256], dc[256];
	plein_site *a, *b;
	CHECK(pair(&a, &b, da, db, 1) == 0);
	/* c is admitted too; b and c learn the roster from a. */
	plein_site *c = test_site(dc);
	char hex[65];
	uint64_t seq;
	sodium_bin2hex(hex, sizeof hex, a->pk, 32);
	CHECK_OK(plein_site_local_set(c, "admin_pk", hex));
	CHECK_OK(plein_db_begin(a->db));
	CHECK_OK(plein_roster_admit(a, c->id, c->pk, "Cadzand", "branch", NULL));
	CHECK_OK(plein_db_commit(a->db));
	CHECK_OK(plein_journal_seal(a, &seq));
	struct outcome oi, or;
	session(c, a, &oi, &or);
	CHECK_EQ_INT(oi.rc, 0);
	struct fixed f;
	fixed_open(&f, a);
	fixed_session(&f, b, &oi, 1);
	CHECK_EQ_INT(oi.rc, 0);
	/* Now c answers at a's address: b's IK (for a's key) cannot be read
	 * there; b forgets a, retries with XX and syncs with c. */
	f.s = c;
	fixed_session(&f, b, &oi, 2);
	if (oi.rc)
		printf("# %s\n", oi.error);
	CHECK_EQ_INT(oi.rc, 0);
	CHECK_STR(oi.peer, c->id);
	CHECK_EQ_INT(f.n, 2);
	CHECK_EQ_INT(f.o.rc, 0); /* c's second session: the XX one */
	CHECK_EQ_INT(oi.round_trips, 3); /* the failed attempt, then XX's two */
	char key[128], *was;
	snprintf(key, sizeof key, "tcp_site:%s", f.hp);
	CHECK((was = plein_site_local_get(b, key)) != NULL && strcmp(was, c->id) == 0);
	free(was);
	/* And the next sync is IK with c. */
	fixed_session(&f, b, &oi, 1);
	CHECK_EQ_INT(oi.rc, 0);
	CHECK_EQ_INT(oi.round_trips, 1);
	CHECK_STR(oi.peer, c->id);
	fixed_close(&f);
	plein_site_close(a);
	plein_site_close(b);
	plein_site_close(c);
	test_rmdir(da);
	test_rmdir(db);
	test_rmdir(dc);
}

TEST(tcp_ik_revoked_initiator_is_refused_before_any_vector)
{
	char da[256], db[256];
	plein_site *a, *b;
	struct fixed f;
	struct outcome oi;
	CHECK(fixed_pair(&a, &b, da, db, &f, &oi) == 0);
	CHECK_OK(plein_db_begin(a->db));
	CHECK_OK(plein_roster_revoke(a, b->id, NULL));
	CHECK_OK(plein_db_commit(a->db));
	uint64_t seq;
	CHECK_OK(plein_db_exec(a->db, "INSERT INTO daylog(id, text) VALUES ('a2', 'geheim')"));
	CHECK_OK(plein_journal_seal(a, &seq));
	/* b still remembers a: IK, and a's msg2 carries only REFUSED. */
	fixed_session(&f, b, &oi, 1);
	CHECK_EQ_INT(oi.rc, PLEIN_EREJECT);
	CHECK(strstr(oi.error, "refused this site") && strstr(oi.error, "was revoked"));
	CHECK_EQ_INT(f.o.rc, PLEIN_EREJECT);
	CHECK_EQ_INT(f.o.batches_out + oi.batches_in, 0);
	/* What b received is msg2 alone: 2 length bytes, e (32), then the
	 * payload (a's key, the flag, the REFUSED) and its tag: no vector, no
	 * stream header, no frame. */
	const char *why = strstr(f.o.error, "refused an incoming peer: ");
	CHECK(why != NULL);
	size_t reason = strlen(why + strlen("refused an incoming peer: "));
	CHECK_EQ_INT(oi.bytes_in, 2 + 32 + 32 + 1 + 1 + reason + 16);
	CHECK_EQ_INT(f.o.bytes_out, oi.bytes_in);
	fixed_close(&f);
	unpair(a, b, da, db);
}

/* An IK msg1 from site `as` to `to`, with an empty vector inline (or,
 * flag 0, to come in the first frame). */
static void raw_ik_msg1_flag(plein_noise *hs, plein_site *as, plein_site *to, plein_buf *wire, int inline_vector)
{
	unsigned char x[32], rs[32], nid[16];
	plein_buf pro = PLEIN_BUF_INIT, pl = PLEIN_BUF_INIT, m = PLEIN_BUF_INIT;
	crypto_sign_ed25519_sk_to_curve25519(x, as->sk);
	if (crypto_sign_ed25519_pk_to_curve25519(rs, to->pk) != 0)
		memset(rs, 0, sizeof rs);
	plein_site_network_id(as, nid);
	plein_buf_puts(&pro, "plein-tcp/1");
	plein_buf_put(&pro, nid, 16);
	plein_noise_init_ik(hs, 1, pro.data, pro.len, x, rs);
	plein_buf_put(&pl, as->pk, 32);
	plein_buf_putc(&pl, inline_vector);
	plein_vv_entry none;
	if (inline_vector)
		plein_msg_vector_encode(&pl, &none, 0);
	plein_noise_write(hs, &m, pl.data, pl.len);
	plein_buf_putc(wire, 'I');
	hs_put(wire, &m);
	plein_buf_free(&pro);
	plein_buf_free(&pl);
	plein_buf_free(&m);
}

/* Play IK initiator `as` against responder r: msg1 (flag as given) out
 * as *wire; 0 if exactly msg2 and a stream header came back, msg2
 * decrypted (its payload in *pl) and *tx is ready for our frames. */
static int raw_ik_open(struct raw *r, plein_site *as, plein_site *to, int flag, plein_buf *wire, plein_buf *pl,
		       plein_frame_tx *ftx, plein_buf *tx)
{
	plein_noise hs;
	plein_buf in = PLEIN_BUF_INIT;
	unsigned char ks[32], kr[32];
	raw_ik_msg1_flag(&hs, as, to, wire, flag);
	raw_send(r, wire->data, wire->len);
	raw_recv(r, &in);
	size_t n2 = in.len > 2 ? (size_t)in.data[0] << 8 | in.data[1] : 0;
	int rc = in.len == 2 + n2 + PLEIN_FRAME_HEADER_BYTES ? plein_noise_read(&hs, pl, in.data + 2, n2) : -1;
	if (rc == 0) {
		plein_noise_split(&hs, ks, kr);
		plein_frame_tx_init(ftx, tx, ks, 1u << 20);
	}
	plein_noise_wipe(&hs);
	plein_buf_free(&in);
	return rc;
}

/* What an IK client test uses, and its end. */
struct ik_client {
	plein_buf w1, in, pl, tx, m; /* msg1 on the wire, what came, msg2's payload, our frames, a message */
	plein_frame_tx ftx;
};

static void ik_client_end(struct ik_client *c, plein_site *a, plein_site *b, const char *da, const char *db)
{
	plein_frame_tx_wipe(&c->ftx);
	plein_buf_free(&c->w1);
	plein_buf_free(&c->in);
	plein_buf_free(&c->pl);
	plein_buf_free(&c->tx);
	plein_buf_free(&c->m);
	unpair(a, b, da, db);
}

TEST(tcp_ik_replayed_msg1_gets_no_batches)
{
	char da[256], db[256];
	plein_site *a, *b;
	CHECK(pair(&a, &b, da, db, 1) == 0);
	struct raw r;
	struct ik_client c;
	memset(&c, 0, sizeof c); /* empty buffers */
	/* The real b, with an empty vector: a has batches for it, but sends
	 * only msg2 and its stream header until b's first frame decrypts. */
	raw_start(&r, a, 0);
	CHECK_OK(raw_ik_open(&r, b, a, 1, &c.w1, &c.pl, &c.ftx, &c.tx));
	CHECK(c.pl.len > 33 && c.pl.data[32] == 1 && c.pl.data[33] == PLEIN_MSG_VECTOR); /* a's vector */
	plein_msg_count_encode(&c.m, PLEIN_MSG_DONE, 0);
	plein_frame_seal(&c.ftx, &c.tx, c.m.data, c.m.len, 0);
	raw_send(&r, c.tx.data, c.tx.len);
	plein_buf_reset(&c.in);
	raw_recv(&r, &c.in);
	CHECK(c.in.len > 100); /* proved: a's batches and its DONE came */
	raw_end(&r);
	CHECK(r.o.batches_out >= 1);
	/* The same msg1 and first frame again, on a new connection. */
	raw_start(&r, a, 0);
	raw_send(&r, c.w1.data, c.w1.len);
	plein_buf_reset(&c.in);
	raw_recv(&r, &c.in);
	size_t n2 = c.in.len > 2 ? (size_t)c.in.data[0] << 8 | c.in.data[1] : 0;
	CHECK_EQ_INT(c.in.len, 2 + n2 + PLEIN_FRAME_HEADER_BYTES); /* a fresh msg2, a header, nothing more */
	raw_send(&r, c.tx.data, c.tx.len);
	raw_spin(&r, 500);
	CHECK(r.o.done);
	CHECK_EQ_INT(r.o.rc, PLEIN_EREJECT);
	CHECK(strstr(r.o.error, "does not decrypt") != NULL);
	CHECK_EQ_INT(r.o.batches_in + r.o.batches_out, 0);
	plein_buf_reset(&c.in);
	raw_recv(&r, &c.in);
	CHECK_EQ_INT(c.in.len, 0);
	raw_end(&r);
	/* A replay that sends nothing more is cut by the handshake time. */
	raw_start(&r, a, 200);
	raw_send(&r, c.w1.data, c.w1.len);
	raw_spin(&r, 5000);
	CHECK(r.o.done && strstr(r.o.error, "did not finish within"));
	CHECK_EQ_INT(r.o.batches_out, 0);
	raw_end(&r);
	plein_log_ref tip;
	CHECK_OK(plein_log_tip(&tip, plein_site_log(a), b->id));
	CHECK_EQ_INT(tip.seq, 0);
	ik_client_end(&c, a, b, da, db);
}

TEST(tcp_ik_vector_too_large_for_the_handshake_comes_in_the_first_frame)
{
	char da[256], db[256];
	plein_site *a, *b;
	CHECK(pair(&a, &b, da, db, 1) == 0);
	struct raw r;
	plein_noise hs;
	struct ik_client c;
	memset(&c, 0, sizeof c); /* empty buffers */
	/* b's msg1 says (flag 0) that its vector is its first frame: a
	 * answers msg2 and its header, then waits for it. */
	raw_start(&r, a, 0);
	CHECK_OK(raw_ik_open(&r, b, a, 0, &c.w1, &c.pl, &c.ftx, &c.tx));
	plein_vv_entry none;
	plein_msg_vector_encode(&c.m, &none, 0);
	plein_frame_seal(&c.ftx, &c.tx, c.m.data, c.m.len, 0);
	plein_buf_reset(&c.m);
	plein_msg_count_encode(&c.m, PLEIN_MSG_DONE, 0);
	plein_frame_seal(&c.ftx, &c.tx, c.m.data, c.m.len, 0);
	raw_send(&r, c.tx.data, c.tx.len);
	plein_buf_reset(&c.in);
	raw_recv(&r, &c.in);
	CHECK(c.in.len > 100); /* a's batches and DONE */
	raw_end(&r);
	CHECK_STR(r.o.peer, b->id);
	CHECK(r.o.batches_out >= 1);
	/* A flag other than 0 or 1 is malformed: refused, nothing sent. */
	plein_buf_reset(&c.w1);
	plein_noise_wipe(&hs);
	raw_start(&r, a, 0);
	raw_ik_msg1_flag(&hs, b, a, &c.w1, 2);
	raw_send(&r, c.w1.data, c.w1.len);
	plein_buf_reset(&c.in);
	raw_recv(&r, &c.in);
	CHECK_EQ_INT(c.in.len, 0);
	CHECK(r.o.done && r.o.rc == PLEIN_EREJECT && strstr(r.o.error, "did not name its site key"));
	raw_end(&r);
	plein_noise_wipe(&hs);
	ik_client_end(&c, a, b, da, db);
}

/* Seal one daylog row at s. */
static int seal_row(plein_site *s, const char *id, const char *text)
{
	char sql[200];
	uint64_t seq;
	snprintf(sql, sizeof sql, "INSERT INTO daylog(id, text) VALUES ('%s', '%s')", id, text);
	return plein_db_exec(s->db, sql) < 0 ? -1 : plein_journal_seal(s, &seq);
}

/* Is there a fork proof of batch seq of site at s? */
static int has_proof(plein_site *s, const char *site, uint64_t seq)
{
	char ref[PLEIN_LOG_REF_MAX];
	plein_log_entry e;
	memset(&e, 0, sizeof e);
	snprintf(ref, sizeof ref, "refs/plein/forks/%s/%llu-1", site, (unsigned long long)seq);
	int found = plein_site_log(s) && plein_log_read(&e, s->log, ref, 0) == 0;
	plein_log_entry_free(&e);
	return found;
}

/* b's site dir copied to b2 (a copy that goes on writing): both seal a
 * batch 2, b's reaches a first. A forged batch 2 (its signature altered)
 * is refused and not kept as proof; the real one from b2 is kept at a,
 * b's at b2, and neither is applied. Then b2's longer chain (batch 3) is
 * a fork at a, not a gap. */
TEST(tcp_fork_of_equal_and_greater_length_is_kept_as_proof)
{
	char da[256], db[256], db2[300], cmd[1400];
	plein_site *a, *b, *b2 = NULL;
	struct outcome oi, or;
	CHECK(pair(&a, &b, da, db, 1) == 0);
	session(b, a, &oi, &or);
	CHECK_EQ_INT(oi.rc, 0);
	plein_site_close(b);
	snprintf(db2, sizeof db2, "%s.copy", db);
	snprintf(cmd, sizeof cmd, "cp -a '%s' '%s'", db, db2);
	CHECK(system(cmd) == 0);
	CHECK_OK(plein_site_open(&b, db));
	CHECK_OK(plein_site_open(&b2, db2));
	CHECK_OK(plein_journal_resume(b2)); /* as if a peer confirmed the copy */
	CHECK_OK(seal_row(b, "orig", "het origineel"));
	CHECK_OK(seal_row(b2, "kopie", "de kopie"));
	session(b, a, &oi, &or);
	CHECK(oi.rc == 0 && or.accepted == 1);

	/* A batch 2 that b2 did not sign: refused, no proof. */
	plein_log_entry e;
	memset(&e, 0, sizeof e);
	CHECK_OK(plein_log_read(&e, b2->log, b2->id, 2));
	e.sig.data[0] ^= 1;
	plein_buf rec = PLEIN_BUF_INIT;
	plein_msg_record_encode(&rec, &e);
	plein_log_entry_free(&e);
	tcp_recv r;
	tcp_recv_init(&r, b2->id, 16, 1u << 20);
	CHECK_OK(tcp_recv_take(&r, a, &rec));
	CHECK_OK(tcp_recv_flush(&r, a));
	CHECK(r.rep.rejected == 1 && r.rep.forks == 0 && r.rep.nnotes == 1 &&
	      strstr(r.rep.notes[0].reason, "not kept as a fork proof"));
	CHECK(!has_proof(a, b->id, 2));
	tcp_recv_free(&r);
	plein_buf_free(&rec);

	/* Equal length: each side gets the other's batch 2 as the proof. */
	session(b2, a, &oi, &or);
	CHECK_EQ_INT(oi.rc, 0);
	CHECK(oi.batches_in == 1 && oi.batches_out == 1 && oi.forks == 1 && or.forks == 1);
	CHECK(oi.accepted == 0 && or.accepted == 0);
	CHECK(has_proof(a, b->id, 2) && has_proof(b2, b->id, 2));
	CHECK(!oi.own_confirmed); /* a holds another history of b2's chain */
	/* Logged where 'plein status' counts refusals: the forged one and the fork. */
	int64_t refused = 0;
	CHECK(plein_db_int(a->db, &refused, "SELECT count(*) FROM plein_rejected", NULL) == 0 && refused == 2);
	CHECK(plein_db_int(b2->db, &refused, "SELECT count(*) FROM plein_rejected WHERE reason LIKE '%two different%'",
			   NULL) == 0 && refused == 1);
	plein_log_ref t;
	CHECK(plein_log_tip(&t, a->log, b->id) == 0 && t.seq == 2);
	char ca[PLEIN_LOG_OID_HEX + 1], cb[PLEIN_LOG_OID_HEX + 1];
	CHECK_OK(plein_log_commit_at(ca, a->log, b->id, 2));
	CHECK_OK(plein_log_commit_at(cb, b->log, b->id, 2));
	CHECK_STR(ca, cb); /* a's chain of b is still b's */

	/* Greater length, to a site without the proof yet: a fresh copy of a. */
	char da2[300];
	plein_site *a2 = NULL;
	snprintf(da2, sizeof da2, "%s.fresh", da);
	plein_site_close(a);
	a = NULL;
	/* a2 is a as it was before the proof: drop the proof ref from a copy. */
	snprintf(cmd, sizeof cmd, "cp -a '%s' '%s' && git --git-dir '%s/log.git' update-ref -d 'refs/plein/forks/%s/2-1'",
		 da, da2, da2, b->id);
	CHECK(system(cmd) == 0);
	CHECK_OK(plein_site_open(&a2, da2));
	CHECK_OK(plein_site_open(&a, da));
	CHECK(!has_proof(a2, b->id, 2));
	CHECK_OK(seal_row(b2, "kopie2", "de kopie schrijft door"));
	session(b2, a2, &oi, &or);
	CHECK_EQ_INT(oi.rc, 0);
	/* b2 sent its batch 2 only (not 3, which would not follow a2's 2). */
	CHECK(oi.batches_out == 1 && oi.batches_in == 0 && or.forks == 1 && or.accepted == 0);
	CHECK(oi.rejected == 1); /* b2 is told: the peer keeps its batch as proof */
	CHECK(has_proof(a2, b->id, 2));
	CHECK(plein_log_tip(&t, a2->log, b->id) == 0 && t.seq == 2);
	/* Chains that agree move nothing. */
	session(b, a, &oi, &or);
	CHECK(oi.rc == 0 && oi.batches_in + oi.batches_out == 0 && oi.own_confirmed);
	plein_site_close(a);
	plein_site_close(a2);
	plein_site_close(b);
	plein_site_close(b2);
	test_rmdir(da);
	test_rmdir(da2);
	test_rmdir(db);
	test_rmdir(db2);
}
