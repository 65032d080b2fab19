/* A growable byte buffer. Allocation failure aborts: plein cannot do
 * anything useful without memory, and every caller would do the same. */
#ifndef PLEIN_BUF_H
#define PLEIN_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
	unsigned char *data;
	size_t len, cap;
} plein_buf;

#define PLEIN_BUF_INIT { 0, 0, 0 }

void plein_buf_grow(plein_buf *b, size_t extra);
void plein_buf_put(plein_buf *b, const void *p, size_t n);
void plein_buf_putc(plein_buf *b, int c);
void plein_buf_puts(plein_buf *b, const char *s);
void plein_buf_printf(plein_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* NUL-terminated view of the contents (the NUL is not counted in len). */
const char *plein_buf_cstr(plein_buf *b);
void plein_buf_reset(plein_buf *b);
void plein_buf_free(plein_buf *b);

/* Unsigned LEB128 varints, as used by the binary formats in docs/. */
void plein_buf_put_varint(plein_buf *b, uint64_t v);
/* Reads a varint from p[0..n); returns bytes used, 0 if malformed/short. */
size_t plein_get_varint(const unsigned char *p, size_t n, uint64_t *out);

void *plein_xmalloc(size_t n);
void *plein_xcalloc(size_t n, size_t size);
void *plein_xrealloc(void *p, size_t n);
char *plein_xstrdup(const char *s);

#endif
