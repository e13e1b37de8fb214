/*
 * The "close to the system-call limit" reference: a single-threaded echo
 * server on level-triggered epoll, with nothing but read/write per event.
 *
 *   epoll_echo [--port 0] [--udp]
 *
 * TCP: every connection has a 64 KiB buffer; what is read is written back
 * at once; only if the socket is full is the rest kept, reading stops for
 * that connection and EPOLLOUT is watched until it drains.
 * UDP: a blocking recvfrom/sendto loop, one system call each way.
 *
 * The first line on stdout is "listening on 127.0.0.1:PORT".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF_SIZE (64 * 1024)
#define MAX_EVENTS 256

struct conn {
    int fd;
    size_t off, len; /* pending bytes: buf[off..len] */
    char buf[BUF_SIZE];
};

static void die(const char *what) {
    perror(what);
    exit(1);
}

static int bound_socket(int type, int port, struct sockaddr_in *addr) {
    int fd = socket(AF_INET, type, 0);
    if (fd < 0) die("socket");
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(addr, 0, sizeof *addr);
    addr->sin_family = AF_INET;
    addr->sin_port = htons((unsigned short)port);
    addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)addr, sizeof *addr) < 0) die("bind");
    socklen_t len = sizeof *addr;
    if (getsockname(fd, (struct sockaddr *)addr, &len) < 0) die("getsockname");
    return fd;
}

static void announce(const struct sockaddr_in *addr) {
    printf("listening on 127.0.0.1:%d\n", ntohs(addr->sin_port));
    fflush(stdout);
}

static void serve_udp(int port) {
    struct sockaddr_in addr;
    int fd = bound_socket(SOCK_DGRAM, port, &addr);
    announce(&addr);
    static char buf[BUF_SIZE];
    for (;;) {
        struct sockaddr_in peer;
        socklen_t plen = sizeof peer;
        ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&peer, &plen);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("recvfrom");
        }
        sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&peer, plen);
    }
}

static void drop_conn(int ep, struct conn *c) {
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c);
}

/* Echoes what can be echoed now; returns -1 when the connection is done. */
static int pump(int ep, struct conn *c) {
    for (;;) {
        while (c->off < c->len) {
            ssize_t w = write(c->fd, c->buf + c->off, c->len - c->off);
            if (w < 0) {
                if (errno == EINTR) continue;
                if (errno == EAGAIN) {
                    struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
                    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                    return 0;
                }
                return -1;
            }
            c->off += (size_t)w;
        }
        if (c->len != 0) {
            /* Drained after a full socket: read again. */
            c->off = c->len = 0;
            struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
            epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
        }
        ssize_t n = read(c->fd, c->buf, BUF_SIZE);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno == EAGAIN ? 0 : -1;
        }
        if (n == 0) return -1;
        /* Write straight back; usually all of it goes at once. */
        ssize_t w = write(c->fd, c->buf, (size_t)n);
        if (w == n) return 0; /* level-triggered: epoll tells us if more is there */
        if (w < 0 && errno != EAGAIN && errno != EINTR) return -1;
        c->off = w < 0 ? 0 : (size_t)w;
        c->len = (size_t)n;
    }
}

static void serve_tcp(int port) {
    struct sockaddr_in addr;
    int lfd = bound_socket(SOCK_STREAM | SOCK_NONBLOCK, port, &addr);
    if (listen(lfd, 1024) < 0) die("listen");
    announce(&addr);
    int ep = epoll_create1(0);
    if (ep < 0) die("epoll_create1");
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0) die("epoll_ctl");
    struct epoll_event events[MAX_EVENTS];
    for (;;) {
        int n = epoll_wait(ep, events, MAX_EVENTS, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait");
        }
        for (int i = 0; i < n; i++) {
            struct conn *c = events[i].data.ptr;
            if (c == NULL) {
                for (;;) {
                    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
                    if (fd < 0) break;
                    c = malloc(sizeof *c);
                    if (c == NULL) {
                        close(fd);
                        continue;
                    }
                    c->fd = fd;
                    c->off = c->len = 0;
                    struct epoll_event cev = {.events = EPOLLIN, .data.ptr = c};
                    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev) < 0) {
                        close(fd);
                        free(c);
                    }
                }
                continue;
            }
            if (pump(ep, c) < 0) drop_conn(ep, c);
        }
    }
}

int main(int argc, char **argv) {
    int port = 0, udp = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--udp") == 0) {
            udp = 1;
        } else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            port = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--host") == 0 && i + 1 < argc) {
            i++; /* loopback only */
        } else {
            fprintf(stderr, "usage: epoll_echo [--port PORT] [--udp]\n");
            return 2;
        }
    }
    if (udp)
        serve_udp(port);
    else
        serve_tcp(port);
    return 0;
}
