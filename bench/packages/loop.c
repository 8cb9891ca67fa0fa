/*
 * loop.c - bench/packages in one process (as the server runs): for each
 * language, executions without packages and with an already-installed
 * package set, interleaved, RUNS each; and the first execution (the
 * install) in FRESH new caches. The local indexes come from the
 * environment (AIMS_PIP_INDEX_URL, AIMS_NPM_REGISTRY, AIMS_DEB_DIR, set by
 * bench/packages/run); AIMS_CACHE_DIR is set here per phase under BASE.
 * Usage: packages-loop BASE [RUNS] [FRESH]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aims/exec.h"
#include "aims/sandbox.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int compare(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), compare);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One execution; returns its wall time in ms, exits on failure. */
static double once(aims_language lang, const char *code, const char *package, const char *want,
		   bool *installed)
{
	const char *packages[] = {package};
	aims_exec_request req;
	aims_exec_result *r = NULL;
	aims_error err;
	double start = now_ms(), ms;

	aims_exec_request_init(&req);
	req.language = lang;
	req.code = code;
	req.code_len = strlen(code);
	req.backend = AIMS_BACKEND_LOCAL;
	req.packages = package ? packages : NULL;
	req.package_count = package ? 1 : 0;
	aims_error_clear(&err);
	if (aims_exec_run(&r, &req, &err) < 0) {
		fprintf(stderr, "packages-loop: %s\n", err.message);
		exit(1);
	}
	ms = now_ms() - start;
	if (!r->success || strcmp(r->stdout_data, want) != 0) {
		fprintf(stderr, "packages-loop: unexpected output '%s' (%s)\n", r->stdout_data,
			r->stderr_data);
		exit(1);
	}
	if (installed)
		*installed = r->packages_installed;
	aims_exec_result_free(r);
	return ms;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		aims_language lang;
		const char *plain, *with, *package, *want;
	} cases[] = {
		{"python", AIMS_LANG_PYTHON, "print('benchpkg')",
		 "import benchpkg; print(benchpkg.NAME)", "benchpkg", "benchpkg\n"},
		{"node", AIMS_LANG_NODE, "console.log('benchpkg')",
		 "console.log(require('benchpkg').name)", "benchpkg", "benchpkg\n"},
		{"bash", AIMS_LANG_BASH, "echo benchpkg", "benchpkg", "benchpkg", "benchpkg\n"},
	};
	const char *base = argc > 1 ? argv[1] : NULL;
	int runs = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 40;
	int fresh = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 3;
	double *plain, *cached, *first;
	char dir[4096];
	bool ok = true;

	if (!base || runs < 1 || runs > 10000 || fresh < 1 || fresh > 100) {
		fprintf(stderr, "usage: packages-loop BASE [RUNS] [FRESH]\n");
		return 2;
	}
	plain = calloc((size_t)runs, sizeof(double));
	cached = calloc((size_t)runs, sizeof(double));
	first = calloc((size_t)fresh, sizeof(double));
	if (!plain || !cached || !first)
		return 2;
	printf("packages: median wall time of one execution in one process, %d runs each\n"
	       "(none and cached interleaved; first = the install, %d fresh caches)\n",
	       runs, fresh);
	printf("%-7s %10s %10s %10s %15s\n", "lang", "none ms", "cached ms", "first ms",
	       "cached-none ms");
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		double none_ms, cached_ms, first_ms;
		bool installed = false;

		for (int i = 0; i < fresh; i++) {
			snprintf(dir, sizeof(dir), "%s/cache-%s-%d", base, cases[c].name, i);
			setenv("AIMS_CACHE_DIR", dir, 1);
			first[i] = once(cases[c].lang, cases[c].with, cases[c].package,
					cases[c].want, &installed);
			if (!installed) {
				fprintf(stderr, "packages-loop: the first run did not install\n");
				return 1;
			}
		}
		/* The last fresh cache holds the layer: every run below reuses it. */
		for (int i = 0; i < 3; i++) /* warm-up */
			once(cases[c].lang, cases[c].plain, NULL, cases[c].want, NULL);
		for (int i = 0; i < runs; i++) {
			plain[i] = once(cases[c].lang, cases[c].plain, NULL, cases[c].want, NULL);
			cached[i] = once(cases[c].lang, cases[c].with, cases[c].package,
					 cases[c].want, &installed);
			if (installed) {
				fprintf(stderr, "packages-loop: a cached run installed again\n");
				return 1;
			}
		}
		none_ms = median(plain, runs);
		cached_ms = median(cached, runs);
		first_ms = median(first, fresh);
		printf("%-7s %10.2f %10.2f %10.2f %15.2f\n", cases[c].name, none_ms, cached_ms,
		       first_ms, cached_ms - none_ms);
		ok &= cached_ms - none_ms <= 10.0;
	}
	printf("target (SPEC §11): cached costs <= 10 ms more than none: %s\n",
	       ok ? "met" : "NOT met");
	aims_sandbox_shutdown();
	free(plain);
	free(cached);
	free(first);
	return 0;
}
