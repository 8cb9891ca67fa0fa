#!/bin/sh
# tests/security/as-user.sh TEST_BINARY - runs a sandbox test as a caller
# that is not root. As root: from a copy in a directory anyone may enter,
# as uid/gid 1000 without supplementary groups (setpriv). The sandbox then
# maps its user to the caller's own uid and, on cgroup v1, limits with
# rlimits. As any other user: runs the binary as it is.
set -eu
bin=$1
if [ "$(id -u)" != 0 ]; then
	exec "$bin"
fi
command -v setpriv >/dev/null || { echo "as-user: setpriv (util-linux) is missing" >&2; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT INT TERM
chmod 755 "$dir"
cp "$bin" "$dir/"
cd "$dir"
setpriv --reuid=1000 --regid=1000 --clear-groups env HOME=/tmp "$dir/$(basename "$bin")"
