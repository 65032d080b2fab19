/* A bounded check of git loose objects, made before libgit2 reads them.
 *
 * libgit2 1.5.1 loops for ever when it inflates a truncated loose object
 * (libgit2 issue #7342): a damaged USB stick or a half-copied relay would
 * hang a sync, and a damaged log.git would hang 'plein verify'. Loose
 * objects are checked here first — inflated with zlib to their end, with
 * a bound on size, header and hash checked — so damage ends in an error
 * that names the object. Packed objects are not looked at: libgit2 reads
 * packs safely. */
#ifndef PLEIN_LOOSE_H
#define PLEIN_LOOSE_H

#include <stddef.h>

/* Objects larger than this are called damaged (no batch blob comes near). */
#define PLEIN_LOOSE_MAX ((size_t)300 << 20)

/* Check the loose object hex (40 hex digits) of the repository at gitdir.
 * 0: sound, or not a loose object there (packed or absent); PLEIN_EREJECT
 * with a message naming the object and the damage; PLEIN_ERR when the file
 * cannot be read. */
int plein_loose_check(const char *gitdir, const char *hex);

/* The same check of the bytes of a loose object (zlib stream) said to be
 * object hex; where names the repository in messages. */
int plein_loose_check_bytes(const unsigned char *data, size_t len, const char *hex, const char *where);

/* Check every loose object of gitdir. *out_bad (may be NULL) receives the
 * number of damaged ones; returns 0 when none is, else the first
 * failure of plein_loose_check (its message set). */
int plein_loose_check_all(const char *gitdir, size_t *out_bad);

/* Check the loose objects of gitdir added or changed since the last call
 * that found none damaged (a mark kept in gitdir/plein-loose-checked), so
 * that a process may trust what it then reads of its own log.git at the
 * cost of a stat per loose object. Same returns as plein_loose_check_all;
 * damage leaves the mark where it was, so every later call finds it too. */
int plein_loose_check_new(const char *gitdir);

#endif
