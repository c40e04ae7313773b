#!/bin/bash
# fer-prep on an image tree: equal to PIL + numpy, sorted by path, images
# -> CSV -> npy round trip, conversion of odd images, bad files, threads.
. "$(dirname "$0")/lib.sh"
TREE=$TESTDATA/fer2013
have_py=0
$PYTHON -c 'import PIL, numpy' 2>/dev/null && have_py=1

ref() { # NAME ARGS...
	local n=$1; shift
	if [ $have_py = 1 ]; then
		$PYTHON "$TOP/tests/fer-ref.py" "$@" "$T/$n.ref"
		cmp_ok "$T/$n.npy" "$T/$n.ref" "$n: identical to PIL + numpy"
	else
		skip "$n: no PIL"
	fi
}

run fer-prep "$TREE"
is "$RC" 0 "default: exit 0"
is "$(cat "$ERR")" "" "default: silent"
cp "$OUT" "$T/default.npy"
ref default "$TREE"
fer-prep --classes all "$TREE" >"$T/all.npy"
ref all --classes all "$TREE"
fer-prep --classes neutral,fear --split Training "$TREE" >"$T/nf.npy"
ref nf --classes neutral,fear --split Training "$TREE"
fer-prep --classes all --split PrivateTest --threads 1 "$TREE" >"$T/priv1.npy"
fer-prep --classes all --split PrivateTest --threads 5 "$TREE" >"$T/priv5.npy"
cmp_ok "$T/priv5.npy" "$T/priv1.npy" "1 or 5 threads: the same output"
ref priv1 --classes all --split PrivateTest "$TREE"

# The tree's own subfolder, and classes that are not FER names.
fer-prep --classes happy "$TREE/test" >"$T/test.npy"
ref test --classes happy "$TREE/test"

run fer-prep -v --classes all "$TREE"
like "$(cat "$ERR")" "42 faces, all 48x48 gray" "-v: count"
like "$(grep ' total ' "$ERR")" "^fer-prep: +total +21 +7 +14 +42$" "-v: totals per split"
like "$(grep ' neutral ' "$ERR")" "^fer-prep: 6 +neutral +3 +1 +2 +6$" "-v: the neutral row (one PNG among JPEGs)"

# images -> CSV -> npy is identical to images -> npy; and the CSV equals
# the committed fixture up to row order.
fer-prep -O csv --classes all "$TREE" >"$T/tree.csv"
fer-prep --classes all "$T/tree.csv" >"$T/rt.npy"
cmp_ok "$T/rt.npy" "$T/all.npy" "images -> CSV -> npy equals images -> npy"
is "$(tail -n +2 "$T/tree.csv" | sort | md5sum)" "$(tail -n +2 "$TESTDATA/fer2013.csv" | sort | md5sum)" \
	"the CSV holds the same rows as testdata/fer2013.csv"
fer-prep -O csv --split PublicTest "$TREE" | fer-prep --split PublicTest >"$T/pipe.npy"
fer-prep --split PublicTest "$TREE" >"$T/direct.npy"
cmp_ok "$T/pipe.npy" "$T/direct.npy" "round trip through a pipe"

# A tree of custom classes: folders need not be FER names.
mkdir -p "$T/custom/calm" "$T/custom/joy"
cp "$TREE"/train/neutral/Training_*.jpg "$T/custom/calm/"
cp "$TREE"/train/happy/Training_*.jpg "$T/custom/joy/"
fer-prep --classes joy,calm "$T/custom" >"$T/custom.npy"
ref custom --classes joy,calm "$T/custom"
run fer-prep -O csv --classes joy,calm "$T/custom"
like "$(sed -n 2p "$OUT" | cut -c1-6)" "^calm,[0-9]" "-O csv writes a non-FER class by name"
fer-prep --classes joy,calm "$OUT" >"$T/custom2.npy"
cmp_ok "$T/custom2.npy" "$T/custom.npy" "custom classes: images -> CSV -> npy"
run fer-prep "$T/custom"
is "$RC" 2 "folders outside the classes and FER names: exit 2"
like "$(cat "$ERR")" "^fer-prep: '$T/custom/calm/Training_[0-9]+.jpg': unknown emotion 'calm'$" "unknown emotion: message names the file"

# Odd images: RGB 96x96 (shrunk by area averaging), 24x24 (enlarged).
run fer-prep -v --classes happy,sad "$TESTDATA/fer-odd"
is "$RC" 0 "odd images: exit 0"
like "$(cat "$ERR")" "2 images converted to 48x48 gray" "odd images: counted with -v"
if [ $have_py = 1 ]; then
	is "$($PYTHON - "$OUT" "$TESTDATA/fer-odd" <<'EOF'
import io, sys, numpy as np
from PIL import Image
f = io.BytesIO(open(sys.argv[1], "rb").read()); X = np.load(f); y = np.load(f)
big = np.asarray(Image.open(sys.argv[2] + "/happy/Training_1.png").convert("L")).astype(np.int64)
area = (big.reshape(48, 2, 48, 2).sum(axis=(1, 3)) + 2) // 4       # 2x2 block means, rounded
small = np.asarray(Image.open(sys.argv[2] + "/sad/Training_2.png")).astype(np.float64)
x = np.clip((np.arange(48) + 0.5) / 2 - 0.5, 0, 23)
i0 = np.floor(x).astype(int); i1 = np.minimum(i0 + 1, 23); w = x - i0
rows = small[i0] * (1 - w)[:, None] + small[i1] * w[:, None]
bil = np.floor(rows[:, i0] * (1 - w) + rows[:, i1] * w + 0.5 + 1e-9)
same = np.array_equal(X[0], area), np.array_equal(X[2], bil)
print(X.shape, list(y), same)
EOF
)" "(3, 48, 48) [0, 1, 1] (True, True)" "odd images: area-averaged and bilinear as specified"
else
	skip "no PIL"
fi

# Bad files: corrupt JPEG, misnamed file, file outside an emotion folder.
mkdir -p "$T/bad/happy" "$T/bad/sad"
cp "$TREE"/train/happy/Training_*.jpg "$T/bad/happy/"
cp "$TREE"/train/sad/Training_*.jpg "$T/bad/sad/"
head -c 300 "$TREE/train/sad/$(ls "$TREE/train/sad" | head -1)" >"$T/bad/sad/Training_0001.jpg"
run fer-prep "$T/bad"
is "$RC" 2 "truncated JPEG: exit 2"
is "$(cat "$ERR")" "fer-prep: '$T/bad/sad/Training_0001.jpg': JPEG: Premature end of JPEG file" \
	"truncated JPEG: message names the file"
is "$(wc -c <"$OUT" | tr -d ' ')" 0 "truncated JPEG: no output"
run fer-prep -o "$T/partial.npy" "$T/bad"
is "$RC" 2 "truncated JPEG with -o: exit 2"
not_ok "truncated JPEG with -o: the output file is removed" test -e "$T/partial.npy"
run fer-prep --skip-bad -v "$T/bad"
is "$RC" 0 "--skip-bad: exit 0"
like "$(cat "$ERR")" "skipped 1 bad item; the first: '$T/bad/sad/Training_0001.jpg'" "--skip-bad: reported"
like "$(cat "$ERR")" "fer-prep: 6 faces" "--skip-bad: the others kept"
rm "$T/bad/sad/Training_0001.jpg"
fer-prep "$T/bad" >"$T/bad-clean.npy"
cmp_ok "$OUT" "$T/bad-clean.npy" "--skip-bad output equals the output without the bad file"

echo "not an image" >"$T/bad/happy/Training_0002.png"
run fer-prep "$T/bad"
like "$(cat "$ERR")" "^fer-prep: '$T/bad/happy/Training_0002.png': unknown image format \(first bytes 0x6e 0x6f\)$" "not an image: message"
rm "$T/bad/happy/Training_0002.png"
cp "$TREE/train/happy/$(ls "$TREE/train/happy" | head -1)" "$T/bad/happy/face.jpg"
run fer-prep "$T/bad"
is "$RC" 2 "misnamed file: exit 2"
is "$(cat "$ERR")" "fer-prep: '$T/bad/happy/face.jpg': file name does not start with Training_, PublicTest_ or PrivateTest_" \
	"misnamed file: message"
run fer-prep --skip-bad "$T/bad"
is "$RC" 0 "misnamed file with --skip-bad: exit 0"
rm "$T/bad/happy/face.jpg"
cp "$TREE/train/happy/$(ls "$TREE/train/happy" | head -1)" "$T/bad/Training_9.jpg"
run fer-prep "$T/bad"
is "$(cat "$ERR")" "fer-prep: '$T/bad/Training_9.jpg': not in an <emotion> folder" "no emotion folder: message"
rm "$T/bad/Training_9.jpg"
echo "ignored" >"$T/bad/happy/notes.txt"
touch "$T/bad/happy/.Training_7.jpg"
run fer-prep "$T/bad"
is "$RC" 0 "other files and hidden files are ignored"
cmp_ok "$OUT" "$T/bad-clean.npy" "ignored files change nothing"

mkdir -p "$T/empty/happy"
run fer-prep "$T/empty"
is "$RC" 2 "a tree without images: exit 2"
is "$(cat "$ERR")" "fer-prep: no image files (<emotion>/<Usage>_<id>.jpg|png) under '$T/empty'" "a tree without images: message"
run fer-prep --split PublicTest "$T/bad"
is "$RC" 0 "a tree with no image of the split: exit 0 (0 faces)"
run fer-prep "$T/bad//" -o "$T/slash.npy"
is "$RC" 0 "a directory named with trailing slashes"
cmp_ok "$T/slash.npy" "$T/bad-clean.npy" "trailing slashes: the same output"
run fer-prep "$T/no-such-dir/"
is "$RC" 2 "missing input: exit 2"
run fer-prep "$T/bad" -o /dev/full
is "$RC" 2 "tree to /dev/full: exit 2"
like "$(cat "$ERR")" "No space left on device" "tree to /dev/full: message"
ok "/dev/full is left alone" test -c /dev/full
run fer-prep -O csv --skip-bad "$T/bad" -o /dev/full
is "$RC" 2 "tree as CSV to /dev/full: exit 2"
run bash -c 'fer-prep --classes all "$1" | head -c 1 >/dev/null; exit ${PIPESTATUS[0]}' _ "$TREE"
is "$RC" 2 "closed stdout: exit 2"
like "$(cat "$ERR")" "^fer-prep: write error" "closed stdout: message"
done_testing
