/*
 * test_http_client.c - the runtime's HTTP client (core/http_client.c):
 * loopback addresses are always reached directly, whatever the proxy
 * variables say, since plain http is allowed there and a proxy would see
 * the API key in clear.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/http_client.h"
#include "support.h"

typedef struct listener {
	int fd;
	int port;
	int accepted;
	const char *reply;
} listener;

static void listen_on_loopback(listener *l, const char *reply)
{
	struct sockaddr_in addr;
	socklen_t len = sizeof(addr);

	memset(l, 0, sizeof(*l));
	l->reply = reply;
	l->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(l->fd >= 0);
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(l->fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(l->fd, 4), 0);
	assert_int_equal(getsockname(l->fd, (struct sockaddr *)&addr, &len), 0);
	l->port = ntohs(addr.sin_port);
}

/* Answers one connection with l->reply. */
static void *serve_one(void *arg)
{
	listener *l = arg;
	char buf[4096];
	int c = accept(l->fd, NULL, NULL);

	if (c < 0)
		return NULL;
	l->accepted++;
	(void)!read(c, buf, sizeof(buf));
	(void)!write(c, l->reply, strlen(l->reply));
	close(c);
	return NULL;
}

static void test_loopback_bypasses_proxies(void **state)
{
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n"
				 "Connection: close\r\n\r\ndirect";
	static const char proxied[] = "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n"
				      "Connection: close\r\n\r\nproxied";
	listener server, proxy;
	pthread_t t1, t2;
	aims_http_request req;
	aims_http_response resp;
	aims_error err;
	char url[64], proxy_url[64];

	(void)state;
	listen_on_loopback(&server, ok);
	listen_on_loopback(&proxy, proxied);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v2/sandboxes", server.port);
	snprintf(proxy_url, sizeof(proxy_url), "http://127.0.0.1:%d", proxy.port);
	/* Every variable libcurl reads, and a NO_PROXY that does not name
	 * the host. */
	setenv("http_proxy", proxy_url, 1);
	setenv("HTTP_PROXY", proxy_url, 1);
	setenv("ALL_PROXY", proxy_url, 1);
	setenv("all_proxy", proxy_url, 1);
	setenv("NO_PROXY", "example.invalid", 1);
	setenv("no_proxy", "example.invalid", 1);
	assert_int_equal(pthread_create(&t1, NULL, serve_one, &server), 0);
	assert_int_equal(pthread_create(&t2, NULL, serve_one, &proxy), 0);

	aims_http_request_init(&req);
	req.method = "GET";
	req.url = url;
	req.deadline_ms = aims_http_now_ms() + 5000;
	aims_error_clear(&err);
	memset(&resp, 0, sizeof(resp));
	assert_int_equal(aims_http_perform(&resp, &req, &err), 0);
	assert_int_equal(resp.status, 200);
	assert_int_equal(resp.body.len, 6);
	assert_memory_equal(resp.body.ptr, "direct", 6);
	aims_http_response_free(&resp);
	pthread_join(t1, NULL);

	/* Release the proxy's thread: it must not have seen a connection. */
	shutdown(proxy.fd, SHUT_RDWR);
	pthread_join(t2, NULL);
	assert_int_equal(server.accepted, 1);
	assert_int_equal(proxy.accepted, 0);
	close(server.fd);
	close(proxy.fd);
	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	unsetenv("ALL_PROXY");
	unsetenv("all_proxy");
	unsetenv("NO_PROXY");
	unsetenv("no_proxy");
}

/* Which hosts count as loopback (no network is used here). */
static void test_loopback_hosts(void **state)
{
	(void)state;
	assert_true(aims_http_url_is_loopback("http://127.0.0.1:80/"));
	assert_true(aims_http_url_is_loopback("http://127.0.0.2:8080/x"));
	assert_true(aims_http_url_is_loopback("http://127.255.255.254/"));
	assert_true(aims_http_url_is_loopback("http://localhost:3000/"));
	assert_true(aims_http_url_is_loopback("http://[::1]:3000/"));
	assert_false(aims_http_url_is_loopback("http://128.0.0.1/"));
	assert_false(aims_http_url_is_loopback("http://127.0.0.1.example.com/"));
	assert_false(aims_http_url_is_loopback("https://api.e2b.dev/"));
	assert_false(aims_http_url_is_loopback("not a url"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loopback_bypasses_proxies),
		cmocka_unit_test(test_loopback_hosts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
