#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "plein/buf.h"
#include "plein/error.h"
#include "plein/json.h"
#include "plein/records.h"

int cli_json(cli_ctx *ctx)
{
	return cli_flag(ctx, "json");
}

int cli_tty(void)
{
	return isatty(STDOUT_FILENO);
}

void cli_print_id(const char *id)
{
	printf("%s\n", id);
}

static const char *cell(sqlite3_stmt *st, int c)
{
	switch (sqlite3_column_type(st, c)) {
	case SQLITE_NULL: return "";
	case SQLITE_BLOB: return "(sealed)";
	default: return (const char *)sqlite3_column_text(st, c);
	}
}

/* Display width of UTF-8 text: count code points, not bytes. */
static int width(const char *s)
{
	int w = 0;
	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

int cli_print_rows(cli_ctx *ctx, sqlite3_stmt *st)
{
	int ncol = sqlite3_column_count(st);
	plein_buf out = PLEIN_BUF_INIT;
	int rc = 0, step;
	if (cli_json(ctx)) {
		rc = plein_json_rows(&out, st);
		step = SQLITE_DONE;
	} else {
		/* Collect cells, then print aligned columns. */
		int *w = plein_xcalloc((size_t)ncol, sizeof *w);
		char **cells = NULL;
		size_t n = 0;
		for (int c = 0; c < ncol; c++)
			w[c] = width(sqlite3_column_name(st, c));
		while ((step = sqlite3_step(st)) == SQLITE_ROW) {
			cells = plein_xrealloc(cells, sizeof *cells * (n + (size_t)ncol));
			for (int c = 0; c < ncol; c++) {
				cells[n + (size_t)c] = plein_xstrdup(cell(st, c));
				int cw = width(cells[n + (size_t)c]);
				if (cw > w[c])
					w[c] = cw;
			}
			n += (size_t)ncol;
		}
		for (int c = 0; c < ncol; c++) {
			const char *h = sqlite3_column_name(st, c);
			plein_buf_printf(&out, "%s%*s", h, c + 1 < ncol ? w[c] - width(h) + 2 : 0, "");
		}
		plein_buf_putc(&out, '\n');
		for (size_t r = 0; r < n; r += (size_t)ncol) {
			for (int c = 0; c < ncol; c++) {
				const char *v = cells[r + (size_t)c];
				plein_buf_printf(&out, "%s%*s", v, c + 1 < ncol ? w[c] - width(v) + 2 : 0, "");
				free(cells[r + (size_t)c]);
			}
			plein_buf_putc(&out, '\n');
		}
		free(cells);
		free(w);
	}
	if (step != SQLITE_DONE)
		rc = plein_fail(PLEIN_ERR, "reading the replica: %s", sqlite3_errmsg(sqlite3_db_handle(st)));
	else if (rc == 0)
		fwrite(out.data, 1, out.len, stdout);
	sqlite3_reset(st);
	plein_buf_free(&out);
	return rc;
}

int cli_print_record(cli_ctx *ctx, sqlite3_stmt *st)
{
	int ncol = sqlite3_column_count(st);
	plein_buf out = PLEIN_BUF_INIT;
	if (cli_json(ctx)) {
		plein_json j;
		plein_json_init(&j, &out);
		plein_json_row(&j, st);
		plein_buf_putc(&out, '\n');
	} else {
		int w = 0;
		for (int c = 0; c < ncol; c++)
			if (width(sqlite3_column_name(st, c)) > w)
				w = width(sqlite3_column_name(st, c));
		for (int c = 0; c < ncol; c++) {
			const char *h = sqlite3_column_name(st, c);
			plein_buf_printf(&out, "%s:%*s %s\n", h, w - width(h), "", cell(st, c));
		}
	}
	fwrite(out.data, 1, out.len, stdout);
	plein_buf_free(&out);
	return 0;
}
