/*
 * array.c - growing a plain array by doubling.
 */
#include <stdint.h>
#include <stdlib.h>

#include "aims/core.h"
#include "core/array.h"

int aims_array_reserve(void **items, size_t *cap, size_t count, size_t size)
{
	return aims_array_reserve_n(items, cap, count, 1, size);
}

int aims_array_reserve_n(void **items, size_t *cap, size_t count, size_t more, size_t size)
{
	size_t want;
	void *bigger;

	if (more <= *cap && count <= *cap - more)
		return 0;
	if (count > SIZE_MAX - more)
		return AIMS_ENOMEM;
	for (want = *cap ? *cap * 2 : 16; want < count + more; want *= 2)
		if (want > SIZE_MAX / 2)
			return AIMS_ENOMEM;
	if (want > SIZE_MAX / size)
		return AIMS_ENOMEM;
	if (!(bigger = realloc(*items, want * size)))
		return AIMS_ENOMEM;
	*items = bigger;
	*cap = want;
	return 0;
}
