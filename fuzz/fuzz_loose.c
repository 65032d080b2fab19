/* libFuzzer target for the bounded check of git loose objects (loose.h),
 * which reads relays and log.git before libgit2 does.
 *
 * Input: mode (1 byte), then the rest R.
 *   mode bit 0 clear: R is the loose object's bytes as stored (a zlib
 *                     stream), checked against a fixed object id;
 *   mode bit 0 set:   R is the inflated object ("blob 5\0hello"); the
 *                     target deflates it (cut short by mode >> 1 bytes when
 *                     that is non-zero) and names it by the SHA-1 git would
 *                     give its header and body, so the sound path is
 *                     reached too.
 * The check must end, with 0 or an error, on every input; a sound
 * object that was not cut must pass.
 *
 * PLEIN_FUZZ_SEEDS=DIR writes seeds to DIR and exits. */
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "plein/loose.h"

#include "seed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static void seed(const char *dir, const char *name, unsigned char mode, const char *obj, size_t len)
{
	FILE *f = fuzz_seed_open(dir, name);
	fputc(mode, f);
	fwrite(obj, 1, len, f);
	fclose(f);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	git_libgit2_init();
	const char *dir = getenv("PLEIN_FUZZ_SEEDS");
	if (!dir)
		return 0;
	static const char blob[] = "blob 11\0hello plein", commit[] =
		"commit 60\0tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor x <x> 0 +0000\n";
	seed(dir, "blob", 1, blob, sizeof blob - 1);
	seed(dir, "blob-cut", 1 | (4 << 1), blob, sizeof blob - 1);
	seed(dir, "commit", 1, commit, sizeof commit - 1);
	unsigned char z[128];
	uLongf zn = sizeof z;
	if (compress(z, &zn, (const unsigned char *)blob, sizeof blob - 1) != Z_OK)
		exit(2);
	seed(dir, "raw", 0, (const char *)z, zn);
	exit(0);
}

/* The id git gives an inflated object: the SHA-1 of all of it. */
static void object_id(char hex[41], const uint8_t *obj, size_t n)
{
	const uint8_t *nul = memchr(obj, 0, n);
	git_oid id;
	git_object_t type = GIT_OBJECT_BLOB;
	memset(&id, 0, sizeof id);
	if (nul) {
		if (n >= 7 && memcmp(obj, "commit ", 7) == 0)
			type = GIT_OBJECT_COMMIT;
		else if (n >= 5 && memcmp(obj, "tree ", 5) == 0)
			type = GIT_OBJECT_TREE;
		else if (n >= 4 && memcmp(obj, "tag ", 4) == 0)
			type = GIT_OBJECT_TAG;
		git_odb_hash(&id, nul + 1, n - (size_t)(nul + 1 - obj), type);
	}
	git_oid_tostr(hex, 41, &id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned mode = data[0];
	const uint8_t *r = data + 1;
	size_t n = size - 1;
	if (!(mode & 1)) {
		plein_loose_check_bytes(r, n, "0123456789abcdef0123456789abcdef01234567", "fuzz");
		return 0;
	}
	char hex[41];
	object_id(hex, r, n);
	uLongf zn = compressBound(n);
	unsigned char *z = malloc(zn);
	if (!z || compress2(z, &zn, r, n, 1) != Z_OK) {
		free(z);
		return 0;
	}
	size_t cut = mode >> 1;
	size_t len = cut && cut < zn ? zn - cut : zn;
	int rc = plein_loose_check_bytes(z, len, hex, "fuzz");
	/* An object whose header says its true length, not cut: sound. */
	const uint8_t *nul = memchr(r, 0, n < 32 ? n : 32);
	if (!cut && nul && rc < 0) {
		char want[40];
		size_t body = n - (size_t)(nul + 1 - r);
		const uint8_t *sp = memchr(r, ' ', (size_t)(nul - r));
		snprintf(want, sizeof want, "%zu", body);
		int typed = (nul - r >= 6 && memcmp(r, "blob ", 5) == 0) || (nul - r >= 8 && memcmp(r, "commit ", 7) == 0) ||
			    (nul - r >= 6 && memcmp(r, "tree ", 5) == 0) || (nul - r >= 5 && memcmp(r, "tag ", 4) == 0);
		if (typed && sp && (size_t)(nul - sp - 1) == strlen(want) && memcmp(sp + 1, want, strlen(want)) == 0)
			abort(); /* a sound object was called damaged */
	}
	free(z);
	return 0;
}
