/* rng.c - xoshiro256** seeded through splitmix64. */
#include "rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

void vb_rng_seed(struct vb_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

void vb_rng_split(const struct vb_rng *r, uint64_t id, struct vb_rng *out)
{
	uint64_t x = r->s[0] ^ rotl(r->s[1], 17) ^ rotl(r->s[2], 31) ^ rotl(r->s[3], 47);

	x ^= splitmix64(&id);
	vb_rng_seed(out, x);
}

uint64_t vb_rng_u64(struct vb_rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

uint64_t vb_rng_below(struct vb_rng *r, uint64_t n)
{
	/* Reject the top partial block so every residue is equally likely. */
	uint64_t limit = UINT64_MAX - UINT64_MAX % n;
	uint64_t x;

	do
		x = vb_rng_u64(r);
	while (x >= limit);
	return x % n;
}

double vb_rng_uniform(struct vb_rng *r)
{
	return (double)(vb_rng_u64(r) >> 11) * 0x1.0p-53;
}

float vb_rng_uniformf(struct vb_rng *r)
{
	return (float)(vb_rng_u64(r) >> 40) * 0x1.0p-24f;
}

double vb_rng_normal(struct vb_rng *r)
{
	double u = 1.0 - vb_rng_uniform(r); /* (0, 1]: log is finite */
	double v = vb_rng_uniform(r);

	return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

void vb_rng_shuffle(struct vb_rng *r, int *a, long n)
{
	for (long i = n - 1; i > 0; i--) {
		long j = (long)vb_rng_below(r, (uint64_t)i + 1);
		int t = a[i];
		a[i] = a[j];
		a[j] = t;
	}
}
