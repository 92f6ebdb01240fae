/* libFuzzer entry for the eth component: received frames, ARP payloads and
 * short scripts of receive / output / time / tx_ready against one eth
 * instance wired to fake_netdev, fake_os and skb_copy (created once; eth
 * and the NIC are restarted per input so that an input replays alone).
 *
 * After every input: no skb may be out of the pool once eth has stopped,
 * and none freed twice; otherwise abort() so the fuzzer keeps the input.
 *
 * By hand (the lead wires the CMake target):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
 *     -Iframework/include -Itests/support -Itests/fakes -Icomponents/eth \
 *     tests/fuzz/fuzz_eth.c components/eth/{eth,eth_wire,arp_wire,arp_cache}.c \
 *     components/skb/skb_copy.c components/skb/skb_pool.c tests/fakes/fake_os.c \
 *     tests/fakes/fake_netdev.c tests/support/lt.c \
 *     framework/src/{value,diag,component}.c -lpthread -o fuzz_eth
 *
 * First input byte: mode (low 2 bits). 0: the rest is a frame. 1: the rest
 * is an ARP payload in a broadcast ARP frame. 2, 3: a script, one op per
 * chunk (see run_script). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_netdev.h"
#include "fake_os.h"
#include "lt.h"
#include "lyra/l2.h"
#include "lyra/skb.h"

extern const struct lyra_component lyra_component_eth;
extern const struct lyra_component lyra_component_skb_copy;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The harness's instances, created on the first input and reused. */
struct harness {
    struct lt_inst *os, *skb, *nd, *eth;
    const struct lyra_l2_ops *l2;
    const struct lyra_skb_ops *so;
    unsigned delivered;
};

static void fuzz_rx(void *user, struct lyra_skb *skb, const struct lyra_l2_rxinfo *info)
{
    (void)info;
    struct harness *h = user;
    h->delivered++;
    /* touch every byte handed up: it must all be inside the buffer */
    uint8_t sink[2048];
    lyra_skb_flatten(skb, sink, sizeof(sink));
    lyra_skb_free(skb);
}

static const struct lyra_l2_events fuzz_ev = {
    .hdr = LYRA_OPS_HDR(LYRA_L2_IFACE, LYRA_L2_MAJOR, LYRA_L2_MINOR, struct lyra_l2_events),
    .rx = fuzz_rx,
};

static void must(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_eth: %s\n", what);
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
    h.skb = lt_create(&lyra_component_skb_copy, (const char *const[]){"count=96", NULL});
    h.nd = lt_create(&lyra_component_fake_netdev,
                     (const char *const[]){"mac=02:02:00:00:00:02", "tx_busy_every=5",
                                           "tx_record=4", NULL});
    h.eth = lt_create(&lyra_component_eth,
                      (const char *const[]){"addr=192.0.2.2", "arp_entries=4", "arp_queue=8",
                                            "txq=4", "arp_retry=100ms", NULL});
    must(!lt_bind(h.skb, "os", h.os) && !lt_bind(h.nd, "skb", h.skb) &&
             !lt_bind(h.nd, "os", h.os) && !lt_bind(h.eth, "lower", h.nd) &&
             !lt_bind(h.eth, "skb", h.skb) && !lt_bind(h.eth, "os", h.os),
         "bind");
    must(!lt_start(h.os) && !lt_start(h.skb), "start");
    h.l2 = lt_ops(h.eth, "l2");
    h.so = lt_ops(h.skb, "skb");
    must(!h.l2->register_proto(h.eth->self, 0x0800, &fuzz_ev, &h), "register");
    ready = 1;
    return &h;
}

static void deliver(struct harness *h, const uint8_t *p, size_t n)
{
    if (n > 1514 + 4)
        n = 1514 + 4;
    fake_netdev_deliver(h->nd->self, p, n);
}

/* An ARP frame around an arbitrary payload, broadcast from 02:01:00:00:00:01. */
static void deliver_arp(struct harness *h, const uint8_t *p, size_t n)
{
    uint8_t f[128];
    static const uint8_t hdr[14] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02,
                                    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06};
    if (n > sizeof(f) - 14)
        n = sizeof(f) - 14;
    memcpy(f, hdr, 14);
    memcpy(f + 14, p, n);
    deliver(h, f, 14 + n);
}

/* Ops: a byte `op` then its arguments; ends when the input does.
 *  0 len(1) bytes: receive a frame     1 len(1) bytes: receive an ARP payload
 *  2 ip(1): output 40 bytes to 192.0.2.ip (0: 0.0.0.0, 255: broadcast)
 *  3 ms(2): advance the clock          4: tx_ready   5 ip(1): add_addr
 *  6 ip(1): del_addr                   7 link(1)     8 len(2): output_mac len bytes */
static void run_script(struct harness *h, const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t op = p[i++] % 9;
        size_t left = n - i;
        switch (op) {
        case 0:
        case 1: {
            size_t len = left ? p[i++] : 0;
            left = n - i;
            if (len > left)
                len = left;
            if (op == 0)
                deliver(h, p + i, len);
            else
                deliver_arp(h, p + i, len);
            i += len;
            break;
        }
        case 2:
        case 8: {
            uint32_t len = 40, ip = 0;
            if (op == 2 && left) {
                uint8_t b = p[i++];
                ip = b == 255 ? LYRA_L2_BROADCAST : b ? (0xc0000200u | b) : 0;
            } else if (op == 8 && left >= 2) {
                len = ((uint32_t)p[i] << 8 | p[i + 1]) % 1600;
                i += 2;
            }
            struct lyra_skb *s = h->so->alloc(h->skb->self, h->l2->headroom(h->eth->self), len);
            if (!s || !lyra_skb_put(s, len)) {
                lyra_skb_free(s);
                break;
            }
            memset(s->data, 0x45, len);
            static const uint8_t dst[6] = {0x02, 0x01, 0, 0, 0, 1};
            int r = op == 2 ? h->l2->output(h->eth->self, s, 0x0800, ip)
                            : h->l2->output_mac(h->eth->self, s, 0x0800, dst);
            if (r)
                lyra_skb_free(s); /* l2 2.0: refused, ours to free */
            break;
        }
        case 3: {
            uint64_t ms = left >= 2 ? ((uint64_t)p[i] << 8 | p[i + 1]) : 1000;
            i += left >= 2 ? 2 : left;
            fake_os_advance(h->os->self, ms * 1000000ull);
            break;
        }
        case 4:
            fake_netdev_signal_tx_ready(h->nd->self);
            break;
        case 5:
        case 6:
            if (left) {
                uint32_t ip = 0xc0000200u | p[i++];
                if (op == 5)
                    h->l2->add_addr(h->eth->self, ip);
                else
                    h->l2->del_addr(h->eth->self, ip);
            }
            break;
        case 7:
            if (left)
                fake_netdev_set_link(h->nd->self, p[i++] & 1);
            break;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct harness *h = harness_get();
    fake_os_reseed(h->os->self, 1); /* the same random numbers for every input */
    must(!lt_start(h->nd) && !lt_start(h->eth), "restart");
    if (size) {
        switch (data[0] & 3) {
        case 0:
            deliver(h, data + 1, size - 1);
            break;
        case 1:
            deliver_arp(h, data + 1, size - 1);
            break;
        default:
            run_script(h, data + 1, size - 1);
            break;
        }
    }
    /* whatever eth still holds sits in its two queues, nowhere else */
    must(lt_stat(h->skb, "in_use") == lt_stat(h->eth, "arp_pending") + lt_stat(h->eth, "txq_len"),
         "an skb is held outside eth's queues (leak)");
    lt_stop(h->eth);
    must(lt_stat(h->skb, "in_use") == 0, "skbs leaked after stop");
    must(lt_stat(h->skb, "bad_free") == 0, "an skb was freed twice");
    /* undo what a script changed, so that the next input starts alike */
    for (uint32_t b = 0; b < 256; b++)
        if (b != 2)
            h->l2->del_addr(h->eth->self, 0xc0000200u | b);
    fake_netdev_set_link(h->nd->self, 1);
    lt_stop(h->nd);
    return 0;
}
