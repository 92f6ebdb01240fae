/* RFC 6298's arithmetic: the first sample, the smoothed ones, the minimum
 * and maximum, granularity, backoff and its end at a new sample. */
#include <criterion/criterion.h>

#include "tcp_rto.h"

static const struct tcp_rto_limits L = {
    .min_us = 1000000, .max_us = 60000000, .init_us = 1000000, .g_us = 1000};

Test(tcp_rto, before_any_sample_the_rto_is_one_second)
{
    struct tcp_rto r;
    tcp_rto_init(&r, &L);
    cr_assert_eq(r.rto, 1000000, "(2.1)");
    cr_assert_eq(r.srtt, 0);
}

Test(tcp_rto, the_first_sample_sets_srtt_and_half_of_it_as_rttvar)
{
    const struct tcp_rto_limits fast = {.min_us = 1000, .max_us = 60000000, .init_us = 1000000,
                                        .g_us = 100};
    struct tcp_rto r;
    tcp_rto_init(&r, &fast);
    tcp_rto_sample(&r, &fast, 100000); /* 100 ms */
    cr_assert_eq(r.srtt, 100000, "(2.2) SRTT = R");
    cr_assert_eq(r.rttvar, 50000, "(2.2) RTTVAR = R/2");
    cr_assert_eq(r.rto, 100000 + 4 * 50000, "(2.2) RTO = SRTT + max(G, 4 RTTVAR)");
}

Test(tcp_rto, later_samples_smooth_rttvar_before_srtt)
{
    const struct tcp_rto_limits fast = {.min_us = 1000, .max_us = 60000000, .init_us = 1000000,
                                        .g_us = 100};
    struct tcp_rto r;
    tcp_rto_init(&r, &fast);
    tcp_rto_sample(&r, &fast, 80000);
    tcp_rto_sample(&r, &fast, 160000);
    /* RTTVAR = 3/4 * 40000 + 1/4 * |80000 - 160000| = 50000 (with the old
     * SRTT), then SRTT = 7/8 * 80000 + 1/8 * 160000 = 90000 */
    cr_assert_eq(r.rttvar, 50000);
    cr_assert_eq(r.srtt, 90000);
    cr_assert_eq(r.rto, 290000);
    /* a steady RTT: rttvar decays, srtt converges */
    for (int i = 0; i < 200; i++)
        tcp_rto_sample(&r, &fast, 100000);
    cr_assert(r.srtt >= 99990 && r.srtt <= 100000, "srtt %u", r.srtt);
    cr_assert(r.rttvar < 100, "rttvar %u", r.rttvar);
    cr_assert_eq(r.rto, r.srtt + fast.g_us, "granularity floors K*RTTVAR: %u", r.rto);
}

Test(tcp_rto, the_minimum_and_maximum_hold)
{
    struct tcp_rto r;
    tcp_rto_init(&r, &L);
    tcp_rto_sample(&r, &L, 2000); /* 2 ms on a LAN: the 1 s minimum (2.4) */
    cr_assert_eq(r.rto, 1000000);
    /* 50 s (2.3): RTTVAR = 3/4 1000 + 1/4 |2000 - 50e6| = 12,500,250, SRTT =
     * 7/8 2000 + 1/8 50e6 = 6,251,750, RTO = SRTT + 4 RTTVAR = 56,252,750:
     * under the 60 s cap, as computed */
    tcp_rto_sample(&r, &L, 50000000);
    cr_assert_eq(r.rto, 56252750u);
    /* 59 s next: SRTT + 4 RTTVAR would be some 103 s; 60 s at most (2.5) */
    tcp_rto_sample(&r, &L, 59000000);
    cr_assert_eq(r.rto, 60000000);
    struct tcp_rto big;
    tcp_rto_init(&big, &L);
    tcp_rto_sample(&big, &L, 4000000000u); /* no overflow in SRTT + 4 RTTVAR */
    cr_assert_eq(big.rto, 60000000);
}

Test(tcp_rto, backoff_doubles_to_the_maximum_and_a_new_sample_ends_it)
{
    struct tcp_rto r;
    tcp_rto_init(&r, &L);
    uint32_t want = 1000000;
    for (int i = 0; i < 10; i++) {
        tcp_rto_backoff(&r, &L);
        want = want * 2 > 60000000 ? 60000000 : want * 2;
        cr_assert_eq(r.rto, want, "(5.5) after %d expiries", i + 1);
    }
    cr_assert_eq(r.backoff, 10);
    tcp_rto_sample(&r, &L, 300000);
    cr_assert_eq(r.backoff, 0);
    cr_assert_eq(r.rto, 1000000, "computed afresh from the sample (min 1 s)");
}
