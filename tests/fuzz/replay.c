/*
 * replay.c - runs a fuzz target over every file of a corpus directory, so
 * that the corpus is an ordinary test in every build (no libFuzzer
 * needed). Usage: <target>_replay CORPUS_DIR [FILE...]
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aims/core.h"

#define REPLAY_MAX_INPUT (4u << 20) /* larger inputs are corpus mistakes */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay_file(const char *path)
{
	aims_error err;
	char *data = NULL;
	size_t len = 0;

	aims_error_clear(&err);
	if (aims_file_read(&data, &len, path, REPLAY_MAX_INPUT, &err) < 0) {
		fprintf(stderr, "replay: %s\n", err.message);
		return -1;
	}
	LLVMFuzzerTestOneInput((const uint8_t *)data, len);
	free(data);
	return 0;
}

int main(int argc, char **argv)
{
	DIR *dir;
	struct dirent *entry;
	char **names = NULL;
	size_t count = 0, cap = 0;
	int failed = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR [FILE...]\n", argv[0]);
		return 2;
	}
	for (int i = 2; i < argc; i++)
		failed |= replay_file(argv[i]) < 0;
	if (!(dir = opendir(argv[1]))) {
		perror(argv[1]);
		return 2;
	}
	while ((entry = readdir(dir))) {
		char path[4096];

		if (entry->d_name[0] == '.')
			continue;
		if (count == cap) {
			cap = cap ? cap * 2 : 64;
			names = realloc(names, cap * sizeof(*names));
			if (!names)
				return 2;
		}
		snprintf(path, sizeof(path), "%s/%s", argv[1], entry->d_name);
		if (!(names[count++] = strdup(path)))
			return 2;
	}
	closedir(dir);
	/* an empty corpus tests nothing: that is a failure, not a pass */
	if (count == 0) {
		fprintf(stderr, "replay: %s: no inputs\n", argv[1]);
		return 1;
	}
	qsort(names, count, sizeof(*names), cmp_names);
	for (size_t i = 0; i < count; i++) {
		failed |= replay_file(names[i]) < 0;
		free(names[i]);
	}
	free(names);
	printf("replayed %zu inputs from %s\n", count, argv[1]);
	return failed ? 1 : 0;
}
