/* The change log in log.git (design §5; layout in docs/log-format.md).
 *
 * Objects are composed byte for byte here (not through git_tree_create /
 * git_commit_create) so that the commit id of a batch is a pure function
 * of the batch: the same at every site, and checkable when a chain comes
 * in from a git remote (load_meta recomputes it). */
#include "plein/log.h"

#include <dirent.h>
#include <git2.h>
#include <git2/sys/odb_backend.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "plein/error.h"

#define SITES "refs/plein/sites/"
#define INCOMING "refs/plein/incoming/"
#define HELD "refs/plein/held/"
#define FORKS "refs/plein/forks/"
#define PERSONAL "refs/plein/personal/"
#define INPERSONAL "refs/plein/incoming-personal/"
#define EMAIL_DOMAIN "plein.invalid"

/* seq -> commit of one ref's chain, kept while the ref does not move, and
 * extended when it moves forward. */
struct chain {
	char *ref;
	git_oid tip;
	uint64_t base; /* seq of oids[0] */
	git_oid *oids;
	size_t n, cap;
};

struct plein_log {
	git_repository *repo;
	struct chain **chains;
	size_t nchains;
};

/* The blob ids of a batch. */
struct parts {
	git_oid header, sig, payload, personal;
	int has_personal;
};

/* A stored batch commit, parsed and checked, blobs not read. */
struct meta {
	git_oid id, tree, parent;
	int has_parent;
	char site[PLEIN_SITEID_LEN + 1];
	uint64_t seq;
	int64_t time;
	char summary[PLEIN_LOG_MAX_SUMMARY + 1];
	struct parts p;
};

/* The tip of a ref: have = 0 when the ref does not exist. */
struct tip {
	int have;
	git_oid oid;
	uint64_t seq;
};

static int gfail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int gfail(int code, const char *fmt, ...)
{
	char what[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	const git_error *e = git_error_last();
	return plein_fail(code, "%s: %s", what, e && e->message ? e->message : "unknown git error");
}

static int check_site(const char *site)
{
	char norm[PLEIN_SITEID_LEN + 1];
	if (!site || strlen(site) != PLEIN_SITEID_LEN || plein_siteid_normalize(norm, site) < 0 ||
			strcmp(norm, site) != 0)
		return plein_fail(PLEIN_EINVAL, "'%s' is not a site id in canonical form (like 2F1A-0TNN-PF0H-MQK5)",
				site ? site : "");
	return 0;
}

int plein_log_check_key(const char *key)
{
	size_t n = key ? strlen(key) : 0;
	int ok = n >= 1 && n <= PLEIN_LOG_KEY_MAX && key[0] != '.' && !strstr(key, "..") &&
		!(n >= 5 && strcmp(key + n - 5, ".lock") == 0);
	for (size_t i = 0; ok && i < n; i++) {
		char c = key[i];
		ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			c == '-' || c == '_' || c == '.';
	}
	if (!ok)
		return plein_fail(PLEIN_EINVAL, "'%s' cannot name a remote in the log: use 1 to %d letters, digits, '-', '_' or '.'",
				key ? key : "", PLEIN_LOG_KEY_MAX);
	return 0;
}

/* Decimal u64 without sign or leading zeros; advances *p. */
static int parse_u64(const char **p, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	size_t n = 0;
	while (s[n] >= '0' && s[n] <= '9') {
		unsigned d = (unsigned)(s[n] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
		n++;
	}
	if (n == 0 || (n > 1 && s[0] == '0'))
		return -1;
	*p = s + n;
	*out = v;
	return 0;
}

static int check_summary(const char *s)
{
	if (!s)
		return 0;
	size_t n = strlen(s);
	if (n > PLEIN_LOG_MAX_SUMMARY)
		return -1;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return -1;
	return 0;
}

static int is_hex_oid(const char *s)
{
	if (strlen(s) != PLEIN_LOG_OID_HEX)
		return 0;
	for (const char *p = s; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return 0;
	return 1;
}

static int check_batch(const plein_log_batch *b)
{
	int rc = check_site(b->site);
	if (rc < 0)
		return rc;
	if (b->seq < 1 || b->seq > INT64_MAX)
		return plein_fail(PLEIN_EINVAL, "batch of site %s has seq %" PRIu64 ": sequence numbers start at 1", b->site, b->seq);
	if (b->time < 0)
		return plein_fail(PLEIN_EINVAL, "batch %" PRIu64 " of site %s has a time before 1970", b->seq, b->site);
	if (check_summary(b->summary) < 0)
		return plein_fail(PLEIN_EINVAL, "summary of batch %" PRIu64 " of site %s must be one line of at most %d bytes",
				b->seq, b->site, PLEIN_LOG_MAX_SUMMARY);
	if (!b->header || b->header_len < 1 || b->header_len > PLEIN_LOG_MAX_HEADER)
		return plein_fail(PLEIN_EINVAL, "batch %" PRIu64 " of site %s: header must be 1 to %d bytes",
				b->seq, b->site, PLEIN_LOG_MAX_HEADER);
	if (!b->sig)
		return plein_fail(PLEIN_EINVAL, "batch %" PRIu64 " of site %s has no signature", b->seq, b->site);
	if ((b->payload_len && !b->payload) || b->payload_len > PLEIN_LOG_MAX_PAYLOAD ||
			(b->personal_len && !b->personal) || b->personal_len > PLEIN_LOG_MAX_PAYLOAD)
		return plein_fail(PLEIN_EINVAL, "batch %" PRIu64 " of site %s: payload missing or larger than %u bytes",
				b->seq, b->site, PLEIN_LOG_MAX_PAYLOAD);
	if (b->parent && b->parent[0] && !is_hex_oid(b->parent))
		return plein_fail(PLEIN_EINVAL, "'%s' is not a commit id (40 lower-case hex digits)", b->parent);
	return 0;
}

/* ---- the canonical objects ---- */

static void compose_message(plein_buf *m, const char *site, uint64_t seq, const char *summary)
{
	plein_buf_printf(m, "batch %" PRIu64 " from %s", seq, site);
	if (summary && summary[0])
		plein_buf_printf(m, ": %s", summary);
	plein_buf_printf(m, "\n\nPlein-Site: %s\nPlein-Seq: %" PRIu64 "\n", site, seq);
}

static void tree_entry(plein_buf *t, const char *name, const git_oid *id)
{
	plein_buf_printf(t, "100644 %s", name);
	plein_buf_putc(t, 0);
	plein_buf_put(t, id->id, GIT_OID_RAWSZ);
}

/* Entries in git's order (byte order of names): header payload personal sig. */
static void compose_tree(plein_buf *t, const struct parts *p)
{
	tree_entry(t, "header", &p->header);
	tree_entry(t, "payload", &p->payload);
	if (p->has_personal)
		tree_entry(t, "personal", &p->personal);
	tree_entry(t, "sig", &p->sig);
}

static void compose_commit(plein_buf *c, const git_oid *tree, const git_oid *parent,
		const char *site, uint64_t seq, int64_t time, const char *summary)
{
	char hex[GIT_OID_HEXSZ + 1];
	plein_buf_printf(c, "tree %s\n", git_oid_tostr(hex, sizeof hex, tree));
	if (parent)
		plein_buf_printf(c, "parent %s\n", git_oid_tostr(hex, sizeof hex, parent));
	plein_buf_printf(c, "author %s <%s@" EMAIL_DOMAIN "> %" PRId64 " +0000\n", site, site, time);
	plein_buf_printf(c, "committer %s <%s@" EMAIL_DOMAIN "> %" PRId64 " +0000\n\n", site, site, time);
	compose_message(c, site, seq, summary);
}

/* Objects collected for a packfile (see pack_write). Blob data is lent
 * from the caller's batches; trees and commits are copied into arena. */
struct pobj {
	git_oid id;
	git_object_t type;
	const void *data; /* lent, or NULL: arena + off */
	size_t off, len;
};

struct objlist {
	struct pobj *v;
	size_t n, cap;
	plein_buf arena;
};

/* Where put_batch puts objects: nowhere (hash only), an odb (loose
 * objects), or a list for one packfile. */
struct sink {
	git_odb *odb;
	struct objlist *list;
};

static int put_object(const struct sink *s, git_oid *id, const void *data, size_t len,
		git_object_t type, int lent)
{
	data = data ? data : "";
	if (s->odb)
		return git_odb_write(id, s->odb, data, len, type);
	if (git_odb_hash(id, data, len, type) < 0)
		return -1;
	if (s->list) {
		struct objlist *l = s->list;
		if (l->n == l->cap) {
			l->cap = l->cap ? 2 * l->cap : 256;
			l->v = plein_xrealloc(l->v, l->cap * sizeof *l->v);
		}
		struct pobj *o = &l->v[l->n++];
		git_oid_cpy(&o->id, id);
		o->type = type;
		o->len = len;
		o->data = lent ? data : NULL;
		o->off = l->arena.len;
		if (!lent)
			plein_buf_put(&l->arena, data, len);
	}
	return 0;
}

/* What put_batch wrote: the commit, the header blob (which names the
 * batch's personal ref) and the personal part's commit, if any. */
struct put_out {
	git_oid commit, header, personal;
	int has_personal;
};

/* A personal part is kept as a parentless commit whose tree holds one
 * blob, "personal": git remotes carry commits (libgit2 cannot push a ref
 * that names a blob), and two sites that purged a part the same way make
 * the same commit. */
static void compose_personal_commit(plein_buf *c, const git_oid *tree, const char *site, uint64_t seq,
		const git_oid *header)
{
	char hex[GIT_OID_HEXSZ + 1], hh[GIT_OID_HEXSZ + 1];
	plein_buf_printf(c, "tree %s\n", git_oid_tostr(hex, sizeof hex, tree));
	plein_buf_printf(c, "author %s <%s@" EMAIL_DOMAIN "> 0 +0000\n", site, site);
	plein_buf_printf(c, "committer %s <%s@" EMAIL_DOMAIN "> 0 +0000\n\n", site, site);
	plein_buf_printf(c, "personal part of batch %" PRIu64 " from %s\n\nPlein-Site: %s\nPlein-Seq: %" PRIu64
			"\nPlein-Header: %s\n", seq, site, site, seq, git_oid_tostr(hh, sizeof hh, header));
}

static int put_personal(git_oid *out_commit, git_oid *out_blob, const struct sink *s, const char *site,
		uint64_t seq, const git_oid *header, const unsigned char *data, size_t len)
{
	plein_buf t = PLEIN_BUF_INIT, c = PLEIN_BUF_INIT;
	git_oid blob, tree;
	int rc = 0;
	if (put_object(s, &blob, data, len, GIT_OBJECT_BLOB, 1) < 0) {
		rc = -1;
		goto done;
	}
	tree_entry(&t, "personal", &blob);
	if (put_object(s, &tree, t.data, t.len, GIT_OBJECT_TREE, 0) < 0) {
		rc = -1;
		goto done;
	}
	compose_personal_commit(&c, &tree, site, seq, header);
	if (put_object(s, out_commit, c.data, c.len, GIT_OBJECT_COMMIT, 0) < 0)
		rc = -1;
	if (out_blob)
		git_oid_cpy(out_blob, &blob);
done:
	plein_buf_free(&t);
	plein_buf_free(&c);
	return rc;
}

/* Write (or only hash) the objects of a batch. The personal part is a
 * blob of its own outside the commit's tree (its ref is the caller's), so
 * purging it never changes a commit id. */
static int put_batch(struct put_out *out, const struct sink *s, const plein_log_batch *b, const git_oid *parent)
{
	struct parts p = { .has_personal = 0 };
	plein_buf t = PLEIN_BUF_INIT, c = PLEIN_BUF_INIT;
	git_oid tree;
	int rc = 0;
	memset(out, 0, sizeof *out);
	if (put_object(s, &p.header, b->header, b->header_len, GIT_OBJECT_BLOB, 1) < 0 ||
			put_object(s, &p.sig, b->sig, PLEIN_LOG_SIG_LEN, GIT_OBJECT_BLOB, 1) < 0 ||
			put_object(s, &p.payload, b->payload, b->payload_len, GIT_OBJECT_BLOB, 1) < 0 ||
			(b->personal && put_personal(&out->personal, NULL, s, b->site, b->seq, &p.header,
					b->personal, b->personal_len) < 0))
		goto fail;
	out->has_personal = b->personal != NULL;
	git_oid_cpy(&out->header, &p.header);
	compose_tree(&t, &p);
	if (put_object(s, &tree, t.data, t.len, GIT_OBJECT_TREE, 0) < 0)
		goto fail;
	compose_commit(&c, &tree, parent, b->site, b->seq, b->time, b->summary);
	if (put_object(s, &out->commit, c.data, c.len, GIT_OBJECT_COMMIT, 0) < 0)
		goto fail;
	goto done;
fail:
	rc = gfail(PLEIN_ERR, "cannot store batch %" PRIu64 " of site %s", b->seq, b->site);
done:
	plein_buf_free(&t);
	plein_buf_free(&c);
	return rc;
}

/* ---- reading commits ---- */

/* The seq in a commit's Plein-Seq trailer: all the index needs. */
static int commit_seq(uint64_t *out, const git_commit *c)
{
	const char *m = git_commit_message_raw(c);
	const char *p = m ? strstr(m, "\nPlein-Seq: ") : NULL;
	if (!p)
		return -1;
	p += strlen("\nPlein-Seq: ");
	if (parse_u64(&p, out) < 0 || *p != '\n' || *out < 1)
		return -1;
	return 0;
}

static int reject(const git_oid *id, const char *why)
{
	char hex[GIT_OID_HEXSZ + 1];
	return plein_fail(PLEIN_EREJECT, "commit %s in log.git is not a plein batch: %s",
			git_oid_tostr(hex, sizeof hex, id), why);
}

/* Site, seq and summary from a message; the caller checks the whole
 * message against compose_message. */
static int parse_message(struct meta *m, const char *msg)
{
	const char *p = strstr(msg, "\n\nPlein-Site: ");
	if (!p)
		return -1;
	p += strlen("\n\nPlein-Site: ");
	const char *nl = strchr(p, '\n');
	if (!nl || nl - p != PLEIN_SITEID_LEN)
		return -1;
	memcpy(m->site, p, PLEIN_SITEID_LEN);
	m->site[PLEIN_SITEID_LEN] = 0;
	if (strncmp(nl, "\nPlein-Seq: ", strlen("\nPlein-Seq: ")) != 0)
		return -1;
	p = nl + strlen("\nPlein-Seq: ");
	if (parse_u64(&p, &m->seq) < 0 || m->seq < 1)
		return -1;
	/* subject: "batch N from SITE" [": summary"] */
	plein_buf pre = PLEIN_BUF_INIT;
	plein_buf_printf(&pre, "batch %" PRIu64 " from %s", m->seq, m->site);
	int ok = strncmp(msg, (char *)pre.data, pre.len) == 0;
	const char *s = msg + pre.len;
	plein_buf_free(&pre);
	m->summary[0] = 0;
	if (ok && strncmp(s, ": ", 2) == 0) {
		s += 2;
		nl = strchr(s, '\n');
		if (!nl || nl - s > PLEIN_LOG_MAX_SUMMARY)
			return -1;
		memcpy(m->summary, s, (size_t)(nl - s));
		m->summary[nl - s] = 0;
	}
	return ok ? 0 : -1;
}

static int blob_size(size_t *out, git_odb *odb, const git_oid *id)
{
	git_object_t type;
	if (git_odb_read_header(out, &type, odb, id) < 0 || type != GIT_OBJECT_BLOB)
		return -1;
	return 0;
}

/* Parse a batch commit and check it is exactly what put_batch writes:
 * the tree and commit are recomposed and hashed. */
static int load_meta(struct meta *m, plein_log *log, const git_oid *id)
{
	git_commit *c = NULL;
	git_tree *t = NULL;
	git_odb *odb = NULL;
	plein_buf buf = PLEIN_BUF_INIT;
	git_oid h;
	int rc = 0;
	memset(m, 0, sizeof *m);
	git_oid_cpy(&m->id, id);
	if (git_commit_lookup(&c, log->repo, id) < 0) {
		char hex[GIT_OID_HEXSZ + 1];
		rc = gfail(PLEIN_ERR, "log.git lacks commit %s", git_oid_tostr(hex, sizeof hex, id));
		goto done;
	}
	if (parse_message(m, git_commit_message_raw(c)) < 0 || check_site(m->site) < 0 ||
			check_summary(m->summary) < 0) {
		rc = reject(id, "its message is not 'batch N from SITE' with Plein-Site and Plein-Seq trailers");
		goto done;
	}
	unsigned np = git_commit_parentcount(c);
	if (np > 1) {
		rc = reject(id, "it has more than one parent");
		goto done;
	}
	if (np == 1) {
		m->has_parent = 1;
		git_oid_cpy(&m->parent, git_commit_parent_id(c, 0));
	}
	m->time = git_commit_time(c);
	git_oid_cpy(&m->tree, git_commit_tree_id(c));
	if (git_tree_lookup(&t, log->repo, &m->tree) < 0) {
		rc = gfail(PLEIN_ERR, "log.git lacks the tree of a batch");
		goto done;
	}
	int seen = 0;
	for (size_t i = 0; i < git_tree_entrycount(t); i++) {
		const git_tree_entry *e = git_tree_entry_byindex(t, i);
		const char *name = git_tree_entry_name(e);
		git_oid *slot = !strcmp(name, "header") ? &m->p.header :
			!strcmp(name, "sig") ? &m->p.sig :
			!strcmp(name, "payload") ? &m->p.payload :
			!strcmp(name, "personal") ? &m->p.personal : NULL;
		if (!slot || git_tree_entry_type(e) != GIT_OBJECT_BLOB) {
			rc = reject(id, "its tree holds something other than header, sig, payload and personal blobs");
			goto done;
		}
		git_oid_cpy(slot, git_tree_entry_id(e));
		seen |= slot == &m->p.header ? 1 : slot == &m->p.sig ? 2 : slot == &m->p.payload ? 4 : 8;
	}
	m->p.has_personal = (seen & 8) != 0;
	if ((seen & 7) != 7) {
		rc = reject(id, "its tree lacks header, sig or payload");
		goto done;
	}
	compose_tree(&buf, &m->p);
	if (git_odb_hash(&h, buf.data, buf.len, GIT_OBJECT_TREE) < 0 || !git_oid_equal(&h, &m->tree)) {
		rc = reject(id, "its tree is not in canonical form");
		goto done;
	}
	plein_buf_reset(&buf);
	compose_commit(&buf, &m->tree, m->has_parent ? &m->parent : NULL, m->site, m->seq, m->time, m->summary);
	if (git_odb_hash(&h, buf.data, buf.len, GIT_OBJECT_COMMIT) < 0 || !git_oid_equal(&h, id)) {
		rc = reject(id, "the commit is not in canonical form (author, committer, time or message differ)");
		goto done;
	}
	size_t n;
	if (git_repository_odb(&odb, log->repo) < 0) {
		rc = gfail(PLEIN_ERR, "cannot read log.git");
		goto done;
	}
	if (blob_size(&n, odb, &m->p.sig) < 0 || n != PLEIN_LOG_SIG_LEN ||
			blob_size(&n, odb, &m->p.header) < 0 || n < 1 || n > PLEIN_LOG_MAX_HEADER ||
			blob_size(&n, odb, &m->p.payload) < 0 || n > PLEIN_LOG_MAX_PAYLOAD ||
			(m->p.has_personal && (blob_size(&n, odb, &m->p.personal) < 0 || n > PLEIN_LOG_MAX_PAYLOAD)))
		rc = reject(id, "a blob is missing or has the wrong size");
done:
	plein_buf_free(&buf);
	git_odb_free(odb);
	git_tree_free(t);
	git_commit_free(c);
	return rc;
}

static int read_blob(plein_buf *out, plein_log *log, const git_oid *id)
{
	git_blob *b = NULL;
	if (git_blob_lookup(&b, log->repo, id) < 0)
		return gfail(PLEIN_ERR, "cannot read a batch blob from log.git");
	plein_buf_put(out, git_blob_rawcontent(b), (size_t)git_blob_rawsize(b));
	git_blob_free(b);
	return 0;
}

static void personal_ref(char out[PLEIN_LOG_REF_MAX], const char *site, uint64_t seq, const git_oid *header)
{
	char hex[GIT_OID_HEXSZ + 1];
	snprintf(out, PLEIN_LOG_REF_MAX, PERSONAL "%s/%" PRIu64 "/%s", site, seq,
			git_oid_tostr(hex, sizeof hex, header));
}

/* The blob of a personal-part commit (its tree's one entry "personal"). */
static int personal_blob(git_oid *out, plein_log *log, const git_oid *commit)
{
	git_commit *c = NULL;
	git_tree *t = NULL;
	char hex[GIT_OID_HEXSZ + 1];
	int rc = 0;
	if (git_commit_lookup(&c, log->repo, commit) < 0 || git_commit_tree(&t, c) < 0) {
		rc = gfail(PLEIN_ERR, "log.git lacks personal part %s", git_oid_tostr(hex, sizeof hex, commit));
		goto done;
	}
	const git_tree_entry *e = git_tree_entry_byname(t, "personal");
	if (!e || git_tree_entrycount(t) != 1 || git_tree_entry_type(e) != GIT_OBJECT_BLOB || git_commit_parentcount(c) != 0)
		rc = plein_fail(PLEIN_EREJECT, "commit %s in log.git is not a personal part (one blob 'personal', no parent)",
				git_oid_tostr(hex, sizeof hex, commit));
	else
		git_oid_cpy(out, git_tree_entry_id(e));
done:
	git_tree_free(t);
	git_commit_free(c);
	return rc;
}

/* attach: look up the batch's personal part under refs/plein/personal/
 * (chains and held batches; not incoming chains or fork proofs, whose
 * personal parts are judged apart). A personal blob inside the commit's
 * tree (the format before personal refs) is read either way. */
static int read_entry(plein_log_entry *out, plein_log *log, const git_oid *id, int attach)
{
	struct meta m;
	char pref[PLEIN_LOG_REF_MAX];
	git_oid pid;
	memset(out, 0, sizeof *out);
	int rc = load_meta(&m, log, id);
	if (rc < 0)
		return rc;
	memcpy(out->site, m.site, sizeof out->site);
	out->seq = m.seq;
	out->time = m.time;
	git_oid_tostr(out->commit, sizeof out->commit, &m.id);
	if (m.has_parent)
		git_oid_tostr(out->parent, sizeof out->parent, &m.parent);
	git_oid_tostr(out->header_id, sizeof out->header_id, &m.p.header);
	memcpy(out->summary, m.summary, sizeof out->summary);
	if (attach) {
		personal_ref(pref, m.site, m.seq, &m.p.header);
		int grc = git_reference_name_to_id(&pid, log->repo, pref);
		if (grc == 0) {
			m.p.has_personal = 1;
			if ((rc = personal_blob(&m.p.personal, log, &pid)) < 0)
				return rc;
		} else if (grc != GIT_ENOTFOUND) {
			return gfail(PLEIN_ERR, "cannot read %s", pref);
		}
	}
	out->has_personal = m.p.has_personal;
	if (m.p.has_personal)
		git_oid_tostr(out->personal_id, sizeof out->personal_id, &m.p.personal);
	if ((rc = read_blob(&out->header, log, &m.p.header)) < 0 ||
			(rc = read_blob(&out->sig, log, &m.p.sig)) < 0 ||
			(rc = read_blob(&out->payload, log, &m.p.payload)) < 0 ||
			(m.p.has_personal && (rc = read_blob(&out->personal, log, &m.p.personal)) < 0))
		plein_log_entry_free(out);
	return rc;
}

void plein_log_entry_free(plein_log_entry *e)
{
	if (!e)
		return;
	plein_buf_free(&e->header);
	plein_buf_free(&e->sig);
	plein_buf_free(&e->payload);
	plein_buf_free(&e->personal);
}

void plein_log_batch_of(plein_log_batch *out, const plein_log_entry *e)
{
	*out = (plein_log_batch){
		.site = e->site, .seq = e->seq, .time = e->time, .summary = e->summary,
		.header = e->header.data, .header_len = e->header.len, .sig = e->sig.data,
		.payload = e->payload.data, .payload_len = e->payload.len,
		.personal = e->has_personal ? e->personal.data : NULL, .personal_len = e->personal.len,
	};
}

/* ---- the seq index of a chain ---- */

static void chain_free(struct chain *c)
{
	if (!c)
		return;
	free(c->ref);
	free(c->oids);
	free(c);
}

static void chain_drop(plein_log *log, const char *ref)
{
	for (size_t i = 0; i < log->nchains; i++) {
		if (strcmp(log->chains[i]->ref, ref) == 0) {
			chain_free(log->chains[i]);
			log->chains[i] = log->chains[--log->nchains];
			return;
		}
	}
}

static uint64_t chain_tipseq(const struct chain *c)
{
	return c->n ? c->base + c->n - 1 : 0;
}

static const git_oid *chain_at(const struct chain *c, uint64_t seq)
{
	if (!c->n || seq < c->base || seq - c->base >= c->n)
		return NULL;
	return &c->oids[seq - c->base];
}

/* Walk from tip back to the cached tip (or the root), checking that the
 * seqs count down by one per parent, and extend or rebuild the index. */
static int chain_walk(struct chain *c, plein_log *log, const git_oid *tip)
{
	git_oid *rev = NULL, cur;
	size_t nrev = 0, cap = 0;
	uint64_t seq = 0, expect = 0;
	int joined = 0, rc = 0;
	git_oid_cpy(&cur, tip);
	for (;;) {
		if (c->n && git_oid_equal(&cur, &c->tip)) {
			joined = 1;
			break;
		}
		git_commit *cm = NULL;
		if (git_commit_lookup(&cm, log->repo, &cur) < 0) {
			rc = gfail(PLEIN_ERR, "%s is damaged: a commit of its chain is missing", c->ref);
			goto done;
		}
		unsigned np = git_commit_parentcount(cm);
		if (commit_seq(&seq, cm) < 0 || (nrev && seq + 1 != expect) || np > 1 || (np == 1 && seq == 1)) {
			git_commit_free(cm);
			rc = plein_fail(PLEIN_EREJECT, "%s is not a plein chain: its commits are not batches numbered one after another",
					c->ref);
			goto done;
		}
		if (nrev == cap) {
			cap = cap ? 2 * cap : 64;
			rev = plein_xrealloc(rev, cap * sizeof *rev);
		}
		git_oid_cpy(&rev[nrev++], &cur);
		expect = seq;
		if (np == 1)
			git_oid_cpy(&cur, git_commit_parent_id(cm, 0));
		git_commit_free(cm);
		if (np == 0)
			break;
	}
	if (joined && expect != chain_tipseq(c) + 1) {
		rc = plein_fail(PLEIN_EREJECT, "%s is not a plein chain: its seqs do not follow on", c->ref);
		goto done;
	}
	if (!joined) {
		c->n = 0;
		c->base = expect;
	}
	if (c->n + nrev > c->cap) {
		c->cap = 2 * (c->n + nrev);
		c->oids = plein_xrealloc(c->oids, c->cap * sizeof *c->oids);
	}
	for (size_t i = 0; i < nrev; i++)
		git_oid_cpy(&c->oids[c->n + i], &rev[nrev - 1 - i]);
	c->n += nrev;
	git_oid_cpy(&c->tip, tip);
done:
	free(rev);
	return rc;
}

/* The index of ref's chain, brought up to date; PLEIN_ENOTFOUND when the
 * ref does not exist. The chain is lent until the log is closed. */
static int chain_get(struct chain **out, plein_log *log, const char *ref)
{
	git_oid tip;
	*out = NULL;
	int grc = git_reference_name_to_id(&tip, log->repo, ref);
	if (grc == GIT_ENOTFOUND) {
		chain_drop(log, ref);
		return plein_fail(PLEIN_ENOTFOUND, "log.git has no %s", ref);
	}
	if (grc < 0)
		return gfail(PLEIN_ERR, "cannot read %s", ref);
	struct chain *c = NULL;
	for (size_t i = 0; i < log->nchains && !c; i++)
		if (strcmp(log->chains[i]->ref, ref) == 0)
			c = log->chains[i];
	if (!c) {
		c = plein_xcalloc(1, sizeof *c);
		c->ref = plein_xstrdup(ref);
		log->chains = plein_xrealloc(log->chains, (log->nchains + 1) * sizeof *log->chains);
		log->chains[log->nchains++] = c;
	}
	if (!c->n || !git_oid_equal(&c->tip, &tip)) {
		int rc = chain_walk(c, log, &tip);
		if (rc < 0) {
			chain_drop(log, ref);
			return rc;
		}
	}
	*out = c;
	return 0;
}

/* ---- refs ---- */

static void site_ref(char out[PLEIN_LOG_REF_MAX], const char *site)
{
	snprintf(out, PLEIN_LOG_REF_MAX, SITES "%s", site);
}

/* A site id or a full ref name -> ref name. */
static int chain_ref(char out[PLEIN_LOG_REF_MAX], const char *chain)
{
	int valid = 0;
	if (chain && strncmp(chain, "refs/", 5) == 0) {
		if (strlen(chain) >= PLEIN_LOG_REF_MAX || git_reference_name_is_valid(&valid, chain) < 0 || !valid)
			return plein_fail(PLEIN_EINVAL, "'%s' is not a ref name of the log", chain);
		strcpy(out, chain);
		return 0;
	}
	int rc = check_site(chain);
	if (rc < 0)
		return rc;
	site_ref(out, chain);
	return 0;
}

static int read_tip(struct tip *t, plein_log *log, const char *ref)
{
	memset(t, 0, sizeof *t);
	int grc = git_reference_name_to_id(&t->oid, log->repo, ref);
	if (grc == GIT_ENOTFOUND)
		return 0;
	if (grc < 0)
		return gfail(PLEIN_ERR, "cannot read %s", ref);
	git_commit *c = NULL;
	if (git_commit_lookup(&c, log->repo, &t->oid) < 0)
		return gfail(PLEIN_ERR, "%s is damaged: its commit is missing", ref);
	int bad = commit_seq(&t->seq, c) < 0;
	git_commit_free(c);
	if (bad)
		return plein_fail(PLEIN_EREJECT, "%s does not point at a plein batch", ref);
	t->have = 1;
	return 0;
}

/* A ref lock left by a writer that died (kill -9, power loss) would block
 * the ref for ever; a live writer holds one for milliseconds. Remove one
 * older than PLEIN_LOG_STALE_LOCK_SECS; 1 if removed (so retry). */
int plein_log_clear_stale_lock(const char *gitdir, const char *ref)
{
	plein_buf p = PLEIN_BUF_INIT;
	struct stat st;
	int removed = 0;
	size_t n = strlen(gitdir);
	plein_buf_printf(&p, "%s%s%s.lock", gitdir, n && gitdir[n - 1] == '/' ? "" : "/", ref);
	const char *path = plein_buf_cstr(&p);
	if (stat(path, &st) == 0 && time(NULL) - st.st_mtime > PLEIN_LOG_STALE_LOCK_SECS && unlink(path) == 0)
		removed = 1;
	plein_buf_free(&p);
	return removed;
}

static int clear_stale_lock(plein_log *log, const char *ref)
{
	return plein_log_clear_stale_lock(git_repository_path(log->repo), ref);
}

/* Point ref at to if it still points at old (NULL: if it does not exist
 * yet), checked under the ref's lock. A zero old id means "must not
 * exist"; libgit2's force=0 checks that before locking, which races. */
static int cas_ref(plein_log *log, const char *ref, const git_oid *to, const git_oid *old, const char *msg)
{
	git_oid none;
	int grc;
	memset(&none, 0, sizeof none);
	for (int retried = 0;; retried = 1) {
		git_reference *r = NULL;
		grc = git_reference_create_matching(&r, log->repo, ref, to, 1, old ? old : &none, msg);
		git_reference_free(r);
		if (grc != GIT_ELOCKED || retried || !clear_stale_lock(log, ref))
			break;
	}
	if (grc == GIT_EMODIFIED || grc == GIT_EEXISTS || grc == GIT_ELOCKED)
		return plein_fail(PLEIN_EBUSY, "%s was changed by another writer at the same time; nothing was changed, read it again and retry", ref);
	if (grc < 0)
		return gfail(PLEIN_ERR, "cannot update %s", ref);
	return 0;
}

static int ref_update(plein_log *log, const char *ref, const git_oid *to, const struct tip *from, const char *msg)
{
	return cas_ref(log, ref, to, from->have ? &from->oid : NULL, msg);
}

/* ---- open, close ---- */

int plein_log_open(plein_log **out, const char *path, int create)
{
	git_repository *repo = NULL;
	*out = NULL;
	git_libgit2_init();
	/* Acknowledged means on disk: fsync objects, packs and refs. */
	git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 1);
	int grc = git_repository_open_bare(&repo, path);
	if (grc == GIT_ENOTFOUND && create)
		grc = git_repository_init(&repo, path, 1);
	if (grc < 0) {
		int rc = grc == GIT_ENOTFOUND ?
			plein_fail(PLEIN_ENOTFOUND, "%s is not a log repository (a bare git repository)", path) :
			gfail(PLEIN_ERR, "cannot open the log at %s", path);
		git_libgit2_shutdown();
		return rc;
	}
	plein_log *log = plein_xcalloc(1, sizeof *log);
	log->repo = repo;
	*out = log;
	return 0;
}

void plein_log_close(plein_log *log)
{
	if (!log)
		return;
	for (size_t i = 0; i < log->nchains; i++)
		chain_free(log->chains[i]);
	free(log->chains);
	git_repository_free(log->repo);
	free(log);
	git_libgit2_shutdown();
}

struct git_repository *plein_log_repo(plein_log *log)
{
	return log->repo;
}

/* ---- tips and listings ---- */

static void fill_ref(plein_log_ref *r, const char *name, const char *site, const git_oid *id)
{
	snprintf(r->name, sizeof r->name, "%s", name);
	if (site)
		snprintf(r->site, sizeof r->site, "%s", site);
	if (id)
		git_oid_tostr(r->commit, sizeof r->commit, id);
}

int plein_log_tip(plein_log_ref *out, plein_log *log, const char *site)
{
	memset(out, 0, sizeof *out);
	int rc = check_site(site);
	if (rc < 0)
		return rc;
	char ref[PLEIN_LOG_REF_MAX];
	struct tip t;
	site_ref(ref, site);
	if ((rc = read_tip(&t, log, ref)) < 0)
		return rc;
	fill_ref(out, ref, site, t.have ? &t.oid : NULL);
	out->seq = t.seq;
	return 0;
}

/* Parse the part of a ref name after its prefix. kind: 's' sites,
 * 'i' incoming, 'h' held, 'f' forks. Returns -1 for names plein did not
 * make (they are skipped). */
static int parse_ref(plein_log_ref *r, char kind, const char *rest)
{
	const char *slash = strchr(rest, '/');
	if (kind == 'i') {
		if (!slash || (size_t)(slash - rest) > PLEIN_LOG_KEY_MAX)
			return -1;
		memcpy(r->key, rest, (size_t)(slash - rest));
		r->key[slash - rest] = 0;
		rest = slash + 1;
		slash = strchr(rest, '/');
	}
	size_t sl = slash ? (size_t)(slash - rest) : strlen(rest);
	if (sl != PLEIN_SITEID_LEN || ((kind == 's' || kind == 'i') && slash) || ((kind == 'h' || kind == 'f') && !slash))
		return -1;
	memcpy(r->site, rest, PLEIN_SITEID_LEN);
	r->site[PLEIN_SITEID_LEN] = 0;
	char norm[PLEIN_SITEID_LEN + 1];
	if (plein_siteid_normalize(norm, r->site) < 0 || strcmp(norm, r->site) != 0)
		return -1;
	if (kind == 'h' || kind == 'f') {
		const char *p = slash + 1;
		uint64_t n = 0;
		if (parse_u64(&p, &r->seq) < 0 || r->seq < 1)
			return -1;
		if (kind == 'f' && (*p++ != '-' || parse_u64(&p, &n) < 0 || n < 1 || n > 1000000))
			return -1;
		r->n = (unsigned)n;
		if (*p)
			return -1;
	}
	return 0;
}

static int ref_cmp(const void *a, const void *b)
{
	const plein_log_ref *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	if (!c)
		c = strcmp(x->site, y->site);
	if (!c)
		c = (x->seq > y->seq) - (x->seq < y->seq);
	if (!c)
		c = (x->n > y->n) - (x->n < y->n);
	return c;
}

/* Every ref under prefix that plein made, parsed, sorted. */
static int list_refs(plein_log_ref **out, size_t *out_n, plein_log *log, const char *prefix, char kind)
{
	git_reference_iterator *it = NULL;
	git_reference *r = NULL;
	plein_log_ref *v = NULL;
	size_t n = 0, cap = 0;
	int rc = 0, grc;
	char glob[PLEIN_LOG_REF_MAX + 2];
	*out = NULL;
	*out_n = 0;
	snprintf(glob, sizeof glob, "%s*", prefix);
	if (git_reference_iterator_glob_new(&it, log->repo, glob) < 0)
		return gfail(PLEIN_ERR, "cannot list %s", prefix);
	while ((grc = git_reference_next(&r, it)) == 0) {
		const char *name = git_reference_name(r);
		const git_oid *id = git_reference_target(r);
		if (id && strlen(name) < PLEIN_LOG_REF_MAX && strncmp(name, prefix, strlen(prefix)) == 0) {
			if (n == cap) {
				cap = cap ? 2 * cap : 16;
				v = plein_xrealloc(v, cap * sizeof *v);
			}
			plein_log_ref *e = &v[n];
			memset(e, 0, sizeof *e);
			if (parse_ref(e, kind, name + strlen(prefix)) == 0) {
				fill_ref(e, name, NULL, id);
				n++;
			}
		}
		git_reference_free(r);
		r = NULL;
	}
	git_reference_iterator_free(it);
	if (grc != GIT_ITEROVER) {
		free(v);
		return gfail(PLEIN_ERR, "cannot list %s", prefix);
	}
	/* Chains: the seq of the tip commit (held and forks carry it in the
	 * name). An incoming tip that is no plein batch gets seq 0 rather than
	 * hiding the other remotes' chains; reading it will say why. */
	for (size_t i = 0; i < n && (kind == 's' || kind == 'i'); i++) {
		struct tip t;
		if ((rc = read_tip(&t, log, v[i].name)) < 0 && kind == 's') {
			free(v);
			return rc;
		}
		v[i].seq = rc < 0 ? 0 : t.seq;
		rc = 0;
	}
	if (n)
		qsort(v, n, sizeof *v, ref_cmp);
	*out = v;
	*out_n = n;
	return 0;
}

int plein_log_tips(plein_log_ref **out, size_t *out_n, plein_log *log)
{
	return list_refs(out, out_n, log, SITES, 's');
}

int plein_log_incoming(plein_log_ref **out, size_t *out_n, plein_log *log, const char *key)
{
	*out = NULL;
	*out_n = 0;
	if (key) {
		int rc = plein_log_check_key(key);
		if (rc < 0)
			return rc;
	}
	int rc = list_refs(out, out_n, log, INCOMING, 'i');
	if (rc < 0 || !key)
		return rc;
	size_t k = 0; /* keep this key's refs only */
	for (size_t i = 0; i < *out_n; i++)
		if (strcmp((*out)[i].key, key) == 0)
			(*out)[k++] = (*out)[i];
	*out_n = k;
	return 0;
}

static int delete_ref(plein_log *log, const char *ref, const char *what)
{
	git_reference *r = NULL;
	int grc = git_reference_lookup(&r, log->repo, ref);
	if (grc == GIT_ENOTFOUND)
		return plein_fail(PLEIN_ENOTFOUND, "there is no %s", what);
	if (grc == 0)
		grc = git_reference_delete(r);
	git_reference_free(r);
	if (grc < 0)
		return gfail(PLEIN_ERR, "cannot remove %s", what);
	chain_drop(log, ref);
	return 0;
}

int plein_log_incoming_drop(plein_log *log, const char *key, const char *site)
{
	int rc = plein_log_check_key(key);
	if (rc < 0 || (site && (rc = check_site(site)) < 0))
		return rc;
	plein_log_ref *v = NULL;
	size_t n = 0;
	if ((rc = plein_log_incoming(&v, &n, log, key)) < 0)
		return rc;
	size_t dropped = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (site && strcmp(v[i].site, site) != 0)
			continue;
		rc = delete_ref(log, v[i].name, v[i].name);
		dropped++;
	}
	free(v);
	if (rc == 0 && site && !dropped)
		rc = plein_fail(PLEIN_ENOTFOUND, "there is no incoming chain of site %s from remote %s", site, key);
	return rc;
}

/* ---- reading ---- */

/* Whether a batch of site/seq belongs under ref, by the ref's name: a
 * site's chain (or an incoming copy of it) holds only that site's
 * batches; a held batch or fork proof names its seq too. */
static int ref_holds(const char *ref, const char *site, uint64_t seq)
{
	static const struct { const char *prefix; char kind; } kinds[] = {
		{ SITES, 's' }, { INCOMING, 'i' }, { HELD, 'h' }, { FORKS, 'f' },
	};
	for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
		plein_log_ref r;
		size_t n = strlen(kinds[i].prefix);
		if (strncmp(ref, kinds[i].prefix, n) != 0)
			continue;
		memset(&r, 0, sizeof r);
		if (parse_ref(&r, kinds[i].kind, ref + n) < 0)
			return 1; /* a name plein did not make: nothing to check against */
		return strcmp(r.site, site) == 0 && (r.seq == 0 || r.seq == seq);
	}
	return 1;
}

int plein_log_read(plein_log_entry *out, plein_log *log, const char *chain, uint64_t seq)
{
	char ref[PLEIN_LOG_REF_MAX];
	struct chain *c;
	memset(out, 0, sizeof *out);
	int rc = chain_ref(ref, chain);
	if (rc < 0 || (rc = chain_get(&c, log, ref)) < 0)
		return rc;
	const git_oid *id = seq ? chain_at(c, seq) : &c->tip;
	if (!id)
		return plein_fail(PLEIN_ENOTFOUND, "%s has no batch %" PRIu64 " (it holds %" PRIu64 " to %" PRIu64 ")",
				ref, seq, c->base, chain_tipseq(c));
	git_oid copy;
	git_oid_cpy(&copy, id);
	int attach = strncmp(ref, SITES, strlen(SITES)) == 0 || strncmp(ref, HELD, strlen(HELD)) == 0;
	if ((rc = read_entry(out, log, &copy, attach)) < 0)
		return rc;
	if (!ref_holds(ref, out->site, out->seq)) {
		rc = plein_fail(PLEIN_EREJECT, "%s holds batch %" PRIu64 " of site %s, which does not belong there",
				ref, out->seq, out->site);
		plein_log_entry_free(out);
	}
	return rc;
}

int plein_log_commit_at(char out[PLEIN_LOG_OID_HEX + 1], plein_log *log, const char *chain, uint64_t seq)
{
	char ref[PLEIN_LOG_REF_MAX];
	struct chain *c;
	out[0] = 0;
	int rc = chain_ref(ref, chain);
	if (rc < 0 || (rc = chain_get(&c, log, ref)) < 0)
		return rc;
	const git_oid *id = chain_at(c, seq);
	if (!id)
		return plein_fail(PLEIN_ENOTFOUND, "%s has no batch %" PRIu64, ref, seq);
	git_oid_tostr(out, PLEIN_LOG_OID_HEX + 1, id);
	return 0;
}

int plein_log_commit_seq(uint64_t *out, plein_log *log, const char *commit)
{
	git_oid id;
	git_commit *c = NULL;
	*out = 0;
	if (!commit || !is_hex_oid(commit) || git_oid_fromstr(&id, commit) < 0)
		return plein_fail(PLEIN_EINVAL, "'%s' is not a commit id", commit ? commit : "");
	int grc = git_commit_lookup(&c, log->repo, &id);
	if (grc == GIT_ENOTFOUND)
		return plein_fail(PLEIN_ENOTFOUND, "log.git does not have commit %s", commit);
	if (grc < 0)
		return gfail(PLEIN_ERR, "cannot read commit %s", commit);
	int bad = commit_seq(out, c) < 0;
	git_commit_free(c);
	if (bad)
		return plein_fail(PLEIN_EREJECT, "commit %s is not a plein batch (no Plein-Seq trailer)", commit);
	return 0;
}

int plein_log_foreach(plein_log *log, const char *chain, uint64_t from, uint64_t to,
		plein_log_cb cb, void *payload)
{
	char ref[PLEIN_LOG_REF_MAX];
	struct chain *c;
	int rc = chain_ref(ref, chain);
	if (rc < 0 || (rc = chain_get(&c, log, ref)) < 0)
		return rc;
	uint64_t base = c->base, tip = chain_tipseq(c);
	if (to == 0)
		to = tip;
	if (from < base)
		from = base;
	if (to > tip)
		return plein_fail(PLEIN_ENOTFOUND, "%s holds batches up to %" PRIu64 ", not %" PRIu64, ref, tip, to);
	for (uint64_t s = from; s <= to && rc == 0; s++) {
		plein_log_entry e;
		if ((rc = plein_log_read(&e, log, ref, s)) < 0)
			break;
		rc = cb(&e, payload);
		plein_log_entry_free(&e);
	}
	return rc;
}

/* ---- packfiles ----
 * A pack (git's gitformat-pack, version 2) ends with the SHA-1 of all
 * bytes before it, which the indexer checks; libgit2 has no public SHA-1,
 * so here is the plain FIPS 180-4 one. (Object ids use libgit2's own.) */

struct sha1 {
	uint32_t h[5];
	uint64_t len;
	unsigned char buf[64];
	size_t n;
};

static uint32_t rol(uint32_t x, int k)
{
	return (x << k) | (x >> (32 - k));
}

static void sha1_block(uint32_t h[5], const unsigned char *p)
{
	uint32_t w[80], a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 80; i++)
		w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	for (int i = 0; i < 80; i++) {
		uint32_t f, k;
		if (i < 20)
			f = (b & c) | (~b & d), k = 0x5a827999;
		else if (i < 40)
			f = b ^ c ^ d, k = 0x6ed9eba1;
		else if (i < 60)
			f = (b & c) | (b & d) | (c & d), k = 0x8f1bbcdc;
		else
			f = b ^ c ^ d, k = 0xca62c1d6;
		uint32_t t = rol(a, 5) + f + e + k + w[i];
		e = d;
		d = c;
		c = rol(b, 30);
		b = a;
		a = t;
	}
	h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
}

static void sha1_init(struct sha1 *s)
{
	static const uint32_t iv[5] = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0 };
	memset(s, 0, sizeof *s);
	memcpy(s->h, iv, sizeof iv);
}

static void sha1_update(struct sha1 *s, const unsigned char *p, size_t n)
{
	s->len += n;
	while (n) {
		size_t k = 64 - s->n < n ? 64 - s->n : n;
		memcpy(s->buf + s->n, p, k);
		s->n += k, p += k, n -= k;
		if (s->n == 64) {
			sha1_block(s->h, s->buf);
			s->n = 0;
		}
	}
}

static void sha1_final(struct sha1 *s, unsigned char out[20])
{
	unsigned char pad[72] = { 0x80 };
	uint64_t bits = s->len * 8;
	size_t k = (s->n < 56 ? 56 : 120) - s->n;
	for (int i = 0; i < 8; i++)
		pad[k + i] = (unsigned char)(bits >> (56 - 8 * i));
	sha1_update(s, pad, k + 8);
	for (int i = 0; i < 20; i++)
		out[i] = (unsigned char)(s->h[i / 4] >> (24 - 8 * (i % 4)));
}

/* The pack being streamed into the indexer, 1 MiB at a time. */
struct packw {
	git_odb_writepack *wp;
	git_indexer_progress st;
	struct sha1 sha;
	plein_buf out;
	z_stream z;
};

static int pack_flush(struct packw *pw)
{
	int rc = pw->out.len ? pw->wp->append(pw->wp, pw->out.data, pw->out.len, &pw->st) : 0;
	plein_buf_reset(&pw->out);
	return rc;
}

static int pack_emit(struct packw *pw, const void *p, size_t n)
{
	sha1_update(&pw->sha, p, n);
	plein_buf_put(&pw->out, p, n);
	return pw->out.len >= (1u << 20) ? pack_flush(pw) : 0;
}

static int pack_object(struct packw *pw, git_object_t type, const unsigned char *data, size_t len)
{
	unsigned char hdr[16], zout[16384];
	size_t h = 0;
	uint64_t size = len;
	unsigned char c = (unsigned char)(((unsigned)type << 4) | (size & 15));
	for (size >>= 4; size; size >>= 7) {
		hdr[h++] = c | 0x80;
		c = size & 0x7f;
	}
	hdr[h++] = c;
	if (pack_emit(pw, hdr, h) < 0 || deflateReset(&pw->z) != Z_OK)
		return -1;
	pw->z.next_in = (unsigned char *)data;
	pw->z.avail_in = (uInt)len; /* len <= PLEIN_LOG_MAX_PAYLOAD < 4 GiB */
	int zrc;
	do {
		pw->z.next_out = zout;
		pw->z.avail_out = sizeof zout;
		zrc = deflate(&pw->z, Z_FINISH);
		if ((zrc != Z_OK && zrc != Z_STREAM_END && zrc != Z_BUF_ERROR) ||
				pack_emit(pw, zout, sizeof zout - pw->z.avail_out) < 0)
			return -1;
	} while (zrc != Z_STREAM_END);
	return 0;
}

static int pobj_cmp(const void *a, const void *b)
{
	return git_oid_cmp(&(*(const struct pobj *const *)a)->id, &(*(const struct pobj *const *)b)->id);
}

/* Stream the listed objects (duplicates once: the indexer refuses them)
 * into a new pack of the log. Written fully, with fsync, before any ref
 * points into it. */
static int pack_write(plein_log *log, struct objlist *l)
{
	struct packw pw;
	git_odb *odb = NULL;
	struct pobj **order = plein_xcalloc(l->n ? l->n : 1, sizeof *order);
	char *dup = plein_xcalloc(l->n ? l->n : 1, 1);
	uint32_t count = 0;
	int rc = 0, zok = 0;
	memset(&pw, 0, sizeof pw);
	for (size_t i = 0; i < l->n; i++)
		order[i] = &l->v[i];
	qsort(order, l->n, sizeof *order, pobj_cmp);
	for (size_t i = 0; i < l->n; i++) {
		if (i && git_oid_equal(&order[i]->id, &order[i - 1]->id))
			dup[order[i] - l->v] = 1;
		else
			count++;
	}
	sha1_init(&pw.sha);
	if (deflateInit(&pw.z, 1) != Z_OK) {
		rc = plein_fail(PLEIN_ERR, "zlib could not start");
		goto done;
	}
	zok = 1;
	if (git_repository_odb(&odb, log->repo) < 0 || git_odb_write_pack(&pw.wp, odb, NULL, NULL) < 0) {
		rc = gfail(PLEIN_ERR, "cannot write a pack to log.git");
		goto done;
	}
	unsigned char head[12] = { 'P', 'A', 'C', 'K', 0, 0, 0, 2,
		(unsigned char)(count >> 24), (unsigned char)(count >> 16), (unsigned char)(count >> 8), (unsigned char)count };
	rc = pack_emit(&pw, head, sizeof head);
	for (size_t i = 0; i < l->n && rc == 0; i++) {
		const struct pobj *o = &l->v[i];
		if (!dup[i])
			rc = pack_object(&pw, o->type, o->data ? o->data : l->arena.data + o->off, o->len);
	}
	unsigned char trailer[20];
	sha1_final(&pw.sha, trailer);
	plein_buf_put(&pw.out, trailer, sizeof trailer);
	if (rc < 0 || pack_flush(&pw) < 0 || pw.wp->commit(pw.wp, &pw.st) < 0)
		rc = gfail(PLEIN_ERR, "cannot write a pack of %u objects to log.git", (unsigned)count);
	else
		git_odb_refresh(odb); /* let the odb see the new pack */
done:
	if (pw.wp)
		pw.wp->free(pw.wp);
	if (zok)
		deflateEnd(&pw.z);
	plein_buf_free(&pw.out);
	git_odb_free(odb);
	free(dup);
	free(order);
	return rc;
}

/* ---- personal parts ---- */

/* Point the batch's personal ref at its blob unless the ref exists: a
 * personal part is keyed by the batch's header, so an existing ref is
 * this batch's, and at least as purged as what arrives now. */
static int personal_keep(plein_log *log, const char *site, uint64_t seq, const struct put_out *po)
{
	char ref[PLEIN_LOG_REF_MAX];
	git_reference *r = NULL;
	if (!po->has_personal)
		return 0;
	personal_ref(ref, site, seq, &po->header);
	int grc = git_reference_create(&r, log->repo, ref, &po->personal, 0, "plein: personal part");
	git_reference_free(r);
	if (grc == GIT_EEXISTS)
		return 0;
	return grc < 0 ? gfail(PLEIN_ERR, "cannot write %s", ref) : 0;
}

/* ---- appending ---- */

static int same_header(int *out, plein_log *log, const git_oid *commit, const plein_log_batch *b)
{
	struct meta m;
	git_oid h;
	int rc = load_meta(&m, log, commit);
	if (rc < 0)
		return rc;
	if (git_odb_hash(&h, b->header, b->header_len, GIT_OBJECT_BLOB) < 0)
		return gfail(PLEIN_ERR, "cannot hash a batch header");
	*out = git_oid_equal(&h, &m.p.header);
	return 0;
}

static int fork_fail(const plein_log_batch *b)
{
	return plein_fail(PLEIN_LOG_EFORK,
		"site %s signed two different batches numbered %" PRIu64 ": a fork (a restored backup or a copied disk?); the log keeps the first",
		b->site, b->seq);
}

/* b->seq <= the tip's seq: is it the stored batch, or a fork? */
static int compare_stored(plein_log *log, const char *ref, const plein_log_batch *b)
{
	struct chain *c;
	int same = 0, rc = chain_get(&c, log, ref);
	if (rc < 0)
		return rc;
	const git_oid *at = chain_at(c, b->seq);
	if (!at)
		return plein_fail(PLEIN_ERR, "%s is damaged: batch %" PRIu64 " is not in its chain", ref, b->seq);
	git_oid id;
	git_oid_cpy(&id, at);
	if ((rc = same_header(&same, log, &id, b)) < 0)
		return rc;
	return same ? PLEIN_LOG_SAME : fork_fail(b);
}

static int gap_fail(const plein_log_batch *b, uint64_t have)
{
	return plein_fail(PLEIN_LOG_EGAP,
		"batch %" PRIu64 " of site %s cannot be stored yet: the log holds up to batch %" PRIu64 "; batches %" PRIu64 " to %" PRIu64 " are missing",
		b->seq, b->site, have, have + 1, b->seq - 1);
}

static int check_parent(const plein_log_batch *b, const struct tip *t, const char *ref)
{
	char hex[GIT_OID_HEXSZ + 1] = "";
	if (!b->parent)
		return 0;
	if (t->have)
		git_oid_tostr(hex, sizeof hex, &t->oid);
	if (strcmp(hex, b->parent) != 0)
		return plein_fail(PLEIN_EBUSY, "%s moved on (its tip is batch %" PRIu64 "); nothing was written, read the tip and retry",
				ref, t->seq);
	return 0;
}

int plein_log_append(plein_log *log, const plein_log_batch *b)
{
	char ref[PLEIN_LOG_REF_MAX], msg[64];
	struct tip t;
	git_odb *odb = NULL;
	int rc = check_batch(b);
	if (rc < 0)
		return rc;
	site_ref(ref, b->site);
	if ((rc = read_tip(&t, log, ref)) < 0 || (rc = check_parent(b, &t, ref)) < 0)
		return rc;
	if (b->seq <= t.seq)
		return compare_stored(log, ref, b);
	if (b->seq > t.seq + 1)
		return gap_fail(b, t.seq);
	if (git_repository_odb(&odb, log->repo) < 0)
		return gfail(PLEIN_ERR, "cannot open the objects of log.git");
	/* Objects first; the ref update below is the commit point. */
	struct sink sk = { .odb = odb };
	struct put_out po;
	rc = put_batch(&po, &sk, b, t.have ? &t.oid : NULL);
	git_odb_free(odb);
	/* The personal part before the chain: a batch is never in a chain
	 * without it (a crash in between leaves only an unused ref). */
	if (rc < 0 || (rc = personal_keep(log, b->site, b->seq, &po)) < 0)
		return rc;
	snprintf(msg, sizeof msg, "plein: batch %" PRIu64, b->seq);
	return ref_update(log, ref, &po.commit, &t, msg);
}

/* One site's part of a run. */
struct run_site {
	const char *site;
	char ref[PLEIN_LOG_REF_MAX];
	struct tip old;   /* the tip of ref before the run */
	/* What the run builds on: old, or for a new incoming ref the site's
	 * verified chain. */
	char base_ref[PLEIN_LOG_REF_MAX];
	struct tip base;
	uint64_t seq;     /* highest seq stored or queued */
	git_oid cur;      /* commit of seq once written */
	int have_cur, added;
};

static struct run_site *run_site_get(struct run_site *v, size_t *n, const char *site, const char *key)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(v[i].site, site) == 0)
			return &v[i];
	struct run_site *s = &v[(*n)++];
	memset(s, 0, sizeof *s);
	s->site = site;
	if (key)
		snprintf(s->ref, sizeof s->ref, INCOMING "%s/%s", key, site);
	else
		site_ref(s->ref, site);
	return s;
}

/* Decide for every batch of the run: new (isnew[i] = 1), already stored
 * (skip), or refuse the run. */
static int run_plan(struct run_site *sites, size_t *nsites, char *isnew, size_t *out_new,
		plein_log *log, const char *key, const plein_log_batch *b, size_t n)
{
	int rc = 0;
	*out_new = 0;
	for (size_t i = 0; i < n; i++) {
		if ((rc = check_batch(&b[i])) < 0)
			return rc;
		size_t before = *nsites;
		struct run_site *s = run_site_get(sites, nsites, b[i].site, key);
		if (*nsites != before) {
			if ((rc = read_tip(&s->old, log, s->ref)) < 0 || (rc = check_parent(&b[i], &s->old, s->ref)) < 0)
				return rc;
			s->base = s->old;
			strcpy(s->base_ref, s->ref);
			if (key && !s->old.have) {
				site_ref(s->base_ref, b[i].site);
				if ((rc = read_tip(&s->base, log, s->base_ref)) < 0)
					return rc;
			}
			s->seq = s->base.seq;
		}
		if (b[i].seq > s->seq + 1)
			return gap_fail(&b[i], s->seq);
		if (b[i].seq == s->seq + 1) {
			isnew[i] = 1;
			s->seq = b[i].seq;
			(*out_new)++;
			continue;
		}
		if (b[i].seq <= s->base.seq) {
			rc = compare_stored(log, s->base_ref, &b[i]);
			if (rc < 0)
				return rc;
			continue;
		}
		/* A seq that appears twice in the run. */
		for (size_t j = 0; j < i; j++)
			if (isnew[j] && b[j].seq == b[i].seq && strcmp(b[j].site, b[i].site) == 0 &&
					(b[j].header_len != b[i].header_len ||
					 memcmp(b[j].header, b[i].header, b[i].header_len) != 0))
				return fork_fail(&b[i]);
	}
	return 0;
}

/* Write the run's objects into odb; parents chain per site. */
static int run_write(struct run_site *sites, size_t nsites, const char *isnew, const struct sink *sk,
		const plein_log_batch *b, size_t n, struct put_out *pos)
{
	for (size_t i = 0; i < n; i++) {
		if (!isnew[i])
			continue;
		struct run_site *s = run_site_get(sites, &nsites, b[i].site, NULL);
		const git_oid *parent = s->have_cur ? &s->cur : s->base.have ? &s->base.oid : NULL;
		struct put_out *po = &pos[i];
		int rc = put_batch(po, sk, &b[i], parent);
		if (rc < 0)
			return rc;
		git_oid_cpy(&s->cur, &po->commit);
		s->have_cur = 1;
		s->added++;
	}
	return 0;
}

/* Write the run as one packfile: objects collected in memory, then
 * streamed as a pack (undeltified, zlib level 1) into libgit2's indexer,
 * which checks every object and writes the .pack and .idx. */
static int run_write_pack(struct run_site *sites, size_t nsites, const char *isnew, plein_log *log,
		const plein_log_batch *b, size_t n, struct put_out *pos)
{
	struct objlist l;
	memset(&l, 0, sizeof l);
	struct sink sk = { .list = &l };
	int rc = run_write(sites, nsites, isnew, &sk, b, n, pos);
	if (rc == 0)
		rc = pack_write(log, &l);
	free(l.v);
	plein_buf_free(&l.arena);
	return rc;
}

/* Move every site's ref under one lock set, each only if it still points
 * where the plan found it. */
static int run_refs(struct run_site *sites, size_t nsites, plein_log *log)
{
	git_transaction *tx = NULL;
	int rc = 0;
	if (git_transaction_new(&tx, log->repo) < 0)
		return gfail(PLEIN_ERR, "cannot lock the refs of log.git");
	for (size_t i = 0; i < nsites && rc == 0; i++) {
		struct run_site *s = &sites[i];
		struct tip now;
		if (!s->added)
			continue;
		int grc = git_transaction_lock_ref(tx, s->ref);
		if (grc == GIT_ELOCKED && clear_stale_lock(log, s->ref))
			grc = git_transaction_lock_ref(tx, s->ref);
		if (grc == GIT_ELOCKED || grc == GIT_EMODIFIED)
			rc = plein_fail(PLEIN_EBUSY, "%s is being written by another process; nothing was changed, retry", s->ref);
		else if (grc < 0)
			rc = gfail(PLEIN_ERR, "cannot lock %s", s->ref);
		else if ((rc = read_tip(&now, log, s->ref)) < 0)
			;
		else if (now.have != s->old.have || (now.have && !git_oid_equal(&now.oid, &s->old.oid)))
			rc = plein_fail(PLEIN_EBUSY, "%s moved while writing (another writer appended first); nothing was changed, retry", s->ref);
		else if (git_transaction_set_target(tx, s->ref, &s->cur, NULL, "plein: batches") < 0)
			rc = gfail(PLEIN_ERR, "cannot update %s", s->ref);
	}
	if (rc == 0 && git_transaction_commit(tx) < 0)
		rc = gfail(PLEIN_ERR, "cannot update the refs of log.git");
	git_transaction_free(tx);
	return rc;
}

static int append_run(size_t *out_added, plein_log *log, const char *key, const plein_log_batch *b, size_t n)
{
	struct run_site *sites = plein_xcalloc(n ? n : 1, sizeof *sites);
	char *isnew = plein_xcalloc(n ? n : 1, 1);
	struct put_out *pos = plein_xcalloc(n ? n : 1, sizeof *pos);
	size_t nsites = 0, nnew = 0;
	git_odb *odb = NULL;
	int rc;
	if (out_added)
		*out_added = 0;
	if ((rc = run_plan(sites, &nsites, isnew, &nnew, log, key, b, n)) < 0 || nnew == 0)
		goto done;
	if (nnew >= PLEIN_LOG_PACK_MIN) {
		rc = run_write_pack(sites, nsites, isnew, log, b, n, pos);
	} else if (git_repository_odb(&odb, log->repo) < 0) {
		rc = gfail(PLEIN_ERR, "cannot open the objects of log.git");
	} else {
		struct sink sk = { .odb = odb };
		rc = run_write(sites, nsites, isnew, &sk, b, n, pos);
	}
	/* Personal parts before the chains, as in plein_log_append. */
	for (size_t i = 0; i < n && rc == 0; i++)
		if (isnew[i])
			rc = personal_keep(log, b[i].site, b[i].seq, &pos[i]);
	if (rc < 0)
		goto done;
	if ((rc = run_refs(sites, nsites, log)) == 0 && out_added)
		*out_added = nnew;
done:
	git_odb_free(odb);
	free(pos);
	free(isnew);
	free(sites);
	return rc < 0 ? rc : 0;
}

int plein_log_append_run(size_t *out_added, plein_log *log, const plein_log_batch *b, size_t n)
{
	return append_run(out_added, log, NULL, b, n);
}

int plein_log_append_incoming(size_t *out_added, plein_log *log, const char *key, const plein_log_batch *b, size_t n)
{
	int rc = plein_log_check_key(key);
	return rc < 0 ? rc : append_run(out_added, log, key, b, n);
}

/* ---- adopting a chain fetched from a remote ---- */

int plein_log_adopt(plein_log *log, const char *site, const char *from_ref, uint64_t upto)
{
	char ref[PLEIN_LOG_REF_MAX], from[PLEIN_LOG_REF_MAX], msg[64];
	struct tip t;
	struct chain *c;
	int rc = check_site(site);
	if (rc < 0 || (rc = chain_ref(from, from_ref)) < 0)
		return rc;
	site_ref(ref, site);
	if ((rc = read_tip(&t, log, ref)) < 0 || (rc = chain_get(&c, log, from)) < 0)
		return rc;
	if (c->base != 1)
		return plein_fail(PLEIN_EREJECT, "%s is not a whole chain: it starts at batch %" PRIu64, from, c->base);
	if (upto == 0)
		upto = chain_tipseq(c);
	if (upto > chain_tipseq(c))
		return plein_fail(PLEIN_ENOTFOUND, "%s holds batches up to %" PRIu64 ", not %" PRIu64, from, chain_tipseq(c), upto);
	/* Does the incoming chain extend ours? */
	uint64_t meet = upto < t.seq ? upto : t.seq;
	if (meet) {
		git_oid theirs, ours;
		git_oid_cpy(&theirs, chain_at(c, meet));
		if (upto < t.seq) {
			struct chain *oc;
			if ((rc = chain_get(&oc, log, ref)) < 0)
				return rc;
			const git_oid *at = chain_at(oc, meet);
			if (!at)
				return plein_fail(PLEIN_ERR, "%s is damaged: batch %" PRIu64 " is not in its chain", ref, meet);
			git_oid_cpy(&ours, at);
		} else {
			git_oid_cpy(&ours, &t.oid);
		}
		if (!git_oid_equal(&theirs, &ours))
			return plein_fail(PLEIN_LOG_EFORK,
				"%s and the log of site %s differ at batch %" PRIu64 ": a fork or a rewritten history; nothing was adopted",
				from, site, meet);
		if (upto <= t.seq)
			return PLEIN_LOG_SAME;
	}
	for (uint64_t s = t.seq + 1; s <= upto; s++) {
		struct meta m;
		if ((rc = load_meta(&m, log, chain_at(c, s))) < 0)
			return rc;
		if (strcmp(m.site, site) != 0 || m.seq != s)
			return plein_fail(PLEIN_EREJECT, "%s holds batch %" PRIu64 " of site %s where batch %" PRIu64 " of site %s belongs",
					from, m.seq, m.site, s, site);
	}
	git_oid to;
	git_oid_cpy(&to, chain_at(c, upto));
	snprintf(msg, sizeof msg, "plein: adopt up to batch %" PRIu64, upto);
	return ref_update(log, ref, &to, &t, msg);
}

/* ---- held batches and fork proofs ---- */

/* Store b as a parentless commit under ref (which must not exist yet).
 * A held batch keeps its personal part (under the same personal ref it
 * will have in the chain); a fork proof needs none and keeps none. */
static int keep_batch(plein_log *log, const char *ref, const plein_log_batch *b, int personal)
{
	git_odb *odb = NULL;
	plein_log_batch copy = *b;
	struct put_out po;
	if (!personal) {
		copy.personal = NULL;
		copy.personal_len = 0;
	}
	if (git_repository_odb(&odb, log->repo) < 0)
		return gfail(PLEIN_ERR, "cannot open the objects of log.git");
	struct sink sk = { .odb = odb };
	int rc = put_batch(&po, &sk, &copy, NULL);
	git_odb_free(odb);
	if (rc < 0 || (rc = personal_keep(log, b->site, b->seq, &po)) < 0)
		return rc;
	return cas_ref(log, ref, &po.commit, NULL, "plein: keep");
}

int plein_log_hold(plein_log *log, const plein_log_batch *b)
{
	char ref[PLEIN_LOG_REF_MAX];
	git_oid id;
	int rc = check_batch(b);
	if (rc < 0)
		return rc;
	snprintf(ref, sizeof ref, HELD "%s/%" PRIu64, b->site, b->seq);
	int grc = git_reference_name_to_id(&id, log->repo, ref);
	if (grc == 0) {
		int same = 0;
		if ((rc = same_header(&same, log, &id, b)) < 0)
			return rc;
		return same ? PLEIN_LOG_SAME : fork_fail(b);
	}
	if (grc != GIT_ENOTFOUND)
		return gfail(PLEIN_ERR, "cannot read %s", ref);
	return keep_batch(log, ref, b, 1);
}

int plein_log_held(plein_log_ref **out, size_t *out_n, plein_log *log)
{
	return list_refs(out, out_n, log, HELD, 'h');
}

int plein_log_unhold(plein_log *log, const char *site, uint64_t seq)
{
	char ref[PLEIN_LOG_REF_MAX];
	int rc = check_site(site);
	if (rc < 0)
		return rc;
	snprintf(ref, sizeof ref, HELD "%s/%" PRIu64, site, seq);
	return delete_ref(log, ref, "such held batch");
}

int plein_log_fork_keep(unsigned *out_n, plein_log *log, const plein_log_batch *b)
{
	char ref[PLEIN_LOG_REF_MAX];
	plein_log_ref *v = NULL;
	size_t n = 0;
	unsigned max = 0;
	int rc = check_batch(b);
	if (rc < 0 || (rc = list_refs(&v, &n, log, FORKS, 'f')) < 0)
		return rc;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (strcmp(v[i].site, b->site) != 0 || v[i].seq != b->seq)
			continue;
		git_oid id;
		int same = 0;
		if (git_oid_fromstr(&id, v[i].commit) < 0 || (rc = same_header(&same, log, &id, b)) < 0)
			break;
		if (same) {
			if (out_n)
				*out_n = v[i].n;
			rc = PLEIN_LOG_SAME;
		}
		if (v[i].n > max)
			max = v[i].n;
	}
	free(v);
	if (rc != 0)
		return rc;
	snprintf(ref, sizeof ref, FORKS "%s/%" PRIu64 "-%u", b->site, b->seq, max + 1);
	if ((rc = keep_batch(log, ref, b, 0)) == 0 && out_n)
		*out_n = max + 1;
	return rc;
}

int plein_log_forks(plein_log_ref **out, size_t *out_n, plein_log *log)
{
	return list_refs(out, out_n, log, FORKS, 'f');
}

int plein_log_fork_drop(plein_log *log, const char *site, uint64_t seq, unsigned n)
{
	char ref[PLEIN_LOG_REF_MAX];
	int rc = check_site(site);
	if (rc < 0)
		return rc;
	snprintf(ref, sizeof ref, FORKS "%s/%" PRIu64 "-%u", site, seq, n);
	return delete_ref(log, ref, "such fork proof");
}

int plein_log_commit_id(char out[PLEIN_LOG_OID_HEX + 1], const plein_log_batch *b, const char *parent)
{
	git_oid p, id;
	out[0] = 0;
	int rc = check_batch(b);
	if (rc < 0)
		return rc;
	if (parent && parent[0] && (!is_hex_oid(parent) || git_oid_fromstr(&p, parent) < 0))
		return plein_fail(PLEIN_EINVAL, "'%s' is not a commit id", parent);
	git_libgit2_init();
	struct sink none = { 0 };
	struct put_out po;
	rc = put_batch(&po, &none, b, parent && parent[0] ? &p : NULL);
	git_oid_cpy(&id, &po.commit);
	git_libgit2_shutdown();
	if (rc == 0)
		git_oid_tostr(out, PLEIN_LOG_OID_HEX + 1, &id);
	return rc;
}

/* ---- personal parts: refs/plein/personal/<site>/<seq>/<header-id> ---- */

int plein_log_header_id(char out[PLEIN_LOG_OID_HEX + 1], const unsigned char *header, size_t len)
{
	git_oid id;
	out[0] = 0;
	if (git_odb_hash(&id, header, len, GIT_OBJECT_BLOB) < 0)
		return gfail(PLEIN_ERR, "cannot hash a batch header");
	git_oid_tostr(out, PLEIN_LOG_OID_HEX + 1, &id);
	return 0;
}

/* "<site>/<seq>/<header-id>" -> p; -1 for a name plein did not make. */
static int parse_personal(plein_log_personal *p, const char *rest)
{
	char norm[PLEIN_SITEID_LEN + 1];
	if (strlen(rest) < PLEIN_SITEID_LEN + 1 || rest[PLEIN_SITEID_LEN] != '/')
		return -1;
	memcpy(p->site, rest, PLEIN_SITEID_LEN);
	p->site[PLEIN_SITEID_LEN] = 0;
	if (plein_siteid_normalize(norm, p->site) < 0 || strcmp(norm, p->site) != 0)
		return -1;
	const char *s = rest + PLEIN_SITEID_LEN + 1;
	if (parse_u64(&s, &p->seq) < 0 || p->seq < 1 || *s++ != '/' || !is_hex_oid(s))
		return -1;
	memcpy(p->header, s, PLEIN_LOG_OID_HEX + 1);
	return 0;
}

int plein_log_personals(plein_log_personal **out, size_t *out_n, plein_log *log, const char *key)
{
	git_reference_iterator *it = NULL;
	git_reference *r = NULL;
	plein_log_personal *v = NULL;
	size_t n = 0, cap = 0;
	char prefix[PLEIN_LOG_REF_MAX], glob[PLEIN_LOG_REF_MAX + 2];
	int grc;
	*out = NULL;
	*out_n = 0;
	if (key && key[0] && (grc = plein_log_check_key(key)) < 0)
		return grc;
	if (key)
		snprintf(prefix, sizeof prefix, INPERSONAL "%s%s", key, key[0] ? "/" : "");
	else
		snprintf(prefix, sizeof prefix, PERSONAL);
	snprintf(glob, sizeof glob, "%s*", prefix);
	if (git_reference_iterator_glob_new(&it, log->repo, glob) < 0)
		return gfail(PLEIN_ERR, "cannot list %s", prefix);
	while ((grc = git_reference_next(&r, it)) == 0) {
		const char *name = git_reference_name(r);
		const git_oid *id = git_reference_target(r);
		plein_log_personal p;
		memset(&p, 0, sizeof p);
		const char *rest = name + strlen(prefix);
		if (key && !key[0]) /* every remote: skip the key */
			rest = strchr(rest, '/') ? strchr(rest, '/') + 1 : "";
		if (id && strlen(name) < PLEIN_LOG_REF_MAX && strncmp(name, prefix, strlen(prefix)) == 0 &&
				parse_personal(&p, rest) == 0) {
			git_oid blob;
			snprintf(p.name, sizeof p.name, "%s", name);
			git_oid_tostr(p.commit, sizeof p.commit, id);
			if (personal_blob(&blob, log, id) < 0) {
				plein_error_clear(); /* not a personal part: ignored, like any name plein did not make */
				git_reference_free(r);
				r = NULL;
				continue;
			}
			git_oid_tostr(p.blob, sizeof p.blob, &blob);
			if (n == cap) {
				cap = cap ? 2 * cap : 16;
				v = plein_xrealloc(v, cap * sizeof *v);
			}
			v[n++] = p;
		}
		git_reference_free(r);
		r = NULL;
	}
	git_reference_iterator_free(it);
	if (grc != GIT_ITEROVER) {
		free(v);
		return gfail(PLEIN_ERR, "cannot list %s", prefix);
	}
	*out = v;
	*out_n = n;
	return 0;
}

int plein_log_blob_read(plein_buf *out, plein_log *log, const char *blob)
{
	git_oid id;
	if (!blob || !is_hex_oid(blob) || git_oid_fromstr(&id, blob) < 0)
		return plein_fail(PLEIN_EINVAL, "'%s' is not an object id", blob ? blob : "");
	git_object_t type;
	size_t len;
	git_odb *odb = NULL;
	if (git_repository_odb(&odb, log->repo) < 0)
		return gfail(PLEIN_ERR, "cannot open the objects of log.git");
	if (git_odb_read_header(&len, &type, odb, &id) == 0 && type == GIT_OBJECT_COMMIT) {
		git_oid c;
		git_oid_cpy(&c, &id);
		int rc = personal_blob(&id, log, &c);
		if (rc < 0) {
			git_odb_free(odb);
			return rc;
		}
	}
	int bad = blob_size(&len, odb, &id) < 0 || len > PLEIN_LOG_MAX_PAYLOAD;
	git_odb_free(odb);
	if (bad)
		return plein_fail(PLEIN_EREJECT, "log.git: object %s is missing, not a blob, or too large for a personal part", blob);
	return read_blob(out, log, &id);
}

int plein_log_personal_set(char out_blob[PLEIN_LOG_OID_HEX + 1], plein_log *log, const char *site, uint64_t seq,
		const char *header, const unsigned char *p, size_t n, const char *expect)
{
	char ref[PLEIN_LOG_REF_MAX];
	git_oid hid, cid, bid, old, oldblob;
	git_odb *odb = NULL;
	int rc = check_site(site);
	if (rc < 0)
		return rc;
	if (!header || !is_hex_oid(header) || git_oid_fromstr(&hid, header) < 0 || seq < 1)
		return plein_fail(PLEIN_EINVAL, "a personal part needs a site, a seq and a header id");
	if (expect && (!is_hex_oid(expect) || git_oid_fromstr(&oldblob, expect) < 0))
		return plein_fail(PLEIN_EINVAL, "'%s' is not an object id", expect);
	if (n > PLEIN_LOG_MAX_PAYLOAD)
		return plein_fail(PLEIN_EINVAL, "a personal part of %zu bytes is too large", n);
	personal_ref(ref, site, seq, &hid);
	if (expect) { /* the ref must still name that part */
		git_oid cur;
		if (git_reference_name_to_id(&old, log->repo, ref) < 0 || personal_blob(&cur, log, &old) < 0 ||
				!git_oid_equal(&cur, &oldblob))
			return plein_fail(PLEIN_EBUSY, "%s changed meanwhile; nothing was written, read it again", ref);
	}
	if (git_repository_odb(&odb, log->repo) < 0)
		return gfail(PLEIN_ERR, "cannot open the objects of log.git");
	struct sink sk = { .odb = odb };
	rc = put_personal(&cid, &bid, &sk, site, seq, &hid, p, n);
	git_odb_free(odb);
	if (rc < 0)
		return gfail(PLEIN_ERR, "cannot write a personal part to log.git");
	if ((rc = cas_ref(log, ref, &cid, expect ? &old : NULL, "plein: personal part")) < 0)
		return rc;
	if (out_blob)
		git_oid_tostr(out_blob, PLEIN_LOG_OID_HEX + 1, &bid);
	return 0;
}

int plein_log_personal_blob(char out[PLEIN_LOG_OID_HEX + 1], plein_log *log, const char *commit)
{
	git_oid c, b;
	out[0] = 0;
	if (!commit || !is_hex_oid(commit) || git_oid_fromstr(&c, commit) < 0)
		return plein_fail(PLEIN_EINVAL, "'%s' is not an object id", commit ? commit : "");
	int rc = personal_blob(&b, log, &c);
	if (rc == 0)
		git_oid_tostr(out, PLEIN_LOG_OID_HEX + 1, &b);
	return rc;
}

int plein_log_has(plein_log *log, const char *id)
{
	git_oid oid;
	git_odb *odb = NULL;
	if (!id || !is_hex_oid(id) || git_oid_fromstr(&oid, id) < 0 || git_repository_odb(&odb, log->repo) < 0)
		return 0;
	int has = git_odb_exists(odb, &oid);
	git_odb_free(odb);
	return has;
}

int plein_log_personal_drop(plein_log *log, const char *name)
{
	if (!name || (strncmp(name, PERSONAL, strlen(PERSONAL)) != 0 && strncmp(name, INPERSONAL, strlen(INPERSONAL)) != 0))
		return plein_fail(PLEIN_EINVAL, "'%s' is not a personal-part ref", name ? name : "");
	return delete_ref(log, name, name);
}

/* ---- pruning: objects that must really be gone ---- */

/* The object ids of a pack index (version 1 or 2), or -1. */
static int idx_read(git_oid **out, size_t *out_n, const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char head[8], fan[1024];
	int v2, rc = -1;
	*out = NULL;
	*out_n = 0;
	if (!f)
		return -1;
	if (fread(head, 1, 8, f) != 8)
		goto done;
	v2 = memcmp(head, "\377tOc\0\0\0\2", 8) == 0;
	if (!v2 && fseek(f, 0, SEEK_SET) != 0)
		goto done;
	if (fread(fan, 1, sizeof fan, f) != sizeof fan)
		goto done;
	uint32_t n = (uint32_t)fan[1020] << 24 | (uint32_t)fan[1021] << 16 | (uint32_t)fan[1022] << 8 | fan[1023];
	if (n > (1u << 28))
		goto done;
	git_oid *v = plein_xcalloc(n ? n : 1, sizeof *v);
	for (uint32_t i = 0; i < n; i++) {
		unsigned char e[24];
		size_t want = v2 ? 20 : 24;
		if (fread(e, 1, want, f) != want) {
			free(v);
			goto done;
		}
		git_oid_fromraw(&v[i], v2 ? e : e + 4);
	}
	*out = v;
	*out_n = n;
	rc = 0;
done:
	fclose(f);
	return rc;
}

static int oid_in(const git_oid *id, const git_oid *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (git_oid_equal(id, &set[i]))
			return 1;
	return 0;
}

/* Rewrite one pack without the objects in gone: the others go into a new
 * pack (pack_write), then the old .pack, .idx and companions are removed. */
static int pack_rewrite(plein_log *log, const char *idxpath, const git_oid *keep_out, size_t ngone,
		const git_oid *all, size_t nall)
{
	struct objlist l;
	git_odb *odb = NULL;
	git_odb_object **held = plein_xcalloc(nall ? nall : 1, sizeof *held);
	size_t nheld = 0;
	int rc = 0;
	memset(&l, 0, sizeof l);
	if (git_repository_odb(&odb, log->repo) < 0) {
		free(held);
		return gfail(PLEIN_ERR, "cannot open the objects of log.git");
	}
	for (size_t i = 0; i < nall && rc == 0; i++) {
		if (oid_in(&all[i], keep_out, ngone))
			continue;
		git_odb_object *o = NULL;
		if (git_odb_read(&o, odb, &all[i]) < 0) {
			rc = gfail(PLEIN_ERR, "cannot read an object of %s", idxpath);
			break;
		}
		held[nheld++] = o;
		if (l.n == l.cap) {
			l.cap = l.cap ? 2 * l.cap : 256;
			l.v = plein_xrealloc(l.v, l.cap * sizeof *l.v);
		}
		struct pobj *p = &l.v[l.n++];
		git_oid_cpy(&p->id, &all[i]);
		p->type = git_odb_object_type(o);
		p->data = git_odb_object_data(o);
		p->len = git_odb_object_size(o);
	}
	if (rc == 0 && l.n)
		rc = pack_write(log, &l);
	if (rc == 0) {
		static const char *ext[] = { ".pack", ".rev", ".keep", ".promisor", ".mtimes", ".idx" };
		size_t base = strlen(idxpath) - 4;
		for (size_t i = 0; i < sizeof ext / sizeof *ext; i++) {
			plein_buf p = PLEIN_BUF_INIT;
			plein_buf_put(&p, idxpath, base);
			plein_buf_puts(&p, ext[i]);
			unlink(plein_buf_cstr(&p));
			plein_buf_free(&p);
		}
	}
	for (size_t i = 0; i < nheld; i++)
		git_odb_object_free(held[i]);
	free(held);
	free(l.v);
	plein_buf_free(&l.arena);
	git_odb_free(odb);
	return rc;
}

int plein_log_prune(size_t *out_removed, plein_log *log, const char (*blobs)[PLEIN_LOG_OID_HEX + 1], size_t n)
{
	plein_log_personal *refs = NULL;
	size_t nrefs = 0, ngone = 0;
	git_oid *gone = plein_xcalloc(n ? n : 1, sizeof *gone);
	const char *gitdir = git_repository_path(log->repo);
	int rc = plein_log_personals(&refs, &nrefs, log, NULL);
	if (out_removed)
		*out_removed = 0;
	/* Still named by a personal ref: not gone (two batches never share a
	 * personal part, but an empty one, fully purged, is one blob). */
	for (size_t i = 0; i < n && rc == 0; i++) {
		int used = 0;
		for (size_t k = 0; k < nrefs && !used; k++)
			used = strcmp(refs[k].blob, blobs[i]) == 0;
		git_oid id;
		if (!used && is_hex_oid(blobs[i]) && git_oid_fromstr(&id, blobs[i]) == 0 && !oid_in(&id, gone, ngone))
			git_oid_cpy(&gone[ngone++], &id);
	}
	free(refs);
	size_t removed = 0;
	for (size_t i = 0; i < ngone && rc == 0; i++) { /* loose objects */
		char hex[GIT_OID_HEXSZ + 1];
		plein_buf p = PLEIN_BUF_INIT;
		git_oid_tostr(hex, sizeof hex, &gone[i]);
		plein_buf_printf(&p, "%sobjects/%.2s/%s", gitdir, hex, hex + 2);
		if (unlink(plein_buf_cstr(&p)) == 0)
			removed++;
		plein_buf_free(&p);
	}
	if (rc == 0 && ngone) { /* packs holding any of them */
		plein_buf dir = PLEIN_BUF_INIT;
		plein_buf_printf(&dir, "%sobjects/pack", gitdir);
		DIR *d = opendir(plein_buf_cstr(&dir));
		char **idx = NULL;
		size_t nidx = 0;
		struct dirent *e;
		while (d && (e = readdir(d))) {
			size_t len = strlen(e->d_name);
			if (len > 4 && strcmp(e->d_name + len - 4, ".idx") == 0) {
				idx = plein_xrealloc(idx, (nidx + 1) * sizeof *idx);
				plein_buf p = PLEIN_BUF_INIT;
				plein_buf_printf(&p, "%s/%s", plein_buf_cstr(&dir), e->d_name);
				idx[nidx++] = (char *)p.data;
			}
		}
		if (d)
			closedir(d);
		for (size_t i = 0; i < nidx; i++) {
			git_oid *all = NULL;
			size_t nall = 0, hits = 0;
			if (rc == 0 && idx_read(&all, &nall, idx[i]) == 0) {
				for (size_t k = 0; k < nall; k++)
					hits += oid_in(&all[k], gone, ngone);
				if (hits && (rc = pack_rewrite(log, idx[i], gone, ngone, all, nall)) == 0)
					removed += hits;
			}
			free(all);
			free(idx[i]);
		}
		free(idx);
		/* A multi-pack index would still name the removed packs. */
		plein_buf_reset(&dir);
		plein_buf_printf(&dir, "%sobjects/pack/multi-pack-index", gitdir);
		unlink(plein_buf_cstr(&dir));
		plein_buf_free(&dir);
		git_odb *odb = NULL;
		if (git_repository_odb(&odb, log->repo) == 0)
			git_odb_refresh(odb);
		git_odb_free(odb);
	}
	free(gone);
	if (out_removed)
		*out_removed = removed;
	return rc;
}
