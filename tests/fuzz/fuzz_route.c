/*
 * fuzz_route.c - fuzzes utterance matching: the first byte picks route
 * flags, the rest is the utterance, routed over the hazard registry of
 * tests/routing by the indexed router and by the naive one. Any crash,
 * sanitizer report, or difference between the two plans is a finding.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aims/json.h"
#include "aims/registry.h"
#include "aims/router.h"

static aims_registry *reg;
static aims_router *indexed, *naive;

/* The registry of tests/routing, found from this file's own path (the
 * build compiles it by absolute path), so the libFuzzer binary and the
 * replay find it from any working directory. */
static void registry_path(char *out, size_t size)
{
	const char *file = __FILE__, *slash = strrchr(file, '/');
	int dir_len = slash ? (int)(slash - file) : 1;

	snprintf(out, size, "%.*s/../routing/registry", dir_len, slash ? file : ".");
}

static void setup(void)
{
	aims_router_options opts = {.no_index = true};
	aims_error err;
	char path[4096];

	registry_path(path, sizeof(path));
	aims_error_clear(&err);
	if (aims_registry_new(&reg, &err) < 0 || aims_registry_add_path(reg, path, &err) < 0 ||
	    aims_router_new(&indexed, reg, NULL, &err) < 0 ||
	    aims_router_new(&naive, reg, &opts, &err) < 0) {
		fprintf(stderr, "fuzz_route: setup: %s\n", err.message);
		abort();
	}
}

static char *plan_text(const aims_plan *plan)
{
	cJSON *json = aims_json_plan(plan, AIMS_JSON_PLAN_EXPLAIN);
	char *text = json ? cJSON_PrintUnformatted(json) : NULL;

	cJSON_Delete(json);
	return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	aims_plan *a = NULL, *b = NULL;
	aims_error ea, eb;
	unsigned flags;
	int ra, rb;

	if (!reg)
		setup();
	if (size == 0)
		return 0;
	flags = data[0] & (AIMS_ROUTE_INCLUDE_INACTIVE | AIMS_ROUTE_ALL_MATCHES);
	aims_error_clear(&ea);
	aims_error_clear(&eb);
	ra = aims_router_route(&a, indexed, (const char *)data + 1, size - 1, flags, &ea);
	rb = aims_router_route(&b, naive, (const char *)data + 1, size - 1, flags, &eb);
	if (ra != rb) {
		fprintf(stderr, "fuzz_route: results differ: %d (%s) vs %d (%s)\n", ra, ea.message,
			rb, eb.message);
		abort();
	}
	if (ra == 0) {
		char *ta = plan_text(a), *tb = plan_text(b);

		/* A pattern that hits a PCRE2 limit is a warning in one plan and
		 * may be skipped by the other's literal check: plans with
		 * warnings may differ, plans without must not. */
		if (!ta || !tb || (!a->warning_count && !b->warning_count && strcmp(ta, tb) != 0)) {
			fprintf(stderr, "fuzz_route: plans differ:\n%s\n%s\n", ta ? ta : "?",
				tb ? tb : "?");
			abort();
		}
		/* spans and slots stay inside the utterance */
		for (size_t i = 0; i < a->candidate_count; i++) {
			const aims_candidate *c = &a->candidates[i];

			if (c->best.end > size - 1 || c->best.start > c->best.end ||
			    c->confidence < 0 || c->confidence > 1)
				abort();
			for (size_t k = 0; k < c->best.slot_count; k++)
				if (c->best.slots[k].end > size - 1)
					abort();
		}
		free(ta);
		free(tb);
	} else if (ra != AIMS_ETOOBIG && ra != AIMS_EINVALID) {
		abort();
	}
	aims_plan_free(a);
	aims_plan_free(b);
	return 0;
}
