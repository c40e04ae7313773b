#!/bin/bash
# validate-stats on bad input, bad options, closed pipes and full disks:
# a clear one-line message and the documented exit status.
. "$(dirname "$0")/lib.sh"

printf 'a,b\n1,x\n2,y\n' >"$T/ok.csv"

run validate-stats "$T/nope.csv"
is "$RC" 2 "missing file: exit 2"
is "$(cat "$ERR")" "validate-stats: cannot open '$T/nope.csv': No such file or directory" "missing file: message"

: >"$T/empty"
run validate-stats "$T/empty"
is "$RC" 2 "empty input: exit 2"
like "$(cat "$ERR")" "^validate-stats: '.*empty': empty input$" "empty input: message"

printf 'a,b\n1,"x\n' >"$T/quote.csv"
run validate-stats "$T/quote.csv"
is "$RC" 2 "unterminated quote: exit 2"
like "$(cat "$ERR")" "^validate-stats: '.*quote.csv': .*line 2" "unterminated quote: names the line"

printf 'a,b\n1,2\n3\n' >"$T/ragged.csv"
run validate-stats "$T/ragged.csv"
is "$RC" 2 "ragged row: exit 2"
like "$(cat "$ERR")" "line 3" "ragged row: names the line"

printf 'a,a\n1,2\n' >"$T/dup.csv"
run validate-stats "$T/dup.csv"
is "$RC:$(cat "$ERR")" "2:validate-stats: '$T/dup.csv': line 1: duplicate column name 'a'" "duplicate column names"

gzip -c "$T/ok.csv" >"$T/ok.csv.gz"
run validate-stats "$T/ok.csv.gz"
is "$RC" 2 "gzip input: exit 2"
like "$(cat "$ERR")" "decompress it first" "gzip input: says what to do"

# .npy: truncated data, bad header, wrong magic version
$PYTHON -c "import numpy as np, sys; np.save(sys.argv[1], np.zeros((10, 4, 4), np.uint8))" "$T/x.npy"
head -c 200 "$T/x.npy" >"$T/trunc.npy"
run validate-stats "$T/trunc.npy"
is "$RC" 2 "truncated .npy: exit 2"
like "$(cat "$ERR")" "^validate-stats: '.*trunc.npy': array 1 \(X\): .*trunc" "truncated .npy: message"
head -c 30 "$T/x.npy" >"$T/hdr.npy"
run validate-stats "$T/hdr.npy"
is "$RC" 2 "truncated header: exit 2"
run validate-stats --format npy "$T/ok.csv"
is "$RC" 2 "--format npy on a CSV: exit 2"
like "$(cat "$ERR")" "magic|npy" "--format npy on a CSV: says why"

# schema and baseline files
printf 'features: [\n' >"$T/bad.yaml"
run validate-stats -s "$T/bad.yaml" "$T/ok.csv"
is "$RC" 2 "malformed schema: exit 2"
like "$(cat "$ERR")" "^validate-stats: '.*bad.yaml': .*line" "malformed schema: names the file and line"
printf 'hello: world\n' >"$T/notschema.yaml"
run validate-stats -s "$T/notschema.yaml" "$T/ok.csv"
is "$RC:$(cat "$ERR")" "2:validate-stats: '$T/notschema.yaml': not a schema (needs a 'features' list)" "not a schema"
printf 'features:\n  - name: a\n    type: complex\n' >"$T/type.yaml"
run validate-stats -s "$T/type.yaml" "$T/ok.csv"
is "$RC" 2 "unknown type in a schema: exit 2"
like "$(cat "$ERR")" "line 2: feature 'a': type must be" "unknown type: names the line"
printf 'features:\n  - name: a\n    type: int\n    colour: red\n' >"$T/key.yaml"
run validate-stats -s "$T/key.yaml" "$T/ok.csv"
like "$RC:$(cat "$ERR")" "^2:.*unknown feature key 'colour'" "unknown schema key rejected"
run validate-stats -b "$T/notschema.yaml" "$T/ok.csv"
is "$RC:$(cat "$ERR")" "2:validate-stats: '$T/notschema.yaml': not a statistics file (needs 'format' and a 'features' list)" "bad baseline"
run validate-stats -s "$T/nope.yaml" "$T/ok.csv"
is "$RC" 2 "missing schema file: exit 2"

# usage
run validate-stats --drift abc "$T/ok.csv"
is "$RC" 64 "bad --drift: exit 64"
like "$(cat "$ERR")" "invalid --drift 'abc'" "bad --drift: message"
run validate-stats "$T/ok.csv" "$T/ok.csv"
is "$RC" 64 "two inputs: exit 64"
run validate-stats --infer-schema -s "$T/x.yaml" "$T/ok.csv"
is "$RC" 64 "--infer-schema with --schema: exit 64"
run validate-stats --format xml "$T/ok.csv"
is "$RC" 64 "bad --format: exit 64"
run validate-stats --help
is "$RC" 0 "--help: exit 0"
like "$(tr -s "\n " "  " <"$OUT")" "default: 0\.1\).*default: 65536" "--help shows defaults"

# closed pipe and full disk
$PYTHON -c "
import sys
print('k,v')
for i in range(20000): print('key%d,%d' % (i, i))" >"$T/wide.csv"
{ validate-stats --top 5000 "$T/wide.csv" 2>"$T/pipe.err"; echo $? >"$T/pipe.rc"; } | head -c1 >/dev/null
is "$(cat "$T/pipe.rc")" 2 "closed stdout: exit 2"
is "$(cat "$T/pipe.err")" "validate-stats: write error: Broken pipe" "closed stdout: one message, with the reason"
run sh -c 'validate-stats "$0" >/dev/full' "$T/ok.csv"
is "$RC" 2 "/dev/full: exit 2"
is "$(cat "$ERR")" "validate-stats: write error: No space left on device" "/dev/full: one message, with the reason"
run validate-stats -o /dev/full "$T/ok.csv"
is "$RC" 2 "-o /dev/full: exit 2"
like "$(cat "$ERR")" "write error" "-o /dev/full: write error"
run validate-stats --infer-schema -o /dev/full "$T/ok.csv"
is "$RC" 2 "schema to /dev/full: exit 2"

done_testing
