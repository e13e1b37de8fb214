/*
 * The C API's error rules: every NULL argument is FSOCK_ERR_INVALID_ARGUMENT
 * (never a crash), fsock_socket_free(NULL) does nothing, a closed handle
 * answers FSOCK_ERR_CLOSED, out-parameters are untouched on failure, and
 * messages are readable per handle and per thread. Also the tutorial's
 * "port already in use" (端口被占用) and "connection refused".
 */
#include <math.h>

#include "test.h"

TEST_CASE(every_function_rejects_null) {
    fsock_socket *s = NULL, *o = NULL;
    ASSERT_OK(fsock_socket_new(FSOCK_AF_INET, FSOCK_SOCK_STREAM, 0, &s));
    uint8_t buf[8] = {0};
    char text[FSOCK_ADDRSTRLEN];
    size_t n = 0;
    int i = 0;
    bool b = false;
    double d = 0;

    ASSERT_NULL_ARG("out", fsock_socket_new(FSOCK_AF_INET, FSOCK_SOCK_STREAM, 0, NULL));
    ASSERT_NULL_ARG("s", fsock_socket_close(NULL));
    ASSERT_NULL_ARG("s", fsock_socket_fileno(NULL, &i));
    ASSERT_NULL_ARG("out_fd", fsock_socket_fileno(s, NULL));
    ASSERT_NULL_ARG("s", fsock_socket_detach(NULL, &i));
    ASSERT_NULL_ARG("out_fd", fsock_socket_detach(s, NULL));
    ASSERT_NULL_ARG("s", fsock_socket_dup(NULL, &o));
    ASSERT_NULL_ARG("out", fsock_socket_dup(s, NULL));
    ASSERT_NULL_ARG("s", fsock_socket_bind(NULL, "127.0.0.1:0"));
    ASSERT_NULL_ARG("addr", fsock_socket_bind(s, NULL));
    ASSERT_NULL_ARG("s", fsock_socket_listen(NULL, 1));
    ASSERT_NULL_ARG("s", fsock_socket_accept(NULL, &o, text, sizeof text));
    ASSERT_NULL_ARG("out_conn", fsock_socket_accept(s, NULL, text, sizeof text));
    ASSERT_NULL_ARG("s", fsock_socket_connect(NULL, "127.0.0.1:1"));
    ASSERT_NULL_ARG("addr", fsock_socket_connect(s, NULL));
    ASSERT_NULL_ARG("s", fsock_socket_connect_ex(NULL, "127.0.0.1:1", &i));
    ASSERT_NULL_ARG("addr", fsock_socket_connect_ex(s, NULL, &i));
    ASSERT_NULL_ARG("out_errno", fsock_socket_connect_ex(s, "127.0.0.1:1", NULL));
    ASSERT_NULL_ARG("s", fsock_socket_shutdown(NULL, FSOCK_SHUT_RDWR));
    ASSERT_NULL_ARG("s", fsock_socket_local_addr(NULL, text, sizeof text, &n));
    ASSERT_NULL_ARG("buf", fsock_socket_local_addr(s, NULL, 10, &n));
    ASSERT_NULL_ARG("s", fsock_socket_peer_addr(NULL, text, sizeof text, &n));
    ASSERT_NULL_ARG("buf", fsock_socket_peer_addr(s, NULL, 10, &n));
    ASSERT_NULL_ARG("s", fsock_socket_send(NULL, buf, 1, 0, &n));
    ASSERT_NULL_ARG("buf", fsock_socket_send(s, NULL, 1, 0, &n));
    ASSERT_NULL_ARG("out_sent", fsock_socket_send(s, buf, 1, 0, NULL));
    ASSERT_NULL_ARG("s", fsock_socket_sendall(NULL, buf, 1, 0));
    ASSERT_NULL_ARG("buf", fsock_socket_sendall(s, NULL, 1, 0));
    ASSERT_NULL_ARG("s", fsock_socket_recv(NULL, buf, sizeof buf, 0, &n));
    ASSERT_NULL_ARG("buf", fsock_socket_recv(s, NULL, sizeof buf, 0, &n));
    ASSERT_NULL_ARG("out_received", fsock_socket_recv(s, buf, sizeof buf, 0, NULL));
    ASSERT_NULL_ARG("s", fsock_socket_recvfrom(NULL, buf, sizeof buf, 0, &n, text, sizeof text));
    ASSERT_NULL_ARG("buf", fsock_socket_recvfrom(s, NULL, sizeof buf, 0, &n, text, sizeof text));
    ASSERT_NULL_ARG("out_received", fsock_socket_recvfrom(s, buf, sizeof buf, 0, NULL, text, sizeof text));
    ASSERT_NULL_ARG("s", fsock_socket_sendto(NULL, buf, 1, 0, "127.0.0.1:1", &n));
    ASSERT_NULL_ARG("buf", fsock_socket_sendto(s, NULL, 1, 0, "127.0.0.1:1", &n));
    ASSERT_NULL_ARG("addr", fsock_socket_sendto(s, buf, 1, 0, NULL, &n));
    ASSERT_NULL_ARG("out_sent", fsock_socket_sendto(s, buf, 1, 0, "127.0.0.1:1", NULL));
    ASSERT_NULL_ARG("s", fsock_socket_set_timeout(NULL, 1.0));
    ASSERT_NULL_ARG("s", fsock_socket_get_timeout(NULL, &d));
    ASSERT_NULL_ARG("out_seconds", fsock_socket_get_timeout(s, NULL));
    ASSERT_NULL_ARG("s", fsock_socket_set_blocking(NULL, true));
    ASSERT_NULL_ARG("s", fsock_socket_setsockopt_int(NULL, FSOCK_SOL_SOCKET, FSOCK_SO_REUSEADDR, 1));
    ASSERT_NULL_ARG("s", fsock_socket_getsockopt_int(NULL, FSOCK_SOL_SOCKET, FSOCK_SO_REUSEADDR, &i));
    ASSERT_NULL_ARG("out_value", fsock_socket_getsockopt_int(s, FSOCK_SOL_SOCKET, FSOCK_SO_REUSEADDR, NULL));
    ASSERT_NULL_ARG("s", fsock_socket_set_linger(NULL, true, 1));
    ASSERT_NULL_ARG("s", fsock_socket_get_linger(NULL, &b, &i));
    ASSERT_NULL_ARG("out_on", fsock_socket_get_linger(s, NULL, &i));
    ASSERT_NULL_ARG("out_seconds", fsock_socket_get_linger(s, &b, NULL));
    ASSERT_NULL_ARG("host", fsock_create_connection(NULL, 80, 1.0, &o));
    ASSERT_NULL_ARG("out", fsock_create_connection("127.0.0.1", 80, 1.0, NULL));
    ASSERT_NULL_ARG("addr", fsock_create_server(NULL, 0, &o));
    ASSERT_NULL_ARG("out", fsock_create_server("127.0.0.1:0", 0, NULL));
    ASSERT_NULL_ARG("out_first", fsock_socketpair(FSOCK_AF_UNIX, FSOCK_SOCK_STREAM, 0, NULL, &o));
    ASSERT_NULL_ARG("out_second", fsock_socketpair(FSOCK_AF_UNIX, FSOCK_SOCK_STREAM, 0, &o, NULL));
    ASSERT_NULL_ARG("out_seconds", fsock_get_default_timeout(NULL));
    ASSERT(o == NULL); /* no failed call wrote an out-parameter */

    /* The readers never fail and never give NULL. */
    ASSERT(fsock_socket_errmsg(NULL) != NULL);
    ASSERT_CONTAINS(fsock_socket_errmsg(NULL), "NULL");
    ASSERT_EQ_INT(fsock_socket_errno(NULL), EINVAL);
    fsock_socket_free(NULL); /* a no-op */

    /* The optional buffers may be NULL: these calls get past their checks. */
    ASSERT_RESULT(FSOCK_ERR_BUFFER_TOO_SMALL, fsock_socket_local_addr(s, NULL, 0, NULL));
    fsock_socket_free(s);
}

TEST_CASE(a_closed_handle_answers_closed_until_freed) {
    fsock_socket *s = NULL, *o = NULL;
    ASSERT_OK(fsock_socket_new(FSOCK_AF_INET, FSOCK_SOCK_STREAM, 0, &s));
    ASSERT_OK(fsock_socket_close(s));
    ASSERT_OK(fsock_socket_close(s)); /* idempotent */
    uint8_t buf[8] = {0};
    char text[FSOCK_ADDRSTRLEN];
    size_t n = 12345;
    int i = -7;
    bool b = false;

    ASSERT_RESULT(FSOCK_ERR_CLOSED, fsock_socket_bind(s, "127.0.0.1:0"));
    ASSERT_CONTAINS(fsock_socket_errmsg(s), "closed");
    ASSERT_EQ_INT(fsock_socket_errno(s), EBADF);
    ASSERT_RESULT(FSOCK_ERR_CLOSED, fsock_socket_listen(s, 1));
    ASSERT_RESULT(FSOCK_ERR_CLOSED, fsock_socket_accept(s, &o, NULL, 0));
    ASSERT_RESULT(FSOCK_ERR_CLOSED, fsock_socket_connect(s, "127.0.0.1:1"));
    ASSERT_RESULT(FSOCK_ERR_CLOSED, fsock_socket_shutdown(s, FSOCK_SHUT_RDWR));
    ASSERT_RESULT(FSOCK_ERR_CLOSED, fsock_socket_local_addr(s, text, sizeof text, &n));
    ASSERT_RESULT(FSOCK_ERR_CLOSED, fsock_socket_peer_addr(s, text, sizeof text, &n));
    ASSERT_RESULT(FSOCK_ERR_CLOSED, fsock_socket_send(s, buf, 1, 0, &n));
    ASSERT_RESULT(FSOCK_ERR_CLOSED, fsock_socket_sendall(s, buf, 1, 0));
    ASSERT_RESULT(FSOCK_ERR_CLOSED, fsock_socket_recv(s, buf, sizeof buf, 0, &n));
    ASSERT_RESULT(FSOCK_ERR_CLOSED, fsock_socket_recvfrom(s, buf, sizeof buf, 0, &n, NULL, 0));
    ASSERT_RESULT(FSOCK_ERR_CLOSED, fsock_socket_sendto(s, buf, 1, 0, "127.0.0.1:1", &n));
    ASSERT_RESULT(FSOCK_ERR_CLOSED, fsock_socket_set_timeout(s, 1.0));
    ASSERT_RESULT(FSOCK_ERR_CLOSED, fsock_socket_set_blocking(s, false));
    ASSERT_RESULT(FSOCK_ERR_CLOSED, fsock_socket_setsockopt_int(s, FSOCK_SOL_SOCKET, FSOCK_SO_KEEPALIVE, 1));
    ASSERT_RESULT(FSOCK_ERR_CLOSED, fsock_socket_getsockopt_int(s, FSOCK_SOL_SOCKET, FSOCK_SO_KEEPALIVE, &i));
    ASSERT_RESULT(FSOCK_ERR_CLOSED, fsock_socket_set_linger(s, true, 1));
    ASSERT_RESULT(FSOCK_ERR_CLOSED, fsock_socket_get_linger(s, &b, &i));
    ASSERT_RESULT(FSOCK_ERR_CLOSED, fsock_socket_fileno(s, &i));
    ASSERT_RESULT(FSOCK_ERR_CLOSED, fsock_socket_detach(s, &i));
    ASSERT_RESULT(FSOCK_ERR_CLOSED, fsock_socket_dup(s, &o));
    /* connect_ex reports what connect(2) on a closed descriptor would. */
    ASSERT_OK(fsock_socket_connect_ex(s, "127.0.0.1:1", &i));
    ASSERT_EQ_INT(i, EBADF);

    /* Out-parameters kept their values through every failure. */
    ASSERT(o == NULL);
    ASSERT_EQ_SIZE(n, 12345);
    fsock_socket_free(s);
}

TEST_CASE(port_in_use_names_the_address_and_the_fix) {
    fsock_socket *first = NULL, *second = NULL;
    ASSERT_OK(fsock_socket_new(FSOCK_AF_INET, FSOCK_SOCK_STREAM, 0, &first));
    ASSERT_OK_ON(first, fsock_socket_bind(first, "127.0.0.1:0"));
    ASSERT_OK_ON(first, fsock_socket_listen(first, 1));
    char addr[FSOCK_ADDRSTRLEN];
    local_addr_of(first, addr, sizeof addr);

    ASSERT_OK(fsock_socket_new(FSOCK_AF_INET, FSOCK_SOCK_STREAM, 0, &second));
    errno = 0;
    ASSERT_RESULT(FSOCK_ERR_IO, fsock_socket_bind(second, addr));
    ASSERT_EQ_INT(errno, EADDRINUSE); /* C's errno is set too */
    ASSERT_EQ_INT(fsock_socket_errno(second), EADDRINUSE);
    ASSERT_EQ_INT(fsock_last_errno(), EADDRINUSE);
    const char *msg = fsock_socket_errmsg(second);
    ASSERT_CONTAINS(msg, "bind");
    ASSERT_CONTAINS(msg, addr);
    ASSERT_CONTAINS(msg, "address already in use");
    ASSERT_CONTAINS(msg, "SO_REUSEADDR");
    ASSERT_EQ_STR(fsock_last_error_message(), msg);

    /* A later success does not clear the handle's last error. */
    ASSERT_OK_ON(second, fsock_socket_bind(second, "127.0.0.1:0"));
    ASSERT_CONTAINS(fsock_socket_errmsg(second), "address already in use");

    /* A fresh handle has no error yet. */
    fsock_socket *fresh = NULL;
    ASSERT_OK(fsock_socket_new(FSOCK_AF_INET, FSOCK_SOCK_DGRAM, 0, &fresh));
    ASSERT_EQ_STR(fsock_socket_errmsg(fresh), "no error");
    ASSERT_EQ_INT(fsock_socket_errno(fresh), 0);

    fsock_socket_free(fresh);
    fsock_socket_free(second);
    fsock_socket_free(first);
}

TEST_CASE(connection_refused_says_nothing_is_listening) {
    /* A bound socket that does not listen holds a port nobody answers on. */
    fsock_socket *holder = NULL, *c = NULL;
    ASSERT_OK(fsock_socket_new(FSOCK_AF_INET, FSOCK_SOCK_STREAM, 0, &holder));
    ASSERT_OK_ON(holder, fsock_socket_bind(holder, "127.0.0.1:0"));
    char addr[FSOCK_ADDRSTRLEN];
    local_addr_of(holder, addr, sizeof addr);

    ASSERT_OK(fsock_socket_new(FSOCK_AF_INET, FSOCK_SOCK_STREAM, 0, &c));
    ASSERT_RESULT(FSOCK_ERR_IO, fsock_socket_connect(c, addr));
    ASSERT_EQ_INT(fsock_socket_errno(c), ECONNREFUSED);
    ASSERT_CONTAINS(fsock_socket_errmsg(c), "nothing is listening");
    fsock_socket_free(c);

    int err = -1;
    ASSERT_OK(fsock_socket_new(FSOCK_AF_INET, FSOCK_SOCK_STREAM, 0, &c));
    ASSERT_OK(fsock_socket_connect_ex(c, addr, &err));
    ASSERT_EQ_INT(err, ECONNREFUSED);
    fsock_socket_free(c);

    fsock_socket *out = NULL;
    ASSERT_RESULT(FSOCK_ERR_IO, fsock_create_connection("127.0.0.1", (uint16_t)port_of(addr), 2.0, &out));
    ASSERT(out == NULL);
    ASSERT_EQ_INT(fsock_last_errno(), ECONNREFUSED);
    fsock_socket_free(holder);
}

TEST_CASE(bad_arguments_are_invalid_not_crashes) {
    fsock_socket *s = NULL, *o = NULL;
    ASSERT_OK(fsock_socket_new(FSOCK_AF_INET, FSOCK_SOCK_STREAM, 0, &s));
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_socket_bind(s, "nonsense"));
    ASSERT_CONTAINS(fsock_socket_errmsg(s), "nonsense");
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_socket_bind(s, "127.0.0.1:99999"));
    ASSERT_CONTAINS(fsock_socket_errmsg(s), "port");
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_socket_bind(s, "\xff\xfe:80"));
    ASSERT_CONTAINS(fsock_socket_errmsg(s), "UTF-8");
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_socket_shutdown(s, 42));
    ASSERT_CONTAINS(fsock_socket_errmsg(s), "FSOCK_SHUT_RDWR");
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_socket_set_timeout(s, NAN));
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_socket_set_timeout(s, -5.0));
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_socket_set_timeout(s, INFINITY));
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_socket_set_linger(s, true, -1));
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_set_default_timeout(FSOCK_TIMEOUT_DEFAULT));
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_create_connection("127.0.0.1", 80, -3.0, &o));
    /* A family the system does not have is the system's error. */
    ASSERT_RESULT(FSOCK_ERR_IO, fsock_socket_new(12345, FSOCK_SOCK_STREAM, 0, &o));
    ASSERT_EQ_INT(fsock_last_errno(), EAFNOSUPPORT);
    ASSERT(o == NULL);
    /* An unknown option is the system's error, with the number kept. */
    int v = 0;
    ASSERT_RESULT(FSOCK_ERR_IO, fsock_socket_getsockopt_int(s, FSOCK_SOL_SOCKET, 99999, &v));
    ASSERT_EQ_INT(fsock_socket_errno(s), ENOPROTOOPT);
    fsock_socket_free(s);
}

TEST_CASE(an_unknown_host_is_a_resolve_error) {
    fsock_socket *o = NULL;
    ASSERT_RESULT(FSOCK_ERR_RESOLVE, fsock_create_connection("no-such-host.invalid", 80, 2.0, &o));
    ASSERT_CONTAINS(fsock_last_error_message(), "no-such-host.invalid");
    ASSERT_EQ_INT(fsock_last_errno(), 0); /* resolver errors have no errno */
    ASSERT(o == NULL);
}

static void *fail_on_another_thread(void *arg) {
    char *seen = arg;
    /* A new thread starts with no error of its own. */
    strcpy(seen, fsock_last_error_message());
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_socket_close(NULL));
    return NULL;
}

TEST_CASE(last_error_is_per_thread) {
    fsock_socket *o = NULL;
    ASSERT_RESULT(FSOCK_ERR_INVALID_ARGUMENT, fsock_create_server("not an address", 0, &o));
    char mine[512];
    snprintf(mine, sizeof mine, "%s", fsock_last_error_message());
    ASSERT_CONTAINS(mine, "not an address");

    char seen[512] = "";
    join_thread(start_thread(fail_on_another_thread, seen));
    ASSERT_EQ_STR(seen, "no error");
    ASSERT_EQ_STR(fsock_last_error_message(), mine); /* untouched by the other thread */
}

TEST_CASE(result_names_and_version) {
    ASSERT_EQ_STR(fsock_result_name(FSOCK_OK), "FSOCK_OK");
    ASSERT_EQ_STR(fsock_result_name(FSOCK_ERR_INVALID_ARGUMENT), "FSOCK_ERR_INVALID_ARGUMENT");
    ASSERT_EQ_STR(fsock_result_name(FSOCK_ERR_BUFFER_TOO_SMALL), "FSOCK_ERR_BUFFER_TOO_SMALL");
    ASSERT_EQ_STR(fsock_result_name(FSOCK_ERR_CLOSED), "FSOCK_ERR_CLOSED");
    ASSERT_EQ_STR(fsock_result_name(FSOCK_ERR_TIMEOUT), "FSOCK_ERR_TIMEOUT");
    ASSERT_EQ_STR(fsock_result_name(FSOCK_ERR_WOULD_BLOCK), "FSOCK_ERR_WOULD_BLOCK");
    ASSERT_EQ_STR(fsock_result_name(FSOCK_ERR_INTERRUPTED), "FSOCK_ERR_INTERRUPTED");
    ASSERT_EQ_STR(fsock_result_name(FSOCK_ERR_IO), "FSOCK_ERR_IO");
    ASSERT_EQ_STR(fsock_result_name(FSOCK_ERR_RESOLVE), "FSOCK_ERR_RESOLVE");
    ASSERT_EQ_STR(fsock_result_name(FSOCK_ERR_PROTOCOL), "FSOCK_ERR_PROTOCOL");
    ASSERT_EQ_STR(fsock_result_name(FSOCK_ERR_PANIC), "FSOCK_ERR_PANIC");
    ASSERT_EQ_STR(fsock_result_name(-1), "FSOCK_ERR_UNKNOWN");
    ASSERT_EQ_STR(fsock_result_name(12345), "FSOCK_ERR_UNKNOWN");
    ASSERT_EQ_INT(FSOCK_OK, 0);

    char expected[32];
    snprintf(expected, sizeof expected, "%d.%d.%d", FSOCK_VERSION_MAJOR, FSOCK_VERSION_MINOR,
             FSOCK_VERSION_PATCH);
    ASSERT_EQ_STR(fsock_version(), expected);
}

int main(void) {
    test_init();
    RUN(every_function_rejects_null);
    RUN(a_closed_handle_answers_closed_until_freed);
    RUN(port_in_use_names_the_address_and_the_fix);
    RUN(connection_refused_says_nothing_is_listening);
    RUN(bad_arguments_are_invalid_not_crashes);
    RUN(an_unknown_host_is_a_resolve_error);
    RUN(last_error_is_per_thread);
    RUN(result_names_and_version);
    return 0;
}
