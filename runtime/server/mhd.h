/*
 * mhd.h - libmicrohttpd, loaded when a server is created (see
 * core/dynlib.h for why). The server's files call MHD_* as usual; the
 * definitions below route those calls through the table.
 */
#ifndef AIMS_SERVER_MHD_H
#define AIMS_SERVER_MHD_H

#include <microhttpd.h>

#include "aims/core.h"
#include "core/dynlib.h"

typedef struct mhd_api {
	AIMS_DYNFN(MHD_start_daemon, start_daemon);
	AIMS_DYNFN(MHD_stop_daemon, stop_daemon);
	AIMS_DYNFN(MHD_quiesce_daemon, quiesce_daemon);
	AIMS_DYNFN(MHD_get_daemon_info, get_daemon_info);
	AIMS_DYNFN(MHD_get_connection_info, get_connection_info);
	AIMS_DYNFN(MHD_lookup_connection_value, lookup_connection_value);
	AIMS_DYNFN(MHD_get_connection_values, get_connection_values);
	AIMS_DYNFN(MHD_create_response_from_buffer, create_response_from_buffer);
	AIMS_DYNFN(MHD_add_response_header, add_response_header);
	AIMS_DYNFN(MHD_queue_response, queue_response);
	AIMS_DYNFN(MHD_destroy_response, destroy_response);
} mhd_api;

extern mhd_api mhd;

/* Loads libmicrohttpd once. Returns 0, or AIMS_EUNSUPPORTED with a
 * message when it cannot be loaded. */
int mhd_load(aims_error *err);

#define MHD_start_daemon		(*mhd.start_daemon)
#define MHD_stop_daemon			(*mhd.stop_daemon)
#define MHD_quiesce_daemon		(*mhd.quiesce_daemon)
#define MHD_get_daemon_info		(*mhd.get_daemon_info)
#define MHD_get_connection_info		(*mhd.get_connection_info)
#define MHD_lookup_connection_value	(*mhd.lookup_connection_value)
#define MHD_get_connection_values	(*mhd.get_connection_values)
#define MHD_create_response_from_buffer (*mhd.create_response_from_buffer)
#define MHD_add_response_header		(*mhd.add_response_header)
#define MHD_queue_response		(*mhd.queue_response)
#define MHD_destroy_response		(*mhd.destroy_response)

#endif
