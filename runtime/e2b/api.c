/*
 * api.c - E2B's control plane (JSON over HTTPS, X-API-Key): create a
 * sandbox with bounded retries, set its lifetime, delete it, and find the
 * sandboxes of one run by metadata (the ones whose creation answer never
 * arrived). Messages name what failed in E2B's words; the key is only ever
 * in a request header.
 */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/http_client.h"
#include "e2b/e2b_int.h"

#define HEADER_MAX 700

typedef struct api_headers {
	char key[HEADER_MAX];
	const char *list[5];
} api_headers;

static void api_headers_init(api_headers *h, const aims_e2b_config *cfg)
{
	snprintf(h->key, sizeof(h->key), "X-API-Key: %s", cfg->api_key);
	h->list[0] = h->key;
	h->list[1] = "Content-Type: application/json";
	h->list[2] = "Accept: application/json";
	h->list[3] = NULL;
}

static void api_headers_wipe(api_headers *h)
{
	explicit_bzero(h->key, sizeof(h->key));
}

void e2b_error_text(char *out, size_t out_len, const char *body, size_t len)
{
	cJSON *obj = body && len ? cJSON_ParseWithLength(body, len) : NULL;
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(obj, "message");
	const char *src = cJSON_IsString(msg) ? msg->valuestring : body;
	size_t n = 0, i = 0, src_len = cJSON_IsString(msg) ? strlen(src) : (body ? len : 0);

	for (; i < src_len && n + 4 < out_len && n < 200; i++) {
		char c = src[i];

		if (c == '\n' || c == '\r' || c == '\t')
			c = ' ';
		if ((unsigned char)c < 0x20 || c == 0x7f)
			continue;
		out[n++] = c;
	}
	if (i < src_len) {
		/* Cut short: drop the word cut in two, which could be part of
		 * the API key E2B repeats (redaction matches the whole key
		 * only) or half of a UTF-8 character, and say so. */
		while (n > 0 && out[n - 1] != ' ')
			n--;
		while (n > 0 && out[n - 1] == ' ')
			n--;
		memcpy(out + n, n ? " \xe2\x80\xa6" : "\xe2\x80\xa6", n ? 4 : 3);
		n += n ? 4 : 3;
	}
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
	if (n == 0)
		snprintf(out, out_len, "no details");
	cJSON_Delete(obj);
}

static bool id_ok(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)id[i]) && id[i] != '-')
			return false;
	return true;
}

static bool token_ok(const char *t, size_t max)
{
	size_t n = strlen(t);

	if (n >= max)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)t[i] <= 0x20 || t[i] == 0x7f)
			return false;
	return true;
}

static char *create_body(const aims_e2b_config *cfg, const e2b_create_params *p)
{
	cJSON *root = cJSON_CreateObject(), *meta, *env;
	char *text = NULL;

	if (!root)
		return NULL;
	cJSON_AddStringToObject(root, "templateID", cfg->template_id);
	cJSON_AddNumberToObject(root, "timeout", p->timeout_s);
	cJSON_AddBoolToObject(root, "secure", 1);
	meta = cJSON_AddObjectToObject(root, "metadata");
	env = cJSON_AddObjectToObject(root, "envVars");
	if (!meta || !env)
		goto out;
	cJSON_AddStringToObject(meta, "createdBy", "aims");
	cJSON_AddStringToObject(meta, "aimsRun", p->run_tag);
	for (size_t i = 0; p->env && p->env[i]; i++) {
		const char *eq = strchr(p->env[i], '=');
		char name[256];

		if (!eq || (size_t)(eq - p->env[i]) >= sizeof(name))
			continue; /* checked by the caller */
		memcpy(name, p->env[i], (size_t)(eq - p->env[i]));
		name[eq - p->env[i]] = '\0';
		cJSON_AddStringToObject(env, name, eq + 1);
	}
	text = cJSON_PrintUnformatted(root);
out:
	cJSON_Delete(root);
	return text;
}

static void copy_string(char *out, size_t out_len, const cJSON *obj, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	out[0] = '\0';
	if (cJSON_IsString(item) && strlen(item->valuestring) < out_len)
		snprintf(out, out_len, "%s", item->valuestring);
}

static int parse_created(e2b_sandbox *out, const char *body, size_t len)
{
	cJSON *obj = cJSON_ParseWithLength(body, len);
	int ok;

	memset(out, 0, sizeof(*out));
	copy_string(out->id, sizeof(out->id), obj, "sandboxID");
	copy_string(out->domain, sizeof(out->domain), obj, "domain");
	copy_string(out->envd_token, sizeof(out->envd_token), obj, "envdAccessToken");
	copy_string(out->traffic_token, sizeof(out->traffic_token), obj, "trafficAccessToken");
	copy_string(out->envd_version, sizeof(out->envd_version), obj, "envdVersion");
	ok = cJSON_IsObject(obj) && id_ok(out->id) &&
	     token_ok(out->envd_token, sizeof(out->envd_token)) &&
	     token_ok(out->traffic_token, sizeof(out->traffic_token));
	for (const char *d = out->domain; ok && *d; d++)
		if (!isalnum((unsigned char)*d) && *d != '-' && *d != '.')
			ok = 0;
	cJSON_Delete(obj);
	return ok ? 0 : AIMS_EUPSTREAM;
}

/* Sleeps ms, or less when a cancel fd fires (then returns AIMS_ECANCELED). */
static int wait_ms(uint32_t ms, const int cancel_fds[2])
{
	struct pollfd fds[2];
	nfds_t n = 0;
	uint64_t end = aims_http_now_ms() + ms, now;

	for (int i = 0; i < 2; i++)
		if (cancel_fds[i] >= 0) {
			fds[n].fd = cancel_fds[i];
			fds[n].events = POLLIN;
			n++;
		}
	while ((now = aims_http_now_ms()) < end) {
		int r = poll(fds, n, (int)(end - now));

		if (r > 0)
			return AIMS_ECANCELED;
	}
	return 0;
}

enum failure { FAIL_NONE, FAIL_BUSY, FAIL_SERVER, FAIL_TIMEOUT, FAIL_TRANSPORT };

int e2b_create(e2b_sandbox *out, bool *maybe_orphans, const aims_e2b_config *cfg,
	       const e2b_create_params *params, aims_error *err)
{
	api_headers headers;
	aims_http_request req;
	aims_http_response resp = {0};
	aims_error attempt_err;
	char url[600], why[256] = "", *body = NULL;
	uint64_t start = aims_http_now_ms(), budget_end = start + cfg->create_budget_ms, now;
	enum failure last = FAIL_NONE;
	unsigned attempt;
	int rc = 0;

	*maybe_orphans = false;
	api_headers_init(&headers, cfg);
	if (!(body = create_body(cfg, params))) {
		rc = aims_error_set(err, AIMS_ENOMEM, "out of memory");
		goto out;
	}
	snprintf(url, sizeof(url), "%s/sandboxes", cfg->api_url);

	for (attempt = 1; attempt <= cfg->create_attempts; attempt++) {
		uint64_t delay;

		now = aims_http_now_ms();
		aims_http_request_init(&req);
		req.method = "POST";
		req.url = url;
		req.headers = headers.list;
		req.body = body;
		req.body_len = strlen(body);
		req.deadline_ms = now + cfg->request_timeout_ms;
		if (req.deadline_ms > budget_end)
			req.deadline_ms = budget_end;
		req.cancel_fds[0] = params->cancel_fds[0];
		req.cancel_fds[1] = params->cancel_fds[1];
		req.max_body = AIMS_E2B_MAX_RESPONSE;
		aims_error_clear(&attempt_err);
		aims_http_response_free(&resp);
		rc = aims_http_perform(&resp, &req, &attempt_err);
		if (rc == AIMS_ECANCELED) {
			*maybe_orphans = true; /* the request may have reached E2B */
			aims_error_set(err, rc,
				       "the execution was canceled while E2B was creating "
				       "the sandbox");
			goto out;
		}
		if (rc == AIMS_ETIMEOUT || rc == AIMS_EUPSTREAM) {
			*maybe_orphans = true;
			last = rc == AIMS_ETIMEOUT ? FAIL_TIMEOUT : FAIL_TRANSPORT;
			snprintf(why, sizeof(why), "%.200s", attempt_err.message);
		} else if (rc < 0) {
			aims_error_set(err, rc, "%s", attempt_err.message);
			goto out;
		} else if (resp.status == 201 || resp.status == 200) {
			if (parse_created(out, resp.body.ptr ? resp.body.ptr : "", resp.body.len) <
			    0) {
				*maybe_orphans = true;
				rc = aims_error_set(err, AIMS_EUPSTREAM,
						    "E2B answered the sandbox creation with a body "
						    "this client cannot read");
			}
			goto out;
		} else {
			e2b_error_text(why, sizeof(why), resp.body.ptr, resp.body.len);
			if (resp.status == 401 || resp.status == 403) {
				rc = aims_error_set(
					err, AIMS_EAUTH,
					"E2B rejected the API key (HTTP %ld: %s): check "
					"E2B_API_KEY",
					resp.status, why);
				goto out;
			}
			if (resp.status == 429) {
				last = FAIL_BUSY;
			} else if (resp.status >= 500) {
				/* A gateway's 502-504 may come after E2B made the
				 * sandbox: look for it afterwards. */
				last = FAIL_SERVER;
				*maybe_orphans = true;
			} else {
				rc = aims_error_set(
					err, resp.status == 400 ? AIMS_EINVALID : AIMS_EUPSTREAM,
					"E2B refused to create a '%s' sandbox (HTTP %ld: "
					"%s)",
					cfg->template_id, resp.status, why);
				goto out;
			}
			/* keep why for the final message */
			char tmp[256];

			snprintf(tmp, sizeof(tmp), "HTTP %ld: %.200s", resp.status, why);
			snprintf(why, sizeof(why), "%s", tmp);
		}
		if (attempt == cfg->create_attempts)
			break;
		delay = (uint64_t)cfg->retry_base_ms << (attempt - 1);
		if (resp.retry_after_ms >= 0)
			delay = (uint64_t)resp.retry_after_ms;
		if (delay > cfg->retry_max_ms)
			delay = cfg->retry_max_ms;
		now = aims_http_now_ms();
		if (now + delay >= budget_end)
			break; /* the budget would be over before the next attempt */
		if (wait_ms((uint32_t)delay, params->cancel_fds) < 0) {
			rc = aims_error_set(err, AIMS_ECANCELED,
					    "the execution was canceled while waiting to retry the "
					    "sandbox creation");
			goto out;
		}
	}
	if (attempt > cfg->create_attempts)
		attempt = cfg->create_attempts;
	now = aims_http_now_ms();
	switch (last) {
	case FAIL_BUSY:
		rc = aims_error_set(
			err, AIMS_EBUSY,
			"E2B refused to create a sandbox: too many requests or sandboxes "
			"running (%s); gave up after %u attempt(s) in %.1f s",
			why, attempt, (double)(now - start) / 1000.0);
		break;
	case FAIL_SERVER:
		rc = aims_error_set(err, AIMS_EUPSTREAM,
				    "E2B failed to create a sandbox (%s); gave up after %u "
				    "attempt(s) in %.1f s",
				    why, attempt, (double)(now - start) / 1000.0);
		break;
	case FAIL_TIMEOUT:
		rc = aims_error_set(err, AIMS_ETIMEOUT,
				    "E2B did not create a sandbox in time (E2B may be under load); "
				    "gave up after %u attempt(s) in %.1f s",
				    attempt, (double)(now - start) / 1000.0);
		break;
	default:
		rc = aims_error_set(err, AIMS_EUPSTREAM,
				    "cannot reach E2B to create a sandbox (%s); gave up after %u "
				    "attempt(s) in %.1f s",
				    why, attempt, (double)(now - start) / 1000.0);
		break;
	}
out:
	aims_http_response_free(&resp);
	api_headers_wipe(&headers);
	free(body);
	return rc;
}

/* One control-plane call without a body to keep. */
static int simple_call(long *out_status, char *why, size_t why_len, const aims_e2b_config *cfg,
		       const char *method, const char *url, const char *body,
		       const int cancel_fds[2], uint32_t timeout_ms, aims_error *err)
{
	api_headers headers;
	aims_http_request req;
	aims_http_response resp;
	int rc;

	api_headers_init(&headers, cfg);
	aims_http_request_init(&req);
	req.method = method;
	req.url = url;
	req.headers = headers.list;
	req.body = body;
	req.body_len = body ? strlen(body) : 0;
	req.deadline_ms = aims_http_now_ms() + timeout_ms;
	if (cancel_fds) {
		req.cancel_fds[0] = cancel_fds[0];
		req.cancel_fds[1] = cancel_fds[1];
	}
	req.max_body = AIMS_E2B_MAX_RESPONSE;
	rc = aims_http_perform(&resp, &req, err);
	*out_status = resp.status;
	if (rc == 0)
		e2b_error_text(why, why_len, resp.body.ptr, resp.body.len);
	aims_http_response_free(&resp);
	api_headers_wipe(&headers);
	return rc;
}

int e2b_delete(const aims_e2b_config *cfg, const char *id, aims_error *err)
{
	uint64_t end = aims_http_now_ms() + cfg->delete_timeout_ms;
	char url[700], why[256] = "";
	long status = 0;
	int rc = 0;

	snprintf(url, sizeof(url), "%s/sandboxes/%s", cfg->api_url, id);
	/* Both attempts share delete_timeout_ms: the shutdown's budget holds. */
	for (int attempt = 0; attempt < 2; attempt++) {
		uint64_t now = aims_http_now_ms();
		aims_error one;

		if (now + 50 >= end) {
			rc = rc < 0 ? rc : AIMS_ETIMEOUT;
			break;
		}
		aims_error_clear(&one);
		rc = simple_call(&status, why, sizeof(why), cfg, "DELETE", url, NULL, NULL,
				 (uint32_t)(end - now), &one);
		if (rc == 0 && (status == 204 || status == 200 || status == 404))
			return 0; /* 404: already gone, which is what we wanted */
		if (rc == 0 && status < 500 && status != 429)
			return aims_error_set(err, status == 401 ? AIMS_EAUTH : AIMS_EUPSTREAM,
					      "E2B refused to delete sandbox %s (HTTP %ld: %s)", id,
					      status, why);
		if (attempt == 0) {
			static const int none[2] = {-1, -1};

			wait_ms(200, none);
			continue;
		}
		if (rc < 0)
			return aims_error_set(err, rc, "cannot delete sandbox %s: %s", id,
					      one.message);
	}
	if (rc == AIMS_ETIMEOUT)
		return aims_error_set(err, rc, "cannot delete sandbox %s within %u ms", id,
				      (unsigned)cfg->delete_timeout_ms);
	return aims_error_set(err, AIMS_EUPSTREAM, "E2B failed to delete sandbox %s (HTTP %ld: %s)",
			      id, status, why);
}

int e2b_set_timeout(const aims_e2b_config *cfg, const char *id, unsigned secs,
		    const int cancel_fds[2], aims_error *err)
{
	char url[700], body[64], why[256] = "";
	long status = 0;
	int rc;

	snprintf(url, sizeof(url), "%s/sandboxes/%s/timeout", cfg->api_url, id);
	snprintf(body, sizeof(body), "{\"timeout\":%u}", secs);
	rc = simple_call(&status, why, sizeof(why), cfg, "POST", url, body, cancel_fds,
			 cfg->request_timeout_ms, err);
	if (rc < 0)
		return rc;
	if (status == 204 || status == 200)
		return 0;
	if (status == 404)
		return aims_error_set(err, AIMS_EUPSTREAM,
				      "the sandbox is gone or timed out (E2B answered 404 when "
				      "extending its lifetime: %s)",
				      why);
	if (status == 401 || status == 403)
		return aims_error_set(err, AIMS_EAUTH, "E2B rejected the API key (HTTP %ld: %s)",
				      status, why);
	return aims_error_set(err, AIMS_EUPSTREAM,
			      "E2B failed to extend the sandbox lifetime (HTTP %ld: %s)", status,
			      why);
}

int e2b_delete_tagged(size_t *out_deleted, const aims_e2b_config *cfg, const char *tag,
		      aims_error *err)
{
	api_headers headers;
	aims_http_request req;
	aims_http_response resp;
	cJSON *root = NULL;
	const cJSON *list, *item;
	char url[700];
	size_t deleted = 0;
	int rc;

	*out_deleted = 0;
	for (const char *t = tag; *t; t++)
		if (!isalnum((unsigned char)*t))
			return aims_error_set(err, AIMS_EINVALID, "bad run tag");
	/* metadata=<url-encoded "aimsRun=<tag>">, as the SDKs' list filter. */
	snprintf(url, sizeof(url), "%s/v2/sandboxes?metadata=aimsRun%%3D%s&state=running,paused",
		 cfg->api_url, tag);
	api_headers_init(&headers, cfg);
	aims_http_request_init(&req);
	req.url = url;
	req.headers = headers.list;
	req.deadline_ms = aims_http_now_ms() + cfg->delete_timeout_ms;
	req.max_body = AIMS_E2B_MAX_RESPONSE;
	rc = aims_http_perform(&resp, &req, err);
	api_headers_wipe(&headers);
	if (rc < 0)
		goto out;
	if (resp.status != 200) {
		rc = aims_error_set(err, AIMS_EUPSTREAM, "E2B could not list sandboxes (HTTP %ld)",
				    resp.status);
		goto out;
	}
	root = cJSON_ParseWithLength(resp.body.ptr ? resp.body.ptr : "", resp.body.len);
	list = cJSON_IsArray(root) ? root : cJSON_GetObjectItemCaseSensitive(root, "sandboxes");
	cJSON_ArrayForEach(item, list)
	{
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(item, "sandboxID");

		if (cJSON_IsString(id) && id_ok(id->valuestring)) {
			aims_error one;

			aims_error_clear(&one);
			if (e2b_delete(cfg, id->valuestring, &one) == 0)
				deleted++;
			else if (rc == 0)
				rc = aims_error_set(err, one.code, "%s", one.message);
		}
	}
	*out_deleted = deleted;
out:
	cJSON_Delete(root);
	aims_http_response_free(&resp);
	return rc;
}
