#!/usr/bin/python3
"""The pandas peer of recommend for the benchmark: read the mood-labelled
catalogue and the feedback log with pandas, aggregate the log (latest
like/dislike per track, skips per track in the current emotion, liked
artists and genres), score every song by its circumplex fit to the emotion
times exp(learned terms), and pick N greedily with the same rules (no
disliked song, no repeated artist+name, no artist twice in a row, genre
spread).  It leaves out what recommend adds on top (the per-emotion SGD
preference model and the audio-feature similarity kernel), so it does less
work than recommend.

usage: 07-recommend-peer.py SONGS.csv FEEDBACK.log EMOTION N > playlist.csv
"""
import sys

import numpy as np
import pandas as pd

POINTS = {"angry": (0.25, 0.85), "disgust": (0.20, 0.60), "fear": (0.25, 0.70),
          "happy": (0.80, 0.75), "sad": (0.20, 0.25), "surprise": (0.70, 0.85),
          "neutral": (0.55, 0.45)}


def main():
    songs_path, log_path, emotion, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    s = pd.read_csv(songs_path, usecols=["id", "name", "artist", "genre", "mood",
                                         "valence", "energy"], keep_default_na=False)
    s = s.drop_duplicates("id").reset_index(drop=True)
    try:
        log = pd.read_csv(log_path, sep="\t", header=None, comment="#",
                          names=["time", "track", "event", "emotion"], quoting=3)
        log["time"] = pd.to_datetime(log["time"], format="%Y-%m-%dT%H:%M:%S.%fZ", errors="coerce")
        log = log.dropna()
    except (FileNotFoundError, pd.errors.EmptyDataError):
        log = pd.DataFrame(columns=["time", "track", "event", "emotion"])
    op = log[log.event.isin(["like", "dislike"])].drop_duplicates("track", keep="last")
    disliked = set(op.track[op.event == "dislike"])
    liked = op[op.event == "like"]
    skips = log[(log.event == "skip") & (log.emotion == emotion)].groupby("track").size()

    idx = pd.Index(s.id)
    learned = np.zeros(len(s))
    li = idx.get_indexer(liked.track)
    li = li[li >= 0]
    learned[li] += 0.5
    liked_artists = set(s.artist.values[li])
    liked_genres = set(s.genre.values[li])
    learned += np.where(s.artist.isin(liked_artists), 0.15, 0) + np.where(s.genre.isin(liked_genres), 0.05, 0)
    si = idx.get_indexer(skips.index)
    ok = si >= 0
    learned[si[ok]] -= 0.2 * np.minimum(skips.values[ok], 3)

    v0, e0 = POINTS[emotion]
    fit = np.exp(-((s.valence.values - v0) ** 2 + (s.energy.values - e0) ** 2) / (2 * 0.15 ** 2))
    score = fit * np.exp(learned)
    banned = s.id.isin(disliked).values
    score[banned] = -np.inf
    order = np.argsort(-score, kind="stable")
    genres = {}
    used = set()
    out, prev = [], None
    artist, name, genre = s.artist.values, s.name.values, s.genre.values
    for _ in range(n):
        best, bi = -np.inf, -1
        for i in order[:2000]:
            if score[i] == -np.inf:
                break
            if (artist[i], name[i]) in used or artist[i] == prev:
                continue
            sc = score[i] - 0.12 * genres.get(genre[i], 0)
            if sc > best:
                best, bi = sc, i
        if bi < 0:
            break
        used.add((artist[bi], name[bi]))
        genres[genre[bi]] = genres.get(genre[bi], 0) + 1
        prev = artist[bi]
        out.append((len(out) + 1, bi, best))
    rows = pd.DataFrame({"position": [p for p, _, _ in out],
                         "id": s.id.values[[i for _, i, _ in out]],
                         "name": name[[i for _, i, _ in out]],
                         "artist": artist[[i for _, i, _ in out]],
                         "genre": genre[[i for _, i, _ in out]],
                         "mood": s.mood.values[[i for _, i, _ in out]],
                         "valence": s.valence.values[[i for _, i, _ in out]],
                         "energy": s.energy.values[[i for _, i, _ in out]],
                         "score": ["%.4f" % b for _, _, b in out]})
    rows.to_csv(sys.stdout, index=False)


main()
