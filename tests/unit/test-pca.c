/* test-pca.c - lib/pca: exact small cases, invariants on random data, the
 * sign convention and bad sizes. */
#include "pca.h"
#include "err.h"
#include "rng.h"
#include "tap.h"

#include <stdlib.h>

int main(void)
{
	/* mean (0, 0); variances 14/4 and 2/4; no covariance */
	static const double X[] = { 3, 0, 0, 1, -1, 0, -2, 0, 0, -1 };
	double Y[10], *R, *RY, *NR, *NY;
	struct vb_pca p, q;
	struct vb_rng rng;
	long n = 500;
	int d = 5, orth = 1, desc = 1, uncor = 1, same = 1;
	double sum = 0, full[5];

	ok(vb_pca_fit(&p, X, 5, 2, 2) == 0, "fit 5 x 2");
	is_dbl(p.mean[0], 0, 1e-15, "mean x");
	is_dbl(p.mean[1], 0, 1e-15, "mean y");
	is_dbl(p.variance[0], 3.5, 1e-12, "variance 1 = 14/4");
	is_dbl(p.variance[1], 0.5, 1e-12, "variance 2 = 2/4");
	is_dbl(p.ratio[0], 0.875, 1e-12, "ratio 1");
	is_dbl(p.ratio[1], 0.125, 1e-12, "ratio 2");
	is_dbl(p.total_var, 4.0, 1e-12, "total variance");
	is_dbl(p.components[0], 1, 1e-12, "axis 1 = +x (largest score positive)");
	is_dbl(p.components[1], 0, 1e-12, "axis 1 has no y");
	is_dbl(p.components[3], 1, 1e-12, "axis 2 = +y (first of the tied scores positive)");
	ok(vb_pca_transform(&p, X, 5, Y) == 0, "transform");
	is_dbl(Y[0], 3, 1e-12, "score of (3,0) on pc1");
	is_dbl(Y[6], -2, 1e-12, "score of (-2,0) on pc1");
	is_dbl(Y[3], 1, 1e-12, "score of (0,1) on pc2");
	vb_pca_free(&p);

	/* random correlated data: orthonormal axes, variances descending and
	 * equal to the score variances, scores uncorrelated, ratios sum to 1 */
	R = malloc((size_t)n * d * sizeof *R);
	NR = malloc((size_t)n * d * sizeof *NR);
	RY = malloc((size_t)n * d * sizeof *RY);
	NY = malloc((size_t)n * d * sizeof *NY);
	vb_rng_seed(&rng, 7);
	for (long i = 0; i < n; i++) {
		double a = vb_rng_normal(&rng), b = vb_rng_normal(&rng);

		for (int j = 0; j < d; j++)
			R[i * d + j] = (j + 1) * a + (j % 2 ? b : -b) + 0.1 * vb_rng_normal(&rng) + j;
	}
	for (long i = 0; i < n * d; i++)
		NR[i] = -R[i];
	ok(vb_pca_fit(&p, R, n, d, d) == 0, "fit 500 x 5");
	ok(vb_pca_transform(&p, R, n, RY) == 0, "transform 500 x 5");
	for (int a = 0; a < d; a++) {
		for (int b = 0; b < d; b++) {
			double dot = 0, cov = 0;

			for (int j = 0; j < d; j++)
				dot += p.components[a * d + j] * p.components[b * d + j];
			if (fabs(dot - (a == b)) > 1e-10)
				orth = 0;
			for (long i = 0; i < n; i++)
				cov += RY[i * d + a] * RY[i * d + b];
			cov /= (double)(n - 1);
			if (a == b && fabs(cov - p.variance[a]) > 1e-9 * p.variance[0])
				uncor = 0;
			if (a != b && fabs(cov) > 1e-9 * p.variance[0])
				uncor = 0;
		}
		if (a && p.variance[a] > p.variance[a - 1])
			desc = 0;
		sum += p.ratio[a];
		full[a] = p.ratio[a];
	}
	ok(orth, "axes orthonormal");
	ok(desc, "variances descending");
	ok(uncor, "scores uncorrelated with the reported variances");
	is_dbl(sum, 1, 1e-12, "all ratios sum to 1");
	/* the sign rule makes the scores of -X equal those of X */
	ok(vb_pca_fit(&q, NR, n, d, d) == 0 && vb_pca_transform(&q, NR, n, NY) == 0, "fit -X");
	for (long i = 0; i < n * d; i++)
		if (fabs(NY[i] - RY[i]) > 1e-9)
			same = 0;
	ok(same, "scores of -X equal those of X (sign convention)");
	vb_pca_free(&q);
	vb_pca_free(&p);

	/* fewer components: the leading ones of the full fit */
	ok(vb_pca_fit(&q, R, n, d, 2) == 0, "fit 2 components");
	is_int(q.ncomp, 2, "keeps 2");
	is_dbl(q.ratio[0], full[0], 1e-12, "ratio 1 as in the full fit");
	is_dbl(q.ratio[1], full[1], 1e-12, "ratio 2 as in the full fit");
	vb_pca_free(&q);

	/* bad sizes and data */
	ok(vb_pca_fit(&p, X, 1, 2, 1) < 0, "one row: error");
	is_str(vb_err_msg(), "PCA: need at least 2 rows, got 1", "one row: message");
	ok(vb_pca_fit(&p, X, 5, 2, 3) < 0, "3 components of 2 columns: error");
	is_str(vb_err_msg(), "PCA: cannot keep 3 components of 2 columns", "too many components: message");
	ok(vb_pca_fit(&p, X, 5, 2, 0) < 0, "0 components: error");
	{
		static const double C[] = { 1, 2, 1, 2, 1, 2 };

		ok(vb_pca_fit(&p, C, 3, 2, 1) < 0, "constant data: error");
		is_str(vb_err_msg(), "PCA: the data have no variance", "constant data: message");
	}
	vb_pca_free(NULL);
	free(R);
	free(NR);
	free(RY);
	free(NY);
	return tap_done();
}
