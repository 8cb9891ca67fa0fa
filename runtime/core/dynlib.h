/*
 * dynlib.h - loading a shared library on first use (internal).
 *
 * libcurl (HTTP client), libmicrohttpd (server) and libcrypto (package
 * layer keys) pull in TLS, Kerberos and LDAP libraries that would make
 * every start of the `aims` command load them, although most commands
 * use none of them. Their one wrapper each resolves the functions it
 * calls from the library here, once, the first time they are needed.
 */
#ifndef AIMS_CORE_DYNLIB_H
#define AIMS_CORE_DYNLIB_H

#include <stdbool.h>
#include <stddef.h>

/* A function to resolve: its name, and where to store its address. */
typedef struct aims_dynsym {
	const char *name;
	void **slot;
} aims_dynsym;

/*
 * Opens the first of names (sonames, e.g. "libcurl.so.4") that loads and
 * resolves every symbol. Returns true when all were found; the library
 * then stays loaded for the life of the process. Thread-safe for distinct
 * calls; callers run it once (pthread_once).
 */
bool aims_dynlib_load(const char *const *names, size_t name_count, const aims_dynsym *syms,
		      size_t sym_count);

/* Declares a function pointer `member` with the type of the function fn
 * (as the library's own header declares it), for a table struct. */
#define AIMS_DYNFN(fn, member) __typeof__(fn) *member

#endif
