/* plein serve: the daemon in the foreground (src/daemon, docs/daemon.md). */
#include <limits.h>
#include <unistd.h>

#include "commands.h"
#include "plein/daemon.h"
#include "plein/error.h"

int cmd_serve(cli_ctx *ctx)
{
	plein_daemon_opts o = { .listen = cli_opt(ctx, "listen"), .http = cli_opt(ctx, "http") };
	long interval = 0, max_conn = 0;
	int rc;
	if ((rc = cli_need_pos(ctx, 0, 0)) < 0 || (rc = cli_opt_int(ctx, "interval", 1, 86400, &interval)) < 0 ||
			(rc = cli_opt_int(ctx, "max-connections", 1, 10000, &max_conn)) < 0)
		return rc;
	o.interval = (int)interval;
	o.max_connections = (int)max_conn;
	/* Git peers are synced by running this very binary ('plein sync'). */
	static char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		return plein_fail(PLEIN_ERR, "cannot find the plein binary (/proc/self/exe); is /proc mounted?");
	exe[n] = 0;
	o.exe = exe;
	plein_dlog_level(cli_flag(ctx, "verbose") ? PLEIN_DLOG_DEBUG : PLEIN_DLOG_INFO);
	plein_site *s = cli_site(ctx);
	if (!s)
		return plein_error_code();
	return plein_daemon_run(s, &o);
}
