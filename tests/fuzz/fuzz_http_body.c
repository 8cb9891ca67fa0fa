/*
 * fuzz_http_body.c - request bodies as the HTTP server reads them: the
 * body checks (UTF-8, NUL characters), JSON parsing, and the execution
 * request reader shared with dispatch. Nothing is executed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aims/json.h"
#include "server/server_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body = malloc(size + 1);
	request req;
	reply r;
	cJSON *json;

	if (!body)
		return 0;
	memcpy(body, data, size);
	body[size] = '\0';
	memset(&req, 0, sizeof(req));
	memset(&r, 0, sizeof(r));
	req.method = "POST";
	req.path = "/api/code/execute";
	req.body = body;
	req.body_len = size;
	req.socket_fd = -1;
	json = parse_json_object(&req, &r);
	if (json) {
		aims_json_exec_input in;
		aims_error err;

		aims_error_clear(&err);
		aims_json_exec_input_read(&in, json, true, &err);
		aims_json_exec_input_free(&in);
		aims_error_clear(&err);
		aims_json_exec_input_read(&in, json, false, &err);
		aims_json_exec_input_free(&in);
		cJSON_Delete(json);
	} else if (!r.json || r.status != 400) {
		abort(); /* a refused body always gets a 400 with a message */
	}
	cJSON_Delete(r.json);
	free(body);
	return 0;
}
