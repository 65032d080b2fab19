/* Inside the HTTP face (http.h): one request as the handlers see it, the
 * route handlers of each api_*.c file, and the helpers they share. */
#ifndef PLEIN_HTTP_INTERNAL_H
#define PLEIN_HTTP_INTERNAL_H

#include <sqlite3.h>
#include <sys/queue.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "jsonin.h"
#include "plein/buf.h"
#include "plein/http.h"
#include "plein/site.h"

/* The largest request body the API reads; a larger one is 413 with
 * {"error": HTTP_TOO_LARGE}. evhttp itself refuses bodies over
 * HTTP_HARD_BODY without reading them; toolarge.c turns its HTML reply
 * into the same JSON. */
#define HTTP_MAX_BODY (64 * 1024)
#define HTTP_HARD_BODY (1024 * 1024)
#define HTTP_TOO_LARGE "the body is over 65536 bytes, the most the API takes; send less"

typedef struct http_req {
	struct evhttp_request *req;
	plein_http *h;
	plein_site *s;
	const char *id;            /* the {id} path segment, or NULL */
	char idbuf[64];
	struct evkeyvalq query;    /* decoded query parameters */
	jv *body;                  /* parsed JSON body, or NULL when empty */
	void *scratch;             /* freed with the request */
	int replied;
	int64_t cache_version, cache_changes; /* the replica's state when a cache miss began */
	char cache_day[11];
} http_req;

/* A handler replies itself and returns 0, or returns an error code and
 * the dispatcher replies {"error": message} with its HTTP status. */
typedef int (*http_handler)(http_req *r);

/* --- the reply cache (cache.c) ------------------------------------------ */
typedef struct http_cache http_cache;
http_cache *http_cache_new(void);
void http_cache_free(http_cache *c);
/* The server's cache (lent). */
http_cache *http_server_cache(plein_http *h);
/* Reply from the cache when key's entry is still valid: returns 1.
 * Else 0, and remembers the replica's state for http_cache_put. */
int http_cache_reply(http_req *r, http_cache *c, const char *key);
void http_cache_put(http_req *r, http_cache *c, const char *key, const plein_buf *body);

/* --- evhttp's 413 made the API's (toolarge.c) -------------------------- */
/* For evhttp_set_bevcb: a connection's bufferevent, whose output turns
 * evhttp's HTML 413 into {"error": HTTP_TOO_LARGE}. */
struct bufferevent *http_connection_bev(struct event_base *base, void *arg);

/* --- replies (server.c) --------------------------------------------- */
void http_reply(http_req *r, int status, const char *content_type, const void *data, size_t len);
void http_reply_json(http_req *r, int status, plein_buf *body);
/* {"error": msg} and a newline: the body of every error reply. */
void http_error_json(plein_buf *b, const char *msg);
/* {key: value} as the whole reply, e.g. {"id": "..."}. */
void http_reply_field(http_req *r, int status, const char *key, const char *value);
/* Seal what the request wrote and tell the daemon (opts->on_write). */
void http_after_write(http_req *r);

/* --- input and the common replies (request.c) ------------------------ */
/* No query parameters: for http_query_check. */
extern const char *const http_no_params[];
/* After a listing: reply its rows as a JSON array when rc is 0; returns rc. */
int http_reply_rows(http_req *r, int rc, sqlite3_stmt *st);
/* After a write that made record id: when rc is 0, seal and tell the
 * daemon (http_after_write), reply {"id": id} with 201; returns rc. */
int http_created(http_req *r, int rc, const char *id);
/* Only the query parameters named in allowed (NULL-terminated), each at
 * most once unless listed in repeatable; PLEIN_EINVAL otherwise. */
int http_query_check(http_req *r, const char *const *allowed, const char *const *repeatable);
/* A query parameter's value (lent), NULL when absent. */
const char *http_query(http_req *r, const char *name);
/* Every value of a repeatable parameter into scratch; returns the count. */
int http_query_all(http_req *r, const char *name, const char ***out);

enum { B_STR, B_INT, B_BOOL, B_STRS };
typedef struct {
	const char *name;
	int type;     /* B_* */
	int required;
	void *out;    /* const char **, long *, int *, or http_strs * */
	long lo, hi;  /* B_INT range */
} body_field;
typedef struct {
	const char **v;
	int n;
} http_strs;
/* Read the JSON object body into the fields: unknown fields, wrong
 * types, missing required fields and out-of-range numbers are refused
 * with PLEIN_EINVAL naming the field. An absent body counts as {}. null
 * is the same as leaving an optional field out. */
int http_body_fields(http_req *r, const body_field *fields, size_t n);

/* --- route handlers ---------------------------------------------------- */
int api_index(http_req *r);
/* api_offer.c */
int api_locations_list(http_req *r);
int api_locations_add(http_req *r);
int api_partners_list(http_req *r);
int api_partners_add(http_req *r);
int api_offerings_list(http_req *r);
int api_offerings_add(http_req *r);
int api_schedule(http_req *r);
/* api_records.c */
int api_visits_list(http_req *r);
int api_visits_add(http_req *r);
int api_referrals_list(http_req *r);
int api_referrals_add(http_req *r);
int api_referral_show(http_req *r);
int api_referral_status(http_req *r);
int api_referral_attempt(http_req *r);
int api_signups_list(http_req *r);
int api_signups_add(http_req *r);
int api_signup_status(http_req *r);
/* api_report.c */
int api_reports(http_req *r);
int api_status(http_req *r);
/* web.c: pages and the feed, no token */
int web_board(http_req *r);
int web_board_version(http_req *r);
int web_folder(http_req *r);
int web_ics(http_req *r);

#endif
