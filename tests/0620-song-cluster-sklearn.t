#!/bin/bash
# song-cluster against scikit-learn 1.2 (PCA + KMeans n_init=10, k-means++):
# explained-variance ratios within 1e-4, inertia no worse than 1.001x; on the
# fixture and on the full TidyTuesday catalogue (skipped when absent), where
# the four moods must also be distinct and where a listener expects them.
. "$(dirname "$0")/lib.sh"
PEER=$TOP/bench/06-song-cluster-peer.py

# agree SONGS.csv DESC: one song-cluster run and one peer run, compared
agree() {
	song-cluster -v --centroids "$T/c.csv" "$1" > "$T/vb.csv" 2> "$T/vb.err"
	is "$?" 0 "$2: song-cluster exit 0"
	$PYTHON "$PEER" --report "$1" /dev/null 2> "$T/py.err"
	is "$?" 0 "$2: scikit-learn peer exit 0"
	$PYTHON - "$T/vb.err" "$T/py.err" > "$T/cmp" <<'PY'
import sys, re
vb = open(sys.argv[1]).read(); py = open(sys.argv[2]).read()
ve = [float(x) for x in re.search(r'explained variance ratio:((?: [0-9.]+)+)', vb).group(1).split()]
pe = [float(x) for x in re.search(r'^evr (.*)$', py, re.M).group(1).split()]
vi = float(re.search(r'inertia ([0-9.]+)', vb).group(1))
pi = float(re.search(r'^inertia ([0-9.]+)', py, re.M).group(1))
print('evr', len(ve) == len(pe) and max(abs(a - b) for a, b in zip(ve, pe)) <= 1e-4)
print('inertia', vi <= 1.001 * pi, vi, pi)
PY
	like "$(sed -n 1p "$T/cmp")" "^evr True$" "$2: explained-variance ratios within 1e-4 of scikit-learn's"
	like "$(sed -n 2p "$T/cmp")" "^inertia True " "$2: inertia <= 1.001 x scikit-learn's ($(sed -n 2p "$T/cmp" | cut -d' ' -f3-))"
}

agree "$TESTDATA/song-cluster/songs.csv" "fixture"

SRC=$DATA/spotify/spotify_songs.csv.gz
if [ ! -e "$SRC" ]; then
	skip "no $SRC: the TidyTuesday checks"
	done_testing
fi
zcat "$SRC" | song-scale | song-cluster > "$T/pipe.csv" 2> "$T/pipe.err"
is "${PIPESTATUS[*]}:$(cat "$T/pipe.err")" "0 0 0:" "zcat | song-scale | song-cluster: exit 0, quiet"
is "$($PYTHON -c "import csv; print(sum(1 for r in csv.reader(open('$T/pipe.csv', newline=''))) - 1)")" \
	28352 "TidyTuesday: 28,352 songs out"
song-scale "$SRC" > "$T/songs.csv"
agree "$T/songs.csv" "TidyTuesday"
cmp_ok "$T/vb.csv" "$T/pipe.csv" "TidyTuesday: file and pipe give the same output"

# The moods: four distinct names, and where a listener expects them
$PYTHON - "$T/c.csv" > "$T/moods" <<'PY'
import sys, pandas as pd
c = pd.read_csv(sys.argv[1]).set_index('mood')
print('distinct', sorted(c.index) == ['calm', 'energetic', 'happy', 'sad'])
print('happy-most-positive', c.valence.idxmax() == 'happy')
print('sad-least-energy', c.energy.idxmin() == 'sad')
print('energetic-loudest', c.loudness.idxmax() == 'energetic')
print('energetic-fastest', c.tempo.idxmax() == 'energetic')
print('sad-most-acoustic', c.acousticness.idxmax() == 'sad')
print('happy-most-danceable', c.danceability.idxmax() == 'happy')
PY
for w in distinct happy-most-positive sad-least-energy energetic-loudest energetic-fastest \
	sad-most-acoustic happy-most-danceable; do
	is "$(grep "^$w " "$T/moods" | cut -d' ' -f2)" True "TidyTuesday moods: $w"
done

done_testing
