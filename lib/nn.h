/* nn.h - a small convolutional network engine on OpenBLAS.
 *
 * Activations are float32 in NCHW order (a dense layer's output is N x C
 * with H = W = 1).  A network is a list of layers built from an
 * architecture (arch.c); each layer owns its parameters (PyTorch names and
 * layouts), a forward pass and a backward pass.  Work is split over the
 * samples of a batch (or the channels, for batch normalisation) between a
 * fixed set of threads; each thread calls single-threaded sgemm, and the
 * per-thread partial gradients are summed in thread order, so the same seed,
 * data and thread count give bit-identical results.
 *
 * Modules: nn.c (network, buffers, threads, driver), conv.c, bn.c, pool.c
 * (max / global average pooling), dense.c, act.c (ReLU, dropout, flatten),
 * loss.c, optim.c, arch.c (YAML -> network), safetensors.c, model.c.
 */
#ifndef VB_NN_H
#define VB_NN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rng.h"

/* ---- threads (nn.c) ---------------------------------------------------- */

struct vb_pool;
/* fn(ctx, tid, lo, hi) handles items [lo, hi) of a range split into one
 * contiguous chunk per thread (tid 0 is the calling thread). */
typedef void (*vb_par_fn)(void *ctx, int tid, long lo, long hi);
/* A pool of n threads (n >= 1; n - 1 are started).  NULL on error. */
struct vb_pool *vb_pool_new(int n);
/* Stops the threads; accepts NULL. */
void vb_pool_free(struct vb_pool *p);
/* Runs fn over [0, n) on every thread and waits.  A NULL pool runs inline. */
void vb_pool_run(struct vb_pool *p, long n, vb_par_fn fn, void *ctx);
int vb_pool_size(const struct vb_pool *p);

/* ---- large arrays (nn.c) ----------------------------------------------- */

/* malloc (zero: calloc) that puts arrays of 2 MiB and more on transparent
 * huge pages where the system allows it, so that filling a 10 MB weight
 * matrix costs a few page faults instead of thousands.  Zeroed arrays are
 * fresh pages, faulted in only when written.  Release with free().  NULL
 * when out of memory. */
void *vb_alloc_big(size_t bytes, int zero);

/* ---- parameters -------------------------------------------------------- */

struct vb_param {
	char name[96];          /* "conv1.weight", "bn1.running_mean", ... */
	int ndim;
	int64_t shape[4];
	long n;                 /* element count */
	float *w;               /* values */
	float *g;               /* gradient (NULL for buffers) */
	float *m, *v;           /* optimiser state (allocated by optim.c) */
	float **tg;             /* per-thread gradient accumulators (t >= 1) */
	int decay;              /* L2 weight decay applies */
	int buffer;             /* not trained (BN running statistics) */
	int per_thread;         /* gradients summed from per-thread copies (tg) */
	int borrowed;           /* w points into a loaded model file: not freed */
};

/* ---- layers ------------------------------------------------------------ */

struct vb_net;
struct vb_layer;

struct vb_shape {
	int c, h, w;
};

/* c * h * w */
long vb_shape_size(struct vb_shape s);

struct vb_layer_ops {
	const char *type;
	/* y = f(x) for n samples.  train: batch statistics, dropout. */
	void (*forward)(struct vb_layer *l, struct vb_net *net, const float *x, float *y,
	                int n, int train);
	/* dx from dy (dx NULL: not needed; dx may equal dy for in-place layers);
	 * parameter gradients are accumulated into param->g. */
	void (*backward)(struct vb_layer *l, struct vb_net *net, const float *x, const float *y,
	                 const float *dy, float *dx, int n);
	/* Frees l->st. */
	void (*free_state)(struct vb_layer *l);
	int inplace;            /* y may share x's buffer */
	/* Bytes of per-thread scratch needed for a batch. */
	size_t (*scratch)(const struct vb_layer *l);
};

struct vb_layer {
	const struct vb_layer_ops *ops;
	char name[64];
	struct vb_shape in, out;
	int nparam;
	struct vb_param *param[5];
	void *st;               /* layer state (owned) */
	int index;              /* position in the network */
	int skip;               /* frozen: folded into a neighbour (vb_net_freeze);
	                         * its output is its input, it does not run */
};

/* Layer constructors (each file's own).  They fill l (ops, out shape,
 * params, state) from l->in and the arguments; 0 or -1 with an error. */
enum vb_pad { VB_PAD_VALID, VB_PAD_SAME };
int vb_conv_init(struct vb_layer *l, int filters, int k, int stride, enum vb_pad pad,
                 int depthwise, int bias);
int vb_bn_init(struct vb_layer *l, double eps, double momentum);
int vb_maxpool_init(struct vb_layer *l, int size, int stride);
int vb_gap_init(struct vb_layer *l);
int vb_relu_init(struct vb_layer *l);
int vb_dropout_init(struct vb_layer *l, double rate);
int vb_flatten_init(struct vb_layer *l);
int vb_dense_init(struct vb_layer *l, int units, int bias);
/* Fuse a ReLU into the convolution before it: the convolution applies it
 * to its output and masks the incoming gradient (in place, in the net's
 * gradient buffer); the ReLU layer is marked to do nothing.  Done by
 * vb_net_finish for every conv directly followed by a relu. */
int vb_conv_is(const struct vb_layer *l);
int vb_relu_is(const struct vb_layer *l);
void vb_conv_fuse_relu(struct vb_layer *conv);
void vb_relu_mark_fused(struct vb_layer *relu);

/* Inference-only rewrites (vb_net_freeze).  A batch norm's inference form
 * is y = x * scale + shift per channel; vb_bn_fold folds bn (NULL: none)
 * into the layer before it, of out units with per weights each: fb =
 * b * scale + shift (b may be NULL) and, unless fw is NULL, fw = w * scale,
 * or with w NULL the scale itself, one per unit.
 * Once folded, the batch norm is skipped (vb_bn_mark_folded).
 * vb_conv_freeze and vb_dense_freeze make the layer's inference pass use
 * its own copy of the weights with bn (or NULL) folded in and, for a
 * convolution, relu (a ReLU after bn) applied. */
int vb_bn_is(const struct vb_layer *l);
void vb_bn_fold(const struct vb_layer *bn, int out, long per, const float *w, const float *b,
                float *fw, float *fb);
void vb_bn_mark_folded(struct vb_layer *bn);
int vb_dense_is(const struct vb_layer *l);
int vb_conv_freeze(struct vb_layer *conv, const struct vb_layer *bn, int relu, float *mem);
/* The bytes of mem vb_conv_freeze uses (the Winograd kernels; the caller
 * keeps and frees it), 0 for none; vb_net_freeze gives all its
 * convolutions one block, which costs a page fault or two where one array
 * each cost hundreds. */
size_t vb_conv_frozen_bytes(const struct vb_layer *conv);
/* Whether the AVX-512 kernels of frozen convolution and dense layers may
 * run where the CPU has them (the default); 0 keeps to the portable code,
 * for tests.  vb_nn_avx512: whether they do. */
void vb_nn_set_simd(int on);
int vb_nn_avx512(void);
/* Their functions' attribute (conv.c, dense.c). */
#define T_512 __attribute__((target("avx512f")))
/* Fuse frozen convolution a into frozen convolution b, when a is 3 x 3
 * 'same' stride 1 on a one-channel input, b the same on a's output, with
 * no activation in between: b then computes both as one 5 x 5 convolution
 * of a's input (see conv.c).  1 if fused (the caller marks a to skip), 0 if
 * the pair does not qualify, -1 on error. */
int vb_conv_fuse(const struct vb_layer *a, struct vb_layer *b);
int vb_dense_freeze(struct vb_layer *dense, const struct vb_layer *bn);

/* A new parameter named "<layer>.<what>" of the given shape, zero-filled;
 * unless buffer, vb_net_prepare gives it a gradient (g) if the network is
 * not frozen.  NULL on allocation failure. */
struct vb_param *vb_param_new(const char *layer, const char *what, int ndim,
                              const int64_t *shape, int buffer, int decay);
void vb_param_free(struct vb_param *p);

/* Branch-free ReLU pieces (the sign of the activations is random, so
 * branches would be mispredicted half of the time). */
static inline float vb_relu1(float v)
{
	union { float f; uint32_t u; } x = {v};
	x.u &= ~(uint32_t)((int32_t)x.u >> 31);
	return x.f;
}
/* g if y > 0, else 0. */
static inline float vb_relu_grad(float g, float y)
{
	union { float f; uint32_t u; } x = {g};
	x.u &= -(uint32_t)(y > 0);
	return x.f;
}

/* ---- network (nn.c) ---------------------------------------------------- */

struct vb_net {
	int nlayers;
	struct vb_layer **layers;
	int nparams;
	struct vb_param **params;   /* every parameter and buffer, in layer order */
	struct vb_shape in;
	int nclasses;               /* output size of the last layer */
	/* input normalisation: x = (px / divide - mean) / std */
	double divide, mean, std;
	char *arch_text;            /* the architecture YAML text (owned) */
	char *arch_name;            /* its name: (owned) */
	int init_he;                /* init: he (else glorot) */

	/* run state */
	struct vb_pool *pool;
	int nthreads;
	int maxbatch;
	float **act;                /* act[0] input, act[i + 1] output of layer i */
	float *pp[2];               /* frozen: the buffers act[1..] take in turn */
	float *gbuf[2];             /* gradient ping-pong buffers */
	unsigned char **tscratch;   /* per-thread scratch */
	size_t scratch_size;
	struct vb_rng rng;          /* dropout masks */
	uint64_t step;              /* forward passes in training mode */
	int frozen;                 /* vb_net_freeze was called */
	float *frozen_mem;          /* the convolutions' frozen state */
};

/* A network with no layers for inputs of the given shape.  NULL on error. */
struct vb_net *vb_net_new(struct vb_shape in);
/* Frees the network, its layers, parameters and buffers; accepts NULL. */
void vb_net_free(struct vb_net *net);
/* Appends a layer: *l comes back zeroed with in shape and index set and the
 * name given (or "" for automatic); the caller then calls a vb_*_init on
 * it.  NULL on allocation failure. */
struct vb_layer *vb_net_add(struct vb_net *net, const char *name);
/* Collects the parameters after every layer is added and checks for name
 * clashes.  0 or -1. */
int vb_net_finish(struct vb_net *net);

/* Sets the thread count (a new pool) and the largest batch, (re)allocating
 * the activation buffers.  0 or -1. */
int vb_net_prepare(struct vb_net *net, int nthreads, int maxbatch);

/* Forward pass over n <= maxbatch samples already in net->act[0] (n x
 * in.c x in.h x in.w floats); returns the logits (n x nclasses), owned by
 * the net. */
const float *vb_net_forward(struct vb_net *net, int n, int train);
/* The same through layers [0, to) only: returns net->act[to]. */
const float *vb_net_forward_to(struct vb_net *net, int to, int n, int train);
/* Inference through layers [from, to) on n samples in buf[0], outside the
 * net's own buffers: outputs go to buf[1] and buf[0] in turn (each must
 * hold n samples of any of those layers' input and output); returns the
 * buffer holding the result.  For a net's last layers on more samples than
 * it was prepared for. */
const float *vb_net_infer(struct vb_net *net, int from, int to, float *buf[2], int n);
/* Backward pass from dlogits (n x nclasses) after a training forward pass;
 * adds to the parameter gradients. */
void vb_net_backward(struct vb_net *net, const float *dlogits, int n);
/* Zeroes every gradient. */
void vb_net_zero_grad(struct vb_net *net);
/* Number of trainable parameters (not buffers). */
long vb_net_nweights(const struct vb_net *net);
/* Initialise weights: glorot (Keras Glorot-uniform) or he (He-uniform);
 * biases 0, BN gamma 1, beta 0, running mean 0, var 1. */
enum vb_init { VB_INIT_GLOROT, VB_INIT_HE };
void vb_net_init_weights(struct vb_net *net, enum vb_init how, uint64_t seed);
/* Find a parameter by name; NULL if absent. */
struct vb_param *vb_net_param(const struct vb_net *net, const char *name);

/* Normalise n images of raw 8-bit pixels into act[0]. */
void vb_net_load_pixels(struct vb_net *net, const uint8_t *px, int n);

/* Make a trained network faster for inference, once its weights are final
 * (after loading a model): each batch norm right after a convolution or
 * dense layer is folded into that layer's weights (and a ReLU after it
 * into the convolution); 3 x 3 stride-1 'same' convolutions switch to
 * Winograd's F(4x4, 3x3) algorithm where the transformed kernels fit in
 * 1 MiB (4 times fewer multiplications), else F(2x2, 3x3) (2.25 times),
 * and a one-channel first one is fused into the next (vb_conv_fuse);
 * dense layers take one matrix-vector product per sample.  Every sample is
 * then computed the same way whatever the batch, so results do not depend
 * on how faces are batched.  Only inference passes (train = 0) change; the
 * parameters stay as they are, so the network still saves as before, but it
 * must not be trained any more.  Re-prepares the buffers if prepared;
 * frozen before vb_net_prepare, the network gets no gradient arrays.  0 or
 * -1. */
int vb_net_freeze(struct vb_net *net);

/* Set OpenBLAS's own thread count (dense layers, song-cluster); with 1,
 * its idle threads are stopped as vb_blas_idle does. */
void vb_blas_threads(int n);
/* Stop OpenBLAS's idle threads from spinning (they come back when needed). */
void vb_blas_idle(void);

/* ---- architectures (arch.c) -------------------------------------------- */

/* Build a network from architecture YAML text for nclasses outputs (0: the
 * architecture must say; "units: classes" uses it).  Weights are left zero.
 * NULL with an error ("line N: ...") on failure. */
struct vb_net *vb_arch_build(const char *yaml, size_t len, int nclasses);
/* Read a whole file into a NUL-terminated buffer (caller frees). */
char *vb_read_file(const char *path, size_t *len);

/* ---- loss (loss.c) ----------------------------------------------------- */

struct vb_loss_opts {
	double smoothing;          /* label smoothing epsilon, 0 none */
	const float *class_weight; /* nclasses weights, or NULL */
};
/* Softmax cross-entropy averaged over n samples.  Targets are hard labels
 * (labels != NULL, values in [0, k)) or soft distributions (soft: n x k).
 * Writes probabilities to prob (n x k, may be NULL) and d loss / d logits to
 * dlogits (may be NULL); returns the mean loss and adds the number of
 * correct arg-max predictions (against the label or the soft arg-max) to
 * *correct if not NULL. */
double vb_softmax_xent(const float *logits, int n, int k, const int64_t *labels,
                       const float *soft, const struct vb_loss_opts *o, float *prob,
                       float *dlogits, long *correct);
/* Softmax of each of n rows of k logits into p (may alias). */
void vb_softmax(const float *logits, int n, int k, float *p);

/* ---- optimisers (optim.c) ---------------------------------------------- */

enum vb_optim_kind { VB_ADAM, VB_SGD };
struct vb_optim {
	enum vb_optim_kind kind;
	double lr;            /* current learning rate */
	double beta1, beta2, eps;   /* Adam (Keras: 0.9, 0.999, 1e-7) */
	double momentum;      /* SGD */
	int nesterov;
	double weight_decay;  /* L2: adds wd * w to the gradient of decayed weights */
	int64_t t;            /* steps taken */
};
/* Defaults: Adam, lr 1e-3, Keras betas and eps, no decay. */
void vb_optim_defaults(struct vb_optim *o, enum vb_optim_kind kind);
/* Allocates state for every trainable parameter.  0 or -1. */
int vb_optim_attach(struct vb_optim *o, struct vb_net *net);
/* One update from the accumulated gradients. */
void vb_optim_step(struct vb_optim *o, struct vb_net *net);

/* Learning-rate schedules. */
struct vb_plateau {
	double factor;   /* multiply the rate by this (0.5) */
	int patience;    /* after this many epochs without improvement */
	double min_lr;
	double best;
	int bad;
};
void vb_plateau_init(struct vb_plateau *p, double factor, int patience, double min_lr);
/* Given this epoch's validation score (higher is better), returns the new lr. */
double vb_plateau_step(struct vb_plateau *p, double score, double lr);
/* Cosine annealing from lr0 to lr_min over total epochs: rate for epoch e (0-based). */
double vb_cosine_lr(double lr0, double lr_min, int e, int total, int warmup);

#endif
