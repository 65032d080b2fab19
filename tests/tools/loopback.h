/* For test tools: listen on an ephemeral port of 127.0.0.1 (never any
 * other address) and publish the port in a file, written atomically so a
 * test script can wait for it. */
#ifndef PLEIN_TEST_LOOPBACK_H
#define PLEIN_TEST_LOOPBACK_H

#include <arpa/inet.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* NULL (after saying why on stderr, as `who`) on failure. */
static inline struct evconnlistener *loopback_listen(struct event_base *base, evconnlistener_cb cb, void *arg,
						     const char *port_file, const char *who)
{
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct evconnlistener *l = evconnlistener_new_bind(base, cb, arg, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
							   16, (struct sockaddr *)&sin, sizeof sin);
	if (!l) {
		fprintf(stderr, "%s: cannot listen on 127.0.0.1\n", who);
		return NULL;
	}
	socklen_t slen = sizeof sin;
	getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&sin, &slen);
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
	FILE *f = fopen(tmp, "w");
	if (!f || fprintf(f, "%d\n", ntohs(sin.sin_port)) < 0 || fclose(f) != 0 || rename(tmp, port_file) != 0) {
		fprintf(stderr, "%s: cannot write %s\n", who, port_file);
		evconnlistener_free(l);
		return NULL;
	}
	return l;
}

#endif
