/* kmeans.h - k-means clustering: k-means++ seeding, Lloyd iterations with
 * distances through BLAS, several restarts; and the silhouette score.
 *
 * The algorithm follows scikit-learn's KMeans (init="k-means++",
 * algorithm="lloyd"): greedy k-means++ with 2 + floor(ln k) candidate
 * centres per step, keeping the one that lowers the potential most; Lloyd
 * iterations until the labels stop changing or the squared centre shift
 * summed over the centres is at most tol times the mean column variance; an
 * empty cluster is moved to the point farthest from its centre; the run
 * with the lowest inertia wins (the first on ties).  Results depend only on
 * the data, the options and the seed; restart r draws from
 * vb_rng_split(seed, r).
 */
#ifndef VB_KMEANS_H
#define VB_KMEANS_H

#include <stdint.h>

struct vb_kmeans_opt {
	int k;          /* clusters, 1 <= k <= n */
	int restarts;   /* independent seedings, >= 1 (default 10) */
	int max_iter;   /* Lloyd iterations per restart, >= 1 (default 300) */
	double tol;     /* relative tolerance, >= 0 (default 1e-4) */
	uint64_t seed;  /* every random choice derives from it */
};

/* Fill *o with the defaults above for k clusters (seed 42). */
void vb_kmeans_defaults(struct vb_kmeans_opt *o, int k);

struct vb_kmeans {
	int k, d;
	long n;
	double *centers;  /* k x d, row-major; owned */
	int *labels;      /* n cluster ids in [0, k); owned */
	long *sizes;      /* k cluster sizes; owned */
	double inertia;   /* sum of squared distances to the own centre */
	int n_iter;       /* Lloyd iterations of the winning restart */
	int best_restart; /* index of the winning restart */
};

/* Cluster X (n x d, row-major).  Fills *km (release with vb_kmeans_free).
 * 0, or -1 with the error set (bad options, non-finite data, no memory). */
int vb_kmeans_fit(struct vb_kmeans *km, const double *X, long n, int d,
		  const struct vb_kmeans_opt *o);

/* Release what vb_kmeans_fit allocated; accepts NULL and a zeroed struct. */
void vb_kmeans_free(struct vb_kmeans *km);

/* Mean silhouette coefficient (Euclidean) of nsets labelings of the same
 * points X (n x d): labels[s] holds n ids in [0, ks[s]).  A point alone in
 * its cluster scores 0, as in scikit-learn.  If 0 < sample < n, the score
 * is that of `sample` points drawn without replacement with `seed` (all
 * labelings use the same points), as silhouette_score(sample_size=...).
 * out[s] receives each score (NAN when a labeling has fewer than 2
 * clusters among the points used).  Cost: O(m^2 d) for m points used.
 * 0 or -1. */
int vb_silhouette(const double *X, long n, int d, int nsets, const int *const *labels,
		  const int *ks, long sample, uint64_t seed, double *out);

#endif
