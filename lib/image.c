/* image.c - PNG (libpng), JPEG (libjpeg-turbo) and PNM decoding into 8-bit
 * gray or RGB, gray conversion, resizing, cropping, PNG and PNM writing.
 *
 * libpng and libjpeg report errors by calling a handler that must not
 * return; ours record the message with vb_err_set() and longjmp back to
 * the decoding function, which frees everything it allocated.  Neither
 * library prints anything.
 */
#include "image.h"
#include "err.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jerror.h>
#include <jpeglib.h>
#include <png.h>

/* libjpeg may use this much memory for one image (a progressive JPEG keeps
 * all its DCT coefficients); beyond it the image is rejected. */
#define JPEG_MEM_LIMIT (512L << 20)
/* A progressive JPEG with more scans than this is rejected (each scan costs
 * a pass over the whole image: a cheap way to make a decoder spin). */
#define JPEG_MAX_SCANS 1000

/* ---------------------------------------------------------------------- */
/* Images */

struct vb_image *vb_image_new(int w, int h, int channels)
{
	struct vb_image *img;

	if (w <= 0 || h <= 0 || w > VB_IMAGE_MAXDIM || h > VB_IMAGE_MAXDIM) {
		vb_err_set("invalid image size %dx%d", w, h);
		return NULL;
	}
	if (channels != 1 && channels != 3) {
		vb_err_set("invalid number of channels %d", channels);
		return NULL;
	}
	img = malloc(sizeof *img);
	if (!img) {
		vb_err_set("out of memory");
		return NULL;
	}
	img->w = w;
	img->h = h;
	img->channels = channels;
	img->px = calloc((size_t)w * (size_t)h, (size_t)channels);
	if (!img->px) {
		free(img);
		vb_err_set("out of memory for a %dx%d image", w, h);
		return NULL;
	}
	return img;
}

void vb_image_free(struct vb_image *img)
{
	if (!img)
		return;
	free(img->px);
	free(img);
}

static int check_dims(const char *fmt, long w, long h)
{
	if (w <= 0 || h <= 0)
		return vb_err_set("%s: invalid image size %ldx%ld", fmt, w, h);
	if (w > VB_IMAGE_MAXDIM || h > VB_IMAGE_MAXDIM || w * h > VB_IMAGE_MAXPIXELS)
		return vb_err_set("%s: image too large (%ldx%ld)", fmt, w, h);
	return 0;
}

/* PIL's convert('L'): ITU-R 601-2 luma in 16-bit fixed point. */
static inline uint8_t luma(unsigned r, unsigned g, unsigned b)
{
	return (uint8_t)((r * 19595u + g * 38470u + b * 7471u + 0x8000u) >> 16);
}

/* Composite a colour value c with alpha a over white. */
static inline uint8_t over_white(unsigned c, unsigned a)
{
	return (uint8_t)((c * a + 255u * (255u - a) + 127u) / 255u);
}

/* luma of n RGB pixels; vectorised (about twice as fast) */
__attribute__((target_clones("avx2", "default"), optimize("O3")))
static void gray_from_rgb(const uint8_t *rgb, uint8_t *g, size_t n)
{
	for (size_t i = 0; i < n; i++)
		g[i] = luma(rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]);
}

/* Convert one row of n pixels of `in_ch` 8-bit channels (1 gray, 2 gray +
 * alpha, 3 RGB, 4 RGBA) into `out_ch` channels (1 or 3). */
static void convert_row(uint8_t *out, int out_ch, const uint8_t *in, int in_ch, int n, int drop_alpha)
{
	int i;

	if (in_ch == 3 && out_ch == 1) {
		gray_from_rgb(in, out, (size_t)n);
		return;
	}
	for (i = 0; i < n; i++, in += in_ch) {
		unsigned r, g, b;

		switch (in_ch) {
		case 1:
			r = g = b = in[0];
			break;
		case 2:
			r = g = b = drop_alpha ? in[0] : over_white(in[0], in[1]);
			break;
		case 3:
			r = in[0], g = in[1], b = in[2];
			break;
		default:
			if (drop_alpha) {
				r = in[0], g = in[1], b = in[2];
			} else {
				r = over_white(in[0], in[3]);
				g = over_white(in[1], in[3]);
				b = over_white(in[2], in[3]);
			}
			break;
		}
		if (out_ch == 1) {
			*out++ = in_ch <= 2 ? (uint8_t)r : luma(r, g, b);
		} else {
			*out++ = (uint8_t)r;
			*out++ = (uint8_t)g;
			*out++ = (uint8_t)b;
		}
	}
}

/* Output channels for a source with `in_ch` channels under `flags`. */
static int out_channels(int in_ch, int flags)
{
	if (flags & VB_IMG_GRAY)
		return 1;
	if (flags & VB_IMG_RGB)
		return 3;
	return in_ch <= 2 ? 1 : 3;
}

/* ---------------------------------------------------------------------- */
/* Byte sources: a stream or a memory buffer. */

struct src {
	FILE *f;            /* stream, or NULL for memory */
	const uint8_t *buf; /* memory */
	size_t n, pos;
};

static inline int src_getc(struct src *s)
{
	if (s->f)
		return getc(s->f);
	return s->pos < s->n ? s->buf[s->pos++] : EOF;
}

static void src_ungetc(struct src *s, int c)
{
	if (c == EOF)
		return;
	if (s->f)
		ungetc(c, s->f);
	else
		s->pos--;
}

/* Read up to n bytes; returns the count read (short at EOF or error). */
static size_t src_read(struct src *s, void *dst, size_t n)
{
	size_t k;

	if (s->f)
		return fread(dst, 1, n, s->f);
	k = s->n - s->pos < n ? s->n - s->pos : n;
	memcpy(dst, s->buf + s->pos, k);
	s->pos += k;
	return k;
}

/* "truncated" or the stream's I/O error, as an error message. */
static int src_short(struct src *s, const char *what)
{
	if (s->f && ferror(s->f))
		return vb_err_sys("%s: read error", what);
	return vb_err_set("%s: truncated data", what);
}

/* ---------------------------------------------------------------------- */
/* PNM */

static int pnm_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Read an unsigned decimal after whitespace and comments; the character
 * after it is consumed if it is whitespace (one byte, as the binary formats
 * require after maxval) and pushed back otherwise. */
static int pnm_number(struct src *s, const char *what, long max, int need_space, long *out)
{
	int c, digits = 0;
	long v = 0;

	for (;;) {
		c = src_getc(s);
		if (c == '#') {
			while ((c = src_getc(s)) != EOF && c != '\n' && c != '\r')
				;
		}
		if (c == EOF)
			return src_short(s, "PNM");
		if (!pnm_space(c))
			break;
	}
	while (c >= '0' && c <= '9') {
		if (v > max)
			return vb_err_set("PNM: %s too large", what);
		v = v * 10 + (c - '0');
		digits++;
		c = src_getc(s);
	}
	if (!digits) {
		if (c == EOF)
			return src_short(s, "PNM");
		return vb_err_set("PNM: expected %s, found byte 0x%02x", what, c);
	}
	if (v > max)
		return vb_err_set("PNM: %s too large", what);
	if (need_space && !pnm_space(c))
		return c == EOF ? src_short(s, "PNM") : vb_err_set("PNM: expected one whitespace byte after %s", what);
	if (c != EOF && !pnm_space(c)) {
		if (c != '#')
			return vb_err_set("PNM: bad character 0x%02x after %s", c, what);
		src_ungetc(s, c);
	}
	*out = v;
	return 0;
}

/* Decode a PNM image whose two magic bytes have been read. */
static int pnm_decode(struct src *s, int kind, int flags, struct vb_image **out)
{
	long w, h, maxval, v;
	int in_ch = (kind == '3' || kind == '6') ? 3 : 1;
	int ascii = kind == '2' || kind == '3';
	int ch = out_channels(in_ch, flags);
	size_t rowlen, sbytes, x;
	struct vb_image *img;
	uint8_t *raw = NULL, *row = NULL;
	uint8_t *lut = NULL;
	int y;

	if (pnm_number(s, "width", VB_IMAGE_MAXDIM, 0, &w) || pnm_number(s, "height", VB_IMAGE_MAXDIM, 0, &h) ||
	    pnm_number(s, "maxval", 65535, !ascii, &maxval))
		return -1;
	if (check_dims("PNM", w, h))
		return -1;
	if (maxval < 1)
		return vb_err_set("PNM: invalid maxval 0");
	img = vb_image_new((int)w, (int)h, ch);
	if (!img)
		return -1;
	rowlen = (size_t)w * (size_t)in_ch;
	sbytes = maxval > 255 ? 2 : 1;
	row = malloc(rowlen);
	raw = ascii ? NULL : malloc(rowlen * sbytes);
	if (maxval != 255)
		lut = malloc((size_t)maxval + 1);
	if (!row || (!ascii && !raw) || (maxval != 255 && !lut)) {
		vb_err_set("out of memory");
		goto fail;
	}
	if (lut)
		for (v = 0; v <= maxval; v++)
			lut[v] = (uint8_t)((v * 255 + maxval / 2) / maxval);
	for (y = 0; y < h; y++) {
		if (ascii) {
			for (x = 0; x < rowlen; x++) {
				if (pnm_number(s, "sample", 65535, 0, &v))
					goto fail;
				if (v > maxval) {
					vb_err_set("PNM: sample %ld exceeds maxval %ld", v, maxval);
					goto fail;
				}
				row[x] = lut ? lut[v] : (uint8_t)v;
			}
		} else {
			if (src_read(s, raw, rowlen * sbytes) != rowlen * sbytes) {
				src_short(s, "PNM");
				goto fail;
			}
			if (maxval == 255) {   /* every byte a valid sample, as it is */
				convert_row(img->px + (size_t)y * (size_t)w * (size_t)ch, ch, raw, in_ch,
				            (int)w, 0);
				continue;
			}
			for (x = 0; x < rowlen; x++) {
				v = sbytes == 2 ? (long)raw[2 * x] << 8 | raw[2 * x + 1] : raw[x];
				if (v > maxval) {
					vb_err_set("PNM: sample %ld exceeds maxval %ld", v, maxval);
					goto fail;
				}
				row[x] = lut ? lut[v] : (uint8_t)v;
			}
		}
		convert_row(img->px + (size_t)y * (size_t)w * (size_t)ch, ch, row, in_ch, (int)w, 0);
	}
	free(lut);
	free(raw);
	free(row);
	*out = img;
	return 0;
fail:
	free(lut);
	free(raw);
	free(row);
	vb_image_free(img);
	return -1;
}

/* ---------------------------------------------------------------------- */
/* PNG */

struct png_ctx {
	struct src *src;
	jmp_buf jb;
	char warning[128];   /* the last warning, told with a later error */
};

static void png_error_fn(png_structp png, png_const_charp msg)
{
	struct png_ctx *c = png_get_error_ptr(png);

	if (c->warning[0])
		vb_err_set("PNG: %s (%s)", msg, c->warning);
	else
		vb_err_set("PNG: %s", msg);
	longjmp(c->jb, 1);
}

/* Warnings are not printed; the last one is kept in case an error follows
 * (libpng explains some errors, such as a size over the limits, only in a
 * warning just before). */
static void png_warning_fn(png_structp png, png_const_charp msg)
{
	struct png_ctx *c = png_get_error_ptr(png);

	if (c)
		snprintf(c->warning, sizeof c->warning, "%s", msg);
}

static void png_read_fn(png_structp png, png_bytep data, size_t n)
{
	struct png_ctx *c = png_get_io_ptr(png);

	if (src_read(c->src, data, n) != n) {
		src_short(c->src, "PNG");
		longjmp(c->jb, 1);
	}
}

/* The decoding state lives in this heap struct rather than in locals, so
 * that it keeps its values across the longjmp of an error. */
struct png_dec {
	struct png_ctx ctx;
	png_structp png;
	png_infop info;
	uint8_t *raw;    /* whole image (interlaced) or one row */
	uint8_t *row;    /* one row of 8-bit samples */
	struct vb_image *img;
};

static void png_dec_free(struct png_dec *p)
{
	png_destroy_read_struct(&p->png, p->info ? &p->info : NULL, NULL);
	free(p->raw);
	free(p->row);
	vb_image_free(p->img);
	free(p);
}

/* Decode a PNG whose 8-byte signature has been read and checked. */
static int png_decode(struct src *s, int flags, struct vb_image **out)
{
	struct png_dec *const p = calloc(1, sizeof *p);
	png_uint_32 w, h;
	int depth, ctype, interlace, passes, in_ch, ch, pass;
	size_t rowbytes, y, sw;

	if (!p)
		return vb_err_set("PNG: out of memory");
	p->ctx.src = s;
	p->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &p->ctx, png_error_fn, png_warning_fn);
	if (!p->png)
		return vb_err_set("PNG: out of memory");
	p->info = png_create_info_struct(p->png);
	if (!p->info) {
		png_dec_free(p);
		return vb_err_set("PNG: out of memory");
	}
	if (setjmp(p->ctx.jb)) {
		png_dec_free(p);
		return -1;
	}
	png_set_read_fn(p->png, &p->ctx, png_read_fn);
	png_set_sig_bytes(p->png, 8);
	png_set_user_limits(p->png, VB_IMAGE_MAXDIM, VB_IMAGE_MAXDIM);
	png_read_info(p->png, p->info);
	png_get_IHDR(p->png, p->info, &w, &h, &depth, &ctype, &interlace, NULL, NULL);
	if (check_dims("PNG", (long)w, (long)h))
		longjmp(p->ctx.jb, 1);
	png_set_expand(p->png);   /* palette -> RGB, gray < 8 bits -> 8, tRNS -> alpha */
	if (depth == 16)
		png_set_scale_16(p->png);
	passes = png_set_interlace_handling(p->png);
	png_read_update_info(p->png, p->info);
	in_ch = png_get_channels(p->png, p->info);
	rowbytes = png_get_rowbytes(p->png, p->info);
	if (in_ch < 1 || in_ch > 4 || png_get_bit_depth(p->png, p->info) != 8 || rowbytes != (size_t)w * in_ch)
		png_error_fn(p->png, "unexpected pixel layout");
	ch = out_channels(in_ch, flags);
	p->img = vb_image_new((int)w, (int)h, ch);
	if (!p->img)
		png_error_fn(p->png, "out of memory");
	sw = (size_t)w * (size_t)ch;
	if (passes > 1) {
		/* Adam7 needs the whole image before any row is final. */
		p->raw = malloc(rowbytes * h);
		if (!p->raw)
			png_error_fn(p->png, "out of memory");
		for (pass = 0; pass < passes; pass++)
			for (y = 0; y < h; y++)
				png_read_row(p->png, p->raw + y * rowbytes, NULL);
		for (y = 0; y < h; y++)
			convert_row(p->img->px + y * sw, ch, p->raw + y * rowbytes, in_ch, (int)w,
				    flags & VB_IMG_ALPHA_DROP);
	} else {
		p->raw = malloc(rowbytes);
		if (!p->raw)
			png_error_fn(p->png, "out of memory");
		for (y = 0; y < h; y++) {
			png_read_row(p->png, p->raw, NULL);
			convert_row(p->img->px + y * sw, ch, p->raw, in_ch, (int)w, flags & VB_IMG_ALPHA_DROP);
		}
	}
	png_read_end(p->png, NULL);
	*out = p->img;
	p->img = NULL;
	png_dec_free(p);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* JPEG */

struct jpeg_ctx {
	struct jpeg_error_mgr pub;
	jmp_buf jb;
};

/* Record libjpeg's message and leave through the longjmp. */
static void jpeg_fail(j_common_ptr ci)
{
	struct jpeg_ctx *c = (struct jpeg_ctx *)ci->err;
	char buf[JMSG_LENGTH_MAX];

	buf[0] = 0;
	(*ci->err->format_message)(ci, buf);
	vb_err_set("JPEG: %s", buf);
	longjmp(c->jb, 1);
}

/* Warnings (level -1) mean corrupt or truncated data: treat them as errors
 * rather than return a partly invented image.  Trace messages are ignored. */
static void jpeg_emit(j_common_ptr ci, int level)
{
	if (level < 0)
		jpeg_fail(ci);
}

static void jpeg_output(j_common_ptr ci)
{
	(void)ci;
}

static void jpeg_progress(j_common_ptr ci)
{
	j_decompress_ptr d = (j_decompress_ptr)ci;

	if (ci->is_decompressor && d->input_scan_number > JPEG_MAX_SCANS) {
		vb_err_set("JPEG: more than %d scans", JPEG_MAX_SCANS);
		longjmp(((struct jpeg_ctx *)ci->err)->jb, 1);
	}
}

struct vb_image_decoder {
	struct jpeg_decompress_struct ci;
	struct jpeg_ctx jerr;
	struct jpeg_progress_mgr prog;
	int ready;              /* ci created */
	uint8_t *row;           /* conversion row */
	size_t rowcap;
	struct vb_image *img;   /* image being decoded */
};

/* Create the libjpeg object; 0 or -1 (out of memory, reported by libjpeg). */
static int decoder_init(struct vb_image_decoder *d)
{
	d->ci.err = jpeg_std_error(&d->jerr.pub);
	d->jerr.pub.error_exit = jpeg_fail;
	d->jerr.pub.emit_message = jpeg_emit;
	d->jerr.pub.output_message = jpeg_output;
	if (setjmp(d->jerr.jb))
		return -1;
	jpeg_create_decompress(&d->ci);
	d->ready = 1;
	d->prog.progress_monitor = jpeg_progress;
	d->ci.progress = &d->prog;
	d->ci.mem->max_memory_to_use = JPEG_MEM_LIMIT;
	return 0;
}

struct vb_image_decoder *vb_image_decoder_new(void)
{
	struct vb_image_decoder *d = calloc(1, sizeof *d);

	if (!d) {
		vb_err_set("out of memory");
		return NULL;
	}
	if (decoder_init(d)) {
		free(d);
		return NULL;
	}
	return d;
}

void vb_image_decoder_free(struct vb_image_decoder *d)
{
	if (!d)
		return;
	if (d->ready)
		jpeg_destroy_decompress(&d->ci);
	free(d->row);
	vb_image_free(d->img);
	free(d);
}

static int jpeg_decode(struct vb_image_decoder *d, const uint8_t *buf, size_t n, int flags,
		       struct vb_image **out)
{
	j_decompress_ptr ci = &d->ci;
	int in_ch, ch;
	size_t sw;

	if (n > ULONG_MAX)
		return vb_err_set("JPEG: data too large");
	d->img = NULL;
	if (setjmp(d->jerr.jb)) {
		jpeg_abort_decompress(ci);
		vb_image_free(d->img);
		d->img = NULL;
		return -1;
	}
	jpeg_mem_src(ci, buf, (unsigned long)n);
	jpeg_read_header(ci, TRUE);
	if (ci->jpeg_color_space == JCS_CMYK || ci->jpeg_color_space == JCS_YCCK) {
		vb_err_set("JPEG: %s images are not supported",
			   ci->jpeg_color_space == JCS_CMYK ? "CMYK" : "YCCK");
		goto fail;
	}
	if (check_dims("JPEG", (long)ci->image_width, (long)ci->image_height))
		goto fail;
	if (ci->num_components == 1) {
		ci->out_color_space = JCS_GRAYSCALE;
		in_ch = 1;
	} else if (ci->num_components == 3) {
		ci->out_color_space = JCS_RGB;
		in_ch = 3;
	} else {
		vb_err_set("JPEG: unsupported number of components (%d)", ci->num_components);
		goto fail;
	}
	ch = out_channels(in_ch, flags);
	jpeg_start_decompress(ci);
	if ((int)ci->output_components != in_ch || ci->output_width != ci->image_width)
		ERREXIT(ci, JERR_BAD_STATE);
	d->img = vb_image_new((int)ci->output_width, (int)ci->output_height, ch);
	if (!d->img)
		goto fail;
	sw = (size_t)d->img->w * (size_t)ch;
	if (in_ch == ch) {
		while (ci->output_scanline < ci->output_height) {
			JSAMPROW r = d->img->px + ci->output_scanline * sw;
			jpeg_read_scanlines(ci, &r, 1);
		}
	} else {
		size_t need = (size_t)d->img->w * (size_t)in_ch;
		if (need > d->rowcap) {
			uint8_t *nr = realloc(d->row, need);
			if (!nr) {
				vb_err_set("out of memory");
				goto fail;
			}
			d->row = nr;
			d->rowcap = need;
		}
		while (ci->output_scanline < ci->output_height) {
			JSAMPROW r = d->row;
			size_t y = ci->output_scanline;
			jpeg_read_scanlines(ci, &r, 1);
			convert_row(d->img->px + y * sw, ch, d->row, in_ch, d->img->w, 0);
		}
	}
	jpeg_finish_decompress(ci);
	*out = d->img;
	d->img = NULL;
	return 0;
fail:
	jpeg_abort_decompress(ci);
	vb_image_free(d->img);
	d->img = NULL;
	return -1;
}

/* ---------------------------------------------------------------------- */
/* Format dispatch */

static const uint8_t png_sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };

static int unknown_format(int c0, int c1)
{
	if (c0 == 'P' && c1 >= '0' && c1 <= '9')
		return vb_err_set("unsupported PNM format P%c (only P2, P3, P5, P6)", c1);
	if (c1 == EOF)
		return vb_err_set("unknown image format (a single byte 0x%02x)", c0);
	return vb_err_set("unknown image format (first bytes 0x%02x 0x%02x)", c0, c1);
}

int vb_image_decode(struct vb_image_decoder *d, const void *buf, size_t n, int flags,
		    struct vb_image **out)
{
	const uint8_t *b = buf;
	struct src s = { NULL, b, n, 2 };
	int rc;

	*out = NULL;
	if (n == 0)
		return vb_err_set("empty file");
	if (n >= 2 && b[0] == 0xff && b[1] == 0xd8) {
		if (d)
			return jpeg_decode(d, b, n, flags, out);
		d = vb_image_decoder_new();
		if (!d)
			return -1;
		rc = jpeg_decode(d, b, n, flags, out);
		vb_image_decoder_free(d);
		return rc;
	}
	if (n >= 2 && b[0] == 'P' && (b[1] == '2' || b[1] == '3' || b[1] == '5' || b[1] == '6'))
		return pnm_decode(&s, b[1], flags, out);
	if (n >= 2 && b[0] == 0x89 && b[1] == 'P') {
		if (n < 8 || memcmp(b, png_sig, 8))
			return n < 8 ? vb_err_set("PNG: truncated data") : vb_err_set("PNG: bad signature");
		s.pos = 8;
		return png_decode(&s, flags, out);
	}
	return unknown_format(b[0], n >= 2 ? b[1] : EOF);
}

/* Read the rest of f after the two bytes c0 c1 into memory. */
static int slurp_stream(FILE *f, int c0, int c1, uint8_t **buf, size_t *n)
{
	size_t cap = 1 << 16, len = 2, k;
	uint8_t *b = malloc(cap), *nb;

	if (!b)
		return vb_err_set("out of memory");
	b[0] = (uint8_t)c0;
	b[1] = (uint8_t)c1;
	for (;;) {
		if (len == cap) {
			if (cap > SIZE_MAX / 2 || !(nb = realloc(b, cap * 2))) {
				free(b);
				return vb_err_set("out of memory");
			}
			b = nb;
			cap *= 2;
		}
		k = fread(b + len, 1, cap - len, f);
		len += k;
		if (k == 0)
			break;
	}
	if (ferror(f)) {
		free(b);
		return vb_err_sys("read error");
	}
	*buf = b;
	*n = len;
	return 0;
}

int vb_image_read(FILE *f, int flags, struct vb_image **out)
{
	struct src s = { f, NULL, 0, 0 };
	uint8_t sig[8];
	int c0, c1, rc;

	*out = NULL;
	do
		c0 = getc(f);
	while (c0 != EOF && pnm_space(c0));
	if (c0 == EOF)
		return ferror(f) ? vb_err_sys("read error") : 0;
	c1 = getc(f);
	if (c0 == 0xff && c1 == 0xd8) {
		uint8_t *buf = NULL;
		size_t n = 0;

		if (slurp_stream(f, c0, c1, &buf, &n))
			return -1;
		rc = vb_image_decode(NULL, buf, n, flags, out);
		free(buf);
		return rc < 0 ? -1 : 1;
	}
	if (c0 == 'P' && (c1 == '2' || c1 == '3' || c1 == '5' || c1 == '6'))
		return pnm_decode(&s, c1, flags, out) < 0 ? -1 : 1;
	if (c0 == 0x89 && c1 == 'P') {
		sig[0] = (uint8_t)c0;
		sig[1] = (uint8_t)c1;
		if (fread(sig + 2, 1, 6, f) != 6)
			return src_short(&s, "PNG");
		if (memcmp(sig, png_sig, 8))
			return vb_err_set("PNG: bad signature");
		return png_decode(&s, flags, out) < 0 ? -1 : 1;
	}
	if (c1 == EOF && ferror(f))
		return vb_err_sys("read error");
	return unknown_format(c0, c1);
}

int vb_image_slurp(const char *path, uint8_t **buf, size_t *n, size_t *cap)
{
	size_t have = cap && *buf ? *cap : 0, len = 0;
	uint8_t *b = have ? *buf : NULL, *nb;
	struct stat st;
	ssize_t k;
	int fd;

	memset(&st, 0, sizeof st);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vb_err_sys("cannot read '%s'", path);
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		errno = EISDIR;
		return vb_err_sys("cannot read '%s'", path);
	}
	for (;;) {
		if (len == have) {
			size_t want = have ? have * 2 : 1 << 16;
			if (S_ISREG(st.st_mode) && (size_t)st.st_size + 1 > want)
				want = (size_t)st.st_size + 1;
			if (!(nb = realloc(b, want))) {
				if (!cap)
					free(b);
				else
					*buf = b, *cap = have;
				close(fd);
				return vb_err_set("cannot read '%s': out of memory", path);
			}
			b = nb;
			have = want;
		}
		k = read(fd, b + len, have - len);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			vb_err_sys("cannot read '%s'", path);
			close(fd);
			if (!cap)
				free(b);
			else
				*buf = b, *cap = have;
			return -1;
		}
		if (k == 0)
			break;
		len += (size_t)k;
	}
	close(fd);
	*buf = b;
	*n = len;
	if (cap)
		*cap = have;
	return 0;
}

struct vb_image *vb_image_load(const char *path, int flags)
{
	struct vb_image *img = NULL;
	uint8_t *buf = NULL;
	size_t n;

	if (vb_image_slurp(path, &buf, &n, NULL))
		return NULL;
	if (vb_image_decode(NULL, buf, n, flags, &img)) {
		vb_err_prefix("%s", path);
		img = NULL;
	}
	free(buf);
	return img;
}

/* ---------------------------------------------------------------------- */
/* Conversion, resizing, cropping */

struct vb_image *vb_image_to_gray(const struct vb_image *src)
{
	struct vb_image *g = vb_image_new(src->w, src->h, 1);
	size_t n;

	if (!g)
		return NULL;
	n = (size_t)src->w * (size_t)src->h;
	if (src->channels == 1) {
		memcpy(g->px, src->px, n);
		return g;
	}
	gray_from_rgb(src->px, g->px, n);
	return g;
}

/* Weights of the source samples that make up each output sample along one
 * axis: output j is sum over k of wt[k] * in[idx[k]] for k in
 * [first[j], first[j+1]). */
struct axis {
	int *first;
	int *idx;
	double *wt;
};

static void axis_free(struct axis *a)
{
	free(a->first);
	free(a->idx);
	free(a->wt);
}

/* Area averaging (m < n): output j covers [j n/m, (j+1) n/m) of the input
 * and averages it, each input pixel weighted by its overlap.  Bilinear
 * (m > n): the centre of output j maps to x = (j + 0.5) n/m - 0.5, clamped
 * to [0, n-1], and interpolates its two neighbours. */
static int axis_make(struct axis *a, int n, int m)
{
	int j, k = 0, cap;

	if (m < n)
		cap = m * (n / m + 2);
	else
		cap = 2 * m;
	a->first = malloc(((size_t)m + 1) * sizeof *a->first);
	a->idx = malloc((size_t)cap * sizeof *a->idx);
	a->wt = malloc((size_t)cap * sizeof *a->wt);
	if (!a->first || !a->idx || !a->wt) {
		axis_free(a);
		return vb_err_set("out of memory");
	}
	for (j = 0; j < m; j++) {
		a->first[j] = k;
		if (m < n) {
			/* In units of 1/m of an input pixel, to stay exact:
			 * the interval is [j n, (j+1) n). */
			long lo = (long)j * n, hi = (long)(j + 1) * n;
			long i;
			for (i = lo / m; i * m < hi; i++) {
				long s = i * m > lo ? i * m : lo;
				long e = (i + 1) * m < hi ? (i + 1) * m : hi;
				a->idx[k] = (int)i;
				a->wt[k] = (double)(e - s) / (double)n;
				k++;
			}
		} else if (m == n) {
			a->idx[k] = j;
			a->wt[k] = 1.0;
			k++;
		} else {
			double x = ((double)j + 0.5) * n / m - 0.5;
			int i0;
			double f;
			if (x < 0)
				x = 0;
			if (x > n - 1)
				x = n - 1;
			i0 = (int)x;
			f = x - i0;
			a->idx[k] = i0;
			a->wt[k] = 1.0 - f;
			k++;
			if (f > 0 && i0 + 1 < n) {
				a->idx[k] = i0 + 1;
				a->wt[k] = f;
				k++;
			}
		}
	}
	a->first[m] = k;
	return 0;
}

struct vb_image *vb_image_resize(const struct vb_image *src, int w, int h)
{
	struct vb_image *dst;
	struct axis ax = { 0 }, ay = { 0 };
	double *tmp, *acc;
	int ch = src->channels, x, y, c, k;

	dst = vb_image_new(w, h, ch);
	if (!dst)
		return NULL;
	if (axis_make(&ax, src->w, w) || axis_make(&ay, src->h, h)) {
		axis_free(&ax);
		vb_image_free(dst);
		return NULL;
	}
	/* Horizontal pass into src->h rows of w * ch doubles. */
	tmp = malloc((size_t)src->h * (size_t)w * (size_t)ch * sizeof *tmp);
	acc = malloc((size_t)w * (size_t)ch * sizeof *acc);
	if (!tmp || !acc) {
		free(tmp);
		free(acc);
		axis_free(&ax);
		axis_free(&ay);
		vb_image_free(dst);
		vb_err_set("out of memory");
		return NULL;
	}
	for (y = 0; y < src->h; y++) {
		const uint8_t *in = src->px + (size_t)y * (size_t)src->w * (size_t)ch;
		double *o = tmp + (size_t)y * (size_t)w * (size_t)ch;
		for (x = 0; x < w; x++)
			for (c = 0; c < ch; c++) {
				double s = 0;
				for (k = ax.first[x]; k < ax.first[x + 1]; k++)
					s += ax.wt[k] * in[(size_t)ax.idx[k] * ch + c];
				o[x * ch + c] = s;
			}
	}
	for (y = 0; y < h; y++) {
		uint8_t *o = dst->px + (size_t)y * (size_t)w * (size_t)ch;
		for (x = 0; x < w * ch; x++)
			acc[x] = 0;
		for (k = ay.first[y]; k < ay.first[y + 1]; k++) {
			const double *r = tmp + (size_t)ay.idx[k] * (size_t)w * (size_t)ch;
			double wk = ay.wt[k];
			for (x = 0; x < w * ch; x++)
				acc[x] += wk * r[x];
		}
		for (x = 0; x < w * ch; x++) {
			double v = floor(acc[x] + 0.5 + 1e-9);
			o[x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
		}
	}
	free(tmp);
	free(acc);
	axis_free(&ax);
	axis_free(&ay);
	return dst;
}

struct vb_image *vb_image_crop(const struct vb_image *src, int x, int y, int w, int h)
{
	struct vb_image *dst = vb_image_new(w, h, src->channels);
	int ch = src->channels, i, j, sx, sy;

	if (!dst)
		return NULL;
	for (j = 0; j < h; j++) {
		long yy = (long)y + j;
		uint8_t *o = dst->px + (size_t)j * (size_t)w * (size_t)ch;
		const uint8_t *row;
		sy = yy < 0 ? 0 : yy >= src->h ? src->h - 1 : (int)yy;
		row = src->px + (size_t)sy * (size_t)src->w * (size_t)ch;
		for (i = 0; i < w; i++) {
			long xx = (long)x + i;
			sx = xx < 0 ? 0 : xx >= src->w ? src->w - 1 : (int)xx;
			memcpy(o + (size_t)i * ch, row + (size_t)sx * ch, (size_t)ch);
		}
	}
	return dst;
}

/* ---------------------------------------------------------------------- */
/* Writing */

int vb_image_write_pnm(FILE *f, const struct vb_image *img)
{
	size_t n = (size_t)img->w * (size_t)img->h * (size_t)img->channels;

	if (fprintf(f, "P%c\n%d %d\n255\n", img->channels == 1 ? '5' : '6', img->w, img->h) < 0 ||
	    fwrite(img->px, 1, n, f) != n)
		return vb_err_sys("write error");
	return 0;
}

struct png_wctx {
	FILE *f;
	jmp_buf jb;
	int syserr;
};

static void png_wwarning_fn(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg;
}

static void png_werror_fn(png_structp png, png_const_charp msg)
{
	struct png_wctx *c = png_get_error_ptr(png);

	if (!c->syserr)
		vb_err_set("PNG: %s", msg);
	longjmp(c->jb, 1);
}

static void png_write_fn(png_structp png, png_bytep data, size_t n)
{
	struct png_wctx *c = png_get_io_ptr(png);

	if (fwrite(data, 1, n, c->f) != n) {
		vb_err_sys("write error");
		c->syserr = 1;
		png_error(png, "write error");
	}
}

static void png_flush_fn(png_structp png)
{
	(void)png;
}

int vb_image_write_png(FILE *f, const struct vb_image *img)
{
	struct png_wctx c;
	png_structp png;
	png_infop info = NULL;
	size_t stride = (size_t)img->w * (size_t)img->channels;
	int y;

	memset(&c, 0, sizeof c);
	c.f = f;
	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &c, png_werror_fn, png_wwarning_fn);
	if (!png)
		return vb_err_set("PNG: out of memory");
	info = png_create_info_struct(png);
	if (!info) {
		png_destroy_write_struct(&png, NULL);
		return vb_err_set("PNG: out of memory");
	}
	if (setjmp(c.jb)) {
		png_destroy_write_struct(&png, &info);
		return -1;
	}
	png_set_write_fn(png, &c, png_write_fn, png_flush_fn);
	png_set_IHDR(png, info, (png_uint_32)img->w, (png_uint_32)img->h, 8,
		     img->channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (y = 0; y < img->h; y++)
		png_write_row(png, img->px + (size_t)y * stride);
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	return 0;
}
