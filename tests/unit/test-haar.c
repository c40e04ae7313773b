/* test-haar.c - cascade loading, one-stump detection worked out by hand,
 * grouping rules, and the vector evaluator against the plain one. */
#include "err.h"
#include "haar.h"
#include "image.h"
#include "tap.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* A 6 x 6 window, one stage of one stump: right half minus left half >= 0. */
static const char edge_xml[] =
	"<?xml version=\"1.0\"?>\n<opencv_storage>\n<cascade type_id=\"opencv-cascade-classifier\">"
	"<stageType>BOOST</stageType><featureType>HAAR</featureType>"
	"<height>6</height><width>6</width>"
	"<stageParams><maxWeakCount>1</maxWeakCount></stageParams>"
	"<featureParams><maxCatCount>0</maxCatCount></featureParams>"
	"<stageNum>1</stageNum><stages><_><maxWeakCount>1</maxWeakCount>"
	"<stageThreshold>0.</stageThreshold><weakClassifiers><_>"
	"<!-- tree 0 --><internalNodes>0 -1 0 0.</internalNodes>"
	"<leafValues>-1. 1.</leafValues></_></weakClassifiers></_></stages>"
	"<features><_><rects><_>0 0 3 6 -1.</_><_>3 0 3 6 1.</_></rects>"
	"<tilted>0</tilted></_></features></cascade></opencv_storage>\n";

static struct vb_haar *load_str(const char *s)
{
	return vb_haar_load_mem(s, strlen(s), "test.xml");
}

/* edge_xml with one substring replaced. */
static struct vb_haar *load_edit(const char *from, const char *to)
{
	static char buf[4096];
	const char *p = strstr(edge_xml, from);
	if (!p)
		return NULL;
	snprintf(buf, sizeof buf, "%.*s%s%s", (int)(p - edge_xml), edge_xml, to, p + strlen(from));
	return load_str(buf);
}

static int same_rects(const struct vb_rect *a, int na, const struct vb_rect *b, int nb)
{
	if (na != nb)
		return 0;
	for (int i = 0; i < na; i++)
		if (memcmp(&a[i], &b[i], sizeof *a))
			return 0;
	return 1;
}

static int cmp_rect(const void *x, const void *y)
{
	return memcmp(x, y, sizeof(struct vb_rect));
}

/* Calls in parallel on one cascade, each on its own width (so its own row
 * stride and stump tables, replaced under the others' feet), 20 times. */
struct par {
	const struct vb_haar *c;
	const struct vb_image *im;
	int w, n, same;
	struct vb_rect *want;
};

static void *par_run(void *arg)
{
	struct par *a = arg;
	struct vb_haar_params p;
	vb_haar_params_init(&p);
	p.min_neighbors = 0;
	a->same = 1;
	for (int k = 0; k < 20; k++) {
		struct vb_rect *r = NULL;
		int n = vb_haar_detect(a->c, a->im->px, a->w, a->im->h, a->im->w, &p, &r);
		a->same &= n == a->n && (n <= 0 || !memcmp(r, a->want, (size_t)n * sizeof *r));
		free(r);
	}
	return NULL;
}

static void parallel_calls(const struct vb_haar *c, const struct vb_image *im)
{
	enum { T = 4 };
	struct par a[T];
	pthread_t th[T];
	struct vb_haar_params p;
	vb_haar_params_init(&p);
	p.min_neighbors = 0;
	for (int i = 0; i < T; i++) {
		a[i] = (struct par){c, im, im->w - 97 * i, 0, 0, NULL};
		a[i].n = vb_haar_detect(c, im->px, a[i].w, im->h, im->w, &p, &a[i].want);
	}
	int started = 0;
	while (started < T && pthread_create(&th[started], NULL, par_run, &a[started]) == 0)
		started++;
	int same = started == T;
	for (int i = 0; i < started; i++) {
		pthread_join(th[i], NULL);
		same &= a[i].same;
	}
	ok(same, "%d threads calling at once on widths %d-%d: each its own hits, 20 times over", T,
	   a[T - 1].w, a[0].w);
	for (int i = 0; i < T; i++)
		free(a[i].want);
}

int main(void)
{
	struct vb_haar *c;
	struct vb_haar_params p;
	struct vb_rect *r = NULL;
	int n, w, h;

	/* --- loading errors ------------------------------------------------ */
	ok(!vb_haar_load("/nonexistent/cascade.xml") &&
	   strstr(vb_err_msg(), "cannot open '/nonexistent/cascade.xml'") != NULL,
	   "missing file: error names it (%s)", vb_err_msg());
	ok(!load_str("not xml at all") && strstr(vb_err_msg(), "not XML") != NULL,
	   "not XML (%s)", vb_err_msg());
	ok(!load_str("<opencv_storage><x>1</x></opencv_storage>") &&
	   strstr(vb_err_msg(), "not an OpenCV cascade") != NULL, "no cascade (%s)", vb_err_msg());
	ok(!load_edit("BOOST", "GAB") && strstr(vb_err_msg(), "BOOST") != NULL,
	   "stage type other than BOOST (%s)", vb_err_msg());
	ok(!load_edit("<featureType>HAAR</featureType>", "") &&
	   strstr(vb_err_msg(), "no <stageType>/<featureType>") != NULL,
	   "no feature type (%s)", vb_err_msg());
	ok(!load_edit("3 0 3 6 1.", "4 0 3 6 1.") && strstr(vb_err_msg(), "bad rectangle") != NULL,
	   "feature outside the window (%s)", vb_err_msg());
	ok(!load_edit("0 -1 0 0.", "0 -1 1 0.") && strstr(vb_err_msg(), "feature 1 of 1") != NULL,
	   "node refers to a missing feature (%s)", vb_err_msg());
	ok(!load_edit("-1. 1.</leaf", "-1.</leaf") && strstr(vb_err_msg(), "malformed") != NULL,
	   "leaf count does not match the nodes (%s)", vb_err_msg());
	ok(!load_edit("0 -1 0 0.", "1 -1 0 0.") && strstr(vb_err_msg(), "malformed") != NULL,
	   "a node pointing to itself is refused (%s)", vb_err_msg());
	ok(!load_edit("<width>6</width>", "<width>x</width>") && strstr(vb_err_msg(), "width") != NULL,
	   "bad window width (%s)", vb_err_msg());
	ok(!load_str("") && strstr(vb_err_msg(), "empty") != NULL, "empty input (%s)", vb_err_msg());

	/* --- one stump, worked out by hand ---------------------------------- */
	c = load_str(edge_xml);
	ok(c != NULL, "hand-written cascade loads (%s)", c ? "" : vb_err_msg());
	if (!c)
		return tap_done();
	vb_haar_window(c, &w, &h);
	ok(w == 6 && h == 6 && !strcmp(vb_haar_feature_type(c), "HAAR") && vb_haar_nstages(c) == 1,
	   "window 6x6, HAAR, 1 stage");
	/* 40 x 30: black, white from column 20 on.  Only scale 1 (max 6x6),
	 * step 2: the inner 4x4 area has contrast only for x = 16, 18, and
	 * there the right half is brighter: hits at x 16 and 18, y 0..24. */
	uint8_t img[30 * 40];
	for (int y = 0; y < 30; y++)
		for (int x = 0; x < 40; x++)
			img[y * 40 + x] = x >= 20 ? 255 : 0;
	vb_haar_params_init(&p);
	p.max_w = p.max_h = 6;
	p.min_neighbors = 0;
	struct vb_rect want[26];
	for (int k = 0; k < 13; k++) {
		want[2 * k] = (struct vb_rect){16, 2 * k, 6, 6};
		want[2 * k + 1] = (struct vb_rect){18, 2 * k, 6, 6};
	}
	qsort(want, 26, sizeof *want, cmp_rect);
	/* weights -1 and 1 make an edge of integer corners; with 1.5 on the
	 * right the vector evaluator reads rectangles instead: the same hits */
	struct vb_haar *c15 = load_edit("<_>3 0 3 6 1.</_>", "<_>3 0 3 6 1.5</_>");
	/* as in OpenCV, a stump's leaves are taken in order whatever its node's
	 * pointers say: "-1 0" still means the first leaf below the threshold */
	struct vb_haar *csw = load_edit("0 -1 0 0.", "-1 0 0 0.");
	struct vb_haar *const cs[] = { c, c15, csw };
	static const char *const what[] = { "", ", right weight 1.5", ", leaf pointers swapped" };
	for (int i = 0; i < 6; i++) {
		p.simd = i & 1;
		n = cs[i / 2] ? vb_haar_detect(cs[i / 2], img, 40, 30, 40, &p, &r) : -1;
		if (n > 0)
			qsort(r, (size_t)n, sizeof *r, cmp_rect);
		ok(n == 26 && same_rects(r, n, want, 26), "%s evaluator%s: 26 raw hits on the edge (got %d)",
		   p.simd ? "vector" : "plain", what[i / 2], n);
		if (n >= 0)
			free(r);
	}
	vb_haar_free(c15);
	vb_haar_free(csw);
	/* the header after the stages and features: read all the same */
	{
		static char late[4096];
		const char *ft = "<featureType>HAAR</featureType>", *at = strstr(edge_xml, ft);
		const char *end = strstr(edge_xml, "</cascade>");
		snprintf(late, sizeof late, "%.*s%.*s%s%s", (int)(at - edge_xml), edge_xml,
		         (int)(end - at - strlen(ft)), at + strlen(ft), ft, end);
		struct vb_haar *cl = load_str(late);
		n = cl ? vb_haar_detect(cl, img, 40, 30, 40, &p, &r) : -1;
		if (n > 0)
			qsort(r, (size_t)n, sizeof *r, cmp_rect);
		ok(n == 26 && same_rects(r, n, want, 26), "<featureType> after <features>: 26 raw hits (got %d%s%s)",
		   n, cl ? "" : ", ", cl ? "" : vb_err_msg());
		if (n >= 0)
			free(r);
		vb_haar_free(cl);
	}
	p.simd = 1;
	/* mirrored: the dark side on the right is never accepted */
	for (int i = 0; i < 30 * 40; i++)
		img[i] = 255 - img[i];
	n = vb_haar_detect(c, img, 40, 30, 40, &p, &r);
	is_int(n, 0, "mirrored edge: no hit");
	free(r);
	/* a flat image has no contrast: nothing passes the variance test */
	memset(img, 128, sizeof img);
	n = vb_haar_detect(c, img, 40, 30, 40, &p, &r);
	is_int(n, 0, "flat image: no hit");
	free(r);
	/* smaller than the window: nothing, no error */
	n = vb_haar_detect(c, img, 5, 5, 40, &p, &r);
	is_int(n, 0, "image smaller than the window");
	p.scale_factor = 1.0;
	n = vb_haar_detect(c, img, 40, 30, 40, &p, &r);
	ok(n < 0 && strstr(vb_err_msg(), "parameters"), "scale factor 1 is refused");
	vb_haar_free(c);

	/* --- grouping ------------------------------------------------------- */
	{
		struct vb_rect g[16];
		int k = 0, wt[16];
		for (int i = 0; i < 6; i++)
			g[k++] = (struct vb_rect){10, 10, 20, 20};
		for (int i = 0; i < 4; i++)
			g[k++] = (struct vb_rect){15, 15, 6, 6};
		g[k++] = (struct vb_rect){100, 100, 20, 20};
		g[k++] = (struct vb_rect){101, 100, 20, 20};
		n = vb_haar_group(g, k, 3, 0.2, wt);
		ok(n == 1 && g[0].x == 10 && g[0].y == 10 && g[0].w == 20 && wt[0] == 6,
		   "small group inside a better supported one is dropped; pairs are dropped");
		k = 0;
		for (int i = 0; i < 4; i++)
			g[k++] = (struct vb_rect){10, 10, 20, 20};
		for (int i = 0; i < 4; i++)
			g[k++] = (struct vb_rect){15, 15, 6, 6};
		n = vb_haar_group(g, k, 3, 0.2, wt);
		is_int(n, 2, "inner group with equal support is kept");
		k = 0;
		g[k++] = (struct vb_rect){10, 10, 20, 20};
		g[k++] = (struct vb_rect){12, 10, 20, 20};
		g[k++] = (struct vb_rect){10, 12, 20, 20};
		g[k++] = (struct vb_rect){12, 12, 22, 22};
		n = vb_haar_group(g, k, 3, 0.2, NULL);
		ok(n == 1 && g[0].x == 11 && g[0].y == 11 && g[0].w == 20 && g[0].h == 20,
		   "group average rounds half to even: 11,11,20,20 (got %d,%d,%d,%d)",
		   g[0].x, g[0].y, g[0].w, g[0].h);
		k = 0;
		g[k++] = (struct vb_rect){0, 0, 10, 10};
		g[k++] = (struct vb_rect){3, 0, 10, 10};   /* 0.2 * 10 = 2 < 3: apart */
		n = vb_haar_group(g, k, 0, 0.2, wt);
		is_int(n, 2, "threshold 0 keeps every box");
		n = vb_haar_group(g, 2, 0 + 1, 0.2, wt);
		is_int(n, 0, "boxes 3 apart are not grouped");
		k = 0;
		g[k++] = (struct vb_rect){0, 0, 10, 10};
		g[k++] = (struct vb_rect){2, 0, 10, 10};
		g[k++] = (struct vb_rect){4, 0, 10, 10};   /* 4 from the first, 2 from the second */
		n = vb_haar_group(g, k, 2, 0.2, wt);
		ok(n == 1 && wt[0] == 3 && g[0].x == 2, "similarity chains: one group of 3 at x 2");
		struct vb_rect a = {0, 0, 10, 10}, b = {5, 0, 10, 10};
		is_dbl(vb_rect_iou(&a, &b), 1.0 / 3, 1e-12, "IoU of half-overlapping boxes is 1/3");
	}

	/* --- vector evaluator == plain evaluator on a real photograph -------- */
	/* Between them these cascades use all three corner forms of the vector
	 * evaluator (edge, line, diagonal of either sign). */
	static const char *const cascades[] = {
		"haarcascade_frontalface_default", "haarcascade_frontalface_alt",
		"haarcascade_eye", "haarcascade_profileface",
	};
	const char *data = getenv("VB_DATA");
	char path[1024];
	snprintf(path, sizeof path, "%s/faces/debian/messi5.jpg", data ? data : "");
	struct vb_image *im = data ? vb_image_load(path, VB_IMG_GRAY) : NULL;
	for (int ci = 0; ci < 4; ci++) {
		char cpath[1024];
		snprintf(cpath, sizeof cpath, "%s/cascades/%s.xml", data ? data : "", cascades[ci]);
		struct vb_haar *fc = im ? vb_haar_load(cpath) : NULL;
		int ntests = ci == 0 ? 6 : 1;
		if (!im || !fc) {
			printf("ok %d # SKIP no photograph or cascade under VB_DATA\n", ++tap_n);
			for (int i = 1; i < ntests; i++)
				printf("ok %d # SKIP\n", ++tap_n);
			vb_haar_free(fc);
			continue;
		}
		struct vb_rect *a = NULL, *b = NULL;
		vb_haar_params_init(&p);
		p.min_neighbors = 0;
		p.simd = 0;
		int na = vb_haar_detect(fc, im->px, im->w, im->h, im->w, &p, &a);
		p.simd = 1;
		int nb = vb_haar_detect(fc, im->px, im->w, im->h, im->w, &p, &b);
		if (ci == 0) {
			/* threads share the scales; the hits come out in the same order */
			static const int nts[] = {2, 3, 64};
			for (int i = 0; i < 3; i++) {
				struct vb_rect *t = NULL;
				p.threads = nts[i];
				int nt = vb_haar_detect(fc, im->px, im->w, im->h, im->w, &p, &t);
				ok(nt == nb && (nb <= 0 || !memcmp(t, b, (size_t)nb * sizeof *b)),
				   "%d threads: the same %d raw hits in the same order (got %d)", nts[i], nb, nt);
				free(t);
			}
			ok(na > 20, "plain evaluator: raw hits on messi5.jpg (%d)", na);
			parallel_calls(fc, im);
		}
		if (na > 0)
			qsort(a, (size_t)na, sizeof *a, cmp_rect);
		if (nb > 0)
			qsort(b, (size_t)nb, sizeof *b, cmp_rect);
		ok(na > 0 && same_rects(a, na, b, nb), "%s: the vector code (resizing, evaluator) finds the same %d raw hits (got %d)",
		   cascades[ci], na, nb);
		free(a);
		free(b);
		vb_haar_free(fc);
	}
	vb_image_free(im);
	return tap_done();
}
