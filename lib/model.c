/* model.c - emotion models as .safetensors files: load (network from the
 * architecture in the metadata, weights by PyTorch name), save, and the
 * inference contract of model.h. */
#include "model.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "nn.h"
#include "safetensors.h"

#define FORMAT "vibify-emotion-model/1"
/* A call's faces go through the convolutions one at a time, which touches
 * the least fresh memory (pages cost 12-15 us each to fault in on a virtual
 * machine), then through the dense layers together, up to TAIL at once, so
 * that their weights (9.4 MB for the shipped network, mostly out of the
 * cache after a frame's face detection) are read once per frame rather
 * than once per face.  A face scores the same alone or with others. */
#define TAIL 16

struct vb_model {
	struct vb_net *net;
	char **classes;
	int ncls;
	struct vb_st *st;     /* metadata */
	int split;            /* the first dense layer (nlayers if none) */
	long hsz;             /* floats per face going into it (or out of the net) */
	float *tail[2];       /* buffers for layers from split on, TAIL faces */
};

void vb_model_free_classes(char **c)
{
	if (!c)
		return;
	for (int i = 0; c[i]; i++)
		free(c[i]);
	free(c);
}

/* The "classes" metadata: a JSON array of 2..256 non-empty strings. */
static char **parse_classes(const char *s, int *n)
{
	json_error_t je;
	json_t *a = s ? json_loads(s, 0, &je) : NULL;
	char **c = NULL;
	if (!json_is_array(a) || json_array_size(a) < 2 || json_array_size(a) > 256) {
		vb_err_set("metadata 'classes' is not a JSON array of 2 to 256 names");
		goto out;
	}
	*n = (int)json_array_size(a);
	if (!(c = calloc(*n + 1, sizeof *c))) {
		vb_err_set("out of memory");
		goto out;
	}
	for (int i = 0; i < *n; i++) {
		json_t *e = json_array_get(a, i);
		if (!json_is_string(e) || !*json_string_value(e)) {
			vb_err_set("metadata 'classes': entry %d is not a name", i + 1);
			vb_model_free_classes(c);
			c = NULL;
			goto out;
		}
		if (!(c[i] = strdup(json_string_value(e)))) {
			vb_err_set("out of memory");
			vb_model_free_classes(c);
			c = NULL;
			goto out;
		}
	}
out:
	json_decref(a);
	return c;
}

/* The "normalize" metadata: {"divide": d, "mean": m, "std": s}. */
static int parse_norm(const char *s, struct vb_net *net)
{
	json_error_t je;
	json_t *o = json_loads(s, 0, &je);
	int rc = -1;
	json_t *d = json_object_get(o, "divide"), *m = json_object_get(o, "mean"),
	       *sd = json_object_get(o, "std");
	if (!json_is_number(d) || !json_is_number(m) || !json_is_number(sd) ||
	    !(json_number_value(d) > 0) || !(json_number_value(sd) > 0) ||
	    !isfinite(json_number_value(m))) {
		vb_err_set("metadata 'normalize' is not {\"divide\": >0, \"mean\": x, \"std\": >0}");
		goto out;
	}
	net->divide = json_number_value(d);
	net->mean = json_number_value(m);
	net->std = json_number_value(sd);
	rc = 0;
out:
	json_decref(o);
	return rc;
}

/* Float32 data the host can read in place: little-endian, aligned. */
static int in_place(const struct vb_st_tensor *t)
{
	const union { uint16_t u; uint8_t b; } one = {1};
	return one.b == 1 && !strcmp(t->dtype, "F32") && (uintptr_t)t->data % sizeof(float) == 0;
}

/* Whether the n floats at w are all finite.  An exponent of all ones plus
 * one carries into bit 31; one pass of and, add and or with no early exit,
 * in blocks of a fixed length, so it vectorises. */
static int all_finite(const float *w, long n)
{
	uint32_t m[16] = {0}, u;
	long j = 0;
	for (; j + 16 <= n; j += 16)
		for (int k = 0; k < 16; k++) {
			memcpy(&u, w + j + k, sizeof u);
			m[k] |= (u & 0x7f800000u) + 0x00800000u;
		}
	for (; j < n; j++) {
		memcpy(&u, w + j, sizeof u);
		m[0] |= (u & 0x7f800000u) + 0x00800000u;
	}
	for (int k = 1; k < 16; k++)
		m[0] |= m[k];
	return !(m[0] & 0x80000000u);
}

/* The network of a model file.  With borrow, float32 weights are read in
 * place from st, which must then outlive the network: no copy, and no
 * fresh memory to fault in (10 MB for the shipped model, ~20 ms). */
static struct vb_net *net_from_st(const struct vb_st *st, char ***classes, int borrow,
                                  int *borrowed)
{
	const char *fmt = vb_st_meta(st, "format");
	const char *arch = vb_st_meta(st, "architecture");
	if (!arch) {
		vb_err_set("not a Vibify model (no 'architecture' in the metadata)");
		return NULL;
	}
	if (fmt && strcmp(fmt, FORMAT)) {
		vb_err_set("unsupported model format '%.40s'", fmt);
		return NULL;
	}
	int ncls = 0;
	char **cls = parse_classes(vb_st_meta(st, "classes"), &ncls);
	if (!cls)
		return NULL;
	struct vb_net *net = vb_arch_build(arch, strlen(arch), ncls);
	if (!net) {
		vb_err_prefix("architecture");
		goto fail;
	}
	const char *norm = vb_st_meta(st, "normalize");
	if (norm && parse_norm(norm, net) < 0)
		goto fail;
	for (int i = 0; i < net->nparams; i++) {
		struct vb_param *p = net->params[i];
		const struct vb_st_tensor *t = vb_st_find(st, p->name);
		if (!t) {
			vb_err_set("missing tensor '%s'", p->name);
			goto fail;
		}
		int ok = t->count == p->n && (t->ndim == p->ndim || p->ndim == 0);
		for (int k = 0; ok && k < p->ndim; k++)
			ok = t->shape[k] == p->shape[k];
		if (!ok) {
			vb_err_set("tensor '%s' has the wrong shape for the architecture", p->name);
			goto fail;
		}
		if (borrow && p->n > 0 && in_place(t)) {
			free(p->w);
			p->w = (float *)(uintptr_t)t->data;   /* read only */
			p->borrowed = 1;
			*borrowed = 1;
		} else if (vb_st_to_float(t, p->w) < 0) {
			goto fail;
		}
		if (!all_finite(p->w, p->n)) {
			vb_err_set("tensor '%s' holds NaN or infinity", p->name);
			goto fail;
		}
	}
	for (size_t i = 0; i < st->n; i++)
		if (!vb_net_param(net, st->t[i].name)) {
			vb_err_set("unexpected tensor '%.60s' for the architecture", st->t[i].name);
			goto fail;
		}
	if (classes)
		*classes = cls;
	else
		vb_model_free_classes(cls);
	return net;
fail:
	vb_net_free(net);
	vb_model_free_classes(cls);
	return NULL;
}

struct vb_net *vb_model_load_net(const char *path, char ***classes)
{
	struct vb_st *st = vb_st_load(path);
	if (!st)
		return NULL;
	int borrowed = 0;
	struct vb_net *net = net_from_st(st, classes, 0, &borrowed);
	vb_st_free(st);
	if (!net)
		vb_err_prefix("'%s'", path);
	return net;
}

struct vb_model *vb_model_load(const char *path)
{
	struct vb_model *m = calloc(1, sizeof *m);
	if (!m) {
		vb_err_set("out of memory");
		return NULL;
	}
	if (!(m->st = vb_st_load(path)))
		goto fail;
	int borrowed = 0;
	if (!(m->net = net_from_st(m->st, &m->classes, 1, &borrowed))) {
		vb_err_prefix("'%s'", path);
		goto fail;
	}
	/* keep the metadata; the tensor bytes too if the weights are read there */
	if (!borrowed)
		vb_st_drop_data(m->st);
	m->ncls = m->net->nclasses;
	if (vb_net_freeze(m->net) < 0 || vb_net_prepare(m->net, 1, 1) < 0) {
		vb_err_set("'%s': out of memory", path);
		goto fail;
	}
	struct vb_net *net = m->net;
	m->split = 0;
	while (m->split < net->nlayers && !vb_dense_is(net->layers[m->split]))
		m->split++;
	long big = m->hsz = vb_shape_size(m->split ? net->layers[m->split - 1]->out : net->in);
	for (int i = m->split; i < net->nlayers; i++)
		if (vb_shape_size(net->layers[i]->out) > big)
			big = vb_shape_size(net->layers[i]->out);
	if (!(m->tail[0] = malloc(sizeof(float) * TAIL * big)) ||
	    !(m->tail[1] = malloc(sizeof(float) * TAIL * big))) {
		vb_err_set("'%s': out of memory", path);
		goto fail;
	}
	return m;
fail:
	vb_model_free(m);
	return NULL;
}

void vb_model_free(struct vb_model *m)
{
	if (!m)
		return;
	vb_net_free(m->net);
	vb_model_free_classes(m->classes);
	vb_st_free(m->st);
	free(m->tail[0]);
	free(m->tail[1]);
	free(m);
}

int vb_model_nclasses(const struct vb_model *m)
{
	return m->ncls;
}

const char *vb_model_class_name(const struct vb_model *m, int i)
{
	return i >= 0 && i < m->ncls ? m->classes[i] : NULL;
}

void vb_model_input_size(const struct vb_model *m, int *h, int *w)
{
	*h = m->net->in.h;
	*w = m->net->in.w;
}

const char *vb_model_meta(const struct vb_model *m, const char *key)
{
	return vb_st_meta(m->st, key);
}

int vb_model_predict(struct vb_model *m, const uint8_t *px, int n, float *probs)
{
	if (n < 0)
		return vb_err_set("negative image count");
	long isz = (long)m->net->in.c * m->net->in.h * m->net->in.w;
	for (int i = 0; i < n; i += TAIL) {
		int b = n - i < TAIL ? n - i : TAIL;
		for (int f = 0; f < b; f++) {
			vb_net_load_pixels(m->net, px + (long)(i + f) * isz, 1);
			memcpy(m->tail[0] + f * m->hsz, vb_net_forward_to(m->net, m->split, 1, 0),
			       sizeof(float) * m->hsz);
		}
		const float *z = vb_net_infer(m->net, m->split, m->net->nlayers, m->tail, b);
		vb_softmax(z, b, m->ncls, probs + (long)i * m->ncls);
	}
	return 0;
}

int vb_model_save(const struct vb_net *net, const char *const *classes, int ncls,
                  const char *const *key, const char *const *val, int nextra, FILE *f)
{
	if (ncls != net->nclasses)
		return vb_err_set("%d class names for a network with %d outputs", ncls,
		                  net->nclasses);
	json_t *a = json_array();
	char *cls = NULL, in[64], norm[256];
	int rc = -1;
	for (int i = 0; a && i < ncls; i++)
		json_array_append_new(a, json_string(classes[i]));
	if (!a || !(cls = json_dumps(a, JSON_COMPACT))) {
		json_decref(a);
		return vb_err_set("out of memory");
	}
	json_decref(a);
	snprintf(in, sizeof in, "[%d, %d, %d]", net->in.c, net->in.h, net->in.w);
	snprintf(norm, sizeof norm, "{\"divide\": %.17g, \"mean\": %.17g, \"std\": %.17g}",
	         net->divide, net->mean, net->std);
	int nm = 5 + nextra;
	const char **k = calloc(nm, sizeof *k), **v = calloc(nm, sizeof *v);
	struct vb_st_out *t = calloc(net->nparams ? net->nparams : 1, sizeof *t);
	int64_t *nbt = calloc(net->nparams ? net->nparams : 1, sizeof *nbt);
	if (!k || !v || !t || !nbt) {
		vb_err_set("out of memory");
		goto out;
	}
	k[0] = "format", v[0] = FORMAT;
	k[1] = "architecture", v[1] = net->arch_text ? net->arch_text : "";
	k[2] = "classes", v[2] = cls;
	k[3] = "input_shape", v[3] = in;
	k[4] = "normalize", v[4] = norm;
	for (int i = 0; i < nextra; i++)
		k[5 + i] = key[i], v[5 + i] = val[i];
	for (int i = 0; i < net->nparams; i++) {
		const struct vb_param *p = net->params[i];
		t[i].name = p->name;
		t[i].ndim = p->ndim;
		t[i].shape = p->shape;
		if (p->ndim == 0) { /* num_batches_tracked: an int64 scalar */
			nbt[i] = (int64_t)p->w[0];
			t[i].dtype = "I64";
			t[i].data = &nbt[i];
		} else {
			t[i].dtype = "F32";
			t[i].data = p->w;
		}
	}
	rc = vb_st_write(f, t, net->nparams, k, v, nm);
out:
	free(cls);
	free(k);
	free(v);
	free(t);
	free(nbt);
	return rc;
}
