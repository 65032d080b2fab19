/* One JSON 413 for a body too large (internal.h). evhttp refuses a body
 * over HTTP_HARD_BODY itself, from its Content-Length, before reading it,
 * so no more is ever buffered. But it replies with its own HTML page, and
 * libevent 2.1 has no hook for that reply (evhttp_set_errorcb is 2.2). So
 * each connection gets its own bufferevent (evhttp_set_bevcb), whose
 * output is watched: when evhttp's HTML 413 is complete in it, and before
 * any of it is written, it is replaced by the API's JSON 413, the same
 * reply as the dispatcher's for a body over HTTP_MAX_BODY. A chunked body
 * that outgrows HTTP_HARD_BODY is refused while evhttp holds the output
 * buffer frozen: that page cannot be replaced and stays HTML. */
#include "internal.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <stdio.h>
#include <string.h>

/* evhttp_send_error's page ends so (http.c, ERR_FORMAT). */
static const char html_end[] = "</BODY></HTML>\n";

/* evhttp's "100 Continue" to a client that asked for it may still be in
 * the buffer, ahead of the reply. */
static const char cont[] = " 100 Continue\r\n\r\n";
#define CONT_LEN (8 + sizeof cont - 1)

/* Does out hold evhttp's HTML 413, complete? Returns where it starts
 * (after a 100 Continue), or -1. evhttp writes one reply at a time, after
 * the one before has left the buffer. */
static ev_ssize_t html_413_at(struct evbuffer *out)
{
	char head[CONT_LEN + 16], tail[sizeof html_end - 1];
	size_t n = evbuffer_get_length(out), end = sizeof html_end - 1, at = 0;
	struct evbuffer_ptr p;
	if (n < 64 || n > 4096 || evbuffer_copyout(out, head, sizeof head) != (ev_ssize_t)sizeof head)
		return -1;
	if (memcmp(head, "HTTP/1.", 7) == 0 && memcmp(head + 8, cont, sizeof cont - 1) == 0)
		at = CONT_LEN;
	if (memcmp(head + at, "HTTP/1.", 7) != 0 || memcmp(head + at + 8, " 413 ", 5) != 0)
		return -1;
	if (evbuffer_ptr_set(out, &p, n - end, EVBUFFER_PTR_SET) < 0 ||
	    evbuffer_copyout_from(out, &p, tail, end) != (ev_ssize_t)end || memcmp(tail, html_end, end) != 0)
		return -1;
	p = evbuffer_search(out, "\r\nContent-Type: text/html\r\n", 27, NULL);
	return p.pos > (ev_ssize_t)at ? (ev_ssize_t)at : -1;
}

static void watch(struct evbuffer *out, const struct evbuffer_cb_info *info, void *arg)
{
	int *busy = arg;
	char keep[CONT_LEN + 8];
	ev_ssize_t at;
	if (*busy || info->n_added == 0 || (at = html_413_at(out)) < 0)
		return;
	*busy = 1; /* the replacement below calls this again */
	evbuffer_copyout(out, keep, (size_t)at + 8); /* the 100 Continue, and "HTTP/1.x" */
	evbuffer_drain(out, evbuffer_get_length(out));
	plein_buf body = PLEIN_BUF_INIT;
	http_error_json(&body, HTTP_TOO_LARGE);
	evbuffer_add(out, keep, (size_t)at + 8);
	evbuffer_add_printf(out,
			    " 413 Payload Too Large\r\nContent-Type: application/json; charset=utf-8\r\n"
			    "X-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\nConnection: close\r\n"
			    "Content-Length: %zu\r\n\r\n",
			    body.len);
	evbuffer_add(out, body.data, body.len);
	plein_buf_free(&body);
	*busy = 0;
}

struct bufferevent *http_connection_bev(struct event_base *base, void *arg)
{
	struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	static int busy; /* one event loop: one reply is replaced at a time */
	(void)arg;
	if (bev)
		evbuffer_add_cb(bufferevent_get_output(bev), watch, &busy);
	return bev;
}
