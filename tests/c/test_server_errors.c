/*
 * The server engine's error paths from C: a callback that returns non-zero
 * is logged (through on_error, or to stderr without it) and the server goes
 * on serving; the tutorial's "port already in use" (端口被占用); every NULL
 * or unknown argument; fsock_server_shutdown from inside a callback, in
 * every mode, without deadlock; the REFUSE policy's log line.
 */
#include <fcntl.h>
#include <time.h>

#include "test.h"

/* Everything the callbacks share with the test. */
typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    fsock_server *server; /* for shutting down from a callback */
    char log[4096];       /* on_error lines, one per line */
    int calls;
    int started; /* the holding callback is running */
    int go;      /* ... and may return */
    fsock_result shutdown_result;
} shared;

static void shared_init(shared *sh) {
    memset(sh, 0, sizeof *sh);
    ASSERT_EQ_INT(pthread_mutex_init(&sh->lock, NULL), 0);
    ASSERT_EQ_INT(pthread_cond_init(&sh->changed, NULL), 0);
    sh->shutdown_result = FSOCK_ERR_PANIC;
}

static void shared_destroy(shared *sh) {
    pthread_mutex_destroy(&sh->lock);
    pthread_cond_destroy(&sh->changed);
}

/* on_error: keep the line. */
static void keep_log(void *userdata, const char *message) {
    shared *sh = userdata;
    pthread_mutex_lock(&sh->lock);
    size_t used = strlen(sh->log);
    snprintf(sh->log + used, sizeof sh->log - used, "%s\n", message);
    pthread_mutex_unlock(&sh->lock);
}

/* Waits (bounded) until *flag is set. */
static void wait_flag(shared *sh, int *flag) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 30;
    pthread_mutex_lock(&sh->lock);
    while (!*flag) {
        ASSERT_EQ_INT(pthread_cond_timedwait(&sh->changed, &sh->lock, &until), 0);
    }
    pthread_mutex_unlock(&sh->lock);
}

static void set_flag(shared *sh, int *flag) {
    pthread_mutex_lock(&sh->lock);
    *flag = 1;
    pthread_cond_broadcast(&sh->changed);
    pthread_mutex_unlock(&sh->lock);
}

/* on_connection: reads one message; "fail N" returns N, anything else is
 * echoed and 0 returned. */
static int fail_on_request(void *userdata, fsock_socket *conn, const char *peer) {
    shared *sh = userdata;
    (void)peer;
    pthread_mutex_lock(&sh->lock);
    sh->calls++;
    pthread_mutex_unlock(&sh->lock);
    char buf[64];
    size_t n = recv_text(conn, buf, sizeof buf);
    if (strncmp(buf, "fail ", 5) == 0) return atoi(buf + 5);
    ASSERT_OK_ON(conn, fsock_socket_sendall(conn, (const uint8_t *)buf, n, 0));
    return 0;
}

/* on_connection: holds the connection until the test says go. */
static int hold(void *userdata, fsock_socket *conn, const char *peer) {
    shared *sh = userdata;
    (void)conn;
    (void)peer;
    set_flag(sh, &sh->started);
    wait_flag(sh, &sh->go);
    return 0;
}

/* on_connection / on_datagram: stop the server from inside. */
static int stop_inside(void *userdata, fsock_socket *conn, const char *peer) {
    shared *sh = userdata;
    (void)conn;
    (void)peer;
    /* Must return at once: the loop stops after this callback returns. */
    sh->shutdown_result = fsock_server_shutdown(sh->server);
    return 0;
}

static int stop_inside_datagram(void *userdata, const uint8_t *data, size_t len, const char *peer,
                                fsock_reply *reply) {
    (void)data;
    (void)len;
    ASSERT_OK(fsock_reply_send(reply, (const uint8_t *)"bye", 3));
    return stop_inside(userdata, NULL, peer);
}

/* on_datagram: "fail" returns 1; anything else is echoed. */
static int fail_datagram(void *userdata, const uint8_t *data, size_t len, const char *peer,
                         fsock_reply *reply) {
    (void)userdata;
    (void)peer;
    if (len == 4 && memcmp(data, "fail", 4) == 0) return 1;
    return fsock_reply_send(reply, data, len) != FSOCK_OK;
}

static fsock_server_config tcp_config(int mode) {
    fsock_server_config cfg;
    ASSERT_OK(fsock_server_config_init(&cfg));
    cfg.address = "127.0.0.1:0";
    cfg.mode = mode;
    cfg.idle_timeout = TEST_TIMEOUT_SECONDS;
    return cfg;
}

/* One client: sends `text`, returns what comes back before end-of-stream. */
static void converse(const fsock_server *server, const char *text, char *reply, size_t cap) {
    fsock_socket *c = connect_to(server);
    send_text(c, text);
    size_t got = 0;
    for (;;) {
        size_t n = recv_text(c, reply + got, cap - got);
        if (n == 0) break;
        got += n;
    }
    fsock_socket_free(c);
}

TEST_CASE(callback_error_is_logged_and_the_server_goes_on) {
    shared sh;
    shared_init(&sh);
    fsock_server_config cfg = tcp_config(FSOCK_SERVER_THREAD_PER_CONNECTION);
    fsock_server_callbacks cb = {fail_on_request, NULL, keep_log};
    serving s = {NULL, FSOCK_ERR_PANIC};
    ASSERT_OK(fsock_server_new(&cfg, &cb, &sh, &s.server));
    pthread_t t = serving_start(&s);

    char reply[64];
    /* The error is logged before the connection is closed, so once the
     * client reads end-of-stream the line is there. */
    converse(s.server, "fail 7", reply, sizeof reply);
    ASSERT_EQ_STR(reply, "");
    pthread_mutex_lock(&sh.lock);
    ASSERT_CONTAINS(sh.log, "error while serving 127.0.0.1:");
    ASSERT_CONTAINS(sh.log, "on_connection returned 7");
    pthread_mutex_unlock(&sh.lock);

    converse(s.server, "still serving?", reply, sizeof reply);
    ASSERT_EQ_STR(reply, "still serving?");

    serving_stop(&s, t);
    fsock_server_free(s.server);
    ASSERT_EQ_INT(sh.calls, 2);
    shared_destroy(&sh);
}

TEST_CASE(without_on_error_lines_go_to_stderr) {
    shared sh;
    shared_init(&sh);
    fsock_server_config cfg = tcp_config(FSOCK_SERVER_SEQUENTIAL);
    fsock_server_callbacks cb = {fail_on_request, NULL, NULL};
    fsock_server *server = NULL;
    ASSERT_OK(fsock_server_new(&cfg, &cb, &sh, &server));

    char path[] = "/tmp/fsock-c-stderr-XXXXXX";
    int fd = mkstemp(path);
    ASSERT(fd >= 0);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    ASSERT(saved >= 0);
    ASSERT(dup2(fd, STDERR_FILENO) >= 0);

    fsock_socket *c = connect_to(server);
    send_text(c, "fail 3");
    bool handled = false;
    fsock_result r = fsock_server_handle_request(server, FSOCK_TIMEOUT_BLOCKING, &handled);

    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    ASSERT_RESULT(FSOCK_OK, r);
    ASSERT(handled);
    char text[1024] = {0};
    ASSERT(pread(fd, text, sizeof text - 1, 0) > 0);
    close(fd);
    unlink(path);
    ASSERT_CONTAINS(text, "ferrosock server: error while serving 127.0.0.1:");
    ASSERT_CONTAINS(text, "on_connection returned 3");

    fsock_socket_free(c);
    fsock_server_free(server);
    shared_destroy(&sh);
}

TEST_CASE(datagram_callback_error_is_logged_and_the_server_goes_on) {
    shared sh;
    shared_init(&sh);
    fsock_server_config cfg;
    ASSERT_OK(fsock_server_config_init(&cfg));
    cfg.address = "127.0.0.1:0";
    cfg.socktype = FSOCK_SOCK_DGRAM;
    cfg.mode = FSOCK_SERVER_SEQUENTIAL;
    fsock_server_callbacks cb = {NULL, fail_datagram, keep_log};
    serving s = {NULL, FSOCK_ERR_PANIC};
    ASSERT_OK(fsock_server_new(&cfg, &cb, &sh, &s.server));
    char addr[FSOCK_ADDRSTRLEN];
    ASSERT_OK_SRV(s.server, fsock_server_local_addr(s.server, addr, sizeof addr, NULL));
    pthread_t t = serving_start(&s);

    fsock_socket *c = NULL;
    size_t n = 0;
    ASSERT_OK(fsock_socket_new(FSOCK_AF_INET, FSOCK_SOCK_DGRAM, 0, &c));
    ASSERT_OK_ON(c, fsock_socket_sendto(c, (const uint8_t *)"fail", 4, 0, addr, &n));
    ASSERT_OK_ON(c, fsock_socket_sendto(c, (const uint8_t *)"ok", 2, 0, addr, &n));
    char buf[16];
    /* Sequential: the reply to the second datagram means the first has
     * been handled, and its error logged. */
    ASSERT_EQ_SIZE(recv_text(c, buf, sizeof buf), 2);
    ASSERT_EQ_STR(buf, "ok");
    pthread_mutex_lock(&sh.lock);
    ASSERT_CONTAINS(sh.log, "on_datagram returned 1");
    pthread_mutex_unlock(&sh.lock);

    serving_stop(&s, t);
    fsock_server_free(s.server);
    fsock_socket_free(c);
    shared_destroy(&sh);
}

TEST_CASE(port_in_use_is_reported_with_a_hint) {
    fsock_socket *taken = NULL;
    ASSERT_OK(fsock_create_server("127.0.0.1:0", 0, &taken));
    char addr[FSOCK_ADDRSTRLEN];
    local_addr_of(taken, addr, sizeof addr);

    shared sh;
    shared_init(&sh);
    fsock_server_config cfg = tcp_config(FSOCK_SERVER_THREAD_PER_CONNECTION);
    cfg.address = addr;
    fsock_server_callbacks cb = {fail_on_request, NULL, keep_log};
    fsock_server *server = (fsock_server *)&sh; /* must stay untouched */
    ASSERT_RESULT(FSOCK_ERR_IO, fsock_server_new(&cfg, &cb, &sh, &server));
    ASSERT(server == (fsock_server *)&sh);
    ASSERT_EQ_INT(fsock_last_errno(), EADDRINUSE);
    ASSERT_CONTAINS(fsock_last_error_message(), "bind ");
    ASSERT_CONTAINS(fsock_last_error_message(), addr);
    ASSERT_CONTAINS(fsock_last_error_message(), "address already in use");
    ASSERT_CONTAINS(fsock_last_error_message(), "SO_REUSEADDR");
    fsock_socket_free(taken);
    shared_destroy(&sh);
}

TEST_CASE(every_function_rejects_null_and_unknown_values) {
    shared sh;
    shared_init(&sh);
    fsock_server_config cfg = tcp_config(FSOCK_SERVER_THREAD_PER_CONNECTION);
    fsock_server_callbacks cb = {fail_on_request, NULL, NULL};
    fsock_server *server = NULL;
    char text[FSOCK_ADDRSTRLEN];
    size_t size = 0;
    bool handled = false;

    ASSERT_NULL_ARG("out_config", fsock_server_config_init(NULL));
    ASSERT_NULL_ARG("config", fsock_server_new(NULL, &cb, NULL, &server));
    ASSERT_NULL_ARG("callbacks", fsock_server_new(&cfg, NULL, NULL, &server));
    ASSERT_NULL_ARG("out", fsock_server_new(&cfg, &cb, NULL, NULL));
    fsock_server_config bad = cfg;
    bad.address = NULL;
    ASSERT_NULL_ARG("config->address", fsock_server_new(&bad, &cb, NULL, &server));
    fsock_server_callbacks none = {NULL, NULL, NULL};
    ASSERT_NULL_ARG("callbacks->on_connection", fsock_server_new(&cfg, &none, NULL, &server));
    bad = cfg;
    bad.socktype = FSOCK_SOCK_DGRAM;
    ASSERT_NULL_ARG("callbacks->on_datagram", fsock_server_new(&bad, &cb, NULL, &server));
    bad = cfg;
    bad.socktype = 99;
    ASSERT_INVALID("`config->socktype` is 99", fsock_server_new(&bad, &cb, NULL, &server));
    bad = cfg;
    bad.mode = 7;
    ASSERT_INVALID("`config->mode` is 7", fsock_server_new(&bad, &cb, NULL, &server));
    bad = cfg;
    bad.mode = FSOCK_SERVER_POOL;
    bad.pool_threads = 0;
    ASSERT_INVALID("a pool needs at least one thread", fsock_server_new(&bad, &cb, NULL, &server));
    bad = cfg;
    bad.overflow = 5;
    ASSERT_INVALID("`config->overflow` is 5", fsock_server_new(&bad, &cb, NULL, &server));
    bad = cfg;
    bad.idle_timeout = 0.0;
    ASSERT_INVALID("`config->idle_timeout`", fsock_server_new(&bad, &cb, NULL, &server));
    bad.idle_timeout = -3.0;
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_server_new(&bad, &cb, NULL, &server));
    bad = cfg;
    bad.reuse_address = 2;
    ASSERT_INVALID("`config->reuse_address` is 2", fsock_server_new(&bad, &cb, NULL, &server));
    bad = cfg;
    bad.address = "no port here";
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_server_new(&bad, &cb, NULL, &server));
    ASSERT(server == NULL); /* never written by a failing call */

    ASSERT_NULL_ARG("server", fsock_server_local_addr(NULL, text, sizeof text, &size));
    ASSERT_NULL_ARG("server", fsock_server_serve(NULL));
    ASSERT_NULL_ARG("server", fsock_server_handle_request(NULL, 0.0, &handled));
    ASSERT_NULL_ARG("server", fsock_server_shutdown(NULL));
    ASSERT_NULL_ARG("reply", fsock_reply_send(NULL, (const uint8_t *)"x", 1));
    ASSERT_CONTAINS(fsock_server_errmsg(NULL), "NULL");
    ASSERT_EQ_INT(fsock_server_errno(NULL), EINVAL);
    fsock_server_free(NULL); /* a no-op */

    ASSERT_OK(fsock_server_new(&cfg, &cb, &sh, &server));
    ASSERT_EQ_STR(fsock_server_errmsg(server), "no error");
    ASSERT_EQ_INT(fsock_server_errno(server), 0);
    ASSERT_NULL_ARG("buf", fsock_server_local_addr(server, NULL, 10, &size));
    ASSERT_NULL_ARG("out_handled", fsock_server_handle_request(server, 0.0, NULL));
    /* The message is also the server's own. */
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT,
                  fsock_server_handle_request(server, FSOCK_TIMEOUT_DEFAULT, &handled));
    ASSERT_CONTAINS(fsock_server_errmsg(server), "FSOCK_TIMEOUT_DEFAULT");
    ASSERT_EQ_INT(fsock_server_errno(server), EINVAL);
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_server_handle_request(server, -4.0, &handled));

    /* Address text: the size is reported, the buffer left alone. */
    char small[4] = "abc";
    ASSERT_RESULT(FSOCK_ERR_BUFFER_TOO_SMALL,
                  fsock_server_local_addr(server, small, sizeof small, &size));
    ASSERT_EQ_STR(small, "abc");
    ASSERT_RESULT(FSOCK_ERR_BUFFER_TOO_SMALL, fsock_server_local_addr(server, NULL, 0, &size));
    ASSERT(size > sizeof "127.0.0.1:" && size <= FSOCK_ADDRSTRLEN);
    ASSERT_OK_SRV(server, fsock_server_local_addr(server, text, size, NULL));
    ASSERT_EQ_SIZE(strlen(text) + 1, size);
    fsock_server_free(server);
    shared_destroy(&sh);
}

/* Serves until a callback shuts the server down from inside. */
static void shutdown_from_inside(int mode) {
    shared sh;
    shared_init(&sh);
    fsock_server_config cfg = tcp_config(mode);
    cfg.pool_threads = 1;
    fsock_server_callbacks cb = {stop_inside, NULL, keep_log};
    serving s = {NULL, FSOCK_ERR_PANIC};
    ASSERT_OK(fsock_server_new(&cfg, &cb, &sh, &s.server));
    sh.server = s.server;
    pthread_t t = serving_start(&s);

    fsock_socket *c = connect_to(s.server);
    serving_join(&s, t); /* returns: the callback stopped the loop */
    fsock_server_free(s.server); /* joins the callback's thread */
    ASSERT_RESULT(FSOCK_OK, sh.shutdown_result);
    ASSERT_EQ_STR(sh.log, "");
    fsock_socket_free(c);
    shared_destroy(&sh);
}

TEST_CASE(shutdown_from_inside_a_callback_sequential) {
    shutdown_from_inside(FSOCK_SERVER_SEQUENTIAL);
}

TEST_CASE(shutdown_from_inside_a_callback_thread_per_connection) {
    shutdown_from_inside(FSOCK_SERVER_THREAD_PER_CONNECTION);
}

TEST_CASE(shutdown_from_inside_a_callback_pool) {
    shutdown_from_inside(FSOCK_SERVER_POOL);
}

TEST_CASE(shutdown_from_inside_a_datagram_callback) {
    shared sh;
    shared_init(&sh);
    fsock_server_config cfg;
    ASSERT_OK(fsock_server_config_init(&cfg));
    cfg.address = "127.0.0.1:0";
    cfg.socktype = FSOCK_SOCK_DGRAM;
    fsock_server_callbacks cb = {NULL, stop_inside_datagram, keep_log};
    serving s = {NULL, FSOCK_ERR_PANIC};
    ASSERT_OK(fsock_server_new(&cfg, &cb, &sh, &s.server));
    sh.server = s.server;
    char addr[FSOCK_ADDRSTRLEN];
    ASSERT_OK_SRV(s.server, fsock_server_local_addr(s.server, addr, sizeof addr, NULL));
    pthread_t t = serving_start(&s);

    fsock_socket *c = NULL;
    size_t n = 0;
    ASSERT_OK(fsock_socket_new(FSOCK_AF_INET, FSOCK_SOCK_DGRAM, 0, &c));
    ASSERT_OK_ON(c, fsock_socket_sendto(c, (const uint8_t *)"stop", 4, 0, addr, &n));
    char buf[8];
    ASSERT_EQ_SIZE(recv_text(c, buf, sizeof buf), 3);
    serving_join(&s, t);
    fsock_server_free(s.server);
    ASSERT_RESULT(FSOCK_OK, sh.shutdown_result);
    fsock_socket_free(c);
    shared_destroy(&sh);
}

TEST_CASE(refuse_policy_closes_and_logs_the_extra_client) {
    shared sh;
    shared_init(&sh);
    fsock_server_config cfg = tcp_config(FSOCK_SERVER_THREAD_PER_CONNECTION);
    cfg.max_connections = 1;
    cfg.overflow = FSOCK_SERVER_REFUSE;
    fsock_server_callbacks cb = {hold, NULL, keep_log};
    serving s = {NULL, FSOCK_ERR_PANIC};
    ASSERT_OK(fsock_server_new(&cfg, &cb, &sh, &s.server));
    pthread_t t = serving_start(&s);

    fsock_socket *first = connect_to(s.server);
    wait_flag(&sh, &sh.started); /* the one allowed connection is being served */
    fsock_socket *second = connect_to(s.server);
    uint8_t buf[8];
    size_t n = 99;
    fsock_result r = fsock_socket_recv(second, buf, sizeof buf, 0, &n);
    /* Refused: closed at once (end-of-stream, or a reset). */
    ASSERT(r == FSOCK_OK ? n == 0 : r == FSOCK_ERR_IO);
    pthread_mutex_lock(&sh.lock);
    ASSERT_CONTAINS(sh.log, "refused connection from 127.0.0.1:");
    ASSERT_CONTAINS(sh.log, "max_connections = 1");
    pthread_mutex_unlock(&sh.lock);

    set_flag(&sh, &sh.go);
    serving_stop(&s, t);
    fsock_server_free(s.server);
    fsock_socket_free(first);
    fsock_socket_free(second);
    shared_destroy(&sh);
}

int main(void) {
    test_init();
    RUN(callback_error_is_logged_and_the_server_goes_on);
    RUN(without_on_error_lines_go_to_stderr);
    RUN(datagram_callback_error_is_logged_and_the_server_goes_on);
    RUN(port_in_use_is_reported_with_a_hint);
    RUN(every_function_rejects_null_and_unknown_values);
    RUN(shutdown_from_inside_a_callback_sequential);
    RUN(shutdown_from_inside_a_callback_thread_per_connection);
    RUN(shutdown_from_inside_a_callback_pool);
    RUN(shutdown_from_inside_a_datagram_callback);
    RUN(refuse_policy_closes_and_logs_the_extra_client);
    return 0;
}
