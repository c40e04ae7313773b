#!/usr/bin/python3
"""The Python peer of song-scale: pandas + scikit-learn's StandardScaler doing
the same job -- read the TidyTuesday catalogue (gzip), drop rows without id
or name, keep the first row of each id, select the 11 features, standardise,
write id,name,artist,genre, the raw features and z_<feature> as CSV.

usage: 03-song-scale-peer.py INPUT OUTPUT
"""
import sys

import pandas as pd
from sklearn.preprocessing import StandardScaler

FEATURES = ['danceability', 'energy', 'key', 'loudness', 'mode', 'speechiness',
            'acousticness', 'instrumentalness', 'liveness', 'valence', 'tempo']

d = pd.read_csv(sys.argv[1])
d = d.dropna(subset=['track_id', 'track_name']).drop_duplicates('track_id')
z = StandardScaler().fit_transform(d[FEATURES].values)
out = pd.DataFrame({'id': d['track_id'].values, 'name': d['track_name'].values,
                    'artist': d['track_artist'].values, 'genre': d['playlist_genre'].values})
for f in FEATURES:
    out[f] = d[f].values
for i, f in enumerate(FEATURES):
    out['z_' + f] = z[:, i]
out.to_csv(sys.argv[2], index=False)
