/* feedback.c - the append-only feedback log (see feedback.h). */
#include "feedback.h"
#include "err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *const kind_names[VB_FB_NKIND] = { "play", "skip", "like", "dislike" };

const char *vb_fb_kind_name(int kind)
{
	return kind >= 0 && kind < VB_FB_NKIND ? kind_names[kind] : NULL;
}

int vb_fb_kind_parse(const char *s)
{
	for (int k = 0; k < VB_FB_NKIND; k++)
		if (!strcmp(s, kind_names[k]))
			return k;
	return -1;
}

int64_t vb_fb_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Days since 1970-01-01 of a proleptic Gregorian date, and back: the
 * era-based (400-year cycle) arithmetic, valid for any year. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

int vb_fb_check_field(const char *what, const char *s)
{
	size_t n;

	if (!s || !*s)
		return vb_err_set("empty %s", what);
	n = strlen(s);
	if (n > VB_FB_MAXFIELD)
		return vb_err_set("%s too long (%zu bytes, at most %d)", what, n, VB_FB_MAXFIELD);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			return vb_err_set("%s '%s' holds a control character", what, s);
	}
	return 0;
}

int vb_fb_format(char *buf, size_t n, int64_t time_ms, const char *track,
		 int kind, const char *emotion)
{
	int64_t secs, days, y;
	int mo, d, r, ms;

	if (!emotion)
		emotion = "none";
	if (vb_fb_check_field("track id", track) || vb_fb_check_field("emotion", emotion))
		return -1;
	if (!vb_fb_kind_name(kind))
		return vb_err_set("unknown event kind %d", kind);
	if (time_ms < 0)
		return vb_err_set("time before 1970");
	secs = time_ms / 1000;
	ms = (int)(time_ms % 1000);
	days = secs / 86400;
	secs %= 86400;
	civil_from_days(days, &y, &mo, &d);
	r = snprintf(buf, n, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ\t%s\t%s\t%s\n",
		     (long long)y, mo, d, (int)(secs / 3600), (int)(secs / 60 % 60),
		     (int)(secs % 60), ms, track, kind_names[kind], emotion);
	if (r < 0 || (size_t)r >= n)
		return vb_err_set("event line too long");
	return r;
}

/* --- writer ------------------------------------------------------------ */

struct vb_fb_writer {
	int fd;
	char *path;
};

struct vb_fb_writer *vb_fb_open(const char *path)
{
	struct vb_fb_writer *w = calloc(1, sizeof *w);

	if (!w || !(w->path = strdup(path))) {
		free(w);
		vb_err_set("out of memory");
		return NULL;
	}
	/* Read access lets vb_fb_append look at the last byte. */
	w->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (w->fd < 0 && errno == EACCES)
		w->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (w->fd < 0) {
		vb_err_sys("cannot open '%s'", path);
		free(w->path);
		free(w);
		return NULL;
	}
	return w;
}

int vb_fb_close(struct vb_fb_writer *w)
{
	int r = 0;

	if (!w)
		return 0;
	if (close(w->fd))
		r = vb_err_sys("cannot close '%s'", w->path);
	free(w->path);
	free(w);
	return r;
}

static int lock_fd(int fd, int how)
{
	while (flock(fd, how)) {
		if (errno == EINTR)
			continue;
		/* File systems without flock support (some network mounts):
		 * O_APPEND alone still keeps single writes whole. */
		if (errno == ENOLCK || errno == EOPNOTSUPP)
			return 0;
		return -1;
	}
	return 0;
}

int vb_fb_append(struct vb_fb_writer *w, int64_t time_ms, const char *track,
		 int kind, const char *emotion)
{
	char buf[2 * VB_FB_MAXFIELD + 64];
	struct stat st;
	char last;
	int len, r = 0;
	size_t off = 1, left;

	/* buf[0] is reserved for a newline that ends a torn line left by a
	 * writer that died mid-event, so our event starts on its own line. */
	len = vb_fb_format(buf + 1, sizeof buf - 1, time_ms, track, kind, emotion);
	if (len < 0)
		return -1;
	if (lock_fd(w->fd, LOCK_EX))
		return vb_err_sys("cannot lock '%s'", w->path);
	if (fstat(w->fd, &st))
		r = vb_err_sys("cannot stat '%s'", w->path);
	else if (st.st_size > 0) {
		ssize_t k;
		while ((k = pread(w->fd, &last, 1, st.st_size - 1)) < 0 && errno == EINTR)
			;
		/* A write-only descriptor cannot pread (EBADF): then assume
		 * the file is whole, as every writer of ours leaves it. */
		if (k == 1 && last != '\n')
			off = 0, buf[0] = '\n';
	}
	left = (size_t)len + 1 - off;
	while (!r && left > 0) {
		ssize_t k = write(w->fd, buf + off, left);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			r = vb_err_sys("cannot write to '%s'", w->path);
		} else {
			off += (size_t)k;
			left -= (size_t)k;
		}
	}
	if (!r && fsync(w->fd))
		r = vb_err_sys("cannot sync '%s'", w->path);
	if (lock_fd(w->fd, LOCK_UN) && !r)
		r = vb_err_sys("cannot unlock '%s'", w->path);
	return r;
}

/* --- paths ------------------------------------------------------------- */

char *vb_fb_default_path(void)
{
	const char *x = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
	const char *tail;
	char *p;
	size_t n;

	if (x && x[0] == '/') {
		tail = "/vibify/feedback.log";
	} else if (home && home[0]) {
		x = home;
		tail = "/.local/share/vibify/feedback.log";
	} else {
		vb_err_set("neither XDG_DATA_HOME nor HOME is set; give --feedback");
		return NULL;
	}
	n = strlen(x) + strlen(tail) + 1;
	if (!(p = malloc(n))) {
		vb_err_set("out of memory");
		return NULL;
	}
	snprintf(p, n, "%s%s", x, tail);
	return p;
}

int vb_fb_mkdir_parent(const char *path)
{
	char *p = strdup(path), *s;
	int r = 0;

	if (!p)
		return vb_err_set("out of memory");
	s = strrchr(p, '/');
	if (!s || s == p) {
		free(p);
		return 0;
	}
	*s = 0;
	for (s = p + 1; ; s++) {
		if (*s == '/' || *s == 0) {
			char c = *s;
			*s = 0;
			if (mkdir(p, 0700) && errno != EEXIST) {
				r = vb_err_sys("cannot create directory '%s'", p);
				break;
			}
			*s = c;
			if (!c)
				break;
		}
	}
	free(p);
	return r;
}

/* --- reader ------------------------------------------------------------ */

/* A string-interning table: open addressing over FNV-1a hashes; each slot
 * keeps the hash, so probes rarely compare strings. */
struct islot {
	uint32_t hash;
	uint32_t idx;      /* index + 1, 0 = empty */
	uint32_t len;
	const char *str;   /* the name (also in *names) */
};

struct intern {
	char ***names;     /* the log's array it fills */
	size_t *count;
	size_t cap;        /* names capacity */
	struct islot *slot;
	size_t nslot;      /* power of two */
};

static uint32_t hash_bytes(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return (uint32_t)(h ^ (h >> 32));
}

static int intern_grow(struct intern *t)
{
	size_t ns = t->nslot ? t->nslot * 2 : 1024;
	struct islot *sl = calloc(ns, sizeof *sl);

	if (!sl)
		return -1;
	for (size_t i = 0; i < t->nslot; i++) {
		size_t j;
		if (!t->slot[i].idx)
			continue;
		j = t->slot[i].hash & (ns - 1);
		while (sl[j].idx)
			j = (j + 1) & (ns - 1);
		sl[j] = t->slot[i];
	}
	free(t->slot);
	t->slot = sl;
	t->nslot = ns;
	return 0;
}

/* The index of the n-byte string s, adding it if new; -1 on no memory. */
static long intern(struct intern *t, const char *s, size_t n)
{
	uint32_t h = hash_bytes(s, n);
	size_t j;
	char *c;

	if (*t->count * 2 >= t->nslot && intern_grow(t))
		return -1;
	j = h & (t->nslot - 1);
	while (t->slot[j].idx) {
		if (t->slot[j].hash == h && t->slot[j].len == n && !memcmp(t->slot[j].str, s, n))
			return (long)t->slot[j].idx - 1;
		j = (j + 1) & (t->nslot - 1);
	}
	if (*t->count == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 256;
		char **nn = realloc(*t->names, nc * sizeof *nn);
		if (!nn)
			return -1;
		*t->names = nn;
		t->cap = nc;
	}
	if (!(c = malloc(n + 1)))
		return -1;
	memcpy(c, s, n);
	c[n] = 0;
	(*t->names)[*t->count] = c;
	t->slot[j].hash = h;
	t->slot[j].len = (uint32_t)n;
	t->slot[j].str = c;
	t->slot[j].idx = (uint32_t)++*t->count;
	return (long)*t->count - 1;
}

static void intern_free(struct intern *t)
{
	free(t->slot);
}

static int digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Parse "YYYY-MM-DDTHH:MM:SS[.f...]Z" (exactly n bytes). */
static int parse_time(const char *s, size_t n, int64_t *ms)
{
	int y, mo, d, h, mi, sec, frac = 0, fd = 0;
	size_t i;

	if (n < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
	    s[16] != ':' || s[n - 1] != 'Z')
		return -1;
	if (digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
	    digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) || digits(s + 17, 2, &sec))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	i = 19;
	if (s[i] == '.') {
		for (i++; i < n - 1; i++) {
			if (s[i] < '0' || s[i] > '9')
				return -1;
			if (fd < 3)
				frac = frac * 10 + (s[i] - '0'), fd++;
		}
		if (fd == 0)
			return -1;
		while (fd < 3)
			frac *= 10, fd++;
	}
	if (i != n - 1)
		return -1;
	*ms = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) * 1000) + frac;
	return 0;
}

static void log_free_tables(struct vb_fb_log *log)
{
	for (size_t i = 0; i < log->ntracks; i++)
		free(log->tracks[i]);
	for (size_t i = 0; i < log->nemotions; i++)
		free(log->emotions[i]);
	free(log->tracks);
	free(log->emotions);
	if (log->ev)
		munmap(log->ev, log->ev_bytes);
}

void vb_fb_log_free(struct vb_fb_log *log)
{
	if (!log)
		return;
	log_free_tables(log);
	free(log);
}

struct vb_fb_log *vb_fb_parse(const char *buf, size_t len)
{
	struct vb_fb_log *log = calloc(1, sizeof *log);
	struct intern tr = { 0 }, em = { 0 };
	const char *p = buf, *end = buf + len;
	size_t cap = 0;
	long line = 0;

	if (!log)
		goto nomem;
	tr.names = &log->tracks, tr.count = &log->ntracks;
	em.names = &log->emotions, em.count = &log->nemotions;
	/* one event per line at most: count them and allocate once, in huge
	 * pages where the kernel allows (a million events are 16 MB) */
	cap = 1;
	for (const char *q = buf; len && (q = memchr(q, '\n', (size_t)(end - q))); q++)
		cap++;
	log->ev_bytes = cap * sizeof *log->ev;
	log->ev = mmap(NULL, log->ev_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (log->ev == MAP_FAILED) {
		log->ev = NULL;
		goto nomem;
	}
#ifdef MADV_HUGEPAGE
	madvise(log->ev, log->ev_bytes, MADV_HUGEPAGE);
#endif
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *f[4], *q, *le;
		size_t fl[4];
		int nf = 0, kind;
		long ti, ei;
		int64_t ms;

		line++;
		if (!nl) {
			log->torn = 1;
			log->torn_line = line;
			break;
		}
		le = nl;
		if (le > p && le[-1] == '\r')
			le--;
		if (le == p || *p == '#') {
			p = nl + 1;
			continue;
		}
		for (q = p; nf < 4; nf++) {
			const char *t = memchr(q, '\t', (size_t)(le - q));
			f[nf] = q;
			fl[nf] = (size_t)((t ? t : le) - q);
			if (!t) {
				nf++;
				break;
			}
			q = t + 1;
		}
		if (nf != 4 || f[3] + fl[3] != le || !fl[1] || !fl[3] ||
		    fl[1] > VB_FB_MAXFIELD || fl[3] > VB_FB_MAXFIELD ||
		    parse_time(f[0], fl[0], &ms))
			goto bad;
		kind = -1;
		for (int k = 0; k < VB_FB_NKIND; k++)
			if (strlen(kind_names[k]) == fl[2] && !memcmp(kind_names[k], f[2], fl[2]))
				kind = k;
		if (kind < 0)
			goto bad;
		for (size_t i = 0; i < fl[1]; i++)
			if ((unsigned char)f[1][i] < 0x20)
				goto bad;
		if ((ti = intern(&tr, f[1], fl[1])) < 0 || (ei = intern(&em, f[3], fl[3])) < 0)
			goto nomem;
		if (ei > 65535)
			goto bad;
		log->ev[log->n].time_ms = ms;
		log->ev[log->n].track = (uint32_t)ti;
		log->ev[log->n].emotion = (uint16_t)ei;
		log->ev[log->n].kind = (uint8_t)kind;
		log->n++;
		p = nl + 1;
		continue;
bad:
		if (!log->bad++)
			log->first_bad_line = line;
		p = nl + 1;
	}
	intern_free(&tr);
	intern_free(&em);
	return log;
nomem:
	intern_free(&tr);
	intern_free(&em);
	vb_fb_log_free(log);
	vb_err_set("out of memory reading the feedback log");
	return NULL;
}

struct vb_fb_log *vb_fb_read_fd(int fd)
{
	struct stat st;
	size_t cap = 1 << 16, len = 0;
	char *buf;
	struct vb_fb_log *log;

	if (!fstat(fd, &st) && S_ISREG(st.st_mode) && st.st_size > 0) {
		void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
		if (m != MAP_FAILED) {
			log = vb_fb_parse(m, (size_t)st.st_size);
			munmap(m, (size_t)st.st_size);
			return log;
		}
		cap = (size_t)st.st_size + 1;
	}
	if (!(buf = malloc(cap))) {
		vb_err_set("out of memory reading the feedback log");
		return NULL;
	}
	for (;;) {
		ssize_t k;
		if (len == cap) {
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				vb_err_set("out of memory reading the feedback log");
				return NULL;
			}
			buf = nb;
			cap *= 2;
		}
		k = read(fd, buf + len, cap - len);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			vb_err_sys("read error");
			free(buf);
			return NULL;
		}
		if (k == 0)
			break;
		len += (size_t)k;
	}
	log = vb_fb_parse(buf, len);
	free(buf);
	return log;
}

struct vb_fb_log *vb_fb_read(const char *path)
{
	struct vb_fb_log *log;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ENOENT) {
			if ((log = calloc(1, sizeof *log)))
				log->missing = 1;
			else
				vb_err_set("out of memory");
			return log;
		}
		vb_err_sys("cannot open '%s'", path);
		return NULL;
	}
	if (lock_fd(fd, LOCK_SH)) {
		vb_err_sys("cannot lock '%s'", path);
		close(fd);
		return NULL;
	}
	log = vb_fb_read_fd(fd);
	if (!log)
		vb_err_prefix("'%s'", path);
	close(fd); /* releases the lock */
	return log;
}
