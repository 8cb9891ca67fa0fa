/*
 * slim.h - slim copies of manifests, for validation. Internal to libaims.
 */
#ifndef AIMS_MANIFEST_SLIM_H
#define AIMS_MANIFEST_SLIM_H

#include "aims/manifest.h"
#include "core/arena.h"

/*
 * A copy of what identifies m and routes to it, allocated in arena: path,
 * has_front_matter, front_matter_line, body_line, kind (and
 * kind_inferred), type, id (and id_inferred), name, status, priority,
 * triggers (and singular_trigger). No YAML tree (root and the other node
 * pointers are NULL), body, dependencies, tool fields or problems: a few
 * hundred bytes where m takes several kilobytes. Validation keeps this of
 * each file for the rules across files, all of one loading thread in one
 * arena, so the memory of the full manifests is reused file after file.
 * The copy lives as long as arena; aims_manifest_free on it frees
 * nothing. NULL when out of memory; m is untouched.
 */
aims_manifest *aims_manifest_slim(const aims_manifest *m, aims_arena *arena);

#endif
