/*
 * test_e2b_shutdown.c - a server shutting down (SIGTERM) while E2B
 * executions run: aims_e2b_shutdown stops them at once, deletes every
 * sandbox alive, and refuses new executions. Its own process: shutdown is
 * final.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aims/e2b.h"
#include "fake_e2b.h"
#include "support.h"

#define KEY "e2b_0123456789abcdef0123456789abcdef01234567"

typedef struct job {
	aims_e2b_config cfg;
	int rc;
	aims_error err;
	aims_exec_result *res;
	uint64_t returned_ms;
} job;

static void *run_job(void *arg)
{
	job *j = arg;
	aims_exec_request req;

	aims_exec_request_init(&req);
	req.language = AIMS_LANG_PYTHON;
	req.code = "import time; time.sleep(3600)";
	req.code_len = strlen(req.code);
	req.timeout_ms = 60000;
	aims_error_clear(&j->err);
	j->rc = aims_e2b_exec_with(&j->res, &req, &j->cfg, &j->err);
	j->returned_ms = fake_now_ms();
	return NULL;
}

static void test_shutdown_deletes_live_sandboxes(void **state)
{
	fake_e2b *fake = fake_e2b_start(KEY);
	job jobs[3];
	pthread_t threads[3];
	aims_error err;
	size_t deleted = 99;
	uint64_t asked;

	(void)state;
	setenv("E2B_API_KEY", KEY, 1);
	setenv("E2B_API_URL", fake_e2b_url(fake), 1);
	setenv("E2B_SANDBOX_URL", fake_e2b_url(fake), 1);
	fake_e2b_exec_script(fake, NULL, 0, 0, 0, FAKE_EXEC_SLOW, 200);
	for (int i = 0; i < 3; i++) {
		memset(&jobs[i], 0, sizeof(jobs[i]));
		aims_error_clear(&err);
		assert_int_equal(aims_e2b_config_from_env(&jobs[i].cfg, &err), 0);
		assert_int_equal(pthread_create(&threads[i], NULL, run_job, &jobs[i]), 0);
	}
	/* Wait until the three are executing (streams open). */
	for (int i = 0; i < 100 && fake_e2b_count(fake, "POST", "/execute") < 3; i++)
		usleep(20000);
	assert_int_equal(fake_e2b_count(fake, "POST", "/execute"), 3);
	assert_int_equal(aims_e2b_live_count(), 3);
	assert_int_equal(fake_e2b_alive(fake), 3);

	asked = fake_now_ms();
	aims_error_clear(&err);
	assert_int_equal(aims_e2b_shutdown(&deleted, &err), 0);
	assert_int_equal(deleted, 3);
	assert_int_equal(fake_e2b_alive(fake), 0);
	assert_int_equal(aims_e2b_live_count(), 0);
	for (int i = 0; i < 3; i++) {
		pthread_join(threads[i], NULL);
		assert_int_equal(jobs[i].rc, AIMS_ECANCELED);
		assert_non_null(strstr(jobs[i].err.message, "shutting down"));
		assert_null(jobs[i].res);
		assert_true(jobs[i].returned_ms - asked < 2000);
	}
	/* Each sandbox was deleted once: by shutdown, not again by its run. */
	assert_int_equal(fake_e2b_count(fake, "DELETE", "/sandboxes/"), 3);

	/* After shutdown nothing new starts. */
	{
		job late;

		memset(&late, 0, sizeof(late));
		late.cfg = jobs[0].cfg;
		run_job(&late);
		assert_int_equal(late.rc, AIMS_ECANCELED);
		assert_non_null(strstr(late.err.message, "shutting down"));
		assert_int_equal(fake_e2b_count(fake, "POST", "/sandboxes"), 3);
	}
	fake_e2b_stop(fake);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shutdown_deletes_live_sandboxes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
