/* Both NIC drivers on their device models, wired into stacks: two stacks
 * (NE2000 on one side, e1000 on the other) resolve each other over the
 * wire, captures decode with tshark, and Linux arping gets answers from the
 * stack on a TAP in a private network namespace with each NIC. */
#include <criterion/criterion.h>

#include "lt.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lyra/l2.h"
#include "lyra/skb.h"
#include "lyra/stack.h"

static const char *env(const char *n)
{
    const char *s = getenv(n);
    cr_assert(s, "%s is not set (run through ctest)", n);
    return s;
}

static int sh(char *out, size_t outlen, const char *fmt, ...)
{
    char cmd[4096], full[4400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    snprintf(full, sizeof(full), "cd '%s' && (%s) 2>&1", env("LYRA_SOURCE_DIR"), cmd);
    FILE *p = popen(full, "r");
    cr_assert(p);
    size_t n = 0, k;
    char buf[4096];
    if (out)
        out[0] = 0;
    while ((k = fread(buf, 1, sizeof(buf), p)) > 0)
        if (out && n + 1 < outlen) {
            size_t c = k < outlen - n - 1 ? k : outlen - n - 1;
            memcpy(out + n, buf, c);
            n += c;
            out[n] = 0;
        }
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static const void *provided(struct lyra_stack *s, const char *inst, const char *iface, void **self)
{
    const struct lyra_component *c;
    *self = lyra_stack_instance(s, inst, &c);
    cr_assert(*self, "no instance %s", inst);
    for (unsigned i = 0; i < c->n_provides; i++)
        if (!strcmp(c->provides[i].iface, iface))
            return c->provides[i].ops;
    cr_assert_fail("%s provides no %s", inst, iface);
    return NULL;
}

static struct lyra_stack *load(const char *manifest, const char *const *ov)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/assemblies/%s", env("LYRA_SOURCE_DIR"), manifest);
    struct lyra_stack *s;
    cr_assert_eq(lyra_stack_load(path, ov, &s), 0, "cannot load %s", manifest);
    return s;
}

Test(nics, ne2000_and_e1000_stacks_resolve_each_other_over_the_wire)
{
    char link[64], pcap[512], o1[600], o2[80], o3[80];
    snprintf(link, sizeof(link), "dev.link=wire:nics%d", getpid());
    snprintf(pcap, sizeof(pcap), "%s/tests/nics-%d.pcap", env("LYRA_BUILD_DIR"), getpid());
    snprintf(o1, sizeof(o1), "dev.pcap=%s", pcap);
    snprintf(o2, sizeof(o2), "os.seed=1");
    snprintf(o3, sizeof(o3), "eth.addr=192.0.2.3");
    const char *ova[] = {link, o1, o2, NULL};
    const char *ovb[] = {link, o2, o3, NULL};
    struct lyra_stack *a = load("eth-pio.lyra", ova), *b = load("eth-dma.lyra", ovb);
    cr_assert_eq(lyra_stack_start(a), 0);
    cr_assert_eq(lyra_stack_start(b), 0);

    /* A sends one packet of a local ethertype to 192.0.2.3: eth must ask
     * with ARP, B must answer, and the queued packet must then reach B. */
    void *eth_a, *skb_a;
    const struct lyra_l2_ops *l2 = provided(a, "eth", LYRA_L2_IFACE, &eth_a);
    const struct lyra_skb_ops *sk = provided(a, "skb", LYRA_SKB_IFACE, &skb_a);
    struct lyra_skb *p = sk->alloc(skb_a, l2->headroom(eth_a) + 32, 46);
    cr_assert(p);
    memset(lyra_skb_put(p, 46), 0x5a, 46);
    cr_assert_eq(l2->output(eth_a, p, 0x88b5, 0xc0000203u), 0);
    for (int i = 0; i < 200 && lyra_stack_counter(b, "eth", "rx_unknown_type") == 0; i++) {
        lyra_stack_poll(a);
        lyra_stack_poll(b);
        usleep(1000);
    }
    lyra_stack_poll(a); /* the NE2000 counts a frame when its transmission completes */
    cr_assert_eq(lyra_stack_counter(a, "eth", "arp_requests_sent"), 1);
    cr_assert_eq(lyra_stack_counter(b, "eth", "arp_requests_rcvd"), 1);
    cr_assert_eq(lyra_stack_counter(b, "eth", "arp_replies_sent"), 1);
    cr_assert_eq(lyra_stack_counter(a, "eth", "arp_replies_rcvd"), 1);
    cr_assert_eq(lyra_stack_counter(b, "eth", "rx_unknown_type"), 1,
                 "the packet queued behind ARP arrived (B has no user for 0x88b5)");
    cr_assert_eq(lyra_stack_counter(a, "nic", "tx_frames"), 3, "announcement, request, packet: %llu",
                 (unsigned long long)lyra_stack_counter(a, "nic", "tx_frames"));
    cr_assert_geq(lyra_stack_counter(b, "nic", "rx_frames"), 2);
    lyra_stack_destroy(a);
    lyra_stack_destroy(b);

    /* The capture of A's link decodes: our request and B's reply. */
    char out[8192];
    int st = sh(out, sizeof(out), "command -v tshark >/dev/null || exit 77; tshark -r %s -T fields "
                                  "-e arp.opcode -e arp.src.proto_ipv4 -e arp.dst.proto_ipv4 -e eth.type 2>/dev/null", pcap);
    if (st == 77)
        cr_skip_test("SKIPPED LOUDLY: tshark is not installed, the capture was NOT decoded");
    cr_assert_eq(st, 0, "%s", out);
    cr_assert(strstr(out, "1\t192.0.2.2\t192.0.2.3"), "our ARP request: %s", out);
    cr_assert(strstr(out, "2\t192.0.2.3\t192.0.2.2"), "B's reply: %s", out);
    cr_assert(strstr(out, "0x88b5"), "the released packet: %s", out);
    unlink(pcap);
}

/* Linux arping against the stack on a TAP inside a namespace of our own. */
static void arping_against(const char *manifest)
{
    const char *why = lt_netns_missing();
    if (why)
        cr_skip_test("SKIPPED LOUDLY: %s (CAP_NET_ADMIN needed): arping over a TAP was NOT tested",
                     why);
    char out[16384], ns[64];
    snprintf(ns, sizeof(ns), "lyraarp%d", getpid());
    const char *b = env("LYRA_BUILD_DIR");
    int st = sh(out, sizeof(out),
                "set -e; ip netns add %s; trap 'ip netns del %s' EXIT; "
                "ip -n %s tuntap add lyra0 mode tap; ip -n %s link set lyra0 up; "
                "ip -n %s addr add 192.0.2.1/24 dev lyra0; "
                "ip netns exec %s %s/bin/lyranet run assemblies/%s dev.link=tap:lyra0 "
                "eth.addr=192.0.2.2 --for 8 --stats-json %s/tests/%s.json & pid=$!; "
                "sleep 0.5; ip netns exec %s arping -c 3 -w 6 -I lyra0 192.0.2.2; r=$?; "
                "kill -TERM $pid; wait $pid; exit $r",
                ns, ns, ns, ns, ns, ns, b, manifest, b, ns, ns);
    cr_assert_eq(st, 0, "arping failed:\n%s", out);
    cr_assert(strstr(out, "Received 3 response(s)") || strstr(out, "Received 3 reply"),
              "expected 3 replies:\n%s", out);
    cr_assert(strstr(out, "Unicast reply from 192.0.2.2"), "%s", out);
    char json[512];
    snprintf(json, sizeof(json), "%s/tests/%s.json", b, ns);
    cr_assert_eq(sh(out, sizeof(out), "python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
                                      "print(d[\"eth\"][\"arp_replies_sent\"] >= 3)' %s", json), 0, "%s", out);
    cr_assert_str_eq(out, "True\n");
    unlink(json);
}

Test(nics, linux_arping_gets_replies_through_ne2000_on_a_tap, .timeout = 60)
{
    arping_against("eth-pio.lyra");
}

Test(nics, linux_arping_gets_replies_through_e1000_on_a_tap, .timeout = 60)
{
    arping_against("eth-dma.lyra");
}

/* The rx_ link parameters (os 2.1) go through the same checks as the tx
 * ones: `lyranet check` names FILE:LINE for each bad one on both models,
 * accepts good ones, and an override that is out of range names itself. */
Test(nics, check_refuses_bad_rx_impairment_with_file_and_line)
{
    char path[128], out[8192];
    snprintf(path, sizeof(path), "/tmp/lyra-rxchk-%d.lyra", (int)getpid());
    const char *bin = env("LYRA_BUILD_DIR");
    /* copy-pio (ne2k) and copy-dma (e1000), each with bad rx_ lines after [dev] */
    const char *cases[][2] = {{"copy-pio.lyra", "ne2k"}, {"copy-dma.lyra", "e1000"}};
    for (unsigned c = 0; c < 2; c++) {
        cr_assert_eq(sh(out, sizeof(out),
                        "sed '/^\\[dev\\]/a rx_loss = 150%%\\nrx_delay = soon\\nrx_rate = -5\\n"
                        "rx_corrupt = 2x\\nrx_reorder_depth = 0' assemblies/%s > %s",
                        cases[c][0], path),
                     0, "%s", out);
        int line = 0;
        char want[5][200];
        cr_assert_eq(sh(out, sizeof(out), "grep -n '^\\[dev\\]' %s | cut -d: -f1", path), 0);
        line = atoi(out);
        cr_assert_gt(line, 0);
        snprintf(want[0], 200, "%s:%d: error: dev.rx_loss: '150%%' out of range", path, line + 1);
        snprintf(want[1], 200, "%s:%d: error: dev.rx_delay: expected a duration", path, line + 2);
        snprintf(want[2], 200, "%s:%d: error: dev.rx_rate: '-5' out of range", path, line + 3);
        snprintf(want[3], 200, "%s:%d: error: dev.rx_corrupt: expected a percentage", path,
                 line + 4);
        snprintf(want[4], 200, "%s:%d: error: dev.rx_reorder_depth: '0' out of range", path,
                 line + 5);
        cr_assert_eq(sh(out, sizeof(out), "'%s/bin/lyranet' check %s", bin, path), 1,
                     "%s (%s)", out, cases[c][1]);
        for (unsigned k = 0; k < 5; k++)
            cr_assert(strstr(out, want[k]), "%s: no '%s' in:\n%s", cases[c][1], want[k], out);
        cr_assert(strstr(out, "5 errors"), "%s", out);
        /* good values pass */
        cr_assert_eq(sh(out, sizeof(out),
                        "sed '/^\\[dev\\]/a rx_loss = 0.5%%\\nrx_dup = 5%%\\nrx_reorder = 1%%\\n"
                        "rx_corrupt = 0.1%%\\nrx_reorder_depth = 4\\nrx_delay = 20ms\\n"
                        "rx_rate = 1000000' assemblies/%s > %s && '%s/bin/lyranet' check %s",
                        cases[c][0], path, bin, path),
                     0, "%s: %s", cases[c][1], out);
    }
    unlink(path);
    cr_assert_eq(sh(out, sizeof(out), "'%s/bin/lyranet' run assemblies/copy-pio.lyra "
                                      "dev.rx_dup=101%% --for 0",
                    bin),
                 1, "%s", out);
    cr_assert(strstr(out, "dev.rx_dup"), "the override names itself: %s", out);
}
