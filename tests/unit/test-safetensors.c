/* test-safetensors.c - the safetensors reader on good and hostile files,
 * and write -> read round trips. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "safetensors.h"
#include "tap.h"

/* A file made of a JSON header and n data bytes (0, 1, 2, ...). */
static struct vb_st *parse(const char *json, size_t ndata)
{
	size_t hl = strlen(json), len = 8 + hl + ndata;
	unsigned char *b = malloc(len);
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)((uint64_t)hl >> (8 * i));
	memcpy(b + 8, json, hl);
	for (size_t i = 0; i < ndata; i++)
		b[8 + hl + i] = (unsigned char)i;
	struct vb_st *st = vb_st_parse(b, len);
	free(b);
	return st;
}

static void bad(const char *json, size_t ndata, const char *want, const char *desc)
{
	struct vb_st *st = parse(json, ndata);
	ok(!st && strstr(vb_err_msg(), want), "%s: %s", desc, st ? "(accepted)" : vb_err_msg());
	vb_st_free(st);
}

int main(void)
{
	struct vb_st *st = parse("{\"__metadata__\":{\"k\":\"v\"},"
	                         "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]},"
	                         "\"a\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]}}  ",
	                         16);
	ok(st != NULL, "valid file parses");
	if (st) {
		is_int((long long)st->n, 2, "two tensors");
		is_str(st->t[0].name, "a", "tensors in data order");
		is_str(vb_st_meta(st, "k"), "v", "metadata value");
		const struct vb_st_tensor *b = vb_st_find(st, "b");
		ok(b && b->ndim == 1 && b->shape[0] == 2 && b->nbytes == 8, "shape and size");
		is_int(st->t[0].ndim, 0, "scalar tensor has no dimensions");
	}
	vb_st_free(st);

	st = parse("{}", 0);
	ok(st && st->n == 0, "empty header and no data is a valid empty file");
	vb_st_free(st);
	st = vb_st_parse("\x01\x00\x00", 3);
	ok(!st && strstr(vb_err_msg(), "not a safetensors file"), "3-byte file");
	unsigned char huge[10] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, '{', '}'};
	st = vb_st_parse(huge, 10);
	ok(!st && strstr(vb_err_msg(), "header length"), "absurd header length");
	bad("[1, 2]", 0, "header does not start", "JSON array header");
	bad("{\"a\":", 0, "bad safetensors header", "truncated JSON");
	bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
	    "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
	    "bad safetensors header", "duplicate tensor names");
	bad("{\"a\":{\"dtype\":\"Q7\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "unknown dtype",
	    "unknown dtype");
	bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8,
	    "8 bytes for 3 elements", "size does not match the shape");
	bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, "bad shape",
	    "negative dimension");
	bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1099511627776,1099511627776],"
	    "\"data_offsets\":[0,8]}}", 8, "shape", "overflowing shape");
	bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,80]}}", 8, "outside",
	    "offsets past the data");
	bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8, "outside",
	    "offsets reversed");
	bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
	    "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "overlaps",
	    "overlapping tensors");
	bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "gap",
	    "gap before a tensor");
	bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8, "after the last",
	    "bytes after the last tensor");
	bad("{\"__metadata__\":{\"k\":3}}", 0, "not a string", "metadata value not a string");
	bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "needs exactly", "missing data_offsets");
	bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4,
	    "dimensions", "nine dimensions");
	st = vb_st_load("/nonexistent/x.safetensors");
	ok(!st && strstr(vb_err_msg(), "cannot open '/nonexistent/x.safetensors'"),
	   "missing file: %s", vb_err_msg());

	/* round trip */
	float w[6] = {1, -2, 3.5f, 0, 1e-30f, 7};
	int64_t n64 = 42, s1[2] = {2, 3};
	struct vb_st_out out[2] = {{"w", "F32", 2, s1, w}, {"n", "I64", 0, s1, &n64}};
	const char *k[2] = {"arch", "classes"}, *v[2] = {"layers: []\nname: \"x\"", "[\"a\",\"b\"]"};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	ok(vb_st_write(f, out, 2, k, v, 2) == 0 && fclose(f) == 0, "write");
	is_int((long long)((buf[0] & 0xff) % 8), 0, "header padded to 8 bytes");
	st = vb_st_parse(buf, len);
	ok(st != NULL, "what was written parses");
	if (st) {
		const struct vb_st_tensor *t = vb_st_find(st, "w");
		float back[6];
		ok(t && vb_st_to_float(t, back) == 0 && !memcmp(back, w, sizeof w),
		   "float tensor round trip");
		t = vb_st_find(st, "n");
		ok(t && !strcmp(t->dtype, "I64") && t->ndim == 0 && !memcmp(t->data, &n64, 8),
		   "int64 scalar round trip");
		is_str(vb_st_meta(st, "arch"), v[0], "metadata with newlines and quotes");
		is_str(vb_st_meta(st, "classes"), v[1], "JSON text as metadata");
	}
	vb_st_free(st);

	/* the same bytes from a file and from a pipe */
	char path[] = "/tmp/vb-st-XXXXXX";
	int fd = mkstemp(path);
	ok(fd >= 0 && write(fd, buf, len) == (ssize_t)len && close(fd) == 0, "temporary file");
	st = vb_st_load(path);
	ok(st && st->len == len, "a regular file is read whole");
	if (st) {
		const struct vb_st_tensor *t = vb_st_find(st, "w");
		float back[6];
		ok(t && vb_st_to_float(t, back) == 0 && !memcmp(back, w, sizeof w),
		   "tensor read from the file");
		is_str(vb_st_meta(st, "classes"), v[1], "metadata read from the file");
		vb_st_drop_data(st);
		ok(!st->buf && !vb_st_find(st, "w")->data, "tensor bytes dropped");
		is_str(vb_st_meta(st, "classes"), v[1], "metadata kept after the drop");
	}
	vb_st_free(st);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "cat %s", path);
	FILE *pf = popen(cmd, "r");
	char dev[64];
	snprintf(dev, sizeof dev, "/dev/fd/%d", pf ? fileno(pf) : -1);
	st = pf ? vb_st_load(dev) : NULL;
	ok(st && st->len == len && vb_st_find(st, "n"), "a pipe is read whole");
	vb_st_free(st);
	if (pf)
		pclose(pf);
	/* a file of several MiB: every byte in place, the buffer aligned */
	{
		enum { N = 3 << 20 >> 2 };
		float *big = malloc(N * sizeof *big);
		int64_t sb[1] = {N};
		struct vb_st_out ob[1] = {{"big", "F32", 1, sb, big}};
		for (long i = 0; big && i < N; i++)
			big[i] = (float)(i % 1000003) - 17.25f;
		f = fopen(path, "wb");
		ok(big && f && vb_st_write(f, ob, 1, NULL, NULL, 0) == 0 && fclose(f) == 0,
		   "a 3 MiB file written");
		st = vb_st_load(path);
		const struct vb_st_tensor *t = st ? vb_st_find(st, "big") : NULL;
		ok(t && t->count == N && big && !memcmp(t->data, big, N * sizeof *big),
		   "a 3 MiB tensor read back");
		is_int(st ? (long long)((uintptr_t)st->buf % 4096) : -1, 0, "its buffer is page aligned");
		vb_st_free(st);
		free(big);
		f = fopen(path, "wb");
		ok(f && fwrite(buf, 1, len, f) == len && fclose(f) == 0, "the small file again");
	}
	ok(truncate(path, len - 3) == 0 && !(st = vb_st_load(path)) &&
	   strstr(vb_err_msg(), path) != NULL,
	   "truncated file: %s", vb_err_msg());
	ok(truncate(path, 0) == 0 && !(st = vb_st_load(path)) && strstr(vb_err_msg(), "only 0 bytes"),
	   "empty file: %s", vb_err_msg());
	unlink(path);
	ok(!(st = vb_st_load("/tmp")) && strstr(vb_err_msg(), "is a directory"),
	   "directory: %s", vb_err_msg());
	free(buf);
	f = fopen("/dev/full", "w");
	if (f) {
		int rc = vb_st_write(f, out, 2, k, v, 2);
		rc |= fflush(f);
		ok(rc != 0, "/dev/full: write error reported");
		fclose(f);
	}
	return tap_done();
}
