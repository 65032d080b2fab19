/* libFuzzer target for the timestamps and dates of the referral history
 * (docs/referral.md): referral_event.at, referral.created_at and
 * follow_up_on arrive from other sites as text, and --due parses them.
 *
 * Input: text up to the first NUL is a timestamp for
 * plein_referral_local_day; the rest (up to the next NUL) a follow-up date
 * for plein_referral_due. What parses must hold up: a local day is a valid
 * date within one day of the UTC date it came from. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "plein/error.h"
#include "plein/referral.h"
#include "plein/rrule.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 2);
	memcpy(text, data, size);
	text[size] = 0;
	text[size + 1] = 0;
	const char *follow = text + strlen(text) + 1;
	char day[11];
	plein_date utc_day, local;
	if (plein_referral_local_day(day, text) == 0) {
		char head[11];
		memcpy(head, text, 10);
		head[10] = 0;
		if (plein_date_parse(&local, day) != 0 || plein_date_parse(&utc_day, head) != 0)
			abort();
		int64_t diff = plein_date_to_days(local) - plein_date_to_days(utc_day);
		if (diff < -1 || diff > 1)
			abort();
		(void)plein_referral_due(day, "new", follow, day, 7);
	} else {
		plein_error_clear();
	}
	(void)plein_referral_due("2026-11-24", text, follow, text, (int)(size % 40));
	free(text);
	return 0;
}
