/* test-kmeans.c - lib/kmeans: exact partitions and inertias on small
 * data, determinism, empty clusters, stopping rules, silhouette values. */
#include "kmeans.h"
#include "err.h"
#include "tap.h"

#include <stdlib.h>

/* Four blobs of four points at distance 1 around (0,0) (10,0) (0,10) (10,10). */
static void blobs(double *X)
{
	static const double c[4][2] = { { 0, 0 }, { 10, 0 }, { 0, 10 }, { 10, 10 } };
	static const double o[4][2] = { { 1, 0 }, { -1, 0 }, { 0, 1 }, { 0, -1 } };

	for (int b = 0; b < 4; b++)
		for (int j = 0; j < 4; j++) {
			/* interleave blobs so the input order says nothing */
			X[(j * 4 + b) * 2] = c[b][0] + o[j][0];
			X[(j * 4 + b) * 2 + 1] = c[b][1] + o[j][1];
		}
}

static int blob_partition(const int *lab)
{
	for (int i = 0; i < 16; i++)
		for (int j = 0; j < 16; j++)
			if ((lab[i] == lab[j]) != (i % 4 == j % 4))
				return 0;
	return 1;
}

int main(void)
{
	double X[32];
	struct vb_kmeans km, km2;
	struct vb_kmeans_opt o;
	int allgood = 1;

	blobs(X);
	vb_kmeans_defaults(&o, 4);
	is_int(o.restarts, 10, "default restarts 10");
	is_int(o.max_iter, 300, "default max_iter 300");
	is_dbl(o.tol, 1e-4, 0, "default tol 1e-4");
	ok(vb_kmeans_fit(&km, X, 16, 2, &o) == 0, "fit 4 blobs");
	ok(blob_partition(km.labels), "one cluster per blob");
	is_dbl(km.inertia, 16, 1e-9, "inertia 16 (16 points at distance 1)");
	for (int c = 0; c < 4; c++)
		if (km.sizes[c] != 4)
			allgood = 0;
	ok(allgood, "sizes 4 4 4 4");
	allgood = 1;
	for (int c = 0; c < 4; c++) {
		double x = km.centers[2 * c], y = km.centers[2 * c + 1];

		if (!((fabs(x) < 1e-12 || fabs(x - 10) < 1e-12) && (fabs(y) < 1e-12 || fabs(y - 10) < 1e-12)))
			allgood = 0;
	}
	ok(allgood, "centres at the blob centres");
	ok(vb_kmeans_fit(&km2, X, 16, 2, &o) == 0, "fit again");
	ok(!memcmp(km.labels, km2.labels, 16 * sizeof *km.labels) && km.inertia == km2.inertia &&
	   km.best_restart == km2.best_restart, "same seed, same result");
	vb_kmeans_free(&km2);
	vb_kmeans_free(&km);

	/* greedy k-means++ finds the blobs from a single seeding, whatever the seed */
	allgood = 1;
	for (int s = 1; s <= 30; s++) {
		o.restarts = 1;
		o.seed = (uint64_t)s;
		if (vb_kmeans_fit(&km, X, 16, 2, &o) < 0 || fabs(km.inertia - 16) > 1e-9)
			allgood = 0;
		vb_kmeans_free(&km);
	}
	ok(allgood, "one k-means++ seeding suffices for 30 seeds");

	/* k = 1: the mean; k = n: every point its own centre */
	vb_kmeans_defaults(&o, 1);
	ok(vb_kmeans_fit(&km, X, 16, 2, &o) == 0, "k = 1");
	is_dbl(km.centers[0], 5, 1e-12, "k = 1: centre x = mean");
	is_dbl(km.centers[1], 5, 1e-12, "k = 1: centre y = mean");
	is_dbl(km.inertia, 16 + 16 * 50, 1e-9, "k = 1: inertia = total sum of squares");
	vb_kmeans_free(&km);
	vb_kmeans_defaults(&o, 16);
	ok(vb_kmeans_fit(&km, X, 16, 2, &o) == 0, "k = n");
	is_dbl(km.inertia, 0, 1e-12, "k = n: inertia 0");
	vb_kmeans_free(&km);

	/* fewer distinct points than clusters: still a valid clustering */
	{
		static const double D[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0 };
		int inrange = 1;
		long total = 0;

		vb_kmeans_defaults(&o, 3);
		ok(vb_kmeans_fit(&km, D, 6, 2, &o) == 0, "2 distinct points, k = 3");
		for (int i = 0; i < 6; i++)
			if (km.labels[i] < 0 || km.labels[i] >= 3)
				inrange = 0;
		for (int c = 0; c < 3; c++)
			total += km.sizes[c];
		ok(inrange && total == 6, "labels in range, sizes add up");
		ok(km.labels[5] != km.labels[0], "the odd point has its own cluster");
		is_dbl(km.inertia, 0, 1e-12, "duplicates: inertia 0");
		vb_kmeans_free(&km);
	}

	/* stopping rules */
	vb_kmeans_defaults(&o, 4);
	o.max_iter = 1;
	o.restarts = 1;
	ok(vb_kmeans_fit(&km, X, 16, 2, &o) == 0 && km.n_iter == 1, "max_iter 1: one iteration");
	vb_kmeans_free(&km);
	vb_kmeans_defaults(&o, 2);
	o.tol = 1e6;
	o.restarts = 1;
	ok(vb_kmeans_fit(&km, X, 16, 2, &o) == 0 && km.n_iter == 1, "huge tol: one iteration");
	vb_kmeans_free(&km);

	/* errors */
	vb_kmeans_defaults(&o, 17);
	ok(vb_kmeans_fit(&km, X, 16, 2, &o) < 0, "k > n: error");
	is_str(vb_err_msg(), "k-means: cannot make 17 clusters of 16 points", "k > n: message");
	vb_kmeans_defaults(&o, 0);
	ok(vb_kmeans_fit(&km, X, 16, 2, &o) < 0, "k = 0: error");
	{
		double B[32];

		memcpy(B, X, sizeof B);
		B[9] = NAN;
		vb_kmeans_defaults(&o, 2);
		ok(vb_kmeans_fit(&km, B, 16, 2, &o) < 0, "NaN: error");
		is_str(vb_err_msg(), "k-means: non-finite value in row 5", "NaN: message names the row");
	}
	vb_kmeans_free(NULL);

	/* silhouette: points 0 1 10 11 on a line, clusters {0,1} {10,11}; then
	 * 0 1 10 with {0,1} {10}: a singleton scores 0 */
	{
		static const double L[] = { 0, 1, 10, 11 };
		static const int l1[] = { 0, 0, 1, 1 }, l2[] = { 0, 0, 0, 0 }, l3[] = { 1, 1, 0, 2 };
		const int *sets[] = { l1, l2, l3 };
		const int ks[] = { 2, 1, 3 };
		double s[3], want = (2 * 9.5 / 10.5 + 2 * 8.5 / 9.5) / 4;

		ok(vb_silhouette(L, 4, 1, 3, sets, ks, 0, 1, s) == 0, "silhouette of 3 labelings");
		is_dbl(s[0], want, 1e-12, "two pairs: (2*9.5/10.5 + 2*8.5/9.5)/4");
		ok(isnan(s[1]), "one cluster: NaN");
		/* l3: {0,1} in 1, {10} in 0, {11} in 2: 0 -> b = 10, 1 -> b = 9 */
		is_dbl(s[2], (0.9 + 8.0 / 9.0) / 4, 1e-12, "singletons score 0");
		ok(vb_silhouette(L, 4, 1, 1, sets, ks, 10, 1, s) == 0, "sample >= n: all points");
		is_dbl(s[0], want, 1e-12, "sample >= n: same score");
		ok(vb_silhouette(L, 4, 1, 1, sets, ks, 3, 1, s) == 0 && s[0] > 0 && s[0] < 1,
		   "sample of 3: a score in (0, 1)");
	}
	return tap_done();
}
