/* Sign-ups for one occurrence (rule + original date): places up to the
 * offering's capacity, then a waitlist, both in the order of the bookings'
 * clocks, derived the same way at every site (docs/signup.md). The
 * participant's name is sealed (docs/sealed.md). Shared by the CLI and the
 * HTTP API. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plein/now.h"
#include "plein/records.h"
#include "plein/error.h"
#include "plein/id.h"
#include "plein/json.h"
#include "plein/recipients.h"
#include "plein/schedule.h"
#include "plein/seal.h"
#include "plein/signup.h"
#include "plein/validate.h"

static const char *const set_statuses[] = { "booked", "cancelled", "attended", "no_show", NULL };

/* Seal {"name": who} to the sites that may read it (recipients.c). */
static int seal_who(plein_buf *out, plein_site *s, const char *who, const plein_occurrence *occ)
{
	plein_recipients r;
	plein_buf plain = PLEIN_BUF_INIT;
	plein_json j;
	int rc = plein_recipients_signup(&r, s, occ->location_id, occ->partner_id);
	if (rc < 0)
		return rc;
	plein_json_init(&j, &plain);
	plein_json_obj_begin(&j);
	plein_json_key(&j, "name");
	plein_json_str(&j, who);
	plein_json_obj_end(&j);
	rc = plein_seal(out, plain.data, plain.len, (const unsigned char(*)[32])r.pk, r.n);
	sodium_memzero(plain.data, plain.cap);
	plein_buf_free(&plain);
	return rc;
}

int plein_signup_add(char out_id[27], plein_site *s, const char *rule, const char *date, const char *who,
		     plein_names names)
{
	plein_occurrence occ;
	plein_buf sealed = PLEIN_BUF_INIT;
	plein_signup_places places;
	char created[21], *id = out_id;
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
	if (who && (rc = seal_who(&sealed, s, who, &occ)) < 0)
		goto done;
	plein_now_utc(created);
	plein_id_new(id);
	if ((rc = plein_db_begin(s->db)) < 0)
		goto done;
	/* The new sign-up queues after every one this site knows of (it will
	 * be sealed with a later clock): a place if the queue is shorter. */
	if ((rc = plein_signup_count(&places, s, rule, date)) < 0)
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
	sqlite3_bind_text(st, 4, occ.capacity < 0 || places.queued < occ.capacity ? "booked" : "waitlisted", -1, SQLITE_STATIC);
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
	if ((rc = plein_check_exists(s, "schedule_rule", rule)) < 0 || (rc = plein_seal_sql_register(s)) < 0 ||
	    (rc = plein_signup_sql_register(s)) < 0)
		return rc;
	/* The queue, then the cancelled ones. 'site': where the place was
	 * asked for; 'note': a booking that turned out to be one too many
	 * (overbooked), or a waitlisted one that got a place (moved_up). */
	sqlite3_stmt *st = plein_db_stmt(s->db,
		"SELECT p.id, p.status, p.position,"
		" CASE WHEN g.who IS NULL THEN NULL WHEN json_valid(plein_unseal(g.who))"
		"  THEN json_extract(plein_unseal(g.who), '$.name') ELSE '(versleuteld)' END AS who,"
		" g.created_at, p.place, coalesce(ro.name, plein_siteid(p.queued_by)) AS site,"
		" CASE WHEN p.written = 'booked' AND p.status = 'waitlisted' THEN 'overbooked'"
		"  WHEN p.written = 'waitlisted' AND p.status = 'booked' THEN 'moved_up' END AS note"
		" FROM signup_place p JOIN signup g ON g.id = p.id"
		" LEFT JOIN roster ro ON ro.pk = lower(hex(p.queued_by))"
		" WHERE p.rule_id = ?1 AND p.occurrence_date = ?2"
		" ORDER BY p.place IS NULL, p.place, g.created_at, p.id");
	if (!st)
		return PLEIN_ERR;
	sqlite3_bind_text(st, 1, rule, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, date, -1, SQLITE_TRANSIENT);
	*out = st;
	return 0;
}

typedef struct {
	char *written, *status, *rule, *date; /* status: the effective one */
	int64_t position;
} signup_row;

static void row_free(signup_row *r)
{
	free(r->written);
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
	if (rc < 0 || (rc = plein_signup_status(&out->status, &out->position, s, id)) < 0)
		return rc;
	sqlite3_stmt *st = plein_db_stmt(s->db, "SELECT status, rule_id, occurrence_date FROM signup WHERE id = ?1");
	if (!st)
		return PLEIN_ERR;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		out->written = col_dup(st, 0);
		out->rule = col_dup(st, 1);
		out->date = col_dup(st, 2);
	} else {
		rc = plein_db_fail(s->db, "reading the sign-up");
	}
	sqlite3_reset(st);
	return rc;
}

/* Whether a place is free for one more booking: nobody waits and the
 * places are not all taken. */
static int check_free(plein_site *s, const signup_row *r)
{
	plein_signup_places p;
	int rc;
	if (!r->rule || !r->date)
		return 0;
	if ((rc = plein_signup_count(&p, s, r->rule, r->date)) < 0)
		return rc;
	if (p.capacity >= 0 && p.queued >= p.capacity)
		return plein_fail(PLEIN_EINVAL, "rule %s on %s is full (%lld of %lld places%s); cancel a place first",
				  r->rule, r->date, (long long)p.taken, (long long)p.capacity,
				  p.waitlisted ? ", and others are on the waitlist" : "");
	return 0;
}

/* Is id a line of list? */
static int listed(const char *list, const char *id)
{
	size_t n = strlen(id);
	for (const char *p = list; (p = strstr(p, id)) != NULL; p += n)
		if ((p == list || p[-1] == '\n') && p[n] == '\n')
			return 1;
	return 0;
}

/* Append to promoted each sign-up that was on the waitlist before and has
 * a place now (the same ones every site moves up). */
static int moved_up(plein_buf *promoted, plein_site *s, const signup_row *r, const char *waited)
{
	plein_buf now = PLEIN_BUF_INIT;
	int rc = plein_signup_ids(&now, s, r->rule, r->date, "booked");
	char *p = (char *)plein_buf_cstr(&now);
	for (char *nl; rc == 0 && (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		*nl = 0;
		if (listed(waited, p))
			plein_buf_printf(promoted, "%s\n", p);
	}
	plein_buf_free(&now);
	return rc;
}

int plein_signup_set(plein_buf *promoted, plein_site *s, const char *id, const char *status, plein_names names)
{
	signup_row cur = {0};
	plein_buf waited = PLEIN_BUF_INIT;
	char created[21];
	int rc;
	if ((rc = plein_check_enum(PLEIN_FIELD(names, "status"), status, set_statuses)) < 0)
		return rc;
	if ((rc = plein_db_begin(s->db)) < 0)
		return rc;
	if ((rc = load_signup(s, id, &cur)) < 0)
		goto rollback;
	if (strcmp(status, "booked") == 0 && cur.status && strcmp(cur.status, "waitlisted") == 0) {
		/* Only the queue gives places: one on the waitlist waits. */
		rc = plein_fail(PLEIN_EINVAL, "sign-up %s is number %lld on the waitlist of rule %s on %s; "
				"it gets a place when one is cancelled", id, (long long)cur.position, cur.rule, cur.date);
		goto rollback;
	}
	if (cur.written && strcmp(cur.written, status) == 0)
		goto commit; /* nothing to change */
	const char *cols[2] = { "status", "created_at" }, *vals[2] = { status, created };
	int n = 1;
	if (strcmp(status, "booked") == 0 && cur.status && strcmp(cur.status, "cancelled") == 0) {
		/* Booking again after a cancellation asks for a place anew: it
		 * queues from now on (the clock of created_at, docs/signup.md). */
		if ((rc = check_free(s, &cur)) < 0)
			goto rollback;
		plein_now_utc(created);
		n = 2;
	}
	if (cur.rule && cur.date && (rc = plein_signup_ids(&waited, s, cur.rule, cur.date, "waitlisted")) < 0)
		goto rollback;
	if ((rc = plein_record_update(s, "signup", id, cols, vals, n)) < 0)
		goto rollback;
commit:
	if ((rc = plein_db_commit(s->db)) < 0)
		goto rollback;
	if (waited.len)
		rc = moved_up(promoted, s, &cur, plein_buf_cstr(&waited));
	goto done;
rollback:
	plein_db_rollback(s->db);
done:
	row_free(&cur);
	plein_buf_free(&waited);
	return rc;
}
