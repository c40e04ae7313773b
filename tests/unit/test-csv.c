/* test-csv.c - TAP tests of lib/csv.c: RFC 4180 parsing, errors naming the
 * line, chunk boundaries, writer quoting, round trips, double formatting. */
#include "csv.h"
#include "err.h"
#include "tap.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void last_error(void)
{
	printf("# last error: %s\n", vb_err_msg());
}

/* Parse text and render the rows as "[f1|f2]\n..." (newlines in fields as
 * \n), or "ERR:<message>" after the rows read before an error. */
static char *render(const char *text, size_t n, int ragged)
{
	static char out[1 << 16];
	FILE *f = fmemopen((void *)text, n, "rb");
	struct vb_csv *r;
	char **fl;
	size_t nf, *lens, o = 0;
	int rc;

	if (!n) /* fmemopen refuses size 0 */
		f = fopen("/dev/null", "rb");
	r = vb_csv_open(f);
	vb_csv_set_ragged(r, ragged);
	out[0] = 0;
	while ((rc = vb_csv_next(r, &fl, &nf, &lens)) == 1) {
		o += snprintf(out + o, sizeof out - o, "%ld[", vb_csv_line(r));
		for (size_t i = 0; i < nf; i++) {
			if (strlen(fl[i]) != lens[i])
				o += snprintf(out + o, sizeof out - o, "<badlen>");
			for (char *p = fl[i]; *p; p++)
				o += snprintf(out + o, sizeof out - o, *p == '\n' ? "\\n" : *p == '\r' ? "\\r" : "%c", *p);
			if (i + 1 < nf)
				o += snprintf(out + o, sizeof out - o, "|");
		}
		o += snprintf(out + o, sizeof out - o, "]");
	}
	if (rc < 0)
		snprintf(out + o, sizeof out - o, "ERR:%s", vb_err_msg());
	vb_csv_close(r);
	fclose(f);
	return out;
}

static void parses(const char *text, const char *want, const char *desc)
{
	const char *got = render(text, strlen(text), 0);

	ok(!strcmp(got, want), "%s", desc);
	if (strcmp(got, want))
		printf("#   got:  %s\n#   want: %s\n", got, want);
}

static void test_reader(void)
{
	parses("a,b,c\n1,2,3\n", "1[a|b|c]2[1|2|3]", "simple rows");
	parses("a,b\r\n1,2\r\n", "1[a|b]2[1|2]", "CRLF");
	parses("a,b\n1,2", "1[a|b]2[1|2]", "no final newline");
	parses("a,b\r\n1,2\r", "1[a|b]2[1|2]", "final lone CR");
	parses("\xef\xbb\xbf" "id,name\nx,y\n", "1[id|name]2[x|y]", "UTF-8 BOM skipped");
	parses("a,\xef\xbb\xbf\n", "1[a|\xef\xbb\xbf]", "BOM kept when not at the start");
	parses("a,b,c\n,,\n", "1[a|b|c]2[||]", "empty fields");
	parses("a,b\n1,\n", "1[a|b]2[1|]", "trailing empty field");
	parses("a,b\n1,", "1[a|b]2[1|]", "trailing empty field at EOF");
	parses("\"a,b\",\"c\"\"d\",\"e\nf\"\ng,h,i\n", "1[a,b|c\"d|e\\nf]3[g|h|i]", "quoted comma, quote, newline; line numbers follow");
	parses("\"a\r\nb\",c\r\n", "1[a\\r\\nb|c]", "CRLF inside quotes kept");
	parses("\"\",x\n", "1[|x]", "empty quoted field");
	parses("a\"b,c\n", "1[a\"b|c]", "bare quote inside an unquoted field kept");
	parses("x\n\ny\n", "1[x]2[]3[y]", "one column: an empty line is one empty field");
	parses("a,b\n1,2\n\n", "1[a|b]2[1|2]", "a trailing blank line is skipped");
	parses("a,b\n\r\n1,2\n", "1[a|b]3[1|2]", "a blank line between rows is skipped; lines still counted");
	parses("\n\na,b\n1,2\n", "3[a|b]4[1|2]", "blank lines before the header are skipped");
	parses("a,b\n\"\"\n", "1[a|b]ERR:line 2: 1 field, expected 2", "a quoted empty field is a row, not a blank line");
	parses("", "", "empty input: no rows");
	parses("\xef\xbb\xbf", "", "BOM only: no rows");
	parses("\n", "", "a lone newline: no rows");
	parses(" a , b \n", "1[ a | b ]", "spaces kept");
	parses("\"a\"\n\"\"\"\"\n", "1[a]2[\"]", "escaped quote alone");

	parses("a,b\n1,2,3\n", "1[a|b]ERR:line 2: 3 fields, expected 2", "ragged row names its line");
	parses("a,b\n\"x\ny\",1\n2\n", "1[a|b]2[x\\ny|1]ERR:line 4: 1 field, expected 2", "ragged line counted across embedded newlines");
	parses("a,b\n\"abc,1\n", "1[a|b]ERR:line 3: unterminated quoted field (opened on line 2)", "unterminated quote");
	parses("a,b\n\"abc\"x,1\n", "1[a|b]ERR:line 2: text after the closing quote of a field", "text after a closing quote");
	{
		const char *got = render("a,b\nx\0y,1\n", 10, 0);
		ok(!strcmp(got, "1[a|b]ERR:line 2: NUL byte in the input"), "NUL byte rejected (%s)", got);
		got = render("a,\"x\0\"\n", 7, 0);
		ok(!strcmp(got, "ERR:line 1: NUL byte in the input"), "NUL byte in quotes rejected (%s)", got);
	}
	{
		const char *t = "a,b\n1\n1,2,3\n";
		const char *got = render(t, strlen(t), 1);
		ok(!strcmp(got, "1[a|b]2[1]3[1|2|3]"), "ragged rows allowed on request");
	}

	/* rows across chunk boundaries: many rows of varied width and quoting */
	{
		size_t cap = 1 << 20, n = 0;
		char *big = malloc(cap);
		FILE *f;
		struct vb_csv *r;
		char **fl;
		size_t nf;
		int good = 1, rows = 0, rc;

		for (int i = 0; i < 20000; i++)
			n += snprintf(big + n, cap - n, "%d,\"q%d,\"\"x\"\"\nz\",%.*s\r\n", i, i, i % 37, "abcdefghijklmnopqrstuvwxyz0123456789abcdef");
		f = fmemopen(big, n, "rb");
		r = vb_csv_open(f);
		while ((rc = vb_csv_next(r, &fl, &nf, NULL)) == 1) {
			char want[64];
			snprintf(want, sizeof want, "q%d,\"x\"\nz", rows);
			if (nf != 3 || atoi(fl[0]) != rows || strcmp(fl[1], want) || strlen(fl[2]) != (size_t)(rows % 37) ||
			    vb_csv_line(r) != 2 * rows + 1)
				good = 0;
			rows++;
		}
		ok(rc == 0 && good && rows == 20000, "20000 rows (%zu bytes) across chunk boundaries", n);
		vb_csv_close(r);
		fclose(f);
		free(big);
	}
	/* a field longer than the input chunk */
	{
		size_t n = 300000;
		char *big = malloc(n + 10);
		FILE *f;
		struct vb_csv *r;
		char **fl;
		size_t nf, *lens;

		big[0] = '"';
		memset(big + 1, 'x', n);
		memcpy(big + n + 1, "\",y\n", 4);
		f = fmemopen(big, n + 5, "rb");
		r = vb_csv_open(f);
		ok(vb_csv_next(r, &fl, &nf, &lens) == 1 && nf == 2 && lens[0] == n && fl[0][n - 1] == 'x' && !strcmp(fl[1], "y"),
		   "a 300000-byte quoted field");
		vb_csv_close(r);
		fclose(f);
		free(big);
	}
}

static char *written(const char *const *fields, size_t n)
{
	static char *buf;
	size_t len;
	FILE *f;

	free(buf);
	buf = NULL;
	f = open_memstream(&buf, &len);
	vb_csv_write_row(f, fields, n);
	fclose(f);
	return buf;
}

static void test_writer(void)
{
	{
		const char *row[] = { "plain", "a,b", "say \"hi\"", "two\nlines", "cr\r", " lead", "trail ", "", "mid space" };
		const char *got = written(row, 9);
		const char *want = "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\"cr\r\",\" lead\",\"trail \",,mid space\n";
		ok(!strcmp(got, want), "writer quotes only when needed");
		if (strcmp(got, want))
			printf("#   got: %s", got);
	}
	{
		const char *row[] = { "" };
		ok(!strcmp(written(row, 1), "\"\"\n"), "a row of one empty field is written as \"\"");
	}
	/* random fields through writer and reader */
	{
		const char alphabet[] = "ab ,\"\n\r;x\xc3\xa9";
		char fields[50][8][20];
		const char *ptr[8];
		char *buf = NULL;
		size_t len;
		FILE *f = open_memstream(&buf, &len);
		uint64_t s = 12345;
		struct vb_csv *r;
		char **fl;
		size_t nf;
		int good = 1;

		for (int i = 0; i < 50; i++) {
			for (int j = 0; j < 8; j++) {
				int l;
				s = s * 6364136223846793005ULL + 1442695040888963407ULL;
				l = (int)(s >> 60);
				for (int k = 0; k < l; k++) {
					s = s * 6364136223846793005ULL + 1442695040888963407ULL;
					fields[i][j][k] = alphabet[(s >> 33) % (sizeof alphabet - 1)];
				}
				fields[i][j][l] = 0;
				ptr[j] = fields[i][j];
			}
			vb_csv_write_row(f, ptr, 8);
		}
		fclose(f);
		f = fmemopen(buf, len, "rb");
		r = vb_csv_open(f);
		for (int i = 0; i < 50; i++) {
			if (vb_csv_next(r, &fl, &nf, NULL) != 1 || nf != 8) {
				good = 0;
				break;
			}
			for (int j = 0; j < 8; j++)
				if (strcmp(fl[j], fields[i][j]))
					good = 0;
		}
		ok(good && vb_csv_next(r, &fl, &nf, NULL) == 0, "50 random rows round trip through writer and reader");
		vb_csv_close(r);
		fclose(f);
		free(buf);
	}
	{
		FILE *full = fopen("/dev/full", "wb");
		const char *row[] = { "a", "b,c" };

		setvbuf(full, NULL, _IONBF, 0);
		ok(vb_csv_write_row(full, row, 2) == -1 && strstr(vb_err_msg(), "No space left"), "write to /dev/full fails clearly");
		fclose(full);
	}
}

static void fmt_is(double v, const char *want)
{
	char buf[32];

	vb_csv_fmt_double(buf, v);
	ok(!strcmp(buf, want), "fmt_double %s (got %s)", want, buf);
}

static void test_numbers(void)
{
	double v;
	char buf[32];
	int good = 1;
	uint64_t s = 99;

	fmt_is(0.1, "0.1");
	fmt_is(0.748, "0.748");
	fmt_is(4.14e-06, "4.14e-06");
	fmt_is(-5.738, "-5.738");
	fmt_is(100, "100");
	fmt_is(0.1 + 0.2, "0.30000000000000004");
	fmt_is(1.0 / 3, "0.3333333333333333");
	fmt_is(1e21, "1e+21");
	fmt_is(0, "0");
	fmt_is(-0.0, "-0");
	fmt_is(NAN, "nan");
	fmt_is(INFINITY, "inf");
	fmt_is(-INFINITY, "-inf");
	fmt_is(5e-324, "5e-324");
	fmt_is(2.5e-310, "2.5e-310");
	fmt_is(1.7976931348623157e308, "1.7976931348623157e+308");
	for (int i = 0; i < 100000; i++) {
		uint64_t bits;
		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		bits = s ^ (s >> 29);
		memcpy(&v, &bits, sizeof v);
		if (!isfinite(v))
			continue;
		vb_csv_fmt_double(buf, v);
		if (strtod(buf, NULL) != v) {
			good = 0;
			printf("# %.17g -> %s\n", v, buf);
			break;
		}
	}
	ok(good, "100000 random doubles read back exactly");

	/* the fast exact path against printf: the shortest of %.15g, %.16g,
	 * %.17g that reads back, on values of every magnitude */
	good = 1;
	for (int i = 0; i < 300000 && good; i++) {
		char ref[32];
		uint64_t x;
		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		x = s ^ (s >> 31);
		switch (i % 3) {
		case 0: v = (double)(x >> 11) / (1ULL << 53) * pow(10, (int)(x % 23) - 6); break;
		case 1: v = (double)(x % 1000000) / pow(10, (double)(x % 9)); break;
		default: v = ((double)(x >> 11) / (1ULL << 53) - 0.5) * 8; break;
		}
		if (x & (1ULL << 40))
			v = -v;
		vb_csv_fmt_double(buf, v);
		for (int prec = 15; prec <= 17; prec++) {
			snprintf(ref, sizeof ref, "%.*g", prec, v);
			if (prec == 17 || strtod(ref, NULL) == v)
				break;
		}
		if (strcmp(buf, ref) && v != 0) {
			good = 0;
			printf("# %.17g -> %s, printf %s\n", v, buf, ref);
		}
	}
	ok(good, "300000 doubles formatted exactly as the shortest printf form");
	fmt_is(2379561369346.90625, "2379561369346.9062");
	fmt_is(0.5, "0.5");
	fmt_is(1e-4, "0.0001");
	fmt_is(99999999999999.98, "99999999999999.98");
	fmt_is(-122.036, "-122.036");

	ok(vb_csv_parse_double("4.14E-06", &v) == 0 && v == 4.14e-06, "parse 4.14E-06");
	ok(vb_csv_parse_double("  -1.5 ", &v) == 0 && v == -1.5, "parse with spaces");
	ok(vb_csv_parse_double("nan", &v) == 0 && isnan(v), "parse nan");
	ok(vb_csv_parse_double("-inf", &v) == 0 && isinf(v) && v < 0, "parse -inf");
	ok(vb_csv_parse_double("", &v) == -1, "empty is not a number");
	ok(vb_csv_parse_double("  ", &v) == -1, "blank is not a number");
	ok(vb_csv_parse_double("abc", &v) == -1, "abc is not a number");
	ok(vb_csv_parse_double("1.5x", &v) == -1, "1.5x is not a number");
	ok(vb_csv_parse_double("1,5", &v) == -1, "1,5 is not a number");
}

/* A row must come back as soon as its line has arrived on a live pipe, not
 * when a read buffer fills or the writer closes (alarm turns a hang into a
 * failure). */
static void test_live_pipe(void)
{
	int fd[2];
	FILE *in;
	struct vb_csv *r;
	char **f;
	size_t n;

	if (pipe(fd)) {
		ok(0, "pipe: %s", strerror(errno));
		return;
	}
	if (write(fd[1], "a,b\n1,2\n", 8) != 8)
		ok(0, "write to pipe");
	in = fdopen(fd[0], "r");
	r = vb_csv_open(in);
	alarm(10);
	ok(vb_csv_next(r, &f, &n, NULL) == 1 && n == 2, "live pipe: header row before EOF");
	ok(vb_csv_next(r, &f, &n, NULL) == 1 && !strcmp(f[1], "2"), "live pipe: data row before EOF");
	alarm(0);
	close(fd[1]);
	ok(vb_csv_next(r, &f, &n, NULL) == 0, "live pipe: end after the writer closes");
	vb_csv_close(r);
	fclose(in);
}

int main(void)
{
	tap_diag = last_error;
	test_live_pipe();
	test_reader();
	test_writer();
	test_numbers();
	return tap_done();
}
