/*
 * More descriptors sent than the receiver has room for: the message is
 * flagged MSG_CTRUNC, the receiver gets what fits, and nothing leaks (the
 * process's open descriptors are counted before and after).
 */
#include <sys/socket.h>

#include "test.h"

TEST_CASE(fewer_slots_than_descriptors_flags_ctrunc_and_leaks_nothing) {
    fsock_socket *a = NULL, *b = NULL;
    stream_pair(&a, &b);
    int p[2];
    ASSERT_EQ_INT(pipe(p), 0);
    int out[3] = {p[0], p[0], p[1]};
    int before = open_fds();

    size_t sent = 0;
    ASSERT_OK_ON(a, fsock_socket_send_fds(a, (const uint8_t *)"three", 5, out, 3, 0, &sent));
    uint8_t buf[8];
    int fds[1] = {-1};
    size_t received = 0, nfds = 0;
    int msg_flags = 0;
    ASSERT_OK_ON(b, fsock_socket_recv_fds(b, buf, sizeof buf, fds, 1, 0, &received, &nfds,
                                          &msg_flags));
    ASSERT_EQ_SIZE(received, 5);
    ASSERT_EQ_SIZE(nfds, 1);
    ASSERT(msg_flags & MSG_CTRUNC);
    ASSERT_EQ_INT(open_fds(), before + 1);
    ASSERT_EQ_INT(close(fds[0]), 0);
    ASSERT_EQ_INT(open_fds(), before);

    /* No room at all: every descriptor is dropped, none leaks. */
    ASSERT_OK_ON(a, fsock_socket_send_fds(a, (const uint8_t *)"y", 1, out, 2, 0, &sent));
    ASSERT_OK_ON(b, fsock_socket_recv_fds(b, buf, sizeof buf, NULL, 0, 0, &received, &nfds,
                                          &msg_flags));
    ASSERT_EQ_SIZE(nfds, 0);
    ASSERT(msg_flags & MSG_CTRUNC);
    ASSERT_EQ_INT(open_fds(), before);

    ASSERT_EQ_INT(close(p[0]), 0);
    ASSERT_EQ_INT(close(p[1]), 0);
    fsock_socket_free(a);
    fsock_socket_free(b);
}

TEST_CASE(a_datagram_cut_to_the_buffer_flags_trunc) {
    fsock_socket *a = NULL, *b = NULL;
    ASSERT_OK(fsock_socketpair(FSOCK_AF_UNIX, FSOCK_SOCK_DGRAM, 0, &a, &b));
    int p[2];
    ASSERT_EQ_INT(pipe(p), 0);
    size_t sent = 0;
    ASSERT_OK_ON(a, fsock_socket_send_fds(a, (const uint8_t *)"0123456789", 10, &p[1], 1, 0,
                                          &sent));
    uint8_t buf[4];
    int fds[2];
    size_t received = 0, nfds = 0;
    int msg_flags = 0;
    ASSERT_OK_ON(b, fsock_socket_recv_fds(b, buf, sizeof buf, fds, 2, 0, &received, &nfds,
                                          &msg_flags));
    ASSERT_EQ_SIZE(received, 4);
    ASSERT_EQ_SIZE(nfds, 1);
    ASSERT(msg_flags & MSG_TRUNC);
    ASSERT(!(msg_flags & MSG_CTRUNC));
    ASSERT_EQ_INT(close(fds[0]), 0);
    ASSERT_EQ_INT(close(p[0]), 0);
    ASSERT_EQ_INT(close(p[1]), 0);
    fsock_socket_free(a);
    fsock_socket_free(b);
}

int main(void) {
    test_init();
    RUN(fewer_slots_than_descriptors_flags_ctrunc_and_leaks_nothing);
    RUN(a_datagram_cut_to_the_buffer_flags_trunc);
    return 0;
}
