/* conv.c - 2-D convolution (PyTorch's Conv2d): k x k kernels, stride,
 * 'valid' or 'same' (symmetric k/2) zero padding, and depthwise (groups =
 * channels).  Ordinary convolutions run per sample as im2col + sgemm (no
 * column buffer for 1 x 1 stride 1); depthwise ones as direct loops.  A
 * frozen network (vb_net_freeze) runs 3 x 3 stride-1 'same' ones with
 * Winograd's F(2x2, 3x3) algorithm at inference, and a one-channel first
 * one and the next as one 5 x 5 convolution. */
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
	float *fw;      /* weights times scale (not kept for wino) */
	int wino;       /* Winograd F(2x2, 3x3) */
	float *U;       /* wino: transformed kernels, 16 x out x in (the net's) */
	int th, tw;     /* wino: 2 x 2 output tiles down and across */
	int trows;      /* wino: tile rows per block */
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

/* ---- inference: Winograd F(2x2, 3x3) ------------------------------------
 *
 * Winograd's minimal filtering: the output is cut into 2 x 2 tiles, each
 * computed from the 4 x 4 input patch d around it as A^T [U .* (B^T d B)] A,
 * where U = G g G^T is the 3 x 3 kernel g transformed once.  A tile then
 * costs 16 multiplications per input channel instead of 36, and the sums
 * over the channels become 16 matrix products, one per position xi of the
 * 4 x 4 transformed tile: M[xi] (out x tiles) = U[xi] (out x in) V[xi]
 * (in x tiles).  The tiles are taken a block of tile rows at a time, so V
 * and M stay in the L2 cache. */

/* U[xi][o][c] from the kernels w[o][c][3][3] times scale[o]; G is
 * [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]. */
static void wino_kernels(const float *w, const float *scale, int O, int C, float *U)
{
	for (int o = 0; o < O; o++)
		for (int ci = 0; ci < C; ci++) {
			const float *g = w + ((long)o * C + ci) * 9;
			double t[4][3], u[4][4], a = scale[o];
			for (int j = 0; j < 3; j++) {
				t[0][j] = a * g[j];
				t[1][j] = a * (g[j] + g[3 + j] + g[6 + j]) / 2;
				t[2][j] = a * (g[j] - g[3 + j] + g[6 + j]) / 2;
				t[3][j] = a * g[6 + j];
			}
			for (int i = 0; i < 4; i++) {
				u[i][0] = t[i][0];
				u[i][1] = (t[i][0] + t[i][1] + t[i][2]) / 2;
				u[i][2] = (t[i][0] - t[i][1] + t[i][2]) / 2;
				u[i][3] = t[i][2];
			}
			for (int xi = 0; xi < 16; xi++)
				U[((long)xi * O + o) * C + ci] = (float)u[xi / 4][xi % 4];
		}
}

/* The zero-padded input: C planes of PH rows, each row holding the padded
 * columns 0, 2, 4, ... (tw + 1 of them) and then 1, 3, 5, ..., so that the
 * tile transforms read contiguous runs (and vectorise).  Padded row r and
 * column p hold x[r - 1][p - 1]; the border and the tail stay zero. */
static void wino_pad(const float *x, int C, int H, int W, int PH, int tw, float *xp)
{
	int h = tw + 1;
	for (int ci = 0; ci < C; ci++)
		for (int r = 0; r < H; r++) {
			const float *xr = x + ((long)ci * H + r) * W;
			float *ev = xp + ((long)ci * PH + r + 1) * 2 * h, *od = ev + h;
			for (int q = 0; 2 * q < W; q++)
				od[q] = xr[2 * q];
			for (int q = 0; 2 * q + 1 < W; q++)
				ev[q + 1] = xr[2 * q + 1];
		}
}

/* V[xi][c][t] = (B^T d B)[xi] for the tiles of tile rows [ty0, ty1), B^T
 * being [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]: first across the four
 * input rows of a tile row (e, 4 rows of scratch), then along them. */
VB_VECTOR
static void wino_in(const float *restrict xp, int C, int PH, int tw, int ty0, int ty1,
                    float *restrict V, float *restrict e)
{
	int h = tw + 1, PW = 2 * h;
	long nt = (long)(ty1 - ty0) * tw, cs = (long)C * nt;
	for (int ci = 0; ci < C; ci++)
		for (int ty = ty0; ty < ty1; ty++) {
			const float *r0 = xp + ((long)ci * PH + 2 * ty) * PW;
			const float *r1 = r0 + PW, *r2 = r1 + PW, *r3 = r2 + PW;
			for (int q = 0; q < PW; q++) {
				e[q] = r0[q] - r2[q];
				e[PW + q] = r1[q] + r2[q];
				e[2 * PW + q] = r2[q] - r1[q];
				e[3 * PW + q] = r1[q] - r3[q];
			}
			float *v = V + ci * nt + (long)(ty - ty0) * tw;
			for (int i = 0; i < 4; i++) {
				const float *ev = e + i * PW, *od = ev + h;
				float *v0 = v + 4 * i * cs, *v1 = v0 + cs, *v2 = v1 + cs, *v3 = v2 + cs;
				for (int tx = 0; tx < tw; tx++) {
					v0[tx] = ev[tx] - ev[tx + 1];
					v1[tx] = od[tx] + ev[tx + 1];
					v2[tx] = ev[tx + 1] - od[tx];
					v3[tx] = od[tx] - od[tx + 1];
				}
			}
		}
}

/* y[o] of tile rows [ty0, ty1) = A^T M A + bias, at least lo (0 for a ReLU,
 * else -inf), A^T being [1 1 1 0; 0 1 -1 -1]: first down the 4 x 4 tile
 * (into s, 8 rows of tw), then across; tiles past the edge are cut. */
VB_VECTOR
static void wino_out(const float *restrict M, int O, int OH, int OW, int tw, int ty0, int ty1,
                     const float *b, float lo, float *restrict y, float *restrict s)
{
	long nt = (long)(ty1 - ty0) * tw, os = (long)O * nt;
	for (int o = 0; o < O; o++)
		for (int ty = ty0; ty < ty1; ty++) {
			const float *m = M + o * nt + (long)(ty - ty0) * tw;
			for (int k = 0; k < 4; k++) {
				const float *m0 = m + k * os, *m1 = m0 + 4 * os, *m2 = m1 + 4 * os,
				            *m3 = m2 + 4 * os;
				float *s0 = s + k * tw, *s1 = s + (4 + k) * tw;
				for (int tx = 0; tx < tw; tx++) {
					s0[tx] = m0[tx] + m1[tx] + m2[tx];
					s1[tx] = m1[tx] - m2[tx] - m3[tx];
				}
			}
			float bo = b[o];
			for (int i = 0; i < 2 && 2 * ty + i < OH; i++) {
				const float *a0 = s + 4 * i * tw, *a1 = a0 + tw, *a2 = a1 + tw, *a3 = a2 + tw;
				float *yr = y + ((long)o * OH + 2 * ty + i) * OW;
				int full = OW / 2;
				for (int tx = 0; tx < full; tx++) {
					float p = a0[tx] + a1[tx] + a2[tx] + bo;
					float q = a1[tx] - a2[tx] - a3[tx] + bo;
					yr[2 * tx] = p > lo ? p : lo;
					yr[2 * tx + 1] = q > lo ? q : lo;
				}
				if (full < tw) { /* odd width: the last tile's left column */
					float p = a0[full] + a1[full] + a2[full] + bo;
					yr[2 * full] = p > lo ? p : lo;
				}
			}
		}
}

/* The products of the Winograd and fused convolutions (M[xi] = U[xi]
 * V[xi], out x in times in x tiles, or k5 times 25 shifted copies of the
 * input).  They are small (for a 48 x 48 face, 32-128 rows by 36-2304
 * columns), so an sgemm call spends much of its time packing V; with
 * AVX-512 they run here on the matrices as they are: 8 rows by nv x 16 columns of M in registers,
 * one row of V and eight broadcasts of U at a time. */
/* rows (8 or 1) by nv x 16 columns (k: the columns in each 16). */
T_512 static inline __attribute__((always_inline))
void tile(int rows, int nv, const float *u, int C, const float *v, int nt, float *m,
          const __mmask16 *k)
{
	__m512 a[8][3];
#pragma GCC unroll 8
	for (int r = 0; r < rows; r++)
#pragma GCC unroll 3
		for (int j = 0; j < nv; j++)
			a[r][j] = _mm512_setzero_ps();
	for (int c = 0; c < C; c++) {
		__m512 x[3];
#pragma GCC unroll 3
		for (int j = 0; j < nv; j++)
			x[j] = _mm512_maskz_loadu_ps(k[j], v + (long)c * nt + 16 * j);
#pragma GCC unroll 8
		for (int r = 0; r < rows; r++) {
			__m512 b = _mm512_set1_ps(u[(long)r * C + c]);
#pragma GCC unroll 3
			for (int j = 0; j < nv; j++)
				a[r][j] = _mm512_fmadd_ps(b, x[j], a[r][j]);
		}
	}
#pragma GCC unroll 8
	for (int r = 0; r < rows; r++)
#pragma GCC unroll 3
		for (int j = 0; j < nv; j++)
			_mm512_mask_storeu_ps(m + (long)r * nt + 16 * j, k[j], a[r][j]);
}

/* All rows of M for columns [t, t + 16 nv). */
T_512 static inline __attribute__((always_inline))
void column(int nv, const float *u, int O, int C, const float *v, int nt, float *m, int t)
{
	__mmask16 k[3];
	for (int j = 0; j < nv; j++) {
		int left = nt - t - 16 * j;
		k[j] = left >= 16 ? 0xffff : left <= 0 ? 0 : (__mmask16)((1u << left) - 1);
	}
	int o = 0;
	for (; o + 8 <= O; o += 8)
		tile(8, nv, u + (long)o * C, C, v + t, nt, m + (long)o * nt + t, k);
	for (; o < O; o++)
		tile(1, nv, u + (long)o * C, C, v + t, nt, m + (long)o * nt + t, k);
}

/* m = u v: O x C times C x nt, row-major. */
T_512 static void product512(const float *u, const float *v, float *m, int O, int C, int nt)
{
	int t = 0;
	/* 32 columns at a time; 33-48 left take one 48-column pass */
	for (; nt - t > 48; t += 32)
		column(2, u, O, C, v, nt, m, t);
	if (nt - t > 32)
		column(3, u, O, C, v, nt, m, t);
	else if (nt > t)
		column(2, u, O, C, v, nt, m, t);
}

/* m = u v: O x C times C x nt, row-major. */
static void product(const float *u, const float *v, float *m, int O, int C, int nt)
{
	if (vb_nn_avx512())
		product512(u, v, m, O, C, nt);
	else
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, O, nt, C, 1.0f, u, C, v, nt,
		            0.0f, m, nt);
}

static void fwd_wino(void *arg, int tid, long lo, long hi)
{
	struct job *j = arg;
	struct vb_layer *l = j->l;
	struct conv *c = l->st;
	int C = l->in.c, H = l->in.h, W = l->in.w, O = l->out.c, tw = c->tw;
	int PH = 2 * c->th + 2, PW = 2 * tw + 2;
	float *xp = (float *)j->net->tscratch[tid];
	float *V = xp + (long)C * PH * PW, *M = V + 16L * C * c->trows * tw;
	float *e = M + 16L * O * c->trows * tw;
	long isz = (long)C * H * W, osz = (long)O * c->P;
	memset(xp, 0, sizeof(float) * C * PH * PW);
	for (long n = lo; n < hi; n++) {
		wino_pad(j->x + n * isz, C, H, W, PH, tw, xp);
		for (int ty0 = 0; ty0 < c->th; ty0 += c->trows) {
			int ty1 = ty0 + c->trows < c->th ? ty0 + c->trows : c->th;
			int nt = (ty1 - ty0) * tw;
			wino_in(xp, C, PH, tw, ty0, ty1, V, e);
			for (int xi = 0; xi < 16; xi++)
				product(c->U + (long)xi * O * C, V + (long)xi * C * nt,
				        M + (long)xi * O * nt, O, C, nt);
			wino_out(M, O, l->out.h, l->out.w, tw, ty0, ty1, j->b,
			         c->relu ? 0.0f : -INFINITY, j->y + n * osz, e);
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
		product(c->k5, col, y, O, 25, (int)P);
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
	/* wino: frozen, 3 x 3, stride 1, 'same' */
	if (!ca->wino || !cb->wino || ca->relu || a->in.c != 1 ||
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
	cb->wino = 0;
	cb->U = NULL;   /* vb_net_freeze's */
	return 1;
}

static int takes_wino(const struct conv *c)
{
	return !c->depthwise && c->k == 3 && c->stride == 1 && c->pad == 1;
}

size_t vb_conv_frozen_bytes(const struct vb_layer *l)
{
	const struct conv *c = l->st;
	return takes_wino(c) ? sizeof(float) * 16 * l->out.c * l->in.c : 0;
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
	c->wino = takes_wino(c);
	if (!c->wino) {
		/* the folded weights, which the Winograd form does not need
		 * (1.2 MB of fresh memory for the shipped network) */
		if (!c->fw && !(c->fw = malloc(sizeof(float) * l->param[0]->n)))
			return vb_err_set("out of memory");
		vb_bn_fold(bn, O, l->param[0]->n / O, w, b, c->fw, c->fb);
		return 0;
	}
	c->U = mem;   /* vb_conv_frozen_bytes of them */
	wino_kernels(w, c->scale, O, l->in.c, c->U);
	c->th = (l->out.h + 1) / 2;
	c->tw = (l->out.w + 1) / 2;
	/* V and M of a block within about 768 KiB */
	int nt = 12288 / (l->in.c + O);
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
		if (c->wino)
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
	size_t nt = (size_t)c->trows * c->tw;
	return sizeof(float) * ((size_t)l->in.c * (2 * c->th + 2) * (2 * c->tw + 2) +
	                        16 * nt * (l->in.c + l->out.c) + 8 * ((size_t)c->tw + 1));
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
	if (c->wino && wino_scratch(l) > sz)
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
