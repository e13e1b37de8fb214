/*
 * Length-prefixed framing from C (粘包/分包): frames survive being merged
 * or split on the way; every header width and byte order; a frame from
 * plain Python (struct.pack('>I', len(body)) + body); an oversized declared
 * length refused before any allocation; a peer that closes mid-frame; a
 * clean end between frames; a buffer too small (told the size, frame kept);
 * the library-owned buffer; a timeout in the middle of a frame; framed echo
 * through the server engine.
 */
#include "test.h"

/* The default codec: a 4-byte big-endian length header counting the body. */
static fsock_codec_config default_codec(void) {
    fsock_codec_config cfg;
    ASSERT_OK(fsock_codec_config_init(FSOCK_CODEC_LENGTH_PREFIXED, &cfg));
    return cfg;
}

static fsock_codec_config length_codec(int width, int endian, int counts) {
    fsock_codec_config cfg = default_codec();
    cfg.header_width = width;
    cfg.endian = endian;
    cfg.length_counts = counts;
    return cfg;
}

/* Receives exactly `len` raw bytes. */
static void recv_raw(fsock_socket *s, uint8_t *buf, size_t len) {
    size_t n = 0;
    ASSERT_OK_ON(s, fsock_socket_recv(s, buf, len, FSOCK_MSG_WAITALL, &n));
    ASSERT_EQ_SIZE(n, len);
}

static void send_raw(fsock_socket *s, const void *bytes, size_t len) {
    ASSERT_OK_ON(s, fsock_socket_sendall(s, bytes, len, 0));
}

/* A Unix stream pair, each end framed with the same codec: frames sent on
 * `fa` (socket `a`) arrive on `fb` (socket `b`). */
typedef struct {
    fsock_socket *a, *b;
    fsock_framed *fa, *fb;
} framed_pair;

static framed_pair open_framed_pair(const fsock_codec_config *cfg) {
    framed_pair p;
    stream_pair(&p.a, &p.b);
    p.fa = framed(p.a, cfg);
    p.fb = framed(p.b, cfg);
    return p;
}

/* Frees the framed handles, then the sockets under them. */
static void close_framed_pair(framed_pair *p) {
    fsock_framed_free(p->fa);
    fsock_framed_free(p->fb);
    fsock_socket_free(p->a);
    fsock_socket_free(p->b);
}

/* Receives a frame and checks it is `want` (`len` bytes). */
static void expect_frame(fsock_framed *f, const void *want, size_t len) {
    uint8_t buf[512];
    size_t n = 12345;
    ASSERT_OK_F(f, fsock_framed_recv(f, buf, sizeof buf, &n));
    ASSERT_EQ_SIZE(n, len);
    ASSERT(memcmp(buf, want, len) == 0);
}

TEST_CASE(round_trip_every_width_order_and_count) {
    static const int widths[] = {1, 2, 4, 8};
    static const int endians[] = {FSOCK_ENDIAN_BIG, FSOCK_ENDIAN_LITTLE};
    static const int counts[] = {FSOCK_LENGTH_COUNTS_BODY, FSOCK_LENGTH_COUNTS_HEADER_AND_BODY};
    for (size_t w = 0; w < 4; w++) {
        for (size_t e = 0; e < 2; e++) {
            for (size_t c = 0; c < 2; c++) {
                fsock_codec_config cfg = length_codec(widths[w], endians[e], counts[c]);
                framed_pair p = open_framed_pair(&cfg);
                ASSERT_OK_F(p.fa, fsock_framed_send(p.fa, (const uint8_t *)"hello", 5));
                ASSERT_OK_F(p.fa, fsock_framed_send(p.fa, NULL, 0)); /* an empty frame */
                ASSERT_OK_F(p.fa, fsock_framed_send(p.fa, (const uint8_t *)"world!", 6));
                expect_frame(p.fb, "hello", 5);
                expect_frame(p.fb, "", 0);
                expect_frame(p.fb, "world!", 6);
                close_framed_pair(&p);
            }
        }
    }
}

TEST_CASE(header_bytes_on_the_wire) {
    fsock_socket *a, *b;
    stream_pair(&a, &b);
    uint8_t wire[16];

    fsock_codec_config cfg = length_codec(2, FSOCK_ENDIAN_LITTLE, FSOCK_LENGTH_COUNTS_BODY);
    fsock_framed *f = framed(a, &cfg);
    ASSERT_OK_F(f, fsock_framed_send(f, (const uint8_t *)"abc", 3));
    recv_raw(b, wire, 5);
    ASSERT(memcmp(wire, "\x03\x00" "abc", 5) == 0);
    fsock_framed_free(f);

    cfg = length_codec(4, FSOCK_ENDIAN_BIG, FSOCK_LENGTH_COUNTS_HEADER_AND_BODY);
    f = framed(a, &cfg);
    ASSERT_OK_F(f, fsock_framed_send(f, (const uint8_t *)"abc", 3));
    recv_raw(b, wire, 7);
    ASSERT(memcmp(wire, "\x00\x00\x00\x07" "abc", 7) == 0);
    fsock_framed_free(f);

    fsock_socket_free(a);
    fsock_socket_free(b);
}

TEST_CASE(python_struct_pack_frames_over_tcp) {
    fsock_socket *cli = NULL, *conn = NULL;
    tcp_pair(&cli, &conn);

    /* What Python sends: struct.pack('>I', len(b)) + b, twice, in one write
     * (粘包: the two frames arrive stuck together). */
    send_raw(cli, "\x00\x00\x00\x05hello\x00\x00\x00\x02hi", 15);
    fsock_codec_config cfg = default_codec();
    fsock_framed *f = framed(conn, &cfg);
    expect_frame(f, "hello", 5);
    expect_frame(f, "hi", 2);

    /* And what Python's struct.unpack('>I', ...) reads back. */
    ASSERT_OK_F(f, fsock_framed_send(f, (const uint8_t *)"abc", 3));
    uint8_t wire[7];
    recv_raw(cli, wire, sizeof wire);
    ASSERT(memcmp(wire, "\x00\x00\x00\x03" "abc", 7) == 0);

    fsock_framed_free(f);
    fsock_socket_free(conn);
    fsock_socket_free(cli);
}

typedef struct {
    fsock_socket *s;
    const uint8_t *bytes;
    size_t len;
} dribble_job;

/* Sends one byte at a time (分包: every frame split into pieces). */
static void *dribble(void *arg) {
    dribble_job *job = arg;
    for (size_t i = 0; i < job->len; i++) send_raw(job->s, job->bytes + i, 1);
    return NULL;
}

TEST_CASE(frames_split_into_single_bytes_come_back_whole) {
    fsock_socket *a, *b;
    stream_pair(&a, &b);
    static const uint8_t wire[] = "\x00\x04" "ping" "\x00\x00" "\x00\x0b" "hello world";
    dribble_job job = {a, wire, sizeof wire - 1};
    pthread_t t = start_thread(dribble, &job);
    fsock_codec_config cfg = length_codec(2, FSOCK_ENDIAN_BIG, FSOCK_LENGTH_COUNTS_BODY);
    fsock_framed *f = framed(b, &cfg);
    expect_frame(f, "ping", 4);
    expect_frame(f, "", 0);
    expect_frame(f, "hello world", 11);
    join_thread(t);
    fsock_framed_free(f);
    fsock_socket_free(a);
    fsock_socket_free(b);
}

TEST_CASE(oversized_declared_length_is_refused_before_allocating) {
    fsock_socket *a, *b;
    stream_pair(&a, &b);
    fsock_codec_config cfg = length_codec(4, FSOCK_ENDIAN_BIG, FSOCK_LENGTH_COUNTS_BODY);
    cfg.max_frame_size = 1024;
    fsock_framed *f = framed(b, &cfg);
    send_raw(a, "\xff\xff\xff\xff", 4); /* declares 4 GiB */
    uint8_t buf[16];
    size_t n = 777;
    ASSERT_RESULT(FSOCK_ERR_FRAME_TOO_LARGE, fsock_framed_recv(f, buf, sizeof buf, &n));
    ASSERT_EQ_SIZE(n, 777); /* untouched on failure */
    ASSERT_EQ_INT(fsock_framed_errno(f), EMSGSIZE);
    ASSERT_CONTAINS(fsock_framed_errmsg(f), "4294967295");
    ASSERT_CONTAINS(fsock_framed_errmsg(f), "1024");
    /* The stream cannot recover: the same answer again. */
    ASSERT_RESULT(FSOCK_ERR_FRAME_TOO_LARGE, fsock_framed_recv(f, buf, sizeof buf, &n));
    fsock_framed_free(f);

    /* An 8-byte header declaring 2^63 bytes, against the default 8 MiB
     * limit: had anything tried to allocate that much, the process would
     * have aborted instead of getting a code back. */
    cfg = length_codec(8, FSOCK_ENDIAN_BIG, FSOCK_LENGTH_COUNTS_BODY);
    f = framed(b, &cfg);
    send_raw(a, "\x80\x00\x00\x00\x00\x00\x00\x00", 8);
    ASSERT_RESULT(FSOCK_ERR_FRAME_TOO_LARGE, fsock_framed_recv(f, buf, sizeof buf, &n));
    uint8_t *data = (uint8_t *)buf;
    ASSERT_RESULT(FSOCK_ERR_FRAME_TOO_LARGE, fsock_framed_recv_alloc(f, &data, &n));
    ASSERT(data == (uint8_t *)buf); /* untouched */
    fsock_framed_free(f);
    fsock_socket_free(a);
    fsock_socket_free(b);
}

TEST_CASE(sending_too_large_a_frame_sends_nothing) {
    fsock_socket *a, *b;
    stream_pair(&a, &b);
    fsock_codec_config cfg = length_codec(1, FSOCK_ENDIAN_BIG, FSOCK_LENGTH_COUNTS_BODY);
    fsock_framed *f = framed(a, &cfg);
    uint8_t big[300] = {0};
    ASSERT_RESULT(FSOCK_ERR_FRAME_TOO_LARGE, fsock_framed_send(f, big, sizeof big)); /* > 255 */
    ASSERT_OK_F(f, fsock_framed_send(f, big, 255));
    fsock_framed_free(f);
    cfg = length_codec(4, FSOCK_ENDIAN_BIG, FSOCK_LENGTH_COUNTS_BODY);
    cfg.max_frame_size = 4;
    f = framed(a, &cfg);
    ASSERT_RESULT(FSOCK_ERR_FRAME_TOO_LARGE, fsock_framed_send(f, big, 5));
    ASSERT_CONTAINS(fsock_framed_errmsg(f), "too large");
    fsock_framed_free(f);
    /* Only the 255-byte frame went out. */
    uint8_t wire[256];
    recv_raw(b, wire, sizeof wire);
    ASSERT_EQ_INT(wire[0], 255);
    ASSERT_OK_ON(b, fsock_socket_set_timeout(b, 0.0));
    size_t n = 0;
    ASSERT_RESULT(FSOCK_ERR_WOULD_BLOCK, fsock_socket_recv(b, wire, sizeof wire, 0, &n));
    fsock_socket_free(a);
    fsock_socket_free(b);
}

TEST_CASE(malformed_header_is_reported) {
    fsock_socket *a, *b;
    stream_pair(&a, &b);
    fsock_codec_config cfg = length_codec(4, FSOCK_ENDIAN_BIG, FSOCK_LENGTH_COUNTS_HEADER_AND_BODY);
    fsock_framed *f = framed(b, &cfg);
    send_raw(a, "\x00\x00\x00\x02", 4); /* counts itself, yet says 2 < 4 */
    uint8_t buf[16];
    size_t n = 0;
    ASSERT_RESULT(FSOCK_ERR_MALFORMED_HEADER, fsock_framed_recv(f, buf, sizeof buf, &n));
    ASSERT_EQ_INT(fsock_framed_errno(f), EPROTO);
    ASSERT_CONTAINS(fsock_framed_errmsg(f), "malformed frame header");
    ASSERT_EQ_STR(fsock_result_name(FSOCK_ERR_MALFORMED_HEADER), "FSOCK_ERR_MALFORMED_HEADER");
    fsock_framed_free(f);
    fsock_socket_free(a);
    fsock_socket_free(b);
}

TEST_CASE(peer_closing_mid_frame_is_an_incomplete_frame) {
    fsock_socket *a, *b;
    stream_pair(&a, &b);
    fsock_codec_config cfg = default_codec();
    fsock_framed *f = framed(b, &cfg);
    send_raw(a, "\x00\x00\x00\x02ok\x00\x00\x00\x0ahel", 13);
    fsock_socket_free(a); /* gone, three bytes into a ten-byte body */
    expect_frame(f, "ok", 2); /* the whole frame before it still comes out */
    uint8_t buf[16];
    size_t n = 0;
    ASSERT_RESULT(FSOCK_ERR_INCOMPLETE_FRAME, fsock_framed_recv(f, buf, sizeof buf, &n));
    ASSERT_EQ_INT(fsock_framed_errno(f), ECONNRESET);
    ASSERT_RESULT(FSOCK_ERR_INCOMPLETE_FRAME, fsock_framed_recv(f, buf, sizeof buf, &n));
    fsock_framed_free(f);
    fsock_socket_free(b);
}

TEST_CASE(peer_closing_between_frames_is_a_clean_eof) {
    fsock_codec_config cfg = default_codec();
    framed_pair p = open_framed_pair(&cfg);
    ASSERT_OK_F(p.fa, fsock_framed_send(p.fa, (const uint8_t *)"last", 4));
    ASSERT_OK_ON(p.a, fsock_socket_shutdown(p.a, FSOCK_SHUT_WR));
    expect_frame(p.fb, "last", 4);
    uint8_t buf[16];
    size_t n = 42;
    ASSERT_RESULT(FSOCK_ERR_EOF, fsock_framed_recv(p.fb, buf, sizeof buf, &n));
    ASSERT_EQ_SIZE(n, 42);
    ASSERT_CONTAINS(fsock_framed_errmsg(p.fb), "end of stream");
    ASSERT_EQ_INT(fsock_framed_errno(p.fb), 0);
    uint8_t *data = NULL;
    ASSERT_RESULT(FSOCK_ERR_EOF, fsock_framed_recv_alloc(p.fb, &data, &n)); /* and again */
    ASSERT(data == NULL);
    close_framed_pair(&p);
}

TEST_CASE(buffer_too_small_tells_the_size_and_keeps_the_frame) {
    fsock_codec_config cfg = default_codec();
    framed_pair p = open_framed_pair(&cfg);
    ASSERT_OK_F(p.fa, fsock_framed_send(p.fa, (const uint8_t *)"0123456789", 10));
    ASSERT_OK_F(p.fa, fsock_framed_send(p.fa, (const uint8_t *)"next", 4));

    uint8_t small[4] = {'x', 'x', 'x', 'x'};
    size_t n = 0;
    ASSERT_RESULT(FSOCK_ERR_BUFFER_TOO_SMALL, fsock_framed_recv(p.fb, small, sizeof small, &n));
    ASSERT_EQ_SIZE(n, 10); /* the size needed */
    ASSERT(memcmp(small, "xxxx", 4) == 0);
    ASSERT_CONTAINS(fsock_framed_errmsg(p.fb), "10 bytes");
    /* Asking for the size only: NULL with capacity 0. */
    n = 0;
    ASSERT_RESULT(FSOCK_ERR_BUFFER_TOO_SMALL, fsock_framed_recv(p.fb, NULL, 0, &n));
    ASSERT_EQ_SIZE(n, 10);
    uint8_t *right = malloc(n);
    ASSERT(right != NULL);
    ASSERT_OK_F(p.fb, fsock_framed_recv(p.fb, right, n, &n));
    ASSERT_EQ_SIZE(n, 10);
    ASSERT(memcmp(right, "0123456789", 10) == 0);
    free(right);
    expect_frame(p.fb, "next", 4);
    close_framed_pair(&p);
}

TEST_CASE(recv_alloc_gives_a_buffer_to_free) {
    fsock_codec_config cfg = default_codec();
    framed_pair p = open_framed_pair(&cfg);
    uint8_t big[1000];
    for (size_t i = 0; i < sizeof big; i++) big[i] = (uint8_t)(i % 251);

    ASSERT_OK_F(p.fa, fsock_framed_send(p.fa, (const uint8_t *)"small", 5));
    ASSERT_OK_F(p.fa, fsock_framed_send(p.fa, NULL, 0));
    uint8_t *data = NULL;
    size_t len = 0;
    ASSERT_OK_F(p.fb, fsock_framed_recv_alloc(p.fb, &data, &len));
    ASSERT_EQ_SIZE(len, 5);
    ASSERT(data != NULL && memcmp(data, "small", 5) == 0);
    fsock_frame_free(data, len);
    ASSERT_OK_F(p.fb, fsock_framed_recv_alloc(p.fb, &data, &len));
    ASSERT(data == NULL); /* an empty frame */
    ASSERT_EQ_SIZE(len, 0);
    fsock_frame_free(data, len); /* a no-op, like fsock_frame_free(NULL, 0) */

    /* A frame kept back by a small buffer comes out of the alloc variant. */
    ASSERT_OK_F(p.fa, fsock_framed_send(p.fa, big, 1000));
    uint8_t tiny[1];
    size_t need = 0;
    ASSERT_RESULT(FSOCK_ERR_BUFFER_TOO_SMALL, fsock_framed_recv(p.fb, tiny, sizeof tiny, &need));
    ASSERT_EQ_SIZE(need, 1000);
    ASSERT_OK_F(p.fb, fsock_framed_recv_alloc(p.fb, &data, &len));
    ASSERT_EQ_SIZE(len, 1000);
    ASSERT(memcmp(data, big, 1000) == 0);
    fsock_frame_free(data, len);
    close_framed_pair(&p);
}

TEST_CASE(timeout_mid_frame_keeps_the_partial_frame) {
    fsock_socket *a, *b;
    stream_pair(&a, &b);
    fsock_codec_config cfg = default_codec();
    fsock_framed *f = framed(b, &cfg);
    ASSERT_OK_ON(b, fsock_socket_set_timeout(b, 0.05));
    send_raw(a, "\x00\x00\x00\x08half", 8);
    uint8_t buf[16];
    size_t n = 0;
    ASSERT_RESULT(FSOCK_ERR_TIMEOUT, fsock_framed_recv(f, buf, sizeof buf, &n));
    ASSERT_EQ_INT(fsock_framed_errno(f), ETIMEDOUT);
    /* Non-blocking: WOULD_BLOCK, and still nothing lost. */
    ASSERT_OK_ON(b, fsock_socket_set_timeout(b, 0.0));
    ASSERT_RESULT(FSOCK_ERR_WOULD_BLOCK, fsock_framed_recv(f, buf, sizeof buf, &n));
    send_raw(a, "full", 4);
    ASSERT_OK_ON(b, fsock_socket_set_timeout(b, TEST_TIMEOUT_SECONDS));
    expect_frame(f, "halffull", 8);
    fsock_framed_free(f);
    fsock_socket_free(a);
    fsock_socket_free(b);
}

TEST_CASE(null_and_invalid_arguments) {
    fsock_socket *a, *b, *udp;
    stream_pair(&a, &b);
    fsock_codec_config cfg;
    fsock_framed *f = NULL;
    uint8_t buf[8];
    uint8_t *data = NULL;
    size_t n = 0;

    ASSERT_NULL_ARG("out_config", fsock_codec_config_init(FSOCK_CODEC_LENGTH_PREFIXED, NULL));
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_codec_config_init(42, &cfg));
    ASSERT_CONTAINS(fsock_last_error_message(), "`kind` is 42");
    ASSERT_OK(fsock_codec_config_init(FSOCK_CODEC_LENGTH_PREFIXED, &cfg));
    ASSERT_NULL_ARG("s", fsock_framed_new(NULL, &cfg, &f));
    ASSERT_NULL_ARG("config", fsock_framed_new(a, NULL, &f));
    ASSERT_NULL_ARG("out", fsock_framed_new(a, &cfg, NULL));
    fsock_codec_config bad = cfg;
    bad.header_width = 3;
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_framed_new(a, &bad, &f));
    ASSERT_CONTAINS(fsock_socket_errmsg(a), "`config->header_width` is 3");
    bad = cfg;
    bad.endian = 9;
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_framed_new(a, &bad, &f));
    bad = cfg;
    bad.length_counts = 9;
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_framed_new(a, &bad, &f));
    bad = cfg;
    bad.kind = 0;
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_framed_new(a, &bad, &f));
    ASSERT_OK(fsock_socket_new(FSOCK_AF_INET, FSOCK_SOCK_DGRAM, 0, &udp));
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_framed_new(udp, &cfg, &f));
    ASSERT_CONTAINS(fsock_last_error_message(), "stream socket");
    fsock_socket_free(udp);
    ASSERT(f == NULL);

    f = framed(a, &cfg);
    ASSERT_EQ_STR(fsock_framed_errmsg(f), "no error");
    ASSERT_NULL_ARG("f", fsock_framed_send(NULL, buf, 1));
    ASSERT_NULL_ARG("data", fsock_framed_send(f, NULL, 1));
    ASSERT_NULL_ARG("f", fsock_framed_recv(NULL, buf, sizeof buf, &n));
    ASSERT_NULL_ARG("buf", fsock_framed_recv(f, NULL, sizeof buf, &n));
    ASSERT_NULL_ARG("out_len", fsock_framed_recv(f, buf, sizeof buf, NULL));
    ASSERT_CONTAINS(fsock_framed_errmsg(f), "`out_len` is NULL");
    ASSERT_EQ_INT(fsock_framed_errno(f), EINVAL);
    ASSERT_NULL_ARG("f", fsock_framed_recv_alloc(NULL, &data, &n));
    ASSERT_NULL_ARG("out_data", fsock_framed_recv_alloc(f, NULL, &n));
    ASSERT_NULL_ARG("out_len", fsock_framed_recv_alloc(f, &data, NULL));
    ASSERT_CONTAINS(fsock_framed_errmsg(NULL), "NULL");
    ASSERT_EQ_INT(fsock_framed_errno(NULL), EINVAL);
    fsock_framed_free(NULL);
    fsock_frame_free(NULL, 0);

    /* A closed socket under a framed handle: FSOCK_ERR_CLOSED. */
    ASSERT_OK_ON(a, fsock_socket_close(a));
    ASSERT_RESULT(FSOCK_ERR_CLOSED, fsock_framed_send(f, buf, 1));
    ASSERT_RESULT(FSOCK_ERR_CLOSED, fsock_framed_recv(f, buf, sizeof buf, &n));
    fsock_framed_free(f);
    fsock_socket_free(a);
    fsock_socket_free(b);
}

/* ---- through the server engine -------------------------------------------- */

/* on_connection: answers every frame with the frame reversed, until EOF. */
static int reverse_frames(void *userdata, fsock_socket *conn, const char *peer) {
    const fsock_codec_config *cfg = userdata;
    (void)peer;
    fsock_framed *f = NULL;
    if (fsock_framed_new(conn, cfg, &f) != FSOCK_OK) return 1;
    int status = 0;
    for (;;) {
        uint8_t *data = NULL;
        size_t len = 0;
        fsock_result r = fsock_framed_recv_alloc(f, &data, &len);
        if (r == FSOCK_ERR_EOF) break;
        if (r != FSOCK_OK) {
            status = 2;
            break;
        }
        for (size_t i = 0; i < len / 2; i++) {
            uint8_t t = data[i];
            data[i] = data[len - 1 - i];
            data[len - 1 - i] = t;
        }
        r = fsock_framed_send(f, data, len);
        fsock_frame_free(data, len);
        if (r != FSOCK_OK) {
            status = 3;
            break;
        }
    }
    fsock_framed_free(f); /* before the connection handle goes */
    return status;
}

TEST_CASE(framed_echo_through_the_server_engine) {
    fsock_codec_config codec = default_codec();
    fsock_server_config cfg;
    ASSERT_OK(fsock_server_config_init(&cfg));
    cfg.address = "127.0.0.1:0";
    cfg.idle_timeout = TEST_TIMEOUT_SECONDS;
    fsock_server_callbacks cb = {reverse_frames, NULL, unexpected_error};
    serving s = {NULL, FSOCK_ERR_PANIC};
    ASSERT_OK(fsock_server_new(&cfg, &cb, &codec, &s.server));
    pthread_t t = serving_start(&s);

    fsock_socket *c = connect_to(s.server);
    fsock_framed *f = framed(c, &codec);
    ASSERT_OK_F(f, fsock_framed_send(f, (const uint8_t *)"stressed", 8));
    ASSERT_OK_F(f, fsock_framed_send(f, (const uint8_t *)"drawer", 6));
    expect_frame(f, "desserts", 8);
    expect_frame(f, "reward", 6);
    ASSERT_OK_ON(c, fsock_socket_shutdown(c, FSOCK_SHUT_WR));
    uint8_t buf[8];
    size_t n = 0;
    ASSERT_RESULT(FSOCK_ERR_EOF, fsock_framed_recv(f, buf, sizeof buf, &n)); /* server done */
    fsock_framed_free(f);
    fsock_socket_free(c);

    serving_stop(&s, t);
    fsock_server_free(s.server);
}

int main(void) {
    test_init();
    RUN(round_trip_every_width_order_and_count);
    RUN(header_bytes_on_the_wire);
    RUN(python_struct_pack_frames_over_tcp);
    RUN(frames_split_into_single_bytes_come_back_whole);
    RUN(oversized_declared_length_is_refused_before_allocating);
    RUN(sending_too_large_a_frame_sends_nothing);
    RUN(malformed_header_is_reported);
    RUN(peer_closing_mid_frame_is_an_incomplete_frame);
    RUN(peer_closing_between_frames_is_a_clean_eof);
    RUN(buffer_too_small_tells_the_size_and_keeps_the_frame);
    RUN(recv_alloc_gives_a_buffer_to_free);
    RUN(timeout_mid_frame_keeps_the_partial_frame);
    RUN(null_and_invalid_arguments);
    RUN(framed_echo_through_the_server_engine);
    return 0;
}
