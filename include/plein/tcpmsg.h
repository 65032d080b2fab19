/* The messages of a TCP sync session, inside encrypted frames
 * (docs/tcp-sync.md). Each frame's plaintext is one message: a type byte,
 * then its body:
 *
 *   1 VECTOR   what the sender holds: varint n, then n entries sorted by
 *              site: the site id's 10 bytes (its 80 bits), varint seq >= 1,
 *              the 20-byte git commit id of batch seq (the chain's tip)
 *   2 BATCH    a batch record (or the last piece of one)
 *   3 PART     a piece of a batch record too large for one frame; the
 *              pieces and the final BATCH concatenate to the record
 *   4 DONE     varint: the number of batches sent (all of them)
 *   5 REFUSED  why the peer refuses this session (UTF-8, <= 300 bytes);
 *              always the final frame
 *   6 BYE      varint: the number of batches received and stored, after
 *              the peer's DONE; always the final frame
 *
 * A batch record: varint time, varint summary length + summary, varint
 * header length + header, the 64-byte signature, varint payload length +
 * payload, a byte 0/1 for the personal part, and if 1: varint length +
 * personal part. The site and seq come from the header.
 *
 * Every decoder refuses (PLEIN_EREJECT) anything malformed, trailing
 * bytes included, and checks every length against what remains. */
#ifndef PLEIN_TCPMSG_H
#define PLEIN_TCPMSG_H

#include <stddef.h>
#include <stdint.h>

#include "plein/buf.h"
#include "plein/log.h"

enum {
	PLEIN_MSG_VECTOR = 1,
	PLEIN_MSG_BATCH = 2,
	PLEIN_MSG_PART = 3,
	PLEIN_MSG_DONE = 4,
	PLEIN_MSG_REFUSED = 5,
	PLEIN_MSG_BYE = 6,
	PLEIN_MSG_BUSY = 7,
};

#define PLEIN_MSG_MAX_VECTOR 65536   /* entries in a version vector */
#define PLEIN_MSG_MAX_REASON 300     /* bytes of a refusal */
#define PLEIN_MSG_TIP_BYTES 20       /* a chain's tip: its git commit id (SHA-1) */
/* Bound on a whole batch record: what plein_log accepts. */
#define PLEIN_MSG_MAX_RECORD ((size_t)PLEIN_LOG_MAX_HEADER + PLEIN_LOG_SIG_LEN + 2 * (size_t)PLEIN_LOG_MAX_PAYLOAD + \
			      PLEIN_LOG_MAX_SUMMARY + 64)

typedef struct plein_vv_entry {
	char site[PLEIN_SITEID_LEN + 1];
	uint64_t seq;
	/* The commit of batch seq: two sites whose chains forked may hold
	 * the same seq, so the seq alone cannot tell them apart. */
	unsigned char tip[PLEIN_MSG_TIP_BYTES];
} plein_vv_entry;

/* A decoded batch record. b's pointers point into the decoded bytes and
 * into this struct (site, summary): use it where it lies. */
typedef struct plein_msg_record {
	plein_log_batch b;
	char site[PLEIN_SITEID_LEN + 1];
	char summary[PLEIN_LOG_MAX_SUMMARY + 1];
} plein_msg_record;

/* VECTOR, type byte included. v must be sorted by site, seq >= 1. */
int plein_msg_vector_encode(plein_buf *out, const plein_vv_entry *v, size_t n);
/* *out is malloc'd (free it); sorted strictly by site. */
int plein_msg_vector_decode(plein_vv_entry **out, size_t *out_n, const unsigned char *p, size_t n);

/* A batch record, no type byte (the session splits it into frames). */
void plein_msg_record_encode(plein_buf *out, const plein_log_entry *e);
int plein_msg_record_decode(plein_msg_record *out, const unsigned char *p, size_t n);

/* DONE or BYE (type), and REFUSED; type byte included. */
void plein_msg_count_encode(plein_buf *out, int type, uint64_t count);
int plein_msg_count_decode(uint64_t *out, int type, const unsigned char *p, size_t n);
void plein_msg_refused_encode(plein_buf *out, const char *why);
int plein_msg_refused_decode(char out[PLEIN_MSG_MAX_REASON + 1], const unsigned char *p, size_t n);

/* The payload of an IK handshake message (docs/tcp-sync.md §1): the
 * sender's 32-byte ed25519 site key, a flag byte, and when the flag is 1
 * one message (VECTOR; or REFUSED from a responder). Flag 0: nothing
 * follows, the sender's VECTOR is its first frame. The message goes
 * inline when it is at most room bytes: returns 1 if it did, else 0. */
int plein_msg_hs_payload_encode(plein_buf *out, const unsigned char pk[32], const plein_buf *m, size_t room);
/* pk: the sender's key; *m, *mn: the inline message (mn 0 for flag 0). */
int plein_msg_hs_payload_decode(unsigned char pk[32], const unsigned char **m, size_t *mn, const unsigned char *p,
				size_t n);

/* A site id's 80 bits and back (the canonical id). */
int plein_msg_site_pack(unsigned char out[10], const char *site);
void plein_msg_site_unpack(char out[PLEIN_SITEID_LEN + 1], const unsigned char in[10]);

#endif
