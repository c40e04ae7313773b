/* fuzz/safetensors.c - libFuzzer target for the safetensors parser and the
 * model loader behind it: any input gives a model or an error, never a
 * crash; a file that parses must survive a write and a second parse, and a
 * small network it holds a frozen inference pass. */
#include "err.h"
#include "model.h"
#include "nn.h"
#include "safetensors.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vb_st *st = vb_st_parse(data, size);
	if (!st)
		return 0;
	/* round trip of the F32/I64 tensors and the metadata */
	struct vb_st_out *t = calloc(st->n + 1, sizeof *t);
	size_t n = 0;
	for (size_t i = 0; i < st->n; i++)
		if (!strcmp(st->t[i].dtype, "F32") || !strcmp(st->t[i].dtype, "I64"))
			t[n++] = (struct vb_st_out){st->t[i].name, st->t[i].dtype, st->t[i].ndim,
			                            st->t[i].shape, st->t[i].data};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (f && vb_st_write(f, t, n, (const char *const *)st->key, (const char *const *)st->val,
	                     st->nmeta) == 0 && fclose(f) == 0) {
		struct vb_st *again = vb_st_parse(buf, len);
		if (!again || again->n != n || again->nmeta != st->nmeta)
			abort();
		vb_st_free(again);
	} else if (f) {
		fclose(f);
	}
	free(buf);
	free(t);
	/* the model loader on the same bytes (small files only: it builds nets) */
	if (size < 4096) {
		char path[] = "/tmp/fuzz-st-XXXXXX";
		int fd = mkstemp(path);
		if (fd >= 0) {
			if (write(fd, data, size) == (ssize_t)size) {
				struct vb_net *net = vb_model_load_net(path, NULL);
				/* and its frozen inference pass (Winograd, fused and
				 * dense kernels) on one input, for small networks */
				if (net && vb_shape_size(net->in) <= 4096 && vb_net_freeze(net) == 0 &&
				    vb_net_prepare(net, 1, 1) == 0) {
					long big = vb_shape_size(net->in);
					for (int i = 0; i < net->nlayers; i++)
						if (vb_shape_size(net->layers[i]->out) > big)
							big = vb_shape_size(net->layers[i]->out);
					if (big <= (1 << 20)) {
						for (long i = 0; i < vb_shape_size(net->in); i++)
							net->act[0][i] = (float)(i % 7) - 3;
						vb_net_forward(net, 1, 0);
					}
				}
				vb_net_free(net);
			}
			close(fd);
			unlink(path);
		}
	}
	vb_st_free(st);
	return 0;
}
