#!/bin/bash
# fer-prep on the real FER2013 image release ($DATA/fer2013): the official
# counts, and pixels identical to PIL's for every one of the 35,887 images.
. "$(dirname "$0")/lib.sh"
need_data fer2013/train
FER=$DATA/fer2013

run fer-prep -v --split Training "$FER"
is "$RC" 0 "Training: exit 0"
cp "$OUT" "$T/train.npy"
like "$(cat "$ERR")" "fer-prep: 21005 faces, all 48x48 gray" "Training, default classes: 21,005 faces"
for row in "0 angry 3995" "1 happy 7215" "2 sad 4830" "3 neutral 4965"; do
	set -- $row
	like "$(grep " $2 " "$ERR")" "^fer-prep: $1 +$2 +$3 +0 +0 +$3$" "Training: $2 = $3"
done
run fer-prep -v --split PrivateTest "$FER"
like "$(cat "$ERR")" "fer-prep: 2590 faces" "PrivateTest, default classes: 2,590 faces"
run fer-prep -v --split PublicTest -o "$T/public.npy" "$FER"
like "$(cat "$ERR")" "fer-prep: 2622 faces" "PublicTest, default classes: 2,622 faces"

run fer-prep -v --classes all --split all -o "$T/all.npy" "$FER"
is "$RC" 0 "--classes all --split all: exit 0"
like "$(cat "$ERR")" "fer-prep: 35887 faces, all 48x48 gray" "--classes all --split all: 35,887 faces"
like "$(grep ' total ' "$ERR")" "^fer-prep: +total +28709 +3589 +3589 +35887$" "official split sizes"

$PYTHON -c 'import PIL, numpy' 2>/dev/null || { skip "no PIL: pixel comparison"; done_testing; }
# Every image decoded by PIL, in the same (bytewise path) order, against
# fer-prep's X and y; also the 4-class Training subset against the full set.
run $PYTHON - "$FER" "$T/all.npy" "$T/train.npy" <<'EOF'
import os, sys, numpy as np
from PIL import Image
root = sys.argv[1]
FER = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
paths = []
for dp, dn, fn in os.walk(root):
    paths += [os.path.relpath(os.path.join(dp, f), root) for f in fn if f.endswith(".jpg")]
paths.sort(key=lambda p: p.encode())
with open(sys.argv[2], "rb") as f:
    X = np.load(f); y = np.load(f)
ref = np.empty((len(paths), 48, 48), np.uint8)
for i, p in enumerate(paths):
    im = Image.open(os.path.join(root, p))
    assert im.mode == "L" and im.size == (48, 48), p
    ref[i] = np.asarray(im)
yref = np.array([FER.index(p.split("/")[-2]) for p in paths])
print("images", len(paths), X.shape, X.dtype, y.dtype)
print("pixels-differ", int((X != ref).any(axis=(1, 2)).sum()) if X.shape == ref.shape else "shape")
print("labels-differ", int((y != yref).sum()) if y.shape == yref.shape else "shape")
with open(sys.argv[3], "rb") as f:
    Xt = np.load(f); yt = np.load(f)
four = {0: 0, 3: 1, 4: 2, 6: 3}
sel = np.array([FER.index(p.split("/")[-2]) in four and os.path.basename(p).startswith("Training_") for p in paths])
ok = np.array_equal(Xt, ref[sel]) and np.array_equal(yt, [four[v] for v in yref[sel]])
print("training-subset", "same" if ok else "differs", np.bincount(yt).tolist())
EOF
is "$RC" 0 "PIL comparison ran"
is "$(grep ^images "$OUT")" "images 35887 (35887, 48, 48) uint8 int64" "X is 35887 x 48 x 48 |u1, y <i8"
is "$(grep ^pixels "$OUT")" "pixels-differ 0" "pixels identical to PIL's for all 35,887 images"
is "$(grep ^labels "$OUT")" "labels-differ 0" "labels from the folder names"
is "$(grep ^training "$OUT")" "training-subset same [3995, 7215, 4830, 4965]" "4-class Training subset: same faces, same order"
[ -s "$ERR" ] && _diag <"$ERR"

# --skip-bad keeps the images in memory instead of streaming them: same bytes.
fer-prep --skip-bad --classes all --threads 1 "$FER" >"$T/keep.npy"
cmp_ok "$T/keep.npy" "$T/all.npy" "--skip-bad with one thread: the same output"

# The CSV form: images -> CSV -> npy is identical.
fer-prep -O csv --classes all "$FER" | fer-prep --classes all >"$T/rt.npy"
cmp_ok "$T/rt.npy" "$T/all.npy" "all 35,887: images -> CSV -> npy identical"
done_testing
