/* fuzz/recommend.c - libFuzzer target for recommend's parsers: the bytes
 * are read as a songs catalogue, as a feedback log and as emotions CSV
 * lines; each must parse or fail cleanly, and a parsed catalogue with the
 * parsed log must rank a playlist that keeps the hard rules (no disliked
 * song, no song twice, no artist twice in a row). */
#include "err.h"
#include "feedback.h"
#include "recommend.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void emotions(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *line, *save = NULL, **f = NULL;
	size_t cap = 0;
	struct vb_emo_cols cols;
	int have = 0;

	if (!text)
		return;
	memcpy(text, data, size);
	text[size] = 0;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int n = vb_rec_split(line, &f, &cap);
		long frame;
		double p[VB_NEMO];
		if (n < 0)
			continue;
		if (!have) {
			have = vb_emo_header(&cols, f, n) == 0;
			continue;
		}
		if (vb_emo_row(&cols, f, n, &frame, p) == 1) {
			double s = 0;
			for (int k = 0; k < VB_NEMO; k++)
				s += p[k];
			if (s < 0.999 || s > 1.001)
				abort();
		}
	}
	free(f);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *fp = fmemopen((void *)data, size, "r");
	struct vb_catalog *c = NULL;
	struct vb_fb_log *log = vb_fb_parse((const char *)data, size);
	struct vb_profile *prof;

	emotions(data, size);
	if (fp) {
		c = vb_catalog_read(fp);
		fclose(fp);
	}
	if (c && log && (prof = vb_profile_learn(c, log))) {
		struct vb_rec_opts o = { (int)(size % 4), NULL, 8, (int)(size & 1), -1 };
		struct vb_rec_item it[8];
		double p[VB_NEMO] = { 0 };
		int n;
		p[size % VB_NEMO] = 0.7;
		p[(size / 7) % VB_NEMO] += 0.3;
		n = vb_recommend(c, prof, p, &o, NULL, it);
		for (int i = 0; i < n; i++) {
			if (prof->opinion[it[i].song] < 0)
				abort();
			for (int j = 0; j < i; j++)
				if (it[j].song == it[i].song)
					abort();
			if (i && vb_same_artist(&c->song[it[i].song], &c->song[it[i - 1].song]))
				abort();
		}
		vb_profile_free(prof);
	}
	vb_catalog_free(c);
	vb_fb_log_free(log);
	return 0;
}
