/* cli.h - what every program's main() shares: the common options, messages
 * on stderr and the exit-status convention.
 *
 * This is the one module meant for main() only: it prints (to stderr) and
 * vb_fatal() exits.  Everything else in lib/ reports through err.h.
 */
#ifndef VB_CLI_H
#define VB_CLI_H

#include <argp.h>
#include <stdint.h>
#include <stdio.h>

/* Exit statuses, the same for every program. */
enum {
	VB_EXIT_OK = 0,      /* success */
	VB_EXIT_VERDICT = 1, /* a negative verdict a script may branch on */
	VB_EXIT_DATA = 2,    /* bad data or a runtime error */
	VB_EXIT_USAGE = 64   /* bad usage (argp's EX_USAGE) */
};

/* Options shared by every program, filled by vb_common_argp. */
struct vb_common {
	int verbose;     /* -v, count */
	int quiet;       /* -q */
	uint64_t seed;   /* --seed, default 42 */
	int threads;     /* --threads, default: online CPUs */
};
extern struct vb_common vb_opt;

/* The argp child parser for -v/--verbose, -q/--quiet, --seed, --threads.
 * Add it as { &vb_common_argp, 0, "Common options:", 0 } to a program's
 * children list. */
extern const struct argp vb_common_argp;

/* Program name used in messages (set by vb_cli_init from argv[0]). */
extern const char *vb_progname;

/* Call first in main(): sets vb_progname, the argp version string and the
 * common defaults, and ignores SIGPIPE so that a closed pipe surfaces as a
 * write error (EPIPE) reported by vb_close_stdout() rather than a silent
 * death by signal. */
void vb_cli_init(int argc, char **argv);

/* "prog: message" on stderr.  vb_warn always prints, vb_info only with -v
 * (and never with -q). */
void vb_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vb_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "prog: message" on stderr, then exit(status). */
void vb_fatal(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

/* Parse a number for an option: the whole string must be a number in
 * [lo, hi]; otherwise argp_error() with a clear message (exits 64). */
long vb_arg_long(struct argp_state *st, const char *opt, const char *s, long lo, long hi);
double vb_arg_double(struct argp_state *st, const char *opt, const char *s, double lo, double hi);

/* Open a file for reading or writing; "-" or NULL means stdin/stdout.
 * On failure prints "prog: cannot open 'path': reason" and exits 2. */
FILE *vb_open_in(const char *path);
FILE *vb_open_out(const char *path);

/* Close a stream opened by vb_open_*; stdin/stdout are checked but left to
 * vb_close_stdout().  Returns 0, or prints "write error" and returns -1. */
int vb_close(FILE *f, const char *path);

/* fflush(stdout), remembering the reason of the first failure for the
 * message of vb_close_stdout().  0 or -1 (errno set). */
int vb_flush_stdout(void);

/* At the end of main(): flush and close stdout, reporting "write error:
 * reason" (a full disk, a closed pipe) once, unless vb_close() already
 * did, and returning VB_EXIT_DATA if it fails; returns `status` otherwise.
 * Usage: return vb_close_stdout(status); */
int vb_close_stdout(int status);

/* True when progress should be drawn: stderr is a terminal and not -q, or -v. */
int vb_show_progress(void);

/* Where a file shipped with Vibify is, rel being e.g. "models/vibify.yaml":
 * the first readable of <program's dir>/../<rel> (a build tree, bin/ next
 * to models/), <program's dir>/../share/vibify/<rel> (an installed tree,
 * wherever it was installed) and VB_DATADIR/<rel> (the configured PREFIX);
 * the last of these if none is readable, so an error names it.  Returns a
 * static buffer, overwritten by the next call. */
const char *vb_data_path(const char *rel);

/* Progress on stderr, only when vb_show_progress(): on a terminal a bar
 * "what [###   ] pct% done/total ETA mm:ss" redrawn in place at most ~10
 * times a second, done == total ending the line; otherwise (-v into a log)
 * a plain "prog: what pct% ..." line every ten seconds and at the end.
 * Not thread-safe: call from one thread. */
void vb_progress(const char *what, double done, double total);

#endif
