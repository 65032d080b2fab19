/* A small streaming JSON writer: correct escaping, no allocation beyond
 * the output buffer. Commas are inserted automatically. */
#ifndef PLEIN_JSON_H
#define PLEIN_JSON_H

#include <stdint.h>
#include "plein/buf.h"

typedef struct {
	plein_buf *out;
	int depth;
	unsigned char need_comma[64];
	int after_key;
} plein_json;

void plein_json_init(plein_json *j, plein_buf *out);
void plein_json_obj_begin(plein_json *j);
void plein_json_obj_end(plein_json *j);
void plein_json_arr_begin(plein_json *j);
void plein_json_arr_end(plein_json *j);
void plein_json_key(plein_json *j, const char *key);
void plein_json_str(plein_json *j, const char *s);   /* NULL -> null */
void plein_json_int(plein_json *j, int64_t v);
void plein_json_double(plein_json *j, double v);
void plein_json_bool(plein_json *j, int v);
void plein_json_null(plein_json *j);

/* Append s to out as a JSON string literal, quotes included. */
void plein_json_escape(plein_buf *out, const char *s);

#endif
