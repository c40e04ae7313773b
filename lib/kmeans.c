/* kmeans.c - k-means++ seeding, Lloyd iterations and silhouette scores. */
#include "kmeans.h"
#include "err.h"
#include "rng.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK 4096 /* rows per distance block */

void vb_kmeans_defaults(struct vb_kmeans_opt *o, int k)
{
	o->k = k;
	o->restarts = 10;
	o->max_iter = 300;
	o->tol = 1e-4;
	o->seed = 42;
}

void vb_kmeans_free(struct vb_kmeans *km)
{
	if (!km)
		return;
	free(km->centers);
	free(km->labels);
	free(km->sizes);
	memset(km, 0, sizeof *km);
}

/* Scratch space of one restart. */
struct work {
	long n;
	int d, k;
	const double *X;
	double *xx;      /* n squared row norms */
	double *g;       /* BLOCK x max(k, trials) dot products */
	double *cc;      /* k squared centre norms */
	double *sums;    /* k x d */
	long *counts;    /* k */
	double *mind;    /* n squared distance to the chosen centre */
	double *closest; /* n (seeding) */
	double *cand;    /* trials x n (seeding) */
	double *cum;     /* n (seeding) */
	double *candc;   /* trials x d candidate centres (seeding) */
	double *candn;   /* trials squared candidate norms (seeding) */
	long *ids;       /* trials candidate indices (seeding) */
	int trials;
};

/*
 * Squared distances from every point to the m rows of C, block by block:
 * calls fn(ctx, i0, rows, dist) with dist = rows x m, row-major,
 * ||x||^2 + ||c||^2 - 2 x.c clamped at 0.
 */
static void dist_blocks(struct work *w, const double *C, int m, const double *cn,
			void (*fn)(void *, long, long, const double *), void *ctx)
{
	for (long i0 = 0; i0 < w->n; i0 += BLOCK) {
		long rows = w->n - i0 < BLOCK ? w->n - i0 : BLOCK;

		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, m, w->d, -2.0,
			    w->X + i0 * w->d, w->d, C, w->d, 0.0, w->g, m);
		for (long i = 0; i < rows; i++)
			for (int j = 0; j < m; j++) {
				double v = w->g[i * m + j] + w->xx[i0 + i] + cn[j];

				w->g[i * m + j] = v > 0 ? v : 0;
			}
		fn(ctx, i0, rows, w->g);
	}
}

static double sqnorm(const double *x, int d)
{
	double s = 0;

	for (int j = 0; j < d; j++)
		s += x[j] * x[j];
	return s;
}

/* --- k-means++ seeding ------------------------------------------------ */

struct seedctx {
	struct work *w;
	int t;
};

static void seed_store(void *ctx, long i0, long rows, const double *dist)
{
	struct seedctx *s = ctx;

	for (long i = 0; i < rows; i++)
		for (int c = 0; c < s->t; c++)
			s->w->cand[(long)c * s->w->n + i0 + i] = dist[i * s->t + c];
}

/* First index whose cumulative sum reaches v (numpy searchsorted 'left'). */
static long search_left(const double *cum, long n, double v)
{
	long lo = 0, hi = n;

	while (lo < hi) {
		long mid = lo + (hi - lo) / 2;

		if (cum[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n ? lo : n - 1;
}

/*
 * Greedy k-means++: the first centre uniformly at random; each further one
 * the best of `trials` candidates drawn with probability proportional to
 * the squared distance to the nearest centre so far, "best" meaning the
 * lowest resulting potential.
 */
static void seed_pp(struct work *w, struct vb_rng *rng, double *centers)
{
	long n = w->n;
	int d = w->d, t = w->trials;
	double pot = 0;
	long first = (long)vb_rng_below(rng, (uint64_t)n);
	struct seedctx sc = { w, 1 };

	memcpy(centers, w->X + first * d, (size_t)d * sizeof *centers);
	w->candn[0] = w->xx[first];
	dist_blocks(w, centers, 1, w->candn, seed_store, &sc);
	memcpy(w->closest, w->cand, (size_t)n * sizeof *w->closest);
	for (long i = 0; i < n; i++)
		pot += w->closest[i];
	sc.t = t;
	for (int c = 1; c < w->k; c++) {
		double s = 0, bestpot = INFINITY;
		int best = 0;

		for (long i = 0; i < n; i++) {
			s += w->closest[i];
			w->cum[i] = s;
		}
		for (int j = 0; j < t; j++) {
			w->ids[j] = search_left(w->cum, n, vb_rng_uniform(rng) * pot);
			memcpy(w->candc + (long)j * d, w->X + w->ids[j] * d, (size_t)d * sizeof *centers);
			w->candn[j] = w->xx[w->ids[j]];
		}
		dist_blocks(w, w->candc, t, w->candn, seed_store, &sc);
		for (int j = 0; j < t; j++) {
			double p = 0;
			double *dj = w->cand + (long)j * n;

			for (long i = 0; i < n; i++) {
				if (dj[i] > w->closest[i])
					dj[i] = w->closest[i];
				p += dj[i];
			}
			if (p < bestpot) {
				bestpot = p;
				best = j;
			}
		}
		pot = bestpot;
		memcpy(w->closest, w->cand + (long)best * n, (size_t)n * sizeof *w->closest);
		memcpy(centers + (long)c * d, w->X + w->ids[best] * d, (size_t)d * sizeof *centers);
	}
}

/* --- Lloyd iterations ------------------------------------------------- */

struct estep {
	struct work *w;
	int *labels;
	int changed;
};

/* Assign each point of the block to its nearest centre and accumulate the
 * new centre sums. */
static void estep_block(void *ctx, long i0, long rows, const double *dist)
{
	struct estep *e = ctx;
	struct work *w = e->w;
	int k = w->k, d = w->d;

	for (long i = 0; i < rows; i++) {
		const double *di = dist + i * k;
		const double *x = w->X + (i0 + i) * d;
		double *s;
		int b = 0;

		for (int j = 1; j < k; j++)
			if (di[j] < di[b])
				b = j;
		if (e->labels[i0 + i] != b)
			e->changed = 1;
		e->labels[i0 + i] = b;
		w->mind[i0 + i] = di[b];
		w->counts[b]++;
		s = w->sums + (long)b * d;
		for (int j = 0; j < d; j++)
			s[j] += x[j];
	}
}

/* One E-step with the given centres; labels updated in place. */
static int estep(struct work *w, const double *centers, int *labels)
{
	struct estep e = { w, labels, 0 };

	for (int j = 0; j < w->k; j++)
		w->cc[j] = sqnorm(centers + (long)j * w->d, w->d);
	memset(w->sums, 0, (size_t)w->k * (size_t)w->d * sizeof *w->sums);
	memset(w->counts, 0, (size_t)w->k * sizeof *w->counts);
	dist_blocks(w, centers, w->k, w->cc, estep_block, &e);
	return e.changed;
}

/*
 * Give every empty cluster one of the points farthest from their centres
 * (taking it out of its old cluster's sums), as scikit-learn does.
 */
static void relocate_empty(struct work *w, int *labels)
{
	int d = w->d;

	for (int c = 0; c < w->k; c++) {
		long far = -1;
		int o;

		if (w->counts[c] > 0)
			continue;
		for (long i = 0; i < w->n; i++)
			if (w->counts[labels[i]] > 1 && (far < 0 || w->mind[i] > w->mind[far]))
				far = i;
		if (far < 0)
			return;
		o = labels[far];
		for (int j = 0; j < d; j++)
			w->sums[(long)o * d + j] -= w->X[far * d + j];
		w->counts[o]--;
		memcpy(w->sums + (long)c * d, w->X + far * d, (size_t)d * sizeof *w->sums);
		w->counts[c] = 1;
		labels[far] = c;
		w->mind[far] = 0;
	}
}

static double inertia_of(const struct work *w, const double *centers, const int *labels)
{
	double s = 0;

	for (long i = 0; i < w->n; i++) {
		const double *x = w->X + i * w->d, *c = centers + (long)labels[i] * w->d;

		for (int j = 0; j < w->d; j++)
			s += (x[j] - c[j]) * (x[j] - c[j]);
	}
	return s;
}

/* One restart from the seeding in `centers`; returns the iterations run. */
static int lloyd(struct work *w, double *centers, int *labels, int max_iter, double tol_abs)
{
	int k = w->k, d = w->d, it, strict = 0;

	for (long i = 0; i < w->n; i++)
		labels[i] = -1;
	for (it = 0; it < max_iter; it++) {
		double shift = 0;
		int changed;

		changed = estep(w, centers, labels);
		relocate_empty(w, labels);
		for (int c = 0; c < k; c++)
			for (int j = 0; j < d; j++) {
				double v = w->sums[(long)c * d + j] / (double)w->counts[c];
				double dv = v - centers[(long)c * d + j];

				shift += dv * dv;
				centers[(long)c * d + j] = v;
			}
		if (!changed) {
			strict = 1;
			it++;
			break;
		}
		if (shift <= tol_abs) {
			it++;
			break;
		}
	}
	if (!strict) /* labels must match the final centres */
		estep(w, centers, labels);
	return it;
}

int vb_kmeans_fit(struct vb_kmeans *km, const double *X, long n, int d,
		  const struct vb_kmeans_opt *o)
{
	struct work w;
	struct vb_rng base;
	double *centers = NULL, tol_abs = 0;
	int *labels = NULL, k = o->k, rc = -1;

	memset(km, 0, sizeof *km);
	memset(&w, 0, sizeof w);
	if (d < 1 || n < 1)
		return vb_err_set("k-means: no data");
	if (k < 1 || k > n)
		return vb_err_set("k-means: cannot make %d clusters of %ld points", k, n);
	if (o->restarts < 1 || o->max_iter < 1 || !(o->tol >= 0) || !isfinite(o->tol))
		return vb_err_set("k-means: bad restarts, max_iter or tol");
	for (long i = 0; i < n * d; i++)
		if (!isfinite(X[i]))
			return vb_err_set("k-means: non-finite value in row %ld", i / d + 1);
	w.n = n;
	w.d = d;
	w.k = k;
	w.X = X;
	w.trials = 2 + (int)floor(log((double)k));
	if (w.trials > 64)
		w.trials = 64;
	w.xx = malloc((size_t)n * sizeof *w.xx);
	w.g = malloc((size_t)BLOCK * (size_t)(k > w.trials ? k : w.trials) * sizeof *w.g);
	w.cc = malloc((size_t)k * sizeof *w.cc);
	w.sums = malloc((size_t)k * (size_t)d * sizeof *w.sums);
	w.counts = malloc((size_t)k * sizeof *w.counts);
	w.mind = malloc((size_t)n * sizeof *w.mind);
	w.closest = malloc((size_t)n * sizeof *w.closest);
	w.cand = malloc((size_t)w.trials * (size_t)n * sizeof *w.cand);
	w.cum = malloc((size_t)n * sizeof *w.cum);
	w.candc = malloc((size_t)w.trials * (size_t)d * sizeof *w.candc);
	w.candn = malloc((size_t)w.trials * sizeof *w.candn);
	w.ids = malloc((size_t)w.trials * sizeof *w.ids);
	centers = malloc((size_t)k * (size_t)d * sizeof *centers);
	labels = malloc((size_t)n * sizeof *labels);
	km->centers = malloc((size_t)k * (size_t)d * sizeof *km->centers);
	km->labels = malloc((size_t)n * sizeof *km->labels);
	km->sizes = calloc((size_t)k, sizeof *km->sizes);
	if (!w.xx || !w.g || !w.cc || !w.sums || !w.counts || !w.mind || !w.closest || !w.cand ||
	    !w.cum || !w.candc || !w.candn || !w.ids || !centers || !labels || !km->centers || !km->labels || !km->sizes) {
		vb_err_set("out of memory");
		goto done;
	}
	/* tol is relative to the mean column variance, as in scikit-learn */
	for (int j = 0; j < d; j++) {
		double m = 0, v = 0;

		for (long i = 0; i < n; i++)
			m += X[i * d + j];
		m /= (double)n;
		for (long i = 0; i < n; i++)
			v += (X[i * d + j] - m) * (X[i * d + j] - m);
		tol_abs += v / (double)n;
	}
	tol_abs = tol_abs / d * o->tol;
	for (long i = 0; i < n; i++)
		w.xx[i] = sqnorm(X + i * d, d);
	km->k = k;
	km->d = d;
	km->n = n;
	km->inertia = INFINITY;
	vb_rng_seed(&base, o->seed);
	for (int r = 0; r < o->restarts; r++) {
		struct vb_rng rng;
		double in;
		int it;

		vb_rng_split(&base, (uint64_t)r, &rng);
		seed_pp(&w, &rng, centers);
		it = lloyd(&w, centers, labels, o->max_iter, tol_abs);
		in = inertia_of(&w, centers, labels);
		if (in < km->inertia) {
			km->inertia = in;
			km->n_iter = it;
			km->best_restart = r;
			memcpy(km->centers, centers, (size_t)k * (size_t)d * sizeof *centers);
			memcpy(km->labels, labels, (size_t)n * sizeof *labels);
		}
	}
	for (long i = 0; i < n; i++)
		km->sizes[km->labels[i]]++;
	rc = 0;
done:
	free(w.xx);
	free(w.g);
	free(w.cc);
	free(w.sums);
	free(w.counts);
	free(w.mind);
	free(w.closest);
	free(w.cand);
	free(w.cum);
	free(w.candc);
	free(w.candn);
	free(w.ids);
	free(centers);
	free(labels);
	if (rc < 0)
		vb_kmeans_free(km);
	return rc;
}

/* --- silhouette ------------------------------------------------------- */

int vb_silhouette(const double *X, long n, int d, int nsets, const int *const *labels,
		  const int *ks, long sample, uint64_t seed, double *out)
{
	long m = (sample > 0 && sample < n) ? sample : n, B = 256;
	long *idx = NULL, *cnt = NULL, kmax = 0, ktot = 0, *off = NULL;
	int *lab = NULL;
	double *Y = NULL, *yy = NULL, *D = NULL, *acc = NULL, *score = NULL;
	int rc = -1;

	/* rows of distances per block: 256, fewer when that would pass 2^25
	 * doubles (256 MiB) */
	if (m > 0 && B * m > (1L << 25))
		B = (1L << 25) / m > 0 ? (1L << 25) / m : 1;

	for (int s = 0; s < nsets; s++) {
		if (ks[s] < 1)
			return vb_err_set("silhouette: bad cluster count %d", ks[s]);
		ktot += ks[s];
		if (ks[s] > kmax)
			kmax = ks[s];
	}
	idx = malloc((size_t)n * sizeof *idx);
	Y = malloc((size_t)m * (size_t)d * sizeof *Y);
	yy = malloc((size_t)m * sizeof *yy);
	D = malloc((size_t)B * (size_t)m * sizeof *D);
	acc = malloc((size_t)kmax * sizeof *acc);
	cnt = malloc((size_t)(ktot + 1) * sizeof *cnt);
	off = malloc((size_t)(nsets + 1) * sizeof *off);
	score = calloc((size_t)(nsets + 1), sizeof *score);
	lab = malloc((size_t)(nsets > 0 ? nsets : 1) * (size_t)m * sizeof *lab);
	if (!idx || !Y || !yy || !D || !acc || !cnt || !off || !score || !lab) {
		vb_err_set("out of memory");
		goto done;
	}
	for (long i = 0; i < n; i++)
		idx[i] = i;
	if (m < n) { /* partial Fisher-Yates, then sort the chosen indices */
		struct vb_rng r;

		vb_rng_seed(&r, seed);
		for (long i = 0; i < m; i++) {
			long j = i + (long)vb_rng_below(&r, (uint64_t)(n - i));
			long t = idx[i];

			idx[i] = idx[j];
			idx[j] = t;
		}
	}
	for (long i = 0; i < m; i++) {
		memcpy(Y + i * d, X + idx[i] * d, (size_t)d * sizeof *Y);
		yy[i] = sqnorm(Y + i * d, d);
	}
	off[0] = 0;
	for (int s = 0; s < nsets; s++)
		off[s + 1] = off[s] + ks[s];
	memset(cnt, 0, (size_t)(ktot + 1) * sizeof *cnt);
	for (int s = 0; s < nsets; s++)
		for (long i = 0; i < m; i++) {
			int l = labels[s][idx[i]];

			if (l < 0 || l >= ks[s]) {
				vb_err_set("silhouette: label %d out of range", l);
				goto done;
			}
			cnt[off[s] + l]++;
			lab[(long)s * m + i] = l;
		}
	for (long i0 = 0; i0 < m; i0 += B) {
		long rows = m - i0 < B ? m - i0 : B;

		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)m, d, -2.0,
			    Y + i0 * d, d, Y, d, 0.0, D, (int)m);
		for (long i = 0; i < rows; i++) {
			double *di = D + i * m;

			for (long j = 0; j < m; j++) {
				double v = di[j] + yy[i0 + i] + yy[j];

				di[j] = v > 0 ? sqrt(v) : 0;
			}
			di[i0 + i] = 0;
		}
		for (int s = 0; s < nsets; s++) {
			const int *ls = lab + (long)s * m;
			const long *c = cnt + off[s];

			for (long i = 0; i < rows; i++) {
				const double *di = D + i * m;
				int own = ls[i0 + i];
				double a, b = INFINITY;

				memset(acc, 0, (size_t)ks[s] * sizeof *acc);
				for (long j = 0; j < m; j++)
					acc[ls[j]] += di[j];
				if (c[own] <= 1)
					continue; /* scores 0 */
				a = acc[own] / (double)(c[own] - 1);
				for (int l = 0; l < ks[s]; l++)
					if (l != own && c[l] > 0 && acc[l] / (double)c[l] < b)
						b = acc[l] / (double)c[l];
				if (isfinite(b) && (a > 0 || b > 0))
					score[s] += (b - a) / (a > b ? a : b);
			}
		}
	}
	for (int s = 0; s < nsets; s++) {
		int used = 0;

		for (int l = 0; l < ks[s]; l++)
			used += cnt[off[s] + l] > 0;
		out[s] = used >= 2 ? score[s] / (double)m : NAN;
	}
	rc = 0;
done:
	free(idx);
	free(Y);
	free(yy);
	free(D);
	free(acc);
	free(cnt);
	free(off);
	free(score);
	free(lab);
	return rc;
}
