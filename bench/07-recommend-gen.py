#!/usr/bin/python3
"""Write a feedback log of N events over the catalogue's ids (the format of
lib/feedback.h), one second apart, for the benchmark.

usage: 07-recommend-gen.py SONGS.csv N > feedback.log
"""
import csv
import random
import sys

ids = [r["id"] for r in csv.DictReader(open(sys.argv[1], newline=""))]
n = int(sys.argv[2])
r = random.Random(7)
kinds = ["play"] * 50 + ["skip"] * 30 + ["like"] * 15 + ["dislike"] * 5
emos = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
t0 = 1767225600  # 2026-01-01T00:00:00Z
lines = []
for i in range(n):
    t = t0 + i
    d, s = divmod(t - t0, 86400)
    lines.append("2026-%02d-%02dT%02d:%02d:%02d.%03dZ\t%s\t%s\t%s\n" % (
        1 + d // 28 % 12, 1 + d % 28, s // 3600, s // 60 % 60, s % 60, i % 1000,
        r.choice(ids), r.choice(kinds), r.choice(emos)))
sys.stdout.write("".join(lines))
