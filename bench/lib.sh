# bench/lib.sh - what the benchmark scripts share; each one sources it first:
#
#   . "$(dirname "$0")/lib.sh"
#
# It stops at the first error, moves to the top of the tree and sets
#   PY    Debian's python3 (the peers need its numpy, pandas, scikit-learn,
#         torch and cv2; a python3 earlier on PATH may lack them)
#   DATA  the shared data (VB_DATA, default ../shared/data)
#   W     a scratch directory, removed on exit
# and defines
#   med FILE COL  the median of column COL over FILE's lines; lines of
#                 /usr/bin/time -f "%e %U %S %M" get user + sys as column 5
set -eu
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
DATA=${VB_DATA:-../shared/data}
W=$(mktemp -d "${TMPDIR:-/tmp}/vbbench.XXXXXX")
trap 'rm -rf "$W"' EXIT

med() {
	awk '{ print $0, $2 + $3 }' "$1" | sort -n -k"$2" |
	awk -v c="$2" '{ v[NR] = $c } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
