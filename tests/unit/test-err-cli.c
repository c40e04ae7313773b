/* test-err-cli.c - TAP tests of lib/err.c (messages, errno, prefixes, one
 * buffer per thread) and lib/cli.c (messages on stderr, exit statuses,
 * option parsing, opening files, write errors at exit), the latter in
 * child processes whose stderr and exit status are captured. */
#include "tap.h"
#include "cli.h"
#include "err.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Run fn in a child with stdout sent to out (NULL: /dev/null); return its
 * exit status (or 1000 + signal) and its stderr in err. */
static int child(void (*fn)(void), const char *out, char *err, size_t size)
{
	int p[2], st;
	pid_t pid;
	ssize_t n, got = 0;

	fflush(stdout);
	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		int fd = open(out ? out : "/dev/null", O_WRONLY);
		dup2(fd, 1);
		dup2(p[1], 2);
		close(p[0]);
		fn();
		exit(0);
	}
	close(p[1]);
	while (got + 1 < (ssize_t)size && (n = read(p[0], err + got, size - 1 - got)) > 0)
		got += n;
	err[got] = 0;
	close(p[0]);
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1000 + WTERMSIG(st);
}

static void *thread_fn(void *arg)
{
	(void)arg;
	vb_err_set("in the thread");
	return NULL;
}

static void test_err(void)
{
	char big[2000];
	pthread_t th;

	is_int(vb_err_set("bad %s on line %d", "thing", 7), -1, "vb_err_set returns -1");
	is_str(vb_err_msg(), "bad thing on line 7", "vb_err_set formats");
	errno = ENOENT;
	is_int(vb_err_sys("cannot open '%s'", "x"), -1, "vb_err_sys returns -1");
	is_str(vb_err_msg(), "cannot open 'x': No such file or directory", "vb_err_sys appends strerror");
	is_int(vb_err_prefix("'%s'", "f.csv"), -1, "vb_err_prefix returns -1");
	is_str(vb_err_msg(), "'f.csv': cannot open 'x': No such file or directory", "vb_err_prefix prefixes");
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = 0;
	vb_err_set("%s", big);
	is_int((long long)strlen(vb_err_msg()), VB_ERR_MAX - 1, "a long message is truncated to the buffer");
	vb_err_prefix("%s", big);
	is_int((long long)strlen(vb_err_msg()), VB_ERR_MAX - 1, "a long prefix is truncated too");
	vb_err_set("in main");
	pthread_create(&th, NULL, thread_fn, NULL);
	pthread_join(th, NULL);
	is_str(vb_err_msg(), "in main", "each thread has its own message");
}

static void do_fatal(void) { vb_fatal(VB_EXIT_DATA, "broken '%s'", "x"); }
static void do_warn(void) { vb_warn("careful"); vb_info("hidden"); }
static void do_info(void) { vb_opt.verbose = 1; vb_info("shown"); }
static void do_open_missing(void) { vb_open_in("/nonexistent/file"); }
static void do_open_out_bad(void) { vb_open_out("/nonexistent/dir/file"); }
static void do_full(void)
{
	for (int i = 0; i < 10000; i++)
		printf("line %d\n", i);
	exit(vb_close_stdout(VB_EXIT_OK));
}
static void do_small_full(void) { printf("x\n"); exit(vb_close_stdout(VB_EXIT_VERDICT)); }
static void do_ok_close(void) { printf("x\n"); exit(vb_close_stdout(VB_EXIT_VERDICT)); }
static void do_close_file_full(void)
{
	FILE *f = vb_open_out("/dev/full");
	fputs("data", f);
	exit(vb_close(f, "/dev/full") < 0 ? 2 : 0);
}

static char *opt_argv[8];
static int opt_argc;
static error_t parse_one(int key, char *arg, struct argp_state *st)
{
	if (key == 'n')
		printf("n=%ld\n", vb_arg_long(st, "--num", arg, 1, 10));
	else if (key == 'x')
		printf("x=%g\n", vb_arg_double(st, "--real", arg, 0, 1));
	else
		return ARGP_ERR_UNKNOWN;
	return 0;
}
static void do_parse(void)
{
	static const struct argp_option o[] = {
		{ "num", 'n', "N", 0, "a number", 0 }, { "real", 'x', "X", 0, "a real", 0 }, { 0 }
	};
	static const struct argp_child ch[] = { { &vb_common_argp, 0, "Common options:", 0 }, { 0 } };
	static const struct argp a = { o, parse_one, 0, "test", ch, 0, 0 };

	vb_cli_init(opt_argc, opt_argv);
	argp_parse(&a, opt_argc, opt_argv, 0, 0, 0);
	printf("verbose=%d quiet=%d seed=%llu threads=%d\n", vb_opt.verbose, vb_opt.quiet,
	       (unsigned long long)vb_opt.seed, vb_opt.threads);
	exit(vb_close_stdout(0));
}

/* Parse the given options in a child; status, stderr, and stdout in out. */
static int parse(char *out, size_t osize, char *err, size_t esize, ...)
{
	va_list ap;
	char *a, path[] = "/tmp/test-err-cli.XXXXXX";
	int fd = mkstemp(path), st;
	ssize_t n;

	opt_argc = 0;
	opt_argv[opt_argc++] = "prog";
	va_start(ap, esize);
	while ((a = va_arg(ap, char *)) && opt_argc < 7)
		opt_argv[opt_argc++] = a;
	va_end(ap);
	opt_argv[opt_argc] = NULL;
	st = child(do_parse, path, err, esize);
	n = pread(fd, out, osize - 1, 0);
	out[n > 0 ? n : 0] = 0;
	close(fd);
	unlink(path);
	return st;
}

static void test_cli(void)
{
	char err[4096], out[4096];

	vb_progname = "prog";
	is_int(child(do_fatal, NULL, err, sizeof err), 2, "vb_fatal exits with the status given");
	is_str(err, "prog: broken 'x'\n", "vb_fatal: 'prog: message' on stderr");
	vb_opt.verbose = 0;
	vb_opt.quiet = 0;
	is_int(child(do_warn, NULL, err, sizeof err), 0, "vb_warn returns");
	is_str(err, "prog: careful\n", "vb_warn prints, vb_info stays silent without -v");
	child(do_info, NULL, err, sizeof err);
	is_str(err, "prog: shown\n", "vb_info prints with -v");
	is_int(child(do_open_missing, NULL, err, sizeof err), 2, "vb_open_in on a missing file exits 2");
	is_str(err, "prog: cannot open '/nonexistent/file': No such file or directory\n", "vb_open_in: message");
	is_int(child(do_open_out_bad, NULL, err, sizeof err), 2, "vb_open_out in a missing directory exits 2");
	is_str(err, "prog: cannot open '/nonexistent/dir/file' for writing: No such file or directory\n",
	       "vb_open_out: message");
	is_int(child(do_full, "/dev/full", err, sizeof err), 2, "vb_close_stdout on /dev/full returns 2");
	ok(!strncmp(err, "prog: write error", 17), "vb_close_stdout: write error reported (%.*s)", (int)strcspn(err, "\n"), err);
	is_int(child(do_small_full, "/dev/full", err, sizeof err), 2, "small output to /dev/full: 2 at close");
	is_str(err, "prog: write error: No space left on device\n", "small output to /dev/full: the reason");
	is_int(child(do_ok_close, NULL, err, sizeof err), 1, "vb_close_stdout passes the status through");
	is_str(err, "", "vb_close_stdout: silent when all is well");
	is_int(child(do_close_file_full, NULL, err, sizeof err), 2, "vb_close on a full file fails");
	ok(strstr(err, "write error on '/dev/full'") != NULL, "vb_close: names the file (%.*s)", (int)strcspn(err, "\n"), err);

	is_int(parse(out, sizeof out, err, sizeof err, "-n", "5", "-x", "0.25", NULL), 0, "options parse");
	ok(strstr(out, "n=5\nx=0.25\n") != NULL, "vb_arg_long and vb_arg_double values");
	ok(strstr(out, "verbose=0 quiet=0 seed=42 threads=") != NULL, "common defaults: seed 42");
	parse(out, sizeof out, err, sizeof err, "-v", "-v", "--seed", "7", "--threads", "3", NULL);
	ok(strstr(out, "verbose=2 quiet=0 seed=7 threads=3") != NULL, "-v -v --seed 7 --threads 3");
	parse(out, sizeof out, err, sizeof err, "-v", "-q", NULL);
	ok(strstr(out, "verbose=0 quiet=1") != NULL, "-q after -v wins");
	is_int(parse(out, sizeof out, err, sizeof err, "-n", "11", NULL), 64, "out of range: exit 64");
	ok(strstr(err, "prog: invalid --num '11': must be between 1 and 10") != NULL, "out of range: message");
	is_int(parse(out, sizeof out, err, sizeof err, "-n", "5x", NULL), 64, "not an integer: exit 64");
	ok(strstr(err, "invalid --num '5x': expected an integer") != NULL, "not an integer: message");
	is_int(parse(out, sizeof out, err, sizeof err, "-x", "nan", NULL), 64, "NaN real: exit 64");
	is_int(parse(out, sizeof out, err, sizeof err, "-x", "", NULL), 64, "empty real: exit 64");
	is_int(parse(out, sizeof out, err, sizeof err, "--seed", "-1", NULL), 64, "negative seed: exit 64");
	is_int(parse(out, sizeof out, err, sizeof err, "--seed", "99999999999999999999999", NULL), 64,
	       "overflowing seed: exit 64");
	is_int(parse(out, sizeof out, err, sizeof err, "--threads", "0", NULL), 64, "--threads 0: exit 64");
	is_int(parse(out, sizeof out, err, sizeof err, "--bogus", NULL), 64, "unknown option: exit 64");
	is_int(parse(out, sizeof out, err, sizeof err, "--help", NULL), 0, "--help exits 0");
	ok(strstr(out, "default: 42") != NULL && strstr(out, "--threads") != NULL, "--help shows the common options");
	is_int(parse(out, sizeof out, err, sizeof err, "--version", NULL), 0, "--version exits 0");
	ok(!strncmp(out, "prog (vibify) ", 14), "--version: 'prog (vibify) VERSION'");
}

/* Shipped files are looked up next to the program first (this test runs
 * from build/<kind>/unit/, so ../libvibify.a is there), then under the
 * configured data directory. */
static void test_data_path(void)
{
	char want[PATH_MAX + 64], exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	const char *p;

	exe[n > 0 ? n : 0] = 0;
	*strrchr(exe, '/') = 0;
	snprintf(want, sizeof want, "%s/../libvibify.a", exe);
	is_str(vb_data_path("libvibify.a"), want, "data path: next to the program's directory");
	p = vb_data_path("no/such/file");
	is_str(p, VB_DATADIR "/no/such/file", "data path: else under the data directory");
}

int main(void)
{
	test_err();
	test_cli();
	test_data_path();
	return tap_done();
}
