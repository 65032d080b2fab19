/* Reports for the evaluation (domain.md §6): visits and questions counted
 * by theme, location, partner, agency, kind of question and/or local month;
 * the outcomes of the referrals made in a period and the time they took to
 * close, per status and per partner; sign-ups per offering and month; and
 * the IDO registration's tables (questions per government body and per
 * kind of question, every category listed). One function computes them
 * all, for the CLI and the HTTP API alike (docs/report.md).
 *
 * Reports read anonymous data only: visit, question, referral status and
 * the names of terms, locations and partners. They never read
 * referral.contact or signup.who. See docs/report.md. */
#ifndef PLEIN_REPORT_H
#define PLEIN_REPORT_H

#include <stdint.h>

#include "plein/buf.h"
#include "plein/db.h"

/* Dimensions a report can group by. */
typedef enum {
	PLEIN_REPORT_THEME,    /* question.theme, labelled by term (scheme theme) */
	PLEIN_REPORT_LOCATION, /* visit.location_id, labelled by location.name */
	PLEIN_REPORT_PARTNER,  /* question.partner_id, labelled by partner.name */
	PLEIN_REPORT_AGENCY,   /* question.agency, labelled by term (scheme agency) */
	PLEIN_REPORT_MONTH,    /* local month of visit.at, YYYY-MM */
	PLEIN_REPORT_KIND,     /* question.kind, labelled by term (scheme question) */
	PLEIN_REPORT_NDIMS
} plein_report_dim;

/* The zone of the report's calendar: local dates and months. */
#define PLEIN_REPORT_TZ "Europe/Amsterdam"

typedef struct {
	plein_report_dim by[PLEIN_REPORT_NDIMS]; /* grouping, outermost first */
	int nby;
	char from[11]; /* first local date, inclusive; "" = no lower bound */
	char to[11];   /* last local date, inclusive; "" = no upper bound */
} plein_report_query;

/* "theme", "location", ... -> dimension; PLEIN_EINVAL for anything else. */
int plein_report_dim_parse(plein_report_dim *out, const char *name);
const char *plein_report_dim_name(plein_report_dim d);

/* Fill a query from text input: by[0..nby) are dimension names (none: by
 * theme; each at most once), from/to are YYYY-MM-DD or NULL. PLEIN_EINVAL
 * with a message naming the bad value. */
int plein_report_query_init(plein_report_query *out, const char *const *by, int nby,
			    const char *from, const char *to);

typedef struct {
	/* Per dimension of the query, in its order: key is the term code,
	 * the id or YYYY-MM (NULL when not recorded); label is what people
	 * read: the term label or name, the key itself when the term or row
	 * is unknown here, "(onbekend)" or "(geen)" when the key is NULL. */
	char *key[PLEIN_REPORT_NDIMS];
	char *label[PLEIN_REPORT_NDIMS];
	int64_t visits;    /* distinct visits with a question in this group */
	int64_t questions; /* questions in this group */
	int64_t solved;    /* of those, solved = 1 */
	int64_t referred;  /* of those, with a referral (either link) */
} plein_report_row;

/* Referral lifecycle states, in order, plus one slot for unknown values. */
#define PLEIN_REPORT_NSTATUS 7

/* Time to close: over the referrals with a closed_at at or after their
 * created_at, the days between the two. NAN when there are none. */
typedef struct {
	int64_t closed;      /* referrals with such a closed_at */
	double median_days;  /* median, rounded to 0.1 day */
	double avg_days;     /* mean, rounded to 0.1 day */
} plein_report_closing;

typedef struct {
	const char *status; /* "new", ..., "unreachable"; NULL: missing or unknown */
	const char *label;  /* Dutch label: "nieuw", ... */
	int64_t count;      /* referrals created in the period with this status */
	plein_report_closing closing;
} plein_report_status;

/* The referrals created in the period, per receiving partner. */
typedef struct {
	char *key;     /* referral.to_partner_id; NULL: not recorded */
	char *label;   /* partner name, the key when unknown here, "(geen)" */
	int64_t count[PLEIN_REPORT_NSTATUS]; /* per status, in the order of referrals[] */
	int64_t total;
	plein_report_closing closing;
} plein_report_partner;

/* Sign-up statuses, in this order in plein_report_signups.count. */
#define PLEIN_REPORT_NSIGNUP 5
extern const char *const plein_report_signup_statuses[PLEIN_REPORT_NSIGNUP]; /* booked ... no_show */

/* Sign-ups for occurrences of one offering in one month (by the
 * occurrence's date, local by definition). */
typedef struct {
	char *offering_id;     /* NULL: the rule or offering is unknown here */
	char *title;           /* offering title, or the id, or "(onbekend)" */
	char *partner;         /* partner name or NULL */
	char month[8];         /* YYYY-MM */
	int64_t count[PLEIN_REPORT_NSIGNUP];
	int64_t total;         /* every sign-up, whatever its status */
} plein_report_signups;

typedef struct {
	plein_report_query query; /* nby >= 1 */
	plein_report_row *rows;
	size_t nrows;
	plein_report_row total;   /* the same counts without grouping */
	plein_report_status referrals[PLEIN_REPORT_NSTATUS];
	plein_report_partner *partners;  /* referral outcomes per partner */
	size_t npartners;
	plein_report_signups *signups;   /* by offering title, then month */
	size_t nsignups;
	/* The IDO registration: one row per government body and per kind of
	 * question (key[0], label[0]), every seeded one in the IDO's order even
	 * with 0, then the ones sites added, then "(geen)" when any. */
	plein_report_row *agencies;
	size_t nagencies;
	plein_report_row *kinds;
	size_t nkinds;
} plein_report;

/* The tables of a report, for CSV: one at a time. */
typedef enum {
	PLEIN_REPORT_T_COUNTS,    /* the main table */
	PLEIN_REPORT_T_REFERRALS, /* outcomes and time to close per status */
	PLEIN_REPORT_T_PARTNERS,  /* the same per receiving partner */
	PLEIN_REPORT_T_SIGNUPS,   /* sign-ups per offering and month */
	PLEIN_REPORT_T_AGENCIES,  /* IDO: per government body */
	PLEIN_REPORT_T_KINDS,     /* IDO: per kind of question */
	PLEIN_REPORT_NTABLES
} plein_report_table;

/* "counts", "referrals", ... -> table; PLEIN_EINVAL for anything else. */
int plein_report_table_parse(plein_report_table *out, const char *name);

/* Run a report over the replica. The caller frees *out. */
int plein_report_run(plein_report **out, plein_db *db, const plein_report_query *q);
void plein_report_free(plein_report *r);

/* Column name of a dimension's key and label ("theme", "theme_label");
 * month has no label column (its key is its label): NULL. */
const char *plein_report_key_column(plein_report_dim d);
const char *plein_report_label_column(plein_report_dim d);

/* One JSON document: {"from","to","tz","by","rows","total","referrals",
 * "referrals_by_partner","signups","ido":{"agencies","kinds"}}. */
void plein_report_json(plein_buf *out, const plein_report *r);
/* RFC 4180 CSV (CRLF, header row, UTF-8) of one table. */
void plein_report_table_csv(plein_buf *out, const plein_report *r, plein_report_table t);
/* The main table and the referral outcomes as CSV (the first two tables). */
void plein_report_csv(plein_buf *out, const plein_report *r);
void plein_report_referrals_csv(plein_buf *out, const plein_report *r);

#endif
