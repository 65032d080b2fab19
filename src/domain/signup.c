/* Sign-ups for one occurrence (rule + original date): places up to the
 * offering's capacity, then a waitlist in booking order. The participant's
 * name is sealed (docs/sealed.md). Shared by the CLI and the HTTP API. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plein/records.h"
#include "plein/error.h"
#include "plein/id.h"
#include "plein/json.h"
#include "plein/schedule.h"
#include "plein/seal.h"
#include "plein/validate.h"

static const char *const set_statuses[] = { "booked", "cancelled", "attended", "no_show", NULL };

/* Statuses that hold one of the places. */
#define HOLDS_PLACE "('booked', 'attended', 'no_show')"

static int holds_place(const char *status)
{
	return status && (strcmp(status, "booked") == 0 || strcmp(status, "attended") == 0 || strcmp(status, "no_show") == 0);
}

static void now_utc(char out[21])
{
	time_t t = time(NULL);
	struct tm u;
	gmtime_r(&t, &u);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &u);
}

static int places_taken(plein_site *s, const char *rule, const char *date, int64_t *out)
{
	return plein_db_int(s->db, out, "SELECT count(*) FROM signup WHERE rule_id = ?1 AND occurrence_date = ?2"
				       " AND status IN " HOLDS_PLACE, rule, date, NULL);
}

/* Seal {"name": who} to this site and, when its key is known here, the
 * offering partner's site. */
static int seal_who(plein_buf *out, plein_site *s, const char *who, const char *partner_id)
{
	unsigned char rcpt[2][32];
	plein_buf plain = PLEIN_BUF_INIT;
	plein_json j;
	int n = 1, rc = 0;
	memcpy(rcpt[0], s->pk, 32);
	sqlite3_stmt *st = plein_db_stmt(s->db, "SELECT site_id FROM partner WHERE id = ?1 AND site_id IS NOT NULL");
	if (!st)
		return PLEIN_ERR;
	sqlite3_bind_text(st, 1, partner_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		rc = plein_site_key_lookup(s, (const char *)sqlite3_column_text(st, 0), rcpt[1]);
		if (rc == 0)
			n++;
		else if (rc == PLEIN_ENOTFOUND)
			plein_error_clear(), rc = 0;
	}
	sqlite3_reset(st);
	if (rc < 0)
		return rc;
	plein_json_init(&j, &plain);
	plein_json_obj_begin(&j);
	plein_json_key(&j, "name");
	plein_json_str(&j, who);
	plein_json_obj_end(&j);
	rc = plein_seal(out, plain.data, plain.len, (const unsigned char(*)[32])rcpt, n);
	sodium_memzero(plain.data, plain.cap);
	plein_buf_free(&plain);
	return rc;
}

int plein_signup_add(char out_id[27], plein_site *s, const char *rule, const char *date, const char *who,
		     plein_names names)
{
	plein_occurrence occ;
	plein_buf sealed = PLEIN_BUF_INIT;
	char created[21], *id = out_id;
	int64_t taken = 0;
	int rc;
	memset(&occ, 0, sizeof occ);
	if ((rc = plein_check_date(PLEIN_FIELD(names, "date"), date)) < 0 ||
	    (who && (rc = plein_check_text(PLEIN_FIELD(names, "who"), who, 200)) < 0))
		return rc;
	if ((rc = plein_check_exists(s, "schedule_rule", rule)) < 0 || (rc = plein_schedule_occurrence(&occ, s, rule, date)) < 0)
		goto done;
	if (occ.status == PLEIN_OCC_CANCELLED) {
		rc = plein_fail(PLEIN_EINVAL, "%s on %s does not take place%s%s%s; pick another date (see 'plein schedule')",
				occ.title ? occ.title : "this occurrence", date, occ.reason ? " (" : "",
				occ.reason ? occ.reason : "", occ.reason ? ")" : "");
		goto done;
	}
	if (who && (rc = seal_who(&sealed, s, who, occ.partner_id)) < 0)
		goto done;
	now_utc(created);
	plein_id_new(id);
	if ((rc = plein_db_begin(s->db)) < 0)
		goto done;
	if ((rc = places_taken(s, rule, date, &taken)) < 0)
		goto rollback;
	sqlite3_stmt *st = plein_db_stmt(s->db,
		"INSERT INTO signup(id, rule_id, occurrence_date, status, who, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
	if (!st) {
		rc = PLEIN_ERR;
		goto rollback;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, rule, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, date, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, occ.capacity < 0 || taken < occ.capacity ? "booked" : "waitlisted", -1, SQLITE_STATIC);
	if (sealed.len)
		sqlite3_bind_blob(st, 5, sealed.data, (int)sealed.len, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, created, -1, SQLITE_STATIC);
	if ((rc = plein_db_step_done(s->db, st)) < 0 || (rc = plein_db_commit(s->db)) < 0)
		goto rollback;
	goto done;
rollback:
	plein_db_rollback(s->db);
done:
	plein_occurrence_clear(&occ);
	plein_buf_free(&sealed);
	return rc;
}

int plein_signup_list(sqlite3_stmt **out, plein_site *s, const char *rule, const char *date, plein_names names)
{
	int rc;
	*out = NULL;
	if ((rc = plein_check_date(PLEIN_FIELD(names, "date"), date)) < 0)
		return rc;
	if ((rc = plein_check_exists(s, "schedule_rule", rule)) < 0 || (rc = plein_seal_sql_register(s)) < 0)
		return rc;
	sqlite3_stmt *st = plein_db_stmt(s->db,
		"SELECT id, status,"
		" CASE WHEN status = 'waitlisted' THEN"
		"  row_number() OVER (PARTITION BY status = 'waitlisted' ORDER BY created_at, id) END AS position,"
		" CASE WHEN who IS NULL THEN NULL WHEN json_valid(plein_unseal(who))"
		"  THEN json_extract(plein_unseal(who), '$.name') ELSE '(versleuteld)' END AS who,"
		" created_at FROM signup WHERE rule_id = ?1 AND occurrence_date = ?2 ORDER BY created_at, id");
	if (!st)
		return PLEIN_ERR;
	sqlite3_bind_text(st, 1, rule, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, date, -1, SQLITE_TRANSIENT);
	*out = st;
	return 0;
}

typedef struct {
	char *status, *rule, *date;
	int64_t capacity; /* -1: no limit */
} signup_row;

static void row_free(signup_row *r)
{
	free(r->status);
	free(r->rule);
	free(r->date);
}

static char *col_dup(sqlite3_stmt *st, int c)
{
	const unsigned char *t = sqlite3_column_text(st, c);
	return t ? plein_xstrdup((const char *)t) : NULL;
}

static int load_signup(plein_site *s, const char *id, signup_row *out)
{
	int rc = plein_check_exists(s, "signup", id);
	if (rc < 0)
		return rc;
	sqlite3_stmt *st = plein_db_stmt(s->db,
		"SELECT g.status, g.rule_id, g.occurrence_date, coalesce(o.capacity, -1) FROM signup g"
		" LEFT JOIN schedule_rule r ON r.id = g.rule_id LEFT JOIN offering o ON o.id = r.offering_id WHERE g.id = ?1");
	if (!st)
		return PLEIN_ERR;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		out->status = col_dup(st, 0);
		out->rule = col_dup(st, 1);
		out->date = col_dup(st, 2);
		out->capacity = sqlite3_column_int64(st, 3);
	} else {
		rc = plein_db_fail(s->db, "reading the sign-up");
	}
	sqlite3_reset(st);
	return rc;
}

/* Give freed places to the waitlist, first come first served. Writes the
 * ids moved up to promoted (one per line). */
static int promote(plein_site *s, const signup_row *r, plein_buf *promoted)
{
	int64_t taken;
	int rc;
	while ((rc = places_taken(s, r->rule, r->date, &taken)) == 0 && (r->capacity < 0 || taken < r->capacity)) {
		sqlite3_stmt *st = plein_db_stmt(s->db,
			"SELECT id FROM signup WHERE rule_id = ?1 AND occurrence_date = ?2 AND status = 'waitlisted'"
			" ORDER BY created_at, id LIMIT 1");
		if (!st)
			return PLEIN_ERR;
		sqlite3_bind_text(st, 1, r->rule, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, r->date, -1, SQLITE_STATIC);
		char *next = sqlite3_step(st) == SQLITE_ROW ? col_dup(st, 0) : NULL;
		sqlite3_reset(st);
		if (!next)
			return 0;
		const char *cols[] = { "status" }, *vals[] = { "booked" };
		rc = plein_record_update(s, "signup", next, cols, vals, 1);
		if (rc == 0)
			plein_buf_printf(promoted, "%s\n", next);
		free(next);
		if (rc < 0)
			return rc;
	}
	return rc;
}

int plein_signup_set(plein_buf *promoted, plein_site *s, const char *id, const char *status, plein_names names)
{
	signup_row cur = {0};
	int64_t taken;
	int rc;
	if ((rc = plein_check_enum(PLEIN_FIELD(names, "status"), status, set_statuses)) < 0)
		return rc;
	if ((rc = plein_db_begin(s->db)) < 0)
		return rc;
	if ((rc = load_signup(s, id, &cur)) < 0)
		goto rollback;
	if (cur.status && strcmp(cur.status, status) == 0)
		goto commit; /* nothing to change */
	if (strcmp(status, "booked") == 0 && !holds_place(cur.status) && cur.capacity >= 0) {
		if ((rc = places_taken(s, cur.rule, cur.date, &taken)) < 0)
			goto rollback;
		if (taken >= cur.capacity) {
			rc = plein_fail(PLEIN_EINVAL, "rule %s on %s is full (%lld of %lld places); cancel a place first",
					cur.rule, cur.date, (long long)taken, (long long)cur.capacity);
			goto rollback;
		}
	}
	const char *cols[] = { "status" }, *vals[] = { status };
	if ((rc = plein_record_update(s, "signup", id, cols, vals, 1)) < 0)
		goto rollback;
	if (holds_place(cur.status) && strcmp(status, "cancelled") == 0 && cur.rule && cur.date &&
	    (rc = promote(s, &cur, promoted)) < 0)
		goto rollback;
commit:
	if ((rc = plein_db_commit(s->db)) < 0)
		goto rollback;
	goto done;
rollback:
	plein_db_rollback(s->db);
done:
	row_free(&cur);
	return rc;
}
