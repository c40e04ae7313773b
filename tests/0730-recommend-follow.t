# recommend --follow: playlists as the smoothed mood changes and holds,
# timed by frame numbers (--fps) or the wall clock; live input through a
# FIFO without busy-waiting; a clean end at EOF.
. "$(dirname "$0")/lib.sh"
S=$TESTDATA/recommend/songs.csv
E=$TESTDATA/recommend
export XDG_DATA_HOME=$T/xdg

csvcol() { $PYTHON -c '
import csv, sys
for r in csv.DictReader(open(sys.argv[1])): print(r[sys.argv[2]])' "$1" "$2"; }

# stream.csv: 30 frames/s, sad 0-4 s with an angry blip of 5 frames at 2 s,
# happy from frame 120, no face in frames 150-159.
run recommend -s "$S" --follow --fps 30 -n 3 -v < "$E/stream.csv"
is "$RC" 0 "follow: exit 0 at EOF"
cp "$OUT" "$T/f.csv"
is "$(csvcol "$T/f.csv" position | tr '\n' ' ')" "1 2 3 1 2 3 " "two playlists of 3, one header"
is "$(grep -c '^position,' "$T/f.csv")" 1 "the header once"
is "$(csvcol "$T/f.csv" why | sed -n '1p;4p' | tr '\n' ';')" "matches your mood (sad);matches your mood (happy);" "sad, then happy"
# sad from frame 0 holds 3 s at frame 90; the blip never holds
like "$(grep 'mood now' "$ERR" | tr '\n' ';')" "^recommend: frame 90: mood now sad;recommend: frame [0-9]+: mood now happy;$" "changes at frame 90 (sad) and later happy"
f=$(sed -n 's/.*frame \([0-9]*\): mood now happy/\1/p' "$ERR")
# happy takes over at 4 s; smoothing (2 s) delays the label, then 3 s hold
ok "happy detected between 7 and 9 s (frame $f)" test "$f" -ge 210 -a "$f" -le 270

# without smoothing or holding, every change counts: sad, angry, sad, happy
run recommend -s "$S" --follow --fps 30 -n 2 --hold 0 --smooth 0 < "$E/stream.csv"
is "$(csvcol "$OUT" why | sed -n '1p;3p;5p;7p' | sed 's/matches your mood //' | tr '\n' ' ')" "(sad) (angry) (sad) (happy) " "--hold 0 --smooth 0: four playlists"
is "$(csvcol "$OUT" id | sort | uniq -d)" "" "no song repeated within the session"

# an input shorter than --hold: one playlist at EOF
head -20 "$E/stream.csv" > "$T/short.csv"
run recommend -s "$S" --follow --fps 30 -n 2 < "$T/short.csv"
is "$RC" 0 "short input: exit 0"
is "$(csvcol "$OUT" why | tr '\n' ';')" "matches your mood (sad);matches your mood (sad);" "short input: a playlist at EOF"

# no face at all
printf 'frame,face,x,y,w,h,angry,happy,sad,neutral,emotion\n0,,,,,,,,,,none\n' > "$T/none.csv"
run recommend -s "$S" --follow < "$T/none.csv"
is "$RC" 2 "no face: exit 2"
is "$(cat "$ERR")" "recommend: no face in the emotions input" "no face: message"
run recommend -s "$S" --follow < /dev/null
is "$RC" 2 "empty input: exit 2"

# live, on the wall clock, through a FIFO
mkfifo "$T/fifo"
recommend -s "$S" --follow --hold 0.3 --smooth 0 -n 2 < "$T/fifo" > "$T/live.csv" 2> "$T/live.err" &
pid=$!
exec 3> "$T/fifo"
head -1 "$E/stream.csv" >&3
for i in 0 1 2 3 4 5 6 7; do
	echo "$i,0,100,80,96,96,0.05,0.05,0.80,0.10,sad" >&3
	sleep 0.1
done
for i in $(seq 50); do # up to 5 s on a busy machine
	[ "$(wc -l < "$T/live.csv")" -ge 3 ] && break
	sleep 0.1
done
is "$(wc -l < "$T/live.csv" | tr -d ' ')" 3 "live: a playlist printed while the input is still open"
ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
t0=$(ticks)
sleep 1
t1=$(ticks)
ok "live: waiting for input costs no CPU ($((t1 - t0)) ticks in 1 s)" test $((t1 - t0)) -le 2
exec 3>&-
wait $pid
is "$?" 0 "live: exit 0 when the writer closes"
is "$(cat "$T/live.err")" "" "live: nothing on stderr"

# feedback recorded while following counts from the next playlist on
mkfifo "$T/fifo2"
recommend -s "$S" --follow --hold 0 --smooth 0 -n 3 --feedback "$T/live.log" \
	< "$T/fifo2" > "$T/live2.csv" 2> "$T/live2.err" &
pid=$!
exec 3> "$T/fifo2"
head -1 "$E/stream.csv" >&3
echo "0,0,1,1,1,1,0.1,0.1,0.7,0.1,sad" >&3
echo "1,0,1,1,1,1,0.1,0.1,0.7,0.1,sad" >&3
for i in $(seq 50); do
	[ "$(wc -l < "$T/live2.csv")" -ge 4 ] && break
	sleep 0.1
done
recommend --record like --track s065 -e happy --feedback "$T/live.log"
echo "2,0,1,1,1,1,0.1,0.7,0.1,0.1,happy" >&3
echo "3,0,1,1,1,1,0.1,0.7,0.1,0.1,happy" >&3
exec 3>&-
wait $pid
is "$?" 0 "live feedback: exit 0"
is "$(csvcol "$T/live2.csv" id | sed -n 4p),$(csvcol "$T/live2.csv" why | sed -n 4p)" "s065,you liked it" \
	"a like recorded while following shapes the next playlist"

done_testing
