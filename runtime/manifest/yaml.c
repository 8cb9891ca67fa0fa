/*
 * yaml.c - libyaml events to a node tree that keeps line and column for
 * every key and value. The only file (with body.c for cmark) that touches
 * libyaml.
 *
 * Aliases are resolved by sharing the anchored node; the expanded size of
 * the tree (aliases counted as the full subtree they stand for) is capped
 * at AIMS_MANIFEST_MAX_NODES, so "billion laughs" documents fail instead
 * of exploding later in JSON output. An anchor is registered only once its
 * node is complete, so a node can never contain itself.
 */
#include <assert.h>
#include <pthread.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/array.h"
#include "manifest/manifest_int.h"

/* ---- libyaml's allocator ---------------------------------------------- */

/*
 * libyaml makes some 140 small allocations per front matter (its buffers,
 * token queue and stacks, every scalar) and frees them all before
 * manifest_yaml_parse returns; served by malloc they are a fifth of the
 * parse. runtime/CMakeLists.txt links a copy of the static libyaml archive
 * whose malloc, realloc, free and strdup are renamed to the functions
 * below, and each thread serves them from a region it keeps:
 *
 *  - a block is a header holding its size, then the block, both moved
 *    past with one pointer;
 *  - freeing the newest block moves the pointer back, freeing another
 *    only counts it;
 *  - when no block of the region is live, the next one starts at the
 *    beginning again, so each parse reuses the memory of the one before.
 *
 * What does not fit goes to malloc, so a large document costs what it did
 * before. A block is freed by the thread that allocated it: libyaml's
 * objects live within one call of manifest_yaml_parse, which asserts that
 * none is left. A second free aborts. Under AddressSanitizer headers and
 * freed blocks are poisoned, so overflows and use after free (until the
 * memory is reused) seen through the calls ASan intercepts are still
 * caught; under valgrind there is no region.
 */
#define REGION_SIZE (128 * 1024)
#define HEADER	    alignof(max_align_t)

#if defined(__SANITIZE_ADDRESS__)
#define REGION_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define REGION_ASAN 1
#endif
#endif
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif
#ifdef REGION_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n)   ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define POISON(p, n)   ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

typedef struct region {
	unsigned char *next;   /* where the next block's header goes */
	unsigned char *newest; /* the newest block, or NULL */
	size_t live;	       /* blocks allocated here and not freed */
	alignas(max_align_t) unsigned char data[REGION_SIZE];
} region;

static _Thread_local region *thread_region;
static pthread_key_t region_key; /* frees a thread's region when it exits */
static pthread_once_t region_once = PTHREAD_ONCE_INIT;
static int region_key_ok;

static void free_region(void *r)
{
	thread_region = NULL;
	free(r);
}

/* Under valgrind libyaml gets malloc itself: memcheck sees inside no
 * region, and libyaml's archive has no sanitizer of its own. */
static void make_region_key(void)
{
	region_key_ok = !RUNNING_ON_VALGRIND && pthread_key_create(&region_key, free_region) == 0;
}

static region *get_region(void)
{
	region *r;

	if (thread_region)
		return thread_region;
	pthread_once(&region_once, make_region_key);
	if (!region_key_ok || !(r = malloc(sizeof(*r))))
		return NULL;
	if (pthread_setspecific(region_key, r) != 0) {
		free(r);
		return NULL;
	}
	r->next = r->data;
	r->newest = NULL;
	r->live = 0;
	POISON(r->data, REGION_SIZE);
	return thread_region = r;
}

bool manifest_yaml_region_owns(const void *ptr)
{
	const region *r = thread_region;
	uintptr_t p = (uintptr_t)ptr;

	return r && p >= (uintptr_t)r->data && p < (uintptr_t)(r->data + REGION_SIZE);
}

static size_t block_size(const unsigned char *block)
{
	size_t size;

	UNPOISON(block - HEADER, sizeof(size));
	memcpy(&size, block - HEADER, sizeof(size));
	POISON(block - HEADER, sizeof(size));
	return size;
}

static void set_block_size(unsigned char *block, size_t size)
{
	UNPOISON(block - HEADER, sizeof(size));
	memcpy(block - HEADER, &size, sizeof(size));
	POISON(block - HEADER, sizeof(size));
}

static size_t rounded(size_t size)
{
	return size ? (size + HEADER - 1) & ~(HEADER - 1) : HEADER;
}

void *manifest_yaml_malloc(size_t size)
{
	region *r = get_region();
	unsigned char *block;

	if (!r || size > REGION_SIZE - HEADER)
		return malloc(size);
	if (r->live == 0)
		r->next = r->data;
	if ((size_t)(r->data + REGION_SIZE - r->next) < HEADER + rounded(size))
		return malloc(size);
	block = r->next + HEADER;
	set_block_size(block, size);
	UNPOISON(block, size);
	r->next = block + rounded(size);
	r->newest = block;
	r->live++;
	return block;
}

/* A freed block's header says so: a second free or a realloc of it aborts,
 * as glibc's malloc does. */
#define FREED SIZE_MAX

static size_t live_block_size(const unsigned char *block)
{
	size_t size = block_size(block);

	if (size == FREED)
		abort();
	return size;
}

void manifest_yaml_free(void *ptr)
{
	region *r = thread_region;
	unsigned char *block = ptr;

	if (!manifest_yaml_region_owns(ptr)) {
		free(ptr);
		return;
	}
	POISON(block, live_block_size(block));
	set_block_size(block, FREED);
	if (block == r->newest) {
		r->next = block - HEADER;
		r->newest = NULL;
	}
	r->live--;
}

size_t manifest_yaml_region_live(void)
{
	return thread_region ? thread_region->live : 0;
}

void *manifest_yaml_realloc(void *ptr, size_t size)
{
	region *r = thread_region;
	unsigned char *block = ptr, *moved;
	size_t old;

	if (!ptr)
		return manifest_yaml_malloc(size);
	if (!manifest_yaml_region_owns(ptr))
		return realloc(ptr, size);
	old = live_block_size(block);
	if (size <= old || (block == r->newest && size <= REGION_SIZE - HEADER &&
			    rounded(size) <= (size_t)(r->data + REGION_SIZE - block))) {
		POISON(block, old);
		UNPOISON(block, size);
		set_block_size(block, size);
		if (block == r->newest)
			r->next = block + rounded(size);
		return block;
	}
	if (!(moved = manifest_yaml_malloc(size)))
		return NULL;
	memcpy(moved, block, old);
	manifest_yaml_free(block);
	return moved;
}

char *manifest_yaml_strdup(const char *s)
{
	size_t size = strlen(s) + 1;
	char *copy = manifest_yaml_malloc(size);

	return copy ? memcpy(copy, s, size) : NULL;
}

/* ---- Positions -------------------------------------------------------- */

/*
 * Lines are counted as editors, grep and GitHub count them: a line ends
 * at LF (CRLF included). libyaml (YAML 1.1) also ends one at a lone CR,
 * NEL, LS and PS, so after one of those its lines are not the file's. A
 * text that holds one has its positions counted again from the character
 * index of libyaml's marks, with a cursor that only moves forward while
 * the events do.
 */
typedef struct cursor {
	size_t index;	       /* characters before offset */
	size_t offset;	       /* bytes */
	uint32_t line, column; /* 0-based; the column in characters */
} cursor;

/* Moves c to the character index or the byte offset, whichever is first. */
static void advance(cursor *c, const char *text, size_t len, size_t index, size_t offset)
{
	while (c->index < index && c->offset < offset && c->offset < len) {
		unsigned char ch = (unsigned char)text[c->offset];
		size_t width = ch < 0x80	     ? 1
			       : (ch & 0xE0) == 0xC0 ? 2
			       : (ch & 0xF0) == 0xE0 ? 3
			       : (ch & 0xF8) == 0xF0 ? 4
						     : 1;

		c->offset += width < len - c->offset ? width : len - c->offset;
		c->index++;
		if (ch == '\n') {
			c->line++;
			c->column = 0;
		} else {
			c->column++;
		}
	}
}

bool manifest_has_lone_cr(const char *text, size_t len)
{
	const char *end = text + len;

	for (const char *p = text; (p = memchr(p, '\r', (size_t)(end - p))); p++)
		if (p + 1 == end || p[1] != '\n')
			return true;
	return false;
}

/* True when text holds a line break of libyaml's that LF counting does
 * not see: a CR without LF after it, NEL (C2 85), LS (E2 80 A8) or PS
 * (E2 80 A9). */
static bool odd_breaks(const char *text, size_t len)
{
	const char *end = text + len, *p;

	if (manifest_has_lone_cr(text, len))
		return true;
	for (p = text; (p = memchr(p, 0xC2, (size_t)(end - p))); p++)
		if (end - p >= 2 && (unsigned char)p[1] == 0x85)
			return true;
	for (p = text; (p = memchr(p, 0xE2, (size_t)(end - p))); p++)
		if (end - p >= 3 && (unsigned char)p[1] == 0x80 &&
		    ((unsigned char)p[2] == 0xA8 || (unsigned char)p[2] == 0xA9))
			return true;
	return false;
}

/* ---- Events to nodes -------------------------------------------------- */

typedef struct anchor {
	const char *name;
	aims_yaml_node *node;
	size_t size; /* expanded node count */
} anchor;

typedef struct frame {
	aims_yaml_node *node;
	const char *anchor_name;
	size_t size;
	size_t start; /* its children: builder.children[start..] */
} frame;

typedef struct builder {
	aims_arena *arena;
	uint32_t line_offset;
	frame stack[AIMS_MANIFEST_MAX_DEPTH];
	size_t depth;
	anchor *anchors;
	size_t anchor_count;
	size_t anchor_cap;
	size_t total; /* expanded nodes so far */
	aims_yaml_node *root;
	/* The children of every open collection, innermost last: one stack
	 * for the whole document, copied into the arena as nodes close. */
	aims_yaml_node **children;
	size_t child_count, child_cap;
	/* Positions counted again (see below) when recount is set. */
	const char *text;
	size_t len;
	bool recount;
	cursor at;
} builder;

static aims_pos pos_at(const builder *b, uint32_t line, uint32_t column)
{
	aims_pos pos = {line + b->line_offset + 1, column + 1};
	return pos;
}

static aims_pos pos_of(builder *b, yaml_mark_t mark)
{
	if (!b->recount)
		return pos_at(b, (uint32_t)mark.line, (uint32_t)mark.column);
	if (mark.index < b->at.index)
		memset(&b->at, 0, sizeof(b->at));
	advance(&b->at, b->text, b->len, mark.index, SIZE_MAX);
	return pos_at(b, b->at.line, b->at.column);
}

static int add_child(builder *b, aims_yaml_node *child, size_t size)
{
	frame *f;

	if (b->depth == 0) {
		if (!b->root)
			b->root = child;
		return 0;
	}
	f = &b->stack[b->depth - 1];
	if (b->child_count == b->child_cap) {
		size_t cap = b->child_cap ? b->child_cap * 2 : 64;
		aims_yaml_node **children = realloc(b->children, cap * sizeof(*children));

		if (!children)
			return AIMS_ENOMEM;
		b->children = children;
		b->child_cap = cap;
	}
	b->children[b->child_count++] = child;
	f->size += size;
	return 0;
}

static int add_anchor(builder *b, const char *name, aims_yaml_node *node, size_t size)
{
	if (aims_array_reserve((void **)&b->anchors, &b->anchor_cap, b->anchor_count,
			       sizeof(*b->anchors)) < 0)
		return AIMS_ENOMEM;
	b->anchors[b->anchor_count].name = name;
	b->anchors[b->anchor_count].node = node;
	b->anchors[b->anchor_count].size = size;
	b->anchor_count++;
	return 0;
}

static const anchor *find_anchor(const builder *b, const char *name)
{
	/* The latest definition of a name wins (YAML allows redefinition). */
	for (size_t i = b->anchor_count; i > 0; i--)
		if (strcmp(b->anchors[i - 1].name, name) == 0)
			return &b->anchors[i - 1];
	return NULL;
}

static aims_yaml_node *new_node(builder *b, aims_yaml_type type, yaml_mark_t mark,
				const yaml_char_t *tag)
{
	aims_yaml_node *node = aims_arena_alloc(b->arena, sizeof(*node));

	if (!node)
		return NULL;
	node->type = type;
	node->pos = pos_of(b, mark);
	if (tag && !(node->tag = aims_arena_strdup(b->arena, (const char *)tag)))
		return NULL;
	return node;
}

static const char *copy_anchor(builder *b, const yaml_char_t *name)
{
	return name ? aims_arena_strdup(b->arena, (const char *)name) : NULL;
}

static int close_collection(builder *b)
{
	frame *f = &b->stack[b->depth - 1];
	aims_yaml_node *node = f->node;
	size_t size = f->size;
	const char *anchor_name = f->anchor_name;
	/* An empty collection may close before any child was pushed. */
	aims_yaml_node **children = b->children ? b->children + f->start : NULL;
	size_t count = b->child_count - f->start;
	int rc;

	if (node->type == AIMS_YAML_MAPPING) {
		size_t pairs = count / 2;

		node->count = pairs;
		node->keys = aims_arena_alloc(b->arena, (pairs ? pairs : 1) * sizeof(*node->keys));
		node->items =
			aims_arena_alloc(b->arena, (pairs ? pairs : 1) * sizeof(*node->items));
		if (!node->keys || !node->items)
			return AIMS_ENOMEM;
		for (size_t i = 0; i < pairs; i++) {
			node->keys[i] = children[2 * i];
			node->items[i] = children[2 * i + 1];
		}
	} else {
		node->count = count;
		node->items =
			aims_arena_alloc(b->arena, (count ? count : 1) * sizeof(*node->items));
		if (!node->items)
			return AIMS_ENOMEM;
		if (count)
			memcpy(node->items, children, count * sizeof(*node->items));
	}
	b->child_count = f->start;
	b->depth--;
	if (anchor_name && (rc = add_anchor(b, anchor_name, node, size)) < 0)
		return rc;
	return add_child(b, node, size);
}

static int count_nodes(builder *b, size_t n, yaml_mark_t mark, aims_pos *err_pos, aims_error *err)
{
	b->total += n;
	if (b->total > AIMS_MANIFEST_MAX_NODES) {
		*err_pos = pos_of(b, mark);
		return aims_error_set(err, AIMS_ETOOBIG,
				      "YAML expands to more than %u nodes (alias bomb?)",
				      AIMS_MANIFEST_MAX_NODES);
	}
	return 0;
}

static int handle_event(builder *b, yaml_event_t *ev, aims_pos *err_pos, aims_error *err)
{
	aims_yaml_node *node;
	int rc;

	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		if ((rc = count_nodes(b, 1, ev->start_mark, err_pos, err)) < 0)
			return rc;
		/* An escaped "\0" would cut the string where C reads it. */
		if (memchr(ev->data.scalar.value, '\0', ev->data.scalar.length)) {
			*err_pos = pos_of(b, ev->start_mark);
			return aims_error_set(err, AIMS_EINVALID,
					      "YAML: a string holds a NUL character (\\0)");
		}
		node = new_node(b, AIMS_YAML_SCALAR, ev->start_mark, ev->data.scalar.tag);
		if (!node)
			return AIMS_ENOMEM;
		node->value = aims_arena_strndup(b->arena, (const char *)ev->data.scalar.value,
						 ev->data.scalar.length);
		if (!node->value)
			return AIMS_ENOMEM;
		node->len = ev->data.scalar.length;
		node->plain =
			ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !ev->data.scalar.tag;
		if (ev->data.scalar.anchor) {
			const char *name = copy_anchor(b, ev->data.scalar.anchor);

			if (!name || (rc = add_anchor(b, name, node, 1)) < 0)
				return AIMS_ENOMEM;
		}
		return add_child(b, node, 1);

	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT: {
		bool seq = ev->type == YAML_SEQUENCE_START_EVENT;
		const yaml_char_t *tag =
			seq ? ev->data.sequence_start.tag : ev->data.mapping_start.tag;
		const yaml_char_t *anchor_name =
			seq ? ev->data.sequence_start.anchor : ev->data.mapping_start.anchor;
		frame *f;

		if (b->depth == AIMS_MANIFEST_MAX_DEPTH) {
			*err_pos = pos_of(b, ev->start_mark);
			return aims_error_set(err, AIMS_ETOOBIG,
					      "YAML nested deeper than %d levels",
					      AIMS_MANIFEST_MAX_DEPTH);
		}
		if ((rc = count_nodes(b, 1, ev->start_mark, err_pos, err)) < 0)
			return rc;
		node = new_node(b, seq ? AIMS_YAML_SEQUENCE : AIMS_YAML_MAPPING, ev->start_mark,
				tag);
		if (!node)
			return AIMS_ENOMEM;
		f = &b->stack[b->depth++];
		memset(f, 0, sizeof(*f));
		f->node = node;
		f->size = 1;
		f->start = b->child_count;
		if (anchor_name && !(f->anchor_name = copy_anchor(b, anchor_name)))
			return AIMS_ENOMEM;
		return 0;
	}

	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT: return close_collection(b);

	case YAML_ALIAS_EVENT: {
		const anchor *a = find_anchor(b, (const char *)ev->data.alias.anchor);

		if (!a) {
			*err_pos = pos_of(b, ev->start_mark);
			return aims_error_set(
				err, AIMS_EINVALID,
				"YAML alias *%s refers to no anchor defined before it",
				(const char *)ev->data.alias.anchor);
		}
		if ((rc = count_nodes(b, a->size, ev->start_mark, err_pos, err)) < 0)
			return rc;
		return add_child(b, a->node, a->size);
	}

	default: return 0;
	}
}

/* The line and column (0-based, in characters) of byte offset in text. */
int manifest_yaml_parse(const aims_yaml_node **out, aims_pos *err_pos, aims_arena *arena,
			const char *text, size_t len, uint32_t line_offset, aims_error *err)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	builder b;
	int rc = 0, done = 0;
	size_t live = manifest_yaml_region_live();

	(void)live; /* (without assertions) */
	memset(&b, 0, sizeof(b));
	b.arena = arena;
	b.line_offset = line_offset;
	b.text = text;
	b.len = len;
	b.recount = odd_breaks(text, len);
	if (!yaml_parser_initialize(&parser))
		return aims_error_set(err, AIMS_ENOMEM, "out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);

	while (!done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			/* Reader errors (bad UTF-8, control characters) carry
			 * only a byte offset: count to it. */
			if (parser.error == YAML_READER_ERROR) {
				cursor c = {0, 0, 0, 0};

				advance(&c, text, len, SIZE_MAX, parser.problem_offset);
				*err_pos = pos_at(&b, c.line, c.column);
			} else {
				*err_pos = pos_of(&b, parser.problem_mark);
			}
			if (parser.error == YAML_MEMORY_ERROR)
				rc = aims_error_set(err, AIMS_ENOMEM, "out of memory");
			else if (parser.context)
				rc = aims_error_set(err, AIMS_EINVALID, "YAML: %s %s",
						    parser.problem ? parser.problem
								   : "syntax error",
						    parser.context);
			else
				rc = aims_error_set(err, AIMS_EINVALID, "YAML: %s",
						    parser.problem ? parser.problem
								   : "syntax error");
			goto out;
		}
		/* Only the first document counts: front matter holds one. */
		done = ev.type == YAML_STREAM_END_EVENT || ev.type == YAML_DOCUMENT_END_EVENT;
		rc = handle_event(&b, &ev, err_pos, err);
		yaml_event_delete(&ev);
		if (rc < 0) {
			if (rc == AIMS_ENOMEM)
				aims_error_set(err, rc, "out of memory");
			goto out;
		}
	}
	*out = b.root;
out:
	free(b.children);
	free(b.anchors);
	yaml_parser_delete(&parser);
	/* Every block of libyaml's is freed: LeakSanitizer sees none of them
	 * (the region is one allocation), so check here. */
	assert(manifest_yaml_region_live() == live);
	return rc;
}

/* ---- Node helpers (public) -------------------------------------------- */

static bool scalar_is(const aims_yaml_node *node, const char *const *words)
{
	for (; *words; words++)
		if (strcmp(node->value, *words) == 0)
			return true;
	return false;
}

bool aims_yaml_is_null(const aims_yaml_node *node)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};

	/* The length first: every value goes through here. */
	return node && node->type == AIMS_YAML_SCALAR && node->plain &&
	       (node->len == 0 || node->len == 1 || node->len == 4) && scalar_is(node, nulls);
}

static bool is_bool(const aims_yaml_node *node)
{
	static const char *const bools[] = {"true",  "True",  "TRUE", "false",
					    "False", "FALSE", NULL};

	return node->plain && (node->len == 4 || node->len == 5) && scalar_is(node, bools);
}

static bool is_number(const aims_yaml_node *node)
{
	const char *s = node->value;
	char *end;

	if (!node->plain || node->len == 0)
		return false;
	if (strcmp(s, ".inf") == 0 || strcmp(s, "-.inf") == 0 || strcmp(s, ".nan") == 0)
		return true;
	if (strspn(s, "0123456789+-.eExXabcdefABCDEFo_") != node->len)
		return false;
	if (!((s[0] >= '0' && s[0] <= '9') || s[0] == '-' || s[0] == '+' || s[0] == '.'))
		return false;
	strtod(s, &end);
	if (*end == '\0' && end != s)
		return true;
	strtoll(s, &end, 0);
	return *end == '\0' && end != s;
}

bool aims_yaml_is_string(const aims_yaml_node *node)
{
	return node && node->type == AIMS_YAML_SCALAR && !aims_yaml_is_null(node) &&
	       !is_bool(node) && !is_number(node);
}

const char *aims_yaml_type_name(const aims_yaml_node *node)
{
	if (!node || aims_yaml_is_null(node))
		return "null";
	if (node->type == AIMS_YAML_SEQUENCE)
		return "list";
	if (node->type == AIMS_YAML_MAPPING)
		return "map";
	if (is_bool(node))
		return "boolean";
	if (is_number(node))
		return "number";
	return "string";
}

const aims_yaml_node *aims_yaml_get_key(const aims_yaml_node *map, const char *key)
{
	if (!map || map->type != AIMS_YAML_MAPPING)
		return NULL;
	for (size_t i = 0; i < map->count; i++) {
		const aims_yaml_node *k = map->keys[i];

		if (k->type == AIMS_YAML_SCALAR && strcmp(k->value, key) == 0)
			return k;
	}
	return NULL;
}

const aims_yaml_node *aims_yaml_get(const aims_yaml_node *map, const char *key)
{
	if (!map || map->type != AIMS_YAML_MAPPING)
		return NULL;
	for (size_t i = 0; i < map->count; i++) {
		const aims_yaml_node *k = map->keys[i];

		if (k->type == AIMS_YAML_SCALAR && strcmp(k->value, key) == 0)
			return map->items[i];
	}
	return NULL;
}
