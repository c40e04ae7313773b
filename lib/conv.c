/* conv.c - 2-D convolution (PyTorch's Conv2d): k x k kernels, stride,
 * 'valid' or 'same' (symmetric k/2) zero padding, and depthwise (groups =
 * channels).  Ordinary convolutions run per sample as im2col + sgemm (no
 * column buffer for 1 x 1 stride 1); depthwise ones as direct loops. */
#include "nn.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

struct conv {
	int k, stride, pad, depthwise, bias;
	int K;      /* rows of the column matrix: in.c * k * k */
	int P;      /* output pixels: out.h * out.w */
	int direct; /* 1 x 1, stride 1, no padding: the input is the column matrix */
	int relu;   /* a fused ReLU follows */
	int full;   /* stride 1, odd k, 'same': dx is a convolution of dy */
	float *wt;  /* full: W transposed and flipped, in x (out * k * k) */
	int band;   /* output rows per im2col band */
	int dband;  /* full: input rows per band of the dx convolution */
};

/* Rows [r0, r1) of the output's column matrix for one image:
 * col[(c*k + i)*k + j][(oy - r0)*ow + ox] = x[c][oy*s - pad + i][ox*s - pad + j],
 * zero outside the image.  Working in bands of output rows keeps the
 * column matrix in the L2 cache for the sgemm that reads it. */
static void im2col_rows(const float *x, int C, int H, int W, int k, int s, int pad, int OW,
                        int r0, int r1, float *col)
{
	int nr = r1 - r0;
	for (int c = 0; c < C; c++)
		for (int i = 0; i < k; i++)
			for (int j = 0; j < k; j++) {
				float *row = col + ((long)(c * k + i) * k + j) * nr * OW;
				const float *xc = x + (long)c * H * W;
				/* ox range with 0 <= ox*s - pad + j < W */
				int lo = 0, hi = OW;
				while (lo < OW && lo * s - pad + j < 0)
					lo++;
				while (hi > lo && (hi - 1) * s - pad + j >= W)
					hi--;
				for (int oy = r0; oy < r1; oy++) {
					float *r = row + (long)(oy - r0) * OW;
					int iy = oy * s - pad + i;
					if (iy < 0 || iy >= H) {
						memset(r, 0, sizeof(float) * OW);
						continue;
					}
					const float *xr = xc + (long)iy * W - pad + j;
					for (int ox = 0; ox < lo; ox++)
						r[ox] = 0;
					if (s == 1)
						memcpy(r + lo, xr + lo, sizeof(float) * (hi - lo));
					else
						for (int ox = lo; ox < hi; ox++)
							r[ox] = xr[ox * s];
					for (int ox = hi; ox < OW; ox++)
						r[ox] = 0;
				}
			}
}

/* Output rows per band: about 48K floats of column matrix, at least ~96
 * columns so that the sgemm stays efficient. */
static int band_rows(int K, int OH, int OW)
{
	int r = 49152 / (K * OW);
	int rmin = (96 + OW - 1) / OW;
	if (r < rmin)
		r = rmin;
	if (r < 1)
		r = 1;
	return r > OH ? OH : r;
}

/* The adjoint of im2col: dx (zeroed by the caller) += scattered dcol. */
static void col2im(const float *col, int C, int H, int W, int k, int s, int pad, int OH,
                   int OW, float *dx)
{
	for (int c = 0; c < C; c++)
		for (int i = 0; i < k; i++)
			for (int j = 0; j < k; j++) {
				const float *row = col + ((long)(c * k + i) * k + j) * OH * OW;
				float *xc = dx + (long)c * H * W;
				int lo = 0, hi = OW;
				while (lo < OW && lo * s - pad + j < 0)
					lo++;
				while (hi > lo && (hi - 1) * s - pad + j >= W)
					hi--;
				for (int oy = 0; oy < OH; oy++) {
					int iy = oy * s - pad + i;
					if (iy < 0 || iy >= H)
						continue;
					const float *r = row + (long)oy * OW;
					float *xr = xc + (long)iy * W - pad + j;
					if (s == 1)
						for (int ox = lo; ox < hi; ox++)
							xr[ox] += r[ox];
					else
						for (int ox = lo; ox < hi; ox++)
							xr[ox * s] += r[ox];
				}
			}
}

struct job {
	struct vb_layer *l;
	struct vb_net *net;
	const float *x;
	float *y;
	const float *dy;
	float *dx;
};

static float *tgrad(struct vb_param *p, int tid)
{
	return tid == 0 ? p->g : p->tg[tid];
}

static void fwd_gemm(void *arg, int tid, long lo, long hi)
{
	struct job *j = arg;
	struct vb_layer *l = j->l;
	struct conv *c = l->st;
	const float *w = l->param[0]->w;
	const float *b = c->bias ? l->param[1]->w : NULL;
	long isz = (long)l->in.c * l->in.h * l->in.w, osz = (long)l->out.c * c->P;
	float *col = (float *)j->net->tscratch[tid];
	for (long n = lo; n < hi; n++) {
		const float *x = j->x + n * isz;
		float *y = j->y + n * osz;
		if (b)
			for (int o = 0; o < l->out.c; o++)
				for (int p = 0; p < c->P; p++)
					y[(long)o * c->P + p] = b[o];
		int OW = l->out.w, R = c->direct ? l->out.h : c->band;
		for (int r0 = 0; r0 < l->out.h; r0 += R) {
			int r1 = r0 + R < l->out.h ? r0 + R : l->out.h, nc = (r1 - r0) * OW;
			const float *cm = x + (long)r0 * OW;
			int ldb = c->P;
			if (!c->direct) {
				im2col_rows(x, l->in.c, l->in.h, l->in.w, c->k, c->stride, c->pad, OW, r0,
				            r1, col);
				cm = col;
				ldb = nc;
			}
			float *yb = y + (long)r0 * OW;
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, l->out.c, nc, c->K, 1.0f,
			            w, c->K, cm, ldb, b ? 1.0f : 0.0f, yb, c->P);
			if (c->relu)
				for (int o = 0; o < l->out.c; o++) {
					float *yr = yb + (long)o * c->P;
					for (int p = 0; p < nc; p++)
						yr[p] = vb_relu1(yr[p]);
				}
		}
	}
}

/* dy masked by the fused ReLU's output (y > 0), in place. */
static void relu_mask(float *dy, const float *y, long n)
{
	for (long p = 0; p < n; p++)
		dy[p] = vb_relu_grad(dy[p], y[p]);
}

static void bwd_gemm(void *arg, int tid, long lo, long hi)
{
	struct job *j = arg;
	struct vb_layer *l = j->l;
	struct conv *c = l->st;
	const float *w = l->param[0]->w;
	float *gw = tgrad(l->param[0], tid);
	float *gb = c->bias ? tgrad(l->param[1], tid) : NULL;
	long isz = (long)l->in.c * l->in.h * l->in.w, osz = (long)l->out.c * c->P;
	float *col = (float *)j->net->tscratch[tid];
	float *dcol = col + (long)c->K * c->band * l->out.w;
	int OW = l->out.w;
	for (long n = lo; n < hi; n++) {
		const float *x = j->x + n * isz;
		const float *dy = j->dy + n * osz;
		if (c->relu)
			relu_mask((float *)dy, j->y + n * osz, osz);
		if (c->direct) {
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, l->out.c, c->K, c->P, 1.0f,
			            dy, c->P, x, c->P, 1.0f, gw, c->K);
		} else {
			for (int r0 = 0; r0 < l->out.h; r0 += c->band) {
				int r1 = r0 + c->band < l->out.h ? r0 + c->band : l->out.h;
				int nc = (r1 - r0) * OW;
				im2col_rows(x, l->in.c, l->in.h, l->in.w, c->k, c->stride, c->pad, OW, r0,
				            r1, col);
				cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, l->out.c, c->K, nc,
				            1.0f, dy + (long)r0 * OW, c->P, col, nc, 1.0f, gw, c->K);
			}
		}
		if (gb)
			for (int o = 0; o < l->out.c; o++) {
				const float *r = dy + (long)o * c->P;
				float s = 0;
				for (int p = 0; p < c->P; p++)
					s += r[p];
				gb[o] += s;
			}
		if (!j->dx)
			continue;
		float *dx = j->dx + n * isz;
		if (c->direct) {
			cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, c->K, c->P, l->out.c,
			            1.0f, w, c->K, dy, c->P, 0.0f, dx, c->P);
			continue;
		}
		if (c->full) {
			/* dx = dy convolved with the flipped kernels: one sgemm of
			 * depth out*k*k, no scatter */
			int Ko = l->out.c * c->k * c->k, W = l->in.w;
			for (int r0 = 0; r0 < l->in.h; r0 += c->dband) {
				int r1 = r0 + c->dband < l->in.h ? r0 + c->dband : l->in.h;
				int nc = (r1 - r0) * W;
				im2col_rows(dy, l->out.c, l->out.h, l->out.w, c->k, 1, c->pad, W, r0, r1,
				            dcol);
				cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, l->in.c, nc, Ko, 1.0f,
				            c->wt, Ko, dcol, nc, 0.0f, dx + (long)r0 * W, c->P);
			}
			continue;
		}
		cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, c->K, c->P, l->out.c, 1.0f,
		            w, c->K, dy, c->P, 0.0f, dcol, c->P); /* whole image: col2im */
		memset(dx, 0, sizeof(float) * isz);
		col2im(dcol, l->in.c, l->in.h, l->in.w, c->k, c->stride, c->pad, l->out.h,
		       l->out.w, dx);
	}
}

/* The output columns [*lo, *hi) whose input column ox*s - pad + j is
 * inside 0..W-1, so that inner loops need no bounds test. */
static void valid_cols(int OW, int W, int s, int pad, int j, int *lo, int *hi)
{
	int a = 0, b = OW;
	while (a < OW && a * s - pad + j < 0)
		a++;
	while (b > a && (b - 1) * s - pad + j >= W)
		b--;
	*lo = a;
	*hi = b;
}

/* Depthwise: y[c] = sum_ij w[c][i][j] x[c][oy*s - pad + i][ox*s - pad + j]. */
static void fwd_dw(void *arg, int tid, long lo, long hi)
{
	(void)tid;
	struct job *j = arg;
	struct vb_layer *l = j->l;
	struct conv *c = l->st;
	int C = l->in.c, H = l->in.h, W = l->in.w, OH = l->out.h, OW = l->out.w;
	int k = c->k, s = c->stride, pad = c->pad;
	const float *w = l->param[0]->w;
	const float *b = c->bias ? l->param[1]->w : NULL;
	for (long n = lo; n < hi; n++)
		for (int ch = 0; ch < C; ch++) {
			const float *x = j->x + (n * C + ch) * H * W;
			float *y = j->y + (n * C + ch) * OH * OW;
			const float *wc = w + (long)ch * k * k;
			float b0 = b ? b[ch] : 0;
			for (int p = 0; p < OH * OW; p++)
				y[p] = b0;
			for (int i = 0; i < k; i++)
				for (int jj = 0; jj < k; jj++) {
					float wv = wc[i * k + jj];
					int a, e;
					valid_cols(OW, W, s, pad, jj, &a, &e);
					for (int oy = 0; oy < OH; oy++) {
						int iy = oy * s - pad + i;
						if (iy < 0 || iy >= H)
							continue;
						const float *xr = x + (long)iy * W - pad + jj;
						float *yr = y + (long)oy * OW;
						if (s == 1)
							for (int ox = a; ox < e; ox++)
								yr[ox] += wv * xr[ox];
						else
							for (int ox = a; ox < e; ox++)
								yr[ox] += wv * xr[ox * s];
					}
				}
		}
}

static void bwd_dw(void *arg, int tid, long lo, long hi)
{
	struct job *j = arg;
	struct vb_layer *l = j->l;
	struct conv *c = l->st;
	int C = l->in.c, H = l->in.h, W = l->in.w, OH = l->out.h, OW = l->out.w;
	int k = c->k, s = c->stride, pad = c->pad;
	const float *w = l->param[0]->w;
	float *gw = tgrad(l->param[0], tid);
	float *gb = c->bias ? tgrad(l->param[1], tid) : NULL;
	for (long n = lo; n < hi; n++)
		for (int ch = 0; ch < C; ch++) {
			const float *x = j->x + (n * C + ch) * H * W;
			const float *dy = j->dy + (n * C + ch) * OH * OW;
			float *dx = j->dx ? j->dx + (n * C + ch) * H * W : NULL;
			if (dx)
				memset(dx, 0, sizeof(float) * H * W);
			if (gb) {
				float sum = 0;
				for (int p = 0; p < OH * OW; p++)
					sum += dy[p];
				gb[ch] += sum;
			}
			for (int i = 0; i < k; i++)
				for (int jj = 0; jj < k; jj++) {
					float wv = w[(long)ch * k * k + i * k + jj], gsum = 0;
					int a, e;
					valid_cols(OW, W, s, pad, jj, &a, &e);
					for (int oy = 0; oy < OH; oy++) {
						int iy = oy * s - pad + i;
						if (iy < 0 || iy >= H)
							continue;
						const float *xr = x + (long)iy * W - pad + jj;
						const float *dyr = dy + (long)oy * OW;
						for (int ox = a; ox < e; ox++)
							gsum += dyr[ox] * xr[ox * s];
						if (dx) {
							float *dxr = dx + (long)iy * W - pad + jj;
							for (int ox = a; ox < e; ox++)
								dxr[ox * s] += wv * dyr[ox];
						}
					}
					gw[(long)ch * k * k + i * k + jj] += gsum;
				}
		}
}

static void conv_forward(struct vb_layer *l, struct vb_net *net, const float *x, float *y,
                         int n, int train)
{
	(void)train;
	struct conv *c = l->st;
	struct job j = {l, net, x, y, NULL, NULL};
	vb_blas_threads(1);
	vb_pool_run(net->pool, n, c->depthwise ? fwd_dw : fwd_gemm, &j);
}

static void conv_backward(struct vb_layer *l, struct vb_net *net, const float *x,
                          const float *y, const float *dy, float *dx, int n)
{
	struct conv *c = l->st;
	struct job j = {l, net, x, (float *)y, dy, dx};
	if (c->full && dx) {
		int C = l->in.c, O = l->out.c, kk = c->k * c->k;
		const float *w = l->param[0]->w;
		for (int o = 0; o < O; o++)
			for (int ci = 0; ci < C; ci++)
				for (int q = 0; q < kk; q++)
					c->wt[((long)ci * O + o) * kk + q] =
						w[((long)o * C + ci) * kk + (kk - 1 - q)];
	}
	vb_blas_threads(1);
	vb_pool_run(net->pool, n, c->depthwise ? bwd_dw : bwd_gemm, &j);
}

static size_t conv_scratch(const struct vb_layer *l)
{
	struct conv *c = l->st;
	if (c->depthwise)
		return 0;
	size_t ko = (size_t)l->out.c * c->k * c->k;
	size_t colsz = (size_t)c->K * c->band * l->out.w;
	size_t dsz = c->full ? ko * c->dband * l->in.w : (size_t)c->K * c->P;
	return sizeof(float) * (colsz + dsz);
}

static void conv_free(struct vb_layer *l)
{
	struct conv *c = l->st;
	if (c)
		free(c->wt);
	free(c);
	l->st = NULL;
}

static const struct vb_layer_ops conv_ops = {
	"conv", conv_forward, conv_backward, conv_free, 0, conv_scratch,
};

int vb_conv_is(const struct vb_layer *l)
{
	return l->ops == &conv_ops;
}

void vb_conv_fuse_relu(struct vb_layer *l)
{
	((struct conv *)l->st)->relu = 1;
}

int vb_conv_init(struct vb_layer *l, int filters, int k, int stride, enum vb_pad pad,
                 int depthwise, int bias)
{
	if (k < 1 || k > 15 || stride < 1 || stride > 8)
		return vb_err_set("conv: bad kernel size %d or stride %d", k, stride);
	if (depthwise)
		filters = l->in.c;
	if (filters < 1 || filters > 65536)
		return vb_err_set("conv: bad filter count %d", filters);
	int p = pad == VB_PAD_SAME ? k / 2 : 0;
	int oh = (l->in.h + 2 * p - k) / stride + 1, ow = (l->in.w + 2 * p - k) / stride + 1;
	if (l->in.h + 2 * p < k || l->in.w + 2 * p < k || oh < 1 || ow < 1)
		return vb_err_set("conv: a %dx%d input is smaller than the %dx%d kernel",
		                  l->in.h, l->in.w, k, k);
	struct conv *c = calloc(1, sizeof *c);
	if (!c)
		return vb_err_set("out of memory");
	c->k = k;
	c->stride = stride;
	c->pad = p;
	c->depthwise = depthwise;
	c->bias = bias;
	c->K = l->in.c * k * k;
	c->P = oh * ow;
	c->direct = k == 1 && stride == 1 && p == 0;
	l->st = c;
	c->full = !depthwise && !c->direct && stride == 1 && k % 2 == 1 && p == k / 2;
	c->band = band_rows(c->K, oh, ow);
	c->dband = band_rows(filters * k * k, l->in.h, l->in.w);
	if (c->full && !(c->wt = malloc(sizeof(float) * (size_t)filters * l->in.c * k * k)))
		return vb_err_set("out of memory");
	l->ops = &conv_ops;
	l->out = (struct vb_shape){filters, oh, ow};
	int64_t ws[4] = {filters, depthwise ? 1 : l->in.c, k, k};
	if (!(l->param[l->nparam++] = vb_param_new(l->name, "weight", 4, ws, 0, 1)))
		return -1;
	l->param[0]->per_thread = 1;
	if (bias) {
		int64_t bs[1] = {filters};
		if (!(l->param[l->nparam++] = vb_param_new(l->name, "bias", 1, bs, 0, 0)))
			return -1;
		l->param[1]->per_thread = 1;
	}
	return 0;
}
