/* Git remotes: push to a fresh bare folder (a stick) and fetch elsewhere,
 * fast-forward only, per-ref results, a real `git daemon` on 127.0.0.1,
 * and the errors people meet: unreachable, not a repository, a remote
 * that hangs up. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "log_util.h"
#include "plein/remote.h"
#include "util.h"

static int append_n(plein_log *log, const char *site, uint64_t from, uint64_t to, const char *variant)
{
	for (uint64_t s = from; s <= to; s++) {
		struct tb t;
		tb_make(&t, site, s, variant, s % 2 == 0);
		int rc = plein_log_append(log, &t.b);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static const plein_remote_ref *ref_of(const plein_remote_result *r, const char *site)
{
	for (size_t i = 0; i < r->nrefs; i++)
		if (strcmp(r->refs[i].site, site) == 0)
			return &r->refs[i];
	return NULL;
}

static int status_of(const plein_remote_result *r, const char *site)
{
	const plein_remote_ref *x = ref_of(r, site);
	return x ? (int)x->status : -1;
}

static int sync_key(plein_remote_result *res, plein_log *log, const char *url, const char *key, int what)
{
	plein_remote_opts o = { .what = what, .key = key };
	return plein_remote_sync(res, log, url, &o);
}

/* Adopt every incoming chain of key; 0 or the first error. */
static int adopt_all(plein_log *log, const char *key)
{
	plein_log_ref *v;
	size_t n;
	int rc = plein_log_incoming(&v, &n, log, key);
	for (size_t i = 0; rc >= 0 && i < n; i++)
		rc = plein_log_adopt(log, v[i].site, v[i].name, 0);
	free(v);
	return rc < 0 ? rc : 0;
}

static int same_tip(plein_log *a, plein_log *b, const char *site)
{
	plein_log_ref x, y;
	return plein_log_tip(&x, a, site) == 0 && plein_log_tip(&y, b, site) == 0 && x.seq > 0 &&
		strcmp(x.commit, y.commit) == 0;
}

TEST(push_to_a_fresh_folder_then_fetch_elsewhere)
{
	char dir[256], url[400], out[512];
	CHECK(test_tmpdir(dir) == 0);
	plein_log *a = test_log(dir, "a.git"), *b = test_log(dir, "b.git");
	CHECK(a && b);
	CHECK_OK(append_n(a, SITE_A, 1, 5, "x"));
	CHECK_OK(append_n(a, SITE_B, 1, 2, "x"));
	snprintf(url, sizeof url, "%s/stick", dir);
	CHECK(mkdir(url, 0755) == 0); /* a used stick: something is on it */
	CHECK_EQ_INT(sh(NULL, 0, "echo x > '%s/photo.jpg'", url), 0);
	snprintf(url, sizeof url, "%s/stick/plein.git", dir);

	plein_remote_result res;
	CHECK_OK(sync_key(&res, a, url, "stick", 0));
	CHECK_EQ_INT(res.created, 1);
	CHECK_EQ_INT(res.nrefs, 2);
	CHECK_EQ_INT(res.count[PLEIN_REMOTE_PUSHED], 2);
	CHECK_EQ_INT(ref_of(&res, SITE_A)->remote_seq, 5);
	CHECK(res.sent_bytes > 0);
	plein_remote_result_free(&res);
	CHECK_EQ_INT(sh(out, sizeof out, "git --git-dir '%s' for-each-ref --format='%%(refname)' refs/plein/sites/ | tr '\\n' ' '", url), 0);
	CHECK_STR(out, "refs/plein/sites/" SITE_A " refs/plein/sites/" SITE_B " ");
	/* the personal parts travel beside the chains (docs/log-format.md) */
	CHECK_EQ_INT(sh(out, sizeof out, "git --git-dir '%s' for-each-ref refs/plein/personal/ | wc -l", url), 0);
	CHECK_STR(out, "3");

	/* the other site fetches into incoming; its own chains stay empty */
	CHECK_OK(sync_key(&res, b, url, "stick", 0));
	CHECK_EQ_INT(res.created, 0);
	CHECK_EQ_INT(res.count[PLEIN_REMOTE_AHEAD], 2);
	CHECK_EQ_INT(ref_of(&res, SITE_A)->remote_seq, 5);
	CHECK_EQ_INT(ref_of(&res, SITE_A)->local_seq, 0);
	CHECK(res.received_objects > 0);
	plein_remote_result_free(&res);
	plein_log_ref tip;
	CHECK_OK(plein_log_tip(&tip, b, SITE_A));
	CHECK_EQ_INT(tip.seq, 0);
	CHECK_OK(adopt_all(b, "stick"));
	CHECK(same_tip(a, b, SITE_A));
	CHECK(same_tip(a, b, SITE_B));

	/* nothing new: everything is the same, nothing is sent */
	CHECK_OK(sync_key(&res, a, url, "stick", 0));
	CHECK_EQ_INT(res.count[PLEIN_REMOTE_SAME], 2);
	CHECK_EQ_INT(res.sent_bytes, 0);
	plein_remote_result_free(&res);

	/* b adds a site and more of A (adopted), and relays it back to a */
	CHECK_OK(append_n(b, SITE_C, 1, 3, "x"));
	CHECK_OK(sync_key(&res, b, url, "stick", 0));
	CHECK_EQ_INT(status_of(&res, SITE_C), PLEIN_REMOTE_PUSHED);
	CHECK_EQ_INT(status_of(&res, SITE_A), PLEIN_REMOTE_SAME);
	plein_remote_result_free(&res);
	snprintf(url, sizeof url, "file://%s/stick/plein.git", dir);
	CHECK_OK(sync_key(&res, a, url, NULL, 0));
	CHECK_EQ_INT(res.key[0], 'u'); /* derived from the URL */
	CHECK_EQ_INT(status_of(&res, SITE_C), PLEIN_REMOTE_AHEAD);
	CHECK_EQ_INT(ref_of(&res, SITE_C)->remote_seq, 3);
	CHECK_OK(adopt_all(a, res.key));
	plein_remote_result_free(&res);
	CHECK(same_tip(a, b, SITE_C));
	plein_log_close(a);
	plein_log_close(b);
	test_rmdir(dir);
}

TEST(push_is_fast_forward_only_and_reported_per_ref)
{
	char dir[256], url[400], before[128], after[128];
	CHECK(test_tmpdir(dir) == 0);
	plein_log *a = test_log(dir, "a.git"), *c = test_log(dir, "c.git"), *d = test_log(dir, "d.git");
	CHECK(a && c && d);
	snprintf(url, sizeof url, "%s/relay.git", dir);
	CHECK_OK(append_n(a, SITE_A, 1, 3, "x"));
	plein_remote_result res;
	CHECK_OK(sync_key(&res, a, url, "r", 0));
	plein_remote_result_free(&res);
	/* a moves on: a fast-forward */
	CHECK_OK(append_n(a, SITE_A, 4, 5, "x"));
	CHECK_OK(sync_key(&res, a, url, "r", PLEIN_REMOTE_PUSH));
	CHECK_EQ_INT(status_of(&res, SITE_A), PLEIN_REMOTE_PUSHED);
	CHECK_EQ_INT(ref_of(&res, SITE_A)->remote_seq, 5);
	plein_remote_result_free(&res);
	CHECK_EQ_INT(sh(before, sizeof before, "git --git-dir '%s' rev-parse refs/plein/sites/" SITE_A, url), 0);

	/* c forked A at batch 3: reported, not pushed, the remote untouched */
	CHECK_OK(append_n(c, SITE_A, 1, 2, "x"));
	CHECK_OK(append_n(c, SITE_A, 3, 6, "fork"));
	CHECK_OK(append_n(c, SITE_B, 1, 1, "x"));
	CHECK_OK(sync_key(&res, c, url, "r", 0));
	CHECK_EQ_INT(status_of(&res, SITE_A), PLEIN_REMOTE_DIVERGED);
	CHECK_EQ_INT(ref_of(&res, SITE_A)->remote_seq, 5);
	CHECK_EQ_INT(ref_of(&res, SITE_A)->local_seq, 6);
	CHECK_EQ_INT(status_of(&res, SITE_B), PLEIN_REMOTE_PUSHED); /* other refs still go */
	plein_remote_result_free(&res);
	CHECK_EQ_INT(sh(after, sizeof after, "git --git-dir '%s' rev-parse refs/plein/sites/" SITE_A, url), 0);
	CHECK_STR(after, before);
	/* the fork's other side is in incoming, for the fork check */
	CHECK_EQ_INT(plein_log_adopt(c, SITE_A, "refs/plein/incoming/r/" SITE_A, 0), PLEIN_LOG_EFORK);

	/* d is behind the remote: nothing to push, the rest is fetched */
	CHECK_OK(append_n(d, SITE_A, 1, 2, "x"));
	CHECK_OK(sync_key(&res, d, url, "r", 0));
	CHECK_EQ_INT(status_of(&res, SITE_A), PLEIN_REMOTE_AHEAD);
	CHECK_EQ_INT(ref_of(&res, SITE_A)->local_seq, 2);
	CHECK_EQ_INT(ref_of(&res, SITE_A)->remote_seq, 5);
	plein_remote_result_free(&res);
	CHECK_EQ_INT(sh(after, sizeof after, "git --git-dir '%s' rev-parse refs/plein/sites/" SITE_A, url), 0);
	CHECK_STR(after, before);
	CHECK_OK(plein_log_adopt(d, SITE_A, "refs/plein/incoming/r/" SITE_A, 0));
	CHECK(same_tip(a, d, SITE_A));

	/* fetch only: what the remote lacks is reported, not pushed */
	CHECK_OK(append_n(d, SITE_A, 6, 6, "x"));
	CHECK_OK(sync_key(&res, d, url, "r", PLEIN_REMOTE_FETCH));
	CHECK_EQ_INT(status_of(&res, SITE_A), PLEIN_REMOTE_BEHIND);
	CHECK_EQ_INT(status_of(&res, SITE_B), PLEIN_REMOTE_AHEAD);
	plein_remote_result_free(&res);
	CHECK_EQ_INT(sh(after, sizeof after, "git --git-dir '%s' rev-parse refs/plein/sites/" SITE_A, url), 0);
	CHECK_STR(after, before);
	plein_log_close(a);
	plein_log_close(c);
	plein_log_close(d);
	test_rmdir(dir);
}

TEST(local_paths_that_are_not_repositories)
{
	char dir[256], url[400];
	CHECK(test_tmpdir(dir) == 0);
	plein_log *a = test_log(dir, "a.git");
	CHECK(a != NULL);
	CHECK_OK(append_n(a, SITE_A, 1, 1, "x"));
	plein_remote_result res;
	CHECK_EQ_INT(plein_remote_sync(&res, a, "", NULL), PLEIN_EINVAL);
	plein_remote_result_free(&res);
	snprintf(url, sizeof url, "%s/a-file", dir);
	CHECK_EQ_INT(sh(NULL, 0, "echo hello > '%s'", url), 0);
	CHECK_EQ_INT(plein_remote_sync(&res, a, url, NULL), PLEIN_EINVAL);
	CHECK(strstr(plein_error(), "is a file") != NULL);
	plein_remote_result_free(&res);
	snprintf(url, sizeof url, "%s/photos", dir);
	CHECK_EQ_INT(sh(NULL, 0, "mkdir '%s' && echo x > '%s/img.jpg'", url, url), 0);
	CHECK_EQ_INT(plein_remote_sync(&res, a, url, NULL), PLEIN_EINVAL);
	CHECK(strstr(plein_error(), "not a git repository") != NULL);
	CHECK_EQ_INT(sh(NULL, 0, "test ! -e '%s/HEAD'", url), 0); /* left alone */
	plein_remote_result_free(&res);
	snprintf(url, sizeof url, "%s/no-stick/plein.git", dir);
	CHECK_EQ_INT(plein_remote_sync(&res, a, url, NULL), PLEIN_EINVAL);
	CHECK(strstr(plein_error(), "does not exist") != NULL);
	plein_remote_result_free(&res);
	snprintf(url, sizeof url, "file://relative/path");
	CHECK_EQ_INT(plein_remote_sync(&res, a, url, NULL), PLEIN_EINVAL);
	plein_remote_result_free(&res);
	plein_remote_opts bad = { .key = "a/b" };
	snprintf(url, sizeof url, "%s/fresh", dir);
	CHECK_EQ_INT(plein_remote_sync(&res, a, url, &bad), PLEIN_EINVAL);
	plein_remote_result_free(&res);
	/* An empty folder that is no mount point is a stick's mount point
	 * without the stick: refused, nothing made in it or below it. */
	CHECK(mkdir(url, 0755) == 0);
	CHECK_EQ_INT(plein_remote_sync(&res, a, url, NULL), PLEIN_EINVAL);
	CHECK(strstr(plein_error(), "is the stick plugged in?") != NULL);
	CHECK_EQ_INT(res.created, 0);
	plein_remote_result_free(&res);
	snprintf(url, sizeof url, "%s/fresh/plein.git", dir);
	CHECK_EQ_INT(plein_remote_sync(&res, a, url, NULL), PLEIN_EINVAL);
	CHECK(strstr(plein_error(), "is the stick plugged in?") != NULL);
	CHECK_EQ_INT(sh(NULL, 0, "rmdir '%s/fresh'", dir), 0); /* still empty */
	plein_remote_result_free(&res);
	/* A new folder in one that holds something becomes a repository. */
	snprintf(url, sizeof url, "%s/photos/plein.git", dir);
	CHECK_OK(plein_remote_sync(&res, a, url, NULL));
	CHECK_EQ_INT(res.created, 1);
	CHECK_EQ_INT(res.count[PLEIN_REMOTE_PUSHED], 1);
	plein_remote_result_free(&res);
	plein_log_close(a);
	test_rmdir(dir);
}

/* Sync into a folder this user may not write: run as nobody when the
 * tests run as root (root may write anywhere). */
TEST(local_path_without_permission)
{
	char dir[256], url[400], logpath[400], msg[600] = "";
	int fds[2], rc = 0;
	CHECK(test_tmpdir(dir) == 0);
	plein_log *a = test_log(dir, "a.git");
	CHECK(a != NULL);
	CHECK_OK(append_n(a, SITE_A, 1, 1, "x"));
	plein_log_close(a);
	snprintf(logpath, sizeof logpath, "%s/a.git", dir);
	snprintf(url, sizeof url, "%s/locked", dir);
	CHECK(mkdir(url, 0555) == 0);
	CHECK(chmod(dir, 0755) == 0);
	snprintf(url, sizeof url, "%s/locked/plein.git", dir);
	CHECK(pipe(fds) == 0);
	fflush(stdout);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
			_exit(3);
		plein_log *mine = NULL;
		plein_remote_result r;
		plein_remote_opts o = { .what = PLEIN_REMOTE_PUSH };
		int got = plein_log_open(&mine, logpath, 0);
		if (got == 0) {
			got = plein_remote_sync(&r, mine, url, &o);
			plein_remote_result_free(&r);
		}
		dprintf(fds[1], "%d %s", got, plein_error());
		plein_log_close(mine);
		_exit(0);
	}
	close(fds[1]);
	ssize_t n = read(fds[0], msg, sizeof msg - 1);
	msg[n > 0 ? n : 0] = 0;
	close(fds[0]);
	int st = 0;
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(sscanf(msg, "%d", &rc) == 1);
	printf("# %s\n", msg);
	CHECK_EQ_INT(rc, PLEIN_ERR);
	CHECK(strstr(msg, "permission denied") != NULL);
	CHECK(access(url, F_OK) != 0);
	test_rmdir(dir);
}

/* A TCP port nobody listens on (the kernel's pick, closed again). */
static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof sa;
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
			getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return ntohs(sa.sin_port);
}

static int can_connect(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* git daemon serving base on 127.0.0.1:port (pushes allowed if push);
 * its pid. Its log goes to base/../daemon.log. */
static pid_t start_daemon(const char *base, int port, int push)
{
	char portarg[32], basearg[400], logpath[400];
	snprintf(portarg, sizeof portarg, "--port=%d", port);
	snprintf(basearg, sizeof basearg, "--base-path=%s", base);
	snprintf(logpath, sizeof logpath, "%s/../daemon.log", base);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		setpgid(0, 0); /* its children die with it */
		if (!freopen("/dev/null", "w", stdout) || !freopen(logpath, "a", stderr))
			_exit(126);
		execlp("git", "git", "daemon", "--export-all", push ? "--enable=receive-pack" : "--disable=receive-pack",
			"--reuseaddr", "--informative-errors", basearg, "--listen=127.0.0.1", portarg, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; pid > 0 && i < 200; i++) {
		if (can_connect(port))
			return pid;
		nap_ms(50);
	}
	if (pid > 0) {
		kill(-pid, SIGTERM);
		waitpid(pid, NULL, 0);
	}
	return -1;
}

static void stop_daemon(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(-pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

TEST(sync_through_git_daemon)
{
	char dir[256], base[300], url[400];
	CHECK(test_tmpdir(dir) == 0);
	snprintf(base, sizeof base, "%s/srv", dir);
	CHECK(mkdir(base, 0755) == 0);
	CHECK_EQ_INT(sh(NULL, 0, "git init -q --bare '%s/relay.git'", base), 0);
	int port = free_port();
	CHECK(port > 0);
	pid_t daemon = start_daemon(base, port, 1);
	if (daemon < 0)
		FAIL_AT("git daemon did not start on port %d", port);
	plein_log *a = test_log(dir, "a.git"), *b = test_log(dir, "b.git");
	int ok = a && b && append_n(a, SITE_A, 1, 30, "x") == 0 && append_n(a, SITE_B, 1, 3, "x") == 0;
	plein_remote_result res;
	memset(&res, 0, sizeof res);
	snprintf(url, sizeof url, "git://127.0.0.1:%d/relay.git", port);
	int rc1 = ok ? sync_key(&res, a, url, "relay", 0) : -1;
	size_t pushed = res.count[PLEIN_REMOTE_PUSHED];
	plein_remote_result_free(&res);
	int rc2 = ok ? sync_key(&res, b, url, "relay", 0) : -1;
	size_t ahead = res.count[PLEIN_REMOTE_AHEAD];
	plein_remote_result_free(&res);
	int rc3 = ok ? adopt_all(b, "relay") : -1;
	int rc4 = ok ? sync_key(&res, a, url, "relay", 0) : -1;
	size_t same = res.count[PLEIN_REMOTE_SAME];
	plein_remote_result_free(&res);
	/* a repository the daemon does not have */
	snprintf(url, sizeof url, "git://127.0.0.1:%d/missing.git", port);
	int rc5 = ok ? plein_remote_sync(&res, a, url, NULL) : 0;
	char msg5[1024];
	snprintf(msg5, sizeof msg5, "%s", plein_error());
	plein_remote_result_free(&res);
	stop_daemon(daemon);
	/* now nobody listens there */
	snprintf(url, sizeof url, "git://127.0.0.1:%d/relay.git", port);
	int rc6 = ok ? plein_remote_sync(&res, a, url, NULL) : 0;
	char msg6[1024];
	snprintf(msg6, sizeof msg6, "%s", plein_error());
	plein_remote_result_free(&res);
	CHECK(ok);
	CHECK_OK(rc1);
	CHECK_EQ_INT(pushed, 2);
	CHECK_OK(rc2);
	CHECK_EQ_INT(ahead, 2);
	CHECK_OK(rc3);
	CHECK(same_tip(a, b, SITE_A));
	CHECK(same_tip(a, b, SITE_B));
	CHECK_OK(rc4);
	CHECK_EQ_INT(same, 2);
	CHECK_EQ_INT(rc5, PLEIN_ERR);
	printf("# missing repository: %s\n", msg5);
	CHECK(strstr(msg5, "is not a git repository") != NULL);
	CHECK_EQ_INT(rc6, PLEIN_ERR);
	printf("# nobody listening: %s\n", msg6);
	CHECK(strstr(msg6, "cannot reach") != NULL);
	plein_log_close(a);
	plein_log_close(b);
	test_rmdir(dir);
}

/* A server that accepts and closes at once: the remote hangs up. */
TEST(remote_that_hangs_up)
{
	char dir[256], url[400];
	CHECK(test_tmpdir(dir) == 0);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof sa;
	CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(fd, 4) == 0 &&
		getsockname(fd, (struct sockaddr *)&sa, &len) == 0);
	fflush(stdout);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		for (;;) {
			int c = accept(fd, NULL, NULL);
			if (c >= 0)
				close(c);
		}
	}
	close(fd);
	plein_log *a = test_log(dir, "a.git");
	int ok = a && append_n(a, SITE_A, 1, 1, "x") == 0;
	plein_remote_result res;
	snprintf(url, sizeof url, "git://127.0.0.1:%d/relay.git", ntohs(sa.sin_port));
	int rc = ok ? plein_remote_sync(&res, a, url, NULL) : 0;
	char msg[1024];
	snprintf(msg, sizeof msg, "%s", plein_error());
	if (ok)
		plein_remote_result_free(&res);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	CHECK(ok);
	CHECK_EQ_INT(rc, PLEIN_ERR);
	printf("# hang-up: %s\n", msg);
	CHECK(strstr(msg, "hung up") != NULL);
	plein_log_close(a);
	test_rmdir(dir);
}

TEST(remote_key_is_stable_and_valid)
{
	char k1[PLEIN_LOG_KEY_MAX + 1], k2[PLEIN_LOG_KEY_MAX + 1], k3[PLEIN_LOG_KEY_MAX + 1];
	plein_remote_key(k1, "ssh://git@example.org/plein.git");
	plein_remote_key(k2, "ssh://git@example.org/plein.git");
	plein_remote_key(k3, "/media/stick/plein.git");
	CHECK_STR(k1, k2);
	CHECK(strcmp(k1, k3) != 0);
	CHECK_EQ_INT(strlen(k1), 17);
	CHECK_OK(plein_log_check_key(k1));
	CHECK_STR(plein_remote_status_name(PLEIN_REMOTE_DIVERGED), "diverged");
}

/* A server that serves fetches but refuses pushes. */
TEST(git_daemon_that_refuses_pushes)
{
	char dir[256], base[300], url[400];
	CHECK(test_tmpdir(dir) == 0);
	snprintf(base, sizeof base, "%s/srv", dir);
	CHECK(mkdir(base, 0755) == 0);
	CHECK_EQ_INT(sh(NULL, 0, "git init -q --bare '%s/relay.git'", base), 0);
	int port = free_port();
	CHECK(port > 0);
	pid_t daemon = start_daemon(base, port, 0);
	if (daemon < 0)
		FAIL_AT("git daemon did not start on port %d", port);
	plein_log *a = test_log(dir, "a.git");
	int ok = a && append_n(a, SITE_A, 1, 2, "x") == 0;
	plein_remote_result res;
	memset(&res, 0, sizeof res);
	snprintf(url, sizeof url, "git://127.0.0.1:%d/relay.git", port);
	int rc = ok ? sync_key(&res, a, url, "ro", 0) : 0;
	char msg[1024];
	snprintf(msg, sizeof msg, "%s", plein_error());
	int st = ok ? status_of(&res, SITE_A) : -1;
	plein_remote_result_free(&res);
	int rc2 = ok ? sync_key(&res, a, url, "ro", PLEIN_REMOTE_FETCH) : -1;
	int st2 = ok ? status_of(&res, SITE_A) : -1;
	plein_remote_result_free(&res);
	stop_daemon(daemon);
	CHECK(ok);
	CHECK_EQ_INT(rc, PLEIN_ERR);
	printf("# push refused: %s\n", msg);
	CHECK(strstr(msg, "permission denied") != NULL);
	CHECK_EQ_INT(st, PLEIN_REMOTE_REJECTED);
	CHECK_OK(rc2); /* fetching alone is fine */
	CHECK_EQ_INT(st2, PLEIN_REMOTE_BEHIND);
	plein_log_close(a);
	test_rmdir(dir);
}

/* A smart-HTTP git server for the test: git http-backend behind a few
 * lines of Python's http.server (CGI by hand, chunked bodies decoded). */
static const char http_server_py[] =
	"import http.server, os, subprocess, sys\n"
	"root, port = sys.argv[1], int(sys.argv[2])\n"
	"class H(http.server.BaseHTTPRequestHandler):\n"
	"    def log_message(self, *a): pass\n"
	"    def body(self):\n"
	"        if self.headers.get('Transfer-Encoding', '').lower() == 'chunked':\n"
	"            out = b''\n"
	"            while True:\n"
	"                n = int(self.rfile.readline().split(b';')[0], 16)\n"
	"                if n == 0:\n"
	"                    self.rfile.readline()\n"
	"                    return out\n"
	"                out += self.rfile.read(n)\n"
	"                self.rfile.readline()\n"
	"        return self.rfile.read(int(self.headers.get('Content-Length') or 0))\n"
	"    def run(self):\n"
	"        path, _, query = self.path.partition('?')\n"
	"        data = self.body()\n"
	"        env = dict(os.environ, GIT_PROJECT_ROOT=root, GIT_HTTP_EXPORT_ALL='1',\n"
	"                   REQUEST_METHOD=self.command, PATH_INFO=path, QUERY_STRING=query,\n"
	"                   CONTENT_TYPE=self.headers.get('Content-Type', ''),\n"
	"                   CONTENT_LENGTH=str(len(data)), REMOTE_USER='plein', REMOTE_ADDR='127.0.0.1')\n"
	"        out = subprocess.run(['git', 'http-backend'], input=data, env=env, capture_output=True).stdout\n"
	"        head, _, rest = out.partition(b'\\r\\n\\r\\n')\n"
	"        status, headers = 200, []\n"
	"        for line in head.split(b'\\r\\n'):\n"
	"            k, _, v = line.decode().partition(':')\n"
	"            if k.lower() == 'status':\n"
	"                status = int(v.split()[0])\n"
	"            elif k:\n"
	"                headers.append((k, v.strip()))\n"
	"        self.send_response(status)\n"
	"        for k, v in headers:\n"
	"            self.send_header(k, v)\n"
	"        self.send_header('Content-Length', str(len(rest)))\n"
	"        self.end_headers()\n"
	"        self.wfile.write(rest)\n"
	"    do_GET = do_POST = run\n"
	"http.server.HTTPServer(('127.0.0.1', port), H).serve_forever()\n";

static pid_t start_http(const char *dir, const char *base, int port)
{
	char script[400], portarg[16];
	snprintf(script, sizeof script, "%s/git_http_server.py", dir);
	snprintf(portarg, sizeof portarg, "%d", port);
	FILE *f = fopen(script, "w");
	if (!f)
		return -1;
	fputs(http_server_py, f);
	fclose(f);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		if (!freopen("/dev/null", "w", stdout))
			_exit(126);
		execlp("python3", "python3", script, base, portarg, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; pid > 0 && i < 200; i++) {
		if (can_connect(port))
			return pid;
		nap_ms(50);
	}
	stop_daemon(pid);
	return -1;
}

TEST(sync_over_smart_http)
{
	char dir[256], base[300], url[400];
	CHECK(test_tmpdir(dir) == 0);
	snprintf(base, sizeof base, "%s/srv", dir);
	CHECK(mkdir(base, 0755) == 0);
	CHECK_EQ_INT(sh(NULL, 0, "git init -q --bare '%s/relay.git'", base), 0);
	int port = free_port();
	CHECK(port > 0);
	pid_t srv = start_http(dir, base, port);
	if (srv < 0)
		FAIL_AT("the test HTTP server did not start on port %d", port);
	plein_log *a = test_log(dir, "a.git"), *b = test_log(dir, "b.git");
	int ok = a && b && append_n(a, SITE_A, 1, 40, "x") == 0;
	plein_remote_result res;
	memset(&res, 0, sizeof res);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/relay.git", port);
	int rc1 = ok ? sync_key(&res, a, url, "web", 0) : -1;
	int st1 = status_of(&res, SITE_A);
	char msg1[600];
	snprintf(msg1, sizeof msg1, "%s", plein_error());
	plein_remote_result_free(&res);
	int rc2 = ok ? sync_key(&res, b, url, "web", 0) : -1;
	int st2 = status_of(&res, SITE_A);
	plein_remote_result_free(&res);
	int rc3 = ok ? adopt_all(b, "web") : -1;
	snprintf(url, sizeof url, "http://127.0.0.1:%d/missing.git", port);
	int rc4 = ok ? plein_remote_sync(&res, a, url, NULL) : 0;
	char msg4[1024];
	snprintf(msg4, sizeof msg4, "%s", plein_error());
	plein_remote_result_free(&res);
	stop_daemon(srv);
	CHECK(ok);
	if (rc1 != 0)
		FAIL_AT("push over http: %s", msg1);
	CHECK_EQ_INT(st1, PLEIN_REMOTE_PUSHED);
	CHECK_OK(rc2);
	CHECK_EQ_INT(st2, PLEIN_REMOTE_AHEAD);
	CHECK_OK(rc3);
	CHECK(same_tip(a, b, SITE_A));
	CHECK_EQ_INT(rc4, PLEIN_ERR);
	printf("# missing over http: %s\n", msg4);
	CHECK(strstr(msg4, "not a git repository") != NULL);
	plein_log_close(a);
	plein_log_close(b);
	test_rmdir(dir);
}
