/* Who may read sealed personal data (docs/sealed.md, "Recipients"). */
#ifndef PLEIN_RECIPIENTS_H
#define PLEIN_RECIPIENTS_H

#include "plein/seal.h"
#include "plein/site.h"

typedef struct {
	unsigned char pk[PLEIN_SEAL_MAX_RECIPIENTS][32]; /* the writing site first */
	int n;
} plein_recipients;

/* A referral's contact details: the writing (referring) site, and the
 * receiving partner's site (partner.site_id) when the partner runs one
 * and its key is known here (on the roster, not revoked). */
int plein_recipients_referral(plein_recipients *out, plein_site *s, const char *partner_id);

/* A sign-up's name: the writing site, every site of the hosting location
 * (roster.location_id = location_id, not revoked) and the offering
 * partner's site. */
int plein_recipients_signup(plein_recipients *out, plein_site *s, const char *location_id, const char *partner_id);

#endif
