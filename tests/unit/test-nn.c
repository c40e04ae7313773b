/* test-nn.c - numerical gradient checks of every layer and the loss, and
 * determinism of training across runs. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "nn.h"
#include "tap.h"

#include <cblas.h>

static struct vb_net *build(const char *yaml, int classes)
{
	struct vb_net *net = vb_arch_build(yaml, strlen(yaml), classes);
	if (!net)
		printf("# %s\n", vb_err_msg());
	return net;
}

static float frand(struct vb_rng *r)
{
	return (float)(2 * vb_rng_uniform(r) - 1);
}

/* L = sum(out * R) for the fixed projection R, in training mode with the
 * same dropout masks every time. */
static double loss_of(struct vb_net *net, int n, const float *x, const float *R, uint64_t step)
{
	long isz = (long)net->in.c * net->in.h * net->in.w;
	memcpy(net->act[0], x, sizeof(float) * n * isz);
	net->step = step - 1;
	const float *z = vb_net_forward(net, n, 1);
	double L = 0;
	for (long i = 0; i < (long)n * net->nclasses; i++)
		L += (double)z[i] * R[i];
	return L;
}

/* Analytic gradients of L with respect to the input (into gx) and every
 * parameter (param->g). */
static void grads(struct vb_net *net, int n, const float *x, const float *R, uint64_t step,
                  float *gx)
{
	loss_of(net, n, x, R, step);
	vb_net_zero_grad(net);
	/* the driver gives no input gradient, so walk the layers here */
	long gmax = (long)net->in.c * net->in.h * net->in.w;
	for (int i = 0; i < net->nlayers; i++) {
		struct vb_shape s = net->layers[i]->out;
		if ((long)s.c * s.h * s.w > gmax)
			gmax = (long)s.c * s.h * s.w;
	}
	float *a = malloc(sizeof(float) * n * gmax), *b = malloc(sizeof(float) * n * gmax);
	memcpy(a, R, sizeof(float) * n * net->nclasses);
	float *cur = a, *other = b;
	for (int i = net->nlayers - 1; i >= 0; i--) {
		struct vb_layer *l = net->layers[i];
		float *dx = l->ops->inplace ? cur : other;
		l->ops->backward(l, net, net->act[i], net->act[i + 1], cur, dx, n);
		if (dx != cur) {
			other = cur;
			cur = dx;
		}
	}
	for (int i = 0; i < net->nparams; i++) {
		struct vb_param *p = net->params[i];
		if (!p->tg)
			continue;
		for (int t = 1; t < net->nthreads; t++)
			for (long j = 0; j < p->n; j++) {
				p->g[j] += p->tg[t][j];
				p->tg[t][j] = 0;
			}
	}
	memcpy(gx, cur, sizeof(float) * n * net->in.c * net->in.h * net->in.w);
	free(a);
	free(b);
}

static int near(double a, double num)
{
	double scale = fabs(a) > fabs(num) ? fabs(a) : fabs(num);
	return fabs(a - num) <= 2e-3 + 2e-2 * scale;
}

/* The analytic derivative a against central and one-sided differences of
 * L(-h), L(0), L(+h): a ReLU or max-pool kink within h of the point spoils
 * at most one side, so a correct gradient matches one of the three. */
static int close_enough(double a, double lm, double l0, double lp, double h)
{
	return near(a, (lp - lm) / (2 * h)) || near(a, (lp - l0) / h) || near(a, (l0 - lm) / h);
}

/* Check input and parameter gradients of a network numerically. */
static void gradcheck(const char *what, const char *yaml, int classes, int n, int threads)
{
	struct vb_net *net = build(yaml, classes);
	if (!ok(net != NULL, "%s: builds", what))
		return;
	vb_net_init_weights(net, VB_INIT_GLOROT, 7);
	if (vb_net_prepare(net, threads, n) < 0) {
		ok(0, "%s: prepare: %s", what, vb_err_msg());
		return;
	}
	struct vb_rng r;
	vb_rng_seed(&r, 11);
	/* non-trivial BN scales and biases */
	for (int i = 0; i < net->nparams; i++) {
		struct vb_param *p = net->params[i];
		if (!p->buffer && p->ndim == 1)
			for (long j = 0; j < p->n; j++)
				p->w[j] += 0.3f * frand(&r);
	}
	long isz = (long)n * net->in.c * net->in.h * net->in.w;
	float *x = malloc(sizeof(float) * isz), *gx = malloc(sizeof(float) * isz);
	float *R = malloc(sizeof(float) * n * net->nclasses);
	for (long i = 0; i < isz; i++)
		x[i] = frand(&r);
	for (long i = 0; i < (long)n * net->nclasses; i++)
		R[i] = frand(&r);
	uint64_t step = 5;
	grads(net, n, x, R, step, gx);
	double l0 = loss_of(net, n, x, R, step);
	const double h = 1e-3;
	int bad = 0, checked = 0;
	for (int t = 0; t < 12; t++) {
		long i = (long)vb_rng_below(&r, (uint64_t)isz);
		float keep = x[i];
		x[i] = keep + (float)h;
		double lp = loss_of(net, n, x, R, step);
		x[i] = keep - (float)h;
		double lm = loss_of(net, n, x, R, step);
		x[i] = keep;
		double num = (lp - lm) / (2 * h);
		checked++;
		if (!close_enough(gx[i], lm, l0, lp, h)) {
			if (bad++ < 3)
				printf("# %s: d/dx[%ld] analytic %g numeric %g\n", what, i, gx[i], num);
		}
	}
	ok(bad == 0, "%s: input gradient (%d points)", what, checked);
	for (int pi = 0; pi < net->nparams; pi++) {
		struct vb_param *p = net->params[pi];
		if (p->buffer)
			continue;
		float *g = malloc(sizeof(float) * p->n);
		memcpy(g, p->g, sizeof(float) * p->n);
		bad = 0;
		for (int t = 0; t < 8; t++) {
			long j = (long)vb_rng_below(&r, (uint64_t)p->n);
			float keep = p->w[j];
			p->w[j] = keep + (float)h;
			double lp = loss_of(net, n, x, R, step);
			p->w[j] = keep - (float)h;
			double lm = loss_of(net, n, x, R, step);
			p->w[j] = keep;
			double num = (lp - lm) / (2 * h);
			if (!close_enough(g[j], lm, l0, lp, h) && bad++ < 3)
				printf("# %s: d/d%s[%ld] analytic %g numeric %g\n", what, p->name, j, g[j],
				       num);
		}
		ok(bad == 0, "%s: gradient of %s", what, p->name);
		free(g);
	}
	free(x);
	free(gx);
	free(R);
	vb_net_free(net);
}

#define HEAD(c, h, w) "input: [" #c ", " #h ", " #w "]\nlayers:\n"

static void loss_checks(void)
{
	struct vb_rng r;
	vb_rng_seed(&r, 3);
	enum { N = 3, K = 4 };
	float z[N * K], d[N * K], soft[N * K], cw[K] = {1, 2, 0.5f, 1.5f};
	int64_t lab[N] = {0, 3, 2};
	for (int i = 0; i < N * K; i++)
		z[i] = 2 * frand(&r);
	for (int i = 0; i < N; i++) {
		double s = 0;
		for (int c = 0; c < K; c++)
			s += soft[i * K + c] = (float)vb_rng_uniform(&r);
		for (int c = 0; c < K; c++)
			soft[i * K + c] /= (float)s;
	}
	struct vb_loss_opts o[3] = {{0, NULL}, {0.1, NULL}, {0.1, cw}};
	const char *names[3] = {"plain", "smoothed", "smoothed, class-weighted"};
	for (int v = 0; v < 6; v++) {
		const struct vb_loss_opts *op = &o[v % 3];
		const float *sf = v >= 3 ? soft : NULL;
		const int64_t *lb = v >= 3 ? NULL : lab;
		vb_softmax_xent(z, N, K, lb, sf, op, NULL, d, NULL);
		int bad = 0;
		for (int i = 0; i < N * K; i++) {
			float keep = z[i];
			z[i] = keep + 1e-3f;
			double lp = vb_softmax_xent(z, N, K, lb, sf, op, NULL, NULL, NULL);
			z[i] = keep - 1e-3f;
			double lm = vb_softmax_xent(z, N, K, lb, sf, op, NULL, NULL, NULL);
			z[i] = keep;
			double num = (lp - lm) / 2e-3;
			if (fabs(num - d[i]) > 1e-3)
				bad++;
		}
		ok(bad == 0, "softmax cross-entropy gradient: %s, %s labels", names[v % 3],
		   v >= 3 ? "soft" : "hard");
	}
	/* exact value: uniform logits give log(K) */
	float zero[K] = {0};
	int64_t one = 1;
	is_dbl(vb_softmax_xent(zero, 1, K, &one, NULL, NULL, NULL, NULL, NULL), log(K), 1e-6,
	       "loss of uniform logits is log(k)");
	long correct = 0;
	vb_softmax_xent(z, N, K, lab, NULL, NULL, NULL, NULL, &correct);
	long want = 0;
	for (int i = 0; i < N; i++) {
		int am = 0;
		for (int c = 1; c < K; c++)
			if (z[i * K + c] > z[i * K + am])
				am = c;
		want += am == lab[i];
	}
	is_int(correct, want, "correct predictions counted");
}

/* Two identical short trainings give bit-identical weights. */
static void determinism(int threads)
{
	const char *yaml = HEAD(1, 8, 8)
		"  - {type: conv, name: c1, filters: 4, kernel: 3}\n"
		"  - {type: batchnorm, name: b1}\n"
		"  - {type: relu}\n"
		"  - {type: dropout, rate: 0.3}\n"
		"  - {type: maxpool}\n"
		"  - {type: flatten}\n"
		"  - {type: dense, name: f1, units: classes}\n";
	float *w[2] = {NULL, NULL};
	long nw = 0;
	for (int run = 0; run < 2; run++) {
		struct vb_net *net = build(yaml, 3);
		vb_net_init_weights(net, VB_INIT_HE, 5);
		vb_net_prepare(net, threads, 16);
		struct vb_optim o;
		vb_optim_defaults(&o, VB_ADAM);
		vb_optim_attach(&o, net);
		struct vb_rng r;
		vb_rng_seed(&r, 9);
		float d[16 * 3];
		int64_t lab[16];
		for (int it = 0; it < 5; it++) {
			for (int i = 0; i < 16 * 64; i++)
				net->act[0][i] = frand(&r);
			for (int i = 0; i < 16; i++)
				lab[i] = (int64_t)vb_rng_below(&r, 3);
			const float *z = vb_net_forward(net, 16, 1);
			vb_softmax_xent(z, 16, 3, lab, NULL, NULL, NULL, d, NULL);
			vb_net_zero_grad(net);
			vb_net_backward(net, d, 16);
			vb_optim_step(&o, net);
		}
		nw = 0;
		for (int i = 0; i < net->nparams; i++)
			nw += net->params[i]->n;
		w[run] = malloc(sizeof(float) * nw);
		long at = 0;
		for (int i = 0; i < net->nparams; i++) {
			memcpy(w[run] + at, net->params[i]->w, sizeof(float) * net->params[i]->n);
			at += net->params[i]->n;
		}
		vb_net_free(net);
	}
	ok(!memcmp(w[0], w[1], sizeof(float) * nw), "two trainings with %d thread(s) give "
	   "bit-identical weights", threads);
	free(w[0]);
	free(w[1]);
}

static void arch_errors(void)
{
	static const struct {
		const char *yaml, *want;
	} cases[] = {
		{"layers: []\n", "non-empty"},
		{HEAD(1, 8, 8) "  - {type: conv}\n", "filters"},
		{HEAD(1, 8, 8) "  - {type: warp, name: x}\n", "unknown layer type"},
		{HEAD(1, 8, 8) "  - {type: conv, filters: 2, kernal: 3}\n", "unknown key 'kernal'"},
		{HEAD(1, 4, 4) "  - {type: conv, filters: 2, kernel: 5, padding: valid}\n",
		 "smaller than"},
		{HEAD(1, 8, 8) "  - {type: flatten}\n  - {type: dense, name: a, units: 4}\n"
		 "  - {type: dense, name: a, units: classes}\n", "duplicate parameter name"},
		{HEAD(1, 8, 8) "  - {type: dropout, rate: 1.5}\n", "dropout"},
		{HEAD(1, 8, 8) "  - {type: flatten}\n  - {type: dense, units: 5}\n", "5 outputs"},
		{"input: [1, 8]\nlayers: [{type: flatten}]\n", "input must be"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct vb_net *net = vb_arch_build(cases[i].yaml, strlen(cases[i].yaml), 3);
		ok(!net && strstr(vb_err_msg(), cases[i].want), "bad architecture %zu rejected: %s",
		   i + 1, net ? "(accepted)" : vb_err_msg());
		vb_net_free(net);
	}
}

/* vb_alloc_big: small arrays from malloc, large ones 2 MiB aligned unless
 * zeroed (calloc's fresh pages); zeroed when asked; all released by free(). */
static void big_arrays(void)
{
	size_t sizes[] = {1, 4096, (2 << 20) - 4, 2 << 20, (5 << 20) + 12};
	for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
		size_t n = sizes[i];
		unsigned char *p = vb_alloc_big(n, 1);
		size_t nz = 0;
		for (size_t j = 0; p && j < n; j++)
			nz += p[j] != 0;
		ok(p && nz == 0, "vb_alloc_big(%zu, zero): %zu nonzero bytes", n, nz);
		if (p)
			memset(p, 0xab, n);
		free(p);
		float *q = vb_alloc_big(n, 0);
		ok(q != NULL, "vb_alloc_big(%zu, no zero)", n);
		if (n >= (2u << 20))
			ok(((uintptr_t)q & ((2u << 20) - 1)) == 0, "vb_alloc_big(%zu): 2 MiB aligned", n);
		free(q);
	}
}

/* OpenBLAS after its idle threads were stopped: threads on demand, and
 * back to one. */
static void blas_after_idle(void)
{
	enum { N = 256 };
	float *a = malloc(sizeof(float) * N * N * 4), *b = a + N * N, *c1 = b + N * N, *c2 = c1 + N * N;
	double worst = 0;

	for (int i = 0; i < N * N; i++) {
		a[i] = (float)((i * 7) % 13 - 6) / 8;
		b[i] = (float)((i * 5) % 11 - 5) / 4;
	}
	vb_blas_idle();
	vb_blas_threads(2);
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, N, N, 1, a, N, b, N, 0, c1, N);
	vb_blas_threads(1);
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, N, N, 1, a, N, b, N, 0, c2, N);
	for (int i = 0; i < N; i += 17)
		for (int j = 0; j < N; j += 13) {
			double r = 0;
			for (int k = 0; k < N; k++)
				r += (double)a[i * N + k] * b[k * N + j];
			if (fabs(c1[i * N + j] - r) > worst)
				worst = fabs(c1[i * N + j] - r);
		}
	/* the products are multiples of 1/32 and the sums small: exact */
	ok(worst == 0, "sgemm on 2 threads after the idle threads were stopped (error %g)", worst);
	ok(!memcmp(c1, c2, sizeof(float) * N * N), "and on 1 thread, the same result");
	free(a);
}

int main(void)
{
	blas_after_idle();
	gradcheck("conv 3x3 same", HEAD(2, 7, 7)
	          "  - {type: conv, name: c, filters: 3, kernel: 3}\n"
	          "  - {type: flatten}\n  - {type: dense, name: f, units: classes}\n", 3, 2, 1);
	gradcheck("conv 3x3 same, 2 threads", HEAD(2, 7, 7)
	          "  - {type: conv, name: c, filters: 3, kernel: 3}\n"
	          "  - {type: flatten}\n  - {type: dense, name: f, units: classes}\n", 3, 3, 2);
	gradcheck("conv 3x3 valid stride 2", HEAD(2, 9, 9)
	          "  - {type: conv, name: c, filters: 3, kernel: 3, stride: 2, padding: valid}\n"
	          "  - {type: flatten}\n  - {type: dense, name: f, units: classes}\n", 3, 2, 1);
	gradcheck("conv 5x5 same stride 2 no bias", HEAD(1, 8, 8)
	          "  - {type: conv, name: c, filters: 2, kernel: 5, stride: 2, bias: false}\n"
	          "  - {type: flatten}\n  - {type: dense, name: f, units: classes}\n", 3, 2, 1);
	gradcheck("conv 1x1", HEAD(3, 5, 5)
	          "  - {type: conv, name: c, filters: 4, kernel: 1}\n"
	          "  - {type: flatten}\n  - {type: dense, name: f, units: classes}\n", 3, 2, 2);
	gradcheck("conv + fused relu", HEAD(2, 6, 6)
	          "  - {type: conv, name: c, filters: 3, kernel: 3}\n  - {type: relu}\n"
	          "  - {type: flatten}\n  - {type: dense, name: f, units: classes}\n", 3, 2, 1);
	gradcheck("depthwise 3x3 same", HEAD(3, 6, 6)
	          "  - {type: dwconv, name: d, kernel: 3}\n"
	          "  - {type: flatten}\n  - {type: dense, name: f, units: classes}\n", 3, 2, 2);
	gradcheck("depthwise 3x3 stride 2", HEAD(2, 7, 7)
	          "  - {type: dwconv, name: d, kernel: 3, stride: 2}\n"
	          "  - {type: flatten}\n  - {type: dense, name: f, units: classes}\n", 3, 2, 1);
	gradcheck("batchnorm 2-D", HEAD(3, 4, 4)
	          "  - {type: batchnorm, name: b}\n"
	          "  - {type: flatten}\n  - {type: dense, name: f, units: classes}\n", 3, 4, 2);
	gradcheck("batchnorm 1-D", HEAD(1, 3, 3)
	          "  - {type: flatten}\n  - {type: dense, name: f1, units: 5}\n"
	          "  - {type: batchnorm, name: b}\n  - {type: dense, name: f, units: classes}\n",
	          3, 4, 1);
	gradcheck("relu", HEAD(2, 4, 4)
	          "  - {type: relu}\n"
	          "  - {type: flatten}\n  - {type: dense, name: f, units: classes}\n", 3, 2, 2);
	gradcheck("maxpool 2", HEAD(2, 6, 6)
	          "  - {type: maxpool, size: 2}\n"
	          "  - {type: flatten}\n  - {type: dense, name: f, units: classes}\n", 3, 2, 1);
	gradcheck("maxpool 3 stride 2", HEAD(2, 7, 7)
	          "  - {type: maxpool, size: 3, stride: 2}\n"
	          "  - {type: flatten}\n  - {type: dense, name: f, units: classes}\n", 3, 2, 2);
	gradcheck("global average pool", HEAD(3, 5, 5)
	          "  - {type: gap}\n  - {type: dense, name: f, units: classes}\n", 3, 2, 1);
	gradcheck("dropout", HEAD(2, 4, 4)
	          "  - {type: dropout, rate: 0.4}\n"
	          "  - {type: flatten}\n  - {type: dense, name: f, units: classes}\n", 3, 3, 2);
	gradcheck("dense", HEAD(1, 2, 3)
	          "  - {type: flatten}\n  - {type: dense, name: f, units: classes}\n", 4, 3, 1);
	gradcheck("small network", HEAD(1, 8, 8)
	          "  - {type: conv, name: c1, filters: 4, kernel: 3}\n"
	          "  - {type: batchnorm, name: b1}\n"
	          "  - {type: conv, name: c2, filters: 4, kernel: 3}\n  - {type: relu}\n"
	          "  - {type: maxpool}\n  - {type: dropout, rate: 0.25}\n"
	          "  - {type: dwconv, name: d1}\n  - {type: conv, name: p1, filters: 6, kernel: 1}\n"
	          "  - {type: flatten}\n  - {type: dense, name: f1, units: 8}\n  - {type: relu}\n"
	          "  - {type: batchnorm, name: b2}\n  - {type: dense, name: f2, units: classes}\n",
	          3, 4, 2);
	loss_checks();
	big_arrays();
	determinism(1);
	determinism(2);
	arch_errors();
	return tap_done();
}
