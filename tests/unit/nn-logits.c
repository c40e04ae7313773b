/* nn-logits.c - test helper: the logits of a model for a .npy of images.
 *
 *   nn-logits MODEL < X.npy > logits.npy     (X: N x H x W uint8; out: N x K float32)
 *
 * Without arguments it prints an empty TAP plan, so that running every
 * unit program stays harmless. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "model.h"
#include "nn.h"
#include "tensor.h"

int main(int argc, char **argv)
{
	if (argc < 2) {
		printf("1..0 # SKIP helper program\n");
		return 0;
	}
	struct vb_net *net = vb_model_load_net(argv[1], NULL);
	if (!net) {
		fprintf(stderr, "nn-logits: %s\n", vb_err_msg());
		return 2;
	}
	struct vb_tensor *x = NULL;
	if (vb_npy_read(stdin, &x) != 1 || x->dtype != VB_U8) {
		fprintf(stderr, "nn-logits: need a uint8 .npy on stdin: %s\n", vb_err_msg());
		return 2;
	}
	int n = (int)x->shape[0];
	int64_t shape[2] = {n, net->nclasses};
	struct vb_tensor *out = vb_tensor_new(VB_F32, 2, shape);
	if (!out || vb_net_prepare(net, 1, 16) < 0)
		return 2;
	long isz = (long)net->in.c * net->in.h * net->in.w;
	for (int i = 0; i < n; i += 16) {
		int b = n - i < 16 ? n - i : 16;
		vb_net_load_pixels(net, (uint8_t *)x->data + (long)i * isz, b);
		const float *z = vb_net_forward(net, b, 0);
		memcpy((float *)out->data + (long)i * net->nclasses, z,
		       sizeof(float) * b * net->nclasses);
	}
	if (vb_npy_write(stdout, out) < 0 || fflush(stdout)) {
		fprintf(stderr, "nn-logits: %s\n", vb_err_msg());
		return 2;
	}
	vb_tensor_free(x);
	vb_tensor_free(out);
	vb_net_free(net);
	return 0;
}
