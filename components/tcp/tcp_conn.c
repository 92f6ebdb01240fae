/* The connection table: slots from a free list, a hash of 4-tuples for
 * synchronized and SYN states, listeners found by scanning their own
 * chain (bucket 0 of nothing: they live in the hash under rport 0),
 * ephemeral ports (RFC 6056 3.3.3), TIME_WAIT reclaim, state changes. */
#include "tcp_hashes.h"
#include "tcp_priv.h"

static uint32_t bucket(const struct tcp *u, uint32_t laddr, uint16_t lport, uint32_t raddr,
                       uint16_t rport)
{
    (void)laddr; /* one address per stack in practice; the ports spread */
    uint32_t h = raddr * 2654435761u ^ ((uint32_t)lport << 16 | rport) * 2246822519u;
    return (h ^ h >> 15) & u->hash_mask;
}

void tcp_hash_add(struct tcp *u, int i)
{
    struct tcp_cb *c = &u->cb[i];
    uint32_t b = bucket(u, c->laddr, c->lport, c->raddr, c->rport);
    u->ep[i].hnext = u->hash[b];
    u->hash[b] = (uint16_t)i;
}

void tcp_hash_del(struct tcp *u, int i)
{
    struct tcp_cb *c = &u->cb[i];
    uint32_t b = bucket(u, c->laddr, c->lport, c->raddr, c->rport);
    for (uint16_t *p = &u->hash[b]; *p != TCP_NONE; p = &u->ep[*p].hnext)
        if (*p == i) {
            *p = u->ep[i].hnext;
            u->ep[i].hnext = TCP_NONE;
            return;
        }
}

int tcp_lookup(struct tcp *u, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport)
{
    uint32_t b = bucket(u, laddr, lport, raddr, rport);
    for (uint16_t k = u->hash[b]; k != TCP_NONE; k = u->ep[k].hnext) {
        const struct tcp_cb *c = &u->cb[k];
        if (c->lport == lport && c->rport == rport && c->raddr == raddr &&
            (c->laddr == laddr || !c->laddr))
            return k;
    }
    return -1;
}

/* Listeners are hashed with raddr 0, rport 0: exact address first, then
 * any (RFC 9293 3.9.1.3's "local socket" match). */
int tcp_lookup_listener(struct tcp *u, uint32_t laddr, uint16_t lport)
{
    int any = -1;
    uint32_t b = bucket(u, 0, lport, 0, 0);
    for (uint16_t k = u->hash[b]; k != TCP_NONE; k = u->ep[k].hnext) {
        const struct tcp_cb *c = &u->cb[k];
        if (c->state != TCPS_LISTEN || c->lport != lport)
            continue;
        if (c->laddr == laddr)
            return k;
        if (!c->laddr)
            any = k;
    }
    return any;
}

/* Is lport taken for an endpoint bound to laddr (issue 10.3: SO_REUSEADDR
 * lets a port be bound again while the others holding it are not
 * listening, e.g. in TIME_WAIT, as BSD and Linux do)? */
int tcp_port_in_use(struct tcp *u, int self, uint32_t laddr, uint16_t lport, bool reuse)
{
    for (uint32_t k = 0; k < u->cfg.max_conns; k++) {
        const struct tcp_cb *c = &u->cb[k];
        if ((int)k == self || c->state == TCPS_FREE || !u->ep[k].bound || c->lport != lport)
            continue;
        if (c->laddr && laddr && c->laddr != laddr)
            continue;
        if (reuse && u->ep[k].reuse && c->state != TCPS_LISTEN)
            continue;
        if (reuse && c->state == TCPS_TIME_WAIT)
            continue;
        return 1;
    }
    return 0;
}

struct pick_ctx {
    struct tcp *u;
    int i;
    uint32_t raddr;
    uint16_t rport;
};

static int usable(void *vctx, uint16_t port)
{
    struct pick_ctx *p = vctx;
    struct tcp_cb *c = &p->u->cb[p->i];
    /* a port is fine toward this peer unless the 4-tuple exists or
     * someone is bound to it without a peer (listening or about to) */
    if (tcp_lookup(p->u, c->laddr, port, p->raddr, p->rport) >= 0)
        return 0;
    for (uint32_t k = 0; k < p->u->cfg.max_conns; k++) {
        const struct tcp_cb *o = &p->u->cb[k];
        if (o->state != TCPS_FREE && o->lport == port && p->u->ep[k].bound && !o->rport)
            return 0;
    }
    return 1;
}

/* RFC 6056 3.3.3: an ephemeral port for a connection to raddr:rport. */
int tcp_autobind(struct tcp *u, int i, uint32_t raddr, uint16_t rport)
{
    struct tcp_cb *c = &u->cb[i];
    uint32_t off = tcp_port_offset(u->key, c->laddr, raddr, rport);
    struct pick_ctx p = {u, i, raddr, rport};
    uint16_t port;
    if (tcp_port_pick(off, &u->port_next, u->cfg.port_min, u->cfg.port_max, usable, &p, &port))
        return -EADDRNOTAVAIL;
    c->lport = port;
    u->ep[i].bound = 1;
    return 0;
}

static void ep_init(struct tcp *u, int i)
{
    struct tcp_ep *e = &u->ep[i];
    memset(e, 0, sizeof(*e));
    lyra_skbq_init(&e->sndq);
    lyra_skbq_init(&e->rcvq);
    lyra_l4_ipopts_init(&e->o);
    e->sndbuf = u->cfg.snd_buf;
    e->rcvbuf = u->cfg.rcv_buf;
    e->keep_idle = (uint16_t)u->cfg.keep_idle_s;
    e->keep_intvl = (uint16_t)u->cfg.keep_intvl_s;
    e->keep_cnt = (uint8_t)u->cfg.keep_cnt;
    e->parent = e->hnext = e->aq_head = e->aq_tail = e->aq_next = TCP_NONE;
    e->cc_idx = u->cfg.cc_idx;
}

/* The oldest connection in TIME_WAIT (issue 10.1: reclaimed when the
 * table is full; RFC 9293 3.6.1 lets a host end TIME_WAIT early). */
static int oldest_time_wait(struct tcp *u)
{
    int best = -1;
    for (uint32_t k = 0; k < u->cfg.max_conns; k++) {
        const struct tcp_cb *c = &u->cb[k];
        if (c->state != TCPS_TIME_WAIT || !(c->flags & CB_ORPHAN))
            continue;
        if (best < 0 || (int32_t)(c->last_rx - u->cb[best].last_rx) < 0)
            best = (int)k;
    }
    return best;
}

int tcp_conn_alloc(struct tcp *u)
{
    if (u->free_head == TCP_NONE) {
        int tw = oldest_time_wait(u);
        if (tw < 0)
            return -ENOBUFS;
        u->st.tw_reclaimed++;
        tcp_conn_release(u, tw);
    }
    int i = u->free_head;
    u->free_head = u->ep[i].hnext;
    struct tcp_cb *c = &u->cb[i];
    memset(c, 0, sizeof(*c));
    lyra_timer_init(&c->tmr, tcp_timer_fn, u);
    tcp_timers_init(&c->tm);
    c->state = TCPS_CLOSED;
    c->mss = TCP_DEFAULT_MSS;
    ep_init(u, i);
    lyra_zc_reset(&u->zc[i]);
    tcp_rcvq_purge(u, i); /* empty queues; the out-of-order ranges set up in one place */
    u->nconns++;
    return i;
}

/* The oldest half-open connection a listener made: under a SYN flood its
 * peer is most likely spoofed (a real one answers within a round trip),
 * and with SYN cookies on a real one still gets in. */
static int oldest_half_open(struct tcp *u)
{
    int best = -1;
    for (uint32_t k = 0; k < u->cfg.max_conns; k++) {
        const struct tcp_cb *c = &u->cb[k];
        if (c->state != TCPS_SYN_RCVD || !(c->flags & CB_PASSIVE) || u->ep[k].parent == TCP_NONE)
            continue;
        if (best < 0 || (int32_t)(c->last_rx - u->cb[best].last_rx) < 0)
            best = (int)k;
    }
    return best;
}

int tcp_conn_alloc_evict(struct tcp *u)
{
    int i = tcp_conn_alloc(u);
    if (i >= 0)
        return i;
    int h = oldest_half_open(u);
    if (h < 0)
        return -ENOBUFS;
    u->st.syn_evicted++;
    tcp_conn_release(u, h);
    return tcp_conn_alloc(u);
}

static bool hashed(const struct tcp_cb *c)
{
    return c->state == TCPS_LISTEN || (c->state > TCPS_LISTEN && c->state != TCPS_FREE);
}

void tcp_conn_release(struct tcp *u, int i)
{
    struct tcp_cb *c = &u->cb[i];
    struct tcp_ep *e = &u->ep[i];
    if (c->state == TCPS_FREE)
        return;
    if (hashed(c))
        tcp_hash_del(u, i);
    tcp_timer_stop(u, i);
    tcp_sndq_purge(u, i);
    tcp_rcvq_purge(u, i);
    if (e->parent != TCP_NONE && e->parent < u->cfg.max_conns) {
        struct tcp_ep *l = &u->ep[e->parent];
        if (l->pending)
            l->pending--;
        if (c->state == TCPS_SYN_RCVD && l->synq)
            l->synq--;
        /* out of the listener's accept queue, if it is there */
        for (uint16_t *p = &l->aq_head; *p != TCP_NONE; p = &u->ep[*p].aq_next)
            if (*p == i) {
                *p = e->aq_next;
                if (l->aq_tail == i) {
                    l->aq_tail = TCP_NONE;
                    for (uint16_t k = l->aq_head; k != TCP_NONE; k = u->ep[k].aq_next)
                        l->aq_tail = k;
                }
                break;
            }
    }
    c->state = TCPS_FREE;
    e->hnext = u->free_head;
    u->free_head = (uint16_t)i;
    u->nconns--;
}

void tcp_set_state(struct tcp *u, int i, enum tcp_state s)
{
    struct tcp_cb *c = &u->cb[i];
    uint16_t p = u->ep[i].parent;
    if (p != TCP_NONE && (c->state == TCPS_SYN_RCVD) != (s == TCPS_SYN_RCVD)) {
        /* the listener's SYN queue: its children in SYN-RECEIVED */
        if (s == TCPS_SYN_RCVD)
            u->ep[p].synq++;
        else if (u->ep[p].synq)
            u->ep[p].synq--;
    }
    bool was = hashed(c);
    if (!was && s != TCPS_CLOSED && s != TCPS_FREE) {
        c->state = (uint8_t)s;
        tcp_hash_add(u, i);
        return;
    }
    if (was && (s == TCPS_CLOSED || s == TCPS_FREE))
        tcp_hash_del(u, i);
    c->state = (uint8_t)s;
}

void tcp_ready(struct tcp *u, int i, unsigned what)
{
    struct tcp_ep *e = &u->ep[i];
    if (u->ev && e->cookie != LYRA_L4_NO_COOKIE)
        u->ev->ready(u->ev_user, e->cookie, what);
}

void tcp_conn_drop(struct tcp *u, int i, int err)
{
    struct tcp_cb *c = &u->cb[i];
    struct tcp_ep *e = &u->ep[i];
    if (err)
        e->o.err = err;
    if (c->flags & CB_ORPHAN || (e->parent != TCP_NONE && !(c->flags & CB_ACCEPTED))) {
        /* nobody will read the error: a passive child not accepted yet is
         * forgotten by its listener (RFC 9293 3.10.7.4 SYN-RECEIVED) */
        tcp_conn_release(u, i);
        return;
    }
    tcp_timer_stop(u, i);
    tcp_sndq_purge(u, i);
    e->snd_bytes = 0;
    tcp_sack_reset(u, i);
    tcp_set_state(u, i, TCPS_CLOSED);
    c->flags |= CB_FIN_RCVD; /* reads end (after what is queued) */
    tcp_ready(u, i, LYRA_POLL_IN | LYRA_POLL_OUT | LYRA_POLL_HUP | (err ? LYRA_POLL_ERR : 0));
}

void tcp_enter_time_wait(struct tcp *u, int i)
{
    struct tcp_cb *c = &u->cb[i];
    tcp_set_state(u, i, TCPS_TIME_WAIT);
    for (unsigned k = 0; k < TCP_T_N; k++)
        tcp_timers_clear(&c->tm, (enum tcp_timer_kind)k);
    c->last_rx = tcp_ms(u);
    tcp_sndq_purge(u, i);
    u->ep[i].snd_bytes = 0;
    tcp_sack_reset(u, i);
    tcp_timer_set(u, i, TCP_T_KEEP, u->cfg.time_wait_ms);
    tcp_ready(u, i, LYRA_POLL_IN | LYRA_POLL_HUP);
}

/* RFC 7323 2.3: the smallest shift that lets the whole buffer be offered. */
uint8_t tcp_choose_ws(uint32_t rcvbuf)
{
    uint8_t ws = 0;
    while (ws < TCP_WS_MAX && (rcvbuf >> ws) > TCP_MAX_WIN)
        ws++;
    return ws;
}
