/* pool.c - max pooling (k x k windows, stride, no padding; the gradient
 * goes to the first maximum of each window) and global average pooling. */
#include "nn.h"

#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

struct mp {
	int k, s;
};

struct job {
	struct vb_layer *l;
	const float *x;
	float *y;
	const float *dy;
	float *dx;
};

/* Index (in the channel plane) of the first maximum of window (oy, ox). */
static inline long argmax(const float *x, int W, int k, int s, int oy, int ox, float *best)
{
	long bi = (long)oy * s * W + (long)ox * s;
	float bv = x[bi];
	for (int i = 0; i < k; i++)
		for (int j = 0; j < k; j++) {
			long idx = (long)(oy * s + i) * W + ox * s + j;
			if (x[idx] > bv) {
				bv = x[idx];
				bi = idx;
			}
		}
	*best = bv;
	return bi;
}

static void mp_fwd(void *arg, int tid, long lo, long hi)
{
	(void)tid;
	struct job *j = arg;
	struct vb_layer *l = j->l;
	struct mp *m = l->st;
	int H = l->in.h, W = l->in.w, OH = l->out.h, OW = l->out.w;
	for (long q = lo; q < hi; q++) { /* q = sample * C + channel */
		const float *x = j->x + q * H * W;
		float *y = j->y + q * OH * OW;
		if (m->k == 2 && m->s == 2) {
			for (int oy = 0; oy < OH; oy++) {
				const float *r0 = x + (long)2 * oy * W, *r1 = r0 + W;
				float *yr = y + (long)oy * OW;
				for (int ox = 0; ox < OW; ox++) {
					float a = r0[2 * ox], b = r0[2 * ox + 1];
					float c = r1[2 * ox], d = r1[2 * ox + 1];
					float ab = b > a ? b : a, cd = d > c ? d : c;
					yr[ox] = cd > ab ? cd : ab;
				}
			}
			continue;
		}
		for (int oy = 0; oy < OH; oy++)
			for (int ox = 0; ox < OW; ox++)
				argmax(x, W, m->k, m->s, oy, ox, &y[(long)oy * OW + ox]);
	}
}

static void mp_bwd(void *arg, int tid, long lo, long hi)
{
	(void)tid;
	struct job *j = arg;
	struct vb_layer *l = j->l;
	struct mp *m = l->st;
	int H = l->in.h, W = l->in.w, OH = l->out.h, OW = l->out.w;
	for (long q = lo; q < hi; q++) {
		const float *x = j->x + q * H * W;
		const float *dy = j->dy + q * OH * OW;
		float *dx = j->dx + q * H * W;
		memset(dx, 0, sizeof(float) * H * W);
		for (int oy = 0; oy < OH; oy++)
			for (int ox = 0; ox < OW; ox++) {
				float v;
				dx[argmax(x, W, m->k, m->s, oy, ox, &v)] += dy[(long)oy * OW + ox];
			}
	}
}

static void mp_forward(struct vb_layer *l, struct vb_net *net, const float *x, float *y,
                       int n, int train)
{
	(void)train;
	struct job j = {l, x, y, NULL, NULL};
	vb_pool_run(net->pool, (long)n * l->in.c, mp_fwd, &j);
}

static void mp_backward(struct vb_layer *l, struct vb_net *net, const float *x,
                        const float *y, const float *dy, float *dx, int n)
{
	(void)y;
	if (!dx)
		return;
	struct job j = {l, x, NULL, dy, dx};
	vb_pool_run(net->pool, (long)n * l->in.c, mp_bwd, &j);
}

static void st_free(struct vb_layer *l)
{
	free(l->st);
	l->st = NULL;
}

static const struct vb_layer_ops mp_ops = {
	"maxpool", mp_forward, mp_backward, st_free, 0, NULL,
};

int vb_maxpool_init(struct vb_layer *l, int size, int stride)
{
	if (stride <= 0)
		stride = size;
	if (size < 1 || size > 64 || stride > 64)
		return vb_err_set("maxpool: bad size %d or stride %d", size, stride);
	if (l->in.h < size || l->in.w < size)
		return vb_err_set("maxpool: a %dx%d input is smaller than the %dx%d window",
		                  l->in.h, l->in.w, size, size);
	struct mp *m = calloc(1, sizeof *m);
	if (!m)
		return vb_err_set("out of memory");
	m->k = size;
	m->s = stride;
	l->st = m;
	l->ops = &mp_ops;
	l->out = (struct vb_shape){l->in.c, (l->in.h - size) / stride + 1,
	                           (l->in.w - size) / stride + 1};
	return 0;
}

/* ---- global average pooling ------------------------------------------- */

static void gap_fwd(void *arg, int tid, long lo, long hi)
{
	(void)tid;
	struct job *j = arg;
	long HW = (long)j->l->in.h * j->l->in.w;
	for (long q = lo; q < hi; q++) {
		const float *x = j->x + q * HW;
		float s = 0;
		for (long p = 0; p < HW; p++)
			s += x[p];
		j->y[q] = s / (float)HW;
	}
}

static void gap_bwd(void *arg, int tid, long lo, long hi)
{
	(void)tid;
	struct job *j = arg;
	long HW = (long)j->l->in.h * j->l->in.w;
	for (long q = lo; q < hi; q++) {
		float g = j->dy[q] / (float)HW;
		float *dx = j->dx + q * HW;
		for (long p = 0; p < HW; p++)
			dx[p] = g;
	}
}

static void gap_forward(struct vb_layer *l, struct vb_net *net, const float *x, float *y,
                        int n, int train)
{
	(void)train;
	struct job j = {l, x, y, NULL, NULL};
	vb_pool_run(net->pool, (long)n * l->in.c, gap_fwd, &j);
}

static void gap_backward(struct vb_layer *l, struct vb_net *net, const float *x,
                         const float *y, const float *dy, float *dx, int n)
{
	(void)x;
	(void)y;
	if (!dx)
		return;
	struct job j = {l, NULL, NULL, dy, dx};
	vb_pool_run(net->pool, (long)n * l->in.c, gap_bwd, &j);
}

static const struct vb_layer_ops gap_ops = {
	"gap", gap_forward, gap_backward, NULL, 0, NULL,
};

int vb_gap_init(struct vb_layer *l)
{
	l->ops = &gap_ops;
	l->out = (struct vb_shape){l->in.c, 1, 1};
	return 0;
}
