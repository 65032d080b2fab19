/* Strict JSON reader (jsonin.h): recursive descent over a bounded depth. */
#include "jsonin.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plein/buf.h"
#include "plein/error.h"

typedef struct {
	const unsigned char *p, *end, *start;
	int depth;
} reader;

static int bad(reader *r, const char *what)
{
	return plein_fail(PLEIN_EINVAL, "the body is not valid JSON: %s at byte %zu", what, (size_t)(r->p - r->start));
}

static void skip_ws(reader *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static int hex4(reader *r, unsigned *out)
{
	unsigned v = 0;
	if (r->end - r->p < 4)
		return bad(r, "a short \\u escape");
	for (int i = 0; i < 4; i++) {
		unsigned char c = r->p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return bad(r, "a bad \\u escape");
	}
	r->p += 4;
	*out = v;
	return 0;
}

static void put_utf8(plein_buf *b, unsigned cp)
{
	if (cp < 0x80) {
		plein_buf_putc(b, (int)cp);
	} else if (cp < 0x800) {
		plein_buf_putc(b, (int)(0xc0 | cp >> 6));
		plein_buf_putc(b, (int)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		plein_buf_putc(b, (int)(0xe0 | cp >> 12));
		plein_buf_putc(b, (int)(0x80 | ((cp >> 6) & 0x3f)));
		plein_buf_putc(b, (int)(0x80 | (cp & 0x3f)));
	} else {
		plein_buf_putc(b, (int)(0xf0 | cp >> 18));
		plein_buf_putc(b, (int)(0x80 | ((cp >> 12) & 0x3f)));
		plein_buf_putc(b, (int)(0x80 | ((cp >> 6) & 0x3f)));
		plein_buf_putc(b, (int)(0x80 | (cp & 0x3f)));
	}
}

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlongs, no
 * surrogates, at most U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0];
	size_t n;
	unsigned cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

static int parse_string(reader *r, char **out)
{
	plein_buf b = PLEIN_BUF_INIT;
	int rc = 0;
	r->p++; /* the opening quote */
	for (;;) {
		if (r->p >= r->end) {
			rc = bad(r, "a string that does not end");
			break;
		}
		unsigned char c = *r->p;
		if (c == '"') {
			r->p++;
			break;
		}
		if (c < 0x20) {
			rc = bad(r, "a control character in a string (write it as an escape)");
			break;
		}
		if (c != '\\') {
			size_t n = utf8_len(r->p, r->end);
			if (!n) {
				rc = bad(r, "bytes that are not UTF-8");
				break;
			}
			plein_buf_put(&b, r->p, n);
			r->p += n;
			continue;
		}
		if (++r->p >= r->end) {
			rc = bad(r, "a string that does not end");
			break;
		}
		c = *r->p++;
		const char *simple = strchr("\"\\/bfnrt", c);
		if (simple && c) {
			static const char map[] = "\"\\/\b\f\n\r\t";
			plein_buf_putc(&b, map[simple - "\"\\/bfnrt"]);
			continue;
		}
		if (c != 'u') {
			r->p--;
			rc = bad(r, "an unknown escape in a string");
			break;
		}
		unsigned cp, lo;
		if ((rc = hex4(r, &cp)) < 0)
			break;
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (r->end - r->p < 2 || r->p[0] != '\\' || r->p[1] != 'u') {
				rc = bad(r, "a lone surrogate in a \\u escape");
				break;
			}
			r->p += 2;
			if ((rc = hex4(r, &lo)) < 0)
				break;
			if (lo < 0xdc00 || lo > 0xdfff) {
				rc = bad(r, "a lone surrogate in a \\u escape");
				break;
			}
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		} else if (cp >= 0xdc00 && cp <= 0xdfff) {
			rc = bad(r, "a lone surrogate in a \\u escape");
			break;
		}
		if (cp == 0) {
			rc = bad(r, "\\u0000 in a string (NUL is not allowed)");
			break;
		}
		put_utf8(&b, cp);
	}
	if (rc < 0) {
		plein_buf_free(&b);
		return rc;
	}
	*out = plein_xstrdup(plein_buf_cstr(&b));
	plein_buf_free(&b);
	return 0;
}

static int parse_number(reader *r, jv *v)
{
	const unsigned char *s = r->p;
	int integral = 1;
	if (r->p < r->end && *r->p == '-')
		r->p++;
	if (r->p >= r->end || *r->p < '0' || *r->p > '9')
		return bad(r, "a number without digits");
	if (*r->p == '0' && r->p + 1 < r->end && r->p[1] >= '0' && r->p[1] <= '9')
		return bad(r, "a number with a leading zero");
	while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
		r->p++;
	if (r->p < r->end && *r->p == '.') {
		integral = 0;
		r->p++;
		if (r->p >= r->end || *r->p < '0' || *r->p > '9')
			return bad(r, "a number without digits after '.'");
		while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
			r->p++;
	}
	if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
		integral = 0;
		r->p++;
		if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
			r->p++;
		if (r->p >= r->end || *r->p < '0' || *r->p > '9')
			return bad(r, "a number without digits in its exponent");
		while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
			r->p++;
	}
	char tmp[64];
	size_t len = (size_t)(r->p - s);
	if (len >= sizeof tmp)
		return bad(r, "a number with too many digits");
	memcpy(tmp, s, len);
	tmp[len] = 0;
	v->type = JV_NUMBER;
	v->number = strtod(tmp, NULL);
	if (!isfinite(v->number))
		return bad(r, "a number out of range");
	if (integral) {
		char *end;
		long long ll = strtoll(tmp, &end, 10);
		if (*end == 0 && !(ll == LLONG_MAX || ll == LLONG_MIN)) {
			v->is_int = 1;
			v->integer = ll;
		}
	}
	return 0;
}

static int literal(reader *r, const char *word)
{
	size_t n = strlen(word);
	if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
		return bad(r, "an unexpected character");
	r->p += n;
	return 0;
}

static int parse_value(reader *r, jv *v);

static int parse_container(reader *r, jv *v, int object)
{
	size_t cap = 0;
	if (++r->depth > JSONIN_MAX_DEPTH)
		return bad(r, "nesting deeper than 32 levels");
	v->type = object ? JV_OBJECT : JV_ARRAY;
	r->p++;
	skip_ws(r);
	if (r->p < r->end && *r->p == (object ? '}' : ']')) {
		r->p++;
		r->depth--;
		return 0;
	}
	for (;;) {
		char *key = NULL;
		int rc;
		skip_ws(r);
		if (object) {
			if (r->p >= r->end || *r->p != '"')
				return bad(r, "expected a key in quotes");
			if ((rc = parse_string(r, &key)) < 0)
				return rc;
			for (size_t i = 0; i < v->n; i++)
				if (strcmp(v->keys[i], key) == 0) {
					free(key);
					return plein_fail(PLEIN_EINVAL, "the body has the field '%s' twice", v->keys[i]);
				}
			skip_ws(r);
			if (r->p >= r->end || *r->p != ':') {
				free(key);
				return bad(r, "expected ':' after a key");
			}
			r->p++;
		}
		if (v->n == cap) {
			cap = cap ? cap * 2 : 4;
			v->items = plein_xrealloc(v->items, cap * sizeof *v->items);
			if (object)
				v->keys = plein_xrealloc(v->keys, cap * sizeof *v->keys);
		}
		memset(&v->items[v->n], 0, sizeof *v->items);
		if (object)
			v->keys[v->n] = key;
		v->n++;
		if ((rc = parse_value(r, &v->items[v->n - 1])) < 0)
			return rc;
		skip_ws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			skip_ws(r);
			if (r->p < r->end && (*r->p == '}' || *r->p == ']'))
				return bad(r, "a comma before the end (trailing commas are not JSON)");
			continue;
		}
		if (r->p < r->end && *r->p == (object ? '}' : ']')) {
			r->p++;
			r->depth--;
			return 0;
		}
		return bad(r, object ? "expected ',' or '}'" : "expected ',' or ']'");
	}
}

static int parse_value(reader *r, jv *v)
{
	skip_ws(r);
	if (r->p >= r->end)
		return bad(r, "the document ends where a value should be");
	switch (*r->p) {
	case '{': return parse_container(r, v, 1);
	case '[': return parse_container(r, v, 0);
	case '"': v->type = JV_STRING; return parse_string(r, &v->string);
	case 't': v->type = JV_BOOL; v->boolean = 1; return literal(r, "true");
	case 'f': v->type = JV_BOOL; return literal(r, "false");
	case 'n': v->type = JV_NULL; return literal(r, "null");
	default:
		if (*r->p == '-' || (*r->p >= '0' && *r->p <= '9'))
			return parse_number(r, v);
		return bad(r, "an unexpected character");
	}
}

static void jv_clear(jv *v)
{
	for (size_t i = 0; i < v->n; i++) {
		jv_clear(&v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->string);
}

void jv_free(jv *v)
{
	if (!v)
		return;
	jv_clear(v);
	free(v);
}

int jsonin_parse(jv **out, const char *p, size_t n)
{
	reader r = { (const unsigned char *)p, (const unsigned char *)p + n, (const unsigned char *)p, 0 };
	jv *v = plein_xcalloc(1, sizeof *v);
	int rc = parse_value(&r, v);
	if (rc == 0) {
		skip_ws(&r);
		if (r.p != r.end)
			rc = bad(&r, "more after the end of the document");
	}
	if (rc < 0) {
		jv_free(v);
		*out = NULL;
		return rc;
	}
	*out = v;
	return 0;
}

const jv *jv_get(const jv *obj, const char *key)
{
	if (!obj || obj->type != JV_OBJECT)
		return NULL;
	for (size_t i = 0; i < obj->n; i++)
		if (strcmp(obj->keys[i], key) == 0)
			return &obj->items[i];
	return NULL;
}

const char *jv_type_name(jv_type t)
{
	static const char *const names[] = { "null", "true or false", "a number", "a string", "an array", "an object" };
	return names[t];
}
