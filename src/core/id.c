#include "plein/id.h"

#include <ctype.h>
#include <sodium.h>
#include <string.h>

#include "plein/clock.h"

static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

void plein_base32_encode(char *out, const unsigned char *in, size_t n)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			out[o++] = alphabet[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		out[o++] = alphabet[(acc << (5 - bits)) & 31];
	out[o] = 0;
}

static int value_of(int c)
{
	c = toupper(c);
	if (c == 'O')
		return 0;
	if (c == 'I' || c == 'L')
		return 1;
	const char *p = strchr(alphabet, c);
	return (p && c) ? (int)(p - alphabet) : -1;
}

int plein_base32_decode(unsigned char *out, size_t cap, const char *in)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;
	for (const char *p = in; *p; p++) {
		if (*p == '-')
			continue;
		int v = value_of((unsigned char)*p);
		if (v < 0)
			return -1;
		acc = (acc << 5) | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			if (o >= cap)
				return -1;
			out[o++] = (unsigned char)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	return (int)o;
}

void plein_id_new(char *out)
{
	/* 48-bit time then 80 random bits: encode 16 bytes with the time
	 * in front, 130 bits -> 26 chars; the top 2 bits are always zero. */
	uint64_t ms = (uint64_t)plein_now_ms();
	unsigned char raw[16] = {0};
	for (int i = 0; i < 6; i++)
		raw[i] = (unsigned char)(ms >> (8 * (5 - i)));
	randombytes_buf(raw + 6, 10);
	/* ULID layout: 10 chars of time (50 bits), 16 chars of randomness. */
	char t[16];
	uint64_t v = ms;
	for (int i = 9; i >= 0; i--) {
		t[i] = alphabet[v & 31];
		v >>= 5;
	}
	memcpy(out, t, 10);
	char r[20];
	plein_base32_encode(r, raw + 6, 10); /* 80 bits -> 16 chars exactly */
	memcpy(out + 10, r, 16);
	out[PLEIN_ID_LEN] = 0;
}
