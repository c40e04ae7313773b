#!/bin/bash
# validate-stats statistics: exact values on small tables, NumPy/pandas on
# larger ones, .npy streams with per-label statistics, output forms.
. "$(dirname "$0")/lib.sh"

# field FILE COLUMN KEY: one statistic of one feature, as Python prints it
field() {
	$PYTHON -c '
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
f = [x for x in d["features"] if str(x["name"]) == sys.argv[2]][0]
v = f
for k in sys.argv[3].split("."):
    v = v[int(k)] if isinstance(v, list) else v[k]
print(v)' "$@"
}

# --- a small table with every kind of column -------------------------------
{
	echo 'n,x,s,b,mixed,empty'
	for i in 1 2 3 4 5 6 7 8 9 10; do
		case $i in
		3) x=nan ;; 4) x= ;; 5) x=NA ;; *) x=$i.5 ;;
		esac
		case $i in 1|2|3) s=red ;; 4|5) s=blue ;; 6) s='"a, quoted"' ;; *) s=green ;; esac
		case $i in 1|3|5) b=true ;; *) b=False ;; esac
		case $i in 10) m=ten ;; *) m=$i ;; esac
		echo "$i,$x,$s,$b,$m,"
	done
} >"$T/small.csv"

run validate-stats -o "$T/s.yaml" "$T/small.csv"
is "$RC" 0 "statistics of a small table: exit 0"
is "$(cat "$OUT" "$ERR")" "" "with -o nothing on stdout or stderr"
is "$(field "$T/s.yaml" n type)" int "int column"
is "$(field "$T/s.yaml" n mean)" 5.5 "mean"
is "$(field "$T/s.yaml" n std)" 3.0276503540974917 "sample standard deviation"
is "$(field "$T/s.yaml" n median)" 5.5 "median interpolated like NumPy"
is "$(field "$T/s.yaml" n quantiles.p25)" 3.25 "25th percentile interpolated like NumPy"
is "$(field "$T/s.yaml" n histogram.counts)" "[1, 1, 1, 1, 1, 1, 1, 1, 1, 1]" "equal-width histogram"
is "$(field "$T/s.yaml" n histogram.edges)" "[1, 1.9, 2.8, 3.7, 4.6, 5.5, 6.4, 7.3, 8.2, 9.1, 10]" "histogram edges"
is "$(field "$T/s.yaml" n unique)" 10 "distinct values"
is "$(field "$T/s.yaml" x type)" float "float column"
is "$(field "$T/s.yaml" x missing)" 2 "empty field and NA are missing"
is "$(field "$T/s.yaml" x nan)" 1 "nan counted"
is "$(field "$T/s.yaml" x count)" 8 "present values"
is "$(field "$T/s.yaml" x mean)" 6.642857142857143 "mean without NaN"
is "$(field "$T/s.yaml" x min)" 1.5 "min"
is "$(field "$T/s.yaml" x max)" 10.5 "max"
is "$(field "$T/s.yaml" s type)" string "string column"
is "$(field "$T/s.yaml" s top_values.0.value):$(field "$T/s.yaml" s top_values.0.count)" "green:4" "top value and count"
is "$(field "$T/s.yaml" s top_values.3.value)" "a, quoted" "quoted CSV field kept whole"
is "$(field "$T/s.yaml" s unique)" 4 "distinct strings"
is "$(field "$T/s.yaml" b type):$(field "$T/s.yaml" b true_count)" "bool:3" "bool column and true count"
is "$(field "$T/s.yaml" mixed type)" string "numbers and one word: string"
is "$(field "$T/s.yaml" empty type):$(field "$T/s.yaml" empty missing)" "none:10" "all-missing column"

# the table on request, YAML in a pipe
run validate-stats --table "$T/small.csv"
like "$(sed -n 2p "$OUT")" "^column +type +count +missing +mean" "--table: a header line"
like "$(grep '^n ' "$OUT")" "^n +int +10 +0 +5\.5 +3\.02765 +1 +5\.5 +10 +10" "--table: one line per column"
run validate-stats "$T/small.csv"
like "$(head -2 "$OUT")" "format: csv" "YAML on stdout in a pipe"
validate-stats <"$T/small.csv" >"$T/stdin.yaml"
cmp_ok "$T/stdin.yaml" "$T/s.yaml" "stdin gives the same statistics"

# --- larger random data against NumPy / pandas -------------------------------
$PYTHON - "$T/big.csv" <<'PY'
import sys, numpy as np
r = np.random.default_rng(7)
n = 60000
g = r.normal(10, 3, n)
u = r.integers(0, 1000000, n)
c = r.choice(['a', 'b', 'c', 'd'], n, p=[.4, .3, .2, .1])
with open(sys.argv[1], 'w') as f:
    f.write('g,u,c\n')
    for i in range(n):
        f.write('%r,%d,%s\n' % (float(g[i]), u[i], c[i]))
PY
$PYTHON - "$T/big.csv" >"$T/ref.txt" <<'PY'
import sys, numpy as np, pandas as pd
d = pd.read_csv(sys.argv[1])
print(repr(d.g.mean()), repr(d.g.std()), d.g.min(), d.g.max(), d.u.nunique())
print(' '.join(repr(float(x)) for x in np.percentile(d.g, [1, 5, 25, 50, 75, 95, 99])))
print(' '.join(str(x) for x in np.histogram(d.g, 10)[0]))
print(' '.join(str(x) for x in d.c.value_counts()))
PY
validate-stats --unique-max 100000 -o "$T/b.yaml" "$T/big.csv"
read -r mean std mn mx nu < <(sed -n 1p "$T/ref.txt")
ok "mean equals pandas' to 1e-12" $PYTHON -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); sys.exit(abs(a-b)>1e-12*abs(b))" "$(field "$T/b.yaml" g mean)" "$mean"
ok "std equals pandas' to 1e-9" $PYTHON -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); sys.exit(abs(a-b)>1e-9*abs(b))" "$(field "$T/b.yaml" g std)" "$std"
is "$(field "$T/b.yaml" g min) $(field "$T/b.yaml" g max)" "$mn $mx" "min and max exact"
is "$(field "$T/b.yaml" u unique)" "$nu" "distinct count exact below --unique-max"
is "$(field "$T/b.yaml" u unique_exact)" True "flagged exact"
# quantiles from the sketch: within 1% of rank of NumPy's
ok "sketch quantiles within 1% rank of NumPy's" $PYTHON - "$T/big.csv" "$T/b.yaml" <<'PY'
import sys, yaml, numpy as np, pandas as pd
g = np.sort(pd.read_csv(sys.argv[1]).g.values)
f = [x for x in yaml.safe_load(open(sys.argv[2]))['features'] if x['name'] == 'g'][0]
bad = 0
for k, q in f['quantiles'].items():
    p = int(k[1:]) / 100
    r = np.searchsorted(g, q, 'right') / len(g)
    if abs(r - p) > 0.01: print(k, q, r); bad = 1
h = np.histogram(g, 10)[0]
if np.abs(np.array(f['histogram']['counts']) - h).max() > 0.01 * len(g): print(f['histogram'], h); bad = 1
sys.exit(bad)
PY
is "$(field "$T/b.yaml" c top_values.0.count) $(field "$T/b.yaml" c top_values.1.count) $(field "$T/b.yaml" c top_values.2.count) $(field "$T/b.yaml" c top_values.3.count)" \
	"$(sed -n 4p "$T/ref.txt")" "value counts equal pandas'"
# past the exact bound: HyperLogLog within 3%, still the right top values
validate-stats --unique-max 1000 -o "$T/h.yaml" "$T/big.csv"
is "$(field "$T/h.yaml" u unique_exact)" False "past --unique-max: estimated"
ok "HyperLogLog estimate within 3%" $PYTHON -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); sys.exit(abs(a-b)>0.03*b)" "$(field "$T/h.yaml" u unique)" "$nu"
is "$(field "$T/h.yaml" c top_values.0.value)" a "top value of a small column unaffected"
validate-stats --seed 1 -o "$T/b1.yaml" "$T/big.csv"
validate-stats --seed 1 -o "$T/b2.yaml" "$T/big.csv"
cmp_ok "$T/b1.yaml" "$T/b2.yaml" "same seed, same statistics"

# --- .npy: X then y ------------------------------------------------------------
$PYTHON - "$T/faces.npy" "$T/ref-npy.txt" <<'PY'
import sys, numpy as np
r = np.random.default_rng(3)
X = r.integers(0, 256, (300, 8, 8), dtype=np.uint8)
y = r.integers(0, 3, 300).astype(np.int64)
X[5] = 7                      # one blank image, label y[5]
with open(sys.argv[1], 'wb') as f:
    np.save(f, X); np.save(f, y)
with open(sys.argv[2], 'w') as f:
    print(repr(float(X.mean())), repr(float(X.std(ddof=1))), "%g" % np.median(X), file=f)
    for l in range(3):
        print(l, (y == l).sum(), repr(float(X[y == l].mean())), repr(float(X[y == l].std())), int(l == y[5]), file=f)
    print(' '.join(str(x) for x in np.histogram(X, 10)[0]), file=f)
PY
run validate-stats -o "$T/n.yaml" "$T/faces.npy"
is "$RC" 0 ".npy stream: exit 0"
read -r mean std med <"$T/ref-npy.txt"
is "$(field "$T/n.yaml" X mean) $(field "$T/n.yaml" X median)" "$mean $med" "X mean and median equal NumPy's"
ok "X std equals NumPy's to 1e-12" $PYTHON -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); sys.exit(abs(a-b)>1e-12*b)" "$(field "$T/n.yaml" X std)" "$std"
is "$(field "$T/n.yaml" X histogram.counts | tr -d '[],')" "$(sed -n 5p "$T/ref-npy.txt")" "X histogram equals NumPy's"
is "$(field "$T/n.yaml" X values_per_example)" 64 "values per example"
got=$($PYTHON -c '
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
for l in d["labels"]: print(l["label"], l["count"], repr(float(l["pixel_mean"])), repr(float(l["pixel_std"])), l["blank_images"])' "$T/n.yaml")
ok "per-label counts, pixel mean/std, blank images equal NumPy's" $PYTHON -c '
import sys
a = [l.split() for l in sys.argv[1].splitlines()]
b = [l.split() for l in open(sys.argv[2]).read().splitlines()[1:4]]
ok = all(x[0] == y[0] and x[1] == y[1] and x[4] == y[4] and abs(float(x[2]) - float(y[2])) < 1e-9 and abs(float(x[3]) - float(y[3])) < 1e-9 for x, y in zip(a, b))
sys.exit(not ok or len(a) != 3)' "$got" "$T/ref-npy.txt"
like "$(grep -A3 '^arrays' "$T/n.yaml" | tr '\n' ' ')" 'name: X +dtype: "\|u1" +shape: \[300, 8, 8\]' "array dtype and shape recorded"
run validate-stats --table "$T/faces.npy"
like "$(head -1 "$OUT")" '^npy: 300 examples; X \|u1 \(300 x 8 x 8\), y <i8 \(300\)$' "table names the arrays"
like "$(grep -c '^label ' "$OUT")" '^3$' "table has a line per label"
# float arrays with NaN
$PYTHON -c "
import numpy as np, sys
X = np.arange(12, dtype=np.float32).reshape(3, 4); X[1, 2] = np.nan
np.save(sys.argv[1], X)" "$T/f.npy"
validate-stats -o "$T/f.yaml" "$T/f.npy"
is "$(field "$T/f.yaml" X type):$(field "$T/f.yaml" X nan):$(field "$T/f.yaml" X count)" "float:1:12" "float array: NaN counted"

# --- statistics read back as a baseline give zero drift ---------------------------
run validate-stats -b "$T/b.yaml" "$T/big.csv"
is "$RC:$(cat "$OUT")" "0:" "data against its own statistics: no drift"

done_testing
