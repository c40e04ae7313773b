#!/usr/bin/python3
"""Built-in data of `make pipeline` when no DATA is given.

  gen.py songs FILE   a song catalogue in the TidyTuesday spotify_songs.csv
                      schema (committed as testdata/pipeline/songs.csv)
  gen.py faces FILE   synthetic FER2013 faces as Kaggle's fer2013.csv
                      (emotion,pixels,Usage), written at pipeline time

Everything is drawn from fixed seeds, so the outputs are the same on every
machine with NumPy.  Faces: a lit oval on a noisy background, two eyes,
brows and a mouth whose shape tells the emotion (angry: brows slanting in,
tight mouth; happy: smile; sad: frown, brows slanting out; neutral: straight
mouth; surprise: open round mouth, dropped by fer-prep's default classes),
with random position, size, contrast and noise, so that a network learns
them in a few epochs but not perfectly.  Songs: four mood groups on the
valence-energy plane (happy, energetic/angry, sad, calm) with the other
audio features correlated as in real catalogues, six genres, repeated
tracks (the same track in two playlists) and a few rows without a name.
"""
import sys

import numpy as np

# FER2013 codes: 0 angry, 3 happy, 4 sad, 5 surprise, 6 neutral
FER = {'angry': 0, 'happy': 3, 'sad': 4, 'surprise': 5, 'neutral': 6}
SPLITS = (('Training', 200), ('PublicTest', 40), ('PrivateTest', 40))


def face(rng, emotion):
    h = w = 48
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    img = rng.uniform(40, 110) + rng.normal(0, 1, (h, w)).cumsum(1) * 2
    cx, cy = 24 + rng.normal(0, 1.5), 25 + rng.normal(0, 1.5)
    s = rng.uniform(0.85, 1.1)
    skin = rng.uniform(140, 200)
    oval = ((xx - cx) / (15 * s)) ** 2 + ((yy - cy) / (19 * s)) ** 2 <= 1
    img[oval] = skin + (yy[oval] - cy) * 0.8
    dark = skin - rng.uniform(90, 130)

    def disc(x, y, r, v):
        img[(xx - x) ** 2 + (yy - y) ** 2 <= r * r] = v

    def line(x0, y0, x1, y1, v, t=1.2):
        for u in np.linspace(0, 1, 40):
            disc(x0 + (x1 - x0) * u, y0 + (y1 - y0) * u, t, v)

    ex, ey = 6.5 * s, cy - 5 * s
    for sgn in (-1, 1):
        disc(cx + sgn * ex, ey, 2.0 * s, dark)
    # brows: inner end lower for angry, higher for sad
    tilt = {'angry': 2.5, 'sad': -2.5}.get(emotion, 0) * s + rng.normal(0, 0.4)
    for sgn in (-1, 1):
        line(cx + sgn * 3 * s, ey - 4 * s + tilt, cx + sgn * 10 * s, ey - 4 * s - tilt * 0.5, dark)
    my = cy + 8 * s
    if emotion == 'surprise':
        disc(cx, my, 3.2 * s, dark)
    else:
        bend = {'happy': -3.5, 'sad': 3.0}.get(emotion, 0) * s + rng.normal(0, 0.5)
        half = (7 if emotion != 'angry' else 5) * s
        for u in np.linspace(-1, 1, 30):
            disc(cx + u * half, my + bend * (u * u - 0.3), 1.1, dark)
    img = (img - img.mean()) * rng.uniform(0.7, 1.2) + img.mean() + rng.uniform(-15, 15)
    img += rng.normal(0, 9, (h, w))
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def faces(path):
    rng = np.random.default_rng(2013)
    rows = []
    for usage, per in SPLITS:
        for emotion, code in FER.items():
            n = per if emotion != 'surprise' else per // 10
            for _ in range(n):
                rows.append((code, face(rng, emotion), usage))
    order = rng.permutation(len(rows))
    with open(path, 'w') as f:
        f.write('emotion,pixels,Usage\n')
        for i in order:
            code, img, usage = rows[i]
            f.write('%d,%s,%s\n' % (code, ' '.join(map(str, img.ravel())), usage))


HEADER = ('track_id,track_name,track_artist,track_popularity,track_album_id,track_album_name,'
          'track_album_release_date,playlist_name,playlist_id,playlist_genre,playlist_subgenre,'
          'danceability,energy,key,loudness,mode,speechiness,acousticness,instrumentalness,'
          'liveness,valence,tempo,duration_ms')
GENRES = {'edm': 'big room', 'rap': 'trap', 'pop': 'dance pop', 'r&b': 'neo soul',
          'latin': 'reggaeton', 'rock': 'classic rock'}
B62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'


def songs(path, n=480):
    rng = np.random.default_rng(1960)
    # mood centres in (valence, energy)
    moods = {'happy': (0.78, 0.80), 'energetic': (0.25, 0.85), 'sad': (0.22, 0.30), 'calm': (0.70, 0.32)}
    artists = ['%s %s' % (a, b) for a in ('The Blue', 'Lola', 'DJ North', 'Marco', 'Nina', 'Old Pine',
                                           'Ruby', 'Sol')
               for b in ('Rivers', 'Park', 'Ortiz', 'Lane', 'Kay')]
    genres = list(GENRES)

    def rid():
        return ''.join(B62[i] for i in rng.integers(0, 62, 22))

    out = []
    for i in range(n):
        mood = list(moods)[i % 4]
        v0, e0 = moods[mood]
        val = float(np.clip(rng.normal(v0, 0.09), 0.02, 0.99))
        en = float(np.clip(rng.normal(e0, 0.09), 0.02, 1.0))
        genre = genres[int(rng.integers(0, 6))]
        dance = float(np.clip(0.35 + 0.4 * val + rng.normal(0, 0.08), 0.1, 0.98))
        loud = float(np.clip(-16 + 13 * en + rng.normal(0, 1.5), -30, 0))
        acoustic = float(np.clip(0.9 - 0.9 * en + rng.normal(0, 0.08), 0, 0.99))
        tempo = float(np.clip(80 + 70 * en + rng.normal(0, 12), 60, 210))
        row = [rid(), 'Song %d' % (i + 1), artists[int(rng.integers(0, len(artists)))],
               str(int(rng.integers(0, 101))), rid(), 'Album %d' % (i // 8 + 1),
               '20%02d-%02d-%02d' % (rng.integers(0, 20), rng.integers(1, 13), rng.integers(1, 29)),
               'Playlist %s' % genre, rid(), genre, GENRES[genre],
               '%.3f' % dance, '%.3f' % en, str(int(rng.integers(0, 12))), '%.3f' % loud,
               str(int(rng.integers(0, 2))), '%.4f' % float(rng.uniform(0.025, 0.3)),
               '%.4g' % acoustic, '%.3g' % float(rng.uniform(0, 0.02) if rng.random() < 0.8 else rng.uniform(0, 0.9)),
               '%.4f' % float(rng.uniform(0.05, 0.4)), '%.3f' % val, '%.3f' % tempo,
               str(int(rng.integers(120000, 320000)))]
        if i % 23 == 0:
            row[1] = ''          # no name: dropped by song-scale
        out.append(row)
        if i % 17 == 0:          # the same track in another playlist
            dup = list(row)
            dup[7] = 'Another %s mix' % mood
            out.append(dup)

    def q(s):
        return '"%s"' % s.replace('"', '""') if any(c in s for c in ',"\n') else s
    with open(path, 'w') as f:
        f.write(HEADER + '\n')
        for r in out:
            f.write(','.join(q(x) for x in r) + '\n')


if __name__ == '__main__':
    if len(sys.argv) != 3 or sys.argv[1] not in ('songs', 'faces'):
        sys.exit('usage: gen.py songs|faces FILE')
    (songs if sys.argv[1] == 'songs' else faces)(sys.argv[2])
