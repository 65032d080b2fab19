/* The daemon's back-off: doubling from the base, capped, half of it
 * random (equal jitter), never zero. */
#include "harness.h"
#include "plein/daemon.h"

TEST(backoff_doubles_per_failure_within_its_jitter)
{
	for (unsigned n = 1; n <= 6; n++) {
		double d = (double)(1u << (n - 1));
		CHECK(plein_daemon_backoff(n, 1, 300, 0.0) == d / 2);
		CHECK(plein_daemon_backoff(n, 1, 300, 0.999999) < d);
		CHECK(plein_daemon_backoff(n, 1, 300, 0.999999) > d * 0.99);
	}
}

TEST(backoff_is_capped_and_does_not_overflow)
{
	CHECK(plein_daemon_backoff(9, 1, 4, 0.0) == 2);
	CHECK(plein_daemon_backoff(9, 1, 4, 0.5) == 3);
	CHECK(plein_daemon_backoff(4000000000u, 1, 300, 0.999) <= 300);
	CHECK(plein_daemon_backoff(4000000000u, 1, 300, 0.0) == 150);
}

TEST(backoff_scales_with_the_base)
{
	CHECK(plein_daemon_backoff(1, 2.5, 300, 0.0) == 1.25);
	CHECK(plein_daemon_backoff(3, 2.5, 300, 0.0) == 5);
}
