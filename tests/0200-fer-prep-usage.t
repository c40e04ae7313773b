#!/bin/bash
# fer-prep: --help, --version, option errors (exit 64) and their messages.
. "$(dirname "$0")/lib.sh"

run fer-prep --help
is "$RC" 0 "--help exits 0"
help=$(tr -s ' \n' '  ' <"$OUT")
like "$help" "default: angry,happy,sad,neutral" "--help shows the default classes"
like "$help" "Training, PublicTest, PrivateTest or all \(default: all\)" "--help shows the default split"
like "$help" "\(default: npy\)" "--help shows the default output format"
like "$(cat "$OUT")" "--skip-bad" "--help lists --skip-bad"
like "$(cat "$OUT")" "--threads" "--help lists the common options"
run fer-prep --version
is "$RC" 0 "--version exits 0"
like "$(cat "$OUT")" "^fer-prep \(vibify\) " "--version names the program"

usage() { # DESC ERE ARGS...
	local d=$1 re=$2; shift 2
	run fer-prep "$@" </dev/null
	is "$RC" 64 "$d: exit 64"
	like "$(head -1 "$ERR")" "$re" "$d: message"
	is "$(wc -c <"$OUT" | tr -d ' ')" 0 "$d: nothing on stdout"
}
usage "bad --split" "^fer-prep: invalid --split 'Test': expected Training, PublicTest, PrivateTest or all$" --split Test
usage "empty class" "^fer-prep: invalid --classes 'happy,,sad': empty class name$" --classes happy,,sad
usage "trailing comma" "^fer-prep: invalid --classes 'happy,': empty class name$" --classes happy,
usage "class twice" "^fer-prep: invalid --classes 'sad,Sad': 'sad' given twice$" --classes sad,Sad
usage "bad class name" "^fer-prep: invalid --classes 'a b': bad class name 'a b'$" --classes "a b"
usage "bad -O" "^fer-prep: invalid --output-format 'png': expected npy or csv$" -O png
usage "two inputs" "^fer-prep: more than one input given$" a b
usage "unknown option" "unrecognized option '--frobnicate'" --frobnicate
usage "bad --threads" "^fer-prep: invalid --threads '0': must be between 1 and 1024$" --threads 0
done_testing
