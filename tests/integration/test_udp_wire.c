/* Two stacks over the in-process wire, no root needed: copy-pio (NE2000,
 * 192.0.2.2) and copy-dma (e1000, 192.0.2.3), each loaded with
 * lyra_stack_load and running its loop on a thread of its own
 * (lyra_stack_run), the test thread (and helper threads) using the public
 * socket API. Impairment (loss, reordering, duplication; loss on receive
 * only, dev.rx_loss) is seeded by os.seed on both sides. The ICMP and
 * port-unreachable cases also run on zc-pio with zc-dma and on the mixed
 * pairs, the reordering case on zc-pio with zc-dma (tests/support/lt_asm.h;
 * the loss and timing cases stay on the copy pair: CI's time budget).
 *
 * Counters are only read once the loop threads have been stopped and
 * joined (lyra_stack_stats takes no lock), before lyra_stack_destroy. Every
 * test ends with a leak check: with every descriptor closed and nothing
 * left in reassembly, skb in_use is 0 on both stacks (but for the buffers
 * posted on nic_dma's receive ring). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "lyra/socket.h"
#include "lyra/stack.h"
#include "lt_asm.h"

#define ADDR_A "192.0.2.2" /* the PIO stack */
#define ADDR_B "192.0.2.3" /* the DMA stack */

static const char *env(const char *n)
{
    const char *s = getenv(n);
    cr_assert(s, "%s is not set (run through ctest)", n);
    return s;
}

struct node {
    struct lyra_stack *s;
    pthread_t t;
    int running;
    char link[64], seed[32]; /* overrides, alive as long as the stack */
};

static void *loop_thread(void *arg)
{
    lyra_stack_run(arg);
    return NULL;
}

/* Copies manifest `from` to `to` with the [skb] section's component
 * replaced by `comp`. */
static void swap_skb_component(const char *from, const char *to, const char *comp)
{
    FILE *in = fopen(from, "r"), *out = fopen(to, "w");
    cr_assert(in && out, "cannot copy %s to %s", from, to);
    char line[512];
    int swapped = 0;
    while (fgets(line, sizeof(line), in)) {
        if (!strncmp(line, "component = skb_copy", 20)) {
            fprintf(out, "component = %s\n", comp);
            swapped++;
        } else {
            fputs(line, out);
        }
    }
    fclose(in);
    fclose(out);
    cr_assert_eq(swapped, 1, "%s: no 'component = skb_copy' line", from);
}

/* Loads assemblies/MANIFEST.lyra on wire udpw<PID>-<n> with os.seed=seed,
 * the address override AS (LT_AS_A, LT_AS_B) and the extra overrides
 * (NULL-terminated or NULL), starts it and its loop thread. */
static void node_up(struct node *nd, const char *manifest, const char *as, int n, int seed,
                    const char *const *extra)
{
    memset(nd, 0, sizeof(*nd));
    snprintf(nd->link, sizeof(nd->link), "dev.link=wire:udpw%d-%d", getpid(), n);
    snprintf(nd->seed, sizeof(nd->seed), "os.seed=%d", seed);
    const char *ov[24] = {nd->link, nd->seed, as};
    unsigned i = 3;
    char path[1024];
    snprintf(path, sizeof(path), "%s/assemblies/%s.lyra", env("LYRA_SOURCE_DIR"), manifest);
    /* LYRA_TEST_SKB_COMPONENT (the _split run): the same manifest with
     * another skb provider (fake_skb_split: payload in 64-byte pieces) */
    const char *alt = getenv("LYRA_TEST_SKB_COMPONENT");
    if (alt && *alt) {
        char tmp[256];
        snprintf(tmp, sizeof(tmp), "/tmp/lyra-udpw-%d-%d.lyra", (int)getpid(), n);
        swap_skb_component(path, tmp, alt);
        snprintf(path, sizeof(path), "%s", tmp);
        ov[i++] = "skb.segs=16384"; /* pieces of 64 bytes: as much payload in flight */
    }
    for (; extra && *extra && i < 23; extra++)
        ov[i++] = *extra;
    ov[i] = NULL;
    int r = lyra_stack_load(path, ov, &nd->s);
    if (alt && *alt)
        unlink(path);
    cr_assert_eq(r, 0, "cannot load %s", manifest);
    cr_assert_eq(lyra_stack_start(nd->s), 0, "cannot start %s", manifest);
    cr_assert_eq(pthread_create(&nd->t, NULL, loop_thread, nd->s), 0);
    nd->running = 1;
}

/* Stops the loop and joins its thread; counters may be read after this. */
static void node_halt(struct node *nd)
{
    if (!nd->running)
        return;
    lyra_stack_stop(nd->s);
    pthread_join(nd->t, NULL);
    nd->running = 0;
}

static uint64_t ctr(struct node *nd, const char *inst, const char *name)
{
    cr_assert(!nd->running, "counters are read after the loop stopped");
    uint64_t v = lyra_stack_counter(nd->s, inst, name);
    cr_assert_neq(v, UINT64_MAX, "%s has no counter %s.%s", lyra_stack_name(nd->s), inst, name);
    return v;
}

/* No skb left behind: the application closed every descriptor, nothing is
 * waiting in reassembly (the caller let reass_timeout pass), so every
 * buffer of both classes is back in the pool. Then destroys the stack. */
static void node_down_checked(struct node *nd)
{
    node_halt(nd);
    /* buffers a DMA NIC holds on its rings are the driver's until it
     * stops: not a leak (lt_skbs_left) */
    uint64_t in_use = lt_skbs_left(nd->s, ctr(nd, "skb", "in_use")), reass = ctr(nd, "ip", "reass_in_progress");
    cr_expect_eq(reass, 0, "%s: %llu datagrams still in reassembly", lyra_stack_name(nd->s),
                 (unsigned long long)reass);
    cr_expect_eq(in_use, 0, "%s: skb leak: %llu buffers in use after stop (big: %llu)",
                 lyra_stack_name(nd->s), (unsigned long long)in_use,
                 (unsigned long long)ctr(nd, "skb", "big_in_use"));
    cr_expect_eq(ctr(nd, "skb", "bad_free"), 0);
    cr_expect_eq(ctr(nd, "sock", "open"), 0, "every descriptor was closed");
    const char *alt = getenv("LYRA_TEST_SKB_COMPONENT");
    if (alt && *alt) /* only fake_skb_split reports it: the run is over it */
        cr_expect_eq(ctr(nd, "skb", "chunk_in_use"), 0, "%s: pieces leaked", lyra_stack_name(nd->s));
    lyra_stack_destroy(nd->s);
    nd->s = NULL;
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

#define SA(a) ((const struct sockaddr *)&(a))

static int udp_bound(struct lyra_stack *s, const char *ip, uint16_t port)
{
    int fd = lyra_socket(s, AF_INET, SOCK_DGRAM, 0);
    cr_assert_geq(fd, 0, "socket: %s", strerror(errno));
    struct sockaddr_in a = sin4(ip, port);
    cr_assert_eq(lyra_bind(s, fd, SA(a), sizeof(a)), 0, "bind %s:%u: %s", ip, port,
                 strerror(errno));
    return fd;
}

static void set_rcvtimeo(struct lyra_stack *s, int fd, long ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    cr_assert_eq(lyra_setsockopt(s, fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0,
                 "SO_RCVTIMEO: %s", strerror(errno));
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
    struct timespec d = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&d, &d) && errno == EINTR)
        ;
}

/* Resolves ARP both ways before a measured phase: a small datagram from
 * one stack to port 4999 of the other, repeated every 1.5 s until one
 * arrives, then the same the other way. What each side sent and received
 * is recorded, for the counters' accounting. */
struct warm {
    unsigned sent[2], got[2]; /* [0]: a to b, [1]: b to a */
};

static void prime(struct lyra_stack *sa, const char *ip_a, struct lyra_stack *sb,
                  const char *ip_b, struct warm *w)
{
    memset(w, 0, sizeof(*w));
    for (int dir = 0; dir < 2; dir++) {
        struct lyra_stack *tx = dir ? sb : sa, *rx = dir ? sa : sb;
        const char *rx_ip = dir ? ip_a : ip_b;
        int r = udp_bound(rx, rx_ip, 4999);
        int t = lyra_socket(tx, AF_INET, SOCK_DGRAM, 0);
        cr_assert_geq(t, 0);
        set_rcvtimeo(rx, r, 1500); /* past one ARP retry (1 s): timing-independent */
        struct sockaddr_in dst = sin4(rx_ip, 4999);
        char buf[16];
        for (int i = 0; i < 8 && !w->got[dir]; i++) {
            cr_assert_eq(lyra_sendto(tx, t, "warm", 4, 0, SA(dst), sizeof(dst)), 4);
            w->sent[dir]++;
            if (lyra_recv(rx, r, buf, sizeof(buf), 0) == 4)
                w->got[dir]++;
        }
        cr_assert(w->got[dir], "ARP/UDP warm-up never got through (%s)", dir ? "b->a" : "a->b");
        /* late copies (the ARP queue released them all at once; dup) */
        sleep_ms(100);
        while (lyra_recv(rx, r, buf, sizeof(buf), MSG_DONTWAIT) == 4)
            w->got[dir]++;
        lyra_close(tx, t);
        lyra_close(rx, r);
    }
}

/* ----- 1. 10% loss each way: what arrives is intact, unique, counted ----- */

#define LOSS_N 200

static size_t loss_len(unsigned seq)
{
    return 8 + (seq * 37u) % 1400u; /* 8..1407: never fragmented */
}

static void loss_fill(uint8_t *p, unsigned seq, size_t len)
{
    p[0] = (uint8_t)(seq >> 8);
    p[1] = (uint8_t)seq;
    p[2] = 0xa5;
    p[3] = (uint8_t)~seq;
    for (size_t i = 4; i < len; i++)
        p[i] = (uint8_t)(i * 31u + seq * 7u + 3u);
}

struct receiver {
    struct lyra_stack *s;
    int fd;
    atomic_int done; /* the sender finished: stop at the next timeout */
    unsigned got, bad, dup;
    uint8_t seen[LOSS_N];
    char why[256];
};

static void *receiver_thread(void *arg)
{
    struct receiver *r = arg;
    uint8_t buf[2048], want[2048];
    for (;;) {
        struct sockaddr_in from;
        socklen_t fl = sizeof(from);
        ssize_t n = lyra_recvfrom(r->s, r->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
        if (n < 0) {
            if (errno == EAGAIN && !atomic_load(&r->done))
                continue; /* SO_RCVTIMEO while the sender still sends */
            if (errno != EAGAIN)
                snprintf(r->why, sizeof(r->why), "recvfrom: %s", strerror(errno));
            break;
        }
        unsigned seq = n >= 2 ? (unsigned)(buf[0] << 8 | buf[1]) : LOSS_N;
        if (seq >= LOSS_N || (size_t)n != loss_len(seq) || from.sin_addr.s_addr != inet_addr(ADDR_A)) {
            r->bad++;
            snprintf(r->why, sizeof(r->why), "datagram of %zd bytes, seq %u: not one sent", n, seq);
            continue;
        }
        loss_fill(want, seq, (size_t)n);
        if (memcmp(buf, want, (size_t)n)) {
            r->bad++;
            snprintf(r->why, sizeof(r->why), "seq %u arrived with different bytes", seq);
            continue;
        }
        if (r->seen[seq]++)
            r->dup++;
        else
            r->got++;
    }
    return NULL;
}

/* The loss runs: b receives on port 5001 (a thread of its own) while a
 * sends LOSS_N datagrams, paced so that the link's impairment is the only
 * loss; returns once nothing may stay in b's reassembly. */
static void send_loss_run(struct node *a, struct node *b, struct receiver *rv)
{
    memset(rv, 0, sizeof(*rv));
    rv->s = b->s;
    rv->fd = udp_bound(b->s, "0.0.0.0", 5001);
    set_rcvtimeo(b->s, rv->fd, 500);
    pthread_t rt;
    cr_assert_eq(pthread_create(&rt, NULL, receiver_thread, rv), 0);
    int tx = lyra_socket(a->s, AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    cr_assert_geq(tx, 0);
    struct sockaddr_in dst = sin4(ADDR_B, 5001);
    uint8_t buf[2048];
    for (unsigned seq = 0; seq < LOSS_N; seq++) {
        size_t len = loss_len(seq);
        loss_fill(buf, seq, len);
        cr_assert_eq(lyra_sendto(a->s, tx, buf, len, 0, SA(dst), sizeof(dst)), (ssize_t)len,
                     "sendto seq %u: %s", seq, strerror(errno));
        sleep_ms(1); /* paced: the link's loss is the only loss */
    }
    atomic_store(&rv->done, 1);
    pthread_join(rt, NULL);
    lyra_close(a->s, tx);
    lyra_close(b->s, rv->fd);
    sleep_ms(1200); /* past reass_timeout: nothing may stay in reassembly */
}

/* The arrival count for seed pair (11, 12), with the frames drawn in the
 * same order on every run (the exchange below is sequential), so the run
 * is reproducible: measured, then fixed here. The window asserted first is
 * what any seed must give for 10% loss of 200 frames (mean 180, sd 4.2). */
#define LOSS_EXPECTED_FOR_SEED 179
/* the same for test 1b (loss on b's receive only, seeds 21/22) */
#define RX_LOSS_EXPECTED_FOR_SEED 174

Test(udp_wire, ten_percent_loss_delivers_intact_unique_datagrams, .timeout = 120)
{
    const char *imp[] = {"dev.loss=10%", "ip.reass_timeout=1s", NULL};
    struct node a, b;
    node_up(&a, "copy-pio", LT_AS_A, 1, 11, imp);
    node_up(&b, "copy-dma", LT_AS_B, 1, 12, imp);
    struct warm w;
    prime(a.s, ADDR_A, b.s, ADDR_B, &w);

    struct receiver rv;
    send_loss_run(&a, &b, &rv);
    node_halt(&a);
    node_halt(&b);

    cr_expect_str_empty(rv.why, "%s", rv.why);
    cr_expect_eq(rv.bad, 0, "%u datagrams were not among those sent, or corrupt", rv.bad);
    cr_expect_eq(rv.dup, 0, "%u datagrams were delivered twice (no dup impairment here)", rv.dup);
    cr_expect(rv.got >= LOSS_N * 70 / 100 && rv.got <= LOSS_N * 97 / 100,
              "%u of %u arrived with 10%% loss: outside [70%%, 97%%]", rv.got, LOSS_N);
    /* counters agree with what the socket delivered */
    cr_expect_eq(ctr(&a, "udp", "tx_datagrams"), LOSS_N + w.sent[0]);
    cr_expect_eq(ctr(&b, "udp", "tx_datagrams"), w.sent[1]);
    cr_expect_eq(ctr(&b, "udp", "rx_datagrams"), rv.got + w.got[0],
                 "udp rx_datagrams %llu, the socket delivered %u (+%u warm-up)",
                 (unsigned long long)ctr(&b, "udp", "rx_datagrams"), rv.got, w.got[0]);
    cr_expect_eq(ctr(&a, "udp", "rx_datagrams"), w.got[1]);
    cr_expect_eq(ctr(&b, "udp", "rx_queue_full"), 0);
    cr_expect_eq(ctr(&b, "udp", "no_port"), 0);
    cr_expect_eq(ctr(&b, "udp", "rx_bad_csum"), 0);
    /* all that was lost, the link lost: every frame a's NIC sent that the
     * link did not drop reached b's NIC (none overran its ring) */
    uint64_t a_tx = ctr(&a, "nic", "tx_frames"), a_lost = ctr(&a, "os", "link_loss");
    uint64_t a_early = ctr(&a, "os", "link_drop_nopeer"); /* sent before b joined the wire */
    cr_expect_eq(a_tx - a_lost - a_early, ctr(&b, "nic", "rx_frames"),
                 "a sent %llu frames, the link lost %llu (+%llu before b joined), b received %llu",
                 (unsigned long long)a_tx, (unsigned long long)a_lost, (unsigned long long)a_early,
                 (unsigned long long)ctr(&b, "nic", "rx_frames"));
    cr_expect_eq(ctr(&a, "os", "link_drop_full") + ctr(&b, "os", "link_drop_full"), 0);
    cr_expect_geq(a_lost, 5, "10%% loss lost almost nothing (%llu)", (unsigned long long)a_lost);
    /* the seed makes it reproducible */
    cr_expect_eq(rv.got, LOSS_EXPECTED_FOR_SEED, "seeds 11/12 gave %u arrivals (expected %u)",
                 rv.got, LOSS_EXPECTED_FOR_SEED);
    node_down_checked(&a);
    node_down_checked(&b);
}

/* ----- 1b. loss on receive only (dev.rx_loss, os 2.1) --------------------- */

/* b's link loses 10% of what it receives; a's link and b's sending are
 * clean. What is lost is counted on b's side (link_rx_loss), a's counters
 * see no loss, and every frame a put on the wire is either lost on b's
 * receive or reached b's NIC. */
Test(udp_wire, rx_loss_on_one_side_drops_datagrams_and_counts_them, .timeout = 120)
{
    const char *rx_imp[] = {"dev.rx_loss=10%", "ip.reass_timeout=1s", NULL};
    const char *clean[] = {"ip.reass_timeout=1s", NULL};
    struct node a, b;
    node_up(&a, "copy-pio", LT_AS_A, 6, 21, clean);
    node_up(&b, "copy-dma", LT_AS_B, 6, 22, rx_imp);
    struct warm w;
    prime(a.s, ADDR_A, b.s, ADDR_B, &w);

    struct receiver rv;
    send_loss_run(&a, &b, &rv);
    node_halt(&a);
    node_halt(&b);

    cr_expect_str_empty(rv.why, "%s", rv.why);
    cr_expect_eq(rv.bad, 0);
    cr_expect_eq(rv.dup, 0);
    uint64_t b_rx_lost = ctr(&b, "os", "link_rx_loss");
    /* 10% of 200 and a few ARP/warm-up frames: mean 20, sd 4.2 */
    cr_expect(b_rx_lost >= 5 && b_rx_lost <= 40, "b's receive lost %llu",
              (unsigned long long)b_rx_lost);
    cr_expect(rv.got >= LOSS_N * 80 / 100 && rv.got < LOSS_N,
              "%u of %u arrived with 10%% loss on receive", rv.got, LOSS_N);
    cr_expect_leq(LOSS_N - rv.got, b_rx_lost, "every missing datagram was lost on b's receive");
    /* nothing else lost anything */
    cr_expect_eq(ctr(&a, "os", "link_loss") + ctr(&a, "os", "link_rx_loss"), 0);
    cr_expect_eq(ctr(&b, "os", "link_loss"), 0);
    cr_expect_eq(ctr(&b, "os", "link_rx_dup") + ctr(&b, "os", "link_rx_reorder") +
                     ctr(&b, "os", "link_rx_corrupt") + ctr(&b, "os", "link_rx_drop_full"),
                 0);
    /* a's frames: lost on b's receive, or handed to b's card and driver */
    uint64_t a_tx = ctr(&a, "nic", "tx_frames"), a_early = ctr(&a, "os", "link_drop_nopeer");
    cr_expect_eq(ctr(&a, "os", "link_tx"), a_tx, "no frame of a was lost on its side");
    cr_expect_eq(a_tx - a_early, ctr(&b, "os", "link_rx") + b_rx_lost,
                 "a sent %llu (+%llu before b joined), b got %llu and lost %llu",
                 (unsigned long long)(a_tx - a_early), (unsigned long long)a_early,
                 (unsigned long long)ctr(&b, "os", "link_rx"), (unsigned long long)b_rx_lost);
    cr_expect_eq(ctr(&b, "os", "link_rx"), ctr(&b, "nic", "rx_frames"));
    /* b's frames all reached a */
    cr_expect_eq(ctr(&b, "os", "link_tx"), ctr(&a, "os", "link_rx"));
    cr_expect_eq(ctr(&b, "udp", "rx_datagrams"), rv.got + w.got[0]);
    cr_expect_eq(rv.got, RX_LOSS_EXPECTED_FOR_SEED, "seeds 21/22 gave %u arrivals (expected %u)",
                 rv.got, RX_LOSS_EXPECTED_FOR_SEED);
    node_down_checked(&a);
    node_down_checked(&b);
}

/* ----- 2. 8000-byte datagrams under reordering and duplication ----------- */

#define BIG_N 50
#define BIG_LEN 8000
#define BIG_BURST 4

static void big_fill(uint8_t *p, unsigned seq, unsigned dir)
{
    p[0] = (uint8_t)dir;
    p[1] = (uint8_t)seq;
    for (size_t i = 2; i < BIG_LEN; i++)
        p[i] = (uint8_t)((i * 131u) ^ (i >> 8) ^ (seq * 29u) ^ (dir * 0x5au));
}

/* Receives what one direction's burst should bring: each datagram equal to
 * one sent in this direction, none twice. */
static int big_recv(struct lyra_stack *s, int fd, unsigned dir, uint8_t *seen, unsigned want,
                    unsigned *got)
{
    static uint8_t buf[BIG_LEN + 64], ref[BIG_LEN];
    for (unsigned k = 0; k < want; k++) {
        ssize_t n = lyra_recv(s, fd, buf, sizeof(buf), 0);
        if (n < 0) {
            cr_log_error("%s: recv (dir %u, after %u datagrams): %s", lyra_stack_name(s), dir,
                         *got, strerror(errno));
            return -1;
        }
        cr_assert_eq(n, BIG_LEN, "a datagram of %zd bytes", n);
        unsigned seq = buf[1];
        cr_assert_eq(buf[0], dir, "a datagram of the other direction");
        cr_assert_lt(seq, BIG_N);
        big_fill(ref, seq, dir);
        cr_assert(!memcmp(buf, ref, BIG_LEN), "datagram %u (dir %u) arrived with other bytes", seq,
                  dir);
        cr_assert_eq(seen[seq], 0, "datagram %u (dir %u) delivered twice", seq, dir);
        seen[seq] = 1;
        (*got)++;
    }
    return 0;
}

/* A datagram did not come: the counters of both stacks say where it went. */
static void dump_and_fail(struct node *a, struct node *b, const char *what)
{
    node_halt(a);
    node_halt(b);
    fprintf(stderr, "== %s ==\n", lyra_stack_name(a->s));
    lyra_stack_stats_print(a->s, stderr);
    fprintf(stderr, "== %s ==\n", lyra_stack_name(b->s));
    lyra_stack_stats_print(b->s, stderr);
    cr_assert_fail("%s (counters of both stacks on stderr)", what);
}

LT_COPY_AND_ZC_PAIRS(udp_wire, eight_kb_datagrams_survive_reordering_and_duplication,
                     .timeout = 120)
static void eight_kb_datagrams_survive_reordering_and_duplication(const char *sa, const char *sb)
{
    const char *imp[] = {"dev.reorder=30%", "dev.reorder_depth=4", "dev.dup=5%",
                         "ip.reass_timeout=1s", NULL};
    struct node a, b;
    node_up(&a, sa, LT_AS_A, 2, 21, imp);
    node_up(&b, sb, LT_AS_B, 2, 22, imp);
    /* ARP first: a burst queued behind an unresolved address would overflow
     * eth's arp_queue (16 frames; a burst is 24 fragments) */
    struct warm w;
    prime(a.s, ADDR_A, b.s, ADDR_B, &w);
    int fa = udp_bound(a.s, ADDR_A, 6001), fb = udp_bound(b.s, ADDR_B, 6002);
    set_rcvtimeo(a.s, fa, 3000);
    set_rcvtimeo(b.s, fb, 3000);
    struct sockaddr_in to_b = sin4(ADDR_B, 6002), to_a = sin4(ADDR_A, 6001);
    static uint8_t out[BIG_LEN];
    uint8_t seen_ab[BIG_N] = {0}, seen_ba[BIG_N] = {0};
    unsigned got_ab = 0, got_ba = 0;
    /* Rounds: each side sends a burst of 4 (24 fragments, reordered among
     * each other) and then receives the other's. The wire has no rate:
     * the NE2000's card RAM holds 8 full frames, and its model (as QEMU's
     * card) leaves the rest on the link until the ring has room. Four at a
     * time keeps the reassembled datagrams waiting on a socket within
     * skb's 8 big buffers. */
    unsigned sent_ab = 0, sent_ba = 0;
    while (sent_ab < BIG_N || sent_ba < BIG_N) {
        unsigned nab = BIG_N - sent_ab < BIG_BURST ? BIG_N - sent_ab : BIG_BURST;
        unsigned nba = BIG_N - sent_ba < BIG_BURST ? BIG_N - sent_ba : BIG_BURST;
        for (unsigned i = 0; i < nab; i++) {
            big_fill(out, sent_ab + i, 0);
            cr_assert_eq(lyra_sendto(a.s, fa, out, BIG_LEN, 0, SA(to_b), sizeof(to_b)), BIG_LEN,
                         "a sendto: %s", strerror(errno));
        }
        for (unsigned i = 0; i < nba; i++) {
            big_fill(out, sent_ba + i, 1);
            cr_assert_eq(lyra_sendto(b.s, fb, out, BIG_LEN, 0, SA(to_a), sizeof(to_a)), BIG_LEN,
                         "b sendto: %s", strerror(errno));
        }
        sent_ab += nab;
        sent_ba += nba;
        if (big_recv(b.s, fb, 0, seen_ab, nab, &got_ab) ||
            big_recv(a.s, fa, 1, seen_ba, nba, &got_ba))
            dump_and_fail(&a, &b, "an 8000-byte datagram did not arrive within 3 s");
    }
    /* Nothing more may come: a duplicated fragment arriving after its
     * datagram completed starts a new reassembly that can never complete
     * (it times out: reass_timeout), so no datagram is delivered twice.
     * The only way to see one twice would be every one of its 6 fragments
     * duplicated (5%^6, about 1.6e-8 per datagram) with the copies all
     * arriving after the originals completed it: with this seed it does
     * not happen, so the test asserts strictly that nothing comes twice
     * (big_recv checks each delivery; here nothing is left over). */
    char extra[16];
    sleep_ms(300);
    cr_expect_eq(lyra_recv(b.s, fb, extra, sizeof(extra), MSG_DONTWAIT), -1,
                 "an extra datagram on b (a duplicate?)");
    cr_expect_eq(lyra_recv(a.s, fa, extra, sizeof(extra), MSG_DONTWAIT), -1,
                 "an extra datagram on a (a duplicate?)");
    cr_expect_eq(got_ab, BIG_N);
    cr_expect_eq(got_ba, BIG_N);
    lyra_close(a.s, fa);
    lyra_close(b.s, fb);
    sleep_ms(1500); /* the partial reassemblies started by late duplicates expire */
    node_halt(&a);
    node_halt(&b);

    struct node *both[2] = {&a, &b};
    for (int i = 0; i < 2; i++) {
        struct node *n = both[i];
        const char *nm = lyra_stack_name(n->s);
        cr_expect_geq(ctr(n, "ip", "reass_ok"), BIG_N, "%s reass_ok %llu", nm,
                      (unsigned long long)ctr(n, "ip", "reass_ok"));
        cr_expect_geq(ctr(n, "ip", "tx_fragmented"), BIG_N);
        cr_expect_geq(ctr(n, "ip", "tx_fragments"), BIG_N * 6, "8000 bytes at MTU 1500: 6 each");
        cr_expect_eq(ctr(n, "udp", "rx_datagrams"), BIG_N + w.got[1 - i], "%s: udp rx_datagrams %llu",
                     nm, (unsigned long long)ctr(n, "udp", "rx_datagrams"));
        cr_expect_eq(ctr(n, "ip", "reass_overlap"), 0);
        cr_expect_eq(ctr(n, "ip", "reass_bad"), 0);
        cr_expect_eq(ctr(n, "ip", "reass_nobuf") + ctr(n, "ip", "reass_too_big"), 0);
    }
    /* the NE2000 model left bursts on the link instead of overflowing */
    cr_expect_eq(ctr(&a, "dev", "rx_overflow"), 0);
    cr_expect_gt(ctr(&a, "dev", "rx_held"), 0);
    /* the impairments really happened, in both directions */
    cr_expect_gt(ctr(&a, "os", "link_reorder"), 0);
    cr_expect_gt(ctr(&b, "os", "link_reorder"), 0);
    cr_expect_gt(ctr(&a, "os", "link_dup") + ctr(&b, "os", "link_dup"), 0);
    cr_expect_gt(ctr(&a, "ip", "reass_dup") + ctr(&b, "ip", "reass_dup"), 0,
                 "duplicated fragments were recognised as such");
    node_down_checked(&a);
    node_down_checked(&b);
}

/* ----- 3. blocking, non-blocking, SO_RCVTIMEO, ECANCELED ----------------- */

struct blocked {
    struct lyra_stack *s;
    int fd;
    ssize_t n;
    int err;
    char buf[64];
    double t_ret;
    atomic_int returned; /* set when the recv came back */
};

static void *blocked_recv(void *arg)
{
    struct blocked *b = arg;
    b->n = lyra_recv(b->s, b->fd, b->buf, sizeof(b->buf), 0);
    b->err = b->n < 0 ? errno : 0;
    b->t_ret = now_s();
    atomic_store(&b->returned, 1);
    return NULL;
}

Test(udp_wire, blocking_nonblocking_and_timeouts_from_application_threads, .timeout = 60)
{
    struct node a, b;
    node_up(&a, "copy-pio", LT_AS_A, 3, 31, NULL);
    node_up(&b, "copy-dma", LT_AS_B, 3, 32, NULL);
    int fb = udp_bound(b.s, ADDR_B, 7001);
    int fa = lyra_socket(a.s, AF_INET, SOCK_DGRAM, 0);
    cr_assert_geq(fa, 0);
    struct sockaddr_in to_b = sin4(ADDR_B, 7001);
    char buf[64];

    /* blocking recv on an application thread, loops on theirs: it sleeps
     * until a datagram sent 200 ms later arrives */
    struct blocked bl = {.s = b.s, .fd = fb};
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, blocked_recv, &bl), 0);
    sleep_ms(200);
    cr_assert_eq(atomic_load(&bl.returned), 0, "the recv returned before anything was sent");
    double t_send = now_s();
    cr_assert_eq(lyra_sendto(a.s, fa, "wake up", 7, 0, SA(to_b), sizeof(to_b)), 7);
    pthread_join(t, NULL);
    cr_assert_eq(bl.n, 7, "blocking recv: %zd (%s)", bl.n, strerror(bl.err));
    cr_assert_arr_eq(bl.buf, "wake up", 7);
    cr_expect_geq(bl.t_ret, t_send, "the blocking recv returned before anything was sent");

    /* non-blocking: MSG_DONTWAIT, O_NONBLOCK through fcntl, SOCK_NONBLOCK */
    errno = 0;
    cr_assert_eq(lyra_recv(b.s, fb, buf, sizeof(buf), MSG_DONTWAIT), -1);
    cr_assert_eq(errno, EAGAIN, "MSG_DONTWAIT on an empty socket: %s", strerror(errno));
    int fl = lyra_fcntl(b.s, fb, F_GETFL, 0);
    cr_assert_geq(fl, 0);
    cr_assert_eq(fl & O_NONBLOCK, 0);
    cr_assert_eq(lyra_fcntl(b.s, fb, F_SETFL, fl | O_NONBLOCK), 0);
    cr_assert(lyra_fcntl(b.s, fb, F_GETFL, 0) & O_NONBLOCK);
    double t0 = now_s();
    errno = 0;
    cr_assert_eq(lyra_recv(b.s, fb, buf, sizeof(buf), 0), -1);
    cr_assert_eq(errno, EAGAIN, "O_NONBLOCK: %s", strerror(errno));
    cr_expect_lt(now_s() - t0, 1.0, "a non-blocking recv waited");
    cr_assert_eq(lyra_fcntl(b.s, fb, F_SETFL, fl & ~O_NONBLOCK), 0);
    int nb = lyra_socket(b.s, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    cr_assert_geq(nb, 0);
    errno = 0;
    cr_assert_eq(lyra_recv(b.s, nb, buf, sizeof(buf), 0), -1);
    cr_assert_eq(errno, EAGAIN, "SOCK_NONBLOCK: %s", strerror(errno));
    lyra_close(b.s, nb);
    /* a datagram is there for a non-blocking recv once it arrived */
    cr_assert_eq(lyra_sendto(a.s, fa, "polled", 6, 0, SA(to_b), sizeof(to_b)), 6);
    struct lyra_pollfd pf = {fb, POLLIN, 0};
    cr_assert_eq(lyra_poll(b.s, &pf, 1, 2000), 1, "lyra_poll: the datagram never came");
    cr_assert(pf.revents & POLLIN);
    cr_assert_eq(lyra_recv(b.s, fb, buf, sizeof(buf), MSG_DONTWAIT), 6);
    cr_assert_arr_eq(buf, "polled", 6);

    /* SO_RCVTIMEO: EAGAIN after the timeout, not before, not much after */
    set_rcvtimeo(b.s, fb, 300);
    struct timeval tv;
    socklen_t tl = sizeof(tv);
    cr_assert_eq(lyra_getsockopt(b.s, fb, SOL_SOCKET, SO_RCVTIMEO, &tv, &tl), 0);
    cr_assert_eq(tv.tv_sec * 1000 + tv.tv_usec / 1000, 300);
    t0 = now_s();
    errno = 0;
    cr_assert_eq(lyra_recv(b.s, fb, buf, sizeof(buf), 0), -1);
    double waited = now_s() - t0;
    cr_assert_eq(errno, EAGAIN, "SO_RCVTIMEO expiry: %s", strerror(errno));
    cr_expect(waited >= 0.29 && waited < 2.0, "SO_RCVTIMEO 300 ms waited %.3f s", waited);
    /* and a datagram arriving within the timeout is returned */
    set_rcvtimeo(b.s, fb, 2000);
    cr_assert_eq(lyra_sendto(a.s, fa, "in time", 7, 0, SA(to_b), sizeof(to_b)), 7);
    cr_assert_eq(lyra_recv(b.s, fb, buf, sizeof(buf), 0), 7, "%s", strerror(errno));

    /* a blocked recv fails with ECANCELED once the stack is stopped */
    set_rcvtimeo(b.s, fb, 0);
    struct blocked bc = {.s = b.s, .fd = fb};
    cr_assert_eq(pthread_create(&t, NULL, blocked_recv, &bc), 0);
    sleep_ms(200);
    cr_assert_eq(atomic_load(&bc.returned), 0, "the recv returned before the stop");
    node_halt(&b);
    pthread_join(t, NULL);
    cr_assert_eq(bc.n, -1);
    cr_assert_eq(bc.err, ECANCELED, "blocked recv after stop: %s", strerror(bc.err));

    lyra_close(a.s, fa);
    lyra_close(b.s, fb);
    cr_expect_eq(ctr(&b, "udp", "rx_datagrams"), 3);
    node_down_checked(&a);
    node_down_checked(&b);
}

/* ----- 4. ICMP echo sockets ---------------------------------------------- */

static uint16_t ld16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

LT_EACH_PAIR(udp_wire, icmp_echo_socket_pings_the_other_stack, .timeout = 60)
static void icmp_echo_socket_pings_the_other_stack(const char *sa, const char *sb)
{
    struct node a, b;
    node_up(&a, sa, LT_AS_A, 4, 41, NULL);
    node_up(&b, sb, LT_AS_B, 4, 42, NULL);
    int fd = lyra_socket(a.s, AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
    cr_assert_geq(fd, 0, "ICMP echo socket: %s", strerror(errno));
    set_rcvtimeo(a.s, fd, 3000);
    struct sockaddr_in dst = sin4(ADDR_B, 0);
    static uint8_t req[8 + 3000], rep[8 + 3000 + 64];
    /* 56 bytes (one frame each way) and 3000 (fragmented each way) */
    for (unsigned seq = 0; seq < 5; seq++) {
        size_t len = 8 + (seq % 2 ? 3000 : 56);
        memset(req, 0, 8);
        req[0] = 8; /* echo request */
        req[4] = 0x12; /* identifier: replaced by the socket's own */
        req[5] = 0x34;
        req[6] = (uint8_t)(seq >> 8);
        req[7] = (uint8_t)seq;
        for (size_t i = 8; i < len; i++)
            req[i] = (uint8_t)(i * 13u + seq);
        cr_assert_eq(lyra_sendto(a.s, fd, req, len, 0, SA(dst), sizeof(dst)), (ssize_t)len,
                     "sendto (%zu bytes): %s", len, strerror(errno));
        struct sockaddr_in from;
        socklen_t fl = sizeof(from);
        ssize_t n = lyra_recvfrom(a.s, fd, rep, sizeof(rep), 0, (struct sockaddr *)&from, &fl);
        cr_assert_eq(n, (ssize_t)len, "echo %u (%zu bytes): recv %zd (%s)", seq, len, n,
                     n < 0 ? strerror(errno) : "");
        cr_assert_eq(from.sin_addr.s_addr, inet_addr(ADDR_B));
        cr_assert_eq(rep[0], 0, "type %u, not an echo reply", rep[0]);
        cr_assert_eq(rep[1], 0);
        cr_assert_eq(ld16(rep + 6), seq, "sequence number");
        cr_assert(!memcmp(rep + 8, req + 8, len - 8), "echo %u: the data came back different",
                  seq);
        /* the identifier is the socket's "port", as on Linux */
        struct sockaddr_in me;
        socklen_t ml = sizeof(me);
        cr_assert_eq(lyra_getsockname(a.s, fd, (struct sockaddr *)&me, &ml), 0);
        cr_expect_eq(ld16(rep + 4), ntohs(me.sin_port), "reply identifier %#x, socket's %#x",
                     ld16(rep + 4), ntohs(me.sin_port));
    }
    /* a connected ICMP socket too, with send/recv */
    int fc = lyra_socket(a.s, AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
    cr_assert_geq(fc, 0);
    set_rcvtimeo(a.s, fc, 3000);
    cr_assert_eq(lyra_connect(a.s, fc, SA(dst), sizeof(dst)), 0, "%s", strerror(errno));
    memset(req, 0, 8);
    req[0] = 8;
    req[7] = 99;
    memcpy(req + 8, "connected ping", 14);
    cr_assert_eq(lyra_send(a.s, fc, req, 22, 0), 22);
    cr_assert_eq(lyra_recv(a.s, fc, rep, sizeof(rep), 0), 22, "%s", strerror(errno));
    cr_assert_eq(rep[0], 0);
    cr_assert_arr_eq(rep + 8, "connected ping", 14);
    lyra_close(a.s, fc);
    lyra_close(a.s, fd);
    sleep_ms(100);
    node_halt(&a);
    node_halt(&b);
    cr_expect_eq(ctr(&b, "ip", "icmp_echo_requests"), 6);
    cr_expect_eq(ctr(&b, "ip", "icmp_echo_replies"), 6);
    cr_expect_eq(ctr(&a, "ip", "icmp_sock_rx"), 6);
    cr_expect_geq(ctr(&b, "ip", "reass_ok"), 2, "the 3000-byte requests were reassembled");
    cr_expect_geq(ctr(&a, "ip", "reass_ok"), 2, "the 3000-byte replies were reassembled");
    cr_expect_geq(ctr(&b, "ip", "tx_fragmented"), 2, "the 3000-byte replies were fragmented");
    node_down_checked(&a);
    node_down_checked(&b);
}

/* ----- 5. port unreachable: ECONNREFUSED on a connected socket ----------- */

LT_EACH_PAIR(udp_wire, connected_udp_socket_gets_econnrefused_from_port_unreachable, .timeout = 60)
static void connected_udp_socket_gets_econnrefused_from_port_unreachable(const char *sa,
                                                                         const char *sb)
{
    struct node a, b;
    node_up(&a, sa, LT_AS_A, 5, 51, NULL);
    node_up(&b, sb, LT_AS_B, 5, 52, NULL);
    int fd = lyra_socket(a.s, AF_INET, SOCK_DGRAM, 0);
    cr_assert_geq(fd, 0);
    struct sockaddr_in closed = sin4(ADDR_B, 9999);
    cr_assert_eq(lyra_connect(a.s, fd, SA(closed), sizeof(closed)), 0);
    set_rcvtimeo(a.s, fd, 3000);
    char buf[32];

    /* send, then a blocking recv: the ICMP port unreachable ends it */
    cr_assert_eq(lyra_send(a.s, fd, "anyone?", 7, 0), 7, "%s", strerror(errno));
    errno = 0;
    cr_assert_eq(lyra_recv(a.s, fd, buf, sizeof(buf), 0), -1);
    cr_assert_eq(errno, ECONNREFUSED, "recv after port unreachable: %s", strerror(errno));
    /* reported once: the next non-blocking recv finds nothing */
    errno = 0;
    cr_assert_eq(lyra_recv(a.s, fd, buf, sizeof(buf), MSG_DONTWAIT), -1);
    cr_assert_eq(errno, EAGAIN, "the error is reported once: %s", strerror(errno));

    /* the error waits for the next send too (Linux: send fails with it) */
    cr_assert_eq(lyra_send(a.s, fd, "again", 5, 0), 5, "%s", strerror(errno));
    struct lyra_pollfd pf = {fd, POLLIN, 0};
    cr_assert_eq(lyra_poll(a.s, &pf, 1, 3000), 1, "no error came back");
    cr_assert(pf.revents & POLLERR, "poll shows the pending error (revents %#x)", pf.revents);
    errno = 0;
    cr_assert_eq(lyra_send(a.s, fd, "again", 5, 0), -1);
    cr_assert_eq(errno, ECONNREFUSED, "send with the error pending: %s", strerror(errno));

    /* and SO_ERROR reads (and clears) it */
    cr_assert_eq(lyra_send(a.s, fd, "third", 5, 0), 5, "%s", strerror(errno));
    cr_assert_eq(lyra_poll(a.s, &pf, 1, 3000), 1);
    int err = 0;
    socklen_t el = sizeof(err);
    cr_assert_eq(lyra_getsockopt(a.s, fd, SOL_SOCKET, SO_ERROR, &err, &el), 0);
    cr_assert_eq(err, ECONNREFUSED, "SO_ERROR %d", err);
    err = -1;
    cr_assert_eq(lyra_getsockopt(a.s, fd, SOL_SOCKET, SO_ERROR, &err, &el), 0);
    cr_assert_eq(err, 0, "SO_ERROR is cleared by reading it");

    /* an unconnected socket hears nothing (no IP_RECVERR) */
    int fu = lyra_socket(a.s, AF_INET, SOCK_DGRAM, 0);
    cr_assert_geq(fu, 0);
    set_rcvtimeo(a.s, fu, 300);
    cr_assert_eq(lyra_sendto(a.s, fu, "x", 1, 0, SA(closed), sizeof(closed)), 1);
    errno = 0;
    cr_assert_eq(lyra_recv(a.s, fu, buf, sizeof(buf), 0), -1);
    cr_assert_eq(errno, EAGAIN, "an unconnected socket got %s", strerror(errno));
    lyra_close(a.s, fu);
    lyra_close(a.s, fd);
    node_halt(&a);
    node_halt(&b);
    cr_expect_eq(ctr(&b, "udp", "no_port"), 4);
    cr_expect_eq(ctr(&b, "ip", "icmp_out_errors"), 4);
    cr_expect_eq(ctr(&a, "udp", "icmp_errors_in"), 4);
    cr_expect_eq(ctr(&a, "udp", "icmp_errors_set"), 3, "only the connected socket's three");
    node_down_checked(&a);
    node_down_checked(&b);
}
