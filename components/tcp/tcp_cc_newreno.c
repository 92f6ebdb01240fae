/* NewReno congestion control: RFC 5681 (slow start, congestion avoidance,
 * fast retransmit and fast recovery) with RFC 6582's modification for
 * partial acknowledgments, byte counting as RFC 3465 (L = 2 SMSS in slow
 * start). */
#include "tcp_cc.h"
#include "tcp_seq.h"

static int seq_gt(uint32_t a, uint32_t b)
{
    return tcp_seq_gt(tcp_seq(a), tcp_seq(b));
}

static uint32_t half_flight(const struct tcp_cc *cc, uint32_t flight)
{
    /* RFC 5681 (4): ssthresh = max(FlightSize / 2, 2 * SMSS) */
    uint32_t h = flight / 2;
    return h > 2 * cc->smss ? h : 2 * cc->smss;
}

static void nr_init(struct tcp_cc *cc, uint32_t smss)
{
    cc->smss = smss ? smss : 536; /* RFC 9293 3.7.1: 536 when no MSS option */
    cc->cwnd = tcp_cc_initial_window(cc->smss);
    cc->ssthresh = UINT32_MAX; /* RFC 5681 3.1: arbitrarily high */
    cc->ca_acked = 0;
    cc->in_recovery = 0;
    cc->recover_set = 0;
}

static void grow(struct tcp_cc *cc, uint32_t acked)
{
    if (cc->cwnd < cc->ssthresh) {
        /* slow start: up to 2 SMSS per ACK (RFC 3465 2.2, L = 2) */
        uint32_t inc = acked < 2 * cc->smss ? acked : 2 * cc->smss;
        cc->cwnd = cc->cwnd + inc < cc->cwnd ? UINT32_MAX : cc->cwnd + inc;
        return;
    }
    /* congestion avoidance: one SMSS per cwnd of bytes acked (RFC 5681 3.1,
     * RFC 3465 2.1) */
    cc->ca_acked += acked;
    if (cc->ca_acked >= cc->cwnd) {
        cc->ca_acked -= cc->cwnd;
        if (cc->cwnd + cc->smss > cc->cwnd)
            cc->cwnd += cc->smss;
    }
}

static unsigned nr_on_ack(struct tcp_cc *cc, uint32_t acked, uint32_t snd_una, uint32_t flight)
{
    if (!cc->in_recovery) {
        grow(cc, acked);
        return 0;
    }
    if (!seq_gt(snd_una, cc->recover)) {
        /* RFC 6582 3.2 (5): a partial ACK. Retransmit the first
         * unacknowledged segment, deflate cwnd by what was acked, add back
         * one SMSS if that was at least one SMSS, stay in recovery. */
        cc->cwnd = acked < cc->cwnd ? cc->cwnd - acked : 0;
        if (acked >= cc->smss)
            cc->cwnd += cc->smss;
        if (cc->cwnd < cc->smss)
            cc->cwnd = cc->smss;
        return TCP_CC_RETRANSMIT;
    }
    /* RFC 6582 3.2 (4): a full ACK ends recovery; cwnd = min(ssthresh,
     * max(FlightSize, SMSS) + SMSS), FlightSize being what is still out
     * after this ACK. */
    uint32_t left = flight > acked ? flight - acked : 0;
    uint32_t w = (left > cc->smss ? left : cc->smss) + cc->smss;
    cc->cwnd = w < cc->ssthresh ? w : cc->ssthresh;
    cc->in_recovery = 0;
    cc->ca_acked = 0;
    return 0;
}

static unsigned nr_on_dupack(struct tcp_cc *cc, unsigned ndup, uint32_t snd_una, uint32_t snd_nxt,
                             uint32_t flight)
{
    if (cc->in_recovery) {
        /* RFC 5681 3.2 (4): each further duplicate means a segment left */
        cc->cwnd += cc->smss;
        return 0;
    }
    if (ndup != 3)
        return 0;
    /* RFC 6582 3.2 (2): only when the duplicates are for data sent after
     * the last recovery began (or an RTO), not the tail of it */
    if (cc->recover_set && !seq_gt(snd_una - 1, cc->recover))
        return 0;
    /* RFC 5681 3.2 (2)-(3), RFC 6582 3.2 (3) */
    cc->ssthresh = half_flight(cc, flight);
    cc->recover = snd_nxt - 1;
    cc->recover_set = 1;
    cc->cwnd = cc->ssthresh + 3 * cc->smss;
    cc->in_recovery = 1;
    return TCP_CC_RETRANSMIT;
}

static void nr_on_rto(struct tcp_cc *cc, uint32_t snd_nxt, uint32_t flight, int first)
{
    /* RFC 5681 3.1: ssthresh to (4) when the segment was not resent by the
     * timer already, else held; the loss window is one SMSS */
    if (first)
        cc->ssthresh = half_flight(cc, flight);
    cc->cwnd = cc->smss;
    cc->ca_acked = 0;
    cc->in_recovery = 0;
    /* RFC 6582 4.1: duplicates for data sent before the timeout start no
     * fast retransmit */
    cc->recover = snd_nxt - 1;
    cc->recover_set = 1;
}

static void nr_on_idle_restart(struct tcp_cc *cc)
{
    /* RFC 5681 4.1: restart window = min(IW, cwnd) */
    uint32_t rw = tcp_cc_initial_window(cc->smss);
    if (rw < cc->cwnd)
        cc->cwnd = rw;
}

const struct tcp_cc_ops tcp_cc_newreno = {
    .name = "newreno",
    .init = nr_init,
    .on_ack = nr_on_ack,
    .on_dupack = nr_on_dupack,
    .on_rto = nr_on_rto,
    .on_idle_restart = nr_on_idle_restart,
};
