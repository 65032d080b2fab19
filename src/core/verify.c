#include "plein/verify.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plein/batch.h"
#include "plein/buf.h"
#include "plein/error.h"
#include "plein/capture.h"
#include "plein/journal.h"
#include "plein/local.h"
#include "plein/log.h"
#include "plein/loose.h"
#include "plein/merge.h"
#include "plein/roster.h"

static void problem(plein_verify_report *r, const char *site, uint64_t seq, const char *what)
{
	if (r->problems++ > 0)
		return;
	if (site)
		snprintf(r->first_problem, sizeof r->first_problem, "batch %" PRIu64 " of %s: %s", seq, site, what);
	else
		snprintf(r->first_problem, sizeof r->first_problem, "%s", what);
}

/* This site's captured writes that are not sealed yet (sealing may wait
 * for a peer after a restore), as changes: collected in a transaction
 * that is rolled back, so nothing is sealed or changed. */
static int unsealed_changes(plein_changeset *cs, plein_site *s)
{
	int64_t pending = 0, hmax = 0;
	plein_merge *m = NULL;
	int rc = plein_capture_pending(s->db, &pending);
	if (rc < 0 || pending == 0)
		return rc;
	if ((rc = plein_db_begin(s->db)) < 0)
		return rc;
	if ((rc = plein_merge_begin(&m, s)) == 0)
		rc = plein_local_changes(cs, &hmax, m, s);
	int rc2 = m ? plein_merge_end(m) : 0;
	plein_db_rollback(s->db);
	return rc < 0 ? rc : rc2;
}

/* Apply the unsealed changes to the scratch replica as the live one
 * holds them: outside any batch, signed by this site. */
static int apply_unsealed(plein_site *scratch, const plein_changeset *cs)
{
	plein_merge *m = NULL;
	if (cs->n == 0)
		return 0;
	int rc = plein_db_begin(scratch->db);
	if (rc < 0)
		return rc;
	if ((rc = plein_merge_begin(&m, scratch)) == 0)
		rc = plein_merge_apply(m, scratch->pk, cs->v, cs->n);
	int rc2 = m ? plein_merge_end(m) : 0;
	if (rc == 0)
		rc = rc2;
	if (rc == 0)
		return plein_db_commit(scratch->db);
	plein_db_rollback(scratch->db);
	return rc;
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

/* A replica built from the log alone (and this site's unsealed writes,
 * cs), in a temporary directory. */
static int rebuild(plein_verify_report *r, plein_site *live, const plein_changeset *cs)
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
		rc = apply_unsealed(&scratch, cs);
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
	/* libgit2 would hang on a truncated loose object (loose.h): check
	 * them all before anything of log.git is read, and before
	 * plein_site_log's check of the new ones would stop at the first. */
	char *logpath = plein_site_path(s, "log.git");
	size_t bad = 0;
	int rc = plein_loose_check_all(logpath, &bad);
	free(logpath);
	if (rc == PLEIN_EREJECT) {
		out->problems = bad;
		snprintf(out->first_problem, sizeof out->first_problem,
			 "log.git: %s; nothing more was checked (restore log.git from a backup, or take the damaged "
			 "batches from a peer: move the site aside, 'plein init' a new one and sync)", plein_error());
		return 0;
	}
	if (rc < 0)
		return rc;
	if (!plein_site_log(s))
		return plein_error_code() ? plein_error_code() : PLEIN_ERR;
	/* Verify seals nothing — it must run on a restored site that waits
	 * for a peer — but it repairs a replica behind its log, as any
	 * command does, and takes unsealed writes into the comparison. */
	plein_changeset cs = PLEIN_CHANGESET_INIT;
	if ((rc = plein_journal_catch_up(s, NULL)) < 0 || (rc = unsealed_changes(&cs, s)) < 0) {
		plein_changeset_free(&cs);
		return rc;
	}
	out->unsealed = cs.n;
	plein_log_ref *tips = NULL;
	size_t n = 0;
	if ((rc = plein_log_tips(&tips, &n, s->log)) < 0) {
		plein_changeset_free(&cs);
		return rc;
	}
	out->chains = n;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = check_chain(out, s, tips[i].site, tips[i].seq);
	free(tips);
	if (rc == 0)
		rc = plein_digest_hex(s->db, out->live);
	if (rc == 0)
		rc = rebuild(out, s, &cs);
	out->equal = rc == 0 && strcmp(out->live, out->rebuilt) == 0;
	plein_changeset_free(&cs);
	return rc;
}
