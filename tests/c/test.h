/*
 * Shared helpers for the C tests of ferrosock (tests/c/test_*.c).
 *
 * One file per scenario, in the style of libuv's tests: each file has a few
 * TEST_CASE functions and a main() that runs them with RUN(). An assertion
 * that fails prints the expression, both values, and the thread's last
 * ferrosock error message, then aborts, so the runner sees the failure.
 *
 * Nothing may hang: test_init() makes every new socket time out after a few
 * seconds and arms a watchdog alarm for the whole binary.
 */
#ifndef FSOCK_TEST_H
#define FSOCK_TEST_H

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ferrosock.h"

/* The timeout every socket starts with: long enough for valgrind, short
 * enough that a broken test fails instead of hanging. */
#define TEST_TIMEOUT_SECONDS 10.0
/* The whole binary must finish within this (SIGALRM kills it otherwise). */
#define TEST_WATCHDOG_SECONDS 90

#define FAIL_(...)                                                                    \
    do {                                                                              \
        fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                               \
        fprintf(stderr, __VA_ARGS__);                                                 \
        fprintf(stderr, "\n    last error on this thread: %s (errno %d)\n",           \
                fsock_last_error_message(), fsock_last_errno());                      \
        fflush(stderr);                                                               \
        abort();                                                                      \
    } while (0)

#define ASSERT(cond)                                                                  \
    do {                                                                              \
        if (!(cond)) FAIL_("assertion failed: %s", #cond);                            \
    } while (0)

#define ASSERT_EQ_INT(a, b)                                                           \
    do {                                                                              \
        long long a_ = (long long)(a), b_ = (long long)(b);                           \
        if (a_ != b_) FAIL_("%s == %s failed: %lld != %lld", #a, #b, a_, b_);         \
    } while (0)

#define ASSERT_NE_INT(a, b)                                                           \
    do {                                                                              \
        long long a_ = (long long)(a), b_ = (long long)(b);                           \
        if (a_ == b_) FAIL_("%s != %s failed: both are %lld", #a, #b, a_);            \
    } while (0)

#define ASSERT_EQ_SIZE(a, b)                                                          \
    do {                                                                              \
        unsigned long long a_ = (unsigned long long)(a), b_ = (unsigned long long)(b); \
        if (a_ != b_) FAIL_("%s == %s failed: %llu != %llu", #a, #b, a_, b_);         \
    } while (0)

#define ASSERT_EQ_DOUBLE(a, b)                                                        \
    do {                                                                              \
        double a_ = (a), b_ = (b);                                                    \
        if (a_ != b_) FAIL_("%s == %s failed: %g != %g", #a, #b, a_, b_);             \
    } while (0)

#define ASSERT_EQ_STR(a, b)                                                           \
    do {                                                                              \
        const char *a_ = (a), *b_ = (b);                                              \
        if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0)                          \
            FAIL_("%s == %s failed: \"%s\" != \"%s\"", #a, #b, a_ ? a_ : "(null)",     \
                  b_ ? b_ : "(null)");                                                \
    } while (0)

#define ASSERT_CONTAINS(haystack, needle)                                             \
    do {                                                                              \
        const char *h_ = (haystack), *n_ = (needle);                                  \
        if (h_ == NULL || strstr(h_, n_) == NULL)                                     \
            FAIL_("%s does not contain \"%s\": \"%s\"", #haystack, n_,                \
                  h_ ? h_ : "(null)");                                                \
    } while (0)

/* The call must return `expected`; on failure print both names. */
#define ASSERT_RESULT(expected, expr)                                                 \
    do {                                                                              \
        fsock_result e_ = (expected);                                                 \
        fsock_result r_ = (expr);                                                     \
        if (r_ != e_)                                                                 \
            FAIL_("%s\n    expected %s, got %s", #expr, fsock_result_name((int)e_),   \
                  fsock_result_name((int)r_));                                        \
    } while (0)

#define ASSERT_OK(expr) ASSERT_RESULT(FSOCK_OK, expr)

/* The call on handle `h` must succeed; on failure also print errmsg(h),
 * the handle's own message. */
#define ASSERT_OK_MSG(errmsg, h, expr)                                                \
    do {                                                                              \
        fsock_result r_ = (expr);                                                     \
        if (r_ != FSOCK_OK)                                                           \
            FAIL_("%s\n    got %s: %s", #expr, fsock_result_name((int)r_),            \
                  errmsg(h));                                                         \
    } while (0)

/* ASSERT_OK_MSG for each kind of handle: a socket `s`, a server `srv`, a
 * framed stream `f`, a chat client `c`. */
#define ASSERT_OK_ON(s, expr) ASSERT_OK_MSG(fsock_socket_errmsg, s, expr)
#define ASSERT_OK_SRV(srv, expr) ASSERT_OK_MSG(fsock_server_errmsg, srv, expr)
#define ASSERT_OK_F(f, expr) ASSERT_OK_MSG(fsock_framed_errmsg, f, expr)
#define ASSERT_OK_C(c, expr) ASSERT_OK_MSG(fsock_chat_client_errmsg, c, expr)

/* The call must fail with FSOCK_ERR_INVALID_ARGUMENT (errno EINVAL) naming
 * the NULL argument `arg`. */
#define ASSERT_NULL_ARG(arg, expr)                                                    \
    do {                                                                              \
        ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, expr);                              \
        ASSERT_CONTAINS(fsock_last_error_message(), "`" arg "` is NULL");             \
        ASSERT_EQ_INT(fsock_last_errno(), EINVAL);                                    \
    } while (0)

/* The call must fail with FSOCK_ERR_INVALID_ARGUMENT saying `text`. */
#define ASSERT_INVALID(text, expr)                                                    \
    do {                                                                              \
        ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, expr);                              \
        ASSERT_CONTAINS(fsock_last_error_message(), text);                            \
    } while (0)

#define TEST_CASE(name) static void name(void)

#define RUN(name)                                                                     \
    do {                                                                              \
        fprintf(stderr, "-- %s\n", #name);                                            \
        name();                                                                       \
        printf("ok - %s\n", #name);                                                   \
        fflush(stdout);                                                               \
    } while (0)

/* Bounded defaults for the whole binary; call first in main(). */
static inline void test_init(void) {
    alarm(TEST_WATCHDOG_SECONDS);
    if (fsock_set_default_timeout(TEST_TIMEOUT_SECONDS) != FSOCK_OK) {
        fprintf(stderr, "cannot set the default timeout: %s\n", fsock_last_error_message());
        exit(1);
    }
}

/* The socket's local address as text, into buf. */
static inline void local_addr_of(const fsock_socket *s, char *buf, size_t len) {
    ASSERT_OK_ON(s, fsock_socket_local_addr(s, buf, len, NULL));
}

/* The port of "HOST:PORT" or "[V6]:PORT" text. */
static inline int port_of(const char *addr) {
    const char *colon = strrchr(addr, ':');
    ASSERT(colon != NULL);
    return atoi(colon + 1);
}

/* Sends a C string whole. */
static inline void send_text(fsock_socket *s, const char *text) {
    ASSERT_OK_ON(s, fsock_socket_sendall(s, (const uint8_t *)text, strlen(text), 0));
}

/* Receives once into buf as a NUL-terminated string; returns the count. */
static inline size_t recv_text(fsock_socket *s, char *buf, size_t cap) {
    size_t n = 0;
    ASSERT(cap > 0);
    ASSERT_OK_ON(s, fsock_socket_recv(s, (uint8_t *)buf, cap - 1, 0, &n));
    buf[n] = '\0';
    return n;
}

/* Runs fn(arg) on a new thread. */
static inline pthread_t start_thread(void *(*fn)(void *), void *arg) {
    pthread_t t;
    ASSERT_EQ_INT(pthread_create(&t, NULL, fn, arg), 0);
    return t;
}

static inline void join_thread(pthread_t t) {
    ASSERT_EQ_INT(pthread_join(t, NULL), 0);
}

/* A connected Unix stream pair. */
static inline void stream_pair(fsock_socket **a, fsock_socket **b) {
    ASSERT_OK(fsock_socketpair(FSOCK_AF_UNIX, FSOCK_SOCK_STREAM, 0, a, b));
}

/* A connected TCP pair over 127.0.0.1: `*client`, and `*server` the
 * server's side of the connection. The listener is freed before this
 * returns. */
static inline void tcp_pair(fsock_socket **client, fsock_socket **server) {
    fsock_socket *listener = NULL;
    ASSERT_OK(fsock_create_server("127.0.0.1:0", 0, &listener));
    char addr[FSOCK_ADDRSTRLEN];
    local_addr_of(listener, addr, sizeof addr);
    ASSERT_OK(fsock_create_connection("127.0.0.1", (uint16_t)port_of(addr), 5.0, client));
    ASSERT_OK_ON(listener, fsock_socket_accept(listener, server, NULL, 0));
    fsock_socket_free(listener);
}

/* A framed handle on `s` (which it borrows) with the codec `cfg`. */
static inline fsock_framed *framed(fsock_socket *s, const fsock_codec_config *cfg) {
    fsock_framed *f = NULL;
    ASSERT_OK_ON(s, fsock_framed_new(s, cfg, &f));
    return f;
}

/* A fresh private directory for Unix socket files: "/tmp/fsock-c-XXXXXX". */
static inline void make_temp_dir(char *buf, size_t len) {
    ASSERT(len >= sizeof "/tmp/fsock-c-XXXXXX");
    strcpy(buf, "/tmp/fsock-c-XXXXXX");
    ASSERT(mkdtemp(buf) != NULL);
}

/* ---- a server engine serving on a thread of its own ---------------------- */

/* on_error for a server that must log nothing: every line is a failure. */
static inline void unexpected_error(void *userdata, const char *message) {
    (void)userdata;
    FAIL_("the server logged: %s", message);
}

/* A server and what its fsock_server_serve returned. */
typedef struct {
    fsock_server *server;
    fsock_result result;
} serving;

static inline void *serving_loop(void *arg) {
    serving *s = arg;
    s->result = fsock_server_serve(s->server);
    return NULL;
}

/* Starts fsock_server_serve(s->server) on a new thread; returns it. */
static inline pthread_t serving_start(serving *s) {
    s->result = FSOCK_ERR_PANIC;
    return start_thread(serving_loop, s);
}

/* Joins the serving thread `t`, whose loop has been stopped (by a callback,
 * or serving_stop); fsock_server_serve must have returned FSOCK_OK. */
static inline void serving_join(serving *s, pthread_t t) {
    join_thread(t);
    ASSERT_RESULT(FSOCK_OK, s->result);
}

/* Stops the loop from this thread (fsock_server_shutdown returns once
 * fsock_server_serve has), then as serving_join. The server is not freed. */
static inline void serving_stop(serving *s, pthread_t t) {
    ASSERT_OK_SRV(s->server, fsock_server_shutdown(s->server));
    serving_join(s, t);
}

/* A client connected to `server`, which listens on 127.0.0.1. */
static inline fsock_socket *connect_to(const fsock_server *server) {
    char addr[FSOCK_ADDRSTRLEN];
    ASSERT_OK_SRV(server, fsock_server_local_addr(server, addr, sizeof addr, NULL));
    fsock_socket *c = NULL;
    ASSERT_OK(fsock_create_connection("127.0.0.1", (uint16_t)port_of(addr), 5.0, &c));
    return c;
}

/* The number of open descriptors of this process, to show that a test
 * leaked none (count before and after). */
static inline int open_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    ASSERT(d != NULL);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n - 1; /* the directory's own descriptor */
}

#endif /* FSOCK_TEST_H */
