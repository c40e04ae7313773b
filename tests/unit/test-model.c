/* test-model.c - the inference contract of model.h: a network saved with
 * vb_model_save loads back with its classes, input size and normalisation,
 * and vb_model_predict gives the softmax of the network's logits. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "model.h"
#include "nn.h"
#include "tap.h"

static const char *arch =
	"name: t\ninput: [1, 6, 5]\nnormalize: {divide: 255, mean: 0.5, std: 0.5}\nlayers:\n"
	"  - {type: conv, name: c1, filters: 3, kernel: 3}\n"
	"  - {type: batchnorm, name: b1}\n  - {type: relu}\n"
	"  - {type: flatten}\n  - {type: dense, name: f1, units: classes}\n";

int main(void)
{
	struct vb_net *net = vb_arch_build(arch, strlen(arch), 3);
	ok(net != NULL, "network built");
	vb_net_init_weights(net, VB_INIT_GLOROT, 3);
	struct vb_param *rm = vb_net_param(net, "b1.running_mean");
	struct vb_param *rv = vb_net_param(net, "b1.running_var");
	for (int c = 0; c < 3; c++) {
		rm->w[c] = 0.1f * c;
		rv->w[c] = 1 + 0.5f * c;
	}
	char path[] = "/tmp/test-model-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "wb");
	const char *classes[3] = {"calm", "joy", "anger"};
	const char *k[1] = {"data_sha256"}, *v[1] = {"abc"};
	ok(vb_model_save(net, classes, 3, k, v, 1, f) == 0 && fclose(f) == 0, "model saved");
	ok(vb_model_save(net, classes, 2, k, v, 1, stdout) < 0 &&
	   strstr(vb_err_msg(), "2 class names for a network with 3 outputs"),
	   "class count checked on save");

	struct vb_model *m = vb_model_load(path);
	ok(m != NULL, "model loads: %s", m ? "" : vb_err_msg());
	if (!m)
		return tap_done();
	is_int(vb_model_nclasses(m), 3, "class count");
	is_str(vb_model_class_name(m, 2), "anger", "class name");
	ok(vb_model_class_name(m, 3) == NULL, "class index out of range gives NULL");
	int h, w;
	vb_model_input_size(m, &h, &w);
	ok(h == 6 && w == 5, "input size 6x5");
	is_str(vb_model_meta(m, "data_sha256"), "abc", "provenance metadata");

	enum { N = 40 };
	uint8_t px[N * 30];
	for (int i = 0; i < N * 30; i++)
		px[i] = (uint8_t)(i * 37 + 11);
	float p[N * 3];
	ok(vb_model_predict(m, px, N, p) == 0, "predict %d faces", N);
	vb_net_prepare(net, 1, N);
	net->divide = 255, net->mean = 0.5, net->std = 0.5;
	vb_net_load_pixels(net, px, N);
	const float *z = vb_net_forward(net, N, 0);
	double maxd = 0, maxs = 0;
	for (int i = 0; i < N; i++) {
		double s = 0, m0 = z[i * 3];
		for (int c = 1; c < 3; c++)
			if (z[i * 3 + c] > m0)
				m0 = z[i * 3 + c];
		double e[3], se = 0;
		for (int c = 0; c < 3; c++)
			se += e[c] = exp(z[i * 3 + c] - m0);
		for (int c = 0; c < 3; c++) {
			double d = fabs(p[i * 3 + c] - e[c] / se);
			if (d > maxd)
				maxd = d;
			s += p[i * 3 + c];
		}
		if (fabs(s - 1) > maxs)
			maxs = fabs(s - 1);
	}
	ok(maxd < 1e-6, "probabilities are the softmax of the logits (max diff %.2g)", maxd);
	ok(maxs < 1e-5, "probabilities sum to 1");
	/* faces go through the dense layers 16 at a time: each alone the same */
	int same = 1;
	for (int i = 0; i < N; i++) {
		float q[3];
		vb_model_predict(m, px + i * 30, 1, q);
		same &= !memcmp(q, p + i * 3, sizeof q);
	}
	ok(same, "each face alone scores as in a call of %d", N);
	vb_model_free(m);
	vb_model_free(NULL);
	unlink(path);

	/* no dense layer: every layer runs per face */
	static const char gap[] = "name: g\ninput: [1, 6, 5]\nlayers:\n"
		"  - {type: conv, name: c1, filters: 3, kernel: 3}\n  - {type: gap}\n"
		"  - {type: flatten}\n";
	struct vb_net *g = vb_arch_build(gap, strlen(gap), 3);
	ok(g != NULL, "network without a dense layer: %s", g ? "built" : vb_err_msg());
	if (g) {
		m = NULL;
		vb_net_init_weights(g, VB_INIT_GLOROT, 5);
		f = fopen(path, "wb");
		ok(f && vb_model_save(g, classes, 3, k, v, 1, f) == 0 && fclose(f) == 0 &&
		   (m = vb_model_load(path)) != NULL, "saved and loaded");
		vb_net_prepare(g, 1, N);
		vb_net_load_pixels(g, px, N);
		z = vb_net_forward(g, N, 0);
		maxd = 0;
		if (m && vb_model_predict(m, px, N, p) == 0)
			for (int i = 0; i < N; i++) {
				double e[3], se = 0;
				for (int c = 0; c < 3; c++)
					se += e[c] = exp(z[i * 3 + c]);
				for (int c = 0; c < 3; c++)
					maxd = fmax(maxd, fabs(p[i * 3 + c] - e[c] / se));
			}
		ok(m && maxd < 1e-6, "%d faces scored (max diff %.2g)", N, maxd);
		vb_model_free(m);
		vb_net_free(g);
		unlink(path);
	}

	/* weights that are not finite, wherever they are, are refused; the
	 * largest finite ones, negative zero and subnormals are not */
	struct vb_param *fw = vb_net_param(net, "f1.weight");
	static const float odd[] = {NAN, INFINITY, -INFINITY, -NAN};
	static const float fine[] = {FLT_MAX, -FLT_MAX, -0.0f, 1e-45f};
	const long at[] = {0, 17, fw->n - 1};
	int refused = 0, loaded = 0;
	for (int i = 0; i < 4; i++)
		for (int a = 0; a < 3; a++)
			for (int bad = 0; bad < 2; bad++) {
				float keep = fw->w[at[a]];
				fw->w[at[a]] = bad ? odd[i] : fine[i];
				f = fopen(path, "wb");
				if (f && vb_model_save(net, classes, 3, k, v, 1, f) == 0 && fclose(f) == 0) {
					m = vb_model_load(path);
					if (bad)
						refused += !m && strstr(vb_err_msg(), "'f1.weight' holds NaN or infinity");
					else
						loaded += m != NULL;
					vb_model_free(m);
				}
				fw->w[at[a]] = keep;
			}
	is_int(refused, 12, "NaN and infinities refused at the start, inside and at the end");
	is_int(loaded, 12, "the largest finite weights, -0 and subnormals load");
	unlink(path);

	m = vb_model_load("/nonexistent/model.safetensors");
	ok(!m && strstr(vb_err_msg(), "cannot open '/nonexistent/model.safetensors'"),
	   "missing file: %s", vb_err_msg());
	vb_net_free(net);
	return tap_done();
}
