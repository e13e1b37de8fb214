/*
 * Socket options through the system's constants, SO_LINGER, and the
 * handle's life: fileno, dup, detach, close, connect_ex.
 */
#include "test.h"

static int get_int(fsock_socket *s, int level, int name) {
    int v = -12345;
    ASSERT_OK_ON(s, fsock_socket_getsockopt_int(s, level, name, &v));
    return v;
}

TEST_CASE(integer_options_round_trip) {
    fsock_socket *s = NULL;
    ASSERT_OK(fsock_socket_new(FSOCK_AF_INET, FSOCK_SOCK_STREAM, 0, &s));
    const struct {
        int level, name;
    } flags[] = {
        {FSOCK_SOL_SOCKET, FSOCK_SO_REUSEADDR}, {FSOCK_SOL_SOCKET, FSOCK_SO_REUSEPORT},
        {FSOCK_SOL_SOCKET, FSOCK_SO_KEEPALIVE}, {FSOCK_IPPROTO_TCP, FSOCK_TCP_NODELAY},
    };
    for (size_t i = 0; i < sizeof flags / sizeof *flags; i++) {
        ASSERT_OK_ON(s, fsock_socket_setsockopt_int(s, flags[i].level, flags[i].name, 1));
        ASSERT_NE_INT(get_int(s, flags[i].level, flags[i].name), 0);
        ASSERT_OK_ON(s, fsock_socket_setsockopt_int(s, flags[i].level, flags[i].name, 0));
        ASSERT_EQ_INT(get_int(s, flags[i].level, flags[i].name), 0);
    }
    ASSERT_OK_ON(s, fsock_socket_setsockopt_int(s, FSOCK_IPPROTO_TCP, FSOCK_TCP_KEEPIDLE, 30));
    ASSERT_EQ_INT(get_int(s, FSOCK_IPPROTO_TCP, FSOCK_TCP_KEEPIDLE), 30);
    ASSERT_OK_ON(s, fsock_socket_setsockopt_int(s, FSOCK_IPPROTO_TCP, FSOCK_TCP_KEEPINTVL, 5));
    ASSERT_EQ_INT(get_int(s, FSOCK_IPPROTO_TCP, FSOCK_TCP_KEEPINTVL), 5);
    ASSERT_OK_ON(s, fsock_socket_setsockopt_int(s, FSOCK_IPPROTO_TCP, FSOCK_TCP_KEEPCNT, 3));
    ASSERT_EQ_INT(get_int(s, FSOCK_IPPROTO_TCP, FSOCK_TCP_KEEPCNT), 3);

    /* Buffer sizes: the system may round or double what was asked. */
    ASSERT_OK_ON(s, fsock_socket_setsockopt_int(s, FSOCK_SOL_SOCKET, FSOCK_SO_RCVBUF, 65536));
    ASSERT(get_int(s, FSOCK_SOL_SOCKET, FSOCK_SO_RCVBUF) >= 65536);
    ASSERT_OK_ON(s, fsock_socket_setsockopt_int(s, FSOCK_SOL_SOCKET, FSOCK_SO_SNDBUF, 65536));
    ASSERT(get_int(s, FSOCK_SOL_SOCKET, FSOCK_SO_SNDBUF) >= 65536);

    ASSERT_EQ_INT(get_int(s, FSOCK_SOL_SOCKET, FSOCK_SO_TYPE), FSOCK_SOCK_STREAM);
    ASSERT_EQ_INT(get_int(s, FSOCK_SOL_SOCKET, FSOCK_SO_ERROR), 0);
    fsock_socket_free(s);
}

TEST_CASE(linger_round_trips) {
    fsock_socket *s = NULL;
    bool on = true;
    int secs = -1;
    ASSERT_OK(fsock_socket_new(FSOCK_AF_INET, FSOCK_SOCK_STREAM, 0, &s));
    ASSERT_OK_ON(s, fsock_socket_get_linger(s, &on, &secs));
    ASSERT(!on);
    ASSERT_OK_ON(s, fsock_socket_set_linger(s, true, 7));
    ASSERT_OK_ON(s, fsock_socket_get_linger(s, &on, &secs));
    ASSERT(on);
    ASSERT_EQ_INT(secs, 7);
    ASSERT_OK_ON(s, fsock_socket_set_linger(s, false, 0));
    ASSERT_OK_ON(s, fsock_socket_get_linger(s, &on, &secs));
    ASSERT(!on);
    fsock_socket_free(s);
}

TEST_CASE(fileno_dup_and_detach) {
    fsock_socket *a = NULL, *b = NULL, *a2 = NULL;
    ASSERT_OK(fsock_socketpair(FSOCK_AF_UNIX, FSOCK_SOCK_STREAM, 0, &a, &b));
    int fd = -1, fd2 = -1;
    ASSERT_OK_ON(a, fsock_socket_fileno(a, &fd));
    ASSERT(fd >= 0);

    /* dup: a second handle on the same connection, with the same timeout. */
    ASSERT_OK_ON(a, fsock_socket_set_timeout(a, 4.0));
    ASSERT_OK_ON(a, fsock_socket_dup(a, &a2));
    ASSERT_OK_ON(a2, fsock_socket_fileno(a2, &fd2));
    ASSERT_NE_INT(fd, fd2);
    double t = 0;
    ASSERT_OK_ON(a2, fsock_socket_get_timeout(a2, &t));
    ASSERT_EQ_DOUBLE(t, 4.0);
    ASSERT_OK_ON(a, fsock_socket_close(a));
    char buf[16];
    send_text(a2, "via dup"); /* closing one handle does not close the other */
    recv_text(b, buf, sizeof buf);
    ASSERT_EQ_STR(buf, "via dup");

    /* detach: the caller now owns the descriptor; the handle acts closed. */
    int raw = -1;
    ASSERT_OK_ON(a2, fsock_socket_detach(a2, &raw));
    ASSERT_EQ_INT(raw, fd2);
    ASSERT_RESULT(FSOCK_ERR_CLOSED, fsock_socket_fileno(a2, &fd));
    ASSERT_EQ_INT(write(raw, "raw", 3), 3);
    recv_text(b, buf, sizeof buf);
    ASSERT_EQ_STR(buf, "raw");
    ASSERT_EQ_INT(close(raw), 0);

    fsock_socket_free(a2);
    fsock_socket_free(a);
    fsock_socket_free(b);
}

TEST_CASE(connect_ex_gives_zero_on_success) {
    fsock_socket *srv = NULL, *c = NULL, *conn = NULL;
    ASSERT_OK(fsock_create_server("127.0.0.1:0", 0, &srv));
    char addr[FSOCK_ADDRSTRLEN];
    local_addr_of(srv, addr, sizeof addr);
    ASSERT_OK(fsock_socket_new(FSOCK_AF_INET, FSOCK_SOCK_STREAM, 0, &c));
    int err = -1;
    ASSERT_OK_ON(c, fsock_socket_connect_ex(c, addr, &err));
    ASSERT_EQ_INT(err, 0);
    ASSERT_OK_ON(srv, fsock_socket_accept(srv, &conn, NULL, 0));
    /* Connecting again: Linux says EISCONN; some kernels (gVisor) accept a
     * repeated connect on a socket with a timeout and say 0. Either way it
     * is a number, not a failure. */
    ASSERT_OK_ON(c, fsock_socket_connect_ex(c, addr, &err));
    ASSERT(err == EISCONN || err == 0);
    fsock_socket_free(conn);
    fsock_socket_free(c);
    fsock_socket_free(srv);
}

int main(void) {
    test_init();
    RUN(integer_options_round_trip);
    RUN(linger_round_trips);
    RUN(fileno_dup_and_detach);
    RUN(connect_ex_gives_zero_on_success);
    return 0;
}
