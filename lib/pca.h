/* pca.h - principal component analysis through the covariance matrix
 * (BLAS dsyrk, then LAPACKE dsyevd).
 *
 * Conventions follow scikit-learn's PCA: the data are centred on their
 * column means, the variance of a component is its eigenvalue of the
 * sample covariance (divided by n - 1), the explained-variance ratio is that
 * variance over the total variance of all input columns, and each
 * component's sign is chosen so that the projected sample with the largest
 * absolute score on it is positive (svd_flip on U).
 */
#ifndef VB_PCA_H
#define VB_PCA_H

struct vb_pca {
	int d;              /* input dimension */
	int ncomp;          /* components kept, 1 <= ncomp <= d */
	double *mean;       /* d column means; owned */
	double *components; /* ncomp x d, row i = i-th principal axis; owned */
	double *variance;   /* ncomp explained variances; owned */
	double *ratio;      /* ncomp explained-variance ratios; owned */
	double total_var;   /* sum of the d column variances */
};

/* Fit ncomp components to X (n x d, row-major), n >= 2.  Fills *p, which
 * the caller releases with vb_pca_free.  0, or -1 with the error set (bad
 * sizes, no variance at all, allocation or LAPACK failure). */
int vb_pca_fit(struct vb_pca *p, const double *X, long n, int d, int ncomp);

/* Project X (n x p->d) onto the components: Y (n x p->ncomp, row-major,
 * caller-allocated) = (X - mean) * components^T.  0 or -1. */
int vb_pca_transform(const struct vb_pca *p, const double *X, long n, double *Y);

/* Release what vb_pca_fit allocated; accepts NULL and a zeroed struct. */
void vb_pca_free(struct vb_pca *p);

#endif
