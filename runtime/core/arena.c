/*
 * arena.c - bump allocation in chunks; everything is freed at once.
 */
#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aims/core.h"
#include "core/arena.h"

#define CHUNK_DEFAULT 8192
#define CHUNK_MAX     (1024 * 1024)

struct aims_arena_chunk {
	aims_arena_chunk *next;
	size_t size;
	size_t used;
	alignas(max_align_t) unsigned char data[];
};

void aims_arena_init(aims_arena *arena)
{
	arena->head = NULL;
	arena->used = 0;
}

/* Returns size bytes aligned to align (a power of two), zeroed when zero. */
static void *bump(aims_arena *arena, size_t size, size_t align, bool zero)
{
	aims_arena_chunk *chunk = arena->head;
	size_t offset;
	void *ptr;

	if (size > SIZE_MAX / 2)
		return NULL;
	size = size ? size : 1;
	offset = chunk ? (chunk->used + align - 1) & ~(align - 1) : 0;
	if (!chunk || offset + size > chunk->size) {
		/* Chunks grow with the arena (an eighth of it, at most 1 MiB):
		 * an arena of thousands of small things takes a few dozen
		 * mallocs, not thousands. */
		size_t grown = arena->used / 8 > CHUNK_MAX ? CHUNK_MAX : arena->used / 8;
		size_t want = size > CHUNK_DEFAULT / 2 ? size
			      : grown > CHUNK_DEFAULT  ? grown
						       : CHUNK_DEFAULT;

		chunk = malloc(sizeof(*chunk) + want);
		if (!chunk)
			return NULL;
		chunk->size = want;
		chunk->used = 0;
		if (size > CHUNK_DEFAULT / 2 && arena->head) {
			/* A big block gets its own chunk behind the current one,
			 * so the current chunk keeps serving small requests. */
			chunk->next = arena->head->next;
			arena->head->next = chunk;
		} else {
			chunk->next = arena->head;
			arena->head = chunk;
		}
		offset = 0;
	}
	ptr = chunk->data + offset;
	chunk->used = offset + size;
	arena->used += size;
	if (zero)
		memset(ptr, 0, size);
	return ptr;
}

void *aims_arena_alloc(aims_arena *arena, size_t size)
{
	return bump(arena, size, alignof(max_align_t), true);
}

int aims_arena_reserve(aims_arena *arena, size_t size)
{
	aims_arena_chunk *chunk;

	if (arena->head || size <= CHUNK_DEFAULT / 2 || size > SIZE_MAX / 2)
		return 0;
	if (!(chunk = malloc(sizeof(*chunk) + size)))
		return AIMS_ENOMEM;
	chunk->size = size;
	chunk->used = 0;
	chunk->next = NULL;
	arena->head = chunk;
	return 0;
}

char *aims_arena_strndup(aims_arena *arena, const char *str, size_t len)
{
	/* Strings need no alignment and no zeroing. */
	char *copy = bump(arena, len + 1, 1, false);

	if (!copy)
		return NULL;
	memcpy(copy, str, len);
	copy[len] = '\0';
	return copy;
}

char *aims_arena_strdup(aims_arena *arena, const char *str)
{
	return aims_arena_strndup(arena, str, strlen(str));
}

size_t aims_arena_chunk_count(const aims_arena *arena)
{
	size_t n = 0;

	for (const aims_arena_chunk *chunk = arena->head; chunk; chunk = chunk->next)
		n++;
	return n;
}

void aims_arena_free(aims_arena *arena)
{
	aims_arena_chunk *chunk, *next;

	if (!arena)
		return;
	for (chunk = arena->head; chunk; chunk = next) {
		next = chunk->next;
		free(chunk);
	}
	arena->head = NULL;
	arena->used = 0;
}
