/*
 * Connection handles of the event-loop server from C (fsock_conn_handle):
 * a chat room whose members are a list of handles, each line a member
 * sends going to every member through them from the sender's callback.
 * Members on two loops, all sending at once, see one order; a pthread
 * writes through a handle; a handle reports a stopped loop (also after
 * the server is freed, and to a server serving again); a member that never
 * reads is dropped while the room goes on; every NULL argument.
 */
#include <stdbool.h>
#include <time.h>

#include "test.h"

/* ---- the room ------------------------------------------------------------ */

#define MAX_MEMBERS 16
#define MAX_CLOSED 16

typedef struct {
    fsock_result result;
    char message[512];
} closed_record;

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    /* The members, each a handle the room owns (a clone of the member's
     * own, which its conn_data keeps). */
    fsock_conn_handle *members[MAX_MEMBERS];
    size_t count;
    int closed;
    closed_record closes[MAX_CLOSED];
    fsock_result relay_failure; /* FSOCK_OK unless a relay write failed */
    bool check_nulls;           /* `opened` tries fsock_evconn_handle with NULLs */
} room;

static void room_init(room *r) {
    memset(r, 0, sizeof *r);
    ASSERT_EQ_INT(pthread_mutex_init(&r->lock, NULL), 0);
    ASSERT_EQ_INT(pthread_cond_init(&r->changed, NULL), 0);
    r->relay_failure = FSOCK_OK;
}

static void room_destroy(room *r) {
    ASSERT_EQ_SIZE(r->count, 0); /* every member's `closed` has run */
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->changed);
}

/* Waits (at most 30 s) until *counter >= n. */
static void wait_count(room *r, const int *counter, int n) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 30;
    pthread_mutex_lock(&r->lock);
    while (*counter < n) {
        int rc = pthread_cond_timedwait(&r->changed, &r->lock, &until);
        if (rc != 0) FAIL_("waited 30 s for a count of %d, have %d", n, *counter);
    }
    pthread_mutex_unlock(&r->lock);
}

static int closed_count(room *r) {
    pthread_mutex_lock(&r->lock);
    int n = r->closed;
    pthread_mutex_unlock(&r->lock);
    return n;
}

static size_t member_count(room *r) {
    pthread_mutex_lock(&r->lock);
    size_t n = r->count;
    pthread_mutex_unlock(&r->lock);
    return n;
}

/* A handle of its own to the room's member `i` (freed by the caller). */
static fsock_conn_handle *member_handle(room *r, size_t i) {
    fsock_conn_handle *h = NULL;
    pthread_mutex_lock(&r->lock);
    ASSERT(i < r->count);
    ASSERT_OK(fsock_conn_handle_clone(r->members[i], &h));
    pthread_mutex_unlock(&r->lock);
    return h;
}

/* The greeting goes out through the lent connection before the member
 * joins the room, so nothing relayed can come before it. */
static void on_opened(void *userdata, fsock_evconn *conn, void **out_conn_data) {
    room *r = userdata;
    if (r->check_nulls) {
        fsock_conn_handle *untouched = (fsock_conn_handle *)&untouched;
        ASSERT_NULL_ARG("conn", fsock_evconn_handle(NULL, &untouched));
        ASSERT_NULL_ARG("out", fsock_evconn_handle(conn, NULL));
        ASSERT(untouched == (fsock_conn_handle *)&untouched);
    }
    fsock_conn_handle *me = NULL, *in_room = NULL;
    ASSERT_OK(fsock_evconn_handle(conn, &me));
    ASSERT_OK(fsock_conn_handle_clone(me, &in_room));
    ASSERT_OK(fsock_evconn_write(conn, (const uint8_t *)"welcome\n", 8));
    pthread_mutex_lock(&r->lock);
    ASSERT(r->count < MAX_MEMBERS);
    r->members[r->count++] = in_room;
    pthread_cond_broadcast(&r->changed);
    pthread_mutex_unlock(&r->lock);
    *out_conn_data = me;
}

/* Each whole line goes to every member, the sender too, through the
 * handles, under the room's lock: every member gets the lines in the
 * order the relays took the lock. */
static size_t on_received(void *userdata, fsock_evconn *conn, void *conn_data,
                          const uint8_t *data, size_t len) {
    room *r = userdata;
    (void)conn;
    ASSERT(conn_data != NULL);
    size_t used = 0;
    const uint8_t *nl;
    while ((nl = memchr(data + used, '\n', len - used)) != NULL) {
        size_t line = (size_t)(nl - (data + used)) + 1;
        pthread_mutex_lock(&r->lock);
        for (size_t i = 0; i < r->count; i++) {
            fsock_result res = fsock_conn_handle_write(r->members[i], data + used, line);
            if (res != FSOCK_OK && r->relay_failure == FSOCK_OK) r->relay_failure = res;
        }
        pthread_mutex_unlock(&r->lock);
        used += line;
    }
    return used;
}

/* The member leaves the room: its entry is found with
 * fsock_conn_handle_same, and both handles are freed. */
static void on_closed(void *userdata, void *conn_data, fsock_result result, const char *message) {
    room *r = userdata;
    fsock_conn_handle *me = conn_data;
    ASSERT(me != NULL && message != NULL);
    pthread_mutex_lock(&r->lock);
    size_t found = r->count;
    for (size_t i = 0; i < r->count; i++) {
        bool same = false;
        ASSERT_OK(fsock_conn_handle_same(r->members[i], me, &same));
        if (same) {
            ASSERT(found == r->count); /* in the room once */
            found = i;
        }
    }
    ASSERT(found < r->count);
    fsock_conn_handle_free(r->members[found]);
    r->members[found] = r->members[--r->count];
    if (r->closed < MAX_CLOSED) {
        r->closes[r->closed].result = result;
        snprintf(r->closes[r->closed].message, sizeof r->closes[0].message, "%s", message);
    }
    r->closed++;
    pthread_cond_broadcast(&r->changed);
    pthread_mutex_unlock(&r->lock);
    fsock_conn_handle_free(me);
}

static const fsock_event_callbacks ROOM = {on_opened, on_received, NULL, on_closed,
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
#define ASSERT_OK_H(h, expr) ASSERT_OK_MSG(fsock_conn_handle_errmsg, h, expr)

/* Serves `s->server` on a new thread, which it returns. */
static pthread_t serve(ev_serving *s) {
    s->result = FSOCK_ERR_PANIC;
    return start_thread(ev_serving_loop, s);
}

/* A room server on 127.0.0.1, port 0, with `loops` loops, serving. */
static pthread_t start(room *r, size_t loops, ev_serving *s) {
    fsock_event_config cfg;
    ASSERT_OK(fsock_event_config_init(&cfg));
    cfg.address = "127.0.0.1:0";
    cfg.loops = loops;
    s->server = NULL;
    ASSERT_OK(fsock_event_server_new(&cfg, &ROOM, r, &s->server));
    return serve(s);
}

/* Stops the server from this thread and joins its serving thread. */
static void stop(ev_serving *s, pthread_t t) {
    ASSERT_OK_EV(s->server, fsock_event_server_shutdown(s->server));
    join_thread(t);
    ASSERT_RESULT(FSOCK_OK, s->result);
}

/* The server's address as text. */
static void address_of(const fsock_event_server *server, char *buf, size_t len) {
    ASSERT_OK_EV(server, fsock_event_server_local_addr(server, buf, len, NULL));
}

static fsock_socket *client_of(const fsock_event_server *server) {
    char addr[FSOCK_ADDRSTRLEN];
    address_of(server, addr, sizeof addr);
    fsock_socket *c = NULL;
    ASSERT_OK(fsock_create_connection("127.0.0.1", (uint16_t)port_of(addr), 5.0, &c));
    return c;
}

/* Reads exactly `len` bytes into buf. */
static void read_exact(fsock_socket *c, uint8_t *buf, size_t len) {
    size_t have = 0;
    while (have < len) {
        size_t n = 0;
        ASSERT_OK_ON(c, fsock_socket_recv(c, buf + have, len - have, 0, &n));
        if (n == 0) FAIL_("end of stream after %zu of %zu bytes", have, len);
        have += n;
    }
}

/* Reads exactly strlen(want) bytes and compares. */
static void expect(fsock_socket *c, const char *want) {
    char got[256];
    size_t need = strlen(want);
    ASSERT(need < sizeof got);
    read_exact(c, (uint8_t *)got, need);
    got[need] = '\0';
    ASSERT_EQ_STR(got, want);
}

/* The server closed the connection: end of stream (or a reset). */
static void expect_closed(fsock_socket *c) {
    uint8_t buf[64];
    size_t n = 99;
    fsock_result r = fsock_socket_recv(c, buf, sizeof buf, 0, &n);
    ASSERT(r == FSOCK_OK ? n == 0 : r == FSOCK_ERR_IO);
}

/* ---- the scenarios ------------------------------------------------------- */

enum { MEMBERS = 6, LINES_EACH = 20, LINE_LEN = 13 /* "m00 line 000\n" */ };

TEST_CASE(every_member_sees_every_line_in_one_order_across_two_loops) {
    room r;
    room_init(&r);
    ev_serving s;
    pthread_t t = start(&r, 2, &s);
    fsock_socket *c[MEMBERS];
    for (int i = 0; i < MEMBERS; i++) {
        c[i] = client_of(s.server);
        expect(c[i], "welcome\n"); /* sent after it joined the room */
    }
    ASSERT_EQ_SIZE(member_count(&r), MEMBERS);

    /* Everyone talks at once: the relays run on both loops together. */
    for (int k = 0; k < LINES_EACH; k++) {
        for (int i = 0; i < MEMBERS; i++) {
            char line[LINE_LEN + 1];
            snprintf(line, sizeof line, "m%02d line %03d\n", i, k);
            send_text(c[i], line);
        }
    }
    enum { TOTAL = MEMBERS * LINES_EACH * LINE_LEN };
    static uint8_t seen[MEMBERS][TOTAL + 1];
    for (int i = 0; i < MEMBERS; i++) {
        read_exact(c[i], seen[i], TOTAL);
        seen[i][TOTAL] = '\0';
    }
    /* One order for all ... */
    for (int i = 1; i < MEMBERS; i++) {
        if (memcmp(seen[i], seen[0], TOTAL) != 0)
            FAIL_("member %d saw another order than member 0:\n%s\n---\n%s", i,
                  (const char *)seen[i], (const char *)seen[0]);
    }
    /* ... with every line once, each sender's lines in its order. */
    int next[MEMBERS] = {0};
    for (int at = 0; at < TOTAL; at += LINE_LEN) {
        int who = -1, k = -1;
        ASSERT_EQ_INT(sscanf((const char *)seen[0] + at, "m%2d line %3d", &who, &k), 2);
        ASSERT(who >= 0 && who < MEMBERS);
        ASSERT_EQ_INT(k, next[who]);
        next[who]++;
    }
    for (int i = 0; i < MEMBERS; i++) ASSERT_EQ_INT(next[i], LINES_EACH);
    pthread_mutex_lock(&r.lock);
    ASSERT_RESULT(FSOCK_OK, r.relay_failure);
    pthread_mutex_unlock(&r.lock);

    /* Members leave; the room forgets them (found with _same). */
    for (int i = 0; i < MEMBERS; i++) fsock_socket_free(c[i]);
    wait_count(&r, &r.closed, MEMBERS);
    for (int i = 0; i < MEMBERS; i++) ASSERT_RESULT(FSOCK_OK, r.closes[i].result);
    ASSERT_EQ_SIZE(member_count(&r), 0);
    stop(&s, t);
    fsock_event_server_free(s.server);
    room_destroy(&r);
}

typedef struct {
    fsock_conn_handle *handle;
    fsock_result results[100];
} ticker;

static void *tick(void *arg) {
    ticker *w = arg;
    for (int k = 0; k < 100; k++) {
        char line[16];
        snprintf(line, sizeof line, "tick %03d\n", k);
        w->results[k] = fsock_conn_handle_write(w->handle, (const uint8_t *)line, strlen(line));
    }
    return NULL;
}

TEST_CASE(a_handle_writes_from_another_thread_and_reports_a_stopped_loop) {
    room r;
    room_init(&r);
    ev_serving s;
    pthread_t t = start(&r, 1, &s);
    fsock_socket *c = client_of(s.server);
    expect(c, "welcome\n");

    ticker w = {.handle = member_handle(&r, 0)};
    join_thread(start_thread(tick, &w));
    for (int k = 0; k < 100; k++) ASSERT_RESULT(FSOCK_OK, w.results[k]);
    for (int k = 0; k < 100; k++) {
        char line[16];
        snprintf(line, sizeof line, "tick %03d\n", k);
        expect(c, line);
    }

    /* Closed through the handle: the client reads the end, `closed` hears
     * FSOCK_OK. Writing to a closed connection is not an error. */
    ASSERT_OK_H(w.handle, fsock_conn_handle_close(w.handle));
    expect_closed(c);
    wait_count(&r, &r.closed, 1);
    ASSERT_RESULT(FSOCK_OK, r.closes[0].result);
    ASSERT_OK_H(w.handle, fsock_conn_handle_write(w.handle, (const uint8_t *)"gone\n", 5));
    ASSERT_OK_H(w.handle, fsock_conn_handle_close(w.handle));
    fsock_socket_free(c);

    /* The loop has stopped: nothing will be sent. */
    stop(&s, t);
    ASSERT_RESULT(FSOCK_ERR_CLOSED,
                  fsock_conn_handle_write(w.handle, (const uint8_t *)"too late\n", 9));
    ASSERT_CONTAINS(fsock_conn_handle_errmsg(w.handle), "fsock_conn_handle_write");
    ASSERT_CONTAINS(fsock_conn_handle_errmsg(w.handle), "event loop has stopped");
    ASSERT_EQ_INT(fsock_conn_handle_errno(w.handle), EBADF);
    ASSERT_CONTAINS(fsock_last_error_message(), "event loop has stopped");
    ASSERT_RESULT(FSOCK_ERR_CLOSED, fsock_conn_handle_close(w.handle));
    ASSERT_CONTAINS(fsock_conn_handle_errmsg(w.handle), "fsock_conn_handle_close");

    /* Serving again runs new loops, which the old handle does not reach. */
    t = serve(&s);
    fsock_socket *again = client_of(s.server);
    expect(again, "welcome\n");
    ASSERT_RESULT(FSOCK_ERR_CLOSED, fsock_conn_handle_write(w.handle, (const uint8_t *)"x\n", 2));
    stop(&s, t);
    fsock_socket_free(again);
    wait_count(&r, &r.closed, 2);
    ASSERT_RESULT(FSOCK_ERR_CLOSED, r.closes[1].result); /* the server stopped */

    /* The handle outlives the server. */
    fsock_event_server_free(s.server);
    ASSERT_RESULT(FSOCK_ERR_CLOSED, fsock_conn_handle_write(w.handle, NULL, 0));
    fsock_conn_handle_free(w.handle);
    room_destroy(&r);
}

TEST_CASE(a_member_that_never_reads_is_dropped_and_the_room_goes_on) {
    room r;
    room_init(&r);
    ev_serving s;
    pthread_t t = start(&r, 1, &s);
    char addr[FSOCK_ADDRSTRLEN];
    address_of(s.server, addr, sizeof addr);

    /* A small receive buffer (set before connect) keeps what the kernel
     * takes for the stuck member small, so the server's limit is reached
     * soon. */
    fsock_socket *stuck = NULL;
    ASSERT_OK(fsock_socket_new(FSOCK_AF_INET, FSOCK_SOCK_STREAM, 0, &stuck));
    ASSERT_OK_ON(stuck, fsock_socket_setsockopt_int(stuck, FSOCK_SOL_SOCKET, FSOCK_SO_RCVBUF, 4096));
    ASSERT_OK_ON(stuck, fsock_socket_connect(stuck, addr));
    fsock_socket *talker = client_of(s.server);
    expect(talker, "welcome\n");
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 30;
    pthread_mutex_lock(&r.lock);
    while (r.count < 2)
        if (pthread_cond_timedwait(&r.changed, &r.lock, &until) != 0) FAIL_("stuck never joined");
    pthread_mutex_unlock(&r.lock);

    /* 64 KiB lines until the stuck member's unsent output passes the
     * limit; the talker reads its own copies, so only stuck falls behind. */
    enum { LINE = 64 * 1024 };
    uint8_t *line = malloc(LINE), *back = malloc(LINE);
    ASSERT(line != NULL && back != NULL);
    memset(line, 'x', LINE - 1);
    line[LINE - 1] = '\n';
    int sent = 0;
    while (closed_count(&r) == 0) {
        if (sent >= 1000) FAIL_("the stuck member was not dropped after %d lines", sent);
        ASSERT_OK_ON(talker, fsock_socket_sendall(talker, line, LINE, 0));
        read_exact(talker, back, LINE);
        ASSERT(memcmp(back, line, LINE) == 0);
        sent++;
    }
    fprintf(stderr, "stuck was dropped after %d lines of 64 KiB\n", sent);
    free(line);
    free(back);
    pthread_mutex_lock(&r.lock);
    ASSERT_EQ_INT(r.closed, 1);
    ASSERT_RESULT(FSOCK_ERR_IO, r.closes[0].result);
    ASSERT_CONTAINS(r.closes[0].message, "the client does not read");
    ASSERT_RESULT(FSOCK_OK, r.relay_failure); /* the writers were not failed */
    ASSERT_EQ_SIZE(r.count, 1);
    pthread_mutex_unlock(&r.lock);

    send_text(talker, "still talking\n");
    expect(talker, "still talking\n");
    fsock_socket_free(stuck);
    fsock_socket_free(talker);
    wait_count(&r, &r.closed, 2);
    stop(&s, t);
    fsock_event_server_free(s.server);
    room_destroy(&r);
}

TEST_CASE(every_function_rejects_null_arguments) {
    room r;
    room_init(&r);
    r.check_nulls = true; /* fsock_evconn_handle's checks run in `opened` */
    ev_serving s;
    pthread_t t = start(&r, 1, &s);
    fsock_socket *a = client_of(s.server);
    expect(a, "welcome\n"); /* a is in the room: member 0 */
    fsock_socket *b = client_of(s.server);
    expect(b, "welcome\n");
    fsock_conn_handle *ha = member_handle(&r, 0), *hb = member_handle(&r, 1);
    fsock_conn_handle *ha2 = NULL;
    ASSERT_OK_H(ha, fsock_conn_handle_clone(ha, &ha2));
    ASSERT_EQ_STR(fsock_conn_handle_errmsg(ha), "no error");
    ASSERT_EQ_INT(fsock_conn_handle_errno(ha), 0);

    /* _same: a clone is the same connection; another member is not. */
    bool same = false;
    ASSERT_OK_H(ha, fsock_conn_handle_same(ha, ha2, &same));
    ASSERT(same);
    ASSERT_OK_H(ha, fsock_conn_handle_same(ha, hb, &same));
    ASSERT(!same);
    ASSERT_OK_H(ha, fsock_conn_handle_same(ha, ha, &same));
    ASSERT(same);

    const uint8_t x = 'x';
    fsock_conn_handle *untouched = (fsock_conn_handle *)&untouched;
    ASSERT_NULL_ARG("handle", fsock_conn_handle_write(NULL, &x, 1));
    ASSERT_NULL_ARG("data", fsock_conn_handle_write(ha, NULL, 1));
    ASSERT_CONTAINS(fsock_conn_handle_errmsg(ha), "`data` is NULL");
    ASSERT_EQ_INT(fsock_conn_handle_errno(ha), EINVAL);
    ASSERT_NULL_ARG("handle", fsock_conn_handle_close(NULL));
    same = true;
    ASSERT_NULL_ARG("handle", fsock_conn_handle_same(NULL, ha, &same));
    ASSERT_NULL_ARG("other", fsock_conn_handle_same(ha, NULL, &same));
    ASSERT(same); /* never written by a failing call */
    ASSERT_NULL_ARG("out_same", fsock_conn_handle_same(ha, hb, NULL));
    ASSERT_NULL_ARG("handle", fsock_conn_handle_clone(NULL, &untouched));
    ASSERT_NULL_ARG("out", fsock_conn_handle_clone(ha, NULL));
    ASSERT(untouched == (fsock_conn_handle *)&untouched);
    ASSERT_CONTAINS(fsock_conn_handle_errmsg(NULL), "NULL");
    ASSERT_EQ_INT(fsock_conn_handle_errno(NULL), EINVAL);
    fsock_conn_handle_free(NULL); /* a no-op */
    /* The clone has its own last error. */
    ASSERT_EQ_STR(fsock_conn_handle_errmsg(ha2), "no error");

    /* An empty write may pass NULL; nothing reaches the client. */
    ASSERT_OK_H(ha, fsock_conn_handle_write(ha, NULL, 0));
    ASSERT_OK_H(ha2, fsock_conn_handle_write(ha2, (const uint8_t *)"direct\n", 7));
    expect(a, "direct\n");

    fsock_conn_handle_free(ha);
    fsock_conn_handle_free(ha2);
    fsock_conn_handle_free(hb);
    stop(&s, t); /* both members' `closed` run: the room frees its handles */
    ASSERT_EQ_INT(closed_count(&r), 2);
    ASSERT_RESULT(FSOCK_ERR_CLOSED, r.closes[0].result);
    fsock_socket_free(a);
    fsock_socket_free(b);
    fsock_event_server_free(s.server);
    room_destroy(&r);
}

TEST_CASE(a_handle_aborts_its_connection_from_another_thread) {
    room r;
    room_init(&r);
    ev_serving s;
    pthread_t t = start(&r, 1, &s);
    fsock_socket *c = client_of(s.server);
    expect(c, "welcome\n");
    fsock_conn_handle *h = member_handle(&r, 0);
    ASSERT_OK_H(h, fsock_conn_handle_abort(h));
    expect_closed(c);
    wait_count(&r, &r.closed, 1);
    ASSERT_RESULT(FSOCK_ERR_IO, r.closes[0].result);
    ASSERT_CONTAINS(r.closes[0].message, "abort");
    /* Aborting a connection that is gone is not an error. */
    ASSERT_OK_H(h, fsock_conn_handle_abort(h));
    stop(&s, t);
    ASSERT_RESULT(FSOCK_ERR_CLOSED, fsock_conn_handle_abort(h));
    ASSERT_NULL_ARG("handle", fsock_conn_handle_abort(NULL));
    fsock_conn_handle_free(h);
    fsock_socket_free(c);
    fsock_event_server_free(s.server);
    room_destroy(&r);
}

int main(void) {
    test_init();
    RUN(every_member_sees_every_line_in_one_order_across_two_loops);
    RUN(a_handle_writes_from_another_thread_and_reports_a_stopped_loop);
    RUN(a_member_that_never_reads_is_dropped_and_the_room_goes_on);
    RUN(every_function_rejects_null_arguments);
    RUN(a_handle_aborts_its_connection_from_another_thread);
    return 0;
}
