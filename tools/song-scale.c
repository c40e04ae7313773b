/* song-scale - clean a Spotify audio-feature catalogue, select features and
 * standardise them (z-scores with the population std, as scikit-learn's
 * StandardScaler).
 *
 * Input: CSV in one of three known schemas (detected from the header) or
 * any other with the columns named by options; gzip-compressed input is
 * decompressed through gzip(1).  Output: CSV id,name,artist,genre, the raw
 * features, then z_<feature> for each.  Fitting needs every kept row
 * before the first output row, so the rows are kept compactly in memory (a
 * text arena plus one array of doubles); applying a saved scaler streams.
 */
#include "cli.h"
#include "csv.h"
#include "err.h"
#include "yaml.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcntl.h>

#define DEFAULT_FEATURES "danceability,energy,key,loudness,mode,speechiness," \
	"acousticness,instrumentalness,liveness,valence,tempo"
#define DEFAULT_NA "NA,N/A,NaN,nan,null,NULL,None,#N/A,<NA>"

/* The catalogue layouts song-scale knows by name. */
static const struct schema {
	const char *name;
	const char *id, *title, *artist, *genre;
} schemas[] = {
	{ "tidytuesday", "track_id", "track_name", "track_artist", "playlist_genre" },
	{ "kaggle114k", "track_id", "track_name", "artists", "track_genre" },
	{ "genres_v2", "id", "song_name", NULL, "genre" },
};
#define NSCHEMAS (sizeof schemas / sizeof schemas[0])

struct cmdline {
	const char *input;
	const char *output;
	const char *schema;
	const char *col[4];   /* id, name, artist, genre overrides */
	char *features;       /* comma-separated, or NULL for the default */
	const char *na;
	const char *save_scaler;
	const char *scaler;
	int skip_bad;
};

enum { C_ID, C_NAME, C_ARTIST, C_GENRE };
enum {
	OPT_SCHEMA = 0x100, OPT_ID, OPT_NAME, OPT_ARTIST, OPT_GENRE, OPT_FEATURES,
	OPT_SAVE, OPT_SCALER, OPT_SKIP, OPT_NA
};

static const struct argp_option options[] = {
	{ "output", 'o', "FILE", 0, "Write the CSV to FILE (default: stdout)", 0 },
	{ "schema", OPT_SCHEMA, "NAME", 0, "Input layout: tidytuesday, kaggle114k, genres_v2 or auto (default: auto, from the header)", 0 },
	{ "id-col", OPT_ID, "COL", 0, "Column holding the track id", 0 },
	{ "name-col", OPT_NAME, "COL", 0, "Column holding the track name", 0 },
	{ "artist-col", OPT_ARTIST, "COL", 0, "Column holding the artist(s) (optional)", 0 },
	{ "genre-col", OPT_GENRE, "COL", 0, "Column holding the genre (optional)", 0 },
	{ "features", OPT_FEATURES, "LIST", 0, "Comma-separated feature columns (default: " DEFAULT_FEATURES ")", 0 },
	{ "na-values", OPT_NA, "LIST", 0, "Comma-separated texts that mean missing, besides an empty field (default: " DEFAULT_NA ")", 0 },
	{ "save-scaler", OPT_SAVE, "FILE", 0, "Write the fitted means and stds to FILE (YAML)", 0 },
	{ "scaler", OPT_SCALER, "FILE", 0, "Apply the means and stds saved in FILE instead of fitting (streams)", 0 },
	{ "skip-bad", OPT_SKIP, 0, 0, "Drop rows whose features are missing, not numbers, NaN or infinite (default: error)", 0 },
	{ 0 }
};

static error_t parse_opt(int key, char *arg, struct argp_state *st)
{
	struct cmdline *c = st->input;

	switch (key) {
	case 'o': c->output = arg; break;
	case OPT_SCHEMA: c->schema = arg; break;
	case OPT_ID: c->col[C_ID] = arg; break;
	case OPT_NAME: c->col[C_NAME] = arg; break;
	case OPT_ARTIST: c->col[C_ARTIST] = arg; break;
	case OPT_GENRE: c->col[C_GENRE] = arg; break;
	case OPT_FEATURES: c->features = arg; break;
	case OPT_NA: c->na = arg; break;
	case OPT_SAVE: c->save_scaler = arg; break;
	case OPT_SCALER: c->scaler = arg; break;
	case OPT_SKIP: c->skip_bad = 1; break;
	case ARGP_KEY_ARG:
		if (c->input)
			argp_error(st, "one input file at most");
		c->input = arg;
		break;
	case ARGP_KEY_END:
		if (c->schema && strcmp(c->schema, "auto")) {
			size_t i;
			for (i = 0; i < NSCHEMAS; i++)
				if (!strcmp(c->schema, schemas[i].name))
					break;
			if (i == NSCHEMAS)
				argp_error(st, "unknown --schema '%s' (tidytuesday, kaggle114k, genres_v2, auto)", c->schema);
		}
		if (c->save_scaler && c->scaler)
			argp_error(st, "--save-scaler and --scaler exclude each other");
		for (int i = 0; i < 4; i++)
			if (c->col[i] && !*c->col[i])
				argp_error(st, "empty column name");
		if (c->features && !*c->features)
			argp_error(st, "--features needs at least one column");
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
		options, parse_opt, "[FILE]",
		"Clean a Spotify audio-feature CSV (drop rows without id or name, keep the first row of "
		"each id), select features and standardise them: z = (x - mean) / std with the "
		"population std.  FILE may be gzip-compressed; none or - reads stdin.\v"
		"Known schemas: tidytuesday (track_id, track_name, track_artist, playlist_genre), "
		"kaggle114k (track_id, track_name, artists, track_genre), genres_v2 (id, song_name, "
		"genre; no artist).  A constant feature (std 0) gets z = 0, as StandardScaler does.",
		children, 0, 0
	};

	memset(c, 0, sizeof *c);
	c->na = DEFAULT_NA;
	argp_parse(&argp, argc, argv, 0, 0, c);
}

/* --- input, through gzip(1) when compressed ---------------------------- */

struct input {
	FILE *f;         /* what the CSV reader reads */
	FILE *raw;       /* the file opened (may equal f) */
	pid_t feeder, gunzip;
	const char *name;
};

static void die_sys(const char *what)
{
	vb_fatal(VB_EXIT_DATA, "%s: %s", what, strerror(errno));
}

/* Open the input; if its first byte is gzip's 0x1f, decompress it through
 * "gzip -dc": one child copies the input (including what stdio already
 * buffered) into gzip, which writes into a pipe we read.  Nothing seeks. */
static void input_open(struct input *in, const char *path)
{
	int c, a[2], b[2];

	memset(in, 0, sizeof *in);
	in->name = path && strcmp(path, "-") ? path : "stdin";
	in->raw = in->f = vb_open_in(path);
	c = getc(in->raw);
	if (c == EOF) {
		if (ferror(in->raw))
			vb_fatal(VB_EXIT_DATA, "cannot read '%s': %s", in->name, strerror(errno));
		return;
	}
	ungetc(c, in->raw);
	if (c != 0x1f)
		return;
	fflush(stdout);
	if (pipe(a) || pipe(b))
		die_sys("pipe");
	in->gunzip = fork();
	if (in->gunzip < 0)
		die_sys("fork");
	if (in->gunzip == 0) {
		int null = open("/dev/null", O_WRONLY);

		signal(SIGPIPE, SIG_DFL);
		if (null >= 0)
			dup2(null, 2);
		dup2(a[0], 0);
		dup2(b[1], 1);
		close(a[0]); close(a[1]); close(b[0]); close(b[1]);
		execlp("gzip", "gzip", "-dc", (char *)NULL);
		_exit(127);
	}
	in->feeder = fork();
	if (in->feeder < 0)
		die_sys("fork");
	if (in->feeder == 0) {
		char buf[1 << 16];
		size_t n;

		close(a[0]); close(b[0]); close(b[1]);
		while ((n = fread(buf, 1, sizeof buf, in->raw)) > 0) {
			for (size_t off = 0; off < n;) {
				ssize_t w = write(a[1], buf + off, n - off);
				if (w < 0) {
					if (errno == EINTR)
						continue;
					_exit(errno == EPIPE ? 0 : 1);
				}
				off += (size_t)w;
			}
		}
		_exit(ferror(in->raw) ? 1 : 0);
	}
	close(a[0]); close(a[1]); close(b[1]);
	in->f = fdopen(b[0], "rb");
	if (!in->f)
		die_sys("fdopen");
}

/* Wait for the decompressor; -1 (error set) if it failed.  Called at the
 * end of the input, or after closing our end of the pipe, so gzip cannot
 * be blocked writing; death by SIGPIPE is then not an error. */
static int input_status(struct input *in)
{
	int st, bad = 0;

	if (in->gunzip > 0) {
		if (waitpid(in->gunzip, &st, 0) > 0 &&
		    ((WIFEXITED(st) && WEXITSTATUS(st) != 0) || (WIFSIGNALED(st) && WTERMSIG(st) != SIGPIPE)))
			bad = WIFEXITED(st) && WEXITSTATUS(st) == 127 ? 2 : 1;
		in->gunzip = 0;
	}
	if (in->feeder > 0) {
		if (waitpid(in->feeder, &st, 0) > 0 && !(WIFEXITED(st) && WEXITSTATUS(st) == 0) && !bad)
			return vb_err_set("read error");
		in->feeder = 0;
	}
	if (bad == 2)
		return vb_err_set("cannot run gzip to decompress it");
	return bad ? vb_err_set("corrupt or truncated gzip data") : 0;
}

/* Exit with msg about the input -- unless the decompressor failed, which
 * is then the real cause. */
static void __attribute__((noreturn)) input_fail(struct input *in, const char *msg)
{
	char copy[VB_ERR_MAX];

	snprintf(copy, sizeof copy, "%s", msg);
	if (in->f != in->raw) {
		fclose(in->f);
		in->f = in->raw;
		if (input_status(in) < 0)
			vb_fatal(VB_EXIT_DATA, "'%s': %s", in->name, vb_err_msg());
	}
	vb_fatal(VB_EXIT_DATA, "'%s': %s", in->name, copy);
}

static void input_close(struct input *in)
{
	if (in->f && in->f != in->raw) {
		fclose(in->f); /* gzip may get EPIPE if we stopped early */
		input_status(in);
	}
	if (in->raw != stdin)
		fclose(in->raw);
}

/* --- a growing byte arena and an id set -------------------------------- */

struct arena {
	char *p;
	size_t len, cap;
};

static size_t arena_add(struct arena *a, const char *s, size_t n)
{
	size_t off = a->len;

	if (a->len + n + 1 > a->cap) {
		size_t cap = a->cap ? a->cap : 1 << 16;
		while (a->len + n + 1 > cap)
			cap *= 2;
		a->p = realloc(a->p, cap);
		if (!a->p)
			vb_fatal(VB_EXIT_DATA, "out of memory");
		a->cap = cap;
	}
	memcpy(a->p + a->len, s, n);
	a->p[a->len + n] = 0;
	a->len += n + 1;
	return off;
}

/* Open-addressing hash set of ids; slots hold arena offsets + 1. */
struct idset {
	size_t *slot;
	uint32_t *tag;
	size_t cap, n;
};

static uint64_t hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h ^ (h >> 29);
}

static void idset_grow(struct idset *s, const struct arena *a)
{
	size_t ncap = s->cap ? s->cap * 2 : 1 << 12;
	size_t *slot = calloc(ncap, sizeof *slot);
	uint32_t *tag = calloc(ncap, sizeof *tag);

	if (!slot || !tag)
		vb_fatal(VB_EXIT_DATA, "out of memory");
	for (size_t i = 0; i < s->cap; i++) {
		if (!s->slot[i])
			continue;
		const char *id = a->p + s->slot[i] - 1;
		size_t j = hash(id, strlen(id)) & (ncap - 1);
		while (slot[j])
			j = (j + 1) & (ncap - 1);
		slot[j] = s->slot[i];
		tag[j] = s->tag[i];
	}
	free(s->slot);
	free(s->tag);
	s->slot = slot;
	s->tag = tag;
	s->cap = ncap;
}

/* True if id is already in the set. */
static int idset_has(const struct idset *s, const struct arena *a, const char *id, size_t n, uint64_t h)
{
	if (!s->cap)
		return 0;
	for (size_t j = h & (s->cap - 1); s->slot[j]; j = (j + 1) & (s->cap - 1))
		if (s->tag[j] == (uint32_t)(h >> 32) && !strncmp(a->p + s->slot[j] - 1, id, n) &&
		    a->p[s->slot[j] - 1 + n] == 0)
			return 1;
	return 0;
}

static void idset_add(struct idset *s, const struct arena *a, size_t off, uint64_t h)
{
	size_t j;

	if (2 * (s->n + 1) > s->cap)
		idset_grow(s, a);
	for (j = h & (s->cap - 1); s->slot[j]; j = (j + 1) & (s->cap - 1))
		;
	s->slot[j] = off + 1;
	s->tag[j] = (uint32_t)(h >> 32);
	s->n++;
}

/* --- features and scalers ---------------------------------------------- */

struct feats {
	size_t n;
	char **name;
	size_t *col;
	double *mean, *std;
};

static void feats_add(struct feats *f, const char *name)
{
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->name[i], name))
			vb_fatal(VB_EXIT_USAGE, "feature '%s' named twice", name);
	f->name = realloc(f->name, (f->n + 1) * sizeof *f->name);
	f->mean = realloc(f->mean, (f->n + 1) * sizeof *f->mean);
	f->std = realloc(f->std, (f->n + 1) * sizeof *f->std);
	f->col = realloc(f->col, (f->n + 1) * sizeof *f->col);
	if (!f->name || !f->mean || !f->std || !f->col || !(f->name[f->n] = strdup(name)))
		vb_fatal(VB_EXIT_DATA, "out of memory");
	f->mean[f->n] = 0;
	f->std[f->n] = 1;
	f->n++;
}

static void feats_free(struct feats *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->name[i]);
	free(f->name);
	free(f->col);
	free(f->mean);
	free(f->std);
}

static void feats_parse(struct feats *f, const char *list)
{
	char *copy = strdup(list), *rest = copy, *t;

	if (!copy)
		vb_fatal(VB_EXIT_DATA, "out of memory");
	while ((t = strsep(&rest, ","))) {
		while (*t == ' ')
			t++;
		for (char *e = t + strlen(t); e > t && e[-1] == ' ';)
			*--e = 0;
		if (!*t)
			vb_fatal(VB_EXIT_USAGE, "empty name in --features '%s'", list);
		feats_add(f, t);
	}
	free(copy);
	if (!f->n)
		vb_fatal(VB_EXIT_USAGE, "--features needs at least one column");
}

/* Read a scaler saved by --save-scaler.  If want (from --features) is
 * non-empty, keep its order and take each feature from the file. */
static void scaler_load(struct feats *f, const char *path, const struct feats *want)
{
	FILE *in = vb_open_in(path);
	struct vb_yaml *y = vb_yaml_parse(in), *list;

	if (!y)
		vb_fatal(VB_EXIT_DATA, "'%s': %s", path, vb_err_msg());
	if (in != stdin)
		fclose(in);
	list = vb_yaml_get(y, "features");
	if (!list || list->type != VB_YAML_SEQ || !list->n)
		vb_fatal(VB_EXIT_DATA, "'%s': not a song-scale scaler (no 'features' list)", path);
	for (size_t i = 0; i < list->n; i++) {
		struct vb_yaml *it = list->items[i];
		const char *name = vb_yaml_str(vb_yaml_get(it, "name"));
		double m, s;

		if (!name || !*name)
			vb_fatal(VB_EXIT_DATA, "'%s': line %d: feature without a name", path, it->line);
		if (vb_yaml_double(vb_yaml_get(it, "mean"), &m) < 0 || vb_yaml_double(vb_yaml_get(it, "std"), &s) < 0)
			vb_fatal(VB_EXIT_DATA, "'%s': feature '%s': mean and std needed: %s", path, name, vb_err_msg());
		if (!isfinite(m) || !isfinite(s) || s < 0)
			vb_fatal(VB_EXIT_DATA, "'%s': feature '%s': mean and std must be finite, std >= 0", path, name);
		feats_add(f, name);
		f->mean[f->n - 1] = m;
		f->std[f->n - 1] = s;
	}
	vb_yaml_free(y);
	if (want->n) {
		struct feats sel = { 0 };
		for (size_t i = 0; i < want->n; i++) {
			size_t j;
			for (j = 0; j < f->n && strcmp(f->name[j], want->name[i]); j++)
				;
			if (j == f->n)
				vb_fatal(VB_EXIT_USAGE, "feature '%s' is not in the scaler '%s'", want->name[i], path);
			feats_add(&sel, want->name[i]);
			sel.mean[i] = f->mean[j];
			sel.std[i] = f->std[j];
		}
		feats_free(f);
		*f = sel;
	}
}

static int scaler_save(const struct feats *f, const char *path, size_t count)
{
	FILE *o = vb_open_out(path);

	fprintf(o, "# song-scale scaler: z = (x - mean) / std, std the population std;\n"
		"# a std of 0 marks a constant feature, scaled by 1 (z = x - mean)\n"
		"count: %zu\nfeatures:\n", count);
	for (size_t i = 0; i < f->n; i++) {
		fputs("  - name: ", o);
		vb_yaml_write_str(o, f->name[i]);
		fputs("\n    mean: ", o);
		vb_yaml_write_double(o, f->mean[i]);
		fputs("\n    std: ", o);
		vb_yaml_write_double(o, f->std[i]);
		fputc('\n', o);
	}
	return vb_close(o, path);
}

/* --- the table --------------------------------------------------------- */

static int is_na(const char *s, char **na, size_t nna)
{
	if (!*s)
		return 1;
	for (size_t i = 0; i < nna; i++)
		if (!strcmp(s, na[i]))
			return 1;
	return 0;
}

static long find_col(char **hdr, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(hdr[i], name))
			return (long)i;
	return -1;
}

/* Pick the id/name/artist/genre columns from the options, the named
 * schema, or the header. */
static int pick_columns(const struct cmdline *c, char **hdr, size_t n, long col[4])
{
	const struct schema *s = NULL;

	if (c->schema && strcmp(c->schema, "auto")) {
		for (size_t i = 0; i < NSCHEMAS; i++)
			if (!strcmp(c->schema, schemas[i].name))
				s = &schemas[i];
	} else if (!c->col[C_ID] || !c->col[C_NAME]) {
		for (size_t i = 0; i < NSCHEMAS && !s; i++) {
			const struct schema *t = &schemas[i];
			if (find_col(hdr, n, t->id) >= 0 && find_col(hdr, n, t->title) >= 0 &&
			    (!t->artist || find_col(hdr, n, t->artist) >= 0) && find_col(hdr, n, t->genre) >= 0)
				s = t;
		}
		if (!s && (!c->col[C_ID] || !c->col[C_NAME]))
			return vb_err_set("unknown schema (header '%.40s%s...'); use --schema or --id-col and --name-col",
					  hdr[0], n > 1 ? "," : "");
	}
	for (int k = 0; k < 4; k++) {
		const char *want = c->col[k];
		static const char *what[] = { "id", "name", "artist", "genre" };

		if (!want && s)
			want = k == C_ID ? s->id : k == C_NAME ? s->title : k == C_ARTIST ? s->artist : s->genre;
		col[k] = -1;
		if (!want)
			continue;
		col[k] = find_col(hdr, n, want);
		if (col[k] < 0)
			return vb_err_set("no %s column '%s' in the header", what[k], want);
	}
	if (s)
		vb_info("schema %s", s->name);
	return 0;
}

static int put_double(FILE *o, double v)
{
	char buf[32];

	vb_csv_fmt_double(buf, v);
	return fputs(buf, o) == EOF ? -1 : 0;
}

static void write_header(FILE *o, const struct feats *f)
{
	fputs("id,name,artist,genre", o);
	for (size_t i = 0; i < f->n; i++) {
		putc(',', o);
		vb_csv_write_field(o, f->name[i]);
	}
	for (size_t i = 0; i < f->n; i++) {
		char z[512];
		snprintf(z, sizeof z, "z_%s", f->name[i]);
		putc(',', o);
		vb_csv_write_field(o, z);
	}
	putc('\n', o);
}

/* One output row: the four text fields, raw values, z values. */
static int write_row(FILE *o, const char *const text[4], const double *x, const struct feats *f)
{
	for (int k = 0; k < 4; k++) {
		if (k)
			putc(',', o);
		vb_csv_write_field(o, text[k]);
	}
	for (size_t i = 0; i < f->n; i++) {
		putc(',', o);
		put_double(o, x[i]);
	}
	for (size_t i = 0; i < f->n; i++) {
		double s = f->std[i] > 0 ? f->std[i] : 1;
		putc(',', o);
		put_double(o, (x[i] - f->mean[i]) / s);
	}
	if (putc('\n', o) == EOF || ferror(o))
		return vb_err_sys("write error");
	return 0;
}

int main(int argc, char **argv)
{
	struct cmdline c;
	struct input in;
	struct vb_csv *r;
	struct feats f = { 0 }, want = { 0 };
	struct arena text = { 0 };
	struct idset ids = { 0 };
	double *vals = NULL, *x;
	size_t nvals = 0, capvals = 0, nrows = 0, nin = 0, nmissing = 0, ndup = 0, nbad = 0;
	char **na = NULL, **fl, *nacopy, *save = NULL;
	size_t nna = 0, nf, *lens;
	long col[4];
	int rc, streaming;
	FILE *o;
	static char obuf[1 << 16];

	vb_cli_init(argc, argv);
	parse_cmdline(argc, argv, &c);

	if (c.features)
		feats_parse(&want, c.features);
	if (c.scaler) {
		scaler_load(&f, c.scaler, &want);
	} else {
		feats_parse(&f, c.features ? c.features : DEFAULT_FEATURES);
	}
	streaming = c.scaler != NULL;
	nacopy = strdup(c.na);
	for (char *p = nacopy;; p = NULL) {
		char *t = strtok_r(p, ",", &save);
		if (!t)
			break;
		na = realloc(na, (nna + 1) * sizeof *na);
		if (!na)
			vb_fatal(VB_EXIT_DATA, "out of memory");
		na[nna++] = t;
	}
	x = calloc(f.n, sizeof *x);

	input_open(&in, c.input);
	r = vb_csv_open(in.f);
	if (!r || !x)
		vb_fatal(VB_EXIT_DATA, "out of memory");
	rc = vb_csv_next(r, &fl, &nf, &lens);
	if (rc <= 0)
		input_fail(&in, rc < 0 ? vb_err_msg() : "empty input");
	if (pick_columns(&c, fl, nf, col) < 0)
		input_fail(&in, vb_err_msg());
	for (size_t i = 0; i < f.n; i++) {
		long k = find_col(fl, nf, f.name[i]);
		if (k < 0) {
			vb_err_set("no feature column '%s' in the header", f.name[i]);
			input_fail(&in, vb_err_msg());
		}
		f.col[i] = (size_t)k;
	}

	o = vb_open_out(c.output);
	setvbuf(o, obuf, _IOFBF, sizeof obuf);
	if (streaming)
		write_header(o, &f);

	while ((rc = vb_csv_next(r, &fl, &nf, &lens)) == 1) {
		const char *id = fl[col[C_ID]];
		size_t idlen = lens[col[C_ID]], off;
		uint64_t h;
		int bad = 0;

		nin++;
		if (is_na(id, na, nna) || is_na(fl[col[C_NAME]], na, nna)) {
			nmissing++;
			continue;
		}
		h = hash(id, idlen);
		if (idset_has(&ids, &text, id, idlen, h)) {
			ndup++;
			continue;
		}
		for (size_t i = 0; i < f.n && !bad; i++) {
			const char *s = fl[f.col[i]];
			if (is_na(s, na, nna) || vb_csv_parse_double(s, &x[i]) < 0 || !isfinite(x[i])) {
				if (!c.skip_bad) {
					const char *why = is_na(s, na, nna) ? "missing" :
						vb_csv_parse_double(s, &x[i]) < 0 ? "not a number" : "not finite";
					vb_err_set("line %ld: feature '%s' is %s: '%s' (--skip-bad drops such rows)",
						   vb_csv_line(r), f.name[i], why, s);
					input_fail(&in, vb_err_msg());
				}
				bad = 1;
			}
		}
		if (bad) {
			nbad++;
			continue;
		}
		off = arena_add(&text, id, idlen);
		idset_add(&ids, &text, off, h);
		if (streaming) {
			const char *t[4] = { id, fl[col[C_NAME]],
					     col[C_ARTIST] >= 0 ? fl[col[C_ARTIST]] : "",
					     col[C_GENRE] >= 0 ? fl[col[C_GENRE]] : "" };
			if (write_row(o, t, x, &f) < 0)
				vb_fatal(VB_EXIT_DATA, "%s", vb_err_msg());
		} else {
			for (int k = 1; k < 4; k++) {
				const char *s = col[k] >= 0 ? fl[col[k]] : "";
				arena_add(&text, s, col[k] >= 0 ? lens[col[k]] : 0);
			}
			if (nvals + f.n > capvals) {
				capvals = capvals ? capvals * 2 : 1 << 14;
				vals = realloc(vals, capvals * sizeof *vals);
				if (!vals)
					vb_fatal(VB_EXIT_DATA, "out of memory");
			}
			memcpy(vals + nvals, x, f.n * sizeof *x);
			nvals += f.n;
		}
		nrows++;
	}
	if (rc < 0)
		input_fail(&in, vb_err_msg());
	if (input_status(&in) < 0)
		vb_fatal(VB_EXIT_DATA, "'%s': %s", in.name, vb_err_msg());
	vb_info("%zu rows read, %zu without id or name, %zu duplicate ids, %zu with bad features dropped; %zu kept",
		nin, nmissing, ndup, nbad, nrows);

	if (!streaming) {
		const char *p = text.p;

		if (!nrows)
			vb_fatal(VB_EXIT_DATA, "'%s': no rows left to fit the scaler", in.name);
		for (size_t i = 0; i < f.n; i++) {
			double sum = 0, ss = 0, m, var, bound;
			for (size_t j = 0; j < nrows; j++)
				sum += vals[j * f.n + i];
			m = sum / (double)nrows;
			for (size_t j = 0; j < nrows; j++) {
				double d = vals[j * f.n + i] - m;
				ss += d * d;
			}
			f.mean[i] = m;
			var = ss / (double)nrows;
			/* as StandardScaler: a variance within rounding error of 0
			 * marks a constant feature */
			bound = (double)nrows * DBL_EPSILON * var + pow((double)nrows * m * DBL_EPSILON, 2);
			f.std[i] = var <= bound ? 0 : sqrt(var);
			if (f.std[i] == 0)
				vb_warn("feature '%s' is constant: its z values are 0", f.name[i]);
		}
		if (c.save_scaler && scaler_save(&f, c.save_scaler, nrows) < 0)
			exit(VB_EXIT_DATA);
		write_header(o, &f);
		for (size_t j = 0; j < nrows; j++) {
			const char *t[4];
			for (int k = 0; k < 4; k++) {
				t[k] = p;
				p += strlen(p) + 1;
			}
			if (write_row(o, t, vals + j * f.n, &f) < 0)
				vb_fatal(VB_EXIT_DATA, "%s", vb_err_msg());
		}
	}
	vb_csv_close(r);
	input_close(&in);
	free(vals);
	free(text.p);
	free(x);
	free(ids.slot);
	free(ids.tag);
	free(na);
	free(nacopy);
	feats_free(&f);
	feats_free(&want);
	if (o != stdout && vb_close(o, c.output) < 0)
		return VB_EXIT_DATA;
	return vb_close_stdout(VB_EXIT_OK);
}
