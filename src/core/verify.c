#include "plein/verify.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plein/batch.h"
#include "plein/buf.h"
#include "plein/error.h"
#include "plein/journal.h"
#include "plein/log.h"
#include "plein/roster.h"

static void problem(plein_verify_report *r, const char *site, uint64_t seq, const char *what)
{
	if (r->problems++ == 0)
		snprintf(r->first_problem, sizeof r->first_problem, "batch %" PRIu64 " of %s: %s", seq, site, what);
}

/* Check one chain batch by batch (everything but the roster). */
static int check_chain(plein_verify_report *r, plein_site *s, const char *site, uint64_t tip)
{
	unsigned char prev[PLEIN_BATCH_HASH_BYTES] = {0}, network[16];
	int rc = plein_site_network_id(s, network);
	for (uint64_t seq = 1; seq <= tip && rc == 0; seq++) {
		plein_log_entry e;
		memset(&e, 0, sizeof e);
		plein_batch_header h;
		plein_batch *b = NULL;
		char signer[PLEIN_SITEID_LEN + 1];
		r->batches++;
		if (plein_log_read(&e, s->log, site, seq) < 0 || e.sig.len != PLEIN_BATCH_SIG_BYTES) {
			problem(r, site, seq, plein_error());
		} else if (plein_batch_verify(&h, e.header.data, e.header.len, e.sig.data) < 0) {
			problem(r, site, seq, plein_error());
		} else if (plein_siteid_from_key(signer, h.site_pk), strcmp(signer, site) != 0) {
			problem(r, site, seq, "signed by another site than the chain's");
		} else if (memcmp(h.network_id, network, 16) != 0) {
			problem(r, site, seq, "belongs to another network");
		} else if (h.seq != seq || memcmp(h.prev_hash, prev, sizeof prev) != 0) {
			problem(r, site, seq, "does not follow the previous batch (chain broken)");
		} else if (plein_batch_decode(&b, &h, e.payload.data, e.payload.len,
					      e.has_personal ? e.personal.data : NULL, e.has_personal ? e.personal.len : 0) < 0) {
			problem(r, site, seq, plein_error());
		} else {
			r->changes += b->n;
			plein_batch_hash(prev, e.header.data, e.sig.data);
		}
		plein_batch_free(b);
		plein_log_entry_free(&e);
	}
	return rc;
}

static int rmtree(const char *dir)
{
	static const char *files[] = { "plein.db", "plein.db-wal", "plein.db-shm" };
	char path[600];
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, files[i]);
		unlink(path);
	}
	return rmdir(dir);
}

/* A replica built from the log alone, in a temporary directory. */
static int rebuild(plein_verify_report *r, plein_site *live)
{
	char tmpl[] = "/tmp/plein-verify.XXXXXX";
	if (!mkdtemp(tmpl))
		return plein_fail(PLEIN_ERR, "cannot make a scratch directory in /tmp for the rebuild");
	plein_site scratch;
	memset(&scratch, 0, sizeof scratch);
	scratch.dir = tmpl;
	memcpy(scratch.pk, live->pk, 32);
	memcpy(scratch.sk, live->sk, 64);
	memcpy(scratch.id, live->id, sizeof scratch.id);
	char path[600];
	snprintf(path, sizeof path, "%s/plein.db", tmpl);
	char *logpath = plein_site_path(live, "log.git");
	int rc = plein_db_open(&scratch.db, path, 1);
	if (rc == 0)
		rc = plein_schema_migrate(scratch.db);
	if (rc == 0)
		rc = plein_schema_load(&scratch.schema, scratch.db);
	if (rc == 0)
		rc = plein_log_open(&scratch.log, logpath, 0);
	/* The roster check needs the network's admin key. */
	char *admin = plein_site_local_get(live, "admin_pk");
	char *nid = plein_site_local_get(live, "network_id");
	if (rc == 0 && admin)
		rc = plein_site_local_set(&scratch, "admin_pk", admin);
	if (rc == 0 && nid)
		rc = plein_site_local_set(&scratch, "network_id", nid);
	if (rc == 0)
		rc = plein_journal_catch_up(&scratch, NULL);
	if (rc == 0)
		rc = plein_digest_hex(scratch.db, r->rebuilt);
	/* Was every signer on the roster when it signed? */
	plein_log_ref *tips = NULL;
	size_t n = 0;
	if (rc == 0 && plein_log_tips(&tips, &n, scratch.log) == 0) {
		for (size_t i = 0; i < n; i++) {
			plein_log_entry e;
			memset(&e, 0, sizeof e);
			plein_batch_header h;
			if (plein_log_read(&e, scratch.log, tips[i].site, 1) == 0 &&
			    plein_batch_header_parse(&h, e.header.data, e.header.len) == 0 &&
			    plein_roster_check(&scratch, h.site_pk, tips[i].seq) < 0)
				problem(r, tips[i].site, tips[i].seq, plein_error());
			plein_log_entry_free(&e);
		}
		free(tips);
	}
	free(admin);
	free(nid);
	free(logpath);
	plein_log_close(scratch.log);
	plein_schema_free(scratch.schema);
	plein_db_close(scratch.db);
	rmtree(tmpl);
	return rc;
}

int plein_verify(plein_verify_report *out, plein_site *s)
{
	memset(out, 0, sizeof *out);
	if (!plein_site_log(s))
		return plein_error_code() ? plein_error_code() : PLEIN_ERR;
	/* The live state must hold everything captured and logged. */
	uint64_t seq = 0;
	int rc = plein_journal_seal(s, &seq);
	if (rc < 0)
		return rc;
	plein_log_ref *tips = NULL;
	size_t n = 0;
	if ((rc = plein_log_tips(&tips, &n, s->log)) < 0)
		return rc;
	out->chains = n;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = check_chain(out, s, tips[i].site, tips[i].seq);
	free(tips);
	if (rc == 0)
		rc = plein_digest_hex(s->db, out->live);
	if (rc == 0)
		rc = rebuild(out, s);
	out->equal = rc == 0 && strcmp(out->live, out->rebuilt) == 0;
	return rc;
}
