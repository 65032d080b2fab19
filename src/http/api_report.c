/* /api/v1/reports and /api/v1/status: the figures of 'plein report
 * --json' and the document of 'plein status --json'. */
#include "internal.h"

#include "plein/error.h"
#include "plein/records.h"
#include "plein/report.h"
#include "plein/validate.h"

int api_reports(http_req *r)
{
	static const char *const allowed[] = { "by", "from", "to", NULL }, *const repeatable[] = { "by", NULL };
	const char *from = http_query(r, "from"), *to = http_query(r, "to"), **by = NULL;
	plein_report_query q;
	plein_report *rep = NULL;
	int rc, nby;
	if ((rc = http_query_check(r, allowed, repeatable)) < 0 || (from && (rc = plein_check_date("from", from)) < 0) ||
	    (to && (rc = plein_check_date("to", to)) < 0))
		return rc;
	nby = http_query_all(r, "by", &by);
	if ((rc = plein_report_query_init(&q, by, nby, from, to)) < 0 || (rc = plein_report_run(&rep, r->s->db, &q)) < 0)
		return rc;
	plein_buf out = PLEIN_BUF_INIT;
	plein_report_json(&out, rep);
	http_reply_json(r, 200, &out);
	plein_buf_free(&out);
	plein_report_free(rep);
	return 0;
}

int api_status(http_req *r)
{
	plein_buf out = PLEIN_BUF_INIT;
	int rc = http_query_check(r, http_no_params, NULL);
	if (rc == 0 && (rc = plein_status_write(&out, r->s, 1)) == 0)
		http_reply_json(r, 200, &out);
	plein_buf_free(&out);
	return rc;
}
