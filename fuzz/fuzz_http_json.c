/* libFuzzer target for the HTTP API's JSON reader (src/http/jsonin.c):
 * any bytes either fail with a message or give a document that, written
 * back out with plein_json and read again, is the same document. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/http/jsonin.h"
#include "plein/error.h"
#include "plein/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void write_value(plein_json *j, const jv *v)
{
	switch (v->type) {
	case JV_NULL: plein_json_null(j); break;
	case JV_BOOL: plein_json_bool(j, v->boolean); break;
	case JV_NUMBER:
		if (v->is_int)
			plein_json_int(j, v->integer);
		else
			plein_json_double(j, v->number);
		break;
	case JV_STRING: plein_json_str(j, v->string); break;
	case JV_ARRAY:
		plein_json_arr_begin(j);
		for (size_t i = 0; i < v->n; i++)
			write_value(j, &v->items[i]);
		plein_json_arr_end(j);
		break;
	case JV_OBJECT:
		plein_json_obj_begin(j);
		for (size_t i = 0; i < v->n; i++) {
			plein_json_key(j, v->keys[i]);
			write_value(j, &v->items[i]);
		}
		plein_json_obj_end(j);
		break;
	}
}

static int same(const jv *a, const jv *b)
{
	if (a->type != b->type || a->n != b->n)
		return 0;
	switch (a->type) {
	case JV_BOOL: return a->boolean == b->boolean;
	/* %.17g gives the same double back; -0.5e3 may come back as -500. */
	case JV_NUMBER: return a->is_int ? b->is_int && a->integer == b->integer : a->number == b->number;
	case JV_STRING: return strcmp(a->string, b->string) == 0;
	case JV_ARRAY:
	case JV_OBJECT:
		for (size_t i = 0; i < a->n; i++)
			if ((a->keys && strcmp(a->keys[i], b->keys[i]) != 0) || !same(&a->items[i], &b->items[i]))
				return 0;
		return 1;
	default: return 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	jv *v = NULL, *again = NULL;
	if (jsonin_parse(&v, (const char *)data, size) < 0) {
		if (!*plein_error())
			abort(); /* every refusal says why */
		return 0;
	}
	/* The writer nests at most 64 levels; the reader allows 32. */
	plein_buf out = PLEIN_BUF_INIT;
	plein_json j;
	plein_json_init(&j, &out);
	write_value(&j, v);
	if (jsonin_parse(&again, (const char *)out.data, out.len) < 0 || !same(v, again)) {
		fprintf(stderr, "round trip failed: %s\n", plein_buf_cstr(&out));
		abort();
	}
	jv_free(again);
	jv_free(v);
	plein_buf_free(&out);
	return 0;
}
