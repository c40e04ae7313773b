/* optim.c - Adam (as Keras: bias correction folded into the step size,
 * epsilon 1e-7) and SGD with momentum (optionally Nesterov), L2 weight
 * decay, reduce-on-plateau and cosine learning-rate schedules. */
#include "nn.h"

#include <math.h>
#include <stdlib.h>

#include "err.h"

void vb_optim_defaults(struct vb_optim *o, enum vb_optim_kind kind)
{
	o->kind = kind;
	o->lr = kind == VB_ADAM ? 1e-3 : 1e-2;
	o->beta1 = 0.9;
	o->beta2 = 0.999;
	o->eps = 1e-7;
	o->momentum = 0.9;
	o->nesterov = 0;
	o->weight_decay = 0;
	o->t = 0;
}

int vb_optim_attach(struct vb_optim *o, struct vb_net *net)
{
	for (int i = 0; i < net->nparams; i++) {
		struct vb_param *p = net->params[i];
		if (p->buffer)
			continue;
		if (!p->m && !(p->m = calloc(p->n, sizeof(float))))
			return vb_err_set("out of memory");
		if (o->kind == VB_ADAM && !p->v && !(p->v = calloc(p->n, sizeof(float))))
			return vb_err_set("out of memory");
	}
	return 0;
}

void vb_optim_step(struct vb_optim *o, struct vb_net *net)
{
	o->t++;
	double lr_t = o->lr;
	if (o->kind == VB_ADAM)
		lr_t = o->lr * sqrt(1 - pow(o->beta2, (double)o->t)) /
		       (1 - pow(o->beta1, (double)o->t));
	float b1 = (float)o->beta1, b2 = (float)o->beta2, eps = (float)o->eps;
	float mu = (float)o->momentum, lr = (float)o->lr, lrt = (float)lr_t;
	for (int i = 0; i < net->nparams; i++) {
		struct vb_param *p = net->params[i];
		if (p->buffer)
			continue;
		float wd = p->decay ? (float)o->weight_decay : 0.0f;
		float *w = p->w, *g = p->g, *m = p->m, *v = p->v;
		if (o->kind == VB_ADAM) {
			for (long j = 0; j < p->n; j++) {
				float gj = g[j] + wd * w[j];
				m[j] = b1 * m[j] + (1 - b1) * gj;
				v[j] = b2 * v[j] + (1 - b2) * gj * gj;
				w[j] -= lrt * m[j] / (sqrtf(v[j]) + eps);
			}
		} else {
			for (long j = 0; j < p->n; j++) {
				float gj = g[j] + wd * w[j];
				m[j] = mu * m[j] + gj;
				w[j] -= lr * (o->nesterov ? gj + mu * m[j] : m[j]);
			}
		}
	}
}

void vb_plateau_init(struct vb_plateau *p, double factor, int patience, double min_lr)
{
	p->factor = factor;
	p->patience = patience;
	p->min_lr = min_lr;
	p->best = -INFINITY;
	p->bad = 0;
}

double vb_plateau_step(struct vb_plateau *p, double score, double lr)
{
	if (score > p->best) {
		p->best = score;
		p->bad = 0;
		return lr;
	}
	if (++p->bad > p->patience) {
		p->bad = 0;
		lr *= p->factor;
		if (lr < p->min_lr)
			lr = p->min_lr;
	}
	return lr;
}

double vb_cosine_lr(double lr0, double lr_min, int e, int total, int warmup)
{
	if (e < warmup)
		return lr0 * (e + 1) / (warmup + 1);
	if (total <= warmup + 1)
		return lr0;
	double t = (double)(e - warmup) / (total - warmup - 1);
	if (t > 1)
		t = 1;
	return lr_min + 0.5 * (lr0 - lr_min) * (1 + cos(M_PI * t));
}
