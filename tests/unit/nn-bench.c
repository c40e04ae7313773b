/* nn-bench.c - benchmark helper: batch-1 single-thread inference latency
 * of an architecture, its forward FLOPs, and this core's sgemm speed.
 *
 *   nn-bench ARCH.yaml [RUNS]   ->  "latency_ms FLOPs sgemm_GFLOPs floor_ms"
 *
 * Without arguments it prints an empty TAP plan. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "nn.h"

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Multiply-adds of the convolutions and dense layers, times 2. */
static double flops(const struct vb_net *net)
{
	double f = 0;
	for (int i = 0; i < net->nlayers; i++) {
		const struct vb_layer *l = net->layers[i];
		if (!l->nparam || l->param[0]->ndim < 2)
			continue;
		double outs = (double)l->out.c * l->out.h * l->out.w;
		double per = (double)l->param[0]->n / l->param[0]->shape[0];
		f += 2 * outs * per;
	}
	return f;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		printf("1..0 # SKIP helper program\n");
		return 0;
	}
	int runs = argc > 2 ? atoi(argv[2]) : 200;
	size_t len;
	char *text = vb_read_file(argv[1], &len);
	struct vb_net *net = text ? vb_arch_build(text, len, 4) : NULL;
	if (!net || vb_net_prepare(net, 1, 1) < 0) {
		fprintf(stderr, "nn-bench: %s\n", vb_err_msg());
		return 2;
	}
	vb_net_init_weights(net, VB_INIT_GLOROT, 1);
	if (vb_net_freeze(net) < 0) {
		fprintf(stderr, "nn-bench: %s\n", vb_err_msg());
		return 2;
	}
	uint8_t px[4096 * 4];
	for (size_t i = 0; i < sizeof px; i++)
		px[i] = (uint8_t)(i * 7);
	double *t = malloc(sizeof(double) * runs);
	for (int r = -10; r < runs; r++) {
		double t0 = now();
		vb_net_load_pixels(net, px, 1);
		vb_net_forward(net, 1, 0);
		if (r >= 0)
			t[r] = now() - t0;
	}
	qsort(t, runs, sizeof *t, cmp);
	/* single-core sgemm speed on a cache-friendly large product */
	int n = 512;
	float *a = calloc(n * n, 4), *b = calloc(n * n, 4), *c = calloc(n * n, 4);
	for (int i = 0; i < n * n; i++)
		a[i] = b[i] = 1e-3f * (i % 100);
	openblas_set_num_threads(1);
	double best = 1e9;
	for (int r = 0; r < 9; r++) {
		double t0 = now();
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
		double dt = now() - t0;
		if (r && dt < best)
			best = dt;
	}
	double gf = 2.0 * n * n * n / best / 1e9, f = flops(net);
	printf("%.4f %.0f %.1f %.4f\n", t[runs / 2] * 1e3, f, gf, f / (gf * 1e9) * 1e3);
	free(a);
	free(b);
	free(c);
	free(t);
	free(text);
	vb_net_free(net);
	return 0;
}
