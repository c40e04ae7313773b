/* cli.c - common options, messages and exit handling for main(). */
#include "cli.h"
#include "err.h"
#include "nn.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef VB_DATADIR
#define VB_DATADIR "/usr/local/share/vibify"
#endif
#ifndef VB_VERSION
#define VB_VERSION "0.1"
#endif

struct vb_common vb_opt = { 0, 0, 42, 1 };
const char *vb_progname = "vibify";
const char *argp_program_version;
const char *argp_program_bug_address = NULL;

static char version_buf[128];

enum { OPT_SEED = 0x1000, OPT_THREADS };

static const struct argp_option common_options[] = {
	{ "verbose", 'v', 0, 0, "Report progress and details on stderr (repeat for more)", 0 },
	{ "quiet", 'q', 0, 0, "Print nothing but errors", 0 },
	{ "seed", OPT_SEED, "N", 0, "Seed for every random choice (default: 42)", 0 },
	{ "threads", OPT_THREADS, "N", 0, "Worker threads (default: the number of CPUs)", 0 },
	{ 0 }
};

static error_t parse_common(int key, char *arg, struct argp_state *st)
{
	switch (key) {
	case 'v':
		vb_opt.verbose++;
		vb_opt.quiet = 0;
		break;
	case 'q':
		vb_opt.quiet = 1;
		vb_opt.verbose = 0;
		break;
	case OPT_SEED: {
		char *end;
		unsigned long long v;
		errno = 0;
		v = strtoull(arg, &end, 10);
		if (errno || end == arg || *end || arg[0] == '-')
			argp_error(st, "invalid --seed '%s': expected a non-negative integer", arg);
		vb_opt.seed = v;
		break;
	}
	case OPT_THREADS:
		vb_opt.threads = (int)vb_arg_long(st, "--threads", arg, 1, 1024);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

const struct argp vb_common_argp = { common_options, parse_common, 0, 0, 0, 0, 0 };

void vb_cli_init(int argc, char **argv)
{
	const char *p;
	long n;

	(void)argc;
	if (argv && argv[0]) {
		p = strrchr(argv[0], '/');
		vb_progname = p ? p + 1 : argv[0];
	}
	snprintf(version_buf, sizeof version_buf, "%s (vibify) %s", vb_progname, VB_VERSION);
	argp_program_version = version_buf;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	vb_opt.threads = n > 0 ? (int)n : 1;
	signal(SIGPIPE, SIG_IGN);
	vb_blas_idle();
}

static void vmsg(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", vb_progname);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void vb_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void vb_info(const char *fmt, ...)
{
	va_list ap;

	if (!vb_opt.verbose || vb_opt.quiet)
		return;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void vb_fatal(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	exit(status);
}

long vb_arg_long(struct argp_state *st, const char *opt, const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end)
		argp_error(st, "invalid %s '%s': expected an integer", opt, s);
	if (v < lo || v > hi)
		argp_error(st, "invalid %s '%s': must be between %ld and %ld", opt, s, lo, hi);
	return v;
}

double vb_arg_double(struct argp_state *st, const char *opt, const char *s, double lo, double hi)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v))
		argp_error(st, "invalid %s '%s': expected a number", opt, s);
	if (v < lo || v > hi)
		argp_error(st, "invalid %s '%s': must be between %g and %g", opt, s, lo, hi);
	return v;
}

FILE *vb_open_in(const char *path)
{
	FILE *f;

	if (!path || !strcmp(path, "-"))
		return stdin;
	f = fopen(path, "rb");
	if (!f)
		vb_fatal(VB_EXIT_DATA, "cannot open '%s': %s", path, strerror(errno));
	return f;
}

FILE *vb_open_out(const char *path)
{
	FILE *f;

	if (!path || !strcmp(path, "-"))
		return stdout;
	f = fopen(path, "wb");
	if (!f)
		vb_fatal(VB_EXIT_DATA, "cannot open '%s' for writing: %s", path, strerror(errno));
	return f;
}

/* stdout's first write error (its errno), and whether it was reported */
static int out_errno, out_reported;

/* Keep errno as the reason of stdout's failure, unless one is kept. */
static void keep_out_errno(void)
{
	if (!out_errno)
		out_errno = errno ? errno : EIO;
}

static void report_out_error(void)
{
	if (!out_reported)
		vb_warn("write error: %s", strerror(out_errno));
	out_reported = 1;
}

int vb_flush_stdout(void)
{
	if (fflush(stdout) == 0)
		return 0;
	keep_out_errno();
	errno = out_errno;
	return -1;
}

int vb_close(FILE *f, const char *path)
{
	int bad;

	if (!f || f == stdin)
		return 0;
	if (f == stdout) {
		if (vb_flush_stdout() == 0)
			return 0;
		report_out_error();
		return -1;
	}
	bad = ferror(f);
	if (fclose(f) || bad) {
		vb_warn("write error on '%s': %s", path ? path : "?", bad ? "I/O error" : strerror(errno));
		return -1;
	}
	return 0;
}

int vb_close_stdout(int status)
{
	int bad = ferror(stdout);

	errno = 0;
	if (fclose(stdout) == 0 && !bad)
		return status;
	keep_out_errno();
	report_out_error();
	return VB_EXIT_DATA;
}

const char *vb_data_path(const char *rel)
{
	static char path[PATH_MAX + 64];
	char exe[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);

	if (n > 0) {
		exe[n] = 0;
		if ((slash = strrchr(exe, '/'))) {
			*slash = 0;
			snprintf(path, sizeof path, "%s/../%s", exe, rel);
			if (access(path, R_OK) == 0)
				return path;
			snprintf(path, sizeof path, "%s/../share/vibify/%s", exe, rel);
			if (access(path, R_OK) == 0)
				return path;
		}
	}
	snprintf(path, sizeof path, "%s/%s", VB_DATADIR, rel);
	return path;
}

int vb_show_progress(void)
{
	if (vb_opt.quiet)
		return 0;
	return vb_opt.verbose || isatty(STDERR_FILENO);
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void vb_progress(const char *what, double done, double total)
{
	static double start, last;
	static const char *cur;
	double t, pct, eta;
	int bar = 24, fill, tty;

	if (!vb_show_progress())
		return;
	tty = isatty(STDERR_FILENO);
	t = now_seconds();
	if (what != cur || done <= 0) {
		cur = what;
		start = t;
		last = t;
	}
	/* a terminal redraws one line ten times a second; a log (-v in a pipe)
	 * gets a whole line every ten seconds and at the end */
	if (done < total && t - last < (tty ? 0.1 : 10.0))
		return;
	last = t;
	pct = total > 0 ? done / total : 0;
	if (pct > 1)
		pct = 1;
	eta = pct > 0 ? (t - start) * (1 - pct) / pct : 0;
	if (!tty) {
		fprintf(stderr, "%s: %s %3.0f%% %.0f/%.0f ETA %02d:%02d\n", vb_progname, what,
			pct * 100, done, total, (int)(eta / 60), (int)eta % 60);
		return;
	}
	fill = (int)(pct * bar + 0.5);
	fprintf(stderr, "\r%s [%.*s%*s] %3.0f%% %.0f/%.0f ETA %02d:%02d ", what, fill,
		"########################", bar - fill, "", pct * 100, done, total,
		(int)(eta / 60), (int)eta % 60);
	if (done >= total)
		fputc('\n', stderr);
	fflush(stderr);
}
