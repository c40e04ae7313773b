/* pca.c - PCA through the eigendecomposition of the sample covariance. */
#include "pca.h"
#include "err.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void vb_pca_free(struct vb_pca *p)
{
	if (!p)
		return;
	free(p->mean);
	free(p->components);
	free(p->variance);
	free(p->ratio);
	memset(p, 0, sizeof *p);
}

int vb_pca_transform(const struct vb_pca *p, const double *X, long n, double *Y)
{
	const long B = 4096;
	double *xc;
	int d = p->d;

	if (n <= 0)
		return 0;
	xc = malloc((size_t)B * (size_t)d * sizeof *xc);
	if (!xc)
		return vb_err_set("out of memory");
	/* Centre a block of rows, then one gemm per block. */
	for (long i0 = 0; i0 < n; i0 += B) {
		long m = n - i0 < B ? n - i0 : B;

		for (long i = 0; i < m; i++)
			for (int j = 0; j < d; j++)
				xc[i * d + j] = X[(i0 + i) * d + j] - p->mean[j];
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, p->ncomp, d,
			    1.0, xc, d, p->components, d, 0.0, Y + i0 * p->ncomp, p->ncomp);
	}
	free(xc);
	return 0;
}

/*
 * Choose each component's sign as scikit-learn's svd_flip does with U: the
 * sample whose score on the component has the largest magnitude (the first
 * such sample on ties) gets a positive score.  This makes the output
 * independent of LAPACK's arbitrary eigenvector signs.
 */
static int flip_signs(struct vb_pca *p, const double *X, long n)
{
	const long B = 4096;
	int k = p->ncomp;
	double *y = malloc((size_t)B * (size_t)k * sizeof *y);
	double *best = calloc((size_t)k, sizeof *best);
	double *bestv = calloc((size_t)k, sizeof *bestv);

	if (!y || !best || !bestv) {
		free(y);
		free(best);
		free(bestv);
		return vb_err_set("out of memory");
	}
	for (int c = 0; c < k; c++)
		best[c] = -1.0;
	for (long i0 = 0; i0 < n; i0 += B) {
		long m = n - i0 < B ? n - i0 : B;

		if (vb_pca_transform(p, X + i0 * p->d, m, y) < 0) {
			free(y);
			free(best);
			free(bestv);
			return -1;
		}
		for (long i = 0; i < m; i++)
			for (int c = 0; c < k; c++)
				if (fabs(y[i * k + c]) > best[c]) {
					best[c] = fabs(y[i * k + c]);
					bestv[c] = y[i * k + c];
				}
	}
	for (int c = 0; c < k; c++)
		if (bestv[c] < 0)
			for (int j = 0; j < p->d; j++)
				p->components[c * p->d + j] = -p->components[c * p->d + j];
	free(y);
	free(best);
	free(bestv);
	return 0;
}

int vb_pca_fit(struct vb_pca *p, const double *X, long n, int d, int ncomp)
{
	const long B = 4096;
	double *cov = NULL, *w = NULL, *xc = NULL;
	lapack_int info;

	memset(p, 0, sizeof *p);
	if (d < 1 || d > 4096)
		return vb_err_set("PCA: %d input columns (want 1 to 4096)", d);
	if (ncomp < 1 || ncomp > d)
		return vb_err_set("PCA: cannot keep %d components of %d columns", ncomp, d);
	if (n < 2)
		return vb_err_set("PCA: need at least 2 rows, got %ld", n);
	p->d = d;
	p->ncomp = ncomp;
	p->mean = calloc((size_t)d, sizeof *p->mean);
	p->components = malloc((size_t)ncomp * (size_t)d * sizeof *p->components);
	p->variance = malloc((size_t)ncomp * sizeof *p->variance);
	p->ratio = malloc((size_t)ncomp * sizeof *p->ratio);
	cov = calloc((size_t)d * (size_t)d, sizeof *cov);
	w = malloc((size_t)d * sizeof *w);
	xc = malloc((size_t)B * (size_t)d * sizeof *xc);
	if (!p->mean || !p->components || !p->variance || !p->ratio || !cov || !w || !xc) {
		vb_err_set("out of memory");
		goto fail;
	}
	for (long i = 0; i < n; i++)
		for (int j = 0; j < d; j++)
			p->mean[j] += X[i * d + j];
	for (int j = 0; j < d; j++)
		p->mean[j] /= (double)n;
	/* Upper triangle of Xc^T Xc, accumulated block by block. */
	for (long i0 = 0; i0 < n; i0 += B) {
		long m = n - i0 < B ? n - i0 : B;

		for (long i = 0; i < m; i++)
			for (int j = 0; j < d; j++)
				xc[i * d + j] = X[(i0 + i) * d + j] - p->mean[j];
		cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, d, (int)m, 1.0 / (double)(n - 1),
			    xc, d, 1.0, cov, d);
	}
	p->total_var = 0;
	for (int j = 0; j < d; j++)
		p->total_var += cov[j * d + j];
	if (!(p->total_var > 0) || !isfinite(p->total_var)) {
		vb_err_set("PCA: the data have no variance");
		goto fail;
	}
	/* Row-major upper = column-major lower; eigenvectors come back as
	 * columns of cov (row-major), eigenvalues ascending. */
	info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', d, cov, d, w);
	if (info != 0) {
		vb_err_set("PCA: LAPACK dsyevd failed (info %d)", (int)info);
		goto fail;
	}
	for (int c = 0; c < ncomp; c++) {
		int e = d - 1 - c;
		double v = w[e] > 0 ? w[e] : 0.0;

		p->variance[c] = v;
		p->ratio[c] = v / p->total_var;
		for (int j = 0; j < d; j++)
			p->components[c * d + j] = cov[j * d + e];
	}
	free(cov);
	free(w);
	free(xc);
	return flip_signs(p, X, n) < 0 ? (vb_pca_free(p), -1) : 0;
fail:
	free(cov);
	free(w);
	free(xc);
	vb_pca_free(p);
	return -1;
}
