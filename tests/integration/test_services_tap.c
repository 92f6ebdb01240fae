/* The services over tcp against the Linux kernel (issue 10.7's interop
 * with curl and nc): each stack's static binary (copy-pio, copy-dma, zc-pio,
 * zc-dma: lt_asm.h) on a TAP in a
 * network namespace of the test's own (lyrasvc<PID>, deleted on every path
 * by a trap) at 192.0.2.2/24 with every service, Linux at 192.0.2.1/24.
 * curl gets exactly 10,000,000 bytes of /bytes/N and reuses its connection;
 * nc and Python talk to echo; 50 MB go into discard; chargen's lines reach
 * Linux; stall blocks Linux's sends. The Linux side's checks are in
 * svc_linux_client.py.
 *
 * Needs root (CAP_NET_ADMIN for the namespace and the TAP): without it each
 * test is skipped loudly, naming what was not tested. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lt.h"
#include "lt_asm.h"

static const char *env(const char *n)
{
    const char *s = getenv(n);
    cr_assert(s, "%s is not set (run through ctest)", n);
    return s;
}

static char out[64 * 1024];

/* Runs BODY (a shell fragment: $B the build directory, $C the client
 * script, "ns" runs a command in the namespace) with the stack up and
 * serving; the stack is stopped with SIGTERM afterwards and must exit 0.
 * Returns BODY's status (90s: the set-up failed); `out` has all output. */
static int with_stack(const char *stack, const char *what, const char *body_fmt, ...)
{
    const char *why = lt_netns_missing();
    if (why)
        cr_skip_test("SKIPPED LOUDLY: %s (CAP_NET_ADMIN needed for a network namespace and a "
                     "TAP): %s on %s was NOT tested", why, what, stack);
    char body[2048];
    va_list ap;
    va_start(ap, body_fmt);
    vsnprintf(body, sizeof(body), body_fmt, ap);
    va_end(ap);
    const char *b = env("LYRA_BUILD_DIR");
    char ns[64], script[512];
    snprintf(ns, sizeof(ns), "lyrasvc%d", getpid());
    snprintf(script, sizeof(script), "%s/tests/%s.sh", b, ns);
    FILE *f = fopen(script, "w");
    cr_assert(f, "cannot write %s", script);
    fprintf(f,
            "set -u\nNS=%s; B='%s'; C='%s/tests/integration/svc_linux_client.py'; spid=''\n"
            "cleanup() {\n"
            "  if [ -n \"$spid\" ]; then kill -TERM $spid 2>/dev/null; wait $spid; fi\n"
            "  ip netns del $NS 2>/dev/null; rm -f $B/tests/$NS.bin\n"
            "}\n"
            "trap cleanup EXIT\ntrap 'exit 99' INT TERM\n"
            "ns() { ip netns exec $NS \"$@\"; }\n"
            "ip netns add $NS || exit 90\n"
            "ip -n $NS link set lo up || exit 91\n"
            "ip -n $NS tuntap add lyra0 mode tap || exit 92\n"
            "ip -n $NS link set lyra0 up || exit 93\n"
            "ip -n $NS addr add 192.0.2.1/24 dev lyra0 || exit 94\n"
            "ip netns exec $NS $B/bin/lyra-%s dev.link=tap:lyra0 ip.addr=192.0.2.2/24 "
            "--services echo,discard,chargen,http,stall --for 200 > $B/tests/$NS.log 2>&1 &\n"
            "spid=$!\n"
            "for i in $(seq 100); do\n"
            "  ip -n $NS link show lyra0 | grep -q NO-CARRIER || break; sleep 0.05\n"
            "done\n"
            "sleep 0.3\n"
            "body() {\n%s\n}\nbody\nr=$?\n"
            "kill -TERM $spid; wait $spid; echo \"STACK_EXIT=$?\"; spid=''\n"
            "cat $B/tests/$NS.log; rm -f $B/tests/$NS.log\nexit $r\n",
            ns, b, env("LYRA_SOURCE_DIR"), stack, body);
    fclose(f);
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "bash '%s' 2>&1", script);
    FILE *p = popen(cmd, "r");
    cr_assert(p);
    size_t n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = 0;
    int st = pclose(p);
    unlink(script);
    if (getenv("LYRA_TEST_VERBOSE")) /* what the commands said, for a human */
        fprintf(stderr, "--- %s %s: status %d\n%s", ns, stack, st, out);
    cr_expect(strstr(out, "STACK_EXIT=0"), "the stack did not stop cleanly:\n%s", out);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

#define BOTH(name) LT_EACH_ASSEMBLY(services_tap, name, .disabled = 0)

TestSuite(services_tap, .timeout = 180);

/* curl, nc and Python echo, discard and chargen against Linux are
 * test_tcp_tap's (with lyra-ttcp both ways, closes and impairment): what
 * is left here is the services' own case. */
BOTH(stall_blocks_linux_sends)
static void stall_blocks_linux_sends(const char *stack)
{
    int st = with_stack(stack, "stall to Linux", "ns python3 $C stall\n");
    cr_assert_eq(st, 0, "%s", out);
    cr_assert(strstr(out, "stall ok: sends blocked after"), "%s", out);
}
