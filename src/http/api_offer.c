/* /api/v1/locations, /partners, /offerings and /schedule: the offer and
 * the programme, through the same domain code as the CLI. */
#include "internal.h"

#include "plein/error.h"
#include "plein/json.h"
#include "plein/records.h"
#include "plein/schedule.h"
#include "plein/validate.h"

/* Reply every row of a listing as a JSON array. */
static int list(http_req *r, sqlite3_stmt *(*stmt)(plein_site *))
{
	int rc = http_query_check(r, http_no_params, NULL);
	sqlite3_stmt *st = rc < 0 ? NULL : stmt(r->s);
	if (rc == 0 && !st)
		rc = PLEIN_ERR;
	return http_reply_rows(r, rc, st);
}

int api_locations_list(http_req *r)
{
	return list(r, plein_location_list);
}

int api_locations_add(http_req *r)
{
	plein_location_spec sp = {0};
	const body_field f[] = {
		{ "name", B_STR, 1, &sp.name, 0, 0 },
		{ "kind", B_STR, 1, &sp.kind, 0, 0 },
		{ "address", B_STR, 0, &sp.address, 0, 0 },
		{ "tz", B_STR, 0, &sp.tz, 0, 0 },
	};
	char id[27];
	int rc = http_body_fields(r, f, sizeof f / sizeof *f);
	return rc < 0 ? rc : http_created(r, plein_location_add(id, r->s, &sp, PLEIN_NAMES_JSON), id);
}

int api_partners_list(http_req *r)
{
	return list(r, plein_partner_list);
}

int api_partners_add(http_req *r)
{
	plein_partner_spec sp = { .max_attempts = -1 };
	const body_field f[] = {
		{ "name", B_STR, 1, &sp.name, 0, 0 },
		{ "kind", B_STR, 0, &sp.kind, 0, 0 },
		{ "website", B_STR, 0, &sp.website, 0, 0 },
		{ "phone", B_STR, 0, &sp.phone, 0, 0 },
		{ "email", B_STR, 0, &sp.email, 0, 0 },
		{ "reachable", B_STR, 0, &sp.reachable, 0, 0 },
		{ "referral_method", B_STR, 0, &sp.referral_method, 0, 0 },
		{ "max_attempts", B_INT, 0, &sp.max_attempts, 1, PLEIN_MAX_ATTEMPTS_MAX },
		{ "site", B_STR, 0, &sp.site_id, 0, 0 },
	};
	char id[27];
	int rc = http_body_fields(r, f, sizeof f / sizeof *f);
	return rc < 0 ? rc : http_created(r, plein_partner_add(id, r->s, &sp, PLEIN_NAMES_JSON), id);
}

int api_offerings_list(http_req *r)
{
	return list(r, plein_offering_list);
}

int api_offerings_add(http_req *r)
{
	plein_offering_spec sp = { .capacity = -1 };
	const body_field f[] = {
		{ "partner", B_STR, 1, &sp.partner_id, 0, 0 },
		{ "theme", B_STR, 1, &sp.theme, 0, 0 },
		{ "kind", B_STR, 1, &sp.kind, 0, 0 },
		{ "title", B_STR, 1, &sp.title, 0, 0 },
		{ "description", B_STR, 0, &sp.description, 0, 0 },
		{ "capacity", B_INT, 0, &sp.capacity, 1, PLEIN_CAPACITY_MAX },
		{ "signup", B_BOOL, 0, &sp.signup, 0, 0 },
	};
	char id[27];
	int rc = http_body_fields(r, f, sizeof f / sizeof *f);
	return rc < 0 ? rc : http_created(r, plein_offering_add(id, r->s, &sp, PLEIN_NAMES_JSON), id);
}

/* The same document as 'plein schedule --json'; cached (cache.c): it
 * depends only on the replica and today's date. */
int api_schedule(http_req *r)
{
	static const char *const allowed[] = { "location", "from", "to", NULL };
	const char *location = http_query(r, "location");
	const char *key = evhttp_request_get_uri(r->req);
	http_cache *cache = http_server_cache(r->h);
	plein_date from, to;
	plein_schedule sched;
	int rc;
	if (http_cache_reply(r, cache, key))
		return 0;
	if ((rc = http_query_check(r, allowed, NULL)) < 0 ||
	    (rc = plein_schedule_period(&from, &to, http_query(r, "from"), http_query(r, "to"), PLEIN_NAMES_JSON)) < 0 ||
	    (location && (rc = plein_check_exists(r->s, "location", location)) < 0) ||
	    (rc = plein_schedule_list(&sched, r->s, location, from, to)) < 0)
		return rc;
	plein_buf out = PLEIN_BUF_INIT;
	plein_json j;
	plein_json_init(&j, &out);
	plein_json_arr_begin(&j);
	for (size_t i = 0; i < sched.n; i++)
		plein_occurrence_json(&j, &sched.items[i]);
	plein_json_arr_end(&j);
	plein_buf_putc(&out, '\n');
	http_reply_json(r, 200, &out);
	http_cache_put(r, cache, key, &out);
	plein_buf_free(&out);
	plein_schedule_free(&sched);
	return 0;
}
