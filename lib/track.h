/* track.h - follow faces from frame to frame of a stream.
 *
 * A tracker keeps the faces of the previous frame.  On most frames it
 * searches only near them (a window around each, at sizes near its own),
 * which is much cheaper than a search of the whole frame; every
 * `redetect` frames, or at once when a face is not found again, it searches
 * the whole frame.  With no face in view only those periodic searches run,
 * so a face that appears is found within `redetect` frames, as one that
 * enters beside followed faces is.  Faces keep an identity while they overlap from one frame
 * to the next, so per-face state (such as smoothed probabilities) can
 * follow them.
 */
#ifndef VB_TRACK_H
#define VB_TRACK_H

#include "haar.h"

#include <stdint.h>

struct vb_track_face {
	struct vb_rect box;
	long id;          /* stable while the face is followed */
	int age;          /* frames since the face appeared (0: new) */
};

struct vb_tracker;

/* A tracker using cascade c (not owned) with the given search parameters;
 * redetect >= 1 is the period of whole-frame searches (1: every frame).
 * NULL with an error on no memory. */
struct vb_tracker *vb_tracker_new(const struct vb_haar *c, const struct vb_haar_params *p,
                                  int redetect);
/* Frees the tracker; accepts NULL. */
void vb_tracker_free(struct vb_tracker *t);
/* Forget every face (e.g. at the start of a new input). */
void vb_tracker_reset(struct vb_tracker *t);

/* Find the faces of the next frame (8-bit gray, w x h, rows stride bytes
 * apart).  Returns the number of faces with *faces pointing to an array
 * owned by the tracker (valid until the next call), or -1 with an error.
 * *full is set to 1 when the whole frame was searched. */
int vb_tracker_next(struct vb_tracker *t, const uint8_t *px, int w, int h, ptrdiff_t stride,
                    const struct vb_track_face **faces, int *full);

#endif
