/*
 * rules.c - the rule table: every rule id the loader and the validator
 * emit, with its default severity and the text SARIF and the docs show.
 *
 * Ids are stable: tools filter on them and SARIF consumers key on them.
 * New rules are appended (SARIF ruleIndex is the position in this table).
 */
#include <string.h>

#include "aims/validate.h"

#define E AIMS_SEVERITY_ERROR
#define W AIMS_SEVERITY_WARNING

static const aims_validate_rule rules[] = {
	/* ---- Found by the loader (runtime/manifest) ---- */
	{"unclosed-front-matter", E, "The front matter opened with '---' is never closed.",
	 "The first line '---' opens the YAML front matter; a line '---' (or '...') must close "
	 "it. Add the closing line after the last key."},
	{"yaml-syntax", E, "The front matter is not valid YAML.",
	 "libyaml could not parse the front matter; the position is where it gave up. Common "
	 "causes: an unquoted value containing ': ', a tab used for indentation, an unbalanced "
	 "quote. Quote the value or fix the indentation."},
	{"too-big", E, "The front matter is over a size limit.",
	 "The YAML is over 1 MiB, nests deeper than 64 levels, or expands (through aliases) to "
	 "more than 100,000 nodes. Front matter is metadata: move large content to the body."},
	{"not-a-mapping", E, "The front matter is empty or not a mapping of keys to values.",
	 "The YAML between the '---' lines must be a mapping (key: value lines), not a list, a "
	 "lone string or nothing."},
	{"wrong-type", E, "A field has the wrong type.",
	 "Each field has one type: triggers and dependencies lists are lists of strings, "
	 "execution and dependencies are maps, id/name/description are strings. Keys must be "
	 "strings. Write the value in the expected shape."},
	{"duplicate-key", E, "A key appears twice in the same mapping.",
	 "YAML mappings have unique keys; the first occurrence is used and the others are "
	 "ignored. Remove or merge the duplicates."},
	{"missing-id", W, "No id: one is derived from the name or the file name.",
	 "Every definition needs a stable id (a slug such as 'e2b-sandbox'). Without one, the id "
	 "is derived from 'name' or the file name, which changes when they do. Add 'id:'."},
	{"no-id", E, "No id, and none can be derived from the name or the file name.",
	 "The id is derived from 'name' or the file name only when they hold ASCII letters or "
	 "digits; otherwise the definition has nothing to be registered under and never loads. "
	 "Add 'id:' with a slug such as 'e2b-sandbox'."},
	{"inferred-type", W, "No type: inferred from the file name or directory.",
	 "The type was taken from a '.skill.md'-style suffix or a skills/, tools/, hooks/ or "
	 "tasks/ directory. Add 'type:' so the definition does not change kind when moved."},
	{"missing-type", W, "No type, and none can be inferred.",
	 "Add 'type:' with one of task, skill, hook, tool."},
	{"unknown-type", W, "The type is not one of task, skill, hook, tool.",
	 "'integration' and 'reference' (seen in real repositories) are loaded but not routed "
	 "like tasks; other values are replaced by what the file name or directory says. Use "
	 "one of task, skill, hook, tool."},
	{"bad-status", W, "The status is not one of the known values.",
	 "status is one of active, beta, planned, disabled, deprecated. Other values are kept "
	 "but the definition is not routed."},
	{"bad-priority", W, "The priority is not one of the known values.",
	 "priority is one of critical, high, medium (alias normal), low. Other values count as "
	 "medium."},
	{"singular-trigger", W, "'trigger' is used instead of 'triggers'.",
	 "The field is 'triggers', a list of strings. A singular 'trigger:' is accepted (a "
	 "string or a list) but should be renamed."},
	{"unknown-key", W, "A key the runtime does not know.",
	 "Unknown keys are kept (visible in 'aims show --json' and the API) but unused. Check "
	 "the spelling against the manifest reference, or ignore if it is your own metadata."},
	{"read-error", E, "The file cannot be read.",
	 "The file could not be opened or read, or it is over the 8 MiB file limit."},

	/* ---- Found by the validator (runtime/validate) ---- */
	{"missing-name", E, "No name.",
	 "Every definition needs 'name:', a short human-readable name."},
	{"missing-description", E, "No description.",
	 "Every definition needs 'description:', one line saying what it does; agents read it "
	 "to choose."},
	{"duplicate-id", E, "Two definitions of the same type share an id.",
	 "(type, id) must be unique across the search path. The first file loaded wins and the "
	 "others are ignored. Rename one of them."},
	{"trigger-invalid", E, "A trigger cannot compile.",
	 "The router would skip it: an 're:' pattern PCRE2 rejects, a '{' that starts no "
	 "{slot} (write '{{' for a brace), slots alone, an empty trigger. The message gives the "
	 "byte where the problem is; docs/routing.md has the trigger grammar."},
	{"trigger-too-short", W, "A trigger is shorter than 3 characters.",
	 "Very short triggers match far too many requests. Use a phrase of at least 3 "
	 "characters."},
	{"trigger-shared", W, "Two active definitions of the same type share a trigger.",
	 "The same trigger phrase (compared without case and extra spaces) on two active or "
	 "beta definitions of one type makes routing ambiguous. Make one of them more "
	 "specific."},
	{"bad-env-name", E, "An environment variable name is not [A-Z_][A-Z0-9_]*.",
	 "dependencies.env and env_vars list variable names: upper-case letters, digits and "
	 "underscores, not starting with a digit (e.g. E2B_API_KEY). Put values elsewhere."},
	{"docs-url", W, "docs_url is not an http(s) URL.",
	 "docs_url must be an absolute http:// or https:// URL."},
	{"json-block", W, "A ```json code block does not parse.",
	 "Code blocks marked json are read as JSON examples; this one is not valid JSON (the "
	 "position is where parsing stopped). Fix it, or mark the block jsonc, js or text when "
	 "it holds comments or placeholders."},
	{"file-not-found", W, "A listed file does not exist under --root.",
	 "dependencies.files and aims_files name files relative to the project root "
	 "(--root DIR). Fix the path or remove the entry."},
	{"not-a-manifest", W, "A file named explicitly has no front matter.",
	 "A manifest starts with a line '---', then YAML, then '---'. Files without front "
	 "matter are skipped when directories are scanned; naming one explicitly reports it."},
	{"id-not-slug", W, "The id is not a slug [a-z0-9][a-z0-9._-]*.",
	 "Ids are lower-case slugs: letters, digits, '.', '_' and '-', starting with a letter "
	 "or digit. Rename it (e.g. 'My Tool' -> 'my-tool')."},
};

#undef E
#undef W

size_t aims_validate_rule_count(void)
{
	return sizeof(rules) / sizeof(rules[0]);
}

const aims_validate_rule *aims_validate_rule_at(size_t i)
{
	return i < aims_validate_rule_count() ? &rules[i] : NULL;
}

const aims_validate_rule *aims_validate_rule_find(const char *id, size_t *out_index)
{
	for (size_t i = 0; i < aims_validate_rule_count(); i++)
		if (strcmp(rules[i].id, id) == 0) {
			if (out_index)
				*out_index = i;
			return &rules[i];
		}
	return NULL;
}

const char *aims_validate_severity_name(aims_severity severity)
{
	return severity == AIMS_SEVERITY_ERROR ? "error" : "warning";
}
