/* A small reply cache for GET routes whose document depends only on the
 * replica and today's date (the schedule): a TV board, a desk app and a
 * website poll it far more often than it changes. An entry is valid while
 * the replica is unchanged — PRAGMA data_version (commits by other
 * connections: the CLI, a sqlite3 shell, another process's sync) and the
 * connection's own total changes (the API's writes, the daemon's sync) —
 * and the date is the same. Never used for replies with personal data. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#include "plein/validate.h"

#define SLOTS 16

typedef struct {
	char *key;
	int64_t version, changes;
	char day[11];
	plein_buf body;
	uint64_t used;
} slot;

struct http_cache {
	slot slots[SLOTS];
	uint64_t tick;
};

http_cache *http_cache_new(void)
{
	return plein_xcalloc(1, sizeof(http_cache));
}

void http_cache_free(http_cache *c)
{
	if (!c)
		return;
	for (int i = 0; i < SLOTS; i++) {
		free(c->slots[i].key);
		plein_buf_free(&c->slots[i].body);
	}
	free(c);
}

static int state(http_req *r, int64_t *version, int64_t *changes, char day[11])
{
	if (plein_db_int(r->s->db, version, "PRAGMA data_version", NULL) < 0)
		return -1;
	*changes = sqlite3_total_changes64(plein_db_handle(r->s->db));
	plein_today(day);
	return 0;
}

int http_cache_reply(http_req *r, http_cache *c, const char *key)
{
	int64_t version, changes;
	char day[11];
	if (!c || state(r, &version, &changes, day) < 0)
		return 0;
	for (int i = 0; i < SLOTS; i++) {
		slot *s = &c->slots[i];
		if (s->key && strcmp(s->key, key) == 0 && s->version == version && s->changes == changes &&
		    strcmp(s->day, day) == 0) {
			s->used = ++c->tick;
			http_reply_json(r, 200, &s->body);
			return 1;
		}
	}
	r->cache_version = version;
	r->cache_changes = changes;
	memcpy(r->cache_day, day, sizeof day);
	return 0;
}

void http_cache_put(http_req *r, http_cache *c, const char *key, const plein_buf *body)
{
	if (!c || !r->cache_day[0])
		return;
	slot *s = &c->slots[0];
	for (int i = 0; i < SLOTS; i++) { /* the same key, else the least recently used */
		if (c->slots[i].key && strcmp(c->slots[i].key, key) == 0) {
			s = &c->slots[i];
			break;
		}
		if (c->slots[i].used < s->used)
			s = &c->slots[i];
	}
	free(s->key);
	s->key = plein_xstrdup(key);
	s->version = r->cache_version;
	s->changes = r->cache_changes;
	memcpy(s->day, r->cache_day, sizeof s->day);
	plein_buf_reset(&s->body);
	plein_buf_put(&s->body, body->data, body->len);
	s->used = ++c->tick;
}
