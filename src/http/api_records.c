/* /api/v1/visits, /referrals and /signups: registration, warm referrals
 * and sign-ups, through the same domain code as the CLI. Contact details
 * appear only where this site can open them (plein_referral_show). */
#include "internal.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "plein/error.h"
#include "plein/json.h"
#include "plein/records.h"

int api_visits_list(http_req *r)
{
	static const char *const allowed[] = { "location", "from", "to", NULL };
	sqlite3_stmt *st = NULL;
	int rc = http_query_check(r, allowed, NULL);
	if (rc == 0)
		rc = plein_visit_list(&st, r->s, http_query(r, "location"), http_query(r, "from"), http_query(r, "to"),
				      PLEIN_NAMES_JSON);
	return http_reply_rows(r, rc, st);
}

int api_visits_add(http_req *r)
{
	plein_visit_spec sp = { .minutes = -1 };
	http_strs themes = {0};
	const body_field f[] = {
		{ "location", B_STR, 1, &sp.location_id, 0, 0 },
		{ "themes", B_STRS, 1, &themes, 0, 0 },
		{ "kind", B_STR, 0, &sp.kind, 0, 0 },
		{ "agency", B_STR, 0, &sp.agency, 0, 0 },
		{ "channel", B_STR, 0, &sp.channel, 0, 0 },
		{ "at", B_STR, 0, &sp.at, 0, 0 },
		{ "partner", B_STR, 0, &sp.partner_id, 0, 0 },
		{ "solved", B_BOOL, 0, &sp.solved, 0, 0 },
		{ "minutes", B_INT, 0, &sp.minutes, 1, PLEIN_MINUTES_MAX },
	};
	char id[27];
	int rc = http_body_fields(r, f, sizeof f / sizeof *f);
	if (rc < 0)
		return rc;
	sp.themes = themes.v;
	sp.nthemes = themes.n;
	return http_created(r, plein_visit_add(id, r->s, &sp, PLEIN_NAMES_JSON), id);
}

/* ?open=true / ?due=true, as 'plein referral list --open --due'. */
static int flag(http_req *r, const char *name, int *out)
{
	const char *v = http_query(r, name);
	*out = 0;
	if (!v)
		return 0;
	if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
		*out = 1;
	else if (strcmp(v, "false") != 0 && strcmp(v, "0") != 0)
		return plein_fail(PLEIN_EINVAL, "the query parameter '%s' is '%s'; use true or false", name, v);
	return 0;
}

int api_referrals_list(http_req *r)
{
	static const char *const allowed[] = { "open", "due", NULL };
	sqlite3_stmt *st = NULL;
	int open, due;
	int rc = http_query_check(r, allowed, NULL);
	if (rc == 0 && (rc = flag(r, "open", &open)) == 0 && (rc = flag(r, "due", &due)) == 0)
		rc = plein_referral_list(&st, r->s, open, due);
	return http_reply_rows(r, rc, st);
}

int api_referrals_add(http_req *r)
{
	plein_referral_spec sp = {0};
	const body_field f[] = {
		{ "to", B_STR, 1, &sp.to_partner_id, 0, 0 },
		{ "theme", B_STR, 1, &sp.theme, 0, 0 },
		{ "question", B_STR, 0, &sp.question_id, 0, 0 },
		{ "offering", B_STR, 0, &sp.offering_id, 0, 0 },
		{ "follow_up", B_STR, 0, &sp.follow_up, 0, 0 },
		{ "contact_name", B_STR, 0, &sp.contact_name, 0, 0 },
		{ "contact_phone", B_STR, 0, &sp.contact_phone, 0, 0 },
		{ "contact_email", B_STR, 0, &sp.contact_email, 0, 0 },
		{ "note", B_STR, 0, &sp.note, 0, 0 },
		{ "by", B_STR, 0, &sp.by, 0, 0 },
	};
	char id[27];
	int rc = http_body_fields(r, f, sizeof f / sizeof *f);
	return rc < 0 ? rc : http_created(r, plein_referral_add(id, r->s, &sp, PLEIN_NAMES_JSON), id);
}

int api_referral_show(http_req *r)
{
	plein_buf out = PLEIN_BUF_INIT;
	int rc = http_query_check(r, http_no_params, NULL);
	if (rc == 0 && (rc = plein_referral_show(&out, r->s, r->id, 1)) == 0)
		http_reply_json(r, 200, &out);
	if (out.data)
		sodium_memzero(out.data, out.cap);
	plein_buf_free(&out);
	return rc;
}

/* The reply after a change of the record r->id: {"id": ..., then the keys
 * the caller adds between record_begin and record_reply}. */
static void record_begin(http_req *r, plein_json *j, plein_buf *out)
{
	plein_json_init(j, out);
	plein_json_obj_begin(j);
	plein_json_key(j, "id");
	plein_json_str(j, r->id);
}

static void record_reply(http_req *r, plein_json *j, plein_buf *out)
{
	plein_json_obj_end(j);
	plein_buf_putc(out, '\n');
	http_reply_json(r, 200, out);
	plein_buf_free(out);
}

/* {"id", "status"[, "promoted": [ids, from promoted's lines]]}. */
static void reply_changed(http_req *r, const char *status, const plein_buf *promoted)
{
	plein_buf out = PLEIN_BUF_INIT;
	plein_json j;
	record_begin(r, &j, &out);
	plein_json_key(&j, "status");
	plein_json_str(&j, status);
	if (promoted) {
		plein_json_key(&j, "promoted");
		plein_json_arr_begin(&j);
		char *copy = plein_xstrdup(promoted->data ? (const char *)promoted->data : "");
		for (char *p = copy, *nl; *p; p = nl + 1) {
			nl = strchr(p, '\n');
			*nl = 0;
			plein_json_str(&j, p);
		}
		free(copy);
		plein_json_arr_end(&j);
	}
	record_reply(r, &j, &out);
}

int api_referral_status(http_req *r)
{
	const char *status = NULL, *outcome = NULL, *by = NULL;
	const body_field f[] = {
		{ "status", B_STR, 1, &status, 0, 0 },
		{ "outcome", B_STR, 0, &outcome, 0, 0 },
		{ "by", B_STR, 0, &by, 0, 0 },
	};
	int rc = http_body_fields(r, f, sizeof f / sizeof *f);
	if (rc < 0 || (rc = plein_referral_set(r->s, r->id, status, outcome, by, PLEIN_NAMES_JSON)) < 0)
		return rc;
	http_after_write(r);
	reply_changed(r, status, NULL);
	return 0;
}

int api_referral_attempt(http_req *r)
{
	int64_t attempts, max;
	int rc = http_body_fields(r, NULL, 0);
	if (rc < 0 || (rc = plein_referral_attempt(r->s, r->id, &attempts, &max)) < 0)
		return rc;
	http_after_write(r);
	plein_buf out = PLEIN_BUF_INIT;
	plein_json j;
	record_begin(r, &j, &out);
	plein_json_key(&j, "attempts");
	plein_json_int(&j, attempts);
	plein_json_key(&j, "max_attempts");
	if (max > 0)
		plein_json_int(&j, max);
	else
		plein_json_null(&j);
	record_reply(r, &j, &out);
	return 0;
}

int api_signups_list(http_req *r)
{
	static const char *const allowed[] = { "rule", "date", NULL };
	sqlite3_stmt *st = NULL;
	int rc = http_query_check(r, allowed, NULL);
	if (rc == 0 && (!http_query(r, "rule") || !http_query(r, "date")))
		rc = plein_fail(PLEIN_EINVAL, "give the occurrence as ?rule=ID&date=YYYY-MM-DD");
	if (rc == 0)
		rc = plein_signup_list(&st, r->s, http_query(r, "rule"), http_query(r, "date"), PLEIN_NAMES_JSON);
	return http_reply_rows(r, rc, st);
}

int api_signups_add(http_req *r)
{
	const char *rule = NULL, *date = NULL, *who = NULL;
	const body_field f[] = {
		{ "rule", B_STR, 1, &rule, 0, 0 },
		{ "date", B_STR, 1, &date, 0, 0 },
		{ "who", B_STR, 0, &who, 0, 0 },
	};
	char id[27];
	int rc = http_body_fields(r, f, sizeof f / sizeof *f);
	return rc < 0 ? rc : http_created(r, plein_signup_add(id, r->s, rule, date, who, PLEIN_NAMES_JSON), id);
}

int api_signup_status(http_req *r)
{
	const char *status = NULL;
	const body_field f[] = { { "status", B_STR, 1, &status, 0, 0 } };
	plein_buf promoted = PLEIN_BUF_INIT;
	int rc = http_body_fields(r, f, 1);
	if (rc == 0 && (rc = plein_signup_set(&promoted, r->s, r->id, status, PLEIN_NAMES_JSON)) == 0) {
		http_after_write(r);
		reply_changed(r, status, &promoted);
	}
	plein_buf_free(&promoted);
	return rc;
}
