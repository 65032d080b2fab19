/* The day log: what happened, who was busy, handover notes between the
 * day's staff and partners. No visitor names (domain.md). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "plein/error.h"
#include "plein/id.h"
#include "plein/now.h"
#include "plein/tz.h"
#include "plein/validate.h"

#define TEXT_MAX 4000

/* Today at the location, in its time zone (the default zone when the
 * stored one is unknown here). */
static int location_today(plein_site *s, const char *location, char out[11])
{
	sqlite3_stmt *st = plein_db_stmt(s->db, "SELECT coalesce(tz, 'Europe/Amsterdam') FROM location WHERE id = ?1");
	struct tm tm;
	if (!st)
		return PLEIN_ERR;
	sqlite3_bind_text(st, 1, location, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    plein_tz_utc_to_local((const char *)sqlite3_column_text(st, 0), plein_now(), &tm) == 0) {
		strftime(out, 11, "%Y-%m-%d", &tm);
	} else {
		plein_error_clear();
		plein_today(out);
	}
	sqlite3_reset(st);
	return 0;
}

static int blank(const char *s)
{
	for (; *s; s++)
		if (!isspace((unsigned char)*s))
			return 0;
	return 1;
}

int cmd_daylog_add(cli_ctx *ctx)
{
	const char *location, *day = cli_opt(ctx, "day"), *author = cli_opt(ctx, "author");
	char today[11], id[PLEIN_ID_LEN + 1];
	int rc;
	if ((rc = cli_need_pos(ctx, 1, 1)) < 0 || (rc = cli_need(ctx, "location", &location)) < 0 ||
	    (day && (rc = plein_check_date("--day", day)) < 0) ||
	    (author && (rc = plein_check_text("--author", author, 200)) < 0))
		return rc;
	const char *text = cli_pos(ctx, 0);
	if ((rc = plein_check_text("the day-log text", text, TEXT_MAX)) < 0)
		return rc;
	if (blank(text))
		return plein_fail(PLEIN_EINVAL, "the day-log text is empty; write what happened");
	plein_site *s = cli_site(ctx);
	if (!s)
		return plein_error_code();
	if ((rc = plein_check_exists(s, "location", location)) < 0)
		return rc;
	if (!day) {
		if ((rc = location_today(s, location, today)) < 0)
			return rc;
		day = today;
	}
	if ((rc = plein_db_begin(s->db)) < 0)
		return rc;
	const char *cols[] = { "location_id", "day", "author", "text" };
	const char *vals[] = { location, day, author, text };
	if ((rc = plein_record_insert(s, id, "daylog", cols, vals, 4)) < 0 || (rc = plein_db_commit(s->db)) < 0) {
		plein_db_rollback(s->db);
		return rc;
	}
	cli_print_id(id);
	return 0;
}

int cmd_daylog_list(cli_ctx *ctx)
{
	const char *day = cli_opt(ctx, "day"), *location = cli_opt(ctx, "location");
	int rc;
	if ((rc = cli_need_pos(ctx, 0, 0)) < 0 || (day && (rc = plein_check_date("--day", day)) < 0))
		return rc;
	plein_site *s = cli_site(ctx);
	if (!s)
		return plein_error_code();
	if (location && (rc = plein_check_exists(s, "location", location)) < 0)
		return rc;
	sqlite3_stmt *st = plein_db_stmt(s->db,
		"SELECT d.id, d.day, l.name AS location, d.author, d.text FROM daylog d"
		" LEFT JOIN location l ON l.id = d.location_id"
		" WHERE (?1 IS NULL OR d.day = ?1) AND (?2 IS NULL OR d.location_id = ?2)"
		" ORDER BY d.day, d.id");
	if (!st)
		return PLEIN_ERR;
	if (day)
		sqlite3_bind_text(st, 1, day, -1, SQLITE_STATIC);
	if (location)
		sqlite3_bind_text(st, 2, location, -1, SQLITE_STATIC);
	return cli_print_rows(ctx, st);
}
