"""Python peer of emotion-predict for bench/05-emotion-predict.sh.

usage: 05-emotion-predict-peer.py detect CASCADE FRAME...
       05-emotion-predict-peer.py full CASCADE FRAME...
       05-emotion-predict-peer.py stream CASCADE FILE.ppm [MAXFRAMES]

OpenCV 4.6 on one thread (cv2.setNumThreads(1)), detectMultiScale with its
defaults; `full` and `stream` also crop each face, shrink it to 48x48 with
INTER_AREA and run the original network (models/vibify.yaml, 4 classes) in
PyTorch on one thread.  Prints key=value figures measured inside the
process (imports and model set-up excluded): wall and CPU ms per frame.
"""
import sys, time
import numpy as np
import cv2

mode, cascade = sys.argv[1], sys.argv[2]
cv2.setNumThreads(1)
cc = cv2.CascadeClassifier(cascade)


def network():
    import torch
    from torch import nn
    torch.set_num_threads(1)

    def block(i, o):
        return [nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.Conv2d(o, o, 3, padding=1),
                nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25)]
    net = nn.Sequential(*block(1, 32), *block(32, 64), *block(64, 128), nn.Flatten(),
                        nn.Linear(128 * 6 * 6, 512), nn.ReLU(), nn.BatchNorm1d(512), nn.Dropout(0.5),
                        nn.Linear(512, 4), nn.Softmax(dim=1)).eval()
    return torch, net


def classify(torch, net, gray, boxes):
    if len(boxes) == 0:
        return 0
    crops = np.stack([cv2.resize(gray[y:y + h, x:x + w], (48, 48), interpolation=cv2.INTER_AREA)
                      for (x, y, w, h) in boxes]).astype(np.float32) / 255
    with torch.no_grad():
        p = net(torch.from_numpy(crops[:, None]))
    return int(p.shape[0])


def ppm_frames(path):
    data = open(path, 'rb').read()
    pos = 0
    while pos < len(data):
        fields = []
        while len(fields) < 4:
            while data[pos:pos + 1].isspace():
                pos += 1
            end = pos
            while not data[end:end + 1].isspace():
                end += 1
            fields.append(data[pos:end])
            pos = end
        pos += 1
        w, h = int(fields[1]), int(fields[2])
        rgb = np.frombuffer(data, np.uint8, w * h * 3, pos).reshape(h, w, 3)
        pos += w * h * 3
        yield cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


if mode == 'detect':
    grays = [cv2.cvtColor(cv2.imread(p), cv2.COLOR_BGR2GRAY) for p in sys.argv[3:]]
    t, c = time.perf_counter(), time.process_time()
    for g in grays:
        cc.detectMultiScale(g)
    t, c = time.perf_counter() - t, time.process_time() - c
    print(f'ms_per_frame={t / len(grays) * 1e3:.3f} cpu_ms_per_frame={c / len(grays) * 1e3:.3f} frames={len(grays)}')
elif mode == 'full':
    torch, net = network()
    t, c = time.perf_counter(), time.process_time()
    n = 0
    for p in sys.argv[3:]:
        g = cv2.cvtColor(cv2.imread(p), cv2.COLOR_BGR2GRAY)
        n += classify(torch, net, g, cc.detectMultiScale(g))
    t, c = time.perf_counter() - t, time.process_time() - c
    k = len(sys.argv) - 3
    print(f'ms_per_frame={t / k * 1e3:.3f} cpu_ms_per_frame={c / k * 1e3:.3f} frames={k} faces={n}')
elif mode == 'stream':
    torch, net = network()
    t, c = time.perf_counter(), time.process_time()
    k = 0
    limit = int(sys.argv[4]) if len(sys.argv) > 4 else 1 << 30
    for g in ppm_frames(sys.argv[3]):
        classify(torch, net, g, cc.detectMultiScale(g))
        k += 1
        if k == limit:
            break
    t, c = time.perf_counter() - t, time.process_time() - c
    print(f'ms_per_frame={t / k * 1e3:.3f} cpu_ms_per_frame={c / k * 1e3:.3f} frames={k}')
