#include "plein/report.h"

#include <ctype.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plein/error.h"
#include "plein/json.h"
#include "plein/tz.h"
#include "plein/validate.h"

/* The whitelist: a report's SQL is put together from these fragments and
 * from column aliases numbered by position, never from text a user gave.
 * The inner query runs over `visit v LEFT JOIN question q`. */
static const struct dim {
	const char *name;       /* the --by value and the key column */
	const char *label_col;  /* label column in CSV/JSON; NULL: the key is the label */
	const char *key_sql;    /* the group key */
	const char *label_pre;  /* label of the key g.kN: label_pre || g.kN || label_post */
	const char *label_post;
	const char *none;       /* label when the key is NULL */
} dims[PLEIN_REPORT_NDIMS] = {
	[PLEIN_REPORT_THEME] = { "theme", "theme_label", "NULLIF(q.theme, '')",
		"(SELECT label FROM term WHERE scheme = 'theme' AND code = ", " ORDER BY id LIMIT 1)", "(onbekend)" },
	[PLEIN_REPORT_LOCATION] = { "location", "location_label", "NULLIF(v.location_id, '')",
		"(SELECT name FROM location WHERE id = ", ")", "(onbekend)" },
	[PLEIN_REPORT_PARTNER] = { "partner", "partner_label", "NULLIF(q.partner_id, '')",
		"(SELECT name FROM partner WHERE id = ", ")", "(geen)" },
	[PLEIN_REPORT_AGENCY] = { "agency", "agency_label", "NULLIF(q.agency, '')",
		"(SELECT label FROM term WHERE scheme = 'agency' AND code = ", " ORDER BY id LIMIT 1)", "(geen)" },
	[PLEIN_REPORT_MONTH] = { "month", NULL, "plein_report_month(v.at)", NULL, NULL, "(onbekend)" },
};

/* A question counts as referred through either link: question.referral_id,
 * or a referral whose question_id names it (they may arrive separately). */
static const char counts_sql[] =
	"COUNT(DISTINCT v.id) AS visits, COUNT(q.id) AS questions,"
	" COUNT(CASE WHEN q.solved = 1 THEN 1 END) AS solved,"
	" COUNT(CASE WHEN NULLIF(q.referral_id, '') IS NOT NULL OR rq.qid IS NOT NULL THEN 1 END) AS referred"
	" FROM visit v LEFT JOIN question q ON q.visit_id = v.id"
	" LEFT JOIN (SELECT DISTINCT question_id AS qid FROM referral WHERE question_id IS NOT NULL) rq ON rq.qid = q.id"
	" WHERE 1";

/* Bounds on visit.at: the text range uses the index on visit(at) and is
 * a day wider on both sides, so a timestamp written with an offset is not
 * lost; the epoch comparison is the exact one. */
static const char from_sql[] = " AND v.at >= :lo_text AND plein_report_epoch(v.at) >= :lo";
static const char to_sql[] = " AND v.at < :hi_text AND plein_report_epoch(v.at) < :hi";

static const char *const statuses[] = { "new", "contacted", "appointment", "done", "declined", "unreachable" };
static const char *const status_labels[] = { "nieuw", "contact gelegd", "afspraak gemaakt", "afgerond", "afgewezen", "onbereikbaar" };
#define NKNOWN (sizeof statuses / sizeof *statuses)

int plein_report_dim_parse(plein_report_dim *out, const char *name)
{
	for (int d = 0; d < PLEIN_REPORT_NDIMS; d++)
		if (name && strcmp(name, dims[d].name) == 0) {
			*out = (plein_report_dim)d;
			return 0;
		}
	return plein_fail(PLEIN_EINVAL, "cannot report by '%s'; use theme, location, partner, agency or month", name ? name : "");
}

const char *plein_report_dim_name(plein_report_dim d)
{
	return dims[d].name;
}

const char *plein_report_key_column(plein_report_dim d)
{
	return dims[d].name;
}

const char *plein_report_label_column(plein_report_dim d)
{
	return dims[d].label_col;
}

int plein_report_query_init(plein_report_query *out, const char *const *by, int nby, const char *from, const char *to)
{
	int rc;
	memset(out, 0, sizeof *out);
	for (int i = 0; i < nby; i++) {
		plein_report_dim d;
		if ((rc = plein_report_dim_parse(&d, by[i])) < 0)
			return rc;
		for (int k = 0; k < out->nby; k++)
			if (out->by[k] == d)
				return plein_fail(PLEIN_EINVAL, "report by '%s' is asked twice; name each dimension once", by[i]);
		out->by[out->nby++] = d;
	}
	if (out->nby == 0)
		out->by[out->nby++] = PLEIN_REPORT_THEME;
	if ((from && (rc = plein_check_date("from date", from)) < 0) || (to && (rc = plein_check_date("to date", to)) < 0))
		return rc;
	if (from && to && strcmp(from, to) > 0)
		return plein_fail(PLEIN_EINVAL, "the period %s to %s ends before it begins; swap the dates", from, to);
	snprintf(out->from, sizeof out->from, "%s", from ? from : "");
	snprintf(out->to, sizeof out->to, "%s", to ? to : "");
	return 0;
}

/* --- time: UTC text -> epoch -> local month ------------------------- */

/* "YYYY-MM-DD[T ]HH:MM[:SS[.fff]][Z|±HH:MM]", no zone meaning UTC (the
 * schema's times are UTC); -1 when s is not such a timestamp. */
static int parse_utc(const char *s, int64_t *out)
{
	if (!s || strlen(s) < 16 || (s[10] != 'T' && s[10] != ' '))
		return -1;
	char date[11], hm[6];
	memcpy(date, s, 10);
	date[10] = 0;
	memcpy(hm, s + 11, 5);
	hm[5] = 0;
	if (!plein_valid_date(date) || !plein_valid_time(hm))
		return -1;
	struct tm tm = {0};
	tm.tm_year = atoi(date) - 1900;
	tm.tm_mon = atoi(date + 5) - 1;
	tm.tm_mday = atoi(date + 8);
	tm.tm_hour = atoi(hm);
	tm.tm_min = atoi(hm + 3);
	const char *p = s + 16;
	if (*p == ':') {
		if (!isdigit((unsigned char)p[1]) || !isdigit((unsigned char)p[2]) || atoi(p + 1) > 60)
			return -1;
		tm.tm_sec = atoi(p + 1);
		p += 3;
		if (*p == '.')
			for (p++; isdigit((unsigned char)*p); p++)
				;
	}
	int64_t off = 0;
	if (*p == 'Z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		if (!isdigit((unsigned char)p[1]) || !isdigit((unsigned char)p[2]) || p[3] != ':' ||
		    !isdigit((unsigned char)p[4]) || !isdigit((unsigned char)p[5]))
			return -1;
		off = (int64_t)((p[1] - '0') * 10 + (p[2] - '0')) * 3600 + ((p[4] - '0') * 10 + (p[5] - '0')) * 60;
		if (*p == '-')
			off = -off;
		p += 6;
	}
	if (*p)
		return -1;
	*out = (int64_t)timegm(&tm) - off;
	return 0;
}

/* UTC instants at which local months begin, computed once per month:
 * the tz module switches zones per call, too slow to do per row. */
typedef struct {
	struct {
		int key; /* year * 12 + month - 1 */
		int64_t start;
	} *v;
	size_t n, cap;
} month_cache;

static int month_start(month_cache *c, int key, int64_t *out)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].key == key) {
			*out = c->v[i].start;
			return 0;
		}
	struct tm first = {0};
	first.tm_year = key / 12 - 1900;
	first.tm_mon = key % 12;
	first.tm_mday = 1;
	int rc = plein_tz_local_to_utc(PLEIN_REPORT_TZ, &first, out);
	if (rc < 0)
		return rc;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->v = plein_xrealloc(c->v, c->cap * sizeof *c->v);
	}
	c->v[c->n].key = key;
	c->v[c->n++].start = *out;
	return 0;
}

/* plein_report_epoch(text): seconds since 1970 (UTC), or NULL. */
static void sql_epoch(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	int64_t t;
	if (parse_utc((const char *)sqlite3_value_text(argv[0]), &t) == 0)
		sqlite3_result_int64(cx, t);
	else
		sqlite3_result_null(cx);
}

/* plein_report_month(text): the local month "YYYY-MM" of a UTC timestamp. */
static void sql_month(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	month_cache *c = sqlite3_user_data(cx);
	int64_t t;
	if (parse_utc((const char *)sqlite3_value_text(argv[0]), &t) < 0) {
		sqlite3_result_null(cx);
		return;
	}
	time_t tt = (time_t)t;
	struct tm u;
	gmtime_r(&tt, &u);
	int key = (u.tm_year + 1900) * 12 + u.tm_mon;
	/* The local month is the UTC month or a neighbour: the latest one
	 * that has begun at t. */
	for (int k = key + 1; k >= key - 1; k--) {
		int64_t start;
		if (month_start(c, k, &start) < 0) {
			sqlite3_result_error(cx, plein_error(), -1);
			return;
		}
		if (start <= t) {
			char month[16];
			snprintf(month, sizeof month, "%04d-%02d", k / 12, k % 12 + 1);
			sqlite3_result_text(cx, month, -1, SQLITE_TRANSIENT);
			return;
		}
	}
	sqlite3_result_null(cx);
}

/* The UTC instant at which local date + add_days begins. */
static int day_start(const char *date, int add_days, int64_t *out)
{
	struct tm d = {0};
	d.tm_year = atoi(date) - 1900;
	d.tm_mon = atoi(date + 5) - 1;
	d.tm_mday = atoi(date + 8) + add_days;
	time_t t = timegm(&d); /* normalises the day count */
	gmtime_r(&t, &d);
	return plein_tz_local_to_utc(PLEIN_REPORT_TZ, &d, out);
}

static void utc_date(int64_t t, int add_days, char out[11])
{
	time_t tt = (time_t)(t + (int64_t)add_days * 86400);
	struct tm u;
	gmtime_r(&tt, &u);
	strftime(out, 11, "%Y-%m-%d", &u);
}

typedef struct {
	int has_lo, has_hi;
	int64_t lo, hi; /* [lo, hi): UTC seconds */
	char lo_text[11], hi_text[11];
} bounds;

static int make_bounds(bounds *b, const plein_report_query *q)
{
	int rc;
	memset(b, 0, sizeof *b);
	if (q->from[0]) {
		if ((rc = day_start(q->from, 0, &b->lo)) < 0)
			return rc;
		b->has_lo = 1;
		utc_date(b->lo, -1, b->lo_text);
	}
	if (q->to[0]) {
		if ((rc = day_start(q->to, 1, &b->hi)) < 0)
			return rc;
		b->has_hi = 1;
		utc_date(b->hi, 2, b->hi_text);
	}
	return 0;
}

static void bind_bounds(sqlite3_stmt *st, const bounds *b)
{
	int i;
	if ((i = sqlite3_bind_parameter_index(st, ":lo")))
		sqlite3_bind_int64(st, i, b->lo);
	if ((i = sqlite3_bind_parameter_index(st, ":hi")))
		sqlite3_bind_int64(st, i, b->hi);
	if ((i = sqlite3_bind_parameter_index(st, ":lo_text")))
		sqlite3_bind_text(st, i, b->lo_text, -1, SQLITE_TRANSIENT);
	if ((i = sqlite3_bind_parameter_index(st, ":hi_text")))
		sqlite3_bind_text(st, i, b->hi_text, -1, SQLITE_TRANSIENT);
}

/* --- the queries ------------------------------------------------------ */

/* The counts grouped by by[0..nby); nby = 0 gives the one total row. */
static void build_sql(plein_buf *sql, const plein_report_dim *by, int nby, const bounds *b)
{
	plein_buf_puts(sql, "SELECT ");
	for (int i = 0; i < nby; i++) {
		const struct dim *d = &dims[by[i]];
		if (d->label_pre)
			plein_buf_printf(sql, "g.k%d, COALESCE(%sg.k%d%s, g.k%d) AS l%d, ", i, d->label_pre, i, d->label_post, i, i);
		else
			plein_buf_printf(sql, "g.k%d, g.k%d AS l%d, ", i, i, i);
	}
	plein_buf_puts(sql, "g.visits, g.questions, g.solved, g.referred FROM (SELECT ");
	for (int i = 0; i < nby; i++)
		plein_buf_printf(sql, "%s AS k%d, ", dims[by[i]].key_sql, i);
	plein_buf_puts(sql, counts_sql);
	if (b->has_lo)
		plein_buf_puts(sql, from_sql);
	if (b->has_hi)
		plein_buf_puts(sql, to_sql);
	for (int i = 0; i < nby; i++)
		plein_buf_printf(sql, "%sk%d", i ? ", " : " GROUP BY ", i);
	plein_buf_puts(sql, ") g");
	/* Known keys by label, then the unrecorded ones. */
	for (int i = 0; i < nby; i++)
		plein_buf_printf(sql, "%sg.k%d IS NULL, l%d COLLATE NOCASE, g.k%d", i ? ", " : " ORDER BY ", i, i, i);
}

static char *dup_col(sqlite3_stmt *st, int c)
{
	const unsigned char *v = sqlite3_column_text(st, c);
	return v ? plein_xstrdup((const char *)v) : NULL;
}

static void read_row(plein_report_row *row, sqlite3_stmt *st, const plein_report_dim *by, int nby)
{
	memset(row, 0, sizeof *row);
	for (int i = 0; i < nby; i++) {
		row->key[i] = dup_col(st, 2 * i);
		row->label[i] = row->key[i] ? dup_col(st, 2 * i + 1) : plein_xstrdup(dims[by[i]].none);
	}
	row->visits = sqlite3_column_int64(st, 2 * nby);
	row->questions = sqlite3_column_int64(st, 2 * nby + 1);
	row->solved = sqlite3_column_int64(st, 2 * nby + 2);
	row->referred = sqlite3_column_int64(st, 2 * nby + 3);
}

static void free_row(plein_report_row *row)
{
	for (int i = 0; i < PLEIN_REPORT_NDIMS; i++) {
		free(row->key[i]);
		free(row->label[i]);
	}
}

static int prepare(sqlite3_stmt **out, plein_db *db, plein_buf *sql, const bounds *b)
{
	if (sqlite3_prepare_v2(plein_db_handle(db), plein_buf_cstr(sql), -1, out, NULL) != SQLITE_OK)
		return plein_db_fail(db, "report");
	bind_bounds(*out, b);
	return 0;
}

static int run_counts(plein_report *r, plein_db *db, const bounds *b, int grouped)
{
	const plein_report_query *q = &r->query;
	plein_buf sql = PLEIN_BUF_INIT;
	sqlite3_stmt *st = NULL;
	int rc, step;
	build_sql(&sql, q->by, grouped ? q->nby : 0, b);
	if ((rc = prepare(&st, db, &sql, b)) < 0)
		goto cleanup;
	size_t cap = 0;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (!grouped) {
			read_row(&r->total, st, q->by, 0);
			continue;
		}
		if (r->nrows == cap) {
			cap = cap ? cap * 2 : 16;
			r->rows = plein_xrealloc(r->rows, cap * sizeof *r->rows);
		}
		read_row(&r->rows[r->nrows++], st, q->by, q->nby);
	}
	if (step != SQLITE_DONE)
		rc = plein_db_fail(db, "report");
cleanup:
	sqlite3_finalize(st);
	plein_buf_free(&sql);
	return rc;
}

static int run_referrals(plein_report *r, plein_db *db, const bounds *b)
{
	plein_buf sql = PLEIN_BUF_INIT;
	sqlite3_stmt *st = NULL;
	int rc, step;
	for (size_t i = 0; i < NKNOWN; i++) {
		r->referrals[i].status = statuses[i];
		r->referrals[i].label = status_labels[i];
	}
	r->referrals[NKNOWN].label = "(onbekend)";
	plein_buf_puts(&sql, "SELECT status, COUNT(*) FROM referral WHERE 1");
	if (b->has_lo)
		plein_buf_puts(&sql, " AND plein_report_epoch(created_at) >= :lo");
	if (b->has_hi)
		plein_buf_puts(&sql, " AND plein_report_epoch(created_at) < :hi");
	plein_buf_puts(&sql, " GROUP BY status");
	if ((rc = prepare(&st, db, &sql, b)) < 0)
		goto cleanup;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *s = (const char *)sqlite3_column_text(st, 0);
		size_t i = 0;
		while (i < NKNOWN && !(s && strcmp(s, statuses[i]) == 0))
			i++;
		r->referrals[i].count += sqlite3_column_int64(st, 1);
	}
	if (step != SQLITE_DONE)
		rc = plein_db_fail(db, "report");
cleanup:
	sqlite3_finalize(st);
	plein_buf_free(&sql);
	return rc;
}

static int register_functions(sqlite3 *h, month_cache *c)
{
	int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY;
	if (sqlite3_create_function_v2(h, "plein_report_epoch", 1, flags, NULL, sql_epoch, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_create_function_v2(h, "plein_report_month", 1, flags, c, sql_month, NULL, NULL, NULL) != SQLITE_OK)
		return plein_fail(PLEIN_ERR, "report: cannot register its SQL functions: %s", sqlite3_errmsg(h));
	return 0;
}

/* The month function points at this run's cache: take both away again. */
static void unregister_functions(sqlite3 *h)
{
	sqlite3_create_function_v2(h, "plein_report_epoch", 1, SQLITE_UTF8, NULL, NULL, NULL, NULL, NULL);
	sqlite3_create_function_v2(h, "plein_report_month", 1, SQLITE_UTF8, NULL, NULL, NULL, NULL, NULL);
}

int plein_report_run(plein_report **out, plein_db *db, const plein_report_query *q)
{
	*out = NULL;
	if (q->nby < 1 || q->nby > PLEIN_REPORT_NDIMS)
		return plein_fail(PLEIN_EINVAL, "report: a report groups by one to %d dimensions", PLEIN_REPORT_NDIMS);
	plein_report *r = plein_xcalloc(1, sizeof *r);
	r->query = *q;
	month_cache cache = {0};
	bounds b;
	sqlite3 *h = plein_db_handle(db);
	int rc;
	if ((rc = make_bounds(&b, q)) < 0 || (rc = register_functions(h, &cache)) < 0)
		goto cleanup;
	/* One read transaction (a savepoint nests in a caller's): the three
	 * queries see the same state. */
	if ((rc = plein_db_exec(db, "SAVEPOINT plein_report")) < 0)
		goto unregister;
	if ((rc = run_counts(r, db, &b, 1)) == 0 && (rc = run_counts(r, db, &b, 0)) == 0)
		rc = run_referrals(r, db, &b);
	plein_db_exec(db, "RELEASE plein_report");
unregister:
	unregister_functions(h);
cleanup:
	free(cache.v);
	if (rc < 0)
		plein_report_free(r);
	else
		*out = r;
	return rc;
}

void plein_report_free(plein_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nrows; i++)
		free_row(&r->rows[i]);
	free(r->rows);
	free_row(&r->total);
	free(r);
}

/* --- output ------------------------------------------------------------ */

static void json_counts(plein_json *j, const plein_report_row *row)
{
	plein_json_key(j, "visits");
	plein_json_int(j, row->visits);
	plein_json_key(j, "questions");
	plein_json_int(j, row->questions);
	plein_json_key(j, "solved");
	plein_json_int(j, row->solved);
	plein_json_key(j, "referred");
	plein_json_int(j, row->referred);
}

void plein_report_json(plein_buf *out, const plein_report *r)
{
	const plein_report_query *q = &r->query;
	plein_json j;
	plein_json_init(&j, out);
	plein_json_obj_begin(&j);
	plein_json_key(&j, "from");
	plein_json_str(&j, q->from[0] ? q->from : NULL);
	plein_json_key(&j, "to");
	plein_json_str(&j, q->to[0] ? q->to : NULL);
	plein_json_key(&j, "tz");
	plein_json_str(&j, PLEIN_REPORT_TZ);
	plein_json_key(&j, "by");
	plein_json_arr_begin(&j);
	for (int i = 0; i < q->nby; i++)
		plein_json_str(&j, dims[q->by[i]].name);
	plein_json_arr_end(&j);
	plein_json_key(&j, "rows");
	plein_json_arr_begin(&j);
	for (size_t n = 0; n < r->nrows; n++) {
		const plein_report_row *row = &r->rows[n];
		plein_json_obj_begin(&j);
		for (int i = 0; i < q->nby; i++) {
			const struct dim *d = &dims[q->by[i]];
			plein_json_key(&j, d->name);
			plein_json_str(&j, row->key[i]);
			if (d->label_col) {
				plein_json_key(&j, d->label_col);
				plein_json_str(&j, row->label[i]);
			}
		}
		json_counts(&j, row);
		plein_json_obj_end(&j);
	}
	plein_json_arr_end(&j);
	plein_json_key(&j, "total");
	plein_json_obj_begin(&j);
	json_counts(&j, &r->total);
	plein_json_obj_end(&j);
	plein_json_key(&j, "referrals");
	plein_json_arr_begin(&j);
	for (int i = 0; i < PLEIN_REPORT_NSTATUS; i++) {
		const plein_report_status *s = &r->referrals[i];
		if (!s->status && !s->count)
			continue;
		plein_json_obj_begin(&j);
		plein_json_key(&j, "status");
		plein_json_str(&j, s->status);
		plein_json_key(&j, "label");
		plein_json_str(&j, s->label);
		plein_json_key(&j, "count");
		plein_json_int(&j, s->count);
		plein_json_obj_end(&j);
	}
	plein_json_arr_end(&j);
	plein_json_obj_end(&j);
	plein_buf_putc(out, '\n');
}

/* RFC 4180: a field with a comma, quote or line break is quoted, with
 * its quotes doubled; NULL is the empty field. */
static void csv_field(plein_buf *out, const char *s, int first)
{
	if (!first)
		plein_buf_putc(out, ',');
	if (!s)
		return;
	if (!strpbrk(s, ",\"\r\n")) {
		plein_buf_puts(out, s);
		return;
	}
	plein_buf_putc(out, '"');
	for (; *s; s++) {
		if (*s == '"')
			plein_buf_putc(out, '"');
		plein_buf_putc(out, *s);
	}
	plein_buf_putc(out, '"');
}

void plein_report_csv(plein_buf *out, const plein_report *r)
{
	const plein_report_query *q = &r->query;
	for (int i = 0; i < q->nby; i++) {
		csv_field(out, dims[q->by[i]].name, i == 0);
		if (dims[q->by[i]].label_col)
			csv_field(out, dims[q->by[i]].label_col, 0);
	}
	plein_buf_puts(out, ",visits,questions,solved,referred\r\n");
	for (size_t n = 0; n < r->nrows; n++) {
		const plein_report_row *row = &r->rows[n];
		for (int i = 0; i < q->nby; i++) {
			csv_field(out, row->key[i], i == 0);
			if (dims[q->by[i]].label_col)
				csv_field(out, row->label[i], 0);
		}
		plein_buf_printf(out, ",%lld,%lld,%lld,%lld\r\n", (long long)row->visits, (long long)row->questions,
				 (long long)row->solved, (long long)row->referred);
	}
}

void plein_report_referrals_csv(plein_buf *out, const plein_report *r)
{
	plein_buf_puts(out, "status,label,count\r\n");
	for (int i = 0; i < PLEIN_REPORT_NSTATUS; i++) {
		const plein_report_status *s = &r->referrals[i];
		if (!s->status && !s->count)
			continue;
		csv_field(out, s->status, 1);
		csv_field(out, s->label, 0);
		plein_buf_printf(out, ",%lld\r\n", (long long)s->count);
	}
}
