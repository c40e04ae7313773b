/* rng.h - a small, fast, reproducible random number generator
 * (xoshiro256**, seeded through splitmix64).  The same seed gives the same
 * sequence on every machine; give each thread its own state (vb_rng_split). */
#ifndef VB_RNG_H
#define VB_RNG_H

#include <stdint.h>

struct vb_rng {
	uint64_t s[4];
};

/* Seed the state from one 64-bit number. */
void vb_rng_seed(struct vb_rng *r, uint64_t seed);
/* An independent stream derived from r and a stream id (for threads). */
void vb_rng_split(const struct vb_rng *r, uint64_t id, struct vb_rng *out);
/* Uniform 64 random bits. */
uint64_t vb_rng_u64(struct vb_rng *r);
/* Uniform integer in [0, n), without modulo bias; n > 0. */
uint64_t vb_rng_below(struct vb_rng *r, uint64_t n);
/* Uniform double in [0, 1) with 53 random bits; float in [0, 1) with 24. */
double vb_rng_uniform(struct vb_rng *r);
float vb_rng_uniformf(struct vb_rng *r);
/* Standard normal (Box-Muller, no cached second value). */
double vb_rng_normal(struct vb_rng *r);
/* Fisher-Yates shuffle of n ints. */
void vb_rng_shuffle(struct vb_rng *r, int *a, long n);

#endif
