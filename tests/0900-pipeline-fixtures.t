#!/bin/bash
# make pipeline on the built-in fixtures: end to end, a second run does
# nothing, a changed song catalogue reruns only the song branch (and the
# demo), make verify, and a failing validation gate with its alert.
. "$(dirname "$0")/lib.sh"
[ -x "$VB_BIN/emotion-train" ] && [ -x "$VB_BIN/song-cluster" ] && [ -x "$VB_BIN/recommend" ] &&
	[ -x "$VB_BIN/emotion-predict" ] || skip_all "pipeline programs not built"
$PYTHON -c 'import numpy' 2>/dev/null || skip_all "no python3-numpy for the fixture"

cp "$TOP/testdata/pipeline/songs.csv" "$T/songs.csv"
# private copies of the programs: a rebuild elsewhere must not rerun stages here
mkdir "$T/bin" && cp "$VB_BIN"/* "$T/bin/"
# everything goes to $T, nothing touches the tree's build/, runs/ or models/
P=(-s -C "$TOP" DATA= PIPE_BUILD= PIPE_BIN="$T/bin" PIPE="$T/p" RUNS_DIR="$T/runs"
   PRODUCTION="$T/models/production.safetensors" PIPE_LOCK="$T/pipeline.lock" SONGS="$T/songs.csv")

mtimes() { stat -c '%n %Y.%y' "$T"/p/faces/* "$T"/p/songs/* "$T"/p/demo/* "$T/pipeline.lock" "$T/models/production.safetensors"; }

run make "${P[@]}" -j2 pipeline
is "$RC" 0 "first run: exit 0"
like "$(head -1 "$OUT")" "^pipeline: no DATA given: running on the built-in fixtures" "says it runs on the built-in fixtures"
for s in faces-prep-Training faces-validate faces-train faces-evaluate-promote songs-scale songs-validate songs-cluster demo-predict demo-recommend; do
	like "$(cat "$OUT")" "pipeline: $s done in" "first run: stage $s ran"
done
like "$(cat "$OUT")" "pipeline: model promoted: no production model yet" "first model promoted"
ok "production model written" test -s "$T/models/production.safetensors"
cmp_ok "$T/models/production.safetensors" "$T/p/faces/candidate.safetensors" "production model is the candidate"
is "$(grep -vc '^#' "$T/pipeline.lock")" 22 "lock lists 22 inputs and outputs"
like "$(grep -F "$T/songs.csv" "$T/pipeline.lock")" "^$(sha256sum <"$T/songs.csv" | cut -c1-64)  " "lock holds the catalogue's sha256"
is "$(head -1 "$T/p/demo/playlist.csv")" "position,id,name,artist,genre,mood,valence,energy,score,why" "demo playlist written"
is "$(($(wc -l <"$T/p/demo/playlist.csv") - 1))" 10 "demo playlist has 10 songs"
is "$(ls "$T/runs" | grep -c '^20')" 1 "one run record"
r=$(ls -d "$T"/runs/20*)
for f in params.yaml epochs.csv metrics.yaml evaluation.yaml promotion.yaml stages.csv; do
	ok "run record has $f" test -s "$r/$f"
done
is "$(($(wc -l <"$r/epochs.csv") - 1))" 10 "one line per epoch"
like "$(grep train_sha256 "$r/params.yaml")" "$(sha256sum <"$T/p/faces/train.npy" | cut -c1-64)" "run record holds the training data's sha256"

# a second run does nothing
mtimes >"$T/m1"
sleep 1
run make "${P[@]}" -j2 pipeline
is "$RC" 0 "second run: exit 0"
is "$(grep -c 'done in' "$OUT")" 0 "second run: no stage ran"
mtimes >"$T/m2"
cmp_ok "$T/m2" "$T/m1" "second run: no output touched"
is "$(ls "$T/runs" | grep -c '^20')" 1 "second run: no new run record"

run make "${P[@]}" verify
is "$RC:$(cat "$OUT")" "0:pipeline: all 22 paths match $T/pipeline.lock" "verify: everything matches"

# change the catalogue: make verify notices; the rerun touches only songs + demo
sleep 1
$PYTHON - "$T/songs.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline='')))
rows[3][1] += ' (remastered)'
rows[4][rows[0].index('valence')] = '0.123'
csv.writer(open(sys.argv[1], 'w', newline=''), lineterminator='\n').writerows(rows)
PY
run make "${P[@]}" verify
is "$RC" 2 "verify after a change: make fails"
like "$(cat "$OUT")" "^changed  $T/songs.csv$" "verify names the changed input"
like "$(tail -1 "$OUT")" "^pipeline: 1 of 22 paths differ" "verify counts the changes"
run make "${P[@]}" -j2 pipeline
is "$RC" 0 "rerun after the change: exit 0"
is "$(grep 'done in' "$OUT" | sed 's/ done in.*//; s/^pipeline: //' | sort | tr '\n' ' ')" \
	"demo-recommend songs-cluster songs-scale songs-validate " "only the song branch and the playlist reran"
ok "faces untouched" cmp -s <(grep /faces/ "$T/m1") <(mtimes | grep /faces/)
run make "${P[@]}" verify
is "$RC" 0 "verify after the rerun: clean"

# a failing gate stops the branch, prints the anomalies and alerts
cp "$T/p/songs/moods.csv" "$T/moods.before"
$PYTHON - "$T/songs.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline='')))
e = rows[0].index('energy')
rows[5][e] = '1.7'
csv.writer(open(sys.argv[1], 'w', newline=''), lineterminator='\n').writerows(rows)
PY
run make "${P[@]}" ALERT_CMD="cat > $T/alert.txt" pipeline
is "$RC" 2 "failing gate: make fails"
like "$(cat "$OUT")" "^error +FLOAT_TYPE_BIG_FLOAT +energy +max 1\.7 is above the domain's max 1" "failing gate: the anomaly is printed"
like "$(cat "$ERR")" "pipeline: stage songs-validate failed: the data has anomalies of severity error" "failing gate: clear message"
like "$(cat "$T/alert.txt" 2>/dev/null)" "^stage songs-validate failed: the data has anomalies .*\(run 20" "ALERT_CMD got the message"
cmp_ok "$T/p/songs/moods.csv" "$T/moods.before" "failing gate: clustering did not run"
like "$(tail -1 "$T/runs/pipeline.log")" "stage songs-validate failed" "failure logged in runs/pipeline.log"
run make "${P[@]}" runs
like "$(tail -1 "$OUT")" "failed: songs-validate" "make runs shows the failed stage"

# a missing input is a clear error
run make "${P[@]}" SONGS="$T/nope.csv" pipeline
is "$RC" 2 "missing catalogue: make fails"
like "$(cat "$ERR")" "pipeline: cannot open '$T/nope.csv': No such file or directory" "missing catalogue: clear message"

# FER2013 as an image tree: the tiny tree of testdata/ is too small for the
# schema, and the faces gate says so
cp "$TOP/testdata/pipeline/songs.csv" "$T/songs.csv"
run make "${P[@]}" FACES="$TOP/testdata/fer2013" pipeline
is "$RC" 2 "tiny image tree: make fails"
like "$(cat "$OUT")" "^error +DATASET_LOW_NUM_EXAMPLES +- +[0-9]+ examples, schema wants at least 100" "tiny image tree: DATASET_LOW_NUM_EXAMPLES"
like "$(cat "$ERR")" "pipeline: stage faces-validate failed: the data has anomalies" "tiny image tree: the faces gate stops the pipeline"

# two pipelines at once (an overlapping cron job): the second one does not start
flock "$T/p/.running" sleep 4 &
sleep 1
run make "${P[@]}" pipeline
is "$RC" 2 "a run already in progress: make fails"
like "$(cat "$ERR")" "pipeline: another run holds $T/p/.running; not starting" "a run already in progress: clear message"
wait

done_testing
