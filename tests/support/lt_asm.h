/* The assemblies the suites run on (issue 12.5): the paper's four stacks,
 * copy-pio, copy-dma, zc-pio and zc-dma, listed once here.
 *
 *   LT_EACH_ASSEMBLY(SUITE, FN, opts...): one Criterion test per assembly,
 *   SUITE/FN_copy_pio, FN_copy_dma, FN_zc_pio, FN_zc_dma, each calling
 *   FN("copy-pio") ... (static void FN(const char *stack), defined after).
 *   LT_COPY_ASSEMBLIES: the copy ones only, for the long impairment and
 *   timing cases that zero copy does not change (CI's time budget).
 *   LT_ZC_ASSEMBLIES: the zc ones only; LT_PIO_ASSEMBLIES: the NE2000 ones.
 *   LT_EACH_PAIR(SUITE, FN, opts...): two stacks talking, FN(a, b) for
 *   SUITE/FN_copy (copy-pio, copy-dma), FN_zc (zc-pio, zc-dma) and the
 *   mixed pairs FN_zc_pio_copy_dma and FN_copy_pio_zc_dma (a the PIO stack
 *   at 192.0.2.2, b the DMA one at 192.0.2.3); LT_COPY_AND_ZC_PAIRS: the
 *   first two only (the longer impairment cases).
 *
 * Every test of a zero-copy assembly has "zc" in its name, so ctest runs
 * them as entries of their own (a filter on "zc"), and skips loudly
 * (lt_need_assembly: exit 77) while assemblies/NAME.lyra does not exist.
 * opts: at least one Criterion test option (e.g. .timeout = 60). */
#ifndef LYRA_TEST_LT_ASM_H
#define LYRA_TEST_LT_ASM_H

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lyra/stack.h"

/* A stopped stack's leak check: in_use (its skb.in_use) less the skbs its
 * NIC holds on its rings (receive buffers posted, frames sent just before
 * the stop and not yet given back by a poll; nic_dma only). */
static inline uint64_t lt_skbs_left(struct lyra_stack *s, uint64_t in_use)
{
    uint64_t posted = lyra_stack_counter(s, "nic", "rx_posted");
    uint64_t tx_held = lyra_stack_counter(s, "nic", "tx_pending");
    if (posted != UINT64_MAX)
        in_use -= posted;
    if (tx_held != UINT64_MAX)
        in_use -= tx_held;
    return in_use;
}

/* Skips the test, saying why, when assemblies/NAME.lyra is missing. */
static inline void lt_need_assembly(const char *name)
{
    const char *src = getenv("LYRA_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof(path), "%s/assemblies/%s.lyra", src ? src : ".", name);
    if (access(path, R_OK))
        cr_skip_test("SKIPPED LOUDLY: assemblies/%s.lyra does not exist: not tested on %s", name,
                     name);
}

/* A pair's addresses, set by override on both stacks whatever their
 * manifests say (zc-pio and zc-dma are 192.0.2.4 and .5 by default, so
 * that all four stacks can share a wire): a 192.0.2.2, b 192.0.2.3. */
#define LT_AS_A "ip.addr=192.0.2.2/24"
#define LT_AS_B "ip.addr=192.0.2.3/24"

#define LT_ASM_TEST_(suite, fn, id, stack, ...)                                                 \
    Test(suite, fn##_##id, __VA_ARGS__)                                                          \
    {                                                                                            \
        lt_need_assembly(stack);                                                                 \
        fn(stack);                                                                               \
    }

#define LT_COPY_ASSEMBLIES(suite, fn, ...)                                                      \
    static void fn(const char *stack);                                                           \
    LT_ASM_TEST_(suite, fn, copy_pio, "copy-pio", __VA_ARGS__)                                   \
    LT_ASM_TEST_(suite, fn, copy_dma, "copy-dma", __VA_ARGS__)

#define LT_ZC_ASSEMBLIES(suite, fn, ...)                                                        \
    static void fn(const char *stack);                                                           \
    LT_ASM_TEST_(suite, fn, zc_pio, "zc-pio", __VA_ARGS__)                                       \
    LT_ASM_TEST_(suite, fn, zc_dma, "zc-dma", __VA_ARGS__)

/* The NE2000 ones (copy-pio, zc-pio): cases about that card or driver. */
#define LT_PIO_ASSEMBLIES(suite, fn, ...)                                                       \
    static void fn(const char *stack);                                                           \
    LT_ASM_TEST_(suite, fn, copy_pio, "copy-pio", __VA_ARGS__)                                   \
    LT_ASM_TEST_(suite, fn, zc_pio, "zc-pio", __VA_ARGS__)

#define LT_EACH_ASSEMBLY(suite, fn, ...)                                                        \
    LT_COPY_ASSEMBLIES(suite, fn, __VA_ARGS__)                                                   \
    LT_ZC_ASSEMBLIES(suite, fn, __VA_ARGS__)

#define LT_PAIR_TEST_(suite, fn, id, sa, sb, ...)                                               \
    Test(suite, fn##_##id, __VA_ARGS__)                                                          \
    {                                                                                            \
        lt_need_assembly(sa);                                                                    \
        lt_need_assembly(sb);                                                                    \
        fn(sa, sb);                                                                              \
    }

#define LT_COPY_AND_ZC_PAIRS(suite, fn, ...)                                                    \
    static void fn(const char *a, const char *b);                                                \
    LT_PAIR_TEST_(suite, fn, copy, "copy-pio", "copy-dma", __VA_ARGS__)                          \
    LT_PAIR_TEST_(suite, fn, zc, "zc-pio", "zc-dma", __VA_ARGS__)

#define LT_EACH_PAIR(suite, fn, ...)                                                            \
    LT_COPY_AND_ZC_PAIRS(suite, fn, __VA_ARGS__)                                                 \
    LT_PAIR_TEST_(suite, fn, zc_pio_copy_dma, "zc-pio", "copy-dma", __VA_ARGS__)                 \
    LT_PAIR_TEST_(suite, fn, copy_pio_zc_dma, "copy-pio", "zc-dma", __VA_ARGS__)

#endif
