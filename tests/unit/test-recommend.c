/* test-recommend.c - lib/recommend: the catalogue reader (quoting, CRLF,
 * BOM, aliases, errors), the emotions CSV, circumplex points, the profile
 * and the ranking's hard rules. */
#include "err.h"
#include "feedback.h"
#include "recommend.h"
#include "tap.h"

#include <stdlib.h>

static struct vb_catalog *cat_of(const char *text)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	struct vb_catalog *c;

	if (!f) {
		perror("fmemopen");
		exit(2);
	}
	c = vb_catalog_read(f);
	fclose(f);
	return c;
}

static int sv_eq(struct vb_sv v, const char *s)
{
	return strlen(s) == v.n && !memcmp(v.p, s, v.n);
}

static void test_catalog(void)
{
	struct vb_catalog *c;

	c = cat_of("\xef\xbb\xbfid,name,artist,genre,valence,energy,mood\r\n"
		   "a,\"Hello, \"\"World\"\"\",X,pop,0.5,0.25,happy\r\n"
		   "b,\"Two\nLines\",Y,rock,1,0,\r\n"
		   "\r\n"
		   "a,again,Z,pop,0.1,0.1,sad\r\n"
		   "c,Plain,X,pop,0.125,1e-1,calm");
	ok(c != NULL, "CRLF, BOM, quotes, embedded newline, no final newline");
	if (c) {
		is_int((long long)c->n, 3, "three songs (repeated id skipped, blank line ignored)");
		is_int(c->duplicates, 1, "one duplicate counted");
		ok(sv_eq(c->song[0].name, "Hello, \"World\""), "doubled quotes unescaped");
		ok(sv_eq(c->song[1].name, "Two\nLines"), "embedded newline kept");
		ok(sv_eq(c->song[0].mood, "happy"), "mood read");
		ok(sv_eq(c->song[1].mood, "calm"), "empty mood: the quadrant's name (v 1, e 0)");
		ok(sv_eq(c->song[2].energy_text, "1e-1"), "energy text kept as written");
		is_dbl(c->song[2].energy, 0.1f, 0, "exponent form parsed");
		is_dbl(c->song[0].valence, 0.5, 0, "valence parsed");
		ok(vb_same_artist(&c->song[0], &c->song[2]) && !vb_same_artist(&c->song[0], &c->song[1]),
		   "same artist");
		is_int(c->ngenres, 2, "two genres");
		is_int(vb_catalog_find(c, "c"), 2, "find by id");
		is_int(vb_catalog_find(c, "zz"), -1, "unknown id");
		is_int(c->have[VB_F_ACOUSTIC], 0, "no acousticness column");
	}
	vb_catalog_free(c);

	c = cat_of("track_id,track_name,track_artist,playlist_genre,valence,energy\n"
		   "t1,N,A,edm,0.2,0.3\n");
	ok(c && c->n == 1, "TidyTuesday column names accepted");
	vb_catalog_free(c);

	c = cat_of("id,name,artist,genre,valence,energy\n"
		   "a,N,A,pop,0.2,0.3\n"
		   "b,N,A,rock,0.2,0.4\n"
		   "c,M,A,rock,0.2,0.4\n");
	if (c) {
		struct vb_profile *prof = vb_profile_learn(c, NULL);
		struct vb_rec_opts o = { VB_MODE_MATCH, NULL, 3, 0, -1 };
		struct vb_rec_item it[3];
		double p[VB_NEMO] = { 0 };
		p[VB_EMO_SAD] = 1;
		/* a and b: the same recording; c: another song by the same
		 * artist, so only one song can follow the first */
		is_int(prof ? vb_recommend(c, prof, p, &o, NULL, it) : -1, 1,
		       "same artist and name under two ids: one of them, and no artist twice in a row");
		vb_profile_free(prof);
	}
	vb_catalog_free(c);

	ok(!cat_of("id,name,artist,genre,energy\na,N,A,pop,0.3\n"), "missing valence column");
	is_str(vb_err_msg(), "songs CSV has no 'valence' column", "its message");
	ok(!cat_of("id,name,artist,genre,valence,energy\na,N,A,pop,0.2\n"), "short row");
	is_str(vb_err_msg(), "line 2: 5 fields, expected 6", "its message");
	ok(!cat_of("id,name,artist,genre,valence,energy\na,N,A,pop,x,0.3\n"), "bad number");
	is_str(vb_err_msg(), "line 2: bad valence 'x'", "its message");
	ok(!cat_of("id,name,artist,genre,valence,energy\na,N,A,pop,nan,0.3\n"), "NaN rejected");
	ok(!cat_of("id,name,artist,genre,valence,energy\na,N,A,pop,1.5,0.3\n"), "valence > 1");
	is_str(vb_err_msg(), "line 2: valence 1.5 is outside 0..1", "its message");
	ok(!cat_of("id,name,artist,genre,valence,energy\na,\"N,A,pop,0.2,0.3\n"), "unterminated quote");
	is_str(vb_err_msg(), "line 2: unterminated quoted field", "its message");
	ok(!cat_of("id,name,artist,genre,valence,energy\na,\"N\"x,A,pop,0.2,0.3\n"), "text after quote");
	ok(!cat_of("id,name,artist,genre,valence,energy\n"), "header only");
	is_str(vb_err_msg(), "the songs CSV holds no songs", "its message");
	ok(!cat_of(""), "empty input");
	is_str(vb_err_msg(), "empty songs CSV (no header)", "its message");
	ok(!cat_of("id,name,artist,genre,valence,energy\n,N,A,pop,0.2,0.3\n"), "empty id");
}

static void test_emotions(void)
{
	char line[256], **f = NULL;
	size_t cap = 0;
	int n;
	struct vb_emo_cols cols;
	long frame;
	double p[VB_NEMO];
	struct vb_point pt;

	strcpy(line, "a,\"b,c\",\"d\"\"e\",,f\r\n");
	n = vb_rec_split(line, &f, &cap);
	is_int(n, 5, "split: five fields");
	if (n == 5) {
		is_str(f[1], "b,c", "quoted comma");
		is_str(f[2], "d\"e", "doubled quote");
		is_str(f[3], "", "empty field");
		is_str(f[4], "f", "CRLF stripped");
	}
	strcpy(line, "a,\"b\n");
	ok(vb_rec_split(line, &f, &cap) < 0, "split: unterminated quote");

	strcpy(line, "frame,face,x,y,w,h,angry,happy,sad,neutral,emotion\n");
	n = vb_rec_split(line, &f, &cap);
	ok(vb_emo_header(&cols, f, n) == 0, "4-class header");
	is_int(cols.ncls, 4, "four classes");
	strcpy(line, "3,0,1,2,3,4,0.2,0.2,0.4,0.2,sad\n");
	n = vb_rec_split(line, &f, &cap);
	is_int(vb_emo_row(&cols, f, n, &frame, p), 1, "a face row");
	is_int(frame, 3, "its frame");
	is_dbl(p[VB_EMO_SAD], 0.4, 1e-12, "sad probability");
	is_dbl(p[VB_EMO_FEAR], 0, 0, "absent class is 0");
	pt = vb_emo_mix(p);
	is_dbl(pt.valence, 0.2 * 0.25 + 0.2 * 0.80 + 0.4 * 0.20 + 0.2 * 0.55, 1e-12,
	       "valence is the weighted mean of the class points");
	is_dbl(pt.energy, 0.2 * 0.85 + 0.2 * 0.75 + 0.4 * 0.25 + 0.2 * 0.45, 1e-12,
	       "energy likewise");
	is_int(vb_emo_dominant(p), VB_EMO_SAD, "dominant class");
	strcpy(line, "4,,,,,,,,,,none\n");
	n = vb_rec_split(line, &f, &cap);
	is_int(vb_emo_row(&cols, f, n, &frame, p), 0, "a no-face row");
	strcpy(line, "4,0,1,2,3,4,0.2,x,0.4,0.2,sad\n");
	n = vb_rec_split(line, &f, &cap);
	ok(vb_emo_row(&cols, f, n, &frame, p) < 0, "bad probability");
	is_str(vb_err_msg(), "bad probability 'x' for happy", "its message");
	strcpy(line, "4,0,1,2,3,4,0,0,0,0,sad\n");
	n = vb_rec_split(line, &f, &cap);
	ok(vb_emo_row(&cols, f, n, &frame, p) < 0, "all-zero probabilities");
	strcpy(line, "4,0,1,2,3,4,0.2,0.2\n");
	n = vb_rec_split(line, &f, &cap);
	ok(vb_emo_row(&cols, f, n, &frame, p) < 0, "short row");

	strcpy(line, "frame,face,x,y,w,h,angry,contempt,emotion\n");
	n = vb_rec_split(line, &f, &cap);
	ok(vb_emo_header(&cols, f, n) < 0, "unknown class column");
	is_str(vb_err_msg(), "unknown emotion class column 'contempt'", "its message");
	strcpy(line, "face,x,y,w,h,angry,emotion\n");
	n = vb_rec_split(line, &f, &cap);
	ok(vb_emo_header(&cols, f, n) < 0, "no frame column");
	strcpy(line, "frame,face,x,y,w,h,emotion\n");
	n = vb_rec_split(line, &f, &cap);
	ok(vb_emo_header(&cols, f, n) < 0, "no class columns");
	free(f);

	is_int(vb_emo_lookup("surprise"), VB_EMO_SURPRISE, "lookup");
	is_int(vb_emo_lookup("calm"), -1, "calm is not a class");
	ok(vb_rec_target("calm", &pt) == 0 && pt.energy < 0.3, "calm is a target");
	ok(vb_rec_target("bored", &pt) < 0, "unknown target");
	is_int(vb_rec_mode("energize"), VB_MODE_ENERGIZE, "mode names");
	is_int(vb_rec_mode("shuffle"), -1, "unknown mode");
}

static void test_rules(void)
{
	/* six songs by two artists, all close to sad */
	struct vb_catalog *c = cat_of("id,name,artist,genre,valence,energy\n"
				      "a,A,X,pop,0.20,0.25\n"
				      "b,B,X,pop,0.21,0.25\n"
				      "c,C,X,rock,0.22,0.25\n"
				      "d,D,Y,pop,0.60,0.60\n"
				      "e,E,X,pop,0.20,0.26\n"
				      "f,F,Y,rock,0.90,0.90\n");
	const char *log_text =
		"2026-01-01T00:00:00Z\ta\tdislike\tsad\n"
		"2026-01-01T00:00:01Z\tb\tlike\tsad\n"
		"2026-01-01T00:00:02Z\tb\tdislike\tsad\n"
		"2026-01-01T00:00:03Z\tc\tdislike\thappy\n"
		"2026-01-01T00:00:04Z\tc\tlike\thappy\n"
		"2026-01-01T00:00:05Z\tnot-in-catalogue\tlike\tsad\n";
	struct vb_fb_log *log = vb_fb_parse(log_text, strlen(log_text));
	struct vb_profile *prof = c && log ? vb_profile_learn(c, log) : NULL;
	struct vb_rec_opts o = { VB_MODE_MATCH, NULL, 6, 1, -1 };
	struct vb_rec_item it[6];
	double p[VB_NEMO] = { 0 };
	int n, seen_a = 0, seen_b = 0, alternate = 1;

	ok(prof != NULL, "profile learned");
	if (!prof)
		return;
	is_int(prof->opinion[0], -1, "a: disliked");
	is_int(prof->opinion[1], -1, "b: liked then disliked: the latest wins");
	is_int(prof->opinion[2], 1, "c: disliked then liked");
	is_int(prof->unknown, 1, "an event for an unknown track");
	is_int((long long)prof->nliked, 1, "one liked song");
	p[VB_EMO_SAD] = 1;
	n = vb_recommend(c, prof, p, &o, NULL, it);
	/* a and b are disliked; c, e (X) and d, f (Y) must alternate artists */
	is_int(n, 4, "four songs can be played");
	for (int i = 0; i < n; i++) {
		seen_a |= it[i].song == 0;
		seen_b |= it[i].song == 1;
		if (i && vb_same_artist(&c->song[it[i].song], &c->song[it[i - 1].song]))
			alternate = 0;
	}
	ok(!seen_a && !seen_b, "disliked songs never appear");
	ok(alternate, "no artist twice in a row");
	vb_profile_free(prof);
	vb_fb_log_free(log);
	vb_catalog_free(c);
}

int main(void)
{
	test_catalog();
	test_emotions();
	test_rules();
	return tap_done();
}
