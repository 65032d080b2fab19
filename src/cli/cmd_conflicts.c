/* plein conflicts: the values that lost to a concurrent edit of the same
 * field (docs/merge.md, "Conflicts"), newest first. */
#include <sqlite3.h>

#include "commands.h"
#include "plein/error.h"
#include "plein/siteid.h"

/* plein_siteid(pk): a site's id from its 32-byte key, for sites the roster
 * does not name. */
static void sql_siteid(sqlite3_context *c, int argc, sqlite3_value **argv)
{
	char id[PLEIN_SITEID_LEN + 1];
	if (sqlite3_value_type(argv[0]) != SQLITE_BLOB || sqlite3_value_bytes(argv[0]) != 32)
		return; /* NULL */
	plein_siteid_from_key(id, sqlite3_value_blob(argv[0]));
	sqlite3_result_text(c, id, -1, SQLITE_TRANSIENT);
}

/* One query, two faces: Dutch headers for people, English keys in JSON
 * (as every --json of plein). A sealed value is never shown: it stays in
 * its envelope ("versleuteld"). Sites by roster name, else by id. */
#define SIDE(pfx, empty, value, site, at)                                                       \
	" CASE WHEN col.personal THEN '(versleuteld)' WHEN c." pfx "_value IS NULL THEN " empty \
	" ELSE c." pfx "_value END AS " value ","                                               \
	" coalesce(" pfx "_r.name, plein_siteid(" pfx "_k.pk)) AS " site ","                    \
	" strftime('%Y-%m-%dT%H:%M:%SZ', (c." pfx "_hlc >> 16) / 1000, 'unixepoch') AS " at ","

#define FROM                                                                                    \
	" FROM plein_conflict c"                                                                \
	" JOIN plein_sync_table t ON t.tid = c.tid"                                             \
	" JOIN plein_sync_column col ON col.tbl = t.name AND col.cid = c.cid"                   \
	" JOIN plein_site_ref kept_k ON kept_k.n = c.kept_site"                                 \
	" JOIN plein_site_ref lost_k ON lost_k.n = c.lost_site"                                 \
	" LEFT JOIN roster kept_r ON kept_r.pk = lower(hex(kept_k.pk))"                         \
	" LEFT JOIN roster lost_r ON lost_r.pk = lower(hex(lost_k.pk))"                         \
	" WHERE c.shown"                                                                        \
	" ORDER BY max(c.kept_hlc, c.lost_hlc) DESC, t.name, c.id, col.name, c.lost_hlc"

static const char *const sql_people =
	"SELECT t.name AS tabel, c.id AS record, col.name AS veld,"
	SIDE("kept", "'(leeg)'", "bewaard", "door", "op")
	SIDE("lost", "'(leeg)'", "vervallen", "door", "op")
	" c.noticed_at AS opgemerkt" FROM;
static const char *const sql_json =
	"SELECT t.name AS \"table\", c.id AS id, col.name AS \"column\","
	SIDE("kept", "NULL", "kept", "kept_by", "kept_at")
	SIDE("lost", "NULL", "lost", "lost_by", "lost_at")
	" c.noticed_at AS noticed_at" FROM;

int cmd_conflicts(cli_ctx *ctx)
{
	int rc = cli_need_pos(ctx, 0, 0);
	if (rc < 0)
		return rc;
	plein_site *s = cli_site(ctx);
	if (!s)
		return plein_error_code();
	if (sqlite3_create_function_v2(plein_db_handle(s->db), "plein_siteid", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
				       NULL, sql_siteid, NULL, NULL, NULL) != SQLITE_OK)
		return plein_db_fail(s->db, "registering plein_siteid");
	sqlite3_stmt *st = plein_db_stmt(s->db, cli_json(ctx) ? sql_json : sql_people);
	return st ? cli_print_rows(ctx, st) : PLEIN_ERR;
}
