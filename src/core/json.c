#include "plein/json.h"

#include <math.h>
#include <stdio.h>

void plein_json_init(plein_json *j, plein_buf *out)
{
	j->out = out;
	j->depth = 0;
	j->need_comma[0] = 0;
	j->after_key = 0;
}

static void sep(plein_json *j)
{
	if (j->after_key) {
		j->after_key = 0;
		return;
	}
	if (j->need_comma[j->depth])
		plein_buf_putc(j->out, ',');
	j->need_comma[j->depth] = 1;
}

static void open(plein_json *j, int c)
{
	sep(j);
	plein_buf_putc(j->out, c);
	if (j->depth < (int)sizeof j->need_comma - 1)
		j->depth++;
	j->need_comma[j->depth] = 0;
}

static void close_(plein_json *j, int c)
{
	plein_buf_putc(j->out, c);
	if (j->depth > 0)
		j->depth--;
}

void plein_json_obj_begin(plein_json *j) { open(j, '{'); }
void plein_json_obj_end(plein_json *j) { close_(j, '}'); }
void plein_json_arr_begin(plein_json *j) { open(j, '['); }
void plein_json_arr_end(plein_json *j) { close_(j, ']'); }

void plein_json_escape(plein_buf *out, const char *s)
{
	plein_buf_putc(out, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': plein_buf_puts(out, "\\\""); break;
		case '\\': plein_buf_puts(out, "\\\\"); break;
		case '\n': plein_buf_puts(out, "\\n"); break;
		case '\r': plein_buf_puts(out, "\\r"); break;
		case '\t': plein_buf_puts(out, "\\t"); break;
		default:
			if (*p < 0x20)
				plein_buf_printf(out, "\\u%04x", *p);
			else
				plein_buf_putc(out, *p);
		}
	}
	plein_buf_putc(out, '"');
}

void plein_json_key(plein_json *j, const char *key)
{
	sep(j);
	plein_json_escape(j->out, key);
	plein_buf_putc(j->out, ':');
	j->after_key = 1;
}

void plein_json_str(plein_json *j, const char *s)
{
	if (!s) {
		plein_json_null(j);
		return;
	}
	sep(j);
	plein_json_escape(j->out, s);
}

void plein_json_int(plein_json *j, int64_t v)
{
	sep(j);
	plein_buf_printf(j->out, "%lld", (long long)v);
}

void plein_json_double(plein_json *j, double v)
{
	sep(j);
	if (isfinite(v))
		plein_buf_printf(j->out, "%.17g", v);
	else
		plein_buf_puts(j->out, "null");
}

void plein_json_bool(plein_json *j, int v)
{
	sep(j);
	plein_buf_puts(j->out, v ? "true" : "false");
}

void plein_json_null(plein_json *j)
{
	sep(j);
	plein_buf_puts(j->out, "null");
}
