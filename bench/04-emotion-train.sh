#!/bin/sh
# emotion-train against PyTorch 1.13 (bench/04-emotion-train-peer.py) on the
# same network (models/vibify.yaml), data (4,096 FER2013 Training faces, 4
# classes), batch size (64), optimiser (Adam) and thread count (2), without
# augmentation: training images/s (median of the epochs, then of RUNS
# interleaved runs) and peak RSS of the whole training process
# (/usr/bin/time); then batch-1, one-thread inference latency (median of 200
# forward passes, RUNS times) and the floor this core's sgemm speed sets for
# it (forward FLOPs / single-core sgemm GFLOP/s, tests/unit/nn-bench.c).
. "$(dirname "$0")/lib.sh"
RUNS=${RUNS:-3}
EPOCHS=${EPOCHS:-2}
ARCH=models/vibify.yaml
SRC=$DATA/fer2013
if [ ! -d "$SRC/train" ]; then
	echo "### emotion-train: skipped (no $SRC)"
	exit 0
fi
for p in bin/fer-prep bin/emotion-train build/rel/unit/nn-bench; do
	[ -x "$p" ] || { echo "bench: $p not built (make)" >&2; exit 2; }
done

bin/fer-prep --split Training "$SRC/train" > "$W/all.npy"
$PY -c "
import numpy as np
f = open('$W/all.npy', 'rb'); X = np.load(f); y = np.load(f)
i = np.random.RandomState(0).permutation(len(y))[:4096]
with open('$W/train.npy', 'wb') as g:
    np.save(g, X[i]); np.save(g, y[i])"

: > "$W/vb"; : > "$W/py"; : > "$W/lvb"; : > "$W/lpy"
i=0
while [ $i -lt "$RUNS" ]; do
	rm -rf "$W/run"
	/usr/bin/time -f "%M" -o "$W/mem" bin/emotion-train --arch $ARCH --no-augment \
		--epochs "$EPOCHS" --batch 64 --threads 2 --run-dir "$W/run" -o "$W/m.safetensors" "$W/train.npy"
	ips=$(sed 1d "$W/run/epochs.csv" | cut -d, -f6 | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
	echo "$ips $(cat "$W/mem")" >> "$W/vb"
	/usr/bin/time -f "%M" -o "$W/mem" $PY bench/04-emotion-train-peer.py train $ARCH "$W/train.npy" "$EPOCHS" > "$W/out"
	echo "$(cat "$W/out") $(cat "$W/mem")" >> "$W/py"
	build/rel/unit/nn-bench $ARCH 200 >> "$W/lvb"
	$PY bench/04-emotion-train-peer.py infer $ARCH 200 >> "$W/lpy"
	i=$((i + 1))
done
vi=$(med "$W/vb" 1); pi=$(med "$W/py" 1)
vm=$(med "$W/vb" 2); pm=$(med "$W/py" 2)
vl=$(med "$W/lvb" 1); pl=$(med "$W/lpy" 1)
fl=$(med "$W/lvb" 2); gf=$(med "$W/lvb" 3); floor=$(med "$W/lvb" 4)
echo "### emotion-train: models/vibify.yaml, 4,096 FER2013 faces, batch 64, Adam, no augmentation"
echo
echo "| measure (median of $RUNS interleaved runs) | PyTorch 1.13 | emotion-train | ratio |"
echo "|---|---|---|---|"
awk -v p="$pi" -v v="$vi" 'BEGIN { printf "| training images/s, 2 threads (median of %d epochs) | %.1f | %.1f | %.2fx faster |\n", '"$EPOCHS"', p, v, v / p }'
awk -v p="$pm" -v v="$vm" 'BEGIN { printf "| training peak RSS, MiB | %.0f | %.0f | %.2fx the memory |\n", p / 1024, v / 1024, v / p }'
awk -v p="$pl" -v v="$vl" 'BEGIN { printf "| inference, 1 face, 1 thread, ms | %.3f | %.3f | %.2fx faster |\n", p, v, p / v }'
awk -v f="$fl" -v g="$gf" -v fl="$floor" -v v="$vl" 'BEGIN { printf "| sgemm floor for 1 face: %.1f MFLOP / %.1f GFLOP/s, ms | | %.3f | %.2fx the floor |\n", f / 1e6, g, fl, v / fl }'
