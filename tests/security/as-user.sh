#!/bin/sh
# tests/security/as-user.sh TEST_BINARY AIMS_BINARY - runs a sandbox test
# as a caller that is not root. As root: from copies (the test, and the
# aims binary it runs, named in AIMS_TEST_AIMS) in a directory anyone may
# enter, as uid/gid 1000 without supplementary groups (setpriv): the build
# tree may sit where uid 1000 cannot go. The sandbox then maps its user to
# the caller's own uid and, on cgroup v1, limits with rlimits. As any
# other user: runs the binaries as they are.
set -eu
bin=$1
aims=$2
if [ "$(id -u)" != 0 ]; then
	AIMS_TEST_AIMS=$aims exec "$bin"
fi
command -v setpriv >/dev/null || { echo "as-user: setpriv (util-linux) is missing" >&2; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT INT TERM
chmod 755 "$dir"
cp "$bin" "$dir/"
cp "$aims" "$dir/aims"
cd "$dir"
setpriv --reuid=1000 --regid=1000 --clear-groups env HOME=/tmp AIMS_TEST_AIMS="$dir/aims" \
	"$dir/$(basename "$bin")"
