/* Test driver until 'plein serve --http' exists: open a site, start the
 * HTTP face on an event base, print the bound address, serve until
 * SIGTERM or SIGINT.   http_serve SITE_DIR [HOST:PORT] */
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>

#include "plein/error.h"
#include "plein/http.h"
#include "plein/site.h"

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	event_base_loopexit(arg, NULL);
}

static void on_write(void *arg)
{
	++*(int *)arg;
}

int main(int argc, char **argv)
{
	plein_site *s = NULL;
	plein_http *h = NULL;
	int writes = 0, rc;
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: http_serve SITE_DIR [HOST:PORT]\n");
		return 1;
	}
	struct event_base *base = event_base_new();
	struct event *term = evsignal_new(base, SIGTERM, on_signal, base);
	struct event *intr = evsignal_new(base, SIGINT, on_signal, base);
	plein_http_opts opts = { .listen = argc > 2 ? argv[2] : NULL, .on_write = on_write, .arg = &writes };
	if ((rc = plein_site_open(&s, argv[1])) < 0 || (rc = plein_http_start(&h, base, s, &opts)) < 0) {
		fprintf(stderr, "plein: %s\n", plein_error());
	} else {
		event_add(term, NULL);
		event_add(intr, NULL);
		printf("%s\n", plein_http_address(h));
		fflush(stdout);
		event_base_dispatch(base);
		fprintf(stderr, "http_serve: stopped after %d writes\n", writes);
	}
	plein_http_free(h);
	plein_site_close(s);
	event_free(term);
	event_free(intr);
	event_base_free(base);
	return plein_exit_status(rc);
}
