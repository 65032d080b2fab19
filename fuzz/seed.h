/* Writing a fuzz target's seed corpus: with PLEIN_FUZZ_SEEDS=DIR its
 * LLVMFuzzerInitialize writes one file per seed there (tools/fuzz). */
#ifndef PLEIN_FUZZ_SEED_H
#define PLEIN_FUZZ_SEED_H

#include <stdio.h>
#include <stdlib.h>

/* DIR/NAME, opened for writing; a seed that cannot be written ends the run. */
static inline FILE *fuzz_seed_open(const char *dir, const char *name)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f) {
		perror(path);
		exit(2);
	}
	return f;
}

#endif
