/* Instructions per frame through the two NIC drivers, each over its device
 * model: nic_pio over ne2k_model (port I/O, remote DMA) and nic_dma over
 * e1000_model (descriptor rings, bus-master DMA).
 *
 *   nic_drivers DRIVER DIR SIZE FRAMES
 *   DRIVER: pio | dma     DIR: tx | rx     SIZE: 60..1514 (frame bytes, no FCS)
 *
 * fake_os, skb_copy, the model and the driver are created and bound by
 * hand (tests/support/lt.h), with a minimal netdev user that counts what
 * comes up and frees it. No framework runtime is involved.
 *
 * tx: per frame, an skb from skb_copy gets SIZE bytes (linear: Ethernet
 *     header and payload, copied from a template), goes to xmit, the model's
 *     output is taken (take_tx), and one poll step runs (model, then driver)
 *     so finished transmissions are reclaimed and the buffers never fill.
 * rx: per frame, a SIZE-byte frame to the card's MAC is injected into the
 *     model, then one poll step (model, then driver) delivers it to the
 *     user, which frees it.
 *
 * At the end it checks that exactly FRAMES frames went through with the
 * right length (and that every skb is back in the pool); exit 3 otherwise.
 * Run it under callgrind at two frame counts and divide the difference
 * (bench/nic_drivers.sh does). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e1000_model.h"
#include "fake_os.h"
#include "lt.h"
#include "lyra/netdev.h"
#include "lyra/skb.h"
#include "ne2k_model.h"

extern const struct lyra_component lyra_component_skb_copy, lyra_component_nic_pio,
    lyra_component_nic_dma;

#define SKB_COUNT 64u
#define ETHERTYPE 0x88b5 /* local experimental: no model or driver parses past it */

struct user {
    uint64_t rx, rx_bad_len;
    uint32_t want_len;
};

static void u_rx(void *user, struct lyra_skb *skb)
{
    struct user *u = user;
    if (lyra_skb_total(skb) == u->want_len)
        u->rx++;
    else
        u->rx_bad_len++;
    lyra_skb_free(skb);
}

static const struct lyra_netdev_events user_ev = {
    .hdr = LYRA_OPS_HDR(LYRA_NETDEV_IFACE, LYRA_NETDEV_MAJOR, LYRA_NETDEV_MINOR,
                        struct lyra_netdev_events),
    .rx = u_rx,
};

static void frame_make(uint8_t *f, uint32_t len, const uint8_t dst[6])
{
    static const uint8_t src[6] = {0x02, 0x01, 0, 0, 0, 0x01};
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    f[12] = (uint8_t)(ETHERTYPE >> 8);
    f[13] = (uint8_t)ETHERTYPE;
    for (uint32_t i = 14; i < len; i++)
        f[i] = (uint8_t)(i * 7 + 3);
}

static int usage(const char *argv0)
{
    fprintf(stderr, "usage: %s pio|dma tx|rx SIZE(60..1514) FRAMES\n", argv0);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 5)
        return usage(argv[0]);
    int dma = !strcmp(argv[1], "dma");
    int tx = !strcmp(argv[2], "tx");
    long size = atol(argv[3]);
    long frames = atol(argv[4]);
    if ((!dma && strcmp(argv[1], "pio")) || (!tx && strcmp(argv[2], "rx")) || size < 60 ||
        size > 1514 || frames < 0)
        return usage(argv[0]);
    uint32_t len = (uint32_t)size;

    const struct lyra_component *model_c = dma ? &lyra_component_e1000_model
                                               : &lyra_component_ne2k_model;
    const struct lyra_component *nic_c = dma ? &lyra_component_nic_dma : &lyra_component_nic_pio;
    struct lt_inst *os = lt_create(&lyra_component_fake_os, NULL);
    struct lt_inst *skb = lt_create(&lyra_component_skb_copy, (const char *const[]){"count=64", NULL});
    struct lt_inst *dev = lt_create(model_c, NULL);
    struct lt_inst *nic = lt_create(nic_c, NULL);
    if (!os || !skb || !dev || !nic)
        return 2;
    struct user u = {.want_len = len};
    if (lt_bind(skb, "os", os) || lt_bind(dev, "os", os) || lt_bind(nic, "bus", dev) ||
        lt_bind(nic, "skb", skb) || lt_bind(nic, "os", os) ||
        nic_c->provides[0].attach(nic->self, &user_ev, &u) || lt_start(os) || lt_start(skb) ||
        lt_start(dev) || lt_start(nic)) {
        fprintf(stderr, "wiring failed\n");
        return 2;
    }
    const struct lyra_netdev_ops *nd = lt_ops(nic, "netdev");
    const struct lyra_skb_ops *so = lt_ops(skb, "skb");
    struct lyra_netdev_caps caps;
    if (!nd || !so || nd->open(nic->self) || nd->caps(nic->self, &caps))
        return 2;

    static uint8_t frame[1514], out[2048];
    static const uint8_t peer[6] = {0x02, 0x01, 0, 0, 0, 0x02};
    frame_make(frame, len, tx ? peer : caps.mac);
    size_t (*take_tx)(void *, void *, size_t) = dma ? e1000_model_take_tx : ne2k_model_take_tx;
    int (*inject)(void *, const void *, size_t) = dma ? e1000_model_inject : ne2k_model_inject;

    uint64_t sent = 0, sent_bad = 0;
    for (long i = 0; i < frames; i++) {
        if (tx) {
            struct lyra_skb *s = so->alloc(skb->self, 0, len);
            uint8_t *p = s ? lyra_skb_put(s, len) : NULL;
            if (!p) {
                fprintf(stderr, "frame %ld: no skb\n", i);
                return 3;
            }
            memcpy(p, frame, len);
            int r = nd->xmit(nic->self, s);
            if (r) {
                fprintf(stderr, "frame %ld: xmit says %d\n", i, r);
                return 3;
            }
            size_t n;
            while ((n = take_tx(dev->self, out, sizeof(out))) != 0) {
                if (n == len)
                    sent++;
                else
                    sent_bad++;
            }
        } else {
            int r = inject(dev->self, frame, len);
            if (r) {
                fprintf(stderr, "frame %ld: inject says %d\n", i, r);
                return 3;
            }
        }
        lt_poll(dev, 64);
        lt_poll(nic, 64);
    }

    uint64_t got = tx ? sent : u.rx;
    uint64_t bad = tx ? sent_bad : u.rx_bad_len;
    uint64_t drv = lt_stat(nic, tx ? "tx_frames" : "rx_frames");
    /* buffers posted on a receive ring (nic_dma, netdev 1.1) are not lost */
    uint64_t posted = lt_stat(nic, "rx_posted");
    uint32_t avail = so->avail(skb->self) + (posted == UINT64_MAX ? 0 : (uint32_t)posted);
    int ok = got == (uint64_t)frames && bad == 0 && drv == (uint64_t)frames &&
             avail == SKB_COUNT;
    if (!ok)
        fprintf(stderr,
                "%s %s %u: expected %ld frames, got %llu (%llu of a wrong length, driver "
                "counted %llu, %u of %u skbs free)\n",
                argv[1], argv[2], (unsigned)len, frames, (unsigned long long)got,
                (unsigned long long)bad, (unsigned long long)drv, (unsigned)avail, SKB_COUNT);
    lt_destroy(nic);
    lt_destroy(dev);
    lt_destroy(skb);
    lt_destroy(os);
    if (!ok)
        return 3;
    printf("%s %s %u: %ld frames\n", argv[1], argv[2], (unsigned)len, frames);
    return 0;
}
