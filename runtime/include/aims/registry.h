/*
 * registry.h - every manifest found on a search path, with lookups.
 *
 * Directories are scanned recursively in byte order of their names, so the
 * same tree always loads in the same order. Files without front matter are
 * skipped. When two manifests share (kind, id), the first loaded wins and
 * the others are recorded as conflicts (still reachable for validation).
 */
#ifndef AIMS_REGISTRY_H
#define AIMS_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>

#include "aims/core.h"
#include "aims/manifest.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AIMS_REGISTRY_MAX_DEPTH 32 /* directory nesting followed */

typedef struct aims_registry aims_registry;

/* A duplicate (kind, id): `loser` was not registered because `winner` was
 * loaded first. Both are borrowed from the registry. */
typedef struct aims_conflict {
	const aims_manifest *winner;
	const aims_manifest *loser;
} aims_conflict;

/* Creates an empty registry. Returns 0 or AIMS_ENOMEM. */
int aims_registry_new(aims_registry **out, aims_error *err);

/* Frees the registry and every manifest in it. reg may be NULL. */
void aims_registry_free(aims_registry *reg);

/*
 * Loads path: a manifest file, or a directory scanned recursively (hidden
 * entries skipped, only *.md files). A file named explicitly is loaded even
 * without front matter, so validation can report it; in a directory such
 * files are skipped. Files are parsed on several threads; the result does
 * not depend on their number. Fails with AIMS_ENOTFOUND when path does not
 * exist, AIMS_EIO when a directory cannot be read, AIMS_ENOMEM. A file
 * that cannot be read is recorded as a manifest with a "read-error"
 * problem, not returned as a failure.
 */
int aims_registry_add_path(aims_registry *reg, const char *path, aims_error *err);

/*
 * Loads the default search path: the AIMS_SKILLS_PATH variable
 * (colon-separated) when set, else ./skills and ./tools when they exist,
 * then the installed data directory when it exists. Entries named in
 * AIMS_SKILLS_PATH must exist.
 */
int aims_registry_add_default(aims_registry *reg, aims_error *err);

/* Sets the number of loader threads (0: one per CPU, at most 8). */
void aims_registry_set_threads(aims_registry *reg, unsigned threads);

/* Sets the AIMS_MANIFEST_* loading flags used for the files loaded next
 * (default 0: everything parsed). */
void aims_registry_set_load_flags(aims_registry *reg, unsigned flags);

/*
 * Called for each manifest file aims_registry_add_path loads, on the
 * thread that loaded it (worker: that thread's number, below
 * AIMS_REGISTRY_MAX_THREADS; the calls of one worker never overlap),
 * before the registry takes it. Returns the manifest the registry keeps
 * in its place: m itself, or a replacement (m is then the hook's to
 * free); NULL when out of memory. *tag (0 on entry) is the hook's to set:
 * the registry keeps it with the file (aims_registry_file_tag). Files
 * found in a directory that are not manifests (no front matter, no
 * problem) never reach the hook; a file named on its own always does.
 *
 * Validation uses the hook to check each file while it is in the cache,
 * keep only what the rules across files read (aims_manifest_slim), and
 * find its own record of the file again by the tag.
 */
#define AIMS_REGISTRY_MAX_THREADS 8 /* loading threads at most */

typedef aims_manifest *(*aims_registry_load_hook)(void *ctx, unsigned worker, aims_manifest *m,
						  uint64_t *tag);
void aims_registry_set_load_hook(aims_registry *reg, aims_registry_load_hook hook, void *ctx);

/* Number of registered (winning) manifests, in load order. */
size_t aims_registry_count(const aims_registry *reg);
/* The i-th registered manifest (borrowed), or NULL past the end. */
const aims_manifest *aims_registry_at(const aims_registry *reg, size_t i);

/* Every file loaded, including non-manifests named explicitly and
 * conflicting duplicates (borrowed), in load order. */
size_t aims_registry_file_count(const aims_registry *reg);
const aims_manifest *aims_registry_file_at(const aims_registry *reg, size_t i);
/* The tag the load hook gave the i-th file (0: none, or past the end). */
uint64_t aims_registry_file_tag(const aims_registry *reg, size_t i);

/* Duplicates found so far (borrowed). */
size_t aims_registry_conflict_count(const aims_registry *reg);
const aims_conflict *aims_registry_conflict_at(const aims_registry *reg, size_t i);

/* The manifest with this kind and id, or NULL (borrowed). */
const aims_manifest *aims_registry_find(const aims_registry *reg, aims_kind kind, const char *id);
/* The first manifest with this id, of any kind, in the order task, skill,
 * hook, tool, integration, reference; NULL when none (borrowed). */
const aims_manifest *aims_registry_find_id(const aims_registry *reg, const char *id);

#ifdef __cplusplus
}
#endif
#endif
