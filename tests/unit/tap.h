/* tap.h - minimal TAP output for the C unit tests (header-only).
 *
 *   ok(cond, "fmt", ...)        one test point
 *   is_int(got, want, "desc")   integer equality, shows both on failure
 *   is_str(got, want, "desc")   string equality (NULL-safe)
 *   is_dbl(got, want, tol, "desc")  |got - want| <= tol
 *   skip("why")                 a skipped test point
 *   tap_diag = fn;              fn() prints more after every failure
 *   return tap_done();          prints the plan, exit status 0 if all passed
 */
#ifndef VB_TAP_H
#define VB_TAP_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;
static void (*tap_diag)(void);

__attribute__((format(printf, 2, 3), unused))
static int ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!cond) {
		tap_failed++;
		if (tap_diag)
			tap_diag();
	}
	fflush(stdout);
	return cond;
}

__attribute__((unused))
static void skip(const char *why)
{
	printf("ok %d # SKIP %s\n", ++tap_n, why);
}

__attribute__((unused))
static int is_int(long long got, long long want, const char *desc)
{
	if (!ok(got == want, "%s", desc))
		printf("# got %lld, want %lld\n", got, want);
	return got == want;
}

__attribute__((unused))
static int is_str(const char *got, const char *want, const char *desc)
{
	int same = got && want ? !strcmp(got, want) : got == want;

	if (!ok(same, "%s", desc))
		printf("# got '%s', want '%s'\n", got ? got : "(null)", want ? want : "(null)");
	return same;
}

__attribute__((unused))
static int is_dbl(double got, double want, double tol, const char *desc)
{
	int good = fabs(got - want) <= tol || (isnan(got) && isnan(want));

	if (!ok(good, "%s", desc))
		printf("# got %.17g, want %.17g (tolerance %g)\n", got, want, tol);
	return good;
}

__attribute__((unused))
static int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
