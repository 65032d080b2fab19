/* Helpers for the log and remote tests: made-up batches (the log treats
 * them as opaque bytes), temp log repositories, and running the git CLI. */
#ifndef PLEIN_TEST_LOG_UTIL_H
#define PLEIN_TEST_LOG_UTIL_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "plein/error.h"
#include "plein/log.h"

#define SITE_A "2F1A-0TNN-PF0H-MQK5"
#define SITE_B "7QF3-K9ZT-M2XA-PD4R"
#define SITE_C "0000-0000-0000-0001"

/* A batch whose bytes say who made it; variant tells forks apart. */
struct tb {
	char header[160], summary[64], payload[160], personal[64];
	unsigned char sig[64];
	plein_log_batch b;
};

static inline void tb_make(struct tb *t, const char *site, uint64_t seq, const char *variant, int personal)
{
	memset(t, 0, sizeof *t);
	snprintf(t->header, sizeof t->header, "header %s %" PRIu64 " %s", site, seq, variant);
	snprintf(t->payload, sizeof t->payload, "payload of batch %" PRIu64 " %s", seq, variant);
	snprintf(t->personal, sizeof t->personal, "personal %" PRIu64, seq);
	snprintf(t->summary, sizeof t->summary, "%" PRIu64 " changes", seq % 50 + 1);
	memset(t->sig, (int)(seq & 0xff), sizeof t->sig);
	t->b.site = site;
	t->b.seq = seq;
	t->b.time = 1700000000 + (int64_t)seq;
	t->b.summary = t->summary;
	t->b.header = (const unsigned char *)t->header;
	t->b.header_len = strlen(t->header);
	t->b.sig = t->sig;
	t->b.payload = (const unsigned char *)t->payload;
	t->b.payload_len = strlen(t->payload);
	if (personal) {
		t->b.personal = (const unsigned char *)t->personal;
		t->b.personal_len = strlen(t->personal);
	}
}

/* A new temp dir; path receives it (256 bytes). */
static inline int test_tmpdir(char *path)
{
	snprintf(path, 256, "%s/plein-log.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	return mkdtemp(path) ? 0 : -1;
}

/* Open (creating) dir/name as a log. */
static inline plein_log *test_log(const char *dir, const char *name)
{
	char path[400];
	plein_log *log = NULL;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	if (plein_log_open(&log, path, 1) < 0) {
		printf("# test_log: %s\n", plein_error());
		return NULL;
	}
	return log;
}

/* Run a shell command; its stdout (trailing newline cut) goes to out.
 * Returns the exit status, or -1. */
static inline int sh(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static inline int sh(char *out, size_t n, const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	size_t len = 0;
	if (out && n) {
		out[0] = 0;
		size_t r;
		while (len + 1 < n && (r = fread(out + len, 1, n - 1 - len, p)) > 0)
			len += r;
		out[len] = 0;
		while (len && out[len - 1] == '\n')
			out[--len] = 0;
	}
	char sink[256];
	while (fread(sink, 1, sizeof sink, p) > 0)
		;
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#endif
