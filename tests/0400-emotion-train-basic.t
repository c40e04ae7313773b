#!/bin/bash
# emotion-train on a tiny network: run record, determinism, resume,
# fine-tuning, soft labels, evaluation checked against scikit-learn.
. "$(dirname "$0")/lib.sh"
A=$TESTDATA/emotion-train/tiny.yaml
export PYTHONPATH=$TOP/tests

# learnable toy data: the class is the brightest quadrant
$PYTHON - "$T" <<'PY'
import sys, numpy as np
def make(n, seed):
    r = np.random.RandomState(seed)
    y = r.randint(0, 4, n)
    X = r.randint(0, 120, (n, 16, 16))
    for i, c in enumerate(y):
        X[i, (c // 2) * 8:(c // 2) * 8 + 8, (c % 2) * 8:(c % 2) * 8 + 8] += 120
    return X.astype(np.uint8), y.astype(np.int64)
for name, n, seed in (("train", 192, 1), ("val", 64, 2)):
    X, y = make(n, seed)
    with open(sys.argv[1] + "/%s.npy" % name, "wb") as f:
        np.save(f, X); np.save(f, y)
    if name == "train":
        soft = np.full((n, 4), 0.05, np.float32); soft[np.arange(n), y] = 0.85
        with open(sys.argv[1] + "/soft.npy", "wb") as f:
            np.save(f, X); np.save(f, soft)
PY

run emotion-train --help
is "$RC" 0 "--help exits 0"
like "$(cat "$OUT")" "default: 25" "--help shows the epoch default"
like "$(cat "$OUT")" "default: 64" "--help shows the batch default"

train() { emotion-train --arch "$A" --batch 16 --threads 2 "$@"; }

run train --epochs 3 --val "$T/val.npy" --run-dir "$T/run" -o "$T/m.safetensors" "$T/train.npy"
is "$RC" 0 "training exits 0"
is "$(cat "$ERR")" "" "quiet in a pipe"
ok "model written" test -s "$T/m.safetensors"
is "$(head -1 "$T/run/epochs.csv")" "epoch,loss,train_accuracy,val_accuracy,lr,images_per_s,seconds" \
	"epochs.csv header"
is "$(sed 1d "$T/run/epochs.csv" | cut -d, -f1 | tr '\n' ' ')" "1 2 3 " "one line per epoch"
sha=$(sha256sum <"$T/train.npy" | cut -d' ' -f1)
like "$(cat "$T/run/params.yaml")" "train_sha256: $sha" "params.yaml records the data's sha256"
like "$(cat "$T/run/params.yaml")" "batch: 16" "params.yaml records the options"
like "$(cat "$T/run/metrics.yaml")" "val_accuracy: 0\.[0-9]+" "metrics.yaml has the validation accuracy"
run $PYTHON -c "
import torchnet, json
t, m = torchnet.read_safetensors('$T/m.safetensors')
print(m['data_sha256'], json.loads(m['classes']), m['input_shape'], m['normalize'], m['architecture'] == open('$A').read())"
is "$(cat "$OUT")" "$sha ['angry', 'happy', 'sad', 'neutral'] [1, 16, 16] {\"divide\": 255, \"mean\": 0.5, \"std\": 0.25} True" \
	"metadata: data sha256, class names, input shape, normalisation, architecture"

# evaluation against scikit-learn on the Vibify logits
run emotion-train --evaluate --yaml -m "$T/m.safetensors" "$T/val.npy"
is "$RC" 0 "--evaluate --yaml exits 0"
cp "$OUT" "$T/eval.yaml"
"$VB_UNIT/nn-logits" "$T/m.safetensors" < <($PYTHON -c "
import numpy as np, sys
f = open('$T/val.npy', 'rb'); np.save(sys.stdout.buffer, np.load(f))") >"$T/logits.npy"
run $PYTHON - "$T" <<'PY'
import sys, yaml, numpy as np
from sklearn.metrics import accuracy_score, f1_score, confusion_matrix, precision_recall_fscore_support
d = sys.argv[1]
f = open(d + "/val.npy", "rb"); np.load(f); y = np.load(f)
p = np.load(d + "/logits.npy").argmax(1)
e = yaml.safe_load(open(d + "/eval.yaml"))
assert abs(e["accuracy"] - accuracy_score(y, p)) < 6e-5, (e["accuracy"], accuracy_score(y, p))
assert abs(e["macro_f1"] - f1_score(y, p, average="macro", labels=range(4), zero_division=0)) < 6e-5
P, R, F, S = precision_recall_fscore_support(y, p, labels=range(4), zero_division=0)
for i, c in enumerate(e["classes"]):
    assert abs(c["precision"] - P[i]) < 6e-5 and abs(c["recall"] - R[i]) < 6e-5
    assert abs(c["f1"] - F[i]) < 6e-5 and c["support"] == S[i]
assert (np.array(e["confusion"]) == confusion_matrix(y, p, labels=range(4))).all()
assert e["images"] == 64
print("ok")
PY
is "$(cat "$OUT")" "ok" "accuracy, macro-F1, per-class P/R/F1 and confusion matrix match scikit-learn"
run emotion-train --evaluate -m "$T/m.safetensors" "$T/val.npy"
like "$(cat "$OUT")" "^images    64" "table: image count"
like "$(sed -n 6p "$OUT")" "^angry +0\.[0-9]{4} +0\.[0-9]{4} +0\.[0-9]{4} +[0-9]+$" "table: per-class row"
like "$(cat "$OUT")" "confusion matrix \(rows: true class, columns: predicted\)" "table: confusion matrix"
run sh -c "emotion-train --evaluate -m '$T/m.safetensors' < '$T/val.npy'"
is "$RC" 0 "--evaluate reads stdin"

# determinism: same seed and threads -> bit-identical tensors
tensors_equal() {
	$PYTHON -c "
import torchnet, sys, numpy as np
a, _ = torchnet.read_safetensors('$1'); b, _ = torchnet.read_safetensors('$2')
sys.exit(0 if a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a) else 1)"
}
train --epochs 2 --no-run-dir -o "$T/d1.safetensors" "$T/train.npy"
train --epochs 2 --no-run-dir -o "$T/d2.safetensors" "$T/train.npy"
ok "same seed, same model bit for bit" tensors_equal "$T/d1.safetensors" "$T/d2.safetensors"
train --epochs 2 --seed 7 --no-run-dir -o "$T/d3.safetensors" "$T/train.npy"
not_ok "another seed, another model" tensors_equal "$T/d1.safetensors" "$T/d3.safetensors"

# --clean-epochs N: the last N epochs see the faces without augmentation
train --epochs 2 --no-augment --no-run-dir -o "$T/c0.safetensors" "$T/train.npy"
train --epochs 2 --clean-epochs 2 --no-run-dir -o "$T/c2.safetensors" "$T/train.npy"
ok "--clean-epochs 2 of 2 == --no-augment, bit for bit" tensors_equal "$T/c0.safetensors" "$T/c2.safetensors"
train --epochs 2 --run-dir "$T/ra" -o "$T/ca.safetensors" "$T/train.npy"
train --epochs 2 --clean-epochs 1 --run-dir "$T/rc" -o "$T/c1.safetensors" "$T/train.npy"
is "$(sed -n 2p "$T/rc/epochs.csv" | cut -d, -f2,3)" "$(sed -n 2p "$T/ra/epochs.csv" | cut -d, -f2,3)" \
	"--clean-epochs 1 of 2: the first epoch is augmented as usual"
not_ok "--clean-epochs 1 of 2: the second is not" tensors_equal "$T/ca.safetensors" "$T/c1.safetensors"
not_ok "--clean-epochs 1 of 2 differs from --no-augment" tensors_equal "$T/c0.safetensors" "$T/c1.safetensors"
like "$(cat "$T/rc/params.yaml")" "clean_epochs: 1" "params.yaml records --clean-epochs"

# checkpoint + resume == one uninterrupted run
train --epochs 3 --val "$T/val.npy" --patience 0 --no-run-dir -o "$T/r3.safetensors" "$T/train.npy"
train --epochs 2 --val "$T/val.npy" --patience 0 --no-run-dir --checkpoint "$T/ck" -o "$T/r.safetensors" "$T/train.npy"
ok "checkpoint written" test -s "$T/ck/state.safetensors" -a -s "$T/ck/last.safetensors"
run train --epochs 3 --val "$T/val.npy" --patience 0 --no-run-dir --checkpoint "$T/ck" --resume -o "$T/r.safetensors" "$T/train.npy"
is "$RC" 0 "--resume exits 0"
ok "resumed run gives the uninterrupted run's model" tensors_equal "$T/r.safetensors" "$T/r3.safetensors"
meta() { # FILE KEY: a value of the model's __metadata__
	$PYTHON -c "import json, struct, sys
f = open(sys.argv[1], 'rb'); n = struct.unpack('<Q', f.read(8))[0]
print(json.loads(f.read(n))['__metadata__'][sys.argv[2]])" "$1" "$2"
}
is "$(meta "$T/r.safetensors" val_accuracy)" "$(meta "$T/r3.safetensors" val_accuracy)" \
	"resumed run records the uninterrupted run's validation accuracy"
is "$(meta "$T/r.safetensors" best_epoch)" "$(meta "$T/r3.safetensors" best_epoch)" \
	"resumed run records the uninterrupted run's best epoch"

# fine-tuning and soft labels
run emotion-train --init "$T/m.safetensors" --epochs 1 --batch 16 --lr 1e-4 --no-run-dir -o "$T/ft.safetensors" "$T/val.npy"
is "$RC" 0 "--init fine-tunes an existing model"
run train --epochs 1 --no-run-dir --label-smoothing 0.1 --class-weights balanced -o "$T/ls.safetensors" "$T/train.npy"
is "$RC" 0 "label smoothing and balanced class weights"
run train --epochs 1 --no-run-dir --optimizer sgd --schedule cosine --weight-decay 1e-4 -o "$T/sgd.safetensors" "$T/train.npy"
is "$RC" 0 "SGD with a cosine schedule and weight decay"
run train --epochs 1 --no-run-dir -o "$T/soft.safetensors" "$T/soft.npy"
is "$RC" 0 "soft labels (N x K distributions)"
run sh -c "emotion-train --arch '$A' --epochs 1 --batch 16 --no-run-dir -o - '$T/train.npy' > '$T/stdout.safetensors'"
ok "-o - writes the model to stdout" tensors_equal "$T/stdout.safetensors" "$T/stdout.safetensors"

# output errors
run sh -c "emotion-train --evaluate -m '$T/m.safetensors' '$T/val.npy' > /dev/full"
is "$RC" 2 "/dev/full: exit 2"
like "$(cat "$ERR")" "write error" "/dev/full: write error"
run sh -c "emotion-train --evaluate -m '$T/m.safetensors' '$T/val.npy' | head -c1"
is "$RC" 0 "closed pipe: no hang, no crash"
done_testing
