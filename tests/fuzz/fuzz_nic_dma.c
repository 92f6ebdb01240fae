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
 * the fuzzer keeps the input.
 *
 * By hand (no CMake target yet):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
 *     -Iframework/include -Itests/support -Itests/fakes -Imodels/e1000 \
 *     tests/fuzz/fuzz_nic_dma.c \
 *     components/nic_dma/{nic_dma,nic_dma_rx,nic_dma_gro,nic_dma_txreq,e1000_hw,e1000_desc}.c \
 *     models/e1000/e1000_model*.c components/skb/skb_copy.c \
 *     components/skb/skb_pool.c tests/fakes/fake_os.c tests/support/lt.c \
 *     framework/src/{value,diag,component}.c -lpthread -o fuzz_nic_dma
 *
 * First input byte: mode (low bit). 0: the rest is frames, each a 2-byte
 * big-endian length then its bytes. 1: a script, one op per chunk (see
 * run_script). */
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
#include "lyra/netdev.h"
#include "lyra/skb.h"

extern const struct lyra_component lyra_component_nic_dma;
extern const struct lyra_component lyra_component_skb_copy;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct harness {
    struct lt_inst *os, *skb, *dev, *nic;
    const struct lyra_netdev_ops *nd;
    const struct lyra_bus_ops *bus;
    const struct lyra_skb_ops *so;
    unsigned rx, tx_ready;
    uint8_t segmem[4][4096];
};

static void must(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_nic_dma: %s\n", what);
        abort();
    }
}

static void h_rx(void *user, struct lyra_skb *skb)
{
    struct harness *h = user;
    uint8_t sink[2048];
    must(skb->len >= 14 && skb->len <= 1518 && !skb->nseg, "received frame out of bounds");
    lyra_skb_flatten(skb, sink, sizeof(sink));
    h->rx++;
    lyra_skb_free(skb);
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
    h.skb = lt_create(&lyra_component_skb_copy, (const char *const[]){"count=64", NULL});
    h.dev = lt_create(&lyra_component_e1000_model, (const char *const[]){"tx_capture=64", NULL});
    h.nic = lt_create(&lyra_component_nic_dma,
                      (const char *const[]){"rx_ring=16", "tx_ring=16", NULL});
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
 * 4 mastering on, 5 link flip, 6 drain the capture, 7 restart the driver.
 * Each op is a byte then a length byte then that many bytes. */
static void run_script(struct harness *h, const uint8_t *p, size_t n)
{
    uint8_t out[2048];
    while (n >= 2) {
        uint8_t op = p[0] % 8;
        size_t len = p[1];
        p += 2;
        n -= 2;
        if (len > n)
            len = n;
        switch (op) {
        case 0:
            (void)e1000_model_inject(h->dev->self, p, len);
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
    if (data[0] & 1) {
        run_script(h, data + 1, size - 1);
    } else {
        const uint8_t *p = data + 1;
        size_t n = size - 1;
        unsigned k = 0;
        while (n >= 2) {
            size_t len = (size_t)p[0] << 8 | p[1];
            p += 2;
            n -= 2;
            if (len > n)
                len = n;
            (void)e1000_model_inject(h->dev->self, p, len);
            if (++k % 8 == 0)
                poll(h);
            p += len;
            n -= len;
        }
    }
    settle(h);
    return 0;
}
