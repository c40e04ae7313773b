#!/usr/bin/python3
"""Reference FER2013 loader in Python (PIL + numpy), doing fer-prep's job the
plain way: the tests compare fer-prep's output with it byte for byte, and
bench/02-fer-prep.sh times it as the Python peer.

  fer-ref.py [--classes LIST] [--split NAME] INPUT OUT.npy

INPUT is an image tree (<emotion>/<Usage>_<id>.jpg|png anywhere below it,
taken in bytewise order of the relative path) or Kaggle's CSV.  OUT gets
X (uint8, N x 48 x 48) then y (int64).
"""
import argparse
import csv
import os
import sys

import numpy as np
from PIL import Image

FER = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
SPLITS = ["Training", "PublicTest", "PrivateTest"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--classes", default="angry,happy,sad,neutral")
    ap.add_argument("--split", default="all")
    ap.add_argument("input")
    ap.add_argument("out")
    a = ap.parse_args()
    classes = FER if a.classes == "all" else a.classes.split(",")
    X, y = [], []
    if os.path.isdir(a.input):
        paths = []
        for dp, dn, fn in os.walk(a.input):
            for f in fn:
                if f.lower().endswith((".jpg", ".jpeg", ".png")):
                    paths.append(os.path.relpath(os.path.join(dp, f), a.input))
        paths.sort(key=lambda p: p.encode())
        for p in paths:
            emotion = p.split("/")[-2]
            usage = os.path.basename(p).split("_")[0]
            if emotion not in classes or (a.split != "all" and usage != a.split):
                continue
            X.append(np.asarray(Image.open(os.path.join(a.input, p)).convert("L")))
            y.append(classes.index(emotion))
    else:
        with open(a.input, newline="") as f:
            for row in csv.DictReader(f):
                emotion = FER[int(row["emotion"])]
                if emotion not in classes or (a.split != "all" and row["Usage"] != a.split):
                    continue
                X.append(np.array(row["pixels"].split(), dtype=np.uint8).reshape(48, 48))
                y.append(classes.index(emotion))
    X = np.stack(X) if X else np.zeros((0, 48, 48), dtype=np.uint8)
    with open(a.out, "wb") as f:
        np.save(f, X)
        np.save(f, np.array(y, dtype="<i8"))


if __name__ == "__main__":
    sys.exit(main())
