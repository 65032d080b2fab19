/* The harness itself: a CHECK_STR failure on long strings still says
 * where they differ, and the message fits test_msg whole. */
#include "harness.h"

static char long_a[2000], long_b[2000];

static void compare_long(void)
{
	CHECK_STR(long_a, long_b);
}

TEST(check_str_shows_where_long_strings_differ)
{
	memset(long_a, 'x', sizeof long_a - 1);
	memcpy(long_b, long_a, sizeof long_b);
	long_b[1500] = 'Y';
	compare_long();
	int failed = test_failed_now;
	char msg[sizeof test_msg];
	memcpy(msg, test_msg, sizeof msg);
	test_failed_now = 0;
	test_msg[0] = 0;
	CHECK(failed);
	CHECK(strstr(msg, "differs at byte 1500 (of 1999, expected 1999)"));
	CHECK(strstr(msg, "expected \"...xxxxxxxxxxxxxxxxxxxxY"));
	CHECK(strlen(msg) < sizeof msg - 1);
}

TEST(check_str_shows_null)
{
	test_str_differ("f.c", 7, "x", NULL, "b");
	int failed = test_failed_now;
	char msg[sizeof test_msg];
	memcpy(msg, test_msg, sizeof msg);
	test_failed_now = 0;
	CHECK(failed);
	CHECK_STR(msg, "f.c:7: x is (null), expected \"b\"");
}
