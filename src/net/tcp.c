/* TCP sync (include/plein/tcp.h): not built yet; every entry point says so. */
#include <string.h>

#include "plein/error.h"
#include "plein/tcp.h"

#define NOT_BUILT "TCP sync is not built yet in this version of plein (use a git remote or a stick)"

void plein_tcp_limits_default(plein_tcp_limits *out)
{
	out->max_frame = 1u << 20;
	out->handshake_ms = 10000;
	out->idle_ms = 60000;
}

int plein_tcp_accept(struct event_base *base, plein_site *s, evutil_socket_t fd,
		const plein_tcp_limits *lim, plein_tcp_done_cb cb, void *arg)
{
	return plein_fail(PLEIN_ERR, NOT_BUILT);
}

int plein_tcp_connect(struct event_base *base, plein_site *s, const char *hostport,
		const plein_tcp_limits *lim, plein_tcp_done_cb cb, void *arg)
{
	return plein_fail(PLEIN_ERR, NOT_BUILT);
}

int plein_tcp_sync(plein_tcp_result *out, plein_site *s, const char *hostport)
{
	memset(out, 0, sizeof *out);
	out->rc = plein_fail(PLEIN_ERR, NOT_BUILT);
	strcpy(out->error, NOT_BUILT);
	return out->rc;
}

void plein_tcp_result_free(plein_tcp_result *r)
{
	plein_ingest_report_free(&r->ingest);
}
