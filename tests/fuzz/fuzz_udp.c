/* libFuzzer entry for the udp component: received datagrams, ICMP errors
 * and short scripts of endpoint ops against one udp instance wired to
 * fake_l3, fake_os and skb_copy (created once; udp is started and stopped
 * around each input so that an input replays alone).
 *
 * After every input: no skb may be out of the pool once udp has stopped,
 * none freed twice; every datagram udp output must be well formed (length
 * field, checksum, offload offsets); otherwise abort() so the fuzzer keeps
 * the input.
 *
 * First input byte: mode (low bit).
 *  0: the rest is datagrams, each flags(1) len(2) bytes (see deliver),
 *     to a fixed set of endpoints.
 *  1: a script, one op per chunk (see run_script), from no endpoints. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_l3.h"
#include "fake_os.h"
#include "lt.h"
#include "lyra/l3.h"
#include "lyra/l4.h"
#include "lyra/netdev.h"
#include "lyra/skb.h"
#include "udp_wire.h"

extern const struct lyra_component lyra_component_udp;
extern const struct lyra_component lyra_component_skb_copy;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define STACK_IP 0xc0000202u
#define LINUX_IP 0xc0000201u
#define MAX_SOCKETS 8
#define HOLD_MAX 40

struct harness {
    struct lt_inst *os, *skb, *l3, *udp;
    const struct lyra_skb_ops *so;
    const struct lyra_l4_ops *l4;
    void *u, *fl;
    struct fake_l3_cfg *cfg;
    struct lyra_skb *held[HOLD_MAX];
    unsigned nheld;
    uint64_t mem_base; /* os memory in use with udp stopped (the pool's) */
    unsigned checked;  /* outputs checked so far */
};

static void must(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_udp: %s\n", what);
        abort();
    }
}

static struct harness *harness_get(void)
{
    static struct harness h;
    static int ready;
    if (ready)
        return &h;
    h.os = lt_create(&lyra_component_fake_os, NULL);
    h.skb = lt_create(&lyra_component_skb_copy,
                      (const char *const[]){"count=32", "buf_size=4096", NULL});
    h.l3 = lt_create(&lyra_component_fake_l3, NULL);
    h.udp = lt_create(&lyra_component_udp,
                      (const char *const[]){"max_sockets=8", "rx_queue=4", "rx_bytes=3000",
                                            "port_min=60000", "port_max=60005", NULL});
    must(h.os && h.skb && h.l3 && h.udp, "create");
    must(!lt_bind(h.skb, "os", h.os) && !lt_bind(h.l3, "skb", h.skb) &&
             !lt_bind(h.udp, "os", h.os) && !lt_bind(h.udp, "skb", h.skb) &&
             !lt_bind(h.udp, "l3", h.l3),
         "bind");
    must(!lt_start(h.os) && !lt_start(h.skb) && !lt_start(h.l3), "start");
    h.so = lt_ops(h.skb, "skb");
    h.l4 = lt_ops(h.udp, "l4");
    h.u = h.udp->self;
    h.fl = h.l3->self;
    h.cfg = fake_l3_cfg(h.fl);
    h.mem_base = fake_os_mem_in_use(h.os->self);
    ready = 1;
    return &h;
}

static const uint32_t addrs[8] = {
    LINUX_IP,    STACK_IP,    0xc00002ffu /* subnet broadcast */, 0xffffffffu,
    0,           0xe0000001u /* 224.0.0.1 */, 0xc6336407u /* beyond the gateway */,
    0x0a000001u,
};

/* ----- checks of what udp sent -------------------------------------------- */

/* Checks the outputs recorded since the last call, against the l3
 * settings they were made with (call after every op). */
static void check_outputs(struct harness *h)
{
    unsigned n = fake_l3_out_count(h->fl);
    unsigned i = h->checked;
    h->checked = n;
    for (; i < n && i < FAKE_L3_OUT_MAX; i++) {
        const struct fake_l3_out *o = fake_l3_out(h->fl, i);
        must(o->proto == 17, "not UDP");
        must(o->total >= 8 && o->total <= 65535, "bad datagram size");
        must(o->nseg == 0 || o->len <= o->total, "record");
        if (o->len < 8)
            continue;
        must(udp_ld16(o->b + 4) == o->total, "length field is not the datagram's");
        must(udp_ld16(o->b) != 0, "source port 0");
        must(udp_ld16(o->b + 2) != 0, "destination port 0");
        if (o->len != o->total)
            continue;
        struct lyra_skb s = {.data = (uint8_t *)o->b, .len = o->len};
        if (o->skb_flags & LYRA_SKB_F_CSUM_TX) {
            /* csum_start counts from head (skb.h): at the UDP header */
            must(o->csum_start == o->headroom && o->csum_at == 0 && o->csum_off == 6,
                 "offload offsets");
            must(o->headroom >= h->cfg->headroom, "less headroom than l3 asked for");
            /* the NIC's work, then the receiver's check */
            uint8_t b[FAKE_L3_OUT_BYTES];
            memcpy(b, o->b, o->len);
            struct lyra_skb t = {.data = b, .len = o->len};
            udp_st16(b + o->csum_off, (uint16_t)~lyra_skb_csum(&t, 0, o->len, 0));
            must(udp_csum_ok(lyra_skb_csum(&t, 0, o->len,
                                          udp_pseudo_sum(o->src, o->dst, (uint16_t)o->len))),
                 "offload seed wrong");
        } else if (udp_ld16(o->b + 6) != 0) {
            must(udp_csum_ok(lyra_skb_csum(&s, 0, o->len,
                                          udp_pseudo_sum(o->src, o->dst, (uint16_t)o->len))),
                 "bad checksum sent");
        }
    }
    /* the fake keeps FAKE_L3_OUT_MAX records: emptied after each op's
     * check, so a long script's later sends are recorded and checked too */
    fake_l3_clear(h->fl);
    h->checked = 0;
}

/* ----- inputs ------------------------------------------------------------- */

/* One received datagram. flags: bits 0-2 destination (addrs[]), bit 3
 * another source, bit 4 LYRA_L3_F_BCAST, bit 5 LYRA_L3_F_MCAST, bit 6
 * LYRA_L3_F_CSUM_OK, bit 7 make the checksum right (else as given).
 * hd >= 0: addressed to that endpoint's port (ephemeral ports start at a
 * random offset, so an input cannot know them), from its peer if it has
 * one. */
static void deliver(struct harness *h, uint8_t fl, const uint8_t *p, size_t n, int hd)
{
    uint8_t b[4096];
    if (n > sizeof(b) - 64)
        n = sizeof(b) - 64;
    memcpy(b, p, n);
    struct lyra_l3_rxinfo info = {.src = (fl & 8) ? 0xc0000203u : LINUX_IP,
                                  .dst = addrs[fl & 7], .proto = 17, .ttl = 64,
                                  .flags = (uint8_t)(((fl & 0x10) ? LYRA_L3_F_BCAST : 0) |
                                                     ((fl & 0x20) ? LYRA_L3_F_MCAST : 0) |
                                                     ((fl & 0x40) ? LYRA_L3_F_CSUM_OK : 0))};
    struct lyra_sockaddr4 me, peer;
    if (hd >= 0 && n >= 4 && h->l4->name(h->u, hd, 0, &me) == 0) {
        udp_st16(b + 2, me.port);
        if (h->l4->name(h->u, hd, 1, &peer) == 0) {
            info.src = peer.addr;
            udp_st16(b, peer.port);
        }
    }
    if ((fl & 0x80) && n >= 8) {
        uint16_t ulen = udp_ld16(b + 4);
        if (ulen >= 8 && ulen <= n) {
            udp_st16(b + 6, 0);
            struct lyra_skb s = {.data = b, .len = ulen};
            udp_st16(b + 6, udp_csum_final(lyra_skb_csum(&s, 0, ulen,
                                                        udp_pseudo_sum(info.src, info.dst, ulen))));
        }
    }
    fake_l3_rx(h->fl, b, (uint32_t)n, &info);
}

static void fixed_endpoints(struct harness *h)
{
    struct lyra_sockaddr4 a7 = {0, 7}, a9 = {STACK_IP, 9}, b9 = {0, 9}, peer = {LINUX_IP, 40000};
    int e = h->l4->open(h->u);
    h->l4->bind(h->u, e, &a7);
    e = h->l4->open(h->u);
    h->l4->setopt(h->u, e, LYRA_SO_REUSEADDR, 1);
    h->l4->bind(h->u, e, &a9);
    e = h->l4->open(h->u);
    h->l4->setopt(h->u, e, LYRA_SO_REUSEADDR, 1);
    h->l4->bind(h->u, e, &b9);
    e = h->l4->open(h->u);
    h->l4->setopt(h->u, e, LYRA_SO_REUSEADDR, 1);
    h->l4->bind(h->u, e, &b9);
    h->l4->connect(h->u, e, &peer);
    e = h->l4->open(h->u);
    h->l4->setopt(h->u, e, LYRA_SO_REUSEADDR, 1);
    h->l4->setopt(h->u, e, LYRA_SO_RCVBUF, 20);
    h->l4->bind(h->u, e, &b9);
}

static uint16_t ld16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* Ops: a byte `op` then its arguments; ends when the input does. h is a
 * handle byte (taken % 10: 8 and 9 are never valid).
 *  0 open                      1 h: close
 *  2 h a port(2): bind         3 h a port(2): connect (a & 8: dissolve)
 *  4 h a port(2) len(2): send len bytes to addrs[a & 7] (a & 8: no `to`)
 *  5 h len(2) fl: recv (fl bit0 PEEK, bit1 TRUNC, bit2 no buffer)
 *  6 h opt val(2): setopt      7 h opt: getopt
 *  8 fl sel len(1) bytes: receive a datagram (deliver; sel bit7: to
 *    endpoint sel % 10's port, from its peer)
 *  9 type code a sport(2) dport(2): icmp_error about a datagram to
 *    addrs[a & 7] (a bit7: quoting TCP; bit6: from endpoint sport[0] % 10
 *    to its peer)
 * 10 h: poll and name          11 h how: shutdown
 * 12 c: l3 changes (c bit0 route_err, bit1 output_err -EAGAIN, bit2
 *    output_err -EMSGSIZE, bit3 UDP checksum offload, bit4 headroom 0)
 * 13: tx_ready                 14 k: hold k skbs (empty the pool)
 * 15: release the held skbs */
static void run_script(struct harness *h, const uint8_t *p, size_t n)
{
    static const uint8_t fill[4096] = {1, 2, 3};
    uint8_t buf[4096];
    size_t i = 0;
    while (i < n) {
        uint8_t op = p[i++] % 16;
        size_t left = n - i;
        int hd = left ? p[i] % 10 : 0;
        switch (op) {
        case 0:
            h->l4->open(h->u);
            break;
        case 1:
            if (left < 1)
                return;
            h->l4->close(h->u, hd);
            i += 1;
            break;
        case 2:
        case 3: {
            if (left < 4)
                return;
            uint8_t a = p[i + 1];
            struct lyra_sockaddr4 sa = {addrs[a & 7], ld16(p + i + 2)};
            if (op == 3 && (a & 8))
                sa = (struct lyra_sockaddr4){0, 0};
            int r = op == 2 ? h->l4->bind(h->u, hd, &sa) : h->l4->connect(h->u, hd, &sa);
            must(r <= 0, "bind/connect returned > 0");
            i += 4;
            break;
        }
        case 4: {
            if (left < 6)
                return;
            uint8_t a = p[i + 1];
            struct lyra_sockaddr4 sa = {addrs[a & 7], ld16(p + i + 2)};
            size_t len = ld16(p + i + 4);
            if (a & 0x80)
                len = 65507 + (len & 3); /* around the largest datagram */
            else
                len %= 5000;
            static uint8_t big[65600];
            const uint8_t *src = len <= sizeof(fill) ? fill : big;
            long r = h->l4->send(h->u, hd, src, len, (a & 8) ? NULL : &sa, 0);
            must(r < 0 || (size_t)r == len, "send took part of a datagram");
            must(len <= 65507 || r < 0, "an oversized datagram was accepted");
            i += 6;
            break;
        }
        case 5: {
            if (left < 4)
                return;
            size_t len = ld16(p + i + 1) % (sizeof(buf) + 1);
            uint8_t fl = p[i + 3];
            int flags = ((fl & 1) ? LYRA_MSG_PEEK : 0) | ((fl & 2) ? LYRA_MSG_TRUNC : 0);
            struct lyra_sockaddr4 from;
            struct lyra_l4_dst dst;
            /* bit 16: scatter over two pieces */
            size_t first = (fl & 16) ? len / 2 : len;
            struct lyra_iov v[2] = {{(fl & 4) ? NULL : buf, (fl & 4) ? 0 : first},
                                    {(fl & 4) ? NULL : buf + first, (fl & 4) ? 0 : len - first}};
            long r = h->l4->recv(h->u, hd, v, (fl & 16) ? 2 : 1, (fl & 8) ? NULL : &from,
                                 (fl & 8) ? NULL : &dst, flags);
            must(r <= 65507, "recv returned more than a datagram");
            must((flags & LYRA_MSG_TRUNC) || r <= (long)((fl & 4) ? 0 : len),
                 "recv copied beyond the buffer");
            i += 4;
            break;
        }
        case 6: {
            if (left < 4)
                return;
            int v = (int16_t)ld16(p + i + 2);
            h->l4->setopt(h->u, hd, p[i + 1] % 10, v);
            i += 4;
            break;
        }
        case 7: {
            if (left < 2)
                return;
            int v;
            h->l4->getopt(h->u, hd, p[i + 1] % 10, &v);
            i += 2;
            break;
        }
        case 8: {
            if (left < 3)
                return;
            uint8_t fl = p[i], sel = p[i + 1];
            size_t len = p[i + 2];
            i += 3;
            if (len > n - i)
                len = n - i;
            deliver(h, fl, p + i, len, (sel & 0x80) ? sel % 10 : -1);
            i += len;
            break;
        }
        case 9: {
            if (left < 7)
                return;
            struct lyra_l3_icmp_err e = {.type = p[i], .code = p[i + 1],
                                         .src = STACK_IP, .dst = addrs[p[i + 2] & 7],
                                         .proto = (p[i + 2] & 0x80) ? 6 : 17};
            memcpy(e.l4, p + i + 3, 4);
            struct lyra_sockaddr4 me, peer;
            int about = p[i + 3] % 10;
            if ((p[i + 2] & 0x40) && h->l4->name(h->u, about, 0, &me) == 0) {
                udp_st16(e.l4, me.port); /* about one of our endpoints */
                if (h->l4->name(h->u, about, 1, &peer) == 0) {
                    e.dst = peer.addr;
                    udp_st16(e.l4 + 2, peer.port);
                }
            }
            fake_l3_icmp_error(h->fl, &e);
            i += 7;
            break;
        }
        case 10: {
            if (left < 1)
                return;
            struct lyra_sockaddr4 sa;
            h->l4->poll(h->u, hd);
            h->l4->name(h->u, hd, 0, &sa);
            h->l4->name(h->u, hd, 1, &sa);
            i += 1;
            break;
        }
        case 11:
            if (left < 2)
                return;
            h->l4->shutdown(h->u, hd, p[i + 1] % 4);
            i += 2;
            break;
        case 12: {
            if (left < 1)
                return;
            uint8_t c = p[i++];
            h->cfg->route_err = (c & 1) ? -ENETUNREACH : 0;
            h->cfg->output_err = (c & 2) ? -EAGAIN : (c & 4) ? -EMSGSIZE : 0;
            h->cfg->csum_tx = (c & 8) ? LYRA_CSUM_UDP : 0;
            h->cfg->headroom = (c & 16) ? 0 : 34;
            break;
        }
        case 13:
            fake_l3_tx_ready(h->fl);
            break;
        case 14: {
            if (left < 1)
                return;
            unsigned k = p[i++] % HOLD_MAX;
            while (k-- && h->nheld < HOLD_MAX) {
                struct lyra_skb *s = h->so->alloc(h->skb->self, 0, 16);
                if (!s)
                    break;
                h->held[h->nheld++] = s;
            }
            break;
        }
        case 15:
            while (h->nheld)
                lyra_skb_free(h->held[--h->nheld]);
            break;
        }
        check_outputs(h);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct harness *h = harness_get();
    if (size < 1)
        return 0;
    *h->cfg = (struct fake_l3_cfg){.addr = STACK_IP, .plen = 24, .gateway = 0xc00002feu,
                                   .headroom = 34, .mtu = 1500};
    fake_l3_clear(h->fl);
    h->checked = 0;
    fake_os_reseed(h->os->self, 1); /* ephemeral ports: as for a lone input */
    must(lt_start(h->udp) == 0, "udp start");
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    if ((data[0] & 1) == 0) {
        fixed_endpoints(h);
        for (size_t i = 0; i + 3 <= n;) {
            uint8_t fl = p[i];
            size_t len = ld16(p + i + 1);
            i += 3;
            if (len > n - i)
                len = n - i;
            deliver(h, fl, p + i, len, -1);
            check_outputs(h);
            i += len;
        }
    } else {
        run_script(h, p, n);
    }
    while (h->nheld)
        lyra_skb_free(h->held[--h->nheld]);
    check_outputs(h);
    lt_stop(h->udp);
    must(lt_stat(h->skb, "in_use") == 0, "skb leak");
    must(lt_stat(h->skb, "bad_free") == 0, "skb freed twice");
    must(fake_os_mem_in_use(h->os->self) == h->mem_base, "udp left os memory allocated");
    return 0;
}
