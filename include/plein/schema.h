/* The schema: ordered migrations from the schema/ directory (embedded at build
 * time), and the sync metadata read back from the plein_sync_* tables. */
#ifndef PLEIN_SCHEMA_H
#define PLEIN_SCHEMA_H

#include "plein/db.h"

struct plein_migration {
	const char *name; /* file name, "001_domain.sql" */
	const char *sql;
};
extern const struct plein_migration plein_migrations[];
extern const int plein_migration_count;

/* The schema version this plein writes: the number of migrations. */
int plein_schema_version(void);

enum plein_policy { PLEIN_LWW = 0, PLEIN_MAX = 1, PLEIN_COUNTER = 2 };

typedef struct {
	char *name;
	int cid;        /* stable column number, 0..61 */
	int policy;     /* enum plein_policy */
	int personal;   /* sealed personal data, purgeable */
} plein_column;

typedef struct {
	char *name;
	int tid;        /* stable table number */
	int ncols;
	plein_column *cols; /* ordered by cid */
} plein_table;

typedef struct {
	int ntables;
	plein_table *tables; /* ordered by tid */
} plein_schema;

/* Bring the database to this plein's schema version, applying migrations
 * in one transaction each; refuses a database written by a newer plein.
 * Creates the core's local tables and (re)installs the capture triggers. */
int plein_schema_migrate(plein_db *db);

/* Read the sync metadata. */
int plein_schema_load(plein_schema **out, plein_db *db);
void plein_schema_free(plein_schema *s);
/* Lookups (lent; NULL when unknown). */
const plein_table *plein_schema_table(const plein_schema *s, const char *name);
const plein_table *plein_schema_table_by_tid(const plein_schema *s, int tid);
const plein_column *plein_table_column(const plein_table *t, const char *name);

#endif
