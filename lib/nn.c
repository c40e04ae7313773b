/* nn.c - the network: parameters, activation buffers, the thread pool and
 * the forward/backward driver. */
#include "nn.h"

#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "err.h"

/* ---- large arrays ------------------------------------------------------ */

void *vb_alloc_big(size_t bytes, int zero)
{
	enum { HUGE = 2 << 20 };
	void *p = NULL;
	if (bytes < HUGE)
		return zero ? calloc(1, bytes ? bytes : 1) : malloc(bytes ? bytes : 1);
	if (zero) {
		/* calloc takes fresh zero pages for such sizes rather than
		 * clearing them, so a model's weights, loaded or borrowed from
		 * the file (model.c), cost no faults here; the huge-page advice
		 * covers the whole 2 MiB pages inside */
		if (!(p = calloc(1, bytes)))
			return NULL;
		uintptr_t a = ((uintptr_t)p + HUGE - 1) & ~(uintptr_t)(HUGE - 1);
		uintptr_t e = ((uintptr_t)p + bytes) & ~(uintptr_t)(HUGE - 1);
		if (e > a)
			madvise((void *)a, e - a, MADV_HUGEPAGE);   /* advice only */
		return p;
	}
	if (posix_memalign(&p, HUGE, bytes) != 0)
		return NULL;
	madvise(p, bytes, MADV_HUGEPAGE);   /* advice only: failure is harmless */
	return p;
}

/* ---- AVX-512 kernels (conv.c, dense.c) ---------------------------------- */

static int simd_on = 1;

void vb_nn_set_simd(int on)
{
	simd_on = on;
}

int vb_nn_avx512(void)
{
	static int known = -1;
	if (known < 0) {
		__builtin_cpu_init();
		known = __builtin_cpu_supports("avx512f") ? 1 : 0;
	}
	return known && simd_on;
}

/* ---- thread pool ------------------------------------------------------- */

struct vb_pool {
	int n;
	pthread_t *th;
	pthread_mutex_t mu;
	pthread_cond_t go, done;
	unsigned long gen;
	int pending;
	int quit;
	long items;
	vb_par_fn fn;
	void *ctx;
};

struct worker_arg {
	struct vb_pool *p;
	int tid;
};

static void chunk(long n, int nt, int tid, long *lo, long *hi)
{
	long q = n / nt, r = n % nt;
	*lo = tid * q + (tid < r ? tid : r);
	*hi = *lo + q + (tid < r);
}

/* Worker loop: wait for a new generation, run its chunk, report done. */
static void *worker(void *arg)
{
	struct worker_arg *a = arg;
	struct vb_pool *p = a->p;
	int tid = a->tid;
	unsigned long seen = 0;
	free(a);
	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (p->gen == seen && !p->quit)
			pthread_cond_wait(&p->go, &p->mu);
		if (p->quit) {
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		seen = p->gen;
		vb_par_fn fn = p->fn;
		void *ctx = p->ctx;
		long items = p->items;
		pthread_mutex_unlock(&p->mu);
		long lo, hi;
		chunk(items, p->n, tid, &lo, &hi);
		if (lo < hi)
			fn(ctx, tid, lo, hi);
		pthread_mutex_lock(&p->mu);
		if (--p->pending == 0)
			pthread_cond_signal(&p->done);
		pthread_mutex_unlock(&p->mu);
	}
}

struct vb_pool *vb_pool_new(int n)
{
	struct vb_pool *p = calloc(1, sizeof *p);
	if (!p || n < 1) {
		free(p);
		vb_err_set("bad thread count");
		return NULL;
	}
	p->n = n;
	p->th = calloc(n, sizeof *p->th);
	if (!p->th) {
		free(p);
		vb_err_set("out of memory");
		return NULL;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->go, NULL);
	pthread_cond_init(&p->done, NULL);
	for (int t = 1; t < n; t++) {
		struct worker_arg *a = malloc(sizeof *a);
		if (a) {
			a->p = p;
			a->tid = t;
		}
		if (!a || pthread_create(&p->th[t], NULL, worker, a) != 0) {
			free(a);
			p->n = t;
			vb_pool_free(p);
			vb_err_set("cannot start threads");
			return NULL;
		}
	}
	return p;
}

void vb_pool_free(struct vb_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->quit = 1;
	pthread_cond_broadcast(&p->go);
	pthread_mutex_unlock(&p->mu);
	for (int t = 1; t < p->n; t++)
		pthread_join(p->th[t], NULL);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->go);
	pthread_cond_destroy(&p->done);
	free(p->th);
	free(p);
}

int vb_pool_size(const struct vb_pool *p)
{
	return p ? p->n : 1;
}

void vb_pool_run(struct vb_pool *p, long n, vb_par_fn fn, void *ctx)
{
	if (n <= 0)
		return;
	if (!p || p->n == 1) {
		fn(ctx, 0, 0, n);
		return;
	}
	pthread_mutex_lock(&p->mu);
	p->fn = fn;
	p->ctx = ctx;
	p->items = n;
	p->pending = p->n - 1;
	p->gen++;
	pthread_cond_broadcast(&p->go);
	pthread_mutex_unlock(&p->mu);
	long lo, hi;
	chunk(n, p->n, 0, &lo, &hi);
	if (lo < hi)
		fn(ctx, 0, lo, hi);
	pthread_mutex_lock(&p->mu);
	while (p->pending > 0)
		pthread_cond_wait(&p->done, &p->mu);
	pthread_mutex_unlock(&p->mu);
}

/* OpenBLAS (the pthreads build) starts its worker threads when it is
 * loaded, and they spin on the CPU for about 0.1 s before they sleep: CPU
 * time a short run pays for nothing.  Stopping them is what OpenBLAS itself
 * does before a fork; the next multi-threaded call starts them again.  The
 * weak reference leaves other OpenBLAS builds alone. */
int blas_thread_shutdown_(void) __attribute__((weak));

void vb_blas_idle(void)
{
	if (blas_thread_shutdown_)
		blas_thread_shutdown_();
}

void vb_blas_threads(int n)
{
	static int cur = -1;
	if (n != cur) {
		openblas_set_num_threads(n);
		if (n == 1)   /* setting the count starts the threads again */
			vb_blas_idle();
		cur = n;
	}
}

/* ---- parameters -------------------------------------------------------- */

struct vb_param *vb_param_new(const char *layer, const char *what, int ndim,
                              const int64_t *shape, int buffer, int decay)
{
	struct vb_param *p = calloc(1, sizeof *p);
	if (!p)
		goto oom;
	snprintf(p->name, sizeof p->name, "%s.%s", layer, what);
	p->ndim = ndim;
	p->n = 1;
	for (int i = 0; i < ndim; i++) {
		p->shape[i] = shape[i];
		p->n *= shape[i];
	}
	p->buffer = buffer;
	p->decay = decay;
	p->w = vb_alloc_big(sizeof *p->w * p->n, 1);
	if (!p->w)
		goto oom;
	return p;
oom:
	vb_param_free(p);
	vb_err_set("out of memory");
	return NULL;
}

static void free_tg(struct vb_param *p, int nthreads)
{
	if (p->tg) {
		for (int t = 1; t < nthreads; t++)
			free(p->tg[t]);
		free(p->tg);
		p->tg = NULL;
	}
}

void vb_param_free(struct vb_param *p)
{
	if (!p)
		return;
	if (!p->borrowed)
		free(p->w);
	free(p->g);
	free(p->m);
	free(p->v);
	free(p);
}

/* ---- network ----------------------------------------------------------- */

struct vb_net *vb_net_new(struct vb_shape in)
{
	struct vb_net *net = calloc(1, sizeof *net);
	if (!net) {
		vb_err_set("out of memory");
		return NULL;
	}
	net->in = in;
	net->divide = 255;
	net->mean = 0;
	net->std = 1;
	net->nthreads = 1;
	vb_rng_seed(&net->rng, 42);
	return net;
}

static void free_buffers(struct vb_net *net)
{
	if (net->act && net->pp[0]) {
		free(net->act[0]);
		free(net->pp[0]);
		free(net->pp[1]);
		net->pp[0] = net->pp[1] = NULL;
	} else if (net->act) {
		for (int i = 0; i <= net->nlayers; i++)
			if (i == 0 || net->act[i] != net->act[i - 1])
				free(net->act[i]);
	}
	free(net->act);
	net->act = NULL;
	free(net->gbuf[0]);
	free(net->gbuf[1]);
	net->gbuf[0] = net->gbuf[1] = NULL;
	if (net->tscratch) {
		for (int t = 0; t < net->nthreads; t++)
			free(net->tscratch[t]);
		free(net->tscratch);
		net->tscratch = NULL;
	}
	for (int i = 0; i < net->nparams; i++)
		free_tg(net->params[i], net->nthreads);
}

void vb_net_free(struct vb_net *net)
{
	if (!net)
		return;
	free_buffers(net);
	vb_pool_free(net->pool);
	for (int i = 0; i < net->nlayers; i++) {
		struct vb_layer *l = net->layers[i];
		if (l->ops && l->ops->free_state)
			l->ops->free_state(l);
		for (int j = 0; j < l->nparam; j++)
			vb_param_free(l->param[j]);
		free(l);
	}
	free(net->layers);
	free(net->params);
	free(net->arch_text);
	free(net->arch_name);
	free(net->frozen_mem);
	free(net);
}

struct vb_layer *vb_net_add(struct vb_net *net, const char *name)
{
	struct vb_layer **ls = realloc(net->layers, (net->nlayers + 1) * sizeof *ls);
	if (!ls) {
		vb_err_set("out of memory");
		return NULL;
	}
	net->layers = ls;
	struct vb_layer *l = calloc(1, sizeof *l);
	if (!l) {
		vb_err_set("out of memory");
		return NULL;
	}
	l->in = net->nlayers ? net->layers[net->nlayers - 1]->out : net->in;
	l->index = net->nlayers;
	snprintf(l->name, sizeof l->name, "%s", name ? name : "");
	ls[net->nlayers++] = l;
	return l;
}

int vb_net_finish(struct vb_net *net)
{
	int n = 0;
	for (int i = 0; i < net->nlayers; i++) {
		if (!net->layers[i]->ops)
			return vb_err_set("layer %d not initialised", i + 1);
		n += net->layers[i]->nparam;
	}
	free(net->params);
	net->params = calloc(n ? n : 1, sizeof *net->params);
	if (!net->params)
		return vb_err_set("out of memory");
	net->nparams = 0;
	for (int i = 0; i < net->nlayers; i++)
		for (int j = 0; j < net->layers[i]->nparam; j++) {
			struct vb_param *p = net->layers[i]->param[j];
			for (int k = 0; k < net->nparams; k++)
				if (!strcmp(net->params[k]->name, p->name))
					return vb_err_set("duplicate parameter name '%s'", p->name);
			net->params[net->nparams++] = p;
		}
	for (int i = 0; i + 1 < net->nlayers; i++)
		if (vb_conv_is(net->layers[i]) && vb_relu_is(net->layers[i + 1])) {
			vb_conv_fuse_relu(net->layers[i]);
			vb_relu_mark_fused(net->layers[i + 1]);
		}
	struct vb_shape o = net->nlayers ? net->layers[net->nlayers - 1]->out : net->in;
	net->nclasses = o.c * o.h * o.w;
	return 0;
}

long vb_shape_size(struct vb_shape s)
{
	return (long)s.c * s.h * s.w;
}

int vb_net_prepare(struct vb_net *net, int nthreads, int maxbatch)
{
	if (nthreads < 1)
		nthreads = 1;
	if (maxbatch < 1)
		maxbatch = 1;
	if (net->act && nthreads == net->nthreads && maxbatch == net->maxbatch)
		return 0;
	free_buffers(net);
	if (nthreads != net->nthreads || (!net->pool && nthreads > 1)) {
		vb_pool_free(net->pool);
		net->pool = NULL;
		if (nthreads > 1 && !(net->pool = vb_pool_new(nthreads)))
			return -1;
	}
	net->nthreads = nthreads;
	net->maxbatch = maxbatch;
	net->act = calloc(net->nlayers + 1, sizeof *net->act);
	if (!net->act)
		return vb_err_set("out of memory");
	long gmax = vb_shape_size(net->in);
	net->act[0] = vb_alloc_big(sizeof(float) * maxbatch * vb_shape_size(net->in), 0);
	if (!net->act[0])
		goto oom;
	size_t scratch = 0;
	for (int i = 0; i < net->nlayers; i++)
		if (vb_shape_size(net->layers[i]->out) > gmax)
			gmax = vb_shape_size(net->layers[i]->out);
	/* a frozen network keeps no activations for a backward pass: its
	 * layers write to two buffers in turn (less memory to fault in) */
	if (net->frozen && (!(net->pp[0] = vb_alloc_big(sizeof(float) * maxbatch * gmax, 0)) ||
	                    !(net->pp[1] = vb_alloc_big(sizeof(float) * maxbatch * gmax, 0))))
		goto oom;
	for (int i = 0; i < net->nlayers; i++) {
		struct vb_layer *l = net->layers[i];
		long sz = vb_shape_size(l->out);
		if (l->ops->inplace || l->skip)
			net->act[i + 1] = net->act[i];
		else if (net->frozen)
			net->act[i + 1] = net->act[i] == net->pp[0] ? net->pp[1] : net->pp[0];
		else if (!(net->act[i + 1] = vb_alloc_big(sizeof(float) * maxbatch * sz, 0)))
			goto oom;
		if (l->ops->scratch) {
			size_t s = l->ops->scratch(l);
			if (s > scratch)
				scratch = s;
		}
	}
	if (!(net->gbuf[0] = vb_alloc_big(sizeof(float) * maxbatch * gmax, 0)) ||
	    !(net->gbuf[1] = vb_alloc_big(sizeof(float) * maxbatch * gmax, 0)))
		goto oom;
	net->scratch_size = scratch;
	net->tscratch = calloc(nthreads, sizeof *net->tscratch);
	if (!net->tscratch)
		goto oom;
	for (int t = 0; t < nthreads; t++)
		if (scratch && !(net->tscratch[t] = vb_alloc_big(scratch, 0)))
			goto oom;
	for (int i = 0; i < net->nparams; i++) {
		struct vb_param *p = net->params[i];
		/* gradients, but not for a frozen (inference-only) network */
		if (!p->buffer && !p->g && !net->frozen && !(p->g = calloc(p->n, sizeof *p->g)))
			goto oom;
		if (!p->per_thread || !p->g || nthreads == 1)
			continue;
		if (!(p->tg = calloc(nthreads, sizeof *p->tg)))
			goto oom;
		for (int t = 1; t < nthreads; t++)
			if (!(p->tg[t] = calloc(p->n, sizeof(float))))
				goto oom;
	}
	return 0;
oom:
	free_buffers(net);
	return vb_err_set("out of memory for a batch of %d", maxbatch);
}

/* A layer's share of vb_net_freeze's block: a convolution's frozen state,
 * rounded to whole cache lines. */
static size_t frozen_share(const struct vb_layer *l)
{
	return vb_conv_is(l) ? (vb_conv_frozen_bytes(l) + 63) & ~(size_t)63 : 0;
}

int vb_net_freeze(struct vb_net *net)
{
	size_t total = 0, at = 0;
	for (int i = 0; i < net->nlayers; i++)
		total += frozen_share(net->layers[i]);
	/* from 1 MiB on, whole 2 MiB pages (vb_alloc_big): one fault where a
	 * fresh 4 KiB page costs one each (1.9 MiB for the shipped network) */
	if (total >= (1 << 20))
		total = (total + (2 << 20) - 1) & ~(size_t)((2 << 20) - 1);
	if (total && !net->frozen_mem && !(net->frozen_mem = vb_alloc_big(total, 0)))
		return vb_err_set("out of memory");
	for (int i = 0; i < net->nlayers; i++) {
		struct vb_layer *l = net->layers[i];
		int conv = vb_conv_is(l);
		if (!conv && !vb_dense_is(l))
			continue;
		struct vb_layer *bn = NULL, *relu = NULL;
		if (i + 1 < net->nlayers && vb_bn_is(net->layers[i + 1]))
			bn = net->layers[i + 1];
		if (bn && conv && i + 2 < net->nlayers && vb_relu_is(net->layers[i + 2]))
			relu = net->layers[i + 2];
		float *mem = frozen_share(l) ? (float *)((char *)net->frozen_mem + at) : NULL;
		at += frozen_share(l);
		if ((conv ? vb_conv_freeze(l, bn, relu != NULL, mem) : vb_dense_freeze(l, bn)) < 0)
			return -1;
		if (bn)
			vb_bn_mark_folded(bn);
		if (relu)
			vb_relu_mark_fused(relu);
	}
	/* a one-channel convolution into the next, past a folded batch norm */
	for (int i = 0; i < net->nlayers; i++) {
		struct vb_layer *a = net->layers[i];
		int j = i + 1;
		while (j < net->nlayers && net->layers[j]->skip)
			j++;
		if (!vb_conv_is(a) || j == net->nlayers || !vb_conv_is(net->layers[j]))
			continue;
		int r = vb_conv_fuse(a, net->layers[j]);
		if (r < 0)
			return -1;
		a->skip = r;
	}
	net->frozen = 1;
	if (!net->act)
		return 0;
	/* the scratch sizes changed */
	int t = net->nthreads, b = net->maxbatch;
	free_buffers(net);
	return vb_net_prepare(net, t, b);
}

const float *vb_net_forward_to(struct vb_net *net, int to, int n, int train)
{
	if (train)
		net->step++;
	for (int i = 0; i < to; i++) {
		struct vb_layer *l = net->layers[i];
		if (!l->skip)
			l->ops->forward(l, net, net->act[i], net->act[i + 1], n, train);
	}
	return net->act[to];
}

const float *vb_net_forward(struct vb_net *net, int n, int train)
{
	return vb_net_forward_to(net, net->nlayers, n, train);
}

const float *vb_net_infer(struct vb_net *net, int from, int to, float *buf[2], int n)
{
	int cur = 0;
	for (int i = from; i < to; i++) {
		struct vb_layer *l = net->layers[i];
		if (l->skip)
			continue;
		int nxt = l->ops->inplace ? cur : 1 - cur;
		l->ops->forward(l, net, buf[cur], buf[nxt], n, 0);
		cur = nxt;
	}
	return buf[cur];
}

void vb_net_backward(struct vb_net *net, const float *dlogits, int n)
{
	int cur = 0;
	memcpy(net->gbuf[0], dlogits, sizeof(float) * n * net->nclasses);
	for (int i = net->nlayers - 1; i >= 0; i--) {
		struct vb_layer *l = net->layers[i];
		int nxt = l->ops->inplace ? cur : 1 - cur;
		int first = i == 0;
		l->ops->backward(l, net, net->act[i], net->act[i + 1], net->gbuf[cur],
		                 first ? NULL : net->gbuf[nxt], n);
		cur = nxt;
	}
	/* sum per-thread gradient copies in thread order */
	for (int i = 0; i < net->nparams; i++) {
		struct vb_param *p = net->params[i];
		if (!p->tg)
			continue;
		for (int t = 1; t < net->nthreads; t++) {
			float *g = p->tg[t];
			for (long j = 0; j < p->n; j++) {
				p->g[j] += g[j];
				g[j] = 0;
			}
		}
	}
}

void vb_net_zero_grad(struct vb_net *net)
{
	for (int i = 0; i < net->nparams; i++) {
		struct vb_param *p = net->params[i];
		if (p->g)
			memset(p->g, 0, sizeof(float) * p->n);
	}
}

long vb_net_nweights(const struct vb_net *net)
{
	long n = 0;
	for (int i = 0; i < net->nparams; i++)
		if (!net->params[i]->buffer)
			n += net->params[i]->n;
	return n;
}

struct vb_param *vb_net_param(const struct vb_net *net, const char *name)
{
	for (int i = 0; i < net->nparams; i++)
		if (!strcmp(net->params[i]->name, name))
			return net->params[i];
	return NULL;
}

static int ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && !strcmp(s + a - b, suf);
}

void vb_net_init_weights(struct vb_net *net, enum vb_init how, uint64_t seed)
{
	struct vb_rng r;
	vb_rng_seed(&r, seed);
	for (int i = 0; i < net->nparams; i++) {
		struct vb_param *p = net->params[i];
		float fill = 0;
		if (ends_with(p->name, ".running_var"))
			fill = 1;
		if (p->ndim >= 2 && ends_with(p->name, ".weight")) {
			/* out x in [x kh x kw]; depthwise convs have in = 1 */
			double rf = p->ndim == 4 ? (double)p->shape[2] * p->shape[3] : 1;
			double fan_in = p->shape[1] * rf, fan_out = p->shape[0] * rf;
			if (p->shape[1] == 1 && p->ndim == 4)
				fan_out = rf; /* depthwise: one filter per channel */
			double lim = how == VB_INIT_HE ? sqrt(6.0 / fan_in)
			                               : sqrt(6.0 / (fan_in + fan_out));
			for (long j = 0; j < p->n; j++)
				p->w[j] = (float)((2 * vb_rng_uniform(&r) - 1) * lim);
			continue;
		}
		if (p->ndim == 1 && ends_with(p->name, ".weight"))
			fill = 1; /* BN gamma */
		for (long j = 0; j < p->n; j++)
			p->w[j] = fill;
	}
}

void vb_net_load_pixels(struct vb_net *net, const uint8_t *px, int n)
{
	long sz = (long)n * vb_shape_size(net->in);
	float a = (float)(1.0 / (net->divide * net->std));
	float b = (float)(-net->mean / net->std);
	float *x = net->act[0];
	for (long i = 0; i < sz; i++)
		x[i] = px[i] * a + b;
}
