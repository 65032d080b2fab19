/* A child process watched from the event loop: two pipes read as they
 * fill, split into lines, and the exit status reaped on SIGCHLD. */
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "plein/buf.h"
#include "plein/error.h"

/* A line longer than this is passed on in pieces: output is bounded. */
#define MAX_LINE 8192

struct stream {
	child *c;
	int no;     /* 1 or 2 */
	int fd;     /* -1 at end of file */
	struct event *ev;
	struct evbuffer *buf;
};

struct child {
	pid_t pid;
	int status, exited;
	struct stream out, err;
	child_cbs cbs;
};

pid_t child_pid(const child *c)
{
	return c->pid;
}

static void stream_close(struct stream *s)
{
	if (s->ev)
		event_free(s->ev);
	s->ev = NULL;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	if (s->buf)
		evbuffer_free(s->buf);
	s->buf = NULL;
}

static void maybe_done(child *c)
{
	if (!c->exited || c->out.fd >= 0 || c->err.fd >= 0)
		return;
	child_cbs cbs = c->cbs;
	int status = c->status;
	free(c);
	cbs.done(status, cbs.arg);
}

static void emit_lines(struct stream *s, int eof)
{
	char *line;
	size_t n;
	while ((line = evbuffer_readln(s->buf, &n, EVBUFFER_EOL_LF)) != NULL) {
		s->c->cbs.line(s->no, line, s->c->cbs.arg);
		free(line);
	}
	size_t left = evbuffer_get_length(s->buf);
	if (left && (eof || left >= MAX_LINE)) {
		char part[MAX_LINE + 1];
		size_t k = evbuffer_remove(s->buf, part, left < MAX_LINE ? left : MAX_LINE);
		part[k] = 0;
		s->c->cbs.line(s->no, part, s->c->cbs.arg);
	}
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
	struct stream *s = arg;
	for (;;) {
		int n = evbuffer_read(s->buf, fd, 4096);
		if (n > 0) {
			emit_lines(s, 0);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		break; /* end of file, or an error: either way the stream is over */
	}
	emit_lines(s, 1);
	stream_close(s);
	maybe_done(s->c);
}

void child_reap(child *c)
{
	int st;
	if (c->exited || waitpid(c->pid, &st, WNOHANG) != c->pid)
		return;
	c->exited = 1;
	c->status = st;
	maybe_done(c);
}

void child_kill(child *c, int sig)
{
	if (!c->exited)
		kill(c->pid, sig);
}

void child_abandon(child *c)
{
	if (!c->exited) {
		kill(c->pid, SIGKILL);
		while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	stream_close(&c->out);
	stream_close(&c->err);
	free(c);
}

static int stream_open(struct stream *s, child *c, int no, int fd, struct event_base *base)
{
	s->c = c;
	s->no = no;
	s->fd = fd;
	s->buf = evbuffer_new();
	s->ev = event_new(base, fd, EV_READ | EV_PERSIST, on_read, s);
	if (!s->buf || !s->ev || event_add(s->ev, NULL) < 0)
		return plein_fail(PLEIN_ERR, "cannot watch a child process's output");
	return 0;
}

int child_spawn(child **out, struct event_base *base, char *const argv[], const child_cbs *cbs)
{
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 };
	*out = NULL;
	if (pipe2(po, O_CLOEXEC | O_NONBLOCK) < 0 || pipe2(pe, O_CLOEXEC | O_NONBLOCK) < 0) {
		int e = errno;
		if (po[0] >= 0) {
			close(po[0]);
			close(po[1]);
		}
		return plein_fail(PLEIN_ERR, "cannot start %s: %s", argv[0], strerror(e));
	}
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(po[0]); close(po[1]); close(pe[0]); close(pe[1]);
		return plein_fail(PLEIN_ERR, "cannot start %s: %s", argv[0], strerror(e));
	}
	if (pid == 0) {
		/* The child: only async-signal-safe calls until exec. */
		int null = open("/dev/null", O_RDONLY);
		if (null < 0 || dup2(null, 0) < 0 || dup2(po[1], 1) < 0 || dup2(pe[1], 2) < 0)
			_exit(127);
		syscall(SYS_close_range, 3u, ~0u, 0u);
		signal(SIGPIPE, SIG_DFL); /* the daemon ignores it; exec keeps that */
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execv(argv[0], argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	child *c = plein_xcalloc(1, sizeof *c);
	c->pid = pid;
	c->cbs = *cbs;
	c->out.fd = c->err.fd = -1;
	if (stream_open(&c->out, c, 1, po[0], base) < 0 || stream_open(&c->err, c, 2, pe[0], base) < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		if (c->out.fd < 0)
			close(po[0]);
		if (c->err.fd < 0)
			close(pe[0]);
		stream_close(&c->out);
		stream_close(&c->err);
		free(c);
		return PLEIN_ERR;
	}
	*out = c;
	return 0;
}
