/* The ip component wired to a hand-written fake l2 (below), fake_os and
 * skb_copy.
 *
 * The fake l2 records every datagram ip outputs (flattened, with its next
 * hop) and lets a test deliver packets up as eth would: from whole
 * Ethernet frames of the Linux captures (tests/data/eth/ping-linux.pcap,
 * tests/data/ip; README.txt there), pulled past the 14-byte header.
 * ip plays 192.0.2.2/24 (the kernel's peer) unless a test says otherwise.
 * Every test ends with a leak check: no skb out of the pool once ip has
 * stopped, none freed twice, no os memory or timer left. */
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
extern const struct lyra_component lyra_component_skb_copy;

/* ----- fake l2 ------------------------------------------------------------ */

#define OUT_MAX 64

struct out_rec {
    uint8_t b[1600];
    uint32_t len;
    uint32_t next_hop;
    uint16_t type;
    uint32_t headroom;
};

struct fake_l2 {
    const struct lyra_l2_events *ev;
    void *user;
    int registered;
    uint32_t addrs[4];
    unsigned naddrs;
    uint32_t mtu;
    int output_err; /* returned by output (the skb is taken anyway) */
    unsigned nout;
    struct out_rec out[OUT_MAX];
};

static int fl2_register(void *self, uint16_t type, const struct lyra_l2_events *ev, void *user)
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

static int fl2_add_addr(void *self, uint32_t a)
{
    struct fake_l2 *l = self;
    if (l->naddrs >= 4)
        return -ENOSPC;
    l->addrs[l->naddrs++] = a;
    return 0;
}

static int fl2_del_addr(void *self, uint32_t a)
{
    struct fake_l2 *l = self;
    for (unsigned i = 0; i < l->naddrs; i++)
        if (l->addrs[i] == a) {
            l->addrs[i] = l->addrs[--l->naddrs];
            return 0;
        }
    return -ENOENT;
}

static int fl2_output(void *self, struct lyra_skb *skb, uint16_t type, uint32_t nh)
{
    struct fake_l2 *l = self;
    cr_assert(lyra_skb_total(skb) <= l->mtu, "ip sent %u bytes over MTU %u",
              lyra_skb_total(skb), l->mtu);
    if (l->nout < OUT_MAX) {
        struct out_rec *o = &l->out[l->nout++];
        o->len = lyra_skb_flatten(skb, o->b, sizeof(o->b));
        o->next_hop = nh;
        o->type = type;
        o->headroom = lyra_skb_headroom(skb);
    }
    lyra_skb_free(skb);
    return l->output_err;
}

static int fl2_output_mac(void *self, struct lyra_skb *skb, uint16_t type, const uint8_t d[6])
{
    (void)self, (void)type, (void)d;
    lyra_skb_free(skb);
    return -ENOTSUP;
}

static int fl2_caps(void *self, struct lyra_netdev_caps *c)
{
    struct fake_l2 *l = self;
    memset(c, 0, sizeof(*c));
    c->mtu = l->mtu;
    c->link_up = 1;
    return 0;
}

static uint32_t fl2_headroom(void *self)
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
    uint8_t last[4096];
    uint32_t last_len;
    struct lyra_l3_rxinfo info;
    struct lyra_l3_icmp_err err;
    int l3_off_ok;
};

static void user_rx(void *u, struct lyra_skb *skb, const struct lyra_l3_rxinfo *info)
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

static void user_icmp_error(void *u, const struct lyra_l3_icmp_err *e)
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

static void fx_make(struct fx *f, const char *const *ip_p, const char *skb_buf)
{
    memset(f, 0, sizeof(*f));
    f->l2.mtu = 1500;
    f->os = lt_create(&lyra_component_fake_os, NULL);
    f->skb = lt_create(&lyra_component_skb_copy,
                       (const char *const[]){"count=64", skb_buf ? skb_buf : "buf_size=2048",
                                             NULL});
    f->ip = lt_create(&lyra_component_ip, ip_p ? ip_p
                                               : (const char *const[]){"addr=192.0.2.2/24", NULL});
    cr_assert_not_null(f->ip);
    cr_assert_eq(lt_bind(f->skb, "os", f->os), 0);
    cr_assert_eq(lt_bind_raw(f->ip, "lower", &fl2_ops, &f->l2), 0);
    cr_assert_eq(lt_bind(f->ip, "skb", f->skb), 0);
    cr_assert_eq(lt_bind(f->ip, "os", f->os), 0);
    cr_assert_eq(lt_start(f->os), 0);
    cr_assert_eq(lt_start(f->skb), 0);
    f->so = lt_ops(f->skb, "skb");
    f->l3 = lt_ops(f->ip, "l3");
    cr_assert_not_null(f->l3);
    f->udp.l3 = f->l3;
    f->udp.ip = f->ip->self;
}

static void fx_up(struct fx *f, const char *const *ip_p, const char *skb_buf)
{
    fx_make(f, ip_p, skb_buf);
    cr_assert_eq(lt_start(f->ip), 0);
    cr_assert(f->l2.registered);
    cr_assert_eq(f->l2.naddrs, 1);
}

static uint64_t st(struct fx *f, const char *name)
{
    uint64_t v = lt_stat(f->ip, name);
    cr_assert_neq(v, UINT64_MAX, "ip reports no counter %s", name);
    return v;
}

static void fx_down(struct fx *f)
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
 * Ethernet header that is pulled, with the link-layer flags. */
static void deliver_ip(struct fx *f, const uint8_t *p, uint32_t len, uint16_t l2flags)
{
    struct lyra_skb *s = f->so->alloc_rx(f->skb->self, ETH_HLEN + len);
    cr_assert_not_null(s, "pool empty");
    uint8_t *d = lyra_skb_put(s, ETH_HLEN + len);
    cr_assert_not_null(d);
    memset(d, 0, ETH_HLEN);
    memcpy(d + ETH_HLEN, p, len);
    lyra_skb_pull(s, ETH_HLEN);
    s->flags |= l2flags;
    s->protocol = LYRA_ETHERTYPE_IPV4;
    s->l3_off = (uint32_t)(s->data - s->head);
    struct lyra_l2_rxinfo info = {.ethertype = LYRA_ETHERTYPE_IPV4, .flags = l2flags};
    f->l2.ev->rx(f->l2.user, s, &info);
}

static void deliver_frame(struct fx *f, const struct frame *fr)
{
    deliver_ip(f, l3(fr), l3_len(fr), LYRA_SKB_F_HOST);
}

/* A datagram's header must be valid: version, IHL, length, checksum. */
static void check_ip(const struct out_rec *o, struct ipv4_view *v)
{
    cr_assert_eq(o->type, LYRA_ETHERTYPE_IPV4);
    cr_assert_eq(ipv4_view_init(v, o->b, o->len), IPV4_OK);
    cr_assert_eq(v->len, o->len);
    cr_assert(ipv4_view_csum_ok(v), "bad IP header checksum");
    cr_assert(o->headroom >= ETH_HLEN, "no room left for the Ethernet header");
}

/* Our datagram equals the kernel's except the IP ID and header checksum. */
static void same_as_linux(const struct out_rec *o, const uint8_t *lx, uint32_t lxlen)
{
    cr_assert_eq(o->len, lxlen, "length %u, the kernel's %u", o->len, lxlen);
    cr_assert_eq(memcmp(o->b, lx, 4), 0, "version/IHL/TOS/length differ");
    cr_assert_eq(memcmp(o->b + 6, lx + 6, 4), 0, "flags/offset/TTL/protocol differ");
    cr_assert_eq(memcmp(o->b + 12, lx + 12, lxlen - 12), 0, "addresses or payload differ");
}

/* ----- echo --------------------------------------------------------------- */

Test(ip, echo_reply_to_linux_request)
{
    struct fx f;
    fx_up(&f, NULL, NULL);
    for (unsigned k = 0; k < 2; k++) {
        struct frame q, a;
        load_frame("eth/ping-linux.pcap", 3 + 2 * k, &q);
        load_frame("eth/ping-linux.pcap", 4 + 2 * k, &a);
        deliver_frame(&f, &q);
        cr_assert_eq(f.l2.nout, k + 1);
        const struct out_rec *o = &f.l2.out[k];
        cr_assert_eq(o->next_hop, LINUX_IP);
        struct ipv4_view v;
        check_ip(o, &v);
        /* RFC 792: addresses reversed, type 0, code 0, checksum over the
         * message; identifier, sequence number and data as in the request */
        cr_assert_eq(ipv4_view_src(&v), STACK_IP);
        cr_assert_eq(ipv4_view_dst(&v), LINUX_IP);
        cr_assert_eq(ipv4_view_proto(&v), 1);
        cr_assert_eq(ipv4_view_ttl(&v), 64);
        cr_assert(!ipv4_view_is_frag(&v));
        struct icmp_view iv;
        cr_assert_eq(icmp_view_init(&iv, ipv4_view_payload(&v), ipv4_view_payload_len(&v)), 0);
        cr_assert_eq(icmp_view_type(&iv), ICMP_ECHO_REPLY);
        cr_assert_eq(icmp_view_code(&iv), 0);
        cr_assert(icmp_view_csum_ok(&iv));
        cr_assert_eq(memcmp(o->b + 24, l3(&q) + 24, l3_len(&q) - 24), 0,
                     "id, seq or data differ from the request");
        /* and the whole datagram is the kernel's own reply, but its IP ID */
        same_as_linux(o, l3(&a), l3_len(&a));
    }
    cr_assert_eq(st(&f, "icmp_echo_requests"), 2);
    cr_assert_eq(st(&f, "icmp_echo_replies"), 2);
    cr_assert_eq(st(&f, "tx_packets"), 2);
    /* IDs come from the counter: consecutive */
    cr_assert_eq((uint16_t)(ip_ld16(f.l2.out[0].b + 4) + 1), ip_ld16(f.l2.out[1].b + 4));
    fx_down(&f);
}

Test(ip, echo_reply_with_options_and_padding)
{
    struct fx f;
    fx_up(&f, NULL, NULL);
    struct frame q;
    load_frame("eth/ping-linux.pcap", 3, &q);
    /* the same request with a 4-byte options field (NOP x3, EOL) and 6
     * bytes of Ethernet padding after it */
    uint8_t b[128] = {0};
    memcpy(b, l3(&q), 20);
    memcpy(b + 24, l3(&q) + 20, 64);
    b[0] = 0x46;
    b[20] = b[21] = b[22] = 1;
    ip_st16(b + 2, 88);
    ipv4_hdr_set_csum(b, 24);
    deliver_ip(&f, b, 94, LYRA_SKB_F_HOST);
    cr_assert_eq(f.l2.nout, 1);
    struct ipv4_view v;
    check_ip(&f.l2.out[0], &v);
    cr_assert_eq(ipv4_view_hlen(&v), 20, "no options in the reply");
    cr_assert_eq(v.len, 84);
    cr_assert_eq(memcmp(f.l2.out[0].b + 24, b + 28, 60), 0);
    fx_down(&f);
}

Test(ip, echo_to_broadcast_ignored)
{
    struct fx f;
    fx_up(&f, NULL, NULL);
    struct frame q;
    load_frame("eth/ping-linux.pcap", 3, &q);
    uint8_t b[128];
    memcpy(b, l3(&q), l3_len(&q));
    ip_st32(b + 16, IP(192, 0, 2, 255));
    ipv4_hdr_set_csum(b, 20);
    deliver_ip(&f, b, l3_len(&q), LYRA_SKB_F_BCAST);
    ip_st32(b + 16, IPV4_BCAST);
    ipv4_hdr_set_csum(b, 20);
    deliver_ip(&f, b, l3_len(&q), LYRA_SKB_F_BCAST);
    cr_assert_eq(f.l2.nout, 0);
    cr_assert_eq(st(&f, "icmp_echo_bcast"), 2);
    fx_down(&f);
}

Test(ip, icmp_user_gets_echo_replies)
{
    struct fx f;
    fx_up(&f, (const char *const[]){"addr=192.0.2.1/24", NULL}, NULL);
    struct user ping = {.l3 = f.l3, .ip = f.ip->self};
    cr_assert_eq(f.l3->register_proto(f.ip->self, LYRA_IPPROTO_ICMP, &user_ev, &ping), 0);
    struct frame a;
    load_frame("eth/ping-linux.pcap", 4, &a); /* the kernel's reply to .1 */
    deliver_frame(&f, &a);
    cr_assert_eq(ping.rx, 1);
    cr_assert_eq(ping.last_len, 64);
    cr_assert_eq(ping.last[0], ICMP_ECHO_REPLY);
    cr_assert_eq(ping.info.src, STACK_IP);
    cr_assert(ping.l3_off_ok);
    fx_down(&f);
}

/* ----- reassembly --------------------------------------------------------- */

static void load_frag_ping(struct frame fr[6], unsigned first)
{
    for (unsigned i = 0; i < 6; i++)
        load_frame("ip/ping-frag-linux.pcap", first + i, &fr[i]);
}

/* Our reply to a reassembled 3000-byte echo request, as three fragments,
 * equals the kernel's three fragments except the IP ID and checksum. */
static void check_frag_reply(struct fx *f, unsigned at, struct frame fr[6])
{
    cr_assert_eq(f->l2.nout, at + 3);
    uint16_t id = ip_ld16(f->l2.out[at].b + 4);
    for (unsigned i = 0; i < 3; i++) {
        const struct out_rec *o = &f->l2.out[at + i];
        struct ipv4_view v;
        check_ip(o, &v);
        cr_assert_eq(ipv4_view_id(&v), id, "fragments of one datagram share its ID");
        cr_assert_eq(o->next_hop, LINUX_IP);
        same_as_linux(o, l3(&fr[3 + i]), l3_len(&fr[3 + i]));
    }
}

Test(ip, reassembles_linux_ping_in_order_reversed_dup)
{
    struct fx f;
    fx_up(&f, NULL, "buf_size=4096");
    struct frame fr[6];
    load_frag_ping(fr, 1);
    deliver_frame(&f, &fr[0]);
    deliver_frame(&f, &fr[1]);
    cr_assert_eq(f.l2.nout, 0);
    deliver_frame(&f, &fr[2]);
    check_frag_reply(&f, 0, fr);

    load_frag_ping(fr, 7); /* the second request: reversed, with duplicates */
    deliver_frame(&f, &fr[2]);
    deliver_frame(&f, &fr[2]);
    deliver_frame(&f, &fr[1]);
    deliver_frame(&f, &fr[2]);
    deliver_frame(&f, &fr[1]);
    cr_assert_eq(f.l2.nout, 3);
    deliver_frame(&f, &fr[0]);
    check_frag_reply(&f, 3, fr);
    cr_assert_eq(st(&f, "reass_ok"), 2);
    cr_assert_eq(st(&f, "reass_dup"), 3);
    cr_assert_eq(st(&f, "rx_frags"), 9);
    cr_assert_eq(st(&f, "tx_fragmented"), 2);
    cr_assert_eq(st(&f, "tx_fragments"), 6);
    cr_assert_eq(st(&f, "reass_in_progress"), 0);
    cr_assert_eq(fake_os_timers_armed(f.os->self), 0);
    fx_down(&f);
}

Test(ip, overlap_with_different_data_dropped)
{
    struct fx f;
    fx_up(&f, NULL, "buf_size=4096");
    struct frame fr[6];
    load_frag_ping(fr, 1);
    struct frame bad = fr[1];
    bad.b[ETH_HLEN + 20 + 100] ^= 0xff; /* same fragment, one byte different */
    deliver_frame(&f, &fr[0]);
    deliver_frame(&f, &fr[1]);
    deliver_frame(&f, &bad);
    deliver_frame(&f, &fr[2]);
    cr_assert_eq(f.l2.nout, 0, "no reply to a datagram with conflicting fragments");
    cr_assert_eq(st(&f, "reass_overlap"), 1);
    cr_assert_eq(st(&f, "reass_in_progress"), 1); /* fr[2] started over */
    fx_down(&f);
}

Test(ip, reassembly_timeout_30s)
{
    struct fx f;
    fx_up(&f, NULL, "buf_size=4096");
    struct frame fr[6];
    load_frag_ping(fr, 1);
    fake_os_advance(f.os->self, 1 * S);
    deliver_frame(&f, &fr[0]);
    deliver_frame(&f, &fr[1]);
    cr_assert_eq(fake_os_timers_armed(f.os->self), 1);
    fake_os_advance(f.os->self, 30 * S - 1);
    cr_assert_eq(st(&f, "reass_timeout"), 0);
    cr_assert_eq(st(&f, "reass_in_progress"), 1);
    fake_os_advance(f.os->self, 1);
    cr_assert_eq(st(&f, "reass_timeout"), 1);
    cr_assert_eq(st(&f, "reass_in_progress"), 0);
    cr_assert_eq(fake_os_timers_armed(f.os->self), 0);
    /* RFC 1122 3.3.2: fragment zero came, so time exceeded (reassembly) */
    cr_assert_eq(f.l2.nout, 1);
    struct ipv4_view v;
    check_ip(&f.l2.out[0], &v);
    cr_assert_eq(ipv4_view_dst(&v), LINUX_IP);
    struct icmp_view iv;
    cr_assert_eq(icmp_view_init(&iv, ipv4_view_payload(&v), ipv4_view_payload_len(&v)), 0);
    cr_assert(icmp_view_csum_ok(&iv));
    cr_assert_eq(icmp_view_type(&iv), ICMP_TIME_EXCEEDED);
    cr_assert_eq(icmp_view_code(&iv), ICMP_CODE_REASS_TIME);
    cr_assert_eq(memcmp(icmp_view_body(&iv), l3(&fr[0]), 20), 0, "quotes fragment zero");
    /* without fragment zero: dropped silently */
    deliver_frame(&f, &fr[2]);
    fake_os_advance(f.os->self, 31 * S);
    cr_assert_eq(st(&f, "reass_timeout"), 2);
    cr_assert_eq(f.l2.nout, 1);
    fx_down(&f);
}

Test(ip, reassembly_bounds)
{
    struct fx f;
    fx_up(&f, (const char *const[]){"addr=192.0.2.2/24", "reass_max=2", NULL}, "buf_size=4096");
    uint8_t b[64], d[8] = {0};
    for (uint16_t id = 1; id <= 3; id++) {
        make_frag(b, LINUX_IP, STACK_IP, id, 17, 0, 1, d, 8);
        deliver_ip(&f, b, 28, LYRA_SKB_F_HOST);
    }
    cr_assert_eq(st(&f, "reass_in_progress"), 2);
    cr_assert_eq(st(&f, "reass_full"), 1);
    fx_down(&f);
}

Test(ip, reassembled_too_big_for_pool_buffers)
{
    struct fx f;
    fx_up(&f, NULL, NULL); /* 2048-byte buffers: 3028 bytes cannot be one skb */
    struct frame fr[6];
    load_frag_ping(fr, 1);
    for (unsigned i = 0; i < 3; i++)
        deliver_frame(&f, &fr[i]);
    cr_assert_eq(f.l2.nout, 0);
    cr_assert_eq(st(&f, "reass_too_big"), 1);
    fx_down(&f);
}

/* ----- output and fragmentation ------------------------------------------- */

static struct lyra_skb *payload(struct fx *f, uint32_t n)
{
    struct lyra_skb *s = f->so->alloc(f->skb->self, f->l3->headroom(f->ip->self), n);
    cr_assert_not_null(s);
    uint8_t *p = lyra_skb_put(s, n);
    cr_assert_not_null(p);
    for (uint32_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 7 + 3);
    return s;
}

Test(ip, fragments_3000_bytes_to_mtu_1500)
{
    struct fx f;
    fx_up(&f, NULL, "buf_size=4096");
    cr_assert_eq(f.l3->headroom(f.ip->self), 34);
    cr_assert_eq(f.l3->output(f.ip->self, payload(&f, 3000), 0, LINUX_IP, 17, 0, 0, 0), 0);
    cr_assert_eq(f.l2.nout, 3);
    static const uint32_t len[3] = {1500, 1500, 60}, off[3] = {0, 1480, 2960};
    uint8_t all[3000];
    uint16_t id = ip_ld16(f.l2.out[0].b + 4);
    for (unsigned i = 0; i < 3; i++) {
        struct ipv4_view v;
        check_ip(&f.l2.out[i], &v);
        cr_assert_eq(v.len, len[i]);
        cr_assert_eq(ipv4_view_frag_off(&v), off[i]);
        cr_assert_eq(ipv4_view_mf(&v), i < 2);
        cr_assert(!ipv4_view_df(&v));
        cr_assert_eq(ipv4_view_id(&v), id);
        cr_assert_eq(ipv4_view_proto(&v), 17);
        cr_assert_eq(ipv4_view_src(&v), STACK_IP);
        cr_assert_eq(off[i] % 8, 0);
        memcpy(all + off[i], ipv4_view_payload(&v), ipv4_view_payload_len(&v));
    }
    for (uint32_t i = 0; i < 3000; i++)
        cr_assert_eq(all[i], (uint8_t)(i * 7 + 3));
    /* DF: not sent */
    cr_assert_eq(f.l3->output(f.ip->self, payload(&f, 3000), 0, LINUX_IP, 17, 0, 0, 1),
                 -EMSGSIZE);
    cr_assert_eq(st(&f, "tx_df_too_big"), 1);
    cr_assert_eq(f.l2.nout, 3);
    /* exactly the MTU: one datagram, DF kept */
    cr_assert_eq(f.l3->output(f.ip->self, payload(&f, 1480), 0, LINUX_IP, 6, 0, 0, 1), 0);
    cr_assert_eq(f.l2.nout, 4);
    struct ipv4_view v;
    check_ip(&f.l2.out[3], &v);
    cr_assert(ipv4_view_df(&v));
    cr_assert(!ipv4_view_is_frag(&v));
    cr_assert_eq(v.len, 1500);
    fx_down(&f);
}

Test(ip, checksum_offload_resolved_before_fragmenting)
{
    struct fx f;
    fx_up(&f, NULL, "buf_size=4096");
    /* a UDP message asking the NIC for its checksum (skb.h: offsets from
     * the frame, Ethernet and IP headers included), seeded with the
     * pseudo-header sum as transports do for offload */
    struct lyra_skb *s = payload(&f, 3000);
    uint8_t *u = s->data;
    ip_st16(u, 40000);
    ip_st16(u + 2, 9);
    ip_st16(u + 4, 3000);
    uint32_t ph = (STACK_IP >> 16) + (STACK_IP & 0xffff) + (LINUX_IP >> 16) +
                  (LINUX_IP & 0xffff) + 17 + 3000;
    ip_st16(u + 6, lyra_csum_fold(ph));
    s->flags |= LYRA_SKB_F_CSUM_TX;
    s->csum_start = ETH_HLEN + 20;
    s->csum_off = 6;
    cr_assert_eq(f.l3->output(f.ip->self, s, 0, LINUX_IP, 17, 0, 0, 0), 0);
    cr_assert_eq(f.l2.nout, 3);
    uint8_t all[3000];
    for (unsigned i = 0; i < 3; i++) {
        struct ipv4_view v;
        check_ip(&f.l2.out[i], &v);
        memcpy(all + ipv4_view_frag_off(&v), ipv4_view_payload(&v), ipv4_view_payload_len(&v));
    }
    cr_assert_neq(ip_ld16(all + 6), 0);
    cr_assert_eq(lyra_csum_fold(lyra_csum_add(all, 3000, ph)), 0xffff,
                 "the UDP checksum of the fragmented datagram does not verify");
    /* offsets that cannot be: dropped, counted */
    s = payload(&f, 3000);
    s->flags |= LYRA_SKB_F_CSUM_TX;
    s->csum_start = 10;
    cr_assert_eq(f.l3->output(f.ip->self, s, 0, LINUX_IP, 17, 0, 0, 0), -EINVAL);
    s = payload(&f, 3000);
    s->flags |= LYRA_SKB_F_CSUM_TX;
    s->csum_start = ETH_HLEN + 20 + 2999;
    cr_assert_eq(f.l3->output(f.ip->self, s, 0, LINUX_IP, 17, 0, 0, 0), -EINVAL);
    cr_assert_eq(st(&f, "tx_bad_csum"), 2);
    cr_assert_eq(f.l2.nout, 3);
    fx_down(&f);
}

Test(ip, fragments_to_small_mtu_and_pool_exhaustion)
{
    struct fx f;
    fx_make(&f, NULL, "buf_size=4096");
    f.l2.mtu = 576;
    cr_assert_eq(lt_start(f.ip), 0);
    cr_assert_eq(f.l3->output(f.ip->self, payload(&f, 1200), 0, LINUX_IP, 17, 0, 0, 0), 0);
    cr_assert_eq(f.l2.nout, 3); /* 552 + 552 + 96 */
    struct ipv4_view v;
    check_ip(&f.l2.out[2], &v);
    cr_assert_eq(ipv4_view_frag_off(&v), 1104);
    cr_assert_eq(v.len, 116);
    /* an empty pool: nothing sent, counted, nothing leaked */
    struct lyra_skb *hold[64];
    unsigned n = 0;
    struct lyra_skb *big = payload(&f, 3000);
    while (n < 64 && (hold[n] = f.so->alloc(f.skb->self, 0, 16)))
        n++;
    lyra_skb_free(hold[--n]); /* one buffer left: not enough for 6 fragments */
    cr_assert_eq(f.l3->output(f.ip->self, big, 0, LINUX_IP, 17, 0, 0, 0), -ENOBUFS);
    cr_assert_eq(st(&f, "tx_nobuf"), 1);
    while (n)
        lyra_skb_free(hold[--n]);
    fx_down(&f);
}

Test(ip, output_errors)
{
    struct fx f;
    fx_up(&f, NULL, NULL);
    /* no route off the subnet without a gateway */
    cr_assert_eq(f.l3->output(f.ip->self, payload(&f, 10), 0, IP(198, 51, 100, 7), 17, 0, 0, 0),
                 -ENETUNREACH);
    cr_assert_eq(st(&f, "tx_noroute"), 1);
    /* a source that is not ours */
    cr_assert_eq(f.l3->output(f.ip->self, payload(&f, 10), IP(192, 0, 2, 9), LINUX_IP, 17, 0, 0,
                              0),
                 -EADDRNOTAVAIL);
    /* too little headroom for IP and Ethernet */
    struct lyra_skb *s = f.so->alloc(f.skb->self, 0, 10);
    lyra_skb_put(s, 10);
    lyra_skb_push(s, lyra_skb_headroom(s) > 20 ? lyra_skb_headroom(s) - 20 : 0);
    cr_assert_eq(f.l3->output(f.ip->self, s, 0, LINUX_IP, 17, 0, 0, 0), -ENOBUFS);
    cr_assert_eq(st(&f, "tx_headroom"), 1);
    /* l2's error is returned and counted, the skb still taken */
    f.l2.output_err = -EHOSTUNREACH;
    cr_assert_eq(f.l3->output(f.ip->self, payload(&f, 10), 0, LINUX_IP, 17, 0, 0, 0),
                 -EHOSTUNREACH);
    cr_assert_eq(st(&f, "tx_l2_error"), 1);
    f.l2.output_err = 0;
    /* ttl and tos as given; 0 is the ttl parameter */
    cr_assert_eq(f.l3->output(f.ip->self, payload(&f, 10), STACK_IP, LINUX_IP, 17, 7, 0x10, 0),
                 0);
    struct ipv4_view v;
    check_ip(&f.l2.out[f.l2.nout - 1], &v);
    cr_assert_eq(ipv4_view_ttl(&v), 7);
    cr_assert_eq(ipv4_view_tos(&v), 0x10);
    /* broadcast goes to the link broadcast */
    cr_assert_eq(f.l3->output(f.ip->self, payload(&f, 10), 0, IP(192, 0, 2, 255), 17, 0, 0, 0),
                 0);
    cr_assert_eq(f.l2.out[f.l2.nout - 1].next_hop, LYRA_L2_BROADCAST);
    fx_down(&f);
}

/* ----- routing ------------------------------------------------------------ */

Test(ip, routing_longest_prefix)
{
    struct fx f;
    fx_up(&f, (const char *const[]){"addr=192.0.2.2/24", "gateway=192.0.2.254", NULL}, NULL);
    struct lyra_l3_route rt;
    cr_assert_eq(f.l3->route(f.ip->self, IP(198, 51, 100, 7), &rt), 0);
    cr_assert_eq(rt.next_hop, IP(192, 0, 2, 254));
    cr_assert_eq(rt.src, STACK_IP);
    cr_assert_eq(rt.mtu, 1500);
    cr_assert_eq(f.l3->route(f.ip->self, IP(192, 0, 2, 77), &rt), 0);
    cr_assert_eq(rt.next_hop, IP(192, 0, 2, 77));
    cr_assert_eq(f.l3->route(f.ip->self, IPV4_BCAST, &rt), 0);
    cr_assert_eq(rt.next_hop, LYRA_L2_BROADCAST);
    cr_assert_eq(f.l3->route(f.ip->self, 0, &rt), -ENETUNREACH);
    /* a host route beats the default */
    struct ip *ip = f.ip->self;
    cr_assert_eq(route_add(&ip->routes, IP(198, 51, 100, 7), 32, IP(192, 0, 2, 253), STACK_IP), 0);
    cr_assert_eq(f.l3->route(f.ip->self, IP(198, 51, 100, 7), &rt), 0);
    cr_assert_eq(rt.next_hop, IP(192, 0, 2, 253));
    cr_assert_eq(f.l3->route(f.ip->self, IP(198, 51, 100, 8), &rt), 0);
    cr_assert_eq(rt.next_hop, IP(192, 0, 2, 254));
    cr_assert_eq(f.l3->output(f.ip->self, payload(&f, 8), 0, IP(198, 51, 100, 7), 17, 0, 0, 0),
                 0);
    cr_assert_eq(f.l2.out[0].next_hop, IP(192, 0, 2, 253));
    cr_assert(f.l3->is_local(f.ip->self, STACK_IP));
    cr_assert(f.l3->is_local(f.ip->self, IP(192, 0, 2, 255)));
    cr_assert(f.l3->is_local(f.ip->self, IPV4_BCAST));
    cr_assert(!f.l3->is_local(f.ip->self, LINUX_IP));
    fx_down(&f);
}

/* ----- ICMP errors -------------------------------------------------------- */

Test(ip, port_unreachable_matches_linux_and_is_rate_limited)
{
    struct fx f;
    fx_up(&f, (const char *const[]){"addr=192.0.2.2/24", "icmp_rate=10", "icmp_burst=4", NULL},
          NULL);
    f.udp.icmp_error_on_rx = 1;
    cr_assert_eq(f.l3->register_proto(f.ip->self, LYRA_IPPROTO_UDP, &user_ev, &f.udp), 0);
    struct frame q, a;
    load_frame("ip/udp-unreach-linux.pcap", 1, &q);
    load_frame("ip/udp-unreach-linux.pcap", 2, &a);
    deliver_frame(&f, &q);
    cr_assert_eq(f.udp.rx, 1);
    cr_assert_eq(f.udp.last_len, 16);
    cr_assert_eq(f.udp.info.src, LINUX_IP);
    cr_assert_eq(f.udp.info.proto, 17);
    cr_assert(f.udp.l3_off_ok);
    cr_assert_eq(f.udp.last_icmp_ret, 0);
    cr_assert_eq(f.l2.nout, 1);
    struct ipv4_view v;
    check_ip(&f.l2.out[0], &v);
    struct icmp_view iv;
    cr_assert_eq(icmp_view_init(&iv, ipv4_view_payload(&v), ipv4_view_payload_len(&v)), 0);
    cr_assert(icmp_view_csum_ok(&iv));
    /* the kernel's own port unreachable for this datagram, but its IP ID */
    same_as_linux(&f.l2.out[0], l3(&a), l3_len(&a));
    /* a burst of 4, then 10 per second */
    for (unsigned i = 0; i < 20; i++)
        deliver_frame(&f, &q);
    cr_assert_eq(f.l2.nout, 4);
    cr_assert_eq(st(&f, "icmp_rate_limited"), 17);
    cr_assert_eq(f.udp.last_icmp_ret, -EAGAIN);
    fake_os_advance(f.os->self, 100 * MS);
    deliver_frame(&f, &q);
    deliver_frame(&f, &q);
    cr_assert_eq(f.l2.nout, 5);
    fake_os_advance(f.os->self, 10 * S);
    for (unsigned i = 0; i < 10; i++)
        deliver_frame(&f, &q);
    cr_assert_eq(f.l2.nout, 9); /* the bucket holds 4 at most */
    cr_assert_eq(st(&f, "icmp_out_errors"), 9);
    fx_down(&f);
}

Test(ip, no_icmp_error_about_broadcast_fragments_or_errors)
{
    struct fx f;
    fx_up(&f, NULL, NULL);
    f.udp.icmp_error_on_rx = 1;
    cr_assert_eq(f.l3->register_proto(f.ip->self, LYRA_IPPROTO_UDP, &user_ev, &f.udp), 0);
    struct frame q;
    load_frame("ip/udp-unreach-linux.pcap", 1, &q);
    uint8_t b[64];
    memcpy(b, l3(&q), l3_len(&q));
    /* to the subnet broadcast, and to 255.255.255.255 */
    ip_st32(b + 16, IP(192, 0, 2, 255));
    ipv4_hdr_set_csum(b, 20);
    deliver_ip(&f, b, l3_len(&q), LYRA_SKB_F_BCAST);
    cr_assert_eq(f.udp.rx, 1);
    cr_assert(f.udp.info.flags & LYRA_L3_F_BCAST);
    cr_assert_eq(f.udp.last_icmp_ret, -EAGAIN);
    ip_st32(b + 16, IPV4_BCAST);
    ipv4_hdr_set_csum(b, 20);
    deliver_ip(&f, b, l3_len(&q), LYRA_SKB_F_BCAST);
    cr_assert_eq(f.udp.rx, 2);
    cr_assert_eq(f.udp.last_icmp_ret, -EAGAIN);
    /* unicast IP in a link-layer multicast frame never reaches the user
     * (RFC 1122 3.3.6) */
    deliver_ip(&f, l3(&q), l3_len(&q), LYRA_SKB_F_MCAST);
    cr_assert_eq(f.udp.rx, 2);
    cr_assert_eq(st(&f, "rx_l2_bcast"), 1);
    /* hand-made originals: a non-first fragment, an ICMP error, a
     * broadcast source */
    struct lyra_skb *s = f.so->alloc(f.skb->self, 64, 64);
    uint8_t *p = lyra_skb_put(s, 36);
    make_frag(p, LINUX_IP, STACK_IP, 1, 17, 8, 0, (const uint8_t[16]){0}, 16);
    s->l3_off = (uint32_t)(s->data - s->head);
    cr_assert_eq(f.l3->icmp_error(f.ip->self, s, 3, 3), -EAGAIN);
    make_frag(p, LINUX_IP, STACK_IP, 1, 1, 0, 0, (const uint8_t[16]){3, 3}, 16);
    cr_assert_eq(f.l3->icmp_error(f.ip->self, s, 3, 2), -EAGAIN);
    make_frag(p, IP(192, 0, 2, 255), STACK_IP, 1, 17, 0, 0, (const uint8_t[16]){0}, 16);
    cr_assert_eq(f.l3->icmp_error(f.ip->self, s, 3, 3), -EAGAIN);
    make_frag(p, 0, STACK_IP, 1, 17, 0, 0, (const uint8_t[16]){0}, 16);
    cr_assert_eq(f.l3->icmp_error(f.ip->self, s, 3, 3), -EAGAIN);
    /* but an echo request (not an error) gets one */
    make_frag(p, LINUX_IP, STACK_IP, 1, 1, 0, 0, (const uint8_t[16]){8}, 16);
    cr_assert_eq(f.l3->icmp_error(f.ip->self, s, 3, 2), 0);
    s->l3_off = s->size + 10; /* nonsense offset: refused, not read */
    cr_assert_eq(f.l3->icmp_error(f.ip->self, s, 3, 3), -EINVAL);
    lyra_skb_free(s);
    cr_assert_eq(f.l2.nout, 1);
    cr_assert_eq(st(&f, "icmp_err_suppressed"), 7);
    fx_down(&f);
}

Test(ip, protocol_unreachable)
{
    struct fx f;
    fx_up(&f, NULL, NULL);
    struct frame q;
    load_frame("ip/udp-unreach-linux.pcap", 1, &q); /* nobody registered UDP */
    deliver_frame(&f, &q);
    cr_assert_eq(st(&f, "rx_proto_unreach"), 1);
    cr_assert_eq(f.l2.nout, 1);
    struct ipv4_view v;
    check_ip(&f.l2.out[0], &v);
    struct icmp_view iv;
    cr_assert_eq(icmp_view_init(&iv, ipv4_view_payload(&v), ipv4_view_payload_len(&v)), 0);
    cr_assert_eq(icmp_view_type(&iv), ICMP_DEST_UNREACH);
    cr_assert_eq(icmp_view_code(&iv), ICMP_CODE_PROTO_UNREACH);
    cr_assert(icmp_view_csum_ok(&iv));
    cr_assert_eq(icmp_view_body_len(&iv), 36);
    cr_assert_eq(memcmp(icmp_view_body(&iv), l3(&q), 36), 0);
    fx_down(&f);
}

Test(ip, received_icmp_error_goes_to_the_transport)
{
    struct fx f;
    /* ip as the Linux side (192.0.2.1), the kernel's answer arriving */
    fx_up(&f, (const char *const[]){"addr=192.0.2.1/24", NULL}, NULL);
    cr_assert_eq(f.l3->register_proto(f.ip->self, LYRA_IPPROTO_UDP, &user_ev, &f.udp), 0);
    struct frame a;
    load_frame("ip/udp-unreach-linux.pcap", 2, &a);
    deliver_frame(&f, &a);
    cr_assert_eq(f.udp.errs, 1);
    cr_assert_eq(f.udp.err.type, 3);
    cr_assert_eq(f.udp.err.code, 3);
    cr_assert_eq(f.udp.err.src, LINUX_IP);
    cr_assert_eq(f.udp.err.dst, STACK_IP);
    cr_assert_eq(f.udp.err.proto, 17);
    cr_assert_eq(memcmp(f.udp.err.l4, l3(&a) + 48, 8), 0);
    cr_assert_eq(st(&f, "icmp_in_errors"), 1);
    cr_assert_eq(f.l2.nout, 0, "never an error about an error");
    /* not about a datagram of ours (we are not 192.0.2.1 here) */
    struct fx g;
    fx_up(&g, (const char *const[]){"addr=192.0.2.3/24", NULL}, NULL);
    uint8_t b[128];
    memcpy(b, l3(&a), l3_len(&a));
    ip_st32(b + 16, IP(192, 0, 2, 3));
    ipv4_hdr_set_csum(b, 20);
    deliver_ip(&g, b, l3_len(&a), LYRA_SKB_F_HOST);
    cr_assert_eq(lt_stat(g.ip, "icmp_in_error_bad"), 1);
    fx_down(&g);
    fx_down(&f);
}

/* ----- malformed input ---------------------------------------------------- */

Test(ip, malformed_headers_counted)
{
    struct fx f;
    fx_up(&f, NULL, NULL);
    struct frame q;
    load_frame("eth/ping-linux.pcap", 3, &q);
    uint8_t b[128];
#define MUT(expr, counter)                                                      \
    do {                                                                        \
        memcpy(b, l3(&q), 84);                                                  \
        uint32_t n = 84;                                                        \
        uint64_t before = st(&f, counter);                                      \
        expr;                                                                   \
        deliver_ip(&f, b, n, LYRA_SKB_F_HOST);                                  \
        cr_assert_eq(st(&f, counter), before + 1, "%s not counted", counter);   \
        cr_assert_eq(f.l2.nout, 0);                                             \
    } while (0)
    MUT(n = 19, "rx_short");
    MUT(b[0] = 0x65, "rx_version");
    MUT(b[0] = 0x44, "rx_hdrlen");
    MUT((b[0] = 0x4f, n = 40), "rx_hdrlen");
    MUT(ip_st16(b + 2, 200), "rx_totlen");
    MUT(b[8] = 1, "rx_csum");
    MUT((ip_st32(b + 16, LINUX_IP), ipv4_hdr_set_csum(b, 20)), "rx_not_ours");
    MUT((ip_st32(b + 12, IP(224, 0, 0, 1)), ipv4_hdr_set_csum(b, 20)), "rx_bad_src");
    MUT((ip_st32(b + 16, IP(224, 0, 0, 1)), ipv4_hdr_set_csum(b, 20)), "rx_not_ours");
    MUT((b[24 + 2] ^= 1), "icmp_in_csum");
    MUT((ip_st16(b + 2, 24), ipv4_hdr_set_csum(b, 20), n = 24), "icmp_in_short");
#undef MUT
    cr_assert_eq(st(&f, "rx_hdrlen"), 2);
    cr_assert_eq(st(&f, "rx_not_ours"), 2);
    cr_assert_eq(st(&f, "rx_ttl"), 0);
    /* TTL 0 for us is fine (RFC 1122 3.2.1.7) */
    memcpy(b, l3(&q), 84);
    b[8] = 0;
    ipv4_hdr_set_csum(b, 20);
    deliver_ip(&f, b, 84, LYRA_SKB_F_HOST);
    cr_assert_eq(f.l2.nout, 1);
    /* random junk: only counters move */
    for (unsigned i = 0; i < 200; i++) {
        for (unsigned k = 0; k < sizeof(b); k++)
            b[k] = (uint8_t)(i * 31 + k * 17 + (k >> 3));
        b[0] = (uint8_t)(0x40 | (i & 15));
        deliver_ip(&f, b, 20 + i % 100, LYRA_SKB_F_HOST);
    }
    cr_assert_eq(st(&f, "rx_packets"), 12 + 200);
    fx_down(&f);
}

/* ----- lifecycle ---------------------------------------------------------- */

Test(ip, two_instances_side_by_side)
{
    struct fx a, b;
    fx_up(&a, NULL, NULL);
    fx_up(&b, (const char *const[]){"addr=192.0.2.3/24", "ttl=32", NULL}, NULL);
    struct frame q;
    load_frame("eth/ping-linux.pcap", 3, &q);
    deliver_frame(&a, &q);
    uint8_t p[84];
    memcpy(p, l3(&q), 84);
    ip_st32(p + 16, IP(192, 0, 2, 3));
    ipv4_hdr_set_csum(p, 20);
    deliver_ip(&b, p, 84, LYRA_SKB_F_HOST);
    deliver_ip(&b, p, 84, LYRA_SKB_F_HOST);
    cr_assert_eq(a.l2.nout, 1);
    cr_assert_eq(b.l2.nout, 2);
    cr_assert_eq(ip_ld32(a.l2.out[0].b + 12), STACK_IP);
    cr_assert_eq(ip_ld32(b.l2.out[0].b + 12), IP(192, 0, 2, 3));
    cr_assert_eq(a.l2.out[0].b[8], 64);
    cr_assert_eq(b.l2.out[0].b[8], 32);
    cr_assert_eq(st(&a, "icmp_echo_replies"), 1);
    cr_assert_eq(st(&b, "icmp_echo_replies"), 2);
    cr_assert_eq(a.l2.addrs[0], STACK_IP);
    cr_assert_eq(b.l2.addrs[0], IP(192, 0, 2, 3));
    fx_down(&b);
    fx_down(&a);
}

Test(ip, start_needs_an_address)
{
    struct fx f;
    fx_make(&f, (const char *const[]){NULL}, NULL);
    cr_assert_eq(lt_start(f.ip), -EADDRNOTAVAIL);
    cr_assert(fake_os_log_count(f.os->self, LYRA_LOG_ERROR) >= 1);
    cr_assert(strstr(fake_os_last_log(f.os->self), "ip.addr") != NULL, "log: %s",
              fake_os_last_log(f.os->self));
    cr_assert(!f.l2.registered);
    fx_down(&f);
}

Test(ip, bad_parameters_refused)
{
    struct lt_inst *i = NULL;
    static const char *const bad[][3] = {
        {"addr=192.0.2.0/24", NULL},                        /* network address */
        {"addr=192.0.2.255/24", NULL},                      /* broadcast */
        {"addr=224.0.0.1/24", NULL},                        /* multicast */
        {"addr=0.0.0.0/0", NULL},
        {"addr=192.0.2.2/24", "gateway=198.51.100.1"},      /* off the subnet */
        {"addr=192.0.2.2/24", "gateway=192.0.2.2"},         /* ourselves */
        {"gateway=192.0.2.1", NULL},                        /* without addr */
    };
    for (unsigned k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
        cr_assert_neq(lt_try_create(&lyra_component_ip, bad[k], &i), 0, "case %u accepted", k);
    cr_assert_eq(lt_try_create(&lyra_component_ip,
                               (const char *const[]){"addr=192.0.2.2/32", NULL}, &i),
                 0);
    lt_destroy(i);
}

Test(ip, restart_and_stop_purges)
{
    struct fx f;
    fx_up(&f, NULL, "buf_size=4096");
    struct frame fr[6];
    load_frag_ping(fr, 1);
    deliver_frame(&f, &fr[0]);
    lt_stop(f.ip);
    cr_assert_eq(lt_stat(f.skb, "in_use"), 0, "stop frees held fragments");
    deliver_frame(&f, &fr[1]); /* while stopped: dropped */
    cr_assert_eq(st(&f, "rx_down"), 1);
    cr_assert_eq(lt_start(f.ip), 0); /* l2 says -EEXIST: fine, it is ours */
    load_frag_ping(fr, 7);
    for (unsigned i = 0; i < 3; i++)
        deliver_frame(&f, &fr[i]);
    check_frag_reply(&f, 0, fr);
    fx_down(&f);
}
