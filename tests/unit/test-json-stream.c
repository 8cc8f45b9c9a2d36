// SPDX-License-Identifier: GPL-2.0-or-later
#include "json_stream.h"

#include <errno.h>

#include "test.h"

struct seen {
	int messages, resyncs, too_big, bad_json;
	char last[256];
};

static int record(void *userdata, json_stream_event event, json_object *msg)
{
	struct seen *s = userdata;

	switch (event) {
	case JSON_STREAM_MESSAGE:
		s->messages++;
		snprintf(s->last, sizeof(s->last), "%s",
			 json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN));
		json_object_put(msg);
		break;
	case JSON_STREAM_RESYNC:
		s->resyncs++;
		break;
	case JSON_STREAM_TOO_BIG:
		s->too_big++;
		break;
	case JSON_STREAM_BAD_JSON:
		s->bad_json++;
		break;
	}
	return 0;
}

static int stop_at_first(void *userdata, json_stream_event event, json_object *msg)
{
	json_object_put(msg);
	return -ECANCELED;
}

TEST(split_across_reads)
{
	json_stream *js;
	struct seen s = {0};
	const char *text = "{\"id\":1,\"cmd\":\"bond-status\"}\n";

	ASSERT_OK(json_stream_new(64, &js));
	/* One byte at a time: a message may arrive in any number of pieces. */
	for (size_t i = 0; text[i]; i++)
		ASSERT_OK(json_stream_feed(js, text + i, 1, record, &s));
	ASSERT_EQ(s.messages, 1);
	ASSERT_STREQ(s.last, "{\"id\":1,\"cmd\":\"bond-status\"}");
	json_stream_free(js);
}

TEST(several_in_one_read_and_crlf)
{
	json_stream *js;
	struct seen s = {0};
	const char *text = "{\"a\":1}\r\n\n  \n{\"b\":2}\r\n[3]\n";

	ASSERT_OK(json_stream_new(64, &js));
	ASSERT_OK(json_stream_feed(js, text, strlen(text), record, &s));
	ASSERT_EQ(s.messages, 3);
	ASSERT_STREQ(s.last, "[3]");
	ASSERT_EQ(s.bad_json, 0);
	json_stream_free(js);
}

TEST(garbage_is_reported_and_stream_goes_on)
{
	json_stream *js;
	struct seen s = {0};
	const char *text = "not json\n{\"a\":1} trailing\n{\"a\":\n{\"ok\":true}\n";

	ASSERT_OK(json_stream_new(64, &js));
	ASSERT_OK(json_stream_feed(js, text, strlen(text), record, &s));
	ASSERT_EQ(s.bad_json, 3);
	ASSERT_EQ(s.messages, 1);
	ASSERT_STREQ(s.last, "{\"ok\":true}");
	json_stream_free(js);
}

TEST(oversized_line_dropped_once)
{
	json_stream *js;
	struct seen s = {0};
	char big[200];

	memset(big, 'x', sizeof(big));
	ASSERT_OK(json_stream_new(16, &js));
	ASSERT_OK(json_stream_feed(js, big, sizeof(big), record, &s));
	ASSERT_OK(json_stream_feed(js, big, sizeof(big), record, &s));
	ASSERT_OK(json_stream_feed(js, "\n{\"n\":1}\n", 9, record, &s));
	ASSERT_EQ(s.too_big, 1);
	ASSERT_EQ(s.messages, 1);
	/* Exactly max_size bytes still fits. */
	ASSERT_OK(json_stream_feed(js, "{\"n\":1234567890}\n", 17, record, &s));
	ASSERT_EQ(s.messages, 2);
	json_stream_free(js);
}

TEST(sync_byte_drops_partial_line)
{
	json_stream *js;
	struct seen s = {0};
	const char text[] = "{\"half\":\xff{\"id\":7}\n";

	ASSERT_OK(json_stream_new(64, &js));
	ASSERT_OK(json_stream_feed(js, text, sizeof(text) - 1, record, &s));
	ASSERT_EQ(s.resyncs, 1);
	ASSERT_EQ(s.messages, 1);
	ASSERT_STREQ(s.last, "{\"id\":7}");
	json_stream_free(js);
}

TEST(handler_can_stop_feeding)
{
	json_stream *js;
	const char *text = "{}\n{}\n";

	ASSERT_OK(json_stream_new(64, &js));
	ASSERT_ERRNO(json_stream_feed(js, text, strlen(text), stop_at_first, NULL), ECANCELED);
	json_stream_free(js);
}

TEST(format_roundtrip_and_cap)
{
	json_object *o = json_object_new_object();
	char *out;
	size_t len;

	json_object_object_add(o, "s", json_object_new_string("line\nbreak/slash"));
	ASSERT_OK(json_stream_format(o, 1024, &out, &len));
	ASSERT_STREQ(out, "{\"s\":\"line\\nbreak/slash\"}\n");
	ASSERT_EQ(len, strlen(out));
	free(out);
	ASSERT_ERRNO(json_stream_format(o, 8, &out, &len), EMSGSIZE);
	json_object_put(o);
}

int main(void)
{
	RUN_TEST(split_across_reads);
	RUN_TEST(several_in_one_read_and_crlf);
	RUN_TEST(garbage_is_reported_and_stream_goes_on);
	RUN_TEST(oversized_line_dropped_once);
	RUN_TEST(sync_byte_drops_partial_line);
	RUN_TEST(handler_can_stop_feeding);
	RUN_TEST(format_roundtrip_and_cap);
	return 0;
}
