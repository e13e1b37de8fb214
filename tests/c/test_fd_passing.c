/*
 * Passing file descriptors over a Unix socketpair (SCM_RIGHTS): a pipe's
 * read end sent with fsock_socket_send_fds works on the receiving side,
 * arrives close-on-exec, and belongs to the receiver, who closes it.
 */
#include <fcntl.h>

#include "test.h"

TEST_CASE(a_passed_pipe_works_on_the_other_side) {
    fsock_socket *a = NULL, *b = NULL;
    stream_pair(&a, &b);
    int pipefd[2];
    ASSERT_EQ_INT(pipe(pipefd), 0);

    size_t sent = 0;
    ASSERT_OK_ON(a, fsock_socket_send_fds(a, (const uint8_t *)"fd", 2, &pipefd[0], 1, 0, &sent));
    ASSERT_EQ_SIZE(sent, 2);
    /* The sender's descriptor stays open and ours: close it now. */
    ASSERT_EQ_INT(close(pipefd[0]), 0);

    uint8_t buf[16];
    int fds[4] = {-1, -1, -1, -1};
    size_t received = 0, nfds = 0;
    int msg_flags = -1;
    ASSERT_OK_ON(b, fsock_socket_recv_fds(b, buf, sizeof buf, fds, 4, 0, &received, &nfds,
                                          &msg_flags));
    ASSERT_EQ_SIZE(received, 2);
    ASSERT(memcmp(buf, "fd", 2) == 0);
    ASSERT_EQ_SIZE(nfds, 1);
    ASSERT_EQ_INT(msg_flags, 0);
    ASSERT_EQ_INT(fds[1], -1); /* only fds[0..nfds] are written */
    ASSERT(fcntl(fds[0], F_GETFD) & FD_CLOEXEC);

    ASSERT_EQ_INT(write(pipefd[1], "hello", 5), 5);
    char text[8] = {0};
    ASSERT_EQ_INT(read(fds[0], text, sizeof text - 1), 5);
    ASSERT_EQ_STR(text, "hello");

    /* The caller owns what it received. */
    ASSERT_EQ_INT(close(fds[0]), 0);
    ASSERT_EQ_INT(close(pipefd[1]), 0);
    fsock_socket_free(a);
    fsock_socket_free(b);
}

TEST_CASE(several_descriptors_in_one_message_keep_their_order) {
    fsock_socket *a = NULL, *b = NULL;
    stream_pair(&a, &b);
    int p1[2], p2[2], p3[2];
    ASSERT_EQ_INT(pipe(p1), 0);
    ASSERT_EQ_INT(pipe(p2), 0);
    ASSERT_EQ_INT(pipe(p3), 0);
    int out[3] = {p1[1], p2[1], p3[1]};
    size_t sent = 0;
    ASSERT_OK_ON(a, fsock_socket_send_fds(a, (const uint8_t *)"x", 1, out, 3, 0, &sent));

    uint8_t buf[4];
    int fds[3];
    size_t received = 0, nfds = 0;
    /* out_msg_flags is optional. */
    ASSERT_OK_ON(b, fsock_socket_recv_fds(b, buf, sizeof buf, fds, 3, 0, &received, &nfds, NULL));
    ASSERT_EQ_SIZE(nfds, 3);
    const char *words[3] = {"one", "two", "six"};
    int readers[3] = {p1[0], p2[0], p3[0]};
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ_INT(write(fds[i], words[i], 3), 3);
        char got[4] = {0};
        ASSERT_EQ_INT(read(readers[i], got, 3), 3);
        ASSERT_EQ_STR(got, words[i]);
        ASSERT_EQ_INT(close(fds[i]), 0);
    }
    int all[6] = {p1[0], p1[1], p2[0], p2[1], p3[0], p3[1]};
    for (int i = 0; i < 6; i++) ASSERT_EQ_INT(close(all[i]), 0);
    fsock_socket_free(a);
    fsock_socket_free(b);
}

TEST_CASE(data_without_descriptors_reports_none) {
    fsock_socket *a = NULL, *b = NULL;
    stream_pair(&a, &b);
    size_t sent = 0;
    ASSERT_OK_ON(a, fsock_socket_send_fds(a, (const uint8_t *)"plain", 5, NULL, 0, 0, &sent));
    uint8_t buf[8];
    size_t received = 0, nfds = 7;
    ASSERT_OK_ON(b, fsock_socket_recv_fds(b, buf, sizeof buf, NULL, 0, 0, &received, &nfds, NULL));
    ASSERT_EQ_SIZE(received, 5);
    ASSERT_EQ_SIZE(nfds, 0);
    fsock_socket_free(a);
    fsock_socket_free(b);
}

int main(void) {
    test_init();
    RUN(a_passed_pipe_works_on_the_other_side);
    RUN(several_descriptors_in_one_message_keep_their_order);
    RUN(data_without_descriptors_reports_none);
    return 0;
}
