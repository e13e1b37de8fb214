/*
 * common.h: what the C examples share and none of them is about: reading
 * HOST and PORT from the command line, printing "listening on ADDR", and
 * stopping a server cleanly on Ctrl-C. The ferrosock calls stay in each
 * example, where the tutorial can show them.
 *
 * Header-only (static inline functions), so each example is still built
 * from its own .c file alone. Names start with example_, not fsock_: they
 * are not part of the library.
 */
#ifndef FSOCK_EXAMPLES_COMMON_H
#define FSOCK_EXAMPLES_COMMON_H

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ferrosock.h"

/* ---- the command line ---------------------------------------------------- */

/* Where a server listens, or a client connects. */
typedef struct {
    const char *host;                /* a name or an address; default 127.0.0.1 */
    uint16_t port;                   /* 0: a server lets the system pick one */
    char address[FSOCK_ADDRSTRLEN];  /* "HOST:PORT", "[HOST]:PORT" for IPv6 */
} example_args;

/* Prints "NAME: PROBLEM" (unless problem is NULL) and the usage line, and
 * exits with status 2. */
static inline void example_usage(const char *name, const char *problem) {
    if (problem != NULL) fprintf(stderr, "%s: %s\n", name, problem);
    fprintf(stderr, "usage: %s [HOST [PORT]] | [--host HOST] [--port PORT]\n", name);
    exit(2);
}

/* The command line of the example `name`: "[HOST [PORT]]", as the
 * tutorial's scripts take them, or "[--host HOST] [--port PORT]"; HOST
 * defaults to 127.0.0.1 and PORT to default_port. A mistake (or -h) prints
 * the usage line and exits. */
static inline example_args example_parse_args(int argc, char **argv, const char *name,
                                              uint16_t default_port) {
    example_args args = {.host = "127.0.0.1", .port = default_port};
    const char *port = NULL;
    int positional = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--host") == 0 && i + 1 < argc) {
            args.host = argv[++i];
        } else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            port = argv[++i];
        } else if (argv[i][0] == '-') {
            int help = strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0;
            example_usage(name, help ? NULL : "unknown option");
        } else if (positional == 0) {
            args.host = argv[i];
            positional++;
        } else if (positional == 1) {
            port = argv[i];
            positional++;
        } else {
            example_usage(name, "too many arguments");
        }
    }
    if (port != NULL) {
        char *end = NULL;
        long number = strtol(port, &end, 10);
        if (*port == '\0' || *end != '\0' || number < 0 || number > 65535) {
            example_usage(name, "PORT must be a number from 0 to 65535");
        }
        args.port = (uint16_t)number;
    }
    snprintf(args.address, sizeof args.address,
             strchr(args.host, ':') ? "[%s]:%u" : "%s:%u", args.host, (unsigned)args.port);
    return args;
}

/* Prints "listening on ADDR", a server's first line of output (with port
 * 0, the scripts that start it read the port the system picked from it),
 * and flushes it out at once. */
static inline void example_announce(const char *addr) {
    printf("listening on %s\n", addr);
    fflush(stdout);
}

/* ---- stopping a server on Ctrl-C ----------------------------------------- */

/* Ctrl-C (SIGINT) or SIGTERM stops a server cleanly: both signals are
 * blocked in every thread, and one thread waits for them with sigwait(3)
 * and calls fsock_server_shutdown (fsock_event_server_shutdown for an
 * event-loop server), so the serve call returns in the main thread, which
 * then frees the server. */
typedef struct {
    sigset_t set;
    fsock_server *server;             /* the server to stop, or NULL and... */
    fsock_event_server *event_server; /* ... this event-loop server, or ... */
    fsock_chat_server *chat_server;   /* ... this chat server */
    pthread_t thread;
    pthread_mutex_t lock;
    int signal; /* the signal that came, 0 if none yet */
} example_stopper;

/* Blocks SIGINT and SIGTERM. Call it before any thread starts (the
 * server's too): every thread inherits the mask, so only the stopper's
 * sigwait ever takes them. */
static inline void example_block_stop_signals(example_stopper *st) {
    st->server = NULL;
    st->event_server = NULL;
    st->chat_server = NULL;
    st->signal = 0;
    pthread_mutex_init(&st->lock, NULL);
    sigemptyset(&st->set);
    sigaddset(&st->set, SIGINT);
    sigaddset(&st->set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &st->set, NULL);
}

static inline void *example_wait_for_signal(void *arg) {
    example_stopper *st = arg;
    int sig = 0;
    if (sigwait(&st->set, &sig) != 0) return NULL;
    pthread_mutex_lock(&st->lock);
    st->signal = sig;
    pthread_mutex_unlock(&st->lock);
    /* Thread-safe: returns once the serve call has stopped serving. */
    if (st->server != NULL) {
        fsock_server_shutdown(st->server);
    } else if (st->event_server != NULL) {
        fsock_event_server_shutdown(st->event_server);
    } else {
        /* Thread-safe too: the serve call returns FSOCK_OK. */
        fsock_chat_server_close(st->chat_server);
    }
    return NULL;
}

/* Starts the thread that waits for a signal and then stops `server`.
 * Returns 0, or -1 if the thread cannot start. */
static inline int example_stop_on_signal(example_stopper *st, fsock_server *server) {
    st->server = server;
    return pthread_create(&st->thread, NULL, example_wait_for_signal, st) == 0 ? 0 : -1;
}

/* The same for an event-loop server. */
static inline int example_stop_event_server_on_signal(example_stopper *st,
                                                      fsock_event_server *server) {
    st->event_server = server;
    return pthread_create(&st->thread, NULL, example_wait_for_signal, st) == 0 ? 0 : -1;
}

/* The same for a chat server. */
static inline int example_stop_chat_server_on_signal(example_stopper *st,
                                                     fsock_chat_server *server) {
    st->chat_server = server;
    return pthread_create(&st->thread, NULL, example_wait_for_signal, st) == 0 ? 0 : -1;
}

/* Call once the serve call has returned: if it ended on its own, with
 * no signal, wakes the waiting thread; then joins it. */
static inline void example_stopper_join(example_stopper *st) {
    pthread_mutex_lock(&st->lock);
    if (st->signal == 0) pthread_kill(st->thread, SIGTERM);
    pthread_mutex_unlock(&st->lock);
    pthread_join(st->thread, NULL);
    pthread_mutex_destroy(&st->lock);
}

#endif /* FSOCK_EXAMPLES_COMMON_H */
