/*
 * chat_client: the tutorial's chat room (socket聊天室), client side, in C.
 * Each line you type goes to everyone in the room, and everything said in
 * the room (your own lines too, as the server echoes them) is printed as
 * it arrives. The same program as examples/chat_client.rs, byte for byte.
 *
 *   cargo run --example chat_server -- --port 8888
 *   chat_client --port 8888 --name 张三
 *
 * Usage: chat_client [--host HOST] [--port PORT] [--framing line|length] [--name NAME]
 * (defaults 127.0.0.1, 8888, line, guest).
 *
 * Each line of input is sent as {"name": NAME, "msg": LINE, "time": NOW}
 * (local time, "YYYY-MM-DD HH:MM:SS"; a '\r' before the newline is
 * dropped). Each message received is printed as one line of compact JSON,
 * {"name":…,"msg":…,"time":…}. Sending and receiving run at once (full
 * duplex): a thread prints while the main thread waits for input; the
 * library lets one thread receive while another says things.
 *
 * At the end of input the client tells the server it is done
 * (fsock_chat_client_finish shuts down its sending side), prints what
 * still arrives until the server closes the connection or 300 ms pass, and
 * exits with status 0. If the server closes the connection first, the
 * client exits at once: status 0 for a clean close, 1 for a broken
 * connection.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ferrosock.h"

/* How long, after the end of input, the client waits for messages still
 * on their way. */
#define GRACE_MS 300

/* What the printing thread and the main thread share. */
typedef struct {
    fsock_chat_client *client;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    bool finishing; /* input has ended: the connection closing is expected */
    bool done;      /* the printing thread has stopped receiving */
} shared;

/* Prints each message as a line of compact JSON until the connection
 * ends. If the server ends it while input is still being read, exits the
 * program. */
static void *print_messages(void *arg) {
    shared *sh = arg;
    size_t cap = 4096;
    char *json = malloc(cap);
    fsock_result failure = FSOCK_OK;
    char why[512] = "";
    while (json != NULL) {
        size_t size = 0;
        fsock_result r = fsock_chat_client_recv(sh->client, json, cap, &size);
        if (r == FSOCK_OK) {
            fwrite(json, 1, size - 1, stdout);
            fputc('\n', stdout);
            fflush(stdout);
        } else if (r == FSOCK_ERR_BUFFER_TOO_SMALL) {
            /* The message waits for a buffer of `size` bytes. */
            char *bigger = realloc(json, size);
            if (bigger == NULL) break;
            json = bigger;
            cap = size;
        } else if (r == FSOCK_ERR_PROTOCOL) {
            /* One bad message: say so and go on with the next. */
            fprintf(stderr, "chat_client: skipped a message: %s\n", fsock_last_error_message());
        } else {
            failure = r;
            /* This thread's own message: the main thread may fail too. */
            snprintf(why, sizeof why, "%s", fsock_last_error_message());
            break;
        }
    }
    if (json == NULL) {
        failure = FSOCK_ERR_IO;
        snprintf(why, sizeof why, "out of memory");
    }
    free(json);

    pthread_mutex_lock(&sh->lock);
    bool finishing = sh->finishing;
    sh->done = true;
    pthread_cond_signal(&sh->changed);
    pthread_mutex_unlock(&sh->lock);
    if (finishing) return NULL;
    if (failure == FSOCK_ERR_EOF) {
        fprintf(stderr, "chat_client: the server closed the connection\n");
        exit(0);
    }
    fprintf(stderr, "chat_client: %s\n", why);
    exit(1);
}

/* Waits until the printing thread is done, at most `ms` milliseconds. */
static void wait_done(shared *sh, long ms) {
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += ms / 1000;
    deadline.tv_nsec += (ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec += 1;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&sh->lock);
    while (!sh->done) {
        if (pthread_cond_timedwait(&sh->changed, &sh->lock, &deadline) == ETIMEDOUT) break;
    }
    pthread_mutex_unlock(&sh->lock);
}

static void set_finishing(shared *sh) {
    pthread_mutex_lock(&sh->lock);
    sh->finishing = true;
    pthread_mutex_unlock(&sh->lock);
}

static void usage(const char *problem) {
    if (problem != NULL) fprintf(stderr, "chat_client: %s\n", problem);
    fprintf(stderr,
            "usage: chat_client [--host HOST] [--port PORT] [--framing line|length] [--name NAME]\n");
    exit(2);
}

int main(int argc, char **argv) {
    const char *host = "127.0.0.1", *name = "guest";
    uint16_t port = FSOCK_CHAT_DEFAULT_PORT;
    int framing = FSOCK_CHAT_FRAMING_LINE;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(arg, "--host") == 0) {
            if (value == NULL) usage("--host needs a value");
            host = value;
            i++;
        } else if (strcmp(arg, "--port") == 0) {
            char *end = NULL;
            long p = value == NULL ? -1 : strtol(value, &end, 10);
            if (value == NULL || *value == '\0' || *end != '\0' || p < 0 || p > 65535) {
                usage("--port needs a number from 0 to 65535");
            }
            port = (uint16_t)p;
            i++;
        } else if (strcmp(arg, "--framing") == 0) {
            if (value != NULL && strcmp(value, "line") == 0) {
                framing = FSOCK_CHAT_FRAMING_LINE;
            } else if (value != NULL && strcmp(value, "length") == 0) {
                framing = FSOCK_CHAT_FRAMING_LENGTH;
            } else {
                usage("--framing needs \"line\" or \"length\"");
            }
            i++;
        } else if (strcmp(arg, "--name") == 0) {
            if (value == NULL) usage("--name needs a value");
            name = value;
            i++;
        } else if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            usage(NULL);
        } else {
            char problem[256];
            snprintf(problem, sizeof problem, "unknown argument \"%s\"", arg);
            usage(problem);
        }
    }

    shared sh = {.client = NULL, .finishing = false, .done = false};
    pthread_mutex_init(&sh.lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&sh.changed, &attr);
    pthread_condattr_destroy(&attr);

    /* FSOCK_TIMEOUT_DEFAULT: blocking, as the Rust client. */
    if (fsock_chat_client_connect(host, port, framing, name, FSOCK_TIMEOUT_DEFAULT, &sh.client) !=
        FSOCK_OK) {
        fprintf(stderr, "chat_client: %s\n", fsock_last_error_message());
        return 1;
    }
    pthread_t printer;
    if (pthread_create(&printer, NULL, print_messages, &sh) != 0) {
        fprintf(stderr, "chat_client: cannot start the printing thread\n");
        fsock_chat_client_free(sh.client);
        return 1;
    }

    int status = 0;
    char *line = NULL;
    size_t line_cap = 0;
    ssize_t n;
    while ((n = getline(&line, &line_cap, stdin)) != -1) {
        if (n > 0 && line[n - 1] == '\n') line[--n] = '\0';
        /* A line typed on Windows, or piped from a file written there. */
        if (n > 0 && line[n - 1] == '\r') line[--n] = '\0';
        if (fsock_chat_client_say(sh.client, line) != FSOCK_OK) {
            char why[512];
            snprintf(why, sizeof why, "%s", fsock_last_error_message());
            set_finishing(&sh);
            fsock_chat_client_shutdown(sh.client);
            pthread_join(printer, NULL);
            fprintf(stderr, "chat_client: %s\n", why);
            status = 1;
            break;
        }
    }
    free(line);

    if (status == 0) {
        /* End of input: tell the server, which closes the connection once
         * it has sent us what was queued; stop waiting after the grace
         * period. */
        set_finishing(&sh);
        fsock_chat_client_finish(sh.client);
        wait_done(&sh, GRACE_MS);
        fsock_chat_client_shutdown(sh.client); /* wakes the printer if still waiting */
        pthread_join(printer, NULL);
    }
    fsock_chat_client_free(sh.client);
    pthread_cond_destroy(&sh.changed);
    pthread_mutex_destroy(&sh.lock);
    return status;
}
