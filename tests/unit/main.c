#define TEST_HARNESS_MAIN
#include "harness.h"

int main(void)
{
	return RUN_TESTS();
}
