/*
 * Delimited framing from C: newline-terminated lines as the chat room of
 * the tutorials sends them (json.dumps(msg) + "\n"), lines stuck together
 * or split, CRLF stripping for telnet-style clients, a multi-byte
 * delimiter, the maximum line length, and what cannot be sent.
 */
#include "test.h"

static fsock_codec_config lines(void) {
    fsock_codec_config cfg;
    ASSERT_OK(fsock_codec_config_init(FSOCK_CODEC_DELIMITED, &cfg));
    return cfg;
}

static void send_raw(fsock_socket *s, const char *text) {
    ASSERT_OK_ON(s, fsock_socket_sendall(s, (const uint8_t *)text, strlen(text), 0));
}

/* Receives a line and checks it is the C string `want`. */
static void expect_line(fsock_framed *f, const char *want) {
    char buf[256];
    size_t n = 0;
    ASSERT_OK_F(f, fsock_framed_recv(f, (uint8_t *)buf, sizeof buf - 1, &n));
    buf[n] = '\0';
    ASSERT_EQ_SIZE(n, strlen(want));
    ASSERT_EQ_STR(buf, want);
}

TEST_CASE(defaults_are_newline_lines_of_64k) {
    fsock_codec_config cfg = lines();
    ASSERT_EQ_INT(cfg.kind, FSOCK_CODEC_DELIMITED);
    ASSERT_EQ_SIZE(cfg.delimiter_len, 1);
    ASSERT_EQ_INT(cfg.delimiter[0], '\n');
    ASSERT(!cfg.strip_cr);
    ASSERT_EQ_SIZE(cfg.max_frame_size, FSOCK_DEFAULT_MAX_LINE_SIZE);
    ASSERT_EQ_SIZE(FSOCK_DEFAULT_MAX_LINE_SIZE, 64 * 1024);
}

TEST_CASE(json_lines_stuck_together_come_apart) {
    fsock_socket *a, *b;
    stream_pair(&a, &b);
    fsock_codec_config cfg = lines();
    fsock_framed *fb = framed(b, &cfg);
    /* Three messages in one write, the last one split over two. */
    send_raw(a, "{\"type\":\"join\",\"name\":\"A\"}\n{\"type\":\"msg\"}\n{\"ty");
    expect_line(fb, "{\"type\":\"join\",\"name\":\"A\"}");
    expect_line(fb, "{\"type\":\"msg\"}");
    send_raw(a, "pe\":\"quit\"}\n\n");
    expect_line(fb, "{\"type\":\"quit\"}");
    expect_line(fb, ""); /* an empty line is an empty frame */

    /* Sending adds the delimiter. */
    fsock_framed *fa = framed(a, &cfg);
    ASSERT_OK_F(fa, fsock_framed_send(fa, (const uint8_t *)"hi", 2));
    char wire[4] = {0};
    size_t n = 0;
    ASSERT_OK_ON(b, fsock_socket_recv(b, (uint8_t *)wire, 3, FSOCK_MSG_WAITALL, &n));
    ASSERT_EQ_STR(wire, "hi\n");

    fsock_framed_free(fa);
    fsock_framed_free(fb);
    fsock_socket_free(a);
    fsock_socket_free(b);
}

TEST_CASE(crlf_is_kept_or_stripped) {
    fsock_socket *a, *b;
    stream_pair(&a, &b);
    fsock_codec_config keep = lines(), strip = lines();
    strip.strip_cr = true;

    fsock_framed *f = framed(b, &keep);
    send_raw(a, "telnet\r\n");
    expect_line(f, "telnet\r");
    fsock_framed_free(f);

    f = framed(b, &strip);
    send_raw(a, "telnet\r\nunix\nonly one\r\r\n");
    expect_line(f, "telnet");
    expect_line(f, "unix");
    expect_line(f, "only one\r"); /* one '\r' is stripped, not all */
    fsock_framed_free(f);

    /* Under strip_cr a frame ending in '\r' cannot be sent: it would not
     * come back the same. */
    f = framed(a, &strip);
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_framed_send(f, (const uint8_t *)"x\r", 2));
    ASSERT_CONTAINS(fsock_framed_errmsg(f), "'\\r'");
    fsock_framed_free(f);
    fsock_socket_free(a);
    fsock_socket_free(b);
}

TEST_CASE(multi_byte_delimiter) {
    fsock_socket *a, *b;
    stream_pair(&a, &b);
    fsock_codec_config cfg = lines();
    cfg.delimiter = (const uint8_t *)"||";
    cfg.delimiter_len = 2;
    fsock_framed *fa = framed(a, &cfg), *fb = framed(b, &cfg);
    ASSERT_OK_F(fa, fsock_framed_send(fa, (const uint8_t *)"one|two", 7));
    send_raw(a, "three||");
    expect_line(fb, "one|two");
    expect_line(fb, "three");
    /* The delimiter inside a frame is refused, before anything is sent. */
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_framed_send(fa, (const uint8_t *)"a||b", 4));
    ASSERT_CONTAINS(fsock_framed_errmsg(fa), "contains the delimiter");
    fsock_framed_free(fa);
    fsock_framed_free(fb);

    /* The delimiter is copied: the config may change or go afterwards. */
    char delim[] = ";";
    cfg.delimiter = (const uint8_t *)delim;
    cfg.delimiter_len = 1;
    fb = framed(b, &cfg);
    delim[0] = 'x';
    send_raw(a, "semi;");
    expect_line(fb, "semi");
    fsock_framed_free(fb);
    fsock_socket_free(a);
    fsock_socket_free(b);
}

TEST_CASE(line_longer_than_the_limit_is_too_large) {
    fsock_socket *a, *b;
    stream_pair(&a, &b);
    fsock_codec_config cfg = lines();
    cfg.max_frame_size = 8;
    fsock_framed *fb = framed(b, &cfg), *fa = framed(a, &cfg);
    send_raw(a, "12345678\n");
    expect_line(fb, "12345678"); /* exactly the limit is fine */
    ASSERT_RESULT(FSOCK_ERR_FRAME_TOO_LARGE, fsock_framed_send(fa, (const uint8_t *)"123456789", 9));
    /* Nine bytes and no newline in sight: refused without waiting for more. */
    send_raw(a, "123456789");
    char buf[64];
    size_t n = 0;
    ASSERT_RESULT(FSOCK_ERR_FRAME_TOO_LARGE, fsock_framed_recv(fb, (uint8_t *)buf, sizeof buf, &n));
    ASSERT_EQ_INT(fsock_framed_errno(fb), EMSGSIZE);
    ASSERT_CONTAINS(fsock_framed_errmsg(fb), "8");
    fsock_framed_free(fa);
    fsock_framed_free(fb);
    fsock_socket_free(a);
    fsock_socket_free(b);
}

TEST_CASE(eof_between_lines_and_in_the_middle_of_one) {
    fsock_socket *a, *b;
    stream_pair(&a, &b);
    fsock_codec_config cfg = lines();
    fsock_framed *fb = framed(b, &cfg);
    send_raw(a, "whole\n");
    ASSERT_OK_ON(a, fsock_socket_shutdown(a, FSOCK_SHUT_WR));
    expect_line(fb, "whole");
    char buf[16];
    size_t n = 0;
    ASSERT_RESULT(FSOCK_ERR_EOF, fsock_framed_recv(fb, (uint8_t *)buf, sizeof buf, &n));
    fsock_framed_free(fb);
    fsock_socket_free(a);
    fsock_socket_free(b);

    stream_pair(&a, &b);
    fb = framed(b, &cfg);
    send_raw(a, "no newline");
    fsock_socket_free(a);
    ASSERT_RESULT(FSOCK_ERR_INCOMPLETE_FRAME, fsock_framed_recv(fb, (uint8_t *)buf, sizeof buf, &n));
    ASSERT_CONTAINS(fsock_framed_errmsg(fb), "10"); /* the bytes that did arrive */
    fsock_framed_free(fb);
    fsock_socket_free(b);
}

TEST_CASE(bad_delimiters_are_refused) {
    fsock_socket *a, *b;
    stream_pair(&a, &b);
    fsock_codec_config cfg = lines();
    fsock_framed *f = NULL;
    cfg.delimiter_len = 0;
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_framed_new(a, &cfg, &f));
    ASSERT_CONTAINS(fsock_last_error_message(), "delimiter must not be empty");
    cfg = lines();
    cfg.delimiter = NULL;
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_framed_new(a, &cfg, &f));
    ASSERT_CONTAINS(fsock_last_error_message(), "`config->delimiter` is NULL");
    ASSERT(f == NULL);
    fsock_socket_free(a);
    fsock_socket_free(b);
}

int main(void) {
    test_init();
    RUN(defaults_are_newline_lines_of_64k);
    RUN(json_lines_stuck_together_come_apart);
    RUN(crlf_is_kept_or_stripped);
    RUN(multi_byte_delimiter);
    RUN(line_longer_than_the_limit_is_too_large);
    RUN(eof_between_lines_and_in_the_middle_of_one);
    RUN(bad_delimiters_are_refused);
    return 0;
}
