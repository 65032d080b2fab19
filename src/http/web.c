/* The pages and the feed (pages.h, ics.h) over HTTP: no token, since they
 * hold no personal data. The screens are made elsewhere; this file only
 * checks parameters and picks the content type. */
#include "internal.h"

#include <time.h>

#include "plein/error.h"
#include "plein/ics.h"
#include "plein/now.h"
#include "plein/pages.h"

#define HTML "text/html; charset=utf-8"

static int need_location(http_req *r, const char *const *allowed, const char **out)
{
	int rc = http_query_check(r, allowed, NULL);
	if (rc < 0)
		return rc;
	if (!(*out = http_query(r, "location")))
		return plein_fail(PLEIN_EINVAL, "give the location as ?location=ID (ids: GET /api/v1/locations or 'plein location list')");
	return 0;
}

static int page(http_req *r, int rc, plein_buf *out, const char *ctype)
{
	if (rc == 0)
		http_reply(r, 200, ctype, out->data ? (const char *)out->data : "", out->len);
	plein_buf_free(out);
	return rc;
}

int web_board(http_req *r)
{
	static const char *const allowed[] = { "location", NULL };
	const char *loc;
	plein_buf out = PLEIN_BUF_INIT;
	int rc = need_location(r, allowed, &loc);
	if (rc == 0)
		rc = plein_page_board(&out, r->s, loc, plein_now());
	return page(r, rc, &out, HTML);
}

int web_board_version(http_req *r)
{
	static const char *const allowed[] = { "location", NULL };
	const char *loc;
	plein_buf out = PLEIN_BUF_INIT;
	int rc = need_location(r, allowed, &loc);
	if (rc == 0)
		rc = plein_page_board_version(&out, r->s, loc, plein_now());
	return page(r, rc, &out, "text/plain; charset=utf-8");
}

int web_folder(http_req *r)
{
	static const char *const allowed[] = { "location", "week", NULL };
	const char *loc, *week;
	plein_buf out = PLEIN_BUF_INIT;
	int rc = need_location(r, allowed, &loc);
	if (rc == 0 && !(week = http_query(r, "week")))
		rc = plein_fail(PLEIN_EINVAL, "give the week as ?week=YYYY-Www, e.g. 2026-W48");
	if (rc == 0)
		rc = plein_page_folder(&out, r->s, loc, week);
	return page(r, rc, &out, HTML);
}

int web_ics(http_req *r)
{
	static const char *const allowed[] = { "location", "partner", "theme", NULL };
	plein_ics_filter f = { .location_id = http_query(r, "location"), .partner_id = http_query(r, "partner"),
			       .theme = http_query(r, "theme") };
	plein_buf out = PLEIN_BUF_INIT;
	int rc = http_query_check(r, allowed, NULL);
	if (rc == 0)
		rc = plein_ics_feed(&out, r->s->db, &f);
	return page(r, rc, &out, "text/calendar; charset=utf-8");
}
