/* placeholder */
#include "harness.h"
TEST(placeholder) { CHECK(1); }
