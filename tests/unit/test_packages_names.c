/*
 * test_packages_names.c - the package-name grammar per ecosystem: what is
 * accepted, and hostile names (shell, options, URLs, paths) refused.
 */
#include <string.h>

#include "aims/exec.h"
#include "support.h"

static void expect(aims_language lang, const char *name, bool ok)
{
	aims_error err;
	int rc;

	aims_error_clear(&err);
	rc = aims_exec_check_package(lang, name, &err);
	if (ok && rc != 0)
		fail_msg("'%s' refused: %s", name, err.message);
	if (!ok && rc != AIMS_EINVALID)
		fail_msg("'%s' accepted", name);
	if (!ok && !strstr(err.message, "invalid package name") && !strstr(err.message, "longer"))
		fail_msg("'%s': unclear message: %s", name, err.message);
}

static void test_python(void **state)
{
	const char *good[] = {"requests",
			      "pandas",
			      "Flask",
			      "zope.interface",
			      "ruamel.yaml",
			      "requests>=2.31",
			      "requests >= 2.31, < 3",
			      "numpy==1.26.4",
			      "uvicorn[standard]==0.30",
			      "a",
			      "x_y-z",
			      "pkg~=1.4",
			      "pkg===1.0",
			      "pkg!=1.*",
			      "torch==2.1.0+cpu"};
	const char *bad[] = {"",
			     "requests; rm -rf /",
			     "-r requirements.txt",
			     "--index-url=x",
			     "git+https://x/y",
			     "https://x/y.whl",
			     "./local",
			     "../up",
			     "/abs",
			     "pkg @ https://x",
			     "pkg;python_version<'3'",
			     "pkg$(id)",
			     "pkg`id`",
			     "pkg\nother",
			     "pkg ==",
			     ".hidden",
			     "pkg-",
			     "pkg[",
			     "pkg[a,]",
			     "pkg>=1 2",
			     "pkg|x",
			     "foo==1.tar.gz", /* pip reads these as local archives */
			     "foo==1.zip",
			     "foo.whl"};

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		expect(AIMS_LANG_PYTHON, good[i], true);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect(AIMS_LANG_PYTHON, bad[i], false);
}

static void test_node(void **state)
{
	const char *good[] = {"left-pad",	 "@e2b/sdk",	 "@e2b/sdk@1.2.3",
			      "lodash@^4.17.21", "react@latest", "a",
			      "is-number@7.0.0", "x@>=1.0.0",	 "@types/node"};
	const char *bad[] = {"",
			     "Left-Pad",
			     "-g",
			     "--registry=http://x",
			     "file:../x",
			     "git+ssh://x",
			     "http://x/y.tgz",
			     "../x",
			     "@/x",
			     "@scope",
			     "@scope/",
			     "x@",
			     "x@1.0 && id",
			     "x;id",
			     "x y",
			     "_private",
			     ".dot",
			     "evil.tgz", /* npm reads these as files */
			     "x.tar",
			     "a.tar.gz",
			     "pkg@1.0.0.TGZ"};

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		expect(AIMS_LANG_NODE, good[i], true);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect(AIMS_LANG_NODE, bad[i], false);
}

static void test_bash(void **state)
{
	const char *good[] = {"jq",	    "libssl3",	  "g++",
			      "python3.11", "jq=1.6-2.1", "libc6=2.36-9+deb12u4",
			      "xz-utils"};
	const char *bad[] = {"",      "j",   "Jq",     "-y",   "--allow-unauthenticated",
			     "jq;id", "jq=", "jq=1 2", "../x", "jq/stable",
			     "jq\n",  "+jq"};

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		expect(AIMS_LANG_BASH, good[i], true);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect(AIMS_LANG_BASH, bad[i], false);
}

static void test_long_and_message(void **state)
{
	char name[300];
	aims_error err;

	(void)state;
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	expect(AIMS_LANG_PYTHON, name, false);
	aims_error_clear(&err);
	assert_int_equal(aims_exec_check_package(AIMS_LANG_PYTHON, "requests; rm -rf /", &err),
			 AIMS_EINVALID);
	assert_non_null(strstr(err.message, "'requests; rm -rf /'"));
	aims_error_clear(&err);
	aims_exec_check_package(AIMS_LANG_BASH, "a\033[2Jb", &err);
	assert_null(strchr(err.message, '\033'));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_python),
		cmocka_unit_test(test_node),
		cmocka_unit_test(test_bash),
		cmocka_unit_test(test_long_and_message),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
