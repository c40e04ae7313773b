#!/bin/bash
# fer-prep on Kaggle's CSV form: output equal to the Python reference,
# classes and splits, stdin, -O csv, every kind of bad row, --skip-bad,
# a closed stdout and a full disk.
. "$(dirname "$0")/lib.sh"
CSV=$TESTDATA/fer2013.csv
have_py=0
$PYTHON -c 'import PIL, numpy' 2>/dev/null && have_py=1

# Reference outputs by tests/fer-ref.py (numpy), byte for byte.
ref() { # NAME ARGS...
	local n=$1; shift
	if [ $have_py = 1 ]; then
		$PYTHON "$TOP/tests/fer-ref.py" "$@" "$T/$n.ref"
		cmp_ok "$T/$n.npy" "$T/$n.ref" "$n: identical to the numpy reference"
	else
		skip "$n: no numpy"
	fi
}

run fer-prep "$CSV"
is "$RC" 0 "default classes: exit 0"
is "$(cat "$ERR")" "" "default classes: silent"
cp "$OUT" "$T/default.npy"
ref default "$CSV"

fer-prep --classes all <"$CSV" >"$T/all.npy"
ok "--classes all from stdin: exit 0" test -s "$T/all.npy"
ref all --classes all "$CSV"

fer-prep --classes happy,sad --split PrivateTest - <"$CSV" >"$T/hs.npy"
ref hs --classes happy,sad --split PrivateTest "$CSV"

fer-prep --classes surprise,angry --split Training -o "$T/sa.npy" "$CSV"
ref sa --classes surprise,angry --split Training "$CSV"

# -v: counts per class and split
run fer-prep -v --split PublicTest "$CSV"
like "$(cat "$ERR")" "fer-prep: 4 faces, all 48x48 gray" "-v: number of faces"
like "$(grep ' happy ' "$ERR")" "^fer-prep: 1 +happy +0 +1 +0 +1$" "-v: the happy row"
like "$(grep ' total ' "$ERR")" "^fer-prep: +total +0 +4 +0 +4$" "-v: the total row"
run fer-prep -v --classes all "$CSV"
like "$(grep ' total ' "$ERR")" "^fer-prep: +total +21 +7 +14 +42$" "-v --classes all: totals per split"

# -O csv keeps the rows (Kaggle codes in emotion) and converts back to the same npy
fer-prep -O csv --classes all "$CSV" >"$T/all.csv"
cmp_ok "$T/all.csv" "$CSV" "-O csv --classes all reproduces the input CSV"
fer-prep -O csv --classes sad,happy --split Training "$CSV" >"$T/sh.csv"
is "$(cut -d, -f1 "$T/sh.csv" | sort | uniq -c | tr -s ' ' | tr '\n' ';')" " 3 3; 3 4; 1 emotion;" \
	"-O csv with 2 classes: the FER codes 3 and 4, 3 rows each"
fer-prep --classes sad,happy <"$T/sh.csv" >"$T/sh1.npy"
fer-prep --classes sad,happy --split Training "$CSV" >"$T/sh2.npy"
cmp_ok "$T/sh1.npy" "$T/sh2.npy" "npy -> csv -> npy round trip"

# emotion given by name, and a CSV without Usage
{ echo "emotion,pixels"; sed -n '2,4p' "$CSV" | awk -F, '{print ($1==3?"happy":$1) "," $2}'; } >"$T/nousage.csv"
run fer-prep --classes all "$T/nousage.csv"
is "$RC" 0 "no Usage column with --split all: exit 0"
run fer-prep --split Training "$T/nousage.csv"
is "$RC" 2 "no Usage column with --split Training: exit 2"
like "$(cat "$ERR")" "no 'Usage' column, so only --split all is possible" "no Usage: message"
fer-prep -O csv --classes all "$T/nousage.csv" >"$T/nousage.out"
is "$(head -1 "$T/nousage.out")" "emotion,pixels" "-O csv of a CSV without Usage has no Usage either"

# Bad rows: one each, in a copy of the first rows.
head -4 "$CSV" >"$T/good.csv"
badrow() { # NAME SED-EXPR ERE
	sed "$2" "$T/good.csv" >"$T/$1.csv"
	run fer-prep --classes all "$T/$1.csv"
	is "$RC" 2 "$1: exit 2"
	like "$(cat "$ERR")" "^fer-prep: $T/$1.csv $3$" "$1: message names the line"
	is "$(wc -c <"$OUT" | tr -d ' ')" 0 "$1: no output"
	run fer-prep --classes all --skip-bad "$T/$1.csv"
	is "$RC" 0 "$1: --skip-bad exit 0"
	like "$(cat "$ERR")" "^fer-prep: skipped 1 bad item; the first: .*line" "$1: --skip-bad counts it"
}
badrow short '3s/ [0-9]*,/,/' "line 3: 2303 pixels, expected 2304"
badrow long '3s/ \([0-9]*\),/ \1 7 7,/' "line 3: 2306 pixels, expected 2304"
badrow word '2s/,\([0-9]*\) /,\1 x7 /' "line 2: pixel 2 'x7' is not a number"
badrow suffix '2s/,\([0-9]*\) /,\1 12a /' "line 2: pixel 2 '12a' is not a number"
badrow neg '2s/,\([0-9]*\) /,\1 -1 /' "line 2: pixel 2 '-1' is not a number"
badrow big '4s/,\([0-9]*\) /,256 /' "line 4: pixel 1 is 256, above 255"
badrow huge '4s/,\([0-9]*\) /,99999999999999999999 /' "line 4: pixel 1 is 999999999999, above 255"
badrow empty '2s/,[0-9 ]*,/,,/' "line 2: 0 pixels, expected 2304"
badrow code '2s/^[0-9]/7/' "line 2: unknown emotion '7'"
badrow name '2s/^[0-9]/joy/' "line 2: unknown emotion 'joy'"
badrow usage '3s/,[A-Za-z]*$/,Validation/' "line 3: unknown Usage 'Validation'"

# Malformed CSV and headers are errors even with --skip-bad.
printf 'emotion,pixels,Usage\n0,"1 2,Training\n' >"$T/quote.csv"
run fer-prep --skip-bad "$T/quote.csv"
is "$RC" 2 "unterminated quote: exit 2"
like "$(cat "$ERR")" "^fer-prep: $T/quote.csv: .*line 2" "unterminated quote: message names the line"
printf 'emotion,pixels,Usage\n0,1 2\n' >"$T/ragged.csv"
run fer-prep "$T/ragged.csv"
is "$RC" 2 "ragged row: exit 2"
printf 'emotion,pix,Usage\n' >"$T/nopix.csv"
run fer-prep "$T/nopix.csv"
is "$RC" 2 "no pixels column: exit 2"
is "$(cat "$ERR")" "fer-prep: $T/nopix.csv: no 'pixels' column in the header (expected emotion,pixels,Usage)" \
	"no pixels column: message"
run fer-prep </dev/null
is "$RC" 2 "empty input: exit 2"
is "$(cat "$ERR")" "fer-prep: <stdin>: empty input (expected a header emotion,pixels,Usage)" "empty input: message"
run fer-prep "$T/no-such.csv"
is "$RC" 2 "missing file: exit 2"
is "$(cat "$ERR")" "fer-prep: cannot open '$T/no-such.csv': No such file or directory" "missing file: message"

# Header only: an empty data set is still a valid stream of two arrays.
head -1 "$CSV" >"$T/hdr.csv"
run fer-prep "$T/hdr.csv"
is "$RC" 0 "header only: exit 0"
if [ $have_py = 1 ]; then
	is "$($PYTHON -c 'import sys, io, numpy as np
f = io.BytesIO(open(sys.argv[1], "rb").read()); X = np.load(f); y = np.load(f)
print(X.shape, X.dtype, y.shape, y.dtype)' "$OUT")" "(0, 48, 48) uint8 (0,) int64" "header only: X and y of 0 rows"
else
	skip "no numpy"
fi

# Output errors: a closed pipe and a full disk.
run bash -c 'fer-prep --classes all "$1" | head -c 1 >/dev/null; exit ${PIPESTATUS[0]}' _ "$CSV"
is "$RC" 2 "closed stdout: exit 2"
like "$(cat "$ERR")" "^fer-prep: write error" "closed stdout: write error"
run fer-prep "$CSV" -o /dev/full
is "$RC" 2 "-o /dev/full: exit 2"
like "$(cat "$ERR")" "No space left on device" "-o /dev/full: message"
run bash -c 'fer-prep -O csv "$1" >/dev/full' _ "$CSV"
is "$RC" 2 "-O csv to /dev/full: exit 2"
like "$(cat "$ERR")" "^fer-prep: write error.*No space left on device" "-O csv to /dev/full: message"
done_testing
