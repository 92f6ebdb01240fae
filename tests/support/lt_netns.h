/* Tests against the Linux kernel on a TAP in a network namespace of the
 * test's own (test_ipv4, test_tcp_tap): the namespace, named with a prefix
 * and the test's PID, holds the TAP lyra0 with Linux at 192.0.2.1/24; a
 * static assembly binary (build/bin/lyra-STACK) may run there at
 * 192.0.2.2/24 with some services; a shell fragment then runs there, and
 * everything started is killed (by PID) and the namespace deleted (by name)
 * on every path. Uses Criterion (asserts, skips): link lyra_test_netns. */
#ifndef LYRA_TEST_LT_NETNS_H
#define LYRA_TEST_LT_NETNS_H

#include <stdarg.h>
#include <stddef.h>

#define LT_NS_OUT_MAX (512 * 1024)
/* What the last lt_ns_run's commands said (stdout and stderr). */
extern char lt_ns_out[LT_NS_OUT_MAX];
/* The stack's --stats-json file of the last lt_ns_run with a stack. */
extern char lt_ns_json[512];

/* An environment variable ctest sets (asserts it is set). */
const char *lt_env(const char *name);

/* Runs a shell command in the source directory; its output (stdout and
 * stderr, truncated to olen - 1) in o; returns its exit status (128 +
 * signal when killed). */
int lt_sh(char *o, size_t olen, const char *cmd);

/* Skips the test loudly (naming `what` was not tested) unless the process
 * can create a namespace and a TAP (lt_netns_missing). */
void lt_need_netns(const char *what);

/* Whether a command is on the PATH. */
int lt_have(const char *tool);

struct lt_ns_opts {
    const char *prefix;   /* namespace name: PREFIX<PID> */
    const char *stack;    /* "copy-pio", ...: build/bin/lyra-STACK runs; NULL: none */
    const char *services; /* --services LIST (default "echo") */
    const char *args;     /* more INSTANCE.PARAM=VALUE overrides for the stack, or NULL */
    int for_s;            /* --for SECONDS (default 100), a bound if stopping fails */
};

/* Runs BODY (printf-style; a shell function body: $NS is the namespace, $B
 * the build directory, $L the stack's log file, $T a prefix for scratch
 * files ($T.in, $T.out, ...: deleted at the end); `ns CMD` runs CMD in the
 * namespace; background PIDs added to $pids are killed at the end, and a
 * background command is started with "ip netns exec $NS" itself, not
 * "ns", so that $! is its PID) with Linux on the TAP lyra0 at
 * 192.0.2.1/24 in a fresh namespace. With a stack, it runs first in the
 * background and is stopped with SIGTERM after BODY, writing its counters
 * to lt_ns_json; the test expects it to exit 0 ("STACK_EXIT=0" in the
 * output). Returns BODY's exit status (90s: the set-up failed); lt_ns_out
 * has everything. Expects that the namespace is gone afterwards. */
int lt_ns_run(const struct lt_ns_opts *o, const char *body_fmt, ...)
    __attribute__((format(printf, 2, 3)));
int lt_ns_vrun(const struct lt_ns_opts *o, const char *body_fmt, va_list ap);

/* A counter from lt_ns_json: d[inst][name] (asserts it is there). */
unsigned long long lt_ns_counter(const char *inst, const char *name);

/* skb in_use from lt_ns_json less the buffers posted on the NIC's receive
 * ring (nic_dma, netdev 1.1: the driver's until it stops) and those tcp's
 * connections still hold in their queues (skbs_held: one still closing
 * under loss), written before the instances stopped: what a leak would
 * leave. */
unsigned long long lt_ns_skb_leaked(void);

#endif
