/*
 * test_yaml_region.c - the allocator libyaml uses (manifest/yaml.c): blocks
 * from a region per thread, the newest one freed in place, a fresh start
 * once nothing is live, malloc for what does not fit, and libyaml really
 * calling it. Under AddressSanitizer, use after free and overflows of its
 * blocks must still be caught.
 */
#include <pthread.h>
#include <signal.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml.h>

#include "aims/manifest.h"
#include "manifest/manifest_int.h"
#include "support.h"

#define REGION (128 * 1024) /* yaml.c's REGION_SIZE */

static void test_blocks_and_fresh_start(void **state)
{
	unsigned char *a, *b, *c, *again;

	(void)state;
	a = manifest_yaml_malloc(10);
	b = manifest_yaml_malloc(100);
	c = manifest_yaml_malloc(0);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_true(manifest_yaml_region_owns(a) && manifest_yaml_region_owns(b) &&
		    manifest_yaml_region_owns(c));
	assert_int_equal((uintptr_t)a % alignof(max_align_t), 0);
	assert_int_equal((uintptr_t)b % alignof(max_align_t), 0);
	assert_true(b >= a + 10 && c >= b + 100); /* no overlap */
	memset(a, 'a', 10);
	memset(b, 'b', 100);

	/* The newest block freed: the next one takes its place. */
	manifest_yaml_free(c);
	again = manifest_yaml_malloc(16);
	assert_ptr_equal(again, c);
	manifest_yaml_free(again);

	/* An older block freed: its memory is not reused while others live. */
	manifest_yaml_free(a);
	again = manifest_yaml_malloc(10);
	assert_ptr_not_equal(again, a);
	for (size_t i = 0; i < 100; i++)
		assert_int_equal(b[i], 'b');
	manifest_yaml_free(again);
	manifest_yaml_free(b);

	/* Nothing live: the region starts over at the first block. */
	again = manifest_yaml_malloc(1);
	assert_ptr_equal(again, a);
	manifest_yaml_free(again);
	manifest_yaml_free(NULL);
}

static void test_realloc_cases(void **state)
{
	char *old, *newest, *grown, *moved, *dup;

	(void)state;
	old = manifest_yaml_malloc(32);
	newest = manifest_yaml_malloc(32);
	memcpy(old, "older block, 31 bytes of text..", 32);
	memcpy(newest, "newest block, 31 bytes of text.", 32);

	/* The newest block grows where it is. */
	grown = manifest_yaml_realloc(newest, 4096);
	assert_ptr_equal(grown, newest);
	assert_string_equal(grown, "newest block, 31 bytes of text.");
	memset(grown + 32, 'x', 4096 - 32);

	/* An older one moves, keeping its bytes, and frees its place. */
	moved = manifest_yaml_realloc(old, 64);
	assert_ptr_not_equal(moved, old);
	assert_true(manifest_yaml_region_owns(moved));
	assert_string_equal(moved, "older block, 31 bytes of text..");
	assert_ptr_equal(manifest_yaml_realloc(moved, 8), moved); /* shrinks in place */

	/* Past the region: to malloc, bytes kept, freed by the same call. */
	grown = manifest_yaml_realloc(grown, 2 * REGION);
	assert_non_null(grown);
	assert_false(manifest_yaml_region_owns(grown));
	assert_string_equal(grown, "newest block, 31 bytes of text.");
	for (size_t i = 32; i < 4096; i++)
		assert_int_equal(grown[i], 'x');
	grown = manifest_yaml_realloc(grown, 3 * REGION); /* realloc proper */
	assert_int_equal(grown[4095], 'x');
	manifest_yaml_free(grown);

	/* As malloc, in the room the shrinking left. */
	dup = manifest_yaml_realloc(NULL, 5);
	assert_true((uintptr_t)dup > (uintptr_t)moved && (uintptr_t)dup < (uintptr_t)moved + 64);
	manifest_yaml_free(dup);
	dup = manifest_yaml_strdup("tag:yaml.org,2002:");
	assert_true(manifest_yaml_region_owns(dup));
	assert_string_equal(dup, "tag:yaml.org,2002:");
	manifest_yaml_free(dup);
	manifest_yaml_free(moved);
}

static void test_full_region_falls_back(void **state)
{
	enum { N = 200 };
	unsigned char *blocks[N], *first;
	size_t owned = 0;

	(void)state;
	first = manifest_yaml_malloc(REGION + 1); /* too big for any region */
	assert_non_null(first);
	assert_false(manifest_yaml_region_owns(first));
	manifest_yaml_free(first);
	for (size_t i = 0; i < N; i++) {
		blocks[i] = manifest_yaml_malloc(1000);
		assert_non_null(blocks[i]);
		memset(blocks[i], (int)i, 1000);
		owned += manifest_yaml_region_owns(blocks[i]);
	}
	assert_true(owned > 100 && owned < N); /* filled, then malloc */
	for (size_t i = 0; i < N; i++)
		for (size_t k = 0; k < 1000; k += 111)
			assert_int_equal(blocks[i][k], (unsigned char)i);
	for (size_t i = 0; i < N; i++)
		manifest_yaml_free(blocks[i]);
	first = manifest_yaml_malloc(1000);
	assert_true(manifest_yaml_region_owns(first));
	assert_ptr_equal(first, blocks[0]);
	manifest_yaml_free(first);
}

/* libyaml's own allocations come from the region, and it frees them all:
 * after a parse the region starts over. */

/* The region's last bytes: a block fits only with its header. */
static void test_region_end(void **state)
{
	unsigned char *big, *b;

	(void)state;
	big = manifest_yaml_malloc(REGION - 48); /* leaves 32 bytes */
	assert_true(manifest_yaml_region_owns(big));
	b = manifest_yaml_malloc(32); /* needs 48 */
	assert_false(manifest_yaml_region_owns(b));
	manifest_yaml_free(b);
	b = manifest_yaml_malloc(16); /* needs 32: the last block */
	assert_true(manifest_yaml_region_owns(b));
	assert_ptr_equal(b + 16, big - 16 + REGION);
	manifest_yaml_free(b);
	manifest_yaml_free(big);
}

static void test_libyaml_allocates_here(void **state)
{
	yaml_parser_t parser;
	yaml_event_t event;
	yaml_event_type_t type;
	void *probe;
	const char *text = "id: x\ntriggers: [run this, \"and that\"]\n";

	(void)state;
	probe = manifest_yaml_malloc(1);
	manifest_yaml_free(probe);
	assert_int_equal(yaml_parser_initialize(&parser), 1);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
#ifdef AIMS_YAML_REGION
	assert_true(manifest_yaml_region_owns(parser.buffer.start));
	assert_true(manifest_yaml_region_owns(parser.tokens.start));
#else
	/* Linked with the shared libyaml: its malloc is glibc's. */
	assert_false(manifest_yaml_region_owns(parser.buffer.start));
#endif
	do {
		assert_int_equal(yaml_parser_parse(&parser, &event), 1);
		type = event.type;
#ifdef AIMS_YAML_REGION
		if (type == YAML_SCALAR_EVENT)
			assert_true(manifest_yaml_region_owns(event.data.scalar.value));
#endif
		yaml_event_delete(&event);
	} while (type != YAML_STREAM_END_EVENT);
	yaml_parser_delete(&parser);
	assert_ptr_equal(manifest_yaml_malloc(1), probe);
	manifest_yaml_free(probe);
}

/* A scalar larger than the region: libyaml's string grows from the region
 * into malloc, and the value comes through whole. */
static void test_large_scalar(void **state)
{
	size_t n = 3 * REGION;
	char *text = malloc(n + 64), *p;
	aims_manifest *m = NULL;
	aims_error err;

	(void)state;
	assert_non_null(text);
	p = text + sprintf(text, "---\nid: big\nname: ");
	memset(p, 'n', n);
	p += n;
	p += sprintf(p, "\n---\n");
	aims_error_clear(&err);
	assert_int_equal(aims_manifest_parse(&m, "big.md", text, (size_t)(p - text), &err), 0);
	assert_string_equal(m->id.str, "big");
	assert_int_equal(strlen(m->name.str), n);
	assert_int_equal(m->name.str[n - 1], 'n');
	aims_manifest_free(m);
	free(text);
}

typedef struct across {
	void *theirs;	 /* a block of the main thread */
	bool owns_mine;	 /* the other thread owns what it allocated */
	bool owns_their; /* and the main thread's block */
} across;

static void *other_thread(void *arg)
{
	across *a = arg;
	void *mine = manifest_yaml_malloc(8);

	a->owns_mine = manifest_yaml_region_owns(mine);
	a->owns_their = manifest_yaml_region_owns(a->theirs);
	manifest_yaml_free(mine);
	return NULL;
}

static void test_threads_have_their_own(void **state)
{
	across a = {manifest_yaml_malloc(8), false, true};
	pthread_t thread;

	(void)state;
	assert_int_equal(pthread_create(&thread, NULL, other_thread, &a), 0);
	assert_int_equal(pthread_join(thread, NULL), 0);
	assert_true(a.owns_mine);
	assert_false(a.owns_their);
	assert_true(manifest_yaml_region_owns(a.theirs));
	manifest_yaml_free(a.theirs);
}

/* Runs f in a child, which must not get to its end. */
static void expect_asan_stop(void (*f)(void))
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 2); /* the report is expected */
		f();
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_false(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void double_free(void)
{
	char *keep = manifest_yaml_malloc(16), *twice = manifest_yaml_malloc(16);

	manifest_yaml_free(twice);
	manifest_yaml_free(twice);
	manifest_yaml_free(keep);
}

static void realloc_after_free(void)
{
	char *keep = manifest_yaml_malloc(16), *gone = manifest_yaml_malloc(16);

	manifest_yaml_free(gone);
	(void)manifest_yaml_realloc(gone, 64);
	manifest_yaml_free(keep);
}

/* Runs f in a child, which must end by abort(). */
static void expect_abort(void (*f)(void))
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		f();
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
}

/* A block freed twice aborts, in every build, as with glibc's malloc. */
static void test_double_free_stops(void **state)
{
	(void)state;
	expect_abort(double_free);
	expect_abort(realloc_after_free);
}

#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif
#ifdef TEST_ASAN
static void use_after_free(void)
{
	char *keep = manifest_yaml_malloc(16), *gone = manifest_yaml_malloc(16);

	memset(gone, 1, 16);
	manifest_yaml_free(gone);
	((volatile char *)gone)[3] = 2;
	manifest_yaml_free(keep);
}

static void overflow(void)
{
	char *a = manifest_yaml_malloc(20), *b = manifest_yaml_malloc(20);

	((volatile char *)a)[20] = 1; /* past a, before b's header */
	manifest_yaml_free(b);
	manifest_yaml_free(a);
}

static void header_overflow(void)
{
	char *a = manifest_yaml_malloc(16), *b = manifest_yaml_malloc(16);

	((volatile char *)a)[16] = 1; /* b's header */
	manifest_yaml_free(b);
	manifest_yaml_free(a);
}

static void overflow_after_shrink(void)
{
	char *a = manifest_yaml_malloc(64), *b = manifest_yaml_malloc(16);

	a = manifest_yaml_realloc(a, 20);
	((volatile char *)a)[40] = 1; /* past the shrunk block */
	manifest_yaml_free(b);
	manifest_yaml_free(a);
}

static void overflow_after_grow(void)
{
	char *a = manifest_yaml_malloc(16);

	a = manifest_yaml_realloc(a, 20);
	((volatile char *)a)[20] = 1;
	manifest_yaml_free(a);
}

static void test_sanitizer_still_sees(void **state)
{
	(void)state;
	expect_asan_stop(use_after_free);
	expect_asan_stop(overflow);
	expect_asan_stop(header_overflow);
	expect_asan_stop(overflow_after_shrink);
	expect_asan_stop(overflow_after_grow);
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blocks_and_fresh_start),
		cmocka_unit_test(test_realloc_cases),
		cmocka_unit_test(test_full_region_falls_back),
		cmocka_unit_test(test_region_end),
		cmocka_unit_test(test_libyaml_allocates_here),
		cmocka_unit_test(test_large_scalar),
		cmocka_unit_test(test_threads_have_their_own),
		cmocka_unit_test(test_double_free_stops),
#ifdef TEST_ASAN
		cmocka_unit_test(test_sanitizer_still_sees),
#endif
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
