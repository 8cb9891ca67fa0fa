/*
 * array.h - growing a plain array by doubling. Internal to libaims.
 */
#ifndef AIMS_CORE_ARRAY_H
#define AIMS_CORE_ARRAY_H

#include <stddef.h>

/*
 * Makes room for one more item in *items (count used of *cap, each size
 * bytes), doubling the capacity (16 at first) when it is full. Returns 0,
 * or AIMS_ENOMEM leaving the array as it was.
 */
int aims_array_reserve(void **items, size_t *cap, size_t count, size_t size);
/* The same for `more` items: the capacity doubles until they fit. */
int aims_array_reserve_n(void **items, size_t *cap, size_t count, size_t more, size_t size);

#endif
