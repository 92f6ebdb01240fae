/* What every congestion control algorithm shares (tcp_cc.h): slow start
 * with byte counting (RFC 3465, L = 2 SMSS), NewReno fast retransmit and
 * recovery (RFC 5681 3.2, RFC 6582), RFC 6675's entry and exit of a SACK
 * recovery, the timeout (RFC 5681 3.1) and the restart after idle (4.1).
 * The algorithm gives ssthresh and congestion avoidance. */
#include "tcp_cc.h"

#include <string.h>

#include "tcp_seq.h"

static int seq_gt(uint32_t a, uint32_t b)
{
    return tcp_seq_gt(tcp_seq(a), tcp_seq(b));
}

void tcp_cc_init(struct tcp_cc *cc, const struct tcp_cc_ops *ops, uint32_t smss)
{
    memset(cc, 0, sizeof(*cc));
    cc->ops = ops;
    cc->smss = smss ? smss : 536; /* RFC 9293 3.7.1: 536 when no MSS option */
    cc->cwnd = tcp_cc_initial_window(cc->smss);
    cc->ssthresh = UINT32_MAX; /* RFC 5681 3.1: arbitrarily high */
    if (ops->init)
        ops->init(cc);
}

void tcp_cc_switch(struct tcp_cc *cc, const struct tcp_cc_ops *ops)
{
    if (cc->ops == ops)
        return;
    cc->ops = ops;
    cc->alg_flags = 0;
    memset(cc->priv, 0, sizeof(cc->priv));
    cc->ca_acked = 0;
    if (ops->init)
        ops->init(cc);
}

static void slow_start(struct tcp_cc *cc, uint32_t acked)
{
    /* up to 2 SMSS per ACK (RFC 3465 2.2, L = 2) */
    uint32_t inc = acked < 2 * cc->smss ? acked : 2 * cc->smss;
    cc->cwnd = cc->cwnd + inc < cc->cwnd ? UINT32_MAX : cc->cwnd + inc;
}

static uint32_t reduce(struct tcp_cc *cc, uint32_t flight, uint32_t now_ms, int rto)
{
    uint32_t s = cc->ops->ssthresh(cc, flight, now_ms, rto);
    return s > 2 * cc->smss ? s : 2 * cc->smss; /* RFC 5681 (4) */
}

unsigned tcp_cc_on_ack(struct tcp_cc *cc, const struct tcp_cc_ack *a)
{
    if (!cc->in_recovery) {
        if (cc->cwnd < cc->ssthresh)
            slow_start(cc, a->acked);
        else
            cc->ops->cong_avoid(cc, a->acked, a->now_ms, a->rtt_ms);
        return 0;
    }
    if (!seq_gt(a->snd_una, cc->recover)) {
        if (a->sack)
            return 0; /* RFC 6675 5: the scoreboard's pipe decides what goes */
        /* RFC 6582 3.2 (5): a partial ACK. Retransmit the first
         * unacknowledged segment, deflate cwnd by what was acked, add back
         * one SMSS if that was at least one SMSS, stay in recovery. */
        cc->cwnd = a->acked < cc->cwnd ? cc->cwnd - a->acked : 0;
        if (a->acked >= cc->smss)
            cc->cwnd += cc->smss;
        if (cc->cwnd < cc->smss)
            cc->cwnd = cc->smss;
        return TCP_CC_RETRANSMIT;
    }
    cc->in_recovery = 0;
    cc->ca_acked = 0;
    if (a->sack) {
        cc->cwnd = cc->ssthresh; /* RFC 6675 5: cwnd was set at entry; no inflation to undo */
        return 0;
    }
    /* RFC 6582 3.2 (4): a full ACK ends recovery; cwnd = min(ssthresh,
     * max(FlightSize, SMSS) + SMSS), FlightSize being what is still out
     * after this ACK. */
    uint32_t left = a->flight > a->acked ? a->flight - a->acked : 0;
    uint32_t w = (left > cc->smss ? left : cc->smss) + cc->smss;
    cc->cwnd = w < cc->ssthresh ? w : cc->ssthresh;
    return 0;
}

int tcp_cc_may_recover(const struct tcp_cc *cc, uint32_t snd_una, int sack)
{
    return !cc->recover_set || seq_gt(sack ? snd_una : snd_una - 1, cc->recover);
}

unsigned tcp_cc_on_dupack(struct tcp_cc *cc, unsigned ndup, uint32_t snd_una, uint32_t snd_nxt,
                          uint32_t flight, uint32_t now_ms)
{
    if (cc->in_recovery) {
        /* RFC 5681 3.2 (4): each further duplicate means a segment left */
        cc->cwnd = cc->cwnd + cc->smss < cc->cwnd ? UINT32_MAX : cc->cwnd + cc->smss;
        return 0;
    }
    /* RFC 6582 3.2 (2): only when the duplicates are for data sent after
     * the last recovery began (or an RTO), not the tail of it */
    if (ndup != 3 || !tcp_cc_may_recover(cc, snd_una, 0))
        return 0;
    /* RFC 5681 3.2 (2)-(3), RFC 6582 3.2 (3) */
    cc->ssthresh = reduce(cc, flight, now_ms, 0);
    cc->recover = snd_nxt - 1;
    cc->recover_set = 1;
    cc->cwnd = cc->ssthresh + 3 * cc->smss;
    cc->in_recovery = 1;
    return TCP_CC_RETRANSMIT;
}

void tcp_cc_enter_recovery(struct tcp_cc *cc, uint32_t snd_nxt, uint32_t flight, uint32_t now_ms)
{
    /* RFC 6675 5 (4.2): RecoveryPoint = HighData, cwnd = ssthresh */
    cc->ssthresh = reduce(cc, flight, now_ms, 0);
    cc->cwnd = cc->ssthresh;
    cc->recover = snd_nxt - 1;
    cc->recover_set = 1;
    cc->in_recovery = 1;
    cc->ca_acked = 0;
}

void tcp_cc_on_rto(struct tcp_cc *cc, uint32_t snd_nxt, uint32_t flight, int first,
                   uint32_t now_ms)
{
    /* RFC 5681 3.1: ssthresh to (4) when the segment was not resent by the
     * timer already, else held; the loss window is one SMSS */
    if (first)
        cc->ssthresh = reduce(cc, flight, now_ms, 1);
    cc->cwnd = cc->smss;
    cc->ca_acked = 0;
    cc->in_recovery = 0;
    /* RFC 6582 4.1: duplicates for data sent before the timeout start no
     * fast retransmit */
    cc->recover = snd_nxt - 1;
    cc->recover_set = 1;
}

void tcp_cc_on_idle_restart(struct tcp_cc *cc, uint32_t now_ms)
{
    /* RFC 5681 4.1: restart window = min(IW, cwnd) */
    uint32_t rw = tcp_cc_initial_window(cc->smss);
    if (rw < cc->cwnd)
        cc->cwnd = rw;
    if (cc->ops->on_idle)
        cc->ops->on_idle(cc, now_ms);
}
