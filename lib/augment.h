/* augment.h - random image augmentation for training: horizontal flip,
 * rotation, scaling and shift (one affine map, bilinear sampling, edges
 * replicated), brightness and contrast. */
#ifndef VB_AUGMENT_H
#define VB_AUGMENT_H

#include <stdint.h>

#include "rng.h"

struct vb_aug {
	double flip;        /* probability of a horizontal flip (0.5) */
	double rotate;      /* maximum rotation, degrees (10) */
	double scale;       /* maximum relative zoom in or out (0.1) */
	double shift;       /* maximum shift, fraction of the size (0.1) */
	double brightness;  /* maximum added brightness, fraction of 255 (0.1) */
	double contrast;    /* maximum relative contrast change (0.2) */
};

/* The defaults above. */
void vb_aug_defaults(struct vb_aug *a);

/* One randomly transformed copy of an h x w gray image: out[i] =
 * pixel * mul + add, pixels clamped to 0..255 before that. */
void vb_augment(const uint8_t *src, int h, int w, const struct vb_aug *a, struct vb_rng *r,
                float mul, float add, float *out);

#endif
