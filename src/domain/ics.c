/* The iCalendar feed (include/plein/ics.h): not built yet. */
#include "plein/error.h"
#include "plein/ics.h"

int plein_ics_feed(plein_buf *out, plein_db *db, const plein_ics_filter *f)
{
	return plein_fail(PLEIN_ERR, "the iCalendar feed is not built yet in this version of plein");
}
