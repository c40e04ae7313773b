#!/bin/bash
# Interop with PyTorch both ways: a network trained in PyTorch and written
# as safetensors (from numpy) gives the same logits in Vibify, and a model
# trained by emotion-train gives the same logits in PyTorch.
. "$(dirname "$0")/lib.sh"
$PYTHON -c 'import torch, yaml' 2>/dev/null || skip_all "python3-torch or python3-yaml missing"
export PYTHONPATH=$TOP/tests

# 1. PyTorch -> Vibify, for the tiny net and the original network
for arch in "$TESTDATA/emotion-train/tiny.yaml" "$TOP/models/vibify.yaml"; do
	a=$(basename "$arch" .yaml)
	run $PYTHON - "$arch" "$T/$a" <<'PY'
import sys, json, numpy as np, torch, torchnet
arch, out = sys.argv[1], sys.argv[2]
text = open(arch).read()
torch.manual_seed(3)
net = torchnet.build(text, 4)
spec = __import__("yaml").safe_load(text)
c, h, w = spec["input"]
norm = spec.get("normalize", {"divide": 255, "mean": 0, "std": 1})
rng = np.random.RandomState(5)
opt = torch.optim.Adam(net.parameters(), 1e-2)
net.train()
for step in range(3):   # non-trivial weights and running statistics
    x = torch.tensor(rng.randint(0, 256, (8, c, h, w)).astype(np.float32))
    x = (x / norm["divide"] - norm["mean"]) / norm["std"]
    loss = torch.nn.functional.cross_entropy(net(x), torch.tensor(rng.randint(0, 4, 8)))
    opt.zero_grad(); loss.backward(); opt.step()
net.eval()
X = rng.randint(0, 256, (6, h, w)).astype(np.uint8)
x = (torch.tensor(X[:, None].astype(np.float32)) / norm["divide"] - norm["mean"]) / norm["std"]
with torch.no_grad():
    z = net(x).numpy()
meta = {"format": "vibify-emotion-model/1", "architecture": text,
        "classes": json.dumps(["angry", "happy", "sad", "neutral"]),
        "normalize": json.dumps(norm)}
torchnet.write_safetensors(out + ".safetensors", torchnet.state_to_numpy(net), meta)
np.save(out + ".x.npy", X)
np.save(out + ".want.npy", z)
PY
	is "$RC" 0 "$a: PyTorch model written"
	run sh -c "'$VB_UNIT/nn-logits' '$T/$a.safetensors' < '$T/$a.x.npy' > '$T/$a.got.npy'"
	is "$RC" 0 "$a: Vibify loads the PyTorch model"
	run $PYTHON -c "
import numpy as np
g, w = np.load('$T/$a.got.npy'), np.load('$T/$a.want.npy')
print('%.3g' % np.abs(g - w).max()); assert g.shape == w.shape and np.abs(g - w).max() <= 1e-4"
	is "$RC" 0 "$a: same logits as PyTorch to 1e-4 (max difference $(cat "$OUT"))"
done

# 2. Vibify -> PyTorch
$PYTHON -c "
import numpy as np
r = np.random.RandomState(1)
with open('$T/train.npy', 'wb') as f:
    np.save(f, r.randint(0, 256, (96, 16, 16)).astype(np.uint8)); np.save(f, r.randint(0, 4, 96))
np.save('$T/x.npy', r.randint(0, 256, (5, 16, 16)).astype(np.uint8))"
run emotion-train --arch "$TESTDATA/emotion-train/tiny.yaml" --epochs 2 --batch 16 --threads 2 \
	--no-run-dir -o "$T/vb.safetensors" "$T/train.npy"
is "$RC" 0 "emotion-train trains the tiny network"
run sh -c "'$VB_UNIT/nn-logits' '$T/vb.safetensors' < '$T/x.npy' > '$T/vb.got.npy'"
is "$RC" 0 "Vibify logits computed"
run $PYTHON - "$T/vb.safetensors" "$T/x.npy" "$T/vb.got.npy" <<'PY'
import sys, json, numpy as np, torch, torchnet
t, meta = torchnet.read_safetensors(sys.argv[1])
net = torchnet.build(meta["architecture"], len(json.loads(meta["classes"])))
net.load_state_dict({k: torch.tensor(v) for k, v in t.items()}, strict=True)
net.eval()
norm = json.loads(meta["normalize"])
X = np.load(sys.argv[2])
x = (torch.tensor(X[:, None].astype(np.float32)) / norm["divide"] - norm["mean"]) / norm["std"]
with torch.no_grad():
    z = net(x).numpy()
g = np.load(sys.argv[3])
print("%.3g" % np.abs(g - z).max())
assert np.abs(g - z).max() <= 1e-4
assert t["bn1.num_batches_tracked"].dtype == np.int64 and int(t["bn1.num_batches_tracked"]) == 12
PY
is "$RC" 0 "PyTorch loads the Vibify model (strict) and gives its logits to 1e-4 ($(cat "$OUT"))"
done_testing
