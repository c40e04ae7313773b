#!/bin/sh
# fer-prep against a PIL + numpy loader (tests/fer-ref.py: walk the tree,
# decode every image with PIL, stack, save X and y with np.save) on all
# 35,887 FER2013 images (--classes all --split all).  One warm-up run of
# each (page cache), then RUNS interleaved runs; medians of wall time and of
# CPU time (user + sys); peak RSS from /usr/bin/time.  Also checks that the
# two outputs are byte-identical.
. "$(dirname "$0")/lib.sh"
RUNS=${RUNS:-7}
SRC=$DATA/fer2013
if [ ! -d "$SRC/train" ]; then
	echo "### fer-prep: skipped (no $SRC)"
	exit 0
fi
[ -x bin/fer-prep ] || { echo "bench: bin/fer-prep not built (make)" >&2; exit 2; }

bin/fer-prep --classes all "$SRC" > "$W/vb.npy"
$PY tests/fer-ref.py --classes all "$SRC" "$W/py.npy"
if cmp -s "$W/vb.npy" "$W/py.npy"; then agree=yes; else agree=NO; fi

i=0
: > "$W/t.vb"; : > "$W/t.py"
while [ $i -lt "$RUNS" ]; do
	/usr/bin/time -f "%e %U %S %M" -o "$W/one" bin/fer-prep --classes all "$SRC" > "$W/vb.npy"
	cat "$W/one" >> "$W/t.vb"
	/usr/bin/time -f "%e %U %S %M" -o "$W/one" $PY tests/fer-ref.py --classes all "$SRC" "$W/py.npy"
	cat "$W/one" >> "$W/t.py"
	i=$((i + 1))
done
vbt=$(med "$W/t.vb" 1); pyt=$(med "$W/t.py" 1)
vbc=$(med "$W/t.vb" 5); pyc=$(med "$W/t.py" 5)
vbm=$(med "$W/t.vb" 4); pym=$(med "$W/t.py" 4)
n=$(nproc)
echo "### fer-prep: decode all 35,887 FER2013 images into one .npy stream"
echo
echo "| program | median wall s ($RUNS runs) | median CPU s | peak RSS MiB | speed-up (wall) | memory |"
echo "|---|---|---|---|---|---|"
awk -v p="$pyt" -v c="$pyc" -v m="$pym" 'BEGIN { printf "| PIL 9.4 + numpy 1.24 | %.3f | %.3f | %.1f | 1.00x | 1.00x |\n", p, c, m / 1024 }'
awk -v p="$pyt" -v t="$vbt" -v c="$vbc" -v m="$vbm" -v pm="$pym" -v n="$n" \
	'BEGIN { printf "| fer-prep (%d threads) | %.3f | %.3f | %.1f | %.2fx | %.3fx |\n", n, t, c, m / 1024, p / t, m / pm }'
echo
echo "Agreement: X and y byte-identical to the PIL + numpy output: $agree"
[ "$agree" = yes ]
