#!/usr/bin/python3
# The scikit-learn peer of song-cluster, doing the same job: read
# song-scale's CSV, PCA(10) on the z_ columns, KMeans(4, n_init=10,
# k-means++), name each cluster by its mean valence and energy, write every
# column plus cluster, mood, pc1, pc2.  With --report it prints the
# explained-variance ratios and the inertia on stderr for the agreement
# checks ("evr v1 v2 ..." and "inertia X").
import sys
import pandas as pd
from sklearn.decomposition import PCA
from sklearn.cluster import KMeans

args = sys.argv[1:]
report = '--report' in args
args = [a for a in args if a != '--report']
src = args[0] if args else sys.stdin
dst = args[1] if len(args) > 1 else sys.stdout
seed = 42

df = pd.read_csv(src, keep_default_na=False, dtype={'id': str, 'name': str, 'artist': str, 'genre': str})
zc = [c for c in df.columns if c.startswith('z_')]
X = df[zc].to_numpy(dtype=float)
pca = PCA(n_components=min(10, len(zc)))
Y = pca.fit_transform(X)
km = KMeans(n_clusters=4, n_init=10, init='k-means++', random_state=seed).fit(Y)
df['cluster'] = km.labels_
cent = df.groupby('cluster')[['valence', 'energy']].mean()
vm, em = df.valence.mean(), df.energy.mean()
mood = {c: ('happy' if v >= vm and e >= em else 'energetic' if e >= em
            else 'calm' if v >= vm else 'sad') for c, v, e in cent.itertuples()}
df['mood'] = df.cluster.map(mood)
df['pc1'] = Y[:, 0]
df['pc2'] = Y[:, 1]
df.to_csv(dst, index=False)
if report:
    print('evr ' + ' '.join('%.10f' % r for r in pca.explained_variance_ratio_), file=sys.stderr)
    print('inertia %.6f' % km.inertia_, file=sys.stderr)
