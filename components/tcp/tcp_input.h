/* What tcp_input.c shares with tcp_input_run.c: a segment on its way in
 * and the steps both take. Private to tcp. */
#ifndef TCP_INPUT_H
#define TCP_INPUT_H

#include "tcp_priv.h"

/* tcp_rx sets it field by field (no memset per segment): a field added
 * here must be set there too. */
struct seg {
    struct tcp_repr r;
    const struct lyra_l3_rxinfo *info;
    struct lyra_skb *skb; /* data at the payload; NULL once queued */
    uint32_t len;         /* payload bytes (after trimming) */
    bool ack_at_once;     /* out of order or filling a hole: no waiting for the batch */
    tcp_seq_t up;         /* SEG.SEQ + SEG.UP as it came, before any trimming */
};

static inline void seg_free(struct seg *g)
{
    lyra_skb_free(g->skb);
    g->skb = NULL;
}

/* The ACK an in-order segment calls for (RFC 9293 3.8.6.3, RFC 5681 4.2). */
static inline void tcp_owe_ack_in_order(struct tcp_cb *c)
{
    if (c->quick) {
        c->quick--;
        c->flags |= CB_ACK_NOW;
    } else if (++c->unacked_segs >= 2) {
        c->flags |= CB_ACK_NOW; /* at least every second segment */
    } else {
        c->flags |= CB_ACK_DEL;
    }
}

/* The send window from an acceptable ACK (RFC 9293 3.10.7.4: SND.WL1/WL2
 * keep an old segment from moving it back); win is scaled. */
static inline void tcp_snd_wnd_update(struct tcp_cb *c, tcp_seq_t seq, tcp_seq_t ack, uint32_t win)
{
    if (tcp_seq_lt(c->snd_wl1, seq) ||
        (tcp_seq_eq(c->snd_wl1, seq) && tcp_seq_le(c->snd_wl2, ack))) {
        c->snd_wnd = win;
        if (win > c->snd_wnd_max)
            c->snd_wnd_max = win;
        c->snd_wl1 = seq;
        c->snd_wl2 = ack;
    }
}

/* What every segment a connection took leads to: the answer, now
 * (at_once: seg.ack_at_once) or at the end of the receive batch. */
static inline void tcp_after_input(struct tcp *u, int i, bool at_once)
{
    struct tcp_cb *c = &u->cb[i];
    if (c->state == TCPS_FREE || c->state == TCPS_CLOSED)
        return;
    c->last_rx = tcp_ms(u);
    c->probes = 0;
    if (at_once)
        tcp_answer(u, i);
    else
        tcp_batch_defer(u, i); /* MUST-59: after the rest of the batch */
}

/* RFC 9293 3.10.7.4: a segment for a synchronized connection. */
void tcp_synced_input(struct tcp *u, int i, struct seg *g);
/* l3 event rx: one segment, or a run (tcp_rx_run). */
void tcp_rx(void *user, struct lyra_skb *skb, const struct lyra_l3_rxinfo *info);
/* tcp_input_fast.c: header prediction for a segment with header r (but
 * seq), payload len > 0 at skb->data, flags ACK with at most PSH; true:
 * taken. */
bool tcp_rx_fast(struct tcp *u, int i, const struct tcp_repr *r, tcp_seq_t seq,
                 struct lyra_skb *skb, uint32_t len);
/* The longest prefix of a run's chain (skbs at their TCP header, which
 * the driver vouched is r's but for sequence number, checksum and PSH)
 * that prediction takes, queued whole (once per run the work
 * tcp_rx_fast does per segment); *chain is left at the first not taken.
 * Returns how many were taken. */
uint32_t tcp_rx_fast_run(struct tcp *u, int i, const struct tcp_repr *r, struct lyra_skb **chain);
/* tcp_input_run.c: a run (skb 2.6 LYRA_SKB_F_GRO) taken apart; takes it. */
void tcp_rx_run(struct tcp *u, struct lyra_skb *skb, const struct lyra_l3_rxinfo *info);

#endif
