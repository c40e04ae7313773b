/* stats.c - streaming per-column statistics of CSV tables and .npy streams. */
#define _GNU_SOURCE /* qsort_r */
#include "stats.h"
#include "csv.h"
#include "err.h"
#include "tensor.h"
#include "yaml.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const double VB_STATS_QS[7] = { 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99 };

#define ARENA_MAX ((size_t)64 << 20)  /* bytes of distinct strings per column */
#define MG_KEEP 1024                   /* Misra-Gries entries after overflow */
#define LABELS_MAX 1000                /* per-label statistics up to this many labels */

static int nomem(void)
{
	return vb_err_set("out of memory");
}

/* ---- sorting doubles ------------------------------------------------- */

/* Sort an array of doubles (no NaN) ascending: quicksort with a median of
 * three, insertion sort for short runs; no comparator callbacks. */
static void sort_d(double *a, size_t n)
{
	while (n > 16) {
		double p, t;
		size_t i, j, m = n / 2;

		if (a[m] < a[0]) t = a[m], a[m] = a[0], a[0] = t;
		if (a[n - 1] < a[0]) t = a[n - 1], a[n - 1] = a[0], a[0] = t;
		if (a[n - 1] < a[m]) t = a[n - 1], a[n - 1] = a[m], a[m] = t;
		p = a[m];
		i = 0;
		j = n - 1;
		for (;;) {
			while (a[i] < p) i++;
			while (p < a[j]) j--;
			if (i >= j)
				break;
			t = a[i], a[i] = a[j], a[j] = t;
			i++;
			j--;
		}
		/* recurse into the smaller part, loop on the larger */
		if (j + 1 < n - j - 1) {
			sort_d(a, j + 1);
			a += j + 1;
			n -= j + 1;
		} else {
			sort_d(a + j + 1, n - j - 1);
			n = j + 1;
		}
	}
	for (size_t i = 1; i < n; i++) {
		double v = a[i];
		size_t j = i;
		while (j > 0 && a[j - 1] > v) {
			a[j] = a[j - 1];
			j--;
		}
		a[j] = v;
	}
}

/* Number of elements of sorted a[0..n) that are < x (le: <= x). */
static size_t lower_bound(const double *a, size_t n, double x, int le)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t m = lo + (hi - lo) / 2;
		if (a[m] < x || (le && a[m] == x))
			lo = m + 1;
		else
			hi = m;
	}
	return lo;
}

/* ---- KLL sketch -------------------------------------------------------- */

#define KLL_MAXLEV 60

struct vb_kll {
	int k;
	int H;                   /* levels in use */
	double *lv[KLL_MAXLEV];
	size_t len[KLL_MAXLEV], cap[KLL_MAXLEV];
	uint64_t n;
	uint64_t rng;
	size_t cap0;             /* capacity of level 0 for the current H */
	size_t caps[KLL_MAXLEV]; /* capacity of each level for the current H */
};

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Capacity of level h when H levels are in use: k at the top, shrinking by
 * 2/3 per level below it, at least 8. */
static size_t kll_capacity(const struct vb_kll *s, int h)
{
	double c = s->k * pow(2.0 / 3.0, s->H - 1 - h);
	return c < 8 ? 8 : (size_t)ceil(c);
}

static void kll_set_levels(struct vb_kll *s, int H)
{
	s->H = H;
	for (int h = 0; h < H; h++)
		s->caps[h] = kll_capacity(s, h);
	s->cap0 = s->caps[0];
}

struct vb_kll *vb_kll_new(int k, uint64_t seed)
{
	struct vb_kll *s = calloc(1, sizeof *s);

	if (!s)
		return nomem(), NULL;
	s->k = k < 8 ? 8 : k;
	s->rng = seed;
	kll_set_levels(s, 1);
	return s;
}

void vb_kll_free(struct vb_kll *s)
{
	if (!s)
		return;
	for (int h = 0; h < KLL_MAXLEV; h++)
		free(s->lv[h]);
	free(s);
}

static int kll_push(struct vb_kll *s, int h, double v)
{
	if (s->len[h] == s->cap[h]) {
		size_t nc = s->cap[h] ? s->cap[h] * 2 : 16;
		double *p = realloc(s->lv[h], nc * sizeof *p);
		if (!p)
			return nomem();
		s->lv[h] = p;
		s->cap[h] = nc;
	}
	s->lv[h][s->len[h]++] = v;
	return 0;
}

/* Compact every over-full level: sort it and promote every other item
 * (random offset) to the level above, where items weigh twice as much. */
static int kll_compress(struct vb_kll *s)
{
	for (int h = 0; h < s->H; h++) {
		size_t n = s->len[h], i, m;
		int off;

		if (n < s->caps[h])
			continue;
		if (h == s->H - 1) {
			if (s->H == KLL_MAXLEV)
				return vb_err_set("quantile sketch overflow");
			kll_set_levels(s, s->H + 1);
		}
		sort_d(s->lv[h], n);
		off = (int)(splitmix(&s->rng) & 1);
		/* an even number of items is compacted; with an odd count the
		 * largest item stays on this level */
		m = n & ~(size_t)1;
		for (i = (size_t)off; i < m; i += 2)
			if (kll_push(s, h + 1, s->lv[h][i]) < 0)
				return -1;
		if (n & 1) {
			s->lv[h][0] = s->lv[h][n - 1];
			s->len[h] = 1;
		} else {
			s->len[h] = 0;
		}
	}
	return 0;
}

int vb_kll_add(struct vb_kll *s, double v)
{
	if (isnan(v))
		return 0;
	if (kll_push(s, 0, v) < 0)
		return -1;
	s->n++;
	if (s->len[0] >= s->cap0)
		return kll_compress(s);
	return 0;
}

int vb_kll_merge(struct vb_kll *dst, const struct vb_kll *src)
{
	for (int h = 0; h < src->H; h++) {
		if (dst->H <= h)
			kll_set_levels(dst, h + 1);
		for (size_t i = 0; i < src->len[h]; i++)
			if (kll_push(dst, h, src->lv[h][i]) < 0)
				return -1;
	}
	dst->n += src->n;
	return kll_compress(dst);
}

uint64_t vb_kll_n(const struct vb_kll *s)
{
	return s->n;
}

double vb_kll_rank(const struct vb_kll *s, double x)
{
	double r = 0;

	for (int h = 0; h < s->H; h++)
		for (size_t i = 0; i < s->len[h]; i++)
			if (s->lv[h][i] <= x)
				r += ldexp(1, h);
	return r;
}

struct wv {
	double v, w;
};

static int cmp_wv(const void *a, const void *b)
{
	double x = ((const struct wv *)a)->v, y = ((const struct wv *)b)->v;
	return x < y ? -1 : x > y;
}

/* All items with their weights, sorted by value; cumulative weights in w. */
static struct wv *kll_sorted(const struct vb_kll *s, size_t *n)
{
	size_t m = 0, j = 0;
	struct wv *a;

	for (int h = 0; h < s->H; h++)
		m += s->len[h];
	a = malloc((m ? m : 1) * sizeof *a);
	if (!a)
		return nomem(), NULL;
	for (int h = 0; h < s->H; h++)
		for (size_t i = 0; i < s->len[h]; i++) {
			a[j].v = s->lv[h][i];
			a[j++].w = ldexp(1, h);
		}
	qsort(a, m, sizeof *a, cmp_wv);
	for (j = 1; j < m; j++)
		a[j].w += a[j - 1].w;
	*n = m;
	return a;
}

static double wv_quantile(const struct wv *a, size_t n, double q)
{
	double target;
	size_t lo = 0, hi;

	if (!n)
		return NAN;
	target = q * a[n - 1].w;
	hi = n - 1;
	while (lo < hi) {
		size_t m = lo + (hi - lo) / 2;
		if (a[m].w < target)
			lo = m + 1;
		else
			hi = m;
	}
	return a[lo].v;
}

double vb_kll_quantile(const struct vb_kll *s, double q)
{
	size_t n;
	struct wv *a = kll_sorted(s, &n);
	double v;

	if (!a)
		return NAN;
	v = wv_quantile(a, n, q);
	free(a);
	return v;
}

/* ---- hashing and HyperLogLog ------------------------------------------ */

static inline uint64_t rd64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

/* A fast 64-bit hash of a byte string (multiply-xorshift over 8-byte words). */
static uint64_t hash_bytes(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ (n * 0xff51afd7ed558ccdULL);

	while (n >= 8) {
		h = (h ^ rd64(p)) * 0xc4ceb9fe1a85ec53ULL;
		h ^= h >> 29;
		p += 8;
		n -= 8;
	}
	if (n) {
		uint64_t t = 0;
		memcpy(&t, p, n);
		h = (h ^ t) * 0xc4ceb9fe1a85ec53ULL;
	}
	h ^= h >> 32;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 29;
	return h;
}

#define HLL_P 14
#define HLL_M (1u << HLL_P)

static void hll_add(uint8_t *reg, uint64_t h)
{
	uint32_t idx = (uint32_t)(h >> (64 - HLL_P));
	uint64_t w = (h << HLL_P) | ((uint64_t)1 << (HLL_P - 1));
	uint8_t r = (uint8_t)(__builtin_clzll(w) + 1);

	if (r > reg[idx])
		reg[idx] = r;
}

static double hll_estimate(const uint8_t *reg)
{
	double sum = 0, m = HLL_M, alpha = 0.7213 / (1 + 1.079 / m), e;
	unsigned zeros = 0;

	for (unsigned i = 0; i < HLL_M; i++) {
		sum += ldexp(1, -reg[i]);
		zeros += !reg[i];
	}
	e = alpha * m * m / sum;
	if (e <= 2.5 * m && zeros)
		e = m * log(m / zeros);
	return e;
}

/* ---- distinct values: exact table, then HLL + Misra-Gries --------------- */

struct dent {
	uint64_t h;
	uint64_t count;
	uint64_t prefix; /* the first 8 bytes, zero padded: short values need no arena */
	uint32_t off;    /* into the arena (at most ARENA_MAX + one value) */
	uint32_t used;   /* length + 1; 0 for an empty slot */
};

struct dtab {
	struct dent *e;
	size_t cap, n;   /* cap is a power of two */
	char *arena;
	size_t alen, acap;
	int overflow;    /* exact bound passed: HLL + Misra-Gries summary */
	uint8_t *hll;
	uint64_t mg_error;  /* total decrements (bound on undercount) */
};

static int dtab_init(struct dtab *t, size_t cap)
{
	t->e = calloc(cap, sizeof *t->e);
	if (!t->e)
		return nomem();
	t->cap = cap;
	t->n = 0;
	return 0;
}

static int arena_put(struct dtab *t, const char *s, size_t n, uint32_t *off)
{
	if (t->alen + n + 1 > t->acap) {
		size_t nc = t->acap ? t->acap * 2 : 4096;
		char *p;
		while (nc < t->alen + n + 1)
			nc *= 2;
		p = realloc(t->arena, nc);
		if (!p)
			return nomem();
		t->arena = p;
		t->acap = nc;
	}
	memcpy(t->arena + t->alen, s, n);
	t->arena[t->alen + n] = 0;
	*off = (uint32_t)t->alen;
	t->alen += n + 1;
	return 0;
}

/* Slot of (h, s) or of the empty slot where it belongs. */
static size_t dtab_find(const struct dtab *t, uint64_t h, const char *s, size_t n)
{
	size_t mask = t->cap - 1, i = (size_t)h & mask;

	uint64_t pre = 0;

	memcpy(&pre, s, n < 8 ? n : 8);
	while (t->e[i].used) {
		const struct dent *d = &t->e[i];
		if (d->h == h && d->used == n + 1 && d->prefix == pre &&
		    (n <= 8 || !memcmp(t->arena + d->off + 8, s + 8, n - 8)))
			return i;
		i = (i + 1) & mask;
	}
	return i;
}

static int dtab_grow(struct dtab *t)
{
	struct dent *old = t->e;
	size_t oc = t->cap;

	if (dtab_init(t, oc * 2) < 0) {
		t->e = old;
		t->cap = oc;
		return -1;
	}
	for (size_t i = 0; i < oc; i++)
		if (old[i].used) {
			size_t j = (size_t)old[i].h & (t->cap - 1);
			while (t->e[j].used)
				j = (j + 1) & (t->cap - 1);
			t->e[j] = old[i];
			t->n++;
		}
	free(old);
	return 0;
}

static int cmp_u64_desc(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x > y ? -1 : x < y;
}

/* Rebuild the table keeping entries whose count exceeds `sub` (their count
 * reduced by sub), with a fresh arena: the Misra-Gries decrement step. */
static int dtab_rebuild(struct dtab *t, uint64_t sub)
{
	struct dtab nt = { 0 };
	size_t cap = 16;

	while (cap < 4 * MG_KEEP)
		cap *= 2;
	if (dtab_init(&nt, cap) < 0)
		return -1;
	for (size_t i = 0; i < t->cap; i++) {
		struct dent *d = &t->e[i];
		size_t j;
		if (!d->used || d->count <= sub)
			continue;
		j = dtab_find(&nt, d->h, t->arena + d->off, d->used - 1);
		if (arena_put(&nt, t->arena + d->off, d->used - 1, &nt.e[j].off) < 0) {
			free(nt.e);
			free(nt.arena);
			return -1;
		}
		nt.e[j].h = d->h;
		nt.e[j].prefix = d->prefix;
		nt.e[j].count = d->count - sub;
		nt.e[j].used = d->used;
		nt.n++;
	}
	free(t->e);
	free(t->arena);
	t->e = nt.e;
	t->cap = nt.cap;
	t->n = nt.n;
	t->arena = nt.arena;
	t->alen = nt.alen;
	t->acap = nt.acap;
	t->mg_error += sub;
	return 0;
}

/* The count of the k-th largest entry (1-based), 0 if fewer. */
static uint64_t dtab_kth(const struct dtab *t, size_t k)
{
	uint64_t *c, v;
	size_t m = 0;

	if (t->n < k)
		return 0;
	c = malloc(t->n * sizeof *c);
	if (!c)
		return 0;
	for (size_t i = 0; i < t->cap; i++)
		if (t->e[i].used)
			c[m++] = t->e[i].count;
	qsort(c, m, sizeof *c, cmp_u64_desc);
	v = c[k - 1];
	free(c);
	return v;
}

/* Switch from exact counting to HLL + a Misra-Gries summary. */
static int dtab_overflow(struct dtab *t)
{
	t->hll = calloc(HLL_M, 1);
	if (!t->hll)
		return nomem();
	for (size_t i = 0; i < t->cap; i++)
		if (t->e[i].used)
			hll_add(t->hll, t->e[i].h);
	t->overflow = 1;
	/* keep the MG_KEEP most frequent; the rest counts as decremented */
	return dtab_rebuild(t, dtab_kth(t, MG_KEEP + 1));
}

static void dtab_prefetch(const struct dtab *t, uint64_t h)
{
	__builtin_prefetch(&t->e[(size_t)h & (t->cap - 1)]);
}

static int dtab_add(struct dtab *t, const char *s, size_t n, uint64_t h, uint64_t bound)
{
	size_t i;

	if (t->overflow)
		hll_add(t->hll, h);
	i = dtab_find(t, h, s, n);
	if (t->e[i].used) {
		t->e[i].count++;
		return 0;
	}
	if (arena_put(t, s, n, &t->e[i].off) < 0)
		return -1;
	t->e[i].h = h;
	t->e[i].prefix = 0;
	memcpy(&t->e[i].prefix, s, n < 8 ? n : 8);
	t->e[i].count = 1;
	t->e[i].used = (uint32_t)n + 1;
	t->n++;
	if (!t->overflow) {
		if (t->n > bound || t->alen > ARENA_MAX)
			return dtab_overflow(t);
	} else if (t->n >= 2 * MG_KEEP) {
		return dtab_rebuild(t, dtab_kth(t, MG_KEEP + 1));
	}
	if (t->n * 2 > t->cap)
		return dtab_grow(t);
	return 0;
}

static void dtab_free(struct dtab *t)
{
	free(t->e);
	free(t->arena);
	free(t->hll);
}

/* ---- per-column accumulator ------------------------------------------- */

struct vb_colacc {
	uint64_t count, missing, n_bool, n_int, n_float, n_string, n_nan, n_inf, n_true, zeros;
	uint64_t n_num;
	double mean, m2, min, max;
	double len_sum;
	double *exact;        /* first VB_STATS_EXACT numeric values */
	size_t nexact;
	struct vb_kll *kll;   /* after that */
	uint64_t *bins;       /* 256 counts for |u1 / |i1 arrays (value + 128 for i1) */
	int bins_signed;
	struct dtab tab;
	/* finished views */
	double *sorted;       /* exact values sorted, or KLL items */
	double *cw;           /* cumulative weights for KLL items */
	size_t nsorted;
	uint64_t seed;
};

static struct vb_colstat *col_new(struct vb_stats *st, const char *name)
{
	struct vb_colstat *c = calloc(1, sizeof *c);

	if (!c)
		return nomem(), NULL;
	c->name = strdup(name);
	c->acc = calloc(1, sizeof *c->acc);
	if (!c->name || !c->acc || dtab_init(&c->acc->tab, 64) < 0)
		goto fail;
	c->acc->min = INFINITY;
	c->acc->max = -INFINITY;
	c->acc->seed = st->opts.seed + st->ncols * 0x9e3779b97f4a7c15ULL;
	c->values_per_example = 1;
	return c;
fail:
	if (c->acc)
		free(c->acc->tab.e);
	free(c->acc);
	free(c->name);
	free(c);
	nomem();
	return NULL;
}

static void acc_free(struct vb_colacc *a)
{
	if (!a)
		return;
	free(a->exact);
	vb_kll_free(a->kll);
	free(a->bins);
	dtab_free(&a->tab);
	free(a->sorted);
	free(a->cw);
	free(a);
}

static void col_free(struct vb_colstat *c)
{
	if (!c)
		return;
	acc_free(c->acc);
	for (size_t i = 0; i < c->ntop; i++)
		free(c->top[i].value);
	free(c->top);
	free(c->name);
	free(c);
}

static int add_col(struct vb_stats *st, const char *name)
{
	struct vb_colstat **p = realloc(st->cols, (st->ncols + 1) * sizeof *p);

	if (!p)
		return nomem();
	st->cols = p;
	p[st->ncols] = col_new(st, name);
	if (!p[st->ncols])
		return -1;
	st->ncols++;
	return 0;
}

/* A finite or non-finite number for the numeric statistics. */
static int acc_num(struct vb_colacc *a, double v)
{
	double d;

	if (isnan(v)) {
		a->n_nan++;
		return 0;
	}
	if (isinf(v)) {
		a->n_inf++;
		return 0;
	}
	a->n_num++;
	d = v - a->mean;
	a->mean += d / (double)a->n_num;
	a->m2 += d * (v - a->mean);
	if (v < a->min)
		a->min = v;
	if (v > a->max)
		a->max = v;
	if (v == 0)
		a->zeros++;
	if (!a->kll) {
		if (a->nexact < VB_STATS_EXACT) {
			if (!a->exact) {
				a->exact = malloc(VB_STATS_EXACT * sizeof *a->exact);
				if (!a->exact)
					return nomem();
			}
			a->exact[a->nexact++] = v;
			return 0;
		}
		a->kll = vb_kll_new(512, a->seed);
		if (!a->kll)
			return -1;
		for (size_t i = 0; i < a->nexact; i++)
			if (vb_kll_add(a->kll, a->exact[i]) < 0)
				return -1;
		free(a->exact);
		a->exact = NULL;
		a->nexact = 0;
	}
	return vb_kll_add(a->kll, v);
}

static const double pow10tab[23] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};

/* Classify a field: 1 int, 2 float (incl. nan/inf), 0 not a number.  *v
 * gets the value.  Plain decimals with at most 15 digits are converted
 * exactly (both operands of the one division are exact, so the quotient
 * is correctly rounded); anything else goes through strtod. */
static int parse_num(const char *s, size_t n, double *v)
{
	const char *p = s, *end = s + n;
	uint64_t m = 0;
	int neg = 0, digits = 0, frac = 0, dot = 0;
	char *e;

	if (p < end && (*p == '-' || *p == '+'))
		neg = *p++ == '-';
	if (p == end)
		return 0;
	if ((*p >= '0' && *p <= '9') || *p == '.') {
		const char *q = p;
		while (q < end) {
			if (*q >= '0' && *q <= '9') {
				if (digits < 19)
					m = m * 10 + (uint64_t)(*q - '0');
				digits++;
				if (dot)
					frac++;
			} else if (*q == '.' && !dot) {
				dot = 1;
			} else {
				break;
			}
			q++;
		}
		if (q == end && digits) {
			if (!dot && digits <= 18) {
				*v = neg ? -(double)m : (double)m;
				return 1;
			}
			if (digits <= 15 && frac <= 22) {
				double d = (double)m / pow10tab[frac];
				*v = neg ? -d : d;
				return dot ? 2 : 1;
			}
		}
		if (q < end && (*q == 'x' || *q == 'X'))
			return 0;
	} else {
		/* only nan / inf / infinity words */
		size_t r = (size_t)(end - p);
		if (!((r == 3 && (!strncasecmp(p, "nan", 3) || !strncasecmp(p, "inf", 3))) ||
		      (r == 8 && !strncasecmp(p, "infinity", 8))))
			return 0;
	}
	errno = 0;
	*v = strtod(s, &e);
	if (e != end)
		return 0;
	if (!dot && digits && digits <= 18 && !memchr(s, 'e', n) && !memchr(s, 'E', n))
		return 1;
	return 2;
}

static int is_bool(const char *s, size_t n, int *val)
{
	if (n == 4 && (!memcmp(s, "true", 4) || !memcmp(s, "True", 4) || !memcmp(s, "TRUE", 4)))
		return *val = 1, 1;
	if (n == 5 && (!memcmp(s, "false", 5) || !memcmp(s, "False", 5) || !memcmp(s, "FALSE", 5)))
		return *val = 0, 1;
	return 0;
}

/* Missing-value markers: an empty field, and R's and SQL's NA, N/A, NULL. */
static int is_missing(const char *s, size_t n)
{
	switch (n) {
	case 0: return 1;
	case 2: return !memcmp(s, "NA", 2);
	case 3: return !memcmp(s, "N/A", 3);
	case 4: return !memcmp(s, "NULL", 4) || !memcmp(s, "null", 4);
	}
	return 0;
}

/* One text field of a column, with its hash. */
static int col_add_text_h(struct vb_stats *st, struct vb_colstat *c, const char *s, size_t n,
			  uint64_t h)
{
	struct vb_colacc *a = c->acc;
	double v;
	int k, b;

	if (is_missing(s, n)) {
		a->missing++;
		return 0;
	}
	a->count++;
	a->len_sum += (double)n;
	k = parse_num(s, n, &v);
	if (k == 1) {
		a->n_int++;
		if (acc_num(a, v) < 0)
			return -1;
	} else if (k == 2) {
		a->n_float++;
		if (acc_num(a, v) < 0)
			return -1;
	} else if (is_bool(s, n, &b)) {
		a->n_bool++;
		a->n_true += (uint64_t)b;
	} else {
		a->n_string++;
	}
	return dtab_add(&a->tab, s, n, h, st->opts.unique_max);
}

static int col_add_text(struct vb_stats *st, struct vb_colstat *c, const char *s, size_t n)
{
	return col_add_text_h(st, c, s, n, hash_bytes(s, n));
}

/* ---- stats object ------------------------------------------------------ */

struct npy_priv {
	struct img {
		double sum, sumsq;
		float min, max;
	} *img;
	size_t nimg, cap;
	int64_t per_image;
};

struct vb_stats *vb_stats_new(const struct vb_stats_opts *opts)
{
	struct vb_stats *st = calloc(1, sizeof *st);

	if (!st)
		return nomem(), NULL;
	if (opts)
		st->opts = *opts;
	if (!st->opts.unique_max)
		st->opts.unique_max = 65536;
	if (st->opts.top <= 0)
		st->opts.top = 10;
	if (st->opts.kll_k <= 0)
		st->opts.kll_k = 512;
	return st;
}

void vb_stats_free(struct vb_stats *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->ncols; i++)
		col_free(st->cols[i]);
	free(st->cols);
	free(st->labels);
	if (st->priv) {
		free(((struct npy_priv *)st->priv)->img);
		free(st->priv);
	}
	free(st);
}

struct vb_colstat *vb_stats_col(const struct vb_stats *st, const char *name)
{
	for (size_t i = 0; i < st->ncols; i++)
		if (!strcmp(st->cols[i]->name, name))
			return st->cols[i];
	return NULL;
}

int vb_stats_read_csv(struct vb_stats *st, FILE *f)
{
	struct vb_csv *r = vb_csv_open(f);
	char **fld;
	size_t nf, *lens;
	uint64_t *hv = NULL;
	int rc;

	if (!r)
		return -1;
	snprintf(st->format, sizeof st->format, "csv");
	rc = vb_csv_next(r, &fld, &nf, &lens);
	if (rc <= 0) {
		if (rc == 0)
			vb_err_set("empty input: no header row");
		vb_csv_close(r);
		return -1;
	}
	hv = malloc(nf * sizeof *hv);
	if (!hv) {
		vb_csv_close(r);
		return nomem();
	}
	for (size_t i = 0; i < nf; i++) {
		char name[32];
		const char *nm = fld[i];
		if (!*nm) {
			snprintf(name, sizeof name, "column%zu", i + 1);
			nm = name;
		}
		if (vb_stats_col(st, nm)) {
			vb_err_set("line 1: duplicate column name '%s'", nm);
			rc = -1;
			goto out;
		}
		if (add_col(st, nm) < 0) {
			rc = -1;
			goto out;
		}
	}
	while ((rc = vb_csv_next(r, &fld, &nf, &lens)) > 0) {
		if (nf != st->ncols) {
			/* the reader rejects ragged rows; an empty line is one field */
			if (nf == 1 && !lens[0])
				continue;
			vb_err_set("line %ld: %zu fields, expected %zu", vb_csv_line(r), nf, st->ncols);
			rc = -1;
			break;
		}
		st->num_examples++;
		/* hash every field and prefetch its table slot first, so that the
		 * cache misses of the row's lookups overlap */
		for (size_t i = 0; i < nf; i++) {
			hv[i] = hash_bytes(fld[i], lens[i]);
			dtab_prefetch(&st->cols[i]->acc->tab, hv[i]);
		}
		for (size_t i = 0; i < nf; i++)
			if (col_add_text_h(st, st->cols[i], fld[i], lens[i], hv[i]) < 0) {
				free(hv);
				vb_err_prefix("line %ld, column '%s'", vb_csv_line(r), st->cols[i]->name);
				vb_csv_close(r);
				return -1;
			}
	}
out:
	free(hv);
	vb_csv_close(r);
	return rc < 0 ? -1 : 0;
}

/* ---- .npy --------------------------------------------------------------- */

static double elem(const void *p, enum vb_dtype t, size_t i)
{
	switch (t) {
	case VB_U8: return ((const uint8_t *)p)[i];
	case VB_I8: return ((const int8_t *)p)[i];
	case VB_I32: { int32_t v; memcpy(&v, (const char *)p + 4 * i, 4); return v; }
	case VB_I64: { int64_t v; memcpy(&v, (const char *)p + 8 * i, 8); return (double)v; }
	case VB_F32: { float v; memcpy(&v, (const char *)p + 4 * i, 4); return v; }
	case VB_F64: { double v; memcpy(&v, (const char *)p + 8 * i, 8); return v; }
	}
	return NAN;
}

static int is_int_dtype(enum vb_dtype t)
{
	return t == VB_U8 || t == VB_I8 || t == VB_I32 || t == VB_I64;
}

/* Stream the data of the first array (X): value statistics and, per
 * example (outermost index), sum, sum of squares, min and max. */
static int npy_read_x(struct vb_stats *st, FILE *f, const struct vb_npy_header *h,
		      struct vb_colstat *c)
{
	struct npy_priv *pv = st->priv;
	struct vb_colacc *a = c->acc;
	size_t esz = vb_dtype_size(h->dtype), chunk = (1u << 20) / esz, done = 0;
	int64_t n = h->ndim ? h->shape[0] : 1;
	int64_t per = n ? h->count / n : 0;
	unsigned char *buf;
	size_t img = 0, inimg = 0;

	pv->per_image = per;
	c->values_per_example = per;
	/* per-example summaries grow with the data actually read, so a header
	 * that lies about its size cannot make us allocate for it */
	if (n > 0 && per > 0) {
		pv->cap = 1024;
		pv->img = calloc(pv->cap, sizeof *pv->img);
		if (!pv->img)
			return nomem();
		pv->nimg = (size_t)n;
	}
	if (h->dtype == VB_U8 || h->dtype == VB_I8) {
		a->bins = calloc(256, sizeof *a->bins);
		if (!a->bins)
			return nomem();
		a->bins_signed = h->dtype == VB_I8;
	}
	buf = malloc(chunk * esz);
	if (!buf)
		return nomem();
	while (done < (size_t)h->count) {
		size_t m = (size_t)h->count - done, i = 0;
		if (m > chunk)
			m = chunk;
		if (vb_npy_read_data(f, buf, m * esz) < 0) {
			free(buf);
			return -1;
		}
		while (i < m) {
			size_t seg = m - i;
			struct img *im = NULL;
			if (pv->img) {
				if (img == pv->cap) {
					struct img *p = realloc(pv->img, 2 * pv->cap * sizeof *p);
					if (!p) {
						free(buf);
						return nomem();
					}
					memset(p + pv->cap, 0, pv->cap * sizeof *p);
					pv->img = p;
					pv->cap *= 2;
				}
				im = &pv->img[img];
			}
			double s = 0, ss = 0, mn = INFINITY, mx = -INFINITY;
			if (per > 0 && seg > (size_t)per - inimg)
				seg = (size_t)per - inimg;
			if (a->bins) {
				const uint8_t *p = buf + i;
				uint64_t *bins = a->bins;
				uint64_t is = 0, iss = 0;
				unsigned umn = 255, umx = 0;
				for (size_t j = 0; j < seg; j++) {
					unsigned u = p[j];
					bins[u]++;
					if (!a->bins_signed) {
						is += u;
						iss += u * u;
						umn = u < umn ? u : umn;
						umx = u > umx ? u : umx;
					} else {
						double v = (int8_t)p[j];
						s += v;
						ss += v * v;
						mn = v < mn ? v : mn;
						mx = v > mx ? v : mx;
					}
				}
				if (!a->bins_signed) {
					s = (double)is;
					ss = (double)iss;
					mn = umn;
					mx = umx;
				}
			} else {
				for (size_t j = 0; j < seg; j++) {
					double v = elem(buf, h->dtype, i + j);
					a->count++;
					if (is_int_dtype(h->dtype))
						a->n_int++;
					else
						a->n_float++;
					if (acc_num(a, v) < 0) {
						free(buf);
						return -1;
					}
					if (isfinite(v)) {
						s += v;
						ss += v * v;
						mn = v < mn ? v : mn;
						mx = v > mx ? v : mx;
					}
				}
			}
			if (im) {
				if (!inimg) {
					im->min = INFINITY;
					im->max = -INFINITY;
				}
				im->sum += s;
				im->sumsq += ss;
				if (mn < im->min)
					im->min = (float)mn;
				if (mx > im->max)
					im->max = (float)mx;
			}
			inimg += seg;
			if (per > 0 && inimg == (size_t)per) {
				inimg = 0;
				img++;
			}
			i += seg;
		}
		done += m;
	}
	free(buf);
	return 0;
}

/* A later array: generic values; labels (y) when it is the second array,
 * integer, one value per example of X. */
static int npy_read_other(struct vb_stats *st, FILE *f, const struct vb_npy_header *h,
			  struct vb_colstat *c, int labels)
{
	struct npy_priv *pv = st->priv;
	size_t esz = vb_dtype_size(h->dtype), chunk = (1u << 20) / esz, done = 0;
	unsigned char *buf = malloc(chunk * esz);
	struct vb_labelstat *ls = NULL;
	size_t nls = 0;
	double *lsum = NULL, *lss = NULL;
	int too_many = 0;

	if (!buf)
		return nomem();
	if (labels) {
		ls = calloc(LABELS_MAX, sizeof *ls);
		lsum = calloc(LABELS_MAX, sizeof *lsum);
		lss = calloc(LABELS_MAX, sizeof *lss);
		if (!ls || !lsum || !lss)
			goto nomem;
	}
	c->values_per_example = h->ndim && h->shape[0] ? h->count / h->shape[0] : 1;
	while (done < (size_t)h->count) {
		size_t m = (size_t)h->count - done;
		if (m > chunk)
			m = chunk;
		if (vb_npy_read_data(f, buf, m * esz) < 0)
			goto fail;
		for (size_t i = 0; i < m; i++) {
			double v = elem(buf, h->dtype, i);
			char txt[40];
			size_t tl;
			if (is_int_dtype(h->dtype))
				tl = (size_t)snprintf(txt, sizeof txt, "%.0f", v);
			else
				tl = strlen(vb_csv_fmt_double(txt, v));
			if (col_add_text(st, c, txt, tl) < 0)
				goto fail;
			if (labels && !too_many) {
				size_t k;
				struct img *im = &pv->img[done + i];
				for (k = 0; k < nls; k++)
					if (ls[k].label == (int64_t)v)
						break;
				if (k == nls) {
					if (nls == LABELS_MAX) {
						too_many = 1;
						continue;
					}
					ls[nls].label = (int64_t)v;
					ls[nls].min = INFINITY;
					ls[nls].max = -INFINITY;
					nls++;
				}
				ls[k].count++;
				lsum[k] += im->sum;
				lss[k] += im->sumsq;
				if (im->min < ls[k].min)
					ls[k].min = im->min;
				if (im->max > ls[k].max)
					ls[k].max = im->max;
				if (im->min == im->max)
					ls[k].blank++;
			}
		}
		done += m;
	}
	if (labels && !too_many) {
		double npx = (double)pv->per_image;
		for (size_t k = 0; k < nls; k++) {
			double cnt = (double)ls[k].count * npx, mean = lsum[k] / cnt;
			double var = lss[k] / cnt - mean * mean;
			ls[k].mean = mean;
			ls[k].std = sqrt(var > 0 ? var : 0);
		}
		/* sort by label */
		for (size_t i = 1; i < nls; i++)
			for (size_t j = i; j > 0 && ls[j - 1].label > ls[j].label; j--) {
				struct vb_labelstat t = ls[j];
				ls[j] = ls[j - 1];
				ls[j - 1] = t;
			}
		st->labels = ls;
		st->nlabels = nls;
		ls = NULL;
	}
	free(ls);
	free(lsum);
	free(lss);
	free(buf);
	return 0;
nomem:
	nomem();
fail:
	free(ls);
	free(lsum);
	free(lss);
	free(buf);
	return -1;
}

int vb_stats_read_npy(struct vb_stats *st, FILE *f)
{
	struct vb_npy_header h;
	int rc;
	int64_t nx = 0;

	snprintf(st->format, sizeof st->format, "npy");
	st->priv = calloc(1, sizeof(struct npy_priv));
	if (!st->priv)
		return nomem();
	while ((rc = vb_npy_read_header(f, &h, 0)) > 0) {
		size_t k = st->narrays;
		struct vb_arrayinfo *ai;
		char name[16];
		int labels;

		if (k == sizeof st->arrays / sizeof st->arrays[0])
			return vb_err_set("more than %zu arrays in the stream", k);
		if (k == 0)
			snprintf(name, sizeof name, "X");
		else if (k == 1)
			snprintf(name, sizeof name, "y");
		else
			snprintf(name, sizeof name, "array%zu", k + 1);
		ai = &st->arrays[k];
		snprintf(ai->name, sizeof ai->name, "%s", name);
		snprintf(ai->dtype, sizeof ai->dtype, "%s", vb_dtype_descr(h.dtype));
		ai->ndim = h.ndim;
		memcpy(ai->shape, h.shape, sizeof ai->shape);
		st->narrays++;
		if (add_col(st, name) < 0)
			return -1;
		if (k == 0) {
			nx = h.ndim ? h.shape[0] : 1;
			st->num_examples = (uint64_t)nx;
			rc = npy_read_x(st, f, &h, st->cols[st->ncols - 1]);
		} else {
			labels = k == 1 && is_int_dtype(h.dtype) && h.ndim == 1 && h.shape[0] == nx &&
				 ((struct npy_priv *)st->priv)->img;
			rc = npy_read_other(st, f, &h, st->cols[st->ncols - 1], labels);
		}
		if (rc < 0)
			return vb_err_prefix("array %zu (%s)", k + 1, name);
	}
	if (rc < 0)
		return vb_err_prefix("array %zu", st->narrays + 1);
	if (!st->narrays)
		return vb_err_set("empty input: no .npy array");
	return 0;
}

int vb_stats_read(struct vb_stats *st, FILE *f)
{
	int c = getc(f);

	if (c == EOF) {
		if (ferror(f))
			return vb_err_sys("read error");
		return vb_err_set("empty input");
	}
	if (ungetc(c, f) == EOF)
		return vb_err_set("cannot push back a byte");
	if (c == 0x93)
		return vb_stats_read_npy(st, f);
	if (c == 0x1f)
		return vb_err_set("gzip-compressed input: decompress it first (zcat FILE | ...)");
	return vb_stats_read_csv(st, f);
}

/* ---- finishing ------------------------------------------------------------ */

/* Linear-interpolation quantile of sorted exact values (NumPy's default). */
static double q_exact(const double *a, size_t n, double q)
{
	double pos = q * (double)(n - 1), fr;
	size_t i = (size_t)pos;

	if (i + 1 >= n)
		return a[n - 1];
	fr = pos - (double)i;
	return a[i] + (a[i + 1] - a[i]) * fr;
}

/* Quantile from the 256 bins (nearest rank on the discrete values,
 * interpolated like NumPy). */
static double bins_value(const struct vb_colacc *a, int b)
{
	return a->bins_signed ? (double)(int8_t)(uint8_t)b : (double)b;
}

static double bins_at(const struct vb_colacc *a, uint64_t rank)
{
	uint64_t c = 0;

	for (int i = 0; i < 256; i++) {
		int b = a->bins_signed ? (i + 128) & 255 : i;
		c += a->bins[b];
		if (c > rank)
			return bins_value(a, b);
	}
	return a->max;
}

static double q_bins(const struct vb_colacc *a, double q)
{
	double pos = q * (double)(a->n_num - 1), fr, lo, hi;
	uint64_t i = (uint64_t)pos;

	lo = bins_at(a, i);
	if (i + 1 >= a->n_num)
		return lo;
	hi = bins_at(a, i + 1);
	fr = pos - (double)i;
	return lo + (hi - lo) * fr;
}

/* Values below x, or at most x when le: exact for small columns and byte
 * bins, scaled from the KLL weights otherwise. */
static double count_below(const struct vb_colstat *c, double x, int le)
{
	const struct vb_colacc *a = c->acc;
	size_t i;

	if (!a)
		return NAN;
	if (a->bins) {
		double r = 0;
		for (int b = 0; b < 256; b++) {
			double v = bins_value(a, b);
			if (v < x || (le && v == x))
				r += (double)a->bins[b];
		}
		return r;
	}
	if (!a->nsorted)
		return 0;
	i = lower_bound(a->sorted, a->nsorted, x, le);
	if (!a->cw)
		return (double)i;
	/* KLL items carry weights; scale to the true count */
	return i ? a->cw[i - 1] * (double)a->n_num / a->cw[a->nsorted - 1] : 0;
}

double vb_colstat_count_lt(const struct vb_colstat *c, double x)
{
	return count_below(c, x, 0);
}

double vb_colstat_count_le(const struct vb_colstat *c, double x)
{
	return count_below(c, x, 1);
}

static double quantile(const struct vb_colacc *a, double q)
{
	if (a->bins)
		return q_bins(a, q);
	if (!a->nsorted)
		return NAN;
	if (!a->cw)
		return q_exact(a->sorted, a->nsorted, q);
	{
		double target = q * a->cw[a->nsorted - 1];
		size_t lo = 0, hi = a->nsorted - 1;
		if (q <= 0)
			return a->min;
		if (q >= 1)
			return a->max;
		while (lo < hi) {
			size_t m = lo + (hi - lo) / 2;
			if (a->cw[m] < target)
				lo = m + 1;
			else
				hi = m;
		}
		return a->sorted[lo];
	}
}

/* Counts of values in [e[i], e[i+1]) (the last bucket closed), as NumPy's
 * histogram counts them. */
static void bucket_counts(const struct vb_colstat *c, const double *e, uint64_t *out)
{
	double prev = 0;

	for (int i = 0; i < 10; i++) {
		double r = i == 9 ? (double)c->acc->n_num : vb_colstat_count_lt(c, e[i + 1]);
		out[i] = (uint64_t)llround(r - prev);
		prev = r;
	}
}

/* Most frequent first, then by value (qsort_r over slot indices of t). */
static int cmp_top(const void *a, const void *b, void *arg)
{
	const struct dtab *t = arg;
	const struct dent *x = &t->e[*(const size_t *)a], *y = &t->e[*(const size_t *)b];

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(t->arena + x->off, t->arena + y->off);
}

static int finish_col(struct vb_stats *st, struct vb_colstat *c)
{
	struct vb_colacc *a = c->acc;
	const struct dtab *t = &a->tab;
	size_t *idx, m = 0, keep;

	c->count = a->count;
	c->missing = a->missing;
	c->n_bool = a->n_bool;
	c->n_int = a->n_int;
	c->n_float = a->n_float;
	c->n_string = a->n_string;
	c->n_nan = a->n_nan;
	c->n_inf = a->n_inf;
	c->n_true = a->n_true;
	c->mean = c->std = c->min = c->max = NAN;
	c->avg_len = NAN;
	for (int i = 0; i < 7; i++)
		c->q[i] = NAN;

	if (a->bins) {
		/* |u1 or |i1 array: everything from the 256 counts */
		double s = 0, ss = 0;
		uint64_t n = 0;
		a->min = INFINITY;
		a->max = -INFINITY;
		for (int b = 0; b < 256; b++) {
			double v = bins_value(a, b);
			if (!a->bins[b])
				continue;
			n += a->bins[b];
			s += v * (double)a->bins[b];
			if (v < a->min)
				a->min = v;
			if (v > a->max)
				a->max = v;
		}
		a->n_num = n;
		a->mean = n ? s / (double)n : 0;
		for (int b = 0; b < 256; b++) {
			double d = bins_value(a, b) - a->mean;
			ss += d * d * (double)a->bins[b];
		}
		a->m2 = ss;
		a->zeros = a->bins[0];
		a->count = a->n_int = c->count = c->n_int = n;
	}
	c->n_num = a->n_num;
	c->zeros = a->zeros;

	/* type: any string -> string; bools alone -> bool; floats -> float */
	if (!c->count)
		c->type = VB_ST_NONE;
	else if (c->n_string || (c->n_bool && (c->n_int || c->n_float)))
		c->type = VB_ST_STRING;
	else if (c->n_bool)
		c->type = VB_ST_BOOL;
	else if (c->n_float)
		c->type = VB_ST_FLOAT;
	else
		c->type = VB_ST_INT;
	if (c->type == VB_ST_STRING && c->count)
		c->avg_len = a->len_sum / (double)c->count;

	if (a->n_num && (c->type == VB_ST_INT || c->type == VB_ST_FLOAT)) {
		c->mean = a->mean;
		c->std = a->n_num > 1 ? sqrt(a->m2 / (double)(a->n_num - 1)) : NAN;
		c->min = a->min;
		c->max = a->max;
		if (!a->bins) {
			if (a->kll) {
				size_t n;
				struct wv *w = kll_sorted(a->kll, &n);
				if (!w)
					return -1;
				a->sorted = malloc(n * sizeof *a->sorted);
				a->cw = malloc(n * sizeof *a->cw);
				if (!a->sorted || !a->cw) {
					free(w);
					return nomem();
				}
				for (size_t i = 0; i < n; i++) {
					a->sorted[i] = w[i].v;
					a->cw[i] = w[i].w;
				}
				a->nsorted = n;
				free(w);
			} else {
				sort_d(a->exact, a->nexact);
				a->sorted = a->exact;
				a->nsorted = a->nexact;
				a->exact = NULL;
			}
		}
		for (int i = 0; i < 7; i++)
			c->q[i] = quantile(a, VB_STATS_QS[i]);
		{
			double lo = a->min, hi = a->max;
			if (lo == hi) {
				lo -= 0.5;
				hi += 0.5;
			}
			for (int i = 0; i <= 10; i++)
				c->hist_edges[i] = lo + (hi - lo) * i / 10.0;
			c->hist_edges[10] = hi;
			bucket_counts(c, c->hist_edges, c->hist);
			for (int i = 0; i <= 10; i++)
				c->qhist_edges[i] = i == 0 ? a->min : i == 10 ? a->max : quantile(a, i / 10.0);
			bucket_counts(c, c->qhist_edges, c->qhist);
		}
		c->has_hist = 1;
	}

	/* distinct values and the most frequent ones */
	if (a->bins) {
		c->unique = 0;
		for (int b = 0; b < 256; b++)
			c->unique += a->bins[b] != 0;
		c->unique_exact = 1;
		keep = c->unique <= 100 ? c->unique : (size_t)st->opts.top;
		c->top = calloc(keep ? keep : 1, sizeof *c->top);
		if (!c->top)
			return nomem();
		for (size_t k = 0; k < keep; k++) {
			int best = -1;
			for (int b = 0; b < 256; b++) {
				int taken = 0;
				if (!a->bins[b])
					continue;
				for (size_t j = 0; j < k; j++)
					if (bins_value(a, b) == atof(c->top[j].value))
						taken = 1;
				if (!taken && (best < 0 || a->bins[b] > a->bins[best]))
					best = b;
			}
			if (best < 0)
				break;
			char txt[8];
			snprintf(txt, sizeof txt, "%d", (int)bins_value(a, best));
			c->top[k].value = strdup(txt);
			if (!c->top[k].value)
				return nomem();
			c->top[k].count = a->bins[best];
			c->ntop = k + 1;
		}
		return 0;
	}
	if (t->overflow) {
		c->unique = (uint64_t)llround(hll_estimate(t->hll));
		c->unique_exact = 0;
	} else {
		c->unique = t->n;
		c->unique_exact = 1;
	}
	idx = malloc((t->n ? t->n : 1) * sizeof *idx);
	if (!idx)
		return nomem();
	for (size_t i = 0; i < t->cap; i++)
		if (t->e[i].used)
			idx[m++] = i;
	qsort_r(idx, m, sizeof *idx, cmp_top, (void *)t);
	keep = (c->unique_exact && m <= 100) ? m : (size_t)st->opts.top;
	if (keep > m)
		keep = m;
	c->top = calloc(keep ? keep : 1, sizeof *c->top);
	if (!c->top) {
		free(idx);
		return nomem();
	}
	for (size_t k = 0; k < keep; k++) {
		c->top[k].value = strdup(t->arena + t->e[idx[k]].off);
		if (!c->top[k].value) {
			free(idx);
			return nomem();
		}
		c->top[k].count = t->e[idx[k]].count;
		c->ntop = k + 1;
	}
	free(idx);
	return 0;
}

int vb_stats_finish(struct vb_stats *st)
{
	for (size_t i = 0; i < st->ncols; i++)
		if (st->cols[i]->acc && finish_col(st, st->cols[i]) < 0)
			return vb_err_prefix("column '%s'", st->cols[i]->name);
	return 0;
}

int64_t vb_colstat_value_count(const struct vb_colstat *c, const char *s)
{
	const struct vb_colacc *a = c->acc;
	size_t i;

	if (!a) {
		for (size_t k = 0; k < c->ntop; k++)
			if (!strcmp(c->top[k].value, s))
				return (int64_t)c->top[k].count;
		return c->unique_exact && c->ntop == c->unique ? 0 : -1;
	}
	if (a->bins) {
		char *e;
		long v = strtol(s, &e, 10);
		if (*e || e == s || v < (a->bins_signed ? -128 : 0) || v > (a->bins_signed ? 127 : 255))
			return 0;
		return (int64_t)a->bins[(uint8_t)v];
	}
	i = dtab_find(&a->tab, hash_bytes(s, strlen(s)), s, strlen(s));
	if (a->tab.e[i].used)
		return (int64_t)a->tab.e[i].count;
	return a->tab.overflow ? -1 : 0;
}

int vb_colstat_each_value(const struct vb_colstat *c,
	void (*fn)(const char *value, uint64_t count, void *arg), void *arg)
{
	const struct vb_colacc *a = c->acc;

	if (!a || a->bins) {
		for (size_t k = 0; k < c->ntop; k++)
			fn(c->top[k].value, c->top[k].count, arg);
		return c->unique_exact && c->ntop == c->unique;
	}
	for (size_t i = 0; i < a->tab.cap; i++)
		if (a->tab.e[i].used)
			fn(a->tab.arena + a->tab.e[i].off, a->tab.e[i].count, arg);
	return !a->tab.overflow;
}

int vb_colstat_categorical(const struct vb_colstat *c)
{
	if (c->type == VB_ST_STRING || c->type == VB_ST_BOOL)
		return 1;
	return c->type == VB_ST_INT && c->unique_exact && c->unique <= 20 &&
	       c->values_per_example == 1;
}

/* ---- names ----------------------------------------------------------- */

static const char *const stype_names[] = { "none", "bool", "int", "float", "string" };

const char *vb_stype_name(enum vb_stype t)
{
	return (unsigned)t < 5 ? stype_names[t] : "?";
}

int vb_stype_parse(const char *s)
{
	for (int i = 0; i < 5; i++)
		if (s && !strcmp(s, stype_names[i]))
			return i;
	return -1;
}

/* ---- YAML output ------------------------------------------------------- */

char *vb_stats_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0;
	char *t = strdup(s);

	if (!t)
		return nomem(), NULL;
	while (i < n) {
		size_t k = p[i] < 0x80 ? 1 : (p[i] >> 5) == 6 ? 2 : (p[i] >> 4) == 14 ? 3 : (p[i] >> 3) == 30 ? 4 : 0;
		int good = k && i + k <= n;
		for (size_t j = 1; good && j < k; j++)
			good = (p[i + j] & 0xc0) == 0x80;
		if (!good) {
			t[i] = '?';
			k = 1;
		}
		i += k;
	}
	return t;
}

int vb_stats_write_str(FILE *f, const char *s)
{
	char *t = vb_stats_utf8(s);
	int rc;

	if (!t)
		return -1;
	rc = vb_yaml_write_str(f, t);
	free(t);
	return rc;
}

static void ystr(FILE *f, const char *s)
{
	vb_stats_write_str(f, s);
}

static void ydbl(FILE *f, double v)
{
	vb_yaml_write_double(f, v);
}

static void ylist_d(FILE *f, const double *v, int n)
{
	fputc('[', f);
	for (int i = 0; i < n; i++) {
		if (i)
			fputs(", ", f);
		ydbl(f, v[i]);
	}
	fputc(']', f);
}

static void ylist_u(FILE *f, const uint64_t *v, int n)
{
	fputc('[', f);
	for (int i = 0; i < n; i++)
		fprintf(f, "%s%" PRIu64, i ? ", " : "", v[i]);
	fputc(']', f);
}

int vb_stats_write_yaml(FILE *f, const struct vb_stats *st)
{
	fprintf(f, "# statistics written by validate-stats\n");
	fprintf(f, "format: %s\nnum_examples: %" PRIu64 "\n", st->format, st->num_examples);
	if (st->narrays) {
		fprintf(f, "arrays:\n");
		for (size_t i = 0; i < st->narrays; i++) {
			const struct vb_arrayinfo *a = &st->arrays[i];
			fprintf(f, "  - name: %s\n    dtype: \"%s\"\n    shape: [", a->name, a->dtype);
			for (int d = 0; d < a->ndim; d++)
				fprintf(f, "%s%" PRId64, d ? ", " : "", a->shape[d]);
			fprintf(f, "]\n");
		}
	}
	if (st->nlabels) {
		fprintf(f, "labels:\n");
		for (size_t i = 0; i < st->nlabels; i++) {
			const struct vb_labelstat *l = &st->labels[i];
			fprintf(f, "  - label: %" PRId64 "\n    count: %" PRIu64 "\n", l->label, l->count);
			fprintf(f, "    pixel_mean: ");
			ydbl(f, l->mean);
			fprintf(f, "\n    pixel_std: ");
			ydbl(f, l->std);
			fprintf(f, "\n    pixel_min: ");
			ydbl(f, l->min);
			fprintf(f, "\n    pixel_max: ");
			ydbl(f, l->max);
			fprintf(f, "\n    blank_images: %" PRIu64 "\n", l->blank);
		}
	}
	fprintf(f, "features:\n");
	for (size_t i = 0; i < st->ncols; i++) {
		const struct vb_colstat *c = st->cols[i];
		fprintf(f, "  - name: ");
		ystr(f, c->name);
		fprintf(f, "\n    type: %s\n", vb_stype_name(c->type));
		fprintf(f, "    count: %" PRIu64 "\n    missing: %" PRIu64 "\n", c->count, c->missing);
		if (c->values_per_example != 1)
			fprintf(f, "    values_per_example: %" PRId64 "\n", c->values_per_example);
		fprintf(f, "    kinds: {bool: %" PRIu64 ", int: %" PRIu64 ", float: %" PRIu64
			", string: %" PRIu64 "}\n", c->n_bool, c->n_int, c->n_float, c->n_string);
		if (c->n_bool)
			fprintf(f, "    true_count: %" PRIu64 "\n", c->n_true);
		if (c->type == VB_ST_INT || c->type == VB_ST_FLOAT) {
			fprintf(f, "    zeros: %" PRIu64 "\n    nan: %" PRIu64 "\n    inf: %" PRIu64 "\n",
				c->zeros, c->n_nan, c->n_inf);
		}
		if (c->has_hist) {
			fprintf(f, "    numeric: %" PRIu64 "\n", c->n_num);
			fprintf(f, "    mean: ");
			ydbl(f, c->mean);
			fprintf(f, "\n    std: ");
			ydbl(f, c->std);
			fprintf(f, "\n    min: ");
			ydbl(f, c->min);
			fprintf(f, "\n    median: ");
			ydbl(f, c->q[3]);
			fprintf(f, "\n    max: ");
			ydbl(f, c->max);
			fprintf(f, "\n    quantiles: {");
			for (int k = 0; k < 7; k++) {
				fprintf(f, "%sp%02d: ", k ? ", " : "", (int)lround(VB_STATS_QS[k] * 100));
				ydbl(f, c->q[k]);
			}
			fprintf(f, "}\n    histogram:\n      edges: ");
			ylist_d(f, c->hist_edges, 11);
			fprintf(f, "\n      counts: ");
			ylist_u(f, c->hist, 10);
			fprintf(f, "\n    quantile_histogram:\n      edges: ");
			ylist_d(f, c->qhist_edges, 11);
			fprintf(f, "\n      counts: ");
			ylist_u(f, c->qhist, 10);
			fprintf(f, "\n");
		}
		if (c->type == VB_ST_STRING && !isnan(c->avg_len)) {
			fprintf(f, "    avg_length: ");
			ydbl(f, c->avg_len);
			fprintf(f, "\n");
		}
		fprintf(f, "    unique: %" PRIu64 "\n    unique_exact: %s\n", c->unique,
			c->unique_exact ? "true" : "false");
		if (c->ntop) {
			fprintf(f, "    top_values:\n");
			for (size_t k = 0; k < c->ntop; k++) {
				fprintf(f, "      - {value: ");
				ystr(f, c->top[k].value);
				fprintf(f, ", count: %" PRIu64 "}\n", c->top[k].count);
			}
		}
	}
	if (ferror(f))
		return vb_err_sys("write error");
	return 0;
}

/* ---- table output ------------------------------------------------------- */

static void tnum(char *buf, size_t n, double v)
{
	if (isnan(v))
		snprintf(buf, n, "-");
	else
		snprintf(buf, n, "%.6g", v);
}

int vb_stats_write_table(FILE *f, const struct vb_stats *st)
{
	size_t w = 6;

	fprintf(f, "%s: %" PRIu64 " examples", st->format, st->num_examples);
	for (size_t i = 0; i < st->narrays; i++) {
		const struct vb_arrayinfo *a = &st->arrays[i];
		fprintf(f, "%s %s %s (", i ? "," : ";", a->name, a->dtype);
		for (int d = 0; d < a->ndim; d++)
			fprintf(f, "%s%" PRId64, d ? " x " : "", a->shape[d]);
		fprintf(f, ")");
	}
	fprintf(f, "\n");
	for (size_t i = 0; i < st->ncols; i++)
		if (strlen(st->cols[i]->name) > w)
			w = strlen(st->cols[i]->name);
	if (w > 24)
		w = 24;
	fprintf(f, "%-*s %-6s %9s %7s %10s %10s %10s %10s %10s %9s  %s\n", (int)w, "column", "type",
		"count", "missing", "mean", "std", "min", "median", "max", "unique", "top");
	for (size_t i = 0; i < st->ncols; i++) {
		const struct vb_colstat *c = st->cols[i];
		char mean[16], sd[16], mn[16], md[16], mx[16], top[64] = "";
		tnum(mean, sizeof mean, c->mean);
		tnum(sd, sizeof sd, c->std);
		tnum(mn, sizeof mn, c->min);
		tnum(md, sizeof md, c->q[3]);
		tnum(mx, sizeof mx, c->max);
		if (c->ntop && c->type != VB_ST_FLOAT)
			snprintf(top, sizeof top, "%.30s (%" PRIu64 ")", c->top[0].value, c->top[0].count);
		fprintf(f, "%-*.*s %-6s %9" PRIu64 " %7" PRIu64 " %10s %10s %10s %10s %10s %8s%" PRIu64 "  %s\n",
			(int)w, (int)w, c->name, vb_stype_name(c->type), c->count, c->missing,
			mean, sd, mn, md, mx, c->unique_exact ? "" : "~", c->unique, top);
	}
	for (size_t i = 0; i < st->nlabels; i++) {
		const struct vb_labelstat *l = &st->labels[i];
		fprintf(f, "label %" PRId64 ": %" PRIu64 " examples, pixel mean %.2f std %.2f min %g max %g, %"
			PRIu64 " blank\n", l->label, l->count, l->mean, l->std, l->min, l->max, l->blank);
	}
	if (ferror(f))
		return vb_err_sys("write error");
	return 0;
}

/* ---- loading statistics -------------------------------------------------- */

static int get_u64(const struct vb_yaml *m, const char *key, uint64_t *out, int need)
{
	const struct vb_yaml *y = vb_yaml_get(m, key);
	long v;

	if (!y) {
		if (need)
			return vb_err_set("line %d: missing '%s'", m->line, key);
		return 0;
	}
	if (vb_yaml_long(y, &v) < 0 || v < 0)
		return vb_err_set("line %d: '%s' is not a non-negative integer", y->line, key);
	*out = (uint64_t)v;
	return 0;
}

static int get_dbl(const struct vb_yaml *m, const char *key, double *out)
{
	const struct vb_yaml *y = vb_yaml_get(m, key);

	if (!y)
		return 0;
	if (vb_yaml_double(y, out) < 0)
		return vb_err_set("line %d: '%s' is not a number", y->line, key);
	return 0;
}

static int get_list(const struct vb_yaml *m, const char *key, double *d, uint64_t *u, size_t n)
{
	const struct vb_yaml *y = vb_yaml_get(m, key);

	if (!y || y->type != VB_YAML_SEQ || y->n != n)
		return vb_err_set("line %d: '%s' must be a list of %zu numbers", m->line, key, n);
	for (size_t i = 0; i < n; i++) {
		double v;
		if (vb_yaml_double(y->items[i], &v) < 0)
			return -1;
		if (d)
			d[i] = v;
		else
			u[i] = v < 0 ? 0 : (uint64_t)v;
	}
	return 0;
}

static int load_col(struct vb_colstat *c, const struct vb_yaml *m)
{
	const struct vb_yaml *y;
	const char *ty = vb_yaml_str(vb_yaml_get(m, "type"));
	int t = vb_stype_parse(ty);

	if (t < 0)
		return vb_err_set("line %d: unknown type '%s'", m->line, ty ? ty : "");
	c->type = (enum vb_stype)t;
	c->mean = c->std = c->min = c->max = c->avg_len = NAN;
	for (int i = 0; i < 7; i++)
		c->q[i] = NAN;
	c->values_per_example = 1;
	if (get_u64(m, "count", &c->count, 1) < 0 || get_u64(m, "missing", &c->missing, 1) < 0 ||
	    get_u64(m, "zeros", &c->zeros, 0) < 0 || get_u64(m, "nan", &c->n_nan, 0) < 0 ||
	    get_u64(m, "numeric", &c->n_num, 0) < 0 || get_u64(m, "unique", &c->unique, 0) < 0)
		return -1;
	if ((y = vb_yaml_get(m, "values_per_example"))) {
		long v;
		if (vb_yaml_long(y, &v) < 0)
			return -1;
		c->values_per_example = v;
	}
	y = vb_yaml_get(m, "unique_exact");
	c->unique_exact = y && vb_yaml_str(y) && !strcmp(vb_yaml_str(y), "true");
	if (get_dbl(m, "mean", &c->mean) < 0 || get_dbl(m, "std", &c->std) < 0 ||
	    get_dbl(m, "min", &c->min) < 0 || get_dbl(m, "max", &c->max) < 0 ||
	    get_dbl(m, "median", &c->q[3]) < 0)
		return -1;
	if ((y = vb_yaml_get(m, "histogram"))) {
		if (get_list(y, "edges", c->hist_edges, NULL, 11) < 0 ||
		    get_list(y, "counts", NULL, c->hist, 10) < 0)
			return -1;
		c->has_hist = 1;
	}
	if ((y = vb_yaml_get(m, "top_values"))) {
		if (y->type != VB_YAML_SEQ)
			return vb_err_set("line %d: 'top_values' must be a list", y->line);
		c->top = calloc(y->n ? y->n : 1, sizeof *c->top);
		if (!c->top)
			return nomem();
		for (size_t i = 0; i < y->n; i++) {
			const char *v = vb_yaml_str(vb_yaml_get(y->items[i], "value"));
			if (!v)
				return vb_err_set("line %d: top value without 'value'", y->items[i]->line);
			if (get_u64(y->items[i], "count", &c->top[i].count, 1) < 0)
				return -1;
			c->top[i].value = strdup(v);
			if (!c->top[i].value)
				return nomem();
			c->ntop = i + 1;
		}
	}
	return 0;
}

struct vb_stats *vb_stats_load(FILE *f)
{
	struct vb_yaml *doc = vb_yaml_parse(f), *feats, *y;
	struct vb_stats *st = NULL;
	const char *fmt;

	if (!doc)
		return NULL;
	st = vb_stats_new(NULL);
	if (!st)
		goto fail;
	fmt = vb_yaml_str(vb_yaml_get(doc, "format"));
	feats = vb_yaml_get(doc, "features");
	if (doc->type != VB_YAML_MAP || !fmt || !feats || feats->type != VB_YAML_SEQ) {
		vb_err_set("not a statistics file (needs 'format' and a 'features' list)");
		goto fail;
	}
	snprintf(st->format, sizeof st->format, "%s", fmt);
	if (get_u64(doc, "num_examples", &st->num_examples, 1) < 0)
		goto fail;
	st->cols = calloc(feats->n ? feats->n : 1, sizeof *st->cols);
	if (!st->cols) {
		nomem();
		goto fail;
	}
	for (size_t i = 0; i < feats->n; i++) {
		struct vb_colstat *c = calloc(1, sizeof *c);
		const char *name = vb_yaml_str(vb_yaml_get(feats->items[i], "name"));
		if (!c) {
			nomem();
			goto fail;
		}
		st->cols[st->ncols++] = c;
		if (!name) {
			vb_err_set("line %d: feature without a name", feats->items[i]->line);
			goto fail;
		}
		c->name = strdup(name);
		if (!c->name) {
			nomem();
			goto fail;
		}
		if (load_col(c, feats->items[i]) < 0)
			goto fail;
	}
	if ((y = vb_yaml_get(doc, "arrays")) && y->type == VB_YAML_SEQ) {
		for (size_t i = 0; i < y->n && i < 8; i++) {
			struct vb_arrayinfo *a = &st->arrays[st->narrays++];
			const struct vb_yaml *sh = vb_yaml_get(y->items[i], "shape");
			snprintf(a->name, sizeof a->name, "%s", vb_yaml_str(vb_yaml_get(y->items[i], "name")) ?: "");
			snprintf(a->dtype, sizeof a->dtype, "%s", vb_yaml_str(vb_yaml_get(y->items[i], "dtype")) ?: "");
			for (size_t d = 0; sh && sh->type == VB_YAML_SEQ && d < sh->n && d < 4; d++) {
				long v = 0;
				vb_yaml_long(sh->items[d], &v);
				a->shape[d] = v;
				a->ndim = (int)d + 1;
			}
		}
	}
	vb_yaml_free(doc);
	return st;
fail:
	vb_yaml_free(doc);
	vb_stats_free(st);
	return NULL;
}
