/* A replica rebuilt from the log (verify.h): plein.db is a cache of
 * log.git, so a lost or moved-aside plein.db comes back from it. What
 * plein.db alone held comes back as follows: the network id from any batch
 * header; the admin key from the batch that changed the roster (only the
 * admin's may, and log.git holds only verified chains); this site's role
 * from its roster row; the network's name from the table the coordinator
 * writes it to (schema/006_network.sql; a network whose coordinator ran
 * no plein since has none, and messages say "this network"). Writes that
 * were never sealed are lost with the file. */
#include "plein/verify.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "plein/batch.h"
#include "plein/buf.h"
#include "plein/error.h"
#include "plein/journal.h"
#include "plein/log.h"
#include "plein/roster.h"
#include "plein/schema.h"

/* The network id and the admin key, from the first batch of each chain. */
static int network_from_log(plein_site *s, unsigned char nid[16], unsigned char admin[32])
{
	plein_log_ref *tips = NULL;
	size_t n = 0;
	int found_nid = 0, found_admin = 0, roster = plein_roster_tid(s);
	int rc = plein_log_tips(&tips, &n, s->log);
	for (size_t i = 0; i < n && rc == 0 && !found_admin; i++) {
		plein_log_entry e;
		plein_batch_header h;
		plein_batch *b = NULL;
		memset(&e, 0, sizeof e);
		if ((rc = plein_log_read(&e, s->log, tips[i].site, 1)) == 0 &&
		    (rc = plein_batch_header_parse(&h, e.header.data, e.header.len)) == 0 &&
		    (rc = plein_batch_decode(&b, &h, e.payload.data, e.payload.len,
					     e.has_personal ? e.personal.data : NULL, e.personal.len)) == 0) {
			memcpy(nid, h.network_id, 16);
			found_nid = 1;
			for (size_t k = 0; k < b->n && !found_admin; k++)
				if (b->changes[k].tid == roster) {
					memcpy(admin, h.site_pk, 32);
					found_admin = 1;
				}
		}
		plein_batch_free(b);
		plein_log_entry_free(&e);
	}
	free(tips);
	if (rc == 0 && !found_nid)
		rc = plein_fail(PLEIN_EINVAL, "%s has no plein.db, and its log.git holds no batch to rebuild it from: "
				"restore plein.db from a backup, or make the site again with 'plein init'", s->dir);
	else if (rc == 0 && !found_admin)
		rc = plein_fail(PLEIN_EINVAL, "%s has no plein.db, and its log.git does not hold the coordinator's first batch: "
				"sync it with a peer first, or restore plein.db from a backup", s->dir);
	return rc;
}

static int set_hex(plein_site *s, const char *key, const unsigned char *bin, size_t n)
{
	char hex[65];
	sodium_bin2hex(hex, sizeof hex, bin, n);
	return plein_site_local_set(s, key, hex);
}

/* Fill the new replica: local keys, then every batch of the log. */
static int fill(plein_site *s)
{
	unsigned char nid[16], admin[32];
	int rc = plein_site_local_set(s, "site_id", s->id);
	if (rc == 0 && !plein_site_log(s))
		rc = plein_error_code() ? plein_error_code() : PLEIN_ERR;
	if (rc == 0)
		rc = network_from_log(s, nid, admin);
	if (rc == 0 && (rc = set_hex(s, "network_id", nid, 16)) == 0)
		rc = set_hex(s, "admin_pk", admin, 32);
	if (rc == 0)
		rc = plein_journal_catch_up(s, NULL);
	if (rc == 0)
		rc = plein_roster_network_from_table(s);
	sqlite3_stmt *st = rc == 0 ? plein_db_stmt(s->db, "SELECT role FROM roster WHERE id = ?1") : NULL;
	if (st) {
		sqlite3_bind_text(st, 1, s->id, -1, SQLITE_TRANSIENT);
		char *role = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) ?
			plein_xstrdup((const char *)sqlite3_column_text(st, 0)) : NULL;
		sqlite3_reset(st);
		if (role)
			rc = plein_site_local_set(s, "role", role);
		free(role);
	}
	/* Like a restored file: log.git too may be older than what this site
	 * published, so sealing waits for a peer (journal.h). */
	if (rc == 0)
		rc = plein_site_local_set(s, "awaiting_peer", "1");
	return rc;
}

int plein_replica_rebuild(plein_site *s)
{
	static const char *sfx[] = { "", "-wal", "-shm", "-journal" };
	char *db = plein_site_path(s, "plein.db"), *tmp = plein_site_path(s, "plein.db-rebuild");
	char path[4096];
	/* A WAL left beside the lost file would be replayed into the new one. */
	for (size_t i = 1; i < sizeof sfx / sizeof *sfx; i++) {
		snprintf(path, sizeof path, "%s%s", db, sfx[i]);
		unlink(path);
	}
	for (size_t i = 0; i < sizeof sfx / sizeof *sfx; i++) {
		snprintf(path, sizeof path, "%s%s", tmp, sfx[i]);
		unlink(path);
	}
	int rc = plein_db_open(&s->db, tmp, 1);
	if (rc == 0 && (rc = plein_schema_migrate(s->db)) == 0 && (rc = plein_schema_load(&s->schema, s->db)) == 0)
		rc = fill(s);
	plein_schema_free(s->schema);
	s->schema = NULL;
	plein_db_close(s->db); /* the last connection: the WAL is folded in */
	s->db = NULL;
	/* The rename is the commit point: a crash before it leaves no plein.db,
	 * and the next run rebuilds again. */
	if (rc == 0 && rename(tmp, db) != 0)
		rc = plein_fail(PLEIN_ERR, "cannot move the rebuilt replica to %s", db);
	if (rc == 0) {
		int fd = open(s->dir, O_RDONLY | O_DIRECTORY);
		if (fd >= 0) {
			fsync(fd);
			close(fd);
		}
	} else {
		unlink(tmp);
	}
	free(db);
	free(tmp);
	return rc;
}
