/* Capture (design §3): triggers on every synced table append one row per
 * row write to plein_capture, stamped with a hybrid logical clock computed
 * in plain SQL, so that a bare sqlite3 shell is captured exactly like plein.
 * The format is documented in docs/capture.md. */
#ifndef PLEIN_CAPTURE_H
#define PLEIN_CAPTURE_H

#include <stdint.h>
#include "plein/db.h"

enum { PLEIN_OP_INSERT = 1, PLEIN_OP_UPDATE = 2, PLEIN_OP_DELETE = 3 };

/* Create the triggers for every table in plein_sync_table (in the caller's
 * transaction). */
int plein_capture_install(plein_db *db);
/* Drop every capture trigger. */
int plein_capture_uninstall(plein_db *db);

/* Number of captured, not yet sealed row writes. */
int plein_capture_pending(plein_db *db, int64_t *out);

/* Suppress capture while merge code writes remote changes (the flag lives
 * in plein_clock so triggers see it; set it only inside a transaction). */
int plein_capture_suspend(plein_db *db, int suspended);

#endif
