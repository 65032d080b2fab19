/* What to send a TCP peer: the batches of every chain beyond its version
 * vector, read from log.git one at a time (never a whole chain). */
#include <stdlib.h>
#include <string.h>

#include "plein/error.h"
#include "plein/roster.h"
#include "tcp_int.h"

/* Is the peer's tip t not our batch of that seq? We hold t->seq (ours->seq
 * >= it). Equal seqs compare the tips we already have: nothing is read
 * for chains that agree. */
static int forked_at(int *out, plein_site *s, const plein_vv_entry *ours, const plein_vv_entry *t)
{
	unsigned char at[PLEIN_MSG_TIP_BYTES];
	char hex[PLEIN_LOG_OID_HEX + 1];
	int rc = 0;
	if (ours->seq == t->seq)
		memcpy(at, ours->tip, sizeof at);
	else if ((rc = plein_log_commit_at(hex, s->log, ours->site, t->seq)) < 0 || (rc = tcp_tip_parse(at, hex)) < 0)
		return rc;
	*out = memcmp(at, t->tip, sizeof at) != 0;
	return 0;
}

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
		const plein_vv_entry *t = j < ntheirs && strcmp(theirs[j].site, ours[i].site) == 0 ? &theirs[j] : NULL;
		uint64_t have = t ? t->seq : 0;
		int forked = 0;
		if (t && ours[i].seq >= have && (rc = forked_at(&forked, s, &ours[i], t)) < 0)
			break;
		if (ours[i].seq <= have && !forked)
			continue;
		struct tcp_send_chain *c = &out->v[out->n++];
		memcpy(c->site, ours[i].site, sizeof c->site);
		/* A fork: our batch where the peer's tip is, which it holds
		 * another of; the batches after it would not follow its chain. */
		c->next = forked ? have : have + 1;
		c->last = forked ? have : ours[i].seq;
		c->fork_ahead = forked && ours[i].seq > have;
		if (strcmp(c->site, admin_id) == 0 && out->n > 1) {
			struct tcp_send_chain first = out->v[0];
			out->v[0] = *c;
			*c = first;
		}
	}
	free(ours);
	if (rc < 0)
		tcp_send_free(out);
	return rc;
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
