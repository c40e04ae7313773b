#!/bin/bash
# song-cluster on the 40-song fixture: output columns, moods, cluster
# numbering, determinism, centroids, plot, -v report, --choose-k.
. "$(dirname "$0")/lib.sh"
D=$TESTDATA/song-cluster
S=$D/songs.csv

run song-cluster "$S"
is "$RC:$(cat "$ERR")" "0:" "fixture: exit 0, nothing on stderr"
cp "$OUT" "$T/out.csv"
is "$(head -1 "$T/out.csv")" "$(head -1 "$S"),cluster,mood,pc1,pc2" "header: every input column, then cluster,mood,pc1,pc2"

# Check with Python's csv module: input columns echoed byte for byte (after
# parsing), every song's mood is the one its id names, numbering by mood.
check() {
	$PYTHON - "$S" "$T/out.csv" <<'PY'
import csv, sys
inp = list(csv.reader(open(sys.argv[1], newline='')))
out = list(csv.reader(open(sys.argv[2], newline='')))
h = out[0]
print('rows', len(out) - 1 == len(inp) - 1)
print('echo', all(o[:len(i)] == i for i, o in zip(inp[1:], out[1:])))
want = {'hap': 'happy', 'ene': 'energetic', 'sad': 'sad', 'cal': 'calm'}
m = h.index('mood'); c = h.index('cluster')
print('moods', all(r[m] == want[r[0][:3]] for r in out[1:]))
num = {'happy': '0', 'energetic': '1', 'sad': '2', 'calm': '3'}
print('numbering', all(r[c] == num[r[m]] for r in out[1:]))
print('pcs', all(float(r[h.index('pc1')]) == float(r[h.index('pc1')]) for r in out[1:]))
PY
}
check > "$T/check"
is "$(grep -c True "$T/check")" 5 "rows, echoed columns, moods, numbering, numeric pcs"
grep -v True "$T/check" | _diag

# pc1, pc2 equal numpy's PCA scores (sign as scikit-learn's svd_flip)
$PYTHON - "$S" "$T/out.csv" > "$T/pc" <<'PY'
import sys, numpy as np, pandas as pd
s = pd.read_csv(sys.argv[1]); o = pd.read_csv(sys.argv[2])
X = s[[c for c in s.columns if c.startswith('z_')]].to_numpy()
Xc = X - X.mean(0)
U, S, Vt = np.linalg.svd(Xc, full_matrices=False)
for i in range(2):
    j = np.argmax(np.abs(U[:, i]))
    if U[j, i] < 0: U[:, i] = -U[:, i]
Y = U[:, :2] * S[:2]
print('%.1e' % max(np.abs(Y[:, 0] - o.pc1).max(), np.abs(Y[:, 1] - o.pc2).max()))
PY
like "$(cat "$T/pc")" '^[0-9.]+e-(1[0-9]|[2-9][0-9])$' "pc1/pc2 match numpy's SVD to 1e-10"

# determinism: same seed, same bytes; other thread counts too
run song-cluster --threads 1 "$S"; cmp_ok "$OUT" "$T/out.csv" "--threads 1: same output"
song-cluster < "$S" > "$T/stdin.csv"; cmp_ok "$T/stdin.csv" "$T/out.csv" "stdin: same output"
run song-cluster --seed 7 "$S"
is "$(cut -d, -f1 "$OUT" | head -1)" "id" "--seed 7 runs"
is "$($PYTHON -c "import pandas as p,sys; d=p.read_csv('$OUT'); print((d.id.str[:3].map({'hap':'happy','ene':'energetic','sad':'sad','cal':'calm'}) == d.mood).all())")" True "--seed 7: the same moods"

# -v: explained variance, k-means summary, mood profile (stderr only)
run song-cluster -v "$S"
cmp_ok "$OUT" "$T/out.csv" "-v: same stdout"
like "$(sed -n 1p "$ERR")" '^song-cluster: explained variance ratio:( 0\.[0-9]{6}){10} \(total 0\.[0-9]{6}\)$' "-v: ten explained-variance ratios"
like "$(sed -n 2p "$ERR")" '^song-cluster: k-means: k 4, inertia [0-9.]+, best of 10 restarts' "-v: k-means summary"
is "$(sed -n 4p "$ERR" | awk '{ print $1, $2, $3, $NF }')" "cluster mood size tempo" "-v: profile header"
is "$(sed -n '5,8p' "$ERR" | awk '{ printf "%s %s %s;", $1, $2, $3 }')" "0 happy 10;1 energetic 10;2 sad 10;3 calm 10;" "-v: profile rows: cluster, mood, size"
is "$(sed -n 5p "$ERR" | awk '{ print $(NF-1) }')" "$($PYTHON -c "import pandas as p; d = p.read_csv('$S'); print('%.4g' % d[d.id.str.startswith('hap')].valence.mean())")" "-v: happy cluster's mean valence"
run song-cluster -q "$S"
is "$RC:$(cat "$ERR")" "0:" "-q: silent"

# --centroids
run song-cluster --centroids "$T/c.csv" "$S"
is "$(cut -d, -f1-3 "$T/c.csv" | tr '\n' ' ')" "cluster,mood,size 0,happy,10 1,energetic,10 2,sad,10 3,calm,10 " "--centroids: cluster, mood, size"
is "$(head -1 "$T/c.csv" | tr ',' '\n' | grep -c '^pc')" 10 "--centroids: ten pc coordinates"
is "$($PYTHON -c "
import pandas as p
c = p.read_csv('$T/c.csv'); o = p.read_csv('$T/out.csv')
m = o.groupby('cluster').valence.mean()
print(all(abs(c.valence[i] - m[i]) < 1e-12 for i in range(4)))")" True "--centroids: raw feature means per cluster"

# --plot: a PNG of the asked size with every mood colour in the legend
run song-cluster --plot "$T/p.png" --plot-size 640x480 "$S"
is "$RC" 0 "--plot: exit 0"
cmp_ok "$OUT" "$T/out.csv" "--plot: same stdout"
is "$($PYTHON -c "
from PIL import Image
im = Image.open('$T/p.png'); print(im.format, im.size, im.mode)
c = set(im.getdata())
print(all(x in c for x in [(230,159,0), (213,94,0), (0,114,178), (0,158,115)]))" | tr '\n' ' ')" "PNG (640, 480) RGB True " "--plot: 640x480 RGB PNG with the four mood colours"
song-cluster --plot "$T/p2.png" "$S" > /dev/null
is "$($PYTHON -c "from PIL import Image; print(Image.open('$T/p2.png').size)")" "(900, 700)" "--plot: default 900x700"

# --pca and -k variants
run song-cluster --pca 1 "$S"
is "$RC:$(head -1 "$OUT" | tr ',' '\n' | tail -2 | tr '\n' ' ')" "0:pc1 pc2 " "--pca 1: still pc1 and pc2"
run song-cluster -k 6 --centroids "$T/c6.csv" "$S"
is "$(cut -d, -f2 "$T/c6.csv" | tail -n +2 | sort -u | tr '\n' ' ')" "calm energetic happy sad " "-k 6: every mood used"
is "$(($(wc -l < "$T/c6.csv") - 1))" 6 "-k 6: six clusters"
run song-cluster -k 2 --centroids "$T/c2.csv" "$S"
is "$(cut -d, -f2 "$T/c2.csv" | tail -n +2 | tr '\n' ' ')" "happy energetic " "-k 2: the first two steps"
run song-cluster -k 1 "$S"
is "$(tail -n +2 "$OUT" | grep -c ',0,happy,')" 40 "-k 1: one cluster"

# re-clustering our own output replaces cluster,mood,pc1,pc2
run song-cluster "$T/out.csv"
cmp_ok "$OUT" "$T/out.csv" "output as input: the same output"

# --choose-k: inertia falls, the silhouette peaks at the four moods
run song-cluster --choose-k 2..6 "$S"
is "$(head -1 "$OUT")" "k,inertia,silhouette" "--choose-k: header"
is "$(tail -n +2 "$OUT" | cut -d, -f1 | tr '\n' ' ')" "2 3 4 5 6 " "--choose-k: one row per k"
is "$(tail -n +2 "$OUT" | sort -t, -k3 -g -r | head -1 | cut -d, -f1)" 4 "--choose-k: best silhouette at k = 4"
is "$(tail -n +2 "$OUT" | awk -F, 'NR > 1 && $2 > prev { bad = 1 } { prev = $2 } END { print bad ? "no" : "yes" }')" yes "--choose-k: inertia never rises"
plain=$(song-cluster -v "$S" 2>&1 >/dev/null | sed -n 's/.*inertia \([0-9.]*\),.*/\1/p')
is "$(printf '%.6f' "$(sed -n 4p "$OUT" | cut -d, -f2)")" "$plain" "--choose-k: k = 4 inertia as in a plain run"
$PYTHON - "$S" "$OUT" > "$T/sil" <<'PY'
import sys, pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
s = pd.read_csv(sys.argv[1]); o = pd.read_csv(sys.argv[2])
X = s[[c for c in s.columns if c.startswith('z_')]].to_numpy()
from sklearn.decomposition import PCA
Y = PCA(10).fit_transform(X)
lab = s.id.str[:3].astype('category').cat.codes
print(abs(silhouette_score(Y, lab) - o.silhouette[o.k == 4].iloc[0]) < 1e-6)
PY
is "$(cat "$T/sil")" True "--choose-k: k = 4 silhouette equals scikit-learn's for the mood partition"

done_testing
