/* Instructions per frame through eth on a fake NIC: the same components
 * assembled statically (generated plan), dynamically (dlopen), and wired by
 * hand with no framework runtime at all (the baseline).
 *
 *   framework_overhead MODE FRAMES
 *   MODE: direct | static | dynamic | static-poll | dynamic-poll
 *
 * Each frame is a real Linux ARP request for 192.0.2.2 (tests/data/eth);
 * eth answers it, so a frame is one receive and one transmit. "-poll" modes
 * queue the frame in the NIC and run one lyra_stack_poll step, so they
 * include the run-to-completion loop (every instance's poll, due timers).
 * Run it under callgrind twice with different FRAMES and divide the
 * difference (bench/framework_overhead.sh does). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_netdev.h"
#include "lt.h"
#include "lyra/stack.h"

extern const struct lyra_component lyra_component_os_posix, lyra_component_skb_copy,
    lyra_component_eth;
int lyra_assembly_eth_fake_create(const char *const *overrides, struct lyra_stack **out);

static const char *const overrides[] = {"nic.tx_record=0", "os.seed=1", NULL};

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s direct|static|dynamic|static-poll|dynamic-poll FRAMES\n", argv[0]);
        return 1;
    }
    const char *mode = argv[1];
    long frames = atol(argv[2]);
    struct lt_pcap p;
    const uint8_t *req;
    if (lt_pcap_open(&p, "eth/arp-linux.pcap")) {
        fprintf(stderr, "cannot read tests/data/eth/arp-linux.pcap (set LYRA_SOURCE_DIR)\n");
        return 1;
    }
    uint32_t len = lt_pcap_next(&p, &req);
    struct lyra_stack *s = NULL;
    void *nic;
    struct lt_inst *os = NULL, *skb = NULL, *dev = NULL, *eth = NULL;
    int poll = strstr(mode, "-poll") != NULL;
    if (!strcmp(mode, "direct")) {
        /* No plan, no runtime: instances made and bound by hand. */
        os = lt_create(&lyra_component_os_posix, (const char *[]){"seed=1", NULL});
        skb = lt_create(&lyra_component_skb_copy, (const char *[]){"count=64", NULL});
        dev = lt_create(&lyra_component_fake_netdev,
                        (const char *[]){"mac=02:02:00:00:00:02", "tx_record=0", NULL});
        eth = lt_create(&lyra_component_eth, (const char *[]){"addr=192.0.2.2", NULL});
        if (lt_bind(skb, "os", os) || lt_bind(dev, "os", os) || lt_bind(dev, "skb", skb) ||
            lt_bind(eth, "os", os) || lt_bind(eth, "skb", skb) || lt_bind(eth, "lower", dev) ||
            lt_start(os) || lt_start(skb) || lt_start(dev) || lt_start(eth))
            return 2;
        nic = dev->self;
    } else {
        int r;
        if (!strncmp(mode, "static", 6)) {
            r = lyra_assembly_eth_fake_create(overrides, &s);
        } else {
            char path[1024];
            snprintf(path, sizeof(path), "%s/assemblies/eth-fake.lyra", getenv("LYRA_SOURCE_DIR"));
            r = lyra_stack_load(path, overrides, &s);
        }
        if (r || lyra_stack_start(s))
            return 2;
        nic = lyra_stack_instance(s, "nic", NULL);
    }
    for (long i = 0; i < frames; i++) {
        if (poll) {
            fake_netdev_inject(nic, req, len);
            lyra_stack_poll(s);
        } else {
            fake_netdev_deliver(nic, req, len);
        }
    }
    uint64_t replies = s ? lyra_stack_counter(s, "eth", "arp_replies_sent")
                         : lt_stat(eth, "arp_replies_sent");
    if (replies != (uint64_t)frames) {
        fprintf(stderr, "expected %ld replies, got %llu\n", frames, (unsigned long long)replies);
        return 3;
    }
    if (s)
        lyra_stack_destroy(s);
    lt_destroy(eth);
    lt_destroy(dev);
    lt_destroy(skb);
    lt_destroy(os);
    lt_pcap_close(&p);
    printf("%s: %ld frames answered\n", mode, frames);
    return 0;
}
