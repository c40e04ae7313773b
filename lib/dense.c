/* dense.c - fully connected layer, y = x W^T + b with W out x in (PyTorch's
 * Linear).  One sgemm for the whole batch on OpenBLAS's own threads. */
#include "nn.h"

#include <cblas.h>
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

struct dense {
	int in, out, bias;
	float *fw, *fb; /* frozen (fb set): weights and bias with a batch norm
	                 * folded in (fw is NULL without one: the weights as
	                 * they are) */
};

/* Frozen, with AVX-512: y = x W^T + b for up to 4 samples at a time, 4
 * weight rows at a time, each row read once for all the samples (the 9.4 MB
 * of the shipped network's first dense layer are mostly out of the cache
 * by the next face).  A sample's output is one accumulator summed along the
 * row in a fixed order, so it does not depend on the other samples. */
T_512 static inline __attribute__((always_inline))
void block(int ns, int nr, const float *w, const float *b, int in, int out, const float *x,
           float *y)
{
	__mmask16 tail = (__mmask16)((1u << (in % 16)) - 1);
	__m512 a[4][4];
#pragma GCC unroll 4
	for (int s = 0; s < ns; s++)
#pragma GCC unroll 4
		for (int r = 0; r < nr; r++)
			a[s][r] = _mm512_setzero_ps();
	for (int k = 0; k < in; k += 16) {
		__mmask16 m = k + 16 <= in ? 0xffff : tail;
		__m512 wv[4];
#pragma GCC unroll 4
		for (int r = 0; r < nr; r++) {
			/* 2 KB ahead: a quarter less time per frame (the weights
			 * come from memory); a hint, harmless past the end */
			_mm_prefetch((const char *)(w + (long)r * in + k + 512), _MM_HINT_T0);
			wv[r] = _mm512_maskz_loadu_ps(m, w + (long)r * in + k);
		}
#pragma GCC unroll 4
		for (int s = 0; s < ns; s++) {
			__m512 xv = _mm512_maskz_loadu_ps(m, x + (long)s * in + k);
#pragma GCC unroll 4
			for (int r = 0; r < nr; r++)
				a[s][r] = _mm512_fmadd_ps(wv[r], xv, a[s][r]);
		}
	}
#pragma GCC unroll 4
	for (int s = 0; s < ns; s++)
#pragma GCC unroll 4
		for (int r = 0; r < nr; r++)
			y[(long)s * out + r] = b[r] + _mm512_reduce_add_ps(a[s][r]);
}

T_512 static inline __attribute__((always_inline))
void samples(int ns, const float *w, const float *b, int in, int out, const float *x, float *y)
{
	int o = 0;
	for (; o + 4 <= out; o += 4)
		block(ns, 4, w + (long)o * in, b + o, in, out, x, y + o);
	for (; o < out; o++)
		block(ns, 1, w + (long)o * in, b + o, in, out, x, y + o);
}

T_512 static void frozen512(const float *w, const float *b, int in, int out, const float *x,
                            float *y, int n)
{
	int i = 0;
	for (; i + 4 <= n; i += 4)
		samples(4, w, b, in, out, x + (long)i * in, y + (long)i * out);
	switch (n - i) {
	case 3: samples(3, w, b, in, out, x + (long)i * in, y + (long)i * out); break;
	case 2: samples(2, w, b, in, out, x + (long)i * in, y + (long)i * out); break;
	case 1: samples(1, w, b, in, out, x + (long)i * in, y + (long)i * out); break;
	}
}

static void dense_forward(struct vb_layer *l, struct vb_net *net, const float *x, float *y,
                          int n, int train)
{
	struct dense *d = l->st;
	vb_blas_threads(net->nthreads);
	if (d->fb && !train) {
		const float *w = d->fw ? d->fw : l->param[0]->w;
		if (vb_nn_avx512()) {
			frozen512(w, d->fb, d->in, d->out, x, y, n);
			return;
		}
		/* frozen: a matrix-vector product per sample streams W once and
		 * gives each sample the same sums whatever the batch size */
		for (int i = 0; i < n; i++) {
			float *yi = y + (long)i * d->out;
			memcpy(yi, d->fb, sizeof(float) * d->out);
			cblas_sgemv(CblasRowMajor, CblasNoTrans, d->out, d->in, 1.0f, w, d->in,
			            x + (long)i * d->in, 1, 1.0f, yi, 1);
		}
		return;
	}
	const float *b = d->bias ? l->param[1]->w : NULL;
	if (b)
		for (int i = 0; i < n; i++)
			for (int o = 0; o < d->out; o++)
				y[(long)i * d->out + o] = b[o];
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, d->out, d->in, 1.0f, x, d->in,
	            l->param[0]->w, d->in, b ? 1.0f : 0.0f, y, d->out);
}

static void dense_backward(struct vb_layer *l, struct vb_net *net, const float *x,
                           const float *y, const float *dy, float *dx, int n)
{
	(void)y;
	struct dense *d = l->st;
	vb_blas_threads(net->nthreads);
	cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, d->out, d->in, n, 1.0f, dy, d->out,
	            x, d->in, 1.0f, l->param[0]->g, d->in);
	if (d->bias) {
		float *gb = l->param[1]->g;
		for (int i = 0; i < n; i++)
			for (int o = 0; o < d->out; o++)
				gb[o] += dy[(long)i * d->out + o];
	}
	if (dx)
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, d->in, d->out, 1.0f, dy,
		            d->out, l->param[0]->w, d->in, 0.0f, dx, d->in);
}

static void dense_free(struct vb_layer *l)
{
	struct dense *d = l->st;
	if (d) {
		free(d->fw);
		free(d->fb);
	}
	free(d);
	l->st = NULL;
}

static const struct vb_layer_ops dense_ops = {
	"dense", dense_forward, dense_backward, dense_free, 0, NULL,
};

int vb_dense_is(const struct vb_layer *l)
{
	return l->ops == &dense_ops;
}

int vb_dense_freeze(struct vb_layer *l, const struct vb_layer *bn)
{
	struct dense *d = l->st;
	if (!d->fb && !(d->fb = malloc(sizeof(float) * d->out)))
		return vb_err_set("out of memory");
	if (bn && !d->fw && !(d->fw = malloc(sizeof(float) * d->in * d->out)))
		return vb_err_set("out of memory");
	vb_bn_fold(bn, d->out, d->in, l->param[0]->w, d->bias ? l->param[1]->w : NULL, d->fw,
	           d->fb);
	return 0;
}

int vb_dense_init(struct vb_layer *l, int units, int bias)
{
	if (units < 1 || units > 1 << 20)
		return vb_err_set("dense: bad unit count %d", units);
	long in = (long)l->in.c * l->in.h * l->in.w;
	if (in > 1 << 24)
		return vb_err_set("dense: input of %ld features is too large", in);
	struct dense *d = calloc(1, sizeof *d);
	if (!d)
		return vb_err_set("out of memory");
	d->in = (int)in;
	d->out = units;
	d->bias = bias;
	l->st = d;
	l->ops = &dense_ops;
	l->out = (struct vb_shape){units, 1, 1};
	int64_t ws[2] = {units, in};
	if (!(l->param[l->nparam++] = vb_param_new(l->name, "weight", 2, ws, 0, 1)))
		return -1;
	if (bias) {
		int64_t bs[1] = {units};
		if (!(l->param[l->nparam++] = vb_param_new(l->name, "bias", 1, bs, 0, 0)))
			return -1;
	}
	return 0;
}
