/*
 * Blocking modes (阻塞/非阻塞/超时), as Python's settimeout: a timeout gives
 * FSOCK_ERR_TIMEOUT, non-blocking gives FSOCK_ERR_WOULD_BLOCK, and neither
 * breaks the socket. Only outcomes are checked, never how long a call took.
 */
#include "test.h"

TEST_CASE(recv_with_a_short_timeout_times_out) {
    fsock_socket *a = NULL, *b = NULL;
    ASSERT_OK(fsock_socketpair(FSOCK_AF_UNIX, FSOCK_SOCK_STREAM, 0, &a, &b));
    ASSERT_OK_ON(a, fsock_socket_set_timeout(a, 0.2));
    double t = 0;
    ASSERT_OK_ON(a, fsock_socket_get_timeout(a, &t));
    ASSERT_EQ_DOUBLE(t, 0.2);

    uint8_t buf[16];
    size_t n = 777;
    ASSERT_RESULT(FSOCK_ERR_TIMEOUT, fsock_socket_recv(a, buf, sizeof buf, 0, &n));
    ASSERT_EQ_SIZE(n, 777); /* untouched */
    ASSERT_EQ_INT(fsock_socket_errno(a), ETIMEDOUT);
    ASSERT_CONTAINS(fsock_socket_errmsg(a), "recv");
    ASSERT_CONTAINS(fsock_socket_errmsg(a), "timed out");

    /* The socket still works after a timeout. */
    send_text(b, "late");
    char text[16];
    recv_text(a, text, sizeof text);
    ASSERT_EQ_STR(text, "late");
    fsock_socket_free(a);
    fsock_socket_free(b);
}

TEST_CASE(accept_with_a_short_timeout_times_out) {
    fsock_socket *srv = NULL, *o = NULL;
    ASSERT_OK(fsock_create_server("127.0.0.1:0", 0, &srv));
    ASSERT_OK_ON(srv, fsock_socket_set_timeout(srv, 0.2));
    ASSERT_RESULT(FSOCK_ERR_TIMEOUT, fsock_socket_accept(srv, &o, NULL, 0));
    ASSERT(o == NULL);
    ASSERT_CONTAINS(fsock_socket_errmsg(srv), "accept");
    fsock_socket_free(srv);
}

TEST_CASE(non_blocking_calls_would_block) {
    fsock_socket *a = NULL, *b = NULL;
    ASSERT_OK(fsock_socketpair(FSOCK_AF_UNIX, FSOCK_SOCK_STREAM, 0, &a, &b));
    ASSERT_OK_ON(a, fsock_socket_set_timeout(a, 0.0));
    double t = -9;
    ASSERT_OK_ON(a, fsock_socket_get_timeout(a, &t));
    ASSERT_EQ_DOUBLE(t, 0.0);

    uint8_t buf[16];
    size_t n = 0;
    ASSERT_RESULT(FSOCK_ERR_WOULD_BLOCK, fsock_socket_recv(a, buf, sizeof buf, 0, &n));
    ASSERT_EQ_INT(fsock_socket_errno(a), EAGAIN);

    /* Fill the send buffer: a non-blocking send then would block. The loop
     * is bounded; a Unix socket buffer is far smaller than this. */
    static uint8_t chunk[65536];
    fsock_result r = FSOCK_OK;
    for (int i = 0; i < 10000 && r == FSOCK_OK; i++) r = fsock_socket_send(a, chunk, sizeof chunk, 0, &n);
    ASSERT_RESULT(FSOCK_ERR_WOULD_BLOCK, r);

    /* A non-blocking listener has nothing to accept. */
    fsock_socket *srv = NULL, *o = NULL;
    ASSERT_OK(fsock_create_server("127.0.0.1:0", 0, &srv));
    ASSERT_OK_ON(srv, fsock_socket_set_blocking(srv, false));
    ASSERT_RESULT(FSOCK_ERR_WOULD_BLOCK, fsock_socket_accept(srv, &o, NULL, 0));
    ASSERT(o == NULL);

    fsock_socket_free(srv);
    fsock_socket_free(a);
    fsock_socket_free(b);
}

TEST_CASE(msg_dontwait_does_not_wait_once) {
    fsock_socket *a = NULL, *b = NULL;
    ASSERT_OK(fsock_socketpair(FSOCK_AF_UNIX, FSOCK_SOCK_STREAM, 0, &a, &b));
    ASSERT_OK_ON(a, fsock_socket_set_blocking(a, true));
    uint8_t buf[4];
    size_t n = 0;
    ASSERT_RESULT(FSOCK_ERR_WOULD_BLOCK, fsock_socket_recv(a, buf, sizeof buf, FSOCK_MSG_DONTWAIT, &n));
    fsock_socket_free(a);
    fsock_socket_free(b);
}

TEST_CASE(modes_read_back_as_set) {
    fsock_socket *s = NULL;
    double t = 0;
    ASSERT_OK(fsock_socket_new(FSOCK_AF_INET, FSOCK_SOCK_STREAM, 0, &s));
    ASSERT_OK_ON(s, fsock_socket_get_timeout(s, &t));
    ASSERT_EQ_DOUBLE(t, TEST_TIMEOUT_SECONDS); /* new sockets take the default */
    ASSERT_OK_ON(s, fsock_socket_set_timeout(s, FSOCK_TIMEOUT_BLOCKING));
    ASSERT_OK_ON(s, fsock_socket_get_timeout(s, &t));
    ASSERT_EQ_DOUBLE(t, FSOCK_TIMEOUT_BLOCKING);
    ASSERT_OK_ON(s, fsock_socket_set_blocking(s, false));
    ASSERT_OK_ON(s, fsock_socket_get_timeout(s, &t));
    ASSERT_EQ_DOUBLE(t, 0.0);
    ASSERT_OK_ON(s, fsock_socket_set_blocking(s, true));
    ASSERT_OK_ON(s, fsock_socket_get_timeout(s, &t));
    ASSERT_EQ_DOUBLE(t, FSOCK_TIMEOUT_BLOCKING);
    ASSERT_OK_ON(s, fsock_socket_set_timeout(s, 2.5));
    ASSERT_OK_ON(s, fsock_socket_get_timeout(s, &t));
    ASSERT_EQ_DOUBLE(t, 2.5);
    ASSERT_OK_ON(s, fsock_socket_set_timeout(s, FSOCK_TIMEOUT_DEFAULT));
    ASSERT_OK_ON(s, fsock_socket_get_timeout(s, &t));
    ASSERT_EQ_DOUBLE(t, TEST_TIMEOUT_SECONDS);
    fsock_socket_free(s);
}

TEST_CASE(the_default_applies_to_new_and_accepted_sockets) {
    double t = 0;
    ASSERT_OK(fsock_get_default_timeout(&t));
    ASSERT_EQ_DOUBLE(t, TEST_TIMEOUT_SECONDS);
    ASSERT_OK(fsock_set_default_timeout(3.0));

    fsock_socket *srv = NULL, *cli = NULL, *conn = NULL;
    ASSERT_OK(fsock_create_server("127.0.0.1:0", 0, &srv));
    char addr[FSOCK_ADDRSTRLEN];
    local_addr_of(srv, addr, sizeof addr);
    ASSERT_OK(fsock_create_connection("127.0.0.1", (uint16_t)port_of(addr), 1.5, &cli));
    ASSERT_OK_ON(cli, fsock_socket_get_timeout(cli, &t));
    ASSERT_EQ_DOUBLE(t, 1.5); /* create_connection's timeout stays on the socket */
    ASSERT_OK_ON(srv, fsock_socket_set_timeout(srv, 5.0));
    ASSERT_OK_ON(srv, fsock_socket_accept(srv, &conn, NULL, 0));
    ASSERT_OK_ON(conn, fsock_socket_get_timeout(conn, &t));
    ASSERT_EQ_DOUBLE(t, 3.0); /* the default, not the listener's */

    ASSERT_OK(fsock_set_default_timeout(TEST_TIMEOUT_SECONDS));
    fsock_socket_free(conn);
    fsock_socket_free(cli);
    fsock_socket_free(srv);
}

int main(void) {
    test_init();
    RUN(recv_with_a_short_timeout_times_out);
    RUN(accept_with_a_short_timeout_times_out);
    RUN(non_blocking_calls_would_block);
    RUN(msg_dontwait_does_not_wait_once);
    RUN(modes_read_back_as_set);
    RUN(the_default_applies_to_new_and_accepted_sockets);
    return 0;
}
