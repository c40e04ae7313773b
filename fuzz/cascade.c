/* fuzz/cascade.c - libFuzzer target for the cascade loader: any bytes must
 * load or fail cleanly, and a loaded cascade must search a small image
 * with both evaluators without reading out of bounds, giving the same
 * raw hits. */
#include "err.h"
#include "haar.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vb_haar *c = vb_haar_load_mem(data, size, "fuzz.xml");
	if (!c)
		return 0;
	int ww, wh;
	vb_haar_window(c, &ww, &wh);
	if (ww <= 64 && wh <= 64) {
		enum { W = 80, H = 70 };
		static uint8_t img[W * H];
		for (int i = 0; i < W * H; i++)
			img[i] = (uint8_t)((i * 37) ^ (i / W * 11) ^ (size * 3));
		struct vb_haar_params p;
		vb_haar_params_init(&p);
		p.min_neighbors = 0;
		struct vb_rect *a = NULL, *b = NULL;
		int na = vb_haar_detect(c, img, W, H, W, &p, &a);
		p.simd = 0;
		int nb = vb_haar_detect(c, img, W, H, W, &p, &b);
		if (na != nb)
			abort();
		free(a);
		free(b);
	}
	vb_haar_free(c);
	return 0;
}
