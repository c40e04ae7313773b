/* err.h - error reporting for library code.
 *
 * Library functions never print and never exit.  On failure they return -1
 * (or NULL) after recording a one-line message with vb_err_set(); the caller
 * (ultimately main()) reads it with vb_err_msg() and decides what to print.
 * The message buffer is per thread.
 */
#ifndef VB_ERR_H
#define VB_ERR_H

#include <stdarg.h>

#define VB_ERR_MAX 512

/* Record a printf-style message as the current error; returns -1 so callers
 * can write `return vb_err_set(...)`. */
int vb_err_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Like vb_err_set() with ": <strerror(errno)>" appended (errno as on entry). */
int vb_err_sys(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prefix the current message with "<prefix>: ", e.g. a file name added by a
 * caller that knows it.  Returns -1. */
int vb_err_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The current message of this thread ("" if none).  Owned by the library;
 * valid until the next vb_err_* call on this thread. */
const char *vb_err_msg(void);

#endif
