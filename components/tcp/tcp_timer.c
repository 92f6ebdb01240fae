/* A connection's timers: one os timer armed for the earliest deadline of
 * tcp_timers (tcp_timers.h), and what each kind does when it expires:
 * retransmission (RFC 6298 5.4-5.7, give-up per RFC 1122 4.2.3.5 and
 * TCP_USER_TIMEOUT, RFC 5482) or the persist probe (RFC 9293 3.8.6.1),
 * the delayed ACK (3.8.6.3), keepalive (RFC 1122 4.2.3.6), TIME_WAIT's
 * 2 MSL (3.10.7.4) and an orphan's FIN_WAIT_2 limit. */
#include "tcp_priv.h"

/* The os timer follows the earliest deadline lazily: it is moved only
 * when a deadline comes before it, and left armed when deadlines move
 * later or go. It may then fire early, finds nothing due and is armed
 * again (tcp_timer_fn; Linux's tcp_write_timer_handler and
 * tcp_delack_timer_handler re-arm so when the deadline moved on). So the
 * retransmission timer restarted by every ACK (RFC 6298 5.3) and a delayed
 * ACK owed and paid every other segment cost no os call each: one early
 * expiry per timeout interval instead. */
static void rearm(struct tcp *u, int i)
{
    struct tcp_cb *c = &u->cb[i];
    uint32_t now = tcp_ms(u), at;
    if (!tcp_timers_next(&c->tm, now, &at))
        return;
    if (c->tm.os_armed && !tcp_seq_lt(tcp_seq(at), tcp_seq(c->tm.os_at)))
        return;
    int32_t d = tcp_seq_diff(tcp_seq(at), tcp_seq(now));
    uint64_t nowns = lyra_now(&u->os);
    /* deadlines in whole ms past the ms clock's tick: due at or after it */
    uint64_t base = nowns - nowns % 1000000u;
    u->os.ops->timer_arm(u->os.self, &c->tmr, d > 0 ? base + (uint64_t)d * 1000000u : nowns);
    c->tm.os_armed = 1;
    c->tm.os_at = at;
}

void tcp_timer_stop(struct tcp *u, int i)
{
    struct tcp_cb *c = &u->cb[i];
    u->os.ops->timer_cancel(u->os.self, &c->tmr);
    tcp_timers_init(&c->tm); /* os_armed with it: rearm's view of the os timer */
}

void tcp_timer_set(struct tcp *u, int i, enum tcp_timer_kind k, uint32_t ms)
{
    struct tcp_cb *c = &u->cb[i];
    if (k == TCP_T_RTX && u->ep[i].user_timeout && tcp_flight(c)) {
        /* RFC 5482: never past the user timeout */
        uint32_t spent = tcp_ms(u) - c->rtx_start;
        uint32_t left = spent >= u->ep[i].user_timeout ? 0 : u->ep[i].user_timeout - spent;
        if (ms > left)
            ms = left;
    }
    tcp_timers_set(&c->tm, k, tcp_ms(u) + ms);
    rearm(u, i);
}

void tcp_timer_clear(struct tcp *u, int i, enum tcp_timer_kind k)
{
    struct tcp_cb *c = &u->cb[i];
    if (!tcp_timers_armed(&c->tm, k))
        return;
    tcp_timers_clear(&c->tm, k);
    rearm(u, i);
}

void tcp_timer_rtx_restart(struct tcp *u, int i)
{
    struct tcp_cb *c = &u->cb[i];
    if (tcp_flight(c) == 0) {
        if (!(c->flags & CB_PERSIST))
            tcp_timer_clear(u, i, TCP_T_RTX); /* 5.2: all acknowledged */
        return;
    }
    c->flags &= (uint16_t)~CB_PERSIST;
    tcp_timer_set(u, i, TCP_T_RTX, c->rto.rto / 1000); /* 5.3 */
}

void tcp_timer_keep_restart(struct tcp *u, int i)
{
    struct tcp_cb *c = &u->cb[i];
    if (!(c->flags & CB_KEEP) || c->state == TCPS_TIME_WAIT)
        return;
    tcp_timer_set(u, i, TCP_T_KEEP, (uint32_t)u->ep[i].keep_idle * 1000u);
}

static bool gives_up(struct tcp *u, int i)
{
    struct tcp_cb *c = &u->cb[i];
    struct tcp_ep *e = &u->ep[i];
    if (c->state == TCPS_SYN_SENT)
        return c->retries > u->cfg.syn_retries;
    if (c->state == TCPS_SYN_RCVD)
        return c->retries > u->cfg.synack_retries;
    if (e->user_timeout)
        return tcp_ms(u) - c->rtx_start >= e->user_timeout; /* RFC 5482 */
    return c->retries > u->cfg.retries2; /* RFC 1122 4.2.3.5 R2 */
}

static void on_persist(struct tcp *u, int i)
{
    struct tcp_cb *c = &u->cb[i];
    c->flags &= (uint16_t)~CB_PERSIST;
    tcp_rto_backoff(&c->rto, &u->rto_lim);
    tcp_seq_t dend = tcp_sndq_end(u, i);
    int32_t un = tcp_seq_diff(dend, c->snd_nxt);
    if (un <= 0) {
        tcp_output(u, i); /* a FIN waiting on the window */
        return;
    }
    u->st.probes_sent++;
    /* 3.8.6.1: a zero window is probed with the next byte of data (it is
     * then outstanding: the retransmission timer, with its backoff, takes
     * over); a small window past SWS's patience gets what fits */
    int32_t aw = tcp_seq_diff(tcp_seq_add(c->snd_una, c->snd_wnd), c->snd_nxt);
    uint32_t len = aw > 0 ? (uint32_t)aw : 1;
    if (len > (uint32_t)un)
        len = (uint32_t)un;
    if (len > c->mss)
        len = c->mss;
    int n = tcp_xmit_data(u, i, c->snd_nxt, len, false, false);
    if (n > 0) {
        c->snd_nxt = tcp_seq_add(c->snd_nxt, (uint32_t)n);
        if (tcp_seq_gt(c->snd_nxt, c->snd_max))
            c->snd_max = c->snd_nxt;
    } else {
        c->flags |= CB_PERSIST;
        tcp_timer_set(u, i, TCP_T_RTX, c->rto.rto / 1000);
    }
}

static void on_rtx(struct tcp *u, int i)
{
    struct tcp_cb *c = &u->cb[i];
    if (c->flags & CB_PERSIST) {
        on_persist(u, i);
        return;
    }
    if (tcp_flight(c) == 0 && c->state != TCPS_SYN_SENT && c->state != TCPS_SYN_RCVD)
        return;
    u->st.rto_expiries++;
    c->retries++;
    if (gives_up(u, i)) {
        u->st.conns_timed_out++;
        int16_t soft = u->ep[i].soft_err; /* RFC 1122 4.2.3.9: what ICMP said, else ETIMEDOUT */
        tcp_conn_drop(u, i, soft ? soft : ETIMEDOUT);
        return;
    }
    tcp_rto_backoff(&c->rto, &u->rto_lim); /* 5.5 */
    c->flags &= (uint16_t)~CB_RTT;         /* Karn */
    if (c->state == TCPS_SYN_SENT || c->state == TCPS_SYN_RCVD) {
        c->rtt_start = tcp_ms(u); /* an echo of this one is a sample (tcp_input.c rtt_sample) */
        tcp_retransmit_first(u, i); /* 5.4 for the SYN: RFC 6298 5.7 keeps backing off */
        tcp_timer_set(u, i, TCP_T_RTX, c->rto.rto / 1000);
        return;
    }
    tcp_cc_on_rto(&c->cc, c->snd_max.v, tcp_flight(c), !(c->flags & CB_RTX_RUN), tcp_ms(u));
    c->flags |= CB_RTX_RUN;
    c->dupacks = 0;
    if (c->flags & CB_SACK)
        tcp_sack_rto(u, i); /* RFC 6675 5.1: recovery ends, the scoreboard stays */
    /* 5.4: the earliest unacknowledged segment again; go back to it, so
     * what follows is resent as the (one segment) window opens */
    c->snd_nxt = c->snd_una;
    tcp_timers_clear(&c->tm, TCP_T_RTX);
    int n = tcp_retransmit_first(u, i);
    c->snd_nxt = tcp_seq_add(c->snd_una, (uint32_t)n);
    tcp_output(u, i);
    if (!tcp_timers_armed(&c->tm, TCP_T_RTX))
        tcp_timer_set(u, i, TCP_T_RTX, c->rto.rto / 1000);
}

static void on_keep(struct tcp *u, int i)
{
    struct tcp_cb *c = &u->cb[i];
    struct tcp_ep *e = &u->ep[i];
    if (c->state == TCPS_TIME_WAIT) {
        /* 2 MSL over: the connection is gone */
        if (c->flags & CB_ORPHAN)
            tcp_conn_release(u, i);
        else
            tcp_set_state(u, i, TCPS_CLOSED);
        return;
    }
    if (c->state == TCPS_FIN_WAIT_2 && (c->flags & CB_ORPHAN)) {
        /* nobody can read what the peer still sends: give up waiting for
         * its FIN after time_wait_ms (as BSD and Linux do) */
        tcp_conn_drop(u, i, 0);
        return;
    }
    if (!(c->flags & CB_KEEP) || !(c->state == TCPS_ESTABLISHED || c->state == TCPS_CLOSE_WAIT))
        return;
    uint32_t now = tcp_ms(u);
    if (tcp_flight(c) || tcp_seq_gt(tcp_sndq_end(u, i), c->snd_nxt)) {
        /* RFC 9293 3.8.4 (MUST-26): probes only on an idle connection;
         * data to send or in flight has its own timers */
        tcp_timer_set(u, i, TCP_T_KEEP, (uint32_t)e->keep_idle * 1000u);
        return;
    }
    uint32_t idle = now - c->last_rx;
    uint32_t idle_ms = (uint32_t)e->keep_idle * 1000u;
    if (idle < idle_ms && !c->probes) {
        tcp_timer_set(u, i, TCP_T_KEEP, idle_ms - idle);
        return;
    }
    if (c->probes >= e->keep_cnt) {
        u->st.conns_timed_out++;
        tcp_send_rst(u, i);
        tcp_conn_drop(u, i, ETIMEDOUT);
        return;
    }
    c->probes++;
    u->st.keepalives_sent++;
    tcp_send_keepalive(u, i);
    tcp_timer_set(u, i, TCP_T_KEEP, (uint32_t)e->keep_intvl * 1000u);
}

void tcp_timer_fn(void *ctx, struct lyra_timer *t)
{
    struct tcp *u = ctx;
    struct tcp_cb *c = (struct tcp_cb *)(void *)((uint8_t *)t - offsetof(struct tcp_cb, tmr));
    int i = tcp_idx(u, c);
    c->tm.os_armed = 0;
    unsigned due = tcp_timers_due(&c->tm, tcp_ms(u));
    if (due & (1u << TCP_T_RTX))
        on_rtx(u, i);
    if ((due & (1u << TCP_T_DELACK)) && c->state >= TCPS_SYN_RCVD && (c->flags & CB_ACK_DEL)) {
        u->st.acks_delayed++;
        c->quick = TCP_QUICK_ACKS; /* the sender stopped short: it is short of ACKs */
        tcp_send_ack(u, i);
    }
    if ((due & (1u << TCP_T_KEEP)) && c->state != TCPS_FREE)
        on_keep(u, i);
    if (c->state != TCPS_FREE)
        rearm(u, i);
}
