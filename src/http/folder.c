/* The folder (include/plein/pages.h, docs/pages.md): one location's
 * programme for one ISO week, per day and day-part — what, who, where,
 * when — for the screen and for print on A4. */
#include "plein/now.h"
#include "plein/pages.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "html.h"
#include "plein/error.h"
#include "plein/schedule.h"

#define WEEK_YEAR_MIN 1970
#define WEEK_YEAR_MAX 9998

/* ISO 8601: a year has 53 weeks when it starts on a Thursday, or is a
 * leap year that starts on a Wednesday. */
static int weeks_in_year(int year)
{
	int jan1 = plein_date_weekday((plein_date){ year, 1, 1 });
	int leap = plein_days_in_month(year, 2) == 29;
	return jan1 == 3 || (leap && jan1 == 2) ? 53 : 52;
}

/* Monday of ISO week 1: the week that holds 4 January. */
static plein_date week_one(int year)
{
	plein_date jan4 = { year, 1, 4 };
	return plein_date_add(jan4, -plein_date_weekday(jan4));
}

static int parse_week(plein_date *monday, int *year, int *week, const char *s)
{
	static const char *const hint = "give the week as YYYY-Www (ISO 8601), e.g. 2026-W48";
	if (!s || strlen(s) != 8 || s[4] != '-' || s[5] != 'W')
		return plein_fail(PLEIN_EINVAL, "week '%s' is not YYYY-Www; %s", s ? s : "", hint);
	for (int i = 0; i < 8; i++)
		if (i != 4 && i != 5 && !isdigit((unsigned char)s[i]))
			return plein_fail(PLEIN_EINVAL, "week '%s' is not YYYY-Www; %s", s, hint);
	*year = atoi(s);
	*week = atoi(s + 6);
	if (*year < WEEK_YEAR_MIN || *year > WEEK_YEAR_MAX)
		return plein_fail(PLEIN_EINVAL, "week '%s': the year must be %d..%d", s, WEEK_YEAR_MIN, WEEK_YEAR_MAX);
	if (*week < 1 || *week > weeks_in_year(*year))
		return plein_fail(PLEIN_EINVAL, "week '%s' does not exist: %d has weeks 01 to %d", s, *year,
				  weeks_in_year(*year));
	*monday = plein_date_add(week_one(*year), 7 * (*week - 1));
	return 0;
}

/* The ISO week of a date: "YYYY-Www" (the year of its Thursday). */
static void week_of(char out[9], plein_date d)
{
	plein_date thu = plein_date_add(d, 3 - plein_date_weekday(d));
	int w = (int)((plein_date_to_days(thu) - plein_date_to_days(week_one(thu.year))) / 7) + 1;
	snprintf(out, 9, "%04u-W%02u", (unsigned)thu.year % 10000u, (unsigned)w % 100u);
}

static void row(plein_buf *b, const plein_occurrence *o, const html_themes *themes)
{
	const char *state = o->status == PLEIN_OCC_CANCELLED ? "vervalt" : o->status == PLEIN_OCC_MOVED ? "verplaatst" : "gepland";
	plein_buf_printf(b, "<tr class=\"%s\" data-status=\"%s\"><td class=\"wanneer\">%s&ndash;%s</td><td class=\"wat\"><strong>",
			 state, state, o->start, o->end);
	html_text(b, o->title ? o->title : "Activiteit");
	plein_buf_puts(b, "</strong>");
	plein_buf_puts(b, "<br><span class=\"tag ");
	html_theme_class(b, o->theme);
	plein_buf_puts(b, "\">");
	html_text(b, html_theme_label(themes, o->theme));
	plein_buf_puts(b, "</span>");
	if (o->kind) {
		plein_buf_puts(b, " <span class=\"soort\">");
		html_text(b, o->kind);
		plein_buf_puts(b, "</span>");
	}
	if (o->status != PLEIN_OCC_PLANNED) {
		plein_buf_puts(b, "<br><span class=\"let-op\">");
		html_change_note(b, o, "Vervalt");
		plein_buf_puts(b, "</span>");
	}
	plein_buf_puts(b, "</td><td class=\"wie\">");
	html_text(b, o->partner ? o->partner : "");
	plein_buf_puts(b, "</td><td class=\"waar\">");
	html_text(b, o->room ? o->room : "");
	plein_buf_puts(b, "</td></tr>\n");
}

static const char folder_css[] =
	"*{box-sizing:border-box}\n"
	"body{font-family:\"DejaVu Sans\",\"Liberation Sans\",Arial,sans-serif;color:#111;background:#eef1f4;margin:0;"
	"font-size:11pt;line-height:1.35}\n"
	".blad{max-width:190mm;margin:1.5rem auto;background:#fff;padding:12mm 12mm 10mm;box-shadow:0 1px 4px #0003}\n"
	"header{border-bottom:3pt solid #0b1f33;padding-bottom:4mm;margin-bottom:5mm}\n"
	".brand{font-size:10pt;letter-spacing:.12em;text-transform:uppercase;color:#8a5a00;font-weight:bold}\n"
	"h1{font-size:22pt;margin:.5mm 0}.week{font-size:13pt;color:#333}\n"
	"section.dag{break-inside:avoid;page-break-inside:avoid;margin-bottom:5mm}\n"
	"h2{font-size:14pt;margin:0 0 1.5mm;border-bottom:1pt solid #999;padding-bottom:1mm}\n"
	"h3{font-size:11pt;margin:2.5mm 0 1mm;text-transform:capitalize}\n"
	"h3 .thema-dagdeel{text-transform:none;font-weight:normal;color:#333}\n"
	"table{width:100%;border-collapse:collapse}\n"
	"td{vertical-align:top;padding:1.2mm 2mm 1.2mm 0;border-bottom:.5pt solid #ddd}\n"
	"td.wanneer{width:24mm;white-space:nowrap;font-weight:bold}td.wie{width:44mm}td.waar{width:30mm}\n"
	".soort{color:#555;font-size:9.5pt}\n"
	".tag{display:inline-block;font-size:8pt;font-weight:bold;border:1pt solid;border-radius:3mm;padding:0 1.6mm;margin-top:.5mm}\n"
	".let-op{font-weight:bold;color:#8a3b00}\n"
	"tr.vervalt strong,tr.vervalt td.wanneer{text-decoration:line-through;color:#666}\n"
	".kop{font-size:9pt;color:#555;text-align:left;font-weight:normal;border-bottom:1pt solid #999}\n"
	".leeg{font-size:13pt;color:#333}\n"
	"footer{margin-top:6mm;border-top:1pt solid #999;padding-top:2mm;font-size:9.5pt;color:#333}\n"
	"@page{size:A4;margin:14mm 12mm}\n"
	"@media print{body{background:none;font-size:10.5pt}.blad{max-width:none;margin:0;padding:0;box-shadow:none}"
	"*{background:none!important;box-shadow:none!important}}\n";

int plein_page_folder(plein_buf *out, plein_site *s, const char *location_id, const char *week)
{
	char *name = NULL, *tz = NULL, this_week[9];
	plein_date monday, sunday;
	plein_schedule sc;
	html_themes themes;
	int year = 0, wk = 0, rc;
	memset(&sc, 0, sizeof sc);
	memset(&themes, 0, sizeof themes);
	if ((rc = html_location(s, location_id, &name, &tz)) < 0)
		goto cleanup;
	if (!week) {
		plein_date today;
		if ((rc = html_local_date(&today, tz, plein_now())) < 0)
			goto cleanup;
		week_of(this_week, today);
		week = this_week;
	}
	if ((rc = parse_week(&monday, &year, &wk, week)) < 0)
		goto cleanup;
	sunday = plein_date_add(monday, 6);
	if ((rc = plein_schedule_list(&sc, s, location_id, monday, sunday)) < 0 || (rc = html_themes_load(&themes, s)) < 0)
		goto cleanup;

	plein_buf_puts(out, "<!DOCTYPE html>\n<html lang=\"nl\"><head><meta charset=\"utf-8\"><title>Programma ");
	html_text(out, name);
	plein_buf_printf(out, " week %d</title>\n<style>\n%s", wk, folder_css);
	html_theme_css(out, 1);
	plein_buf_puts(out, "</style></head>\n<body><div class=\"blad\">\n<header><div class=\"brand\">Ontwikkelplein</div><h1>");
	html_text(out, name);
	plein_buf_printf(out, "</h1><div class=\"week\">Programma week %d &middot; ", wk);
	plein_buf_printf(out, "%d %s", monday.day, html_month_name(monday.month));
	if (monday.year != sunday.year)
		plein_buf_printf(out, " %d", monday.year);
	plein_buf_printf(out, " t/m %d %s %d</div></header>\n", sunday.day, html_month_name(sunday.month), sunday.year);
	if (sc.n == 0)
		plein_buf_puts(out, "<p class=\"leeg\">Deze week is er geen programma op deze plek.</p>\n");
	for (int d = 0; d < 7; d++) {
		plein_date day = plein_date_add(monday, d);
		char date[11];
		size_t n = 0;
		plein_date_format(date, day);
		for (size_t i = 0; i < sc.n; i++)
			n += strcmp(sc.items[i].date, date) == 0;
		if (!n)
			continue;
		plein_buf_printf(out, "<section class=\"dag\" data-date=\"%s\"><h2>", date);
		char head[64];
		snprintf(head, sizeof head, "%s", html_day_name(day));
		head[0] = (char)toupper((unsigned char)head[0]);
		plein_buf_printf(out, "%s %d %s</h2>\n", head, day.day, html_month_name(day.month));
		for (int p = 0; p < HTML_NDAYPARTS; p++) {
			size_t k = 0;
			for (size_t i = 0; i < sc.n; i++)
				k += strcmp(sc.items[i].date, date) == 0 && html_daypart(sc.items[i].start) == p;
			if (!k)
				continue;
			plein_buf_printf(out, "<h3>%s", html_daypart_name(p));
			const char *theme = html_dominant_theme(sc.items, sc.n, date, p);
			if (theme) {
				plein_buf_puts(out, " <span class=\"thema-dagdeel\">&middot; thema ");
				html_text(out, html_theme_label(&themes, theme));
				plein_buf_puts(out, "</span>");
			}
			plein_buf_puts(out, "</h3>\n<table><tr class=\"kop\"><th class=\"kop\">Wanneer</th><th class=\"kop\">Wat</th>"
					    "<th class=\"kop\">Wie</th><th class=\"kop\">Waar</th></tr>\n");
			for (size_t i = 0; i < sc.n; i++)
				if (strcmp(sc.items[i].date, date) == 0 && html_daypart(sc.items[i].start) == p)
					row(out, &sc.items[i], &themes);
			plein_buf_puts(out, "</table>\n");
		}
		plein_buf_puts(out, "</section>\n");
	}
	plein_buf_puts(out, "<footer>Iedereen is welkom, zonder afspraak tenzij anders vermeld. Met een vraag kunt u altijd "
			    "terecht bij de balie; wij helpen u verder of brengen u in contact met de juiste partner.</footer>\n"
			    "</div></body></html>\n");
cleanup:
	plein_schedule_free(&sc);
	html_themes_free(&themes);
	free(name);
	free(tz);
	return rc;
}
