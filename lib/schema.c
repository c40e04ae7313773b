/* schema.c - infer, read and write schemas; validate statistics; drift. */
#include "schema.h"
#include "err.h"
#include "yaml.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static int nomem(void)
{
	return vb_err_set("out of memory");
}

static void feature_free(struct vb_feature *f)
{
	free(f->name);
	for (size_t i = 0; i < f->nvalues; i++)
		free(f->values[i]);
	free(f->values);
}

void vb_schema_free(struct vb_schema *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		feature_free(&s->f[i]);
	free(s->f);
	free(s);
}

static const struct vb_feature *schema_feature(const struct vb_schema *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->f[i].name, name))
			return &s->f[i];
	return NULL;
}

/* ---- inference ----------------------------------------------------------- */

struct vb_schema *vb_schema_infer(const struct vb_stats *st, const struct vb_schema_opts *o)
{
	struct vb_schema_opts d = { 0.1, 0.5, 100 };
	struct vb_schema *s = calloc(1, sizeof *s);

	if (o)
		d = *o;
	if (!s)
		return nomem(), NULL;
	s->f = calloc(st->ncols ? st->ncols : 1, sizeof *s->f);
	if (!s->f)
		goto nomem;
	s->has_min_examples = 1;
	s->min_examples = (uint64_t)floor(d.min_examples_fraction * (double)st->num_examples);
	for (size_t i = 0; i < st->ncols; i++) {
		const struct vb_colstat *c = st->cols[i];
		struct vb_feature *f = &s->f[s->n++];
		double tot = (double)(c->count + c->missing), frac = tot ? c->count / tot : 0;

		f->name = strdup(c->name);
		if (!f->name)
			goto nomem;
		f->type = c->type == VB_ST_NONE ? VB_ST_STRING : (int)c->type;
		f->categorical = vb_colstat_categorical(c);
		f->has_presence = 1;
		/* always present: required; otherwise leave room for sampling noise */
		if (frac >= 1)
			f->min_fraction = 1;
		else
			f->min_fraction = fmax(0, floor(frac * 100) / 100 - 0.05);
		f->min_count = c->count ? 1 : 0;
		if (c->values_per_example != 1)
			f->values_per_example = c->values_per_example;
		if ((f->type == VB_ST_INT || f->type == VB_ST_FLOAT) && c->n_num) {
			f->has_domain = 1;
			f->dmin = c->min;
			f->dmax = c->max;
			f->disallow_nan = c->n_nan == 0;
		}
		/* a string domain when the values repeat and there are few */
		if ((f->type == VB_ST_STRING || f->type == VB_ST_BOOL) && c->count && c->unique_exact &&
		    c->unique <= d.max_domain && c->unique * 2 <= c->count && c->ntop == c->unique) {
			f->values = calloc(c->ntop ? c->ntop : 1, sizeof *f->values);
			if (!f->values)
				goto nomem;
			f->has_values = 1;
			for (size_t k = 0; k < c->ntop; k++) {
				f->values[k] = strdup(c->top[k].value);
				if (!f->values[k])
					goto nomem;
				f->nvalues++;
			}
			/* sorted, for a stable file */
			for (size_t a = 1; a < f->nvalues; a++)
				for (size_t b = a; b > 0 && strcmp(f->values[b - 1], f->values[b]) > 0; b--) {
					char *t = f->values[b];
					f->values[b] = f->values[b - 1];
					f->values[b - 1] = t;
				}
		}
		/* L-infinity means something for few values, not for ids */
		if (f->categorical && (f->has_values || f->type != VB_ST_STRING))
			f->linf = d.drift;
		else if (c->has_hist)
			f->js = d.drift;
	}
	return s;
nomem:
	nomem();
	vb_schema_free(s);
	return NULL;
}

/* ---- YAML ------------------------------------------------------------------- */

int vb_schema_write(FILE *f, const struct vb_schema *s, const char *comment)
{
	if (comment)
		fprintf(f, "# %s\n", comment);
	if (s->has_min_examples)
		fprintf(f, "dataset:\n  min_num_examples: %" PRIu64 "\n", s->min_examples);
	fprintf(f, "features:\n");
	for (size_t i = 0; i < s->n; i++) {
		const struct vb_feature *x = &s->f[i];
		fprintf(f, "  - name: ");
		vb_stats_write_str(f, x->name);
		fprintf(f, "\n    type: %s\n", vb_stype_name((enum vb_stype)x->type));
		if (x->categorical && x->type == VB_ST_INT)
			fprintf(f, "    categorical: true\n");
		if (x->has_presence) {
			fprintf(f, "    presence: {min_fraction: ");
			vb_yaml_write_double(f, x->min_fraction);
			fprintf(f, ", min_count: %" PRIu64 "}\n", x->min_count);
		}
		if (x->values_per_example)
			fprintf(f, "    values_per_example: %" PRId64 "\n", x->values_per_example);
		if (x->has_domain) {
			fprintf(f, "    %s_domain: {", x->type == VB_ST_INT ? "int" : "float");
			if (!isnan(x->dmin)) {
				fprintf(f, "min: ");
				vb_yaml_write_double(f, x->dmin);
			}
			if (!isnan(x->dmax)) {
				fprintf(f, "%smax: ", isnan(x->dmin) ? "" : ", ");
				vb_yaml_write_double(f, x->dmax);
			}
			if (x->type == VB_ST_FLOAT)
				fprintf(f, ", disallow_nan: %s", x->disallow_nan ? "true" : "false");
			fprintf(f, "}\n");
		}
		if (x->has_values) {
			fprintf(f, "    string_domain: [");
			for (size_t k = 0; k < x->nvalues; k++) {
				if (k)
					fputs(", ", f);
				vb_stats_write_str(f, x->values[k]);
			}
			fprintf(f, "]\n");
		}
		if (x->linf > 0 || x->js > 0) {
			fprintf(f, "    drift_comparator: {%s: ", x->linf > 0 ? "infinity_norm" :
				"jensen_shannon_divergence");
			vb_yaml_write_double(f, x->linf > 0 ? x->linf : x->js);
			fprintf(f, "}\n");
		}
	}
	if (ferror(f))
		return vb_err_sys("write error");
	return 0;
}

static int opt_double(const struct vb_yaml *m, const char *key, double *out)
{
	const struct vb_yaml *y = vb_yaml_get(m, key);

	if (!y)
		return 0;
	if (vb_yaml_double(y, out) < 0)
		return vb_err_set("line %d: '%s' must be a number", y->line, key);
	return 1;
}

static int opt_bool(const struct vb_yaml *m, const char *key, int *out)
{
	const struct vb_yaml *y = vb_yaml_get(m, key);
	const char *s = vb_yaml_str(y);

	if (!y)
		return 0;
	if (s && (!strcmp(s, "true") || !strcmp(s, "false"))) {
		*out = !strcmp(s, "true");
		return 1;
	}
	return vb_err_set("line %d: '%s' must be true or false", y->line, key);
}

static int load_feature(struct vb_feature *f, const struct vb_yaml *m)
{
	const struct vb_yaml *y;
	const char *name = vb_yaml_str(vb_yaml_get(m, "name"));
	const char *ty = vb_yaml_str(vb_yaml_get(m, "type"));
	static const char *const known[] = { "name", "type", "categorical", "presence",
		"values_per_example", "int_domain", "float_domain", "string_domain",
		"drift_comparator", NULL };

	if (m->type != VB_YAML_MAP)
		return vb_err_set("line %d: a feature must be a mapping", m->line);
	for (size_t i = 0; i < m->n; i++) {
		const char *k = vb_yaml_str(m->items[2 * i]);
		int ok = 0;
		for (int j = 0; known[j]; j++)
			ok |= k && !strcmp(k, known[j]);
		if (!ok)
			return vb_err_set("line %d: unknown feature key '%s'", m->items[2 * i]->line, k ? k : "?");
	}
	if (!name)
		return vb_err_set("line %d: feature without a name", m->line);
	f->name = strdup(name);
	if (!f->name)
		return nomem();
	f->type = vb_stype_parse(ty);
	if (f->type < 0 || f->type == VB_ST_NONE)
		return vb_err_set("line %d: feature '%s': type must be int, float, string or bool",
				  m->line, name);
	f->dmin = f->dmax = NAN;
	f->categorical = f->type == VB_ST_STRING || f->type == VB_ST_BOOL;
	if (opt_bool(m, "categorical", &f->categorical) < 0)
		return -1;
	if ((y = vb_yaml_get(m, "presence"))) {
		double mc = 0;
		f->has_presence = 1;
		if (opt_double(y, "min_fraction", &f->min_fraction) < 0 ||
		    opt_double(y, "min_count", &mc) < 0)
			return -1;
		if (f->min_fraction < 0 || f->min_fraction > 1 || mc < 0)
			return vb_err_set("line %d: presence out of range", y->line);
		f->min_count = (uint64_t)mc;
	}
	if ((y = vb_yaml_get(m, "values_per_example"))) {
		long v;
		if (vb_yaml_long(y, &v) < 0 || v < 1)
			return vb_err_set("line %d: values_per_example must be a positive integer", y->line);
		f->values_per_example = v;
	}
	y = vb_yaml_get(m, f->type == VB_ST_FLOAT ? "float_domain" : "int_domain");
	if (y) {
		f->has_domain = 1;
		if (opt_double(y, "min", &f->dmin) < 0 || opt_double(y, "max", &f->dmax) < 0 ||
		    opt_bool(y, "disallow_nan", &f->disallow_nan) < 0)
			return -1;
	}
	if ((y = vb_yaml_get(m, "string_domain"))) {
		if (y->type != VB_YAML_SEQ)
			return vb_err_set("line %d: string_domain must be a list", y->line);
		f->has_values = 1;
		f->values = calloc(y->n ? y->n : 1, sizeof *f->values);
		if (!f->values)
			return nomem();
		for (size_t i = 0; i < y->n; i++) {
			const char *v = vb_yaml_str(y->items[i]);
			if (!v)
				return vb_err_set("line %d: string_domain values must be scalars", y->items[i]->line);
			f->values[i] = strdup(v);
			if (!f->values[i])
				return nomem();
			f->nvalues++;
		}
	}
	if ((y = vb_yaml_get(m, "drift_comparator"))) {
		if (opt_double(y, "infinity_norm", &f->linf) < 0 ||
		    opt_double(y, "jensen_shannon_divergence", &f->js) < 0)
			return -1;
		if (f->linf < 0 || f->js < 0)
			return vb_err_set("line %d: drift thresholds must not be negative", y->line);
	}
	return 0;
}

struct vb_schema *vb_schema_load(FILE *in)
{
	struct vb_yaml *doc = vb_yaml_parse(in), *feats, *y;
	struct vb_schema *s = NULL;

	if (!doc)
		return NULL;
	feats = vb_yaml_get(doc, "features");
	if (doc->type != VB_YAML_MAP || !feats || feats->type != VB_YAML_SEQ) {
		vb_err_set("not a schema (needs a 'features' list)");
		goto fail;
	}
	s = calloc(1, sizeof *s);
	if (!s || !(s->f = calloc(feats->n ? feats->n : 1, sizeof *s->f))) {
		nomem();
		goto fail;
	}
	if ((y = vb_yaml_get(doc, "dataset"))) {
		struct vb_yaml *mn = vb_yaml_get(y, "min_num_examples");
		long v;
		if (mn) {
			if (vb_yaml_long(mn, &v) < 0 || v < 0) {
				vb_err_set("line %d: min_num_examples must be a non-negative integer", mn->line);
				goto fail;
			}
			s->has_min_examples = 1;
			s->min_examples = (uint64_t)v;
		}
	}
	for (size_t i = 0; i < feats->n; i++) {
		s->n++;
		if (load_feature(&s->f[i], feats->items[i]) < 0)
			goto fail;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(s->f[j].name, s->f[i].name)) {
				vb_err_set("line %d: feature '%s' listed twice", feats->items[i]->line, s->f[i].name);
				goto fail;
			}
	}
	vb_yaml_free(doc);
	return s;
fail:
	vb_yaml_free(doc);
	vb_schema_free(s);
	return NULL;
}

/* ---- anomalies ---------------------------------------------------------------- */

void vb_anomalies_clear(struct vb_anomalies *l)
{
	free(l->a);
	l->a = NULL;
	l->n = l->cap = 0;
}

size_t vb_anomalies_errors(const struct vb_anomalies *l)
{
	size_t n = 0;

	for (size_t i = 0; i < l->n; i++)
		n += l->a[i].severity == VB_SEV_ERROR;
	return n;
}

static int add(struct vb_anomalies *l, const char *kind, enum vb_severity sev,
	       const char *col, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int add(struct vb_anomalies *l, const char *kind, enum vb_severity sev,
	       const char *col, const char *fmt, ...)
{
	struct vb_anomaly *a;
	va_list ap;

	if (l->n == l->cap) {
		size_t nc = l->cap ? 2 * l->cap : 16;
		a = realloc(l->a, nc * sizeof *a);
		if (!a)
			return nomem();
		l->a = a;
		l->cap = nc;
	}
	a = &l->a[l->n++];
	snprintf(a->kind, sizeof a->kind, "%s", kind);
	a->severity = sev;
	snprintf(a->column, sizeof a->column, "%s", col ? col : "");
	va_start(ap, fmt);
	vsnprintf(a->desc, sizeof a->desc, fmt, ap);
	va_end(ap);
	/* one line */
	for (char *p = a->desc; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	return 0;
}

struct unexpected {
	const struct vb_feature *f;
	uint64_t n, distinct;
	char examples[160];
};

static void check_value(const char *v, uint64_t count, void *arg)
{
	struct unexpected *u = arg;
	char *t = vb_stats_utf8(v);  /* as the value was written into the schema */

	for (size_t i = 0; t && i < u->f->nvalues; i++)
		if (!strcmp(u->f->values[i], t)) {
			free(t);
			return;
		}
	free(t);
	u->n += count;
	if (u->distinct++ < 3) {
		size_t l = strlen(u->examples);
		snprintf(u->examples + l, sizeof u->examples - l, "%s'%.40s'", l ? ", " : "", v);
	}
}

static int validate_feature(const struct vb_feature *f, const struct vb_colstat *c,
			    uint64_t nex, struct vb_anomalies *out)
{
	const char *n = f->name;
	double tot = (double)(c->count + c->missing);
	char a[32], b[32];

	(void)nex;
	if (f->has_presence && tot > 0 && c->count / tot < f->min_fraction)
		if (add(out, "FEATURE_TYPE_LOW_FRACTION_PRESENT", VB_SEV_ERROR, n,
			"present in %.4g of examples, schema wants at least %.4g",
			c->count / tot, f->min_fraction) < 0)
			return -1;
	if (f->has_presence && c->count < f->min_count)
		if (add(out, "FEATURE_TYPE_LOW_NUMBER_PRESENT", VB_SEV_ERROR, n,
			"present %" PRIu64 " times, schema wants at least %" PRIu64, c->count, f->min_count) < 0)
			return -1;
	if (f->values_per_example && c->values_per_example != f->values_per_example) {
		int high = c->values_per_example > f->values_per_example;
		if (add(out, high ? "FEATURE_TYPE_HIGH_NUMBER_VALUES" : "FEATURE_TYPE_LOW_NUMBER_VALUES",
			VB_SEV_ERROR, n, "%" PRId64 " values per example, schema wants %" PRId64,
			c->values_per_example, f->values_per_example) < 0)
			return -1;
	}
	switch (f->type) {
	case VB_ST_INT:
		if (c->n_float && add(out, "INT_TYPE_HAS_FLOAT", VB_SEV_ERROR, n,
				      "%" PRIu64 " float values in an int feature", c->n_float) < 0)
			return -1;
		if ((c->n_string || c->n_bool) && add(out, "INT_TYPE_NOT_INT_STRING", VB_SEV_ERROR, n,
				      "%" PRIu64 " values that are not integers", c->n_string + c->n_bool) < 0)
			return -1;
		break;
	case VB_ST_FLOAT:
		if ((c->n_string || c->n_bool) && add(out, "FLOAT_TYPE_NOT_FLOAT_STRING", VB_SEV_ERROR, n,
				      "%" PRIu64 " values that are not numbers", c->n_string + c->n_bool) < 0)
			return -1;
		if (f->disallow_nan && c->n_nan && add(out, "FLOAT_TYPE_HAS_NAN", VB_SEV_ERROR, n,
				      "%" PRIu64 " NaN values, schema disallows NaN", c->n_nan) < 0)
			return -1;
		break;
	case VB_ST_BOOL:
		if ((c->n_string || c->n_int || c->n_float) &&
		    add(out, "BOOL_TYPE_UNEXPECTED_STRING", VB_SEV_ERROR, n,
			"%" PRIu64 " values that are not true/false", c->n_string + c->n_int + c->n_float) < 0)
			return -1;
		break;
	}
	if (f->has_domain && c->n_num) {
		int isint = f->type == VB_ST_INT;
		snprintf(a, sizeof a, "%.10g", c->min);
		if (!isnan(f->dmin) && c->min < f->dmin) {
			snprintf(b, sizeof b, "%.10g", f->dmin);
			if (add(out, isint ? "INT_TYPE_SMALL_INT" : "FLOAT_TYPE_SMALL_FLOAT", VB_SEV_ERROR, n,
				"min %s is below the domain's min %s", a, b) < 0)
				return -1;
		}
		snprintf(a, sizeof a, "%.10g", c->max);
		if (!isnan(f->dmax) && c->max > f->dmax) {
			snprintf(b, sizeof b, "%.10g", f->dmax);
			if (add(out, isint ? "INT_TYPE_BIG_INT" : "FLOAT_TYPE_BIG_FLOAT", VB_SEV_ERROR, n,
				"max %s is above the domain's max %s", a, b) < 0)
				return -1;
		}
	}
	if (f->has_values && c->count) {
		struct unexpected u = { f, 0, 0, "" };
		int complete = vb_colstat_each_value(c, check_value, &u);
		if (u.distinct && add(out, "ENUM_TYPE_UNEXPECTED_STRING_VALUES", VB_SEV_ERROR, n,
				      "%s%" PRIu64 " values (%.3g%%) outside the domain, e.g. %s",
				      complete ? "" : "at least ", u.n, 100.0 * u.n / c->count, u.examples) < 0)
			return -1;
	}
	return 0;
}

int vb_schema_validate(const struct vb_schema *s, const struct vb_stats *st,
		       struct vb_anomalies *out)
{
	if (s->has_min_examples && st->num_examples < s->min_examples)
		if (add(out, "DATASET_LOW_NUM_EXAMPLES", VB_SEV_ERROR, "",
			"%" PRIu64 " examples, schema wants at least %" PRIu64,
			st->num_examples, s->min_examples) < 0)
			return -1;
	for (size_t i = 0; i < s->n; i++) {
		const struct vb_colstat *c = vb_stats_col(st, s->f[i].name);
		if (!c) {
			if (add(out, "SCHEMA_MISSING_COLUMN", VB_SEV_ERROR, s->f[i].name,
				"column is in the schema but not in the data") < 0)
				return -1;
			continue;
		}
		if (validate_feature(&s->f[i], c, st->num_examples, out) < 0)
			return -1;
	}
	for (size_t i = 0; i < st->ncols; i++)
		if (!schema_feature(s, st->cols[i]->name) &&
		    add(out, "SCHEMA_NEW_COLUMN", VB_SEV_WARNING, st->cols[i]->name,
			"column is in the data but not in the schema") < 0)
			return -1;
	return 0;
}

/* ---- drift ----------------------------------------------------------------- */

double vb_drift_linf(const struct vb_colstat *base, const struct vb_colstat *cur)
{
	double bn = (double)base->count, cn = (double)cur->count, d = 0;

	if (!bn || !cn || !base->ntop)
		return NAN;
	/* the values the baseline lists */
	for (size_t k = 0; k < base->ntop; k++) {
		int64_t cc = vb_colstat_value_count(cur, base->top[k].value);
		double x;
		if (cc < 0)
			continue;
		x = fabs((double)base->top[k].count / bn - (double)cc / cn);
		if (x > d)
			d = x;
	}
	/* values the current data lists that the baseline has not seen */
	for (size_t k = 0; k < cur->ntop; k++) {
		int64_t bc = vb_colstat_value_count(base, cur->top[k].value);
		double x;
		if (bc < 0)
			continue;
		x = fabs((double)bc / bn - (double)cur->top[k].count / cn);
		if (x > d)
			d = x;
	}
	return d;
}

static double kl_half(const double *p, const double *m, int n)
{
	double s = 0;

	for (int i = 0; i < n; i++)
		if (p[i] > 0)
			s += p[i] * log2(p[i] / m[i]);
	return s;
}

double vb_drift_js(const struct vb_colstat *base, const struct vb_colstat *cur)
{
	double p[12] = { 0 }, q[12], m[12], bt = 0, ct, prev;

	if (!base->has_hist || !cur->acc || !cur->n_num)
		return NAN;
	for (int i = 0; i < 10; i++) {
		p[i + 1] = (double)base->hist[i];
		bt += p[i + 1];
	}
	if (!bt)
		return NAN;
	ct = (double)cur->n_num;
	/* the current values on the baseline's edges: below, 10 buckets, above */
	q[0] = vb_colstat_count_lt(cur, base->hist_edges[0]);
	prev = q[0];
	for (int i = 1; i <= 9; i++) {
		double r = vb_colstat_count_lt(cur, base->hist_edges[i]);
		q[i] = r - prev;
		prev = r;
	}
	{
		double r = vb_colstat_count_le(cur, base->hist_edges[10]);
		q[10] = r - prev;
		q[11] = ct - r;
	}
	for (int i = 0; i < 12; i++) {
		p[i] /= bt;
		q[i] = q[i] < 0 ? 0 : q[i] / ct;
		m[i] = (p[i] + q[i]) / 2;
	}
	return 0.5 * kl_half(p, m, 12) + 0.5 * kl_half(q, m, 12);
}

int vb_schema_drift(const struct vb_schema *s, const struct vb_stats *baseline,
		    const struct vb_stats *current, double def, struct vb_anomalies *out)
{
	for (size_t i = 0; i < current->ncols; i++) {
		const struct vb_colstat *c = current->cols[i];
		const struct vb_colstat *b = vb_stats_col(baseline, c->name);
		const struct vb_feature *f = s ? schema_feature(s, c->name) : NULL;
		double linf = 0, js = 0, d;
		int cat;

		if (!b)
			continue;
		if (s) {
			if (!f)
				continue;
			linf = f->linf;
			js = f->js;
			cat = linf > 0;
		} else {
			cat = vb_colstat_categorical(b) || vb_colstat_categorical(c);
			if (cat)
				linf = def;
			else
				js = def;
		}
		if (cat && linf > 0) {
			d = vb_drift_linf(b, c);
			if (!isnan(d) && d > linf &&
			    add(out, "COMPARATOR_L_INFTY_HIGH", VB_SEV_ERROR, c->name,
				"L-infinity distance to the baseline %.4f is above %.4g", d, linf) < 0)
				return -1;
		}
		if (js > 0) {
			d = vb_drift_js(b, c);
			if (!isnan(d) && d > js &&
			    add(out, "COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH", VB_SEV_ERROR, c->name,
				"Jensen-Shannon divergence from the baseline %.4f is above %.4g", d, js) < 0)
				return -1;
		}
	}
	return 0;
}

int vb_anomalies_write(FILE *f, const struct vb_anomalies *l, int yaml)
{
	if (yaml) {
		fprintf(f, "anomalies:%s\n", l->n ? "" : " []");
		for (size_t i = 0; i < l->n; i++) {
			const struct vb_anomaly *a = &l->a[i];
			fprintf(f, "  - kind: %s\n    severity: %s\n    column: ", a->kind,
				a->severity == VB_SEV_ERROR ? "error" : "warning");
			vb_stats_write_str(f, a->column);
			fprintf(f, "\n    description: ");
			vb_stats_write_str(f, a->desc);
			fprintf(f, "\n");
		}
	} else {
		for (size_t i = 0; i < l->n; i++) {
			const struct vb_anomaly *a = &l->a[i];
			fprintf(f, "%-7s %-40s %-20s %s\n", a->severity == VB_SEV_ERROR ? "error" : "warning",
				a->kind, *a->column ? a->column : "-", a->desc);
		}
	}
	if (ferror(f))
		return vb_err_sys("write error");
	return 0;
}
