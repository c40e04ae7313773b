/* test-freeze.c - vb_net_freeze: a frozen network (batch norms folded,
 * Winograd 3 x 3 convolutions, matrix-vector dense layers) gives the
 * logits of the ordinary inference pass, the same for a sample whatever
 * the batch, and leaves the parameters as they were. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "nn.h"
#include "tap.h"

/* Odd sizes (7 x 9: a last tile cut in both directions), a convolution
 * with a bias then batch norm and ReLU, one without, stride 2, depthwise
 * followed directly by a ReLU, dense then batch norm. */
static const char odd[] =
	"name: odd\ninput: [2, 7, 9]\nlayers:\n"
	"  - {type: conv, name: c1, filters: 5, kernel: 3}\n"
	"  - {type: batchnorm, name: b1}\n"
	"  - {type: relu}\n"
	"  - {type: conv, name: c2, filters: 6, kernel: 3, bias: false}\n"
	"  - {type: relu}\n"
	"  - {type: dwconv, name: d3, kernel: 3}\n"
	"  - {type: relu}\n"
	"  - {type: conv, name: c4, filters: 4, kernel: 3, stride: 2, bias: false}\n"
	"  - {type: batchnorm, name: b4}\n"
	"  - {type: conv, name: c5, filters: 3, kernel: 3, padding: valid}\n"
	"  - {type: flatten}\n"
	"  - {type: dense, name: f6, units: 7, bias: false}\n"
	"  - {type: batchnorm, name: b6}\n"
	"  - {type: relu}\n"
	"  - {type: dense, name: f7, units: classes}\n";

/* The network with its test weights; frozen first, then prepared, if
 * freeze_first. */
static struct vb_net *build(const char *yaml, size_t len, int classes, int freeze_first)
{
	struct vb_net *net = vb_arch_build(yaml, len, classes);
	if (!net || (!freeze_first && vb_net_prepare(net, 2, 5) < 0)) {
		printf("# %s\n", vb_err_msg());
		exit(1);
	}
	vb_net_init_weights(net, VB_INIT_GLOROT, 7);
	/* batch norms that do something: gamma, beta, running statistics */
	struct vb_rng r;
	vb_rng_seed(&r, 11);
	for (int i = 0; i < net->nparams; i++) {
		struct vb_param *p = net->params[i];
		int gamma = strstr(p->name, ".weight") && p->ndim == 1;
		int var = !!strstr(p->name, ".running_var");
		int other = strstr(p->name, ".bias") || strstr(p->name, ".running_mean");
		for (long k = 0; k < p->n && (gamma || var || other); k++) {
			double u = vb_rng_uniform(&r);
			p->w[k] = (float)(gamma ? 0.5 + u : var ? 0.2 + 2 * u : u - 0.5);
		}
	}
	if (freeze_first && (vb_net_freeze(net) < 0 || vb_net_prepare(net, 2, 5) < 0)) {
		printf("# %s\n", vb_err_msg());
		exit(1);
	}
	return net;
}

/* One-channel inputs: the first convolution fused into the next, past a
 * batch norm or directly, on sizes down to one row or column. */
static const char fuse_bn[] =
	"name: f\ninput: [1, 7, 9]\nlayers:\n"
	"  - {type: conv, name: c1, filters: 5, kernel: 3, padding: same}\n"
	"  - {type: batchnorm, name: b1}\n"
	"  - {type: conv, name: c2, filters: 6, kernel: 3, padding: same}\n"
	"  - {type: relu}\n"
	"  - {type: flatten}\n"
	"  - {type: dense, name: f3, units: classes}\n";
static const char fuse_row[] =
	"name: f\ninput: [1, 1, 6]\nlayers:\n"
	"  - {type: conv, name: c1, filters: 3, kernel: 3, padding: same, bias: false}\n"
	"  - {type: conv, name: c2, filters: 4, kernel: 3, padding: same}\n"
	"  - {type: flatten}\n"
	"  - {type: dense, name: f3, units: classes}\n";
static const char fuse_col[] =
	"name: f\ninput: [1, 5, 1]\nlayers:\n"
	"  - {type: conv, name: c1, filters: 3, kernel: 3, padding: same}\n"
	"  - {type: batchnorm, name: b1}\n"
	"  - {type: conv, name: c2, filters: 2, kernel: 3, padding: same, bias: false}\n"
	"  - {type: batchnorm, name: b2}\n"
	"  - {type: flatten}\n"
	"  - {type: dense, name: f3, units: classes}\n";
static const char fuse_2x2[] =
	"name: f\ninput: [1, 2, 2]\nlayers:\n"
	"  - {type: conv, name: c1, filters: 4, kernel: 3, padding: same}\n"
	"  - {type: conv, name: c2, filters: 3, kernel: 3, padding: same}\n"
	"  - {type: relu}\n"
	"  - {type: flatten}\n"
	"  - {type: dense, name: f3, units: classes}\n";
/* not fused: a ReLU in between, or two input channels */
static const char nofuse_relu[] =
	"name: f\ninput: [1, 6, 6]\nlayers:\n"
	"  - {type: conv, name: c1, filters: 3, kernel: 3, padding: same}\n"
	"  - {type: relu}\n"
	"  - {type: conv, name: c2, filters: 3, kernel: 3, padding: same}\n"
	"  - {type: flatten}\n"
	"  - {type: dense, name: f3, units: classes}\n";

/* Wide layers: kernels that take more than 1 MiB as F(4x4, 3x3) run as
 * F(2x2, 3x3) (c1, 100 x 100 channels), the next as F(4x4) (c2); 100
 * channels are not a whole number of 16-lane vectors, 38 x 35 cuts the
 * last tiles of both sizes, and both take their tiles a block of rows at a
 * time (c1 7 blocks, c2 2). */
static const char wide[] =
	"name: w\ninput: [3, 38, 35]\nlayers:\n"
	"  - {type: conv, name: c0, filters: 100, kernel: 3}\n"
	"  - {type: relu}\n"
	"  - {type: conv, name: c1, filters: 100, kernel: 3}\n"
	"  - {type: batchnorm, name: b1}\n"
	"  - {type: relu}\n"
	"  - {type: conv, name: c2, filters: 8, kernel: 3}\n"
	"  - {type: flatten}\n"
	"  - {type: dense, name: f3, units: classes}\n";

/* Images smaller than one tile: 1 x 2 and 3 x 1 (one tile, mostly cut). */
static const char tiny_row[] =
	"name: t\ninput: [2, 1, 2]\nlayers:\n"
	"  - {type: conv, name: c1, filters: 17, kernel: 3}\n"
	"  - {type: relu}\n"
	"  - {type: conv, name: c2, filters: 3, kernel: 3}\n"
	"  - {type: flatten}\n"
	"  - {type: dense, name: f3, units: classes}\n";
static const char tiny_col[] =
	"name: t\ninput: [19, 3, 1]\nlayers:\n"
	"  - {type: conv, name: c1, filters: 2, kernel: 3, bias: false}\n"
	"  - {type: batchnorm, name: b1}\n"
	"  - {type: flatten}\n"
	"  - {type: dense, name: f3, units: classes}\n";

/* Convolutions of a frozen net fused into the next one. */
static int nfused(const struct vb_net *net)
{
	int n = 0;
	for (int i = 0; i < net->nlayers; i++)
		n += vb_conv_is(net->layers[i]) && net->layers[i]->skip;
	return n;
}

static void check1(const char *what, const char *yaml, size_t len, int fused)
{
	struct vb_net *a = build(yaml, len, 4, 0), *b = build(yaml, len, 4, 0);
	long isz = (long)a->in.c * a->in.h * a->in.w, k = a->nclasses;
	struct vb_rng r;
	vb_rng_seed(&r, 3);
	float *x = malloc(sizeof(float) * 5 * isz), *want = malloc(sizeof(float) * 5 * k);
	float *one = malloc(sizeof(float) * 5 * k);
	for (long i = 0; i < 5 * isz; i++)
		x[i] = (float)vb_rng_uniform(&r);

	/* the parameters before freezing */
	long total = 0;
	for (int i = 0; i < b->nparams; i++)
		total += b->params[i]->n;
	float *saved = malloc(sizeof(float) * total), *s = saved;
	for (int i = 0; i < b->nparams; i++, s += b->params[i - 1]->n)
		memcpy(s, b->params[i]->w, sizeof(float) * b->params[i]->n);

	memcpy(a->act[0], x, sizeof(float) * 5 * isz);
	memcpy(want, vb_net_forward(a, 5, 0), sizeof(float) * 5 * k);
	ok(vb_net_freeze(b) == 0 && b->frozen, "%s: freezes", what);
	char desc[160];
	snprintf(desc, sizeof desc, "%s: convolutions fused into the next", what);
	is_int(nfused(b), fused, desc);

	int same = 1;
	s = saved;
	for (int i = 0; i < b->nparams; s += b->params[i]->n, i++)
		same &= !memcmp(s, b->params[i]->w, sizeof(float) * b->params[i]->n);
	ok(same, "%s: parameters untouched", what);

	memcpy(b->act[0], x, sizeof(float) * 5 * isz);
	const float *got = vb_net_forward(b, 5, 0);
	double err = 0, scale = 0;
	for (long i = 0; i < 5 * k; i++) {
		err = fmax(err, fabs(got[i] - want[i]));
		scale = fmax(scale, fabs(want[i]));
	}
	ok(err <= 1e-5 * fmax(scale, 1), "%s: logits as the ordinary pass", what);
	printf("# max error %g, largest logit %g\n", err, scale);
	memcpy(want, got, sizeof(float) * 5 * k);
	for (int n = 0; n < 5; n++) {
		memcpy(b->act[0], x + n * isz, sizeof(float) * isz);
		memcpy(one + n * k, vb_net_forward(b, 1, 0), sizeof(float) * k);
	}
	ok(!memcmp(one, want, sizeof(float) * 5 * k), "%s: each sample alone as in the batch", what);

	/* frozen before it was prepared: the same logits, and no gradients */
	struct vb_net *f = build(yaml, len, 4, 1);
	int nog = 1;
	for (int i = 0; i < f->nparams; i++)
		nog &= f->params[i]->g == NULL;
	memcpy(f->act[0], x, sizeof(float) * 5 * isz);
	ok(nog && !memcmp(vb_net_forward(f, 5, 0), want, sizeof(float) * 5 * k),
	   "%s: frozen before prepared: the same logits, no gradients", what);
	vb_net_free(f);
	vb_net_free(a);
	vb_net_free(b);
	free(x);
	free(want);
	free(one);
	free(saved);
}

/* With the AVX-512 kernels (where the CPU has them) and without. */
static void check(const char *what, const char *yaml, size_t len, int fused)
{
	char name[96];
	for (int simd = 1; simd >= 0; simd--) {
		vb_nn_set_simd(simd);
		snprintf(name, sizeof name, "%s%s", what, simd ? "" : " (portable code)");
		check1(name, yaml, len, fused);
	}
	vb_nn_set_simd(1);
}

/* A depthwise convolution directly followed by a ReLU applies it (the
 * fused ReLU), in training and inference, forward and backward. */
static void dw_relu(void)
{
	static const char with[] = "name: t\ninput: [3, 5, 5]\nlayers:\n"
		"  - {type: dwconv, name: d, kernel: 3}\n  - {type: relu}\n  - {type: flatten}\n";
	static const char without[] = "name: t\ninput: [3, 5, 5]\nlayers:\n"
		"  - {type: dwconv, name: d, kernel: 3}\n  - {type: flatten}\n";
	for (int train = 0; train < 2; train++) {
		struct vb_net *a = build(with, sizeof with - 1, 0, 0),
		              *b = build(without, sizeof without - 1, 0, 0);
		long n = 3 * 25;
		struct vb_rng r;
		vb_rng_seed(&r, 5);
		for (long i = 0; i < n; i++)
			a->act[0][i] = b->act[0][i] = (float)(vb_rng_uniform(&r) - 0.5);
		const float *ya = vb_net_forward(a, 1, train), *yb = vb_net_forward(b, 1, train);
		int good = 1, neg = 0;
		for (long i = 0; i < n; i++) {
			good &= ya[i] == (yb[i] > 0 ? yb[i] : 0);
			neg += yb[i] < 0;
		}
		ok(good && neg > 0, "depthwise + ReLU, %s: max(0, depthwise)",
		   train ? "training" : "inference");
		vb_net_free(a);
		vb_net_free(b);
	}
}

int main(void)
{
	check("odd shapes", odd, sizeof odd - 1, 0);
	check("fused past a batch norm", fuse_bn, sizeof fuse_bn - 1, 1);
	check("fused, one row", fuse_row, sizeof fuse_row - 1, 1);
	check("fused, one column", fuse_col, sizeof fuse_col - 1, 1);
	check("fused, 2 x 2", fuse_2x2, sizeof fuse_2x2 - 1, 1);
	check("ReLU in between", nofuse_relu, sizeof nofuse_relu - 1, 0);
	check("wide layers", wide, sizeof wide - 1, 0);
	check("smaller than a tile, one row", tiny_row, sizeof tiny_row - 1, 0);
	check("smaller than a tile, one column", tiny_col, sizeof tiny_col - 1, 0);
	/* the tile side each layer takes, seen in the size of its kernels */
	struct vb_net *w = vb_arch_build(wide, sizeof wide - 1, 4);
	if (w) {
		size_t got[3] = {vb_conv_frozen_bytes(w->layers[0]), vb_conv_frozen_bytes(w->layers[2]),
		                 vb_conv_frozen_bytes(w->layers[5])};
		ok(got[0] == 36 * 3 * 100 * 4 && got[1] == 16 * 100 * 100 * 4 && got[2] == 36 * 100 * 8 * 4,
		   "wide layers: F(4x4), F(2x2), F(4x4) (kernels of %zu, %zu, %zu bytes)", got[0], got[1],
		   got[2]);
		vb_net_free(w);
	} else {
		ok(0, "wide layers: built (%s)", vb_err_msg());
	}
	static const char *arch[] = {"vibify", "vibify-lite", "vibify-wide"};
	static const int fused[] = {1, 0, 0};   /* the others have a ReLU between */
	for (int i = 0; i < 3; i++) {
		char path[256];
		snprintf(path, sizeof path, "models/%s.yaml", arch[i]);
		size_t len;
		char *text = vb_read_file(path, &len);
		if (!ok(text != NULL, "read %s", path)) {
			printf("# %s\n", vb_err_msg());
			continue;
		}
		check(arch[i], text, len, fused[i]);
		free(text);
	}
	dw_relu();
	return tap_done();
}
