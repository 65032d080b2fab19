#include "plein/conf.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plein/buf.h"
#include "plein/error.h"

/* Kept as lines so a rewrite preserves comments and order. A line is a
 * section header, a key = value pair, or other text (comment, blank). */
typedef struct {
	char *section; /* "site", "peer.NAME" */
	char *key;     /* NULL for a header or comment */
	char *value;
	char *raw;     /* original text for headers and comments */
} line;

struct plein_conf {
	line *lines;
	int n;
};

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

static line *add(plein_conf *c)
{
	c->lines = plein_xrealloc(c->lines, sizeof *c->lines * (size_t)(c->n + 1));
	line *l = &c->lines[c->n++];
	memset(l, 0, sizeof *l);
	return l;
}

/* "[peer \"x\"]" -> "peer.x"; "[site]" -> "site". NULL if malformed. */
static char *parse_header(char *s)
{
	char *end = strrchr(s, ']');
	if (*s != '[' || !end || trim(end + 1)[0])
		return NULL;
	*end = 0;
	s = trim(s + 1);
	char *q = strchr(s, '"');
	if (!q)
		return *s && !strchr(s, ' ') ? plein_xstrdup(s) : NULL;
	char *q2 = strrchr(s, '"');
	if (q2 == q || q2[1])
		return NULL;
	*q2 = 0;
	*q = 0;
	char *kind = trim(s);
	plein_buf b = PLEIN_BUF_INIT;
	plein_buf_printf(&b, "%s.%s", kind, q + 1);
	return (char *)b.data;
}

int plein_conf_load(plein_conf **out, const char *path)
{
	*out = NULL;
	plein_conf *c = plein_xcalloc(1, sizeof *c);
	FILE *f = fopen(path, "r");
	if (!f) {
		if (errno == ENOENT) {
			*out = c;
			return 0;
		}
		free(c);
		return plein_fail(PLEIN_ERR, "cannot read %s: %s", path, strerror(errno));
	}
	char buf[4096];
	char *section = plein_xstrdup("");
	int lineno = 0, rc = 0;
	while (fgets(buf, sizeof buf, f)) {
		lineno++;
		buf[strcspn(buf, "\n")] = 0;
		char *s = trim(buf);
		line *l = add(c);
		if (!*s || *s == '#' || *s == ';') {
			l->raw = plein_xstrdup(buf);
			continue;
		}
		if (*s == '[') {
			char *name = parse_header(s);
			if (!name) {
				rc = plein_fail(PLEIN_EINVAL, "%s:%d: malformed section header; write [site] or [peer \"name\"]", path, lineno);
				break;
			}
			free(section);
			section = name;
			l->section = plein_xstrdup(section);
			continue;
		}
		char *eq = strchr(s, '=');
		if (!eq) {
			rc = plein_fail(PLEIN_EINVAL, "%s:%d: expected 'key = value'", path, lineno);
			break;
		}
		*eq = 0;
		l->section = plein_xstrdup(section);
		l->key = plein_xstrdup(trim(s));
		l->value = plein_xstrdup(trim(eq + 1));
	}
	free(section);
	fclose(f);
	if (rc < 0) {
		plein_conf_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

void plein_conf_free(plein_conf *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->n; i++) {
		free(c->lines[i].section);
		free(c->lines[i].key);
		free(c->lines[i].value);
		free(c->lines[i].raw);
	}
	free(c->lines);
	free(c);
}

/* Split "a.b.c" into section "a.b" and key "c". */
static void split(const char *full, char *sec, size_t n, const char **key)
{
	const char *dot = strrchr(full, '.');
	if (!dot) {
		sec[0] = 0;
		*key = full;
		return;
	}
	size_t len = (size_t)(dot - full) < n - 1 ? (size_t)(dot - full) : n - 1;
	memcpy(sec, full, len);
	sec[len] = 0;
	*key = dot + 1;
}

static line *find(const plein_conf *c, const char *full)
{
	char sec[256];
	const char *key;
	split(full, sec, sizeof sec, &key);
	for (int i = c->n - 1; i >= 0; i--) {
		line *l = &c->lines[i];
		if (l->key && strcmp(l->section, sec) == 0 && strcmp(l->key, key) == 0)
			return l;
	}
	return NULL;
}

const char *plein_conf_get(const plein_conf *c, const char *key)
{
	line *l = find(c, key);
	return l ? l->value : NULL;
}

int plein_conf_get_int(const plein_conf *c, const char *key, int dflt)
{
	const char *v = plein_conf_get(c, key);
	if (!v || !*v)
		return dflt;
	char *end;
	long n = strtol(v, &end, 10);
	return *end ? dflt : (int)n;
}

void plein_conf_set(plein_conf *c, const char *full, const char *value)
{
	line *l = find(c, full);
	if (l) {
		free(l->value);
		if (value) {
			l->value = plein_xstrdup(value);
		} else { /* keep the slot as a blank line */
			free(l->key);
			l->key = NULL;
			l->value = NULL;
			l->raw = plein_xstrdup("");
		}
		return;
	}
	if (!value)
		return;
	char sec[256];
	const char *key;
	split(full, sec, sizeof sec, &key);
	/* Insert after the last line of that section, or start the section. */
	int at = -1;
	for (int i = 0; i < c->n; i++)
		if (c->lines[i].section && strcmp(c->lines[i].section, sec) == 0)
			at = i;
	if (at < 0) {
		line *h = add(c);
		h->section = plein_xstrdup(sec);
		at = c->n - 1;
	}
	add(c);
	memmove(&c->lines[at + 2], &c->lines[at + 1], sizeof *c->lines * (size_t)(c->n - at - 2));
	line *nl = &c->lines[at + 1];
	memset(nl, 0, sizeof *nl);
	nl->section = plein_xstrdup(sec);
	nl->key = plein_xstrdup(key);
	nl->value = plein_xstrdup(value);
}

int plein_conf_remove_section(plein_conf *c, const char *section)
{
	int found = 0, w = 0;
	for (int i = 0; i < c->n; i++) {
		line *l = &c->lines[i];
		if (l->section && strcmp(l->section, section) == 0) {
			found = 1;
			free(l->section);
			free(l->key);
			free(l->value);
			free(l->raw);
			continue;
		}
		c->lines[w++] = *l;
	}
	c->n = w;
	return found;
}

const char *plein_conf_subsection(const plein_conf *c, const char *kind, int idx)
{
	size_t klen = strlen(kind);
	int seen = 0;
	for (int i = 0; i < c->n; i++) {
		line *l = &c->lines[i];
		if (!l->section || l->key || strncmp(l->section, kind, klen) != 0 || l->section[klen] != '.')
			continue;
		if (seen++ == idx)
			return l->section + klen + 1;
	}
	return NULL;
}

static void write_header(FILE *f, const char *sec)
{
	const char *dot = strchr(sec, '.');
	if (dot)
		fprintf(f, "[%.*s \"%s\"]\n", (int)(dot - sec), sec, dot + 1);
	else
		fprintf(f, "[%s]\n", sec);
}

int plein_conf_save(const plein_conf *c, const char *path)
{
	plein_buf tmp = PLEIN_BUF_INIT;
	plein_buf_printf(&tmp, "%s.tmp", path);
	FILE *f = fopen(plein_buf_cstr(&tmp), "w");
	if (!f) {
		int rc = plein_fail(PLEIN_ERR, "cannot write %s: %s", path, strerror(errno));
		plein_buf_free(&tmp);
		return rc;
	}
	for (int i = 0; i < c->n; i++) {
		const line *l = &c->lines[i];
		if (l->raw)
			fprintf(f, "%s\n", l->raw);
		else if (!l->key)
			write_header(f, l->section);
		else
			fprintf(f, "%s = %s\n", l->key, l->value);
	}
	int bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
	bad |= fclose(f) != 0;
	if (bad || rename(plein_buf_cstr(&tmp), path) != 0) {
		int rc = plein_fail(PLEIN_ERR, "cannot write %s: %s (the old file was kept)", path, strerror(errno));
		unlink(plein_buf_cstr(&tmp));
		plein_buf_free(&tmp);
		return rc;
	}
	plein_buf_free(&tmp);
	return 0;
}
