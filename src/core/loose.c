/* Bounded checks of git loose objects (see loose.h for why). A loose
 * object is zlib("<type> <size>\0<body>"), named by the SHA-1 of the
 * inflated bytes; every step below ends on damage, none can loop. */
#include "plein/loose.h"

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
#include <zlib.h>

#include "plein/buf.h"
#include "plein/error.h"

#define HEADER_MAX 32 /* "commit 314572800\0" and room to spare */

static int damaged(const char *gitdir, const char *hex, const char *what)
{
	return plein_fail(PLEIN_EREJECT, "git object %s in %s is damaged: %s (check it with 'git --git-dir %s fsck')",
			hex, gitdir, what, gitdir);
}

static int is_hex40(const char *s)
{
	size_t i = 0;
	for (; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i == 40;
}

/* The whole file, at most max bytes. 1 when it does not exist. */
static int slurp(plein_buf *out, const char *path, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 1 : plein_fail(PLEIN_ERR, "cannot read %s: %s", path, strerror(errno));
	struct stat st;
	int rc = 0;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = plein_fail(PLEIN_ERR, "cannot read %s: not a file", path);
	} else if ((size_t)st.st_size > max) {
		rc = PLEIN_EREJECT;
	} else {
		size_t want = (size_t)st.st_size;
		ssize_t n = 0;
		plein_buf_grow(out, want);
		while (out->len < want && (n = read(fd, out->data + out->len, want - out->len)) > 0)
			out->len += (size_t)n;
		if (n < 0)
			rc = plein_fail(PLEIN_ERR, "cannot read %s: %s", path, strerror(errno));
	}
	close(fd);
	return rc;
}

/* "<type> <size>\0" at the start of p[0..n): the type and the header's
 * length, or 0 when it is not there (yet). -1: malformed. */
static int parse_header(git_object_t *type, size_t *size, const unsigned char *p, size_t n)
{
	const unsigned char *nul = memchr(p, 0, n < HEADER_MAX ? n : HEADER_MAX);
	if (!nul)
		return n >= HEADER_MAX ? -1 : 0;
	static const struct { const char *name; git_object_t type; } types[] = {
		{ "commit ", GIT_OBJECT_COMMIT }, { "tree ", GIT_OBJECT_TREE },
		{ "blob ", GIT_OBJECT_BLOB }, { "tag ", GIT_OBJECT_TAG },
	};
	for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
		size_t len = strlen(types[i].name);
		if ((size_t)(nul - p) <= len || memcmp(p, types[i].name, len) != 0)
			continue;
		size_t v = 0;
		for (const unsigned char *d = p + len; d < nul; d++) {
			if (*d < '0' || *d > '9')
				return -1;
			v = v * 10 + (size_t)(*d - '0');
			if (v > PLEIN_LOOSE_MAX) /* checked after each digit: no overflow */
				return -1;
		}
		*type = types[i].type;
		*size = v;
		return (int)(nul - p) + 1;
	}
	return -1;
}

int plein_loose_check_bytes(const unsigned char *data, size_t len, const char *hex, const char *where)
{
	if (!is_hex40(hex))
		return plein_fail(PLEIN_EINVAL, "'%s' is not a git object id", hex);
	z_stream z;
	memset(&z, 0, sizeof z);
	if (len > PLEIN_LOOSE_MAX)
		return damaged(where, hex, "larger than any plein object");
	if (inflateInit(&z) != Z_OK)
		return plein_fail(PLEIN_ERR, "zlib could not start (out of memory?)");
	plein_buf out = PLEIN_BUF_INIT;
	z.next_in = (unsigned char *)data;
	z.avail_in = (uInt)len;
	git_object_t type = GIT_OBJECT_INVALID;
	size_t size = 0, hlen = 0, want = HEADER_MAX;
	int rc = 0;
	plein_buf_grow(&out, want);
	for (;;) {
		/* Grow as the body arrives, never straight to the size the
		 * header claims: a damaged header may claim 300 MiB. */
		if (out.len == out.cap) {
			size_t step = out.len > 65536 ? out.len : 65536;
			plein_buf_grow(&out, want - out.len < step ? want - out.len : step);
		}
		uInt in_before = z.avail_in, room = (uInt)(out.cap - out.len);
		z.next_out = out.data + out.len;
		z.avail_out = room;
		int zrc = inflate(&z, Z_NO_FLUSH);
		out.len += room - z.avail_out;
		if (!hlen) {
			int h = parse_header(&type, &size, out.data, out.len);
			if (h < 0) {
				rc = damaged(where, hex, "no object header");
				break;
			}
			hlen = (size_t)h;
			if (hlen)
				want = hlen + size + 1; /* one more: to see a body that is too long */
		}
		if (hlen && out.len > hlen + size) {
			rc = damaged(where, hex, "longer than its header says");
			break;
		}
		if (zrc == Z_STREAM_END)
			break;
		if (zrc != Z_OK && zrc != Z_BUF_ERROR) {
			rc = damaged(where, hex, z.msg ? z.msg : "not a zlib stream");
			break;
		}
		if (z.avail_in == in_before && z.avail_out == room) {
			/* No progress: the input is used up before the stream's end. */
			rc = damaged(where, hex, z.avail_in ? "zlib stream stuck" : "truncated");
			break;
		}
	}
	if (rc == 0 && (!hlen || out.len != hlen + size))
		rc = damaged(where, hex, "shorter than its header says");
	else if (rc == 0 && z.avail_in != 0)
		rc = damaged(where, hex, "bytes after the end of its zlib stream");
	inflateEnd(&z);
	if (rc == 0) {
		git_oid want_id, got;
		if (git_oid_fromstr(&want_id, hex) < 0 || git_odb_hash(&got, out.data + hlen, size, type) < 0)
			rc = plein_fail(PLEIN_ERR, "cannot hash git object %s", hex);
		else if (git_oid_cmp(&want_id, &got) != 0)
			rc = damaged(where, hex, "its content does not match its name (hash)");
	}
	plein_buf_free(&out);
	return rc;
}

int plein_loose_check(const char *gitdir, const char *hex)
{
	if (!is_hex40(hex))
		return plein_fail(PLEIN_EINVAL, "'%s' is not a git object id", hex);
	plein_buf path = PLEIN_BUF_INIT, in = PLEIN_BUF_INIT;
	plein_buf_printf(&path, "%s/objects/%.2s/%s", gitdir, hex, hex + 2);
	int rc = slurp(&in, plein_buf_cstr(&path), PLEIN_LOOSE_MAX);
	plein_buf_free(&path);
	if (rc == PLEIN_EREJECT)
		rc = damaged(gitdir, hex, "larger than any plein object");
	else if (rc == 0)
		rc = plein_loose_check_bytes(in.data, in.len, hex, gitdir);
	else if (rc == 1) /* not loose */
		rc = 0;
	plein_buf_free(&in);
	return rc;
}

/* Check the loose objects of gitdir changed at or after since (seconds;
 * the later of mtime and ctime, so a copy that kept old mtimes is checked
 * too). *out_checked counts those looked at. */
static int walk(const char *gitdir, time_t since, size_t *out_bad, size_t *out_checked)
{
	size_t bad = 0, checked = 0;
	int first = 0;
	plein_buf p = PLEIN_BUF_INIT;
	char msg[512] = "";
	for (int i = 0; i < 256; i++) {
		plein_buf_reset(&p);
		plein_buf_printf(&p, "%s/objects/%02x", gitdir, i);
		DIR *d = opendir(plein_buf_cstr(&p));
		size_t base = p.len;
		struct dirent *e;
		while (d && (e = readdir(d))) {
			char hex[41];
			struct stat st;
			if (strlen(e->d_name) != 38)
				continue; /* ., .., tmp_obj_* of a writer */
			snprintf(hex, sizeof hex, "%02x%s", i, e->d_name);
			if (!is_hex40(hex))
				continue;
			p.len = base;
			plein_buf_printf(&p, "/%s", e->d_name);
			if (since > 0 && lstat(plein_buf_cstr(&p), &st) == 0 &&
			    st.st_mtime < since && st.st_ctime < since)
				continue;
			checked++;
			int rc = plein_loose_check(gitdir, hex);
			if (rc < 0) {
				bad++;
				if (!first) {
					first = rc;
					snprintf(msg, sizeof msg, "%s", plein_error());
				}
			}
		}
		if (d)
			closedir(d);
	}
	plein_buf_free(&p);
	if (out_bad)
		*out_bad = bad;
	if (out_checked)
		*out_checked = checked;
	return first ? plein_fail(first, "%s", msg) : 0;
}

int plein_loose_check_all(const char *gitdir, size_t *out_bad)
{
	return walk(gitdir, 0, out_bad, NULL);
}

/* The mark: a decimal Unix time in gitdir/MARK_FILE. */
#define MARK_FILE "plein-loose-checked"

static time_t read_mark(const char *gitdir)
{
	plein_buf p = PLEIN_BUF_INIT;
	plein_buf_printf(&p, "%s/" MARK_FILE, gitdir);
	FILE *f = fopen(plein_buf_cstr(&p), "r");
	long long v = 0;
	if (f && fscanf(f, "%lld", &v) != 1)
		v = 0;
	if (f)
		fclose(f);
	plein_buf_free(&p);
	return v > 0 ? (time_t)v : 0;
}

/* Best effort: without the mark the next run checks more, nothing worse. */
static void write_mark(const char *gitdir, time_t t)
{
	plein_buf p = PLEIN_BUF_INIT, tmp = PLEIN_BUF_INIT;
	plein_buf_printf(&p, "%s/" MARK_FILE, gitdir);
	plein_buf_printf(&tmp, "%s/" MARK_FILE ".%ld", gitdir, (long)getpid());
	FILE *f = fopen(plein_buf_cstr(&tmp), "w");
	int ok = f && fprintf(f, "%lld\n", (long long)t) > 0;
	if (f && fclose(f) != 0)
		ok = 0;
	if (!ok || rename(plein_buf_cstr(&tmp), plein_buf_cstr(&p)) != 0)
		unlink(plein_buf_cstr(&tmp));
	plein_buf_free(&p);
	plein_buf_free(&tmp);
}

int plein_loose_check_new(const char *gitdir)
{
	time_t start = time(NULL), mark = read_mark(gitdir);
	if (mark > start)
		mark = 0; /* the clock went back: check everything once */
	size_t checked = 0;
	int rc = walk(gitdir, mark, NULL, &checked);
	/* Objects written while we walked have a time >= start: next time. */
	if (rc == 0 && checked > 0)
		write_mark(gitdir, start);
	return rc;
}
