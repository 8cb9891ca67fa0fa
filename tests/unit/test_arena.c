/*
 * test_arena.c - the bump allocator: alignment, zeroing, big blocks, and
 * chunks that grow with the arena (thousands of small allocations take a
 * few dozen mallocs).
 */
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "support.h"

static void test_many_small_allocations(void **state)
{
	aims_arena arena;
	const size_t n = 100000;
	unsigned char **blocks = calloc(n, sizeof(*blocks));

	(void)state;
	assert_non_null(blocks);
	aims_arena_init(&arena);
	for (size_t i = 0; i < n; i++) {
		size_t size = 1 + i % 97;

		blocks[i] = aims_arena_alloc(&arena, size);
		assert_non_null(blocks[i]);
		assert_int_equal((uintptr_t)blocks[i] % alignof(max_align_t), 0);
		for (size_t k = 0; k < size; k++)
			assert_int_equal(blocks[i][k], 0); /* zeroed */
		memset(blocks[i], (int)(i & 0xff), size);
	}
	/* Nothing overlaps: every block still holds what was written. */
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < 1 + i % 97; k++)
			assert_int_equal(blocks[i][k], i & 0xff);
	/* About 5 MB: with fixed 8 KiB chunks that was some 600 mallocs. */
	assert_true(arena.used >= 4800000);
	assert_true(aims_arena_chunk_count(&arena) < 60);
	aims_arena_free(&arena);
	assert_int_equal(aims_arena_chunk_count(&arena), 0);
	free(blocks);
}

static void test_strings_and_big_blocks(void **state)
{
	aims_arena arena;
	char *small, *big, *after;

	(void)state;
	aims_arena_init(&arena);
	small = aims_arena_strdup(&arena, "first");
	big = aims_arena_alloc(&arena, 100000); /* its own chunk */
	after = aims_arena_strndup(&arena, "second-and-more", 6);
	assert_non_null(small);
	assert_non_null(big);
	assert_non_null(after);
	assert_string_equal(small, "first");
	assert_string_equal(after, "second");
	/* The small ones share the first chunk: 2 chunks, not 3. */
	assert_int_equal(aims_arena_chunk_count(&arena), 2);
	memset(big, 0xab, 100000);
	assert_string_equal(small, "first");
	assert_string_equal(after, "second");
	aims_arena_free(&arena);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_many_small_allocations),
		cmocka_unit_test(test_strings_and_big_blocks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
