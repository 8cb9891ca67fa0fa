# The two commands of the README (make run, make test) and their helpers.
# CMake does the building; this file installs what is missing and picks
# the build directory: build/ (optimized) for run and bench, build-test/
# (ASan + UBSan) for the test suite.

BUILD      ?= build
TEST_BUILD ?= build-test
VALGRIND_BUILD ?= build-valgrind
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?=

# CHECK:PACKAGE pairs for scripts/deps.sh.
DEPS = cmd/cmake:cmake cmd/pkg-config:pkg-config cmd/cc:gcc cmd/clang-format:clang-format \
       pc/yaml-0.1:libyaml-dev pc/libcmark:libcmark-dev pc/libpcre2-8:libpcre2-dev \
       pc/libcjson:libcjson-dev pc/libcurl:libcurl4-openssl-dev \
       pc/libmicrohttpd:libmicrohttpd-dev pc/libseccomp:libseccomp-dev pc/cmocka:libcmocka-dev \
       pc/libcrypto:libssl-dev py/pip:python3-pip cmd/npm:npm \
       cmd/python3:python3 cmd/node:nodejs cmd/bash:bash cmd/dpkg-deb:dpkg \
       cmd/valgrind:valgrind cmd/curl:curl cmd/setpriv:util-linux \
       cmd/clang:clang file/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a:libclang-rt-14-dev
BENCH_DEPS = cmd/bwrap:bubblewrap py/yaml:python3-yaml cmd/wrk:wrk cmd/hyperfine:hyperfine

.PHONY: all deps bench-deps build build-test test valgrind run bench clean format format-check

all: build

deps:
	@sh scripts/deps.sh $(DEPS)

bench-deps: deps
	@sh scripts/deps.sh $(BENCH_DEPS)

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAIMS_SANITIZE=OFF $(CMAKE_ARGS)
	cmake --build $(BUILD) -j $(JOBS)

build-test: deps
	cmake -S . -B $(TEST_BUILD) -DCMAKE_BUILD_TYPE=Debug -DAIMS_SANITIZE=ON $(CMAKE_ARGS)
	cmake --build $(TEST_BUILD) -j $(JOBS)

test: build-test
	cd $(TEST_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS)

# A short server load under valgrind memcheck (a build without ASan).
valgrind: deps
	cmake -S . -B $(VALGRIND_BUILD) -DCMAKE_BUILD_TYPE=Debug -DAIMS_SANITIZE=OFF -DAIMS_BUILD_TESTS=OFF $(CMAKE_ARGS)
	cmake --build $(VALGRIND_BUILD) -j $(JOBS) --target aims-cli
	sh tests/valgrind/server-load.sh $(VALGRIND_BUILD)

LISTEN ?= 127.0.0.1:8080

run: build
	@echo "aims: starting the server on $(LISTEN) with the bundled manifests. Try:"
	@echo "  curl -s http://$(LISTEN)/api/route -H 'Content-Type: application/json' -d '{\"utterance\": \"run python: print(6*7)\"}'"
	@echo "  curl -s http://$(LISTEN)/api/code/execute -H 'Content-Type: application/json' -d '{\"code\": \"print(\\\"Hello from AIMS\\\")\", \"language\": \"python\"}'"
	$(BUILD)/bin/aims serve --listen $(LISTEN) --skills skills --skills tools

bench: bench-deps build
	@if [ -x bench/run ]; then bench/run $(BUILD); else echo "no benchmarks yet"; fi

format:
	clang-format -i $$(git ls-files --cached --others --exclude-standard '*.c' '*.h')

format-check: deps
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(TEST_BUILD) $(VALGRIND_BUILD)
