#!/bin/sh
# deps.sh - make sure the Debian packages Vibify needs are installed.
#
# Usage: scripts/deps.sh [build|test|bench|all]   (default: test)
#   build  compile the programs
#   test   build + run `make check` and `make pipeline`
#   bench  test + the Python peers for `make bench`
# Run as root it installs what is missing with apt-get; otherwise it prints
# the exact apt-get line and fails.
set -eu

build="build-essential pkg-config libpng-dev libjpeg62-turbo-dev libopenblas-dev liblapacke-dev
libyaml-dev libjansson-dev libxml2-dev opencv-data"
test="$build perl clang libclang-rt-14-dev python3 python3-numpy python3-pil python3-torch python3-yaml ffmpeg"
bench="$test python3-pandas python3-sklearn python3-opencv hyperfine time"

case "${1:-test}" in
build) want=$build ;;
test) want=$test ;;
bench|all) want=$bench ;;
*) echo "usage: $0 [build|test|bench|all]" >&2; exit 64 ;;
esac

missing=
for p in $want; do
	s=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$s" in *" installed") ;; *) missing="$missing $p" ;; esac
done
[ -z "$missing" ] && exit 0

cmd="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" = 0 ]; then
	echo "deps: installing$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	apt-get install -y -qq --no-install-recommends $missing >&2
else
	echo "deps: missing Debian packages; run as root:" >&2
	echo "  apt-get update && $cmd" >&2
	exit 1
fi
