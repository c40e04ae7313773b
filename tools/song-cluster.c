/* song-cluster - name every song's mood: PCA on song-scale's z_ columns,
 * k-means++ with restarts, clusters named on the valence-energy circumplex.
 *
 * Reads song-scale's CSV, writes it back with cluster, mood, pc1 and pc2
 * appended; optionally the centroids (CSV) and a scatter plot (PNG).
 */
#include "cli.h"
#include "csv.h"
#include "err.h"
#include "kmeans.h"
#include "mood.h"
#include "nn.h"
#include "pca.h"
#include "plot.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum {
	OPT_PCA = 0x100, OPT_RESTARTS, OPT_MAX_ITER, OPT_TOL, OPT_CHOOSE_K, OPT_SAMPLE,
	OPT_CENTROIDS, OPT_PLOT, OPT_PLOT_SIZE
};

struct cmdline {
	const char *input;     /* FILE or "-" */
	int pca;               /* components used for clustering */
	int k;
	int restarts;
	int max_iter;
	double tol;
	int choose_lo, choose_hi; /* --choose-k A..B; 0 = off */
	long sample;           /* silhouette sample size; 0 = all points */
	const char *centroids; /* --centroids FILE */
	const char *plot;      /* --plot FILE.png */
	int plot_w, plot_h;
};

static const struct argp_option options[] = {
	{ "pca", OPT_PCA, "N", 0, "Cluster on the first N principal components (default: 10)", 0 },
	{ "clusters", 'k', "K", 0, "Number of clusters (default: 4)", 0 },
	{ "restarts", OPT_RESTARTS, "N", 0, "k-means++ restarts; the lowest inertia wins (default: 10)", 0 },
	{ "max-iter", OPT_MAX_ITER, "N", 0, "Lloyd iterations per restart (default: 300)", 0 },
	{ "tol", OPT_TOL, "X", 0,
	  "Stop when the squared centre shift is at most X times the mean variance (default: 1e-4)", 0 },
	{ "choose-k", OPT_CHOOSE_K, "A..B", 0,
	  "Instead of labelling songs, print k,inertia,silhouette for each k from A to B", 0 },
	{ "silhouette-sample", OPT_SAMPLE, "N", 0,
	  "Silhouette on N songs drawn with --seed, 0 for all (default: 10000)", 0 },
	{ "centroids", OPT_CENTROIDS, "FILE", 0, "Write each cluster's mood, size and centroid (CSV)", 0 },
	{ "plot", OPT_PLOT, "FILE", 0, "Draw the songs on pc1/pc2 coloured by mood (PNG)", 0 },
	{ "plot-size", OPT_PLOT_SIZE, "WxH", 0, "Size of the plot in pixels (default: 900x700)", 0 },
	{ 0 }
};

static struct cmdline cmd = {
	"-", 10, 4, 10, 300, 1e-4, 0, 0, 10000, NULL, NULL, 900, 700
};

/* Two integers around sep ("2..10", "800x600"), each within its range. */
static void arg_pair(struct argp_state *st, const char *opt, const char *arg, const char *sep,
                     const char *form, long lo1, long hi1, long lo2, long hi2, int *a, int *b)
{
	const char *at = strstr(arg, sep);
	char first[32];

	if (!at || at == arg || (size_t)(at - arg) >= sizeof first)
		argp_error(st, "invalid %s '%s': expected %s", opt, arg, form);
	memcpy(first, arg, (size_t)(at - arg));
	first[at - arg] = 0;
	*a = (int)vb_arg_long(st, opt, first, lo1, hi1);
	*b = (int)vb_arg_long(st, opt, at + strlen(sep), lo2, hi2);
}

static error_t parse_opt(int key, char *arg, struct argp_state *st)
{
	switch (key) {
	case OPT_PCA:
		cmd.pca = (int)vb_arg_long(st, "--pca", arg, 1, 4096);
		break;
	case 'k':
		cmd.k = (int)vb_arg_long(st, "-k", arg, 1, 1000);
		break;
	case OPT_RESTARTS:
		cmd.restarts = (int)vb_arg_long(st, "--restarts", arg, 1, 100000);
		break;
	case OPT_MAX_ITER:
		cmd.max_iter = (int)vb_arg_long(st, "--max-iter", arg, 1, 1000000);
		break;
	case OPT_TOL:
		cmd.tol = vb_arg_double(st, "--tol", arg, 0, 1e6);
		break;
	case OPT_CHOOSE_K:
		arg_pair(st, "--choose-k", arg, "..", "A..B", 2, 1000, 2, 1000, &cmd.choose_lo,
		         &cmd.choose_hi);
		if (cmd.choose_hi < cmd.choose_lo)
			argp_error(st, "invalid --choose-k '%s': B is less than A", arg);
		break;
	case OPT_SAMPLE:
		cmd.sample = vb_arg_long(st, "--silhouette-sample", arg, 0, 100000000);
		break;
	case OPT_CENTROIDS:
		cmd.centroids = arg;
		break;
	case OPT_PLOT:
		cmd.plot = arg;
		break;
	case OPT_PLOT_SIZE:
		arg_pair(st, "--plot-size", arg, "x", "WxH", 200, 8192, 150, 8192, &cmd.plot_w,
		         &cmd.plot_h);
		break;
	case ARGP_KEY_ARG:
		if (st->arg_num > 0)
			argp_error(st, "too many arguments");
		cmd.input = arg;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static void parse_cmdline(int argc, char **argv)
{
	static const struct argp_child children[] = { { &vb_common_argp, 0, "Common options:", 0 },
						       { 0 } };
	static const struct argp argp = {
		options, parse_opt, "[FILE]",
		"Cluster songs by mood: PCA on song-scale's z_ columns, k-means++, and a mood "
		"(happy, energetic, sad, calm) for every cluster from its valence and energy.\v"
		"FILE (default: stdin) is song-scale's CSV.  Output on stdout: every input column, "
		"then cluster, mood, pc1, pc2.  -v reports the explained variance and each "
		"cluster's mood profile on stderr.",
		children, 0, 0
	};

	argp_parse(&argp, argc, argv, 0, 0, 0);
	if (cmd.choose_lo && (cmd.centroids || cmd.plot))
		vb_fatal(VB_EXIT_USAGE, "--choose-k cannot be combined with --centroids or --plot");
}

/* ------------------------------------------------------------------ */

/* The raw features the mood naming reads (by column name). */
enum { F_VALENCE, F_ENERGY, F_DANCE, F_ACOUSTIC, F_LOUD, F_TEMPO, NMOODF };
static const char *const mood_feature[NMOODF] = {
	"valence", "energy", "danceability", "acousticness", "loudness", "tempo"
};

/* The whole input table. */
struct table {
	char **head;       /* ncol column names */
	size_t ncol;
	int *echo;         /* ncol: column copied to the output? */
	int nz;            /* z_ columns */
	size_t *zcol;      /* their indexes */
	int nraw;          /* raw features: the plain column of each z_ column, when present */
	size_t *rawcol;
	const char **rawname;
	int moodz[NMOODF]; /* index into raw features for the mood cues, or -1 */
	int moodzz[NMOODF]; /* else index into z_ columns, or -1 */
	long n, cap;
	double *z;         /* n x nz */
	double *raw;       /* n x nraw */
	char *text;        /* every row's fields, NUL-separated */
	size_t tlen, tcap;
	size_t *row;       /* n offsets into text */
};

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		vb_fatal(VB_EXIT_DATA, "out of memory");
	return q;
}

static double parse_num(const struct table *t, struct vb_csv *r, size_t col, const char *s)
{
	double v;

	if (vb_csv_parse_double(s, &v) < 0)
		vb_fatal(VB_EXIT_DATA, "line %ld: column '%s': '%s' is not a number", vb_csv_line(r),
			 t->head[col], s);
	if (!isfinite(v))
		vb_fatal(VB_EXIT_DATA, "line %ld: column '%s': '%s' is not finite", vb_csv_line(r),
			 t->head[col], s);
	return v;
}

static void read_header(struct table *t, char **f, size_t nf)
{
	static const char *const ours[] = { "cluster", "mood", "pc1", "pc2" };

	t->ncol = nf;
	t->head = xrealloc(NULL, nf * sizeof *t->head);
	t->echo = xrealloc(NULL, nf * sizeof *t->echo);
	t->zcol = xrealloc(NULL, nf * sizeof *t->zcol);
	t->rawcol = xrealloc(NULL, nf * sizeof *t->rawcol);
	t->rawname = xrealloc(NULL, nf * sizeof *t->rawname);
	for (size_t i = 0; i < nf; i++) {
		t->head[i] = strdup(f[i]);
		if (!t->head[i])
			vb_fatal(VB_EXIT_DATA, "out of memory");
		t->echo[i] = 1;
		for (size_t j = 0; j < sizeof ours / sizeof *ours; j++)
			if (!strcmp(f[i], ours[j]))
				t->echo[i] = 0; /* replaced by ours */
	}
	for (size_t i = 0; i < nf; i++) {
		if (strncmp(t->head[i], "z_", 2) || !t->head[i][2])
			continue;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(t->head[j], t->head[i]))
				vb_fatal(VB_EXIT_DATA, "column '%s' appears twice", t->head[i]);
		t->zcol[t->nz++] = i;
		for (size_t j = 0; j < nf; j++)
			if (!strcmp(t->head[j], t->head[i] + 2)) {
				t->rawname[t->nraw] = t->head[j];
				t->rawcol[t->nraw++] = j;
				break;
			}
	}
	if (!t->nz)
		vb_fatal(VB_EXIT_DATA, "no z_ columns in the header: expected song-scale's output");
	for (int m = 0; m < NMOODF; m++) {
		t->moodz[m] = t->moodzz[m] = -1;
		for (int j = 0; j < t->nraw; j++)
			if (!strcmp(t->rawname[j], mood_feature[m]))
				t->moodz[m] = j;
		for (int j = 0; j < t->nz; j++)
			if (!strcmp(t->head[t->zcol[j]] + 2, mood_feature[m]))
				t->moodzz[m] = j;
	}
	for (int m = F_VALENCE; m <= F_ENERGY; m++)
		if (t->moodz[m] < 0 && t->moodzz[m] < 0)
			vb_fatal(VB_EXIT_DATA, "no '%s' or 'z_%s' column: moods need valence and energy",
				 mood_feature[m], mood_feature[m]);
}

static void read_table(struct table *t, FILE *in, const char *name)
{
	struct vb_csv *r = vb_csv_open(in);
	char **f;
	size_t nf, *lens;
	int rc;

	if (!r)
		vb_fatal(VB_EXIT_DATA, "out of memory");
	rc = vb_csv_next(r, &f, &nf, &lens);
	if (rc < 0)
		vb_fatal(VB_EXIT_DATA, "%s: %s", name, vb_err_msg());
	if (rc == 0)
		vb_fatal(VB_EXIT_DATA, "%s: empty input: expected song-scale's CSV", name);
	read_header(t, f, nf);
	while ((rc = vb_csv_next(r, &f, &nf, &lens)) > 0) {
		size_t need = 0;

		if (t->n == t->cap) {
			t->cap = t->cap ? 2 * t->cap : 1024;
			t->z = xrealloc(t->z, (size_t)t->cap * (size_t)t->nz * sizeof *t->z);
			t->raw = xrealloc(t->raw, (size_t)t->cap * (size_t)(t->nraw ? t->nraw : 1) *
							  sizeof *t->raw);
			t->row = xrealloc(t->row, (size_t)t->cap * sizeof *t->row);
		}
		for (int j = 0; j < t->nz; j++)
			t->z[t->n * t->nz + j] = parse_num(t, r, t->zcol[j], f[t->zcol[j]]);
		for (int j = 0; j < t->nraw; j++)
			t->raw[t->n * t->nraw + j] = parse_num(t, r, t->rawcol[j], f[t->rawcol[j]]);
		for (size_t i = 0; i < nf; i++)
			need += lens[i] + 1;
		if (t->tlen + need > t->tcap) {
			while (t->tlen + need > t->tcap)
				t->tcap = t->tcap ? 2 * t->tcap : 1 << 20;
			t->text = xrealloc(t->text, t->tcap);
		}
		t->row[t->n] = t->tlen;
		for (size_t i = 0; i < nf; i++) {
			memcpy(t->text + t->tlen, f[i], lens[i] + 1);
			t->tlen += lens[i] + 1;
		}
		t->n++;
	}
	if (rc < 0)
		vb_fatal(VB_EXIT_DATA, "%s: %s", name, vb_err_msg());
	if (ferror(in))
		vb_fatal(VB_EXIT_DATA, "%s: read error", name);
	vb_csv_close(r);
	if (t->n == 0)
		vb_fatal(VB_EXIT_DATA, "%s: no songs in the input", name);
}

static void free_table(struct table *t)
{
	for (size_t i = 0; i < t->ncol; i++)
		free(t->head[i]);
	free(t->head);
	free(t->echo);
	free(t->zcol);
	free(t->rawcol);
	free(t->rawname);
	free(t->z);
	free(t->raw);
	free(t->text);
	free(t->row);
}

/* ------------------------------------------------------------------ */

/* Per-cluster means of the raw features (k x nraw) and sizes. */
static void cluster_means(const struct table *t, const int *lab, int k, double *mean, long *size)
{
	memset(mean, 0, (size_t)k * (size_t)t->nraw * sizeof *mean);
	memset(size, 0, (size_t)k * sizeof *size);
	for (long i = 0; i < t->n; i++) {
		size[lab[i]]++;
		for (int j = 0; j < t->nraw; j++)
			mean[lab[i] * t->nraw + j] += t->raw[i * t->nraw + j];
	}
	for (int c = 0; c < k; c++)
		for (int j = 0; j < t->nraw; j++)
			mean[c * t->nraw + j] /= size[c] ? (double)size[c] : 1.0;
}

/*
 * The centroid of each cluster in catalogue z units for every mood cue:
 * from the raw column (standardised by the catalogue's mean and population
 * std) when present, else the mean of its z_ column.
 */
static void mood_features(const struct table *t, const int *lab, int k, struct vb_mood_feat *mf)
{
	double *sum = xrealloc(NULL, (size_t)k * NMOODF * sizeof *sum);
	long *cnt = xrealloc(NULL, (size_t)k * sizeof *cnt);

	memset(sum, 0, (size_t)k * NMOODF * sizeof *sum);
	memset(cnt, 0, (size_t)k * sizeof *cnt);
	for (long i = 0; i < t->n; i++)
		cnt[lab[i]]++;
	for (int m = 0; m < NMOODF; m++) {
		double mu = 0, sd = 0;
		int rj = t->moodz[m], zj = t->moodzz[m];

		if (rj >= 0) {
			for (long i = 0; i < t->n; i++)
				mu += t->raw[i * t->nraw + rj];
			mu /= (double)t->n;
			for (long i = 0; i < t->n; i++) {
				double d = t->raw[i * t->nraw + rj] - mu;

				sd += d * d;
			}
			sd = sqrt(sd / (double)t->n);
		}
		for (long i = 0; i < t->n; i++) {
			double v;

			if (rj >= 0)
				v = sd > 0 ? (t->raw[i * t->nraw + rj] - mu) / sd : 0;
			else if (zj >= 0)
				v = t->z[i * t->nz + zj];
			else
				v = NAN;
			sum[lab[i] * NMOODF + m] += v;
		}
	}
	for (int c = 0; c < k; c++) {
		double *s = sum + c * NMOODF;
		double dn = cnt[c] ? (double)cnt[c] : 1.0;

		mf[c].valence = s[F_VALENCE] / dn;
		mf[c].energy = s[F_ENERGY] / dn;
		mf[c].danceability = s[F_DANCE] / dn;
		mf[c].acousticness = s[F_ACOUSTIC] / dn;
		mf[c].loudness = s[F_LOUD] / dn;
		mf[c].tempo = s[F_TEMPO] / dn;
	}
	free(sum);
	free(cnt);
}

/* ------------------------------------------------------------------ */

static void put_field(FILE *f, const char *s, int first)
{
	if (!first)
		putc(',', f);
	if (vb_csv_write_field(f, s) < 0)
		vb_fatal(VB_EXIT_DATA, "%s", vb_err_msg());
}

static void write_songs(const struct table *t, const int *cl, const char *const *moodname,
			const double *Y, int ny)
{
	char buf[64];
	int first = 1;

	for (size_t i = 0; i < t->ncol; i++)
		if (t->echo[i]) {
			put_field(stdout, t->head[i], first);
			first = 0;
		}
	fputs(first ? "cluster,mood,pc1,pc2\n" : ",cluster,mood,pc1,pc2\n", stdout);
	for (long r = 0; r < t->n; r++) {
		const char *p = t->text + t->row[r];

		first = 1;
		for (size_t i = 0; i < t->ncol; i++) {
			if (t->echo[i]) {
				put_field(stdout, p, first);
				first = 0;
			}
			p += strlen(p) + 1;
		}
		if (!first)
			putc(',', stdout);
		fprintf(stdout, "%d,%s,", cl[r], moodname[cl[r]]);
		fputs(vb_csv_fmt_double(buf, Y[r * ny]), stdout);
		putc(',', stdout);
		fputs(vb_csv_fmt_double(buf, ny > 1 ? Y[r * ny + 1] : 0.0), stdout);
		if (putc('\n', stdout) == EOF)
			vb_fatal(VB_EXIT_DATA, "write error: %s", strerror(errno));
	}
}

static void write_centroids(const char *path, const struct table *t, int k,
			    const char *const *moodname, const long *size, const double *mean,
			    const double *ctr, int d)
{
	FILE *f = vb_open_out(path);
	char buf[64];

	fputs("cluster,mood,size", f);
	for (int j = 0; j < t->nraw; j++) {
		putc(',', f);
		vb_csv_write_field(f, t->rawname[j]);
	}
	for (int j = 0; j < d; j++)
		fprintf(f, ",pc%d", j + 1);
	putc('\n', f);
	for (int c = 0; c < k; c++) {
		fprintf(f, "%d,%s,%ld", c, moodname[c], size[c]);
		for (int j = 0; j < t->nraw; j++)
			fprintf(f, ",%s", vb_csv_fmt_double(buf, mean[c * t->nraw + j]));
		for (int j = 0; j < d; j++)
			fprintf(f, ",%s", vb_csv_fmt_double(buf, ctr[c * d + j]));
		putc('\n', f);
	}
	if (vb_close(f, path) < 0)
		exit(VB_EXIT_DATA);
}

/* The mood profile table on stderr (-v). */
static void print_profile(const struct table *t, int k, const char *const *moodname,
			  const long *size, const double *mean)
{
	fprintf(stderr, "%s: mood profile (means of the raw features)\n", vb_progname);
	fprintf(stderr, "%-7s %-9s %7s", "cluster", "mood", "size");
	for (int j = 0; j < t->nraw; j++)
		fprintf(stderr, " %*s", (int)(strlen(t->rawname[j]) > 8 ? strlen(t->rawname[j]) : 8),
			t->rawname[j]);
	fputc('\n', stderr);
	for (int c = 0; c < k; c++) {
		fprintf(stderr, "%-7d %-9s %7ld", c, moodname[c], size[c]);
		for (int j = 0; j < t->nraw; j++)
			fprintf(stderr, " %*.4g",
				(int)(strlen(t->rawname[j]) > 8 ? strlen(t->rawname[j]) : 8),
				mean[c * t->nraw + j]);
		fputc('\n', stderr);
	}
}

/* ------------------------------------------------------------------ */

static void choose_k(const double *X, long n, int d)
{
	int nk = cmd.choose_hi - cmd.choose_lo + 1;
	int **labs = xrealloc(NULL, (size_t)nk * sizeof *labs);
	int *ks = xrealloc(NULL, (size_t)nk * sizeof *ks);
	double *inertia = xrealloc(NULL, (size_t)nk * sizeof *inertia);
	double *sil = xrealloc(NULL, (size_t)nk * sizeof *sil);
	char buf[64];

	if (cmd.choose_hi > n)
		vb_fatal(VB_EXIT_DATA, "--choose-k %d..%d: only %ld songs", cmd.choose_lo,
			 cmd.choose_hi, n);
	for (int i = 0; i < nk; i++) {
		struct vb_kmeans km;
		struct vb_kmeans_opt o = { cmd.choose_lo + i, cmd.restarts, cmd.max_iter, cmd.tol,
					   vb_opt.seed };

		vb_progress("k-means", i, nk);
		if (vb_kmeans_fit(&km, X, n, d, &o) < 0)
			vb_fatal(VB_EXIT_DATA, "%s", vb_err_msg());
		ks[i] = o.k;
		inertia[i] = km.inertia;
		labs[i] = km.labels;
		km.labels = NULL;
		vb_kmeans_free(&km);
	}
	vb_progress("k-means", nk, nk);
	vb_blas_threads(vb_opt.threads);
	if (vb_silhouette(X, n, d, nk, (const int *const *)labs, ks, cmd.sample, vb_opt.seed, sil) < 0)
		vb_fatal(VB_EXIT_DATA, "%s", vb_err_msg());
	fputs("k,inertia,silhouette\n", stdout);
	for (int i = 0; i < nk; i++) {
		fprintf(stdout, "%d,%s,", ks[i], vb_csv_fmt_double(buf, inertia[i]));
		fprintf(stdout, "%.6f\n", sil[i]);
		free(labs[i]);
	}
	free(labs);
	free(ks);
	free(inertia);
	free(sil);
}

/* Mood colours for the plot: happy, energetic, sad, calm. */
static const unsigned char mood_rgb[VB_MOOD_COUNT][3] = {
	{ 230, 159, 0 }, { 213, 94, 0 }, { 0, 114, 178 }, { 0, 158, 115 }
};

static void draw_plot(const double *Y, int ny, long n, const int *cl, const int *moodof, int k,
		      const long *size, const struct vb_pca *p)
{
	struct vb_plot_group g[VB_MOOD_COUNT];
	char label[VB_MOOD_COUNT][64], xl[64], yl[64], title[96];
	double *x = xrealloc(NULL, (size_t)n * sizeof *x), *y = xrealloc(NULL, (size_t)n * sizeof *y);
	int *grp = xrealloc(NULL, (size_t)n * sizeof *grp);
	long cnt[VB_MOOD_COUNT] = { 0 };
	FILE *f;

	for (int c = 0; c < k; c++)
		cnt[moodof[c]] += size[c];
	for (int m = 0; m < VB_MOOD_COUNT; m++) {
		snprintf(label[m], sizeof label[m], "%s (%ld)", vb_mood_name(m), cnt[m]);
		g[m].label = label[m];
		memcpy(g[m].rgb, mood_rgb[m], 3);
	}
	for (long i = 0; i < n; i++) {
		x[i] = Y[i * ny];
		y[i] = ny > 1 ? Y[i * ny + 1] : 0;
		grp[i] = moodof[cl[i]];
	}
	snprintf(xl, sizeof xl, "PC1 (%.1f%% of variance)", 100 * p->ratio[0]);
	snprintf(yl, sizeof yl, "PC2 (%.1f%% of variance)", p->ncomp > 1 ? 100 * p->ratio[1] : 0.0);
	snprintf(title, sizeof title, "%ld songs in %d clusters by mood", n, k);
	f = vb_open_out(cmd.plot);
	if (vb_plot_scatter(f, cmd.plot_w, cmd.plot_h, x, y, n, grp, g, VB_MOOD_COUNT, title, xl, yl) < 0)
		vb_fatal(VB_EXIT_DATA, "%s: %s", cmd.plot, vb_err_msg());
	if (vb_close(f, cmd.plot) < 0)
		exit(VB_EXIT_DATA);
	free(x);
	free(y);
	free(grp);
}

int main(int argc, char **argv)
{
	struct table t;
	struct vb_pca p;
	struct vb_kmeans km;
	struct vb_kmeans_opt o;
	FILE *in;
	double *Y, *X, *mean;
	int nfit, *moodof, *order, *newid, *cl;
	long *size;
	struct vb_mood_feat *mf;
	const char **moodname;

	vb_cli_init(argc, argv);
	parse_cmdline(argc, argv);
	/* PCA and k-means are small BLAS calls: one thread keeps their results
	 * the same bit for bit whatever --threads says; the silhouette's
	 * all-pairs distances use the threads. */
	vb_blas_threads(1);
	memset(&t, 0, sizeof t);
	in = vb_open_in(cmd.input);
	read_table(&t, in, strcmp(cmd.input, "-") ? cmd.input : "stdin");
	if (in != stdin)
		fclose(in);

	if (cmd.pca > t.nz)
		vb_fatal(VB_EXIT_DATA, "--pca %d: the input has only %d z_ columns", cmd.pca, t.nz);
	if (t.n < 2)
		vb_fatal(VB_EXIT_DATA, "need at least 2 songs, got %ld", t.n);
	nfit = cmd.pca >= 2 ? cmd.pca : (t.nz >= 2 ? 2 : 1);
	if (vb_pca_fit(&p, t.z, t.n, t.nz, nfit) < 0)
		vb_fatal(VB_EXIT_DATA, "%s", vb_err_msg());
	Y = xrealloc(NULL, (size_t)t.n * (size_t)nfit * sizeof *Y);
	if (vb_pca_transform(&p, t.z, t.n, Y) < 0)
		vb_fatal(VB_EXIT_DATA, "%s", vb_err_msg());
	if (vb_opt.verbose && !vb_opt.quiet) {
		double tot = 0;

		fprintf(stderr, "%s: explained variance ratio:", vb_progname);
		for (int c = 0; c < cmd.pca; c++) {
			fprintf(stderr, " %.6f", p.ratio[c]);
			tot += p.ratio[c];
		}
		fprintf(stderr, " (total %.6f)\n", tot);
	}
	X = Y;
	if (cmd.pca != nfit) { /* cluster on fewer columns than we project */
		X = xrealloc(NULL, (size_t)t.n * (size_t)cmd.pca * sizeof *X);
		for (long i = 0; i < t.n; i++)
			memcpy(X + i * cmd.pca, Y + i * nfit, (size_t)cmd.pca * sizeof *X);
	}
	if (cmd.choose_lo) {
		choose_k(X, t.n, cmd.pca);
		if (X != Y)
			free(X);
		free(Y);
		vb_pca_free(&p);
		free_table(&t);
		return vb_close_stdout(VB_EXIT_OK);
	}
	if (cmd.k > t.n)
		vb_fatal(VB_EXIT_DATA, "-k %d: only %ld songs", cmd.k, t.n);
	vb_kmeans_defaults(&o, cmd.k);
	o.restarts = cmd.restarts;
	o.max_iter = cmd.max_iter;
	o.tol = cmd.tol;
	o.seed = vb_opt.seed;
	if (vb_kmeans_fit(&km, X, t.n, cmd.pca, &o) < 0)
		vb_fatal(VB_EXIT_DATA, "%s", vb_err_msg());
	{
		int used = 0;

		for (int c = 0; c < cmd.k; c++)
			used += km.sizes[c] > 0;
		if (used < cmd.k && !vb_opt.quiet)
			vb_warn("only %d of the %d clusters hold songs (too few distinct songs)", used,
				cmd.k);
	}
	vb_info("k-means: k %d, inertia %.6f, best of %d restarts (restart %d, %d iterations)",
		cmd.k, km.inertia, cmd.restarts, km.best_restart + 1, km.n_iter);

	/* Name the clusters, then number them by mood, largest first. */
	mf = xrealloc(NULL, (size_t)cmd.k * sizeof *mf);
	moodof = xrealloc(NULL, (size_t)cmd.k * sizeof *moodof);
	mood_features(&t, km.labels, cmd.k, mf);
	if (vb_mood_assign(mf, cmd.k, moodof) < 0)
		vb_fatal(VB_EXIT_DATA, "%s", vb_err_msg());
	order = xrealloc(NULL, (size_t)cmd.k * sizeof *order);
	newid = xrealloc(NULL, (size_t)cmd.k * sizeof *newid);
	for (int c = 0; c < cmd.k; c++)
		order[c] = c;
	for (int a = 1; a < cmd.k; a++) /* insertion sort: mood, then size descending */
		for (int b = a; b > 0; b--) {
			int x = order[b - 1], y = order[b];

			if (moodof[x] < moodof[y] ||
			    (moodof[x] == moodof[y] && km.sizes[x] >= km.sizes[y]))
				break;
			order[b - 1] = y;
			order[b] = x;
		}
	for (int c = 0; c < cmd.k; c++)
		newid[order[c]] = c;
	cl = xrealloc(NULL, (size_t)t.n * sizeof *cl);
	for (long i = 0; i < t.n; i++)
		cl[i] = newid[km.labels[i]];
	{
		double *ctr = xrealloc(NULL, (size_t)cmd.k * (size_t)cmd.pca * sizeof *ctr);
		int *mo = xrealloc(NULL, (size_t)cmd.k * sizeof *mo);

		moodname = xrealloc(NULL, (size_t)cmd.k * sizeof *moodname);
		for (int c = 0; c < cmd.k; c++) {
			memcpy(ctr + newid[c] * cmd.pca, km.centers + c * cmd.pca,
			       (size_t)cmd.pca * sizeof *ctr);
			mo[newid[c]] = moodof[c];
		}
		for (int c = 0; c < cmd.k; c++)
			moodname[c] = vb_mood_name(mo[c]);
		mean = xrealloc(NULL, (size_t)cmd.k * (size_t)(t.nraw ? t.nraw : 1) * sizeof *mean);
		size = xrealloc(NULL, (size_t)cmd.k * sizeof *size);
		cluster_means(&t, cl, cmd.k, mean, size);
		if (vb_opt.verbose && !vb_opt.quiet)
			print_profile(&t, cmd.k, moodname, size, mean);
		if (cmd.centroids)
			write_centroids(cmd.centroids, &t, cmd.k, moodname, size, mean, ctr, cmd.pca);
		if (cmd.plot)
			draw_plot(Y, nfit, t.n, cl, mo, cmd.k, size, &p);
		free(ctr);
		free(mo);
	}
	write_songs(&t, cl, moodname, Y, nfit);
	free(moodname);
	free(mean);
	free(size);
	free(cl);
	free(order);
	free(newid);
	free(mf);
	free(moodof);
	vb_kmeans_free(&km);
	if (X != Y)
		free(X);
	free(Y);
	vb_pca_free(&p);
	free_table(&t);
	return vb_close_stdout(VB_EXIT_OK);
}
