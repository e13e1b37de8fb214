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
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ferrosock.h"

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
    fsock_server_shutdown(st->server);
    return NULL;
}

static void usage(const char *problem) {
    if (problem) fprintf(stderr, "udp_server: %s\n", problem);
    fprintf(stderr, "usage: udp_server [HOST [PORT]] | [--host HOST] [--port PORT]\n");
    exit(2);
}

int main(int argc, char **argv) {
    const char *host = "127.0.0.1", *port = "9000";
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

    stopper st = {.server = NULL, .lock = PTHREAD_MUTEX_INITIALIZER, .signal = 0};
    sigemptyset(&st.set);
    sigaddset(&st.set, SIGINT);
    sigaddset(&st.set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &st.set, NULL);

    fsock_server_config cfg;
    fsock_server_config_init(&cfg);
    cfg.address = addr;
    cfg.socktype = FSOCK_SOCK_DGRAM;         /* UDPServer */
    cfg.mode = FSOCK_SERVER_SEQUENTIAL;      /* one datagram at a time */
    fsock_server_callbacks callbacks = {.on_datagram = upper, .on_error = log_line};
    if (fsock_server_new(&cfg, &callbacks, NULL, &st.server) != FSOCK_OK) {
        fprintf(stderr, "udp_server: %s\n", fsock_last_error_message());
        return 1;
    }
    fsock_server_local_addr(st.server, addr, sizeof addr, NULL);
    printf("listening on %s\n", addr);
    fflush(stdout);

    pthread_t waiter;
    if (pthread_create(&waiter, NULL, wait_for_signal, &st) != 0) {
        fprintf(stderr, "udp_server: cannot start the signal thread\n");
        fsock_server_free(st.server);
        return 1;
    }
    int status = 0;
    if (fsock_server_serve(st.server) != FSOCK_OK) {
        fprintf(stderr, "udp_server: %s\n", fsock_server_errmsg(st.server));
        status = 1;
    }
    pthread_mutex_lock(&st.lock);
    if (st.signal == 0) pthread_kill(waiter, SIGTERM);
    pthread_mutex_unlock(&st.lock);
    pthread_join(waiter, NULL);
    printf("shutting down\n");
    fflush(stdout);
    fsock_server_free(st.server);
    return status;
}
