/*
 * run_routing.c - the data-driven routing cases: utterance -> expected
 * plan, read from a cases file over a test registry.
 *
 * Usage: run_routing REGISTRY_DIR CASES_FILE [MIN_CASES] [--no-jit]
 * (--no-jit: PCRE2's interpreter only, for valgrind)
 *
 * A case is a block of "key: value" lines; blank lines separate cases and
 * '#' starts a comment line. Values that are strings are JSON strings
 * ("..." with JSON escapes). Keys:
 *   utterance: "text"            the utterance (or utterance-hex: 66 6f)
 *   repeat: N                    repeat the utterance N times
 *   flags: include-inactive all  route flags
 *   status: matched|ambiguous|no_match
 *   task: ID | -                 the plan's task
 *   alternatives: ID, ID | -     tasks within the ambiguity margin, in order
 *   hooks: ID, ID | -            in order
 *   skills: ID, ID | -           in order
 *   candidates: ID, ID | -       every candidate, in order
 *   has: ID, ID                  these are candidates
 *   absent: ID, ID               these are not
 *   trigger: ID "text"           ID's best trigger
 *   span: ID START END           byte span of ID's best match
 *   slot: ID NAME "value"        a slot of ID's best match
 *   slots: ID N                  number of slots of ID's best match
 *   confidence: ID X             (within 0.001)
 *   score: ID X                  (within 0.01)
 *   matches: ID N                matching triggers kept for ID
 *   error: too-big | invalid     routing fails with this code
 *   message: "substring"         ... and this in the message
 *   warning: "substring"         some warning of the plan contains this
 *   problem: ID INDEX OFFSET "substring"   a trigger the router skipped
 *                                          (a case may consist of these)
 * Every case is routed twice, by the indexed router and by the naive one
 * (no index, every trigger tried), and the two JSON plans must be equal.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aims/json.h"
#include "aims/registry.h"
#include "aims/router.h"

#define MAX_LINE (1u << 16)

typedef struct kv {
	char key[32];
	char *value;
	int line;
} kv;

static int failures;
static const char *cases_path;

static void fail_case(int line, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail_case(int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: ", cases_path, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	failures++;
}

/* Parses a JSON string at *p; returns a malloc'd copy and advances *p. */
static char *take_string(const char **p)
{
	const char *s = *p, *e;
	cJSON *json;
	char *out = NULL, *text;

	while (*s == ' ')
		s++;
	if (*s != '"')
		return NULL;
	for (e = s + 1; *e && *e != '"'; e++)
		if (*e == '\\' && e[1])
			e++;
	if (*e != '"')
		return NULL;
	if (!(text = strndup(s, (size_t)(e - s + 1))))
		return NULL;
	json = cJSON_Parse(text);
	if (cJSON_IsString(json))
		out = strdup(json->valuestring);
	cJSON_Delete(json);
	free(text);
	*p = e + 1;
	return out;
}

/* Reads the next word (up to a space or comma) at *p into buf. */
static bool take_word(const char **p, char *buf, size_t size)
{
	const char *s = *p;
	size_t n = 0;

	while (*s == ' ' || *s == ',')
		s++;
	while (*s && *s != ' ' && *s != ',' && n + 1 < size)
		buf[n++] = *s++;
	buf[n] = '\0';
	*p = s;
	return n > 0;
}

static const aims_candidate *find(const aims_plan *plan, const char *id)
{
	for (size_t i = 0; i < plan->candidate_count; i++)
		if (strcmp(plan->candidates[i].id, id) == 0)
			return &plan->candidates[i];
	return NULL;
}

/* Compares an ordered id list with "a, b" or "-". */
static void check_list(int line, const char *what, const char *expect,
		       const aims_candidate *const *items, const aims_candidate *array,
		       size_t count)
{
	char got[4096] = "", word[256];
	size_t used = 0;
	const char *p = expect;
	char want[4096] = "";
	size_t wused = 0;

	for (size_t i = 0; i < count; i++) {
		const char *id = items ? items[i]->id : array[i].id;
		int n = snprintf(got + used, sizeof(got) - used, "%s%s", i ? ", " : "", id);

		if (n > 0 && (size_t)n < sizeof(got) - used)
			used += (size_t)n;
	}
	if (strcmp(expect, "-") != 0)
		while (take_word(&p, word, sizeof(word))) {
			int n = snprintf(want + wused, sizeof(want) - wused, "%s%s",
					 wused ? ", " : "", word);

			if (n > 0 && (size_t)n < sizeof(want) - wused)
				wused += (size_t)n;
		}
	if (strcmp(got, want) != 0)
		fail_case(line, "%s: expected [%s], got [%s]", what, want, got);
}

static char *plan_json(const aims_plan *plan)
{
	cJSON *json = aims_json_plan(plan, AIMS_JSON_PLAN_EXPLAIN);
	char *text = json ? cJSON_PrintUnformatted(json) : NULL;

	cJSON_Delete(json);
	return text;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void check_problem(const aims_router *router, const kv *e)
{
	const char *p = e->value;
	char id[128], index[32], offset[32];
	char *sub;
	bool found = false;

	if (!take_word(&p, id, sizeof(id)) || !take_word(&p, index, sizeof(index)) ||
	    !take_word(&p, offset, sizeof(offset)) || !(sub = take_string(&p))) {
		fail_case(e->line, "bad problem line");
		return;
	}
	for (size_t i = 0; i < aims_router_problem_count(router); i++) {
		const aims_router_problem *pr = aims_router_problem_at(router, i);

		if (strcmp(pr->manifest->id.str, id) == 0 &&
		    pr->trigger_index == strtoul(index, NULL, 10)) {
			found = true;
			if (pr->offset != strtoul(offset, NULL, 10))
				fail_case(e->line, "problem %s[%s]: offset %zu, expected %s", id,
					  index, pr->offset, offset);
			if (!strstr(pr->message, sub))
				fail_case(e->line, "problem %s[%s]: message \"%s\" lacks \"%s\"",
					  id, index, pr->message, sub);
		}
	}
	if (!found)
		fail_case(e->line, "no problem recorded for %s trigger %s", id, index);
	free(sub);
}

static void run_case(const aims_router *router, const aims_router *naive, kv *items, size_t n,
		     int first_line)
{
	char *utterance = NULL, *expect_error = NULL, *expect_message = NULL;
	size_t len = 0, repeat = 1;
	unsigned flags = 0;
	aims_plan *plan = NULL, *plan2 = NULL;
	aims_error err, err2;
	int rc, rc2;
	bool routed = false;

	for (size_t i = 0; i < n; i++) {
		const char *p = items[i].value;

		if (strcmp(items[i].key, "utterance") == 0) {
			if (!(utterance = take_string(&p))) {
				fail_case(items[i].line, "bad utterance string");
				goto out;
			}
			len = strlen(utterance);
		} else if (strcmp(items[i].key, "utterance-hex") == 0) {
			utterance = calloc(1, strlen(p) + 1);
			for (len = 0; *p;) {
				while (*p == ' ')
					p++;
				if (hexval(p[0]) < 0 || hexval(p[1]) < 0)
					break;
				utterance[len++] = (char)(hexval(p[0]) * 16 + hexval(p[1]));
				p += 2;
			}
		} else if (strcmp(items[i].key, "repeat") == 0) {
			repeat = strtoul(p, NULL, 10);
		} else if (strcmp(items[i].key, "flags") == 0) {
			if (strstr(p, "include-inactive"))
				flags |= AIMS_ROUTE_INCLUDE_INACTIVE;
			if (strstr(p, "all"))
				flags |= AIMS_ROUTE_ALL_MATCHES;
		} else if (strcmp(items[i].key, "error") == 0) {
			expect_error = items[i].value;
		} else if (strcmp(items[i].key, "message") == 0) {
			expect_message = take_string(&p);
		} else if (strcmp(items[i].key, "problem") == 0) {
			check_problem(router, &items[i]);
		}
	}
	if (!utterance)
		goto out;
	if (repeat > 1) {
		char *big = malloc(len * repeat + 1);

		for (size_t i = 0; i < repeat; i++)
			memcpy(big + i * len, utterance, len);
		big[len * repeat] = '\0';
		free(utterance);
		utterance = big;
		len *= repeat;
	}
	aims_error_clear(&err);
	aims_error_clear(&err2);
	rc = aims_router_route(&plan, router, utterance, len, flags, &err);
	rc2 = aims_router_route(&plan2, naive, utterance, len, flags, &err2);
	if (rc != rc2)
		fail_case(first_line, "index and naive router disagree: %d vs %d", rc, rc2);
	if (expect_error) {
		int want = strcmp(expect_error, "too-big") == 0 ? AIMS_ETOOBIG : AIMS_EINVALID;

		if (rc != want)
			fail_case(first_line, "expected error %s, got %d", expect_error, rc);
		else if (expect_message && !strstr(err.message, expect_message))
			fail_case(first_line, "message \"%s\" lacks \"%s\"", err.message,
				  expect_message);
		goto out;
	}
	if (rc < 0) {
		fail_case(first_line, "routing failed: %s", err.message);
		goto out;
	}
	routed = true;
	{
		char *a = plan_json(plan), *b = plan2 ? plan_json(plan2) : NULL;

		if (!a || !b || strcmp(a, b) != 0)
			fail_case(first_line,
				  "index and naive plans differ:\n  index: %s\n  naive: %s",
				  a ? a : "?", b ? b : "?");
		free(a);
		free(b);
	}
	for (size_t i = 0; i < n; i++) {
		const char *key = items[i].key, *p = items[i].value;
		int line = items[i].line;
		char id[256], word[256];
		const aims_candidate *c = NULL;

		if (strcmp(key, "status") == 0) {
			if (strcmp(p, aims_plan_status_name(plan->status)) != 0)
				fail_case(line, "status: expected %s, got %s", p,
					  aims_plan_status_name(plan->status));
		} else if (strcmp(key, "task") == 0) {
			const char *got = plan->task ? plan->task->id : "-";

			if (strcmp(p, got) != 0)
				fail_case(line, "task: expected %s, got %s", p, got);
		} else if (strcmp(key, "alternatives") == 0) {
			check_list(line, key, p, plan->alternatives, NULL, plan->alternative_count);
		} else if (strcmp(key, "hooks") == 0) {
			check_list(line, key, p, plan->hooks, NULL, plan->hook_count);
		} else if (strcmp(key, "skills") == 0) {
			check_list(line, key, p, plan->skills, NULL, plan->skill_count);
		} else if (strcmp(key, "candidates") == 0) {
			check_list(line, key, p, NULL, plan->candidates, plan->candidate_count);
		} else if (strcmp(key, "has") == 0 || strcmp(key, "absent") == 0) {
			bool want = key[0] == 'h';

			while (take_word(&p, id, sizeof(id)))
				if ((find(plan, id) != NULL) != want)
					fail_case(line, "%s is %sa candidate", id,
						  want ? "not " : "");
		} else if (strcmp(key, "trigger") == 0 || strcmp(key, "span") == 0 ||
			   strcmp(key, "slot") == 0 || strcmp(key, "slots") == 0 ||
			   strcmp(key, "confidence") == 0 || strcmp(key, "score") == 0 ||
			   strcmp(key, "matches") == 0) {
			take_word(&p, id, sizeof(id));
			if (!(c = find(plan, id))) {
				fail_case(line, "%s: %s is not a candidate", key, id);
				continue;
			}
			if (strcmp(key, "trigger") == 0) {
				char *want = take_string(&p);

				if (!want || strcmp(want, c->best.trigger) != 0)
					fail_case(line, "trigger of %s: expected %s, got %s", id,
						  want ? want : "?", c->best.trigger);
				free(want);
			} else if (strcmp(key, "span") == 0) {
				char s2[32];

				take_word(&p, word, sizeof(word));
				take_word(&p, s2, sizeof(s2));
				if (c->best.start != strtoul(word, NULL, 10) ||
				    c->best.end != strtoul(s2, NULL, 10))
					fail_case(line, "span of %s: expected %s-%s, got %zu-%zu",
						  id, word, s2, c->best.start, c->best.end);
			} else if (strcmp(key, "slot") == 0) {
				char *want;
				bool found = false;

				take_word(&p, word, sizeof(word));
				want = take_string(&p);
				for (size_t k = 0; k < c->best.slot_count; k++)
					if (strcmp(c->best.slots[k].name, word) == 0) {
						found = true;
						if (!want ||
						    strcmp(c->best.slots[k].value, want) != 0)
							fail_case(line,
								  "slot %s of %s: expected \"%s\", "
								  "got \"%s\"",
								  word, id, want ? want : "?",
								  c->best.slots[k].value);
					}
				if (!found)
					fail_case(line, "slot %s of %s missing", word, id);
				free(want);
			} else if (strcmp(key, "slots") == 0) {
				if (c->best.slot_count != strtoul(p, NULL, 10))
					fail_case(line, "slots of %s: expected %s, got %zu", id, p,
						  c->best.slot_count);
			} else if (strcmp(key, "matches") == 0) {
				if (c->match_count != strtoul(p, NULL, 10))
					fail_case(line, "matches of %s: expected %s, got %zu", id,
						  p, c->match_count);
			} else {
				double want = strtod(p, NULL);
				double got = key[0] == 'c' ? c->confidence : c->score;
				double tol = key[0] == 'c' ? 0.001 : 0.01;

				if (got < want - tol || got > want + tol)
					fail_case(line, "%s of %s: expected %s, got %.4f", key, id,
						  p, got);
			}
		} else if (strcmp(key, "warning") == 0) {
			char *want = take_string(&p);
			bool found = false;

			for (size_t k = 0; want && k < plan->warning_count; k++)
				found |= strstr(plan->warnings[k], want) != NULL;
			if (!found)
				fail_case(line, "no warning contains \"%s\"", want ? want : "?");
			free(want);
		} else if (strcmp(key, "utterance") != 0 && strcmp(key, "utterance-hex") != 0 &&
			   strcmp(key, "repeat") != 0 && strcmp(key, "flags") != 0 &&
			   strcmp(key, "problem") != 0 && strcmp(key, "error") != 0 &&
			   strcmp(key, "message") != 0) {
			fail_case(line, "unknown key %s", key);
		}
	}
	if (!routed)
		fail_case(first_line, "case did not route");
out:
	free(utterance);
	free(expect_message);
	aims_plan_free(plan);
	aims_plan_free(plan2);
}

int main(int argc, char **argv)
{
	aims_registry *reg = NULL;
	aims_router *router = NULL, *naive = NULL;
	aims_router_options opts = {0}, naive_opts = {.no_index = true};
	aims_error err;
	FILE *f;
	char *line = malloc(MAX_LINE);
	kv items[64];
	size_t n = 0, cases = 0, min_cases = argc > 3 ? strtoul(argv[3], NULL, 10) : 0;
	int lineno = 0, first = 0;

	if (argc < 3 || !line) {
		fprintf(stderr, "usage: run_routing REGISTRY_DIR CASES_FILE [MIN_CASES]\n");
		return 2;
	}
	cases_path = argv[2];
	if (argc > 4 && strcmp(argv[4], "--no-jit") == 0)
		opts.no_jit = naive_opts.no_jit = true;
	aims_error_clear(&err);
	if (aims_registry_new(&reg, &err) < 0 || aims_registry_add_path(reg, argv[1], &err) < 0 ||
	    aims_router_new(&router, reg, &opts, &err) < 0 ||
	    aims_router_new(&naive, reg, &naive_opts, &err) < 0) {
		fprintf(stderr, "setup: %s\n", err.message);
		return 2;
	}
	if (!(f = fopen(cases_path, "r"))) {
		perror(cases_path);
		return 2;
	}
	for (;;) {
		char *got = fgets(line, MAX_LINE, f);
		size_t len = got ? strlen(line) : 0;

		lineno++;
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (got && line[0] == '#')
			continue;
		if (!got || len == 0) {
			if (n) {
				bool has_utterance = false;

				for (size_t i = 0; i < n; i++)
					has_utterance |= strncmp(items[i].key, "utterance", 9) == 0;
				run_case(router, naive, items, n, first);
				cases += has_utterance;
				for (size_t i = 0; i < n; i++)
					free(items[i].value);
				n = 0;
			}
			if (!got)
				break;
			continue;
		}
		{
			char *colon = strchr(line, ':');

			if (!colon || (size_t)(colon - line) >= sizeof(items[0].key) ||
			    n == sizeof(items) / sizeof(items[0])) {
				fail_case(lineno, "expected 'key: value'");
				continue;
			}
			if (!n)
				first = lineno;
			memcpy(items[n].key, line, (size_t)(colon - line));
			items[n].key[colon - line] = '\0';
			colon++;
			while (*colon == ' ')
				colon++;
			items[n].value = strdup(colon);
			items[n].line = lineno;
			n++;
		}
	}
	fclose(f);
	free(line);
	aims_router_free(router);
	aims_router_free(naive);
	aims_registry_free(reg);
	if (cases < min_cases) {
		fprintf(stderr, "%s: only %zu cases, at least %zu expected\n", cases_path, cases,
			min_cases);
		failures++;
	}
	printf("%zu routing cases, %d failures\n", cases, failures);
	return failures ? 1 : 0;
}
