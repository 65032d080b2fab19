/* plein: the command-line face. Parses the global options, finds the
 * command in the table, parses its options from its usage text, runs it,
 * and turns a failure into one 'plein: ' line and an exit status. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "plein/capture.h"
#include "plein/erase.h"
#include "plein/error.h"
#include "plein/journal.h"
#include "plein/now.h"
#include "plein/retention.h"
#include "plein/roster.h"

const struct cli_command cli_commands[] = {
	/* Sites and the network */
	{ "init", cmd_init, "DIR (--new-network NAME [--name SITE] | --card FILE --name SITE [--role branch|mobile|partner])",
	  "Create a site in DIR: a new network with this site as its coordinator, or a site joining a network from its card." },
	{ "id", cmd_id, "[--key]", "Print this site's id; --key: its full public key (hex), for 'plein admit'." },
	{ "card", cmd_card, "[--peer URL ...]", "Print the network card for new sites." },
	{ "admit", cmd_admit, "SITE_ID --name NAME --role coordinator|branch|mobile|partner [--location ID] [--key HEX]",
	  "Admit a site to the network, or update its entry (coordinator only); the key comes from --key or a batch of that site." },
	{ "revoke", cmd_revoke, "SITE_ID", "Revoke a site: what it published so far stays, later batches are refused (coordinator only)." },
	{ "sites", cmd_sites, "[--json]", "The roster: the sites of this network." },

	/* Offer and schedule */
	{ "location add", cmd_location_add, "--name N --kind branch|community|mobile|partner [--address A] [--tz ZONE]",
	  "Add a place where the plein runs; prints its id." },
	{ "location list", cmd_location_list, "[--json]", "List the locations." },
	{ "partner add", cmd_partner_add,
	  "--name N [--kind K] [--website URL] [--phone P] [--email E] [--reachable TEXT] "
	  "[--referral-method call|mail|card|walk_in] [--max-attempts N] [--site SITE_ID]",
	  "Add a partner organisation; prints its id." },
	{ "partner list", cmd_partner_list, "[--json]", "List the partner organisations." },
	{ "term list", cmd_term_list, "[--scheme theme|question|agency] [--json]", "List themes, kinds of question and agencies." },
	{ "offering add", cmd_offering_add,
	  "--partner ID --theme CODE --kind spreekuur|workshop|training|voorlichting|oefengroep|activiteit --title T "
	  "[--description TEXT] [--capacity N] [--signup]",
	  "Add something a partner offers; prints its id." },
	{ "offering list", cmd_offering_list, "[--json]", "List the offer." },
	{ "rule add", cmd_rule_add,
	  "--offering ID --location ID --rrule RRULE --start HH:MM --end HH:MM [--from DATE] [--until DATE] [--room R]",
	  "Schedule an offering: when and where it recurs (RRULE: FREQ=WEEKLY|MONTHLY;INTERVAL;BYDAY;UNTIL;COUNT)." },
	{ "rule cancel", cmd_rule_cancel, "RULE_ID --date DATE [--reason TEXT]", "Cancel one date of a rule." },
	{ "rule move", cmd_rule_move, "RULE_ID --date DATE --start HH:MM --end HH:MM [--to DATE] [--location ID] [--reason TEXT]",
	  "Move one date of a rule to another time, day or place." },
	{ "schedule", cmd_schedule, "[--location ID] [--from DATE] [--to DATE] [--json | --ics [--partner ID] [--theme CODE]]",
	  "The programme: every occurrence in a period (default: this week), in local time; --ics: the iCalendar feed of the rules." },
	{ "board", cmd_board, "--location ID [--at TIMESTAMP] [--version]",
	  "The TV board as HTML: today's programme at a location (now, next, later today); --version: its refresh token." },
	{ "folder", cmd_folder, "--location ID [--week YYYY-Www]",
	  "The printable weekly programme (the folder) as HTML; default this week." },
	{ "signup add", cmd_signup_add, "--rule ID --date DATE [--who TEXT]", "Sign someone up for one occurrence; prints the id." },
	{ "signup list", cmd_signup_list, "--rule ID --date DATE [--json]",
	  "Sign-ups and waitlist of one occurrence, in booking order by clock: the same at every site (docs/signup.md)." },
	{ "signup set", cmd_signup_set, "ID --status booked|cancelled|attended|no_show",
	  "Change a sign-up's status; cancelling a place gives it to the first on the waitlist, at every site alike." },

	/* Registration, referrals, day log, reports */
	{ "visit add", cmd_visit_add,
	  "--location ID --theme CODE [--theme CODE ...] [--kind CODE] [--agency CODE] [--channel walk_in|appointment|phone] "
	  "[--at TIMESTAMP] [--partner ID] [--solved] [--minutes N]",
	  "Register one visit, one question per --theme (anonymous); prints the visit id." },
	{ "visit list", cmd_visit_list, "[--location ID] [--from DATE] [--to DATE] [--json]", "List registered visits." },
	{ "referral add", cmd_referral_add,
	  "--to PARTNER_ID --theme CODE [--question ID] [--offering ID] [--follow-up DATE] "
	  "[--contact-name N] [--contact-phone P] [--contact-email E] [--note TEXT] [--by NAME]",
	  "Refer a visitor warmly to a partner; prints the referral id. --by: the staff member, kept in the history." },
	{ "referral set", cmd_referral_set,
	  "ID --status new|contacted|appointment|done|declined|unreachable [--outcome TEXT] [--by NAME]",
	  "Move a referral along its lifecycle (never back; closing sets closed_at); every change is kept in its history." },
	{ "referral attempt", cmd_referral_attempt, "ID", "Count one more contact attempt; prints the new count." },
	{ "referral list", cmd_referral_list, "[--open] [--due] [--json]",
	  "List referrals with the partner's reachability and method. --due: open referrals whose follow-up date has come, "
	  "or whose status has not changed for referral.stale_days days (plein.conf, default 7; 0: off); "
	  "PLEIN_NOW=YYYY-MM-DD sets today (docs/test-clock.md)." },
	{ "referral show", cmd_referral_show, "ID [--json]",
	  "One referral with its history; contact details only where this site may read them." },
	{ "daylog add", cmd_daylog_add, "--location ID [--day DATE] [--author NAME] TEXT", "Add a day-log entry (no visitor names)." },
	{ "daylog list", cmd_daylog_list, "[--day DATE] [--location ID] [--json]", "The day log." },
	{ "report", cmd_report,
	  "[--by theme|location|partner|agency|kind|month ...] [--from DATE] [--to DATE] [--referrals] "
	  "[--csv [--table counts|referrals|partners|signups|agencies|kinds] | --json]",
	  "Visits, questions, solved and referred, counted by theme (default), location, partner, agency, kind of question "
	  "and/or local month (repeat --by for a cross table; dates are local and inclusive); the outcomes of the referrals "
	  "made in the period and the days they took to close, per status and per partner; sign-ups per offering and month; "
	  "the IDO registration's tables (every government body and kind of question). "
	  "--csv prints one table (--table, default counts); --referrals: the referral outcomes alone; --json has all." },

	/* Sync and integrity */
	{ "status", cmd_status, "[--json]", "This site: identity, schema, unsealed changes, records." },
	{ "digest", cmd_digest, "", "Hex hash of the canonical synced state." },
	{ "serve", cmd_serve, "[--listen HOST:PORT] [--http HOST:PORT] [--interval SECONDS] [--max-connections N] [--verbose]",
	  "Run the daemon in the foreground: accept peers, sync on a schedule and soon after a change; SIGTERM stops it." },
	{ "peer add", cmd_peer_add, "NAME URL", "Add a named peer." },
	{ "peer list", cmd_peer_list, "[--json]", "List the peers." },
	{ "peer remove", cmd_peer_remove, "NAME", "Remove a peer." },
	{ "sync", cmd_sync, "[NAME | URL ...]", "Sync once with the named peers, or all." },
	{ "verify", cmd_verify, "", "Check every signature and chain; rebuild from the logs; compare digests." },
	{ "conflicts", cmd_conflicts, "[--json]", "Merges that staff should look at: values that lost to a concurrent edit; sign-ups booked apart beyond the places, now waitlisted." },
	{ "forget", cmd_forget, "[--referral ID] [--signup ID]",
	  "Erase the personal data of a referral or a sign-up on every replica it reached (docs/erasure.md)." },
	{ NULL, NULL, NULL, NULL },
};

/* Personal data past its retention period goes before any command reads
 * it (docs/erasure.md); a failure here only delays that. */
static void retention(plein_site *s)
{
	size_t n = 0;
	uint64_t seq = 0;
	if (plein_retention_run(s, &n) < 0)
		fprintf(stderr, "plein: warning: personal data past its retention period was not erased yet (%s)\n", plein_error());
	else if (n && !plein_journal_paused(s) && (plein_journal_seal(s, &seq) < 0 || plein_erase_apply(s, NULL) < 0))
		fprintf(stderr, "plein: warning: an erasure is recorded but not carried out yet (%s)\n", plein_error());
	plein_error_clear();
}

plein_site *cli_site(cli_ctx *ctx)
{
	if (!ctx->site) {
		if (plein_site_open(&ctx->site, ctx->dir) < 0)
			return NULL;
		retention(ctx->site);
		/* A coordinator from before schema version 6 puts its network's
		 * name into the log the first time it runs (docs/roster.md). */
		if (plein_roster_record_network(ctx->site) < 0)
			fprintf(stderr, "plein: warning: the network's name is not in the log yet (%s)\n", plein_error());
		plein_error_clear();
	}
	return ctx->site;
}

/* Seal what this command (or an earlier sqlite3 shell) wrote into the
 * log. The writes are saved either way; a failure here only delays them. */
static void seal_pending(plein_site *s)
{
	int64_t pending = 0;
	uint64_t seq = 0;
	if (plein_capture_pending(s->db, &pending) == 0 && pending > 0 && plein_journal_seal(s, &seq) < 0)
		fprintf(stderr, "plein: warning: the change is saved, but not yet sealed into the log (%s); "
				"it will be sealed the next time plein runs\n", plein_error());
	/* Erasures that arrived by any road are carried out here too. */
	if (plein_erase_apply(s, NULL) < 0)
		fprintf(stderr, "plein: warning: an erasure is not carried out yet (%s); plein retries next time\n", plein_error());
}

static void usage(FILE *f)
{
	fprintf(f, "usage: plein [-C DIR] COMMAND [ARGS]   ('plein COMMAND --help' for one command)\n\n");
	for (const struct cli_command *c = cli_commands; c->name; c++)
		fprintf(f, "  %-18s %s\n", c->name, c->summary);
}

/* The command whose name matches the most leading words of argv. */
static const struct cli_command *lookup(int argc, char **argv, int *used)
{
	const struct cli_command *best = NULL;
	*used = 0;
	for (const struct cli_command *c = cli_commands; c->name; c++) {
		char name[64];
		snprintf(name, sizeof name, "%s", c->name);
		int words = 0, ok = 1;
		for (char *w = strtok(name, " "); w; w = strtok(NULL, " "), words++)
			if (words >= argc || strcmp(argv[words], w) != 0) {
				ok = 0;
				break;
			}
		if (ok && words > *used) {
			best = c;
			*used = words;
		}
	}
	return best;
}

int main(int argc, char **argv)
{
	cli_ctx ctx = {0};
	ctx.dir = getenv("PLEIN_DIR");
	int i = 1;
	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "-C") == 0 && i + 1 < argc) {
			ctx.dir = argv[i + 1];
			i += 2;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("plein 0.1.0\n");
			return 0;
		} else {
			fprintf(stderr, "plein: unknown option %s (see 'plein --help')\n", argv[i]);
			return 1;
		}
	}
	if (!ctx.dir || !*ctx.dir)
		ctx.dir = ".";
	if (i >= argc || strcmp(argv[i], "help") == 0) {
		usage(i >= argc ? stderr : stdout);
		return i >= argc ? 1 : 0;
	}
	int used = 0;
	const struct cli_command *cmd = lookup(argc - i, argv + i, &used);
	if (!cmd) {
		fprintf(stderr, "plein: unknown command '%s' (see 'plein --help')\n", argv[i]);
		return 1;
	}
	ctx.cmd = cmd;
	int rc = cli_parse(&ctx.args, cmd, argc - i - used, argv + i + used);
	if (rc == 0 && (rc = plein_now_check()) == 0)
		rc = cmd->run(&ctx);
	else if (rc > 0)
		rc = 0; /* --help */
	if (rc == 0 && ctx.site)
		seal_pending(ctx.site);
	if (rc < 0) {
		fflush(stdout);
		fprintf(stderr, "plein: %s\n", plein_error());
	}
	cli_args_free(ctx.args);
	plein_site_close(ctx.site);
	return plein_exit_status(rc < 0 ? rc : 0);
}
