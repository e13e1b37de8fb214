/*
 * IPv6 on the loopback [::1]: TCP and UDP, address text in brackets, and
 * IPV6_V6ONLY. Skips (exit 0, saying so) on a machine without IPv6.
 */
#include "test.h"

static int ipv6_available(void) {
    fsock_socket *s = NULL;
    if (fsock_socket_new(FSOCK_AF_INET6, FSOCK_SOCK_STREAM, 0, &s) != FSOCK_OK) return 0;
    int ok = fsock_socket_bind(s, "[::1]:0") == FSOCK_OK;
    fsock_socket_free(s);
    return ok;
}

TEST_CASE(tcp_over_ipv6_loopback) {
    fsock_socket *srv = NULL, *cli = NULL, *conn = NULL;
    ASSERT_OK(fsock_create_server("[::1]:0", 0, &srv));
    char addr[FSOCK_ADDRSTRLEN];
    local_addr_of(srv, addr, sizeof addr);
    ASSERT(strncmp(addr, "[::1]:", 6) == 0);
    ASSERT(port_of(addr) > 0);

    /* create_server makes IPv6 sockets IPv6-only. */
    int v6only = 0;
    ASSERT_OK_ON(srv, fsock_socket_getsockopt_int(srv, FSOCK_IPPROTO_IPV6, FSOCK_IPV6_V6ONLY, &v6only));
    ASSERT_EQ_INT(v6only, 1);

    ASSERT_OK(fsock_create_connection("::1", (uint16_t)port_of(addr), 5.0, &cli));
    char peer[FSOCK_ADDRSTRLEN], cli_local[FSOCK_ADDRSTRLEN];
    ASSERT_OK_ON(srv, fsock_socket_accept(srv, &conn, peer, sizeof peer));
    local_addr_of(cli, cli_local, sizeof cli_local);
    ASSERT_EQ_STR(peer, cli_local);
    ASSERT(strncmp(peer, "[::1]:", 6) == 0);

    char buf[32];
    send_text(cli, "v6");
    recv_text(conn, buf, sizeof buf);
    ASSERT_EQ_STR(buf, "v6");

    fsock_socket_free(conn);
    fsock_socket_free(cli);
    fsock_socket_free(srv);
}

TEST_CASE(udp_over_ipv6_loopback) {
    fsock_socket *a = NULL, *b = NULL;
    ASSERT_OK(fsock_socket_new(FSOCK_AF_INET6, FSOCK_SOCK_DGRAM, 0, &a));
    ASSERT_OK(fsock_socket_new(FSOCK_AF_INET6, FSOCK_SOCK_DGRAM, 0, &b));
    ASSERT_OK_ON(a, fsock_socket_bind(a, "[::1]:0"));
    ASSERT_OK_ON(b, fsock_socket_bind(b, "[::1]:0"));
    char a_addr[FSOCK_ADDRSTRLEN], b_addr[FSOCK_ADDRSTRLEN], from[FSOCK_ADDRSTRLEN];
    local_addr_of(a, a_addr, sizeof a_addr);
    local_addr_of(b, b_addr, sizeof b_addr);

    size_t sent = 0, n = 0;
    uint8_t buf[16];
    ASSERT_OK_ON(a, fsock_socket_sendto(a, (const uint8_t *)"six", 3, 0, b_addr, &sent));
    ASSERT_OK_ON(b, fsock_socket_recvfrom(b, buf, sizeof buf, 0, &n, from, sizeof from));
    ASSERT_EQ_SIZE(n, 3);
    ASSERT_EQ_STR(from, a_addr);
    fsock_socket_free(a);
    fsock_socket_free(b);
}

TEST_CASE(v6only_can_be_turned_off_before_bind) {
    fsock_socket *s = NULL;
    int v = -1;
    ASSERT_OK(fsock_socket_new(FSOCK_AF_INET6, FSOCK_SOCK_STREAM, 0, &s));
    ASSERT_OK_ON(s, fsock_socket_setsockopt_int(s, FSOCK_IPPROTO_IPV6, FSOCK_IPV6_V6ONLY, 0));
    ASSERT_OK_ON(s, fsock_socket_getsockopt_int(s, FSOCK_IPPROTO_IPV6, FSOCK_IPV6_V6ONLY, &v));
    ASSERT_EQ_INT(v, 0);
    ASSERT_OK_ON(s, fsock_socket_setsockopt_int(s, FSOCK_IPPROTO_IPV6, FSOCK_IPV6_V6ONLY, 1));
    ASSERT_OK_ON(s, fsock_socket_getsockopt_int(s, FSOCK_IPPROTO_IPV6, FSOCK_IPV6_V6ONLY, &v));
    ASSERT_EQ_INT(v, 1);
    fsock_socket_free(s);
}

TEST_CASE(an_ipv4_address_on_an_ipv6_socket_is_refused) {
    fsock_socket *s = NULL;
    ASSERT_OK(fsock_socket_new(FSOCK_AF_INET6, FSOCK_SOCK_STREAM, 0, &s));
    fsock_result r = fsock_socket_bind(s, "127.0.0.1:0");
    /* The resolver or the kernel refuses, depending on the system. */
    ASSERT(r == FSOCK_ERR_IO || r == FSOCK_ERR_RESOLVE || r == FSOCK_ERR_INVALID_ARGUMENT);
    fsock_socket_free(s);
}

int main(void) {
    test_init();
    if (!ipv6_available()) {
        printf("skip - IPv6 loopback is not available on this machine\n");
        return 0;
    }
    RUN(tcp_over_ipv6_loopback);
    RUN(udp_over_ipv6_loopback);
    RUN(v6only_can_be_turned_off_before_bind);
    RUN(an_ipv4_address_on_an_ipv6_socket_is_refused);
    return 0;
}
