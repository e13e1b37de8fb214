/*
 * phone_server: the tutorial's "phone model" (打电话模型) TCP server, in C.
 *
 *   socket -> bind -> listen -> accept -> recv/send ... -> close
 *   (买手机)  (插卡)  (开机)    (等电话)   (通话)          (挂电话)
 *
 * Each client's message comes back upper-cased. A client ends its call by
 * sending "q" or by hanging up; the server then waits for the next client,
 * so it survives a client that vanishes mid-call (the tutorial's
 * ConnectionResetError). Stop the server with Ctrl-C.
 *
 * Usage: phone_server [HOST [PORT]]     (default 127.0.0.1 8888)
 *        phone_server [--host HOST] [--port PORT]
 * The first line printed is "listening on HOST:PORT"; with PORT 0 the
 * system picks a free port and that line says which.
 */
#include <ctype.h>
#include <stdio.h>

#include "common.h"

/* Talks to one client until it says "q" or goes away. */
static void serve_client(fsock_socket *conn, const char *peer) {
    for (;;) {
        uint8_t buf[1024];
        size_t n = 0;
        /* recv needs a buffer and its size: at most sizeof buf bytes. */
        fsock_result r = fsock_socket_recv(conn, buf, sizeof buf, 0, &n);
        if (r != FSOCK_OK) {
            /* ECONNRESET: the client vanished (客户端强制退出). Not fatal. */
            printf("[%s] connection lost: %s\n", peer, fsock_socket_errmsg(conn));
            return;
        }
        if (n == 0) { /* 0 bytes: the client hung up (对方挂断) */
            printf("[%s] hung up\n", peer);
            return;
        }
        if (n == 1 && buf[0] == 'q') {
            printf("[%s] said q, ending the call\n", peer);
            return;
        }
        printf("[%s] says: %.*s\n", peer, (int)n, (const char *)buf);
        for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)toupper(buf[i]);
        if (fsock_socket_sendall(conn, buf, n, 0) != FSOCK_OK) {
            printf("[%s] reply failed: %s\n", peer, fsock_socket_errmsg(conn));
            return;
        }
        fflush(stdout);
    }
}

int main(int argc, char **argv) {
    example_args args = example_parse_args(argc, argv, "phone_server", 8888);

    /* create_server = socket + SO_REUSEADDR + bind + listen. */
    fsock_socket *server = NULL;
    if (fsock_create_server(args.address, 5, &server) != FSOCK_OK) {
        fprintf(stderr, "phone_server: %s\n", fsock_last_error_message());
        return 1;
    }
    /* Calls wait for ever (the server idles until a client rings). */
    fsock_socket_set_timeout(server, FSOCK_TIMEOUT_BLOCKING);
    char addr[FSOCK_ADDRSTRLEN];
    fsock_socket_local_addr(server, addr, sizeof addr, NULL);
    example_announce(addr);

    for (;;) {
        fsock_socket *conn = NULL;
        char peer[FSOCK_ADDRSTRLEN];
        if (fsock_socket_accept(server, &conn, peer, sizeof peer) != FSOCK_OK) {
            fprintf(stderr, "phone_server: %s\n", fsock_socket_errmsg(server));
            continue;
        }
        printf("[%s] connected\n", peer);
        fflush(stdout);
        serve_client(conn, peer);
        fflush(stdout);
        fsock_socket_free(conn); /* hang up this call; wait for the next */
    }
}
