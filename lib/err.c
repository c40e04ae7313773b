/* err.c - the per-thread error message of library calls. */
#include "err.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char msg[VB_ERR_MAX];

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
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	n = strlen(msg);
	snprintf(msg + n, sizeof msg - n, ": %s", strerror(e));
	return -1;
}

int vb_err_prefix(const char *fmt, ...)
{
	char old[VB_ERR_MAX];
	size_t n;
	va_list ap;

	memcpy(old, msg, sizeof old);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	n = strlen(msg);
	snprintf(msg + n, sizeof msg - n, ": %s", old);
	return -1;
}

const char *vb_err_msg(void)
{
	return msg;
}
