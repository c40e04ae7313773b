/* stats.h - streaming statistics of tables (CSV) and tensors (.npy).
 *
 * One pass over the data with bounded memory.  Per column: the inferred
 * type (bool, int, float, string), count of present values, missing
 * (empty) values, zeros, NaN and infinities, mean and sample standard
 * deviation (Welford), min and max, quantiles from a KLL sketch (exact,
 * with linear interpolation, while a column holds at most
 * VB_STATS_EXACT values), a 10-bucket equal-width and a 10-bucket quantile
 * histogram, the number of distinct values (exact while at most
 * `unique_max` distinct values have been seen, then a HyperLogLog
 * estimate) and the most frequent values (exact, then a Misra-Gries
 * summary).  For a .npy stream (X then y, as fer-prep writes it): the
 * arrays' dtypes and shapes, value statistics of X, and per-label counts
 * and pixel statistics.
 *
 * Statistics are written as YAML and read back (for drift comparisons)
 * with vb_stats_load().
 */
#ifndef VB_STATS_H
#define VB_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Quantiles are exact (sorted buffer) up to this many values per column. */
#define VB_STATS_EXACT 16384

/* ---- KLL quantile sketch --------------------------------------------- */

struct vb_kll;

/* A new sketch with accuracy parameter k (>= 8; rank error about 1.7/k)
 * and a seed for its coin flips (the same input and seed give the same
 * sketch).  NULL with an error on allocation failure.  Free with
 * vb_kll_free(). */
struct vb_kll *vb_kll_new(int k, uint64_t seed);
void vb_kll_free(struct vb_kll *s);
/* Add one value (NaN is ignored).  0 or -1 (out of memory). */
int vb_kll_add(struct vb_kll *s, double v);
/* Merge src into dst (src unchanged).  0 or -1. */
int vb_kll_merge(struct vb_kll *dst, const struct vb_kll *src);
/* Number of values added (including merged ones). */
uint64_t vb_kll_n(const struct vb_kll *s);
/* Approximate number of values <= x. */
double vb_kll_rank(const struct vb_kll *s, double x);
/* Approximate q-quantile (0 <= q <= 1); NaN if empty. */
double vb_kll_quantile(const struct vb_kll *s, double q);

/* ---- statistics -------------------------------------------------------- */

enum vb_stype { VB_ST_NONE, VB_ST_BOOL, VB_ST_INT, VB_ST_FLOAT, VB_ST_STRING };

/* "none", "bool", "int", "float", "string"; and back (-1 if unknown). */
const char *vb_stype_name(enum vb_stype t);
int vb_stype_parse(const char *s);

struct vb_topval {
	char *value;       /* owned by the column */
	uint64_t count;
};

struct vb_colacc;      /* the live accumulator (private) */

/* The summary of one column, filled by vb_stats_finish() or loaded from
 * YAML.  Numeric fields are NaN when they do not apply. */
struct vb_colstat {
	char *name;
	enum vb_stype type;
	uint64_t count;        /* present (non-empty) values */
	uint64_t missing;      /* empty fields */
	uint64_t n_bool, n_int, n_float, n_string;  /* values of each kind */
	uint64_t n_nan, n_inf, n_true;
	uint64_t zeros;
	uint64_t n_num;        /* finite numeric values (int or float) */
	int64_t values_per_example; /* .npy arrays: elements per example; else 1 */
	double mean, std, min, max;
	double q[7];           /* quantiles at VB_STATS_QS */
	double hist_edges[11];
	uint64_t hist[10];
	double qhist_edges[11];
	uint64_t qhist[10];
	uint64_t unique;       /* distinct values (estimate when !unique_exact) */
	int unique_exact;
	double avg_len;        /* strings: mean length in bytes */
	size_t ntop;
	struct vb_topval *top; /* most frequent first; all values when unique <= 100 */
	int has_hist;          /* histograms and quantiles are filled */
	struct vb_colacc *acc; /* NULL for loaded statistics */
};

/* Quantile levels of vb_colstat.q. */
extern const double VB_STATS_QS[7];

struct vb_arrayinfo {
	char name[16];
	char dtype[8];
	int ndim;
	int64_t shape[4];
};

struct vb_labelstat {
	int64_t label;
	uint64_t count;
	uint64_t blank;      /* images whose pixels are all equal */
	double mean, std, min, max;   /* over all pixels of the label's images */
};

struct vb_stats_opts {
	uint64_t unique_max;  /* exact distinct counting bound (default 65536) */
	int top;              /* top values kept for output (default 10) */
	int kll_k;            /* sketch accuracy (default 512) */
	uint64_t seed;
};

struct vb_stats {
	char format[8];       /* "csv" or "npy" */
	uint64_t num_examples;
	size_t ncols;
	struct vb_colstat **cols;
	size_t narrays;
	struct vb_arrayinfo arrays[8];
	size_t nlabels;
	struct vb_labelstat *labels;
	struct vb_stats_opts opts;
	void *priv;           /* per-image summaries while reading .npy */
};

/* A new, empty statistics object (opts may be NULL for the defaults).
 * Free with vb_stats_free(), which accepts NULL. */
struct vb_stats *vb_stats_new(const struct vb_stats_opts *opts);
void vb_stats_free(struct vb_stats *st);

/* Read a whole CSV stream (header row first) / .npy stream into st.
 * 0 or -1 with an error naming the line or array. */
int vb_stats_read_csv(struct vb_stats *st, FILE *f);
int vb_stats_read_npy(struct vb_stats *st, FILE *f);
/* Read f, choosing CSV or .npy from its first byte (the .npy magic starts
 * with 0x93); a gzip stream is an error telling to decompress first. */
int vb_stats_read(struct vb_stats *st, FILE *f);

/* Compute the summaries after reading.  0 or -1. */
int vb_stats_finish(struct vb_stats *st);

/* Column by name, or NULL. */
struct vb_colstat *vb_stats_col(const struct vb_stats *st, const char *name);

/* Live queries on a finished column that still has its accumulator:
 * numbers of finite numeric values < x and <= x (approximate beyond
 * VB_STATS_EXACT values); occurrences of value s (-1 if unknown because
 * the exact table overflowed and s is not among the tracked values). */
double vb_colstat_count_lt(const struct vb_colstat *c, double x);
double vb_colstat_count_le(const struct vb_colstat *c, double x);
int64_t vb_colstat_value_count(const struct vb_colstat *c, const char *s);
/* Call fn for every distinct value tracked; returns 1 if the values are
 * all the column's distinct values (exact table), 0 otherwise. */
int vb_colstat_each_value(const struct vb_colstat *c,
	void (*fn)(const char *value, uint64_t count, void *arg), void *arg);

/* True when a column is treated as categorical: string or bool, or int
 * with at most 20 distinct values (counted exactly). */
int vb_colstat_categorical(const struct vb_colstat *c);

/* Write the statistics as YAML.  0 or -1. */
int vb_stats_write_yaml(FILE *f, const struct vb_stats *st);
/* A readable table, one line per column.  0 or -1. */
int vb_stats_write_table(FILE *f, const struct vb_stats *st);
/* Write s as a YAML scalar (vb_yaml_write_str) with every byte that is not
 * part of valid UTF-8 replaced by '?', since YAML cannot hold it.  0 or -1. */
int vb_stats_write_str(FILE *f, const char *s);
/* A copy of s with the same replacement (caller frees); NULL if out of
 * memory. */
char *vb_stats_utf8(const char *s);
/* Load statistics written by vb_stats_write_yaml (for drift).  NULL with
 * an error on failure; free with vb_stats_free(). */
struct vb_stats *vb_stats_load(FILE *f);

#endif
