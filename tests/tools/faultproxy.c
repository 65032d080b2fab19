/* A fault-injecting TCP proxy for tests, on 127.0.0.1 only.
 *   faultproxy PORT_FILE TARGET_PORT FAULTS [SEED]
 * Listens on an ephemeral port (written to PORT_FILE) and relays each
 * connection to 127.0.0.1:TARGET_PORT, injecting one fault per connection
 * at a pseudo-random byte (from SEED) in a pseudo-random direction.
 * FAULTS is a comma-separated list used in turn, connection by connection:
 *   clean  relay faithfully
 *   drop   lose a run of 1..64 bytes
 *   dup    send a run of 1..64 bytes twice
 *   flip   flip one bit
 *   trunc  pass the bytes before the fault, then close both sides
 *   cut    close both sides at once
 *   delay  hold the bytes for 300 ms, then pass everything (not an error)
 * Each connection's fault is printed to stdout: "conn N: FAULT at BYTE dir D". */
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include "loopback.h"
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

enum { CLEAN, DROP, DUP, FLIP, TRUNC, CUT, DELAY };
static const char *const names[] = { "clean", "drop", "dup", "flip", "trunc", "cut", "delay", NULL };

static struct event_base *base;
static struct sockaddr_in target;
static int faults[64], nfaults, nconn;
static uint64_t rng;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

struct conn {
	struct bufferevent *side[2]; /* 0: the client, 1: the target */
	int fault, dir, fired, eofs;
	size_t at, moved[2];
	struct evbuffer *held;       /* delay: bytes held back */
	struct event *timer;
};

static void conn_free(struct conn *c)
{
	for (int i = 0; i < 2; i++)
		if (c->side[i])
			bufferevent_free(c->side[i]);
	if (c->held)
		evbuffer_free(c->held);
	if (c->timer)
		event_free(c->timer);
	free(c);
}

static void on_drained(struct bufferevent *to, void *arg);
static void on_event(struct bufferevent *bev, short what, void *arg);

static void release(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	(void)fd;
	(void)what;
	if (c->side[!c->dir])
		bufferevent_write_buffer(c->side[!c->dir], c->held);
	bufferevent_enable(c->side[c->dir], EV_READ);
}

/* Pass bytes from side i on, applying the fault once its byte comes. */
static void on_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	int i = bev == c->side[1];
	struct bufferevent *to = c->side[!i];
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t n = evbuffer_get_length(in);
	if (c->fired || i != c->dir || c->moved[i] + n <= c->at) {
		c->moved[i] += n;
		bufferevent_write_buffer(to, in);
		return;
	}
	size_t pos = c->at - c->moved[i], run = 1 + next() % 64;
	unsigned char *buf = malloc(n);
	evbuffer_remove(in, buf, n);
	c->moved[i] += n;
	c->fired = 1;
	switch (c->fault) {
	case DROP:
		if (pos + run > n)
			run = n - pos;
		bufferevent_write(to, buf, pos);
		bufferevent_write(to, buf + pos + run, n - pos - run);
		break;
	case DUP:
		if (pos + run > n)
			run = n - pos;
		bufferevent_write(to, buf, pos + run);
		bufferevent_write(to, buf + pos, n - pos);
		break;
	case FLIP:
		buf[pos] ^= (unsigned char)(1u << (next() % 8));
		bufferevent_write(to, buf, n);
		break;
	case TRUNC: /* the sender is gone; the other side gets what came before, then the end */
		bufferevent_write(to, buf, pos);
		free(buf);
		bufferevent_free(bev);
		c->side[i] = NULL;
		bufferevent_setcb(to, NULL, on_drained, on_event, c);
		on_drained(to, c);
		return;
	case CUT:
		free(buf);
		conn_free(c);
		return;
	case DELAY:
		c->held = evbuffer_new();
		evbuffer_add(c->held, buf, n);
		bufferevent_disable(bev, EV_READ);
		c->timer = evtimer_new(base, release, c);
		struct timeval tv = { 0, 300000 };
		evtimer_add(c->timer, &tv);
		break;
	default:
		bufferevent_write(to, buf, n);
	}
	free(buf);
}

/* A side closed: pass its last bytes and the half-close on. */
static void on_drained(struct bufferevent *to, void *arg)
{
	struct conn *c = arg;
	if (evbuffer_get_length(bufferevent_get_output(to)) == 0) {
		shutdown(bufferevent_getfd(to), SHUT_WR);
		bufferevent_setcb(to, on_read, NULL, on_event, c);
		if (++c->eofs >= 2 || !c->side[0] || !c->side[1])
			conn_free(c);
	}
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	if (what & BEV_EVENT_CONNECTED)
		return;
	int i = bev == c->side[1];
	if ((what & BEV_EVENT_ERROR) || !c->side[!i]) {
		conn_free(c);
		return;
	}
	bufferevent_disable(bev, EV_READ);
	bufferevent_setcb(c->side[!i], on_read, on_drained, on_event, c);
	on_drained(c->side[!i], c);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len, void *arg)
{
	(void)l;
	(void)sa;
	(void)len;
	(void)arg;
	struct conn *c = calloc(1, sizeof *c);
	c->fault = faults[nconn % nfaults];
	c->dir = (int)(next() % 2);
	c->at = (size_t)(next() % 400); /* within what most sessions send each way */
	printf("conn %d: %s at %zu dir %d\n", ++nconn, names[c->fault], c->at, c->dir);
	fflush(stdout);
	c->side[0] = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->side[1] = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	for (int i = 0; i < 2; i++) {
		bufferevent_setcb(c->side[i], on_read, NULL, on_event, c);
		bufferevent_enable(c->side[i], EV_READ | EV_WRITE);
	}
	bufferevent_socket_connect(c->side[1], (struct sockaddr *)&target, sizeof target);
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
	if (argc < 4) {
		fprintf(stderr, "usage: faultproxy PORT_FILE TARGET_PORT FAULTS [SEED]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	rng = argc > 4 ? strtoull(argv[4], NULL, 10) | 1 : 88172645463325252ull;
	char *list = strdup(argv[3]);
	for (char *tok = strtok(list, ","); tok && nfaults < 64; tok = strtok(NULL, ",")) {
		int k = 0;
		while (names[k] && strcmp(names[k], tok) != 0)
			k++;
		if (!names[k]) {
			fprintf(stderr, "faultproxy: unknown fault '%s'\n", tok);
			return 2;
		}
		faults[nfaults++] = k;
	}
	free(list);
	if (!nfaults)
		faults[nfaults++] = CLEAN;
	memset(&target, 0, sizeof target);
	target.sin_family = AF_INET;
	target.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	target.sin_port = htons((uint16_t)atoi(argv[2]));
	base = event_base_new();
	struct evconnlistener *l = loopback_listen(base, on_accept, NULL, argv[1], "faultproxy");
	if (!l)
		return 2;
	struct event *term = evsignal_new(base, SIGTERM, on_signal, NULL);
	event_add(term, NULL);
	event_base_dispatch(base);
	event_free(term);
	evconnlistener_free(l);
	event_base_free(base);
	return 0;
}
