/* test-haar-number.c - the cascade reader's fast path for decimals gives
 * exactly what strtod gives, or declines.  It is static in haar.c, so that
 * file is compiled in here whole. */
#include "../../lib/haar.c"

#include "tap.h"

static int same(const char *s)
{
	double a, b;
	char *ea, *eb;
	b = strtod(s, &eb);
	if (!fast_decimal(s, &a, &ea))
		return -1;
	return !memcmp(&a, &b, sizeof a) && ea == eb;
}

int main(void)
{
	static const char *fast[] = {
		"0", "-0", "1.", ".5", "-.5", "+2", "0.0315119996666908", "-0.0315119996666908",
		"1e-3", "1.5E+2", "4.5e22", "4.5e23", "1e-22", "9007199254740991",
		"00000000000000000000001.5", "0.1 ", "-1.3312400579452e-01",
		"-3.1511999666690826e-02", "2.0875380039215088e+00", "-1.3312400579452515e-01",
		"12345678901234567e-27", "1234567890123456789", "1e27",
	};
	static const char *slow[] = {
		"", "-", ".", "e5", "1e", "1e+", "0x10", "inf", "nan", "7e-28", "1e28",
		"12345678901234567890", "1.5x", "1e99999", "2,5",
		"9007199254740993", "1e23",   /* halfway between two doubles */
	};
	int n = (int)(sizeof fast / sizeof *fast);
	for (int i = 0; i < n; i++)
		ok(same(fast[i]) == 1, "'%s' as strtod reads it", fast[i]);
	n = (int)(sizeof slow / sizeof *slow);
	for (int i = 0; i < n; i++)
		ok(same(slow[i]) == -1, "'%s' left to strtod", slow[i]);

	/* random decimals of 1-19 digits, the point anywhere, exponents to +-30 */
	uint64_t r = 1;
	long tried = 0, taken = 0, wrong = 0;
	char buf[64];
	for (long i = 0; i < 2000000; i++) {
		r = r * 6364136223846793005u + 1442695040888963407u;
		uint64_t q = r >> 11;
		int nd = 1 + (int)(q % 19), fr = (int)(q / 19 % (uint64_t)(nd + 1));
		int ex = (int)(q / 400 % 61) - 30, style = (int)(q / 24400 % 3);
		char *p = buf;
		if (q / 73200 % 2)
			*p++ = '-';
		for (int k = 0; k < nd; k++) {
			if (fr && k == nd - fr)
				*p++ = '.';
			q = q * 2862933555777941757u + 3037000493u;
			*p++ = (char)('0' + (q >> 33) % 10);
		}
		if (style)
			p += sprintf(p, style == 1 ? "e%d" : "E%+d", ex);
		*p = 0;
		int s = same(buf);
		tried++;
		taken += s >= 0;
		wrong += s == 0;
		if (s == 0 && wrong <= 3)
			printf("# differs from strtod: %s\n", buf);
	}
	ok(wrong == 0, "%ld random decimals, %ld on the fast path: %ld differ", tried, taken, wrong);
	ok(taken > tried / 2, "most take the fast path (%ld of %ld)", taken, tried);
	return tap_done();
}
