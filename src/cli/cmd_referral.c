/* Warm referrals (plein/records.h checks, seals and writes). */
#include <sodium.h>
#include <stdio.h>

#include "commands.h"
#include "plein/error.h"
#include "plein/records.h"

int cmd_referral_add(cli_ctx *ctx)
{
	plein_referral_spec sp = {
		.question_id = cli_opt(ctx, "question"), .offering_id = cli_opt(ctx, "offering"),
		.follow_up = cli_opt(ctx, "follow-up"), .contact_name = cli_opt(ctx, "contact-name"),
		.contact_phone = cli_opt(ctx, "contact-phone"), .contact_email = cli_opt(ctx, "contact-email"),
		.note = cli_opt(ctx, "note"), .by = cli_opt(ctx, "by"),
	};
	char id[27];
	int rc;
	if ((rc = cli_need_pos(ctx, 0, 0)) < 0 || (rc = cli_need(ctx, "to", &sp.to_partner_id)) < 0 ||
	    (rc = cli_need(ctx, "theme", &sp.theme)) < 0)
		return rc;
	plein_site *s = cli_site(ctx);
	if (!s)
		return plein_error_code();
	if ((rc = plein_referral_add(id, s, &sp, PLEIN_NAMES_CLI)) == 0)
		cli_print_id(id);
	return rc;
}

int cmd_referral_set(cli_ctx *ctx)
{
	const char *status;
	int rc;
	if ((rc = cli_need_pos(ctx, 1, 1)) < 0 || (rc = cli_need(ctx, "status", &status)) < 0)
		return rc;
	plein_site *s = cli_site(ctx);
	if (!s)
		return plein_error_code();
	return plein_referral_set(s, cli_pos(ctx, 0), status, cli_opt(ctx, "outcome"), cli_opt(ctx, "by"), PLEIN_NAMES_CLI);
}

int cmd_referral_attempt(cli_ctx *ctx)
{
	int64_t now, max;
	int rc;
	if ((rc = cli_need_pos(ctx, 1, 1)) < 0)
		return rc;
	const char *id = cli_pos(ctx, 0);
	plein_site *s = cli_site(ctx);
	if (!s)
		return plein_error_code();
	if ((rc = plein_referral_attempt(s, id, &now, &max)) < 0)
		return rc;
	printf("%lld\n", (long long)now);
	if (max > 0 && now >= max) {
		fflush(stdout);
		fprintf(stderr, "hint: referral %s has had %lld of %lld agreed attempts; if the visitor cannot be reached: "
			"plein referral set %s --status unreachable\n", id, (long long)now, (long long)max, id);
	}
	return 0;
}

int cmd_referral_list(cli_ctx *ctx)
{
	sqlite3_stmt *st;
	int rc;
	if ((rc = cli_need_pos(ctx, 0, 0)) < 0)
		return rc;
	plein_site *s = cli_site(ctx);
	if (!s)
		return plein_error_code();
	if ((rc = plein_referral_list(&st, s, cli_flag(ctx, "open"), cli_flag(ctx, "due"))) < 0)
		return rc;
	return cli_print_rows(ctx, st);
}

int cmd_referral_show(cli_ctx *ctx)
{
	plein_buf out = PLEIN_BUF_INIT;
	int rc;
	if ((rc = cli_need_pos(ctx, 1, 1)) < 0)
		return rc;
	plein_site *s = cli_site(ctx);
	if (!s)
		return plein_error_code();
	if ((rc = plein_referral_show(&out, s, cli_pos(ctx, 0), cli_json(ctx))) == 0)
		fwrite(out.data, 1, out.len, stdout);
	if (out.data)
		sodium_memzero(out.data, out.cap);
	plein_buf_free(&out);
	return rc;
}
