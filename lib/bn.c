/* bn.c - batch normalisation over the channels of NCHW activations (2-D)
 * or the features of N x C ones (1-D, H = W = 1), as PyTorch's BatchNorm:
 * batch statistics in training (biased variance to normalise, unbiased for
 * the running average), running statistics in inference.  Threads split
 * the channels, so every sum is taken in one fixed order. */
#include "nn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

struct bn {
	double eps, momentum;
	float *mean, *invstd; /* of the last training batch */
};

/* Sums over one row with eight float accumulators (independent, so the
 * loop pipelines or vectorises), combined in double. */
static double row_sum(const float *x, long n)
{
	float a[8] = {0};
	long i = 0;
	for (; i + 8 <= n; i += 8)
		for (int k = 0; k < 8; k++)
			a[k] += x[i + k];
	double s = 0;
	for (; i < n; i++)
		s += x[i];
	for (int k = 0; k < 8; k++)
		s += a[k];
	return s;
}

static double row_sqdev(const float *x, long n, float mu)
{
	float a[8] = {0};
	long i = 0;
	for (; i + 8 <= n; i += 8)
		for (int k = 0; k < 8; k++) {
			float d = x[i + k] - mu;
			a[k] += d * d;
		}
	double s = 0;
	for (; i < n; i++)
		s += (double)(x[i] - mu) * (x[i] - mu);
	for (int k = 0; k < 8; k++)
		s += a[k];
	return s;
}

/* sum(dy) and sum(dy * (x - mu)) over one row. */
static void row_dsums(const float *dy, const float *x, long n, float mu, double *sdy,
                      double *sdyx)
{
	float a[8] = {0}, b[8] = {0};
	long i = 0;
	for (; i + 8 <= n; i += 8)
		for (int k = 0; k < 8; k++) {
			a[k] += dy[i + k];
			b[k] += dy[i + k] * (x[i + k] - mu);
		}
	double s = 0, t = 0;
	for (; i < n; i++) {
		s += dy[i];
		t += (double)dy[i] * (x[i] - mu);
	}
	for (int k = 0; k < 8; k++) {
		s += a[k];
		t += b[k];
	}
	*sdy += s;
	*sdyx += t;
}

struct job {
	struct vb_layer *l;
	const float *x;
	float *y;
	const float *dy;
	float *dx;
	int n, train;
};

static void fwd(void *arg, int tid, long lo, long hi)
{
	(void)tid;
	struct job *j = arg;
	struct vb_layer *l = j->l;
	struct bn *b = l->st;
	int C = l->in.c;
	long HW = (long)l->in.h * l->in.w, M = HW * j->n;
	const float *gamma = l->param[0]->w, *beta = l->param[1]->w;
	float *rm = l->param[2]->w, *rv = l->param[3]->w;
	for (long c = lo; c < hi; c++) {
		float mean, invstd;
		if (j->train) {
			double s = 0, ss = 0;
			for (int n = 0; n < j->n; n++)
				s += row_sum(j->x + ((long)n * C + c) * HW, HW);
			double mu = s / M;
			for (int n = 0; n < j->n; n++)
				ss += row_sqdev(j->x + ((long)n * C + c) * HW, HW, (float)mu);
			double var = ss / M;
			mean = (float)mu;
			invstd = (float)(1.0 / sqrt(var + b->eps));
			b->mean[c] = mean;
			b->invstd[c] = invstd;
			rm[c] = (float)((1 - b->momentum) * rm[c] + b->momentum * mu);
			rv[c] = (float)((1 - b->momentum) * rv[c] +
			                b->momentum * (M > 1 ? ss / (M - 1) : var));
		} else {
			mean = rm[c];
			invstd = (float)(1.0 / sqrt((double)rv[c] + b->eps));
		}
		float a = gamma[c] * invstd, o = beta[c] - mean * a;
		for (int n = 0; n < j->n; n++) {
			const float *x = j->x + ((long)n * C + c) * HW;
			float *y = j->y + ((long)n * C + c) * HW;
			for (long p = 0; p < HW; p++)
				y[p] = x[p] * a + o;
		}
	}
}

static void bwd(void *arg, int tid, long lo, long hi)
{
	(void)tid;
	struct job *j = arg;
	struct vb_layer *l = j->l;
	struct bn *b = l->st;
	int C = l->in.c;
	long HW = (long)l->in.h * l->in.w, M = HW * j->n;
	const float *gamma = l->param[0]->w;
	float *gg = l->param[0]->g, *gb = l->param[1]->g;
	for (long c = lo; c < hi; c++) {
		float mean = b->mean[c], invstd = b->invstd[c];
		double sdy = 0, sdyx = 0;
		for (int n = 0; n < j->n; n++)
			row_dsums(j->dy + ((long)n * C + c) * HW, j->x + ((long)n * C + c) * HW, HW,
			          mean, &sdy, &sdyx);
		sdyx *= invstd;
		gg[c] += (float)sdyx;
		gb[c] += (float)sdy;
		if (!j->dx)
			continue;
		float k = gamma[c] * invstd;
		float m1 = (float)(sdy / M), m2 = (float)(sdyx / M);
		float m2i = m2 * invstd;
		for (int n = 0; n < j->n; n++) {
			const float *x = j->x + ((long)n * C + c) * HW;
			const float *dy = j->dy + ((long)n * C + c) * HW;
			float *dx = j->dx + ((long)n * C + c) * HW;
			for (long p = 0; p < HW; p++)
				dx[p] = k * (dy[p] - m1 - (x[p] - mean) * m2i);
		}
	}
}

static void bn_forward(struct vb_layer *l, struct vb_net *net, const float *x, float *y,
                       int n, int train)
{
	struct job j = {l, x, y, NULL, NULL, n, train};
	vb_pool_run(net->pool, l->in.c, fwd, &j);
	if (train)
		l->param[4]->w[0] += 1;
}

static void bn_backward(struct vb_layer *l, struct vb_net *net, const float *x,
                        const float *y, const float *dy, float *dx, int n)
{
	(void)y;
	struct job j = {l, x, NULL, dy, dx, n, 1};
	vb_pool_run(net->pool, l->in.c, bwd, &j);
}

static void bn_free(struct vb_layer *l)
{
	struct bn *b = l->st;
	if (b) {
		free(b->mean);
		free(b->invstd);
		free(b);
	}
	l->st = NULL;
}

static const struct vb_layer_ops bn_ops = {
	"bn", bn_forward, bn_backward, bn_free, 0, NULL,
};

int vb_bn_is(const struct vb_layer *l)
{
	return l->ops == &bn_ops;
}

void vb_bn_fold(const struct vb_layer *l, int out, long per, const float *w, const float *b,
                float *fw, float *fb)
{
	const struct bn *bn = l ? l->st : NULL;
	for (int o = 0; o < out; o++) {
		double a = 1, t = 0;
		if (bn) {
			a = l->param[0]->w[o] / sqrt((double)l->param[3]->w[o] + bn->eps);
			t = l->param[1]->w[o] - l->param[2]->w[o] * a;
		}
		if (fw && !w)
			fw[o] = (float)a;
		else if (fw)
			for (long i = 0; i < per; i++)
				fw[o * per + i] = (float)(w[o * per + i] * a);
		fb[o] = (float)((b ? b[o] : 0) * a + t);
	}
}

void vb_bn_mark_folded(struct vb_layer *l)
{
	l->skip = 1;
}

int vb_bn_init(struct vb_layer *l, double eps, double momentum)
{
	if (!(eps > 0) || !(momentum >= 0 && momentum <= 1))
		return vb_err_set("bn: bad eps or momentum");
	struct bn *b = calloc(1, sizeof *b);
	if (!b)
		return vb_err_set("out of memory");
	l->st = b;
	l->ops = &bn_ops;
	l->out = l->in;
	b->eps = eps;
	b->momentum = momentum;
	int C = l->in.c;
	b->mean = calloc(C, sizeof(float));
	b->invstd = calloc(C, sizeof(float));
	if (!b->mean || !b->invstd)
		return vb_err_set("out of memory");
	int64_t s[1] = {C};
	static const char *what[4] = {"weight", "bias", "running_mean", "running_var"};
	for (int i = 0; i < 4; i++)
		if (!(l->param[l->nparam++] = vb_param_new(l->name, what[i], 1, s, i >= 2, 0)))
			return -1;
	if (!(l->param[l->nparam++] = vb_param_new(l->name, "num_batches_tracked", 0, s, 1, 0)))
		return -1;
	for (int c = 0; c < C; c++) {
		l->param[0]->w[c] = 1;
		l->param[3]->w[c] = 1;
	}
	return 0;
}
