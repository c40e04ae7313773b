#!/bin/sh
# Make the song-cluster fixtures:
#   catalogue.csv  40 songs in the TidyTuesday schema, 10 per mood, the
#                  mood in the id prefix (hap, ene, sad, cal)
#   songs.csv      catalogue.csv through song-scale (song-cluster's input)
# Every feature has a typical value per mood (mostly major mode for happy
# and calm, minor for energetic and sad), plus uniform noise from a
# Park-Miller generator, so the output is the same everywhere.
# Usage: testdata/song-cluster/gen.sh [song-scale]   (run from anywhere)
set -eu
cd "$(dirname "$0")"
SCALE=${1:-../../bin/song-scale}
awk 'BEGIN {
	x = 20240601
	print "track_id,track_name,track_artist,track_popularity,playlist_genre,playlist_subgenre," \
	      "danceability,energy,key,loudness,mode,speechiness,acousticness,instrumentalness," \
	      "liveness,valence,tempo,duration_ms"
	# prefix danceability energy key loudness major speechiness acousticness
	#        instrumentalness liveness valence tempo
	t[1] = "hap 0.80 0.80 2 -5  0.9 0.08 0.10 0.02 0.15 0.85 122"
	t[2] = "ene 0.45 0.92 5 -4  0.1 0.15 0.03 0.10 0.35 0.25 152"
	t[3] = "sad 0.35 0.20 8 -14 0.1 0.04 0.85 0.05 0.10 0.10 70"
	t[4] = "cal 0.65 0.35 9 -8  0.9 0.05 0.45 0.30 0.12 0.75 100"
	split("pop rock rap edm r&b latin", genre, " ")
	for (g = 1; g <= 4; g++) {
		split(t[g], m, " ")
		for (i = 1; i <= 10; i++) {
			id = sprintf("%s%02d", m[1], i)
			name = sprintf("%s song %d", m[1], i)
			if (id == "hap03") name = "\"Say \"\"Yes\"\", Maybe\""
			if (id == "sad07") name = "\"Rain,\nAgain\""
			printf "%s,%s,Artist %d,%d,%s,sub,", id, name, (g * 7 + i) % 13, 40 + i, genre[(g + i) % 6 + 1]
			printf "%.3f,%.3f,%d,%.2f,%d,", m[2] + u(0.08), m[3] + u(0.06), (m[4] + int(rnd() * 3)) % 12,
				m[5] + u(1.5), rnd() < m[6]
			printf "%.4f,%.4f,%.4f,%.3f,", m[7] + u(0.03), m[8] + u(0.05), m[9] + u(0.02), m[10] + u(0.05)
			printf "%.3f,%.2f,%d\n", m[11] + u(0.06), m[12] + u(6), 150000 + int(rnd() * 90000)
		}
	}
}
function rnd() { x = (x * 16807) % 2147483647; return x / 2147483647 }
function u(w) { return (2 * rnd() - 1) * w }' > catalogue.csv
"$SCALE" catalogue.csv > songs.csv
