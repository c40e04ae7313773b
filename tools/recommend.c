/* recommend - a playlist that matches or lifts the listener's mood, learned
 * from their feedback.
 *
 * The mood comes from --emotion NAME or from emotion-predict's emotions CSV
 * on stdin (the mean of the class probabilities of every face row; with
 * --follow, smoothed over time and acted on when it changes).  --record
 * appends one feedback event to the log instead.
 */
#include "cli.h"
#include "csv.h"
#include "err.h"
#include "feedback.h"
#include "recommend.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct cmdline {
	const char *emotion;   /* --emotion, or NULL: stdin */
	const char *songs;     /* --songs */
	int mode;              /* --mode */
	const char *target;    /* --target */
	int target_given;
	long n;                /* -n */
	int follow;            /* --follow */
	double fps;            /* --fps, 0: wall clock */
	double hold;           /* --hold seconds */
	double smooth;         /* --smooth seconds */
	int record;            /* --record kind, or -1 */
	const char *track;     /* --track */
	const char *feedback;  /* --feedback */
	int spread;            /* 0 with --no-spread */
	const char *genre;     /* --genre */
};

enum {
	OPT_FOLLOW = 0x100, OPT_FPS, OPT_HOLD, OPT_SMOOTH, OPT_RECORD, OPT_TRACK,
	OPT_FEEDBACK, OPT_NOSPREAD, OPT_GENRE
};

static const struct argp_option options[] = {
	{ 0, 0, 0, 0, "The mood and the songs:", 1 },
	{ "emotion", 'e', "NAME", 0, "The listener's emotion (angry, disgust, fear, happy, sad, surprise, neutral) instead of emotions CSV on stdin", 1 },
	{ "songs", 's', "FILE", 0, "Mood-labelled songs CSV, song-cluster's output (required except for --record)", 1 },
	{ 0, 0, 0, 0, "The playlist:", 2 },
	{ "mode", 'm', "MODE", 0, "match (songs near the mood), lift (from the mood step by step toward --target), calm, energize (default: match)", 2 },
	{ "target", 't', "NAME", 0, "Where lift ends: an emotion, calm or energetic (default: happy)", 2 },
	{ 0, 'n', "N", 0, "Songs in the playlist (default: 20)", 2 },
	{ "no-spread", OPT_NOSPREAD, 0, 0, "Do not spread the playlist over genres", 2 },
	{ "genre", OPT_GENRE, "NAME", 0, "Only songs of this genre", 2 },
	{ 0, 0, 0, 0, "Following a live stream:", 3 },
	{ "follow", OPT_FOLLOW, 0, 0, "Read emotions rows as they arrive; print a new playlist whenever the smoothed mood changes and holds", 3 },
	{ "hold", OPT_HOLD, "SECONDS", 0, "How long a new mood must last before it counts (default: 3)", 3 },
	{ "smooth", OPT_SMOOTH, "SECONDS", 0, "Time constant of the exponential smoothing of the probabilities (default: 2)", 3 },
	{ "fps", OPT_FPS, "N", 0, "Time frames by their number at N frames per second instead of the wall clock (default: wall clock)", 3 },
	{ 0, 0, 0, 0, "Feedback:", 4 },
	{ "record", OPT_RECORD, "EVENT", 0, "Append one event (like, dislike, skip, play) for --track to the log and exit", 4 },
	{ "track", OPT_TRACK, "ID", 0, "The track of --record", 4 },
	{ "feedback", OPT_FEEDBACK, "FILE", 0, "The feedback log (default: $XDG_DATA_HOME/vibify/feedback.log, ~/.local/share when unset)", 4 },
	{ 0 }
};

static error_t parse_opt(int key, char *arg, struct argp_state *st)
{
	struct cmdline *c = st->input;

	switch (key) {
	case 'e':
		if (vb_emo_lookup(arg) < 0)
			argp_error(st, "unknown emotion '%s' (angry, disgust, fear, happy, sad, surprise, neutral)", arg);
		c->emotion = arg;
		break;
	case 's': c->songs = arg; break;
	case 'm':
		if ((c->mode = vb_rec_mode(arg)) < 0)
			argp_error(st, "unknown mode '%s' (match, lift, calm, energize)", arg);
		break;
	case 't': {
		struct vb_point pt;
		if (vb_rec_target(arg, &pt))
			argp_error(st, "%s", vb_err_msg());
		c->target = arg;
		c->target_given = 1;
		break;
	}
	case 'n': c->n = vb_arg_long(st, "-n", arg, 1, 100000); break;
	case OPT_NOSPREAD: c->spread = 0; break;
	case OPT_GENRE: c->genre = arg; break;
	case OPT_FOLLOW: c->follow = 1; break;
	case OPT_HOLD: c->hold = vb_arg_double(st, "--hold", arg, 0, 86400); break;
	case OPT_SMOOTH: c->smooth = vb_arg_double(st, "--smooth", arg, 0, 86400); break;
	case OPT_FPS: c->fps = vb_arg_double(st, "--fps", arg, 1e-3, 1e6); break;
	case OPT_RECORD:
		if ((c->record = vb_fb_kind_parse(arg)) < 0)
			argp_error(st, "unknown event '%s' (like, dislike, skip, play)", arg);
		break;
	case OPT_TRACK:
		if (vb_fb_check_field("track id", arg))
			argp_error(st, "%s", vb_err_msg());
		c->track = arg;
		break;
	case OPT_FEEDBACK:
		if (!*arg)
			argp_error(st, "empty --feedback");
		c->feedback = arg;
		break;
	case ARGP_KEY_ARG:
		argp_error(st, "unexpected argument '%s'", arg);
		break;
	case ARGP_KEY_END:
		if (c->record >= 0) {
			if (!c->track)
				argp_error(st, "--record needs --track ID");
			if (c->follow)
				argp_error(st, "--record and --follow exclude each other");
		} else {
			if (c->track)
				argp_error(st, "--track only goes with --record");
			if (!c->songs)
				argp_error(st, "--songs FILE is required");
			if (c->follow && c->emotion)
				argp_error(st, "--follow reads emotions from stdin; drop --emotion");
			if (!c->emotion && !strcmp(c->songs, "-"))
				argp_error(st, "--songs - needs --emotion: stdin cannot hold both");
		}
		if (c->target_given && c->mode != VB_MODE_LIFT)
			argp_error(st, "--target only applies to --mode lift");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static void parse_cmdline(int argc, char **argv, struct cmdline *c)
{
	static const struct argp_child children[] = {
		{ &vb_common_argp, 0, "Common options:", 0 },
		{ 0 }
	};
	static const struct argp argp = {
		options, parse_opt, "",
		"Recommend songs for the listener's mood: match it, or lift it step by "
		"step toward a target (the iso principle), learning from the feedback log.\n\n"
		"The mood is --emotion NAME or emotion-predict's emotions CSV on stdin "
		"(the mean probabilities of every face row give a point on the "
		"valence-energy circumplex).  Output: CSV position,id,name,artist,genre,"
		"mood,valence,energy,score,why.\n\n"
		"  emotion-predict face.jpg | recommend -s songs.moods.csv -m lift\n"
		"  recommend -s songs.moods.csv -e sad -n 10\n"
		"  recommend --record like --track 6f807x0ima9a1j3VPbc7VN -e sad"
		"\vExit status: 0 ok, 2 bad data or runtime error, 64 usage.",
		children, 0, 0
	};

	memset(c, 0, sizeof *c);
	c->mode = VB_MODE_MATCH;
	c->target = "happy";
	c->n = 20;
	c->hold = 3;
	c->smooth = 2;
	c->record = -1;
	c->spread = 1;
	argp_parse(&argp, argc, argv, 0, 0, c);
}

/* --- the emotions input ------------------------------------------------ */

struct emo_in {
	char *line;
	size_t linecap;
	char **f;
	size_t fcap;
	long lineno;
	struct vb_emo_cols cols;
	int have_header;
};

/* Read the next emotions row from stdin: 1 with *frame and, for a face,
 * *face = 1 and p[] set; 0 at end of input.  Exits 2 on bad input.  getline
 * returns as soon as a line is there, so live streams are not delayed. */
static int emo_next(struct emo_in *in, long *frame, int *face, double *p)
{
	for (;;) {
		ssize_t len;
		int n, r;

		errno = 0;
		len = getline(&in->line, &in->linecap, stdin);
		if (len < 0) {
			if (ferror(stdin))
				vb_fatal(VB_EXIT_DATA, "read error on the emotions input: %s",
					 strerror(errno ? errno : EIO));
			return 0;
		}
		in->lineno++;
		if ((size_t)len != strlen(in->line))
			vb_fatal(VB_EXIT_DATA, "emotions input line %ld: NUL byte", in->lineno);
		if ((n = vb_rec_split(in->line, &in->f, &in->fcap)) < 0)
			vb_fatal(VB_EXIT_DATA, "emotions input line %ld: %s", in->lineno, vb_err_msg());
		if (!in->have_header) {
			if (vb_emo_header(&in->cols, in->f, n))
				vb_fatal(VB_EXIT_DATA, "emotions input: %s", vb_err_msg());
			in->have_header = 1;
			continue;
		}
		if (n == 1 && !in->f[0][0])
			continue;
		if ((r = vb_emo_row(&in->cols, in->f, n, frame, p)) < 0)
			vb_fatal(VB_EXIT_DATA, "emotions input line %ld: %s", in->lineno, vb_err_msg());
		*face = r;
		return 1;
	}
}

/* The one emotions reader of the run (file scope: see cat below). */
static struct emo_in emo;

static void emo_free(struct emo_in *in)
{
	free(in->line);
	free(in->f);
}

/* --- the feedback log -------------------------------------------------- */

struct fb_state {
	char *path;
	struct vb_fb_log *log;
	struct vb_profile *prof;
	struct stat st;        /* of the log when it was read */
};

static const char *fb_path(const struct cmdline *c, struct fb_state *fs)
{
	if (!fs->path) {
		fs->path = c->feedback ? strdup(c->feedback) : vb_fb_default_path();
		if (!fs->path)
			vb_fatal(VB_EXIT_DATA, "%s", c->feedback ? "out of memory" : vb_err_msg());
	}
	return fs->path;
}

/* (Re)read the log and learn the profile, if the file changed since. */
static void fb_load(const struct cmdline *c, struct fb_state *fs, const struct vb_catalog *cat)
{
	const char *path = fb_path(c, fs);
	struct stat st;

	memset(&st, 0, sizeof st);
	if (stat(path, &st) && errno != ENOENT)
		vb_fatal(VB_EXIT_DATA, "cannot open '%s': %s", path, strerror(errno));
	if (fs->prof && st.st_size == fs->st.st_size && st.st_ino == fs->st.st_ino &&
	    st.st_mtim.tv_sec == fs->st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == fs->st.st_mtim.tv_nsec)
		return;
	vb_fb_log_free(fs->log);
	vb_profile_free(fs->prof);
	if (!(fs->log = vb_fb_read(path)))
		vb_fatal(VB_EXIT_DATA, "%s", vb_err_msg());
	if (fs->log->torn)
		vb_warn("'%s': line %ld is torn (an interrupted write); ignored", path,
			fs->log->torn_line);
	if (fs->log->bad)
		vb_warn("'%s': %ld malformed line%s ignored (the first is line %ld)", path,
			fs->log->bad, fs->log->bad == 1 ? "" : "s", fs->log->first_bad_line);
	if (!(fs->prof = vb_profile_learn(cat, fs->log)))
		vb_fatal(VB_EXIT_DATA, "%s", vb_err_msg());
	if (fs->prof->unknown)
		vb_info("'%s': %ld events for tracks not in the catalogue", path, fs->prof->unknown);
	vb_info("'%s': %zu events, %zu liked songs", path, fs->log->n, fs->prof->nliked);
	fs->st = st;
}

static void fb_free(struct fb_state *fs)
{
	vb_fb_log_free(fs->log);
	vb_profile_free(fs->prof);
	free(fs->path);
}

/* --- output ------------------------------------------------------------ */

static int header_done;

/* Rank and print one playlist; returns the songs printed.  shown (may be
 * NULL) marks songs of earlier playlists: they are skipped, and marked. */
static int playlist(const struct cmdline *c, const struct vb_catalog *cat,
		    const struct vb_profile *prof, const double *p, unsigned char *shown)
{
	static const char *const head[] = { "position", "id", "name", "artist", "genre",
					    "mood", "valence", "energy", "score", "why" };
	struct vb_rec_opts o = { c->mode, c->target, (int)c->n, c->spread, -1 };
	static struct vb_rec_item *it; /* file scope for the same reason as cat */
	int got;

	free(it);
	if (!(it = malloc((size_t)c->n * sizeof *it)))
		vb_fatal(VB_EXIT_DATA, "out of memory");
	if (c->genre) {
		for (int g = 0; g < cat->ngenres; g++)
			if (!strcmp(cat->genres[g], c->genre))
				o.genre = g;
		if (o.genre < 0)
			vb_fatal(VB_EXIT_DATA, "no genre '%s' in '%s'", c->genre, c->songs);
	}
	got = vb_recommend(cat, prof, p, &o, shown, it);
	if (got >= 0 && got < c->n && shown) { /* too few not yet shown: start over */
		memset(shown, 0, cat->n);
		got = vb_recommend(cat, prof, p, &o, shown, it);
	}
	if (got < 0)
		vb_fatal(VB_EXIT_DATA, "%s", vb_err_msg());
	if (got < c->n)
		vb_warn("only %d song%s left to choose from", got, got == 1 ? "" : "s");
	if (!header_done && vb_csv_write_row(stdout, head, 10))
		vb_fatal(VB_EXIT_DATA, "%s", vb_err_msg());
	header_done = 1;
	for (int i = 0; i < got; i++) {
		const struct vb_song *s = &cat->song[it[i].song];
		const struct vb_sv sv[7] = { s->id, s->name, s->artist, s->genre, s->mood,
					     s->valence_text, s->energy_text };
		char pos[24], score[32], *cp[7];
		const char *row[10];
		int bad;
		snprintf(pos, sizeof pos, "%d", i + 1);
		snprintf(score, sizeof score, "%.4f", it[i].score);
		for (int k = 0; k < 7; k++)
			if (!(cp[k] = vb_sv_dup(sv[k])))
				vb_fatal(VB_EXIT_DATA, "out of memory");
		row[0] = pos;
		for (int k = 0; k < 7; k++)
			row[k + 1] = cp[k];
		row[8] = score, row[9] = it[i].why;
		bad = vb_csv_write_row(stdout, row, 10);
		for (int k = 0; k < 7; k++)
			free(cp[k]);
		if (bad)
			vb_fatal(VB_EXIT_DATA, "%s", vb_err_msg());
		if (shown)
			shown[it[i].song] = 1;
	}
	if (vb_flush_stdout() < 0)
		vb_fatal(VB_EXIT_DATA, "write error: %s", strerror(errno));
	return got;
}

static void describe(const char *what, const double *p)
{
	struct vb_point pt = vb_emo_mix(p);

	vb_info("%s: %s (valence %.3f, energy %.3f)", what, vb_emo_name(vb_emo_dominant(p)),
		pt.valence, pt.energy);
}

/* --- follow ------------------------------------------------------------ */

static double wall_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

struct follow {
	double ema[VB_NEMO], last_t, cand_since;
	int have, current, cand, printed;
	long frame;            /* frame being gathered, -1 none */
	double acc[VB_NEMO];
	int faces;
	double t0;             /* wall clock at the start */
};

/* A frame is complete: fold the mean of its faces into the smoothed
 * probabilities and see whether the mood changed and held. */
static void follow_frame(const struct cmdline *c, struct follow *fw, const struct vb_catalog *cat,
			 struct fb_state *fs, unsigned char *shown)
{
	double t, pf[VB_NEMO];
	int lab;

	if (fw->frame < 0 || !fw->faces)
		return;
	t = c->fps > 0 ? fw->frame / c->fps : wall_seconds() - fw->t0;
	for (int k = 0; k < VB_NEMO; k++)
		pf[k] = fw->acc[k] / fw->faces;
	if (!fw->have) {
		memcpy(fw->ema, pf, sizeof pf);
		fw->have = 1;
	} else {
		double dt = t - fw->last_t;
		double a = c->smooth > 0 ? 1 - exp(-(dt > 0 ? dt : 0) / c->smooth) : 1;
		for (int k = 0; k < VB_NEMO; k++)
			fw->ema[k] += a * (pf[k] - fw->ema[k]);
	}
	fw->last_t = t;
	lab = vb_emo_dominant(fw->ema);
	if (lab == fw->current) {
		fw->cand = -1;
		return;
	}
	if (lab != fw->cand) {
		fw->cand = lab;
		fw->cand_since = t;
	}
	if (t - fw->cand_since >= c->hold) {
		vb_info("frame %ld: mood now %s", fw->frame, vb_emo_name(lab));
		describe("mood", fw->ema);
		fb_load(c, fs, cat);
		playlist(c, cat, fs->prof, fw->ema, shown);
		fw->current = lab;
		fw->cand = -1;
		fw->printed = 1;
	}
}

static void follow(const struct cmdline *c, const struct vb_catalog *cat, struct fb_state *fs)
{
	struct emo_in *in = &emo;
	struct follow fw = { 0 };
	static unsigned char *shown;
	long frame;
	int face;
	double p[VB_NEMO];

	if (!(shown = calloc(cat->n, 1)))
		vb_fatal(VB_EXIT_DATA, "out of memory");
	fw.current = fw.cand = -1;
	fw.frame = -1;
	fw.t0 = wall_seconds();
	while (emo_next(in, &frame, &face, p)) {
		if (frame != fw.frame) {
			follow_frame(c, &fw, cat, fs, shown);
			fw.frame = frame;
			fw.faces = 0;
			memset(fw.acc, 0, sizeof fw.acc);
		}
		if (face) {
			for (int k = 0; k < VB_NEMO; k++)
				fw.acc[k] += p[k];
			fw.faces++;
		}
	}
	follow_frame(c, &fw, cat, fs, shown);
	if (!fw.printed) {
		if (!fw.have)
			vb_fatal(VB_EXIT_DATA, "no face in the emotions input");
		describe("mood at the end of the input", fw.ema);
		fb_load(c, fs, cat);
		playlist(c, cat, fs->prof, fw.ema, shown);
	}
	emo_free(in);
	free(shown);
}

/* --- record ------------------------------------------------------------ */

static int record(const struct cmdline *c)
{
	static struct fb_state rfs;
	const char *emotion = c->emotion, *path;
	struct vb_fb_writer *w;

	if (c->songs) { /* check the track is one we know */
		struct vb_catalog *cat = vb_catalog_load(c->songs);
		if (!cat)
			vb_fatal(VB_EXIT_DATA, "%s", vb_err_msg());
		long found = vb_catalog_find(cat, c->track);
		vb_catalog_free(cat);
		if (found < 0)
			vb_fatal(VB_EXIT_DATA, "no track '%s' in '%s'", c->track, c->songs);
	}
	if (!emotion && !isatty(STDIN_FILENO)) { /* the emotion of the last face row */
		long frame;
		int face, last = -1;
		double p[VB_NEMO];
		while (emo_next(&emo, &frame, &face, p))
			if (face)
				last = vb_emo_dominant(p);
		emo_free(&emo);
		if (last >= 0)
			emotion = vb_emo_name(last);
	}
	path = fb_path(c, &rfs);
	if (vb_fb_mkdir_parent(path))
		vb_fatal(VB_EXIT_DATA, "%s", vb_err_msg());
	if (!(w = vb_fb_open(path)))
		vb_fatal(VB_EXIT_DATA, "%s", vb_err_msg());
	if (vb_fb_append(w, vb_fb_now_ms(), c->track, c->record, emotion) || vb_fb_close(w))
		vb_fatal(VB_EXIT_DATA, "%s", vb_err_msg());
	vb_info("recorded %s of '%s' (%s) in '%s'", vb_fb_kind_name(c->record), c->track,
		emotion ? emotion : "none", path);
	fb_free(&rfs);
	return VB_EXIT_OK;
}

/* File scope, so that what is alive when vb_fatal() exits stays reachable. */
static struct vb_catalog *cat;
static struct fb_state fs;

int main(int argc, char **argv)
{
	struct cmdline c;
	double p[VB_NEMO] = { 0 };

	vb_cli_init(argc, argv);
	parse_cmdline(argc, argv, &c);
	if (c.record >= 0)
		return vb_close_stdout(record(&c));

	if (!c.emotion && isatty(STDIN_FILENO))
		vb_fatal(VB_EXIT_USAGE, "give --emotion NAME or pipe emotions CSV to stdin");
	if (!(cat = vb_catalog_load(c.songs)))
		vb_fatal(VB_EXIT_DATA, "%s", vb_err_msg());
	if (cat->duplicates)
		vb_info("'%s': %ld rows with a repeated id skipped", c.songs, cat->duplicates);
	vb_info("'%s': %zu songs, %d genres", c.songs, cat->n, cat->ngenres);

	if (c.follow) {
		follow(&c, cat, &fs);
	} else {
		if (c.emotion) {
			p[vb_emo_lookup(c.emotion)] = 1;
		} else {
			long frame, faces = 0;
			int face;
			double q[VB_NEMO];
			while (emo_next(&emo, &frame, &face, q)) {
				if (!face)
					continue;
				for (int k = 0; k < VB_NEMO; k++)
					p[k] += q[k];
				faces++;
			}
			emo_free(&emo);
			if (!faces)
				vb_fatal(VB_EXIT_DATA, "no face in the emotions input");
			for (int k = 0; k < VB_NEMO; k++)
				p[k] /= faces;
		}
		describe("mood", p);
		fb_load(&c, &fs, cat);
		playlist(&c, cat, fs.prof, p, NULL);
	}
	fb_free(&fs);
	vb_catalog_free(cat);
	return vb_close_stdout(VB_EXIT_OK);
}
