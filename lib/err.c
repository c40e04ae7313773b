/* err.c - the per-thread error message of library calls. */
#include "err.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char msg[VB_ERR_MAX];

/* Append ": " and tail to msg, truncating to fit. */
static void append(const char *tail)
{
	size_t n = strlen(msg), k = strlen(tail);

	if (n + 3 > sizeof msg)
		return;
	memcpy(msg + n, ": ", 2);
	n += 2;
	if (k > sizeof msg - 1 - n)
		k = sizeof msg - 1 - n;
	memcpy(msg + n, tail, k);
	msg[n + k] = 0;
}

int vb_err_set(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return -1;
}

int vb_err_sys(const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	append(strerror(e));
	return -1;
}

int vb_err_prefix(const char *fmt, ...)
{
	char old[VB_ERR_MAX];
	va_list ap;

	memcpy(old, msg, sizeof old);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	append(old);
	return -1;
}

const char *vb_err_msg(void)
{
	return msg;
}
