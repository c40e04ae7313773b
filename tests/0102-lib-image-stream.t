#!/bin/bash
# lib/image.c on pipes: a stream of PPM frames from ffmpeg's image2pipe,
# the same frames as PNG one by one, and JPEG and PNG read from a pipe.
. "$(dirname "$0")/lib.sh"
DEC="$VB_UNIT/test-image decode"
command -v ffmpeg >/dev/null || skip_all "no ffmpeg"

src="-f lavfi -i testsrc=size=64x48:rate=5 -frames:v 4"
run bash -c "ffmpeg -hide_banner -loglevel error $src -f image2pipe -c:v ppm - | $DEC - '$T/stream.ppm'"
is "$RC" 0 "4 PPM frames from a pipe: decoded"
# Each frame written by ffmpeg as PNG, decoded one by one.
ffmpeg -hide_banner -loglevel error $src "$T/f%d.png"
: >"$T/frames.ppm"
for i in 1 2 3 4; do $DEC "$T/f$i.png" "$T/one.ppm" && cat "$T/one.ppm" >>"$T/frames.ppm"; done
is "$(head -c 15 "$T/stream.ppm" | head -2 | tr '\n' ' ')" "P6 64 48 " "frames are 64x48 RGB"
is "$(wc -c <"$T/stream.ppm" | tr -d ' ')" $((4 * (13 + 64 * 48 * 3))) "4 frames out"
cmp_ok "$T/stream.ppm" "$T/frames.ppm" "PPM stream frames equal the PNG frames"

# Gray decoding of the stream: one gray frame per input frame.
run bash -c "ffmpeg -hide_banner -loglevel error $src -f image2pipe -c:v ppm - | $DEC gray - '$T/gray.pgm'"
is "$(wc -c <"$T/gray.pgm" | tr -d ' ')" $((4 * (13 + 64 * 48))) "gray: 4 frames of 64x48"

# One JPEG and one PNG through a pipe (nothing seeks).
run bash -c "cat '$TESTDATA/images/rgb-prog.jpg' | $DEC - '$T/j.ppm'"
is "$RC" 0 "progressive JPEG from a pipe"
cmp_ok "$T/j.ppm" "$TESTDATA/images/rgb-prog.expect.ppm" "progressive JPEG from a pipe: pixels"
run bash -c "cat '$TESTDATA/images/rgba16-i.png' | $DEC - '$T/p.ppm'"
cmp_ok "$T/p.ppm" "$TESTDATA/images/rgba16-i.expect.ppm" "interlaced 16-bit RGBA PNG from a pipe: pixels"
# A frame cut short at the end of the stream is an error, after the good ones.
{ cat "$TESTDATA/images/p6.ppm" "$TESTDATA/images/p6.ppm"; head -c 30 "$TESTDATA/images/p6.ppm"; } >"$T/cut.ppm"
run $DEC - "$T/cut.out" <"$T/cut.ppm"
is "$RC" 2 "truncated last frame: error"
like "$(cat "$ERR")" "PNM: truncated data" "truncated last frame: message"
done_testing
