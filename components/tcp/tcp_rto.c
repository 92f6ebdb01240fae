/* RFC 6298 retransmission timer arithmetic (alpha 1/8, beta 1/4, K 4). */
#include "tcp_rto.h"

static uint32_t clamp(uint64_t v, const struct tcp_rto_limits *l)
{
    if (v < l->min_us) /* (2.4) */
        return l->min_us;
    if (v > l->max_us) /* (2.5) */
        return l->max_us;
    return (uint32_t)v;
}

/* RTO = SRTT + max(G, K * RTTVAR) (2.2, 2.3) */
static uint32_t base(const struct tcp_rto *r, const struct tcp_rto_limits *l)
{
    uint64_t k = 4ull * r->rttvar;
    return clamp((uint64_t)r->srtt + (k > l->g_us ? k : l->g_us), l);
}

void tcp_rto_init(struct tcp_rto *r, const struct tcp_rto_limits *l)
{
    r->srtt = r->rttvar = 0;
    r->backoff = 0;
    r->rto = clamp(l->init_us, l);
}

void tcp_rto_sample(struct tcp_rto *r, const struct tcp_rto_limits *l, uint32_t rtt_us)
{
    if (rtt_us == 0)
        rtt_us = 1; /* srtt 0 means "no sample" */
    if (!r->srtt) {
        /* (2.2) SRTT = R, RTTVAR = R / 2 */
        r->srtt = rtt_us;
        r->rttvar = rtt_us / 2;
    } else {
        /* (2.3) RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R'|, then
         * SRTT = 7/8 SRTT + 1/8 R', in that order */
        uint32_t d = r->srtt > rtt_us ? r->srtt - rtt_us : rtt_us - r->srtt;
        r->rttvar = (uint32_t)(((uint64_t)r->rttvar * 3 + d) / 4);
        r->srtt = (uint32_t)(((uint64_t)r->srtt * 7 + rtt_us) / 8);
        if (!r->srtt)
            r->srtt = 1;
    }
    r->backoff = 0;
    r->rto = base(r, l);
}

void tcp_rto_backoff(struct tcp_rto *r, const struct tcp_rto_limits *l)
{
    /* (5.5) RTO = RTO * 2, with the maximum of (2.5) */
    r->rto = clamp((uint64_t)r->rto * 2, l);
    if (r->backoff < UINT8_MAX)
        r->backoff++;
}
