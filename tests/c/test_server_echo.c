/*
 * The server engine from C, stream side (socketserver.ThreadingTCPServer,
 * 一对多): a thread-per-connection echo server runs fsock_server_serve on a
 * thread of its own; two clients are served at the same time; another
 * thread's fsock_server_shutdown makes serve return, and fsock_server_free
 * joins the handler threads. Also the sequential and pool modes,
 * handle_request, and a Unix stream server whose file is removed on free.
 */
#include <sys/stat.h>

#include "test.h"

/* What the callbacks saw, shared with them through userdata. */
typedef struct {
    pthread_mutex_t lock;
    int connections; /* on_connection calls */
    int finished;    /* ... that returned */
    char last_peer[FSOCK_ADDRSTRLEN];
} counters;

#define COUNTERS_INIT {PTHREAD_MUTEX_INITIALIZER, 0, 0, ""}

/* on_connection: echo until the client hangs up. */
static int echo(void *userdata, fsock_socket *conn, const char *peer) {
    counters *c = userdata;
    ASSERT(conn != NULL && peer != NULL);
    pthread_mutex_lock(&c->lock);
    c->connections++;
    snprintf(c->last_peer, sizeof c->last_peer, "%s", peer);
    pthread_mutex_unlock(&c->lock);
    int status = 0;
    for (;;) {
        uint8_t buf[256];
        size_t n = 0;
        if (fsock_socket_recv(conn, buf, sizeof buf, 0, &n) != FSOCK_OK) {
            status = 1;
            break;
        }
        if (n == 0) break; /* hung up */
        if (fsock_socket_sendall(conn, buf, n, 0) != FSOCK_OK) {
            status = 1;
            break;
        }
    }
    pthread_mutex_lock(&c->lock);
    c->finished++;
    pthread_mutex_unlock(&c->lock);
    return status;
}

/* A config for `address` with the test's bounded idle timeout. */
static fsock_server_config config_for(const char *address, int mode) {
    fsock_server_config cfg;
    ASSERT_OK(fsock_server_config_init(&cfg));
    cfg.address = address;
    cfg.mode = mode;
    cfg.idle_timeout = TEST_TIMEOUT_SECONDS; /* a stuck client cannot hang the test */
    return cfg;
}

/* Sends `text` and expects it back. */
static void round_trip(fsock_socket *c, const char *text) {
    char reply[256];
    send_text(c, text);
    size_t got = 0, want = strlen(text);
    while (got < want) { /* a stream may deliver the echo in pieces */
        size_t n = recv_text(c, reply + got, sizeof reply - got);
        ASSERT(n > 0);
        got += n;
    }
    ASSERT_EQ_STR(reply, text);
}

TEST_CASE(two_clients_at_once_then_shutdown_from_another_thread) {
    counters c = COUNTERS_INIT;
    fsock_server_config cfg = config_for("127.0.0.1:0", FSOCK_SERVER_THREAD_PER_CONNECTION);
    fsock_server_callbacks cb = {echo, NULL, unexpected_error};
    serving s = {NULL, FSOCK_ERR_PANIC};
    ASSERT_OK(fsock_server_new(&cfg, &cb, &c, &s.server));
    char addr[FSOCK_ADDRSTRLEN];
    ASSERT_OK_SRV(s.server, fsock_server_local_addr(s.server, addr, sizeof addr, NULL));
    ASSERT_CONTAINS(addr, "127.0.0.1:");
    ASSERT(port_of(addr) > 0); /* port 0 was replaced by the real one */
    pthread_t t = serving_start(&s);

    /* A is mid-conversation (its callback is blocked in recv) when B comes:
     * B is only answered if it has a thread of its own. */
    fsock_socket *a = connect_to(s.server);
    round_trip(a, "hello from A");
    fsock_socket *b = connect_to(s.server);
    round_trip(b, "hello from B");
    round_trip(a, "A again");
    round_trip(b, "B again");
    fsock_socket_free(a);
    fsock_socket_free(b);

    /* From this (another) thread: returns once serve has returned. */
    serving_stop(&s, t);
    fsock_server_free(s.server); /* block_on_close: waits for both callbacks */
    ASSERT_EQ_INT(c.connections, 2);
    ASSERT_EQ_INT(c.finished, 2);
    ASSERT_CONTAINS(c.last_peer, "127.0.0.1:");
}

TEST_CASE(pool_mode_serves_more_clients_than_threads) {
    counters c = COUNTERS_INIT;
    fsock_server_config cfg = config_for("127.0.0.1:0", FSOCK_SERVER_POOL);
    cfg.pool_threads = 2;
    fsock_server_callbacks cb = {echo, NULL, unexpected_error};
    serving s = {NULL, FSOCK_ERR_PANIC};
    ASSERT_OK(fsock_server_new(&cfg, &cb, &c, &s.server));
    pthread_t t = serving_start(&s);
    for (int i = 0; i < 5; i++) {
        fsock_socket *client = connect_to(s.server);
        char text[32];
        snprintf(text, sizeof text, "client %d", i);
        round_trip(client, text);
        fsock_socket_free(client);
    }
    serving_stop(&s, t);
    fsock_server_free(s.server);
    ASSERT_EQ_INT(c.connections, 5);
    ASSERT_EQ_INT(c.finished, 5);
}

TEST_CASE(handle_request_serves_one_or_times_out) {
    counters c = COUNTERS_INIT;
    fsock_server_config cfg = config_for("127.0.0.1:0", FSOCK_SERVER_SEQUENTIAL);
    fsock_server_callbacks cb = {echo, NULL, unexpected_error};
    fsock_server *server = NULL;
    ASSERT_OK(fsock_server_new(&cfg, &cb, &c, &server));

    bool handled = true;
    ASSERT_OK_SRV(server, fsock_server_handle_request(server, 0.0, &handled));
    ASSERT(!handled); /* nobody there */

    /* The client's whole conversation fits in the backlog and the socket
     * buffers, so the sequential callback can run it after the fact. */
    fsock_socket *client = connect_to(server);
    send_text(client, "once");
    ASSERT_OK_ON(client, fsock_socket_shutdown(client, FSOCK_SHUT_WR));
    ASSERT_OK_SRV(server, fsock_server_handle_request(server, FSOCK_TIMEOUT_BLOCKING, &handled));
    ASSERT(handled);
    ASSERT_EQ_INT(c.finished, 1); /* sequential: the callback ran inside the call */
    char reply[64];
    ASSERT_EQ_SIZE(recv_text(client, reply, sizeof reply), 4);
    ASSERT_EQ_STR(reply, "once");
    ASSERT_EQ_SIZE(recv_text(client, reply, sizeof reply), 0); /* the server closed */
    fsock_socket_free(client);

    /* A shutdown asked for while no loop runs stays pending. */
    ASSERT_OK_SRV(server, fsock_server_shutdown(server));
    ASSERT_OK_SRV(server, fsock_server_serve(server));
    fsock_server_free(server);
}

TEST_CASE(unix_stream_server_removes_its_file) {
    char dir[64], path[128], addr[160];
    make_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/echo.sock", dir);
    snprintf(addr, sizeof addr, "unix:%s", path);
    counters c = COUNTERS_INIT;
    fsock_server_config cfg = config_for(addr, FSOCK_SERVER_THREAD_PER_CONNECTION);
    fsock_server_callbacks cb = {echo, NULL, unexpected_error};
    serving s = {NULL, FSOCK_ERR_PANIC};
    ASSERT_OK(fsock_server_new(&cfg, &cb, &c, &s.server));
    char local[FSOCK_ADDRSTRLEN];
    ASSERT_OK_SRV(s.server, fsock_server_local_addr(s.server, local, sizeof local, NULL));
    ASSERT_EQ_STR(local, addr);
    pthread_t t = serving_start(&s);

    fsock_socket *client = NULL;
    ASSERT_OK(fsock_socket_new(FSOCK_AF_UNIX, FSOCK_SOCK_STREAM, 0, &client));
    ASSERT_OK_ON(client, fsock_socket_connect(client, addr));
    round_trip(client, "over a unix socket");
    fsock_socket_free(client);

    serving_stop(&s, t);
    struct stat st;
    ASSERT_EQ_INT(stat(path, &st), 0); /* still there until free */
    fsock_server_free(s.server);
    ASSERT_EQ_INT(stat(path, &st), -1);
    ASSERT_EQ_INT(errno, ENOENT);
    ASSERT_EQ_INT(c.connections, 1);
    ASSERT_EQ_INT(rmdir(dir), 0);
}

int main(void) {
    test_init();
    RUN(two_clients_at_once_then_shutdown_from_another_thread);
    RUN(pool_mode_serves_more_clients_than_threads);
    RUN(handle_request_serves_one_or_times_out);
    RUN(unix_stream_server_removes_its_file);
    return 0;
}
