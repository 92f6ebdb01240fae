/* A listener (RFC 9293 3.10.7.2). A SYN makes a child in SYN-RECEIVED;
 * a listener has two queues, each as long as its listen() backlog (as
 * Linux): the SYN queue (children in SYN-RECEIVED, ep.synq) and the accept
 * queue (established, not yet accepted). With the SYN queue full or no
 * slot free, a SYN cookie (tcp_syncookie.h) answers instead and nothing is
 * kept: the connection is made when the peer's final ACK brings the cookie
 * back. A full accept queue drops SYNs, cookies or not: a connection
 * nobody accepts helps no one (Linux does the same). */
#include "tcp_hashes.h"
#include "tcp_priv.h"
#include "tcp_syncookie.h"

static void child_inherit(struct tcp *u, int l, int i)
{
    struct tcp_ep *le = &u->ep[l], *e = &u->ep[i];
    e->o.ttl = le->o.ttl;
    e->o.tos = le->o.tos;
    e->o.linger = le->o.linger;
    e->sndbuf = le->sndbuf;
    e->rcvbuf = le->rcvbuf;
    e->user_timeout = le->user_timeout;
    e->keep_idle = le->keep_idle;
    e->keep_intvl = le->keep_intvl;
    e->keep_cnt = le->keep_cnt;
    e->maxseg = le->maxseg;
    e->cc_idx = le->cc_idx;
    e->bound = 1;
    u->cb[i].flags |= u->cb[l].flags & (CB_KEEP | CB_NODELAY);
    /* SO_ZEROCOPY and the loan bound too: Linux copies the listener's
     * socket flags into the child (sk_clone_lock) */
    u->zc[i].on = u->zc[l].on;
    u->zc[i].loan_max = u->zc[l].loan_max;
}

/* Slot i becomes listener l's child for the segment's 4-tuple, with its
 * sequence space (tcp_conn_prepare); no state yet. */
static void child_new(struct tcp *u, int l, int i, const struct tcp_repr *r,
                      const struct lyra_l3_rxinfo *info)
{
    struct tcp_cb *c = &u->cb[i];
    child_inherit(u, l, i);
    c->laddr = info->dst;
    c->lport = r->dport;
    c->raddr = info->src;
    c->rport = r->sport;
    c->flags |= CB_PASSIVE;
    u->ep[i].parent = (uint16_t)l;
    u->ep[l].pending++;
    tcp_conn_prepare(u, i);
    c->last_rx = tcp_ms(u);
    u->st.conns_opened++;
}

static bool accept_queue_full(const struct tcp_ep *le)
{
    return (uint32_t)(le->pending - le->synq) >= le->backlog;
}

/* Cookies are checked only on a listener that sent some within their
 * life (as Linux's tcp_synq_no_recent_overflow): elsewhere an ACK gets
 * its RST and a blind guesser gets nothing to aim at. */
static bool cookies_recent(struct tcp *u, const struct tcp_ep *le)
{
    return le->cookies && tcp_ms(u) - le->cookie_ms < 2u * TCP_COOKIE_PERIOD_MS;
}

static struct tcp_tuple tuple_of(const struct tcp_repr *r, const struct lyra_l3_rxinfo *info)
{
    struct tcp_tuple t = {.laddr = info->dst, .raddr = info->src, .lport = r->dport,
                          .rport = r->sport};
    return t;
}

/* What a SYN-ACK offers: the receive buffer, unscaled (RFC 7323 2.2), as
 * tcp_rcv_window gives a connection with nothing received yet. */
static uint16_t syn_window(uint32_t rcvbuf)
{
    return (uint16_t)(rcvbuf > TCP_MAX_WIN ? TCP_MAX_WIN : rcvbuf);
}

/* The SYN-ACK a child would send (tcp_send_syn), with the cookie as our
 * sequence number and the listener's settings. */
static void cookie_synack(struct tcp *u, int l, const struct tcp_repr *r,
                          const struct lyra_l3_rxinfo *info)
{
    struct tcp_ep *le = &u->ep[l];
    const struct tcp_hdr_opts *in = &r->opt;
    struct tcp_tuple t = tuple_of(r, info);
    struct tcp_cookie_opts co = {
        .mss = (in->has & TCP_HAS_MSS) ? in->mss : (uint16_t)TCP_DEFAULT_MSS,
        .ws = (u->cfg.wscale && (in->has & TCP_HAS_WS)) ? in->ws : (uint8_t)TCP_COOKIE_NO_WS,
        .sack = u->cfg.sack && (in->has & TCP_HAS_SACK_PERM),
    };
    uint32_t now = tcp_ms(u);
    struct tcp_repr o;
    memset(&o, 0, sizeof(o));
    o.sport = r->dport;
    o.dport = r->sport;
    o.seq = tcp_seq(tcp_cookie_make(u->key, &t, r->seq.v, tcp_cookie_count(lyra_now(&u->os)), &co));
    o.ack = tcp_seq_add(r->seq, 1);
    o.flags = TCP_SYN | TCP_ACK;
    o.window = syn_window(le->rcvbuf);
    o.opt.has = TCP_HAS_MSS;
    o.opt.mss = tcp_our_mss(u, t.raddr, le->maxseg);
    if (co.ws != TCP_COOKIE_NO_WS) {
        o.opt.has |= TCP_HAS_WS;
        o.opt.ws = tcp_choose_ws(le->rcvbuf);
    }
    if (co.sack)
        o.opt.has |= TCP_HAS_SACK_PERM;
    if (u->cfg.timestamps && (in->has & TCP_HAS_TS)) {
        o.opt.has |= TCP_HAS_TS;
        o.opt.tsval = now + tcp_ts_offset(u->key, t.laddr, t.raddr);
        o.opt.tsecr = in->tsval;
    }
    le->cookies = 1;
    le->cookie_ms = now;
    if (tcp_send_unbound(u, &o, t.laddr, t.raddr, le->o.ttl, le->o.tos) == 0)
        u->st.syncookies_sent++;
}

/* An ACK to listener l that may return a cookie: <SEQ=ISN+1><ACK=cookie+1>.
 * The connection it makes, in SYN-RECEIVED as if its SYN-ACK had just
 * gone, or -1. */
static int cookie_ack(struct tcp *u, int l, const struct tcp_repr *r,
                      const struct lyra_l3_rxinfo *info)
{
    struct tcp_ep *le = &u->ep[l];
    struct tcp_tuple t = tuple_of(r, info);
    struct tcp_cookie_opts co;
    if (!tcp_cookie_check(u->key, &t, r->seq.v - 1u, tcp_cookie_count(lyra_now(&u->os)),
                          r->ack.v - 1u, &co)) {
        /* dropped without a RST, as Linux: the peer's first segment sent
         * again (SEG.SEQ = ISN+1 once more) may still carry the cookie */
        u->st.syncookies_failed++;
        return -1;
    }
    if (accept_queue_full(le)) {
        u->st.syn_backlog_drops++; /* the peer sends it again; the cookie lives on */
        return -1;
    }
    /* a peer that answered is worth the slot of one that has not */
    int i = tcp_conn_alloc_evict(u);
    if (i < 0) {
        u->st.syn_no_mem++;
        return -1;
    }
    u->st.syncookies_ok++;
    child_new(u, l, i, r, info);
    struct tcp_cb *c = &u->cb[i];
    c->iss = tcp_seq(r->ack.v - 1u);
    c->snd_una = c->iss;
    c->snd_nxt = c->snd_max = r->ack;
    c->rcv_nxt = r->seq;
    c->rcv_adv = tcp_seq_add(c->rcv_nxt, syn_window(u->ep[i].rcvbuf));
    /* the options as the SYN had them, so one function negotiates both
     * ways; timestamps are on when the ACK carries them */
    struct tcp_repr syn;
    memset(&syn, 0, sizeof(syn));
    syn.opt.has = TCP_HAS_MSS;
    syn.opt.mss = co.mss;
    if (co.ws != TCP_COOKIE_NO_WS) {
        syn.opt.has |= TCP_HAS_WS;
        syn.opt.ws = co.ws;
    }
    if (co.sack)
        syn.opt.has |= TCP_HAS_SACK_PERM;
    if (r->opt.has & TCP_HAS_TS) {
        syn.opt.has |= TCP_HAS_TS;
        syn.opt.tsval = r->opt.tsval;
    }
    tcp_syn_options(u, i, &syn);
    if (c->flags & CB_TS)
        c->ts_off = tcp_ts_offset(u->key, c->laddr, c->raddr); /* what our SYN-ACK's TSval had */
    c->snd_wnd = r->window; /* established() scales it */
    tcp_set_state(u, i, TCPS_SYN_RCVD);
    return i;
}

int tcp_listen_input(struct tcp *u, int l, const struct tcp_repr *r,
                     const struct lyra_l3_rxinfo *info)
{
    struct tcp_ep *le = &u->ep[l];
    if (r->flags & TCP_RST) {
        u->st.rst_ignored++;
        return -1;
    }
    if (r->flags & TCP_ACK) {
        if (!(r->flags & TCP_SYN) && u->cfg.syncookies && cookies_recent(u, le))
            return cookie_ack(u, l, r, info);
        tcp_send_rst_reply(u, r, info); /* <SEQ=SEG.ACK><CTL=RST> */
        return -1;
    }
    if (!(r->flags & TCP_SYN) || (r->flags & TCP_FIN))
        return -1; /* SYN+FIN opens nothing (as Linux; no legitimate peer sends it) */
    if (accept_queue_full(le)) {
        u->st.syn_backlog_drops++; /* the peer retries its SYN */
        return -1;
    }
    int i = le->synq < le->backlog ? tcp_conn_alloc(u) : -1;
    if (i < 0) {
        if (u->cfg.syncookies) {
            cookie_synack(u, l, r, info);
        } else if (le->synq >= le->backlog) {
            u->st.syn_backlog_drops++;
        } else {
            u->st.syn_no_mem++;
        }
        return -1;
    }
    child_new(u, l, i, r, info);
    struct tcp_cb *c = &u->cb[i];
    c->rcv_nxt = tcp_seq_add(r->seq, 1);
    c->rcv_adv = c->rcv_nxt;
    tcp_syn_options(u, i, r);
    c->snd_wnd = r->window;
    tcp_set_state(u, i, TCPS_SYN_RCVD);
    /* data on a SYN is not kept: the peer sends it again once we ACK */
    tcp_send_syn(u, i);
    tcp_timer_set(u, i, TCP_T_RTX, c->rto.rto / 1000);
    return -1;
}
