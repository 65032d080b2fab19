#include "plein/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(void)
{
	fputs("plein: out of memory\n", stderr);
	abort();
}

void *plein_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *plein_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom();
	return p;
}

void *plein_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *plein_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	return memcpy(plein_xmalloc(n), s, n);
}

void plein_buf_grow(plein_buf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->len + extra + 1)
		cap *= 2;
	b->data = plein_xrealloc(b->data, cap);
	b->cap = cap;
}

void plein_buf_put(plein_buf *b, const void *p, size_t n)
{
	plein_buf_grow(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
}

void plein_buf_putc(plein_buf *b, int c)
{
	plein_buf_grow(b, 1);
	b->data[b->len++] = (unsigned char)c;
}

void plein_buf_puts(plein_buf *b, const char *s)
{
	plein_buf_put(b, s, strlen(s));
}

void plein_buf_printf(plein_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	plein_buf_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

const char *plein_buf_cstr(plein_buf *b)
{
	plein_buf_grow(b, 0);
	b->data[b->len] = 0;
	return (const char *)b->data;
}

void plein_buf_reset(plein_buf *b)
{
	b->len = 0;
}

void plein_buf_free(plein_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void plein_buf_put_varint(plein_buf *b, uint64_t v)
{
	unsigned char tmp[10];
	size_t n = 0;
	do {
		unsigned char byte = v & 0x7f;
		v >>= 7;
		tmp[n++] = byte | (v ? 0x80 : 0);
	} while (v);
	plein_buf_put(b, tmp, n);
}

size_t plein_get_varint(const unsigned char *p, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n && i < 10; i++) {
		uint64_t part = p[i] & 0x7f;
		if (i == 9 && part > 1)
			return 0; /* would overflow 64 bits */
		v |= part << (7 * i);
		if (!(p[i] & 0x80)) {
			if (i > 0 && p[i] == 0)
				return 0; /* not minimal: one value, one encoding */
			*out = v;
			return i + 1;
		}
	}
	return 0;
}
