"""Compare emotion-predict's face boxes with OpenCV's detectMultiScale.

usage: emotion-predict-agree.py EMOTION_PREDICT CASCADE FACES_DIR [OPTIONS...]

Runs OpenCV (cv2.imread, BGR->gray, detectMultiScale with its defaults or
the same --scale-factor/--min-neighbors given in OPTIONS) and
`emotion-predict --detect-only` on every photograph under FACES_DIR, then
prints one line of key=value figures: OpenCV's boxes matched by ours at
IoU >= 0.5, our extra boxes, identical boxes, and the recall of both on the
imglab ground truth (dlib/*.xml) when present.
"""
import glob, os, subprocess, sys
import xml.etree.ElementTree as ET
import cv2

exe, cascade, top = sys.argv[1:4]
opts = sys.argv[4:]
cv2.setNumThreads(1)
sf, mn = 1.1, 3
for i, o in enumerate(opts):
    if o == '--scale-factor': sf = float(opts[i + 1])
    if o == '--min-neighbors': mn = int(opts[i + 1])

paths = sorted(p for p in glob.glob(os.path.join(top, '*', '*'))
               if p.lower().endswith(('.jpg', '.jpeg', '.png')))
cc = cv2.CascadeClassifier(cascade)
ref = {}
for p in paths:
    g = cv2.cvtColor(cv2.imread(p, cv2.IMREAD_COLOR), cv2.COLOR_BGR2GRAY)
    ref[p] = [tuple(int(v) for v in r) for r in cc.detectMultiScale(g, scaleFactor=sf, minNeighbors=mn)]

out = subprocess.run([exe, '--detect-only', '--cascade', cascade] + opts + paths,
                     check=True, capture_output=True, text=True).stdout.splitlines()
assert out[0] == 'frame,face,x,y,w,h', out[0]
ours = {p: [] for p in paths}
for line in out[1:]:
    f = line.split(',')
    if f[1] != '':
        ours[paths[int(f[0])]].append(tuple(int(v) for v in f[2:6]))

def iou(a, b):
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    i = max(0, x1 - x0) * max(0, y1 - y0)
    return i / (a[2] * a[3] + b[2] * b[3] - i)

def hit(a, boxes):
    return any(iou(a, b) >= 0.5 for b in boxes)

n_ref = sum(len(v) for v in ref.values())
n_ours = sum(len(v) for v in ours.values())
matched = sum(hit(a, ours[p]) for p in paths for a in ref[p])
extra = sum(not hit(b, ref[p]) for p in paths for b in ours[p])
same = sum(len(set(ref[p]) & set(ours[p])) for p in paths)

# ground truth
gt_n = gt_cv = gt_ours = 0
for x in glob.glob(os.path.join(top, 'dlib', '*.xml')):
    for im in ET.parse(x).getroot().iter('image'):
        p = os.path.join(top, 'dlib', im.get('file'))
        if p not in ref:
            continue
        for b in im.iter('box'):
            g = (int(b.get('left')), int(b.get('top')), int(b.get('width')), int(b.get('height')))
            gt_n += 1
            gt_cv += hit(g, ref[p])
            gt_ours += hit(g, ours[p])

print(f'images={len(paths)} opencv={n_ref} ours={n_ours} matched={matched} extra={extra} '
      f'identical={same} gt={gt_n} gt_opencv={gt_cv} gt_ours={gt_ours}')
