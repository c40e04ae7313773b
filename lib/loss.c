/* loss.c - softmax cross-entropy with hard or soft targets, label
 * smoothing and class weights. */
#include "nn.h"

#include <math.h>

void vb_softmax(const float *logits, int n, int k, float *p)
{
	for (int i = 0; i < n; i++) {
		const float *z = logits + (long)i * k;
		float *q = p + (long)i * k;
		float m = z[0];
		for (int c = 1; c < k; c++)
			if (z[c] > m)
				m = z[c];
		double s = 0;
		for (int c = 0; c < k; c++) {
			q[c] = expf(z[c] - m);
			s += q[c];
		}
		float inv = (float)(1.0 / s);
		for (int c = 0; c < k; c++)
			q[c] *= inv;
	}
}

/* For each sample: target t (smoothed), weight w_c per class.  The loss is
 * -sum_c w_c t_c log p_c, its gradient p_j * sum_c w_c t_c - w_j t_j. */
double vb_softmax_xent(const float *logits, int n, int k, const int64_t *labels,
                       const float *soft, const struct vb_loss_opts *o, float *prob,
                       float *dlogits, long *correct)
{
	double eps = o ? o->smoothing : 0;
	const float *cw = o ? o->class_weight : NULL;
	double total = 0;
	float t[256], p[256];
	if (k > 256 || n <= 0)
		return NAN;
	for (int i = 0; i < n; i++) {
		const float *z = logits + (long)i * k;
		float m = z[0];
		int am = 0;
		for (int c = 1; c < k; c++)
			if (z[c] > m) {
				m = z[c];
				am = c;
			}
		double s = 0;
		for (int c = 0; c < k; c++)
			s += exp((double)z[c] - m);
		double lse = m + log(s);
		int tgt = 0;
		if (soft) {
			const float *sp = soft + (long)i * k;
			for (int c = 0; c < k; c++) {
				t[c] = (float)((1 - eps) * sp[c] + eps / k);
				if (sp[c] > sp[tgt])
					tgt = c;
			}
		} else {
			tgt = (int)labels[i];
			for (int c = 0; c < k; c++)
				t[c] = (float)((c == tgt ? 1 - eps : 0) + eps / k);
		}
		if (correct && am == tgt)
			++*correct;
		double wsum = 0, l = 0;
		for (int c = 0; c < k; c++) {
			double w = (cw ? cw[c] : 1) * t[c];
			p[c] = (float)exp((double)z[c] - lse);
			wsum += w;
			if (w != 0)
				l -= w * ((double)z[c] - lse);
		}
		total += l;
		if (prob)
			for (int c = 0; c < k; c++)
				prob[(long)i * k + c] = p[c];
		if (dlogits)
			for (int c = 0; c < k; c++)
				dlogits[(long)i * k + c] =
					(float)((p[c] * wsum - (cw ? cw[c] : 1) * t[c]) / n);
	}
	return total / n;
}
