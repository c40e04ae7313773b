/* haar.c - OpenCV cascade files (libxml2) and multi-scale detection.
 *
 * The evaluation follows OpenCV 4's cascadedetect.cpp step by step so the
 * boxes agree: scales 1, f, f^2 ... while the window fits; per scale the
 * image is shrunk with OpenCV's bit-exact bilinear resize (INTER_LINEAR_EXACT,
 * 8.8 fixed-point weights) to round(W / s) x round(H / s) and the fixed-size
 * cascade runs over it with a step of 2 pixels below scale 2 and 1 above;
 * a window rejected by the first stage makes the next one be skipped;
 * windows whose inner area has a standard deviation of 10 or less are
 * rejected; feature values are float, stage sums double, stage thresholds
 * lowered by 1e-5.  Hits are then grouped as groupRectangles does.
 *
 * Two evaluators compute the same thing: a plain one for every cascade
 * kind, and for upright Haar stumps (the frontal-face cascades) an AVX2 one
 * that runs 8 neighbouring windows per vector; a row's vectors go through
 * the cascade together, stage by stage, each stage over the vectors with a
 * window still alive.  For it the integral images of step-2 scales are
 * stored with even and odd columns apart, so 8 windows two pixels apart
 * read 8 consecutive integers.
 */
/* The evaluators are measurably faster (about 6%) with these than at -O2. */
#pragma GCC optimize("O3", "unroll-loops")

#include "haar.h"
#include "err.h"

#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlreader.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_AVX2_KERNEL 1
#endif

enum { FT_HAAR, FT_LBP };

/* The vector evaluator reads a Haar feature either as up to three weighted
 * rectangles (VS_RECTS) or, when the weights are small integers as in all of
 * OpenCV's Haar cascades, as corners of the integral image with integer
 * coefficients.  Rectangles sharing an edge share corners, so the three usual
 * shapes read 6, 8 and 9 words instead of 8, 8 and 12, and their sum is one
 * integer converted to float once (c0..c8: the corners in struct feat's order):
 *   VS_EDGE   c0 - c1 + c2 - c3 + 2 (c4 - c5)
 *   VS_LINE   c0 - c1 + c2 - c3 + 3 (c4 - c5 + c6 - c7)
 *   VS_DIAG   c0 + c1 + c2 + c3 - 2 (c4 + c5 + c6 + c7) + 4 c8, negated if neg
 * OpenCV sums weight * (float)rectangle sum in float; with integer weights
 * and sum |weight| * area * 255 below 2^24 every product and partial sum is
 * an integer float can hold, so that float is exactly this integer. */
enum { VS_EDGE, VS_LINE, VS_DIAG, VS_RECTS };

struct feat {
	int nr;          /* rectangles used (Haar) */
	int tilted;
	int r[3][4];     /* x y w h; LBP uses r[0] as one block of the 3x3 grid */
	float w[3];
	/* upright Haar: the feature as corners, VS_RECTS if it has no such form */
	int kind, neg, ncorners;
	int16_t cx[9], cy[9];
};

struct node {
	int left, right, feat;
	float thr;       /* ordered features */
	int subset;      /* categorical: index of the first subset word */
};

struct tree {
	int first_node, nnodes, first_leaf;
};

struct stage {
	int first_tree, ntrees;
	float thr;       /* file threshold minus 1e-5, as OpenCV */
};

struct vb_haar {
	int type;
	int winw, winh;
	int ncat, subset_size;
	int nstages, ntrees, nnodes, nleaves, nfeats, nsubsets;
	struct stage *stages;
	struct tree *trees;
	struct node *nodes;
	float *leaves;
	int32_t *subsets;
	struct feat *feats;
	int stumps;      /* every tree is one node */
	int tilted;      /* some feature is tilted */
	/* the vector evaluator's tables for the last row stride, shared by
	 * the calls that use it (tables_get) */
	pthread_mutex_t mu;
	struct vtab *tab;
};

static void tab_free(struct vtab *t);

/* ---------------------------------------------------------------------- */
/* Loading                                                                 */

static xmlNode *child(xmlNode *n, const char *name)
{
	for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && xmlStrEqual(c->name, (const xmlChar *)name))
			return c;
	return NULL;
}

static xmlNode *first_elem(xmlNode *n)
{
	for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			return c;
	return NULL;
}

static xmlNode *next_elem(xmlNode *n)
{
	for (n = n->next; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE)
			return n;
	return NULL;
}

/* A growable list of numbers parsed from an element's text. */
struct nums {
	double *v;
	int n, cap;
};

/* A plain decimal ([-+]digits[.digits][(e|E)[-+]digits]) of at most 19
 * significant digits, read as strtod reads it: the digits m (below 2^64)
 * times or over a power of ten 10^k exact in the arithmetic used, so that
 * the one operation rounds once.  With m below 2^53 and k up to 22 that is
 * double arithmetic and the result is strtod's.  Else (OpenCV writes 17
 * digits) it is x87 extended precision, 64 bits, k up to 27, and rounding
 * that to double gives strtod's result unless the extended value lies
 * within one of its units of halfway between two doubles: those, and all
 * else, are left to strtod (0; also when s is not followed by a space or
 * the end).  strtod was a fifth of a cascade's reading. */
static int fast_decimal(const char *s, double *d, char **end)
{
	static const double p10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
	                             1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
	                             1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
	const char *p = s;
	uint64_t m = 0;
	int neg = 0, nd = 0, sig = 0, e = 0;

	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	for (; *p >= '0' && *p <= '9'; p++, nd++) {
		if (sig == 19)
			return 0;
		m = 10 * m + (uint64_t)(*p - '0');
		sig += m != 0;
	}
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++, nd++, e--) {
			if (sig == 19)
				return 0;
			m = 10 * m + (uint64_t)(*p - '0');
			sig += m != 0;
		}
	if (nd == 0)
		return 0;
	if (*p == 'e' || *p == 'E') {
		int en = 0, x = 0, k = 0;
		p++;
		if (*p == '-' || *p == '+')
			en = *p++ == '-';
		for (; *p >= '0' && *p <= '9'; p++, k++)
			if (k == 4 || (x = 10 * x + (*p - '0')) > 400)
				return 0;
		if (k == 0)
			return 0;
		e += en ? -x : x;
	}
	if (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
		return 0;
	double v;
	if (!(m >> 53) && e >= -22 && e <= 22) {
		v = e < 0 ? (double)m / p10[-e] : (double)m * p10[e];
	} else {
#if defined(__x86_64__) && LDBL_MANT_DIG == 64
		if (e < -27 || e > 27 || !m)
			return 0;
		long double t = 1;
		for (int k = e < 0 ? -e : e; k > 0; k--)
			t *= 10;   /* exact up to 10^27 */
		long double x = e < 0 ? (long double)m / t : (long double)m * t;
		uint64_t bits;
		memcpy(&bits, &x, sizeof bits);   /* the 64-bit significand */
		unsigned low = (unsigned)(bits & 0x7ff);
		if (low >= 0x3ff && low <= 0x401)
			return 0;
		v = (double)x;
		if (!isnormal(v))
			return 0;
#else
		return 0;
#endif
	}
	*d = neg ? -v : v;
	*end = (char *)p;
	return 1;
}

/* Parse the whitespace-separated numbers of node's text into *out
 * (replacing its contents).  -1 on a malformed number or no memory. */
static int parse_nums(xmlNode *node, struct nums *out, const char *what)
{
	xmlChar *txt = xmlNodeGetContent(node);
	const char *s = (const char *)txt;

	out->n = 0;
	if (!txt)
		return vb_err_set("%s: no text", what);
	for (;;) {
		char *end;
		double d;

		while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
			s++;
		if (!*s)
			break;
		errno = 0;
		if (!fast_decimal(s, &d, &end))
			d = strtod(s, &end);
		if (end == s || !isfinite(d) || (*end && *end != ' ' && *end != '\t' &&
		                                  *end != '\n' && *end != '\r')) {
			xmlFree(txt);
			return vb_err_set("%s: bad number", what);
		}
		if (out->n == out->cap) {
			int nc = out->cap ? 2 * out->cap : 16;
			double *nv = realloc(out->v, (size_t)nc * sizeof *nv);
			if (!nv) {
				xmlFree(txt);
				return vb_err_set("out of memory");
			}
			out->v = nv;
			out->cap = nc;
		}
		out->v[out->n++] = d;
		s = end;
	}
	xmlFree(txt);
	return 0;
}

/* An integer element (e.g. <width>24</width>) within [lo, hi]. */
static int get_int(xmlNode *parent, const char *name, long lo, long hi, int *out)
{
	xmlNode *n = child(parent, name);
	struct nums v = {0};

	if (!n)
		return vb_err_set("no <%s>", name);
	if (parse_nums(n, &v, name) < 0) {
		free(v.v);
		return -1;
	}
	if (v.n != 1 || v.v[0] != floor(v.v[0]) || v.v[0] < lo || v.v[0] > hi) {
		free(v.v);
		return vb_err_set("<%s> must be an integer in %ld..%ld", name, lo, hi);
	}
	*out = (int)v.v[0];
	free(v.v);
	return 0;
}

static int is_int32(double d)
{
	return d == floor(d) && d >= INT32_MIN && d <= INT32_MAX;
}

static int text_is(xmlNode *parent, const char *name, const char *want)
{
	xmlNode *n = child(parent, name);
	xmlChar *t;
	int ok;

	if (!n)
		return 0;
	t = xmlNodeGetContent(n);
	if (!t)
		return 0;
	{
		const char *s = (const char *)t;
		size_t k = strlen(want);
		while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
			s++;
		ok = !strncmp(s, want, k);
		s += ok ? k : 0;
		while (ok && *s)
			if (*s != ' ' && *s != '\n' && *s != '\t' && *s != '\r')
				ok = 0;
			else
				s++;
	}
	xmlFree(t);
	return ok;
}

/* f's rectangles as corners with integer coefficients, in the order of
 * f->kind (VS_RECTS when no form fits). */
static void classify_corners(struct feat *f)
{
	int x[12], y[12], coef[12], n = 0;
	double bound = 0;

	f->kind = VS_RECTS;
	f->ncorners = 0;
	if (f->tilted)
		return;
	for (int k = 0; k < f->nr; k++) {
		float w = f->w[k];
		if (w != rintf(w) || fabsf(w) > 16)
			return;
		bound += fabsf(w) * f->r[k][2] * f->r[k][3] * 255.0;
		for (int j = 0; j < 4; j++) {
			int X = f->r[k][0] + (j & 1) * f->r[k][2], Y = f->r[k][1] + (j >> 1) * f->r[k][3];
			int m = 0;
			while (m < n && (x[m] != X || y[m] != Y))
				m++;
			if (m == n) {
				x[n] = X, y[n] = Y, coef[n] = 0;
				n++;
			}
			coef[m] += (j == 0 || j == 3 ? 1 : -1) * (int)w;
		}
	}
	if (bound >= 16777216.0)
		return;
	/* corners by coefficient, -4..4; at most 4 of each */
	int at[9][4], cnt[9] = { 0 }, used = 0;
	for (int j = 0; j < n; j++) {
		if (!coef[j])
			continue;
		if (coef[j] < -4 || coef[j] > 4 || cnt[coef[j] + 4] == 4)
			return;
		at[coef[j] + 4][cnt[coef[j] + 4]++] = j;
		used++;
	}
#define N(k) cnt[(k) + 4]
#define A(k, i) at[(k) + 4][i]
	int order[9], sign = 1;
	if (used == 6 && N(1) == 2 && N(-1) == 2 && N(2) == 1 && N(-2) == 1) {
		int o[] = { A(1, 0), A(-1, 0), A(1, 1), A(-1, 1), A(2, 0), A(-2, 0) };
		memcpy(order, o, sizeof o);
		f->kind = VS_EDGE;
	} else if (used == 8 && N(1) == 2 && N(-1) == 2 && N(3) == 2 && N(-3) == 2) {
		int o[] = { A(1, 0), A(-1, 0), A(1, 1), A(-1, 1), A(3, 0), A(-3, 0), A(3, 1), A(-3, 1) };
		memcpy(order, o, sizeof o);
		f->kind = VS_LINE;
	} else if (used == 9 && (N(1) == 4 || N(-1) == 4)) {
		sign = N(1) == 4 ? 1 : -1;
		if (N(sign) != 4 || N(-2 * sign) != 4 || N(4 * sign) != 1)
			return;
		for (int i = 0; i < 4; i++) {
			order[i] = A(sign, i);
			order[4 + i] = A(-2 * sign, i);
		}
		order[8] = A(4 * sign, 0);
		f->kind = VS_DIAG;
		f->neg = sign < 0;
	} else {
		return;
	}
#undef N
#undef A
	for (int i = 0; i < used; i++) {
		f->cx[i] = (int16_t)x[order[i]];
		f->cy[i] = (int16_t)y[order[i]];
	}
	f->ncorners = used;
}

/* Room for n more of c->field (count c->count, capacity *cap). */
#define GROW(field, count, cap, n, first)                                          \
	do {                                                                        \
		while ((count) + (n) > (cap)) {                                     \
			int nc_ = (cap) ? 2 * (cap) : (first);                      \
			void *p_ = realloc((field), (size_t)nc_ * sizeof *(field)); \
			if (!p_)                                                    \
				return vb_err_set("out of memory");                \
			(field) = p_;                                               \
			(cap) = nc_;                                                \
		}                                                                   \
	} while (0)

/* Capacities of the growing arrays while the cascade is read. */
struct caps {
	int feats, stages, trees, nodes, leaves, subsets;
};

/* One <_> of <features>: feature c->nfeats. */
static int parse_feature(struct vb_haar *c, xmlNode *f, struct caps *cap, struct nums *v)
{
	int i = c->nfeats;

	GROW(c->feats, c->nfeats, cap->feats, 1, 256);
	struct feat *ft = &c->feats[i];
	memset(ft, 0, sizeof *ft);
	c->nfeats++;
	if (c->type == FT_LBP) {
		xmlNode *r = child(f, "rect");
		if (!r || parse_nums(r, v, "rect") < 0 || v->n != 4)
			goto bad;
		for (int k = 0; k < 4; k++) {
			if (!is_int32(v->v[k]))
				goto bad;
			ft->r[0][k] = (int)v->v[k];
		}
		/* the whole 3 x 3 grid of blocks must lie in the window */
		if (ft->r[0][0] < 0 || ft->r[0][1] < 0 || ft->r[0][2] <= 0 ||
		    ft->r[0][3] <= 0 || ft->r[0][2] > c->winw || ft->r[0][3] > c->winh ||
		    ft->r[0][0] + 3 * ft->r[0][2] > c->winw ||
		    ft->r[0][1] + 3 * ft->r[0][3] > c->winh)
			goto bad;
		return 0;
	}
	xmlNode *rs = child(f, "rects");
	int k = 0;
	if (!rs)
		goto bad;
	ft->tilted = text_is(f, "tilted", "1");
	for (xmlNode *r = first_elem(rs); r; r = next_elem(r), k++) {
		if (k >= 3 || parse_nums(r, v, "rects") < 0 || v->n != 5)
			goto bad;
		for (int j = 0; j < 4; j++) {
			if (!is_int32(v->v[j]) || v->v[j] < 0 || v->v[j] > 100000)
				goto bad;
			ft->r[k][j] = (int)v->v[j];
		}
		ft->w[k] = (float)v->v[4];
		int x = ft->r[k][0], y = ft->r[k][1], w = ft->r[k][2], h = ft->r[k][3];
		if (ft->tilted) {
			/* the rotated rectangle reaches (x - h, y + w + h) */
			if (x - h < 0 || x + w > c->winw || y + w + h > c->winh)
				goto bad;
		} else if (x + w > c->winw || y + h > c->winh) {
			goto bad;
		}
	}
	if (k == 0)
		goto bad;
	ft->nr = k;
	if (ft->tilted)
		c->tilted = 1;
	classify_corners(ft);
	return 0;
bad:
	return vb_err_set("feature %d: bad rectangle", i);
}

/* One <_> of <stages>: stage c->nstages. */
static int parse_stage(struct vb_haar *c, xmlNode *s, struct caps *cap, struct nums *in, struct nums *lv)
{
	int node_step = 3 + (c->ncat > 0 ? c->subset_size : 1);
	int si = c->nstages;

	GROW(c->stages, c->nstages, cap->stages, 1, 32);
	c->nstages++;
	xmlNode *th = child(s, "stageThreshold"), *wc = child(s, "weakClassifiers");
	if (!th || !wc || parse_nums(th, in, "stageThreshold") < 0 || in->n != 1)
		goto bad;
	c->stages[si].thr = (float)in->v[0] - 1e-5f;
	c->stages[si].first_tree = c->ntrees;
	for (xmlNode *w = first_elem(wc); w; w = next_elem(w)) {
		xmlNode *inn = child(w, "internalNodes"), *lvn = child(w, "leafValues");
		if (!inn || !lvn || parse_nums(inn, in, "internalNodes") < 0 ||
		    parse_nums(lvn, lv, "leafValues") < 0)
			goto bad;
		int nn = in->n / node_step;
		if (nn <= 0 || in->n % node_step || lv->n != nn + 1)
			goto bad;
		GROW(c->trees, c->ntrees, cap->trees, 1, 256);
		GROW(c->nodes, c->nnodes, cap->nodes, nn, 256);
		GROW(c->leaves, c->nleaves, cap->leaves, lv->n, 512);
		if (c->ncat > 0)
			GROW(c->subsets, c->nsubsets, cap->subsets, nn * c->subset_size, 1024);
		struct tree *t = &c->trees[c->ntrees++];
		t->first_node = c->nnodes;
		t->nnodes = nn;
		t->first_leaf = c->nleaves;
		if (nn > 1)
			c->stumps = 0;
		for (int k = 0; k < nn; k++) {
			const double *v = in->v + k * node_step;
			struct node *nd = &c->nodes[c->nnodes++];
			if (!is_int32(v[0]) || !is_int32(v[1]) || !is_int32(v[2]))
				goto bad;
			nd->left = (int)v[0];
			nd->right = (int)v[1];
			nd->feat = (int)v[2];
			/* children come after their parent: evaluation ends */
			if ((nd->left > 0 && (nd->left <= k || nd->left >= nn)) ||
			    (nd->right > 0 && (nd->right <= k || nd->right >= nn)) ||
			    -nd->left > nn || -nd->right > nn || nd->feat < 0)
				goto bad;
			if (c->ncat > 0) {
				nd->thr = 0;
				nd->subset = c->nsubsets;
				for (int j = 0; j < c->subset_size; j++) {
					if (!is_int32(v[3 + j]) && !(v[3 + j] == floor(v[3 + j]) &&
					                             v[3 + j] >= 0 && v[3 + j] <= UINT32_MAX))
						goto bad;
					c->subsets[c->nsubsets++] = (int32_t)(int64_t)v[3 + j];
				}
			} else {
				nd->thr = (float)v[3];
				nd->subset = -1;
			}
		}
		for (int k = 0; k < lv->n; k++)
			c->leaves[c->nleaves++] = (float)lv->v[k];
	}
	c->stages[si].ntrees = c->ntrees - c->stages[si].first_tree;
	if (c->stages[si].ntrees <= 0)
		goto bad;
	return 0;
bad:
	return vb_err_set("stage %d: malformed classifier", si);
}
#undef GROW

/* The elements of <cascade> other than <stages> and <features>. */
static int parse_header(struct vb_haar *c, xmlNode *top)
{
	if (!child(top, "stageType") || !child(top, "featureType"))
		return vb_err_set("not an OpenCV cascade (no <stageType>/<featureType>; "
		                  "old-style cascades are not supported)");
	if (!text_is(top, "stageType", "BOOST"))
		return vb_err_set("stage type is not BOOST");
	if (text_is(top, "featureType", "HAAR"))
		c->type = FT_HAAR;
	else if (text_is(top, "featureType", "LBP"))
		c->type = FT_LBP;
	else
		return vb_err_set("feature type is neither HAAR nor LBP");
	if (get_int(top, "width", 1, 4096, &c->winw) < 0 ||
	    get_int(top, "height", 1, 4096, &c->winh) < 0)
		return -1;
	if (c->winw < 3 || c->winh < 3)
		return vb_err_set("window of %d x %d is too small", c->winw, c->winh);
	if (get_int(child(top, "featureParams"), "maxCatCount", 0, 1 << 16, &c->ncat) < 0)
		return -1;
	c->subset_size = (c->ncat + 31) / 32;
	if (c->type == FT_LBP && c->ncat != 256)
		return vb_err_set("LBP cascade with maxCatCount %d (256 expected)", c->ncat);
	if (c->type == FT_HAAR && c->ncat != 0)
		return vb_err_set("Haar cascade with categorical splits");
	return 0;
}

/* A copy of n, added to the children of parent in document doc. */
static int keep(xmlNode *parent, xmlNode *n, xmlDoc *doc)
{
	xmlNode *copy = xmlDocCopyNode(n, doc, 1);

	if (!copy || !xmlAddChild(parent, copy)) {
		xmlFreeNode(copy);
		return vb_err_set("out of memory");
	}
	return 0;
}

/* The file's elements, taken as they stream past: the root, its first
 * child <cascade> (top), whose small elements are copied into a header tree,
 * and <stages> and <features>, whose items are expanded one at a time into a
 * subtree the reader frees as it moves on.  (A whole-document tree of the
 * 930 KB default cascade took three times as long to build, most of it
 * spent faulting in fresh memory.)  OpenCV writes the header first; should
 * <stages> or <features> come before it is complete, they are kept whole
 * and read at the end. */
static int parse_stream(struct vb_haar *c, xmlTextReaderPtr r)
{
	enum { NONE, STAGES, FEATURES } in = NONE;
	int seen_root = 0, seen_top = 0, header = 0, seen_st = 0, seen_ft = 0, rc = -1, ret;
	struct caps cap = {0};
	struct nums a = {0}, b = {0};
	xmlDoc *hd = xmlNewDoc((const xmlChar *)"1.0");
	xmlNode *top = xmlNewNode(NULL, (const xmlChar *)"cascade");
	xmlNode *later = xmlNewDocNode(hd, NULL, (const xmlChar *)"later", NULL);

	if (!hd || !top || !later) {
		xmlFreeNode(top);
		vb_err_set("out of memory");
		goto done;
	}
	xmlDocSetRootElement(hd, top);
	c->stumps = 1;
	ret = xmlTextReaderRead(r);
	while (ret == 1) {
		int d = xmlTextReaderDepth(r);
		if (xmlTextReaderNodeType(r) != XML_READER_TYPE_ELEMENT || d == 0) {
			seen_root |= d == 0 && xmlTextReaderNodeType(r) == XML_READER_TYPE_ELEMENT;
			ret = xmlTextReaderRead(r);
			continue;
		}
		if (d == 1) {
			/* the first element in the root is the cascade; others are skipped */
			if (seen_top) {
				ret = xmlTextReaderNext(r);
				continue;
			}
			seen_top = 1;
			ret = xmlTextReaderRead(r);
			continue;
		}
		const char *name = (const char *)xmlTextReaderConstLocalName(r);
		int list = d == 2 && name && (!strcmp(name, "stages") || !strcmp(name, "features"));
		if (list) {
			in = name[0] == 's' ? STAGES : FEATURES;
			seen_st |= in == STAGES;
			seen_ft |= in == FEATURES;
			header = header || parse_header(c, top) == 0;
			if (header) {
				ret = xmlTextReaderRead(r);
				continue;
			}
		}
		xmlNode *n = xmlTextReaderExpand(r);
		if (!n)
			break;
		if (d == 2) {
			in = NONE;
			if (keep(list ? later : top, n, hd) < 0)
				goto done;
		} else if (d == 3 && in == STAGES) {
			if (parse_stage(c, n, &cap, &a, &b) < 0)
				goto done;
		} else if (d == 3 && in == FEATURES) {
			if (parse_feature(c, n, &cap, &a) < 0)
				goto done;
		}
		ret = xmlTextReaderNext(r);
	}
	if (ret != 0) {
		const xmlError *e = xmlGetLastError();
		if (e && e->message) {
			char m[256];
			snprintf(m, sizeof m, "%s", e->message);
			m[strcspn(m, "\n")] = 0;
			if (e->line > 0)
				vb_err_set("not XML: %s (line %d)", m, e->line);
			else
				vb_err_set("not XML: %s", m);
		} else {
			vb_err_set("not XML");
		}
		goto done;
	}
	if (!seen_root || !seen_top) {
		vb_err_set("not an OpenCV cascade");
		goto done;
	}
	if (!header && parse_header(c, top) < 0)
		goto done;
	for (xmlNode *e = first_elem(later); e; e = next_elem(e))
		for (xmlNode *k = first_elem(e); k; k = next_elem(k))
			if ((e->name[0] == 's' ? parse_stage(c, k, &cap, &a, &b) : parse_feature(c, k, &cap, &a)) < 0)
				goto done;
	if (!seen_st || !seen_ft) {
		vb_err_set("no <stages> or <features>");
		goto done;
	}
	if (c->nfeats == 0 || c->nstages == 0) {
		vb_err_set(c->nfeats ? "no stages" : "no features");
		goto done;
	}
	for (int i = 0; i < c->nnodes; i++)
		if (c->nodes[i].feat >= c->nfeats) {
			vb_err_set("node refers to feature %d of %d", c->nodes[i].feat, c->nfeats);
			goto done;
		}
	/* In a cascade of stumps OpenCV takes each stump's first leaf below its
	 * threshold and the second above, whatever the node's pointers say. */
	if (c->stumps)
		for (int i = 0; i < c->nnodes; i++) {
			c->nodes[i].left = 0;
			c->nodes[i].right = -1;
		}
	rc = 0;
done:
	free(a.v);
	free(b.v);
	xmlFreeNode(later);
	xmlFreeDoc(hd);
	return rc;
}

static const int xml_opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                            XML_PARSE_NOBLANKS | XML_PARSE_HUGE;

/* A cascade file read in pieces; the reader is told of errors by -1. */
struct src {
	FILE *f;
	size_t n;      /* bytes so far */
	int err;       /* errno of a failed read, or EFBIG */
};

static int src_read(void *ctx, char *buf, int len)
{
	struct src *s = ctx;
	size_t k = fread(buf, 1, (size_t)len, s->f);

	if (k == 0 && ferror(s->f)) {
		s->err = errno ? errno : EIO;
		return -1;
	}
	s->n += k;
	if (s->n > ((size_t)256 << 20)) {
		s->err = EFBIG;
		return -1;
	}
	return (int)k;
}

/* libxml2 prints some errors (bad encodings) whatever the parse options say;
 * they are reported through xmlGetLastError instead. */
static void quiet(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

static struct vb_haar *load_reader(xmlTextReaderPtr r, const char *name, const struct src *s)
{
	struct vb_haar *c = NULL;

	if (!r)
		return vb_err_set("out of memory"), NULL;
	xmlGenericErrorFunc say = xmlGenericError;
	void *say_ctx = xmlGenericErrorContext;
	xmlSetGenericErrorFunc(NULL, quiet);
	c = calloc(1, sizeof *c);
	if (c)
		pthread_mutex_init(&c->mu, NULL);
	if (!c)
		vb_err_set("out of memory");
	else if (parse_stream(c, r) < 0) {
		vb_haar_free(c);
		c = NULL;
		if (s && s->err == EFBIG)
			vb_err_set("%s: file too large", name);
		else if (s && s->err)
			errno = s->err, vb_err_sys("cannot read '%s'", name);
		else if (s && s->n == 0)
			vb_err_set("%s: empty file", name);
		else
			vb_err_prefix("%s", name);
	}
	xmlFreeTextReader(r);
	xmlSetGenericErrorFunc(say_ctx, say);
	return c;
}

struct vb_haar *vb_haar_load(const char *path)
{
	struct src s = { .f = fopen(path, "rb") };

	if (!s.f)
		return vb_err_sys("cannot open '%s'", path), NULL;
	xmlResetLastError();
	struct vb_haar *c = load_reader(xmlReaderForIO(src_read, NULL, &s, path, NULL, xml_opts), path, &s);
	fclose(s.f);
	return c;
}

struct vb_haar *vb_haar_load_mem(const void *buf, size_t n, const char *name)
{
	if (n == 0)
		return vb_err_set("%s: empty file", name), NULL;
	if (n > INT_MAX)
		return vb_err_set("%s: file too large", name), NULL;
	xmlResetLastError();
	return load_reader(xmlReaderForMemory(buf, (int)n, name, NULL, xml_opts), name, NULL);
}

void vb_haar_free(struct vb_haar *c)
{
	if (!c)
		return;
	free(c->stages);
	free(c->trees);
	free(c->nodes);
	free(c->leaves);
	free(c->subsets);
	free(c->feats);
	tab_free(c->tab);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

void vb_haar_window(const struct vb_haar *c, int *w, int *h)
{
	*w = c->winw;
	*h = c->winh;
}

const char *vb_haar_feature_type(const struct vb_haar *c)
{
	return c->type == FT_LBP ? "LBP" : "HAAR";
}

int vb_haar_nstages(const struct vb_haar *c)
{
	return c->nstages;
}

void vb_haar_params_init(struct vb_haar_params *p)
{
	p->scale_factor = 1.1;
	p->min_neighbors = 3;
	p->min_w = p->min_h = p->max_w = p->max_h = 0;
	p->simd = 1;
	p->threads = 1;
}

/* ---------------------------------------------------------------------- */
/* Pyramid level: bit-exact bilinear shrinking (OpenCV INTER_LINEAR_EXACT)  */

static int cpu_has_avx2(void)
{
#ifdef HAVE_AVX2_KERNEL
	static int known = -1;
	if (known < 0) {
		__builtin_cpu_init();
		known = __builtin_cpu_supports("avx2") ? 1 : 0;
	}
	return known;
#else
	return 0;
#endif
}

/* AVX-512 VBMI with BW and VL: byte permutes and masked byte loads. */
static int cpu_has_vbmi(void)
{
#ifdef HAVE_AVX2_KERNEL
	static int known = -1;
	if (known < 0) {
		__builtin_cpu_init();
		known = __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("avx512bw") &&
		        __builtin_cpu_supports("avx512vl");
	}
	return known;
#else
	return 0;
#endif
}

struct lin {
	int *ofs;        /* source index of the left/top sample */
	uint16_t *c0, *c1; /* 8.8 fixed-point weights */
	uint32_t *c01;   /* c0 | c1 << 16, for the vector loops (X only) */
	uint8_t *sel;    /* for hrow_vbmi (X only, else NULL): see vbmi_sel */
	int lo, hi;      /* [0, lo): first sample only; [hi, n): last sample */
	int wide;        /* sel reaches past a block's first 64 source bytes */
};

/* Coefficients for n destination samples from m source samples. */
static void lin_coeffs(struct lin *L, int m, int n)
{
	double inv = (double)n / m, scale = 1.0 / inv;

	L->lo = 0;
	L->hi = n;
	for (int d = 0; d < n; d++) {
		volatile double t = scale * ((double)d + 0.5);
		double f = t - 0.5;
		int i = (int)floor(f);
		L->ofs[d] = 0;
		L->c0[d] = 256;
		L->c1[d] = 0;
		if (i >= 0 && m > 1) {
			if (i < m - 1) {
				L->ofs[d] = i;
				double fr = (f - i) * 256.0;
				long c = lrint(fr);
				if (c < 0)
					c = 0;
				if (c > 65535)
					c = 65535;
				L->c1[d] = (uint16_t)c;
				L->c0[d] = (uint16_t)(256 - c);
			} else {
				L->ofs[d] = m - 1;
				if (d < L->hi)
					L->hi = d;
			}
		} else if (d + 1 > L->lo) {
			L->lo = d + 1;
		}
	}
}

#ifdef HAVE_AVX2_KERNEL
/* hrow's interpolation for d from d0 on, 8 at a time, while the 4 bytes at
 * each source index lie in the row: returns where it stopped. */
__attribute__((target("avx2"))) static int hrow_avx2(const uint8_t *s, const struct lin *X,
                                                     int d0, int d1, int sw, uint16_t *out)
{
	const __m256i lo8 = _mm256_set1_epi32(0xff), hi8 = _mm256_set1_epi32(0xff00);
	int d = d0;

	for (; d + 8 <= d1 && X->ofs[d + 7] + 4 <= sw; d += 8) {
		__m256i ix = _mm256_loadu_si256((const __m256i *)(X->ofs + d));
		__m256i g = _mm256_i32gather_epi32((const int *)s, ix, 1);
		/* the two samples as 16-bit pairs, times (c0, c1), summed */
		__m256i pr = _mm256_or_si256(_mm256_and_si256(g, lo8),
		                             _mm256_slli_epi32(_mm256_and_si256(g, hi8), 8));
		__m256i v = _mm256_madd_epi16(pr, _mm256_loadu_si256((const __m256i *)(X->c01 + d)));
		__m128i w = _mm_packus_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
		_mm_storeu_si128((__m128i *)(out + d), w);
	}
	return d;
}
#endif

/* hrow_vbmi's byte selectors, 64 per block of 16 samples from lo on: for
 * sample d, bytes (p[0], 0, p[1], 0) with p = s + ofs[d], as offsets from
 * the block's first ofs into a window of 64 bytes, or 128 if wide.  c01 must
 * be readable up to the end of the last block.  Returns 0 when some block
 * spans more than 128 bytes (shrinking by more than about 8). */
static int vbmi_sel(struct lin *X)
{
	X->wide = 0;
	for (int b = X->lo; b < X->hi; b += 16) {
		int e = b + 16 < X->hi ? b + 16 : X->hi, span = X->ofs[e - 1] + 2 - X->ofs[b];
		if (span > 128)
			return 0;
		if (span > 64)
			X->wide = 1;
		uint8_t *q = X->sel + 4 * (b - X->lo);
		for (int d = b; d < b + 16; d++, q += 4) {
			q[0] = (uint8_t)(d < e ? X->ofs[d] - X->ofs[b] : 0);
			q[2] = (uint8_t)(d < e ? q[0] + 1 : 0);
			q[1] = q[3] = 0;
		}
	}
	return 1;
}

#ifdef HAVE_AVX2_KERNEL
/* hrow's interpolation for [lo, hi), 16 samples at a time: plain loads
 * of the block's source bytes (masked at the row's end) and a byte permute
 * instead of a gather, which costs about 12 times a load here. */
__attribute__((target("avx512vbmi,avx512bw,avx512vl"))) static void
hrow_vbmi(const uint8_t *s, const struct lin *X, int sw, uint16_t *out)
{
	const __mmask64 even = 0x5555555555555555ull;
	const int *ofs = X->ofs;
	const uint8_t *sel = X->sel;
	const uint32_t *c01 = X->c01;
	int hi = X->hi, wide = X->wide;

	for (int d = X->lo; d < hi; d += 16, sel += 64) {
		const uint8_t *p = s + ofs[d];
		int n = sw - ofs[d];
		__mmask64 m0 = n >= 64 ? ~0ull : (1ull << n) - 1;
		__m512i w0 = _mm512_maskz_loadu_epi8(m0, p), pr;
		if (wide) {
			__mmask64 m1 = n >= 128 ? ~0ull : n > 64 ? (1ull << (n - 64)) - 1 : 0;
			__m512i w1 = _mm512_maskz_loadu_epi8(m1, p + 64);
			pr = _mm512_maskz_permutex2var_epi8(even, w0, _mm512_loadu_si512(sel), w1);
		} else {
			pr = _mm512_maskz_permutexvar_epi8(even, _mm512_loadu_si512(sel), w0);
		}
		__m512i v = _mm512_madd_epi16(pr, _mm512_loadu_si512(c01 + d));
		__m256i r = _mm512_cvtepi32_epi16(v);
		if (d + 16 <= hi)
			_mm256_storeu_si256((__m256i *)(out + d), r);
		else
			_mm256_mask_storeu_epi16(out + d, (__mmask16)((1u << (hi - d)) - 1), r);
	}
}
#endif

/* One row resized horizontally into 8.8 fixed point. */
static void hrow(const uint8_t *s, const struct lin *X, int dw, int sw, uint16_t *out)
{
	int d = 0;
	uint16_t first = (uint16_t)(s[0] << 8), last = (uint16_t)(s[X->ofs[dw - 1]] << 8);

	for (; d < X->lo && d < dw; d++)
		out[d] = first;
#ifdef HAVE_AVX2_KERNEL
	if (X->sel) {
		hrow_vbmi(s, X, sw, out);
		d = X->hi > d ? X->hi : d;
	} else if (X->c01) {
		d = hrow_avx2(s, X, d, X->hi, sw, out);
	}
#else
	(void)sw;
#endif
	for (; d < X->hi; d++) {
		const uint8_t *p = s + X->ofs[d];
		out[d] = (uint16_t)(X->c0[d] * p[0] + X->c1[d] * p[1]);
	}
	for (; d < dw; d++)
		out[d] = last;
}

/* One output row from two horizontally resized rows.  (The loop is
 * vectorised by the compiler, twice as wide with AVX2.) */
__attribute__((target_clones("avx2", "default")))
static void vrow(const uint16_t *r0, const uint16_t *r1, uint32_t c0, uint32_t c1, int dw, uint8_t *o)
{
	for (int x = 0; x < dw; x++) {
		uint32_t v = (r0[x] * c0 + r1[x] * c1 + 32768u) >> 16;
		o[x] = (uint8_t)(v > 255 ? 255 : v);
	}
}

static int resize_exact(const uint8_t *src, int sw, int sh, ptrdiff_t sstride,
                        uint8_t *dst, int dw, int dh, int vec)
{
	if (dw == sw && dh == sh) {
		for (int y = 0; y < dh; y++)
			memcpy(dst + (size_t)y * dw, src + y * sstride, (size_t)dw);
		return 0;
	}
	/* c01 and sel padded for hrow_vbmi's last block */
	size_t nx = (size_t)dw, ny = (size_t)dh, nb = nx + 16;
	char *mem = malloc((nx + ny) * (sizeof(int) + 2 * sizeof(uint16_t)) + nb * 2 * sizeof(uint32_t) +
	                   2 * nx * sizeof(uint16_t) + 64);
	if (!mem)
		return vb_err_set("out of memory");
	struct lin X, Y;
	char *p = mem;
	X.c01 = (uint32_t *)p; p += nb * sizeof(uint32_t);
	X.sel = (uint8_t *)p; p += nb * sizeof(uint32_t);
	X.ofs = (int *)p; p += nx * sizeof(int);
	Y.ofs = (int *)p; p += ny * sizeof(int);
	X.c0 = (uint16_t *)p; p += nx * 2;
	X.c1 = (uint16_t *)p; p += nx * 2;
	Y.c0 = (uint16_t *)p; p += ny * 2;
	Y.c1 = (uint16_t *)p; p += ny * 2;
	uint16_t *r0 = (uint16_t *)p; p += nx * 2;
	uint16_t *r1 = (uint16_t *)p;
	lin_coeffs(&X, sw, dw);
	lin_coeffs(&Y, sh, dh);
	if (vec) {
		for (int d = 0; d < dw; d++)
			X.c01[d] = X.c0[d] | (uint32_t)X.c1[d] << 16;
		memset(X.c01 + dw, 0, (nb - nx) * sizeof(uint32_t));
		if (!cpu_has_vbmi() || !vbmi_sel(&X))
			X.sel = NULL;
	} else {
		X.c01 = NULL;
		X.sel = NULL;
	}
	int have0 = -1, have1 = -1;
	for (int y = 0; y < dh; y++) {
		uint8_t *o = dst + (size_t)y * dw;
		if (y < Y.lo || y >= Y.hi) {
			int sy = y < Y.lo ? 0 : sh - 1;
			hrow(src + sy * sstride, &X, dw, sw, r0);
			have0 = -1;
			for (int x = 0; x < dw; x++)
				o[x] = (uint8_t)((r0[x] + 128) >> 8);
			continue;
		}
		int sy = Y.ofs[y];
		if (have0 != sy) {
			if (have1 == sy) {
				uint16_t *t = r0; r0 = r1; r1 = t;
				have0 = sy;
				have1 = -1;
			} else {
				hrow(src + sy * sstride, &X, dw, sw, r0);
				have0 = sy;
			}
		}
		if (have1 != sy + 1) {
			hrow(src + (sy + 1) * sstride, &X, dw, sw, r1);
			have1 = sy + 1;
		}
		vrow(r0, r1, Y.c0[y], Y.c1[y], dw, o);
	}
	free(mem);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Integral images                                                         */

#ifdef HAVE_AVX2_KERNEL
/* Prefix sums of 8 words. */
__attribute__((target("avx2"))) static inline __m256i scan8(__m256i v)
{
	v = _mm256_add_epi32(v, _mm256_slli_si256(v, 4));
	v = _mm256_add_epi32(v, _mm256_slli_si256(v, 8));
	/* the low half's total added to the high half */
	__m256i t = _mm256_shuffle_epi32(v, 0xff);
	return _mm256_add_epi32(v, _mm256_permute2x128_si256(t, t, 0x08));
}

/* d[i] = p[i] + v[i] for lanes i < k. */
__attribute__((target("avx2"), always_inline)) static inline void add_store(uint32_t *d, const uint32_t *p,
                                                                           __m256i v, int k)
{
	if (k >= 8) {
		_mm256_storeu_si256((__m256i *)d, _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)p), v));
	} else {
		__m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(k), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
		_mm256_maskstore_epi32((int *)d, m, _mm256_add_epi32(_mm256_maskload_epi32((const int *)p, m), v));
	}
}

/* Integrals for the n <= 16 pixels px from x on (see integral_row_avx2);
 * ca and cb carry the row's sums. */
__attribute__((target("avx2"), always_inline)) static inline void
integral_block(__m128i px, int x, int n, int eo, int half, const uint32_t *ps, const uint32_t *pq,
               uint32_t *s, uint32_t *q, __m256i *ca, __m256i *cb)
{
	/* columns x + 2, x + 4 .. x + 16 (e) and x + 1, x + 3 .. x + 15 (o) */
	__m256i u = _mm256_cvtepu8_epi16(px);
	__m256i odd = _mm256_srli_epi32(u, 16);
	__m256i ae = _mm256_add_epi32(scan8(_mm256_madd_epi16(u, _mm256_set1_epi16(1))), *ca);
	__m256i be = _mm256_add_epi32(scan8(_mm256_madd_epi16(u, u)), *cb);
	__m256i ao = _mm256_sub_epi32(ae, odd), bo = _mm256_sub_epi32(be, _mm256_madd_epi16(odd, odd));
	*ca = _mm256_permutevar8x32_epi32(ae, _mm256_set1_epi32(7));
	*cb = _mm256_permutevar8x32_epi32(be, _mm256_set1_epi32(7));
	if (eo) {
		int j = x / 2;
		add_store(s + j + 1, ps + j + 1, ae, n / 2);
		add_store(q + j + 1, pq + j + 1, be, n / 2);
		add_store(s + half + j, ps + half + j, ao, (n + 1) / 2);
		add_store(q + half + j, pq + half + j, bo, (n + 1) / 2);
	} else {
		/* o and e interleaved again */
		__m256i al = _mm256_unpacklo_epi32(ao, ae), ah = _mm256_unpackhi_epi32(ao, ae);
		__m256i bl = _mm256_unpacklo_epi32(bo, be), bh = _mm256_unpackhi_epi32(bo, be);
		add_store(s + x + 1, ps + x + 1, _mm256_permute2x128_si256(al, ah, 0x20), n);
		add_store(s + x + 9, ps + x + 9, _mm256_permute2x128_si256(al, ah, 0x31), n - 8);
		add_store(q + x + 1, pq + x + 1, _mm256_permute2x128_si256(bl, bh, 0x20), n);
		add_store(q + x + 9, pq + x + 9, _mm256_permute2x128_si256(bl, bh, 0x31), n - 8);
	}
}

/* A row of integrals: the prefix sums of r added to the row above and
 * stored straight to their columns, 16 pixels at a time.  Prefix sums of
 * pixel pairs give the even columns, those less the odd pixels the odd
 * ones: half the scans, and with eo already apart.  The last block is
 * masked to the row's end. */
__attribute__((target("avx2"))) static void integral_row_avx2(const uint8_t *r, int w, int eo, int half,
                                                              const uint32_t *ps, const uint32_t *pq,
                                                              uint32_t *s, uint32_t *q)
{
	__m256i ca = _mm256_setzero_si256(), cb = ca;
	int x = 0;

	s[0] = ps[0];
	q[0] = pq[0];
	for (; x + 16 <= w; x += 16)
		integral_block(_mm_loadu_si128((const __m128i *)(r + x)), x, 16, eo, half, ps, pq, s, q, &ca, &cb);
	if (x < w) {
		uint8_t t[16] = {0};
		memcpy(t, r + x, (size_t)(w - x));
		integral_block(_mm_loadu_si128((const __m128i *)t), x, w - x, eo, half, ps, pq, s, q, &ca, &cb);
	}
}
#endif

/* Sum and squared-sum integrals of a w x h image, (w+1) x (h+1) values each
 * in rows of S; with eo, column X is stored at X / 2 when even and at
 * S / 2 + X / 2 when odd (see the vector evaluator).  Unsigned arithmetic:
 * values wrap as OpenCV's int32 do; window differences are still exact.
 * tmp holds 2 * (w + 1) words, for the plain loops. */
__attribute__((target_clones("avx2", "default")))
static void integrals(const uint8_t *img, int w, int h, int S, int eo,
                      uint32_t *sum, uint32_t *sq, uint32_t *tmp, int vec)
{
	uint32_t *a = tmp, *b = tmp + w + 1;   /* row prefix sums, a[X] for X in 0..w */
	int half = S / 2;

	if (eo) {
		for (int j = 0; j <= w / 2; j++)
			sum[j] = sq[j] = 0;
		for (int j = 0; 2 * j + 1 <= w; j++)
			sum[half + j] = sq[half + j] = 0;
	} else {
		for (int x = 0; x <= w; x++)
			sum[x] = sq[x] = 0;
	}
	for (int y = 0; y < h; y++) {
		const uint8_t *r = img + (size_t)y * w;
		const uint32_t *ps = sum + (size_t)y * S, *pq = sq + (size_t)y * S;
		uint32_t *s = sum + (size_t)(y + 1) * S, *q = sq + (size_t)(y + 1) * S;
#ifdef HAVE_AVX2_KERNEL
		if (vec) {
			integral_row_avx2(r, w, eo, half, ps, pq, s, q);
			continue;
		}
#else
		(void)vec;
#endif
		uint32_t ra = 0, rb = 0;
		a[0] = b[0] = 0;
		for (int x = 0; x < w; x++) {
			uint32_t v = r[x];
			ra += v;
			rb += v * v;
			a[x + 1] = ra;
			b[x + 1] = rb;
		}
		if (eo) {
			for (int j = 0; 2 * j <= w; j++) {
				s[j] = ps[j] + a[2 * j];
				q[j] = pq[j] + b[2 * j];
			}
			for (int j = 0; 2 * j + 1 <= w; j++) {
				s[half + j] = ps[half + j] + a[2 * j + 1];
				q[half + j] = pq[half + j] + b[2 * j + 1];
			}
		} else {
			for (int x = 0; x <= w; x++) {
				s[x] = ps[x] + a[x];
				q[x] = pq[x] + b[x];
			}
		}
	}
}

/* The tilted integral of OpenCV: T(X, Y) is the sum of the pixels (x, y)
 * with y < Y and |x - X + 1| <= Y - 1 - y, a triangle pointing down to
 * (X - 1, Y - 1).  Computed from row prefix sums accumulated along both
 * diagonals.  diag needs 2 * (w + h + 2) words. */
static void tilted_integral(const uint8_t *img, int w, int h, int S, uint32_t *T,
                            uint32_t *pre, uint32_t *diag)
{
	int nd = w + h + 2;
	uint32_t *A = diag, *B = diag + nd; /* A[c], c = X + Y - 1; B[d + h], d = X - Y */

	memset(diag, 0, 2 * (size_t)nd * sizeof *diag);
	for (int x = 0; x <= w; x++)
		T[x] = 0;
	for (int Y = 1; Y <= h; Y++) {
		const uint8_t *r = img + (size_t)(Y - 1) * w;
		pre[0] = 0;
		for (int x = 0; x < w; x++)
			pre[x + 1] = pre[x] + r[x];
		/* P(k) = pre[clamp(k, 0, w)] of row Y - 1 */
		for (int c = 0; c < nd; c++) {
			int k = c - (Y - 1);
			A[c] += k <= 0 ? 0 : pre[k > w ? w : k];
		}
		for (int d = -h; d <= w; d++) {
			int k = d + Y - 1;
			B[d + h] += k <= 0 ? 0 : pre[k > w ? w : k];
		}
		uint32_t *t = T + (size_t)Y * S;
		for (int X = 0; X <= w; X++)
			t[X] = A[X + Y - 1] - B[X - Y + h];
	}
}

/* ---------------------------------------------------------------------- */
/* Plain evaluator: one window at a time, as OpenCV's runAt                */

struct ofeat {
	int32_t o[3][4];
	float w[3];
	int tilted;
};

struct scan {
	const struct vb_haar *c;
	int S;
	struct ofeat *of;    /* per feature, normal layout (plain evaluator) */
	int32_t nofs[4];     /* variance rectangle corners */
};

static void rect_ofs(int32_t o[4], int x, int y, int w, int h, int S)
{
	o[0] = y * S + x;
	o[1] = y * S + x + w;
	o[2] = (y + h) * S + x;
	o[3] = (y + h) * S + x + w;
}

static void tilted_ofs(int32_t o[4], int x, int y, int w, int h, int S)
{
	o[0] = y * S + x;
	o[1] = (y + h) * S + x - h;
	o[2] = (y + w) * S + x + w;
	o[3] = (y + w + h) * S + x + w - h;
}

#define SUM4(p, o) ((int32_t)((p)[(o)[0]] - (p)[(o)[1]] - (p)[(o)[2]] + (p)[(o)[3]]))

static inline float haar_value(const struct ofeat *f, const uint32_t *ps, const uint32_t *pt)
{
	const uint32_t *p = f->tilted ? pt : ps;
	float r = f->w[0] * (float)SUM4(p, f->o[0]) + f->w[1] * (float)SUM4(p, f->o[1]);
	if (f->w[2] != 0.0f)
		r += f->w[2] * (float)SUM4(p, f->o[2]);
	return r;
}

static inline int lbp_code(const struct ofeat *f, const uint32_t *p)
{
	/* o[k] holds the 16 grid points (4 x 4) in a flat view */
	const int32_t *g = &f->o[0][0];
	int32_t s[9];
	for (int by = 0; by < 3; by++)
		for (int bx = 0; bx < 3; bx++) {
			int i = by * 4 + bx;
			s[by * 3 + bx] = (int32_t)(p[g[i]] - p[g[i + 1]] - p[g[i + 4]] + p[g[i + 5]]);
		}
	int32_t cv = s[4];
	return (s[0] >= cv ? 128 : 0) | (s[1] >= cv ? 64 : 0) | (s[2] >= cv ? 32 : 0) |
	       (s[5] >= cv ? 16 : 0) | (s[8] >= cv ? 8 : 0) | (s[7] >= cv ? 4 : 0) |
	       (s[6] >= cv ? 2 : 0) | (s[3] >= cv ? 1 : 0);
}

/* Evaluate the cascade at one window: 1 accepted, 0 rejected by the first
 * stage, negative otherwise (-1 also for a flat window). */
static int run_at(const struct scan *sc, const uint32_t *ps, const uint32_t *pq,
                  const uint32_t *pt)
{
	const struct vb_haar *c = sc->c;
	float vnf = 1.0f;

	if (c->type == FT_HAAR) {
		int32_t vs = SUM4(ps, sc->nofs);
		uint32_t vq = pq[sc->nofs[0]] - pq[sc->nofs[1]] - pq[sc->nofs[2]] + pq[sc->nofs[3]];
		double area = (double)(c->winw - 2) * (c->winh - 2);
		double nf = area * vq - (double)vs * vs;
		if (!(nf > 0.))
			return -1;
		vnf = (float)(1. / sqrt(nf));
		if (!(area * vnf < 1e-1))
			return -1;
	}
	for (int si = 0; si < c->nstages; si++) {
		const struct stage *st = &c->stages[si];
		double sum = 0;
		for (int ti = st->first_tree; ti < st->first_tree + st->ntrees; ti++) {
			const struct tree *t = &c->trees[ti];
			int idx = 0;
			do {
				const struct node *nd = &c->nodes[t->first_node + idx];
				const struct ofeat *f = &sc->of[nd->feat];
				if (c->type == FT_HAAR) {
					float v = haar_value(f, ps, pt) * vnf;
					idx = v < nd->thr ? nd->left : nd->right;
				} else {
					int code = lbp_code(f, ps);
					const int32_t *sub = c->subsets + nd->subset;
					idx = ((uint32_t)sub[code >> 5] & (1u << (code & 31))) ? nd->left : nd->right;
				}
			} while (idx > 0);
			sum += c->leaves[t->first_leaf - idx];
		}
		if (sum < st->thr)
			return -si;
	}
	return 1;
}

/* ---------------------------------------------------------------------- */
/* Vector evaluator (AVX2): upright Haar stumps, 8 windows per vector      */

/* A stump as the vector evaluator reads it: corner offsets c, or for
 * VS_RECTS the rectangles' corner offsets o and weights w. */
struct vstump {
	union {
		int32_t o[3][4];
		uint32_t c[9];
	};
	float w[3];
	float thr, left, right;
	int kind, neg;
};

struct vcascade {
	struct vstump *st;   /* all stumps in stage order */
	float *lo, *hi;      /* per stage: float sums below lo fail, above hi pass */
	int32_t nofs[4];
};

/* A packed block of 8 windows (deep_run) holds each row of a window's
 * integral values as 8 lanes per column, its columns in the order of the
 * level's integral image: in order, or for windows 2 apart the even ones
 * then the odd ones.  Runs of ne and no columns (no = 0: one run); a row
 * takes row values. */
struct pgeo {
	int ne, no, row;
};

static struct pgeo packed_geometry(const struct vb_haar *c, int two)
{
	struct pgeo g;
	g.ne = two ? c->winw / 2 + 1 : c->winw + 1;
	g.no = two ? (c->winw + 1) / 2 : 0;
	g.row = 8 * (g.ne + g.no);
	return g;
}

/* Words per packed block, either geometry, with room for the 8 columns
 * packing writes past the last row (pack_block); a multiple of 8. */
static size_t packed_size(const struct vb_haar *c)
{
	return (size_t)packed_geometry(c, 0).row * (c->winh + 1) + 64;
}

/* The offset of a window's integral value at (x, y), relative to its
 * first: in a level's integral image of row stride S (with half > 0 for
 * windows 2 apart, the odd columns from half on), or with S = 0 in a
 * packed block of geometry g (S, half unused). */
static int32_t vpos(int x, int y, int S, int half, const struct pgeo *g)
{
	if (!S)
		half = g->no ? g->ne : 0;
	int k = half ? (x & 1 ? half + x / 2 : x / 2) : x;
	return S ? y * S + k : y * g->row + 8 * k;
}

static int build_vstumps(const struct vb_haar *c, int S, int half, const struct pgeo *g,
                         struct vcascade *v)
{
	v->st = malloc((size_t)c->ntrees * sizeof *v->st);
	if (!v->st)
		return vb_err_set("out of memory");
#define AT(x, y) vpos(x, y, S, half, g)
	for (int i = 0; i < c->ntrees; i++) {
		const struct node *nd = &c->nodes[c->trees[i].first_node];
		const struct feat *f = &c->feats[nd->feat];
		struct vstump *s = &v->st[i];
		memset(s, 0, sizeof *s);
		s->thr = nd->thr;
		s->left = c->leaves[c->trees[i].first_leaf];
		s->right = c->leaves[c->trees[i].first_leaf + 1];
		s->kind = f->kind;
		s->neg = f->neg;
		for (int k = 0; k < f->ncorners; k++)
			s->c[k] = (uint32_t)AT(f->cx[k], f->cy[k]);
		if (s->kind != VS_RECTS)
			continue;
		for (int k = 0; k < 3; k++) {
			int x = f->r[k][0], y = f->r[k][1], w = f->r[k][2], h = f->r[k][3];
			if (k >= f->nr)
				x = y = w = h = 0;
			s->o[k][0] = AT(x, y);
			s->o[k][1] = AT(x + w, y);
			s->o[k][2] = AT(x, y + h);
			s->o[k][3] = AT(x + w, y + h);
			s->w[k] = k < f->nr ? f->w[k] : 0.0f;
		}
	}
	/* Stage sums are double in OpenCV.  Summed in float instead, they are
	 * off by at most (n - 1) 2^-24 sum|leaf| (and the double sums by far
	 * less); outside twice that band around the threshold the decision is
	 * the same, inside it the stage is summed again in double. */
	v->lo = malloc((size_t)c->nstages * sizeof *v->lo);
	v->hi = malloc((size_t)c->nstages * sizeof *v->hi);
	if (!v->lo || !v->hi)
		return vb_err_set("out of memory");
	for (int si = 0; si < c->nstages; si++) {
		const struct stage *st = &c->stages[si];
		double m = 0;
		for (int t = st->first_tree; t < st->first_tree + st->ntrees; t++) {
			double l = fabs(v->st[t].left), r = fabs(v->st[t].right);
			m += l > r ? l : r;
		}
		double band = 4.0 * (st->ntrees + 1) * ldexp(m, -24) + 1e-30;
		v->lo[si] = (float)((double)st->thr - band);
		v->hi[si] = (float)((double)st->thr + band);
		if ((double)v->lo[si] > (double)st->thr - band)
			v->lo[si] = nextafterf(v->lo[si], -INFINITY);
		if ((double)v->hi[si] < (double)st->thr + band)
			v->hi[si] = nextafterf(v->hi[si], INFINITY);
	}
	int x = 1, y = 1, w = c->winw - 2, h = c->winh - 2;
	v->nofs[0] = AT(x, y);
	v->nofs[1] = AT(x + w, y);
	v->nofs[2] = AT(x, y + h);
	v->nofs[3] = AT(x + w, y + h);
#undef AT
	return 0;
}

/* The stump tables for one row stride S: v1 for windows 1 apart, v2 for
 * windows 2 apart (columns stored even and odd apart).  Built once per
 * stride and kept in the cascade, so a stream's frames (and, with strides
 * rounded up, its tracked regions) do not rebuild them: 2 x 2,913 stumps
 * for the default cascade. */
struct vtab {
	int S, users;
	struct vcascade v1, v2;
	struct vcascade p1, p2;   /* packed blocks of windows from v1, v2 */
};

static void tab_free(struct vtab *t)
{
	if (!t)
		return;
	struct vcascade *v[4] = {&t->v1, &t->v2, &t->p1, &t->p2};
	for (int i = 0; i < 4; i++) {
		free(v[i]->st);
		free(v[i]->lo);
		free(v[i]->hi);
	}
	free(t);
}

/* The tables for S, to release with tables_put; NULL with an error.  The
 * cascade is otherwise read only, so calls may run in parallel on it. */
static struct vtab *tables_get(const struct vb_haar *cc, int S)
{
	struct vb_haar *c = (struct vb_haar *)cc;
	struct vtab *t;
	struct pgeo g1 = packed_geometry(c, 0), g2 = packed_geometry(c, 1);
	pthread_mutex_lock(&c->mu);
	if ((t = c->tab) && t->S == S) {
		t->users++;
	} else if (!(t = calloc(1, sizeof *t)) || build_vstumps(c, S, 0, NULL, &t->v1) < 0 ||
	           build_vstumps(c, S, S / 2, NULL, &t->v2) < 0 ||
	           build_vstumps(c, 0, 0, &g1, &t->p1) < 0 ||
	           build_vstumps(c, 0, 0, &g2, &t->p2) < 0) {
		if (!t)
			vb_err_set("out of memory");
		tab_free(t);
		t = NULL;
	} else {
		t->S = S;
		t->users = 1;
		/* the tables they replace go with their last user */
		if (c->tab && c->tab->users == 0)
			tab_free(c->tab);
		c->tab = t;
	}
	pthread_mutex_unlock(&c->mu);
	return t;
}

static void tables_put(const struct vb_haar *cc, struct vtab *t)
{
	struct vb_haar *c = (struct vb_haar *)cc;
	pthread_mutex_lock(&c->mu);
	if (--t->users == 0 && t != c->tab)
		tab_free(t);
	pthread_mutex_unlock(&c->mu);
}

/* OpenCV skips the window after one the first stage rejects.  For the
 * rejections of 8 windows in a row (a bit mask) and whether the first of
 * them is evaluated: the windows evaluated, and in bit 8 whether the next
 * one is.  A table, because the loop's branches do not predict. */
static uint16_t skips[2][256];

static void skips_init(void)
{
	for (int c0 = 0; c0 < 2; c0++)
		for (int rej = 0; rej < 256; rej++) {
			int carry = c0, ev = 0;
			for (int k = 0; k < 8; k++) {
				if (carry)
					ev |= 1 << k;
				carry = !(carry && (rej >> k & 1));
			}
			skips[c0][rej] = (uint16_t)(ev | carry << 8);
		}
}

/* Per-worker scratch of scan_row_avx2 for rows of up to n windows. */
struct rowbuf {
	float *vnf;      /* 8 per group */
	int *alive;      /* per group: live windows */
	int *list;       /* groups still alive */
	int *pass;       /* per entry of list: the stage's pass mask */
};

/* Windows of one level past its first stages, waiting to be packed 8 to a
 * block for the rest (deep_run). */
struct deep {
	int stage, end;   /* the stages run packed: [stage, end) */
	int n;
	uint32_t *ofs;    /* a window's offset in the integral image */
	float *vnf;       /* its variance normalisation */
	int *x, *y;       /* its window column and row */
};

#ifdef HAVE_AVX2_KERNEL
#define T_AVX2 __attribute__((target("avx2")))
#define T_512 __attribute__((target("avx2,avx512f")))

T_AVX2 static inline __m256i ld(const uint32_t *p)
{
	return _mm256_loadu_si256((const __m256i *)p);
}

T_AVX2 static inline __m256i sum4v(const uint32_t *p, const int32_t o[4])
{
	__m256i a = _mm256_sub_epi32(ld(p + o[0]), ld(p + o[1]));
	__m256i b = _mm256_sub_epi32(ld(p + o[3]), ld(p + o[2]));
	return _mm256_add_epi32(a, b);
}

T_AVX2 static inline __m256i ld2(const uint32_t *p, const uint32_t *c, int i, int j)
{
	return _mm256_sub_epi32(ld(p + c[i]), ld(p + c[j]));
}

/* The value of a feature on 8 windows, by its corners c (see VS_EDGE) or
 * rectangles, before variance normalisation. */
T_AVX2 static inline __m256 edge_value(const uint32_t *c, const uint32_t *p)
{
	__m256i t = _mm256_add_epi32(ld2(p, c, 0, 1), ld2(p, c, 2, 3)), u = ld2(p, c, 4, 5);
	return _mm256_cvtepi32_ps(_mm256_add_epi32(t, _mm256_add_epi32(u, u)));
}

T_AVX2 static inline __m256 line_value(const uint32_t *c, const uint32_t *p)
{
	__m256i t = _mm256_add_epi32(ld2(p, c, 0, 1), ld2(p, c, 2, 3));
	__m256i u = _mm256_add_epi32(ld2(p, c, 4, 5), ld2(p, c, 6, 7));
	return _mm256_cvtepi32_ps(_mm256_add_epi32(_mm256_add_epi32(t, u), _mm256_add_epi32(u, u)));
}

T_AVX2 static inline __m256 diag_value(const uint32_t *c, int neg, const uint32_t *p)
{
	__m256i t = _mm256_add_epi32(_mm256_add_epi32(ld(p + c[0]), ld(p + c[1])),
	                             _mm256_add_epi32(ld(p + c[2]), ld(p + c[3])));
	__m256i u = _mm256_add_epi32(_mm256_add_epi32(ld(p + c[4]), ld(p + c[5])),
	                             _mm256_add_epi32(ld(p + c[6]), ld(p + c[7])));
	t = _mm256_add_epi32(t, _mm256_slli_epi32(ld(p + c[8]), 2));
	u = _mm256_add_epi32(u, u);
	return _mm256_cvtepi32_ps(neg ? _mm256_sub_epi32(u, t) : _mm256_sub_epi32(t, u));
}

T_AVX2 static inline __m256 rects_value(const struct vstump *sp, const uint32_t *p)
{
	__m256 f = _mm256_add_ps(
		_mm256_mul_ps(_mm256_set1_ps(sp->w[0]), _mm256_cvtepi32_ps(sum4v(p, sp->o[0]))),
		_mm256_mul_ps(_mm256_set1_ps(sp->w[1]), _mm256_cvtepi32_ps(sum4v(p, sp->o[1]))));
	if (sp->w[2] != 0.0f)
		f = _mm256_add_ps(f, _mm256_mul_ps(_mm256_set1_ps(sp->w[2]),
		                                   _mm256_cvtepi32_ps(sum4v(p, sp->o[2]))));
	return f;
}

/* A stump's leaf (left or right) for feature values f, normalised by vnf. */
T_AVX2 static inline __m256 leaf(const struct vstump *sp, __m256 f, __m256 vnf)
{
	__m256 lt = _mm256_cmp_ps(_mm256_mul_ps(f, vnf), _mm256_set1_ps(sp->thr), _CMP_LT_OQ);
	return _mm256_blendv_ps(_mm256_set1_ps(sp->right), _mm256_set1_ps(sp->left), lt);
}

/* A stump's feature value on 8 windows, before variance normalisation. */
T_AVX2 static inline __m256 feature_value(const struct vstump *sp, const uint32_t *p)
{
	switch (sp->kind) {
	case VS_EDGE:
		return edge_value(sp->c, p);
	case VS_LINE:
		return line_value(sp->c, p);
	case VS_DIAG:
		return diag_value(sp->c, sp->neg, p);
	default:
		return rects_value(sp, p);
	}
}

/* One stump on 8 windows: its leaf value per window. */
T_AVX2 static inline __m256 stump_leaf(const struct vstump *sp, const uint32_t *p, __m256 vnf)
{
	return leaf(sp, feature_value(sp, p), vnf);
}

/* One stage summed in double as OpenCV does: the pass mask of 8 windows. */
T_AVX2 __attribute__((noinline)) static int stage_double(const struct stage *st,
                                                         const struct vstump *sp,
                                                         const uint32_t *p, __m256 vnf)
{
	__m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd();
	for (int t = 0; t < st->ntrees; t++, sp++) {
		__m256 leaf = stump_leaf(sp, p, vnf);
		a0 = _mm256_add_pd(a0, _mm256_cvtps_pd(_mm256_castps256_ps128(leaf)));
		a1 = _mm256_add_pd(a1, _mm256_cvtps_pd(_mm256_extractf128_ps(leaf, 1)));
	}
	__m256d th = _mm256_set1_pd((double)st->thr);
	return _mm256_movemask_pd(_mm256_cmp_pd(a0, th, _CMP_GE_OQ)) |
	       _mm256_movemask_pd(_mm256_cmp_pd(a1, th, _CMP_GE_OQ)) << 4;
}

/* Stage si's pass mask of the 8 windows at p from their float sum fa:
 * summed again in double only when a live one is too close to call. */
T_AVX2 static inline int stage_mask(const struct vb_haar *c, const struct vcascade *v, int si,
                                    const struct vstump *sp, __m256 fa, const uint32_t *p,
                                    __m256 vnf, int live)
{
	int pass = _mm256_movemask_ps(_mm256_cmp_ps(fa, _mm256_set1_ps(v->hi[si]), _CMP_GE_OQ));
	int fail = _mm256_movemask_ps(_mm256_cmp_ps(fa, _mm256_set1_ps(v->lo[si]), _CMP_LT_OQ));
	if (((pass | fail | ~live) & 0xff) != 0xff)
		pass = stage_double(&c->stages[si], sp, p, vnf);
	return pass;
}

/* One stage (stumps sp) on the group of 8 windows at p, of which those in
 * live count: their pass mask. */
T_AVX2 static inline int stage_pass(const struct vb_haar *c, const struct vcascade *v, int si,
                                    const struct vstump *sp, const uint32_t *p, __m256 vnf,
                                    int live)
{
	__m256 fa = _mm256_setzero_ps();
	for (int t = 0; t < c->stages[si].ntrees; t++)
		fa = _mm256_add_ps(fa, stump_leaf(sp + t, p, vnf));
	return stage_mask(c, v, si, sp, fa, p, vnf, live);
}

/* The same on two groups at once, each stump read once for both (about 5%
 * faster): the pass masks in m[0] and m[1]. */
T_AVX2 static inline void stage_pass2(const struct vb_haar *c, const struct vcascade *v, int si,
                                      const struct vstump *sp, const uint32_t *p0, __m256 n0,
                                      const uint32_t *p1, __m256 n1, const int live[2], int m[2])
{
	__m256 f0 = _mm256_setzero_ps(), f1 = _mm256_setzero_ps();
	for (int t = 0; t < c->stages[si].ntrees; t++) {
		const struct vstump *q = sp + t;
		f0 = _mm256_add_ps(f0, leaf(q, feature_value(q, p0), n0));
		f1 = _mm256_add_ps(f1, leaf(q, feature_value(q, p1), n1));
	}
	m[0] = stage_mask(c, v, si, sp, f0, p0, n0, live[0]);
	m[1] = stage_mask(c, v, si, sp, f1, p1, n1, live[1]);
}

/* And on four, the groups g[0..4) of the row at ps (2% faster again).
 * Written out: with arrays and a loop over them it is slower. */
T_AVX2 static inline void stage_pass4(const struct vb_haar *c, const struct vcascade *v, int si,
                                      const struct vstump *sp, const uint32_t *ps,
                                      const float *vnf, const int *alive, const int *g,
                                      int m[4])
{
	const uint32_t *p0 = ps + 8 * g[0], *p1 = ps + 8 * g[1];
	const uint32_t *p2 = ps + 8 * g[2], *p3 = ps + 8 * g[3];
	__m256 n0 = _mm256_loadu_ps(vnf + 8 * g[0]), n1 = _mm256_loadu_ps(vnf + 8 * g[1]);
	__m256 n2 = _mm256_loadu_ps(vnf + 8 * g[2]), n3 = _mm256_loadu_ps(vnf + 8 * g[3]);
	__m256 f0 = _mm256_setzero_ps(), f1 = f0, f2 = f0, f3 = f0;
	for (int t = 0; t < c->stages[si].ntrees; t++) {
		const struct vstump *q = sp + t;
		f0 = _mm256_add_ps(f0, leaf(q, feature_value(q, p0), n0));
		f1 = _mm256_add_ps(f1, leaf(q, feature_value(q, p1), n1));
		f2 = _mm256_add_ps(f2, leaf(q, feature_value(q, p2), n2));
		f3 = _mm256_add_ps(f3, leaf(q, feature_value(q, p3), n3));
	}
	m[0] = stage_mask(c, v, si, sp, f0, p0, n0, alive[g[0]]);
	m[1] = stage_mask(c, v, si, sp, f1, p1, n1, alive[g[1]]);
	m[2] = stage_mask(c, v, si, sp, f2, p2, n2, alive[g[2]]);
	m[3] = stage_mask(c, v, si, sp, f3, p3, n3, alive[g[3]]);
}

/* Stage si (stumps sp) on the groups rb->list[0..nl) of the row at ps, of
 * which the windows in rb->alive (the low 8 bits) count: their pass masks
 * in rb->pass, four groups at a time. */
T_AVX2 static void stage_over(const struct vb_haar *c, const struct vcascade *v, int si,
                              const struct vstump *sp, const uint32_t *ps,
                              const struct rowbuf *rb, int nl)
{
	const int *list = rb->list;
	int k = 0;

	for (; k + 3 < nl; k += 4)
		stage_pass4(c, v, si, sp, ps, rb->vnf, rb->alive, list + k, rb->pass + k);
	if (k + 1 < nl) {
		int g = list[k], h = list[k + 1], live[2] = {rb->alive[g], rb->alive[h]};
		stage_pass2(c, v, si, sp, ps + 8 * g, _mm256_loadu_ps(rb->vnf + 8 * g),
		            ps + 8 * h, _mm256_loadu_ps(rb->vnf + 8 * h), live, rb->pass + k);
		k += 2;
	}
	if (k < nl) {
		int g = list[k];
		rb->pass[k] = stage_pass(c, v, si, sp, ps + 8 * g, _mm256_loadu_ps(rb->vnf + 8 * g),
		                         rb->alive[g]);
	}
}

/* The variance normalisation of the 8 windows at p (squares at q), as
 * OpenCV's (float)(1 / sqrt(area * sum of squares - sum^2)) in double, into
 * vnf[0..8): the mask of those not flat. */
T_AVX2 static inline int var_norm(const struct vb_haar *c, const struct vcascade *v,
                                  const uint32_t *p, const uint32_t *q, float *vnf)
{
	const double area = (double)(c->winw - 2) * (c->winh - 2);
	const __m256d varea = _mm256_set1_pd(area), tenth = _mm256_set1_pd(1e-1);
	const __m256d zero_d = _mm256_setzero_pd(), one_d = _mm256_set1_pd(1.0);
	__m256i vs = sum4v(p, v->nofs), vq = sum4v(q, v->nofs);
	__m256d s0 = _mm256_cvtepi32_pd(_mm256_castsi256_si128(vs));
	__m256d s1 = _mm256_cvtepi32_pd(_mm256_extracti128_si256(vs, 1));
	__m256d q0 = _mm256_cvtepi32_pd(_mm256_castsi256_si128(vq));
	__m256d q1 = _mm256_cvtepi32_pd(_mm256_extracti128_si256(vq, 1));
	__m256d n0 = _mm256_sub_pd(_mm256_mul_pd(varea, q0), _mm256_mul_pd(s0, s0));
	__m256d n1 = _mm256_sub_pd(_mm256_mul_pd(varea, q1), _mm256_mul_pd(s1, s1));
	__m256d pos0 = _mm256_cmp_pd(n0, zero_d, _CMP_GT_OQ);
	__m256d pos1 = _mm256_cmp_pd(n1, zero_d, _CMP_GT_OQ);
	n0 = _mm256_blendv_pd(one_d, n0, pos0);
	n1 = _mm256_blendv_pd(one_d, n1, pos1);
	__m128 f0 = _mm256_cvtpd_ps(_mm256_div_pd(one_d, _mm256_sqrt_pd(n0)));
	__m128 f1 = _mm256_cvtpd_ps(_mm256_div_pd(one_d, _mm256_sqrt_pd(n1)));
	__m256d ok0 = _mm256_and_pd(pos0, _mm256_cmp_pd(_mm256_mul_pd(varea, _mm256_cvtps_pd(f0)), tenth, _CMP_LT_OQ));
	__m256d ok1 = _mm256_and_pd(pos1, _mm256_cmp_pd(_mm256_mul_pd(varea, _mm256_cvtps_pd(f1)), tenth, _CMP_LT_OQ));
	_mm256_storeu_ps(vnf, _mm256_set_m128(f1, f0));
	return _mm256_movemask_pd(ok0) | _mm256_movemask_pd(ok1) << 4;
}

/* The same with AVX-512, whose square roots and divisions take 8 doubles
 * for the time of 4. */
T_512 static inline int var_norm512(const struct vb_haar *c, const struct vcascade *v,
                                    const uint32_t *p, const uint32_t *q, float *vnf)
{
	const __m512d area = _mm512_set1_pd((double)(c->winw - 2) * (c->winh - 2));
	__m512d s = _mm512_cvtepi32_pd(sum4v(p, v->nofs)), sq = _mm512_cvtepi32_pd(sum4v(q, v->nofs));
	__m512d nf = _mm512_fmsub_pd(area, sq, _mm512_mul_pd(s, s));
	__mmask8 pos = _mm512_cmp_pd_mask(nf, _mm512_setzero_pd(), _CMP_GT_OQ);
	nf = _mm512_mask_blend_pd(pos, _mm512_set1_pd(1.0), nf);
	__m256 f = _mm512_cvtpd_ps(_mm512_div_pd(_mm512_set1_pd(1.0), _mm512_sqrt_pd(nf)));
	_mm256_storeu_ps(vnf, f);
	return _mm512_mask_cmp_pd_mask(pos, _mm512_mul_pd(area, _mm512_cvtps_pd(f)),
	                               _mm512_set1_pd(1e-1), _CMP_LT_OQ);
}

/* The variance normalisation of a row's n windows in groups of 8 (into
 * rb->vnf): the groups with a window not flat listed in rb->list, their
 * masks in rb->alive; returns how many were listed. */
#define VAR_ROW(name, norm)                                                          \
	static int name(const struct vb_haar *c, const struct vcascade *v,               \
	                const uint32_t *ps, const uint32_t *pq, int n, const struct rowbuf *rb) \
	{                                                                             \
		int nl = 0;                                                               \
		for (int g = 0; g < (n + 7) / 8; g++) {                                   \
			int valid = n - 8 * g >= 8 ? 0xff : (1 << (n - 8 * g)) - 1;           \
			rb->alive[g] = norm(c, v, ps + 8 * g, pq + 8 * g, rb->vnf + 8 * g) & valid; \
			rb->list[nl] = g;                                                     \
			nl += rb->alive[g] != 0;                                              \
		}                                                                         \
		return nl;                                                                \
	}
T_AVX2 VAR_ROW(var_row, var_norm)
T_512 VAR_ROW(var_row512, var_norm512)
#undef VAR_ROW

/* Scan n windows of one row (window i at ps + i): append the indices of the
 * accepted ones to hits.  Returns the number appended.  The row's groups of
 * 8 windows go through the cascade together, stage by stage, each stage
 * over the groups still alive: the groups' work overlaps, and no branch
 * depends on one group's outcome.  With dq->stage < nstages, the windows
 * alive at that stage go to the queue dq instead, and none to hits. */
T_AVX2 static int scan_row_avx2(const struct vb_haar *c, const struct vcascade *v,
                                const uint32_t *ps, const uint32_t *pq, int n, int *hits,
                                const struct rowbuf *rb, struct deep *dq, uint32_t rowofs,
                                int y, int wide)
{
	int G = (n + 7) / 8, nh = 0;
	int *alive = rb->alive, *list = rb->list;

	/* variance normalisation: the windows that are not flat */
	int nl = wide ? var_row512(c, v, ps, pq, n, rb) : var_row(c, v, ps, pq, n, rb);
	/* the first stage; OpenCV skips the window after one it rejects */
	const struct vstump *sp = v->st;
	stage_over(c, v, 0, sp, ps, rb, nl);
	for (int k = 0; k < nl; k++)
		alive[list[k]] |= rb->pass[k] << 8;
	int carry = 1;
	nl = 0;
	for (int g = 0; g < G; g++) {
		int varok = alive[g] & 0xff, pass = alive[g] >> 8;
		if (!varok) {
			carry = 1;   /* flat windows do not cause skips */
			alive[g] = 0;
			continue;
		}
		int e = skips[carry][varok & ~pass];
		carry = e >> 8;
		alive[g] = e & varok & pass;
		list[nl] = g;
		nl += alive[g] != 0;
	}
	/* the other stages, over the groups still alive */
	sp += c->stages[0].ntrees;
	for (int si = 1; si < dq->stage && nl; si++) {
		int kept = 0;
		stage_over(c, v, si, sp, ps, rb, nl);
		for (int k = 0; k < nl; k++) {
			int g = list[k];
			alive[g] &= rb->pass[k];
			list[kept] = g;
			kept += alive[g] != 0;
		}
		nl = kept;
		sp += c->stages[si].ntrees;
	}
	if (dq->stage < c->nstages) {
		for (int k = 0; k < nl; k++) {
			int g = list[k];
			for (int a = alive[g]; a; a &= a - 1) {
				int i = 8 * g + __builtin_ctz(a), j = dq->n++;
				dq->ofs[j] = rowofs + (uint32_t)i;
				dq->vnf[j] = rb->vnf[i];
				dq->x[j] = i;
				dq->y[j] = y;
			}
		}
		return 0;
	}
	for (int k = 0; k < nl; k++) {
		int g = list[k];
		for (int a = alive[g]; a; a &= a - 1)
			hits[nh++] = 8 * g + __builtin_ctz(a);
	}
	return nh;
}

/* Columns o..o + 8 of the rows q[0..8) as 8 vectors of 8 lanes, one
 * column each, at b: an 8 x 8 transpose. */
T_AVX2 static inline void pack8(const uint32_t *const q[8], size_t o, float *b)
{
#define L(i) _mm256_castsi256_ps(ld(q[i] + o))
	__m256 t0 = _mm256_unpacklo_ps(L(0), L(1)), t1 = _mm256_unpackhi_ps(L(0), L(1));
	__m256 t2 = _mm256_unpacklo_ps(L(2), L(3)), t3 = _mm256_unpackhi_ps(L(2), L(3));
	__m256 t4 = _mm256_unpacklo_ps(L(4), L(5)), t5 = _mm256_unpackhi_ps(L(4), L(5));
	__m256 t6 = _mm256_unpacklo_ps(L(6), L(7)), t7 = _mm256_unpackhi_ps(L(6), L(7));
#undef L
	/* s[j]: columns j (low half) and j + 4 of windows 0..3, s[j + 4] of 4..7 */
	__m256 s[8] = {
		_mm256_shuffle_ps(t0, t2, 0x44), _mm256_shuffle_ps(t0, t2, 0xee),
		_mm256_shuffle_ps(t1, t3, 0x44), _mm256_shuffle_ps(t1, t3, 0xee),
		_mm256_shuffle_ps(t4, t6, 0x44), _mm256_shuffle_ps(t4, t6, 0xee),
		_mm256_shuffle_ps(t5, t7, 0x44), _mm256_shuffle_ps(t5, t7, 0xee),
	};
	for (int j = 0; j < 4; j++) {
		_mm256_store_ps(b + 8 * j, _mm256_permute2f128_ps(s[j], s[j + 4], 0x20));
		_mm256_store_ps(b + 8 * (j + 4), _mm256_permute2f128_ps(s[j], s[j + 4], 0x31));
	}
}

/* Packs the 8 windows at q[0..8) (a level of row stride S, odd columns
 * from half when 2 apart) into the block b of geometry g, h + 1 rows.
 * Each run is packed 8 columns at a time, in order, so what a run's last
 * 8 write past its end the next run or row overwrites; past the block's
 * end they need 8 columns of room. */
T_AVX2 static void pack_block(const uint32_t *const q[8], int S, int half,
                              const struct pgeo *g, int h, float *b)
{
	for (int dy = 0; dy <= h; dy++, b += g->row) {
		for (int j = 0; j < g->ne; j += 8)
			pack8(q, (size_t)dy * S + j, b + 8 * j);
		for (int j = 0; j < g->no; j += 8)
			pack8(q, (size_t)dy * S + half + j, b + 8 * (g->ne + j));
	}
}

/* Stages [dq->stage, dq->end) for the windows in dq, 8 at a time, each 8
 * packed into one block blk (pv's layout: a window's integral values one
 * lane of every vector).  The windows that pass go on to the queue nx,
 * or with nx NULL to hits (as indices into dq); returns how many went to
 * hits.  half: the level's odd columns' offset in a row (0: one column per
 * window). */
T_AVX2 static int deep_run(const struct vb_haar *c, const struct vcascade *pv,
                           const uint32_t *sum, int S, int half, struct deep *dq,
                           struct deep *nx, float *blk, int *hits)
{
	struct pgeo g = packed_geometry(c, half > 0);
	size_t bsz = packed_size(c);
	int nh = 0;

	/* two blocks at a time while both have a window alive */
	for (int b0 = 0; b0 < dq->n; b0 += 16) {
		int nb = dq->n - b0 > 8 ? 2 : 1, alive[2], m[2], si = dq->stage;
		__m256 vn[2];
		const uint32_t *p[2];
		for (int k = 0; k < nb; k++) {
			int b = b0 + 8 * k, n = dq->n - b < 8 ? dq->n - b : 8;
			const uint32_t *q[8];
			float f[8];
			for (int l = 0; l < 8; l++) {
				q[l] = sum + dq->ofs[b + (l < n ? l : 0)];
				f[l] = dq->vnf[b + (l < n ? l : 0)];
			}
			pack_block(q, S, half, &g, c->winh, blk + k * bsz);
			vn[k] = _mm256_loadu_ps(f);
			alive[k] = (1 << n) - 1;
			p[k] = (const uint32_t *)(blk + k * bsz);
		}
		if (nb == 2)
			for (; si < dq->end && alive[0] && alive[1]; si++) {
				stage_pass2(c, pv, si, pv->st + c->stages[si].first_tree, p[0], vn[0],
				            p[1], vn[1], alive, m);
				alive[0] &= m[0];
				alive[1] &= m[1];
			}
		for (int k = 0; k < nb; k++)
			for (int sk = si; sk < dq->end && alive[k]; sk++)
				alive[k] &= stage_pass(c, pv, sk, pv->st + c->stages[sk].first_tree, p[k],
				                       vn[k], alive[k]);
		for (int k = 0; k < nb; k++)
			for (int a = alive[k]; a; a &= a - 1) {
				int i = b0 + 8 * k + __builtin_ctz(a);
				if (!nx) {
					hits[nh++] = i;
					continue;
				}
				int j = nx->n++;
				nx->ofs[j] = dq->ofs[i];
				nx->vnf[j] = dq->vnf[i];
				nx->x[j] = dq->x[i];
				nx->y[j] = dq->y[i];
			}
	}
	dq->n = 0;
	return nh;
}
#endif

/* ---------------------------------------------------------------------- */
/* Multi-scale search                                                      */

struct rvec {
	struct vb_rect *r;
	int n, cap;
};

static int push(struct rvec *v, int x, int y, int w, int h)
{
	if (v->n == v->cap) {
		int nc = v->cap ? 2 * v->cap : 256;
		void *p = realloc(v->r, (size_t)nc * sizeof *v->r);
		if (!p)
			return vb_err_set("out of memory");
		v->r = p;
		v->cap = nc;
	}
	v->r[v->n++] = (struct vb_rect){x, y, w, h};
	return 0;
}

/* A hit at window (x, y) of the level of scale sc, as a box of the image. */
static int push_hit(struct rvec *v, int x, int y, float sc, int w, int h)
{
	return push(v, (int)lrintf((float)x * sc), (int)lrintf((float)y * sc), w, h);
}

/* qsort order of boxes: top down, then left to right. */
static int by_row(const void *a, const void *b)
{
	const struct vb_rect *p = a, *q = b;
	return p->y != q->y ? (p->y > q->y) - (p->y < q->y) : (p->x > q->x) - (p->x < q->x);
}

/* The scale factors OpenCV uses for an image of w x h (see header). */
static int scales_for(const struct vb_haar *c, int w, int h, const struct vb_haar_params *p,
                      float **out)
{
	int maxw = p->max_w > 0 ? p->max_w : w, maxh = p->max_h > 0 ? p->max_h : h;
	float *all = NULL, *sel = NULL;
	int na = 0, ns = 0, cap = 0;

	*out = NULL;
	for (double f = 1;; f *= p->scale_factor) {
		long ww = lrint(c->winw * f), wh = lrint(c->winh * f);
		if (ww > w || wh > h)
			break;
		if (na == cap) {
			cap = cap ? 2 * cap : 64;
			float *nb = realloc(all, (size_t)cap * sizeof *nb);
			if (!nb) {
				free(all);
				return vb_err_set("out of memory");
			}
			all = nb;
		}
		all[na++] = (float)f;
	}
	if (na == 0)
		return 0;
	sel = malloc((size_t)na * sizeof *sel);
	if (!sel) {
		free(all);
		return vb_err_set("out of memory");
	}
	for (int i = 0; i < na; i++) {
		long ww = lrint(c->winw * (double)all[i]), wh = lrint(c->winh * (double)all[i]);
		if (ww > maxw || wh > maxh)
			break;
		if (ww < p->min_w || wh < p->min_h)
			continue;
		sel[ns++] = all[i];
	}
	if (ns == 0) {
		/* the scale nearest to the minimum size, as OpenCV */
		int best = 0;
		double bd = 0;
		for (int i = 0; i < na; i++) {
			long ww = lrint(c->winw * (double)all[i]), wh = lrint(c->winh * (double)all[i]);
			double d = (double)(p->min_w - ww) * (p->min_w - ww) + (double)(p->min_h - wh) * (p->min_h - wh);
			if (i == 0 || d < bd) {
				bd = d;
				best = i;
			}
		}
		sel[ns++] = all[best];
	}
	free(all);
	*out = sel;
	return ns;
}

/* Packed levels: the stages from the first with at least 100 stumps
 * before it run on windows packed 8 to a block, packed again at the start
 * of each level, which ends where the stumps so far have doubled (for the
 * default cascade stages 5, 8, 12 and 18, 136 to 1,560 stumps on).
 * Packing a block costs about what 150 stumps on it do, and about a
 * quarter of a level's windows pass it, so by its end a block is down to a
 * live window or two.  Tuned on the default cascade: starting at stage 3
 * or 4, or shorter or longer levels, were the same or slower.  lev[n] =
 * nstages; returns the number of levels, at most DEEP_MAX. */
#define DEEP_MAX 8

static int deep_levels(const struct vb_haar *c, int lev[DEEP_MAX + 1])
{
	int n = 0, before = 0, next = 100;
	for (int si = 0; si < c->nstages && n < DEEP_MAX; si++) {
		if (before >= next) {
			lev[n++] = si;
			next = 2 * before;
		}
		before += c->stages[si].ntrees;
	}
	lev[n] = c->nstages;
	return n;
}

/* What every worker of one search shares (read-only while they run). */
struct search {
	const struct vb_haar *c;
	const uint8_t *px;
	int w, h;
	ptrdiff_t stride;
	const float *scales;
	int ns, S, use_vec;
	int simd;                     /* vector code allowed (resizing) */
	struct scan sc;               /* plain evaluator */
	struct vcascade v1, v2;       /* vector evaluator, step 1 and 2 layouts */
	struct vcascade p1, p2;       /* the same for packed blocks */
	int wide;                     /* AVX-512 for the variance test */
	int lev[DEEP_MAX + 1], nlev;  /* stages [lev[i], lev[i + 1]) run packed,
	                               * lev[nlev] = nstages */
	struct rvec *per_scale;       /* hits of each scale */
	int next;                     /* the next scale to search (atomic) */
	int err;                      /* a worker failed (atomic); message in errmsg */
	char errmsg[VB_ERR_MAX];
};

/* Search scales with the worker's own buffers, taking the next one not yet
 * taken until none is left: largest images (most windows) first, so the
 * workers finish close together. */
static void *search_worker(void *arg)
{
	struct search *s = arg;
	const struct vb_haar *c = s->c;
	int w = s->w, h = s->h, S = s->S;
	size_t cells = (size_t)S * (h + 2) + 64;
	/* not cleared: integrals() writes every value a window reads, and the
	 * lanes past a row's last window, which read the rest, are dropped */
	uint32_t *sum = malloc(cells * sizeof *sum), *sq = malloc(cells * sizeof *sq);
	uint32_t *tl = c->tilted ? calloc(cells, sizeof *tl) : NULL;
	uint32_t *pre = c->tilted ? malloc(((size_t)w + 1) * sizeof *pre) : NULL;
	uint32_t *diag = c->tilted ? malloc(2 * ((size_t)w + h + 2) * sizeof *diag) : NULL;
	uint8_t *img = malloc((size_t)w * h + 16);
	int *hits = malloc(((size_t)w + 16) * sizeof(int));
	size_t ng = (size_t)w / 8 + 2;
	struct rowbuf rb = { malloc(8 * ng * sizeof(float)), malloc(ng * sizeof(int)),
	                     malloc(ng * sizeof(int)), malloc(ng * sizeof(int)) };
	uint32_t *tmp = malloc(2 * ((size_t)w + 1) * sizeof *tmp);
	/* queues flushed from 64 windows: the first takes at most w + 8 a
	 * row, the next at most what the one before held */
	size_t dcap = 2 * (size_t)w + 200;
	struct deep dq[DEEP_MAX + 1];
	int nlev = s->nlev, dfail = 0;
	for (int i = 0; i <= nlev; i++) {
		int first = i < nlev ? s->lev[i] : c->nstages, end = i < nlev ? s->lev[i + 1] : first;
		dq[i] = (struct deep){ first, end, 0, malloc(dcap * sizeof(uint32_t)),
		                       malloc(dcap * sizeof(float)), malloc(dcap * sizeof(int)),
		                       malloc(dcap * sizeof(int)) };
		dfail |= !dq[i].ofs || !dq[i].vnf || !dq[i].x || !dq[i].y;
	}
	/* two blocks, on cache lines: no load of 8 lanes crosses one */
	float *blk = aligned_alloc(64, (2 * packed_size(c) + 15) / 16 * 16 * sizeof(float));
	int *dh = malloc(dcap * sizeof(int));

	if (!sum || !sq || !img || !hits || !tmp || !rb.vnf || !rb.alive || !rb.list || !rb.pass || (c->tilted && (!tl || !pre || !diag)) ||
	    dfail || !blk || !dh) {
		vb_err_set("out of memory");
		goto fail;
	}
	for (int si; (si = __atomic_fetch_add(&s->next, 1, __ATOMIC_RELAXED)) < s->ns;) {
		struct rvec *out = &s->per_scale[si];
		float sc = s->scales[si];
		int sw = (int)lrintf((float)w / sc), sh = (int)lrintf((float)h / sc);
		int ystep = sc >= 2 ? 1 : 2;
		int wwin = (int)lrintf((float)c->winw * sc), hwin = (int)lrintf((float)c->winh * sc);
		int nxw = sw + 1 - c->winw, nyw = sh + 1 - c->winh;  /* working size */
		if (nxw <= 0 || nyw <= 0)
			continue;
		if (sw > w)
			sw = w;
		if (sh > h)
			sh = h;
		if (resize_exact(s->px, w, h, s->stride, img, sw, sh, s->simd) < 0)
			goto fail;
		int eo = s->use_vec && ystep == 2;
		integrals(img, sw, sh, S, eo, sum, sq, tmp, s->simd);
		if (c->tilted)
			tilted_integral(img, sw, sh, S, tl, pre, diag);
		for (int y = 0; y < nyw; y += ystep) {
			if (s->use_vec) {
#ifdef HAVE_AVX2_KERNEL
				int n = eo ? (nxw + 1) / 2 : nxw;
				int nh = scan_row_avx2(c, eo ? &s->v2 : &s->v1, sum + (size_t)y * S,
				                       sq + (size_t)y * S, n, hits, &rb, &dq[0],
				                       (uint32_t)((size_t)y * S), y, s->wide);
				for (int k = 0; k < nh; k++) {
					int x = eo ? 2 * hits[k] : hits[k];
					if (push_hit(out, x, y, sc, wwin, hwin) < 0)
						goto fail;
				}
				for (int i = 0; i < nlev; i++) {
					struct deep *d = &dq[i];
					if (!(d->n >= 64 || (d->n && y + ystep >= nyw)))
						continue;
					nh = deep_run(c, eo ? &s->p2 : &s->p1, sum, S, eo ? S / 2 : 0, d,
					              i + 1 < nlev ? d + 1 : NULL, blk, dh);
					for (int k = 0; k < nh; k++) {
						int x = eo ? 2 * d->x[dh[k]] : d->x[dh[k]], yy = d->y[dh[k]];
						if (push_hit(out, x, yy, sc, wwin, hwin) < 0)
							goto fail;
					}
				}
#endif
				continue;
			}
			for (int x = 0; x < nxw; x += ystep) {
				size_t o = (size_t)y * S + x;
				int r = run_at(&s->sc, sum + o, sq + o, tl ? tl + o : NULL);
				if (r > 0 && push_hit(out, x, y, sc, wwin, hwin) < 0)
					goto fail;
				if (r == 0)
					x += ystep;
			}
		}
		/* the packed stages report windows out of order: back to
		 * rows top down, left to right within a row */
		if (s->use_vec && nlev && out->n > 1)
			qsort(out->r, (size_t)out->n, sizeof *out->r, by_row);
	}
	goto done;
fail:
	/* the first worker to fail writes the message */
	if (!__atomic_exchange_n(&s->err, 1, __ATOMIC_ACQ_REL))
		snprintf(s->errmsg, sizeof s->errmsg, "%s", vb_err_msg());
done:
	free(sum);
	free(sq);
	free(tl);
	free(pre);
	free(diag);
	free(img);
	free(hits);
	free(tmp);
	free(rb.vnf);
	free(rb.alive);
	free(rb.list);
	free(rb.pass);
	for (int i = 0; i <= nlev; i++) {
		free(dq[i].ofs);
		free(dq[i].vnf);
		free(dq[i].x);
		free(dq[i].y);
	}
	free(blk);
	free(dh);
	return NULL;
}

static int detect_raw(const struct vb_haar *c, const uint8_t *px, int w, int h, ptrdiff_t stride,
                      const struct vb_haar_params *p, struct rvec *out)
{
	float *scales;
	int ns = scales_for(c, w, h, p, &scales);
	int rc = -1;
	struct vtab *tab = NULL;

	if (ns <= 0)
		return ns;
	struct search s = { .c = c, .px = px, .w = w, .h = h, .stride = stride,
	                    .scales = scales, .ns = ns };
	s.simd = p->simd && cpu_has_avx2();
	s.use_vec = s.simd && c->type == FT_HAAR && c->stumps && !c->tilted;
	/* one row stride for every level: both layouts fit; rounded up, so
	 * that regions of about the same width share the stump tables, and
	 * off multiples of 512 words, whose rows would share cache sets */
	s.S = (2 * ((w + 2) / 2 + 16) + 63) & ~63;
	if (s.S % 512 == 0)
		s.S += 64;
	int S = s.S;
	s.per_scale = calloc((size_t)ns, sizeof *s.per_scale);
	s.sc.c = c;
	s.sc.S = S;
	if (!s.per_scale) {
		vb_err_set("out of memory");
		goto done;
	}
	if (s.use_vec) {
		static pthread_once_t once = PTHREAD_ONCE_INIT;
		pthread_once(&once, skips_init);
		if (!(tab = tables_get(c, S)))
			goto done;
		s.v1 = tab->v1;
		s.v2 = tab->v2;
		s.p1 = tab->p1;
		s.p2 = tab->p2;
		s.wide = cpu_has_vbmi();   /* such CPUs have AVX-512F */
		s.nlev = deep_levels(c, s.lev);
	} else {
		s.sc.of = malloc((size_t)c->nfeats * sizeof *s.sc.of);
		if (!s.sc.of) {
			vb_err_set("out of memory");
			goto done;
		}
		for (int i = 0; i < c->nfeats; i++) {
			const struct feat *f = &c->feats[i];
			struct ofeat *o = &s.sc.of[i];
			memset(o, 0, sizeof *o);
			if (c->type == FT_LBP) {
				int bx = f->r[0][0], by = f->r[0][1], bw = f->r[0][2], bh = f->r[0][3];
				int32_t *g = &o->o[0][0];
				for (int j = 0; j < 4; j++)
					for (int k = 0; k < 4; k++)
						g[j * 4 + k] = (by + j * bh) * S + bx + k * bw;
				continue;
			}
			o->tilted = f->tilted;
			for (int k = 0; k < 3; k++) {
				if (k < f->nr) {
					if (f->tilted)
						tilted_ofs(o->o[k], f->r[k][0], f->r[k][1], f->r[k][2], f->r[k][3], S);
					else
						rect_ofs(o->o[k], f->r[k][0], f->r[k][1], f->r[k][2], f->r[k][3], S);
					o->w[k] = f->w[k];
				}
			}
		}
		rect_ofs(s.sc.nofs, 1, 1, c->winw - 2, c->winh - 2, S);
	}

	/* threads over scales: worth it only for a large enough image; if
	 * some cannot be started, those that were (and this one) share the
	 * scales all the same */
	int nt = p->threads > 1 ? p->threads : 1;
	if (nt > ns)
		nt = ns;
	if (nt > 64)
		nt = 64;
	if ((int64_t)w * h < 160 * 120)
		nt = 1;
	pthread_t tid[64];
	int started = 1;
	while (started < nt && pthread_create(&tid[started], NULL, search_worker, &s) == 0)
		started++;
	search_worker(&s);
	for (int t = 1; t < started; t++)
		pthread_join(tid[t], NULL);
	if (s.err) {
		vb_err_set("%s", s.errmsg);
		goto done;
	}
	for (int si = 0; si < ns; si++)
		for (int k = 0; k < s.per_scale[si].n; k++) {
			const struct vb_rect *r = &s.per_scale[si].r[k];
			if (push(out, r->x, r->y, r->w, r->h) < 0)
				goto done;
		}
	rc = 0;
done:
	if (s.per_scale)
		for (int si = 0; si < ns; si++)
			free(s.per_scale[si].r);
	free(s.per_scale);
	free(scales);
	free(s.sc.of);
	if (tab)
		tables_put(c, tab);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Grouping                                                                */

static int similar(const struct vb_rect *a, const struct vb_rect *b, double eps)
{
	double d = eps * ((a->w < b->w ? a->w : b->w) + (a->h < b->h ? a->h : b->h)) * 0.5;
	return abs(a->x - b->x) <= d && abs(a->y - b->y) <= d &&
	       abs(a->x + a->w - b->x - b->w) <= d && abs(a->y + a->h - b->y - b->h) <= d;
}

static int find(int *par, int i)
{
	while (par[i] != i) {
		par[i] = par[par[i]];
		i = par[i];
	}
	return i;
}

int vb_haar_group(struct vb_rect *r, int n, int threshold, double eps, int *weights)
{
	if (n <= 0)
		return 0;
	if (threshold <= 0) {
		if (weights)
			for (int i = 0; i < n; i++)
				weights[i] = 1;
		return n;
	}
	int *par = malloc((size_t)n * sizeof *par), *lab = malloc((size_t)n * sizeof *lab);
	int64_t *acc = calloc((size_t)n * 4, sizeof *acc);
	int *cnt = calloc((size_t)n, sizeof *cnt);
	struct vb_rect *g = malloc((size_t)n * sizeof *g);
	if (!par || !lab || !acc || !cnt || !g) {
		free(par); free(lab); free(acc); free(cnt); free(g);
		return vb_err_set("out of memory");
	}
	for (int i = 0; i < n; i++)
		par[i] = i;
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (similar(&r[i], &r[j], eps)) {
				int a = find(par, i), b = find(par, j);
				if (a != b)
					par[a > b ? a : b] = a < b ? a : b;
			}
	/* classes numbered in order of their first member */
	int nc = 0;
	for (int i = 0; i < n; i++)
		lab[i] = -1;
	for (int i = 0; i < n; i++) {
		int root = find(par, i);
		if (lab[root] < 0)
			lab[root] = nc++;
		int k = lab[root];
		acc[4 * k] += r[i].x;
		acc[4 * k + 1] += r[i].y;
		acc[4 * k + 2] += r[i].w;
		acc[4 * k + 3] += r[i].h;
		cnt[k]++;
	}
	for (int k = 0; k < nc; k++) {
		float s = 1.f / (float)cnt[k];
		g[k].x = (int)lrintf((float)acc[4 * k] * s);
		g[k].y = (int)lrintf((float)acc[4 * k + 1] * s);
		g[k].w = (int)lrintf((float)acc[4 * k + 2] * s);
		g[k].h = (int)lrintf((float)acc[4 * k + 3] * s);
	}
	int out = 0;
	for (int i = 0; i < nc; i++) {
		int n1 = cnt[i], j;
		if (n1 <= threshold)
			continue;
		for (j = 0; j < nc; j++) {
			int n2 = cnt[j];
			if (j == i || n2 <= threshold)
				continue;
			int dx = (int)lrint(g[j].w * eps), dy = (int)lrint(g[j].h * eps);
			if (g[i].x >= g[j].x - dx && g[i].y >= g[j].y - dy &&
			    g[i].x + g[i].w <= g[j].x + g[j].w + dx &&
			    g[i].y + g[i].h <= g[j].y + g[j].h + dy &&
			    (n2 > (n1 > 3 ? n1 : 3) || n1 < 3))
				break;
		}
		if (j == nc) {
			if (weights)
				weights[out] = n1;
			r[out++] = g[i];
		}
	}
	free(par); free(lab); free(acc); free(cnt); free(g);
	return out;
}

double vb_rect_iou(const struct vb_rect *a, const struct vb_rect *b)
{
	int x0 = a->x > b->x ? a->x : b->x, y0 = a->y > b->y ? a->y : b->y;
	int x1 = a->x + a->w < b->x + b->w ? a->x + a->w : b->x + b->w;
	int y1 = a->y + a->h < b->y + b->h ? a->y + a->h : b->y + b->h;
	double in = (x1 > x0 && y1 > y0) ? (double)(x1 - x0) * (y1 - y0) : 0;
	double un = (double)a->w * a->h + (double)b->w * b->h - in;
	return un > 0 ? in / un : 0;
}

int vb_haar_detect(const struct vb_haar *c, const uint8_t *px, int w, int h,
                   ptrdiff_t stride, const struct vb_haar_params *p,
                   struct vb_rect **out)
{
	struct rvec v = {0};

	*out = NULL;
	if (!(p->scale_factor > 1.0) || p->scale_factor > 100 || p->min_neighbors < 0 ||
	    p->min_w < 0 || p->min_h < 0 || p->max_w < 0 || p->max_h < 0)
		return vb_err_set("bad detection parameters");
	if (w <= 0 || h <= 0 || stride < w)
		return vb_err_set("bad image size %d x %d", w, h);
	if ((int64_t)w * h > (int64_t)1 << 26)
		return vb_err_set("image of %d x %d is too large to search", w, h);
	if (w < c->winw || h < c->winh)
		return 0;
	if (detect_raw(c, px, w, h, stride, p, &v) < 0) {
		free(v.r);
		return -1;
	}
	int n = vb_haar_group(v.r, v.n, p->min_neighbors, 0.2, NULL);
	if (n < 0) {
		free(v.r);
		return -1;
	}
	/* clip to the image */
	int k = 0;
	for (int i = 0; i < n; i++) {
		struct vb_rect r = v.r[i];
		int x0 = r.x < 0 ? 0 : r.x, y0 = r.y < 0 ? 0 : r.y;
		int x1 = r.x + r.w > w ? w : r.x + r.w, y1 = r.y + r.h > h ? h : r.y + r.h;
		if (x1 > x0 && y1 > y0)
			v.r[k++] = (struct vb_rect){x0, y0, x1 - x0, y1 - y0};
	}
	if (k == 0) {
		free(v.r);
		return 0;
	}
	*out = v.r;
	return k;
}
