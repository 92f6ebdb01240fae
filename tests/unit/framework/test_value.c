/* The parameter value parser shared by manifests, overrides and codegen. */
#include <criterion/criterion.h>
#include <errno.h>

#include "lyra/value.h"

static struct lyra_value v;
static char err[256];

static int parse(enum lyra_ptype t, const char *s, int64_t min, int64_t max)
{
    return lyra_value_parse(t, s, min, max, &v, err, sizeof(err));
}

Test(value, integers)
{
    cr_assert_eq(parse(LYRA_P_INT, "42", 0, -1), 0);
    cr_assert_eq(v.u.i, 42);
    cr_assert_eq(parse(LYRA_P_INT, "-7", 0, -1), 0);
    cr_assert_eq(v.u.i, -7);
    cr_assert_eq(parse(LYRA_P_INT, "0x2a", 0, -1), 0);
    cr_assert_eq(v.u.i, 42);
    cr_assert_eq(parse(LYRA_P_INT, "4x", 0, -1), -EINVAL);
    cr_assert_eq(parse(LYRA_P_INT, "", 0, -1), -EINVAL);
    cr_assert_eq(parse(LYRA_P_INT, "99999999999999999999", 0, -1), -ERANGE);
    cr_assert_eq(parse(LYRA_P_INT, "9223372036854775807", 0, -1), 0);
    cr_assert_eq(parse(LYRA_P_INT, "-9223372036854775808", 0, -1), 0);
    cr_assert_eq(v.u.i, INT64_MIN);
    cr_assert_eq(parse(LYRA_P_INT, "9223372036854775808", 0, -1), -ERANGE);
    cr_assert_eq(parse(LYRA_P_INT, "5", 1, 4), -ERANGE);
    cr_assert(strstr(err, "out of range 1..4"), "%s", err);
}

Test(value, sizes_percent_durations)
{
    cr_assert_eq(parse(LYRA_P_SIZE, "64k", 0, -1), 0);
    cr_assert_eq(v.u.i, 65536);
    cr_assert_eq(parse(LYRA_P_SIZE, "2M", 0, -1), 0);
    cr_assert_eq(v.u.i, 2 << 20);
    cr_assert_eq(parse(LYRA_P_SIZE, "1.5k", 0, -1), -EINVAL);
    cr_assert_eq(parse(LYRA_P_PERCENT, "5%", 0, 1000000), 0);
    cr_assert_eq(v.u.i, 50000);
    cr_assert_eq(parse(LYRA_P_PERCENT, "0.5%", 0, 1000000), 0);
    cr_assert_eq(v.u.i, 5000);
    cr_assert_eq(parse(LYRA_P_PERCENT, "0.0001%", 0, 1000000), 0);
    cr_assert_eq(v.u.i, 1);
    cr_assert_eq(parse(LYRA_P_PERCENT, "0.00001%", 0, 1000000), -EINVAL);
    cr_assert_eq(parse(LYRA_P_PERCENT, "5", 0, 1000000), -EINVAL);
    cr_assert_eq(parse(LYRA_P_PERCENT, "200%", 0, 1000000), -ERANGE);
    cr_assert_eq(parse(LYRA_P_DURATION, "250ms", 0, -1), 0);
    cr_assert_eq(v.u.i, 250000000);
    cr_assert_eq(parse(LYRA_P_DURATION, "30s", 0, -1), 0);
    cr_assert_eq(v.u.i, 30000000000);
    cr_assert_eq(parse(LYRA_P_DURATION, "10", 0, -1), 0);
    cr_assert_eq(v.u.i, 10000000, "bare number is ms");
    cr_assert_eq(parse(LYRA_P_DURATION, "10 parsecs", 0, -1), -EINVAL);
}

Test(value, addresses)
{
    cr_assert_eq(parse(LYRA_P_MAC, "02:00:00:aa:BB:0f", 0, -1), 0);
    cr_assert_eq(v.u.mac[3], 0xaa);
    cr_assert_eq(v.u.mac[5], 0x0f);
    cr_assert_eq(parse(LYRA_P_MAC, "02:00:00:aa:bb", 0, -1), -EINVAL);
    cr_assert_eq(parse(LYRA_P_MAC, "02:00:00:aa:bb:cc:dd", 0, -1), -EINVAL);
    cr_assert_eq(parse(LYRA_P_IPV4, "192.0.2.2", 0, -1), 0);
    cr_assert_eq(v.u.ip.addr, 0xc0000202u);
    cr_assert_eq(parse(LYRA_P_IPV4, "192.0.2.256", 0, -1), -EINVAL);
    cr_assert_eq(parse(LYRA_P_IPV4, "192.0.2", 0, -1), -EINVAL);
    cr_assert_eq(parse(LYRA_P_PREFIX, "192.0.2.2/24", 0, -1), 0);
    cr_assert_eq(v.u.ip.len, 24);
    cr_assert_eq(parse(LYRA_P_PREFIX, "192.0.2.2/33", 0, -1), -ERANGE);
    cr_assert_eq(parse(LYRA_P_PREFIX, "192.0.2.2", 0, -1), -EINVAL);
    cr_assert_eq(parse(LYRA_P_PREFIX, "192.0.2.2/-1", 0, -1), -EINVAL);
}

Test(value, bools_and_unset)
{
    cr_assert_eq(parse(LYRA_P_BOOL, "on", 0, -1), 0);
    cr_assert(v.u.b);
    cr_assert_eq(parse(LYRA_P_BOOL, "no", 0, -1), 0);
    cr_assert_not(v.u.b);
    cr_assert_eq(parse(LYRA_P_BOOL, "maybe", 0, -1), -EINVAL);
    cr_assert_eq(parse(LYRA_P_MAC, NULL, 0, -1), 0);
    cr_assert_not(v.set);
}

Test(value, format_round_trips)
{
    const struct {
        enum lyra_ptype t;
        const char *s;
    } cases[] = {{LYRA_P_PERCENT, "0.5%"}, {LYRA_P_PERCENT, "12%"}, {LYRA_P_SIZE, "64k"},
                 {LYRA_P_DURATION, "250ms"}, {LYRA_P_MAC, "02:00:00:00:00:01"},
                 {LYRA_P_PREFIX, "192.0.2.2/24"}, {LYRA_P_BOOL, "on"}, {LYRA_P_INT, "-3"}};
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[64];
        cr_assert_eq(parse(cases[i].t, cases[i].s, 0, -1), 0);
        lyra_value_format(&v, buf, sizeof(buf));
        cr_assert_str_eq(buf, cases[i].s);
    }
}
