/* libFuzzer entry for the ip component: received packets, fragment
 * sequences and short scripts (ping sockets included) against one ip
 * instance wired to a fake l2 (below), fake_os and skb_copy with a few big
 * buffers (created once; ip is stopped and started again around each input
 * so that an input replays alone).
 *
 * What ip sends must be a valid IPv4 datagram within the MTU, and an
 * unfragmented ICMP message must carry a valid checksum. After every
 * input: no skb may be out of the pool once ip has stopped (which closes
 * every ping socket), and none freed twice; otherwise abort() so the
 * fuzzer keeps the input.
 *
 * First input byte: mode (low 2 bits); for modes 0 and 1, bit 2 set makes
 * each packet's IPv4 header checksum (and an unfragmented ICMP message's)
 * right before delivery, so a mutated header or ICMP message gets past the
 * checksum checks to the parsing behind them.
 *  0: the rest is one IP packet, delivered as eth would.
 *  1: the rest is a sequence of packets, each a 2-byte length and bytes.
 *  2: the rest is fragments to build (valid headers, so reassembly itself
 *     is exercised), 6 bytes each: offset/8 (2), flags (1: bit0 MF, bit1
 *     proto UDP instead of ICMP, bit2 advance 10 s first, bit3 link
 *     broadcast), payload/8 (1), id (1), fill byte (1).
 *  3: a script, one op per chunk (see run_script). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_os.h"
#include "lt.h"
#include "lyra/inet_csum.h"
#include "lyra/l2.h"
#include "lyra/l3.h"
#include "lyra/l4.h"
#include "lyra/skb.h"

/* One receive buffer as the l4 recv's iovec. */
#define IOV1(b, l) (&(struct lyra_iov){(b), (l)})

extern const struct lyra_component lyra_component_ip;
extern const struct lyra_component lyra_component_skb_copy;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define S 1000000000ull
#define STACK_IP 0xc0000202u
#define LINUX_IP 0xc0000201u

struct harness {
    struct lt_inst *os, *skb, *ip;
    const struct lyra_skb_ops *so;
    const struct lyra_l3_ops *l3;
    const struct lyra_l4_ops *l4;
    /* the fake l2 */
    const struct lyra_l2_events *ev;
    void *user;
    unsigned sent;
    uint32_t mtu;
};

static void must(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_ip: %s\n", what);
        abort();
    }
}

/* ----- fake l2: takes what ip sends, checks it, frees it ------------------ */

static int fl2_register(void *self, uint16_t type, const struct lyra_l2_events *ev, void *user)
{
    struct harness *h = self;
    if (h->ev)
        return -EEXIST;
    (void)type;
    h->ev = ev;
    h->user = user;
    return 0;
}

static int fl2_addr(void *self, uint32_t a)
{
    (void)self, (void)a;
    return 0;
}

static int fl2_output(void *self, struct lyra_skb *skb, uint16_t type, uint32_t nh)
{
    struct harness *h = self;
    uint8_t b[2048];
    (void)type, (void)nh;
    must(lyra_skb_total(skb) <= h->mtu, "a datagram over the MTU");
    uint32_t n = lyra_skb_flatten(skb, b, sizeof(b));
    must(n >= 20 && (b[0] >> 4) == 4, "not an IPv4 datagram");
    must(lyra_csum_fold(lyra_csum_add(b, (size_t)(b[0] & 15) * 4, 0)) == 0xffff,
         "bad header checksum");
    must(((uint32_t)b[2] << 8 | b[3]) == n, "total length is not the datagram's");
    uint32_t hl = (uint32_t)(b[0] & 15) * 4;
    if (b[9] == 1 && (((uint32_t)b[6] << 8 | b[7]) & 0x3fff) == 0 && n >= hl + 8)
        must(lyra_csum_fold(lyra_csum_add(b + hl, n - hl, 0)) == 0xffff, "bad ICMP checksum");
    h->sent++;
    lyra_skb_free(skb);
    return 0;
}

static int fl2_output_mac(void *self, struct lyra_skb *skb, uint16_t t, const uint8_t d[6])
{
    (void)self, (void)t, (void)d, (void)skb;
    return -ENOTSUP; /* l2 2.0: refused, the caller keeps the skb */
}

static int fl2_caps(void *self, struct lyra_netdev_caps *c)
{
    struct harness *h = self;
    memset(c, 0, sizeof(*c));
    c->mtu = h->mtu;
    return 0;
}

static uint32_t fl2_headroom(void *self)
{
    (void)self;
    return 14;
}

static const struct lyra_l2_ops fl2_ops = {
    .hdr = LYRA_OPS_HDR(LYRA_L2_IFACE, LYRA_L2_MAJOR, LYRA_L2_MINOR, struct lyra_l2_ops),
    .register_proto = fl2_register,
    .add_addr = fl2_addr,
    .del_addr = fl2_addr,
    .output = fl2_output,
    .output_mac = fl2_output_mac,
    .caps = fl2_caps,
    .headroom = fl2_headroom,
};

/* ----- a UDP user that answers everything with port unreachable ----------- */

static void udp_rx(void *user, struct lyra_skb *skb, const struct lyra_l3_rxinfo *info)
{
    struct harness *h = user;
    uint8_t sink[4096];
    (void)info;
    lyra_skb_flatten(skb, sink, sizeof(sink)); /* every byte handed up is readable */
    h->l3->icmp_error(h->ip->self, skb, 3, 3);
    lyra_skb_free(skb);
}

static void udp_icmp_error(void *user, const struct lyra_l3_icmp_err *e)
{
    (void)user, (void)e;
}

static const struct lyra_l3_events udp_ev = {
    .hdr = LYRA_OPS_HDR(LYRA_L3_IFACE, LYRA_L3_MAJOR, LYRA_L3_MINOR, struct lyra_l3_events),
    .rx = udp_rx,
    .icmp_error = udp_icmp_error,
};

static struct harness *harness_get(void)
{
    static struct harness h;
    static int ready;
    if (ready)
        return &h;
    h.mtu = 1500;
    h.os = lt_create(&lyra_component_fake_os, NULL);
    h.skb = lt_create(&lyra_component_skb_copy,
                      (const char *const[]){"count=48", "buf_size=4096", "big_count=2",
                                            "big_size=16k", NULL});
    h.ip = lt_create(&lyra_component_ip,
                     (const char *const[]){"addr=192.0.2.2/24", "gateway=192.0.2.254",
                                           "reass_max=4", "reass_bytes=40k", "icmp_burst=4",
                                           NULL});
    must(h.os && h.skb && h.ip, "create");
    must(!lt_bind(h.skb, "os", h.os) && !lt_bind_raw(h.ip, "lower", &fl2_ops, &h) &&
             !lt_bind(h.ip, "skb", h.skb) && !lt_bind(h.ip, "os", h.os),
         "bind");
    must(!lt_start(h.os) && !lt_start(h.skb), "start");
    h.so = lt_ops(h.skb, "skb");
    h.l3 = lt_ops(h.ip, "l3");
    h.l4 = lt_ops(h.ip, "l4");
    must(h.l4 != NULL, "ip provides no l4");
    must(!h.l3->register_proto(h.ip->self, 17, &udp_ev, &h), "register");
    ready = 1;
    return &h;
}

/* ----- inputs ------------------------------------------------------------- */

static void deliver(struct harness *h, const uint8_t *p, size_t n, uint16_t l2flags)
{
    if (n > 1500 + 4)
        n = 1500 + 4;
    struct lyra_skb *s = h->so->alloc_rx(h->skb->self, (uint32_t)(14 + n));
    if (!s)
        return;
    uint8_t *d = lyra_skb_put(s, (uint32_t)(14 + n));
    memset(d, 0, 14);
    memcpy(d + 14, p, n);
    lyra_skb_pull(s, 14);
    s->flags |= l2flags;
    s->l3_off = (uint32_t)(s->data - s->head);
    struct lyra_l2_rxinfo info = {.ethertype = 0x0800, .flags = l2flags};
    h->ev->rx(h->user, s, &info);
}

/* deliver, with the IPv4 header checksum made right (and an unfragmented
 * ICMP message's, where the header's total length fits what is there). */
static void deliver_fixed(struct harness *h, const uint8_t *p, size_t n, uint16_t l2flags)
{
    static uint8_t b[1500 + 4];
    if (n > sizeof(b))
        n = sizeof(b);
    memcpy(b, p, n);
    if (!lt_ipv4_fix_csum(b, n) && b[9] == 1)
        lt_ipv4_fix_l4_csum(b, n);
    deliver(h, b, n, l2flags);
}

static void build_frags(struct harness *h, const uint8_t *p, size_t n)
{
    uint8_t b[20 + 255 * 8];
    for (size_t i = 0; i + 6 <= n; i += 6) {
        uint16_t off8 = (uint16_t)(p[i] << 8 | p[i + 1]) & 0x1fff;
        uint8_t fl = p[i + 2];
        uint32_t len = (uint32_t)p[i + 3] * 8 + (fl & 0x80 ? 3 : 0); /* bit7: odd length */
        if (len > 1480)
            len = 1480;
        if (fl & 4)
            fake_os_advance(h->os->self, 10 * S);
        memset(b, 0, 20);
        b[0] = 0x45;
        b[2] = (uint8_t)((20 + len) >> 8);
        b[3] = (uint8_t)(20 + len);
        b[5] = p[i + 4];
        uint16_t fo = (uint16_t)(off8 | ((fl & 1) ? 0x2000 : 0));
        b[6] = (uint8_t)(fo >> 8);
        b[7] = (uint8_t)fo;
        b[8] = 64;
        b[9] = (fl & 2) ? 17 : 1;
        uint32_t src = LINUX_IP, dst = (fl & 8) ? 0xc00002ffu : STACK_IP;
        for (int k = 0; k < 4; k++) {
            b[12 + k] = (uint8_t)(src >> (24 - 8 * k));
            b[16 + k] = (uint8_t)(dst >> (24 - 8 * k));
        }
        uint16_t c = (uint16_t)~lyra_csum_fold(lyra_csum_add(b, 20, 0));
        b[10] = (uint8_t)(c >> 8);
        b[11] = (uint8_t)c;
        memset(b + 20, p[i + 5], len);
        deliver(h, b, 20 + len, (fl & 8) ? LYRA_SKB_F_BCAST : LYRA_SKB_F_HOST);
    }
}

/* A ping socket handle from a script byte: one of the four opened so far,
 * or (bit 7) a raw, likely bad, handle. */
static int handle(const int hs[4], uint8_t s)
{
    return (s & 0x80) ? (int)(int8_t)s : hs[s & 3];
}

/* An echo reply from 192.0.2.1 (or .9) with identifier id, as a peer sends it. */
static void deliver_reply(struct harness *h, uint16_t id, uint8_t seq, uint32_t len, int other)
{
    static const uint32_t max = 1480 - 8;
    uint8_t b[1500];
    if (len > max)
        len = max;
    memset(b, 0, 20);
    b[0] = 0x45;
    b[2] = (uint8_t)((28 + len) >> 8);
    b[3] = (uint8_t)(28 + len);
    b[8] = 64;
    b[9] = 1;
    uint32_t src = other ? 0xc0000209u : LINUX_IP;
    for (int k = 0; k < 4; k++) {
        b[12 + k] = (uint8_t)(src >> (24 - 8 * k));
        b[16 + k] = (uint8_t)(STACK_IP >> (24 - 8 * k));
    }
    uint16_t c = (uint16_t)~lyra_csum_fold(lyra_csum_add(b, 20, 0));
    b[10] = (uint8_t)(c >> 8);
    b[11] = (uint8_t)c;
    uint8_t *m = b + 20;
    memset(m, 0, 8);
    m[4] = (uint8_t)(id >> 8);
    m[5] = (uint8_t)id;
    m[7] = seq;
    memset(m + 8, seq, len);
    c = (uint16_t)~lyra_csum_fold(lyra_csum_add(m, 8 + len, 0));
    m[2] = (uint8_t)(c >> 8);
    m[3] = (uint8_t)c;
    deliver(h, b, 28 + len, LYRA_SKB_F_HOST);
}

/* Ping socket ops (op bytes >= 0x40; (op - 0x40) % 8 picks one):
 *  0: open               1 s(1) port(2): bind (port 0: ephemeral; s bit6:
 *                         to 192.0.2.1, not ours; bit5: to 192.0.2.2)
 *  2 s(1) d(1): connect to 192.0.2.d (d 0: dissolve)
 *  3 s(1) d(1) len(2) t(1): send an echo request of len % 9000 data bytes
 *     to 192.0.2.d (d 0: no address; d >= 200: 198.51.100.d), type 8
 *     unless t bit7 (then type t, code t & 3)
 *  4 s(1) n(1) fl(1): recv into n bytes, fl bit0 PEEK, bit1 TRUNC
 *  5 s(1): close           6 s(1) opt(1) val(1): setopt (opt bit7: getopt)
 *  7 id(2) seq(1) len(2): an echo reply arrives (seq bit7: from .9) */
static size_t ping_op(struct harness *h, int hs[4], unsigned *nh, uint8_t op, const uint8_t *p,
                      size_t left)
{
    static const size_t need[8] = {0, 3, 2, 5, 3, 1, 3, 5};
    void *ip = h->ip->self;
    unsigned k = (unsigned)(op - 0x40) % 8;
    if (left < need[k])
        return left;
    switch (k) {
    case 0: {
        int r = h->l4->open(ip);
        if (r >= 0)
            hs[(*nh)++ & 3] = r;
        break;
    }
    case 1: {
        struct lyra_sockaddr4 a = {.addr = (p[0] & 0x40) ? LINUX_IP : (p[0] & 0x20) ? STACK_IP : 0,
                                   .port = (uint16_t)(p[1] << 8 | p[2])};
        h->l4->bind(ip, handle(hs, p[0]), &a);
        break;
    }
    case 2: {
        struct lyra_sockaddr4 a = {.addr = p[1] ? 0xc0000200u | p[1] : 0};
        h->l4->connect(ip, handle(hs, p[0]), &a);
        break;
    }
    case 3: {
        static uint8_t m[9008];
        uint32_t len = (uint32_t)(p[2] << 8 | p[3]) % 9000;
        uint8_t t = p[4];
        memset(m, t, sizeof(m));
        m[0] = (t & 0x80) ? t : 8;
        m[1] = (t & 0x80) ? (t & 3) : 0;
        uint32_t d = p[1];
        struct lyra_sockaddr4 to = {.addr = d >= 200 ? 0xc6336400u | d : 0xc0000200u | d};
        long r = h->l4->send(ip, handle(hs, p[0]), m, 8 + len, d ? &to : NULL, 0);
        must(r < 0 || r == (long)(8 + len), "send took part of a datagram");
        break;
    }
    case 4: {
        uint8_t buf[256];
        int fl = ((p[2] & 1) ? LYRA_MSG_PEEK : 0) | ((p[2] & 2) ? LYRA_MSG_TRUNC : 0);
        size_t n = p[1];
        struct lyra_sockaddr4 from;
        long r = h->l4->recv(ip, handle(hs, p[0]), IOV1(buf, n), 1, &from, NULL, fl);
        must(r < 0 || (fl & LYRA_MSG_TRUNC) || (size_t)r <= n, "recv past the buffer");
        must(r <= 0 || n == 0 || buf[0] == 0, "a socket received something not an echo reply");
        break;
    }
    case 5:
        h->l4->close(ip, handle(hs, p[0]));
        break;
    case 6: {
        int opt = (p[1] & 0x3f) % 10, v = (int)(int8_t)p[2];
        if (p[1] & 0x80)
            h->l4->getopt(ip, handle(hs, p[0]), opt, &v);
        else
            h->l4->setopt(ip, handle(hs, p[0]), opt, v);
        h->l4->poll(ip, handle(hs, p[0]));
        break;
    }
    case 7:
        deliver_reply(h, (uint16_t)(p[0] << 8 | p[1]), p[2],
                      (uint32_t)(p[3] << 8 | p[4]) % 1500, p[2] & 0x80);
        break;
    }
    return need[k];
}

/* Ops: a byte `op` then its arguments; ends when the input does.
 *  0 len(2) bytes: receive a packet     1 len(2) bytes: receive as link broadcast
 *  2 dst(1) len(2) fl(1): output len bytes of UDP to 192.0.2.dst (0..255)
 *     or, dst >= 200, to 198.51.100.dst (via the gateway); fl bit0 DF,
 *     bit1 checksum offload at csum_start headroom - 4 + fl>>2 (from head,
 *     skb.h: 4 bytes before the UDP header to 59 into it), csum_off dst & 15
 *  3 s(1): advance the clock by s seconds
 *  4 len(2) bytes: icmp_error about a hand-made original of those bytes
 *  5: l2 tx_ready
 *  6 dst(1) mtu(2): l3 2.1 pmtu_update for 192.0.2.dst (dst >= 200:
 *     198.51.100.dst), as a transport believing a fragmentation needed
 *  op >= 0x40: a ping socket op (ping_op) */
static void run_script(struct harness *h, const uint8_t *p, size_t n)
{
    size_t i = 0;
    int hs[4] = {-1, -1, -1, -1};
    unsigned nh = 0;
    while (i < n) {
        if (p[i] >= 0x40) {
            uint8_t pop = p[i++];
            i += ping_op(h, hs, &nh, pop, p + i, n - i);
            continue;
        }
        uint8_t op = p[i++] % 7;
        size_t left = n - i;
        switch (op) {
        case 0:
        case 1:
        case 4: {
            if (left < 2)
                return;
            size_t len = (size_t)(p[i] << 8 | p[i + 1]);
            i += 2;
            if (len > n - i)
                len = n - i;
            if (op == 4) {
                struct lyra_skb *s = h->so->alloc(h->skb->self, 64, (uint32_t)len);
                if (s && lyra_skb_put(s, (uint32_t)len)) {
                    memcpy(s->data, p + i, len);
                    s->l3_off = (uint32_t)(s->data - s->head);
                    h->l3->icmp_error(h->ip->self, s, 3, (uint8_t)(len & 15));
                }
                lyra_skb_free(s);
            } else {
                deliver(h, p + i, len, op ? LYRA_SKB_F_BCAST : LYRA_SKB_F_HOST);
            }
            i += len;
            break;
        }
        case 2: {
            if (left < 4)
                return;
            uint32_t d = p[i];
            uint32_t len = (uint32_t)(p[i + 1] << 8 | p[i + 2]) % 9000;
            int df = p[i + 3] & 1;
            i += 4;
            uint32_t dst = d >= 200 ? 0xc6336400u | d : 0xc0000200u | d;
            struct lyra_skb *s = h->so->alloc(h->skb->self, h->l3->headroom(h->ip->self), len);
            if (!s || !lyra_skb_put(s, len)) {
                lyra_skb_free(s);
                break;
            }
            memset(s->data, (int)d, len);
            if (p[i - 1] & 2) { /* checksum offload, offsets from the input */
                s->flags |= LYRA_SKB_F_CSUM_TX;
                s->csum_start = (uint16_t)(lyra_skb_headroom(s) - 4 + (p[i - 1] >> 2));
                s->csum_off = (uint16_t)(d & 15);
            }
            if (h->l3->output(h->ip->self, s, 0, dst, 17, 0, 0, df))
                lyra_skb_free(s); /* l3 2.0: refused, still ours */
            break;
        }
        case 3:
            if (left < 1)
                return;
            fake_os_advance(h->os->self, (uint64_t)p[i++] * S);
            break;
        case 5:
            if (h->ev->tx_ready)
                h->ev->tx_ready(h->user);
            break;
        case 6: {
            if (left < 3)
                return;
            uint32_t d = p[i];
            uint32_t dst = d >= 200 ? 0xc6336400u | d : 0xc0000200u | d;
            int r = h->l3->pmtu_update(h->ip->self, dst, (uint32_t)(p[i + 1] << 8 | p[i + 2]));
            must(r < 0 || ((uint32_t)r >= 552 && (uint32_t)r <= h->mtu), "path MTU out of bounds");
            i += 3;
            break;
        }
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct harness *h = harness_get();
    if (size < 1)
        return 0;
    fake_os_reseed(h->os->self, 1); /* IP IDs, ping identifiers: as for a lone input */
    must(lt_start(h->ip) == 0, "ip start");
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    void (*in)(struct harness *, const uint8_t *, size_t, uint16_t) =
        (data[0] & 4) ? deliver_fixed : deliver;
    switch (data[0] & 3) {
    case 0:
        in(h, p, n, LYRA_SKB_F_HOST);
        break;
    case 1:
        for (size_t i = 0; i + 2 <= n;) {
            size_t len = (size_t)(p[i] << 8 | p[i + 1]);
            i += 2;
            if (len > n - i)
                len = n - i;
            in(h, p + i, len, LYRA_SKB_F_HOST);
            i += len;
        }
        break;
    case 2:
        build_frags(h, p, n);
        break;
    case 3:
        run_script(h, p, n);
        break;
    }
    /* reassembly timers fire and what they send is checked too */
    fake_os_advance(h->os->self, 60 * S);
    lt_stop(h->ip);
    must(lt_stat(h->skb, "in_use") == 0, "skb leak");
    must(lt_stat(h->skb, "bad_free") == 0, "skb freed twice");
    must(fake_os_timers_armed(h->os->self) == 0, "timer left armed");
    return 0;
}
