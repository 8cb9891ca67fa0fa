/*
 * trigger.c - from trigger text to a PCRE2 pattern and the literals the
 * index needs (SPEC §4.1).
 *
 * A phrase becomes a pattern we write ourselves: its characters escaped,
 * each whitespace run turned into \s+, each {slot} into a named group,
 * framed by look-arounds that keep it off letters, digits and "_". While
 * writing it we note the phrase's required words for the index and what
 * its specificity is. A pattern ("re:") is compiled once to check it, and
 * scanned conservatively for literal text every match must contain.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aims/router.h"
#include "router/router_int.h"

#define EDGE_BEFORE "(?<![\\p{L}\\p{N}_])"
#define EDGE_AFTER  "(?![\\p{L}\\p{N}_])"
/* A slot: at least one character, starting and ending with a non-space,
 * within one line. A slot that ends the phrase takes the rest of the line
 * (greedy); a slot followed by more of the phrase takes as little as it
 * can, and at most AIMS_ROUTER_MAX_SLOT_CHARS characters: unbounded, a
 * phrase like "send {a} to {b}" would scan to the end of the line from
 * every "send" of an utterance that never says "to", quadratic work that
 * a 16 KiB utterance turns into a second of CPU. */
#define SLOT_LAZY     ">\\S(?:.{0,254}?\\S)?)"
#define SLOT_GREEDY   ">\\S(?:.*\\S)?)"
#define SLOT_NAME_MAX 32 /* PCRE2's limit on group names */
/* Phrases whose pattern is longer than this are compiled once to check. */
#define PHRASE_COMPILE_CHECK 1024

void trigger_parse_free(trigger_parse *p)
{
	if (!p)
		return;
	free(p->pattern);
	free(p->tokens);
	free(p->literals);
	memset(p, 0, sizeof(*p));
}

pcre2_compile_context *trigger_compile_context(void)
{
	pcre2_compile_context *cc = pcre2_compile_context_create(NULL);

	if (!cc)
		return NULL;
	/* a phrase's pattern is at most 14 times its text (an apostrophe
	 * becomes (?:'|\x{2019})) plus the slots and edges */
	pcre2_set_max_pattern_length(cc, 16 * AIMS_ROUTER_MAX_TRIGGER);
	pcre2_set_parens_nest_limit(cc, TRIGGER_PARENS_LIMIT);
	return cc;
}

static int fail(aims_error *err, size_t *out_offset, size_t offset, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(aims_error *err, size_t *out_offset, size_t offset, const char *fmt, ...)
{
	va_list ap;

	if (out_offset)
		*out_offset = offset;
	va_start(ap, fmt);
	aims_error_vset(err, AIMS_EINVALID, fmt, ap);
	va_end(ap);
	return AIMS_EINVALID;
}

static int add_token(trigger_parse *p, uint64_t hash)
{
	uint64_t *grown;

	for (size_t i = 0; i < p->token_count; i++)
		if (p->tokens[i] == hash)
			return 0;
	grown = realloc(p->tokens, (p->token_count + 1) * sizeof(*grown));
	if (!grown)
		return AIMS_ENOMEM;
	grown[p->token_count++] = hash;
	p->tokens = grown;
	return 0;
}

/* ---- Phrases ------------------------------------------------------------ */

typedef struct phrase_state {
	trigger_parse *p;
	aims_buf pat;
	/* the folded word being read */
	uint64_t hash;
	size_t token_len;
	bool token_after_slot; /* the word touches a slot on its left */
	bool word_has_literal; /* the current whitespace-separated word */
	bool prev_slot;	       /* the last piece was a slot */
	/* the folded text between slots ("segments"), which the folded
	 * utterance must contain: words joined by single spaces */
	aims_buf seg;
	aims_buf segs; /* finished segments, each NUL-terminated */
	size_t seg_count;
	bool slot_seen;
	/* false when only checking: nothing is written, only counted */
	bool build;
	size_t pat_len;
} phrase_state;

/* Writes n bytes of the pattern (or, when checking, counts them). */
static int pat_put(phrase_state *st, const char *s, size_t n)
{
	st->pat_len += n;
	return st->build ? aims_buf_append(&st->pat, s, n) : 0;
}

static int pat_puts(phrase_state *st, const char *s)
{
	return pat_put(st, s, strlen(s));
}

/* Adds a folded character to the segment; 0 stands for any separator. */
static int seg_char(phrase_state *st, char f)
{
	if (!st->build)
		return 0;
	if (f && !st->seg_count && !st->seg.len)
		st->p->leads = !st->slot_seen; /* the first folded character */
	if (f)
		return aims_buf_append(&st->seg, &f, 1);
	if (st->seg.len && st->seg.ptr[st->seg.len - 1] != ' ')
		return aims_buf_append(&st->seg, " ", 1);
	return 0;
}

static int seg_end(phrase_state *st)
{
	int rc = 0;

	if (!st->build)
		return 0;
	if (st->seg.len && st->seg.ptr[st->seg.len - 1] == ' ')
		st->seg.len--;
	if (st->seg.len) {
		if ((rc = aims_buf_append(&st->segs, st->seg.ptr, st->seg.len)) == 0)
			rc = aims_buf_append(&st->segs, "", 1);
		st->seg_count++;
	}
	aims_buf_reset(&st->seg);
	return rc;
}

/* Ends the folded word being read; touching_slot: a slot follows it. */
static int end_token(phrase_state *st, bool touching_slot)
{
	int rc = 0;

	if (st->build && st->token_len && !st->token_after_slot && !touching_slot)
		rc = add_token(st->p, fold_hash_end(st->hash));
	st->token_len = 0;
	st->token_after_slot = false;
	return rc;
}

static bool is_name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_name_char(char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9');
}

/* Parses a {name} at text[i]; returns its length or 0 when it is not one. */
static size_t slot_len(const char *text, size_t i, size_t len)
{
	size_t j = i + 1;

	if (j >= len || !is_name_start(text[j]))
		return 0;
	while (j < len && is_name_char(text[j]))
		j++;
	if (j >= len || text[j] != '}')
		return 0;
	return j + 1 - i;
}

static int parse_phrase(trigger_parse *p, const char *text, size_t len, bool build,
			size_t *out_offset, aims_error *err)
{
	const unsigned char *u = (const unsigned char *)text;
	phrase_state st = {.p = p, .build = build};
	char names[AIMS_ROUTER_MAX_SLOTS][SLOT_NAME_MAX + 1];
	size_t i = 0, end = len, n;
	uint32_t cp;
	int rc = 0;

	aims_buf_init(&st.pat, 16 * AIMS_ROUTER_MAX_TRIGGER);
	aims_buf_init(&st.seg, AIMS_ROUTER_MAX_TRIGGER);
	aims_buf_init(&st.segs, 2 * AIMS_ROUTER_MAX_TRIGGER);
	/* Leading and trailing white space is not part of the phrase. */
	while (i < end && (n = utf8_decode(u + i, end - i, &cp)) && is_unicode_space(cp))
		i += n;
	while (end > i) {
		size_t back = end - 1;

		while (back > i && (u[back] & 0xC0) == 0x80)
			back--;
		if (!utf8_decode(u + back, end - back, &cp) || !is_unicode_space(cp))
			break;
		end = back;
	}
	if (i == end) {
		rc = fail(err, out_offset, 0, "empty trigger");
		goto out;
	}
	if ((rc = pat_puts(&st, EDGE_BEFORE)) < 0)
		goto out;
	while (i < end) {
		char c = text[i];

		n = utf8_decode(u + i, end - i, &cp);
		if (is_unicode_space(cp)) {
			if ((rc = end_token(&st, false)) < 0 || (rc = seg_char(&st, 0)) < 0)
				goto out;
			while (i < end && (n = utf8_decode(u + i, end - i, &cp)) &&
			       is_unicode_space(cp))
				i += n;
			if (st.word_has_literal)
				p->literal_words++;
			st.word_has_literal = false;
			st.prev_slot = false;
			if ((rc = pat_puts(&st, "\\s+")) < 0)
				goto out;
			continue;
		}
		if (c == '{' && i + 1 < end && text[i + 1] == '{') {
			c = '{';
			n = 2;
		} else if (c == '}' && i + 1 < end && text[i + 1] == '}') {
			c = '}';
			n = 2;
		} else if (c == '{') {
			size_t sl = slot_len(text, i, end), name_len;
			size_t after = i + sl;
			bool last = true;

			if (!sl) {
				rc = fail(err, out_offset, i,
					  "'{' must start a slot such as {name} (letters, digits, "
					  "'_'; not starting with a digit); write '{{' for a "
					  "literal brace");
				goto out;
			}
			name_len = sl - 2;
			if (name_len > SLOT_NAME_MAX) {
				rc = fail(err, out_offset, i + 1,
					  "slot name is longer than %d characters", SLOT_NAME_MAX);
				goto out;
			}
			if (p->slot_terms >= AIMS_ROUTER_MAX_SLOTS) {
				rc = fail(err, out_offset, i, "more than %d slots in one trigger",
					  AIMS_ROUTER_MAX_SLOTS);
				goto out;
			}
			for (unsigned k = 0; k < p->slot_terms; k++)
				if (strlen(names[k]) == name_len &&
				    memcmp(names[k], text + i + 1, name_len) == 0) {
					rc = fail(err, out_offset, i + 1,
						  "slot {%.*s} appears twice", (int)name_len,
						  text + i + 1);
					goto out;
				}
			memcpy(names[p->slot_terms], text + i + 1, name_len);
			names[p->slot_terms][name_len] = '\0';
			if (st.prev_slot) {
				rc = fail(err, out_offset, i,
					  "two slots touch: separate them with text or a space");
				goto out;
			}
			/* Greedy when only white space follows. */
			for (size_t j = after; j < end; j += n) {
				n = utf8_decode(u + j, end - j, &cp);
				if (!is_unicode_space(cp)) {
					last = false;
					break;
				}
			}
			if ((rc = end_token(&st, true)) < 0 || (rc = seg_end(&st)) < 0)
				goto out;
			if ((rc = pat_puts(&st, "(?<")) < 0 ||
			    (rc = pat_put(&st, text + i + 1, name_len)) < 0 ||
			    (rc = pat_puts(&st, last ? SLOT_GREEDY : SLOT_LAZY)) < 0)
				goto out;
			p->slot_terms++;
			p->captures++;
			st.slot_seen = true;
			st.prev_slot = true;
			st.token_after_slot = true;
			i = after;
			continue;
		} else if (c == '}') {
			rc = fail(err, out_offset, i,
				  "'}' without a slot before it; write '}}' for a literal brace");
			goto out;
		}

		/* A literal character (n bytes; a doubled brace counts as one). */
		{
			size_t fl;
			char f =
				n == 2 && (c == '{' || c == '}') ? 0 : fold_at(u + i, end - i, &fl);

			if (f) {
				if (!st.token_len) {
					st.hash = fold_hash_init();
					st.token_after_slot = st.prev_slot;
				}
				st.hash = fold_hash_step(st.hash, f);
				st.token_len++;
			} else if ((rc = end_token(&st, false)) < 0) {
				goto out;
			}
			if ((rc = seg_char(&st, f)) < 0)
				goto out;
			if (c == '\'' || cp == 0x2019) {
				/* the typewriter and the typographic apostrophe are
				 * the same to a reader */
				rc = pat_puts(&st, "(?:'|\\x{2019})");
			} else if ((unsigned char)c < 0x80) {
				if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				      (c >= '0' && c <= '9')) &&
				    (rc = pat_put(&st, "\\", 1)) < 0)
					goto out;
				rc = pat_put(&st, &c, 1);
			} else {
				rc = pat_put(&st, text + i, n);
			}
			if (rc < 0)
				goto out;
			p->literal_chars++;
			st.word_has_literal = true;
			st.prev_slot = false;
			i += n;
		}
	}
	if ((rc = end_token(&st, false)) < 0 || (rc = seg_end(&st)) < 0)
		goto out;
	if (st.word_has_literal)
		p->literal_words++;
	if (!p->literal_chars) {
		rc = fail(err, out_offset, 0,
			  "trigger has no literal text: slots alone would match anything");
		goto out;
	}
	if ((rc = pat_puts(&st, EDGE_AFTER)) < 0)
		goto out;
	p->specificity = p->literal_chars + AIMS_ROUTER_WORD_WEIGHT * p->literal_words +
			 AIMS_ROUTER_SLOT_WEIGHT * p->slot_terms;
	p->pattern_len = st.pat_len;
	if (build && !(p->pattern = aims_buf_detach(&st.pat)))
		rc = AIMS_ENOMEM;
	if (st.seg_count) {
		p->literal_count = st.seg_count;
		p->literal_bytes = st.segs.len;
		if (!(p->literals = aims_buf_detach(&st.segs)))
			rc = AIMS_ENOMEM;
	}
out:
	aims_buf_free(&st.seg);
	aims_buf_free(&st.segs);
	if (rc == AIMS_ENOMEM || rc == AIMS_ETOOBIG)
		rc = aims_error_set(err, AIMS_ENOMEM, "out of memory compiling a trigger");
	aims_buf_free(&st.pat);
	return rc;
}

/* ---- Patterns: literals every match must contain -------------------------
 *
 * A conservative scan of the pattern's top level (outside any group):
 * runs of literal word characters not made optional by a quantifier. Any
 * construct it does not fully understand ends the current run, and a few
 * make it give up (top-level alternation, extended mode, (*ACCEPT)).
 * Missing a literal only costs speed; claiming a wrong one would lose
 * matches, so when in doubt it claims nothing.
 */

typedef struct literal_scan {
	aims_buf out; /* literals, each NUL-terminated */
	char run[AIMS_ROUTER_MAX_TRIGGER];
	size_t run_len;
	size_t count;
	unsigned chars;
} literal_scan;

static int flush_run(literal_scan *ls)
{
	int rc = 0;

	if (ls->run_len) {
		ls->chars += (unsigned)ls->run_len;
		ls->count++;
		if ((rc = aims_buf_append(&ls->out, ls->run, ls->run_len)) == 0)
			rc = aims_buf_append(&ls->out, "", 1);
	}
	ls->run_len = 0;
	return rc;
}

static size_t skip_to(const char *s, size_t i, size_t len, char close)
{
	while (i < len && s[i] != close)
		i++;
	return i < len ? i + 1 : len;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Skips an escape at s[i] == '\\'; returns the index after it. */
static size_t skip_escape(const char *s, size_t i, size_t len)
{
	char d;

	if (i + 1 >= len)
		return len;
	d = s[i + 1];
	i += 2;
	switch (d) {
	case 'x':
		if (i < len && s[i] == '{')
			return skip_to(s, i, len, '}');
		for (int k = 0; k < 2 && i < len && is_hex(s[i]); k++)
			i++;
		return i;
	case 'o':
	case 'N':
	case 'p':
	case 'P':
	case 'g':
	case 'k':
		if (i < len && s[i] == '{')
			return skip_to(s, i, len, '}');
		if (i < len && s[i] == '<')
			return skip_to(s, i, len, '>');
		if (i < len && s[i] == '\'')
			return skip_to(s, i + 1, len, '\'');
		if ((d == 'p' || d == 'P') && i < len)
			return i + 1;
		if (d == 'g') {
			if (i < len && (s[i] == '-' || s[i] == '+'))
				i++;
			while (i < len && is_digit(s[i]))
				i++;
		}
		return i;
	case 'c': return i < len ? i + 1 : len;
	case 'Q': {
		/* quoted text up to \E: literal, but we do not claim it */
		while (i + 1 < len && !(s[i] == '\\' && s[i + 1] == 'E'))
			i++;
		return i + 1 < len ? i + 2 : len;
	}
	default:
		if (is_digit(d)) {
			for (int k = 0; k < 2 && i < len && is_digit(s[i]); k++)
				i++;
			return i;
		}
		/* a one-letter escape, or an escaped symbol; skip the rest of a
		 * multi-byte character */
		while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80)
			i++;
		return i;
	}
}

/* Skips a character class at s[i] == '['; returns the index after it. */
static size_t skip_class(const char *s, size_t i, size_t len)
{
	i++;
	if (i < len && s[i] == '^')
		i++;
	if (i < len && s[i] == ']')
		i++;
	while (i < len && s[i] != ']') {
		if (s[i] == '\\')
			i = skip_escape(s, i, len);
		else if (s[i] == '[' && i + 1 < len &&
			 (s[i + 1] == ':' || s[i + 1] == '.' || s[i + 1] == '=')) {
			char kind = s[i + 1];

			i += 2;
			while (i + 1 < len && !(s[i] == kind && s[i + 1] == ']'))
				i++;
			i += 2;
		} else {
			i++;
		}
	}
	return i < len ? i + 1 : len;
}

/* Returns 1 when the literals were scanned, 0 when the scan gave up. */
static int scan_literals(literal_scan *ls, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, depth = 0;

	if (memmem(s, len, "(*ACCEPT", 8))
		return 0;
	while (i < len) {
		char c = s[i];

		switch (c) {
		case '\\':
			if (flush_run(ls) < 0)
				return -1;
			i = skip_escape(s, i, len);
			continue;
		case '[':
			if (flush_run(ls) < 0)
				return -1;
			i = skip_class(s, i, len);
			continue;
		case '(':
			if (flush_run(ls) < 0)
				return -1;
			if (i + 2 < len && s[i + 1] == '?' && s[i + 2] == '#') {
				i = skip_to(s, i, len, ')');
				continue;
			}
			if (i + 1 < len && s[i + 1] == '?') {
				/* option letters: extended mode changes what is literal */
				for (size_t j = i + 2; j < len; j++) {
					if (s[j] == 'x')
						return 0;
					if (!((s[j] >= 'a' && s[j] <= 'z') ||
					      (s[j] >= 'A' && s[j] <= 'Z') || s[j] == '-' ||
					      s[j] == '^'))
						break;
				}
			}
			depth++;
			i++;
			continue;
		case ')':
			if (flush_run(ls) < 0)
				return -1;
			if (depth)
				depth--;
			i++;
			continue;
		case '|':
			if (depth == 0)
				return 0;
			i++;
			continue;
		case '?':
		case '*':
		case '{':
			/* the character before may be absent */
			if (depth == 0 && ls->run_len)
				ls->run_len--;
			if (flush_run(ls) < 0)
				return -1;
			if (c == '{') {
				size_t j = i + 1;

				while (j < len && (is_digit(s[j]) || s[j] == ',' || s[j] == ' '))
					j++;
				i = j < len && s[j] == '}' ? j + 1 : i + 1;
				continue;
			}
			i++;
			continue;
		case '+':
			/* repeated: still required, but no longer next to what follows */
			if (flush_run(ls) < 0)
				return -1;
			i++;
			continue;
		default: {
			size_t n;
			char f = fold_at(u + i, len - i, &n);

			if (depth == 0 && f) {
				ls->run[ls->run_len++] = f;
			} else if (flush_run(ls) < 0) {
				return -1;
			}
			i += n;
		}
		}
	}
	if (flush_run(ls) < 0)
		return -1;
	return 1;
}

static int parse_regex(trigger_parse *p, const char *text, size_t len, size_t base,
		       pcre2_compile_context *ccontext, pcre2_code **out_code, size_t *out_offset,
		       aims_error *err)
{
	literal_scan *ls = NULL;
	pcre2_code *code = NULL;
	uint32_t names = 0, captures = 0;
	int rc = 0, scanned;

	if (len == 0) {
		rc = fail(err, out_offset, base, "empty pattern after 're:'");
		goto out;
	}
	if (!(p->pattern = malloc(len + 1))) {
		rc = aims_error_set(err, AIMS_ENOMEM, "out of memory compiling a trigger");
		goto out;
	}
	memcpy(p->pattern, text, len);
	p->pattern[len] = '\0';
	p->pattern_len = len;
	if (!(code = trigger_compile(p, ccontext, false, out_offset, err))) {
		if (out_offset)
			*out_offset += base;
		rc = err && err->code ? err->code : AIMS_EINVALID;
		goto out;
	}
	pcre2_pattern_info(code, PCRE2_INFO_NAMECOUNT, &names);
	pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &captures);
	if (names > AIMS_ROUTER_MAX_SLOTS) {
		rc = fail(err, out_offset, base, "more than %d named groups (slots) in one pattern",
			  AIMS_ROUTER_MAX_SLOTS);
		goto out;
	}
	if (captures > TRIGGER_MAX_CAPTURES) {
		rc = fail(err, out_offset, base, "more than %d capturing groups in one pattern",
			  TRIGGER_MAX_CAPTURES);
		goto out;
	}
	p->slot_terms = names;
	p->captures = captures;
	if (!(ls = calloc(1, sizeof(*ls)))) {
		rc = aims_error_set(err, AIMS_ENOMEM, "out of memory compiling a trigger");
		goto out;
	}
	aims_buf_init(&ls->out, 2 * AIMS_ROUTER_MAX_TRIGGER);
	scanned = scan_literals(ls, text, len);
	if (scanned < 0) {
		rc = aims_error_set(err, AIMS_ENOMEM, "out of memory compiling a trigger");
		goto out;
	}
	if (scanned > 0 && ls->count) {
		p->literal_chars = ls->chars;
		p->literal_count = ls->count;
		p->literal_bytes = ls->out.len;
		p->literals = aims_buf_detach(&ls->out);
		if (!p->literals) {
			rc = aims_error_set(err, AIMS_ENOMEM, "out of memory compiling a trigger");
			goto out;
		}
	}
	p->specificity = 1 + p->literal_chars + AIMS_ROUTER_SLOT_WEIGHT * p->slot_terms;
	if (out_code) {
		*out_code = code;
		code = NULL;
	}
out:
	if (ls)
		aims_buf_free(&ls->out);
	free(ls);
	pcre2_code_free(code);
	return rc;
}

int trigger_parse_text(trigger_parse *out, const char *text, unsigned flags,
		       pcre2_compile_context *ccontext, pcre2_code **out_code, size_t *out_offset,
		       aims_error *err)
{
	bool build = !(flags & TRIGGER_CHECK_ONLY);
	size_t len = strlen(text), bad;
	int rc;

	memset(out, 0, sizeof(*out));
	if (len > AIMS_ROUTER_MAX_TRIGGER)
		return fail(err, out_offset, AIMS_ROUTER_MAX_TRIGGER,
			    "trigger is %zu bytes, over the limit of %d", len,
			    AIMS_ROUTER_MAX_TRIGGER);
	if ((bad = utf8_invalid_offset(text, len)) < len)
		return fail(err, out_offset, bad, "trigger is not valid UTF-8");
	if (strncmp(text, "re:", 3) == 0) {
		size_t start = 3;

		while (start < len && (text[start] == ' ' || text[start] == '\t'))
			start++;
		out->regex = true;
		rc = parse_regex(out, text + start, len - start, start, ccontext, out_code,
				 out_offset, err);
	} else if ((rc = parse_phrase(out, text, len, build, out_offset, err)) == 0 &&
		   out->pattern_len > PHRASE_COMPILE_CHECK) {
		/* A long phrase might outgrow what PCRE2 compiles (64 KiB of
		 * compiled code; 4,096 apostrophes written as a class did).
		 * Short ones cannot, so only long ones pay for a compile. */
		aims_error cerr;
		pcre2_code *code;

		if (!build) {
			trigger_parse_free(out);
			rc = parse_phrase(out, text, len, true, out_offset, err);
		}
		aims_error_clear(&cerr);
		if (rc == 0 && (code = trigger_compile(out, ccontext, false, NULL, &cerr)))
			pcre2_code_free(code);
		else if (rc == 0)
			rc = fail(err, out_offset, 0, "phrase is too large for PCRE2: %s",
				  cerr.message);
	}
	if (rc < 0)
		trigger_parse_free(out);
	return rc;
}

pcre2_code *trigger_compile(const trigger_parse *p, pcre2_compile_context *ccontext, bool jit,
			    size_t *out_offset, aims_error *err)
{
	pcre2_code *code;
	int errcode;
	PCRE2_SIZE erroffset = 0;

	code = pcre2_compile((PCRE2_SPTR)p->pattern, p->pattern_len, TRIGGER_OPTIONS, &errcode,
			     &erroffset, ccontext);
	if (!code) {
		PCRE2_UCHAR message[256];

		if (pcre2_get_error_message(errcode, message, sizeof(message)) < 0)
			snprintf((char *)message, sizeof(message), "PCRE2 error %d", errcode);
		fail(err, out_offset, erroffset, "%s", (const char *)message);
		return NULL;
	}
	/* Without JIT (unsupported here, or out of executable memory) the
	 * interpreter runs the same pattern under the same limits. */
	if (jit)
		(void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
	return code;
}

/* One compile context for every check: created once, then only read. */
static pcre2_compile_context *check_context;
static pthread_once_t check_context_once = PTHREAD_ONCE_INIT;

static void check_context_init(void)
{
	check_context = trigger_compile_context();
}

/*
 * Most triggers are short plain phrases: "run python", "what's new". One
 * of at most PLAIN_MAX ASCII bytes without braces, not a pattern, with a
 * letter or digit in it, cannot fail the check: no slot, not blank, and
 * its pattern stays under PHRASE_COMPILE_CHECK (the widest character, the
 * apostrophe, is written in 14 bytes; the edges take 40). Validation checks
 * 60,000 triggers; these skip the parse. (The unit tests hold the two ways
 * to the same answers.)
 */
#define PLAIN_MAX 64
_Static_assert(PLAIN_MAX * sizeof("(?:'|\\x{2019})") + sizeof(EDGE_BEFORE EDGE_AFTER) <=
		       PHRASE_COMPILE_CHECK,
	       "a plain phrase's pattern stays under the compile check");

static bool plain_phrase(const char *t)
{
	bool alnum = false;
	size_t i = 0;

	if (strncmp(t, "re:", 3) == 0)
		return false;
	for (; t[i] && i <= PLAIN_MAX; i++) {
		unsigned char c = (unsigned char)t[i];

		if (c >= 0x80 || c == '{' || c == '}')
			return false;
		alnum |= (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
	}
	return i <= PLAIN_MAX && alnum;
}

int aims_router_check_trigger(const char *trigger, size_t *out_offset, aims_error *err)
{
	trigger_parse p;
	int rc;

	if (plain_phrase(trigger))
		return 0;

	pthread_once(&check_context_once, check_context_init);
	if (!check_context)
		return aims_error_set(err, AIMS_ENOMEM, "out of memory compiling a trigger");
	/* Like the router when it is built: patterns are compiled, phrases
	 * parsed, and only checked here (long ones compiled): the pattern
	 * written for a phrase compiles, which the tests and the fuzzer hold
	 * us to, and validating 60,000 triggers stays fast. */
	if ((rc = trigger_parse_text(&p, trigger, TRIGGER_CHECK_ONLY, check_context, NULL,
				     out_offset, err)) == 0)
		trigger_parse_free(&p);
	return rc;
}
