/*
 * udp_server: the tutorial's UDP server (基于UDP的套接字) in C, on
 * ferrosock's server engine: every datagram is answered, upper-cased, to
 * whoever sent it. UDP has no connections, so several clients (the
 * tutorial's QQ chat) are served by one thread, one datagram at a time.
 * Compare udp_echo_server.c, the same server written with recvfrom/sendto.
 *
 * Usage: udp_server [HOST [PORT]]                 (default 127.0.0.1 9000)
 *        udp_server [--host HOST] [--port PORT]
 *   printf 'hello\nq\n' | udp_echo_client 127.0.0.1 9000
 * The first line printed is "listening on HOST:PORT" (PORT 0: the system
 * picks one and the line says which).
 *
 * Ctrl-C (SIGINT) or SIGTERM stops it cleanly: both signals are blocked,
 * and a thread waits for them with sigwait(3) and calls
 * fsock_server_shutdown, so fsock_server_serve returns.
 */
#include <ctype.h>
#include <stdio.h>

#include "common.h"

/* on_datagram: print it, answer it upper-cased. `data`, `peer` and `reply`
 * are valid during the call only. */
static int upper(void *userdata, const uint8_t *data, size_t len, const char *peer,
                 fsock_reply *reply) {
    (void)userdata;
    printf("from %s: %.*s\n", peer, (int)len, (const char *)data);
    fflush(stdout);
    uint8_t out[8192];
    if (len > sizeof out) len = sizeof out;
    for (size_t i = 0; i < len; i++) out[i] = (uint8_t)toupper(data[i]);
    if (fsock_reply_send(reply, out, len) != FSOCK_OK) {
        fprintf(stderr, "udp_server: %s\n", fsock_last_error_message());
        return 1;
    }
    return 0;
}

static void log_line(void *userdata, const char *message) {
    (void)userdata;
    fprintf(stderr, "udp_server: %s\n", message);
}

int main(int argc, char **argv) {
    example_args args = example_parse_args(argc, argv, "udp_server", 9000);

    example_stopper stopper;
    example_block_stop_signals(&stopper);

    fsock_server_config cfg;
    fsock_server_config_init(&cfg);
    cfg.address = args.address;
    cfg.socktype = FSOCK_SOCK_DGRAM;    /* UDPServer */
    cfg.mode = FSOCK_SERVER_SEQUENTIAL; /* one datagram at a time */
    fsock_server_callbacks callbacks = {.on_datagram = upper, .on_error = log_line};
    fsock_server *server = NULL;
    if (fsock_server_new(&cfg, &callbacks, NULL, &server) != FSOCK_OK) {
        fprintf(stderr, "udp_server: %s\n", fsock_last_error_message());
        return 1;
    }
    char addr[FSOCK_ADDRSTRLEN];
    fsock_server_local_addr(server, addr, sizeof addr, NULL);
    example_announce(addr);

    if (example_stop_on_signal(&stopper, server) != 0) {
        fprintf(stderr, "udp_server: cannot start the signal thread\n");
        fsock_server_free(server);
        return 1;
    }
    int status = 0;
    if (fsock_server_serve(server) != FSOCK_OK) {
        fprintf(stderr, "udp_server: %s\n", fsock_server_errmsg(server));
        status = 1;
    }
    example_stopper_join(&stopper);
    printf("shutting down\n");
    fflush(stdout);
    fsock_server_free(server);
    return status;
}
