// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The peer link a daemon keeps open between migrations (transport/peer_link.h): opened in the
 * background, lent to one migration at a time and given back, so a second migration makes no
 * new connection; a migration's own link becomes the kept one when there is none; a kept link
 * that closes is opened again. The peer is the scripted daemon of fake_daemon.h, reached as a
 * local peer (no SSH), on this test's loop.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "fake_daemon.h"
#include "transport/peer_link.h"
#include "test.h"

static uv_loop_t loop;
static char dir[] = "/tmp/test-peer-link.XXXXXX";
static char path[128];
static peer_config peer;
static host_config config;
static host_daemon d;

static void no_requests(fake_daemon *f, rpc_request *req, const char *cmd, json_object *args,
			void *userdata)
{
	TEST_FAIL("the kept link sent '%s': it should only say hello", cmd);
}

/* Run the loop until the kept link is open and take it (at most ~10 s). */
static peer_link *take_when_open(void)
{
	peer_link *l = NULL;

	for (int i = 0; i < 1000 && !(l = peer_link_take(&d, &peer)); i++) {
		uv_run(&loop, UV_RUN_NOWAIT);
		usleep(10000);
	}
	ASSERT_TRUE(l != NULL);
	return l;
}

static void on_opened(peer_link *l, rpc_conn *conn, int error, const char *message,
		      void *userdata)
{
	*(int *)userdata = error < 0 ? error : 1;
}

TEST(kept_lent_given_back_and_reopened)
{
	fake_daemon *f, *f2;
	peer_link *l, *own;
	int opened = 0;

	ASSERT_OK(fake_daemon_new(&loop, path, no_requests, NULL, &f));
	peer_links_keep(&d);
	l = take_when_open();
	ASSERT_TRUE(peer_link_conn(l) != NULL);
	ASSERT_STREQ(peer_link_hello(l)->host, "hostA");
	/* Lent: a second migration meanwhile finds none and opens its own. */
	ASSERT_TRUE(peer_link_take(&d, &peer) == NULL);
	peer_link_give_back(&d, &peer, l);
	ASSERT_TRUE(peer_link_take(&d, &peer) == l);
	peer_link_give_back(&d, &peer, l);
	ASSERT_EQ(fake_daemon_connections(f), 1);

	/* A migration's own link while the kept one is idle: closed at its end. */
	ASSERT_OK(peer_link_open(&d, &peer, on_opened, &opened, &own));
	for (int i = 0; i < 1000 && !opened; i++) {
		uv_run(&loop, UV_RUN_NOWAIT);
		usleep(10000);
	}
	ASSERT_EQ(opened, 1);
	ASSERT_EQ(fake_daemon_connections(f), 2);
	peer_link_give_back(&d, &peer, own);
	ASSERT_TRUE(peer_link_take(&d, &peer) == l);

	/* The kept link is lent and breaks: the migration's next link becomes the kept one. */
	peer_link_cut(l);
	opened = 0;
	ASSERT_OK(peer_link_open(&d, &peer, on_opened, &opened, &own));
	for (int i = 0; i < 1000 && !opened; i++) {
		uv_run(&loop, UV_RUN_NOWAIT);
		usleep(10000);
	}
	ASSERT_EQ(opened, 1);
	peer_link_give_back(&d, &peer, own);
	ASSERT_TRUE(peer_link_take(&d, &peer) == own);
	peer_link_give_back(&d, &peer, own);

	/* The peer daemon restarts: the idle link closes and is opened again to the new one. */
	fake_daemon_free(f);
	unlink(path);
	for (int i = 0; i < 20; i++)
		uv_run(&loop, UV_RUN_NOWAIT);
	ASSERT_OK(fake_daemon_new(&loop, path, no_requests, NULL, &f2));
	l = take_when_open();
	ASSERT_TRUE(l != own);
	ASSERT_EQ(fake_daemon_connections(f2), 1);
	peer_link_give_back(&d, &peer, l);
	fake_daemon_free(f2);
	for (int i = 0; i < 20; i++)
		uv_run(&loop, UV_RUN_NOWAIT);
}

int main(void)
{
	ASSERT_TRUE(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/peer.sock", dir);
	uv_loop_init(&loop);
	peer = (peer_config){ .name = "hostA", .address = "127.0.0.1", .peer_socket = path,
			      .local = true };
	config = (host_config){ .name = "hostB", .peers = &peer, .n_peers = 1 };
	d = (host_daemon){ .loop = &loop, .config = &config, .control.fd = -1, .peer.fd = -1 };
	RUN_TEST(kept_lent_given_back_and_reopened);
	unlink(path);
	rmdir(dir);
	return 0;
}
