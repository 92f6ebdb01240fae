/* The "copy" object (issue 12.4, docs/buffers.md "Copies") counts a known
 * transfer exactly: the PIO stack a sends TCP_BYTES over TCP and UDP_N
 * datagrams of UDP_LEN bytes to the DMA stack b over the in-process wire,
 * from and into lyra_pkt_alloc memory (b reads one segment's payload per
 * page, the reads zero copy may remap). Then every payload byte a sent is
 * in its tx_copied_bytes + tx_referenced_bytes and every byte b received in
 * its rx_copied_bytes + rx_remapped_bytes + rx_loaned_bytes, and nothing
 * else: a received no payload, b sent none (the negative control: only
 * ACKs went back). On the copy stacks the whole of it is copied and the
 * transports' copy_bytes (by_component) say who copied it. --stats-json
 * and --stats show the same figures. For each pair of stacks (lt_asm.h). */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "lt_asm.h"
#include "lyra/copy_stats.h"
#include "lyra/socket.h"
#include "lyra/stack.h"

#define TCP_BYTES (1000000u + 7u) /* not a multiple of any segment size */
#define UDP_N 20
#define UDP_LEN 1000u
#define RX_SEG 1448u /* one segment's payload with timestamps */
#define PAGE 4096u
#define RX_PAGES 16u

struct node {
    struct lyra_stack *s;
    pthread_t t;
};

static void *loop(void *arg)
{
    lyra_stack_run(arg);
    return NULL;
}

static void up(struct node *n, const char *as, const char *name, const char *wire)
{
    char mf[1024], link[96];
    snprintf(mf, sizeof(mf), "%s/assemblies/%s.lyra", getenv("LYRA_SOURCE_DIR"), name);
    snprintf(link, sizeof(link), "dev.link=wire:%s", wire);
    const char *ov[] = {link, "os.seed=5", as, NULL};
    cr_assert_eq(lyra_stack_load(mf, ov, &n->s), 0, "load %s", name);
    cr_assert_eq(lyra_stack_start(n->s), 0);
    cr_assert_eq(pthread_create(&n->t, NULL, loop, n->s), 0);
}

static void halt(struct node *n)
{
    lyra_stack_stop(n->s);
    pthread_join(n->t, NULL);
}

static struct sockaddr_in to(uint32_t host, uint16_t port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(host);
    return a;
}

#define SA(a) ((const struct sockaddr *)&(a))
#define B_ADDR 0xc0000203u /* 192.0.2.3, the DMA stack */

static unsigned char pat(size_t i)
{
    return (unsigned char)(i * 7 + i / 4099);
}

struct sender {
    struct lyra_stack *s;
    int fd;
    const unsigned char *p;
    ssize_t r;
};

static void *send_all(void *arg)
{
    struct sender *w = arg;
    w->r = lyra_send(w->s, w->fd, w->p, TCP_BYTES, 0);
    return NULL;
}

/* TCP_BYTES a to b; b reads RX_SEG at a time, each into the next page */
static void tcp_transfer(struct node *a, struct node *b, unsigned char *tx, unsigned char *rx)
{
    int l = lyra_socket(b->s, AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in any = to(0, 5001), dst = to(B_ADDR, 5001);
    cr_assert_eq(lyra_bind(b->s, l, SA(any), sizeof(any)), 0, "%s", strerror(errno));
    cr_assert_eq(lyra_listen(b->s, l, 1), 0);
    int c = lyra_socket(a->s, AF_INET, SOCK_STREAM, 0);
    cr_assert_eq(lyra_connect(a->s, c, SA(dst), sizeof(dst)), 0, "connect: %s", strerror(errno));
    int d = lyra_accept(b->s, l, NULL, NULL);
    cr_assert_geq(d, 0, "accept: %s", strerror(errno));
    lyra_close(b->s, l);
    struct sender w = {a->s, c, tx, 0};
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, send_all, &w), 0);
    size_t got = 0, bad = SIZE_MAX;
    for (unsigned k = 0; got < TCP_BYTES; k = (k + 1) % RX_PAGES) {
        unsigned char *p = rx + (size_t)k * PAGE;
        ssize_t n = lyra_recv(b->s, d, p, RX_SEG, 0);
        cr_assert_gt(n, 0, "recv at %zu: %s", got, n ? strerror(errno) : "end of stream");
        for (ssize_t i = 0; i < n && bad == SIZE_MAX; i++)
            if (p[i] != pat(got + (size_t)i))
                bad = got + (size_t)i;
        got += (size_t)n;
    }
    pthread_join(t, NULL);
    cr_assert_eq(w.r, (ssize_t)TCP_BYTES, "send: %zd", w.r);
    cr_assert_eq(bad, SIZE_MAX, "byte %zu arrived wrong", bad);
    cr_assert_eq(lyra_close(a->s, c), 0);
    char e;
    cr_assert_eq(lyra_recv(b->s, d, &e, 1, 0), 0, "end of stream after the last byte");
    cr_assert_eq(lyra_close(b->s, d), 0);
}

/* UDP_N datagrams a to b, each received before the next is sent */
static void udp_transfer(struct node *a, struct node *b, unsigned char *tx, unsigned char *rx)
{
    int r = lyra_socket(b->s, AF_INET, SOCK_DGRAM, 0), s = lyra_socket(a->s, AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in any = to(0, 7001), dst = to(B_ADDR, 7001);
    cr_assert_eq(lyra_bind(b->s, r, SA(any), sizeof(any)), 0);
    struct timeval tv = {3, 0};
    cr_assert_eq(lyra_setsockopt(b->s, r, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
    for (unsigned i = 0; i < UDP_N; i++) {
        cr_assert_eq(lyra_sendto(a->s, s, tx + i, UDP_LEN, 0, SA(dst), sizeof(dst)),
                     (ssize_t)UDP_LEN);
        cr_assert_eq(lyra_recv(b->s, r, rx, PAGE, 0), (ssize_t)UDP_LEN, "datagram %u: %s", i,
                     strerror(errno));
        cr_assert_eq(memcmp(rx, tx + i, UDP_LEN), 0, "datagram %u", i);
    }
    lyra_close(a->s, s);
    lyra_close(b->s, r);
}

static uint64_t by(const struct lyra_copy_stats *st, const char *inst)
{
    for (unsigned i = 0; i < st->n_components; i++)
        if (!strcmp(st->by_component[i].inst, inst))
            return st->by_component[i].copy_bytes;
    cr_assert_fail("no copy_bytes of %s in the copy object", inst);
    return 0;
}

/* --stats-json's "copy" object and --stats's copy: line say what st says */
static void shown(struct lyra_stack *s, const struct lyra_copy_stats *st)
{
    char *buf = NULL, want[160];
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    lyra_stack_stats_json(s, f);
    fclose(f);
    snprintf(want, sizeof(want), "\"copy\": {\"tx_copied_bytes\": %llu, \"tx_referenced_bytes\": %llu, ",
             (unsigned long long)st->tx_copied_bytes, (unsigned long long)st->tx_referenced_bytes);
    cr_assert(strstr(buf, want), "%s not in %s", want, buf);
    free(buf);
    f = open_memstream(&buf, &len);
    lyra_stack_stats_print(s, f);
    fclose(f);
    snprintf(want, sizeof(want), "  copy: tx %llu copied / %llu referenced, rx %llu copied",
             (unsigned long long)st->tx_copied_bytes, (unsigned long long)st->tx_referenced_bytes,
             (unsigned long long)st->rx_copied_bytes);
    cr_assert(strstr(buf, want), "%s not in %s", want, buf);
    free(buf);
}

LT_EACH_PAIR(copy_count, a_known_transfer_is_counted_byte_for_byte, .timeout = 120)
static void a_known_transfer_is_counted_byte_for_byte(const char *sa, const char *sb)
{
    char wire[64];
    snprintf(wire, sizeof(wire), "cc%d", (int)getpid());
    struct node a, b;
    up(&b, LT_AS_B, sb, wire);
    up(&a, LT_AS_A, sa, wire);
    unsigned char *tx = lyra_pkt_alloc(a.s, TCP_BYTES), *rx = lyra_pkt_alloc(b.s, RX_PAGES * PAGE);
    cr_assert(tx && rx, "lyra_pkt_alloc: %s", strerror(errno));
    for (size_t i = 0; i < TCP_BYTES; i++)
        tx[i] = pat(i);
    tcp_transfer(&a, &b, tx, rx);
    udp_transfer(&a, &b, tx, rx);
    usleep(100000); /* the last ACKs and FINs: no payload, nothing to count */
    halt(&a);
    halt(&b);

    const uint64_t sent = TCP_BYTES + (uint64_t)UDP_N * UDP_LEN;
    struct lyra_copy_stats ca, cb;
    lyra_stack_copy_stats(a.s, &ca);
    lyra_stack_copy_stats(b.s, &cb);
    printf("copy_count %s -> %s:\n  %s", sa, sb, sa); /* what each side did, for a human */
    lyra_copy_stats_line(&ca, stdout);
    printf("  %s", sb);
    lyra_copy_stats_line(&cb, stdout);
    fflush(stdout);
    cr_expect_eq(ca.tx_copied_bytes + ca.tx_referenced_bytes, sent,
                 "%s sent %llu bytes: %llu copied + %llu referenced", sa, (unsigned long long)sent,
                 (unsigned long long)ca.tx_copied_bytes,
                 (unsigned long long)ca.tx_referenced_bytes);
    cr_expect_eq(cb.rx_copied_bytes + cb.rx_remapped_bytes + cb.rx_loaned_bytes, sent,
                 "%s received %llu bytes: %llu copied + %llu remapped + %llu loaned", sb,
                 (unsigned long long)sent, (unsigned long long)cb.rx_copied_bytes,
                 (unsigned long long)cb.rx_remapped_bytes, (unsigned long long)cb.rx_loaned_bytes);
    cr_expect_eq(ca.rx_copied_bytes + ca.rx_remapped_bytes + ca.rx_loaned_bytes, 0,
                 "%s received no payload", sa);
    cr_expect_eq(cb.tx_copied_bytes + cb.tx_referenced_bytes, 0, "%s sent no payload", sb);
    /* a copy stack copies all of it, and its transports say they did */
    const char *side[2] = {sa, sb};
    const struct lyra_copy_stats *st[2] = {&ca, &cb};
    for (int i = 0; i < 2; i++) {
        if (strncmp(side[i], "copy-", 5))
            continue;
        cr_expect_eq(st[i]->tx_referenced_bytes + st[i]->rx_remapped_bytes +
                         st[i]->rx_loaned_bytes + st[i]->cow_faults,
                     0, "%s copies everything", side[i]);
        uint64_t fb = 0;
        for (unsigned k = 0; k < st[i]->n_fallbacks; k++)
            fb += st[i]->fallbacks[k].count;
        cr_expect_eq(fb, 0, "%s has no zero-copy path to fall back from", side[i]);
        cr_expect_eq(by(st[i], "tcp"), TCP_BYTES, "%s: tcp copied the stream once", side[i]);
        cr_expect_eq(by(st[i], "udp"), (uint64_t)UDP_N * UDP_LEN, "%s: udp copied the datagrams",
                     side[i]);
        cr_expect_eq(by(st[i], "ip"), 0, "%s: nothing fragmented, nothing reassembled", side[i]);
    }
    /* the receiver's transports count only what the provider copied: a
     * remapped segment is not a copy (skb 2.3 copy_out returns it moved) */
    cr_expect_eq(by(&cb, "tcp") + by(&cb, "udp"), cb.rx_copied_bytes,
                 "%s: transports copied %llu + %llu, the provider %llu", sb,
                 (unsigned long long)by(&cb, "tcp"), (unsigned long long)by(&cb, "udp"),
                 (unsigned long long)cb.rx_copied_bytes);
    shown(a.s, &ca);
    shown(b.s, &cb);
    lyra_pkt_free(a.s, tx);
    lyra_pkt_free(b.s, rx);
    lyra_stack_destroy(a.s);
    lyra_stack_destroy(b.s);
}
