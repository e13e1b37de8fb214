/*
 * Flow control and half-close of the event-loop server from C: reading
 * paused in a callback and resumed through a handle from another thread
 * (what arrived meanwhile is delivered without new bytes); the
 * write_paused / write_resumed callbacks as a client that does not read
 * lets the output pile up past the high water mark and then drains it;
 * fsock_evconn_write_eof (the client reads end of file while the server
 * still reads; a later write fails); fsock_evconn_keep_open (an answer
 * after the client's end of file, through a handle); the water marks'
 * validation; every NULL argument.
 */
#include <stdbool.h>
#include <time.h>

#include "test.h"

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    fsock_conn_handle *handle; /* the (only) connection, for the test thread */
    int opened, lines, paused, resumed, ends, closed;
    int reading_after_pause; /* fsock_evconn_is_reading after the pause: 0 */
    int shut_write_result;   /* what a write after write_eof returned */
    char last_line[128];
    bool keep_open;
    bool shut; /* write_eof was called: lines are no longer echoed */
    size_t pending_at_pause, pending_at_resume;
    fsock_result closed_result;
} state;

static void state_init(state *st) {
    memset(st, 0, sizeof *st);
    ASSERT_EQ_INT(pthread_mutex_init(&st->lock, NULL), 0);
    ASSERT_EQ_INT(pthread_cond_init(&st->changed, NULL), 0);
    st->reading_after_pause = -1;
    st->shut_write_result = -1;
    st->closed_result = FSOCK_ERR_PANIC;
}

static void state_destroy(state *st) {
    fsock_conn_handle_free(st->handle);
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

static int count(state *st, const int *counter) {
    pthread_mutex_lock(&st->lock);
    int n = *counter;
    pthread_mutex_unlock(&st->lock);
    return n;
}

static void bump(state *st, int *counter) {
    pthread_mutex_lock(&st->lock);
    (*counter)++;
    pthread_cond_broadcast(&st->changed);
    pthread_mutex_unlock(&st->lock);
}

/* ---- the protocol -------------------------------------------------------- */

static void on_opened(void *userdata, fsock_evconn *conn, void **out_conn_data) {
    state *st = userdata;
    (void)out_conn_data;
    bool reading = false;
    ASSERT_OK(fsock_evconn_is_reading(conn, &reading));
    ASSERT(reading);
    size_t high = 0, low = 0;
    ASSERT_OK(fsock_evconn_write_buffer_limits(conn, &high, &low));
    ASSERT_EQ_SIZE(high, 64 * 1024);
    ASSERT_EQ_SIZE(low, 16 * 1024);
    /* asyncio's rules and words. */
    ASSERT_INVALID("high (1) must be >= low (2) must be >= 0",
                   fsock_evconn_set_write_buffer_limits(conn, 1, 2));
    ASSERT_OK(fsock_evconn_set_write_buffer_limits(conn, FSOCK_WRITE_LIMIT_DEFAULT, 1000));
    ASSERT_OK(fsock_evconn_write_buffer_limits(conn, &high, &low));
    ASSERT_EQ_SIZE(high, 4000);
    ASSERT_EQ_SIZE(low, 1000);
    ASSERT_OK(fsock_evconn_set_write_buffer_limits(conn, FSOCK_WRITE_LIMIT_DEFAULT,
                                                   FSOCK_WRITE_LIMIT_DEFAULT));
    ASSERT_OK(fsock_evconn_write_buffer_limits(conn, &high, &low));
    ASSERT_EQ_SIZE(high, 64 * 1024);
    ASSERT_EQ_SIZE(low, 16 * 1024);
    /* NULL outputs. */
    ASSERT_NULL_ARG("out_reading", fsock_evconn_is_reading(conn, NULL));
    ASSERT_NULL_ARG("out_high", fsock_evconn_write_buffer_limits(conn, NULL, &low));
    ASSERT_NULL_ARG("out_low", fsock_evconn_write_buffer_limits(conn, &high, NULL));
    fsock_conn_handle *h = NULL;
    ASSERT_OK(fsock_evconn_handle(conn, &h));
    pthread_mutex_lock(&st->lock);
    ASSERT(st->handle == NULL);
    st->handle = h;
    pthread_mutex_unlock(&st->lock);
    bump(st, &st->opened);
}

static void on_line(state *st, fsock_evconn *conn, const char *line) {
    pthread_mutex_lock(&st->lock);
    snprintf(st->last_line, sizeof st->last_line, "%s", line);
    pthread_mutex_unlock(&st->lock);
    if (strcmp(line, "pause") == 0) {
        ASSERT_OK(fsock_evconn_pause_reading(conn));
        bool reading = true;
        ASSERT_OK(fsock_evconn_is_reading(conn, &reading));
        st->reading_after_pause = reading;
    } else if (strcmp(line, "eof") == 0) {
        ASSERT_OK(fsock_evconn_write(conn, (const uint8_t *)"bye\n", 4));
        ASSERT_OK(fsock_evconn_write_eof(conn));
        ASSERT_OK(fsock_evconn_write_eof(conn)); /* twice: nothing more */
        st->shut_write_result = fsock_evconn_write(conn, (const uint8_t *)"x", 1);
        ASSERT_CONTAINS(fsock_last_error_message(), "after fsock_evconn_write_eof");
        ASSERT_EQ_INT(fsock_last_errno(), EPIPE);
        st->shut = true;
    } else if (strncmp(line, "big ", 4) == 0) {
        size_t n = (size_t)atol(line + 4);
        uint8_t *bytes = malloc(n);
        ASSERT(bytes != NULL);
        memset(bytes, 'x', n);
        ASSERT_OK(fsock_evconn_write(conn, bytes, n));
        free(bytes);
    } else if (!st->shut) {
        ASSERT_OK(fsock_evconn_write(conn, (const uint8_t *)line, strlen(line)));
        ASSERT_OK(fsock_evconn_write(conn, (const uint8_t *)"\n", 1));
    }
    bump(st, &st->lines);
}

/* One line at a time; after `pause` the rest stays for after the resume. */
static size_t on_received(void *userdata, fsock_evconn *conn, void *conn_data,
                          const uint8_t *data, size_t len) {
    state *st = userdata;
    (void)conn_data;
    size_t used = 0;
    const uint8_t *nl;
    while ((nl = memchr(data + used, '\n', len - used)) != NULL) {
        char line[128];
        size_t n = (size_t)(nl - (data + used));
        ASSERT(n < sizeof line);
        memcpy(line, data + used, n);
        line[n] = '\0';
        used += n + 1;
        on_line(st, conn, line);
        if (strcmp(line, "pause") == 0) break;
    }
    return used;
}

static void on_end(void *userdata, fsock_evconn *conn, void *conn_data, const uint8_t *rest,
                   size_t len) {
    state *st = userdata;
    (void)conn_data, (void)rest, (void)len;
    if (st->keep_open) ASSERT_OK(fsock_evconn_keep_open(conn));
    bump(st, &st->ends);
}

static void on_write_paused(void *userdata, fsock_evconn *conn, void *conn_data) {
    state *st = userdata;
    (void)conn_data;
    ASSERT_OK(fsock_evconn_pending(conn, &st->pending_at_pause));
    bump(st, &st->paused);
}

static void on_write_resumed(void *userdata, fsock_evconn *conn, void *conn_data) {
    state *st = userdata;
    (void)conn_data;
    ASSERT_OK(fsock_evconn_pending(conn, &st->pending_at_resume));
    bump(st, &st->resumed);
}

static void on_closed(void *userdata, void *conn_data, fsock_result result, const char *message) {
    state *st = userdata;
    (void)conn_data, (void)message;
    pthread_mutex_lock(&st->lock);
    st->closed_result = result;
    pthread_mutex_unlock(&st->lock);
    bump(st, &st->closed);
}

static void quiet_log(void *userdata, const char *message) {
    (void)userdata, (void)message; /* "write after write_eof" lines */
}

static const fsock_event_callbacks FLOW = {
    .opened = on_opened,
    .received = on_received,
    .end = on_end,
    .closed = on_closed,
    .on_error = quiet_log,
    .write_paused = on_write_paused,
    .write_resumed = on_write_resumed,
};

/* ---- ev_serving ------------------------------------------------------------- */

typedef struct {
    fsock_event_server *server;
    fsock_result result;
    pthread_t thread;
} ev_serving;

static void *ev_serving_loop(void *arg) {
    ev_serving *s = arg;
    s->result = fsock_event_server_serve(s->server);
    return NULL;
}

static void start(state *st, ev_serving *s) {
    fsock_event_config cfg;
    ASSERT_OK(fsock_event_config_init(&cfg));
    cfg.address = "127.0.0.1:0";
    cfg.loops = 1;
    s->server = NULL;
    s->result = FSOCK_ERR_PANIC;
    ASSERT_OK(fsock_event_server_new(&cfg, &FLOW, st, &s->server));
    s->thread = start_thread(ev_serving_loop, s);
}

static void stop(ev_serving *s) {
    ASSERT_OK(fsock_event_server_shutdown(s->server));
    join_thread(s->thread);
    ASSERT_RESULT(FSOCK_OK, s->result);
    fsock_event_server_free(s->server);
}

static fsock_socket *client_of(state *st, const ev_serving *s) {
    char addr[FSOCK_ADDRSTRLEN];
    ASSERT_OK(fsock_event_server_local_addr(s->server, addr, sizeof addr, NULL));
    fsock_socket *c = NULL;
    ASSERT_OK(fsock_create_connection("127.0.0.1", (uint16_t)port_of(addr), 5.0, &c));
    wait_count(st, &st->opened, 1);
    return c;
}

/* Reads exactly strlen(want) bytes and compares. */
static void expect(fsock_socket *c, const char *want) {
    char got[256];
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

static void expect_eof(fsock_socket *c) {
    uint8_t buf[16];
    size_t n = 99;
    ASSERT_OK_ON(c, fsock_socket_recv(c, buf, sizeof buf, 0, &n));
    ASSERT_EQ_SIZE(n, 0);
}

/* Nothing arrives for 200 ms. */
static void expect_silence(fsock_socket *c) {
    uint8_t buf[16];
    size_t n = 0;
    ASSERT_OK_ON(c, fsock_socket_set_timeout(c, 0.2));
    ASSERT_RESULT(FSOCK_ERR_TIMEOUT, fsock_socket_recv(c, buf, sizeof buf, 0, &n));
    ASSERT_OK_ON(c, fsock_socket_set_timeout(c, 5.0));
}

/* ---- the scenarios ------------------------------------------------------- */

TEST_CASE(paused_reading_is_resumed_through_a_handle_and_gets_what_waited) {
    state st;
    state_init(&st);
    ev_serving s;
    start(&st, &s);
    fsock_socket *c = client_of(&st, &s);
    send_text(c, "pause\nheld\n");
    wait_count(&st, &st.lines, 1);
    ASSERT_EQ_INT(st.reading_after_pause, 0);
    send_text(c, "more\n");
    expect_silence(c);
    ASSERT_EQ_INT(count(&st, &st.lines), 1);
    /* No new bytes arrive after this: the loop must remember them. */
    ASSERT_OK(fsock_conn_handle_resume_reading(st.handle));
    expect(c, "held\nmore\n");
    /* And paused from here, the other way round. */
    ASSERT_OK(fsock_conn_handle_pause_reading(st.handle));
    usleep(50 * 1000); /* the command reaches the loop */
    send_text(c, "later\n");
    expect_silence(c);
    ASSERT_OK(fsock_conn_handle_resume_reading(st.handle));
    expect(c, "later\n");
    fsock_socket_free(c);
    wait_count(&st, &st.closed, 1);
    stop(&s);
    state_destroy(&st);
}

TEST_CASE(write_paused_and_resumed_follow_the_water_marks) {
    state st;
    state_init(&st);
    ev_serving s;
    start(&st, &s);
    fsock_socket *c = client_of(&st, &s);
    /* Far more than the socket buffers hold, and the client reads nothing
     * yet: the output piles up past 64 KiB. */
    const size_t total = 16u << 20;
    char line[64];
    snprintf(line, sizeof line, "big %zu\n", total);
    send_text(c, line);
    wait_count(&st, &st.paused, 1);
    ASSERT(st.pending_at_pause > 64 * 1024);
    ASSERT_EQ_INT(count(&st, &st.resumed), 0);
    uint8_t *buf = malloc(1 << 16);
    ASSERT(buf != NULL);
    size_t got = 0;
    while (got < total) {
        size_t n = 0;
        ASSERT_OK_ON(c, fsock_socket_recv(c, buf, 1 << 16, 0, &n));
        ASSERT(n > 0);
        got += n;
    }
    free(buf);
    wait_count(&st, &st.resumed, 1);
    ASSERT(st.pending_at_resume <= 16 * 1024);
    ASSERT_EQ_INT(count(&st, &st.paused), 1);
    send_text(c, "still\n");
    expect(c, "still\n");
    fsock_socket_free(c);
    wait_count(&st, &st.closed, 1);
    stop(&s);
    state_destroy(&st);
}

TEST_CASE(write_eof_half_closes_and_the_server_still_reads) {
    state st;
    state_init(&st);
    ev_serving s;
    start(&st, &s);
    fsock_socket *c = client_of(&st, &s);
    send_text(c, "eof\n");
    expect(c, "bye\n");
    expect_eof(c);
    ASSERT_EQ_INT(st.shut_write_result, FSOCK_ERR_CLOSED);
    send_text(c, "after\n");
    wait_count(&st, &st.lines, 2);
    pthread_mutex_lock(&st.lock);
    ASSERT_EQ_STR(st.last_line, "after");
    pthread_mutex_unlock(&st.lock);
    ASSERT_OK_ON(c, fsock_socket_shutdown(c, FSOCK_SHUT_WR));
    wait_count(&st, &st.closed, 1);
    ASSERT_RESULT(FSOCK_OK, st.closed_result);
    fsock_socket_free(c);
    stop(&s);
    state_destroy(&st);
}

TEST_CASE(keep_open_answers_after_the_clients_eof_through_a_handle) {
    state st;
    state_init(&st);
    st.keep_open = true;
    ev_serving s;
    start(&st, &s);
    fsock_socket *c = client_of(&st, &s);
    ASSERT_OK_ON(c, fsock_socket_shutdown(c, FSOCK_SHUT_WR));
    wait_count(&st, &st.ends, 1);
    expect_silence(c);
    ASSERT_EQ_INT(count(&st, &st.closed), 0);
    ASSERT_OK(fsock_conn_handle_write(st.handle, (const uint8_t *)"late\n", 5));
    ASSERT_OK(fsock_conn_handle_write_eof(st.handle));
    expect(c, "late\n");
    expect_eof(c);
    wait_count(&st, &st.closed, 1);
    ASSERT_RESULT(FSOCK_OK, st.closed_result);
    fsock_socket_free(c);
    stop(&s);
    /* The loop has stopped: the handle says so. */
    ASSERT_RESULT(FSOCK_ERR_CLOSED, fsock_conn_handle_pause_reading(st.handle));
    ASSERT_RESULT(FSOCK_ERR_CLOSED, fsock_conn_handle_resume_reading(st.handle));
    ASSERT_RESULT(FSOCK_ERR_CLOSED, fsock_conn_handle_write_eof(st.handle));
    ASSERT_CONTAINS(fsock_conn_handle_errmsg(st.handle), "event loop has stopped");
    state_destroy(&st);
}

TEST_CASE(every_function_rejects_null) {
    bool b = false;
    size_t h = 0, l = 0;
    ASSERT_NULL_ARG("conn", fsock_evconn_pause_reading(NULL));
    ASSERT_NULL_ARG("conn", fsock_evconn_resume_reading(NULL));
    ASSERT_NULL_ARG("conn", fsock_evconn_is_reading(NULL, &b));
    ASSERT_NULL_ARG("conn", fsock_evconn_write_eof(NULL));
    ASSERT_NULL_ARG("conn", fsock_evconn_keep_open(NULL));
    ASSERT_NULL_ARG("conn", fsock_evconn_set_write_buffer_limits(NULL, 10, 5));
    ASSERT_NULL_ARG("conn", fsock_evconn_write_buffer_limits(NULL, &h, &l));
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_conn_handle_pause_reading(NULL));
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_conn_handle_resume_reading(NULL));
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_conn_handle_write_eof(NULL));
}

int main(void) {
    test_init();
    RUN(paused_reading_is_resumed_through_a_handle_and_gets_what_waited);
    RUN(write_paused_and_resumed_follow_the_water_marks);
    RUN(write_eof_half_closes_and_the_server_still_reads);
    RUN(keep_open_answers_after_the_clients_eof_through_a_handle);
    RUN(every_function_rejects_null);
    return 0;
}
