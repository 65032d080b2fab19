/* Git remotes as a transport (design §6): move the chains of log.git to
 * and from any git URL libgit2 speaks — a local path (a USB stick: a bare
 * repository is created there when missing), file://, git://, ssh://,
 * http(s)://.
 *
 * Fetching never touches our verified chains: the remote's
 * refs/plein/sites/<id> land in refs/plein/incoming/<key>/<id>, to be verified
 * and then adopted (plein_log_adopt). Pushing sends our refs/plein/sites/<id>
 * that the remote lacks or has older, fast-forward only; a remote chain
 * that is ahead or has diverged is reported per site, never overwritten. */
#ifndef PLEIN_REMOTE_H
#define PLEIN_REMOTE_H

#include <stddef.h>
#include <stdint.h>

#include "plein/log.h"

/* What happened to one site's chain. */
typedef enum {
	PLEIN_REMOTE_SAME = 0,  /* both hold the same chain */
	PLEIN_REMOTE_PUSHED,    /* the remote lacked batches; pushed (fast-forward) */
	PLEIN_REMOTE_BEHIND,    /* the remote lacks batches; not pushed (fetch only) */
	PLEIN_REMOTE_AHEAD,     /* the remote has batches we lack: fetched into
	                         * refs/plein/incoming/<key>/ to verify (or, push
	                         * only: fetch to get them) */
	PLEIN_REMOTE_DIVERGED,  /* neither chain contains the other: a fork or a
	                         * rewritten history; nothing pushed */
	PLEIN_REMOTE_REJECTED,  /* the remote refused our push (see message) */
	PLEIN_REMOTE_UNREADABLE, /* the remote's chain could not be fetched (a
	                         * damaged or missing object, see message); the
	                         * other chains were */
} plein_remote_status;
#define PLEIN_REMOTE_NSTATUS (PLEIN_REMOTE_UNREADABLE + 1)

typedef struct plein_remote_ref {
	char site[PLEIN_SITEID_LEN + 1];
	uint64_t local_seq;     /* our tip; 0 = none */
	uint64_t remote_seq;    /* the remote's tip; 0 = none, or unknown (push only, not fetched) */
	plein_remote_status status;
	char message[300];      /* REJECTED: the remote's reason; DIVERGED,
	                         * UNREADABLE: what is wrong */
} plein_remote_ref;

typedef struct plein_remote_result {
	plein_remote_ref *refs; /* one per site either side has, sorted by site */
	size_t nrefs;
	size_t count[PLEIN_REMOTE_NSTATUS]; /* refs per status */
	size_t received_objects, received_bytes; /* fetch (git_remote_stats) */
	size_t sent_objects, sent_bytes;         /* push; to a local path: the growth of
	                                          * its objects folder (what was written) */
	int created;            /* a bare repository was created at a local path */
	char key[PLEIN_LOG_KEY_MAX + 1];         /* the incoming namespace used */
} plein_remote_result;

enum {
	PLEIN_REMOTE_FETCH = 1,
	PLEIN_REMOTE_PUSH = 2,
};

typedef struct plein_remote_opts {
	int what;           /* PLEIN_REMOTE_FETCH | PLEIN_REMOTE_PUSH; 0 = both */
	const char *key;    /* incoming namespace (a peer name); NULL = from the URL */
	/* Progress of long transfers (may be NULL): stage is "fetch" or "push". */
	void (*progress)(const char *stage, size_t done, size_t total, size_t bytes, void *payload);
	void *payload;
} plein_remote_opts;

/* Sync log with the git remote at url: fetch into incoming, then push what
 * the remote lacks. The fetch is per chain where it must be: a chain of a
 * local relay with a damaged object (checked before libgit2 reads it, see
 * loose.h) is left out, and when a fetch of all chains fails, each chain
 * is fetched on its own; a chain that still fails is UNREADABLE and the
 * others go through. A push to a local relay first clears ref locks a
 * killed writer left there. opts may be NULL. On failure *out holds what was done
 * before it; errors: PLEIN_EINVAL (bad URL, a local path that is not a
 * repository), PLEIN_ERR (unreachable, not a repository, permission
 * denied, the remote hung up, ...), each with a message saying what to do.
 * Free *out with plein_remote_result_free in every case. */
int plein_remote_sync(plein_remote_result *out, plein_log *log, const char *url,
		const plein_remote_opts *opts);
void plein_remote_result_free(plein_remote_result *r);

/* The incoming namespace for a URL when no key is given: "u" + 16 hex
 * digits of BLAKE2b(url). out holds PLEIN_LOG_KEY_MAX + 1 bytes. */
void plein_remote_key(char *out, const char *url);

/* A name for a status, for listings: "same", "pushed", ... */
const char *plein_remote_status_name(plein_remote_status s);

/* The filesystem path of a local URL (a path or file://; malloc'd), or
 * NULL for a network URL (scp-like user@host:path is ssh). */
char *plein_remote_local_path(const char *url);

#endif
