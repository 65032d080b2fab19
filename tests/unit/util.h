/* Helpers for unit tests: a fresh site in a temporary directory. */
#ifndef PLEIN_TEST_UTIL_H
#define PLEIN_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "plein/error.h"
#include "plein/site.h"

/* Create a site in a new temp dir; dir receives the path (256 bytes). */
static inline plein_site *test_site(char *dir)
{
	snprintf(dir, 256, "%s/plein-test.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		return NULL;
	plein_site *s = NULL;
	if (plein_site_create(&s, dir, "test") < 0) {
		fprintf(stderr, "# test_site: %s\n", plein_error());
		return NULL;
	}
	/* One test network; each test site is its own admin. */
	char pk[65];
	sodium_bin2hex(pk, sizeof pk, s->pk, 32);
	if (plein_site_local_set(s, "network_name", "Testnetwerk") < 0 ||
	    plein_site_local_set(s, "network_id", "00112233445566778899aabbccddeeff") < 0 ||
	    plein_site_local_set(s, "admin_pk", pk) < 0) {
		fprintf(stderr, "# test_site: %s\n", plein_error());
		plein_site_close(s);
		return NULL;
	}
	return s;
}

static inline void test_rmdir(const char *dir)
{
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "# could not remove %s\n", dir);
}

#endif
