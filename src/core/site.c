#include "plein/site.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <git2.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "plein/buf.h"
#include "plein/error.h"
#include "plein/loose.h"
#include "plein/log.h"
#include "plein/verify.h"

#define KEY_HEADER "# plein site key: the secret of this site. Never copy it to another machine.\n"

char *plein_site_path(const plein_site *s, const char *file)
{
	plein_buf b = PLEIN_BUF_INIT;
	plein_buf_printf(&b, "%s/%s", s->dir, file);
	return (char *)b.data;
}

static int crypto_ready(void)
{
	if (sodium_init() < 0)
		return plein_fail(PLEIN_ERR, "libsodium could not start (no entropy source?)");
	return 0;
}

static int write_key(const char *path, const unsigned char seed[32])
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		return plein_fail(PLEIN_ERR, "cannot create %s: %s", path, strerror(errno));
	char hex[65];
	sodium_bin2hex(hex, sizeof hex, seed, 32);
	plein_buf b = PLEIN_BUF_INIT;
	plein_buf_printf(&b, KEY_HEADER "ed25519-seed %s\n", hex);
	ssize_t n = write(fd, b.data, b.len);
	int bad = n != (ssize_t)b.len || fsync(fd) != 0;
	close(fd);
	sodium_memzero(b.data, b.len);
	sodium_memzero(hex, sizeof hex);
	plein_buf_free(&b);
	if (bad) {
		unlink(path);
		return plein_fail(PLEIN_ERR, "cannot write %s (disk full?)", path);
	}
	return 0;
}

static int read_key(plein_site *s)
{
	char *path = plein_site_path(s, "site.key");
	int rc = 0;
	struct stat st;
	FILE *f = NULL;
	if (stat(path, &st) != 0) {
		rc = plein_fail(PLEIN_EINVAL, "%s is not a plein site: it has no site.key (use -C with a site directory, or 'plein init')", s->dir);
		goto done;
	}
	if (st.st_mode & 077) {
		rc = plein_fail(PLEIN_EINVAL, "%s can be read by others (mode %03o); run 'chmod 600 %s' and try again",
				path, (unsigned)(st.st_mode & 0777), path);
		goto done;
	}
	f = fopen(path, "r");
	char line[256], hex[80] = "";
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "ed25519-seed %79s", hex) == 1)
			break;
	unsigned char seed[32];
	size_t n = 0;
	if (!f || sodium_hex2bin(seed, sizeof seed, hex, strlen(hex), NULL, &n, NULL) != 0 || n != 32) {
		rc = plein_fail(PLEIN_ERR, "%s is damaged: no ed25519-seed line; restore it from a backup", path);
		goto done;
	}
	crypto_sign_seed_keypair(s->pk, s->sk, seed);
	sodium_memzero(seed, sizeof seed);
	sodium_memzero(hex, sizeof hex);
	plein_siteid_from_key(s->id, s->pk);
done:
	if (f)
		fclose(f);
	free(path);
	return rc;
}

static int open_db(plein_site *s, int create)
{
	char *path = plein_site_path(s, "plein.db"), *log = plein_site_path(s, "log.git");
	int rc = 0, rebuild = !create && access(path, F_OK) != 0 && access(log, F_OK) == 0;
	/* The replica is a cache of the log: a lost plein.db comes back. */
	if (rebuild)
		rc = plein_replica_rebuild(s);
	free(log);
	if (rc == 0)
		rc = plein_db_open(&s->db, path, create);
	if (rc == PLEIN_ERR && !create && !rebuild && access(path, F_OK) != 0)
		rc = plein_fail(PLEIN_EINVAL, "%s is not a plein site: it has no plein.db", s->dir);
	free(path);
	if (rc < 0)
		return rc;
	if ((rc = plein_schema_migrate(s->db)) < 0)
		return rc;
	return plein_schema_load(&s->schema, s->db);
}

/* Where this replica's file lives: device, inode, machine and the file's
 * birth time. A restored backup or a copied disk has another one — and may
 * sign a second history under sequence numbers it already published
 * (design §5). The birth time matters because a file system hands a freed
 * inode number straight to the next file: "rm -rf site; cp -a backup
 * site" on ext4 gives the restored plein.db the very inode it had. Where
 * the file system keeps no birth time the last part is "b0". */
static void fingerprint(plein_site *s, char *out, size_t n)
{
	char *path = plein_site_path(s, "plein.db");
	struct statx st;
	char machine[64] = "";
	FILE *f = fopen("/etc/machine-id", "r");
	if (f) {
		if (!fgets(machine, sizeof machine, f))
			machine[0] = 0;
		machine[strcspn(machine, "\n")] = 0;
		fclose(f);
	}
	if (statx(AT_FDCWD, path, 0, STATX_INO | STATX_BTIME, &st) != 0)
		memset(&st, 0, sizeof st);
	if (!(st.stx_mask & STATX_BTIME))
		st.stx_btime.tv_sec = 0, st.stx_btime.tv_nsec = 0;
	snprintf(out, n, "%llu:%llu:%s:b%lld.%09u",
		 (unsigned long long)makedev(st.stx_dev_major, st.stx_dev_minor), (unsigned long long)st.stx_ino,
		 machine, (long long)st.stx_btime.tv_sec, (unsigned)st.stx_btime.tv_nsec);
	free(path);
}

/* was and now name the same file: equal, or was is from before the birth
 * time was part of it and names the same device, inode and machine. */
static int same_file(const char *was, const char *now)
{
	if (strcmp(was, now) == 0)
		return 1;
	const char *b = strstr(now, ":b");
	return !strstr(was, ":b") && b && strlen(was) == (size_t)(b - now) && strncmp(was, now, (size_t)(b - now)) == 0;
}

static int check_fingerprint(plein_site *s, int fresh)
{
	char now[160];
	fingerprint(s, now, sizeof now);
	char *was = plein_site_local_get(s, "db_fingerprint");
	int rc = 0;
	if (!was || !same_file(was, now)) {
		if (was && !fresh)
			rc = plein_site_local_set(s, "awaiting_peer", "1");
		if (rc == 0)
			rc = plein_site_local_set(s, "db_fingerprint", now);
	} else if (strcmp(was, now) != 0) {
		rc = plein_site_local_set(s, "db_fingerprint", now); /* the older form, written anew */
	}
	free(was);
	return rc;
}

static int load_conf(plein_site *s)
{
	char *path = plein_site_path(s, "plein.conf");
	int rc = plein_conf_load(&s->conf, path);
	free(path);
	return rc;
}

int plein_site_open(plein_site **out, const char *dir)
{
	*out = NULL;
	int rc = crypto_ready();
	if (rc < 0)
		return rc;
	struct stat st;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return plein_fail(PLEIN_ENOTFOUND,
			"no plein site at %s (create one with 'plein init DIR ...', or pass -C DIR or set PLEIN_DIR)", dir);
	plein_site *s = plein_xcalloc(1, sizeof *s);
	s->dir = plein_xstrdup(dir);
	if ((rc = read_key(s)) < 0 || (rc = load_conf(s)) < 0 || (rc = open_db(s, 0)) < 0 ||
	    (rc = check_fingerprint(s, 0)) < 0) {
		plein_site_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

static int dir_is_empty(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	struct dirent *e;
	int empty = 1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			empty = 0;
	closedir(d);
	return empty;
}

static int unlink_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	remove(path); /* best effort: keep going */
	return 0;
}

static void remove_created(const char *dir, int made_dir)
{
	static const char *files[] = { "site.key", "plein.conf", "plein.conf.tmp", "plein.db", "plein.db-wal", "plein.db-shm" };
	plein_buf b = PLEIN_BUF_INIT;
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		plein_buf_reset(&b);
		plein_buf_printf(&b, "%s/%s", dir, files[i]);
		unlink(plein_buf_cstr(&b));
	}
	plein_buf_reset(&b);
	plein_buf_printf(&b, "%s/log.git", dir);
	nftw(plein_buf_cstr(&b), unlink_one, 16, FTW_DEPTH | FTW_PHYS);
	if (made_dir)
		rmdir(dir);
	plein_buf_free(&b);
}

int plein_site_create(plein_site **out, const char *dir, const char *name)
{
	*out = NULL;
	int rc = crypto_ready();
	if (rc < 0)
		return rc;
	int made_dir = 0;
	struct stat st;
	if (stat(dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode) || !dir_is_empty(dir))
			return plein_fail(PLEIN_EINVAL, "%s already exists and is not an empty directory; choose a new directory for the site", dir);
	} else if (mkdir(dir, 0700) != 0) {
		return plein_fail(PLEIN_ERR, "cannot create %s: %s", dir, strerror(errno));
	} else {
		made_dir = 1;
	}

	plein_site *s = plein_xcalloc(1, sizeof *s);
	s->dir = plein_xstrdup(dir);
	unsigned char seed[32];
	randombytes_buf(seed, sizeof seed);
	char *keypath = plein_site_path(s, "site.key");
	rc = write_key(keypath, seed);
	free(keypath);
	sodium_memzero(seed, sizeof seed);
	if (rc < 0 || (rc = read_key(s)) < 0 || (rc = load_conf(s)) < 0)
		goto fail;

	plein_conf_set(s->conf, "site.name", name);
	unsigned char tok[16];
	char hex[33];
	randombytes_buf(tok, sizeof tok);
	sodium_bin2hex(hex, sizeof hex, tok, sizeof tok);
	plein_conf_set(s->conf, "site.token", hex);
	if ((rc = plein_site_save_conf(s)) < 0 || (rc = open_db(s, 1)) < 0)
		goto fail;

	/* The log repository: a bare git repository (design §5). */
	git_libgit2_init();
	git_repository *repo = NULL;
	char *logpath = plein_site_path(s, "log.git");
	int grc = git_repository_init(&repo, logpath, 1);
	free(logpath);
	git_repository_free(repo);
	git_libgit2_shutdown();
	if (grc < 0) {
		const git_error *e = git_error_last();
		rc = plein_fail(PLEIN_ERR, "cannot create log.git: %s", e ? e->message : "unknown error");
		goto fail;
	}
	if ((rc = plein_site_local_set(s, "site_id", s->id)) < 0 || (rc = check_fingerprint(s, 1)) < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	plein_site_close(s);
	remove_created(dir, made_dir);
	return rc;
}

int plein_site_progress(plein_site *s)
{
	if (s->progress && s->progress(s->progress_arg))
		return plein_fail(PLEIN_ERR, "stopped between two batches; what was applied stays, the next sync goes on "
				  "from there");
	return 0;
}

void plein_site_heartbeat(plein_site *s)
{
	/* A stop asked for now is asked again at the batch's end. */
	if (s->progress)
		(void)s->progress(s->progress_arg);
}

void plein_site_close(plein_site *s)
{
	if (!s)
		return;
	plein_log_close(s->log);
	plein_schema_free(s->schema);
	plein_db_close(s->db);
	plein_conf_free(s->conf);
	sodium_memzero(s->sk, sizeof s->sk);
	free(s->dir);
	free(s);
}

int plein_site_save_conf(plein_site *s)
{
	char *path = plein_site_path(s, "plein.conf");
	int rc = plein_conf_save(s->conf, path);
	free(path);
	return rc;
}

char *plein_site_local_get(plein_site *s, const char *key)
{
	sqlite3_stmt *st = plein_db_stmt(s->db, "SELECT value FROM plein_local WHERE key = ?1");
	if (!st)
		return NULL;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	char *v = NULL;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = plein_xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_reset(st);
	return v;
}

int plein_site_local_set(plein_site *s, const char *key, const char *value)
{
	sqlite3_stmt *st = plein_db_stmt(s->db, "INSERT OR REPLACE INTO plein_local(key, value) VALUES (?1, ?2)");
	if (!st)
		return PLEIN_ERR;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	return plein_db_step_done(s->db, st);
}

const char *plein_site_name(const plein_site *s)
{
	const char *n = plein_conf_get(s->conf, "site.name");
	return n ? n : s->id;
}

int plein_site_log_check(plein_site *s)
{
	char *path = plein_site_path(s, "log.git");
	int rc = plein_loose_check_new(path);
	free(path);
	if (rc == PLEIN_EREJECT) {
		char why[512]; /* plein_fail writes the slot it would read */
		snprintf(why, sizeof why, "%s", plein_error());
		rc = plein_fail(PLEIN_EREJECT, "this site's log.git is damaged, and plein read nothing of it: %s; "
				"'plein verify' says more. Restore log.git from a backup, or move the site aside, "
				"'plein init' a new one from the network card and sync to take the batches back from a peer", why);
	}
	return rc;
}

struct plein_log *plein_site_log(plein_site *s)
{
	if (!s->log) {
		char *path = plein_site_path(s, "log.git");
		int rc = plein_log_open(&s->log, path, 0);
		free(path);
		if (rc < 0)
			return NULL;
		/* libgit2 hangs on a truncated loose object (loose.h): none is
		 * read before this process has checked what is new. */
		if (plein_site_log_check(s) < 0) {
			plein_log_close(s->log);
			s->log = NULL;
			return NULL;
		}
	}
	return s->log;
}

int plein_site_network_id(plein_site *s, unsigned char out[16])
{
	char *hex = plein_site_local_get(s, "network_id");
	size_t n = 0;
	int ok = hex && sodium_hex2bin(out, 16, hex, strlen(hex), NULL, &n, NULL) == 0 && n == 16;
	free(hex);
	return ok ? 0 : plein_fail(PLEIN_ERR, "this site has no network id; was it made with 'plein init'?");
}
