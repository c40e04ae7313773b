/* test-feedback.c - lib/feedback: line format, times, torn and malformed
 * lines, the default path, and concurrent writers killed mid-way.
 *
 * Usage: test-feedback [DIR]   (scratch directory; default $TMPDIR or /tmp)
 */
#include "err.h"
#include "feedback.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define NWRITERS 8
#define NEVENTS 10000

static char dir[4096];

static void path_in(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", dir, name);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f)) {
		perror(path);
		exit(2);
	}
}

static void test_format(void)
{
	char buf[600];
	int n;
	struct vb_fb_log *log;

	n = vb_fb_format(buf, sizeof buf, 0, "t1", VB_FB_LIKE, "sad");
	is_str(buf, "1970-01-01T00:00:00.000Z\tt1\tlike\tsad\n", "epoch formats as 1970-01-01");
	is_int(n, (long long)strlen(buf), "length returned");
	/* 2000-02-29 (a leap day of a century leap year) 12:34:56.789 UTC */
	vb_fb_format(buf, sizeof buf, 951827696789LL, "x", VB_FB_SKIP, NULL);
	is_str(buf, "2000-02-29T12:34:56.789Z\tx\tskip\tnone\n", "leap day, default emotion none");
	vb_fb_format(buf, sizeof buf, 1795846571123LL, "6f807x0ima9a1j3VPbc7VN", VB_FB_DISLIKE, "happy");
	is_str(buf, "2026-11-28T06:16:11.123Z\t6f807x0ima9a1j3VPbc7VN\tdislike\thappy\n", "a 2026 time");

	log = vb_fb_parse(buf, strlen(buf));
	ok(log && log->n == 1, "a formatted line parses back");
	if (log && log->n == 1) {
		is_int(log->ev[0].time_ms, 1795846571123LL, "time round trip");
		is_str(log->tracks[log->ev[0].track], "6f807x0ima9a1j3VPbc7VN", "track round trip");
		is_str(log->emotions[log->ev[0].emotion], "happy", "emotion round trip");
		is_int(log->ev[0].kind, VB_FB_DISLIKE, "kind round trip");
	}
	vb_fb_log_free(log);

	ok(vb_fb_format(buf, sizeof buf, 0, "a\tb", VB_FB_LIKE, "sad") < 0, "tab in track id rejected");
	is_str(vb_err_msg(), "track id 'a\tb' holds a control character", "its message");
	ok(vb_fb_format(buf, sizeof buf, 0, "", VB_FB_LIKE, "sad") < 0, "empty track id rejected");
	ok(vb_fb_format(buf, sizeof buf, 0, "a", VB_FB_LIKE, "s\nad") < 0, "newline in emotion rejected");
	ok(vb_fb_format(buf, sizeof buf, 0, "a", 9, "sad") < 0, "unknown kind rejected");
	is_int(vb_fb_kind_parse("dislike"), VB_FB_DISLIKE, "kind names parse");
	is_int(vb_fb_kind_parse("love"), -1, "unknown kind name");
}

static void test_parse(void)
{
	const char *text =
		"# a comment\n"
		"2026-01-02T03:04:05Z\ta\tplay\tsad\n"        /* no fraction */
		"\n"
		"2026-01-02T03:04:05.5Z\tb\tlike\tsad\r\n"    /* CRLF, 1 digit */
		"2026-13-02T03:04:05Z\tc\tlike\tsad\n"        /* bad month */
		"2026-01-02T03:04:05Z\tc\tlove\tsad\n"        /* bad kind */
		"2026-01-02T03:04:05Z\tc\tlike\n"             /* 3 fields */
		"2026-01-02T03:04:05Z\tc\tlike\tsad\tx\n"     /* 5 fields */
		"2026-01-02T03:04:05Z\ta\tskip\thappy\n"
		"2026-01-02T03:04:05Z\tz\tli";                /* torn */
	struct vb_fb_log *log = vb_fb_parse(text, strlen(text));

	ok(log != NULL, "parse a mixed log");
	if (!log)
		return;
	is_int((long long)log->n, 3, "three good events");
	is_int(log->bad, 4, "four malformed lines counted");
	is_int(log->first_bad_line, 5, "first malformed line number");
	is_int(log->torn, 1, "torn last line flagged");
	is_int(log->torn_line, 10, "torn line number");
	is_int((long long)log->ntracks, 2, "tracks interned (a, b)");
	is_int((long long)log->nemotions, 2, "emotions interned (sad, happy)");
	is_int(log->ev[1].time_ms - log->ev[0].time_ms, 500, "fraction .5 is 500 ms");
	is_int(log->ev[2].track, log->ev[0].track, "same track, same index");
	vb_fb_log_free(log);

	log = vb_fb_parse("", 0);
	ok(log && log->n == 0 && !log->torn && !log->bad, "empty log");
	vb_fb_log_free(log);
}

static void test_files(void)
{
	char path[4200], sub[4200];
	struct vb_fb_writer *w;
	struct vb_fb_log *log;
	char *p;

	path_in(path, sizeof path, "torn.log");
	unlink(path);
	write_file(path, "2026-01-02T03:04:05.000Z\ta\tlike\tsad\n2026-01-02T03:04:05.000Z\tb\tli");
	w = vb_fb_open(path);
	ok(w != NULL, "open an existing log for appending");
	ok(w && vb_fb_append(w, 1000, "c", VB_FB_SKIP, "happy") == 0, "append after a torn line");
	ok(vb_fb_close(w) == 0, "close the writer");
	log = vb_fb_read(path);
	ok(log && log->n == 2 && log->bad == 1 && !log->torn,
	   "the torn fragment became one malformed line; the new event is whole");
	if (log && log->n == 2)
		is_str(log->tracks[log->ev[1].track], "c", "the appended event reads back");
	vb_fb_log_free(log);

	path_in(path, sizeof path, "missing.log");
	unlink(path);
	log = vb_fb_read(path);
	ok(log && log->missing && log->n == 0, "a missing log reads as empty");
	vb_fb_log_free(log);

	path_in(path, sizeof path, "no/such/dir/x.log");
	ok(vb_fb_open(path) == NULL, "open in a missing directory fails");
	ok(strstr(vb_err_msg(), "No such file or directory") != NULL, "with the system's reason");

	path_in(sub, sizeof sub, "a/b/c/feedback.log");
	ok(vb_fb_mkdir_parent(sub) == 0, "mkdir -p of the parent");
	path_in(path, sizeof path, "a/b/c");
	{
		struct stat st;
		ok(stat(path, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700,
		   "parent created with mode 0700");
	}
	ok(vb_fb_mkdir_parent(sub) == 0, "mkdir -p again is fine");

	setenv("XDG_DATA_HOME", "/x/data", 1);
	p = vb_fb_default_path();
	is_str(p, "/x/data/vibify/feedback.log", "XDG_DATA_HOME is used");
	free(p);
	setenv("XDG_DATA_HOME", "relative", 1);
	setenv("HOME", "/home/u", 1);
	p = vb_fb_default_path();
	is_str(p, "/home/u/.local/share/vibify/feedback.log", "a relative XDG_DATA_HOME is ignored");
	free(p);
	unsetenv("XDG_DATA_HOME");
	p = vb_fb_default_path();
	is_str(p, "/home/u/.local/share/vibify/feedback.log", "unset XDG_DATA_HOME: ~/.local/share");
	free(p);
	unsetenv("HOME");
	ok(vb_fb_default_path() == NULL, "no HOME, no default");
}

/* Writer w appends NEVENTS events "wW-SEQ" and reports each one that
 * vb_fb_append returned 0 for as one byte (its id) on the pipe. */
static void writer(const char *path, int w, int fd)
{
	struct vb_fb_writer *fw = vb_fb_open(path);
	char track[32];
	unsigned char id = (unsigned char)w;

	if (!fw)
		_exit(3);
	for (int i = 0; i < NEVENTS; i++) {
		snprintf(track, sizeof track, "w%d-%d", w, i);
		if (vb_fb_append(fw, 1795846571000LL + i, track, i % VB_FB_NKIND, "neutral"))
			_exit(4);
		if (write(fd, &id, 1) != 1)
			_exit(5);
	}
	vb_fb_close(fw);
	_exit(0);
}

static void test_concurrent(void)
{
	/* Writers 1, 4 and 6 are killed after reporting these many events. */
	static const long kill_at[NWRITERS] = { 0, 1500, 0, 0, 4000, 0, 7000, 0 };
	char path[4200];
	pid_t pid[NWRITERS];
	long reported[NWRITERS] = { 0 }, seen[NWRITERS] = { 0 }, order_bad = 0, foreign = 0;
	int pfd[2], status, clean = 1;
	unsigned char buf[4096];
	ssize_t k;
	struct vb_fb_log *log;

	path_in(path, sizeof path, "concurrent.log");
	unlink(path);
	if (pipe(pfd)) {
		perror("pipe");
		exit(2);
	}
	for (int w = 0; w < NWRITERS; w++) {
		pid[w] = fork();
		if (pid[w] < 0) {
			perror("fork");
			exit(2);
		}
		if (pid[w] == 0) {
			close(pfd[0]);
			writer(path, w, pfd[1]);
		}
	}
	close(pfd[1]);
	while ((k = read(pfd[0], buf, sizeof buf)) != 0) {
		if (k < 0) {
			if (errno == EINTR)
				continue;
			perror("read");
			exit(2);
		}
		for (ssize_t i = 0; i < k; i++) {
			int w = buf[i];
			if (++reported[w] == kill_at[w])
				kill(pid[w], SIGKILL);
		}
	}
	close(pfd[0]);
	for (int w = 0; w < NWRITERS; w++) {
		waitpid(pid[w], &status, 0);
		if (kill_at[w])
			ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL &&
			   reported[w] >= kill_at[w] && reported[w] < NEVENTS,
			   "writer %d killed mid-way (%ld events reported)", w, reported[w]);
		else
			clean &= WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
				 reported[w] == NEVENTS;
	}
	ok(clean, "the other writers finished all %d events", NEVENTS);

	log = vb_fb_read(path);
	ok(log != NULL, "read the concurrent log back");
	if (!log)
		return;
	for (size_t i = 0; i < log->n; i++) {
		int w, seq, used = 0;
		const char *t = log->tracks[log->ev[i].track];
		if (sscanf(t, "w%d-%d%n", &w, &seq, &used) != 2 || t[used] || w < 0 ||
		    w >= NWRITERS) {
			foreign++;
			continue;
		}
		/* each writer's events appear in its own order, none lost or doubled */
		if (seq != seen[w] || log->ev[i].kind != seq % VB_FB_NKIND ||
		    log->ev[i].time_ms != 1795846571000LL + seq)
			order_bad++;
		seen[w]++;
	}
	is_int(foreign, 0, "no foreign or corrupt track ids");
	is_int(order_bad, 0, "every writer's events in order, none lost or doubled");
	/* A SIGKILL can only tear a line that straddles a page boundary and
	 * only for a killed writer; such a fragment is set apart as one
	 * malformed line (or the torn last line). */
	ok(log->bad + log->torn <= 3, "at most one torn line per killed writer (%ld malformed, %ld torn)",
	   log->bad, log->torn);
	for (int w = 0; w < NWRITERS; w++)
		ok(seen[w] == reported[w] || (kill_at[w] && seen[w] == reported[w] + 1),
		   "writer %d: every reported event is in the log (%ld reported, %ld read)",
		   w, reported[w], seen[w]);
	vb_fb_log_free(log);
}

int main(int argc, char **argv)
{
	const char *d = argc > 1 ? argv[1] : getenv("TMPDIR");

	snprintf(dir, sizeof dir, "%s/vbfb.%ld", d && *d ? d : "/tmp", (long)getpid());
	if (mkdir(dir, 0700)) {
		perror(dir);
		return 2;
	}
	test_format();
	test_parse();
	test_files();
	test_concurrent();
	{
		char cmd[4300];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", dir);
	}
	return tap_done();
}
