/*
 * udp_echo_client: the tutorial's UDP client, in C.
 *
 * Reads lines from standard input, sends each as one datagram to the
 * server (sendto) and prints the reply (recvfrom). Unlike TCP, an empty
 * line is a real, empty datagram. UDP may lose datagrams, so a reply that
 * does not come within 2 seconds is reported and the client goes on.
 * "q" or the end of input quits.
 *
 * Usage: udp_echo_client [HOST [PORT]]     (default 127.0.0.1 9000)
 *        udp_echo_client [--host HOST] [--port PORT]
 */
#include <stdio.h>
#include <string.h>

#include "common.h"

int main(int argc, char **argv) {
    example_args args = example_parse_args(argc, argv, "udp_echo_client", 9000);
    const char *server = args.address;
    int family = strchr(args.host, ':') ? FSOCK_AF_INET6 : FSOCK_AF_INET;

    fsock_socket *client = NULL;
    if (fsock_socket_new(family, FSOCK_SOCK_DGRAM, 0, &client) != FSOCK_OK) {
        fprintf(stderr, "udp_echo_client: %s\n", fsock_last_error_message());
        return 1;
    }
    fsock_socket_set_timeout(client, 2.0);

    int status = 0;
    char line[1024];
    while (fgets(line, sizeof line, stdin) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        if (strcmp(line, "q") == 0) break;
        size_t sent = 0;
        if (fsock_socket_sendto(client, (const uint8_t *)line, strlen(line), 0, server, &sent) != FSOCK_OK) {
            fprintf(stderr, "udp_echo_client: %s\n", fsock_socket_errmsg(client));
            status = 1;
            break;
        }
        uint8_t reply[1024];
        char from[FSOCK_ADDRSTRLEN];
        size_t n = 0;
        fsock_result r = fsock_socket_recvfrom(client, reply, sizeof reply, 0, &n, from, sizeof from);
        if (r == FSOCK_ERR_TIMEOUT) {
            printf("no reply within 2 s (lost, or no server)\n");
            continue;
        }
        if (r != FSOCK_OK) {
            fprintf(stderr, "udp_echo_client: %s\n", fsock_socket_errmsg(client));
            status = 1;
            break;
        }
        printf("reply from %s: %.*s\n", from, (int)n, (const char *)reply);
        fflush(stdout);
    }
    fsock_socket_free(client);
    return status;
}
