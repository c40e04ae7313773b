#!/bin/sh
# song-scale against pandas 1.5 + scikit-learn 1.2 StandardScaler doing the
# same job on the full TidyTuesday catalogue (read the gzip file, drop rows
# without id or name, keep the first row of each id, standardise 11 features,
# write CSV).  Runs interleaved, medians of RUNS; peak RSS from /usr/bin/time.
# Also checks the agreement: same rows, z values within 1e-6.
. "$(dirname "$0")/lib.sh"
RUNS=${RUNS:-7}
SRC=$DATA/spotify/spotify_songs.csv.gz
if [ ! -e "$SRC" ]; then
	echo "### song-scale: skipped (no $SRC)"
	exit 0
fi
[ -x bin/song-scale ] || { echo "bench: bin/song-scale not built (make)" >&2; exit 2; }

# agreement (one run each)
bin/song-scale "$SRC" > "$W/vb.csv"
$PY bench/03-song-scale-peer.py "$SRC" "$W/py.csv"
agree=$($PY - "$W/vb.csv" "$W/py.csv" <<'PYEOF'
import sys
import numpy as np, pandas as pd
a = pd.read_csv(sys.argv[1], keep_default_na=False)
b = pd.read_csv(sys.argv[2], keep_default_na=False)
z = [c for c in a.columns if c.startswith('z_')]
same = len(a) == len(b) and (a['id'] == b['id']).all() and list(a.columns) == list(b.columns)
d = float(np.abs(a[z].values - b[z].values).max()) if same else float('inf')
print('%s %d %.2g' % ('yes' if same and d <= 1e-6 else 'NO', len(a), d))
PYEOF
)
set -- $agree

i=0
: > "$W/t.vb"; : > "$W/t.py"
while [ $i -lt "$RUNS" ]; do
	/usr/bin/time -f "%e %M %U %S" -o "$W/one" bin/song-scale "$SRC" > "$W/vb.csv"
	cat "$W/one" >> "$W/t.vb"
	/usr/bin/time -f "%e %M %U %S" -o "$W/one" $PY bench/03-song-scale-peer.py "$SRC" "$W/py.csv"
	cat "$W/one" >> "$W/t.py"
	i=$((i + 1))
done
vbt=$(med "$W/t.vb" 1); pyt=$(med "$W/t.py" 1)
vbm=$(med "$W/t.vb" 2); pym=$(med "$W/t.py" 2)
# CPU seconds (user + sys) as a third measure, steadier on a busy machine
awk '{ print $3 + $4 }' "$W/t.vb" > "$W/c.vb"; awk '{ print $3 + $4 }' "$W/t.py" > "$W/c.py"
vbc=$(med "$W/c.vb" 1); pyc=$(med "$W/c.py" 1)
echo "### song-scale: clean and standardise the TidyTuesday catalogue ($2 songs kept)"
echo
echo "| program | median wall s ($RUNS runs) | median CPU s | peak RSS MiB | speed-up (wall) | speed-up (CPU) | memory |"
echo "|---|---|---|---|---|---|---|"
awk -v p="$pyt" -v c="$pyc" -v m="$pym" 'BEGIN { printf "| pandas 1.5 + StandardScaler | %.3f | %.3f | %.1f | 1.00x | 1.00x | 1.00x |\n", p, c, m / 1024 }'
awk -v p="$pyt" -v t="$vbt" -v pc="$pyc" -v c="$vbc" -v m="$vbm" -v pm="$pym" 'BEGIN { printf "| song-scale | %.3f | %.3f | %.1f | %.2fx | %.2fx | %.3fx |\n", t, c, m / 1024, p / t, pc / c, m / pm }'
echo
echo "Agreement: same $2 rows and columns, z values max |diff| $3 (<= 1e-6): $1"
[ "$1" = yes ]
