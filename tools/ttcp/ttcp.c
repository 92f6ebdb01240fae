/* ttcp: the classic TCP (and UDP) throughput test. One source, built twice:
 * `lyra-ttcp` runs it on LyraNET stacks (any assembly; with --peer a second
 * stack in this process receives), `ttcp` on the host's sockets, so the same
 * program measures Linux and our stack.
 *
 *   lyra-ttcp -r [-u] --stack MANIFEST [INST.PARAM=VALUE ...]
 *   lyra-ttcp -t [-u] --stack MANIFEST [...] [--peer MANIFEST [...]] HOST
 *   ttcp -r [-u] / ttcp -t [-u] HOST
 *
 * The data is a pattern the receiver checks (TCP: the whole stream in
 * order; UDP: each datagram). Each side prints bytes, seconds, throughput
 * and the CPU (user + sys) of this process over the transfer. Over TCP the
 * sender shuts its side after the last write and waits for the receiver's
 * close, and the receiver lingers until its FIN is acknowledged: so the
 * sender's time ends when the data arrived, and neither process stops its
 * stack with data in flight. Exit status: 0, 1 usage, 2 an error (refused,
 * no such transport, ...), 3 wrong data. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ttcp_args.h"
#include "ttcp_buf.h"

#ifdef TTCP_HOST
#define TOOL "lyra-ttcp-linux"
typedef void *net_t; /* the host: no stack */
#define N_socket(n, d, t, p) socket(d, t, p)
#define N_close(n, fd) close(fd)
#define N_bind(n, fd, a, l) bind(fd, a, l)
#define N_listen(n, fd, b) listen(fd, b)
#define N_accept(n, fd, a, l) accept(fd, a, l)
#define N_connect(n, fd, a, l) connect(fd, a, l)
#define N_send(n, fd, b, l, f) send(fd, b, l, (f) | MSG_NOSIGNAL)
#define N_sendto(n, fd, b, l, f, a, al) sendto(fd, b, l, f, a, al)
#define N_recv(n, fd, b, l, f) recv(fd, b, l, f)
#define N_setsockopt(n, fd, lv, o, v, l) setsockopt(fd, lv, o, v, l)
#define N_shutdown(n, fd, h) shutdown(fd, h)
#else
#define TOOL "lyra-ttcp"
#include "lyra/socket.h"
#include "lyra/stack.h"
#include "tool_stacks.h"
#include "ttcp_zc.h"
typedef struct lyra_stack *net_t;
#define N_socket lyra_socket
#define N_close lyra_close
#define N_bind lyra_bind
#define N_listen lyra_listen
#define N_accept lyra_accept
#define N_connect lyra_connect
#define N_send lyra_send
#define N_sendto lyra_sendto
#define N_recv lyra_recv
#define N_setsockopt lyra_setsockopt
#define N_shutdown lyra_shutdown
#endif

static volatile sig_atomic_t interrupted;

struct side {
    const struct ttcp_opts *o;
    net_t net;
    const char *tag; /* "ttcp-t" or "ttcp-r" */
    int trans;
    struct ttcp_alloc mem; /* heap, or packet memory of the side's stack (--pkt) */
    struct ttcp_src src;   /* the pattern: sent from, and checked against */
    struct ttcp_sink sink; /* read into */
    long rlen;             /* bytes per read */
    long long bytes, wrong, calls;
    long long zc_sends, zc_done, zc_copied; /* --zerocopy: calls, ids completed, of them copied */
    double secs, cpu_user, cpu_sys;
    int status;
    int ready;          /* receiver: listening (for an in-process peer) */
    atomic_int abandoned; /* in-process peer: the other side failed, its stack stopped */
    pthread_mutex_t mu; /* with cv: the receiver tells the sender it is ready */
    pthread_cond_t cv;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void cpu(double *user, double *sys)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    *user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
    *sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int fail(struct side *sd, const char *what)
{
    int e = errno;
    sd->status = 2;
    if (atomic_load(&sd->abandoned))
        return -1; /* the call was cancelled: the other side said why */
    fprintf(stderr, "%s: %s: %s%s\n", sd->tag, what, strerror(e),
            e == EPROTONOSUPPORT || e == ESOCKTNOSUPPORT
                ? (sd->o->udp ? "" : " (no TCP transport in this stack; -u runs over UDP)")
                : "");
    return -1;
}

static void set_ready(struct side *sd)
{
    pthread_mutex_lock(&sd->mu);
    sd->ready = 1;
    pthread_cond_broadcast(&sd->cv);
    pthread_mutex_unlock(&sd->mu);
}

static int open_sock(struct side *sd)
{
    const struct ttcp_opts *o = sd->o;
    int fd = N_socket(sd->net, AF_INET, o->udp ? SOCK_DGRAM : SOCK_STREAM, 0);
    if (fd < 0)
        return fail(sd, o->udp ? "socket(UDP)" : "socket(TCP)");
    int opt = (int)o->sockbuf;
    if (o->sockbuf && N_setsockopt(sd->net, fd, SOL_SOCKET, sd->trans ? SO_SNDBUF : SO_RCVBUF, &opt,
                                   sizeof(opt)) < 0)
        fprintf(stderr, "%s: -b %ld: %s (going on)\n", sd->tag, o->sockbuf, strerror(errno));
    opt = 1;
    if (o->nodelay && !o->udp &&
        N_setsockopt(sd->net, fd, IPPROTO_TCP, TCP_NODELAY, &opt, sizeof(opt)) < 0)
        fprintf(stderr, "%s: -D: %s (going on)\n", sd->tag, strerror(errno));
    return fd;
}

static void result(struct side *sd)
{
    double mbit = sd->secs > 0 ? (double)sd->bytes * 8 / sd->secs / 1e6 : 0;
    printf("%s: %lld bytes in %.3f s = %.2f Mbit/s (%.1f KB/s), %lld %s\n", sd->tag, sd->bytes,
           sd->secs, mbit, sd->secs > 0 ? (double)sd->bytes / 1024 / sd->secs : 0, sd->calls,
           sd->trans ? "writes" : "reads");
    double c = sd->cpu_user + sd->cpu_sys;
    printf("%s: CPU %.3f s user + %.3f s sys = %.3f s (%.0f%% of wall; this process)\n",
           sd->tag, sd->cpu_user, sd->cpu_sys, c, sd->secs > 0 ? 100 * c / sd->secs : 0);
    if (!sd->trans)
        printf("%s: %s: %lld bytes wrong\n", sd->tag,
               sd->o->udp ? "each datagram checked" : "stream checked in order", sd->wrong);
}

#ifndef TTCP_HOST
/* --zerocopy: every completion waiting (recvmsg MSG_ERRQUEUE never blocks). */
static void zc_completions(struct side *sd, int fd)
{
    long long n;
    int copied;
    while (ttcp_zc_take(sd->net, fd, &n, &copied)) {
        sd->zc_done += n;
        if (copied)
            sd->zc_copied += n;
    }
}

/* --zerocopy: the last completions, before the source may go (the stack
 * completes a call when its bytes are acknowledged and freed). */
static void zc_wait_all(struct side *sd, int fd)
{
    for (int i = 0; i < 10000 && sd->zc_done < sd->zc_sends; i++) {
        zc_completions(sd, fd);
        if (sd->zc_done < sd->zc_sends)
            usleep(1000);
    }
    printf("%s: MSG_ZEROCOPY: %lld sends, %lld completed, %lld of them copied\n", sd->tag,
           sd->zc_sends, sd->zc_done, sd->zc_copied);
    if (sd->zc_done != sd->zc_sends && !sd->status) {
        fprintf(stderr, "%s: %lld MSG_ZEROCOPY sends never completed\n", sd->tag,
                sd->zc_sends - sd->zc_done);
        sd->status = 2;
    }
}

/* --loan: one loaned read, checked and returned; bytes, 0 at the end, -1. */
static long loan_read(struct side *sd, int fd)
{
    struct lyra_loan ln;
    long n = (long)lyra_recv_loan(sd->net, fd, &ln, 0);
    if (n <= 0)
        return n;
    sd->wrong += ttcp_check(&sd->src, ln.data, (size_t)n, (unsigned long long)sd->bytes);
    if (lyra_loan_return(sd->net, &ln))
        return -1;
    return n;
}
#endif

static void receive(struct side *sd)
{
    const struct ttcp_opts *o = sd->o;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)o->port)};
    int lfd = open_sock(sd), fd = -1;
    if (lfd < 0)
        goto out;
    int one = 1;
    N_setsockopt(sd->net, lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (N_bind(sd->net, lfd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
        (!o->udp && N_listen(sd->net, lfd, 1) < 0)) {
        fail(sd, "bind/listen");
        goto out;
    }
    if (!o->quiet)
        printf("%s: buflen=%ld, port=%d %s, waiting\n", sd->tag, o->len, o->port,
               o->udp ? "udp" : "tcp");
    fflush(stdout);
    set_ready(sd);
    if (o->udp) {
        fd = lfd;
        lfd = -1;
        struct timeval tv = {(time_t)o->timeout,
                             (suseconds_t)((o->timeout - (double)(time_t)o->timeout) * 1e6)};
        N_setsockopt(sd->net, fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    } else {
        fd = N_accept(sd->net, lfd, NULL, NULL);
        if (fd < 0) {
            fail(sd, "accept");
            goto out;
        }
    }
    double t0 = 0, u0 = 0, s0 = 0;
    int started = !o->udp;
    if (started) {
        t0 = now_s();
        cpu(&u0, &s0);
    }
    while (!interrupted) {
        unsigned char *buf = ttcp_sink_at(&sd->sink, (unsigned long long)sd->calls);
#ifndef TTCP_HOST
        if (o->loan) {
            long n = loan_read(sd, fd);
            if (n < 0) {
                fail(sd, "lyra_recv_loan");
                break;
            }
            if (n == 0)
                break; /* the sender closed */
            sd->bytes += n;
            sd->calls++;
            continue;
        }
#endif
        long n = (long)N_recv(sd->net, fd, buf, (size_t)sd->rlen, 0);
        if (n < 0) {
            if (o->udp && errno == EAGAIN && started) {
                if (!o->quiet)
                    printf("%s: ended by %g s of silence (end marks lost)\n", sd->tag, o->timeout);
                break;
            }
            if (o->udp && errno == EAGAIN)
                continue; /* nothing yet */
            fail(sd, "recv");
            break;
        }
        if (n == 0 && !o->udp)
            break; /* the sender closed */
        if (o->udp && n <= 4) { /* start or end mark */
            if (started && sd->bytes)
                break;
            if (!started) {
                started = 1;
                t0 = now_s();
                cpu(&u0, &s0);
            }
            continue;
        }
        if (!started) { /* the start mark was lost */
            started = 1;
            t0 = now_s();
            cpu(&u0, &s0);
        }
        sd->wrong += ttcp_check(&sd->src, buf, (size_t)n, o->udp ? 0 : (unsigned long long)sd->bytes);
        sd->bytes += n;
        sd->calls++;
    }
    if (!started) { /* a UDP receiver stopped before anything came: no time */
        t0 = now_s();
        cpu(&u0, &s0);
    }
    sd->secs = now_s() - t0;
    cpu(&sd->cpu_user, &sd->cpu_sys);
    sd->cpu_user -= u0;
    sd->cpu_sys -= s0;
    if (sd->status == 0 && sd->wrong)
        sd->status = 3;
    result(sd);
out:
    if (fd >= 0 && !o->udp) {
        /* our FIN acknowledged before close returns: the stack may be
         * stopped right after (this process ends) */
        struct linger lg = {1, 10};
        N_setsockopt(sd->net, fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    }
    if (fd >= 0)
        N_close(sd->net, fd);
    if (lfd >= 0)
        N_close(sd->net, lfd);
    set_ready(sd); /* a sender waiting for a receiver that failed goes on */
}

/* TCP, the sender's end: its side is shut (FIN after the last byte) and it
 * waits for the receiver's EOF, which the receiver sends once it read
 * everything. So the time counts until the data arrived, not until it was
 * queued, and a stack in this process is not stopped with data still in
 * flight. */
static void drain(struct side *sd, int fd)
{
    if (N_shutdown(sd->net, fd, SHUT_WR) < 0) {
        fail(sd, "shutdown");
        return;
    }
    struct timeval tv = {60, 0}; /* a receiver that never closes */
    N_setsockopt(sd->net, fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    unsigned char b[256];
    long n;
    while ((n = (long)N_recv(sd->net, fd, b, sizeof(b), 0)) > 0)
        ; /* a receiver sends nothing; anything it did is not ours to check */
    if (n < 0)
        fail(sd, "waiting for the receiver to close");
}

#ifndef TTCP_HOST
/* eth's drops for want of an ARP answer so far: arp_unresolved,
 * arp_queue_full (UINT64_MAX each without an eth instance) */
static void arp_drops(struct side *sd, uint64_t out[2])
{
    out[0] = lyra_stack_counter(sd->net, "eth", "arp_unresolved");
    out[1] = lyra_stack_counter(sd->net, "eth", "arp_queue_full");
}

/* UDP: datagrams eth still queues behind ARP go out before the stack ends
 * with the process (Linux keeps them in the kernel after a sender exits).
 * A fast sender is done in milliseconds, before a peer slow to be
 * scheduled answers the ARP request: without this every datagram was
 * lost and the receiver waited for ever. At most eth's retries (4 s with
 * the defaults). What eth dropped because the peer never answered
 * (arp_unresolved, arp_queue_full since `before`) is said, so that a
 * receiver that got nothing is not a mystery. */
static void udp_linger(struct side *sd, const uint64_t before[2])
{
    uint64_t q = 0;
    for (int ms = 0; ms < 4000; ms++) {
        q = lyra_stack_counter(sd->net, "eth", "arp_pending");
        if (q == 0 || q == UINT64_MAX) /* UINT64_MAX: no eth instance to ask */
            break;
        usleep(1000);
    }
    uint64_t now[2];
    arp_drops(sd, now);
    if (now[0] == UINT64_MAX || now[1] == UINT64_MAX)
        return;
    uint64_t lost = now[0] - before[0] + now[1] - before[1];
    if (lost)
        fprintf(stderr,
                "%s: ARP: %s did not answer in time, %llu datagrams dropped (eth arp_unresolved, "
                "arp_queue_full)\n",
                sd->tag, sd->o->host, (unsigned long long)lost);
    if (q && q != UINT64_MAX)
        fprintf(stderr, "%s: ARP: %llu datagrams still waiting at exit, lost with the stack\n",
                sd->tag, (unsigned long long)q);
}
#endif

static void transmit(struct side *sd)
{
    const struct ttcp_opts *o = sd->o;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)o->port)};
    if (inet_pton(AF_INET, o->host, &a.sin_addr) != 1) {
        fprintf(stderr, "%s: '%s' is not an IPv4 address\n", sd->tag, o->host);
        sd->status = 1;
        return;
    }
    int fd = open_sock(sd);
    if (fd < 0)
        return;
    if (!o->quiet)
        printf("%s: buflen=%ld, nbuf=%ld, port=%d %s -> %s\n", sd->tag, o->len, o->count,
               o->port, o->udp ? "udp" : "tcp", o->host);
    double tc = now_s();
    if (!o->udp && N_connect(sd->net, fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        /* how long it took tells a refusal from ARP's or SYN's give-up */
        int e = errno;
        char what[64];
        snprintf(what, sizeof(what), "connect (after %.2f s)", now_s() - tc);
        errno = e;
        fail(sd, what);
        N_close(sd->net, fd);
        return;
    }
#ifndef TTCP_HOST
    int one = 1;
    if (o->zerocopy && lyra_setsockopt(sd->net, fd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one))) {
        fail(sd, "SO_ZEROCOPY");
        N_close(sd->net, fd);
        return;
    }
    int sflags = o->zerocopy ? MSG_ZEROCOPY : 0;
    uint64_t drops0[2] = {0, 0};
    if (o->udp)
        arp_drops(sd, drops0);
#else
    int sflags = 0;
#endif
    double t0 = now_s(), u0, s0;
    cpu(&u0, &s0);
    if (o->udp && N_sendto(sd->net, fd, sd->src.mem, 4, 0, (struct sockaddr *)&a, sizeof(a)) < 0)
        fail(sd, "sendto");
    unsigned long long udp_step = ((unsigned long long)o->len + TTCP_PERIOD - 1) / TTCP_PERIOD * TTCP_PERIOD;
    for (long i = 0; i < o->count && !interrupted && !sd->status; i++) {
        /* TCP: the stream continues the pattern; UDP: each datagram starts
         * it (at a multiple of the period, so a rotating source moves on) */
        unsigned long long off = o->udp ? (unsigned long long)i * udp_step : (unsigned long long)sd->bytes;
        const unsigned char *p = ttcp_src_at(&sd->src, off);
        long n = o->udp ? (long)N_sendto(sd->net, fd, p, (size_t)o->len, 0,
                                         (struct sockaddr *)&a, sizeof(a))
                        : (long)N_send(sd->net, fd, p, (size_t)o->len, sflags);
#ifndef TTCP_HOST
        if (o->zerocopy) {
            if (n < 0 && errno == ENOBUFS) { /* every record busy: read completions, again */
                zc_completions(sd, fd);
                usleep(100);
                i--;
                continue;
            }
            sd->zc_sends += n > 0;
            zc_completions(sd, fd);
        }
#endif
        if (n < 0) {
            if (o->udp && (errno == ENOBUFS || errno == EAGAIN))
                continue; /* a full queue drops a datagram, as UDP may */
            fail(sd, o->udp ? "sendto" : "send");
            break;
        }
        sd->bytes += n;
        sd->calls++;
    }
    if (o->udp) /* end marks, several: any may be lost */
        for (int k = 0; k < 4; k++) {
            N_sendto(sd->net, fd, sd->src.mem, 4, 0, (struct sockaddr *)&a, sizeof(a));
            usleep(1000);
        }
#ifndef TTCP_HOST
    if (o->udp)
        udp_linger(sd, drops0);
#endif
    if (!o->udp && !sd->status)
        drain(sd, fd);
#ifndef TTCP_HOST
    if (o->zerocopy)
        zc_wait_all(sd, fd);
#endif
    N_close(sd->net, fd);
    sd->secs = now_s() - t0;
    cpu(&sd->cpu_user, &sd->cpu_sys);
    sd->cpu_user -= u0;
    sd->cpu_sys -= s0;
    result(sd);
}

static void *heap_alloc(void *ctx, size_t size)
{
    (void)ctx;
    void *p = NULL; /* page-aligned, as packet memory is on copy assemblies */
    return posix_memalign(&p, TTCP_PAGE, size) ? NULL : p;
}

static void heap_free(void *ctx, void *p)
{
    (void)ctx;
    free(p);
}

#ifndef TTCP_HOST
static void *pkt_alloc(void *ctx, size_t size)
{
    return lyra_pkt_alloc(ctx, size);
}

static void pkt_free(void *ctx, void *p)
{
    lyra_pkt_free(ctx, p);
}
#endif

static void side_init(struct side *sd, const struct ttcp_opts *o, net_t net, int trans)
{
    memset(sd, 0, sizeof(*sd));
    sd->o = o;
    sd->net = net;
    sd->tag = trans ? "ttcp-t" : "ttcp-r";
    sd->trans = trans;
    sd->rlen = o->rlen ? o->rlen : o->len;
    sd->mem = (struct ttcp_alloc){heap_alloc, heap_free, NULL};
    atomic_init(&sd->abandoned, 0);
    pthread_mutex_init(&sd->mu, NULL);
    pthread_cond_init(&sd->cv, NULL);
}

/* The buffers, once the side's stack is up (--pkt takes its packet
 * memory). The sender rotates its source; the receiver its sink, and
 * checks against a warm pattern. */
static int side_bufs(struct side *sd)
{
    const struct ttcp_opts *o = sd->o;
#ifndef TTCP_HOST
    if (o->pkt)
        sd->mem = (struct ttcp_alloc){pkt_alloc, pkt_free, sd->net};
#endif
    static const struct ttcp_alloc heap = {heap_alloc, heap_free, NULL};
    int bad = ttcp_src_init(&sd->src, sd->trans ? o->rotate : 0, (size_t)o->len,
                            sd->trans ? &sd->mem : &heap) ||
              (!sd->trans &&
               ttcp_sink_init(&sd->sink, o->rotate, (size_t)sd->rlen, o->pkt, &sd->mem));
    if (bad) {
        fprintf(stderr, "%s: no memory for the %s buffers (%s)\n", sd->tag,
                o->rotate ? "rotating" : "", o->pkt ? "lyra_pkt_alloc" : "heap");
        sd->status = 2;
    }
    return bad ? -1 : 0;
}

static void side_free_bufs(struct side *sd)
{
    static const struct ttcp_alloc heap = {heap_alloc, heap_free, NULL};
    ttcp_src_fini(&sd->src, sd->trans ? &sd->mem : &heap);
    ttcp_sink_fini(&sd->sink, &sd->mem);
}

static void side_fini(struct side *sd)
{
    side_free_bufs(sd);
    pthread_mutex_destroy(&sd->mu);
    pthread_cond_destroy(&sd->cv);
}

#ifndef TTCP_HOST
static struct lyra_stack *volatile stacks[2];

static void *receiver_thread(void *arg)
{
    receive(arg);
    return NULL;
}
#endif

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
#ifndef TTCP_HOST
    /* a blocked call does not end with EINTR: end it (ECANCELED) */
    for (int i = 0; i < 2; i++)
        if (stacks[i])
            lyra_stack_stop(stacks[i]);
#endif
}

int main(int argc, char **argv)
{
    struct ttcp_opts o;
    ttcp_opts_init(&o);
#ifdef TTCP_HOST
    int with_stacks = 0;
#else
    int with_stacks = 1;
#endif
    int pr = ttcp_parse_args(argc, argv, &o, with_stacks, stderr);
    if (pr) {
        ttcp_usage(pr == 2 ? stdout : stderr, TOOL, with_stacks);
        return pr == 2 ? 0 : 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    struct side me;
    int status;
#ifdef TTCP_HOST
    signal(SIGPIPE, SIG_IGN);
    side_init(&me, &o, NULL, o.trans);
    if (side_bufs(&me)) {
        side_fini(&me);
        return 2;
    }
    if (o.trans)
        transmit(&me);
    else
        receive(&me);
    status = me.status;
    side_fini(&me);
#else
    struct tool_stack st = {.a = o.so.st}, peer = {.a = o.so.peer};
    struct side peer_side;
    pthread_t rt;
    int have_rt = 0, have_peer = 0;
    side_init(&me, &o, NULL, o.trans);
    status = 0;
    if (peer.a.manifest)
        status = tool_stack_up(TOOL, &peer, NULL);
    if (!status)
        status = tool_stack_up(TOOL, &st, NULL);
    if (!status) {
        tool_stacks_name_apart(&st, &peer);
        stacks[0] = st.s;
        stacks[1] = peer.s;
        me.net = st.s;
        if (side_bufs(&me))
            status = 2;
        if (!status && peer.s) { /* the peer receives on a thread; wait until it listens */
            side_init(&peer_side, &o, peer.s, 0);
            have_peer = 1;
            if (side_bufs(&peer_side) || pthread_create(&rt, NULL, receiver_thread, &peer_side)) {
                status = 2;
            } else {
                have_rt = 1;
                pthread_mutex_lock(&peer_side.mu);
                while (!peer_side.ready)
                    pthread_cond_wait(&peer_side.cv, &peer_side.mu);
                pthread_mutex_unlock(&peer_side.mu);
            }
        }
    }
    if (!status) {
        if (o.trans)
            transmit(&me);
        else
            receive(&me);
        status = me.status;
    }
    if (have_rt && status) {
        /* this side failed (a connect that found no route, say): the
         * peer may wait for a connection or data that will never come */
        atomic_store(&peer_side.abandoned, 1);
        lyra_stack_stop(peer.s);
    }
    if (have_rt) {
        pthread_join(rt, NULL);
        if (!status)
            status = peer_side.status;
    }
    stacks[0] = stacks[1] = NULL;
    /* packet memory goes back while its stack is still there */
    side_free_bufs(&me);
    if (have_peer)
        side_free_bufs(&peer_side);
    struct tool_stack *both[2] = {&st, &peer};
    int fr = tool_stacks_finish(TOOL, both, 2, &o.so);
    side_fini(&me);
    if (have_peer)
        side_fini(&peer_side);
    if (!status)
        status = fr;
#endif
    return interrupted && !status ? 1 : status;
}
