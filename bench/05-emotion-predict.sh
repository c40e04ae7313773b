#!/bin/sh
# emotion-predict against OpenCV 4.6 (+ PyTorch 1.13 for the network), one
# thread each, on the shared photographs resized to 640x480:
#  1. face detection per frame (same cascade and parameters; the peer's time
#     is detectMultiScale alone, ours the detection time -v reports, and our
#     whole process per frame, decoding included);
#  2. a full frame to emotion rows (decode, detect, crop, classify) - the
#     peer's loop time inside the process, our whole process;
#  3. a 640x480 PPM stream made with ffmpeg from the photos (30 frames per
#     photo), frames per second; ours with tracking (whole-frame search every
#     8 frames, near the last faces in between), the peer searching every
#     frame.
# Detection is also timed with --threads 2 (scales searched on both cores),
# compared by wall time with the one-thread peer.
# Runs interleaved, medians of RUNS; peak RSS from /usr/bin/time.
. "$(dirname "$0")/lib.sh"
RUNS=${RUNS:-3}
CASC=$DATA/cascades/haarcascade_frontalface_default.xml
if [ ! -d "$DATA/faces" ] || [ ! -f "$CASC" ]; then
	echo "### emotion-predict: skipped (no $DATA/faces)"
	exit 0
fi
[ -x bin/emotion-predict ] || { echo "bench: bin/emotion-predict not built (make)" >&2; exit 2; }

# frames: every photograph resized to 640x480
mkdir "$W/f"
$PY - "$DATA/faces" "$W/f" <<'EOF'
import glob, os, sys, cv2
for i, p in enumerate(sorted(glob.glob(sys.argv[1] + '/*/*'))):
    if p.lower().endswith(('.jpg', '.jpeg', '.png')):
        im = cv2.resize(cv2.imread(p), (640, 480), interpolation=cv2.INTER_AREA)
        cv2.imwrite(f'{sys.argv[2]}/{i:03d}.jpg', im, [cv2.IMWRITE_JPEG_QUALITY, 92])
EOF
NF=$(ls "$W/f" | wc -l)
# the stream: a video of four photographs, 60 frames each
mkdir "$W/v"
i=0
for f in $(ls "$W/f" | sed -n '3p;7p;13p;21p'); do
	cp "$W/f/$f" "$W/v/$(printf %03d $i).jpg"
	i=$((i + 1))
done
ffmpeg -loglevel error -framerate 0.5 -i "$W/v/%03d.jpg" -vf fps=30 -c:v libx264 -pix_fmt yuv420p "$W/v.mp4"
ffmpeg -loglevel error -i "$W/v.mp4" -f image2pipe -c:v ppm - > "$W/stream.ppm"
NS=$($PY -c "import sys; d=open(sys.argv[1],'rb').read(); print(d.count(b'P6\n640 480\n255\n'))" "$W/stream.ppm")

# the model: the shipped one, else an untrained network of the same shape
MODEL=models/fer4.safetensors
if [ ! -f "$MODEL" ]; then
	$PY -c "
import numpy as np
with open('$W/r.npy', 'wb') as f:
    np.save(f, np.random.default_rng(1).integers(0, 256, (64, 48, 48), dtype=np.uint8))
    np.save(f, np.arange(64) % 4)"
	bin/emotion-train --arch models/vibify.yaml --epochs 1 --no-augment --threads 1 --no-run-dir -q \
		-o "$W/m.safetensors" "$W/r.npy"
	MODEL=$W/m.safetensors
	note="(no models/fer4.safetensors: an untrained network of the same architecture)"
else
	note="(models/fer4.safetensors)"
fi
EP="bin/emotion-predict --threads 1 --cascade $CASC"

: > "$W/d.py"; : > "$W/d.vb"; : > "$W/d2.vb"; : > "$W/u.py"; : > "$W/u.vb"; : > "$W/s.py"; : > "$W/s.vb"; : > "$W/n.vb"
# peer lines: wall-ms cpu-ms rss-KiB; ours: the same from /usr/bin/time over N frames
peer() { # OUTFILE ARGS...
	o=$1; shift
	/usr/bin/time -f "%M" -o "$W/t" $PY bench/05-emotion-predict-peer.py "$@" > "$W/o"
	echo "$(sed 's/.*ms_per_frame=\([0-9.]*\) cpu_ms_per_frame=\([0-9.]*\).*/\1 \2/' "$W/o") $(cat "$W/t")" >> "$o"
}
ours() { # OUTFILE FRAMES ARGS... (stdin passed on)
	o=$1 n=$2; shift 2
	/usr/bin/time -f "%e %U %S %M" -o "$W/t" $EP "$@" > /dev/null
	awk -v n="$n" '{ print $1 * 1000 / n, ($2 + $3) * 1000 / n, $4 }' "$W/t" >> "$o"
}
r=0
while [ "$r" -lt "$RUNS" ]; do
	peer "$W/d.py" detect "$CASC" "$W"/f/*.jpg
	ours "$W/d.vb" "$NF" --detect-only "$W"/f/*.jpg
	ours "$W/d2.vb" "$NF" --threads 2 --detect-only "$W"/f/*.jpg
	peer "$W/u.py" full "$CASC" "$W"/f/*.jpg
	ours "$W/u.vb" "$NF" -m "$MODEL" "$W"/f/*.jpg
	peer "$W/s.py" stream "$CASC" "$W/stream.ppm" 40
	ours "$W/s.vb" "$NS" -m "$MODEL" < "$W/stream.ppm"
	ours "$W/n.vb" "$NS" -m "$MODEL" --redetect 1 < "$W/stream.ppm"
	r=$((r + 1))
done

row() { # LABEL PYFILE VBFILE
	pc=$(med "$2" 2); vc=$(med "$3" 2); pw=$(med "$2" 1); vw=$(med "$3" 1); pm=$(med "$2" 3); vm=$(med "$3" 3)
	awk -v l="$1" -v pc="$pc" -v vc="$vc" -v pw="$pw" -v vw="$vw" -v pm="$pm" -v vm="$vm" 'BEGIN {
		printf "| %s | %.1f ms | %.1f ms (%.0f fps) | **%.1fx** | %.0f / %.0f ms | %.0f / %.0f MiB |\n",
			l, pc, vc, 1000 / vc, pc / vc, pw, vw, pm / 1024, vm / 1024 }'
}
echo "### emotion-predict: 640x480 frames, one thread each (OpenCV 4.6 + PyTorch 1.13 vs Vibify)"
echo
echo "| per frame, median of $RUNS runs | OpenCV (+ PyTorch) CPU | emotion-predict CPU | speed-up | wall: peer / ours | peak RSS: peer / ours |"
echo "|---|---|---|---|---|---|"
row "face detection ($NF photos; ours: whole process, JPEG decoding included)" "$W/d.py" "$W/d.vb"
pw=$(med "$W/d.py" 1); vw=$(med "$W/d2.vb" 1); vc=$(med "$W/d2.vb" 2); vm=$(med "$W/d2.vb" 3)
awk -v pw="$pw" -v vw="$vw" -v vc="$vc" -v vm="$vm" 'BEGIN {
	printf "| the same, ours with --threads 2 (both cores): **wall** time | %.1f ms wall | %.1f ms wall (%.0f fps; CPU %.1f ms) | **%.1fx** | | %.0f MiB |\n",
		pw, vw, 1000 / vw, vc, pw / vw, vm / 1024 }'
row "full frame to emotion rows (ours: whole process)" "$W/u.py" "$W/u.vb"
row "PPM stream, $NS frames, tracking (ours: whole process)" "$W/s.py" "$W/s.vb"
row "the same stream, whole frame searched every frame" "$W/s.py" "$W/n.vb"
echo
echo "CPU time (user + sys) per frame is the measure, because the machine is shared; wall"
echo "times are shown too."
echo "Model: $note.  Peer times are measured inside the Python process (imports and"
echo "set-up excluded; the stream peer over its first 40 frames, every frame searched);"
echo "ours include everything unless said otherwise."
