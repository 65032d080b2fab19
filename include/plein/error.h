/* Errors: functions return 0 on success or a negative PLEIN_E* code; the
 * message for a person goes to a last-error slot (as in libgit2). */
#ifndef PLEIN_ERROR_H
#define PLEIN_ERROR_H

enum {
	PLEIN_OK = 0,
	PLEIN_ERR = -1,       /* any other failure: I/O, database, ... (exit 2) */
	PLEIN_EINVAL = -2,    /* bad usage or bad input; nothing changed (exit 1) */
	PLEIN_ENOTFOUND = -3, /* a named record or file does not exist (exit 1) */
	PLEIN_EBUSY = -4,     /* the database is locked by another writer (exit 2) */
	PLEIN_EREJECT = -5,   /* outside data refused: signature, chain, roster (exit 2) */
};

/* Set the last error; returns `code` so callers can `return plein_fail(...)`. */
int plein_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The last error message (lent; valid until the next plein_fail). */
const char *plein_error(void);
int plein_error_code(void);
void plein_error_clear(void);

/* Exit status for a result code: 0 ok, 1 user error, 2 other failure. */
int plein_exit_status(int code);

#endif
