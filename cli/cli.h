/*
 * cli.h - shared by the aims subcommands: option helpers, registry set-up,
 * error printing, tables and colour.
 */
#ifndef AIMS_CLI_H
#define AIMS_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "aims/core.h"
#include "aims/exec.h"
#include "aims/json.h"
#include "aims/registry.h"

/* Exit codes shared by every command. */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* A subcommand: returns its exit code. argv[0] is the command name. */
typedef struct cli_command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
} cli_command;

extern const cli_command cli_commands[];

/* Prints "aims: <what>: <why>" to stderr. Returns EXIT_FAIL. */
int cli_fail(const char *what, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "aims: <what>: <why>" and a pointer to --help. Returns EXIT_USAGE. */
int cli_usage_error(const char *command, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The usage error for an option getopt_long refused (unknown, or missing
 * its value): names the option as given. Returns EXIT_USAGE. */
int cli_bad_option(const char *command, char **argv);

/* Exit code for a library failure: EXIT_USAGE for internal errors (ENOMEM,
 * EIO), EXIT_FAIL otherwise. */
int cli_exit_for(int rc);

/* The --skills DIR options of a command (repeatable). */
typedef struct cli_paths {
	const char **items;
	size_t count;
} cli_paths;

/* Appends a path; exits with EXIT_USAGE on ENOMEM (nothing to recover). */
void cli_paths_add(cli_paths *paths, const char *path);
void cli_paths_free(cli_paths *paths);

/* Loads the registry from paths, or the default search path when empty.
 * On failure prints the error and returns the exit code (> 0). */
int cli_load_registry(aims_registry **out, const cli_paths *paths);

/* True when colour should be used on stream (a TTY, NO_COLOR unset). */
bool cli_color(FILE *stream);
/* Prints text in bold/dim when colour is on. */
void cli_bold(FILE *stream, const char *text);

/* Prints untrusted text (manifest content) with control characters
 * replaced by spaces, so it cannot drive the terminal; newlines and tabs
 * are kept when multiline. */
void cli_puts_safe(FILE *stream, const char *text, bool multiline);

/* A simple aligned table: add rows of `columns` cells, then print. */
typedef struct cli_table {
	size_t columns;
	size_t rows;
	char **cells; /* rows * columns, owned */
} cli_table;

void cli_table_init(cli_table *t, size_t columns);
/* Adds a row of columns strings (copied; NULL prints as "-"). */
void cli_table_add(cli_table *t, const char *const *cells);
/* Prints with columns aligned (display width of UTF-8), the first row
 * (header) in bold when colour is on. */
void cli_table_print(const cli_table *t, FILE *stream);
void cli_table_free(cli_table *t);

/* Prints a cJSON tree (formatted) and a newline; frees it. Returns
 * EXIT_OK, or EXIT_USAGE when json is NULL (out of memory). */
int cli_print_json(cJSON *json, bool pretty);

/* Path as shown to the user: relative to the working directory when it is
 * below it. Returns a pointer into path or a static buffer. */
const char *cli_display_path(const char *path);

/* Reads a file, or stdin for "-", up to max bytes. On failure prints
 * "aims: <command>: ..." and returns EXIT_FAIL. */
int cli_read_input(char **out, size_t *len, const char *path, size_t max, const char *what,
		   const char *command);

/* Writes all of data to fd (retrying short writes). */
void cli_write_all(int fd, const char *data, size_t len);

/* Prints an execution's stdout and stderr as they are, and its error as
 * "aims: <command>: ..."; returns the exit status to use: the program's
 * exit code, or EXIT_FAIL when a limit or a signal ended it. */
int cli_exec_output(const aims_exec_result *result, const char *command);
/* Sets *fn and *ctx to show the progress of long work (package installs)
 * on stderr as "aims: COMMAND: ...", only when stderr is a terminal;
 * leaves them as they are otherwise. */
void cli_progress(aims_exec_progress_fn *fn, void **ctx, const char *command);

/* Prints a definition for the terminal: fields, problems, then the body
 * (cmd_show.c). */
void cli_print_definition(const aims_manifest *m);

#endif
