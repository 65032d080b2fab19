/* Reports: exact counts per dimension and per combination, over visits
 * with several questions each, around month ends and the October DST
 * change, where the local (Europe/Amsterdam) month or date differs from
 * the UTC one. */
#include <sqlite3.h>

#include <math.h>

#include "harness.h"
#include "plein/report.h"
#include "util.h"

/* Local times in the comments are Europe/Amsterdam: CEST (+2) until
 * 2026-10-25 01:00Z, CET (+1) after. */
static const char fixture[] =
	"INSERT INTO location(id, name, kind) VALUES"
	" ('L1', 'Bibliotheek Hengelo Centrum', 'branch'), ('L2', 'Wijkgebouw De Kern', 'community');"
	"INSERT INTO partner(id, name) VALUES ('P1', 'Taalhuis'), ('P2', 'Juridisch Loket');"
	"INSERT INTO visit(id, location_id, at) VALUES"
	" ('v01', 'L1', '2026-09-30T21:59:00Z'),"      /* 09-30 23:59 */
	" ('v02', 'L1', '2026-09-30T22:30:00Z'),"      /* 10-01 00:30: October, UTC says September */
	" ('v03', 'L2', '2026-10-24T21:59:59Z'),"      /* 10-24 23:59:59 */
	" ('v04', 'L2', '2026-10-24T22:00:00Z'),"      /* 10-25 00:00, the DST day */
	" ('v05', 'L1', '2026-10-25T22:59:59Z'),"      /* 10-25 23:59:59, the DST day */
	" ('v06', 'L2', '2026-10-25T23:00:00Z'),"      /* 10-26 00:00 */
	" ('v07', 'L1', '2026-10-31T22:59:59Z'),"      /* 10-31 23:59:59 */
	" ('v08', 'L2', '2026-10-31T23:30:00Z'),"      /* 11-01 00:30: November, UTC says October */
	" ('v09', 'L1', '2026-11-01T00:10:00+01:00')," /* 11-01 00:10, written with an offset */
	" ('v10', NULL, NULL),"                        /* not recorded */
	" ('v11', 'L1', '2026-11-02T10:00:00Z');"      /* no questions */
	"INSERT INTO question(id, visit_id, theme, agency, partner_id, solved, referral_id) VALUES"
	" ('q01', 'v01', 'werk', 'uwv', NULL, 1, NULL),"
	" ('q02', 'v02', 'werk', 'uwv', 'P2', 0, 'r1'),"
	" ('q03', 'v02', 'geld', 'belastingdienst', NULL, 1, NULL),"
	" ('q04', 'v03', 'taal', NULL, 'P1', 1, NULL),"
	" ('q05', 'v04', 'taal', NULL, 'P1', 0, NULL),"   /* referred through referral.question_id only */
	" ('q06', 'v04', 'digitaal', 'digid', NULL, 1, NULL),"
	" ('q07', 'v04', 'digitaal', 'digid', NULL, 0, NULL),"
	" ('q08', 'v05', 'geld', 'toeslagen', NULL, 1, NULL),"
	" ('q09', 'v06', 'werk', NULL, NULL, 0, 'r3'),"
	" ('q10', 'v07', 'digitaal', 'digid', NULL, 1, NULL),"
	" ('q11', 'v08', 'geld', 'belastingdienst', 'P2', 0, 'r4'),"
	" ('q12', 'v08', 'werk', 'uwv', '', 1, NULL),"    /* empty partner id counts as none */
	" ('q13', 'v09', 'donor', NULL, NULL, 1, NULL),"  /* a theme this site has no term for */
	" ('q14', 'v10', NULL, NULL, NULL, NULL, NULL);"
	"INSERT INTO referral(id, question_id, status, created_at, contact) VALUES"
	" ('r1', 'q02', 'new', '2026-09-30T22:35:00Z', x'5345435245'),"  /* 10-01 00:35 */
	" ('r2', 'q05', 'contacted', '2026-10-24T22:05:00Z', NULL),"     /* 10-25 00:05 */
	" ('r3', 'q09', 'done', '2026-10-25T23:05:00Z', NULL),"          /* 10-26 00:05 */
	" ('r4', 'q11', 'unreachable', '2026-10-31T23:35:00Z', NULL),"   /* 11-01 00:35 */
	" ('r5', NULL, 'appointment', '2026-10-10T10:00:00Z', NULL),"
	" ('r6', NULL, 'declined', '2026-09-01T10:00:00Z', NULL);";

static plein_site *fixture_site(char *dir)
{
	plein_site *s = test_site(dir);
	if (s && plein_db_exec(s->db, fixture) < 0) {
		printf("# fixture: %s\n", plein_error());
		plein_site_close(s);
		return NULL;
	}
	return s;
}

/* Run a report; by is a space-separated list of dimensions. */
static plein_report *run(plein_site *s, const char *by, const char *from, const char *to)
{
	char buf[128];
	const char *dims[PLEIN_REPORT_NDIMS];
	int n = 0;
	snprintf(buf, sizeof buf, "%s", by ? by : "");
	for (char *t = strtok(buf, " "); t && n < PLEIN_REPORT_NDIMS; t = strtok(NULL, " "))
		dims[n++] = t;
	plein_report_query q;
	plein_report *r = NULL;
	if (plein_report_query_init(&q, dims, n, from, to) < 0 || plein_report_run(&r, s->db, &q) < 0) {
		printf("# report: %s\n", plein_error());
		return NULL;
	}
	return r;
}

/* "label|label:visits/questions/solved/referred; ..." in report order. */
static const char *rows(const plein_report *r)
{
	static char out[2048];
	size_t len = 0;
	out[0] = 0;
	for (size_t n = 0; n < r->nrows; n++) {
		const plein_report_row *row = &r->rows[n];
		len += (size_t)snprintf(out + len, sizeof out - len, "%s", n ? "; " : "");
		for (int i = 0; i < r->query.nby; i++)
			len += (size_t)snprintf(out + len, sizeof out - len, "%s%s", i ? "|" : "", row->label[i]);
		len += (size_t)snprintf(out + len, sizeof out - len, ":%lld/%lld/%lld/%lld", (long long)row->visits,
					(long long)row->questions, (long long)row->solved, (long long)row->referred);
	}
	return out;
}

static const char *total(const plein_report *r)
{
	static char out[128];
	snprintf(out, sizeof out, "%lld/%lld/%lld/%lld", (long long)r->total.visits, (long long)r->total.questions,
		 (long long)r->total.solved, (long long)r->total.referred);
	return out;
}

/* "new=1 contacted=0 ..." */
static const char *referrals(const plein_report *r)
{
	static char out[256];
	size_t len = 0;
	out[0] = 0;
	for (int i = 0; i < PLEIN_REPORT_NSTATUS; i++)
		if (r->referrals[i].status || r->referrals[i].count)
			len += (size_t)snprintf(out + len, sizeof out - len, "%s%s=%lld", len ? " " : "",
						r->referrals[i].status ? r->referrals[i].status : "?",
						(long long)r->referrals[i].count);
	return out;
}

TEST(by_theme_counts_visits_once_per_theme)
{
	char dir[256];
	plein_site *s = fixture_site(dir);
	CHECK(s != NULL);
	plein_report *r = run(s, NULL, NULL, NULL); /* the default: by theme */
	CHECK(r != NULL);
	CHECK_EQ_INT(r->query.nby, 1);
	CHECK_EQ_INT(r->query.by[0], PLEIN_REPORT_THEME);
	CHECK_STR(rows(r), "Digitaal:2/3/2/0; donor:1/1/1/0; Geld:3/3/2/1; Taal:2/2/1/1; Werk:4/4/2/2; (onbekend):2/1/0/0");
	CHECK_STR(r->rows[0].key[0], "digitaal");
	CHECK(r->rows[5].key[0] == NULL);
	/* v02 has werk and geld: in both rows, once in the total. */
	CHECK_STR(total(r), "11/14/8/4");
	plein_report_free(r);
	plein_site_close(s);
	test_rmdir(dir);
}

TEST(by_month_uses_the_local_month)
{
	char dir[256];
	plein_site *s = fixture_site(dir);
	CHECK(s != NULL);
	plein_report *r = run(s, "month", NULL, NULL);
	CHECK(r != NULL);
	/* v02 (UTC September) is October; v08 and v09 (UTC October) are November. */
	CHECK_STR(rows(r), "2026-09:1/1/1/0; 2026-10:6/9/5/3; 2026-11:3/3/2/1; (onbekend):1/1/0/0");
	CHECK_STR(r->rows[2].key[0], "2026-11");
	plein_report_free(r);
	plein_site_close(s);
	test_rmdir(dir);
}

TEST(by_location_partner_and_agency)
{
	char dir[256];
	plein_site *s = fixture_site(dir);
	CHECK(s != NULL);
	plein_report *r = run(s, "location", NULL, NULL);
	CHECK(r != NULL);
	CHECK_STR(rows(r), "Bibliotheek Hengelo Centrum:6/6/5/1; Wijkgebouw De Kern:4/7/3/3; (onbekend):1/1/0/0");
	CHECK_STR(r->rows[1].key[0], "L2");
	plein_report_free(r);

	r = run(s, "partner", NULL, NULL);
	CHECK(r != NULL);
	CHECK_STR(rows(r), "Juridisch Loket:2/2/0/2; Taalhuis:2/2/1/1; (geen):10/10/7/1");
	plein_report_free(r);

	r = run(s, "agency", NULL, NULL);
	CHECK(r != NULL);
	CHECK_STR(rows(r), "Belastingdienst:2/2/1/1; DigiD:2/3/2/0; Toeslagen:1/1/1/0; UWV:3/3/2/1; (geen):6/5/2/2");
	plein_report_free(r);
	plein_site_close(s);
	test_rmdir(dir);
}

TEST(two_dimensions_give_a_cross_table)
{
	char dir[256];
	plein_site *s = fixture_site(dir);
	CHECK(s != NULL);
	plein_report *r = run(s, "location theme", NULL, NULL);
	CHECK(r != NULL);
	CHECK_STR(rows(r),
		  "Bibliotheek Hengelo Centrum|Digitaal:1/1/1/0; Bibliotheek Hengelo Centrum|donor:1/1/1/0; "
		  "Bibliotheek Hengelo Centrum|Geld:2/2/2/0; Bibliotheek Hengelo Centrum|Werk:2/2/1/1; "
		  "Bibliotheek Hengelo Centrum|(onbekend):1/0/0/0; "
		  "Wijkgebouw De Kern|Digitaal:1/2/1/0; Wijkgebouw De Kern|Geld:1/1/0/1; Wijkgebouw De Kern|Taal:2/2/1/1; "
		  "Wijkgebouw De Kern|Werk:2/2/1/1; (onbekend)|(onbekend):1/1/0/0");
	CHECK_STR(total(r), "11/14/8/4");
	plein_report_free(r);

	r = run(s, "month agency", "2026-10-01", "2026-11-30");
	CHECK(r != NULL);
	CHECK_STR(rows(r), "2026-10|Belastingdienst:1/1/1/0; 2026-10|DigiD:2/3/2/0; 2026-10|Toeslagen:1/1/1/0; "
			   "2026-10|UWV:1/1/0/1; 2026-10|(geen):3/3/1/2; 2026-11|Belastingdienst:1/1/0/1; "
			   "2026-11|UWV:1/1/1/0; 2026-11|(geen):2/1/1/0");
	plein_report_free(r);
	plein_site_close(s);
	test_rmdir(dir);
}

TEST(from_and_to_are_local_dates_across_the_dst_change)
{
	char dir[256];
	plein_site *s = fixture_site(dir);
	CHECK(s != NULL);
	/* 2026-10-25 has 25 hours: 2026-10-24T22:00Z up to 2026-10-25T23:00Z. */
	plein_report *r = run(s, "theme", "2026-10-25", "2026-10-25");
	CHECK(r != NULL);
	CHECK_STR(rows(r), "Digitaal:1/2/1/0; Geld:1/1/1/0; Taal:1/1/0/1");
	CHECK_STR(total(r), "2/4/2/1");
	plein_report_free(r);

	r = run(s, "month", "2026-10-01", "2026-10-31");
	CHECK(r != NULL);
	CHECK_STR(rows(r), "2026-10:6/9/5/3");
	plein_report_free(r);

	r = run(s, "month", "2026-11-01", NULL);
	CHECK(r != NULL);
	CHECK_STR(rows(r), "2026-11:3/3/2/1");
	plein_report_free(r);

	r = run(s, "month", NULL, "2026-09-30");
	CHECK(r != NULL);
	CHECK_STR(rows(r), "2026-09:1/1/1/0");
	plein_report_free(r);

	r = run(s, "theme", "2027-01-01", "2027-12-31");
	CHECK(r != NULL);
	CHECK_EQ_INT(r->nrows, 0);
	CHECK_STR(total(r), "0/0/0/0");
	plein_report_free(r);
	plein_site_close(s);
	test_rmdir(dir);
}

TEST(referral_outcomes_of_the_period)
{
	char dir[256];
	plein_site *s = fixture_site(dir);
	CHECK(s != NULL);
	plein_report *r = run(s, NULL, NULL, NULL);
	CHECK(r != NULL);
	CHECK_STR(referrals(r), "new=1 contacted=1 appointment=1 done=1 declined=1 unreachable=1");
	plein_report_free(r);

	/* Created on local dates: r1 on 10-01, r3 on 10-26, r4 on 11-01. */
	r = run(s, NULL, "2026-10-01", "2026-10-31");
	CHECK(r != NULL);
	CHECK_STR(referrals(r), "new=1 contacted=1 appointment=1 done=1 declined=0 unreachable=0");
	plein_report_free(r);

	/* A status not (yet) known here: a row whose status has not arrived. */
	CHECK_OK(plein_db_exec(s->db, "INSERT INTO referral(id, status, created_at) VALUES ('r7', NULL, '2026-10-02T10:00:00Z')"));
	r = run(s, NULL, "2026-10-01", "2026-10-01");
	CHECK(r != NULL);
	CHECK_STR(referrals(r), "new=1 contacted=0 appointment=0 done=0 declined=0 unreachable=0");
	plein_report_free(r);
	r = run(s, NULL, "2026-10-02", "2026-10-02");
	CHECK(r != NULL);
	CHECK_STR(referrals(r), "new=0 contacted=0 appointment=0 done=0 declined=0 unreachable=0 ?=1");
	plein_report_free(r);
	plein_site_close(s);
	test_rmdir(dir);
}

TEST(bad_queries_are_refused_with_a_message)
{
	plein_report_query q;
	const char *bad[] = { "thema" };
	CHECK_EQ_INT(plein_report_query_init(&q, bad, 1, NULL, NULL), PLEIN_EINVAL);
	CHECK(strstr(plein_error(), "'thema'") && strstr(plein_error(), "theme, location, partner, agency, kind or month"));
	const char *twice[] = { "theme", "location", "theme" };
	CHECK_EQ_INT(plein_report_query_init(&q, twice, 3, NULL, NULL), PLEIN_EINVAL);
	CHECK(strstr(plein_error(), "twice") != NULL);
	CHECK_EQ_INT(plein_report_query_init(&q, NULL, 0, "2026-02-30", NULL), PLEIN_EINVAL);
	CHECK(strstr(plein_error(), "2026-02-30") != NULL);
	CHECK_EQ_INT(plein_report_query_init(&q, NULL, 0, NULL, "1-1-2026"), PLEIN_EINVAL);
	CHECK_EQ_INT(plein_report_query_init(&q, NULL, 0, "2026-11-02", "2026-11-01"), PLEIN_EINVAL);
	CHECK(strstr(plein_error(), "ends before it begins") != NULL);
	const char *all[] = { "month", "agency", "partner", "location", "theme" };
	CHECK_OK(plein_report_query_init(&q, all, 5, "2026-11-01", "2026-11-01"));
	CHECK_EQ_INT(q.nby, 5);
	CHECK_EQ_INT(q.by[0], PLEIN_REPORT_MONTH);
	CHECK_STR(q.from, "2026-11-01");
}

TEST(five_dimensions_and_the_sql_functions_are_gone_after)
{
	char dir[256];
	plein_site *s = fixture_site(dir);
	CHECK(s != NULL);
	plein_report *r = run(s, "month agency partner location theme", "2026-11-01", NULL);
	CHECK(r != NULL);
	CHECK_STR(rows(r), "2026-11|Belastingdienst|Juridisch Loket|Wijkgebouw De Kern|Geld:1/1/0/1; "
			   "2026-11|UWV|(geen)|Wijkgebouw De Kern|Werk:1/1/1/0; "
			   "2026-11|(geen)|(geen)|Bibliotheek Hengelo Centrum|donor:1/1/1/0; "
			   "2026-11|(geen)|(geen)|Bibliotheek Hengelo Centrum|(onbekend):1/0/0/0");
	plein_report_free(r);
	/* The month function pointed at the run's cache: it must not outlive it. */
	sqlite3_stmt *st = NULL;
	CHECK(sqlite3_prepare_v2(plein_db_handle(s->db), "SELECT plein_report_month('2026-11-01T00:00:00Z')", -1, &st, NULL) != SQLITE_OK);
	sqlite3_finalize(st);
	plein_site_close(s);
	test_rmdir(dir);
}

TEST(json_document_exact)
{
	char dir[256];
	plein_site *s = fixture_site(dir);
	CHECK(s != NULL);
	plein_report *r = run(s, "agency", "2026-10-25", "2026-10-25");
	CHECK(r != NULL);
	plein_buf out = PLEIN_BUF_INIT;
	plein_report_json(&out, r);
	static const char head[] =
		"{\"from\":\"2026-10-25\",\"to\":\"2026-10-25\",\"tz\":\"Europe/Amsterdam\",\"by\":[\"agency\"],\"rows\":["
		"{\"agency\":\"digid\",\"agency_label\":\"DigiD\",\"visits\":1,\"questions\":2,\"solved\":1,\"referred\":0},"
		"{\"agency\":\"toeslagen\",\"agency_label\":\"Toeslagen\",\"visits\":1,\"questions\":1,\"solved\":1,\"referred\":0},"
		"{\"agency\":null,\"agency_label\":\"(geen)\",\"visits\":1,\"questions\":1,\"solved\":0,\"referred\":1}],"
		"\"total\":{\"visits\":2,\"questions\":4,\"solved\":2,\"referred\":1},\"referrals\":["
		"{\"status\":\"new\",\"label\":\"nieuw\",\"count\":0,\"closed\":0,\"median_days\":null,\"avg_days\":null},"
		"{\"status\":\"contacted\",\"label\":\"contact gelegd\",\"count\":1,\"closed\":0,\"median_days\":null,\"avg_days\":null},";
	const char *doc = plein_buf_cstr(&out);
	CHECK(strncmp(doc, head, strlen(head)) == 0);
	CHECK(strstr(doc, "\"referrals_by_partner\":[{\"partner\":null,\"partner_label\":\"(geen)\",\"count\":1,\"new\":0,"
			  "\"contacted\":1,\"appointment\":0,\"done\":0,\"declined\":0,\"unreachable\":0,\"closed\":0,"
			  "\"median_days\":null,\"avg_days\":null}],\"signups\":[],\"ido\":{\"agencies\":[") != NULL);
	CHECK(strstr(doc, "{\"agency\":\"gemeente\",\"agency_label\":\"Gemeente\",\"visits\":0,\"questions\":0,\"solved\":0,"
			  "\"referred\":0},{\"agency\":null,\"agency_label\":\"(geen)\",\"visits\":1,\"questions\":1,\"solved\":0,"
			  "\"referred\":1}],\"kinds\":[{\"kind\":\"informatie\"") != NULL);
	CHECK(strstr(doc, "{\"kind\":null,\"kind_label\":\"(onbekend)\",\"visits\":2,\"questions\":4,\"solved\":2,\"referred\":1}]}}\n") != NULL);
	/* The sealed contact of r1 is never read, let alone shown. */
	plein_report_free(r);
	r = run(s, "theme", NULL, NULL);
	CHECK(r != NULL);
	plein_buf_reset(&out);
	plein_report_json(&out, r);
	CHECK(strstr(plein_buf_cstr(&out), "SECRE") == NULL);
	plein_buf_free(&out);
	plein_report_free(r);
	plein_site_close(s);
	test_rmdir(dir);
}

TEST(csv_quotes_per_rfc4180)
{
	char dir[256];
	plein_site *s = test_site(dir);
	CHECK(s != NULL);
	CHECK_OK(plein_db_exec(s->db,
		"INSERT INTO location(id, name, kind) VALUES ('A', 'Wijkcentrum \"Het Anker\", Borne', 'community'),"
		" ('B', 'Twee' || char(10) || 'regels', 'mobile');"
		"INSERT INTO visit(id, location_id, at) VALUES ('v1', 'A', '2026-11-24T09:00:00Z'), ('v2', 'B', '2026-11-24T10:00:00Z');"
		"INSERT INTO question(id, visit_id, theme, solved) VALUES ('q1', 'v1', 'wonen', 1), ('q2', 'v2', 'wonen', 0);"));
	plein_report *r = run(s, "location theme", NULL, NULL);
	CHECK(r != NULL);
	plein_buf out = PLEIN_BUF_INIT;
	plein_report_csv(&out, r);
	CHECK_STR(plein_buf_cstr(&out),
		  "location,location_label,theme,theme_label,visits,questions,solved,referred\r\n"
		  "B,\"Twee\nregels\",wonen,Wonen,1,1,0,0\r\n"
		  "A,\"Wijkcentrum \"\"Het Anker\"\", Borne\",wonen,Wonen,1,1,1,0\r\n");
	plein_buf_reset(&out);
	plein_report_referrals_csv(&out, r);
	CHECK_STR(plein_buf_cstr(&out), "status,label,count,closed,median_days,avg_days\r\nnew,nieuw,0,0,,\r\n"
					"contacted,contact gelegd,0,0,,\r\nappointment,afspraak gemaakt,0,0,,\r\n"
					"done,afgerond,0,0,,\r\ndeclined,afgewezen,0,0,,\r\nunreachable,onbereikbaar,0,0,,\r\n");
	plein_buf_free(&out);
	plein_report_free(r);
	plein_site_close(s);
	test_rmdir(dir);
}

/* Time to close, per status and per partner: the median of an even count
 * is the mean of the middle two; rounding to a tenth of a day; a closed_at
 * before created_at and a missing one do not count as closed. */
TEST(time_to_close_per_status_and_partner)
{
	char dir[256];
	plein_site *s = test_site(dir);
	CHECK(s != NULL);
	CHECK_OK(plein_db_exec(s->db,
		"INSERT INTO partner(id, name) VALUES ('J', 'Juridisch Loket'), ('S', 'Schuldhulp');"
		"INSERT INTO referral(id, to_partner_id, status, created_at, closed_at) VALUES"
		" ('a', 'J', 'done', '2026-05-01T10:00:00Z', '2026-05-02T10:00:00Z'),"  /* 1 day */
		" ('b', 'J', 'done', '2026-05-01T10:00:00Z', '2026-05-04T10:00:00Z'),"  /* 3 days */
		" ('c', 'S', 'done', '2026-05-01T10:00:00Z', '2026-05-11T10:00:00Z'),"  /* 10 days */
		" ('d', 'S', 'done', '2026-05-01T10:00:00Z', '2026-05-01T14:00:00+02:00')," /* 2 hours: 0.1 */
		" ('e', 'S', 'declined', '2026-05-02T10:00:00Z', '2026-05-01T10:00:00Z')," /* before it began */
		" ('f', 'X', 'new', '2026-05-03T10:00:00Z', NULL);"));  /* a partner not known here */
	plein_report *r = run(s, NULL, "2026-05-01", "2026-05-31");
	CHECK(r != NULL);
	const plein_report_status *done = &r->referrals[3];
	CHECK_STR(done->status, "done");
	CHECK_EQ_INT(done->count, 4);
	CHECK_EQ_INT(done->closing.closed, 4);
	/* 0.083, 1, 3, 10 days: median (1 + 3) / 2 = 2.0, mean 14.083 / 4 = 3.5 */
	CHECK_EQ_INT((int)(done->closing.median_days * 10 + 0.5), 20);
	CHECK_EQ_INT((int)(done->closing.avg_days * 10 + 0.5), 35);
	CHECK_EQ_INT(r->referrals[4].count, 1);
	CHECK_EQ_INT(r->referrals[4].closing.closed, 0);
	CHECK(isnan(r->referrals[4].closing.median_days));
	CHECK_EQ_INT(r->npartners, 3);
	CHECK_STR(r->partners[0].label, "Juridisch Loket");
	CHECK_EQ_INT(r->partners[0].total, 2);
	CHECK_EQ_INT((int)(r->partners[0].closing.median_days * 10 + 0.5), 20);
	CHECK_STR(r->partners[1].label, "Schuldhulp");
	CHECK_EQ_INT(r->partners[1].count[3], 2);
	CHECK_EQ_INT(r->partners[1].count[4], 1);
	CHECK_EQ_INT(r->partners[1].closing.closed, 2);
	/* 0.083 and 10: median 5.04 -> 5.0 */
	CHECK_EQ_INT((int)(r->partners[1].closing.median_days * 10 + 0.5), 50);
	CHECK_STR(r->partners[2].label, "X");
	plein_buf out = PLEIN_BUF_INIT;
	plein_report_table_csv(&out, r, PLEIN_REPORT_T_PARTNERS);
	CHECK_STR(plein_buf_cstr(&out),
		  "partner,partner_label,count,new,contacted,appointment,done,declined,unreachable,unknown,closed,median_days,avg_days\r\n"
		  "J,Juridisch Loket,2,0,0,0,2,0,0,0,2,2.0,2.0\r\n"
		  "S,Schuldhulp,3,0,0,0,2,1,0,0,2,5.0,5.0\r\n"
		  "X,X,1,1,0,0,0,0,0,0,0,,\r\n");
	plein_buf_free(&out);
	plein_report_free(r);
	plein_site_close(s);
	test_rmdir(dir);
}

/* Sign-ups per offering and month, whatever wrote them; the names (who)
 * are never read. */
TEST(signups_per_offering_and_month)
{
	char dir[256];
	plein_site *s = test_site(dir);
	CHECK(s != NULL);
	CHECK_OK(plein_db_exec(s->db,
		"INSERT INTO partner(id, name) VALUES ('P', 'Taalhuis');"
		"INSERT INTO offering(id, partner_id, title) VALUES ('o1', 'P', 'Taalcafé'), ('o2', 'P', 'Digisterker');"
		"INSERT INTO schedule_rule(id, offering_id) VALUES ('r1', 'o1'), ('r2', 'o2'), ('r3', 'o-gone');"
		"INSERT INTO signup(id, rule_id, occurrence_date, status, who) VALUES"
		" ('s1', 'r1', '2026-05-05', 'booked', x'00'), ('s2', 'r1', '2026-05-12', 'attended', NULL),"
		" ('s3', 'r1', '2026-05-12', 'no_show', NULL), ('s4', 'r1', '2026-06-02', 'cancelled', NULL),"
		" ('s5', 'r2', '2026-05-20', 'waitlisted', NULL), ('s6', 'r3', '2026-05-20', 'booked', NULL),"
		" ('s7', 'r-gone', '2026-05-20', 'booked', NULL), ('s8', 'r1', 'soon', 'booked', NULL);"));
	plein_report *r = run(s, NULL, "2026-05-01", "2026-05-31");
	CHECK(r != NULL);
	plein_buf out = PLEIN_BUF_INIT;
	plein_report_table_csv(&out, r, PLEIN_REPORT_T_SIGNUPS);
	CHECK_STR(plein_buf_cstr(&out),
		  "offering,offering_label,partner_label,month,signups,booked,waitlisted,cancelled,attended,no_show\r\n"
		  "o2,Digisterker,Taalhuis,2026-05,1,0,1,0,0,0\r\n"
		  "o-gone,o-gone,,2026-05,1,1,0,0,0,0\r\n"
		  "o1,Taalcafé,Taalhuis,2026-05,3,1,0,0,1,1\r\n"
		  ",(onbekend),,2026-05,1,1,0,0,0,0\r\n");
	plein_report_free(r);
	r = run(s, NULL, NULL, NULL); /* all: June, and the unreadable date */
	CHECK(r != NULL);
	CHECK_EQ_INT(r->nsignups, 6);
	CHECK_STR(r->signups[3].month, "2026-06");
	CHECK_STR(r->signups[4].month, "");
	CHECK_EQ_INT(r->signups[4].total, 1);
	plein_buf_free(&out);
	plein_report_free(r);
	plein_site_close(s);
	test_rmdir(dir);
}
