/* The daemon's log: one line per event on stderr, with a level. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "plein/daemon.h"

static int max_level = PLEIN_DLOG_INFO;
static int journal = -1; /* stderr is journald's stream: unknown yet */

void plein_dlog_level(int level)
{
	max_level = level;
}

int plein_dlog_enabled(int level)
{
	return level <= max_level;
}

/* systemd sets JOURNAL_STREAM=DEV:INODE of the stream it connected; it is
 * ours only when stderr is still that very file. */
static int to_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	struct stat st;
	unsigned long long dev, ino;
	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(2, &st) != 0)
		return 0;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

static const char *level_name(int level)
{
	switch (level) {
	case PLEIN_DLOG_ERROR: return "error";
	case PLEIN_DLOG_WARN: return "warn";
	case PLEIN_DLOG_INFO: return "info";
	default: return "debug";
	}
}

void plein_dlog(int level, const char *fmt, ...)
{
	if (level > max_level)
		return;
	if (journal < 0)
		journal = to_journal();
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* One event, one line: a message from git may hold newlines. */
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (journal) {
		fprintf(stderr, "<%d>%s\n", level, msg);
	} else {
		struct timespec ts;
		struct tm tm;
		char when[32];
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ldZ %s: %s\n", when, ts.tv_nsec / 1000000, level_name(level), msg);
	}
	fflush(stderr);
}
