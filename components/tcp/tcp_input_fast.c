/* Header prediction (Van Jacobson's, as in BSD's tcp_input and Linux's
 * tcp_rcv_established): the common segment of a receiver, taken without
 * the state machine. */
#include "tcp_input.h"
#include "tcp_priv.h"

/* What prediction asks of the connection and of header r, whatever the
 * segment's place: established without holes, the ACK the connection
 * already has (nothing acknowledged, no duplicate: it carries data), no
 * SACK blocks, a window that is not zero, a timestamp that passes PAWS. */
static bool fast_conn_ok(const struct tcp *u, int i, const struct tcp_repr *r)
{
    const struct tcp_cb *c = &u->cb[i];
    return c->state == TCPS_ESTABLISHED && !c->ooo.n && tcp_seq_eq(r->ack, c->snd_una) &&
           r->window && !(r->opt.has & TCP_HAS_SACK) && !(c->flags & CB_ORPHAN) &&
           !u->ep[i].fin_held /* fin_input takes a FIN held beyond what this fills */ &&
           !((c->flags & CB_TS) && (r->opt.has & TCP_HAS_TS) &&
             tcp_ts_lt(r->opt.tsval, c->ts_recent));
}

/* n in-order segments, bytes in all, the last at seq, taken: what
 * tcp_synced_input would do with each but queue it. */
static void fast_took(struct tcp *u, int i, const struct tcp_repr *r, tcp_seq_t seq,
                      uint32_t n, uint32_t bytes)
{
    struct tcp_cb *c = &u->cb[i];
    if ((c->flags & CB_TS) && (r->opt.has & TCP_HAS_TS))
        c->ts_recent = r->opt.tsval;
    tcp_snd_wnd_update(c, seq, r->ack, (uint32_t)r->window << c->snd_ws);
    u->st.rx_predicted += n;
    u->st.rx_bytes += bytes;
    u->ep[i].bytes_received += bytes;
    for (uint32_t k = 0; k < n; k++)
        tcp_owe_ack_in_order(c);
    /* the reader hears once per batch, with the ACK (tcp_batch.c), not
     * once per segment of a run */
    u->ep[i].ready_in = 1;
    tcp_after_input(u, i, false);
    /* tcp_batch_defer counts each segment whose answer joins an earlier
     * one's: the followers of the first, one by one */
    u->st.rx_batched += n - 1;
}

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
    if (!fast_conn_ok(u, i, r) || !tcp_seq_eq(seq, c->rcv_nxt) ||
        tcp_seq_diff(c->rcv_adv, c->rcv_nxt) < (int32_t)len)
        return false;
    tcp_rcvq_data(u, i, skb, seq, len); /* in order, within the window: queued */
    fast_took(u, i, r, seq, 1, len);
    return true;
}

uint32_t tcp_rx_fast_run(struct tcp *u, int i, const struct tcp_repr *r, struct lyra_skb **chain)
{
    struct tcp_cb *c = &u->cb[i];
    struct tcp_ep *e = &u->ep[i];
    if (!*chain || !fast_conn_ok(u, i, r) || e->ooo)
        return 0;
    int32_t room = tcp_seq_diff(c->rcv_adv, c->rcv_nxt);
    tcp_seq_t at = c->rcv_nxt;
    tcp_seq_t last_seq = at;
    uint32_t n = 0, bytes = 0;
    struct lyra_skb *first = *chain, *last = NULL, *s;
    for (s = first; s; last = s, s = s->next) {
        /* as rx_chained: what the driver vouched for, and a payload */
        uint32_t tlen = lyra_skb_total(s);
        if (!(s->flags & LYRA_SKB_F_CSUM_OK) || s->len < r->hlen || tlen <= r->hlen ||
            (s->data[13] & (uint8_t)~TCP_PSH) != TCP_ACK ||
            !tcp_seq_eq(tcp_seq(tcp_ld32(s->data + 4)), tcp_seq_add(at, bytes)) ||
            (int64_t)bytes + (tlen - r->hlen) > room)
            break;
        lyra_skb_pull(s, r->hlen);
        s->cb[0] = 0; /* bytes of it read: none (tcp_rcvq.c) */
        last_seq = tcp_seq_add(at, bytes);
        bytes += tlen - r->hlen;
        n++;
    }
    if (!n)
        return 0;
    /* the taken skbs are chained already: spliced onto the receive queue
     * as they are, the rest of the run left for the caller */
    *chain = s;
    last->next = NULL;
    if (e->rcvq.tail)
        e->rcvq.tail->next = first;
    else
        e->rcvq.head = first;
    e->rcvq.tail = last;
    e->rcvq.len += n;
    e->rcv_bytes += bytes;
    c->rcv_nxt = tcp_seq_add(at, bytes);
    u->st.rx_segments += n;
    fast_took(u, i, r, last_seq, n, bytes);
    return n;
}
