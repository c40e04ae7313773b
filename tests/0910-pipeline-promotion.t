#!/bin/bash
# make pipeline's promotion gate: a new model replaces the production model
# only if it scores at least as well on the same test split; otherwise the
# previous one stays (rollback); every decision is logged and shown by make runs.
. "$(dirname "$0")/lib.sh"
[ -x "$VB_BIN/emotion-train" ] && [ -x "$VB_BIN/song-cluster" ] && [ -x "$VB_BIN/recommend" ] &&
	[ -x "$VB_BIN/emotion-predict" ] || skip_all "pipeline programs not built"
$PYTHON -c 'import numpy' 2>/dev/null || skip_all "no python3-numpy for the fixture"

mkdir "$T/bin" && cp "$VB_BIN"/* "$T/bin/"
P=(-s -C "$TOP" DATA= PIPE_BUILD= PIPE_BIN="$T/bin" PIPE="$T/p" RUNS_DIR="$T/runs" QUIET=1
   PRODUCTION="$T/models/production.safetensors" PIPE_LOCK="$T/pipeline.lock")
GOOD="--arch testdata/pipeline/arch.yaml --epochs 10 --patience 4"
BAD="--arch testdata/pipeline/arch.yaml --epochs 1 --no-augment --lr 0.00001"

acc() { awk '$1 == "accuracy:" { print $2 }'; }

run make "${P[@]}" TRAIN_FLAGS="$GOOD" pipeline
is "$RC" 0 "first run: exit 0"
like "$(cat "$OUT")" "model promoted: no production model yet" "first model promoted"
sha1=$(sha256sum <"$T/models/production.safetensors")
a1=$("$VB_BIN/emotion-train" --evaluate --yaml -m "$T/models/production.safetensors" <"$T/p/faces/test.npy" | acc)

# a worse recipe: the candidate loses on PrivateTest, the production model stays
sleep 1
run make "${P[@]}" TRAIN_FLAGS="$BAD" pipeline
is "$RC" 0 "changed training flags: exit 0 (a rollback is not a failure)"
like "$(cat "$OUT")" "model rollback: candidate accuracy [0-9.]+ < production $a1: the production model stays" "worse candidate: rollback"
is "$(sha256sum <"$T/models/production.safetensors")" "$sha1" "rollback: production model unchanged"
a2=$("$VB_BIN/emotion-train" --evaluate --yaml -m "$T/p/faces/candidate.safetensors" <"$T/p/faces/test.npy" | acc)
ok "the candidate really is worse ($a2 < $a1)" awk -v a="$a2" -v b="$a1" 'BEGIN { exit !(a < b) }'
r2=$(ls -d "$T"/runs/20* | tail -1)
is "$(sed -n 1p "$r2/promotion.yaml")" "decision: rollback" "rollback recorded in the run"
is "$(awk '$1 == "production_sha256:" { print $2 }' "$r2/promotion.yaml")" "$(echo "$sha1" | cut -c1-64)" "run record holds the kept model's sha256"
like "$(tail -1 "$T/runs/pipeline.log")" " rollback: candidate accuracy" "rollback logged in runs/pipeline.log"
like "$(grep -F "$T/models/production.safetensors" "$T/pipeline.lock")" "^$(echo "$sha1" | cut -c1-64)  " "lock holds the production model"

# the first recipe again: the same model (same seed and data), as good -> promoted
sleep 1
run make "${P[@]}" TRAIN_FLAGS="$GOOD" pipeline
is "$RC" 0 "first recipe again: exit 0"
like "$(cat "$OUT")" "model promoted: candidate accuracy $a1 >= production $a1" "equal accuracy: promoted"
cmp_ok "$T/models/production.safetensors" "$T/p/faces/candidate.safetensors" "equal accuracy: the new candidate installed"

# a production model that cannot be scored (other classes) is replaced, with the reason
cp "$T/p/faces/candidate.safetensors" "$T/keep.safetensors"
printf 'not a model' >"$T/models/production.safetensors"
run env RUNS="$T/runs" BIN="$T/bin" RUN_ID=manual sh "$TOP/scripts/pipeline.sh" promote "$T/keep.safetensors" \
	"$T/p/faces/test.npy" "$T/models/production.safetensors" "$T/runs/manual"
is "$RC" 0 "unscorable production model: exit 0"
like "$(cat "$OUT")" "model promoted: the current model cannot be scored on this test split" "unscorable production model: replaced, with the reason"
cmp_ok "$T/models/production.safetensors" "$T/keep.safetensors" "candidate installed"

# make runs compares them
run make "${P[@]}" runs
is "$RC" 0 "make runs: exit 0"
like "$(sed -n 1p "$OUT")" "^run +architecture +images +epochs +val_acc +test_acc +prod_acc +decision +seconds +stages" "make runs: header"
is "$(awk 'NR > 1 { print $8 }' "$OUT" | tr '\n' ' ')" "promoted rollback promoted promoted " "make runs: one line per run with the decision"
like "$(sed -n 3p "$OUT")" "^20[0-9T]+Z +pipeline-small +800 +1 " "make runs: the rollback run trained 1 epoch"

done_testing
