/* The pages people look at (design §7): the full-screen board for the TV
 * at the plein and the printable weekly folder. Self-contained HTML (no
 * external assets: the plein may have no internet), Dutch labels. The HTTP
 * server serves them; they know no HTTP. */
#ifndef PLEIN_PAGES_H
#define PLEIN_PAGES_H

#include <stdint.h>

#include "plein/buf.h"
#include "plein/site.h"

/* Today's programme at a location as of now (seconds since 1970 UTC):
 * now, next, later today. PLEIN_ENOTFOUND for an unknown location. */
int plein_page_board(plein_buf *out, plein_site *s, const char *location_id, int64_t now);

/* A short token that changes whenever the board's content would change
 * (the page polls it to refresh itself). */
int plein_page_board_version(plein_buf *out, plein_site *s, const char *location_id, int64_t now);

/* The week's programme at a location, for print. week: "YYYY-Www"
 * (ISO 8601); PLEIN_EINVAL for a malformed week. */
int plein_page_folder(plein_buf *out, plein_site *s, const char *location_id, const char *week);

#endif
