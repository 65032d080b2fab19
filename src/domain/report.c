#include "plein/report.h"

#include <ctype.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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
	[PLEIN_REPORT_KIND] = { "kind", "kind_label", "NULLIF(q.kind, '')",
		"(SELECT label FROM term WHERE scheme = 'question' AND code = ", " ORDER BY id LIMIT 1)", "(onbekend)" },
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
	return plein_fail(PLEIN_EINVAL, "cannot report by '%s'; use theme, location, partner, agency, kind or month", name ? name : "");
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

/* Counts grouped by by[0..nby) into a new array (nby = 0: one row). */
static int count_rows(plein_report_row **rows, size_t *n, plein_db *db, const bounds *b, const plein_report_dim *by,
		      int nby)
{
	plein_buf sql = PLEIN_BUF_INIT;
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int rc, step;
	*rows = NULL;
	*n = 0;
	build_sql(&sql, by, nby, b);
	if ((rc = prepare(&st, db, &sql, b)) < 0)
		goto cleanup;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*rows = plein_xrealloc(*rows, cap * sizeof **rows);
		}
		read_row(&(*rows)[(*n)++], st, by, nby);
	}
	if (step != SQLITE_DONE)
		rc = plein_db_fail(db, "report");
cleanup:
	sqlite3_finalize(st);
	plein_buf_free(&sql);
	return rc;
}

static void free_rows(plein_report_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free_row(&rows[i]);
	free(rows);
}

static int run_counts(plein_report *r, plein_db *db, const bounds *b)
{
	plein_report_row *total = NULL;
	size_t n = 0;
	int rc = count_rows(&r->rows, &r->nrows, db, b, r->query.by, r->query.nby);
	if (rc == 0 && (rc = count_rows(&total, &n, db, b, r->query.by, 0)) == 0 && n == 1) {
		r->total = total[0];
		free(total);
	} else {
		free_rows(total, n);
	}
	return rc;
}

/* --- the IDO registration's tables -------------------------------------- */

/* The categories of the IDO registration, in its order (domain.md), with
 * the labels schema/002_terms.sql seeds. */
static const char *const ido_agencies[][2] = {
	{ "belastingdienst", "Belastingdienst" }, { "toeslagen", "Toeslagen" }, { "digid", "DigiD" },
	{ "uwv", "UWV" }, { "svb", "SVB" }, { "duo", "DUO" }, { "cjib", "CJIB" }, { "cak", "CAK" },
	{ "cbr", "CBR" }, { "ciz", "CIZ" }, { "gemeente", "Gemeente" },
};
static const char *const ido_kinds[][2] = {
	{ "informatie", "Informatie of uitleg" }, { "formulier", "Hulp bij een formulier" },
	{ "brief", "Brief lezen of begrijpen" }, { "inloggen", "Inloggen, DigiD of account" },
	{ "aanvraag", "Aanvraag of aanmelding" }, { "betaling", "Betaling of regeling" }, { "overig", "Overig" },
};

/* Every category of the list in its order (0 when not counted; the
 * term's label where this site has one), then the other counted keys,
 * then the unrecorded ones. */
static int ido_table(plein_report_row **out, size_t *out_n, plein_db *db, const bounds *b, plein_report_dim dim,
		     const char *const (*list)[2], size_t nlist, const char *scheme)
{
	plein_report_row *got;
	size_t ngot, n = 0;
	int rc = count_rows(&got, &ngot, db, b, &dim, 1);
	if (rc < 0)
		return rc;
	plein_report_row *rows = plein_xcalloc(nlist + ngot, sizeof *rows);
	char *taken = plein_xcalloc(ngot ? ngot : 1, 1);
	sqlite3_stmt *st = plein_db_stmt(db, "SELECT label FROM term WHERE scheme = ?1 AND code = ?2 ORDER BY id LIMIT 1");
	for (size_t i = 0; i < nlist; i++) {
		plein_report_row *row = &rows[n++];
		size_t k = 0;
		while (k < ngot && !(got[k].key[0] && strcmp(got[k].key[0], list[i][0]) == 0))
			k++;
		if (k < ngot) {
			*row = got[k];
			taken[k] = 1;
			continue;
		}
		row->key[0] = plein_xstrdup(list[i][0]);
		if (st) {
			sqlite3_bind_text(st, 1, scheme, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, list[i][0], -1, SQLITE_STATIC);
			if (sqlite3_step(st) == SQLITE_ROW)
				row->label[0] = dup_col(st, 0);
			sqlite3_reset(st);
		}
		if (!row->label[0])
			row->label[0] = plein_xstrdup(list[i][1]);
	}
	/* Counted keys outside the list keep the report's order (by label,
	 * NULL last). */
	for (size_t k = 0; k < ngot; k++)
		if (!taken[k])
			rows[n++] = got[k];
	free(taken);
	free(got);
	*out = rows;
	*out_n = n;
	return 0;
}

/* --- referral outcomes and time to close ---------------------------------- */

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* Seconds to days, rounded to a tenth, without floating-point drift in
 * the decimal shown. */
static double tenth_days(int64_t sec2)
{
	/* sec2 is twice the seconds, so a median of two halves stays exact. */
	return (double)((sec2 * 10 + 86400) / (2 * 86400)) / 10.0;
}

/* Fill c from the closing times d[0..n) (seconds; sorted here). */
static void closing(plein_report_closing *c, int64_t *d, size_t n)
{
	c->closed = (int64_t)n;
	if (!n) {
		c->median_days = c->avg_days = NAN;
		return;
	}
	qsort(d, n, sizeof *d, cmp_i64);
	int64_t sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += d[i];
	c->median_days = tenth_days(n % 2 ? 2 * d[n / 2] : d[n / 2 - 1] + d[n / 2]);
	c->avg_days = tenth_days(2 * sum / (int64_t)n);
}

typedef struct {
	int status;        /* index into referrals[] */
	int partner;       /* index into r->partners */
	int64_t seconds;   /* created -> closed, or -1 */
} ref_row;

static int partner_index(plein_report *r, const char *key, const char *name)
{
	for (size_t i = 0; i < r->npartners; i++)
		if ((!key && !r->partners[i].key) || (key && r->partners[i].key && strcmp(key, r->partners[i].key) == 0))
			return (int)i;
	r->partners = plein_xrealloc(r->partners, (r->npartners + 1) * sizeof *r->partners);
	plein_report_partner *p = &r->partners[r->npartners];
	memset(p, 0, sizeof *p);
	p->key = key ? plein_xstrdup(key) : NULL;
	p->label = plein_xstrdup(!key ? "(geen)" : name ? name : key);
	return (int)r->npartners++;
}

static int cmp_partner(const void *pa, const void *pb)
{
	const plein_report_partner *a = pa, *b = pb;
	if (!a->key != !b->key)
		return a->key ? -1 : 1;
	int c = strcasecmp(a->label, b->label);
	return c ? c : strcmp(a->key ? a->key : "", b->key ? b->key : "");
}

static int run_referrals(plein_report *r, plein_db *db, const bounds *b)
{
	plein_buf sql = PLEIN_BUF_INIT;
	sqlite3_stmt *st = NULL;
	ref_row *rows = NULL;
	size_t n = 0, cap = 0;
	int rc, step;
	for (size_t i = 0; i < NKNOWN; i++) {
		r->referrals[i].status = statuses[i];
		r->referrals[i].label = status_labels[i];
	}
	r->referrals[NKNOWN].label = "(onbekend)";
	plein_buf_puts(&sql, "SELECT f.status, NULLIF(f.to_partner_id, ''), p.name,"
			     " plein_report_epoch(f.closed_at) - plein_report_epoch(f.created_at)"
			     " FROM referral f LEFT JOIN partner p ON p.id = NULLIF(f.to_partner_id, '') WHERE 1");
	if (b->has_lo)
		plein_buf_puts(&sql, " AND plein_report_epoch(f.created_at) >= :lo");
	if (b->has_hi)
		plein_buf_puts(&sql, " AND plein_report_epoch(f.created_at) < :hi");
	if ((rc = prepare(&st, db, &sql, b)) < 0)
		goto cleanup;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *s = (const char *)sqlite3_column_text(st, 0);
		int i = 0;
		while (i < (int)NKNOWN && !(s && strcmp(s, statuses[i]) == 0))
			i++;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			rows = plein_xrealloc(rows, cap * sizeof *rows);
		}
		ref_row *x = &rows[n++];
		x->status = i;
		x->partner = partner_index(r, (const char *)sqlite3_column_text(st, 1),
					   (const char *)sqlite3_column_text(st, 2));
		/* A closed_at before created_at (clocks apart) says nothing. */
		x->seconds = sqlite3_column_type(st, 3) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 3);
	}
	if (step != SQLITE_DONE) {
		rc = plein_db_fail(db, "report");
		goto cleanup;
	}
	int64_t *d = plein_xmalloc((n ? n : 1) * sizeof *d);
	for (int i = 0; i < PLEIN_REPORT_NSTATUS; i++) {
		size_t k = 0;
		for (size_t m = 0; m < n; m++) {
			if (rows[m].status != i)
				continue;
			r->referrals[i].count++;
			if (rows[m].seconds >= 0)
				d[k++] = rows[m].seconds;
		}
		closing(&r->referrals[i].closing, d, k);
	}
	for (size_t p = 0; p < r->npartners; p++) {
		size_t k = 0;
		for (size_t m = 0; m < n; m++) {
			if (rows[m].partner != (int)p)
				continue;
			r->partners[p].count[rows[m].status]++;
			r->partners[p].total++;
			if (rows[m].seconds >= 0)
				d[k++] = rows[m].seconds;
		}
		closing(&r->partners[p].closing, d, k);
	}
	free(d);
	if (r->npartners)
		qsort(r->partners, r->npartners, sizeof *r->partners, cmp_partner);
cleanup:
	free(rows);
	sqlite3_finalize(st);
	plein_buf_free(&sql);
	return rc;
}

/* --- sign-ups ------------------------------------------------------------- */

const char *const plein_report_signup_statuses[PLEIN_REPORT_NSIGNUP] = { "booked", "waitlisted", "cancelled",
									     "attended", "no_show" };

static int run_signups(plein_report *r, plein_db *db)
{
	const plein_report_query *q = &r->query;
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int rc = 0, step;
	/* Occurrence dates are local dates already: the period compares text. */
	static const char sql[] =
		"SELECT COALESCE(o.id, NULLIF(sr.offering_id, '')) AS oid, o.title, p.name,"
		" CASE WHEN s.occurrence_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'"
		" THEN substr(s.occurrence_date, 1, 7) END AS m, s.status, count(*)"
		" FROM signup s LEFT JOIN schedule_rule sr ON sr.id = s.rule_id"
		" LEFT JOIN offering o ON o.id = sr.offering_id LEFT JOIN partner p ON p.id = o.partner_id"
		" WHERE (?1 = '' OR s.occurrence_date >= ?1) AND (?2 = '' OR s.occurrence_date <= ?2)"
		" GROUP BY oid, m, s.status"
		" ORDER BY oid IS NULL, COALESCE(o.title, oid) COLLATE NOCASE, oid, m IS NULL, m";
	if (sqlite3_prepare_v2(plein_db_handle(db), sql, -1, &st, NULL) != SQLITE_OK)
		return plein_db_fail(db, "report");
	sqlite3_bind_text(st, 1, q->from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, q->to, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *oid = (const char *)sqlite3_column_text(st, 0), *m = (const char *)sqlite3_column_text(st, 3);
		plein_report_signups *g = r->nsignups ? &r->signups[r->nsignups - 1] : NULL;
		if (!g || !((!oid && !g->offering_id) || (oid && g->offering_id && strcmp(oid, g->offering_id) == 0)) ||
		    strcmp(m ? m : "", g->month) != 0) {
			if (r->nsignups == cap) {
				cap = cap ? cap * 2 : 16;
				r->signups = plein_xrealloc(r->signups, cap * sizeof *r->signups);
			}
			g = &r->signups[r->nsignups++];
			memset(g, 0, sizeof *g);
			g->offering_id = oid ? plein_xstrdup(oid) : NULL;
			g->title = sqlite3_column_type(st, 1) != SQLITE_NULL ? dup_col(st, 1)
				   : plein_xstrdup(oid ? oid : "(onbekend)");
			g->partner = dup_col(st, 2);
			snprintf(g->month, sizeof g->month, "%s", m ? m : "");
		}
		const char *status = (const char *)sqlite3_column_text(st, 4);
		int64_t count = sqlite3_column_int64(st, 5);
		for (int i = 0; i < PLEIN_REPORT_NSIGNUP; i++)
			if (status && strcmp(status, plein_report_signup_statuses[i]) == 0)
				g->count[i] += count;
		g->total += count;
	}
	if (step != SQLITE_DONE)
		rc = plein_db_fail(db, "report");
	sqlite3_finalize(st);
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
	if ((rc = run_counts(r, db, &b)) == 0 && (rc = run_referrals(r, db, &b)) == 0 &&
	    (rc = run_signups(r, db)) == 0 &&
	    (rc = ido_table(&r->agencies, &r->nagencies, db, &b, PLEIN_REPORT_AGENCY, ido_agencies,
			    sizeof ido_agencies / sizeof *ido_agencies, "agency")) == 0)
		rc = ido_table(&r->kinds, &r->nkinds, db, &b, PLEIN_REPORT_KIND, ido_kinds,
			       sizeof ido_kinds / sizeof *ido_kinds, "question");
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
	free_rows(r->rows, r->nrows);
	free_row(&r->total);
	for (size_t i = 0; i < r->npartners; i++) {
		free(r->partners[i].key);
		free(r->partners[i].label);
	}
	free(r->partners);
	for (size_t i = 0; i < r->nsignups; i++) {
		free(r->signups[i].offering_id);
		free(r->signups[i].title);
		free(r->signups[i].partner);
	}
	free(r->signups);
	free_rows(r->agencies, r->nagencies);
	free_rows(r->kinds, r->nkinds);
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

/* Days with one decimal, or null: written as text, so 0.3 stays 0.3. */
static void json_days(plein_json *j, const char *key, double days)
{
	plein_json_key(j, key);
	if (isnan(days)) {
		plein_json_null(j);
		return;
	}
	plein_buf_printf(j->out, "%.1f", days);
	j->after_key = 0; /* the value is written: as plein_json's writers do */
}

static void json_closing(plein_json *j, const plein_report_closing *c)
{
	plein_json_key(j, "closed");
	plein_json_int(j, c->closed);
	json_days(j, "median_days", c->median_days);
	json_days(j, "avg_days", c->avg_days);
}

static void json_ido(plein_json *j, const char *name, plein_report_dim d, const plein_report_row *rows, size_t n)
{
	plein_json_key(j, name);
	plein_json_arr_begin(j);
	for (size_t i = 0; i < n; i++) {
		plein_json_obj_begin(j);
		plein_json_key(j, dims[d].name);
		plein_json_str(j, rows[i].key[0]);
		plein_json_key(j, dims[d].label_col);
		plein_json_str(j, rows[i].label[0]);
		json_counts(j, &rows[i]);
		plein_json_obj_end(j);
	}
	plein_json_arr_end(j);
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
		json_closing(&j, &s->closing);
		plein_json_obj_end(&j);
	}
	plein_json_arr_end(&j);
	plein_json_key(&j, "referrals_by_partner");
	plein_json_arr_begin(&j);
	for (size_t n = 0; n < r->npartners; n++) {
		const plein_report_partner *p = &r->partners[n];
		plein_json_obj_begin(&j);
		plein_json_key(&j, "partner");
		plein_json_str(&j, p->key);
		plein_json_key(&j, "partner_label");
		plein_json_str(&j, p->label);
		plein_json_key(&j, "count");
		plein_json_int(&j, p->total);
		for (int i = 0; i < PLEIN_REPORT_NSTATUS; i++) {
			if (!r->referrals[i].status && !p->count[i])
				continue;
			plein_json_key(&j, r->referrals[i].status ? r->referrals[i].status : "unknown");
			plein_json_int(&j, p->count[i]);
		}
		json_closing(&j, &p->closing);
		plein_json_obj_end(&j);
	}
	plein_json_arr_end(&j);
	plein_json_key(&j, "signups");
	plein_json_arr_begin(&j);
	for (size_t n = 0; n < r->nsignups; n++) {
		const plein_report_signups *g = &r->signups[n];
		plein_json_obj_begin(&j);
		plein_json_key(&j, "offering");
		plein_json_str(&j, g->offering_id);
		plein_json_key(&j, "offering_label");
		plein_json_str(&j, g->title);
		plein_json_key(&j, "partner_label");
		plein_json_str(&j, g->partner);
		plein_json_key(&j, "month");
		plein_json_str(&j, g->month[0] ? g->month : NULL);
		plein_json_key(&j, "signups");
		plein_json_int(&j, g->total);
		for (int i = 0; i < PLEIN_REPORT_NSIGNUP; i++) {
			plein_json_key(&j, plein_report_signup_statuses[i]);
			plein_json_int(&j, g->count[i]);
		}
		plein_json_obj_end(&j);
	}
	plein_json_arr_end(&j);
	plein_json_key(&j, "ido");
	plein_json_obj_begin(&j);
	json_ido(&j, "agencies", PLEIN_REPORT_AGENCY, r->agencies, r->nagencies);
	json_ido(&j, "kinds", PLEIN_REPORT_KIND, r->kinds, r->nkinds);
	plein_json_obj_end(&j);
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

static void csv_int(plein_buf *out, int64_t v)
{
	plein_buf_printf(out, ",%lld", (long long)v);
}

/* A day count as CSV: "2.5", or empty when there is none. */
static void csv_days(plein_buf *out, double days)
{
	plein_buf_putc(out, ',');
	if (!isnan(days))
		plein_buf_printf(out, "%.1f", days);
}

static void csv_closing(plein_buf *out, const plein_report_closing *c)
{
	csv_int(out, c->closed);
	csv_days(out, c->median_days);
	csv_days(out, c->avg_days);
}

void plein_report_referrals_csv(plein_buf *out, const plein_report *r)
{
	plein_buf_puts(out, "status,label,count,closed,median_days,avg_days\r\n");
	for (int i = 0; i < PLEIN_REPORT_NSTATUS; i++) {
		const plein_report_status *s = &r->referrals[i];
		if (!s->status && !s->count)
			continue;
		csv_field(out, s->status, 1);
		csv_field(out, s->label, 0);
		csv_int(out, s->count);
		csv_closing(out, &s->closing);
		plein_buf_puts(out, "\r\n");
	}
}

static void partners_csv(plein_buf *out, const plein_report *r)
{
	plein_buf_puts(out, "partner,partner_label,count");
	for (int i = 0; i < (int)NKNOWN; i++)
		plein_buf_printf(out, ",%s", statuses[i]);
	plein_buf_puts(out, ",unknown,closed,median_days,avg_days\r\n");
	for (size_t n = 0; n < r->npartners; n++) {
		const plein_report_partner *p = &r->partners[n];
		csv_field(out, p->key, 1);
		csv_field(out, p->label, 0);
		csv_int(out, p->total);
		for (int i = 0; i < PLEIN_REPORT_NSTATUS; i++)
			csv_int(out, p->count[i]);
		csv_closing(out, &p->closing);
		plein_buf_puts(out, "\r\n");
	}
}

static void signups_csv(plein_buf *out, const plein_report *r)
{
	plein_buf_puts(out, "offering,offering_label,partner_label,month,signups");
	for (int i = 0; i < PLEIN_REPORT_NSIGNUP; i++)
		plein_buf_printf(out, ",%s", plein_report_signup_statuses[i]);
	plein_buf_puts(out, "\r\n");
	for (size_t n = 0; n < r->nsignups; n++) {
		const plein_report_signups *g = &r->signups[n];
		csv_field(out, g->offering_id, 1);
		csv_field(out, g->title, 0);
		csv_field(out, g->partner, 0);
		csv_field(out, g->month[0] ? g->month : NULL, 0);
		csv_int(out, g->total);
		for (int i = 0; i < PLEIN_REPORT_NSIGNUP; i++)
			csv_int(out, g->count[i]);
		plein_buf_puts(out, "\r\n");
	}
}

static void ido_csv(plein_buf *out, plein_report_dim d, const plein_report_row *rows, size_t n)
{
	csv_field(out, dims[d].name, 1);
	csv_field(out, dims[d].label_col, 0);
	plein_buf_puts(out, ",visits,questions,solved,referred\r\n");
	for (size_t i = 0; i < n; i++) {
		csv_field(out, rows[i].key[0], 1);
		csv_field(out, rows[i].label[0], 0);
		plein_buf_printf(out, ",%lld,%lld,%lld,%lld\r\n", (long long)rows[i].visits, (long long)rows[i].questions,
				 (long long)rows[i].solved, (long long)rows[i].referred);
	}
}

static const char *const table_names[PLEIN_REPORT_NTABLES] = { "counts", "referrals", "partners", "signups",
							       "agencies", "kinds" };

int plein_report_table_parse(plein_report_table *out, const char *name)
{
	for (int t = 0; t < PLEIN_REPORT_NTABLES; t++)
		if (name && strcmp(name, table_names[t]) == 0) {
			*out = (plein_report_table)t;
			return 0;
		}
	return plein_fail(PLEIN_EINVAL, "no report table '%s'; use counts, referrals, partners, signups, agencies or kinds",
			  name ? name : "");
}

void plein_report_table_csv(plein_buf *out, const plein_report *r, plein_report_table t)
{
	switch (t) {
	case PLEIN_REPORT_T_COUNTS: plein_report_csv(out, r); break;
	case PLEIN_REPORT_T_REFERRALS: plein_report_referrals_csv(out, r); break;
	case PLEIN_REPORT_T_PARTNERS: partners_csv(out, r); break;
	case PLEIN_REPORT_T_SIGNUPS: signups_csv(out, r); break;
	case PLEIN_REPORT_T_AGENCIES: ido_csv(out, PLEIN_REPORT_AGENCY, r->agencies, r->nagencies); break;
	case PLEIN_REPORT_T_KINDS: ido_csv(out, PLEIN_REPORT_KIND, r->kinds, r->nkinds); break;
	default: break;
	}
}
