/*
 * error.c - the aims_error carrier and static descriptions of error codes.
 */
#include <stdio.h>
#include <string.h>

#include "aims/core.h"

void aims_error_clear(aims_error *err)
{
	if (!err)
		return;
	err->code = 0;
	err->message[0] = '\0';
}

int aims_error_vset(aims_error *err, int code, const char *fmt, va_list ap)
{
	if (!err || err->code != 0)
		return code;
	err->code = code;
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	return code;
}

int aims_error_set(aims_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	aims_error_vset(err, code, fmt, ap);
	va_end(ap);
	return code;
}

const char *aims_strerror(int code)
{
	switch (code) {
	case AIMS_OK: return "success";
	case AIMS_ENOMEM: return "out of memory";
	case AIMS_EINVALID: return "invalid input";
	case AIMS_ENOTFOUND: return "not found";
	case AIMS_ETOOBIG: return "size limit exceeded";
	case AIMS_ETIMEOUT: return "time limit exceeded";
	case AIMS_EAUTH: return "authentication failed";
	case AIMS_ESANDBOX: return "sandbox failure";
	case AIMS_EIO: return "input/output error";
	case AIMS_EUNSUPPORTED: return "not supported on this machine";
	case AIMS_ECONFLICT: return "conflict";
	case AIMS_EUPSTREAM: return "upstream service failed";
	case AIMS_EBUSY: return "busy, retry later";
	case AIMS_ECANCELED: return "canceled";
	case AIMS_ENOTREADY: return "requirements not met";
	case AIMS_EINSTALL: return "package install failed";
	}
	return "unknown error";
}

const char *aims_version(void)
{
	return AIMS_VERSION;
}
