/* plein report: the evaluation counts. The report module computes them;
 * this file only turns options into a query and the result into text,
 * CSV or JSON. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "plein/buf.h"
#include "plein/error.h"
#include "plein/report.h"
#include "plein/validate.h"

/* A text table: cells row by row, numbers right-aligned. */
typedef struct {
	int ncol;
	const char **cells; /* lent */
	size_t n;
	int *numeric;
} table;

static void add(table *t, const char *cell)
{
	t->cells = plein_xrealloc(t->cells, (t->n + 1) * sizeof *t->cells);
	t->cells[t->n++] = cell;
}

/* Display width of UTF-8 text: code points, not bytes. */
static int width(const char *s)
{
	int w = 0;
	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

static void print_table(plein_buf *out, const table *t)
{
	int *w = plein_xcalloc((size_t)t->ncol, sizeof *w);
	for (size_t i = 0; i < t->n; i++)
		if (width(t->cells[i]) > w[i % (size_t)t->ncol])
			w[i % (size_t)t->ncol] = width(t->cells[i]);
	for (size_t i = 0; i < t->n; i++) {
		int c = (int)(i % (size_t)t->ncol), last = c + 1 == t->ncol, pad = w[c] - width(t->cells[i]);
		if (t->numeric[c] && i >= (size_t)t->ncol) /* header row stays left */
			plein_buf_printf(out, "%*s%s", pad, "", t->cells[i]);
		else
			plein_buf_printf(out, "%s%*s", t->cells[i], last ? 0 : pad, "");
		plein_buf_puts(out, last ? "\n" : "  ");
	}
	free(w);
}

static void print_period(plein_buf *out, const plein_report_query *q)
{
	if (q->from[0] && q->to[0])
		plein_buf_printf(out, "periode: %s t/m %s\n\n", q->from, q->to);
	else if (q->from[0])
		plein_buf_printf(out, "periode: vanaf %s\n\n", q->from);
	else if (q->to[0])
		plein_buf_printf(out, "periode: t/m %s\n\n", q->to);
	else
		plein_buf_puts(out, "periode: alle registraties\n\n");
}

static void print_counts(plein_buf *out, const plein_report *r)
{
	const plein_report_query *q = &r->query;
	table t = { .ncol = q->nby + 4 };
	t.numeric = plein_xcalloc((size_t)t.ncol, sizeof *t.numeric);
	char *nums = plein_xmalloc((r->nrows + 1) * 4 * 24); /* 4 numbers of <= 20 digits per row */
	for (int i = 0; i < q->nby; i++)
		add(&t, plein_report_dim_name(q->by[i]));
	static const char *const heads[] = { "visits", "questions", "solved", "referred" };
	for (int i = 0; i < 4; i++) {
		t.numeric[q->nby + i] = 1;
		add(&t, heads[i]);
	}
	for (size_t n = 0; n <= r->nrows; n++) {
		const plein_report_row *row = n < r->nrows ? &r->rows[n] : &r->total;
		for (int i = 0; i < q->nby; i++)
			add(&t, n < r->nrows ? row->label[i] : i == 0 ? "totaal" : "");
		int64_t v[4] = { row->visits, row->questions, row->solved, row->referred };
		for (int i = 0; i < 4; i++) {
			char *cell = nums + (n * 4 + (size_t)i) * 24;
			snprintf(cell, 24, "%lld", (long long)v[i]);
			add(&t, cell);
		}
	}
	print_table(out, &t);
	free(nums);
	free(t.cells);
	free(t.numeric);
}

/* Number cells of a text table: each its own allocation, so the table
 * can lend them until it is printed. */
typedef struct {
	char **v;
	size_t n;
} cells;

static const char *cell(cells *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *cell(cells *c, const char *fmt, ...)
{
	va_list ap;
	char *v = plein_xmalloc(24);
	va_start(ap, fmt);
	vsnprintf(v, 24, fmt, ap);
	va_end(ap);
	c->v = plein_xrealloc(c->v, (c->n + 1) * sizeof *c->v);
	c->v[c->n++] = v;
	return v;
}

static const char *num(cells *c, int64_t v)
{
	return cell(c, "%lld", (long long)v);
}

static const char *days(cells *c, double d)
{
	return isnan(d) ? "-" : cell(c, "%.1f", d);
}

static void cells_free(cells *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i]);
	free(c->v);
}

static void closing_cells(table *t, cells *c, const plein_report_closing *x)
{
	add(t, num(c, x->closed));
	add(t, days(c, x->median_days));
	add(t, days(c, x->avg_days));
}

static void print_referrals(plein_buf *out, const plein_report *r)
{
	table t = { .ncol = 6 };
	int numeric[6] = { 0, 0, 1, 1, 1, 1 };
	cells c = { 0 };
	t.numeric = numeric;
	static const char *const heads[] = { "status", "label", "count", "closed", "median_days", "avg_days" };
	for (int i = 0; i < 6; i++)
		add(&t, heads[i]);
	for (int i = 0; i < PLEIN_REPORT_NSTATUS; i++) {
		const plein_report_status *s = &r->referrals[i];
		if (!s->status && !s->count)
			continue;
		add(&t, s->status ? s->status : "");
		add(&t, s->label);
		add(&t, num(&c, s->count));
		closing_cells(&t, &c, &s->closing);
	}
	plein_buf_puts(out, "doorverwijzingen (aangemaakt in de periode; dagen tot afsluiten)\n");
	print_table(out, &t);
	free(t.cells);
	cells_free(&c);
}

static void print_partners(plein_buf *out, const plein_report *r)
{
	table t = { .ncol = 6 };
	int numeric[6] = { 0, 1, 1, 1, 1, 1 };
	cells c = { 0 };
	t.numeric = numeric;
	static const char *const heads[] = { "partner", "count", "open", "closed", "median_days", "avg_days" };
	for (int i = 0; i < 6; i++)
		add(&t, heads[i]);
	for (size_t n = 0; n < r->npartners; n++) {
		const plein_report_partner *p = &r->partners[n];
		/* open: not yet in an end state (new, contacted, appointment) */
		add(&t, p->label);
		add(&t, num(&c, p->total));
		add(&t, num(&c, p->count[0] + p->count[1] + p->count[2]));
		closing_cells(&t, &c, &p->closing);
	}
	plein_buf_puts(out, "doorverwijzingen per partner\n");
	if (r->npartners)
		print_table(out, &t);
	else
		plein_buf_puts(out, "(geen)\n");
	free(t.cells);
	cells_free(&c);
}

static void print_signups(plein_buf *out, const plein_report *r)
{
	table t = { .ncol = 3 + PLEIN_REPORT_NSIGNUP };
	int numeric[3 + PLEIN_REPORT_NSIGNUP] = { 0, 0, 1, 1, 1, 1, 1, 1 };
	cells c = { 0 };
	t.numeric = numeric;
	add(&t, "offering");
	add(&t, "month");
	add(&t, "signups");
	for (int i = 0; i < PLEIN_REPORT_NSIGNUP; i++)
		add(&t, plein_report_signup_statuses[i]);
	for (size_t n = 0; n < r->nsignups; n++) {
		const plein_report_signups *g = &r->signups[n];
		add(&t, g->title);
		add(&t, g->month[0] ? g->month : "(onbekend)");
		add(&t, num(&c, g->total));
		for (int i = 0; i < PLEIN_REPORT_NSIGNUP; i++)
			add(&t, num(&c, g->count[i]));
	}
	plein_buf_puts(out, "aanmeldingen per aanbod en maand\n");
	if (r->nsignups)
		print_table(out, &t);
	else
		plein_buf_puts(out, "(geen)\n");
	free(t.cells);
	cells_free(&c);
}

static void print_ido(plein_buf *out, const char *title, const char *head, const plein_report_row *rows, size_t n)
{
	table t = { .ncol = 3 };
	int numeric[3] = { 0, 1, 1 };
	cells c = { 0 };
	t.numeric = numeric;
	add(&t, head);
	add(&t, "questions");
	add(&t, "visits");
	for (size_t i = 0; i < n; i++) {
		add(&t, rows[i].label[0]);
		add(&t, num(&c, rows[i].questions));
		add(&t, num(&c, rows[i].visits));
	}
	plein_buf_printf(out, "%s\n", title);
	print_table(out, &t);
	free(t.cells);
	cells_free(&c);
}

int cmd_report(cli_ctx *ctx)
{
	const char **by = NULL;
	const char *from = cli_opt(ctx, "from"), *to = cli_opt(ctx, "to"), *table_name = cli_opt(ctx, "table");
	int nby = cli_opt_all(ctx, "by", &by), csv = cli_flag(ctx, "csv"), json = cli_json(ctx);
	int only_referrals = cli_flag(ctx, "referrals");
	plein_report_table which = PLEIN_REPORT_T_COUNTS;
	plein_report_query q;
	plein_report *r = NULL;
	plein_buf out = PLEIN_BUF_INIT;
	int rc;
	if ((rc = cli_need_pos(ctx, 0, 0)) < 0 || (from && (rc = plein_check_date("--from", from)) < 0) ||
	    (to && (rc = plein_check_date("--to", to)) < 0))
		return rc;
	if (csv && json)
		return plein_fail(PLEIN_EINVAL, "--csv and --json both given; choose one");
	if (table_name && !csv)
		return plein_fail(PLEIN_EINVAL, "--table picks the table of --csv; add --csv (text and --json show every table)");
	if (table_name && only_referrals)
		return plein_fail(PLEIN_EINVAL, "--referrals is --table referrals; give one of them");
	if ((table_name && (rc = plein_report_table_parse(&which, table_name)) < 0) ||
	    (rc = plein_report_query_init(&q, by, nby, from, to)) < 0)
		return rc;
	if (only_referrals)
		which = PLEIN_REPORT_T_REFERRALS;
	plein_site *s = cli_site(ctx);
	if (!s)
		return plein_error_code();
	if ((rc = plein_report_run(&r, s->db, &q)) < 0)
		return rc;
	if (json) {
		plein_report_json(&out, r);
	} else if (csv) {
		plein_report_table_csv(&out, r, which);
	} else {
		print_period(&out, &q);
		if (!only_referrals) {
			print_counts(&out, r);
			plein_buf_putc(&out, '\n');
		}
		print_referrals(&out, r);
		if (!only_referrals) {
			plein_buf_putc(&out, '\n');
			print_partners(&out, r);
			plein_buf_putc(&out, '\n');
			print_signups(&out, r);
			plein_buf_putc(&out, '\n');
			print_ido(&out, "IDO-registratie: vragen per instantie", "agency", r->agencies, r->nagencies);
			plein_buf_putc(&out, '\n');
			print_ido(&out, "IDO-registratie: vragen per soort vraag", "kind", r->kinds, r->nkinds);
		}
	}
	fwrite(out.data, 1, out.len, stdout);
	plein_buf_free(&out);
	plein_report_free(r);
	return 0;
}
