/* tensor.h - n-dimensional arrays and their .npy stream format.
 *
 * A tensor is {dtype, ndim <= 4, shape[] in NumPy order (outermost first),
 * contiguous row-major data}.  The .npy reader handles format versions 1.0,
 * 2.0 and 3.0 and never seeks, so it works on pipes and on several arrays
 * back to back; the writer emits version 1.0, little-endian, C order, with
 * the header padded so the data starts on a 64-byte boundary.
 */
#ifndef VB_TENSOR_H
#define VB_TENSOR_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define VB_MAXDIM 4

enum vb_dtype {
	VB_U8,  /* |u1 */
	VB_I8,  /* |i1 */
	VB_I32, /* <i4 */
	VB_I64, /* <i8 */
	VB_F32, /* <f4 */
	VB_F64  /* <f8 */
};

struct vb_tensor {
	enum vb_dtype dtype;
	int ndim;                  /* 0..VB_MAXDIM; 0 is a scalar (1 element) */
	int64_t shape[VB_MAXDIM];  /* unused entries are 1 */
	void *data;                /* count * vb_dtype_size(dtype) bytes */
};

/* Bytes per element. */
size_t vb_dtype_size(enum vb_dtype t);
/* The NumPy descr ("|u1", "<f4", ...). */
const char *vb_dtype_descr(enum vb_dtype t);
/* Number of elements (product of the shape). */
int64_t vb_tensor_count(const struct vb_tensor *t);

/* A new zero-filled tensor; NULL with an error set if the size overflows or
 * memory runs out.  Free with vb_tensor_free(). */
struct vb_tensor *vb_tensor_new(enum vb_dtype dtype, int ndim, const int64_t *shape);
/* Frees the tensor and its data; accepts NULL. */
void vb_tensor_free(struct vb_tensor *t);

/* Header of one array in a .npy stream. */
struct vb_npy_header {
	enum vb_dtype dtype;
	int ndim;
	int64_t shape[VB_MAXDIM];
	int64_t count;     /* product of shape */
	size_t nbytes;     /* count * element size */
};

/* Read the next array header from f.  Returns 1 with *h filled, 0 at a clean
 * end of stream (no byte before EOF), -1 on error (bad magic, unsupported
 * version or dtype, big-endian, fortran_order True, malformed dict, shape
 * with more than VB_MAXDIM dimensions, a size that overflows or exceeds
 * max_bytes, truncation).  max_bytes 0 means the default limit (64 GiB).
 * The caller then reads exactly h->nbytes of data, e.g. row by row with
 * vb_npy_read_data(). */
int vb_npy_read_header(FILE *f, struct vb_npy_header *h, size_t max_bytes);

/* Read n bytes of array data; a short read is a "truncated data" error.
 * Returns 0 or -1. */
int vb_npy_read_data(FILE *f, void *buf, size_t n);

/* Read one whole array.  Returns 1 with *out a new tensor (caller frees), 0
 * at a clean end of stream, -1 on error.  Allocation grows with the data
 * actually read, so a header that lies about its size cannot make the
 * reader allocate more than it was given plus one chunk. */
int vb_npy_read(FILE *f, struct vb_tensor **out);

/* Write a version 1.0 header for an array of the given type and shape; the
 * caller then writes the data (vb_npy_write_data or fwrite).  0 or -1. */
int vb_npy_write_header(FILE *f, enum vb_dtype dtype, int ndim, const int64_t *shape);
/* fwrite with error checking: 0 or -1 with an error set. */
int vb_npy_write_data(FILE *f, const void *buf, size_t n);
/* Write one whole tensor.  0 or -1. */
int vb_npy_write(FILE *f, const struct vb_tensor *t);

#endif
