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

#define SITES "refs/plein/sites/"

/* A remote's tip for one site, as listed. */
struct head {
	char site[PLEIN_SITEID_LEN + 1];
	char commit[PLEIN_LOG_OID_HEX + 1];
};

struct ctx {
	plein_log *log;
	const char *url;
	const plein_remote_opts *opts;
	plein_remote_result *res;
	int auth_tries;
	int pushing; /* the phase, for messages */
};

const char *plein_remote_status_name(plein_remote_status s)
{
	static const char *names[] = { "same", "pushed", "behind", "ahead", "diverged", "rejected" };
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
 * or empty folder (a fresh stick); refuse anything else. */
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
		free(parent);
		return rc < 0 ? rc : init_bare(c, path);
	}
	if (!S_ISDIR(st.st_mode))
		return plein_fail(PLEIN_EINVAL, "%s is a file, not a git repository (point to a bare repository, or to an empty or new folder)", path);
	int empty = dir_empty(path);
	if (empty < 0)
		return plein_fail(PLEIN_ERR, "permission denied: cannot read %s (%s)", path, strerror(errno));
	if (empty)
		return init_bare(c, path);
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

/* ---- comparing chains ---- */

static int head_cmp(const void *a, const void *b)
{
	return strcmp(((const struct head *)a)->site, ((const struct head *)b)->site);
}

/* The remote's refs/plein/sites/<site-id>, sorted (names plein did not
 * make are ignored). */
static int list_heads(struct head **out, size_t *out_n, git_remote *remote)
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
		i += d <= 0;
		j += d >= 0;
	}
	free(tips);
	return 0;
}

/* ---- the sync ---- */

static int do_fetch(struct ctx *c, git_remote *remote, const char *key)
{
	char spec[PLEIN_LOG_REF_MAX + 40];
	char *specs[] = { spec };
	git_strarray arr = { specs, 1 };
	git_fetch_options fo;
	git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	set_callbacks(&fo.callbacks, c);
	fo.prune = GIT_FETCH_NO_PRUNE;
	fo.update_fetchhead = 0;
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	snprintf(spec, sizeof spec, "+" SITES "*:refs/plein/incoming/%s/*", key);
	int grc = git_remote_fetch(remote, &arr, &fo, "plein: fetch");
	const git_indexer_progress *st = git_remote_stats(remote);
	if (st) {
		c->res->received_objects = st->received_objects;
		c->res->received_bytes = st->received_bytes;
	}
	return grc < 0 ? remote_fail(c, grc) : 0;
}

static int do_push(struct ctx *c, git_remote *remote)
{
	plein_remote_result *res = c->res;
	char **specs = plein_xcalloc(res->nrefs + 1, sizeof *specs);
	size_t n = 0;
	int rc = 0;
	for (size_t i = 0; i < res->nrefs; i++) {
		plein_remote_ref *r = &res->refs[i];
		if (r->status != PLEIN_REMOTE_BEHIND || !r->local_seq)
			continue;
		plein_buf b = PLEIN_BUF_INIT;
		plein_buf_printf(&b, SITES "%s:" SITES "%s", r->site, r->site);
		specs[n++] = (char *)b.data;
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
		int grc = git_remote_push(remote, &arr, &po);
		if (grc < 0)
			rc = remote_fail(c, grc);
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
			(grc = list_heads(&heads, &nheads, remote)) < 0) {
		rc = remote_fail(&c, grc);
		goto done;
	}
	if (what & PLEIN_REMOTE_FETCH) {
		if ((rc = do_fetch(&c, remote, out->key)) < 0)
			goto done;
	} else {
		git_remote_disconnect(remote);
	}
	if ((rc = compare(&c, heads, nheads, out->key, what & PLEIN_REMOTE_FETCH)) < 0)
		goto done;
	if (what & PLEIN_REMOTE_PUSH)
		rc = do_push(&c, remote);
done:
	tally(out);
	free(heads);
	free(path);
	git_remote_free(remote);
	return rc;
}

char *plein_remote_local_path(const char *url)
{
	return local_path(url);
}
