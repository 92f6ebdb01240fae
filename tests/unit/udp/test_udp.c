/* The udp component wired to fake_l3, fake_os and skb_copy.
 *
 * fake_l3 plays ip (192.0.2.2/24 unless a test says otherwise): it records
 * what udp outputs and delivers datagrams up as ip would. Datagrams are
 * Linux's where they can be (udp_vectors.h; tests/data/udp/udp-linux.pcap
 * read frame by frame) and hand-built with a right checksum elsewhere.
 * Every test ends with a leak check: nothing out of the skb pool once udp
 * has stopped, nothing freed twice, no os memory left. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fake_l3.h"
#include "fake_os.h"
#include "lt.h"
#include "lyra/l3.h"
#include "lyra/l4.h"
#include "lyra/netdev.h"
#include "lyra/skb.h"
#include "udp_vectors.h"
#include "udp_wire.h"

/* One receive buffer as the l4 recv's iovec. */
#define IOV1(b, l) (&(struct lyra_iov){(b), (l)})

extern const struct lyra_component lyra_component_udp;
#include "lt_skb.h" /* LT_SKB_PROVIDER: skb_copy, or fake_skb_split in the _split build */

/* ----- fixture ------------------------------------------------------------ */

struct fx {
    struct lt_inst *os, *skb, *l3, *udp;
    const struct lyra_l4_ops *l4;
    const struct lyra_skb_ops *so;
    void *u, *fl;
    struct fake_l3_cfg *cfg;
};

static void fx_bind(struct fx *f, struct lt_inst *os, struct lt_inst *skb,
                    const char *const *udp_p, const char *const *l3_p)
{
    f->os = os;
    f->skb = skb;
    f->l3 = lt_create(&lyra_component_fake_l3, l3_p);
    f->udp = lt_create(&lyra_component_udp, udp_p);
    cr_assert_not_null(f->l3);
    cr_assert_not_null(f->udp);
    cr_assert_eq(lt_bind(f->l3, "skb", skb), 0);
    cr_assert_eq(lt_bind(f->udp, "os", os), 0);
    cr_assert_eq(lt_bind(f->udp, "skb", skb), 0);
    cr_assert_eq(lt_bind(f->udp, "l3", f->l3), 0);
    cr_assert_eq(lt_start(f->l3), 0);
    cr_assert_eq(lt_start(f->udp), 0);
    f->l4 = lt_ops(f->udp, "l4");
    cr_assert_not_null(f->l4);
    cr_assert_eq(f->l4->type, LYRA_SOCK_DGRAM);
    cr_assert_eq(f->l4->protocol, 17);
    f->so = lt_ops(skb, "skb");
    f->u = f->udp->self;
    f->fl = f->l3->self;
    f->cfg = fake_l3_cfg(f->fl);
    /* the _split build: received datagrams arrive in 64-byte pieces */
    f->cfg->rx_add_data = LT_SKB_SPLIT_ON;
    cr_assert(fake_l3_registered(f->fl, 17), "udp did not register protocol 17");
}

static void fx_up3(struct fx *f, const char *const *udp_p, const char *const *skb_p,
                   const char *const *os_p)
{
    memset(f, 0, sizeof(*f));
    struct lt_inst *os = lt_create(&lyra_component_fake_os, os_p);
    struct lt_inst *skb = lt_create(&LT_SKB_PROVIDER,
                                    skb_p ? skb_p
                                          : (const char *const[]){"count=64", "buf_size=2048",
                                                                  NULL});
    cr_assert_not_null(os);
    cr_assert_not_null(skb);
    cr_assert_eq(lt_bind(skb, "os", os), 0);
    cr_assert_eq(lt_start(os), 0);
    cr_assert_eq(lt_start(skb), 0);
    fx_bind(f, os, skb, udp_p, NULL);
}

static void fx_up(struct fx *f, const char *const *udp_p)
{
    fx_up3(f, udp_p, NULL, NULL);
}

static uint64_t st(struct fx *f, const char *name)
{
    uint64_t v = lt_stat(f->udp, name);
    cr_assert_neq(v, UINT64_MAX, "udp reports no counter %s", name);
    return v;
}

static uint64_t skb_in_use(struct fx *f)
{
    return lt_stat(f->skb, "in_use");
}

static void fx_stop_udp(struct fx *f)
{
    lt_stop(f->udp);
    lt_destroy(f->udp);
    lt_destroy(f->l3);
}

static void fx_down(struct fx *f)
{
    fx_stop_udp(f);
    cr_assert_eq(skb_in_use(f), 0, "skbs leaked: %llu", (unsigned long long)skb_in_use(f));
    cr_assert_eq(lt_stat(f->skb, "bad_free"), 0, "an skb was freed twice");
    lt_stop(f->skb);
    cr_assert_eq(fake_os_mem_in_use(f->os->self), 0, "os memory leaked");
    lt_destroy(f->skb);
    lt_destroy(f->os);
}

/* ----- helpers ------------------------------------------------------------ */

static struct lyra_sockaddr4 A(uint32_t addr, uint16_t port)
{
    return (struct lyra_sockaddr4){.addr = addr, .port = port};
}

static int ep_open(struct fx *f)
{
    int h = f->l4->open(f->u);
    cr_assert_geq(h, 0, "open: %d", h);
    return h;
}

static int ep_bound(struct fx *f, uint32_t addr, uint16_t port)
{
    int h = ep_open(f);
    struct lyra_sockaddr4 a = A(addr, port);
    cr_assert_eq(f->l4->bind(f->u, h, &a), 0);
    return h;
}

static int setopt(struct fx *f, int h, int opt, int val)
{
    return f->l4->setopt(f->u, h, opt, val);
}

/* Delivers len bytes (header and data) as ip would, from src to dst. */
static int rx_raw(struct fx *f, uint32_t src, uint32_t dst, const void *d, uint32_t len,
                  uint8_t flags)
{
    struct lyra_l3_rxinfo info = {.src = src, .dst = dst, .proto = 17, .ttl = 64,
                                  .flags = flags};
    return fake_l3_rx(f->fl, d, len, &info);
}

/* Builds a datagram with a right checksum into b; returns its length. */
static uint32_t make(uint8_t *b, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
                     const void *data, uint32_t n)
{
    struct udp_hdr h = {.sport = sport, .dport = dport, .len = (uint16_t)(n + 8), .csum = 0};
    udp_hdr_build(b, &h);
    memcpy(b + 8, data, n);
    struct lyra_skb s = {.data = b, .len = n + 8};
    udp_st16(b + 6, udp_csum_final(lyra_skb_csum(&s, 0, n + 8, udp_pseudo_sum(src, dst, h.len))));
    return n + 8;
}

static void rx(struct fx *f, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
               const char *text, uint8_t flags)
{
    uint8_t b[2048];
    uint32_t n = make(b, src, sport, dst, dport, text, (uint32_t)strlen(text));
    cr_assert_eq(rx_raw(f, src, dst, b, n, flags), 0);
}

/* Receives one datagram and checks its text and source. */
static void expect(struct fx *f, int h, const char *text, uint32_t src, uint16_t sport)
{
    char buf[2048];
    struct lyra_sockaddr4 from = {0};
    long n = f->l4->recv(f->u, h, IOV1(buf, sizeof(buf)), 1, &from, NULL, 0);
    cr_assert_eq(n, (long)strlen(text), "endpoint %d: recv %ld, want \"%s\"", h, n, text);
    cr_assert_eq(memcmp(buf, text, (size_t)n), 0, "endpoint %d: wrong data", h);
    cr_assert_eq(from.addr, src);
    cr_assert_eq(from.port, sport);
}

static void expect_none(struct fx *f, int h)
{
    char buf[16];
    cr_assert_eq(f->l4->recv(f->u, h, IOV1(buf, sizeof(buf)), 1, NULL, NULL, 0), -EAGAIN,
                 "endpoint %d has a datagram", h);
}

static const struct fake_l3_out *out(struct fx *f, unsigned i)
{
    const struct fake_l3_out *o = fake_l3_out(f->fl, i);
    cr_assert_not_null(o, "no output %u", i);
    return o;
}

static bool out_csum_ok(const struct fake_l3_out *o)
{
    struct lyra_skb s = {.data = (uint8_t *)o->b, .len = o->len};
    return udp_csum_ok(lyra_skb_csum(&s, 0, o->len, udp_pseudo_sum(o->src, o->dst, (uint16_t)o->len)));
}

/* ----- receiving Linux's datagrams ----------------------------------------- */

/* Every frame of udp-linux.pcap, delivered as ip would hand it up, lands
 * on the endpoint of its port with its data; all checksums verify (the
 * zero one is accepted as "none"). */
Test(udp, receives_linux_capture)
{
    struct fx f;
    fx_up(&f, NULL);
    int e7 = ep_bound(&f, 0, 7), e9 = ep_bound(&f, 0, 9);
    struct lt_pcap p;
    cr_assert_eq(lt_pcap_open(&p, "udp/udp-linux.pcap"), 0);
    const uint8_t *fr;
    uint32_t len, frames = 0;
    while ((len = lt_pcap_next(&p, &fr))) {
        const uint8_t *ip = fr + 14;
        uint32_t src = (uint32_t)ip[12] << 24 | (uint32_t)ip[13] << 16 | ip[14] << 8 | ip[15];
        uint32_t dst = (uint32_t)ip[16] << 24 | (uint32_t)ip[17] << 16 | ip[18] << 8 | ip[19];
        uint8_t fl = dst == SUBNET_BCAST ? LYRA_L3_F_BCAST : 0;
        cr_assert_eq(rx_raw(&f, src, dst, ip + 20, len - 34, fl), 0);
        frames++;
    }
    lt_pcap_close(&p);
    cr_assert_eq(frames, 6);
    cr_assert_eq(st(&f, "rx_bad_csum"), 0);
    cr_assert_eq(st(&f, "rx_datagrams"), 6);
    cr_assert_eq(st(&f, "rx_bytes"), 5 + 1000 + 5 + 6 + 6 + 0);
    expect(&f, e7, "Lyra!", LINUX_IP, 40000);
    uint8_t big[1000];
    struct lyra_sockaddr4 from;
    cr_assert_eq(f.l4->recv(f.u, e9, IOV1(big, sizeof(big)), 1, &from, NULL, 0), 1000);
    for (unsigned i = 0; i < sizeof(big); i++)
        cr_assert_eq(big[i], i % 251);
    expect(&f, e9, "bcast", LINUX_IP, 40001);
    expect(&f, e9, "nocsum", LINUX_IP, 40002);
    expect(&f, e9, "Lyra \xa7", LINUX_IP, 40003);
    expect(&f, e9, "", LINUX_IP, 40000);
    expect_none(&f, e9);
    cr_assert_eq(fake_l3_icmp_count(f.fl), 0);
    fx_down(&f);
}

Test(udp, zero_checksum_accepted_bad_one_dropped)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = ep_bound(&f, 0, 9);
    cr_assert_eq(rx_raw(&f, LINUX_IP, STACK_IP, linux_nocsum, sizeof(linux_nocsum), 0), 0);
    expect(&f, h, "nocsum", LINUX_IP, 40002);
    uint8_t b[sizeof(linux_ffff)];
    memcpy(b, linux_ffff, sizeof(b));
    b[9] ^= 1; /* one data bit */
    cr_assert_eq(rx_raw(&f, LINUX_IP, STACK_IP, b, sizeof(b), 0), 0);
    expect_none(&f, h);
    cr_assert_eq(st(&f, "rx_bad_csum"), 1);
    /* right data, wrong pseudo header: from another source */
    cr_assert_eq(rx_raw(&f, IP4(192, 0, 2, 3), STACK_IP, linux_ffff, sizeof(linux_ffff), 0), 0);
    cr_assert_eq(st(&f, "rx_bad_csum"), 2);
    /* the checksum Linux sent as 0xffff verifies */
    cr_assert_eq(rx_raw(&f, LINUX_IP, STACK_IP, linux_ffff, sizeof(linux_ffff), 0), 0);
    expect(&f, h, "Lyra \xa7", LINUX_IP, 40003);
    /* the seed-only checksum of udp-unreach-linux.pcap is wrong as it is */
    cr_assert_eq(rx_raw(&f, LINUX_IP, STACK_IP, linux_seed, sizeof(linux_seed), 0), 0);
    cr_assert_eq(st(&f, "rx_bad_csum"), 3);
    cr_assert_eq(st(&f, "rx_datagrams"), 2);
    cr_assert_eq(fake_l3_icmp_count(f.fl), 0, "no ICMP about a corrupt datagram");
    fx_down(&f);
}

/* LYRA_L3_F_CSUM_OK: the NIC verified it, udp does not look again. */
Test(udp, nic_verified_checksum_not_checked)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = ep_bound(&f, 0, 9);
    uint8_t b[sizeof(linux_ffff)];
    memcpy(b, linux_ffff, sizeof(b));
    b[6] = 0x12; /* a wrong checksum the NIC would have caught */
    cr_assert_eq(rx_raw(&f, LINUX_IP, STACK_IP, b, sizeof(b), LYRA_L3_F_CSUM_OK), 0);
    expect(&f, h, "Lyra \xa7", LINUX_IP, 40003);
    cr_assert_eq(st(&f, "rx_bad_csum"), 0);
    fx_down(&f);
}

Test(udp, bad_lengths_dropped_and_counted)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = ep_bound(&f, 0, 7);
    cr_assert_eq(rx_raw(&f, LINUX_IP, STACK_IP, linux_lyra, 7, 0), 0);
    cr_assert_eq(rx_raw(&f, LINUX_IP, STACK_IP, linux_lyra, 0, 0), 0);
    cr_assert_eq(st(&f, "rx_short"), 2);
    /* the length says 13, IP carried 12 */
    cr_assert_eq(rx_raw(&f, LINUX_IP, STACK_IP, linux_lyra, 12, 0), 0);
    uint8_t b[sizeof(linux_lyra)];
    memcpy(b, linux_lyra, sizeof(b));
    b[5] = 7; /* below the header's own size */
    cr_assert_eq(rx_raw(&f, LINUX_IP, STACK_IP, b, sizeof(b), 0), 0);
    cr_assert_eq(st(&f, "rx_bad_len"), 2);
    expect_none(&f, h);
    cr_assert_eq(st(&f, "rx_datagrams"), 0);
    cr_assert_eq(fake_l3_icmp_count(f.fl), 0);
    fx_down(&f);
}

/* Bytes after the UDP length (IP padding) are not data and not summed. */
Test(udp, padding_trimmed)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = ep_bound(&f, 0, 7);
    uint8_t b[sizeof(linux_lyra) + 5];
    memcpy(b, linux_lyra, sizeof(linux_lyra));
    memset(b + sizeof(linux_lyra), 0xa5, 5);
    cr_assert_eq(rx_raw(&f, LINUX_IP, STACK_IP, b, sizeof(b), 0), 0);
    char buf[64];
    struct lyra_sockaddr4 from;
    cr_assert_eq(f.l4->recv(f.u, h, IOV1(buf, sizeof(buf)), 1, &from, NULL, LYRA_MSG_TRUNC), 5);
    cr_assert_eq(memcmp(buf, "Lyra!", 5), 0);
    cr_assert_eq(st(&f, "rx_bad_csum"), 0);
    fx_down(&f);
}

/* ----- demultiplexing ------------------------------------------------------ */

Test(udp, demux_most_specific_wins)
{
    struct fx f;
    fx_up(&f, NULL);
    /* in the order least specific first, so table order cannot decide */
    int any = ep_open(&f), spec = ep_open(&f), conn = ep_open(&f);
    for (int h = any; h <= conn; h++)
        cr_assert_eq(setopt(&f, h, LYRA_SO_REUSEADDR, 1), 0);
    struct lyra_sockaddr4 a = A(0, 9), s = A(STACK_IP, 9), peer = A(LINUX_IP, 5000);
    cr_assert_eq(f.l4->bind(f.u, any, &a), 0);
    cr_assert_eq(f.l4->bind(f.u, spec, &s), 0);
    cr_assert_eq(f.l4->bind(f.u, conn, &a), 0);
    cr_assert_eq(f.l4->connect(f.u, conn, &peer), 0);
    rx(&f, LINUX_IP, 5000, STACK_IP, 9, "to conn", 0);
    rx(&f, LINUX_IP, 5001, STACK_IP, 9, "to spec", 0);
    expect(&f, conn, "to conn", LINUX_IP, 5000);
    expect(&f, spec, "to spec", LINUX_IP, 5001);
    expect_none(&f, any);
    f.l4->close(f.u, spec);
    rx(&f, LINUX_IP, 5001, STACK_IP, 9, "to any", 0);
    expect(&f, any, "to any", LINUX_IP, 5001);
    expect_none(&f, conn);
    fx_down(&f);
}

/* A connected endpoint hears its peer only; others' datagrams to its port
 * find nobody: port unreachable. */
Test(udp, connected_filters_peer)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = ep_open(&f);
    struct lyra_sockaddr4 peer = A(LINUX_IP, 7);
    cr_assert_eq(f.l4->connect(f.u, h, &peer), 0);
    struct lyra_sockaddr4 me;
    cr_assert_eq(f.l4->name(f.u, h, 0, &me), 0);
    cr_assert_eq(me.addr, STACK_IP, "local address from the route");
    cr_assert_geq(me.port, 49152, "ephemeral port on connect");
    rx(&f, LINUX_IP, 7, STACK_IP, me.port, "peer", 0);
    rx(&f, LINUX_IP, 8, STACK_IP, me.port, "other port", 0);
    rx(&f, IP4(192, 0, 2, 3), 7, STACK_IP, me.port, "other host", 0);
    expect(&f, h, "peer", LINUX_IP, 7);
    expect_none(&f, h);
    cr_assert_eq(st(&f, "no_port"), 2);
    cr_assert_eq(fake_l3_icmp_count(f.fl), 2);
    /* dissolved: everyone's datagrams again, and the address is any */
    struct lyra_sockaddr4 none = A(0, 0);
    cr_assert_eq(f.l4->connect(f.u, h, &none), 0);
    cr_assert_eq(f.l4->name(f.u, h, 1, &me), -ENOTCONN);
    cr_assert_eq(f.l4->name(f.u, h, 0, &me), 0);
    cr_assert_eq(me.addr, 0);
    rx(&f, IP4(192, 0, 2, 3), 7, STACK_IP, me.port, "other host", 0);
    expect(&f, h, "other host", IP4(192, 0, 2, 3), 7);
    fx_down(&f);
}

/* RFC 1122 4.1.3.1: port unreachable for unicast, with skb->data at the
 * UDP header and l3_off at the IP header; never for broadcast. */
Test(udp, port_unreachable_unicast_only)
{
    struct fx f;
    fx_up(&f, NULL);
    cr_assert_eq(rx_raw(&f, LINUX_IP, STACK_IP, linux_lyra, sizeof(linux_lyra), 0), 0);
    cr_assert_eq(st(&f, "no_port"), 1);
    cr_assert_eq(fake_l3_icmp_count(f.fl), 1);
    const struct fake_l3_icmp *c = fake_l3_icmp(f.fl, 0);
    cr_assert_eq(c->type, 3);
    cr_assert_eq(c->code, 3);
    cr_assert_eq(c->l4_at, 20, "skb->data at the UDP header, 20 bytes past l3_off");
    cr_assert_eq(c->quote[0], 0x45);
    cr_assert_eq(c->quote[9], 17);
    cr_assert_eq(memcmp(c->quote + 20, linux_lyra, sizeof(linux_lyra)), 0,
                 "the whole datagram follows the IP header");
    cr_assert_eq(rx_raw(&f, LINUX_IP, SUBNET_BCAST, linux_bcast, sizeof(linux_bcast),
                        LYRA_L3_F_BCAST), 0);
    rx(&f, LINUX_IP, 40001, IP4(224, 0, 0, 1), 9, "mcast", LYRA_L3_F_MCAST);
    cr_assert_eq(st(&f, "no_port_bcast"), 2);
    cr_assert_eq(st(&f, "no_port"), 1);
    cr_assert_eq(fake_l3_icmp_count(f.fl), 1, "no ICMP about a broadcast");
    fx_down(&f);
}

/* A broadcast reaches every endpoint that takes it: bound to any or to the
 * broadcast address, not one bound to the unicast address. */
Test(udp, broadcast_to_every_taker)
{
    struct fx f;
    fx_up(&f, NULL);
    int h[4];
    for (int i = 0; i < 4; i++) {
        h[i] = ep_open(&f);
        cr_assert_eq(setopt(&f, h[i], LYRA_SO_REUSEADDR, 1), 0);
    }
    struct lyra_sockaddr4 a = A(0, 9), u = A(STACK_IP, 9), b = A(SUBNET_BCAST, 9);
    cr_assert_eq(f.l4->bind(f.u, h[0], &a), 0);
    cr_assert_eq(f.l4->bind(f.u, h[1], &u), 0);
    cr_assert_eq(f.l4->bind(f.u, h[2], &b), 0);
    cr_assert_eq(f.l4->bind(f.u, h[3], &a), 0);
    uint64_t copies = lt_stat(f.skb, "copy_out_bytes");
    cr_assert_eq(rx_raw(&f, LINUX_IP, SUBNET_BCAST, linux_bcast, sizeof(linux_bcast),
                        LYRA_L3_F_BCAST), 0);
    expect(&f, h[0], "bcast", LINUX_IP, 40001);
    expect_none(&f, h[1]);
    expect(&f, h[2], "bcast", LINUX_IP, 40001);
    expect(&f, h[3], "bcast", LINUX_IP, 40001);
    cr_assert_eq(st(&f, "rx_bcast_copies"), 2);
    cr_assert_eq(st(&f, "rx_datagrams"), 3);
    /* 2 copies of 5 bytes made at rx, 3 recvs of 5 bytes */
    cr_assert_eq(lt_stat(f.skb, "copy_out_bytes") - copies, 2 * 5 + 3 * 5);
    fx_down(&f);
}

/* ----- receive queue ------------------------------------------------------- */

Test(udp, queue_bounded_by_count)
{
    struct fx f;
    fx_up(&f, (const char *const[]){"rx_queue=4", NULL});
    int h = ep_bound(&f, 0, 9);
    char t[8];
    for (int i = 0; i < 6; i++) {
        snprintf(t, sizeof(t), "d%d", i);
        rx(&f, LINUX_IP, 1000, STACK_IP, 9, t, 0);
    }
    cr_assert_eq(st(&f, "rx_queue_full"), 2);
    cr_assert_eq(st(&f, "rx_queued"), 4);
    cr_assert_eq(skb_in_use(&f), 4, "queued as the skbs that came, nothing else held");
    for (int i = 0; i < 4; i++) {
        snprintf(t, sizeof(t), "d%d", i);
        expect(&f, h, t, LINUX_IP, 1000);
    }
    expect_none(&f, h);
    cr_assert_eq(skb_in_use(&f), 0);
    fx_down(&f);
}

Test(udp, queue_bounded_by_bytes)
{
    struct fx f;
    fx_up(&f, (const char *const[]){"rx_bytes=100", NULL});
    int h = ep_bound(&f, 0, 9);
    int v;
    cr_assert_eq(f.l4->getopt(f.u, h, LYRA_SO_RCVBUF, &v), 0);
    cr_assert_eq(v, 100, "rx_bytes is the default SO_RCVBUF");
    char d[41];
    memset(d, 'x', 40);
    d[40] = 0;
    for (int i = 0; i < 3; i++)
        rx(&f, LINUX_IP, 1000, STACK_IP, 9, d, 0);
    cr_assert_eq(st(&f, "rx_queue_full"), 1, "80 of 100 bytes held, 40 more do not fit");
    rx(&f, LINUX_IP, 1000, STACK_IP, 9, "0123456789012345678", 0); /* 19: fits */
    cr_assert_eq(st(&f, "rx_queued"), 3);
    expect(&f, h, d, LINUX_IP, 1000);
    rx(&f, LINUX_IP, 1000, STACK_IP, 9, d, 0); /* room again */
    cr_assert_eq(st(&f, "rx_queue_full"), 1);
    /* SO_RCVBUF per endpoint */
    cr_assert_eq(setopt(&f, h, LYRA_SO_RCVBUF, 10), 0);
    rx(&f, LINUX_IP, 1000, STACK_IP, 9, "z", 0);
    cr_assert_eq(st(&f, "rx_queue_full"), 2);
    int g = ep_bound(&f, 0, 10);
    cr_assert_eq(f.l4->getopt(f.u, g, LYRA_SO_RCVBUF, &v), 0);
    cr_assert_eq(v, 100, "other endpoints keep the default");
    fx_down(&f);
}

Test(udp, truncation_peek_and_trunc)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = ep_bound(&f, 0, 9);
    rx(&f, LINUX_IP, 1000, STACK_IP, 9, "0123456789", 0);
    rx(&f, LINUX_IP, 1001, STACK_IP, 9, "next", 0);
    char b[16] = {0};
    struct lyra_sockaddr4 from;
    cr_assert_eq(f.l4->recv(f.u, h, IOV1(b, 4), 1, &from, NULL, LYRA_MSG_PEEK), 4);
    cr_assert_eq(memcmp(b, "0123", 4), 0);
    cr_assert_eq(from.port, 1000);
    cr_assert_eq(f.l4->recv(f.u, h, IOV1(b, 4), 1, &from, NULL, LYRA_MSG_PEEK | LYRA_MSG_TRUNC),
                 10);
    cr_assert_eq(f.l4->recv(f.u, h, IOV1(b, sizeof(b)), 1, NULL, NULL, LYRA_MSG_PEEK),
                 10, "still queued");
    memset(b, 0, sizeof(b));
    cr_assert_eq(f.l4->recv(f.u, h, IOV1(b, 4), 1, NULL, NULL, LYRA_MSG_TRUNC),
                 10, "TRUNC: the real length");
    cr_assert_eq(memcmp(b, "0123", 4), 0);
    cr_assert_eq(b[4], 0, "only 4 bytes copied");
    /* the rest of the datagram went: next is the next one */
    cr_assert_eq(f.l4->recv(f.u, h, IOV1(b, 2), 1, &from, NULL, 0),
                 2, "truncated without TRUNC: copied");
    cr_assert_eq(memcmp(b, "ne", 2), 0);
    cr_assert_eq(from.port, 1001);
    expect_none(&f, h);
    fx_down(&f);
}

Test(udp, close_frees_queued)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = ep_bound(&f, 0, 9);
    for (int i = 0; i < 3; i++)
        rx(&f, LINUX_IP, 1000, STACK_IP, 9, "held", 0);
    cr_assert_eq(skb_in_use(&f), 3);
    f.l4->close(f.u, h);
    cr_assert_eq(skb_in_use(&f), 0);
    cr_assert_eq(st(&f, "endpoints"), 0);
    cr_assert_eq(f.l4->recv(f.u, h, IOV1(NULL, 0), 1, NULL, NULL, 0), -EBADF);
    /* the port is free again */
    int g = ep_bound(&f, 0, 9);
    rx(&f, LINUX_IP, 1000, STACK_IP, 9, "new", 0);
    expect(&f, g, "new", LINUX_IP, 1000);
    fx_down(&f);
}

/* Stop lets go of every queued skb (the pool must be whole after it). */
Test(udp, stop_frees_everything)
{
    struct fx f;
    fx_up(&f, NULL);
    for (int i = 0; i < 4; i++) {
        ep_bound(&f, 0, (uint16_t)(9 + i));
        rx(&f, LINUX_IP, 1000, STACK_IP, (uint16_t)(9 + i), "held", 0);
    }
    cr_assert_eq(skb_in_use(&f), 4);
    lt_stop(f.udp);
    cr_assert_eq(skb_in_use(&f), 0);
    /* stopped: what arrives is dropped and counted */
    rx(&f, LINUX_IP, 1000, STACK_IP, 9, "late", 0);
    cr_assert_eq(st(&f, "rx_down"), 1);
    cr_assert_eq(skb_in_use(&f), 0);
    /* started again: a fresh table (l3 keeps the registration) */
    cr_assert_eq(lt_start(f.udp), 0);
    int h = ep_bound(&f, 0, 9);
    rx(&f, LINUX_IP, 1000, STACK_IP, 9, "again", 0);
    expect(&f, h, "again", LINUX_IP, 1000);
    fx_down(&f);
}

/* ----- sending ------------------------------------------------------------- */

/* Playing 192.0.2.1, udp sends what Linux sent, byte for byte. */
Test(udp, sends_what_linux_sent)
{
    struct fx f;
    fx_up(&f, NULL);
    f.cfg->addr = LINUX_IP;
    int h = ep_bound(&f, 0, 40000);
    struct lyra_sockaddr4 to7 = A(STACK_IP, 7), to9 = A(STACK_IP, 9);
    uint64_t in0 = lt_stat(f.skb, "copy_in_bytes");
    cr_assert_eq(f.l4->send(f.u, h, "Lyra!", 5, &to7, 0), 5);
    cr_assert_eq(lt_stat(f.skb, "copy_in_bytes") - in0, 5, "payload went in with add_data");
    cr_assert_eq(f.l4->send(f.u, h, "", 0, &to9, 0), 0);
    const struct fake_l3_out *o = out(&f, 0);
    cr_assert_eq(o->len, sizeof(linux_lyra));
    cr_assert_eq(memcmp(o->b, linux_lyra, sizeof(linux_lyra)), 0, "differs from Linux's");
    cr_assert_eq(o->src, LINUX_IP);
    cr_assert_eq(o->dst, STACK_IP);
    cr_assert_eq(o->proto, 17);
    cr_assert_eq(o->ttl, 0, "0: ip's default TTL");
    cr_assert_eq(o->tos, 0);
    cr_assert_eq(o->df, 0);
    cr_assert_geq(o->headroom, 34, "room left for ip and Ethernet");
    cr_assert_eq(o->skb_flags & LYRA_SKB_F_CSUM_TX, 0);
    o = out(&f, 1);
    cr_assert_eq(o->len, sizeof(linux_empty));
    cr_assert_eq(memcmp(o->b, linux_empty, sizeof(linux_empty)), 0);
    /* the one whose sum is 0 goes out as 0xffff, as Linux's did */
    int g = ep_bound(&f, 0, 40003);
    cr_assert_eq(f.l4->send(f.u, g, "Lyra \xa7", 6, &to9, 0), 6);
    o = out(&f, 2);
    cr_assert_eq(memcmp(o->b, linux_ffff, sizeof(linux_ffff)), 0);
    /* a large one, checked by verifying */
    uint8_t big[1000];
    for (unsigned i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i % 251);
    cr_assert_eq(f.l4->send(f.u, h, big, sizeof(big), &to9, 0), 1000);
    o = out(&f, 3);
    cr_assert_eq(o->len, 1008);
    cr_assert_eq(udp_ld16(o->b + 6), 0xb5a0, "Linux's checksum of the same datagram");
    cr_assert(out_csum_ok(o));
    cr_assert_eq(st(&f, "tx_datagrams"), 4);
    cr_assert_eq(st(&f, "tx_bytes"), 5 + 0 + 6 + 1000);
    fx_down(&f);
}

/* csum_tx=off sends 0, as Linux's SO_NO_CHECK did. */
Test(udp, csum_off_sends_zero)
{
    struct fx f;
    fx_up(&f, (const char *const[]){"csum_tx=off", NULL});
    f.cfg->addr = LINUX_IP;
    int h = ep_bound(&f, 0, 40002);
    struct lyra_sockaddr4 to = A(STACK_IP, 9);
    cr_assert_eq(f.l4->send(f.u, h, "nocsum", 6, &to, 0), 6);
    cr_assert_eq(memcmp(out(&f, 0)->b, linux_nocsum, sizeof(linux_nocsum)), 0);
    fx_down(&f);
}

/* With UDP checksum offload on the route, the field holds the pseudo
 * header's sum and the NIC is told where to sum and store; doing the NIC's
 * work gives Linux's checksum. */
Test(udp, checksum_offload)
{
    struct fx f;
    fx_up(&f, NULL);
    f.cfg->addr = LINUX_IP;
    f.cfg->csum_tx = LYRA_CSUM_UDP;
    int h = ep_bound(&f, 0, 40000);
    struct lyra_sockaddr4 to = A(STACK_IP, 7);
    cr_assert_eq(f.l4->send(f.u, h, "Lyra!", 5, &to, 0), 5);
    const struct fake_l3_out *o = out(&f, 0);
    cr_assert(o->skb_flags & LYRA_SKB_F_CSUM_TX);
    /* skb.h: counted from head, at our header, whatever the pool gave
     * beyond what l3 asked for (skb_copy prefers 128 bytes of headroom,
     * fake_l3 asks 34): a NIC subtracts the headroom it sees at xmit */
    cr_assert_eq(o->csum_start, o->headroom, "counted from head: the UDP header's headroom");
    cr_assert_gt(o->headroom, f.cfg->headroom, "the pool gave more headroom than asked");
    cr_assert_eq(o->csum_at, 0, "the sum starts at the UDP header");
    cr_assert_eq(o->csum_off, 6);
    uint32_t seed = udp_pseudo_sum(LINUX_IP, STACK_IP, 13);
    while (seed >> 16)
        seed = (seed & 0xffff) + (seed >> 16);
    cr_assert_eq(udp_ld16(o->b + 6), seed);
    /* the NIC's work, where the offsets say */
    uint8_t b[sizeof(linux_lyra)];
    memcpy(b, o->b, sizeof(b));
    uint32_t at = (uint32_t)o->csum_at;
    struct lyra_skb s = {.data = b + at, .len = sizeof(b) - at};
    udp_st16(b + at + o->csum_off, (uint16_t)~lyra_skb_csum(&s, 0, sizeof(b) - at, 0));
    cr_assert_eq(memcmp(b, linux_lyra, sizeof(b)), 0);
    cr_assert_eq(st(&f, "tx_csum_offload"), 1);
    /* a NIC that offloads TCP only: software */
    f.cfg->csum_tx = LYRA_CSUM_TCP | LYRA_CSUM_IPV4;
    cr_assert_eq(f.l4->send(f.u, h, "Lyra!", 5, &to, 0), 5);
    o = out(&f, 1);
    cr_assert_eq(o->skb_flags & LYRA_SKB_F_CSUM_TX, 0);
    cr_assert_eq(memcmp(o->b, linux_lyra, sizeof(linux_lyra)), 0);
    fx_down(&f);
}

Test(udp, emsgsize_and_largest_datagram)
{
    struct fx f;
    /* segs: fake_skb_split (the _split build) needs 1024 pieces of 64 bytes */
    fx_up3(&f, NULL,
           (const char *const[]){"count=4", "buf_size=65536", "headroom=0", "segs=1100", NULL},
           NULL);
    f.cfg->headroom = 0; /* so that 8 + 65507 bytes fit in one buffer */
    int h = ep_open(&f);
    static uint8_t big[65508];
    struct lyra_sockaddr4 to = A(LINUX_IP, 9);
    cr_assert_eq(f.l4->send(f.u, h, big, 65508, &to, 0), -EMSGSIZE);
    cr_assert_eq(fake_l3_out_count(f.fl), 0);
    cr_assert_eq(f.l4->send(f.u, h, big, 65507, &to, 0), 65507);
    const struct fake_l3_out *o = out(&f, 0);
    cr_assert_eq(o->total, 65515);
    fx_down(&f);
}

/* skb 2.0: a datagram larger than any buffer goes out chained behind a
 * header buffer (max_alloc bounds the linear part only); one the whole
 * pool could never hold fails at once with EMSGSIZE: -EAGAIN would make a
 * blocking send wait for ever. */
Test(udp, larger_than_a_buffer_chained_larger_than_the_pool_emsgsize)
{
    struct fx f;
    /* segs=100: fake_skb_split (the _split build) holds 6400 bytes in pieces */
    fx_up3(&f, NULL, (const char *const[]){"count=4", "buf_size=2048", "segs=100", NULL}, NULL);
    int h = ep_open(&f);
    static uint8_t big[10000];
    for (unsigned i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i * 17 + 5);
    struct lyra_sockaddr4 to = A(LINUX_IP, 9);
    /* 2030 bytes: more than a buffer holds behind l3's headroom, less
     * than fake_l3 records */
    cr_assert_gt(2030, f.so->max_alloc(f.skb->self, f.cfg->headroom + 8));
    cr_assert_eq(f.l4->send(f.u, h, big, 2030, &to, 0), 2030);
    const struct fake_l3_out *o = out(&f, 0);
    cr_assert_eq(o->total, 2038);
    cr_assert_geq(o->nseg, LT_SKB_SPLIT_ON ? 2030 / 64 : 1,
                  "the payload beyond the first buffer is a segment (split: pieces of 64)");
    cr_assert_eq(memcmp(o->b + 8, big, 2030), 0);
    cr_assert(out_csum_ok(o));
    cr_assert_eq(f.l4->send(f.u, h, big, 6000, &to, 0), 6000, "three buffers");
    cr_assert_eq(out(&f, 1)->total, 6008);
    cr_assert_eq(f.l4->send(f.u, h, big, sizeof(big), &to, 0), -EMSGSIZE);
    cr_assert_eq(st(&f, "tx_too_big"), 1);
    cr_assert_eq(st(&f, "tx_nobuf"), 0);
    cr_assert_eq(f.l4->send(f.u, h, big, 1000, &to, 0), 1000);
    fx_down(&f);
}

Test(udp, big_buffers_carry_datagrams_larger_than_normal_ones)
{
    struct fx f;
    fx_up3(&f, NULL,
           (const char *const[]){"count=4", "buf_size=2048", "big_count=1", "big_size=16k", NULL},
           NULL);
    int h = ep_open(&f);
    static uint8_t big[8000];
    struct lyra_sockaddr4 to = A(LINUX_IP, 9);
    cr_assert_eq(f.l4->send(f.u, h, big, sizeof(big), &to, 0), 8000);
    cr_assert_eq(out(&f, 0)->total, 8008);
    fx_down(&f);
}

Test(udp, edestaddrreq_and_send_to_on_connected)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = ep_open(&f);
    cr_assert_eq(f.l4->send(f.u, h, "x", 1, NULL, 0), -EDESTADDRREQ);
    struct lyra_sockaddr4 bad = A(LINUX_IP, 0);
    cr_assert_eq(f.l4->send(f.u, h, "x", 1, &bad, 0), -EINVAL, "port 0");
    struct lyra_sockaddr4 peer = A(LINUX_IP, 7), other = A(IP4(192, 0, 2, 3), 8);
    cr_assert_eq(f.l4->connect(f.u, h, &peer), 0);
    cr_assert_eq(f.l4->send(f.u, h, "a", 1, NULL, 0), 1);
    cr_assert_eq(f.l4->send(f.u, h, "b", 1, &other, 0), 1, "to on a connected endpoint");
    cr_assert_eq(out(&f, 0)->dst, LINUX_IP);
    cr_assert_eq(udp_ld16(out(&f, 0)->b + 2), 7);
    cr_assert_eq(out(&f, 1)->dst, IP4(192, 0, 2, 3));
    cr_assert_eq(udp_ld16(out(&f, 1)->b + 2), 8);
    cr_assert_eq(udp_ld16(out(&f, 0)->b), udp_ld16(out(&f, 1)->b), "one source port");
    cr_assert(out_csum_ok(out(&f, 1)));
    fx_down(&f);
}

Test(udp, eacces_broadcast_without_so_broadcast)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = ep_open(&f);
    struct lyra_sockaddr4 lim = A(0xffffffffu, 9), dir = A(SUBNET_BCAST, 9);
    cr_assert_eq(f.l4->send(f.u, h, "x", 1, &lim, 0), -EACCES);
    cr_assert_eq(f.l4->send(f.u, h, "x", 1, &dir, 0), -EACCES);
    cr_assert_eq(f.l4->connect(f.u, h, &dir), -EACCES);
    cr_assert_eq(fake_l3_out_count(f.fl), 0);
    cr_assert_eq(setopt(&f, h, LYRA_SO_BROADCAST, 1), 0);
    cr_assert_eq(f.l4->send(f.u, h, "x", 1, &lim, 0), 1);
    cr_assert_eq(f.l4->send(f.u, h, "y", 1, &dir, 0), 1);
    cr_assert_eq(out(&f, 0)->dst, 0xffffffffu);
    cr_assert_eq(out(&f, 1)->dst, SUBNET_BCAST);
    cr_assert_eq(out(&f, 1)->src, STACK_IP);
    cr_assert(out_csum_ok(out(&f, 1)));
    fx_down(&f);
}

/* Source address: the bound one, else the route's; never a broadcast one. */
Test(udp, source_address)
{
    struct fx f;
    fx_up(&f, NULL);
    int b = ep_open(&f);
    struct lyra_sockaddr4 ba = A(SUBNET_BCAST, 9), to = A(LINUX_IP, 9);
    cr_assert_eq(f.l4->bind(f.u, b, &ba), 0, "a broadcast address we accept is local");
    cr_assert_eq(f.l4->send(f.u, b, "x", 1, &to, 0), 1);
    cr_assert_eq(out(&f, 0)->src, STACK_IP);
    int g = ep_open(&f);
    f.cfg->gateway = IP4(192, 0, 2, 254);
    struct lyra_sockaddr4 far = A(IP4(198, 51, 100, 7), 53);
    cr_assert_eq(f.l4->send(f.u, g, "y", 1, &far, 0), 1);
    cr_assert_eq(out(&f, 1)->src, STACK_IP);
    cr_assert_eq(out(&f, 1)->dst, IP4(198, 51, 100, 7));
    fx_down(&f);
}

Test(udp, eagain_on_empty_pool)
{
    struct fx f;
    fx_up3(&f, NULL, (const char *const[]){"count=4", NULL}, NULL);
    int h = ep_open(&f);
    struct lyra_skb *held[4];
    for (int i = 0; i < 4; i++) {
        held[i] = f.so->alloc(f.skb->self, 0, 10);
        cr_assert_not_null(held[i]);
    }
    cr_assert_eq(f.l4->poll(f.u, h) & LYRA_POLL_OUT, 0, "no buffer: not writable");
    struct lyra_sockaddr4 to = A(LINUX_IP, 9);
    cr_assert_eq(f.l4->send(f.u, h, "x", 1, &to, 0), -EAGAIN);
    cr_assert_eq(st(&f, "tx_nobuf"), 1);
    lyra_skb_free(held[0]);
    cr_assert(f.l4->poll(f.u, h) & LYRA_POLL_OUT);
    cr_assert_eq(f.l4->send(f.u, h, "x", 1, &to, 0), 1);
    for (int i = 1; i < 4; i++)
        lyra_skb_free(held[i]);
    fx_down(&f);
}

/* With buffers held back for receive and control, POLLOUT follows what a
 * send can take (skb tx_avail), not what is free (issue 8.1). */
Test(udp, pollout_is_false_when_only_reserves_are_left)
{
    struct fx f;
    fx_up3(&f, NULL, (const char *const[]){"count=4", "reserve_rx=1", "reserve_ctl=1", NULL},
           NULL);
    int h = ep_open(&f);
    struct lyra_sockaddr4 to = A(LINUX_IP, 9);
    struct lyra_skb *held[2];
    for (int i = 0; i < 2; i++) {
        held[i] = f.so->alloc(f.skb->self, 0, 10);
        cr_assert_not_null(held[i]);
    }
    cr_assert_eq(f.so->avail(f.skb->self), 2, "two free, both reserved");
    cr_assert_eq(f.l4->poll(f.u, h) & LYRA_POLL_OUT, 0, "only reserves: not writable");
    cr_assert_eq(f.l4->send(f.u, h, "x", 1, &to, 0), -EAGAIN);
    lyra_skb_free(held[0]);
    cr_assert(f.l4->poll(f.u, h) & LYRA_POLL_OUT);
    cr_assert_eq(f.l4->send(f.u, h, "x", 1, &to, 0), 1);
    lyra_skb_free(held[1]);
    fx_down(&f);
}

Test(udp, output_errors_mapped_and_counted)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = ep_open(&f);
    struct lyra_sockaddr4 to = A(LINUX_IP, 9), far = A(IP4(198, 51, 100, 7), 9);
    cr_assert_eq(f.l4->send(f.u, h, "x", 1, &far, 0), -ENETUNREACH, "no gateway");
    cr_assert_eq(st(&f, "tx_noroute"), 1);
    f.cfg->output_err = -EAGAIN; /* ip or l2 had no room */
    cr_assert_eq(f.l4->send(f.u, h, "x", 1, &to, 0), -EAGAIN);
    f.cfg->output_err = -ENOBUFS;
    cr_assert_eq(f.l4->send(f.u, h, "x", 1, &to, 0), -EAGAIN);
    cr_assert_eq(st(&f, "tx_nobuf"), 2);
    f.cfg->output_err = -EMSGSIZE;
    cr_assert_eq(f.l4->send(f.u, h, "x", 1, &to, 0), -EMSGSIZE);
    cr_assert_eq(st(&f, "tx_errors"), 1);
    f.cfg->output_err = 0;
    f.cfg->route_err = -ENETUNREACH;
    cr_assert_eq(f.l4->send(f.u, h, "x", 1, &to, 0), -ENETUNREACH);
    struct lyra_sockaddr4 peer = A(LINUX_IP, 9);
    cr_assert_eq(f.l4->connect(f.u, h, &peer), -ENETUNREACH);
    cr_assert_eq(st(&f, "tx_noroute"), 2);
    cr_assert_eq(st(&f, "tx_datagrams"), 0);
    cr_assert_eq(skb_in_use(&f), 0, "output takes the skb on error too");
    fake_l3_tx_ready(f.fl);
    cr_assert_eq(st(&f, "tx_ready"), 1);
    fx_down(&f);
}

/* ----- ports --------------------------------------------------------------- */

/* Ephemeral ports: in range, unique, in order from a start the os seed
 * decides (the same seed, the same ports). */
Test(udp, ephemeral_ports_unique_in_range)
{
    struct fx f, g, k;
    fx_up3(&f, (const char *const[]){"port_min=50000", "port_max=50009", "max_sockets=12", NULL},
           NULL, (const char *const[]){"seed=7", NULL});
    fx_up3(&g, (const char *const[]){"port_min=50000", "port_max=50009", "max_sockets=12", NULL},
           NULL, (const char *const[]){"seed=7", NULL});
    fx_up3(&k, (const char *const[]){"port_min=40000", "port_max=59999", NULL}, NULL,
           (const char *const[]){"seed=8", NULL});
    struct lyra_sockaddr4 to = A(LINUX_IP, 9), me, first;
    uint16_t seen[10];
    int h[11];
    for (int i = 0; i < 10; i++) {
        h[i] = ep_open(&f);
        if (i % 3 == 0) {
            cr_assert_eq(f.l4->send(f.u, h[i], "x", 1, &to, 0), 1); /* on send */
        } else if (i % 3 == 1) {
            cr_assert_eq(f.l4->connect(f.u, h[i], &to), 0); /* on connect */
        } else {
            struct lyra_sockaddr4 any = A(0, 0);
            cr_assert_eq(f.l4->bind(f.u, h[i], &any), 0); /* bind to port 0 */
        }
        cr_assert_eq(f.l4->name(f.u, h[i], 0, &me), 0);
        cr_assert(me.port >= 50000 && me.port <= 50009, "port %u", me.port);
        for (int k2 = 0; k2 < i; k2++)
            cr_assert_neq(seen[k2], me.port, "port %u twice", me.port);
        if (i > 0)
            cr_assert_eq(me.port, seen[i - 1] == 50009 ? 50000 : seen[i - 1] + 1, "in order");
        seen[i] = me.port;
    }
    h[10] = ep_open(&f);
    cr_assert_eq(f.l4->send(f.u, h[10], "x", 1, &to, 0), -EAGAIN, "range exhausted");
    cr_assert_eq(f.l4->connect(f.u, h[10], &to), -EAGAIN);
    struct lyra_sockaddr4 any = A(0, 0);
    cr_assert_eq(f.l4->bind(f.u, h[10], &any), -EADDRINUSE);
    /* a port closed is found again when it is the only one left */
    f.l4->close(f.u, h[3]);
    cr_assert_eq(f.l4->bind(f.u, h[10], &any), 0);
    cr_assert_eq(f.l4->name(f.u, h[10], 0, &me), 0);
    cr_assert_eq(me.port, seen[3]);
    /* same seed, same first port; the first is where the RNG says */
    int x = ep_open(&g);
    cr_assert_eq(g.l4->bind(g.u, x, &any), 0);
    cr_assert_eq(g.l4->name(g.u, x, 0, &first), 0);
    cr_assert_eq(first.port, seen[0]);
    int y = ep_open(&k);
    cr_assert_eq(k.l4->bind(k.u, y, &any), 0);
    cr_assert_eq(k.l4->name(k.u, y, 0, &me), 0);
    cr_assert(me.port >= 40000 && me.port <= 59999);
    cr_assert_neq(me.port, 40000, "not the bottom of the range: a random start");
    fx_down(&k);
    fx_down(&g);
    fx_down(&f);
}

Test(udp, bind_rules)
{
    struct fx f;
    fx_up(&f, NULL);
    int a = ep_open(&f), b = ep_open(&f);
    struct lyra_sockaddr4 any7 = A(0, 7), me7 = A(STACK_IP, 7),
                          far = A(IP4(10, 0, 0, 1), 7);
    cr_assert_eq(f.l4->bind(f.u, a, &far), -EADDRNOTAVAIL, "not ours");
    cr_assert_eq(f.l4->bind(f.u, a, &any7), 0);
    cr_assert_eq(f.l4->bind(f.u, a, &any7), -EINVAL, "already bound");
    cr_assert_eq(f.l4->bind(f.u, b, &any7), -EADDRINUSE);
    cr_assert_eq(f.l4->bind(f.u, b, &me7), -EADDRINUSE, "overlaps any");
    cr_assert_eq(setopt(&f, b, LYRA_SO_REUSEADDR, 1), 0);
    cr_assert_eq(f.l4->bind(f.u, b, &any7), -EADDRINUSE, "only b reuses");
    cr_assert_eq(setopt(&f, a, LYRA_SO_REUSEADDR, 1), 0);
    cr_assert_eq(f.l4->bind(f.u, b, &any7), 0, "both reuse");
    /* different specific addresses do not overlap */
    int c = ep_open(&f), d = ep_open(&f);
    struct lyra_sockaddr4 me8 = A(STACK_IP, 8), bc8 = A(SUBNET_BCAST, 8);
    cr_assert_eq(f.l4->bind(f.u, c, &me8), 0);
    cr_assert_eq(f.l4->bind(f.u, d, &bc8), 0);
    int e = ep_open(&f);
    cr_assert_eq(f.l4->bind(f.u, e, &me8), -EADDRINUSE);
    cr_assert_eq(f.l4->bind(f.u, 99, &me8), -EBADF);
    /* connect auto-binds; bind after it is -EINVAL */
    struct lyra_sockaddr4 peer = A(LINUX_IP, 9);
    cr_assert_eq(f.l4->connect(f.u, e, &peer), 0);
    cr_assert_eq(f.l4->bind(f.u, e, &me8), -EINVAL);
    fx_down(&f);
}

/* ----- ICMP errors --------------------------------------------------------- */

static void icmp_about(struct fx *f, uint8_t type, uint8_t code, uint16_t sport, uint32_t dst,
                       uint16_t dport)
{
    struct lyra_l3_icmp_err e = {.type = type, .code = code, .src = STACK_IP, .dst = dst,
                                 .proto = 17};
    udp_st16(e.l4, sport);
    udp_st16(e.l4 + 2, dport);
    udp_st16(e.l4 + 4, 9);
    cr_assert_eq(fake_l3_icmp_error(f->fl, &e), 0);
}

Test(udp, icmp_error_to_connected_only)
{
    struct fx f;
    fx_up(&f, NULL);
    int c = ep_bound(&f, 0, 5000), u = ep_bound(&f, 0, 5001);
    struct lyra_sockaddr4 peer = A(LINUX_IP, 9);
    cr_assert_eq(f.l4->connect(f.u, c, &peer), 0);
    cr_assert_eq(f.l4->send(f.u, u, "x", 1, &peer, 0), 1);
    icmp_about(&f, 3, 3, 5001, LINUX_IP, 9); /* about u: unconnected, ignored */
    cr_assert_eq(f.l4->poll(f.u, u) & (LYRA_POLL_ERR | LYRA_POLL_IN), 0);
    cr_assert_eq(f.l4->send(f.u, u, "x", 1, &peer, 0), 1);
    icmp_about(&f, 3, 3, 5000, LINUX_IP, 10); /* c's port, another peer: ignored */
    icmp_about(&f, 3, 3, 5000, IP4(192, 0, 2, 3), 9);
    cr_assert_eq(f.l4->poll(f.u, c) & LYRA_POLL_ERR, 0);
    icmp_about(&f, 3, 3, 5000, LINUX_IP, 9);
    cr_assert_eq(st(&f, "icmp_errors_in"), 4);
    cr_assert_eq(st(&f, "icmp_errors_set"), 1);
    unsigned m = f.l4->poll(f.u, c);
    cr_assert(m & LYRA_POLL_ERR);
    cr_assert(m & LYRA_POLL_IN, "an error makes recv return at once");
    cr_assert_eq(f.l4->send(f.u, c, "x", 1, NULL, 0), -ECONNREFUSED, "reported once...");
    cr_assert_eq(f.l4->send(f.u, c, "x", 1, NULL, 0), 1, "...then cleared");
    /* recv reports it first too, even with a datagram queued */
    rx(&f, LINUX_IP, 9, STACK_IP, 5000, "data", 0);
    icmp_about(&f, 3, 3, 5000, LINUX_IP, 9);
    char b[8];
    cr_assert_eq(f.l4->recv(f.u, c, IOV1(b, sizeof(b)), 1, NULL, NULL, 0), -ECONNREFUSED);
    expect(&f, c, "data", LINUX_IP, 9);
    /* SO_ERROR reads and clears; other codes and types */
    int v;
    icmp_about(&f, 3, 1, 5000, LINUX_IP, 9);
    cr_assert_eq(f.l4->getopt(f.u, c, LYRA_SO_ERROR, &v), 0);
    cr_assert_eq(v, EHOSTUNREACH);
    cr_assert_eq(f.l4->getopt(f.u, c, LYRA_SO_ERROR, &v), 0);
    cr_assert_eq(v, 0);
    icmp_about(&f, 3, 0, 5000, LINUX_IP, 9);
    cr_assert_eq(f.l4->getopt(f.u, c, LYRA_SO_ERROR, &v), 0);
    cr_assert_eq(v, ENETUNREACH);
    icmp_about(&f, 11, 0, 5000, LINUX_IP, 9);
    cr_assert_eq(f.l4->getopt(f.u, c, LYRA_SO_ERROR, &v), 0);
    cr_assert_eq(v, EHOSTUNREACH);
    icmp_about(&f, 4, 0, 5000, LINUX_IP, 9); /* source quench: nothing (RFC 6633) */
    cr_assert_eq(f.l4->getopt(f.u, c, LYRA_SO_ERROR, &v), 0);
    cr_assert_eq(v, 0);
    fx_down(&f);
}

/* Linux's map (icmp_err_convert): protocol unreachable and fragmentation
 * needed have their own errnos; code 8 (Linux ENONET) is EHOSTUNREACH. */
Test(udp, icmp_codes_as_linux)
{
    struct fx f;
    fx_up(&f, NULL);
    int c = ep_bound(&f, 0, 5000);
    struct lyra_sockaddr4 peer = A(LINUX_IP, 9);
    cr_assert_eq(f.l4->connect(f.u, c, &peer), 0);
    static const struct { uint8_t code; int e; } want[] = {
        {2, ENOPROTOOPT}, {4, EMSGSIZE}, {5, EOPNOTSUPP}, {8, EHOSTUNREACH}, {13, EHOSTUNREACH}};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        int v = -1;
        icmp_about(&f, 3, want[i].code, 5000, LINUX_IP, 9);
        cr_assert_eq(f.l4->getopt(f.u, c, LYRA_SO_ERROR, &v), 0);
        cr_assert_eq(v, want[i].e, "code %u: %d, want %d", want[i].code, v, want[i].e);
    }
    int v = -1;
    icmp_about(&f, 3, 16, 5000, LINUX_IP, 9); /* unknown code: ignored, as Linux */
    cr_assert_eq(f.l4->getopt(f.u, c, LYRA_SO_ERROR, &v), 0);
    cr_assert_eq(v, 0);
    /* fragmentation needed is reported, never recorded as the path MTU:
     * nothing in a UDP quote tells a genuine one from a forged one (RFC
     * 5927), and udp sends without DF (docs/sockets.md) */
    cr_assert_eq(lt_stat(f.l3, "pmtu_updates"), 0);
    fx_down(&f);
}

/* ----- options and poll ---------------------------------------------------- */

Test(udp, options)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = ep_open(&f), v = -1;
    cr_assert_eq(setopt(&f, h, LYRA_IP_TTL, 7), 0);
    cr_assert_eq(setopt(&f, h, LYRA_IP_TOS, 0x10), 0);
    cr_assert_eq(f.l4->getopt(f.u, h, LYRA_IP_TTL, &v), 0);
    cr_assert_eq(v, 7);
    cr_assert_eq(f.l4->getopt(f.u, h, LYRA_IP_TOS, &v), 0);
    cr_assert_eq(v, 0x10);
    struct lyra_sockaddr4 to = A(LINUX_IP, 9);
    cr_assert_eq(f.l4->send(f.u, h, "x", 1, &to, 0), 1);
    cr_assert_eq(out(&f, 0)->ttl, 7);
    cr_assert_eq(out(&f, 0)->tos, 0x10);
    cr_assert_eq(setopt(&f, h, LYRA_IP_TTL, -1), 0, "-1: the default again");
    cr_assert_eq(f.l4->send(f.u, h, "x", 1, &to, 0), 1);
    cr_assert_eq(out(&f, 1)->ttl, 0);
    cr_assert_eq(setopt(&f, h, LYRA_IP_TTL, 256), -EINVAL);
    cr_assert_eq(setopt(&f, h, LYRA_IP_TTL, 0), -EINVAL, "RFC 1122 3.2.1.7: never TTL 0");
    cr_assert_eq(setopt(&f, h, LYRA_IP_TOS, -2), -EINVAL);
    cr_assert_eq(setopt(&f, h, LYRA_SO_RCVBUF, 0), -EINVAL);
    cr_assert_eq(setopt(&f, h, LYRA_SO_BROADCAST, 5), 0);
    cr_assert_eq(f.l4->getopt(f.u, h, LYRA_SO_BROADCAST, &v), 0);
    cr_assert_eq(v, 1);
    cr_assert_eq(f.l4->getopt(f.u, h, LYRA_SO_REUSEADDR, &v), 0);
    cr_assert_eq(v, 0);
    cr_assert_eq(setopt(&f, h, LYRA_TCP_NODELAY, 1), -ENOPROTOOPT);
    cr_assert_eq(setopt(&f, h, LYRA_SO_SNDBUF, 1), -ENOPROTOOPT);
    cr_assert_eq(f.l4->getopt(f.u, h, LYRA_TCP_NODELAY, &v), -ENOPROTOOPT);
    cr_assert_eq(f.l4->listen(f.u, h, 1), -EOPNOTSUPP);
    cr_assert_eq(f.l4->accept(f.u, h, NULL), -EOPNOTSUPP);
    fx_down(&f);
}

Test(udp, poll_and_shutdown)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = ep_bound(&f, 0, 9);
    cr_assert_eq(f.l4->poll(f.u, h), LYRA_POLL_OUT);
    rx(&f, LINUX_IP, 7, STACK_IP, 9, "x", 0);
    cr_assert_eq(f.l4->poll(f.u, h), LYRA_POLL_OUT | LYRA_POLL_IN);
    cr_assert_eq(f.l4->shutdown(f.u, h, 0), -ENOTCONN);
    struct lyra_sockaddr4 peer = A(LINUX_IP, 7);
    cr_assert_eq(f.l4->connect(f.u, h, &peer), 0);
    cr_assert_eq(f.l4->shutdown(f.u, h, 1), 0);
    cr_assert_eq(f.l4->send(f.u, h, "x", 1, NULL, 0), -EPIPE);
    cr_assert_eq(f.l4->poll(f.u, h), LYRA_POLL_IN);
    cr_assert_eq(f.l4->shutdown(f.u, h, 0), 0);
    cr_assert_eq(f.l4->poll(f.u, h), LYRA_POLL_IN | LYRA_POLL_HUP);
    expect(&f, h, "x", LINUX_IP, 7);
    char b[4];
    cr_assert_eq(f.l4->recv(f.u, h, IOV1(b, sizeof(b)), 1, NULL, NULL, 0),
                 0, "read side shut: end");
    fx_down(&f);
}

Test(udp, open_until_table_full)
{
    struct fx f;
    fx_up(&f, (const char *const[]){"max_sockets=3", NULL});
    cr_assert_eq(ep_open(&f), 0);
    cr_assert_eq(ep_open(&f), 1);
    cr_assert_eq(ep_open(&f), 2);
    cr_assert_eq(f.l4->open(f.u), -ENOBUFS);
    cr_assert_eq(st(&f, "endpoints"), 3);
    f.l4->close(f.u, 1);
    cr_assert_eq(ep_open(&f), 1);
    fx_down(&f);
}

/* ----- instances ----------------------------------------------------------- */

/* Two udp instances in one process, sharing os and pool, each over its own
 * l3: ports, queues and counters are their own. */
Test(udp, two_instances_independent)
{
    struct fx f, g;
    fx_up(&f, NULL);
    memset(&g, 0, sizeof(g));
    fx_bind(&g, f.os, f.skb, (const char *const[]){"rx_queue=1", NULL},
            (const char *const[]){"addr=192.0.2.1/24", NULL});
    int a = ep_bound(&f, 0, 7), b = ep_bound(&g, 0, 7);
    rx(&f, LINUX_IP, 1, STACK_IP, 7, "to f", 0);
    rx(&g, STACK_IP, 1, LINUX_IP, 7, "to g", 0);
    rx(&g, STACK_IP, 1, LINUX_IP, 7, "over g's queue", 0);
    expect(&f, a, "to f", LINUX_IP, 1);
    expect_none(&f, a);
    expect(&g, b, "to g", STACK_IP, 1);
    cr_assert_eq(st(&g, "rx_queue_full"), 1);
    cr_assert_eq(st(&f, "rx_queue_full"), 0);
    cr_assert_eq(st(&f, "rx_datagrams"), 1);
    struct lyra_sockaddr4 to = A(IP4(192, 0, 2, 9), 9);
    cr_assert_eq(g.l4->send(g.u, b, "g", 1, &to, 0), 1);
    cr_assert_eq(fake_l3_out_count(f.fl), 0);
    cr_assert_eq(fake_l3_out_count(g.fl), 1);
    cr_assert_eq(out(&g, 0)->src, LINUX_IP);
    fx_stop_udp(&g);
    fx_down(&f);
}

/* ----- where a datagram was sent (RFC 1122 4.1.3.5, IP_PKTINFO) ------------ */

/* recv's `to`: the datagram's IP destination (ours, the limited or the
 * directed broadcast), our address it came in on, and the local port. */
Test(udp, recv_tells_destination)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = ep_bound(&f, 0, 9);
    rx(&f, LINUX_IP, 40000, STACK_IP, 9, "uni", 0);
    rx(&f, LINUX_IP, 40000, 0xffffffffu, 9, "lim", LYRA_L3_F_BCAST);
    rx(&f, LINUX_IP, 40000, SUBNET_BCAST, 9, "dir", LYRA_L3_F_BCAST);
    const uint32_t want[3] = {STACK_IP, 0xffffffffu, SUBNET_BCAST};
    for (int i = 0; i < 3; i++) {
        char b[8];
        struct lyra_sockaddr4 from = {0};
        struct lyra_l4_dst to = {0, 0, 0};
        cr_assert_eq(f.l4->recv(f.u, h, IOV1(b, sizeof(b)), 1, &from, &to, LYRA_MSG_PEEK), 3);
        cr_assert_eq(to.addr, want[i], "datagram %d: to %08x", i, to.addr);
        cr_assert_eq(to.local, STACK_IP, "datagram %d: arrived on %08x", i, to.local);
        cr_assert_eq(to.port, 9);
        struct lyra_l4_dst again = {0, 0, 0};
        cr_assert_eq(f.l4->recv(f.u, h, IOV1(b, sizeof(b)), 1, NULL, &again, 0), 3);
        cr_assert_eq(again.addr, want[i], "PEEK left the datagram as it was");
        cr_assert_eq(from.addr, LINUX_IP);
    }
    fx_down(&f);
}

/* A datagram fills the pieces in order; what does not fit is cut (and
 * discarded), TRUNC still tells its real length; empty pieces are skipped
 * and a piece nothing goes to may have no base. */
/* copy_bytes: the payload bytes udp had copied, in and out (issue 8.1). */
Test(udp, copied_payload_bytes_are_counted)
{
    struct fx f;
    fx_up(&f, NULL);
    f.cfg->rx_add_data = 0; /* linear: recv's copy is the only one (also in _split) */
    int h = ep_bound(&f, 0, 9);
    cr_assert_eq(st(&f, "copy_bytes"), 0);
    struct lyra_sockaddr4 to = A(LINUX_IP, 9);
    static const char msg[100] = "payload";
    cr_assert_eq(f.l4->send(f.u, h, msg, sizeof(msg), &to, 0), 100);
    cr_assert_eq(st(&f, "copy_bytes"), 100);
    rx(&f, LINUX_IP, 40000, STACK_IP, 9, "abcdefghij", 0);
    char a[4];
    struct lyra_iov v[1] = {{a, sizeof(a)}};
    cr_assert_eq(f.l4->recv(f.u, h, v, 1, NULL, NULL, 0), 4, "truncated to the buffer");
    cr_assert_eq(st(&f, "copy_bytes"), 104, "only what was copied out");
    fx_down(&f);
}

/* A received datagram with its payload in a segment: udp pulls it up
 * (counted in copy_bytes) and delivers it as a linear one. */
Test(udp, nonlinear_datagram_pulled_up)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = ep_bound(&f, 0, 9);
    f.cfg->rx_add_data = 0; /* rx_split's one segment (also in _split) */
    f.cfg->rx_split = 3;    /* not even the UDP header is whole */
    rx(&f, LINUX_IP, 40000, STACK_IP, 9, "abcdefghijklmnop", 0);
    cr_assert_eq(st(&f, "rx_nonlinear"), 0);
    cr_assert_eq(st(&f, "rx_bad_csum"), 0);
    cr_assert_eq(st(&f, "copy_bytes"), 24 - 3, "the pull-up");
    expect(&f, h, "abcdefghijklmnop", LINUX_IP, 40000);
    fx_down(&f);
}

Test(udp, recv_scatters_over_iovecs)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = ep_bound(&f, 0, 9);
    rx(&f, LINUX_IP, 40000, STACK_IP, 9, "abcdefghij", 0);
    rx(&f, LINUX_IP, 40000, STACK_IP, 9, "0123456789", 0);
    rx(&f, LINUX_IP, 40000, STACK_IP, 9, "xy", 0);
    char a[3], b[4], c[5];
    memset(c, '.', sizeof(c));
    struct lyra_iov v[4] = {{a, 3}, {NULL, 0}, {b, 4}, {c, 5}};
    cr_assert_eq(f.l4->recv(f.u, h, v, 4, NULL, NULL, 0), 10);
    cr_assert_eq(memcmp(a, "abc", 3), 0);
    cr_assert_eq(memcmp(b, "defg", 4), 0);
    cr_assert_eq(memcmp(c, "hij..", 5), 0, "the third piece only as far as the datagram");
    struct lyra_iov w[3] = {{a, 3}, {b, 4}, {c, 2}};
    cr_assert_eq(f.l4->recv(f.u, h, w, 3, NULL, NULL, LYRA_MSG_TRUNC), 10, "the real length");
    cr_assert_eq(memcmp(a, "012", 3), 0);
    cr_assert_eq(memcmp(b, "3456", 4), 0);
    cr_assert_eq(memcmp(c, "78", 2), 0);
    struct lyra_iov x[2] = {{a, 2}, {NULL, 5}};
    cr_assert_eq(f.l4->recv(f.u, h, x, 2, NULL, NULL, LYRA_MSG_PEEK), 2,
                 "the piece without a base is not reached");
    struct lyra_iov y[2] = {{a, 1}, {NULL, 5}};
    cr_assert_eq(f.l4->recv(f.u, h, y, 2, NULL, NULL, 0), -EFAULT);
    cr_assert_eq(f.l4->recv(f.u, h, w, 3, NULL, NULL, 0), 2, "EFAULT left the datagram queued");
    expect_none(&f, h);
    fx_down(&f);
}
