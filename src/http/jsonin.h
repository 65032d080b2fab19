/* A strict JSON reader for request bodies (RFC 8259): whole document,
 * no trailing commas or comments, valid UTF-8, no NUL in strings, no
 * duplicate keys, bounded nesting. Errors say what and at which byte. */
#ifndef PLEIN_HTTP_JSONIN_H
#define PLEIN_HTTP_JSONIN_H

#include <stddef.h>
#include <stdint.h>

typedef enum { JV_NULL, JV_BOOL, JV_NUMBER, JV_STRING, JV_ARRAY, JV_OBJECT } jv_type;

typedef struct jv {
	jv_type type;
	int boolean;
	int is_int;       /* a number without fraction or exponent that fits int64 */
	int64_t integer;
	double number;
	char *string;     /* NUL-terminated UTF-8 (no NUL inside) */
	size_t n;         /* items of an array or object */
	struct jv *items;
	char **keys;      /* object keys, parallel to items */
} jv;

#define JSONIN_MAX_DEPTH 32

/* Parse p[0..n) into *out (free with jv_free). PLEIN_EINVAL with a
 * message for a person on malformed input. */
int jsonin_parse(jv **out, const char *p, size_t n);
void jv_free(jv *v);
/* The member of an object named key, or NULL. */
const jv *jv_get(const jv *obj, const char *key);
/* "a string", "a number", ... for messages. */
const char *jv_type_name(jv_type t);

#endif
