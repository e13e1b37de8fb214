/*
 * fsock_socket_send_fds / fsock_socket_recv_fds on bad input: NULL
 * pointers, too many descriptors, a closed descriptor, a closed socket and
 * a timeout. Out-parameters are left untouched on every failure.
 */
#include "test.h"

TEST_CASE(null_pointers_are_invalid_arguments) {
    fsock_socket *a = NULL, *b = NULL;
    stream_pair(&a, &b);
    int fd = 0;
    size_t sent = 99, received = 99, nfds = 99;
    uint8_t buf[4];
    ASSERT_NULL_ARG("s", fsock_socket_send_fds(NULL, buf, 1, &fd, 1, 0, &sent));
    ASSERT_NULL_ARG("buf", fsock_socket_send_fds(a, NULL, 1, &fd, 1, 0, &sent));
    ASSERT_NULL_ARG("fds", fsock_socket_send_fds(a, buf, 1, NULL, 1, 0, &sent));
    ASSERT_NULL_ARG("out_sent", fsock_socket_send_fds(a, buf, 1, &fd, 1, 0, NULL));
    ASSERT_EQ_SIZE(sent, 99);

    ASSERT_NULL_ARG("s", fsock_socket_recv_fds(NULL, buf, 4, &fd, 1, 0, &received, &nfds, NULL));
    ASSERT_NULL_ARG("buf", fsock_socket_recv_fds(b, NULL, 4, &fd, 1, 0, &received, &nfds, NULL));
    ASSERT_NULL_ARG("fds", fsock_socket_recv_fds(b, buf, 4, NULL, 1, 0, &received, &nfds, NULL));
    ASSERT_NULL_ARG("out_received", fsock_socket_recv_fds(b, buf, 4, &fd, 1, 0, NULL, &nfds, NULL));
    ASSERT_NULL_ARG("out_nfds", fsock_socket_recv_fds(b, buf, 4, &fd, 1, 0, &received, NULL, NULL));
    ASSERT_EQ_SIZE(received, 99);
    ASSERT_EQ_SIZE(nfds, 99);
    fsock_socket_free(a);
    fsock_socket_free(b);
}

TEST_CASE(counts_over_the_limit_are_refused) {
    fsock_socket *a = NULL, *b = NULL;
    stream_pair(&a, &b);
    int fds[FSOCK_MAX_FDS + 1];
    for (int i = 0; i < FSOCK_MAX_FDS + 1; i++) fds[i] = 0;
    size_t sent = 0, received = 0, nfds = 0;
    uint8_t buf[4];
    ASSERT_INVALID("FSOCK_MAX_FDS",
                   fsock_socket_send_fds(a, buf, 1, fds, FSOCK_MAX_FDS + 1, 0, &sent));
    ASSERT_INVALID("FSOCK_MAX_FDS", fsock_socket_recv_fds(b, buf, 4, fds, FSOCK_MAX_FDS + 1, 0,
                                                          &received, &nfds, NULL));
    fsock_socket_free(a);
    fsock_socket_free(b);
}

TEST_CASE(a_closed_descriptor_is_ebadf) {
    fsock_socket *a = NULL, *b = NULL;
    stream_pair(&a, &b);
    int p[2];
    ASSERT_EQ_INT(pipe(p), 0);
    ASSERT_EQ_INT(close(p[0]), 0);
    ASSERT_EQ_INT(close(p[1]), 0);
    size_t sent = 99;
    ASSERT_RESULT(FSOCK_ERR_IO, fsock_socket_send_fds(a, (const uint8_t *)"x", 1, &p[0], 1, 0, &sent));
    ASSERT_EQ_INT(fsock_socket_errno(a), EBADF);
    ASSERT_EQ_SIZE(sent, 99);
    fsock_socket_free(a);
    fsock_socket_free(b);
}

TEST_CASE(a_closed_socket_and_a_timeout) {
    fsock_socket *a = NULL, *b = NULL;
    stream_pair(&a, &b);
    uint8_t buf[4];
    int fds[1] = {-1};
    size_t received = 99, nfds = 99;

    ASSERT_OK_ON(b, fsock_socket_set_timeout(b, 0.05));
    ASSERT_RESULT(FSOCK_ERR_TIMEOUT,
                  fsock_socket_recv_fds(b, buf, sizeof buf, fds, 1, 0, &received, &nfds, NULL));
    ASSERT_OK_ON(b, fsock_socket_set_timeout(b, 0.0));
    ASSERT_RESULT(FSOCK_ERR_WOULD_BLOCK,
                  fsock_socket_recv_fds(b, buf, sizeof buf, fds, 1, 0, &received, &nfds, NULL));
    ASSERT_EQ_SIZE(received, 99);
    ASSERT_EQ_SIZE(nfds, 99);
    ASSERT_EQ_INT(fds[0], -1);

    ASSERT_OK_ON(a, fsock_socket_close(a));
    size_t sent = 99;
    ASSERT_RESULT(FSOCK_ERR_CLOSED,
                  fsock_socket_send_fds(a, (const uint8_t *)"x", 1, NULL, 0, 0, &sent));
    ASSERT_EQ_INT(fsock_socket_errno(a), EBADF);
    ASSERT_EQ_SIZE(sent, 99);
    fsock_socket_free(a);
    fsock_socket_free(b);
}

int main(void) {
    test_init();
    RUN(null_pointers_are_invalid_arguments);
    RUN(counts_over_the_limit_are_refused);
    RUN(a_closed_descriptor_is_ebadf);
    RUN(a_closed_socket_and_a_timeout);
    return 0;
}
