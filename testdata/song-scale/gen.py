#!/usr/bin/python3
"""Make the song-scale fixtures and their expected outputs.

The inputs imitate the three catalogue schemas (made-up tracks, no real
data); the expected outputs are computed here in plain Python -- population
mean and std, z = (x - mean) / std, floats printed as repr() prints them --
independently of song-scale.  Run from anywhere: writes next to itself.
"""
import csv, io, math, os

HERE = os.path.dirname(os.path.abspath(__file__))
FEAT = ['danceability', 'energy', 'key', 'loudness', 'mode', 'speechiness',
        'acousticness', 'instrumentalness', 'liveness', 'valence', 'tempo']


def fmt(v):
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return repr(v)


def track(i):
    """Feature values of made-up track i, with few decimals."""
    return [round(0.2 + (i * 37 % 61) / 100, 3), round(0.1 + (i * 53 % 83) / 100, 3),
            i * 7 % 12, round(-20 + (i * 31 % 170) / 10, 3), i % 2,
            round(0.03 + (i * 13 % 29) / 1000, 4), [0.0134, 4.14e-06, 0.5][i % 3],
            [0, 1.01e-06, 0.000123][i % 3], round(0.05 + (i * 11 % 40) / 100, 3),
            round((i * 19 % 97) / 100, 3), round(60 + (i * 29 % 1400) / 10, 3)]


NAMES = ['Blue Hour', 'Say "Yes", Maybe', 'Été', 'Line\nBreak', 'NA', 'Quiet',
         'Loud Part 2', ' padded ', 'Ünïcode ♫', 'Last']


def write(name, text):
    with open(os.path.join(HERE, name), 'w', newline='') as f:
        f.write(text)


def csvtext(rows, crlf=False):
    s = io.StringIO()
    w = csv.writer(s, lineterminator='\r\n' if crlf else '\n')
    w.writerows(rows)
    return s.getvalue()


def vbcsv(rows):
    """CSV as song-scale writes it: quotes only around a field holding a
    comma, quote, CR or LF, or beginning or ending with a space."""
    def field(x):
        x = str(x)
        if any(c in x for c in ',"\r\n') or x[:1] == ' ' or x[-1:] == ' ':
            return '"' + x.replace('"', '""') + '"'
        return x
    return ''.join(','.join(field(x) for x in r) + '\n' for r in rows)


def expected(rows, feats):
    """rows: [id, name, artist, genre, {feature: value}] already cleaned."""
    cols = {f: [r[4][f] for r in rows] for f in feats}
    mean = {f: sum(cols[f]) / len(rows) for f in feats}
    std = {}
    for f in feats:
        ss = 0.0
        for x in cols[f]:
            d = x - mean[f]
            ss += d * d
        std[f] = math.sqrt(ss / len(rows))
    out = [['id', 'name', 'artist', 'genre'] + feats + ['z_' + f for f in feats]]
    for r in rows:
        z = [(r[4][f] - mean[f]) / (std[f] if std[f] > 0 else 1) for f in feats]
        out.append(r[:4] + [fmt(r[4][f]) for f in feats] + [fmt(v) for v in z])
    return vbcsv(out), mean, std


# --- tidytuesday: duplicates, an NA name, an empty id, quoting ---------------
head = ['track_id', 'track_name', 'track_artist', 'track_popularity', 'playlist_genre',
        'playlist_subgenre'] + FEAT + ['duration_ms']
rows, keep, seen = [head], [], set()
for i in range(10):
    tid = 'trk%02dAbC' % i
    rows.append([tid, NAMES[i], 'Artist %d' % (i % 4), 50 + i, ['pop', 'rock', 'r&b'][i % 3],
                 'sub, genre', *track(i), 180000 + i])
    if NAMES[i] != 'NA':
        keep.append([tid, NAMES[i], 'Artist %d' % (i % 4), ['pop', 'rock', 'r&b'][i % 3],
                     dict(zip(FEAT, track(i)))])
# a repeat of track 1 in another playlist (dropped), one without an id
rows.append(['trk01AbC', 'Say "Yes", Maybe', 'Artist 1', 51, 'latin', 'x', *track(20), 1])
rows.append(['', 'No Id', 'Artist 9', 1, 'edm', 'x', *track(21), 1])
write('tidy.csv', csvtext(rows))
out, mean, std = expected(keep, FEAT)
write('tidy.ok', out)
out2, _, _ = expected(keep, ['energy', 'tempo'])
write('tidy-energy-tempo.ok', out2)

# --- kaggle114k: unnamed index column, ';'-separated artists ----------------
head = ['', 'track_id', 'artists', 'album_name', 'track_name', 'popularity', 'duration_ms',
        'explicit', *FEAT, 'time_signature', 'track_genre']
rows, keep = [head], []
for i in range(6):
    art = ';'.join('Singer %d' % k for k in range(i % 3 + 1))
    rows.append([i, 'k%dXyZ' % i, art, 'Album', 'Song %d' % i, 40, 200000, 'False', *track(i + 30), 4, 'acoustic'])
    keep.append(['k%dXyZ' % i, 'Song %d' % i, art, 'acoustic', dict(zip(FEAT, track(i + 30)))])
write('kaggle.csv', csvtext(rows))
write('kaggle.ok', expected(keep, FEAT)[0])

# --- genres_v2: CRLF, no artist, floats like 4.14E-06 -------------------------
head = FEAT + ['type', 'id', 'uri', 'genre', 'song_name', 'Unnamed: 0', 'title']
rows, keep = [head], []
for i in range(7):
    v = track(i + 50)
    txt = [('%.2E' % x) if isinstance(x, float) and 0 < x < 1e-4 else x for x in v]
    rows.append([*txt, 'audio_features', 'g%dQq' % i, 'spotify:track:g%dQq' % i, 'Dark Trap',
                 'Tune %d' % i, '', ''])
    keep.append(['g%dQq' % i, 'Tune %d' % i, '', 'Dark Trap', dict(zip(FEAT, [float(t) for t in txt]))])
write('genres.csv', '\ufeff' + csvtext(rows, crlf=True))
write('genres.ok', expected(keep, FEAT)[0])
