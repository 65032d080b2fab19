/* plein conflicts: the values that lost to a concurrent edit of the same
 * field (docs/merge.md, "Conflicts"), newest first; then the occurrences
 * that sites booked beyond their places while apart, and who of them is on
 * the waitlist now (docs/signup.md). */
#include <sqlite3.h>
#include <stdio.h>

#include "commands.h"
#include "plein/conflicts.h"
#include "plein/error.h"
#include "plein/signup.h"

/* One query, two faces: Dutch headers for people, English keys in JSON
 * (as every --json of plein). A sealed value is never shown: it stays in
 * its envelope ("versleuteld"). Sites by roster name, else by id. */
#define SIDE(pfx, empty, value, site, at)                                                       \
	" CASE WHEN col.personal THEN '(versleuteld)' WHEN c." pfx "_value IS NULL THEN " empty \
	" ELSE c." pfx "_value END AS " value ","                                               \
	" coalesce(" pfx "_r.name, plein_siteid(" pfx "_k.pk)) AS " site ","                    \
	" strftime('%Y-%m-%dT%H:%M:%SZ', (c." pfx "_hlc >> 16) / 1000, 'unixepoch') AS " at ","

#define ORDER " ORDER BY max(c.kept_hlc, c.lost_hlc) DESC, t.name, c.id, col.name, c.lost_hlc"

#define BOOKED_BY " coalesce(b.name, plein_siteid(p.queued_by))"
#define BOOKED_AT " strftime('%Y-%m-%dT%H:%M:%SZ', (p.queued_hlc >> 16) / 1000, 'unixepoch')"
#define OVERBOOKED_ORDER " p.occurrence_date, p.rule_id, p.position"

static const char *const sql_people =
	"SELECT t.name AS tabel, c.id AS record, col.name AS veld,"
	SIDE("kept", "'(leeg)'", "bewaard", "door", "op")
	SIDE("lost", "'(leeg)'", "vervallen", "door", "op")
	" c.noticed_at AS opgemerkt" PLEIN_CONFLICT_FROM ORDER;

static const char *const sql_overbooked_people =
	"SELECT o.title AS activiteit, p.occurrence_date AS datum, p.capacity AS plaatsen, p.id AS aanmelding,"
	BOOKED_BY " AS \"geboekt bij\"," BOOKED_AT " AS op, 'wachtlijst ' || p.position AS nu"
	PLEIN_OVERBOOKED_FROM " ORDER BY" OVERBOOKED_ORDER;

/* JSON: one array. An overbooked sign-up is a conflict of signup.status:
 * 'booked' as written fell away, 'waitlisted' is kept by the rule (no
 * site wrote it); the occurrence and the waitlist position come along.
 * Value conflicts have those keys too, as null. */
static const char *const sql_json =
	"SELECT \"table\", id, \"column\", kept, kept_by, kept_at, lost, lost_by, lost_at, noticed_at,"
	" rule_id, occurrence_date, capacity, position FROM ("
	"SELECT 0 AS part, max(c.kept_hlc, c.lost_hlc) AS k1, t.name AS k2, c.id AS k3, col.name AS k4, c.lost_hlc AS k5,"
	" t.name AS \"table\", c.id AS id, col.name AS \"column\","
	SIDE("kept", "NULL", "kept", "kept_by", "kept_at")
	SIDE("lost", "NULL", "lost", "lost_by", "lost_at")
	" c.noticed_at AS noticed_at, NULL AS rule_id, NULL AS occurrence_date, NULL AS capacity, NULL AS position" PLEIN_CONFLICT_FROM
	" UNION ALL "
	"SELECT 1, NULL, p.occurrence_date, p.rule_id, p.position, NULL,"
	" 'signup', p.id, 'status', 'waitlisted', NULL, NULL, 'booked'," BOOKED_BY "," BOOKED_AT ", NULL,"
	" p.rule_id, p.occurrence_date, p.capacity, p.position" PLEIN_OVERBOOKED_FROM
	") ORDER BY part, k1 DESC, k2, k3, k4, k5";

int cmd_conflicts(cli_ctx *ctx)
{
	int rc = cli_need_pos(ctx, 0, 0);
	int64_t over = 0;
	if (rc < 0)
		return rc;
	plein_site *s = cli_site(ctx);
	if (!s)
		return plein_error_code();
	if ((rc = plein_signup_sql_register(s)) < 0)
		return rc;
	sqlite3_stmt *st = plein_db_stmt(s->db, cli_json(ctx) ? sql_json : sql_people);
	if (!st || (rc = cli_print_rows(ctx, st)) < 0 || cli_json(ctx))
		return st ? rc : PLEIN_ERR;
	if ((rc = plein_db_int(s->db, &over, "SELECT count(*)" PLEIN_OVERBOOKED_FROM, NULL)) < 0 || over == 0)
		return rc;
	printf("\nOverboekt: sites boekten apart meer plaatsen dan er zijn; de vroegste boekingen houden hun plaats "
	       "(docs/signup.md), deze staan nu op de wachtlijst:\n");
	st = plein_db_stmt(s->db, sql_overbooked_people);
	return st ? cli_print_rows(ctx, st) : PLEIN_ERR;
}
