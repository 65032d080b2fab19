/* Anonymous registration (plein/records.h checks and writes). */
#include "commands.h"
#include "plein/error.h"
#include "plein/records.h"

int cmd_visit_add(cli_ctx *ctx)
{
	plein_visit_spec sp = {
		.kind = cli_opt(ctx, "kind"), .agency = cli_opt(ctx, "agency"), .partner_id = cli_opt(ctx, "partner"),
		.channel = cli_opt(ctx, "channel"), .at = cli_opt(ctx, "at"), .solved = cli_flag(ctx, "solved"), .minutes = -1,
	};
	const char **themes = NULL;
	char id[27];
	int rc;
	if ((rc = cli_need_pos(ctx, 0, 0)) < 0 || (rc = cli_need(ctx, "location", &sp.location_id)) < 0)
		return rc;
	sp.nthemes = cli_opt_all(ctx, "theme", &themes);
	sp.themes = themes;
	if ((rc = cli_opt_int(ctx, "minutes", 1, PLEIN_MINUTES_MAX, &sp.minutes)) < 0)
		return rc;
	plein_site *s = cli_site(ctx);
	if (!s)
		return plein_error_code();
	if ((rc = plein_visit_add(id, s, &sp, PLEIN_NAMES_CLI)) == 0)
		cli_print_id(id);
	return rc;
}

int cmd_visit_list(cli_ctx *ctx)
{
	sqlite3_stmt *st;
	int rc;
	if ((rc = cli_need_pos(ctx, 0, 0)) < 0)
		return rc;
	plein_site *s = cli_site(ctx);
	if (!s)
		return plein_error_code();
	if ((rc = plein_visit_list(&st, s, cli_opt(ctx, "location"), cli_opt(ctx, "from"), cli_opt(ctx, "to"), PLEIN_NAMES_CLI)) < 0)
		return rc;
	return cli_print_rows(ctx, st);
}
