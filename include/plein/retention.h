/* Retention periods for personal data (docs/erasure.md). */
#ifndef PLEIN_RETENTION_H
#define PLEIN_RETENTION_H

#include <stddef.h>

#include "plein/site.h"

#define PLEIN_RETENTION_REFERRAL_DAYS 90 /* plein.conf [retention] referral_days */
#define PLEIN_RETENTION_SIGNUP_DAYS 30   /* plein.conf [retention] signup_days */

/* Erase (plein_erase_row) every referral contact whose referral closed
 * or is older than referral_days, and every sign-up name whose occurrence
 * is signup_days or more ago ("now" from plein_erase_now_ms). The changes
 * are captured: seal them, then plein_erase_apply. *out_n (may be NULL):
 * rows erased. */
int plein_retention_run(plein_site *s, size_t *out_n);

#endif
