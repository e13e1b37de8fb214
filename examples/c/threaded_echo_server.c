/*
 * threaded_echo_server: the tutorial's socketserver.ThreadingTCPServer
 * (一对多: one server, many clients) in C, on ferrosock's server engine.
 * Every client gets a thread of its own, and everything it sends comes
 * back unchanged. Try two phone_clients at the same time.
 *
 *   class SKserver(socketserver.BaseRequestHandler):      -> echo() below
 *   socketserver.ThreadingTCPServer(addr, SKserver)       -> fsock_server_new
 *   sk.serve_forever()                                    -> fsock_server_serve
 *
 * Usage: threaded_echo_server [HOST [PORT]]               (default 127.0.0.1 8888)
 *        threaded_echo_server [--host HOST] [--port PORT]
 * The first line printed is "listening on HOST:PORT" (PORT 0: the system
 * picks one and the line says which).
 *
 * Ctrl-C (SIGINT) or SIGTERM stops it cleanly: both signals are blocked in
 * every thread, and one thread waits for them with sigwait(3) and calls
 * fsock_server_shutdown, so fsock_server_serve returns in the main thread,
 * which frees the server. Clients still connected are not waited for
 * (block_on_close false): their threads end with the process.
 */
#include <errno.h>
#include <stdio.h>

#include "common.h"

/* on_connection, BaseRequestHandler.handle(): echo until the client hangs
 * up. `conn` is lent for the call; the server closes it afterwards. */
static int echo(void *userdata, fsock_socket *conn, const char *peer) {
    (void)userdata;
    printf("client connected: %s\n", peer);
    fflush(stdout);
    for (;;) {
        uint8_t buf[1024];
        size_t n = 0;
        fsock_result rc = fsock_socket_recv(conn, buf, sizeof buf, 0, &n);
        if (rc == FSOCK_OK && n > 0) {
            rc = fsock_socket_sendall(conn, buf, n, 0);
        }
        if (rc == FSOCK_OK && n > 0) {
            continue;
        }
        /* n == 0: the client hung up. A reset or a broken pipe means the
         * same thing from a client that closed without reading the last
         * echo (the tutorial's `except ConnectionResetError: break`). */
        int err = fsock_socket_errno(conn);
        if (rc == FSOCK_OK || err == ECONNRESET || err == EPIPE) {
            printf("client left: %s\n", peer);
            fflush(stdout);
            return 0;
        }
        return 1; /* anything else is logged by the server */
    }
}

/* on_error: the server's log lines (a callback's error, a refused client). */
static void log_line(void *userdata, const char *message) {
    (void)userdata;
    fprintf(stderr, "threaded_echo_server: %s\n", message);
}

int main(int argc, char **argv) {
    example_args args = example_parse_args(argc, argv, "threaded_echo_server", 8888);

    /* Block SIGINT and SIGTERM before any thread starts (common.h). */
    example_stopper stopper;
    example_block_stop_signals(&stopper);

    fsock_server_config cfg;
    fsock_server_config_init(&cfg);
    cfg.address = args.address;
    cfg.mode = FSOCK_SERVER_THREAD_PER_CONNECTION; /* ThreadingTCPServer */
    cfg.block_on_close = false;
    fsock_server_callbacks callbacks = {.on_connection = echo, .on_error = log_line};
    fsock_server *server = NULL;
    if (fsock_server_new(&cfg, &callbacks, NULL, &server) != FSOCK_OK) {
        fprintf(stderr, "threaded_echo_server: %s\n", fsock_last_error_message());
        return 1;
    }
    char addr[FSOCK_ADDRSTRLEN];
    fsock_server_local_addr(server, addr, sizeof addr, NULL);
    example_announce(addr);

    if (example_stop_on_signal(&stopper, server) != 0) {
        fprintf(stderr, "threaded_echo_server: cannot start the signal thread\n");
        fsock_server_free(server);
        return 1;
    }
    int status = 0;
    if (fsock_server_serve(server) != FSOCK_OK) {
        fprintf(stderr, "threaded_echo_server: %s\n", fsock_server_errmsg(server));
        status = 1;
    }
    /* If serve ended on its own, wake the signal thread so it can be
     * joined. */
    example_stopper_join(&stopper);
    printf("shutting down\n");
    fflush(stdout);
    fsock_server_free(server);
    return status;
}
