#!/bin/sh
# scripts/cgroup2-check.sh AIMS [USER] - checks, on a machine with systemd
# and the unified cgroup v2 hierarchy, that the sandbox's memory and pids
# limits are cgroups in each way aims is started, and that nothing is left
# behind. Run as root; USER (default: uid 1000's name) must have lingering
# on (loginctl enable-linger USER) for the delegated user scope.
#
# Not part of `make test`: CI machines and the development VM have
# cgroup v1. Run it by hand on a v2 machine (docs/security-model.md).
set -u
aims=$(readlink -f "${1:?usage: cgroup2-check.sh AIMS [USER]}")
user=${2:-$(getent passwd 1000 | cut -d: -f1)}
failures=0

[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 2; }
[ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] || { echo "not cgroup v2" >&2; exit 2; }

check() { # NAME EXPECTED ACTUAL
	case $3 in
	*"$2"*) echo "ok   $1" ;;
	*) echo "FAIL $1: expected '$2' in:"; printf '%s\n' "$3" | sed 's/^/     /'; failures=$((failures + 1)) ;;
	esac
}

bomb_py='x = []
while True: x.append(bytearray(16 << 20))'
fork_sh='bomb() { bomb | bomb & }; bomb; sleep 5'

# The memory and pids limits, through the command given in "$@".
limits() { # NAME COMMAND...
	name=$1
	shift
	out=$("$@" exec -l python --memory 64 --json -c "$bomb_py" 2>&1)
	check "$name: memory" '"limit":	"memory"' "$out"
	out=$("$@" exec -l bash --json -c "$fork_sh" 2>&1)
	check "$name: pids" '"limit":	"pids"' "$out"
	out=$("$@" exec -l bash -c 'cat /proc/self/cgroup' 2>&1)
	check "$name: own cgroup namespace" '0::/' "$out"
}

leftovers() { # NAME
	left=$(find /sys/fs/cgroup -name 'aims-*' -type d 2>/dev/null | grep -v -- '-main$' || true)
	if [ -z "$left" ]; then
		echo "ok   $1: no run's group left"
	else
		echo "FAIL $1: groups left: $left"
		failures=$((failures + 1))
	fi
}

# 1. root from a login shell: no delegation, so a group of its own at the
#    top of the hierarchy (/sys/fs/cgroup/aims).
limits "root, login shell" "$aims"
check "root, login shell: top group" "memory pids" "$(cat /sys/fs/cgroup/aims/cgroup.subtree_control 2>&1)"
leftovers "root, login shell"

# 2. root as a service with Delegate=yes: below the service's cgroup, after
#    moving itself into aims-<ns>-<pid>-main.
sr="systemd-run --quiet --wait --pipe -p Delegate=yes"
limits "root, Delegate=yes service" $sr "$aims"
out=$($sr "$aims" exec -l bash -c 'echo ran' 2>&1)
check "root, Delegate=yes service: runs" "ran" "$out"
leftovers "root, Delegate=yes service"

# 2b. root as a service without delegation: systemd may take that cgroup's
#     controllers back, so the groups go to /sys/fs/cgroup/aims.
unit=aims-cgroup2-check-$$
systemd-run --quiet -u "$unit" "$aims" exec -l bash -c 'sleep 6'
sleep 3
inside=$(find "/sys/fs/cgroup/system.slice/$unit.service" -mindepth 1 -name 'aims-*' 2>/dev/null)
top=$(find /sys/fs/cgroup/aims -maxdepth 1 -name 'aims-*' 2>/dev/null)
check "root, service without Delegate: not in the service's cgroup" "none" "${inside:-none}"
check "root, service without Delegate: in the top group" "/sys/fs/cgroup/aims/aims-" "$top"
while systemctl is-active --quiet "$unit"; do sleep 1; done
leftovers "root, service without Delegate"

# 3. a user in a delegated scope of its own systemd.
as_user() {
	runuser -u "$user" -- env XDG_RUNTIME_DIR=/run/user/$(id -u "$user") "$@"
}
copy=$(mktemp -d)
chmod 755 "$copy"
cp "$aims" "$copy/aims"
limits "user, delegated scope" as_user systemd-run --user --quiet --scope -p Delegate=yes "$copy/aims"
leftovers "user, delegated scope"

# 4. a user without delegation: rlimits, with the reason; refused when
#    cgroups are required.
out=$(as_user env AIMS_REQUIRE_CGROUPS=1 "$copy/aims" exec -l bash -c 'echo RAN' 2>&1)
check "user, no delegation: refused when required" "AIMS_REQUIRE_CGROUPS=1, but cgroups cannot enforce limits here: cgroup v2" "$out"
out=$(as_user "$copy/aims" exec -l bash -c 'echo RAN' 2>&1)
check "user, no delegation: runs with rlimits" "RAN" "$out"
rm -rf "$copy"

if [ "$failures" -ne 0 ]; then
	echo "$failures check(s) failed"
	exit 1
fi
echo "all checks passed"
