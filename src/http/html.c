/* Shared pieces of the board and the folder (html.h). */
#include "html.h"

#include <stdlib.h>
#include <string.h>

#include "plein/error.h"
#include "plein/tz.h"

void html_text(plein_buf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': plein_buf_puts(b, "&amp;"); break;
		case '<': plein_buf_puts(b, "&lt;"); break;
		case '>': plein_buf_puts(b, "&gt;"); break;
		case '"': plein_buf_puts(b, "&quot;"); break;
		case '\'': plein_buf_puts(b, "&#39;"); break;
		default:
			/* Control characters have no place on a page. */
			if ((unsigned char)*s >= 0x20 || *s == '\n' || *s == '\t')
				plein_buf_putc(b, *s);
		}
	}
}

static const char *const day_names[7] = { "maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag" };
static const char *const month_names[12] = { "januari", "februari", "maart", "april", "mei", "juni", "juli",
					     "augustus", "september", "oktober", "november", "december" };

const char *html_day_name(plein_date d)
{
	return day_names[plein_date_weekday(d)];
}

const char *html_month_name(int month)
{
	return month >= 1 && month <= 12 ? month_names[month - 1] : "?";
}

void html_date(plein_buf *b, plein_date d, int with_year)
{
	plein_buf_printf(b, "%s %d %s", html_day_name(d), d.day, html_month_name(d.month));
	if (with_year)
		plein_buf_printf(b, " %d", d.year);
}

int html_daypart(const char *hhmm)
{
	int h = hhmm ? atoi(hhmm) : 0;
	return h < 12 ? HTML_OCHTEND : h < 18 ? HTML_MIDDAG : HTML_AVOND;
}

const char *html_daypart_name(int part)
{
	static const char *const names[] = { "ochtend", "middag", "avond" };
	return part >= 0 && part < HTML_NDAYPARTS ? names[part] : "";
}

const char *html_dominant_theme(const plein_occurrence *occ, size_t n, const char *date, int part)
{
	const char *best = NULL;
	size_t total = 0, best_n = 0;
	for (size_t i = 0; i < n; i++) {
		const plein_occurrence *o = &occ[i];
		if (o->status == PLEIN_OCC_CANCELLED || strcmp(o->date, date) != 0 || html_daypart(o->start) != part)
			continue;
		total++;
		if (!o->theme)
			continue;
		size_t same = 0;
		for (size_t k = 0; k < n; k++)
			if (occ[k].status != PLEIN_OCC_CANCELLED && strcmp(occ[k].date, date) == 0 &&
			    html_daypart(occ[k].start) == part && occ[k].theme && strcmp(occ[k].theme, o->theme) == 0)
				same++;
		if (same > best_n) {
			best = o->theme;
			best_n = same;
		}
	}
	return total && best_n * 2 > total ? best : NULL;
}

static char *col(sqlite3_stmt *st, int c)
{
	const unsigned char *t = sqlite3_column_text(st, c);
	return t ? plein_xstrdup((const char *)t) : NULL;
}

int html_location(plein_site *s, const char *id, char **name, char **tz)
{
	sqlite3_stmt *st = plein_db_stmt(s->db, "SELECT name, tz FROM location WHERE id = ?1");
	*name = *tz = NULL;
	if (!id || !*id)
		return plein_fail(PLEIN_EINVAL, "which location? give its id (see 'plein location list')");
	if (!st)
		return PLEIN_ERR;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	int step = sqlite3_step(st), rc = 0;
	if (step == SQLITE_ROW) {
		*name = col(st, 0);
		*tz = col(st, 1);
	} else if (step == SQLITE_DONE) {
		rc = plein_fail(PLEIN_ENOTFOUND, "no location with id '%s' (see 'plein location list')", id);
	} else {
		rc = plein_db_fail(s->db, "reading a location");
	}
	sqlite3_reset(st);
	if (rc == 0 && !*name)
		*name = plein_xstrdup(id);
	if (rc == 0 && (!*tz || !plein_tz_valid(*tz))) {
		free(*tz);
		*tz = plein_xstrdup(PLEIN_DEFAULT_TZ);
	}
	return rc;
}

int html_themes_load(html_themes *t, plein_site *s)
{
	sqlite3_stmt *st = plein_db_stmt(s->db, "SELECT code, label FROM term WHERE scheme = 'theme' AND code IS NOT NULL"
						" AND label IS NOT NULL ORDER BY id");
	memset(t, 0, sizeof *t);
	if (!st)
		return PLEIN_ERR;
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		t->code = plein_xrealloc(t->code, (t->n + 1) * sizeof *t->code);
		t->label = plein_xrealloc(t->label, (t->n + 1) * sizeof *t->label);
		t->code[t->n] = col(st, 0);
		t->label[t->n++] = col(st, 1);
	}
	int rc = step == SQLITE_DONE ? 0 : plein_db_fail(s->db, "reading the themes");
	sqlite3_reset(st);
	return rc;
}

const char *html_theme_label(const html_themes *t, const char *code)
{
	if (!code)
		return "";
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->code[i], code) == 0)
			return t->label[i];
	return code;
}

void html_themes_free(html_themes *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->code[i]);
		free(t->label[i]);
	}
	free(t->code);
	free(t->label);
	memset(t, 0, sizeof *t);
}

/* The seeded themes (schema/002_terms.sql) and their colours: distinct,
 * readable with white text, and not told apart by colour alone (the
 * label is always written). */
static const struct {
	const char *code, *colour;
} palette[] = {
	{ "werk", "#1f6feb" },      { "geld", "#b7791f" },   { "taal", "#2f855a" },
	{ "digitaal", "#6b46c1" },  { "overheid", "#2c5282" }, { "gezondheid", "#c53030" },
	{ "wonen", "#975a16" },     { "juridisch", "#4a5568" }, { "opvoeding", "#b83280" },
	{ "zorg", "#c05621" },      { "inburgering", "#276749" }, { "vrije_tijd", "#0987a0" },
};

void html_theme_class(plein_buf *b, const char *code)
{
	for (size_t i = 0; code && i < sizeof palette / sizeof *palette; i++)
		if (strcmp(palette[i].code, code) == 0) {
			plein_buf_printf(b, "t-%s", code);
			return;
		}
	plein_buf_puts(b, "t-other");
}

void html_theme_css(plein_buf *b, int print)
{
	for (size_t i = 0; i < sizeof palette / sizeof *palette; i++) {
		if (print)
			plein_buf_printf(b, ".t-%s{border-color:%s;color:%s}", palette[i].code, palette[i].colour, palette[i].colour);
		else
			plein_buf_printf(b, ".t-%s{background:%s}", palette[i].code, palette[i].colour);
	}
	plein_buf_puts(b, print ? ".t-other{border-color:#555;color:#555}" : ".t-other{background:#555}");
	plein_buf_putc(b, '\n');
}

int html_local_date(plein_date *out, const char *tz, int64_t utc)
{
	struct tm l;
	int rc = plein_tz_utc_to_local(tz, utc, &l);
	if (rc == 0)
		*out = (plein_date){ l.tm_year + 1900, l.tm_mon + 1, l.tm_mday };
	return rc;
}

void html_change_note(plein_buf *b, const plein_occurrence *o, const char *cancelled_text)
{
	plein_date d;
	if (o->status == PLEIN_OCC_PLANNED)
		return;
	if (o->status == PLEIN_OCC_CANCELLED) {
		plein_buf_puts(b, cancelled_text);
	} else {
		plein_buf_puts(b, "Verplaatst");
		if (strcmp(o->original_date, o->date) != 0 && plein_date_parse(&d, o->original_date) == 0) {
			plein_buf_puts(b, " van ");
			html_date(b, d, 0);
		}
	}
	if (o->reason) {
		plein_buf_puts(b, ": ");
		html_text(b, o->reason);
	}
}
