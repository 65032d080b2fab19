/* The board and the folder (include/plein/pages.h): not built yet. */
#include "plein/error.h"
#include "plein/pages.h"

int plein_page_board(plein_buf *out, plein_site *s, const char *location_id, int64_t now)
{
	return plein_fail(PLEIN_ERR, "the board page is not built yet in this version of plein");
}

int plein_page_board_version(plein_buf *out, plein_site *s, const char *location_id, int64_t now)
{
	return plein_fail(PLEIN_ERR, "the board page is not built yet in this version of plein");
}

int plein_page_folder(plein_buf *out, plein_site *s, const char *location_id, const char *week)
{
	return plein_fail(PLEIN_ERR, "the folder page is not built yet in this version of plein");
}
