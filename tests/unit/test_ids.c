/* Record ids and site ids. */
#include <sodium.h>

#include "harness.h"
#include "plein/id.h"
#include "plein/siteid.h"

TEST(record_ids_are_26_chars_unique_and_time_ordered)
{
	char prev[27] = "", id[27];
	for (int i = 0; i < 2000; i++) {
		plein_id_new(id);
		CHECK_EQ_INT(strlen(id), 26);
		CHECK(strcmp(id, prev) != 0);
		/* same or later millisecond: the time prefix never decreases */
		CHECK(strncmp(id, prev, 10) >= 0);
		memcpy(prev, id, 27);
	}
}

TEST(base32_round_trip)
{
	unsigned char in[10] = { 0, 1, 2, 3, 250, 251, 252, 253, 254, 255 }, out[16];
	char text[20];
	plein_base32_encode(text, in, 10);
	CHECK_EQ_INT(strlen(text), 16);
	CHECK_EQ_INT(plein_base32_decode(out, sizeof out, text), 10);
	CHECK(memcmp(in, out, 10) == 0);
}

TEST(site_id_reads_what_people_type)
{
	unsigned char pk[32];
	for (int i = 0; i < 32; i++)
		pk[i] = (unsigned char)(i * 37 + 11);
	char id[PLEIN_SITEID_LEN + 1], again[PLEIN_SITEID_LEN + 1];
	plein_siteid_from_key(id, pk);
	CHECK_EQ_INT(strlen(id), 19);
	CHECK(id[4] == '-' && id[9] == '-' && id[14] == '-');
	/* lower case, no dashes, O for 0 and l for 1 all read the same */
	char typed[32];
	int k = 0;
	for (int i = 0; id[i]; i++) {
		char c = id[i];
		if (c == '-')
			continue;
		if (c == '0')
			c = 'o';
		else if (c == '1')
			c = 'l';
		else if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		typed[k++] = c;
	}
	typed[k] = 0;
	CHECK_OK(plein_siteid_normalize(again, typed));
	CHECK_STR(again, id);
	CHECK_EQ_INT(plein_siteid_normalize(again, "7QF3-K9ZT"), -1);
	CHECK_EQ_INT(plein_siteid_normalize(again, "7QF3-K9ZT-M2XA-PD4U"), -1); /* U is not in the alphabet */
	CHECK_EQ_INT(plein_siteid_normalize(again, "7QF3-K9ZT-M2XA-PD4RR"), -1);
}
