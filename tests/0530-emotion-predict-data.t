# emotion-predict on the shared photographs and FER2013: annotation,
# smoothing, tracking, and crops scored exactly as emotion-train --evaluate.
. "$(dirname "$0")/lib.sh"
need_data faces/debian/messi5.jpg
need_data cascades/haarcascade_frontalface_default.xml
[ -x "$VB_BIN/emotion-train" ] || skip_all "no emotion-train"
$PYTHON -c 'import numpy, PIL' 2>/dev/null || skip_all "no numpy/PIL"
CASC=$DATA/cascades/haarcascade_frontalface_default.xml
IMG=$DATA/faces/debian/messi5.jpg

# the shipped model if there is one, else a tiny one trained here
M=$TOP/models/fer4.safetensors
if [ ! -f "$M" ]; then
	$PYTHON -c "
import numpy as np
r = np.random.default_rng(3)
with open('$T/r.npy', 'wb') as f:
    np.save(f, r.integers(0, 256, (64, 48, 48), dtype=np.uint8)); np.save(f, np.arange(64) % 4)"
	emotion-train --arch "$TESTDATA/emotion-predict/tiny.yaml" --epochs 1 --no-augment \
		--threads 1 --no-run-dir -q -o "$T/m.safetensors" "$T/r.npy" || skip_all "cannot train"
	M=$T/m.safetensors
fi
EP="emotion-predict -m $M --cascade $CASC --threads 1"

# --- one photograph --------------------------------------------------------
run $EP --annotate "$T/seen.png" "$IMG"
is "$RC" 0 "messi5.jpg: exit 0"
is "$(tail -n +2 "$OUT" | wc -l)" 2 "messi5.jpg: two faces"
run emotion-predict --detect-only --cascade "$CASC" "$IMG"
is "$(tail -n +2 "$OUT" | cut -d, -f3-6 | tr '\n' ' ')" "227,94,37,37 246,64,81,81 " \
	"messi5.jpg: OpenCV's boxes (227,94,37,37 and 246,64,81,81)"
$PYTHON - "$T/seen.png" "$IMG" > "$T/ann" <<'EOF'
import sys
from PIL import Image
a, b = Image.open(sys.argv[1]), Image.open(sys.argv[2])
print(a.size == b.size, a.getpixel((246, 100)), a.getpixel((400, 300)) == b.convert('RGB').getpixel((400, 300)))
EOF
is "$(cat "$T/ann")" "True (40, 220, 60) True" "--annotate: same size, box edge drawn, the rest untouched"

# --- smoothing across two frames -------------------------------------------
$PYTHON - "$IMG" "$T/two.ppm" <<'EOF'
import sys
from PIL import Image, ImageEnhance
a = Image.open(sys.argv[1]).convert('RGB')
b = ImageEnhance.Brightness(a).enhance(0.8)
with open(sys.argv[2], 'wb') as f:
    for im in (a, b):
        f.write(b'P6\n%d %d\n255\n' % im.size + im.tobytes())
EOF
run $EP --redetect 1 "$T/two.ppm"
cp "$OUT" "$T/raw.csv"
run $EP --redetect 1 --smooth 3 "$T/two.ppm"
cp "$OUT" "$T/smooth.csv"
$PYTHON - "$T/raw.csv" "$T/smooth.csv" > "$T/sm" <<'EOF'
import csv, math, sys
raw = list(csv.DictReader(open(sys.argv[1])))
sm = list(csv.DictReader(open(sys.argv[2])))
cls = [c for c in raw[0] if c not in ('frame', 'face', 'x', 'y', 'w', 'h', 'emotion')]
a = 1 - math.exp(-1 / 3)
f0 = {r['face']: r for r in raw if r['frame'] == '0'}
good = len(raw) == len(sm) and len(f0) > 0
for r, s in zip(raw, sm):
    for c in cls:
        want = float(r[c]) if r['frame'] == '0' else a * float(r[c]) + (1 - a) * float(f0[r['face']][c])
        good &= abs(float(s[c]) - want) < 1e-5
print('ok' if good else 'bad')
EOF
is "$(cat "$T/sm")" ok "--smooth 3: second frame is 0.28 new + 0.72 old, first frame as is"
run $EP --redetect 1 --smooth 0.3s --fps 10 "$T/two.ppm"
cmp_ok "$OUT" "$T/smooth.csv" "--smooth 0.3s at --fps 10 equals --smooth 3"

# --- tracking: 10 identical frames ------------------------------------------
half=$(($(wc -c < "$T/two.ppm") / 2))
for i in 1 2 3 4 5 6 7 8 9 10; do head -c "$half" "$T/two.ppm"; done > "$T/ten.ppm"
run $EP --redetect 5 -v "$T/ten.ppm"
is "$RC" 0 "a stream of 10 frames with tracking: exit 0"
is "$(tail -n +2 "$OUT" | cut -d, -f1 | sort -n | uniq -c | awk '{ print $1 }' | sort -u)" 2 \
	"every frame keeps the two faces"
is "$(grep -c 'near last faces' "$ERR")" 8 "8 of 10 frames searched near the last faces only"
$PYTHON - "$OUT" > "$T/tr" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
box = lambda r: tuple(int(r[k]) for k in 'xywh')
def iou(a, b):
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    i = max(0, x1 - x0) * max(0, y1 - y0)
    return i / (a[2] * a[3] + b[2] * b[3] - i)
first = {r['face']: box(r) for r in rows if r['frame'] == '0'}
print(min(iou(box(r), first[r['face']]) for r in rows) >= 0.5)
EOF
is "$(cat "$T/tr")" True "followed boxes stay on the faces (IoU >= 0.5 with frame 0's)"

# --- tracking: nobody in view, then the two faces ------------------------------
# 3 gray frames then 7 of the faces, --redetect 4: whole searches at frames 0,
# 4 and 8; frames 1-3 are not searched, so the faces, there from frame 3 on,
# are found in frame 4 and followed after that
$PYTHON - "$IMG" "$T/empty.ppm" <<'EOF'
import sys
from PIL import Image
a = Image.open(sys.argv[1]).convert('RGB')
with open(sys.argv[2], 'wb') as f:
    for i in range(10):
        im = a if i >= 3 else Image.new('RGB', a.size, (128, 128, 128))
        f.write(b'P6\n%d %d\n255\n' % im.size + im.tobytes())
EOF
run $EP --redetect 4 -v "$T/empty.ppm"
is "$RC" 0 "an empty room, then faces: exit 0"
is "$(tail -n +2 "$OUT" | awk -F, '$2 == "" { print $1 }' | tr '\n' ' ')" "0 1 2 3 " \
	"frames 0-3 have no face (3: not searched yet)"
is "$(tail -n +2 "$OUT" | awk -F, '$2 != "" { n[$1]++ } END { for (f = 4; f < 10; f++) printf "%d ", n[f] }')" \
	"2 2 2 2 2 2 " "the faces are found at the next whole search (frame 4) and followed"
is "$(grep -c 'none in view' "$ERR")" 3 "frames 1-3: no search while nobody is in view"
is "$(grep -c 'near last faces' "$ERR")" 4 "frames 5-7 and 9: near the faces only"

# --- FER2013 PrivateTest crops: the same confusion matrix as emotion-train -----
if [ -d "$DATA/fer2013/test" ] && [ -x "$VB_BIN/fer-prep" ]; then
	fer-prep --split PrivateTest "$DATA/fer2013" > "$T/priv.npy"
	run emotion-train --evaluate -m "$M" --yaml --threads 1 "$T/priv.npy"
	is "$RC" 0 "emotion-train --evaluate ran"
	cp "$OUT" "$T/eval.yaml"
	run $EP "$T/priv.npy"
	is "$RC" 0 "emotion-predict on the PrivateTest crops"
	$PYTHON - "$T/priv.npy" "$OUT" "$T/eval.yaml" > "$T/cm" <<'EOF'
import csv, re, sys
import numpy as np
f = open(sys.argv[1], 'rb'); np.load(f); y = np.load(f)
rows = list(csv.DictReader(open(sys.argv[2])))
cls = [c for c in rows[0] if c not in ('frame', 'face', 'x', 'y', 'w', 'h', 'emotion')]
k = len(cls)
cm = np.zeros((k, k), int)
for t, r in zip(y, rows):
    cm[t, cls.index(r['emotion'])] += 1
text = open(sys.argv[3]).read()
want = [[int(v) for v in re.findall(r'-?\d+', line)] for line in
        text.split('confusion:')[1].splitlines()[1:] if line.strip().startswith('- [')]
print(len(rows) == len(y), cm.tolist() == want, f'{cm.trace() / len(y):.4f}')
EOF
	acc=$(sed -n 's/^accuracy: //p' "$T/eval.yaml")
	is "$(cat "$T/cm")" "True True $acc" "PrivateTest: same confusion matrix and accuracy ($acc) as emotion-train"
else
	skip "no FER2013 images"
fi
done_testing
