/* mood.h - naming clusters of songs by mood on the valence-energy
 * circumplex (Russell): happy = high valence, high energy; energetic
 * (angry) = low valence, high energy; sad = low valence, low energy;
 * calm = middle or high valence, low energy.
 *
 * Each cluster is described by its centroid in catalogue z units (the
 * cluster's mean of a raw feature minus the catalogue mean, over the
 * catalogue's standard deviation).  Two scores place it on the circumplex:
 *
 *   valence' = valence + 1/4 danceability
 *   arousal' = energy  + 1/4 mean(loudness, tempo, -acousticness)
 *
 * so valence and energy decide, and the secondary cues only break what
 * they leave nearly tied (within about a quarter of a standard deviation);
 * a missing secondary cue is left out.  The names are then given in order
 * of how reliably each mood shows in audio features, each step taking the
 * cluster that scores highest:
 *
 *   1. happy:     valence' + arousal'/10 (the most positive; among equals
 *                 the more energetic);
 *   2. energetic: of the others, arousal' - valence'/10;
 *   3. sad:       of the others, -valence' - arousal'/10 (sad and calm are
 *                 both low in arousal and differ in valence);
 *   4. calm:      of the others, -arousal' + valence'/10.
 *
 * With k = 4 every mood is used exactly once; with k < 4 only the first k
 * steps run; with k > 4 the four steps pick one cluster per mood and every
 * other cluster takes the mood of its quadrant (the signs of valence' and
 * arousal').  Exact ties go to the lower cluster index.
 */
#ifndef VB_MOOD_H
#define VB_MOOD_H

enum { VB_MOOD_HAPPY, VB_MOOD_ENERGETIC, VB_MOOD_SAD, VB_MOOD_CALM, VB_MOOD_COUNT };

/* "happy", "energetic", "sad", "calm"; NULL for anything else.  Static. */
const char *vb_mood_name(int mood);

/* One cluster's centroid in catalogue z units; NAN = feature absent
 * (valence and energy must be present). */
struct vb_mood_feat {
	double valence, energy;
	double danceability, acousticness, loudness, tempo;
};

/* The valence' and arousal' scores of a centroid (formulas above). */
void vb_mood_axes(const struct vb_mood_feat *f, double *valence, double *arousal);

/* Name k >= 1 clusters: mood[i] in [0, VB_MOOD_COUNT) for each cluster.
 * 0, or -1 with the error set (k < 1, valence or energy not finite). */
int vb_mood_assign(const struct vb_mood_feat *f, int k, int *mood);

#endif
