#!/bin/sh
# song-cluster against scikit-learn 1.2 (PCA 10 + KMeans 4, n_init=10,
# k-means++), both reading the same song-scale CSV of the full TidyTuesday
# catalogue and writing the labelled CSV; runs interleaved, medians of RUNS.
# Also checks the agreement: explained-variance ratios within 1e-4 and
# k-means inertia no worse than 1.001 x scikit-learn's.
. "$(dirname "$0")/lib.sh"
RUNS=${RUNS:-7}
SRC=$DATA/spotify/spotify_songs.csv.gz
if [ ! -e "$SRC" ]; then
	echo "### song-cluster: skipped (no $SRC)"
	exit 0
fi
for p in bin/song-scale bin/song-cluster; do
	[ -x "$p" ] || { echo "bench: $p not built (make)" >&2; exit 2; }
done
bin/song-scale "$SRC" > "$W/songs.csv"

# agreement (one run each)
bin/song-cluster -v < "$W/songs.csv" > "$W/vb.csv" 2> "$W/vb.err"
$PY bench/06-song-cluster-peer.py --report "$W/songs.csv" "$W/py.csv" 2> "$W/py.err"
agree=$($PY - "$W/vb.err" "$W/py.err" <<'PYEOF'
import sys, re
vb = open(sys.argv[1]).read(); py = open(sys.argv[2]).read()
ve = [float(x) for x in re.search(r'explained variance ratio:((?: [0-9.]+)+)', vb).group(1).split()]
pe = [float(x) for x in re.search(r'^evr (.*)$', py, re.M).group(1).split()]
vi = float(re.search(r'inertia ([0-9.]+)', vb).group(1))
pi = float(re.search(r'^inertia ([0-9.]+)', py, re.M).group(1))
d = max(abs(a - b) for a, b in zip(ve, pe))
ok = len(ve) == len(pe) and d <= 1e-4 and vi <= 1.001 * pi
print('%s %.2g %.6f %.6f %.6f' % ('yes' if ok else 'NO', d, vi, pi, vi / pi))
PYEOF
)
set -- $agree

# timing, interleaved
i=0
: > "$W/t.vb"; : > "$W/t.py"
while [ $i -lt "$RUNS" ]; do
	/usr/bin/time -f "%e %M" -o "$W/one" bin/song-cluster "$W/songs.csv" > /dev/null
	cat "$W/one" >> "$W/t.vb"
	/usr/bin/time -f "%e %M" -o "$W/one" $PY bench/06-song-cluster-peer.py "$W/songs.csv" /dev/null
	cat "$W/one" >> "$W/t.py"
	i=$((i + 1))
done
vbt=$(med "$W/t.vb" 1); pyt=$(med "$W/t.py" 1)
vbm=$(med "$W/t.vb" 2); pym=$(med "$W/t.py" 2)
echo "### song-cluster: PCA 10 + k-means 4 x 10 restarts on $(($(wc -l < "$W/songs.csv") - 1)) songs"
echo
echo "| program | median wall s ($RUNS runs) | peak RSS MiB | speed-up |"
echo "|---|---|---|---|"
awk -v p="$pyt" -v m="$pym" 'BEGIN { printf "| scikit-learn 1.2 (pandas + PCA + KMeans) | %.3f | %.1f | 1.00x |\n", p, m / 1024 }'
awk -v p="$pyt" -v t="$vbt" -v m="$vbm" 'BEGIN { printf "| song-cluster | %.3f | %.1f | %.2fx |\n", t, m / 1024, p / t }'
echo
echo "Agreement: explained-variance ratios max |diff| $2 (<= 1e-4), inertia $3 vs $4 = $5x (<= 1.001x): $1"
[ "$1" = yes ]
