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
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ferrosock.h"

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

/* The signal-waiting thread. */
typedef struct {
    sigset_t set;
    fsock_server *server;
    pthread_mutex_t lock;
    int signal; /* the signal that came, 0 if none yet */
} stopper;

static void *wait_for_signal(void *arg) {
    stopper *st = arg;
    int sig = 0;
    if (sigwait(&st->set, &sig) != 0) return NULL;
    pthread_mutex_lock(&st->lock);
    st->signal = sig;
    pthread_mutex_unlock(&st->lock);
    /* Thread-safe: returns once fsock_server_serve has stopped. */
    fsock_server_shutdown(st->server);
    return NULL;
}

static void usage(const char *problem) {
    if (problem) fprintf(stderr, "threaded_echo_server: %s\n", problem);
    fprintf(stderr, "usage: threaded_echo_server [HOST [PORT]] | [--host HOST] [--port PORT]\n");
    exit(2);
}

int main(int argc, char **argv) {
    const char *host = "127.0.0.1", *port = "8888";
    int positional = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--host") == 0 && i + 1 < argc) {
            host = argv[++i];
        } else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            port = argv[++i];
        } else if (argv[i][0] == '-') {
            usage(strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0 ? NULL : "unknown option");
        } else if (positional == 0) {
            host = argv[i];
            positional++;
        } else if (positional == 1) {
            port = argv[i];
            positional++;
        } else {
            usage("too many arguments");
        }
    }
    char *end = NULL;
    long port_number = strtol(port, &end, 10);
    if (*port == '\0' || *end != '\0' || port_number < 0 || port_number > 65535) {
        usage("PORT must be a number from 0 to 65535");
    }
    char addr[FSOCK_ADDRSTRLEN];
    snprintf(addr, sizeof addr, strchr(host, ':') ? "[%s]:%ld" : "%s:%ld", host, port_number);

    /* Block SIGINT and SIGTERM before any thread starts: every thread
     * inherits the mask, so only sigwait below ever takes them. */
    stopper st = {.server = NULL, .lock = PTHREAD_MUTEX_INITIALIZER, .signal = 0};
    sigemptyset(&st.set);
    sigaddset(&st.set, SIGINT);
    sigaddset(&st.set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &st.set, NULL);

    fsock_server_config cfg;
    fsock_server_config_init(&cfg);
    cfg.address = addr;
    cfg.mode = FSOCK_SERVER_THREAD_PER_CONNECTION; /* ThreadingTCPServer */
    cfg.block_on_close = false;
    fsock_server_callbacks callbacks = {.on_connection = echo, .on_error = log_line};
    if (fsock_server_new(&cfg, &callbacks, NULL, &st.server) != FSOCK_OK) {
        fprintf(stderr, "threaded_echo_server: %s\n", fsock_last_error_message());
        return 1;
    }
    fsock_server_local_addr(st.server, addr, sizeof addr, NULL);
    printf("listening on %s\n", addr);
    fflush(stdout);

    pthread_t waiter;
    if (pthread_create(&waiter, NULL, wait_for_signal, &st) != 0) {
        fprintf(stderr, "threaded_echo_server: cannot start the signal thread\n");
        fsock_server_free(st.server);
        return 1;
    }
    int status = 0;
    if (fsock_server_serve(st.server) != FSOCK_OK) {
        fprintf(stderr, "threaded_echo_server: %s\n", fsock_server_errmsg(st.server));
        status = 1;
    }
    /* If serve ended on its own, wake the waiter so it can be joined. */
    pthread_mutex_lock(&st.lock);
    if (st.signal == 0) pthread_kill(waiter, SIGTERM);
    pthread_mutex_unlock(&st.lock);
    pthread_join(waiter, NULL);
    printf("shutting down\n");
    fflush(stdout);
    fsock_server_free(st.server);
    return status;
}
