/*
 * replay.c - runs a fuzz target over its corpus without libFuzzer, so the
 * corpus is an ordinary test in every build (and under the sanitizers).
 * Arguments: files or directories (every regular file inside, sorted).
 * An empty or missing corpus fails: a replay that runs nothing proves
 * nothing.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX_INPUT (16u << 20)

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data;
	size_t len;

	if (!f) {
		fprintf(stderr, "replay: %s: cannot open\n", path);
		return -1;
	}
	if (!(data = malloc(REPLAY_MAX_INPUT))) {
		fclose(f);
		return -1;
	}
	len = fread(data, 1, REPLAY_MAX_INPUT, f);
	fclose(f);
	/* An exact-size copy, so ASan sees reads past the end. */
	{
		uint8_t *exact = malloc(len ? len : 1);

		if (!exact) {
			free(data);
			return -1;
		}
		memcpy(exact, data, len);
		free(data);
		LLVMFuzzerTestOneInput(exact, len);
		free(exact);
	}
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(const char *dir, size_t *count)
{
	DIR *d = opendir(dir);
	struct dirent *ent;
	char **names = NULL;
	size_t n = 0;
	int rc = 0;

	if (!d) {
		fprintf(stderr, "replay: %s: cannot open the corpus\n", dir);
		return -1;
	}
	while ((ent = readdir(d))) {
		char **bigger;

		if (ent->d_name[0] == '.')
			continue;
		if (!(bigger = realloc(names, (n + 1) * sizeof(*names))) ||
		    !(bigger[n] = strdup(ent->d_name))) {
			free(bigger ? bigger : names);
			closedir(d);
			return -1;
		}
		names = bigger;
		n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(dir) + strlen(names[i]) + 2;
		char *path = malloc(len);
		struct stat st;

		if (path) {
			snprintf(path, len, "%s/%s", dir, names[i]);
			if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
				if (run_file(path) < 0)
					rc = -1;
				else
					(*count)++;
			}
		}
		free(path);
		free(names[i]);
	}
	free(names);
	return rc;
}

int main(int argc, char **argv)
{
	size_t count = 0;
	int rc = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			rc |= run_dir(argv[i], &count);
		else if (run_file(argv[i]) == 0)
			count++;
		else
			rc = -1;
	}
	if (count == 0) {
		fprintf(stderr, "replay: no inputs\n");
		return 1;
	}
	printf("replayed %zu inputs\n", count);
	return rc < 0 ? 1 : 0;
}
