/* fer-prep - FER2013 faces (Kaggle's CSV or its image tree) to a .npy
 * stream of images X (|u1, N x 48 x 48) and labels y (<i8), or back to
 * Kaggle's CSV.
 *
 * CSV input is read row by row; an image tree is walked, sorted by relative
 * path and decoded by a pool of threads, each into its own slot of the
 * output, so the order never depends on the timing.
 */
#include "cli.h"
#include "csv.h"
#include "err.h"
#include "image.h"
#include "recommend.h"
#include "tensor.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define SIDE 48
#define NPIX (SIDE * SIDE)
#define MAXCLASSES 256

static const char *const split_names[3] = { "Training", "PublicTest", "PrivateTest" };

struct cmdline {
	char *input;             /* NULL or "-": stdin */
	const char *output;      /* NULL or "-": stdout */
	char *classes[MAXCLASSES];
	int nclasses;
	char *classes_buf;       /* the --classes text the names point into */
	int split;               /* 0..2, or -1 for all */
	int csv_out;
	int skip_bad;
};

/* ---------------------------------------------------------------------- */
/* Command line */

static const char doc[] =
	"Convert FER2013 faces into a .npy stream: X (|u1, N x 48 x 48) then y (<i8).\n\n"
	"INPUT is Kaggle's fer2013.csv (emotion,pixels,Usage; stdin when absent or '-') "
	"or a directory holding an image tree of <emotion>/<Usage>_<id>.jpg|png files.\n"
	"\vClasses are numbered 0, 1, ... in the order given.  Images that are not 48x48 "
	"gray are converted to gray (BT.601) and resized to 48x48 (area averaging when "
	"shrinking, bilinear when enlarging).  Exit status: 0 success, 2 bad data or I/O "
	"error, 64 usage.";

enum { OPT_SKIP_BAD = 0x100 };

static const struct argp_option options[] = {
	{ "classes", 'c', "LIST", 0,
	  "Comma-separated class names, mapped to 0, 1, ... in that order; 'all' = the 7 FER classes "
	  "angry,disgust,fear,happy,sad,surprise,neutral (default: angry,happy,sad,neutral)", 0 },
	{ "split", 's', "NAME", 0, "Training, PublicTest, PrivateTest or all (default: all)", 0 },
	{ "output-format", 'O', "FMT", 0, "npy, or csv for Kaggle's emotion,pixels,Usage (default: npy)", 0 },
	{ "output", 'o', "FILE", 0, "Write to FILE (default: stdout)", 0 },
	{ "skip-bad", OPT_SKIP_BAD, 0, 0,
	  "Skip bad rows and unreadable or misnamed images, counting them, instead of failing (default: fail)", 0 },
	{ 0 }
};

static int set_classes(struct cmdline *cl, const char *arg, struct argp_state *st)
{
	char *copy, *tok, *save = NULL;
	int i;

	cl->nclasses = 0;
	if (!strcasecmp(arg, "all")) {
		for (i = 0; i < VB_NEMO; i++)
			cl->classes[cl->nclasses++] = (char *)vb_emo_name(i);
		return 0;
	}
	copy = strdup(arg);
	if (!copy)
		vb_fatal(VB_EXIT_DATA, "out of memory");
	free(cl->classes_buf);
	cl->classes_buf = copy;
	if (!*copy || copy[strlen(copy) - 1] == ',' || *copy == ',' || strstr(copy, ",,"))
		argp_error(st, "invalid --classes '%s': empty class name", arg);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (char *p = tok; *p; p++) {
			*p = (char)tolower((unsigned char)*p);
			if (isspace((unsigned char)*p) || *p == '/')
				argp_error(st, "invalid --classes '%s': bad class name '%s'", arg, tok);
		}
		for (i = 0; i < cl->nclasses; i++)
			if (!strcmp(cl->classes[i], tok))
				argp_error(st, "invalid --classes '%s': '%s' given twice", arg, tok);
		if (cl->nclasses == MAXCLASSES)
			argp_error(st, "invalid --classes: more than %d classes", MAXCLASSES);
		cl->classes[cl->nclasses++] = tok;
	}
	return 0;
}

static error_t parse_opt(int key, char *arg, struct argp_state *st)
{
	struct cmdline *cl = st->input;
	int i;

	switch (key) {
	case 'c':
		return set_classes(cl, arg, st);
	case 's':
		if (!strcasecmp(arg, "all")) {
			cl->split = -1;
			return 0;
		}
		for (i = 0; i < 3; i++)
			if (!strcasecmp(arg, split_names[i])) {
				cl->split = i;
				return 0;
			}
		argp_error(st, "invalid --split '%s': expected Training, PublicTest, PrivateTest or all", arg);
		return 0;
	case 'O':
		if (!strcmp(arg, "csv"))
			cl->csv_out = 1;
		else if (!strcmp(arg, "npy"))
			cl->csv_out = 0;
		else
			argp_error(st, "invalid --output-format '%s': expected npy or csv", arg);
		return 0;
	case 'o':
		cl->output = arg;
		return 0;
	case OPT_SKIP_BAD:
		cl->skip_bad = 1;
		return 0;
	case ARGP_KEY_ARG:
		if (cl->input)
			argp_error(st, "more than one input given");
		cl->input = arg;
		return 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

static void parse_cmdline(int argc, char **argv, struct cmdline *cl)
{
	static const struct argp_child children[] = { { &vb_common_argp, 0, "Common options:", 0 }, { 0 } };
	static const struct argp argp = { options, parse_opt, "[INPUT]", doc, children, 0, 0 };
	static char defaults[] = "angry,happy,sad,neutral";

	memset(cl, 0, sizeof *cl);
	cl->split = -1;
	cl->classes[0] = defaults;
	cl->classes[1] = defaults + 6;
	cl->classes[2] = defaults + 12;
	cl->classes[3] = defaults + 16;
	defaults[5] = defaults[11] = defaults[15] = 0;
	cl->nclasses = 4;
	argp_parse(&argp, argc, argv, 0, 0, cl);
}

/* ---------------------------------------------------------------------- */
/* The output set: faces, their class, FER code and split. */

struct faces {
	uint8_t *X;        /* n * NPIX */
	int64_t *y;        /* class index */
	uint8_t *usage;    /* 0..2, or 3 when the input had no Usage */
	size_t n, cap;
	long bad;          /* skipped bad rows or files */
	long resized;      /* images converted or resized */
	char first_bad[VB_ERR_MAX + 64];
};

static int faces_reserve(struct faces *fc, size_t want)
{
	size_t cap = fc->cap;
	void *p;

	if (want <= cap)
		return 0;
	while (cap < want)
		cap = cap ? cap * 2 : 1024;
	if (!(p = realloc(fc->X, cap * NPIX)))
		return -1;
	fc->X = p;
	if (!(p = realloc(fc->y, cap * sizeof *fc->y)))
		return -1;
	fc->y = p;
	if (!(p = realloc(fc->usage, cap)))
		return -1;
	fc->usage = p;
	fc->cap = cap;
	return 0;
}

/* Room for n images of NPIX bytes, aligned for transparent huge pages:
 * filling tens of megabytes of 4 KiB pages otherwise costs a page fault
 * per 4 KiB, a good part of the decoding time.  NULL if out of memory. */
static uint8_t *alloc_images(size_t n)
{
	size_t bytes = n * NPIX, align = (size_t)2 << 20;
	void *x;

	if (bytes < align)
		return malloc(bytes);
	bytes = (bytes + align - 1) / align * align;
	if (posix_memalign(&x, align, bytes))
		return NULL;
	madvise(x, bytes, MADV_HUGEPAGE);
	return x;
}

/* The output file made by -o while writing it, removed if the program
 * fails half way; NULL otherwise. */
static const char *out_partial;

static void __attribute__((noreturn)) fail(const char *msg)
{
	if (out_partial)
		unlink(out_partial);
	vb_fatal(VB_EXIT_DATA, "%s", msg);
}

/* Class index of an emotion name; -1 when not among the classes. */
static int class_of(const struct cmdline *cl, const char *name)
{
	for (int i = 0; i < cl->nclasses; i++)
		if (!strcasecmp(cl->classes[i], name))
			return i;
	return -1;
}

static int fer_code(const char *name)
{
	for (int i = 0; i < VB_NEMO; i++)
		if (!strcasecmp(vb_emo_name(i), name))
			return i;
	return -1;
}

/* A bad row or file: fatal, or counted with --skip-bad.  msg is the full
 * message.  Returns 0 to go on. */
static void bad_item(const struct cmdline *cl, struct faces *fc, const char *msg)
{
	if (!cl->skip_bad)
		fail(msg);
	if (!fc->bad++)
		snprintf(fc->first_bad, sizeof fc->first_bad, "%s", msg);
}

/* ---------------------------------------------------------------------- */
/* CSV input */

/* Parse the pixels field into px: exactly NPIX integers 0..255 separated by
 * spaces (or tabs).  0, or -1 with msg filled. */
static int parse_pixels(const char *s, uint8_t *px, char *msg, size_t msgsize)
{
	int n = 0;

	for (;;) {
		unsigned v = 0;
		int digits = 0;
		const char *start;

		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		start = s;
		while (*s >= '0' && *s <= '9') {
			if (v <= 1000)
				v = v * 10 + (unsigned)(*s - '0');
			s++;
			digits++;
		}
		if (!digits || (*s && *s != ' ' && *s != '\t')) {
			const char *e = start;
			while (*e && *e != ' ' && *e != '\t' && e - start < 20)
				e++;
			snprintf(msg, msgsize, "pixel %d '%.*s' is not a number", n + 1, (int)(e - start), start);
			return -1;
		}
		if (v > 255) {
			snprintf(msg, msgsize, "pixel %d is %.*s, above 255", n + 1, digits > 12 ? 12 : digits, start);
			return -1;
		}
		if (n == NPIX) {
			while (*s) {   /* count them all for the message */
				while (*s == ' ' || *s == '\t')
					s++;
				if (*s)
					n++;
				while (*s && *s != ' ' && *s != '\t')
					s++;
			}
			snprintf(msg, msgsize, "%d pixels, expected %d", n + 1, NPIX);
			return -1;
		}
		px[n++] = (uint8_t)v;
	}
	if (n != NPIX) {
		snprintf(msg, msgsize, "%d pixels, expected %d", n, NPIX);
		return -1;
	}
	return 0;
}

static void read_csv(const struct cmdline *cl, FILE *in, const char *name, struct faces *fc)
{
	struct vb_csv *r = vb_csv_open(in);
	char **f, msg[VB_ERR_MAX + 64], why[128];
	size_t nf, i;
	int col_e = -1, col_p = -1, col_u = -1, rc;
	struct stat st;
	double total = 0;

	if (!r)
		vb_fatal(VB_EXIT_DATA, "out of memory");
	if (fstat(fileno(in), &st) == 0 && S_ISREG(st.st_mode))
		total = (double)st.st_size;
	rc = vb_csv_next(r, &f, &nf, NULL);
	if (rc < 0)
		vb_fatal(VB_EXIT_DATA, "%s: %s", name, vb_err_msg());
	if (rc == 0)
		vb_fatal(VB_EXIT_DATA, "%s: empty input (expected a header emotion,pixels,Usage)", name);
	for (i = 0; i < nf; i++) {
		if (!strcasecmp(f[i], "emotion"))
			col_e = (int)i;
		else if (!strcasecmp(f[i], "pixels"))
			col_p = (int)i;
		else if (!strcasecmp(f[i], "usage"))
			col_u = (int)i;
	}
	if (col_e < 0 || col_p < 0)
		vb_fatal(VB_EXIT_DATA, "%s: no '%s' column in the header (expected emotion,pixels,Usage)", name,
			 col_e < 0 ? "emotion" : "pixels");
	if (col_u < 0 && cl->split >= 0)
		vb_fatal(VB_EXIT_DATA, "%s: no 'Usage' column, so only --split all is possible", name);

	while ((rc = vb_csv_next(r, &f, &nf, NULL)) > 0) {
		long line = vb_csv_line(r);
		const char *e = f[col_e];
		int code = -1, cls, usage = 3;

		if (total > 0 && (line & 255) == 0)
			vb_progress("reading", (double)ftell(in), total);
		if (nf == 1 && !*f[0])   /* blank line */
			continue;
		/* emotion: a FER code 0..6 or a class name */
		if (e[0] >= '0' && e[0] <= '6' && !e[1]) {
			code = e[0] - '0';
			cls = class_of(cl, vb_emo_name(code));
		} else {
			cls = class_of(cl, e);
			code = fer_code(e);
			if (cls < 0 && code < 0) {
				snprintf(msg, sizeof msg, "%s line %ld: unknown emotion '%.40s'", name, line, e);
				bad_item(cl, fc, msg);
				continue;
			}
		}
		if (col_u >= 0) {
			for (usage = 0; usage < 3; usage++)
				if (!strcasecmp(f[col_u], split_names[usage]))
					break;
			if (usage == 3) {
				snprintf(msg, sizeof msg, "%s line %ld: unknown Usage '%.40s'", name, line, f[col_u]);
				bad_item(cl, fc, msg);
				continue;
			}
		}
		if (faces_reserve(fc, fc->n + 1))
			vb_fatal(VB_EXIT_DATA, "out of memory");
		/* Check the pixels of every row, selected or not. */
		if (parse_pixels(f[col_p], fc->X + fc->n * NPIX, why, sizeof why)) {
			snprintf(msg, sizeof msg, "%s line %ld: %s", name, line, why);
			bad_item(cl, fc, msg);
			continue;
		}
		if (cls < 0 || (cl->split >= 0 && usage != cl->split))
			continue;
		fc->y[fc->n] = cls;
		fc->usage[fc->n] = (uint8_t)usage;
		fc->n++;
	}
	if (rc < 0)
		vb_fatal(VB_EXIT_DATA, "%s: %s", name, vb_err_msg());
	if (total > 0)
		vb_progress("reading", total, total);
	vb_csv_close(r);
}

/* ---------------------------------------------------------------------- */
/* Output */

static void write_npy(FILE *out, const struct faces *fc)
{
	int64_t shape[3] = { (int64_t)fc->n, SIDE, SIDE };

	if (vb_npy_write_header(out, VB_U8, 3, shape) || vb_npy_write_data(out, fc->X, fc->n * NPIX) ||
	    vb_npy_write_header(out, VB_I64, 1, shape) || vb_npy_write_data(out, fc->y, fc->n * sizeof *fc->y))
		fail(vb_err_msg());
}

static void write_error(void)
{
	char msg[300];

	snprintf(msg, sizeof msg, "write error: %s", strerror(errno));
	fail(msg);
}

static void write_csv_header(FILE *out, int with_usage)
{
	if (fputs(with_usage ? "emotion,pixels,Usage\n" : "emotion,pixels\n", out) == EOF)
		write_error();
}

/* One Kaggle CSV row: the FER code of the class (its name if it has none),
 * the pixels, the Usage. */
static void write_csv_row(FILE *out, const struct cmdline *cl, const uint8_t *px, int64_t cls, int usage,
			  int with_usage)
{
	static _Thread_local char line[NPIX * 4 + 64];
	const char *name = cl->classes[cls];
	int code = fer_code(name);
	char *q = line;

	if (code >= 0) {
		*q++ = (char)('0' + code);
		*q++ = ',';
	} else if (vb_csv_write_field(out, name) || putc(',', out) == EOF) {
		write_error();
	}
	for (int j = 0; j < NPIX; j++) {
		unsigned v = px[j];
		if (j)
			*q++ = ' ';
		if (v >= 100)
			*q++ = (char)('0' + v / 100);
		if (v >= 10)
			*q++ = (char)('0' + v / 10 % 10);
		*q++ = (char)('0' + v % 10);
	}
	if (with_usage) {
		*q++ = ',';
		q = stpcpy(q, split_names[usage]);
	}
	*q++ = '\n';
	if (fwrite(line, 1, (size_t)(q - line), out) != (size_t)(q - line))
		write_error();
}

static void write_csv(FILE *out, const struct cmdline *cl, const struct faces *fc, int with_usage)
{
	write_csv_header(out, with_usage);
	for (size_t i = 0; i < fc->n; i++)
		write_csv_row(out, cl, fc->X + i * NPIX, fc->y[i], fc->usage[i], with_usage);
}

/* ---------------------------------------------------------------------- */
/* Image tree input */

struct entry {
	char *rel;       /* path relative to the root */
	size_t dir;      /* index of its directory in walk.dirs */
	int cls;         /* class index, -1 not selected */
	int usage;
};

struct walk {
	struct entry *e;
	size_t n, cap;
	char **dirs;     /* directories, relative to the root ("" is the root) */
	int *dirfd;      /* their descriptors while decoding, or -1 */
	size_t ndirs, dircap;
};

static int image_name(const char *name)
{
	static const char *const exts[] = { ".jpg", ".jpeg", ".png", ".pgm", ".ppm", ".pnm" };
	size_t len = strlen(name);

	for (size_t i = 0; i < sizeof exts / sizeof *exts; i++) {
		size_t el = strlen(exts[i]);
		if (len > el && !strcasecmp(name + len - el, exts[i]))
			return 1;
	}
	return 0;
}

/* Collect the image files under root/rel (rel "" for the root itself).
 * Hidden entries are skipped; symbolic links to files are followed, to
 * directories not (no cycles). */
static void walk_dir(const char *root, const char *rel, struct walk *w)
{
	char path[PATH_MAX];
	DIR *d;
	struct dirent *de;
	size_t dirno;

	if (snprintf(path, sizeof path, "%s%s%s", root, *rel ? "/" : "", rel) >= (int)sizeof path)
		vb_fatal(VB_EXIT_DATA, "'%s/%s': path too long", root, rel);
	d = opendir(path);
	if (!d)
		vb_fatal(VB_EXIT_DATA, "cannot open '%s': %s", path, strerror(errno));
	if (w->ndirs == w->dircap) {
		w->dircap = w->dircap ? 2 * w->dircap : 64;
		w->dirs = realloc(w->dirs, w->dircap * sizeof *w->dirs);
		if (!w->dirs)
			vb_fatal(VB_EXIT_DATA, "out of memory");
	}
	if (!(w->dirs[w->ndirs] = strdup(rel)))
		vb_fatal(VB_EXIT_DATA, "out of memory");
	dirno = w->ndirs++;
	while ((errno = 0, de = readdir(d))) {
		char sub[PATH_MAX];
		int type = de->d_type;

		if (de->d_name[0] == '.')
			continue;
		if (snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", de->d_name) >= (int)sizeof sub)
			vb_fatal(VB_EXIT_DATA, "'%s/%s': path too long", path, de->d_name);
		if (type == DT_UNKNOWN || type == DT_LNK) {
			char full[PATH_MAX];
			struct stat st;
			if (snprintf(full, sizeof full, "%s/%s", root, sub) >= (int)sizeof full)
				vb_fatal(VB_EXIT_DATA, "'%s/%s': path too long", root, sub);
			if (lstat(full, &st))
				vb_fatal(VB_EXIT_DATA, "cannot stat '%s': %s", full, strerror(errno));
			if (S_ISDIR(st.st_mode))
				type = DT_DIR;
			else if (S_ISLNK(st.st_mode))
				type = stat(full, &st) == 0 && S_ISREG(st.st_mode) ? DT_REG : DT_LNK;
			else
				type = S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
		}
		if (type == DT_DIR) {
			walk_dir(root, sub, w);
		} else if (type == DT_REG && image_name(de->d_name)) {
			if (w->n == w->cap) {
				w->cap = w->cap ? 2 * w->cap : 4096;
				w->e = realloc(w->e, w->cap * sizeof *w->e);
				if (!w->e)
					vb_fatal(VB_EXIT_DATA, "out of memory");
			}
			w->e[w->n].rel = strdup(sub);
			if (!w->e[w->n].rel)
				vb_fatal(VB_EXIT_DATA, "out of memory");
			w->e[w->n].dir = dirno;
			w->n++;
		}
	}
	if (errno)
		vb_fatal(VB_EXIT_DATA, "cannot read directory '%s': %s", path, strerror(errno));
	closedir(d);
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->rel, ((const struct entry *)b)->rel);
}

/* Work shared by the decoding threads.  The selected entries are decoded
 * in batches: entry i of the batch [base, end) goes to X + (i - base) *
 * NPIX, so memory stays at one batch however large the data set. */
struct pool {
	const char *root;
	const struct walk *w;
	struct entry **sel;    /* selected entries in output order */
	size_t n;              /* number of selected entries */
	size_t base, end;      /* the current batch */
	uint8_t *X;            /* BATCH images */
	char **err;            /* per entry: NULL or the error message */
	uint8_t *resized;      /* per entry: 1 if converted or resized */
	atomic_size_t next, done;
};

#define BATCH 4096

#define CHUNK 64

/* The path of an entry, for messages; in a static per-thread buffer. */
static const char *entry_path(const struct pool *p, const struct entry *e)
{
	static _Thread_local char path[PATH_MAX + 64];

	snprintf(path, sizeof path, "%s/%s", p->root, e->rel);
	return path;
}

/* Read a whole regular file, opened through its directory's descriptor
 * when there is one (a shorter path lookup).  A short read means the end
 * of a regular file, which saves a second read and an fstat per file. */
static int read_file(const struct pool *p, const struct entry *e, uint8_t **buf, size_t *cap, size_t *n)
{
	int dfd = p->w->dirfd[e->dir];
	const char *base = strrchr(e->rel, '/');
	size_t len = 0;
	ssize_t k;
	int fd;

	base = base ? base + 1 : e->rel;
	fd = dfd >= 0 ? openat(dfd, base, O_RDONLY | O_CLOEXEC) : open(entry_path(p, e), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vb_err_sys("cannot read '%s'", entry_path(p, e));
	for (;;) {
		if (len == *cap) {
			size_t want = *cap ? 2 * *cap : 1 << 16;
			uint8_t *nb = realloc(*buf, want);
			if (!nb) {
				close(fd);
				return vb_err_set("cannot read '%s': out of memory", entry_path(p, e));
			}
			*buf = nb;
			*cap = want;
		}
		k = read(fd, *buf + len, *cap - len);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			vb_err_sys("cannot read '%s'", entry_path(p, e));
			close(fd);
			return -1;
		}
		len += (size_t)k;
		if (len < *cap)
			break;
	}
	close(fd);
	*n = len;
	return 0;
}

/* Read, decode and place one image.  0 or -1 with the message set. */
static int decode_one(struct pool *p, size_t i, struct vb_image_decoder *dec, uint8_t **buf, size_t *cap)
{
	struct vb_image *img = NULL, *r;
	size_t n = 0;

	if (read_file(p, p->sel[i], buf, cap, &n))
		return -1;
	if (vb_image_decode(dec, *buf, n, VB_IMG_GRAY, &img))
		return vb_err_prefix("'%s'", entry_path(p, p->sel[i]));
	if (img->w != SIDE || img->h != SIDE) {
		r = vb_image_resize(img, SIDE, SIDE);
		vb_image_free(img);
		if (!r)
			return vb_err_prefix("'%s'", entry_path(p, p->sel[i]));
		img = r;
		p->resized[i] = 1;
	}
	memcpy(p->X + (i - p->base) * NPIX, img->px, NPIX);
	vb_image_free(img);
	return 0;
}

/* Decode chunks of entries until none is left.  The main thread also
 * works here and draws the progress line. */
static void work(struct pool *p, int draw)
{
	struct vb_image_decoder *dec = vb_image_decoder_new();
	uint8_t *buf = NULL;
	size_t cap = 0, start, end, i;

	for (;;) {
		start = atomic_fetch_add(&p->next, CHUNK);
		if (start >= p->end)
			break;
		end = start + CHUNK < p->end ? start + CHUNK : p->end;
		for (i = start; i < end; i++) {
			if (!dec || decode_one(p, i, dec, &buf, &cap)) {
				p->err[i] = strdup(dec ? vb_err_msg() : "out of memory");
				if (!p->err[i])
					p->err[i] = (char *)"out of memory";
			}
		}
		i = atomic_fetch_add(&p->done, end - start) + (end - start);
		if (draw && i < p->n)
			vb_progress("decoding", (double)i, (double)p->n);
	}
	free(buf);
	vb_image_decoder_free(dec);
}

static void *worker(void *arg)
{
	work(arg, 0);
	return NULL;
}

/* Walk, check the names, decode the selected images and write them to
 * out as they come (see fail() for errors half way). */
static void read_tree(const struct cmdline *cl, const char *root, struct faces *fc, FILE *out)
{
	struct walk w = { 0 };
	struct pool p;
	pthread_t *tids;
	size_t i, nsel = 0, k;
	int nthreads;
	enum { OUT_STREAM, OUT_KEEP, OUT_CSV } mode;
	char msg[VB_ERR_MAX + 64];

	walk_dir(root, "", &w);
	if (w.n == 0)
		vb_fatal(VB_EXIT_DATA, "no image files (<emotion>/<Usage>_<id>.jpg|png) under '%s'", root);
	qsort(w.e, w.n, sizeof *w.e, cmp_entry);
	/* Name checks: emotion from the parent folder, Usage from the prefix. */
	for (i = 0; i < w.n; i++) {
		struct entry *e = &w.e[i];
		const char *base = strrchr(e->rel, '/');
		const char *dir;
		char emo[256];
		size_t dl;

		base = base ? base + 1 : e->rel;
		e->cls = -1;
		e->usage = -1;
		for (int u = 0; u < 3; u++) {
			size_t ul = strlen(split_names[u]);
			if (!strncasecmp(base, split_names[u], ul) && base[ul] == '_')
				e->usage = u;
		}
		if (e->usage < 0) {
			snprintf(msg, sizeof msg, "'%s/%s': file name does not start with Training_, PublicTest_ or PrivateTest_",
				 root, e->rel);
			bad_item(cl, fc, msg);
			continue;
		}
		if (base == e->rel) {
			snprintf(msg, sizeof msg, "'%s/%s': not in an <emotion> folder", root, e->rel);
			bad_item(cl, fc, msg);
			continue;
		}
		dl = (size_t)(base - 1 - e->rel);
		dir = e->rel + dl;
		while (dir > e->rel && dir[-1] != '/')
			dir--;
		dl = (size_t)(base - 1 - dir);
		snprintf(emo, sizeof emo, "%.*s", (int)dl, dir);
		e->cls = class_of(cl, emo);
		if (e->cls < 0 && fer_code(emo) < 0) {
			snprintf(msg, sizeof msg, "'%s/%s': unknown emotion '%s'", root, e->rel, emo);
			bad_item(cl, fc, msg);
			continue;
		}
		if (e->cls >= 0 && cl->split >= 0 && e->usage != cl->split)
			e->cls = -1;
		if (e->cls >= 0)
			nsel++;
	}

	/* Directory descriptors for the directories with selected images. */
	w.dirfd = malloc((w.ndirs ? w.ndirs : 1) * sizeof *w.dirfd);
	if (!w.dirfd)
		vb_fatal(VB_EXIT_DATA, "out of memory");
	for (i = 0; i < w.ndirs; i++)
		w.dirfd[i] = -2;
	for (i = 0; i < w.n; i++) {
		size_t di = w.e[i].dir;
		if (w.e[i].cls >= 0 && w.dirfd[di] == -2) {
			char path[PATH_MAX];
			snprintf(path, sizeof path, "%s/%s", root, w.dirs[di]);
			w.dirfd[di] = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		}
	}

	memset(&p, 0, sizeof p);
	p.root = root;
	p.w = &w;
	p.n = nsel;
	p.sel = malloc((nsel ? nsel : 1) * sizeof *p.sel);
	p.err = calloc(nsel ? nsel : 1, sizeof *p.err);
	p.resized = calloc(nsel ? nsel : 1, 1);
	p.X = alloc_images(nsel < BATCH ? (nsel ? nsel : 1) : BATCH);
	fc->y = malloc((nsel ? nsel : 1) * sizeof *fc->y);
	fc->usage = malloc(nsel ? nsel : 1);
	/* Without --skip-bad the number of faces is known now and the images
	 * go out batch by batch; with it, they are kept until the end. */
	mode = cl->csv_out ? OUT_CSV : cl->skip_bad ? OUT_KEEP : OUT_STREAM;
	if (mode == OUT_KEEP)
		fc->X = alloc_images(nsel ? nsel : 1);
	if (!p.sel || !p.err || !p.resized || !p.X || !fc->y || !fc->usage || (mode == OUT_KEEP && !fc->X))
		vb_fatal(VB_EXIT_DATA, "out of memory");
	for (i = k = 0; i < w.n; i++)
		if (w.e[i].cls >= 0)
			p.sel[k++] = &w.e[i];
	atomic_init(&p.done, 0);

	nthreads = vb_opt.threads;
	if ((size_t)nthreads > (nsel + CHUNK - 1) / CHUNK)
		nthreads = (int)((nsel + CHUNK - 1) / CHUNK);
	if (nthreads < 1)
		nthreads = 1;
	tids = calloc((size_t)nthreads, sizeof *tids);
	if (!tids)
		vb_fatal(VB_EXIT_DATA, "out of memory");

	for (p.base = 0; p.base < nsel || (nsel == 0 && p.base == 0); p.base = p.end) {
		size_t run = 0;
		int started = 0;

		p.end = p.base + BATCH < nsel ? p.base + BATCH : nsel;
		atomic_store(&p.next, p.base);
		for (int t = 1; t < nthreads; t++)
			if (pthread_create(&tids[t], NULL, worker, &p) == 0)
				started++;
			else
				break;
		work(&p, 1);
		for (int t = 1; t <= started; t++)
			pthread_join(tids[t], NULL);

		/* Bad images are fatal (before anything of their batch is
		 * written, so a small set fails with no output at all), or
		 * skipped; the others go out in order. */
		for (i = p.base; i < p.end && !cl->skip_bad; i++)
			if (p.err[i])
				fail(p.err[i]);
		if (p.base == 0 && mode == OUT_STREAM) {
			int64_t shape[3] = { (int64_t)nsel, SIDE, SIDE };
			if (vb_npy_write_header(out, VB_U8, 3, shape))
				fail(vb_err_msg());
		} else if (p.base == 0 && mode == OUT_CSV) {
			write_csv_header(out, 1);
		}
		for (i = p.base; i < p.end; i++) {
			const uint8_t *px = p.X + (i - p.base) * NPIX;
			if (p.err[i]) {
				bad_item(cl, fc, p.err[i]);
				continue;
			}
			if (mode == OUT_CSV)
				write_csv_row(out, cl, px, p.sel[i]->cls, p.sel[i]->usage, 1);
			else if (mode == OUT_KEEP)
				memcpy(fc->X + fc->n * NPIX, px, NPIX);
			else
				run++;
			fc->y[fc->n] = p.sel[i]->cls;
			fc->usage[fc->n] = (uint8_t)p.sel[i]->usage;
			fc->resized += p.resized[i];
			fc->n++;
		}
		if (run && vb_npy_write_data(out, p.X, run * NPIX))
			fail(vb_err_msg());
		if (nsel == 0)
			break;
	}
	free(tids);
	if (nsel)
		vb_progress("decoding", (double)nsel, (double)nsel);

	if (mode == OUT_STREAM) {
		int64_t shape[1] = { (int64_t)fc->n };
		if (vb_npy_write_header(out, VB_I64, 1, shape) || vb_npy_write_data(out, fc->y, fc->n * sizeof *fc->y))
			fail(vb_err_msg());
	} else if (mode == OUT_KEEP) {
		write_npy(out, fc);
	}
	for (i = 0; i < nsel; i++)
		if (p.err[i] && strcmp(p.err[i], "out of memory"))
			free(p.err[i]);
	free(p.err);
	free(p.resized);
	free(p.sel);
	free(p.X);
	for (i = 0; i < w.n; i++)
		free(w.e[i].rel);
	free(w.e);
	for (i = 0; i < w.ndirs; i++) {
		if (w.dirfd[i] >= 0)
			close(w.dirfd[i]);
		free(w.dirs[i]);
	}
	free(w.dirs);
	free(w.dirfd);
}

static void report(const struct cmdline *cl, const struct faces *fc)
{
	long cnt[MAXCLASSES][4];
	size_t i;

	if (fc->bad && !vb_opt.quiet)
		vb_warn("skipped %ld bad %s; the first: %s", fc->bad, fc->bad == 1 ? "item" : "items", fc->first_bad);
	if (!vb_opt.verbose || vb_opt.quiet)
		return;
	memset(cnt, 0, sizeof cnt);
	for (i = 0; i < fc->n; i++)
		cnt[fc->y[i]][fc->usage[i]]++;
	vb_info("%zu faces%s", fc->n, fc->resized ? "" : ", all 48x48 gray");
	if (fc->resized)
		vb_info("%ld images converted to 48x48 gray", fc->resized);
	vb_info("%-3s %-12s %9s %11s %12s %8s", "y", "class", "Training", "PublicTest", "PrivateTest", "total");
	for (int c = 0; c < cl->nclasses; c++) {
		long t = cnt[c][0] + cnt[c][1] + cnt[c][2] + cnt[c][3];
		vb_info("%-3d %-12s %9ld %11ld %12ld %8ld", c, cl->classes[c], cnt[c][0], cnt[c][1], cnt[c][2], t);
	}
	{
		long s[4] = { 0 };
		for (int c = 0; c < cl->nclasses; c++)
			for (int u = 0; u < 4; u++)
				s[u] += cnt[c][u];
		vb_info("%-3s %-12s %9ld %11ld %12ld %8zu", "", "total", s[0], s[1], s[2], fc->n);
	}
}

int main(int argc, char **argv)
{
	struct cmdline cl;
	struct faces fc;
	struct stat st;
	FILE *in, *out;
	int has_usage = 1;

	vb_cli_init(argc, argv);
	parse_cmdline(argc, argv, &cl);
	memset(&fc, 0, sizeof fc);

	if (cl.input && strcmp(cl.input, "-") && stat(cl.input, &st) == 0 && S_ISDIR(st.st_mode)) {
		/* Written while decoding: a file of -o is removed on failure
		 * (only a regular file, never a device such as /dev/full). */
		out = vb_open_out(cl.output);
		if (out != stdout && fstat(fileno(out), &st) == 0 && S_ISREG(st.st_mode))
			out_partial = cl.output;
		{
			/* "dir/" names files "dir/happy/...", not "dir//happy/..." */
			size_t n = strlen(cl.input);
			while (n > 1 && cl.input[n - 1] == '/')
				cl.input[--n] = 0;
		}
		read_tree(&cl, cl.input, &fc, out);
		report(&cl, &fc);
	} else {
		const char *name = cl.input && strcmp(cl.input, "-") ? cl.input : "<stdin>";
		in = vb_open_in(cl.input);
		read_csv(&cl, in, name, &fc);
		for (size_t i = 0; i < fc.n; i++)
			if (fc.usage[i] == 3)
				has_usage = 0;
		if (in != stdin)
			fclose(in);
		report(&cl, &fc);
		out = vb_open_out(cl.output);
		if (cl.csv_out)
			write_csv(out, &cl, &fc, has_usage);
		else
			write_npy(out, &fc);
	}
	if (vb_close(out, cl.output)) {
		if (out_partial)
			unlink(out_partial);
		return VB_EXIT_DATA;
	}
	free(fc.X);
	free(fc.y);
	free(fc.usage);
	free(cl.classes_buf);
	return vb_close_stdout(VB_EXIT_OK);
}
