#!/bin/sh
# validate-stats against pandas: per-column statistics of a 1,000,000-row song
# CSV (the TidyTuesday catalogue repeated), pandas' read_csv +
# describe(include='all') + nunique() against `validate-stats -o` (every
# statistic of the man page, YAML).  Runs interleaved, medians of RUNS, peak
# RSS from /usr/bin/time.  Also checks that both agree on the row count,
# the means and the distinct counts.
. "$(dirname "$0")/lib.sh"
RUNS=${RUNS:-3}
ROWS=${ROWS:-1000000}
SRC=$DATA/spotify/spotify_songs.csv.gz
if [ ! -e "$SRC" ]; then
	echo "### validate-stats: skipped (no $SRC)"
	exit 0
fi
[ -x bin/validate-stats ] || { echo "bench: bin/validate-stats not built (make)" >&2; exit 2; }
zcat "$SRC" | head -1 > "$W/big.csv"
n=$(($(zcat "$SRC" | wc -l) - 1))
reps=$(( (ROWS + n - 1) / n ))
i=0
while [ $i -lt $reps ]; do zcat "$SRC" | tail -n +2; i=$((i + 1)); done | head -n "$ROWS" >> "$W/big.csv"

cat > "$W/peer.py" <<'PYEOF'
import sys, pandas as pd
d = pd.read_csv(sys.argv[1])
s = d.describe(include='all')
u = d.nunique()
with open(sys.argv[2], 'w') as f:
    print(len(d), file=f)
    for c in d.columns:
        m = s.loc['mean', c]
        print(c, u[c], '' if pd.isna(m) else repr(float(m)), file=f)
PYEOF

# agreement (one run each)
bin/validate-stats -o "$W/vb.yaml" "$W/big.csv"
$PY "$W/peer.py" "$W/big.csv" "$W/py.txt"
agree=$($PY - "$W/vb.yaml" "$W/py.txt" <<'PYEOF'
import sys, yaml
st = yaml.safe_load(open(sys.argv[1]))
lines = open(sys.argv[2]).read().split('\n')
rows = int(lines[0])
ok = st['num_examples'] == rows
f = {str(x['name']): x for x in st['features']}
worst_u = 0
for l in lines[1:]:
    if not l: continue
    p = l.split(' ')
    c, u, m = p[0], int(p[1]), p[2]
    x = f[c]
    # pandas reads 'NA' as missing and numbers as values: distinct counts agree
    worst_u = max(worst_u, abs(x['unique'] - u) / max(u, 1))
    if m and 'mean' in x and abs(x['mean'] - float(m)) > 1e-9 * max(1, abs(float(m))):
        ok = False
print('%s %d %.2g' % ('yes' if ok and worst_u < 0.001 else 'NO', rows, worst_u))
PYEOF
)
set -- $agree

i=0
: > "$W/t.vb"; : > "$W/t.py"
while [ $i -lt "$RUNS" ]; do
	/usr/bin/time -f "%e %M %U %S" -o "$W/one" bin/validate-stats -o /dev/null "$W/big.csv"
	cat "$W/one" >> "$W/t.vb"
	/usr/bin/time -f "%e %M %U %S" -o "$W/one" $PY "$W/peer.py" "$W/big.csv" /dev/null
	cat "$W/one" >> "$W/t.py"
	i=$((i + 1))
done
vbt=$(med "$W/t.vb" 1); pyt=$(med "$W/t.py" 1)
vbm=$(med "$W/t.vb" 2); pym=$(med "$W/t.py" 2)
awk '{ print $1, $2, $3 + $4 }' "$W/t.vb" > "$W/c.vb"; awk '{ print $1, $2, $3 + $4 }' "$W/t.py" > "$W/c.py"
vbc=$(med "$W/c.vb" 3); pyc=$(med "$W/c.py" 3)
echo "### validate-stats: statistics of a $2-row song CSV ($(($(wc -c < "$W/big.csv") / 1048576)) MiB, 23 columns)"
echo
echo "| program | median wall s ($RUNS runs) | median CPU s | peak RSS MiB | speed-up (wall) | speed-up (CPU) |"
echo "|---|---|---|---|---|---|"
awk -v p="$pyt" -v c="$pyc" -v m="$pym" 'BEGIN { printf "| pandas 1.5 read_csv + describe(include=\x27all\x27) + nunique() | %.2f | %.2f | %.1f | 1.00x | 1.00x |\n", p, c, m / 1024 }'
awk -v p="$pyt" -v t="$vbt" -v c="$vbc" -v pc="$pyc" -v m="$vbm" 'BEGIN { printf "| validate-stats -o stats.yaml | %.2f | %.2f | %.1f | %.2fx | %.2fx |\n", t, c, m / 1024, p / t, pc / c }'
echo
echo "Agreement: row count, every mean to 1e-9 and distinct counts (max relative difference $3): $1"
[ "$1" = yes ]
