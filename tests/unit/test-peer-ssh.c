/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * peer_ssh's failures that need no sshd: bad options, an unusable identity, a refused
 * connection, a server that never speaks, one that speaks something else. Each must come back
 * with its own errno, a message naming the host, untouched outputs and no fd left open.
 * The real sshd cases are in tests/lab/test-peer-ssh.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libssh/libssh.h>

#include "transport/peer_ssh.h"
#include "test.h"

static char dir[] = "/tmp/test-peer-ssh.XXXXXX";
static char identity[64], known_hosts[64];

static int fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	ASSERT_TRUE(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* A loopback TCP socket: listening or not; returns it and its port. */
static int tcp_socket(bool listening, unsigned *ret_port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ASSERT_TRUE(fd >= 0);
	ASSERT_OK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)));
	if (listening)
		ASSERT_OK(listen(fd, 4));
	ASSERT_OK(getsockname(fd, (struct sockaddr *)&sa, &len));
	*ret_port = ntohs(sa.sin_port);
	return fd;
}

static peer_ssh_options options(unsigned port)
{
	return (peer_ssh_options){
		.host = "127.0.0.1",
		.port = port,
		.user = "nobody",
		.identity_file = identity,
		.known_hosts_file = known_hosts,
		.remote_socket = "/run/dmigrated.sock",
		.connect_timeout_ms = 300,
	};
}

/* Open must fail with -expected, leave the outputs alone, explain itself and leave fds open. */
static void expect_failure_fds(const peer_ssh_options *o, int expected, const char *must_mention,
			       int fds)
{
	peer_ssh *p = (peer_ssh *)0x1;
	char *error = NULL;
	int fd = -7, r;

	r = peer_ssh_open(o, &p, &fd, &error);
	fprintf(stderr, "   -> %s\n", error ?: "(no message)");
	ASSERT_ERRNO(r, expected);
	ASSERT_TRUE(p == (peer_ssh *)0x1);
	ASSERT_EQ(fd, -7);
	ASSERT_TRUE(error);
	ASSERT_TRUE(strstr(error, must_mention));
	free(error);
	if (fds >= 0)
		ASSERT_EQ(fd_count(), fds);
}

static void expect_failure(const peer_ssh_options *o, int expected, const char *must_mention)
{
	expect_failure_fds(o, expected, must_mention, fd_count());
}

TEST(options_missing)
{
	peer_ssh_options o = options(22);

	o.host = NULL;
	expect_failure(&o, EINVAL, "no host");
	o = options(22);
	o.identity_file = "";
	expect_failure(&o, EINVAL, "127.0.0.1");
	o = options(22);
	o.known_hosts_file = NULL;
	expect_failure(&o, EINVAL, "known_hosts");
	o = options(22);
	o.remote_socket = NULL;
	expect_failure(&o, EINVAL, "socket");
	o = options(70000);
	expect_failure(&o, EINVAL, "port");
}

TEST(identity_unusable)
{
	peer_ssh_options o = options(22);

	/* Checked before any connection: port 22 is never dialled. */
	o.identity_file = "/nonexistent/id_ed25519";
	expect_failure(&o, EBADMSG, "/nonexistent/id_ed25519");
	o.identity_file = known_hosts;
	expect_failure(&o, EBADMSG, known_hosts);
}

TEST(connection_refused)
{
	unsigned port;
	int s = tcp_socket(false, &port);
	peer_ssh_options o = options(port);

	expect_failure(&o, ECONNREFUSED, "127.0.0.1");
	close(s);
}

TEST(unresolvable)
{
	peer_ssh_options o = options(22);

	o.host = "bad host name";
	expect_failure(&o, EHOSTUNREACH, "bad host name");
}

TEST(server_silent)
{
	unsigned port;
	int s = tcp_socket(true, &port);
	peer_ssh_options o = options(port);

	/* The kernel accepts; nobody ever sends a banner. */
	expect_failure(&o, ETIMEDOUT, "300 ms");
	close(s);
}

static void *serve_garbage(void *userdata)
{
	int s = *(int *)userdata, c;
	static const char junk[] = "220 smtp.example ESMTP ready\r\n";

	c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
	ASSERT_TRUE(c >= 0);
	ASSERT_EQ(write(c, junk, sizeof(junk) - 1), sizeof(junk) - 1);
	close(c);
	return NULL;
}

TEST(server_not_ssh)
{
	unsigned port;
	int s = tcp_socket(true, &port);
	peer_ssh_options o = options(port);
	pthread_t t;

	ASSERT_EQ(pthread_create(&t, NULL, serve_garbage, &s), 0);
	expect_failure(&o, EPROTO, "127.0.0.1");
	pthread_join(t, NULL);
	close(s);
}

static void *serve_endless_line(void *userdata)
{
	int s = *(int *)userdata, c;
	char junk[4096];

	memset(junk, 'A', sizeof(junk));
	c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
	ASSERT_TRUE(c >= 0);
	/* Until the client hangs up: a banner line that never ends. */
	while (send(c, junk, sizeof(junk), MSG_NOSIGNAL) > 0)
		;
	close(c);
	return NULL;
}

TEST(server_endless_banner)
{
	int fds = fd_count();
	unsigned port;
	int s = tcp_socket(true, &port);
	peer_ssh_options o = options(port);
	pthread_t t;

	ASSERT_EQ(pthread_create(&t, NULL, serve_endless_line, &s), 0);
	/* The server's socket closes once it sees us hang up: count fds after that. */
	expect_failure_fds(&o, EPROTO, "127.0.0.1", -1);
	pthread_join(t, NULL);
	close(s);
	ASSERT_EQ(fd_count(), fds);
}

TEST(close_null)
{
	peer_ssh_close(NULL);
}

int main(void)
{
	ssh_key key = NULL;

	ASSERT_TRUE(mkdtemp(dir));
	snprintf(identity, sizeof(identity), "%s/id_ed25519", dir);
	snprintf(known_hosts, sizeof(known_hosts), "%s/known_hosts", dir);
	ASSERT_EQ(ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key), SSH_OK);
	ASSERT_EQ(ssh_pki_export_privkey_file(key, NULL, NULL, NULL, identity), SSH_OK);
	ssh_key_free(key);
	fclose(fopen(known_hosts, "w"));

	RUN_TEST(options_missing);
	RUN_TEST(identity_unusable);
	RUN_TEST(connection_refused);
	RUN_TEST(unresolvable);
	RUN_TEST(server_silent);
	RUN_TEST(server_not_ssh);
	RUN_TEST(server_endless_banner);
	RUN_TEST(close_null);

	unlink(identity);
	unlink(known_hosts);
	rmdir(dir);
	return 0;
}
