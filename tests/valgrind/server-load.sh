#!/bin/sh
# A short load on `aims serve` under valgrind memcheck: every endpoint,
# good and hostile requests, then SIGTERM. Fails on any memory error or
# definite/indirect leak. Valgrind cannot run the sandbox (it does not
# know the seccomp system call, so executions are refused cleanly here);
# the sandbox's own memory is checked by the ASan suite.
# Usage: tests/valgrind/server-load.sh BUILD_DIR   (a build without ASan)
set -eu
build=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
port=$((20000 + $$ % 20000))
log=$(mktemp)
trap 'rm -f "$log"' EXIT

valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite,indirect \
	--error-exitcode=99 "$build/bin/aims" serve --listen "127.0.0.1:$port" --quiet \
	--skills "$root/skills" --skills "$root/tools" 2>"$log" &
pid=$!
up=""
for _ in $(seq 100); do
	if curl -s -o /dev/null "http://127.0.0.1:$port/healthz"; then up=1; break; fi
	sleep 0.2
done
[ -n "$up" ] || { kill $pid; cat "$log"; echo "server did not start"; exit 1; }

url="http://127.0.0.1:$port"
json='Content-Type: application/json'
for i in 1 2 3; do
	curl -s -o /dev/null "$url/healthz"
	curl -s -o /dev/null "$url/metrics"
	curl -s -o /dev/null "$url/api/skills?type=task"
	curl -s -o /dev/null "$url/api/skills/e2b-sandbox"
	curl -s -o /dev/null "$url/api/tools"
	curl -s -o /dev/null "$url/nope"
	curl -s -o /dev/null -X DELETE "$url/api/tools"
	curl -s -o /dev/null -H "$json" -d "{\"utterance\": \"run python: print($i)\"}" "$url/api/route"
	curl -s -o /dev/null -H "$json" -d '{"utterance": "run python: print(1)"}' "$url/api/dispatch"
	curl -s -o /dev/null -H "$json" -d '{"id": "e2b"}' "$url/api/dispatch"
	curl -s -o /dev/null -H "$json" -d '{"code": "print(1)", "language": "python"}' "$url/api/code/execute"
	curl -s -o /dev/null -H "$json" -d '{"code": 1}' "$url/api/code/execute"
	curl -s -o /dev/null -H "$json" -d '{"code": "x", "packages": ["a; rm -rf /"]}' "$url/api/code/execute"
	curl -s -o /dev/null -H "$json" -d '{"code": "x", "language": "cobol"' "$url/api/code/execute"
	curl -s -o /dev/null -H 'Content-Type: text/plain' -d 'x' "$url/api/code/execute"
	curl -s -o /dev/null -H "$json" -d '{"path": "skills/x.md", "text": "---\nid: x\n---\n"}' "$url/api/validate"
done
kill -TERM $pid
status=0
wait $pid || status=$?
if [ "$status" -ne 0 ] || grep -q '==[0-9]*==' "$log"; then
	cat "$log"
	echo "valgrind: memory errors or leaks (exit $status)"
	exit 1
fi
echo "valgrind: clean (server load, every endpoint, then SIGTERM)"
