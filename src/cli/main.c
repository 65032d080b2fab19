/* plein: the command-line face. Parses the global options, finds the
 * command in the table, parses its options from its usage text, runs it,
 * and turns a failure into one 'plein: ' line and an exit status. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "plein/capture.h"
#include "plein/error.h"
#include "plein/journal.h"

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
	{ "schedule", cmd_schedule, "[--location ID] [--from DATE] [--to DATE] [--json | --ics]",
	  "The programme: every occurrence in a period (default: this week), in local time." },
	{ "signup add", cmd_signup_add, "--rule ID --date DATE [--who TEXT]", "Sign someone up for one occurrence; prints the id." },
	{ "signup list", cmd_signup_list, "--rule ID --date DATE [--json]", "Sign-ups and waitlist of one occurrence." },
	{ "signup set", cmd_signup_set, "ID --status booked|cancelled|attended|no_show",
	  "Change a sign-up's status; cancelling a place books the first on the waitlist." },

	/* Registration, referrals, day log, reports */
	{ "visit add", cmd_visit_add,
	  "--location ID --theme CODE [--theme CODE ...] [--kind CODE] [--agency CODE] [--channel walk_in|appointment|phone] "
	  "[--at TIMESTAMP] [--partner ID] [--solved] [--minutes N]",
	  "Register one visit, one question per --theme (anonymous); prints the visit id." },
	{ "visit list", cmd_visit_list, "[--location ID] [--from DATE] [--to DATE] [--json]", "List registered visits." },
	{ "referral add", cmd_referral_add,
	  "--to PARTNER_ID --theme CODE [--question ID] [--offering ID] [--follow-up DATE] "
	  "[--contact-name N] [--contact-phone P] [--contact-email E] [--note TEXT]",
	  "Refer a visitor warmly to a partner; prints the referral id." },
	{ "referral set", cmd_referral_set, "ID --status new|contacted|appointment|done|declined|unreachable [--outcome TEXT]",
	  "Move a referral along its lifecycle." },
	{ "referral attempt", cmd_referral_attempt, "ID", "Count one more contact attempt; prints the new count." },
	{ "referral list", cmd_referral_list, "[--open] [--due] [--json]", "List referrals; --due: follow-up date has come." },
	{ "referral show", cmd_referral_show, "ID [--json]", "One referral; contact details only where this site may read them." },
	{ "daylog add", cmd_daylog_add, "--location ID [--day DATE] [--author NAME] TEXT", "Add a day-log entry (no visitor names)." },
	{ "daylog list", cmd_daylog_list, "[--day DATE] [--location ID] [--json]", "The day log." },
	{ "report", cmd_report, "[--by theme|location|partner|agency|month ...] [--from DATE] [--to DATE] [--referrals] [--csv | --json]",
	  "Visits, questions, solved and referred, counted by theme (default), location, partner, agency and/or local month "
	  "(repeat --by for a cross table; dates are local and inclusive), then the outcomes of the referrals made in the period. "
	  "--csv prints the main table only; --referrals prints the referral outcomes alone (text or CSV); --json has both." },

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
	{ "conflicts", cmd_conflicts, "[--json]", "Merges that staff should look at: values that lost to a concurrent edit." },
	{ "forget", cmd_not_built, "(--referral ID | --signup ID)", "Erase that personal data on every replica." },
	{ NULL, NULL, NULL, NULL },
};

plein_site *cli_site(cli_ctx *ctx)
{
	if (!ctx->site && plein_site_open(&ctx->site, ctx->dir) < 0)
		return NULL;
	return ctx->site;
}

/* Seal what this command (or an earlier sqlite3 shell) wrote into the
 * log. The writes are saved either way; a failure here only delays them. */
static void seal_pending(plein_site *s)
{
	int64_t pending = 0;
	uint64_t seq = 0;
	if (plein_capture_pending(s->db, &pending) < 0 || pending == 0)
		return;
	if (plein_journal_seal(s, &seq) < 0)
		fprintf(stderr, "plein: warning: the change is saved, but not yet sealed into the log (%s); "
				"it will be sealed the next time plein runs\n", plein_error());
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
	if (rc == 0)
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
