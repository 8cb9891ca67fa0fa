/*
 * test_e2b_stream.c - the E2B stream decoders without a network: the
 * /execute NDJSON stream and envd's Connect envelopes, fed in every
 * possible split; base64; configuration from the environment.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aims/e2b.h"
#include "e2b/e2b_int.h"
#include "support.h"

static const char ndjson[] =
	"{\"type\": \"number_of_executions\", \"execution_count\": 1}\n"
	"{\"type\": \"stdout\", \"text\": \"h\\u00e9llo \\u2713\\n\", \"timestamp\": \"t\"}\n"
	"{\"type\": \"keepalive\"}\n"
	"{\"type\": \"brand_new_type\", \"whatever\": [1, 2]}\n"
	"\n"
	"{\"type\": \"stderr\", \"text\": \"careful\\n\"}\r\n"
	"{\"type\": \"result\", \"text\": \"2\", \"png\": \"AAAA\", \"is_main_result\": true}\n"
	"{\"type\": \"result\", \"text\": \"<Figure>\", \"is_main_result\": false}\n"
	"{\"type\": \"error\", \"name\": \"NameError\", \"value\": \"name 'x' is not defined\", "
	"\"traceback\": \"Traceback: line 1\"}\n"
	"{\"type\": \"end_of_execution\"}\n"
	"{\"type\": \"stdout\", \"text\": \"after the end\"}\n";

static void check_ndjson(const e2b_exec_stream *s)
{
	assert_true(s->ended);
	assert_string_equal(s->out.ptr, "h\xc3\xa9llo \xe2\x9c\x93\n2\n");
	assert_string_equal(s->errout.ptr, "careful\nTraceback: line 1\n");
	assert_non_null(s->error);
	assert_string_equal(s->error, "NameError: name 'x' is not defined");
	assert_false(s->truncated);
}

static void test_ndjson_every_split(void **state)
{
	size_t len = strlen(ndjson);

	(void)state;
	for (size_t cut = 0; cut <= len; cut++) {
		e2b_exec_stream s;
		aims_error err;

		aims_error_clear(&err);
		e2b_exec_stream_init(&s, 1 << 20);
		assert_int_equal(e2b_exec_stream_feed(&s, ndjson, cut, &err), 0);
		assert_int_equal(e2b_exec_stream_feed(&s, ndjson + cut, len - cut, &err), 0);
		assert_int_equal(e2b_exec_stream_finish(&s, &err), 0);
		check_ndjson(&s);
		e2b_exec_stream_free(&s);
	}
}

static void test_ndjson_byte_by_byte(void **state)
{
	e2b_exec_stream s;
	aims_error err;

	(void)state;
	aims_error_clear(&err);
	e2b_exec_stream_init(&s, 1 << 20);
	for (size_t i = 0; ndjson[i]; i++)
		assert_int_equal(e2b_exec_stream_feed(&s, ndjson + i, 1, &err), 0);
	assert_int_equal(e2b_exec_stream_finish(&s, &err), 0);
	check_ndjson(&s);
	e2b_exec_stream_free(&s);
}

static void test_ndjson_last_line_without_newline(void **state)
{
	static const char text[] = "{\"type\": \"stdout\", \"text\": \"x\"}\n{\"type\": "
				   "\"end_of_execution\"}";
	e2b_exec_stream s;
	aims_error err;

	(void)state;
	aims_error_clear(&err);
	e2b_exec_stream_init(&s, 1 << 20);
	assert_int_equal(e2b_exec_stream_feed(&s, text, strlen(text), &err), 0);
	assert_false(s.ended);
	assert_int_equal(e2b_exec_stream_finish(&s, &err), 0);
	assert_true(s.ended);
	assert_string_equal(s.out.ptr, "x");
	e2b_exec_stream_free(&s);
}

static void test_ndjson_failures(void **state)
{
	static const char bad[] = "{\"type\": \"stdout\", \"text\": \"x\"}\nnot json at all\n";
	static const char array[] = "[1,2]\n";
	e2b_exec_stream s;
	aims_error err;
	char *big;

	(void)state;
	aims_error_clear(&err);
	e2b_exec_stream_init(&s, 1 << 20);
	assert_int_equal(e2b_exec_stream_feed(&s, bad, strlen(bad), &err), AIMS_EUPSTREAM);
	assert_non_null(strstr(err.message, "not a JSON object"));
	e2b_exec_stream_free(&s);

	aims_error_clear(&err);
	e2b_exec_stream_init(&s, 1 << 20);
	assert_int_equal(e2b_exec_stream_feed(&s, array, strlen(array), &err), AIMS_EUPSTREAM);
	e2b_exec_stream_free(&s);

	/* A line over the limit (one huge print) is dropped, not buffered
	 * for ever, and the output flagged truncated; the lines after it
	 * still count, whether the big one ends in the same chunk or not. */
	big = malloc(AIMS_E2B_MAX_LINE + 2);
	assert_non_null(big);
	memset(big, 'a', AIMS_E2B_MAX_LINE + 1);
	for (int split = 0; split < 2; split++) {
		static const char after[] = "\n{\"type\": \"stdout\", \"text\": \"after\"}\n"
					    "{\"type\": \"end_of_execution\"}\n";

		aims_error_clear(&err);
		e2b_exec_stream_init(&s, 1 << 20);
		if (split) {
			assert_int_equal(e2b_exec_stream_feed(&s, big, AIMS_E2B_MAX_LINE + 1, &err),
					 0);
			assert_int_equal(e2b_exec_stream_feed(&s, "aaa", 3, &err), 0);
			assert_int_equal(e2b_exec_stream_feed(&s, after, strlen(after), &err), 0);
		} else {
			char *all = malloc(AIMS_E2B_MAX_LINE + 1 + sizeof(after));

			assert_non_null(all);
			memcpy(all, big, AIMS_E2B_MAX_LINE + 1);
			memcpy(all + AIMS_E2B_MAX_LINE + 1, after, sizeof(after));
			assert_int_equal(e2b_exec_stream_feed(&s, all,
							      AIMS_E2B_MAX_LINE + 1 + strlen(after),
							      &err),
					 0);
			free(all);
		}
		assert_true(s.truncated);
		assert_true(s.ended);
		assert_string_equal(s.out.ptr, "after");
		e2b_exec_stream_free(&s);
	}
	free(big);
}

static void test_ndjson_output_cap(void **state)
{
	static const char text[] = "{\"type\": \"stdout\", \"text\": \"0123456789abcdef\"}\n"
				   "{\"type\": \"stdout\", \"text\": \"more\"}\n"
				   "{\"type\": \"stderr\", \"text\": \"err\"}\n";
	e2b_exec_stream s;
	aims_error err;

	(void)state;
	aims_error_clear(&err);
	e2b_exec_stream_init(&s, 10);
	assert_int_equal(e2b_exec_stream_feed(&s, text, strlen(text), &err), 0);
	assert_int_equal(s.out.len, 10);
	assert_string_equal(s.out.ptr, "0123456789");
	assert_string_equal(s.errout.ptr, "err");
	assert_true(s.truncated);
	e2b_exec_stream_free(&s);
}

static int append_str(aims_buf *b, unsigned flags, const char *json)
{
	return e2b_envelope_append(b, flags, json, strlen(json));
}

static void build_envelopes(aims_buf *b)
{
	/* "hello\n" = aGVsbG8K, "oops" = b29wcw== */
	assert_int_equal(append_str(b, 0, "{\"event\":{\"start\":{\"pid\":77}}}"), 0);
	assert_int_equal(append_str(b, 0, "{\"event\":{\"keepalive\":{}}}"), 0);
	assert_int_equal(append_str(b, 0, "{\"event\":{\"data\":{\"stdout\":\"aGVsbG8K\"}}}"), 0);
	assert_int_equal(append_str(b, 0, "{\"event\":{\"data\":{\"stderr\":\"b29wcw==\"}}}"), 0);
	assert_int_equal(append_str(b, 0, "{\"event\":{\"unknown\":{}}}"), 0);
	assert_int_equal(append_str(b, 0,
				    "{\"event\":{\"end\":{\"exited\":true,\"status\":\"exit "
				    "status 0\"}}}"),
			 0);
	assert_int_equal(append_str(b, E2B_ENVELOPE_END, "{}"), 0);
}

static void test_envelopes_every_split(void **state)
{
	aims_buf b;

	(void)state;
	aims_buf_init(&b, 1 << 16);
	build_envelopes(&b);
	/* The frame itself: flag byte, big-endian length, JSON. */
	assert_int_equal((unsigned char)b.ptr[0], 0);
	assert_int_equal((unsigned char)b.ptr[4], strlen("{\"event\":{\"start\":{\"pid\":77}}}"));
	assert_memory_equal(b.ptr + 5, "{\"event\"", 8);
	for (size_t cut = 0; cut <= b.len; cut++) {
		e2b_proc_stream s;
		aims_error err;

		aims_error_clear(&err);
		e2b_proc_stream_init(&s);
		assert_int_equal(e2b_proc_stream_feed(&s, b.ptr, cut, &err), 0);
		assert_int_equal(e2b_proc_stream_feed(&s, b.ptr + cut, b.len - cut, &err), 0);
		assert_true(s.started);
		assert_int_equal(s.pid, 77);
		assert_true(s.ended);
		assert_true(s.exited);
		assert_int_equal(s.exit_code, 0); /* omitted: protobuf's zero */
		assert_string_equal(s.status, "exit status 0");
		assert_true(s.finished);
		assert_string_equal(s.error_code, "");
		assert_string_equal(s.out.ptr, "hello\n");
		assert_string_equal(s.errout.ptr, "oops");
		assert_int_equal(s.envelopes, 7);
		assert_int_equal(s.pending.len, 0);
		e2b_proc_stream_free(&s);
	}
	aims_buf_free(&b);
}

static void test_envelope_errors(void **state)
{
	static const char end_error[] =
		"{\"error\":{\"code\":\"deadline_exceeded\",\"message\":\"too slow\"}}";
	e2b_proc_stream s;
	aims_error err;
	aims_buf b;

	(void)state;
	aims_buf_init(&b, 1 << 16);
	assert_int_equal(
		append_str(&b, 0, "{\"event\":{\"end\":{\"exitCode\":3,\"exited\":true}}}"), 0);
	assert_int_equal(e2b_envelope_append(&b, E2B_ENVELOPE_END, end_error, strlen(end_error)),
			 0);
	aims_error_clear(&err);
	e2b_proc_stream_init(&s);
	assert_int_equal(e2b_proc_stream_feed(&s, b.ptr, b.len, &err), 0);
	assert_int_equal(s.exit_code, 3);
	assert_string_equal(s.error_code, "deadline_exceeded");
	assert_string_equal(s.error_message, "too slow");
	/* Nothing may follow the end of the stream. */
	assert_int_equal(e2b_proc_stream_feed(&s, b.ptr, b.len, &err), AIMS_EUPSTREAM);
	e2b_proc_stream_free(&s);

	/* Compressed envelopes were not asked for. */
	aims_buf_reset(&b);
	assert_int_equal(append_str(&b, E2B_ENVELOPE_COMPRESSED, "{}"), 0);
	aims_error_clear(&err);
	e2b_proc_stream_init(&s);
	assert_int_equal(e2b_proc_stream_feed(&s, b.ptr, b.len, &err), AIMS_EUPSTREAM);
	assert_non_null(strstr(err.message, "compressed"));
	e2b_proc_stream_free(&s);

	/* An announced length over the limit fails before anything is kept. */
	aims_error_clear(&err);
	e2b_proc_stream_init(&s);
	assert_int_equal(e2b_proc_stream_feed(&s, "\x00\x7f\xff\xff\xff", 5, &err), AIMS_ETOOBIG);
	e2b_proc_stream_free(&s);

	/* Output that is not base64. */
	aims_buf_reset(&b);
	assert_int_equal(append_str(&b, 0, "{\"event\":{\"data\":{\"stdout\":\"@@@\"}}}"), 0);
	aims_error_clear(&err);
	e2b_proc_stream_init(&s);
	assert_int_equal(e2b_proc_stream_feed(&s, b.ptr, b.len, &err), AIMS_EUPSTREAM);
	assert_non_null(strstr(err.message, "base64"));
	e2b_proc_stream_free(&s);
	aims_buf_free(&b);
}

/* E2B's error text is cut at 200 bytes; the word cut in two is dropped:
 * it could be a piece of the API key (which redaction, matching the whole
 * key, would miss) or half of a UTF-8 character. */
static void test_error_text_cut(void **state)
{
	char body[512], why[256];
	size_t n;

	(void)state;
	n = (size_t)snprintf(body, sizeof(body), "{\"message\": \"");
	for (int i = 0; i < 19; i++)
		n += (size_t)snprintf(body + n, sizeof(body) - n, "blah blah ");
	snprintf(body + n, sizeof(body) - n, "key e2b_0123456789abcdef0123456789abcdef is bad\"}");
	e2b_error_text(why, sizeof(why), body, strlen(body));
	assert_null(strstr(why, "e2b_0"));
	assert_non_null(strstr(why, "blah key \xe2\x80\xa6"));

	/* Multi-byte characters: nothing half of one is kept. */
	n = (size_t)snprintf(body, sizeof(body), "{\"message\": \"");
	for (int i = 0; i < 120; i++)
		n += (size_t)snprintf(body + n, sizeof(body) - n, "\xe4\xb8\xad");
	snprintf(body + n, sizeof(body) - n, "\"}");
	e2b_error_text(why, sizeof(why), body, strlen(body));
	assert_string_equal(why, "\xe2\x80\xa6");

	e2b_error_text(why, sizeof(why), "{\"message\": \"short\"}", 22);
	assert_string_equal(why, "short");
}

static void test_base64(void **state)
{
	static const struct {
		const char *plain, *encoded;
	} vectors[] = {{"", ""},
		       {"f", "Zg=="},
		       {"fo", "Zm8="},
		       {"foo", "Zm9v"},
		       {"foob", "Zm9vYg=="},
		       {"fooba", "Zm9vYmE="},
		       {"foobar", "Zm9vYmFy"},
		       {"user:", "dXNlcjo="},
		       {"root:", "cm9vdDo="}};
	aims_buf b;

	(void)state;
	aims_buf_init(&b, 1024);
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		aims_buf_reset(&b);
		assert_int_equal(e2b_base64_encode(&b, vectors[i].plain, strlen(vectors[i].plain)),
				 0);
		assert_string_equal(b.len ? b.ptr : "", vectors[i].encoded);
		aims_buf_reset(&b);
		assert_int_equal(
			e2b_base64_decode(&b, vectors[i].encoded, strlen(vectors[i].encoded)), 0);
		assert_int_equal(b.len, strlen(vectors[i].plain));
		if (b.len)
			assert_memory_equal(b.ptr, vectors[i].plain, b.len);
	}
	aims_buf_reset(&b);
	assert_int_equal(e2b_base64_decode(&b, "Zm9v!", 5), AIMS_EINVALID);
	assert_int_equal(e2b_base64_decode(&b, "Z", 1), AIMS_EINVALID);
	aims_buf_free(&b);
}

static void clear_e2b_env(void)
{
	unsetenv("E2B_API_KEY");
	unsetenv("E2B_DOMAIN");
	unsetenv("E2B_API_URL");
	unsetenv("E2B_SANDBOX_URL");
	unsetenv("E2B_DEBUG");
}

static void test_config_from_env(void **state)
{
	aims_e2b_config cfg;
	e2b_sandbox sb;
	aims_error err;
	char url[600];

	(void)state;
	clear_e2b_env();
	aims_error_clear(&err);
	assert_int_equal(aims_e2b_config_from_env(&cfg, &err), AIMS_EAUTH);
	assert_non_null(strstr(err.message, "E2B_API_KEY is not set"));

	setenv("E2B_API_KEY", "sk-live-SECRET-not-e2b", 1);
	aims_error_clear(&err);
	assert_int_equal(aims_e2b_config_from_env(&cfg, &err), AIMS_EAUTH);
	assert_non_null(strstr(err.message, "malformed"));
	assert_null(strstr(err.message, "SECRET"));

	setenv("E2B_API_KEY", "e2b_0123456789abcdef", 1);
	aims_error_clear(&err);
	assert_int_equal(aims_e2b_config_from_env(&cfg, &err), 0);
	assert_string_equal(cfg.api_url, "https://api.e2b.app");
	assert_string_equal(cfg.template_id, "code-interpreter-v1");
	memset(&sb, 0, sizeof(sb));
	snprintf(sb.id, sizeof(sb.id), "iabc123");
	assert_int_equal(e2b_data_url(url, sizeof(url), &cfg, &sb, 49999, &err), 0);
	assert_string_equal(url, "https://49999-iabc123.e2b.app");
	/* A domain in the creation answer wins over the configured one. */
	snprintf(sb.domain, sizeof(sb.domain), "eu.e2b.example");
	assert_int_equal(e2b_data_url(url, sizeof(url), &cfg, &sb, 49983, &err), 0);
	assert_string_equal(url, "https://49983-iabc123.eu.e2b.example");
	sb.domain[0] = '\0';

	setenv("E2B_DOMAIN", "sandbox.example.org", 1);
	aims_error_clear(&err);
	assert_int_equal(aims_e2b_config_from_env(&cfg, &err), 0);
	assert_string_equal(cfg.api_url, "https://api.sandbox.example.org");
	assert_int_equal(e2b_data_url(url, sizeof(url), &cfg, &sb, 49999, &err), 0);
	assert_string_equal(url, "https://49999-iabc123.sandbox.example.org");

	setenv("E2B_API_URL", "https://e2b.internal.example/", 1);
	setenv("E2B_SANDBOX_URL", "https://proxy.internal.example", 1);
	aims_error_clear(&err);
	assert_int_equal(aims_e2b_config_from_env(&cfg, &err), 0);
	assert_string_equal(cfg.api_url, "https://e2b.internal.example");
	assert_int_equal(e2b_data_url(url, sizeof(url), &cfg, &sb, 49999, &err), 0);
	assert_string_equal(url, "https://proxy.internal.example");

	setenv("E2B_API_URL", "http://10.1.2.3:3000", 1);
	aims_error_clear(&err);
	assert_int_equal(aims_e2b_config_from_env(&cfg, &err), AIMS_EINVALID);
	assert_non_null(strstr(err.message, "not loopback"));
	setenv("E2B_API_URL", "http://127.0.0.1:3000", 1);
	setenv("E2B_SANDBOX_URL", "ftp://127.0.0.1", 1);
	aims_error_clear(&err);
	assert_int_equal(aims_e2b_config_from_env(&cfg, &err), AIMS_EINVALID);
	unsetenv("E2B_SANDBOX_URL");
	aims_error_clear(&err);
	assert_int_equal(aims_e2b_config_from_env(&cfg, &err), 0);

	unsetenv("E2B_API_URL");
	unsetenv("E2B_DOMAIN");
	setenv("E2B_DEBUG", "true", 1);
	aims_error_clear(&err);
	assert_int_equal(aims_e2b_config_from_env(&cfg, &err), 0);
	assert_string_equal(cfg.api_url, "http://localhost:3000");
	assert_int_equal(e2b_data_url(url, sizeof(url), &cfg, &sb, 49983, &err), 0);
	assert_string_equal(url, "http://localhost:49983");
	clear_e2b_env();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ndjson_every_split),
		cmocka_unit_test(test_ndjson_byte_by_byte),
		cmocka_unit_test(test_ndjson_last_line_without_newline),
		cmocka_unit_test(test_ndjson_failures),
		cmocka_unit_test(test_ndjson_output_cap),
		cmocka_unit_test(test_envelopes_every_split),
		cmocka_unit_test(test_envelope_errors),
		cmocka_unit_test(test_error_text_cut),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_config_from_env),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
