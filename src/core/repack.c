/* Repacking log.git (see repack.h). libgit2 1.5 has no gc: the new pack
 * is built with its packbuilder from a walk of every refs/plein/ ref, and
 * old files are removed only when the new pack holds what they held. */
#include "plein/repack.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "plein/buf.h"
#include "plein/conf.h"
#include "plein/error.h"

#define GARBAGE_AGE (60 * 60) /* seconds: see repack.h */
#define LOCK_STALE (60 * 60)  /* a repack lock older than this was left by a crash */
#define OID 20

static int gfail(const char *what)
{
	const git_error *e = git_error_last();
	return plein_fail(PLEIN_ERR, "repacking log.git: %s: %s", what, e && e->message ? e->message : "unknown error");
}

/* The names of the packfiles in dir, without ".pack". */
static size_t list_packs(char ***out, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **v = NULL;
	size_t n = 0;
	while (d && (e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len <= 5 || strcmp(e->d_name + len - 5, ".pack") != 0)
			continue;
		v = plein_xrealloc(v, (n + 1) * sizeof *v);
		v[n] = plein_xstrdup(e->d_name);
		v[n++][len - 5] = 0;
	}
	if (d)
		closedir(d);
	*out = v;
	return n;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* The sorted object ids of a version 2 pack index; NULL when unreadable. */
static unsigned char *read_idx(size_t *out_n, const char *path)
{
	*out_n = 0;
	FILE *f = fopen(path, "rb");
	unsigned char head[8 + 256 * 4];
	if (!f)
		return NULL;
	unsigned char *ids = NULL;
	if (fread(head, 1, sizeof head, f) == sizeof head && memcmp(head, "\377tOc\0\0\0\2", 8) == 0) {
		const unsigned char *last = head + 8 + 255 * 4;
		size_t n = (size_t)last[0] << 24 | (size_t)last[1] << 16 | (size_t)last[2] << 8 | last[3];
		ids = plein_xmalloc(n * OID + 1);
		if (fread(ids, OID, n, f) == n) {
			*out_n = n;
		} else {
			free(ids);
			ids = NULL;
		}
	}
	fclose(f);
	return ids;
}

static int cmp_oid(const void *a, const void *b)
{
	return memcmp(a, b, OID);
}

static int has(const unsigned char *ids, size_t n, const unsigned char *id)
{
	return n && bsearch(id, ids, n, OID, cmp_oid) != NULL;
}

/* Remove the loose objects the new pack holds. */
static size_t drop_loose(const char *gitdir, const unsigned char *ids, size_t n)
{
	plein_buf p = PLEIN_BUF_INIT;
	size_t removed = 0;
	for (int i = 0; i < 256; i++) {
		plein_buf_reset(&p);
		plein_buf_printf(&p, "%sobjects/%02x", gitdir, i);
		char *dir = plein_xstrdup(plein_buf_cstr(&p));
		DIR *d = opendir(dir);
		struct dirent *e;
		while (d && (e = readdir(d))) {
			char hex[41];
			git_oid id;
			if (strlen(e->d_name) != 38)
				continue;
			snprintf(hex, sizeof hex, "%02x%s", i, e->d_name);
			if (git_oid_fromstr(&id, hex) < 0 || !has(ids, n, id.id))
				continue;
			plein_buf_reset(&p);
			plein_buf_printf(&p, "%s/%s", dir, e->d_name);
			if (unlink(plein_buf_cstr(&p)) == 0)
				removed++;
		}
		if (d) {
			closedir(d);
			rmdir(dir); /* only when empty */
		}
		free(dir);
	}
	plein_buf_free(&p);
	return removed;
}

/* How many loose objects log.git holds (stops counting past limit). */
static size_t count_loose(const char *gitdir, size_t limit)
{
	plein_buf p = PLEIN_BUF_INIT;
	size_t n = 0;
	for (int i = 0; i < 256 && n <= limit; i++) {
		plein_buf_reset(&p);
		plein_buf_printf(&p, "%sobjects/%02x", gitdir, i);
		DIR *d = opendir(plein_buf_cstr(&p));
		struct dirent *e;
		while (d && (e = readdir(d)))
			n += strlen(e->d_name) == 38;
		if (d)
			closedir(d);
	}
	plein_buf_free(&p);
	return n;
}

/* Remove an old pack when the new one holds all of it, or when it is old
 * enough that what else it holds is garbage. */
static void drop_pack(const char *packdir, const char *name, const unsigned char *ids, size_t n)
{
	static const char *exts[] = { ".idx", ".pack", ".rev" }; /* the index first: it makes the pack visible */
	plein_buf p = PLEIN_BUF_INIT;
	struct stat st;
	size_t m = 0;
	plein_buf_printf(&p, "%s/%s.keep", packdir, name);
	int keep = access(plein_buf_cstr(&p), F_OK) == 0;
	plein_buf_reset(&p);
	plein_buf_printf(&p, "%s/%s.idx", packdir, name);
	unsigned char *old = keep ? NULL : read_idx(&m, plein_buf_cstr(&p));
	int all = old != NULL;
	for (size_t i = 0; all && i < m; i++)
		all = has(ids, n, old + i * OID);
	plein_buf_reset(&p);
	plein_buf_printf(&p, "%s/%s.pack", packdir, name);
	int aged = old && stat(plein_buf_cstr(&p), &st) == 0 && time(NULL) - st.st_mtime > GARBAGE_AGE;
	if (all || aged)
		for (size_t i = 0; i < sizeof exts / sizeof *exts; i++) {
			plein_buf_reset(&p);
			plein_buf_printf(&p, "%s/%s%s", packdir, name, exts[i]);
			unlink(plein_buf_cstr(&p));
		}
	free(old);
	plein_buf_free(&p);
}

/* Only one repack at a time; 1 when the lock was taken. */
static int take_lock(const char *path)
{
	for (int tries = 0; tries < 2; tries++) {
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0) {
			close(fd);
			return 1;
		}
		struct stat st;
		if (errno != EEXIST || stat(path, &st) != 0 || time(NULL) - st.st_mtime <= LOCK_STALE || unlink(path) != 0)
			return 0;
	}
	return 0;
}

/* Every commit (with its tree) that a refs/plein/ ref reaches. */
static int walk_refs(git_packbuilder *pb, git_repository *repo)
{
	git_revwalk *walk = NULL;
	git_reference_iterator *it = NULL;
	git_reference *ref = NULL;
	int grc = git_revwalk_new(&walk, repo);
	if (grc == 0)
		grc = git_reference_iterator_glob_new(&it, repo, "refs/plein/*");
	while (grc == 0 && (grc = git_reference_next(&ref, it)) == 0) {
		const git_oid *t = git_reference_target(ref);
		/* a ref we cannot walk: stop, or its objects would be lost */
		grc = t ? git_revwalk_push(walk, t) : -1;
		git_reference_free(ref);
	}
	if (grc == GIT_ITEROVER)
		grc = git_packbuilder_insert_walk(pb, walk);
	git_reference_iterator_free(it);
	git_revwalk_free(walk);
	return grc;
}

int plein_log_repack(plein_repack_report *out, plein_log *log, size_t max_packs, size_t max_loose)
{
	memset(out, 0, sizeof *out);
	git_repository *repo = plein_log_repo(log);
	const char *gitdir = git_repository_path(repo); /* ends with '/' */
	plein_buf packdir = PLEIN_BUF_INIT, lock = PLEIN_BUF_INIT;
	plein_buf_printf(&packdir, "%sobjects/pack", gitdir);
	plein_buf_printf(&lock, "%splein-repack.lock", gitdir);
	char **old = NULL;
	size_t nold = list_packs(&old, plein_buf_cstr(&packdir));
	out->packs_before = out->packs_after = nold;
	int rc = 0;
	if (max_packs && nold <= max_packs && (out->loose_before = count_loose(gitdir, max_loose)) <= max_loose)
		goto done;
	if (!take_lock(plein_buf_cstr(&lock)))
		goto done;
	git_packbuilder *pb = NULL;
	if (git_packbuilder_new(&pb, repo) < 0) {
		rc = gfail("cannot start");
		goto unlock;
	}
	git_packbuilder_set_threads(pb, 1);
	if (walk_refs(pb, repo) < 0)
		rc = gfail("cannot walk the refs");
	else if (git_packbuilder_write(pb, plein_buf_cstr(&packdir), 0, NULL, NULL) < 0)
		rc = gfail("cannot write the new pack");
	if (rc == 0) {
		plein_buf idx = PLEIN_BUF_INIT;
		char name[128];
		size_t n = 0;
		snprintf(name, sizeof name, "pack-%s", git_packbuilder_name(pb));
		plein_buf_printf(&idx, "%s/%s.idx", plein_buf_cstr(&packdir), name);
		unsigned char *ids = read_idx(&n, plein_buf_cstr(&idx));
		plein_buf_free(&idx);
		if (!ids) {
			rc = plein_fail(PLEIN_ERR, "repacking log.git: cannot read the new pack's index %s", name);
		} else {
			out->objects = n;
			out->loose_removed = drop_loose(gitdir, ids, n);
			for (size_t i = 0; i < nold; i++)
				if (strcmp(old[i], name) != 0)
					drop_pack(plein_buf_cstr(&packdir), old[i], ids, n);
			free(ids);
			git_odb *odb = NULL;
			if (git_repository_odb(&odb, repo) == 0)
				git_odb_refresh(odb);
			git_odb_free(odb);
		}
	}
	git_packbuilder_free(pb);
	free_list(old, nold);
	out->packs_after = list_packs(&old, plein_buf_cstr(&packdir));
	nold = out->packs_after;
unlock:
	unlink(plein_buf_cstr(&lock));
done:
	free_list(old, nold);
	plein_buf_free(&packdir);
	plein_buf_free(&lock);
	return rc;
}

int plein_site_repack(plein_repack_report *out, plein_site *s)
{
	memset(out, 0, sizeof *out);
	plein_log *log = plein_site_log(s);
	if (!log)
		return plein_error_code() ? plein_error_code() : PLEIN_ERR;
	int packs = plein_conf_get_int(s->conf, "log.maxpacks", PLEIN_REPACK_PACKS);
	int loose = plein_conf_get_int(s->conf, "log.maxloose", PLEIN_REPACK_LOOSE);
	return plein_log_repack(out, log, packs >= 0 ? (size_t)packs : PLEIN_REPACK_PACKS,
				loose >= 0 ? (size_t)loose : PLEIN_REPACK_LOOSE);
}
