/* Signed batches (design §5, docs/batch-format.md): the on-disk and
 * on-wire unit of a site's change log.
 *
 * A batch is four byte strings:
 *   header    156 bytes, fixed layout; the only thing the site signs
 *   signature 64 bytes, ed25519 over the header by the site key in it
 *   payload   the signer's causal context (what it had applied of other
 *             sites) and the changes, compact binary, zlib; the header
 *             carries its BLAKE2b-256 and length
 *   personal  the values of personal columns (design §8), zlib; the payload
 *             holds a salted BLAKE2b-256 of each, so this part can be
 *             purged, wholly or value by value, and the chain still verifies.
 *
 * Everything read from outside is refused with PLEIN_EREJECT and a message
 * naming the problem; nothing here trusts a length it has not checked. */
#ifndef PLEIN_BATCH_H
#define PLEIN_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "plein/buf.h"
#include "plein/change.h"

#define PLEIN_BATCH_FORMAT 1            /* the header's format version */
#define PLEIN_BATCH_HEADER_BYTES 156
#define PLEIN_BATCH_SIG_BYTES 64
#define PLEIN_BATCH_HASH_BYTES 32        /* BLAKE2b-256 */
#define PLEIN_BATCH_NETWORK_ID_BYTES 16
#define PLEIN_BATCH_SALT_BYTES 16        /* per personal value */
#define PLEIN_BATCH_MAX_RAW (64u << 20)  /* inflated payload or personal part */
#define PLEIN_BATCH_MAX_CHANGES (1u << 20)
#define PLEIN_BATCH_MAX_TID 65535
#define PLEIN_BATCH_MAX_ID 4096          /* bytes of a row id */
#define PLEIN_BATCH_MAX_CONTEXT 4096     /* entries of the causal context */

typedef struct {
	unsigned char network_id[PLEIN_BATCH_NETWORK_ID_BYTES];
	unsigned char site_pk[32];     /* the signer */
	uint64_t seq;                  /* 1, 2, 3, ... per site */
	unsigned char prev_hash[PLEIN_BATCH_HASH_BYTES]; /* plein_batch_hash of seq-1; zero for seq 1 */
	int64_t hlc_min, hlc_max;      /* exact range of the changes' clocks */
	int schema_version;            /* plein_schema_version() of the writer */
	uint32_t count;                /* number of changes */
	uint32_t raw_len;              /* payload bytes after inflating */
	uint32_t payload_len;          /* payload bytes as stored (compressed) */
	unsigned char payload_hash[PLEIN_BATCH_HASH_BYTES]; /* BLAKE2b-256 of the stored payload */
} plein_batch_header;

/* A decoded batch. Ids and TEXT/BLOB values of changes point into buffers
 * the batch owns: they live until plein_batch_free. Opened with
 * plein_batch_open, it holds only the changes of its last
 * plein_batch_next. */
typedef struct plein_batch plein_batch;
struct plein_batch {
	plein_batch_header header;
	size_t ncontext;
	plein_seen *context;           /* what the signer had applied, sorted by pk */
	size_t n;
	plein_change *changes;
	/* private */
	unsigned char *raw;            /* the inflated payload */
	size_t raw_len;
	unsigned char *personal;       /* the inflated personal part, or NULL */
	size_t personal_len;
	size_t *poff;                  /* per change: offset of its personal entry, or SIZE_MAX */
	size_t cap;                    /* room in changes and poff */
	struct plein_batch_parse *parse; /* where reading the changes stands */
};

/* Encode the causal context[0..ncontext) and changes[0..n) (n >= 1, in the
 * order given) into a payload and a personal part, compressed at zlib
 * `level` (1 on the wire path). The context is the signer's applied
 * version vector without itself: at most PLEIN_BATCH_MAX_CONTEXT entries,
 * sorted strictly by pk, seq 1..2^63-1, none naming out_hdr->site_pk
 * (which the caller sets first when the context is not empty). Sets the
 * payload fields of *out_hdr — hlc_min, hlc_max, count, raw_len,
 * payload_len, payload_hash — and leaves the others to the caller.
 * out_personal stays empty when no change is personal. Personal values get
 * fresh random salts; salt_seed (32 bytes) makes them reproducible, for
 * test vectors only (pass NULL). Appends to the buffers. PLEIN_EINVAL for a
 * change that cannot be encoded (cid out of 0..61/-1, negative hlc or cl,
 * a PURGED value, limits exceeded) or a context that breaks its rules. */
int plein_batch_encode(plein_batch_header *out_hdr, plein_buf *out_payload, plein_buf *out_personal,
		       const plein_seen *context, size_t ncontext,
		       const plein_change *changes, size_t n, int level,
		       const unsigned char *salt_seed);

/* Write the header bytes and sign them with sk (libsodium's 64-byte ed25519
 * secret key, whose public half must be hdr->site_pk). PLEIN_EINVAL for a
 * header that plein_batch_verify would refuse. */
int plein_batch_seal(unsigned char out_header[PLEIN_BATCH_HEADER_BYTES],
		     unsigned char out_sig[PLEIN_BATCH_SIG_BYTES],
		     const plein_batch_header *hdr, const unsigned char sk[64]);

/* Read header bytes and check their structure (magic, format version,
 * lengths, seq/prev-hash, hlc range) — not the signature. For a log
 * re-reading batches it verified before. */
int plein_batch_header_parse(plein_batch_header *out, const unsigned char *bytes, size_t len);

/* plein_batch_header_parse, then the signature by the header's site key.
 * Whether that key may sign for the network (the roster) is the caller's
 * check. */
int plein_batch_verify(plein_batch_header *out, const unsigned char *bytes, size_t len,
		       const unsigned char sig[PLEIN_BATCH_SIG_BYTES]);

/* The hash of a batch — what the next batch's prev_hash names:
 * BLAKE2b-256(header bytes || signature). */
void plein_batch_hash(unsigned char out[PLEIN_BATCH_HASH_BYTES],
		      const unsigned char header[PLEIN_BATCH_HEADER_BYTES],
		      const unsigned char sig[PLEIN_BATCH_SIG_BYTES]);

/* Decode a payload whose header was verified. The payload's length and hash
 * are checked against the header before anything else. personal may be
 * NULL (or empty): the personal values then decode as PLEIN_V_PURGED, as do
 * values purged one by one; a personal value that does not match its hash
 * is refused. Free the result with plein_batch_free. */
int plein_batch_decode(plein_batch **out, const plein_batch_header *hdr,
		       const unsigned char *payload, size_t payload_len,
		       const unsigned char *personal, size_t personal_len);
void plein_batch_free(plein_batch *b);

/* plein_batch_decode a part at a time, for a batch too large to hold as
 * one array of changes (250,000 changes take 24 MB as plein_change).
 * plein_batch_open makes the same checks up to the changes
 * (header, payload length and hash) and reads the context;
 * plein_batch_next then puts the next at most max changes in
 * b->changes[0..b->n), replacing the ones before, and returns 1 — or 0
 * once all were read and the payload's totals check (count, clock range,
 * personal part), or the refusal. Changes returned before a refusal come
 * from a batch that does not decode: act on them only where the refusal
 * can undo it (a transaction rolled back, a verdict given at the end). */
int plein_batch_open(plein_batch **out, const plein_batch_header *hdr,
		     const unsigned char *payload, size_t payload_len,
		     const unsigned char *personal, size_t personal_len);
int plein_batch_next(plein_batch *b, size_t max);
/* The part size ingest reads with (judging, applying): a few hundred KB
 * of plein_change however large the batch. */
#define PLEIN_BATCH_PART 4096

/* Rewrite b's personal part without the values of the changes i where
 * drop[i] is set (drop has b->n entries, or is NULL to drop none): erasure
 * on request, or after the retention period. The others keep their salts,
 * so they still match; values b already lacks stay purged. Appends to
 * out; it stays empty when no value is left. */
int plein_batch_purge(plein_buf *out, const plein_batch *b, const unsigned char *drop, int level);

#endif
