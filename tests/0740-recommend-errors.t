# recommend: bad usage (64), bad data (2) with one-line messages, closed
# stdout and a full disk.
. "$(dirname "$0")/lib.sh"
S=$TESTDATA/recommend/songs.csv
E=$TESTDATA/recommend
export XDG_DATA_HOME=$T/xdg

usage() { # DESC ERE ARGS...
	local d=$1 re=$2; shift 2
	run recommend "$@"
	is "$RC" 64 "$d: exit 64"
	like "$(head -1 "$ERR")" "$re" "$d: message"
}
usage "unknown emotion" "^recommend: unknown emotion 'bored' \(angry, disgust, fear, happy, sad, surprise, neutral\)$" -s "$S" -e bored
usage "unknown mode" "^recommend: unknown mode 'shuffle' \(match, lift, calm, energize\)$" -s "$S" -e sad -m shuffle
usage "unknown target" "^recommend: unknown target 'bliss'" -s "$S" -e sad -m lift -t bliss
usage "--target without lift" "^recommend: --target only applies to --mode lift$" -s "$S" -e sad -t calm
usage "no --songs" "^recommend: --songs FILE is required$" -e sad
usage "-n 0" "^recommend: invalid -n '0': must be between 1 and 100000$" -s "$S" -e sad -n 0
usage "-n junk" "^recommend: invalid -n 'x': expected an integer$" -s "$S" -e sad -n x
usage "--record without --track" "^recommend: --record needs --track ID$" --record like -e sad
usage "unknown event" "^recommend: unknown event 'love' \(like, dislike, skip, play\)$" --record love --track a
usage "--track with a tab" "^recommend: track id 'a	b' holds a control character$" --record like --track "a	b"
usage "--track alone" "^recommend: --track only goes with --record$" -s "$S" -e sad --track a
usage "--follow with --emotion" "^recommend: --follow reads emotions from stdin; drop --emotion$" -s "$S" -e sad --follow
usage "--songs - without --emotion" "^recommend: --songs - needs --emotion" -s - < "$E/emotions4.csv"
usage "stray argument" "^recommend: unexpected argument 'x'$" -s "$S" -e sad x
usage "--hold negative" "^recommend: invalid --hold '-1'" -s "$S" --follow --hold -1

run recommend --help
is "$RC" 0 "--help: exit 0"
like "$(cat "$OUT")" "default: match" "--help shows the mode default"
like "$(cat "$OUT")" "default: 20" "--help shows the -n default"
like "$(cat "$OUT")" "XDG_DATA_HOME" "--help shows the log default"

data() { # DESC EXPECTED-STDERR ARGS...
	local d=$1 want=$2; shift 2
	run recommend "$@"
	is "$RC" 2 "$d: exit 2"
	is "$(cat "$ERR")" "$want" "$d: message"
	is "$(cat "$OUT")" "" "$d: no output"
}
hdr=id,name,artist,genre,valence,energy
data "missing songs file" "recommend: cannot open '$T/nope.csv': No such file or directory" -s "$T/nope.csv" -e sad
printf '' > "$T/empty.csv"
data "empty songs file" "recommend: '$T/empty.csv': empty songs CSV (no header)" -s "$T/empty.csv" -e sad
printf '%s\n' "$hdr" > "$T/hdronly.csv"
data "empty catalogue" "recommend: '$T/hdronly.csv': the songs CSV holds no songs" -s "$T/hdronly.csv" -e sad
printf 'id,name,artist,genre,energy\na,N,A,pop,0.5\n' > "$T/nocol.csv"
data "missing column" "recommend: '$T/nocol.csv': songs CSV has no 'valence' column" -s "$T/nocol.csv" -e sad
printf '%s\na,N,A,pop,0.5,0.5\nb,"N,A,pop,0.5,0.5\n' "$hdr" > "$T/quote.csv"
data "unterminated quote" "recommend: '$T/quote.csv': line 3: unterminated quoted field" -s "$T/quote.csv" -e sad
printf '%s\na,N,A,pop,0.5\n' "$hdr" > "$T/ragged.csv"
data "ragged row" "recommend: '$T/ragged.csv': line 2: 5 fields, expected 6" -s "$T/ragged.csv" -e sad
printf '%s\na,N,A,pop,0.5,NaN\n' "$hdr" > "$T/nan.csv"
data "NaN energy" "recommend: '$T/nan.csv': line 2: bad energy 'NaN'" -s "$T/nan.csv" -e sad
printf '%s\na,N,A,pop,0.5,loud\n' "$hdr" > "$T/word.csv"
data "not a number" "recommend: '$T/word.csv': line 2: bad energy 'loud'" -s "$T/word.csv" -e sad
printf '%s\na,N,A,pop,-0.5,0.5\n' "$hdr" > "$T/range.csv"
data "valence out of range" "recommend: '$T/range.csv': line 2: valence -0.5 is outside 0..1" -s "$T/range.csv" -e sad
printf '%s\na,N,A,pop,0.5,0.5\0\n' "$hdr" > "$T/nul.csv"
data "NUL byte" "recommend: '$T/nul.csv': NUL byte in the songs CSV" -s "$T/nul.csv" -e sad
data "songs is a directory" "recommend: '$T': read error: Is a directory" -s "$T" -e sad
data "unknown genre" "recommend: no genre 'polka' in '$S'" -s "$S" -e sad --genre polka
head -c 3000 "$S" > "$T/trunc.csv"
run recommend -s "$T/trunc.csv" -e sad
is "$RC" 2 "truncated songs CSV: exit 2"
like "$(cat "$ERR")" "^recommend: '.*trunc.csv': line [0-9]+: [0-9]+ fields, expected 30$" "truncated: names the line"

# bad emotions input
emo() { # DESC EXPECTED-STDERR INPUT
	printf "$3" > "$T/emo.csv"
	run recommend -s "$S" < "$T/emo.csv"
	is "$RC" 2 "$1: exit 2"
	is "$(cat "$ERR")" "$2" "$1: message"
}
h='frame,face,x,y,w,h,angry,happy,sad,neutral,emotion\n'
emo "unknown class column" "recommend: emotions input: unknown emotion class column 'bored'" 'frame,face,x,y,w,h,angry,bored,emotion\n'
emo "no frame column" "recommend: emotions input: emotions header has no 'frame' column" 'face,x,y,w,h,angry,emotion\n'
emo "bad probability" "recommend: emotions input line 2: bad probability 'x' for happy" "${h}0,0,1,1,1,1,0.1,x,0.5,0.4,sad\n"
emo "probability > 1" "recommend: emotions input line 2: bad probability '7' for happy" "${h}0,0,1,1,1,1,0.1,7,0.5,0.4,sad\n"
emo "short row" "recommend: emotions input line 2: 5 fields, expected 11" "${h}0,0,1,1,1\n"
emo "bad frame" "recommend: emotions input line 2: bad frame number 'x'" "${h}x,0,1,1,1,1,0.1,0.1,0.5,0.3,sad\n"
emo "no face" "recommend: no face in the emotions input" "${h}0,,,,,,,,,,none\n"
emo "empty input" "recommend: no face in the emotions input" ""
emo "unterminated quote" "recommend: emotions input line 2: unterminated quoted field" "${h}0,\"0,1\n"

# the feedback log
mkdir "$T/logdir"
data "log is a directory" "recommend: '$T/logdir': read error: Is a directory" -s "$S" -e sad --feedback "$T/logdir"
run recommend --record like --track a -e sad --feedback "$T/logdir"
is "$RC" 2 "record into a directory: exit 2"
is "$(cat "$ERR")" "recommend: cannot open '$T/logdir': Is a directory" "record into a directory: message"
run recommend --record like --track a -e sad --feedback /dev/full
is "$RC" 2 "record to /dev/full: exit 2"
is "$(cat "$ERR")" "recommend: cannot write to '/dev/full': No space left on device" "record to /dev/full: message"
touch "$T/ro.log"; chmod 0444 "$T/ro.log"
if [ "$(id -u)" = 0 ]; then skip "root ignores file permissions"; skip "root"; else
	run recommend --record like --track a -e sad --feedback "$T/ro.log"
	is "$RC" 2 "record into a read-only log: exit 2"
	is "$(cat "$ERR")" "recommend: cannot open '$T/ro.log': Permission denied" "read-only log: message"
fi
(unset XDG_DATA_HOME HOME; recommend --record like --track a -e sad) > /dev/null 2> "$T/nohome.err"
is "$?" 2 "no HOME, no XDG_DATA_HOME: exit 2"
is "$(cat "$T/nohome.err")" "recommend: neither XDG_DATA_HOME nor HOME is set; give --feedback" "no HOME: message"

# closed stdout and a full disk: a long session (a playlist on every
# frame) outgrows any pipe buffer
{
	head -1 "$E/stream.csv"
	for i in $(seq 0 299); do
		if [ $((i % 2)) = 0 ]; then echo "$i,0,1,1,1,1,0.1,0.1,0.7,0.1,sad"
		else echo "$i,0,1,1,1,1,0.1,0.7,0.1,0.1,happy"; fi
	done
} > "$T/flip.csv"
recommend -s "$S" --follow --fps 30 --hold 0 --smooth 0 -n 50 < "$T/flip.csv" 2> "$T/pipe.err" | head -c1 > /dev/null
is "${PIPESTATUS[0]}" 2 "closed stdout: exit 2"
is "$(cat "$T/pipe.err")" "recommend: write error: Broken pipe" "closed stdout: write error"
recommend -s "$S" -e sad > /dev/full 2> "$T/full.err"
is "$?" 2 "/dev/full: exit 2"
like "$(cat "$T/full.err")" "^recommend: write error: No space left on device$" "/dev/full: message"
recommend -s "$S" --follow --fps 30 < "$E/stream.csv" > /dev/full 2> "$T/ff.err"
is "$?" 2 "--follow to /dev/full: exit 2"
like "$(cat "$T/ff.err")" "^recommend: write error: No space left on device$" "--follow to /dev/full: message"

done_testing
