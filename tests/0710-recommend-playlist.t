# recommend: playlists on the fixture catalogue -- columns, the mood point
# from emotions CSV (4 and 7 classes), match/lift/calm/energize trends,
# diversity rules.
. "$(dirname "$0")/lib.sh"
S=$TESTDATA/recommend/songs.csv
E=$TESTDATA/recommend
export XDG_DATA_HOME=$T/xdg     # an empty feedback log

# column helper: csvcol FILE NAME -> one value per line (RFC 4180 aware)
csvcol() { $PYTHON -c '
import csv, sys
for r in csv.DictReader(open(sys.argv[1])): print(r[sys.argv[2]])' "$1" "$2"; }

run recommend -s "$S" -e sad -n 10
is "$RC" 0 "match sad: exit 0"
is "$(head -1 "$OUT")" "position,id,name,artist,genre,mood,valence,energy,score,why" "header"
cp "$OUT" "$T/sad.csv"
is "$(csvcol "$T/sad.csv" id | wc -l)" 10 "-n 10 gives 10 songs"
cmp_ok "$T/sad.csv" "$E/match-sad.ok" "match sad: the expected playlist"
is "$(csvcol "$T/sad.csv" position | tr '\n' ' ')" "1 2 3 4 5 6 7 8 9 10 " "positions 1..10"
is "$(csvcol "$T/sad.csv" why | sort -u)" "matches your mood (sad)" "why: the mood"
is "$(cat "$ERR")" "" "nothing on stderr"

run recommend -s "$S" -e happy
is "$(csvcol "$OUT" id | wc -l)" 20 "-n defaults to 20"

# every song near the sad point: valence and energy both below 0.45
far=$(csvcol "$T/sad.csv" valence | awk '$1 > 0.45' | wc -l)
is "$far" 0 "match sad: every valence below 0.45"
far=$(csvcol "$T/sad.csv" energy | awk '$1 > 0.45' | wc -l)
is "$far" 0 "match sad: every energy below 0.45"

# emotions CSV on stdin: 4 and 7 class columns give the same point
run recommend -s "$S" -n 12 -v < "$E/emotions4.csv"
is "$RC" 0 "4-class emotions on stdin"
cp "$OUT" "$T/e4.csv"
like "$(cat "$ERR")" "mood: sad \(valence 0\.297, energy 0\.363\)" "mood point: mean of 3 faces, weighted class points"
run recommend -s "$S" -n 12 < "$E/emotions7.csv"
cmp_ok "$OUT" "$T/e4.csv" "7-class columns: the same playlist"

# properties of every mode, over several starting emotions
check_rules() { # FILE DESC
	$PYTHON - "$1" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
ids = [r["id"] for r in rows]
keys = [(r["artist"], r["name"]) for r in rows]
bad = []
if len(set(ids)) != len(ids): bad.append("repeated id")
if len(set(keys)) != len(keys): bad.append("repeated song")
for a, b in zip(rows, rows[1:]):
    if a["artist"] == b["artist"]: bad.append("artist twice in a row: " + a["artist"])
print(" ".join(bad) or "ok")
PY
}
for m in match lift calm energize; do
	for e in angry sad happy neutral fear; do
		recommend -s "$S" -e $e -m $m -n 30 > "$T/p.csv"
		is "$(check_rules "$T/p.csv")" ok "$m from $e: no repeats, no artist twice in a row"
	done
done

quarters() { # FILE COLUMN -> means of the 4 quarters, 3 decimals
	$PYTHON - "$1" "$2" <<'PY'
import csv, sys
v = [float(r[sys.argv[2]]) for r in csv.DictReader(open(sys.argv[1]))]
q = len(v) // 4
print(" ".join("%.3f" % (sum(v[i*q:(i+1)*q]) / q) for i in range(4)))
PY
}
rising() { awk '{ for (i = 2; i <= NF; i++) if ($i <= $(i-1)) { print "no"; exit } print "yes" }'; }
falling() { awk '{ for (i = 2; i <= NF; i++) if ($i >= $(i-1)) { print "no"; exit } print "yes" }'; }

recommend -s "$S" -e sad -m lift -n 20 > "$T/lift.csv"
is "$(quarters "$T/lift.csv" valence)" "0.266 0.409 0.613 0.734" "lift sad -> happy: valence quarter means"
is "$(quarters "$T/lift.csv" valence | rising)" yes "lift: valence rises quarter by quarter"
is "$(csvcol "$T/lift.csv" why | sed -n 1p)" "step 1 of 20 from sad toward happy" "lift: why names the step"
recommend -s "$S" -e angry -m lift -n 20 > "$T/lift2.csv"
is "$(quarters "$T/lift2.csv" valence | rising)" yes "lift angry -> happy: valence rises"
recommend -s "$S" -e sad -m lift -t neutral -n 20 > "$T/lift3.csv"
is "$(quarters "$T/lift3.csv" valence | rising)" yes "lift sad -> neutral: valence rises"
recommend -s "$S" -e happy -m calm -n 20 > "$T/calm.csv"
is "$(quarters "$T/calm.csv" energy | falling)" yes "calm from happy: energy falls"
recommend -s "$S" -e angry -m calm -n 20 > "$T/calm2.csv"
is "$(quarters "$T/calm2.csv" energy | falling)" yes "calm from angry: energy falls"
recommend -s "$S" -e sad -m energize -n 20 > "$T/en.csv"
is "$(quarters "$T/en.csv" energy | rising)" yes "energize from sad: energy rises"

# genre spread: the sad corner is two thirds r&b
count_top() { csvcol "$1" genre | sort | uniq -c | sort -rn | head -1 | awk '{print $2 ":" $1}'; }
recommend -s "$S" -e sad -n 12 > "$T/sp.csv"
recommend -s "$S" -e sad -n 12 --no-spread > "$T/nosp.csv"
is "$(count_top "$T/nosp.csv")" "r&b:8" "--no-spread: 8 of 12 are r&b"
is "$(count_top "$T/sp.csv")" "r&b:4" "spread: 4 of 12 are r&b"
is "$(csvcol "$T/sp.csv" genre | sort -u | wc -l)" 6 "spread: all six genres"
run recommend -s "$S" -e sad -n 5 --genre rock
is "$(csvcol "$OUT" genre | sort -u)" "rock" "--genre rock: only rock"

# asking for more songs than there are: all of them, a warning, no repeats
run recommend -s "$S" -e sad -n 1000
is "$RC" 0 "-n 1000: exit 0"
n=$(csvcol "$OUT" id | wc -l)
ok "-n 1000: between 150 and 160 songs ($n)" test "$n" -ge 150 -a "$n" -le 160
like "$(cat "$ERR")" "^recommend: only [0-9]+ songs left to choose from$" "-n 1000: a warning"

# the raw TidyTuesday layout works too (aliases, no mood column)
printf 'track_id,track_name,track_artist,playlist_genre,valence,energy\nt1,One,A,pop,0.2,0.2\nt2,Two,B,rock,0.9,0.9\n' > "$T/tt.csv"
run recommend -s "$T/tt.csv" -e sad -n 1
is "$(tail -1 "$OUT")" "1,t1,One,A,pop,sad,0.2,0.2,0.9460,matches your mood (sad)" "TidyTuesday columns; mood from the quadrant; fit exp(-0.05^2/(2*0.15^2))"
printf 't3,Three,C,rock,0.1,0.95\nt4,Four,D,pop,0.8,0.1\n' >> "$T/tt.csv"
run recommend -s "$T/tt.csv" -e sad -n 4
is "$(csvcol "$OUT" mood | sort | tr '\n' ' ')" "calm energetic happy sad " "quadrant moods use song-cluster's names"

# songs on stdin with --emotion
run recommend -s - -e sad -n 1 < "$T/tt.csv"
is "$(tail -1 "$OUT")" "1,t1,One,A,pop,sad,0.2,0.2,0.9460,matches your mood (sad)" "--songs - reads stdin"

done_testing
