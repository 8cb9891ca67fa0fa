/*
 * core.h - error codes, the error message carrier, bounded buffers.
 *
 * Every fallible libaims function returns an int: 0 on success, a negative
 * AIMS_E* code on failure, with a one-line message written into the
 * caller's aims_error. The library never prints and never exits. There is
 * no thread-local state: the caller owns the aims_error.
 */
#ifndef AIMS_CORE_H
#define AIMS_CORE_H

#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
	AIMS_OK = 0,
	AIMS_ENOMEM = -1,	/* out of memory */
	AIMS_EINVALID = -2,	/* bad input: manifest, argument, request */
	AIMS_ENOTFOUND = -3,	/* no such file, id, route */
	AIMS_ETOOBIG = -4,	/* a named size limit was crossed */
	AIMS_ETIMEOUT = -5,	/* a time limit was crossed */
	AIMS_EAUTH = -6,	/* authentication refused */
	AIMS_ESANDBOX = -7,	/* the sandbox could not be set up */
	AIMS_EIO = -8,		/* an I/O or system call failed */
	AIMS_EUNSUPPORTED = -9, /* the machine lacks a needed capability */
	AIMS_ECONFLICT = -10,	/* duplicate definition or state conflict */
	AIMS_EUPSTREAM = -11,	/* a remote service failed */
	AIMS_EBUSY = -12,	/* no capacity now: retry later */
	AIMS_ECANCELED = -13,	/* the caller canceled the work */
	AIMS_ENOTREADY = -14,	/* requirements are not met */
	AIMS_EINSTALL = -15,	/* installing packages failed */
};

#define AIMS_ERROR_MESSAGE_MAX 512

/* An error: its code and a one-line, user-readable message. */
typedef struct aims_error {
	int code;
	char message[AIMS_ERROR_MESSAGE_MAX];
} aims_error;

/* Clears err (code 0, empty message). err may be NULL. */
void aims_error_clear(aims_error *err);

/*
 * Records a failure in err and returns code, so a caller can write
 * `return aims_error_set(err, AIMS_EINVALID, "...")`. The first message
 * set wins: a message already recorded is never overwritten, so the place
 * that found the failure names it. err may be NULL.
 */
int aims_error_set(aims_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int aims_error_vset(aims_error *err, int code, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

/* Returns a static, generic description of an AIMS_E* code. */
const char *aims_strerror(int code);

/* Returns the library version string (static). */
const char *aims_version(void);

/*
 * A growable byte buffer with a hard cap (`max`). The content is always
 * NUL-terminated when ptr is not NULL. Appending past the cap fails with
 * AIMS_ETOOBIG and leaves the buffer as it was.
 */
typedef struct aims_buf {
	char *ptr;
	size_t len;
	size_t cap;
	size_t max;
} aims_buf;

/* Initializes an empty buffer that may grow to max bytes. Cannot fail. */
void aims_buf_init(aims_buf *buf, size_t max);
/* Appends len bytes. Returns 0, AIMS_ENOMEM or AIMS_ETOOBIG. */
int aims_buf_append(aims_buf *buf, const void *data, size_t len);
/* Appends a NUL-terminated string. Same returns as aims_buf_append. */
int aims_buf_puts(aims_buf *buf, const char *str);
/* Appends formatted text. Same returns as aims_buf_append. */
int aims_buf_printf(aims_buf *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Empties the buffer, keeping its memory. */
void aims_buf_reset(aims_buf *buf);
/* Returns the content (caller frees with free()) and empties the buffer.
 * Returns an allocated empty string for an empty buffer, NULL on ENOMEM. */
char *aims_buf_detach(aims_buf *buf);
/* Frees the memory. buf may be NULL. */
void aims_buf_free(aims_buf *buf);

/*
 * Reads a whole file into *out (NUL-terminated, caller frees with free()),
 * its length into *out_len. Fails with AIMS_ENOTFOUND, AIMS_EIO, or
 * AIMS_ETOOBIG when the file is larger than max bytes.
 */
int aims_file_read(char **out, size_t *out_len, const char *path, size_t max, aims_error *err);

#ifdef __cplusplus
}
#endif
#endif
