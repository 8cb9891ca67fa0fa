/*
 * http_client.c - HTTP requests over libcurl with deadlines, cancel fds,
 * bounded bodies and streaming sinks (see http_client.h).
 *
 * A transfer runs on its own curl multi handle so that the wait can include
 * the caller's cancel fds (curl_multi_poll's extra fds) and end exactly at
 * the deadline; removing the easy handle then closes the connection, which
 * is what interrupts a server that streams forever. No signals are used
 * (CURLOPT_NOSIGNAL): the library runs inside a multithreaded server.
 */
#include <arpa/inet.h>
/* libcurl is loaded on first use (below): no type-checking macros that
 * would name its functions directly. */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/dynlib.h"
#include "core/http_client.h"

#define CONNECT_TIMEOUT_MS 10000
#define POLL_SLICE_MS	   1000

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

/* libcurl, loaded on first use (core/dynlib.h says why). */
static struct curl_api {
	AIMS_DYNFN(curl_global_init, global_init);
	AIMS_DYNFN(curl_easy_init, easy_init);
	AIMS_DYNFN(curl_easy_setopt, easy_setopt);
	AIMS_DYNFN(curl_easy_getinfo, easy_getinfo);
	AIMS_DYNFN(curl_easy_cleanup, easy_cleanup);
	AIMS_DYNFN(curl_easy_strerror, easy_strerror);
	AIMS_DYNFN(curl_free, free);
	AIMS_DYNFN(curl_getdate, getdate);
	AIMS_DYNFN(curl_multi_init, multi_init);
	AIMS_DYNFN(curl_multi_add_handle, multi_add_handle);
	AIMS_DYNFN(curl_multi_remove_handle, multi_remove_handle);
	AIMS_DYNFN(curl_multi_perform, multi_perform);
	AIMS_DYNFN(curl_multi_poll, multi_poll);
	AIMS_DYNFN(curl_multi_info_read, multi_info_read);
	AIMS_DYNFN(curl_multi_cleanup, multi_cleanup);
	AIMS_DYNFN(curl_share_init, share_init);
	AIMS_DYNFN(curl_share_setopt, share_setopt);
	AIMS_DYNFN(curl_slist_append, slist_append);
	AIMS_DYNFN(curl_slist_free_all, slist_free_all);
	AIMS_DYNFN(curl_url, url);
	AIMS_DYNFN(curl_url_cleanup, url_cleanup);
	AIMS_DYNFN(curl_url_get, url_get);
	AIMS_DYNFN(curl_url_set, url_set);
} api;
static pthread_once_t api_once = PTHREAD_ONCE_INIT;
static bool api_loaded;

static void load_api(void)
{
	static const char *const names[] = {"libcurl.so.4", "libcurl-gnutls.so.4"};
	const aims_dynsym syms[] = {
		{"curl_global_init", (void **)&api.global_init},
		{"curl_easy_init", (void **)&api.easy_init},
		{"curl_easy_setopt", (void **)&api.easy_setopt},
		{"curl_easy_getinfo", (void **)&api.easy_getinfo},
		{"curl_easy_cleanup", (void **)&api.easy_cleanup},
		{"curl_easy_strerror", (void **)&api.easy_strerror},
		{"curl_free", (void **)&api.free},
		{"curl_getdate", (void **)&api.getdate},
		{"curl_multi_init", (void **)&api.multi_init},
		{"curl_multi_add_handle", (void **)&api.multi_add_handle},
		{"curl_multi_remove_handle", (void **)&api.multi_remove_handle},
		{"curl_multi_perform", (void **)&api.multi_perform},
		{"curl_multi_poll", (void **)&api.multi_poll},
		{"curl_multi_info_read", (void **)&api.multi_info_read},
		{"curl_multi_cleanup", (void **)&api.multi_cleanup},
		{"curl_share_init", (void **)&api.share_init},
		{"curl_share_setopt", (void **)&api.share_setopt},
		{"curl_slist_append", (void **)&api.slist_append},
		{"curl_slist_free_all", (void **)&api.slist_free_all},
		{"curl_url", (void **)&api.url},
		{"curl_url_cleanup", (void **)&api.url_cleanup},
		{"curl_url_get", (void **)&api.url_get},
		{"curl_url_set", (void **)&api.url_set},
	};

	api_loaded = aims_dynlib_load(names, 2, syms, sizeof(syms) / sizeof(syms[0]));
}

/* Loads libcurl once; false when it cannot be loaded. */
static bool curl_available(void)
{
	pthread_once(&api_once, load_api);
	return api_loaded;
}

#undef curl_easy_setopt
#undef curl_easy_getinfo
#undef curl_share_setopt
#define curl_global_init	 (*api.global_init)
#define curl_easy_init		 (*api.easy_init)
#define curl_easy_setopt	 (*api.easy_setopt)
#define curl_easy_getinfo	 (*api.easy_getinfo)
#define curl_easy_cleanup	 (*api.easy_cleanup)
#define curl_easy_strerror	 (*api.easy_strerror)
#define curl_free		 (*api.free)
#define curl_getdate		 (*api.getdate)
#define curl_multi_init		 (*api.multi_init)
#define curl_multi_add_handle	 (*api.multi_add_handle)
#define curl_multi_remove_handle (*api.multi_remove_handle)
#define curl_multi_perform	 (*api.multi_perform)
#define curl_multi_poll		 (*api.multi_poll)
#define curl_multi_info_read	 (*api.multi_info_read)
#define curl_multi_cleanup	 (*api.multi_cleanup)
#define curl_share_init		 (*api.share_init)
#define curl_share_setopt	 (*api.share_setopt)
#define curl_slist_append	 (*api.slist_append)
#define curl_slist_free_all	 (*api.slist_free_all)
#define curl_url		 (*api.url)
#define curl_url_cleanup	 (*api.url_cleanup)
#define curl_url_get		 (*api.url_get)
#define curl_url_set		 (*api.url_set)

/*
 * One share for the process: DNS answers, TLS sessions and idle
 * connections outlive a request, so the calls of one execution (create,
 * execute, delete) and of the next ones reuse connections instead of
 * paying a TLS handshake each. A transfer that is aborted (timeout,
 * cancel) leaves no connection behind: libcurl closes unfinished ones.
 */
static CURLSH *share;
static pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];

static void share_lock(CURL *handle, curl_lock_data data, curl_lock_access access, void *opaque)
{
	(void)handle;
	(void)access;
	(void)opaque;
	if (data >= 0 && data < CURL_LOCK_DATA_LAST)
		pthread_mutex_lock(&share_locks[data]);
}

static void share_unlock(CURL *handle, curl_lock_data data, void *opaque)
{
	(void)handle;
	(void)opaque;
	if (data >= 0 && data < CURL_LOCK_DATA_LAST)
		pthread_mutex_unlock(&share_locks[data]);
}

static void global_init(void)
{
	if (!curl_available())
		return;
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
	if (global_rc != CURLE_OK)
		return;
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&share_locks[i], NULL);
	share = curl_share_init();
	if (!share)
		return; /* no sharing: every request connects afresh */
	curl_share_setopt(share, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
}

uint64_t aims_http_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void aims_http_request_init(aims_http_request *req)
{
	memset(req, 0, sizeof(*req));
	req->method = "GET";
	for (size_t i = 0; i < AIMS_HTTP_MAX_CANCEL_FDS; i++)
		req->cancel_fds[i] = -1;
	req->max_body = 64u << 10;
}

void aims_http_response_free(aims_http_response *resp)
{
	if (resp)
		aims_buf_free(&resp->body);
}

typedef struct transfer {
	const aims_http_request *req;
	aims_http_response *resp;
	CURL *easy;
	aims_error *err;
	int body_rc; /* why the write callback stopped the transfer */
} transfer;

static size_t on_body(char *data, size_t size, size_t nmemb, void *opaque)
{
	transfer *t = opaque;
	size_t len = size * nmemb;
	long status = 0;
	int rc;

	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
	if (t->req->sink && status >= 200 && status < 300) {
		rc = t->req->sink(t->req->sink_ctx, data, len, t->err);
	} else {
		rc = aims_buf_append(&t->resp->body, data, len);
		if (rc == AIMS_ETOOBIG)
			rc = aims_error_set(t->err, AIMS_ETOOBIG,
					    "the response was larger than %zu bytes",
					    t->req->max_body);
		else if (rc < 0)
			rc = aims_error_set(t->err, rc, "out of memory reading a response");
	}
	if (rc < 0) {
		t->body_rc = rc;
		return 0;
	}
	return len;
}

static long parse_retry_after(const char *value)
{
	char *end;
	long long secs;
	time_t when;

	while (*value == ' ' || *value == '\t')
		value++;
	if (*value >= '0' && *value <= '9') {
		secs = strtoll(value, &end, 10);
		if (secs > 86400)
			secs = 86400;
		return (long)secs * 1000;
	}
	when = curl_getdate(value, NULL);
	if (when < 0)
		return -1;
	secs = (long long)(when - time(NULL));
	if (secs < 0)
		secs = 0;
	if (secs > 86400)
		secs = 86400;
	return (long)secs * 1000;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *opaque)
{
	transfer *t = opaque;
	size_t len = size * nmemb;
	static const char name[] = "retry-after:";
	char value[128];
	size_t n;

	if (len >= 5 && strncmp(data, "HTTP/", 5) == 0)
		t->resp->retry_after_ms = -1; /* a new response (after a 1xx) */
	if (len > sizeof(name) - 1 && strncasecmp(data, name, sizeof(name) - 1) == 0) {
		n = len - (sizeof(name) - 1);
		if (n >= sizeof(value))
			n = sizeof(value) - 1;
		memcpy(value, data + sizeof(name) - 1, n);
		value[n] = '\0';
		value[strcspn(value, "\r\n")] = '\0';
		t->resp->retry_after_ms = parse_retry_after(value);
	}
	return len;
}

/* The host of url, for messages ("?" when it cannot be parsed). */
static void url_host(char *out, size_t out_len, const char *url)
{
	CURLU *u = curl_available() ? curl_url() : NULL;
	char *host = NULL;

	snprintf(out, out_len, "?");
	if (!u)
		return;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		char *port = NULL;

		if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK)
			snprintf(out, out_len, "%s:%s", host, port);
		else
			snprintf(out, out_len, "%s", host);
		curl_free(port);
	}
	curl_free(host);
	curl_url_cleanup(u);
}

int aims_http_url_is_loopback(const char *url)
{
	CURLU *u = curl_available() ? curl_url() : NULL;
	char *host = NULL;
	struct in_addr a4;
	int yes = 0;

	if (!u)
		return 0;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		if (strcasecmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0 ||
		    strcmp(host, "::1") == 0)
			yes = 1;
		else if (inet_pton(AF_INET, host, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127)
			yes = 1;
	}
	curl_free(host);
	curl_url_cleanup(u);
	return yes;
}

static bool canceled(const aims_http_request *req)
{
	struct pollfd fds[AIMS_HTTP_MAX_CANCEL_FDS];
	nfds_t n = 0;

	for (size_t i = 0; i < AIMS_HTTP_MAX_CANCEL_FDS; i++)
		if (req->cancel_fds[i] >= 0) {
			fds[n].fd = req->cancel_fds[i];
			fds[n].events = POLLIN;
			fds[n].revents = 0;
			n++;
		}
	if (n == 0 || poll(fds, n, 0) <= 0)
		return false;
	for (nfds_t i = 0; i < n; i++)
		if (fds[i].revents & (POLLIN | POLLHUP | POLLERR))
			return true;
	return false;
}

static int setup(transfer *t, struct curl_slist **headers, char *errbuf)
{
	const aims_http_request *req = t->req;
	CURL *easy = t->easy;
	struct curl_slist *list = NULL, *next;
	long connect_ms = CONNECT_TIMEOUT_MS;
	uint64_t now = aims_http_now_ms();

	/* No "Expect: 100-continue" round trip for bodies over 1 KiB. */
	list = curl_slist_append(NULL, "Expect:");
	if (!list)
		return AIMS_ENOMEM;
	for (size_t i = 0; req->headers && req->headers[i]; i++) {
		next = curl_slist_append(list, req->headers[i]);
		if (!next) {
			curl_slist_free_all(list);
			return AIMS_ENOMEM;
		}
		list = next;
	}
	*headers = list;
	if (req->deadline_ms && req->deadline_ms > now &&
	    req->deadline_ms - now < (uint64_t)connect_ms)
		connect_ms = (long)(req->deadline_ms - now);
	if (connect_ms < 1)
		connect_ms = 1;

	curl_easy_setopt(easy, CURLOPT_URL, req->url);
	curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, req->method);
	if (strcmp(req->method, "GET") == 0)
		curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
	if (req->body || strcmp(req->method, "POST") == 0) {
		curl_easy_setopt(easy, CURLOPT_POSTFIELDS, req->body ? req->body : "");
		curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	}
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, list);
	curl_easy_setopt(easy, CURLOPT_USERAGENT, "aims/" AIMS_VERSION);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	/* Proxy variables (NO_PROXY included) are honoured, but never for
	 * loopback, all of 127.0.0.0/8: plain http is allowed there, and a
	 * proxy would see the API key in clear. */
	if (aims_http_url_is_loopback(req->url))
		curl_easy_setopt(easy, CURLOPT_PROXY, "");
	curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(easy, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
	if (share)
		curl_easy_setopt(easy, CURLOPT_SHARE, share);
	return 0;
}

/*
 * With CURLOPT_NOSIGNAL libcurl leaves SIGPIPE alone, and TLS writes on a
 * connection the peer closed raise it. It is blocked in this thread for
 * the transfer, and one that arrived meanwhile is consumed, so neither a
 * CLI nor a server dies of a peer hanging up.
 */
static void sigpipe_block(sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, old);
}

static void sigpipe_restore(const sigset_t *old)
{
	sigset_t set, pending;
	struct timespec zero = {0, 0};

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	if (!sigismember(old, SIGPIPE) && sigpending(&pending) == 0 &&
	    sigismember(&pending, SIGPIPE))
		(void)sigtimedwait(&set, NULL, &zero);
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

static int perform(aims_http_response *resp, const aims_http_request *req, aims_error *err);

int aims_http_perform(aims_http_response *resp, const aims_http_request *req, aims_error *err)
{
	sigset_t old;
	int rc;

	sigpipe_block(&old);
	rc = perform(resp, req, err);
	sigpipe_restore(&old);
	return rc;
}

static int perform(aims_http_response *resp, const aims_http_request *req, aims_error *err)
{
	transfer t = {0};
	CURLM *multi = NULL;
	struct curl_slist *headers = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	char host[300];
	CURLcode code = CURLE_OK;
	uint64_t start = aims_http_now_ms(), now;
	bool added = false, done = false;
	int rc = 0, running = 0;

	memset(resp, 0, sizeof(*resp));
	aims_buf_init(&resp->body, req->max_body);
	resp->retry_after_ms = -1;
	url_host(host, sizeof(host), req->url);

	pthread_once(&global_once, global_init);
	if (!api_loaded)
		return aims_error_set(err, AIMS_EUNSUPPORTED,
				      "libcurl (libcurl.so.4) cannot be loaded: install libcurl4");
	if (global_rc != CURLE_OK)
		return aims_error_set(err, AIMS_EUPSTREAM, "cannot initialize libcurl: %s",
				      curl_easy_strerror(global_rc));
	if (canceled(req))
		return aims_error_set(err, AIMS_ECANCELED, "the request to %s was canceled", host);

	t.req = req;
	t.resp = resp;
	t.err = err;
	t.easy = curl_easy_init();
	multi = curl_multi_init();
	if (!t.easy || !multi) {
		rc = aims_error_set(err, AIMS_ENOMEM, "out of memory starting a request");
		goto out;
	}
	if ((rc = setup(&t, &headers, errbuf)) < 0) {
		aims_error_set(err, rc, "out of memory starting a request");
		goto out;
	}
	if (curl_multi_add_handle(multi, t.easy) != CURLM_OK) {
		rc = aims_error_set(err, AIMS_EUPSTREAM, "cannot start a request to %s", host);
		goto out;
	}
	added = true;

	while (!done) {
		struct curl_waitfd extra[AIMS_HTTP_MAX_CANCEL_FDS];
		unsigned n_extra = 0;
		CURLMsg *msg;
		int left, wait_ms = POLL_SLICE_MS;

		if (curl_multi_perform(multi, &running) != CURLM_OK) {
			rc = aims_error_set(err, AIMS_EUPSTREAM, "the request to %s failed", host);
			goto out;
		}
		while ((msg = curl_multi_info_read(multi, &left)))
			if (msg->msg == CURLMSG_DONE) {
				code = msg->data.result;
				done = true;
			}
		if (done || !running)
			break;
		now = aims_http_now_ms();
		if (req->deadline_ms && now >= req->deadline_ms) {
			rc = aims_error_set(err, AIMS_ETIMEOUT,
					    "no complete answer from %s within the time limit",
					    host);
			goto out;
		}
		if (req->deadline_ms && req->deadline_ms - now < (uint64_t)wait_ms)
			wait_ms = (int)(req->deadline_ms - now);
		for (size_t i = 0; i < AIMS_HTTP_MAX_CANCEL_FDS; i++)
			if (req->cancel_fds[i] >= 0) {
				extra[n_extra].fd = req->cancel_fds[i];
				extra[n_extra].events = CURL_WAIT_POLLIN;
				extra[n_extra].revents = 0;
				n_extra++;
			}
		if (curl_multi_poll(multi, n_extra ? extra : NULL, n_extra, wait_ms, NULL) !=
		    CURLM_OK) {
			rc = aims_error_set(err, AIMS_EUPSTREAM, "waiting for %s failed", host);
			goto out;
		}
		if (canceled(req)) {
			rc = aims_error_set(err, AIMS_ECANCELED, "the request to %s was canceled",
					    host);
			goto out;
		}
	}

	curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &resp->status);
	if (code == CURLE_OK && done)
		goto out;
	if (t.body_rc < 0) {
		rc = t.body_rc; /* the message was set where the body was refused */
		goto out;
	}
	if (code == CURLE_OPERATION_TIMEDOUT) {
		rc = aims_error_set(err, AIMS_ETIMEOUT, "%s did not answer in time (%s)", host,
				    errbuf[0] ? errbuf : curl_easy_strerror(code));
		goto out;
	}
	if (resp->status)
		rc = aims_error_set(err, AIMS_EUPSTREAM,
				    "the connection to %s was cut before the answer ended (%s)",
				    host, errbuf[0] ? errbuf : curl_easy_strerror(code));
	else
		rc = aims_error_set(err, AIMS_EUPSTREAM, "cannot reach %s (%s)", host,
				    errbuf[0] ? errbuf : curl_easy_strerror(code));

out:
	if (t.easy && resp->status == 0)
		curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &resp->status);
	if (added)
		curl_multi_remove_handle(multi, t.easy);
	/* An unfinished transfer's connection is closed here: a stream stops. */
	curl_easy_cleanup(t.easy);
	curl_multi_cleanup(multi);
	curl_slist_free_all(headers);
	resp->elapsed_ms = aims_http_now_ms() - start;
	return rc;
}
