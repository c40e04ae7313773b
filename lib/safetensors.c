/* safetensors.c - the safetensors reader and writer (JSON through jansson). */
#include "safetensors.h"

#include <errno.h>
#include <jansson.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "nn.h"   /* vb_alloc_big */

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors.c assumes a little-endian host"
#endif

#define MAX_HEADER (100u << 20)
#define MAX_FILE ((size_t)4 << 30)     /* a regular file */
#define MAX_READ ((size_t)2 << 30)     /* read from a pipe */

static const struct {
	const char *name;
	int size;
} dtypes[] = {
	{"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8}, {"I32", 4},
	{"I16", 2}, {"I8", 1},  {"U8", 1},  {"U16", 2},  {"U32", 4}, {"U64", 8},
	{"BOOL", 1},
};

void vb_st_free(struct vb_st *st)
{
	if (!st)
		return;
	vb_st_drop_data(st);
	for (size_t i = 0; i < st->n; i++)
		free(st->t[i].name);
	for (size_t i = 0; i < st->nmeta; i++) {
		free(st->key[i]);
		free(st->val[i]);
	}
	free(st->t);
	free(st->key);
	free(st->val);
	free(st);
}

void vb_st_drop_data(struct vb_st *st)
{
	free(st->buf);
	st->buf = NULL;
	for (size_t i = 0; i < st->n; i++)
		st->t[i].data = NULL;
}

static int by_offset(const void *a, const void *b)
{
	const struct vb_st_tensor *x = a, *y = b;
	if (x->data != y->data)
		return x->data < y->data ? -1 : 1;
	return x->nbytes < y->nbytes ? -1 : x->nbytes > y->nbytes;
}

static int parse_meta(struct vb_st *st, json_t *m)
{
	if (!json_is_object(m))
		return vb_err_set("__metadata__ is not an object");
	size_t n = json_object_size(m);
	st->key = calloc(n ? n : 1, sizeof *st->key);
	st->val = calloc(n ? n : 1, sizeof *st->val);
	if (!st->key || !st->val)
		return vb_err_set("out of memory");
	const char *k;
	json_t *v;
	json_object_foreach(m, k, v) {
		if (!json_is_string(v))
			return vb_err_set("__metadata__ value '%.40s' is not a string", k);
		st->key[st->nmeta] = strdup(k);
		st->val[st->nmeta] = strndup(json_string_value(v), json_string_length(v));
		if (!st->key[st->nmeta] || !st->val[st->nmeta]) {
			st->nmeta++;
			return vb_err_set("out of memory");
		}
		st->nmeta++;
	}
	return 0;
}

static int parse_tensor(struct vb_st_tensor *t, const char *name, json_t *v,
                        const unsigned char *data, size_t dlen)
{
	if (!json_is_object(v))
		return vb_err_set("tensor '%.60s': not an object", name);
	json_t *dt = json_object_get(v, "dtype"), *sh = json_object_get(v, "shape"),
	       *off = json_object_get(v, "data_offsets");
	if (!json_is_string(dt) || !json_is_array(sh) || !json_is_array(off) ||
	    json_array_size(off) != 2 || json_object_size(v) != 3)
		return vb_err_set("tensor '%.60s': needs exactly dtype, shape and data_offsets",
		                  name);
	const char *d = json_string_value(dt);
	size_t i;
	for (i = 0; i < sizeof dtypes / sizeof *dtypes; i++)
		if (!strcmp(d, dtypes[i].name))
			break;
	if (i == sizeof dtypes / sizeof *dtypes)
		return vb_err_set("tensor '%.60s': unknown dtype '%.20s'", name, d);
	snprintf(t->dtype, sizeof t->dtype, "%s", dtypes[i].name);
	t->dsize = dtypes[i].size;
	if (json_array_size(sh) > VB_ST_MAXDIM)
		return vb_err_set("tensor '%.60s': more than %d dimensions", name, VB_ST_MAXDIM);
	t->ndim = (int)json_array_size(sh);
	uint64_t count = 1;
	for (int k = 0; k < t->ndim; k++) {
		json_t *e = json_array_get(sh, k);
		if (!json_is_integer(e) || json_integer_value(e) < 0 ||
		    json_integer_value(e) > ((json_int_t)1 << 40))
			return vb_err_set("tensor '%.60s': bad shape", name);
		t->shape[k] = json_integer_value(e);
		if (t->shape[k] && count > (UINT64_C(1) << 40) / (uint64_t)t->shape[k])
			return vb_err_set("tensor '%.60s': shape too large", name);
		count *= (uint64_t)t->shape[k];
	}
	t->count = (int64_t)count;
	json_t *b = json_array_get(off, 0), *e = json_array_get(off, 1);
	if (!json_is_integer(b) || !json_is_integer(e))
		return vb_err_set("tensor '%.60s': bad data_offsets", name);
	json_int_t bo = json_integer_value(b), eo = json_integer_value(e);
	if (bo < 0 || eo < bo || (uint64_t)eo > dlen)
		return vb_err_set("tensor '%.60s': data_offsets [%lld, %lld] outside the %zu data bytes",
		                  name, (long long)bo, (long long)eo, dlen);
	t->nbytes = (size_t)(eo - bo);
	if (t->nbytes != count * (uint64_t)t->dsize)
		return vb_err_set("tensor '%.60s': %zu bytes for %llu elements of %s", name,
		                  t->nbytes, (unsigned long long)count, t->dtype);
	t->data = data + bo;
	if (!(t->name = strdup(name)))
		return vb_err_set("out of memory");
	return 0;
}

/* Parse buf[len], which the result owns from then on (freed with it, or
 * at once on failure). */
static struct vb_st *parse_owned(unsigned char *buf, size_t len)
{
	struct vb_st *st = calloc(1, sizeof *st);
	json_t *root = NULL;
	if (!st) {
		free(buf);
		vb_err_set("out of memory");
		return NULL;
	}
	st->buf = buf;
	st->len = len;
	if (len < 8) {
		vb_err_set("not a safetensors file (only %zu bytes)", len);
		goto fail;
	}
	uint64_t hl = 0;
	for (int i = 7; i >= 0; i--)
		hl = hl << 8 | st->buf[i];
	if (hl < 2 || hl > MAX_HEADER || hl > len - 8) {
		vb_err_set("not a safetensors file (header length %llu, file %zu bytes)",
		           (unsigned long long)hl, len);
		goto fail;
	}
	if (st->buf[8] != '{') {
		vb_err_set("not a safetensors file (header does not start with '{')");
		goto fail;
	}
	json_error_t je;
	root = json_loadb((const char *)st->buf + 8, hl, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		vb_err_set("bad safetensors header: %s", je.text);
		goto fail;
	}
	if (!json_is_object(root)) {
		vb_err_set("bad safetensors header: not a JSON object");
		goto fail;
	}
	const unsigned char *data = st->buf + 8 + hl;
	size_t dlen = len - 8 - hl;
	size_t nt = json_object_size(root);
	st->t = calloc(nt ? nt : 1, sizeof *st->t);
	if (!st->t) {
		vb_err_set("out of memory");
		goto fail;
	}
	const char *k;
	json_t *v;
	json_object_foreach(root, k, v) {
		if (!strcmp(k, "__metadata__")) {
			if (parse_meta(st, v) < 0)
				goto fail;
			continue;
		}
		if (parse_tensor(&st->t[st->n], k, v, data, dlen) < 0) {
			free(st->t[st->n].name);
			st->t[st->n].name = NULL;
			goto fail;
		}
		st->n++;
	}
	qsort(st->t, st->n, sizeof *st->t, by_offset);
	const unsigned char *at = data;
	for (size_t i = 0; i < st->n; i++) {
		if (st->t[i].data != at) {
			vb_err_set("tensor '%.60s': data %s", st->t[i].name,
			           st->t[i].data < at ? "overlaps another tensor" : "leaves a gap");
			goto fail;
		}
		at += st->t[i].nbytes;
	}
	if (at != data + dlen) {
		vb_err_set("%zu bytes of data after the last tensor", (size_t)(data + dlen - at));
		goto fail;
	}
	json_decref(root);
	return st;
fail:
	json_decref(root);
	vb_st_free(st);
	return NULL;
}

struct vb_st *vb_st_parse(const void *src, size_t len)
{
	unsigned char *buf = malloc(len ? len : 1);
	if (!buf) {
		vb_err_set("out of memory");
		return NULL;
	}
	memcpy(buf, src, len);
	return parse_owned(buf, len);
}

/* The len bytes of a regular file, in memory of its own.  Read, not
 * mapped: a large file lands in 2 MiB pages, a few page faults where a
 * mapping takes one per 4 KiB page on first use (most of a model's load
 * time), and the model in use cannot change under the reader. */
static unsigned char *read_file(int fd, size_t len)
{
	unsigned char *p = vb_alloc_big(len, 0);
	size_t n = 0;
	if (!p) {
		vb_err_set("out of memory");
		return NULL;
	}
	while (n < len) {
		ssize_t r = read(fd, p + n, len - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r < 0)
				vb_err_sys("read error");
			else
				vb_err_set("file shrank while read");
			free(p);
			return NULL;
		}
		n += (size_t)r;
	}
	return p;
}

/* The whole of a non-seekable input, in a growing buffer. */
static unsigned char *read_all(int fd, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	unsigned char *buf = malloc(cap);
	for (;;) {
		if (!buf) {
			vb_err_set("out of memory");
			return NULL;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			vb_err_sys("read error");
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n == cap) {
			if (cap >= MAX_READ) {
				free(buf);
				vb_err_set("file too large");
				return NULL;
			}
			unsigned char *nb = realloc(buf, cap * 2);
			if (!nb)
				free(buf);
			buf = nb;
			cap *= 2;
		}
	}
	*len = n;
	return buf;
}

struct vb_st *vb_st_load(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		vb_err_sys("cannot open '%s'", path);
		return NULL;
	}
	struct stat sb;
	struct vb_st *st = NULL;
	if (fstat(fd, &sb) < 0) {
		vb_err_sys("cannot read '%s'", path);
	} else if (S_ISDIR(sb.st_mode)) {
		vb_err_set("cannot read '%s': is a directory", path);
	} else {
		size_t len = 0;
		unsigned char *buf = NULL;
		if (!S_ISREG(sb.st_mode) || sb.st_size == 0)
			buf = read_all(fd, &len);
		else if ((uint64_t)sb.st_size > MAX_FILE)
			vb_err_set("file too large");
		else
			buf = read_file(fd, len = (size_t)sb.st_size);
		if (!buf || !(st = parse_owned(buf, len)))
			vb_err_prefix("'%s'", path);
	}
	close(fd);
	return st;
}

const struct vb_st_tensor *vb_st_find(const struct vb_st *st, const char *name)
{
	for (size_t i = 0; i < st->n; i++)
		if (!strcmp(st->t[i].name, name))
			return &st->t[i];
	return NULL;
}

const char *vb_st_meta(const struct vb_st *st, const char *key)
{
	for (size_t i = 0; i < st->nmeta; i++)
		if (!strcmp(st->key[i], key))
			return st->val[i];
	return NULL;
}

static float half_to_float(uint16_t h)
{
	uint32_t s = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 31, m = h & 1023, u;
	if (e == 0) {
		if (!m) {
			u = s;
		} else { /* subnormal */
			e = 113;
			while (!(m & 1024)) {
				m <<= 1;
				e--;
			}
			u = s | e << 23 | (m & 1023) << 13;
		}
	} else if (e == 31) {
		u = s | 0x7f800000 | m << 13;
	} else {
		u = s | (e + 112) << 23 | m << 13;
	}
	float f;
	memcpy(&f, &u, 4);
	return f;
}

int vb_st_to_float(const struct vb_st_tensor *t, float *out)
{
	const unsigned char *p = t->data;
	const char *d = t->dtype;
	int64_t n = t->count;
	if (!strcmp(d, "F32")) {
		memcpy(out, p, (size_t)n * 4);
	} else if (!strcmp(d, "F64")) {
		for (int64_t i = 0; i < n; i++, p += 8) {
			double v;
			memcpy(&v, p, 8);
			out[i] = (float)v;
		}
	} else if (!strcmp(d, "F16")) {
		for (int64_t i = 0; i < n; i++, p += 2) {
			uint16_t h;
			memcpy(&h, p, 2);
			out[i] = half_to_float(h);
		}
	} else if (!strcmp(d, "BF16")) {
		for (int64_t i = 0; i < n; i++, p += 2) {
			uint32_t u = (uint32_t)(p[0] | p[1] << 8) << 16;
			memcpy(&out[i], &u, 4);
		}
	} else if (!strcmp(d, "I64")) {
		for (int64_t i = 0; i < n; i++, p += 8) {
			int64_t v;
			memcpy(&v, p, 8);
			out[i] = (float)v;
		}
	} else if (!strcmp(d, "I32")) {
		for (int64_t i = 0; i < n; i++, p += 4) {
			int32_t v;
			memcpy(&v, p, 4);
			out[i] = (float)v;
		}
	} else {
		return vb_err_set("tensor '%s': unsupported dtype %s", t->name, d);
	}
	return 0;
}

int vb_st_write(FILE *f, const struct vb_st_out *t, size_t n, const char *const *key,
                const char *const *val, size_t nmeta)
{
	json_t *root = json_object(), *meta = NULL;
	char *hdr = NULL;
	int rc = -1;
	if (!root)
		goto oom;
	if (nmeta) {
		if (!(meta = json_object()) || json_object_set_new(root, "__metadata__", meta) < 0)
			goto oom;
		for (size_t i = 0; i < nmeta; i++)
			if (json_object_set_new(meta, key[i], json_string(val[i])) < 0) {
				vb_err_set("bad metadata '%s' (not UTF-8?)", key[i]);
				goto out;
			}
	}
	uint64_t off = 0;
	for (size_t i = 0; i < n; i++) {
		int ds = !strcmp(t[i].dtype, "I64") ? 8 : 4;
		uint64_t cnt = 1;
		json_t *sh = json_array(), *o = json_array(), *e = json_object();
		if (!sh || !o || !e) {
			json_decref(sh);
			json_decref(o);
			json_decref(e);
			goto oom;
		}
		for (int k = 0; k < t[i].ndim; k++) {
			json_array_append_new(sh, json_integer(t[i].shape[k]));
			cnt *= (uint64_t)t[i].shape[k];
		}
		json_array_append_new(o, json_integer((json_int_t)off));
		off += cnt * ds;
		json_array_append_new(o, json_integer((json_int_t)off));
		json_object_set_new(e, "dtype", json_string(t[i].dtype));
		json_object_set_new(e, "shape", sh);
		json_object_set_new(e, "data_offsets", o);
		if (json_object_set_new(root, t[i].name, e) < 0)
			goto oom;
	}
	if (!(hdr = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER)))
		goto oom;
	size_t hl = strlen(hdr), pad = (8 - hl % 8) % 8;
	unsigned char len8[8];
	for (int i = 0; i < 8; i++)
		len8[i] = (unsigned char)((uint64_t)(hl + pad) >> (8 * i));
	if (fwrite(len8, 1, 8, f) != 8 || fwrite(hdr, 1, hl, f) != hl ||
	    fwrite("        ", 1, pad, f) != pad)
		goto io;
	for (size_t i = 0; i < n; i++) {
		int ds = !strcmp(t[i].dtype, "I64") ? 8 : 4;
		size_t cnt = 1;
		for (int k = 0; k < t[i].ndim; k++)
			cnt *= (size_t)t[i].shape[k];
		if (cnt && fwrite(t[i].data, ds, cnt, f) != cnt)
			goto io;
	}
	rc = 0;
	goto out;
io:
	vb_err_sys("write error");
	goto out;
oom:
	vb_err_set("out of memory");
out:
	free(hdr);
	json_decref(root);
	return rc;
}
