#!/bin/bash
# song-scale on bad input: malformed CSV of every kind, bad feature values,
# constant columns, empty input, bad scalers, closed stdout, a full disk.
. "$(dirname "$0")/lib.sh"
D=$TESTDATA/song-scale
H=$(head -1 "$D/tidy.csv")
# two plain rows of the fixture (no quoted field), 18 fields each
R1=$(sed -n 2p "$D/tidy.csv" | sed 's/"sub, genre"/sub/')
R3=$(sed -n 4p "$D/tidy.csv" | sed 's/"sub, genre"/sub/')

fails() { # DESC ERE INPUT-FILE [OPTIONS...]
	local d=$1 re=$2 f=$3; shift 3
	run song-scale "$@" "$f"
	is "$RC" 2 "$d: exit 2"
	like "$(cat "$ERR")" "$re" "$d: message"
	is "$(wc -l <"$ERR")" 1 "$d: one line on stderr"
}

printf '%s\n%s\n"unterminated,%s\n' "$H" "$R1" "$R3" >"$T/a.csv"
fails "unterminated quote" "^song-scale: '.*a\.csv': line 4: unterminated quoted field \(opened on line 3\)$" "$T/a.csv"
printf '%s\n%s\n%s,extra\n' "$H" "$R1" "$R3" >"$T/b.csv"
fails "ragged row" "^song-scale: '.*b\.csv': line 3: 19 fields, expected 18$" "$T/b.csv"
printf '%s\n%s\n"x"y,%s\n' "$H" "$R1" "${R3#*,}" >"$T/c.csv"
fails "text after a closing quote" "line 3: text after the closing quote of a field" "$T/c.csv"
{ printf '%s\n%s\n' "$H" "$R1"; printf 'x\0y,%s\n' "${R3#*,}"; } >"$T/d.csv"
fails "NUL byte" "line 3: NUL byte in the input" "$T/d.csv"
head -c 3000 /dev/urandom >"$T/bin"
printf '\0' >>"$T/bin"
run song-scale "$T/bin"
is "$RC" 2 "binary garbage: exit 2"
# blank lines between and after rows are skipped, as most CSV readers do
printf '%s\n%s\n\n%s\n\n' "$H" "$R1" "$R3" >"$T/e.csv"
printf '%s\n%s\n%s\n' "$H" "$R1" "$R3" >"$T/e2.csv"
run song-scale "$T/e.csv"
is "$RC" 0 "blank lines: exit 0"
song-scale "$T/e2.csv" >"$T/e2.out" 2>/dev/null
cmp_ok "$OUT" "$T/e2.out" "blank lines: same output as without them"

sub() { # FIELD-NUMBER VALUE [ID] -> row 1 with that field replaced, id ID (default: new)
	echo "$R1" | awk -F, -v OFS=, -v n="$1" -v v="$2" -v id="${3:-new$1}" '{ $n = v; $1 = id; print }'
}
printf '%s\n%s\n%s\n' "$H" "$R1" "$(sub 8 abc)" >"$T/f.csv"
fails "non-numeric feature" "line 3: feature 'energy' is not a number: 'abc' \(--skip-bad drops such rows\)$" "$T/f.csv"
printf '%s\n%s\n%s\n' "$H" "$R1" "$(sub 17 nan)" >"$T/g.csv"
fails "NaN feature" "line 3: feature 'tempo' is missing: 'nan'" "$T/g.csv"
printf '%s\n%s\n%s\n' "$H" "$R1" "$(sub 10 -inf)" >"$T/h.csv"
fails "infinite feature" "line 3: feature 'loudness' is not finite: '-inf'" "$T/h.csv"
printf '%s\n%s\n%s\n' "$H" "$R1" "$(sub 7 '')" >"$T/i.csv"
fails "empty feature" "line 3: feature 'danceability' is missing: ''" "$T/i.csv"
printf '%s\n%s\n%s\n' "$H" "$R1" "$(sub 8 1e999)" >"$T/j.csv"
fails "overflowing feature" "feature 'energy' is not finite: '1e999'" "$T/j.csv"
printf '%s\n%s\n%s\n' "$H" "$R1" "$(sub 8 '0.5x')" >"$T/k.csv"
fails "number with junk" "feature 'energy' is not a number: '0.5x'" "$T/k.csv"

# --skip-bad drops and counts them; the rest is fitted as usual
cat "$D/tidy.csv" >"$T/skip.csv"
sub 8 abc bad1 >>"$T/skip.csv"
sub 17 inf bad2 >>"$T/skip.csv"
run song-scale -v --skip-bad "$T/skip.csv"
is "$RC" 0 "--skip-bad: exit 0"
cmp_ok "$OUT" "$D/tidy.ok" "--skip-bad: output of the good rows"
like "$(cat "$ERR")" "14 rows read, 2 without id or name, 1 duplicate ids, 2 with bad features dropped; 9 kept" "--skip-bad: counts"

# a bad row that repeats a kept id is a duplicate, not an error
{ cat "$D/tidy.csv"; sub 8 abc trk00AbC; } >"$T/dupbad.csv"
run song-scale "$T/dupbad.csv"
is "$RC" 0 "bad values in a dropped duplicate are ignored"

# constant column: warning, std 0 in the scaler, z = 0
{ echo "$H"; for i in 1 2 3; do sub 16 0.25 "c$i" | sed "s/,0\.2,/,0.$i,/"; done; } >"$T/const.csv"
run song-scale --save-scaler "$T/c.yaml" --features danceability,valence "$T/const.csv"
is "$RC" 0 "constant column: exit 0"
is "$(cat "$ERR")" "song-scale: feature 'valence' is constant: its z values are 0" "constant column: warning"
is "$(cut -d, -f8 "$OUT" | sort -u | tr '\n' ' ')" "0 z_valence " "constant column: z = 0"
like "$(grep -A2 'name: valence' "$T/c.yaml" | tr '\n' ' ')" "mean: 0\.25 +std: 0( |$)" "constant column: std 0 saved"
run song-scale --scaler "$T/c.yaml" "$T/const.csv"
is "$(cut -d, -f8 "$OUT" | sort -u | tr '\n' ' ')" "0 z_valence " "constant column: saved scaler gives z = 0 too"

# empty and near-empty input
: >"$T/empty.csv"
fails "empty input" "'.*empty\.csv': empty input$" "$T/empty.csv"
printf '\xef\xbb\xbf' >"$T/bom.csv"
fails "only a BOM" "empty input$" "$T/bom.csv"
echo "$H" >"$T/hdr.csv"
fails "header only" "no rows left to fit the scaler$" "$T/hdr.csv"
run song-scale --scaler "$T/c.yaml" "$T/hdr.csv"
is "$RC:$(cat "$OUT")" "0:id,name,artist,genre,danceability,valence,z_danceability,z_valence" "header only with --scaler: just the header"
printf '%s\n%s\n' "$H" "$(sub 2 NA)" >"$T/na.csv"
fails "every row dropped" "no rows left to fit the scaler$" "$T/na.csv"
fails "missing feature column" "no feature column 'nope' in the header$" "$D/tidy.csv" --features energy,nope
fails "no such file" "^song-scale: cannot open '$T/nofile': No such file or directory$" "$T/nofile"
fails "a directory" "^song-scale: '$T': read error: Is a directory$|cannot read '$T'" "$T"

# gzip: corrupt, truncated
gzip -c "$D/tidy.csv" | head -c 300 >"$T/trunc.gz"
fails "truncated gzip" "'.*trunc\.gz': corrupt or truncated gzip data$" "$T/trunc.gz"
printf '\037\213garbage' >"$T/bad.gz"
fails "corrupt gzip" "corrupt or truncated gzip data$" "$T/bad.gz"
gzip -c </dev/null >"$T/empty.gz"
fails "empty gzip" "empty input$" "$T/empty.gz"

PATH=/nonexistent "$VB_BIN/song-scale" "$T/trunc.gz" >/dev/null 2>"$T/nogz"
is "$?:$(cat "$T/nogz")" "2:song-scale: '$T/trunc.gz': cannot run gzip to decompress it" "no gzip on PATH: clear error"

# bad scalers
printf 'features: [\n' >"$T/s1.yaml"
fails "malformed scaler YAML" "^song-scale: '.*s1\.yaml': " "$D/tidy.csv" --scaler "$T/s1.yaml"
printf 'count: 3\n' >"$T/s2.yaml"
fails "scaler without features" "not a song-scale scaler" "$D/tidy.csv" --scaler "$T/s2.yaml"
printf 'features:\n  - name: energy\n    mean: x\n    std: 1\n' >"$T/s3.yaml"
fails "scaler with a bad mean" "feature 'energy': mean and std needed" "$D/tidy.csv" --scaler "$T/s3.yaml"
printf 'features:\n  - name: energy\n    mean: 1\n    std: -1\n' >"$T/s4.yaml"
fails "scaler with a negative std" "std >= 0" "$D/tidy.csv" --scaler "$T/s4.yaml"
printf 'features:\n  - name: energy\n    mean: .nan\n    std: 1\n' >"$T/s5.yaml"
fails "scaler with a NaN mean" "must be finite" "$D/tidy.csv" --scaler "$T/s5.yaml"
printf 'features:\n  - name: nope\n    mean: 1\n    std: 1\n' >"$T/s6.yaml"
fails "scaler feature not in the input" "no feature column 'nope'" "$D/tidy.csv" --scaler "$T/s6.yaml"
run song-scale --scaler "$T/c.yaml" --features energy "$D/tidy.csv"
is "$RC" 64 "--features outside the scaler: exit 64"
fails "scaler file missing" "cannot open '$T/none.yaml'" "$D/tidy.csv" --scaler "$T/none.yaml"
fails "--save-scaler to a full disk" "write error on '/dev/full'" "$D/tidy.csv" --save-scaler /dev/full

# closed stdout and a full disk, fitting and streaming
big=$T/big.csv
{ echo "$H"; echo "$R1" | awk -F, -v OFS=, '{ for (i = 1; i <= 3000; i++) { $1 = "id" i; $7 = i % 10 / 10; $8 = i % 7 / 7; print } }'; } >"$big"
song-scale --features danceability,energy "$big" 2>"$T/e1" | head -c1 >/dev/null
is "${PIPESTATUS[0]}" 2 "closed stdout: exit 2"
is "$(cat "$T/e1")" "song-scale: write error: Broken pipe" "closed stdout: message"
song-scale --scaler "$T/c.yaml" "$big" 2>"$T/e2" | head -c1 >/dev/null
is "${PIPESTATUS[0]}" 2 "closed stdout while streaming: exit 2"
fails "/dev/full" "^song-scale: write error: No space left on device$" "$big" -o /dev/full --features danceability,energy
song-scale "$D/tidy.csv" >/dev/full 2>"$T/e3"
is "$?:$(cat "$T/e3")" "2:song-scale: write error: No space left on device" "small output to /dev/full"
song-scale --scaler "$T/c.yaml" "$big" >/dev/full 2>"$T/e4"
is "$?:$(cat "$T/e4")" "2:song-scale: write error: No space left on device" "/dev/full while streaming"

done_testing
