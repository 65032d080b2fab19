/* The HTTP face (include/plein/http.h): not built yet; it says so. */
#include <stddef.h>

#include "plein/error.h"
#include "plein/http.h"

int plein_http_start(plein_http **out, struct event_base *base, plein_site *s,
		const plein_http_opts *opts)
{
	*out = NULL;
	return plein_fail(PLEIN_ERR, "the HTTP server is not built yet in this version of plein");
}

const char *plein_http_address(const plein_http *h)
{
	return "";
}

void plein_http_free(plein_http *h)
{
}
