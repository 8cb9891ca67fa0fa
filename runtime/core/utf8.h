/*
 * utf8.h - decoding one UTF-8 character. Internal to libaims.
 */
#ifndef AIMS_CORE_UTF8_H
#define AIMS_CORE_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decodes one code point at s (len > 0 bytes left). Returns its length,
 * or 0 when the bytes are not valid UTF-8 (overlong, surrogate, too big,
 * truncated). */
size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *out);

#endif
