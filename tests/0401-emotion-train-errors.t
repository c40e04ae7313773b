#!/bin/bash
# emotion-train: usage errors (64) and bad data or models (2), each with a
# clear one-line message, caught before any training starts.
. "$(dirname "$0")/lib.sh"
A=$TESTDATA/emotion-train/tiny.yaml
export PYTHONPATH=$TOP/tests

$PYTHON - "$T" <<'PY'
import sys, json, numpy as np, torchnet
d = sys.argv[1]
r = np.random.RandomState(0)
X = r.randint(0, 256, (8, 16, 16)).astype(np.uint8)
y = r.randint(0, 4, 8)
def w(name, *arrs):
    with open(d + "/" + name, "wb") as f:
        for a in arrs:
            np.save(f, a)
w("ok.npy", X, y)
w("only-x.npy", X)
w("count.npy", X, y[:5])
w("range.npy", X, np.array([0, 1, 2, 3, 4, 5, 6, 9]))
w("negative.npy", X, np.array([0, 1, -1, 3, 0, 1, 2, 3]))
w("size.npy", r.randint(0, 256, (8, 20, 20)).astype(np.uint8), y)
Xf = X.astype(np.float32); Xf[3, 2, 2] = np.nan
w("nan.npy", Xf, y)
w("rgb.npy", r.randint(0, 256, (8, 16, 16, 3)).astype(np.uint8), y)
w("strlabels.npy", X, np.array(["a"] * 8))
soft = np.full((8, 4), 0.3, np.float32)
w("softsum.npy", X, soft)
open(d + "/trunc.npy", "wb").write(open(d + "/ok.npy", "rb").read()[:700])
open(d + "/garbage.safetensors", "wb").write(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all")
open(d + "/huge.safetensors", "wb").write(b"\xff" * 8 + b"{}")
torchnet.write_safetensors(d + "/noarch.safetensors", {"a": np.zeros(2, np.float32)}, {"x": "y"})
arch = "input: [1, 4, 4]\nlayers:\n  - {type: flatten}\n  - {type: dense, name: fc, units: classes}\n"
m = {"architecture": arch, "classes": json.dumps(["a", "b"])}
torchnet.write_safetensors(d + "/missing.safetensors", {"fc.weight": np.zeros((2, 16), np.float32)}, m)
torchnet.write_safetensors(d + "/shape.safetensors", {"fc.weight": np.zeros((2, 15), np.float32),
                           "fc.bias": np.zeros(2, np.float32)}, m)
bad = np.zeros((2, 16), np.float32); bad[0, 0] = np.nan
torchnet.write_safetensors(d + "/nanw.safetensors", {"fc.weight": bad, "fc.bias": np.zeros(2, np.float32)}, m)
open(d + "/bad.yaml", "w").write("layers:\n  - {type: conv, filters: 4, kernal: 3}\n")
PY

usage() { # DESC WANT-REGEX ARGS...
	local d=$1 w=$2; shift 2
	run emotion-train "$@"
	is "$RC" 64 "$d: exit 64"
	like "$(cat "$ERR")" "$w" "$d: message"
}
usage "no -o" "needs -o MODEL" "$T/ok.npy"
usage "--epochs 0" "--epochs" --epochs 0 -o "$T/x" "$T/ok.npy"
usage "--batch abc" "--batch" --batch abc -o "$T/x" "$T/ok.npy"
usage "--resume without --checkpoint" "needs --checkpoint" --resume -o "$T/x" "$T/ok.npy"
usage "--evaluate without -m" "needs -m" --evaluate "$T/ok.npy"
usage "unknown optimizer" "unknown --optimizer" --optimizer rmsprop -o "$T/x" "$T/ok.npy"
usage "two inputs" "one input file" -o "$T/x" "$T/ok.npy" "$T/ok.npy"
usage "--init with --arch" "drop --arch" --init "$T/x" --arch "$A" -o "$T/x" "$T/ok.npy"
usage "--clean-epochs with --no-augment" "drop --no-augment" --clean-epochs 2 --no-augment -o "$T/x" "$T/ok.npy"
usage "--clean-epochs -1" "--clean-epochs" --clean-epochs -1 -o "$T/x" "$T/ok.npy"
usage "--classes with one name" "--classes 'angry' names a single class" --classes angry -o "$T/x" "$T/ok.npy"

# --classes all: the 7 FER2013 names, as fer-prep's option
run emotion-train --no-run-dir -q --epochs 1 --arch "$A" --classes all -o "$T/all.safetensors" "$T/range.npy"
is "$RC" 2 "--classes all, label 9: exit 2"
like "$(cat "$ERR")" "label 9 is out of range for 7 classes" "--classes all: 7 classes"

bad() { # DESC WANT-REGEX ARGS...
	local d=$1 w=$2; shift 2
	run emotion-train --no-run-dir "$@"
	is "$RC" 2 "$d: exit 2"
	like "$(cat "$ERR")" "^emotion-train: .*$w" "$d: message"
	is "$(wc -l <"$ERR")" 1 "$d: one line"
}
tr() { bad "$@" --arch "$A" -o "$T/out.safetensors"; }
bad "missing file" "cannot open '$T/nope.npy'" --arch "$A" -o "$T/out.safetensors" "$T/nope.npy"
run sh -c "emotion-train --no-run-dir --arch '$A' -o '$T/out.safetensors' < /dev/null"
is "$RC" 2 "empty input: exit 2"
like "$(cat "$ERR")" "empty input" "empty input: message"
tr "labels missing" "labels y missing" "$T/only-x.npy"
tr "count mismatch" "8 images but 5 labels" "$T/count.npy"
tr "truncated stream" "truncated" "$T/trunc.npy"
tr "negative label" "label -1 of image 2" "$T/negative.npy"
tr "NaN pixel" "image 3 has a NaN" "$T/nan.npy"
tr "color images" "one gray channel" "$T/rgb.npy"
tr "string labels" "labels: unsupported dtype" "$T/strlabels.npy"
tr "soft labels not summing to 1" "sums to 1.2" "$T/softsum.npy"
tr "wrong image size" "images are 20x20, the architecture takes 1x16x16" "$T/size.npy"
bad "labels beyond --classes" "label 9 is out of range for 3 classes" --arch "$A" --classes a,b,c -o "$T/out.safetensors" "$T/range.npy"
bad "bad architecture" "unknown key 'kernal'" --arch "$T/bad.yaml" -o "$T/out.safetensors" "$T/ok.npy"
bad "missing architecture" "cannot open '$T/none.yaml'" --arch "$T/none.yaml" -o "$T/out.safetensors" "$T/ok.npy"
ok "nothing written on bad input" test ! -e "$T/out.safetensors"

ev() { bad "$1" "$2" --evaluate -m "$3" "$T/ok.npy"; }
ev "model: no file" "cannot open '$T/none.safetensors'" "$T/none.safetensors"
ev "model: not safetensors" "bad safetensors header" "$T/garbage.safetensors"
ev "model: absurd header length" "not a safetensors file" "$T/huge.safetensors"
ev "model: no architecture" "no 'architecture'" "$T/noarch.safetensors"
ev "model: missing tensor" "missing tensor 'fc.bias'" "$T/missing.safetensors"
ev "model: wrong shape" "tensor 'fc.weight' has the wrong shape" "$T/shape.safetensors"
ev "model: NaN weight" "NaN" "$T/nanw.safetensors"
ev "model: an .npy, not a model" "not a safetensors file" "$T/ok.npy"
bad "fine-tune from a bad model" "bad safetensors header" --init "$T/garbage.safetensors" -o "$T/out.safetensors" "$T/ok.npy"
done_testing
