# recommend: --record and learning from the feedback log -- dislikes never
# come back, likes (and songs like them) rise, skips lower a song for that
# mood, a learned taste for acoustic songs while sad; torn lines.
. "$(dirname "$0")/lib.sh"
S=$TESTDATA/recommend/songs.csv
E=$TESTDATA/recommend
L=$T/fb.log

csvcol() { $PYTHON -c '
import csv, sys
for r in csv.DictReader(open(sys.argv[1])): print(r[sys.argv[2]])' "$1" "$2"; }
# how many of the playlist's songs have acousticness > 0.5
acoustic() { $PYTHON - "$S" "$1" <<'PY'
import csv, sys
a = {r["id"]: float(r["acousticness"]) for r in csv.DictReader(open(sys.argv[1]))}
print(sum(a[r["id"]] > 0.5 for r in csv.DictReader(open(sys.argv[2]))))
PY
}

# --record: one line, the format of feedback.h
run recommend --record like --track s001 -e sad --feedback "$L"
is "$RC" 0 "record: exit 0"
is "$(cat "$OUT")$(cat "$ERR")" "" "record: silent"
like "$(cat "$L")" '^20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]\.[0-9]{3}Z	s001	like	sad$' "record: time, track, event, emotion"
recommend --record skip --track s002 --feedback "$L" < "$E/emotions4.csv"
is "$(tail -1 "$L" | cut -f2-)" "s002	skip	sad" "record: emotion of the last emotions row on stdin"
recommend --record play --track s003 --feedback "$L" < /dev/null
is "$(tail -1 "$L" | cut -f2-)" "s003	play	none" "record: no emotion known: none"
run recommend --record like --track nope -s "$S" -e sad --feedback "$L"
is "$RC" 2 "record: unknown track with --songs: exit 2"
is "$(cat "$ERR")" "recommend: no track 'nope' in '$S'" "record: its message"
is "$(wc -l < "$L" | tr -d ' ')" 3 "record: nothing appended for it"

# the default log: $XDG_DATA_HOME, then ~/.local/share; directories created
XDG_DATA_HOME=$T/xdg recommend --record like --track s001 -e happy
ok "default log under \$XDG_DATA_HOME/vibify" test -s "$T/xdg/vibify/feedback.log"
(unset XDG_DATA_HOME; HOME=$T/home recommend --record like --track s001 -e happy)
ok "default log under ~/.local/share/vibify" test -s "$T/home/.local/share/vibify/feedback.log"

# dislikes never come back
F=$T/d.log
recommend -s "$S" -e sad -n 10 --feedback "$F" > "$T/base.csv"
dis=$(csvcol "$T/base.csv" id | sed -n '1p;4p;7p')
for t in $dis; do recommend --record dislike --track "$t" -e sad --feedback "$F"; done
recommend -s "$S" -e sad -n 10 --feedback "$F" > "$T/after.csv"
for t in $dis; do
	is "$(csvcol "$T/after.csv" id | grep -cx "$t")" 0 "disliked $t is gone from the sad playlist"
done
for m in match lift calm energize; do
	for e in sad happy angry; do
		recommend -s "$S" -e $e -m $m -n 1000 --feedback "$F" > "$T/all.csv" 2>/dev/null
		n=0
		for t in $dis; do n=$((n + $(csvcol "$T/all.csv" id | grep -cx "$t"))); done
		is "$n" 0 "$m from $e, whole catalogue: no disliked id"
	done
done
# a later like lifts the ban
t1=$(echo $dis | cut -d' ' -f1)
recommend --record like --track "$t1" -e sad --feedback "$F"
recommend -s "$S" -e sad -n 10 --feedback "$F" > "$T/after2.csv"
is "$(csvcol "$T/after2.csv" id | sed -n 1p)" "$t1" "liked again: back, at the top"
is "$(csvcol "$T/after2.csv" why | sed -n 1p)" "you liked it" "why: you liked it"

# likes of acoustic songs while sad: sad playlists hold more acoustic songs,
# happy ones are unchanged (the preference is per emotion)
A=$T/a.log
recommend -s "$S" -e sad -n 10 --feedback "$A" > "$T/s10.csv"
recommend -s "$S" -e sad -n 20 --feedback "$A" > "$T/s20.csv"
recommend -s "$S" -e happy -n 10 --feedback "$A" > "$T/h10.csv"
is "$(acoustic "$T/s10.csv") $(acoustic "$T/s20.csv") $(acoustic "$T/h10.csv")" "7 12 4" \
	"before: acoustic songs in sad 10, sad 20, happy 10"
# eight acoustic songs from the calm and happy side, none of them sad
for t in s000 s001 s010 s013 s034 s036 s037 s039; do
	recommend --record like --track $t -e sad --feedback "$A"
done
recommend -s "$S" -e sad -n 10 --feedback "$A" > "$T/s10b.csv"
recommend -s "$S" -e sad -n 20 --feedback "$A" > "$T/s20b.csv"
recommend -s "$S" -e happy -n 10 --feedback "$A" > "$T/h10b.csv"
is "$(acoustic "$T/s10b.csv") $(acoustic "$T/s20b.csv") $(acoustic "$T/h10b.csv")" "9 14 4" \
	"after 8 acoustic likes while sad: more acoustic sad songs, happy unchanged"
like "$(csvcol "$T/s10b.csv" why | sort -u | tr '\n' ';')" "suits your taste when sad" "why: the learned taste"

# skips lower a song for the mood they happened in
K=$T/k.log
top=$(csvcol "$T/s10.csv" id | sed -n 1p)
for i in 1 2 3; do recommend --record skip --track "$top" -e sad --feedback "$K"; done
recommend -s "$S" -e sad -n 5 --feedback "$K" > "$T/k.csv"
is "$(csvcol "$T/k.csv" id | grep -cx "$top")" 0 "skipped 3 times while sad: out of the sad top 5"
K2=$T/k2.log
for i in 1 2 3; do recommend --record skip --track "$top" -e happy --feedback "$K2"; done
recommend -s "$S" -e sad -n 5 --feedback "$K2" > "$T/k2.csv"
is "$(csvcol "$T/k2.csv" id | sed -n 1p)" "$top" "skipped 3 times while happy: still first for sad"

# similar songs rise: liking one song brings its artist's other songs up
M=$T/m.log
recommend --record like --track s138 -e sad --feedback "$M"
recommend -s "$S" -e sad -n 20 --feedback "$M" > "$T/m.csv"
like "$(csvcol "$T/m.csv" why | sort | uniq -c | tr '\n' ';')" "by an artist you like|sounds like songs you liked" "why: similar to a liked song"

# a torn last line: a warning, the rest still counts
cp "$F" "$T/torn.log"
printf '2026-11-28T06:16:11.123Z\ts0' >> "$T/torn.log"
run recommend -s "$S" -e sad -n 10 --feedback "$T/torn.log"
is "$RC" 0 "torn last line: exit 0"
like "$(cat "$ERR")" "^recommend: '.*torn.log': line [0-9]+ is torn \(an interrupted write\); ignored$" "torn: a warning"
cmp_ok "$OUT" "$T/after2.csv" "torn: the complete events still apply"
# the next append starts on a fresh line
recommend --record like --track s005 -e sad --feedback "$T/torn.log"
run recommend -s "$S" -e sad -n 10 --feedback "$T/torn.log"
like "$(cat "$ERR")" "1 malformed line ignored" "after an append the fragment is one malformed line"
is "$(tail -1 "$T/torn.log" | cut -f2-)" "s005	like	sad" "the new event is whole"

# concurrent --record processes: every event arrives
C=$T/c.log
for w in 1 2 3 4; do
	( for i in $(seq 1 25); do recommend --record play --track "w$w-$i" --feedback "$C" || echo fail; done ) &
done > "$T/cfail" 2>&1
wait
is "$(wc -l < "$C" | tr -d ' ')" 100 "4 concurrent recorders x 25: 100 lines"
is "$(cut -f2 "$C" | sort -u | wc -l | tr -d ' ')" 100 "100 distinct events"
is "$(cat "$T/cfail")" "" "no failures"

done_testing
