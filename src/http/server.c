/* The HTTP face (include/plein/http.h, docs/http-api.md): listening,
 * routing, the bearer token, limits and error replies. The handlers live
 * in api_*.c (JSON) and web.c (board, folder, feed); each returns an
 * error code or replies itself, so every request gets exactly one reply. */
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "plein/capture.h"
#include "plein/error.h"
#include "plein/journal.h"
#include "plein/json.h"

#define DEFAULT_LISTEN "127.0.0.1:8080"

struct plein_http {
	struct evhttp *http;
	struct evhttp_bound_socket *sock;
	plein_site *site;
	plein_http_opts opts;
	char address[80];
	char *token;
	http_cache *cache;
};

enum { M_GET = EVHTTP_REQ_GET, M_POST = EVHTTP_REQ_POST };

static const struct route {
	const char *pattern; /* "{}" stands for one path segment: an id */
	int method;
	int api;             /* needs the token */
	http_handler run;
} routes[] = {
	{ "/api/v1", M_GET, 1, api_index },
	{ "/api/v1/locations", M_GET, 1, api_locations_list },
	{ "/api/v1/locations", M_POST, 1, api_locations_add },
	{ "/api/v1/partners", M_GET, 1, api_partners_list },
	{ "/api/v1/partners", M_POST, 1, api_partners_add },
	{ "/api/v1/offerings", M_GET, 1, api_offerings_list },
	{ "/api/v1/offerings", M_POST, 1, api_offerings_add },
	{ "/api/v1/schedule", M_GET, 1, api_schedule },
	{ "/api/v1/visits", M_GET, 1, api_visits_list },
	{ "/api/v1/visits", M_POST, 1, api_visits_add },
	{ "/api/v1/referrals", M_GET, 1, api_referrals_list },
	{ "/api/v1/referrals", M_POST, 1, api_referrals_add },
	{ "/api/v1/referrals/{}", M_GET, 1, api_referral_show },
	{ "/api/v1/referrals/{}/status", M_POST, 1, api_referral_status },
	{ "/api/v1/referrals/{}/attempts", M_POST, 1, api_referral_attempt },
	{ "/api/v1/signups", M_GET, 1, api_signups_list },
	{ "/api/v1/signups", M_POST, 1, api_signups_add },
	{ "/api/v1/signups/{}/status", M_POST, 1, api_signup_status },
	{ "/api/v1/reports", M_GET, 1, api_reports },
	{ "/api/v1/status", M_GET, 1, api_status },
	{ "/board", M_GET, 0, web_board },
	{ "/board/version", M_GET, 0, web_board_version },
	{ "/folder", M_GET, 0, web_folder },
	{ "/schedule.ics", M_GET, 0, web_ics },
};
#define NROUTES (sizeof routes / sizeof *routes)

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 503: return "Service Unavailable";
	default: return status < 500 ? "Error" : "Internal Server Error";
	}
}

void http_reply(http_req *r, int status, const char *content_type, const void *data, size_t len)
{
	struct evkeyvalq *hdr = evhttp_request_get_output_headers(r->req);
	struct evbuffer *buf = evbuffer_new();
	if (r->replied || !buf) {
		evbuffer_free(buf);
		return;
	}
	r->replied = 1;
	evhttp_add_header(hdr, "Content-Type", content_type);
	evhttp_add_header(hdr, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(hdr, "Cache-Control", "no-store");
	evbuffer_add(buf, data, len);
	evhttp_send_reply(r->req, status, reason(status), buf);
	evbuffer_free(buf);
}

void http_reply_json(http_req *r, int status, plein_buf *body)
{
	http_reply(r, status, "application/json; charset=utf-8", body->data ? body->data : (unsigned char *)"", body->len);
}

/* {key: value} and a newline. */
static void one_field(plein_buf *b, const char *key, const char *value)
{
	plein_json j;
	plein_json_init(&j, b);
	plein_json_obj_begin(&j);
	plein_json_key(&j, key);
	plein_json_str(&j, value);
	plein_json_obj_end(&j);
	plein_buf_putc(b, '\n');
}

void http_reply_field(http_req *r, int status, const char *key, const char *value)
{
	plein_buf b = PLEIN_BUF_INIT;
	one_field(&b, key, value);
	http_reply_json(r, status, &b);
	plein_buf_free(&b);
}

void http_error_json(plein_buf *b, const char *msg)
{
	one_field(b, "error", msg);
}

static void reply_error(http_req *r, int status, const char *msg)
{
	http_reply_field(r, status, "error", msg);
}

void http_after_write(http_req *r)
{
	int64_t pending = 0;
	uint64_t seq = 0;
	/* The write is saved either way; a failed seal is retried by the
	 * next write or by the daemon, so the reply stays a success. */
	if (plein_capture_pending(r->s->db, &pending) == 0 && pending > 0 && plein_journal_seal(r->s, &seq) < 0)
		fprintf(stderr, "plein: warning: an API write is saved but not yet sealed into the log (%s)\n", plein_error());
	plein_error_clear();
	if (r->h->opts.on_write)
		r->h->opts.on_write(r->h->opts.arg);
}

/* HTTP status of a failed handler. An unknown id in the path or query
 * is 404; an unknown id inside a body is a bad request. */
static int error_status(http_req *r, int rc)
{
	switch (rc) {
	case PLEIN_EINVAL: return 400;
	case PLEIN_ENOTFOUND: return r->body && !r->id ? 400 : 404;
	case PLEIN_EBUSY: return 503;
	default: return 500;
	}
}

/* Does path match pattern? Captures the {} segment into r->idbuf. */
static int match(const char *pattern, const char *path, http_req *r)
{
	const char *p = pattern, *q = path;
	while (*p && *q) {
		if (p[0] == '{' && p[1] == '}') {
			size_t n = strcspn(q, "/");
			if (n == 0 || n >= sizeof r->idbuf)
				return 0;
			memcpy(r->idbuf, q, n);
			r->idbuf[n] = 0;
			r->id = r->idbuf;
			p += 2;
			q += n;
		} else if (*p++ != *q++) {
			return 0;
		}
	}
	return !*p && !*q;
}

static int authorized(plein_http *h, struct evhttp_request *req)
{
	const char *v = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
	if (!v || strncasecmp(v, "Bearer ", 7) != 0)
		return 0;
	v += 7;
	while (*v == ' ')
		v++;
	size_t n = strlen(v), want = strlen(h->token);
	/* Constant time over the token; its length is no secret. */
	return n == want && sodium_memcmp(v, h->token, want) == 0;
}

static int is_json(const char *ctype)
{
	if (!ctype)
		return 0;
	size_t n = strcspn(ctype, ";");
	while (n && ctype[n - 1] == ' ')
		n--;
	return n == 16 && strncasecmp(ctype, "application/json", 16) == 0;
}

/* Read the body of an API request: size limit, media type, JSON. */
static int read_body(http_req *r, int *status)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
	size_t n = evbuffer_get_length(in);
	*status = 400;
	if (n > HTTP_MAX_BODY) {
		*status = 413;
		return plein_fail(PLEIN_EINVAL, "%s", HTTP_TOO_LARGE);
	}
	if (n == 0)
		return 0;
	if (!is_json(evhttp_find_header(evhttp_request_get_input_headers(r->req), "Content-Type"))) {
		*status = 415;
		return plein_fail(PLEIN_EINVAL, "send the body as JSON with 'Content-Type: application/json'");
	}
	const char *p = (const char *)evbuffer_pullup(in, -1);
	int rc = jsonin_parse(&r->body, p, n);
	if (rc == 0 && r->body->type != JV_OBJECT)
		rc = plein_fail(PLEIN_EINVAL, "the body must be a JSON object, not %s", jv_type_name(r->body->type));
	return rc;
}

static void dispatch(struct evhttp_request *req, void *arg)
{
	plein_http *h = arg;
	http_req r = { .req = req, .h = h, .s = h->site };
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	const char *qs = uri ? evhttp_uri_get_query(uri) : NULL;
	int method = evhttp_request_get_command(req), rc, status;
	const struct route *hit = NULL;
	int path_known = 0, needs_token = path && (strcmp(path, "/api") == 0 || strncmp(path, "/api/", 5) == 0);
	char allow[32] = "";

	TAILQ_INIT(&r.query);
	plein_error_clear();
	if (method == EVHTTP_REQ_HEAD)
		method = EVHTTP_REQ_GET;
	if (!path) {
		reply_error(&r, 400, "the request has no path");
		return;
	}
	if (needs_token && !authorized(h, req)) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate", "Bearer realm=\"plein\"");
		reply_error(&r, 401, "this needs 'Authorization: Bearer TOKEN' with the token of this site (site.token in plein.conf)");
		return;
	}
	for (size_t i = 0; i < NROUTES; i++) {
		if (!match(routes[i].pattern, path, &r))
			continue;
		path_known = 1;
		if (routes[i].method == method)
			hit = &routes[i];
		else if (!strstr(allow, routes[i].method == M_GET ? "GET" : "POST"))
			snprintf(allow + strlen(allow), sizeof allow - strlen(allow), "%s%s", *allow ? ", " : "",
				 routes[i].method == M_GET ? "GET, HEAD" : "POST");
	}
	if (!hit) {
		if (path_known) {
			evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allow);
			reply_error(&r, 405, "this method is not allowed here; see the Allow header");
		} else {
			reply_error(&r, 404, "no such page or API route (see docs/http-api.md)");
		}
		return;
	}
	if (!match(hit->pattern, path, &r))
		r.id = NULL;
	if (qs && evhttp_parse_query_str(qs, &r.query) < 0) {
		reply_error(&r, 400, "the query string is malformed");
		goto done;
	}
	if (hit->method == M_POST && (rc = read_body(&r, &status)) < 0) {
		reply_error(&r, status, plein_error());
		goto done;
	}
	if (hit->method == M_GET && evbuffer_get_length(evhttp_request_get_input_buffer(req)) > 0) {
		reply_error(&r, 400, "a GET request takes no body");
		goto done;
	}
	rc = hit->run(&r);
	if (rc < 0)
		reply_error(&r, error_status(&r, rc), *plein_error() ? plein_error() : "the request failed");
	else if (!r.replied)
		reply_error(&r, 500, "the handler did not reply (a bug in plein)");
done:
	evhttp_clear_headers(&r.query);
	jv_free(r.body);
	free(r.scratch);
	plein_error_clear();
}

/* "HOST:PORT" or "[V6]:PORT". */
static int parse_listen(const char *listen, char *host, size_t hostcap, unsigned short *port)
{
	const char *colon = strrchr(listen, ':');
	const char *h = listen;
	size_t hn;
	char *end;
	if (!colon || colon == listen)
		goto bad;
	hn = (size_t)(colon - listen);
	if (h[0] == '[') {
		if (hn < 3 || h[hn - 1] != ']')
			goto bad;
		h++;
		hn -= 2;
	}
	if (hn >= hostcap)
		goto bad;
	memcpy(host, h, hn);
	host[hn] = 0;
	long p = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || p < 0 || p > 65535)
		goto bad;
	*port = (unsigned short)p;
	unsigned char addr[16];
	if (inet_pton(AF_INET, host, addr) != 1 && inet_pton(AF_INET6, host, addr) != 1)
		return plein_fail(PLEIN_EINVAL, "HTTP address '%s': '%s' is not an IP address; use e.g. 127.0.0.1:8080", listen, host);
	return 0;
bad:
	return plein_fail(PLEIN_EINVAL, "HTTP address '%s' is not HOST:PORT; use e.g. 127.0.0.1:8080", listen);
}

int plein_http_start(plein_http **out, struct event_base *base, plein_site *s, const plein_http_opts *opts)
{
	const char *listen = opts && opts->listen ? opts->listen : plein_conf_get(s->conf, "site.http");
	const char *token = plein_conf_get(s->conf, "site.token");
	char host[64];
	unsigned short port = 0;
	int rc;
	*out = NULL;
	if (!listen)
		listen = DEFAULT_LISTEN;
	if ((rc = parse_listen(listen, host, sizeof host, &port)) < 0)
		return rc;
	if (!token || strlen(token) < 16)
		return plein_fail(PLEIN_EINVAL, "plein.conf has no site.token of at least 16 characters; the API needs one "
				  "(set 'token = ...' under [site], e.g. 32 random hex digits)");
	plein_http *h = plein_xcalloc(1, sizeof *h);
	h->site = s;
	if (opts)
		h->opts = *opts;
	h->opts.listen = NULL;
	h->token = plein_xstrdup(token);
	h->cache = http_cache_new();
	if (!(h->http = evhttp_new(base))) {
		plein_http_free(h);
		return plein_fail(PLEIN_ERR, "cannot start the HTTP server (out of memory?)");
	}
	/* evhttp refuses a larger body unread; toolarge.c gives that
	 * refusal the API's JSON. */
	evhttp_set_max_body_size(h->http, HTTP_HARD_BODY);
	evhttp_set_bevcb(h->http, http_connection_bev, NULL);
	/* Read a declared too-large body to its end, dropping it, before
	 * the 413: a client still sending would lose the reply to a reset. */
	evhttp_set_flags(h->http, EVHTTP_SERVER_LINGERING_CLOSE);
	evhttp_set_max_headers_size(h->http, 16 * 1024);
	evhttp_set_timeout(h->http, 30);
	evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
				   EVHTTP_REQ_DELETE | EVHTTP_REQ_PATCH | EVHTTP_REQ_OPTIONS);
	evhttp_set_gencb(h->http, dispatch, h);
	if (!(h->sock = evhttp_bind_socket_with_handle(h->http, host, port))) {
		int e = errno;
		plein_http_free(h);
		return plein_fail(PLEIN_ERR, "cannot listen for HTTP on %s: %s (is another server using the port?)", listen,
				  e ? strerror(e) : "bind failed");
	}
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	char ip[INET6_ADDRSTRLEN] = "?";
	unsigned short bound = port;
	if (getsockname(evhttp_bound_socket_get_fd(h->sock), (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
			inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
			bound = ntohs(a->sin6_port);
		} else {
			struct sockaddr_in *a = (struct sockaddr_in *)&ss;
			inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
			bound = ntohs(a->sin_port);
		}
	}
	snprintf(h->address, sizeof h->address, ss.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, bound);
	*out = h;
	return 0;
}

http_cache *http_server_cache(plein_http *h)
{
	return h->cache;
}

const char *plein_http_address(const plein_http *h)
{
	return h ? h->address : "";
}

void plein_http_free(plein_http *h)
{
	if (!h)
		return;
	if (h->http)
		evhttp_free(h->http);
	if (h->token) {
		sodium_memzero(h->token, strlen(h->token));
		free(h->token);
	}
	http_cache_free(h->cache);
	free(h);
}

int api_index(http_req *r)
{
	static const char doc[] = "{\"api\":\"plein\",\"version\":1}\n";
	http_reply(r, 200, "application/json; charset=utf-8", doc, sizeof doc - 1);
	return 0;
}
