/*
 * fuzz_trigger.c - fuzzes trigger compilation. The input is
 * "TRIGGER\nUTTERANCE". The trigger is checked the way validation does;
 * an invalid one must give a message and an offset inside the trigger.
 * A valid one is written into a manifest, loaded, and the utterance is
 * routed by the indexed and the naive router, which must agree.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aims/json.h"
#include "aims/registry.h"
#include "aims/router.h"

#define MAX_TRIGGER_INPUT 4096

static char dir[] = "/tmp/aims-fuzz-trigger-XXXXXX";
static char path[sizeof(dir) + 32];

static void cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

/* Writes the trigger as a YAML double-quoted string. */
static int write_manifest(const char *trigger)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fputs("---\nid: fuzzed\nname: fuzzed\ntype: task\ntriggers:\n  - \"", f);
	for (const unsigned char *p = (const unsigned char *)trigger; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
	fputs("\"\n---\nbody\n", f);
	return fclose(f);
}

static char *plan_text(const aims_plan *plan)
{
	cJSON *json = aims_json_plan(plan, 0);
	char *text = json ? cJSON_PrintUnformatted(json) : NULL;

	cJSON_Delete(json);
	return text;
}

static void route_both(const char *trigger, const char *utterance, size_t len)
{
	aims_registry *reg = NULL;
	aims_router *a = NULL, *b = NULL;
	/* eager: every phrase the check accepted must compile */
	aims_router_options opts = {.no_index = true}, eager = {.eager = true};
	aims_plan *pa = NULL, *pb = NULL;
	aims_error err;
	const aims_manifest *m;

	aims_error_clear(&err);
	if (aims_registry_new(&reg, &err) < 0 || aims_registry_add_path(reg, path, &err) < 0 ||
	    aims_router_new(&a, reg, &eager, &err) < 0 || aims_router_new(&b, reg, &opts, &err) < 0)
		abort();
	m = aims_registry_at(reg, 0);
	/* a valid trigger compiles in the router too (when YAML kept it as it
	 * was: a NEL, for one, is a line break to YAML) */
	if (m && m->triggers.count == 1 && strcmp(m->triggers.items[0], trigger) == 0 &&
	    aims_router_problem_count(a) != 0) {
		fprintf(stderr, "fuzz_trigger: checked trigger skipped by the router: %s\n",
			aims_router_problem_at(a, 0)->message);
		abort();
	}
	if (aims_router_route(&pa, a, utterance, len, 0, &err) == 0 &&
	    aims_router_route(&pb, b, utterance, len, 0, &err) == 0) {
		char *ta = plan_text(pa), *tb = plan_text(pb);

		/* plans with limit warnings may differ (see fuzz_route.c) */
		if (!ta || !tb ||
		    (!pa->warning_count && !pb->warning_count && strcmp(ta, tb) != 0)) {
			fprintf(stderr, "fuzz_trigger: plans differ:\n%s\n%s\n", ta ? ta : "?",
				tb ? tb : "?");
			abort();
		}
		free(ta);
		free(tb);
	}
	aims_plan_free(pa);
	aims_plan_free(pb);
	aims_router_free(a);
	aims_router_free(b);
	aims_registry_free(reg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char trigger[MAX_TRIGGER_INPUT + 1];
	const uint8_t *nl = memchr(data, '\n', size);
	size_t tlen = nl ? (size_t)(nl - data) : size, offset = (size_t)-1;
	const char *utterance = nl ? (const char *)nl + 1 : "";
	size_t ulen = nl ? size - tlen - 1 : 0;
	aims_error err;
	int rc;

	if (tlen > MAX_TRIGGER_INPUT)
		tlen = MAX_TRIGGER_INPUT;
	memcpy(trigger, data, tlen);
	trigger[tlen] = '\0';
	tlen = strlen(trigger); /* up to the first NUL, as a C string */
	aims_error_clear(&err);
	rc = aims_router_check_trigger(trigger, &offset, &err);
	if (rc != 0) {
		if (rc != AIMS_EINVALID || err.message[0] == '\0' || offset > tlen) {
			fprintf(stderr, "fuzz_trigger: rc %d, offset %zu of %zu: %s\n", rc, offset,
				tlen, err.message);
			abort();
		}
		return 0;
	}
	if (!path[0]) {
		if (!mkdtemp(dir))
			abort();
		snprintf(path, sizeof(path), "%s/fuzzed.md", dir);
		atexit(cleanup);
	}
	if (write_manifest(trigger) != 0)
		abort();
	route_both(trigger, utterance, ulen);
	return 0;
}
