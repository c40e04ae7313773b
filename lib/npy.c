/* npy.c - tensors and the NumPy .npy stream format (read 1.0/2.0/3.0,
 * write 1.0).
 *
 * Format (numpy's NEP 1): the magic "\x93NUMPY", a major and minor version
 * byte, the header length (2 bytes little-endian in 1.0, 4 bytes in 2.0 and
 * 3.0), then the header: a Python dict literal with the keys 'descr',
 * 'fortran_order' and 'shape', padded with spaces and ended by a newline;
 * then the raw data.  Nothing here seeks, so arrays can follow each other on
 * a pipe.
 */
#include "tensor.h"
#include "err.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6
/* numpy itself refuses headers beyond 10000 bytes by default; we allow
 * more but keep a hostile length from costing a large allocation. */
#define NPY_MAX_HEADER (1u << 20)
#define NPY_DEFAULT_MAX ((size_t)64 << 30)
#define NPY_CHUNK ((size_t)1 << 20)

static const struct {
	const char *descr;
	size_t size;
} dtypes[] = {
	[VB_U8] = { "|u1", 1 },
	[VB_I8] = { "|i1", 1 },
	[VB_I32] = { "<i4", 4 },
	[VB_I64] = { "<i8", 8 },
	[VB_F32] = { "<f4", 4 },
	[VB_F64] = { "<f8", 8 },
};

size_t vb_dtype_size(enum vb_dtype t)
{
	return (unsigned)t <= VB_F64 ? dtypes[t].size : 0;
}

const char *vb_dtype_descr(enum vb_dtype t)
{
	return (unsigned)t <= VB_F64 ? dtypes[t].descr : "?";
}

int64_t vb_tensor_count(const struct vb_tensor *t)
{
	int64_t n = 1;

	for (int i = 0; i < t->ndim; i++)
		n *= t->shape[i];
	return n;
}

/* Product of the shape and its size in bytes, refusing overflow and
 * anything over max_bytes.  0 or -1. */
static int shape_size(enum vb_dtype dtype, int ndim, const int64_t *shape,
		      size_t max_bytes, int64_t *count, size_t *nbytes)
{
	int64_t n = 1;
	size_t es = vb_dtype_size(dtype);

	if (ndim < 0 || ndim > VB_MAXDIM)
		return vb_err_set("%d dimensions (at most %d supported)", ndim, VB_MAXDIM);
	if (!es)
		return vb_err_set("unknown dtype %d", (int)dtype);
	for (int i = 0; i < ndim; i++) {
		if (shape[i] < 0)
			return vb_err_set("negative dimension %lld", (long long)shape[i]);
		if (shape[i] && n > INT64_MAX / shape[i])
			return vb_err_set("shape too large: element count overflows");
		n *= shape[i];
	}
	if ((uint64_t)n > (uint64_t)(SIZE_MAX / es) || (size_t)n * es > max_bytes)
		return vb_err_set("array too large: %lld elements of %zu bytes exceed the limit of %zu bytes",
				  (long long)n, es, max_bytes);
	*count = n;
	*nbytes = (size_t)n * es;
	return 0;
}

struct vb_tensor *vb_tensor_new(enum vb_dtype dtype, int ndim, const int64_t *shape)
{
	struct vb_tensor *t;
	int64_t count;
	size_t nbytes;

	if (shape_size(dtype, ndim, shape, SIZE_MAX / 2, &count, &nbytes) < 0)
		return NULL;
	t = calloc(1, sizeof *t);
	if (!t) {
		vb_err_set("out of memory");
		return NULL;
	}
	t->dtype = dtype;
	t->ndim = ndim;
	for (int i = 0; i < VB_MAXDIM; i++)
		t->shape[i] = i < ndim ? shape[i] : 1;
	t->data = calloc(nbytes ? nbytes : 1, 1);
	if (!t->data) {
		free(t);
		vb_err_set("out of memory allocating %zu bytes", nbytes);
		return NULL;
	}
	return t;
}

void vb_tensor_free(struct vb_tensor *t)
{
	if (!t)
		return;
	free(t->data);
	free(t);
}

/* --- header parsing ---------------------------------------------------- */

struct hparse {
	const char *p, *end;
};

static void skip_ws(struct hparse *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static int expect(struct hparse *s, char c, const char *what)
{
	skip_ws(s);
	if (s->p >= s->end || *s->p != c)
		return vb_err_set("malformed .npy header: expected '%c' %s", c, what);
	s->p++;
	return 0;
}

/* A Python string literal in single or double quotes, without escapes
 * (none of the values we accept needs one). */
static int parse_str(struct hparse *s, char *buf, size_t size)
{
	char q;
	size_t n = 0;

	skip_ws(s);
	if (s->p >= s->end || (*s->p != '\'' && *s->p != '"'))
		return vb_err_set("malformed .npy header: expected a quoted string");
	q = *s->p++;
	while (s->p < s->end && *s->p != q) {
		if (*s->p == '\\')
			return vb_err_set("malformed .npy header: escapes in strings not supported");
		if (n + 1 >= size)
			return vb_err_set("malformed .npy header: string too long");
		buf[n++] = *s->p++;
	}
	if (s->p >= s->end)
		return vb_err_set("malformed .npy header: unterminated string");
	s->p++;
	buf[n] = 0;
	return 0;
}

static int parse_bool(struct hparse *s, int *v)
{
	skip_ws(s);
	if (s->end - s->p >= 4 && !memcmp(s->p, "True", 4)) {
		s->p += 4;
		*v = 1;
	} else if (s->end - s->p >= 5 && !memcmp(s->p, "False", 5)) {
		s->p += 5;
		*v = 0;
	} else {
		return vb_err_set("malformed .npy header: fortran_order must be True or False");
	}
	return 0;
}

/* A tuple of non-negative integers: (), (3,), (3, 4), (3, 4,). */
static int parse_shape(struct hparse *s, int *ndim, int64_t *shape)
{
	int n = 0;

	if (expect(s, '(', "to open the shape") < 0)
		return -1;
	for (;;) {
		int64_t v = 0;

		skip_ws(s);
		if (s->p < s->end && *s->p == ')') {
			s->p++;
			break;
		}
		if (s->p >= s->end || !isdigit((unsigned char)*s->p))
			return vb_err_set("malformed .npy header: shape must be a tuple of non-negative integers");
		while (s->p < s->end && isdigit((unsigned char)*s->p)) {
			int d = *s->p++ - '0';
			if (v > (INT64_MAX - d) / 10)
				return vb_err_set("shape too large: dimension overflows");
			v = v * 10 + d;
		}
		if (s->p < s->end && *s->p == 'L') /* Python 2 long */
			s->p++;
		if (n == VB_MAXDIM)
			return vb_err_set("more than %d dimensions not supported", VB_MAXDIM);
		shape[n++] = v;
		skip_ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
		} else if (s->p < s->end && *s->p == ')') {
			/* Python: (3) is not a tuple, it is the integer 3 */
			if (n == 1)
				return vb_err_set("malformed .npy header: one-element shape needs a trailing comma");
			s->p++;
			break;
		} else {
			return vb_err_set("malformed .npy header: expected ',' or ')' in the shape");
		}
	}
	*ndim = n;
	return 0;
}

static int parse_descr(const char *d, enum vb_dtype *t)
{
	static const struct {
		char kind;
		char size;
		enum vb_dtype t;
	} kinds[] = {
		{ 'u', '1', VB_U8 }, { 'i', '1', VB_I8 }, { 'i', '4', VB_I32 },
		{ 'i', '8', VB_I64 }, { 'f', '4', VB_F32 }, { 'f', '8', VB_F64 },
	};

	if (strlen(d) == 3 && strchr("|<>=", d[0])) {
		for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
			if (d[1] != kinds[i].kind || d[2] != kinds[i].size)
				continue;
			if (d[2] == '1') { /* single bytes have no byte order */
				*t = kinds[i].t;
				return 0;
			}
			if (d[0] == '>')
				return vb_err_set("big-endian dtype '%s' not supported (convert with astype('<%c%c'))",
						  d, d[1], d[2]);
			if (d[0] == '|')
				return vb_err_set("unsupported dtype '%s'", d);
			*t = kinds[i].t; /* '<', or '=' which is little-endian here */
			return 0;
		}
	}
	return vb_err_set("unsupported dtype '%s' (supported: |u1 |i1 <i4 <i8 <f4 <f8)", d);
}

static int parse_header(const char *text, size_t len, struct vb_npy_header *h, size_t max_bytes)
{
	struct hparse s = { text, text + len };
	char key[32], descr[64];
	int have_descr = 0, have_fortran = 0, have_shape = 0, fortran = 0;

	if (expect(&s, '{', "at the start of the header dict") < 0)
		return -1;
	for (;;) {
		skip_ws(&s);
		if (s.p < s.end && *s.p == '}') {
			s.p++;
			break;
		}
		if (parse_str(&s, key, sizeof key) < 0 || expect(&s, ':', "after a key") < 0)
			return -1;
		if (!strcmp(key, "descr") && !have_descr) {
			if (parse_str(&s, descr, sizeof descr) < 0)
				return vb_err_prefix("descr");
			have_descr = 1;
		} else if (!strcmp(key, "fortran_order") && !have_fortran) {
			if (parse_bool(&s, &fortran) < 0)
				return -1;
			have_fortran = 1;
		} else if (!strcmp(key, "shape") && !have_shape) {
			if (parse_shape(&s, &h->ndim, h->shape) < 0)
				return -1;
			have_shape = 1;
		} else if (!strcmp(key, "descr") || !strcmp(key, "fortran_order") || !strcmp(key, "shape")) {
			return vb_err_set("malformed .npy header: duplicate key '%s'", key);
		} else {
			return vb_err_set("malformed .npy header: unexpected key '%s'", key);
		}
		skip_ws(&s);
		if (s.p < s.end && *s.p == ',') {
			s.p++;
		} else if (s.p < s.end && *s.p == '}') {
			s.p++;
			break;
		} else {
			return vb_err_set("malformed .npy header: expected ',' or '}' after a value");
		}
	}
	skip_ws(&s);
	while (s.p < s.end && *s.p == 0) /* some writers pad with NULs */
		s.p++;
	if (s.p != s.end)
		return vb_err_set("malformed .npy header: text after the dict");
	if (!have_descr || !have_fortran || !have_shape)
		return vb_err_set("malformed .npy header: missing key '%s'",
				  !have_descr ? "descr" : !have_fortran ? "fortran_order" : "shape");
	if (parse_descr(descr, &h->dtype) < 0)
		return -1;
	if (fortran)
		return vb_err_set("fortran_order True not supported (save a C-ordered array)");
	for (int i = h->ndim; i < VB_MAXDIM; i++)
		h->shape[i] = 1;
	return shape_size(h->dtype, h->ndim, h->shape, max_bytes, &h->count, &h->nbytes);
}

/* Read exactly n bytes; 0, or -1 with "truncated <what>" / an I/O error. */
static int read_full(FILE *f, void *buf, size_t n, const char *what)
{
	size_t got = n ? fread(buf, 1, n, f) : 0;

	if (got == n)
		return 0;
	if (ferror(f))
		return vb_err_sys("read error in %s", what);
	return vb_err_set("truncated %s (%zu of %zu bytes)", what, got, n);
}

int vb_npy_read_header(FILE *f, struct vb_npy_header *h, size_t max_bytes)
{
	unsigned char pre[12];
	size_t got, hlen, lensz;
	char *text;
	int rc;

	memset(h, 0, sizeof *h);
	if (!max_bytes)
		max_bytes = NPY_DEFAULT_MAX;
	got = fread(pre, 1, 1, f);
	if (got == 0) {
		if (ferror(f))
			return vb_err_sys("read error");
		return 0;
	}
	if (read_full(f, pre + 1, 7, ".npy preamble") < 0)
		return -1;
	if (memcmp(pre, NPY_MAGIC, NPY_MAGIC_LEN))
		return vb_err_set("not a .npy stream (bad magic)");
	if (pre[6] == 1 && pre[7] == 0)
		lensz = 2;
	else if ((pre[6] == 2 || pre[6] == 3) && pre[7] == 0)
		lensz = 4;
	else
		return vb_err_set("unsupported .npy version %u.%u", pre[6], pre[7]);
	if (read_full(f, pre + 8, lensz, ".npy header length") < 0)
		return -1;
	hlen = pre[8] | (size_t)pre[9] << 8;
	if (lensz == 4)
		hlen |= (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
	if (hlen > NPY_MAX_HEADER)
		return vb_err_set(".npy header too long (%zu bytes)", hlen);
	text = malloc(hlen + 1);
	if (!text)
		return vb_err_set("out of memory");
	if (read_full(f, text, hlen, ".npy header") < 0) {
		free(text);
		return -1;
	}
	text[hlen] = 0;
	rc = parse_header(text, hlen, h, max_bytes);
	free(text);
	return rc < 0 ? -1 : 1;
}

int vb_npy_read_data(FILE *f, void *buf, size_t n)
{
	return read_full(f, buf, n, ".npy data");
}

int vb_npy_read(FILE *f, struct vb_tensor **out)
{
	struct vb_npy_header h;
	struct vb_tensor *t;
	unsigned char *data = NULL;
	size_t have = 0;
	int rc;

	*out = NULL;
	rc = vb_npy_read_header(f, &h, 0);
	if (rc <= 0)
		return rc;
	/* Grow with the data that actually arrives, one chunk at a time, so
	 * that a header lying about its size costs at most one chunk beyond
	 * the real data.  (Large blocks are mmapped, and glibc's realloc moves
	 * them with mremap, so linear growth does not copy.) */
	while (have < h.nbytes) {
		size_t want = h.nbytes - have, got;
		unsigned char *nd;

		if (want > NPY_CHUNK)
			want = NPY_CHUNK;
		nd = realloc(data, have + want);
		if (!nd) {
			free(data);
			return vb_err_set("out of memory reading %zu bytes of .npy data", h.nbytes);
		}
		data = nd;
		got = fread(data + have, 1, want, f);
		have += got;
		if (got < want) {
			free(data);
			if (ferror(f))
				return vb_err_sys("read error in .npy data");
			return vb_err_set("truncated .npy data (%zu of %zu bytes)", have, h.nbytes);
		}
	}
	t = calloc(1, sizeof *t);
	if (!t) {
		free(data);
		return vb_err_set("out of memory");
	}
	if (!data && !(data = malloc(1))) {
		free(t);
		return vb_err_set("out of memory");
	}
	t->dtype = h.dtype;
	t->ndim = h.ndim;
	memcpy(t->shape, h.shape, sizeof t->shape);
	t->data = data;
	*out = t;
	return 1;
}

/* --- writing ----------------------------------------------------------- */

int vb_npy_write_header(FILE *f, enum vb_dtype dtype, int ndim, const int64_t *shape)
{
	char buf[256];
	int64_t count;
	size_t nbytes, n, total;

	if (shape_size(dtype, ndim, shape, SIZE_MAX, &count, &nbytes) < 0)
		return -1;
	memcpy(buf, NPY_MAGIC "\x01\x00", 8);
	n = 10;
	n += snprintf(buf + n, sizeof buf - n, "{'descr': '%s', 'fortran_order': False, 'shape': (",
		      vb_dtype_descr(dtype));
	for (int i = 0; i < ndim; i++)
		n += snprintf(buf + n, sizeof buf - n, "%s%lld", i ? ", " : "", (long long)shape[i]);
	n += snprintf(buf + n, sizeof buf - n, "%s), }", ndim == 1 ? "," : "");
	/* pad with spaces and a final newline so the data starts on 64 bytes */
	total = (n + 1 + 63) / 64 * 64;
	memset(buf + n, ' ', total - n - 1);
	buf[total - 1] = '\n';
	buf[8] = (char)((total - 10) & 0xff);
	buf[9] = (char)((total - 10) >> 8);
	return vb_npy_write_data(f, buf, total);
}

int vb_npy_write_data(FILE *f, const void *buf, size_t n)
{
	if (n && fwrite(buf, 1, n, f) != n)
		return vb_err_sys("write error");
	return 0;
}

int vb_npy_write(FILE *f, const struct vb_tensor *t)
{
	int64_t count;
	size_t nbytes;

	if (shape_size(t->dtype, t->ndim, t->shape, SIZE_MAX, &count, &nbytes) < 0)
		return -1;
	if (vb_npy_write_header(f, t->dtype, t->ndim, t->shape) < 0)
		return -1;
	return vb_npy_write_data(f, t->data, nbytes);
}
