/* emotion-train - train the facial-emotion CNN on the CPU, or evaluate a
 * trained model.
 *
 *   fer-prep --split Training < fer.csv | emotion-train --val val.npy -o fer4.safetensors
 *   emotion-train --evaluate -m fer4.safetensors < test.npy
 *
 * Input: a .npy stream of images X (N x H x W uint8) then labels y (N class
 * ids, or N x K float distributions for soft labels).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "augment.h"
#include "cli.h"
#include "err.h"
#include "model.h"
#include "nn.h"
#include "safetensors.h"
#include "sha256.h"
#include "tensor.h"
#include "yaml.h"

#ifndef VB_DATADIR
#define VB_DATADIR "/usr/local/share/vibify"
#endif

enum sched { SCHED_NONE, SCHED_PLATEAU, SCHED_COSINE };

struct cmdline {
	const char *input;       /* training (or test) data, "-" stdin */
	const char *val;
	const char *arch;
	const char *out;
	const char *model;       /* --evaluate */
	const char *checkpoint;
	const char *init;
	const char *run_dir;
	const char *classes;
	const char *class_weights;
	int epochs, batch, patience, augment, resume, evaluate, yaml, no_run_dir, warmup;
	int clean_epochs;        /* the last ones without augmentation */
	double lr, min_lr, weight_decay, smoothing, momentum;
	enum vb_optim_kind optimizer;
	enum sched schedule;
	char *argv_line;
};

enum {
	OPT_VAL = 0x100, OPT_ARCH, OPT_EPOCHS, OPT_BATCH, OPT_LR, OPT_PATIENCE, OPT_CHECKPOINT,
	OPT_RESUME, OPT_INIT, OPT_NO_AUGMENT, OPT_RUN_DIR, OPT_NO_RUN_DIR, OPT_EVALUATE, OPT_YAML,
	OPT_CLASSES, OPT_OPTIMIZER, OPT_MOMENTUM, OPT_WD, OPT_SCHEDULE, OPT_MIN_LR, OPT_SMOOTH,
	OPT_CW, OPT_WARMUP, OPT_CLEAN,
};

static const struct argp_option options[] = {
	{0, 0, 0, 0, "Training:", 1},
	{"val", OPT_VAL, "FILE", 0, "Validation .npy stream (X, y) for early stopping and the "
	 "best-model choice (default: none; the last epoch is kept)", 1},
	{"arch", OPT_ARCH, "FILE", 0, "Architecture YAML (default: models/vibify.yaml beside the "
	 "program's directory, or under ../share/vibify or " VB_DATADIR ")", 1},
	{"epochs", OPT_EPOCHS, "N", 0, "Maximum epochs (default: 25)", 1},
	{"batch", OPT_BATCH, "N", 0, "Batch size (default: 64)", 1},
	{"lr", OPT_LR, "X", 0, "Learning rate (default: 0.001 for adam, 0.01 for sgd)", 1},
	{"optimizer", OPT_OPTIMIZER, "NAME", 0, "adam (Keras defaults) or sgd (default: adam)", 1},
	{"momentum", OPT_MOMENTUM, "X", 0, "SGD momentum (default: 0.9)", 1},
	{"weight-decay", OPT_WD, "X", 0, "L2 weight decay on weights (default: 0)", 1},
	{"schedule", OPT_SCHEDULE, "NAME", 0, "Learning-rate schedule: none, plateau (halve after "
	 "2 epochs without validation gain) or cosine (default: none)", 1},
	{"warmup", OPT_WARMUP, "N", 0, "Cosine schedule: linear warm-up epochs (default: 0)", 1},
	{"min-lr", OPT_MIN_LR, "X", 0, "Lowest rate of the schedules (default: 1e-5)", 1},
	{"patience", OPT_PATIENCE, "N", 0, "Stop after N epochs without a better validation "
	 "accuracy; 0 never stops early (default: 5)", 1},
	{"label-smoothing", OPT_SMOOTH, "X", 0, "Label smoothing epsilon (default: 0)", 1},
	{"class-weights", OPT_CW, "W", 0, "none, balanced, or a comma-separated weight per class "
	 "(default: none)", 1},
	{"no-augment", OPT_NO_AUGMENT, 0, 0, "No augmentation (default: random flips, shifts, "
	 "rotations, scaling, brightness and contrast)", 1},
	{"clean-epochs", OPT_CLEAN, "N", 0, "Train the last N epochs on the faces as they are, "
	 "without augmentation (default: 0)", 1},
	{"classes", OPT_CLASSES, "NAMES", 0, "Comma-separated class names, or 'all' for the 7 "
	 "FER2013 names as fer-prep (default: angry,happy,sad,neutral for 4 classes, the 7 "
	 "FER2013 names for 7)", 1},
	{"init", OPT_INIT, "MODEL", 0, "Start from this model's architecture and weights "
	 "(fine-tuning)", 1},
	{"checkpoint", OPT_CHECKPOINT, "DIR", 0, "Save the training state there after each "
	 "epoch", 1},
	{"resume", OPT_RESUME, 0, 0, "Continue from the --checkpoint DIR state", 1},
	{"output", 'o', "MODEL", 0, "Write the (best) model there; rewritten at each "
	 "improvement", 1},
	{"run-dir", OPT_RUN_DIR, "DIR", 0, "Run record directory (default: runs/<UTC time>)", 1},
	{"no-run-dir", OPT_NO_RUN_DIR, 0, 0, "Keep no run record", 1},
	{0, 0, 0, 0, "Evaluation:", 2},
	{"evaluate", OPT_EVALUATE, 0, 0, "Evaluate -m MODEL on the data instead of training", 2},
	{"model", 'm', "MODEL", 0, "Model to evaluate", 2},
	{"yaml", OPT_YAML, 0, 0, "Print the evaluation as YAML (default: a table)", 2},
	{0}
};

static enum vb_optim_kind parse_optimizer(struct argp_state *st, const char *s)
{
	if (!strcmp(s, "adam"))
		return VB_ADAM;
	if (!strcmp(s, "sgd"))
		return VB_SGD;
	argp_error(st, "unknown --optimizer '%s' (adam, sgd)", s);
	return VB_ADAM;
}

/* FER2013's class names in label order: the 4 of the default and all 7 */
static const char fer4_names[] = "angry,happy,sad,neutral";
static const char fer7_names[] = "angry,disgust,fear,happy,sad,surprise,neutral";

static int count_list(const char *s)
{
	int n = 1;
	for (; *s; s++)
		n += *s == ',';
	return n;
}

static error_t parse_opt(int key, char *arg, struct argp_state *st)
{
	struct cmdline *c = st->input;
	switch (key) {
	case OPT_VAL: c->val = arg; break;
	case OPT_ARCH: c->arch = arg; break;
	case OPT_EPOCHS: c->epochs = (int)vb_arg_long(st, "--epochs", arg, 1, 100000); break;
	case OPT_BATCH: c->batch = (int)vb_arg_long(st, "--batch", arg, 1, 4096); break;
	case OPT_LR: c->lr = vb_arg_double(st, "--lr", arg, 1e-12, 10); break;
	case OPT_MIN_LR: c->min_lr = vb_arg_double(st, "--min-lr", arg, 0, 10); break;
	case OPT_OPTIMIZER: c->optimizer = parse_optimizer(st, arg); break;
	case OPT_MOMENTUM: c->momentum = vb_arg_double(st, "--momentum", arg, 0, 0.999999); break;
	case OPT_WD: c->weight_decay = vb_arg_double(st, "--weight-decay", arg, 0, 1); break;
	case OPT_WARMUP: c->warmup = (int)vb_arg_long(st, "--warmup", arg, 0, 1000); break;
	case OPT_SMOOTH:
		c->smoothing = vb_arg_double(st, "--label-smoothing", arg, 0, 0.999);
		break;
	case OPT_SCHEDULE:
		if (!strcmp(arg, "none"))
			c->schedule = SCHED_NONE;
		else if (!strcmp(arg, "plateau"))
			c->schedule = SCHED_PLATEAU;
		else if (!strcmp(arg, "cosine"))
			c->schedule = SCHED_COSINE;
		else
			argp_error(st, "unknown --schedule '%s' (none, plateau, cosine)", arg);
		break;
	case OPT_PATIENCE: c->patience = (int)vb_arg_long(st, "--patience", arg, 0, 100000); break;
	case OPT_CW: c->class_weights = arg; break;
	case OPT_NO_AUGMENT: c->augment = 0; break;
	case OPT_CLEAN: c->clean_epochs = (int)vb_arg_long(st, "--clean-epochs", arg, 0, 100000); break;
	case OPT_CLASSES:
		c->classes = strcmp(arg, "all") ? arg : fer7_names;
		if (count_list(c->classes) < 2)
			argp_error(st, "--classes '%s' names a single class", arg);
		break;
	case OPT_INIT: c->init = arg; break;
	case OPT_CHECKPOINT: c->checkpoint = arg; break;
	case OPT_RESUME: c->resume = 1; break;
	case 'o': c->out = arg; break;
	case OPT_RUN_DIR: c->run_dir = arg; break;
	case OPT_NO_RUN_DIR: c->no_run_dir = 1; break;
	case OPT_EVALUATE: c->evaluate = 1; break;
	case 'm': c->model = arg; break;
	case OPT_YAML: c->yaml = 1; break;
	case ARGP_KEY_ARG:
		if (c->input)
			argp_error(st, "one input file at most");
		c->input = arg;
		break;
	case ARGP_KEY_END:
		if (c->evaluate) {
			if (!c->model)
				argp_error(st, "--evaluate needs -m MODEL");
			if (c->out || c->val || c->init || c->resume || c->checkpoint)
				argp_error(st, "--evaluate takes no training options");
		} else {
			if (c->model || c->yaml)
				argp_error(st, "-m and --yaml go with --evaluate");
			if (!c->out)
				argp_error(st, "training needs -o MODEL");
			if (c->resume && !c->checkpoint)
				argp_error(st, "--resume needs --checkpoint DIR");
			if (c->init && c->arch)
				argp_error(st, "--init takes the architecture from the model; drop --arch");
			if (c->no_run_dir && c->run_dir)
				argp_error(st, "--run-dir and --no-run-dir exclude each other");
			if (c->clean_epochs && !c->augment)
				argp_error(st, "--clean-epochs goes with augmentation; drop --no-augment");
		}
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static void parse_cmdline(int argc, char **argv, struct cmdline *c)
{
	static const struct argp_child children[] = {
		{&vb_common_argp, 0, "Common options:", 0},
		{0}
	};
	static const struct argp argp = {
		options, parse_opt, "[FILE]",
		"Train the facial-emotion CNN on a .npy stream of faces X (N x H x W uint8) and "
		"labels y (N class ids, or N x K distributions) from FILE or standard input, and "
		"write the model as .safetensors; or, with --evaluate, score a model on labelled "
		"faces (accuracy, macro-F1, per-class precision/recall/F1, confusion matrix).",
		children, 0, 0
	};
	memset(c, 0, sizeof *c);
	c->epochs = 25;
	c->batch = 64;
	c->lr = -1;
	c->min_lr = 1e-5;
	c->patience = 5;
	c->augment = 1;
	c->momentum = 0.9;
	c->optimizer = VB_ADAM;
	size_t len = 0;
	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	c->argv_line = calloc(len + 1, 1);
	for (int i = 0; c->argv_line && i < argc; i++) {
		if (i)
			strcat(c->argv_line, " ");
		strcat(c->argv_line, argv[i]);
	}
	argp_parse(&argp, argc, argv, 0, 0, c);
	if (c->lr < 0)
		c->lr = c->optimizer == VB_ADAM ? 1e-3 : 1e-2;
}

/* ---- data ------------------------------------------------------------- */

struct dataset {
	const char *name;
	long n;
	int h, w;
	uint8_t *x;
	int64_t *y;        /* hard labels, or NULL */
	float *soft;       /* n x k distributions, or NULL */
	int k;             /* soft: columns; hard: max label + 1 */
	char sha[65];
};

/* A FILE that hashes what is read through it (fopencookie). */
struct hashing {
	FILE *f;
	struct vb_sha256 s;
};

static ssize_t hash_read(void *cookie, char *buf, size_t n)
{
	struct hashing *h = cookie;
	size_t got = fread(buf, 1, n, h->f);
	if (got == 0 && ferror(h->f))
		return -1;
	vb_sha256_update(&h->s, buf, got);
	return (ssize_t)got;
}

static void free_dataset(struct dataset *d)
{
	free(d->x);
	free(d->y);
	free(d->soft);
	memset(d, 0, sizeof *d);
}

/* Read X then y and check them; exits with a clear message on bad data. */
static void read_dataset(const char *path, struct dataset *d)
{
	const char *name = path && strcmp(path, "-") ? path : "<stdin>";
	struct hashing h;
	struct vb_tensor *x = NULL, *y = NULL;
	memset(d, 0, sizeof *d);
	d->name = name;
	h.f = vb_open_in(path);
	vb_sha256_init(&h.s);
	cookie_io_functions_t io = {hash_read, NULL, NULL, NULL};
	FILE *f = fopencookie(&h, "r", io);
	if (!f)
		vb_fatal(VB_EXIT_DATA, "%s: %s", name, strerror(errno));
	int r = vb_npy_read(f, &x);
	if (r == 0)
		vb_fatal(VB_EXIT_DATA, "%s: empty input (expected images X then labels y)", name);
	if (r < 0)
		vb_fatal(VB_EXIT_DATA, "%s: images: %s", name, vb_err_msg());
	r = vb_npy_read(f, &y);
	if (r == 0)
		vb_fatal(VB_EXIT_DATA, "%s: labels y missing after the images", name);
	if (r < 0)
		vb_fatal(VB_EXIT_DATA, "%s: labels: %s", name, vb_err_msg());
	/* hash the rest of the stream too, so the digest is the file's */
	char sink[4096];
	while (fread(sink, 1, sizeof sink, f) > 0)
		;
	if (ferror(f))
		vb_fatal(VB_EXIT_DATA, "%s: read error", name);
	fclose(f);
	vb_close(h.f, path);
	vb_sha256_hex(&h.s, d->sha);

	int nd = x->ndim;
	if (nd == 4 && x->shape[1] == 1)
		x->shape[1] = x->shape[2], x->shape[2] = x->shape[3], nd = 3;
	else if (nd == 4 && x->shape[3] == 1)
		nd = 3;
	if (nd != 3)
		vb_fatal(VB_EXIT_DATA, "%s: images must be N x H x W (one gray channel), not %d-D",
		         name, x->ndim);
	d->n = (long)x->shape[0];
	d->h = (int)x->shape[1];
	d->w = (int)x->shape[2];
	if (d->n < 1 || d->h < 1 || d->w < 1)
		vb_fatal(VB_EXIT_DATA, "%s: no images", name);
	if (d->h > 1024 || d->w > 1024)
		vb_fatal(VB_EXIT_DATA, "%s: images of %dx%d are too large", name, d->h, d->w);
	long count = d->n * d->h * d->w;
	if (x->dtype == VB_U8) {
		d->x = x->data;
		x->data = NULL;
	} else if (x->dtype == VB_F32 || x->dtype == VB_F64) {
		if (!(d->x = malloc(count)))
			vb_fatal(VB_EXIT_DATA, "out of memory");
		for (long i = 0; i < count; i++) {
			double v = x->dtype == VB_F32 ? ((float *)x->data)[i] : ((double *)x->data)[i];
			if (!isfinite(v))
				vb_fatal(VB_EXIT_DATA, "%s: image %ld has a NaN or infinite pixel", name,
				         i / (d->h * d->w));
			if (v < 0 || v > 255)
				vb_fatal(VB_EXIT_DATA, "%s: image %ld has a pixel %g outside 0..255", name,
				         i / (d->h * d->w), v);
			d->x[i] = (uint8_t)lround(v);
		}
	} else {
		vb_fatal(VB_EXIT_DATA, "%s: images must be uint8 (or float 0..255), not %s", name,
		         vb_dtype_descr(x->dtype));
	}
	if (y->ndim == 1 && (y->dtype == VB_I64 || y->dtype == VB_I32 || y->dtype == VB_U8 ||
	                     y->dtype == VB_I8)) {
		if (y->shape[0] != d->n)
			vb_fatal(VB_EXIT_DATA, "%s: %ld images but %lld labels", name, d->n,
			         (long long)y->shape[0]);
		if (!(d->y = malloc(sizeof *d->y * d->n)))
			vb_fatal(VB_EXIT_DATA, "out of memory");
		for (long i = 0; i < d->n; i++) {
			int64_t v = y->dtype == VB_I64 ? ((int64_t *)y->data)[i]
			          : y->dtype == VB_I32 ? ((int32_t *)y->data)[i]
			          : y->dtype == VB_U8  ? ((uint8_t *)y->data)[i]
			                               : ((int8_t *)y->data)[i];
			if (v < 0 || v > 255)
				vb_fatal(VB_EXIT_DATA, "%s: label %lld of image %ld is not a class id "
				         "(0..255)", name, (long long)v, i);
			d->y[i] = v;
			if (v + 1 > d->k)
				d->k = (int)v + 1;
		}
	} else if (y->ndim == 2 && (y->dtype == VB_F32 || y->dtype == VB_F64)) {
		if (y->shape[0] != d->n)
			vb_fatal(VB_EXIT_DATA, "%s: %ld images but %lld label rows", name, d->n,
			         (long long)y->shape[0]);
		d->k = (int)y->shape[1];
		if (d->k < 2 || d->k > 256)
			vb_fatal(VB_EXIT_DATA, "%s: soft labels need 2 to 256 columns", name);
		if (!(d->soft = malloc(sizeof(float) * d->n * d->k)))
			vb_fatal(VB_EXIT_DATA, "out of memory");
		for (long i = 0; i < d->n; i++) {
			double s = 0;
			for (int c = 0; c < d->k; c++) {
				long j = i * d->k + c;
				double v = y->dtype == VB_F32 ? ((float *)y->data)[j]
				                              : ((double *)y->data)[j];
				if (!isfinite(v) || v < 0)
					vb_fatal(VB_EXIT_DATA, "%s: soft label row %ld has a negative, NaN or "
					         "infinite entry", name, i);
				d->soft[j] = (float)v;
				s += v;
			}
			if (fabs(s - 1) > 1e-3)
				vb_fatal(VB_EXIT_DATA, "%s: soft label row %ld sums to %g, not 1", name, i, s);
		}
	} else {
		vb_fatal(VB_EXIT_DATA, "%s: labels must be N integers or N x K floats", name);
	}
	vb_tensor_free(x);
	vb_tensor_free(y);
}

/* ---- classes ------------------------------------------------------------ */

static char **default_classes(int k, const char *list)
{
	char **c = calloc(k + 1, sizeof *c);
	if (!c)
		vb_fatal(VB_EXIT_DATA, "out of memory");
	if (!list && (k == 4 || k == 7))
		list = k == 4 ? fer4_names : fer7_names;
	if (list) {
		char *dup = strdup(list), *save = NULL, *tok;
		int i = 0;
		for (tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
			c[i < k ? i : k] = i < k ? strdup(tok) : NULL, i++;
		free(dup);
		if (i != k)
			vb_fatal(VB_EXIT_USAGE, "--classes names %d classes, but %d are needed", i, k);
		return c;
	}
	for (int i = 0; i < k; i++) {
		char buf[32];
		snprintf(buf, sizeof buf, "class%d", i);
		c[i] = strdup(buf);
	}
	return c;
}

/* ---- evaluation --------------------------------------------------------- */

struct job_in {
	struct vb_net *net;
	const struct dataset *d;
	const int *idx;          /* sample order, or NULL */
	long b0;
	int augment;
	const struct vb_aug *aug;
	uint64_t seed, epoch;
};

static void fill_input(void *arg, int tid, long lo, long hi)
{
	(void)tid;
	struct job_in *j = arg;
	const struct dataset *d = j->d;
	long hw = (long)d->h * d->w;
	float mul = (float)(1.0 / (j->net->divide * j->net->std));
	float add = (float)(-j->net->mean / j->net->std);
	for (long s = lo; s < hi; s++) {
		long i = j->idx ? j->idx[j->b0 + s] : j->b0 + s;
		const uint8_t *px = d->x + i * hw;
		float *out = j->net->act[0] + s * hw;
		if (j->augment) {
			struct vb_rng r, base;
			vb_rng_seed(&base, j->seed ^ 0x5bd1e995u);
			vb_rng_split(&base, j->epoch << 32 | (uint64_t)i, &r);
			vb_augment(px, d->h, d->w, j->aug, &r, mul, add, out);
		} else {
			for (long p = 0; p < hw; p++)
				out[p] = px[p] * mul + add;
		}
	}
}

/* Predicted class of every sample into pred; returns the mean loss. */
static double predict_all(struct vb_net *net, const struct dataset *d, int batch, int *pred)
{
	int k = net->nclasses;
	float *logit_copy = malloc(sizeof(float) * batch * k);
	double loss = 0;
	if (!logit_copy)
		vb_fatal(VB_EXIT_DATA, "out of memory");
	for (long b0 = 0; b0 < d->n; b0 += batch) {
		int n = (int)(d->n - b0 < batch ? d->n - b0 : batch);
		struct job_in j = {net, d, NULL, b0, 0, NULL, 0, 0};
		vb_pool_run(net->pool, n, fill_input, &j);
		const float *z = vb_net_forward(net, n, 0);
		for (int i = 0; i < n; i++) {
			int am = 0;
			for (int c = 1; c < k; c++)
				if (z[i * k + c] > z[i * k + am])
					am = c;
			pred[b0 + i] = am;
		}
		loss += n * vb_softmax_xent(z, n, k, d->y ? d->y + b0 : NULL,
		                            d->soft ? d->soft + b0 * k : NULL, NULL, NULL, NULL, NULL);
	}
	free(logit_copy);
	return loss / d->n;
}

static int truth(const struct dataset *d, long i)
{
	if (d->y)
		return (int)d->y[i];
	int am = 0;
	for (int c = 1; c < d->k; c++)
		if (d->soft[i * d->k + c] > d->soft[i * d->k + am])
			am = c;
	return am;
}

static double accuracy(const struct dataset *d, const int *pred)
{
	long ok = 0;
	for (long i = 0; i < d->n; i++)
		ok += pred[i] == truth(d, i);
	return (double)ok / d->n;
}

static void print_num(FILE *f, double v)
{
	fprintf(f, "%.4f", isfinite(v) ? v : 0.0);
}

static int evaluate(const struct cmdline *c)
{
	char **classes = NULL;
	struct vb_net *net = vb_model_load_net(c->model, &classes);
	if (!net)
		vb_fatal(VB_EXIT_DATA, "%s", vb_err_msg());
	struct dataset d;
	read_dataset(c->input, &d);
	int k = net->nclasses;
	if (d.h != net->in.h || d.w != net->in.w)
		vb_fatal(VB_EXIT_DATA, "%s: images are %dx%d, the model takes %dx%d", d.name, d.h,
		         d.w, net->in.h, net->in.w);
	if (d.k > k)
		vb_fatal(VB_EXIT_DATA, "%s: label %d is out of range for the model's %d classes",
		         d.name, d.k - 1, k);
	/* frozen as emotion-predict's, so both score every face the same */
	if (vb_net_freeze(net) < 0 || vb_net_prepare(net, vb_opt.threads, c->batch) < 0)
		vb_fatal(VB_EXIT_DATA, "%s", vb_err_msg());
	int *pred = malloc(sizeof *pred * d.n);
	long *cm = calloc((size_t)k * k, sizeof *cm);
	if (!pred || !cm)
		vb_fatal(VB_EXIT_DATA, "out of memory");
	predict_all(net, &d, c->batch, pred);
	for (long i = 0; i < d.n; i++)
		cm[truth(&d, i) * k + pred[i]]++;
	double acc = accuracy(&d, pred), mf1 = 0;
	double *p = calloc(k, sizeof *p), *r = calloc(k, sizeof *r), *f1 = calloc(k, sizeof *f1);
	long *sup = calloc(k, sizeof *sup);
	for (int a = 0; a < k; a++) {
		long tp = cm[a * k + a], col = 0, row = 0;
		for (int b = 0; b < k; b++) {
			col += cm[b * k + a];
			row += cm[a * k + b];
		}
		sup[a] = row;
		p[a] = col ? (double)tp / col : 0;
		r[a] = row ? (double)tp / row : 0;
		f1[a] = p[a] + r[a] > 0 ? 2 * p[a] * r[a] / (p[a] + r[a]) : 0;
		mf1 += f1[a] / k;
	}
	if (c->yaml) {
		printf("model: ");
		vb_yaml_write_str(stdout, c->model);
		printf("\nimages: %ld\naccuracy: ", d.n);
		print_num(stdout, acc);
		printf("\nmacro_f1: ");
		print_num(stdout, mf1);
		printf("\nclasses:\n");
		for (int a = 0; a < k; a++) {
			printf("  - name: ");
			vb_yaml_write_str(stdout, classes[a]);
			printf("\n    precision: ");
			print_num(stdout, p[a]);
			printf("\n    recall: ");
			print_num(stdout, r[a]);
			printf("\n    f1: ");
			print_num(stdout, f1[a]);
			printf("\n    support: %ld\n", sup[a]);
		}
		printf("confusion:  # rows: true class, columns: predicted, in class order\n");
		for (int a = 0; a < k; a++) {
			printf("  - [");
			for (int b = 0; b < k; b++)
				printf("%s%ld", b ? ", " : "", cm[a * k + b]);
			printf("]\n");
		}
	} else {
		int wd = 9;
		for (int a = 0; a < k; a++)
			if ((int)strlen(classes[a]) + 1 > wd)
				wd = (int)strlen(classes[a]) + 1;
		printf("images    %ld\naccuracy  ", d.n);
		print_num(stdout, acc);
		printf("\nmacro-F1  ");
		print_num(stdout, mf1);
		printf("\n\n%-*s precision recall  f1      support\n", wd, "class");
		for (int a = 0; a < k; a++) {
			printf("%-*s ", wd, classes[a]);
			print_num(stdout, p[a]);
			printf("    ");
			print_num(stdout, r[a]);
			printf("  ");
			print_num(stdout, f1[a]);
			printf("  %ld\n", sup[a]);
		}
		printf("\nconfusion matrix (rows: true class, columns: predicted)\n%-*s", wd, "");
		for (int b = 0; b < k; b++)
			printf(" %8.8s", classes[b]);
		printf("\n");
		for (int a = 0; a < k; a++) {
			printf("%-*s", wd, classes[a]);
			for (int b = 0; b < k; b++)
				printf(" %8ld", cm[a * k + b]);
			printf("\n");
		}
	}
	free(p);
	free(r);
	free(f1);
	free(sup);
	free(pred);
	free(cm);
	free_dataset(&d);
	vb_model_free_classes(classes);
	vb_net_free(net);
	return VB_EXIT_OK;
}

/* ---- files ---------------------------------------------------------------- */

static void mkdir_p(const char *path)
{
	char *p = strdup(path);
	if (!p)
		vb_fatal(VB_EXIT_DATA, "out of memory");
	for (char *s = p + 1; *s; s++)
		if (*s == '/') {
			*s = 0;
			if (mkdir(p, 0777) < 0 && errno != EEXIST)
				vb_fatal(VB_EXIT_DATA, "cannot create '%s': %s", p, strerror(errno));
			*s = '/';
		}
	if (mkdir(p, 0777) < 0 && errno != EEXIST)
		vb_fatal(VB_EXIT_DATA, "cannot create '%s': %s", p, strerror(errno));
	free(p);
}

static char *path_join(const char *dir, const char *file)
{
	char *s;
	if (asprintf(&s, "%s/%s", dir, file) < 0)
		vb_fatal(VB_EXIT_DATA, "out of memory");
	return s;
}

/* Write a model atomically (temp file + rename); "-" writes stdout.  0/-1. */
static int save_model(const char *path, const struct vb_net *net, char **classes,
                      const char *const *key, const char *const *val, int nkv)
{
	if (!strcmp(path, "-")) {
		if (vb_model_save(net, (const char *const *)classes, net->nclasses, key, val, nkv,
		                  stdout) < 0)
			return -1;
		return fflush(stdout) ? vb_err_sys("write error") : 0;
	}
	char *tmp = NULL;
	if (asprintf(&tmp, "%s.tmp%ld", path, (long)getpid()) < 0)
		return vb_err_set("out of memory");
	FILE *f = fopen(tmp, "wb");
	if (!f) {
		vb_err_sys("cannot open '%s'", tmp);
		free(tmp);
		return -1;
	}
	int rc = vb_model_save(net, (const char *const *)classes, net->nclasses, key, val, nkv, f);
	if (fclose(f) != 0 && rc == 0)
		rc = vb_err_sys("'%s': write error", tmp);
	if (rc == 0 && rename(tmp, path) < 0)
		rc = vb_err_sys("cannot rename '%s' to '%s'", tmp, path);
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

/* ---- training state ------------------------------------------------------- */

struct state {
	int epoch;            /* epochs completed */
	double lr;
	double best_acc;
	int best_epoch;
	int bad;
	struct vb_plateau plateau;
	float **best;         /* per parameter: values at the best epoch */
};

static void keep_best(struct vb_net *net, struct state *s)
{
	for (int i = 0; i < net->nparams; i++)
		memcpy(s->best[i], net->params[i]->w, sizeof(float) * net->params[i]->n);
}

static void swap_best(struct vb_net *net, struct state *s)
{
	for (int i = 0; i < net->nparams; i++) {
		float *t = net->params[i]->w;
		net->params[i]->w = s->best[i];
		s->best[i] = t;
	}
}

/* Save the optimiser moments, the best weights and the counters to
 * DIR/state.safetensors and the current weights to DIR/last.safetensors. */
static int save_checkpoint(const char *dir, struct vb_net *net, char **classes,
                           const struct vb_optim *o, const struct state *s)
{
	int np = net->nparams, n = 0;
	struct vb_st_out *t = calloc(3 * np + 1, sizeof *t);
	char (*names)[112] = calloc(3 * np + 1, sizeof *names);
	int64_t one = 1;
	if (!t || !names)
		return vb_err_set("out of memory");
	for (int i = 0; i < np; i++) {
		struct vb_param *p = net->params[i];
		int64_t *shape = p->ndim ? p->shape : &one;
		int nd = p->ndim ? p->ndim : 1;
		const char *pre[3] = {"best", "m", "v"};
		const float *src[3] = {s->best[i], p->m, p->v};
		for (int q = 0; q < 3; q++) {
			if (!src[q])
				continue;
			snprintf(names[n], sizeof names[n], "%s.%s", pre[q], p->name);
			t[n] = (struct vb_st_out){names[n], "F32", nd, shape, src[q]};
			n++;
		}
	}
	char v[8][64];
	snprintf(v[0], 64, "%d", s->epoch);
	snprintf(v[1], 64, "%.17g", s->lr);
	snprintf(v[2], 64, "%.17g", s->best_acc);
	snprintf(v[3], 64, "%d", s->best_epoch);
	snprintf(v[4], 64, "%d", s->bad);
	snprintf(v[5], 64, "%lld", (long long)o->t);
	snprintf(v[6], 64, "%llu", (unsigned long long)net->step);
	snprintf(v[7], 64, "%.17g %d", s->plateau.best, s->plateau.bad);
	const char *keys[8] = {"epoch", "lr", "best_accuracy", "best_epoch", "bad_epochs",
	                       "optimizer_steps", "net_steps", "plateau"};
	const char *vals[8] = {v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]};
	char *st = path_join(dir, "state.safetensors"), *tmp = path_join(dir, "state.tmp");
	char *last = path_join(dir, "last.safetensors");
	int rc = -1;
	FILE *f = fopen(tmp, "wb");
	if (!f) {
		vb_err_sys("cannot open '%s'", tmp);
		goto out;
	}
	rc = vb_st_write(f, t, n, keys, vals, 8);
	if (fclose(f) != 0 && rc == 0)
		rc = vb_err_sys("'%s': write error", tmp);
	if (rc == 0)
		rc = save_model(last, net, classes, NULL, NULL, 0);
	if (rc == 0 && rename(tmp, st) < 0)
		rc = vb_err_sys("cannot rename '%s'", tmp);
out:
	free(st);
	free(tmp);
	free(last);
	free(t);
	free(names);
	return rc;
}

static void load_checkpoint(const char *dir, struct vb_net **netp, char ***classes,
                            struct vb_optim *o, struct state *s)
{
	char *last = path_join(dir, "last.safetensors"), *stp = path_join(dir, "state.safetensors");
	char **cls = NULL;
	struct vb_net *ck = vb_model_load_net(last, &cls);
	if (!ck)
		vb_fatal(VB_EXIT_DATA, "cannot resume: %s", vb_err_msg());
	struct vb_net *net = *netp;
	if (ck->nparams != net->nparams || strcmp(ck->arch_text, net->arch_text))
		vb_fatal(VB_EXIT_DATA, "cannot resume: '%s' has another architecture", last);
	for (int i = 0; i < net->nparams; i++)
		memcpy(net->params[i]->w, ck->params[i]->w, sizeof(float) * net->params[i]->n);
	vb_net_free(ck);
	vb_model_free_classes(cls);
	struct vb_st *st = vb_st_load(stp);
	if (!st)
		vb_fatal(VB_EXIT_DATA, "cannot resume: %s", vb_err_msg());
	for (int i = 0; i < net->nparams; i++) {
		struct vb_param *p = net->params[i];
		char nm[112];
		float *dst[3] = {s->best[i], p->m, p->v};
		const char *pre[3] = {"best", "m", "v"};
		for (int q = 0; q < 3; q++) {
			if (!dst[q])
				continue;
			snprintf(nm, sizeof nm, "%s.%s", pre[q], p->name);
			const struct vb_st_tensor *t = vb_st_find(st, nm);
			if (!t || t->count != p->n || strcmp(t->dtype, "F32"))
				vb_fatal(VB_EXIT_DATA, "cannot resume: '%s' lacks a valid '%s'", stp, nm);
			memcpy(dst[q], t->data, sizeof(float) * p->n);
		}
	}
	const char *e = vb_st_meta(st, "epoch"), *lr = vb_st_meta(st, "lr"),
	           *ba = vb_st_meta(st, "best_accuracy"), *be = vb_st_meta(st, "best_epoch"),
	           *bad = vb_st_meta(st, "bad_epochs"), *ot = vb_st_meta(st, "optimizer_steps"),
	           *ns = vb_st_meta(st, "net_steps"), *pl = vb_st_meta(st, "plateau");
	if (!e || !lr || !ba || !be || !bad || !ot || !ns || !pl)
		vb_fatal(VB_EXIT_DATA, "cannot resume: '%s' lacks the training counters", stp);
	s->epoch = atoi(e);
	s->lr = strtod(lr, NULL);
	s->best_acc = strtod(ba, NULL);
	s->best_epoch = atoi(be);
	s->bad = atoi(bad);
	o->t = strtoll(ot, NULL, 10);
	net->step = strtoull(ns, NULL, 10);
	sscanf(pl, "%lf %d", &s->plateau.best, &s->plateau.bad);
	vb_st_free(st);
	free(last);
	free(stp);
	(void)classes;
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

static void check_data(const struct dataset *d, const struct vb_net *net, int k)
{
	if (d->h != net->in.h || d->w != net->in.w || net->in.c != 1)
		vb_fatal(VB_EXIT_DATA, "%s: images are %dx%d, the architecture takes %dx%dx%d",
		         d->name, d->h, d->w, net->in.c, net->in.h, net->in.w);
	if (d->soft && d->k != k)
		vb_fatal(VB_EXIT_DATA, "%s: soft labels have %d columns for %d classes", d->name,
		         d->k, k);
	if (d->y && d->k > k)
		vb_fatal(VB_EXIT_DATA, "%s: label %d is out of range for %d classes", d->name,
		         d->k - 1, k);
}

static int train(const struct cmdline *c)
{
	double t_start = now();
	struct dataset tr, va;
	memset(&va, 0, sizeof va);
	read_dataset(c->input, &tr);
	if (c->val)
		read_dataset(c->val, &va);

	/* the network and its classes */
	char **classes = NULL;
	struct vb_net *net;
	int k;
	if (c->init) {
		if (!(net = vb_model_load_net(c->init, &classes)))
			vb_fatal(VB_EXIT_DATA, "%s", vb_err_msg());
		k = net->nclasses;
		if (c->classes && count_list(c->classes) != k)
			vb_fatal(VB_EXIT_USAGE, "--classes names %d classes, the model has %d",
			         count_list(c->classes), k);
	} else {
		k = c->classes ? count_list(c->classes) : tr.k > va.k ? tr.k : va.k;
		if (k < 2)
			vb_fatal(VB_EXIT_DATA, "%s: the labels hold a single class", tr.name);
		classes = default_classes(k, c->classes);
		const char *arch = c->arch ? c->arch : vb_data_path("models/vibify.yaml");
		size_t len;
		char *text = vb_read_file(arch, &len);
		if (!text)
			vb_fatal(VB_EXIT_DATA, "%s", vb_err_msg());
		net = vb_arch_build(text, len, k);
		free(text);
		if (!net)
			vb_fatal(VB_EXIT_DATA, "%s: %s", arch, vb_err_msg());
		vb_net_init_weights(net, net->init_he ? VB_INIT_HE : VB_INIT_GLOROT, vb_opt.seed);
	}
	check_data(&tr, net, k);
	if (c->val)
		check_data(&va, net, k);
	if (tr.soft && c->class_weights && strcmp(c->class_weights, "none"))
		vb_fatal(VB_EXIT_USAGE, "--class-weights needs hard labels");
	float *cw = NULL;
	if (c->class_weights && strcmp(c->class_weights, "none")) {
		if (!(cw = calloc(k, sizeof *cw)))
			vb_fatal(VB_EXIT_DATA, "out of memory");
		if (!strcmp(c->class_weights, "balanced")) {
			long *cnt = calloc(k, sizeof *cnt);
			for (long i = 0; i < tr.n; i++)
				cnt[tr.y[i]]++;
			for (int a = 0; a < k; a++)
				cw[a] = cnt[a] ? (float)((double)tr.n / (k * cnt[a])) : 0;
			free(cnt);
		} else {
			if (count_list(c->class_weights) != k)
				vb_fatal(VB_EXIT_USAGE, "--class-weights needs %d weights", k);
			const char *s = c->class_weights;
			for (int a = 0; a < k; a++) {
				char *end;
				cw[a] = strtof(s, &end);
				if (end == s || (*end && *end != ',') || !(cw[a] >= 0) || isinf(cw[a]))
					vb_fatal(VB_EXIT_USAGE, "bad --class-weights '%s'", c->class_weights);
				s = end + 1;
			}
		}
	}
	int batch = c->batch;
	if (vb_net_prepare(net, vb_opt.threads, batch) < 0)
		vb_fatal(VB_EXIT_DATA, "%s", vb_err_msg());
	struct vb_optim o;
	vb_optim_defaults(&o, c->optimizer);
	o.lr = c->lr;
	o.momentum = c->momentum;
	o.weight_decay = c->weight_decay;
	if (vb_optim_attach(&o, net) < 0)
		vb_fatal(VB_EXIT_DATA, "%s", vb_err_msg());
	struct state s;
	memset(&s, 0, sizeof s);
	s.lr = c->lr;
	s.best_acc = -1;
	vb_plateau_init(&s.plateau, 0.5, 1, c->min_lr);
	if (!(s.best = calloc(net->nparams, sizeof *s.best)))
		vb_fatal(VB_EXIT_DATA, "out of memory");
	for (int i = 0; i < net->nparams; i++)
		if (!(s.best[i] = malloc(sizeof(float) * net->params[i]->n)))
			vb_fatal(VB_EXIT_DATA, "out of memory");
	keep_best(net, &s);
	if (c->checkpoint) {
		mkdir_p(c->checkpoint);
		if (c->resume)
			load_checkpoint(c->checkpoint, &net, &classes, &o, &s);
	}
	vb_rng_seed(&net->rng, vb_opt.seed ^ 0x9e3779b97f4a7c15u);

	/* the run record */
	char *run = NULL;
	FILE *ecsv = NULL;
	if (!c->no_run_dir) {
		if (c->run_dir) {
			run = strdup(c->run_dir);
		} else {
			char ts[32];
			time_t tt = time(NULL);
			strftime(ts, sizeof ts, "%Y%m%dT%H%M%SZ", gmtime(&tt));
			run = path_join("runs", ts);
		}
		mkdir_p(run);
		char *pp = path_join(run, "params.yaml");
		FILE *f = fopen(pp, "w");
		if (!f)
			vb_fatal(VB_EXIT_DATA, "cannot open '%s': %s", pp, strerror(errno));
		fprintf(f, "command: ");
		vb_yaml_write_str(f, c->argv_line ? c->argv_line : "");
		fprintf(f, "\narchitecture: ");
		vb_yaml_write_str(f, net->arch_name);
		fprintf(f, "\nparameters: %ld\nclasses: [", vb_net_nweights(net));
		for (int a = 0; a < k; a++) {
			fprintf(f, "%s", a ? ", " : "");
			vb_yaml_write_str(f, classes[a]);
		}
		fprintf(f, "]\ntrain_data: ");
		vb_yaml_write_str(f, tr.name);
		fprintf(f, "\ntrain_sha256: %s\ntrain_images: %ld\n", tr.sha, tr.n);
		if (c->val) {
			fprintf(f, "val_data: ");
			vb_yaml_write_str(f, va.name);
			fprintf(f, "\nval_sha256: %s\nval_images: %ld\n", va.sha, va.n);
		}
		if (c->init) {
			fprintf(f, "init: ");
			vb_yaml_write_str(f, c->init);
			fprintf(f, "\n");
		}
		fprintf(f, "epochs: %d\nbatch: %d\noptimizer: %s\nlr: ", c->epochs, batch,
		        c->optimizer == VB_ADAM ? "adam" : "sgd");
		vb_yaml_write_double(f, c->lr);
		fprintf(f, "\nschedule: %s\nweight_decay: ",
		        c->schedule == SCHED_COSINE ? "cosine" : c->schedule == SCHED_PLATEAU ? "plateau"
		                                                                      : "none");
		vb_yaml_write_double(f, c->weight_decay);
		fprintf(f, "\nlabel_smoothing: ");
		vb_yaml_write_double(f, c->smoothing);
		fprintf(f, "\npatience: %d\naugment: %s\nclean_epochs: %d\nseed: %llu\nthreads: %d\n",
		        c->patience, c->augment ? "true" : "false", c->clean_epochs,
		        (unsigned long long)vb_opt.seed, vb_opt.threads);
		if (ferror(f) | fclose(f))
			vb_fatal(VB_EXIT_DATA, "'%s': write error", pp);
		free(pp);
		char *ep = path_join(run, "epochs.csv");
		if (!(ecsv = fopen(ep, c->resume ? "a" : "w")))
			vb_fatal(VB_EXIT_DATA, "cannot open '%s': %s", ep, strerror(errno));
		fseek(ecsv, 0, SEEK_END);
		if (!c->resume || ftell(ecsv) == 0)
			fprintf(ecsv, "epoch,loss,train_accuracy,val_accuracy,lr,images_per_s,seconds\n");
		free(ep);
	}
	vb_info("%s: %ld parameters, %ld training images%s, %d threads", net->arch_name,
	        vb_net_nweights(net), tr.n, c->augment ? " (augmented)" : "", vb_opt.threads);

	/* provenance for the model file */
	char m_ep[32], m_best[32], m_acc[32], m_seed[32], m_n[32], m_time[32];
	const char *mk[10] = {"data_sha256", "train_images", "epochs", "best_epoch",
	                      "val_accuracy", "seed", "created", "vibify_version", "val_sha256",
	                      "command"};
	const char *mv[10] = {tr.sha, m_n, m_ep, m_best, m_acc, m_seed, m_time, VB_VERSION,
	                      va.sha, c->argv_line ? c->argv_line : ""};
	int nmeta = c->val ? 10 : 8;
	if (!c->val) {
		mk[8] = "command";
		mv[8] = mv[9];
		nmeta = 9;
	}
	snprintf(m_n, sizeof m_n, "%ld", tr.n);
	snprintf(m_seed, sizeof m_seed, "%llu", (unsigned long long)vb_opt.seed);
	/* as restored by --resume, in case no later epoch improves on it */
	snprintf(m_ep, sizeof m_ep, "%d", s.epoch);
	snprintf(m_best, sizeof m_best, "%d", s.best_epoch);
	snprintf(m_acc, sizeof m_acc, "%.4f", c->val ? s.best_acc : NAN);
	time_t t_created = time(NULL);
	strftime(m_time, sizeof m_time, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t_created));

	struct vb_aug aug;
	vb_aug_defaults(&aug);
	struct vb_loss_opts lo = {c->smoothing, cw};
	int *perm = malloc(sizeof *perm * tr.n), *pred = malloc(sizeof *pred * (va.n + 1));
	int64_t *lab = malloc(sizeof *lab * batch);
	float *soft = tr.soft ? malloc(sizeof(float) * batch * k) : NULL;
	float *dz = malloc(sizeof(float) * batch * k);
	if (!perm || !pred || !lab || !dz || (tr.soft && !soft))
		vb_fatal(VB_EXIT_DATA, "out of memory");
	long nbatches = (tr.n + batch - 1) / batch;
	int status = VB_EXIT_OK, stopped = 0;
	double last_loss = 0, last_tacc = 0;
	for (int e = s.epoch; e < c->epochs; e++) {
		if (c->schedule == SCHED_COSINE)
			s.lr = vb_cosine_lr(c->lr, c->min_lr, e, c->epochs, c->warmup);
		o.lr = s.lr;
		int augment = c->augment && e < c->epochs - c->clean_epochs;
		double t0 = now();
		struct vb_rng r;
		vb_rng_seed(&r, vb_opt.seed + 1000003ull * (e + 1));
		for (long i = 0; i < tr.n; i++)
			perm[i] = (int)i;
		vb_rng_shuffle(&r, perm, tr.n);
		double loss = 0;
		long correct = 0;
		char what[64];
		snprintf(what, sizeof what, "epoch %d/%d", e + 1, c->epochs);
		vb_progress(what, 0, (double)nbatches); /* restarts the ETA clock */
		for (long b = 0; b < nbatches; b++) {
			long b0 = b * batch;
			int n = (int)(tr.n - b0 < batch ? tr.n - b0 : batch);
			struct job_in j = {net, &tr, perm, b0, augment, &aug, vb_opt.seed, (uint64_t)e};
			vb_pool_run(net->pool, n, fill_input, &j);
			for (int i = 0; i < n; i++) {
				long idx = perm[b0 + i];
				if (tr.y)
					lab[i] = tr.y[idx];
				else
					memcpy(soft + (long)i * k, tr.soft + idx * k, sizeof(float) * k);
			}
			const float *z = vb_net_forward(net, n, 1);
			double l = vb_softmax_xent(z, n, k, tr.y ? lab : NULL, soft, &lo, NULL, dz,
			                           &correct);
			if (!isfinite(l))
				vb_fatal(VB_EXIT_DATA, "the loss diverged (%g) in epoch %d; try a lower --lr",
				         l, e + 1);
			loss += l * n;
			vb_net_zero_grad(net);
			vb_net_backward(net, dz, n);
			vb_optim_step(&o, net);
			vb_progress(what, (double)(b + 1), (double)nbatches);
		}
		double secs = now() - t0, ips = tr.n / secs;
		loss /= tr.n;
		double tacc = (double)correct / tr.n, vacc = NAN;
		last_loss = loss;
		last_tacc = tacc;
		s.epoch = e + 1;
		int improved;
		if (c->val) {
			predict_all(net, &va, batch, pred);
			vacc = accuracy(&va, pred);
			improved = vacc > s.best_acc;
		} else {
			improved = 1;
		}
		if (improved) {
			s.best_acc = c->val ? vacc : tacc;
			s.best_epoch = e + 1;
			s.bad = 0;
			keep_best(net, &s);
			snprintf(m_ep, sizeof m_ep, "%d", e + 1);
			snprintf(m_best, sizeof m_best, "%d", e + 1);
			snprintf(m_acc, sizeof m_acc, "%.4f", c->val ? vacc : NAN);
			time_t tt = time(NULL);
			strftime(m_time, sizeof m_time, "%Y-%m-%dT%H:%M:%SZ", gmtime(&tt));
			if (strcmp(c->out, "-") && save_model(c->out, net, classes, mk, mv, nmeta) < 0)
				vb_fatal(VB_EXIT_DATA, "%s", vb_err_msg());
		} else {
			s.bad++;
		}
		double lr_used = s.lr;
		if (c->schedule == SCHED_PLATEAU && c->val)
			s.lr = vb_plateau_step(&s.plateau, vacc, s.lr);
		if (ecsv) {
			fprintf(ecsv, "%d,%.6f,%.6f,", e + 1, loss, tacc);
			if (c->val)
				fprintf(ecsv, "%.6f", vacc);
			fprintf(ecsv, ",%.6g,%.1f,%.2f\n", lr_used, ips, secs);
			fflush(ecsv);
		}
		if (vb_show_progress()) {
			if (c->val)
				vb_warn("epoch %d/%d  loss %.4f  acc %.4f  val %.4f%s  lr %.3g  %.0f img/s  "
				        "%.0f s", e + 1, c->epochs, loss, tacc, vacc, improved ? " *" : "",
				        lr_used, ips, secs);
			else
				vb_warn("epoch %d/%d  loss %.4f  acc %.4f  lr %.3g  %.0f img/s  %.0f s", e + 1,
				        c->epochs, loss, tacc, lr_used, ips, secs);
		}
		if (c->checkpoint && save_checkpoint(c->checkpoint, net, classes, &o, &s) < 0)
			vb_fatal(VB_EXIT_DATA, "checkpoint: %s", vb_err_msg());
		if (c->val && c->patience && s.bad >= c->patience) {
			stopped = 1;
			vb_info("no better validation accuracy for %d epochs: stopping", c->patience);
			break;
		}
	}
	/* the model written is the best epoch's */
	swap_best(net, &s);
	snprintf(m_ep, sizeof m_ep, "%d", s.epoch);
	if (!strcmp(c->out, "-") || s.epoch > 0) {
		snprintf(m_best, sizeof m_best, "%d", s.best_epoch);
		if (save_model(c->out, net, classes, mk, mv, nmeta) < 0)
			vb_fatal(VB_EXIT_DATA, "%s", vb_err_msg());
	}
	double wall = now() - t_start;
	if (run) {
		if (ecsv && (ferror(ecsv) | fclose(ecsv)))
			vb_fatal(VB_EXIT_DATA, "%s/epochs.csv: write error", run);
		char *mp = path_join(run, "metrics.yaml");
		FILE *f = fopen(mp, "w");
		if (!f)
			vb_fatal(VB_EXIT_DATA, "cannot open '%s': %s", mp, strerror(errno));
		fprintf(f, "epochs_run: %d\nbest_epoch: %d\nstopped_early: %s\n", s.epoch,
		        s.best_epoch, stopped ? "true" : "false");
		if (c->val) {
			fprintf(f, "val_accuracy: %.6f\n", s.best_acc);
			predict_all(net, &va, batch, pred);
			double mf1 = 0;
			for (int a = 0; a < k; a++) {
				long tp = 0, fp = 0, fn = 0;
				for (long i = 0; i < va.n; i++) {
					int t = truth(&va, i);
					tp += t == a && pred[i] == a;
					fp += t != a && pred[i] == a;
					fn += t == a && pred[i] != a;
				}
				mf1 += tp ? 2.0 * tp / (2.0 * tp + fp + fn) / k : 0;
			}
			fprintf(f, "val_macro_f1: %.6f\n", mf1);
		}
		fprintf(f, "final_train_loss: %.6f\nfinal_train_accuracy: %.6f\nwall_seconds: %.1f\n"
		        "model: ", last_loss, last_tacc, wall);
		vb_yaml_write_str(f, c->out);
		fprintf(f, "\n");
		if (ferror(f) | fclose(f))
			vb_fatal(VB_EXIT_DATA, "'%s': write error", mp);
		free(mp);
		free(run);
	}
	for (int i = 0; i < net->nparams; i++)
		free(s.best[i]);
	free(s.best);
	free(perm);
	free(pred);
	free(lab);
	free(soft);
	free(dz);
	free(cw);
	vb_model_free_classes(classes);
	vb_net_free(net);
	free_dataset(&tr);
	free_dataset(&va);
	return status;
}

int main(int argc, char **argv)
{
	struct cmdline c;
	vb_cli_init(argc, argv);
	parse_cmdline(argc, argv, &c);
	int status = c.evaluate ? evaluate(&c) : train(&c);
	free(c.argv_line);
	return vb_close_stdout(status);
}
