/* act.c - the layers without parameters that work element by element:
 * ReLU, inverted dropout and flatten.  All three run in place. */
#include "nn.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"

struct job {
	struct vb_layer *l;
	struct vb_net *net;
	const float *x;
	float *y;
	const float *dy;
	float *dx;
	long per; /* elements per sample */
};

static void relu_fwd(void *arg, int tid, long lo, long hi)
{
	(void)tid;
	struct job *j = arg;
	const float *restrict x = j->x;
	float *y = j->y;
	if (j->l->st) /* fused into the convolution before it */
		return;
	for (long i = lo * j->per; i < hi * j->per; i++)
		y[i] = vb_relu1(x[i]);
}

static void relu_bwd(void *arg, int tid, long lo, long hi)
{
	(void)tid;
	struct job *j = arg;
	const float *y = j->y, *dy = j->dy;
	float *dx = j->dx;
	if (j->l->st)
		return;
	for (long i = lo * j->per; i < hi * j->per; i++)
		dx[i] = vb_relu_grad(dy[i], y[i]);
}

static long per_sample(const struct vb_layer *l)
{
	return (long)l->in.c * l->in.h * l->in.w;
}

static void relu_forward(struct vb_layer *l, struct vb_net *net, const float *x, float *y,
                         int n, int train)
{
	(void)train;
	struct job j = {l, net, x, y, NULL, NULL, per_sample(l)};
	if (!l->st)
		vb_pool_run(net->pool, n, relu_fwd, &j);
}

static void relu_backward(struct vb_layer *l, struct vb_net *net, const float *x,
                          const float *y, const float *dy, float *dx, int n)
{
	(void)x;
	if (!dx || l->st)
		return;
	struct job j = {l, net, NULL, (float *)y, dy, dx, per_sample(l)};
	vb_pool_run(net->pool, n, relu_bwd, &j);
}

static const struct vb_layer_ops relu_ops = {
	"relu", relu_forward, relu_backward, NULL, 1, NULL,
};

/* A ReLU right after a convolution is applied by the convolution while its
 * output is still in cache (vb_conv_fuse_relu); the layer then does
 * nothing.  l->st is a non-NULL marker, never freed. */
int vb_relu_is(const struct vb_layer *l)
{
	return l->ops == &relu_ops;
}

void vb_relu_mark_fused(struct vb_layer *l)
{
	static int fused;
	l->st = &fused;
}

int vb_relu_init(struct vb_layer *l)
{
	l->ops = &relu_ops;
	l->out = l->in;
	return 0;
}

/* ---- dropout ----------------------------------------------------------- */

struct drop {
	double rate;
	uint64_t step; /* net->step of the last training forward pass */
};

/* Each sample's mask comes from its own stream keyed by (step, layer,
 * sample), so the backward pass regenerates it instead of storing it, and
 * the result does not depend on how the samples are split among threads. */
static void mask_rng(struct job *j, long sample, struct vb_rng *r)
{
	struct drop *d = j->l->st;
	uint64_t id = (d->step * 1024 + (uint64_t)j->l->index) * 1048576 + (uint64_t)sample;
	vb_rng_split(&j->net->rng, id, r);
}

static void drop_apply(void *arg, int tid, long lo, long hi)
{
	(void)tid;
	struct job *j = arg;
	struct drop *d = j->l->st;
	uint32_t thr = (uint32_t)(d->rate * 16777216.0);
	float scale = (float)(1.0 / (1.0 - d->rate));
	for (long s = lo; s < hi; s++) {
		struct vb_rng r;
		mask_rng(j, s, &r);
		const float *in = j->dy ? j->dy : j->x;
		float *out = j->dy ? j->dx : j->y;
		in += s * j->per;
		out += s * j->per;
		long per = j->per;
		for (long i = 0; i < per; i += 2) {
			uint64_t bits = vb_rng_u64(&r);
			uint32_t u0 = (uint32_t)bits & 0xffffff, u1 = (uint32_t)(bits >> 32) & 0xffffff;
			out[i] = in[i] * ((float)(u0 >= thr) * scale);
			if (i + 1 < per)
				out[i + 1] = in[i + 1] * ((float)(u1 >= thr) * scale);
		}
	}
}

static void drop_forward(struct vb_layer *l, struct vb_net *net, const float *x, float *y,
                         int n, int train)
{
	struct drop *d = l->st;
	if (!train || d->rate <= 0) {
		if (x != y)
			memcpy(y, x, sizeof(float) * n * per_sample(l));
		return;
	}
	d->step = net->step;
	struct job j = {l, net, x, y, NULL, NULL, per_sample(l)};
	vb_pool_run(net->pool, n, drop_apply, &j);
}

static void drop_backward(struct vb_layer *l, struct vb_net *net, const float *x,
                          const float *y, const float *dy, float *dx, int n)
{
	(void)x;
	(void)y;
	struct drop *d = l->st;
	if (!dx)
		return;
	if (d->rate <= 0) {
		if (dx != dy)
			memcpy(dx, dy, sizeof(float) * n * per_sample(l));
		return;
	}
	struct job j = {l, net, NULL, NULL, dy, dx, per_sample(l)};
	vb_pool_run(net->pool, n, drop_apply, &j);
}

static void drop_free(struct vb_layer *l)
{
	free(l->st);
	l->st = NULL;
}

static const struct vb_layer_ops drop_ops = {
	"dropout", drop_forward, drop_backward, drop_free, 1, NULL,
};

int vb_dropout_init(struct vb_layer *l, double rate)
{
	if (!(rate >= 0 && rate < 1))
		return vb_err_set("dropout: rate must be in [0, 1)");
	struct drop *d = calloc(1, sizeof *d);
	if (!d)
		return vb_err_set("out of memory");
	d->rate = rate;
	l->st = d;
	l->ops = &drop_ops;
	l->out = l->in;
	return 0;
}

/* ---- flatten ----------------------------------------------------------- */

static void flat_forward(struct vb_layer *l, struct vb_net *net, const float *x, float *y,
                         int n, int train)
{
	(void)net;
	(void)train;
	if (x != y)
		memcpy(y, x, sizeof(float) * n * per_sample(l));
}

static void flat_backward(struct vb_layer *l, struct vb_net *net, const float *x,
                          const float *y, const float *dy, float *dx, int n)
{
	(void)net;
	(void)x;
	(void)y;
	if (dx && dx != dy)
		memcpy(dx, dy, sizeof(float) * n * per_sample(l));
}

static const struct vb_layer_ops flat_ops = {
	"flatten", flat_forward, flat_backward, NULL, 1, NULL,
};

int vb_flatten_init(struct vb_layer *l)
{
	l->ops = &flat_ops;
	l->out = (struct vb_shape){l->in.c * l->in.h * l->in.w, 1, 1};
	return 0;
}
