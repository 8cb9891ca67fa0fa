/*
 * main.c - the aims command: finds the subcommand and hands over argv.
 * Each subcommand lives in its own cmd_*.c file and only parses
 * arguments, calls libaims and prints.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cmd_list(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_exec(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_match(int argc, char **argv);

const cli_command cli_commands[] = {
	{"list", "list the skills, tasks, hooks and tools found", cmd_list},
	{"show", "show one definition: its fields and its body", cmd_show},
	{"exec", "run Python, Node.js or Bash code in a sandbox", cmd_exec},
	{"check", "check requirements: which definitions can run here", cmd_check},
	{"validate", "check manifests for CI: file:line:col diagnostics", cmd_validate},
	{"match", "route an utterance: which task, skills and hooks it reaches", cmd_match},
	{NULL, NULL, NULL},
};

static void usage(FILE *out)
{
	fputs("Usage: aims COMMAND [OPTIONS]\n"
	      "\n"
	      "The AIMS skill runtime: load, validate, route and run skills, tasks,\n"
	      "hooks and tools kept as markdown files with YAML front matter.\n"
	      "\n"
	      "Commands:\n",
	      out);
	for (const cli_command *c = cli_commands; c->name; c++)
		fprintf(out, "  %-10s %s\n", c->name, c->summary);
	fputs("\n"
	      "Manifests are read from --skills DIR (repeatable), else from\n"
	      "AIMS_SKILLS_PATH (colon-separated), else ./skills and ./tools.\n"
	      "\n"
	      "Run 'aims COMMAND --help' for the options of a command.\n"
	      "Exit codes: 0 success, 1 failure, 2 usage or internal error.\n",
	      out);
}

int main(int argc, char **argv)
{
	const char *name;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	name = argv[1];
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
		printf("aims %s\n", aims_version());
		return EXIT_OK;
	}
	for (const cli_command *c = cli_commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c->run(argc - 1, argv + 1);
	fprintf(stderr, "aims: %s: unknown command\nTry 'aims --help'.\n", name);
	return EXIT_USAGE;
}
