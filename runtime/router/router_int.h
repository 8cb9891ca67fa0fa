/*
 * router_int.h - shared by the router's files: the parsed form of one
 * trigger, the folding used by the index, UTF-8 helpers. Internal.
 */
#ifndef AIMS_ROUTER_INT_H
#define AIMS_ROUTER_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aims/core.h"
#include "core/utf8.h"

/* Patterns may nest parentheses this deep. */
#define TRIGGER_PARENS_LIMIT 64
/* Capturing groups per pattern (sizes the per-call match data). */
#define TRIGGER_MAX_CAPTURES 64
/* Shortest literal a pattern is indexed by (one trigram). */
#define TRIGRAM 3

/*
 * One trigger, parsed. Phrases get their PCRE2 pattern generated here;
 * patterns (re:) are checked by compiling them. The index needs, for a
 * phrase, the folded words the utterance must contain as whole words
 * ("required tokens"); for a pattern, folded literal strings the
 * utterance must contain somewhere ("required literals").
 */
typedef struct trigger_parse {
	bool regex;
	char *pattern; /* PCRE2 pattern, malloc'd */
	size_t pattern_len;
	unsigned literal_chars, literal_words, slot_terms, specificity;
	bool leads;	   /* phrases: the first literal starts the phrase (no slot
		     * before it), so a match starts just before it */
	uint32_t captures; /* capturing groups */
	/* Phrases: hashes of required tokens (distinct, in trigger order). */
	uint64_t *tokens;
	size_t token_count;
	/* Required literals, folded, each NUL-terminated, in one malloc'd
	 * block of literal_bytes bytes: for patterns, top-level literal runs;
	 * for phrases, the folded text between slots ("run python" for
	 * "run python", "send" and "to" for "send {a} to {b}"). The folded
	 * utterance contains each of them whenever the trigger matches. */
	char *literals;
	size_t literal_bytes;
	size_t literal_count;
} trigger_parse;

/*
 * Parses text. For patterns, ccontext (may be NULL) is used to compile the
 * pattern once to check it, and the code is returned in *out_code when
 * out_code is not NULL (caller frees with pcre2_code_free). Returns 0 or
 * AIMS_EINVALID with the byte offset in *out_offset, AIMS_ENOMEM.
 */
int trigger_parse_text(trigger_parse *out, const char *text, unsigned flags,
		       pcre2_compile_context *ccontext, pcre2_code **out_code, size_t *out_offset,
		       aims_error *err);
/* Flags of trigger_parse_text. */
#define TRIGGER_CHECK_ONLY 1u /* errors only: no pattern, words or literals */
void trigger_parse_free(trigger_parse *p);

/* Compiles a parsed trigger (its pattern), with JIT when jit is true.
 * Returns NULL on failure (message in err). */
pcre2_code *trigger_compile(const trigger_parse *p, pcre2_compile_context *ccontext, bool jit,
			    size_t *out_offset, aims_error *err);

/* Creates the compile context every trigger is compiled with. */
pcre2_compile_context *trigger_compile_context(void);

/* PCRE2 options of every trigger. */
#define TRIGGER_OPTIONS (PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS | PCRE2_NEVER_BACKSLASH_C)

/* ---- Folding (the index's view of text) --------------------------------
 *
 * The index works on "folded words": maximal runs of ASCII letters,
 * digits and "_" (plus the two non-ASCII letters that PCRE2 matches
 * caselessly against ASCII ones: KELVIN SIGN = k, LONG S = s), lowercased.
 * Every other character separates words. Since these are a subset of
 * what PCRE2 calls letters/digits, and caseless PCRE2 equality never
 * relates such a character to a separator, a phrase's literal word is
 * always a whole folded word of any utterance it matches.
 */

/* Folds the character at s (len bytes left): returns its folded ASCII
 * word character, or 0 for a separator, and its byte length in *out_len. */
static inline char fold_at(const unsigned char *s, size_t len, size_t *out_len)
{
	unsigned char c = s[0];

	if (c < 0x80) {
		*out_len = 1;
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')
			return (char)c;
		if (c >= 'A' && c <= 'Z')
			return (char)(c + 32);
		return 0;
	}
	if (c == 0xC5 && len >= 2 && s[1] == 0xBF) { /* U+017F LONG S */
		*out_len = 2;
		return 's';
	}
	if (c == 0xE2 && len >= 3 && s[1] == 0x84 && s[2] == 0xAA) { /* U+212A KELVIN */
		*out_len = 3;
		return 'k';
	}
	*out_len = 1;
	while (*out_len < len && (s[*out_len] & 0xC0) == 0x80)
		(*out_len)++;
	return 0;
}

static inline uint64_t fold_hash_init(void)
{
	return 1469598103934665603ull;
}

static inline uint64_t fold_hash_step(uint64_t h, char c)
{
	return (h ^ (unsigned char)c) * 1099511628211ull;
}

/* Finishes a hash; never 0 (0 marks empty slots in the index tables). */
static inline uint64_t fold_hash_end(uint64_t h)
{
	h ^= h >> 29;
	return h ? h : 1;
}

/* ---- UTF-8 ---------------------------------------------------------- */

/* Returns the offset of the first invalid byte, or len when s is valid. */
size_t utf8_invalid_offset(const char *s, size_t len);

/* True for Unicode white space (what separates a phrase's words). */
bool is_unicode_space(uint32_t cp);

/* Number of non-space code points in s (valid UTF-8). */
size_t count_nonspace(const char *s, size_t len);

#endif
