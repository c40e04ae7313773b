#!/bin/sh
# recommend against a pandas peer (bench/07-recommend-peer.py: the same
# reading, log aggregation, scoring and greedy picking, minus recommend's
# SGD preference model and similarity kernel) on the full TidyTuesday
# catalogue run through song-scale and song-cluster (28k songs): a 20-song
# sad playlist with an empty feedback log, and with a 1,000,000-event log.
# Whole processes, runs interleaved, medians of RUNS of wall and CPU time
# (user + sys: on a shared machine the wall clock also counts waiting for a
# CPU); peak RSS from /usr/bin/time.  Targets: 20 songs in under 50 ms; the 1M-event log read
# (and learned from) in under 1 s.
. "$(dirname "$0")/lib.sh"
RUNS=${RUNS:-7}
SRC=$DATA/spotify/spotify_songs.csv.gz
if [ ! -e "$SRC" ]; then
	echo "### recommend: skipped (no $SRC)"
	exit 0
fi
for p in recommend song-scale song-cluster; do
	[ -x bin/$p ] || { echo "bench: bin/$p not built (make)" >&2; exit 2; }
done

bin/song-scale "$SRC" | bin/song-cluster > "$W/songs.csv"
nsongs=$(bin/recommend -v -s "$W/songs.csv" -e sad --feedback "$W/none.log" 2>&1 >/dev/null |
	sed -n "s/.*: \([0-9]*\) songs,.*/\1/p")
$PY bench/07-recommend-gen.py "$W/songs.csv" 1000000 > "$W/big.log"
: > "$W/empty.log"

# one timed run: NAME CMD... (appends "wall user sys maxrss" to $W/t.NAME)
timed() {
	name=$1; shift
	/usr/bin/time -f "%e %U %S %M" -o "$W/one" "$@" > "$W/out.$name"
	cat "$W/one" >> "$W/t.$name"
}
for t in vb0 py0 vb1 py1; do : > "$W/t.$t"; done
i=0
while [ $i -le "$RUNS" ]; do # run 0 warms the page cache and is dropped
	timed vb0 bin/recommend -s "$W/songs.csv" -e sad -n 20 --feedback "$W/empty.log"
	timed py0 $PY bench/07-recommend-peer.py "$W/songs.csv" "$W/empty.log" sad 20
	timed vb1 bin/recommend -s "$W/songs.csv" -e sad -n 20 --feedback "$W/big.log"
	timed py1 $PY bench/07-recommend-peer.py "$W/songs.csv" "$W/big.log" sad 20
	if [ $i = 0 ]; then for t in vb0 py0 vb1 py1; do : > "$W/t.$t"; done; fi
	i=$((i + 1))
done
row() { # LABEL PEER VIBIFY TARGET
	pt=$(med "$W/t.$2" 1); vt=$(med "$W/t.$3" 1)
	pc=$(med "$W/t.$2" 5); vc=$(med "$W/t.$3" 5)
	pm=$(med "$W/t.$2" 4); vm=$(med "$W/t.$3" 4)
	awk -v l="$1" -v pt="$pt" -v vt="$vt" -v pc="$pc" -v vc="$vc" -v pm="$pm" -v vm="$vm" -v tg="$4" 'BEGIN {
		printf "| %s | %.0f / %.0f | %.0f / %.0f | %.1fx / %.1fx | %.0f / %.0f | %s |\n", l,
			pt * 1000, pc * 1000, vt * 1000, vc * 1000,
			(vt > 0 ? pt / vt : 0), (vc > 0 ? pc / vc : 0), pm / 1024, vm / 1024, tg }'
}
load=$(cut -d' ' -f1 /proc/loadavg)
echo "### recommend: a 20-song playlist from $nsongs songs"
echo
echo "| task | pandas 1.5 ms (wall / CPU) | recommend ms (wall / CPU) | speed-up (wall / CPU) | peak RSS MiB (pandas / recommend) | target |"
echo "|---|---|---|---|---|---|"
row "playlist, empty feedback log" py0 vb0 "< 50 ms"
row "playlist + read and learn from a 1,000,000-event log" py1 vb1 "< 1000 ms"
echo
echo "Medians of $RUNS interleaved runs of whole processes; CPU = user + sys;"
echo "$(nproc) CPUs, load average $load at the end (wall times stretch with the load)."
echo "The peer skips the SGD preference model and the similarity kernel."
