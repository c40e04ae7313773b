/* fuzz/npy.c - libFuzzer target for the .npy stream reader: every array of
 * the input is read whole, then header by header with the data skipped in
 * pieces; any crash, leak or sanitizer report is a bug. */
#include "tensor.h"
#include "err.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f;
	struct vb_tensor *t;
	struct vb_npy_header h;
	char buf[4096];

	if (!size)
		return 0;
	f = fmemopen((void *)data, size, "rb");
	if (!f)
		return 0;
	while (vb_npy_read(f, &t) == 1) {
		if (vb_tensor_count(t) < 0)
			abort();
		vb_tensor_free(t);
	}
	fclose(f);

	f = fmemopen((void *)data, size, "rb");
	if (!f)
		return 0;
	while (vb_npy_read_header(f, &h, 1 << 20) == 1) {
		size_t left = h.nbytes;
		if (h.nbytes != (size_t)h.count * vb_dtype_size(h.dtype))
			abort();
		while (left) {
			size_t n = left < sizeof buf ? left : sizeof buf;
			if (vb_npy_read_data(f, buf, n) < 0)
				break;
			left -= n;
		}
		if (left)
			break;
	}
	fclose(f);
	return 0;
}
