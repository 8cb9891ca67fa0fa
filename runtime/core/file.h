/*
 * file.h - reading a file into a buffer that is used again (aims_file_read,
 * in aims/core.h, is built on it), and telling two paths of one file.
 * Internal to libaims.
 */
#ifndef AIMS_CORE_FILE_H
#define AIMS_CORE_FILE_H

#include <stdbool.h>
#include <stddef.h>

#include "aims/core.h"

/*
 * Reads the file name, relative to the directory dirfd (or AT_FDCWD),
 * into *buf of *cap bytes, which grows (realloc) when the file does not
 * fit, and NUL-terminates it; *len is its length. path names the file in
 * messages. Errors as aims_file_read's; *buf stays the caller's to free,
 * whatever happens. Loading many files with one buffer saves a malloc
 * and a free of each.
 */
int aims_file_read_at(char **buf, size_t *cap, size_t *len, int dirfd, const char *name,
		      const char *path, size_t max, unsigned flags, aims_error *err);

/* flags: refuse what is not a regular file (AIMS_EINVALID), without
 * waiting: a FIFO named as a manifest would block the open for ever. */
#define AIMS_FILE_REGULAR_ONLY 1u

/* Whether paths a and b name the same file or directory (device and
 * inode); false when either cannot be stat'ed. */
bool aims_same_file(const char *a, const char *b);

#endif
