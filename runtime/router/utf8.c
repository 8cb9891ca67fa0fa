/*
 * utf8.c - the little UTF-8 the router needs: validation (utterances and
 * triggers are checked once, then PCRE2 runs without its own check),
 * white space, and counting characters for confidence.
 */
#include "router/router_int.h"

size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *out)
{
	uint32_t cp;
	size_t n, i;

	if (s[0] < 0x80) {
		*out = s[0];
		return 1;
	}
	if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		n = 2;
		cp = s[0] & 0x1F;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		n = 3;
		cp = s[0] & 0x0F;
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	/* Overlong forms, surrogates and code points past U+10FFFF. */
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	*out = cp;
	return n;
}

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
