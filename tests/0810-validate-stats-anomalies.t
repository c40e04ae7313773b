#!/bin/bash
# validate-stats finds each anomaly type in deliberately broken copies of
# the real TidyTuesday catalogue and of real FER2013 faces, and lets two
# random halves of one data set pass.
. "$(dirname "$0")/lib.sh"
need_data spotify/spotify_songs.csv.gz

zcat "$DATA/spotify/spotify_songs.csv.gz" >"$T/songs.csv"
validate-stats --infer-schema -o "$T/schema.yaml" "$T/songs.csv"
validate-stats -o "$T/base.yaml" "$T/songs.csv"

run validate-stats -s "$T/schema.yaml" -b "$T/base.yaml" "$T/songs.csv"
is "$RC:$(cat "$OUT")" "0:" "the catalogue against its own schema and statistics: clean"
run validate-stats -s "$TOP/schemas/spotify_songs.yaml" "$T/songs.csv"
is "$RC:$(cat "$OUT")" "0:" "the catalogue against schemas/spotify_songs.yaml: clean"

# rule COPY CODE: a broken copy of the catalogue; CODE is Python run over row r
# (a dict) and index i; it may add names to 'drop' (columns), set 'add'
# (new columns) or define keep(i, r).  All copies are made in one pass.
: >"$T/rules"
rule() { printf '%s\t%s\n' "$1" "$2" >>"$T/rules"; }
make_copies() {
	$PYTHON - "$T/songs.csv" "$T" "$T/rules" <<'PY'
import csv, sys
src, d, rules = sys.argv[1], sys.argv[2], sys.argv[3]
base = list(csv.DictReader(open(src, newline='')))
for line in open(rules).read().splitlines():
    name, code = line.split('\t', 1)
    rows = [dict(r) for r in base]
    cols = list(rows[0].keys())
    env = {'drop': set(), 'add': {}}
    for i, r in enumerate(rows):
        env.update(r=r, i=i)
        exec(code, env)
    keep = env.get('keep')
    if keep is not None:
        rows = [r for i, r in enumerate(rows) if keep(i, r)]
    cols = [c for c in cols if c not in env['drop']] + list(env['add'])
    with open(d + '/' + name, 'w', newline='') as f:
        w = csv.writer(f, lineterminator='\n')
        w.writerow(cols)
        for r in rows:
            r.update(env['add'])
            w.writerow([r[c] for c in cols])
PY
}

rule missing.csv "drop.add('tempo')"
rule new.csv "add['lyrics'] = 'la la'"
rule float.csv "r['key'] = '5.5' if i % 100 == 0 else r['key']"
rule intstr.csv "r['key'] = 'C#' if i == 7 else r['key']"
rule nan.csv "r['danceability'] = 'nan' if i % 50 == 0 else r['danceability']"
rule big.csv "r['energy'] = '1.5' if i == 3 else r['energy']"
rule small.csv "r['tempo'] = '-5' if i == 3 else r['tempo']"
rule bigint.csv "r['key'] = '12' if i == 3 else r['key']"
rule notfloat.csv "r['valence'] = 'high' if i == 3 else r['valence']"
rule enum.csv "r['playlist_genre'] = 'polka' if i % 10 == 0 else r['playlist_genre']"
rule absent.csv "r['track_id'] = '' if i % 5 == 0 else r['track_id']"
rule few.csv "keep = lambda i, r: i < 100"
rule rap.csv "keep = lambda i, r: r['playlist_genre'] == 'rap' or i < 17000"
rule quiet.csv "r['energy'] = repr(float(r['energy']) * 0.4)"
rule noname.csv "r['track_name'] = ''"
make_copies

# expect FILE KIND [COLUMN] [BASELINE]: validate and look for KIND
expect() {
	local f=$1 kind=$2 col=${3:-} b=${4:-}
	run validate-stats -s "$T/schema.yaml" ${b:+-b "$T/base.yaml"} "$T/$f"
	is "$RC" 1 "$kind: exit 1"
	like "$(cat "$OUT")" "^error +$kind +${col:--} " "$kind found${col:+ in $col}"
	like "$(cat "$ERR")" "^validate-stats: '.*$f': [0-9]+ anomalies, [0-9]+ of severity error$" "$kind: summary on stderr"
}

expect missing.csv SCHEMA_MISSING_COLUMN tempo
run validate-stats -s "$T/schema.yaml" "$T/new.csv"
is "$RC" 0 "SCHEMA_NEW_COLUMN is a warning: exit 0"
like "$(cat "$OUT")" "^warning +SCHEMA_NEW_COLUMN +lyrics " "SCHEMA_NEW_COLUMN found"
expect float.csv INT_TYPE_HAS_FLOAT key
expect intstr.csv INT_TYPE_NOT_INT_STRING key
expect nan.csv FLOAT_TYPE_HAS_NAN danceability
expect big.csv FLOAT_TYPE_BIG_FLOAT energy
expect small.csv FLOAT_TYPE_SMALL_FLOAT tempo
expect bigint.csv INT_TYPE_BIG_INT key
expect notfloat.csv FLOAT_TYPE_NOT_FLOAT_STRING valence
expect enum.csv ENUM_TYPE_UNEXPECTED_STRING_VALUES playlist_genre
like "$(cat "$OUT")" "'polka'" "ENUM_TYPE_UNEXPECTED_STRING_VALUES names the value"
expect absent.csv FEATURE_TYPE_LOW_FRACTION_PRESENT track_id
expect few.csv DATASET_LOW_NUM_EXAMPLES
expect noname.csv FEATURE_TYPE_LOW_NUMBER_PRESENT track_name
expect rap.csv COMPARATOR_L_INFTY_HIGH playlist_genre base
expect quiet.csv COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH energy base

# two random halves of the catalogue pass the schema and each other's drift check
$PYTHON - "$T/songs.csv" "$T/h1.csv" "$T/h2.csv" <<'PY'
import sys, random
random.seed(11)
lines = open(sys.argv[1], newline='').read().split('\n')
head, rows = lines[0], [l for l in lines[1:] if l]
random.shuffle(rows)
n = len(rows) // 2
for path, part in ((sys.argv[2], rows[:n]), (sys.argv[3], rows[n:])):
    open(path, 'w').write('\n'.join([head] + part) + '\n')
PY
validate-stats -o "$T/h1.yaml" "$T/h1.csv"
run validate-stats -s "$T/schema.yaml" -b "$T/h1.yaml" "$T/h2.csv"
is "$RC:$(cat "$OUT")" "0:" "two random halves: no anomaly (schema of the whole, drift of one half against the other)"
run validate-stats -b "$T/h1.yaml" "$T/h2.csv"
is "$RC:$(cat "$OUT")" "0:" "two random halves: no drift at the default threshold"

# the other catalogue schemas: a sample passes its own schema, and
# song-scale's output of it passes schemas/song-scale.yaml
sample_passes() { # NAME SCHEMA FILE
	run validate-stats -s "$TOP/schemas/$2" "$3"
	is "$RC:$(cat "$OUT")" "0:" "the $1 sample passes schemas/$2"
	song-scale "$3" >"$T/$1.scaled.csv"
	run validate-stats -s "$TOP/schemas/song-scale.yaml" "$T/$1.scaled.csv"
	is "$RC:$(cat "$OUT")" "0:" "song-scale's output of the $1 sample passes schemas/song-scale.yaml"
}
if [ -e "$DATA/spotify/tracks114k.head50.csv" ]; then
	sample_passes 114k tracks114k.yaml "$DATA/spotify/tracks114k.head50.csv"
	# a bool column with a word in it
	sed '5s/,False,/,maybe,/' "$DATA/spotify/tracks114k.head50.csv" >"$T/t114.csv"
	run validate-stats -s "$TOP/schemas/tracks114k.yaml" "$T/t114.csv"
	like "$RC:$(cat "$OUT")" "^1:error +BOOL_TYPE_UNEXPECTED_STRING +explicit +1 values that are not true/false" "BOOL_TYPE_UNEXPECTED_STRING found"
else
	skip "no tracks114k sample"
fi
if [ -e "$DATA/spotify/genres_v2.sample238.csv" ]; then
	sample_passes genres_v2 genres_v2.yaml "$DATA/spotify/genres_v2.sample238.csv"
else
	skip "no genres_v2 sample"
fi

# anomalies as YAML
run validate-stats --yaml -s "$T/schema.yaml" "$T/nan.csv"
ok "--yaml anomalies parse as YAML with kind, severity, column, description" $PYTHON -c '
import sys, yaml
a = yaml.safe_load(open(sys.argv[1]))["anomalies"]
sys.exit(not (a[0]["kind"] == "FLOAT_TYPE_HAS_NAN" and a[0]["severity"] == "error" and a[0]["column"] == "danceability" and "NaN" in a[0]["description"]))' "$OUT"

# --- faces: fer-prep output of real FER2013 images ----------------------------
if [ -d "$DATA/fer2013/test" ] && [ -x "$VB_BIN/fer-prep" ]; then
	fer-prep --split PrivateTest "$DATA/fer2013" >"$T/priv.npy"
	run validate-stats -s "$TOP/schemas/fer-prep.yaml" "$T/priv.npy"
	is "$RC:$(cat "$OUT")" "0:" "PrivateTest faces pass schemas/fer-prep.yaml"
	fer-prep --classes all --split PrivateTest "$DATA/fer2013" >"$T/priv7.npy"
	run validate-stats -s "$TOP/schemas/fer-prep.yaml" "$T/priv7.npy"
	like "$RC:$(cat "$OUT")" "^1:error +INT_TYPE_BIG_INT +y " "7 classes against the 4-class schema: INT_TYPE_BIG_INT"
	run validate-stats -s "$TOP/schemas/fer-prep-all.yaml" "$T/priv7.npy"
	is "$RC" 0 "7 classes pass schemas/fer-prep-all.yaml"
	$PYTHON - "$T/priv.npy" "$T" <<'PY'
import sys, numpy as np
f = open(sys.argv[1], 'rb'); X = np.load(f); y = np.load(f); d = sys.argv[2]
def save(name, *arrs):
    with open(d + '/' + name, 'wb') as f:
        for a in arrs: np.save(f, a)
save('small.npy', X[:, :32, :32].copy(), y)            # wrong image size
save('float.npy', X.astype(np.float32) / 255, y)       # scaled floats
Xn = X.astype(np.float32); Xn[0, 0, 0] = np.nan
save('nanx.npy', Xn, y)
save('happy.npy', X[y == 1], y[y == 1])                # one class only
PY
	run validate-stats -s "$TOP/schemas/fer-prep.yaml" "$T/small.npy"
	like "$(cat "$OUT")" "^error +FEATURE_TYPE_LOW_NUMBER_VALUES +X +1024 values per example, schema wants 2304" "32x32 faces: FEATURE_TYPE_LOW_NUMBER_VALUES"
	run validate-stats -s "$TOP/schemas/fer-prep.yaml" "$T/float.npy"
	like "$(cat "$OUT")" "^error +INT_TYPE_HAS_FLOAT +X " "float pixels: INT_TYPE_HAS_FLOAT"
	run validate-stats -s "$TOP/schemas/fer-prep.yaml" "$T/nanx.npy"
	like "$(cat "$OUT")" "INT_TYPE_HAS_FLOAT +X " "NaN pixel: reported"
	validate-stats -o "$T/priv.yaml" "$T/priv.npy"
	run validate-stats -s "$TOP/schemas/fer-prep.yaml" -b "$T/priv.yaml" "$T/happy.npy"
	like "$(cat "$OUT")" "^error +COMPARATOR_L_INFTY_HIGH +y " "one class only: label drift"
	fer-prep --split PublicTest "$DATA/fer2013" >"$T/pub.npy"
	run validate-stats -s "$TOP/schemas/fer-prep.yaml" -b "$T/priv.yaml" "$T/pub.npy"
	is "$RC:$(cat "$OUT")" "0:" "PublicTest against PrivateTest statistics: no drift"
else
	skip "no FER2013 images or no fer-prep"
fi

done_testing
