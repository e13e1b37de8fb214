/*
 * TCP_NODELAY on the engine's accepted connections, from C: on by default
 * (fsock_server_config_init sets cfg.nodelay = true), off with
 * cfg.nodelay = false. The callback reads the option on the connection it
 * is lent and sends it back as one byte, '1' or '0'.
 */
#include "test.h"

/* on_connection: answer with the connection's TCP_NODELAY, then hang up. */
static int report_nodelay(void *userdata, fsock_socket *conn, const char *peer) {
    (void)userdata;
    (void)peer;
    int value = -1;
    if (fsock_socket_getsockopt_int(conn, FSOCK_IPPROTO_TCP, FSOCK_TCP_NODELAY, &value) != FSOCK_OK)
        return 1;
    uint8_t answer = value ? '1' : '0';
    return fsock_socket_sendall(conn, &answer, 1, 0) == FSOCK_OK ? 0 : 1;
}

/* Serves one connection on a sequential server built from `cfg`; returns
 * what its callback saw. */
static char nodelay_seen(fsock_server_config cfg) {
    fsock_server_callbacks cb = {report_nodelay, NULL, unexpected_error};
    fsock_server *server = NULL;
    ASSERT_OK(fsock_server_new(&cfg, &cb, NULL, &server));
    fsock_socket *client = connect_to(server);
    bool handled = false;
    ASSERT_OK_SRV(server, fsock_server_handle_request(server, TEST_TIMEOUT_SECONDS, &handled));
    ASSERT(handled);
    char reply[8];
    ASSERT_EQ_SIZE(recv_text(client, reply, sizeof reply), 1);
    fsock_socket_free(client);
    fsock_server_free(server);
    return reply[0];
}

static fsock_server_config sequential_config(void) {
    fsock_server_config cfg;
    ASSERT_OK(fsock_server_config_init(&cfg));
    cfg.address = "127.0.0.1:0";
    cfg.mode = FSOCK_SERVER_SEQUENTIAL;
    cfg.idle_timeout = TEST_TIMEOUT_SECONDS;
    return cfg;
}

TEST_CASE(nodelay_is_on_by_default) {
    fsock_server_config cfg = sequential_config();
    ASSERT(cfg.nodelay);
    ASSERT_EQ_INT(nodelay_seen(cfg), '1');
}

TEST_CASE(nodelay_false_keeps_the_os_default) {
    fsock_server_config cfg = sequential_config();
    cfg.nodelay = false;
    ASSERT_EQ_INT(nodelay_seen(cfg), '0');
}

int main(void) {
    test_init();
    RUN(nodelay_is_on_by_default);
    RUN(nodelay_false_keeps_the_os_default);
    return 0;
}
