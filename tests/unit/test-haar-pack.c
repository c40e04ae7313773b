/* test-haar-pack.c - the packed blocks of the cascade evaluator's later
 * stages: every window value lands where the stump tables look for it,
 * the packed levels fall where the rule says, and whole random cascades
 * give the plain evaluator's hits; and the AVX-512 variance normalisation
 * gives what the AVX2 one does.
 * They are static in haar.c, so that file is compiled in here whole. */
#include "../../lib/haar.c"

#include "tap.h"

/* A fake integral image of rows of stride S, with values that name their
 * place, and 8 windows in it: pack them and check every value of every
 * window against where vpos says it is.  Returns the number of misses. */
static long check_pack(int winw, int winh, int two, uint64_t *seed)
{
	struct vb_haar c = { .winw = winw, .winh = winh };
	struct pgeo g = packed_geometry(&c, two);
	int w = 97 + winw, h = 3 * winh + 5;
	int S = (2 * ((w + 2) / 2 + 16) + 63) & ~63, half = two ? S / 2 : 0;
	int nx = two ? (w + 1 - winw + 1) / 2 : w + 1 - winw, ny = h + 1 - winh;
	size_t cells = (size_t)S * (h + 2) + 64;
	uint32_t *sum = malloc(cells * sizeof *sum);
	size_t bn = (size_t)g.row * (winh + 1) + 64;   /* as deep_run: 8 columns of room */
	float *blk = aligned_alloc(64, (bn + 15) / 16 * 16 * sizeof *blk);
	long bad = 0;

	for (size_t i = 0; i < cells; i++)
		sum[i] = (uint32_t)(i * 2654435761u);
	/* windows anywhere, the last one at the far corner */
	uint32_t ofs[8];
	const uint32_t *q[8];
	for (int l = 0; l < 8; l++) {
		*seed = *seed * 6364136223846793005u + 1442695040888963407u;
		int x = l == 7 ? nx - 1 : (int)(*seed >> 33) % nx;
		int y = l == 7 ? ny - 1 : (int)(*seed >> 45) % ny;
		ofs[l] = (uint32_t)(y * S + x);
		q[l] = sum + ofs[l];
	}
	memset(blk, 0xff, bn * sizeof *blk);
	pack_block(q, S, half, &g, winh, blk);
	const uint32_t *b = (const uint32_t *)blk;
	for (int y = 0; y <= winh; y++)
		for (int x = 0; x <= winw; x++)
			for (int l = 0; l < 8; l++) {
				int32_t at = vpos(x, y, 0, 0, &g), from = vpos(x, y, S, half, NULL);
				if (at < 0 || at + l >= g.row * (winh + 1) || b[at + l] != sum[ofs[l] + from])
					bad++;
			}
	free(sum);
	free(blk);
	return bad;
}

/* Every (x, y) of the window at its own place in the block, 8 lanes
 * apart, all inside it. */
static int distinct(int winw, int winh, int two)
{
	struct vb_haar c = { .winw = winw, .winh = winh };
	struct pgeo g = packed_geometry(&c, two);
	int n = g.row * (winh + 1), ok = 1;
	char *seen = calloc((size_t)n, 1);
	for (int y = 0; y <= winh; y++)
		for (int x = 0; x <= winw; x++) {
			int32_t at = vpos(x, y, 0, 0, &g);
			if (at < 0 || at % 8 || at + 8 > n || seen[at])
				ok = 0;
			else
				seen[at] = 1;
		}
	free(seen);
	return ok;
}

static int levels(const int *ntrees, int n, int lev[DEEP_MAX + 1])
{
	struct stage st[64];
	struct vb_haar c = { .nstages = n, .stages = st };
	for (int i = 0; i < n; i++)
		st[i].ntrees = ntrees[i];
	return deep_levels(&c, lev);
}

/* Variance normalisation of random windows of a 24 x 24 cascade, both
 * ways: the same factors bit for bit and the same flat windows.  Returns
 * the number of differences. */
static long check_var(uint64_t *seed)
{
	struct vb_haar c = { .winw = 24, .winh = 24 };
	struct vcascade v = { .nofs = { 0, 8, 16, 24 } };
	uint32_t p[32] = {0}, q[32] = {0};
	float f1[8], f2[8];
	long bad = 0;
	for (int r = 0; r < 200000; r++) {
		for (int l = 0; l < 8; l++) {
			*seed = *seed * 6364136223846793005u + 1442695040888963407u;
			uint32_t a = (uint32_t)(*seed >> 40) % 484, sum, sq;
			/* a pixels of value k and the rest of k + d: flat windows,
			 * small contrasts, contrasts either side of the flat test's
			 * limit (a standard deviation of 10), and sums of squares off
			 * by one */
			uint32_t k = (uint32_t)(*seed >> 20) % 256;
			uint32_t d = (uint32_t)(*seed >> 12) % (*seed >> 28 & 1 ? 4 : 48);
			if (k + d > 255)
				k = 255 - d;
			sum = a * k + (484 - a) * (k + d);
			sq = a * k * k + (484 - a) * (k + d) * (k + d);
			if ((*seed >> 8 & 7) == 0)
				sq += (uint32_t)(*seed >> 5 & 3) - 1;
			p[l] = sum;
			q[l] = sq;
		}
		int m1 = var_norm(&c, &v, p, q, f1), m2 = var_norm512(&c, &v, p, q, f2);
		bad += m1 != m2 || memcmp(f1, f2, sizeof f1) != 0;
	}
	return bad;
}

static int next(uint64_t *seed, int m)
{
	*seed = *seed * 6364136223846793005u + 1442695040888963407u;
	return (int)((*seed >> 33) % (uint64_t)m);
}

/* A cascade of nst stages of ntr stumps on a w x h window, written out
 * from a fixed seed: upright edges, lines, diagonals and rectangles with a
 * weight of 1.5 (the four kinds of the vector evaluator), leaves of either
 * sign, and stage thresholds some windows miss at every stage. */
static char *random_cascade(int w, int h, int nst, int ntr, uint64_t seed)
{
	size_t cap = 4096 + (size_t)nst * ntr * 300, n = 0;
	char *x = malloc(cap);
#define OUT(...) (n += (size_t)snprintf(x + n, cap - n, __VA_ARGS__))
#define RND(m) next(&seed, m)
	OUT("<?xml version=\"1.0\"?>\n<opencv_storage>\n<cascade><stageType>BOOST</stageType>"
	    "<featureType>HAAR</featureType><height>%d</height><width>%d</width>"
	    "<stageParams><maxWeakCount>%d</maxWeakCount></stageParams>"
	    "<featureParams><maxCatCount>0</maxCatCount></featureParams><stageNum>%d</stageNum><stages>\n",
	    h, w, ntr, nst);
	for (int s = 0; s < nst; s++) {
		OUT("<_><maxWeakCount>%d</maxWeakCount><stageThreshold>-1.5</stageThreshold><weakClassifiers>\n", ntr);
		for (int t = 0; t < ntr; t++) {
			int th = RND(41), lo = RND(81), hi = RND(81);
			OUT("<_><internalNodes>0 -1 %d %.4f</internalNodes><leafValues>%.4f %.4f</leafValues></_>\n",
			    s * ntr + t, (th - 20) * 1e-3, -0.2 - lo * 1e-2, 0.2 + hi * 1e-2);
		}
		OUT("</weakClassifiers></_>\n");
	}
	OUT("</stages><features>\n");
	for (int f = 0; f < nst * ntr; f++) {
		int kind = RND(4), rw, rh, rx, ry;
		OUT("<_><rects>");
		switch (kind) {
		case 0:   /* edge */
			rw = 1 + RND(w / 2), rh = 1 + RND(h), rx = RND(w - 2 * rw + 1), ry = RND(h - rh + 1);
			OUT("<_>%d %d %d %d -1.</_><_>%d %d %d %d 2.</_>", rx, ry, 2 * rw, rh, rx + rw, ry, rw, rh);
			break;
		case 1:   /* line */
			rw = 1 + RND(w / 3), rh = 1 + RND(h), rx = RND(w - 3 * rw + 1), ry = RND(h - rh + 1);
			OUT("<_>%d %d %d %d -1.</_><_>%d %d %d %d 3.</_>", rx, ry, 3 * rw, rh, rx + rw, ry, rw, rh);
			break;
		case 2:   /* diagonal */
			rw = 1 + RND(w / 2), rh = 1 + RND(h / 2), rx = RND(w - 2 * rw + 1), ry = RND(h - 2 * rh + 1);
			OUT("<_>%d %d %d %d -1.</_><_>%d %d %d %d 2.</_><_>%d %d %d %d 2.</_>", rx, ry, 2 * rw,
			    2 * rh, rx, ry, rw, rh, rx + rw, ry + rh, rw, rh);
			break;
		default:  /* two rectangles, weights -1 and 1.5 */
			for (int k = 0; k < 2; k++) {
				rw = 1 + RND(w / 2), rh = 1 + RND(h / 2), rx = RND(w - rw + 1), ry = RND(h - rh + 1);
				OUT("<_>%d %d %d %d %s</_>", rx, ry, rw, rh, k ? "1.5" : "-1.");
			}
		}
		OUT("</rects><tilted>0</tilted></_>\n");
	}
	OUT("</features></cascade>\n</opencv_storage>\n");
#undef RND
#undef OUT
	return x;
}

/* Raw hits of the vector evaluator (packed stages included) and of the
 * plain one on a few patterned images: 1 if all the same, in order. */
static int same_hits(const struct vb_haar *c, int *nhits)
{
	enum { W = 123, H = 97 };
	static uint8_t img[W * H];
	struct vb_haar_params p;
	int same = 1;

	vb_haar_params_init(&p);
	p.min_neighbors = 0;
	*nhits = 0;
	for (int pat = 0; pat < 4; pat++) {
		struct vb_rect *r[2] = { NULL, NULL };
		int n[2];
		for (int i = 0; i < W * H; i++)
			img[i] = (uint8_t)((i * 37) ^ (i / W * (11 + pat)) ^ (pat * 45));
		for (int k = 0; k < 2; k++) {
			p.simd = !k;
			n[k] = vb_haar_detect(c, img, W, H, W, &p, &r[k]);
		}
		same &= n[0] >= 0 && n[0] == n[1] &&
		        (n[0] == 0 || !memcmp(r[0], r[1], (size_t)n[0] * sizeof *r[0]));
		*nhits += n[0];
		free(r[0]);
		free(r[1]);
	}
	return same;
}

int main(void)
{
	static const int sizes[][2] = { {24, 24}, {20, 20}, {19, 23}, {6, 6}, {15, 15}, {35, 18},
	                                {31, 7}, {32, 40}, {47, 12} };
	uint64_t seed = 1;
	int wide = cpu_has_avx2() && cpu_has_vbmi();

	if (!cpu_has_avx2()) {
		printf("1..0 # SKIP no AVX2\n");
		return 0;
	}
	for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
		int ww = sizes[i][0], wh = sizes[i][1];
		for (int two = 0; two < 2; two++) {
			ok(distinct(ww, wh, two), "%dx%d window, %s: a place of its own for every value",
			   ww, wh, two ? "2 apart" : "1 apart");
			long bad = 0;
			for (int k = 0; k < 20; k++)
				bad += check_pack(ww, wh, two, &seed);
			ok(bad == 0, "%dx%d, %s: every value where the tables look (%ld wrong)",
			   ww, wh, two ? "2 apart" : "1 apart", bad);
		}
	}

	if (wide) {
		long bad = check_var(&seed);
		ok(bad == 0, "variance normalisation: AVX-512 and AVX2 agree bit for bit (%ld of 200000 differ)", bad);
	} else {
		printf("ok %d # SKIP no AVX-512\n", ++tap_n);
	}

	/* whole cascades through the packed levels, windows of several shapes:
	 * 10 stages of 30 stumps are packed from stage 4 and again from 8 */
	static const int wins[][2] = { {10, 8}, {24, 24}, {19, 13}, {7, 31} };
	for (size_t i = 0; i < sizeof wins / sizeof *wins; i++) {
		char *xml = random_cascade(wins[i][0], wins[i][1], 10, 30, 1000 + i);
		struct vb_haar *rc = vb_haar_load_mem(xml, strlen(xml), "random.xml");
		int nh = 0, same = rc && same_hits(rc, &nh);
		ok(same && nh > 0,
		   "random %dx%d cascade of 10 stages: vector and plain evaluators agree (%d raw hits)%s%s",
		   wins[i][0], wins[i][1], nh, rc ? "" : ": ", rc ? "" : vb_err_msg());
		vb_haar_free(rc);
		free(xml);
	}

	/* the default cascade's stage sizes: 136 stumps before stage 5, then
	 * 323 (>= 272) before 8, 711 before 12, 1,560 before 18 */
	static const int deflt[] = { 9, 16, 27, 32, 52, 53, 62, 72, 83, 91, 99, 115, 127,
	                             135, 136, 137, 159, 155, 169, 196, 197, 181, 199, 211, 200 };
	int lev[DEEP_MAX + 1];
	int n = levels(deflt, 25, lev);
	ok(n == 4 && lev[0] == 5 && lev[1] == 8 && lev[2] == 12 && lev[3] == 18 && lev[4] == 25,
	   "default cascade: packed from stages 5, 8, 12, 18 (%d levels)", n);
	static const int few[] = { 3, 10, 20, 30, 36, 5 }, enough[] = { 3, 10, 20, 30, 37, 5 };
	n = levels(few, 6, lev);
	ok(n == 0 && lev[0] == 6, "99 stumps before the last stage: nothing packed");
	n = levels(enough, 6, lev);
	ok(n == 1 && lev[0] == 5 && lev[1] == 6, "100 stumps before the last stage: it is packed");
	static const int one[] = { 1000 };
	n = levels(one, 1, lev);
	ok(n == 0 && lev[0] == 1, "a single stage: nothing packed");
	int many[64];
	for (int i = 0; i < 64; i++)
		many[i] = 1 << (i < 20 ? i : 20);
	n = levels(many, 64, lev);
	ok(n == DEEP_MAX && lev[n] == 64, "no more than %d levels (%d)", DEEP_MAX, n);
	return tap_done();
}
