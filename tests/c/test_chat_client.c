/*
 * The chat room from C: fsock_chat_server in this process (on port 0,
 * served by a thread), fsock_chat_client clients over loopback, in both
 * framings. Messages reach everyone, joins and leaves are announced, a
 * message over the server's limit gets the server's error and then the
 * end of the stream, one thread receives while another says things, a
 * plain TCP server shows the wire format and the client's leniency, and
 * NULLs, unknown settings and small buffers are refused with the right
 * codes.
 *
 * A client "joins" by saying hello and waiting for its own echo: from then
 * on the server has it in the room, so nothing said later can miss it.
 * Every socket has the test-wide timeout (test.h); nothing asserts on
 * timing.
 */
#include "test.h"

static const int FRAMINGS[2] = {FSOCK_CHAT_FRAMING_LINE, FSOCK_CHAT_FRAMING_LENGTH};

/* ----- the fixture: a chat server serving on its own thread ------------- */

typedef struct {
    fsock_chat_server *server;
    pthread_t thread;
    fsock_result served; /* what fsock_chat_server_serve returned */
    uint16_t port;
    int framing;
} room;

static void *serve(void *arg) {
    room *r = arg;
    r->served = fsock_chat_server_serve(r->server);
    return NULL;
}

static void room_start_with(room *r, const fsock_chat_server_config *cfg) {
    memset(r, 0, sizeof *r);
    r->framing = cfg->framing;
    r->served = FSOCK_ERR_PANIC; /* until serve returns */
    ASSERT_OK(fsock_chat_server_new("127.0.0.1", 0, cfg, &r->server));
    char addr[FSOCK_ADDRSTRLEN];
    ASSERT_OK(fsock_chat_server_local_addr(r->server, addr, sizeof addr, NULL));
    r->port = (uint16_t)port_of(addr);
    ASSERT(r->port != 0);
    r->thread = start_thread(serve, r);
}

static void room_start(room *r, int framing) {
    fsock_chat_server_config cfg;
    ASSERT_OK(fsock_chat_server_config_init(&cfg));
    cfg.framing = framing;
    room_start_with(r, &cfg);
}

static void room_stop(room *r) {
    ASSERT_OK(fsock_chat_server_close(r->server));
    join_thread(r->thread);
    ASSERT_RESULT(FSOCK_OK, r->served);
    ASSERT_OK(fsock_chat_server_close(r->server)); /* again: nothing to do */
    fsock_chat_server_free(r->server);
}

static fsock_chat_client *connect_as(const room *r, const char *name) {
    fsock_chat_client *c = NULL;
    ASSERT_OK(fsock_chat_client_connect("127.0.0.1", r->port, r->framing, name,
                                        FSOCK_TIMEOUT_DEFAULT, &c));
    ASSERT(c != NULL);
    return c;
}

/* Receives a message and checks who said what; the time must be the
 * protocol's "YYYY-MM-DD HH:MM:SS" unless `time` is given. */
static void expect_from(fsock_chat_client *c, const char *name, const char *msg,
                        const char *time) {
    fsock_chat_message *m = NULL;
    ASSERT_OK_C(c, fsock_chat_client_recv_message(c, &m));
    ASSERT(m != NULL);
    ASSERT_EQ_STR(m->name, name);
    ASSERT_EQ_STR(m->msg, msg);
    if (time != NULL) {
        ASSERT_EQ_STR(m->time, time);
    } else {
        ASSERT_EQ_SIZE(strlen(m->time), 19);
        ASSERT(m->time[4] == '-' && m->time[10] == ' ' && m->time[13] == ':');
    }
    fsock_chat_message_free(m);
}

static void expect(fsock_chat_client *c, const char *name, const char *msg) {
    expect_from(c, name, msg, NULL);
}

/* Says hello and reads the join notice and the echo. */
static void join(fsock_chat_client *c, const char *name) {
    ASSERT_OK_C(c, fsock_chat_client_say(c, "hello"));
    char joined[128];
    snprintf(joined, sizeof joined, "%s joined", name);
    expect(c, "server", joined);
    expect(c, name, "hello");
}

/* The next message must be the end of the stream. */
static void expect_eof(fsock_chat_client *c) {
    char buf[256];
    size_t size = 12345;
    ASSERT_RESULT(FSOCK_ERR_EOF, fsock_chat_client_recv(c, buf, sizeof buf, &size));
    ASSERT_EQ_SIZE(size, 12345); /* not written on failure */
    ASSERT_EQ_INT(fsock_chat_client_errno(c), 0);
    ASSERT_CONTAINS(fsock_chat_client_errmsg(c), "the server closed the connection");
}

/* Receives one message as JSON and checks it starts with `prefix` and
 * ends with `suffix`. */
static void expect_json(fsock_chat_client *c, const char *prefix, const char *suffix) {
    char buf[512];
    size_t size = 0;
    ASSERT_OK_C(c, fsock_chat_client_recv(c, buf, sizeof buf, &size));
    ASSERT_EQ_SIZE(size, strlen(buf) + 1);
    if (strncmp(buf, prefix, strlen(prefix)) != 0) FAIL_("\"%s\" does not start with \"%s\"", buf, prefix);
    size_t n = strlen(buf), k = strlen(suffix);
    if (n < k || strcmp(buf + n - k, suffix) != 0) FAIL_("\"%s\" does not end with \"%s\"", buf, suffix);
}

/* ----- the room ----------------------------------------------------------- */

static void exchange_in(int framing) {
    room r;
    room_start(&r, framing);
    fsock_chat_client *alice = connect_as(&r, "alice");
    join(alice, "alice");
    fsock_chat_client *bob = connect_as(&r, "bob");
    join(bob, "bob");
    expect(alice, "server", "bob joined");
    expect(alice, "bob", "hello");

    size_t online = 0;
    ASSERT_OK(fsock_chat_server_online(r.server, &online));
    ASSERT_EQ_SIZE(online, 2);

    /* Everyone hears everything, the speaker too, as one line of compact
     * JSON in the protocol's order, UTF-8 as it is. */
    ASSERT_OK_C(alice, fsock_chat_client_say(alice, "你好 \"quoted\" \\ /"));
    const char *prefix = "{\"name\":\"alice\",\"msg\":\"你好 \\\"quoted\\\" \\\\ /\",\"time\":\"";
    expect_json(alice, prefix, "\"}");
    expect_json(bob, prefix, "\"}");

    /* fsock_chat_client_send: any name, the caller's time, relayed as is. */
    ASSERT_OK_C(bob, fsock_chat_client_send(bob, "张三", "as is", "2024-2-24"));
    const char *exact = "{\"name\":\"张三\",\"msg\":\"as is\",\"time\":\"2024-2-24\"}";
    expect_json(alice, exact, "");
    expect_json(bob, exact, "");

    ASSERT_OK(fsock_chat_server_announce(r.server, "closing soon"));
    expect(alice, "server", "closing soon");
    expect(bob, "server", "closing soon");

    /* Bob leaves politely: the server closes his connection, and alice is
     * told. */
    ASSERT_OK_C(bob, fsock_chat_client_finish(bob));
    expect_eof(bob);
    expect_eof(bob); /* and stays at the end */
    ASSERT_RESULT(FSOCK_ERR_IO, fsock_chat_client_say(bob, "too late"));
    ASSERT_EQ_INT(fsock_chat_client_errno(bob), EPIPE);
    expect(alice, "server", "bob left");
    fsock_chat_client_free(bob);

    ASSERT_OK_C(alice, fsock_chat_client_finish(alice));
    expect_eof(alice);
    fsock_chat_client_free(alice);
    room_stop(&r);
}

TEST_CASE(two_clients_exchange_messages_in_both_framings) {
    for (int i = 0; i < 2; i++) exchange_in(FRAMINGS[i]);
}

static void too_large_in(int framing) {
    fsock_chat_server_config cfg;
    ASSERT_OK(fsock_chat_server_config_init(&cfg));
    cfg.framing = framing;
    cfg.max_frame_size = 256;
    room r;
    room_start_with(&r, &cfg);
    fsock_chat_client *bob = connect_as(&r, "bob");
    join(bob, "bob");
    fsock_chat_client *alice = connect_as(&r, "alice");
    join(alice, "alice");
    expect(bob, "server", "alice joined");
    expect(bob, "alice", "hello");

    char big[1001];
    memset(big, 'x', 1000);
    big[1000] = '\0';
    ASSERT_OK_C(alice, fsock_chat_client_say(alice, big)); /* under the client's 64 KiB */
    fsock_chat_message *m = NULL;
    ASSERT_OK_C(alice, fsock_chat_client_recv_message(alice, &m));
    ASSERT_EQ_STR(m->name, "server");
    ASSERT_CONTAINS(m->msg, "error: frame too large");
    ASSERT_CONTAINS(m->msg, "256");
    fsock_chat_message_free(m);
    expect_eof(alice);
    expect(bob, "server", "alice left"); /* everyone else goes on */
    ASSERT_OK_C(bob, fsock_chat_client_say(bob, "still here"));
    expect(bob, "bob", "still here");
    fsock_chat_client_free(alice);
    fsock_chat_client_free(bob);
    room_stop(&r);
}

TEST_CASE(a_message_over_the_limit_gets_the_servers_error_then_eof) {
    for (int i = 0; i < 2; i++) too_large_in(FRAMINGS[i]);
}

/* ----- full duplex -------------------------------------------------------- */

#define DUPLEX_MESSAGES 20

typedef struct {
    fsock_chat_client *c;
    int received; /* messages of the client's own, in order */
} duplex;

static void *receive_all(void *arg) {
    duplex *d = arg;
    expect(d->c, "server", "duo joined");
    for (int i = 0; i < DUPLEX_MESSAGES; i++) {
        char want[32];
        snprintf(want, sizeof want, "message %d", i);
        expect(d->c, "duo", want);
        d->received++;
    }
    return NULL;
}

static fsock_result blocked_result;

static void *receive_once(void *arg) {
    char buf[256];
    size_t size = 0;
    blocked_result = fsock_chat_client_recv(arg, buf, sizeof buf, &size);
    return NULL;
}

TEST_CASE(one_thread_receives_while_another_says_things) {
    room r;
    room_start(&r, FSOCK_CHAT_FRAMING_LINE);
    fsock_chat_client *c = connect_as(&r, "duo");
    duplex d = {.c = c, .received = 0};
    /* The receiver starts first and blocks; the sender is not held up. */
    pthread_t t = start_thread(receive_all, &d);
    for (int i = 0; i < DUPLEX_MESSAGES; i++) {
        char text[32];
        snprintf(text, sizeof text, "message %d", i);
        ASSERT_OK_C(c, fsock_chat_client_say(c, text));
    }
    join_thread(t);
    ASSERT_EQ_INT(d.received, DUPLEX_MESSAGES);

    /* fsock_chat_client_shutdown wakes a receiver blocked on another
     * thread (whether it is already waiting or not): the stream ends. */
    blocked_result = FSOCK_ERR_PANIC;
    t = start_thread(receive_once, c);
    ASSERT_OK_C(c, fsock_chat_client_shutdown(c));
    join_thread(t);
    ASSERT_RESULT(FSOCK_ERR_EOF, blocked_result);
    fsock_chat_client_free(c);
    room_stop(&r);
}

/* ----- buffers, timeouts ---------------------------------------------------- */

TEST_CASE(a_small_buffer_reports_the_size_and_keeps_the_message) {
    room r;
    room_start(&r, FSOCK_CHAT_FRAMING_LENGTH);
    fsock_chat_client *c = connect_as(&r, "me");
    join(c, "me");
    ASSERT_OK_C(c, fsock_chat_client_send(c, "n", "m", "t"));
    ASSERT_OK_C(c, fsock_chat_client_send(c, "n2", "m2", "t2"));
    const char *want = "{\"name\":\"n\",\"msg\":\"m\",\"time\":\"t\"}";
    size_t needed = strlen(want) + 1;

    size_t size = 0;
    ASSERT_RESULT(FSOCK_ERR_BUFFER_TOO_SMALL, fsock_chat_client_recv(c, NULL, 0, &size));
    ASSERT_EQ_SIZE(size, needed);
    ASSERT_EQ_INT(fsock_chat_client_errno(c), ERANGE);
    ASSERT_CONTAINS(fsock_chat_client_errmsg(c), "kept for the next call");

    char buf[64];
    memset(buf, '#', sizeof buf);
    size = 0;
    ASSERT_RESULT(FSOCK_ERR_BUFFER_TOO_SMALL, fsock_chat_client_recv(c, buf, needed - 1, &size));
    ASSERT_EQ_SIZE(size, needed);
    ASSERT_EQ_INT(buf[0], '#'); /* untouched */
    ASSERT_RESULT(FSOCK_ERR_BUFFER_TOO_SMALL, fsock_chat_client_recv(c, buf, 4, NULL));

    /* Exactly the size needed is enough. */
    size = 0;
    ASSERT_OK_C(c, fsock_chat_client_recv(c, buf, needed, &size));
    ASSERT_EQ_STR(buf, want);
    ASSERT_EQ_SIZE(size, needed);

    /* A message held back goes to whichever receiver comes next. */
    ASSERT_RESULT(FSOCK_ERR_BUFFER_TOO_SMALL, fsock_chat_client_recv(c, buf, 1, &size));
    expect_from(c, "n2", "m2", "t2");

    /* Non-blocking: nothing pending is FSOCK_ERR_WOULD_BLOCK, at once. */
    ASSERT_OK_C(c, fsock_chat_client_set_timeout(c, 0.0));
    ASSERT_RESULT(FSOCK_ERR_WOULD_BLOCK, fsock_chat_client_recv(c, buf, sizeof buf, &size));
    ASSERT_EQ_INT(fsock_chat_client_errno(c), EAGAIN);
    ASSERT_OK_C(c, fsock_chat_client_set_timeout(c, FSOCK_TIMEOUT_DEFAULT));
    fsock_chat_client_free(c);
    room_stop(&r);
}

/* ----- a plain TCP server: the wire, leniency, the ends of a stream ------- */

/* Reads exactly n bytes from s into buf. */
static void recv_exactly(fsock_socket *s, char *buf, size_t n) {
    size_t got = 0;
    ASSERT_OK_ON(s, fsock_socket_recv(s, (uint8_t *)buf, n, FSOCK_MSG_WAITALL, &got));
    ASSERT_EQ_SIZE(got, n);
}

/* Sends one frame of `body` in the framing by hand. */
static void send_frame(fsock_socket *s, int framing, const char *body) {
    size_t n = strlen(body);
    if (framing == FSOCK_CHAT_FRAMING_LENGTH) {
        uint8_t header[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
        ASSERT_OK_ON(s, fsock_socket_sendall(s, header, 4, 0));
        send_text(s, body);
    } else {
        send_text(s, body);
        send_text(s, "\n");
    }
}

static void plain_server_in(int framing) {
    fsock_socket *listener = NULL, *conn = NULL;
    ASSERT_OK(fsock_create_server("127.0.0.1:0", 0, &listener));
    char addr[FSOCK_ADDRSTRLEN];
    local_addr_of(listener, addr, sizeof addr);
    fsock_chat_client *c = NULL;
    ASSERT_OK(fsock_chat_client_connect("127.0.0.1", (uint16_t)port_of(addr), framing, "me",
                                        FSOCK_TIMEOUT_DEFAULT, &c));
    ASSERT_OK_ON(listener, fsock_socket_accept(listener, &conn, NULL, 0));

    /* What the client puts on the wire. */
    ASSERT_OK_C(c, fsock_chat_client_say(c, "yo"));
    char wire[128] = {0};
    const char *head = "{\"name\":\"me\",\"msg\":\"yo\",\"time\":\"";
    size_t body_len = strlen(head) + 19 + 2; /* the time, then "} */
    if (framing == FSOCK_CHAT_FRAMING_LENGTH) {
        recv_exactly(conn, wire, 4);
        ASSERT_EQ_INT((uint8_t)wire[0] | (uint8_t)wire[1] | (uint8_t)wire[2], 0);
        ASSERT_EQ_SIZE((uint8_t)wire[3], body_len);
        recv_exactly(conn, wire, body_len);
    } else {
        recv_exactly(conn, wire, body_len + 1);
        ASSERT_EQ_INT(wire[body_len], '\n');
        wire[body_len] = '\0';
    }
    ASSERT(strncmp(wire, head, strlen(head)) == 0);
    ASSERT(strcmp(wire + body_len - 2, "\"}") == 0);

    /* A frame that is not a chat message is skipped, alone. Python's
     * escapes are read, other fields ignored, a missing time is "". */
    send_frame(conn, framing, "not json");
    send_frame(conn, framing, "{\"name\": \"\\u5f20\\u4e09\", \"msg\": \"hi\", \"time\": \"t\", \"extra\": 1}");
    send_frame(conn, framing, "{\"msg\": \"no time\", \"name\": \"x\"}");
    char buf[256];
    size_t size = 0;
    ASSERT_RESULT(FSOCK_ERR_PROTOCOL, fsock_chat_client_recv(c, buf, sizeof buf, &size));
    ASSERT_EQ_INT(fsock_chat_client_errno(c), EBADMSG);
    ASSERT_CONTAINS(fsock_chat_client_errmsg(c), "invalid JSON");
    ASSERT_OK_C(c, fsock_chat_client_recv(c, buf, sizeof buf, &size));
    ASSERT_EQ_STR(buf, "{\"name\":\"张三\",\"msg\":\"hi\",\"time\":\"t\"}");
    expect_from(c, "x", "no time", "");

    /* The server closing in the middle of a message is not a clean end. */
    if (framing == FSOCK_CHAT_FRAMING_LENGTH) {
        ASSERT_OK_ON(conn, fsock_socket_sendall(conn, (const uint8_t *)"\0\0\0\x10{\"na", 8, 0));
    } else {
        send_text(conn, "{\"na");
    }
    ASSERT_OK_ON(conn, fsock_socket_shutdown(conn, FSOCK_SHUT_WR));
    ASSERT_RESULT(FSOCK_ERR_INCOMPLETE_FRAME, fsock_chat_client_recv(c, buf, sizeof buf, &size));
    fsock_chat_client_free(c);
    fsock_socket_free(conn);

    /* ... and closing between messages is. */
    ASSERT_OK(fsock_chat_client_connect("127.0.0.1", (uint16_t)port_of(addr), framing, "me",
                                        FSOCK_TIMEOUT_DEFAULT, &c));
    ASSERT_OK_ON(listener, fsock_socket_accept(listener, &conn, NULL, 0));
    send_frame(conn, framing, "{\"name\":\"a\",\"msg\":\"last\",\"time\":\"t\"}");
    fsock_socket_free(conn);
    expect_from(c, "a", "last", "t");
    expect_eof(c);
    fsock_chat_client_free(c);
    fsock_socket_free(listener);
}

TEST_CASE(a_plain_server_sees_the_protocol_and_the_client_is_lenient) {
    for (int i = 0; i < 2; i++) plain_server_in(FRAMINGS[i]);
}

/* ----- what is refused ------------------------------------------------------ */

TEST_CASE(null_arguments_and_unknown_settings_are_refused) {
    static int not_a_client;
    fsock_chat_client *marker = (fsock_chat_client *)&not_a_client, *c = marker;
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT,
                  fsock_chat_client_connect(NULL, 1, FSOCK_CHAT_FRAMING_LINE, "n", -2.0, &c));
    ASSERT_CONTAINS(fsock_last_error_message(), "`host` is NULL");
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT,
                  fsock_chat_client_connect("127.0.0.1", 1, FSOCK_CHAT_FRAMING_LINE, NULL, -2.0, &c));
    ASSERT_CONTAINS(fsock_last_error_message(), "`name` is NULL");
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT,
                  fsock_chat_client_connect("127.0.0.1", 1, FSOCK_CHAT_FRAMING_LINE, "n", -2.0, NULL));
    ASSERT_CONTAINS(fsock_last_error_message(), "`out` is NULL");
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_chat_client_connect("127.0.0.1", 1, 7, "n", -2.0, &c));
    ASSERT_CONTAINS(fsock_last_error_message(), "`framing` is 7");
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT,
                  fsock_chat_client_connect("127.0.0.1", 1, FSOCK_CHAT_FRAMING_LINE, "n", -5.0, &c));
    ASSERT_CONTAINS(fsock_last_error_message(), "timeout -5");
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT,
                  fsock_chat_client_connect("127.0.0.1", 1, FSOCK_CHAT_FRAMING_LINE, "\xff", -2.0, &c));
    ASSERT_CONTAINS(fsock_last_error_message(), "not valid UTF-8");
    ASSERT(c == marker);

    /* A NULL handle, for every call that takes one. */
    char buf[64];
    size_t size = 7;
    fsock_chat_message *m = NULL;
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_chat_client_say(NULL, "x"));
    ASSERT_CONTAINS(fsock_last_error_message(), "`c` is NULL");
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_chat_client_send(NULL, "a", "b", "c"));
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_chat_client_recv(NULL, buf, sizeof buf, &size));
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_chat_client_recv_message(NULL, &m));
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_chat_client_finish(NULL));
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_chat_client_shutdown(NULL));
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_chat_client_set_timeout(NULL, 1.0));
    ASSERT_CONTAINS(fsock_chat_client_errmsg(NULL), "NULL");
    ASSERT_EQ_INT(fsock_chat_client_errno(NULL), EINVAL);
    ASSERT_EQ_SIZE(size, 7);
    ASSERT(m == NULL);
    fsock_chat_client_free(NULL);
    fsock_chat_message_free(NULL);

    fsock_chat_server_config cfg;
    fsock_chat_server *server = NULL;
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_chat_server_config_init(NULL));
    ASSERT_OK(fsock_chat_server_config_init(&cfg));
    ASSERT_EQ_INT(cfg.framing, FSOCK_CHAT_FRAMING_LINE);
    ASSERT_EQ_SIZE(cfg.max_frame_size, FSOCK_CHAT_DEFAULT_MAX_FRAME_SIZE);
    ASSERT_EQ_SIZE(FSOCK_CHAT_DEFAULT_MAX_FRAME_SIZE, 64 * 1024);
    ASSERT_EQ_INT(FSOCK_CHAT_DEFAULT_PORT, 8888);
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_chat_server_new(NULL, 0, &cfg, &server));
    ASSERT_CONTAINS(fsock_last_error_message(), "`host` is NULL");
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_chat_server_new("127.0.0.1", 0, NULL, &server));
    ASSERT_CONTAINS(fsock_last_error_message(), "`config` is NULL");
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_chat_server_new("127.0.0.1", 0, &cfg, NULL));
    cfg.framing = 9;
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_chat_server_new("127.0.0.1", 0, &cfg, &server));
    ASSERT_CONTAINS(fsock_last_error_message(), "`config->framing` is 9");
    ASSERT_OK(fsock_chat_server_config_init(&cfg));
    cfg.max_frame_size = 0;
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_chat_server_new("127.0.0.1", 0, &cfg, &server));
    ASSERT_CONTAINS(fsock_last_error_message(), "max_frame_size");
    ASSERT_OK(fsock_chat_server_config_init(&cfg));
    cfg.linger = -1.0;
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_chat_server_new("127.0.0.1", 0, &cfg, &server));
    ASSERT_CONTAINS(fsock_last_error_message(), "`config->linger` is -1");
    ASSERT(server == NULL);
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_chat_server_local_addr(NULL, buf, sizeof buf, NULL));
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_chat_server_serve(NULL));
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_chat_server_close(NULL));
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_chat_server_online(NULL, &size));
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_chat_server_announce(NULL, "x"));
    ASSERT_CONTAINS(fsock_last_error_message(), "`server` is NULL");
    ASSERT_CONTAINS(fsock_chat_server_errmsg(NULL), "NULL");
    ASSERT_EQ_INT(fsock_chat_server_errno(NULL), EINVAL);
    fsock_chat_server_free(NULL);

    /* NULL arguments beside a live handle. */
    room r;
    room_start(&r, FSOCK_CHAT_FRAMING_LINE);
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_chat_server_online(r.server, NULL));
    ASSERT_CONTAINS(fsock_chat_server_errmsg(r.server), "`out_count` is NULL");
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_chat_server_announce(r.server, NULL));
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_chat_server_local_addr(r.server, NULL, 5, NULL));
    size = 0;
    buf[0] = '#';
    ASSERT_RESULT(FSOCK_ERR_BUFFER_TOO_SMALL, fsock_chat_server_local_addr(r.server, buf, 3, &size));
    ASSERT_EQ_SIZE(size, (size_t)snprintf(NULL, 0, "127.0.0.1:%u", (unsigned)r.port) + 1);
    ASSERT_EQ_INT(buf[0], '#'); /* untouched */

    c = connect_as(&r, "me");
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_chat_client_say(c, NULL));
    ASSERT_CONTAINS(fsock_chat_client_errmsg(c), "`msg` is NULL");
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_chat_client_say(c, "\xff\xfe"));
    ASSERT_CONTAINS(fsock_chat_client_errmsg(c), "`msg` is not valid UTF-8");
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_chat_client_send(c, "a", "b", NULL));
    ASSERT_CONTAINS(fsock_chat_client_errmsg(c), "`time` is NULL");
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_chat_client_recv(c, NULL, 10, &size));
    ASSERT_CONTAINS(fsock_chat_client_errmsg(c), "`json_buf` is NULL");
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_chat_client_recv_message(c, NULL));
    ASSERT_CONTAINS(fsock_chat_client_errmsg(c), "`out` is NULL");
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_chat_client_set_timeout(c, -3.0));
    /* A message too large for a frame is refused before anything is sent. */
    char *huge = malloc(FSOCK_CHAT_DEFAULT_MAX_FRAME_SIZE + 1);
    ASSERT(huge != NULL);
    memset(huge, 'y', FSOCK_CHAT_DEFAULT_MAX_FRAME_SIZE);
    huge[FSOCK_CHAT_DEFAULT_MAX_FRAME_SIZE] = '\0';
    ASSERT_RESULT(FSOCK_ERR_FRAME_TOO_LARGE, fsock_chat_client_say(c, huge));
    free(huge);
    /* None of that reached the server: the connection still works. */
    join(c, "me");
    fsock_chat_client_free(c);
    room_stop(&r);
    /* Once closed, the server does not serve again. */
    ASSERT_OK(fsock_chat_server_config_init(&cfg));
    ASSERT_OK(fsock_chat_server_new("127.0.0.1", 0, &cfg, &server));
    ASSERT_OK(fsock_chat_server_close(server));
    ASSERT_NE_INT(fsock_chat_server_serve(server), FSOCK_OK);
    fsock_chat_server_free(server);
}

int main(void) {
    test_init();
    RUN(two_clients_exchange_messages_in_both_framings);
    RUN(a_message_over_the_limit_gets_the_servers_error_then_eof);
    RUN(one_thread_receives_while_another_says_things);
    RUN(a_small_buffer_reports_the_size_and_keeps_the_message);
    RUN(a_plain_server_sees_the_protocol_and_the_client_is_lenient);
    RUN(null_arguments_and_unknown_settings_are_refused);
    return 0;
}
