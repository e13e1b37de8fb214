/*
 * The event-loop server from C (fsock_event_server): a line protocol whose
 * callbacks react to bytes instead of reading them. Several clients echoed
 * on two loops; a line split across sends kept by the server until it is
 * whole; a client vanishing mid-line, input past max_unconsumed, a
 * rejected line and an idle client each reported to `closed` with their
 * code; the per-connection pointer set in `opened` and freed in `closed`;
 * shutdown from inside a callback (both ways); the connection limit; a
 * Unix stream server; every NULL argument.
 */
#include <sys/stat.h>
#include <time.h>

#include "test.h"

/* ---- what the callbacks share with the test ------------------------------ */

#define MAX_CLOSED 16
#define DATA_CAP 256

typedef struct {
    fsock_result result;
    char message[512];
} closed_record;

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    fsock_event_server *server; /* for fsock_event_server_shutdown from a callback */
    int opened;
    int closed;
    closed_record closes[MAX_CLOSED];
    int received_calls;
    char last_data[DATA_CAP]; /* the `data` of the last received call, as text */
    char rest[DATA_CAP];      /* what `end` was given */
    int ends;
    char log[2048]; /* on_error lines */
    fsock_result stop_result;
} state;

static void state_init(state *st) {
    memset(st, 0, sizeof *st);
    ASSERT_EQ_INT(pthread_mutex_init(&st->lock, NULL), 0);
    ASSERT_EQ_INT(pthread_cond_init(&st->changed, NULL), 0);
    st->stop_result = FSOCK_ERR_PANIC;
}

static void state_destroy(state *st) {
    pthread_mutex_destroy(&st->lock);
    pthread_cond_destroy(&st->changed);
}

/* Waits (at most 30 s) until *counter >= n. */
static void wait_count(state *st, const int *counter, int n) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 30;
    pthread_mutex_lock(&st->lock);
    while (*counter < n) {
        int rc = pthread_cond_timedwait(&st->changed, &st->lock, &until);
        if (rc != 0) FAIL_("waited 30 s for a count of %d, have %d", n, *counter);
    }
    pthread_mutex_unlock(&st->lock);
}

/* Waits (at most 30 s) until a received call has seen exactly `text`. */
static void wait_data(state *st, const char *text) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 30;
    pthread_mutex_lock(&st->lock);
    while (strcmp(st->last_data, text) != 0) {
        int rc = pthread_cond_timedwait(&st->changed, &st->lock, &until);
        if (rc != 0) FAIL_("waited 30 s for data \"%s\", last was \"%s\"", text, st->last_data);
    }
    pthread_mutex_unlock(&st->lock);
}

/* ---- the protocol: lines ------------------------------------------------- */

/* Per-connection state, made in `opened`, freed in `closed`. */
#define CONN_MAGIC 0x6576636fu
typedef struct {
    unsigned magic;
    char peer[FSOCK_ADDRSTRLEN];
    size_t lines;
} conn_state;

static void on_opened(void *userdata, fsock_evconn *conn, void **out_conn_data) {
    state *st = userdata;
    ASSERT(*out_conn_data == NULL);
    conn_state *cs = calloc(1, sizeof *cs);
    ASSERT(cs != NULL);
    cs->magic = CONN_MAGIC;
    ASSERT_OK(fsock_evconn_peer(conn, cs->peer, sizeof cs->peer, NULL));
    *out_conn_data = cs;
    pthread_mutex_lock(&st->lock);
    st->opened++;
    pthread_cond_broadcast(&st->changed);
    pthread_mutex_unlock(&st->lock);
}

/* One whole line (without its newline): a command, or echoed back. */
static void on_line(state *st, fsock_evconn *conn, const uint8_t *line, size_t len) {
    if (len == 4 && memcmp(line, "stop", 4) == 0) {
        st->stop_result = fsock_evconn_shutdown_server(conn);
    } else if (len == 11 && memcmp(line, "stop-server", 11) == 0) {
        st->stop_result = fsock_event_server_shutdown(st->server);
    } else if (len == 3 && memcmp(line, "bye", 3) == 0) {
        ASSERT_OK(fsock_evconn_write(conn, (const uint8_t *)"bye\n", 4));
        ASSERT_OK(fsock_evconn_close(conn));
    } else if (len == 3 && memcmp(line, "bad", 3) == 0) {
        ASSERT_OK(fsock_evconn_fail(conn, "bad command"));
    } else {
        ASSERT_OK(fsock_evconn_write(conn, line, len));
        ASSERT_OK(fsock_evconn_write(conn, (const uint8_t *)"\n", 1));
    }
}

/* Consumes whole lines only: a partial line stays with the server. */
static size_t on_received(void *userdata, fsock_evconn *conn, void *conn_data,
                          const uint8_t *data, size_t len) {
    state *st = userdata;
    conn_state *cs = conn_data;
    ASSERT(cs != NULL && cs->magic == CONN_MAGIC);
    ASSERT(data != NULL && len > 0);
    pthread_mutex_lock(&st->lock);
    st->received_calls++;
    snprintf(st->last_data, sizeof st->last_data, "%.*s", (int)len, (const char *)data);
    pthread_cond_broadcast(&st->changed);
    pthread_mutex_unlock(&st->lock);
    size_t used = 0;
    for (;;) {
        const uint8_t *nl = memchr(data + used, '\n', len - used);
        if (nl == NULL) return used;
        size_t line = (size_t)(nl - (data + used));
        on_line(st, conn, data + used, line);
        cs->lines++;
        used += line + 1;
    }
}

/* `end`: answers the unfinished line ("rest: ...") instead of failing. */
static void on_end(void *userdata, fsock_evconn *conn, void *conn_data, const uint8_t *rest,
                   size_t len) {
    state *st = userdata;
    ASSERT(conn_data != NULL && rest != NULL);
    pthread_mutex_lock(&st->lock);
    snprintf(st->rest, sizeof st->rest, "%.*s", (int)len, (const char *)rest);
    st->ends++;
    pthread_mutex_unlock(&st->lock);
    ASSERT_OK(fsock_evconn_write(conn, (const uint8_t *)"rest: ", 6));
    ASSERT_OK(fsock_evconn_write(conn, rest, len));
}

static void on_closed(void *userdata, void *conn_data, fsock_result result, const char *message) {
    state *st = userdata;
    conn_state *cs = conn_data;
    ASSERT(cs != NULL && cs->magic == CONN_MAGIC);
    ASSERT(message != NULL);
    ASSERT_CONTAINS(cs->peer, "127.0.0.1:");
    cs->magic = 0;
    free(cs);
    pthread_mutex_lock(&st->lock);
    if (st->closed < MAX_CLOSED) {
        st->closes[st->closed].result = result;
        snprintf(st->closes[st->closed].message, sizeof st->closes[0].message, "%s", message);
    }
    st->closed++;
    pthread_cond_broadcast(&st->changed);
    pthread_mutex_unlock(&st->lock);
}

static void keep_log(void *userdata, const char *message) {
    state *st = userdata;
    pthread_mutex_lock(&st->lock);
    size_t used = strlen(st->log);
    snprintf(st->log + used, sizeof st->log - used, "%s\n", message);
    pthread_mutex_unlock(&st->lock);
}

static const fsock_event_callbacks LINES = {on_opened, on_received, NULL, on_closed,
                                            unexpected_error, NULL, NULL};

/* ---- serving on a thread of its own -------------------------------------- */

typedef struct {
    fsock_event_server *server;
    fsock_result result;
} ev_serving;

static void *ev_serving_loop(void *arg) {
    ev_serving *s = arg;
    s->result = fsock_event_server_serve(s->server);
    return NULL;
}

#define ASSERT_OK_EV(srv, expr) ASSERT_OK_MSG(fsock_event_server_errmsg, srv, expr)

/* Makes the server `cfg` says, with `cb` and `st` as userdata, into *s,
 * and starts fsock_event_server_serve on a new thread, which it returns. */
static pthread_t start(state *st, const fsock_event_config *cfg, const fsock_event_callbacks *cb,
                       ev_serving *s) {
    s->server = NULL;
    s->result = FSOCK_ERR_PANIC;
    ASSERT_OK(fsock_event_server_new(cfg, cb, st, &s->server));
    st->server = s->server;
    return start_thread(ev_serving_loop, s);
}

/* A config for 127.0.0.1, port 0, with `loops` loops. */
static fsock_event_config config(size_t loops) {
    fsock_event_config cfg;
    ASSERT_OK(fsock_event_config_init(&cfg));
    cfg.address = "127.0.0.1:0";
    cfg.loops = loops;
    return cfg;
}

/* Stops the server from this thread and joins its serving thread. */
static void stop(ev_serving *s, pthread_t t) {
    ASSERT_OK_EV(s->server, fsock_event_server_shutdown(s->server));
    join_thread(t);
    ASSERT_RESULT(FSOCK_OK, s->result);
}

static fsock_socket *client_of(const fsock_event_server *server) {
    char addr[FSOCK_ADDRSTRLEN];
    ASSERT_OK_EV(server, fsock_event_server_local_addr(server, addr, sizeof addr, NULL));
    fsock_socket *c = NULL;
    ASSERT_OK(fsock_create_connection("127.0.0.1", (uint16_t)port_of(addr), 5.0, &c));
    return c;
}

/* Reads exactly strlen(want) bytes and compares. */
static void expect(fsock_socket *c, const char *want) {
    char got[DATA_CAP];
    size_t have = 0, need = strlen(want);
    ASSERT(need < sizeof got);
    while (have < need) {
        size_t n = 0;
        ASSERT_OK_ON(c, fsock_socket_recv(c, (uint8_t *)got + have, need - have, 0, &n));
        if (n == 0) FAIL_("end of stream after %zu of %zu bytes", have, need);
        have += n;
    }
    got[have] = '\0';
    ASSERT_EQ_STR(got, want);
}

/* The server closed the connection: end of stream, or a reset when it
 * closed with input unread. */
static void expect_closed(fsock_socket *c) {
    uint8_t buf[64];
    size_t n = 99;
    fsock_result r = fsock_socket_recv(c, buf, sizeof buf, 0, &n);
    ASSERT(r == FSOCK_OK ? n == 0 : r == FSOCK_ERR_IO);
}

/* The record of the only connection closed so far. */
static closed_record only_close(state *st) {
    wait_count(st, &st->closed, 1);
    pthread_mutex_lock(&st->lock);
    ASSERT_EQ_INT(st->closed, 1);
    closed_record r = st->closes[0];
    pthread_mutex_unlock(&st->lock);
    return r;
}

/* *counter, read under the lock. */
static int count(state *st, const int *counter) {
    pthread_mutex_lock(&st->lock);
    int n = *counter;
    pthread_mutex_unlock(&st->lock);
    return n;
}

/* ---- the scenarios ------------------------------------------------------- */

TEST_CASE(several_clients_are_echoed_on_two_loops) {
    state st;
    state_init(&st);
    fsock_event_config cfg = config(2);
    ev_serving s;
    pthread_t t = start(&st, &cfg, &LINES, &s);
    size_t loops = 0;
    ASSERT_OK_EV(s.server, fsock_event_server_loops(s.server, &loops));
    ASSERT_EQ_SIZE(loops, 2);

    enum { CLIENTS = 4 };
    fsock_socket *c[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) c[i] = client_of(s.server);
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < CLIENTS; i++) {
            char line[64];
            snprintf(line, sizeof line, "client %d round %d\n", i, round);
            send_text(c[i], line);
        }
        for (int i = 0; i < CLIENTS; i++) {
            char line[64];
            snprintf(line, sizeof line, "client %d round %d\n", i, round);
            expect(c[i], line);
        }
    }
    /* Each has been answered, so each has been opened. */
    size_t open = 0;
    ASSERT_OK_EV(s.server, fsock_event_server_connections(s.server, &open));
    ASSERT_EQ_SIZE(open, CLIENTS);
    ASSERT_EQ_INT(count(&st, &st.opened), CLIENTS);

    for (int i = 0; i < CLIENTS; i++) fsock_socket_free(c[i]);
    wait_count(&st, &st.closed, CLIENTS);
    for (int i = 0; i < CLIENTS; i++) {
        ASSERT_RESULT(FSOCK_OK, st.closes[i].result); /* closed between lines */
        ASSERT_EQ_STR(st.closes[i].message, "no error");
    }
    stop(&s, t);
    ASSERT_OK_EV(s.server, fsock_event_server_connections(s.server, &open));
    ASSERT_EQ_SIZE(open, 0);
    fsock_event_server_free(s.server);
    state_destroy(&st);
}

TEST_CASE(a_line_split_across_sends_is_kept_until_whole) {
    state st;
    state_init(&st);
    fsock_event_config cfg = config(1);
    ev_serving s;
    pthread_t t = start(&st, &cfg, &LINES, &s);
    fsock_socket *c = client_of(s.server);

    send_text(c, "hel");
    wait_data(&st, "hel"); /* received returned 0: nothing consumed */
    send_text(c, "lo\nwor");
    /* The kept "hel" comes back in front of the new bytes. */
    expect(c, "hello\n");
    send_text(c, "ld\n");
    expect(c, "world\n");
    pthread_mutex_lock(&st.lock);
    ASSERT_EQ_STR(st.last_data, "world\n");
    ASSERT(st.received_calls >= 3);
    pthread_mutex_unlock(&st.lock);

    fsock_socket_free(c);
    closed_record r = only_close(&st);
    ASSERT_RESULT(FSOCK_OK, r.result);
    stop(&s, t);
    fsock_event_server_free(s.server);
    state_destroy(&st);
}

TEST_CASE(a_client_vanishing_mid_line_is_an_incomplete_frame) {
    state st;
    state_init(&st);
    fsock_event_config cfg = config(1);
    ev_serving s;
    pthread_t t = start(&st, &cfg, &LINES, &s);
    fsock_socket *c = client_of(s.server);
    send_text(c, "no newline yet");
    wait_data(&st, "no newline yet");
    fsock_socket_free(c); /* gone, mid-line */

    closed_record r = only_close(&st);
    ASSERT_RESULT(FSOCK_ERR_INCOMPLETE_FRAME, r.result);
    ASSERT_CONTAINS(r.message, "mid-frame");
    ASSERT_CONTAINS(r.message, "14 bytes");

    /* The server goes on. */
    fsock_socket *other = client_of(s.server);
    send_text(other, "still there?\n");
    expect(other, "still there?\n");
    fsock_socket_free(other);
    stop(&s, t);
    fsock_event_server_free(s.server);
    state_destroy(&st);
}

TEST_CASE(an_end_callback_gets_the_unconsumed_rest) {
    state st;
    state_init(&st);
    fsock_event_config cfg = config(1);
    fsock_event_callbacks cb = LINES;
    cb.end = on_end;
    ev_serving s;
    pthread_t t = start(&st, &cfg, &cb, &s);
    fsock_socket *c = client_of(s.server);
    send_text(c, "one\ntwo");
    expect(c, "one\n");
    ASSERT_OK_ON(c, fsock_socket_shutdown(c, FSOCK_SHUT_WR));
    /* The reply written in `end` is sent before the server closes. */
    expect(c, "rest: two");
    expect_closed(c);
    closed_record r = only_close(&st);
    ASSERT_RESULT(FSOCK_OK, r.result);
    ASSERT_EQ_STR(st.rest, "two");
    ASSERT_EQ_INT(st.ends, 1);
    fsock_socket_free(c);
    stop(&s, t);
    fsock_event_server_free(s.server);
    state_destroy(&st);
}

TEST_CASE(input_past_max_unconsumed_fails_that_connection_only) {
    state st;
    state_init(&st);
    fsock_event_config cfg = config(1);
    cfg.max_unconsumed = 16;
    ev_serving s;
    pthread_t t = start(&st, &cfg, &LINES, &s);
    fsock_socket *ok = client_of(s.server);
    send_text(ok, "short\n");
    expect(ok, "short\n");

    fsock_socket *c = client_of(s.server);
    send_text(c, "a line far longer than sixteen bytes, and no newline");
    expect_closed(c);
    closed_record r = only_close(&st);
    ASSERT_RESULT(FSOCK_ERR_FRAME_TOO_LARGE, r.result);
    ASSERT_CONTAINS(r.message, "frame too large");
    ASSERT_CONTAINS(r.message, "16 bytes");

    send_text(ok, "unharmed\n");
    expect(ok, "unharmed\n");
    fsock_socket_free(c);
    fsock_socket_free(ok);
    stop(&s, t);
    fsock_event_server_free(s.server);
    state_destroy(&st);
}

TEST_CASE(fail_reports_a_protocol_error_and_close_sends_the_reply_first) {
    state st;
    state_init(&st);
    fsock_event_config cfg = config(1);
    ev_serving s;
    pthread_t t = start(&st, &cfg, &LINES, &s);

    fsock_socket *c = client_of(s.server);
    send_text(c, "bad\nnever answered\n");
    expect_closed(c);
    closed_record r = only_close(&st);
    ASSERT_RESULT(FSOCK_ERR_PROTOCOL, r.result);
    ASSERT_CONTAINS(r.message, "protocol 127.0.0.1:");
    ASSERT_CONTAINS(r.message, "bad command");
    ASSERT_CONTAINS(r.message, "closed the connection");
    fsock_socket_free(c);

    c = client_of(s.server);
    send_text(c, "hi\nbye\nnot read\n");
    expect(c, "hi\nbye\n");
    expect_closed(c);
    wait_count(&st, &st.closed, 2);
    ASSERT_RESULT(FSOCK_OK, st.closes[1].result);
    fsock_socket_free(c);
    stop(&s, t);
    fsock_event_server_free(s.server);
    state_destroy(&st);
}

TEST_CASE(an_idle_client_is_closed_with_a_timeout) {
    state st;
    state_init(&st);
    fsock_event_config cfg = config(1);
    cfg.idle_timeout = 0.2;
    ev_serving s;
    pthread_t t = start(&st, &cfg, &LINES, &s);
    fsock_socket *c = client_of(s.server);
    send_text(c, "hello\n");
    expect(c, "hello\n");
    expect_closed(c); /* after 0.2 s of silence */
    closed_record r = only_close(&st);
    ASSERT_RESULT(FSOCK_ERR_TIMEOUT, r.result);
    ASSERT_CONTAINS(r.message, "idle");
    fsock_socket_free(c);
    stop(&s, t);
    fsock_event_server_free(s.server);
    state_destroy(&st);
}

/* A client asks for the stop; every connection is closed, serve returns. */
static void shutdown_from_a_callback(const char *command) {
    state st;
    state_init(&st);
    fsock_event_config cfg = config(2);
    ev_serving s;
    pthread_t t = start(&st, &cfg, &LINES, &s);
    fsock_socket *idle = client_of(s.server);
    send_text(idle, "here\n");
    expect(idle, "here\n");
    fsock_socket *c = client_of(s.server);
    send_text(c, command);
    join_thread(t); /* serve returns: the callback stopped the server */
    ASSERT_RESULT(FSOCK_OK, s.result);
    ASSERT_RESULT(FSOCK_OK, st.stop_result);
    ASSERT_EQ_INT(st.closed, 2); /* the loops have closed both before returning */
    for (int i = 0; i < 2; i++) {
        ASSERT_RESULT(FSOCK_ERR_CLOSED, st.closes[i].result);
        ASSERT_CONTAINS(st.closes[i].message, "the server stopped");
    }
    expect_closed(idle);
    expect_closed(c);
    size_t open = 99;
    ASSERT_OK_EV(s.server, fsock_event_server_connections(s.server, &open));
    ASSERT_EQ_SIZE(open, 0);
    fsock_socket_free(idle);
    fsock_socket_free(c);
    fsock_event_server_free(s.server);
    state_destroy(&st);
}

TEST_CASE(shutdown_from_a_callback_through_the_connection) {
    shutdown_from_a_callback("stop\n");
}

TEST_CASE(shutdown_from_a_callback_through_the_server) {
    shutdown_from_a_callback("stop-server\n");
}

TEST_CASE(past_max_connections_refuse_closes_the_newcomer_and_logs) {
    state st;
    state_init(&st);
    fsock_event_config cfg = config(1);
    cfg.max_connections = 1;
    cfg.overflow = FSOCK_SERVER_REFUSE;
    fsock_event_callbacks cb = LINES;
    cb.on_error = keep_log;
    ev_serving s;
    pthread_t t = start(&st, &cfg, &cb, &s);
    fsock_socket *first = client_of(s.server);
    send_text(first, "one\n");
    expect(first, "one\n"); /* the one place is taken */
    fsock_socket *second = client_of(s.server);
    expect_closed(second);
    pthread_mutex_lock(&st.lock);
    ASSERT_CONTAINS(st.log, "refused 127.0.0.1:");
    ASSERT_CONTAINS(st.log, "max_connections");
    pthread_mutex_unlock(&st.lock);
    ASSERT_EQ_INT(count(&st, &st.opened), 1);
    fsock_socket_free(second);
    fsock_socket_free(first);
    stop(&s, t);
    fsock_event_server_free(s.server);
    state_destroy(&st);
}

/* `closed` for a Unix client, whose address is not 127.0.0.1. */
static void on_closed_unix(void *userdata, void *conn_data, fsock_result result,
                           const char *message) {
    state *st = userdata;
    free(conn_data);
    pthread_mutex_lock(&st->lock);
    st->closes[0].result = result;
    snprintf(st->closes[0].message, sizeof st->closes[0].message, "%s", message);
    st->closed++;
    pthread_cond_broadcast(&st->changed);
    pthread_mutex_unlock(&st->lock);
}

TEST_CASE(a_unix_stream_server_serves_and_removes_its_file) {
    char dir[64], path[128], addr[160];
    make_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/ev.sock", dir);
    snprintf(addr, sizeof addr, "unix:%s", path);
    state st;
    state_init(&st);
    fsock_event_config cfg = config(1);
    cfg.address = addr;
    fsock_event_callbacks cb = LINES;
    cb.closed = on_closed_unix;
    ev_serving s;
    pthread_t t = start(&st, &cfg, &cb, &s);
    char local[FSOCK_ADDRSTRLEN];
    ASSERT_OK_EV(s.server, fsock_event_server_local_addr(s.server, local, sizeof local, NULL));
    ASSERT_EQ_STR(local, addr);

    fsock_socket *c = NULL;
    ASSERT_OK(fsock_socket_new(FSOCK_AF_UNIX, FSOCK_SOCK_STREAM, 0, &c));
    ASSERT_OK_ON(c, fsock_socket_connect(c, addr));
    send_text(c, "over unix\n");
    expect(c, "over unix\n");
    fsock_socket_free(c);
    wait_count(&st, &st.closed, 1);
    ASSERT_RESULT(FSOCK_OK, st.closes[0].result);

    stop(&s, t);
    struct stat info;
    ASSERT_EQ_INT(stat(path, &info), 0); /* still there until close */
    ASSERT_OK_EV(s.server, fsock_event_server_close(s.server));
    ASSERT_EQ_INT(stat(path, &info), -1);
    ASSERT_EQ_INT(errno, ENOENT);
    ASSERT_OK_EV(s.server, fsock_event_server_close(s.server)); /* idempotent */
    ASSERT_RESULT(FSOCK_ERR_CLOSED, fsock_event_server_serve(s.server));
    ASSERT_CONTAINS(fsock_event_server_errmsg(s.server), "closed");
    fsock_event_server_free(s.server);
    ASSERT_EQ_INT(rmdir(dir), 0);
    state_destroy(&st);
}

/* `opened` that tries every fsock_evconn_* call with a bad argument, then
 * closes the connection (after a greeting). */
static void on_opened_checks(void *userdata, fsock_evconn *conn, void **out_conn_data) {
    state *st = userdata;
    (void)out_conn_data; /* conn_data stays NULL */
    char peer[FSOCK_ADDRSTRLEN];
    size_t size = 0, pending = 99;

    ASSERT_NULL_ARG("conn", fsock_evconn_write(NULL, (const uint8_t *)"x", 1));
    ASSERT_NULL_ARG("data", fsock_evconn_write(conn, NULL, 1));
    ASSERT_OK(fsock_evconn_write(conn, NULL, 0)); /* nothing, NULL allowed */
    ASSERT_NULL_ARG("conn", fsock_evconn_close(NULL));
    ASSERT_NULL_ARG("conn", fsock_evconn_fail(NULL, "why"));
    ASSERT_NULL_ARG("message", fsock_evconn_fail(conn, NULL));
    ASSERT_INVALID("`message` is not valid UTF-8", fsock_evconn_fail(conn, "\xff"));
    ASSERT_NULL_ARG("conn", fsock_evconn_peer(NULL, peer, sizeof peer, &size));
    ASSERT_NULL_ARG("buf", fsock_evconn_peer(conn, NULL, 10, &size));
    ASSERT_NULL_ARG("conn", fsock_evconn_pending(NULL, &pending));
    ASSERT_NULL_ARG("out_pending", fsock_evconn_pending(conn, NULL));
    ASSERT_NULL_ARG("conn", fsock_evconn_shutdown_server(NULL));

    /* The peer's size is reported, a small buffer left alone. */
    char small[4] = "abc";
    ASSERT_RESULT(FSOCK_ERR_BUFFER_TOO_SMALL, fsock_evconn_peer(conn, small, sizeof small, &size));
    ASSERT_EQ_STR(small, "abc");
    ASSERT(size > sizeof "127.0.0.1:" && size <= FSOCK_ADDRSTRLEN);
    ASSERT_OK(fsock_evconn_peer(conn, peer, size, NULL));
    ASSERT_EQ_SIZE(strlen(peer) + 1, size);

    /* Nothing failed on the connection: it still greets and closes. */
    ASSERT_OK(fsock_evconn_pending(conn, &pending));
    ASSERT_EQ_SIZE(pending, 0);
    ASSERT_OK(fsock_evconn_write(conn, (const uint8_t *)"hello\n", 6));
    ASSERT_OK(fsock_evconn_pending(conn, &pending));
    ASSERT_EQ_SIZE(pending, 6);
    ASSERT_OK(fsock_evconn_close(conn));
    ASSERT_OK(fsock_evconn_write(conn, (const uint8_t *)"ignored", 7)); /* after close */
    ASSERT_OK(fsock_evconn_pending(conn, &pending));
    ASSERT_EQ_SIZE(pending, 6);
    pthread_mutex_lock(&st->lock);
    st->opened++;
    pthread_mutex_unlock(&st->lock);
}

static void on_closed_checks(void *userdata, void *conn_data, fsock_result result,
                             const char *message) {
    state *st = userdata;
    ASSERT(conn_data == NULL); /* opened did not set it */
    pthread_mutex_lock(&st->lock);
    st->closes[0].result = result;
    snprintf(st->closes[0].message, sizeof st->closes[0].message, "%s", message);
    st->closed++;
    pthread_cond_broadcast(&st->changed);
    pthread_mutex_unlock(&st->lock);
}

TEST_CASE(every_function_rejects_null_and_unknown_values) {
    state st;
    state_init(&st);
    fsock_event_config cfg = config(1);
    fsock_event_callbacks cb = LINES;
    fsock_event_server *server = NULL;
    char text[FSOCK_ADDRSTRLEN];
    size_t size = 0;

    ASSERT_NULL_ARG("out_config", fsock_event_config_init(NULL));
    ASSERT_NULL_ARG("config", fsock_event_server_new(NULL, &cb, NULL, &server));
    ASSERT_NULL_ARG("callbacks", fsock_event_server_new(&cfg, NULL, NULL, &server));
    ASSERT_NULL_ARG("out", fsock_event_server_new(&cfg, &cb, NULL, NULL));
    fsock_event_config bad = cfg;
    bad.address = NULL;
    ASSERT_NULL_ARG("config->address", fsock_event_server_new(&bad, &cb, NULL, &server));
    fsock_event_callbacks none = {NULL, NULL, NULL, NULL, NULL, NULL, NULL};
    ASSERT_NULL_ARG("callbacks->received", fsock_event_server_new(&cfg, &none, NULL, &server));
    bad = cfg;
    bad.overflow = 5;
    ASSERT_INVALID("`config->overflow` is 5", fsock_event_server_new(&bad, &cb, NULL, &server));
    bad = cfg;
    bad.idle_timeout = 0.0;
    ASSERT_INVALID("`config->idle_timeout`", fsock_event_server_new(&bad, &cb, NULL, &server));
    bad = cfg;
    bad.reuse_address = 2;
    ASSERT_INVALID("`config->reuse_address` is 2",
                   fsock_event_server_new(&bad, &cb, NULL, &server));
    bad = cfg;
    bad.address = "no port here";
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_event_server_new(&bad, &cb, NULL, &server));
    ASSERT(server == NULL); /* never written by a failing call */

    ASSERT_NULL_ARG("server", fsock_event_server_local_addr(NULL, text, sizeof text, &size));
    ASSERT_NULL_ARG("server", fsock_event_server_serve(NULL));
    ASSERT_NULL_ARG("server", fsock_event_server_shutdown(NULL));
    ASSERT_NULL_ARG("server", fsock_event_server_close(NULL));
    ASSERT_NULL_ARG("server", fsock_event_server_connections(NULL, &size));
    ASSERT_NULL_ARG("server", fsock_event_server_loops(NULL, &size));
    ASSERT_CONTAINS(fsock_event_server_errmsg(NULL), "NULL");
    ASSERT_EQ_INT(fsock_event_server_errno(NULL), EINVAL);
    fsock_event_server_free(NULL); /* a no-op */

    /* The checks on a lent connection run in `opened`. */
    cb.opened = on_opened_checks;
    cb.closed = on_closed_checks;
    ev_serving s;
    pthread_t t = start(&st, &cfg, &cb, &s);
    ASSERT_EQ_STR(fsock_event_server_errmsg(s.server), "no error");
    ASSERT_EQ_INT(fsock_event_server_errno(s.server), 0);
    ASSERT_NULL_ARG("out_count", fsock_event_server_connections(s.server, NULL));
    ASSERT_NULL_ARG("out_loops", fsock_event_server_loops(s.server, NULL));
    ASSERT_CONTAINS(fsock_event_server_errmsg(s.server), "`out_loops` is NULL");
    ASSERT_NULL_ARG("buf", fsock_event_server_local_addr(s.server, NULL, 10, &size));
    char small[4] = "abc";
    ASSERT_RESULT(FSOCK_ERR_BUFFER_TOO_SMALL,
                  fsock_event_server_local_addr(s.server, small, sizeof small, &size));
    ASSERT_EQ_STR(small, "abc");
    ASSERT(size > sizeof "127.0.0.1:" && size <= FSOCK_ADDRSTRLEN);

    fsock_socket *c = client_of(s.server);
    expect(c, "hello\n");
    expect_closed(c);
    wait_count(&st, &st.closed, 1);
    ASSERT_RESULT(FSOCK_OK, st.closes[0].result);
    fsock_socket_free(c);

    /* Serving twice at once is refused, with the server's own message. */
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_event_server_serve(s.server));
    ASSERT_CONTAINS(fsock_event_server_errmsg(s.server), "already serving");
    stop(&s, t);
    fsock_event_server_free(s.server);
    state_destroy(&st);
}

int main(void) {
    test_init();
    RUN(several_clients_are_echoed_on_two_loops);
    RUN(a_line_split_across_sends_is_kept_until_whole);
    RUN(a_client_vanishing_mid_line_is_an_incomplete_frame);
    RUN(an_end_callback_gets_the_unconsumed_rest);
    RUN(input_past_max_unconsumed_fails_that_connection_only);
    RUN(fail_reports_a_protocol_error_and_close_sends_the_reply_first);
    RUN(an_idle_client_is_closed_with_a_timeout);
    RUN(shutdown_from_a_callback_through_the_connection);
    RUN(shutdown_from_a_callback_through_the_server);
    RUN(past_max_connections_refuse_closes_the_newcomer_and_logs);
    RUN(a_unix_stream_server_serves_and_removes_its_file);
    RUN(every_function_rejects_null_and_unknown_values);
    return 0;
}
