/* The fixture shared by the ip component tests (test_ip.c,
 * test_icmp_sock.c): ip wired to a hand-written fake l2 (below), fake_os and
 * skb_copy.
 *
 * The fake l2 records every datagram ip outputs (flattened, with its next
 * hop) and lets a test deliver packets up as eth would: from whole
 * Ethernet frames of the Linux captures (tests/data/eth/ping-linux.pcap,
 * tests/data/ip; README.txt there), pulled past the 14-byte header.
 * ip plays 192.0.2.2/24 (the kernel's peer) unless a test says otherwise.
 * fx_down is the leak check every test ends with: no skb out of the pool
 * once ip has stopped, none freed twice, no os memory or timer left. */
#ifndef IP_FIXTURE_H
#define IP_FIXTURE_H

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fake_os.h"
#include "icmp_wire.h"
#include "ip_internal.h"
#include "ip_test_util.h"
#include "lyra/inet_csum.h"
#include "lyra/l2.h"
#include "lyra/l3.h"
#include "lyra/skb.h"

extern const struct lyra_component lyra_component_ip;
#include "lt_skb.h" /* LT_SKB_PROVIDER: skb_copy, or fake_skb_split in the _split build */

/* ----- fake l2 ------------------------------------------------------------ */

#define OUT_MAX 64

struct out_rec {
    uint8_t b[1600];
    uint32_t len;
    uint32_t next_hop;
    uint16_t type;
    uint32_t headroom;
    uint32_t total;    /* the datagram's length (b holds its first 1600 bytes) */
    uint16_t gso_size; /* skb 2.5: a TSO datagram's segment payload */
    uint16_t flags;    /* the skb's flags as ip handed it down */
};

struct fake_l2 {
    const struct lyra_l2_events *ev;
    void *user;
    int registered;
    uint32_t addrs[4];
    unsigned naddrs;
    uint32_t mtu;
    uint8_t csum_tx;   /* caps: LYRA_CSUM_* */
    uint16_t tso_segs; /* caps (netdev 1.2) */
    int output_err; /* returned by output (the skb is taken anyway) */
    unsigned nout;
    struct out_rec out[OUT_MAX];
};

static inline int fl2_register(void *self, uint16_t type, const struct lyra_l2_events *ev,
                               void *user)
{
    struct fake_l2 *l = self;
    if (type != LYRA_ETHERTYPE_IPV4)
        return -EINVAL;
    if (l->registered)
        return -EEXIST;
    l->ev = ev;
    l->user = user;
    l->registered = 1;
    return 0;
}

static inline int fl2_add_addr(void *self, uint32_t a)
{
    struct fake_l2 *l = self;
    if (l->naddrs >= 4)
        return -ENOSPC;
    l->addrs[l->naddrs++] = a;
    return 0;
}

static inline int fl2_del_addr(void *self, uint32_t a)
{
    struct fake_l2 *l = self;
    for (unsigned i = 0; i < l->naddrs; i++)
        if (l->addrs[i] == a) {
            l->addrs[i] = l->addrs[--l->naddrs];
            return 0;
        }
    return -ENOENT;
}

static inline int fl2_output(void *self, struct lyra_skb *skb, uint16_t type, uint32_t nh)
{
    struct fake_l2 *l = self;
    cr_assert(lyra_skb_total(skb) <= (skb->gso_size ? LYRA_TSO_MAX : l->mtu),
              "ip sent %u bytes over MTU %u", lyra_skb_total(skb), l->mtu);
    if (l->nout < OUT_MAX) {
        struct out_rec *o = &l->out[l->nout++];
        o->len = lyra_skb_flatten(skb, o->b, sizeof(o->b));
        o->next_hop = nh;
        o->type = type;
        o->headroom = lyra_skb_headroom(skb);
        o->total = lyra_skb_total(skb);
        o->gso_size = skb->gso_size;
        o->flags = skb->flags;
    }
    if (l->output_err)
        return l->output_err; /* l2 2.0: refused, the caller keeps the skb */
    lyra_skb_free(skb);
    return 0;
}

static inline int fl2_output_mac(void *self, struct lyra_skb *skb, uint16_t type,
                                 const uint8_t d[6])
{
    (void)self, (void)type, (void)d, (void)skb;
    return -ENOTSUP; /* l2 2.0: refused, the caller keeps the skb */
}

static inline int fl2_caps(void *self, struct lyra_netdev_caps *c)
{
    struct fake_l2 *l = self;
    memset(c, 0, sizeof(*c));
    c->mtu = l->mtu;
    c->csum_tx = l->csum_tx;
    c->tso_segs = l->tso_segs;
    c->link_up = 1;
    return 0;
}

static inline uint32_t fl2_headroom(void *self)
{
    (void)self;
    return ETH_HLEN;
}

static const struct lyra_l2_ops fl2_ops = {
    .hdr = LYRA_OPS_HDR(LYRA_L2_IFACE, LYRA_L2_MAJOR, LYRA_L2_MINOR, struct lyra_l2_ops),
    .register_proto = fl2_register,
    .add_addr = fl2_add_addr,
    .del_addr = fl2_del_addr,
    .output = fl2_output,
    .output_mac = fl2_output_mac,
    .caps = fl2_caps,
    .headroom = fl2_headroom,
};

/* ----- a transport above -------------------------------------------------- */

struct user {
    const struct lyra_l3_ops *l3;
    void *ip;
    int icmp_error_on_rx; /* answer every datagram with port unreachable */
    int last_icmp_ret;
    unsigned rx, errs;
    uint8_t last[9000];
    uint32_t last_len;
    struct lyra_l3_rxinfo info;
    struct lyra_l3_icmp_err err;
    int l3_off_ok;
};

static inline void user_rx(void *u, struct lyra_skb *skb, const struct lyra_l3_rxinfo *info)
{
    struct user *us = u;
    us->rx++;
    us->info = *info;
    us->last_len = lyra_skb_flatten(skb, us->last, sizeof(us->last));
    us->l3_off_ok = skb->l3_off + IPV4_HDR_LEN <= (uint32_t)(skb->data - skb->head);
    if (us->icmp_error_on_rx)
        us->last_icmp_ret = us->l3->icmp_error(us->ip, skb, ICMP_DEST_UNREACH,
                                               ICMP_CODE_PORT_UNREACH);
    lyra_skb_free(skb);
}

static inline void user_icmp_error(void *u, const struct lyra_l3_icmp_err *e)
{
    struct user *us = u;
    us->errs++;
    us->err = *e;
}

static const struct lyra_l3_events user_ev = {
    .hdr = LYRA_OPS_HDR(LYRA_L3_IFACE, LYRA_L3_MAJOR, LYRA_L3_MINOR, struct lyra_l3_events),
    .rx = user_rx,
    .icmp_error = user_icmp_error,
};

/* ----- fixture ------------------------------------------------------------ */

struct fx {
    struct lt_inst *os, *skb, *ip;
    const struct lyra_skb_ops *so;
    const struct lyra_l3_ops *l3;
    struct fake_l2 l2;
    struct user udp;
};

/* skb_p: skb_copy's parameters (NULL: 64 buffers of 2048 bytes); ip_os:
 * an os table to bind ip to instead of fake_os's own (same instance). */
static inline void fx_make_p(struct fx *f, const char *const *ip_p, const char *const *skb_p,
                             const struct lyra_os_ops *ip_os)
{
    memset(f, 0, sizeof(*f));
    f->l2.mtu = 1500;
    f->os = lt_create(&lyra_component_fake_os, NULL);
    f->skb = lt_create(&LT_SKB_PROVIDER,
                       skb_p ? skb_p : (const char *const[]){"count=64", "buf_size=2048", NULL});
    cr_assert_not_null(f->skb);
    f->ip = lt_create(&lyra_component_ip, ip_p ? ip_p
                                               : (const char *const[]){"addr=192.0.2.2/24", NULL});
    cr_assert_not_null(f->ip);
    cr_assert_eq(lt_bind(f->skb, "os", f->os), 0);
    cr_assert_eq(lt_bind_raw(f->ip, "lower", &fl2_ops, &f->l2), 0);
    cr_assert_eq(lt_bind(f->ip, "skb", f->skb), 0);
    if (ip_os)
        cr_assert_eq(lt_bind_raw(f->ip, "os", ip_os, f->os->self), 0);
    else
        cr_assert_eq(lt_bind(f->ip, "os", f->os), 0);
    cr_assert_eq(lt_start(f->os), 0);
    cr_assert_eq(lt_start(f->skb), 0);
    f->so = lt_ops(f->skb, "skb");
    f->l3 = lt_ops(f->ip, "l3");
    cr_assert_not_null(f->l3);
    f->udp.l3 = f->l3;
    f->udp.ip = f->ip->self;
}

static inline void fx_make(struct fx *f, const char *const *ip_p, const char *skb_buf)
{
    fx_make_p(f, ip_p,
              (const char *const[]){"count=64", skb_buf ? skb_buf : "buf_size=2048", NULL},
              NULL);
}

static inline void fx_up_p(struct fx *f, const char *const *ip_p, const char *const *skb_p,
                           const struct lyra_os_ops *ip_os)
{
    fx_make_p(f, ip_p, skb_p, ip_os);
    cr_assert_eq(lt_start(f->ip), 0);
    cr_assert(f->l2.registered);
    cr_assert_eq(f->l2.naddrs, 1);
}

static inline void fx_up(struct fx *f, const char *const *ip_p, const char *skb_buf)
{
    fx_up_p(f, ip_p,
            (const char *const[]){"count=64", skb_buf ? skb_buf : "buf_size=2048", NULL}, NULL);
}

static inline uint64_t st(struct fx *f, const char *name)
{
    uint64_t v = lt_stat(f->ip, name);
    cr_assert_neq(v, UINT64_MAX, "ip reports no counter %s", name);
    return v;
}

static inline void fx_down(struct fx *f)
{
    lt_stop(f->ip);
    cr_assert_eq(f->l2.naddrs, 0, "the address was not removed from l2");
    cr_assert_eq(lt_stat(f->skb, "in_use"), 0, "skbs leaked: %llu",
                 (unsigned long long)lt_stat(f->skb, "in_use"));
    cr_assert_eq(lt_stat(f->skb, "bad_free"), 0, "an skb was freed twice");
    lt_stop(f->skb);
    cr_assert_eq(fake_os_mem_in_use(f->os->self), 0, "os memory leaked");
    cr_assert_eq(fake_os_timers_armed(f->os->self), 0, "a timer is left armed");
    lt_destroy(f->ip);
    lt_destroy(f->skb);
    lt_destroy(f->os);
}

/* Delivers an IP packet as eth would: in an rx buffer after a 14-byte
 * Ethernet header that is pulled, with the link-layer flags. In the _split
 * build the packet is added with add_data, so it arrives in 64-byte
 * pieces (as from a NIC that does not copy) and ip must pull it up. */
static inline void deliver_ip(struct fx *f, const uint8_t *p, uint32_t len, uint16_t l2flags)
{
    struct lyra_skb *s = f->so->alloc_rx(f->skb->self, ETH_HLEN + len);
    cr_assert_not_null(s, "pool empty");
    uint8_t *d = lyra_skb_put(s, LT_SKB_SPLIT_ON ? ETH_HLEN : ETH_HLEN + len);
    cr_assert_not_null(d);
    memset(d, 0, ETH_HLEN);
    if (LT_SKB_SPLIT_ON)
        cr_assert_eq(f->so->add_data(f->skb->self, s, p, len, 0, NULL), (int)len);
    else
        memcpy(d + ETH_HLEN, p, len);
    lyra_skb_pull(s, ETH_HLEN);
    s->flags |= l2flags;
    s->protocol = LYRA_ETHERTYPE_IPV4;
    s->l3_off = (uint32_t)(s->data - s->head);
    struct lyra_l2_rxinfo info = {.ethertype = LYRA_ETHERTYPE_IPV4, .flags = l2flags};
    f->l2.ev->rx(f->l2.user, s, &info);
}

static inline void deliver_frame(struct fx *f, const struct frame *fr)
{
    deliver_ip(f, l3(fr), l3_len(fr), LYRA_SKB_F_HOST);
}

/* A datagram's header must be valid: version, IHL, length, checksum. */
static inline void check_ip(const struct out_rec *o, struct ipv4_view *v)
{
    cr_assert_eq(o->type, LYRA_ETHERTYPE_IPV4);
    cr_assert_eq(ipv4_view_init(v, o->b, o->len), IPV4_OK);
    cr_assert_eq(v->len, o->len);
    cr_assert(ipv4_view_csum_ok(v), "bad IP header checksum");
    cr_assert(o->headroom >= ETH_HLEN, "no room left for the Ethernet header");
}

/* Our datagram equals the kernel's except the IP ID and header checksum. */
static inline void same_as_linux(const struct out_rec *o, const uint8_t *lx, uint32_t lxlen)
{
    cr_assert_eq(o->len, lxlen, "length %u, the kernel's %u", o->len, lxlen);
    cr_assert_eq(memcmp(o->b, lx, 4), 0, "version/IHL/TOS/length differ");
    cr_assert_eq(memcmp(o->b + 6, lx + 6, 4), 0, "flags/offset/TTL/protocol differ");
    cr_assert_eq(memcmp(o->b + 12, lx + 12, lxlen - 12), 0, "addresses or payload differ");
}

static inline struct lyra_skb *payload(struct fx *f, uint32_t n)
{
    struct lyra_skb *s = f->so->alloc(f->skb->self, f->l3->headroom(f->ip->self), n);
    cr_assert_not_null(s);
    uint8_t *p = lyra_skb_put(s, n);
    cr_assert_not_null(p);
    for (uint32_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 7 + 3);
    return s;
}

#endif
