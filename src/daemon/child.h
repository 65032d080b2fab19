/* A child process run from the event loop (the daemon's git syncs): its
 * stdout and stderr come back line by line, its end once, and it can be
 * stopped. Inside src/daemon only. */
#ifndef PLEIN_DAEMON_CHILD_H
#define PLEIN_DAEMON_CHILD_H

#include <sys/types.h>

struct event_base;
typedef struct child child;

typedef struct child_cbs {
	/* One line of output (without its newline); stream 1 or 2. */
	void (*line)(int stream, const char *line, void *arg);
	/* The child has exited and both streams are read to the end; status
	 * as from waitpid. The child is freed after this returns. */
	void (*done)(int status, void *arg);
	void *arg;
} child_cbs;

/* Start argv[0] with argv, stdin from /dev/null, no other descriptors. */
int child_spawn(child **out, struct event_base *base, char *const argv[], const child_cbs *cbs);
/* Reap it if it has exited (call on SIGCHLD). */
void child_reap(child *c);
void child_kill(child *c, int sig);
/* Kill it, wait for it and free it, without calling back. */
void child_abandon(child *c);
pid_t child_pid(const child *c);

#endif
