/*
 * The server engine from C, datagram side (socketserver.UDPServer, the
 * tutorial's UDP server): on_datagram gets each datagram and its sender,
 * and answers through fsock_reply_send. UDP over IPv4, in the sequential
 * and thread-per-datagram modes, an empty datagram, and a Unix datagram
 * server answering a client bound to a path.
 */
#include <ctype.h>

#include "test.h"

typedef struct {
    pthread_mutex_t lock;
    int datagrams;
    size_t empty; /* empty datagrams seen */
    char last_peer[FSOCK_ADDRSTRLEN];
} counters;

#define COUNTERS_INIT {PTHREAD_MUTEX_INITIALIZER, 0, 0, ""}

/* on_datagram: reply upper-cased; an empty datagram gets "(empty)". */
static int upper(void *userdata, const uint8_t *data, size_t len, const char *peer,
                 fsock_reply *reply) {
    counters *c = userdata;
    ASSERT(data != NULL); /* never NULL, even for 0 bytes */
    ASSERT(peer != NULL && reply != NULL);
    pthread_mutex_lock(&c->lock);
    c->datagrams++;
    if (len == 0) c->empty++;
    snprintf(c->last_peer, sizeof c->last_peer, "%s", peer);
    pthread_mutex_unlock(&c->lock);
    if (len == 0) return fsock_reply_send(reply, (const uint8_t *)"(empty)", 7) != FSOCK_OK;
    uint8_t out[512];
    ASSERT(len <= sizeof out);
    for (size_t i = 0; i < len; i++) out[i] = (uint8_t)toupper(data[i]);
    return fsock_reply_send(reply, out, len) != FSOCK_OK;
}

static void start(serving *s, const char *address, int mode, counters *c) {
    fsock_server_config cfg;
    ASSERT_OK(fsock_server_config_init(&cfg));
    cfg.address = address;
    cfg.socktype = FSOCK_SOCK_DGRAM;
    cfg.mode = mode;
    fsock_server_callbacks cb = {NULL, upper, unexpected_error};
    ASSERT_OK(fsock_server_new(&cfg, &cb, c, &s->server));
}

static void stop(serving *s, pthread_t t) {
    serving_stop(s, t);
    fsock_server_free(s->server);
}

/* Sends `text` to `to` from `c` and expects `want` back from `to`. */
static void ask(fsock_socket *c, const char *to, const char *text, const char *want) {
    size_t n = 0;
    ASSERT_OK_ON(c, fsock_socket_sendto(c, (const uint8_t *)text, strlen(text), 0, to, &n));
    ASSERT_EQ_SIZE(n, strlen(text));
    char buf[512], from[FSOCK_ADDRSTRLEN];
    ASSERT_OK_ON(c, fsock_socket_recvfrom(c, (uint8_t *)buf, sizeof buf - 1, 0, &n, from, sizeof from));
    buf[n] = '\0';
    ASSERT_EQ_STR(buf, want);
    ASSERT_EQ_STR(from, to);
}

TEST_CASE(udp_server_answers_upper_cased) {
    counters c = COUNTERS_INIT;
    serving s;
    start(&s, "127.0.0.1:0", FSOCK_SERVER_SEQUENTIAL, &c);
    char addr[FSOCK_ADDRSTRLEN];
    ASSERT_OK_SRV(s.server, fsock_server_local_addr(s.server, addr, sizeof addr, NULL));
    pthread_t t = serving_start(&s);

    fsock_socket *client = NULL;
    ASSERT_OK(fsock_socket_new(FSOCK_AF_INET, FSOCK_SOCK_DGRAM, 0, &client));
    ask(client, addr, "hello udp", "HELLO UDP");
    ask(client, addr, "ni hao", "NI HAO");
    ask(client, addr, "", "(empty)");
    char mine[FSOCK_ADDRSTRLEN];
    local_addr_of(client, mine, sizeof mine);

    stop(&s, t);
    ASSERT_EQ_INT(c.datagrams, 3);
    ASSERT_EQ_SIZE(c.empty, 1);
    /* peer is the sender's address (the client is bound to 0.0.0.0). */
    ASSERT_CONTAINS(c.last_peer, "127.0.0.1:");
    ASSERT_EQ_INT(port_of(c.last_peer), port_of(mine));
    fsock_socket_free(client);
}

TEST_CASE(several_clients_with_a_thread_per_datagram) {
    counters c = COUNTERS_INIT;
    serving s;
    start(&s, "127.0.0.1:0", FSOCK_SERVER_THREAD_PER_CONNECTION, &c);
    char addr[FSOCK_ADDRSTRLEN];
    ASSERT_OK_SRV(s.server, fsock_server_local_addr(s.server, addr, sizeof addr, NULL));
    pthread_t t = serving_start(&s);

    enum { CLIENTS = 3 };
    fsock_socket *clients[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        ASSERT_OK(fsock_socket_new(FSOCK_AF_INET, FSOCK_SOCK_DGRAM, 0, &clients[i]));
    }
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < CLIENTS; i++) {
            char text[32], want[32];
            snprintf(text, sizeof text, "client %d round %d", i, round);
            snprintf(want, sizeof want, "CLIENT %d ROUND %d", i, round);
            ask(clients[i], addr, text, want); /* each reply goes to its own sender */
        }
    }
    stop(&s, t);
    ASSERT_EQ_INT(c.datagrams, 2 * CLIENTS);
    for (int i = 0; i < CLIENTS; i++) fsock_socket_free(clients[i]);
}

TEST_CASE(unix_datagram_server_answers_a_bound_client) {
    char dir[64], server_addr[160], client_addr[160];
    make_temp_dir(dir, sizeof dir);
    snprintf(server_addr, sizeof server_addr, "unix:%s/server.sock", dir);
    snprintf(client_addr, sizeof client_addr, "unix:%s/client.sock", dir);
    counters c = COUNTERS_INIT;
    serving s;
    start(&s, server_addr, FSOCK_SERVER_SEQUENTIAL, &c);
    pthread_t t = serving_start(&s);

    /* A Unix datagram client must be bound to a path to get an answer. */
    fsock_socket *client = NULL;
    ASSERT_OK(fsock_socket_new(FSOCK_AF_UNIX, FSOCK_SOCK_DGRAM, 0, &client));
    ASSERT_OK_ON(client, fsock_socket_bind(client, client_addr));
    ask(client, server_addr, "over unix", "OVER UNIX");
    stop(&s, t);
    ASSERT_EQ_STR(c.last_peer, client_addr);
    fsock_socket_free(client);

    char path[160];
    snprintf(path, sizeof path, "%s/client.sock", dir);
    ASSERT_EQ_INT(unlink(path), 0);
    ASSERT_EQ_INT(rmdir(dir), 0); /* the server removed its own file */
}

int main(void) {
    test_init();
    RUN(udp_server_answers_upper_cased);
    RUN(several_clients_with_a_thread_per_datagram);
    RUN(unix_datagram_server_answers_a_bound_client);
    return 0;
}
