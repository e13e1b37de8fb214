/*
 * fsock_socket_sendmsg / fsock_socket_recvmsg: a gathered send read back
 * with a scattered receive, a pipe passed as an SCM_RIGHTS control message
 * (it works on the other side, and belongs to the receiver), and UDP over
 * 127.0.0.1 to an address, with the sender's address returned.
 */
#include <fcntl.h>
#include <sys/socket.h>

#include "test.h"

TEST_CASE(three_buffers_gathered_then_scattered) {
    fsock_socket *a = NULL, *b = NULL;
    stream_pair(&a, &b);
    char p1[] = "gat", p2[] = "her", p3[] = "ed!";
    fsock_iovec out[3] = {{p1, 3}, {p2, 3}, {p3, 3}};
    size_t sent = 0;
    ASSERT_OK_ON(a, fsock_socket_sendmsg(a, out, 3, NULL, 0, 0, NULL, &sent));
    ASSERT_EQ_SIZE(sent, 9);

    char r1[2], r2[4], r3[8];
    memset(r3, 0, sizeof r3);
    fsock_iovec in[3] = {{r1, sizeof r1}, {r2, sizeof r2}, {r3, sizeof r3}};
    size_t received = 0, ncmsgs = 99;
    int msg_flags = -1;
    char from[FSOCK_ADDRSTRLEN] = "untouched";
    ASSERT_OK_ON(b, fsock_socket_recvmsg(b, in, 3, NULL, 0, NULL, 0, FSOCK_MSG_WAITALL,
                                         &received, &ncmsgs, &msg_flags, from, sizeof from));
    ASSERT_EQ_SIZE(received, 9);
    ASSERT_EQ_SIZE(ncmsgs, 0);
    ASSERT_EQ_INT(msg_flags, 0);
    ASSERT(memcmp(r1, "ga", 2) == 0);
    ASSERT(memcmp(r2, "ther", 4) == 0);
    ASSERT(memcmp(r3, "ed!", 3) == 0);
    /* A socketpair's peer is unnamed: some text, always NUL-terminated. */
    ASSERT(memchr(from, '\0', sizeof from) != NULL);
    fsock_socket_free(a);
    fsock_socket_free(b);
}

TEST_CASE(a_pipe_passed_as_scm_rights_works_on_the_other_side) {
    fsock_socket *a = NULL, *b = NULL;
    stream_pair(&a, &b);
    int pipefd[2];
    ASSERT_EQ_INT(pipe(pipefd), 0);

    char byte[] = "x";
    fsock_iovec out = {byte, 1};
    fsock_cmsg rights = {SOL_SOCKET, SCM_RIGHTS, (const uint8_t *)&pipefd[1], sizeof(int)};
    size_t sent = 0;
    ASSERT_OK_ON(a, fsock_socket_sendmsg(a, &out, 1, &rights, 1, 0, NULL, &sent));
    ASSERT_EQ_SIZE(sent, 1);
    /* The sender's descriptor stays open and ours. */
    ASSERT_EQ_INT(close(pipefd[1]), 0);

    char got[4];
    fsock_iovec in = {got, sizeof got};
    uint64_t control[CMSG_SPACE(4 * sizeof(int)) / sizeof(uint64_t) + 1];
    fsock_cmsg cmsgs[2];
    memset(cmsgs, 0, sizeof cmsgs);
    size_t received = 0, ncmsgs = 0;
    int msg_flags = -1;
    ASSERT_OK_ON(b, fsock_socket_recvmsg(b, &in, 1, (uint8_t *)control, sizeof control, cmsgs, 2,
                                         MSG_CMSG_CLOEXEC, &received, &ncmsgs, &msg_flags, NULL,
                                         0));
    ASSERT_EQ_SIZE(received, 1);
    ASSERT_EQ_INT(got[0], 'x');
    ASSERT_EQ_SIZE(ncmsgs, 1);
    ASSERT(!(msg_flags & MSG_CTRUNC));
    ASSERT_EQ_INT(cmsgs[0].level, SOL_SOCKET);
    ASSERT_EQ_INT(cmsgs[0].type, SCM_RIGHTS);
    ASSERT_EQ_SIZE(cmsgs[0].len, sizeof(int));
    ASSERT(cmsgs[0].data >= (const uint8_t *)control &&
           cmsgs[0].data + cmsgs[0].len <= (const uint8_t *)control + sizeof control);
    ASSERT_EQ_SIZE(cmsgs[1].len, 0); /* only cmsgs[0..ncmsgs] are written */
    int fd = -1;
    memcpy(&fd, cmsgs[0].data, sizeof fd);
    ASSERT(fd >= 0);
    ASSERT(fcntl(fd, F_GETFD) & FD_CLOEXEC);

    /* The received descriptor is the pipe's write end: write through it. */
    ASSERT_EQ_INT(write(fd, "hello", 5), 5);
    char text[8] = {0};
    ASSERT_EQ_INT(read(pipefd[0], text, sizeof text - 1), 5);
    ASSERT_EQ_STR(text, "hello");

    /* The caller owns what it received. */
    ASSERT_EQ_INT(close(fd), 0);
    ASSERT_EQ_INT(close(pipefd[0]), 0);
    fsock_socket_free(a);
    fsock_socket_free(b);
}

TEST_CASE(udp_to_an_address_gives_the_senders_address) {
    fsock_socket *rx = NULL, *tx = NULL;
    ASSERT_OK(fsock_socket_new(FSOCK_AF_INET, FSOCK_SOCK_DGRAM, 0, &rx));
    ASSERT_OK(fsock_socket_new(FSOCK_AF_INET, FSOCK_SOCK_DGRAM, 0, &tx));
    ASSERT_OK_ON(rx, fsock_socket_bind(rx, "127.0.0.1:0"));
    ASSERT_OK_ON(tx, fsock_socket_bind(tx, "127.0.0.1:0"));
    char rx_addr[FSOCK_ADDRSTRLEN], tx_addr[FSOCK_ADDRSTRLEN];
    local_addr_of(rx, rx_addr, sizeof rx_addr);
    local_addr_of(tx, tx_addr, sizeof tx_addr);

    char h[] = "data", t[] = "gram";
    fsock_iovec out[2] = {{h, 4}, {t, 4}};
    size_t sent = 0;
    ASSERT_OK_ON(tx, fsock_socket_sendmsg(tx, out, 2, NULL, 0, 0, rx_addr, &sent));
    ASSERT_EQ_SIZE(sent, 8);

    char buf[16] = {0};
    fsock_iovec in = {buf, sizeof buf};
    size_t received = 0, ncmsgs = 99;
    int msg_flags = -1;
    char from[FSOCK_ADDRSTRLEN] = {0};
    ASSERT_OK_ON(rx, fsock_socket_recvmsg(rx, &in, 1, NULL, 0, NULL, 0, 0, &received, &ncmsgs,
                                          &msg_flags, from, sizeof from));
    ASSERT_EQ_SIZE(received, 8);
    ASSERT_EQ_STR(buf, "datagram");
    ASSERT_EQ_SIZE(ncmsgs, 0);
    ASSERT_EQ_INT(msg_flags, 0);
    ASSERT_EQ_STR(from, tx_addr);

    /* Reply to the address as it came, and cut a datagram: MSG_TRUNC. */
    fsock_iovec reply = {buf, 8};
    ASSERT_OK_ON(rx, fsock_socket_sendmsg(rx, &reply, 1, NULL, 0, 0, from, &sent));
    char small[3];
    fsock_iovec cut = {small, sizeof small};
    char short_from[6];
    ASSERT_OK_ON(tx, fsock_socket_recvmsg(tx, &cut, 1, NULL, 0, NULL, 0, 0, &received, &ncmsgs,
                                          &msg_flags, short_from, sizeof short_from));
    ASSERT_EQ_SIZE(received, 3);
    ASSERT(msg_flags & MSG_TRUNC);
    ASSERT_EQ_STR(short_from, "127.0"); /* cut to the buffer, NUL-terminated */
    fsock_socket_free(rx);
    fsock_socket_free(tx);
}

int main(void) {
    test_init();
    RUN(three_buffers_gathered_then_scattered);
    RUN(a_pipe_passed_as_scm_rights_works_on_the_other_side);
    RUN(udp_to_an_address_gives_the_senders_address);
    return 0;
}
