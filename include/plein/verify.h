/* 'plein verify' (design §9.4): check every batch of every chain in
 * log.git — signature, signer, network, contiguity and previous-batch
 * hashes, payload — and the roster at signing time; rebuild the state from
 * the log alone in a scratch replica, and compare its digest with the live
 * one. Nothing is sealed: this site's unsealed writes are added to the
 * rebuild as they are. Loose objects of log.git are checked first
 * (loose.h); when one is damaged, nothing else is read. */
#ifndef PLEIN_VERIFY_H
#define PLEIN_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "plein/digest.h"
#include "plein/site.h"

typedef struct {
	size_t chains, batches, changes;
	size_t unsealed;            /* this site's writes not sealed yet, taken
	                             * into the rebuild as they are (verify seals
	                             * nothing) */
	size_t problems;            /* batches (or damaged git objects) that
	                             * failed a check */
	char first_problem[400];
	char live[65], rebuilt[65]; /* digests */
	int equal;
} plein_verify_report;

/* Returns 0 when the run completed (look at problems and equal). */
int plein_verify(plein_verify_report *out, plein_site *s);

/* plein.db is missing but log.git is there (s has its key and conf, no
 * db): build plein.db again from the log (rebuild.c), then close it; the
 * caller opens it as usual. Sealing then waits for a peer, as after a
 * restore. */
int plein_replica_rebuild(plein_site *s);

#endif
