/* test-stats.c - the KLL sketch (accuracy, merging, determinism), drift
 * distances and schema round trips of lib/stats.c and lib/schema.c. */
#include "err.h"
#include "schema.h"
#include "stats.h"
#include "tap.h"

#include <stdlib.h>

static uint64_t lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 11;
}

/* the largest rank error of the sketch over a permutation of 0..n-1 */
static double kll_error(const struct vb_kll *s, long n)
{
	double worst = 0;

	for (int i = 1; i < 100; i++) {
		double q = i / 100.0, v = vb_kll_quantile(s, q);
		double e = fabs((v + 1) / n - q);
		if (e > worst)
			worst = e;
	}
	return worst;
}

static struct vb_stats *stats_of(const char *csv)
{
	FILE *f = fmemopen((void *)csv, strlen(csv), "r");
	struct vb_stats *st = vb_stats_new(NULL);

	if (!f || !st || vb_stats_read(st, f) < 0 || vb_stats_finish(st) < 0) {
		printf("# %s\n", vb_err_msg());
		exit(1);
	}
	fclose(f);
	return st;
}

int main(void)
{
	const long n = 200000;
	long *perm = malloc(n * sizeof *perm);
	uint64_t seed = 1;
	struct vb_kll *a = vb_kll_new(512, 7), *b = vb_kll_new(512, 8), *w = vb_kll_new(512, 7),
		      *w2 = vb_kll_new(512, 7);

	for (long i = 0; i < n; i++)
		perm[i] = i;
	for (long i = n - 1; i > 0; i--) {
		long j = (long)(lcg(&seed) % (uint64_t)(i + 1)), t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
	for (long i = 0; i < n; i++) {
		vb_kll_add(w, (double)perm[i]);
		vb_kll_add(w2, (double)perm[i]);
		vb_kll_add(i < n / 2 ? a : b, (double)perm[i]);
	}
	ok(vb_kll_n(w) == (uint64_t)n, "sketch counts every value");
	ok(kll_error(w, n) < 0.01, "quantiles within 1%% of rank on 200,000 values (%.4f)", kll_error(w, n));
	is_dbl(vb_kll_rank(w, n / 2.0) / n, 0.5, 0.01, "rank of the median");
	ok(vb_kll_quantile(w, 0.3) == vb_kll_quantile(w2, 0.3), "same seed, same input: same sketch");
	vb_kll_merge(a, b);
	ok(vb_kll_n(a) == (uint64_t)n, "merged sketch counts both halves");
	ok(kll_error(a, n) < 0.015, "merged halves: quantiles within 1.5%% of rank (%.4f)", kll_error(a, n));
	{
		struct vb_kll *e = vb_kll_new(8, 1);
		ok(isnan(vb_kll_quantile(e, 0.5)), "empty sketch: NaN");
		vb_kll_free(e);
	}
	vb_kll_add(w, NAN);
	ok(vb_kll_n(w) == (uint64_t)n, "NaN ignored");

	/* drift distances on known frequencies */
	struct vb_stats *x = stats_of("c,v\na,1\na,2\nb,3\nb,4\n");
	struct vb_stats *y = stats_of("c,v\na,1\na,2\na,3\nb,4\n");
	struct vb_stats *z = stats_of("c,v\nc,11\nc,12\nc,13\nc,14\n");
	is_dbl(vb_drift_linf(vb_stats_col(x, "c"), vb_stats_col(y, "c")), 0.25, 1e-12, "L-infinity of 1/2,1/2 vs 3/4,1/4");
	is_dbl(vb_drift_linf(vb_stats_col(x, "c"), vb_stats_col(z, "c")), 1, 1e-12, "L-infinity of disjoint values");
	is_dbl(vb_drift_js(vb_stats_col(x, "v"), vb_stats_col(x, "v")), 0, 1e-12, "JS of a histogram with itself");
	is_dbl(vb_drift_js(vb_stats_col(x, "v"), vb_stats_col(z, "v")), 1, 1e-12, "JS of disjoint ranges: 1 (log base 2)");

	/* schema: infer, write, read back, validate */
	struct vb_schema *s = vb_schema_infer(x, NULL), *s2;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	ok(vb_schema_write(f, s, "test") == 0, "schema written");
	fclose(f);
	f = fmemopen(buf, len, "r");
	s2 = vb_schema_load(f);
	fclose(f);
	ok(s2 && s2->n == 2 && s2->f[1].has_domain && s2->f[1].dmin == 1 && s2->f[1].dmax == 4,
	   "schema read back with its int domain");
	ok(s2 && s2->f[0].has_values && s2->f[0].nvalues == 2 && s2->f[0].linf == 0.1,
	   "schema read back with its string domain and comparator");
	struct vb_anomalies an = { 0 };
	vb_schema_validate(s2, y, &an);
	is_int((long long)an.n, 0, "similar data: no anomaly");
	vb_schema_validate(s2, z, &an);
	is_int((long long)an.n, 2, "other data: two anomalies");
	int found = 0;
	for (size_t i = 0; i < an.n; i++)
		found += !strcmp(an.a[i].kind, "ENUM_TYPE_UNEXPECTED_STRING_VALUES") +
			 !strcmp(an.a[i].kind, "INT_TYPE_BIG_INT") + !strcmp(an.a[i].kind, "DATASET_LOW_NUM_EXAMPLES");
	is_int(found, 2, "unexpected value and big int found; 4 examples are enough (min 2)");
	is_int((long long)vb_anomalies_errors(&an), (long long)an.n, "all of severity error");
	vb_anomalies_clear(&an);
	free(buf);
	vb_schema_free(s);
	vb_schema_free(s2);
	vb_stats_free(x);
	vb_stats_free(y);
	vb_stats_free(z);
	vb_kll_free(a);
	vb_kll_free(b);
	vb_kll_free(w);
	vb_kll_free(w2);
	free(perm);
	return tap_done();
}
