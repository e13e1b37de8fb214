/*
 * phone_client: the tutorial's phone-model TCP client (客户端), in C.
 *
 * Reads lines from standard input, sends each to phone_server and prints
 * the upper-cased reply. "q" ends the call; so does the end of input.
 * Empty lines are skipped: a TCP stream has no empty messages (sending 0
 * bytes sends nothing, and the client would wait for ever for a reply).
 *
 * Usage: phone_client [HOST [PORT]]     (default 127.0.0.1 8888)
 *        phone_client [--host HOST] [--port PORT]
 *   printf 'hello\nq\n' | phone_client 127.0.0.1 8888
 */
#include <stdio.h>
#include <string.h>

#include "common.h"

int main(int argc, char **argv) {
    example_args args = example_parse_args(argc, argv, "phone_client", 8888);

    /* Dial (拨号): resolve HOST, connect, and give up after 5 seconds. */
    fsock_socket *phone = NULL;
    if (fsock_create_connection(args.host, args.port, 5.0, &phone) != FSOCK_OK) {
        fprintf(stderr, "phone_client: %s\n", fsock_last_error_message());
        return 1;
    }
    /* Replies must come within 5 seconds too. */
    fsock_socket_set_timeout(phone, 5.0);

    int status = 0;
    char line[1024];
    while (fgets(line, sizeof line, stdin) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        size_t len = strlen(line);
        if (len == 0) continue;
        /* sendall takes bytes and their count: text is just bytes here. */
        if (fsock_socket_sendall(phone, (const uint8_t *)line, len, 0) != FSOCK_OK) {
            fprintf(stderr, "phone_client: %s\n", fsock_socket_errmsg(phone));
            status = 1;
            break;
        }
        if (strcmp(line, "q") == 0) break; /* hang up */

        uint8_t reply[1024];
        size_t n = 0;
        if (fsock_socket_recv(phone, reply, sizeof reply, 0, &n) != FSOCK_OK) {
            fprintf(stderr, "phone_client: %s\n", fsock_socket_errmsg(phone));
            status = 1;
            break;
        }
        if (n == 0) {
            printf("server hung up\n");
            break;
        }
        printf("server replied: %.*s\n", (int)n, (const char *)reply);
        fflush(stdout);
    }
    fsock_socket_free(phone); /* closes the connection */
    return status;
}
