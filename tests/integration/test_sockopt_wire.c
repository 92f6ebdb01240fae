/* Socket options on real transports (issue 10.3): the udp and icmp echo
 * sockets of copy-pio have no TCP option and say ENOPROTOOPT, as Linux's
 * UDP does; a TCP connection between copy-pio and copy-dma over the
 * in-process wire reports itself through TCP_INFO (struct lyra_tcp_info:
 * ESTABLISHED, an RTO) and TCP_CONGESTION ("newreno"). Wire names carry
 * the PID. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "lyra/socket.h"
#include "lyra/stack.h"

struct node {
    struct lyra_stack *s;
    pthread_t t;
    char link[64];
};

static void *loop_thread(void *arg)
{
    lyra_stack_run(arg);
    return NULL;
}

/* extra: one more override (NULL: none) */
static void node_up_with(struct node *nd, const char *manifest, const char *addr,
                         const char *extra)
{
    const char *src = getenv("LYRA_SOURCE_DIR");
    cr_assert(src, "LYRA_SOURCE_DIR is not set (run through ctest)");
    char path[1024], ip[64];
    snprintf(path, sizeof(path), "%s/assemblies/%s", src, manifest);
    snprintf(nd->link, sizeof(nd->link), "dev.link=wire:sockopt%d", (int)getpid());
    snprintf(ip, sizeof(ip), "ip.addr=%s/24", addr);
    const char *ov[] = {nd->link, ip, "os.seed=7", extra, NULL};
    cr_assert_eq(lyra_stack_load(path, ov, &nd->s), 0, "cannot load %s", manifest);
    cr_assert_eq(lyra_stack_start(nd->s), 0, "cannot start %s", manifest);
    cr_assert_eq(pthread_create(&nd->t, NULL, loop_thread, nd->s), 0);
}

static void node_up(struct node *nd, const char *manifest, const char *addr)
{
    node_up_with(nd, manifest, addr, NULL);
}

static void node_down(struct node *nd)
{
    lyra_stack_stop(nd->s);
    pthread_join(nd->t, NULL);
    lyra_stack_destroy(nd->s);
}

static void expect_noprotoopt(int r, const char *what)
{
    cr_assert_eq(r, -1, "%s: %d, not -1", what, r);
    cr_assert_eq(errno, ENOPROTOOPT, "%s: %s, not ENOPROTOOPT", what, strerror(errno));
}

/* Every TCP option on a datagram socket of protocol `proto`. */
static void no_tcp_options(struct lyra_stack *s, int proto, const char *what)
{
    int fd = lyra_socket(s, AF_INET, SOCK_DGRAM, proto);
    cr_assert_geq(fd, 0, "%s socket: %s", what, strerror(errno));
    static const int ints[] = {TCP_NODELAY, TCP_MAXSEG, TCP_KEEPIDLE, TCP_KEEPINTVL,
                               TCP_KEEPCNT, TCP_USER_TIMEOUT};
    for (unsigned i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        int v = 1;
        socklen_t l = sizeof(v);
        expect_noprotoopt(lyra_setsockopt(s, fd, IPPROTO_TCP, ints[i], &v, sizeof(v)), what);
        expect_noprotoopt(lyra_getsockopt(s, fd, IPPROTO_TCP, ints[i], &v, &l), what);
    }
    int one = 1;
    expect_noprotoopt(lyra_setsockopt(s, fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)), what);
    struct lyra_tcp_info ti;
    socklen_t l = sizeof(ti);
    expect_noprotoopt(lyra_getsockopt(s, fd, IPPROTO_TCP, TCP_INFO, &ti, &l), what);
    char name[16];
    l = sizeof(name);
    expect_noprotoopt(lyra_getsockopt(s, fd, IPPROTO_TCP, TCP_CONGESTION, name, &l), what);
    expect_noprotoopt(lyra_setsockopt(s, fd, IPPROTO_TCP, TCP_CONGESTION, "newreno", 8), what);
    cr_assert_eq(lyra_close(s, fd), 0);
}

Test(sockopt_wire, udp_and_icmp_sockets_have_no_tcp_options)
{
    struct node a;
    node_up(&a, "copy-pio.lyra", "192.0.2.2");
    no_tcp_options(a.s, 0, "udp");
    no_tcp_options(a.s, IPPROTO_ICMP, "icmp");
    node_down(&a);
}

static struct sockaddr_in sin4(const char *ip, uint16_t port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    cr_assert_eq(inet_pton(AF_INET, ip, &a.sin_addr), 1);
    return a;
}

/* A TCP socket of s listening on port (any address). */
static int listen_on(struct lyra_stack *s, uint16_t port)
{
    int l = lyra_socket(s, AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(l, 0, "socket: %s", strerror(errno));
    struct sockaddr_in any = sin4("0.0.0.0", port);
    cr_assert_eq(lyra_bind(s, l, (struct sockaddr *)&any, sizeof(any)), 0);
    cr_assert_eq(lyra_listen(s, l, 4), 0);
    return l;
}

/* What TCP_INFO and TCP_CONGESTION say about one end of a connection. */
static void check_established(struct lyra_stack *s, int fd, const char *what)
{
    struct lyra_tcp_info ti;
    memset(&ti, 0xee, sizeof(ti));
    socklen_t l = sizeof(ti);
    cr_assert_eq(lyra_getsockopt(s, fd, IPPROTO_TCP, TCP_INFO, &ti, &l), 0, "%s TCP_INFO: %s",
                 what, strerror(errno));
    cr_assert_eq(l, sizeof(ti), "%s: the whole struct", what);
    cr_assert_eq(ti.state, LYRA_TCPS_ESTABLISHED, "%s: state %u", what, ti.state);
    /* in us: tcp.rto_min_ms is 200 by default, rto_max_ms 60000 */
    cr_assert(ti.rto >= 200000 && ti.rto <= 60000000, "%s: rto %u us", what, ti.rto);
    int mss = 0;
    socklen_t ml = sizeof(mss);
    cr_assert_eq(lyra_getsockopt(s, fd, IPPROTO_TCP, TCP_MAXSEG, &mss, &ml), 0);
    cr_assert(mss > 0 && mss <= 1460, "%s: TCP_MAXSEG %d", what, mss);
    cr_assert_eq(ti.snd_mss, (uint32_t)mss, "%s: TCP_INFO and TCP_MAXSEG agree", what);
    cr_assert_str_eq(ti.congestion, "newreno", "%s", what);
    char name[32];
    memset(name, 'x', sizeof(name));
    l = sizeof(name);
    cr_assert_eq(lyra_getsockopt(s, fd, IPPROTO_TCP, TCP_CONGESTION, name, &l), 0,
                 "%s TCP_CONGESTION: %s", what, strerror(errno));
    cr_assert_eq(l, 16, "%s: Linux's TCP_CA_NAME_MAX bytes", what);
    cr_assert_str_eq(name, "newreno", "%s", what);
}

Test(sockopt_wire, a_connected_tcp_socket_reports_itself)
{
    struct node a, b;
    node_up(&a, "copy-pio.lyra", "192.0.2.2");
    node_up(&b, "copy-dma.lyra", "192.0.2.3");
    int l = listen_on(b.s, 5555);
    struct sockaddr_in to = sin4("192.0.2.3", 5555);
    int c = lyra_socket(a.s, AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(c, 0);
    struct timeval tv = {20, 0};
    cr_assert_eq(lyra_setsockopt(a.s, c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
    cr_assert_eq(lyra_setsockopt(b.s, l, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
    cr_assert_eq(lyra_connect(a.s, c, (struct sockaddr *)&to, sizeof(to)), 0, "connect: %s",
                 strerror(errno));
    int d = lyra_accept(b.s, l, NULL, NULL);
    cr_assert_geq(d, 0, "accept: %s", strerror(errno));
    check_established(a.s, c, "connecting end");
    check_established(b.s, d, "accepted end");
    /* a listener is no connection: state LISTEN */
    struct lyra_tcp_info ti;
    socklen_t tl = sizeof(ti);
    cr_assert_eq(lyra_getsockopt(b.s, l, IPPROTO_TCP, TCP_INFO, &ti, &tl), 0);
    cr_assert_eq(ti.state, LYRA_TCPS_LISTEN);
    cr_assert_eq(lyra_close(a.s, c), 0);
    cr_assert_eq(lyra_close(b.s, d), 0);
    cr_assert_eq(lyra_close(b.s, l), 0);
    node_down(&a);
    node_down(&b);
}


static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* SO_LINGER as Linux: close waits until what was sent and the FIN are
 * acknowledged, not for the peer to close. The peer here never reads nor
 * closes: close returns in well under the 5 s lingered (it waited the
 * whole 5 s before), with our side in FIN-WAIT-2, and the peer still gets
 * every byte and the end of the stream. When the peer's window is shut
 * (it never reads, far more was sent than it holds), nothing can be
 * acknowledged: close waits the linger time out. */
Test(sockopt_wire, so_linger_waits_for_the_fin_to_be_acknowledged, .timeout = 60)
{
    struct node a, b;
    node_up(&a, "copy-pio.lyra", "192.0.2.2");
    node_up(&b, "copy-dma.lyra", "192.0.2.3");
    int l = listen_on(b.s, 5556);
    struct sockaddr_in to = sin4("192.0.2.3", 5556);
    static char big[1 << 20];
    for (int shut = 0; shut <= 1; shut++) {
        int c = lyra_socket(a.s, AF_INET, SOCK_STREAM, 0);
        cr_assert_eq(lyra_connect(a.s, c, (struct sockaddr *)&to, sizeof(to)), 0, "connect: %s",
                     strerror(errno));
        int d = lyra_accept(b.s, l, NULL, NULL);
        cr_assert_geq(d, 0, "accept: %s", strerror(errno));
        cr_assert_eq(lyra_send(a.s, c, big, 1000, 0), 1000, "send: %s", strerror(errno));
        /* shut: fill the peer's receive buffer and our send buffer, until
         * nothing more is taken for 200 ms */
        for (int idle = 0; shut && idle < 10;) {
            if (lyra_send(a.s, c, big, sizeof(big), MSG_DONTWAIT) > 0) {
                idle = 0;
                continue;
            }
            cr_assert_eq(errno, EAGAIN, "send: %s", strerror(errno));
            idle++;
            usleep(20000);
        }
        struct linger lg = {1, shut ? 1 : 5};
        cr_assert_eq(lyra_setsockopt(a.s, c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
        double t0 = now_s();
        cr_assert_eq(lyra_close(a.s, c), 0);
        double took = now_s() - t0;
        if (!shut) {
            cr_expect_lt(took, 2.0, "close lingered %.2f s: it waited for the peer to close", took);
            char buf[2000];
            size_t got = 0;
            ssize_t r;
            struct timeval tv = {5, 0};
            cr_assert_eq(lyra_setsockopt(b.s, d, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
            while ((r = lyra_recv(b.s, d, buf, sizeof(buf), 0)) > 0)
                got += (size_t)r;
            cr_expect_eq(r, 0, "the end of the stream after the data (%s)", strerror(errno));
            cr_expect_eq(got, 1000);
        } else {
            cr_expect_geq(took, 0.9, "a shut window: close waits its linger time (%.2f s)", took);
            cr_expect_lt(took, 3.0, "but no longer (%.2f s)", took);
        }
        cr_assert_eq(lyra_close(b.s, d), 0);
    }
    cr_assert_eq(lyra_close(b.s, l), 0);
    node_down(&a);
    node_down(&b);
}

/* SO_LINGER's end as Linux's (tcp_close, sk_stream_closing), with 50 ms
 * each way, so that a wait for an ACK takes at least 100 ms:
 * - a socket that sends no FIN (a listener) closes at once;
 * - the peer closed first (we are in CLOSE-WAIT): close still waits for
 *   the ACK of our FIN, though poll says HUP at once (close returned at
 *   once, and a program that ended right after never sent its FIN);
 * - the same with a MSG_ZEROCOPY completion pending (POLLERR until read);
 * - unread received data makes close an abort (a RST): no FIN, no wait. */
enum { PEER_CLOSED, ZC_PENDING, UNREAD };

/* Polls fd until revents holds all of `want`, for up to 5 s: what a fixed
 * sleep assumed has arrived, waited for instead (a loaded CI machine under
 * ASan may take longer than the link's delay). */
static bool wait_revents(struct lyra_stack *s, int fd, short events, short want)
{
    double end = now_s() + 5.0;
    do {
        struct lyra_pollfd p = {.fd = fd, .events = events};
        if (lyra_poll(s, &p, 1, 20) == 1 && (p.revents & want) == want)
            return true;
        usleep(20000); /* POLLIN of the end of stream holds: no busy loop */
    } while (now_s() < end);
    return false;
}

Test(sockopt_wire, so_linger_ends_when_linux_ends_it, .timeout = 60)
{
    struct node a, b;
    node_up_with(&a, "copy-pio.lyra", "192.0.2.2", "dev.delay=50ms");
    node_up_with(&b, "copy-dma.lyra", "192.0.2.3", "dev.delay=50ms");
    struct linger lg = {1, 3};
    int l = listen_on(b.s, 5558);
    struct sockaddr_in to = sin4("192.0.2.3", 5558);

    int al = listen_on(a.s, 5559);
    cr_assert_eq(lyra_setsockopt(a.s, al, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
    double t0 = now_s();
    cr_assert_eq(lyra_close(a.s, al), 0);
    cr_expect_lt(now_s() - t0, 0.5, "a listener lingered %.2f s", now_s() - t0);

    for (int v = PEER_CLOSED; v <= UNREAD; v++) {
        int c = lyra_socket(a.s, AF_INET, SOCK_STREAM, 0);
        cr_assert_eq(lyra_connect(a.s, c, (struct sockaddr *)&to, sizeof(to)), 0, "connect: %s",
                     strerror(errno));
        int d = lyra_accept(b.s, l, NULL, NULL);
        cr_assert_geq(d, 0, "accept: %s", strerror(errno));
        char buf[64];
        if (v == ZC_PENDING) {
            int on = 1;
            cr_assert_eq(lyra_setsockopt(a.s, c, SOL_SOCKET, SO_ZEROCOPY, &on, sizeof(on)), 0);
            cr_assert_eq(lyra_send(a.s, c, "zero copy", 9, MSG_ZEROCOPY), 9);
            cr_assert_eq(lyra_recv(b.s, d, buf, sizeof(buf), 0), 9);
        }
        if (v == UNREAD)
            cr_assert_eq(lyra_send(b.s, d, "unread", 6, 0), 6);
        cr_assert_eq(lyra_close(b.s, d), 0, "the peer closes first");
        if (v == UNREAD) {
            /* the bytes and the FIN arrive; nobody reads them */
            cr_assert(wait_revents(a.s, c, POLLIN | POLLRDHUP, POLLIN | POLLRDHUP),
                      "the peer's data and FIN did not arrive in 5 s");
        } else {
            cr_assert_eq(lyra_recv(a.s, c, buf, sizeof(buf), 0), 0, "the end of the stream");
        }
        if (v == ZC_PENDING) /* the ACK of the data: its completion waits to be read */
            cr_assert(wait_revents(a.s, c, POLLIN, POLLERR), "no completion pending after 5 s");
        cr_assert_eq(lyra_setsockopt(a.s, c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
        uint64_t rst0 = lyra_stack_counter(a.s, "tcp", "rst_sent");
        t0 = now_s();
        cr_assert_eq(lyra_close(a.s, c), 0);
        double took = now_s() - t0;
        uint64_t rsts = lyra_stack_counter(a.s, "tcp", "rst_sent") - rst0;
        if (v == UNREAD) {
            /* an abort: a RST, no FIN to wait for (the time bound is only
             * that it did not linger: a starved thread may take a while) */
            cr_expect_eq(rsts, 1, "unread data: close sent %llu RSTs, not 1",
                         (unsigned long long)rsts);
            cr_expect_lt(took, 1.0, "unread data: close aborts at once, it took %.3f s", took);
        } else {
            cr_expect_eq(rsts, 0, "case %d: close sent a RST", v);
            cr_expect_geq(took, 0.1, "case %d: close returned after %.3f s, before our FIN "
                          "could be acknowledged", v, took);
            cr_expect_lt(took, 2.0, "case %d: close lingered %.2f s", v, took);
        }
    }
    cr_assert_eq(lyra_close(b.s, l), 0);
    node_down(&a);
    node_down(&b);
}
