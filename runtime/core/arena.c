/*
 * arena.c - bump allocation in chunks; everything is freed at once.
 */
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"

#define CHUNK_DEFAULT 8192

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

void *aims_arena_alloc(aims_arena *arena, size_t size)
{
	const size_t align = alignof(max_align_t);
	aims_arena_chunk *chunk = arena->head;
	size_t offset;
	void *ptr;

	if (size > SIZE_MAX / 2)
		return NULL;
	size = size ? size : 1;
	offset = chunk ? (chunk->used + align - 1) & ~(align - 1) : 0;
	if (!chunk || offset + size > chunk->size) {
		size_t want = size > CHUNK_DEFAULT / 2 ? size : CHUNK_DEFAULT;

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
	memset(ptr, 0, size);
	return ptr;
}

char *aims_arena_strndup(aims_arena *arena, const char *str, size_t len)
{
	char *copy = aims_arena_alloc(arena, len + 1);

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
