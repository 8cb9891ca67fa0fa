/*
 * server.c - the HTTP server on libmicrohttpd (the only file that touches
 * it): listening, reading bodies within their limit, authentication,
 * routing to the handlers, replies, the access log, graceful shutdown.
 *
 * libmicrohttpd runs one thread per connection, so a handler may block
 * for a whole execution; executions themselves are admitted by the gate
 * (gate.c). Every reply is JSON except /metrics.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "aims/e2b.h"
#include "aims/json.h"
#include "server/mhd.h"
#include "server/server_int.h"

/* ---- libmicrohttpd, loaded on first use ------------------------------------ */

mhd_api mhd;
static pthread_once_t mhd_once = PTHREAD_ONCE_INIT;
static bool mhd_loaded;

static void mhd_load_once(void)
{
	static const char *const names[] = {"libmicrohttpd.so.12"};
	const aims_dynsym syms[] = {
		{"MHD_start_daemon", (void **)&mhd.start_daemon},
		{"MHD_stop_daemon", (void **)&mhd.stop_daemon},
		{"MHD_quiesce_daemon", (void **)&mhd.quiesce_daemon},
		{"MHD_get_daemon_info", (void **)&mhd.get_daemon_info},
		{"MHD_get_connection_info", (void **)&mhd.get_connection_info},
		{"MHD_lookup_connection_value", (void **)&mhd.lookup_connection_value},
		{"MHD_get_connection_values", (void **)&mhd.get_connection_values},
		{"MHD_create_response_from_buffer", (void **)&mhd.create_response_from_buffer},
		{"MHD_add_response_header", (void **)&mhd.add_response_header},
		{"MHD_queue_response", (void **)&mhd.queue_response},
		{"MHD_destroy_response", (void **)&mhd.destroy_response},
	};

	mhd_loaded = aims_dynlib_load(names, 1, syms, sizeof(syms) / sizeof(syms[0]));
}

int mhd_load(aims_error *err)
{
	pthread_once(&mhd_once, mhd_load_once);
	if (!mhd_loaded)
		return aims_error_set(
			err, AIMS_EUNSUPPORTED,
			"libmicrohttpd (libmicrohttpd.so.12) cannot be loaded: install "
			"libmicrohttpd12");
	return 0;
}

/* ---- Routes --------------------------------------------------------------- */

typedef int (*handler_fn)(aims_server *srv, const request *req, reply *r);

typedef struct route {
	const char *path; /* exact, or a prefix ending in '/' when prefix */
	bool prefix;
	const char *method; /* "GET" (HEAD too) or "POST" */
	handler_fn fn;
	const char *label; /* for metrics */
} route;

static const route routes[] = {
	{"/healthz", false, "GET", handle_healthz, "/healthz"},
	{"/metrics", false, "GET", handle_metrics, "/metrics"},
	{"/api/skills", false, "GET", handle_skills, "/api/skills"},
	{"/api/skills/", true, "GET", handle_skill, "/api/skills/{id}"},
	{"/api/tools", false, "GET", handle_tools, "/api/tools"},
	{"/api/code/execute", false, "POST", handle_execute, "/api/code/execute"},
	{"/api/route", false, "POST", handle_route, "/api/route"},
	{"/api/dispatch", false, "POST", handle_dispatch, "/api/dispatch"},
	{"/api/validate", false, "POST", handle_validate, "/api/validate"},
};

static bool path_matches(const route *rt, const char *path)
{
	size_t len = strlen(rt->path);

	if (!rt->prefix)
		return strcmp(path, rt->path) == 0;
	return strncmp(path, rt->path, len) == 0 && path[len] != '\0' && !strchr(path + len, '/');
}

static bool method_matches(const route *rt, const char *method)
{
	return strcmp(method, rt->method) == 0 ||
	       (strcmp(rt->method, "GET") == 0 && strcmp(method, "HEAD") == 0);
}

/* ---- Replies ------------------------------------------------------------- */

#define INTERNAL_ERROR "internal error: the server's log has the details"

int reply_error(reply *r, unsigned status, const char *fmt, ...)
{
	char message[AIMS_ERROR_MESSAGE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	r->status = status;
	cJSON_Delete(r->json);
	r->json = cJSON_CreateObject();
	free(r->detail);
	r->detail = NULL;
	if (status == 500 && strcmp(message, "out of memory") != 0) {
		r->detail = strdup(message); /* (none logged if this fails) */
		snprintf(message, sizeof(message), "%s", INTERNAL_ERROR);
	}
	/* The message may quote a client, a program or E2B, cut anywhere. */
	if (r->json)
		cJSON_AddItemToObject(r->json, "error", aims_json_text(message, strlen(message)));
	return 0;
}

static enum MHD_Result send_reply(struct MHD_Connection *c, reply *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char *body = NULL;
	size_t len = 0;

	if (r->json) {
		body = cJSON_PrintUnformatted(r->json);
		if (body) {
			len = strlen(body);
			/* A newline ends the body: friendlier for curl users. */
			char *grown = realloc(body, len + 2);

			if (grown) {
				body = grown;
				body[len++] = '\n';
				body[len] = '\0';
			}
		}
	} else if (r->text) {
		body = r->text;
		r->text = NULL;
		len = strlen(body);
	}
	if (!body) {
		static const char oom[] = "{\"error\":\"out of memory\"}\n";

		resp = MHD_create_response_from_buffer(sizeof(oom) - 1, (void *)oom,
						       MHD_RESPMEM_PERSISTENT);
		r->status = 500;
		r->content_type = NULL;
	} else {
		resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	}
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type",
				r->content_type ? r->content_type : "application/json");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (r->allow)
		MHD_add_response_header(resp, "Allow", r->allow);
	if (r->retry_after) {
		char value[16];

		snprintf(value, sizeof(value), "%u", r->retry_after);
		MHD_add_response_header(resp, "Retry-After", value);
	}
	ret = MHD_queue_response(c, r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void reply_free(reply *r)
{
	cJSON_Delete(r->json);
	free(r->text);
	free(r->detail);
	memset(r, 0, sizeof(*r));
}

/* ---- Connections ---------------------------------------------------------- */

/* How much past the body cap is read (and dropped) to answer 413 before
 * the connection is simply closed, in multiples of the cap. */
#define DISCARD_FACTOR 4

/* At shutdown, how long replies still being written may take. */
#define SHUTDOWN_REPLY_MS 2000

typedef struct conn {
	uint64_t start_ns;
	aims_buf body;
	size_t discarded; /* bytes dropped past the body cap */
	bool replied;	  /* a reply was queued before the body was read */
	unsigned status;
	const char *label;
	char method[16];
	char path[256]; /* for the log: truncated, control characters replaced */
} conn;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A copy of in for a one-line log entry: control characters (and blanks,
 * unless keep_blanks) become '?'. */
static void copy_for_log(char *out, size_t size, const char *in, bool keep_blanks)
{
	size_t n = 0;

	for (; *in && n + 1 < size; in++)
		out[n++] = (unsigned char)*in < 0x20 || *in == 0x7f || (*in == ' ' && !keep_blanks)
				   ? '?'
				   : *in;
	out[n] = '\0';
}

static bool is_api(const char *path)
{
	return strncmp(path, "/api/", 5) == 0 || strcmp(path, "/api") == 0;
}

/* The Bearer token check: 0 when allowed, else fills r with 401. */
/* libmicrohttpd's unescaping of the URL and its arguments, except that
 * "%00" stays as written: a NUL would end the path where C reads it
 * ("/healthz%00x" was served as /healthz). */
static int hex_digit(char ch)
{
	return ch >= '0' && ch <= '9'	? ch - '0'
	       : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
	       : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
					: -1;
}

static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
	char *out = s;

	(void)cls;
	(void)c;
	for (const char *in = s; *in;) {
		int hi = in[0] == '%' ? hex_digit(in[1]) : -1, lo = hi >= 0 ? hex_digit(in[2]) : -1;

		if (lo >= 0 && (hi | lo) != 0) {
			*out++ = (char)(hi << 4 | lo);
			in += 3;
		} else {
			*out++ = *in++;
		}
	}
	*out = '\0';
	return (size_t)(out - s);
}

/* ---- Request framing ---------------------------------------------------- */

/* What the headers say of where the body ends. libmicrohttpd 0.9.75 takes
 * the first of two Content-Length headers, lets Transfer-Encoding win over
 * Content-Length, reads "Content-Length : 5" as another header, and waits
 * for ever on an encoding it does not know. Behind a proxy that reads them
 * otherwise, each lets one request hide another: they are refused. */
typedef struct framing {
	unsigned lengths;   /* Content-Length headers */
	unsigned encodings; /* Transfer-Encoding headers */
	bool chunked;	    /* the (one) encoding is "chunked" */
	bool bad_name;	    /* a header name with a blank or control character */
} framing;

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
				     const char *value)
{
	framing *f = cls;

	(void)kind;
	for (const char *p = key; *p; p++)
		f->bad_name |= (unsigned char)*p <= ' ' || *p == 0x7f;
	if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
		f->lengths++;
	if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
		f->encodings++;
		f->chunked = value && strcasecmp(value, "chunked") == 0;
	}
	return MHD_YES;
}

/* 0, or -1 with r filled: 400 for ambiguous framing, 501 for an encoding
 * other than chunked. */
static int check_framing(struct MHD_Connection *c, reply *r)
{
	framing f = {0, 0, false, false};
	const char *why = NULL;
	unsigned status = 400;

	MHD_get_connection_values(c, MHD_HEADER_KIND, count_framing, &f);
	if (f.bad_name)
		why = "a header name holds a blank or a control character";
	else if (f.lengths > 1)
		why = "more than one Content-Length header";
	else if (f.encodings && f.lengths)
		why = "both Transfer-Encoding and Content-Length";
	else if (f.encodings > 1 || (f.encodings && !f.chunked)) {
		why = "Transfer-Encoding other than chunked";
		status = 501; /* an encoding it cannot read, not a contradiction */
	}
	if (!why)
		return 0;
	reply_error(r, status, "%s", why);
	return -1;
}

static int check_auth(aims_server *srv, struct MHD_Connection *c, reply *r)
{
	const char *header;

	if (!srv->token)
		return 0;
	header = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (header && strncasecmp(header, "Bearer ", 7) == 0 &&
	    aims_server_token_equal(srv->token, header + 7, strlen(header + 7)))
		return 0;
	reply_error(r, 401, header ? "invalid token" : "missing Authorization: Bearer token");
	return -1;
}

static bool content_type_is_json(struct MHD_Connection *c)
{
	const char *type =
		MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	size_t len = strcspn(type ? type : "", "; \t");

	return type && len == 16 && strncasecmp(type, "application/json", 16) == 0;
}

static void dispatch_request(aims_server *srv, struct MHD_Connection *c, conn *cx, const char *path,
			     const char *method, reply *r)
{
	const route *found = NULL, *path_route = NULL;
	request req;
	const union MHD_ConnectionInfo *info;

	for (size_t i = 0; !found && i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!path_matches(&routes[i], path))
			continue;
		path_route = &routes[i];
		if (method_matches(&routes[i], method))
			found = &routes[i];
	}
	if (!found && path_route) {
		cx->label = path_route->label;
		reply_error(r, 405, "method %s is not allowed on %s", method, path);
		r->allow =
			strcmp(path_route->method, "GET") == 0 ? "GET, HEAD" : path_route->method;
		return;
	}
	if (!found) {
		reply_error(r, 404, "no such endpoint: %s", path);
		return;
	}
	cx->label = found->label;
	if (strcmp(found->method, "POST") == 0 && !content_type_is_json(c)) {
		reply_error(r, 415, "the body must be JSON (Content-Type: application/json)");
		return;
	}
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.path = path;
	req.body = cx->body.ptr ? cx->body.ptr : "";
	req.body_len = cx->body.len;
	req.connection = c;
	req.route = found->label;
	info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	req.socket_fd = info ? info->connect_fd : -1;
	if (found->fn(srv, &req, r) < 0 || (!r->json && !r->text))
		reply_error(r, 500, "out of memory");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	aims_server *srv = cls;
	conn *cx = *con_cls;
	reply r = {0};
	enum MHD_Result ret;

	(void)version;
	if (!cx) {
		const char *length;

		if (!(cx = calloc(1, sizeof(*cx))))
			return MHD_NO;
		atomic_fetch_add(&srv->in_flight, 1);
		cx->start_ns = now_ns();
		cx->label = "unmatched";
		aims_buf_init(&cx->body, srv->cfg.max_body);
		copy_for_log(cx->method, sizeof(cx->method), method, false);
		copy_for_log(cx->path, sizeof(cx->path), url, false);
		*con_cls = cx;
		/* Refuse early what will be refused anyway: framing that could
		 * hide a request, a wrong token, a body announced too big. The
		 * body is then never read. */
		if (check_framing(c, &r) < 0)
			goto respond;
		if (is_api(url) && check_auth(srv, c, &r) < 0)
			goto respond;
		length = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (length && strtoull(length, NULL, 10) > srv->cfg.max_body) {
			reply_error(&r, 413, "request body over the limit of %zu bytes",
				    srv->cfg.max_body);
			goto respond;
		}
		return MHD_YES;
	}
	if (cx->replied) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size) {
		size_t size = *upload_data_size;

		*upload_data_size = 0;
		if (cx->discarded || aims_buf_append(&cx->body, upload_data, size) < 0) {
			/* Over the cap: libmicrohttpd can only answer once the body
			 * has ended, so the rest is read and dropped, up to a bound;
			 * a client that keeps sending past it is cut off. */
			cx->discarded += size;
			if (cx->discarded > (size_t)DISCARD_FACTOR * srv->cfg.max_body)
				return MHD_NO;
		}
		return MHD_YES;
	}
	if (cx->discarded) {
		reply_error(&r, 413, "request body over the limit of %zu bytes", srv->cfg.max_body);
		goto respond;
	}
	dispatch_request(srv, c, cx, url, method, &r);
respond:
	cx->replied = true;
	cx->status = r.status;
	if (r.detail && srv->cfg.error_log) {
		char detail[AIMS_ERROR_MESSAGE_MAX];

		copy_for_log(detail, sizeof(detail), r.detail, true);
		pthread_mutex_lock(&srv->log_lock);
		fprintf(srv->cfg.error_log, "aims: serve: %s %s: %u: %s\n", cx->method, cx->path,
			r.status, detail);
		fflush(srv->cfg.error_log);
		pthread_mutex_unlock(&srv->log_lock);
	}
	/* Counted before the reply leaves, so a client that reads /metrics
	 * right after sees its own request. */
	metrics_request(&srv->metrics, cx->label, cx->status);
	ret = send_reply(c, &r);
	reply_free(&r);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	aims_server *srv = cls;
	conn *cx = *con_cls;
	uint64_t elapsed;

	(void)c;
	if (!cx)
		return;
	elapsed = now_ns() - cx->start_ns;
	if (!cx->status) { /* the client left before a reply */
		cx->status = 499;
		metrics_request(&srv->metrics, cx->label, cx->status);
	}
	(void)toe;
	if (srv->cfg.access_log) {
		pthread_mutex_lock(&srv->log_lock);
		fprintf(srv->cfg.access_log, "%s %s %u %.1fms\n", cx->method, cx->path, cx->status,
			(double)elapsed / 1e6);
		fflush(srv->cfg.access_log);
		pthread_mutex_unlock(&srv->log_lock);
	}
	aims_buf_free(&cx->body);
	free(cx);
	*con_cls = NULL;
	atomic_fetch_sub(&srv->in_flight, 1);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* libmicrohttpd's complaints go to the error log, one line each: they may
 * quote a client's bytes, which must not forge lines of their own. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	aims_server *srv = cls;
	char raw[1024], line[1024];
	size_t len;

	if (!srv->cfg.error_log)
		return;

	vsnprintf(raw, sizeof(raw), fmt, ap);
	for (len = strlen(raw); len && (raw[len - 1] == '\n' || raw[len - 1] == '\r'); len--)
		raw[len - 1] = '\0';
	copy_for_log(line, sizeof(line), raw, true); /* other newlines become '?' */
	pthread_mutex_lock(&srv->log_lock);
	fprintf(srv->cfg.error_log, "aims: serve: %s\n", line);
	fflush(srv->cfg.error_log);
	pthread_mutex_unlock(&srv->log_lock);
}

/* ---- Life cycle ----------------------------------------------------------- */

void aims_server_config_init(aims_server_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->listen = AIMS_SERVER_DEFAULT_LISTEN;
}

bool aims_server_token_equal(const char *expected, const char *presented, size_t presented_len)
{
	size_t expected_len = strlen(expected);
	unsigned char diff = expected_len != presented_len;

	/* Always walk the presented token whole, comparing against the
	 * expected one cyclically: time depends on the presented length only. */
	for (size_t i = 0; i < presented_len; i++)
		diff |= (unsigned char)(presented[i] ^
					expected[expected_len ? i % expected_len : 0]);
	return diff == 0 && expected_len > 0;
}

static int parse_listen(aims_server *srv, const char *listen, aims_error *err)
{
	char host[128];
	const char *colon, *port_text;
	char *end;
	unsigned long port;
	size_t host_len;

	if (listen[0] == '[') {
		const char *close = strchr(listen, ']');

		if (!close || close[1] != ':')
			goto bad;
		host_len = (size_t)(close - listen - 1);
		if (host_len >= sizeof(host))
			goto bad;
		memcpy(host, listen + 1, host_len);
		port_text = close + 2;
	} else {
		colon = strrchr(listen, ':');
		if (!colon)
			goto bad;
		host_len = (size_t)(colon - listen);
		if (host_len >= sizeof(host))
			goto bad;
		memcpy(host, listen, host_len);
		port_text = colon + 1;
	}
	host[host_len] = '\0';
	port = strtoul(port_text, &end, 10);
	if (!*port_text || *end || port > 65535)
		goto bad;
	srv->port = (uint16_t)port;
	if (strcmp(host, "localhost") == 0 || host_len == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	if (inet_pton(AF_INET, host, srv->addr) == 1)
		srv->family = AF_INET;
	else if (inet_pton(AF_INET6, host, srv->addr) == 1)
		srv->family = AF_INET6;
	else
		goto bad;
	return 0;
bad:
	return aims_error_set(
		err, AIMS_EINVALID,
		"listen address '%.100s' is not ADDR:PORT (e.g. 127.0.0.1:8080, [::1]:8080)",
		listen);
}

static bool is_loopback(const aims_server *srv)
{
	static const unsigned char v6_loopback[16] = {[15] = 1};

	if (srv->family == AF_INET)
		return srv->addr[0] == 127;
	return memcmp(srv->addr, v6_loopback, 16) == 0;
}

int aims_server_new(aims_server **out, const aims_server_config *cfg, const aims_registry *reg,
		    aims_error *err)
{
	aims_server *srv = calloc(1, sizeof(*srv));
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int rc;

	if (!srv)
		return aims_error_set(err, AIMS_ENOMEM, "out of memory");
	if ((rc = mhd_load(err)) < 0) {
		free(srv);
		return rc;
	}
	srv->cfg = *cfg;
	srv->reg = reg;
	srv->gate.epoll_fd = srv->gate.wake_fd = -1;
	if (!srv->cfg.listen)
		srv->cfg.listen = AIMS_SERVER_DEFAULT_LISTEN;
	if (!srv->cfg.max_concurrency)
		srv->cfg.max_concurrency = cpus > 0 ? (unsigned)cpus : 1;
	if (!srv->cfg.queue) /* room for a burst of clients, still bounded */
		srv->cfg.queue =
			srv->cfg.max_concurrency * 8 > 16 ? srv->cfg.max_concurrency * 8 : 16;
	if (!srv->cfg.max_body)
		srv->cfg.max_body = AIMS_SERVER_DEFAULT_MAX_BODY;
	if (!srv->cfg.connections)
		srv->cfg.connections = AIMS_SERVER_DEFAULT_CONNECTIONS;
	if (!srv->cfg.drain_ms)
		srv->cfg.drain_ms = 10000;
	pthread_mutex_init(&srv->log_lock, NULL);
	metrics_init(&srv->metrics);
	atomic_init(&srv->shut_down, false);
	atomic_init(&srv->in_flight, 0);
	if ((rc = parse_listen(srv, srv->cfg.listen, err)) < 0)
		goto fail;
	if (cfg->token && *cfg->token) {
		if (strlen(cfg->token) > AIMS_SERVER_TOKEN_MAX) {
			rc = aims_error_set(err, AIMS_EINVALID, "the API token is over %d bytes",
					    AIMS_SERVER_TOKEN_MAX);
			goto fail;
		}
		if (!(srv->token = strdup(cfg->token))) {
			rc = aims_error_set(err, AIMS_ENOMEM, "out of memory");
			goto fail;
		}
	}
	if (!srv->token && !is_loopback(srv)) {
		rc = aims_error_set(err, AIMS_EINVALID,
				    "refusing to listen on %s without a token: the API runs code; "
				    "set AIMS_API_TOKEN or --token-file, or listen on 127.0.0.1",
				    srv->cfg.listen);
		goto fail;
	}
	if ((rc = gate_init(&srv->gate, srv->cfg.max_concurrency, srv->cfg.queue, err)) < 0)
		goto fail;
	if ((rc = aims_router_new(&srv->router, reg, NULL, err)) < 0)
		goto fail;
	*out = srv;
	return 0;
fail:
	aims_server_free(srv);
	return rc;
}

int aims_server_start(aims_server *srv, aims_error *err)
{
	struct sockaddr_in v4;
	struct sockaddr_in6 v6;
	struct sockaddr *addr;
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
			 MHD_USE_ITC | MHD_USE_ERROR_LOG;
	const union MHD_DaemonInfo *info;

	if (srv->family == AF_INET) {
		memset(&v4, 0, sizeof(v4));
		v4.sin_family = AF_INET;
		v4.sin_port = htons(srv->port);
		memcpy(&v4.sin_addr, srv->addr, 4);
		addr = (struct sockaddr *)&v4;
	} else {
		memset(&v6, 0, sizeof(v6));
		v6.sin6_family = AF_INET6;
		v6.sin6_port = htons(srv->port);
		memcpy(&v6.sin6_addr, srv->addr, 16);
		addr = (struct sockaddr *)&v6;
		flags |= MHD_USE_IPv6;
	}
	srv->daemon = MHD_start_daemon(
		flags, srv->port, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER,
		on_mhd_log, srv, MHD_OPTION_SOCK_ADDR, addr, MHD_OPTION_CONNECTION_LIMIT,
		srv->cfg.connections, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_UNESCAPE_CALLBACK,
		unescape, NULL, MHD_OPTION_END);
	if (!srv->daemon)
		return aims_error_set(err, AIMS_EIO,
				      "cannot listen on %s (address in use, or not allowed)",
				      srv->cfg.listen);
	info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
	if (info)
		srv->port = info->port;
	return 0;
}

uint16_t aims_server_port(const aims_server *srv)
{
	return srv->daemon ? srv->port : 0;
}

void aims_server_shutdown(aims_server *srv)
{
	if (!srv || atomic_exchange(&srv->shut_down, true))
		return;
	if (srv->daemon) {
		/* Stop accepting; connections already open go on. */
		MHD_socket listener = MHD_quiesce_daemon(srv->daemon);

		if (listener != MHD_INVALID_SOCKET)
			close(listener);
	}
	if (srv->gate.monitor_started) {
		gate_close(&srv->gate);
		gate_drain(&srv->gate, srv->cfg.drain_ms);
	}
	/* Executions are over; let their replies (and other requests being
	 * answered) reach the clients before the connections close. */
	for (unsigned waited = 0; atomic_load(&srv->in_flight) > 0 && waited < SHUTDOWN_REPLY_MS;
	     waited += 10)
		usleep(10 * 1000);
	/* Canceled E2B executions delete their sandboxes themselves; anything
	 * still alive now (a delete that failed) is deleted here. This is
	 * final for the process, so only when needed. */
	if (aims_e2b_live_count() > 0)
		aims_e2b_shutdown(NULL, NULL);
	if (srv->daemon) {
		MHD_stop_daemon(srv->daemon);
		srv->daemon = NULL;
	}
}

void aims_server_free(aims_server *srv)
{
	if (!srv)
		return;
	aims_server_shutdown(srv);
	gate_free(&srv->gate);
	aims_router_free(srv->router);
	metrics_free(&srv->metrics);
	pthread_mutex_destroy(&srv->log_lock);
	if (srv->token) {
		explicit_bzero(srv->token, strlen(srv->token));
		free(srv->token);
	}
	free(srv);
}
