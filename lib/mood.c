/* mood.c - cluster-to-mood naming on the valence-energy circumplex. */
#include "mood.h"
#include "err.h"

#include <math.h>
#include <stdlib.h>

static const char *const names[VB_MOOD_COUNT] = { "happy", "energetic", "sad", "calm" };

const char *vb_mood_name(int mood)
{
	return mood >= 0 && mood < VB_MOOD_COUNT ? names[mood] : NULL;
}

void vb_mood_axes(const struct vb_mood_feat *f, double *valence, double *arousal)
{
	double e2 = 0;
	int ne = 0;

	*valence = f->valence;
	if (isfinite(f->danceability))
		*valence += 0.25 * f->danceability;
	if (isfinite(f->loudness))
		e2 += f->loudness, ne++;
	if (isfinite(f->tempo))
		e2 += f->tempo, ne++;
	if (isfinite(f->acousticness))
		e2 -= f->acousticness, ne++;
	*arousal = f->energy + (ne ? 0.25 * e2 / ne : 0.0);
}

int vb_mood_assign(const struct vb_mood_feat *f, int k, int *mood)
{
	/* step s: the free cluster maximising sign[s] * (valence' or arousal')
	 * plus a tenth of the other score toward the mood's quadrant */
	static const int step_mood[VB_MOOD_COUNT] = { VB_MOOD_HAPPY, VB_MOOD_ENERGETIC,
						      VB_MOOD_SAD, VB_MOOD_CALM };
	static const int step_axis[VB_MOOD_COUNT] = { 0, 1, 0, 1 };
	static const double step_sign[VB_MOOD_COUNT] = { 1, 1, -1, -1 };
	static const double step_tilt[VB_MOOD_COUNT] = { 0.1, -0.1, -0.1, 0.1 };
	double *ax;

	if (k < 1)
		return vb_err_set("mood: no clusters");
	for (int i = 0; i < k; i++)
		if (!isfinite(f[i].valence) || !isfinite(f[i].energy))
			return vb_err_set("mood: cluster %d has no valence or energy", i);
	ax = malloc((size_t)k * 2 * sizeof *ax);
	if (!ax)
		return vb_err_set("out of memory");
	for (int i = 0; i < k; i++) {
		vb_mood_axes(&f[i], &ax[2 * i], &ax[2 * i + 1]);
		mood[i] = -1;
	}
	for (int s = 0; s < VB_MOOD_COUNT && s < k; s++) {
		int best = -1;
		double bs = 0;

		for (int i = 0; i < k; i++) {
			double sc = step_sign[s] * ax[2 * i + step_axis[s]] +
				    step_tilt[s] * ax[2 * i + 1 - step_axis[s]];

			if (mood[i] < 0 && (best < 0 || sc > bs)) {
				best = i;
				bs = sc;
			}
		}
		mood[best] = step_mood[s];
	}
	for (int i = 0; i < k; i++)
		if (mood[i] < 0) {
			int hv = ax[2 * i] >= 0, ha = ax[2 * i + 1] >= 0;

			mood[i] = ha ? (hv ? VB_MOOD_HAPPY : VB_MOOD_ENERGETIC)
				     : (hv ? VB_MOOD_CALM : VB_MOOD_SAD);
		}
	free(ax);
	return 0;
}
