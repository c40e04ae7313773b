/* csv.c - RFC 4180 CSV reader (streaming, buffered) and writer.
 *
 * The reader pulls the input a line at a time with getline(), so a row is
 * returned as soon as its line has arrived on a live pipe, and scans the
 * line; unquoted runs are copied with one memcpy each.  The fields of the
 * current row are stored back to back, NUL-terminated, in one growing
 * buffer, so a row costs no allocation once the buffers have grown to fit.
 */
#include "csv.h"
#include "err.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CSV_CHUNK (1 << 16)

struct vb_csv {
	FILE *f;
	unsigned char *in;      /* input line (getline's buffer) */
	size_t incap;           /* its allocated size */
	size_t pos, len;        /* unread part is in[pos..len) */
	int eof;                /* getline hit the end */
	int started;            /* the BOM check is done */
	char *row;              /* field bytes, each NUL-terminated */
	size_t rowlen, rowcap;
	size_t *offs;           /* field start offsets into row */
	size_t *lens;           /* field lengths */
	char **fields;          /* pointers handed out */
	size_t nf, fcap;
	size_t width;           /* fields per row, from the first row (0: unknown) */
	int ragged;
	long line;              /* line on which the last row began */
	long next_line;         /* line the reader is on now */
};

/* Bytes that end an unquoted run. */
static unsigned char special[256];

static void init_special(void)
{
	special[','] = special['\n'] = special['\r'] = special['"'] = special[0] = 1;
}

struct vb_csv *vb_csv_open(FILE *f)
{
	struct vb_csv *r = calloc(1, sizeof *r);

	if (!special[','])
		init_special();
	if (!r)
		goto oom;
	r->f = f;
	r->incap = CSV_CHUNK;
	r->in = malloc(r->incap);
	r->rowcap = 4096;
	r->row = malloc(r->rowcap);
	r->fcap = 64;
	r->offs = malloc(r->fcap * sizeof *r->offs);
	r->lens = malloc(r->fcap * sizeof *r->lens);
	r->fields = malloc(r->fcap * sizeof *r->fields);
	if (!r->in || !r->row || !r->offs || !r->lens || !r->fields)
		goto oom;
	r->next_line = 1;
	return r;
oom:
	vb_csv_close(r);
	vb_err_set("out of memory");
	return NULL;
}

void vb_csv_close(struct vb_csv *r)
{
	if (!r)
		return;
	free(r->in);
	free(r->row);
	free(r->offs);
	free(r->lens);
	free(r->fields);
	free(r);
}

void vb_csv_set_ragged(struct vb_csv *r, int allow)
{
	r->ragged = allow;
}

long vb_csv_line(const struct vb_csv *r)
{
	return r->line;
}

/* Refill the input buffer with the next line.  1 if bytes are available,
 * 0 at end of input, -1 on a read error. */
static int refill(struct vb_csv *r)
{
	ssize_t n;

	if (r->pos < r->len)
		return 1;
	if (r->eof)
		return 0;
	r->pos = 0;
	r->len = 0;
	errno = 0;
	n = getline((char **)&r->in, &r->incap, r->f);
	if (n < 0) {
		if (ferror(r->f))
			return vb_err_sys("line %ld: read error", r->next_line);
		if (errno == ENOMEM)
			return vb_err_set("line %ld: out of memory", r->next_line);
		r->eof = 1;
		return 0;
	}
	r->len = (size_t)n;
	return 1;
}

static int append(struct vb_csv *r, const void *p, size_t n)
{
	if (r->rowlen + n + 1 > r->rowcap) {
		size_t cap = r->rowcap;
		char *nr;

		while (r->rowlen + n + 1 > cap)
			cap *= 2;
		nr = realloc(r->row, cap);
		if (!nr)
			return vb_err_set("line %ld: out of memory", r->line);
		r->row = nr;
		r->rowcap = cap;
	}
	memcpy(r->row + r->rowlen, p, n);
	r->rowlen += n;
	return 0;
}

/* Close the current field: terminate it and record its place. */
static int end_field(struct vb_csv *r, size_t start)
{
	if (r->nf == r->fcap) {
		size_t cap = r->fcap * 2;
		size_t *no = realloc(r->offs, cap * sizeof *no);
		if (no)
			r->offs = no;
		size_t *nl = no ? realloc(r->lens, cap * sizeof *nl) : NULL;
		if (nl)
			r->lens = nl;
		char **nf = nl ? realloc(r->fields, cap * sizeof *nf) : NULL;
		if (!nf)
			return vb_err_set("line %ld: out of memory", r->line);
		r->fields = nf;
		r->fcap = cap;
	}
	r->offs[r->nf] = start;
	r->lens[r->nf] = r->rowlen - start;
	r->nf++;
	return append(r, "", 1);
}

enum { F_START, F_PLAIN, F_QUOTED, F_QUOTE, F_CR };

int vb_csv_next(struct vb_csv *r, char ***fields, size_t *nfields, size_t **lens)
{
	int st, rc;
	size_t fstart;
	long qline;
	int any;      /* bytes consumed for this row */
	int quoted;   /* a quoted field began in this row */

	if (!r->started) {
		r->started = 1;
		/* a UTF-8 byte-order mark: the first line holds all of it */
		if ((rc = refill(r)) < 0)
			return -1;
		if (r->len - r->pos >= 3 && !memcmp(r->in + r->pos, "\xef\xbb\xbf", 3))
			r->pos += 3;
	}
again:
	st = F_START;
	fstart = 0;
	qline = 0;
	any = quoted = 0;
	r->nf = 0;
	r->rowlen = 0;
	r->line = r->next_line;
	for (;;) {
		unsigned char *p, *end;

		if ((rc = refill(r)) < 0)
			return -1;
		if (rc == 0)
			break;
		p = r->in + r->pos;
		end = r->in + r->len;
		any = 1;
		while (p < end) {
			unsigned char c = *p;

			switch (st) {
			case F_START:
				fstart = r->rowlen;
				if (c == '"') {
					st = F_QUOTED;
					quoted = 1;
					qline = r->next_line;
					p++;
					continue;
				}
				st = F_PLAIN;
				/* fall through */
			case F_PLAIN: {
				unsigned char *q = p;
				while (q < end && !special[*q])
					q++;
				if (q > p && append(r, p, q - p) < 0)
					return -1;
				p = q;
				if (p == end)
					continue;
				c = *p++;
				if (c == ',') {
					if (end_field(r, fstart) < 0)
						return -1;
					st = F_START;
				} else if (c == '\n') {
					r->next_line++;
					goto row_done;
				} else if (c == '\r') {
					st = F_CR;
				} else if (c == '"') {
					/* a quote inside an unquoted field: keep it */
					if (append(r, "\"", 1) < 0)
						return -1;
				} else {
					return vb_err_set("line %ld: NUL byte in the input", r->next_line);
				}
				continue;
			}
			case F_QUOTED: {
				unsigned char *q = p;
				while (q < end && *q != '"' && *q != '\n' && *q)
					q++;
				if (q > p && append(r, p, q - p) < 0)
					return -1;
				p = q;
				if (p == end)
					continue;
				c = *p++;
				if (c == '"') {
					st = F_QUOTE;
				} else if (c == '\n') {
					r->next_line++;
					if (append(r, "\n", 1) < 0)
						return -1;
				} else {
					return vb_err_set("line %ld: NUL byte in the input", r->next_line);
				}
				continue;
			}
			case F_QUOTE:
				p++;
				if (c == '"') {
					if (append(r, "\"", 1) < 0)
						return -1;
					st = F_QUOTED;
				} else if (c == ',') {
					if (end_field(r, fstart) < 0)
						return -1;
					st = F_START;
				} else if (c == '\n') {
					r->next_line++;
					goto row_done;
				} else if (c == '\r') {
					st = F_CR;
				} else {
					return vb_err_set("line %ld: text after the closing quote of a field", r->next_line);
				}
				continue;
			case F_CR:
				/* CR LF, or a lone CR taken as a line end */
				if (c == '\n')
					p++;
				r->next_line++;
				goto row_done;
			}
		}
		r->pos = p - r->in;
		continue;
	row_done:
		r->pos = p - r->in;
		goto finish;
	}
	/* end of input */
	if (st == F_QUOTED)
		return vb_err_set("line %ld: unterminated quoted field (opened on line %ld)", r->next_line, qline);
	if (!any || (st == F_START && r->nf == 0))
		return 0;
	if (st == F_CR)
		r->next_line++;
	if (st == F_START)
		fstart = r->rowlen;
finish:
	/* a blank line between (or after) rows of several fields is no row */
	if (r->nf == 0 && r->rowlen == 0 && !quoted && r->width != 1)
		goto again;
	if (end_field(r, fstart) < 0)
		return -1;
	if (!r->width)
		r->width = r->nf;
	else if (r->nf != r->width && !r->ragged)
		return vb_err_set("line %ld: %zu field%s, expected %zu", r->line, r->nf,
				  r->nf == 1 ? "" : "s", r->width);
	for (size_t i = 0; i < r->nf; i++)
		r->fields[i] = r->row + r->offs[i];
	*fields = r->fields;
	*nfields = r->nf;
	if (lens)
		*lens = r->lens;
	return 1;
}

/* --- writing ----------------------------------------------------------- */

int vb_csv_write_field(FILE *f, const char *s)
{
	size_t n = strlen(s);
	int quote = n && (s[0] == ' ' || s[n - 1] == ' ');

	if (!quote)
		quote = s[strcspn(s, ",\"\r\n")] != 0;
	if (!quote) {
		if (n && fwrite(s, 1, n, f) != n)
			return vb_err_sys("write error");
		return 0;
	}
	if (putc('"', f) == EOF)
		return vb_err_sys("write error");
	for (const char *p = s; *p; p++) {
		if (*p == '"' && putc('"', f) == EOF)
			return vb_err_sys("write error");
		if (putc(*p, f) == EOF)
			return vb_err_sys("write error");
	}
	if (putc('"', f) == EOF)
		return vb_err_sys("write error");
	return 0;
}

int vb_csv_write_row(FILE *f, const char *const *fields, size_t n)
{
	/* a row of one empty field is written "" so it is not a blank line,
	 * which readers skip */
	if (n == 1 && !fields[0][0]) {
		if (fputs("\"\"\n", f) == EOF)
			return vb_err_sys("write error");
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (i && putc(',', f) == EOF)
			return vb_err_sys("write error");
		if (vb_csv_write_field(f, fields[i]) < 0)
			return -1;
	}
	if (putc('\n', f) == EOF)
		return vb_err_sys("write error");
	return 0;
}

/* The digit loop of fmt_shortest, for an integer type T wide enough for
 * 10 * s.  Leaves the digits in d[0..n) or sets n = -1 on a surprise. */
#define SHORTEST_DIGITS(T)						\
	do {								\
		T r_ = (T)r, s_ = (T)s, mp_ = (T)mp, mm_ = (T)mm;	\
		for (;;) {						\
			int dig = 0, low, high;				\
			r_ *= 10;					\
			mp_ *= 10;					\
			mm_ *= 10;					\
			while (r_ >= s_) {				\
				r_ -= s_;				\
				dig++;					\
			}						\
			low = even ? r_ <= mm_ : r_ < mm_;		\
			high = even ? r_ + mp_ >= s_ : r_ + mp_ > s_;	\
			/* nearer end; a tie goes to the even digit, as printf */ \
			if (low && high)				\
				dig += 2 * r_ > s_ || (2 * r_ == s_ && (dig & 1)); \
			else if (high)					\
				dig++;					\
			if (dig > 9 || n == 17) {			\
				n = -1;					\
				break;					\
			}						\
			d[n++] = (char)('0' + dig);			\
			if (low || high)				\
				break;					\
		}							\
	} while (0)

/* Shortest digits of 1e-4 <= v < 1e15 in plain decimal notation, exactly,
 * with 128-bit integers (Steele & White's free-format algorithm as refined
 * by Burger & Dybvig): v and the half-gaps to its neighbours become r/s,
 * m+/s and m-/s, and digits are produced until the number so far lies
 * within the rounding interval of v.  Returns 0 if v is outside the range
 * (the caller then uses printf). */
static int fmt_shortest(char *buf, double v)
{
	typedef unsigned __int128 u128;
	static u128 pow10[20];
	uint64_t bits, f;
	int e, k, n = 0, even, neg = v < 0, pos = 0;
	u128 r, s, mp, mm;
	char d[24];

	if (!pow10[0]) {
		pow10[0] = 1;
		for (int i = 1; i < 20; i++)
			pow10[i] = pow10[i - 1] * 10;
	}
	if (neg)
		v = -v;
	if (!(v >= 1e-4 && v < 1e15))
		return 0;
	memcpy(&bits, &v, sizeof bits);
	f = (bits & ((1ULL << 52) - 1)) | (1ULL << 52);
	e = (int)((bits >> 52) & 0x7ff) - 1075;  /* v = f * 2^e, -66 <= e <= -3 */
	even = !(f & 1);
	if (f == 1ULL << 52) { /* the gap below is half the gap above */
		r = (u128)f * 4;
		s = (u128)1 << (2 - e);
		mp = 2;
		mm = 1;
	} else {
		r = (u128)f * 2;
		s = (u128)1 << (1 - e);
		mp = mm = 1;
	}
	/* log10(v) from log2(v) in [e + 52, e + 53); corrected below */
	k = (int)ceil((e + 52) * 0.30102999566398120);
	if (k >= 0) {
		s *= pow10[k];
	} else {
		r *= pow10[-k];
		mp *= pow10[-k];
		mm *= pow10[-k];
	}
	/* fix the estimate: the upper end of the interval must be below
	 * 10^k and at least 10^(k-1) */
	while (even ? r + mp >= s : r + mp > s) {
		s *= 10;
		k++;
	}
	while (even ? (r + mp) * 10 < s : (r + mp) * 10 <= s) {
		r *= 10;
		mp *= 10;
		mm *= 10;
		k--;
	}
	/* r, m+ and m- stay below s, so 64 bits do when 10 s fits */
	if (s < (u128)1 << 59)
		SHORTEST_DIGITS(uint64_t);
	else
		SHORTEST_DIGITS(u128);
	if (n < 0)
		return 0;
	/* v = 0.d[0]d[1]... * 10^k */
	if (neg)
		buf[pos++] = '-';
	if (k <= 0) {
		buf[pos++] = '0';
		buf[pos++] = '.';
		for (int i = 0; i < -k; i++)
			buf[pos++] = '0';
		memcpy(buf + pos, d, n);
		pos += n;
	} else if (k >= n) {
		memcpy(buf + pos, d, n);
		pos += n;
		for (int i = n; i < k; i++)
			buf[pos++] = '0';
	} else {
		memcpy(buf + pos, d, k);
		pos += k;
		buf[pos++] = '.';
		memcpy(buf + pos, d + k, n - k);
		pos += n - k;
	}
	buf[pos] = 0;
	return 1;
}

/* The printf way, for every value: the shortest of %.15g, %.16g, %.17g
 * that reads back. */
static char *fmt_printf(char *buf, double v)
{
	/* Rounding to 15 significant digits is exact for every normal value
	 * whose shortest representation has at most 15; otherwise 16, then
	 * 17.  Subnormals carry fewer digits, so try every precision. */
	for (int prec = fabs(v) < DBL_MIN ? 1 : 15; prec <= 17; prec++) {
		snprintf(buf, 32, "%.*g", prec, v);
		if (prec == 17 || strtod(buf, NULL) == v)
			break;
	}
	return buf;
}

char *vb_csv_fmt_double(char *buf, double v)
{
	if (isnan(v))
		return strcpy(buf, "nan");
	if (isinf(v))
		return strcpy(buf, v < 0 ? "-inf" : "inf");
	if (v == 0)
		return strcpy(buf, signbit(v) ? "-0" : "0");
	if (fmt_shortest(buf, v))
		return buf;
	return fmt_printf(buf, v);
}

int vb_csv_parse_double(const char *s, double *out)
{
	char *end;
	double v;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s)
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (end == s)
		return -1;
	while (*end == ' ' || *end == '\t')
		end++;
	if (*end)
		return -1;
	*out = v;
	return 0;
}
