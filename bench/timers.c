/* Cost of timers and of an idle loop step, for callgrind (bench/timers.sh).
 *
 *   timers rearm N R   arm N timers of os_posix (deadlines spread over a
 *                      minute), then re-arm R of them, picked at random, for
 *                      200 ms .. 1.2 s ahead, as TCP re-arms its
 *                      retransmission timer on every ACK. rearm_phase is
 *                      the part to count (--toggle-collect=rearm_phase).
 *   timers idle K      the static eth-fake assembly started and idle (ARP
 *                      timer armed, no frame waiting), then K lyra_stack_poll
 *                      steps in idle_phase.
 *
 * The program counts nothing itself: instructions per operation are
 * callgrind's count of the phase divided by R or K. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lt.h"
#include "lyra/os.h"
#include "lyra/stack.h"

extern const struct lyra_component lyra_component_os_posix;
int lyra_assembly_eth_fake_create(const char *const *overrides, struct lyra_stack **out);

static void never(void *ctx, struct lyra_timer *t)
{
    (void)ctx;
    (void)t;
    fprintf(stderr, "a timer ran during the benchmark\n");
    exit(3);
}

static uint64_t rng = 0x9e3779b97f4a7c15u;
static uint64_t next_rand(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng;
}

__attribute__((noinline)) static void rearm_phase(const struct lyra_os_ops *o, void *os,
                                                 struct lyra_timer *t, long n, long r,
                                                 uint64_t base)
{
    for (long i = 0; i < r; i++) {
        uint64_t x = next_rand();
        /* time moves on a little with every ACK */
        o->timer_arm(os, &t[x % (uint64_t)n],
                     base + (uint64_t)i * 1000 + 200000000u + (x >> 34) % 1000000000u);
    }
}

__attribute__((noinline)) static void idle_phase(struct lyra_stack *s, long k)
{
    for (long i = 0; i < k; i++)
        lyra_stack_poll(s);
}

static int rearm(long n, long r)
{
    struct lt_inst *os = lt_create(&lyra_component_os_posix, (const char *[]){"seed=1", NULL});
    if (!os || lt_start(os))
        return 2;
    const struct lyra_os_ops *o = lt_ops(os, LYRA_OS_IFACE);
    struct lyra_timer *t = calloc((size_t)n, sizeof(*t));
    if (!t)
        return 2;
    uint64_t base = o->now_ns(os->self) + 10ull * 1000000000u; /* nothing due while we run */
    for (long i = 0; i < n; i++) {
        lyra_timer_init(&t[i], never, NULL);
        o->timer_arm(os->self, &t[i], base + next_rand() % (60ull * 1000000000u));
    }
    rearm_phase(o, os->self, t, n, r, base);
    for (long i = 0; i < n; i++)
        o->timer_cancel(os->self, &t[i]);
    free(t);
    lt_destroy(os);
    printf("rearm: %ld timers armed, %ld re-arms\n", n, r);
    return 0;
}

static int idle(long k)
{
    struct lyra_stack *s;
    if (lyra_assembly_eth_fake_create((const char *const[]){"os.seed=1", NULL}, &s) ||
        lyra_stack_start(s))
        return 2;
    for (int i = 0; i < 100; i++) /* settle: start-up work done */
        lyra_stack_poll(s);
    idle_phase(s, k);
    lyra_stack_destroy(s);
    printf("idle: %ld poll steps\n", k);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "rearm") && atol(argv[2]) > 0 && atol(argv[3]) > 0)
        return rearm(atol(argv[2]), atol(argv[3]));
    if (argc == 3 && !strcmp(argv[1], "idle") && atol(argv[2]) > 0)
        return idle(atol(argv[2]));
    fprintf(stderr, "usage: %s rearm N R | idle K\n", argv[0]);
    return 1;
}
