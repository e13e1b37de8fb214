/*
 * fsock_socket_recvmsg when control data does not fit: a control buffer
 * too small for the descriptors sent flags MSG_CTRUNC and gives what fits;
 * more control messages than cmsgs slots fails with
 * FSOCK_ERR_BUFFER_TOO_SMALL and closes what arrived. Nothing leaks (the
 * process's open descriptors are counted before and after).
 */
#include <sys/socket.h>

#include "test.h"

/* Sends one byte with the descriptors `fds` in one SCM_RIGHTS message. */
static void send_rights(fsock_socket *s, const int *fds, size_t n) {
    char byte[] = "r";
    fsock_iovec out = {byte, 1};
    fsock_cmsg rights = {SOL_SOCKET, SCM_RIGHTS, (const uint8_t *)fds, n * sizeof(int)};
    size_t sent = 0;
    ASSERT_OK_ON(s, fsock_socket_sendmsg(s, &out, 1, &rights, 1, 0, NULL, &sent));
    ASSERT_EQ_SIZE(sent, 1);
}

TEST_CASE(a_small_control_buffer_flags_ctrunc_and_leaks_nothing) {
    fsock_socket *a = NULL, *b = NULL;
    stream_pair(&a, &b);
    int p[2];
    ASSERT_EQ_INT(pipe(p), 0);
    int three[3] = {p[0], p[1], p[0]};
    int before = open_fds();

    send_rights(a, three, 3);
    char byte;
    fsock_iovec in = {&byte, 1};
    _Alignas(size_t) uint8_t control[CMSG_LEN(sizeof(int))]; /* room for one */
    fsock_cmsg cmsgs[4];
    size_t received = 0, ncmsgs = 0;
    int msg_flags = 0;
    ASSERT_OK_ON(b, fsock_socket_recvmsg(b, &in, 1, control, sizeof control, cmsgs, 4,
                                         0, &received, &ncmsgs, &msg_flags, NULL, 0));
    ASSERT_EQ_SIZE(received, 1);
    ASSERT(msg_flags & MSG_CTRUNC);
    ASSERT_EQ_SIZE(ncmsgs, 1);
    ASSERT_EQ_SIZE(cmsgs[0].len, sizeof(int));
    int fd = -1;
    memcpy(&fd, cmsgs[0].data, sizeof fd);
    ASSERT_EQ_INT(open_fds(), before + 1);
    ASSERT_EQ_INT(close(fd), 0);
    ASSERT_EQ_INT(open_fds(), before);

    /* No control buffer at all: every descriptor is dropped. */
    send_rights(a, three, 2);
    ASSERT_OK_ON(b, fsock_socket_recvmsg(b, &in, 1, NULL, 0, NULL, 0, 0, &received, &ncmsgs,
                                         &msg_flags, NULL, 0));
    ASSERT_EQ_SIZE(ncmsgs, 0);
    ASSERT(msg_flags & MSG_CTRUNC);
    ASSERT_EQ_INT(open_fds(), before);

    ASSERT_EQ_INT(close(p[0]), 0);
    ASSERT_EQ_INT(close(p[1]), 0);
    fsock_socket_free(a);
    fsock_socket_free(b);
}

TEST_CASE(more_control_messages_than_slots_fails_and_closes_them) {
    fsock_socket *a = NULL, *b = NULL;
    stream_pair(&a, &b);
    /* SO_PASSCRED: each message also carries SCM_CREDENTIALS, so the one
     * below arrives as two control messages. */
    ASSERT_OK_ON(b, fsock_socket_setsockopt_int(b, SOL_SOCKET, SO_PASSCRED, 1));
    int p[2];
    ASSERT_EQ_INT(pipe(p), 0);
    int before = open_fds();

    send_rights(a, p, 2);
    char byte = 0;
    fsock_iovec in = {&byte, 1};
    uint64_t control[64];
    memset(control, 0, sizeof control);
    fsock_cmsg cmsgs[1] = {{7, 7, NULL, 7}};
    size_t received = 12345, ncmsgs = 12345;
    int msg_flags = 12345;
    char from[8] = "keep";
    ASSERT_RESULT(FSOCK_ERR_BUFFER_TOO_SMALL,
                  fsock_socket_recvmsg(b, &in, 1, (uint8_t *)control, sizeof control, cmsgs, 1,
                                       0, &received, &ncmsgs, &msg_flags, from, sizeof from));
    ASSERT_CONTAINS(fsock_socket_errmsg(b), "2 control messages");
    ASSERT_CONTAINS(fsock_socket_errmsg(b), "descriptors closed");
    ASSERT_EQ_INT(fsock_socket_errno(b), ERANGE);
    /* The count needed is reported; nothing else is written. */
    ASSERT_EQ_SIZE(ncmsgs, 2);
    ASSERT_EQ_SIZE(received, 12345);
    ASSERT_EQ_INT(msg_flags, 12345);
    ASSERT_EQ_STR(from, "keep");
    ASSERT_EQ_INT(cmsgs[0].level, 7);
    ASSERT_EQ_SIZE(cmsgs[0].len, 7);
    ASSERT_EQ_INT(open_fds(), before);

    /* With room for both, the next message comes whole. */
    send_rights(a, p, 1);
    fsock_cmsg two[2];
    ASSERT_OK_ON(b, fsock_socket_recvmsg(b, &in, 1, (uint8_t *)control, sizeof control, two, 2,
                                         0, &received, &ncmsgs, &msg_flags, NULL, 0));
    ASSERT_EQ_SIZE(ncmsgs, 2);
    ASSERT(!(msg_flags & MSG_CTRUNC));
    int fd = -1;
    for (size_t i = 0; i < ncmsgs; i++) {
        ASSERT_EQ_INT(two[i].level, SOL_SOCKET);
        ASSERT(((uintptr_t)(two[i].data - (const uint8_t *)control)) % sizeof(size_t) == 0);
        if (two[i].type == SCM_RIGHTS) {
            ASSERT_EQ_SIZE(two[i].len, sizeof(int));
            memcpy(&fd, two[i].data, sizeof fd);
        } else {
            ASSERT_EQ_INT(two[i].type, SCM_CREDENTIALS);
            struct ucred cred;
            ASSERT_EQ_SIZE(two[i].len, sizeof cred);
            memcpy(&cred, two[i].data, sizeof cred);
            ASSERT_EQ_INT(cred.pid, getpid());
        }
    }
    ASSERT(fd >= 0);
    ASSERT_EQ_INT(open_fds(), before + 1);
    ASSERT_EQ_INT(close(fd), 0);
    ASSERT_EQ_INT(open_fds(), before);

    ASSERT_EQ_INT(close(p[0]), 0);
    ASSERT_EQ_INT(close(p[1]), 0);
    fsock_socket_free(a);
    fsock_socket_free(b);
}

int main(void) {
    test_init();
    RUN(a_small_control_buffer_flags_ctrunc_and_leaks_nothing);
    RUN(more_control_messages_than_slots_fails_and_closes_them);
    return 0;
}
