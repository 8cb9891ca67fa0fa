/*
 * array.c - growing a plain array by doubling.
 */
#include <stdint.h>
#include <stdlib.h>

#include "aims/core.h"
#include "core/array.h"

int aims_array_reserve(void **items, size_t *cap, size_t count, size_t size)
{
	size_t want;
	void *bigger;

	if (count < *cap)
		return 0;
	want = *cap ? *cap * 2 : 16;
	if (want > SIZE_MAX / size)
		return AIMS_ENOMEM;
	if (!(bigger = realloc(*items, want * size)))
		return AIMS_ENOMEM;
	*items = bigger;
	*cap = want;
	return 0;
}
