/*
 * arena.h - a bump allocator for objects that live and die together (one
 * manifest's YAML tree and strings). Internal to libaims.
 */
#ifndef AIMS_CORE_ARENA_H
#define AIMS_CORE_ARENA_H

#include <stddef.h>

typedef struct aims_arena_chunk aims_arena_chunk;

typedef struct aims_arena {
	aims_arena_chunk *head;
	size_t used; /* bytes handed out, for accounting */
} aims_arena;

/* Initializes an empty arena. Cannot fail. */
void aims_arena_init(aims_arena *arena);
/* Returns size bytes of zeroed, max-aligned memory, or NULL on ENOMEM. */
void *aims_arena_alloc(aims_arena *arena, size_t size);
/* When the arena is still empty, makes its first chunk size bytes, so an
 * object whose size is known in advance takes one block of about that
 * size instead of fixed chunks (less memory touched). Returns 0 or
 * AIMS_ENOMEM; does nothing for small sizes or a used arena. */
int aims_arena_reserve(aims_arena *arena, size_t size);
/* Returns a NUL-terminated copy of len bytes of str, or NULL on ENOMEM. */
char *aims_arena_strndup(aims_arena *arena, const char *str, size_t len);
/* Returns a copy of str, or NULL on ENOMEM. */
char *aims_arena_strdup(aims_arena *arena, const char *str);
/* The number of chunks (mallocs) the arena holds, for accounting. */
size_t aims_arena_chunk_count(const aims_arena *arena);
/* Frees every allocation at once. arena may be NULL. */
void aims_arena_free(aims_arena *arena);

#endif
