/* NewReno (RFC 5681, RFC 6582, RFC 3465) as the connection drives it: each
 * test plays ACKs, duplicate ACKs and timeouts and checks cwnd, ssthresh
 * and the retransmissions asked for against the RFC's arithmetic. */
#include <criterion/criterion.h>

#include "tcp_cc.h"

#define MSS 1460u

static struct tcp_cc cc_new(uint32_t mss)
{
    struct tcp_cc cc;
    tcp_cc_init(&cc, &tcp_cc_newreno, mss);
    return cc;
}

/* an ACK without SACK recovery (the clock plays no part in NewReno) */
static unsigned on_ack(struct tcp_cc *cc, uint32_t acked, uint32_t una, uint32_t flight)
{
    struct tcp_cc_ack a = {.acked = acked, .snd_una = una, .flight = flight};
    return tcp_cc_on_ack(cc, &a);
}

static unsigned on_dupack(struct tcp_cc *cc, unsigned n, uint32_t una, uint32_t nxt, uint32_t flight)
{
    return tcp_cc_on_dupack(cc, n, una, nxt, flight, 0);
}

Test(tcp_cc_newreno, initial_window_follows_rfc5681_3_1)
{
    cr_assert_eq(tcp_cc_initial_window(536), 4 * 536);
    cr_assert_eq(tcp_cc_initial_window(1095), 4 * 1095);
    cr_assert_eq(tcp_cc_initial_window(1096), 3 * 1096);
    cr_assert_eq(tcp_cc_initial_window(1460), 3 * 1460);
    cr_assert_eq(tcp_cc_initial_window(2190), 3 * 2190);
    cr_assert_eq(tcp_cc_initial_window(2191), 2 * 2191);
    struct tcp_cc cc = cc_new(0);
    cr_assert_eq(cc.smss, 536, "no MSS option: 536 (RFC 9293 3.7.1)");
    cr_assert_eq(cc.cwnd, 4 * 536);
    cr_assert_eq(cc.ssthresh, UINT32_MAX);
    cr_assert_str_eq(cc.ops->name, "newreno");
}

Test(tcp_cc_newreno, slow_start_doubles_per_round_trip)
{
    struct tcp_cc cc = cc_new(MSS);
    uint32_t una = 1000;
    for (int rtt = 0; rtt < 4; rtt++) {
        uint32_t w = cc.cwnd, segs = w / MSS;
        /* a round trip: one ACK per segment of the window */
        for (uint32_t i = 0; i < segs; i++) {
            una += MSS;
            cr_assert_eq(on_ack(&cc, MSS, una, w - i * MSS), 0);
        }
        cr_assert_eq(cc.cwnd, 2 * w, "round trip %d: cwnd %u, expected %u", rtt, cc.cwnd, 2 * w);
    }
}

Test(tcp_cc_newreno, slow_start_counts_at_most_two_segments_per_ack)
{
    struct tcp_cc cc = cc_new(MSS);
    uint32_t w = cc.cwnd;
    /* a stretch ACK for 5 segments grows cwnd by 2 SMSS only (RFC 3465 L=2) */
    on_ack(&cc, 5 * MSS, 5 * MSS, w);
    cr_assert_eq(cc.cwnd, w + 2 * MSS);
    /* an ACK for half a segment grows it by that much */
    on_ack(&cc, MSS / 2, 5 * MSS + MSS / 2, w);
    cr_assert_eq(cc.cwnd, w + 2 * MSS + MSS / 2);
}

Test(tcp_cc_newreno, congestion_avoidance_adds_one_segment_per_window)
{
    struct tcp_cc cc = cc_new(MSS);
    cc.ssthresh = 10 * MSS;
    cc.cwnd = 10 * MSS;
    uint32_t una = 0;
    for (int i = 0; i < 9; i++) {
        una += MSS;
        on_ack(&cc, MSS, una, 10 * MSS);
        cr_assert_eq(cc.cwnd, 10 * MSS, "no growth before a window is acked (ack %d)", i);
    }
    una += MSS;
    on_ack(&cc, MSS, una, 10 * MSS);
    cr_assert_eq(cc.cwnd, 11 * MSS);
    /* the next SMSS takes 11 segments' worth */
    for (int i = 0; i < 10; i++)
        on_ack(&cc, MSS, una += MSS, 11 * MSS);
    cr_assert_eq(cc.cwnd, 11 * MSS);
    on_ack(&cc, MSS, una += MSS, 11 * MSS);
    cr_assert_eq(cc.cwnd, 12 * MSS);
}

Test(tcp_cc_newreno, third_duplicate_ack_halves_and_retransmits)
{
    struct tcp_cc cc = cc_new(MSS);
    cc.cwnd = 20 * MSS;
    uint32_t una = 5000, nxt = una + 20 * MSS, flight = 20 * MSS;
    cr_assert_eq(on_dupack(&cc, 1, una, nxt, flight), 0);
    cr_assert_eq(on_dupack(&cc, 2, una, nxt, flight), 0);
    cr_assert_eq(cc.cwnd, 20 * MSS, "two duplicates change nothing (RFC 5681 3.2 (1))");
    cr_assert_eq(on_dupack(&cc, 3, una, nxt, flight), TCP_CC_RETRANSMIT);
    cr_assert_eq(cc.ssthresh, 10 * MSS, "ssthresh = FlightSize / 2");
    cr_assert_eq(cc.cwnd, 13 * MSS, "cwnd = ssthresh + 3 SMSS");
    cr_assert(cc.in_recovery);
    cr_assert_eq(cc.recover, nxt - 1, "recover = highest sequence number sent");
    /* each further duplicate inflates by one SMSS, no retransmission */
    cr_assert_eq(on_dupack(&cc, 4, una, nxt, flight), 0);
    cr_assert_eq(on_dupack(&cc, 5, una, nxt, flight), 0);
    cr_assert_eq(cc.cwnd, 15 * MSS);
}

Test(tcp_cc_newreno, ssthresh_is_at_least_two_segments)
{
    struct tcp_cc cc = cc_new(MSS);
    cr_assert_eq(on_dupack(&cc, 3, 0, 3 * MSS, 3 * MSS), TCP_CC_RETRANSMIT);
    cr_assert_eq(cc.ssthresh, 2 * MSS, "max(FlightSize / 2, 2 SMSS)");
    struct tcp_cc t = cc_new(MSS);
    tcp_cc_on_rto(&t, MSS, MSS, 1, 0);
    cr_assert_eq(t.ssthresh, 2 * MSS);
}

Test(tcp_cc_newreno, partial_acks_retransmit_and_deflate_until_recover_is_acked)
{
    struct tcp_cc cc = cc_new(MSS);
    cc.cwnd = 20 * MSS;
    /* nxt wraps past 2^32, the partial ACKs below stay short of it */
    uint32_t una = 0xffffa000u, nxt = una + 20 * MSS;
    on_dupack(&cc, 3, una, nxt, 20 * MSS);
    for (unsigned d = 4; d <= 8; d++)
        on_dupack(&cc, d, una, nxt, 20 * MSS);
    cr_assert_eq(cc.cwnd, 18 * MSS); /* 10 + 3 + 5 */
    /* RFC 6582 3.2 (5): a partial ACK for 3 segments: deflate by 3 SMSS,
     * add back one, retransmit, stay in recovery */
    una += 3 * MSS;
    cr_assert_eq(on_ack(&cc, 3 * MSS, una, 20 * MSS), TCP_CC_RETRANSMIT);
    cr_assert_eq(cc.cwnd, 16 * MSS);
    cr_assert(cc.in_recovery);
    /* exactly one SMSS acked: deflated by it and it added back */
    una += MSS;
    cr_assert_eq(on_ack(&cc, MSS, una, 17 * MSS), TCP_CC_RETRANSMIT);
    cr_assert_eq(cc.cwnd, 16 * MSS);
    /* less than one SMSS acked: nothing added back */
    una += 100;
    cr_assert_eq(on_ack(&cc, 100, una, 17 * MSS), TCP_CC_RETRANSMIT);
    cr_assert_eq(cc.cwnd, 16 * MSS - 100);
    /* the full ACK (everything up to recover): leave recovery with
     * cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS) */
    uint32_t rest = nxt - una;
    cr_assert_eq(on_ack(&cc, rest, nxt, rest), 0);
    cr_assert(!cc.in_recovery);
    cr_assert_eq(cc.cwnd, 2 * MSS, "nothing left in flight: SMSS + SMSS");
    cr_assert_eq(cc.ssthresh, 10 * MSS);
}

Test(tcp_cc_newreno, full_ack_with_data_still_out_is_capped_by_ssthresh)
{
    struct tcp_cc cc = cc_new(MSS);
    cc.cwnd = 20 * MSS;
    uint32_t una = 0, nxt = 20 * MSS;
    on_dupack(&cc, 3, una, nxt, 20 * MSS);
    /* more was sent during recovery: 30 segments out when recover is acked */
    cr_assert_eq(on_ack(&cc, 20 * MSS, nxt, 50 * MSS), 0);
    cr_assert_eq(cc.cwnd, 10 * MSS, "min(ssthresh, 30 SMSS + SMSS)");
}

Test(tcp_cc_newreno, duplicates_for_data_sent_before_recovery_began_do_not_recover_again)
{
    struct tcp_cc cc = cc_new(MSS);
    cc.cwnd = 20 * MSS;
    uint32_t nxt = 20 * MSS;
    on_dupack(&cc, 3, 0, nxt, 20 * MSS);
    on_ack(&cc, 5 * MSS, 5 * MSS, 20 * MSS); /* partial */
    on_ack(&cc, 15 * MSS, nxt, 15 * MSS);    /* full: out of recovery */
    uint32_t w = cc.cwnd;
    /* RFC 6582 3.2 (2): three duplicates whose ACK does not cover more
     * than recover start no new fast retransmit */
    cc.recover = nxt + 10 * MSS; /* as if more had been sent during recovery */
    cr_assert_eq(on_dupack(&cc, 3, nxt, nxt + 12 * MSS, 12 * MSS), 0);
    cr_assert_eq(cc.cwnd, w);
    cr_assert(!cc.in_recovery);
    /* beyond recover they do */
    uint32_t una = nxt + 11 * MSS;
    cr_assert_eq(on_dupack(&cc, 3, una, una + 8 * MSS, 8 * MSS), TCP_CC_RETRANSMIT);
}

Test(tcp_cc_newreno, timeout_collapses_to_one_segment_and_holds_ssthresh_on_backoff)
{
    struct tcp_cc cc = cc_new(MSS);
    cc.cwnd = 40 * MSS;
    tcp_cc_on_rto(&cc, 40 * MSS, 40 * MSS, 1, 0);
    cr_assert_eq(cc.cwnd, MSS, "loss window (RFC 5681 3.1 (5))");
    cr_assert_eq(cc.ssthresh, 20 * MSS);
    /* the same segment times out again: ssthresh is held */
    tcp_cc_on_rto(&cc, 40 * MSS, MSS, 0, 0);
    cr_assert_eq(cc.ssthresh, 20 * MSS);
    cr_assert_eq(cc.cwnd, MSS);
    /* slow start again up to ssthresh, then linear */
    uint32_t una = 0;
    while (cc.cwnd < cc.ssthresh)
        on_ack(&cc, MSS, una += MSS, cc.cwnd);
    cr_assert_eq(cc.cwnd, 20 * MSS);
    on_ack(&cc, MSS, una += MSS, cc.cwnd);
    cr_assert_eq(cc.cwnd, 20 * MSS, "congestion avoidance from ssthresh on");
    /* duplicates for data sent before the timeout: no fast retransmit
     * (RFC 6582 4.1) */
    cr_assert_eq(on_dupack(&cc, 3, 30 * MSS, 40 * MSS, 10 * MSS), 0);
}

Test(tcp_cc_newreno, idle_restart_shrinks_to_the_initial_window)
{
    struct tcp_cc cc = cc_new(MSS);
    cc.cwnd = 50 * MSS;
    tcp_cc_on_idle_restart(&cc, 0);
    cr_assert_eq(cc.cwnd, 3 * MSS);
    cc.cwnd = 2 * MSS; /* smaller already: kept (min(IW, cwnd)) */
    tcp_cc_on_idle_restart(&cc, 0);
    cr_assert_eq(cc.cwnd, 2 * MSS);
}

Test(tcp_cc_newreno, cwnd_never_wraps)
{
    struct tcp_cc cc = cc_new(MSS);
    cc.cwnd = UINT32_MAX - 100;
    on_ack(&cc, MSS, MSS, MSS);
    cr_assert_eq(cc.cwnd, UINT32_MAX);
    cc.ssthresh = 1000;
    cc.cwnd = UINT32_MAX - 10;
    cc.ca_acked = UINT32_MAX - 20;
    on_ack(&cc, 15, 2 * MSS, MSS);
    /* the property is no wrap (a cwnd near 4 GB is unreachable anyway):
     * kept or grown, never smaller */
    cr_assert_geq(cc.cwnd, UINT32_MAX - 10, "cwnd wrapped in congestion avoidance: %u", cc.cwnd);
}

/* RFC 6675 5 (4.2): a SACK recovery sets cwnd = ssthresh at once, partial
 * ACKs change nothing (the scoreboard's pipe decides what is sent) and the
 * ACK beyond recover ends it with cwnd still ssthresh. */
Test(tcp_cc_newreno, sack_recovery_holds_cwnd_at_ssthresh)
{
    struct tcp_cc cc = cc_new(MSS);
    cc.cwnd = 20 * MSS;
    uint32_t una = 1000, nxt = una + 20 * MSS;
    cr_assert(tcp_cc_may_recover(&cc, una, 1), "no recovery yet: any loss may start one");
    tcp_cc_enter_recovery(&cc, nxt, 20 * MSS, 0);
    cr_assert_eq(cc.ssthresh, 10 * MSS);
    cr_assert_eq(cc.cwnd, 10 * MSS, "no 3 SMSS inflation with SACK");
    cr_assert(cc.in_recovery);
    cr_assert_eq(cc.recover, nxt - 1);
    struct tcp_cc_ack a = {.acked = 3 * MSS, .snd_una = una + 3 * MSS, .flight = 20 * MSS, .sack = 1};
    cr_assert_eq(tcp_cc_on_ack(&cc, &a), 0, "a partial ACK asks for nothing");
    cr_assert_eq(cc.cwnd, 10 * MSS);
    cr_assert(cc.in_recovery);
    cr_assert(!tcp_cc_may_recover(&cc, una + 3 * MSS, 1), "duplicates below recover start none");
    a = (struct tcp_cc_ack){.acked = 17 * MSS, .snd_una = nxt, .flight = 17 * MSS, .sack = 1};
    cr_assert_eq(tcp_cc_on_ack(&cc, &a), 0);
    cr_assert(!cc.in_recovery);
    cr_assert_eq(cc.cwnd, 10 * MSS);
    cr_assert(tcp_cc_may_recover(&cc, nxt + MSS, 1), "data sent after recovery began may");
    /* the ACK just past RecoveryPoint: SACK may (RFC 6675 5), NewReno
     * waits for one that covers more than recover (RFC 6582 3.2 (2)) */
    cr_assert(tcp_cc_may_recover(&cc, nxt, 1));
    cr_assert(!tcp_cc_may_recover(&cc, nxt, 0));
}

/* An algorithm swapped on a live connection keeps the windows. */
Test(tcp_cc_newreno, switching_algorithm_keeps_the_windows)
{
    struct tcp_cc cc = cc_new(MSS);
    cc.cwnd = 33 * MSS;
    cc.ssthresh = 21 * MSS;
    tcp_cc_switch(&cc, &tcp_cc_cubic);
    cr_assert_str_eq(cc.ops->name, "cubic");
    cr_assert_eq(cc.cwnd, 33 * MSS);
    cr_assert_eq(cc.ssthresh, 21 * MSS);
}
