#!/bin/bash
# song-cluster: bad input, bad options, closed stdout, full disk.
. "$(dirname "$0")/lib.sh"
S=$TESTDATA/song-cluster/songs.csv

# fails DESC STATUS REGEX ARGS... : exit status, one stderr line matching REGEX, no stdout
fails() {
	local d=$1 st=$2 re=$3; shift 3
	run song-cluster "$@"
	is "$RC" "$st" "$d: exit $st"
	like "$(cat "$ERR")" "$re" "$d: message"
}

: > "$T/empty.csv"
fails "empty input" 2 "^song-cluster: $T/empty.csv: empty input: expected song-scale's CSV$" "$T/empty.csv"
head -1 "$S" > "$T/head.csv"
fails "header only" 2 "^song-cluster: $T/head.csv: no songs in the input$" "$T/head.csv"
printf 'id,name,valence,energy\na,b,0.5,0.5\n' > "$T/noz.csv"
fails "no z_ columns" 2 "^song-cluster: no z_ columns in the header: expected song-scale's output$" "$T/noz.csv"
printf 'id,z_a,z_b\nx,1,2\ny,2,1\n' > "$T/nove.csv"
fails "no valence/energy" 2 "^song-cluster: no 'valence' or 'z_valence' column: moods need valence and energy$" "$T/nove.csv"
# (lines 2, 3 and 6 hold no quoted commas, so awk's fields are the CSV's)
awk -F, 'NR == 2 { $16 = "x1" } 1' OFS=, "$S" > "$T/bad.csv"
fails "a word in a z_ column" 2 "^song-cluster: line 2: column 'z_danceability': 'x1' is not a number$" "$T/bad.csv"
awk -F, 'NR == 6 { $17 = "nan" } 1' OFS=, "$S" > "$T/nan.csv"
fails "NaN" 2 "^song-cluster: line 6: column 'z_energy': 'nan' is not finite$" "$T/nan.csv"
awk -F, 'NR == 3 { $14 = "inf" } 1' OFS=, "$S" > "$T/inf.csv"
fails "inf in a raw feature" 2 "^song-cluster: line 3: column 'valence': 'inf' is not finite$" "$T/inf.csv"
{ head -3 "$S"; echo "x,y"; } > "$T/ragged.csv"
fails "ragged row" 2 "^song-cluster: $T/ragged.csv: .*line 4" "$T/ragged.csv"
{ head -3 "$S"; printf 'x,"unterminated\n'; } > "$T/quote.csv"
fails "unterminated quote" 2 "^song-cluster: $T/quote.csv: " "$T/quote.csv"
head -c 3000 "$S" > "$T/trunc.csv"
run song-cluster "$T/trunc.csv"
like "$RC:$(cat "$ERR")" "^2:song-cluster: .*(line|not a number|ragged|fields)" "truncated file: a clear error"
{ head -1 "$S"; sed -n 2p "$S"; } > "$T/one.csv"
fails "one song" 2 "^song-cluster: need at least 2 songs, got 1$" "$T/one.csv"
fails "--pca beyond the columns" 2 "^song-cluster: --pca 12: the input has only 11 z_ columns$" --pca 12 "$S"
fails "-k beyond the songs" 2 "^song-cluster: -k 41: only 40 songs$" -k 41 "$S"
fails "--choose-k beyond the songs" 2 "^song-cluster: --choose-k 2..41: only 40 songs$" --choose-k 2..41 "$S"
$PYTHON -c "
import pandas as p
d = p.read_csv('$S')
for c in d.columns:
    if c.startswith('z_'): d[c] = 0.0
d.to_csv('$T/const.csv', index=False)"
run song-cluster "$T/const.csv"
like "$RC:$(cat "$ERR")" "^2:song-cluster: PCA: the data have no variance$" "constant z_ columns: no variance"
fails "missing file" 2 "^song-cluster: cannot open '$T/none.csv': No such file or directory$" "$T/none.csv"
fails "a directory" 2 "^song-cluster: " "$T"
printf '\xef\xbb\xbf' > "$T/bom.csv"; cat "$S" >> "$T/bom.csv"
run song-cluster "$T/bom.csv"
is "$RC:$(head -c 3 "$OUT")" "0:id," "UTF-8 BOM tolerated"

# usage errors: exit 64
for a in "-k 0" "-k x" "--pca 0" "--restarts 0" "--max-iter 0" "--tol -1" "--tol nan" \
	"--choose-k 1..3" "--choose-k 5..2" "--choose-k 3" "--plot-size 10x10" "--plot-size 900" \
	"--silhouette-sample -1" "--bogus" "a b"; do
	run song-cluster $a "$S"
	is "$RC" 64 "usage: $a: exit 64"
done
run song-cluster --choose-k 2..3 --plot "$T/x.png" "$S"
is "$RC:$(cat "$ERR")" "64:song-cluster: --choose-k cannot be combined with --centroids or --plot" "--choose-k with --plot: exit 64"
run song-cluster --help
is "$RC" 0 "--help: exit 0"
for o in "--pca=N.*default: 10" "-k, --clusters=K.*default: 4" "--restarts=N.*default: 10" \
	"--max-iter=N.*default: 300" "--tol=X.*default: 1e-4" "--silhouette-sample=N.*default: 10000" \
	"--plot-size=WxH.*default: 900x700" "--seed=N.*default: 42"; do
	like "$(tr '\n' ' ' < "$OUT" | sed 's/  */ /g')" "$o" "--help shows ${o%%.*}"
done
run song-cluster --version
like "$RC:$(cat "$OUT")" "^0:song-cluster \(vibify\) " "--version"

# closed stdout, full disk, unwritable side outputs
big=$T/big.csv
{ cat "$S"; for i in $(seq 40); do tail -n +2 "$S" | sed "s/^\([a-z]*[0-9]*\),/\1x$i,/"; done; } > "$big"
song-cluster "$big" 2> "$T/e1" | head -c1 > /dev/null
is "${PIPESTATUS[0]}:$(cat "$T/e1")" "2:song-cluster: write error: Broken pipe" "closed stdout: exit 2, write error"
song-cluster "$S" > /dev/full 2> "$T/e2"
is "$?:$(cat "$T/e2")" "2:song-cluster: write error: No space left on device" "/dev/full: exit 2, write error"
song-cluster --choose-k 2..3 "$S" > /dev/full 2> "$T/e3"
is "$?:$(cat "$T/e3")" "2:song-cluster: write error: No space left on device" "--choose-k to /dev/full"
fails "--centroids to /dev/full" 2 "^song-cluster: write error on '/dev/full'" --centroids /dev/full "$S"
fails "--plot to /dev/full" 2 "^song-cluster: /dev/full: .*" --plot /dev/full "$S"
fails "--centroids in a missing directory" 2 "^song-cluster: cannot open '$T/no/c.csv' for writing: No such file or directory$" --centroids "$T/no/c.csv" "$S"
fails "--plot in a missing directory" 2 "^song-cluster: cannot open '$T/no/p.png' for writing: No such file or directory$" --plot "$T/no/p.png" "$S"

done_testing
