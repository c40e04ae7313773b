/* test-npy.c - TAP tests of lib/npy.c: headers, dtypes, streams, hostile
 * input, and round trips with numpy (fixtures made by /usr/bin/python3 at
 * test time; those tests skip when numpy is missing). */
#include "tensor.h"
#include "err.h"
#include "tap.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void last_error(void)
{
	printf("# last error: %s\n", vb_err_msg());
}

/* A .npy file image: preamble of the given version around header text. */
static size_t build(unsigned char *buf, int major, const char *hdr, const void *data, size_t dn)
{
	size_t hl = strlen(hdr), n;

	memcpy(buf, "\x93NUMPY", 6);
	buf[6] = (unsigned char)major;
	buf[7] = 0;
	if (major == 1) {
		buf[8] = hl & 0xff;
		buf[9] = hl >> 8;
		n = 10;
	} else {
		buf[8] = hl & 0xff;
		buf[9] = (hl >> 8) & 0xff;
		buf[10] = (hl >> 16) & 0xff;
		buf[11] = (hl >> 24) & 0xff;
		n = 12;
	}
	memcpy(buf + n, hdr, hl);
	n += hl;
	if (dn)
		memcpy(buf + n, data, dn);
	return n + dn;
}

/* Read the first array of a memory image with vb_npy_read. */
static int read_mem(const unsigned char *buf, size_t n, struct vb_tensor **t)
{
	FILE *f = fmemopen((void *)buf, n, "rb");
	int rc;

	if (!f)
		return -2;
	rc = vb_npy_read(f, t);
	fclose(f);
	return rc;
}

static void bad(const char *hdr, size_t datalen, const char *want, const char *desc)
{
	static unsigned char buf[4096];
	static unsigned char zeros[256];
	struct vb_tensor *t = NULL;
	size_t n = build(buf, 1, hdr, zeros, datalen);
	int rc = read_mem(buf, n, &t);

	ok(rc == -1 && !t && strstr(vb_err_msg(), want), "rejects %s (%s)", desc, vb_err_msg());
	vb_tensor_free(t);
}

static void good(const char *hdr, enum vb_dtype dt, int ndim, int64_t d0, const char *desc)
{
	static unsigned char buf[4096];
	static unsigned char data[256];
	struct vb_tensor *t = NULL;
	size_t n;
	int rc;

	for (int i = 0; i < 256; i++)
		data[i] = (unsigned char)i;
	n = build(buf, 1, hdr, data, 256);
	rc = read_mem(buf, n, &t);
	ok(rc == 1 && t && t->dtype == dt && t->ndim == ndim && (ndim == 0 || t->shape[0] == d0),
	   "accepts %s", desc);
	vb_tensor_free(t);
}

static void test_headers(void)
{
	unsigned char *mem = NULL;
	size_t len = 0;
	FILE *f = open_memstream((char **)&mem, &len);
	int64_t shapes[][4] = { { 0 }, { 3 }, { 3, 4 }, { 2, 3, 4 }, { 1000000, 48, 48, 3 } };
	int ndims[] = { 0, 1, 2, 3, 4 };
	const char *want[] = {
		"{'descr': '<f8', 'fortran_order': False, 'shape': (), }",
		"{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }",
		"{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }",
		"{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3, 4), }",
		"{'descr': '<f8', 'fortran_order': False, 'shape': (1000000, 48, 48, 3), }",
	};

	for (int i = 0; i < 5; i++) {
		size_t start, hl;
		int64_t sh[4];

		fflush(f);
		start = len;
		memcpy(sh, shapes[i], sizeof sh);
		ok(vb_npy_write_header(f, VB_F64, ndims[i], sh) == 0, "write header ndim %d", ndims[i]);
		fflush(f);
		hl = mem[start + 8] | mem[start + 9] << 8;
		ok((len - start) % 64 == 0 && hl + 10 == len - start && mem[len - 1] == '\n',
		   "header ndim %d: %zu bytes, multiple of 64, ends in newline", ndims[i], len - start);
		ok(!memcmp(mem + start + 10, want[i], strlen(want[i])) &&
		   mem[start + 10 + strlen(want[i])] == ' ', "header ndim %d text as numpy writes it", ndims[i]);
	}
	fclose(f);
	free(mem);

	good("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }\n", VB_F64, 1, 3, "numpy's own layout");
	good("{'shape': (2, 4), 'fortran_order': False, 'descr': '<i4'}", VB_I32, 2, 2, "keys in another order, no trailing comma");
	good("{ \"descr\" : \"|u1\" , \"fortran_order\" : False , \"shape\" : ( 7 , ) , }   \n", VB_U8, 1, 7, "double quotes and spaces");
	good("{'descr': '<u1', 'fortran_order': False, 'shape': (5,)}", VB_U8, 1, 5, "'<u1'");
	good("{'descr': '=f4', 'fortran_order': False, 'shape': (4, 2,)}", VB_F32, 2, 4, "'=f4' and trailing comma in a 2-tuple");
	good("{'descr': '|i1', 'fortran_order': False, 'shape': ()}", VB_I8, 0, 1, "an empty shape (scalar)");
	good("{'descr': '<i8', 'fortran_order': False, 'shape': (0, 5)}", VB_I64, 2, 0, "a zero dimension");
	good("{'descr': '<i8', 'fortran_order': False, 'shape': (2L, 3L)}", VB_I64, 2, 2, "Python 2 long suffixes");

	bad("{'descr': '>f8', 'fortran_order': False, 'shape': (3,), }", 24, "big-endian", "big-endian '>f8'");
	bad("{'descr': '>i4', 'fortran_order': False, 'shape': (3,), }", 12, "big-endian", "big-endian '>i4'");
	bad("{'descr': '<c16', 'fortran_order': False, 'shape': (3,), }", 48, "unsupported dtype", "complex");
	bad("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", 3, "unsupported dtype", "bool");
	bad("{'descr': '<u4', 'fortran_order': False, 'shape': (3,), }", 12, "unsupported dtype", "uint32");
	bad("{'descr': '|f8', 'fortran_order': False, 'shape': (3,), }", 24, "unsupported dtype", "'|f8'");
	bad("{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (3,), }", 24, "quoted string", "structured dtype");
	bad("{'descr': '<f8', 'fortran_order': True, 'shape': (3, 2), }", 48, "fortran_order", "fortran_order True");
	bad("{'descr': '<f8', 'fortran_order': 1, 'shape': (3,), }", 24, "True or False", "fortran_order 1");
	bad("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1), }", 8, "more than 4", "5 dimensions");
	bad("{'descr': '<f8', 'fortran_order': False, 'shape': (3), }", 24, "trailing comma", "(3) without comma");
	bad("{'descr': '<f8', 'fortran_order': False, 'shape': (-3,), }", 24, "non-negative", "negative dimension");
	bad("{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4611686018427387904), }", 0, "overflows", "element count overflow");
	bad("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,), }", 0, "overflows", "dimension overflow");
	bad("{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776, 1024), }", 0, "too large", "absurd size (8 PiB)");
	bad("{'descr': '<f8', 'fortran_order': False, 'shape': (1073741824,), }", 24, "truncated .npy data", "8 GiB header with 24 bytes of data");
	bad("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", 23, "truncated .npy data", "one byte short");
	bad("{'descr': '<f8', 'fortran_order': False}", 8, "missing key 'shape'", "missing shape");
	bad("{'descr': '<f8', 'shape': (3,)}", 24, "missing key 'fortran_order'", "missing fortran_order");
	bad("{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (3,)}", 24, "duplicate", "duplicate key");
	bad("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), 'extra': 1}", 24, "unexpected key", "unknown key");
	bad("'descr': '<f8', 'fortran_order': False, 'shape': (3,)}", 24, "expected '{'", "no opening brace");
	bad("{'descr': '<f8', 'fortran_order': False, 'shape': (3,)", 24, "expected ','", "no closing brace");
	bad("{'descr': '<f8' 'fortran_order': False, 'shape': (3,)}", 24, "expected ','", "missing comma");
	bad("{'descr': '<f8', 'fortran_order': False, 'shape': (3,)} x", 24, "text after", "junk after the dict");
	bad("{'descr: '<f8', 'fortran_order': False, 'shape': (3,)}", 24, "expected ':'", "broken quotes");
	bad("{'descr': '<f8', 'fortran_order': False, 'shape': (3,", 24, "shape", "unterminated shape");
	bad("", 0, "expected '{'", "empty header");

	/* preamble problems */
	{
		unsigned char buf[256];
		struct vb_tensor *t = NULL;
		const char *hdr = "{'descr': '<f8', 'fortran_order': False, 'shape': (0,)}";
		size_t n = build(buf, 1, hdr, NULL, 0);

		buf[0] = 'X';
		ok(read_mem(buf, n, &t) == -1 && strstr(vb_err_msg(), "bad magic"), "rejects bad magic");
		buf[0] = 0x93;
		buf[6] = 4;
		ok(read_mem(buf, n, &t) == -1 && strstr(vb_err_msg(), "version 4.0"), "rejects version 4.0");
		buf[6] = 1;
		ok(read_mem(buf, 5, &t) == -1 && strstr(vb_err_msg(), "truncated .npy preamble"), "rejects truncated magic");
		ok(read_mem(buf, 9, &t) == -1 && strstr(vb_err_msg(), "truncated .npy header length"), "rejects truncated length");
		ok(read_mem(buf, 30, &t) == -1 && strstr(vb_err_msg(), "truncated .npy header"), "rejects truncated header");
		ok(read_mem(buf, 0, &t) == 0 && !t, "empty input is a clean end of stream");
		ok(read_mem(buf, n, &t) == 1 && t && t->shape[0] == 0, "zero-length array reads");
		vb_tensor_free(t);
		n = build(buf, 2, "{}", NULL, 0);
		buf[11] = 0x7f; /* 2 GiB header length */
		ok(read_mem(buf, n, &t) == -1 && strstr(vb_err_msg(), "header too long"), "rejects a 2 GiB header length");
	}
	{
		struct vb_npy_header h;
		unsigned char buf[256];
		size_t n = build(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (100, 100)}", NULL, 0);
		FILE *f = fmemopen(buf, n, "rb");

		ok(vb_npy_read_header(f, &h, 1000) == -1 && strstr(vb_err_msg(), "limit of 1000"), "max_bytes limit enforced");
		fclose(f);
		f = fmemopen(buf, n, "rb");
		ok(vb_npy_read_header(f, &h, 0) == 1 && h.count == 10000 && h.nbytes == 40000 && h.ndim == 2,
		   "read_header fills count and nbytes");
		fclose(f);
	}
}

static double value(int i)
{
	return (i * 37 % 101) - 50;
}

/* Every dtype through write and read, two arrays back to back per file. */
static void test_roundtrip(void)
{
	enum vb_dtype dts[] = { VB_U8, VB_I8, VB_I32, VB_I64, VB_F32, VB_F64 };
	FILE *f = tmpfile();
	int64_t sh[3] = { 2, 3, 5 };

	for (int k = 0; k < 6; k++) {
		struct vb_tensor *t = vb_tensor_new(dts[k], 3, sh);
		for (int i = 0; i < 30; i++) {
			double v = value(i);
			switch (dts[k]) {
			case VB_U8: ((uint8_t *)t->data)[i] = (uint8_t)(v + 50); break;
			case VB_I8: ((int8_t *)t->data)[i] = (int8_t)v; break;
			case VB_I32: ((int32_t *)t->data)[i] = (int32_t)v * 1000000; break;
			case VB_I64: ((int64_t *)t->data)[i] = (int64_t)v * 1000000000000LL; break;
			case VB_F32: ((float *)t->data)[i] = (float)(v / 3); break;
			case VB_F64: ((double *)t->data)[i] = v / 3; break;
			}
		}
		ok(vb_npy_write(f, t) == 0, "write %s", vb_dtype_descr(dts[k]));
		vb_tensor_free(t);
	}
	rewind(f);
	for (int k = 0; k < 6; k++) {
		struct vb_tensor *t = NULL;
		int good = vb_npy_read(f, &t) == 1 && t->dtype == dts[k] && t->ndim == 3 &&
			   t->shape[0] == 2 && t->shape[1] == 3 && t->shape[2] == 5 && t->shape[3] == 1;
		for (int i = 0; good && i < 30; i++) {
			double v = value(i);
			switch (dts[k]) {
			case VB_U8: good = ((uint8_t *)t->data)[i] == (uint8_t)(v + 50); break;
			case VB_I8: good = ((int8_t *)t->data)[i] == (int8_t)v; break;
			case VB_I32: good = ((int32_t *)t->data)[i] == (int32_t)v * 1000000; break;
			case VB_I64: good = ((int64_t *)t->data)[i] == (int64_t)v * 1000000000000LL; break;
			case VB_F32: good = ((float *)t->data)[i] == (float)(v / 3); break;
			case VB_F64: good = ((double *)t->data)[i] == v / 3; break;
			}
		}
		ok(good, "read back %s, array %d of a stream", vb_dtype_descr(dts[k]), k + 1);
		vb_tensor_free(t);
	}
	{
		struct vb_tensor *t = NULL;
		ok(vb_npy_read(f, &t) == 0 && !t, "clean end after the last array");
	}
	fclose(f);

	{
		int64_t big[1] = { INT64_MAX };
		ok(vb_tensor_new(VB_F64, 1, big) == NULL && strstr(vb_err_msg(), "too large"), "vb_tensor_new refuses overflow");
		ok(vb_npy_write_header(stdout, VB_F64, 5, big) == -1, "writer refuses 5 dimensions");
		big[0] = -1;
		ok(vb_npy_write_header(stdout, VB_F64, 1, big) == -1, "writer refuses a negative dimension");
	}
	{
		FILE *full = fopen("/dev/full", "wb");
		if (full) {
			int64_t n[1] = { 100000 };
			struct vb_tensor *t = vb_tensor_new(VB_F64, 1, n);
			setvbuf(full, NULL, _IONBF, 0);
			ok(vb_npy_write(full, t) == -1 && strstr(vb_err_msg(), "No space left"), "write to /dev/full fails clearly");
			vb_tensor_free(t);
			fclose(full);
		} else {
			skip("no /dev/full");
		}
	}
}

static const char *py_make =
	"import numpy as np, sys, os\n"
	"d = sys.argv[1]\n"
	"def arr(dt, shape):\n"
	"    n = int(np.prod(shape))\n"
	"    a = (np.arange(n) * 37 % 101 - 50)\n"
	"    if dt == 'u1': a = a + 50\n"
	"    if dt[0] == 'f': a = a / 3\n"
	"    return a.astype(dt).reshape(shape)\n"
	"for dt in ['u1', 'i1', 'i4', 'i8', 'f4', 'f8']:\n"
	"    for v in [(1, 0), (2, 0), (3, 0)]:\n"
	"        with open(os.path.join(d, '%s-v%d.npy' % (dt, v[0])), 'wb') as f:\n"
	"            np.lib.format.write_array(f, arr(dt, (4, 3, 2)), version=v)\n"
	"    np.save(os.path.join(d, '%s-scalar.npy' % dt), arr(dt, ()))\n"
	"with open(os.path.join(d, 'stream.npy'), 'wb') as f:\n"
	"    np.save(f, arr('u1', (5, 48, 48)))\n"
	"    np.save(f, np.array([0, 3, 1, 2, 3], dtype='i8'))\n"
	"np.save(os.path.join(d, 'big.npy'), arr('f4', (1500, 1000)))\n";

static const char *py_check =
	"import numpy as np, sys, os\n"
	"d = sys.argv[1]\n"
	"def arr(dt, shape):\n"
	"    n = int(np.prod(shape))\n"
	"    a = (np.arange(n) * 37 % 101 - 50)\n"
	"    if dt == 'u1': a = a + 50\n"
	"    if dt[0] == 'f': a = a / 3\n"
	"    return a.astype(dt).reshape(shape)\n"
	"bad = 0\n"
	"for dt in ['u1', 'i1', 'i4', 'i8', 'f4', 'f8']:\n"
	"    with open(os.path.join(d, 'c-%s.npy' % dt), 'rb') as f:\n"
	"        a = np.load(f); b = np.load(f)\n"
	"        if f.read(1): bad += 1; print('trailing bytes', dt)\n"
	"    want = arr(dt, (4, 3, 2))\n"
	"    if a.dtype != want.dtype or a.shape != want.shape or not np.array_equal(a, want): bad += 1; print('mismatch', dt)\n"
	"    if b.shape != () or b != arr(dt, ()): bad += 1; print('scalar mismatch', dt)\n"
	"sys.exit(1 if bad else 0)\n";

static int check_values(const struct vb_tensor *t, enum vb_dtype dt)
{
	int64_t n = vb_tensor_count(t);

	for (int64_t i = 0; i < n; i++) {
		double v = (double)(i * 37 % 101 - 50), got = 0, want;
		switch (dt) {
		case VB_U8: got = ((uint8_t *)t->data)[i]; want = v + 50; break;
		case VB_I8: got = ((int8_t *)t->data)[i]; want = v; break;
		case VB_I32: got = ((int32_t *)t->data)[i]; want = v; break;
		case VB_I64: got = (double)((int64_t *)t->data)[i]; want = v; break;
		case VB_F32: got = ((float *)t->data)[i]; want = (float)(v / 3); break;
		default: got = ((double *)t->data)[i]; want = v / 3; break;
		}
		if (got != want)
			return 0;
	}
	return 1;
}

static int run_python(const char *script, const char *dir)
{
	char path[512], cmd[1100];
	FILE *f;
	int rc;

	snprintf(path, sizeof path, "%s/script.py", dir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(script, f);
	fclose(f);
	snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' '%s'", path, dir);
	rc = system(cmd);
	return rc;
}

static void test_numpy(void)
{
	char dir[] = "/tmp/test-npy.XXXXXX", path[600], cmd[700];
	const char *names[] = { "u1", "i1", "i4", "i8", "f4", "f8" };
	enum vb_dtype dts[] = { VB_U8, VB_I8, VB_I32, VB_I64, VB_F32, VB_F64 };

	if (system("/usr/bin/python3 -c 'import numpy' 2>/dev/null") != 0) {
		skip("no numpy in /usr/bin/python3");
		return;
	}
	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return;
	}
	ok(run_python(py_make, dir) == 0, "numpy wrote the fixtures");
	for (int k = 0; k < 6; k++) {
		for (int v = 1; v <= 3; v++) {
			struct vb_tensor *t = NULL;
			FILE *f;

			snprintf(path, sizeof path, "%s/%s-v%d.npy", dir, names[k], v);
			f = fopen(path, "rb");
			ok(f && vb_npy_read(f, &t) == 1 && t->dtype == dts[k] && t->ndim == 3 &&
			   t->shape[0] == 4 && t->shape[1] == 3 && t->shape[2] == 2 && check_values(t, dts[k]),
			   "reads numpy's %s version %d.0", names[k], v);
			vb_tensor_free(t);
			if (f)
				fclose(f);
		}
		{
			struct vb_tensor *t = NULL, *s = NULL;
			int64_t sh[3] = { 4, 3, 2 };
			FILE *f, *o;

			snprintf(path, sizeof path, "%s/%s-scalar.npy", dir, names[k]);
			f = fopen(path, "rb");
			ok(f && vb_npy_read(f, &s) == 1 && s->ndim == 0 && vb_tensor_count(s) == 1 &&
			   check_values(s, dts[k]), "reads numpy's %s scalar", names[k]);
			if (f)
				fclose(f);
			/* C writes the same two arrays for numpy to check */
			snprintf(path, sizeof path, "%s/c-%s.npy", dir, names[k]);
			o = fopen(path, "wb");
			t = vb_tensor_new(dts[k], 3, sh);
			for (int i = 0; t && i < 24; i++) {
				double x = i * 37 % 101 - 50;
				switch (dts[k]) {
				case VB_U8: ((uint8_t *)t->data)[i] = (uint8_t)(x + 50); break;
				case VB_I8: ((int8_t *)t->data)[i] = (int8_t)x; break;
				case VB_I32: ((int32_t *)t->data)[i] = (int32_t)x; break;
				case VB_I64: ((int64_t *)t->data)[i] = (int64_t)x; break;
				case VB_F32: ((float *)t->data)[i] = (float)(x / 3); break;
				case VB_F64: ((double *)t->data)[i] = x / 3; break;
				}
			}
			ok(o && t && s && vb_npy_write(o, t) == 0 && vb_npy_write(o, s) == 0 && fclose(o) == 0,
			   "C writes %s", names[k]);
			vb_tensor_free(t);
			vb_tensor_free(s);
		}
	}
	{
		struct vb_tensor *x = NULL, *y = NULL, *z = NULL;
		FILE *f;

		snprintf(cmd, sizeof cmd, "cat '%s/stream.npy'", dir);
		f = popen(cmd, "r");
		ok(f && vb_npy_read(f, &x) == 1 && vb_npy_read(f, &y) == 1 && vb_npy_read(f, &z) == 0 &&
		   x->dtype == VB_U8 && x->ndim == 3 && x->shape[0] == 5 && x->shape[1] == 48 &&
		   check_values(x, VB_U8) && y->dtype == VB_I64 && y->ndim == 1 && y->shape[0] == 5 &&
		   ((int64_t *)y->data)[1] == 3, "reads an X, y stream from a pipe");
		if (f)
			pclose(f);
		vb_tensor_free(x);
		vb_tensor_free(y);
	}
	{
		struct vb_tensor *x = NULL;
		FILE *f;

		snprintf(cmd, sizeof cmd, "cat '%s/big.npy'", dir);
		f = popen(cmd, "r");
		ok(f && vb_npy_read(f, &x) == 1 && x->shape[0] == 1500 && x->shape[1] == 1000 &&
		   check_values(x, VB_F32), "reads a 6 MB array from a pipe in chunks");
		if (f)
			pclose(f);
		vb_tensor_free(x);
	}
	ok(run_python(py_check, dir) == 0, "numpy reads back what C wrote, identical");
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
}

int main(void)
{
	tap_diag = last_error;
	test_headers();
	test_roundtrip();
	test_numpy();
	return tap_done();
}
