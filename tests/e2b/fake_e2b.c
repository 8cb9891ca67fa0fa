/*
 * fake_e2b.c - the local E2B stand-in of fake_e2b.h, on libmicrohttpd
 * (thread per connection, so a handler may sleep to be slow).
 */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "support.h"
#include "fake_e2b.h"

#define MAX_CREATE_QUEUE 16
#define MAX_SANDBOXES	 256
#define MAX_BODY	 (8u << 20)

typedef struct sandbox {
	char id[32];
	char token[48];
	char traffic[48];
	char run_tag[64];
	bool alive;
	bool lost;
	unsigned timeout_s;
} sandbox;

typedef struct create_answer {
	int status;
	int retry_after_s;
	unsigned delay_ms;
} create_answer;

struct fake_e2b {
	struct MHD_Daemon *daemon;
	char url[64];
	char api_key[128];
	pthread_mutex_t lock;
	bool stopping;

	fake_request **reqs;
	size_t req_count, req_cap;

	create_answer queue[MAX_CREATE_QUEUE];
	size_t queue_len, queue_next;
	bool lose;

	sandbox boxes[MAX_SANDBOXES];
	size_t box_count;

	char *exec_text; /* the scripted lines, each ending in '\n' */
	size_t exec_chunk;
	unsigned exec_delay_ms;
	fake_exec_mode exec_mode;
	int exec_status;

	int proc_exit;
	char *proc_out, *proc_err, *proc_final_error;
	size_t proc_chunk;

	size_t cut_by_client;
	uint64_t last_cut_ms;
};

uint64_t fake_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0)
		;
}

static char *dup_or_die(const char *s)
{
	char *d = strdup(s ? s : "");

	assert_non_null(d);
	return d;
}

/* --- base64, written here independently of the client's --- */

static char *b64(const char *data, size_t len)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = malloc(4 * ((len + 2) / 3) + 1), *o = out;

	assert_non_null(out);
	for (size_t i = 0; i < len; i += 3) {
		unsigned char b0 = (unsigned char)data[i];
		unsigned char b1 = i + 1 < len ? (unsigned char)data[i + 1] : 0;
		unsigned char b2 = i + 2 < len ? (unsigned char)data[i + 2] : 0;

		*o++ = a[b0 >> 2];
		*o++ = a[((b0 & 3) << 4) | (b1 >> 4)];
		*o++ = i + 1 < len ? a[((b1 & 15) << 2) | (b2 >> 6)] : '=';
		*o++ = i + 2 < len ? a[b2 & 63] : '=';
	}
	*o = '\0';
	return out;
}

/* --- growing byte strings for building answers --- */

typedef struct bytes {
	char *ptr;
	size_t len, cap;
} bytes;

static void bytes_add(bytes *b, const void *data, size_t len)
{
	if (b->len + len + 1 > b->cap) {
		b->cap = (b->len + len + 1) * 2;
		b->ptr = realloc(b->ptr, b->cap);
		assert_non_null(b->ptr);
	}
	memcpy(b->ptr + b->len, data, len);
	b->len += len;
	b->ptr[b->len] = '\0';
}

static void bytes_envelope(bytes *b, unsigned flags, const char *json)
{
	size_t n = strlen(json);
	unsigned char head[5] = {(unsigned char)flags, (unsigned char)(n >> 24),
				 (unsigned char)(n >> 16), (unsigned char)(n >> 8),
				 (unsigned char)n};

	bytes_add(b, head, 5);
	bytes_add(b, json, n);
}

/* --- recording --- */

typedef struct conn {
	bytes body;
	bool too_big;
} conn;

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
				      const char *value)
{
	fake_request *r = cls;

	(void)kind;
	r->headers = realloc(r->headers, (r->header_count + 1) * sizeof(*r->headers));
	assert_non_null(r->headers);
	r->headers[r->header_count].name = dup_or_die(key);
	r->headers[r->header_count].value = dup_or_die(value);
	r->header_count++;
	return MHD_YES;
}

static fake_request *record(fake_e2b *f, struct MHD_Connection *c, const char *method,
			    const char *url, conn *cs)
{
	fake_request *r = calloc(1, sizeof(*r));
	const char *meta = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "metadata");

	assert_non_null(r);
	r->method = dup_or_die(method);
	r->path = dup_or_die(url);
	r->metadata_query = meta ? dup_or_die(meta) : NULL;
	r->body = malloc(cs->body.len + 1);
	assert_non_null(r->body);
	if (cs->body.len)
		memcpy(r->body, cs->body.ptr, cs->body.len);
	r->body[cs->body.len] = '\0';
	r->body_len = cs->body.len;
	r->at_ms = fake_now_ms();
	{
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

		if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
			r->client_port =
				ntohs(((const struct sockaddr_in *)(const void *)ci->client_addr)
					      ->sin_port);
	}
	MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, r);
	pthread_mutex_lock(&f->lock);
	if (f->req_count == f->req_cap) {
		f->req_cap = f->req_cap ? f->req_cap * 2 : 32;
		f->reqs = realloc(f->reqs, f->req_cap * sizeof(*f->reqs));
		assert_non_null(f->reqs);
	}
	f->reqs[f->req_count++] = r;
	pthread_mutex_unlock(&f->lock);
	return r;
}

static void request_free(fake_request *r)
{
	for (size_t i = 0; i < r->header_count; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	free(r->headers);
	free(r->method);
	free(r->path);
	free(r->metadata_query);
	free(r->body);
	free(r);
}

const char *fake_request_header(const fake_request *r, const char *name)
{
	for (size_t i = 0; i < r->header_count; i++)
		if (strcasecmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}

/* --- answers --- */

static enum MHD_Result answer(struct MHD_Connection *c, int status, const char *content_type,
			      const char *text, int retry_after_s)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (content_type)
		MHD_add_response_header(resp, "Content-Type", content_type);
	if (retry_after_s >= 0) {
		char v[16];

		snprintf(v, sizeof(v), "%d", retry_after_s);
		MHD_add_response_header(resp, "Retry-After", v);
	}
	ret = MHD_queue_response(c, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result answer_error(struct MHD_Connection *c, int status, int retry_after_s,
				    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static enum MHD_Result answer_error(struct MHD_Connection *c, int status, int retry_after_s,
				    const char *fmt, ...)
{
	char msg[512], body[700];
	va_list ap;
	cJSON *o = cJSON_CreateObject();
	char *text;
	enum MHD_Result ret;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cJSON_AddNumberToObject(o, "code", status);
	cJSON_AddStringToObject(o, "message", msg);
	text = cJSON_PrintUnformatted(o);
	snprintf(body, sizeof(body), "%s", text);
	ret = answer(c, status, "application/json", body, retry_after_s);
	cJSON_free(text);
	cJSON_Delete(o);
	return ret;
}

/* A streamed answer: the bytes in pieces, then what the mode says. */
typedef struct stream {
	fake_e2b *f;
	char *data;
	size_t len, sent, chunk;
	unsigned delay_ms;
	fake_exec_mode mode;
	bool completed;
	uint64_t started_ms;
} stream;

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	stream *s = cls;
	size_t n;
	bool stopping;

	(void)pos;
	if (s->sent < s->len) {
		if (s->sent > 0 && s->delay_ms)
			sleep_ms(s->delay_ms);
		n = s->len - s->sent;
		if (n > s->chunk)
			n = s->chunk;
		if (n > max)
			n = max;
		memcpy(buf, s->data + s->sent, n);
		s->sent += n;
		return (ssize_t)n;
	}
	switch (s->mode) {
	case FAKE_EXEC_SLOW:
	case FAKE_EXEC_LINGER:
		pthread_mutex_lock(&s->f->lock);
		stopping = s->f->stopping;
		pthread_mutex_unlock(&s->f->lock);
		if (stopping || fake_now_ms() - s->started_ms > 20000)
			break;
		sleep_ms(100);
		n = strlen("{\"type\": \"keepalive\"}\n");
		memcpy(buf, "{\"type\": \"keepalive\"}\n", n);
		return (ssize_t)n;
	case FAKE_EXEC_ABORT: return MHD_CONTENT_READER_END_WITH_ERROR;
	default: break;
	}
	s->completed = true;
	return MHD_CONTENT_READER_END_OF_STREAM;
}

static void stream_free(void *cls)
{
	stream *s = cls;

	if (!s->completed && s->mode != FAKE_EXEC_ABORT) {
		pthread_mutex_lock(&s->f->lock);
		s->f->cut_by_client++;
		s->f->last_cut_ms = fake_now_ms();
		pthread_mutex_unlock(&s->f->lock);
	}
	free(s->data);
	free(s);
}

static enum MHD_Result answer_stream(fake_e2b *f, struct MHD_Connection *c,
				     const char *content_type, bytes *data, size_t chunk,
				     unsigned delay_ms, fake_exec_mode mode)
{
	stream *s = calloc(1, sizeof(*s));
	struct MHD_Response *resp;
	enum MHD_Result ret;

	assert_non_null(s);
	s->f = f;
	s->data = data->ptr;
	s->len = data->len;
	s->chunk = chunk ? chunk : 4096;
	s->delay_ms = delay_ms;
	s->mode = mode;
	s->started_ms = fake_now_ms();
	data->ptr = NULL;
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, s,
						 stream_free);
	MHD_add_response_header(resp, "Content-Type", content_type);
	ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* --- the control plane --- */

static sandbox *find_box(fake_e2b *f, const char *id)
{
	for (size_t i = 0; i < f->box_count; i++)
		if (strcmp(f->boxes[i].id, id) == 0)
			return &f->boxes[i];
	return NULL;
}

static enum MHD_Result create(fake_e2b *f, struct MHD_Connection *c, const fake_request *r)
{
	create_answer a = {201, -1, 0};
	cJSON *body = cJSON_ParseWithLength(r->body, r->body_len), *out;
	const cJSON *tpl = cJSON_GetObjectItemCaseSensitive(body, "templateID");
	const cJSON *timeout = cJSON_GetObjectItemCaseSensitive(body, "timeout");
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(body, "metadata");
	const cJSON *run = cJSON_GetObjectItemCaseSensitive(meta, "aimsRun");
	sandbox *sb;
	char *text;
	enum MHD_Result ret;

	pthread_mutex_lock(&f->lock);
	if (f->queue_next < f->queue_len)
		a = f->queue[f->queue_next++];
	pthread_mutex_unlock(&f->lock);
	if (a.status != 201) {
		cJSON_Delete(body);
		if (a.delay_ms)
			sleep_ms(a.delay_ms);
		return answer_error(c, a.status, a.retry_after_s,
				    a.status == 429 ? "Rate limit exceeded, please try again later"
						    : "Internal error while creating the sandbox");
	}
	if (!cJSON_IsString(tpl)) {
		cJSON_Delete(body);
		return answer_error(c, 400, -1, "templateID is required");
	}
	if (timeout && (!cJSON_IsNumber(timeout) || timeout->valuedouble <= 0)) {
		cJSON_Delete(body);
		return answer_error(c, 400, -1, "timeout must be positive");
	}
	pthread_mutex_lock(&f->lock);
	assert_true(f->box_count < MAX_SANDBOXES);
	sb = &f->boxes[f->box_count];
	snprintf(sb->id, sizeof(sb->id), "i%020zu", (size_t)(f->box_count + 1) * 7919u);
	for (char *p = sb->id + 1; *p; p++)
		*p = "abcdefghijklmnopqrstuvwxyz0123456789"[(*p - '0') * 3 % 36];
	snprintf(sb->token, sizeof(sb->token), "envd-token-%zu", f->box_count + 1);
	snprintf(sb->traffic, sizeof(sb->traffic), "traffic-token-%zu", f->box_count + 1);
	snprintf(sb->run_tag, sizeof(sb->run_tag), "%s",
		 cJSON_IsString(run) ? run->valuestring : "");
	sb->alive = !f->lose;
	sb->lost = f->lose;
	sb->timeout_s = timeout ? (unsigned)timeout->valuedouble : 15;
	f->box_count++;
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "templateID", tpl->valuestring);
	cJSON_AddStringToObject(out, "sandboxID", sb->id);
	cJSON_AddNullToObject(out, "alias");
	cJSON_AddStringToObject(out, "clientID", "6532622b");
	cJSON_AddStringToObject(out, "envdVersion", "0.2.4");
	cJSON_AddStringToObject(out, "envdAccessToken", sb->token);
	cJSON_AddStringToObject(out, "trafficAccessToken", sb->traffic);
	cJSON_AddNullToObject(out, "domain");
	pthread_mutex_unlock(&f->lock);
	cJSON_Delete(body);
	if (a.delay_ms)
		sleep_ms(a.delay_ms); /* created, but the answer is late */
	text = cJSON_PrintUnformatted(out);
	ret = answer(c, 201, "application/json", text, -1);
	cJSON_free(text);
	cJSON_Delete(out);
	return ret;
}

static enum MHD_Result control(fake_e2b *f, struct MHD_Connection *c, const fake_request *r)
{
	const char *key = fake_request_header(r, "X-API-Key");
	const char *rest;
	char id[64];
	sandbox *sb;

	if (!key)
		return answer_error(c, 401, -1, "authorization header is missing");
	if (strcmp(key, f->api_key) != 0)
		/* Like a careless server: the key is repeated in the answer. */
		return answer_error(c, 401, -1, "Invalid API key: %s", key);
	if (strcmp(r->method, "POST") == 0 && strcmp(r->path, "/sandboxes") == 0)
		return create(f, c, r);
	if (strcmp(r->method, "GET") == 0 && strcmp(r->path, "/v2/sandboxes") == 0) {
		cJSON *list = cJSON_CreateArray();
		const char *want = r->metadata_query ? r->metadata_query : "";
		char *text;
		enum MHD_Result ret;

		pthread_mutex_lock(&f->lock);
		for (size_t i = 0; i < f->box_count; i++) {
			char m[128];

			snprintf(m, sizeof(m), "aimsRun=%s", f->boxes[i].run_tag);
			if (f->boxes[i].alive && (!*want || strcmp(m, want) == 0)) {
				cJSON *o = cJSON_CreateObject();

				cJSON_AddStringToObject(o, "sandboxID", f->boxes[i].id);
				cJSON_AddStringToObject(o, "state", "running");
				cJSON_AddItemToArray(list, o);
			}
		}
		pthread_mutex_unlock(&f->lock);
		text = cJSON_PrintUnformatted(list);
		ret = answer(c, 200, "application/json", text, -1);
		cJSON_free(text);
		cJSON_Delete(list);
		return ret;
	}
	if (strncmp(r->path, "/sandboxes/", 11) != 0)
		return answer_error(c, 404, -1, "no route");
	rest = r->path + 11;
	snprintf(id, sizeof(id), "%.*s", (int)strcspn(rest, "/"), rest);
	rest += strcspn(rest, "/");
	pthread_mutex_lock(&f->lock);
	sb = find_box(f, id);
	if (!sb || !sb->alive) {
		pthread_mutex_unlock(&f->lock);
		return answer_error(c, 404, -1,
				    "sandbox \"%s\" doesn't exist or you don't have access to it",
				    id);
	}
	if (strcmp(r->method, "DELETE") == 0 && !*rest) {
		sb->alive = false;
		pthread_mutex_unlock(&f->lock);
		return answer(c, 204, NULL, "", -1);
	}
	if (strcmp(r->method, "POST") == 0 && strcmp(rest, "/timeout") == 0) {
		cJSON *body = cJSON_ParseWithLength(r->body, r->body_len);
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(body, "timeout");

		if (!cJSON_IsNumber(t) || t->valuedouble <= 0) {
			pthread_mutex_unlock(&f->lock);
			cJSON_Delete(body);
			return answer_error(c, 400, -1, "timeout must be positive");
		}
		sb->timeout_s = (unsigned)t->valuedouble;
		pthread_mutex_unlock(&f->lock);
		cJSON_Delete(body);
		return answer(c, 204, NULL, "", -1);
	}
	pthread_mutex_unlock(&f->lock);
	return answer_error(c, 404, -1, "no route");
}

/* --- the data plane --- */

static enum MHD_Result execute(fake_e2b *f, struct MHD_Connection *c, const fake_request *r)
{
	cJSON *body = cJSON_ParseWithLength(r->body, r->body_len);
	bool bad = !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(body, "code"));
	bytes text = {0};
	int status;
	size_t chunk;
	unsigned delay_ms;
	fake_exec_mode mode;

	cJSON_Delete(body);
	if (bad)
		return answer(c, 422, "application/json", "{\"detail\":\"code is required\"}", -1);
	pthread_mutex_lock(&f->lock);
	status = f->exec_status ? f->exec_status : 200;
	if (f->exec_text)
		bytes_add(&text, f->exec_text, strlen(f->exec_text));
	else
		bytes_add(&text,
			  "{\"type\": \"number_of_executions\", \"execution_count\": 1}\n"
			  "{\"type\": \"stdout\", \"text\": \"hello\\n\", \"timestamp\": "
			  "\"2026-01-01T00:00:00Z\"}\n",
			  strlen("{\"type\": \"number_of_executions\", \"execution_count\": 1}\n"
				 "{\"type\": \"stdout\", \"text\": \"hello\\n\", \"timestamp\": "
				 "\"2026-01-01T00:00:00Z\"}\n"));
	if (f->exec_mode == FAKE_EXEC_NORMAL || f->exec_mode == FAKE_EXEC_LINGER)
		bytes_add(&text, "{\"type\": \"end_of_execution\"}\n",
			  strlen("{\"type\": \"end_of_execution\"}\n"));
	chunk = f->exec_chunk;
	delay_ms = f->exec_delay_ms;
	mode = f->exec_mode;
	pthread_mutex_unlock(&f->lock);
	if (status != 200) {
		free(text.ptr);
		return answer_error(c, status, -1, "the code interpreter failed");
	}
	return answer_stream(f, c, "application/x-ndjson", &text, chunk, delay_ms, mode);
}

static enum MHD_Result process_start(fake_e2b *f, struct MHD_Connection *c, const fake_request *r)
{
	const unsigned char *p = (const unsigned char *)r->body;
	bytes out = {0};
	char line[256], *enc;
	cJSON *msg;
	size_t n;

	if (r->body_len < 5 || p[0] != 0 ||
	    ((size_t)p[1] << 24 | (size_t)p[2] << 16 | (size_t)p[3] << 8 | p[4]) != r->body_len - 5)
		return answer(c, 400, "application/json",
			      "{\"code\":\"invalid_argument\",\"message\":\"bad envelope\"}", -1);
	msg = cJSON_ParseWithLength(r->body + 5, r->body_len - 5);
	if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(msg, "process"))) {
		cJSON_Delete(msg);
		return answer(c, 400, "application/json",
			      "{\"code\":\"invalid_argument\",\"message\":\"no process\"}", -1);
	}
	cJSON_Delete(msg);

	pthread_mutex_lock(&f->lock);
	bytes_envelope(&out, 0, "{\"event\": {\"start\": {\"pid\": 4242}}}");
	if (f->proc_out && *f->proc_out) {
		enc = b64(f->proc_out, strlen(f->proc_out));
		bytes_envelope(&out, 0, "{\"event\": {\"keepalive\": {}}}");
		n = strlen(enc) + 64;
		{
			char *m = malloc(n);

			assert_non_null(m);
			snprintf(m, n, "{\"event\": {\"data\": {\"stdout\": \"%s\"}}}", enc);
			bytes_envelope(&out, 0, m);
			free(m);
		}
		free(enc);
	}
	if (f->proc_err && *f->proc_err) {
		enc = b64(f->proc_err, strlen(f->proc_err));
		n = strlen(enc) + 64;
		{
			char *m = malloc(n);

			assert_non_null(m);
			snprintf(m, n, "{\"event\": {\"data\": {\"stderr\": \"%s\"}}}", enc);
			bytes_envelope(&out, 0, m);
			free(m);
		}
		free(enc);
	}
	if (!f->proc_final_error) {
		if (f->proc_exit)
			snprintf(line, sizeof(line),
				 "{\"event\": {\"end\": {\"exitCode\": %d, \"exited\": true, "
				 "\"status\": \"exit status %d\"}}}",
				 f->proc_exit, f->proc_exit);
		else /* protobuf JSON: the zero exit code is omitted */
			snprintf(line, sizeof(line),
				 "{\"event\": {\"end\": {\"exited\": true, \"status\": \"exit "
				 "status "
				 "0\"}}}");
		bytes_envelope(&out, 0, line);
		bytes_envelope(&out, 2, "{}");
	} else {
		snprintf(line, sizeof(line),
			 "{\"error\": {\"code\": \"%s\", \"message\": \"the operation failed: "
			 "%s\"}}",
			 f->proc_final_error, f->proc_final_error);
		bytes_envelope(&out, 2, line);
	}
	n = f->proc_chunk;
	pthread_mutex_unlock(&f->lock);
	return answer_stream(f, c, "application/connect+json", &out, n, n ? 2 : 0,
			     FAKE_EXEC_NORMAL);
}

static enum MHD_Result data_plane(fake_e2b *f, struct MHD_Connection *c, const fake_request *r,
				  int port)
{
	const char *id = fake_request_header(r, "E2b-Sandbox-Id");
	const char *port_hdr = fake_request_header(r, "E2b-Sandbox-Port");
	const char *token = fake_request_header(r, "X-Access-Token");
	const char *traffic = fake_request_header(r, "E2B-Traffic-Access-Token");
	sandbox *sb;
	char want[48], want_traffic[48];
	bool alive;

	if (!id || !port_hdr)
		return answer_error(c, 400, -1, "missing routing headers");
	pthread_mutex_lock(&f->lock);
	sb = find_box(f, id);
	alive = sb && sb->alive;
	snprintf(want, sizeof(want), "%s", sb ? sb->token : "");
	snprintf(want_traffic, sizeof(want_traffic), "%s", sb ? sb->traffic : "");
	pthread_mutex_unlock(&f->lock);
	if (!alive) {
		char body[256];

		snprintf(body, sizeof(body),
			 "{\"sandboxId\": \"%.64s\", \"message\": \"The sandbox was not found\", "
			 "\"code\": 502}",
			 id);
		return answer(c, 502, "application/json", body, -1);
	}
	if (strtol(port_hdr, NULL, 10) != port)
		return answer(c, 502, "application/json",
			      "{\"message\": \"The sandbox is running but port is not open\", "
			      "\"code\": 502}",
			      -1);
	if (!token || strcmp(token, want) != 0 || !traffic || strcmp(traffic, want_traffic) != 0)
		return answer(
			c, 401, "application/json",
			"{\"code\": 401, \"message\": \"unauthorized access, please provide a "
			"valid access token\"}",
			-1);
	return port == 49999 ? execute(f, c, r) : process_start(f, c, r);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	fake_e2b *f = cls;
	conn *cs = *con_cls;
	fake_request *r;

	(void)version;
	if (!cs) {
		cs = calloc(1, sizeof(*cs));
		assert_non_null(cs);
		*con_cls = cs;
		return MHD_YES;
	}
	if (*upload_size) {
		if (cs->body.len + *upload_size > MAX_BODY)
			cs->too_big = true;
		else
			bytes_add(&cs->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	r = record(f, c, method, url, cs);
	if (cs->too_big)
		return answer_error(c, 413, -1, "body too large");
	if (strcmp(url, "/execute") == 0 && strcmp(method, "POST") == 0)
		return data_plane(f, c, r, 49999);
	if (strcmp(url, "/process.Process/Start") == 0 && strcmp(method, "POST") == 0)
		return data_plane(f, c, r, 49983);
	return control(f, c, r);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	conn *cs = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (cs) {
		free(cs->body.ptr);
		free(cs);
		*con_cls = NULL;
	}
}

fake_e2b *fake_e2b_start(const char *api_key)
{
	fake_e2b *f = calloc(1, sizeof(*f));
	struct sockaddr_in addr;
	const union MHD_DaemonInfo *info;

	assert_non_null(f);
	pthread_mutex_init(&f->lock, NULL);
	snprintf(f->api_key, sizeof(f->api_key), "%s", api_key);
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = 0;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	f->daemon = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL, NULL,
		handle, f, MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_NOTIFY_COMPLETED, completed, f,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
	assert_non_null(f->daemon);
	info = MHD_get_daemon_info(f->daemon, MHD_DAEMON_INFO_BIND_PORT);
	assert_non_null(info);
	snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%u", (unsigned)info->port);
	return f;
}

static void scripts_free(fake_e2b *f)
{
	free(f->exec_text);
	f->exec_text = NULL;
	free(f->proc_out);
	free(f->proc_err);
	free(f->proc_final_error);
	f->proc_out = f->proc_err = f->proc_final_error = NULL;
	f->proc_exit = 0;
	f->proc_chunk = 0;
	f->exec_chunk = 0;
	f->exec_delay_ms = 0;
	f->exec_mode = FAKE_EXEC_NORMAL;
	f->exec_status = 0;
	f->queue_len = f->queue_next = 0;
	f->lose = false;
}

void fake_e2b_reset(fake_e2b *f)
{
	pthread_mutex_lock(&f->lock);
	for (size_t i = 0; i < f->req_count; i++)
		request_free(f->reqs[i]);
	f->req_count = 0;
	f->cut_by_client = 0;
	f->last_cut_ms = 0;
	scripts_free(f);
	pthread_mutex_unlock(&f->lock);
}

void fake_e2b_stop(fake_e2b *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->lock);
	f->stopping = true;
	pthread_mutex_unlock(&f->lock);
	MHD_stop_daemon(f->daemon);
	fake_e2b_reset(f);
	free(f->reqs);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

const char *fake_e2b_url(const fake_e2b *f)
{
	return f->url;
}

void fake_e2b_queue_create(fake_e2b *f, int status, int retry_after_s, unsigned delay_ms)
{
	pthread_mutex_lock(&f->lock);
	assert_true(f->queue_len < MAX_CREATE_QUEUE);
	f->queue[f->queue_len].status = status;
	f->queue[f->queue_len].retry_after_s = retry_after_s;
	f->queue[f->queue_len].delay_ms = delay_ms;
	f->queue_len++;
	pthread_mutex_unlock(&f->lock);
}

void fake_e2b_lose_sandboxes(fake_e2b *f, bool lose)
{
	pthread_mutex_lock(&f->lock);
	f->lose = lose;
	pthread_mutex_unlock(&f->lock);
}

void fake_e2b_exec_script(fake_e2b *f, const char *const *lines, size_t n_lines, size_t chunk,
			  unsigned delay_ms, fake_exec_mode mode, int status)
{
	bytes text = {0};

	for (size_t i = 0; i < n_lines; i++) {
		bytes_add(&text, lines[i], strlen(lines[i]));
		bytes_add(&text, "\n", 1);
	}
	if (!text.ptr)
		bytes_add(&text, "", 0);
	pthread_mutex_lock(&f->lock);
	free(f->exec_text);
	f->exec_text = text.ptr;
	f->exec_chunk = chunk;
	f->exec_delay_ms = delay_ms;
	f->exec_mode = mode;
	f->exec_status = status;
	pthread_mutex_unlock(&f->lock);
}

void fake_e2b_process_script(fake_e2b *f, int exit_code, const char *out, const char *err,
			     const char *final_error, size_t chunk)
{
	pthread_mutex_lock(&f->lock);
	free(f->proc_out);
	free(f->proc_err);
	free(f->proc_final_error);
	f->proc_exit = exit_code;
	f->proc_out = out ? dup_or_die(out) : NULL;
	f->proc_err = err ? dup_or_die(err) : NULL;
	f->proc_final_error = final_error ? dup_or_die(final_error) : NULL;
	f->proc_chunk = chunk;
	pthread_mutex_unlock(&f->lock);
}

size_t fake_e2b_request_count(fake_e2b *f)
{
	size_t n;

	pthread_mutex_lock(&f->lock);
	n = f->req_count;
	pthread_mutex_unlock(&f->lock);
	return n;
}

const fake_request *fake_e2b_request(fake_e2b *f, size_t i)
{
	const fake_request *r = NULL;

	pthread_mutex_lock(&f->lock);
	if (i < f->req_count)
		r = f->reqs[i];
	pthread_mutex_unlock(&f->lock);
	return r;
}

const fake_request *fake_e2b_find(fake_e2b *f, const char *method, const char *prefix, size_t nth)
{
	const fake_request *r = NULL;

	pthread_mutex_lock(&f->lock);
	for (size_t i = 0; i < f->req_count && !r; i++)
		if (strcmp(f->reqs[i]->method, method) == 0 &&
		    strncmp(f->reqs[i]->path, prefix, strlen(prefix)) == 0 && nth-- == 0)
			r = f->reqs[i];
	pthread_mutex_unlock(&f->lock);
	return r;
}

size_t fake_e2b_count(fake_e2b *f, const char *method, const char *prefix)
{
	size_t n = 0;

	pthread_mutex_lock(&f->lock);
	for (size_t i = 0; i < f->req_count; i++)
		if (strcmp(f->reqs[i]->method, method) == 0 &&
		    strncmp(f->reqs[i]->path, prefix, strlen(prefix)) == 0)
			n++;
	pthread_mutex_unlock(&f->lock);
	return n;
}

size_t fake_e2b_created(fake_e2b *f)
{
	size_t n;

	pthread_mutex_lock(&f->lock);
	n = f->box_count;
	pthread_mutex_unlock(&f->lock);
	return n;
}

size_t fake_e2b_alive(fake_e2b *f)
{
	size_t n = 0;

	pthread_mutex_lock(&f->lock);
	for (size_t i = 0; i < f->box_count; i++)
		n += f->boxes[i].alive;
	pthread_mutex_unlock(&f->lock);
	return n;
}

const char *fake_e2b_sandbox_id(fake_e2b *f, size_t nth)
{
	const char *id = NULL;

	pthread_mutex_lock(&f->lock);
	if (nth < f->box_count)
		id = f->boxes[nth].id;
	pthread_mutex_unlock(&f->lock);
	return id;
}

size_t fake_e2b_streams_cut_by_client(fake_e2b *f)
{
	size_t n;

	pthread_mutex_lock(&f->lock);
	n = f->cut_by_client;
	pthread_mutex_unlock(&f->lock);
	return n;
}

uint64_t fake_e2b_last_cut_ms(fake_e2b *f)
{
	uint64_t t;

	pthread_mutex_lock(&f->lock);
	t = f->last_cut_ms;
	pthread_mutex_unlock(&f->lock);
	return t;
}
