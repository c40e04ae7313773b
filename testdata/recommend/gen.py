#!/usr/bin/python3
"""Generate recommend's test fixtures (deterministic; run from anywhere).

songs.csv          160 songs in song-cluster's layout (the last 40 crowd the
                   sad corner, half of them acoustic, two thirds r&b): id,name,artist,genre, the
                   raw audio features, their z_ columns, cluster,mood,pc1,pc2
emotions4.csv      emotion-predict rows with the 4-class columns
emotions7.csv      the same listener with the 7-class columns
stream.csv         a 10 s stream at 30 frames/s: sad for 4 s (with a 5-frame
                   angry blip at 2 s), then happy; faces missing in frames 150-159
"""
import math
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
FEATS = ["danceability", "energy", "key", "loudness", "mode", "speechiness",
         "acousticness", "instrumentalness", "liveness", "valence", "tempo"]
GENRES = ["pop", "rock", "rap", "edm", "latin", "r&b"]


def q(s):
    s = str(s)
    if any(c in s for c in ',"\n\r') or s != s.strip():
        return '"' + s.replace('"', '""') + '"'
    return s


def songs():
    r = random.Random(2026)
    rows = []
    for i in range(160):
        sad_corner = i >= 120
        acoustic = r.random() < (0.5 if sad_corner else 0.35)
        row = {
            "id": "s%03d" % i,
            "name": "Song %03d" % i,
            "artist": "Artist %02d" % (i % 40),
            "genre": "r&b" if sad_corner and i % 3 else GENRES[i % 6],
            "danceability": round(r.uniform(0.3, 0.9), 3),
            "energy": round(r.uniform(0.1, 0.4) if sad_corner else r.uniform(0.1, 0.95), 3),
            "key": r.randint(0, 11),
            "loudness": round(r.uniform(-16, -9) if acoustic else r.uniform(-9, -3), 3),
            "mode": r.randint(0, 1),
            "speechiness": round(r.uniform(0.03, 0.3), 4),
            "acousticness": round(r.uniform(0.6, 0.95) if acoustic else r.uniform(0.01, 0.3), 4),
            "instrumentalness": round(r.uniform(0, 0.8), 4) if r.random() < 0.2 else 0,
            "liveness": round(r.uniform(0.05, 0.4), 4),
            "valence": round(r.uniform(0.08, 0.35) if sad_corner else r.uniform(0.05, 0.95), 3),
            "tempo": round(r.uniform(70, 170), 3),
        }
        rows.append(row)
    rows[7]["name"] = 'Hello, "World"'
    rows[8]["name"] = "Two\nLines"
    n = len(rows)
    for f in FEATS:
        m = sum(x[f] for x in rows) / n
        sd = math.sqrt(sum((x[f] - m) ** 2 for x in rows) / n)
        for x in rows:
            x["z_" + f] = (x[f] - m) / sd
    for x in rows:
        v, e = x["valence"], x["energy"]
        x["cluster"], x["mood"] = ((0, "happy") if v >= 0.5 and e >= 0.5 else
                                   (1, "calm") if v >= 0.5 else
                                   (2, "energetic") if e >= 0.5 else (3, "sad"))
        x["pc1"] = 0.6 * x["z_energy"] + 0.5 * x["z_loudness"] - 0.4 * x["z_acousticness"]
        x["pc2"] = 0.7 * x["z_valence"] + 0.5 * x["z_danceability"]
    cols = ["id", "name", "artist", "genre"] + FEATS + ["z_" + f for f in FEATS] + \
        ["cluster", "mood", "pc1", "pc2"]
    with open(os.path.join(HERE, "songs.csv"), "w", newline="") as out:
        out.write(",".join(cols) + "\n")
        for x in rows:
            out.write(",".join(q(repr(x[c]) if isinstance(x[c], float) else x[c])
                               for c in cols) + "\n")


def emotions():
    four = ["angry", "happy", "sad", "neutral"]
    seven = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
    # a sad listener, two faces in frame 1, no face in frame 2
    probs = [
        (0, 0, {"angry": 0.1, "happy": 0.05, "sad": 0.7, "neutral": 0.15}),
        (1, 0, {"angry": 0.05, "happy": 0.05, "sad": 0.8, "neutral": 0.1}),
        (1, 1, {"angry": 0.1, "happy": 0.1, "sad": 0.6, "neutral": 0.2}),
        (2, None, None),
    ]
    for name, cls in (("emotions4.csv", four), ("emotions7.csv", seven)):
        with open(os.path.join(HERE, name), "w") as out:
            out.write(",".join(["frame", "face", "x", "y", "w", "h"] + cls + ["emotion"]) + "\n")
            for fr, face, p in probs:
                if p is None:
                    out.write("%d,,,,,,%s,none\n" % (fr, ",".join("" for _ in cls)))
                    continue
                vals = [p.get(c, 0.0) for c in cls]
                top = max(p, key=p.get)
                out.write("%d,%d,10,20,48,48,%s,%s\n" % (fr, face, ",".join("%.4f" % v for v in vals), top))
    with open(os.path.join(HERE, "stream.csv"), "w") as out:
        out.write(",".join(["frame", "face", "x", "y", "w", "h"] + four + ["emotion"]) + "\n")
        for fr in range(300):
            if 150 <= fr < 160:
                out.write("%d,,,,,,,,,,none\n" % fr)
                continue
            if fr < 120:
                p = {"angry": 0.05, "happy": 0.05, "sad": 0.8, "neutral": 0.1}
                if 60 <= fr < 65:
                    p = {"angry": 0.85, "happy": 0.05, "sad": 0.05, "neutral": 0.05}
            else:
                p = {"angry": 0.02, "happy": 0.85, "sad": 0.03, "neutral": 0.1}
            top = max(p, key=p.get)
            out.write("%d,0,100,80,96,96,%s,%s\n" % (fr, ",".join("%.2f" % p[c] for c in four), top))


songs()
emotions()
