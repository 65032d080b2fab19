/* Git remotes as a transport (design §6; docs/log-format.md, "Remotes").
 *
 * One sync: connect and list the remote's refs/plein/sites/<id>; fetch them
 * into refs/plein/incoming/<key>/<id>; compare each site's chain with ours by
 * seq (the log's index makes that O(1) per site); push, without force, the
 * chains the remote lacks or has older. */
#include "plein/remote.h"

#include <dirent.h>
#include <errno.h>
#include <git2.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plein/buf.h"
#include "plein/error.h"
#include "plein/loose.h"
#include "plein/personal.h"

#define SITES "refs/plein/sites/"
#define PERSONAL "refs/plein/personal/" /* personal parts (docs/erasure.md) */

/* A remote's tip for one site, as listed. */
struct head {
	char site[PLEIN_SITEID_LEN + 1];
	char commit[PLEIN_LOG_OID_HEX + 1];
	int unreadable;   /* not fetched: why says why */
	char why[300];
	git_oid *fresh;   /* local relay: the checked commits log.git lacks */
	size_t nfresh;
};

struct ctx {
	plein_log *log;
	const char *url;
	const plein_remote_opts *opts;
	plein_remote_result *res;
	const char *path; /* a relay on a local path; NULL for a network URL */
	git_repository *relay; /* that relay, opened for the fetch */
	int auth_tries;
	int pushing; /* the phase, for messages */
	plein_personal_head *personal; /* the remote's personal refs, as listed */
	size_t npersonal;
	unsigned char *personal_ok; /* local relay: personal[i] passed the check */
};

const char *plein_remote_status_name(plein_remote_status s)
{
	static const char *names[] = { "same", "pushed", "behind", "ahead", "diverged", "rejected", "unreadable" };
	return (unsigned)s < sizeof names / sizeof *names ? names[s] : "?";
}

void plein_remote_key(char *out, const char *url)
{
	unsigned char h[8];
	char hex[17];
	if (sodium_init() < 0)
		memset(h, 0, sizeof h);
	else
		crypto_generichash(h, sizeof h, (const unsigned char *)url, strlen(url), NULL, 0);
	sodium_bin2hex(hex, sizeof hex, h, sizeof h);
	snprintf(out, PLEIN_LOG_KEY_MAX + 1, "u%s", hex);
}

void plein_remote_result_free(plein_remote_result *r)
{
	if (!r)
		return;
	free(r->refs);
	r->refs = NULL;
	r->nrefs = 0;
}

/* ---- errors for people ---- */

static int has(const char *msg, const char *what)
{
	return strcasestr(msg, what) != NULL;
}

/* Turn libgit2's last error into one line that says what to do. */
static int remote_fail(struct ctx *c, int grc)
{
	const git_error *e = git_error_last();
	const char *msg = e && e->message ? e->message : "unknown error";
	const char *doing = c->pushing ? "pushing" : "fetching";
	if (grc == GIT_EAUTH || has(msg, "authentication") || has(msg, "permission denied") ||
			has(msg, "401") || has(msg, "403") || has(msg, "access denied") ||
			has(msg, "service not enabled") || has(msg, "not allowed"))
		return plein_fail(PLEIN_ERR, "permission denied at %s: %s (check the account, ssh key or token, and that it may %s there)",
				c->url, msg, c->pushing ? "write" : "read");
	if (grc == GIT_ECERTIFICATE)
		return plein_fail(PLEIN_ERR, "the certificate of %s is not trusted: %s (check the address and the machine's CA certificates)",
				c->url, msg);
	if (has(msg, "failed to connect") || has(msg, "failed to resolve") || has(msg, "connection refused") ||
			has(msg, "no route") || has(msg, "timed out") || has(msg, "could not resolve") ||
			has(msg, "network is unreachable") || has(msg, "name or service not known"))
		return plein_fail(PLEIN_ERR, "cannot reach %s: %s (is it running, is the address right, is this machine online?)",
				c->url, msg);
	if (has(msg, "could not find repository") || has(msg, "not found") || has(msg, "404") ||
			has(msg, "no such repository") ||
			has(msg, "not a git repository") || has(msg, "not exported") ||
			has(msg, "does not appear to be a git repository") || has(msg, "no such file"))
		return plein_fail(PLEIN_ERR, "%s is not a git repository: %s (check the path or URL; a git server must have the repository already)",
				c->url, msg);
	if (has(msg, "early eof") || has(msg, "hung up") || has(msg, "unexpected eof") ||
			has(msg, "connection reset") || has(msg, "broken pipe") || has(msg, "short read") ||
			has(msg, "unexpected disconnect") || has(msg, "invalid packet") || has(msg, "remote error") ||
			has(msg, "closed") || has(msg, "received 0 bytes"))
		return plein_fail(PLEIN_ERR, "%s hung up while %s: %s (try again; if it persists, check the server's log)",
				c->url, doing, msg);
	if (grc == GIT_ENONFASTFORWARD)
		return plein_fail(PLEIN_ERR, "%s changed while syncing (someone else pushed): %s; sync again", c->url, msg);
	return plein_fail(PLEIN_ERR, "%s with %s failed: %s", doing, c->url, msg);
}

/* ---- local paths: a stick or a folder ---- */

/* The filesystem path of a local URL (malloc'd), or NULL for a network URL. */
static char *local_path(const char *url)
{
	if (strncmp(url, "file://", 7) == 0)
		return plein_xstrdup(url + 7);
	if (strstr(url, "://"))
		return NULL;
	const char *colon = strchr(url, ':'), *slash = strchr(url, '/');
	if (colon && (!slash || colon < slash))
		return NULL; /* scp-like user@host:path, which libgit2 reads as ssh */
	return plein_xstrdup(url);
}

static int dir_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int empty = 1;
	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			empty = 0;
	closedir(d);
	return empty;
}

/* 1 if folder is where a file system is mounted (its parent lies on
 * another device, or it is the root), 0 if not, -1 if it cannot be told. */
static int mount_point(const char *folder)
{
	struct stat st, up;
	plein_buf b = PLEIN_BUF_INIT;
	plein_buf_printf(&b, "%s/..", folder);
	int rc = stat(folder, &st) == 0 && stat(plein_buf_cstr(&b), &up) == 0 ?
		st.st_dev != up.st_dev || st.st_ino == up.st_ino : -1;
	plein_buf_free(&b);
	return rc;
}

/* An empty folder that is not a mount point is what a stick's mount point
 * looks like with no stick in it: a repository made there would land on
 * this machine's own disk and the stick would never see it. A mounted
 * stick, even a fresh empty one, is a mount point; any other place holds
 * something already or is made on purpose with git. */
static int refuse_unplugged(const char *folder, const char *path)
{
	if (dir_empty(folder) != 1 || mount_point(folder) != 0)
		return 0;
	return plein_fail(PLEIN_EINVAL, "%s is an empty folder and no drive is mounted there: is the stick plugged in? "
			  "Nothing was created. To start a relay in an empty folder on this machine's own disk, "
			  "create it first with 'git init --bare %s'", folder, path);
}

static int init_bare(struct ctx *c, const char *path)
{
	git_repository *r = NULL;
	if (git_repository_init(&r, path, 1) < 0) {
		const git_error *e = git_error_last();
		return plein_fail(PLEIN_ERR, "cannot create a repository at %s: %s", path, e ? e->message : "unknown error");
	}
	git_repository_free(r);
	c->res->created = 1;
	return 0;
}

/* Make sure a local path is a repository: create a bare one in a missing
 * or empty folder (a fresh stick), unless that looks like a stick that is
 * not plugged in (refuse_unplugged); refuse anything else. */
static int prepare_local(struct ctx *c, const char *path)
{
	struct stat st;
	if (!path[0] || (strncmp(c->url, "file://", 7) == 0 && path[0] != '/'))
		return plein_fail(PLEIN_EINVAL, "'%s' is not a usable path (use an absolute path, or file:///path)", c->url);
	if (stat(path, &st) != 0) {
		if (errno == EACCES)
			return plein_fail(PLEIN_ERR, "permission denied: cannot look at %s (check who owns the folder)", path);
		if (errno != ENOENT)
			return plein_fail(PLEIN_ERR, "cannot look at %s: %s", path, strerror(errno));
		char *parent = plein_xstrdup(path);
		char *slash = strrchr(parent, '/');
		while (slash && slash > parent && slash[1] == 0) { /* trailing slashes */
			*slash = 0;
			slash = strrchr(parent, '/');
		}
		if (slash)
			*(slash == parent ? slash + 1 : slash) = 0;
		const char *folder = slash ? parent : ".";
		int rc = 0;
		if (stat(folder, &st) != 0 || !S_ISDIR(st.st_mode))
			rc = plein_fail(PLEIN_EINVAL, "cannot create a repository at %s: folder %s does not exist (is the stick mounted?)",
					path, folder);
		else if (access(folder, W_OK) != 0)
			rc = plein_fail(PLEIN_ERR, "permission denied: cannot create %s (check who owns %s, and that the stick is not read-only)",
					path, folder);
		else
			rc = refuse_unplugged(folder, path);
		free(parent);
		return rc < 0 ? rc : init_bare(c, path);
	}
	if (!S_ISDIR(st.st_mode))
		return plein_fail(PLEIN_EINVAL, "%s is a file, not a git repository (point to a bare repository, or to an empty or new folder)", path);
	int empty = dir_empty(path);
	if (empty < 0)
		return plein_fail(PLEIN_ERR, "permission denied: cannot read %s (%s)", path, strerror(errno));
	if (empty)
		return refuse_unplugged(path, path) < 0 ? PLEIN_EINVAL : init_bare(c, path);
	git_repository *r = NULL;
	if (git_repository_open_ext(&r, path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0)
		return plein_fail(PLEIN_EINVAL, "%s is not a git repository and not empty (point to a bare repository, or to an empty or new folder)",
				path);
	git_repository_free(r);
	return 0;
}

/* ---- callbacks ---- */

/* ssh: the agent first (if one runs), then the usual key files; https:
 * credentials go in the URL (https://user:token@host/...). */
static int credentials(git_credential **out, const char *url, const char *user_from_url,
		unsigned int allowed, void *payload)
{
	struct ctx *c = payload;
	const char *user = user_from_url && user_from_url[0] ? user_from_url : "git";
	if (allowed & GIT_CREDENTIAL_USERNAME)
		return git_credential_username_new(out, user);
	if (allowed & GIT_CREDENTIAL_SSH_KEY) {
		static const char *keys[] = { "id_ed25519", "id_ecdsa", "id_rsa" };
		int n = c->auth_tries++;
		if (getenv("SSH_AUTH_SOCK")) {
			if (n == 0)
				return git_credential_ssh_key_from_agent(out, user);
			n--;
		}
		const char *home = getenv("HOME");
		for (size_t i = 0, seen = 0; home && i < sizeof keys / sizeof *keys; i++) {
			char priv[512], pub[520];
			snprintf(priv, sizeof priv, "%s/.ssh/%s", home, keys[i]);
			snprintf(pub, sizeof pub, "%s.pub", priv);
			if (access(priv, R_OK) != 0)
				continue;
			if ((int)seen++ == n)
				return git_credential_ssh_key_new(out, user, access(pub, R_OK) == 0 ? pub : NULL, priv, NULL);
		}
		git_error_set_str(GIT_ERROR_SSH, "no ssh key was accepted (tried the agent and ~/.ssh/id_ed25519, id_ecdsa, id_rsa)");
		return GIT_EAUTH;
	}
	git_error_set_str(GIT_ERROR_HTTP, "authentication required: put the user and token in the URL (https://user:token@host/path)");
	return GIT_EAUTH;
}

static int transfer_progress(const git_indexer_progress *st, void *payload)
{
	struct ctx *c = payload;
	if (c->opts && c->opts->progress)
		c->opts->progress("fetch", st->received_objects, st->total_objects, st->received_bytes, c->opts->payload);
	return 0;
}

static int push_progress(unsigned int current, unsigned int total, size_t bytes, void *payload)
{
	struct ctx *c = payload;
	c->res->sent_objects = total;
	c->res->sent_bytes = bytes;
	if (c->opts && c->opts->progress)
		c->opts->progress("push", current, total, bytes, c->opts->payload);
	return 0;
}

static plein_remote_ref *find_ref(plein_remote_result *r, const char *site)
{
	for (size_t i = 0; i < r->nrefs; i++)
		if (strcmp(r->refs[i].site, site) == 0)
			return &r->refs[i];
	return NULL;
}

/* The remote's verdict per pushed ref: status NULL = accepted. */
static int push_update(const char *refname, const char *status, void *payload)
{
	struct ctx *c = payload;
	if (strncmp(refname, SITES, strlen(SITES)) != 0)
		return 0;
	plein_remote_ref *r = find_ref(c->res, refname + strlen(SITES));
	if (!r)
		return 0;
	if (status) {
		r->status = PLEIN_REMOTE_REJECTED;
		snprintf(r->message, sizeof r->message, "%s", status);
	} else {
		r->status = PLEIN_REMOTE_PUSHED;
		r->remote_seq = r->local_seq;
	}
	return 0;
}

static void set_callbacks(git_remote_callbacks *cb, struct ctx *c)
{
	git_remote_init_callbacks(cb, GIT_REMOTE_CALLBACKS_VERSION);
	cb->credentials = credentials;
	cb->transfer_progress = transfer_progress;
	cb->push_transfer_progress = push_progress;
	cb->push_update_reference = push_update;
	cb->payload = c;
}

/* Fetch refspecs from a network remote, counting what came in. */
static int fetch_specs(struct ctx *c, git_remote *remote, const git_strarray *specs)
{
	git_fetch_options fo;
	git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	set_callbacks(&fo.callbacks, c);
	fo.prune = GIT_FETCH_NO_PRUNE;
	fo.update_fetchhead = 0;
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	int grc = git_remote_fetch(remote, specs, &fo, "plein: fetch");
	const git_indexer_progress *st = git_remote_stats(remote);
	if (st) {
		c->res->received_objects += st->received_objects;
		c->res->received_bytes += st->received_bytes;
	}
	return grc;
}

/* ---- comparing chains ---- */

static int head_cmp(const void *a, const void *b)
{
	return strcmp(((const struct head *)a)->site, ((const struct head *)b)->site);
}

/* The remote's refs/plein/sites/<site-id>, sorted (names plein did not
 * make are ignored). */
static int list_heads(struct head **out, size_t *out_n, git_remote *remote, struct ctx *c)
{
	const git_remote_head **heads;
	size_t n;
	*out = NULL;
	*out_n = 0;
	if (git_remote_ls(&heads, &n, remote) < 0)
		return -1;
	struct head *v = plein_xcalloc(n ? n : 1, sizeof *v);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const char *name = heads[i]->name;
		char norm[PLEIN_SITEID_LEN + 1];
		if (strncmp(name, PERSONAL, strlen(PERSONAL)) == 0 && strlen(name) < PLEIN_LOG_REF_MAX) {
			c->personal = plein_xrealloc(c->personal, (c->npersonal + 1) * sizeof *c->personal);
			plein_personal_head *h = &c->personal[c->npersonal++];
			snprintf(h->name, sizeof h->name, "%s", name);
			git_oid_tostr(h->commit, sizeof h->commit, &heads[i]->oid);
			continue;
		}
		if (strncmp(name, SITES, strlen(SITES)) != 0)
			continue;
		name += strlen(SITES);
		if (strlen(name) != PLEIN_SITEID_LEN || plein_siteid_normalize(norm, name) < 0 || strcmp(norm, name) != 0)
			continue;
		memcpy(v[k].site, name, sizeof v[k].site);
		git_oid_tostr(v[k].commit, sizeof v[k].commit, &heads[i]->oid);
		k++;
	}
	qsort(v, k, sizeof *v, head_cmp);
	*out = v;
	*out_n = k;
	return 0;
}

/* Decide what one site's chains are to each other. ours/theirs are
 * commit ids ("" = none); fetched: the remote's chain is in incoming. */
static void classify(plein_remote_ref *r, plein_log *log, const char *key, const char *ours,
		const char *theirs, int fetched)
{
	char at[PLEIN_LOG_OID_HEX + 1], in[PLEIN_LOG_REF_MAX];
	uint64_t rs = 0;
	if (!theirs[0]) {
		r->status = PLEIN_REMOTE_BEHIND;
		return;
	}
	if (!ours[0] || strcmp(ours, theirs) == 0) {
		r->status = ours[0] ? PLEIN_REMOTE_SAME : PLEIN_REMOTE_AHEAD;
		if (plein_log_commit_seq(&rs, log, theirs) == 0)
			r->remote_seq = rs;
		return;
	}
	if (plein_log_commit_seq(&rs, log, theirs) < 0) {
		r->status = PLEIN_REMOTE_AHEAD; /* not fetched: unknown, but not ours */
		return;
	}
	r->remote_seq = rs;
	snprintf(in, sizeof in, "refs/plein/incoming/%s/%s", key, r->site);
	if (rs < r->local_seq)
		r->status = plein_log_commit_at(at, log, r->site, rs) == 0 && strcmp(at, theirs) == 0 ?
			PLEIN_REMOTE_BEHIND : PLEIN_REMOTE_DIVERGED;
	else if (rs > r->local_seq && !fetched)
		r->status = PLEIN_REMOTE_AHEAD;
	else if (rs > r->local_seq)
		r->status = plein_log_commit_at(at, log, in, r->local_seq) == 0 && strcmp(at, ours) == 0 ?
			PLEIN_REMOTE_AHEAD : PLEIN_REMOTE_DIVERGED;
	else
		r->status = PLEIN_REMOTE_DIVERGED;
	if (r->status == PLEIN_REMOTE_DIVERGED)
		snprintf(r->message, sizeof r->message, "our batch %" PRIu64 " and the remote's %" PRIu64 " are on different chains",
				r->local_seq, rs);
}

/* One result row per site either side has, classified. */
static int compare(struct ctx *c, const struct head *heads, size_t nheads, const char *key, int fetched)
{
	plein_log_ref *tips = NULL;
	size_t ntips = 0, i = 0, j = 0;
	int rc = plein_log_tips(&tips, &ntips, c->log);
	if (rc < 0)
		return rc;
	plein_remote_result *res = c->res;
	res->refs = plein_xcalloc(ntips + nheads + 1, sizeof *res->refs);
	while (i < ntips || j < nheads) {
		int d = i == ntips ? 1 : j == nheads ? -1 : strcmp(tips[i].site, heads[j].site);
		plein_remote_ref *r = &res->refs[res->nrefs++];
		const char *ours = d <= 0 ? tips[i].commit : "", *theirs = d >= 0 ? heads[j].commit : "";
		snprintf(r->site, sizeof r->site, "%s", d <= 0 ? tips[i].site : heads[j].site);
		r->local_seq = d <= 0 ? tips[i].seq : 0;
		classify(r, c->log, key, ours, theirs, fetched);
		if (d >= 0 && heads[j].unreadable) {
			r->status = PLEIN_REMOTE_UNREADABLE;
			snprintf(r->message, sizeof r->message, "%s", heads[j].why);
		}
		i += d <= 0;
		j += d >= 0;
	}
	free(tips);
	return 0;
}

/* ---- a relay on a local path: check before libgit2 reads ---- */

static void unreadable(struct head *h, uint64_t seq, const char *what)
{
	h->unreadable = 1;
	if (seq)
		snprintf(h->why, sizeof h->why, "batch %" PRIu64 ": %s", seq, what);
	else
		snprintf(h->why, sizeof h->why, "%s", what);
}

/* The Plein-Seq trailer of a commit, 0 when it has none. */
static uint64_t trailer_seq(const git_commit *cm)
{
	const char *m = git_commit_message_raw(cm);
	const char *p = m ? strstr(m, "\nPlein-Seq: ") : NULL;
	return p ? strtoull(p + strlen("\nPlein-Seq: "), NULL, 10) : 0;
}

/* Every loose object of a tree, subtrees included (a plein batch has
 * none; a forged tree may). */
static int check_tree(git_repository *relay, const char *path, const git_oid *id, int depth)
{
	char hex[PLEIN_LOG_OID_HEX + 1];
	git_tree *t = NULL;
	int rc = plein_loose_check(path, git_oid_tostr(hex, sizeof hex, id));
	if (rc < 0)
		return rc;
	if (depth > 4)
		return plein_fail(PLEIN_EREJECT, "tree %s is not the tree of a plein batch", hex);
	if (git_tree_lookup(&t, relay, id) < 0)
		return plein_fail(PLEIN_EREJECT, "git object %s is missing or not a tree", hex);
	for (size_t i = 0; i < git_tree_entrycount(t) && rc == 0; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(t, i);
		if (git_tree_entry_type(e) == GIT_OBJECT_TREE)
			rc = check_tree(relay, path, git_tree_entry_id(e), depth + 1);
		else
			rc = plein_loose_check(path, git_oid_tostr(hex, sizeof hex, git_tree_entry_id(e)));
	}
	git_tree_free(t);
	return rc;
}

/* Walk one chain of the relay from its tip down to a commit log.git has,
 * checking every object on the way and noting the commits; mark the head
 * unreadable at the first damaged or missing object. */
static void check_chain(struct head *h, git_repository *relay, git_odb *ours, const char *path)
{
	git_oid id;
	uint64_t seq = 0; /* of the commit at id, when known */
	size_t cap = 0;
	if (git_oid_fromstr(&id, h->commit) < 0)
		return;
	while (!git_odb_exists(ours, &id)) {
		char hex[PLEIN_LOG_OID_HEX + 1];
		git_commit *cm = NULL;
		git_oid_tostr(hex, sizeof hex, &id);
		if (plein_loose_check(path, hex) < 0) {
			unreadable(h, seq, plein_error());
			return;
		}
		if (git_commit_lookup(&cm, relay, &id) < 0) {
			plein_fail(PLEIN_EREJECT, "git object %s is missing or not a commit", hex);
			unreadable(h, seq, plein_error());
			return;
		}
		seq = trailer_seq(cm);
		int rc = check_tree(relay, path, git_commit_tree_id(cm), 0);
		if (rc == 0) {
			if (h->nfresh == cap) {
				cap = cap ? 2 * cap : 16;
				h->fresh = plein_xrealloc(h->fresh, cap * sizeof *h->fresh);
			}
			git_oid_cpy(&h->fresh[h->nfresh++], &id);
		}
		int more = rc == 0 && git_commit_parentcount(cm) > 0;
		if (more)
			git_oid_cpy(&id, git_commit_parent_id(cm, 0));
		git_commit_free(cm);
		if (rc < 0)
			unreadable(h, seq, plein_error());
		if (!more)
			return;
		seq = seq > 1 ? seq - 1 : 0;
	}
}

/* A personal part's commit (parentless, one blob; log.h): a damaged one
 * is not fetched, and the batch waits for a readable copy. */
static int check_personal(git_repository *relay, const char *path, const char *commit)
{
	git_oid id;
	git_commit *cm = NULL;
	int rc = plein_loose_check(path, commit);
	if (rc < 0)
		return rc;
	if (git_oid_fromstr(&id, commit) < 0 || git_commit_lookup(&cm, relay, &id) < 0)
		return plein_fail(PLEIN_EREJECT, "git object %s is missing or not a commit", commit);
	rc = git_commit_parentcount(cm) ? plein_fail(PLEIN_EREJECT, "%s is not a personal part", commit)
					: check_tree(relay, path, git_commit_tree_id(cm), 0);
	git_commit_free(cm);
	return rc;
}

/* A relay on a local path is not fetched through libgit2's local
 * transport: that one packs every chain the relay has, damaged ones too,
 * and libgit2 1.5.1 hangs on a truncated loose object (loose.h). Instead
 * every chain is walked and checked here first (check_chain), and
 * fetch_local packs only the checked commits of readable chains. */
static int check_local(struct ctx *c, struct head *heads, size_t n)
{
	git_odb *ours = NULL;
	if (git_repository_open_ext(&c->relay, c->path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0 ||
			git_repository_odb(&ours, plein_log_repo(c->log)) < 0)
		return remote_fail(c, -1);
	char *gitdir = plein_xstrdup(git_repository_path(c->relay)); /* bare or not; ends in '/' */
	size_t len = strlen(gitdir);
	if (len > 1 && gitdir[len - 1] == '/')
		gitdir[len - 1] = 0;
	for (size_t i = 0; i < n; i++)
		check_chain(&heads[i], c->relay, ours, gitdir);
	c->personal_ok = plein_xcalloc(c->npersonal + 1, 1);
	for (size_t i = 0; i < c->npersonal; i++)
		c->personal_ok[i] = check_personal(c->relay, gitdir, c->personal[i].commit) == 0;
	free(gitdir);
	git_odb_free(ours);
	return 0;
}

/* Write what pb holds into log.git as one pack. */
static int write_pack(struct ctx *c, git_packbuilder *pb)
{
	git_repository *repo = plein_log_repo(c->log);
	if (git_packbuilder_object_count(pb) == 0)
		return 0;
	plein_buf dir = PLEIN_BUF_INIT;
	plein_buf_printf(&dir, "%sobjects/pack", git_repository_path(repo));
	int grc = git_packbuilder_write(pb, plein_buf_cstr(&dir), 0, NULL, NULL);
	/* What came in is the pack's size on disk: git_packbuilder_written
	 * counts objects, not bytes. */
	struct stat st;
	if (grc == 0) {
		plein_buf_printf(&dir, "/pack-%s.pack", git_packbuilder_name(pb));
		if (stat(plein_buf_cstr(&dir), &st) == 0)
			c->res->received_bytes += (size_t)st.st_size;
	}
	plein_buf_free(&dir);
	if (grc < 0)
		return grc;
	git_odb *odb = NULL;
	if (git_repository_odb(&odb, repo) == 0)
		git_odb_refresh(odb);
	git_odb_free(odb);
	c->res->received_objects += git_packbuilder_object_count(pb);
	if (c->opts && c->opts->progress)
		c->opts->progress("fetch", git_packbuilder_object_count(pb), git_packbuilder_object_count(pb),
				c->res->received_bytes, c->opts->payload);
	return 0;
}

static int fetch_local(struct ctx *c, const char *key, const struct head *heads, size_t n)
{
	git_repository *repo = plein_log_repo(c->log);
	git_packbuilder *pb = NULL;
	int grc = git_packbuilder_new(&pb, c->relay);
	if (grc == 0)
		git_packbuilder_set_threads(pb, 1);
	for (size_t i = 0; i < n && grc == 0; i++)
		for (size_t k = 0; !heads[i].unreadable && k < heads[i].nfresh && grc == 0; k++)
			grc = git_packbuilder_insert_commit(pb, &heads[i].fresh[k]);
	if (grc == 0)
		grc = write_pack(c, pb);
	git_packbuilder_free(pb);
	for (size_t i = 0; i < n && grc == 0; i++) {
		char ref[PLEIN_LOG_REF_MAX];
		git_oid id;
		git_reference *r = NULL;
		if (heads[i].unreadable)
			continue;
		snprintf(ref, sizeof ref, "refs/plein/incoming/%s/%s", key, heads[i].site);
		if ((grc = git_oid_fromstr(&id, heads[i].commit)) == 0)
			grc = git_reference_create(&r, repo, ref, &id, 1, "plein: fetch");
		git_reference_free(r);
	}
	return grc < 0 ? remote_fail(c, grc) : 0;
}

/* ---- the sync ---- */

/* Fetch the readable ones of heads[0..n) into incoming. */
static int fetch_heads(struct ctx *c, git_remote *remote, const char *key, const struct head *heads, size_t n)
{
	if (c->path)
		return fetch_local(c, key, heads, n);
	char **specs = plein_xcalloc(n + 1, sizeof *specs);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (heads[i].unreadable)
			continue;
		plein_buf b = PLEIN_BUF_INIT;
		plein_buf_printf(&b, "+" SITES "%s:refs/plein/incoming/%s/%s", heads[i].site, key, heads[i].site);
		specs[k++] = (char *)b.data;
	}
	int grc = 0;
	if (k) {
		git_strarray arr = { specs, k };
		grc = fetch_specs(c, remote, &arr);
	}
	for (size_t i = 0; i < k; i++)
		free(specs[i]);
	free(specs);
	return grc < 0 ? remote_fail(c, grc) : 0;
}

/* Fetch every readable chain at once; when that fails, each on its own,
 * so that one damaged chain does not keep the others out. Fails only when
 * no chain could be fetched. */
static int do_fetch(struct ctx *c, git_remote *remote, const char *key, struct head *heads, size_t n)
{
	size_t readable = 0, fetched = 0;
	for (size_t i = 0; i < n; i++) {
		/* a sync killed while it fetched may have left a lock */
		char ref[PLEIN_LOG_REF_MAX];
		snprintf(ref, sizeof ref, "refs/plein/incoming/%s/%s", key, heads[i].site);
		plein_log_clear_stale_lock(git_repository_path(plein_log_repo(c->log)), ref);
		readable += !heads[i].unreadable;
	}
	int rc = fetch_heads(c, remote, key, heads, n);
	if (rc == 0 || readable < 2)
		return rc;
	char first[400];
	snprintf(first, sizeof first, "%s", plein_error());
	git_remote_disconnect(remote);
	int gone = 0; /* the relay went away: no use trying the rest */
	for (size_t i = 0; i < n; i++) {
		if (heads[i].unreadable)
			continue;
		if (!gone && fetch_heads(c, remote, key, &heads[i], 1) == 0) {
			fetched++;
			continue;
		}
		if (!gone)
			gone = strstr(plein_error(), "cannot reach") || strstr(plein_error(), "permission denied");
		unreadable(&heads[i], 0, plein_error());
		git_remote_disconnect(remote);
	}
	return fetched ? 0 : plein_fail(PLEIN_ERR, "%s", first);
}

/* Personal parts (docs/erasure.md) wait under
 * refs/plein/incoming-personal/<key>/ until they are judged. */
static int fetch_personal(struct ctx *c, git_remote *remote, const char *key)
{
	if (!c->npersonal)
		return 0;
	git_repository *repo = plein_log_repo(c->log);
	int grc = 0;
	for (size_t i = 0; i < c->npersonal; i++) {
		/* a sync killed while it fetched may have left a lock */
		char ref[PLEIN_LOG_REF_MAX + PLEIN_LOG_KEY_MAX + 32];
		snprintf(ref, sizeof ref, "refs/plein/incoming-personal/%s/%s", key, c->personal[i].name + strlen(PERSONAL));
		plein_log_clear_stale_lock(git_repository_path(repo), ref);
	}
	if (c->path) {
		git_packbuilder *pb = NULL;
		if ((grc = git_packbuilder_new(&pb, c->relay)) == 0)
			git_packbuilder_set_threads(pb, 1);
		for (size_t i = 0; i < c->npersonal && grc == 0; i++) {
			git_oid id;
			if (c->personal_ok[i] && (grc = git_oid_fromstr(&id, c->personal[i].commit)) == 0)
				grc = git_packbuilder_insert_commit(pb, &id);
		}
		if (grc == 0)
			grc = write_pack(c, pb);
		git_packbuilder_free(pb);
		for (size_t i = 0; i < c->npersonal && grc == 0; i++) {
			char ref[PLEIN_LOG_REF_MAX + PLEIN_LOG_KEY_MAX + 32];
			git_oid id;
			git_reference *r = NULL;
			if (!c->personal_ok[i])
				continue;
			snprintf(ref, sizeof ref, "refs/plein/incoming-personal/%s/%s", key,
				 c->personal[i].name + strlen(PERSONAL));
			if ((grc = git_oid_fromstr(&id, c->personal[i].commit)) == 0)
				grc = git_reference_create(&r, repo, ref, &id, 1, "plein: fetch");
			git_reference_free(r);
		}
		return grc < 0 ? remote_fail(c, grc) : 0;
	}
	char spec[PLEIN_LOG_REF_MAX + 40];
	char *specs[] = { spec };
	git_strarray arr = { specs, 1 };
	snprintf(spec, sizeof spec, "+" PERSONAL "*:refs/plein/incoming-personal/%s/*", key);
	grc = fetch_specs(c, remote, &arr);
	git_remote_disconnect(remote);
	return grc < 0 ? remote_fail(c, grc) : 0;
}

/* Bytes of the files under a relay's objects folder (objects/xx/...,
 * objects/pack/...). libgit2's local transport reports a push to a path
 * as a few bytes; the growth of this sum is what the stick really got. */
static uint64_t objects_bytes(const char *path)
{
	plein_buf dir = PLEIN_BUF_INIT, f = PLEIN_BUF_INIT;
	struct stat st;
	uint64_t sum = 0;
	plein_buf_printf(&dir, "%s/objects", path);
	if (stat(plein_buf_cstr(&dir), &st) != 0) { /* a repository with a work tree */
		plein_buf_free(&dir);
		plein_buf_printf(&dir, "%s/.git/objects", path);
	}
	DIR *top = opendir(plein_buf_cstr(&dir));
	for (struct dirent *e; top && (e = readdir(top));) {
		if (e->d_name[0] == '.')
			continue;
		plein_buf_reset(&f);
		plein_buf_printf(&f, "%s/%s", plein_buf_cstr(&dir), e->d_name);
		DIR *sub = opendir(plein_buf_cstr(&f));
		size_t base = f.len;
		for (struct dirent *g; sub && (g = readdir(sub));) {
			f.len = base;
			plein_buf_printf(&f, "/%s", g->d_name);
			if (g->d_name[0] != '.' && stat(plein_buf_cstr(&f), &st) == 0 && S_ISREG(st.st_mode))
				sum += (uint64_t)st.st_size;
		}
		if (sub)
			closedir(sub);
	}
	if (top)
		closedir(top);
	plein_buf_free(&dir);
	plein_buf_free(&f);
	return sum;
}

static int do_push(struct ctx *c, git_remote *remote)
{
	plein_remote_result *res = c->res;
	char **ppush = NULL;
	size_t npush = 0, n = 0;
	/* Personal parts the remote lacks, or holds with values we purged;
	 * never one it holds already purged (plein_personal_reconcile). */
	int rc = plein_personal_reconcile(&ppush, &npush, c->log, c->personal, c->npersonal);
	if (rc < 0)
		return rc;
	char **specs = plein_xcalloc(res->nrefs + npush + 1, sizeof *specs);
	size_t nspecs_personal = npush;
	for (size_t i = 0; i < npush; i++) {
		plein_buf b = PLEIN_BUF_INIT;
		if (c->path) /* as for the chains below */
			plein_log_clear_stale_lock(c->path, ppush[i]);
		plein_buf_printf(&b, "+%s:%s", ppush[i], ppush[i]);
		specs[n++] = (char *)b.data;
		free(ppush[i]);
	}
	free(ppush);
	for (size_t i = 0; i < res->nrefs; i++) {
		plein_remote_ref *r = &res->refs[i];
		if (r->status != PLEIN_REMOTE_BEHIND || !r->local_seq)
			continue;
		plein_buf b = PLEIN_BUF_INIT;
		plein_buf_printf(&b, SITES "%s:" SITES "%s", r->site, r->site);
		specs[n++] = (char *)b.data;
		if (c->path) { /* a killed push's lock would keep the chain out for ever */
			char ref[PLEIN_LOG_REF_MAX];
			snprintf(ref, sizeof ref, SITES "%s", r->site);
			plein_log_clear_stale_lock(c->path, ref);
		}
		/* until the remote says otherwise */
		r->status = PLEIN_REMOTE_REJECTED;
		snprintf(r->message, sizeof r->message, "the push did not finish");
	}
	if (n) {
		git_strarray arr = { specs, n };
		git_push_options po;
		git_push_options_init(&po, GIT_PUSH_OPTIONS_VERSION);
		set_callbacks(&po.callbacks, c);
		po.pb_parallelism = 1;
		c->pushing = 1;
		uint64_t before = c->path ? objects_bytes(c->path) : 0;
		int grc = git_remote_push(remote, &arr, &po);
		uint64_t after = c->path ? objects_bytes(c->path) : 0;
		if (after > before && after - before > res->sent_bytes)
			res->sent_bytes = (size_t)(after - before);
		if (grc < 0)
			rc = remote_fail(c, grc);
		/* A stick holds no erased bytes either (docs/erasure.md). */
		else if (c->path && nspecs_personal)
			rc = plein_personal_prune_relay(c->path, c->personal, c->npersonal, specs, nspecs_personal);
	}
	for (size_t i = 0; i < n; i++)
		free(specs[i]);
	free(specs);
	return rc;
}

static void tally(plein_remote_result *r)
{
	memset(r->count, 0, sizeof r->count);
	for (size_t i = 0; i < r->nrefs; i++)
		r->count[r->refs[i].status]++;
}

int plein_remote_sync(plein_remote_result *out, plein_log *log, const char *url,
		const plein_remote_opts *opts)
{
	struct ctx c = { .log = log, .url = url, .opts = opts, .res = out };
	git_remote *remote = NULL;
	git_remote_callbacks cb;
	struct head *heads = NULL;
	size_t nheads = 0;
	char *path = NULL;
	int rc = 0, grc;
	memset(out, 0, sizeof *out);
	int what = opts && opts->what ? opts->what : PLEIN_REMOTE_FETCH | PLEIN_REMOTE_PUSH;
	if (!url || !url[0])
		return plein_fail(PLEIN_EINVAL, "no remote given: name a peer, a path or a git URL");
	if (opts && opts->key)
		snprintf(out->key, sizeof out->key, "%s", opts->key);
	else
		plein_remote_key(out->key, url);
	if ((rc = plein_log_check_key(out->key)) < 0)
		return rc;
	if ((path = local_path(url)) && (rc = prepare_local(&c, path)) < 0)
		goto done;
	c.path = path;
	/* No url.<base>.insteadOf rewriting: the URL is used as given (and
	 * libgit2 1.5's config regex match leaks on every miss). */
	git_remote_create_options co;
	git_remote_create_options_init(&co, GIT_REMOTE_CREATE_OPTIONS_VERSION);
	co.repository = plein_log_repo(log);
	co.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	if (git_remote_create_with_opts(&remote, url, &co) < 0) {
		const git_error *e = git_error_last();
		rc = plein_fail(PLEIN_EINVAL, "'%s' is not a git remote URL: %s", url, e ? e->message : "unknown error");
		goto done;
	}
	set_callbacks(&cb, &c);
	if ((grc = git_remote_connect(remote, GIT_DIRECTION_FETCH, &cb, NULL, NULL)) < 0 ||
			(grc = list_heads(&heads, &nheads, remote, &c)) < 0) {
		rc = remote_fail(&c, grc);
		goto done;
	}
	if (what & PLEIN_REMOTE_FETCH) {
		if ((path && (rc = check_local(&c, heads, nheads)) < 0) ||
		    (rc = do_fetch(&c, remote, out->key, heads, nheads)) < 0 ||
		    (rc = fetch_personal(&c, remote, out->key)) < 0)
			goto done;
	}
	git_remote_disconnect(remote); /* a push connects again, for pushing */
	if ((rc = compare(&c, heads, nheads, out->key, what & PLEIN_REMOTE_FETCH)) < 0)
		goto done;
	if (what & PLEIN_REMOTE_PUSH)
		rc = do_push(&c, remote);
done:
	tally(out);
	for (size_t i = 0; i < nheads; i++)
		free(heads[i].fresh);
	free(c.personal);
	free(c.personal_ok);
	free(heads);
	git_repository_free(c.relay);
	free(path);
	git_remote_free(remote);
	return rc;
}

char *plein_remote_local_path(const char *url)
{
	return local_path(url);
}
