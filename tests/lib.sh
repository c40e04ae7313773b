# tests/lib.sh - TAP helpers for the shell tests; source it first.
#
#   run CMD...            run CMD, keeping stdout in $OUT, stderr in $ERR
#                         (files) and the exit status in $RC
#   is GOT WANT DESC      string equality
#   like GOT ERE DESC     GOT matches the extended regex
#   ok DESC CMD...        CMD succeeds
#   not_ok DESC CMD...    CMD fails
#   cmp_ok FILE1 FILE2 DESC  files identical (diff shown on failure)
#   skip DESC             one skipped test;  skip_all REASON  skips the file
#   need_data PATH        skip the file unless $DATA/PATH exists
#   done_testing          print the plan; exit non-zero if anything failed
#
# Outputs of a failing check are shown as TAP comments.  $T is a scratch
# directory removed at exit; $DATA is ../shared/data unless VB_DATA is set;
# $PYTHON is Debian's python3 (with numpy, PIL, torch from apt).
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
VB_BIN=${VB_BIN:-$TOP/bin}
VB_UNIT=${VB_UNIT:-$TOP/build/rel/unit}
PATH=$VB_BIN:$PATH
DATA=${VB_DATA:-$(cd "$TOP/.." && pwd)/shared/data}
TESTDATA=$TOP/testdata
PYTHON=/usr/bin/python3
export LC_ALL=C VB_DATA="$DATA" PYTHONDONTWRITEBYTECODE=1
T=$(mktemp -d "${TMPDIR:-/tmp}/vbtest.XXXXXX")
trap 'rm -rf "$T"' EXIT
OUT=$T/.out ERR=$T/.err RC=0
_n=0 _failed=0

_result() { # PASS DESC
	_n=$((_n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $_n - $2"
	else
		echo "not ok $_n - $2"
		_failed=$((_failed + 1))
	fi
}
_diag() { sed 's/^/# /' >&2; }

run() {
	"$@" >"$OUT" 2>"$ERR"
	RC=$?
}

is() {
	if [ "$1" = "$2" ]; then _result 0 "$3"; else
		_result 1 "$3"
		printf 'got:  %s\nwant: %s\n' "$1" "$2" | head -c 4000 | _diag
	fi
}

like() {
	if printf '%s' "$1" | grep -Eq -- "$2"; then _result 0 "$3"; else
		_result 1 "$3"
		printf 'got:  %s\nwant: /%s/\n' "$1" "$2" | head -c 4000 | _diag
	fi
}

ok() {
	local d=$1; shift
	if "$@" >"$T/.okout" 2>&1; then _result 0 "$d"; else
		_result 1 "$d"; head -c 4000 "$T/.okout" | _diag
	fi
}

not_ok() {
	local d=$1; shift
	if "$@" >"$T/.okout" 2>&1; then _result 1 "$d"; head -c 4000 "$T/.okout" | _diag
	else _result 0 "$d"; fi
}

cmp_ok() {
	if cmp -s "$1" "$2"; then _result 0 "$3"; else
		_result 1 "$3"; diff -u "$2" "$1" 2>&1 | head -40 | _diag
	fi
}

skip() { _n=$((_n + 1)); echo "ok $_n # SKIP $*"; }
skip_all() { echo "1..0 # SKIP $*"; exit 0; }
need_data() { [ -e "$DATA/$1" ] || skip_all "no $DATA/$1"; }

done_testing() {
	echo "1..$_n"
	[ "$_failed" = 0 ]
	exit $?
}
