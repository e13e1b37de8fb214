/*
 * Writing to a peer that has gone: the send fails with FSOCK_ERR_IO and
 * EPIPE (or ECONNRESET), and the process is NOT killed by SIGPIPE.
 *
 * SIGPIPE is deliberately left at its default action (terminate), and reset
 * to it in case the runner inherited it ignored: if ferrosock ever sent
 * without MSG_NOSIGNAL, this binary would die and the runner would see it.
 */
#include "test.h"

static int is_broken_pipe(int err) { return err == EPIPE || err == ECONNRESET; }

TEST_CASE(send_to_a_closed_unix_peer) {
    fsock_socket *a = NULL, *b = NULL;
    ASSERT_OK(fsock_socketpair(FSOCK_AF_UNIX, FSOCK_SOCK_STREAM, 0, &a, &b));
    fsock_socket_free(b);
    size_t n = 0;
    ASSERT_RESULT(FSOCK_ERR_IO, fsock_socket_send(a, (const uint8_t *)"x", 1, 0, &n));
    ASSERT_EQ_INT(fsock_socket_errno(a), EPIPE);
    ASSERT_CONTAINS(fsock_socket_errmsg(a), "broken pipe");
    ASSERT_RESULT(FSOCK_ERR_IO, fsock_socket_sendall(a, (const uint8_t *)"xyz", 3, 0));
    ASSERT_EQ_INT(fsock_socket_errno(a), EPIPE);
    fsock_socket_free(a);
}

TEST_CASE(send_to_a_closed_tcp_peer) {
    fsock_socket *cli = NULL, *conn = NULL;
    tcp_pair(&cli, &conn);
    fsock_socket_free(conn); /* the peer hangs up */

    /* The first sends may still be accepted locally (the peer answers them
     * with a reset); keep sending, a bounded number of times, until the
     * failure shows. */
    fsock_result r = FSOCK_OK;
    size_t n = 0;
    for (int i = 0; i < 200 && r == FSOCK_OK; i++) {
        r = fsock_socket_send(cli, (const uint8_t *)"data", 4, 0, &n);
        if (r == FSOCK_OK) usleep(10 * 1000);
    }
    ASSERT_RESULT(FSOCK_ERR_IO, r);
    ASSERT(is_broken_pipe(fsock_socket_errno(cli)));
    ASSERT(is_broken_pipe(fsock_last_errno()));
    /* Still alive, and the handle still answers. */
    ASSERT_RESULT(FSOCK_ERR_IO, fsock_socket_sendall(cli, (const uint8_t *)"more", 4, 0));
    ASSERT(is_broken_pipe(fsock_socket_errno(cli)));

    fsock_socket_free(cli);
}

int main(void) {
    test_init();
    signal(SIGPIPE, SIG_DFL);
    RUN(send_to_a_closed_unix_peer);
    RUN(send_to_a_closed_tcp_peer);
    return 0;
}
