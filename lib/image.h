/* image.h - decode PNG, JPEG and PNM into 8-bit gray or RGB; convert, resize,
 * and write PNG or PNM.
 *
 * The format is chosen from the first bytes of the data, never from a file
 * name.  PNM (P2 P3 P5 P6, maxval up to 65535) can come as several images
 * back to back, as ffmpeg's image2pipe writes them; PNG and JPEG are one
 * image per stream.  Nothing seeks, so pipes work.
 *
 * Decoding rules:
 * - PNG: every bit depth and colour type; palettes and tRNS are expanded;
 *   16-bit samples become 8-bit as round(v * 255 / 65535); alpha is
 *   composited over white, (c * a + 255 * (255 - a) + 127) / 255, unless
 *   VB_IMG_ALPHA_DROP.  Gamma and colour-profile chunks are ignored.
 * - JPEG: baseline, progressive, arithmetic, gray or YCbCr/RGB, decoded by
 *   libjpeg-turbo with its default settings (ISLOW DCT, fancy upsampling),
 *   so the pixels equal those of other libjpeg-turbo users such as PIL.
 *   CMYK and YCCK are rejected; a libjpeg warning (corrupt or truncated
 *   data) is an error.
 * - PNM: a maxval other than 255 is rescaled as round(v * 255 / maxval); a
 *   sample above maxval is an error.  Comments (#) are allowed wherever
 *   whitespace is.
 */
#ifndef VB_IMAGE_H
#define VB_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct vb_image {
	int w, h;
	int channels;   /* 1 gray, 3 RGB */
	uint8_t *px;    /* h rows of w * channels bytes, no padding */
};

/* A new black image; NULL with an error set on overflow or no memory. */
struct vb_image *vb_image_new(int w, int h, int channels);
/* Frees image and pixels; accepts NULL. */
void vb_image_free(struct vb_image *img);

enum vb_image_flags {
	VB_IMG_GRAY = 1,       /* convert to 1 channel (BT.601 luma) */
	VB_IMG_RGB = 2,        /* convert to 3 channels */
	VB_IMG_ALPHA_DROP = 4  /* drop alpha; default: composite over white */
};

/* Maximum width or height accepted by the decoders (larger is an error). */
#define VB_IMAGE_MAXDIM 32768
/* Maximum number of pixels (w * h) accepted by the decoders. */
#define VB_IMAGE_MAXPIXELS (1L << 28)

/* Decode the next image from f.  flags: VB_IMG_GRAY or VB_IMG_RGB (neither:
 * the file's own, gray or RGB), plus alpha handling.  Returns 1 with *out a
 * new image (caller frees), 0 at a clean end of stream (EOF, possibly after
 * whitespace, before the next image), -1 on error (unknown format,
 * truncated or corrupt data, CMYK JPEG, dimensions over VB_IMAGE_MAXDIM or
 * VB_IMAGE_MAXPIXELS).  A JPEG is read up to the end of f. */
int vb_image_read(FILE *f, int flags, struct vb_image **out);

/* Open, decode one image and close; the error message starts with the
 * path.  NULL on error. */
struct vb_image *vb_image_load(const char *path, int flags);

/* BT.601 luma of an RGB image (Y = 0.299 R + 0.587 G + 0.114 B, rounded to
 * nearest, as PIL's convert('L'): (19595 R + 38470 G + 7471 B + 32768) >> 16);
 * a gray image is copied.  New image. */
struct vb_image *vb_image_to_gray(const struct vb_image *src);

/* Resize to w x h: area averaging when shrinking an axis, bilinear
 * interpolation (pixel centres aligned, edges clamped) when enlarging it;
 * the two axes are done one after the other in double precision and
 * rounded once, half up.  New image. */
struct vb_image *vb_image_resize(const struct vb_image *src, int w, int h);

/* Copy out the rectangle (x, y, w, h), clipped to the image; parts outside
 * are filled by replicating the border.  New image. */
struct vb_image *vb_image_crop(const struct vb_image *src, int x, int y, int w, int h);

/* Write as 8-bit PNG (gray or RGB) or binary PNM (P5/P6).  0 or -1. */
int vb_image_write_png(FILE *f, const struct vb_image *img);
int vb_image_write_pnm(FILE *f, const struct vb_image *img);

/* --- decoding many images from memory ----------------------------------
 * A decoder keeps its libjpeg state between images, which makes decoding
 * many small files (a face data set) cheaper.  One decoder per thread. */
struct vb_image_decoder;

/* A new decoder; NULL with an error set on no memory.  Free with
 * vb_image_decoder_free(), which accepts NULL. */
struct vb_image_decoder *vb_image_decoder_new(void);
void vb_image_decoder_free(struct vb_image_decoder *d);

/* Decode the one image held in buf[0..n) (PNG, JPEG or PNM, by its magic
 * bytes) with flags as for vb_image_read().  Returns 0 with *out a new
 * image (caller frees), -1 on error (empty data included).  d may be NULL
 * (a temporary decoder is used). */
int vb_image_decode(struct vb_image_decoder *d, const void *buf, size_t n, int flags,
		    struct vb_image **out);

/* Read a whole file into memory: *buf (caller frees) holding *n bytes.
 * 0, or -1 with the error "cannot read 'path': reason".  *buf may be given
 * with *cap bytes allocated and is then reused and grown as needed (cap may
 * be NULL when *buf is NULL). */
int vb_image_slurp(const char *path, uint8_t **buf, size_t *n, size_t *cap);

#endif
