/* Rules, exceptions and the expanded schedule: thin wrappers around
 * plein/schedule.h, which checks and writes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "plein/buf.h"
#include "plein/error.h"
#include "plein/ics.h"
#include "plein/json.h"
#include "plein/records.h"
#include "plein/schedule.h"
#include "plein/validate.h"

int cmd_rule_add(cli_ctx *ctx)
{
	plein_rule_spec sp = {0};
	char id[27];
	int rc;
	if ((rc = cli_need_pos(ctx, 0, 0)) < 0 || (rc = cli_need(ctx, "offering", &sp.offering_id)) < 0 ||
	    (rc = cli_need(ctx, "location", &sp.location_id)) < 0 || (rc = cli_need(ctx, "rrule", &sp.rrule)) < 0 ||
	    (rc = cli_need(ctx, "start", &sp.start)) < 0 || (rc = cli_need(ctx, "end", &sp.end)) < 0)
		return rc;
	sp.from = cli_opt(ctx, "from");
	sp.until = cli_opt(ctx, "until");
	sp.room = cli_opt(ctx, "room");
	plein_site *s = cli_site(ctx);
	if (!s)
		return plein_error_code();
	if ((rc = plein_schedule_add_rule(id, s, &sp)) < 0)
		return rc;
	cli_print_id(id);
	return 0;
}

int cmd_rule_cancel(cli_ctx *ctx)
{
	const char *date;
	char *id = NULL;
	int rc;
	if ((rc = cli_need_pos(ctx, 1, 1)) < 0 || (rc = cli_need(ctx, "date", &date)) < 0)
		return rc;
	plein_site *s = cli_site(ctx);
	if (!s)
		return plein_error_code();
	if ((rc = plein_schedule_cancel(&id, s, cli_pos(ctx, 0), date, cli_opt(ctx, "reason"))) < 0)
		return rc;
	cli_print_id(id);
	free(id);
	return 0;
}

int cmd_rule_move(cli_ctx *ctx)
{
	plein_move_spec m = {0};
	char *id = NULL;
	int rc;
	if ((rc = cli_need_pos(ctx, 1, 1)) < 0 || (rc = cli_need(ctx, "date", &m.date)) < 0 ||
	    (rc = cli_need(ctx, "start", &m.start)) < 0 || (rc = cli_need(ctx, "end", &m.end)) < 0)
		return rc;
	m.to = cli_opt(ctx, "to");
	m.location_id = cli_opt(ctx, "location");
	m.reason = cli_opt(ctx, "reason");
	plein_site *s = cli_site(ctx);
	if (!s)
		return plein_error_code();
	if ((rc = plein_schedule_move(&id, s, cli_pos(ctx, 0), &m)) < 0)
		return rc;
	cli_print_id(id);
	free(id);
	return 0;
}

static const char *const day_names[7] = { "maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag" };
static const char *const month_names[12] = { "januari", "februari", "maart", "april", "mei", "juni", "juli",
					     "augustus", "september", "oktober", "november", "december" };

/* "dinsdag 24 november 2026" (with_year) or "dinsdag 24 november". */
static void dutch_date(plein_buf *b, const char *ymd, int with_year)
{
	plein_date d;
	if (plein_date_parse(&d, ymd) < 0) {
		plein_buf_puts(b, ymd);
		return;
	}
	plein_buf_printf(b, "%s %d %s", day_names[plein_date_weekday(d)], d.day, month_names[d.month - 1]);
	if (with_year)
		plein_buf_printf(b, " %d", d.year);
}

static void text_line(plein_buf *b, const plein_occurrence *o)
{
	plein_buf_printf(b, "%s-%s  %s", o->start, o->end, o->title ? o->title : "(onbekend aanbod)");
	if (o->partner)
		plein_buf_printf(b, "  %s", o->partner);
	plein_buf_printf(b, "  (%s", o->location ? o->location : o->location_id ? o->location_id : "?");
	if (o->room)
		plein_buf_printf(b, ", %s", o->room);
	plein_buf_putc(b, ')');
	if (o->status == PLEIN_OCC_CANCELLED) {
		plein_buf_puts(b, "  vervalt");
	} else if (o->status == PLEIN_OCC_MOVED) {
		plein_buf_puts(b, "  verplaatst");
		if (strcmp(o->original_date, o->date) != 0) {
			plein_buf_puts(b, " van ");
			dutch_date(b, o->original_date, 0);
		}
	}
	if (o->status != PLEIN_OCC_PLANNED && o->reason)
		plein_buf_printf(b, ": %s", o->reason);
	plein_buf_putc(b, '\n');
}

static void print_text(plein_buf *b, const plein_schedule *s, const char *from, const char *to)
{
	const char *day = NULL;
	if (s->n == 0) {
		plein_buf_puts(b, "Geen activiteiten van ");
		dutch_date(b, from, 1);
		plein_buf_puts(b, " tot en met ");
		dutch_date(b, to, 1);
		plein_buf_puts(b, ".\n");
		return;
	}
	for (size_t i = 0; i < s->n; i++) {
		const plein_occurrence *o = &s->items[i];
		if (!day || strcmp(day, o->date) != 0) {
			if (day)
				plein_buf_putc(b, '\n');
			dutch_date(b, o->date, 1);
			plein_buf_putc(b, '\n');
			day = o->date;
		}
		text_line(b, o);
	}
}

/* The iCalendar feed: whole rules, or with --from/--to the rules cut to
 * that period (as the listing takes them); filters as /schedule.ics. */
static int print_ics(cli_ctx *ctx)
{
	plein_ics_filter f = { .location_id = cli_opt(ctx, "location"), .partner_id = cli_opt(ctx, "partner"),
			       .theme = cli_opt(ctx, "theme") };
	plein_buf out = PLEIN_BUF_INIT;
	plein_date from, to;
	char a[11], b[11];
	int rc;
	if (cli_opt(ctx, "from") || cli_opt(ctx, "to")) {
		if ((rc = plein_schedule_period(&from, &to, cli_opt(ctx, "from"), cli_opt(ctx, "to"), PLEIN_NAMES_CLI)) < 0)
			return rc;
		plein_date_format(a, from);
		plein_date_format(b, to);
		f.from = a;
		f.to = b;
	}
	plein_site *s = cli_site(ctx);
	if (!s)
		return plein_error_code();
	if ((rc = plein_ics_feed(&out, s->db, &f)) == 0)
		fwrite(out.data, 1, out.len, stdout);
	plein_buf_free(&out);
	return rc;
}

int cmd_schedule(cli_ctx *ctx)
{
	const char *location = cli_opt(ctx, "location");
	plein_date from, to;
	plein_schedule sched;
	int rc;
	if ((rc = cli_need_pos(ctx, 0, 0)) < 0)
		return rc;
	if (cli_flag(ctx, "json") && cli_flag(ctx, "ics"))
		return plein_fail(PLEIN_EINVAL, "give --json or --ics, not both");
	if (cli_flag(ctx, "ics"))
		return print_ics(ctx);
	if (cli_opt(ctx, "partner") || cli_opt(ctx, "theme"))
		return plein_fail(PLEIN_EINVAL, "--partner and --theme filter the feed: give them with --ics");
	if ((rc = plein_schedule_period(&from, &to, cli_opt(ctx, "from"), cli_opt(ctx, "to"), PLEIN_NAMES_CLI)) < 0)
		return rc;
	plein_site *s = cli_site(ctx);
	if (!s)
		return plein_error_code();
	if ((location && (rc = plein_check_exists(s, "location", location)) < 0) ||
	    (rc = plein_schedule_list(&sched, s, location, from, to)) < 0)
		return rc;
	for (size_t i = 0; i < sched.nskipped; i++)
		fprintf(stderr, "plein: warning: %s\n", sched.skipped[i]);
	plein_buf out = PLEIN_BUF_INIT;
	if (cli_json(ctx)) {
		plein_json j;
		plein_json_init(&j, &out);
		plein_json_arr_begin(&j);
		for (size_t i = 0; i < sched.n; i++)
			plein_occurrence_json(&j, &sched.items[i]);
		plein_json_arr_end(&j);
		plein_buf_putc(&out, '\n');
	} else {
		char a[11], b[11];
		plein_date_format(a, from);
		plein_date_format(b, to);
		print_text(&out, &sched, a, b);
	}
	fwrite(out.data, 1, out.len, stdout);
	plein_buf_free(&out);
	plein_schedule_free(&sched);
	return 0;
}
