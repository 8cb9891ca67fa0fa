/*
 * body.c - the markdown body through cmark: the title (first H1), the H2
 * sections with their byte ranges, fenced code blocks with their info
 * strings, and GFM-style tables (counted: cmark itself has no table
 * extension, so a paragraph whose second line is a delimiter row counts).
 * The only place besides yaml.c that touches a third-party parser.
 */
#include <cmark.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest/manifest_int.h"

/* ---- A scratch allocator for cmark -------------------------------------
 *
 * cmark allocates every node and buffer separately; parsing thousands of
 * bodies (validate, the server's registry) spent a third of its time in
 * malloc and free. The parse tree lives only inside manifest_body_parse,
 * so its memory comes from one arena freed at once. cmark_mem has no
 * context pointer: the arena in use is per thread, set for the duration of
 * one parse. Like cmark's own allocator, running out of memory aborts
 * (cmark does not check). */

#define SCRATCH_MIN_CHUNK (64u * 1024)

typedef struct scratch_chunk scratch_chunk;
struct scratch_chunk {
	scratch_chunk *next;
	size_t size, used;
	max_align_t data[];
};

typedef struct scratch_space {
	scratch_chunk *head;
	void *last; /* the latest block: realloc grows it in place */
} scratch_space;

typedef struct scratch_header {
	size_t size;
	max_align_t data[];
} scratch_header;

static _Thread_local scratch_space *scratch_in_use;

static scratch_header *header_of(void *ptr)
{
	return (scratch_header *)((char *)ptr - offsetof(scratch_header, data));
}

/* A block of count * size bytes, zeroed when zero (calloc) - cmark's
 * buffers grown through realloc need not be. */
static void *scratch_block(size_t count, size_t size, bool zero)
{
	scratch_space *s = scratch_in_use;
	scratch_chunk *c = s->head;
	const size_t align = sizeof(max_align_t);
	size_t need, at;
	scratch_header *h;

	if (size && count > (SIZE_MAX / 4) / size)
		abort();
	need = (sizeof(*h) + count * size + align - 1) & ~(align - 1);
	at = c ? c->used : 0;
	if (!c || at + need > c->size) {
		size_t want = c ? c->size * 2 : SCRATCH_MIN_CHUNK;

		while (want < need)
			want *= 2;
		if (!(c = malloc(sizeof(*c) + want)))
			abort();
		c->size = want;
		c->used = 0;
		c->next = s->head;
		s->head = c;
		at = 0;
	}
	h = (scratch_header *)((char *)c->data + at);
	c->used = at + need;
	if (zero)
		memset(h->data, 0, need - sizeof(*h));
	h->size = need - sizeof(*h);
	s->last = h->data;
	return h->data;
}

static void *scratch_calloc(size_t count, size_t size)
{
	return scratch_block(count, size, true);
}

static void *scratch_realloc(void *ptr, size_t size)
{
	scratch_space *s = scratch_in_use;
	scratch_header *h;
	void *grown;

	if (!ptr)
		return scratch_block(1, size, false);
	h = header_of(ptr);
	if (size <= h->size)
		return ptr;
	if (ptr == s->last) {
		/* The latest block: grow it where it is when the chunk has room. */
		scratch_chunk *c = s->head;
		const size_t align = sizeof(max_align_t);
		size_t start = (size_t)((char *)h - (char *)c->data);
		size_t need = (sizeof(*h) + size + align - 1) & ~(align - 1);

		if (start + need <= c->size) {
			c->used = start + need;
			h->size = need - sizeof(*h);
			return ptr;
		}
	}
	grown = scratch_block(1, size, false);
	memcpy(grown, ptr, h->size);
	return grown;
}

static void scratch_free(void *ptr)
{
	(void)ptr; /* the whole scratch goes at once */
}

static void scratch_release(scratch_space *s)
{
	for (scratch_chunk *c = s->head, *next; c; c = next) {
		next = c->next;
		free(c);
	}
	s->head = NULL;
	s->last = NULL;
}

static cmark_mem scratch_mem = {scratch_calloc, scratch_realloc, scratch_free};

/* Concatenated text of the inline children of node. */
static char *inline_text(aims_arena *arena, cmark_node *node)
{
	cmark_iter *iter = cmark_iter_new(node);
	cmark_event_type ev;
	aims_buf buf;
	char *text = NULL;

	if (!iter)
		return NULL;
	aims_buf_init(&buf, 64 * 1024);
	while ((ev = cmark_iter_next(iter)) != CMARK_EVENT_DONE) {
		cmark_node *cur = cmark_iter_get_node(iter);
		cmark_node_type type = cmark_node_get_type(cur);
		const char *literal;

		if (ev != CMARK_EVENT_ENTER)
			continue;
		if (type == CMARK_NODE_TEXT || type == CMARK_NODE_CODE) {
			literal = cmark_node_get_literal(cur);
			if (literal && aims_buf_puts(&buf, literal) < 0)
				break;
		} else if (type == CMARK_NODE_SOFTBREAK || type == CMARK_NODE_LINEBREAK) {
			if (aims_buf_puts(&buf, " ") < 0)
				break;
		}
	}
	cmark_iter_free(iter);
	text = aims_arena_strndup(arena, buf.ptr ? buf.ptr : "", buf.len);
	aims_buf_free(&buf);
	return text;
}

/* True when the code block starting on body line `line` opens with a
 * fence (cmark 0.30 has no accessor for this; indented blocks have none). */
static bool is_fenced(const char *body, const size_t *line_starts, size_t line_count, int line)
{
	const char *p;

	if (line < 1 || (size_t)line > line_count)
		return false;
	p = body + line_starts[line - 1];
	p += strspn(p, " ");
	/* Inside a list item or quote the fence follows the markers. */
	while (*p == '>' || *p == '-' || *p == '*' || *p == '+' || *p == ' ' ||
	       (*p >= '0' && *p <= '9') || *p == '.' || *p == ')')
		p++;
	return strncmp(p, "```", 3) == 0 || strncmp(p, "~~~", 3) == 0;
}

/* True when the paragraph's source looks like a GFM table: a header row
 * with a '|' and a delimiter row of '-', ':', '|' and blanks. */
static bool looks_like_table(const char *body, const size_t *line_starts, size_t line_count,
			     int first_line)
{
	const char *row, *end;
	size_t idx = (size_t)first_line; /* 1-based line -> index of the next */
	bool has_dash = false, has_pipe = false;

	if (first_line < 1 || idx >= line_count)
		return false;
	row = body + line_starts[idx - 1];
	end = body + line_starts[idx];
	if (!memchr(row, '|', (size_t)(end - row)))
		return false;
	row = end;
	end = idx + 1 < line_count ? body + line_starts[idx + 1] : row + strcspn(row, "\n");
	for (const char *c = row; c < end && *c != '\n' && *c != '\r'; c++) {
		if (*c == '-')
			has_dash = true;
		else if (*c == '|')
			has_pipe = true;
		else if (*c != ':' && *c != ' ' && *c != '\t')
			return false;
	}
	return has_dash && has_pipe;
}

/* Where the line break after from is: LF, or (when lone_cr) a CR not
 * followed by LF, as cmark reads lines. len when there is none. */
static size_t next_break(const char *body, size_t from, size_t len, bool lone_cr)
{
	const char *nl;

	if (!lone_cr) {
		nl = memchr(body + from, '\n', len - from);
		return nl ? (size_t)(nl - body) : len;
	}
	for (size_t i = from; i < len; i++)
		if (body[i] == '\n' || (body[i] == '\r' && (i + 1 == len || body[i + 1] != '\n')))
			return i;
	return len;
}

/* The file line of cmark's line (1-based) of the body. */
static uint32_t file_line(int line, const uint32_t *lf_lines, size_t line_count, uint32_t offset)
{
	if (lf_lines && line >= 1 && (size_t)line <= line_count)
		return lf_lines[line - 1] + 1 + offset;
	return (uint32_t)line + offset;
}

int manifest_body_parse(manifest_impl *impl, size_t feed)
{
	aims_manifest *m = &impl->pub;
	aims_arena *arena = &impl->arena;
	cmark_node *doc = NULL;
	cmark_iter *iter = NULL;
	cmark_event_type ev;
	size_t *line_starts = NULL, line_count = 0, cap = 0;
	aims_section *sections = NULL;
	aims_code_block *blocks = NULL;
	size_t nsections = 0, nblocks = 0, sections_cap = 0, blocks_cap = 0;
	uint32_t offset = m->body_line - 1; /* body line 1 is this file line + 1 */
	cmark_parser *parser = NULL;
	scratch_space scratch = {NULL, NULL};
	int last_line = 0; /* when feed < body_len: the last line read */
	uint32_t *lf_lines = NULL;
	bool lone_cr;
	int rc = 0;

	if (!m->body || m->body_len == 0)
		return 0;
	m->title = NULL; /* (a second call starts over) */
	m->table_count = 0;
	lone_cr = manifest_has_lone_cr(m->body, m->body_len);

	/* Where every body line starts, to turn cmark's lines into ranges:
	 * cmark ends a line at LF, CRLF and a lone CR. Positions count LF
	 * only (yaml.c says why), so with a lone CR in the body lf_lines
	 * holds each line's LF-counted index. */
	cap = 64;
	if (!(line_starts = malloc(cap * sizeof(*line_starts))) ||
	    (lone_cr && !(lf_lines = malloc(cap * sizeof(*lf_lines))))) {
		rc = AIMS_ENOMEM;
		goto out;
	}
	line_starts[line_count] = 0;
	if (lf_lines)
		lf_lines[line_count] = 0;
	line_count++;
	for (size_t i = 0, lf = 0; (i = next_break(m->body, i, m->body_len, lone_cr)) < m->body_len;
	     i++) {
		if (line_count == cap) {
			size_t *bigger = realloc(line_starts, cap * 2 * sizeof(*line_starts));
			uint32_t *more;

			if (!bigger) {
				rc = AIMS_ENOMEM;
				goto out;
			}
			line_starts = bigger;
			if (lf_lines) {
				if (!(more = realloc(lf_lines, cap * 2 * sizeof(*lf_lines)))) {
					rc = AIMS_ENOMEM;
					goto out;
				}
				lf_lines = more;
			}
			cap *= 2;
		}
		lf += m->body[i] == '\n';
		line_starts[line_count] = i + 1;
		if (lf_lines)
			lf_lines[line_count] = (uint32_t)lf;
		line_count++;
		if (feed < m->body_len && i < feed)
			last_line++;
	}

	scratch_in_use = &scratch;
	if (!(parser = cmark_parser_new_with_mem(CMARK_OPT_DEFAULT, &scratch_mem))) {
		rc = AIMS_ENOMEM;
		goto out;
	}
	cmark_parser_feed(parser, m->body, feed);
	if (!(doc = cmark_parser_finish(parser)) || !(iter = cmark_iter_new(doc))) {
		rc = AIMS_ENOMEM;
		goto out;
	}
	while ((ev = cmark_iter_next(iter)) != CMARK_EVENT_DONE) {
		cmark_node *node = cmark_iter_get_node(iter);
		cmark_node_type type = cmark_node_get_type(node);
		int line = cmark_node_get_start_line(node);

		if (ev != CMARK_EVENT_ENTER)
			continue;
		if (type == CMARK_NODE_HEADING && cmark_node_parent(node) == doc) {
			int level = cmark_node_get_heading_level(node);

			if (level == 1 && !m->title) {
				if (!(m->title = inline_text(arena, node))) {
					rc = AIMS_ENOMEM;
					goto out;
				}
			} else if (level == 2) {
				aims_section *s;

				if (nsections == sections_cap) {
					size_t c = sections_cap ? sections_cap * 2 : 8;
					aims_section *bigger =
						realloc(sections, c * sizeof(*bigger));

					if (!bigger) {
						rc = AIMS_ENOMEM;
						goto out;
					}
					sections = bigger;
					sections_cap = c;
				}
				s = &sections[nsections++];
				memset(s, 0, sizeof(*s));
				if (!(s->title = inline_text(arena, node))) {
					rc = AIMS_ENOMEM;
					goto out;
				}
				s->line = file_line(line, lf_lines, line_count, offset);
				s->offset = line >= 1 && (size_t)line <= line_count
						    ? line_starts[line - 1]
						    : 0;
			}
		} else if (type == CMARK_NODE_CODE_BLOCK && last_line &&
			   cmark_node_get_end_line(node) >= last_line) {
			rc = 1; /* it may go on past what was read */
			goto out;
		} else if (type == CMARK_NODE_CODE_BLOCK &&
			   is_fenced(m->body, line_starts, line_count, line)) {
			aims_code_block *b;
			const char *info = cmark_node_get_fence_info(node);
			const char *literal = cmark_node_get_literal(node);

			if (nblocks == blocks_cap) {
				size_t c = blocks_cap ? blocks_cap * 2 : 8;
				aims_code_block *bigger = realloc(blocks, c * sizeof(*bigger));

				if (!bigger) {
					rc = AIMS_ENOMEM;
					goto out;
				}
				blocks = bigger;
				blocks_cap = c;
			}
			b = &blocks[nblocks++];
			b->info = aims_arena_strdup(arena, info ? info : "");
			b->literal = aims_arena_strdup(arena, literal ? literal : "");
			b->line = file_line(line, lf_lines, line_count, offset);
			b->col = (uint32_t)cmark_node_get_start_column(node);
			if (!b->info || !b->literal) {
				rc = AIMS_ENOMEM;
				goto out;
			}
		} else if (type == CMARK_NODE_PARAGRAPH &&
			   looks_like_table(m->body, line_starts, line_count, line)) {
			m->table_count++;
		}
	}

	/* A section runs to the next H2 or the end of the body. */
	for (size_t i = 0; i < nsections; i++) {
		size_t end = i + 1 < nsections ? sections[i + 1].offset : m->body_len;

		sections[i].len = end > sections[i].offset ? end - sections[i].offset : 0;
	}
	if (nsections) {
		aims_section *copy = aims_arena_alloc(arena, nsections * sizeof(*copy));

		if (!copy) {
			rc = AIMS_ENOMEM;
			goto out;
		}
		memcpy(copy, sections, nsections * sizeof(*copy));
		m->sections = copy;
		m->section_count = nsections;
	}
	if (nblocks) {
		aims_code_block *copy = aims_arena_alloc(arena, nblocks * sizeof(*copy));

		if (!copy) {
			rc = AIMS_ENOMEM;
			goto out;
		}
		memcpy(copy, blocks, nblocks * sizeof(*copy));
		m->code_blocks = copy;
		m->code_block_count = nblocks;
	}
out:
	free(sections);
	free(blocks);
	free(line_starts);
	free(lf_lines);
	/* The parser, the tree and the iterators live in the scratch: it
	 * goes at once, without walking the tree. */
	(void)iter;
	(void)doc;
	(void)parser;
	scratch_in_use = NULL;
	scratch_release(&scratch);
	return rc;
}

int aims_manifest_body_html(char **out, const aims_manifest *m, aims_error *err)
{
	cmark_node *doc;
	char *html;

	doc = cmark_parse_document(m->body ? m->body : "", m->body_len, CMARK_OPT_DEFAULT);
	if (!doc)
		return aims_error_set(err, AIMS_ENOMEM, "out of memory");
	html = cmark_render_html(doc, CMARK_OPT_DEFAULT);
	cmark_node_free(doc);
	if (!html)
		return aims_error_set(err, AIMS_ENOMEM, "out of memory");
	*out = html;
	return 0;
}

/* ---- Terminal text ------------------------------------------------------ */

typedef struct text_out {
	aims_buf *buf;
	int width;
	int column;
	const char *prefix; /* indentation of the current block */
	int rc;
} text_out;

static void out_raw(text_out *t, const char *text, size_t len)
{
	if (t->rc == 0)
		t->rc = aims_buf_append(t->buf, text, len);
}

static void out_newline(text_out *t)
{
	out_raw(t, "\n", 1);
	t->column = 0;
}

static void out_prefix(text_out *t)
{
	if (t->column == 0 && t->prefix) {
		out_raw(t, t->prefix, strlen(t->prefix));
		t->column = (int)strlen(t->prefix);
	}
}

/* Appends text word by word, wrapping at the width. */
static void out_words(text_out *t, const char *text)
{
	while (*text) {
		size_t space = strspn(text, " ");
		size_t word = strcspn(text + space, " ");
		int cols = 0;

		for (size_t i = 0; i < word; i++)
			cols += ((unsigned char)text[space + i] & 0xC0) != 0x80;
		if (t->width > 0 && t->column > 0 &&
		    t->column + (space ? 1 : 0) + cols > t->width &&
		    (!t->prefix || t->column > (int)strlen(t->prefix))) {
			out_newline(t);
		} else if (space && t->column > 0 &&
			   (!t->prefix || t->column > (int)strlen(t->prefix))) {
			out_raw(t, " ", 1);
			t->column++;
		}
		out_prefix(t);
		out_raw(t, text + space, word);
		t->column += cols;
		text += space + word;
	}
}

int aims_manifest_body_text(char **out, const aims_manifest *m, int width, aims_error *err)
{
	cmark_node *doc;
	cmark_iter *iter;
	cmark_event_type ev;
	aims_buf buf;
	text_out t = {&buf, width, 0, NULL, 0};
	char prefixes[16][64];
	int depth = 0, list_index[16] = {0};
	bool table = false;

	doc = cmark_parse_document(m->body ? m->body : "", m->body_len, CMARK_OPT_DEFAULT);
	if (!doc || !(iter = cmark_iter_new(doc))) {
		cmark_node_free(doc);
		return aims_error_set(err, AIMS_ENOMEM, "out of memory");
	}
	aims_buf_init(&buf, AIMS_MANIFEST_MAX_FILE * 2);
	while ((ev = cmark_iter_next(iter)) != CMARK_EVENT_DONE && t.rc == 0) {
		cmark_node *node = cmark_iter_get_node(iter);
		cmark_node_type type = cmark_node_get_type(node);
		bool enter = ev == CMARK_EVENT_ENTER;
		const char *literal = cmark_node_get_literal(node);

		switch (type) {
		case CMARK_NODE_HEADING:
		case CMARK_NODE_PARAGRAPH:
			if (enter) {
				if (type == CMARK_NODE_HEADING) {
					int level = cmark_node_get_heading_level(node);

					out_prefix(&t);
					out_raw(&t, "######", (size_t)(level < 6 ? level : 6));
					out_raw(&t, " ", 1);
					t.column += level + 1;
				}
				table = type == CMARK_NODE_PARAGRAPH &&
					cmark_node_first_child(node) &&
					cmark_node_get_literal(cmark_node_first_child(node)) &&
					cmark_node_get_literal(cmark_node_first_child(node))[0] ==
						'|';
			} else {
				out_newline(&t);
				/* Blank line between blocks, except inside tight lists. */
				if (!cmark_node_parent(node) ||
				    cmark_node_get_type(cmark_node_parent(node)) !=
					    CMARK_NODE_ITEM ||
				    !cmark_node_get_list_tight(
					    cmark_node_parent(cmark_node_parent(node))))
					out_newline(&t);
			}
			break;
		case CMARK_NODE_TEXT:
			if (table) {
				out_prefix(&t);
				out_raw(&t, literal, strlen(literal));
				t.column += (int)strlen(literal);
			} else {
				out_words(&t, literal);
			}
			break;
		case CMARK_NODE_CODE: {
			size_t len = strlen(literal);
			char *quoted = malloc(len + 3);

			if (!quoted) {
				t.rc = AIMS_ENOMEM;
				break;
			}
			quoted[0] = '`';
			memcpy(quoted + 1, literal, len);
			quoted[len + 1] = '`';
			quoted[len + 2] = '\0';
			out_words(&t, quoted);
			free(quoted);
			break;
		}
		case CMARK_NODE_SOFTBREAK:
			if (table)
				out_newline(&t);
			else
				out_words(&t, " ");
			break;
		case CMARK_NODE_LINEBREAK: out_newline(&t); break;
		case CMARK_NODE_LINK:
			if (!enter && cmark_node_get_url(node) && *cmark_node_get_url(node)) {
				out_words(&t, " <");
				out_raw(&t, cmark_node_get_url(node),
					strlen(cmark_node_get_url(node)));
				out_raw(&t, ">", 1);
				t.column += (int)strlen(cmark_node_get_url(node)) + 1;
			}
			break;
		case CMARK_NODE_CODE_BLOCK: {
			const char *p = literal;

			while (*p) {
				size_t len = strcspn(p, "\n");

				out_prefix(&t);
				out_raw(&t, "    ", 4);
				out_raw(&t, p, len);
				out_newline(&t);
				p += len + (p[len] == '\n');
			}
			out_newline(&t);
			break;
		}
		case CMARK_NODE_THEMATIC_BREAK:
			out_prefix(&t);
			out_raw(&t, "----------", 10);
			out_newline(&t);
			out_newline(&t);
			break;
		case CMARK_NODE_LIST:
			if (enter && depth < 15)
				list_index[depth + 1] = cmark_node_get_list_start(node);
			else if (!enter && cmark_node_get_list_tight(node) && depth == 0)
				out_newline(&t); /* a tight list still ends its block */
			break;
		case CMARK_NODE_ITEM:
		case CMARK_NODE_BLOCK_QUOTE:
			if (enter && depth < 15) {
				const char *outer = depth ? prefixes[depth - 1] : "";
				cmark_node *list = cmark_node_parent(node);

				int n;

				if (type == CMARK_NODE_BLOCK_QUOTE)
					n = snprintf(prefixes[depth], sizeof(prefixes[depth]),
						     "%s> ", outer);
				else if (list &&
					 cmark_node_get_list_type(list) == CMARK_ORDERED_LIST)
					n = snprintf(prefixes[depth], sizeof(prefixes[depth]),
						     "%s%d. ", outer, list_index[depth + 1]++);
				else
					n = snprintf(prefixes[depth], sizeof(prefixes[depth]),
						     "%s- ", outer);
				if (n < 0 || (size_t)n >= sizeof(prefixes[depth]))
					snprintf(prefixes[depth], sizeof(prefixes[depth]), "%s",
						 outer);
				out_prefix(&t);
				out_raw(&t, prefixes[depth] + strlen(outer),
					strlen(prefixes[depth]) - strlen(outer));
				t.column += (int)(strlen(prefixes[depth]) - strlen(outer));
				/* Continuation lines align under the item text. */
				if (type == CMARK_NODE_ITEM)
					memset(prefixes[depth] + strlen(outer), ' ',
					       strlen(prefixes[depth]) - strlen(outer));
				t.prefix = prefixes[depth];
				depth++;
			} else if (!enter && depth > 0) {
				depth--;
				t.prefix = depth ? prefixes[depth - 1] : NULL;
			}
			break;
		case CMARK_NODE_HTML_BLOCK:
		case CMARK_NODE_HTML_INLINE: break; /* raw HTML is not shown */
		default: break;
		}
	}
	cmark_iter_free(iter);
	cmark_node_free(doc);
	if (t.rc < 0) {
		aims_buf_free(&buf);
		return aims_error_set(err, t.rc, "rendering the body: %s", aims_strerror(t.rc));
	}
	/* Trim trailing blank lines to one newline. */
	while (buf.len > 1 && buf.ptr[buf.len - 1] == '\n' && buf.ptr[buf.len - 2] == '\n')
		buf.ptr[--buf.len] = '\0';
	*out = aims_buf_detach(&buf);
	return *out ? 0 : aims_error_set(err, AIMS_ENOMEM, "out of memory");
}
