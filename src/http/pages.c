/* The board for the TV at the plein (include/plein/pages.h, docs/pages.md):
 * today's programme at one location, in three parts — Nu, Straks, Later
 * vandaag — in type large enough to read across the room. The folder is
 * in folder.c, the shared pieces in html.c. */
#include "plein/pages.h"

#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "plein/error.h"
#include "plein/schedule.h"
#include "plein/tz.h"

/* "Straks" is what starts within this time, or else the next start. */
#define NEXT_WINDOW_SEC (2 * 3600)

enum { PART_NOW, PART_NEXT, PART_LATER, PART_GONE };

static const char *const part_titles[] = { "Nu", "Straks", "Later vandaag" };
static const char *const part_classes[] = { "nu", "straks", "later" };

/* Where o stands at now; next_start is the first start after now. */
static int part_of(const plein_occurrence *o, int64_t now, int64_t next_start)
{
	if (o->end_utc <= now)
		return PART_GONE;
	if (o->start_utc <= now)
		return PART_NOW;
	if (o->start_utc <= now + NEXT_WINDOW_SEC || o->start_utc == next_start)
		return PART_NEXT;
	return PART_LATER;
}

static void item(plein_buf *b, const plein_occurrence *o, const html_themes *themes)
{
	const char *state = o->status == PLEIN_OCC_CANCELLED ? "vervalt" : o->status == PLEIN_OCC_MOVED ? "verplaatst" : "gepland";
	plein_buf_puts(b, "<li class=\"item ");
	plein_buf_puts(b, state);
	plein_buf_puts(b, "\" data-rule=\"");
	html_text(b, o->rule_id);
	plein_buf_printf(b, "\" data-date=\"%s\" data-start=\"%s\" data-status=\"%s\">", o->original_date, o->start, state);
	plein_buf_printf(b, "<div class=\"time\">%s<span class=\"end\">&ndash;%s</span></div>", o->start, o->end);
	plein_buf_puts(b, "<div class=\"what\"><div class=\"title\">");
	html_text(b, o->title ? o->title : "Activiteit");
	plein_buf_puts(b, "</div><div class=\"who\"><span class=\"theme ");
	html_theme_class(b, o->theme);
	plein_buf_puts(b, "\">");
	html_text(b, html_theme_label(themes, o->theme));
	plein_buf_puts(b, "</span>");
	html_text(b, o->partner ? o->partner : "");
	if (o->room) {
		plein_buf_puts(b, "<span class=\"room\">");
		html_text(b, o->room);
		plein_buf_puts(b, "</span>");
	}
	plein_buf_puts(b, "</div>");
	if (o->status != PLEIN_OCC_PLANNED) {
		plein_buf_puts(b, "<div class=\"note\">");
		html_change_note(b, o, "Vervalt vandaag");
		plein_buf_puts(b, "</div>");
	}
	plein_buf_puts(b, "</div></li>\n");
}

/* "Dinsdagmiddag: werk" for the day-part of the first thing on now or
 * next, when one theme has most of that day-part. */
static void daypart_band(plein_buf *b, const plein_schedule *sc, const int *parts, plein_date today,
			 const html_themes *themes)
{
	char date[11];
	int dp = -1;
	plein_date_format(date, today);
	for (size_t i = 0; i < sc->n && dp < 0; i++)
		if (parts[i] == PART_NOW || parts[i] == PART_NEXT)
			dp = html_daypart(sc->items[i].start);
	const char *theme = dp < 0 ? NULL : html_dominant_theme(sc->items, sc->n, date, dp);
	if (!theme)
		return;
	const char *day = html_day_name(today), *label = html_theme_label(themes, theme);
	plein_buf_puts(b, "<div class=\"daypart\"><span class=\"dot ");
	html_theme_class(b, theme);
	plein_buf_printf(b, "\"></span>%c%s%s: ", day[0] - 'a' + 'A', day + 1, html_daypart_name(dp));
	/* the theme as a word in the sentence: "werk", "vrije tijd" */
	if (label[0] >= 'A' && label[0] <= 'Z') {
		plein_buf_putc(b, label[0] - 'A' + 'a');
		label++;
	}
	html_text(b, label);
	plein_buf_puts(b, "</div>\n");
}

/* The part of the page that depends on the data (and the time): what the
 * version token covers. */
static int board_content(plein_buf *b, plein_site *s, const char *location, int64_t now, plein_date today)
{
	plein_schedule sc;
	html_themes themes;
	int rc = plein_schedule_list(&sc, s, location, today, today);
	if (rc < 0)
		return rc;
	if ((rc = html_themes_load(&themes, s)) < 0) {
		plein_schedule_free(&sc);
		return rc;
	}
	int *parts = plein_xcalloc(sc.n ? sc.n : 1, sizeof *parts);
	int64_t next_start = INT64_MAX;
	int count[3] = { 0, 0, 0 };
	for (size_t i = 0; i < sc.n; i++)
		if (sc.items[i].start_utc > now && sc.items[i].status != PLEIN_OCC_CANCELLED &&
		    sc.items[i].start_utc < next_start)
			next_start = sc.items[i].start_utc;
	for (size_t i = 0; i < sc.n; i++) {
		parts[i] = part_of(&sc.items[i], now, next_start);
		if (parts[i] != PART_GONE)
			count[parts[i]]++;
	}
	daypart_band(b, &sc, parts, today, &themes);
	plein_buf_puts(b, "<main>\n");
	if (!count[PART_NOW] && !count[PART_NEXT] && !count[PART_LATER]) {
		plein_buf_puts(b, "<section class=\"leeg\"><p>Vandaag is er verder geen programma.</p>"
				  "<p class=\"sub\">Kijk in de folder wat er deze week is, of vraag het bij de balie.</p></section>\n");
	} else {
		for (int p = PART_NOW; p <= PART_LATER; p++) {
			if (p != PART_NOW && !count[p])
				continue;
			plein_buf_printf(b, "<section class=\"%s\"><h2>%s</h2>\n", part_classes[p], part_titles[p]);
			if (!count[p])
				plein_buf_puts(b, "<p class=\"rust\">Op dit moment geen spreekuur of activiteit.</p>\n");
			else
				plein_buf_puts(b, "<ul>\n");
			for (size_t i = 0; i < sc.n; i++)
				if (parts[i] == p)
					item(b, &sc.items[i], &themes);
			if (count[p])
				plein_buf_puts(b, "</ul>\n");
			plein_buf_puts(b, "</section>\n");
		}
	}
	plein_buf_puts(b, "</main>\n");
	free(parts);
	html_themes_free(&themes);
	plein_schedule_free(&sc);
	return 0;
}

typedef struct {
	char *name, *tz;
	plein_date today;
	plein_buf content;
	char token[17];
} board;

static void board_free(board *bd)
{
	free(bd->name);
	free(bd->tz);
	plein_buf_free(&bd->content);
}

static int board_build(board *bd, plein_site *s, const char *location, int64_t now)
{
	int rc;
	memset(bd, 0, sizeof *bd);
	if ((rc = html_location(s, location, &bd->name, &bd->tz)) < 0 ||
	    (rc = html_local_date(&bd->today, bd->tz, now)) < 0 ||
	    (rc = board_content(&bd->content, s, location, now, bd->today)) < 0)
		return rc;
	/* The token: a hash of everything shown but the clock. */
	unsigned char h[8];
	char date[11];
	crypto_generichash_state st;
	plein_date_format(date, bd->today);
	crypto_generichash_init(&st, NULL, 0, sizeof h);
	crypto_generichash_update(&st, (const unsigned char *)bd->name, strlen(bd->name) + 1);
	crypto_generichash_update(&st, (const unsigned char *)date, sizeof date);
	crypto_generichash_update(&st, bd->content.data, bd->content.len);
	crypto_generichash_final(&st, h, sizeof h);
	sodium_bin2hex(bd->token, sizeof bd->token, h, sizeof h);
	return 0;
}

static const char board_css[] =
	"*{box-sizing:border-box;margin:0;padding:0}\n"
	"html{background:#0b1f33;color:#fff;font-family:\"DejaVu Sans\",\"Liberation Sans\",Arial,sans-serif;"
	"font-size:min(1.3vw,2.4vh);line-height:1.25}\n"
	"body{min-height:100vh;display:flex;flex-direction:column;padding:1.4rem 2rem}\n"
	"header{display:flex;justify-content:space-between;align-items:flex-end;border-bottom:.15rem solid #f6c343;"
	"padding-bottom:.6rem}\n"
	".brand{font-size:1.1rem;letter-spacing:.12em;text-transform:uppercase;color:#f6c343;font-weight:bold}\n"
	"h1{font-size:2.4rem;line-height:1.1}\n"
	".when{text-align:right;white-space:nowrap}.date{font-size:1.3rem}.clock{font-size:2.6rem;font-weight:bold;line-height:1}\n"
	".daypart{margin-top:.8rem;font-size:1.4rem;font-weight:bold}\n"
	".dot{display:inline-block;width:1.1rem;height:1.1rem;border-radius:50%;margin-right:.5rem;vertical-align:-.1rem}\n"
	"main{flex:1;display:grid;grid-template-columns:repeat(3,minmax(0,1fr));gap:1.4rem;margin-top:1rem;align-items:start}\n"
	"main>section{min-width:0}section.leeg{grid-column:span 3;margin-top:3rem;text-align:center;font-size:2rem}\n"
	".leeg .sub{font-size:1.2rem;color:#c9d6e3;margin-top:1rem}\n"
	"h2{font-size:1.5rem;color:#f6c343;margin-bottom:.5rem}\n"
	"ul{list-style:none}\n"
	".item{display:grid;grid-template-columns:4.6rem 1fr;gap:.2rem .8rem;align-items:start;"
	"background:#15324f;border-radius:.5rem;padding:.7rem 1rem;margin-bottom:.6rem}\n"
	".nu .item{background:#1d4470;padding:1rem 1.1rem}.nu .title{font-size:1.45rem}\n"
	".time{font-size:1.35rem;font-weight:bold}.time .end{display:block;font-size:.9rem;font-weight:normal;color:#c9d6e3}\n"
	".title{font-size:1.3rem;font-weight:bold;overflow-wrap:anywhere}.who{color:#dbe6f0}\n"
	".room::before{content:\" \\00B7  \"}\n"
	".note{margin-top:.2rem;color:#ffd98a;font-weight:bold}\n"
	".theme{display:inline-block;margin-right:.5rem;font-size:.8rem;font-weight:bold;padding:0 .55rem;border-radius:1rem;"
	"vertical-align:.08rem;color:#fff}\n"
	".vervalt .title,.vervalt .time{text-decoration:line-through;color:#9fb3c8}.vervalt .note{color:#ff9b9b}\n"
	".rust{color:#c9d6e3;font-size:1.2rem}\n"
	".later .item{padding:.45rem 1rem;margin-bottom:.4rem}.later .title{font-size:1.15rem}\n"
	"footer{margin-top:1rem;font-size:1rem;color:#c9d6e3;border-top:.1rem solid #2a4a6b;padding-top:.5rem}\n";

/* A few lines of script, served over HTTP only: keep the clock, and
 * reload when the token of /board/version changes. */
static const char board_js[] =
	"(function(){var b=document.body,v=b.getAttribute('data-version'),l=b.getAttribute('data-location');\n"
	"if(!/^https?:$/.test(location.protocol))return;\n"
	"var c=document.getElementById('klok');\n"
	"setInterval(function(){var d=new Date();c.textContent=('0'+d.getHours()).slice(-2)+':'+('0'+d.getMinutes()).slice(-2);},10000);\n"
	"setInterval(function(){fetch('/board/version?location='+encodeURIComponent(l),{cache:'no-store'})"
	".then(function(r){return r.ok?r.text():null;}).then(function(t){if(t&&t.trim()!==v)location.reload();})"
	".catch(function(){});},30000);})();\n";

int plein_page_board(plein_buf *out, plein_site *s, const char *location_id, int64_t now)
{
	board bd;
	struct tm l;
	int rc = board_build(&bd, s, location_id, now);
	if (rc == 0)
		rc = plein_tz_utc_to_local(bd.tz, now, &l);
	if (rc < 0) {
		board_free(&bd);
		return rc;
	}
	plein_buf_puts(out, "<!DOCTYPE html>\n<html lang=\"nl\"><head><meta charset=\"utf-8\">"
			    "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>Programma vandaag &ndash; ");
	html_text(out, bd.name);
	plein_buf_printf(out, "</title>\n<style>\n%s", board_css);
	html_theme_css(out, 0);
	plein_buf_printf(out, "</style></head>\n<body data-version=\"%s\" data-location=\"", bd.token);
	html_text(out, location_id);
	plein_buf_puts(out, "\">\n<header><div class=\"where\"><div class=\"brand\">Ontwikkelplein</div><h1>");
	html_text(out, bd.name);
	plein_buf_puts(out, "</h1></div><div class=\"when\"><div class=\"date\">");
	html_date(out, bd.today, 0);
	plein_buf_printf(out, "</div><div class=\"clock\" id=\"klok\">%02u:%02u</div></div></header>\n",
			 (unsigned)l.tm_hour % 24u, (unsigned)l.tm_min % 60u);
	plein_buf_put(out, bd.content.data, bd.content.len);
	plein_buf_puts(out, "<footer>Welkom! Met een vraag kunt u altijd terecht bij de balie.</footer>\n<script>\n");
	plein_buf_puts(out, board_js);
	plein_buf_puts(out, "</script>\n</body></html>\n");
	board_free(&bd);
	return 0;
}

int plein_page_board_version(plein_buf *out, plein_site *s, const char *location_id, int64_t now)
{
	board bd;
	int rc = board_build(&bd, s, location_id, now);
	if (rc == 0)
		plein_buf_puts(out, bd.token);
	board_free(&bd);
	return rc;
}
