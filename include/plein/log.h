/* The change log (design §5): signed batches kept in the site's log.git.
 *
 * One ref per signing site, refs/plein/sites/<site-id>; one commit per
 * batch whose tree holds the blobs header, sig, payload and (when present)
 * personal; parent = the previous batch of that site. The log treats a batch
 * as opaque bytes: it knows only the site id, the sequence number, the batch
 * time and a one-line summary, which the caller passes alongside. Commits are
 * deterministic (author, committer and time come from the batch), so the
 * same batch has the same commit id at every site. docs/log-format.md
 * describes the layout.
 *
 * Crash safety: objects are written first, the ref update is the commit
 * point, and libgit2 runs with fsync on (GIT_OPT_ENABLE_FSYNC_GITDIR). */
#ifndef PLEIN_LOG_H
#define PLEIN_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "plein/buf.h"
#include "plein/siteid.h"

struct git_repository;

#define PLEIN_LOG_SIG_LEN 64            /* ed25519 signature */
#define PLEIN_LOG_MAX_HEADER 4096       /* bound on a stored header blob */
#define PLEIN_LOG_MAX_PAYLOAD (256u << 20) /* bound on payload and personal blobs */
#define PLEIN_LOG_MAX_SUMMARY 200       /* bytes of the one-line summary */
#define PLEIN_LOG_OID_HEX 40
#define PLEIN_LOG_REF_MAX 200
#define PLEIN_LOG_KEY_MAX 64            /* remote key in refs/plein/incoming/<key>/ */

enum {
	/* append, hold, fork_keep: exactly this batch is already stored;
	 * nothing was written. Not an error. */
	PLEIN_LOG_SAME = 1,
	/* append: seq is beyond the tip + 1; earlier batches are missing
	 * (hold it until they arrive). */
	PLEIN_LOG_EGAP = -20,
	/* append, adopt, hold: a different batch with this seq is already
	 * stored: the signer forked (keep the proof with plein_log_fork_keep). */
	PLEIN_LOG_EFORK = -21,
};
/* A chain that moved under the caller (another writer appended first, or
 * batch.parent is stale) gives PLEIN_EBUSY: nothing changed; re-read the
 * tip and retry. */

typedef struct plein_log plein_log;

/* A batch to store. All pointers are lent for the duration of the call. */
typedef struct plein_log_batch {
	const char *site;      /* canonical site id of the signer */
	uint64_t seq;          /* 1, 2, ... per site, contiguous */
	int64_t time;          /* batch time, seconds since 1970 UTC: the commit time */
	const char *summary;   /* one line for people, e.g. "37 changes"; NULL: none.
	                        * Must be a function of the batch bytes, so every
	                        * site that stores the batch makes the same commit. */
	const unsigned char *header;
	size_t header_len;     /* 1 .. PLEIN_LOG_MAX_HEADER */
	const unsigned char *sig; /* PLEIN_LOG_SIG_LEN bytes */
	const unsigned char *payload;
	size_t payload_len;
	const unsigned char *personal; /* NULL: the batch has no personal part */
	size_t personal_len;
	/* append only: the commit (hex) this batch must follow, as read from
	 * plein_log_tip; "" = the chain must be empty; NULL = no check beyond
	 * seq. Compare-and-swap for writers that read the tip, then seal. */
	const char *parent;
} plein_log_batch;

/* A stored batch, read back. Owns its buffers: plein_log_entry_free. */
typedef struct plein_log_entry {
	char site[PLEIN_SITEID_LEN + 1];
	uint64_t seq;
	int64_t time;
	char commit[PLEIN_LOG_OID_HEX + 1];
	char parent[PLEIN_LOG_OID_HEX + 1]; /* "" for the first batch of a chain */
	char summary[PLEIN_LOG_MAX_SUMMARY + 1];
	char header_id[PLEIN_LOG_OID_HEX + 1];   /* blob id of the header: names the batch */
	char personal_id[PLEIN_LOG_OID_HEX + 1]; /* blob id of the personal part; "" for none */
	plein_buf header, sig, payload, personal;
	int has_personal;      /* chains and held batches: refs/plein/personal/...;
	                        * incoming chains and fork proofs: never */
} plein_log_entry;

/* A ref of the log: a site's chain, an incoming chain, a held batch or a
 * fork proof. */
typedef struct plein_log_ref {
	char name[PLEIN_LOG_REF_MAX];       /* full ref name */
	char key[PLEIN_LOG_KEY_MAX + 1];    /* incoming: the remote key; else "" */
	char site[PLEIN_SITEID_LEN + 1];
	uint64_t seq;                       /* seq of the batch the ref points at */
	unsigned n;                         /* forks: the proof number (1, 2, ...) */
	char commit[PLEIN_LOG_OID_HEX + 1];
} plein_log_ref;

/* Open the bare repository at path (create=1: create it when missing). */
int plein_log_open(plein_log **out, const char *path, int create);
void plein_log_close(plein_log *log);
/* The repository (lent), for the transports in remote.c. */
struct git_repository *plein_log_repo(plein_log *log);

/* Append one batch as loose objects, then move the site's ref with a
 * compare-and-swap: seq must be tip + 1 and the ref must still point at
 * the tip read before writing. Returns 0, PLEIN_LOG_SAME, PLEIN_LOG_EGAP,
 * PLEIN_LOG_EFORK, PLEIN_EBUSY, PLEIN_EINVAL or PLEIN_ERR. */
int plein_log_append(plein_log *log, const plein_log_batch *b);

/* Append a run of batches (received from a peer; several sites allowed,
 * each site's batches in seq order). Batches already stored are skipped;
 * a gap or a fork anywhere refuses the whole run. A run of
 * PLEIN_LOG_PACK_MIN new batches or more is written as one packfile
 * (mempack + indexer) instead of loose objects; all refs move together
 * under one lock. out_added (may be NULL) receives the number of new
 * batches. */
#define PLEIN_LOG_PACK_MIN 8
int plein_log_append_run(size_t *out_added, plein_log *log, const plein_log_batch *b, size_t n);

/* plein_log_append_run onto refs/plein/incoming/<key>/<site> instead of
 * the verified chains: for batches that arrive over TCP, to be verified
 * and adopted by plein_ingest. An incoming ref that does not exist yet
 * starts on top of the site's verified chain (so the result is a whole
 * chain); one left by an interrupted session is continued. */
int plein_log_append_incoming(size_t *out_added, plein_log *log, const char *key,
		const plein_log_batch *b, size_t n);

/* The tip of a site's chain; seq 0 and commit "" when it has none. */
int plein_log_tip(plein_log_ref *out, plein_log *log, const char *site);

/* The version vector: every refs/plein/sites/<id> with its highest seq,
 * sorted by site id. *out is malloc'd (free it); *out_n may be 0. */
int plein_log_tips(plein_log_ref **out, size_t *out_n, plein_log *log);

/* Chains fetched from git remotes and not yet verified:
 * refs/plein/incoming/<key>/<site-id> (key NULL: every remote). A tip
 * that is not a plein batch is listed with seq 0. */
int plein_log_incoming(plein_log_ref **out, size_t *out_n, plein_log *log, const char *key);
/* 0 if key can name a remote in refs/plein/incoming/<key>/, else PLEIN_EINVAL. */
int plein_log_check_key(const char *key);
/* Forget an incoming chain (site NULL: all of that remote's). */
int plein_log_incoming_drop(plein_log *log, const char *key, const char *site);

/* Read batch seq of a chain. chain is a site id (its verified chain) or a
 * full ref name (refs/plein/incoming/..., refs/plein/held/...). seq 0
 * reads the ref's tip. PLEIN_ENOTFOUND when the chain or seq is missing.
 * The commit's shape is checked (blob names, sizes, trailers). */
int plein_log_read(plein_log_entry *out, plein_log *log, const char *chain, uint64_t seq);
void plein_log_entry_free(plein_log_entry *e);
/* The batch e holds, to append elsewhere (a sync's store, a fork proof):
 * *out lends e's buffers, so e must outlive it. */
void plein_log_batch_of(plein_log_batch *out, const plein_log_entry *e);

/* The commit (hex) of batch seq of a chain (site id or ref name);
 * PLEIN_ENOTFOUND when the chain has no such batch. */
int plein_log_commit_at(char out[PLEIN_LOG_OID_HEX + 1], plein_log *log, const char *chain, uint64_t seq);
/* The seq of a batch commit (hex) from its trailer; PLEIN_ENOTFOUND when
 * log.git does not have the commit. */
int plein_log_commit_seq(uint64_t *out, plein_log *log, const char *commit);

/* Call cb for the batches from..to (inclusive; to 0 = the tip) of a chain,
 * in seq order. A non-zero return from cb stops and is returned. */
typedef int (*plein_log_cb)(const plein_log_entry *e, void *payload);
int plein_log_foreach(plein_log *log, const char *chain, uint64_t from, uint64_t to,
		plein_log_cb cb, void *payload);

/* Move a site's verified chain forward to batch upto (0 = the tip) of
 * from_ref (an incoming chain), keeping the commits as they are. The
 * chain must extend ours (else PLEIN_LOG_EFORK) and every commit up to
 * upto must be in the canonical form plein writes (else PLEIN_EREJECT).
 * Returns PLEIN_LOG_SAME when ours already holds upto. Compare-and-swap
 * like append. */
int plein_log_adopt(plein_log *log, const char *site, const char *from_ref, uint64_t upto);

/* Held batches, that cannot be applied yet (signer not admitted, earlier
 * batches missing): refs/plein/held/<site-id>/<seq>, one parentless
 * commit each. hold returns PLEIN_LOG_SAME if already held and
 * PLEIN_LOG_EFORK if a different batch is held under that seq. */
int plein_log_hold(plein_log *log, const plein_log_batch *b);
int plein_log_held(plein_log_ref **out, size_t *out_n, plein_log *log);
int plein_log_unhold(plein_log *log, const char *site, uint64_t seq);

/* Fork proofs: a batch that conflicts with the one in the chain at the
 * same seq, kept under refs/plein/forks/<site-id>/<seq>-<n>. out_n (may be
 * NULL) receives n; PLEIN_LOG_SAME when this batch is already kept. */
int plein_log_fork_keep(unsigned *out_n, plein_log *log, const plein_log_batch *b);
int plein_log_forks(plein_log_ref **out, size_t *out_n, plein_log *log);
int plein_log_fork_drop(plein_log *log, const char *site, uint64_t seq, unsigned n);

/* A ref lock (<gitdir>/<ref>.lock) left by a writer that died would block
 * the ref for ever; a live writer holds one for milliseconds. Removes one
 * older than PLEIN_LOG_STALE_LOCK_SECS; 1 if removed (retry), else 0. Used
 * for log.git and for the refs of a relay on a local path. */
#define PLEIN_LOG_STALE_LOCK_SECS 10
int plein_log_clear_stale_lock(const char *gitdir, const char *ref);
/* Personal parts (design §8): the values of personal columns live beside
 * the batch, not in its commit, so purging them never changes a commit id
 * (docs/log-format.md, "Personal parts"). Each is a blob under
 * refs/plein/personal/<site-id>/<seq>/<header-id>, where header-id is the
 * blob id of the batch's header: the ref can only ever belong to that one
 * batch. Appending a batch (append, append_run, hold) writes its personal
 * part's ref first, and never replaces one that exists: a personal part is
 * only ever made smaller, by plein_log_personal_set. The ref names a
 * parentless commit whose tree holds the part as one blob, "personal"
 * (git remotes carry commits; libgit2 cannot push a ref to a blob), made
 * deterministically, so equal parts are equal commits everywhere. Parts
 * fetched from a
 * git remote wait under refs/plein/incoming-personal/<key>/... until they
 * are judged (src/core/erase.c). */
typedef struct plein_log_personal {
	char name[PLEIN_LOG_REF_MAX];
	char site[PLEIN_SITEID_LEN + 1];
	uint64_t seq;
	char header[PLEIN_LOG_OID_HEX + 1]; /* blob id of the batch's header */
	char commit[PLEIN_LOG_OID_HEX + 1]; /* what the ref names: a parentless commit
	                                     * whose tree holds one blob, "personal" */
	char blob[PLEIN_LOG_OID_HEX + 1];   /* blob id of the personal part */
} plein_log_personal;

/* The blob id of a batch header: what names its personal part. */
int plein_log_header_id(char out[PLEIN_LOG_OID_HEX + 1], const unsigned char *header, size_t len);
/* Every personal ref (key NULL), or those fetched from remote key ("":
 * from every remote), in no particular order. *out is malloc'd. */
int plein_log_personals(plein_log_personal **out, size_t *out_n, plein_log *log, const char *key);
/* Read a personal part by its blob id or by its commit id. */
int plein_log_blob_read(plein_buf *out, plein_log *log, const char *blob);
/* Write p[0..n) as the personal part of batch (site, seq, header id):
 * expect NULL = the ref must not exist yet; else it must name the part
 * whose blob id is expect (compare-and-swap; PLEIN_EBUSY otherwise). out_blob (may be
 * NULL) receives the new blob id. An empty part (n = 0) means "purged
 * entirely" and is kept, so that no peer can bring the values back. */
int plein_log_personal_set(char out_blob[PLEIN_LOG_OID_HEX + 1], plein_log *log, const char *site, uint64_t seq,
		const char *header, const unsigned char *p, size_t n, const char *expect);
/* The blob id of the personal part a personal-part commit holds. */
int plein_log_personal_blob(char out[PLEIN_LOG_OID_HEX + 1], plein_log *log, const char *commit);
/* 1 when log.git holds the object id (hex), else 0. */
int plein_log_has(plein_log *log, const char *id);
/* Remove a personal ref (ours or an incoming one) by its full name. */
int plein_log_personal_drop(plein_log *log, const char *name);
/* Make the bytes of blobs really gone from log.git: loose objects are
 * deleted and every pack holding one is rewritten without it. A blob a
 * personal ref still names is kept. out_removed (may be NULL): objects
 * removed. Unreachable copies elsewhere (a reflog, a backup) are not
 * touched: plein writes no reflog in its bare repository. */
int plein_log_prune(size_t *out_removed, plein_log *log, const char (*blobs)[PLEIN_LOG_OID_HEX + 1], size_t n);

/* The commit id (hex) the batch would get on top of parent (hex, NULL or
 * "" for none), without writing anything: for tests and docs. */
int plein_log_commit_id(char out[PLEIN_LOG_OID_HEX + 1], const plein_log_batch *b, const char *parent);

#endif
