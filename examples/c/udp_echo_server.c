/*
 * udp_echo_server: the tutorial's UDP server (数据报协议), in C.
 *
 * UDP has no connection: each datagram says who sent it (recvfrom), and the
 * reply goes back to that address (sendto). So one client going away
 * affects nothing. Replies are upper-cased. Stop with Ctrl-C.
 *
 * Usage: udp_echo_server [HOST [PORT]]     (default 127.0.0.1 9000)
 *        udp_echo_server [--host HOST] [--port PORT]
 * The first line printed is "listening on HOST:PORT" (PORT 0: the system
 * picks one and the line says which).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "common.h"

int main(int argc, char **argv) {
    example_args args = example_parse_args(argc, argv, "udp_echo_server", 9000);
    int family = strchr(args.host, ':') ? FSOCK_AF_INET6 : FSOCK_AF_INET;

    fsock_socket *server = NULL;
    if (fsock_socket_new(family, FSOCK_SOCK_DGRAM, 0, &server) != FSOCK_OK) {
        fprintf(stderr, "udp_echo_server: %s\n", fsock_last_error_message());
        return 1;
    }
    if (fsock_socket_bind(server, args.address) != FSOCK_OK) {
        fprintf(stderr, "udp_echo_server: %s\n", fsock_socket_errmsg(server));
        fsock_socket_free(server);
        return 1;
    }
    fsock_socket_set_timeout(server, FSOCK_TIMEOUT_BLOCKING);
    char addr[FSOCK_ADDRSTRLEN];
    fsock_socket_local_addr(server, addr, sizeof addr, NULL);
    example_announce(addr);

    for (;;) {
        uint8_t buf[1024];
        char from[FSOCK_ADDRSTRLEN];
        size_t n = 0, sent = 0;
        /* One datagram and its sender's address (IP + port). */
        if (fsock_socket_recvfrom(server, buf, sizeof buf, 0, &n, from, sizeof from) != FSOCK_OK) {
            fprintf(stderr, "udp_echo_server: %s\n", fsock_socket_errmsg(server));
            continue;
        }
        printf("from %s: %.*s\n", from, (int)n, (const char *)buf);
        fflush(stdout);
        for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)toupper(buf[i]);
        if (fsock_socket_sendto(server, buf, n, 0, from, &sent) != FSOCK_OK)
            fprintf(stderr, "udp_echo_server: %s\n", fsock_socket_errmsg(server));
    }
}
