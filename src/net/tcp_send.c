/* What to send a TCP peer: the batches of every chain beyond its version
 * vector, read from log.git one at a time (never a whole chain). */
#include <stdlib.h>
#include <string.h>

#include "plein/error.h"
#include "plein/roster.h"
#include "tcp_int.h"

int tcp_send_plan(tcp_send *out, plein_site *s, const plein_vv_entry *theirs, size_t ntheirs)
{
	plein_vv_entry *ours = NULL;
	size_t nours = 0;
	unsigned char admin[32];
	char admin_id[PLEIN_SITEID_LEN + 1] = "";
	memset(out, 0, sizeof *out);
	int rc = tcp_our_vector(&ours, &nours, s);
	if (rc < 0)
		return rc;
	if (plein_roster_admin(s, admin) == 0)
		plein_siteid_from_key(admin_id, admin);
	out->v = plein_xcalloc(nours ? nours : 1, sizeof *out->v);
	/* Both vectors are sorted by site: walk them together. */
	size_t j = 0;
	for (size_t i = 0; i < nours; i++) {
		while (j < ntheirs && strcmp(theirs[j].site, ours[i].site) < 0)
			j++;
		uint64_t have = j < ntheirs && strcmp(theirs[j].site, ours[i].site) == 0 ? theirs[j].seq : 0;
		if (ours[i].seq <= have)
			continue;
		struct tcp_send_chain *c = &out->v[out->n++];
		memcpy(c->site, ours[i].site, sizeof c->site);
		c->next = have + 1;
		c->last = ours[i].seq;
		if (strcmp(c->site, admin_id) == 0 && out->n > 1) {
			struct tcp_send_chain first = out->v[0];
			out->v[0] = *c;
			*c = first;
		}
	}
	free(ours);
	return 0;
}

int tcp_send_next(tcp_send *t, plein_site *s, plein_log_entry *e)
{
	while (t->i < t->n && t->v[t->i].next > t->v[t->i].last)
		t->i++;
	if (t->i >= t->n)
		return 0;
	struct tcp_send_chain *c = &t->v[t->i];
	int rc = plein_log_read(e, s->log, c->site, c->next);
	if (rc < 0)
		return rc;
	c->next++;
	return 1;
}

void tcp_send_free(tcp_send *t)
{
	free(t->v);
	memset(t, 0, sizeof *t);
}
