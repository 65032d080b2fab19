#include "plein/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static char last[1024];
static int last_code;

int plein_fail(int code, const char *fmt, ...)
{
	/* Format aside first: callers may pass plein_error() itself. */
	char msg[sizeof last];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	memcpy(last, msg, sizeof last);
	last_code = code;
	return code;
}

const char *plein_error(void)
{
	return last[0] ? last : "unknown error";
}

int plein_error_code(void)
{
	return last_code;
}

void plein_error_clear(void)
{
	last[0] = 0;
	last_code = 0;
}

int plein_exit_status(int code)
{
	if (code == 0)
		return 0;
	if (code == PLEIN_EINVAL || code == PLEIN_ENOTFOUND)
		return 1;
	return 2;
}
