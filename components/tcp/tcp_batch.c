/* The end of a receive batch (RFC 9293 3.10.7.4, MUST-59: process all
 * queued segments before sending an ACK). Segments of one poll step's
 * batch (what the NIC had) only change state; the connections they touched
 * answer once, after the last of them: one ACK carries the batch, and what
 * their ACKs let us send goes in one pass.
 *
 * The end of the batch is tcp's poll hook. A step runs the hooks in start
 * order, a user's after its providers' (framework stack.c), so tcp's runs
 * after the drivers' hooks that delivered the step's segments, and before
 * the step's timers. Segments reach tcp only from drivers' hooks (no
 * driver delivers from a timer or an interrupt). This replaced an os timer
 * due at once, armed for every batch: on posix that was a spin lock, a
 * sequentially consistent store and a trip through the timing wheel per
 * batch, and with one segment per step (a sender that writes an MSS at a
 * time) a tenth of the receive path's time (bench/results/zc.md).
 *
 * Out of order data and data filling a hole are acknowledged at once, one
 * ACK per segment (RFC 5681 4.2: the sender counts duplicate ACKs). */
#include "tcp_priv.h"

int tcp_batch_flush(void *self, unsigned budget)
{
    (void)budget; /* one ACK per connection that owes one: bounded by max_conns */
    struct tcp *u = self;
    if (!u->pend_any)
        return 0;
    u->pend_any = false;
    for (uint32_t w = 0; w < tcp_pend_words(u); w++) {
        while (u->pend[w]) {
            unsigned b = (unsigned)__builtin_ctzll(u->pend[w]);
            u->pend[w] &= u->pend[w] - 1;
            int i = (int)(w * 64u + b);
            /* the slot may have been freed (and taken again) since: an
             * answer from whatever it holds now is still right */
            struct tcp_ep *e = &u->ep[i];
            if (e->ready_in) { /* header prediction's data (tcp_input_fast.c) */
                e->ready_in = 0;
                if (u->cb[i].state != TCPS_FREE) /* not a slot released since */
                    tcp_ready(u, i, LYRA_POLL_IN);
            }
            if (u->cb[i].state > TCPS_LISTEN)
                tcp_answer(u, i);
        }
    }
    return 0; /* nothing left for a further step: answers only send */
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
    u->pend_any = true;
}

void tcp_batch_cancel(struct tcp *u)
{
    for (uint32_t k = 0; k < tcp_pend_words(u); k++)
        u->pend[k] = 0;
    u->pend_any = false;
}

void tcp_answer(struct tcp *u, int i)
{
    struct tcp_cb *c = &u->cb[i];
    tcp_output(u, i);
    if ((c->flags & CB_ACK_DEL) && !(c->flags & CB_ACK_NOW) &&
        !tcp_timers_armed(&c->tm, TCP_T_DELACK))
        tcp_timer_set(u, i, TCP_T_DELACK, u->cfg.delack_ms);
}
