/*
 * UDP echo (数据报): a server thread answers each datagram upper-cased to
 * the address recvfrom reported; clients use sendto/recvfrom, or connect.
 */
#include <ctype.h>

#include "test.h"

typedef struct {
    fsock_socket *sock;
    int answered;
} udp_server;

/* Answers datagrams until one says "q" (which is not answered). */
static void *udp_serve(void *arg) {
    udp_server *st = arg;
    for (;;) {
        uint8_t buf[512];
        char from[FSOCK_ADDRSTRLEN];
        size_t n = 0, sent = 0;
        ASSERT_OK_ON(st->sock, fsock_socket_recvfrom(st->sock, buf, sizeof buf, 0, &n, from, sizeof from));
        if (n == 1 && buf[0] == 'q') break;
        for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)toupper(buf[i]);
        ASSERT_OK_ON(st->sock, fsock_socket_sendto(st->sock, buf, n, 0, from, &sent));
        ASSERT_EQ_SIZE(sent, n);
        st->answered++;
    }
    return NULL;
}

static void start_server(udp_server *st, char *addr, size_t len, pthread_t *t) {
    ASSERT_OK(fsock_socket_new(FSOCK_AF_INET, FSOCK_SOCK_DGRAM, 0, &st->sock));
    ASSERT_OK_ON(st->sock, fsock_socket_bind(st->sock, "127.0.0.1:0"));
    local_addr_of(st->sock, addr, len);
    *t = start_thread(udp_serve, st);
}

static void stop_server(fsock_socket *client, udp_server *st, const char *addr, pthread_t t) {
    size_t sent = 0;
    ASSERT_OK_ON(client, fsock_socket_sendto(client, (const uint8_t *)"q", 1, 0, addr, &sent));
    join_thread(t);
    fsock_socket_free(st->sock);
}

TEST_CASE(sendto_recvfrom_round_trip) {
    udp_server st = {0};
    char addr[FSOCK_ADDRSTRLEN];
    pthread_t t;
    start_server(&st, addr, sizeof addr, &t);

    fsock_socket *c = NULL;
    ASSERT_OK(fsock_socket_new(FSOCK_AF_INET, FSOCK_SOCK_DGRAM, 0, &c));
    const char *words[] = {"hello", "udp is a datagram protocol", ""};
    for (size_t w = 0; w < sizeof words / sizeof *words; w++) {
        size_t len = strlen(words[w]), sent = 0, n = 0;
        ASSERT_OK_ON(c, fsock_socket_sendto(c, (const uint8_t *)words[w], len, 0, addr, &sent));
        ASSERT_EQ_SIZE(sent, len);
        char reply[512], from[FSOCK_ADDRSTRLEN];
        ASSERT_OK_ON(c, fsock_socket_recvfrom(c, (uint8_t *)reply, sizeof reply - 1, 0, &n, from, sizeof from));
        reply[n] = '\0';
        ASSERT_EQ_SIZE(n, len); /* an empty datagram comes back empty */
        for (size_t i = 0; i < n; i++) ASSERT_EQ_INT(reply[i], toupper((unsigned char)words[w][i]));
        ASSERT_EQ_STR(from, addr);
    }
    stop_server(c, &st, addr, t);
    ASSERT_EQ_INT(st.answered, 3);
    fsock_socket_free(c);
}

TEST_CASE(connected_udp_uses_send_and_recv) {
    udp_server st = {0};
    char addr[FSOCK_ADDRSTRLEN];
    pthread_t t;
    start_server(&st, addr, sizeof addr, &t);

    fsock_socket *c = NULL;
    ASSERT_OK(fsock_socket_new(FSOCK_AF_INET, FSOCK_SOCK_DGRAM, 0, &c));
    ASSERT_OK_ON(c, fsock_socket_connect(c, addr));
    char peer[FSOCK_ADDRSTRLEN];
    ASSERT_OK_ON(c, fsock_socket_peer_addr(c, peer, sizeof peer, NULL));
    ASSERT_EQ_STR(peer, addr);
    send_text(c, "connected");
    char reply[64];
    recv_text(c, reply, sizeof reply);
    ASSERT_EQ_STR(reply, "CONNECTED");

    stop_server(c, &st, addr, t);
    fsock_socket_free(c);
}

TEST_CASE(a_long_datagram_is_cut_to_the_buffer_and_the_sender_is_optional) {
    fsock_socket *a = NULL, *b = NULL;
    ASSERT_OK(fsock_socket_new(FSOCK_AF_INET, FSOCK_SOCK_DGRAM, 0, &a));
    ASSERT_OK(fsock_socket_new(FSOCK_AF_INET, FSOCK_SOCK_DGRAM, 0, &b));
    ASSERT_OK_ON(b, fsock_socket_bind(b, "127.0.0.1:0"));
    char addr[FSOCK_ADDRSTRLEN];
    local_addr_of(b, addr, sizeof addr);

    size_t sent = 0, n = 0;
    ASSERT_OK_ON(a, fsock_socket_sendto(a, (const uint8_t *)"0123456789", 10, 0, addr, &sent));
    uint8_t small[4];
    /* from_buf NULL: the sender's address is not wanted. */
    ASSERT_OK_ON(b, fsock_socket_recvfrom(b, small, sizeof small, 0, &n, NULL, 0));
    ASSERT_EQ_SIZE(n, 4); /* the rest of the datagram is discarded */
    ASSERT(memcmp(small, "0123", 4) == 0);

    /* "localhost" resolves for sendto too. */
    char by_name[64];
    snprintf(by_name, sizeof by_name, "localhost:%d", port_of(addr));
    ASSERT_OK_ON(a, fsock_socket_sendto(a, (const uint8_t *)"x", 1, 0, by_name, &sent));
    ASSERT_OK_ON(b, fsock_socket_recvfrom(b, small, sizeof small, 0, &n, NULL, 0));
    ASSERT_EQ_SIZE(n, 1);

    fsock_socket_free(a);
    fsock_socket_free(b);
}

TEST_CASE(broadcast_option_can_be_set) {
    fsock_socket *s = NULL;
    int on = 0;
    ASSERT_OK(fsock_socket_new(FSOCK_AF_INET, FSOCK_SOCK_DGRAM, 0, &s));
    ASSERT_OK_ON(s, fsock_socket_setsockopt_int(s, FSOCK_SOL_SOCKET, FSOCK_SO_BROADCAST, 1));
    ASSERT_OK_ON(s, fsock_socket_getsockopt_int(s, FSOCK_SOL_SOCKET, FSOCK_SO_BROADCAST, &on));
    ASSERT_NE_INT(on, 0);
    ASSERT_OK_ON(s, fsock_socket_getsockopt_int(s, FSOCK_SOL_SOCKET, FSOCK_SO_TYPE, &on));
    ASSERT_EQ_INT(on, FSOCK_SOCK_DGRAM);
    fsock_socket_free(s);
}

int main(void) {
    test_init();
    RUN(sendto_recvfrom_round_trip);
    RUN(connected_udp_uses_send_and_recv);
    RUN(a_long_datagram_is_cut_to_the_buffer_and_the_sender_is_optional);
    RUN(broadcast_option_can_be_set);
    return 0;
}
