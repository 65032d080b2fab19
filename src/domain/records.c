/* Helpers of the record commands (include/plein/records.h): field names
 * in messages, ranges, rows as JSON and the programme's period. */
#include "plein/records.h"

#include <stdio.h>
#include <string.h>

#include "plein/error.h"
#include "plein/validate.h"

/* Longest period the programme expands at once. */
#define MAX_PERIOD_DAYS 3660

const char *plein_field(char out[48], plein_names names, const char *opt)
{
	if (names == PLEIN_NAMES_CLI) {
		snprintf(out, 48, "--%s", opt);
		return out;
	}
	snprintf(out, 48, "%s", opt);
	for (char *p = out; *p; p++)
		if (*p == '-')
			*p = '_';
	return out;
}

int plein_check_range(plein_names names, const char *opt, long n, long lo, long hi)
{
	if (n >= lo && n <= hi)
		return 0;
	return plein_fail(PLEIN_EINVAL, "%s must be a whole number from %ld to %ld, not '%ld'",
			  PLEIN_FIELD(names, opt), lo, hi, n);
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

void plein_json_row(plein_json *j, sqlite3_stmt *st)
{
	plein_json_obj_begin(j);
	for (int c = 0; c < sqlite3_column_count(st); c++) {
		plein_json_key(j, sqlite3_column_name(st, c));
		json_value(j, st, c);
	}
	plein_json_obj_end(j);
}

int plein_json_rows(plein_buf *out, sqlite3_stmt *st)
{
	plein_json j;
	int step, rc = 0;
	plein_json_init(&j, out);
	plein_json_arr_begin(&j);
	while ((step = sqlite3_step(st)) == SQLITE_ROW)
		plein_json_row(&j, st);
	plein_json_arr_end(&j);
	plein_buf_putc(out, '\n');
	if (step != SQLITE_DONE)
		rc = plein_fail(PLEIN_ERR, "reading the replica: %s", sqlite3_errmsg(sqlite3_db_handle(st)));
	sqlite3_reset(st);
	return rc;
}

int plein_schedule_period(plein_date *from, plein_date *to, const char *f, const char *t, plein_names names)
{
	const char *fname = PLEIN_FIELD(names, "from"), *tname = PLEIN_FIELD(names, "to");
	int rc;
	if ((f && (rc = plein_check_date(fname, f)) < 0) || (t && (rc = plein_check_date(tname, t)) < 0))
		return rc;
	if (f)
		plein_date_parse(from, f);
	if (t)
		plein_date_parse(to, t);
	if (!f && !t) {
		char today[11];
		plein_today(today);
		plein_date_parse(from, today);
		*from = plein_date_add(*from, -plein_date_weekday(*from));
	} else if (!f) {
		*from = plein_date_add(*to, -6);
	}
	if (!t)
		*to = plein_date_add(*from, 6);
	char a[11], b[11];
	plein_date_format(a, *from);
	plein_date_format(b, *to);
	if (plein_date_cmp(*to, *from) < 0)
		return plein_fail(PLEIN_EINVAL, "%s %s is before %s %s", tname, b, fname, a);
	if (plein_date_to_days(*to) - plein_date_to_days(*from) >= MAX_PERIOD_DAYS)
		return plein_fail(PLEIN_EINVAL, "the period %s to %s is longer than 10 years; ask for a shorter one", a, b);
	return 0;
}
