/* CUBIC (RFC 9438) as the connection drives it: congestion events and
 * round trips of ACKs on a simulated clock, cwnd checked against the RFC's
 * formulas computed here in floating point (the algorithm uses integers). */
#include <criterion/criterion.h>
#include <math.h>

#include "tcp_cc.h"

#define MSS 1448u
#define C 0.4
#define BETA 0.7

static struct tcp_cc cc_new(void)
{
    struct tcp_cc cc;
    tcp_cc_init(&cc, &tcp_cc_cubic, MSS);
    return cc;
}

/* One round trip of `rtt` ms: an ACK per segment of the window, spread
 * over it. */
static void round_trip(struct tcp_cc *cc, uint32_t *now, uint32_t *una, uint32_t rtt)
{
    uint32_t segs = cc->cwnd / MSS;
    uint32_t start = *now;
    for (uint32_t k = 0; k < segs; k++) {
        *una += MSS;
        struct tcp_cc_ack a = {.acked = MSS, .snd_una = *una, .flight = cc->cwnd,
                               .now_ms = start + rtt * (k + 1) / segs, .rtt_ms = rtt};
        cr_assert_eq(tcp_cc_on_ack(cc, &a), 0);
    }
    *now = start + rtt;
}

/* RFC 9438 Figure 1, in segments */
static double w_cubic(double t_s, double k_s, double wmax)
{
    return C * pow(t_s - k_s, 3) + wmax;
}

Test(tcp_cc_cubic, congestion_event_cuts_to_beta_and_remembers_w_max)
{
    struct tcp_cc cc = cc_new();
    cr_assert_str_eq(cc.ops->name, "cubic");
    cc.cwnd = 100 * MSS;
    cr_assert_eq(tcp_cc_on_dupack(&cc, 3, 0, 100 * MSS, 100 * MSS, 0), TCP_CC_RETRANSMIT);
    cr_assert_eq(cc.ssthresh, 70 * MSS, "4.6: ssthresh = FlightSize * 0.7");
    cr_assert_eq(cc.cwnd, 73 * MSS, "NewReno's recovery: ssthresh + 3 SMSS");
    cr_assert_eq(cc.priv[0], 100 * MSS, "W_max = cwnd at the event");
    /* 4.7 fast convergence: the next event below W_max lowers it further */
    /* the full ACK with as much again still out: cwnd = ssthresh (RFC 6582 3.2 (4)) */
    struct tcp_cc_ack a = {.acked = 100 * MSS, .snd_una = 100 * MSS, .flight = 200 * MSS};
    tcp_cc_on_ack(&cc, &a);
    cr_assert_eq(cc.cwnd, 70 * MSS);
    tcp_cc_enter_recovery(&cc, 200 * MSS, 80 * MSS, 10);
    cr_assert_eq(cc.priv[0], 70 * MSS * 17 / 20, "W_max = cwnd (1 + beta) / 2");
    cr_assert_eq(cc.ssthresh, 56 * MSS);
    cr_assert_eq(cc.cwnd, 56 * MSS, "SACK recovery: cwnd = ssthresh");
}

/* 4.2: after the cut the window is concave up to W_max at t = K, flat
 * about it, convex beyond; K = cbrt(W_max (1 - beta) / C). */
Test(tcp_cc_cubic, window_follows_the_cubic_curve)
{
    struct tcp_cc cc = cc_new();
    cc.cwnd = 100 * MSS;
    uint32_t now = 1000, una = 0, rtt = 100;
    tcp_cc_enter_recovery(&cc, 100 * MSS, 100 * MSS, now);
    struct tcp_cc_ack a = {.acked = MSS, .snd_una = 100 * MSS, .flight = 100 * MSS, .now_ms = now,
                           .rtt_ms = rtt, .sack = 1};
    tcp_cc_on_ack(&cc, &a); /* recovery ends */
    una = 100 * MSS;
    double k = cbrt(100 * (1 - BETA) / C);
    cr_assert_float_eq(k, 4.2172, 1e-3);
    uint32_t t0 = now;
    double worst = 0;
    for (int r = 0; r < 70; r++) {
        round_trip(&cc, &now, &una, rtt);
        double t = (now - t0) / 1000.0;
        double want = w_cubic(t, k, 100);
        double got = (double)cc.cwnd / MSS;
        /* cwnd aims one RTT ahead (4.4, 4.5); a window behind by an ACK
         * round is within a few segments */
        double err = fabs(got - want) / want;
        if (err > worst)
            worst = err;
        if (fabs(t - k) < 0.06)
            cr_assert(fabs(got - 100) < 3, "at t = K the window is W_max: %.1f", got);
    }
    cr_assert_lt(worst, 0.05, "cwnd strays %.1f%% from W_cubic", worst * 100);
    cr_assert_gt(cc.cwnd, 105 * MSS, "convex beyond K: %u segments at 7 s", cc.cwnd / MSS);
    cr_assert_eq(cc.priv[1], 4217, "K in ms");
}

/* 4.3: with a short RTT Reno outgrows the cubic curve, and CUBIC is never
 * slower than the Reno-friendly estimate: alpha = 9/17 of a segment per
 * RTT until W_est reaches the window before the cut, then one. */
Test(tcp_cc_cubic, short_rtt_is_reno_friendly)
{
    struct tcp_cc cc = cc_new();
    cc.cwnd = 20 * MSS;
    uint32_t now = 0, una = 0, rtt = 1;
    tcp_cc_on_dupack(&cc, 3, 0, 20 * MSS, 20 * MSS, now);
    struct tcp_cc_ack a = {.acked = 20 * MSS, .snd_una = 20 * MSS, .flight = 40 * MSS, .now_ms = now};
    tcp_cc_on_ack(&cc, &a);
    una = 20 * MSS;
    cr_assert_eq(cc.cwnd, 14 * MSS);
    for (int r = 0; r < 200; r++)
        round_trip(&cc, &now, &una, rtt);
    /* W_est: 6 segments at 9/17 per RTT (about 11.3 RTTs), then 1 per RTT */
    double want = 20 + (200 - 6 / (9.0 / 17));
    double got = (double)cc.cwnd / MSS;
    cr_assert(fabs(got - want) / want < 0.05, "cwnd %.1f segments, Reno-friendly %.1f", got, want);
    cr_assert_gt(got, w_cubic(0.2, cbrt(6 / C), 20) + 100, "well above the cubic curve");
}

/* 4.8: after a timeout the first avoidance stage starts with K = 0 and
 * W_max = cwnd at its start: convex growth from there. */
Test(tcp_cc_cubic, after_a_timeout_k_is_zero)
{
    struct tcp_cc cc = cc_new();
    cc.cwnd = 100 * MSS;
    uint32_t now = 0, una = 0, rtt = 100;
    tcp_cc_on_rto(&cc, 100 * MSS, 100 * MSS, 1, now);
    cr_assert_eq(cc.cwnd, MSS);
    cr_assert_eq(cc.ssthresh, 70 * MSS, "ssthresh with beta_cubic");
    while (cc.cwnd < cc.ssthresh) { /* slow start, an ACK at a time */
        struct tcp_cc_ack a = {.acked = MSS, .snd_una = una += MSS, .flight = cc.cwnd,
                               .now_ms = now += 2, .rtt_ms = rtt};
        tcp_cc_on_ack(&cc, &a);
    }
    uint32_t w0 = cc.cwnd;
    struct tcp_cc_ack a = {.acked = MSS, .snd_una = una += MSS, .flight = cc.cwnd, .now_ms = now,
                           .rtt_ms = rtt};
    tcp_cc_on_ack(&cc, &a);
    cr_assert_eq(cc.priv[1], 0, "K = 0");
    cr_assert_eq(cc.priv[0], w0, "W_max = cwnd when avoidance began");
    uint32_t t0 = now;
    for (int r = 0; r < 30; r++)
        round_trip(&cc, &now, &una, rtt);
    double got = (double)cc.cwnd / MSS;
    double want = w_cubic((now - t0) / 1000.0 + rtt / 1000.0, 0, (double)w0 / MSS);
    cr_assert(fabs(got - want) / want < 0.05, "cwnd %.1f, W_cubic %.1f", got, want);
}

/* An idle restart begins a new epoch: t does not run while nothing is sent. */
Test(tcp_cc_cubic, idle_restart_starts_a_new_epoch)
{
    struct tcp_cc cc = cc_new();
    cc.cwnd = 50 * MSS;
    uint32_t now = 0, una = 0, rtt = 100;
    tcp_cc_enter_recovery(&cc, 50 * MSS, 50 * MSS, now);
    struct tcp_cc_ack a = {.acked = MSS, .snd_una = 50 * MSS, .flight = MSS, .sack = 1};
    tcp_cc_on_ack(&cc, &a);
    una = 50 * MSS;
    round_trip(&cc, &now, &una, rtt);
    uint32_t epoch = cc.priv[2];
    now += 60000; /* a minute of silence */
    tcp_cc_on_idle_restart(&cc, now);
    cr_assert_eq(cc.cwnd, 3 * MSS, "RFC 5681 4.1: restart window");
    cc.cwnd = cc.ssthresh; /* as if slow start had run back up */
    uint32_t before = cc.cwnd;
    round_trip(&cc, &now, &una, rtt);
    cr_assert_neq(cc.priv[2], epoch, "a new epoch");
    cr_assert_lt(cc.cwnd, before + before / 10, "no jump from a minute of idle time: %u -> %u",
                 before / MSS, cc.cwnd / MSS);
}

Test(tcp_cc_cubic, windows_never_wrap)
{
    struct tcp_cc cc = cc_new();
    cc.ssthresh = 1000 * MSS;
    cc.cwnd = UINT32_MAX - 100;
    uint32_t now = 0;
    for (int k = 0; k < 100; k++) {
        struct tcp_cc_ack a = {.acked = 60000, .snd_una = 0, .flight = cc.cwnd, .now_ms = now += 999,
                               .rtt_ms = 5000};
        tcp_cc_on_ack(&cc, &a);
        cr_assert_geq(cc.cwnd, UINT32_MAX - 100);
    }
    cc.cwnd = UINT32_MAX;
    tcp_cc_on_rto(&cc, 0, UINT32_MAX, 1, now);
    cr_assert_eq(cc.cwnd, MSS);
    cr_assert_eq(cc.ssthresh, (uint32_t)((uint64_t)UINT32_MAX * 7 / 10));
}
