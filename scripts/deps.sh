#!/bin/sh
# Installs the Debian packages the build needs, only those missing.
# Each argument is CHECK:PACKAGE, where CHECK is a pkg-config module
# ("pc/yaml-0.1"), a command ("cmd/cmake"), or a file ("file/PATH").
# Uses sudo when not root. Never touches a package that is present.
set -eu

missing=""
for spec in "$@"; do
	check=${spec%%:*}
	pkg=${spec#*:}
	case $check in
	pc/*) pkg-config --exists "${check#pc/}" 2>/dev/null && continue ;;
	cmd/*) command -v "${check#cmd/}" >/dev/null 2>&1 && continue ;;
	file/*) [ -e "${check#file}" ] && continue ;;
	py/*) /usr/bin/python3 -c "import ${check#py/}" 2>/dev/null && continue ;;
	esac
	case " $missing " in *" $pkg "*) ;; *) missing="$missing $pkg" ;; esac
done
[ -z "$missing" ] && exit 0

echo "deps: installing:$missing"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing
