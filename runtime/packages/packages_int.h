/*
 * packages_int.h - shared by the files of the packages subsystem: the plan
 * of a layer and its key (key.c, the only user of libcrypto), the install
 * step (install.c) and the cache (cache.c).
 */
#ifndef AIMS_PACKAGES_INT_H
#define AIMS_PACKAGES_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aims/packages.h"

/* Where the packages come from. */
typedef enum {
	SOURCE_MACHINE = 0, /* the package manager's own configuration */
	SOURCE_URL,	    /* AIMS_PIP_INDEX_URL / AIMS_NPM_REGISTRY as a URL */
	SOURCE_DIR	    /* a local directory (wheels, tarballs, .debs) */
} source_kind;

/* Everything that decides a layer's content, and its key. */
typedef struct packages_plan {
	aims_language lang;
	char **names; /* normalized, sorted, unique */
	size_t count;
	source_kind source;
	char source_value[PATH_MAX]; /* the URL, or the directory's real path */
	char key[AIMS_PACKAGES_KEY_LEN + 1];
} packages_plan;

/* The machine-wide configuration files each package manager reads itself;
 * mounted read-only into the install sandbox when they exist. */
extern const char *const packages_pip_config[];
extern const char *const packages_npm_config[];
extern const char *const packages_apt_config[];

/* Builds the plan of (lang, packages) from the environment and computes
 * its key. Fails with AIMS_EINVALID (a bad override), AIMS_ENOMEM or
 * AIMS_EIO. */
int packages_plan_make(packages_plan *plan, aims_language lang, const char *const *packages,
		       size_t count, aims_error *err);
void packages_plan_free(packages_plan *plan);

/* The time limit of one install (AIMS_INSTALL_TIMEOUT_MS or the default). */
uint32_t packages_install_timeout(void);

/* Installs the plan's packages into layer (a host directory the sandbox
 * user can write) with scratch (a host directory of the caller) for
 * downloads, within timeout_ms. Writes the layer's environment entries
 * ("NAME=VALUE\n" lines) into *env_out (caller frees). Errors as
 * aims_packages_acquire. */
int packages_install(char **env_out, const packages_plan *plan, const char *layer,
		     const char *scratch, uint32_t timeout_ms, int cancel_fd, aims_error *err);

#endif
