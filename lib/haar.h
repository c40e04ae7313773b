/* haar.h - Viola-Jones object detection with OpenCV's cascade files.
 *
 * Reads the XML cascades that OpenCV's traincascade writes and Debian's
 * opencv-data installs (<cascade> with BOOST stages; HAAR features,
 * upright or tilted, or LBP features; stumps or deeper trees), and finds
 * objects the way OpenCV 4's CascadeClassifier::detectMultiScale does: an
 * image pyramid (bit-exact bilinear shrinking), integral and squared
 * integral images, variance normalisation, the same window steps and early
 * skips, then grouping of the overlapping hits with a min-neighbours rule.
 * For the same gray image and parameters the boxes are OpenCV's.
 *
 * The cascade is read-only after loading, so several threads may detect
 * with one cascade at once.
 */
#ifndef VB_HAAR_H
#define VB_HAAR_H

#include <stddef.h>
#include <stdint.h>

struct vb_haar;

/* A box in pixels: top-left corner, width and height. */
struct vb_rect {
	int x, y, w, h;
};

/* Load a cascade from an XML file; NULL with an error naming the file on
 * failure (unreadable, not XML, not a BOOST cascade, bad numbers, feature
 * rectangles outside the window).  Free with vb_haar_free(). */
struct vb_haar *vb_haar_load(const char *path);
/* The same from n bytes in memory; name is used in error messages. */
struct vb_haar *vb_haar_load_mem(const void *buf, size_t n, const char *name);
/* Frees the cascade; accepts NULL. */
void vb_haar_free(struct vb_haar *c);

/* The cascade's window size (e.g. 24 x 24) and feature type name
 * ("HAAR" or "LBP"); number of stages. */
void vb_haar_window(const struct vb_haar *c, int *w, int *h);
const char *vb_haar_feature_type(const struct vb_haar *c);
int vb_haar_nstages(const struct vb_haar *c);

/* Search parameters, with OpenCV's meaning.  Sizes of 0 mean no limit
 * (maximum: the image). */
struct vb_haar_params {
	double scale_factor;   /* > 1; default 1.1 */
	int min_neighbors;     /* default 3; 0 returns the raw hits */
	int min_w, min_h;      /* default 0 */
	int max_w, max_h;      /* default 0 */
	int simd;              /* 1 (default): vector code when the CPU has it;
	                          0: the plain reference code (resizing, evaluator) */
	int threads;           /* scales searched in parallel; default 1 */
};

/* Fill p with the defaults above. */
void vb_haar_params_init(struct vb_haar_params *p);

/* Detect objects in an 8-bit gray image of w x h pixels (rows stride bytes
 * apart).  Returns the number of boxes found (>= 0) with *out a new array
 * the caller frees with free() (NULL when there are none), or -1 with an
 * error set (bad parameters, no memory).  Boxes are clipped to the image. */
int vb_haar_detect(const struct vb_haar *c, const uint8_t *px, int w, int h,
                   ptrdiff_t stride, const struct vb_haar_params *p,
                   struct vb_rect **out);

/* Group boxes as OpenCV's groupRectangles(rects, threshold, eps): boxes
 * closer than eps (relative) are one group (transitively); groups of
 * threshold or fewer boxes are dropped, and so are groups inside a larger
 * group with more support.  Works in place; returns the number kept.
 * weights, if not NULL, receives the size of each kept group (room for n). */
int vb_haar_group(struct vb_rect *r, int n, int threshold, double eps, int *weights);

/* Intersection over union of two boxes, 0..1. */
double vb_rect_iou(const struct vb_rect *a, const struct vb_rect *b);

#endif
