/* safetensors.h - read and write the safetensors format: an 8-byte
 * little-endian header length N, N bytes of JSON (name -> {dtype, shape,
 * data_offsets}, plus "__metadata__": string -> string), then the raw
 * little-endian tensor data.  The reader validates everything (offsets that
 * tile the data exactly, sizes that match the shapes, known dtypes, string
 * metadata) so that a hostile file gives an error, never a crash. */
#ifndef VB_SAFETENSORS_H
#define VB_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define VB_ST_MAXDIM 8

struct vb_st_tensor {
	char *name;                    /* owned by the file */
	char dtype[8];                 /* "F32", "I64", ... */
	int dsize;                     /* bytes per element */
	int ndim;
	int64_t shape[VB_ST_MAXDIM];
	int64_t count;                 /* elements */
	size_t nbytes;
	const unsigned char *data;     /* points into the file buffer */
};

struct vb_st {
	size_t n;
	struct vb_st_tensor *t;        /* in data order */
	size_t nmeta;
	char **key, **val;             /* __metadata__, in file order */
	unsigned char *buf;            /* the whole file */
	size_t len;
};

/* Parse a file held in memory (copied).  NULL with an error on failure. */
struct vb_st *vb_st_parse(const void *buf, size_t len);
/* Read and parse a whole file; errors name the file. */
struct vb_st *vb_st_load(const char *path);
/* Release the tensor bytes, keeping names, shapes and metadata; every
 * tensor's data becomes NULL. */
void vb_st_drop_data(struct vb_st *st);
/* Frees everything; accepts NULL. */
void vb_st_free(struct vb_st *st);

/* The tensor or metadata value with that name, or NULL. */
const struct vb_st_tensor *vb_st_find(const struct vb_st *st, const char *name);
const char *vb_st_meta(const struct vb_st *st, const char *key);

/* Copy a tensor's elements to float32 (from F32, F64, F16, BF16 or an
 * integer type) into out[count].  0 or -1 on an unsupported dtype. */
int vb_st_to_float(const struct vb_st_tensor *t, float *out);

/* A tensor to write. */
struct vb_st_out {
	const char *name;
	const char *dtype;             /* "F32" or "I64" */
	int ndim;
	const int64_t *shape;
	const void *data;              /* count elements of that dtype, host order */
};
/* Write n tensors and nmeta metadata pairs to f.  0 or -1. */
int vb_st_write(FILE *f, const struct vb_st_out *t, size_t n, const char *const *key,
                const char *const *val, size_t nmeta);

#endif
