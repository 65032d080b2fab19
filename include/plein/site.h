/* A site (design §1): one directory holding plein.db, log.git, site.key
 * and plein.conf. Opening a site opens the replica and brings its schema
 * up to date. */
#ifndef PLEIN_SITE_H
#define PLEIN_SITE_H

#include "plein/conf.h"
#include "plein/db.h"
#include "plein/schema.h"
#include "plein/siteid.h"

struct plein_log;

typedef struct plein_site {
	char *dir;
	plein_db *db;
	plein_conf *conf;
	plein_schema *schema;
	unsigned char pk[32];  /* ed25519 public key: the site's identity */
	unsigned char sk[64];  /* ed25519 secret key (libsodium layout) */
	char id[PLEIN_SITEID_LEN + 1];
	struct plein_log *log;  /* log.git, opened by plein_site_log() */
	/* Called between batches of a long ingest (verify, apply), and
	 * between the parts of a large batch, so a TCP session can tell its
	 * peer it is busy, not hung (docs/tcp-sync.md §3). Nonzero asks the
	 * ingest to stop at the next batch boundary (a stop signal came).
	 * NULL: no one listens. */
	int (*progress)(void *arg);
	void *progress_arg;
} plein_site;

/* Create a new site in dir (which must not exist, or be empty): key,
 * replica, log repository, plein.conf with name. On failure nothing is
 * left behind. */
int plein_site_create(plein_site **out, const char *dir, const char *name);
/* Open an existing site. */
int plein_site_open(plein_site **out, const char *dir);
void plein_site_close(plein_site *s);

/* The site's log (lent; opened on first use), or NULL with the error set.
 * The first use checks the loose objects that are new in log.git
 * (plein_site_log_check), so no process reads a damaged one. */
struct plein_log *plein_site_log(plein_site *s);
/* Check the loose objects of log.git added since the last check (loose.h):
 * 0, or PLEIN_EREJECT with a message saying what to do. A process that
 * keeps the log open reads objects others write: it checks again. */
int plein_site_log_check(plein_site *s);
/* One more batch verified or applied: tell s->progress. 0, or
 * PLEIN_ERR ("stopped") when it asks the ingest to stop. */
int plein_site_progress(plein_site *s);
/* Work inside one batch (a part of a large one applied): tell
 * s->progress too, but a stop it asks for waits for the batch's end. */
void plein_site_heartbeat(plein_site *s);
/* The network id (16 bytes) from the replica; PLEIN_ERR when unset. */
int plein_site_network_id(plein_site *s, unsigned char out[16]);

/* dir/file, caller frees. */
char *plein_site_path(const plein_site *s, const char *file);
int plein_site_save_conf(plein_site *s);

/* Local key/value state (plein_local): network name and id, role, ...
 * get returns a malloc'd string or NULL when unset. */
char *plein_site_local_get(plein_site *s, const char *key);
int plein_site_local_set(plein_site *s, const char *key, const char *value);

/* The site's display name (from plein.conf; lent). */
const char *plein_site_name(const plein_site *s);

#endif
