/*
 * common.c - helpers shared by the subcommands.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

int cli_fail(const char *what, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "aims: %s: ", what);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_FAIL;
}

int cli_usage_error(const char *command, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "aims: %s: ", command);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'aims %s --help'.\n", command);
	return EXIT_USAGE;
}

int cli_bad_option(const char *command, char **argv)
{
	/* optind is past the option getopt_long refused. */
	return cli_usage_error(command, "unknown or incomplete option '%s'", argv[optind - 1]);
}

int cli_exit_for(int rc)
{
	return rc == AIMS_ENOMEM || rc == AIMS_EIO ? EXIT_USAGE : EXIT_FAIL;
}

void cli_paths_add(cli_paths *paths, const char *path)
{
	const char **items = realloc(paths->items, (paths->count + 1) * sizeof(*items));

	if (!items) {
		fputs("aims: out of memory\n", stderr);
		exit(EXIT_USAGE);
	}
	items[paths->count++] = path;
	paths->items = items;
}

void cli_paths_free(cli_paths *paths)
{
	free(paths->items);
	paths->items = NULL;
	paths->count = 0;
}

int cli_load_registry(aims_registry **out, const cli_paths *paths)
{
	aims_registry *reg = NULL;
	aims_error err;
	int rc;

	aims_error_clear(&err);
	if ((rc = aims_registry_new(&reg, &err)) < 0)
		goto fail;
	if (paths && paths->count) {
		for (size_t i = 0; i < paths->count; i++)
			if ((rc = aims_registry_add_path(reg, paths->items[i], &err)) < 0)
				goto fail;
	} else if ((rc = aims_registry_add_default(reg, &err)) < 0) {
		goto fail;
	}
	*out = reg;
	return 0;
fail:
	aims_registry_free(reg);
	fprintf(stderr, "aims: loading manifests: %s\n", err.message);
	return rc == AIMS_ENOTFOUND ? EXIT_USAGE : cli_exit_for(rc);
}

bool cli_color(FILE *stream)
{
	const char *no = getenv("NO_COLOR");

	return (!no || !*no) && isatty(fileno(stream));
}

void cli_bold(FILE *stream, const char *text)
{
	if (cli_color(stream))
		fprintf(stream, "\033[1m%s\033[0m", text);
	else
		fputs(text, stream);
}

void cli_puts_safe(FILE *stream, const char *text, bool multiline)
{
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		bool keep = multiline && (*p == '\n' || *p == '\t');

		fputc((*p < 0x20 || *p == 0x7f) && !keep ? ' ' : *p, stream);
	}
}

void cli_table_init(cli_table *t, size_t columns)
{
	t->columns = columns;
	t->rows = 0;
	t->cells = NULL;
}

void cli_table_add(cli_table *t, const char *const *cells)
{
	char **grown = realloc(t->cells, (t->rows + 1) * t->columns * sizeof(*grown));

	if (!grown) {
		fputs("aims: out of memory\n", stderr);
		exit(EXIT_USAGE);
	}
	t->cells = grown;
	for (size_t c = 0; c < t->columns; c++) {
		char *copy = strdup(cells[c] ? cells[c] : "-");

		if (!copy) {
			fputs("aims: out of memory\n", stderr);
			exit(EXIT_USAGE);
		}
		/* Control characters would break the alignment (and the
		 * terminal): a manifest is untrusted text. */
		for (char *p = copy; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = ' ';
		t->cells[t->rows * t->columns + c] = copy;
	}
	t->rows++;
}

/* Display width of UTF-8 text: one column per code point. */
static size_t display_width(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

void cli_table_print(const cli_table *t, FILE *stream)
{
	size_t *widths = calloc(t->columns, sizeof(*widths));
	bool color = cli_color(stream);

	if (!widths)
		return;
	for (size_t r = 0; r < t->rows; r++)
		for (size_t c = 0; c < t->columns; c++) {
			size_t w = display_width(t->cells[r * t->columns + c]);

			if (w > widths[c])
				widths[c] = w;
		}
	for (size_t r = 0; r < t->rows; r++) {
		if (r == 0 && color)
			fputs("\033[1m", stream);
		for (size_t c = 0; c < t->columns; c++) {
			const char *cell = t->cells[r * t->columns + c];

			fputs(cell, stream);
			if (c + 1 < t->columns)
				fprintf(stream, "%*s", (int)(widths[c] - display_width(cell) + 2),
					"");
		}
		if (r == 0 && color)
			fputs("\033[0m", stream);
		fputc('\n', stream);
	}
	free(widths);
}

void cli_table_free(cli_table *t)
{
	for (size_t i = 0; i < t->rows * t->columns; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->rows = 0;
}

int cli_print_json(cJSON *json, bool pretty)
{
	char *text;

	if (!json) {
		fputs("aims: out of memory\n", stderr);
		return EXIT_USAGE;
	}
	text = pretty ? cJSON_Print(json) : cJSON_PrintUnformatted(json);
	cJSON_Delete(json);
	if (!text) {
		fputs("aims: out of memory\n", stderr);
		return EXIT_USAGE;
	}
	fputs(text, stdout);
	fputc('\n', stdout);
	free(text);
	return EXIT_OK;
}

const char *cli_display_path(const char *path)
{
	static char cwd[4096];
	size_t len;

	if (path[0] != '/')
		return path[0] == '.' && path[1] == '/' ? path + 2 : path;
	if (!cwd[0] && !getcwd(cwd, sizeof(cwd)))
		return path;
	len = strlen(cwd);
	if (strncmp(path, cwd, len) == 0 && path[len] == '/')
		return path + len + 1;
	return path;
}

int cli_read_input(char **out, size_t *len, const char *path, size_t max, const char *what,
		   const char *command)
{
	aims_error err;

	aims_error_clear(&err);
	if (strcmp(path, "-") == 0) {
		aims_buf buf;
		char chunk[65536];
		ssize_t n;

		aims_buf_init(&buf, max);
		while ((n = read(0, chunk, sizeof(chunk))) != 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 || aims_buf_append(&buf, chunk, (size_t)n) < 0) {
				aims_buf_free(&buf);
				return cli_fail(command, "cannot read %s from stdin: %s", what,
						n < 0 ? strerror(errno) : "it is too large");
			}
		}
		*len = buf.len;
		if (!(*out = aims_buf_detach(&buf)))
			return cli_fail(command, "out of memory");
		return 0;
	}
	if (aims_file_read(out, len, path, max, &err) < 0)
		return cli_fail(command, "%s", err.message);
	return 0;
}

void cli_write_all(int fd, const char *data, size_t len)
{
	while (data && len) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		data += n;
		len -= (size_t)n;
	}
}

int cli_exec_output(const aims_exec_result *result, const char *command)
{
	fflush(stdout);
	cli_write_all(1, result->stdout_data, result->stdout_len);
	cli_write_all(2, result->stderr_data, result->stderr_len);
	if (result->error)
		cli_fail(command, "%s", result->error);
	if (result->exit_code > 0)
		return result->exit_code;
	if (result->exit_code == 0)
		return result->error ? EXIT_FAIL : EXIT_OK;
	if (!result->error)
		cli_fail(command, "the program was killed by signal %d", result->term_signal);
	return EXIT_FAIL;
}

static void show_progress(void *ctx, const char *message)
{
	fprintf(stderr, "aims: %s: %s\n", (const char *)ctx, message);
	fflush(stderr);
}

void cli_progress(aims_exec_progress_fn *fn, void **ctx, const char *command)
{
	if (!isatty(STDERR_FILENO))
		return;
	*fn = show_progress;
	*ctx = (void *)command;
}
