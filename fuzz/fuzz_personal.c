/* libFuzzer target for merging two copies of a personal part
 * (docs/log-format.md, "Personal parts"; src/core/personal.c): the bytes a
 * git remote hands us are outside data.
 *
 * Input: mode (1 byte), length L of the first copy (2 bytes, big-endian),
 * the first copy (L bytes), the second (the rest).
 *   mode bit 0: the copies are given inflated; the target compresses them,
 *               so the entries' framing gets the mutations.
 * Whatever parses must hold up: a copy merged with itself is itself, and
 * the merge of a and b, merged again with a, changes nothing more.
 *
 * PLEIN_FUZZ_SEEDS=DIR writes a few seeds to DIR and exits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "plein/error.h"
#include "plein/personal.h"

#include "seed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static void deflate_into(plein_buf *out, const uint8_t *p, size_t n)
{
	uLongf cap = compressBound((uLong)n);
	plein_buf_grow(out, cap);
	if (compress2(out->data, &cap, p, (uLong)n, 1) == Z_OK)
		out->len = cap;
}

static void seed(const char *dir, const char *name, const uint8_t *a, size_t na, const uint8_t *b, size_t nb)
{
	FILE *f = fuzz_seed_open(dir, name);
	uint8_t head[3] = { 1, (uint8_t)(na >> 8), (uint8_t)na };
	fwrite(head, 1, 3, f);
	fwrite(a, 1, na, f);
	fwrite(b, 1, nb, f);
	fclose(f);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *dir = getenv("PLEIN_FUZZ_SEEDS");
	if (!dir)
		return 0;
	/* entries: present TEXT "Jan", present INT 5, purged */
	static const uint8_t full[] = {
		1, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 3, 3, 'J', 'a', 'n',
		1, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 1, 10,
		0,
	};
	static const uint8_t part[] = {
		0,
		1, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 1, 10,
		0,
	};
	seed(dir, "same", full, sizeof full, full, sizeof full);
	seed(dir, "purged", full, sizeof full, part, sizeof part);
	seed(dir, "empty", full, sizeof full, part, 0);
	exit(0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	int inflated = data[0] & 1;
	size_t la = (size_t)data[1] << 8 | data[2];
	data += 3;
	size -= 3;
	if (la > size)
		la = size;
	plein_buf a = PLEIN_BUF_INIT, b = PLEIN_BUF_INIT, m = PLEIN_BUF_INIT, m2 = PLEIN_BUF_INIT, self = PLEIN_BUF_INIT;
	if (inflated) {
		deflate_into(&a, data, la);
		deflate_into(&b, data + la, size - la);
	} else {
		plein_buf_put(&a, data, la);
		plein_buf_put(&b, data + la, size - la);
	}
	int sa = 0, sb = 0;
	if (plein_personal_intersect(&self, &sa, &sb, a.data, a.len, a.data, a.len) == 0 && !(sa && sb))
		abort(); /* a copy merged with itself must be itself */
	if (plein_personal_intersect(&m, &sa, &sb, a.data, a.len, b.data, b.len) == 0 && !sa && m.len) {
		int s1 = 0, s2 = 0;
		/* merging the merge with a again loses nothing more */
		if (plein_personal_intersect(&m2, &s1, &s2, m.data, m.len, a.data, a.len) < 0 || !s1)
			abort();
	}
	plein_error_clear();
	plein_buf_free(&a);
	plein_buf_free(&b);
	plein_buf_free(&m);
	plein_buf_free(&m2);
	plein_buf_free(&self);
	return 0;
}
