#include "plein/signup.h"

#include <stdlib.h>
#include <string.h>

#include "plein/error.h"
#include "plein/siteid.h"

int plein_signup_count(plein_signup_places *out, plein_site *s, const char *rule, const char *date)
{
	memset(out, 0, sizeof *out);
	out->capacity = -1;
	sqlite3_stmt *st = plein_db_stmt(s->db,
		"SELECT coalesce((SELECT o.capacity FROM schedule_rule r JOIN offering o ON o.id = r.offering_id"
		"  WHERE r.id = ?1), -1),"
		" count(place), count(*) FILTER (WHERE status IN ('booked', 'attended', 'no_show')),"
		" count(*) FILTER (WHERE status = 'waitlisted')"
		" FROM signup_place WHERE rule_id = ?1 AND occurrence_date = ?2");
	if (!st)
		return PLEIN_ERR;
	sqlite3_bind_text(st, 1, rule, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, date, -1, SQLITE_TRANSIENT);
	int rc = 0;
	if (sqlite3_step(st) == SQLITE_ROW) {
		out->capacity = sqlite3_column_int64(st, 0);
		out->queued = sqlite3_column_int64(st, 1);
		out->taken = sqlite3_column_int64(st, 2);
		out->waitlisted = sqlite3_column_int64(st, 3);
	} else {
		rc = plein_db_fail(s->db, "counting the places");
	}
	sqlite3_reset(st);
	return rc;
}

int plein_signup_status(char **out_status, int64_t *out_position, plein_site *s, const char *id)
{
	*out_status = NULL;
	*out_position = 0;
	sqlite3_stmt *st = plein_db_stmt(s->db, "SELECT status, coalesce(position, 0) FROM signup_place WHERE id = ?1");
	if (!st)
		return PLEIN_ERR;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	int step = sqlite3_step(st), rc = 0;
	if (step == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		*out_status = t ? plein_xstrdup((const char *)t) : NULL;
		*out_position = sqlite3_column_int64(st, 1);
	} else {
		rc = step == SQLITE_DONE ? plein_fail(PLEIN_ENOTFOUND, "no sign-up with id '%s'", id)
					 : plein_db_fail(s->db, "reading the sign-up");
	}
	sqlite3_reset(st);
	return rc;
}

int plein_signup_ids(plein_buf *out, plein_site *s, const char *rule, const char *date, const char *status)
{
	sqlite3_stmt *st = plein_db_stmt(s->db,
		"SELECT id FROM signup_place WHERE rule_id = ?1 AND occurrence_date = ?2 AND status = ?3 ORDER BY place, id");
	if (!st)
		return PLEIN_ERR;
	sqlite3_bind_text(st, 1, rule, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, date, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, status, -1, SQLITE_TRANSIENT);
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW)
		plein_buf_printf(out, "%s\n", (const char *)sqlite3_column_text(st, 0));
	int rc = step == SQLITE_DONE ? 0 : plein_db_fail(s->db, "reading the sign-ups");
	sqlite3_reset(st);
	return rc;
}

static void sql_siteid(sqlite3_context *c, int argc, sqlite3_value **argv)
{
	char id[PLEIN_SITEID_LEN + 1];
	(void)argc;
	if (sqlite3_value_type(argv[0]) != SQLITE_BLOB || sqlite3_value_bytes(argv[0]) != 32)
		return; /* NULL */
	plein_siteid_from_key(id, sqlite3_value_blob(argv[0]));
	sqlite3_result_text(c, id, -1, SQLITE_TRANSIENT);
}

int plein_signup_sql_register(plein_site *s)
{
	if (sqlite3_create_function_v2(plein_db_handle(s->db), "plein_siteid", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
				       NULL, sql_siteid, NULL, NULL, NULL) != SQLITE_OK)
		return plein_db_fail(s->db, "registering plein_siteid");
	return 0;
}
