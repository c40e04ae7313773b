/* track.c - search near the previous frame's faces, re-detect when needed. */
#include "track.h"
#include "err.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct vb_tracker {
	const struct vb_haar *c;
	struct vb_haar_params p;
	int redetect, since;
	struct vb_track_face *f, *g;   /* current faces, scratch */
	int n, cap;
	long next_id;
};

struct vb_tracker *vb_tracker_new(const struct vb_haar *c, const struct vb_haar_params *p,
                                  int redetect)
{
	struct vb_tracker *t = calloc(1, sizeof *t);

	if (!t)
		return vb_err_set("out of memory"), NULL;
	t->c = c;
	t->p = *p;
	t->redetect = redetect < 1 ? 1 : redetect;
	t->since = t->redetect - 1;   /* the first frame is searched whole */
	return t;
}

void vb_tracker_free(struct vb_tracker *t)
{
	if (!t)
		return;
	free(t->f);
	free(t->g);
	free(t);
}

void vb_tracker_reset(struct vb_tracker *t)
{
	t->n = 0;
	t->since = t->redetect - 1;
}

static int reserve(struct vb_tracker *t, int n)
{
	if (n <= t->cap)
		return 0;
	int nc = t->cap ? t->cap : 8;
	while (nc < n)
		nc *= 2;
	void *a = realloc(t->f, (size_t)nc * sizeof *t->f);
	if (!a)
		return vb_err_set("out of memory");
	t->f = a;
	void *b = realloc(t->g, (size_t)nc * sizeof *t->g);
	if (!b)
		return vb_err_set("out of memory");
	t->g = b;
	t->cap = nc;
	return 0;
}

static int by_id(const void *a, const void *b)
{
	const struct vb_track_face *x = a, *y = b;
	return (x->id > y->id) - (x->id < y->id);
}

/* Search the neighbourhood of one face: half its size around it, at sizes
 * from 1/2 to 2 times its own.  The face was there a frame ago, so every
 * raw hit overlapping the old box (IoU >= 0.3) counts, and the new box is
 * their mean.  1 with *out set, 0 when there is no such hit, -1 on error. */
static int search_near(struct vb_tracker *t, const uint8_t *px, int w, int h, ptrdiff_t stride,
                       const struct vb_rect *old, struct vb_rect *out)
{
	int ww, wh;
	vb_haar_window(t->c, &ww, &wh);
	int mx = old->w / 2, my = old->h / 2;
	int x0 = old->x - mx, y0 = old->y - my, x1 = old->x + old->w + mx, y1 = old->y + old->h + my;
	if (x0 < 0) x0 = 0;
	if (y0 < 0) y0 = 0;
	if (x1 > w) x1 = w;
	if (y1 > h) y1 = h;
	if (x1 - x0 < ww || y1 - y0 < wh)
		return 0;
	struct vb_haar_params p = t->p;
	p.threads = 1;   /* a small window: not worth threads */
	p.min_w = old->w / 2;
	p.min_h = old->h / 2;
	p.max_w = old->w * 2;
	p.max_h = old->h * 2;
	p.min_neighbors = 0;
	struct vb_rect *r;
	int n = vb_haar_detect(t->c, px + (ptrdiff_t)y0 * stride + x0, x1 - x0, y1 - y0, stride, &p, &r);
	if (n <= 0)
		return n;
	double sx = 0, sy = 0, sw = 0, sh = 0;
	int k = 0;
	for (int i = 0; i < n; i++) {
		r[i].x += x0;
		r[i].y += y0;
		if (vb_rect_iou(&r[i], old) >= 0.3) {
			sx += r[i].x;
			sy += r[i].y;
			sw += r[i].w;
			sh += r[i].h;
			k++;
		}
	}
	free(r);
	if (k == 0)
		return 0;
	*out = (struct vb_rect){ (int)lrint(sx / k), (int)lrint(sy / k), (int)lrint(sw / k), (int)lrint(sh / k) };
	return 1;
}

int vb_tracker_next(struct vb_tracker *t, const uint8_t *px, int w, int h, ptrdiff_t stride,
                    const struct vb_track_face **faces, int *full)
{
	int lost = 0;

	/* with nobody in view too: a face that appears waits for the next
	 * whole search, as one entering beside followed faces does */
	*full = t->since + 1 >= t->redetect;
	if (!*full) {
		for (int i = 0; i < t->n; i++) {
			struct vb_rect nb;
			int k = search_near(t, px, w, h, stride, &t->f[i].box, &nb);
			if (k < 0)
				return -1;
			if (k == 0) {
				lost = 1;
				break;
			}
			t->g[i] = t->f[i];
			t->g[i].box = nb;
			t->g[i].age++;
		}
		if (!lost) {
			/* two followed boxes on one face: keep the older */
			int m = 0;
			for (int i = 0; i < t->n; i++) {
				int dup = 0;
				for (int j = 0; j < m; j++)
					if (vb_rect_iou(&t->g[i].box, &t->f[j].box) > 0.5)
						dup = 1;
				if (!dup)
					t->f[m++] = t->g[i];
			}
			t->n = m;
			t->since++;
			*faces = t->f;
			return t->n;
		}
		*full = 1;
	}

	struct vb_rect *r;
	int n = vb_haar_detect(t->c, px, w, h, stride, &t->p, &r);
	if (n < 0)
		return -1;
	if (reserve(t, n + t->n + 1) < 0) {
		free(r);
		return -1;
	}
	/* match the new boxes to the old faces, best overlap first */
	char *used = calloc((size_t)t->n + 1, 1);
	if (!used) {
		free(r);
		return vb_err_set("out of memory");
	}
	for (int i = 0; i < n; i++) {
		int best = -1;
		double bi = 0.3;
		for (int j = 0; j < t->n; j++) {
			double v = vb_rect_iou(&r[i], &t->f[j].box);
			if (!used[j] && v > bi) {
				bi = v;
				best = j;
			}
		}
		if (best >= 0) {
			used[best] = 1;
			t->g[i] = t->f[best];
			t->g[i].age++;
		} else {
			t->g[i].id = t->next_id++;
			t->g[i].age = 0;
		}
		t->g[i].box = r[i];
	}
	free(used);
	free(r);
	qsort(t->g, (size_t)n, sizeof *t->g, by_id);
	memcpy(t->f, t->g, (size_t)n * sizeof *t->f);
	t->n = n;
	t->since = 0;
	*faces = t->f;
	return n;
}
