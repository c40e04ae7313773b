# emotion-predict: options, outputs, crops, streams and every kind of bad
# input.  A tiny model is trained here for one epoch on random crops, so
# only the plumbing is under test (the shipped model is tested elsewhere).
. "$(dirname "$0")/lib.sh"
[ -x "$VB_BIN/emotion-train" ] || skip_all "no emotion-train"
$PYTHON -c 'import numpy' 2>/dev/null || skip_all "no numpy"
CASC=$DATA/cascades/haarcascade_frontalface_default.xml
[ -f "$CASC" ] || CASC=/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml
[ -f "$CASC" ] || skip_all "no frontal-face cascade"

# random crops with labels, and a tiny model
$PYTHON - "$T" <<'EOF'
import sys, numpy as np
r = np.random.default_rng(7)
with open(sys.argv[1] + '/crops.npy', 'wb') as f:
    np.save(f, r.integers(0, 256, (40, 48, 48), dtype=np.uint8))
    np.save(f, r.integers(0, 4, 40).astype(np.int64))
with open(sys.argv[1] + '/many.npy', 'wb') as f:
    np.save(f, r.integers(0, 256, (3000, 48, 48), dtype=np.uint8))
with open(sys.argv[1] + '/small.npy', 'wb') as f:
    np.save(f, r.integers(0, 256, (3, 24, 30), dtype=np.uint8))
with open(sys.argv[1] + '/float.npy', 'wb') as f:
    np.save(f, np.zeros((2, 48, 48), dtype=np.float32))
EOF
emotion-train --arch "$TESTDATA/emotion-predict/tiny.yaml" --epochs 1 --no-augment --threads 1 \
	--no-run-dir -q -o "$T/m.safetensors" "$T/crops.npy" || skip_all "cannot train the test model"
M=$T/m.safetensors
EP="emotion-predict -m $M --cascade $CASC"

# a gray 64x48 frame without a face (smooth gradient), as P5
frame() { # FILE SHADE
	{ printf 'P5\n64 48\n255\n'; $PYTHON -c "
import sys
sys.stdout.buffer.write(bytes((x * 3 + y + $2) % 256 for y in range(48) for x in range(64)))"; } > "$1"
}
frame "$T/a.pgm" 0
frame "$T/b.pgm" 50
cat "$T/a.pgm" "$T/b.pgm" "$T/a.pgm" > "$T/stream.pgm"

# --- options ----------------------------------------------------------
run emotion-predict --help
is "$RC" 0 "--help exits 0"
like "$(cat "$OUT")" "scale-factor=F.*default: 1\.1" "--help shows the scale factor default"
like "$(cat "$OUT")" "min-neighbors=N.*default: 3" "--help shows the min-neighbours default"
like "$(cat "$OUT")" "haarcascade_frontalface_default.xml" "--help names the default cascade"
run $EP --scale-factor 1 "$T/a.pgm"
is "$RC" 64 "--scale-factor 1 is a usage error"
like "$(cat "$ERR")" "scale-factor" "... naming the option"
run $EP --min-size 40x "$T/a.pgm"
is "$RC" 64 "malformed --min-size"
run $EP --min-size 100 --max-size 50 "$T/a.pgm"
is "$RC" 64 "--min-size above --max-size"
run $EP --annotate "$T/x.png" "$T/a.pgm" "$T/b.pgm"
is "$RC" 64 "--annotate with two inputs"
run $EP --bogus
is "$RC" 64 "unknown option"
run emotion-predict -m "$T/nonexistent.safetensors" --cascade "$CASC" "$T/a.pgm"
is "$RC" 2 "missing model: exit 2"
like "$(cat "$ERR")" "^emotion-predict: .*nonexistent\.safetensors" "missing model: message names it"
run emotion-predict -m "$M" --cascade "$T/none.xml" "$T/a.pgm"
is "$RC" 2 "missing cascade: exit 2"
is "$(cat "$ERR")" "emotion-predict: cannot open '$T/none.xml': No such file or directory" \
	"missing cascade: one-line message"
echo '<opencv_storage><x/></opencv_storage>' > "$T/bad.xml"
run emotion-predict -m "$M" --cascade "$T/bad.xml" "$T/a.pgm"
is "$RC" 2 "not a cascade: exit 2"
like "$(cat "$ERR")" "^emotion-predict: $T/bad.xml: not an OpenCV cascade" "not a cascade: message"
printf '<?xml version="1.0" encoding="EUC-JP"?>\n<opencv_storage>\216\0\0\0</opencv_storage>\n' > "$T/enc.xml"
run emotion-predict -m "$M" --cascade "$T/enc.xml" "$T/a.pgm"
is "$RC" 2 "cascade in a broken encoding: exit 2"
is "$(cat "$ERR")" "emotion-predict: $T/enc.xml: not XML: input conversion failed due to input error, bytes 0x8E 0x00 0x00 0x00" \
	"cascade in a broken encoding: one line, libxml2 prints nothing itself"
head -c 2000 "$CASC" > "$T/cut.xml"
run emotion-predict -m "$M" --cascade "$T/cut.xml" "$T/a.pgm"
is "$RC" 2 "truncated cascade: exit 2"
like "$(cat "$ERR")" "^emotion-predict: $T/cut.xml: (not XML|.*malformed|.*no <stages>).*[^\n]$" "truncated cascade: one-line message"
is "$(wc -l < "$ERR")" 1 "truncated cascade: one line"
run emotion-predict -m "$M" --cascade "$T" "$T/a.pgm"
is "$RC" 2 "a directory as cascade: exit 2"
is "$(cat "$ERR")" "emotion-predict: cannot read '$T': Is a directory" "a directory as cascade: message"

# --- frames without faces --------------------------------------------
run $EP "$T/a.pgm"
is "$RC" 0 "an image without a face: exit 0"
is "$(cat "$OUT")" "frame,face,x,y,w,h,angry,happy,sad,neutral,emotion
0,,,,,,,,,,none" "an image without a face: header and one none row"
run $EP --json "$T/a.pgm"
is "$(cat "$OUT")" '{"frame":0,"face":null,"emotion":"none"}' "--json: none line"
run $EP < "$T/stream.pgm"
is "$(cut -d, -f1,11 "$OUT" | tr '\n' ' ')" "frame,emotion 0,none 1,none 2,none " \
	"a PNM stream on stdin: one row per frame"
run $EP "$T/a.pgm" "$T/stream.pgm" "$T/b.pgm"
is "$(tail -n +2 "$OUT" | cut -d, -f1 | tr '\n' ' ')" "0 1 2 3 4 " "frames counted over all inputs"

# --- bad inputs --------------------------------------------------------
printf 'P5\n64 48\n255\nshort' > "$T/trunc.pgm"
printf 'GIF89a-not-an-image' > "$T/bad.gif"
: > "$T/empty"
run $EP "$T/a.pgm" "$T/trunc.pgm" "$T/b.pgm"
is "$RC" 2 "a corrupt file among several: exit 2"
is "$(tail -n +2 "$OUT" | cut -d, -f1 | tr '\n' ' ')" "0 1 " "... the others are processed"
like "$(cat "$ERR")" "^emotion-predict: $T/trunc.pgm: " "... the error names the file"
is "$(wc -l < "$ERR")" 1 "... in one line"
run $EP "$T/bad.gif"
is "$RC" 2 "unknown format: exit 2"
like "$(cat "$ERR")" "bad.gif" "unknown format: named"
run $EP "$T/empty"
is "$RC" 2 "empty file: exit 2"
like "$(cat "$ERR")" "empty" "empty file: said so"
run $EP "$T/missing.png" "$T/a.pgm"
is "$RC" 2 "missing file: exit 2"
is "$(cat "$ERR")" "emotion-predict: cannot open '$T/missing.png': No such file or directory" \
	"missing file: message"
is "$(tail -n +2 "$OUT" | wc -l)" 1 "missing file: the next input still processed"
cat "$T/a.pgm" "$T/b.pgm" "$T/trunc.pgm" > "$T/badstream.pgm"
run $EP < "$T/badstream.pgm"
is "$RC" 2 "corrupt frame in a stream: exit 2"
like "$(cat "$ERR")" "^emotion-predict: stdin: frame 2 " "... the error names the frame"
is "$(tail -n +2 "$OUT" | cut -d, -f1 | tr '\n' ' ')" "0 1 " "... rows already written stay"

# --- face crops (.npy) --------------------------------------------------
run $EP -v "$T/crops.npy"
is "$RC" 0 "crops: exit 0"
is "$(tail -n +2 "$OUT" | wc -l)" 40 "crops: one row per crop"
is "$(sed -n 2p "$OUT" | cut -d, -f1-6)" "0,0,0,0,48,48" "crops: a face at 0,0 of the crop's size"
$PYTHON - "$OUT" > "$T/check" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
names = ['angry', 'happy', 'sad', 'neutral']
good = all(abs(sum(float(r[n]) for n in names) - 1) < 1e-5 and
           r['emotion'] == max(names, key=lambda n: float(r[n])) for r in rows)
print('ok' if good and len(rows) == 40 else 'bad')
EOF
is "$(cat "$T/check")" ok "crops: probabilities sum to 1 and emotion is the most likely class"
like "$(cat "$ERR")" "accuracy on labelled crops: [0-9]+ of 40" "-v scores labelled crops"
run $EP "$T/small.npy"
is "$(tail -n +2 "$OUT" | cut -d, -f1-6 | tr '\n' ' ')" "0,0,0,0,30,24 1,0,0,0,30,24 2,0,0,0,30,24 " \
	"crops of another size are resized; the box is the crop"
run $EP "$T/float.npy"
is "$RC" 2 "float crops: exit 2"
like "$(cat "$ERR")" "expected face crops" "float crops: said so"
head -c 10000 "$T/crops.npy" > "$T/cut.npy"
run $EP "$T/cut.npy"
is "$RC" 2 "truncated crops: exit 2"
like "$(cat "$ERR")" "crop 4 \(frame 4\)" "truncated crops: names the crop"
is "$(tail -n +2 "$OUT" | wc -l)" 4 "truncated crops: the complete crops before are written"
run $EP --detect-only "$T/crops.npy"
is "$RC" 2 "--detect-only on crops: exit 2"

# --- output errors -------------------------------------------------------
run $EP "$T/a.pgm"
$EP "$T/many.npy" 2> "$T/pipe.err" | head -c1 > /dev/null
is "${PIPESTATUS[0]}" 2 "closed stdout: exit 2"
is "$(cat "$T/pipe.err")" "emotion-predict: write error: Broken pipe" "closed stdout: one message, with the reason"
$EP "$T/a.pgm" > /dev/full 2> "$T/full.err"
is "$?" 2 "/dev/full: exit 2"
is "$(cat "$T/full.err")" "emotion-predict: write error: No space left on device" "/dev/full: one message, with the reason"

# --- detection only, -v ---------------------------------------------------
run emotion-predict --detect-only --cascade "$CASC" -m /nonexistent "$T/a.pgm"
is "$RC" 0 "--detect-only needs no model"
is "$(cat "$OUT")" "frame,face,x,y,w,h
0,,,,," "--detect-only: boxes only"
run $EP -v "$T/stream.pgm"
like "$(head -1 "$ERR")" "^emotion-predict: frame 0: 0 faces, detection [0-9.]+ ms, classification [0-9.]+ ms" \
	"-v: per-frame latency"
like "$(tail -1 "$ERR")" "^emotion-predict: 3 frames, 0 faces; mean per frame: detection" "-v: summary"
done_testing
