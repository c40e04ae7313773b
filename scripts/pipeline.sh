#!/bin/sh
# pipeline.sh - the helpers of pipeline.mk: stage runner with timing and
# alerts, change stamps, the promotion gate, the lock file and the runs table.
#
#   pipeline.sh stage NAME CMD...        run one stage: time it, record it in
#                                        runs/$RUN_ID/stages.csv, and on failure
#                                        print a clear message and alert
#   pipeline.sh stamp FILE TEXT          write TEXT to FILE only if it differs
#                                        (so make reruns only on a real change)
#   pipeline.sh source FILE PATH         stamp PATH's name and sha256 (a
#                                        directory: the digest of its files)
#   pipeline.sh digest PATH              print the sha256 of a file or a tree
#   pipeline.sh promote CAND TEST PROD RUNDIR
#                                        evaluate the candidate and the current
#                                        production model on the same test split;
#                                        promote only if at least as accurate
#   pipeline.sh lock LOCK PATH...        write the sha256 of every PATH
#   pipeline.sh verify LOCK              tell which paths changed since the lock
#   pipeline.sh runs [DIR]               table comparing the runs under DIR
#
# Environment: RUN_ID (the run's directory name under runs/), RUNS (default
# runs), BIN (default bin), ALERT_CMD (a shell command run on failure with
# the message on stdin and in $VB_ALERT_MESSAGE).
set -eu

RUNS=${RUNS:-runs}
BIN=${BIN:-bin}
me=pipeline

die() {
	echo "$me: $*" >&2
	exit 2
}

# alert MESSAGE: print it and run ALERT_CMD with it
alert() {
	echo "$me: $1" >&2
	if [ -n "${ALERT_CMD:-}" ]; then
		if ! printf '%s\n' "$1" | VB_ALERT_MESSAGE=$1 sh -c "$ALERT_CMD"; then
			echo "$me: ALERT_CMD failed" >&2
		fi
	fi
	if [ -n "${RUN_ID:-}" ]; then
		mkdir -p "$RUNS"
		printf '%s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$1" >>"$RUNS/pipeline.log"
	fi
}

now() {
	date +%s.%N
}

digest() {
	p=$1
	if [ -d "$p" ]; then
		# names (relative, bytewise order) and contents of every file
		(cd "$p" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum --) |
			sha256sum | cut -d' ' -f1
	elif [ -f "$p" ]; then
		sha256sum <"$p" | cut -d' ' -f1
	else
		return 1
	fi
}

cmd_stamp() {
	f=$1
	shift
	new=$(printf '%s\n' "$*")
	if [ -f "$f" ] && [ "$(cat "$f")" = "$new" ]; then
		return 0
	fi
	mkdir -p "$(dirname "$f")"
	printf '%s\n' "$new" >"$f.tmp"
	mv "$f.tmp" "$f"
}

cmd_source() {
	f=$1 p=$2
	[ -n "$p" ] || die "no input given for $(basename "$f" .src) (set DATA=dir, or the variable named in pipeline.mk)"
	[ -e "$p" ] || die "cannot open '$p': No such file or directory"
	d=$(digest "$p") || die "cannot read '$p'"
	cmd_stamp "$f" "$p $d"
}

cmd_stage() {
	name=$1
	shift
	t0=$(now)
	status=0
	"$@" || status=$?
	t1=$(now)
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
	if [ -n "${RUN_ID:-}" ]; then
		mkdir -p "$RUNS/$RUN_ID"
		[ -f "$RUNS/$RUN_ID/stages.csv" ] || echo "stage,status,seconds,finished" >"$RUNS/$RUN_ID/stages.csv"
		printf '%s,%s,%s,%s\n' "$name" "$status" "$secs" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$RUNS/$RUN_ID/stages.csv"
	fi
	if [ "$status" != 0 ]; then
		case "$name:$status" in
		*-validate:1) why="the data has anomalies of severity error (listed above); the pipeline stops here" ;;
		*) if [ "$status" -gt 128 ]; then why="killed by signal $((status - 128))"; else why="exit status $status"; fi ;;
		esac
		alert "stage $name failed: $why${RUN_ID:+ (run $RUN_ID)}"
		exit "$status"
	fi
	[ -n "${QUIET:-}" ] || echo "$me: $name done in ${secs}s"
}

# accuracy MODEL TEST: the model's accuracy on the test split, or nothing
accuracy() {
	"$BIN/emotion-train" --evaluate --yaml -m "$1" <"$2" 2>"$3" | awk '$1 == "accuracy:" { print $2 }'
}

cmd_promote() {
	cand=$1 test=$2 prod=$3 run=$4
	mkdir -p "$run" "$(dirname "$prod")"
	"$BIN/emotion-train" --evaluate --yaml -m "$cand" <"$test" >"$run/evaluation.yaml" ||
		die "cannot evaluate the candidate '$cand'"
	ca=$(awk '$1 == "accuracy:" { print $2 }' "$run/evaluation.yaml")
	[ -n "$ca" ] || die "no accuracy in the evaluation of '$cand'"
	pa=
	if [ -f "$prod" ]; then
		pa=$(accuracy "$prod" "$test" "$run/production-eval.err" || true)
	fi
	tsha=$(digest "$test")
	csha=$(digest "$cand")
	if [ -z "$pa" ]; then
		if [ -f "$prod" ]; then
			reason="the current model cannot be scored on this test split ($(head -1 "$run/production-eval.err"))"
		else
			reason="no production model yet"
		fi
		decision=promoted
	elif awk -v c="$ca" -v p="$pa" 'BEGIN { exit !(c >= p) }'; then
		decision=promoted
		reason="candidate accuracy $ca >= production $pa"
	else
		decision=rollback
		reason="candidate accuracy $ca < production $pa: the production model stays"
	fi
	if [ "$decision" = promoted ]; then
		cp "$cand" "$prod.tmp"
		mv "$prod.tmp" "$prod"
	fi
	psha=$(digest "$prod")
	{
		echo "decision: $decision"
		echo "reason: \"$reason\""
		echo "candidate_accuracy: $ca"
		echo "production_accuracy: ${pa:-null}"
		echo "test_sha256: $tsha"
		echo "candidate_sha256: $csha"
		echo "production_sha256: $psha"
		echo "time: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	} >"$run/promotion.yaml"
	mkdir -p "$RUNS"
	printf '%s %s %s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "${RUN_ID:-?}" "$decision" "$reason" >>"$RUNS/pipeline.log"
	echo "$me: model $decision: $reason"
	[ -n "${QUIET:-}" ] || sed 's/^/  /' "$run/promotion.yaml"
}

cmd_lock() {
	lock=$1
	shift
	{
		echo "# pipeline.lock: sha256 of every input and output of the last pipeline run"
		echo "# (make verify tells which changed).  $(date -u +%Y-%m-%dT%H:%M:%SZ)${RUN_ID:+ run $RUN_ID}"
		for p in "$@"; do
			d=$(digest "$p") || d=missing
			printf '%s  %s\n' "$d" "$p"
		done
	} >"$lock.tmp"
	mv "$lock.tmp" "$lock"
}

cmd_verify() {
	lock=$1
	[ -f "$lock" ] || die "no '$lock': run make pipeline first"
	changed=0 n=0
	while IFS= read -r line; do
		case "$line" in '#'*|'') continue ;; esac
		old=${line%%  *}
		p=${line#*  }
		n=$((n + 1))
		if [ ! -e "$p" ]; then
			echo "missing  $p"
			changed=$((changed + 1))
		elif [ "$(digest "$p")" != "$old" ]; then
			echo "changed  $p"
			changed=$((changed + 1))
		fi
	done <"$lock"
	if [ "$changed" = 0 ]; then
		echo "$me: all $n paths match $lock"
	else
		echo "$me: $changed of $n paths differ from $lock"
		exit 1
	fi
}

# val KEY FILE: a top-level scalar of a simple YAML file
val() {
	[ -f "$2" ] || return 0
	awk -v k="$1:" '$1 == k { sub(/^[^:]*: */, ""); gsub(/"/, ""); print; exit }' "$2"
}

cmd_runs() {
	dir=${1:-$RUNS}
	[ -d "$dir" ] || die "no runs under '$dir' yet"
	printf '%-18s %-14s %6s %6s %7s %7s %7s %-9s %8s  %s\n' run architecture images epochs val_acc test_acc prod_acc decision seconds stages
	for r in "$dir"/*/; do
		[ -d "$r" ] || continue
		id=$(basename "$r")
		arch=$(val architecture "$r/params.yaml")
		imgs=$(val train_images "$r/params.yaml")
		ep=$(val epochs_run "$r/metrics.yaml")
		va=$(val val_accuracy "$r/metrics.yaml")
		ta=$(val candidate_accuracy "$r/promotion.yaml")
		pa=$(val production_accuracy "$r/promotion.yaml")
		dec=$(val decision "$r/promotion.yaml")
		secs= st=
		if [ -f "$r/stages.csv" ]; then
			secs=$(awk -F, 'NR > 1 { s += $3 } END { printf "%.1f", s }' "$r/stages.csv")
			st=$(awk -F, 'NR > 1 { n++; if ($2 != 0) f = f " " $1 } END { printf "%d%s", n, (f != "" ? ", failed:" f : "") }' "$r/stages.csv")
		fi
		[ "$pa" = null ] && pa=-
		printf '%-18s %-14s %6s %6s %7s %7s %7s %-9s %8s  %s\n' "$id" "${arch:--}" "${imgs:--}" "${ep:--}" \
			"${va:--}" "${ta:--}" "${pa:--}" "${dec:--}" "${secs:--}" "${st:--}"
	done
}

[ $# -ge 1 ] || { echo "usage: $0 stage|stamp|source|digest|promote|lock|verify|runs ..." >&2; exit 64; }
c=$1
shift
case "$c" in
stage) [ $# -ge 2 ] || exit 64; cmd_stage "$@" ;;
stamp) [ $# -ge 1 ] || exit 64; cmd_stamp "$@" ;;
source) [ $# -eq 2 ] || exit 64; cmd_source "$@" ;;
digest) [ $# -eq 1 ] || exit 64; digest "$1" || die "cannot read '$1'" ;;
promote) [ $# -eq 4 ] || exit 64; cmd_promote "$@" ;;
lock) [ $# -ge 1 ] || exit 64; cmd_lock "$@" ;;
verify) [ $# -eq 1 ] || exit 64; cmd_verify "$@" ;;
runs) cmd_runs "$@" ;;
*) echo "usage: $0 stage|stamp|source|digest|promote|lock|verify|runs ..." >&2; exit 64 ;;
esac
