/*
 * Addresses as text: what bind/connect accept, what local_addr/peer_addr
 * and accept give back, and how a buffer that is too small is reported.
 */
#include "test.h"

TEST_CASE(local_and_peer_address_text) {
    fsock_socket *srv = NULL, *cli = NULL, *conn = NULL;
    ASSERT_OK(fsock_create_server("127.0.0.1:0", 0, &srv));
    char addr[FSOCK_ADDRSTRLEN];
    size_t size = 0;
    ASSERT_OK_ON(srv, fsock_socket_local_addr(srv, addr, sizeof addr, &size));
    ASSERT_EQ_SIZE(size, strlen(addr) + 1);
    ASSERT(strncmp(addr, "127.0.0.1:", 10) == 0);
    ASSERT(port_of(addr) > 0 && port_of(addr) < 65536);

    /* A listener has no peer. */
    char text[FSOCK_ADDRSTRLEN];
    ASSERT_RESULT(FSOCK_ERR_IO, fsock_socket_peer_addr(srv, text, sizeof text, NULL));
    ASSERT_EQ_INT(fsock_socket_errno(srv), ENOTCONN);

    /* "localhost" is resolved. */
    char by_name[64];
    snprintf(by_name, sizeof by_name, "localhost:%d", port_of(addr));
    ASSERT_OK(fsock_socket_new(FSOCK_AF_INET, FSOCK_SOCK_STREAM, 0, &cli));
    ASSERT_OK_ON(cli, fsock_socket_connect(cli, by_name));
    ASSERT_OK_ON(cli, fsock_socket_peer_addr(cli, text, sizeof text, NULL));
    ASSERT_EQ_STR(text, addr);

    /* accept writes the peer; a small peer buffer is cut, the connection kept. */
    char small[5];
    memset(small, 'x', sizeof small);
    ASSERT_OK_ON(srv, fsock_socket_accept(srv, &conn, small, sizeof small));
    ASSERT(conn != NULL);
    ASSERT_EQ_STR(small, "127.");
    char cli_local[FSOCK_ADDRSTRLEN];
    local_addr_of(cli, cli_local, sizeof cli_local);
    ASSERT_OK_ON(conn, fsock_socket_peer_addr(conn, text, sizeof text, NULL));
    ASSERT_EQ_STR(text, cli_local);

    fsock_socket_free(conn);
    fsock_socket_free(cli);
    fsock_socket_free(srv);
}

TEST_CASE(a_small_buffer_reports_the_size_needed) {
    fsock_socket *s = NULL;
    ASSERT_OK(fsock_socket_new(FSOCK_AF_INET, FSOCK_SOCK_DGRAM, 0, &s));
    ASSERT_OK_ON(s, fsock_socket_bind(s, "127.0.0.1:0"));
    char full[FSOCK_ADDRSTRLEN];
    local_addr_of(s, full, sizeof full);
    size_t needed = strlen(full) + 1;

    /* Ask for the size with a NULL buffer of length 0. */
    size_t size = 0;
    ASSERT_RESULT(FSOCK_ERR_BUFFER_TOO_SMALL, fsock_socket_local_addr(s, NULL, 0, &size));
    ASSERT_EQ_SIZE(size, needed);
    ASSERT_CONTAINS(fsock_socket_errmsg(s), "buffer too small");

    /* One byte short: nothing is written, the size is reported. */
    char buf[FSOCK_ADDRSTRLEN];
    memset(buf, '#', sizeof buf);
    size = 0;
    ASSERT_RESULT(FSOCK_ERR_BUFFER_TOO_SMALL, fsock_socket_local_addr(s, buf, needed - 1, &size));
    ASSERT_EQ_SIZE(size, needed);
    ASSERT_EQ_INT(buf[0], '#');
    ASSERT_EQ_INT(fsock_socket_errno(s), ERANGE);

    /* Exactly enough. */
    size = 0;
    ASSERT_OK_ON(s, fsock_socket_local_addr(s, buf, needed, &size));
    ASSERT_EQ_SIZE(size, needed);
    ASSERT_EQ_STR(buf, full);
    ASSERT_EQ_INT(buf[needed], '#'); /* nothing written past the NUL */
    fsock_socket_free(s);
}

TEST_CASE(any_address_and_numeric_forms) {
    fsock_socket *s = NULL;
    char text[FSOCK_ADDRSTRLEN];
    /* ":PORT" is the any address. */
    ASSERT_OK(fsock_socket_new(FSOCK_AF_INET, FSOCK_SOCK_DGRAM, 0, &s));
    ASSERT_OK_ON(s, fsock_socket_bind(s, ":0"));
    local_addr_of(s, text, sizeof text);
    ASSERT(strncmp(text, "0.0.0.0:", 8) == 0);
    fsock_socket_free(s);

    ASSERT_OK(fsock_socket_new(FSOCK_AF_INET, FSOCK_SOCK_DGRAM, 0, &s));
    ASSERT_OK_ON(s, fsock_socket_bind(s, "0.0.0.0:0"));
    local_addr_of(s, text, sizeof text);
    ASSERT(strncmp(text, "0.0.0.0:", 8) == 0);
    ASSERT(port_of(text) > 0);
    fsock_socket_free(s);

    /* Forms that do not parse say why. */
    ASSERT_OK(fsock_socket_new(FSOCK_AF_INET, FSOCK_SOCK_DGRAM, 0, &s));
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_socket_bind(s, "127.0.0.1"));
    ASSERT_CONTAINS(fsock_socket_errmsg(s), "HOST:PORT");
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_socket_bind(s, "::1:80"));
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_socket_bind(s, "unix:"));
    fsock_socket_free(s);
}

TEST_CASE(unix_address_text) {
    char dir[64], addr[128];
    make_temp_dir(dir, sizeof dir);
    snprintf(addr, sizeof addr, "unix:%s/a.sock", dir);
    fsock_socket *s = NULL;
    ASSERT_OK(fsock_socket_new(FSOCK_AF_UNIX, FSOCK_SOCK_DGRAM, 0, &s));
    ASSERT_OK_ON(s, fsock_socket_bind(s, addr));
    char text[FSOCK_ADDRSTRLEN];
    size_t size = 0;
    ASSERT_OK_ON(s, fsock_socket_local_addr(s, text, sizeof text, &size));
    ASSERT_EQ_STR(text, addr);
    ASSERT_EQ_SIZE(size, strlen(addr) + 1);
    fsock_socket_free(s);
    ASSERT_EQ_INT(unlink(addr + 5), 0);
    ASSERT_EQ_INT(rmdir(dir), 0);

    /* A path longer than sun_path fits nowhere. */
    char long_addr[300] = "unix:/tmp/";
    memset(long_addr + 10, 'p', 200);
    long_addr[210] = '\0';
    ASSERT_OK(fsock_socket_new(FSOCK_AF_UNIX, FSOCK_SOCK_DGRAM, 0, &s));
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_socket_bind(s, long_addr));
    ASSERT_CONTAINS(fsock_socket_errmsg(s), "too long");
    fsock_socket_free(s);
}

int main(void) {
    test_init();
    RUN(local_and_peer_address_text);
    RUN(a_small_buffer_reports_the_size_needed);
    RUN(any_address_and_numeric_forms);
    RUN(unix_address_text);
    return 0;
}
