#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "plein/buf.h"
#include "plein/error.h"
#include "plein/json.h"

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

static void json_value(plein_json *j, sqlite3_stmt *st, int c)
{
	switch (sqlite3_column_type(st, c)) {
	case SQLITE_INTEGER: plein_json_int(j, sqlite3_column_int64(st, c)); break;
	case SQLITE_FLOAT: plein_json_double(j, sqlite3_column_double(st, c)); break;
	case SQLITE_NULL: plein_json_null(j); break;
	case SQLITE_BLOB: plein_json_str(j, "(sealed)"); break;
	default: plein_json_str(j, (const char *)sqlite3_column_text(st, c));
	}
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
		plein_json j;
		plein_json_init(&j, &out);
		plein_json_arr_begin(&j);
		while ((step = sqlite3_step(st)) == SQLITE_ROW) {
			plein_json_obj_begin(&j);
			for (int c = 0; c < ncol; c++) {
				plein_json_key(&j, sqlite3_column_name(st, c));
				json_value(&j, st, c);
			}
			plein_json_obj_end(&j);
		}
		plein_json_arr_end(&j);
		plein_buf_putc(&out, '\n');
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
	else
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
		plein_json_obj_begin(&j);
		for (int c = 0; c < ncol; c++) {
			plein_json_key(&j, sqlite3_column_name(st, c));
			json_value(&j, st, c);
		}
		plein_json_obj_end(&j);
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
