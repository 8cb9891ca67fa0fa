/*
 * bench_route.c - routing latency and throughput on generated registries
 * (SPEC §11: median <= 10 us and >= 100,000 utterances/s on one core at
 * 10,000 definitions; 1,000 -> 10,000 definitions at most 2x slower).
 *
 * For each size it writes a seeded registry of manifests (about six
 * triggers each, drawn from a realistic vocabulary: verbs, nouns, product
 * names, slots, a few re: patterns) to a temporary directory, loads it,
 * and routes the same seeded utterances with the indexed router and, in
 * the same run, with the naive loop over every compiled trigger (on a
 * subset when that would take too long). It prints median and p99
 * latency and utterances per second for both, side by side.
 *
 * The indexed router is timed over three passes after a first one that
 * compiles what it needs (reported apart); the pass with the best median
 * is kept, as the machine is shared. The targets' figures at 1,000 and
 * 10,000 definitions come from passes of the two taken in turns at the
 * end, so that a change of the machine's load between sizes cannot make
 * the ratio.
 *
 * Usage: bench_route [--sizes 100,1000,10000] [--utterances N] [--seed S]
 *                    [--rounds N] [--naive-max N]
 */
#include <ftw.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "aims/registry.h"
#include "aims/router.h"

static const char *verbs[] = {
	"run",	     "create",	 "build",     "deploy",	    "search",	 "summarize", "translate",
	"generate",  "analyze",	 "review",    "open",	    "close",	 "send",      "schedule",
	"book",	     "cancel",	 "find",      "list",	    "show",	 "update",    "delete",
	"upload",    "download", "convert",   "export",	    "import",	 "sync",      "backup",
	"restore",   "monitor",	 "check",     "test",	    "debug",	 "fix",	      "refactor",
	"format",    "lint",	 "compile",   "publish",    "release",	 "archive",   "share",
	"invite",    "remind",	 "track",     "plan",	    "draft",	 "write",     "read",
	"explain",   "compare",	 "estimate",  "forecast",   "classify",	 "tag",	      "label",
	"resize",    "crop",	 "render",    "transcribe", "record",	 "stream",    "play",
	"pause",     "merge",	 "split",     "rename",	    "move",	 "copy",      "scan",
	"index",     "query",	 "visualize", "chart",	    "plot",	 "train",     "evaluate",
	"benchmark", "profile",	 "optimize",  "migrate",    "provision", "scale",     "restart",
	"rollback",  "approve",	 "reject",    "assign",	    "escalate",	 "notify",    "post",
	"reply",     "forward",	 "sign",      "verify",	    "encrypt",	 "decrypt",   "audit",
};

static const char *nouns[] = {
	"python",    "code",	     "image",	     "video",	     "email",	     "calendar",
	"meeting",   "invoice",	     "report",	     "database",     "table",	     "chart",
	"dashboard", "server",	     "container",    "cluster",	     "pipeline",     "workflow",
	"ticket",    "issue",	     "pull request", "branch",	     "commit",	     "release",
	"document",  "spreadsheet",  "slide",	     "presentation", "podcast",	     "transcript",
	"summary",   "article",	     "blog post",    "tweet",	     "message",	     "channel",
	"thread",    "contact",	     "lead",	     "customer",     "order",	     "payment",
	"refund",    "subscription", "budget",	     "expense",	     "receipt",	     "contract",
	"proposal",  "resume",	     "job",	     "candidate",    "interview",    "flight",
	"hotel",     "trip",	     "weather",	     "forecast",     "stock",	     "portfolio",
	"crypto",    "wallet",	     "map",	     "route",	     "address",	     "photo",
	"album",     "playlist",     "song",	     "movie",	     "recipe",	     "grocery list",
	"workout",   "habit",	     "note",	     "task",	     "project",	     "sprint",
	"backlog",   "roadmap",	     "api",	     "endpoint",     "webhook",	     "schema",
	"model",     "dataset",	     "notebook",     "query",	     "log",	     "metric",
	"alert",     "incident",     "deployment",   "domain",	     "certificate",  "password",
	"secret",    "key",	     "bucket",	     "file",	     "folder",	     "archive",
	"backup",    "snapshot",     "vm",	     "kubernetes",   "docker image", "lambda",
	"function",  "test suite",   "benchmark",    "profile",	     "ui",	     "3d model",
	"diagram",   "mockup",	     "logo",	     "banner",	     "website",	     "landing page",
	"form",	     "survey",	     "poll",	     "quiz",	     "course",	     "lesson",
};

static const char *fillers[] = {
	"please", "can you", "could you", "I need to",	"help me", "quickly", "now",	"for me",
	"today",  "the",     "my",	  "our",	"a",	   "new",     "latest", "all",
	"again",  "asap",    "thanks",	  "right away", "with",	   "from",    "into",	"this",
};

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

#define PICK(arr) arr[rnd(sizeof(arr) / sizeof(arr[0]))]

/* A pronounceable product name, unique per definition ("zentrix"). */
static void product_name(char *out, size_t size, size_t index)
{
	static const char *syll[] = {"ka", "zen", "lo", "tri", "mo", "vex", "ra", "qu",
				     "is", "dor", "pa", "ny",  "el", "sto", "ri", "fa"};
	size_t used = 0;

	for (int i = 0; i < 3; i++)
		used += (size_t)snprintf(out + used, size - used, "%s", PICK(syll));
	snprintf(out + used, size - used, "%zx", index);
}

typedef struct corpus {
	char **triggers; /* every phrase trigger, to build utterances from */
	size_t count, cap;
} corpus;

static void keep(corpus *c, const char *trigger)
{
	if (strncmp(trigger, "re:", 3) == 0 || strchr(trigger, '{'))
		return;
	if (c->count == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 1024;
		c->triggers = realloc(c->triggers, c->cap * sizeof(*c->triggers));
		if (!c->triggers)
			exit(2);
	}
	if (!(c->triggers[c->count++] = strdup(trigger)))
		exit(2);
}

static void write_registry(const char *dir, size_t defs, corpus *c)
{
	static const char *kinds[] = {"tasks", "tasks", "tasks", "skills", "skills", "hooks"};
	static const char *prios[] = {"low", "medium", "medium", "high", "critical"};

	for (size_t d = 0; d < defs; d++) {
		char path[4096], name[64], triggers[6][128];
		const char *kind = PICK(kinds);
		FILE *f;

		product_name(name, sizeof(name), d);
		snprintf(triggers[0], sizeof(triggers[0]), "%s %s", PICK(verbs), PICK(nouns));
		snprintf(triggers[1], sizeof(triggers[1]), "%s the %s", PICK(verbs), PICK(nouns));
		snprintf(triggers[2], sizeof(triggers[2]), "%s", name);
		snprintf(triggers[3], sizeof(triggers[3]), "%s %s with %s", PICK(verbs),
			 PICK(nouns), name);
		switch (rnd(10)) {
		case 0:
			snprintf(triggers[4], sizeof(triggers[4]),
				 "re:\\b%s\\s+(?<item>\\w+)\\s+%s\\b", PICK(verbs), name);
			break;
		case 1:
		case 2:
			snprintf(triggers[4], sizeof(triggers[4]), "%s %s to {target}", PICK(verbs),
				 PICK(nouns));
			break;
		default:
			snprintf(triggers[4], sizeof(triggers[4]), "%s %s", PICK(nouns),
				 PICK(nouns));
		}
		snprintf(triggers[5], sizeof(triggers[5]), "%s %s %s", PICK(verbs), PICK(nouns),
			 PICK(nouns));
		snprintf(path, sizeof(path), "%s/%s/%s-%05zu.md", dir, kind, name, d);
		if (!(f = fopen(path, "w"))) {
			perror(path);
			exit(2);
		}
		fprintf(f,
			"---\nid: %s\nname: %s\ntype: %.*s\nstatus: %s\npriority: %s\n"
			"description: Generated definition %zu.\ntriggers:\n",
			name, name, (int)strlen(kind) - 1, kind, rnd(20) ? "active" : "planned",
			PICK(prios), d);
		for (int k = 0; k < 6; k++) {
			fprintf(f, "  - '%s'\n", triggers[k]);
			keep(c, triggers[k]);
		}
		fprintf(f, "---\n\n# %s\n\nGenerated for bench/route.\n", name);
		fclose(f);
	}
}

/* Utterances: a trigger in filler words (60%), loose vocabulary (30%),
 * nothing routable (10%). */
static char **make_utterances(const corpus *c, size_t count)
{
	char **out = calloc(count, sizeof(*out));

	for (size_t i = 0; out && i < count; i++) {
		char buf[512];
		size_t used = 0;
		uint32_t kind = rnd(10);

#define ADD(...) used += (size_t)snprintf(buf + used, sizeof(buf) - used, __VA_ARGS__)
		if (kind < 6) {
			ADD("%s %s %s", PICK(fillers), c->triggers[rnd((uint32_t)c->count)],
			    PICK(fillers));
		} else if (kind < 9) {
			int words = 3 + (int)rnd(8);

			for (int w = 0; w < words; w++)
				ADD("%s%s", w ? " " : "",
				    rnd(2) ? PICK(verbs) : (rnd(2) ? PICK(nouns) : PICK(fillers)));
		} else {
			ADD("%s %s, %s", PICK(fillers), PICK(fillers), PICK(fillers));
		}
#undef ADD
		if (!(out[i] = strdup(buf)))
			exit(2);
	}
	return out;
}

/* Resident memory of this process in MiB (0 when unknown). */
static double rss_mib(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long size = 0, resident = 0;

	if (!f)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &resident) != 2)
		resident = 0;
	fclose(f);
	return (double)resident * (double)sysconf(_SC_PAGESIZE) / (1024.0 * 1024.0);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

typedef struct result {
	double median_us, p99_us, per_sec;
	size_t count, matched, tried; /* tried: PCRE2 runs in all */
} result;

static result measure(const aims_router *router, char **utterances, size_t count)
{
	double *lat = malloc(count * sizeof(*lat)), total = 0;
	result r = {0};
	aims_error err;

	if (!lat)
		exit(2);
	for (size_t i = 0; i < count; i++) {
		aims_plan *plan = NULL;
		double t0 = now_ns();

		aims_error_clear(&err);
		if (aims_router_route(&plan, router, utterances[i], strlen(utterances[i]), 0,
				      &err) < 0) {
			fprintf(stderr, "route: %s\n", err.message);
			exit(2);
		}
		lat[i] = now_ns() - t0;
		total += lat[i];
		r.matched += plan->status != AIMS_PLAN_NO_MATCH;
		r.tried += plan->triggers_tried;
		aims_plan_free(plan);
	}
	qsort(lat, count, sizeof(*lat), cmp_double);
	r.count = count;
	r.median_us = lat[count / 2] / 1e3;
	r.p99_us = lat[(size_t)((double)count * 0.99)] / 1e3;
	r.per_sec = (double)count / (total / 1e9);
	free(lat);
	return r;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Removes the generated registry. */
static void rmtree_dir(const char *dir)
{
	nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A size's router kept for the round-robin at the end, with what it
 * needs (the router borrows the registry's manifests). */
typedef struct kept {
	size_t size;
	aims_router *router;
	aims_registry *reg;
	char **utterances;
	corpus c;
	char dir[64];
} kept;

static void free_size(aims_router *router, aims_registry *reg, char **utterances, size_t nutter,
		      corpus *c, const char *dir)
{
	aims_router_free(router);
	aims_registry_free(reg);
	for (size_t i = 0; i < nutter; i++)
		free(utterances[i]);
	free(utterances);
	for (size_t i = 0; i < c->count; i++)
		free(c->triggers[i]);
	free(c->triggers);
	rmtree_dir(dir);
}

int main(int argc, char **argv)
{
	size_t sizes[8] = {100, 1000, 10000}, nsizes = 3, nutter = 10000;
	uint64_t seed = 20261122;
	size_t naive_max = SIZE_MAX; /* cap on naive utterances */
	int rounds = 3;		     /* timed passes of the indexed router: the best is kept */
	double median_1k = 0, median_10k = 0, per_sec_10k = 0;
	kept keep[2] = {{.size = 1000}, {.size = 10000}};
	cpu_set_t one;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--sizes") == 0 && i + 1 < argc) {
			char *p = argv[++i], *end;

			for (nsizes = 0; *p && nsizes < 8; p = *end ? end + 1 : end)
				sizes[nsizes++] = strtoul(p, &end, 10);
		} else if (strcmp(argv[i], "--utterances") == 0 && i + 1 < argc) {
			nutter = strtoul(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--naive-max") == 0 && i + 1 < argc) {
			naive_max = strtoul(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) {
			rounds = (int)strtol(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
			seed = strtoull(argv[++i], NULL, 10);
		} else {
			fprintf(stderr, "usage: bench_route [--sizes A,B,C] [--utterances N] "
					"[--seed S]\n");
			return 2;
		}
	}
	/* one core: the figures are per core */
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	(void)sched_setaffinity(0, sizeof(one), &one);

	printf("%-6s %-9s %-8s | %-31s | %-31s | %s\n", "defs", "triggers", "build",
	       "index: median / p99 / per s", "naive: median / p99 / per s", "speedup");
	for (size_t s = 0; s < nsizes; s++) {
		char dir[] = "/tmp/aims-bench-route-XXXXXX", sub[4096];
		aims_registry *reg = NULL;
		aims_router *router = NULL, *naive = NULL;
		aims_router_options naive_opts = {.no_index = true};
		aims_router_stats stats;
		aims_error err;
		corpus c = {0};
		char **utterances;
		size_t naive_count;
		double t0, build_ms, naive_build_ms, rss_before, rss_router, rss_naive;
		result cold, warm = {0}, base;

		rng_state = seed ^ (sizes[s] * 0x9E3779B97F4A7C15ull);
		if (!mkdtemp(dir))
			return 2;
		for (int k = 0; k < 3; k++) {
			static const char *subdirs[] = {"tasks", "skills", "hooks"};

			snprintf(sub, sizeof(sub), "%s/%s", dir, subdirs[k]);
			mkdir(sub, 0755);
		}
		write_registry(dir, sizes[s], &c);
		utterances = make_utterances(&c, nutter);
		aims_error_clear(&err);
		if (aims_registry_new(&reg, &err) < 0 ||
		    aims_registry_add_path(reg, dir, &err) < 0) {
			fprintf(stderr, "registry: %s\n", err.message);
			return 2;
		}
		rss_before = rss_mib();
		t0 = now_ns();
		if (aims_router_new(&router, reg, NULL, &err) < 0)
			return 2;
		build_ms = (now_ns() - t0) / 1e6;
		cold = measure(router, utterances, nutter);
		/* the machine is shared: keep the pass with the best median */
		for (int k = 0; k < rounds; k++) {
			result pass = measure(router, utterances, nutter);

			if (k == 0 || pass.median_us < warm.median_us)
				warm = pass;
		}
		aims_router_stats_get(&stats, router);
		rss_router = rss_mib() - rss_before;

		rss_before = rss_mib();
		t0 = now_ns();
		if (aims_router_new(&naive, reg, &naive_opts, &err) < 0)
			return 2;
		naive_build_ms = (now_ns() - t0) / 1e6;
		rss_naive = rss_mib() - rss_before;
		/* the naive loop costs ~0.5 us per trigger: cap it near 10 s */
		naive_count = (size_t)(2e7 / (double)(stats.triggers + 1));
		if (naive_count > nutter)
			naive_count = nutter;
		if (naive_count < 50)
			naive_count = 50;
		if (naive_count > naive_max)
			naive_count = naive_max;
		base = measure(naive, utterances, naive_count);

		printf("%-6zu %-9zu %6.1fms | %7.2f us / %7.2f us / %7.0f | %7.1f us / %7.1f us / "
		       "%7.0f "
		       "| %.0fx\n",
		       sizes[s], stats.triggers, build_ms, warm.median_us, warm.p99_us,
		       warm.per_sec, base.median_us, base.p99_us, base.per_sec,
		       base.median_us / warm.median_us);
		printf("       first pass (compiling on first use): median %.2f us, p99 %.2f us, "
		       "%.0f/s; %zu of %zu triggers compiled; %zu always tried; jit %s\n",
		       cold.median_us, cold.p99_us, cold.per_sec, stats.compiled, stats.triggers,
		       stats.always, stats.jit ? "on" : "off");
		printf("       memory: index router %.1f MiB after the runs, naive router (all "
		       "compiled) %.1f MiB\n",
		       rss_router, rss_naive);
		printf("       naive: %zu utterances, router built (all compiled) in %.0f ms; "
		       "%zu of %zu utterances matched; PCRE2 runs per utterance: index %.1f, "
		       "naive %.0f\n",
		       base.count, naive_build_ms, warm.matched, warm.count,
		       (double)warm.tried / (double)warm.count,
		       (double)base.tried / (double)base.count);
		if (sizes[s] == 1000)
			median_1k = warm.median_us;
		if (sizes[s] == 10000) {
			median_10k = warm.median_us;
			per_sec_10k = warm.per_sec;
		}
		aims_router_free(naive);
		for (size_t k = 0; k < 2; k++) {
			if (sizes[s] != keep[k].size || keep[k].router)
				continue;
			keep[k].router = router;
			keep[k].reg = reg;
			keep[k].utterances = utterances;
			keep[k].c = c;
			snprintf(keep[k].dir, sizeof(keep[k].dir), "%s", dir);
			router = NULL;
		}
		if (router)
			free_size(router, reg, utterances, nutter, &c, dir);
	}
	/* The ratio 1,000 -> 10,000 from passes taken in turns: measured one
	 * size after the other, a change of the machine's load between them
	 * (the benchmark before this one leaves it loaded) lands on one size
	 * only. The median of each size's pass medians. */
	if (keep[0].router && keep[1].router) {
		double med[2][16];
		int n = rounds * 3 < 16 ? rounds * 3 : 16;

		for (int k = 0; k < n; k++)
			for (size_t z = 0; z < 2; z++)
				med[z][k] = measure(keep[z].router, keep[z].utterances, nutter)
						    .median_us;
		for (size_t z = 0; z < 2; z++)
			qsort(med[z], (size_t)n, sizeof(double), cmp_double);
		median_1k = med[0][n / 2];
		median_10k = med[1][n / 2];
		printf("\n1,000 and 10,000 definitions in turns, %d passes each: medians %.2f us "
		       "and %.2f us\n",
		       n, median_1k, median_10k);
	}
	for (size_t k = 0; k < 2; k++)
		if (keep[k].router)
			free_size(keep[k].router, keep[k].reg, keep[k].utterances, nutter,
				  &keep[k].c, keep[k].dir);
	if (median_10k > 0) {
		printf("\ntargets (SPEC 11) at 10,000 definitions: median %.2f us (<= 10: %s), "
		       "%.0f utterances/s (>= 100,000: %s)",
		       median_10k, median_10k <= 10 ? "ok" : "MISSED", per_sec_10k,
		       per_sec_10k >= 100000 ? "ok" : "MISSED");
		if (median_1k > 0)
			printf(", 1,000 -> 10,000 costs %.2fx (<= 2: %s)", median_10k / median_1k,
			       median_10k / median_1k <= 2 ? "ok" : "MISSED");
		printf("\n");
	}
	return 0;
}
