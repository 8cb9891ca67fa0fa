/*
 * test_json.c - JSON output stays valid UTF-8 whatever the text it
 * carries: program output, and messages that quote a program, a client or
 * E2B and may have been cut in the middle of a character.
 */
#include <stdlib.h>
#include <string.h>

#include "aims/exec.h"
#include "aims/json.h"
#include "support.h"

static void test_text_is_cleaned(void **state)
{
	/* a cut 3-byte character, a lone continuation byte, a NUL, an
	 * overlong '/', a surrogate; then a good character */
	static const char bad[] = "a\xe4\xb8|\x80|\0|\xc0\xaf|\xed\xa0\x80|\xe4\xb8\xad";
	cJSON *json = aims_json_text(bad, sizeof(bad) - 1);

	(void)state;
	assert_non_null(json);
	/* every byte that starts no well-formed sequence is one U+FFFD */
	assert_string_equal(json->valuestring,
			    "a\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd|\xef\xbf\xbd|"
			    "\xef\xbf\xbd\xef\xbf\xbd|"
			    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|\xe4\xb8\xad");
	cJSON_Delete(json);
}

static void test_exec_result_error_is_cleaned(void **state)
{
	aims_exec_result r;
	cJSON *json;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.stdout_data = "";
	r.stderr_data = "";
	r.error = "NameError: \xe4\xb8"; /* cut after 2 of 3 bytes */
	json = aims_json_exec_result(&r);
	assert_non_null(json);
	assert_string_equal(cJSON_GetObjectItem(json, "error")->valuestring,
			    "NameError: \xef\xbf\xbd\xef\xbf\xbd");
	cJSON_Delete(json);

	r.error = NULL;
	json = aims_json_exec_result(&r);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(json, "error")));
	cJSON_Delete(json);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_is_cleaned),
		cmocka_unit_test(test_exec_result_error_is_cleaned),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
