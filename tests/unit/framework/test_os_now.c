/* lyra_now (lyra/os.h): the components' clock is the provider's step
 * clock (os 2.4 step_now_ns) when it has one, now_ns otherwise: a provider
 * of an older minor, or one that leaves the op NULL, is read as before. */
#include <criterion/criterion.h>
#include <stddef.h>

#include "lyra/os.h"

static uint64_t exact_ns(void *self)
{
    (void)self;
    return 1000;
}

static uint64_t step_ns(void *self)
{
    (void)self;
    return 2000;
}

Test(os_now, lyra_now_reads_the_step_clock_of_a_2_4_provider)
{
    struct lyra_os_ops ops = {.hdr = LYRA_OPS_HDR(LYRA_OS_IFACE, 2, 4, struct lyra_os_ops),
                              .now_ns = exact_ns, .step_now_ns = step_ns};
    struct lyra_os os = {&ops, NULL};
    cr_assert_eq(lyra_now(&os), 2000);
}

Test(os_now, lyra_now_reads_now_ns_without_a_step_clock)
{
    struct lyra_os_ops ops = {.hdr = LYRA_OPS_HDR(LYRA_OS_IFACE, 2, 4, struct lyra_os_ops),
                              .now_ns = exact_ns};
    struct lyra_os os = {&ops, NULL};
    cr_assert_eq(lyra_now(&os), 1000, "a NULL step_now_ns was called");
}

Test(os_now, lyra_now_ignores_the_op_of_an_older_provider)
{
    /* a 2.3 provider's table ends at page_swap: what lies beyond is not
     * its (here: a stale pointer) */
    struct lyra_os_ops ops = {.hdr = LYRA_OPS_HDR(LYRA_OS_IFACE, 2, 3, struct lyra_os_ops),
                              .now_ns = exact_ns, .step_now_ns = step_ns};
    ops.hdr.size = (uint32_t)offsetof(struct lyra_os_ops, step_now_ns);
    struct lyra_os os = {&ops, NULL};
    cr_assert_eq(lyra_now(&os), 1000);
    ops.hdr.size = (uint32_t)sizeof(ops);
    ops.hdr.minor = 3;
    cr_assert_eq(lyra_now(&os), 1000, "minor 3 has no step clock");
}
