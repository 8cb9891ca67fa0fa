/*
 * cmd_cache.c - `aims cache list|prune`: the cached package layers
 * (docs/packages.md): which exist, their size and last use; removing the
 * ones not in use.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aims/packages.h"
#include "cli.h"

static void help(void)
{
	puts("Usage: aims cache list [--json]\n"
	     "       aims cache prune [--keep-mb N]\n"
	     "\n"
	     "The package layers of sandboxed code (aims exec -p, \"packages\" in\n"
	     "requests), kept in AIMS_CACHE_DIR (default $XDG_CACHE_HOME/aims, else\n"
	     "~/.cache/aims; /var/cache/aims for root).\n"
	     "\n"
	     "  list            one line per layer, most recently used first: key,\n"
	     "                  language, size, last use, in use, packages\n"
	     "  prune           remove every layer not in use (with --keep-mb N,\n"
	     "                  keep the most recently used ones that fit in N MiB)\n"
	     "\n"
	     "Options:\n"
	     "  --json          list as a JSON array\n"
	     "  --keep-mb N     what prune keeps (default 0)\n"
	     "  -h, --help      show this help");
}

static void format_size(char *out, size_t size, uint64_t bytes)
{
	if (bytes >= (10u << 20))
		snprintf(out, size, "%" PRIu64 " MiB", bytes >> 20);
	else
		snprintf(out, size, "%" PRIu64 " KiB", (bytes + 1023) >> 10);
}

static int list(bool json)
{
	aims_packages_entry *entries = NULL;
	size_t count = 0;
	aims_error err;
	int status = EXIT_OK;

	aims_error_clear(&err);
	if (aims_packages_cache_list(&entries, &count, &err) < 0)
		return cli_fail("cache", "%s", err.message);
	if (json) {
		cJSON *arr = cJSON_CreateArray();

		for (size_t i = 0; arr && i < count; i++) {
			cJSON *obj = cJSON_CreateObject();

			if (!obj || !cJSON_AddItemToArray(arr, obj)) {
				cJSON_Delete(obj);
				cJSON_Delete(arr);
				arr = NULL;
				break;
			}
			cJSON_AddStringToObject(obj, "key", entries[i].key);
			cJSON_AddStringToObject(obj, "language", entries[i].language);
			cJSON_AddStringToObject(obj, "packages", entries[i].packages);
			cJSON_AddNumberToObject(obj, "sizeBytes", (double)entries[i].size_bytes);
			cJSON_AddNumberToObject(obj, "lastUsed", (double)entries[i].last_used);
			cJSON_AddBoolToObject(obj, "inUse", entries[i].in_use);
		}
		status = cli_print_json(arr, true);
	} else {
		cli_table t;
		const char *header[] = {"LAYER",     "LANGUAGE", "SIZE",
					"LAST USED", "IN USE",	 "PACKAGES"};

		cli_table_init(&t, 6);
		cli_table_add(&t, header);
		for (size_t i = 0; i < count; i++) {
			char key[16], size[32], when[32];
			time_t last = (time_t)entries[i].last_used;
			struct tm tm;
			const char *row[6];

			snprintf(key, sizeof(key), "%.12s", entries[i].key);
			format_size(size, sizeof(size), entries[i].size_bytes);
			if (!localtime_r(&last, &tm) ||
			    !strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm))
				snprintf(when, sizeof(when), "-");
			row[0] = key;
			row[1] = entries[i].language;
			row[2] = size;
			row[3] = when;
			row[4] = entries[i].in_use ? "yes" : "no";
			row[5] = entries[i].packages;
			cli_table_add(&t, row);
		}
		if (count)
			cli_table_print(&t, stdout);
		else
			puts("no cached package layers");
		cli_table_free(&t);
	}
	aims_packages_entries_free(entries, count);
	return status;
}

static int prune(uint64_t keep_mb)
{
	size_t removed = 0;
	uint64_t freed = 0;
	char size[32];
	aims_error err;

	aims_error_clear(&err);
	if (aims_packages_cache_prune(&removed, &freed, keep_mb << 20, &err) < 0)
		return cli_fail("cache", "%s", err.message);
	format_size(size, sizeof(size), freed);
	printf("removed %zu layer%s, %s freed\n", removed, removed == 1 ? "" : "s", size);
	return EXIT_OK;
}

int cmd_cache(int argc, char **argv)
{
	static const struct option options[] = {
		{"json", no_argument, NULL, 'j'},
		{"keep-mb", required_argument, NULL, 'k'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	bool json = false, keep_given = false;
	uint64_t keep_mb = 0;
	const char *action;
	char *end;
	int opt;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'j': json = true; break;
		case 'k':
			errno = 0;
			keep_mb = strtoull(optarg, &end, 10);
			if (errno || *end || optarg[0] == '-' || !optarg[0] || keep_mb > (1u << 30))
				return cli_usage_error("cache", "--keep-mb wants a number of MiB");
			keep_given = true;
			break;
		case 'h': help(); return EXIT_OK;
		default: return cli_bad_option("cache", argv);
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error("cache", "give one action: list or prune");
	action = argv[optind];
	if (strcmp(action, "list") == 0) {
		if (keep_given)
			return cli_usage_error("cache", "--keep-mb goes with prune");
		return list(json);
	}
	if (strcmp(action, "prune") == 0) {
		if (json)
			return cli_usage_error("cache", "--json goes with list");
		return prune(keep_mb);
	}
	return cli_usage_error("cache", "unknown action '%s': use list or prune", action);
}
