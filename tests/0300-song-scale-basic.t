#!/bin/bash
# song-scale on the three schemas: exact outputs computed independently
# (testdata/song-scale/gen.py), cleaning counts, options, scalers.
. "$(dirname "$0")/lib.sh"
D=$TESTDATA/song-scale

for s in tidy kaggle genres; do
	run song-scale "$D/$s.csv"
	is "$RC" 0 "$s: exit 0"
	cmp_ok "$OUT" "$D/$s.ok" "$s: output as computed independently"
	is "$(cat "$ERR")" "" "$s: quiet without -v"
done

run song-scale -v "$D/tidy.csv"
like "$(cat "$ERR")" "schema tidytuesday" "-v names the schema found"
like "$(cat "$ERR")" "12 rows read, 2 without id or name, 1 duplicate ids, 0 with bad features dropped; 9 kept" \
	"-v reports what was dropped"
run song-scale -v "$D/kaggle.csv"
like "$(cat "$ERR")" "schema kaggle114k" "kaggle schema detected"
like "$(sed -n 3p "$OUT")" "^k1XyZ,Song 1,Singer 0;Singer 1,acoustic," "';'-separated artists kept as they are"
run song-scale -v "$D/genres.csv"
like "$(cat "$ERR")" "schema genres_v2" "genres_v2 schema detected (BOM, CRLF)"

# stdin, '-', gzip through a pipe and as a file
song-scale <"$D/tidy.csv" >"$T/stdin.csv"
cmp_ok "$T/stdin.csv" "$D/tidy.ok" "reads stdin"
song-scale - <"$D/tidy.csv" >"$T/dash.csv"
cmp_ok "$T/dash.csv" "$D/tidy.ok" "reads '-'"
gzip -c "$D/tidy.csv" >"$T/tidy.csv.gz"
song-scale "$T/tidy.csv.gz" >"$T/gz.csv"
cmp_ok "$T/gz.csv" "$D/tidy.ok" "reads a gzip file"
gzip -c "$D/genres.csv" | song-scale >"$T/gzpipe.csv"
cmp_ok "$T/gzpipe.csv" "$D/genres.ok" "reads gzip from a pipe"
song-scale -o "$T/o.csv" "$D/kaggle.csv"
cmp_ok "$T/o.csv" "$D/kaggle.ok" "-o FILE"

# a byte-order mark split across pipe reads
(printf '\357'; sleep 0.2; printf '\273'; sleep 0.2; printf '\277id,name,x\n1,n,2\n2,m,4\n') |
	song-scale --id-col id --name-col name --features x >"$T/bom.csv"
is "$(cat "$T/bom.csv" | tr '\n' ' ')" "id,name,artist,genre,x,z_x 1,n,,,2,-1 2,m,,,4,1 " "BOM split across reads"

# features
run song-scale --features energy,tempo "$D/tidy.csv"
cmp_ok "$OUT" "$D/tidy-energy-tempo.ok" "--features selects and orders"
run song-scale --features ' energy , tempo ' "$D/tidy.csv"
cmp_ok "$OUT" "$D/tidy-energy-tempo.ok" "--features tolerates spaces"

# explicit columns and --schema
sed '1s/track_id/tid/; 1s/track_name/title/; 1s/track_artist/who/; 1s/playlist_genre/style/' "$D/tidy.csv" >"$T/other.csv"
run song-scale "$T/other.csv"
is "$RC" 2 "unknown header: exit 2"
like "$(cat "$ERR")" "^song-scale: '.*other.csv': unknown schema \(header 'tid,\.\.\.'\); use --schema or --id-col and --name-col$" "unknown header: clear message"
run song-scale --id-col tid --name-col title --artist-col who --genre-col style "$T/other.csv"
cmp_ok "$OUT" "$D/tidy.ok" "--id-col --name-col --artist-col --genre-col"
run song-scale --id-col tid --name-col title "$T/other.csv"
is "$(sed -n 2p "$OUT" | cut -d, -f1-5)" "trk00AbC,Blue Hour,,,0.2" "artist and genre optional"
run song-scale --schema genres_v2 "$D/genres.csv"
cmp_ok "$OUT" "$D/genres.ok" "--schema genres_v2"
run song-scale --schema kaggle114k "$D/tidy.csv"
is "$RC" 2 "--schema that does not fit: exit 2"
like "$(cat "$ERR")" "no artist column 'artists' in the header" "--schema that does not fit: names the column"

# scalers: save, then apply to the same songs (same output) and to others
run song-scale --save-scaler "$T/s.yaml" "$D/tidy.csv"
cmp_ok "$OUT" "$D/tidy.ok" "--save-scaler leaves the output alone"
like "$(grep -c 'name:' "$T/s.yaml")" "^11$" "scaler lists 11 features"
like "$(grep -A2 'name: energy' "$T/s.yaml" | tr '\n' ' ')" "mean: 0\.[0-9]+ +std: 0\.[0-9]+" "scaler has mean and std"
run song-scale --scaler "$T/s.yaml" "$D/tidy.csv"
cmp_ok "$OUT" "$D/tidy.ok" "--scaler reproduces the fitted output"
run song-scale --scaler "$T/s.yaml" --features tempo,energy "$D/tidy.csv"
is "$(head -1 "$OUT")" "id,name,artist,genre,tempo,energy,z_tempo,z_energy" "--scaler with --features picks from the scaler"
is "$(sed -n 2p "$OUT" | cut -d, -f1,5,7)" "$(cut -d, -f1,6,8 "$D/tidy-energy-tempo.ok" | sed -n 2p)" \
	"--scaler subset gives the same numbers"
run song-scale --scaler "$T/s.yaml" "$D/kaggle.csv"
is "$RC" 0 "--scaler on other songs"
is "$($PYTHON - "$T/s.yaml" "$D/kaggle.csv" "$OUT" 2>&1 <<'PY'
import csv, sys, yaml
sc = yaml.safe_load(open(sys.argv[1]))
raw = list(csv.DictReader(open(sys.argv[2], newline='')))
out = list(csv.DictReader(open(sys.argv[3], newline='')))
bad = sum(float(o['z_' + f['name']]) != (float(r[f['name']]) - f['mean']) / f['std']
          for r, o in zip(raw, out) for f in sc['features'])
print('ok' if bad == 0 and len(out) == len(raw) == 6 else 'bad %d' % bad)
PY
)" ok "--scaler values equal (x - mean) / std with the saved numbers"

# --na-values
run song-scale -v --na-values '' "$D/tidy.csv"
like "$(cat "$ERR")" "1 without id or name, 1 duplicate ids, 0 with bad features dropped; 10 kept" \
	"--na-values '' keeps a song called NA"

# help, version, usage errors
run song-scale --help
is "$RC" 0 "--help exits 0"
like "$(tr -s '\n ' '  ' <"$OUT")" "default: danceability,energy,key,loudness,mode,speechiness,acousticness,instrumentalness,liveness,valence,tempo" "--help shows the default features"
like "$(cat "$OUT")" "default: auto" "--help shows the default schema"
run song-scale --version
like "$(cat "$OUT")" "^song-scale \(vibify\) " "--version"
run song-scale --schema nope "$D/tidy.csv"
is "$RC" 64 "unknown --schema: exit 64"
like "$(cat "$ERR")" "unknown --schema 'nope'" "unknown --schema: message"
run song-scale --scaler "$T/s.yaml" --save-scaler "$T/x.yaml" "$D/tidy.csv"
is "$RC" 64 "--scaler with --save-scaler: exit 64"
run song-scale a b
is "$RC" 64 "two inputs: exit 64"
run song-scale --features energy,energy "$D/tidy.csv"
is "$RC" 64 "a feature named twice: exit 64"
like "$(cat "$ERR")" "feature 'energy' named twice" "a feature named twice: message"
run song-scale --features 'energy,,tempo' "$D/tidy.csv"
is "$RC" 64 "empty feature name: exit 64"
run song-scale --bogus
is "$RC" 64 "unknown option: exit 64"

done_testing
