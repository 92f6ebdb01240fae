/* Path MTU discovery against Linux (issue 11.3, RFC 1191): the stack
 * (build/bin/lyra-copy-dma and lyra-copy-pio with their http service) at
 * 192.0.2.2/25 on the TAP of a namespace of the test's own (lyrapmtu<PID>),
 * whose Linux forwards as a router (192.0.2.1/25 on the TAP) to a peer in a
 * second namespace (lyrapmtu<PID>p, 192.0.2.130/25) over a veth whose
 * router end has MTU 1280. The peer's own link is 1500, so it announces
 * MSS 1460 and our full segments (1500 bytes, DF) cannot pass the router:
 * Linux's forwarding sends the real ICMP "fragmentation needed", next-hop
 * MTU 1280. curl in the peer's namespace fetches 4 MB from our http
 * service: it must arrive whole (the pattern checked) and the stack must
 * have believed the ICMP (ip pmtu_updates, tcp pmtu_lowered). Both
 * namespaces are deleted on every path.
 *
 * Needs root (namespaces, the TAP, a veth) and curl: skipped loudly
 * otherwise. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lt.h"
#include "lt_netns.h"

#define OUT lt_ns_out
#define PEER "python3 tests/integration/tcp_peer.py"
#define BYTES 4000000

/* The router and the peer, made in the body (the peer's namespace goes
 * with the EXIT trap, before lt_netns's own cleanup). */
#define ROUTER_AND_PEER                                                                         \
    "P=${NS}p\n"                                                                                \
    "trap 'ip netns del $P 2>/dev/null; cleanup' EXIT\n"                                        \
    "ip netns add $P || return 80\n"                                                            \
    "ip -n $P link set lo up\n"                                                                 \
    "ns sysctl -qw net.ipv4.ip_forward=1 || return 81\n"                                       \
    "ip -n $NS addr del 192.0.2.1/24 dev lyra0 && ip -n $NS addr add 192.0.2.1/25 dev lyra0\n"  \
    "ip -n $NS link add vr type veth peer name vp netns $P || return 82\n"                      \
    "ip -n $NS addr add 192.0.2.129/25 dev vr\n"                                                \
    "ip -n $NS link set vr mtu 1280 up\n"                                                       \
    "ip -n $P addr add 192.0.2.130/25 dev vp\n"                                                 \
    "ip -n $P link set vp mtu 1500 up\n"                                                        \
    "ip -n $P route add default via 192.0.2.129 || return 83\n"                                 \
    "pn() { ip netns exec $P \"$@\"; }\n"                                                       \
    "pn ping -c 1 -W 3 192.0.2.2 > /dev/null || { echo 'no path to the stack'; return 84; }\n"

static void pmtu_curl(const char *stack)
{
    lt_need_netns("path MTU discovery through a Linux router (curl of 4 MB over a 1280 link)");
    if (!lt_have("curl"))
        cr_skip_test("SKIPPED LOUDLY: curl is not installed: path MTU discovery was NOT tested");
    char ns[64];
    snprintf(ns, sizeof(ns), "lyrapmtu%dp", (int)getpid());
    int st = lt_ns_run(
        &(struct lt_ns_opts){.prefix = "lyrapmtu",
                             .stack = stack,
                             .services = "http",
                             .args = "ip.addr=192.0.2.2/25 ip.gateway=192.0.2.1",
                             .for_s = 120},
        ROUTER_AND_PEER
        "pn curl -sS --max-time 30 -o $T.dl -w 'curl: %%{size_download} bytes in "
        "%%{time_total} s, http %%{http_code}\\n' http://192.0.2.2/bytes/%d || return 1\n"
        PEER " bytes $T.dl %d || return 2\n"
        "echo \"router: $(ns nstat -az IcmpOutDestUnreachs 2>/dev/null | "
        "awk '/IcmpOutDestUnreachs/ {print $2}') destination unreachable sent\"\n",
        BYTES, BYTES);
    cr_assert_eq(st, 0, "the transfer failed (%d):\n%s", st, OUT);
    char want[128];
    snprintf(want, sizeof(want), "curl: %d bytes in", BYTES);
    cr_assert(strstr(OUT, want), "%s", OUT);
    snprintf(want, sizeof(want), "bytes: %d of %d bytes", BYTES, BYTES);
    cr_assert(strstr(OUT, want), "%s", OUT);
    char chk[128], o[256];
    snprintf(chk, sizeof(chk), "ip netns list | grep -w %s", ns);
    cr_expect_neq(lt_sh(o, sizeof(o), chk), 0, "namespace %s was left behind", ns);
    /* the stack heard Linux's fragmentation needed and believed it */
    cr_expect_geq(lt_ns_counter("ip", "icmp_in_frag_needed"), 1, "%s", OUT);
    cr_expect_geq(lt_ns_counter("ip", "pmtu_updates"), 1, "ip recorded no path MTU");
    cr_expect_geq(lt_ns_counter("tcp", "pmtu_lowered"), 1, "tcp lowered no MSS");
    cr_expect_eq(lt_ns_counter("tcp", "icmp_errors_bad_seq"), 0);
    cr_expect_eq(lt_ns_counter("tcp", "rx_bad_csum"), 0);
    cr_expect_eq(lt_ns_skb_leaked(), 0, "skb leak after the stack stopped");
    const char *c = strstr(OUT, "curl: ");
    printf("[pmtu_tap] %s: %.*s; icmp_in_frag_needed %llu, pmtu_updates %llu, "
           "pmtu_lowered %llu, tx_retrans_segs %llu\n",
           stack, c ? (int)strcspn(c, "\n") : 0, c ? c : "", lt_ns_counter("ip", "icmp_in_frag_needed"),
           lt_ns_counter("ip", "pmtu_updates"), lt_ns_counter("tcp", "pmtu_lowered"),
           lt_ns_counter("tcp", "tx_retrans_segs"));
    fflush(stdout);
}

static void drop_json(void)
{
    if (lt_ns_json[0])
        unlink(lt_ns_json);
}

Test(pmtu_tap, curl_through_a_1280_link_copy_dma, .timeout = 60, .fini = drop_json)
{
    pmtu_curl("copy-dma");
}

Test(pmtu_tap, curl_through_a_1280_link_copy_pio, .timeout = 60, .fini = drop_json)
{
    pmtu_curl("copy-pio");
}
