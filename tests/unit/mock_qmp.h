/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A scripted QMP server for tests, in the spirit of libvirt's tests/qemumonitortestutils: the test
 * writes the conversation as a list of steps, the mock plays them in order on the test's own libuv
 * loop, and fails the test (abort(), as tests/unit/test.h does) the moment the client sends
 * something the script did not expect: bad JSON, a command without "id", the wrong command or
 * arguments, a command after the end of the script.
 *
 *     mock_qmp_new(loop, &m, &fd);
 *     mock_qmp_handshake(m);
 *     mock_qmp_expect(m, "device_del", "{\"id\":\"vf0\"}");
 *     mock_qmp_reply(m, "{}");
 *     mock_qmp_event(m, "DEVICE_DELETED", "{\"device\":\"vf0\",\"path\":\"/machine/peripheral/vf0\"}");
 *     qmp_client_open_fd(loop, fd, &cbs, &ctx, &c);
 *     ... run the loop ...
 *     mock_qmp_free(m);    fails the test if steps were left unplayed
 *
 * Send steps (greeting, replies, events, raw bytes) are played as soon as they are reached; an
 * expect step waits for the next command from the client. Replies answer the oldest command that
 * was expected and not yet answered (QEMU answers in order), echoing its id. Steps may be added
 * at any time, also from inside client callbacks; playing starts once the loop runs.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

typedef struct mock_qmp mock_qmp;

/* A mock on one end of a socketpair; *ret_fd is the other end, for qmp_client_open_fd(). */
int mock_qmp_new(uv_loop_t *loop, mock_qmp **ret, int *ret_fd);
/* A mock listening on a Unix socket at path (for qmp_client_connect()); serves one connection. */
int mock_qmp_new_listen(uv_loop_t *loop, const char *path, mock_qmp **ret);
/*
 * Fails the test if steps remain unplayed or commands arrived that no step consumed. Closes the
 * mock's handles: run the loop afterwards to let them go.
 */
void mock_qmp_free(mock_qmp *m);

/* QEMU 7.2.0's greeting, as `-qmp` sends it. */
void mock_qmp_greet(mock_qmp *m);
/* The greeting, then expect `qmp_capabilities` and answer {}. */
void mock_qmp_handshake(mock_qmp *m);
/*
 * Wait for a command named command. args_json NULL: its arguments are not checked; otherwise
 * they must equal this JSON object (missing "arguments" counts as {}).
 */
void mock_qmp_expect(mock_qmp *m, const char *command, const char *args_json);
/* Answer {"return": RETURN_JSON, "id": ...}. */
void mock_qmp_reply(mock_qmp *m, const char *return_json);
/* Answer {"error": {"class": CLASS, "desc": DESC}, "id": ...}. */
void mock_qmp_reply_error(mock_qmp *m, const char *error_class, const char *desc);
/* Answer with any JSON object; the command's "id" is added to it. For malformed replies. */
void mock_qmp_reply_json(mock_qmp *m, const char *object_json);
/* Send an event with a timestamp; data_json NULL for none. */
void mock_qmp_event(mock_qmp *m, const char *name, const char *data_json);
/* Send bytes exactly as given (no newline added): garbage, 0xFF, partial or huge lines. */
void mock_qmp_send_bytes(mock_qmp *m, const void *bytes, size_t len);
void mock_qmp_send(mock_qmp *m, const char *text);
/* Pause the script; commands arriving meanwhile wait for the next expect step. */
void mock_qmp_delay(mock_qmp *m, uint64_t ms);
/* Close the connection, as a QEMU that dies does (after what was sent before has gone out). */
void mock_qmp_hangup(mock_qmp *m);

/*
 * Not a step: from now on answer every command named command that the script is not expecting
 * right now with {"return": RETURN_JSON}, e.g. for `query-migrate` polled on a timer. Calling it
 * again for the same command replaces the answer.
 */
void mock_qmp_respond_always(mock_qmp *m, const char *command, const char *return_json);

/*
 * Not a step: cut everything sent from now on into pieces of at most n bytes, one piece per loop
 * iteration, so that the client reads them one at a time. 0 (the default) sends whole steps.
 */
void mock_qmp_set_write_chunk(mock_qmp *m, size_t n);

/* Every step played. */
bool mock_qmp_done(const mock_qmp *m);
/* Commands received so far, including qmp_capabilities and those answered by respond_always. */
unsigned mock_qmp_commands_received(const mock_qmp *m);
/* Call cb with each command's name as it arrives, before it is answered (NULL: no more). */
void mock_qmp_on_command(mock_qmp *m, void (*cb)(const char *command, void *userdata),
			 void *userdata);

/* Run loop until *flag is true; fail the test after timeout_ms. */
void mock_qmp_run_until(uv_loop_t *loop, const bool *flag, uint64_t timeout_ms);
