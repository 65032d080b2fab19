/* plein report: the evaluation counts. The report module computes them;
 * this file only turns options into a query and the result into text,
 * CSV or JSON. */
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

static void print_referrals(plein_buf *out, const plein_report *r)
{
	table t = { .ncol = 3 };
	int numeric[3] = { 0, 0, 1 };
	char nums[PLEIN_REPORT_NSTATUS][24];
	t.numeric = numeric;
	add(&t, "status");
	add(&t, "label");
	add(&t, "count");
	for (int i = 0; i < PLEIN_REPORT_NSTATUS; i++) {
		const plein_report_status *s = &r->referrals[i];
		if (!s->status && !s->count)
			continue;
		snprintf(nums[i], sizeof nums[i], "%lld", (long long)s->count);
		add(&t, s->status ? s->status : "");
		add(&t, s->label);
		add(&t, nums[i]);
	}
	plein_buf_puts(out, "doorverwijzingen (aangemaakt in de periode)\n");
	print_table(out, &t);
	free(t.cells);
}

int cmd_report(cli_ctx *ctx)
{
	const char **by = NULL;
	const char *from = cli_opt(ctx, "from"), *to = cli_opt(ctx, "to");
	int nby = cli_opt_all(ctx, "by", &by), csv = cli_flag(ctx, "csv"), json = cli_json(ctx);
	int only_referrals = cli_flag(ctx, "referrals");
	plein_report_query q;
	plein_report *r = NULL;
	plein_buf out = PLEIN_BUF_INIT;
	int rc;
	if ((rc = cli_need_pos(ctx, 0, 0)) < 0 || (from && (rc = plein_check_date("--from", from)) < 0) ||
	    (to && (rc = plein_check_date("--to", to)) < 0))
		return rc;
	if (csv && json)
		return plein_fail(PLEIN_EINVAL, "--csv and --json both given; choose one");
	if ((rc = plein_report_query_init(&q, by, nby, from, to)) < 0)
		return rc;
	plein_site *s = cli_site(ctx);
	if (!s)
		return plein_error_code();
	if ((rc = plein_report_run(&r, s->db, &q)) < 0)
		return rc;
	if (json) {
		plein_report_json(&out, r);
	} else if (csv) {
		if (only_referrals)
			plein_report_referrals_csv(&out, r);
		else
			plein_report_csv(&out, r);
	} else {
		print_period(&out, &q);
		if (!only_referrals) {
			print_counts(&out, r);
			plein_buf_putc(&out, '\n');
		}
		print_referrals(&out, r);
	}
	fwrite(out.data, 1, out.len, stdout);
	plein_buf_free(&out);
	plein_report_free(r);
	return 0;
}
