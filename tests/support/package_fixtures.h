/*
 * package_fixtures.h - tiny local packages for the package tests, built in
 * a directory by the test itself (never fetched from a registry): a wheel
 * (a zip with a .dist-info, written with /usr/bin/python3's zipfile), an
 * npm tarball (package/ in a .tgz, as npm pack makes it), and a .deb
 * (dpkg-deb --build). Every helper fails the test when its tool fails, and
 * leaves dir traversable by the sandbox user (mode 0755).
 */
#ifndef AIMS_TEST_PACKAGE_FIXTURES_H
#define AIMS_TEST_PACKAGE_FIXTURES_H

/* Writes dir/<name>-<version>-py3-none-any.whl holding the module name
 * (name/__init__.py = init_py). */
void test_make_wheel(const char *dir, const char *name, const char *version, const char *init_py);

/* Writes dir/<name>-<version>.tgz: package.json (with "scripts": the JSON
 * object scripts_json, when not NULL) and index.js = index_js. */
void test_make_npm_package(const char *dir, const char *name, const char *version,
			   const char *index_js, const char *scripts_json);
/* The same with fields: more members of package.json, as JSON text
 * ("\"dependencies\": {...}"; "" for none). */
void test_make_npm_package_with(const char *dir, const char *name, const char *version,
				const char *index_js, const char *fields);

/* Writes dir/<name>_<version>_all.deb holding one file at path (absolute
 * inside the package) with content and mode. */
void test_make_deb(const char *dir, const char *name, const char *version, const char *path,
		   const char *content, unsigned mode);

/* Runs argv (argv[0] an absolute path) in cwd (may be NULL) and asserts it
 * exits 0; its output goes to our stderr. */
void test_run_tool(const char *const *argv, const char *cwd);

#endif
