/* A small test harness that prints TAP, so meson counts every case.
 *   TEST(name) { CHECK(x); CHECK_EQ_INT(a, b); CHECK_STR(a, b); }
 *   int main(void) { return RUN_TESTS(); }
 * A failed check records the file, line and expression and ends the case. */
#ifndef PLEIN_TEST_HARNESS_H
#define PLEIN_TEST_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plein/error.h"

typedef void (*test_fn)(void);
struct test_case { const char *name; test_fn fn; };

#define MAX_TESTS 256
extern struct test_case test_cases[MAX_TESTS];
extern int test_count;
extern int test_failed_now;
extern char test_msg[1024];

#define TEST(tname)                                                         \
	static void test_##tname(void);                                     \
	__attribute__((constructor)) static void reg_##tname(void)         \
	{                                                                   \
		test_cases[test_count].name = #tname;                       \
		test_cases[test_count++].fn = test_##tname;                 \
	}                                                                   \
	static void test_##tname(void)

#define FAIL_AT(...)                                                        \
	do {                                                                \
		snprintf(test_msg, sizeof test_msg, __VA_ARGS__);           \
		test_failed_now = 1;                                        \
		return;                                                     \
	} while (0)

#define CHECK(x)                                                            \
	do {                                                                \
		if (!(x))                                                   \
			FAIL_AT("%s:%d: CHECK(%s)", __FILE__, __LINE__, #x); \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                  \
	do {                                                                \
		long long va_ = (long long)(a), vb_ = (long long)(b);      \
		if (va_ != vb_)                                             \
			FAIL_AT("%s:%d: %s == %lld, expected %s == %lld",   \
				__FILE__, __LINE__, #a, va_, #b, vb_);      \
	} while (0)

/* Long strings (a whole document) do not fit test_msg, so a failure
 * shows where they first differ and a bounded stretch of each from there. */
#define CHECK_STR(a, b)                                                     \
	do {                                                                \
		const char *sa_ = (a), *sb_ = (b);                          \
		if (!sa_ || !sb_ || strcmp(sa_, sb_) != 0) {                \
			test_str_differ(__FILE__, __LINE__, #a, sa_, sb_);  \
			return;                                             \
		}                                                           \
	} while (0)

/* CHECK_OK(expr): a plein call returned 0; prints the plein error if not. */
#define CHECK_OK(x)                                                         \
	do {                                                                \
		int rc_ = (x);                                              \
		if (rc_ != 0)                                               \
			FAIL_AT("%s:%d: %s returned %d: %s", __FILE__,      \
				__LINE__, #x, rc_, plein_error());          \
	} while (0)

int run_tests(void);
#define RUN_TESTS() run_tests()
/* CHECK_STR's failure message into test_msg. */
void test_str_differ(const char *file, int line, const char *expr, const char *a, const char *b);

#ifdef TEST_HARNESS_MAIN
struct test_case test_cases[MAX_TESTS];
int test_count;
int test_failed_now;
char test_msg[1024];

/* How much of each string a CHECK_STR failure shows. */
#define TEST_STR_SHOWN 200

void test_str_differ(const char *file, int line, const char *expr, const char *a, const char *b)
{
	size_t at = 0;
	test_failed_now = 1;
	if (!a || !b) {
		snprintf(test_msg, sizeof test_msg, "%s:%d: %s is %s%s%s, expected %s%s%s", file, line, expr, a ? "\"" : "",
			 a ? a : "(null)", a ? "\"" : "", b ? "\"" : "", b ? b : "(null)", b ? "\"" : "");
		return;
	}
	while (a[at] && a[at] == b[at])
		at++;
	/* Start a little before the difference, so it shows in context. */
	size_t from = at > 20 ? at - 20 : 0;
	snprintf(test_msg, sizeof test_msg, "%s:%d: %s differs at byte %zu (of %zu, expected %zu): \"%s%.*s%s\", expected \"%s%.*s%s\"",
		 file, line, expr, at, strlen(a), strlen(b), from ? "..." : "", TEST_STR_SHOWN, a + from,
		 strlen(a + from) > TEST_STR_SHOWN ? "..." : "", from ? "..." : "", TEST_STR_SHOWN, b + from,
		 strlen(b + from) > TEST_STR_SHOWN ? "..." : "");
}

int run_tests(void)
{
	int failed = 0;
	const char *only = getenv("TEST_ONLY");
	printf("1..%d\n", test_count);
	for (int i = 0; i < test_count; i++) {
		if (only && strcmp(only, test_cases[i].name) != 0) {
			printf("ok %d - %s # SKIP\n", i + 1, test_cases[i].name);
			continue;
		}
		test_failed_now = 0;
		test_msg[0] = 0;
		test_cases[i].fn();
		if (test_failed_now) {
			failed++;
			printf("not ok %d - %s\n# %s\n", i + 1, test_cases[i].name, test_msg);
		} else {
			printf("ok %d - %s\n", i + 1, test_cases[i].name);
		}
		fflush(stdout);
	}
	return failed ? 1 : 0;
}
#endif

#endif
