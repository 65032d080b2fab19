/* Sign-ups for one occurrence (plein/records.h checks, seals and writes). */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "plein/error.h"
#include "plein/records.h"

int cmd_signup_add(cli_ctx *ctx)
{
	const char *rule, *date;
	char id[27];
	int rc;
	if ((rc = cli_need_pos(ctx, 0, 0)) < 0 || (rc = cli_need(ctx, "rule", &rule)) < 0 ||
	    (rc = cli_need(ctx, "date", &date)) < 0)
		return rc;
	plein_site *s = cli_site(ctx);
	if (!s)
		return plein_error_code();
	if ((rc = plein_signup_add(id, s, rule, date, cli_opt(ctx, "who"), PLEIN_NAMES_CLI)) == 0)
		cli_print_id(id);
	return rc;
}

int cmd_signup_list(cli_ctx *ctx)
{
	const char *rule, *date;
	sqlite3_stmt *st;
	int rc;
	if ((rc = cli_need_pos(ctx, 0, 0)) < 0 || (rc = cli_need(ctx, "rule", &rule)) < 0 ||
	    (rc = cli_need(ctx, "date", &date)) < 0)
		return rc;
	plein_site *s = cli_site(ctx);
	if (!s)
		return plein_error_code();
	if ((rc = plein_signup_list(&st, s, rule, date, PLEIN_NAMES_CLI)) < 0)
		return rc;
	return cli_print_rows(ctx, st);
}

int cmd_signup_set(cli_ctx *ctx)
{
	const char *status;
	plein_buf promoted = PLEIN_BUF_INIT;
	int rc;
	if ((rc = cli_need_pos(ctx, 1, 1)) < 0 || (rc = cli_need(ctx, "status", &status)) < 0)
		return rc;
	plein_site *s = cli_site(ctx);
	if (!s)
		return plein_error_code();
	if ((rc = plein_signup_set(&promoted, s, cli_pos(ctx, 0), status, PLEIN_NAMES_CLI)) == 0) {
		/* Each sign-up moved up from the waitlist, for the person at the desk. */
		for (char *p = (char *)plein_buf_cstr(&promoted), *nl; *p; p = nl + 1) {
			nl = strchr(p, '\n');
			printf("%.*s: van de wachtlijst naar geboekt\n", (int)(nl - p), p);
		}
	}
	plein_buf_free(&promoted);
	return rc;
}
