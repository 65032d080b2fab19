/* Verify, then accept (design §6): batches fetched from a peer arrive in
 * refs/plein/incoming/<key>/<site-id> and are checked one by one —
 * signature, signer = chain, network, contiguity and the previous batch's
 * hash, schema version, the clock bound, the roster, and that only the
 * admin changes the roster. What passes is adopted into the site's chain
 * and applied; a batch whose signer is not admitted yet is held and
 * retried once an admission arrives; a second batch under a sequence number
 * already taken is kept as a fork proof; everything else is refused with a
 * reason, logged in plein_rejected, and nothing of it is applied. */
#ifndef PLEIN_INGEST_H
#define PLEIN_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "plein/site.h"

typedef struct {
	char site[PLEIN_SITEID_LEN + 1];
	uint64_t seq;
	char reason[300];
} plein_ingest_note;

typedef struct {
	size_t accepted;   /* batches adopted into chains */
	size_t held;       /* batches waiting for their signer's admission */
	size_t released;   /* held batches accepted now */
	size_t rejected;   /* refused, with a reason */
	size_t forks;      /* fork proofs kept */
	plein_ingest_note *notes; /* one per refusal, hold or fork */
	size_t nnotes;
} plein_ingest_report;

/* Verify and accept what arrived under refs/plein/incoming/<key>/ (key
 * NULL: every remote), retry held batches, and catch the replica up.
 * Incoming refs are dropped once dealt with. */
int plein_ingest(plein_ingest_report *out, plein_site *s, const char *key);
void plein_ingest_report_free(plein_ingest_report *r);
/* Log a refused batch in plein_rejected ('plein status' counts them), as
 * ingest does; for refusals made outside it (a fork proof over TCP). */
void plein_ingest_log_rejection(plein_site *s, const char *site, uint64_t seq, const char *reason);

#endif
