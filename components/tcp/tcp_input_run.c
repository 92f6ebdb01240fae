/* Runs of received segments (l3 2.3, skb 2.6 LYRA_SKB_F_GRO): a
 * coalescing NIC's run is taken apart in order, its first segment through
 * tcp_rx as any, the rest without parsing or lookup and, where the header
 * predicts it, without the state machine (tcp_input_fast.c): the
 * predicted prefix of the run in one step, what follows it one by one. */
#include "tcp_input.h"
#include "tcp_priv.h"

/* Connection i is still the synchronized one the run's first segment
 * (header r0) went to. */
static bool run_conn(const struct tcp *u, int i, const struct tcp_repr *r0,
                     const struct lyra_l3_rxinfo *info)
{
    const struct tcp_cb *c = &u->cb[i];
    return c->state >= TCPS_ESTABLISHED && c->state != TCPS_TIME_WAIT && c->lport == r0->dport &&
           c->rport == r0->sport && c->raddr == info->src && c->laddr == info->dst;
}

/* A segment chained to the run whose first went to connection i with
 * header r0: the driver vouched that its header is r0's but for the
 * sequence number, checksum and PSH (skb.h LYRA_SKB_F_GRO), so it is not
 * parsed or looked up again while i is still that synchronized connection:
 * predicted (tcp_rx_fast), or tcp_synced_input as any segment. false: take
 * the whole path. */
static bool rx_chained(struct tcp *u, int i, const struct tcp_repr *r0,
                       const struct lyra_l3_rxinfo *info, struct lyra_skb *skb)
{
    uint32_t tlen = lyra_skb_total(skb);
    if (!(skb->flags & LYRA_SKB_F_CSUM_OK) || !run_conn(u, i, r0, info) || skb->len < r0->hlen ||
        tlen <= r0->hlen || (skb->data[13] & (uint8_t)~TCP_PSH) != TCP_ACK)
        return false;
    tcp_seq_t seq = tcp_seq(tcp_ld32(skb->data + 4));
    uint8_t flags = skb->data[13];
    u->st.rx_segments++;
    lyra_skb_pull(skb, r0->hlen);
    if (tcp_rx_fast(u, i, r0, seq, skb, tlen - r0->hlen))
        return true;
    struct seg g = {.info = info, .skb = skb, .r = *r0};
    g.r.seq = seq;
    g.r.flags = flags;
    g.r.payload_len = tlen - r0->hlen;
    g.len = g.r.payload_len;
    g.up = tcp_seq_add(g.r.seq, g.r.urg);
    tcp_synced_input(u, i, &g); /* conn_input's way for a synchronized connection */
    tcp_after_input(u, i, g.ack_at_once);
    seg_free(&g);
    return true;
}

/* l3 2.3: a run of segments (skb 2.6 LYRA_SKB_F_GRO) is taken apart and
 * goes through the input path in order, with the effect each segment
 * would have had alone: what the run saves is eth's and ip's work, tcp's
 * parsing and lookup for all but the first, and for the predicted prefix
 * the per-segment bookkeeping. */
void tcp_rx_run(struct tcp *u, struct lyra_skb *skb, const struct lyra_l3_rxinfo *info)
{
    struct lyra_skb *chain = lyra_skb_unchain(skb), *c;
    u->run = true;
    u->run_i = -1;
    tcp_rx(u, skb, info);
    /* the common run: all of it predicted, queued in one piece */
    if (u->run_i >= 0 && run_conn(u, u->run_i, &u->run_r, info))
        tcp_rx_fast_run(u, u->run_i, &u->run_r, &chain);
    while ((c = lyra_skb_pop(&chain)))
        if (u->run_i < 0 || !rx_chained(u, u->run_i, &u->run_r, info, c)) {
            u->run_i = -1;
            tcp_rx(u, c, info);
        }
    u->run = false;
}
