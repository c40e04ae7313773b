/* schema.h - data schemas after TFDV's schema.proto, validation of
 * statistics against them, and drift between two sets of statistics.
 *
 * A schema (YAML) gives per feature: type, presence (min_fraction,
 * min_count), an int or float domain (min, max, disallow_nan), a string
 * domain (the allowed values), values_per_example for .npy arrays, and drift
 * comparator thresholds (infinity_norm for categorical features,
 * jensen_shannon_divergence for numeric ones); and for the dataset a
 * minimum number of examples.  Anomalies carry TFDV's names.
 */
#ifndef VB_SCHEMA_H
#define VB_SCHEMA_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "stats.h"

struct vb_feature {
	char *name;
	int type;               /* enum vb_stype */
	int categorical;        /* drift by L-infinity rather than JS */
	int has_presence;
	double min_fraction;
	uint64_t min_count;
	int has_domain;         /* int_domain / float_domain */
	double dmin, dmax;      /* NaN: that side unbounded */
	int disallow_nan;
	int has_values;         /* string_domain */
	size_t nvalues;
	char **values;
	int64_t values_per_example;  /* 0: not checked */
	double linf;            /* thresholds; 0: not checked */
	double js;
};

struct vb_schema {
	int has_min_examples;
	uint64_t min_examples;
	size_t n;
	struct vb_feature *f;
};

struct vb_schema_opts {
	double drift;            /* default drift thresholds (0.1) */
	double min_examples_fraction;  /* min_num_examples = floor(this * n) (0.5) */
	size_t max_domain;       /* string domains of at most this many values (100) */
};

/* Infer a schema from finished statistics.  NULL with an error on
 * allocation failure.  Free with vb_schema_free(). */
struct vb_schema *vb_schema_infer(const struct vb_stats *st, const struct vb_schema_opts *o);
/* Load a schema from YAML; NULL with an error naming the line. */
struct vb_schema *vb_schema_load(FILE *f);
/* Free a schema; accepts NULL. */
void vb_schema_free(struct vb_schema *s);
/* Write a schema as YAML (comment names the source).  0 or -1. */
int vb_schema_write(FILE *f, const struct vb_schema *s, const char *comment);

enum vb_severity { VB_SEV_WARNING, VB_SEV_ERROR };

struct vb_anomaly {
	char kind[48];          /* e.g. "SCHEMA_MISSING_COLUMN" */
	enum vb_severity severity;
	char column[128];       /* "" for dataset-level anomalies */
	char desc[320];         /* one line */
};

struct vb_anomalies {
	size_t n, cap;
	struct vb_anomaly *a;
};

/* Free the list's storage (not the struct); accepts an empty list. */
void vb_anomalies_clear(struct vb_anomalies *l);
/* Number of error-severity anomalies. */
size_t vb_anomalies_errors(const struct vb_anomalies *l);

/* Check finished statistics against a schema, appending anomalies.
 * 0 or -1 (out of memory). */
int vb_schema_validate(const struct vb_schema *s, const struct vb_stats *st,
		       struct vb_anomalies *out);

/* Compare current statistics (with live accumulators) against baseline
 * statistics: L-infinity distance of value frequencies for categorical
 * features, Jensen-Shannon divergence (log base 2) of numeric histograms on
 * the baseline's bucket edges (plus one bucket below and one above).
 * Thresholds come from the schema's features when s is given (features
 * without a comparator are not checked); otherwise every common feature is
 * checked against default_threshold.  0 or -1. */
int vb_schema_drift(const struct vb_schema *s, const struct vb_stats *baseline,
		    const struct vb_stats *current, double default_threshold,
		    struct vb_anomalies *out);

/* The two distances, exposed for tests.  Return NAN if they do not apply. */
double vb_drift_linf(const struct vb_colstat *base, const struct vb_colstat *cur);
double vb_drift_js(const struct vb_colstat *base, const struct vb_colstat *cur);

/* Write anomalies one per line ("error  KIND  column  description") or as
 * YAML.  0 or -1. */
int vb_anomalies_write(FILE *f, const struct vb_anomalies *l, int yaml);

#endif
