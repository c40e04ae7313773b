/* image.h - decode PNG, JPEG and PNM into 8-bit gray or RGB; convert, resize,
 * and write PNG or PNM.
 *
 * The format is chosen from the first bytes of the data, never from a file
 * name.  PNM (P2 P3 P5 P6, maxval up to 65535) can come as several images
 * back to back, as ffmpeg's image2pipe writes them; PNG and JPEG are one
 * image per stream.  Nothing seeks, so pipes work.
 */
#ifndef VB_IMAGE_H
#define VB_IMAGE_H

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

/* Decode the next image from f.  flags: VB_IMG_GRAY or VB_IMG_RGB (neither:
 * the file's own, gray or RGB), plus alpha handling.  Returns 1 with *out a
 * new image (caller frees), 0 at a clean end of stream (EOF before any
 * byte, or only whitespace after a PNM image), -1 on error (unknown format,
 * truncated or corrupt data, CMYK JPEG, dimensions over VB_IMAGE_MAXDIM). */
int vb_image_read(FILE *f, int flags, struct vb_image **out);

/* Open, decode one image and close; the error message starts with the
 * path.  NULL on error. */
struct vb_image *vb_image_load(const char *path, int flags);

/* BT.601 luma of an RGB image (Y = 0.299 R + 0.587 G + 0.114 B, rounded to
 * nearest, as PIL's convert('L')); a gray image is copied.  New image. */
struct vb_image *vb_image_to_gray(const struct vb_image *src);

/* Resize to w x h: area averaging when shrinking an axis, bilinear
 * interpolation (pixel centres aligned) when enlarging it.  New image. */
struct vb_image *vb_image_resize(const struct vb_image *src, int w, int h);

/* Copy out the rectangle (x, y, w, h), clipped to the image; parts outside
 * are filled by replicating the border.  New image. */
struct vb_image *vb_image_crop(const struct vb_image *src, int x, int y, int w, int h);

/* Write as 8-bit PNG (gray or RGB) or binary PNM (P5/P6).  0 or -1. */
int vb_image_write_png(FILE *f, const struct vb_image *img);
int vb_image_write_pnm(FILE *f, const struct vb_image *img);

#endif
