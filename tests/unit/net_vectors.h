/* Test vectors of docs/tcp-sync.md: read "name = hex" lines from the doc,
 * so the doc and the test cannot drift apart. */
#ifndef PLEIN_TEST_NET_VECTORS_H
#define PLEIN_TEST_NET_VECTORS_H

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plein/buf.h"

/* The hex after "name = " on a line of the doc (hex may continue on
 * following lines that hold only hex digits). 0 if found. */
static inline int doc_hex(plein_buf *out, const char *name)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/tcp-sync.md", PLEIN_DOCS_DIR);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char line[4096], want[128];
	snprintf(want, sizeof want, "%s = ", name);
	int found = 0, in = 0;
	plein_buf hex = PLEIN_BUF_INIT;
	while (fgets(line, sizeof line, f)) {
		char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!in && strncmp(p, want, strlen(want)) == 0) {
			in = found = 1;
			p += strlen(want);
		} else if (in) {
			size_t n = strspn(p, "0123456789abcdef");
			if (n == 0 || (p[n] != '\n' && p[n] != 0))
				break;
		} else {
			continue;
		}
		size_t n = strspn(p, "0123456789abcdef");
		plein_buf_put(&hex, p, n);
	}
	fclose(f);
	if (!found) {
		plein_buf_free(&hex);
		return -1;
	}
	plein_buf_grow(out, hex.len / 2 + 1);
	size_t got = 0;
	int rc = sodium_hex2bin(out->data + out->len, hex.len / 2 + 1, plein_buf_cstr(&hex), hex.len, NULL, &got, NULL);
	out->len += got;
	size_t hexlen = hex.len;
	plein_buf_free(&hex);
	return rc == 0 && got * 2 == hexlen ? 0 : -1;
}

static inline void print_hex(const char *name, const unsigned char *p, size_t n)
{
	printf("# %s = ", name);
	for (size_t i = 0; i < n; i++) {
		if (i && i % 32 == 0)
			printf("\n#     ");
		printf("%02x", p[i]);
	}
	printf("\n");
}

static inline int from_hex(unsigned char *out, size_t n, const char *hex)
{
	size_t got = 0;
	return sodium_hex2bin(out, n, hex, strlen(hex), NULL, &got, NULL) == 0 && got == n ? 0 : -1;
}

#endif
