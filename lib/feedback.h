/* feedback.h - the listener's append-only feedback log.
 *
 * One event per line, four fields separated by tabs, LF-terminated:
 *
 *     2026-11-28T06:16:11.123Z<TAB>TRACK<TAB>EVENT<TAB>EMOTION
 *
 * the UTC time (milliseconds optional on read), the track id, the event
 * (play, skip, like, dislike) and the emotion at that moment (an emotion
 * name, or "none").  Lines that are empty or begin with '#' are comments.
 *
 * Writers open the file with O_APPEND, take an exclusive flock(2), write the
 * whole line with one write(2) and fsync(2) it before unlocking, so that
 * concurrent writers never interleave and an event reported as appended is
 * on disk.  A writer killed mid-line (power loss, full disk) can leave a
 * torn last line; the next writer starts its event on a fresh line, and the
 * reader skips the torn fragment and counts it.
 */
#ifndef VB_FEEDBACK_H
#define VB_FEEDBACK_H

#include <stddef.h>
#include <stdint.h>

enum vb_fb_kind { VB_FB_PLAY, VB_FB_SKIP, VB_FB_LIKE, VB_FB_DISLIKE, VB_FB_NKIND };

/* "play", "skip", "like", "dislike"; NULL for an unknown kind. */
const char *vb_fb_kind_name(int kind);
/* The kind named s, or -1. */
int vb_fb_kind_parse(const char *s);

/* Longest track id or emotion name accepted (bytes). */
#define VB_FB_MAXFIELD 255

/* One event as read back.  track and emotion index the log's tables. */
struct vb_fb_event {
	int64_t time_ms;    /* milliseconds since the Unix epoch, UTC */
	uint32_t track;     /* index into vb_fb_log.tracks */
	uint16_t emotion;   /* index into vb_fb_log.emotions */
	uint8_t kind;       /* enum vb_fb_kind */
};

/* A whole log in memory, events in file order (the order of appends). */
struct vb_fb_log {
	struct vb_fb_event *ev;  /* n events */
	size_t n;
	char **tracks;           /* distinct track ids, in order of first use */
	size_t ntracks;
	char **emotions;         /* distinct emotion names, in order of first use */
	size_t nemotions;
	int missing;             /* 1 if the file did not exist (an empty log) */
	long torn;               /* 1 if the last line had no newline (skipped) */
	long torn_line;          /* its line number */
	long bad;                /* malformed complete lines skipped */
	long first_bad_line;     /* line number of the first of them */
	size_t ev_bytes;         /* internal: the size of ev's mapping */
};

/* Read the log at path.  A file that does not exist is an empty log with
 * missing = 1.  Returns a log the caller frees with vb_fb_log_free, or NULL
 * (error set) if the file cannot be read.  Holds a shared flock while
 * reading so that it sees whole appends. */
struct vb_fb_log *vb_fb_read(const char *path);
/* The same from an open descriptor (not closed; need not be seekable). */
struct vb_fb_log *vb_fb_read_fd(int fd);
/* Parse a log held in memory (len bytes). */
struct vb_fb_log *vb_fb_parse(const char *buf, size_t len);
/* Free a log; accepts NULL. */
void vb_fb_log_free(struct vb_fb_log *log);

/* A writer: an open log file. */
struct vb_fb_writer;

/* Open (creating, mode 0644) the log at path for appending.  The parent
 * directory must exist (see vb_fb_mkdir_parent).  NULL (error set) on
 * failure; free with vb_fb_close. */
struct vb_fb_writer *vb_fb_open(const char *path);
/* Append one event: validate the fields (track and emotion non-empty, at
 * most VB_FB_MAXFIELD bytes, no control characters; emotion NULL means
 * "none"), lock, write the line in one write(2), fsync, unlock.  Returns 0
 * once the event is durable, -1 (error set, nothing or a torn line
 * written) otherwise. */
int vb_fb_append(struct vb_fb_writer *w, int64_t time_ms, const char *track,
		 int kind, const char *emotion);
/* Close the writer; accepts NULL.  0 or -1 (error set). */
int vb_fb_close(struct vb_fb_writer *w);

/* Check a track id or emotion name as vb_fb_append does: 0 or -1 (error set,
 * naming `what`). */
int vb_fb_check_field(const char *what, const char *s);

/* Format one event line (with its newline) into buf of size n (at least
 * 2 * VB_FB_MAXFIELD + 48).  Returns its length, or -1 (error set). */
int vb_fb_format(char *buf, size_t n, int64_t time_ms, const char *track,
		 int kind, const char *emotion);

/* The current time in milliseconds since the epoch (CLOCK_REALTIME). */
int64_t vb_fb_now_ms(void);

/* The default log path: $XDG_DATA_HOME/vibify/feedback.log, or
 * $HOME/.local/share/vibify/feedback.log when XDG_DATA_HOME is unset, empty
 * or relative.  Returns a string the caller frees, or NULL (error set) if
 * neither variable gives a path. */
char *vb_fb_default_path(void);

/* Create the directories leading to path (like mkdir -p of its dirname,
 * new ones with mode 0700).  0 or -1 (error set). */
int vb_fb_mkdir_parent(const char *path);

#endif
