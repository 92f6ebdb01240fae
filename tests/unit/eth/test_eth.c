/* The eth component wired to fake_netdev, fake_os and skb_copy.
 *
 * Frames come from real Linux captures where it matters
 * (tests/data/eth/README.txt): eth plays 192.0.2.2 (02:02:00:00:00:02)
 * answering the kernel, or 192.0.2.1 (02:01:00:00:00:01) resolving the
 * kernel. Every test ends with a leak check: no skb left out of the pool
 * once eth has stopped, and no os memory left once everything has. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "eth_internal.h"
#include "fake_netdev.h"
#include "fake_os.h"
#include "lt.h"
#include "lyra/l2.h"
#include "lyra/skb.h"

extern const struct lyra_component lyra_component_eth;
#include "lt_skb.h" /* LT_SKB_PROVIDER: skb_copy, or fake_skb_split in the _split build */

#define MS 1000000ull
#define S 1000000000ull
#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))
#define LINUX_IP IP(192, 0, 2, 1)
#define STACK_IP IP(192, 0, 2, 2)

static const uint8_t linux_mac[6] = {0x02, 0x01, 0, 0, 0, 0x01};
static const uint8_t stack_mac[6] = {0x02, 0x02, 0, 0, 0, 0x02};
static const uint8_t nic_mac[6] = {0x02, 0, 0, 0, 0, 0x01}; /* fake_netdev's default */
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t zero6[6] = {0};

/* ----- fixture ------------------------------------------------------------ */

struct rx_rec {
    unsigned n;
    uint8_t last[1600];
    uint32_t last_len;
    struct lyra_l2_rxinfo info;
    uint16_t proto;
    uint32_t l3_off_ok;
    unsigned tx_ready;
    unsigned unreach;       /* unreachable events */
    uint8_t unreach_at[8];  /* each one's first byte (mkpkt's fill: data at L3) */
    uint32_t unreach_len[8];
};

struct fx {
    struct lt_inst *os, *skb, *nd, *eth;
    const struct lyra_l2_ops *l2;
    const struct lyra_skb_ops *so;
    struct rx_rec user;
};

static void user_rx(void *user, struct lyra_skb *skb, const struct lyra_l2_rxinfo *info)
{
    struct rx_rec *r = user;
    r->n++;
    r->last_len = lyra_skb_flatten(skb, r->last, sizeof(r->last));
    r->info = *info;
    r->proto = skb->protocol;
    r->l3_off_ok = skb->l3_off == (uint32_t)(skb->data - skb->head);
    lyra_skb_free(skb);
}

static void user_tx_ready(void *user)
{
    ((struct rx_rec *)user)->tx_ready++;
}

static void user_unreachable(void *user, const struct lyra_skb *skb)
{
    struct rx_rec *r = user;
    if (r->unreach < 8) {
        r->unreach_at[r->unreach] = skb->data[0];
        r->unreach_len[r->unreach] = lyra_skb_total(skb);
    }
    r->unreach++;
}

static const struct lyra_l2_events user_ev = {
    .hdr = LYRA_OPS_HDR(LYRA_L2_IFACE, LYRA_L2_MAJOR, LYRA_L2_MINOR, struct lyra_l2_events),
    .rx = user_rx,
    .tx_ready = user_tx_ready,
    .unreachable = user_unreachable,
};

static void fx_make(struct fx *f, const char *const *eth_p, const char *const *nd_p, bool start)
{
    memset(f, 0, sizeof(*f));
    f->os = lt_create(&lyra_component_fake_os, NULL);
    f->skb = lt_create(&LT_SKB_PROVIDER, (const char *const[]){"count=64", NULL});
    f->nd = lt_create(&lyra_component_fake_netdev, nd_p);
    f->eth = lt_create(&lyra_component_eth, eth_p);
    cr_assert_eq(lt_bind(f->skb, "os", f->os), 0);
    cr_assert_eq(lt_bind(f->nd, "skb", f->skb), 0);
    cr_assert_eq(lt_bind(f->nd, "os", f->os), 0);
    cr_assert_eq(lt_bind(f->eth, "lower", f->nd), 0);
    cr_assert_eq(lt_bind(f->eth, "skb", f->skb), 0);
    cr_assert_eq(lt_bind(f->eth, "os", f->os), 0);
    cr_assert_eq(lt_start(f->os), 0);
    cr_assert_eq(lt_start(f->skb), 0);
    cr_assert_eq(lt_start(f->nd), 0);
    if (start)
        cr_assert_eq(lt_start(f->eth), 0);
    f->l2 = lt_ops(f->eth, "l2");
    f->so = lt_ops(f->skb, "skb");
    cr_assert_not_null(f->l2);
}

static void fx_up(struct fx *f, const char *const *eth_p)
{
    fx_make(f, eth_p, NULL, true);
}

static uint64_t st(struct fx *f, const char *name)
{
    uint64_t v = lt_stat(f->eth, name);
    cr_assert_neq(v, UINT64_MAX, "eth reports no counter %s", name);
    return v;
}

/* Stops everything; no skb may be out and no memory held. */
static void fx_down(struct fx *f)
{
    lt_stop(f->eth);
    cr_assert_eq(lt_stat(f->skb, "in_use"), 0, "skbs leaked: %llu",
                 (unsigned long long)lt_stat(f->skb, "in_use"));
    cr_assert_eq(lt_stat(f->skb, "bad_free"), 0, "an skb was freed twice");
    lt_stop(f->nd);
    lt_stop(f->skb);
    cr_assert_eq(fake_os_mem_in_use(f->os->self), 0, "os memory leaked");
    cr_assert_eq(fake_os_timers_armed(f->os->self), 0, "a timer is left armed");
    lt_destroy(f->eth);
    lt_destroy(f->nd);
    lt_destroy(f->skb);
    lt_destroy(f->os);
}

static void reg_ipv4(struct fx *f)
{
    cr_assert_eq(f->l2->register_proto(f->eth->self, LYRA_ETHERTYPE_IPV4, &user_ev, &f->user), 0);
}

/* An L3 packet of len bytes of `fill`, with the headroom l2 asks for. */
static struct lyra_skb *mkpkt(struct fx *f, uint32_t len, uint8_t fill)
{
    struct lyra_skb *s = f->so->alloc(f->skb->self, f->l2->headroom(f->eth->self), len);
    cr_assert_not_null(s);
    uint8_t *p = lyra_skb_put(s, len);
    cr_assert_not_null(p);
    memset(p, fill, len);
    return s;
}

/* l2 2.0: a refused skb is the caller's, as it was handed in (len bytes of
 * fill at data, no Ethernet header left on it); frees it. */
static void refused(struct lyra_skb *s, uint32_t len, uint8_t fill)
{
    cr_assert_eq(s->len, len, "a refused skb comes back as it was handed in");
    for (uint32_t i = 0; i < len; i++)
        cr_assert_eq(s->data[i], fill, "byte %u of a refused skb changed", (unsigned)i);
    lyra_skb_free(s);
}

static struct lyra_skb *mkpkt_bytes(struct fx *f, const uint8_t *b, uint32_t len)
{
    struct lyra_skb *s = mkpkt(f, len, 0);
    memcpy(s->data, b, len);
    return s;
}

static unsigned ntx(struct fx *f)
{
    return fake_netdev_tx_count(f->nd->self);
}

static const uint8_t *tx(struct fx *f, unsigned i, size_t *len)
{
    const uint8_t *p = fake_netdev_tx_frame(f->nd->self, i, len);
    cr_assert_not_null(p, "no transmitted frame %u", i);
    return p;
}

static void deliver(struct fx *f, const uint8_t *frame, size_t len)
{
    cr_assert_eq(fake_netdev_deliver(f->nd->self, frame, len), 0);
}

/* Frame n (from 1) of a capture under tests/data. */
static size_t pcap_frame(const char *file, unsigned n, uint8_t *out, size_t cap)
{
    struct lt_pcap p;
    const uint8_t *fr = NULL;
    uint32_t len = 0;
    cr_assert_eq(lt_pcap_open(&p, file), 0, "cannot open %s", file);
    for (unsigned i = 0; i < n; i++) {
        len = lt_pcap_next(&p, &fr);
        cr_assert_gt(len, 0, "%s has no frame %u", file, n);
    }
    cr_assert_leq(len, cap);
    memcpy(out, fr, len);
    lt_pcap_close(&p);
    return len;
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* A Linux-style ARP frame (42 bytes) built from the captured request. */
static size_t arp_frame(uint8_t *f, uint16_t op, const uint8_t eth_dst[6], const uint8_t sha[6],
                        uint32_t spa, const uint8_t tha[6], uint32_t tpa)
{
    size_t n = pcap_frame("eth/ping-linux.pcap", 1, f, 64);
    cr_assert_eq(n, 42);
    memcpy(f, eth_dst, 6);
    memcpy(f + 6, sha, 6);
    f[20] = (uint8_t)(op >> 8);
    f[21] = (uint8_t)op;
    memcpy(f + 22, sha, 6);
    put32(f + 28, spa);
    memcpy(f + 32, tha, 6);
    put32(f + 38, tpa);
    return n;
}

/* Checks one transmitted ARP frame field by field (RFC 826 format). */
static void expect_arp(struct fx *f, unsigned i, uint16_t op, const uint8_t eth_dst[6],
                       const uint8_t sha[6], uint32_t spa, const uint8_t tha[6], uint32_t tpa)
{
    size_t len;
    const uint8_t *p = tx(f, i, &len);
    /* eth hands the driver the 42 bytes; the 60-byte minimum is the NIC's
     * padding (the fake pads as a NIC does) */
    cr_assert_eq(fake_netdev_tx_sent_len(f->nd->self, i), 42, "frame %u: %u bytes handed over",
                 i, fake_netdev_tx_sent_len(f->nd->self, i));
    cr_assert_eq(len, 60, "frame %u: %zu bytes on the wire", i, len);
    cr_assert_arr_eq(p, eth_dst, 6, "frame %u: Ethernet destination", i);
    cr_assert_arr_eq(p + 6, sha, 6, "frame %u: Ethernet source", i);
    cr_assert_eq(be16(p + 12), 0x0806, "frame %u: ethertype", i);
    cr_assert_eq(be16(p + 14), 1, "ar$hrd must be 1 (Ethernet)");
    cr_assert_eq(be16(p + 16), 0x0800, "ar$pro must be 0x0800 (IPv4)");
    cr_assert_eq(p[18], 6, "ar$hln");
    cr_assert_eq(p[19], 4, "ar$pln");
    cr_assert_eq(be16(p + 20), op, "frame %u: ar$op", i);
    cr_assert_arr_eq(p + 22, sha, 6, "frame %u: ar$sha", i);
    cr_assert_eq(be32(p + 28), spa, "frame %u: ar$spa", i);
    cr_assert_arr_eq(p + 32, tha, 6, "frame %u: ar$tha", i);
    cr_assert_eq(be32(p + 38), tpa, "frame %u: ar$tpa", i);
}

#define STACK_P(...) \
    ((const char *const[]){"mac=02:02:00:00:00:02", "addr=192.0.2.2", __VA_ARGS__, NULL})
#define LINUXSIDE_P(...) \
    ((const char *const[]){"mac=02:01:00:00:00:01", "addr=192.0.2.1", __VA_ARGS__, NULL})

/* ----- answering Linux ------------------------------------------------------ */

Test(eth, reply_to_linux_arping_is_rfc826_exact)
{
    struct fx f;
    fx_up(&f, STACK_P("gratuitous=off"));
    uint8_t req[64], linux_reply[64];
    size_t n = pcap_frame("eth/arp-linux.pcap", 1, req, sizeof(req));
    size_t m = pcap_frame("eth/arp-linux.pcap", 2, linux_reply, sizeof(linux_reply));
    cr_assert_eq(n, 42);
    cr_assert_eq(m, 42);
    deliver(&f, req, n);
    cr_assert_eq(ntx(&f), 1);
    /* RFC 826: swap, our addresses as sender, op REPLY, sent to the
     * requester's hardware address (ar$sha of the request) */
    expect_arp(&f, 0, 2, linux_mac, stack_mac, STACK_IP, linux_mac, LINUX_IP);
    /* and exactly what the Linux kernel answered in the same place */
    cr_assert_arr_eq(tx(&f, 0, NULL), linux_reply, 42);
    cr_assert_eq(st(&f, "arp_requests_rcvd"), 1);
    cr_assert_eq(st(&f, "arp_replies_sent"), 1);
    cr_assert_eq(st(&f, "rx_frames"), 1);
    cr_assert_eq(st(&f, "rx_bytes"), 42);
    cr_assert_eq(st(&f, "tx_frames"), 1);
    cr_assert_eq(st(&f, "tx_bytes"), 42);
    /* we were the target: the requester is cached (RFC 826), so output to
     * it needs no request */
    cr_assert_eq(st(&f, "arp_cache_entries"), 1);
    reg_ipv4(&f);
    cr_assert_eq(f.l2->output(f.eth->self, mkpkt(&f, 20, 0x45), LYRA_ETHERTYPE_IPV4, LINUX_IP), 0);
    cr_assert_eq(ntx(&f), 2);
    size_t len;
    const uint8_t *p = tx(&f, 1, &len);
    cr_assert_arr_eq(p, linux_mac, 6);
    cr_assert_eq(be16(p + 12), 0x0800);
    cr_assert_eq(st(&f, "arp_requests_sent"), 0);
    fx_down(&f);
}

Test(eth, reply_to_linux_kernel_request)
{
    /* the kernel's own request has a zero ar$tha; the answer is the same */
    struct fx f;
    fx_up(&f, STACK_P("gratuitous=off"));
    uint8_t req[64], linux_reply[64];
    size_t n = pcap_frame("eth/ping-linux.pcap", 1, req, sizeof(req));
    pcap_frame("eth/ping-linux.pcap", 2, linux_reply, sizeof(linux_reply));
    cr_assert_arr_eq(req + 32, zero6, 6);
    /* as Linux pads on a real NIC: 60 bytes, trailing zeros ignored */
    uint8_t padded[60] = {0};
    memcpy(padded, req, n);
    deliver(&f, padded, sizeof(padded));
    cr_assert_eq(ntx(&f), 1);
    expect_arp(&f, 0, 2, linux_mac, stack_mac, STACK_IP, linux_mac, LINUX_IP);
    cr_assert_arr_eq(tx(&f, 0, NULL), linux_reply, 42);
    fx_down(&f);
}

Test(eth, linux_echo_request_reaches_ipv4_user)
{
    struct fx f;
    fx_up(&f, STACK_P("gratuitous=off"));
    reg_ipv4(&f);
    uint8_t fr[128];
    size_t n = pcap_frame("eth/ping-linux.pcap", 3, fr, sizeof(fr));
    cr_assert_eq(n, 98);
    deliver(&f, fr, n);
    cr_assert_eq(f.user.n, 1);
    cr_assert_eq(f.user.last_len, 84); /* data starts at the IP header */
    cr_assert_arr_eq(f.user.last, fr + 14, 84);
    cr_assert_arr_eq(f.user.info.src, linux_mac, 6);
    cr_assert_arr_eq(f.user.info.dst, stack_mac, 6);
    cr_assert_eq(f.user.info.ethertype, 0x0800);
    cr_assert_eq(f.user.info.flags, LYRA_SKB_F_HOST);
    cr_assert_eq(f.user.proto, 0x0800);
    cr_assert(f.user.l3_off_ok);
    cr_assert_eq(st(&f, "rx_delivered"), 1);
    fx_down(&f);
}

/* ----- resolving Linux ----------------------------------------------------- */

Test(eth, request_equals_linux_and_reply_releases_queue)
{
    struct fx f;
    fx_up(&f, LINUXSIDE_P("gratuitous=off"));
    reg_ipv4(&f);
    uint8_t kreq[64], krep[64], echo1[128], echo2[128];
    pcap_frame("eth/ping-linux.pcap", 1, kreq, sizeof(kreq));
    size_t nrep = pcap_frame("eth/ping-linux.pcap", 2, krep, sizeof(krep));
    size_t n1 = pcap_frame("eth/ping-linux.pcap", 3, echo1, sizeof(echo1));
    size_t n2 = pcap_frame("eth/ping-linux.pcap", 5, echo2, sizeof(echo2));

    /* the two echo requests Linux sent, as an IP layer would hand them down */
    cr_assert_eq(f.l2->output(f.eth->self, mkpkt_bytes(&f, echo1 + 14, (uint32_t)n1 - 14),
                              LYRA_ETHERTYPE_IPV4, STACK_IP),
                 0);
    cr_assert_eq(f.l2->output(f.eth->self, mkpkt_bytes(&f, echo2 + 14, (uint32_t)n2 - 14),
                              LYRA_ETHERTYPE_IPV4, STACK_IP),
                 0);
    /* one request, not one per packet; byte for byte the kernel's */
    cr_assert_eq(ntx(&f), 1);
    expect_arp(&f, 0, 1, bcast, linux_mac, LINUX_IP, zero6, STACK_IP);
    cr_assert_arr_eq(tx(&f, 0, NULL), kreq, 42);
    cr_assert_eq(st(&f, "arp_requests_sent"), 1);
    cr_assert_eq(st(&f, "arp_pending"), 2);

    deliver(&f, krep, nrep);
    cr_assert_eq(st(&f, "arp_replies_rcvd"), 1);
    cr_assert_eq(st(&f, "arp_pending"), 0);
    cr_assert_eq(ntx(&f), 3);
    size_t len;
    /* released in order, and identical to what Linux itself put on the wire */
    const uint8_t *p = tx(&f, 1, &len);
    cr_assert_eq(len, n1);
    cr_assert_arr_eq(p, echo1, n1);
    p = tx(&f, 2, &len);
    cr_assert_eq(len, n2);
    cr_assert_arr_eq(p, echo2, n2);

    /* resolved now: no timer runs a retry, and the next packet goes at once */
    fake_os_advance(f.os->self, 5 * S);
    cr_assert_eq(st(&f, "arp_requests_sent"), 1);
    cr_assert_eq(f.l2->output(f.eth->self, mkpkt(&f, 40, 1), LYRA_ETHERTYPE_IPV4, STACK_IP), 0);
    cr_assert_eq(ntx(&f), 4);
    cr_assert_arr_eq(tx(&f, 3, NULL), stack_mac, 6);
    fx_down(&f);
}

Test(eth, gratuitous_from_linux_merges_only_cached)
{
    struct fx f;
    fx_up(&f, STACK_P("gratuitous=off"));
    uint8_t g_req[64], g_rep[64];
    size_t n3 = pcap_frame("eth/arp-linux.pcap", 3, g_req, sizeof(g_req));
    size_t n4 = pcap_frame("eth/arp-linux.pcap", 4, g_rep, sizeof(g_rep));
    /* not in the table and we are not the target: nothing learned, no answer */
    deliver(&f, g_req, n3);
    deliver(&f, g_rep, n4);
    cr_assert_eq(st(&f, "arp_cache_entries"), 0);
    cr_assert_eq(ntx(&f), 0);
    cr_assert_eq(st(&f, "arp_requests_rcvd"), 1);
    cr_assert_eq(st(&f, "arp_replies_rcvd"), 1);

    /* learn .1 with another MAC, then Linux's gratuitous ARP corrects it */
    const uint8_t old_mac[6] = {0x02, 0x99, 0, 0, 0, 0x99};
    uint8_t fr[64];
    size_t n = arp_frame(fr, 1, bcast, old_mac, LINUX_IP, zero6, STACK_IP);
    deliver(&f, fr, n);
    cr_assert_eq(ntx(&f), 1); /* our reply */
    expect_arp(&f, 0, 2, old_mac, stack_mac, STACK_IP, old_mac, LINUX_IP);
    reg_ipv4(&f);
    f.l2->output(f.eth->self, mkpkt(&f, 20, 2), LYRA_ETHERTYPE_IPV4, LINUX_IP);
    cr_assert_arr_eq(tx(&f, 1, NULL), old_mac, 6);
    deliver(&f, g_req, n3);
    f.l2->output(f.eth->self, mkpkt(&f, 20, 3), LYRA_ETHERTYPE_IPV4, LINUX_IP);
    cr_assert_arr_eq(tx(&f, 2, NULL), linux_mac, 6);
    cr_assert_eq(st(&f, "arp_cache_entries"), 1);
    fx_down(&f);
}

/* ----- announcements --------------------------------------------------------- */

Test(eth, gratuitous_on_start_add_addr_and_link_up)
{
    struct fx f;
    fx_up(&f, STACK_P("arp_entries=32"));
    /* RFC 5227 announcement: request, sender = target = our address,
     * target MAC zero, broadcast */
    cr_assert_eq(ntx(&f), 1);
    expect_arp(&f, 0, 1, bcast, stack_mac, STACK_IP, zero6, STACK_IP);
    cr_assert_eq(f.l2->add_addr(f.eth->self, IP(192, 0, 2, 3)), 0);
    cr_assert_eq(ntx(&f), 2);
    expect_arp(&f, 1, 1, bcast, stack_mac, IP(192, 0, 2, 3), zero6, IP(192, 0, 2, 3));
    cr_assert_eq(st(&f, "arp_gratuitous_sent"), 2);
    cr_assert_eq(st(&f, "arp_requests_sent"), 0);
    cr_assert_eq(f.l2->add_addr(f.eth->self, IP(192, 0, 2, 3)), -EEXIST);
    cr_assert_eq(f.l2->add_addr(f.eth->self, 0), -EINVAL);
    cr_assert_eq(f.l2->add_addr(f.eth->self, IP(224, 0, 0, 1)), -EINVAL);
    cr_assert_eq(f.l2->add_addr(f.eth->self, LYRA_L2_BROADCAST), -EINVAL);
    cr_assert_eq(ntx(&f), 2);
    /* the link going down and up announces every address again */
    fake_netdev_set_link(f.nd->self, 0);
    cr_assert_eq(ntx(&f), 2);
    fake_netdev_set_link(f.nd->self, 1);
    cr_assert_eq(ntx(&f), 4);
    expect_arp(&f, 2, 1, bcast, stack_mac, STACK_IP, zero6, STACK_IP);
    expect_arp(&f, 3, 1, bcast, stack_mac, IP(192, 0, 2, 3), zero6, IP(192, 0, 2, 3));
    /* the added address is answered for */
    uint8_t fr[64];
    size_t n = arp_frame(fr, 1, bcast, linux_mac, LINUX_IP, zero6, IP(192, 0, 2, 3));
    deliver(&f, fr, n);
    expect_arp(&f, 4, 2, linux_mac, stack_mac, IP(192, 0, 2, 3), linux_mac, LINUX_IP);
    fx_down(&f);
}

Test(eth, gratuitous_off_and_del_addr)
{
    struct fx f;
    fx_up(&f, STACK_P("gratuitous=off", "max_addrs=2"));
    cr_assert_eq(ntx(&f), 0);
    cr_assert_eq(f.l2->add_addr(f.eth->self, IP(192, 0, 2, 3)), 0);
    cr_assert_eq(ntx(&f), 0);
    cr_assert_eq(f.l2->add_addr(f.eth->self, IP(192, 0, 2, 4)), -ENOSPC);
    cr_assert_eq(f.l2->del_addr(f.eth->self, STACK_IP), 0);
    cr_assert_eq(f.l2->del_addr(f.eth->self, STACK_IP), -ENOENT);
    /* no longer answered */
    uint8_t fr[64];
    size_t n = arp_frame(fr, 1, bcast, linux_mac, LINUX_IP, zero6, STACK_IP);
    deliver(&f, fr, n);
    cr_assert_eq(ntx(&f), 0);
    cr_assert_eq(st(&f, "arp_cache_entries"), 0);
    /* the remaining address is now the sender of our requests */
    reg_ipv4(&f);
    f.l2->output(f.eth->self, mkpkt(&f, 20, 0), LYRA_ETHERTYPE_IPV4, LINUX_IP);
    expect_arp(&f, 0, 1, bcast, stack_mac, IP(192, 0, 2, 3), zero6, LINUX_IP);
    fx_down(&f);
}

Test(eth, addresses_added_before_start_are_announced_at_start)
{
    struct fx f;
    fx_make(&f, (const char *const[]){"mac=02:02:00:00:00:02", NULL}, NULL, false);
    struct lyra_netdev_caps c;
    cr_assert_eq(f.l2->caps(f.eth->self, &c), 0);
    cr_assert_arr_eq(c.mac, stack_mac, 6, "the MAC parameter is reported before start too");
    cr_assert_eq(f.l2->add_addr(f.eth->self, STACK_IP), 0);
    cr_assert_eq(lt_start(f.eth), 0);
    cr_assert_eq(ntx(&f), 1);
    expect_arp(&f, 0, 1, bcast, stack_mac, STACK_IP, zero6, STACK_IP);
    fx_down(&f);
}

/* ----- hostile input ---------------------------------------------------------- */

Test(eth, truncated_and_garbage_frames_are_counted)
{
    struct fx f;
    fx_up(&f, STACK_P("gratuitous=off"));
    reg_ipv4(&f);
    uint8_t req[64];
    size_t n = pcap_frame("eth/arp-linux.pcap", 1, req, sizeof(req));
    unsigned sent = 0;
    /* shorter than a header */
    for (size_t k = 0; k < 14; k++, sent++)
        deliver(&f, req, k);
    cr_assert_eq(st(&f, "rx_short"), 14);
    /* a header but a cut ARP packet: malformed, never answered */
    for (size_t k = 14; k < n; k++, sent++)
        deliver(&f, req, k);
    cr_assert_eq(st(&f, "arp_malformed"), n - 14);
    cr_assert_eq(ntx(&f), 0);
    /* well-formed but not Ethernet/IPv4 ARP */
    uint8_t bad[64];
    memcpy(bad, req, n);
    bad[15] = 6; /* ar$hrd 6: IEEE 802 */
    deliver(&f, bad, n);
    memcpy(bad, req, n);
    bad[16] = 0x86;
    bad[17] = 0xdd; /* ar$pro IPv6 */
    deliver(&f, bad, n);
    memcpy(bad, req, n);
    bad[18] = 8; /* ar$hln */
    deliver(&f, bad, n);
    memcpy(bad, req, n);
    bad[21] = 3; /* RARP request */
    deliver(&f, bad, n);
    sent += 4;
    cr_assert_eq(st(&f, "arp_unsupported"), 4);
    /* an unregistered ethertype, and an 802.3 length field */
    memcpy(bad, req, n);
    bad[12] = 0x86;
    bad[13] = 0xdd;
    deliver(&f, bad, n);
    bad[12] = 0x00;
    bad[13] = 0x2e;
    deliver(&f, bad, n);
    sent += 2;
    cr_assert_eq(st(&f, "rx_unknown_type"), 2);
    /* unicast to another station */
    memcpy(bad, req, n);
    memcpy(bad, nic_mac, 6);
    deliver(&f, bad, n);
    sent++;
    cr_assert_eq(st(&f, "rx_not_ours"), 1);
    /* a group address as source */
    memcpy(bad, req, n);
    bad[6] = 0x01;
    deliver(&f, bad, n);
    sent++;
    cr_assert_eq(st(&f, "rx_bad_src"), 1);
    /* a sender hardware address that is multicast or zero */
    memcpy(bad, req, n);
    bad[22] = 0x01;
    deliver(&f, bad, n);
    memcpy(bad, req, n);
    memset(bad + 22, 0, 6);
    deliver(&f, bad, n);
    sent += 2;
    cr_assert_eq(st(&f, "arp_bogus"), 2);
    cr_assert_eq(ntx(&f), 0);
    cr_assert_eq(st(&f, "arp_cache_entries"), 0);

    /* seeded garbage: random lengths and bytes, some made to look like
     * ARP or IPv4 for us */
    uint64_t x = 0x1234567;
    uint8_t g[1600];
    for (unsigned i = 0; i < 3000; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        size_t len = (size_t)(x >> 33) % (i & 1 ? 64 : sizeof(g));
        for (size_t k = 0; k < len; k++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            g[k] = (uint8_t)(x >> 56);
        }
        if (len >= 14 && (i % 3) == 0) {
            memcpy(g, i % 2 ? bcast : stack_mac, 6);
            g[6] &= 0xfe;
            g[12] = 0x08;
            g[13] = (i % 4) ? 0x06 : 0x00;
        }
        if (len >= 22 && (i % 5) == 0) {
            memcpy(g + 14, req + 14, 8); /* a valid ARP header, random addresses */
        }
        deliver(&f, g, len);
        sent++;
    }
    cr_assert_eq(st(&f, "rx_frames"), sent);
    fake_os_advance(f.os->self, 120 * S);
    fx_down(&f);
}

Test(eth, probe_with_zero_sender_is_answered_not_cached)
{
    /* RFC 5227 probe: sender 0.0.0.0. RFC 826 swap gives a reply to the
     * prober's MAC with target address 0.0.0.0 (as Linux answers). */
    struct fx f;
    fx_up(&f, STACK_P("gratuitous=off"));
    uint8_t fr[64];
    size_t n = arp_frame(fr, 1, bcast, linux_mac, 0, zero6, STACK_IP);
    deliver(&f, fr, n);
    cr_assert_eq(ntx(&f), 1);
    expect_arp(&f, 0, 2, linux_mac, stack_mac, STACK_IP, linux_mac, 0);
    cr_assert_eq(st(&f, "arp_cache_entries"), 0);
    fx_down(&f);
}

Test(eth, conflict_is_counted_not_learned)
{
    struct fx f;
    fx_up(&f, STACK_P("gratuitous=off"));
    uint8_t fr[64];
    size_t n = arp_frame(fr, 2, bcast, linux_mac, STACK_IP, zero6, STACK_IP);
    deliver(&f, fr, n);
    cr_assert_eq(st(&f, "arp_conflict"), 1);
    cr_assert_eq(st(&f, "arp_cache_entries"), 0);
    cr_assert_eq(ntx(&f), 0);
    /* our own announcement coming back is neither a conflict nor answered */
    n = arp_frame(fr, 1, bcast, stack_mac, STACK_IP, zero6, STACK_IP);
    deliver(&f, fr, n);
    cr_assert_eq(st(&f, "arp_conflict"), 1);
    cr_assert_eq(ntx(&f), 0);
    fx_down(&f);
}

/* ----- timers ------------------------------------------------------------------ */

static void resolve_linux(struct fx *f)
{
    uint8_t krep[64];
    size_t n = pcap_frame("eth/ping-linux.pcap", 2, krep, sizeof(krep));
    cr_assert_eq(f->l2->output(f->eth->self, mkpkt(f, 20, 0), LYRA_ETHERTYPE_IPV4, STACK_IP), 0);
    deliver(f, krep, n);
    cr_assert_eq(lt_stat(f->eth, "arp_pending"), 0);
}

Test(eth, cache_expires_at_arp_timeout)
{
    struct fx f;
    fx_up(&f, LINUXSIDE_P("gratuitous=off"));
    reg_ipv4(&f);
    resolve_linux(&f); /* at t = 0 */
    cr_assert_eq(st(&f, "arp_requests_sent"), 1);
    fake_os_advance(f.os->self, 60 * S - 1);
    f.l2->output(f.eth->self, mkpkt(&f, 20, 0), LYRA_ETHERTYPE_IPV4, STACK_IP);
    cr_assert_eq(st(&f, "arp_requests_sent"), 1, "still valid just before arp_timeout");
    cr_assert_eq(st(&f, "arp_cache_expired"), 0);
    fake_os_advance(f.os->self, 1);
    cr_assert_eq(st(&f, "arp_cache_expired"), 1);
    cr_assert_eq(st(&f, "arp_cache_entries"), 0);
    unsigned before = ntx(&f);
    f.l2->output(f.eth->self, mkpkt(&f, 20, 0), LYRA_ETHERTYPE_IPV4, STACK_IP);
    cr_assert_eq(st(&f, "arp_requests_sent"), 2);
    cr_assert_eq(ntx(&f), before + 1);
    expect_arp(&f, before, 1, bcast, linux_mac, LINUX_IP, zero6, STACK_IP);
    fx_down(&f);
}

Test(eth, cache_timeout_parameter)
{
    struct fx f;
    fx_up(&f, LINUXSIDE_P("gratuitous=off", "arp_timeout=5s"));
    reg_ipv4(&f);
    resolve_linux(&f);
    fake_os_advance(f.os->self, 5 * S);
    cr_assert_eq(st(&f, "arp_cache_expired"), 1);
    fx_down(&f);
}

Test(eth, retries_then_unresolved)
{
    struct fx f;
    fx_up(&f, LINUXSIDE_P("gratuitous=off"));
    reg_ipv4(&f);
    uint32_t dead = IP(192, 0, 2, 99);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(f.l2->output(f.eth->self, mkpkt(&f, 20, (uint8_t)i), LYRA_ETHERTYPE_IPV4, dead),
                     0);
    cr_assert_eq(st(&f, "arp_requests_sent"), 1);
    cr_assert_eq(lt_stat(f.skb, "in_use"), 3);
    fake_os_advance(f.os->self, 1 * S - 1);
    cr_assert_eq(st(&f, "arp_requests_sent"), 1);
    fake_os_advance(f.os->self, 1);
    cr_assert_eq(st(&f, "arp_requests_sent"), 2);
    fake_os_advance(f.os->self, 1 * S);
    cr_assert_eq(st(&f, "arp_requests_sent"), 3); /* arp_retries = 3 requests in all */
    cr_assert_eq(st(&f, "arp_unresolved"), 0);
    cr_assert_eq(ntx(&f), 3);
    for (unsigned i = 0; i < 3; i++)
        expect_arp(&f, i, 1, bcast, linux_mac, LINUX_IP, zero6, dead);
    cr_assert_eq(f.user.unreach, 0, "not before ARP gives up");
    fake_os_advance(f.os->self, 1 * S);
    cr_assert_eq(st(&f, "arp_requests_sent"), 3);
    cr_assert_eq(st(&f, "arp_failed"), 1);
    cr_assert_eq(st(&f, "arp_unresolved"), 3);
    cr_assert_eq(st(&f, "arp_pending"), 0);
    cr_assert_eq(lt_stat(f.skb, "in_use"), 0);
    /* l2 2.2: the user hears of each packet, in order, at its L3 header */
    cr_assert_eq(f.user.unreach, 3);
    for (unsigned i = 0; i < 3; i++) {
        cr_assert_eq(f.user.unreach_at[i], i);
        cr_assert_eq(f.user.unreach_len[i], 20);
    }
    cr_assert_eq(fake_os_timers_armed(f.os->self), 0);
    /* a later reply does not resurrect anything */
    uint8_t fr[64];
    const uint8_t m[6] = {0x02, 0, 0, 0, 0, 0x63};
    size_t n = arp_frame(fr, 2, linux_mac, m, dead, linux_mac, LINUX_IP);
    deliver(&f, fr, n);
    cr_assert_eq(ntx(&f), 3);
    fx_down(&f);
}

Test(eth, retry_parameters)
{
    struct fx f;
    fx_up(&f, LINUXSIDE_P("gratuitous=off", "arp_retry=200ms", "arp_retries=5"));
    reg_ipv4(&f);
    f.l2->output(f.eth->self, mkpkt(&f, 20, 0), LYRA_ETHERTYPE_IPV4, IP(192, 0, 2, 50));
    fake_os_advance(f.os->self, 800 * MS);
    cr_assert_eq(st(&f, "arp_requests_sent"), 5);
    cr_assert_eq(st(&f, "arp_unresolved"), 0);
    fake_os_advance(f.os->self, 200 * MS);
    cr_assert_eq(st(&f, "arp_unresolved"), 1);
    cr_assert_eq(st(&f, "arp_requests_sent"), 5);
    fx_down(&f);
}

Test(eth, reply_during_retries_releases)
{
    struct fx f;
    fx_up(&f, LINUXSIDE_P("gratuitous=off"));
    reg_ipv4(&f);
    f.l2->output(f.eth->self, mkpkt(&f, 30, 0xab), LYRA_ETHERTYPE_IPV4, STACK_IP);
    fake_os_advance(f.os->self, 1500 * MS);
    cr_assert_eq(st(&f, "arp_requests_sent"), 2);
    uint8_t krep[64];
    size_t n = pcap_frame("eth/ping-linux.pcap", 2, krep, sizeof(krep));
    deliver(&f, krep, n);
    cr_assert_eq(ntx(&f), 3);
    size_t len;
    const uint8_t *p = tx(&f, 2, &len);
    cr_assert_arr_eq(p, stack_mac, 6);
    cr_assert_arr_eq(p + 6, linux_mac, 6);
    cr_assert_eq(p[14], 0xab);
    fake_os_advance(f.os->self, 10 * S);
    cr_assert_eq(st(&f, "arp_requests_sent"), 2);
    cr_assert_eq(st(&f, "arp_unresolved"), 0);
    fx_down(&f);
}

/* ----- bounds -------------------------------------------------------------------- */

Test(eth, pending_queue_is_bounded_in_total)
{
    struct fx f;
    fx_up(&f, LINUXSIDE_P("gratuitous=off", "arp_queue=4"));
    reg_ipv4(&f);
    uint32_t a = STACK_IP, b = IP(192, 0, 2, 77), c = IP(192, 0, 2, 78);
    struct {
        uint32_t to;
        uint8_t tag;
    } out[] = {{a, 1}, {b, 2}, {a, 3}, {b, 4}, {a, 5}, {b, 6}, {c, 7}, {a, 8}, {a, 9}};
    for (unsigned i = 0; i < 9; i++) {
        /* a full queue still takes the newest packet (RFC 1122 2.3.2.2:
         * keep the latest for each address) */
        cr_assert_eq(f.l2->output(f.eth->self, mkpkt(&f, 20, out[i].tag), LYRA_ETHERTYPE_IPV4,
                                  out[i].to),
                     0);
        cr_assert_leq(st(&f, "arp_pending"), 4);
    }
    /* a5 pushed out a1 (a's oldest), b6 pushed out b2, c7, new, the oldest
     * of all (a3), a8 pushed out a5 (between b4 and b6), a9 pushed out a8
     * (the tail): left b4 b6 c7 a9 */
    cr_assert_eq(st(&f, "arp_queue_full"), 5);
    cr_assert_eq(st(&f, "arp_pending"), 4);
    cr_assert_eq(lt_stat(f.skb, "in_use"), 4);
    cr_assert_eq(st(&f, "arp_requests_sent"), 3);
    /* the reply for a releases a's packet; b's and c's wait on */
    uint8_t krep[64];
    size_t n = pcap_frame("eth/ping-linux.pcap", 2, krep, sizeof(krep));
    deliver(&f, krep, n);
    cr_assert_eq(ntx(&f), 4); /* 3 requests + 1 packet */
    cr_assert_eq(tx(&f, 3, NULL)[14], 9);
    cr_assert_eq(st(&f, "arp_pending"), 3);
    lt_stop(f.eth); /* drops b's and c's packets */
    cr_assert_eq(st(&f, "stop_purged"), 3);
    fx_down(&f);
}

Test(eth, arp_queue_zero_still_requests)
{
    struct fx f;
    fx_up(&f, LINUXSIDE_P("gratuitous=off", "arp_queue=0"));
    reg_ipv4(&f);
    struct lyra_skb *s = mkpkt(&f, 20, 1);
    cr_assert_eq(f.l2->output(f.eth->self, s, LYRA_ETHERTYPE_IPV4, STACK_IP), -ENOBUFS);
    refused(s, 20, 1);
    cr_assert_eq(st(&f, "arp_queue_full"), 1);
    cr_assert_eq(st(&f, "arp_requests_sent"), 1);
    fx_down(&f);
}

static size_t request_from(uint8_t *fr, unsigned host)
{
    const uint8_t m[6] = {0x02, 0, 0, 0, 0, (uint8_t)host};
    return arp_frame(fr, 1, bcast, m, IP(192, 0, 2, host), zero6, STACK_IP);
}

Test(eth, lru_eviction_at_arp_entries)
{
    struct fx f;
    fx_up(&f, STACK_P("gratuitous=off", "arp_entries=4"));
    reg_ipv4(&f);
    uint8_t fr[64];
    /* hosts .10 .. .13 ask for us: each is cached (we are their target) */
    for (unsigned h = 10; h < 14; h++) {
        deliver(&f, fr, request_from(fr, h));
        fake_os_advance(f.os->self, 1 * S);
    }
    cr_assert_eq(st(&f, "arp_cache_entries"), 4);
    /* using .10 makes .11 the least recently used */
    f.l2->output(f.eth->self, mkpkt(&f, 20, 0), LYRA_ETHERTYPE_IPV4, IP(192, 0, 2, 10));
    deliver(&f, fr, request_from(fr, 14));
    cr_assert_eq(st(&f, "arp_cache_evict"), 1);
    cr_assert_eq(st(&f, "arp_cache_entries"), 4);
    fake_netdev_tx_clear(f.nd->self);
    /* .10, .12, .13, .14 are known; .11 needs a request */
    const unsigned known[] = {10, 12, 13, 14};
    for (unsigned i = 0; i < 4; i++)
        f.l2->output(f.eth->self, mkpkt(&f, 20, 0), LYRA_ETHERTYPE_IPV4, IP(192, 0, 2, known[i]));
    cr_assert_eq(st(&f, "arp_requests_sent"), 0);
    cr_assert_eq(ntx(&f), 4);
    f.l2->output(f.eth->self, mkpkt(&f, 20, 0), LYRA_ETHERTYPE_IPV4, IP(192, 0, 2, 11));
    cr_assert_eq(st(&f, "arp_requests_sent"), 1);
    cr_assert_eq(st(&f, "arp_cache_evict"), 2); /* .11's new entry took the LRU slot */
    fx_down(&f);
}

Test(eth, evicting_incomplete_drops_its_packets)
{
    struct fx f;
    fx_up(&f, LINUXSIDE_P("gratuitous=off", "arp_entries=1"));
    reg_ipv4(&f);
    f.l2->output(f.eth->self, mkpkt(&f, 20, 0), LYRA_ETHERTYPE_IPV4, IP(192, 0, 2, 8));
    f.l2->output(f.eth->self, mkpkt(&f, 20, 0), LYRA_ETHERTYPE_IPV4, IP(192, 0, 2, 8));
    fake_os_advance(f.os->self, 10 * MS);
    f.l2->output(f.eth->self, mkpkt(&f, 20, 0), LYRA_ETHERTYPE_IPV4, IP(192, 0, 2, 9));
    cr_assert_eq(st(&f, "arp_cache_evict"), 1);
    cr_assert_eq(st(&f, "arp_unresolved"), 2);
    cr_assert_eq(st(&f, "arp_pending"), 1);
    cr_assert_eq(lt_stat(f.skb, "in_use"), 1);
    fx_down(&f);
}

Test(eth, tx_busy_queue_keeps_order_and_bound)
{
    struct fx f;
    fx_make(&f, STACK_P("gratuitous=off", "txq=3"),
            (const char *const[]){"tx_busy_every=2", NULL}, true);
    reg_ipv4(&f);
    /* a second ethertype of the same user: still one tx_ready */
    cr_assert_eq(f.l2->register_proto(f.eth->self, 0x88b5, &user_ev, &f.user), 0);
    int r[6];
    struct lyra_skb *pk[6];
    for (int i = 0; i < 6; i++) {
        pk[i] = mkpkt(&f, 20, (uint8_t)(i + 1));
        r[i] = f.l2->output_mac(f.eth->self, pk[i], LYRA_ETHERTYPE_IPV4, linux_mac);
    }
    /* 1 sent; 2 refused (-EAGAIN) and queued; 3, 4 queued behind it; 5, 6
     * find the queue full */
    cr_assert(r[0] == 0 && r[1] == 0 && r[2] == 0 && r[3] == 0);
    cr_assert_eq(r[4], -EAGAIN);
    cr_assert_eq(r[5], -EAGAIN);
    refused(pk[4], 20, 5); /* l2 2.0: the caller keeps what was refused */
    refused(pk[5], 20, 6);
    cr_assert_eq(st(&f, "tx_busy"), 1);
    cr_assert_eq(st(&f, "tx_drop"), 2);
    cr_assert_eq(st(&f, "txq_len"), 3);
    cr_assert_eq(ntx(&f), 1);
    for (int k = 0; k < 10 && lt_stat(f.eth, "txq_len"); k++)
        fake_netdev_signal_tx_ready(f.nd->self);
    cr_assert_eq(st(&f, "txq_len"), 0);
    cr_assert_eq(ntx(&f), 4);
    for (unsigned i = 0; i < 4; i++)
        cr_assert_eq(tx(&f, i, NULL)[14], i + 1, "frame %u out of order", i);
    cr_assert_eq(st(&f, "tx_frames"), 4);
    cr_assert_eq(f.user.tx_ready, 1, "users hear tx_ready once the queue drained");
    fx_down(&f);
}

Test(eth, stop_purges_queues)
{
    struct fx f;
    fx_make(&f, STACK_P("gratuitous=off"), (const char *const[]){"tx_busy_every=1", NULL}, true);
    reg_ipv4(&f);
    f.l2->output_mac(f.eth->self, mkpkt(&f, 20, 1), LYRA_ETHERTYPE_IPV4, linux_mac);
    f.l2->output(f.eth->self, mkpkt(&f, 20, 1), LYRA_ETHERTYPE_IPV4, IP(192, 0, 2, 40));
    cr_assert_eq(lt_stat(f.skb, "in_use"), 3); /* frame, packet, ARP request */
    lt_stop(f.eth);
    cr_assert_eq(lt_stat(f.skb, "in_use"), 0);
    cr_assert_eq(st(&f, "stop_purged"), 3);
    /* stopped: output refuses; the caller keeps the skb */
    struct lyra_skb *s = mkpkt(&f, 20, 1);
    cr_assert_eq(f.l2->output(f.eth->self, s, LYRA_ETHERTYPE_IPV4, LINUX_IP), -ENETDOWN);
    refused(s, 20, 1);
    cr_assert_eq(st(&f, "tx_down"), 1);
    /* a frame the NIC still hands up is dropped and counted */
    uint8_t req[64];
    deliver(&f, req, pcap_frame("eth/arp-linux.pcap", 1, req, sizeof(req)));
    cr_assert_eq(st(&f, "rx_down"), 1);
    cr_assert_eq(lt_stat(f.skb, "in_use"), 0);
    fx_down(&f);
}

/* ----- output paths -------------------------------------------------------------- */

Test(eth, output_special_destinations_and_errors)
{
    struct fx f;
    fx_up(&f, STACK_P("gratuitous=off"));
    reg_ipv4(&f);
    cr_assert_eq(f.l2->headroom(f.eth->self), 14);
    cr_assert_eq(f.l2->output(f.eth->self, mkpkt(&f, 20, 0), 0x0800, LYRA_L2_BROADCAST), 0);
    cr_assert_arr_eq(tx(&f, 0, NULL), bcast, 6);
    cr_assert_eq(f.l2->output(f.eth->self, mkpkt(&f, 20, 0), 0x0800, IP(224, 0, 0, 251)), 0);
    const uint8_t mdns[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb};
    cr_assert_arr_eq(tx(&f, 1, NULL), mdns, 6);
    cr_assert_eq(st(&f, "arp_requests_sent"), 0);
    struct lyra_skb *k = mkpkt(&f, 20, 0);
    cr_assert_eq(f.l2->output(f.eth->self, k, 0x0800, 0), -EHOSTUNREACH);
    refused(k, 20, 0);
    cr_assert_eq(st(&f, "tx_bad_dst"), 1);
    /* MTU: 1500 bytes go, 1501 do not */
    cr_assert_eq(f.l2->output_mac(f.eth->self, mkpkt(&f, 1500, 0), 0x0800, linux_mac), 0);
    size_t len;
    tx(&f, 2, &len);
    cr_assert_eq(len, 1514);
    k = mkpkt(&f, 1501, 0);
    cr_assert_eq(f.l2->output_mac(f.eth->self, k, 0x0800, linux_mac), -EMSGSIZE);
    refused(k, 1501, 0);
    cr_assert_eq(st(&f, "tx_too_big"), 1);
    /* no headroom left for the header */
    struct lyra_skb *s = f.so->alloc(f.skb->self, 0, 20);
    s->data = s->head; /* make sure: not one byte below data */
    lyra_skb_put(s, 20);
    memset(s->data, 7, 20);
    cr_assert_eq(f.l2->output_mac(f.eth->self, s, 0x0800, linux_mac), -ENOBUFS);
    refused(s, 20, 7);
    cr_assert_eq(st(&f, "tx_headroom"), 1);
    cr_assert_eq(f.l2->output(f.eth->self, NULL, 0x0800, LINUX_IP), -EINVAL);
    k = mkpkt(&f, 20, 0);
    cr_assert_eq(f.l2->output_mac(f.eth->self, k, 0x0800, NULL), -EINVAL);
    refused(k, 20, 0);
    /* the type given is the type sent */
    f.l2->output_mac(f.eth->self, mkpkt(&f, 20, 0), 0x88b5, linux_mac);
    const uint8_t *p = tx(&f, ntx(&f) - 1, NULL);
    cr_assert_eq(be16(p + 12), 0x88b5);
    cr_assert_arr_eq(p + 6, stack_mac, 6);
    fx_down(&f);
}

Test(eth, output_with_segments)
{
    struct fx f;
    fx_up(&f, STACK_P("gratuitous=off"));
    struct lyra_skb *s = mkpkt(&f, 20, 0x45);
    static const uint8_t payload[100] = {1, 2, 3};
    cr_assert_not_null(lt_skb_add_seg(s, payload, sizeof(payload), 0));
    cr_assert_eq(f.l2->output_mac(f.eth->self, s, 0x0800, linux_mac), 0);
    size_t len;
    const uint8_t *p = tx(&f, 0, &len);
    cr_assert_eq(len, 14 + 20 + 100);
    cr_assert_eq(p[14], 0x45);
    cr_assert_eq(p[34], 1);
    cr_assert_eq(fake_netdev_last_tx_segments(f.nd->self), 2);
    cr_assert_eq(st(&f, "tx_bytes"), 134);
    fx_down(&f);
}

/* ----- registration and receive filter ------------------------------------------------ */

static void other_rx(void *user, struct lyra_skb *skb, const struct lyra_l2_rxinfo *info)
{
    (void)info;
    (*(unsigned *)user)++;
    lyra_skb_free(skb);
}

static const struct lyra_l2_events other_ev = {
    .hdr = LYRA_OPS_HDR(LYRA_L2_IFACE, LYRA_L2_MAJOR, LYRA_L2_MINOR, struct lyra_l2_events),
    .rx = other_rx,
};

Test(eth, register_proto_rules)
{
    struct fx f;
    fx_up(&f, STACK_P("gratuitous=off", "max_protos=2"));
    void *e = f.eth->self;
    unsigned other = 0;
    cr_assert_eq(f.l2->register_proto(e, LYRA_ETHERTYPE_ARP, &user_ev, &f.user), -EEXIST);
    cr_assert_eq(f.l2->register_proto(e, 0x05dc, &user_ev, &f.user), -EINVAL);
    cr_assert_eq(f.l2->register_proto(e, 0x0800, NULL, &f.user), -EINVAL);
    cr_assert_eq(f.l2->register_proto(e, 0x0800, &user_ev, &f.user), 0);
    cr_assert_eq(f.l2->register_proto(e, 0x0800, &other_ev, &other), -EEXIST);
    cr_assert_eq(f.l2->register_proto(e, 0x88b5, &other_ev, &other), 0);
    cr_assert_eq(f.l2->register_proto(e, 0x88b6, &other_ev, &other), -ENOSPC);
    /* each ethertype reaches its own user */
    uint8_t fr[60] = {0};
    memcpy(fr, stack_mac, 6);
    memcpy(fr + 6, linux_mac, 6);
    fr[12] = 0x88;
    fr[13] = 0xb5;
    deliver(&f, fr, sizeof(fr));
    cr_assert_eq(other, 1);
    cr_assert_eq(f.user.n, 0);
    fr[12] = 0x08;
    fr[13] = 0x00;
    deliver(&f, fr, sizeof(fr));
    cr_assert_eq(f.user.n, 1);
    cr_assert_eq(f.user.last_len, 46);
    fx_down(&f);
}

Test(eth, broadcast_and_multicast_delivered_with_flags)
{
    struct fx f;
    fx_up(&f, STACK_P("gratuitous=off"));
    reg_ipv4(&f);
    uint8_t fr[60] = {0};
    memcpy(fr, bcast, 6);
    memcpy(fr + 6, linux_mac, 6);
    fr[12] = 0x08;
    deliver(&f, fr, sizeof(fr));
    cr_assert_eq(f.user.info.flags, LYRA_SKB_F_BCAST);
    const uint8_t mc[6] = {0x01, 0x00, 0x5e, 0, 0, 1};
    memcpy(fr, mc, 6);
    deliver(&f, fr, sizeof(fr));
    cr_assert_eq(f.user.info.flags, LYRA_SKB_F_MCAST);
    cr_assert_eq(f.user.n, 2);
    fx_down(&f);
}

Test(eth, mac_parameter_overrides_nic)
{
    struct fx f;
    fx_up(&f, STACK_P("gratuitous=off"));
    reg_ipv4(&f);
    struct lyra_netdev_caps c;
    cr_assert_eq(f.l2->caps(f.eth->self, &c), 0);
    cr_assert_arr_eq(c.mac, stack_mac, 6);
    cr_assert_eq(c.mtu, 1500);
    /* frames to the card's own MAC are not ours any more */
    uint8_t fr[60] = {0};
    memcpy(fr, nic_mac, 6);
    memcpy(fr + 6, linux_mac, 6);
    fr[12] = 0x08;
    deliver(&f, fr, sizeof(fr));
    cr_assert_eq(f.user.n, 0);
    cr_assert_eq(st(&f, "rx_not_ours"), 1);
    fx_down(&f);
}

Test(eth, nic_mac_used_without_parameter)
{
    struct fx f;
    fx_up(&f, ((const char *const[]){"addr=192.0.2.2", NULL}));
    expect_arp(&f, 0, 1, bcast, nic_mac, STACK_IP, zero6, STACK_IP);
    struct lyra_netdev_caps c;
    cr_assert_eq(f.l2->caps(f.eth->self, &c), 0);
    cr_assert_arr_eq(c.mac, nic_mac, 6);
    fx_down(&f);
}

Test(eth, promisc_delivers_others_but_not_arp)
{
    struct fx f;
    fx_up(&f, STACK_P("gratuitous=off", "promisc=on"));
    reg_ipv4(&f);
    uint8_t fr[60] = {0};
    const uint8_t other[6] = {0x02, 0x55, 0, 0, 0, 0x55};
    memcpy(fr, other, 6);
    memcpy(fr + 6, linux_mac, 6);
    fr[12] = 0x08;
    deliver(&f, fr, sizeof(fr));
    cr_assert_eq(f.user.n, 1);
    cr_assert_eq(f.user.info.flags, 0);
    uint8_t arp[64];
    size_t n = arp_frame(arp, 1, other, linux_mac, LINUX_IP, zero6, STACK_IP);
    deliver(&f, arp, n);
    cr_assert_eq(ntx(&f), 0);
    cr_assert_eq(st(&f, "rx_not_ours"), 1);
    fx_down(&f);
}

Test(eth, bad_parameters_fail_create)
{
    struct lt_inst *i = NULL;
    cr_assert_eq(lt_try_create(&lyra_component_eth,
                               (const char *const[]){"mac=01:00:5e:00:00:01", NULL}, &i),
                 -EINVAL);
    cr_assert_null(i);
    cr_assert_eq(lt_try_create(&lyra_component_eth,
                               (const char *const[]){"mac=00:00:00:00:00:00", NULL}, &i),
                 -EINVAL);
    cr_assert_eq(
        lt_try_create(&lyra_component_eth, (const char *const[]){"addr=255.255.255.255", NULL}, &i),
        -EINVAL);
    cr_assert_eq(lt_try_create(&lyra_component_eth, (const char *const[]){"addr=0.0.0.0", NULL}, &i),
                 -EINVAL);
}

Test(eth, descriptor_documents_every_parameter)
{
    const struct lyra_component *c = &lyra_component_eth;
    cr_assert_str_eq(c->name, "eth");
    const char *want[] = {"mac",       "addr",        "arp_entries", "arp_timeout", "arp_retry",
                          "arp_retries", "arp_queue", "gratuitous",  "max_protos",  "txq"};
    for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        int k = lyra_component_param(c, want[i]);
        cr_assert_geq(k, 0, "no parameter %s", want[i]);
        cr_assert(c->params[k].doc && *c->params[k].doc, "%s undocumented", want[i]);
    }
    unsigned idx;
    cr_assert_not_null(lyra_component_slot(c, "lower", &idx));
    cr_assert_not_null(lyra_component_slot(c, "skb", &idx));
    cr_assert_not_null(lyra_component_slot(c, "os", &idx));
    cr_assert_eq(c->n_provides, 1);
    cr_assert_str_eq(c->provides[0].iface, "l2");
}

Test(eth, nic_refusal_and_pool_exhaustion_are_counted)
{
    struct fx f;
    fx_up(&f, LINUXSIDE_P("gratuitous=off"));
    reg_ipv4(&f);
    /* more gather segments than the NIC takes (max_segs 4): the driver
     * bounces the frame (skb 2.0), it goes out */
    struct lyra_skb *s = mkpkt(&f, 20, 0x45);
    static const uint8_t seg[8];
    for (unsigned i = 0; i < 5; i++)
        cr_assert_not_null(lt_skb_add_seg(s, seg, sizeof(seg), 0));
    cr_assert_eq(f.l2->output_mac(f.eth->self, s, 0x0800, stack_mac), 0);
    cr_assert_eq(lt_stat(f.nd, "tx_bounced"), 1);
    cr_assert_eq(fake_netdev_last_tx_segments(f.nd->self), 1);
    /* a frame the NIC refuses (a segment without memory): refused, and
     * (l2 2.0) given back without the Ethernet header */
    s = mkpkt(&f, 20, 0x45);
    cr_assert_not_null(lt_skb_add_seg(s, NULL, 8, 0));
    cr_assert_eq(f.l2->output_mac(f.eth->self, s, 0x0800, stack_mac), -EINVAL);
    cr_assert_eq(st(&f, "tx_error"), 1);
    cr_assert_eq(s->nseg, 1);
    lyra_skb_trim(s, 20); /* the bad segment emptied: the linear part is checked */
    refused(s, 20, 0x45);
    cr_assert_eq(lt_stat(f.skb, "in_use"), 0);
    /* no buffer left for the ARP request: counted, the packet still waits */
    struct lyra_skb *pkt = mkpkt(&f, 20, 1);
    struct lyra_skb *held[64];
    unsigned k = 0;
    while (k < 64 && (held[k] = f.so->alloc(f.skb->self, 0, 20)))
        k++;
    cr_assert_eq(f.l2->output(f.eth->self, pkt, 0x0800, STACK_IP), 0);
    cr_assert_eq(st(&f, "arp_nobuf"), 1);
    cr_assert_eq(st(&f, "arp_requests_sent"), 0);
    for (unsigned i = 0; i < k; i++)
        lyra_skb_free(held[i]);
    /* the retry gets a buffer */
    fake_os_advance(f.os->self, 1 * S);
    cr_assert_eq(st(&f, "arp_requests_sent"), 1);
    fx_down(&f);
}

Test(eth, own_address_is_never_resolved)
{
    struct fx f;
    fx_up(&f, LINUXSIDE_P("gratuitous=off"));
    reg_ipv4(&f);
    f.l2->output(f.eth->self, mkpkt(&f, 20, 1), 0x0800, IP(192, 0, 2, 3));
    cr_assert_eq(st(&f, "arp_pending"), 1);
    /* .3 becomes ours: its resolution and packets are dropped */
    cr_assert_eq(f.l2->add_addr(f.eth->self, IP(192, 0, 2, 3)), 0);
    cr_assert_eq(st(&f, "arp_pending"), 0);
    cr_assert_eq(st(&f, "arp_unresolved"), 1);
    cr_assert_eq(st(&f, "arp_cache_entries"), 0);
    fx_down(&f);
}

Test(eth, start_needs_a_usable_mac_and_bound_slots)
{
    struct fx f;
    fx_make(&f, (const char *const[]){"addr=192.0.2.2", NULL}, NULL, false);
    fake_netdev_set_prom_mac(f.nd->self, (const uint8_t[6]){0});
    cr_assert_eq(lt_start(f.eth), -EADDRNOTAVAIL);
    cr_assert_eq(fake_os_log_count(f.os->self, LYRA_LOG_ERROR), 1);
    cr_assert_eq(ntx(&f), 0);
    fx_down(&f);

    struct lt_inst *lone = lt_create(&lyra_component_eth, NULL);
    cr_assert_eq(lt_start(lone), -ENOTCONN);
    /* a table of another major version is refused at bind */
    static const struct lyra_ops_hdr v2 = {.major = 2, .minor = 0, .size = 64, .iface = "netdev"};
    cr_assert_eq(lt_bind_raw(lone, "lower", &v2, NULL), -EINVAL);
    const struct lyra_provide *pv = &lyra_component_eth.provides[0];
    cr_assert_eq(pv->attach(lone->self, &user_ev, NULL), 0);
    /* l2 1.x users (which expect output to take a refused skb) are refused */
    static const struct lyra_ops_hdr ev1 = {.major = 1, .minor = 0, .size = 64, .iface = "l2"};
    cr_assert_eq(pv->attach(lone->self, &ev1, NULL), -EPROTO);
    lt_destroy(lone);
}

/* ----- two stacks side by side ------------------------------------------------------------ */

/* Moves every frame a sent to b (and clears a's record). */
static unsigned shuttle(struct fx *a, struct fx *b)
{
    unsigned n = ntx(a);
    for (unsigned i = 0; i < n; i++) {
        size_t len;
        const uint8_t *p = tx(a, i, &len);
        deliver(b, p, len);
    }
    fake_netdev_tx_clear(a->nd->self);
    return n;
}

Test(eth, two_instances_side_by_side)
{
    struct fx a, b;
    fx_make(&a, LINUXSIDE_P("gratuitous=on"),
            (const char *const[]){"mac=02:01:00:00:00:01", NULL}, true);
    fx_make(&b, STACK_P("gratuitous=on"), (const char *const[]){"mac=02:02:00:00:00:02", NULL},
            true);
    reg_ipv4(&a);
    reg_ipv4(&b);
    /* each announced itself on its own wire */
    cr_assert_eq(ntx(&a), 1);
    cr_assert_eq(ntx(&b), 1);
    expect_arp(&a, 0, 1, bcast, linux_mac, LINUX_IP, zero6, LINUX_IP);
    expect_arp(&b, 0, 1, bcast, stack_mac, STACK_IP, zero6, STACK_IP);
    shuttle(&a, &b); /* b does not learn from a's announcement: not cached */
    shuttle(&b, &a);
    cr_assert_eq(lt_stat(a.eth, "arp_cache_entries"), 0);
    cr_assert_eq(lt_stat(b.eth, "arp_cache_entries"), 0);

    cr_assert_eq(a.l2->output(a.eth->self, mkpkt(&a, 64, 0x77), 0x0800, STACK_IP), 0);
    cr_assert_eq(shuttle(&a, &b), 1); /* a's request */
    cr_assert_eq(shuttle(&b, &a), 1); /* b's reply releases a's packet */
    cr_assert_eq(shuttle(&a, &b), 1);
    cr_assert_eq(b.user.n, 1);
    cr_assert_eq(b.user.last_len, 64);
    cr_assert_eq(b.user.last[0], 0x77);
    cr_assert_eq(a.user.n, 0);
    /* b learned a when a asked for it: the answer needs no request */
    cr_assert_eq(b.l2->output(b.eth->self, mkpkt(&b, 10, 0x88), 0x0800, LINUX_IP), 0);
    cr_assert_eq(shuttle(&b, &a), 1);
    cr_assert_eq(a.user.n, 1);
    cr_assert_eq(a.user.last[0], 0x88);
    cr_assert_eq(lt_stat(a.eth, "arp_requests_sent"), 1);
    cr_assert_eq(lt_stat(b.eth, "arp_requests_sent"), 0);
    cr_assert_eq(lt_stat(b.eth, "arp_replies_sent"), 1);
    cr_assert_eq(lt_stat(a.eth, "arp_replies_sent"), 0);
    /* time moves separately */
    fake_os_advance(a.os->self, 61 * S);
    cr_assert_eq(lt_stat(a.eth, "arp_cache_entries"), 0);
    cr_assert_eq(lt_stat(b.eth, "arp_cache_entries"), 1);
    fx_down(&a);
    fx_down(&b);
}

/* ----- clones (skb 2.1) ------------------------------------------------------ */

static void count_done(void *ctx, struct lyra_skb *s)
{
    (void)s;
    ++*(unsigned *)ctx;
}

/* A transport-like user keeps its segment and hands a clone down: eth
 * pushes its header onto the clone only, the frame is the clone's header
 * then the original's bytes, and the original's completion runs once,
 * when the last of the two is freed, in either order: the driver frees
 * the clone first (sent at once), or the original goes first while the
 * clone waits for ARP. */
Test(eth, clone_handed_down_freed_in_either_order)
{
    struct fx f;
    fx_up(&f, LINUXSIDE_P("gratuitous=off"));
    reg_ipv4(&f);
    uint8_t payload[300];
    for (unsigned i = 0; i < sizeof(payload); i++)
        payload[i] = (uint8_t)(i * 9 + 4);
    struct lyra_skb *o = f.so->alloc(f.skb->self, 64, 0);
    cr_assert_eq(f.so->add_data(f.skb->self, o, payload, sizeof(payload), 0, NULL), 300);
    unsigned done = 0;
    lyra_skb_set_done(o, count_done, &done);
    uint32_t hr = f.l2->headroom(f.eth->self), ohr = lyra_skb_headroom(o);

    /* 1: the clone is sent and freed by the driver, the original later */
    struct lyra_skb *c = lyra_skb_clone(f.so, f.skb->self, o, hr);
    cr_assert_not_null(c);
    cr_assert_eq(f.l2->output_mac(f.eth->self, c, LYRA_ETHERTYPE_IPV4, linux_mac), 0);
    size_t len;
    const uint8_t *p = tx(&f, 0, &len);
    cr_assert_eq(len, 14 + 300);
    cr_assert_arr_eq(p, linux_mac, 6);
    cr_assert_arr_eq(p + 14, payload, 300);
    cr_assert_eq(done, 0, "the original is still held");
    cr_assert_eq(lyra_skb_headroom(o), ohr, "eth pushed nothing onto the original");
    cr_assert_eq(lyra_skb_total(o), 300);
    uint8_t back[300];
    cr_assert_eq(lyra_skb_flatten(o, back, sizeof(back)), 300);
    cr_assert_arr_eq(back, payload, 300);

    /* 2: a second clone waits for ARP; the holder frees the original */
    c = lyra_skb_clone(f.so, f.skb->self, o, hr);
    cr_assert_not_null(c);
    cr_assert_eq(f.l2->output(f.eth->self, c, LYRA_ETHERTYPE_IPV4, STACK_IP), 0);
    cr_assert_eq(st(&f, "arp_pending"), 1);
    lyra_skb_free(o);
    cr_assert_eq(done, 0, "the queued clone still shows the payload");
    uint8_t krep[64];
    size_t nrep = pcap_frame("eth/ping-linux.pcap", 2, krep, sizeof(krep));
    deliver(&f, krep, nrep);
    cr_assert_eq(st(&f, "arp_pending"), 0);
    p = tx(&f, ntx(&f) - 1, &len);
    cr_assert_eq(len, 14 + 300);
    cr_assert_arr_eq(p + 14, payload, 300, "the payload outlived its holder's free");
    cr_assert_eq(done, 1, "once, when the last reference went");
    /* over fake_skb_split the 300 bytes are 5 pieces: with the header more
     * than the NIC's 1 + max_segs (4), so both went out bounced */
    cr_assert_eq(lt_stat(f.nd, "tx_bounced"), LT_SKB_SPLIT_ON ? 2 : 0);
    cr_assert_eq(lt_stat(f.skb, "in_use"), 0);
    cr_assert_eq(lt_stat(f.skb, "segs_in_use"), 0);
    fx_down(&f);
}

/* ----- runs of TCP segments (skb 2.6 LYRA_SKB_F_GRO, netdev 1.3, l2 2.1) ----- */

#define RUN_N 3
#define RUN_LEN 94u /* 14 + 20 + 20 + 40 */

/* A run as a coalescing driver hands it up, to nic_mac; each frame's
 * bytes past the Ethernet header are 0x40 + its index. */
static void deliver_run(struct fx *f)
{
    static uint8_t fr[RUN_N][RUN_LEN];
    const uint8_t *p[RUN_N];
    size_t len[RUN_N];
    for (unsigned k = 0; k < RUN_N; k++) {
        memcpy(fr[k], nic_mac, 6);
        memcpy(fr[k] + 6, linux_mac, 6);
        fr[k][12] = 0x08;
        fr[k][13] = 0x00;
        memset(fr[k] + 14, 0x40 + (int)k, RUN_LEN - 14);
        p[k] = fr[k];
        len[k] = RUN_LEN;
    }
    cr_assert_eq(fake_netdev_deliver_run(f->nd->self, p, len, RUN_N), 0);
}

struct run_rec {
    unsigned n, chained;
    uint8_t first[RUN_N];
    uint32_t len[RUN_N];
    bool flag;
};

static void run_rx(void *user, struct lyra_skb *skb, const struct lyra_l2_rxinfo *info)
{
    struct run_rec *r = user;
    cr_assert_eq(info->ethertype, LYRA_ETHERTYPE_IPV4);
    if (skb->flags & LYRA_SKB_F_GRO)
        r->flag = true;
    uint64_t b = 0;
    r->chained += lyra_skb_chained(skb, &b);
    if (r->n < RUN_N) {
        r->first[r->n] = skb->data[0];
        r->len[r->n] = lyra_skb_total(skb);
    }
    r->n++;
    lyra_skb_free(skb);
}

static const struct lyra_l2_events run_ev = {
    .hdr = LYRA_OPS_HDR(LYRA_L2_IFACE, LYRA_L2_MAJOR, 1, struct lyra_l2_events),
    .rx = run_rx,
};
static const struct lyra_l2_events old_ev = {
    .hdr = LYRA_OPS_HDR(LYRA_L2_IFACE, LYRA_L2_MAJOR, 0, struct lyra_l2_events),
    .rx = run_rx,
};

static void never_unreachable(void *user, const struct lyra_skb *skb)
{
    (void)user;
    (void)skb;
    cr_assert_fail("unreachable raised to a user of l2 2.1");
}

static const struct lyra_l2_events ev_2_1 = {
    .hdr = LYRA_OPS_HDR(LYRA_L2_IFACE, LYRA_L2_MAJOR, 1, struct lyra_l2_events),
    .rx = run_rx,
    .unreachable = never_unreachable,
};

/* unreachable is l2 2.2: a user of 2.1 is not told (its table may end
 * before the field), and the packets are freed all the same. Packets
 * dropped to make room in the ARP queue are not reported either. */
Test(eth, unreachable_only_to_users_of_l2_2_2_and_only_when_arp_gives_up)
{
    struct fx f;
    fx_up(&f, LINUXSIDE_P("gratuitous=off"));
    struct run_rec r = {0};
    cr_assert_eq(f.l2->register_proto(f.eth->self, LYRA_ETHERTYPE_IPV4, &ev_2_1, &r), 0);
    cr_assert_eq(f.l2->register_proto(f.eth->self, 0x88b5, &user_ev, &f.user), 0);
    uint32_t dead = IP(192, 0, 2, 99);
    cr_assert_eq(f.l2->output(f.eth->self, mkpkt(&f, 20, 7), LYRA_ETHERTYPE_IPV4, dead), 0);
    cr_assert_eq(f.l2->output(f.eth->self, mkpkt(&f, 30, 9), 0x88b5, dead), 0);
    fake_os_advance(f.os->self, 10 * S);
    cr_assert_eq(st(&f, "arp_unresolved"), 2);
    cr_assert_eq(f.user.unreach, 1, "the user of 2.2 only");
    cr_assert_eq(f.user.unreach_at[0], 9);
    cr_assert_eq(r.n, 0);
    fx_down(&f);

    /* the queue holds 2: the first of 3 packets is dropped for room */
    fx_up(&f, LINUXSIDE_P("gratuitous=off", "arp_queue=2"));
    reg_ipv4(&f);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(f.l2->output(f.eth->self, mkpkt(&f, 20, (uint8_t)i), LYRA_ETHERTYPE_IPV4, dead),
                     0);
    cr_assert_eq(st(&f, "arp_queue_full"), 1);
    cr_assert_eq(f.user.unreach, 0, "a packet dropped for room is not unreachable");
    fake_os_advance(f.os->self, 10 * S);
    cr_assert_eq(f.user.unreach, 2);
    cr_assert_eq(f.user.unreach_at[0], 1);
    cr_assert_eq(f.user.unreach_at[1], 2);
    fx_down(&f);
}

/* A user of l2 2.1 gets the run whole; every frame is counted. */
Test(eth, a_run_goes_whole_to_a_user_of_l2_2_1)
{
    struct fx f;
    fx_up(&f, NULL);
    struct run_rec r = {0};
    cr_assert_eq(f.l2->register_proto(f.eth->self, LYRA_ETHERTYPE_IPV4, &run_ev, &r), 0);
    deliver_run(&f);
    cr_assert_eq(r.n, 1);
    cr_assert(r.flag);
    cr_assert_eq(r.chained, RUN_N - 1);
    cr_assert_eq(st(&f, "rx_frames"), RUN_N);
    cr_assert_eq(st(&f, "rx_delivered"), RUN_N);
    cr_assert_eq(st(&f, "rx_bytes"), RUN_N * RUN_LEN);
    fx_down(&f);
}

/* A user built before runs gets each frame on its own, at its IPv4
 * header, in order, and never the flag. */
Test(eth, a_run_goes_one_by_one_to_an_older_user)
{
    struct fx f;
    fx_up(&f, NULL);
    struct run_rec r = {0};
    cr_assert_eq(f.l2->register_proto(f.eth->self, LYRA_ETHERTYPE_IPV4, &old_ev, &r), 0);
    deliver_run(&f);
    cr_assert_eq(r.n, RUN_N);
    cr_assert_not(r.flag, "a run reached a user that does not know runs");
    for (unsigned k = 0; k < RUN_N; k++) {
        cr_assert_eq(r.first[k], 0x40 + k, "frame %u out of order or not at its IPv4 header", k);
        cr_assert_eq(r.len[k], RUN_LEN - 14);
    }
    fx_down(&f);
}

/* A run eth drops goes whole, counted per frame. */
Test(eth, a_dropped_run_counts_each_frame)
{
    struct fx f;
    fx_up(&f, NULL);
    deliver_run(&f); /* nobody registered IPv4 */
    cr_assert_eq(st(&f, "rx_unknown_type"), RUN_N);
    fx_down(&f);
}
