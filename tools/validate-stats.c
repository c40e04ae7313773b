/* validate-stats - statistics of a CSV table or .npy stream; infer a schema;
 * validate against a schema and a baseline (drift). */
#include "cli.h"
#include "err.h"
#include "schema.h"
#include "stats.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct cmdline {
	const char *input;      /* NULL or "-": stdin */
	const char *output;     /* -o */
	const char *schema;     /* --schema */
	const char *baseline;   /* --baseline */
	int infer;              /* --infer-schema */
	int form;               /* 0 auto, 1 table, 2 yaml */
	int format;             /* 0 auto, 1 csv, 2 npy */
	double drift;
	double min_frac;
	long top;
	long unique_max;
};

enum { OPT_INFER = 0x100, OPT_YAML, OPT_TABLE, OPT_DRIFT, OPT_TOP, OPT_UNIQUE, OPT_FORMAT,
       OPT_MINFRAC };

static const struct argp_option options[] = {
	{ "output", 'o', "FILE", 0, "Write the statistics (with --infer-schema: the schema) as YAML to FILE (default: stdout)", 0 },
	{ "infer-schema", OPT_INFER, 0, 0, "Write an inferred schema instead of statistics", 0 },
	{ "schema", 's', "FILE", 0, "Validate the data against the schema in FILE", 0 },
	{ "baseline", 'b', "FILE", 0, "Compare with earlier statistics in FILE (drift)", 0 },
	{ "drift", OPT_DRIFT, "X", 0, "Drift threshold written by --infer-schema, and used by --baseline without --schema (default: 0.1)", 0 },
	{ "min-examples", OPT_MINFRAC, "F", 0, "--infer-schema sets min_num_examples to F times the examples seen (default: 0.5)", 0 },
	{ "format", OPT_FORMAT, "auto|csv|npy", 0, "Input format (default: auto, from the first byte)", 0 },
	{ "yaml", OPT_YAML, 0, 0, "Print YAML on stdout even on a terminal", 0 },
	{ "table", OPT_TABLE, 0, 0, "Print a table on stdout even in a pipe", 0 },
	{ "top", OPT_TOP, "N", 0, "Most frequent values to keep per column (default: 10; all when at most 100 distinct)", 0 },
	{ "unique-max", OPT_UNIQUE, "N", 0, "Count distinct values exactly up to N per column, then estimate (default: 65536)", 0 },
	{ 0 }
};

static error_t parse_opt(int key, char *arg, struct argp_state *st)
{
	struct cmdline *c = st->input;

	switch (key) {
	case 'o': c->output = arg; break;
	case 's': c->schema = arg; break;
	case 'b': c->baseline = arg; break;
	case OPT_INFER: c->infer = 1; break;
	case OPT_YAML: c->form = 2; break;
	case OPT_TABLE: c->form = 1; break;
	case OPT_DRIFT: c->drift = vb_arg_double(st, "--drift", arg, 1e-9, 1); break;
	case OPT_MINFRAC: c->min_frac = vb_arg_double(st, "--min-examples", arg, 0, 1); break;
	case OPT_TOP: c->top = vb_arg_long(st, "--top", arg, 1, 100000); break;
	case OPT_UNIQUE: c->unique_max = vb_arg_long(st, "--unique-max", arg, 16, 100000000); break;
	case OPT_FORMAT:
		if (!strcmp(arg, "auto")) c->format = 0;
		else if (!strcmp(arg, "csv")) c->format = 1;
		else if (!strcmp(arg, "npy")) c->format = 2;
		else argp_error(st, "invalid --format '%s': expected auto, csv or npy", arg);
		break;
	case ARGP_KEY_ARG:
		if (c->input)
			argp_error(st, "more than one input file");
		c->input = arg;
		break;
	case ARGP_KEY_END:
		if (c->infer && (c->schema || c->baseline))
			argp_error(st, "--infer-schema cannot be combined with --schema or --baseline");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static void parse_cmdline(int argc, char **argv, struct cmdline *c)
{
	static const struct argp_child children[] = {
		{ &vb_common_argp, 0, "Common options:", 0 }, { 0 }
	};
	static const struct argp argp = {
		options, parse_opt, "[FILE]",
		"Statistics of a CSV table or a .npy stream (FILE or stdin) in one pass: per column "
		"the type, counts, mean, std, quantiles, histograms, distinct and top values.  "
		"--infer-schema writes a schema; --schema and --baseline check the data and exit 1 "
		"when they find anomalies of severity error.",
		children, 0, 0
	};

	memset(c, 0, sizeof *c);
	c->drift = 0.1;
	c->min_frac = 0.5;
	c->top = 10;
	c->unique_max = 65536;
	argp_parse(&argp, argc, argv, 0, 0, c);
}

static const char *iname(const struct cmdline *c)
{
	return c->input && strcmp(c->input, "-") ? c->input : "<stdin>";
}

int main(int argc, char **argv)
{
	struct cmdline cmd;
	struct vb_stats_opts so = { 0 };
	struct vb_stats *st, *base = NULL;
	struct vb_schema *schema = NULL;
	struct vb_anomalies an = { 0 };
	FILE *in, *f;
	int rc, status = VB_EXIT_OK, validating;

	vb_cli_init(argc, argv);
	parse_cmdline(argc, argv, &cmd);
	validating = cmd.schema || cmd.baseline;

	/* read the schema and the baseline first: a bad one fails fast */
	if (cmd.schema) {
		f = vb_open_in(cmd.schema);
		schema = vb_schema_load(f);
		if (!schema)
			vb_fatal(VB_EXIT_DATA, "'%s': %s", cmd.schema, vb_err_msg());
		vb_close(f, cmd.schema);
	}
	if (cmd.baseline) {
		f = vb_open_in(cmd.baseline);
		base = vb_stats_load(f);
		if (!base)
			vb_fatal(VB_EXIT_DATA, "'%s': %s", cmd.baseline, vb_err_msg());
		vb_close(f, cmd.baseline);
	}

	so.unique_max = (uint64_t)cmd.unique_max;
	so.top = (int)cmd.top;
	so.seed = vb_opt.seed;
	st = vb_stats_new(&so);
	if (!st)
		vb_fatal(VB_EXIT_DATA, "%s", vb_err_msg());
	in = vb_open_in(cmd.input);
	rc = cmd.format == 1 ? vb_stats_read_csv(st, in) :
	     cmd.format == 2 ? vb_stats_read_npy(st, in) : vb_stats_read(st, in);
	if (rc < 0)
		vb_fatal(VB_EXIT_DATA, "'%s': %s", iname(&cmd), vb_err_msg());
	if (in != stdin)
		fclose(in);
	if (vb_stats_finish(st) < 0)
		vb_fatal(VB_EXIT_DATA, "'%s': %s", iname(&cmd), vb_err_msg());
	vb_info("'%s': %llu examples, %zu columns", iname(&cmd),
		(unsigned long long)st->num_examples, st->ncols);

	if (cmd.infer) {
		struct vb_schema_opts o = { cmd.drift, cmd.min_frac, 100 };
		char comment[256];
		schema = vb_schema_infer(st, &o);
		if (!schema)
			vb_fatal(VB_EXIT_DATA, "%s", vb_err_msg());
		snprintf(comment, sizeof comment, "schema inferred by validate-stats from %llu examples",
			 (unsigned long long)st->num_examples);
		f = vb_open_out(cmd.output);
		if (vb_schema_write(f, schema, comment) < 0 || vb_close(f, cmd.output) < 0)
			status = VB_EXIT_DATA;
		goto out;
	}
	if (cmd.output || !validating) {
		int table = cmd.form == 1 || (cmd.form == 0 && !cmd.output && isatty(STDOUT_FILENO));
		f = vb_open_out(cmd.output);
		rc = table && !cmd.output ? vb_stats_write_table(f, st) : vb_stats_write_yaml(f, st);
		if (rc < 0 || vb_close(f, cmd.output) < 0)
			status = VB_EXIT_DATA;
		if (cmd.output && cmd.form == 1 && !validating)
			vb_stats_write_table(stdout, st);
	}
	if (validating) {
		if (schema && vb_schema_validate(schema, st, &an) < 0)
			vb_fatal(VB_EXIT_DATA, "%s", vb_err_msg());
		if (base && vb_schema_drift(schema, base, st, cmd.drift, &an) < 0)
			vb_fatal(VB_EXIT_DATA, "%s", vb_err_msg());
		if (cmd.form == 2 || an.n)
			vb_anomalies_write(stdout, &an, cmd.form == 2);
		if (vb_anomalies_errors(&an)) {
			vb_warn("'%s': %zu anomalies, %zu of severity error", iname(&cmd), an.n,
				vb_anomalies_errors(&an));
			if (status == VB_EXIT_OK)
				status = VB_EXIT_VERDICT;
		} else {
			vb_info("'%s': %zu anomalies, none of severity error", iname(&cmd), an.n);
		}
	}
out:
	vb_anomalies_clear(&an);
	vb_schema_free(schema);
	vb_stats_free(base);
	vb_stats_free(st);
	return vb_close_stdout(status);
}
