/* Membership (design §2, "wie hoort erbij"): who may sign changes for the
 * network. The roster is the synced table `roster` (schema/003_roster.sql);
 * only changes signed by the network's admin key (the coordinator's site
 * key, from the network card) may change it — ingest refuses any other
 * signer's roster changes. docs/roster.md and docs/network-card.md. */
#ifndef PLEIN_ROSTER_H
#define PLEIN_ROSTER_H

#include <stdint.h>

#include "plein/buf.h"
#include "plein/site.h"

/* The admin public key of this site's network (from plein_local). */
int plein_roster_admin(plein_site *s, unsigned char out_pk[32]);

/* May the site with key pk sign batch seq? 0: yes (the admin, or admitted
 * and not revoked before seq); PLEIN_ENOTFOUND: not (yet) on the roster —
 * hold its batches until an admission arrives; PLEIN_EREJECT: revoked, or
 * the roster names another key for that site id. The message names the
 * site and what to do. */
int plein_roster_check(plein_site *s, const unsigned char pk[32], uint64_t seq);

/* ---- more of the roster ---------------------------------------------- */

#define PLEIN_ROSTER_TABLE "roster"
#define PLEIN_NETWORK_TABLE "network"

/* The tid of the roster table in this site's schema (> 0), so ingest can
 * refuse roster changes from signers other than the admin; PLEIN_ERR when
 * the schema has no roster. */
int plein_roster_tid(plein_site *s);

/* 1 if changes to table tid count only when the admin signs them (the
 * roster, the network's name), 0 if any admitted site may write it, or
 * PLEIN_ERR when the schema lacks the roster. */
int plein_roster_admin_only(plein_site *s, int tid);

/* At the coordinator: put the network's name (plein_local network_name)
 * into the synced table `network` (schema/006_network.sql) unless it is
 * there already, so every site, and a rebuild from log.git, learns it.
 * The write is captured like any other and sealed by the caller. Does
 * nothing at other sites. */
int plein_roster_record_network(plein_site *s);

/* Take the network's name from the table `network` (the row of this
 * site's network id) into plein_local, where plein card and messages read
 * it. 0 also when the log holds no name (a coordinator from before schema
 * version 6 has not run since). */
int plein_roster_network_from_table(plein_site *s);

/* 1 if this site holds the network's admin key, 0 if not, or an error. */
int plein_roster_is_admin(plein_site *s);
/* 0 if this site holds the admin key; else PLEIN_EINVAL saying that only
 * the coordinator can `what` ("admit sites"). */
int plein_roster_need_admin(plein_site *s, const char *what);

/* The full key of a site (any spelling of its id) from the roster table.
 * PLEIN_ENOTFOUND when it is not on the roster; PLEIN_EREJECT when the
 * stored key is damaged or belongs to another id. */
int plein_roster_key(plein_site *s, const char *site_id, unsigned char out_pk[32]);

/* The full key of a site taken from a batch of it that reached this
 * site's log.git: its verified chain, a held batch, or an incoming chain
 * (refs/plein/{sites,held,incoming}). Only a header whose signature
 * verifies and whose key encodes to site_id counts. PLEIN_ENOTFOUND when
 * there is none. */
int plein_roster_key_from_log(plein_site *s, const char *site_id, unsigned char out_pk[32]);

/* Admit a site, or update its entry (name, role, location): the roster
 * row with id = site_id and its key pk; a revoked site is admitted again
 * (revoked_after cleared). location_id may be NULL; checking that it
 * names a location is the caller's business (the core knows no domain
 * table). Only the admin may: PLEIN_EINVAL otherwise, as for a key that
 * does not belong to site_id, a bad role or name. Runs in the caller's
 * write transaction (plein_db_begin), so a refusal writes nothing. */
int plein_roster_admit(plein_site *s, const char *site_id, const unsigned char pk[32],
		       const char *name, const char *role, const char *location_id);

/* Revoke a site: its batches up to the tip of its chain in this site's
 * log (*out_after, may be NULL) stay valid, later ones are refused. Only
 * the admin may, never for the admin's own site, and only once
 * (PLEIN_EINVAL); PLEIN_ENOTFOUND when the site is not on the roster. In
 * the caller's write transaction. */
int plein_roster_revoke(plein_site *s, const char *site_id, uint64_t *out_after);

/* ---- the network card (docs/network-card.md) -------------------------- */

#define PLEIN_CARD_MAGIC "plein network card 1"
#define PLEIN_CARD_MAX_BYTES 65536  /* a card file larger than this is refused */
#define PLEIN_CARD_MAX_LINE 1100    /* bytes of one line, without its newline */
#define PLEIN_CARD_MAX_NAME 200     /* bytes of the network name */
#define PLEIN_CARD_MAX_PEERS 16
#define PLEIN_CARD_MAX_URL 1000     /* bytes of one peer address */
#define PLEIN_CARD_CHECK_BYTES 8    /* BLAKE2b-256 prefix in the check line */

typedef struct plein_card {
	char network[PLEIN_CARD_MAX_NAME + 1];  /* the network's name */
	unsigned char network_id[16];
	unsigned char admin_pk[32];             /* the coordinator's site key */
	int npeers;
	char peers[PLEIN_CARD_MAX_PEERS][PLEIN_CARD_MAX_URL + 1]; /* seed peer URLs */
} plein_card;

/* Parse a card: strict, bounded. PLEIN_EINVAL with "line N: what; what
 * to do" for anything but a well-formed card whose check line matches. */
int plein_card_parse(plein_card *out, const char *text, size_t len);

/* Append the card's text, check line included. PLEIN_EINVAL for a card
 * that plein_card_parse would refuse (a bad name or peer address). */
int plein_card_format(plein_buf *out, const plein_card *card);

/* The card of this site's network (no peers). PLEIN_ERR when this site
 * has no network (it was not made with 'plein init'). */
int plein_card_of_site(plein_card *out, plein_site *s);

/* 0 if url may stand as a peer address on a card: 1..PLEIN_CARD_MAX_URL
 * printable ASCII bytes, no spaces; else PLEIN_EINVAL naming `what`. */
int plein_card_check_peer(const char *what, const char *url);

#endif
