// SPDX-License-Identifier: GPL-2.0-or-later
#include "transport/owned_write.h"

#include <errno.h>
#include <stdlib.h>

typedef struct owned_write_req {
	uv_write_t req;
	char *buf;
	owned_write_error_fn on_error;
	void *userdata;
} owned_write_req;

static void owned_write_done(uv_write_t *req, int status)
{
	owned_write_req w = *(owned_write_req *)req;

	/* Freed before on_error runs: it may close the stream, or free what owns it. */
	free(w.buf);
	free(req);
	if (status < 0 && status != UV_ECANCELED && w.on_error)
		w.on_error(status, w.userdata);
}

int owned_write(uv_stream_t *stream, char *buf, size_t len, owned_write_error_fn on_error,
		void *userdata)
{
	uv_buf_t b = uv_buf_init(buf, (unsigned)len);
	owned_write_req *w = calloc(1, sizeof(*w));
	int r;

	if (!w) {
		free(buf);
		return -ENOMEM;
	}
	*w = (owned_write_req){ .buf = buf, .on_error = on_error, .userdata = userdata };
	r = uv_write(&w->req, stream, &b, 1, owned_write_done);
	if (r < 0) {
		free(buf);
		free(w);
	}
	return r;
}
