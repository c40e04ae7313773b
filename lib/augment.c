/* augment.c - random affine + photometric augmentation of gray images. */
#include "augment.h"

#include <math.h>

void vb_aug_defaults(struct vb_aug *a)
{
	a->flip = 0.5;
	a->rotate = 10;
	a->scale = 0.1;
	a->shift = 0.1;
	a->brightness = 0.1;
	a->contrast = 0.2;
}

static double sym(struct vb_rng *r, double m)
{
	return (2 * vb_rng_uniform(r) - 1) * m;
}

void vb_augment(const uint8_t *src, int h, int w, const struct vb_aug *a, struct vb_rng *r,
                float mul, float add, float *out)
{
	int flip = vb_rng_uniform(r) < a->flip;
	double ang = sym(r, a->rotate) * M_PI / 180, sc = 1 + sym(r, a->scale);
	double tx = sym(r, a->shift) * w, ty = sym(r, a->shift) * h;
	double br = sym(r, a->brightness) * 255, ct = 1 + sym(r, a->contrast);
	double cx = (w - 1) / 2.0, cy = (h - 1) / 2.0;
	/* output p -> source: rotate by -ang and scale by 1/sc about the centre */
	double ca = cos(ang) / sc, sa = sin(ang) / sc;
	double mean = 0;
	for (int i = 0; i < h * w; i++)
		mean += src[i];
	mean /= h * w;
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			double dx = x - cx - tx, dy = y - cy - ty;
			double sx = ca * dx + sa * dy + cx, sy = -sa * dx + ca * dy + cy;
			if (flip)
				sx = w - 1 - sx;
			if (sx < 0)
				sx = 0;
			if (sx > w - 1)
				sx = w - 1;
			if (sy < 0)
				sy = 0;
			if (sy > h - 1)
				sy = h - 1;
			int x0 = (int)sx, y0 = (int)sy;
			int x1 = x0 + 1 < w ? x0 + 1 : x0, y1 = y0 + 1 < h ? y0 + 1 : y0;
			double fx = sx - x0, fy = sy - y0;
			double v = (1 - fy) * ((1 - fx) * src[y0 * w + x0] + fx * src[y0 * w + x1]) +
			           fy * ((1 - fx) * src[y1 * w + x0] + fx * src[y1 * w + x1]);
			v = (v - mean) * ct + mean + br;
			if (v < 0)
				v = 0;
			if (v > 255)
				v = 255;
			out[y * w + x] = (float)v * mul + add;
		}
}
