/*
 * utf8.c - the little UTF-8 the router needs: validation (utterances and
 * triggers are checked once, then PCRE2 runs without its own check),
 * white space, and counting characters for confidence. (Decoding one
 * character is core/utf8.c's.)
 */
#include "router/router_int.h"

size_t utf8_invalid_offset(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n;
	uint32_t cp;

	while (i < len) {
		if (u[i] < 0x80) {
			i++;
			continue;
		}
		if (!(n = utf8_decode(u + i, len - i, &cp)))
			return i;
		i += n;
	}
	return len;
}

bool is_unicode_space(uint32_t cp)
{
	if (cp < 0x80)
		return cp == ' ' || (cp >= 0x09 && cp <= 0x0D);
	return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
	       cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

size_t count_nonspace(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n, count = 0;
	uint32_t cp;

	while (i < len) {
		if (u[i] < 0x80) {
			count += !is_unicode_space(u[i]);
			i++;
			continue;
		}
		if (!(n = utf8_decode(u + i, len - i, &cp)))
			n = 1; /* never happens on validated text; stay bounded */
		count += !is_unicode_space(cp);
		i += n;
	}
	return count;
}
