/*
 * test_router.c - trigger compilation, the index against the naive loop,
 * scoring order and tie-breaks, plans, limits, concurrent routing.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aims/json.h"
#include "aims/registry.h"
#include "aims/router.h"
#include "router/router_int.h"
#include "support.h"

/* ---- helpers ------------------------------------------------------------- */

typedef struct fixture {
	char *dir;
	aims_registry *reg;
	aims_router *router;
	aims_router *naive;
} fixture;

/* A manifest: kind, id, status, priority, then triggers (YAML single
 * quoted). */
static void write_def(const char *dir, const char *kind, const char *id, const char *status,
		      const char *priority, const char *const *triggers)
{
	char name[256];
	size_t size = 1 << 16, used;
	char *text = malloc(size);

	assert_non_null(text);
	used = (size_t)snprintf(text, size,
				"---\nid: %s\nname: %s\ntype: %s\nstatus: %s\npriority: %s\n"
				"description: test\ntriggers:\n",
				id, id, kind, status, priority);
	for (; *triggers; triggers++) {
		used += (size_t)snprintf(text + used, size - used, "  - '");
		for (const char *p = *triggers; *p; p++) {
			if (*p == '\'')
				text[used++] = '\'';
			text[used++] = *p;
		}
		used += (size_t)snprintf(text + used, size - used, "'\n");
	}
	snprintf(text + used, size - used, "---\n\nbody\n");
	snprintf(name, sizeof(name), "%ss/%s.md", kind, id);
	test_write_str(dir, name, text);
	free(text);
}

static void fixture_open(fixture *f)
{
	aims_error err;
	aims_router_options naive = {.no_index = true};

	aims_error_clear(&err);
	assert_int_equal(aims_registry_new(&f->reg, &err), 0);
	assert_int_equal(aims_registry_add_path(f->reg, f->dir, &err), 0);
	assert_int_equal(aims_router_new(&f->router, f->reg, NULL, &err), 0);
	assert_int_equal(aims_router_new(&f->naive, f->reg, &naive, &err), 0);
}

static void fixture_close(fixture *f)
{
	aims_router_free(f->router);
	aims_router_free(f->naive);
	aims_registry_free(f->reg);
	test_rmtree(f->dir);
	free(f->dir);
}

static char *plan_text(const aims_plan *plan)
{
	cJSON *json = aims_json_plan(plan, AIMS_JSON_PLAN_EXPLAIN);
	char *text = cJSON_PrintUnformatted(json);

	cJSON_Delete(json);
	assert_non_null(text);
	return text;
}

static aims_plan *route(const aims_router *router, const char *utterance, unsigned flags)
{
	aims_plan *plan = NULL;
	aims_error err;

	aims_error_clear(&err);
	assert_int_equal(
		aims_router_route(&plan, router, utterance, strlen(utterance), flags, &err), 0);
	return plan;
}

/* Routes with both routers and checks the plans are the same. */
static aims_plan *route_both(const fixture *f, const char *utterance, unsigned flags)
{
	aims_plan *a = route(f->router, utterance, flags), *b = route(f->naive, utterance, flags);
	char *ta = plan_text(a), *tb = plan_text(b);

	if (strcmp(ta, tb) != 0)
		fail_msg("index and naive plans differ for \"%s\":\n%s\n%s", utterance, ta, tb);
	free(ta);
	free(tb);
	aims_plan_free(b);
	return a;
}

static void check_offset(const char *trigger, size_t want_offset, const char *want_message)
{
	aims_error err;
	size_t offset = 999999;

	aims_error_clear(&err);
	if (aims_router_check_trigger(trigger, &offset, &err) != AIMS_EINVALID)
		fail_msg("trigger \"%s\" should not compile", trigger);
	if (offset != want_offset)
		fail_msg("trigger \"%s\": offset %zu, expected %zu (%s)", trigger, offset,
			 want_offset, err.message);
	if (!strstr(err.message, want_message))
		fail_msg("trigger \"%s\": message \"%s\" lacks \"%s\"", trigger, err.message,
			 want_message);
}

/* ---- compilation --------------------------------------------------------- */

static void test_check_valid(void **state)
{
	const char *ok[] = {
		"run python",
		"c++",
		"z.ai",
		"/ui",
		"kimi k2.5",
		"what's new",
		"flip {address}",
		"send {a} to {b}",
		"{{literal}} braces",
		"Überprüfe",
		"(parens) [x] *",
		"re:^deploy\\s+(?<env>\\w+)$",
		"re:a|b",
		"re:(?x) a b # c",
		"  padded  ",
		"a}}b",
		"x {slot_1} y",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		aims_error err;
		size_t offset = 12345;

		aims_error_clear(&err);
		if (aims_router_check_trigger(ok[i], &offset, &err) != 0)
			fail_msg("\"%s\" should compile: %s", ok[i], err.message);
		assert_int_equal(offset, 12345); /* untouched on success */
	}
}

/* What the check accepts, the router compiles: the largest phrases
 * (4,096 apostrophes, each a 14-byte alternation; all punctuation; 16
 * slots) compile in an eager router. */
static void test_checked_phrases_compile(void **state)
{
	fixture f = {.dir = test_tmpdir()};
	static char quotes[AIMS_ROUTER_MAX_TRIGGER + 1], punct[AIMS_ROUTER_MAX_TRIGGER + 1];
	char slots[512] = "x";
	const char *t[] = {quotes, punct, slots, "what's new", "a {b} c {d} e", NULL};
	aims_router_options opts = {.eager = true};
	aims_router *eager = NULL;
	aims_router_stats stats;
	aims_error err;

	(void)state;
	memset(quotes, '\'', AIMS_ROUTER_MAX_TRIGGER);
	for (size_t i = 0; i < AIMS_ROUTER_MAX_TRIGGER; i++)
		punct[i] = "!#$%&()*+,-./:;<=>?@[]^`|~\"\\"[i % 28];
	for (int i = 0; i < AIMS_ROUTER_MAX_SLOTS; i++) {
		size_t len = strlen(slots);

		snprintf(slots + len, sizeof(slots) - len, " {slot%d} y", i);
	}
	for (size_t i = 0; t[i]; i++) {
		aims_error_clear(&err);
		if (aims_router_check_trigger(t[i], NULL, &err) != 0)
			fail_msg("trigger %zu should pass the check: %s", i, err.message);
	}
	write_def(f.dir, "task", "big", "active", "medium", t);
	fixture_open(&f);
	aims_error_clear(&err);
	assert_int_equal(aims_router_new(&eager, f.reg, &opts, &err), 0);
	aims_router_stats_get(&stats, eager);
	assert_int_equal(aims_router_problem_count(eager), 0);
	assert_int_equal(stats.triggers, 5);
	assert_int_equal(stats.compiled, 5);
	aims_router_free(eager);
	fixture_close(&f);
}

/* aims_router_check_trigger takes a shortcut for plain phrases (short
 * ASCII without braces): it must answer as the full parse does, and every
 * phrase it passes must compile, at the edges of the shortcut too. */
static void test_check_shortcut_agrees(void **state)
{
	static const char alphabet[] = "aZ9 '\t.-_{}?!\x01\x1c";
	pcre2_compile_context *context = trigger_compile_context();
	char t[80];
	unsigned seed = 12345;

	(void)state;
	assert_non_null(context);
	for (int n = 0; n < 6000; n++) {
		size_t len = 1 + (size_t)(n % 70);
		trigger_parse full;
		aims_error err;
		int expect, got;

		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			t[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		t[len] = '\0';
		if (n % 7 == 0)
			memset(t, '\'', len); /* the widest character */
		if (n % 11 == 0)
			t[len - 1] = 'x';
		aims_error_clear(&err);
		expect =
			trigger_parse_text(&full, t, TRIGGER_CHECK_ONLY, context, NULL, NULL, &err);
		if (expect == 0)
			trigger_parse_free(&full);
		aims_error_clear(&err);
		got = aims_router_check_trigger(t, NULL, &err);
		if (got != expect)
			fail_msg("'%s': check %d, full parse %d", t, got, expect);
		if (got == 0) {
			pcre2_code *code;

			assert_int_equal(trigger_parse_text(&full, t, 0, context, NULL, NULL, &err),
					 0);
			code = trigger_compile(&full, context, false, NULL, &err);
			if (!code)
				fail_msg("'%s' passed the check but does not compile: %s", t,
					 err.message);
			pcre2_code_free(code);
			trigger_parse_free(&full);
		}
	}
	pcre2_compile_context_free(context);
}

static void test_check_invalid_offsets(void **state)
{
	char long_trigger[AIMS_ROUTER_MAX_TRIGGER + 10];
	char many_slots[512] = "x";
	char long_name[64] = "x {";

	(void)state;
	check_offset("", 0, "empty trigger");
	check_offset(" \t ", 0, "empty trigger");
	check_offset("bad {slot", 4, "'{' must start a slot");
	check_offset("bad {1x} here", 4, "'{' must start a slot");
	check_offset("a } b", 2, "'}' without a slot");
	check_offset("{a}{b} x", 3, "two slots touch");
	check_offset("{a} x {a}", 7, "appears twice");
	check_offset("{a} {b}", 0, "no literal text");
	check_offset("ab\xff", 2, "not valid UTF-8");
	check_offset("re:", 3, "empty pattern");
	check_offset("re:(abc", 7, "missing closing parenthesis");
	check_offset("re:  (abc", 9, "missing closing parenthesis");
	check_offset("re:a{3,1}", 8, "out of order");
	check_offset("re:[z-a]", 6, "range out of order");

	memset(long_trigger, 'a', sizeof(long_trigger) - 1);
	long_trigger[sizeof(long_trigger) - 1] = '\0';
	check_offset(long_trigger, AIMS_ROUTER_MAX_TRIGGER, "over the limit");

	for (int i = 0; i <= AIMS_ROUTER_MAX_SLOTS; i++) {
		size_t len = strlen(many_slots);

		snprintf(many_slots + len, sizeof(many_slots) - len, " {s%d}", i);
	}
	check_offset(many_slots, strlen(many_slots) - 5, "more than 16 slots");

	memset(long_name + 3, 'n', 33);
	long_name[36] = '}';
	long_name[37] = '\0';
	check_offset(long_name, 3, "longer than 32");
}

static void test_check_offset_may_be_null(void **state)
{
	aims_error err;

	(void)state;
	aims_error_clear(&err);
	assert_int_equal(aims_router_check_trigger("re:(", NULL, &err), AIMS_EINVALID);
	assert_true(err.message[0] != '\0');
	assert_int_equal(aims_router_check_trigger("fine", NULL, NULL), 0);
}

/* Phrases: edges, whitespace, literal metacharacters, case. */
static void test_phrase_matching(void **state)
{
	fixture f = {.dir = test_tmpdir()};
	const char *t1[] = {"search", NULL}, *t2[] = {"c++", "z.ai", "/ui", NULL},
		   *t3[] = {"a.b*c", NULL}, *t4[] = {"Straße", NULL};
	struct {
		const char *utterance;
		const char *task; /* NULL: no match */
	} cases[] = {
		{"search it", "search"}, {"research it", NULL},	 {"searching", NULL},
		{"SEARCH", "search"},	 {"_search", NULL},	 {"search_", NULL},
		{"search.", "search"},	 {"(search)", "search"}, {"x-search-y", "search"},
		{"use c++ now", "meta"}, {"c++", "meta"},	 {"c+", NULL},
		{"zzai", NULL},		 {"z.ai", "meta"},	 {"go /ui", "meta"},
		{"a.b*c", "literal"},	 {"aXbbbc", NULL},	 {"straße", "german"},
		{"STRASSE", NULL},	 {"search2", NULL},	 {"2search", NULL},
	};

	(void)state;
	write_def(f.dir, "task", "search", "active", "medium", t1);
	write_def(f.dir, "task", "meta", "active", "medium", t2);
	write_def(f.dir, "task", "literal", "active", "medium", t3);
	write_def(f.dir, "task", "german", "active", "medium", t4);
	fixture_open(&f);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		aims_plan *plan = route_both(&f, cases[i].utterance, 0);
		const char *got = plan->task ? plan->task->id : NULL;

		if ((got == NULL) != (cases[i].task == NULL) ||
		    (got && strcmp(got, cases[i].task) != 0))
			fail_msg("\"%s\": expected %s, got %s", cases[i].utterance,
				 cases[i].task ? cases[i].task : "no match",
				 got ? got : "no match");
		aims_plan_free(plan);
	}
	fixture_close(&f);
}

/* The literal scan of patterns must never lose a match: every pattern
 * routed by the index gives the naive loop's answer. */
static void test_pattern_literals_sound(void **state)
{
	fixture f = {.dir = test_tmpdir()};
	const char *patterns[] = {
		"re:deploy(ment)?",
		"re:colou?r",
		"re:ab+c",
		"re:x{2}yz",
		"re:abc|def",
		"re:\\x41BC",
		"re:[abc]def",
		"re:(?x) g h i # jkl",
		"re:\\Qq.r\\Estu",
		"re:(?:pre)?fix",
		"re:\\bword\\b",
		"re:k\\d{2,}mm",
		"re:(?i)MiXeD",
		"re:(?-i)exact",
		"re:oct\\101l",
		"re:nn(?#comment)oo",
		"re:(?:a(*ACCEPT))?zzz",
		"re:\\p{Lu}upper",
		"re:tab\\tbed",
		"re:ſki",
	};
	const char *utterances[] = {
		"deploy",
		"deployment",
		"redeploy",
		"color",
		"colour",
		"abbbc",
		"ac",
		"xxyz",
		"xyz",
		"def",
		"abc",
		"ABC",
		"adef",
		"ghi",
		"g h i",
		"ghijkl",
		"q.rstu",
		"qxrstu",
		"fix",
		"prefix",
		"word",
		"swordfish",
		"k12mm",
		"k1mm",
		"mixed",
		"EXACT",
		"exact",
		"octAl",
		"oct101l",
		"nnoo",
		"a",
		"zzz",
		"Xupper",
		"xupper",
		"tab\tbed",
		"SKI",
		"\xe2\x84\xaaill ski",
		"ſki",
		"",
		"colouur",
		"Deploy it",
	};
	char id[32];

	(void)state;
	for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		const char *t[] = {patterns[i], NULL};

		snprintf(id, sizeof(id), "p%02zu", i);
		write_def(f.dir, "task", id, "active", "medium", t);
	}
	fixture_open(&f);
	assert_int_equal(aims_router_problem_count(f.router), 0);
	for (size_t i = 0; i < sizeof(utterances) / sizeof(utterances[0]); i++)
		aims_plan_free(route_both(&f, utterances[i], 0));
	/* and every pattern against every utterance glued together */
	{
		char all[2048] = "";

		for (size_t i = 0; i < sizeof(utterances) / sizeof(utterances[0]); i++) {
			size_t used = strlen(all);

			snprintf(all + used, sizeof(all) - used, "%s ", utterances[i]);
		}
		aims_plan_free(route_both(&f, all, AIMS_ROUTE_ALL_MATCHES));
	}
	fixture_close(&f);
}

/* ---- scoring ------------------------------------------------------------- */

static void test_scoring_order(void **state)
{
	fixture f = {.dir = test_tmpdir()};
	const char *specific[] = {"run python code", NULL}, *general[] = {"run python", NULL},
		   *shared[] = {"run", NULL};
	aims_plan *plan;

	(void)state;
	/* priority never beats a more specific trigger */
	write_def(f.dir, "task", "specific-low", "active", "low", specific);
	write_def(f.dir, "task", "general-critical", "active", "critical", general);
	/* equal triggers: priority breaks the tie, then the id */
	write_def(f.dir, "task", "zz-high", "active", "high", shared);
	write_def(f.dir, "task", "mm-medium", "active", "medium", shared);
	write_def(f.dir, "task", "aa-medium", "active", "medium", shared);
	write_def(f.dir, "task", "bb-unset", "active", "normal", shared);
	fixture_open(&f);

	plan = route_both(&f, "please run python code", 0);
	assert_int_equal(plan->candidate_count, 6);
	assert_string_equal(plan->candidates[0].id, "specific-low");
	assert_string_equal(plan->candidates[1].id, "general-critical");
	assert_string_equal(plan->candidates[2].id, "zz-high");
	assert_string_equal(plan->candidates[3].id, "aa-medium");
	assert_string_equal(plan->candidates[4].id, "bb-unset");
	assert_string_equal(plan->candidates[5].id, "mm-medium");
	/* 13 literal chars + 3 words x 2 = 19, low: +0 */
	assert_true(plan->candidates[0].score > 18.99 && plan->candidates[0].score < 19.01);
	/* 9 + 2 x 2 = 13, critical: +0.3 */
	assert_true(plan->candidates[1].score > 13.29 && plan->candidates[1].score < 13.31);
	assert_true(plan->candidates[0].best.specificity == 19);
	assert_int_equal(plan->candidates[0].best.literal_words, 3);
	assert_int_equal(plan->status, AIMS_PLAN_MATCHED);
	assert_ptr_equal(plan->task, &plan->candidates[0]);
	aims_plan_free(plan);

	/* same specificity: priority decides the task, the plan says ambiguous */
	plan = route_both(&f, "run", 0);
	assert_int_equal(plan->status, AIMS_PLAN_AMBIGUOUS);
	assert_string_equal(plan->task->id, "zz-high");
	assert_int_equal(plan->alternative_count, 3);
	assert_string_equal(plan->alternatives[0]->id, "aa-medium");
	aims_plan_free(plan);
	fixture_close(&f);
}

static void test_best_trigger_tie_break(void **state)
{
	fixture f = {.dir = test_tmpdir()};
	/* both 4 chars + 2: the first in the manifest wins */
	const char *t[] = {"beta", "alfa", "alfa beta", NULL};
	aims_plan *plan;

	(void)state;
	write_def(f.dir, "task", "greek", "active", "medium", t);
	fixture_open(&f);
	plan = route_both(&f, "alfa, then beta", AIMS_ROUTE_ALL_MATCHES);
	assert_int_equal(plan->candidate_count, 1);
	assert_string_equal(plan->candidates[0].best.trigger, "beta");
	assert_int_equal(plan->candidates[0].best.trigger_index, 0);
	assert_int_equal(plan->candidates[0].match_count, 2);
	assert_string_equal(plan->candidates[0].matches[1].trigger, "alfa");
	aims_plan_free(plan);

	plan = route_both(&f, "alfa beta", 0);
	assert_string_equal(plan->candidates[0].best.trigger, "alfa beta");
	assert_int_equal(plan->candidates[0].match_count, 1);
	aims_plan_free(plan);
	fixture_close(&f);
}

static void test_hooks_skills_and_kinds(void **state)
{
	fixture f = {.dir = test_tmpdir()};
	const char *t[] = {"deploy", NULL}, *longer[] = {"deploy now please", NULL};
	aims_plan *plan;

	(void)state;
	write_def(f.dir, "hook", "h-low", "active", "low", longer);
	write_def(f.dir, "hook", "h-critical", "active", "critical", t);
	write_def(f.dir, "hook", "h-medium", "active", "medium", t);
	write_def(f.dir, "hook", "h-high", "active", "high", t);
	write_def(f.dir, "skill", "s-two", "active", "medium", t);
	write_def(f.dir, "skill", "s-one", "active", "medium", longer);
	write_def(f.dir, "task", "t-disabled", "disabled", "critical", longer);
	fixture_open(&f);
	plan = route_both(&f, "deploy now please", 0);
	/* hooks: priority order, whatever their score */
	assert_int_equal(plan->hook_count, 4);
	assert_string_equal(plan->hooks[0]->id, "h-critical");
	assert_string_equal(plan->hooks[1]->id, "h-high");
	assert_string_equal(plan->hooks[2]->id, "h-medium");
	assert_string_equal(plan->hooks[3]->id, "h-low");
	/* skills: candidate order (score) */
	assert_int_equal(plan->skill_count, 2);
	assert_string_equal(plan->skills[0]->id, "s-one");
	assert_string_equal(plan->skills[1]->id, "s-two");
	/* no task: still matched (hooks and skills to apply) */
	assert_null(plan->task);
	assert_int_equal(plan->status, AIMS_PLAN_MATCHED);
	aims_plan_free(plan);

	plan = route_both(&f, "deploy now please", AIMS_ROUTE_INCLUDE_INACTIVE);
	assert_non_null(plan->task);
	assert_string_equal(plan->task->id, "t-disabled");
	aims_plan_free(plan);
	fixture_close(&f);
}

static void test_slots_and_confidence(void **state)
{
	fixture f = {.dir = test_tmpdir()};
	const char *t[] = {"move {what} to {where}", NULL}, *r[] = {"re:(?<n>\\d+) apples", NULL};
	aims_plan *plan;

	(void)state;
	write_def(f.dir, "task", "mover", "active", "medium", t);
	write_def(f.dir, "task", "apples", "active", "medium", r);
	fixture_open(&f);
	plan = route_both(&f, "please move the big box to the garage", 0);
	assert_string_equal(plan->task->id, "mover");
	assert_int_equal(plan->task->best.slot_count, 2);
	assert_string_equal(plan->task->best.slots[0].name, "what");
	assert_string_equal(plan->task->best.slots[0].value, "the big box");
	assert_string_equal(plan->task->best.slots[1].name, "where");
	assert_string_equal(plan->task->best.slots[1].value, "the garage");
	assert_int_equal(plan->task->best.slots[1].start, 27);
	assert_int_equal(plan->task->best.slots[1].end, 37);
	assert_int_equal(plan->task->best.start, 7);
	/* 24 of 30 non-space characters */
	assert_true(plan->task->confidence > 0.8 - 1e-9 && plan->task->confidence < 0.8 + 1e-9);
	aims_plan_free(plan);

	plan = route_both(&f, "12 apples", 0);
	assert_string_equal(plan->task->id, "apples");
	assert_string_equal(plan->task->best.slots[0].value, "12");
	assert_true(plan->task->confidence > 0.999);
	aims_plan_free(plan);
	fixture_close(&f);
}

/* ---- limits and errors --------------------------------------------------- */

static void test_limits(void **state)
{
	fixture f = {.dir = test_tmpdir()};
	const char *t[] = {"hello", NULL};
	aims_router_options opts = {.max_utterance = 8};
	aims_router *small = NULL;
	aims_plan *plan = NULL;
	aims_error err;

	(void)state;
	write_def(f.dir, "task", "greeter", "active", "medium", t);
	fixture_open(&f);
	aims_error_clear(&err);
	assert_int_equal(aims_router_new(&small, f.reg, &opts, &err), 0);
	assert_int_equal(aims_router_route(&plan, small, "hello", 5, 0, &err), 0);
	aims_plan_free(plan);
	plan = NULL;
	assert_int_equal(aims_router_route(&plan, small, "hello you", 9, 0, &err), AIMS_ETOOBIG);
	assert_null(plan);
	assert_string_equal(err.message, "utterance is 9 bytes, over the limit of 8 bytes");
	aims_error_clear(&err);
	assert_int_equal(aims_router_route(&plan, f.router, "hel\xc0\xafo", 6, 0, &err),
			 AIMS_EINVALID);
	assert_non_null(strstr(err.message, "byte 3"));
	/* an utterance with a NUL byte is routed by length */
	aims_error_clear(&err);
	assert_int_equal(aims_router_route(&plan, f.router, "x\0hello", 7, 0, &err), 0);
	assert_string_equal(plan->task->id, "greeter");
	assert_int_equal(plan->task->best.start, 2);
	aims_plan_free(plan);
	aims_router_free(small);
	fixture_close(&f);
}

static void test_problems_and_stats(void **state)
{
	fixture f = {.dir = test_tmpdir()};
	const char *t[] = {"fine", "re:(open", "re:x+", "re:\\bopen\\s+sesame", "{x}y", NULL};
	aims_router_stats stats;
	const aims_router_problem *p;
	aims_plan *plan;

	(void)state;
	write_def(f.dir, "task", "mixed", "active", "medium", t);
	fixture_open(&f);
	assert_int_equal(aims_router_problem_count(f.router), 1);
	p = aims_router_problem_at(f.router, 0);
	assert_int_equal(p->trigger_index, 1);
	assert_int_equal(p->offset, 8);
	assert_string_equal(p->manifest->id.str, "mixed");
	assert_null(aims_router_problem_at(f.router, 1));
	aims_router_stats_get(&stats, f.router);
	assert_int_equal(stats.triggers, 4);
	assert_int_equal(stats.definitions, 1);
	/* "re:x+" (no literal of 3) and "{x}y" (its word touches a slot) are
	 * tried on every route; "fine" and the sesame pattern are indexed */
	assert_int_equal(stats.always, 2);
	assert_int_equal(stats.indexed, 2);
	/* patterns are compiled when the router is built, phrases on use */
	assert_int_equal(stats.compiled, 2);
	/* a trigger's literal text must be in the utterance before PCRE2 runs
	 * it: "x" for re:x+, "y" for {x}y */
	plan = route(f.router, "nothing here", 0);
	assert_int_equal(plan->triggers_tried, 0);
	aims_plan_free(plan);
	plan = route(f.router, "fine, x", 0);
	assert_int_equal(plan->triggers_tried, 2);
	assert_int_equal(plan->candidate_count, 1);
	assert_int_equal(plan->candidates[0].best.trigger_index, 0);
	aims_plan_free(plan);
	aims_router_stats_get(&stats, f.router);
	assert_int_equal(stats.compiled, 3);
	plan = route(f.router, "go xy", AIMS_ROUTE_ALL_MATCHES);
	assert_int_equal(plan->triggers_tried, 2);
	assert_int_equal(plan->candidates[0].match_count, 2);
	assert_string_equal(plan->candidates[0].best.slots[0].value, "go x");
	aims_plan_free(plan);
	aims_router_stats_get(&stats, f.router);
	assert_int_equal(stats.compiled, 4);
	fixture_close(&f);
}

static void test_set_missing(void **state)
{
	fixture f = {.dir = test_tmpdir()};
	const char *t[] = {"go", NULL};
	const char *missing[] = {"env:API_KEY", "file:config.json"};
	aims_plan *plan;
	aims_error err;
	cJSON *json;

	(void)state;
	write_def(f.dir, "task", "goer", "active", "medium", t);
	fixture_open(&f);
	plan = route(f.router, "go", 0);
	assert_true(plan->candidates[0].ready);
	assert_int_equal(plan->candidates[0].missing_count, 0);
	aims_error_clear(&err);
	assert_int_equal(aims_plan_set_missing(plan, 0, missing, 2, &err), 0);
	assert_int_equal(aims_plan_set_missing(plan, 5, missing, 2, &err), AIMS_EINVALID);
	assert_false(plan->task->ready);
	assert_string_equal(plan->task->missing[1], "file:config.json");
	json = aims_json_plan(plan, 0);
	assert_false(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(json, "task"), "ready")));
	assert_int_equal(cJSON_GetArraySize(
				 cJSON_GetObjectItem(cJSON_GetObjectItem(json, "task"), "missing")),
			 2);
	cJSON_Delete(json);
	aims_plan_free(plan);
	fixture_close(&f);
}

/* ---- determinism and concurrency ----------------------------------------- */

static const char *vocabulary[] = {
	"run",	 "python", "code",   "deploy", "prod",	 "search", "research", "web",
	"build", "app",	   "docs",   "ui",     "pr",	 "3d",	   "c++",      "z.ai",
	"the",	 "a",	   "please", "now",    "review", "ticket", "42",       "Überprüfe",
};

static void random_utterance(char *buf, size_t size, unsigned *seed)
{
	size_t used = 0;
	int words = 1 + rand_r(seed) % 6;

	buf[0] = '\0';
	for (int i = 0; i < words; i++) {
		const char *w =
			vocabulary[rand_r(seed) % (sizeof(vocabulary) / sizeof(*vocabulary))];
		int n = snprintf(buf + used, size - used, "%s%s", i ? " " : "", w);

		if (n < 0 || (size_t)n >= size - used)
			break;
		used += (size_t)n;
	}
}

static void write_vocabulary_registry(const char *dir)
{
	unsigned seed = 7;
	char id[32], triggers[6][64];

	for (int d = 0; d < 60; d++) {
		const char *t[7];
		static const char *kinds[] = {"task", "skill", "hook"};
		static const char *prios[] = {"low", "medium", "high", "critical"};

		for (int k = 0; k < 5; k++) {
			const char *a = vocabulary[rand_r(&seed) % 24];
			const char *b = vocabulary[rand_r(&seed) % 24];

			if (k % 2)
				snprintf(triggers[k], sizeof(triggers[k]), "%s", a);
			else
				snprintf(triggers[k], sizeof(triggers[k]), "%s %s", a, b);
			t[k] = triggers[k];
		}
		snprintf(triggers[5], sizeof(triggers[5]), "re:\\b%s\\s+(?<rest>\\w+)",
			 vocabulary[rand_r(&seed) % 3]);
		t[5] = triggers[5];
		t[6] = NULL;
		snprintf(id, sizeof(id), "def-%02d", d);
		write_def(dir, kinds[d % 3], id, d % 7 ? "active" : "planned", prios[d % 4], t);
	}
}

static void test_index_matches_naive(void **state)
{
	fixture f = {.dir = test_tmpdir()};
	unsigned seed = 42;
	char utterance[256];

	(void)state;
	write_vocabulary_registry(f.dir);
	fixture_open(&f);
	for (int i = 0; i < 400; i++) {
		random_utterance(utterance, sizeof(utterance), &seed);
		aims_plan_free(route_both(&f, utterance, i % 2 ? AIMS_ROUTE_INCLUDE_INACTIVE : 0));
	}
	/* long utterances (more distinct words than the pair lookups take)
	 * go through the word-by-word path: still the naive loop's plan */
	for (int i = 0; i < 40; i++) {
		char longer[4096];
		size_t used = 0;

		for (int w = 0; w < 120 && used + 64 < sizeof(longer); w++) {
			int n = w % 2 ? snprintf(longer + used, sizeof(longer) - used, "%s ",
						 vocabulary[rand_r(&seed) % 24])
				      : snprintf(longer + used, sizeof(longer) - used, "w%d ",
						 rand_r(&seed) % 1000);

			used += (size_t)n;
		}
		aims_plan_free(route_both(&f, longer, AIMS_ROUTE_ALL_MATCHES));
	}
	/* the same question twice: the same plan */
	{
		aims_plan *a = route(f.router, "run python code please", 0);
		aims_plan *b = route(f.router, "run python code please", 0);
		char *ta = plan_text(a), *tb = plan_text(b);

		assert_string_equal(ta, tb);
		free(ta);
		free(tb);
		aims_plan_free(a);
		aims_plan_free(b);
	}
	fixture_close(&f);
}

typedef struct worker_arg {
	const aims_router *router;
	char **expected; /* JSON per utterance */
	char (*utterances)[256];
	int count;
	int mismatches;
} worker_arg;

static void *worker(void *p)
{
	worker_arg *a = p;

	for (int round = 0; round < 3; round++)
		for (int i = 0; i < a->count; i++) {
			aims_plan *plan = NULL;
			aims_error err;
			cJSON *json;
			char *text;

			aims_error_clear(&err);
			if (aims_router_route(&plan, a->router, a->utterances[i],
					      strlen(a->utterances[i]), 0, &err) < 0) {
				a->mismatches++;
				continue;
			}
			json = aims_json_plan(plan, 0);
			text = cJSON_PrintUnformatted(json);
			a->mismatches += !text || strcmp(text, a->expected[i]) != 0;
			free(text);
			cJSON_Delete(json);
			aims_plan_free(plan);
		}
	return NULL;
}

/* Several threads route through one lazily compiling router at once and
 * get exactly the plans a single thread gets. */
static void test_concurrent_routing(void **state)
{
	fixture f = {.dir = test_tmpdir()};
	enum { THREADS = 4, COUNT = 150 };
	static char utterances[COUNT][256];
	char *expected[COUNT];
	aims_router *fresh = NULL;
	pthread_t threads[THREADS];
	worker_arg args[THREADS];
	unsigned seed = 3;
	aims_error err;

	(void)state;
	write_vocabulary_registry(f.dir);
	fixture_open(&f);
	for (int i = 0; i < COUNT; i++) {
		aims_plan *plan;
		cJSON *json;

		random_utterance(utterances[i], sizeof(utterances[i]), &seed);
		plan = route(f.naive, utterances[i], 0);
		json = aims_json_plan(plan, 0);
		expected[i] = cJSON_PrintUnformatted(json);
		cJSON_Delete(json);
		aims_plan_free(plan);
	}
	/* a fresh router: nothing compiled yet, threads race to compile */
	aims_error_clear(&err);
	assert_int_equal(aims_router_new(&fresh, f.reg, NULL, &err), 0);
	for (int t = 0; t < THREADS; t++) {
		args[t] = (worker_arg){fresh, expected, utterances, COUNT, 0};
		assert_int_equal(pthread_create(&threads[t], NULL, worker, &args[t]), 0);
	}
	for (int t = 0; t < THREADS; t++) {
		pthread_join(threads[t], NULL);
		assert_int_equal(args[t].mismatches, 0);
	}
	for (int i = 0; i < COUNT; i++)
		free(expected[i]);
	aims_router_free(fresh);
	fixture_close(&f);
}

static void test_eager_router(void **state)
{
	fixture f = {.dir = test_tmpdir()};
	aims_router_options opts = {.eager = true};
	aims_router *eager = NULL;
	aims_router_stats stats;
	aims_error err;

	(void)state;
	write_vocabulary_registry(f.dir);
	fixture_open(&f);
	aims_error_clear(&err);
	assert_int_equal(aims_router_new(&eager, f.reg, &opts, &err), 0);
	aims_router_stats_get(&stats, eager);
	assert_int_equal(stats.compiled, stats.triggers);
	assert_true(stats.triggers >= 300);
	aims_router_free(eager);
	fixture_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_valid),
		cmocka_unit_test(test_checked_phrases_compile),
		cmocka_unit_test(test_check_shortcut_agrees),
		cmocka_unit_test(test_check_invalid_offsets),
		cmocka_unit_test(test_check_offset_may_be_null),
		cmocka_unit_test(test_phrase_matching),
		cmocka_unit_test(test_pattern_literals_sound),
		cmocka_unit_test(test_scoring_order),
		cmocka_unit_test(test_best_trigger_tie_break),
		cmocka_unit_test(test_hooks_skills_and_kinds),
		cmocka_unit_test(test_slots_and_confidence),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_problems_and_stats),
		cmocka_unit_test(test_set_missing),
		cmocka_unit_test(test_index_matches_naive),
		cmocka_unit_test(test_concurrent_routing),
		cmocka_unit_test(test_eager_router),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
