/* emotion-predict - faces in images, frame streams or crops -> emotions CSV.
 *
 * Each input (files in order, or stdin) is one image, a stream of PNM
 * frames back to back, or a .npy stream of face crops.  Frames go through
 * face detection (an OpenCV cascade, see haar.h), each face is cropped,
 * made gray, shrunk to the model's input and classified; crops are
 * classified directly.  One CSV row (or JSON line) per face, a `none` row
 * for a frame without a face, flushed after every frame.
 */
#include "cli.h"
#include "csv.h"
#include "err.h"
#include "haar.h"
#include "image.h"
#include "model.h"
#include "tensor.h"
#include "track.h"

#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_CASCADE "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"
#define MODEL_NAME "fer4.safetensors"

struct cmdline {
	char **inputs;
	int ninputs;
	const char *model;
	const char *cascade;
	struct vb_haar_params hp;
	double margin;
	int json;
	double smooth;        /* time constant in frames (0: off) */
	int smooth_seconds;   /* --smooth was given in seconds */
	double smooth_arg;
	double fps;
	int redetect;         /* whole-frame search period in streams */
	const char *annotate;
	int detect_only;
};

/* ---------------------------------------------------------------------- */
/* Command line */

static const char doc[] =
	"Detect faces in images or streams of frames and classify their emotion.\n\n"
	"Each FILE (or stdin when none, or '-') is a PNG, JPEG or PNM image, a stream of PNM "
	"frames back to back (ffmpeg -f image2pipe -c:v ppm), or a .npy stream of face crops "
	"(fer-prep's output: crops are classified without detection).  Writes the emotions CSV "
	"frame,face,x,y,w,h,<class probabilities>,emotion to stdout, one row per face and a "
	"'none' row for a frame without a face, flushed after every frame."
	"\vExit status: 0 success, 2 bad data or a runtime error (every input is still tried), "
	"64 usage.";

enum {
	OPT_CASCADE = 0x100, OPT_SCALE, OPT_NEIGH, OPT_MINSIZE, OPT_MAXSIZE, OPT_MARGIN,
	OPT_JSON, OPT_SMOOTH, OPT_FPS, OPT_REDETECT, OPT_ANNOTATE, OPT_NOSIMD, OPT_DETECT
};

static const struct argp_option options[] = {
	{ "model", 'm', "FILE", 0, "Emotion model (default: models/" MODEL_NAME " beside the program's "
	  "directory, or under ../share/vibify or " VB_DATADIR ")", 0 },
	{ "cascade", OPT_CASCADE, "FILE", 0, "OpenCV cascade XML, Haar or LBP (default: "
	  DEFAULT_CASCADE ")", 0 },
	{ "scale-factor", OPT_SCALE, "F", 0, "Scale step of the face search, > 1 (default: 1.1)", 0 },
	{ "min-neighbors", OPT_NEIGH, "N", 0, "Keep faces of more than N hits (default: 3)", 0 },
	{ "min-size", OPT_MINSIZE, "WxH", 0, "Smallest face searched, W or WxH pixels (default: 0, "
	  "the cascade's window)", 0 },
	{ "max-size", OPT_MAXSIZE, "WxH", 0, "Largest face searched (default: 0, the whole image)", 0 },
	{ "margin", OPT_MARGIN, "F", 0, "Widen each face box by F times its size on every side "
	  "before cropping (default: 0)", 0 },
	{ "json", OPT_JSON, 0, 0, "Write JSON lines instead of CSV (default: CSV)", 0 },
	{ "smooth", OPT_SMOOTH, "T", 0, "Exponential smoothing of each followed face's "
	  "probabilities with time constant T frames, or T seconds as 'Ts' (default: 0, off)", 0 },
	{ "fps", OPT_FPS, "R", 0, "Frame rate for --smooth in seconds (default: 30)", 0 },
	{ "redetect", OPT_REDETECT, "N", 0, "In streams, search the whole frame every N frames "
	  "and near the last faces in between; 1 searches every frame fully (default: 8)", 0 },
	{ "annotate", OPT_ANNOTATE, "FILE.png", 0, "Draw the boxes and labels on the (last) "
	  "frame and write it as PNG (default: none)", 0 },
	{ "detect-only", OPT_DETECT, 0, 0, "Only find faces: rows frame,face,x,y,w,h, no model "
	  "needed (default: classify)", 0 },
	{ "no-simd", OPT_NOSIMD, 0, OPTION_HIDDEN, "Use the plain detector", 0 },
	{ 0 }
};

static void parse_size(struct argp_state *st, const char *opt, const char *arg, int *w, int *h)
{
	char *end;
	long a, b;

	errno = 0;
	a = strtol(arg, &end, 10);
	if (end == arg || errno || a < 0 || a > 100000)
		argp_error(st, "invalid %s '%s': expected W or WxH", opt, arg);
	b = a;
	if (*end == 'x' || *end == 'X') {
		const char *s = end + 1;
		b = strtol(s, &end, 10);
		if (end == s || errno || b < 0 || b > 100000)
			argp_error(st, "invalid %s '%s': expected W or WxH", opt, arg);
	}
	if (*end)
		argp_error(st, "invalid %s '%s': expected W or WxH", opt, arg);
	*w = (int)a;
	*h = (int)b;
}

static error_t parse_opt(int key, char *arg, struct argp_state *st)
{
	struct cmdline *cl = st->input;

	switch (key) {
	case 'm':
		cl->model = arg;
		return 0;
	case OPT_CASCADE:
		cl->cascade = arg;
		return 0;
	case OPT_SCALE:
		cl->hp.scale_factor = vb_arg_double(st, "--scale-factor", arg, 1.0001, 10);
		return 0;
	case OPT_NEIGH:
		cl->hp.min_neighbors = (int)vb_arg_long(st, "--min-neighbors", arg, 0, 1000);
		return 0;
	case OPT_MINSIZE:
		parse_size(st, "--min-size", arg, &cl->hp.min_w, &cl->hp.min_h);
		return 0;
	case OPT_MAXSIZE:
		parse_size(st, "--max-size", arg, &cl->hp.max_w, &cl->hp.max_h);
		return 0;
	case OPT_MARGIN:
		cl->margin = vb_arg_double(st, "--margin", arg, 0, 2);
		return 0;
	case OPT_JSON:
		cl->json = 1;
		return 0;
	case OPT_SMOOTH: {
		size_t n = strlen(arg);
		char buf[64];
		if (n > 0 && n < sizeof buf && arg[n - 1] == 's') {
			memcpy(buf, arg, n - 1);
			buf[n - 1] = 0;
			cl->smooth_arg = vb_arg_double(st, "--smooth", buf, 0, 1e6);
			cl->smooth_seconds = 1;
		} else {
			cl->smooth_arg = vb_arg_double(st, "--smooth", arg, 0, 1e6);
			cl->smooth_seconds = 0;
		}
		return 0;
	}
	case OPT_FPS:
		cl->fps = vb_arg_double(st, "--fps", arg, 0.001, 1e6);
		return 0;
	case OPT_REDETECT:
		cl->redetect = (int)vb_arg_long(st, "--redetect", arg, 1, 1000000);
		return 0;
	case OPT_ANNOTATE:
		cl->annotate = arg;
		return 0;
	case OPT_DETECT:
		cl->detect_only = 1;
		return 0;
	case OPT_NOSIMD:
		cl->hp.simd = 0;
		return 0;
	case ARGP_KEY_ARG:
		cl->inputs = realloc(cl->inputs, (size_t)(cl->ninputs + 1) * sizeof *cl->inputs);
		if (!cl->inputs)
			vb_fatal(VB_EXIT_DATA, "out of memory");
		cl->inputs[cl->ninputs++] = arg;
		return 0;
	case ARGP_KEY_END:
		if (cl->hp.min_w && cl->hp.max_w && (cl->hp.min_w > cl->hp.max_w || cl->hp.min_h > cl->hp.max_h))
			argp_error(st, "--min-size is larger than --max-size");
		if (cl->detect_only && (cl->annotate || cl->smooth_arg > 0))
			argp_error(st, "--detect-only excludes --annotate and --smooth");
		if (cl->annotate && cl->ninputs > 1)
			argp_error(st, "--annotate takes a single input");
		return 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

static void parse_cmdline(int argc, char **argv, struct cmdline *cl)
{
	static const struct argp_child children[] = { { &vb_common_argp, 0, "Common options:", 0 }, { 0 } };
	static const struct argp argp = { options, parse_opt, "[FILE...]", doc, children, 0, 0 };

	memset(cl, 0, sizeof *cl);
	vb_haar_params_init(&cl->hp);
	cl->cascade = DEFAULT_CASCADE;
	cl->fps = 30;
	cl->redetect = 8;
	argp_parse(&argp, argc, argv, 0, 0, cl);
	cl->smooth = cl->smooth_seconds ? cl->smooth_arg * cl->fps : cl->smooth_arg;
	cl->hp.threads = vb_opt.threads;
}

/* ---------------------------------------------------------------------- */
/* State shared by every frame */

struct face_state {
	long id;
	float *p;
};

struct ctx {
	struct cmdline *cl;
	struct vb_model *model;
	struct vb_haar *cascade;
	struct vb_tracker *tracker;
	int ncls, in_h, in_w;
	long frame;             /* next frame number */
	long faces;
	double t_det, t_cls;    /* seconds, totals */
	long n_det;
	/* smoothing */
	struct face_state *fs;
	int nfs;
	/* accuracy of labelled crops (-v) */
	long lab_right, lab_total;
	int *pending_pred;      /* predictions of the last crop array */
	long npending;
	/* annotation */
	struct vb_image *last;
	struct vb_rect *last_boxes;
	int *last_cls;
	float *last_p;
	int last_n;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Shortest decimal that reads back to the same float. */
static char *fmt_float(char *buf, float v)
{
	for (int prec = 6; prec <= 9; prec++) {
		snprintf(buf, 32, "%.*g", prec, (double)v);
		if (strtof(buf, NULL) == v)
			break;
	}
	return buf;
}

static void json_str(FILE *f, const char *s)
{
	putc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			putc(ch, f);
	}
	putc('"', f);
}

static int argmax(const float *p, int n)
{
	int b = 0;
	for (int i = 1; i < n; i++)
		if (p[i] > p[b])
			b = i;
	return b;
}

static void write_header(struct ctx *c)
{
	if (c->cl->json)
		return;
	const char *f[6] = { "frame", "face", "x", "y", "w", "h" };
	if (c->cl->detect_only) {
		fputs("frame,face,x,y,w,h\n", stdout);
		return;
	}
	for (int i = 0; i < 6; i++) {
		vb_csv_write_field(stdout, f[i]);
		putchar(',');
	}
	for (int i = 0; i < c->ncls; i++) {
		vb_csv_write_field(stdout, vb_model_class_name(c->model, i));
		putchar(',');
	}
	fputs("emotion\n", stdout);
}

static void write_row(struct ctx *c, long frame, int face, const struct vb_rect *r, const float *p)
{
	char b[32];

	if (c->cl->detect_only) {
		if (c->cl->json && r)
			printf("{\"frame\":%ld,\"face\":%d,\"x\":%d,\"y\":%d,\"w\":%d,\"h\":%d}\n",
			       frame, face, r->x, r->y, r->w, r->h);
		else if (c->cl->json)
			printf("{\"frame\":%ld,\"face\":null}\n", frame);
		else if (r)
			printf("%ld,%d,%d,%d,%d,%d\n", frame, face, r->x, r->y, r->w, r->h);
		else
			printf("%ld,,,,,\n", frame);
		return;
	}
	if (c->cl->json) {
		if (!r) {
			printf("{\"frame\":%ld,\"face\":null,\"emotion\":\"none\"}\n", frame);
			return;
		}
		printf("{\"frame\":%ld,\"face\":%d,\"x\":%d,\"y\":%d,\"w\":%d,\"h\":%d,\"probs\":{",
		       frame, face, r->x, r->y, r->w, r->h);
		for (int i = 0; i < c->ncls; i++) {
			if (i)
				putchar(',');
			json_str(stdout, vb_model_class_name(c->model, i));
			printf(":%s", fmt_float(b, p[i]));
		}
		fputs("},\"emotion\":", stdout);
		json_str(stdout, vb_model_class_name(c->model, argmax(p, c->ncls)));
		fputs("}\n", stdout);
		return;
	}
	if (!r) {
		printf("%ld,,,,,", frame);
		for (int i = 0; i < c->ncls; i++)
			putchar(',');
		fputs(",none\n", stdout);
		return;
	}
	printf("%ld,%d,%d,%d,%d,%d", frame, face, r->x, r->y, r->w, r->h);
	for (int i = 0; i < c->ncls; i++)
		printf(",%s", fmt_float(b, p[i]));
	putchar(',');
	vb_csv_write_field(stdout, vb_model_class_name(c->model, argmax(p, c->ncls)));
	putchar('\n');
}

/* ---------------------------------------------------------------------- */
/* Frames */

/* Crop box r widened by the margin, as gray pixels of the model's size. */
static int face_pixels(struct ctx *c, const struct vb_image *gray, const struct vb_rect *r, uint8_t *out)
{
	int mx = (int)lrint(r->w * c->cl->margin), my = (int)lrint(r->h * c->cl->margin);
	struct vb_image *crop = vb_image_crop(gray, r->x - mx, r->y - my, r->w + 2 * mx, r->h + 2 * my);
	if (!crop)
		return -1;
	struct vb_image *small = vb_image_resize(crop, c->in_w, c->in_h);
	vb_image_free(crop);
	if (!small)
		return -1;
	memcpy(out, small->px, (size_t)c->in_w * c->in_h);
	vb_image_free(small);
	return 0;
}

/* Smoothed probabilities of face id (new faces start from p). */
static int smooth(struct ctx *c, long id, int age, float *p)
{
	if (!(c->cl->smooth > 0))
		return 0;
	struct face_state *s = NULL;
	for (int i = 0; i < c->nfs; i++)
		if (c->fs[i].id == id)
			s = &c->fs[i];
	if (!s) {
		void *n = realloc(c->fs, (size_t)(c->nfs + 1) * sizeof *c->fs);
		if (!n)
			return vb_err_set("out of memory");
		c->fs = n;
		s = &c->fs[c->nfs++];
		s->id = id;
		s->p = malloc((size_t)c->ncls * sizeof *s->p);
		if (!s->p)
			return vb_err_set("out of memory");
		age = 0;
	}
	if (age == 0) {
		memcpy(s->p, p, (size_t)c->ncls * sizeof *p);
		return 0;
	}
	float a = (float)(1.0 - exp(-1.0 / c->cl->smooth));
	for (int i = 0; i < c->ncls; i++)
		p[i] = s->p[i] = a * p[i] + (1 - a) * s->p[i];
	return 0;
}

/* Forget the smoothing state of faces no longer followed. */
static void prune_states(struct ctx *c, const struct vb_track_face *f, int n)
{
	int k = 0;
	for (int i = 0; i < c->nfs; i++) {
		int keep = 0;
		for (int j = 0; j < n; j++)
			if (f[j].id == c->fs[i].id)
				keep = 1;
		if (keep)
			c->fs[k++] = c->fs[i];
		else
			free(c->fs[i].p);
	}
	c->nfs = k;
}

static int process_frame(struct ctx *c, struct vb_image *img)
{
	struct vb_image *gray = img->channels == 1 ? img : vb_image_to_gray(img);
	const struct vb_track_face *faces;
	int full = 1, rc = -1;
	uint8_t *px = NULL;
	float *probs = NULL;
	long frame = c->frame++;

	if (!gray)
		return -1;
	double t0 = now();
	int n = vb_tracker_next(c->tracker, gray->px, gray->w, gray->h, gray->w, &faces, &full);
	double t1 = now();
	if (n < 0)
		goto out;
	size_t np = (size_t)c->in_w * c->in_h;
	px = malloc((size_t)(n ? n : 1) * np);
	probs = malloc((size_t)(n ? n : 1) * c->ncls * sizeof *probs);
	if (!px || !probs) {
		vb_err_set("out of memory");
		goto out;
	}
	for (int i = 0; i < n && !c->cl->detect_only; i++)
		if (face_pixels(c, gray, &faces[i].box, px + i * np) < 0)
			goto out;
	if (n && !c->cl->detect_only && vb_model_predict(c->model, px, n, probs) < 0)
		goto out;
	prune_states(c, faces, n);
	for (int i = 0; i < n; i++)
		if (smooth(c, faces[i].id, faces[i].age, probs + (size_t)i * c->ncls) < 0)
			goto out;
	double t2 = now();
	c->t_det += t1 - t0;
	c->t_cls += t2 - t1;
	c->n_det++;
	c->faces += n;
	if (n == 0)
		write_row(c, frame, 0, NULL, NULL);
	for (int i = 0; i < n; i++)
		write_row(c, frame, i, &faces[i].box, probs + (size_t)i * c->ncls);
	if (vb_flush_stdout() < 0) {
		vb_err_sys("write error");
		goto out;
	}
	vb_info("frame %ld: %d face%s, detection %.2f ms%s, classification %.2f ms", frame, n,
	        n == 1 ? "" : "s", (t1 - t0) * 1e3,
	        full ? "" : n ? " (near last faces)" : " (none in view; whole frame searched every "
	        "--redetect frames)", (t2 - t1) * 1e3);
	if (c->cl->annotate) {
		vb_image_free(c->last);
		c->last = img;
		img = NULL;
		free(c->last_boxes);
		free(c->last_p);
		c->last_boxes = malloc((size_t)(n ? n : 1) * sizeof *c->last_boxes);
		c->last_p = probs;
		probs = NULL;
		if (!c->last_boxes) {
			vb_err_set("out of memory");
			goto out;
		}
		for (int i = 0; i < n; i++)
			c->last_boxes[i] = faces[i].box;
		c->last_n = n;
	}
	rc = 0;
out:
	if (gray != img && !(img == NULL && gray == c->last))
		vb_image_free(gray);
	free(px);
	free(probs);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Face crops (.npy) */

#define BATCH 256

static void score_labels(struct ctx *c, const int64_t *y, long n)
{
	for (long i = 0; i < n && i < c->npending; i++) {
		c->lab_total++;
		if (c->pending_pred[i] == y[i])
			c->lab_right++;
	}
	c->npending = 0;
}

static int process_crops(struct ctx *c, FILE *f, const char *name)
{
	struct vb_npy_header h;
	int r;
	long arrays = 0;

	while ((r = vb_npy_read_header(f, &h, 0)) == 1) {
		arrays++;
		if ((h.dtype == VB_I64 || h.dtype == VB_I32 || h.dtype == VB_U8 || h.dtype == VB_I8) && h.ndim == 1) {
			/* labels of the crops just read: scored with -v, else ignored */
			void *buf = malloc(h.nbytes ? h.nbytes : 1);
			int64_t *y = malloc((size_t)(h.count ? h.count : 1) * sizeof *y);
			if (!buf || !y) {
				free(buf);
				free(y);
				return vb_err_set("out of memory");
			}
			if (vb_npy_read_data(f, buf, h.nbytes) < 0) {
				free(buf);
				free(y);
				return vb_err_prefix("%s: array %ld", name, arrays);
			}
			for (int64_t i = 0; i < h.count; i++)
				y[i] = h.dtype == VB_I64 ? ((int64_t *)buf)[i] : h.dtype == VB_I32 ? ((int32_t *)buf)[i]
				     : h.dtype == VB_U8 ? ((uint8_t *)buf)[i] : ((int8_t *)buf)[i];
			score_labels(c, y, (long)h.count);
			free(buf);
			free(y);
			continue;
		}
		if (h.dtype != VB_U8 || (h.ndim != 3 && h.ndim != 2))
			return vb_err_set("%s: array %ld: expected face crops (|u1, N x H x W), got %s with %d dimensions",
			                  name, arrays, vb_dtype_descr(h.dtype), h.ndim);
		int64_t n = h.ndim == 3 ? h.shape[0] : 1;
		int64_t ch = h.shape[h.ndim - 2], cw = h.shape[h.ndim - 1];
		if (ch <= 0 || cw <= 0 || ch > VB_IMAGE_MAXDIM || cw > VB_IMAGE_MAXDIM) {
			if (n == 0)
				continue;
			return vb_err_set("%s: array %ld: bad crop size %lld x %lld", name, arrays,
			                  (long long)ch, (long long)cw);
		}
		size_t cp = (size_t)(ch * cw), np = (size_t)c->in_w * c->in_h;
		uint8_t *raw = malloc(BATCH * cp), *px = malloc(BATCH * np);
		float *probs = malloc((size_t)BATCH * c->ncls * sizeof *probs);
		int *pred = realloc(c->pending_pred, (size_t)(n ? n : 1) * sizeof *pred);
		if (!raw || !px || !probs || !pred) {
			free(raw); free(px); free(probs);
			if (pred)
				c->pending_pred = pred;
			return vb_err_set("out of memory");
		}
		c->pending_pred = pred;
		c->npending = 0;
		int err = 0;
		for (int64_t done = 0; done < n && !err;) {
			int k = n - done < BATCH ? (int)(n - done) : BATCH;
			double t0 = now();
			/* crop by crop, so a truncated stream still gives the rows before */
			for (int i = 0; i < k; i++)
				if (vb_npy_read_data(f, raw + i * cp, cp) < 0) {
					vb_err_prefix("%s: crop %lld (frame %ld)", name, (long long)(done + i),
					              c->frame + i);
					err = 2;
					k = i;
					break;
				}
			if (k == 0)
				break;
			for (int i = 0; i < k && err != 1; i++) {
				if ((int)ch == c->in_h && (int)cw == c->in_w) {
					memcpy(px + i * np, raw + i * cp, np);
					continue;
				}
				struct vb_image src = { (int)cw, (int)ch, 1, raw + i * cp };
				struct vb_image *s = vb_image_resize(&src, c->in_w, c->in_h);
				if (!s) {
					err = 1;
					break;
				}
				memcpy(px + i * np, s->px, np);
				vb_image_free(s);
			}
			if (err == 1)
				break;
			char saved[VB_ERR_MAX];
			snprintf(saved, sizeof saved, "%s", vb_err_msg());
			if (vb_model_predict(c->model, px, k, probs) < 0) {
				err = 1;
				break;
			}
			c->t_cls += now() - t0;
			for (int i = 0; i < k; i++) {
				struct vb_rect r = { 0, 0, (int)cw, (int)ch };
				const float *p = probs + (size_t)i * c->ncls;
				pred[done + i] = argmax(p, c->ncls);
				write_row(c, c->frame++, 0, &r, p);
			}
			c->faces += k;
			c->npending = done + k;
			done += k;
			if (vb_flush_stdout() < 0) {
				vb_err_sys("write error");
				err = 1;
			} else if (err == 2) {
				vb_err_set("%s", saved);
			}
		}
		free(raw);
		free(px);
		free(probs);
		if (err)
			return -1;
	}
	if (r < 0)
		return vb_err_prefix("%s", name);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Annotation: boxes and labels in a 5 x 7 bitmap font */

static const struct { char ch; uint8_t rows[7]; } font[] = {
	{'a', {0x00, 0x00, 0x0e, 0x01, 0x0f, 0x11, 0x0f}}, {'b', {0x10, 0x10, 0x1e, 0x11, 0x11, 0x11, 0x1e}},
	{'c', {0x00, 0x00, 0x0e, 0x10, 0x10, 0x10, 0x0e}}, {'d', {0x01, 0x01, 0x0f, 0x11, 0x11, 0x11, 0x0f}},
	{'e', {0x00, 0x00, 0x0e, 0x11, 0x1f, 0x10, 0x0e}}, {'f', {0x06, 0x08, 0x1c, 0x08, 0x08, 0x08, 0x08}},
	{'g', {0x00, 0x0f, 0x11, 0x11, 0x0f, 0x01, 0x0e}}, {'h', {0x10, 0x10, 0x1e, 0x11, 0x11, 0x11, 0x11}},
	{'i', {0x04, 0x00, 0x0c, 0x04, 0x04, 0x04, 0x0e}}, {'j', {0x02, 0x00, 0x06, 0x02, 0x02, 0x12, 0x0c}},
	{'k', {0x10, 0x10, 0x12, 0x14, 0x18, 0x14, 0x12}}, {'l', {0x0c, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e}},
	{'m', {0x00, 0x00, 0x1a, 0x15, 0x15, 0x15, 0x15}}, {'n', {0x00, 0x00, 0x1e, 0x11, 0x11, 0x11, 0x11}},
	{'o', {0x00, 0x00, 0x0e, 0x11, 0x11, 0x11, 0x0e}}, {'p', {0x00, 0x1e, 0x11, 0x11, 0x1e, 0x10, 0x10}},
	{'q', {0x00, 0x0f, 0x11, 0x11, 0x0f, 0x01, 0x01}}, {'r', {0x00, 0x00, 0x16, 0x19, 0x10, 0x10, 0x10}},
	{'s', {0x00, 0x00, 0x0f, 0x10, 0x0e, 0x01, 0x1e}}, {'t', {0x08, 0x08, 0x1c, 0x08, 0x08, 0x09, 0x06}},
	{'u', {0x00, 0x00, 0x11, 0x11, 0x11, 0x13, 0x0d}}, {'v', {0x00, 0x00, 0x11, 0x11, 0x11, 0x0a, 0x04}},
	{'w', {0x00, 0x00, 0x11, 0x15, 0x15, 0x15, 0x0a}}, {'x', {0x00, 0x00, 0x11, 0x0a, 0x04, 0x0a, 0x11}},
	{'y', {0x00, 0x11, 0x11, 0x11, 0x0f, 0x01, 0x0e}}, {'z', {0x00, 0x00, 0x1f, 0x02, 0x04, 0x08, 0x1f}},
	{'0', {0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e}}, {'1', {0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e}},
	{'2', {0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f}}, {'3', {0x1f, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0e}},
	{'4', {0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02}}, {'5', {0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e}},
	{'6', {0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e}}, {'7', {0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}},
	{'8', {0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e}}, {'9', {0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c}},
	{'.', {0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x0c}}, {'%', {0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03}},
	{'-', {0x00, 0x00, 0x00, 0x1f, 0x00, 0x00, 0x00}}, {'_', {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1f}},
};

static void put_px(struct vb_image *im, int x, int y, const uint8_t rgb[3])
{
	if (x < 0 || y < 0 || x >= im->w || y >= im->h)
		return;
	uint8_t *p = im->px + ((size_t)y * im->w + x) * 3;
	p[0] = rgb[0];
	p[1] = rgb[1];
	p[2] = rgb[2];
}

static void fill(struct vb_image *im, int x0, int y0, int w, int h, const uint8_t rgb[3])
{
	for (int y = y0; y < y0 + h; y++)
		for (int x = x0; x < x0 + w; x++)
			put_px(im, x, y, rgb);
}

static void text(struct vb_image *im, int x, int y, int sc, const char *s, const uint8_t rgb[3])
{
	for (; *s; s++, x += 6 * sc) {
		int ch = *s >= 'A' && *s <= 'Z' ? *s - 'A' + 'a' : *s;
		for (size_t g = 0; g < sizeof font / sizeof font[0]; g++) {
			if (font[g].ch != ch)
				continue;
			for (int r = 0; r < 7; r++)
				for (int b = 0; b < 5; b++)
					if (font[g].rows[r] >> (4 - b) & 1)
						fill(im, x + b * sc, y + r * sc, sc, sc, rgb);
		}
	}
}

static int write_annotation(struct ctx *c)
{
	static const uint8_t green[3] = { 40, 220, 60 }, dark[3] = { 0, 0, 0 }, white[3] = { 255, 255, 255 };
	struct vb_image *im;

	if (!c->last)
		return vb_err_set("%s: no frame to annotate", c->cl->annotate);
	if (c->last->channels == 3) {
		im = c->last;
	} else {
		im = vb_image_new(c->last->w, c->last->h, 3);
		if (!im)
			return -1;
		for (size_t i = 0; i < (size_t)im->w * im->h; i++)
			im->px[3 * i] = im->px[3 * i + 1] = im->px[3 * i + 2] = c->last->px[i];
	}
	for (int i = 0; i < c->last_n; i++) {
		const struct vb_rect *r = &c->last_boxes[i];
		const float *p = c->last_p + (size_t)i * c->ncls;
		int t = r->w >= 120 ? 3 : 2;
		fill(im, r->x, r->y, r->w, t, green);
		fill(im, r->x, r->y + r->h - t, r->w, t, green);
		fill(im, r->x, r->y, t, r->h, green);
		fill(im, r->x + r->w - t, r->y, t, r->h, green);
		int k = argmax(p, c->ncls);
		char label[96];
		snprintf(label, sizeof label, "%.60s %d%%", vb_model_class_name(c->model, k), (int)lrintf(p[k] * 100));
		int sc = r->w >= 160 ? 2 : 1, tw = (int)strlen(label) * 6 * sc + 2 * sc, th = 9 * sc;
		int ty = r->y - th >= 0 ? r->y - th : r->y + r->h;
		fill(im, r->x, ty, tw, th, dark);
		text(im, r->x + sc, ty + sc, sc, label, white);
	}
	FILE *f = fopen(c->cl->annotate, "wb");
	int rc = 0;
	if (!f)
		rc = vb_err_sys("cannot open '%s'", c->cl->annotate);
	else if (vb_image_write_png(f, im) < 0) {
		vb_err_prefix("%s", c->cl->annotate);
		fclose(f);
		rc = -1;
	} else if (fclose(f) == EOF)
		rc = vb_err_sys("cannot write '%s'", c->cl->annotate);
	if (im != c->last)
		vb_image_free(im);
	return rc;
}

/* ---------------------------------------------------------------------- */

/* One input: an image, a frame stream or crops.  0, or -1 with the error
 * set (rows already written stay). */
static int process_input(struct ctx *c, FILE *f, const char *name)
{
	int ch = getc(f);

	if (ch == EOF) {
		if (ferror(f))
			return vb_err_sys("cannot read '%s'", name);
		return vb_err_set("%s: empty input", name);
	}
	ungetc(ch, f);
	if (ch == 0x93) {
		if (c->cl->detect_only)
			return vb_err_set("%s: face crops (.npy) need no detection", name);
		return process_crops(c, f, name);
	}
	vb_tracker_reset(c->tracker);
	for (long k = 0;; k++) {
		struct vb_image *img;
		long frame = c->frame;
		/* gray is all that is needed but for drawing on the picture */
		int r = vb_image_read(f, c->cl->annotate ? 0 : VB_IMG_GRAY, &img);
		if (r == 0) {
			if (k == 0)
				return vb_err_set("%s: no image", name);
			return 0;
		}
		if (r < 0) {
			if (k == 0)
				return vb_err_prefix("%s", name);
			return vb_err_prefix("%s: frame %ld (stream frame %ld)", name, frame, k);
		}
		int rc = process_frame(c, img);
		if (img != c->last)
			vb_image_free(img);
		if (rc < 0)
			return vb_err_prefix("%s: frame %ld", name, frame);
	}
}

int main(int argc, char **argv)
{
	struct cmdline cl;
	struct ctx c = { 0 };
	int status = VB_EXIT_OK;
	double t_start;

	/* Every frame allocates the same large buffers (decoded image, integral
	 * images) and frees them.  Kept in the heap rather than handed back to
	 * the kernel, the next frame reuses them instead of mapping fresh
	 * memory: 2-3% less CPU on a 640x480 stream. */
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	vb_cli_init(argc, argv);
	parse_cmdline(argc, argv, &cl);
	c.cl = &cl;
	if (!cl.model)
		cl.model = vb_data_path("models/" MODEL_NAME);
	if (!cl.detect_only) {
		c.model = vb_model_load(cl.model);
		if (!c.model)
			vb_fatal(VB_EXIT_DATA, "%s", vb_err_msg());
		c.ncls = vb_model_nclasses(c.model);
		vb_model_input_size(c.model, &c.in_h, &c.in_w);
	} else {
		c.in_h = c.in_w = 1;
	}
	c.cascade = vb_haar_load(cl.cascade);
	if (!c.cascade)
		vb_fatal(VB_EXIT_DATA, "%s", vb_err_msg());
	c.tracker = vb_tracker_new(c.cascade, &cl.hp, cl.redetect);
	if (!c.tracker)
		vb_fatal(VB_EXIT_DATA, "%s", vb_err_msg());

	t_start = now();
	write_header(&c);
	int n = cl.ninputs ? cl.ninputs : 1;
	for (int i = 0; i < n; i++) {
		const char *name = cl.ninputs ? cl.inputs[i] : "-";
		int std = !strcmp(name, "-");
		FILE *f = std ? stdin : fopen(name, "rb");
		if (!f) {
			vb_warn("cannot open '%s': %s", name, strerror(errno));
			status = VB_EXIT_DATA;
			continue;
		}
		int rc = process_input(&c, f, std ? "stdin" : name);
		if (!std)
			fclose(f);
		if (rc < 0) {
			status = VB_EXIT_DATA;
			if (ferror(stdout))
				break;   /* reported once by vb_close_stdout() */
			vb_warn("%s", vb_err_msg());
		}
	}
	if (cl.annotate && status == VB_EXIT_OK && write_annotation(&c) < 0) {
		vb_warn("%s", vb_err_msg());
		status = VB_EXIT_DATA;
	}
	double el = now() - t_start;
	if (c.n_det)
		vb_info("%ld frames, %ld faces; mean per frame: detection %.2f ms, classification %.2f ms; "
		        "%.1f frames/s overall", c.n_det, c.faces, c.t_det / c.n_det * 1e3,
		        c.t_cls / c.n_det * 1e3, el > 0 ? c.n_det / el : 0.0);
	else if (c.faces)
		vb_info("%ld crops classified in %.2f s (%.3f ms each)", c.faces, c.t_cls,
		        c.t_cls / c.faces * 1e3);
	if (c.lab_total)
		vb_info("accuracy on labelled crops: %ld of %ld (%.2f%%)", c.lab_right, c.lab_total,
		        100.0 * c.lab_right / c.lab_total);

	for (int i = 0; i < c.nfs; i++)
		free(c.fs[i].p);
	free(c.fs);
	free(c.pending_pred);
	vb_image_free(c.last);
	free(c.last_boxes);
	free(c.last_p);
	free(cl.inputs);
	vb_tracker_free(c.tracker);
	vb_haar_free(c.cascade);
	vb_model_free(c.model);
	return vb_close_stdout(status);
}
