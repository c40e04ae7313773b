/* sha256.h - SHA-256 (FIPS 180-4), incremental, for data provenance. */
#ifndef VB_SHA256_H
#define VB_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct vb_sha256 {
	uint32_t h[8];
	uint64_t len;          /* bytes so far */
	unsigned char buf[64];
	size_t nbuf;
};

void vb_sha256_init(struct vb_sha256 *s);
void vb_sha256_update(struct vb_sha256 *s, const void *data, size_t n);
/* Finish and write the 64 lower-case hex digits and a NUL to hex[65]. */
void vb_sha256_hex(struct vb_sha256 *s, char hex[65]);

#endif
