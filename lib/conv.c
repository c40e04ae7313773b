/* conv.c - 2-D convolution (PyTorch's Conv2d): k x k kernels, stride,
 * 'valid' or 'same' (symmetric k/2) zero padding, and depthwise (groups =
 * channels).  Ordinary convolutions run per sample as im2col + sgemm (no
 * column buffer for 1 x 1 stride 1); depthwise ones as direct loops.  A
 * frozen network (vb_net_freeze) runs 3 x 3 stride-1 'same' ones with
 * Winograd's F(4x4, 3x3) or F(2x2, 3x3) algorithm at inference, and a
 * one-channel first one and the next as one 5 x 5 convolution. */
#include "nn.h"

#include <cblas.h>
#include <immintrin.h>
#include <math.h>
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
	/* frozen (inference only) */
	float *fb;      /* bias with a batch norm folded in */
	float *scale;   /* per output: the batch norm's factor (1 without) */
	float *fw;      /* weights times scale (not kept for Winograd) */
	int wm;         /* Winograd F(m x m, 3 x 3): m, the output tile's side, 2 or
	                   4; 0 for none */
	float *U;       /* wm: transformed kernels, (m + 2)^2 x in x out (the net's) */
	int th, tw;     /* wm: output tiles down and across */
	int trows;      /* wm: tile rows per block */
	int fused;      /* a one-channel convolution fused in (vb_conv_fuse) */
	float *k5;      /* fused: the 5 x 5 kernels, out x 25 */
	float *kde;     /* fused: [d][e][o], this kernel's tap d on the first's tap e */
	float *beta;    /* fused: [d][o], the first's bias through tap d */
	float *b5;      /* fused: bias where every tap is inside, per output */
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
	const float *w, *b; /* forward: the weights and bias (b may be NULL) */
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
	const float *w = j->w, *b = j->b;
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
	const float *w = j->w, *b = j->b;
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
			if (c->relu)
				for (int p = 0; p < OH * OW; p++)
					y[p] = vb_relu1(y[p]);
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
			if (c->relu)
				relu_mask((float *)dy, j->y + (n * C + ch) * OH * OW, (long)OH * OW);
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

/* The transforms' loops are plain element-wise arithmetic: vectorised
 * (whatever the build's -O level) with AVX2 where the CPU has it. */
#define VB_VECTOR __attribute__((target_clones("avx2", "default"), \
                                 optimize("tree-vectorize", "vect-cost-model=dynamic")))

/* ---- inference: small matrix products --------------------------------
 *
 * The products of the Winograd and fused convolutions are small (for a
 * 48 x 48 face, 36 tiles by 32-128 channels, or 32 channels by 25 taps by
 * 2,304 pixels), so an sgemm call spends much of its time packing them;
 * with AVX-512 they run here on the matrices as they are: 6 rows by 64
 * columns of the result in registers, each element of a's rows broadcast
 * against four vectors of b's row. */

/* rows (at most 6) of m = a b for the 64 columns from b and m (k: the
 * columns in each 16), a's rows K long, b's and m's N. */
T_512 static inline __attribute__((always_inline))
void mm_tile(int rows, const float *a, int K, const float *b, int N, float *m,
             const __mmask16 *k)
{
	__m512 acc[6][4];
#pragma GCC unroll 6
	for (int r = 0; r < rows; r++)
#pragma GCC unroll 4
		for (int j = 0; j < 4; j++)
			acc[r][j] = _mm512_setzero_ps();
	for (int c = 0; c < K; c++) {
		__m512 x[4];
#pragma GCC unroll 4
		for (int j = 0; j < 4; j++)
			x[j] = _mm512_maskz_loadu_ps(k[j], b + (long)c * N + 16 * j);
#pragma GCC unroll 6
		for (int r = 0; r < rows; r++) {
			__m512 y = _mm512_set1_ps(a[(long)r * K + c]);
#pragma GCC unroll 4
			for (int j = 0; j < 4; j++)
				acc[r][j] = _mm512_fmadd_ps(y, x[j], acc[r][j]);
		}
	}
#pragma GCC unroll 6
	for (int r = 0; r < rows; r++)
#pragma GCC unroll 4
		for (int j = 0; j < 4; j++)
			_mm512_mask_storeu_ps(m + (long)r * N + 16 * j, k[j], acc[r][j]);
}

/* The lanes of the n - i left, at most 16 (none if n <= i). */
static inline __mmask16 lanes(int n, int i)
{
	return n - i >= 16 ? 0xffff : n <= i ? 0 : (__mmask16)((1u << (n - i)) - 1);
}

T_512 static void mm512(const float *a, const float *b, float *m, int M, int K, int N)
{
	for (int n0 = 0; n0 < N; n0 += 64) {
		__mmask16 k[4] = {lanes(N, n0), lanes(N, n0 + 16), lanes(N, n0 + 32),
		                  lanes(N, n0 + 48)};
		const float *bn = b + n0;
		int r = 0;
		for (; r + 6 <= M; r += 6)
			mm_tile(6, a + (long)r * K, K, bn, N, m + (long)r * N + n0, k);
		const float *ar = a + (long)r * K;
		float *mr = m + (long)r * N + n0;
		switch (M - r) {   /* the rows left, each count with its own registers */
		case 5: mm_tile(5, ar, K, bn, N, mr, k); break;
		case 4: mm_tile(4, ar, K, bn, N, mr, k); break;
		case 3: mm_tile(3, ar, K, bn, N, mr, k); break;
		case 2: mm_tile(2, ar, K, bn, N, mr, k); break;
		case 1: mm_tile(1, ar, K, bn, N, mr, k); break;
		}
	}
}

/* m = a b: M x K times K x N, row-major. */
static void mm(const float *a, const float *b, float *m, int M, int K, int N)
{
	if (vb_nn_avx512())
		mm512(a, b, m, M, K, N);
	else
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, a, K, b, N,
		            0.0f, m, N);
}

/* ---- inference: Winograd F(4x4, 3x3) and F(2x2, 3x3) ----------------------
 *
 * Winograd's minimal filtering (Lavin and Gray; interpolation points 0, 1,
 * -1, 2, -2 and infinity for F(4x4, 3x3), 0, 1, -1 and infinity for
 * F(2x2, 3x3)): the output is cut into m x m tiles, each computed from the
 * a x a input patch d around it (a = m + 2) as A^T [U .* (B^T d B)] A, where
 * U = G g G^T is the 3 x 3 kernel g transformed once.  A tile then costs
 * a^2 multiplications per input channel instead of 9 m^2 (36 for 144, or
 * 16 for 36), and the sums over the channels become a^2 matrix products,
 * one per position xi of the transformed tile:
 *
 *   M[xi] (tiles x out) = V[xi] (tiles x in) U[xi] (in x out).
 *
 * F(4x4) needs fewer products but 2.25 times the transformed kernels, which
 * are read again for every face and push the detector's data out of the
 * caches: a layer takes it where they fit in 1 MiB (conv3 and conv4 of the
 * shipped network, at 24 x 24), else F(2x2) (conv5 and conv6).
 *
 * Everything runs channel-last, so that vectors go along the channels and
 * are full (16, 32, ... channels) whatever the image's size: the input is
 * transposed once into a zero-bordered pixels x channels image, and the
 * output, transformed into such an image, is transposed back.  The tiles
 * are taken a block of tile rows at a time, so V and M stay in the L2
 * cache. */

/* The tile side m (2 or 4) of a Winograd convolution, 0 for none. */
static int wino_tile(const struct vb_layer *l)
{
	const struct conv *c = l->st;
	if (c->depthwise || c->k != 3 || c->stride != 1 || c->pad != 1)
		return 0;
	return 36.0 * l->in.c * l->out.c * sizeof(float) <= 1 << 20 ? 4 : 2;
}

/* u[k us + i] = (G (x[i], y[i], z[i]))[k] for i < n, G being (m = 4)
 * [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
 * or (m = 2) [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]. */
static inline __attribute__((always_inline))
void gcol(const double *restrict x, const double *restrict y, const double *restrict z,
          double *restrict u, long us, int n, int m)
{
	for (int i = 0; i < n; i++) {
		double a = x[i], b = y[i], c = z[i];
		if (m == 2) {
			u[i] = a;
			u[us + i] = (a + b + c) * 0.5;
			u[2 * us + i] = (a - b + c) * 0.5;
			u[3 * us + i] = c;
			continue;
		}
		double p = (a + c) * (1.0 / 6), q = b * (1.0 / 6);
		double r = a * (1.0 / 24) + c * (1.0 / 6), s = b * (1.0 / 12);
		u[i] = a * 0.25;
		u[us + i] = -(p + q);
		u[2 * us + i] = q - p;
		u[3 * us + i] = r + s;
		u[4 * us + i] = r - s;
		u[5 * us + i] = c;
	}
}

/* U[xi][c][o] from the kernels w[o][c][3][3] times scale[o], in double, an
 * input channel at a time for all the outputs (g: 63 x O doubles of
 * scratch). */
VB_VECTOR
static void wino_kernels(const float *w, const float *scale, int O, int C, int m, float *U,
                         double *g)
{
	int a = m + 2;
	long plane = (long)C * O;
	double *t = g + 9L * O, *u = t + 3L * a * O;
	for (int ci = 0; ci < C; ci++) {
		for (int q = 0; q < 9; q++)
			for (int o = 0; o < O; o++)
				g[q * O + o] = (double)scale[o] * w[((long)o * C + ci) * 9 + q];
		for (int j = 0; j < 3; j++)   /* G g: t[i][j] down column j */
			gcol(g + j * O, g + (3 + j) * O, g + (6 + j) * O, t + j * O, 3L * O, O, m);
		for (int i = 0; i < a; i++)   /* (G g) G^T: u[i][k] along row i */
			gcol(t + i * 3L * O, t + (i * 3 + 1L) * O, t + (i * 3 + 2L) * O,
			     u + (long)i * a * O, O, O, m);
		for (int xi = 0; xi < a * a; xi++)
			for (int o = 0; o < O; o++)
				U[xi * plane + (long)ci * O + o] = (float)u[xi * O + o];
	}
}

/* dst[j * ds + i] = src[i * ss + j] for i < rows, j < cols. */
static void transpose_plain(const float *restrict src, long ss, int rows, int cols,
                            float *restrict dst, long ds)
{
	for (int i0 = 0; i0 < rows; i0 += 16)
		for (int j = 0; j < cols; j++)
			for (int i = i0; i < rows && i < i0 + 16; i++)
				dst[j * ds + i] = src[i * ss + j];
}

/* The same, 16 x 16 blocks in registers: four rounds, the round of s
 * swapping the s x s blocks off the diagonal of each 2s x 2s block. */
T_512 static void transpose512(const float *restrict src, long ss, int rows, int cols,
                               float *restrict dst, long ds)
{
	__m512i lo[4], hi[4];
	for (int q = 0, s = 8; q < 4; q++, s /= 2) {
		int32_t l[16], h[16];
		for (int j = 0; j < 16; j++) {
			l[j] = j & s ? 16 + j - s : j;
			h[j] = j & s ? 16 + j : j + s;
		}
		lo[q] = _mm512_loadu_si512(l);
		hi[q] = _mm512_loadu_si512(h);
	}
	for (int i0 = 0; i0 < rows; i0 += 16) {
		int ni = rows - i0 < 16 ? rows - i0 : 16;
		__mmask16 mi = lanes(rows, i0);
		for (int j0 = 0; j0 < cols; j0 += 16) {
			int nj = cols - j0 < 16 ? cols - j0 : 16;
			__mmask16 mj = lanes(cols, j0);
			__m512 r[16];
#pragma GCC unroll 16
			for (int i = 0; i < 16; i++)
				r[i] = i < ni ? _mm512_maskz_loadu_ps(mj, src + (i0 + i) * ss + j0)
				              : _mm512_setzero_ps();
#pragma GCC unroll 4
			for (int q = 0, s = 8; q < 4; q++, s /= 2)
#pragma GCC unroll 16
				for (int i = 0; i < 16; i++)
					if (!(i & s)) {
						__m512 a = r[i], b = r[i + s];
						r[i] = _mm512_permutex2var_ps(a, lo[q], b);
						r[i + s] = _mm512_permutex2var_ps(a, hi[q], b);
					}
#pragma GCC unroll 16
			for (int j = 0; j < 16; j++)
				if (j < nj)
					_mm512_mask_storeu_ps(dst + (j0 + j) * ds + i0, mi, r[j]);
		}
	}
}

static void transpose(const float *src, long ss, int rows, int cols, float *dst, long ds)
{
	if (vb_nn_avx512())
		transpose512(src, ss, rows, cols, dst, ds);
	else
		transpose_plain(src, ss, rows, cols, dst, ds);
}

/* The transforms, on one channel (plain) or 16 (AVX-512), of the a values
 * at x, x + xs, ..., x + (a - 1) xs into o, o + os, ...:
 *   bt: the a of B^T x, B^T being (a = 6) [4 0 -5 0 1 0; 0 -4 -4 1 1 0;
 *       0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1] or (a = 4)
 *       [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1];
 *   at: the m of A^T x, A^T being (m = 4) [1 1 1 1 1 0; 0 1 -1 2 -2 0;
 *       0 1 1 4 4 0; 0 1 -1 8 -8 1] or (m = 2) [1 1 1 0; 0 1 -1 -1]; with
 *       out, plus the bias, at least lo.
 * The only products are by powers of two, which are exact: the results do
 * not depend on whether the compiler fuses a product and a sum. */
static void bt1(const float *x, long xs, float *o, long os, int m)
{
	float a0 = x[0], a1 = x[xs], a2 = x[2 * xs], a3 = x[3 * xs];
	if (m == 2) {
		o[0] = a0 - a2;
		o[os] = a1 + a2;
		o[2 * os] = a2 - a1;
		o[3 * os] = a1 - a3;
		return;
	}
	float a4 = x[4 * xs], a5 = x[5 * xs];
	float e = a4 - a2, f = 2 * (a3 - a1);
	o[0] = 4 * (a0 - a2) + e;
	o[os] = (a3 + a4) - 4 * (a1 + a2);
	o[2 * os] = (a4 - a3) + 4 * (a1 - a2);
	o[3 * os] = e + f;
	o[4 * os] = e - f;
	o[5 * os] = 4 * (a1 - a3) + (a5 - a3);
}

static void at1(const float *x, long xs, float *o, long os, int m, float bias, float lo, int out)
{
	float a0 = x[0], a1 = x[xs], a2 = x[2 * xs], a3 = x[3 * xs], y[4];
	if (m == 2) {
		y[0] = a0 + a1 + a2;
		y[1] = a1 - a2 - a3;
	} else {
		float a4 = x[4 * xs], a5 = x[5 * xs];
		float p = a1 + a2, d = a1 - a2, s = a3 + a4, e = a3 - a4;
		y[0] = a0 + p + s;
		y[1] = d + 2 * e;
		y[2] = p + 4 * s;
		y[3] = d + 8 * e + a5;
	}
	for (int i = 0; i < m; i++)
		o[i * os] = !out ? y[i] : y[i] + bias > lo ? y[i] + bias : lo;
}

T_512 static inline __attribute__((always_inline))
void bt16(const float *x, long xs, float *o, long os, int m, __mmask16 k)
{
	__m512 a0 = _mm512_maskz_loadu_ps(k, x), a1 = _mm512_maskz_loadu_ps(k, x + xs),
	       a2 = _mm512_maskz_loadu_ps(k, x + 2 * xs), a3 = _mm512_maskz_loadu_ps(k, x + 3 * xs);
	if (m == 2) {
		_mm512_mask_storeu_ps(o, k, _mm512_sub_ps(a0, a2));
		_mm512_mask_storeu_ps(o + os, k, _mm512_add_ps(a1, a2));
		_mm512_mask_storeu_ps(o + 2 * os, k, _mm512_sub_ps(a2, a1));
		_mm512_mask_storeu_ps(o + 3 * os, k, _mm512_sub_ps(a1, a3));
		return;
	}
	__m512 a4 = _mm512_maskz_loadu_ps(k, x + 4 * xs), a5 = _mm512_maskz_loadu_ps(k, x + 5 * xs);
	__m512 two = _mm512_set1_ps(2), four = _mm512_set1_ps(4);
	__m512 e = _mm512_sub_ps(a4, a2), f = _mm512_mul_ps(two, _mm512_sub_ps(a3, a1));
	__m512 y[6] = {
		_mm512_add_ps(_mm512_mul_ps(four, _mm512_sub_ps(a0, a2)), e),
		_mm512_sub_ps(_mm512_add_ps(a3, a4), _mm512_mul_ps(four, _mm512_add_ps(a1, a2))),
		_mm512_add_ps(_mm512_sub_ps(a4, a3), _mm512_mul_ps(four, _mm512_sub_ps(a1, a2))),
		_mm512_add_ps(e, f),
		_mm512_sub_ps(e, f),
		_mm512_add_ps(_mm512_mul_ps(four, _mm512_sub_ps(a1, a3)), _mm512_sub_ps(a5, a3)),
	};
	for (int i = 0; i < 6; i++)
		_mm512_mask_storeu_ps(o + i * os, k, y[i]);
}

T_512 static inline __attribute__((always_inline))
void at16(const float *x, long xs, float *o, long os, int m, const float *bias, float lo,
          int out, __mmask16 k)
{
	__m512 a0 = _mm512_maskz_loadu_ps(k, x), a1 = _mm512_maskz_loadu_ps(k, x + xs),
	       a2 = _mm512_maskz_loadu_ps(k, x + 2 * xs), a3 = _mm512_maskz_loadu_ps(k, x + 3 * xs);
	__m512 y[4];
	if (m == 2) {
		y[0] = _mm512_add_ps(_mm512_add_ps(a0, a1), a2);
		y[1] = _mm512_sub_ps(_mm512_sub_ps(a1, a2), a3);
	} else {
		__m512 a4 = _mm512_maskz_loadu_ps(k, x + 4 * xs),
		       a5 = _mm512_maskz_loadu_ps(k, x + 5 * xs);
		__m512 p = _mm512_add_ps(a1, a2), d = _mm512_sub_ps(a1, a2);
		__m512 s = _mm512_add_ps(a3, a4), e = _mm512_sub_ps(a3, a4);
		y[0] = _mm512_add_ps(_mm512_add_ps(a0, p), s);
		y[1] = _mm512_add_ps(d, _mm512_mul_ps(_mm512_set1_ps(2), e));
		y[2] = _mm512_add_ps(p, _mm512_mul_ps(_mm512_set1_ps(4), s));
		y[3] = _mm512_add_ps(_mm512_add_ps(d, _mm512_mul_ps(_mm512_set1_ps(8), e)), a5);
	}
	for (int i = 0; i < m; i++) {
		if (out)
			y[i] = _mm512_max_ps(_mm512_add_ps(y[i], _mm512_maskz_loadu_ps(k, bias)),
			                     _mm512_set1_ps(lo));
		_mm512_mask_storeu_ps(o + i * os, k, y[i]);
	}
}

/* bt and at for n channels side by side (x + c, o + c for c < n). */
T_512 static void bt_run512(const float *x, long xs, float *o, long os, int m, int n)
{
	for (int c = 0; c < n; c += 16)
		bt16(x + c, xs, o + c, os, m, lanes(n, c));
}

static void bt_run(const float *x, long xs, float *o, long os, int m, int n)
{
	if (vb_nn_avx512())
		bt_run512(x, xs, o, os, m, n);
	else
		for (int c = 0; c < n; c++)
			bt1(x + c, xs, o + c, os, m);
}

T_512 static void at_run512(const float *x, long xs, float *o, long os, int m, int n,
                            const float *bias, float lo, int out)
{
	for (int c = 0; c < n; c += 16)
		at16(x + c, xs, o + c, os, m, out ? bias + c : NULL, lo, out, lanes(n, c));
}

static void at_run(const float *x, long xs, float *o, long os, int m, int n, const float *bias,
                   float lo, int out)
{
	if (vb_nn_avx512())
		at_run512(x, xs, o, os, m, n, bias, lo, out);
	else
		for (int c = 0; c < n; c++)
			at1(x + c, xs, o + c, os, m, out ? bias[c] : 0, lo, out);
}

/* V[xi][t][c] = (B^T d B)[xi] for the tiles t of tile rows [ty0, ty1), d
 * being the a x a patch of xp at (m ty, m tx): along each of its rows
 * first (into e, a x a x C), then down. */
static void wino_in(const float *xp, int C, int PW, int m, int tw, int ty0, int ty1, float *V,
                    float *e)
{
	int a = m + 2;
	long vs = (long)(ty1 - ty0) * tw * C;   /* between the V[xi] */
	for (int ty = ty0; ty < ty1; ty++)
		for (int tx = 0; tx < tw; tx++) {
			long t = (long)(ty - ty0) * tw + tx;
			for (int r = 0; r < a; r++)
				bt_run(xp + ((long)(m * ty + r) * PW + m * tx) * C, C, e + (long)r * a * C,
				       C, m, C);
			for (int j = 0; j < a; j++)
				bt_run(e + (long)j * C, (long)a * C, V + j * vs + t * C, a * vs, m, C);
		}
}

/* yh = A^T M A + bias, at least lo (0 for a ReLU, else -inf), for the
 * tiles of tile rows [ty0, ty1): yh is the output's rows from m ty0 on,
 * channel-last, YW pixels a row, in whole tiles (what lies past the
 * output's edge is left out when it is transposed back).  Down the a x a
 * tile first (into s, m x a x O), then along. */
static void wino_out(const float *M, int O, int m, int tw, int ty0, int ty1, int YW,
                     const float *b, float lo, float *yh, float *s)
{
	int a = m + 2;
	long ms = (long)(ty1 - ty0) * tw * O;   /* between the M[xi] */
	for (int ty = ty0; ty < ty1; ty++)
		for (int tx = 0; tx < tw; tx++) {
			long t = (long)(ty - ty0) * tw + tx;
			for (int j = 0; j < a; j++)
				at_run(M + j * ms + t * O, a * ms, s + (long)j * O, (long)a * O, m, O,
				       NULL, 0, 0);
			for (int i = 0; i < m; i++)
				at_run(s + (long)i * a * O, O,
				       yh + ((long)(m * (ty - ty0) + i) * YW + m * tx) * O, O, m, O, b,
				       lo, 1);
		}
}

static void fwd_wino(void *arg, int tid, long lo, long hi)
{
	struct job *j = arg;
	struct vb_layer *l = j->l;
	struct conv *c = l->st;
	int C = l->in.c, H = l->in.h, W = l->in.w, O = l->out.c, OH = l->out.h, OW = l->out.w;
	int m = c->wm, a2 = (m + 2) * (m + 2), tw = c->tw, PH = m * c->th + 2, PW = m * tw + 2;
	int YW = m * tw;
	long plane = (long)C * O, nb = (long)c->trows * tw;
	float *xp = (float *)j->net->tscratch[tid];   /* the input, channel-last, bordered */
	float *V = xp + (long)C * PH * PW, *M = V + a2 * C * nb;
	float *yh = M + a2 * O * nb, *e = yh + (long)O * m * c->trows * YW;
	long isz = (long)C * H * W, osz = (long)O * OH * OW;
	memset(xp, 0, sizeof(float) * C * PH * PW);
	for (long n = lo; n < hi; n++) {
		const float *x = j->x + n * isz;
		float *y = j->y + n * osz;
		for (int r = 0; r < H; r++)
			transpose(x + (long)r * W, (long)H * W, C, W, xp + ((long)(r + 1) * PW + 1) * C, C);
		for (int ty0 = 0; ty0 < c->th; ty0 += c->trows) {
			int ty1 = ty0 + c->trows < c->th ? ty0 + c->trows : c->th;
			int nt = (ty1 - ty0) * tw;
			wino_in(xp, C, PW, m, tw, ty0, ty1, V, e);
			for (int xi = 0; xi < a2; xi++)
				mm(V + (long)xi * nt * C, c->U + xi * plane, M + (long)xi * nt * O, nt, C,
				   O);
			wino_out(M, O, m, tw, ty0, ty1, YW, j->b, c->relu ? 0.0f : -INFINITY, yh, e);
			for (int r = m * ty0; r < m * ty1 && r < OH; r++)
				transpose(yh + (long)(r - m * ty0) * YW * O, O, OW, O, y + (long)r * OW,
				          (long)OH * OW);
		}
	}
}

/* ---- inference: a one-channel convolution fused into the next ----------
 *
 * Convolution a, 3 x 3 'same' on a one-channel input x, feeding (with its
 * batch norm folded in and no activation) convolution b, 3 x 3 'same', is
 * linear: b(a(x)) at pixel p is
 *
 *   bias_b + sum over b's taps d inside the image of
 *            (beta[d] + sum over a's taps e of K[d][e] x(p + d + e)),
 *
 * with K[d][e][o] = sum over c of w_b[o][c][d] w_a[c][e], beta[d][o] = sum
 * over c of w_b[o][c][d] bias_a[c], and x zero outside.  Where every tap d
 * is inside that is a 5 x 5 convolution of x (kernel k5: the K summed by
 * d + e) plus b5 = bias_b + the sum of beta; b computes it everywhere as
 * one matrix product over 25 shifted copies of x, then takes off, at the
 * pixels within one of the edge, the terms of the taps d outside.  For the
 * shipped network's first pair (1 -> 32 -> 32 channels at 48 x 48): 1.8M
 * multiply-adds instead of 10M, and no 32-channel image in between. */

/* y[o] at the pixels within one of the edge, less the terms of the taps
 * outside; xp is x with a border of 2 zeros, corr O floats of scratch. */
VB_VECTOR
static void fused_edges(const struct conv *c, int H, int W, int O, const float *xp,
                        float *restrict corr, float *y)
{
	int PW = W + 4;
	long P = (long)H * W;
	for (int r = 0; r < H; r++)
		for (int q = 0; q < W; q += (r == 0 || r == H - 1 || q == W - 1) ? 1 : W - 1) {
			int any = 0;
			for (int d = 0; d < 9; d++) {
				int dr = r + d / 3 - 1, dq = q + d % 3 - 1;
				if (dr >= 0 && dr < H && dq >= 0 && dq < W)
					continue;
				const float *restrict bd = c->beta + (long)d * O;
				for (int o = 0; o < O; o++)
					corr[o] = (any ? corr[o] : 0) + bd[o];
				any = 1;
				for (int e = 0; e < 9; e++) {
					float v = xp[(long)(dr + e / 3 + 1) * PW + dq + e % 3 + 1];
					const float *restrict k = c->kde + (long)(d * 9 + e) * O;
					for (int o = 0; o < O; o++)
						corr[o] += k[o] * v;
				}
			}
			for (int o = 0; any && o < O; o++)
				y[o * P + (long)r * W + q] -= corr[o];
		}
}

/* y = max(y + b, vmin) per output plane of P pixels. */
VB_VECTOR
static void bias_floor(float *restrict y, int O, long P, const float *b, float vmin)
{
	for (int o = 0; o < O; o++) {
		float *restrict yo = y + o * P, bo = b[o];
		for (long p = 0; p < P; p++) {
			float v = yo[p] + bo;
			yo[p] = v > vmin ? v : vmin;
		}
	}
}

static void fwd_fused(void *arg, int tid, long lo, long hi)
{
	struct job *j = arg;
	struct vb_layer *l = j->l;
	struct conv *c = l->st;
	int H = l->in.h, W = l->in.w, O = l->out.c, PW = W + 4;
	long P = (long)H * W;
	float *xp = (float *)j->net->tscratch[tid];   /* x with a border of 2 zeros */
	float *col = xp + (long)(H + 4) * PW, *corr = col + 25 * P;
	memset(xp, 0, sizeof(float) * (H + 4) * PW);
	for (long n = lo; n < hi; n++) {
		const float *x = j->x + n * P;
		float *y = j->y + n * O * P;
		for (int r = 0; r < H; r++)
			memcpy(xp + (long)(r + 2) * PW + 2, x + (long)r * W, sizeof(float) * W);
		for (int f = 0; f < 25; f++)
			for (int r = 0; r < H; r++)
				memcpy(col + f * P + (long)r * W, xp + (long)(r + f / 5) * PW + f % 5,
				       sizeof(float) * W);
		mm(c->k5, col, y, O, 25, (int)P);
		fused_edges(c, H, W, O, xp, corr, y);
		bias_floor(y, O, P, c->b5, c->relu ? 0.0f : -INFINITY);
	}
}

static size_t fused_scratch(const struct vb_layer *l)
{
	size_t P = (size_t)l->in.h * l->in.w;
	return sizeof(float) * ((size_t)(l->in.h + 4) * (l->in.w + 4) + 25 * P + l->out.c);
}

int vb_conv_fuse(const struct vb_layer *a, struct vb_layer *b)
{
	const struct conv *ca = a->st;
	struct conv *cb = b->st;
	/* both Winograd (wm): frozen, 3 x 3, stride 1, 'same' */
	if (!ca->wm || !cb->wm || ca->relu || a->in.c != 1 ||
	    b->in.c != a->out.c || b->in.h != a->out.h || b->in.w != a->out.w)
		return 0;
	int M = a->out.c, O = b->out.c;
	const float *wa = a->param[0]->w, *wb = b->param[0]->w;
	if (!(cb->k5 = malloc(sizeof(float) * O * 25)) ||
	    !(cb->kde = malloc(sizeof(float) * 81 * O)) ||
	    !(cb->beta = malloc(sizeof(float) * 9 * O)) || !(cb->b5 = malloc(sizeof(float) * O)))
		return vb_err_set("out of memory");
	for (int o = 0; o < O; o++) {
		double k5[25] = {0}, b5 = cb->fb[o], so = cb->scale[o];
		for (int d = 0; d < 9; d++) {
			double beta = 0;
			for (int m = 0; m < M; m++)
				beta += (double)wb[((long)o * M + m) * 9 + d] * ca->fb[m];
			beta *= so;
			cb->beta[d * O + o] = (float)beta;
			b5 += beta;
			for (int e = 0; e < 9; e++) {
				double k = 0;
				for (int m = 0; m < M; m++)
					k += (double)wb[((long)o * M + m) * 9 + d] * wa[m * 9 + e] * ca->scale[m];
				k *= so;
				cb->kde[(d * 9 + e) * O + o] = (float)k;
				k5[(d / 3 + e / 3) * 5 + d % 3 + e % 3] += k;
			}
		}
		for (int f = 0; f < 25; f++)
			cb->k5[o * 25 + f] = (float)k5[f];
		cb->b5[o] = (float)b5;
	}
	cb->fused = 1;
	cb->wm = 0;
	cb->U = NULL;   /* vb_net_freeze's */
	return 1;
}

size_t vb_conv_frozen_bytes(const struct vb_layer *l)
{
	int a = wino_tile(l) + 2;
	return a > 2 ? sizeof(float) * a * a * l->out.c * l->in.c : 0;
}

int vb_conv_freeze(struct vb_layer *l, const struct vb_layer *bn, int relu, float *mem)
{
	struct conv *c = l->st;
	int O = l->out.c;
	const float *w = l->param[0]->w, *b = c->bias ? l->param[1]->w : NULL;
	if (!c->fb) {
		c->fb = malloc(sizeof(float) * O);
		c->scale = malloc(sizeof(float) * O);
	}
	if (!c->fb || !c->scale)
		return vb_err_set("out of memory");
	vb_bn_fold(bn, O, 1, NULL, b, c->scale, c->fb);
	if (relu)
		c->relu = 1;
	c->wm = wino_tile(l);
	if (!c->wm) {
		/* the folded weights, which the Winograd form does not need
		 * (1.2 MB of fresh memory for the shipped network) */
		if (!c->fw && !(c->fw = malloc(sizeof(float) * l->param[0]->n)))
			return vb_err_set("out of memory");
		vb_bn_fold(bn, O, l->param[0]->n / O, w, b, c->fw, c->fb);
		return 0;
	}
	c->U = mem;   /* vb_conv_frozen_bytes of them */
	double *g = malloc(sizeof(double) * 63 * O);
	if (!g)
		return vb_err_set("out of memory");
	wino_kernels(w, c->scale, O, l->in.c, c->wm, c->U, g);
	free(g);
	c->th = (l->out.h + c->wm - 1) / c->wm;
	c->tw = (l->out.w + c->wm - 1) / c->wm;
	/* V and M of a block within about 768 KiB */
	int a = c->wm + 2, nt = 196608 / (a * a * (l->in.c + O));
	c->trows = nt / c->tw < 1 ? 1 : nt / c->tw;
	if (c->trows > c->th)
		c->trows = c->th;
	return 0;
}

static void conv_forward(struct vb_layer *l, struct vb_net *net, const float *x, float *y,
                         int n, int train)
{
	struct conv *c = l->st;
	struct job j = {l, net, x, y, NULL, NULL, l->param[0]->w, c->bias ? l->param[1]->w : NULL};
	vb_par_fn fn = c->depthwise ? fwd_dw : fwd_gemm;
	if (c->fb && !train) {
		j.w = c->fw;
		j.b = c->fb;
		if (c->wm)
			fn = fwd_wino;
		if (c->fused)
			fn = fwd_fused;
	}
	vb_blas_threads(1);
	vb_pool_run(net->pool, n, fn, &j);
}

static void conv_backward(struct vb_layer *l, struct vb_net *net, const float *x,
                          const float *y, const float *dy, float *dx, int n)
{
	struct conv *c = l->st;
	struct job j = {l, net, x, (float *)y, dy, dx, NULL, NULL};
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

static size_t wino_scratch(const struct vb_layer *l)
{
	const struct conv *c = l->st;
	size_t nt = (size_t)c->trows * c->tw, C = l->in.c, O = l->out.c, m = c->wm;
	size_t a2 = (m + 2) * (m + 2);
	return sizeof(float) * (C * (m * c->th + 2) * (m * c->tw + 2) + a2 * nt * (C + O) +
	                        O * m * c->trows * m * c->tw + a2 * (C > O ? C : O));
}

static size_t conv_scratch(const struct vb_layer *l)
{
	struct conv *c = l->st;
	if (c->depthwise)
		return 0;
	size_t ko = (size_t)l->out.c * c->k * c->k;
	size_t colsz = (size_t)c->K * c->band * l->out.w;
	size_t dsz = c->full ? ko * c->dband * l->in.w : (size_t)c->K * c->P;
	size_t sz = sizeof(float) * (colsz + dsz);
	if (c->wm && wino_scratch(l) > sz)
		sz = wino_scratch(l);
	if (c->fused && fused_scratch(l) > sz)
		sz = fused_scratch(l);
	return sz;
}

static void conv_free(struct vb_layer *l)
{
	struct conv *c = l->st;
	if (c) {
		free(c->wt);
		free(c->fw);
		free(c->fb);
		free(c->scale);
		free(c->k5);
		free(c->kde);
		free(c->beta);
		free(c->b5);
	}
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
