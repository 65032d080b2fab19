/* plein.conf: INI-style settings a person may edit (docs/site-layout.md).
 *   [site]            name, listen, http, token, retention settings
 *   [peer "NAME"]     url
 * Keys are addressed as "section.key" or "peer.NAME.key". Comments (#, ;)
 * and order are kept when the file is rewritten. */
#ifndef PLEIN_CONF_H
#define PLEIN_CONF_H

typedef struct plein_conf plein_conf;

/* Parse path; a missing file gives an empty conf. Malformed lines are
 * refused with the line number. */
int plein_conf_load(plein_conf **out, const char *path);
void plein_conf_free(plein_conf *c);

/* Lent; NULL when unset. */
const char *plein_conf_get(const plein_conf *c, const char *key);
int plein_conf_get_int(const plein_conf *c, const char *key, int dflt);
/* value NULL removes the key. */
void plein_conf_set(plein_conf *c, const char *key, const char *value);
/* Remove a whole section ("peer.NAME"). Returns 1 if it existed. */
int plein_conf_remove_section(plein_conf *c, const char *section);

/* Iterate the names of subsections of kind ("peer"): i from 0 until NULL. */
const char *plein_conf_subsection(const plein_conf *c, const char *kind, int i);

/* Write atomically (temp file + rename). */
int plein_conf_save(const plein_conf *c, const char *path);

#endif
