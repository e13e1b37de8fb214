/*
 * errors: the tutorial's 问题记录 (problem log), in C terms.
 *
 * Each problem is made to happen on purpose; the program prints the result
 * code and ferrosock's message, which says what failed, where, and what to
 * do. Then it shows the fix. It exits 0 when everything went as described.
 *
 *   问题 1  recv() takes at least 1 argument   -> recv without a buffer
 *   问题 2  a bytes-like object is required    -> text that is not an address
 *   问题 3  WinError 10048 / address in use    -> restart a server at once
 *   bonus   connection refused                  -> the server is not running
 *
 * Usage: errors [HOST [PORT]]    (default 127.0.0.1 0: any free port)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ferrosock.h"

static int failures = 0;

/*
 * Prints what a call on `s` gave, and counts a surprise. The message is read
 * here, after the call: a handle's message pointer is only valid until the
 * next call on that handle, so never read it in the same argument list as
 * the call itself (C does not say which argument is evaluated first).
 */
static void report(const char *what, fsock_result got, fsock_result expected, const fsock_socket *s) {
    printf("  %s -> %s\n", what, fsock_result_name(got));
    if (got != FSOCK_OK) printf("     message: %s\n", fsock_socket_errmsg(s));
    if (got != expected) {
        printf("     (expected %s)\n", fsock_result_name(expected));
        failures++;
    }
}

/*
 * Runs a server once on `addr` the way the tutorial does: bind, listen, one
 * client, and the server hangs up first. The server side of that
 * connection then waits in TIME_WAIT (四次挥手) for about a minute, holding
 * the port. Writes the address actually used into `used`.
 */
static int run_server_once(const char *addr, int reuseaddr, char *used, size_t used_len) {
    fsock_socket *server = NULL, *client = NULL, *conn = NULL;
    int ok = fsock_socket_new(FSOCK_AF_INET, FSOCK_SOCK_STREAM, 0, &server) == FSOCK_OK &&
             (!reuseaddr ||
              fsock_socket_setsockopt_int(server, FSOCK_SOL_SOCKET, FSOCK_SO_REUSEADDR, 1) == FSOCK_OK) &&
             fsock_socket_bind(server, addr) == FSOCK_OK && fsock_socket_listen(server, 1) == FSOCK_OK &&
             fsock_socket_local_addr(server, used, used_len, NULL) == FSOCK_OK;
    if (ok) {
        char host[FSOCK_ADDRSTRLEN];
        snprintf(host, sizeof host, "%s", used);
        *strrchr(host, ':') = '\0';
        uint8_t buf[8];
        size_t n = 0;
        ok = fsock_create_connection(host, (uint16_t)atoi(strrchr(used, ':') + 1), 5.0, &client) == FSOCK_OK &&
             fsock_socket_accept(server, &conn, NULL, 0) == FSOCK_OK;
        /* The server hangs up first; the client sees end-of-stream. */
        fsock_socket_free(conn);
        if (ok) ok = fsock_socket_recv(client, buf, sizeof buf, 0, &n) == FSOCK_OK && n == 0;
    }
    if (!ok) printf("  (setting up the first run failed: %s)\n", fsock_last_error_message());
    fsock_socket_free(client);
    fsock_socket_free(server);
    return ok;
}

int main(int argc, char **argv) {
    const char *host = argc > 1 ? argv[1] : "127.0.0.1";
    const char *port = argc > 2 ? argv[2] : "0";
    char addr[FSOCK_ADDRSTRLEN], used[FSOCK_ADDRSTRLEN];
    snprintf(addr, sizeof addr, "%s:%s", host, port);
    fsock_set_default_timeout(5.0); /* nothing in this program may hang */

    fsock_socket *a = NULL, *b = NULL;
    uint8_t buf[1024];
    size_t n = 0;

    printf("问题 1: receiving without a buffer (recv() takes at least 1 argument)\n");
    fsock_socketpair(FSOCK_AF_UNIX, FSOCK_SOCK_STREAM, 0, &a, &b);
    report("fsock_socket_recv(s, NULL, 1024, ...)", fsock_socket_recv(a, NULL, 1024, 0, &n),
           FSOCK_ERR_INVALID_ARGUMENT, a);
    printf("  fix: pass a buffer and its size\n");
    fsock_socket_sendall(b, (const uint8_t *)"hi", 2, 0);
    report("fsock_socket_recv(s, buf, sizeof buf, ...)", fsock_socket_recv(a, buf, sizeof buf, 0, &n), FSOCK_OK, a);
    fsock_socket_free(a);
    fsock_socket_free(b);

    printf("\n问题 2: the wrong kind of value (a bytes-like object is required, not 'str')\n");
    printf("  In C, data is always bytes plus a length; the cousin of this mistake is\n"
           "  text where an address is expected, such as an IP without its port.\n");
    fsock_socket_new(FSOCK_AF_INET, FSOCK_SOCK_STREAM, 0, &a);
    report("fsock_socket_bind(s, \"127.0.0.1\")", fsock_socket_bind(a, "127.0.0.1"), FSOCK_ERR_INVALID_ARGUMENT, a);
    printf("  fix: \"HOST:PORT\"\n");
    report("fsock_socket_bind(s, \"127.0.0.1:0\")", fsock_socket_bind(a, "127.0.0.1:0"), FSOCK_OK, a);
    fsock_socket_free(a);

    printf("\n问题 3: restarting a server at once (WinError 10048; Linux: address already in use)\n");
    if (!run_server_once(addr, 0, used, sizeof used)) return 1;
    printf("  first run on %s ended; its last connection is in TIME_WAIT\n", used);
    fsock_socket_new(FSOCK_AF_INET, FSOCK_SOCK_STREAM, 0, &a);
    report("restart: fsock_socket_bind without SO_REUSEADDR", fsock_socket_bind(a, used), FSOCK_ERR_IO, a);
    fsock_socket_free(a);

    printf("  fix: set SO_REUSEADDR before bind, in every run (fsock_create_server does);\n"
           "  shown on a fresh port, since the run above left this one held for ~60 s.\n");
    snprintf(addr, sizeof addr, "%s:0", host);
    if (!run_server_once(addr, 1, used, sizeof used)) return 1;
    fsock_socket_new(FSOCK_AF_INET, FSOCK_SOCK_STREAM, 0, &a);
    fsock_socket_setsockopt_int(a, FSOCK_SOL_SOCKET, FSOCK_SO_REUSEADDR, 1);
    report("restart: fsock_socket_bind with SO_REUSEADDR", fsock_socket_bind(a, used), FSOCK_OK, a);
    fsock_socket_free(a);

    printf("\nbonus: connecting before the server runs (ConnectionRefusedError)\n");
    /* `used` is now free of listeners: nobody answers there. */
    fsock_socket_new(FSOCK_AF_INET, FSOCK_SOCK_STREAM, 0, &a);
    report("fsock_socket_connect to a port nobody listens on", fsock_socket_connect(a, used), FSOCK_ERR_IO, a);
    fsock_socket_free(a);

    printf("\n%s\n", failures == 0 ? "all problems behaved as described" : "SOME PROBLEMS BEHAVED DIFFERENTLY");
    return failures == 0 ? 0 : 1;
}
