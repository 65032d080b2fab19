#include "plein/siteid.h"

#include <string.h>

#include "plein/id.h"

static void group(char *out, const char *raw16)
{
	for (int g = 0, o = 0; g < 4; g++) {
		memcpy(out + o, raw16 + 4 * g, 4);
		o += 4;
		if (g < 3)
			out[o++] = '-';
	}
	out[PLEIN_SITEID_LEN] = 0;
}

void plein_siteid_from_key(char *out, const unsigned char pk[32])
{
	char raw[20];
	plein_base32_encode(raw, pk, 10); /* 80 bits -> 16 chars */
	group(out, raw);
}

int plein_siteid_normalize(char *out, const char *in)
{
	unsigned char bytes[16];
	size_t chars = 0;
	for (const char *p = in; *p; p++)
		chars += *p != '-';
	if (chars != 16 || plein_base32_decode(bytes, sizeof bytes, in) != 10)
		return -1;
	char raw[20];
	plein_base32_encode(raw, bytes, 10);
	group(out, raw);
	return 0;
}
