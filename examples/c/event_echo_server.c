/*
 * event_echo_server: the tutorial's echo server (一对多: one server, many
 * clients) in C, on ferrosock's event-loop engine. No thread per client: a
 * few loops, each on one epoll, call the callbacks below as connections
 * open, bytes arrive and connections close. Everything a client sends
 * comes back unchanged. Try two phone_clients at the same time.
 *
 * Compare threaded_echo_server.c, the same server with a thread per
 * client: its callback reads and writes in a loop; here `received` only
 * says what to do with the bytes that came, and never blocks.
 *
 *   socketserver.ThreadingTCPServer(addr, SKserver)   -> fsock_event_server_new
 *   SKserver.handle()                                 -> opened / received / closed
 *   sk.serve_forever()                                -> fsock_event_server_serve
 *
 * Usage: event_echo_server [HOST [PORT]]              (default 127.0.0.1 8888)
 *        event_echo_server [--host HOST] [--port PORT]
 * The first line printed is "listening on HOST:PORT" (PORT 0: the system
 * picks one and the line says which).
 *
 * Ctrl-C (SIGINT) or SIGTERM stops it cleanly: both signals are blocked in
 * every thread, and one thread waits for them with sigwait(3) and calls
 * fsock_event_server_shutdown, so fsock_event_server_serve returns in the
 * main thread, having closed the connections still open.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

/* A new client: keep its address as the connection's own data (conn_data),
 * which every later callback of this connection gets back. */
static void opened(void *userdata, fsock_evconn *conn, void **out_conn_data) {
    (void)userdata;
    char peer[FSOCK_ADDRSTRLEN] = "?";
    fsock_evconn_peer(conn, peer, sizeof peer, NULL);
    printf("client connected: %s\n", peer);
    fflush(stdout);
    *out_conn_data = strdup(peer); /* freed in closed() */
}

/* Bytes arrived: send them all back, and say all were consumed. */
static size_t received(void *userdata, fsock_evconn *conn, void *conn_data, const uint8_t *data,
                       size_t len) {
    (void)userdata;
    (void)conn_data;
    fsock_evconn_write(conn, data, len); /* buffered; never blocks */
    return len;
}

/* The last callback of a connection: why it ended, then free its data. */
static void closed(void *userdata, void *conn_data, fsock_result result, const char *message) {
    (void)userdata;
    const char *peer = conn_data != NULL ? conn_data : "?";
    /* A reset is the same as a hang-up from a client that closed without
     * reading the last echo (the tutorial's `except ConnectionResetError`);
     * FSOCK_ERR_CLOSED: the server is stopping. */
    if (result != FSOCK_OK && result != FSOCK_ERR_IO && result != FSOCK_ERR_CLOSED) {
        fprintf(stderr, "event_echo_server: %s\n", message);
    }
    printf("client left: %s\n", peer);
    fflush(stdout);
    free(conn_data);
}

/* on_error: the server's log lines (a refused client, a failed accept). */
static void log_line(void *userdata, const char *message) {
    (void)userdata;
    fprintf(stderr, "event_echo_server: %s\n", message);
}

int main(int argc, char **argv) {
    example_args args = example_parse_args(argc, argv, "event_echo_server", 8888);

    /* Block SIGINT and SIGTERM before any thread starts (common.h). */
    example_stopper stopper;
    example_block_stop_signals(&stopper);

    fsock_event_config cfg;
    fsock_event_config_init(&cfg); /* one loop per CPU, no limits */
    cfg.address = args.address;
    fsock_event_callbacks callbacks = {
        .opened = opened, .received = received, .closed = closed, .on_error = log_line};
    fsock_event_server *server = NULL;
    if (fsock_event_server_new(&cfg, &callbacks, NULL, &server) != FSOCK_OK) {
        fprintf(stderr, "event_echo_server: %s\n", fsock_last_error_message());
        return 1;
    }
    char addr[FSOCK_ADDRSTRLEN];
    fsock_event_server_local_addr(server, addr, sizeof addr, NULL);
    example_announce(addr);

    if (example_stop_event_server_on_signal(&stopper, server) != 0) {
        fprintf(stderr, "event_echo_server: cannot start the signal thread\n");
        fsock_event_server_free(server);
        return 1;
    }
    int status = 0;
    if (fsock_event_server_serve(server) != FSOCK_OK) {
        fprintf(stderr, "event_echo_server: %s\n", fsock_event_server_errmsg(server));
        status = 1;
    }
    /* If serve ended on its own, wake the signal thread so it can be
     * joined. */
    example_stopper_join(&stopper);
    printf("shutting down\n");
    fflush(stdout);
    fsock_event_server_free(server);
    return status;
}
