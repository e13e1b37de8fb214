/*
 * Unix-domain sockets: a path in a private temporary directory, a Linux
 * abstract name, datagrams between two paths, and socketpair.
 */
#include "test.h"

/* Listens on `addr`, connects a client, accepts, and exchanges a message
 * each way. The accepted peer of an unbound client has no name. */
static void exchange_over(const char *addr) {
    fsock_socket *srv = NULL, *cli = NULL, *conn = NULL;
    ASSERT_OK(fsock_socket_new(FSOCK_AF_UNIX, FSOCK_SOCK_STREAM, 0, &srv));
    ASSERT_OK_ON(srv, fsock_socket_bind(srv, addr));
    ASSERT_OK_ON(srv, fsock_socket_listen(srv, 4));
    char local[FSOCK_ADDRSTRLEN];
    local_addr_of(srv, local, sizeof local);
    ASSERT_EQ_STR(local, addr);

    ASSERT_OK(fsock_socket_new(FSOCK_AF_UNIX, FSOCK_SOCK_STREAM, 0, &cli));
    ASSERT_OK_ON(cli, fsock_socket_connect(cli, addr));
    char peer[FSOCK_ADDRSTRLEN];
    ASSERT_OK_ON(srv, fsock_socket_accept(srv, &conn, peer, sizeof peer));
    ASSERT_EQ_STR(peer, "unix:(unnamed)");
    char cli_peer[FSOCK_ADDRSTRLEN];
    ASSERT_OK_ON(cli, fsock_socket_peer_addr(cli, cli_peer, sizeof cli_peer, NULL));
    ASSERT_EQ_STR(cli_peer, addr);

    char buf[64];
    send_text(cli, "ping");
    recv_text(conn, buf, sizeof buf);
    ASSERT_EQ_STR(buf, "ping");
    send_text(conn, "pong");
    recv_text(cli, buf, sizeof buf);
    ASSERT_EQ_STR(buf, "pong");

    fsock_socket_free(conn);
    fsock_socket_free(cli);
    fsock_socket_free(srv);
}

TEST_CASE(stream_over_a_path) {
    char dir[64], addr[128];
    make_temp_dir(dir, sizeof dir);
    snprintf(addr, sizeof addr, "unix:%s/echo.sock", dir);
    exchange_over(addr);
    ASSERT_EQ_INT(unlink(addr + strlen("unix:")), 0);
    ASSERT_EQ_INT(rmdir(dir), 0);
}

TEST_CASE(stream_over_an_abstract_name) {
    char addr[128];
    snprintf(addr, sizeof addr, "unix:@fsock-c-test-%ld", (long)getpid());
    exchange_over(addr);
}

TEST_CASE(connecting_to_a_missing_path_says_so) {
    fsock_socket *cli = NULL;
    ASSERT_OK(fsock_socket_new(FSOCK_AF_UNIX, FSOCK_SOCK_STREAM, 0, &cli));
    ASSERT_RESULT(FSOCK_ERR_IO, fsock_socket_connect(cli, "unix:/nonexistent-dir-fsock/x.sock"));
    ASSERT_EQ_INT(fsock_socket_errno(cli), ENOENT);
    ASSERT_CONTAINS(fsock_socket_errmsg(cli), "/nonexistent-dir-fsock/x.sock");
    fsock_socket_free(cli);
}

TEST_CASE(datagrams_between_two_paths) {
    char dir[64], a_addr[128], b_addr[128];
    make_temp_dir(dir, sizeof dir);
    snprintf(a_addr, sizeof a_addr, "unix:%s/a.sock", dir);
    snprintf(b_addr, sizeof b_addr, "unix:%s/b.sock", dir);
    fsock_socket *a = NULL, *b = NULL;
    ASSERT_OK(fsock_socket_new(FSOCK_AF_UNIX, FSOCK_SOCK_DGRAM, 0, &a));
    ASSERT_OK(fsock_socket_new(FSOCK_AF_UNIX, FSOCK_SOCK_DGRAM, 0, &b));
    ASSERT_OK_ON(a, fsock_socket_bind(a, a_addr));
    ASSERT_OK_ON(b, fsock_socket_bind(b, b_addr));

    size_t sent = 0, n = 0;
    char buf[64], from[FSOCK_ADDRSTRLEN];
    ASSERT_OK_ON(a, fsock_socket_sendto(a, (const uint8_t *)"hi b", 4, 0, b_addr, &sent));
    ASSERT_OK_ON(b, fsock_socket_recvfrom(b, (uint8_t *)buf, sizeof buf, 0, &n, from, sizeof from));
    ASSERT_EQ_SIZE(n, 4);
    ASSERT_EQ_STR(from, a_addr);
    /* Reply to whatever recvfrom said. */
    ASSERT_OK_ON(b, fsock_socket_sendto(b, (const uint8_t *)"hi a", 4, 0, from, &sent));
    ASSERT_OK_ON(a, fsock_socket_recvfrom(a, (uint8_t *)buf, sizeof buf, 0, &n, from, sizeof from));
    ASSERT_EQ_SIZE(n, 4);
    ASSERT_EQ_STR(from, b_addr);

    fsock_socket_free(a);
    fsock_socket_free(b);
    ASSERT_EQ_INT(unlink(a_addr + strlen("unix:")), 0);
    ASSERT_EQ_INT(unlink(b_addr + strlen("unix:")), 0);
    ASSERT_EQ_INT(rmdir(dir), 0);
}

TEST_CASE(socketpair_talks_both_ways) {
    fsock_socket *a = NULL, *b = NULL;
    ASSERT_OK(fsock_socketpair(FSOCK_AF_UNIX, FSOCK_SOCK_STREAM, 0, &a, &b));
    char buf[64];
    send_text(a, "to b");
    recv_text(b, buf, sizeof buf);
    ASSERT_EQ_STR(buf, "to b");
    send_text(b, "to a");
    recv_text(a, buf, sizeof buf);
    ASSERT_EQ_STR(buf, "to a");
    char name[FSOCK_ADDRSTRLEN];
    local_addr_of(a, name, sizeof name);
    ASSERT_EQ_STR(name, "unix:(unnamed)");
    /* Closing one end: the other reads end-of-stream. */
    fsock_socket_free(a);
    ASSERT_EQ_SIZE(recv_text(b, buf, sizeof buf), 0);
    fsock_socket_free(b);

    ASSERT_OK(fsock_socketpair(FSOCK_AF_UNIX, FSOCK_SOCK_DGRAM, 0, &a, &b));
    size_t sent = 0, n = 0;
    ASSERT_OK_ON(a, fsock_socket_send(a, (const uint8_t *)"dgram", 5, 0, &sent));
    ASSERT_OK_ON(b, fsock_socket_recvfrom(b, (uint8_t *)buf, sizeof buf, 0, &n, name, sizeof name));
    ASSERT_EQ_SIZE(n, 5);
    ASSERT_EQ_STR(name, "unix:(unnamed)");
    fsock_socket_free(a);
    fsock_socket_free(b);
}

int main(void) {
    test_init();
    RUN(stream_over_a_path);
    RUN(stream_over_an_abstract_name);
    RUN(connecting_to_a_missing_path_says_so);
    RUN(datagrams_between_two_paths);
    RUN(socketpair_talks_both_ways);
    return 0;
}
