/* IPv4, ICMP and UDP against the Linux kernel: the stack (the static
 * binaries build/bin/lyra-copy-pio and lyra-copy-dma, i.e. the NE2000 and
 * the e1000) on a TAP in a network namespace of the test's own
 * (lyraip<PID>, deleted on every path by a trap), Linux at 192.0.2.1/24 on
 * the TAP, the stack at 192.0.2.2/24 with the echo service. Linux pings
 * (plain, fragmented, flood), talks UDP echo (Python sockets, socat), sees
 * port unreachable; and the other way, lyra-ping pings Linux and a UDP
 * echo server in the namespace. Every test runs for both assemblies.
 *
 * Needs root (CAP_NET_ADMIN for the namespace and the TAP): without it each
 * test is skipped loudly, naming what was not tested. */
#include <criterion/criterion.h>

#include "lt.h"
#include <criterion/hooks.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *env(const char *n)
{
    const char *s = getenv(n);
    cr_assert(s, "%s is not set (run through ctest)", n);
    return s;
}

#define OUT_MAX (256 * 1024)
static char out[OUT_MAX];

/* Runs a shell command in the source directory; its output (stdout and
 * stderr) in `out`; returns its exit status. */
static int run(char *o, size_t olen, const char *cmd)
{
    char full[8192];
    snprintf(full, sizeof(full), "cd '%s' && (%s) 2>&1", env("LYRA_SOURCE_DIR"), cmd);
    FILE *p = popen(full, "r");
    cr_assert(p, "popen");
    size_t n = 0, k;
    char buf[4096];
    o[0] = 0;
    while ((k = fread(buf, 1, sizeof(buf), p)) > 0)
        if (n + 1 < olen) {
            size_t c = k < olen - n - 1 ? k : olen - n - 1;
            memcpy(o + n, buf, c);
            n += c;
            o[n] = 0;
        }
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void need_root(const char *what)
{
    const char *why = lt_netns_missing();
    if (why)
        cr_skip_test("SKIPPED LOUDLY: %s (CAP_NET_ADMIN needed for a network namespace "
                     "and a TAP): %s was NOT tested",
                     why, what);
}

static int have(const char *tool)
{
    char cmd[256], o[256];
    snprintf(cmd, sizeof(cmd), "command -v %s", tool);
    return run(o, sizeof(o), cmd) == 0;
}

static char json_path[512];

/* Runs BODY (a shell fragment; $NS is the namespace, $B the build
 * directory; "ns" prefixes a command with ip netns exec; it is a shell
 * function: it ends with `return`, and background PIDs it adds to $pids
 * are killed at the end; a background command is started with "ip netns
 * exec $NS" itself, not "ns", so that $! is its PID) with Linux on the
 * TAP lyra0 at 192.0.2.1/24 in a fresh namespace. When stack is given
 * ("copy-pio", "copy-dma"), build/bin/lyra-STACK runs there in the
 * background first, at 192.0.2.2/24 with the echo service, writing its
 * counters to json_path when it is stopped with SIGTERM after BODY. The
 * script is written to a file, so BODY needs no quoting; a trap kills what
 * was started (by PID) and deletes the namespace on every path. Returns
 * BODY's exit status (90s: the set-up failed); `out` has everything. */
static int in_namespace(const char *stack, const char *body_fmt, ...)
{
    char body[4096];
    va_list ap;
    va_start(ap, body_fmt);
    vsnprintf(body, sizeof(body), body_fmt, ap);
    va_end(ap);
    const char *b = env("LYRA_BUILD_DIR");
    char ns[64], script[512];
    snprintf(ns, sizeof(ns), "lyraip%d", getpid());
    snprintf(script, sizeof(script), "%s/tests/%s.sh", b, ns);
    snprintf(json_path, sizeof(json_path), "%s/tests/%s.json", b, ns);
    unlink(json_path);
    FILE *f = fopen(script, "w");
    cr_assert(f, "cannot write %s", script);
    fprintf(f,
            "set -u\n"
            "NS=%s; B='%s'; J='%s'\n"
            "pids=''; spid=''\n"
            "cleanup() {\n"
            "  for p in $pids $spid; do kill -TERM $p 2>/dev/null; wait $p 2>/dev/null; done\n"
            "  ip netns del $NS 2>/dev/null\n"
            "  if [ -s $B/tests/$NS.log ]; then echo '--- the stack said:'; cat $B/tests/$NS.log; fi\n"
            "  rm -f $B/tests/$NS.log $B/tests/$NS.srv\n"
            "}\n"
            "trap cleanup EXIT\n"
            "trap 'exit 99' INT TERM\n"
            "ns() { ip netns exec $NS \"$@\"; }\n"
            "ip netns add $NS || exit 90\n"
            "ip -n $NS link set lo up || exit 91\n"
            "ip -n $NS tuntap add lyra0 mode tap || exit 92\n"
            "ip -n $NS link set lyra0 up || exit 93\n"
            "ip -n $NS addr add 192.0.2.1/24 dev lyra0 || exit 94\n",
            ns, b, json_path);
    if (stack) {
        fprintf(f,
                /* not through the function ns: $! must be the stack's own PID
                 * (ip netns exec execs it) */
                "ip netns exec $NS $B/bin/lyra-%s dev.link=tap:lyra0 ip.addr=192.0.2.2/24 --services echo "
                "--for 100 --stats-json $J > $B/tests/$NS.log 2>&1 &\n"
                "spid=$!\n"
                /* up when the TAP has a reader (carrier), services a moment later */
                "for i in $(seq 100); do\n"
                "  ip -n $NS link show lyra0 | grep -q NO-CARRIER || break; sleep 0.05\n"
                "done\n"
                "if ip -n $NS link show lyra0 | grep -q NO-CARRIER; then\n"
                "  echo 'the stack never opened the TAP'; exit 95\n"
                "fi\n"
                "sleep 0.3\n",
                stack);
    }
    /* a function, not a subshell: what it starts goes into $pids */
    fprintf(f, "body() {\n%s\n}\nbody\nr=$?\n", body);
    if (stack)
        fprintf(f, "kill -TERM $spid; wait $spid; echo \"STACK_EXIT=$?\"; spid=''\n");
    fprintf(f, "exit $r\n");
    fclose(f);
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "bash '%s'", script);
    int st = run(out, sizeof(out), cmd);
    unlink(script);
    if (getenv("LYRA_TEST_VERBOSE")) /* what the commands said, for a human */
        fprintf(stderr, "--- %s %s: status %d\n%s", ns, stack ? stack : "", st, out);
    /* the namespace is gone whatever happened */
    char o[512], chk[256];
    snprintf(chk, sizeof(chk), "ip netns list | grep -w %s", ns);
    cr_expect_neq(run(o, sizeof(o), chk), 0, "namespace %s was left behind", ns);
    if (stack)
        cr_expect(strstr(out, "STACK_EXIT=0"), "the stack did not stop cleanly on SIGTERM:\n%s",
                  out);
    return st;
}

/* A counter from the stack's --stats-json file. */
static unsigned long long counter(const char *inst, const char *name)
{
    char cmd[1024], o[512];
    snprintf(cmd, sizeof(cmd),
             "python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
             "print(d[sys.argv[2]][sys.argv[3]])' '%s' %s %s",
             json_path, inst, name);
    int st = run(o, sizeof(o), cmd);
    cr_assert_eq(st, 0, "no counter %s.%s in %s: %s", inst, name, json_path, o);
    return strtoull(o, NULL, 10);
}

/* skb in_use from the stats file less the buffers posted on the NIC's
 * receive ring (nic_dma, netdev 1.1: the driver's until it stops), written
 * before the instances stopped: what a leak would leave. */
static unsigned long long skb_leaked(void)
{
    char cmd[1024], o[512];
    snprintf(cmd, sizeof(cmd),
             "python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
             "print(d[\"skb\"][\"in_use\"] - d[\"nic\"].get(\"rx_posted\", 0))' '%s'",
             json_path);
    int st = run(o, sizeof(o), cmd);
    cr_assert_eq(st, 0, "no skb.in_use in %s: %s", json_path, o);
    return strtoull(o, NULL, 10);
}

/* "N packets transmitted, M received" of ping's summary. */
static void ping_summary(const char *text, long *tx, long *rx)
{
    const char *p = strstr(text, "packets transmitted");
    cr_assert(p, "no ping summary in:\n%s", text);
    while (p > text && p[-1] != '\n')
        p--;
    cr_assert_eq(sscanf(p, "%ld packets transmitted, %ld received", tx, rx), 2,
                 "cannot read the ping summary:\n%s", text);
}

#define BOTH(name, timeout_s)                                                                   \
    static void name(const char *stack);                                                        \
    Test(ipv4, name##_copy_pio, .timeout = timeout_s) { name("copy-pio"); }                     \
    Test(ipv4, name##_copy_dma, .timeout = timeout_s) { name("copy-dma"); }

/* ----- 1. Linux pings the stack ------------------------------------------ */

BOTH(linux_ping_gets_5_replies, 90)
static void linux_ping_gets_5_replies(const char *stack)
{
    need_root("Linux ping -c 5 against the stack on a TAP");
    int st = in_namespace(stack, "ns ping -c 5 -i 0.2 -W 2 192.0.2.2");
    cr_assert_eq(st, 0, "ping failed (%d):\n%s", st, out);
    long tx, rx;
    ping_summary(out, &tx, &rx);
    cr_assert_eq(tx, 5);
    cr_assert_eq(rx, 5, "%ld of 5 replies:\n%s", rx, out);
    cr_assert(strstr(out, "64 bytes from 192.0.2.2: icmp_seq=5"), "%s", out);
    cr_expect_geq(counter("ip", "icmp_echo_requests"), 5);
    cr_expect_geq(counter("ip", "icmp_echo_replies"), 5);
    cr_expect_eq(counter("ip", "rx_csum"), 0);
    cr_expect_eq(skb_leaked(), 0, "skb leak after the stack stopped");
    unlink(json_path);
}

/* ----- 2. fragmented both ways ------------------------------------------- */

BOTH(linux_ping_3000_bytes_fragmented_both_ways, 90)
static void linux_ping_3000_bytes_fragmented_both_ways(const char *stack)
{
    need_root("Linux ping -s 3000 (reassembly and fragmented replies) over a TAP");
    int st = in_namespace(stack, "ns ping -c 3 -s 3000 -i 0.2 -W 2 192.0.2.2");
    cr_assert_eq(st, 0, "ping -s 3000 failed (%d):\n%s", st, out);
    long tx, rx;
    ping_summary(out, &tx, &rx);
    cr_assert_eq(tx, 3);
    cr_assert_eq(rx, 3, "%ld of 3 replies:\n%s", rx, out);
    /* Linux reassembled our fragmented reply: the whole 3008 bytes came */
    cr_assert(strstr(out, "3008 bytes from 192.0.2.2"), "%s", out);
    cr_expect_geq(counter("ip", "reass_ok"), 3, "the requests were reassembled");
    cr_expect_geq(counter("ip", "tx_fragmented"), 3, "the replies were fragmented");
    cr_expect_geq(counter("ip", "tx_fragments"), 9, "3028 bytes at MTU 1500: 3 fragments each");
    cr_expect_eq(counter("ip", "reass_timeout"), 0);
    cr_expect_eq(skb_leaked(), 0, "skb leak after the stack stopped");
    cr_expect_eq(counter("skb", "big_in_use"), 0);
    unlink(json_path);
}

/* ----- 3. flood ----------------------------------------------------------- */

BOTH(linux_flood_ping_loses_under_1_percent, 120)
static void linux_flood_ping_loses_under_1_percent(const char *stack)
{
    need_root("Linux flood ping (ping -f -c 1000) against the stack on a TAP");
    int st = in_namespace(stack, "ns ping -f -c 1000 -W 1 -w 60 192.0.2.2 | tail -4");
    long tx, rx;
    ping_summary(out, &tx, &rx);
    cr_assert_eq(tx, 1000, "ping -f sent %ld (status %d):\n%s", tx, st, out);
    double loss = 100.0 * (double)(tx - rx) / (double)tx;
    cr_assert_lt(loss, 1.0, "flood ping lost %.1f%% (%ld of %ld):\n%s", loss, tx - rx, tx, out);
    cr_expect_geq(counter("ip", "icmp_echo_requests"), (unsigned long long)rx);
    cr_expect_eq(skb_leaked(), 0, "skb leak after the stack stopped");
    unlink(json_path);
}

/* ----- 4. UDP echo: Python sockets and socat ------------------------------ */

BOTH(linux_udp_echo_python_and_socat, 90)
static void linux_udp_echo_python_and_socat(const char *stack)
{
    need_root("UDP echo (port 7) from Linux sockets to the stack on a TAP");
    int socat = have("socat");
    int st = in_namespace(stack,
                          "ns python3 tests/integration/udp_echo_client.py echo 192.0.2.2 7 "
                          "1 100 1472 4000 8000 1 || return 1\n"
                          "%s",
                          socat ? "echo hello | ns socat -t 2 - UDP:192.0.2.2:7" : "true");
    cr_assert_eq(st, 0, "UDP echo failed (%d):\n%s", st, out);
    const char *sizes[] = {"echo 1 ok", "echo 100 ok", "echo 1472 ok", "echo 4000 ok",
                           "echo 8000 ok"};
    for (unsigned i = 0; i < sizeof(sizes) / sizeof(*sizes); i++)
        cr_assert(strstr(out, sizes[i]), "missing '%s':\n%s", sizes[i], out);
    cr_expect_geq(counter("udp", "rx_datagrams"), 5 + (socat ? 1 : 0));
    cr_expect_geq(counter("udp", "tx_datagrams"), 5 + (socat ? 1 : 0));
    cr_expect_geq(counter("ip", "reass_ok"), 2, "4000 and 8000 bytes came in fragments");
    cr_expect_geq(counter("ip", "tx_fragmented"), 2, "and went back in fragments");
    cr_expect_eq(counter("udp", "rx_bad_csum"), 0);
    cr_expect_eq(skb_leaked(), 0, "skb leak after the stack stopped");
    unlink(json_path);
    if (!socat)
        cr_skip_test("SKIPPED LOUDLY: socat is not installed: UDP echo with socat was NOT tested "
                     "(Python sockets were)");
    cr_assert(strstr(out, "hello\n"), "socat did not get hello back:\n%s", out);
}

/* ----- 5. port unreachable ------------------------------------------------ */

BOTH(linux_sees_port_unreachable, 90)
static void linux_sees_port_unreachable(const char *stack)
{
    need_root("ICMP port unreachable from the stack to Linux over a TAP");
    int nstat = have("nstat");
    int st = in_namespace(stack,
                          "ns python3 tests/integration/udp_echo_client.py refused 192.0.2.2 9999 "
                          "|| return 1\n"
                          "%s",
                          nstat ? "ns nstat -asz IcmpInDestUnreachs" : "true");
    cr_assert_eq(st, 0, "no ECONNREFUSED (%d):\n%s", st, out);
    cr_assert(strstr(out, "ECONNREFUSED"), "%s", out);
    cr_expect_geq(counter("udp", "no_port"), 1);
    cr_expect_geq(counter("ip", "icmp_out_errors"), 1);
    cr_expect_eq(skb_leaked(), 0, "skb leak after the stack stopped");
    unlink(json_path);
    if (!nstat)
        cr_skip_test("SKIPPED LOUDLY: nstat (iproute2) missing: Linux's IcmpInDestUnreachs was "
                     "NOT checked (ECONNREFUSED was)");
    const char *p = strstr(out, "IcmpInDestUnreachs");
    cr_assert(p, "nstat printed no IcmpInDestUnreachs:\n%s", out);
    cr_assert_geq(strtol(p + strlen("IcmpInDestUnreachs"), NULL, 10), 1, "%s", out);
}

/* ----- 6. the other way: lyra-ping pings Linux ---------------------------- */

BOTH(lyra_ping_pings_linux_icmp_and_udp, 120)
static void lyra_ping_pings_linux_icmp_and_udp(const char *stack)
{
    need_root("lyra-ping (ICMP and UDP echo) from the stack to Linux over a TAP");
    char lp[1024];
    snprintf(lp, sizeof(lp),
             "ns $B/bin/lyra-ping -i 0.2 -W 2 --stack assemblies/%s.lyra dev.link=tap:lyra0 "
             "ip.addr=192.0.2.2/24",
             stack);
    int st = in_namespace(
        NULL,
        "echo '== icmp 56'; %s -c 3 192.0.2.1 || return 1\n"
        "echo '== icmp 3000'; %s -c 3 -s 3000 192.0.2.1 || return 2\n"
        "ip netns exec $NS python3 tests/integration/udp_echo_client.py server 192.0.2.1 7 60 \\\n"
        "    > $B/tests/$NS.srv &\n"
        "pids=\"$!\"\n"
        "for i in $(seq 100); do grep -q ready $B/tests/$NS.srv 2>/dev/null && break; sleep 0.05; done\n"
        "echo '== udp 56'; %s -c 3 -u 7 192.0.2.1 || return 3\n"
        "echo '== udp 3000'; %s -c 3 -u 7 -s 3000 192.0.2.1 || return 4\n",
        lp, lp, lp, lp);
    cr_assert_eq(st, 0, "lyra-ping failed (step %d):\n%s", st, out);
    const char *steps[] = {"== icmp 56", "== icmp 3000", "== udp 56", "== udp 3000"};
    for (unsigned i = 0; i < 4; i++) {
        const char *p = strstr(out, steps[i]);
        cr_assert(p, "no output of step %s:\n%s", steps[i], out);
        cr_assert(strstr(p, "3 packets transmitted, 3 received, 0 corrupt"),
                  "step %s: not 3 intact replies:\n%s", steps[i], out);
    }
    cr_assert(strstr(out, "64 bytes from 192.0.2.1: icmp_seq=2"), "%s", out);
    cr_assert(strstr(out, "3008 bytes from 192.0.2.1: icmp_seq=2"), "%s", out);
    cr_assert(strstr(out, "56 bytes from 192.0.2.1: udp_seq=2"), "%s", out);
    cr_assert(strstr(out, "3000 bytes from 192.0.2.1: udp_seq=2"), "%s", out);
}
