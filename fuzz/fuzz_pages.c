/* libFuzzer target for what the pages and the feed take from outside: the
 * query parameters of /folder, /board and /schedule.ics (docs/pages.md,
 * docs/ics.md).
 *
 * Input: up to three fields separated by NUL bytes: the week, the location
 * id, the theme. Against a small site made once (a location "L" with a
 * weekly rule, a cancelled and a moved date), the target renders the folder
 * of that week, the board of that location at a time taken from the input,
 * and the feed filtered by that theme and location. What must hold: every
 * call ends in 0 or a refusal with a message (PLEIN_EINVAL, PLEIN_ENOTFOUND);
 * a week that renders is well formed (YYYY-Www); what is rendered never
 * carries the input's '<' unescaped.
 *
 * PLEIN_FUZZ_SEEDS=DIR writes a seed corpus to DIR and exits. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plein/error.h"
#include "plein/ics.h"
#include "plein/pages.h"
#include "plein/site.h"

#include "seed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static plein_site *site;

static void write_seeds(const char *dir)
{
	static const char *const seeds[][3] = {
		{ "2026-W48", "L", "geld" }, { "2026-W53", "L", "taal" }, { "2027-W53", "X", "" },
		{ "2026-48", "", "<script>" }, { "9999-W01", "L", "geld" }, { "2020-W53", "L\"'&", "werk" },
	};
	for (size_t i = 0; i < sizeof seeds / sizeof *seeds; i++) {
		char name[32];
		snprintf(name, sizeof name, "seed-%zu", i);
		FILE *f = fuzz_seed_open(dir, name);
		for (int k = 0; k < 3; k++)
			fwrite(seeds[i][k], 1, strlen(seeds[i][k]) + (k < 2), f);
		fclose(f);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *seeds = getenv("PLEIN_FUZZ_SEEDS");
	if (seeds) {
		write_seeds(seeds);
		exit(0);
	}
	char dir[] = "/tmp/plein-fuzz-pages.XXXXXX";
	if (!mkdtemp(dir))
		abort();
	char sub[64];
	snprintf(sub, sizeof sub, "%s/s", dir);
	if (plein_site_create(&site, sub, "fuzz") < 0 ||
	    plein_db_exec(site->db,
		"INSERT INTO location(id, name, kind) VALUES ('L', 'Bibliotheek <Centrum> & \"zo\"', 'branch');"
		"INSERT INTO partner(id, name) VALUES ('P', 'Formulierenbrigade');"
		"INSERT INTO offering(id, partner_id, theme, kind, title) VALUES ('O', 'P', 'geld', 'spreekuur', 'Spreekuur <b>');"
		"INSERT INTO schedule_rule(id, offering_id, location_id, room, rrule, starts_at, ends_at, valid_from)"
		" VALUES ('R', 'O', 'L', 'leeshoek', 'FREQ=WEEKLY;BYDAY=TU,TH', '13:30', '16:00', '2026-01-01');"
		"INSERT INTO schedule_exception(id, rule_id, original_date, action, new_start, new_end, reason) VALUES"
		" ('E1', 'R', '2026-11-24', 'cancel', NULL, NULL, 'Ziek'),"
		" ('E2', 'R', '2026-11-26', 'move', '2026-11-27 09:00', '2026-11-27 11:00', 'Verbouwing');") < 0) {
		fprintf(stderr, "fuzz_pages: %s\n", plein_error());
		abort();
	}
	return 0;
}

static void check_rc(int rc, const char *what)
{
	if (rc == 0 || ((rc == PLEIN_EINVAL || rc == PLEIN_ENOTFOUND) && plein_error()[0]))
		return;
	fprintf(stderr, "fuzz_pages: %s returned %d (%s)\n", what, rc, plein_error());
	abort();
}

/* Each input field that has a '<' must not reach the page as one. */
static void check_escaped(const plein_buf *out, const char *field)
{
	if (!strchr(field, '<') || strlen(field) < 2)
		return;
	if (out->len && memmem(out->data, out->len, field, strlen(field))) {
		fprintf(stderr, "fuzz_pages: input '%s' appears unescaped\n", field);
		abort();
	}
}

static int well_formed_week(const char *w)
{
	if (strlen(w) != 8 || w[4] != '-' || w[5] != 'W')
		return 0;
	for (int i = 0; i < 8; i++)
		if (i != 4 && i != 5 && !isdigit((unsigned char)w[i]))
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 512)
		return 0;
	char buf[520], *field[3] = { "", "", "" };
	memcpy(buf, data, size);
	buf[size] = 0;
	field[0] = buf;
	for (int k = 1; k < 3; k++) {
		char *nul = memchr(field[k - 1], 0, (size_t)(buf + size - field[k - 1]));
		if (!nul || nul >= buf + size)
			break;
		field[k] = nul + 1;
	}
	plein_buf out = PLEIN_BUF_INIT;
	int rc = plein_page_folder(&out, site, "L", field[0]);
	check_rc(rc, "plein_page_folder");
	if (rc == 0 && !well_formed_week(field[0])) {
		fprintf(stderr, "fuzz_pages: week '%s' was taken\n", field[0]);
		abort();
	}
	plein_buf_reset(&out);
	/* A time in 2026, from the input's length and first bytes. */
	int64_t now = 1767225600 + (int64_t)(size * 7919 + (size ? data[0] : 0) * 3607) % (366 * 86400);
	check_rc(plein_page_board(&out, site, field[1], now), "plein_page_board");
	check_escaped(&out, field[1]);
	plein_buf_reset(&out);
	check_rc(plein_page_board_version(&out, site, field[1], now), "plein_page_board_version");
	plein_buf_reset(&out);
	plein_ics_filter f = { .location_id = field[1][0] ? field[1] : NULL, .theme = field[2][0] ? field[2] : NULL };
	check_rc(plein_ics_feed(&out, site->db, &f), "plein_ics_feed");
	plein_buf_free(&out);
	plein_error_clear();
	return 0;
}
