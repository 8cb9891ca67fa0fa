/*
 * stream.c - the two streams E2B answers with: the code-interpreter's
 * newline-delimited JSON (/execute) and envd's Connect streaming envelopes
 * (process.Process/Start). Both arrive in arbitrary pieces; both decoders
 * keep a bounded buffer of the unit being received and act on whole units.
 * cJSON stays inside this file.
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "e2b/e2b_int.h"

/* --- base64 (padded standard alphabet; protobuf JSON's bytes) --- */

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int e2b_base64_decode(aims_buf *out, const char *in, size_t len)
{
	unsigned acc = 0;
	int bits = 0, rc;
	size_t i, pad = 0;
	char byte;

	while (len > 0 && in[len - 1] == '=' && pad < 2) {
		len--;
		pad++;
	}
	if ((len + pad) % 4 != 0 && pad != 0)
		return AIMS_EINVALID;
	if (len % 4 == 1)
		return AIMS_EINVALID;
	for (i = 0; i < len; i++) {
		int v = b64_value((unsigned char)in[i]);

		if (v < 0)
			return AIMS_EINVALID;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			byte = (char)((acc >> bits) & 0xff);
			if ((rc = aims_buf_append(out, &byte, 1)) < 0)
				return rc;
		}
	}
	return 0;
}

int e2b_base64_encode(aims_buf *out, const void *data, size_t len)
{
	const unsigned char *p = data;
	char quad[4];
	int rc;

	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		size_t n = len - i < 3 ? len - i : 3;

		if (n > 1)
			v |= (unsigned)p[i + 1] << 8;
		if (n > 2)
			v |= p[i + 2];
		quad[0] = b64_alphabet[(v >> 18) & 63];
		quad[1] = b64_alphabet[(v >> 12) & 63];
		quad[2] = n > 1 ? b64_alphabet[(v >> 6) & 63] : '=';
		quad[3] = n > 2 ? b64_alphabet[v & 63] : '=';
		if ((rc = aims_buf_append(out, quad, 4)) < 0)
			return rc;
	}
	return 0;
}

/* --- the /execute NDJSON stream --- */

void e2b_exec_stream_init(e2b_exec_stream *s, size_t output_max)
{
	memset(s, 0, sizeof(*s));
	aims_buf_init(&s->line, AIMS_E2B_MAX_LINE);
	aims_buf_init(&s->out, output_max);
	aims_buf_init(&s->errout, output_max);
	s->output_max = output_max;
}

void e2b_exec_stream_free(e2b_exec_stream *s)
{
	if (!s)
		return;
	aims_buf_free(&s->line);
	aims_buf_free(&s->out);
	aims_buf_free(&s->errout);
	free(s->error);
	s->error = NULL;
}

/* Appends what fits under the stream's output cap; flags the rest. */
static int append_capped(e2b_exec_stream *s, aims_buf *buf, const char *text, size_t len)
{
	size_t room = s->output_max - buf->len;

	if (len > room) {
		s->truncated = true;
		len = room;
	}
	return len ? aims_buf_append(buf, text, len) : 0;
}

static const char *string_field(const cJSON *obj, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsString(item) ? item->valuestring : NULL;
}

static int exec_line(e2b_exec_stream *s, const char *line, size_t len, aims_error *err)
{
	cJSON *obj = NULL;
	const char *type, *text;
	int rc = 0;

	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	if (len == 0 || s->ended)
		return 0; /* blank lines; anything after end_of_execution */
	s->lines++;
	obj = cJSON_ParseWithLength(line, len);
	if (!cJSON_IsObject(obj)) {
		rc = aims_error_set(
			err, AIMS_EUPSTREAM,
			"the E2B code interpreter sent a line that is not a JSON object "
			"(line %zu of its stream)",
			s->lines);
		goto out;
	}
	type = string_field(obj, "type");
	if (!type)
		goto out; /* no type: nothing we know; ignore like unknown types */
	if (strcmp(type, "stdout") == 0 || strcmp(type, "stderr") == 0) {
		text = string_field(obj, "text");
		if (text)
			rc = append_capped(s, type[3] == 'o' ? &s->out : &s->errout, text,
					   strlen(text));
	} else if (strcmp(type, "result") == 0) {
		/* The value of the cell's last expression, as a notebook shows
		 * it; other display data (images, HTML) has no place in stdout. */
		text = string_field(obj, "text");
		if (text && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(obj, "is_main_result"))) {
			size_t n = strlen(text);

			rc = append_capped(s, &s->out, text, n);
			if (rc == 0 && n > 0 && text[n - 1] != '\n')
				rc = append_capped(s, &s->out, "\n", 1);
		}
	} else if (strcmp(type, "error") == 0) {
		const char *name = string_field(obj, "name");
		const char *value = string_field(obj, "value");
		const char *traceback = string_field(obj, "traceback");
		aims_buf msg;

		if (!s->error) {
			aims_buf_init(&msg, 4096);
			if (aims_buf_printf(&msg, "%.200s: %.3000s", name ? name : "Error",
					    value ? value : "") < 0 ||
			    !(s->error = aims_buf_detach(&msg))) {
				aims_buf_free(&msg);
				rc = aims_error_set(err, AIMS_ENOMEM, "out of memory");
				goto out;
			}
		}
		if (traceback && *traceback) {
			size_t n = strlen(traceback);

			rc = append_capped(s, &s->errout, traceback, n);
			if (rc == 0 && traceback[n - 1] != '\n')
				rc = append_capped(s, &s->errout, "\n", 1);
		}
	} else if (strcmp(type, "end_of_execution") == 0) {
		s->ended = true;
	}
	/* number_of_executions, keepalive and unknown types: nothing to do. */
	if (rc < 0)
		rc = aims_error_set(err, rc, "out of memory collecting output");
out:
	cJSON_Delete(obj);
	return rc;
}

int e2b_exec_stream_feed(e2b_exec_stream *s, const char *data, size_t len, aims_error *err)
{
	int rc = 0;

	while (len > 0) {
		const char *nl = memchr(data, '\n', len);
		size_t take = nl ? (size_t)(nl - data) : len;

		if (s->skipping || (rc = aims_buf_append(&s->line, data, take)) == AIMS_ETOOBIG) {
			/* A line too big to keep (one print of many MiB): what it
			 * carried is past any output cap anyway. */
			aims_buf_reset(&s->line);
			s->truncated = true;
			s->skipping = !nl;
			if (!nl)
				break;
			data = nl + 1;
			len -= take + 1;
			continue;
		}
		if (rc < 0)
			return aims_error_set(err, rc, "out of memory reading the E2B stream");
		if (!nl)
			break;
		rc = exec_line(s, s->line.ptr ? s->line.ptr : "", s->line.len, err);
		aims_buf_reset(&s->line);
		if (rc < 0)
			return rc;
		data = nl + 1;
		len -= take + 1;
	}
	return 0;
}

int e2b_exec_stream_finish(e2b_exec_stream *s, aims_error *err)
{
	int rc = 0;

	if (s->line.len > 0)
		rc = exec_line(s, s->line.ptr, s->line.len, err);
	aims_buf_reset(&s->line);
	return rc;
}

/* --- envd's Connect envelopes --- */

void e2b_proc_stream_init(e2b_proc_stream *s)
{
	memset(s, 0, sizeof(*s));
	aims_buf_init(&s->pending, 5 + AIMS_E2B_MAX_ENVELOPE);
	aims_buf_init(&s->out, AIMS_E2B_MAX_INSTALL_OUTPUT);
	aims_buf_init(&s->errout, AIMS_E2B_MAX_INSTALL_OUTPUT);
}

void e2b_proc_stream_free(e2b_proc_stream *s)
{
	if (!s)
		return;
	aims_buf_free(&s->pending);
	aims_buf_free(&s->out);
	aims_buf_free(&s->errout);
}

int e2b_envelope_append(aims_buf *out, unsigned flags, const char *payload, size_t len)
{
	unsigned char head[5];
	int rc;

	if (len > UINT32_MAX)
		return AIMS_ETOOBIG;
	head[0] = (unsigned char)flags;
	head[1] = (unsigned char)(len >> 24);
	head[2] = (unsigned char)(len >> 16);
	head[3] = (unsigned char)(len >> 8);
	head[4] = (unsigned char)len;
	if ((rc = aims_buf_append(out, head, sizeof(head))) < 0)
		return rc;
	return aims_buf_append(out, payload, len);
}

/* Keeps the last max bytes of everything appended: error messages of
 * package managers are at the end of their output. */
static int append_tail(aims_buf *buf, const char *data, size_t len)
{
	size_t drop;

	if (len >= buf->max) {
		aims_buf_reset(buf);
		return aims_buf_append(buf, data + len - buf->max, buf->max);
	}
	if (buf->len + len > buf->max) {
		drop = buf->len + len - buf->max;
		memmove(buf->ptr, buf->ptr + drop, buf->len - drop);
		buf->len -= drop;
	}
	return aims_buf_append(buf, data, len);
}

static void copy_field(char *out, size_t out_len, const char *value)
{
	size_t n = 0;

	for (; value && *value && n + 1 < out_len; value++)
		out[n++] = (*value >= 0x20 && *value != 0x7f) ? *value : ' ';
	out[n] = '\0';
}

static int proc_data(e2b_proc_stream *s, const cJSON *data, aims_error *err)
{
	static const char *const names[] = {"stdout", "stderr"};
	aims_buf bytes;
	int rc = 0;

	for (int i = 0; i < 2 && rc == 0; i++) {
		const char *b64 = string_field(data, names[i]);

		if (!b64)
			continue;
		aims_buf_init(&bytes, AIMS_E2B_MAX_ENVELOPE);
		rc = e2b_base64_decode(&bytes, b64, strlen(b64));
		if (rc == AIMS_EINVALID)
			rc = aims_error_set(err, AIMS_EUPSTREAM,
					    "envd sent %s that is not valid base64", names[i]);
		else if (rc < 0)
			rc = aims_error_set(err, rc, "out of memory reading process output");
		else if (bytes.len && (rc = append_tail(i == 0 ? &s->out : &s->errout, bytes.ptr,
							bytes.len)) < 0)
			rc = aims_error_set(err, rc, "out of memory reading process output");
		aims_buf_free(&bytes);
	}
	return rc;
}

static int proc_envelope(e2b_proc_stream *s, unsigned flags, const char *payload, size_t len,
			 aims_error *err)
{
	cJSON *obj = NULL;
	const cJSON *event, *item;
	int rc = 0;

	s->envelopes++;
	if (s->finished)
		return aims_error_set(err, AIMS_EUPSTREAM,
				      "envd sent data after the end of the process stream");
	if (flags & E2B_ENVELOPE_COMPRESSED)
		return aims_error_set(err, AIMS_EUPSTREAM,
				      "envd sent a compressed message, which was not asked for");
	obj = cJSON_ParseWithLength(payload, len);
	if (!cJSON_IsObject(obj)) {
		rc = aims_error_set(err, AIMS_EUPSTREAM,
				    "envd sent a process message that is not a JSON object");
		goto out;
	}
	if (flags & E2B_ENVELOPE_END) {
		const cJSON *error = cJSON_GetObjectItemCaseSensitive(obj, "error");

		s->finished = true;
		if (cJSON_IsObject(error)) {
			const char *code = string_field(error, "code");

			copy_field(s->error_code, sizeof(s->error_code), code ? code : "unknown");
			copy_field(s->error_message, sizeof(s->error_message),
				   string_field(error, "message"));
		}
		goto out;
	}
	event = cJSON_GetObjectItemCaseSensitive(obj, "event");
	if (!cJSON_IsObject(event))
		goto out; /* not an event: nothing we know */
	if ((item = cJSON_GetObjectItemCaseSensitive(event, "start"))) {
		const cJSON *pid = cJSON_GetObjectItemCaseSensitive(item, "pid");

		s->started = true;
		if (cJSON_IsNumber(pid) && pid->valuedouble >= 0 && pid->valuedouble <= UINT32_MAX)
			s->pid = (uint32_t)pid->valuedouble;
	} else if ((item = cJSON_GetObjectItemCaseSensitive(event, "data"))) {
		rc = proc_data(s, item, err);
	} else if ((item = cJSON_GetObjectItemCaseSensitive(event, "end"))) {
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(item, "exitCode");

		s->ended = true;
		/* protobuf JSON omits zero values: no exitCode means 0. */
		/* An exit code is 0-255; anything else from the server (out of
		 * int's range would be undefined to convert) reads as 255. */
		s->exit_code = !cJSON_IsNumber(code) ? 0
			       : code->valuedouble >= 0 && code->valuedouble <= 255
				       ? (int)code->valuedouble
				       : 255;
		s->exited = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(item, "exited"));
		copy_field(s->status, sizeof(s->status), string_field(item, "status"));
		copy_field(s->end_error, sizeof(s->end_error), string_field(item, "error"));
	}
	/* keepalive and unknown events: nothing to do. */
out:
	cJSON_Delete(obj);
	return rc;
}

int e2b_proc_stream_feed(e2b_proc_stream *s, const char *data, size_t len, aims_error *err)
{
	int rc;

	for (;;) {
		size_t need = 5, take;

		if (s->pending.len >= 5) {
			const unsigned char *p = (const unsigned char *)s->pending.ptr;
			uint32_t body = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 |
					(uint32_t)p[3] << 8 | p[4];

			if (body > AIMS_E2B_MAX_ENVELOPE)
				return aims_error_set(err, AIMS_ETOOBIG,
						      "envd sent a message of %u bytes, over the "
						      "limit of %u",
						      (unsigned)body,
						      (unsigned)AIMS_E2B_MAX_ENVELOPE);
			need = 5 + (size_t)body;
			if (s->pending.len == need) {
				rc = proc_envelope(s, p[0], s->pending.ptr + 5, need - 5, err);
				aims_buf_reset(&s->pending);
				if (rc < 0)
					return rc;
				continue;
			}
		}
		if (len == 0)
			return 0;
		take = need - s->pending.len < len ? need - s->pending.len : len;
		if ((rc = aims_buf_append(&s->pending, data, take)) < 0)
			return aims_error_set(err, rc, "out of memory reading the process stream");
		data += take;
		len -= take;
	}
}
