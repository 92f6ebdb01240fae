/* The IP transports' shared helpers (lyra/l4_ip.h): the ICMP error map
 * and the endpoint options every IP endpoint keeps (issue 8.5). */
#include <criterion/criterion.h>
#include <errno.h>

#include "lyra/l4_ip.h"

Test(l4_ip, icmp_errors_map_as_linux_with_portable_errnos)
{
    cr_assert_eq(lyra_l4_icmp_errno(3, 0), ENETUNREACH);
    cr_assert_eq(lyra_l4_icmp_errno(3, 2), ENOPROTOOPT, "protocol unreachable");
    cr_assert_eq(lyra_l4_icmp_errno(3, 3), ECONNREFUSED);
    cr_assert_eq(lyra_l4_icmp_errno(3, 4), EMSGSIZE, "fragmentation needed (RFC 1191)");
    cr_assert_eq(lyra_l4_icmp_errno(3, 8), EHOSTUNREACH, "Linux's ENONET, made portable");
    cr_assert_eq(lyra_l4_icmp_errno(3, 16), 0, "unknown code: ignored");
    cr_assert_eq(lyra_l4_icmp_errno(4, 0), 0, "source quench: nothing (RFC 6633)");
}

Test(l4_ip, options_start_at_the_defaults)
{
    struct lyra_l4_ipopts o;
    lyra_l4_ipopts_init(&o);
    int v = 99;
    cr_assert_eq(lyra_l4_ipopt_get(&o, LYRA_SO_ERROR, &v, 64), 0);
    cr_assert_eq(v, 0);
    cr_assert_eq(lyra_l4_ipopt_get(&o, LYRA_IP_TTL, &v, 64), 0);
    cr_assert_eq(v, 64, "no TTL of its own: the default the transport gives");
    cr_assert_eq(lyra_l4_ipopt_get(&o, LYRA_SO_LINGER, &v, 64), 0);
    cr_assert_eq(v, -1, "SO_LINGER off");
    cr_assert_eq(lyra_l4_ipopt_get(&o, LYRA_SO_BROADCAST, &v, 64), 1, "not a shared option");
}

Test(l4_ip, ttl_tos_and_linger_follow_linux_rules)
{
    struct lyra_l4_ipopts o;
    lyra_l4_ipopts_init(&o);
    int v;
    cr_assert_eq(lyra_l4_ipopt_set(&o, LYRA_IP_TTL, 7), 0);
    lyra_l4_ipopt_get(&o, LYRA_IP_TTL, &v, 64);
    cr_assert_eq(v, 7);
    cr_assert_eq(lyra_l4_ipopt_set(&o, LYRA_IP_TTL, 0), -EINVAL, "RFC 1122 3.2.1.7: never TTL 0");
    cr_assert_eq(lyra_l4_ipopt_set(&o, LYRA_IP_TTL, 256), -EINVAL);
    cr_assert_eq(lyra_l4_ipopt_set(&o, LYRA_IP_TTL, -1), 0, "-1: the default again");
    cr_assert_eq(o.ttl, 0);
    cr_assert_eq(lyra_l4_ipopt_set(&o, LYRA_IP_TOS, 0xb8), 0);
    cr_assert_eq(o.tos, 0xb8);
    cr_assert_eq(lyra_l4_ipopt_set(&o, LYRA_IP_TOS, 256), -EINVAL);
    cr_assert_eq(lyra_l4_ipopt_set(&o, LYRA_SO_LINGER, 0), 0, "0: close aborts");
    cr_assert_eq(o.linger, 0);
    cr_assert_eq(lyra_l4_ipopt_set(&o, LYRA_SO_LINGER, -2), -EINVAL);
    cr_assert_eq(lyra_l4_ipopt_set(&o, LYRA_SO_ERROR, 1), -ENOPROTOOPT, "read-only");
    cr_assert_eq(lyra_l4_ipopt_set(&o, LYRA_SO_REUSEADDR, 1), 1, "the transport's own");
}

Test(l4_ip, a_pending_error_is_reported_once)
{
    struct lyra_l4_ipopts o;
    lyra_l4_ipopts_init(&o);
    o.err = ECONNREFUSED;
    cr_assert_eq(lyra_l4_take_err(&o), -ECONNREFUSED);
    cr_assert_eq(lyra_l4_take_err(&o), 0);
    o.err = EHOSTUNREACH;
    int v;
    cr_assert_eq(lyra_l4_ipopt_get(&o, LYRA_SO_ERROR, &v, 0), 0);
    cr_assert_eq(v, EHOSTUNREACH);
    cr_assert_eq(o.err, 0, "SO_ERROR clears it");
}
