/* The end of a receive batch (RFC 9293 3.10.7.4, MUST-59: process all
 * queued segments before sending an ACK). Segments of one poll step's
 * batch (what the NIC had) only change state; the connections they touched
 * answer once, after the last of them: one ACK carries the batch, and what
 * their ACKs let us send goes in one pass. The end of the batch is an os
 * timer due at once: the loop runs due timers after every poll hook of its
 * step, so after the driver has handed up all it had.
 *
 * Out of order data and data filling a hole are acknowledged at once, one
 * ACK per segment (RFC 5681 4.2: the sender counts duplicate ACKs). */
#include "tcp_priv.h"

static void flush(void *ctx, struct lyra_timer *t)
{
    (void)t;
    struct tcp *u = ctx;
    for (uint32_t w = 0; w < tcp_pend_words(u); w++) {
        while (u->pend[w]) {
            unsigned b = (unsigned)__builtin_ctzll(u->pend[w]);
            u->pend[w] &= u->pend[w] - 1;
            int i = (int)(w * 64u + b);
            /* the slot may have been freed (and taken again) since: an
             * answer from whatever it holds now is still right */
            if (u->cb[i].state > TCPS_LISTEN)
                tcp_answer(u, i);
        }
    }
}

void tcp_batch_init(struct tcp *u)
{
    lyra_timer_init(&u->batch_end, flush, u);
}

void tcp_batch_defer(struct tcp *u, int i)
{
    uint64_t bit = 1ull << ((unsigned)i % 64u);
    uint64_t *w = &u->pend[(unsigned)i / 64u];
    if (*w & bit) {
        u->st.rx_batched++; /* its answer joins an earlier segment's */
        return;
    }
    *w |= bit;
    u->os.ops->timer_arm(u->os.self, &u->batch_end, 0); /* due at the end of this step */
}

void tcp_batch_cancel(struct tcp *u)
{
    u->os.ops->timer_cancel(u->os.self, &u->batch_end);
}

void tcp_answer(struct tcp *u, int i)
{
    struct tcp_cb *c = &u->cb[i];
    tcp_output(u, i);
    if ((c->flags & CB_ACK_DEL) && !(c->flags & CB_ACK_NOW) &&
        !tcp_timers_armed(&c->tm, TCP_T_DELACK))
        tcp_timer_set(u, i, TCP_T_DELACK, u->cfg.delack_ms);
}
