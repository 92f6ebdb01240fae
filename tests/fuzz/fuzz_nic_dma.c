/* libFuzzer entry for the e1000 pair: arbitrary frames into e1000_model
 * (the wire side) and up through nic_dma, plus short scripts of transmits
 * (arbitrary lengths, segments and checksum-offload offsets), polls, bus
 * mastering and link flips. One instance set (fake_os, skb_copy, the model,
 * the driver) is created on the first input and reused.
 *
 * After every input the pair is brought back to rest (mastering on, link
 * up, polled, transmit capture drained); then no skb may be out of the
 * pool and no DMA mapping left but the receive ring's posted buffers, none
 * freed twice; otherwise abort() so
 * the fuzzer keeps the input. A run the driver coalesced (skb 2.6
 * LYRA_SKB_F_GRO) is checked against skb.h's promise as it arrives
 * (check_run): what tcp takes on trust must hold.
 *
 * By hand (else the CMake target, tests/fuzz/CMakeLists.txt):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
 *     -Iframework/include -Itests/support -Itests/fakes -Imodels/e1000 -Icomponents/nic_dma \
 *     tests/fuzz/fuzz_nic_dma.c \
 *     components/nic_dma/{nic_dma,nic_dma_rx,nic_dma_txreq,e1000_hw,e1000_desc}.c \
 *     models/e1000/e1000_model*.c \
 *     components/skb/{skb_copy,skb_pool,skb_segs,skb_fill,skb_xfer}.c \
 *     tests/fakes/fake_os.c tests/support/lt.c \
 *     framework/src/{value,diag,component,timer_wheel}.c -lpthread -o fuzz_nic_dma
 *
 * First input byte: mode (low bit). 0: the rest is frames, each a 2-byte
 * big-endian length then its bytes, polled every 8 frames (bits 2-3: 1,
 * 48 or 80 instead: 48 lets a run reach the driver's 45, 80 overruns the
 * ring). 1: a script, one op per chunk (see run_script). Bit 1, either
 * mode: every injected frame's IPv4 header and TCP or UDP checksums are
 * made right first (fix_csums), so the card marks the frame verified and
 * the driver's coalescing takes TCP ones; random bytes almost never get
 * both sums right. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e1000_model.h"
#include "fake_os.h"
#include "lt.h"
#include "lyra/bus.h"
#include "lyra/inet_csum.h"
#include "lyra/netdev.h"
#include "lyra/skb.h"
#include "lyra/tcp_gro.h"

extern const struct lyra_component lyra_component_nic_dma;
extern const struct lyra_component lyra_component_skb_copy;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct harness {
    struct lt_inst *os, *skb, *dev, *nic;
    const struct lyra_netdev_ops *nd;
    const struct lyra_bus_ops *bus;
    const struct lyra_skb_ops *so;
    unsigned rx, tx_ready;
    bool fix; /* mode bit 1: fix_csums on every injected frame */
    uint8_t segmem[4][4096];
};

static void must(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_nic_dma: %s\n", what);
        abort();
    }
}

enum { LIE_IP, LIE_TCP };

/* A checksum check of frame skb. Op 8 (e1000_model_rx_fault) may have
 * written its descriptor with a status that vouches for a checksum: IPCS
 * (LIE_IP) or TCPCS (LIE_TCP) without its error bit and without IXSM (8254x
 * manual 3.2.3.1, 3.2.3.2: status IXSM 0x04, TCPCS 0x20, IPCS 0x40; errors
 * TCPE 0x20, IPE 0x40). Then the card lied about that frame and a driver
 * cannot know: a wrong sum of that kind passes there, and only there (the
 * model says which frames faults hit). */
static void must_sum(const struct harness *h, int kind, const struct lyra_skb *skb, int ok,
                     const char *what)
{
    uint8_t sta, err;
    if (ok || !e1000_model_rx_fault_hit(h->dev->self, skb->head, skb->size, &sta, &err))
        must(ok, what);
    else if (kind == LIE_IP)
        must(!(sta & 0x04) && (sta & 0x40) && !(err & 0x40), what);
    else
        must(!(sta & 0x04) && (sta & 0x20) && !(err & 0x60), what);
}

static uint32_t ld16(const uint8_t *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t ld32(const uint8_t *p)
{
    return ld16(p) << 16 | ld16(p + 2);
}

/* A run (skb.h LYRA_SKB_F_GRO): the head a TCP/IPv4 frame without IP
 * options, ACK alone (PSH would have ended the run at the head); each
 * chained skb linear, 20..1480 bytes from its TCP header (an IPv4
 * datagram within the 1500-byte MTU), flagged as received and verified
 * and nothing else; its TCP header the head's but for sequence number
 * (continuing the one before), checksum and PSH (the last one's only);
 * its IPv4 and link header, still in front of data, the head's but for
 * identification, length and checksum; its TCP checksum right. tcp
 * believes all of it without looking. */
static void check_run(const struct harness *h, const struct lyra_skb *skb)
{
    const uint8_t *f = skb->data;
    const uint8_t *t = f + 34;
    must(skb->flags & LYRA_SKB_F_CSUM_OK, "run head not verified by the card");
    must(skb->len >= 54 && ld16(f + 12) == 0x0800 && f[14] == 0x45 && f[23] == 6,
         "run head not TCP/IPv4 without options");
    uint32_t tot = ld16(f + 16), th = (uint32_t)(t[12] >> 4) * 4;
    must(th >= 20 && 14 + tot <= skb->len && tot > 20 + th, "run head's lengths");
    must(t[13] == 0x10, "run head's TCP flags not ACK alone");
    uint32_t seq = ld32(t + 4) + tot - 20 - th;
    uint64_t bytes = 0;
    uint32_t n = lyra_skb_chained(skb, &bytes), k = 0;
    must(n >= 1 && n < LYRA_GRO_MAX, "run of no or too many chained skbs");
    for (const struct lyra_skb *c = skb->next; c; c = c->next, k++) {
        const uint8_t *d = c->data;
        must(!c->nseg && lyra_skb_is_linear(c), "chained skb not linear");
        must(c->len >= 20 && c->len <= 1480, "chained skb length out of 20..1480");
        must(!(c->flags & ~(LYRA_SKB_F_RX | LYRA_SKB_F_CSUM_OK | LYRA_SKB_F_L3CSUM_OK)),
             "chained skb with a flag not allowed");
        if (c->flags & LYRA_SKB_F_L3CSUM_OK) /* its IPv4 header is still in front */
            must_sum(h, LIE_IP, c,
                     lyra_csum_fold(lyra_csum_add(c->head + c->l3_off, 20, 0)) == 0xffff,
                     "chained IPv4 header checksum vouched for but wrong");
        must(c->flags & LYRA_SKB_F_CSUM_OK, "chained skb not verified by the card");
        must(c->l4_off == lyra_skb_headroom(c) && c->l3_off == c->l4_off - 20,
             "chained skb offsets not at its TCP and IPv4 headers");
        must(c->len > th, "chained skb without payload");
        must(!memcmp(d, t, 4) && !memcmp(d + 8, t + 8, 5) && !memcmp(d + 14, t + 14, 2) &&
                 !memcmp(d + 18, t + 18, th - 18) && (d[13] & ~0x08) == t[13],
             "chained TCP header not the head's");
        must(ld32(d + 4) == seq, "chained sequence number does not continue the run");
        must(!(d[13] & 0x08) || !c->next, "PSH on a chained skb before the run's end");
        /* the headers the driver pulled: the head's but for id, length, sum */
        must(lyra_skb_headroom(c) >= 34, "chained skb without its headers in front");
        const uint8_t *e = d - 34;
        must(!memcmp(e, f, 16) && !memcmp(e + 20, f + 20, 4) && !memcmp(e + 26, f + 26, 8) &&
                 ld16(e + 16) == c->len + 20,
             "chained link or IPv4 header not the head's");
        must_sum(h, LIE_IP, c, lyra_csum_fold(lyra_csum_add(e + 14, 20, 0)) == 0xffff,
                 "chained IPv4 checksum wrong");
        uint32_t ps = lyra_csum_add(f + 26, 8, 0) + 6 + c->len;
        must_sum(h, LIE_TCP, c, lyra_csum_fold(lyra_csum_add(d, c->len, ps)) == 0xffff,
                 "chained TCP checksum wrong");
        seq += c->len - th;
        bytes -= c->len;
    }
    must(k == n && bytes == 0, "lyra_skb_chained disagrees with the chain");
}

static void h_rx(void *user, struct lyra_skb *skb)
{
    struct harness *h = user;
    uint8_t sink[2048];
    must(skb->len >= 14 && skb->len <= 1518 && !skb->nseg, "received frame out of bounds");
    must(!(skb->flags &
           ~(LYRA_SKB_F_RX | LYRA_SKB_F_CSUM_OK | LYRA_SKB_F_GRO | LYRA_SKB_F_L3CSUM_OK)),
         "received frame with a flag the driver does not set");
    if (skb->flags & LYRA_SKB_F_L3CSUM_OK) { /* ip will not sum it again: it must be right */
        const uint8_t *ip = skb->data + 14;
        uint32_t ihl = (uint32_t)(ip[0] & 0x0f) * 4;
        /* (a lying card may vouch for a frame that is not IPv4 at all) */
        must_sum(h, LIE_IP, skb,
                 skb->len >= 34 && skb->data[12] == 0x08 && skb->data[13] == 0x00 &&
                     (ip[0] >> 4) == 4 && ihl >= 20 && 14 + ihl <= skb->len &&
                     lyra_csum_fold(lyra_csum_add(ip, ihl, 0)) == 0xffff,
                 "IPv4 header checksum vouched for but wrong");
    }
    lyra_skb_flatten(skb, sink, sizeof(sink));
    if (skb->flags & LYRA_SKB_F_GRO)
        check_run(h, skb);
    h->rx++;
    lyra_skb_free(skb); /* the chain with it */
}

static void h_tx_ready(void *user)
{
    ((struct harness *)user)->tx_ready++;
}

static void h_link(void *user, bool up)
{
    (void)user;
    (void)up;
}

static const struct lyra_netdev_events h_ev = {
    .hdr = LYRA_OPS_HDR(LYRA_NETDEV_IFACE, LYRA_NETDEV_MAJOR, LYRA_NETDEV_MINOR,
                        struct lyra_netdev_events),
    .rx = h_rx,
    .tx_ready = h_tx_ready,
    .link = h_link,
};

static struct harness *harness_get(void)
{
    static struct harness h;
    static int ready;
    if (ready)
        return &h;
    h.os = lt_create(&lyra_component_fake_os, NULL);
    /* a 64-descriptor ring: room for a run of LYRA_GRO_MAX between polls */
    h.skb = lt_create(&lyra_component_skb_copy, (const char *const[]){"count=128", NULL});
    h.dev = lt_create(&lyra_component_e1000_model, (const char *const[]){"tx_capture=64", NULL});
    h.nic = lt_create(&lyra_component_nic_dma,
                      (const char *const[]){"rx_ring=64", "tx_ring=16", NULL});
    must(h.os && h.skb && h.dev && h.nic, "create");
    must(!lt_bind(h.skb, "os", h.os), "bind skb.os");
    must(!lt_bind(h.dev, "os", h.os), "bind dev.os");
    must(!lt_bind(h.nic, "bus", h.dev), "bind nic.bus");
    must(!lt_bind(h.nic, "skb", h.skb), "bind nic.skb");
    must(!lt_bind(h.nic, "os", h.os), "bind nic.os");
    must(!lyra_component_nic_dma.provides[0].attach(h.nic->self, &h_ev, &h), "attach");
    must(!lt_start(h.os) && !lt_start(h.skb) && !lt_start(h.dev) && !lt_start(h.nic), "start");
    h.nd = lt_ops(h.nic, "netdev");
    h.bus = lt_ops(h.dev, "bus");
    h.so = lt_ops(h.skb, "skb");
    ready = 1;
    return &h;
}

static void poll(struct harness *h)
{
    lt_poll(h->dev, 64);
    lt_poll(h->nic, 64);
}

static void settle(struct harness *h)
{
    uint8_t out[2048];
    h->bus->cfg_write(h->dev->self, 0x04, 2, 0x0007);
    e1000_model_set_link(h->dev->self, true);
    for (int i = 0; i < 4; i++) {
        poll(h);
        while (e1000_model_take_tx(h->dev->self, out, sizeof(out)))
            ;
    }
    /* the receive ring's posted buffers are the driver's (netdev 1.1) */
    must(lt_stat(h->skb, "in_use") == lt_stat(h->nic, "rx_posted"), "skb leaked");
    must(lt_stat(h->skb, "bad_free") == 0, "skb freed twice");
    must(lt_stat(h->dev, "dma_maps_live") == lt_stat(h->nic, "rx_posted"), "DMA mapping leaked");
}

/* Makes an IPv4 frame's header checksum and, for an unfragmented TCP
 * or UDP datagram (UDP: unless it has none), its transport checksum right
 * (in buf, a copy), as e1000_model_rx checks them; other frames go as
 * they are. UDP too so that the driver sees verified frames it must not
 * coalesce. */
static const uint8_t *fix_csums(const uint8_t *f, size_t len, uint8_t *buf, size_t cap)
{
    if (len < 34 || len > cap || ld16(f + 12) != 0x0800)
        return f;
    memcpy(buf, f, len);
    uint8_t *ip = buf + 14;
    if ((ip[0] >> 4) != 4 || lt_ipv4_fix_csum(ip, len - 14))
        return buf;
    if (ip[9] == 6 || ip[9] == 17)
        lt_ipv4_fix_l4_csum(ip, len - 14);
    return buf;
}

static void inject(struct harness *h, const uint8_t *p, size_t len)
{
    uint8_t buf[1600];
    if (h->fix)
        p = fix_csums(p, len, buf, sizeof(buf));
    (void)e1000_model_inject(h->dev->self, p, len);
}

/* A transmit built from the chunk: linear part then up to 3 segments.
 * p[0]: bit 0 a TSO frame (skb 2.5) of gso_size (p[0] >> 1) * 12 + 8;
 * p[3]: bits 0-1 segments, bits 2-6 headroom asked (16-byte steps), bit 7
 * csum_start = p[5] as is (counted from head: often before the frame)
 * rather than p[5] bytes into the frame; p[4]: bit 0 checksum offload,
 * the rest csum_off. */
static void xmit(struct harness *h, const uint8_t *p, size_t n)
{
    if (n < 6)
        return;
    uint32_t lin = p[1] | (uint32_t)(p[2] & 7) << 8;
    unsigned nseg = p[3] % 4;
    uint32_t hr = (uint32_t)(p[3] >> 2 & 31) * 16;
    bool raw_css = (p[3] & 0x80) != 0;
    uint8_t flags = p[4];
    uint8_t css = p[5];
    uint8_t g0 = p[0];
    p += 6;
    n -= 6;
    struct lyra_skb *s = h->so->alloc(h->skb->self, hr, lin);
    if (!s)
        return;
    uint8_t *d = lyra_skb_put(s, lin);
    if (!d) {
        lyra_skb_free(s);
        return;
    }
    for (uint32_t i = 0; i < lin; i++)
        d[i] = i < n ? p[i] : (uint8_t)i;
    for (unsigned i = 0; i < nseg; i++) {
        uint32_t len = (uint32_t)(i < n ? p[i] : 0) * 7;
        uint32_t off = (uint32_t)(i + 1 < n ? p[i + 1] : 0) * 13;
        if (!lt_skb_add_seg(s, h->segmem[i] + off, len, 0))
            break; /* no room left for the descriptor in the buffer */
    }
    if (flags & 1) {
        s->flags |= LYRA_SKB_F_CSUM_TX;
        /* skb.h: csum_start counts from head */
        s->csum_start = (uint16_t)(raw_css ? css : lyra_skb_headroom(s) + css);
        s->csum_off = (uint16_t)(flags >> 1);
    }
    if (g0 & 1)
        s->gso_size = (uint16_t)((g0 >> 1) * 12u + 8u);
    int r = h->nd->xmit(h->nic->self, s);
    if (r)
        lyra_skb_free(s); /* the caller keeps it on every error */
}

/* ops: 0 inject the chunk as a frame, 1 transmit, 2 poll, 3 mastering off,
 * 4 mastering on, 5 link flip, 6 drain the capture, 7 restart the driver,
 * 8 a card gone wrong: the next frame's last descriptor written back with
 * the chunk's first 4 bytes as length (2), status and errors (the driver's
 * checks of what the card wrote, which a model that behaves never reaches).
 * Each op is a byte then a length byte then that many bytes. */
static void run_script(struct harness *h, const uint8_t *p, size_t n)
{
    uint8_t out[2048];
    while (n >= 2) {
        uint8_t op = p[0] % 9;
        size_t len = p[1];
        p += 2;
        n -= 2;
        if (len > n)
            len = n;
        switch (op) {
        case 0:
            inject(h, p, len);
            break;
        case 1:
            xmit(h, p, len);
            break;
        case 2:
            poll(h);
            break;
        case 3:
            h->bus->cfg_write(h->dev->self, 0x04, 2, 0x0003);
            break;
        case 4:
            h->bus->cfg_write(h->dev->self, 0x04, 2, 0x0007);
            break;
        case 5:
            e1000_model_set_link(h->dev->self, len & 1);
            break;
        case 6:
            while (e1000_model_take_tx(h->dev->self, out, sizeof(out)))
                ;
            break;
        case 7:
            lt_stop(h->nic);
            must(!lt_start(h->nic), "restart");
            break;
        case 8:
            if (len >= 4)
                e1000_model_rx_fault(h->dev->self, (uint16_t)(p[0] | p[1] << 8), p[2], p[3]);
            break;
        }
        p += len;
        n -= len;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct harness *h = harness_get();
    if (size < 1)
        return 0;
    h->fix = (data[0] & 2) != 0;
    if (data[0] & 1) {
        run_script(h, data + 1, size - 1);
    } else {
        const uint8_t *p = data + 1;
        size_t n = size - 1;
        static const unsigned every[4] = {8, 1, 48, 80};
        unsigned k = 0, m = every[data[0] >> 2 & 3];
        while (n >= 2) {
            size_t len = (size_t)p[0] << 8 | p[1];
            p += 2;
            n -= 2;
            if (len > n)
                len = n;
            inject(h, p, len);
            if (++k % m == 0)
                poll(h);
            p += len;
            n -= len;
        }
    }
    settle(h);
    /* the card and the driver from power-on for the next input (ring
     * head and tail, the model's registers): an input replays alone */
    lt_stop(h->nic);
    lt_stop(h->dev);
    must(!lt_start(h->dev) && !lt_start(h->nic), "restart"); /* as the first input found them */
    must(lt_stat(h->skb, "in_use") == lt_stat(h->nic, "rx_posted"), "skb leaked by the restart");
    return 0;
}
