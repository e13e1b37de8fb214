/*
 * Bulk TCP, the C reference: a sink that counts what one connection sends
 * and answers the end of the stream with the count (8 bytes, big-endian),
 * and a source that streams N bytes to it and prints the throughput as a
 * JSON line. The same protocol as fsock_bulk and bench/python/bulk.py.
 *
 *   bulk --role sink [--port 0] [--chunk 262144]
 *   bulk --role source --port PORT [--bytes 1073741824] [--chunk 262144]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what) {
    perror(what);
    exit(1);
}

static void loopback(struct sockaddr_in *a, int port) {
    memset(a, 0, sizeof *a);
    a->sin_family = AF_INET;
    a->sin_port = htons((unsigned short)port);
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

static void send_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            die("send");
        }
        p += w;
        n -= (size_t)w;
    }
}

static void sink(int port, size_t chunk) {
    struct sockaddr_in a;
    loopback(&a, port);
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(lfd, (struct sockaddr *)&a, sizeof a) < 0) die("bind");
    if (listen(lfd, 16) < 0) die("listen");
    socklen_t len = sizeof a;
    getsockname(lfd, (struct sockaddr *)&a, &len);
    printf("listening on 127.0.0.1:%d\n", ntohs(a.sin_port));
    fflush(stdout);
    char *buf = malloc(chunk);
    if (buf == NULL) die("malloc");
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR) continue;
            die("accept");
        }
        uint64_t total = 0;
        for (;;) {
            ssize_t n = recv(fd, buf, chunk, 0);
            if (n < 0) {
                if (errno == EINTR) continue;
                break;
            }
            if (n == 0) break;
            total += (uint64_t)n;
        }
        unsigned char out[8];
        for (int i = 0; i < 8; i++) out[i] = (unsigned char)(total >> (56 - 8 * i));
        send_all(fd, (const char *)out, 8);
        close(fd);
    }
}

static void source(int port, uint64_t bytes, size_t chunk) {
    struct sockaddr_in a;
    loopback(&a, port);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) die("connect");
    char *buf = malloc(chunk);
    if (buf == NULL) die("malloc");
    memset(buf, 0x5a, chunk);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (uint64_t left = bytes; left > 0;) {
        size_t n = left < chunk ? (size_t)left : chunk;
        send_all(fd, buf, n);
        left -= n;
    }
    shutdown(fd, SHUT_WR);
    unsigned char in[8];
    size_t got = 0;
    while (got < 8) {
        ssize_t n = recv(fd, in + got, 8 - got, 0);
        if (n <= 0) break;
        got += (size_t)n;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    uint64_t counted = 0;
    for (int i = 0; i < 8; i++) counted = (counted << 8) | in[i];
    if (got != 8 || counted != bytes) {
        fprintf(stderr, "bulk: the sink counted %llu bytes of %llu\n",
                (unsigned long long)counted, (unsigned long long)bytes);
        exit(1);
    }
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("{\"mode\":\"bulk\",\"bytes\":%llu,\"seconds\":%.6f,\"gbps\":%.6f}\n",
           (unsigned long long)bytes, secs, (double)bytes / secs / 1e9);
}

int main(int argc, char **argv) {
    const char *role = "";
    int port = 0;
    uint64_t bytes = 1ULL << 30;
    size_t chunk = 256 * 1024;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--role") == 0) role = argv[i + 1];
        else if (strcmp(argv[i], "--port") == 0) port = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--bytes") == 0) bytes = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--chunk") == 0) chunk = (size_t)strtoull(argv[i + 1], NULL, 10);
    }
    if (chunk == 0) chunk = 1;
    if (strcmp(role, "sink") == 0) sink(port, chunk);
    else if (strcmp(role, "source") == 0) source(port, bytes, chunk);
    else {
        fprintf(stderr, "usage: bulk --role sink|source [--port P] [--bytes N] [--chunk N]\n");
        return 2;
    }
    return 0;
}
