/* route.c alone: longest prefix match over connected, gateway and host
 * routes. */
#include <criterion/criterion.h>
#include <errno.h>

#include "ip_test_util.h"
#include "route.h"

#define GW IP(192, 0, 2, 254)

Test(route, connected_and_default)
{
    struct route mem[4];
    struct route_table t;
    route_init(&t, mem, 4);
    cr_assert_null(route_lookup(&t, LINUX_IP));
    cr_assert_eq(route_add(&t, STACK_IP, 24, 0, STACK_IP), 0); /* masked to .0/24 */
    cr_assert_eq(t.r[0].dst, IP(192, 0, 2, 0));
    const struct route *r = route_lookup(&t, LINUX_IP);
    cr_assert_not_null(r);
    cr_assert_eq(route_next_hop(r, LINUX_IP), LINUX_IP);
    cr_assert_null(route_lookup(&t, IP(198, 51, 100, 7)));
    cr_assert_eq(route_add(&t, 0, 0, GW, STACK_IP), 0);
    r = route_lookup(&t, IP(198, 51, 100, 7));
    cr_assert_not_null(r);
    cr_assert_eq(route_next_hop(r, IP(198, 51, 100, 7)), GW);
    /* the subnet is still on-link: longer prefix wins over the default */
    r = route_lookup(&t, IP(192, 0, 2, 77));
    cr_assert_eq(route_next_hop(r, IP(192, 0, 2, 77)), IP(192, 0, 2, 77));
}

Test(route, longest_prefix_wins_in_any_order)
{
    struct route mem[8];
    struct route_table t;
    route_init(&t, mem, 8);
    /* added from the most specific down, then the reverse: same answers */
    for (int pass = 0; pass < 2; pass++) {
        route_init(&t, mem, 8);
        uint32_t d[4] = {IP(198, 51, 100, 7), IP(198, 51, 100, 0), IP(198, 51, 0, 0), 0};
        unsigned pl[4] = {32, 24, 16, 0};
        uint32_t gw[4] = {IP(192, 0, 2, 10), IP(192, 0, 2, 11), IP(192, 0, 2, 12), GW};
        for (int k = 0; k < 4; k++) {
            int i = pass ? 3 - k : k;
            cr_assert_eq(route_add(&t, d[i], pl[i], gw[i], STACK_IP), 0);
        }
        cr_assert_eq(route_lookup(&t, IP(198, 51, 100, 7))->gw, IP(192, 0, 2, 10));
        cr_assert_eq(route_lookup(&t, IP(198, 51, 100, 8))->gw, IP(192, 0, 2, 11));
        cr_assert_eq(route_lookup(&t, IP(198, 51, 7, 1))->gw, IP(192, 0, 2, 12));
        cr_assert_eq(route_lookup(&t, IP(203, 0, 113, 1))->gw, GW);
        cr_assert_eq(route_lookup(&t, IP(198, 51, 100, 7))->plen, 32);
    }
}

Test(route, add_del_errors)
{
    struct route mem[2];
    struct route_table t;
    route_init(&t, mem, 2);
    cr_assert_eq(route_add(&t, 0, 33, 0, 0), -EINVAL);
    cr_assert_eq(route_add(&t, IP(10, 0, 0, 0), 8, 0, 0), 0);
    cr_assert_eq(route_add(&t, IP(10, 9, 9, 9), 8, 0, 0), -EEXIST); /* same after masking */
    cr_assert_eq(route_add(&t, IP(10, 1, 0, 0), 16, 0, 0), 0);
    cr_assert_eq(route_add(&t, IP(10, 2, 0, 0), 16, 0, 0), -ENOSPC);
    cr_assert_eq(route_lookup(&t, IP(10, 1, 2, 3))->plen, 16);
    cr_assert_eq(route_del(&t, IP(10, 1, 0, 0), 16), 0);
    cr_assert_eq(route_del(&t, IP(10, 1, 0, 0), 16), -ENOENT);
    cr_assert_eq(route_del(&t, 0, 40), -ENOENT);
    cr_assert_eq(route_lookup(&t, IP(10, 1, 2, 3))->plen, 8);
    cr_assert_eq(route_del(&t, IP(10, 0, 0, 0), 8), 0);
    cr_assert_null(route_lookup(&t, IP(10, 1, 2, 3)));
    struct route_table none;
    route_init(&none, NULL, 5);
    cr_assert_eq(route_add(&none, 0, 0, GW, 0), -ENOSPC);
}
