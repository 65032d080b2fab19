/* plein board, plein folder: the pages the HTTP server shows, printed as
 * HTML so they work without a server (open the file in a browser, print
 * it, or put it on a USB stick for the TV). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "plein/buf.h"
#include "plein/error.h"
#include "plein/now.h"
#include "plein/pages.h"
#include "plein/validate.h"

/* --at as seconds since 1970; now when absent. */
static int at_time(cli_ctx *ctx, int64_t *out)
{
	const char *at = cli_opt(ctx, "at");
	char utc[21];
	int rc;
	if (!at) {
		*out = plein_now();
		return 0;
	}
	if ((rc = plein_check_timestamp("--at", at, utc)) < 0)
		return rc;
	struct tm tm = {0};
	tm.tm_year = (utc[0] - '0') * 1000 + (utc[1] - '0') * 100 + (utc[2] - '0') * 10 + (utc[3] - '0') - 1900;
	tm.tm_mon = (utc[5] - '0') * 10 + (utc[6] - '0') - 1;
	tm.tm_mday = (utc[8] - '0') * 10 + (utc[9] - '0');
	tm.tm_hour = (utc[11] - '0') * 10 + (utc[12] - '0');
	tm.tm_min = (utc[14] - '0') * 10 + (utc[15] - '0');
	tm.tm_sec = (utc[17] - '0') * 10 + (utc[18] - '0');
	*out = (int64_t)timegm(&tm);
	return 0;
}

static int print(plein_buf *out, int rc)
{
	if (rc == 0)
		fwrite(out->data, 1, out->len, stdout);
	plein_buf_free(out);
	return rc;
}

int cmd_board(cli_ctx *ctx)
{
	const char *location;
	int64_t now;
	plein_buf out = PLEIN_BUF_INIT;
	int rc;
	if ((rc = cli_need_pos(ctx, 0, 0)) < 0 || (rc = cli_need(ctx, "location", &location)) < 0 ||
	    (rc = at_time(ctx, &now)) < 0)
		return rc;
	plein_site *s = cli_site(ctx);
	if (!s)
		return plein_error_code();
	if (cli_flag(ctx, "version")) {
		if ((rc = plein_page_board_version(&out, s, location, now)) == 0)
			plein_buf_putc(&out, '\n');
		return print(&out, rc);
	}
	return print(&out, plein_page_board(&out, s, location, now));
}

int cmd_folder(cli_ctx *ctx)
{
	const char *location;
	plein_buf out = PLEIN_BUF_INIT;
	int rc;
	if ((rc = cli_need_pos(ctx, 0, 0)) < 0 || (rc = cli_need(ctx, "location", &location)) < 0)
		return rc;
	plein_site *s = cli_site(ctx);
	if (!s)
		return plein_error_code();
	return print(&out, plein_page_folder(&out, s, location, cli_opt(ctx, "week")));
}
