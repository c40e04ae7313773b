# Face boxes against OpenCV's detectMultiScale on the shared photographs:
# at least 98% of OpenCV's boxes matched at IoU >= 0.5, at most 2% extra,
# and recall on the imglab ground truth (faces/dlib/*.xml) at least OpenCV's.
. "$(dirname "$0")/lib.sh"
need_data faces/dlib/testing.xml
need_data cascades/haarcascade_frontalface_default.xml
$PYTHON -c 'import cv2' 2>/dev/null || skip_all "no python3-opencv"

check() { # NAME CASCADE [OPTIONS...]
	local name=$1 casc=$2; shift 2
	run $PYTHON "$TOP/tests/emotion-predict-agree.py" "$VB_BIN/emotion-predict" "$casc" "$DATA/faces" "$@"
	is "$RC" 0 "$name: both detectors ran"
	local line
	line=$(grep '^images=' "$OUT")
	echo "# $name: $line"
	eval "$(echo "$line" | tr ' ' '\n' | sed 's/^/local /')"
	ok "$name: OpenCV finds faces ($opencv)" test "${opencv:-0}" -gt 20
	ok "$name: >= 98% of OpenCV's boxes matched ($matched of $opencv)" \
		test $((matched * 100)) -ge $((opencv * 98))
	ok "$name: <= 2% extra boxes ($extra of $ours)" test $((extra * 100)) -le $((opencv * 2))
	ok "$name: ground-truth recall at least OpenCV's ($gt_ours vs $gt_opencv of $gt)" \
		test "$gt_ours" -ge "$gt_opencv"
}

check "Haar default" "$DATA/cascades/haarcascade_frontalface_default.xml"
check "LBP" "$DATA/cascades/lbpcascade_frontalface.xml"
if [ -n "${VB_TEST_SLOW:-}" ]; then
	check "Haar alt2, scale 1.2, 5 neighbours" "$DATA/cascades/haarcascade_frontalface_alt2.xml" \
		--scale-factor 1.2 --min-neighbors 5
	check "Haar eyes (tilted features, trees)" "$DATA/cascades/haarcascade_eye_tree_eyeglasses.xml"
fi
done_testing
