/*
 * fsock_socket_sendmsg / fsock_socket_recvmsg on bad input: NULL pointers
 * (handle, arrays, buffers inside them, out-parameters), counts over the
 * limits, an address that does not parse, and a timeout. Every failure
 * leaves the out-parameters and the caller's arrays untouched.
 */
#include <sys/socket.h>

#include "test.h"

TEST_CASE(null_pointers_are_invalid_arguments) {
    fsock_socket *a = NULL, *b = NULL;
    stream_pair(&a, &b);
    char byte[] = "x";
    fsock_iovec iov = {byte, 1};
    fsock_iovec null_base[2] = {{byte, 1}, {NULL, 1}};
    int fd = 0;
    fsock_cmsg cmsg = {SOL_SOCKET, SCM_RIGHTS, (const uint8_t *)&fd, sizeof fd};
    fsock_cmsg null_data = {SOL_SOCKET, SCM_RIGHTS, NULL, sizeof fd};
    size_t sent = 99;
    ASSERT_NULL_ARG("s", fsock_socket_sendmsg(NULL, &iov, 1, NULL, 0, 0, NULL, &sent));
    ASSERT_NULL_ARG("iov", fsock_socket_sendmsg(a, NULL, 1, NULL, 0, 0, NULL, &sent));
    ASSERT_NULL_ARG("iov[1].base", fsock_socket_sendmsg(a, null_base, 2, NULL, 0, 0, NULL, &sent));
    ASSERT_NULL_ARG("cmsgs", fsock_socket_sendmsg(a, &iov, 1, NULL, 1, 0, NULL, &sent));
    ASSERT_NULL_ARG("cmsgs[0].data", fsock_socket_sendmsg(a, &iov, 1, &null_data, 1, 0, NULL, &sent));
    ASSERT_NULL_ARG("out_sent", fsock_socket_sendmsg(a, &iov, 1, &cmsg, 1, 0, NULL, NULL));
    ASSERT_EQ_SIZE(sent, 99);

    uint8_t control[64];
    fsock_cmsg slots[2] = {{7, 7, NULL, 7}, {7, 7, NULL, 7}};
    size_t received = 99, ncmsgs = 99;
    int flags = 99;
    ASSERT_NULL_ARG("s", fsock_socket_recvmsg(NULL, &iov, 1, control, 64, slots, 2, 0, &received,
                                              &ncmsgs, &flags, NULL, 0));
    ASSERT_NULL_ARG("iov", fsock_socket_recvmsg(b, NULL, 1, control, 64, slots, 2, 0, &received,
                                                &ncmsgs, &flags, NULL, 0));
    ASSERT_NULL_ARG("iov[1].base", fsock_socket_recvmsg(b, null_base, 2, control, 64, slots, 2, 0,
                                                        &received, &ncmsgs, &flags, NULL, 0));
    ASSERT_NULL_ARG("control", fsock_socket_recvmsg(b, &iov, 1, NULL, 64, slots, 2, 0, &received,
                                                    &ncmsgs, &flags, NULL, 0));
    ASSERT_NULL_ARG("cmsgs", fsock_socket_recvmsg(b, &iov, 1, control, 64, NULL, 2, 0, &received,
                                                  &ncmsgs, &flags, NULL, 0));
    ASSERT_NULL_ARG("out_received", fsock_socket_recvmsg(b, &iov, 1, control, 64, slots, 2, 0,
                                                         NULL, &ncmsgs, &flags, NULL, 0));
    ASSERT_NULL_ARG("out_ncmsgs", fsock_socket_recvmsg(b, &iov, 1, control, 64, slots, 2, 0,
                                                       &received, NULL, &flags, NULL, 0));
    ASSERT_EQ_SIZE(received, 99);
    ASSERT_EQ_SIZE(ncmsgs, 99);
    ASSERT_EQ_INT(flags, 99);
    ASSERT_EQ_INT(slots[0].level, 7);
    ASSERT_EQ_SIZE(slots[1].len, 7);

    /* Nothing was sent by the failed calls: the socket is still empty. */
    ASSERT_OK_ON(b, fsock_socket_set_timeout(b, 0.0));
    ASSERT_RESULT(FSOCK_ERR_WOULD_BLOCK,
                  fsock_socket_recvmsg(b, &iov, 1, NULL, 0, NULL, 0, 0, &received, &ncmsgs,
                                       NULL, NULL, 0));
    ASSERT_EQ_SIZE(received, 99);
    fsock_socket_free(a);
    fsock_socket_free(b);
}

TEST_CASE(counts_over_the_limits_are_refused) {
    fsock_socket *a = NULL, *b = NULL;
    stream_pair(&a, &b);
    static char byte[FSOCK_IOV_MAX + 1];
    static fsock_iovec many[FSOCK_IOV_MAX + 1];
    for (size_t i = 0; i < FSOCK_IOV_MAX + 1; i++) {
        many[i].base = &byte[i];
        many[i].len = 1;
    }
    size_t sent = 99, received = 99, ncmsgs = 99;
    ASSERT_INVALID("FSOCK_IOV_MAX",
                   fsock_socket_sendmsg(a, many, FSOCK_IOV_MAX + 1, NULL, 0, 0, NULL, &sent));
    ASSERT_INVALID("FSOCK_IOV_MAX", fsock_socket_recvmsg(b, many, FSOCK_IOV_MAX + 1, NULL, 0, NULL,
                                                         0, 0, &received, &ncmsgs, NULL, NULL, 0));
    /* The limit itself is allowed. */
    ASSERT_OK_ON(a, fsock_socket_sendmsg(a, many, FSOCK_IOV_MAX, NULL, 0, 0, NULL, &sent));
    ASSERT_EQ_SIZE(sent, FSOCK_IOV_MAX);

    /* control_cap over FSOCK_MAX_CONTROL_LEN (the pointer is never used). */
    static uint8_t control[16];
    received = ncmsgs = 99;
    ASSERT_INVALID("FSOCK_MAX_CONTROL_LEN",
                   fsock_socket_recvmsg(b, many, 1, control, FSOCK_MAX_CONTROL_LEN + 1, NULL, 0, 0,
                                        &received, &ncmsgs, NULL, NULL, 0));
    /* Control data over the limit to send. */
    static uint8_t big[FSOCK_MAX_CONTROL_LEN];
    fsock_cmsg huge = {SOL_SOCKET, SCM_RIGHTS, big, sizeof big};
    ASSERT_INVALID("ancillary data", fsock_socket_sendmsg(a, many, 1, &huge, 1, 0, NULL, &sent));
    ASSERT_EQ_SIZE(sent, FSOCK_IOV_MAX);
    ASSERT_EQ_SIZE(received, 99);
    ASSERT_EQ_SIZE(ncmsgs, 99);
    fsock_socket_free(a);
    fsock_socket_free(b);
}

TEST_CASE(a_bad_address_and_a_timeout) {
    fsock_socket *u = NULL;
    ASSERT_OK(fsock_socket_new(FSOCK_AF_INET, FSOCK_SOCK_DGRAM, 0, &u));
    char byte[] = "x";
    fsock_iovec iov = {byte, 1};
    size_t sent = 99;
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT,
                  fsock_socket_sendmsg(u, &iov, 1, NULL, 0, 0, "127.0.0.1:notaport", &sent));
    ASSERT_EQ_SIZE(sent, 99);

    ASSERT_OK_ON(u, fsock_socket_bind(u, "127.0.0.1:0"));
    ASSERT_OK_ON(u, fsock_socket_set_timeout(u, 0.05));
    size_t received = 99, ncmsgs = 99;
    ASSERT_RESULT(FSOCK_ERR_TIMEOUT, fsock_socket_recvmsg(u, &iov, 1, NULL, 0, NULL, 0, 0,
                                                          &received, &ncmsgs, NULL, NULL, 0));
    ASSERT_EQ_SIZE(received, 99);
    ASSERT_EQ_SIZE(ncmsgs, 99);
    fsock_socket_free(u);
}

int main(void) {
    test_init();
    RUN(null_pointers_are_invalid_arguments);
    RUN(counts_over_the_limits_are_refused);
    RUN(a_bad_address_and_a_timeout);
    return 0;
}
