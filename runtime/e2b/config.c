/*
 * config.c - where E2B is and how to talk to it: the settings E2B's SDKs
 * read from the environment, the checks on them (a well-formed key; https
 * unless the host is loopback) and the data-plane address of a sandbox
 * port.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/http_client.h"
#include "e2b/e2b_int.h"

static void config_defaults(aims_e2b_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->domain, sizeof(cfg->domain), "%s", AIMS_E2B_DEFAULT_DOMAIN);
	snprintf(cfg->template_id, sizeof(cfg->template_id), "%s", AIMS_E2B_TEMPLATE);
	cfg->request_timeout_ms = 30000;
	cfg->create_budget_ms = 60000;
	cfg->create_attempts = 4;
	cfg->retry_base_ms = 1000;
	cfg->retry_max_ms = 10000;
	cfg->install_timeout_ms = 300000;
	cfg->delete_timeout_ms = 10000;
	cfg->lifetime_margin_s = 30;
}

/* Copies an environment value; an over-long one is an error, not a cut. */
static int env_copy(char *out, size_t out_len, const char *name, aims_error *err)
{
	const char *value = getenv(name);

	if (!value || !*value)
		return 0;
	if (strlen(value) >= out_len)
		return aims_error_set(err, AIMS_EINVALID, "%s is longer than %zu characters", name,
				      out_len - 1);
	snprintf(out, out_len, "%s", value);
	return 0;
}

static void strip_slashes(char *url)
{
	size_t n = strlen(url);

	while (n > 0 && url[n - 1] == '/')
		url[--n] = '\0';
}

int aims_e2b_config_from_env(aims_e2b_config *cfg, aims_error *err)
{
	const char *debug = getenv("E2B_DEBUG");
	const char *key = getenv("E2B_API_KEY");
	int rc;

	config_defaults(cfg);
	if (!key || !*key)
		return aims_error_set(err, AIMS_EAUTH,
				      "E2B_API_KEY is not set: get a key at "
				      "https://e2b.dev/dashboard and export it");
	if (strlen(key) >= sizeof(cfg->api_key))
		return aims_error_set(err, AIMS_EAUTH,
				      "E2B_API_KEY is malformed: expected 'e2b_' followed by hex "
				      "digits");
	snprintf(cfg->api_key, sizeof(cfg->api_key), "%s", key);
	if ((rc = env_copy(cfg->domain, sizeof(cfg->domain), "E2B_DOMAIN", err)) < 0 ||
	    (rc = env_copy(cfg->api_url, sizeof(cfg->api_url), "E2B_API_URL", err)) < 0 ||
	    (rc = env_copy(cfg->sandbox_url, sizeof(cfg->sandbox_url), "E2B_SANDBOX_URL", err)) < 0)
		return rc;
	cfg->debug = debug && strcasecmp(debug, "true") == 0;
	if (!cfg->api_url[0]) {
		if (cfg->debug)
			snprintf(cfg->api_url, sizeof(cfg->api_url), "http://localhost:3000");
		else if ((size_t)snprintf(cfg->api_url, sizeof(cfg->api_url), "https://api.%s",
					  cfg->domain) >= sizeof(cfg->api_url))
			return aims_error_set(err, AIMS_EINVALID, "E2B_DOMAIN is too long");
	}
	strip_slashes(cfg->api_url);
	strip_slashes(cfg->sandbox_url);
	return aims_e2b_config_check(cfg, err);
}

static int key_well_formed(const char *key)
{
	size_t n = strlen(key);

	if (n <= 4 || strncmp(key, "e2b_", 4) != 0)
		return 0;
	for (size_t i = 4; i < n; i++)
		if (!isxdigit((unsigned char)key[i]))
			return 0;
	return 1;
}

static int host_well_formed(const char *host)
{
	size_t n = strlen(host);

	if (n == 0 || n > 253)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)host[i]) && host[i] != '-' && host[i] != '.')
			return 0;
	return 1;
}

static int url_check(const char *url, const char *what, aims_error *err)
{
	if (strncmp(url, "https://", 8) == 0)
		return 0;
	if (strncmp(url, "http://", 7) != 0)
		return aims_error_set(err, AIMS_EINVALID, "%s must be an http(s) URL, not '%.100s'",
				      what, url);
	if (!aims_http_url_is_loopback(url))
		return aims_error_set(
			err, AIMS_EINVALID,
			"%s uses plain http to a host that is not loopback ('%.100s'): "
			"use https, or http only on 127.0.0.1/localhost",
			what, url);
	return 0;
}

int aims_e2b_config_check(const aims_e2b_config *cfg, aims_error *err)
{
	int rc;

	if (!cfg->api_key[0])
		return aims_error_set(err, AIMS_EAUTH,
				      "E2B_API_KEY is not set: get a key at "
				      "https://e2b.dev/dashboard and export it");
	if (!key_well_formed(cfg->api_key))
		return aims_error_set(err, AIMS_EAUTH,
				      "E2B_API_KEY is malformed: expected 'e2b_' followed by hex "
				      "digits (find your key at https://e2b.dev/dashboard)");
	if (!host_well_formed(cfg->domain))
		return aims_error_set(err, AIMS_EINVALID, "E2B_DOMAIN '%.100s' is not a host name",
				      cfg->domain);
	if ((rc = url_check(cfg->api_url, "E2B_API_URL", err)) < 0)
		return rc;
	if (cfg->sandbox_url[0] && (rc = url_check(cfg->sandbox_url, "E2B_SANDBOX_URL", err)) < 0)
		return rc;
	if (!cfg->template_id[0] || cfg->create_attempts == 0)
		return aims_error_set(err, AIMS_EINVALID, "the E2B configuration is incomplete");
	return 0;
}

int e2b_data_url(char *out, size_t out_len, const aims_e2b_config *cfg, const e2b_sandbox *sb,
		 int port, aims_error *err)
{
	const char *domain = sb->domain[0] ? sb->domain : cfg->domain;
	int n;

	if (cfg->sandbox_url[0])
		/* One host for every sandbox, routed by the E2b-Sandbox-* headers. */
		n = snprintf(out, out_len, "%s", cfg->sandbox_url);
	else if (cfg->debug)
		n = snprintf(out, out_len, "http://localhost:%d", port);
	else
		n = snprintf(out, out_len, "https://%d-%s.%s", port, sb->id, domain);
	if (n < 0 || (size_t)n >= out_len)
		return aims_error_set(err, AIMS_EINVALID, "the sandbox address is too long");
	return 0;
}
