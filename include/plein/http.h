/* The local HTTP face (design §7, docs/http-api.md): the JSON API under
 * /api/v1/ (bearer token from plein.conf), the TV board, the printable
 * folder and the iCalendar feed, on libevent's evhttp. It runs on the
 * daemon's event base and shares its site. */
#ifndef PLEIN_HTTP_H
#define PLEIN_HTTP_H

#include "plein/site.h"

struct event_base;

typedef struct plein_http plein_http;

typedef struct plein_http_opts {
	const char *listen;   /* "HOST:PORT"; NULL: plein.conf site.http, else 127.0.0.1:8080 */
	/* Called after a request wrote to the replica (and sealed it), so the
	 * daemon can sync soon. May be NULL. */
	void (*on_write)(void *arg);
	void *arg;
} plein_http_opts;

/* Bind and serve on base. PLEIN_EINVAL for a bad address, PLEIN_ERR when
 * the port cannot be bound (the message says which). */
int plein_http_start(plein_http **out, struct event_base *base, plein_site *s,
		const plein_http_opts *opts);
/* The address actually bound ("127.0.0.1:PORT"; lent). */
const char *plein_http_address(const plein_http *h);
void plein_http_free(plein_http *h);

#endif
