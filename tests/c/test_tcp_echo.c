/*
 * TCP, the phone model (打电话模型): a server thread accepts a client, replies
 * to each message upper-cased, and stops when the client sends "q" or hangs
 * up; the client sees the reply and then end-of-stream.
 */
#include <ctype.h>

#include "test.h"

typedef struct {
    fsock_socket *listener;
    int messages; /* how many messages the server answered */
} server_state;

/* The server half: one client, replies upper-cased until "q" or EOF. */
static void *serve_one(void *arg) {
    server_state *st = arg;
    fsock_socket *conn = NULL;
    char peer[FSOCK_ADDRSTRLEN];
    ASSERT_OK_ON(st->listener, fsock_socket_accept(st->listener, &conn, peer, sizeof peer));
    ASSERT_CONTAINS(peer, "127.0.0.1:");
    for (;;) {
        char buf[256];
        size_t n = recv_text(conn, buf, sizeof buf);
        if (n == 0 || strcmp(buf, "q") == 0) break;
        for (size_t i = 0; i < n; i++) buf[i] = (char)toupper((unsigned char)buf[i]);
        send_text(conn, buf);
        st->messages++;
    }
    fsock_socket_free(conn);
    return NULL;
}

TEST_CASE(phone_model_echo_until_q) {
    server_state st = {0};
    ASSERT_OK(fsock_create_server("127.0.0.1:0", 0, &st.listener));
    char addr[FSOCK_ADDRSTRLEN];
    local_addr_of(st.listener, addr, sizeof addr);
    pthread_t t = start_thread(serve_one, &st);

    fsock_socket *c = NULL;
    ASSERT_OK(fsock_create_connection("127.0.0.1", (uint16_t)port_of(addr), 5.0, &c));
    char reply[256];
    send_text(c, "hello");
    recv_text(c, reply, sizeof reply);
    ASSERT_EQ_STR(reply, "HELLO");
    send_text(c, "ni hao, server");
    recv_text(c, reply, sizeof reply);
    ASSERT_EQ_STR(reply, "NI HAO, SERVER");
    send_text(c, "q");
    /* The server closes after "q": the client reads end-of-stream. */
    ASSERT_EQ_SIZE(recv_text(c, reply, sizeof reply), 0);

    join_thread(t);
    ASSERT_EQ_INT(st.messages, 2);
    fsock_socket_free(c);
    fsock_socket_free(st.listener);
}

TEST_CASE(server_survives_a_client_that_hangs_up) {
    server_state st = {0};
    ASSERT_OK(fsock_create_server("127.0.0.1:0", 5, &st.listener));
    char addr[FSOCK_ADDRSTRLEN];
    local_addr_of(st.listener, addr, sizeof addr);
    pthread_t t = start_thread(serve_one, &st);

    fsock_socket *c = NULL;
    ASSERT_OK(fsock_socket_new(FSOCK_AF_INET, FSOCK_SOCK_STREAM, 0, &c));
    ASSERT_OK_ON(c, fsock_socket_connect(c, addr));
    char reply[64];
    send_text(c, "bye");
    recv_text(c, reply, sizeof reply);
    ASSERT_EQ_STR(reply, "BYE");
    fsock_socket_free(c); /* vanish without "q" */

    join_thread(t); /* the server saw end-of-stream and returned normally */
    ASSERT_EQ_INT(st.messages, 1);
    fsock_socket_free(st.listener);
}

TEST_CASE(bind_listen_connect_accept_by_hand) {
    fsock_socket *srv = NULL, *cli = NULL, *conn = NULL;
    ASSERT_OK(fsock_socket_new(FSOCK_AF_INET, FSOCK_SOCK_STREAM, 0, &srv));
    ASSERT_OK_ON(srv, fsock_socket_setsockopt_int(srv, FSOCK_SOL_SOCKET, FSOCK_SO_REUSEADDR, 1));
    ASSERT_OK_ON(srv, fsock_socket_bind(srv, "127.0.0.1:0"));
    ASSERT_OK_ON(srv, fsock_socket_listen(srv, 0)); /* 0: the default backlog */
    char addr[FSOCK_ADDRSTRLEN];
    local_addr_of(srv, addr, sizeof addr);

    /* The handshake completes in the backlog, so one thread is enough. */
    ASSERT_OK(fsock_socket_new(FSOCK_AF_INET, FSOCK_SOCK_STREAM, 0, &cli));
    ASSERT_OK_ON(cli, fsock_socket_connect(cli, addr));
    char peer[FSOCK_ADDRSTRLEN], cli_local[FSOCK_ADDRSTRLEN], cli_peer[FSOCK_ADDRSTRLEN];
    ASSERT_OK_ON(srv, fsock_socket_accept(srv, &conn, peer, sizeof peer));
    local_addr_of(cli, cli_local, sizeof cli_local);
    ASSERT_OK_ON(cli, fsock_socket_peer_addr(cli, cli_peer, sizeof cli_peer, NULL));
    ASSERT_EQ_STR(peer, cli_local);
    ASSERT_EQ_STR(cli_peer, addr);

    /* send reports what the kernel took; recv with MSG_PEEK leaves it. */
    size_t sent = 0, got = 0;
    ASSERT_OK_ON(cli, fsock_socket_send(cli, (const uint8_t *)"abc", 3, 0, &sent));
    ASSERT_EQ_SIZE(sent, 3);
    uint8_t buf[8];
    ASSERT_OK_ON(conn, fsock_socket_recv(conn, buf, sizeof buf, FSOCK_MSG_PEEK | FSOCK_MSG_WAITALL, &got));
    ASSERT(got >= 1 && got <= 3);
    ASSERT_OK_ON(conn, fsock_socket_recv(conn, buf, 3, FSOCK_MSG_WAITALL, &got));
    ASSERT_EQ_SIZE(got, 3);
    ASSERT(memcmp(buf, "abc", 3) == 0);

    /* Shutting down the write side gives the peer end-of-stream. */
    ASSERT_OK_ON(cli, fsock_socket_shutdown(cli, FSOCK_SHUT_WR));
    ASSERT_OK_ON(conn, fsock_socket_recv(conn, buf, sizeof buf, 0, &got));
    ASSERT_EQ_SIZE(got, 0);

    fsock_socket_free(conn);
    fsock_socket_free(cli);
    fsock_socket_free(srv);
}

typedef struct {
    fsock_socket *conn;
    size_t total;
} drain_state;

static void *drain(void *arg) {
    drain_state *st = arg;
    uint8_t buf[65536];
    for (;;) {
        size_t n = 0;
        ASSERT_OK_ON(st->conn, fsock_socket_recv(st->conn, buf, sizeof buf, 0, &n));
        if (n == 0) break;
        for (size_t i = 0; i < n; i++) ASSERT_EQ_INT(buf[i], (uint8_t)((st->total + i) % 251));
        st->total += n;
    }
    return NULL;
}

TEST_CASE(sendall_delivers_a_large_buffer_in_order) {
    fsock_socket *srv = NULL, *cli = NULL;
    drain_state st = {0};
    ASSERT_OK(fsock_create_server("127.0.0.1:0", 0, &srv));
    char addr[FSOCK_ADDRSTRLEN];
    local_addr_of(srv, addr, sizeof addr);
    ASSERT_OK(fsock_create_connection("127.0.0.1", (uint16_t)port_of(addr), FSOCK_TIMEOUT_DEFAULT, &cli));
    ASSERT_OK_ON(srv, fsock_socket_accept(srv, &st.conn, NULL, 0));
    pthread_t t = start_thread(drain, &st);

    size_t len = 2u << 20; /* more than the socket buffers hold */
    uint8_t *data = malloc(len);
    ASSERT(data != NULL);
    for (size_t i = 0; i < len; i++) data[i] = (uint8_t)(i % 251);
    ASSERT_OK_ON(cli, fsock_socket_sendall(cli, data, len, 0));
    ASSERT_OK_ON(cli, fsock_socket_shutdown(cli, FSOCK_SHUT_WR));
    join_thread(t);
    ASSERT_EQ_SIZE(st.total, len);

    free(data);
    fsock_socket_free(st.conn);
    fsock_socket_free(cli);
    fsock_socket_free(srv);
}

int main(void) {
    test_init();
    RUN(phone_model_echo_until_q);
    RUN(server_survives_a_client_that_hangs_up);
    RUN(bind_listen_connect_accept_by_hand);
    RUN(sendall_delivers_a_large_buffer_in_order);
    return 0;
}
