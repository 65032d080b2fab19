#include "plein/change.h"

#include <stdlib.h>
#include <string.h>

#include "plein/buf.h"

static void *copy(const void *p, size_t n)
{
	void *q = plein_xmalloc(n + 1);
	if (n)
		memcpy(q, p, n);
	((char *)q)[n] = 0;
	return q;
}

void plein_changeset_add(plein_changeset *cs, const plein_change *c)
{
	if (cs->n == cs->cap) {
		cs->cap = cs->cap ? cs->cap * 2 : 64;
		cs->v = plein_xrealloc(cs->v, sizeof *cs->v * cs->cap);
	}
	plein_change *d = &cs->v[cs->n++];
	*d = *c;
	d->id = copy(c->id, c->id_len);
	if (c->value.type == PLEIN_V_TEXT || c->value.type == PLEIN_V_BLOB)
		d->value.p = copy(c->value.p, c->value.n);
	else
		d->value.p = NULL;
}

void plein_changeset_free(plein_changeset *cs)
{
	for (size_t i = 0; i < cs->n; i++) {
		free((void *)cs->v[i].id);
		free((void *)cs->v[i].value.p);
	}
	free(cs->v);
	cs->v = NULL;
	cs->n = cs->cap = 0;
}
