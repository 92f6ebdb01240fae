/* The l4 ops: what the socket layer calls (RFC 9293 3.10.1-3.10.6 user
 * calls: OPEN, SEND, RECEIVE, CLOSE, ABORT, STATUS), with BSD's errors. */
#include "tcp_priv.h"

static struct tcp_cb *cb_get(struct tcp *u, int h)
{
    if (h < 0 || (uint32_t)h >= u->cfg.max_conns || u->cb[h].state == TCPS_FREE ||
        (u->cb[h].flags & CB_ORPHAN))
        return NULL;
    return &u->cb[h];
}

#define GET(h)                                                                                 \
    struct tcp *u = self;                                                                      \
    struct tcp_cb *c = cb_get(u, h);                                                           \
    if (!c)                                                                                    \
        return -EBADF;                                                                         \
    struct tcp_ep *e = &u->ep[h];                                                              \
    (void)e

static int op_open(void *self)
{
    struct tcp *u = self;
    if (!u->started)
        return -ENETDOWN;
    int i = tcp_conn_alloc_evict(u); /* a SYN flood's half-open children give way */
    return i < 0 ? -ENOBUFS : i;
}

/* A listener's children go with it: connections not accepted are reset
 * (RFC 9293 3.10.4: CLOSE of a listener; Linux resets them too). */
static void close_listener(struct tcp *u, int l)
{
    for (uint32_t k = 0; k < u->cfg.max_conns; k++) {
        if (u->cb[k].state == TCPS_FREE || u->ep[k].parent != l)
            continue;
        if (u->cb[k].state != TCPS_SYN_RCVD)
            tcp_send_rst(u, (int)k);
        tcp_conn_release(u, (int)k);
    }
    tcp_conn_release(u, l);
}

static void op_close(void *self, int h)
{
    struct tcp *u = self;
    struct tcp_cb *c = cb_get(u, h);
    if (!c)
        return;
    struct tcp_ep *e = &u->ep[h];
    e->cookie = LYRA_L4_NO_COOKIE;
    switch (c->state) {
    case TCPS_LISTEN:
        close_listener(u, h);
        return;
    case TCPS_CLOSED:
    case TCPS_SYN_SENT:
        tcp_conn_release(u, h);
        return;
    default:
        break;
    }
    if (e->rcv_bytes || e->o.linger == 0) {
        /* unread data lost, or SO_LINGER 0: ABORT (RFC 9293 3.10.5; RFC
         * 2525 2.17 for the unread data) */
        if (c->state != TCPS_TIME_WAIT)
            tcp_send_rst(u, h);
        u->st.conns_reset++;
        tcp_conn_release(u, h);
        return;
    }
    c->flags |= CB_ORPHAN;
    switch (c->state) {
    case TCPS_SYN_RCVD:
        c->flags |= CB_FIN_Q; /* the FIN follows the SYN once established (3.10.4) */
        break;
    case TCPS_ESTABLISHED:
        c->flags |= CB_FIN_Q;
        tcp_set_state(u, h, TCPS_FIN_WAIT_1);
        tcp_output(u, h);
        break;
    case TCPS_CLOSE_WAIT:
        c->flags |= CB_FIN_Q;
        tcp_set_state(u, h, TCPS_LAST_ACK);
        tcp_output(u, h);
        break;
    case TCPS_FIN_WAIT_2:
        tcp_timer_set(u, h, TCP_T_KEEP, u->cfg.time_wait_ms);
        break;
    default: /* FIN_WAIT_1, CLOSING, LAST_ACK, TIME_WAIT finish alone */
        break;
    }
}

static int bind_port(struct tcp *u, int h, uint32_t addr, uint16_t port)
{
    struct tcp_cb *c = &u->cb[h];
    struct tcp_ep *e = &u->ep[h];
    if (port) {
        if (tcp_port_in_use(u, h, addr, port, e->reuse))
            return -EADDRINUSE;
        c->lport = port;
    } else {
        /* any free port of the ephemeral range */
        uint16_t n = (uint16_t)(u->cfg.port_max - u->cfg.port_min + 1);
        uint16_t p = 0;
        for (uint32_t k = 0; k < n && !p; k++) {
            uint16_t cand = (uint16_t)(u->cfg.port_min + (u->port_next++ % n));
            if (!tcp_port_in_use(u, h, addr, cand, false))
                p = cand;
        }
        if (!p)
            return -EADDRINUSE;
        c->lport = p;
    }
    c->laddr = addr;
    e->bound = 1;
    return 0;
}

static int op_bind(void *self, int h, const struct lyra_sockaddr4 *a)
{
    GET(h);
    if (c->state != TCPS_CLOSED || e->bound)
        return -EINVAL;
    if (a->addr && !u->l3->is_local(u->l3_self, a->addr))
        return -EADDRNOTAVAIL;
    return bind_port(u, h, a->addr, a->port);
}

static int op_listen(void *self, int h, int backlog)
{
    GET(h);
    if (backlog < 1)
        backlog = 1;
    if ((uint32_t)backlog > u->cfg.backlog_max)
        backlog = (int)u->cfg.backlog_max;
    if (c->state == TCPS_LISTEN) {
        e->backlog = (uint16_t)backlog;
        return 0;
    }
    if (c->state != TCPS_CLOSED || e->was_conn)
        return -EINVAL;
    if (!e->bound) {
        int r = bind_port(u, h, 0, 0);
        if (r)
            return r;
    }
    /* two listeners on one port and address, even with SO_REUSEADDR: no */
    for (uint32_t k = 0; k < u->cfg.max_conns; k++) {
        const struct tcp_cb *o = &u->cb[k];
        if ((int)k != h && o->state == TCPS_LISTEN && o->lport == c->lport &&
            (o->laddr == c->laddr || !o->laddr || !c->laddr))
            return -EADDRINUSE;
    }
    e->backlog = (uint16_t)backlog;
    c->raddr = 0;
    c->rport = 0;
    tcp_set_state(u, h, TCPS_LISTEN);
    return 0;
}

static int op_accept(void *self, int h, struct lyra_sockaddr4 *peer)
{
    GET(h);
    if (c->state != TCPS_LISTEN)
        return -EINVAL;
    uint16_t k = e->aq_head;
    if (k == TCP_NONE)
        return -EAGAIN;
    e->aq_head = u->ep[k].aq_next;
    if (e->aq_head == TCP_NONE)
        e->aq_tail = TCP_NONE;
    if (e->pending)
        e->pending--;
    struct tcp_ep *ke = &u->ep[k];
    ke->parent = TCP_NONE;
    ke->aq_next = TCP_NONE;
    ke->was_conn = 1;
    u->st.conns_accepted++;
    if (peer) {
        peer->addr = u->cb[k].raddr;
        peer->port = u->cb[k].rport;
    }
    return k;
}

static int op_connect(void *self, int h, const struct lyra_sockaddr4 *a)
{
    GET(h);
    switch (c->state) {
    case TCPS_SYN_SENT:
    case TCPS_SYN_RCVD:
        return -EALREADY;
    case TCPS_CLOSED:
        break;
    case TCPS_LISTEN:
        return -EINVAL;
    default:
        return -EISCONN;
    }
    if (!a->addr || !a->port)
        return a->port ? -ENETUNREACH : -EINVAL;
    struct lyra_l3_route rt;
    memset(&rt, 0, sizeof(rt));
    if (u->l3->route(u->l3_self, a->addr, &rt)) {
        u->st.tx_noroute++;
        return -ENETUNREACH;
    }
    /* RFC 9293 3.9.1.1 (MUST-46): no connection to a broadcast or
     * multicast address */
    if ((a->addr & 0xf0000000u) == 0xe0000000u || rt.next_hop == LYRA_L2_BROADCAST)
        return -ENETUNREACH;
    /* a new attempt on a socket that failed one: fresh protocol state */
    c->flags &= (uint16_t)(CB_NODELAY | CB_KEEP);
    e->o.err = 0;
    e->soft_err = 0;
    e->snd_urg = 0;
    c->raddr = a->addr;
    c->rport = a->port;
    if (!c->laddr)
        c->laddr = rt.src;
    if (!e->bound) {
        int r = tcp_autobind(u, h, a->addr, a->port);
        if (r)
            return r;
    } else if (tcp_lookup(u, c->laddr, c->lport, a->addr, a->port) >= 0) {
        return -EADDRINUSE;
    }
    tcp_conn_prepare(u, h);
    c->rcv_nxt = c->rcv_adv = tcp_seq(0);
    tcp_set_state(u, h, TCPS_SYN_SENT);
    e->was_conn = 1;
    u->st.conns_opened++;
    c->flags |= CB_RTT;
    c->rtt_seq = c->iss;
    c->rtt_start = tcp_ms(u);
    tcp_send_syn(u, h);
    tcp_timer_set(u, h, TCP_T_RTX, c->rto.rto / 1000);
    return -EINPROGRESS;
}

static bool can_write(const struct tcp_cb *c)
{
    return (c->state == TCPS_ESTABLISHED || c->state == TCPS_CLOSE_WAIT) && !(c->flags & CB_FIN_Q);
}

static long op_send(void *self, int h, const void *buf, size_t len, const struct lyra_sockaddr4 *to,
                    int flags)
{
    GET(h);
    (void)to; /* a connected stream ignores the address, as BSD */
    if ((flags & (LYRA_MSG_ZC_CALL | LYRA_MSG_ZC_CONT)) == (LYRA_MSG_ZC_CALL | LYRA_MSG_ZC_CONT) &&
        !len) {
        lyra_zc_call_end(&u->zc[h]); /* the blocking MSG_ZEROCOPY call returns */
        return 0;
    }
    if (e->o.err)
        return lyra_l4_take_err(&e->o);
    if (c->state == TCPS_SYN_SENT || c->state == TCPS_SYN_RCVD)
        return -EAGAIN; /* the handshake's end makes it writable */
    if (!can_write(c))
        return e->was_conn || c->state != TCPS_CLOSED ? -EPIPE : -ENOTCONN;
    if (!len)
        return 0;
    if (!buf)
        return -EFAULT;
    uint32_t n = len > INT32_MAX ? INT32_MAX : (uint32_t)len;
    struct lyra_zc *z = &u->zc[h];
    struct lyra_zc_rec *zr = NULL;
    int zcopy = 0;
    bool zc = (flags & LYRA_MSG_ZEROCOPY) && z->on; /* off: ignored, as Linux */
    if (zc && (flags & LYRA_MSG_ZC_CONT)) {
        zr = lyra_zc_cont(z); /* NULL: copy this round */
        zc = false;           /* no id taken: nothing to count or give back */
    } else if (zc) {
        zr = lyra_zc_begin(z, lyra_zc_of(e->sndq.tail), &zcopy);
        if (!zr && !zcopy) {
            u->st.zc_nobufs++;
            return -ENOBUFS; /* no record free: read the error queue (lyra/l4_zc.h) */
        }
        u->st.zc_sends++;
        u->st.zc_copy_fallback += (unsigned)zcopy;
    }
    long r = tcp_sndq_append(u, h, buf, n, zr);
    if (zc && r <= 0) {
        lyra_zc_abort(z, zr); /* nothing taken: the id is not used */
        u->st.zc_sends--;
        u->st.zc_copy_fallback -= (unsigned)zcopy;
    } else if (zr && zc && (flags & LYRA_MSG_ZC_CALL) && (uint32_t)r < n) {
        lyra_zc_call_keep(z, zr); /* more rounds come: the hold stays until the call ends */
    } else if (zr) {
        lyra_zc_put(zr); /* the call's (or round's) own hold: done unless skbs reference it */
    }
    if (r > 0 && (flags & LYRA_MSG_OOB)) {
        /* urgent data (RFC 9293 3.8.5): the mark just after what was
         * taken, as Linux (the peer's sockatmark says 1 before its last
         * byte, ours after it) */
        e->snd_up = tcp_sndq_end(u, h);
        e->snd_urg = 1;
    }
    if (r > 0)
        tcp_output(u, h);
    return r;
}

/* A read moved the edge we may offer (3.8.6.2.2 says by how much, not
 * when to announce it). A segment of its own is worth it only when the
 * peer's room was small: at most half of the largest offer, and the new
 * offer at least twice it (as Linux's tcp_cleanup_rbuf). Otherwise the
 * next ACK carries the edge: an update per read would double the ACKs of
 * an application that keeps up, one per segment it reads. While the peer
 * recovers from a loss (quick, tcp_priv.h) every read that opens the
 * window is answered: ACKs are what its recovery runs on. */
static bool update_worth_it(struct tcp *u, int h, int32_t before)
{
    struct tcp_cb *c = &u->cb[h];
    uint32_t was = before > 0 ? (uint32_t)before : 0;
    uint32_t now = tcp_rcv_window(u, h);
    uint32_t max = TCP_MAX_WIN << c->rcv_ws;
    if (u->ep[h].rcvbuf < max)
        max = u->ep[h].rcvbuf;
    if (now <= was)
        return false;
    return c->quick || (was <= max / 2 && now >= 2 * was);
}

/* n bytes left the receive queue (read or lent, before: the window
 * advertised until then). */
static void after_read(struct tcp *u, int h, int32_t before, long n)
{
    struct tcp_cb *c = &u->cb[h];
    struct tcp_ep *e = &u->ep[h];
    if (n > 0 && tcp_synced(c) && !(c->flags & CB_FIN_RCVD) && update_worth_it(u, h, before)) {
        c->flags |= CB_ACK_NOW;
        tcp_output(u, h);
    }
    if (!e->rcv_bytes && !(c->flags & CB_FIN_RCVD) && !e->shut_rd)
        tcp_ready(u, h, LYRA_L4_DRAINED);
}

static long no_data(struct tcp *u, int h);

static long op_recv(void *self, int h, const struct lyra_iov *iov, unsigned iovcnt,
                    struct lyra_sockaddr4 *from, struct lyra_l4_dst *to, int flags)
{
    GET(h);
    (void)to;
    if (flags & LYRA_MSG_OOB)
        return -EINVAL; /* urgent data is in line (Linux with SO_OOBINLINE) */
    if (flags & LYRA_MSG_ERRQUEUE)
        return -EOPNOTSUPP;
    if (c->state == TCPS_LISTEN)
        return -ENOTCONN;
    for (unsigned k = 0; k < iovcnt; k++)
        if (!iov[k].base && iov[k].len)
            return -EFAULT;
    if (from) {
        from->addr = c->raddr;
        from->port = c->rport;
    }
    if (e->rcv_bytes) {
        int32_t before = tcp_seq_diff(c->rcv_adv, c->rcv_nxt);
        long n = tcp_rcvq_recv(u, h, iov, iovcnt, flags);
        if (!(flags & LYRA_MSG_PEEK))
            after_read(u, h, before, n);
        return n;
    }
    return no_data(u, h);
}

/* l4 1.3: the next piece in place; as recv otherwise (the window opens). */
static long op_recv_loan(void *self, int h, struct lyra_l4_loan *ln, int flags)
{
    GET(h);
    if (!ln)
        return -EFAULT;
    if (flags)
        return -EINVAL;
    if (c->state == TCPS_LISTEN)
        return -ENOTCONN;
    if (e->rcv_bytes) {
        if (u->zc[h].loans >= u->zc[h].loan_max)
            return -ENOBUFS; /* LYRA_SO_LOAN_MAX: return some first */
        int32_t before = tcp_seq_diff(c->rcv_adv, c->rcv_nxt);
        long n = tcp_rcvq_loan(u, h, ln);
        after_read(u, h, before, n);
        u->st.rx_loans++;
        return n;
    }
    return no_data(u, h);
}

static void op_loan_return(void *self, struct lyra_l4_loan *ln)
{
    struct tcp *u = self;
    if (ln && ln->skb && ln->h < u->cfg.max_conns)
        lyra_zc_unlend(&u->zc[ln->h], ln);
}

/* What recv says when nothing is queued: an error, the end, or -EAGAIN. */
static long no_data(struct tcp *u, int h)
{
    struct tcp_cb *c = &u->cb[h];
    struct tcp_ep *e = &u->ep[h];
    if (e->o.err)
        return lyra_l4_take_err(&e->o);
    if ((c->flags & CB_FIN_RCVD) || e->shut_rd)
        return 0;
    if (c->state == TCPS_CLOSED)
        return e->was_conn ? 0 : -ENOTCONN;
    return -EAGAIN;
}

static int op_shutdown(void *self, int h, int how)
{
    GET(h);
    if (how < 0 || how > 2)
        return -EINVAL;
    if (!tcp_synced(c) && c->state != TCPS_SYN_RCVD)
        return -ENOTCONN;
    if (how != 1) {
        e->shut_rd = 1;
        tcp_ready(u, h, LYRA_POLL_IN);
    }
    if (how != 0 && !(c->flags & CB_FIN_Q)) {
        if (c->state == TCPS_SYN_RCVD) {
            /* RFC 9293 3.10.4: queued until ESTABLISHED; the FIN's
             * sequence number comes after the SYN's, never in its place */
            c->flags |= CB_FIN_Q;
        } else if (c->state == TCPS_ESTABLISHED) {
            c->flags |= CB_FIN_Q;
            tcp_set_state(u, h, TCPS_FIN_WAIT_1);
        } else if (c->state == TCPS_CLOSE_WAIT) {
            c->flags |= CB_FIN_Q;
            tcp_set_state(u, h, TCPS_LAST_ACK);
        }
        tcp_output(u, h);
    }
    return 0;
}

static int op_name(void *self, int h, int peer, struct lyra_sockaddr4 *out)
{
    GET(h);
    if (peer) {
        if (!c->rport || c->state == TCPS_LISTEN || (c->state == TCPS_CLOSED))
            return -ENOTCONN;
        out->addr = c->raddr;
        out->port = c->rport;
        return 0;
    }
    out->addr = c->laddr;
    out->port = c->lport;
    return 0;
}

static unsigned op_poll(void *self, int h)
{
    struct tcp *u = self;
    struct tcp_cb *c = cb_get(u, h);
    if (!c)
        return LYRA_POLL_ERR;
    struct tcp_ep *e = &u->ep[h];
    unsigned m = e->o.err || lyra_zc_pending(&u->zc[h]) ? LYRA_POLL_ERR : 0;
    if (c->state == TCPS_LISTEN)
        return m | (e->aq_head != TCP_NONE ? LYRA_POLL_IN : 0);
    if (e->rcv_bytes || (c->flags & CB_FIN_RCVD) || e->shut_rd)
        m |= LYRA_POLL_IN;
    if (c->flags & CB_FIN_RCVD)
        m |= LYRA_POLL_RDHUP;
    if (e->urg_left != TCP_URG_NONE)
        m |= LYRA_POLL_PRI; /* urgent data not read past yet (MUST-32) */
    if (can_write(c)) {
        uint32_t space = tcp_sndq_space(u, h);
        uint32_t low = c->mss < e->sndbuf ? c->mss : e->sndbuf;
        uint32_t hr = u->l3->headroom(u->l3_self) + TCP_HDR_MAX;
        if (space >= low && lyra_skb_tx_avail(u->skb, u->skb_self, LYRA_SKB_DATA, hr))
            m |= LYRA_POLL_OUT;
    }
    if (c->state == TCPS_CLOSED)
        m |= LYRA_POLL_OUT | LYRA_POLL_HUP | (e->was_conn ? LYRA_POLL_IN : 0);
    else if ((c->flags & CB_FIN_RCVD) && (c->flags & CB_FIN_Q))
        m |= LYRA_POLL_HUP;
    return m;
}

/* ----- options ---------------------------------------------------------------------- */

static int op_setopt(void *self, int h, int opt, int val)
{
    GET(h);
    int r = lyra_l4_ipopt_set(&e->o, opt, val);
    if (r <= 0)
        return r;
    switch (opt) {
    case LYRA_SO_ZEROCOPY:
        u->zc[h].on = val != 0;
        return 0;
    case LYRA_SO_LOAN_MAX:
        return lyra_zc_set_loan_max(&u->zc[h], val);
    case LYRA_SO_REUSEADDR:
        e->reuse = val != 0;
        return 0;
    case LYRA_SO_RCVBUF:
    case LYRA_SO_SNDBUF:
        if (val < 0)
            return -EINVAL;
        /* at least two segments' worth, as Linux's minimums */
        uint32_t v = (uint32_t)val < 2048u ? 2048u : (uint32_t)val > (1u << 30) ? 1u << 30 : (uint32_t)val;
        if (opt == LYRA_SO_RCVBUF) {
            e->rcvbuf = v;
            if (c->state == TCPS_CLOSED || c->state == TCPS_LISTEN)
                c->rcv_ws = u->cfg.wscale ? tcp_choose_ws(v) : 0;
        } else {
            e->sndbuf = v;
            tcp_ready(u, h, LYRA_POLL_OUT);
        }
        return 0;
    case LYRA_TCP_NODELAY:
        if (val)
            c->flags |= CB_NODELAY;
        else
            c->flags &= (uint16_t)~CB_NODELAY;
        if (val && tcp_synced(c))
            tcp_output(u, h); /* what Nagle held goes now, as Linux */
        return 0;
    case LYRA_SO_KEEPALIVE:
        if (val) {
            c->flags |= CB_KEEP;
            if (c->state == TCPS_ESTABLISHED || c->state == TCPS_CLOSE_WAIT)
                tcp_timer_keep_restart(u, h);
        } else {
            c->flags &= (uint16_t)~CB_KEEP;
        }
        return 0;
    case LYRA_TCP_MAXSEG:
        if (val && (val < 88 || val > 32767))
            return -EINVAL; /* Linux's range */
        e->maxseg = (uint16_t)val;
        return 0;
    case LYRA_TCP_KEEPIDLE:
    case LYRA_TCP_KEEPINTVL:
        if (val < 1 || val > 32767)
            return -EINVAL;
        if (opt == LYRA_TCP_KEEPIDLE)
            e->keep_idle = (uint16_t)val;
        else
            e->keep_intvl = (uint16_t)val;
        return 0;
    case LYRA_TCP_KEEPCNT:
        if (val < 1 || val > 127)
            return -EINVAL;
        e->keep_cnt = (uint8_t)val;
        return 0;
    case LYRA_TCP_USER_TIMEOUT:
        if (val < 0)
            return -EINVAL;
        e->user_timeout = (uint32_t)val;
        return 0;
    default:
        return -ENOPROTOOPT;
    }
}

static int op_getopt(void *self, int h, int opt, int *val)
{
    GET(h);
    if (lyra_l4_ipopt_get(&e->o, opt, val, 0) == 0)
        return 0;
    switch (opt) {
    case LYRA_SO_ZEROCOPY:
        *val = u->zc[h].on;
        return 0;
    case LYRA_SO_LOAN_MAX:
        *val = u->zc[h].loan_max;
        return 0;
    case LYRA_SO_REUSEADDR:
        *val = e->reuse;
        return 0;
    case LYRA_SO_RCVBUF:
        *val = (int)e->rcvbuf;
        return 0;
    case LYRA_SO_SNDBUF:
        *val = (int)e->sndbuf;
        return 0;
    case LYRA_TCP_NODELAY:
        *val = !!(c->flags & CB_NODELAY);
        return 0;
    case LYRA_SO_KEEPALIVE:
        *val = !!(c->flags & CB_KEEP);
        return 0;
    case LYRA_TCP_MAXSEG:
        *val = tcp_synced(c) ? c->mss : e->maxseg ? e->maxseg : TCP_DEFAULT_MSS;
        return 0;
    case LYRA_TCP_KEEPIDLE:
        *val = e->keep_idle;
        return 0;
    case LYRA_TCP_KEEPINTVL:
        *val = e->keep_intvl;
        return 0;
    case LYRA_TCP_KEEPCNT:
        *val = e->keep_cnt;
        return 0;
    case LYRA_TCP_USER_TIMEOUT:
        *val = (int)e->user_timeout;
        return 0;
    case LYRA_SIOCATMARK:
        *val = e->urg_left == 0; /* the next byte is the mark (MUST-33) */
        return 0;
    default:
        return -ENOPROTOOPT;
    }
}

static int op_setopt_buf(void *self, int h, int opt, const void *val, uint32_t len)
{
    GET(h);
    if (opt != LYRA_TCP_CONGESTION)
        return opt == LYRA_TCP_INFO ? -EINVAL : -ENOPROTOOPT;
    if (!val)
        return -EFAULT;
    char name[16];
    uint32_t n = 0;
    while (n < len && n < sizeof(name) - 1 && ((const char *)val)[n])
        name[n] = ((const char *)val)[n], n++;
    name[n] = 0;
    for (unsigned k = 0; k < tcp_cc_nalgs; k++)
        if (!strcmp(tcp_cc_algs[k]->name, name)) {
            e->cc_idx = (uint8_t)k;
            /* before the handshake tcp_cc_init follows with cc_idx; a live
             * connection's new algorithm starts from the windows there are */
            tcp_cc_switch(&c->cc, tcp_cc_algs[k]);
            return 0;
        }
    return -ENOENT;
}

static int op_getopt_buf(void *self, int h, int opt, void *val, uint32_t *len)
{
    GET(h);
    if (!val || !len)
        return -EFAULT;
    if (opt == LYRA_TCP_CONGESTION) {
        const char *nm = tcp_cc_algs[e->cc_idx]->name;
        uint32_t n = (uint32_t)strlen(nm) + 1;
        if (n > *len)
            n = *len;
        memcpy(val, nm, n);
        *len = n;
        return 0;
    }
    if (opt == LYRA_SO_ZC_COMPL)
        return lyra_zc_take_buf(&u->zc[h], val, len);
    if (opt == LYRA_TCP_INFO) {
        struct lyra_tcp_info ti;
        tcp_info_fill(u, h, &ti);
        uint32_t n = *len < sizeof(ti) ? *len : (uint32_t)sizeof(ti);
        memcpy(val, &ti, n);
        *len = n;
        return 0;
    }
    return -ENOPROTOOPT;
}

static void op_set_cookie(void *self, int h, uintptr_t cookie)
{
    struct tcp *u = self;
    if (cb_get(u, h))
        u->ep[h].cookie = cookie;
}

void tcp_info_fill(struct tcp *u, int i, struct lyra_tcp_info *ti)
{
    static const uint8_t map[] = {
        [TCPS_FREE] = LYRA_TCPS_CLOSED,         [TCPS_CLOSED] = LYRA_TCPS_CLOSED,
        [TCPS_LISTEN] = LYRA_TCPS_LISTEN,       [TCPS_SYN_SENT] = LYRA_TCPS_SYN_SENT,
        [TCPS_SYN_RCVD] = LYRA_TCPS_SYN_RECEIVED, [TCPS_ESTABLISHED] = LYRA_TCPS_ESTABLISHED,
        [TCPS_FIN_WAIT_1] = LYRA_TCPS_FIN_WAIT_1, [TCPS_FIN_WAIT_2] = LYRA_TCPS_FIN_WAIT_2,
        [TCPS_CLOSE_WAIT] = LYRA_TCPS_CLOSE_WAIT, [TCPS_CLOSING] = LYRA_TCPS_CLOSING,
        [TCPS_LAST_ACK] = LYRA_TCPS_LAST_ACK,   [TCPS_TIME_WAIT] = LYRA_TCPS_TIME_WAIT,
    };
    const struct tcp_cb *c = &u->cb[i];
    const struct tcp_ep *e = &u->ep[i];
    memset(ti, 0, sizeof(*ti));
    ti->state = map[c->state];
    ti->options = (uint8_t)(((c->flags & CB_TS) ? LYRA_TCPI_OPT_TIMESTAMPS : 0) |
                            ((c->flags & CB_SACK) ? LYRA_TCPI_OPT_SACK : 0) |
                            ((c->flags & CB_WS) ? LYRA_TCPI_OPT_WSCALE : 0));
    ti->snd_wscale = c->snd_ws;
    ti->rcv_wscale = c->rcv_ws;
    ti->backoff = c->rto.backoff;
    ti->retransmits = c->retries;
    ti->rto = c->rto.rto;
    ti->rtt = c->rto.srtt;
    ti->rttvar = c->rto.rttvar;
    ti->snd_mss = c->mss;
    ti->rcv_mss = c->rmss;
    ti->snd_cwnd = c->cc.cwnd;
    ti->snd_ssthresh = c->cc.ssthresh;
    ti->snd_wnd = c->snd_wnd;
    int32_t rw = tcp_seq_diff(c->rcv_adv, c->rcv_nxt);
    ti->rcv_wnd = rw > 0 ? (uint32_t)rw : 0;
    ti->unacked = tcp_synced(c) ? tcp_flight(c) : 0;
    ti->total_retrans = e->total_retrans;
    ti->bytes_acked = e->bytes_acked;
    ti->bytes_received = e->bytes_received;
    const char *nm = tcp_cc_algs[e->cc_idx]->name;
    strncpy(ti->congestion, nm, sizeof(ti->congestion) - 1);
}

const struct lyra_l4_ops tcp_l4_ops = {
    .hdr = LYRA_OPS_HDR(LYRA_L4_IFACE, LYRA_L4_MAJOR, LYRA_L4_MINOR, struct lyra_l4_ops),
    .type = LYRA_SOCK_STREAM,
    .protocol = LYRA_IPPROTO_TCP,
    .open = op_open,
    .close = op_close,
    .bind = op_bind,
    .connect = op_connect,
    .listen = op_listen,
    .accept = op_accept,
    .send = op_send,
    .recv = op_recv,
    .shutdown = op_shutdown,
    .name = op_name,
    .poll = op_poll,
    .setopt = op_setopt,
    .getopt = op_getopt,
    .set_cookie = op_set_cookie,
    .setopt_buf = op_setopt_buf,
    .getopt_buf = op_getopt_buf,
    .recv_loan = op_recv_loan,
    .loan_return = op_loan_return,
};

int tcp_l4_attach(void *self, const void *events, void *user)
{
    struct tcp *u = self;
    u->ev = events;
    u->ev_user = user;
    return 0;
}
