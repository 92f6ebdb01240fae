/* A SYN flood between two stacks over the in-process wire (issue 11.2):
 * 10,000 spoofed SYNs (random sources in 192.0.2.0/24, random ports,
 * never completed) to a listening port of copy-dma, while copy-pio's
 * established connections go on echoing and its new connections still
 * complete, through SYN cookies, since the listener's SYN queue is full of
 * the flood's half-open connections.
 *
 * The stacks are not on one wire: each has a wire of its own whose other
 * end is this test (a remote end B, as another process would join: an
 * AF_UNIX SOCK_SEQPACKET socket, one message per frame; link_wire.c). A
 * bridge thread relays frames between the two wires, injects the flood
 * into the server's, answers the server's ARP requests for the spoofed
 * addresses (as if those hosts, or a router, were there: every SYN-ACK
 * then goes out and is counted) and drops what goes to them. The flood is
 * paced (FLOOD_BURST SYNs every FLOOD_GAP_MS), so the application's rounds
 * run during it; within a burst the wire's backpressure paces it. */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "lyra/socket.h"
#include "lyra/stack.h"

#define FLOOD 10000
#define FLOOD_BURST 50
#define FLOOD_GAP_MS 4
#define PORT 5001
#define BACKLOG 16
#define N_EST 4 /* connections established before the flood */
#define MSG 64

#define SERVER_IP 0xc0000203u /* copy-dma */
#define CLIENT_IP 0xc0000202u /* copy-pio */
static const uint8_t SERVER_MAC[6] = {2, 0, 0, 0, 0, 3};
static const uint8_t CLIENT_MAC[6] = {2, 0, 0, 0, 0, 2};
static const uint8_t BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
/* a spoofed host's MAC: 02:00:00:00:ee:<last byte of its address> */
static const uint8_t SPOOF_MAC[5] = {2, 0, 0, 0, 0xee};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ----- the stacks -------------------------------------------------------------- */

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

static void node_up(struct node *nd, const char *manifest, const char *wire, const char *extra)
{
    const char *src = getenv("LYRA_SOURCE_DIR");
    cr_assert(src, "LYRA_SOURCE_DIR is not set (run through ctest)");
    char path[1024];
    snprintf(path, sizeof(path), "%s/assemblies/%s", src, manifest);
    snprintf(nd->link, sizeof(nd->link), "dev.link=wire:%s", wire);
    const char *ov[] = {nd->link, "os.seed=11", extra, NULL};
    cr_assert_eq(lyra_stack_load(path, ov, &nd->s), 0, "cannot load %s", manifest);
    lyra_stack_set_name(nd->s, manifest);
    cr_assert_eq(lyra_stack_start(nd->s), 0, "cannot start %s", manifest);
    cr_assert_eq(pthread_create(&nd->t, NULL, loop_thread, nd->s), 0);
}

static void node_halt(struct node *nd)
{
    lyra_stack_stop(nd->s);
    pthread_join(nd->t, NULL);
}

static uint64_t ctr(struct node *nd, const char *inst, const char *name)
{
    uint64_t v = lyra_stack_counter(nd->s, inst, name);
    cr_assert_neq(v, UINT64_MAX, "no counter %s.%s", inst, name);
    return v;
}

/* ----- the other end of a stack's wire --------------------------------------------- */

static socklen_t wire_addr(struct sockaddr_un *a, const char *name, int claim)
{
    memset(a, 0, sizeof(*a));
    a->sun_family = AF_UNIX;
    int n = snprintf(a->sun_path + 1, sizeof(a->sun_path) - 1, "lyra-wire-%s%s", name,
                     claim ? ".b" : "");
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

/* Joins wire `name` (its end A, the stack, already open) as end B. */
static int wire_join(const char *name)
{
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    cr_assert_geq(fd, 0);
    struct sockaddr_un a;
    socklen_t len = wire_addr(&a, name, 1);
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, len), 0, "claim %s: %s", name, strerror(errno));
    len = wire_addr(&a, name, 0);
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, len), 0, "join %s: %s", name, strerror(errno));
    int sz = 1 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
    return fd;
}

/* ----- frames ---------------------------------------------------------------------- */

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t csum(uint32_t sum, const uint8_t *p, size_t n)
{
    for (size_t k = 0; k + 1 < n; k += 2)
        sum += (uint32_t)(p[k] << 8 | p[k + 1]);
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static uint32_t xorshift(uint32_t *x)
{
    *x ^= *x << 13, *x ^= *x >> 17, *x ^= *x << 5;
    return *x;
}

/* A spoofed SYN to the server: 192.0.2.10-250, any port, any ISN, MSS
 * 1460. 60 bytes (Ethernet's minimum). */
static size_t spoofed_syn(uint8_t *f, uint32_t *rnd)
{
    memset(f, 0, 60);
    uint32_t src = 0xc0000200u | (10 + xorshift(rnd) % 241);
    memcpy(f, SERVER_MAC, 6);
    memcpy(f + 6, SPOOF_MAC, 5);
    f[11] = (uint8_t)src;
    put16(f + 12, 0x0800);
    uint8_t *ip = f + 14, *tcp = ip + 20;
    ip[0] = 0x45;
    put16(ip + 2, 44);
    put16(ip + 4, (uint16_t)xorshift(rnd));
    put16(ip + 6, 0x4000);
    ip[8] = 64;
    ip[9] = 6;
    put32(ip + 12, src);
    put32(ip + 16, SERVER_IP);
    put16(ip + 10, csum(0, ip, 20));
    put16(tcp, (uint16_t)(1024 + xorshift(rnd) % 64000));
    put16(tcp + 2, PORT);
    put32(tcp + 4, xorshift(rnd));
    tcp[12] = 6 << 4;
    tcp[13] = 0x02; /* SYN */
    put16(tcp + 14, 65535);
    tcp[20] = 2, tcp[21] = 4;
    put16(tcp + 22, 1460);
    uint32_t ps = (src >> 16) + (src & 0xffff) + (SERVER_IP >> 16) + (SERVER_IP & 0xffff) + 6 + 24;
    put16(tcp + 16, csum(ps, tcp, 24));
    return 60;
}

/* The server asks for a spoofed host's MAC: the reply, in r. */
static size_t arp_reply(const uint8_t *q, size_t n, uint8_t *r)
{
    if (n < 42 || q[12] != 0x08 || q[13] != 0x06 || q[20] != 0 || q[21] != 1)
        return 0;
    uint32_t tip = get32(q + 38);
    if ((tip & 0xffffff00u) != 0xc0000200u || tip == SERVER_IP || tip == CLIENT_IP)
        return 0;
    memset(r, 0, 60);
    memcpy(r, q + 6, 6);
    memcpy(r + 6, SPOOF_MAC, 5);
    r[11] = (uint8_t)tip;
    put16(r + 12, 0x0806);
    memcpy(r + 14, q + 14, 6); /* hardware and protocol types and sizes */
    put16(r + 20, 2);          /* reply */
    memcpy(r + 22, r + 6, 6);
    put32(r + 28, tip);
    memcpy(r + 32, q + 22, 10); /* the asker's MAC and address */
    return 60;
}

/* ----- the bridge ------------------------------------------------------------------ */

struct bridge {
    int fd[2]; /* 0: the server's wire, 1: the client's */
    pthread_t t;
    atomic_int stop, flooding, flood_done;
    unsigned sent;
    uint32_t rnd;
    uint64_t synacks, arp_answered, fwd[2];
    double t_start, t_end;
};

static void xmit(int fd, const uint8_t *f, size_t n)
{
    while (send(fd, f, n, MSG_NOSIGNAL) < 0) {
        if (errno != EINTR && errno != EAGAIN && errno != ENOBUFS) {
            fprintf(stderr, "tcp_flood: bridge send: %s\n", strerror(errno));
            abort(); /* not cr_assert: this is the bridge's thread */
        }
    }
}

static void relay(struct bridge *b, int from)
{
    uint8_t f[2048], r[60];
    for (;;) {
        ssize_t n = recv(b->fd[from], f, sizeof(f), MSG_DONTWAIT);
        if (n <= 0)
            return;
        if (from == 0 && !memcmp(f, SPOOF_MAC, 5)) {
            /* to a spoofed host: the SYN-ACKs of the flood */
            if (n >= 14 + 20 + 20 && f[12] == 0x08 && f[23] == 6 && (f[14 + 20 + 13] & 0x12) == 0x12)
                b->synacks++;
            continue;
        }
        if (from == 0 && !memcmp(f, BCAST, 6)) {
            size_t rn = arp_reply(f, (size_t)n, r);
            if (rn) {
                xmit(b->fd[0], r, rn);
                b->arp_answered++;
                continue;
            }
        }
        const uint8_t *to = from == 0 ? CLIENT_MAC : SERVER_MAC;
        if (memcmp(f, to, 6) && memcmp(f, BCAST, 6))
            continue;
        xmit(b->fd[1 - from], f, (size_t)n);
        b->fwd[from]++;
    }
}

static void *bridge_thread(void *arg)
{
    struct bridge *b = arg;
    double next = 0;
    while (!atomic_load(&b->stop)) {
        struct pollfd p[2] = {{b->fd[0], POLLIN, 0}, {b->fd[1], POLLIN, 0}};
        poll(p, 2, 1);
        relay(b, 0);
        relay(b, 1);
        if (atomic_load(&b->flooding) && b->sent < FLOOD && now_s() >= next) {
            if (!b->sent)
                b->t_start = now_s();
            uint8_t f[60];
            for (unsigned k = 0; k < FLOOD_BURST && b->sent < FLOOD; k++, b->sent++)
                xmit(b->fd[0], f, spoofed_syn(f, &b->rnd));
            next = now_s() + FLOOD_GAP_MS / 1000.0;
            if (b->sent == FLOOD) {
                b->t_end = now_s();
                atomic_store(&b->flood_done, 1);
            }
        }
    }
    return NULL;
}

/* ----- the application ----------------------------------------------------------------- */

static struct sockaddr_in sin4(uint32_t addr, uint16_t port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(addr);
    return a;
}

static void timeouts(struct lyra_stack *s, int fd)
{
    struct timeval tv = {5, 0};
    cr_assert_eq(lyra_setsockopt(s, fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
    cr_assert_eq(lyra_setsockopt(s, fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
}

struct pair {
    int c, s; /* the client's end, the server's */
};

/* A new connection from the client, accepted by the server. */
static struct pair pair_open(struct node *cli, struct node *srv, int l)
{
    struct pair p;
    p.c = lyra_socket(cli->s, AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(p.c, 0);
    timeouts(cli->s, p.c);
    struct sockaddr_in to = sin4(SERVER_IP, PORT);
    cr_assert_eq(lyra_connect(cli->s, p.c, (struct sockaddr *)&to, sizeof(to)), 0, "connect: %s",
                 strerror(errno));
    p.s = lyra_accept(srv->s, l, NULL, NULL);
    cr_assert_geq(p.s, 0, "accept: %s", strerror(errno));
    timeouts(srv->s, p.s);
    return p;
}

static void read_all(struct lyra_stack *s, int fd, uint8_t *b, size_t n, const char *what)
{
    for (size_t got = 0; got < n;) {
        ssize_t r = lyra_recv(s, fd, b + got, n - got, 0);
        cr_assert_gt(r, 0, "%s: recv %zd (%s) after %zu of %zu bytes", what, r,
                     r < 0 ? strerror(errno) : "end", got, n);
        got += (size_t)r;
    }
}

/* A message from the client, echoed by the server, checked byte for
 * byte; returns the seconds it took. */
static double echo(struct node *cli, struct node *srv, const struct pair *p, uint32_t tag)
{
    double t0 = now_s();
    uint8_t m[MSG], back[MSG];
    for (unsigned k = 0; k < MSG; k++)
        m[k] = (uint8_t)(tag * 31u + k);
    cr_assert_eq(lyra_send(cli->s, p->c, m, MSG, 0), MSG, "send: %s", strerror(errno));
    read_all(srv->s, p->s, back, MSG, "server");
    cr_assert_eq(lyra_send(srv->s, p->s, back, MSG, 0), MSG);
    read_all(cli->s, p->c, back, MSG, "client");
    cr_assert_eq(memcmp(m, back, MSG), 0, "echo %u not byte-exact", tag);
    return now_s() - t0;
}

static void pair_close(struct node *cli, struct node *srv, const struct pair *p)
{
    cr_assert_eq(lyra_close(cli->s, p->c), 0);
    cr_assert_eq(lyra_close(srv->s, p->s), 0);
}

Test(tcp_flood, ten_thousand_spoofed_syns_leave_connections_working, .timeout = 120)
{
    char ws[64], wc[64];
    snprintf(ws, sizeof(ws), "tcpf%d-s", (int)getpid());
    snprintf(wc, sizeof(wc), "tcpf%d-c", (int)getpid());
    struct node srv, cli;
    /* the server's ARP table holds every spoofed host, as the one entry of
     * a router would for spoofed sources off the link: each SYN-ACK goes
     * out (with 32 entries for 241 hosts, ARP churn drops most of them) */
    node_up(&srv, "copy-dma.lyra", ws, "eth.arp_entries=256");
    node_up(&cli, "copy-pio.lyra", wc, NULL);
    struct bridge b;
    memset(&b, 0, sizeof(b));
    b.rnd = 2463534242u;
    b.fd[0] = wire_join(ws);
    b.fd[1] = wire_join(wc);
    cr_assert_eq(pthread_create(&b.t, NULL, bridge_thread, &b), 0);

    int l = lyra_socket(srv.s, AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in any = sin4(0, PORT);
    cr_assert_eq(lyra_bind(srv.s, l, (struct sockaddr *)&any, sizeof(any)), 0);
    cr_assert_eq(lyra_listen(srv.s, l, BACKLOG), 0);
    timeouts(srv.s, l);
    struct pair est[N_EST];
    for (unsigned k = 0; k < N_EST; k++) {
        est[k] = pair_open(&cli, &srv, l);
        echo(&cli, &srv, &est[k], k);
    }

    /* the flood; meanwhile, rounds: an echo on every established
     * connection and a new connection that echoes and closes */
    atomic_store(&b.flooding, 1);
    unsigned rounds = 0, fresh = 0;
    double worst = 0;
    while (!atomic_load(&b.flood_done) || rounds < 3) {
        for (unsigned k = 0; k < N_EST; k++) {
            double t = echo(&cli, &srv, &est[k], 100 + rounds * N_EST + k);
            worst = t > worst ? t : worst;
        }
        struct pair p = pair_open(&cli, &srv, l);
        echo(&cli, &srv, &p, 7);
        pair_close(&cli, &srv, &p);
        fresh++;
        rounds++;
    }
    for (unsigned k = 0; k < N_EST; k++) {
        echo(&cli, &srv, &est[k], 9000 + k);
        pair_close(&cli, &srv, &est[k]);
    }
    cr_assert_eq(lyra_close(srv.s, l), 0);
    usleep(100000); /* the last FINs and ACKs cross the bridge */
    atomic_store(&b.stop, 1);
    pthread_join(b.t, NULL);
    node_halt(&srv);
    node_halt(&cli);

    uint64_t sent = ctr(&srv, "tcp", "syncookies_sent"), ok = ctr(&srv, "tcp", "syncookies_ok");
    uint64_t failed = ctr(&srv, "tcp", "syncookies_failed");
    fprintf(stderr,
            "tcp_flood: %u SYNs in %.3f s; %u rounds, %u new connections, slowest echo %.1f ms; "
            "server: syncookies_sent %llu ok %llu failed %llu, syn_backlog_drops %llu, "
            "syn_no_mem %llu, tw_reclaimed %llu, tx_nobuf %llu, rto_expiries %llu; bridge: %llu SYN-ACKs to spoofed hosts, %llu ARP answers\n",
            b.sent, b.t_end - b.t_start, rounds, fresh, worst * 1000, (unsigned long long)sent,
            (unsigned long long)ok, (unsigned long long)failed,
            (unsigned long long)ctr(&srv, "tcp", "syn_backlog_drops"),
            (unsigned long long)ctr(&srv, "tcp", "syn_no_mem"),
            (unsigned long long)ctr(&srv, "tcp", "tw_reclaimed"),
            (unsigned long long)ctr(&srv, "tcp", "tx_nobuf"),
            (unsigned long long)ctr(&srv, "tcp", "rto_expiries"), (unsigned long long)b.synacks,
            (unsigned long long)b.arp_answered);
    if (getenv("TCP_FLOOD_STATS"))
        lyra_stack_stats_print(srv.s, stderr);
    cr_assert_eq(b.sent, FLOOD);
    /* every SYN beyond the SYN queue's BACKLOG got a cookie, and the new
     * connections' SYNs too (the queue stays full of the flood's); those
     * the NIC had no room for (its receive ring full) never got to tcp */
    uint64_t missed = ctr(&srv, "nic", "rx_missed");
    cr_assert_lt(missed, FLOOD / 10);
    cr_assert_geq(sent + missed, FLOOD - BACKLOG + fresh);
    cr_assert_geq(ok, fresh, "new connections not made by their cookies");
    cr_assert_eq(failed, 0);
    cr_assert_geq(b.synacks, (FLOOD - BACKLOG) * 9 / 10, "the cookies' SYN-ACKs went out");
    /* nothing held: every skb back, but nic_dma's receive ring's and the
     * frames eth holds for an ARP answer still to come (a SYN-ACK sent
     * again to a spoofed host of the SYN queue, when the run took longer
     * than its timer: under ASan on a loaded machine) */
    uint64_t arp = ctr(&srv, "eth", "arp_pending");
    uint64_t held = ctr(&srv, "skb", "in_use") - ctr(&srv, "nic", "rx_posted") - arp;
    cr_assert_eq(held, 0, "server: %llu skbs in use (besides %llu waiting for ARP)",
                 (unsigned long long)held, (unsigned long long)arp);
    cr_assert_eq(ctr(&cli, "skb", "in_use"), 0);
    close(b.fd[0]);
    close(b.fd[1]);
    lyra_stack_destroy(srv.s);
    lyra_stack_destroy(cli.s);
}
