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
 *     components/nic_pio/{nic_pio,ne2k_hw}.c models/ne2k/ne2k_model*.c \
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
 *             checks of what the card wrote are fuzzed too */
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
        uint8_t op = data[i++] % 6;
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
        }
    }
    drain(h);
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
