/* A TCP service's thread: its listener and at most SVC_TCP_CONNS
 * connections, all non-blocking, multiplexed with lyra_poll. While the
 * connections are all taken the listener is not polled, so further ones
 * wait in the backlog (the transport's to bound). Each connection polls
 * for what its protocol can use now: echo stops reading while it cannot
 * write, http reads no next request while it sends a response. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "svc.h"
#include "svc_pattern.h"
#include "http_req.h"

uint64_t svc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static long fail_or_halt(void)
{
    return errno == ECANCELED ? SVC_HALT : SVC_FAIL;
}

long svc_recv(struct svc *v, struct svc_conn *c, void *p, size_t n)
{
    ssize_t r = lyra_recv(v->s, c->fd, p, n, 0);
    if (r >= 0)
        return (long)r;
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? SVC_AGAIN : fail_or_halt();
}

long svc_send(struct svc *v, struct svc_conn *c, const void *p, size_t n)
{
    ssize_t r = lyra_send(v->s, c->fd, p, n, MSG_NOSIGNAL);
    if (r >= 0)
        return (long)r;
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : fail_or_halt();
}

int svc_bail(long r)
{
    return r == SVC_HALT ? SVC_STOP : SVC_CLOSE;
}

static size_t conn_buf_size(enum svc_kind k)
{
    return k == SVC_ECHO ? SVC_ECHO_BUF : k == SVC_HTTP ? HTTP_HEAD_MAX : 0;
}

/* echo sends from its connection buffers: packet memory; http's hold
 * request heads, parsed in place and never sent: heap */
static int cbufs_pkt(enum svc_kind k)
{
    return k == SVC_ECHO;
}

int svc_tcp_alloc(struct svc *v)
{
    size_t per = conn_buf_size(v->kind);
    long pg = sysconf(_SC_PAGESIZE);
    v->page = pg > 0 ? (size_t)pg : 4096;
    v->buf = lyra_pkt_alloc(v->s, SVC_SCRATCH);
    v->conns = calloc(SVC_TCP_CONNS, sizeof(*v->conns));
    v->pfd = calloc(SVC_TCP_CONNS + 1, sizeof(*v->pfd));
    v->idx = calloc(SVC_TCP_CONNS + 1, sizeof(*v->idx));
    v->cbufs = !per ? NULL
               : cbufs_pkt(v->kind) ? lyra_pkt_alloc(v->s, per * SVC_TCP_CONNS)
                                    : malloc(per * SVC_TCP_CONNS);
    v->table = v->kind == SVC_CHARGEN ? lyra_pkt_alloc(v->s, 2 * CHARGEN_PERIOD) : NULL;
    if (!v->buf || !v->conns || !v->pfd || !v->idx || (per && !v->cbufs) ||
        (v->kind == SVC_CHARGEN && !v->table)) {
        svc_tcp_free(v);
        return -ENOMEM;
    }
    if (v->table)
        chargen_fill(v->table, 2 * CHARGEN_PERIOD, 0);
    for (unsigned i = 0; i < SVC_TCP_CONNS; i++) {
        v->conns[i].fd = -1;
        v->conns[i].buf = per ? v->cbufs + per * i : NULL;
    }
    return 0;
}

void svc_tcp_free(struct svc *v)
{
    lyra_pkt_free(v->s, v->buf);
    free(v->conns);
    free(v->pfd);
    free(v->idx);
    if (cbufs_pkt(v->kind))
        lyra_pkt_free(v->s, v->cbufs);
    else
        free(v->cbufs);
    lyra_pkt_free(v->s, v->table);
    v->buf = v->cbufs = v->table = NULL;
    v->conns = NULL;
    v->pfd = NULL;
    v->idx = NULL;
}

static void conn_close(struct svc *v, struct svc_conn *c)
{
    lyra_close(v->s, c->fd);
    c->fd = -1;
}

static int set_nonblock(struct svc *v, int fd)
{
    int fl = lyra_fcntl(v->s, fd, F_GETFL, 0);
    return fl < 0 ? -1 : lyra_fcntl(v->s, fd, F_SETFL, fl | O_NONBLOCK);
}

/* Accepts while a slot is free; SVC_STOP when the stack stopped. */
static int accept_some(struct svc *v)
{
    for (unsigned i = 0; i < SVC_TCP_CONNS; i++) {
        struct svc_conn *c = &v->conns[i];
        if (c->fd >= 0)
            continue;
        int fd = lyra_accept(v->s, v->fd, NULL, NULL);
        if (fd < 0) {
            if (errno == ECANCELED)
                return SVC_STOP;
            /* e.g. no descriptor free: the listener stays ready, so wait
             * a little before trying again rather than spin */
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED)
                v->listen_pause = svc_now_ms() + SVC_ACCEPT_PAUSE_MS;
            return SVC_KEEP;
        }
        if (set_nonblock(v, fd)) {
            lyra_close(v->s, fd);
            continue;
        }
        if (v->kind == SVC_HTTP) { /* a response goes out whole, no Nagle wait */
            int one = 1;
            lyra_setsockopt(v->s, fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        }
        unsigned char *buf = c->buf;
        memset(c, 0, sizeof(*c));
        c->fd = fd;
        c->buf = buf;
        if (v->kind == SVC_HTTP)
            svc_http_open(c);
    }
    return SVC_KEEP;
}

static short events(const struct svc *v, const struct svc_conn *c)
{
    return v->kind == SVC_HTTP ? svc_http_events(c) : svc_stream_events(v, c);
}

static int io(struct svc *v, struct svc_conn *c, short rev)
{
    if (rev & POLLNVAL)
        return SVC_CLOSE;
    return v->kind == SVC_HTTP ? svc_http_io(v, c, rev) : svc_stream_io(v, c, rev);
}

/* One poll over the listener (while a slot is free) and the connections;
 * SVC_STOP when the service ends. */
static int step(struct svc *v)
{
    unsigned n = 0, used = 0;
    uint64_t now = svc_now_ms(), next = UINT64_MAX;
    for (unsigned i = 0; i < SVC_TCP_CONNS; i++) {
        struct svc_conn *c = &v->conns[i];
        if (c->fd >= 0 && c->deadline && c->deadline <= now)
            conn_close(v, c);
        if (c->fd < 0)
            continue;
        used++;
        if (c->deadline && c->deadline < next)
            next = c->deadline;
        v->pfd[n] = (struct lyra_pollfd){c->fd, events(v, c), 0};
        v->idx[n++] = (int)i;
    }
    if (v->listen_pause && v->listen_pause <= now)
        v->listen_pause = 0;
    if (v->listen_pause && v->listen_pause < next)
        next = v->listen_pause;
    if (used < SVC_TCP_CONNS && !v->listen_pause) {
        v->pfd[n] = (struct lyra_pollfd){v->fd, POLLIN, 0};
        v->idx[n++] = -1;
    }
    int timeout = next == UINT64_MAX ? -1 : (int)(next - now);
    int r = lyra_poll(v->s, v->pfd, n, timeout);
    if (r < 0) {
        if (errno == EINTR)
            return SVC_KEEP;
        if (errno != ECANCELED)
            fprintf(stderr, "services: %s over TCP ends: poll: %s\n", v->name, strerror(errno));
        return SVC_STOP;
    }
    for (unsigned k = 0; k < n && r > 0; k++) {
        if (!v->pfd[k].revents)
            continue;
        r--;
        int res = v->idx[k] < 0 ? accept_some(v) : io(v, &v->conns[v->idx[k]], v->pfd[k].revents);
        if (res == SVC_STOP)
            return SVC_STOP;
        if (res == SVC_CLOSE)
            conn_close(v, &v->conns[v->idx[k]]);
    }
    return SVC_KEEP;
}

void *svc_tcp_loop(void *arg)
{
    struct svc *v = arg;
    while (!lyra_stack_stopping(v->s) && step(v) != SVC_STOP)
        ;
    for (unsigned i = 0; i < SVC_TCP_CONNS; i++)
        if (v->conns[i].fd >= 0)
            conn_close(v, &v->conns[i]);
    return NULL;
}
