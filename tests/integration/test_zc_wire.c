/* Zero copy between two stacks over the in-process wire (issue 12): TCP
 * from packet memory (lyra_pkt_alloc) on zc-pio, zc-dma and against the
 * copy stacks, byte-exact, while the sender rewrites every buffer right
 * after each send (copy on write must keep the bytes of send time on the
 * wire); odd lengths at odd offsets, so referenced pieces cross pages.
 * The counters must show the payload referenced, not copied, on a zc
 * sender, and remapped on a zc receiver reading whole segments into packet
 * memory at their in-page offset; the receiver peeks now and then. Twice
 * more under loss, reordering, duplication and corruption (retransmitted
 * referenced payload). After each: no skb, descriptor or page reference
 * left. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "lyra/socket.h"
#include "lyra/stack.h"

#define PORT 5009
#define BYTES (4u << 20)
#define PAGE 4096u
#define PAYLOAD_OFF 68u /* rx_headroom 2 + Ethernet, IPv4, TCP with timestamps */

static const char *env(const char *n)
{
    const char *s = getenv(n);
    cr_assert(s, "%s is not set (run through ctest)", n);
    return s;
}

struct node {
    struct lyra_stack *s;
    pthread_t t;
    char link[64], seed[32];
};

/* Impairment of what each device sends, on both stacks (the retransmission
 * of referenced payload: clones of skbs holding page references, cut at
 * partial ACKs), with tcp's timers shortened as test_tcp_wire's lossy
 * cases do. */
static const char *const IMPAIRED[] = {"dev.loss=3%", "dev.reorder=2%", "dev.dup=1%",
                                       "dev.corrupt=0.5%", "tcp.rto_min_ms=20",
                                       "tcp.delack_ms=10", NULL};

static void *loop_thread(void *arg)
{
    lyra_stack_run(arg);
    return NULL;
}

static void node_up(struct node *nd, const char *manifest, const char *addr, const char *mac,
                    const char *const *more, int seed)
{
    snprintf(nd->link, sizeof(nd->link), "dev.link=wire:zcw%d", (int)getpid());
    snprintf(nd->seed, sizeof(nd->seed), "os.seed=%d", seed);
    const char *ov[16] = {nd->link, addr, mac, nd->seed};
    unsigned n = 4;
    for (; more && *more && n < 15; more++)
        ov[n++] = *more;
    ov[n] = NULL;
    char path[1024];
    snprintf(path, sizeof(path), "%s/assemblies/%s", env("LYRA_SOURCE_DIR"), manifest);
    cr_assert_eq(lyra_stack_load(path, ov, &nd->s), 0, "cannot load %s", manifest);
    lyra_stack_set_name(nd->s, manifest);
    cr_assert_eq(lyra_stack_start(nd->s), 0);
    cr_assert_eq(pthread_create(&nd->t, NULL, loop_thread, nd->s), 0);
}

static void node_halt(struct node *nd)
{
    lyra_stack_stop(nd->s);
    pthread_join(nd->t, NULL);
}

static uint64_t ctr(struct node *nd, const char *name)
{
    uint64_t v = lyra_stack_counter(nd->s, "skb", name);
    cr_assert_neq(v, UINT64_MAX, "no counter skb.%s", name);
    return v;
}

/* After the loops stopped: every skb and descriptor back (but the receive
 * buffers nic_dma keeps posted), and on skb_zc every page reference gone
 * (all bounce pages free). */
static void leak_check(struct node *nd)
{
    const char *nm = lyra_stack_name(nd->s);
    uint64_t in_use = ctr(nd, "in_use");
    uint64_t posted = lyra_stack_counter(nd->s, "nic", "rx_posted");
    if (posted != UINT64_MAX)
        in_use -= posted;
    cr_expect_eq(in_use, 0, "%s: %llu skbs in use", nm, (unsigned long long)in_use);
    cr_expect_eq(ctr(nd, "segs_in_use"), 0, "%s: descriptors in use", nm);
    cr_expect_eq(ctr(nd, "bad_free"), 0, "%s: bad frees", nm);
    uint64_t cow = lyra_stack_counter(nd->s, "skb", "cow_pages_free");
    if (cow != UINT64_MAX)
        cr_expect_eq(cow, 256, "%s: page references left", nm);
}

static uint8_t pat(uint64_t i)
{
    return (uint8_t)(i * 2654435761u >> 13 ^ i >> 7);
}

struct rx {
    struct node *nd;
    int lfd;
    uint64_t got, bad_at;
    int bad;
};

/* Reads into packet memory at the payload offset of each page, a segment
 * or a page's worth at a time (a whole segment first: remapped on skb_zc),
 * peeking now and then. */
static void *rx_thread(void *arg)
{
    struct rx *r = arg;
    struct lyra_stack *s = r->nd->s;
    int fd = lyra_accept(s, r->lfd, NULL, NULL);
    cr_assert_geq(fd, 0, "accept: %s", strerror(errno));
    enum { SLOTS = 8 };
    uint8_t *buf = lyra_pkt_alloc(s, SLOTS * PAGE);
    cr_assert_not_null(buf);
    uint8_t *base = buf - ((uintptr_t)buf % PAGE) + PAYLOAD_OFF; /* = buf on skb_zc */
    if (base < buf)
        base += PAGE;
    for (unsigned k = 0;; k++) {
        uint8_t *dst = base + (size_t)(k % (SLOTS - 1)) * PAGE;
        if (k % 16 == 5) {
            /* a peek into packet memory must leave the bytes queued (tcp
             * holds a reference over it, so skb_zc copies, not remaps) */
            long n = lyra_recv(s, fd, dst, 1448, MSG_PEEK);
            cr_assert_geq(n, 0, "peek: %s", strerror(errno));
            for (long i = 0; i < n && !r->bad; i++)
                if (dst[i] != pat(r->got + (uint64_t)i)) {
                    r->bad = 1;
                    r->bad_at = r->got + (uint64_t)i;
                }
            memset(dst, 0, (size_t)n);
        }
        long n = lyra_recv(s, fd, dst, k % 2 ? 1448 : PAGE - PAYLOAD_OFF, 0);
        cr_assert_geq(n, 0, "recv: %s", strerror(errno));
        if (n == 0)
            break;
        for (long i = 0; i < n && !r->bad; i++)
            if (dst[i] != pat(r->got + (uint64_t)i)) {
                r->bad = 1;
                r->bad_at = r->got + (uint64_t)i;
            }
        r->got += (uint64_t)n;
    }
    lyra_close(s, fd);
    lyra_pkt_free(s, buf);
    return NULL;
}

/* Sends BYTES from packet memory in pieces of odd sizes at odd offsets,
 * overwriting each piece as soon as send returns. Each piece starts on a
 * page of its own (a page written since a send that still references it is
 * copied by the next send: fallback_tx_cow_pending), and the buffer is
 * larger than what the stack holds, so pieces are referenced. */
static void send_all(struct lyra_stack *s, int fd)
{
    enum { BUF = 256 * PAGE };
    uint8_t *buf = lyra_pkt_alloc(s, BUF);
    cr_assert_not_null(buf);
    uint64_t off = 0;
    size_t at = 0;
    for (unsigned k = 0; off < BYTES; k++) {
        size_t n = 1000 + (k * 773) % 5000;
        if (n > BYTES - off)
            n = BYTES - off;
        at = (at + PAGE - 1) / PAGE * PAGE + (k * 37) % 101;
        if (at + n > BUF)
            at = (k * 37) % 101;
        for (size_t i = 0; i < n; i++)
            buf[at + i] = pat(off + i);
        size_t done = 0;
        while (done < n) {
            long w = lyra_send(s, fd, buf + at + done, n - done, 0);
            cr_assert_gt(w, 0, "send: %s", strerror(errno));
            done += (size_t)w;
        }
        memset(buf + at, 0xCC, n); /* right after the send: the wire keeps the old bytes */
        off += n;
        at += n;
    }
    lyra_pkt_free(s, buf);
}

static void transfer_ov(const char *from, const char *to, int zc_from, int zc_to,
                        const char *const *ov)
{
    struct node a, b;
    node_up(&a, from, "ip.addr=192.0.2.10/24", "dev.mac=02:00:00:00:00:10", ov, 1);
    node_up(&b, to, "ip.addr=192.0.2.11/24", "dev.mac=02:00:00:00:00:11", ov, 2);
    int lfd = lyra_socket(b.s, AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(PORT)};
    inet_pton(AF_INET, "192.0.2.11", &sa.sin_addr);
    cr_assert_eq(lyra_bind(b.s, lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    cr_assert_eq(lyra_listen(b.s, lfd, 1), 0);
    struct rx r = {.nd = &b, .lfd = lfd};
    pthread_t rt;
    pthread_create(&rt, NULL, rx_thread, &r);
    int fd = lyra_socket(a.s, AF_INET, SOCK_STREAM, 0);
    cr_assert_eq(lyra_connect(a.s, fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "connect: %s",
                 strerror(errno));
    send_all(a.s, fd);
    lyra_shutdown(a.s, fd, SHUT_WR);
    pthread_join(rt, NULL);
    lyra_close(a.s, fd);
    lyra_close(b.s, lfd);
    usleep(200000); /* the last ACKs and FINs */
    node_halt(&a);
    node_halt(&b);
    cr_expect_eq(r.bad, 0, "%s -> %s: wrong byte at %llu", from, to, (unsigned long long)r.bad_at);
    cr_expect_eq(r.got, BYTES, "%s -> %s: %llu bytes arrived", from, to,
                 (unsigned long long)r.got);
    uint64_t ref = ctr(&a, "tx_referenced_bytes"), cop = ctr(&a, "tx_copied_bytes");
    uint64_t rem = ctr(&b, "rx_remapped_bytes"), rcop = ctr(&b, "rx_copied_bytes");
    fprintf(stderr, "%s -> %s%s: sender referenced %llu copied %llu cow_faults %llu "
            "retransmitted %llu segments; receiver remapped %llu copied %llu\n", from, to,
            ov ? " (impaired)" : "", (unsigned long long)ref, (unsigned long long)cop,
            (unsigned long long)ctr(&a, "cow_faults"),
            (unsigned long long)lyra_stack_counter(a.s, "tcp", "tx_retrans_segs"),
            (unsigned long long)rem, (unsigned long long)rcop);
    if (getenv("ZC_WIRE_DUMP")) {
        fprintf(stderr, "== %s ==\n", to);
        lyra_stack_stats_print(b.s, stderr);
    }
    if (zc_from && ref < BYTES * 9 / 10) {
        fprintf(stderr, "== %s ==\n", from);
        lyra_stack_stats_print(a.s, stderr);
    }
    if (zc_from) {
        cr_expect_gt(ref, BYTES * 9 / 10, "%s: payload referenced", from);
        cr_expect_lt(cop, BYTES / 10, "%s: little copied", from);
        cr_expect_gt(ctr(&a, "cow_faults"), 0, "%s: rewritten while referenced", from);
    } else {
        cr_expect_eq(ref, 0);
    }
    if (zc_to)
        cr_expect_gt(rem, 0, "%s: whole segments remapped", to);
    else
        cr_expect_eq(rem, 0);
    leak_check(&a);
    leak_check(&b);
    lyra_stack_destroy(a.s);
    lyra_stack_destroy(b.s);
}

static void transfer(const char *from, const char *to, int zc_from, int zc_to)
{
    transfer_ov(from, to, zc_from, zc_to, NULL);
}

Test(zc_wire, pio_to_dma, .timeout = 120)
{
    transfer("zc-pio.lyra", "zc-dma.lyra", 1, 1);
}

Test(zc_wire, dma_to_pio, .timeout = 120)
{
    transfer("zc-dma.lyra", "zc-pio.lyra", 1, 1);
}

Test(zc_wire, zc_to_copy, .timeout = 120)
{
    transfer("zc-dma.lyra", "copy-pio.lyra", 1, 0);
}

Test(zc_wire, copy_to_zc, .timeout = 120)
{
    transfer("copy-dma.lyra", "zc-pio.lyra", 0, 1);
}

Test(zc_wire, impaired_pio_to_dma, .timeout = 200)
{
    transfer_ov("zc-pio.lyra", "zc-dma.lyra", 1, 1, IMPAIRED);
}

Test(zc_wire, impaired_dma_to_pio, .timeout = 200)
{
    transfer_ov("zc-dma.lyra", "zc-pio.lyra", 1, 1, IMPAIRED);
}
