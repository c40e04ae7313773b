#!/bin/bash
# lib/image.c against PIL (Debian's python3-pil, which decodes JPEG with the
# same libjpeg-turbo): gray conversion of every 24-bit colour, the JPEG
# fixtures, and the real photographs of $DATA/faces.
. "$(dirname "$0")/lib.sh"
$PYTHON -c 'import PIL, numpy' 2>/dev/null || skip_all "no python3-pil/numpy"
DEC="$VB_UNIT/test-image decode"

# Every colour once: 4096 x 4096 RGB; PIL's convert('L') of it.
$PYTHON - "$T" <<'EOF'
import sys, numpy as np
from PIL import Image
v = np.arange(1 << 24, dtype=np.uint32)
rgb = np.stack([(v >> 16) & 255, (v >> 8) & 255, v & 255], axis=1).astype(np.uint8).reshape(4096, 4096, 3)
im = Image.fromarray(rgb, "RGB")
im.save(sys.argv[1] + "/all.ppm")
im.convert("L").save(sys.argv[1] + "/all-pil.pgm")
EOF
ok "decode all-colours PPM as gray" $DEC gray "$T/all.ppm" "$T/all.pgm"
cmp_ok "$T/all.pgm" "$T/all-pil.pgm" "gray of all 16,777,216 colours equals PIL's convert('L')"

# Decode each file three ways (rgb and gray with alpha dropped, as PIL's
# convert does; rgb with alpha composited over white), then compare them
# all with PIL in one Python run.
files=()
for f in "$TESTDATA"/images/*.jpg "$TESTDATA"/images/rgba8.png "$TESTDATA"/images/pal4-trns.png \
	"$TESTDATA"/images/graya8.png "$TESTDATA"/images/rgb8-i.png "$TESTDATA"/images/p6.ppm \
	"$DATA"/faces/*/*.jpg "$DATA"/faces/*/*.jpeg "$DATA"/faces/*/*.png; do
	case $f in */bad-*) continue ;; esac
	[ -e "$f" ] || continue
	n=${#files[@]}
	if $DEC rgb drop "$f" "$T/$n-rgb.ppm" 2>"$T/e" && $DEC gray drop "$f" "$T/$n-gray.pgm" 2>>"$T/e" &&
	   $DEC rgb "$f" "$T/$n-over.ppm" 2>>"$T/e"; then
		files+=("$f")
	else
		_result 1 "${f##*/}: decodes"; _diag <"$T/e"
	fi
done
[ -d "$DATA/faces" ] || skip "no $DATA/faces: only the fixtures compared"

$PYTHON -W ignore - "$T" "${files[@]}" >"$T/res" <<'EOF'
import sys, numpy as np
from PIL import Image
t = sys.argv[1]
def pnm(p):
    with open(p, "rb") as fh:
        hdr = fh.readline().split() + fh.readline().split() + fh.readline().split()
        a = np.frombuffer(fh.read(), dtype=np.uint8)
    return a.reshape(int(hdr[2]), int(hdr[1]), -1).squeeze()
for n, f in enumerate(sys.argv[2:]):
    im = Image.open(f)
    rgb = np.asarray(im.convert("RGB"))
    bad = []
    if not np.array_equal(pnm("%s/%d-rgb.ppm" % (t, n)), rgb): bad.append("rgb")
    if not np.array_equal(pnm("%s/%d-gray.pgm" % (t, n)), np.asarray(im.convert("L"))): bad.append("gray")
    if "A" in im.mode or "transparency" in im.info:
        a = np.asarray(im.convert("RGBA")).astype(np.int64)
        over = (a[:, :, :3] * a[:, :, 3:] + 255 * (255 - a[:, :, 3:]) + 127) // 255
    else:
        over = rgb
    if not np.array_equal(pnm("%s/%d-over.ppm" % (t, n)), over): bad.append("composite")
    print("%s\t%s %s %dx%d" % (f, " ".join(bad) or "same", im.mode, im.size[0], im.size[1]))
EOF
ok "PIL comparison ran" test -s "$T/res"
while IFS=$'\t' read -r f res; do
	like "$res" "^same " "${f#"$TOP"/}: rgb, gray and composite equal PIL's ($res)"
done <"$T/res"
done_testing
