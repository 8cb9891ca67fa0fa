/*
 * floor.c - what libyaml alone costs on the benchmark's manifests: every
 * .md file under the given directories is read into memory first, then
 * its front matter (split as the runtime splits it) is parsed to events
 * and nothing else, on one thread. Prints the best of PASSES passes in
 * seconds. Any validator built on libyaml pays at least this much CPU.
 * libyaml is linked as in aims: with the allocator of manifest/yaml.c.
 *
 * Usage: validate-libyaml-floor PASSES DIR...
 */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yaml.h>

typedef struct text {
	char *data;
	size_t len;
} text;

static text *texts;
static size_t count, cap;

/* The front matter: from the line after a first line "---" to the line
 * "---" or "..." that closes it (trailing blanks and CR allowed). */
static int front_matter(const char *data, size_t len, text *out)
{
	const char *p = data, *end = data + len, *start;

	if (len < 3 || strncmp(p, "---", 3) != 0)
		return -1;
	for (p += 3; p < end && (*p == ' ' || *p == '\t' || *p == '\r'); p++)
		;
	if (p == end || *p != '\n')
		return -1;
	start = ++p;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *q = p + 3;

		if (!eol)
			eol = end;
		if (eol - p >= 3 && (strncmp(p, "---", 3) == 0 || strncmp(p, "...", 3) == 0)) {
			while (q < eol && (*q == ' ' || *q == '\t' || *q == '\r'))
				q++;
			if (q == eol) {
				out->data = (char *)start;
				out->len = (size_t)(p - start);
				return 0;
			}
		}
		p = eol + 1;
	}
	return -1;
}

static int add_file(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	size_t n = strlen(path);
	FILE *f;
	char *data;
	text fm;

	(void)ftw;
	if (type != FTW_F || n < 3 || strcmp(path + n - 3, ".md") != 0)
		return 0;
	if (!(data = malloc((size_t)st->st_size + 1)) || !(f = fopen(path, "rb"))) {
		free(data);
		return 0;
	}
	n = fread(data, 1, (size_t)st->st_size, f);
	fclose(f);
	if (front_matter(data, n, &fm) < 0) {
		free(data);
		return 0;
	}
	if (count == cap) {
		cap = cap ? 2 * cap : 1024;
		if (!(texts = realloc(texts, cap * sizeof(*texts)))) {
			perror("realloc");
			exit(1);
		}
	}
	texts[count++] = fm;
	return 0;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	char *end = NULL;
	long passes = argc > 2 ? strtol(argv[1], &end, 10) : 0;
	double best = 1e9;
	size_t events = 0, errors = 0;

	if (passes < 1 || passes > 1000 || !end || *end != '\0') {
		fprintf(stderr, "usage: validate-libyaml-floor PASSES DIR...\n");
		return 2;
	}
	for (int i = 2; i < argc; i++)
		if (nftw(argv[i], add_file, 32, FTW_PHYS) != 0) {
			perror(argv[i]);
			return 1;
		}
	for (long pass = 0; pass < passes; pass++) {
		double start = now();

		events = errors = 0;
		for (size_t i = 0; i < count; i++) {
			yaml_parser_t parser;
			yaml_event_t event;
			int done = 0;

			yaml_parser_initialize(&parser);
			yaml_parser_set_input_string(&parser, (const unsigned char *)texts[i].data,
						     texts[i].len);
			while (!done) {
				if (!yaml_parser_parse(&parser, &event)) {
					errors++;
					break;
				}
				done = event.type == YAML_STREAM_END_EVENT;
				yaml_event_delete(&event);
				events++;
			}
			yaml_parser_delete(&parser);
		}
		if (now() - start < best)
			best = now() - start;
	}
	printf("%.3f s for %zu front matters (%zu events, %zu YAML errors), best of %ld\n", best,
	       count, events, errors, passes);
	return 0;
}
