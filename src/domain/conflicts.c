/* The number of conflicts to show (conflicts.h), for 'plein status'. */
#include "plein/conflicts.h"

#include <stddef.h>

#include "plein/db.h"

int plein_conflicts_count(plein_site *s, int64_t *out)
{
	return plein_db_int(s->db, out,
			    "SELECT (SELECT count(*)" PLEIN_CONFLICT_FROM ") + (SELECT count(*)" PLEIN_OVERBOOKED_FROM ")", NULL);
}
