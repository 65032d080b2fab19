/* Shared pieces of the pages (board and folder): HTML escaping, Dutch
 * dates, day-parts and theme labels. Private to src/http. */
#ifndef PLEIN_HTTP_HTML_H
#define PLEIN_HTTP_HTML_H

#include <stdint.h>

#include "plein/buf.h"
#include "plein/rrule.h"
#include "plein/schedule.h"
#include "plein/site.h"

/* Text as HTML character data or attribute value: & < > " ' escaped. */
void html_text(plein_buf *b, const char *s);

/* "dinsdag", "november" (d.month 1..12). */
const char *html_day_name(plein_date d);
const char *html_month_name(int month);
/* "dinsdag 24 november" (+ " 2026" with_year). */
void html_date(plein_buf *b, plein_date d, int with_year);

/* Day-parts of the guide, by local start time: ochtend (before 12:00),
 * middag (before 18:00), avond. */
enum { HTML_OCHTEND, HTML_MIDDAG, HTML_AVOND, HTML_NDAYPARTS };
int html_daypart(const char *hhmm);
const char *html_daypart_name(int part); /* "ochtend", ... */

/* The theme that most occurrences of occ[0..n) in that day-part share,
 * when it is more than half of them (cancelled ones left out); NULL
 * otherwise. Lent from occ. */
const char *html_dominant_theme(const plein_occurrence *occ, size_t n, const char *date, int part);

/* A location's name and time zone (malloc'd; tz defaults to
 * Europe/Amsterdam). PLEIN_ENOTFOUND for an unknown id. */
int html_location(plein_site *s, const char *id, char **name, char **tz);

/* Theme labels of the site (code -> Dutch label), loaded once per page. */
typedef struct {
	char **code, **label;
	size_t n;
} html_themes;
int html_themes_load(html_themes *t, plein_site *s);
/* The label of code, or code itself (lent); "" for NULL. */
const char *html_theme_label(const html_themes *t, const char *code);
void html_themes_free(html_themes *t);

/* A CSS class name for a theme code: "t-werk", or "t-other". */
void html_theme_class(plein_buf *b, const char *code);
/* The CSS colour rules for the theme classes. */
void html_theme_css(plein_buf *b, int print);

/* What changed about an occurrence, for people: "Vervalt: reason",
 * "Verplaatst van dinsdag 24 november: reason", "Verplaatst: reason"
 * (cancelled_text for the first word when cancelled). Nothing for a
 * planned one. */
void html_change_note(plein_buf *b, const plein_occurrence *o, const char *cancelled_text);

/* The local date at utc in tz. */
int html_local_date(plein_date *out, const char *tz, int64_t utc);

#endif
