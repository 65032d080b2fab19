/* Warm referrals: a hand-over to a partner with a lifecycle, and the
 * visitor's contact details sealed to the sites that may read them
 * (design §8, docs/sealed.md). Shared by the CLI and the HTTP API. */
#include <ctype.h>
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
#include "plein/referral.h"
#include "plein/seal.h"
#include "plein/validate.h"

static const char *const statuses[] = { "new", "contacted", "appointment", "done", "declined", "unreachable", NULL };

#define OPEN_SQL "coalesce(r.status, 'new') NOT IN ('done', 'declined', 'unreachable')"

#define is_end plein_referral_closed

/* Loose shape checks: catch a swapped field or a typo, not every rule. */
static int check_phone(const char *p, plein_names names)
{
	int digits = 0, ok = *p != 0;
	for (const char *c = p; *c && ok; c++) {
		if (isdigit((unsigned char)*c))
			digits++;
		else if (*c == '+')
			ok = c == p;
		else
			ok = strchr(" -().", *c) != NULL;
	}
	if (!ok || digits < 6 || digits > 20)
		return plein_fail(PLEIN_EINVAL, "%s '%s' is not a phone number; write digits, e.g. 0612345678 or +31 6 12345678",
				  PLEIN_FIELD(names, "contact-phone"), p);
	return 0;
}

static int check_email(const char *e, plein_names names)
{
	const char *at = strchr(e, '@');
	int ok = at && at != e && !strchr(at + 1, '@') && strlen(e) <= 254;
	const char *dot = ok ? strrchr(at + 1, '.') : NULL;
	ok = ok && dot && dot > at + 1 && dot[1];
	for (const char *c = e; ok && *c; c++)
		ok = !isspace((unsigned char)*c) && !iscntrl((unsigned char)*c) && !strchr(",;<>\"", *c);
	if (!ok)
		return plein_fail(PLEIN_EINVAL, "%s '%s' is not an e-mail address; write name@example.nl",
				  PLEIN_FIELD(names, "contact-email"), e);
	return 0;
}

static char *column_dup(sqlite3_stmt *st, int c)
{
	const unsigned char *t = sqlite3_column_text(st, c);
	return t ? plein_xstrdup((const char *)t) : NULL;
}

/* by: the staff member, kept in the history (no visitor names). */
static int check_by(const char *by, plein_names names)
{
	return by ? plein_check_text(PLEIN_FIELD(names, "by"), by, 100) : 0;
}

int plein_referral_add(char out_id[27], plein_site *s, const plein_referral_spec *sp, plein_names names)
{
	const char *to = sp->to_partner_id, *theme = sp->theme, *question = sp->question_id, *offering = sp->offering_id;
	const char *follow = sp->follow_up, *name = sp->contact_name, *phone = sp->contact_phone;
	const char *email = sp->contact_email, *note = sp->note;
	char created[21], *id = out_id;
	plein_buf plain = PLEIN_BUF_INIT, sealed = PLEIN_BUF_INIT;
	int rc;
	int64_t one;

	if ((follow && (rc = plein_check_date(PLEIN_FIELD(names, "follow-up"), follow)) < 0) ||
	    (name && (rc = plein_check_text(PLEIN_FIELD(names, "contact-name"), name, 200)) < 0) ||
	    (phone && (rc = check_phone(phone, names)) < 0) || (email && (rc = check_email(email, names)) < 0) ||
	    (note && (rc = plein_check_text(PLEIN_FIELD(names, "note"), note, 1000)) < 0) ||
	    (rc = check_by(sp->by, names)) < 0)
		return rc;
	if ((rc = plein_check_exists(s, "partner", to)) < 0 || (rc = plein_check_term(s, "theme", theme)) < 0 ||
	    (question && (rc = plein_check_exists(s, "question", question)) < 0) ||
	    (offering && (rc = plein_check_exists(s, "offering", offering)) < 0))
		return rc;
	if (offering && plein_db_int(s->db, &one, "SELECT 1 FROM offering WHERE id = ?1 AND partner_id = ?2",
				     offering, to, NULL) == PLEIN_ENOTFOUND)
		return plein_fail(PLEIN_EINVAL, "offering %s is not offered by partner %s (see 'plein offering list')", offering, to);

	if (name || phone || email || note) {
		plein_json j;
		plein_json_init(&j, &plain);
		plein_json_obj_begin(&j);
		plein_json_key(&j, "name"); plein_json_str(&j, name);
		plein_json_key(&j, "phone"); plein_json_str(&j, phone);
		plein_json_key(&j, "email"); plein_json_str(&j, email);
		plein_json_key(&j, "note"); plein_json_str(&j, note);
		plein_json_obj_end(&j);
		plein_recipients r; /* this site first, then the receiving partner's */
		if ((rc = plein_recipients_referral(&r, s, to)) < 0 ||
		    (rc = plein_seal(&sealed, plain.data, plain.len, (const unsigned char(*)[32])r.pk, r.n)) < 0)
			goto done;
	}

	plein_now_utc(created);
	plein_id_new(id);
	if ((rc = plein_db_begin(s->db)) < 0)
		goto done;
	if ((rc = plein_referral_staff(s, sp->by)) < 0)
		goto rollback;
	sqlite3_stmt *st = plein_db_stmt(s->db,
		"INSERT INTO referral(id, question_id, from_site, to_partner_id, to_offering_id, theme, status,"
		" attempts, follow_up_on, contact, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'new', 0, ?7, ?8, ?9)");
	if (!st) {
		rc = PLEIN_ERR;
		goto rollback;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, question, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, s->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, to, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, offering, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, theme, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, follow, -1, SQLITE_STATIC);
	if (sealed.len)
		sqlite3_bind_blob(st, 8, sealed.data, (int)sealed.len, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, created, -1, SQLITE_STATIC);
	if ((rc = plein_db_step_done(s->db, st)) < 0 || (rc = plein_referral_staff(s, NULL)) < 0)
		goto rollback;
	if (question) { /* the question led to this referral, unless it already led to one */
		st = plein_db_stmt(s->db, "UPDATE question SET referral_id = ?1 WHERE id = ?2 AND referral_id IS NULL");
		if (!st) {
			rc = PLEIN_ERR;
			goto rollback;
		}
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, question, -1, SQLITE_STATIC);
		if ((rc = plein_db_step_done(s->db, st)) < 0)
			goto rollback;
	}
	if ((rc = plein_db_commit(s->db)) < 0)
		goto rollback;
	goto done;
rollback:
	plein_db_rollback(s->db);
done:
	if (plain.data)
		sodium_memzero(plain.data, plain.cap);
	plein_buf_free(&plain);
	plein_buf_free(&sealed);
	return rc;
}

/* A referral's status and attempts, and its partner's limit, read inside
 * the caller's transaction. */
typedef struct {
	char *status;
	int64_t attempts, max_attempts; /* max_attempts 0: none agreed */
} referral_state;

static int load_state(plein_site *s, const char *id, referral_state *out)
{
	int rc = plein_check_exists(s, "referral", id);
	if (rc < 0)
		return rc;
	sqlite3_stmt *st = plein_db_stmt(s->db,
		"SELECT coalesce(r.status, 'new'), coalesce(r.attempts, 0), coalesce(p.max_attempts, 0)"
		" FROM referral r LEFT JOIN partner p ON p.id = r.to_partner_id WHERE r.id = ?1");
	if (!st)
		return PLEIN_ERR;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		out->status = column_dup(st, 0);
		out->attempts = sqlite3_column_int64(st, 1);
		out->max_attempts = sqlite3_column_int64(st, 2);
	} else {
		rc = plein_db_fail(s->db, "reading the referral");
	}
	sqlite3_reset(st);
	return rc;
}

/* The order of statuses is the merge's (plein_rank): one place to say it. */
static int status_rank(plein_site *s, const char *status, int64_t *out)
{
	int rc = plein_db_int(s->db, out, "SELECT rank FROM plein_rank WHERE tbl = 'referral' AND col = 'status' AND value = ?1",
			      status, NULL);
	if (rc == PLEIN_ENOTFOUND)
		*out = 0, rc = 0;
	return rc;
}

int plein_referral_set(plein_site *s, const char *id, const char *status, const char *outcome, const char *by,
		       plein_names names)
{
	referral_state cur = {0};
	int64_t from_rank, to_rank;
	int rc;
	if ((rc = plein_check_enum(PLEIN_FIELD(names, "status"), status, statuses)) < 0 ||
	    (outcome && (rc = plein_check_text(PLEIN_FIELD(names, "outcome"), outcome, 500)) < 0) ||
	    (rc = check_by(by, names)) < 0)
		return rc;
	if ((rc = plein_db_begin(s->db)) < 0)
		return rc;
	if ((rc = load_state(s, id, &cur)) < 0 || (rc = status_rank(s, cur.status, &from_rank)) < 0 ||
	    (rc = status_rank(s, status, &to_rank)) < 0)
		goto rollback;
	if (is_end(cur.status) && strcmp(cur.status, status) != 0) {
		rc = plein_fail(PLEIN_EINVAL, "referral %s is closed as '%s'; a closed referral cannot become '%s' (make a new referral if needed)",
				id, cur.status, status);
		goto rollback;
	}
	if (to_rank < from_rank) {
		rc = plein_fail(PLEIN_EINVAL, "referral %s is at '%s' and cannot go back to '%s' (new, contacted, appointment, then done, declined or unreachable)",
				id, cur.status, status);
		goto rollback;
	}
	/* The history row and closed_at come from the triggers
	 * (schema/004_lifecycle.sql), as for any other writer. */
	const char *cols[2] = { "status" }, *vals[2] = { status };
	int n = 1;
	if (outcome) {
		cols[n] = "outcome";
		vals[n++] = outcome;
	}
	if ((rc = plein_referral_staff(s, by)) < 0 ||
	    (rc = plein_record_update(s, "referral", id, cols, vals, n)) < 0 ||
	    (rc = plein_referral_staff(s, NULL)) < 0 || (rc = plein_db_commit(s->db)) < 0)
		goto rollback;
	free(cur.status);
	return 0;
rollback:
	plein_db_rollback(s->db);
	free(cur.status);
	return rc;
}

int plein_referral_attempt(plein_site *s, const char *id, int64_t *out_attempts, int64_t *out_max)
{
	referral_state cur = {0};
	int rc;
	if ((rc = plein_db_begin(s->db)) < 0)
		return rc;
	if ((rc = load_state(s, id, &cur)) < 0)
		goto rollback;
	if (is_end(cur.status)) {
		rc = plein_fail(PLEIN_EINVAL, "referral %s is closed as '%s'; no more contact attempts are counted", id, cur.status);
		goto rollback;
	}
	sqlite3_stmt *st = plein_db_stmt(s->db, "UPDATE referral SET attempts = coalesce(attempts, 0) + 1 WHERE id = ?1");
	if (!st) {
		rc = PLEIN_ERR;
		goto rollback;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if ((rc = plein_db_step_done(s->db, st)) < 0 || (rc = plein_db_commit(s->db)) < 0)
		goto rollback;
	*out_attempts = cur.attempts + 1;
	*out_max = cur.max_attempts;
	free(cur.status);
	return 0;
rollback:
	plein_db_rollback(s->db);
	free(cur.status);
	return rc;
}

/* The last time a referral moved: its last status change, else its
 * creation (UTC). */
#define MOVED_SQL "max(coalesce(r.created_at, ''), coalesce((SELECT max(e.at) FROM referral_event e WHERE e.referral_id = r.id), ''))"

int plein_referral_list(sqlite3_stmt **out, plein_site *s, int open, int due)
{
	char today[11];
	int stale = 0, rc;
	*out = NULL;
	plein_today(today); /* the calendar's today (now.h) */
	if ((rc = plein_referral_stale_days(s, &stale)) < 0 ||
	    (rc = plein_referral_sql_register(s)) < 0)
		return rc;
	sqlite3_stmt *st = plein_db_stmt(s->db,
		"SELECT id, partner, theme, status, attempts, follow_up_on, created, reachable, method, moved, due FROM ("
		"SELECT r.id, p.name AS partner, r.theme, coalesce(r.status, 'new') AS status,"
		" coalesce(r.attempts, 0) AS attempts, r.follow_up_on, r.created_at AS created,"
		" p.reachable, p.referral_method AS method, plein_local_day(" MOVED_SQL ") AS moved,"
		" plein_referral_due(?2, r.status, r.follow_up_on, " MOVED_SQL ", ?3) AS due"
		" FROM referral r LEFT JOIN partner p ON p.id = r.to_partner_id"
		" WHERE (?1 = 0 OR " OPEN_SQL "))"
		" WHERE ?4 = 0 OR due IS NOT NULL"
		" ORDER BY CASE WHEN ?4 THEN follow_up_on IS NULL END, CASE WHEN ?4 THEN follow_up_on END,"
		" CASE WHEN ?4 THEN moved END, created, id");
	*out = st;
	if (!st)
		return PLEIN_ERR;
	sqlite3_bind_int(st, 1, open || due);
	sqlite3_bind_text(st, 2, today, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 3, stale);
	sqlite3_bind_int(st, 4, due);
	return 0;
}

/* --- referral show ------------------------------------------------------ */

/* Who a recipient of the contact details is, for people. */
static void describe_recipient(plein_buf *out, plein_site *s, const unsigned char kid[8], int index,
			       const char *from_site, const char *partner, const char *partner_site)
{
	unsigned char pk[32], k[8];
	char hex[17];
	plein_seal_key_id(k, s->pk);
	if (memcmp(k, kid, 8) == 0) {
		plein_buf_printf(out, "deze site (%s)", s->id);
		return;
	}
	if (partner_site && plein_site_key_lookup(s, partner_site, pk) == 0) {
		plein_seal_key_id(k, pk);
		if (memcmp(k, kid, 8) == 0) {
			plein_buf_printf(out, "%s (site %s)", partner ? partner : "de partner", partner_site);
			return;
		}
	}
	if (from_site && plein_site_key_lookup(s, from_site, pk) == 0) {
		plein_seal_key_id(k, pk);
		if (memcmp(k, kid, 8) == 0) {
			plein_buf_printf(out, "de verwijzende site %s", from_site);
			return;
		}
	}
	plein_error_clear();
	if (index == 0 && from_site) { /* plein seals to the writing site first */
		plein_buf_printf(out, "de verwijzende site %s", from_site);
		return;
	}
	sodium_bin2hex(hex, sizeof hex, kid, 8);
	plein_buf_printf(out, "een andere site (sleutel %s)", hex);
}

enum { F_STR, F_INT };
struct field {
	const char *key, *label; /* JSON key; Dutch label for people */
	int col, type;
};

/* Columns of SHOW_SQL, in order. */
#define SHOW_SQL \
	"SELECT r.id, coalesce(r.status, 'new'), r.theme, r.to_partner_id, p.name, p.reachable, p.referral_method," \
	" p.max_attempts, coalesce(r.attempts, 0), r.follow_up_on, r.question_id, r.to_offering_id, o.title," \
	" r.outcome, r.from_site, r.created_at, r.closed_at, p.site_id, r.contact, coalesce(json_valid(c), 0)," \
	" CASE WHEN json_valid(c) THEN json_extract(c, '$.name') END," \
	" CASE WHEN json_valid(c) THEN json_extract(c, '$.phone') END," \
	" CASE WHEN json_valid(c) THEN json_extract(c, '$.email') END," \
	" CASE WHEN json_valid(c) THEN json_extract(c, '$.note') END" \
	" FROM (SELECT *, plein_unseal(contact) AS c FROM referral WHERE id = ?1) r" \
	" LEFT JOIN partner p ON p.id = r.to_partner_id LEFT JOIN offering o ON o.id = r.to_offering_id"
enum { C_PARTNER = 4, C_MAX = 7, C_ATTEMPTS = 8, C_FROM = 14, C_PSITE = 17, C_CONTACT = 18, C_READABLE = 19, C_NAME = 20 };

static const struct field show_fields[] = {
	{ "id", "verwijzing", 0, F_STR },
	{ "status", "status", 1, F_STR },
	{ "theme", "thema", 2, F_STR },
	{ "to_partner_id", "partner-id", 3, F_STR },
	{ "partner", "partner", 4, F_STR },
	{ "partner_reachable", "bereikbaar", 5, F_STR },
	{ "referral_method", "verwijsmethode", 6, F_STR },
	{ "max_attempts", "max. pogingen", 7, F_INT },
	{ "attempts", "pogingen", 8, F_INT },
	{ "follow_up_on", "opvolgen op", 9, F_STR },
	{ "question_id", "vraag", 10, F_STR },
	{ "to_offering_id", "aanbod-id", 11, F_STR },
	{ "offering", "aanbod", 12, F_STR },
	{ "outcome", "uitkomst", 13, F_STR },
	{ "from_site", "van site", 14, F_STR },
	{ "created_at", "aangemaakt", 15, F_STR },
	{ "closed_at", "gesloten", 16, F_STR },
};
static const struct field contact_fields[] = {
	{ "name", "naam", C_NAME, F_STR },
	{ "phone", "telefoon", C_NAME + 1, F_STR },
	{ "email", "e-mail", C_NAME + 2, F_STR },
	{ "note", "notitie", C_NAME + 3, F_STR },
};
#define NFIELDS(a) (sizeof a / sizeof *a)

static const char *text(sqlite3_stmt *st, int c)
{
	return (const char *)sqlite3_column_text(st, c);
}

/* The readers of the sealed contact details: a list for people (out) and
 * a JSON array (j, if not NULL). Returns the number of recipients, or
 * a negative number when the envelope is damaged. */
static int recipients(plein_buf *out, plein_json *j, plein_site *s, sqlite3_stmt *st)
{
	unsigned char kids[PLEIN_SEAL_MAX_RECIPIENTS][PLEIN_SEAL_KID_BYTES];
	const unsigned char *env = sqlite3_column_blob(st, C_CONTACT);
	int n = plein_seal_key_ids(kids, PLEIN_SEAL_MAX_RECIPIENTS, env, (size_t)sqlite3_column_bytes(st, C_CONTACT));
	if (n < 0) /* damaged: nobody can open it */
		plein_error_clear();
	if (j) {
		plein_json_key(j, "sealed_for");
		plein_json_arr_begin(j);
	}
	for (int i = 0; i < n; i++) {
		plein_buf who = PLEIN_BUF_INIT;
		char hex[17];
		describe_recipient(&who, s, kids[i], i, text(st, C_FROM), text(st, C_PARTNER), text(st, C_PSITE));
		plein_buf_printf(out, "%s%s", i == 0 ? "" : i + 1 == n ? " en " : ", ", plein_buf_cstr(&who));
		if (j) {
			sodium_bin2hex(hex, sizeof hex, kids[i], 8);
			plein_json_obj_begin(j);
			plein_json_key(j, "key_id"); plein_json_str(j, hex);
			plein_json_key(j, "who"); plein_json_str(j, plein_buf_cstr(&who));
			plein_json_obj_end(j);
		}
		plein_buf_free(&who);
	}
	if (j)
		plein_json_arr_end(j);
	return n;
}

/* Why only this site can read the details, when that is so; else NULL. */
static const char *only_here_reason(plein_buf *out, plein_site *s, sqlite3_stmt *st, int nrecipients)
{
	const char *partner = text(st, C_PARTNER) ? text(st, C_PARTNER) : "de partner";
	const char *psite = text(st, C_PSITE);
	if (nrecipients != 1)
		return NULL;
	if (!psite)
		plein_buf_printf(out, "%s heeft geen eigen plein-site; geef de gegevens door zoals afgesproken", partner);
	else if (strcmp(psite, s->id) != 0)
		plein_buf_printf(out, "de sleutel van de site van %s (%s) is hier nog niet bekend, dus %s kan ze niet lezen",
				 partner, psite, partner);
	else
		return NULL;
	return plein_buf_cstr(out);
}

/* The lifecycle beside the record: a hint when the partner's agreed
 * attempts are used up, and every status change. */
static int suggest_unreachable(sqlite3_stmt *st)
{
	return sqlite3_column_type(st, C_MAX) != SQLITE_NULL &&
	       plein_referral_suggest_unreachable(text(st, 1), sqlite3_column_int64(st, C_ATTEMPTS),
						  sqlite3_column_int64(st, C_MAX));
}

static int lifecycle_json(plein_json *j, plein_site *s, sqlite3_stmt *st)
{
	plein_json_key(j, "suggest");
	plein_json_str(j, suggest_unreachable(st) ? "unreachable" : NULL);
	sqlite3_stmt *h = plein_referral_history(s, text(st, 0));
	if (!h)
		return PLEIN_ERR;
	plein_json_key(j, "history");
	plein_json_arr_begin(j);
	int step;
	while ((step = sqlite3_step(h)) == SQLITE_ROW) {
		static const char *const keys[] = { "at", "site", "site_id", "staff", "from", "to" };
		plein_json_obj_begin(j);
		for (int c = 0; c < 6; c++) {
			plein_json_key(j, keys[c]);
			plein_json_str(j, text(h, c));
		}
		plein_json_obj_end(j);
	}
	plein_json_arr_end(j);
	sqlite3_reset(h);
	return step == SQLITE_DONE ? 0 : plein_db_fail(s->db, "reading the history");
}

static int lifecycle_text(plein_buf *out, plein_site *s, sqlite3_stmt *st)
{
	const char *id = text(st, 0);
	if (suggest_unreachable(st))
		plein_buf_printf(out, "advies:           de %lld afgesproken pogingen zijn gedaan; is de bezoeker niet te bereiken: "
				 "plein referral set %s --status unreachable\n", (long long)sqlite3_column_int64(st, C_MAX), id);
	sqlite3_stmt *h = plein_referral_history(s, id);
	if (!h)
		return PLEIN_ERR;
	plein_buf_puts(out, "geschiedenis:\n");
	int step;
	while ((step = sqlite3_step(h)) == SQLITE_ROW)
		plein_buf_printf(out, "  %.19s  %-11s -> %-11s %s%s%s\n", text(h, 0), text(h, 4) ? text(h, 4) : "(nieuw)",
				 text(h, 5) ? text(h, 5) : "", text(h, 1) ? text(h, 1) : "?", text(h, 3) ? ", " : "",
				 text(h, 3) ? text(h, 3) : "");
	sqlite3_reset(h);
	return step == SQLITE_DONE ? 0 : plein_db_fail(s->db, "reading the history");
}

/* "gewist ..." when the contact details were erased (docs/erasure.md). */
static char *erased_why(plein_site *s, const char *id)
{
	sqlite3_stmt *st = plein_db_stmt(s->db, "SELECT reason, erased_at FROM erasure WHERE id = 'referral:' || ?1");
	char *out = NULL;
	if (!st)
		return NULL;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *r = (const char *)sqlite3_column_text(st, 0), *at = (const char *)sqlite3_column_text(st, 1);
		plein_buf b = PLEIN_BUF_INIT;
		plein_buf_printf(&b, "gewist (%s) op %s, op elke site die het bericht kreeg",
				 r && !strcmp(r, "request") ? "op verzoek" : r && !strcmp(r, "closed") ? "verwijzing afgesloten" :
				 "bewaartermijn verstreken", at ? at : "?");
		out = (char *)b.data;
	}
	sqlite3_reset(st);
	return out;
}

static int show_json(plein_buf *res, plein_site *s, sqlite3_stmt *st)
{
	plein_buf out = PLEIN_BUF_INIT, who = PLEIN_BUF_INIT, why = PLEIN_BUF_INIT;
	plein_json j;
	int has = sqlite3_column_type(st, C_CONTACT) != SQLITE_NULL;
	int readable = has && sqlite3_column_int(st, C_READABLE);
	plein_json_init(&j, &out);
	plein_json_obj_begin(&j);
	for (size_t i = 0; i < NFIELDS(show_fields); i++) {
		const struct field *f = &show_fields[i];
		plein_json_key(&j, f->key);
		if (sqlite3_column_type(st, f->col) == SQLITE_NULL)
			plein_json_null(&j);
		else if (f->type == F_INT)
			plein_json_int(&j, sqlite3_column_int64(st, f->col));
		else
			plein_json_str(&j, text(st, f->col));
	}
	plein_json_key(&j, "has_contact"); plein_json_bool(&j, has);
	char *gone = has ? NULL : erased_why(s, text(st, 0));
	plein_json_key(&j, "contact_erased"); plein_json_str(&j, gone); /* docs/erasure.md */
	free(gone);
	plein_json_key(&j, "contact_readable"); plein_json_bool(&j, readable);
	plein_json_key(&j, "contact");
	if (readable) {
		plein_json_obj_begin(&j);
		for (size_t i = 0; i < NFIELDS(contact_fields); i++) {
			plein_json_key(&j, contact_fields[i].key);
			plein_json_str(&j, text(st, contact_fields[i].col));
		}
		plein_json_obj_end(&j);
	} else {
		plein_json_null(&j);
	}
	int n = has ? recipients(&who, &j, s, st) : 0;
	plein_json_key(&j, "only_this_site_reason");
	plein_json_str(&j, readable ? only_here_reason(&why, s, st, n) : NULL);
	int rc = lifecycle_json(&j, s, st);
	plein_json_obj_end(&j);
	plein_buf_putc(&out, '\n');
	if (rc == 0)
		plein_buf_put(res, out.data, out.len);
	sodium_memzero(out.data, out.len);
	plein_buf_free(&out);
	plein_buf_free(&who);
	plein_buf_free(&why);
	return rc;
}

static void line(plein_buf *out, const char *label, const char *value)
{
	plein_buf_printf(out, "%s:%*s %s\n", label, 16 - (int)strlen(label), "", value ? value : "");
}

static int show_text(plein_buf *res, plein_site *s, sqlite3_stmt *st)
{
	plein_buf out = PLEIN_BUF_INIT, who = PLEIN_BUF_INIT, why = PLEIN_BUF_INIT;
	char num[48];
	for (size_t i = 0; i < NFIELDS(show_fields); i++) {
		const struct field *f = &show_fields[i];
		if (f->col == C_MAX)
			continue; /* shown with the attempts */
		if (f->col == C_ATTEMPTS && sqlite3_column_type(st, C_MAX) != SQLITE_NULL) {
			snprintf(num, sizeof num, "%lld van %lld", (long long)sqlite3_column_int64(st, C_ATTEMPTS),
				 (long long)sqlite3_column_int64(st, C_MAX));
			line(&out, f->label, num);
		} else {
			line(&out, f->label, text(st, f->col));
		}
	}
	int has = sqlite3_column_type(st, C_CONTACT) != SQLITE_NULL;
	int n = has ? recipients(&who, NULL, s, st) : 0;
	if (!has) {
		char *gone = erased_why(s, text(st, 0));
		plein_buf_printf(&out, "contactgegevens: %s\n", gone ? gone : "geen");
		free(gone);
	} else if (!sqlite3_column_int(st, C_READABLE) && n < 1) {
		plein_buf_puts(&out, "contactgegevens: versleuteld, maar beschadigd of in een onbekend formaat; niemand kan ze openen\n");
	} else if (!sqlite3_column_int(st, C_READABLE)) {
		plein_buf_printf(&out, "contactgegevens: versleuteld, alleen leesbaar voor %s\n", plein_buf_cstr(&who));
	} else {
		const char *reason = only_here_reason(&why, s, st, n);
		if (reason)
			plein_buf_printf(&out, "contactgegevens: alleen leesbaar voor deze site: %s\n", reason);
		else
			plein_buf_printf(&out, "contactgegevens: leesbaar voor %s\n", plein_buf_cstr(&who));
		for (size_t i = 0; i < NFIELDS(contact_fields); i++)
			line(&out, contact_fields[i].label, text(st, contact_fields[i].col));
	}
	int rc = lifecycle_text(&out, s, st);
	if (rc == 0)
		plein_buf_put(res, out.data, out.len);
	sodium_memzero(out.data, out.len);
	plein_buf_free(&out);
	plein_buf_free(&who);
	plein_buf_free(&why);
	return rc;
}

int plein_referral_show(plein_buf *out, plein_site *s, const char *id, int json)
{
	int rc;
	if ((rc = plein_check_exists(s, "referral", id)) < 0 || (rc = plein_seal_sql_register(s)) < 0)
		return rc;
	sqlite3_stmt *st = plein_db_stmt(s->db, SHOW_SQL);
	if (!st)
		return PLEIN_ERR;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_ROW)
		rc = plein_db_fail(s->db, "reading the referral");
	else
		rc = json ? show_json(out, s, st) : show_text(out, s, st);
	sqlite3_reset(st);
	return rc;
}
