/*
 * manifest_int.h - shared between the files of the manifest subsystem.
 */
#ifndef AIMS_MANIFEST_INT_H
#define AIMS_MANIFEST_INT_H

#include "aims/manifest.h"
#include "core/arena.h"

/* The manifest with what only the subsystem sees. `pub` comes first so a
 * public pointer converts back with a cast. */
typedef struct manifest_impl {
	aims_manifest pub;
	aims_arena arena;
	aims_problem *problems; /* realloc'd: validation appends */
	size_t problem_count;
	size_t problem_cap;
	bool borrowed; /* lives in an arena of its caller's (slim.h) */
} manifest_impl;

static inline manifest_impl *impl_of(const aims_manifest *m)
{
	return (manifest_impl *)(void *)m;
}

/*
 * Parses YAML text into a node tree allocated in arena. line_offset is
 * added to libyaml's 0-based lines (so positions are file lines). On
 * success *out is the root (NULL for an empty document). On a YAML
 * problem returns AIMS_EINVALID with *err_pos and a message in err.
 */
int manifest_yaml_parse(const aims_yaml_node **out, aims_pos *err_pos, aims_arena *arena,
			const char *text, size_t len, uint32_t line_offset, aims_error *err);

/*
 * libyaml's allocator (yaml.c says how it works). libyaml calls these in
 * place of malloc, realloc, free and strdup when its static archive is
 * linked (runtime/CMakeLists.txt); nothing else does.
 * A block must be freed by the thread that allocated it.
 * manifest_yaml_region_owns tells whether a block came from the calling
 * thread's region; manifest_yaml_region_live counts its blocks not freed.
 */
void *manifest_yaml_malloc(size_t size);
void *manifest_yaml_realloc(void *ptr, size_t size);
void manifest_yaml_free(void *ptr);
char *manifest_yaml_strdup(const char *s);
bool manifest_yaml_region_owns(const void *ptr);
size_t manifest_yaml_region_live(void);

/* True when text holds a CR not followed by LF: a line break to libyaml
 * and cmark, not to the LF-counted positions of diagnostics. */
bool manifest_has_lone_cr(const char *text, size_t len);

/* Records a problem; the message is formatted into the arena. */
int manifest_problem(manifest_impl *m, const char *rule, aims_severity severity, aims_pos pos,
		     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
int manifest_vproblem(manifest_impl *m, const char *rule, aims_severity severity, aims_pos pos,
		      const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

/* Parses the markdown body with cmark: title, sections, code blocks.
 * feed: how many bytes of the body cmark reads (body_len: all of it;
 * less, ending with a newline: the code blocks that end before the last
 * line read are the whole body's, and the rest covers only that much).
 * Returns 1, with nothing kept, when a code block reaches the last line
 * read (it may go on after it): parse again with all of it. */
int manifest_body_parse(manifest_impl *m, size_t feed);

#endif
