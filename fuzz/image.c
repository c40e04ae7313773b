/* fuzz/image.c - libFuzzer target for the image decoders (PNG, JPEG, PNM
 * by magic bytes), from memory with one long-lived decoder and as a stream
 * of images; every decoded image also goes through gray conversion,
 * resizing, cropping and a PNM write and read back. */
#include "image.h"
#include "err.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void exercise(const struct vb_image *img)
{
	struct vb_image *g, *r, *c, *back = NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (img->w < 1 || img->h < 1 || (img->channels != 1 && img->channels != 3))
		abort();
	g = vb_image_to_gray(img);
	r = vb_image_resize(img, 48, 48);
	c = vb_image_crop(img, -3, img->h / 2, 7, img->h + 2);
	if (!g || !r || !c)
		abort();
	f = open_memstream(&buf, &len);
	if (!f || vb_image_write_pnm(f, img))
		abort();
	fclose(f);
	f = fmemopen(buf, len, "rb");
	if (!f || vb_image_read(f, 0, &back) != 1 || back->w != img->w || back->h != img->h ||
	    back->channels != img->channels ||
	    memcmp(back->px, img->px, (size_t)img->w * img->h * img->channels))
		abort();
	fclose(f);
	free(buf);
	vb_image_free(back);
	vb_image_free(g);
	vb_image_free(r);
	vb_image_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vb_image_decoder *dec;
	static const int flags[] = { 0, VB_IMG_GRAY, VB_IMG_RGB | VB_IMG_ALPHA_DROP };
	struct vb_image *img = NULL;
	FILE *f;
	int n = 0;

	if (!dec && !(dec = vb_image_decoder_new()))
		abort();
	for (int k = 0; k < 3; k++) {
		if (vb_image_decode(dec, data, size, flags[k], &img) == 0) {
			if (k == 0)
				exercise(img);
			vb_image_free(img);
		} else if (img || !vb_err_msg()[0]) {
			abort();   /* an error must leave no image and say why */
		}
		img = NULL;
	}
	f = size ? fmemopen((void *)data, size, "rb") : NULL;
	if (!f)
		return 0;
	while (n < 16 && vb_image_read(f, 0, &img) == 1) {
		vb_image_free(img);
		img = NULL;
		n++;
	}
	fclose(f);
	return 0;
}
