/*
 * chat_server: the tutorial's chat room (socket聊天室), server side, in C.
 * Everyone online hears every message, the sender too. The same server as
 * examples/chat_server.rs (one core, fsock_chat_server_*), with the same
 * command line and output:
 *
 *   chat_server --port 8888
 *   chat_client --port 8888 --name 张三
 *   python examples/python/chat_client.py --port 8888 --name 李四
 *
 * Usage: chat_server [--host HOST] [--port PORT] [--framing line|length]
 * (defaults 127.0.0.1, 8888, line).
 *
 * Messages are JSON objects {"name": …, "msg": …, "time": …}, one per line
 * or each behind a 4-byte big-endian length header; clients must use the
 * same framing. The server announces who joins and leaves, answers a
 * malformed message with an error message and disconnects its sender, and
 * disconnects a client that does not read fast enough instead of waiting
 * for it. The first line of output is "listening on HOST:PORT"; Ctrl-C or
 * SIGTERM stops the server (exit status 0).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "ferrosock.h"

static void usage(const char *problem) {
    if (problem != NULL) fprintf(stderr, "chat_server: %s\n", problem);
    fprintf(stderr, "usage: chat_server [--host HOST] [--port PORT] [--framing line|length]\n");
    exit(2);
}

int main(int argc, char **argv) {
    const char *host = "127.0.0.1";
    long port = 8888;
    int framing = FSOCK_CHAT_FRAMING_LINE;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--host") == 0 && i + 1 < argc) {
            host = argv[++i];
        } else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            char *end = NULL;
            const char *text = argv[++i];
            port = strtol(text, &end, 10);
            if (*text == '\0' || *end != '\0' || port < 0 || port > 65535) {
                usage("PORT must be a number from 0 to 65535");
            }
        } else if (strcmp(argv[i], "--framing") == 0 && i + 1 < argc) {
            const char *f = argv[++i];
            if (strcmp(f, "line") == 0) {
                framing = FSOCK_CHAT_FRAMING_LINE;
            } else if (strcmp(f, "length") == 0) {
                framing = FSOCK_CHAT_FRAMING_LENGTH;
            } else {
                usage("FRAMING must be line or length");
            }
        } else {
            int help = strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0;
            usage(help ? NULL : "unknown option");
        }
    }

    example_stopper stopper;
    example_block_stop_signals(&stopper);

    fsock_chat_server_config config;
    fsock_chat_server_config_init(&config);
    config.framing = framing;
    fsock_chat_server *server = NULL;
    if (fsock_chat_server_new(host, (uint16_t)port, &config, &server) != FSOCK_OK) {
        fprintf(stderr, "chat_server: %s\n", fsock_last_error_message());
        return 1;
    }
    char addr[FSOCK_ADDRSTRLEN];
    if (fsock_chat_server_local_addr(server, addr, sizeof addr, NULL) != FSOCK_OK) {
        fprintf(stderr, "chat_server: %s\n", fsock_chat_server_errmsg(server));
        fsock_chat_server_free(server);
        return 1;
    }
    example_announce(addr);
    if (example_stop_chat_server_on_signal(&stopper, server) != 0) {
        fprintf(stderr, "chat_server: cannot start the signal thread\n");
        fsock_chat_server_free(server);
        return 1;
    }
    fsock_result served = fsock_chat_server_serve(server);
    if (served != FSOCK_OK) {
        fprintf(stderr, "chat_server: %s\n", fsock_chat_server_errmsg(server));
    }
    example_stopper_join(&stopper);
    printf("shutting down\n");
    fsock_chat_server_free(server);
    return served == FSOCK_OK ? 0 : 1;
}
