/* plein forget: erase a visitor's personal data on request, on every
 * replica it reached (docs/erasure.md). */
#include <inttypes.h>
#include <stdio.h>

#include "commands.h"
#include "plein/erase.h"
#include "plein/error.h"
#include "plein/journal.h"
#include "plein/validate.h"

int cmd_forget(cli_ctx *ctx)
{
	const char *referral = cli_opt(ctx, "referral"), *signup = cli_opt(ctx, "signup");
	uint64_t seq = 0;
	size_t purged = 0;
	int rc;
	if ((rc = cli_need_pos(ctx, 0, 0)) < 0)
		return rc;
	if (!referral == !signup)
		return plein_fail(PLEIN_EINVAL, "name what to forget: --referral ID or --signup ID (one of them)");
	const char *tbl = referral ? "referral" : "signup", *id = referral ? referral : signup;
	plein_site *s = cli_site(ctx);
	if (!s)
		return plein_error_code();
	if ((rc = plein_check_exists(s, tbl, id)) < 0)
		return rc;
	/* Seal what waits first: the erasure covers every value written
	 * before it, and a value gets its clock when it is sealed. */
	if (!plein_journal_paused(s) && (rc = plein_journal_seal(s, &seq)) < 0)
		return rc;
	if ((rc = plein_erase_row(s, tbl, id, "request")) < 0)
		return rc;
	if (plein_journal_paused(s))
		fprintf(stderr, "plein: warning: sealing waits for a peer after a restore ('plein sync'); "
			"the erasure is recorded here and goes out with it\n");
	else if ((rc = plein_journal_seal(s, &seq)) < 0)
		return rc;
	if ((rc = plein_erase_apply(s, &purged)) < 0)
		return rc;
	printf("gewist: de persoonsgegevens van %s %s (%zu %s uit het log van deze site); "
	       "andere sites wissen ze zodra de wijziging ze bereikt ('plein sync')\n",
	       referral ? "verwijzing" : "aanmelding", id, purged, purged == 1 ? "waarde" : "waarden");
	return 0;
}
