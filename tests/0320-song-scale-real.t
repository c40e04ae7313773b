#!/bin/bash
# song-scale on the real catalogues in $DATA: the TidyTuesday catalogue keeps
# 28,352 songs and its z values equal scikit-learn's StandardScaler's; the
# samples of the other two schemas agree with pandas + StandardScaler too.
. "$(dirname "$0")/lib.sh"
need_data spotify/spotify_songs.csv.gz
$PYTHON -c 'import pandas, sklearn' 2>/dev/null || skip_all "no pandas/sklearn in $PYTHON"
S=$DATA/spotify

run song-scale -v "$S/spotify_songs.csv.gz"
is "$RC" 0 "TidyTuesday catalogue: exit 0"
like "$(cat "$ERR")" "32833 rows read, 5 without id or name, 4476 duplicate ids, 0 with bad features dropped; 28352 kept" \
	"TidyTuesday: counts"
is "$(($(wc -l <"$OUT") - 1))" 28352 "TidyTuesday: 28,352 rows out"
cp "$OUT" "$T/tidy.csv"
zcat "$S/spotify_songs.csv.gz" | song-scale >"$T/tidy-pipe.csv"
cmp_ok "$T/tidy-pipe.csv" "$T/tidy.csv" "TidyTuesday through zcat: same output"

check() { # INPUT OUTPUT ID NAME ARTIST GENRE
	$PYTHON - "$@" <<'PY'
import sys
import numpy as np, pandas as pd
from sklearn.preprocessing import StandardScaler
inp, out, idc, namec, artc, genc = sys.argv[1:7]
F = 'danceability,energy,key,loudness,mode,speechiness,acousticness,instrumentalness,liveness,valence,tempo'.split(',')
d = pd.read_csv(inp).dropna(subset=[idc, namec]).drop_duplicates(idc)
z = StandardScaler().fit_transform(d[F].values)
o = pd.read_csv(out, keep_default_na=False, dtype={'id': str, 'name': str, 'artist': str, 'genre': str})
problems = []
if len(o) != len(d): problems.append('rows %d != %d' % (len(o), len(d)))
else:
    if not (o['id'].values == d[idc].astype(str).values).all(): problems.append('ids differ')
    if not (o['name'].values == d[namec].astype(str).values).all(): problems.append('names differ')
    if artc != '-' and not (o['artist'].values == d[artc].fillna('NA').astype(str).values).all(): problems.append('artists differ')
    if not (o['genre'].values == d[genc].astype(str).values).all(): problems.append('genres differ')
    raw = np.abs(o[F].values - d[F].values).max()
    dz = np.abs(o[['z_' + f for f in F]].values - z).max()
    if raw > 1e-12: problems.append('raw values differ by %g' % raw)
    if not dz <= 1e-6: problems.append('z values differ by %g' % dz)
print('; '.join(problems) or 'ok')
PY
}
is "$(check "$S/spotify_songs.csv.gz" "$T/tidy.csv" track_id track_name track_artist playlist_genre)" ok \
	"TidyTuesday: same rows as pandas, z equal to StandardScaler's within 1e-6"

if [ -e "$S/tracks114k.head50.csv" ]; then
	run song-scale "$S/tracks114k.head50.csv"
	is "$RC" 0 "Kaggle 114k sample: exit 0"
	is "$(check "$S/tracks114k.head50.csv" "$OUT" track_id track_name artists track_genre)" ok \
		"Kaggle 114k sample: equal to pandas + StandardScaler"
else
	skip "no $S/tracks114k.head50.csv"; skip "no $S/tracks114k.head50.csv"
fi
if [ -e "$S/genres_v2.sample238.csv" ]; then
	run song-scale "$S/genres_v2.sample238.csv"
	is "$RC" 0 "genres_v2 sample: exit 0"
	is "$(check "$S/genres_v2.sample238.csv" "$OUT" id song_name - genre)" ok \
		"genres_v2 sample: equal to pandas + StandardScaler"
else
	skip "no $S/genres_v2.sample238.csv"; skip "no $S/genres_v2.sample238.csv"
fi

# a scaler saved on the catalogue applied to it again streams the same output
run song-scale --save-scaler "$T/s.yaml" "$S/spotify_songs.csv.gz"
run song-scale --scaler "$T/s.yaml" "$S/spotify_songs.csv.gz"
cmp_ok "$OUT" "$T/tidy.csv" "TidyTuesday: --scaler reproduces the fit"

done_testing
