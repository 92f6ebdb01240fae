/* NewReno's own part (RFC 5681): ssthresh = max(FlightSize / 2, 2 SMSS) at
 * a congestion event, and one SMSS per cwnd of bytes acknowledged in
 * congestion avoidance (RFC 5681 3.1 with RFC 3465 2.1's byte counting).
 * Slow start and recovery are tcp_cc.c's. */
#include "tcp_cc.h"

static uint32_t nr_ssthresh(struct tcp_cc *cc, uint32_t flight, uint32_t now_ms, int rto)
{
    (void)cc;
    (void)now_ms;
    (void)rto;
    return flight / 2; /* tcp_cc.c raises it to 2 SMSS */
}

static void nr_cong_avoid(struct tcp_cc *cc, uint32_t acked, uint32_t now_ms, uint32_t rtt_ms)
{
    (void)now_ms;
    (void)rtt_ms;
    cc->ca_acked = cc->ca_acked + acked < cc->ca_acked ? UINT32_MAX : cc->ca_acked + acked;
    if (cc->ca_acked >= cc->cwnd) {
        cc->ca_acked -= cc->cwnd;
        if (cc->cwnd + cc->smss > cc->cwnd)
            cc->cwnd += cc->smss;
    }
}

const struct tcp_cc_ops tcp_cc_newreno = {
    .name = "newreno",
    .ssthresh = nr_ssthresh,
    .cong_avoid = nr_cong_avoid,
};
