/*
 * buf.c - bounded growable buffers and whole-file reads.
 *
 * Every buffer that grows in libaims has a cap; crossing it is an error
 * the caller sees (AIMS_ETOOBIG), never a silent cut or an unbounded
 * allocation.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aims/core.h"
#include "core/file.h"

void aims_buf_init(aims_buf *buf, size_t max)
{
	buf->ptr = NULL;
	buf->len = 0;
	buf->cap = 0;
	buf->max = max;
}

static int grow(aims_buf *buf, size_t need)
{
	size_t cap;
	char *ptr;

	if (need > buf->max)
		return AIMS_ETOOBIG;
	if (need + 1 <= buf->cap)
		return 0;
	cap = buf->cap ? buf->cap : 64;
	while (cap < need + 1)
		cap = cap > SIZE_MAX / 2 ? need + 1 : cap * 2;
	if (cap > buf->max + 1)
		cap = buf->max + 1;
	ptr = realloc(buf->ptr, cap);
	if (!ptr)
		return AIMS_ENOMEM;
	buf->ptr = ptr;
	buf->cap = cap;
	return 0;
}

int aims_buf_append(aims_buf *buf, const void *data, size_t len)
{
	int rc;

	if (len > buf->max - buf->len)
		return AIMS_ETOOBIG;
	if ((rc = grow(buf, buf->len + len)) < 0)
		return rc;
	if (len)
		memcpy(buf->ptr + buf->len, data, len);
	buf->len += len;
	buf->ptr[buf->len] = '\0';
	return 0;
}

int aims_buf_puts(aims_buf *buf, const char *str)
{
	return aims_buf_append(buf, str, strlen(str));
}

int aims_buf_printf(aims_buf *buf, const char *fmt, ...)
{
	va_list ap;
	int n, rc;
	char small[256];

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return AIMS_EINVALID;
	if ((size_t)n < sizeof(small))
		return aims_buf_append(buf, small, (size_t)n);
	if ((size_t)n > buf->max - buf->len)
		return AIMS_ETOOBIG;
	if ((rc = grow(buf, buf->len + (size_t)n)) < 0)
		return rc;
	va_start(ap, fmt);
	vsnprintf(buf->ptr + buf->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	buf->len += (size_t)n;
	return 0;
}

void aims_buf_reset(aims_buf *buf)
{
	buf->len = 0;
	if (buf->ptr)
		buf->ptr[0] = '\0';
}

char *aims_buf_detach(aims_buf *buf)
{
	char *ptr = buf->ptr;

	if (!ptr)
		ptr = calloc(1, 1);
	buf->ptr = NULL;
	buf->len = 0;
	buf->cap = 0;
	return ptr;
}

void aims_buf_free(aims_buf *buf)
{
	if (!buf)
		return;
	free(buf->ptr);
	buf->ptr = NULL;
	buf->len = 0;
	buf->cap = 0;
}

int aims_file_read_at(char **buf, size_t *cap, size_t *out_len, int dirfd, const char *name,
		      const char *path, size_t max, unsigned flags, aims_error *err)
{
	const bool regular_only = flags & AIMS_FILE_REGULAR_ONLY;
	struct stat st;
	size_t len = 0;
	ssize_t n;
	bool sized;
	int fd, rc = 0;

	/* (O_NONBLOCK: opening a FIFO would wait for a writer.) */
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | (regular_only ? O_NONBLOCK : 0));
	if (fd < 0)
		return aims_error_set(err, errno == ENOENT ? AIMS_ENOTFOUND : AIMS_EIO, "%s: %s",
				      path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		rc = aims_error_set(err, AIMS_EIO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = aims_error_set(err, AIMS_EINVALID, "%s: is a directory", path);
		goto out;
	}
	if (regular_only && !S_ISREG(st.st_mode)) {
		rc = aims_error_set(err, AIMS_EINVALID,
				    "%s: not a regular file (a FIFO, socket or device)", path);
		goto out;
	}
	/* A regular file of size 0 may have content all the same (/proc). */
	sized = S_ISREG(st.st_mode) && st.st_size > 0;
	if (S_ISREG(st.st_mode) && (size_t)st.st_size > max) {
		rc = aims_error_set(err, AIMS_ETOOBIG,
				    "%s: file is %lld bytes, over the limit of %zu", path,
				    (long long)st.st_size, max);
		goto out;
	}
	for (;;) {
		/* A regular file is read as long as it was when opened: no
		 * doubling of the buffer and no extra read to see the end. */
		if (sized && len == (size_t)st.st_size)
			break;
		/* A regular file gets room for all of it at once. */
		if (len + 1 >= *cap || (sized && *cap < (size_t)st.st_size + 1)) {
			size_t want = sized ? (size_t)st.st_size + 1 : *cap ? *cap * 2 : 4096;
			char *bigger;

			if (*cap > max + 1) {
				rc = aims_error_set(err, AIMS_ETOOBIG,
						    "%s: file is over the limit of %zu bytes", path,
						    max);
				goto out;
			}
			if (!(bigger = realloc(*buf, want))) {
				rc = aims_error_set(err, AIMS_ENOMEM, "%s: out of memory", path);
				goto out;
			}
			*buf = bigger;
			*cap = want;
		}
		n = read(fd, *buf + len, *cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = aims_error_set(err, AIMS_EIO, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > max) {
		rc = aims_error_set(err, AIMS_ETOOBIG, "%s: file is over the limit of %zu bytes",
				    path, max);
		goto out;
	}
	if (!*buf) { /* an empty file, nothing read */
		if (!(*buf = malloc(1))) {
			rc = aims_error_set(err, AIMS_ENOMEM, "%s: out of memory", path);
			goto out;
		}
		*cap = 1;
	}
	(*buf)[len] = '\0';
	*out_len = len;
out:
	close(fd);
	return rc;
}

bool aims_same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

int aims_file_read(char **out, size_t *out_len, const char *path, size_t max, aims_error *err)
{
	char *data = NULL;
	size_t cap = 0;
	int rc = aims_file_read_at(&data, &cap, out_len, AT_FDCWD, path, path, max, 0, err);

	if (rc < 0)
		free(data);
	else
		*out = data;
	return rc;
}
