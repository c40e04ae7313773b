/* arch.c - build a network from its architecture YAML:
 *
 *   name: vibify
 *   input: [1, 48, 48]                       # channels, height, width
 *   normalize: {divide: 255, mean: 0, std: 1} # x = (px / divide - mean) / std
 *   init: glorot                             # or he
 *   layers:
 *     - {type: conv, name: conv1, filters: 32, kernel: 3, padding: same}
 *     - {type: batchnorm, name: bn1}
 *     - {type: dense, name: fc2, units: classes}
 *
 * Layer types: conv (filters, kernel, stride 1, padding same|valid, bias
 * true, depthwise false), dwconv (a depthwise conv), batchnorm (eps 1e-3,
 * momentum 0.1, as PyTorch), relu, maxpool (size 2, stride = size), gap
 * (global average pooling), dropout (rate), flatten, dense (units or
 * "classes", bias true).  Names default to conv1, bn1, fc1, ... by type;
 * they prefix the PyTorch-style tensor names. */
#include "nn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "yaml.h"

char *vb_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		vb_err_sys("cannot open '%s'", path);
		return NULL;
	}
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (!buf) {
			fclose(f);
			vb_err_set("out of memory");
			return NULL;
		}
		n += fread(buf + n, 1, cap - 1 - n, f);
		if (n < cap - 1)
			break;
		if (cap > (64u << 20)) {
			free(buf);
			fclose(f);
			vb_err_set("'%s': file too large", path);
			return NULL;
		}
		char *nb = realloc(buf, cap * 2);
		if (!nb)
			free(buf);
		buf = nb;
		cap *= 2;
	}
	if (ferror(f)) {
		free(buf);
		fclose(f);
		vb_err_sys("cannot read '%s'", path);
		return NULL;
	}
	fclose(f);
	buf[n] = 0;
	if (len)
		*len = n;
	return buf;
}

/* Optional integer key with a default and a range. */
static int get_long(const struct vb_yaml *m, const char *key, long def, long lo, long hi,
                    long *out)
{
	struct vb_yaml *v = vb_yaml_get(m, key);
	if (!v) {
		*out = def;
		return 0;
	}
	if (vb_yaml_long(v, out) < 0)
		return vb_err_prefix("%s", key);
	if (*out < lo || *out > hi)
		return vb_err_set("line %d: %s must be in [%ld, %ld]", v->line, key, lo, hi);
	return 0;
}

static int get_double(const struct vb_yaml *m, const char *key, double def, double *out)
{
	struct vb_yaml *v = vb_yaml_get(m, key);
	if (!v) {
		*out = def;
		return 0;
	}
	if (vb_yaml_double(v, out) < 0)
		return vb_err_prefix("%s", key);
	return 0;
}

static int get_bool(const struct vb_yaml *m, const char *key, int def, int *out)
{
	struct vb_yaml *v = vb_yaml_get(m, key);
	const char *s = vb_yaml_str(v);
	*out = def;
	if (!v)
		return 0;
	if (s && (!strcmp(s, "true") || !strcmp(s, "yes")))
		*out = 1;
	else if (s && (!strcmp(s, "false") || !strcmp(s, "no")))
		*out = 0;
	else
		return vb_err_set("line %d: %s must be true or false", v->line, key);
	return 0;
}

/* Reject keys a layer type does not know (a typo would silently change
 * the network). */
static int check_keys(const struct vb_yaml *m, const char *allowed)
{
	for (size_t i = 0; i < m->n; i++) {
		const char *k = m->items[2 * i]->str;
		if (!k)
			return vb_err_set("line %d: keys must be plain words", m->items[2 * i]->line);
		char pat[64];
		snprintf(pat, sizeof pat, " %s ", k);
		if (!strstr(allowed, pat))
			return vb_err_set("line %d: unknown key '%s'", m->items[2 * i]->line, k);
	}
	return 0;
}

static int add_layer(struct vb_net *net, const struct vb_yaml *m, int nclasses, int *counts)
{
	const char *type = vb_yaml_str(vb_yaml_get(m, "type"));
	const char *name = vb_yaml_str(vb_yaml_get(m, "name"));
	if (!type)
		return vb_err_set("line %d: layer without a type", m->line);
	static const char *const types[] = {"conv", "dwconv", "batchnorm", "relu", "maxpool",
	                                    "gap", "dropout", "flatten", "dense", NULL};
	static const char *const prefix[] = {"conv", "dwconv", "bn", "relu", "pool",
	                                     "gap", "drop", "flatten", "fc", NULL};
	int t = 0;
	while (types[t] && strcmp(types[t], type))
		t++;
	if (!types[t])
		return vb_err_set("line %d: unknown layer type '%s'", m->line, type);
	char auto_name[64];
	if (name) {
		if (!*name || strlen(name) > 60 || strspn(name, "abcdefghijklmnopqrstuvwxyz"
		                                      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.") !=
		                                          strlen(name))
			return vb_err_set("line %d: bad layer name '%s'", m->line, name);
	} else {
		snprintf(auto_name, sizeof auto_name, "%s%d", prefix[t], ++counts[t]);
		name = auto_name;
	}
	struct vb_layer *l = vb_net_add(net, name);
	if (!l)
		return -1;
	long a, b, s;
	int flag, bias;
	double d, e;
	int rc = 0;
	switch (t) {
	case 0:
	case 1: {
		if (check_keys(m, " type name filters kernel stride padding bias depthwise ") < 0)
			return -1;
		const char *pad = vb_yaml_str(vb_yaml_get(m, "padding"));
		enum vb_pad p = VB_PAD_SAME;
		if (pad && !strcmp(pad, "valid"))
			p = VB_PAD_VALID;
		else if (pad && strcmp(pad, "same"))
			return vb_err_set("line %d: padding must be same or valid", m->line);
		if (get_long(m, "kernel", 3, 1, 15, &a) < 0 || get_long(m, "stride", 1, 1, 8, &s) < 0 ||
		    get_bool(m, "bias", 1, &bias) < 0 || get_bool(m, "depthwise", t == 1, &flag) < 0)
			return -1;
		if (!flag && get_long(m, "filters", -1, 1, 65536, &b) < 0)
			return -1;
		if (!flag && b < 0)
			return vb_err_set("line %d: conv needs filters", m->line);
		rc = vb_conv_init(l, flag ? 0 : (int)b, (int)a, (int)s, p, flag, bias);
		break;
	}
	case 2:
		if (check_keys(m, " type name eps momentum ") < 0 ||
		    get_double(m, "eps", 1e-5, &d) < 0 || get_double(m, "momentum", 0.1, &e) < 0)
			return -1;
		rc = vb_bn_init(l, d, e);
		break;
	case 3:
		if (check_keys(m, " type name ") < 0)
			return -1;
		rc = vb_relu_init(l);
		break;
	case 4:
		if (check_keys(m, " type name size stride ") < 0 ||
		    get_long(m, "size", 2, 1, 64, &a) < 0 || get_long(m, "stride", a, 1, 64, &s) < 0)
			return -1;
		rc = vb_maxpool_init(l, (int)a, (int)s);
		break;
	case 5:
		if (check_keys(m, " type name ") < 0)
			return -1;
		rc = vb_gap_init(l);
		break;
	case 6:
		if (check_keys(m, " type name rate ") < 0 || get_double(m, "rate", 0.5, &d) < 0)
			return -1;
		rc = vb_dropout_init(l, d);
		break;
	case 7:
		if (check_keys(m, " type name ") < 0)
			return -1;
		rc = vb_flatten_init(l);
		break;
	case 8: {
		if (check_keys(m, " type name units bias ") < 0 || get_bool(m, "bias", 1, &bias) < 0)
			return -1;
		const char *u = vb_yaml_str(vb_yaml_get(m, "units"));
		if (u && !strcmp(u, "classes")) {
			if (nclasses < 1)
				return vb_err_set("line %d: units: classes, but the class count is unknown",
				                  m->line);
			a = nclasses;
		} else if (get_long(m, "units", -1, 1, 1 << 20, &a) < 0) {
			return -1;
		} else if (a < 0) {
			return vb_err_set("line %d: dense needs units", m->line);
		}
		rc = vb_dense_init(l, (int)a, bias);
		break;
	}
	}
	if (rc < 0)
		return vb_err_prefix("line %d", m->line);
	return 0;
}

struct vb_net *vb_arch_build(const char *text, size_t len, int nclasses)
{
	struct vb_yaml *y = vb_yaml_parse_str(text, len);
	struct vb_net *net = NULL;
	if (!y)
		return NULL;
	if (y->type != VB_YAML_MAP) {
		vb_err_set("architecture: expected a mapping");
		goto fail;
	}
	if (check_keys(y, " name description input normalize init classes layers ") < 0)
		goto fail;
	struct vb_yaml *in = vb_yaml_get(y, "input");
	struct vb_shape s = {1, 48, 48};
	if (in) {
		long v[3];
		if (in->type != VB_YAML_SEQ || in->n != 3) {
			vb_err_set("line %d: input must be [channels, height, width]", in->line);
			goto fail;
		}
		for (int i = 0; i < 3; i++)
			if (vb_yaml_long(in->items[i], &v[i]) < 0 || v[i] < 1 || v[i] > 4096) {
				vb_err_set("line %d: bad input size", in->line);
				goto fail;
			}
		s = (struct vb_shape){(int)v[0], (int)v[1], (int)v[2]};
	}
	if (!(net = vb_net_new(s)))
		goto fail;
	struct vb_yaml *norm = vb_yaml_get(y, "normalize");
	if (norm) {
		if (norm->type != VB_YAML_MAP || check_keys(norm, " divide mean std ") < 0 ||
		    get_double(norm, "divide", 255, &net->divide) < 0 ||
		    get_double(norm, "mean", 0, &net->mean) < 0 ||
		    get_double(norm, "std", 1, &net->std) < 0) {
			if (norm->type != VB_YAML_MAP)
				vb_err_set("line %d: normalize must be a mapping", norm->line);
			goto fail;
		}
		if (!(net->divide > 0) || !(net->std > 0) || net->mean != net->mean) {
			vb_err_set("line %d: normalize needs divide > 0 and std > 0", norm->line);
			goto fail;
		}
	}
	long k;
	if (get_long(y, "classes", nclasses > 0 ? nclasses : 0, 0, 256, &k) < 0)
		goto fail;
	if (nclasses > 0 && k != nclasses) {
		vb_err_set("the architecture has %ld classes, the data %d", k, nclasses);
		goto fail;
	}
	nclasses = (int)k;
	const char *ini = vb_yaml_str(vb_yaml_get(y, "init"));
	if (ini && strcmp(ini, "glorot") && strcmp(ini, "he")) {
		vb_err_set("line %d: init must be glorot or he", vb_yaml_get(y, "init")->line);
		goto fail;
	}
	net->init_he = ini && !strcmp(ini, "he");
	const char *nm = vb_yaml_str(vb_yaml_get(y, "name"));
	net->arch_name = strdup(nm ? nm : "unnamed");
	net->arch_text = malloc(len + 1);
	if (!net->arch_name || !net->arch_text) {
		vb_err_set("out of memory");
		goto fail;
	}
	memcpy(net->arch_text, text, len);
	net->arch_text[len] = 0;
	struct vb_yaml *layers = vb_yaml_get(y, "layers");
	if (!layers || layers->type != VB_YAML_SEQ || layers->n == 0) {
		vb_err_set("architecture: 'layers' must be a non-empty list");
		goto fail;
	}
	int counts[16] = {0};
	for (size_t i = 0; i < layers->n; i++) {
		if (layers->items[i]->type != VB_YAML_MAP) {
			vb_err_set("line %d: a layer must be a mapping", layers->items[i]->line);
			goto fail;
		}
		if (add_layer(net, layers->items[i], nclasses, counts) < 0)
			goto fail;
	}
	if (vb_net_finish(net) < 0)
		goto fail;
	if (nclasses > 0 && net->nclasses != nclasses) {
		vb_err_set("the network ends with %d outputs, not the %d classes", net->nclasses,
		           nclasses);
		goto fail;
	}
	if (net->nclasses < 2 || net->nclasses > 256) {
		vb_err_set("the network must end with 2 to 256 outputs (has %d)", net->nclasses);
		goto fail;
	}
	vb_yaml_free(y);
	return net;
fail:
	vb_yaml_free(y);
	vb_net_free(net);
	return NULL;
}
