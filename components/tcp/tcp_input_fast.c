/* Header prediction (Van Jacobson's, as in BSD's tcp_input and Linux's
 * tcp_rcv_established): the common segment of a receiver, taken without
 * the state machine. */
#include "tcp_input.h"
#include "tcp_priv.h"

/* The segment (header r but for its sequence number seq; payload len > 0
 * bytes, skb at the payload; flags ACK with at most PSH, checked by the
 * caller) is in order on an established connection without holes, within
 * the window, carries the ACK the connection already has (so nothing is
 * acknowledged and it is no duplicate: it has data), no SACK blocks, a
 * window that is not zero, and a timestamp that passes PAWS. Of
 * tcp_synced_input there remains the send window's bookkeeping (3.10.7.4:
 * SND.WL1/WL2), the timestamp to echo (RFC 7323 4.3, as tcp_synced_input
 * keeps it) and the data; POLL_IN is told at the batch end. true: taken
 * (skb queued); false: nothing done. */
bool tcp_rx_fast(struct tcp *u, int i, const struct tcp_repr *r, tcp_seq_t seq,
                 struct lyra_skb *skb, uint32_t len)
{
    struct tcp_cb *c = &u->cb[i];
    bool ts = (c->flags & CB_TS) && (r->opt.has & TCP_HAS_TS);
    if (c->state != TCPS_ESTABLISHED || !tcp_seq_eq(seq, c->rcv_nxt) || c->ooo.n ||
        tcp_seq_diff(c->rcv_adv, c->rcv_nxt) < (int32_t)len || !tcp_seq_eq(r->ack, c->snd_una) ||
        !r->window || (r->opt.has & TCP_HAS_SACK) || (c->flags & CB_ORPHAN) ||
        u->ep[i].fin_held /* fin_input takes a FIN held beyond what this fills */ ||
        (ts && tcp_ts_lt(r->opt.tsval, c->ts_recent)))
        return false;
    if (ts)
        c->ts_recent = r->opt.tsval;
    tcp_snd_wnd_update(c, seq, r->ack, (uint32_t)r->window << c->snd_ws);
    u->st.rx_predicted++;
    u->st.rx_bytes += len;
    u->ep[i].bytes_received += len;
    tcp_rcvq_data(u, i, skb, seq, len); /* in order, within the window: queued */
    tcp_owe_ack_in_order(c);
    /* the reader hears once per batch, with the ACK (tcp_batch.c), not
     * once per segment of a run */
    u->ep[i].ready_in = 1;
    tcp_after_input(u, i, false);
    return true;
}
