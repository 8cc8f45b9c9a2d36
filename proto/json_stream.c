// SPDX-License-Identifier: GPL-2.0-or-later
#include "json_stream.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct json_stream {
	size_t max_size;
	char *line; /* max_size + 1 bytes: room for the NUL the tokener wants */
	size_t len;
	bool discarding; /* inside an oversized line, dropping bytes until its '\n' */
};

int json_stream_new(size_t max_size, json_stream **ret)
{
	json_stream *s;

	if (max_size == 0)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->line = malloc(max_size + 1);
	if (!s->line) {
		free(s);
		return -ENOMEM;
	}
	s->max_size = max_size;
	*ret = s;
	return 0;
}

json_stream *json_stream_free(json_stream *s)
{
	if (s) {
		free(s->line);
		free(s);
	}
	return NULL;
}

void json_stream_reset(json_stream *s)
{
	s->len = 0;
	s->discarding = false;
}

static bool is_blank(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!strchr(" \t\r", p[i]))
			return false;
	return true;
}

static int json_stream_end_line(json_stream *s, json_stream_handler handler, void *userdata)
{
	struct json_tokener *tok;
	json_object *msg;
	size_t len = s->len;
	int r;

	s->len = 0;
	if (is_blank(s->line, len))
		return 0;

	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	msg = json_tokener_parse_ex(tok, s->line, (int)len);
	/* One complete value and nothing but blanks after it, or the line is rejected whole. */
	if (!msg || json_tokener_get_error(tok) != json_tokener_success ||
	    !is_blank(s->line + json_tokener_get_parse_end(tok), len - json_tokener_get_parse_end(tok))) {
		json_object_put(msg);
		json_tokener_free(tok);
		return handler(userdata, JSON_STREAM_BAD_JSON, NULL);
	}
	json_tokener_free(tok);

	r = handler(userdata, JSON_STREAM_MESSAGE, msg);
	return r < 0 ? r : 0;
}

int json_stream_feed(json_stream *s, const void *buf, size_t len, json_stream_handler handler,
		     void *userdata)
{
	const unsigned char *p = buf;
	int r;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = p[i];

		if (c == JSON_STREAM_SYNC_BYTE) {
			json_stream_reset(s);
			r = handler(userdata, JSON_STREAM_RESYNC, NULL);
		} else if (c == '\n') {
			if (s->discarding) {
				s->discarding = false;
				continue;
			}
			r = json_stream_end_line(s, handler, userdata);
		} else if (s->discarding) {
			continue;
		} else if (s->len == s->max_size) {
			s->len = 0;
			s->discarding = true;
			r = handler(userdata, JSON_STREAM_TOO_BIG, NULL);
		} else {
			s->line[s->len++] = (char)c;
			continue;
		}
		if (r < 0)
			return r;
	}
	return 0;
}

int json_stream_format(json_object *msg, size_t max_size, char **ret, size_t *ret_len)
{
	size_t len;
	const char *text = json_object_to_json_string_length(
		msg, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	char *out;

	if (!text)
		return -ENOMEM;
	if (len > max_size)
		return -EMSGSIZE;
	out = malloc(len + 2);
	if (!out)
		return -ENOMEM;
	memcpy(out, text, len);
	out[len] = '\n';
	out[len + 1] = '\0';
	*ret = out;
	*ret_len = len + 1;
	return 0;
}
