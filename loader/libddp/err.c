// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * err.c - the library's error messages: every part records why a call
 * failed here, for ddp_errmsg().
 */
#include <stdarg.h>
#include <stdio.h>
#include "libddp_priv.h"

/* why the last instance-less call of this thread failed */
static __thread char ddp_err0_msg[DDP_MSG_LEN];

int ddp_err(struct ddp_dev *d, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d ? d->err : ddp_err0_msg, sizeof(ddp_err0_msg), fmt, ap);
	va_end(ap);
	return err < 0 ? err : -err;
}

int ddp_err0(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ddp_err0_msg, sizeof(ddp_err0_msg), fmt, ap);
	va_end(ap);
	return err < 0 ? err : -err;
}

const char *ddp_errmsg(const struct ddp_dev *d)
{
	return d ? d->err : ddp_err0_msg;
}
