/* libFuzzer entry for the NE2000 pair: arbitrary frames go into ne2k_model
 * (its ring) and come out through the nic_pio driver, mixed with
 * transmits, receive-filter changes and deferred transmit completions.
 * One harness (fake_os, skb_copy, ne2k_model with tx_defer, nic_pio, a
 * netdev user) is created on the first input and reused.
 *
 * After every input the ring and the transmit queue are drained, and no
 * skb may be left out of the pool; otherwise abort() so the fuzzer keeps
 * the input.
 *
 * By hand (no CMake target yet):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
 *     -Iframework/include -Itests/support -Itests/fakes -Icomponents/nic_pio \
 *     -Imodels/ne2k tests/fuzz/fuzz_nic_pio.c \
 *     components/nic_pio/{nic_pio,nic_pio_rx,nic_pio_tx,nic_pio_tso,ne2k_hw,eth_fcs}.c models/ne2k/ne2k_model*.c \
 *     components/skb/skb_copy.c components/skb/skb_pool.c tests/fakes/fake_os.c \
 *     tests/support/lt.c framework/src/{value,diag,component}.c -lpthread -o fuzz_nic_pio
 *
 * Input: a script of ops, each a byte `op` and its arguments, ending with
 * the input:
 *   0 len(2) bytes: a frame arrives (len capped at 1600; the rest of the
 *                   input when shorter)
 *   1 len(2) nseg(1): transmit len bytes of the input as linear + segments
 *   2: the model's poll (ends a deferred transmission)
 *   3 budget(1): the driver's poll
 *   4 mode(1): set_rx_mode(allmulti = bit 0, promisc = bit 1)
 *   5 hdr(4): a card gone wrong: the next frame's ring header (status, next
 *             page, byte count) written as these bytes, so the driver's
 *             checks of what the card wrote are fuzzed too
 *   6 hlen(1) mss(2) len(2) nseg(1): a TSO frame (gso_size mss) of len bytes
 *             of the input, hlen of them linear, the rest in nseg pieces,
 *             the TCP checksum asked of the NIC at offset 34 + 16: the
 *             driver refuses it or cuts it, possibly over several polls
 *             while other ops go on
 *   7 n(1) len(2): a run: the input's len bytes, a TCP/IPv4 frame once its
 *             checksums are made right, received n times with the sequence
 *             number advancing by the payload, so that receive coalescing
 *             and the driver's checksum check see whole runs */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_os.h"
#include "lt.h"
#include "lyra/netdev.h"
#include "lyra/skb.h"
#include "lyra/tcp_gro.h"
#include "ne2k_model.h"

extern const struct lyra_component lyra_component_nic_pio;
extern const struct lyra_component lyra_component_skb_copy;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define POOL 48

struct harness {
    struct lt_inst *os, *skb, *dev, *nic;
    const struct lyra_netdev_ops *nd;
    const struct lyra_skb_ops *so;
    unsigned rx, tx_ready;
    int tso_held; /* a TSO frame taken whose pieces (tso_g) may still be read */
};

static void must(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_nic_pio: %s\n", what);
        abort();
    }
}

static void h_rx(void *user, struct lyra_skb *skb)
{
    struct harness *h = user;
    uint8_t sink[2048];
    must(lyra_skb_total(skb) >= 14 && lyra_skb_total(skb) <= 1518, "frame length up");
    lyra_skb_flatten(skb, sink, sizeof(sink)); /* every byte must be inside the buffer */
    if (skb->flags & LYRA_SKB_F_GRO) { /* a run: every member verified, within the cap */
        unsigned n = 0;
        for (const struct lyra_skb *c = skb; c; c = c->next, n++) {
            must((c->flags & LYRA_SKB_F_CSUM_OK) != 0, "run member not verified");
            must(lyra_skb_total(c) <= 1518, "run member length");
            lyra_skb_flatten(c, sink, sizeof(sink));
        }
        must(n >= 2 && n <= LYRA_GRO_MAX, "run length");
    }
    h->rx++;
    lyra_skb_free(skb);
}

static void h_tx_ready(void *user)
{
    ((struct harness *)user)->tx_ready++;
}

static const struct lyra_netdev_events h_ev = {
    .hdr = LYRA_OPS_HDR(LYRA_NETDEV_IFACE, LYRA_NETDEV_MAJOR, LYRA_NETDEV_MINOR,
                        struct lyra_netdev_events),
    .rx = h_rx,
    .tx_ready = h_tx_ready,
};

static struct harness *harness_get(void)
{
    static struct harness h;
    static int ready;
    if (ready)
        return &h;
    h.os = lt_create(&lyra_component_fake_os, NULL);
    h.skb = lt_create(&lyra_component_skb_copy, (const char *const[]){"count=48", NULL});
    h.dev = lt_create(&lyra_component_ne2k_model, (const char *const[]){"tx_defer=on", NULL});
    h.nic = lt_create(&lyra_component_nic_pio, (const char *const[]){"rx_budget=4", NULL});
    must(h.os && h.skb && h.dev && h.nic, "create");
    must(!lt_bind(h.skb, "os", h.os) && !lt_bind(h.dev, "os", h.os) &&
             !lt_bind(h.nic, "bus", h.dev) && !lt_bind(h.nic, "skb", h.skb) &&
             !lt_bind(h.nic, "os", h.os),
         "bind");
    must(!lyra_component_nic_pio.provides[0].attach(h.nic->self, &h_ev, &h), "attach");
    must(!lt_start(h.os) && !lt_start(h.skb) && !lt_start(h.dev) && !lt_start(h.nic), "start");
    h.nd = lt_ops(h.nic, "netdev");
    h.so = lt_ops(h.skb, "skb");
    must(!h.nd->open(h.nic->self), "open");
    ready = 1;
    return &h;
}

static void xmit(struct harness *h, const uint8_t *p, size_t n, unsigned nseg)
{
    struct lyra_skb *s = h->so->alloc(h->skb->self, 0, 64);
    if (!s)
        return;
    size_t lin = n < 14 ? n : 14;
    memcpy(lyra_skb_put(s, (uint32_t)lin), p, lin);
    size_t off = lin;
    nseg %= 7; /* up to 6 segments; the descriptors outlive the synchronous xmit */
    struct lyra_skb_seg g[6];
    for (unsigned k = 0; k < nseg && off < n; k++) {
        size_t len = k + 1 == nseg ? n - off : (n - off) / 2 + (k & 1);
        g[k] = (struct lyra_skb_seg){.ptr = p + off, .len = (uint32_t)len};
        lyra_skb_seg_append(s, &g[k]);
        off += len;
    }
    int r = h->nd->xmit(h->nic->self, s);
    if (r)
        lyra_skb_free(s);
    uint32_t total = (uint32_t)off;
    must(r == 0 || r == -EAGAIN || (r == -EMSGSIZE && total > 1514), "xmit result");
}

static void drain(struct harness *h);

/* A TSO frame's pieces: static, since the driver may hold the frame after
 * xmit returns (one frame at a time: tso_held drains before the next). */
static struct lyra_skb_seg tso_g[8];

static void xmit_tso(struct harness *h, const uint8_t *p, size_t n, uint32_t hlen, uint16_t mss,
                     unsigned nseg)
{
    if (h->tso_held) {
        drain(h);
        h->tso_held = 0;
    }
    struct lyra_skb *s = h->so->alloc(h->skb->self, 0, 160);
    if (!s)
        return;
    size_t lin = n < hlen ? n : hlen;
    if (lin > lyra_skb_tailroom(s))
        lin = lyra_skb_tailroom(s);
    memcpy(lyra_skb_put(s, (uint32_t)lin), p, lin);
    size_t off = lin;
    nseg = nseg % 8 + 1;
    for (unsigned k = 0; k < nseg && off < n; k++) {
        size_t len = k + 1 == nseg ? n - off : (n - off) / 2 + (k & 1);
        tso_g[k] = (struct lyra_skb_seg){.ptr = p + off, .len = (uint32_t)len};
        lyra_skb_seg_append(s, &tso_g[k]);
        off += len;
    }
    s->flags |= LYRA_SKB_F_CSUM_TX;
    s->csum_start = (uint16_t)(lyra_skb_headroom(s) + 34);
    s->csum_off = 16;
    s->gso_size = mss;
    int r = h->nd->xmit(h->nic->self, s);
    if (r)
        lyra_skb_free(s);
    else
        h->tso_held = 1;
    /* (mss 0: no TSO frame, the ordinary rules) */
    must(r == 0 || r == -EAGAIN || r == -EINVAL || r == -EOPNOTSUPP ||
             (r == -EMSGSIZE && !mss && off > 1514),
         "TSO xmit result");
}

/* n copies of the frame at p (its checksums made right), the sequence
 * number advancing by its TCP payload each time. */
static void inject_run(struct harness *h, const uint8_t *p, size_t len, unsigned n)
{
    uint8_t f[1600];
    if (len < 54 || len > sizeof(f))
        return;
    memcpy(f, p, len);
    uint8_t *ip = f + 14;
    uint32_t ihl = (ip[0] & 0x0fu) * 4u, tot = (uint32_t)(ip[2] << 8 | ip[3]);
    if (ihl < 20 || 14 + ihl + 20 > len || tot < ihl + 20 || 14 + tot > len)
        return;
    uint8_t *t = ip + ihl;
    uint32_t th = (uint32_t)(t[12] >> 4) * 4u;
    uint32_t pay = tot > ihl + th ? tot - ihl - th : 0;
    for (unsigned k = 0; k < n % 8 + 1; k++) {
        if (lt_ipv4_fix_csum(ip, len - 14) == 0)
            lt_ipv4_fix_l4_csum(ip, len - 14);
        ne2k_model_inject(h->dev->self, f, len);
        uint32_t seq = (uint32_t)t[4] << 24 | (uint32_t)t[5] << 16 | (uint32_t)t[6] << 8 | t[7];
        seq += pay;
        t[4] = (uint8_t)(seq >> 24), t[5] = (uint8_t)(seq >> 16), t[6] = (uint8_t)(seq >> 8),
        t[7] = (uint8_t)seq;
    }
}

static void drain(struct harness *h)
{
    uint8_t out[1600];
    for (unsigned i = 0; i < 64; i++) {
        int w = lt_poll(h->dev, 64);
        w += lt_poll(h->nic, 64);
        while (ne2k_model_take_tx(h->dev->self, out, sizeof(out)))
            ;
        if (!w)
            break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct harness *h = harness_get();
    size_t i = 0;
    uint8_t out[1600];
    while (i < size) {
        uint8_t op = data[i++] % 8;
        switch (op) {
        case 0:
        case 1: {
            size_t len = 0;
            if (i + 2 <= size)
                len = (size_t)(data[i] | (data[i + 1] << 8)) % 1601;
            i += 2;
            unsigned nseg = 0;
            if (op == 1 && i < size)
                nseg = data[i++];
            if (i > size)
                i = size;
            if (len > size - i)
                len = size - i;
            if (op == 0)
                ne2k_model_inject(h->dev->self, data + i, len);
            else
                xmit(h, data + i, len, nseg);
            i += len;
            break;
        }
        case 2:
            lt_poll(h->dev, 8);
            while (ne2k_model_take_tx(h->dev->self, out, sizeof(out)))
                ;
            break;
        case 3:
            lt_poll(h->nic, i < size ? (unsigned)data[i++] % 16 + 1 : 1);
            break;
        case 4:
            if (i < size) {
                uint8_t m = data[i++];
                h->nd->set_rx_mode(h->nic->self, m & 1, (m & 2) != 0);
            }
            break;
        case 5:
            if (i + 4 <= size)
                ne2k_model_rx_fault(h->dev->self, data + i);
            i += 4;
            break;
        case 6:
        case 7: {
            if (i + (op == 6 ? 6u : 3u) > size) {
                i = size;
                break;
            }
            uint32_t hlen = 0, mss = 0, n = 0;
            if (op == 6) {
                hlen = data[i++];
                mss = (uint32_t)(data[i] | data[i + 1] << 8) % 1600u;
                i += 2;
            } else {
                n = data[i++];
            }
            size_t len = (size_t)(data[i] | (data[i + 1] << 8)) % (op == 6 ? 9000u : 1601u);
            i += 2;
            unsigned nseg = op == 6 ? data[i++] : 0;
            if (len > size - i)
                len = size - i;
            if (op == 6)
                xmit_tso(h, data + i, len, hlen, (uint16_t)mss, nseg);
            else
                inject_run(h, data + i, len, n);
            i += len;
            break;
        }
        }
    }
    drain(h);
    h->tso_held = 0;
    h->nd->set_rx_mode(h->nic->self, false, false);
    must(h->so->avail(h->skb->self) == POOL, "skb leaked");
    /* the card and the driver from power-on for the next input (ring
     * pointers, the driver's FCS latch): an input replays alone */
    must(!h->nd->close(h->nic->self), "close");
    lt_stop(h->nic);
    lt_stop(h->dev);
    must(!lt_start(h->dev) && !lt_start(h->nic) && !h->nd->open(h->nic->self), "restart");
    must(h->so->avail(h->skb->self) == POOL, "skb leaked by the restart");
    return 0;
}
