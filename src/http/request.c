/* Input of API requests (internal.h): strict query parameters and JSON
 * bodies read into typed fields; and the replies every route shares. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#include "plein/error.h"
#include "plein/records.h"

const char *const http_no_params[] = { NULL };

int http_reply_rows(http_req *r, int rc, sqlite3_stmt *st)
{
	plein_buf out = PLEIN_BUF_INIT;
	if (rc == 0 && (rc = plein_json_rows(&out, st)) == 0)
		http_reply_json(r, 200, &out);
	plein_buf_free(&out);
	return rc;
}

int http_created(http_req *r, int rc, const char *id)
{
	if (rc < 0)
		return rc;
	http_after_write(r);
	http_reply_field(r, 201, "id", id);
	return 0;
}

static int listed(const char *const *names, const char *name)
{
	for (int i = 0; names && names[i]; i++)
		if (strcmp(names[i], name) == 0)
			return 1;
	return 0;
}

static void join(plein_buf *b, const char *const *names)
{
	for (int i = 0; names[i]; i++)
		plein_buf_printf(b, "%s%s", i ? ", " : "", names[i]);
	if (!names[0])
		plein_buf_puts(b, "none");
}

int http_query_check(http_req *r, const char *const *allowed, const char *const *repeatable)
{
	struct evkeyval *kv;
	TAILQ_FOREACH(kv, &r->query, next) {
		if (!listed(allowed, kv->key)) {
			plein_buf b = PLEIN_BUF_INIT;
			join(&b, allowed);
			int rc = plein_fail(PLEIN_EINVAL, "unknown query parameter '%s'; this route takes: %s", kv->key, plein_buf_cstr(&b));
			plein_buf_free(&b);
			return rc;
		}
		if (!listed(repeatable, kv->key))
			for (struct evkeyval *o = TAILQ_NEXT(kv, next); o; o = TAILQ_NEXT(o, next))
				if (strcmp(o->key, kv->key) == 0)
					return plein_fail(PLEIN_EINVAL, "the query parameter '%s' is given twice; give it once", kv->key);
		if (!*kv->value)
			return plein_fail(PLEIN_EINVAL, "the query parameter '%s' is empty", kv->key);
	}
	return 0;
}

const char *http_query(http_req *r, const char *name)
{
	return evhttp_find_header(&r->query, name);
}

int http_query_all(http_req *r, const char *name, const char ***out)
{
	struct evkeyval *kv;
	int n = 0;
	const char **v = NULL;
	TAILQ_FOREACH(kv, &r->query, next)
		if (strcmp(kv->key, name) == 0) {
			v = plein_xrealloc(v, (size_t)(n + 1) * sizeof *v);
			v[n++] = kv->value;
		}
	free(r->scratch);
	r->scratch = v;
	*out = v;
	return n;
}

static const char *type_want(int type)
{
	switch (type) {
	case B_STR: return "a string";
	case B_INT: return "a whole number";
	case B_BOOL: return "true or false";
	default: return "an array of strings";
	}
}

static int read_field(http_req *r, const body_field *f, const jv *v)
{
	switch (f->type) {
	case B_STR:
		if (v->type != JV_STRING)
			break;
		*(const char **)f->out = v->string;
		return 0;
	case B_INT:
		if (v->type != JV_NUMBER || !v->is_int)
			break;
		if (v->integer < f->lo || v->integer > f->hi)
			return plein_fail(PLEIN_EINVAL, "%s must be a whole number from %ld to %ld, not '%lld'", f->name, f->lo,
					  f->hi, (long long)v->integer);
		*(long *)f->out = (long)v->integer;
		return 0;
	case B_BOOL:
		if (v->type != JV_BOOL)
			break;
		*(int *)f->out = v->boolean;
		return 0;
	case B_STRS: {
		if (v->type != JV_ARRAY)
			break;
		const char **list = plein_xcalloc(v->n + 1, sizeof *list);
		for (size_t i = 0; i < v->n; i++) {
			if (v->items[i].type != JV_STRING) {
				free(list);
				return plein_fail(PLEIN_EINVAL, "%s[%zu] must be a string, not %s", f->name, i, jv_type_name(v->items[i].type));
			}
			list[i] = v->items[i].string;
		}
		free(r->scratch);
		r->scratch = list;
		((http_strs *)f->out)->v = list;
		((http_strs *)f->out)->n = (int)v->n;
		return 0;
	}
	}
	return plein_fail(PLEIN_EINVAL, "%s must be %s, not %s", f->name, type_want(f->type), jv_type_name(v->type));
}

int http_body_fields(http_req *r, const body_field *fields, size_t n)
{
	const jv *body = r->body;
	int rc;
	for (size_t i = 0; body && i < body->n; i++) {
		size_t k = 0;
		while (k < n && strcmp(fields[k].name, body->keys[i]) != 0)
			k++;
		if (k == n) {
			plein_buf b = PLEIN_BUF_INIT;
			for (size_t m = 0; m < n; m++)
				plein_buf_printf(&b, "%s%s", m ? ", " : "", fields[m].name);
			rc = plein_fail(PLEIN_EINVAL, "unknown field '%s' in the body; this route takes: %s", body->keys[i],
					n ? plein_buf_cstr(&b) : "no fields");
			plein_buf_free(&b);
			return rc;
		}
	}
	for (size_t k = 0; k < n; k++) {
		const jv *v = jv_get(body, fields[k].name);
		if (!v || v->type == JV_NULL) {
			if (fields[k].required)
				return plein_fail(PLEIN_EINVAL, "the body needs the field '%s' (%s)", fields[k].name, type_want(fields[k].type));
			continue;
		}
		if ((rc = read_field(r, &fields[k], v)) < 0)
			return rc;
	}
	return 0;
}
