/*
 * manifest.h - loading one manifest: a markdown file that starts with YAML
 * front matter (SPEC §2).
 *
 * Loading is lenient: whatever can be used is kept and every problem is
 * recorded on the manifest as a problem with a rule id, a severity and a
 * position (never printed). Validation (validate.h) adds the rules that
 * need more than one file or more than the YAML.
 *
 * A loaded manifest is read-only. Every string and node in it is owned by
 * the manifest and lives until aims_manifest_free().
 */
#ifndef AIMS_MANIFEST_H
#define AIMS_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aims/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Named size limits of the loader. */
#define AIMS_MANIFEST_MAX_FILE	       (8u << 20) /* whole file */
#define AIMS_MANIFEST_MAX_FRONT_MATTER (1u << 20) /* YAML part */
#define AIMS_MANIFEST_MAX_NODES	       100000	  /* YAML nodes, aliases expanded */
#define AIMS_MANIFEST_MAX_DEPTH	       64	  /* YAML nesting */

/* A position in the file: 1-based line and column (column in characters).
 * line 0 means "no position" (the whole file). */
typedef struct aims_pos {
	uint32_t line;
	uint32_t col;
} aims_pos;

typedef enum aims_kind {
	AIMS_KIND_UNKNOWN = 0,
	AIMS_KIND_TASK,
	AIMS_KIND_SKILL,
	AIMS_KIND_HOOK,
	AIMS_KIND_TOOL,
	AIMS_KIND_INTEGRATION, /* seen in real repositories: loaded, warned */
	AIMS_KIND_REFERENCE,   /* likewise */
	AIMS_KIND_COUNT
} aims_kind;

typedef enum aims_status {
	AIMS_STATUS_UNSET = 0, /* no status key: treated as active */
	AIMS_STATUS_ACTIVE,
	AIMS_STATUS_BETA,
	AIMS_STATUS_PLANNED,
	AIMS_STATUS_DISABLED,
	AIMS_STATUS_DEPRECATED,
	AIMS_STATUS_OTHER /* a value outside the enum (kept in status.str) */
} aims_status;

typedef enum aims_priority {
	AIMS_PRIORITY_UNSET = 0, /* treated as medium */
	AIMS_PRIORITY_LOW,
	AIMS_PRIORITY_MEDIUM, /* "normal" is an alias */
	AIMS_PRIORITY_HIGH,
	AIMS_PRIORITY_CRITICAL,
	AIMS_PRIORITY_OTHER
} aims_priority;

typedef enum aims_severity { AIMS_SEVERITY_WARNING = 1, AIMS_SEVERITY_ERROR = 2 } aims_severity;

/* ---- The YAML tree, with positions ---------------------------------- */

typedef enum aims_yaml_type {
	AIMS_YAML_SCALAR = 1,
	AIMS_YAML_SEQUENCE,
	AIMS_YAML_MAPPING
} aims_yaml_type;

typedef struct aims_yaml_node aims_yaml_node;

struct aims_yaml_node {
	/* (Fields ordered to pack into 64 bytes: thousands of manifests hold
	 * millions of nodes.) */
	aims_pos pos; /* where the node starts */
	aims_yaml_type type;
	/* Scalars: whether the value was written plain (unquoted): plain
	 * null/true/false/numbers are not strings. */
	bool plain;
	const char *tag; /* explicit tag or NULL */
	/* Scalars: value (NUL-terminated; may contain NULs before len). */
	const char *value;
	size_t len;
	/* Sequences: count items. Mappings: count pairs, keys[i] -> items[i]. */
	size_t count;
	aims_yaml_node **keys;
	aims_yaml_node **items;
};

/* Returns true when node is a plain scalar that YAML reads as null
 * (empty, "~", "null"). */
bool aims_yaml_is_null(const aims_yaml_node *node);
/* Returns true when node is a scalar YAML reads as a string (not a plain
 * null, bool or number). */
bool aims_yaml_is_string(const aims_yaml_node *node);
/* Returns the value of the first key equal to key in a mapping, or NULL. */
const aims_yaml_node *aims_yaml_get(const aims_yaml_node *map, const char *key);
/* Returns the key node of the first key equal to key in a mapping, or NULL. */
const aims_yaml_node *aims_yaml_get_key(const aims_yaml_node *map, const char *key);
/* Returns "string", "number", "boolean", "null", "list" or "map". */
const char *aims_yaml_type_name(const aims_yaml_node *node);

/* ---- The typed model -------------------------------------------------- */

/* A string field: str is NULL when the key is absent or not a string. */
typedef struct aims_field {
	const char *str;
	aims_pos key_pos; /* position of the key (line 0: absent) */
	aims_pos pos;	  /* position of the value */
} aims_field;

/* A list of strings, with the position of each item. */
typedef struct aims_strlist {
	size_t count;
	const char **items;
	aims_pos *pos;
	aims_pos key_pos;
} aims_strlist;

/* A problem found while loading (or validating). */
typedef struct aims_problem {
	const char *rule; /* stable rule id, e.g. "yaml-syntax" (static) */
	aims_severity severity;
	aims_pos pos;
	const char *message; /* one line, owned by the manifest */
} aims_problem;

typedef struct aims_section {
	const char *title; /* plain text of the H2 heading */
	uint32_t line;	   /* file line of the heading */
	size_t offset;	   /* byte range of the section's markdown in body */
	size_t len;
} aims_section;

typedef struct aims_code_block {
	const char *info;    /* info string ("json", "bash", "" when none) */
	const char *literal; /* the code */
	uint32_t line;	     /* file line of the opening fence */
	uint32_t col;	     /* its column: where the code's lines start too */
} aims_code_block;

typedef struct aims_manifest {
	const char *path; /* as given to the loader */

	/* Front matter: has_front_matter false means "not a manifest" (the
	 * registry skips such files). root is NULL when the YAML did not parse
	 * or was empty. */
	bool has_front_matter;
	const aims_yaml_node *root;
	uint32_t front_matter_line; /* file line of the first YAML line */

	aims_kind kind;
	bool kind_inferred; /* from the file name or directory */
	aims_field type;    /* the raw type value */
	aims_field id;	    /* id.str is set even when inferred */
	bool id_inferred;
	aims_field name;
	aims_field description;
	aims_status status;
	aims_field status_field;
	aims_priority priority;
	aims_field priority_field;
	aims_strlist triggers; /* from `triggers` or singular `trigger` */
	bool singular_trigger;
	aims_field schedule;

	/* execution */
	const aims_yaml_node *execution; /* the mapping, or NULL */
	aims_field exec_target;
	aims_field exec_route;
	aims_field exec_command;
	aims_field exec_method;
	const aims_yaml_node *exec_body; /* mapping or NULL */

	/* dependencies */
	const aims_yaml_node *dependencies;
	aims_strlist dep_env;
	aims_strlist dep_packages;
	aims_strlist dep_files;

	/* tool fields */
	aims_field category;
	aims_field provider;
	aims_field docs_url;
	aims_field mcp_endpoint;
	aims_strlist env_vars;
	aims_strlist aims_files;

	/* body (markdown after the front matter) */
	const char *body;
	size_t body_len;
	uint32_t body_line; /* file line where the body starts */
	const char *title;  /* first H1, or NULL */
	size_t section_count;
	const aims_section *sections;
	size_t code_block_count;
	const aims_code_block *code_blocks;
	size_t table_count;
	bool body_parsed; /* false only under AIMS_MANIFEST_JSON_BLOCKS_ONLY */

	/* problems found while loading, in file order */
	size_t problem_count;
	const aims_problem *problems;
} aims_manifest;

/* Loading flags (aims_manifest_load_flags, aims_registry_set_load_flags). */
enum {
	/* Keep and parse only bodies that may hold a ```json block (the only
	 * part of the body validation reads). Other bodies are dropped: no
	 * text (body NULL), title, sections, code blocks or tables;
	 * body_parsed says which. A kept body is parsed only up to just past
	 * its last ```json block: its code blocks are complete, its title,
	 * sections and tables may stop there. */
	AIMS_MANIFEST_JSON_BLOCKS_ONLY = 1u << 0,
};

/*
 * Loads the manifest at path. On success *out is a new manifest (free with
 * aims_manifest_free) - also when the file has no front matter (then
 * has_front_matter is false) or has problems (see problems). Fails only
 * when the file cannot be read: AIMS_ENOTFOUND, AIMS_EIO, AIMS_ETOOBIG
 * (over AIMS_MANIFEST_MAX_FILE), AIMS_ENOMEM.
 */
int aims_manifest_load(aims_manifest **out, const char *path, aims_error *err);

/*
 * Parses a manifest from memory; path is used for messages and for
 * inference of the type and id. Same results as aims_manifest_load.
 */
int aims_manifest_parse(aims_manifest **out, const char *path, const char *data, size_t len,
			aims_error *err);

/* aims_manifest_load and aims_manifest_parse with loading flags. */
int aims_manifest_load_flags(aims_manifest **out, const char *path, unsigned flags,
			     aims_error *err);
int aims_manifest_parse_flags(aims_manifest **out, const char *path, const char *data, size_t len,
			      unsigned flags, aims_error *err);

/* Frees a manifest and everything it owns. m may be NULL. */
void aims_manifest_free(aims_manifest *m);

/*
 * Records an extra problem on m (used by validation). message is copied.
 * Returns 0 or AIMS_ENOMEM.
 */
int aims_manifest_add_problem(aims_manifest *m, const char *rule, aims_severity severity,
			      aims_pos pos, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Number of problems of the given severity recorded on m. */
size_t aims_manifest_count_problems(const aims_manifest *m, aims_severity severity);

/* Names of enum values ("task", "active", "high"...). Static strings. */
const char *aims_kind_name(aims_kind kind);
const char *aims_status_name(aims_status status);
const char *aims_priority_name(aims_priority priority);
/* Parses a kind name; returns AIMS_KIND_UNKNOWN when not one. */
aims_kind aims_kind_parse(const char *name);
/* Parses a status name; returns AIMS_STATUS_OTHER when not one. */
aims_status aims_status_parse(const char *name);

/* True when a definition with this status is routed by default. */
bool aims_status_routable(aims_status status);

/* Renders the body as HTML with cmark (safe mode: raw HTML is dropped).
 * Returns 0 and a malloc'd string in *out, or AIMS_ENOMEM. */
int aims_manifest_body_html(char **out, const aims_manifest *m, aims_error *err);

/* Renders the body as plain terminal text, wrapped at width columns
 * (0: no wrapping). Same returns as aims_manifest_body_html. */
int aims_manifest_body_text(char **out, const aims_manifest *m, int width, aims_error *err);

#ifdef __cplusplus
}
#endif
#endif
