/* recommend.c - emotions on the circumplex, the catalogue, the listener's
 * learned profile and the playlist ranking (see recommend.h).
 *
 * The score of a song for one slot of a playlist is
 *
 *     fit * exp(like + similar + preference + skip + play) - genre
 *
 * so that the mood comes first and what was learned reorders the songs
 * that suit it (a liked song far from the mood does not take over):
 *
 * fit         exp(-d^2 / (2 * 0.15^2)), d the distance on the circumplex
 *             from the song's (valence, energy) to the slot's target point
 * like        +0.5 for a song the listener liked, scaled by 0.6 .. 1 by how
 *             much the emotion it was liked in matches the current one
 * similar     the best, over the 32 most recently liked songs, of
 *             0.15 [same artist] + 0.05 [same genre] + 0.25 exp(-|dz|^2 / 4)
 *             (dz: difference of the standardised audio features; the
 *             kernel is cut to 0 beyond |dz|^2 = 24), scaled the same way
 * preference  0.3 tanh(w.x / 2): x the song's standardised features and a
 *             bias, w the probability-weighted mix of the per-class models
 * skip        -0.2 per skip in the current emotion (probability-weighted,
 *             at most 3; a skip recorded without an emotion counts half):
 *             a song skipped while happy may still suit sadness
 * play        -0.02 per play (at most 5): well-worn songs step aside
 * genre       0.12 per song of the same genre already in the playlist
 *             (unless the spread is switched off)
 *
 * Disliked songs (a dislike not followed by a like) are never chosen; no
 * song appears twice (nor the same artist and name under another id); no
 * artist twice in a row.
 *
 * The preference model of class k is a logistic regression over the
 * standardised features, trained online by SGD over the log in order:
 * a like is a positive example, a dislike or a skip a negative one, a play
 * a weak positive; each event updates the model of the emotion it was
 * recorded in (an event without a known emotion updates every model at a
 * seventh of the rate).  Step 0.1, L2 decay 0.01 per step, so that old
 * tastes fade.
 */
#include "recommend.h"
#include "csv.h"
#include "err.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* --- emotions ---------------------------------------------------------- */

static const char *const emo_names[VB_NEMO] = {
	"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"
};

/* Russell's circumplex in Spotify's units: valence (pleasure) across,
 * energy (arousal) up. */
static const struct vb_point emo_points[VB_NEMO] = {
	{ 0.25, 0.85 }, /* angry: unpleasant, aroused */
	{ 0.20, 0.60 }, /* disgust: unpleasant, moderately aroused */
	{ 0.25, 0.70 }, /* fear: unpleasant, aroused */
	{ 0.80, 0.75 }, /* happy: pleasant, aroused */
	{ 0.20, 0.25 }, /* sad: unpleasant, low arousal */
	{ 0.70, 0.85 }, /* surprise: pleasant, highly aroused */
	{ 0.55, 0.45 }, /* neutral: the middle, slightly calm */
};

static const struct { const char *name; struct vb_point p; } named_targets[] = {
	{ "calm", { 0.60, 0.25 } },
	{ "energetic", { 0.75, 0.90 } },
};

const char *vb_emo_name(int emo)
{
	return emo >= 0 && emo < VB_NEMO ? emo_names[emo] : NULL;
}

int vb_emo_lookup(const char *s)
{
	for (int k = 0; k < VB_NEMO; k++)
		if (!strcmp(s, emo_names[k]))
			return k;
	return -1;
}

struct vb_point vb_emo_point(int emo)
{
	return emo_points[emo];
}

struct vb_point vb_emo_mix(const double *p)
{
	struct vb_point r = { 0, 0 };

	for (int k = 0; k < VB_NEMO; k++) {
		r.valence += p[k] * emo_points[k].valence;
		r.energy += p[k] * emo_points[k].energy;
	}
	return r;
}

int vb_emo_dominant(const double *p)
{
	int best = 0;

	for (int k = 1; k < VB_NEMO; k++)
		if (p[k] > p[best])
			best = k;
	return best;
}

int vb_rec_target(const char *name, struct vb_point *pt)
{
	int k = vb_emo_lookup(name);

	if (k >= 0) {
		*pt = emo_points[k];
		return 0;
	}
	for (size_t i = 0; i < sizeof named_targets / sizeof *named_targets; i++)
		if (!strcmp(name, named_targets[i].name)) {
			*pt = named_targets[i].p;
			return 0;
		}
	return vb_err_set("unknown target '%s' (expected an emotion, calm or energetic)", name);
}

int vb_rec_mode(const char *s)
{
	static const char *const modes[] = { "match", "lift", "calm", "energize" };

	for (int i = 0; i < 4; i++)
		if (!strcmp(s, modes[i]))
			return i;
	return -1;
}

/* --- the emotions CSV -------------------------------------------------- */

int vb_rec_split(char *line, char ***fields, size_t *cap)
{
	size_t n = 0, len = strlen(line);
	char *r = line, *w;

	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = 0;
	for (;;) {
		if (n == *cap) {
			size_t nc = *cap ? *cap * 2 : 16;
			char **nf = realloc(*fields, nc * sizeof *nf);
			if (!nf)
				return vb_err_set("out of memory");
			*fields = nf;
			*cap = nc;
		}
		(*fields)[n++] = w = r;
		if (*r == '"') {
			r++;
			for (;;) {
				if (!*r)
					return vb_err_set("unterminated quoted field");
				if (*r == '"') {
					if (r[1] != '"')
						break;
					r++;
				}
				*w++ = *r++;
			}
			r++;
			if (*r && *r != ',')
				return vb_err_set("text after a closing quote");
		} else {
			while (*r && *r != ',')
				*w++ = *r++;
		}
		if (!*r) {
			*w = 0;
			break;
		}
		*w = 0;
		r++;
	}
	if (n > 1 << 20)
		return vb_err_set("too many fields");
	return (int)n;
}

int vb_emo_header(struct vb_emo_cols *c, char **f, int n)
{
	int h = -1;

	memset(c, 0, sizeof *c);
	c->frame = c->face = c->emotion = -1;
	c->ncols = n;
	if (n > 0 && !strncmp(f[0], "\xef\xbb\xbf", 3))
		memmove(f[0], f[0] + 3, strlen(f[0] + 3) + 1);
	for (int i = 0; i < n; i++) {
		if (!strcmp(f[i], "frame") && c->frame < 0)
			c->frame = i;
		else if (!strcmp(f[i], "face") && c->face < 0)
			c->face = i;
		else if (!strcmp(f[i], "h") && h < 0)
			h = i;
		else if (!strcmp(f[i], "emotion"))
			c->emotion = i;
	}
	if (c->frame < 0)
		return vb_err_set("emotions header has no 'frame' column");
	if (c->face < 0)
		return vb_err_set("emotions header has no 'face' column");
	if (h < 0)
		return vb_err_set("emotions header has no 'h' column");
	if (c->emotion < 0 || c->emotion < h)
		return vb_err_set("emotions header has no 'emotion' column after 'h'");
	for (int i = h + 1; i < c->emotion; i++) {
		int k = vb_emo_lookup(f[i]);
		if (k < 0)
			return vb_err_set("unknown emotion class column '%s'", f[i]);
		for (int j = 0; j < c->ncls; j++)
			if (c->cls[j] == k)
				return vb_err_set("emotion class column '%s' repeated", f[i]);
		c->col[c->ncls] = i;
		c->cls[c->ncls++] = k;
	}
	if (!c->ncls)
		return vb_err_set("emotions header has no class columns between 'h' and 'emotion'");
	return 0;
}

int vb_emo_row(const struct vb_emo_cols *c, char **f, int n, long *frame, double *p)
{
	char *end;
	double sum = 0;

	if (n != c->ncols)
		return vb_err_set("%d fields, expected %d", n, c->ncols);
	errno = 0;
	*frame = strtol(f[c->frame], &end, 10);
	if (errno || end == f[c->frame] || *end || *frame < 0)
		return vb_err_set("bad frame number '%s'", f[c->frame]);
	if (!f[c->face][0] || !strcmp(f[c->emotion], "none"))
		return 0;
	for (int k = 0; k < VB_NEMO; k++)
		p[k] = 0;
	for (int j = 0; j < c->ncls; j++) {
		double v;
		if (vb_csv_parse_double(f[c->col[j]], &v) || !isfinite(v) || v < 0 || v > 1.0001)
			return vb_err_set("bad probability '%s' for %s", f[c->col[j]],
					  emo_names[c->cls[j]]);
		p[c->cls[j]] = v;
		sum += v;
	}
	if (!(sum > 1e-9))
		return vb_err_set("probabilities sum to zero");
	for (int k = 0; k < VB_NEMO; k++)
		p[k] /= sum;
	return 1;
}

/* --- string map (interning) --------------------------------------------- */

/* A map from strings to small integers, over open addressing.  Slots hold
 * the key's hash and the value only: the key itself is found again from
 * the value by a callback (a song's id, an artist's first song), which
 * keeps the table small. */
struct strslot {
	uint32_t hash;
	int32_t val;       /* -1 = empty */
};

struct strmap {
	struct strslot *slot;
	size_t nslot, n, bytes;
	struct vb_sv (*key)(const void *ctx, int val);
	const void *ctx;
};

static uint32_t hash_mem(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return (uint32_t)(h ^ (h >> 32));
}

/* 64-bit FNV-1a, for artist names. */
static uint64_t hash64(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

static void *big_alloc(size_t n);

static int strmap_resize(struct strmap *m, size_t ns)
{
	size_t bytes = ns * sizeof *m->slot;
	struct strslot *sl = big_alloc(bytes);

	if (!sl)
		return -1;
	for (size_t j = 0; j < ns; j++)
		sl[j].val = -1;
	for (size_t i = 0; i < m->nslot; i++) {
		size_t j;
		if (m->slot[i].val < 0)
			continue;
		j = m->slot[i].hash & (ns - 1);
		while (sl[j].val >= 0)
			j = (j + 1) & (ns - 1);
		sl[j] = m->slot[i];
	}
	if (m->slot)
		munmap(m->slot, m->bytes);
	m->slot = sl;
	m->nslot = ns;
	m->bytes = bytes;
	return 0;
}

static int strmap_grow(struct strmap *m)
{
	return strmap_resize(m, m->nslot ? m->nslot * 2 : 1024);
}

/* Make room for n keys without growing. */
static int strmap_reserve(struct strmap *m, size_t n)
{
	size_t ns = m->nslot ? m->nslot : 1024;

	while (ns < 2 * n + 2)
		ns *= 2;
	return ns > m->nslot ? strmap_resize(m, ns) : 0;
}

/* The slot of key (s, n) with hash h: the one holding it, or the empty
 * one it would go in. */
static size_t strmap_slot(const struct strmap *m, const char *s, size_t n, uint32_t h)
{
	size_t j = h & (m->nslot - 1);

	for (; m->slot[j].val >= 0; j = (j + 1) & (m->nslot - 1)) {
		struct vb_sv k;
		if (m->slot[j].hash != h)
			continue;
		k = m->key(m->ctx, m->slot[j].val);
		if (k.n == n && !memcmp(k.p, s, n))
			break;
	}
	return j;
}

static long strmap_get(const struct strmap *m, const char *s, size_t n)
{
	if (!m->nslot)
		return -1;
	return m->slot[strmap_slot(m, s, n, hash_mem(s, n))].val;
}

/* Insert (s, n) with value v unless present (the key callback must
 * already give (s, n) for v); returns the value stored, or -2 on no
 * memory. */
static long strmap_put_h(struct strmap *m, const char *s, size_t n, uint32_t h, int v)
{
	size_t j;

	if ((m->n + 1) * 2 > m->nslot && strmap_grow(m))
		return -2;
	j = strmap_slot(m, s, n, h);
	if (m->slot[j].val >= 0)
		return m->slot[j].val;
	m->slot[j].hash = h;
	m->slot[j].val = v;
	m->n++;
	return v;
}

static long strmap_put(struct strmap *m, const char *s, size_t n, int v)
{
	return strmap_put_h(m, s, n, hash_mem(s, n), v);
}

static void strmap_free(struct strmap *m)
{
	if (m->slot)
		munmap(m->slot, m->bytes);
}

/* --- the catalogue ----------------------------------------------------- */

static const char *const feat_names[VB_NFEAT] = {
	"danceability", "energy", "loudness", "speechiness", "acousticness",
	"instrumentalness", "liveness", "valence", "tempo"
};

const char *vb_feat_name(int f)
{
	return f >= 0 && f < VB_NFEAT ? feat_names[f] : NULL;
}

/* Copies of unescaped quoted fields live in blocks that never move. */
struct arena_block {
	struct arena_block *next;
	size_t used, cap;
	char data[];
};

struct cat_priv {
	size_t song_bytes;     /* the mapping of the song array */
	char *buf;             /* the whole input (malloc'd or mapped) */
	size_t len, maplen;    /* maplen > 0: mapped */
	struct arena_block *blocks;
	struct strmap ids, genres;
	struct vb_catalog *cat;   /* for the key callbacks */
};

static char *arena_alloc(struct cat_priv *pv, size_t n)
{
	struct arena_block *b = pv->blocks;

	if (!b || b->cap - b->used < n) {
		size_t cap = n > (1 << 16) ? n : (1 << 16);
		if (!(b = malloc(sizeof *b + cap)))
			return NULL;
		b->next = pv->blocks;
		b->used = 0;
		b->cap = cap;
		pv->blocks = b;
	}
	b->used += n;
	return b->data + b->used - n;
}

/* Zeroed memory for a big array, straight from mmap and in huge pages
 * where the kernel allows: thousands of page faults fewer.  Free with
 * munmap(p, n).  NULL on failure. */
static void *big_alloc(size_t n)
{
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
#ifdef MADV_HUGEPAGE
	madvise(p, n, MADV_HUGEPAGE);
#endif
	return p;
}

static void priv_free(struct cat_priv *pv)
{
	if (!pv)
		return;
	while (pv->blocks) {
		struct arena_block *b = pv->blocks;
		pv->blocks = b->next;
		free(b);
	}
	if (pv->maplen)
		munmap(pv->buf, pv->maplen);
	else
		free(pv->buf);
	strmap_free(&pv->ids);
	strmap_free(&pv->genres);
	free(pv);
}

void vb_catalog_free(struct vb_catalog *c)
{
	struct cat_priv *pv;

	if (!c)
		return;
	pv = c->priv;
	if (c->song && pv)
		munmap(c->song, pv->song_bytes);
	priv_free(pv);
	for (int g = 0; g < c->ngenres; g++)
		free(c->genres[g]);
	free(c->genres);
	free(c);
}

int vb_same_artist(const struct vb_song *a, const struct vb_song *b)
{
	return a->artist_h == b->artist_h && a->artist.n == b->artist.n &&
	       !memcmp(a->artist.p, b->artist.p, a->artist.n);
}

long vb_catalog_find(const struct vb_catalog *c, const char *id)
{
	return strmap_get(&((struct cat_priv *)c->priv)->ids, id, strlen(id));
}

char *vb_sv_dup(struct vb_sv v)
{
	char *s = malloc((size_t)v.n + 1);

	if (s) {
		memcpy(s, v.p, v.n);
		s[v.n] = 0;
	}
	return s;
}

/* One field of a row: a view into the input (or into the arena for a
 * quoted field with doubled quotes). */
struct scan {
	struct cat_priv *pv;
	const char *p, *end;
	long line;
};

/* The first ',' or '\n' at or after p (or end), eight bytes at a time:
 * a byte of x equal to c leaves a zero byte in x ^ c, and (y - 0x01..) &
 * ~y & 0x80.. flags the lowest zero byte of y exactly. */
static const char *find_delim(const char *p, const char *end)
{
	const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;

	while (end - p >= 8) {
		uint64_t x, a, b, t;
		memcpy(&x, p, 8);
		a = x ^ (ones * ',');
		b = x ^ (ones * '\n');
		t = (((a - ones) & ~a) | ((b - ones) & ~b)) & high;
		if (t)
			return p + (__builtin_ctzll(t) >> 3);
		p += 8;
	}
	while (p < end && *p != ',' && *p != '\n')
		p++;
	return p;
}

/* Scan the field at sc->p.  Returns 1 if a comma follows, 0 at the end of
 * the row (newline or end of input), -1 (error set) on bad quoting. */
static int scan_field(struct scan *sc, struct vb_sv *out)
{
	const char *p = sc->p, *end = sc->end;

	if (p < end && *p == '"') {
		const char *q = p + 1, *start = q;
		int esc = 0;
		for (;;) {
			const char *r = memchr(q, '"', (size_t)(end - q));
			if (!r)
				return vb_err_set("line %ld: unterminated quoted field", sc->line);
			if (r + 1 < end && r[1] == '"') {
				esc = 1;
				q = r + 2;
				continue;
			}
			q = r;
			break;
		}
		for (const char *t = start; t < q; t++)
			sc->line += *t == '\n';
		if (!esc) {
			out->p = start;
			out->n = (uint32_t)(q - start);
		} else {
			char *d = arena_alloc(sc->pv, (size_t)(q - start) + 1), *w = d;
			if (!d)
				return vb_err_set("out of memory");
			for (const char *t = start; t < q; t++) {
				*w++ = *t;
				if (*t == '"')
					t++;
			}
			*w = 0;
			out->p = d;
			out->n = (uint32_t)(w - d);
		}
		p = q + 1;
		if (p < end && *p == ',') {
			sc->p = p + 1;
			return 1;
		}
		if (p < end && *p == '\r')
			p++;
		if (p < end && *p != '\n')
			return vb_err_set("line %ld: text after a closing quote", sc->line);
		sc->p = p < end ? p + 1 : p;
		return 0;
	}
	out->p = p;
	p = find_delim(p, end);
	out->n = (uint32_t)(p - out->p);
	if (p < end && *p == ',') {
		sc->p = p + 1;
		return 1;
	}
	if (out->n && out->p[out->n - 1] == '\r')
		out->n--;
	sc->p = p < end ? p + 1 : p;
	return 0;
}

static const double pow10_tab[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};

/* Parse a whole field as a finite double.  Plain decimals with at most 15
 * significant digits are exact as (integer / power of ten) in double
 * arithmetic, the same value strtod gives; anything else goes to strtod. */
static int parse_num(struct vb_sv v, double *out)
{
	const char *p = v.p, *e = v.p + v.n;
	uint64_t m = 0;
	int nd = 0, frac = 0, neg = 0, dot = 0;

	if (p < e && (*p == '-' || *p == '+'))
		neg = *p++ == '-';
	for (; p < e; p++) {
		if (*p >= '0' && *p <= '9') {
			m = m * 10 + (uint64_t)(*p - '0');
			if (m)
				nd++;
			frac += dot;
		} else if (*p == '.' && !dot) {
			dot = 1;
		} else {
			break;
		}
	}
	if (p == e && nd <= 15 && frac <= 22 && p > v.p + neg + dot) {
		double d = (double)m / pow10_tab[frac];
		*out = neg ? -d : d;
		return 0;
	}
	{
		char tmp[64];
		double d;
		if (v.n == 0 || v.n >= sizeof tmp)
			return -1;
		memcpy(tmp, v.p, v.n);
		tmp[v.n] = 0;
		if (vb_csv_parse_double(tmp, &d) || !isfinite(d))
			return -1;
		*out = d;
		return 0;
	}
}

static int sv_is(struct vb_sv v, const char *s)
{
	return strlen(s) == v.n && !memcmp(v.p, s, v.n);
}

/* The first column named one of names (a NULL-terminated list), or -1. */
static int find_col(const struct vb_sv *f, int n, const char *const *names)
{
	for (; *names; names++)
		for (int i = 0; i < n; i++)
			if (sv_is(f[i], *names))
				return i;
	return -1;
}

/* A mood name from the quadrant of the circumplex, for catalogues without a
 * mood column; the same four names song-cluster gives its clusters. */
static struct vb_sv quadrant(double v, double e)
{
	const char *s = v >= 0.5 ? (e >= 0.5 ? "happy" : "calm") : (e >= 0.5 ? "energetic" : "sad");
	struct vb_sv r = { s, (uint32_t)strlen(s) };
	return r;
}

/* The keys of the catalogue's maps, from their values. */
static struct vb_sv key_id(const void *ctx, int val)
{
	return ((const struct vb_catalog *)ctx)->song[val].id;
}

static struct vb_sv key_genre(const void *ctx, int val)
{
	const struct vb_catalog *c = ctx;
	struct vb_sv v = { c->genres[val], (uint32_t)strlen(c->genres[val]) };

	return v;
}

/* Parse the input held by pv (which the catalogue takes over, or frees on
 * failure). */
static struct vb_catalog *catalog_parse(struct cat_priv *pv)
{
	static const char *const id_names[] = { "id", "track_id", NULL };
	static const char *const name_names[] = { "name", "track_name", "song_name", NULL };
	static const char *const artist_names[] = { "artist", "track_artist", "artists", NULL };
	static const char *const genre_names[] = { "genre", "playlist_genre", "track_genre", NULL };
	static const char *const mood_names[] = { "mood", NULL };
	struct vb_catalog *c = calloc(1, sizeof *c);
	struct scan sc = { pv, pv->buf, pv->buf + pv->len, 1 };
	struct vb_sv *f = NULL;
	int nf = 0, fcap = 0, ci, cn, ca, cg, cm, cf[VB_NFEAT], more;
	double sum[VB_NFEAT] = { 0 }, sum2[VB_NFEAT] = { 0 };
	size_t cap, ngcap = 0;

	if (!c) {
		vb_err_set("out of memory");
		goto fail0;
	}
	c->priv = pv;
	pv->ids.key = key_id, pv->ids.ctx = c;
	pv->genres.key = key_genre, pv->genres.ctx = c;
	if (memchr(pv->buf, 0, pv->len)) { /* text only */
		vb_err_set("NUL byte in the songs CSV");
		goto fail;
	}
	if (pv->len >= 3 && !memcmp(pv->buf, "\xef\xbb\xbf", 3))
		sc.p += 3;
	if (sc.p == sc.end) {
		vb_err_set("empty songs CSV (no header)");
		goto fail;
	}
	do { /* the header */
		if (nf == fcap) {
			struct vb_sv *nfv;
			fcap = fcap ? fcap * 2 : 64;
			if (!(nfv = realloc(f, (size_t)fcap * sizeof *nfv))) {
				vb_err_set("out of memory");
				goto fail;
			}
			f = nfv;
		}
		if ((more = scan_field(&sc, &f[nf++])) < 0)
			goto fail;
	} while (more);
	sc.line++;
	ci = find_col(f, nf, id_names);
	cn = find_col(f, nf, name_names);
	ca = find_col(f, nf, artist_names);
	cg = find_col(f, nf, genre_names);
	cm = find_col(f, nf, mood_names);
	for (int k = 0; k < VB_NFEAT; k++) {
		const char *nm[] = { feat_names[k], NULL };
		cf[k] = find_col(f, nf, nm);
		c->have[k] = cf[k] >= 0;
	}
	{
		const char *miss = ci < 0 ? "id" : cn < 0 ? "name" : ca < 0 ? "artist" :
				   cg < 0 ? "genre" : cf[VB_F_VALENCE] < 0 ? "valence" :
				   cf[VB_F_ENERGY] < 0 ? "energy" : NULL;
		if (miss) {
			vb_err_set("songs CSV has no '%s' column", miss);
			goto fail;
		}
	}
	/* the line count bounds the row count: size the tables once */
	cap = 16;
	for (const char *q = sc.p; (q = memchr(q, '\n', (size_t)(sc.end - q))); q++)
		cap++;
	pv->song_bytes = cap * sizeof *c->song;
	if (!(c->song = big_alloc(pv->song_bytes)) || strmap_reserve(&pv->ids, cap))
		goto nomem;
	while (sc.p < sc.end) {
		struct vb_song *s;
		long line = sc.line, id;
		uint32_t idh = 0;
		int i = 0, r;
		double v;

		if (*sc.p == '\n' || (*sc.p == '\r' && sc.p + 1 < sc.end && sc.p[1] == '\n')) {
			sc.p += *sc.p == '\n' ? 1 : 2; /* a blank line */
			sc.line++;
			continue;
		}
		do {
			struct vb_sv tmp;
			if ((r = scan_field(&sc, i < nf ? &f[i] : &tmp)) < 0)
				goto fail;
			if (i == ci) { /* fetch the id's slot while the rest is scanned */
				idh = hash_mem(f[ci].p, f[ci].n);
				__builtin_prefetch(&pv->ids.slot[idh & (pv->ids.nslot - 1)]);
			}
			i++;
		} while (r);
		sc.line++;
		if (i != nf) {
			vb_err_set("line %ld: %d fields, expected %d", line, i, nf);
			goto fail;
		}
		if (!f[ci].n) {
			vb_err_set("line %ld: empty id", line);
			goto fail;
		}
		if (c->n == cap) { /* cannot happen: a row takes a line at least */
			vb_err_set("line %ld: more rows than lines", line);
			goto fail;
		}
		s = &c->song[c->n];
		memset(s, 0, sizeof *s);
		s->id = f[ci];
		if ((id = strmap_put_h(&pv->ids, f[ci].p, f[ci].n, idh, (int)c->n)) != (long)c->n) {
			if (id == -2)
				goto nomem;
			c->duplicates++;
			continue;
		}
		for (int k = 0; k < VB_NFEAT; k++) {
			if (cf[k] < 0)
				continue;
			if (parse_num(f[cf[k]], &v)) {
				vb_err_set("line %ld: bad %s '%.*s'", line, feat_names[k],
					   (int)(f[cf[k]].n > 40 ? 40 : f[cf[k]].n), f[cf[k]].p);
				goto fail;
			}
			if ((k == VB_F_VALENCE || k == VB_F_ENERGY) && (v < 0 || v > 1)) {
				vb_err_set("line %ld: %s %.*s is outside 0..1", line, feat_names[k],
					   (int)f[cf[k]].n, f[cf[k]].p);
				goto fail;
			}
			s->z[k] = (float)v;
			sum[k] += v;
			sum2[k] += v * v;
		}
		s->valence = s->z[VB_F_VALENCE];
		s->energy = s->z[VB_F_ENERGY];
		s->id = f[ci], s->name = f[cn], s->artist = f[ca], s->genre = f[cg];
		s->mood = cm >= 0 && f[cm].n ? f[cm] : quadrant(s->valence, s->energy);
		s->valence_text = f[cf[VB_F_VALENCE]];
		s->energy_text = f[cf[VB_F_ENERGY]];
		s->artist_h = hash64(s->artist.p, s->artist.n);
		if (c->n && s->genre.n == s[-1].genre.n && !memcmp(s->genre.p, s[-1].genre.p, s->genre.n))
			id = s[-1].genre_id; /* catalogues often come grouped by genre */
		else if ((id = strmap_put(&pv->genres, s->genre.p, s->genre.n, c->ngenres)) == -2)
			goto nomem;
		if (id == c->ngenres) {
			if ((size_t)c->ngenres == ngcap) {
				char **ng;
				ngcap = ngcap ? ngcap * 2 : 16;
				if (!(ng = realloc(c->genres, ngcap * sizeof *ng)))
					goto nomem;
				c->genres = ng;
			}
			if (!(c->genres[c->ngenres] = vb_sv_dup(s->genre)))
				goto nomem;
			c->ngenres++;
		}
		s->genre_id = (int)id;
		if (++c->n > (size_t)INT32_MAX / 2) {
			vb_err_set("too many songs");
			goto fail;
		}
	}
	if (!c->n) {
		vb_err_set("the songs CSV holds no songs");
		goto fail;
	}
	/* standardise the features over the catalogue */
	for (int k = 0; k < VB_NFEAT; k++) {
		double mean = sum[k] / c->n, var = sum2[k] / c->n - mean * mean;
		double sd = var > 1e-12 ? sqrt(var) : 1;
		for (size_t i = 0; i < c->n; i++) {
			double z = cf[k] < 0 ? 0 : (c->song[i].z[k] - mean) / sd;
			c->song[i].z[k] = (float)(z > 3 ? 3 : z < -3 ? -3 : z);
		}
	}
	free(f);
	return c;
nomem:
	vb_err_set("out of memory");
fail:
	free(f);
	vb_catalog_free(c);
	return NULL;
fail0:
	priv_free(pv);
	return NULL;
}

struct vb_catalog *vb_catalog_read(FILE *f)
{
	struct cat_priv *pv = calloc(1, sizeof *pv);
	size_t cap = 1 << 20;

	if (!pv || !(pv->buf = malloc(cap)))
		goto nomem;
	for (;;) {
		size_t k;
		if (pv->len == cap) {
			char *nb = realloc(pv->buf, cap * 2);
			if (!nb)
				goto nomem;
			pv->buf = nb;
			cap *= 2;
		}
		k = fread(pv->buf + pv->len, 1, cap - pv->len, f);
		pv->len += k;
		if (k == 0) {
			if (ferror(f)) {
				vb_err_sys("read error");
				goto fail;
			}
			break;
		}
	}
	return catalog_parse(pv);
nomem:
	vb_err_set("out of memory");
fail:
	priv_free(pv);
	return NULL;
}

struct vb_catalog *vb_catalog_load(const char *path)
{
	struct cat_priv *pv;
	struct stat st;
	struct vb_catalog *c;
	FILE *f;
	int fd;

	if (!path || !strcmp(path, "-")) {
		if (!(c = vb_catalog_read(stdin)))
			vb_err_prefix("stdin");
		return c;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		vb_err_sys("cannot open '%s'", path);
		return NULL;
	}
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
		void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
		if (m != MAP_FAILED) {
			close(fd);
			if (!(pv = calloc(1, sizeof *pv))) {
				munmap(m, (size_t)st.st_size);
				vb_err_set("out of memory");
				return NULL;
			}
			pv->buf = m;
			pv->len = pv->maplen = (size_t)st.st_size;
			if (!(c = catalog_parse(pv)))
				vb_err_prefix("'%s'", path);
			return c;
		}
	}
	if (!(f = fdopen(fd, "rb"))) {
		vb_err_sys("cannot open '%s'", path);
		close(fd);
		return NULL;
	}
	c = vb_catalog_read(f);
	if (!c)
		vb_err_prefix("'%s'", path);
	fclose(f);
	return c;
}

/* --- the profile ------------------------------------------------------- */

#define SGD_RATE 0.1
#define SGD_DECAY 0.01
#define MAX_LIKED 32

void vb_profile_free(struct vb_profile *p)
{
	if (!p)
		return;
	free(p->opinion);
	free(p->liked_emo);
	free(p->skips);
	free(p->plays);
	free(p->liked);
	free(p);
}

static void sgd_step(double *w, const float *z, double y, double c)
{
	double s = w[VB_NFEAT], g;

	for (int k = 0; k < VB_NFEAT; k++)
		s += w[k] * z[k];
	g = SGD_RATE * c * (y - 1 / (1 + exp(-s)));
	for (int k = 0; k < VB_NFEAT; k++)
		w[k] = w[k] * (1 - SGD_RATE * SGD_DECAY) + g * z[k];
	w[VB_NFEAT] = w[VB_NFEAT] * (1 - SGD_RATE * SGD_DECAY) + g;
}

struct vb_profile *vb_profile_learn(const struct vb_catalog *c, const struct vb_fb_log *log)
{
	struct vb_profile *p = calloc(1, sizeof *p);
	long *track_song = NULL, *last_like = NULL;
	int *emo_map = NULL;

	if (!p)
		goto nomem;
	p->n = c->n;
	p->opinion = calloc(c->n, 1);
	p->liked_emo = calloc(c->n, 1);
	p->skips = calloc(c->n, sizeof *p->skips);
	p->plays = calloc(c->n, sizeof *p->plays);
	if (!p->opinion || !p->liked_emo || !p->skips || !p->plays)
		goto nomem;
	if (!log || !log->n)
		return p;
	track_song = malloc((log->ntracks + 1) * sizeof *track_song);
	emo_map = malloc((log->nemotions + 1) * sizeof *emo_map);
	last_like = malloc(c->n * sizeof *last_like);
	if (!track_song || !emo_map || !last_like)
		goto nomem;
	for (size_t i = 0; i < log->ntracks; i++)
		track_song[i] = vb_catalog_find(c, log->tracks[i]);
	for (size_t i = 0; i < log->nemotions; i++) {
		int k = vb_emo_lookup(log->emotions[i]);
		emo_map[i] = k < 0 ? VB_NEMO : k;
	}
	for (size_t i = 0; i < log->n; i++) {
		const struct vb_fb_event *e = &log->ev[i];
		long s = track_song[e->track];
		int k = emo_map[e->emotion];
		double y = 0, wt = 0;

		if (s < 0) {
			p->unknown++;
			continue;
		}
		p->used++;
		switch (e->kind) {
		case VB_FB_LIKE:
			p->opinion[s] = 1;
			p->liked_emo[s] |= (uint8_t)(1u << k);
			last_like[s] = (long)i;
			y = 1, wt = 1;
			break;
		case VB_FB_DISLIKE:
			p->opinion[s] = -1;
			y = 0, wt = 1;
			break;
		case VB_FB_SKIP:
			p->skips[s][k] += 1;
			y = 0, wt = 0.5;
			break;
		case VB_FB_PLAY:
			if (p->plays[s] < UINT16_MAX)
				p->plays[s]++;
			y = 1, wt = 0.2;
			break;
		}
		if (k < VB_NEMO) {
			sgd_step(p->w[k], c->song[s].z, y, wt);
			p->updates[k]++;
		} else {
			for (int j = 0; j < VB_NEMO; j++) {
				sgd_step(p->w[j], c->song[s].z, y, wt / VB_NEMO);
				p->updates[j]++;
			}
		}
	}
	/* the liked songs, most recently liked first */
	for (size_t s = 0; s < c->n; s++)
		p->nliked += p->opinion[s] == 1;
	if (p->nliked) {
		size_t j = 0;
		if (!(p->liked = malloc(p->nliked * sizeof *p->liked)))
			goto nomem;
		for (size_t s = 0; s < c->n; s++)
			if (p->opinion[s] == 1)
				p->liked[j++] = s;
		for (size_t a = 1; a < p->nliked; a++) { /* insertion sort by recency */
			size_t v = p->liked[a], b = a;
			while (b > 0 && last_like[p->liked[b - 1]] < last_like[v]) {
				p->liked[b] = p->liked[b - 1];
				b--;
			}
			p->liked[b] = v;
		}
	}
	free(track_song);
	free(emo_map);
	free(last_like);
	return p;
nomem:
	free(track_song);
	free(emo_map);
	free(last_like);
	vb_profile_free(p);
	vb_err_set("out of memory");
	return NULL;
}

/* --- ranking ----------------------------------------------------------- */

#define FIT_SIGMA 0.15
#define W_LIKE 0.5
#define W_ARTIST 0.15
#define W_GENRE 0.05
#define W_NEAR 0.25
#define W_PREF 0.3
#define W_SKIP_NOW 0.2
#define W_PLAY 0.02
#define W_SPREAD 0.12

/* How well the emotions a song was liked in (bit mask) match the current
 * state p: the probability of those classes (no emotion counts as half). */
static double emo_match(uint8_t mask, const double *p)
{
	double m = 0;

	for (int k = 0; k < VB_NEMO; k++)
		if (mask & (1u << k))
			m += p[k];
	if (mask & (1u << VB_NEMO))
		m += 0.5;
	return m > 1 ? 1 : m;
}

enum { WHY_FIT, WHY_LIKED, WHY_ARTIST, WHY_GENRE, WHY_SOUND, WHY_PREF };

struct learned {
	float gain;        /* exp(sum of the learned terms) */
	float lg;          /* the sum itself, log(gain) */
	uint8_t why;       /* the strongest reason among them, or WHY_FIT */
};

/* The learned part of every song's score for state p (independent of the
 * slot).  Marks songs that may not be used in bad[]. */
static void learn_terms(const struct vb_catalog *c, const struct vb_profile *prof,
			const double *p, struct learned *L)
{
	double wbar[VB_PREF_DIM] = { 0 };
	int have_pref = 0;
	size_t nl = prof->nliked < MAX_LIKED ? prof->nliked : MAX_LIKED;
	double lscale[MAX_LIKED];

	for (int k = 0; k < VB_NEMO; k++) {
		if (!prof->updates[k])
			continue;
		have_pref = 1;
		for (int j = 0; j < VB_PREF_DIM; j++)
			wbar[j] += p[k] * prof->w[k][j];
	}
	for (size_t j = 0; j < nl; j++)
		lscale[j] = 0.6 + 0.4 * emo_match(prof->liked_emo[prof->liked[j]], p);
	for (size_t s = 0; s < c->n; s++) {
		const struct vb_song *so = &c->song[s];
		double t = 0, best = 0, sk = 0;
		int why = WHY_FIT;

		if (prof->opinion[s] == 1) {
			t += W_LIKE * (0.6 + 0.4 * emo_match(prof->liked_emo[s], p));
			why = WHY_LIKED;
		}
		for (size_t j = 0; j < nl; j++) {
			const struct vb_song *o = &c->song[prof->liked[j]];
			double d2 = 0, a, g, nb, v;
			if (prof->liked[j] == s)
				continue;
			for (int k = 0; k < VB_NFEAT; k++) {
				double d = so->z[k] - o->z[k];
				d2 += d * d;
			}
			a = vb_same_artist(so, o) ? W_ARTIST : 0;
			g = so->genre_id == o->genre_id ? W_GENRE : 0;
			nb = d2 < 24 ? W_NEAR * expf((float)(-d2 / 4)) : 0;
			v = (a + g + nb) * lscale[j];
			if (v > best) {
				best = v;
				if (why != WHY_LIKED)
					why = a > 0 && a >= nb ? WHY_ARTIST : nb >= g ? WHY_SOUND : WHY_GENRE;
			}
		}
		t += best;
		if (best < 0.1 && why != WHY_LIKED)
			why = WHY_FIT;
		if (have_pref) {
			double x = wbar[VB_NFEAT], pt;
			for (int k = 0; k < VB_NFEAT; k++)
				x += wbar[k] * so->z[k];
			pt = W_PREF * tanh(x / 2);
			t += pt;
			if (why == WHY_FIT && pt >= 0.08)
				why = WHY_PREF;
		}
		for (int k = 0; k < VB_NEMO; k++)
			sk += p[k] * prof->skips[s][k];
		sk += 0.5 * prof->skips[s][VB_NEMO];
		t -= W_SKIP_NOW * (sk < 3 ? sk : 3);
		t -= W_PLAY * (prof->plays[s] < 5 ? prof->plays[s] : 5);
		L[s].gain = (float)exp(t);
		L[s].lg = (float)t;
		L[s].why = (uint8_t)why;
	}
}

/* A candidate of vb_recommend: what the slot loop reads, in 32 bytes. */
struct cand {
	float v, e, lg, gain;
	uint64_t artist;   /* hash of the artist's name */
	int32_t genre;
	int32_t song;      /* index in the catalogue; -1 once used */
};

/* A hash of a song's artist and name: the same recording under another id
 * hashes the same. */
static uint64_t song_hash(const struct vb_song *so)
{
	uint64_t h = so->artist_h;

	for (uint32_t i = 0; i < so->name.n; i++)
		h = (h ^ (unsigned char)so->name.p[i]) * 1099511628211ULL;
	return h;
}

/* The chosen songs by artist and name (open addressing; idx -1 empty). */
struct chosen {
	uint64_t *h;
	long *idx;
	size_t mask;
};

/* Add song s unless a song with its artist and name is there: 1 if
 * added, 0 if already there. */
static int chosen_add(struct chosen *ch, const struct vb_catalog *c, long s)
{
	const struct vb_song *so = &c->song[s];
	uint64_t h = song_hash(so);
	size_t j = h & ch->mask;

	for (; ch->idx[j] >= 0; j = (j + 1) & ch->mask) {
		const struct vb_song *o = &c->song[ch->idx[j]];
		if (ch->h[j] == h && vb_same_artist(o, so) && o->name.n == so->name.n &&
		    !memcmp(o->name.p, so->name.p, so->name.n))
			return 0;
	}
	ch->h[j] = h;
	ch->idx[j] = s;
	return 1;
}

int vb_recommend(const struct vb_catalog *c, const struct vb_profile *prof,
		 const double *p, const struct vb_rec_opts *o,
		 const unsigned char *exclude, struct vb_rec_item *out)
{
	struct learned *L = malloc(c->n * sizeof *L);
	struct cand *cand = malloc(c->n * sizeof *cand);
	size_t ncand = 0;
	int *gcount = calloc((size_t)c->ngenres + 1, sizeof *gcount);
	struct chosen ch = { 0 };
	size_t nset = 16;
	struct vb_point from = vb_emo_mix(p), to = from;
	const char *tname = NULL;
	int dom = vb_emo_dominant(p), got = 0, r = 0;
	long prev = -1;          /* the song chosen last */
	uint64_t prev_ah = 0;
	const double inv2s2 = 1 / (2 * FIT_SIGMA * FIT_SIGMA);

	while (nset < 2 * (size_t)o->n + 2 && nset < 2 * c->n + 2)
		nset *= 2;
	ch.h = malloc(nset * sizeof *ch.h);
	ch.idx = malloc(nset * sizeof *ch.idx);
	ch.mask = nset - 1;
	if (!L || !cand || !gcount || !ch.h || !ch.idx) {
		r = vb_err_set("out of memory");
		goto done;
	}
	memset(ch.idx, 0xff, nset * sizeof *ch.idx); /* all -1 */
	switch (o->mode) {
	case VB_MODE_LIFT:
		tname = o->target ? o->target : "happy";
		break;
	case VB_MODE_CALM:
		tname = "calm";
		break;
	case VB_MODE_ENERGIZE:
		tname = "energetic";
		break;
	}
	if (tname && vb_rec_target(tname, &to)) {
		r = -1;
		goto done;
	}
	learn_terms(c, prof, p, L);
	/* the candidates, packed tight: the slot loop below scans them n times */
	for (size_t s = 0; s < c->n; s++) {
		const struct vb_song *so = &c->song[s];
		if (prof->opinion[s] < 0 || (exclude && exclude[s]) ||
		    (o->genre >= 0 && so->genre_id != o->genre))
			continue;
		cand[ncand].v = so->valence;
		cand[ncand].e = so->energy;
		cand[ncand].lg = L[s].lg;
		cand[ncand].gain = L[s].gain;
		cand[ncand].artist = so->artist_h;
		cand[ncand].genre = so->genre_id;
		cand[ncand].song = (int32_t)s;
		ncand++;
	}
	for (int i = 0; i < o->n; i++) {
		/* iso principle: slot i aims at a point i/(n-1) of the way */
		double f = o->n > 1 ? (double)i / (o->n - 1) : 0;
		double tv = from.valence + f * (to.valence - from.valence);
		double te = from.energy + f * (to.energy - from.energy);
		double best, logbest;
		long bi, bk;

again:
		best = -INFINITY, logbest = -INFINITY, bi = -1, bk = -1;
		for (size_t k = 0; k < ncand; k++) {
			const struct cand *cd = &cand[k];
			double dv, de, d2k, sc;
			if (cd->song < 0 || (prev >= 0 && cd->artist == prev_ah &&
					     vb_same_artist(&c->song[cd->song], &c->song[prev])))
				continue;
			dv = cd->v - tv;
			de = cd->e - te;
			d2k = (dv * dv + de * de) * inv2s2;
			/* the score is at most fit * gain: skip, without exp(),
			 * a song that cannot beat the best so far */
			if (d2k > cd->lg - logbest + 1e-9)
				continue;
			sc = exp(-d2k) * cd->gain;
			if (o->spread)
				sc -= W_SPREAD * gcount[cd->genre];
			if (sc > best) {
				best = sc;
				bi = cd->song;
				bk = (long)k;
				logbest = best > 0 ? log(best) : -INFINITY;
			}
		}
		if (bi < 0)
			break;
		cand[bk].song = -1; /* used */
		if (!chosen_add(&ch, c, bi))
			goto again; /* the same recording is already in */
		gcount[c->song[bi].genre_id]++;
		prev = bi;
		prev_ah = c->song[bi].artist_h;
		out[got].song = (size_t)bi;
		out[got].score = best;
		switch (L[bi].why) {
		case WHY_LIKED:
			snprintf(out[got].why, sizeof out[got].why, "you liked it");
			break;
		case WHY_ARTIST:
			snprintf(out[got].why, sizeof out[got].why, "by an artist you like");
			break;
		case WHY_GENRE:
			snprintf(out[got].why, sizeof out[got].why, "a genre you like");
			break;
		case WHY_SOUND:
			snprintf(out[got].why, sizeof out[got].why, "sounds like songs you liked");
			break;
		case WHY_PREF:
			snprintf(out[got].why, sizeof out[got].why, "suits your taste when %s",
				 emo_names[dom]);
			break;
		default:
			if (o->mode == VB_MODE_MATCH)
				snprintf(out[got].why, sizeof out[got].why, "matches your mood (%s)",
					 emo_names[dom]);
			else
				snprintf(out[got].why, sizeof out[got].why,
					 "step %d of %d from %s toward %s", i + 1, o->n,
					 emo_names[dom], tname);
		}
		got++;
	}
done:
	free(L);
	free(cand);
	free(gcount);
	free(ch.h);
	free(ch.idx);
	return r < 0 ? -1 : got;
}
