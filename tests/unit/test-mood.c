/* test-mood.c - lib/mood: naming clusters on the valence-energy circumplex. */
#include "mood.h"
#include "err.h"
#include "tap.h"

#include <math.h>
#include <stdlib.h>

static struct vb_mood_feat F(double v, double e)
{
	struct vb_mood_feat f = { v, e, NAN, NAN, NAN, NAN };

	return f;
}

int main(void)
{
	int m[8];

	is_str(vb_mood_name(VB_MOOD_HAPPY), "happy", "name 0");
	is_str(vb_mood_name(VB_MOOD_ENERGETIC), "energetic", "name 1");
	is_str(vb_mood_name(VB_MOOD_SAD), "sad", "name 2");
	is_str(vb_mood_name(VB_MOOD_CALM), "calm", "name 3");
	ok(vb_mood_name(4) == NULL && vb_mood_name(-1) == NULL, "no name out of range");

	/* the four quadrants, in a scrambled order */
	{
		struct vb_mood_feat f[4] = { F(-1, -1), F(1, -1), F(-1, 1), F(1, 1) };

		ok(vb_mood_assign(f, 4, m) == 0, "four quadrants");
		ok(m[0] == VB_MOOD_SAD && m[1] == VB_MOOD_CALM && m[2] == VB_MOOD_ENERGETIC &&
		   m[3] == VB_MOOD_HAPPY, "each quadrant its mood");
	}

	/* The TidyTuesday catalogue's four k-means clusters (centroids in
	 * catalogue z units, rounded): one quiet acoustic cluster, and three
	 * energetic ones of which only one is positive.  The names must be
	 * distinct and follow valence first: the positive danceable cluster is
	 * happy, the loudest and fastest energetic, and of the two remaining
	 * (valence -0.48 and -0.50) the less danceable one is sad. */
	{
		struct vb_mood_feat f[4] = {
			{ -0.48, -1.46, -0.35, 1.50, -1.22, -0.28 }, /* acoustic ballads */
			{ -0.50, 0.46, 0.07, -0.46, -0.08, 0.15 },   /* instrumental electronic */
			{ -0.37, 0.57, -0.66, -0.47, 0.50, 0.42 },   /* loud, fast */
			{ 0.60, 0.02, 0.66, -0.11, 0.08, -0.27 },    /* danceable, positive */
		};

		ok(vb_mood_assign(f, 4, m) == 0, "catalogue clusters");
		ok(m[3] == VB_MOOD_HAPPY, "positive danceable cluster: happy");
		ok(m[2] == VB_MOOD_ENERGETIC, "loud fast cluster: energetic");
		ok(m[0] == VB_MOOD_SAD, "acoustic ballads: sad");
		ok(m[1] == VB_MOOD_CALM, "the last: calm");
	}

	/* a near valence tie between two quiet clusters decided by danceability */
	{
		struct vb_mood_feat f[4] = {
			{ 1.0, 1.0, 0, 0, 0, 0 },
			{ -1.0, 1.0, 0, 0, 0, 0 },
			{ -0.50, -1.0, 1.0, 0, 0, 0 }, /* danceable */
			{ -0.55, -1.0, -1.0, 0, 0, 0 }, /* barely more negative, not danceable */
		};

		ok(vb_mood_assign(f, 4, m) == 0 && m[3] == VB_MOOD_SAD && m[2] == VB_MOOD_CALM,
		   "danceability decides sad vs calm");
		f[2].danceability = f[3].danceability = NAN;
		ok(vb_mood_assign(f, 4, m) == 0 && m[3] == VB_MOOD_SAD && m[2] == VB_MOOD_CALM,
		   "without it, valence alone: the same");
		f[3].valence = -0.45;
		ok(vb_mood_assign(f, 4, m) == 0 && m[2] == VB_MOOD_SAD && m[3] == VB_MOOD_CALM,
		   "without it, valence alone decides the other way when reversed");
		f[2].valence = -0.45, f[2].danceability = -1.0;
		f[3].valence = -0.50, f[3].danceability = 1.0;
		ok(vb_mood_assign(f, 4, m) == 0 && m[2] == VB_MOOD_SAD && m[3] == VB_MOOD_CALM,
		   "danceability outweighs a 0.05 valence gap");
	}

	/* a near energy tie decided by loudness, tempo and acousticness */
	{
		struct vb_mood_feat f[3] = {
			{ 1.0, 0.0, 0, 0, 0, 0 },
			{ -0.5, 0.80, 0, 0.8, -1.0, -1.0 }, /* slightly more energy, but soft and slow */
			{ -0.5, 0.75, 0, -0.8, 1.0, 1.0 },  /* loud, fast, not acoustic */
		};

		ok(vb_mood_assign(f, 3, m) == 0 && m[0] == VB_MOOD_HAPPY && m[2] == VB_MOOD_ENERGETIC &&
		   m[1] == VB_MOOD_SAD, "k = 3: happy, energetic, sad; secondary cues pick the energetic one");
	}

	/* k = 6: every mood used once, the extra clusters by quadrant */
	{
		struct vb_mood_feat f[6] = { F(1, 1), F(-1, 1), F(-1, -1), F(1, -1), F(0.5, 0.5),
					     F(-0.2, -0.3) };

		ok(vb_mood_assign(f, 6, m) == 0, "k = 6");
		ok(m[0] == VB_MOOD_HAPPY && m[1] == VB_MOOD_ENERGETIC && m[2] == VB_MOOD_SAD &&
		   m[3] == VB_MOOD_CALM && m[4] == VB_MOOD_HAPPY && m[5] == VB_MOOD_SAD,
		   "k = 6: representatives, then quadrants");
	}

	/* k = 1 and errors */
	{
		struct vb_mood_feat f[2] = { F(-1, -1), F(NAN, 0) };

		ok(vb_mood_assign(f, 1, m) == 0 && m[0] == VB_MOOD_HAPPY, "k = 1: the first step");
		ok(vb_mood_assign(f, 2, m) < 0, "NaN valence: error");
		is_str(vb_err_msg(), "mood: cluster 1 has no valence or energy", "NaN valence: message");
		ok(vb_mood_assign(f, 0, m) < 0, "k = 0: error");
	}
	return tap_done();
}
