/* Segment arrival: RFC 9293 3.10.7, state by state. The header is parsed
 * by tcp_wire.c; this file decides what a segment means for the
 * connection it belongs to, queues its payload (tcp_rcvq.c) and lets
 * tcp_output.c send what follows. Every skb ip hands up is queued or
 * freed here, next to the counter that says why. */
#include "tcp_hashes.h"
#include "tcp_input.h"
#include "tcp_priv.h"

/* ----- options of a SYN (RFC 9293 3.7.1, RFC 7323 2, 3, RFC 2018 2) ---------- */

void tcp_syn_options(struct tcp *u, int i, const struct tcp_repr *r)
{
    struct tcp_cb *c = &u->cb[i];
    const struct tcp_hdr_opts *o = &r->opt;
    if (u->cfg.wscale && (o->has & TCP_HAS_WS)) {
        c->flags |= CB_WS;
        c->snd_ws = o->ws; /* the parser clamps it to 14 (RFC 7323 2.3) */
    } else {
        c->flags &= (uint16_t)~CB_WS;
        c->snd_ws = c->rcv_ws = 0;
    }
    if (u->cfg.sack && (o->has & TCP_HAS_SACK_PERM))
        c->flags |= CB_SACK;
    else
        c->flags &= (uint16_t)~CB_SACK;
    if (u->cfg.timestamps && (o->has & TCP_HAS_TS)) {
        c->flags |= CB_TS;
        c->ts_recent = o->tsval;
    } else {
        c->flags &= (uint16_t)~CB_TS;
    }
    /* the send MSS: what the peer takes (536 without the option), the
     * timestamps' 12 bytes out of it (RFC 9293 3.7.1: the MSS counts
     * options in the TCP header), and never above our own cap */
    uint32_t mss = (o->has & TCP_HAS_MSS) ? o->mss : TCP_DEFAULT_MSS;
    if (mss > c->rmss)
        mss = c->rmss;
    uint32_t optb = tcp_ts_len(c);
    c->mss_clamp = (uint16_t)(mss > optb + 64 ? mss - optb : 64);
    /* ... and within the path MTU ip knows (MUST-16: what IP sends) */
    struct lyra_l3_route rt;
    memset(&rt, 0, sizeof(rt));
    c->mss = c->mss_clamp;
    if (u->l3->route(u->l3_self, c->raddr, &rt) == 0)
        c->mss = tcp_mss_for_mtu(c, rt.mtu);
}

static void established(struct tcp *u, int i, const struct tcp_repr *r, bool syn_window)
{
    struct tcp_cb *c = &u->cb[i];
    struct tcp_ep *e = &u->ep[i];
    tcp_cc_init(&c->cc, tcp_cc_algs[e->cc_idx], c->mss);
    /* RFC 7323 2.2: the window of a SYN is never scaled */
    c->snd_wnd = syn_window ? r->window : (uint32_t)r->window << c->snd_ws;
    c->snd_wnd_max = c->snd_wnd;
    c->snd_wl1 = r->seq;
    c->snd_wl2 = r->ack;
    c->retries = 0;
    /* a close or SHUT_WR in SYN-RECEIVED waited for this (3.10.4) */
    tcp_set_state(u, i, (c->flags & CB_FIN_Q) ? TCPS_FIN_WAIT_1 : TCPS_ESTABLISHED);
    u->st.conns_established++;
    c->last_rx = tcp_ms(u);
    tcp_timer_keep_restart(u, i);
}

/* ----- RTT (RFC 6298 2, RFC 7323 4.1) ----------------------------------------------- */

static void rtt_sample(struct tcp *u, int i, const struct tcp_repr *r)
{
    struct tcp_cb *c = &u->cb[i];
    uint32_t now = tcp_ms(u);
    int32_t ms = -1;
    bool ts = (c->flags & CB_TS) && (r->opt.has & TCP_HAS_TS) && r->opt.tsecr;
    if (ts)
        ms = (int32_t)(now + c->ts_off - r->opt.tsecr);
    if ((c->state == TCPS_SYN_SENT || c->state == TCPS_SYN_RCVD) && c->retries) {
        /* RFC 6298 3 (Karn): a retransmitted handshake gives a sample only
         * through a timestamp: an echo of the last SYN (SYN-ACK) sent, at
         * rtt_start, or one under an initial RTO (an echo of a SYN sent
         * before a timeout would be at least that: this one was sent just
         * before the last, a SYN-ACK answering the SYN again, say). An
         * older echo (the peer got both SYNs, or the first waited behind
         * ARP) may be a second late. Without one, 5.7: data starts with
         * the RTO of the days before 1 s, 3 s (three initial RTOs: a test
         * that shortens rto_init_ms shortens this too) */
        c->flags &= (uint16_t)~CB_RTT;
        if (ms < 0 ||
            ((uint32_t)ms > now - c->rtt_start && (uint32_t)ms >= u->rto_lim.init_us / 1000u)) {
            uint64_t fb = 3ull * u->rto_lim.init_us;
            c->rto.rto = fb < u->rto_lim.max_us ? (uint32_t)fb : u->rto_lim.max_us;
            c->rto.backoff = 0;
            return;
        }
    } else if (!ts && (c->flags & CB_RTT) && tcp_seq_gt(r->ack, c->rtt_seq)) {
        ms = (int32_t)(now - c->rtt_start);
        c->flags &= (uint16_t)~CB_RTT;
    }
    if (ms < 0)
        return;
    /* the ms clock: a sample of 0 is below one tick (G covers it) */
    tcp_rto_sample(&c->rto, &u->rto_lim, (uint32_t)ms * 1000u + 500u);
}

/* ----- opening (3.10.7.2: LISTEN itself is tcp_listen.c) --------------------------------- */

/* Our MSS for a connection toward raddr: the link's MTU less 40 (RFC
 * 9293 3.7.1; never the path MTU, RFC 2923 2.3: the way back may carry
 * more), the mss parameter and TCP_MAXSEG (maxseg, 0: none). */
uint16_t tcp_our_mss(struct tcp *u, uint32_t raddr, uint16_t maxseg)
{
    struct lyra_l3_route rt;
    memset(&rt, 0, sizeof(rt));
    uint32_t m = u->cfg.mss;
    if (u->l3->route(u->l3_self, raddr, &rt) == 0) {
        uint32_t mtu = rt.link_mtu ? rt.link_mtu : rt.mtu;
        if (mtu > 40 && mtu - 40 < m)
            m = mtu - 40;
    }
    if (maxseg && maxseg < m)
        m = maxseg;
    return (uint16_t)(m < 64 ? 64 : m);
}

void tcp_conn_prepare(struct tcp *u, int i)
{
    struct tcp_cb *c = &u->cb[i];
    c->rmss = tcp_our_mss(u, c->raddr, u->ep[i].maxseg);
    c->mss_clamp = 0; /* the peer's SYN says (tcp_syn_options) */
    c->rcv_ws = u->cfg.wscale ? tcp_choose_ws(u->ep[i].rcvbuf) : 0;
    c->iss = tcp_seq(tcp_isn(u->key, c->laddr, c->lport, c->raddr, c->rport, lyra_now(&u->os)));
    c->snd_una = c->snd_nxt = c->snd_max = c->iss;
    tcp_sack_reset(u, i);
    uint8_t rnd[4];
    u->os.ops->random(u->os.self, rnd, sizeof(rnd));
    c->ts_off = (uint32_t)rnd[0] << 24 | (uint32_t)rnd[1] << 16 | (uint32_t)rnd[2] << 8 | rnd[3];
    tcp_rto_init(&c->rto, &u->rto_lim);
    tcp_cc_init(&c->cc, tcp_cc_algs[u->ep[i].cc_idx], TCP_DEFAULT_MSS);
    c->rtx_start = tcp_ms(u);
}

/* ----- SYN-SENT (3.10.7.3) -------------------------------------------------------------- */

static void syn_sent_input(struct tcp *u, int i, struct seg *g)
{
    struct tcp_cb *c = &u->cb[i];
    const struct tcp_repr *r = &g->r;
    bool ack_ok = false;
    if (r->flags & TCP_ACK) {
        if (tcp_seq_le(r->ack, c->iss) || tcp_seq_gt(r->ack, c->snd_max)) {
            if (!(r->flags & TCP_RST))
                tcp_send_rst_reply(u, r, g->info);
            return;
        }
        ack_ok = true;
    }
    if (r->flags & TCP_RST) {
        if (ack_ok) {
            u->st.rst_rcvd++;
            u->st.conns_refused++;
            tcp_conn_drop(u, i, ECONNREFUSED);
        } else {
            u->st.rst_ignored++;
        }
        return;
    }
    if (!(r->flags & TCP_SYN))
        return;
    c->rcv_nxt = tcp_seq_add(r->seq, 1);
    c->rcv_adv = c->rcv_nxt;
    tcp_syn_options(u, i, r);
    if (ack_ok) {
        rtt_sample(u, i, r);
        c->snd_una = r->ack;
        tcp_timer_clear(u, i, TCP_T_RTX);
        established(u, i, r, true);
        c->flags |= CB_ACK_NOW;
        tcp_ready(u, i, LYRA_POLL_OUT);
        return;
    }
    /* simultaneous open (3.5 figure 8): SYN-RECEIVED, our SYN again with
     * an ACK */
    c->snd_wnd = r->window;
    tcp_set_state(u, i, TCPS_SYN_RCVD);
    tcp_send_syn(u, i);
}

/* ----- synchronized states (3.10.7.4) ---------------------------------------------------- */

static bool acceptable(const struct tcp_cb *c, tcp_seq_t seq, uint32_t seglen)
{
    int32_t w = tcp_seq_diff(c->rcv_adv, c->rcv_nxt);
    uint32_t wnd = w > 0 ? (uint32_t)w : 0;
    tcp_seq_t end = tcp_seq_add(c->rcv_nxt, wnd);
    /* a segment without data may sit at the right edge (a peer that
     * filled our window and lost some of it sends its ACKs from there):
     * accepted as Linux does (tcp_sequence), RFC 9293's test being
     * RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND */
    if (!seglen)
        return wnd ? tcp_seq_ge(seq, c->rcv_nxt) && tcp_seq_le(seq, end)
                   : tcp_seq_eq(seq, c->rcv_nxt);
    if (!wnd)
        return false;
    tcp_seq_t last = tcp_seq_add(seq, seglen - 1);
    return (tcp_seq_ge(seq, c->rcv_nxt) && tcp_seq_lt(seq, end)) ||
           (tcp_seq_ge(last, c->rcv_nxt) && tcp_seq_lt(last, end));
}

/* RFC 5961 7: a challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT> (at the batch's
 * end), at most challenge_ack_limit per second of the connection. The
 * budget is the connection's own, not the host's: Linux's host-wide one
 * was CVE-2016-5696 (Cao et al., "Off-Path TCP Exploits", USENIX Security
 * 2016): an attacker spent it with spoofed segments aimed at a victim's
 * connection and counted the challenge ACKs left on a connection of its
 * own, learning whether its guess was in the window. A per-connection
 * budget shows an attacker only what its own segments spent. Linux too
 * limits per socket now (one per tcp_invalid_ratelimit, 500 ms: our
 * default of 2 per second) and leaves its host-wide limit off (INT_MAX
 * since 6.0). */
static void challenge_ack(struct tcp *u, int i)
{
    struct tcp_cb *c = &u->cb[i];
    uint16_t sec = (uint16_t)(tcp_ms(u) / 1000u);
    if (c->chal_sec != sec) {
        c->chal_sec = sec;
        c->chal_n = 0;
    }
    if (c->chal_n >= u->cfg.challenge_ack_limit) {
        u->st.challenge_acks_limited++;
        return;
    }
    c->chal_n++;
    u->st.challenge_acks++;
    c->flags |= CB_ACK_NOW;
}

/* RST in a synchronized state or SYN-RECEIVED. */
static void rst_input(struct tcp *u, int i, struct seg *g)
{
    struct tcp_cb *c = &u->cb[i];
    if (!tcp_seq_eq(g->r.seq, c->rcv_nxt)) {
        /* in the window but not exact: RFC 9293 3.10.7.4 (RFC 5961 3.2)
         * challenge ACK; only the peer, who knows RCV.NXT, can then reset */
        challenge_ack(u, i);
        return;
    }
    u->st.rst_rcvd++;
    switch (c->state) {
    case TCPS_SYN_RCVD:
        if (c->flags & CB_PASSIVE) {
            tcp_conn_release(u, i); /* back to LISTEN: the child goes */
            return;
        }
        u->st.conns_refused++;
        tcp_conn_drop(u, i, ECONNREFUSED);
        return;
    case TCPS_ESTABLISHED:
    case TCPS_FIN_WAIT_1:
    case TCPS_FIN_WAIT_2:
    case TCPS_CLOSE_WAIT:
        u->st.conns_reset++;
        tcp_conn_drop(u, i, ECONNRESET);
        return;
    default: /* CLOSING, LAST-ACK, TIME-WAIT */
        tcp_conn_drop(u, i, 0);
        return;
    }
}

/* The SACK side of an ACK (RFC 6675 5): its blocks into the scoreboard;
 * a duplicate ACK is one with new SACK information (RFC 6675 2), or an RFC
 * 5681 one without SACK blocks (a path that strips them). Outside
 * recovery, DupThresh duplicates or IsLost(HighACK + 1) start it, when
 * they are for data sent after the last recovery or RTO began. IsLost is
 * asked on every ACK, not only on duplicates (as Linux's
 * tcp_time_to_recover): the ACK that passes the last recovery's point may
 * bring nothing new while the scoreboard already shows the next loss, and
 * with a small window no more duplicates may come to say it. The sending
 * (limited transmit, step (C)) is tcp_output's, once the batch of ACKs is
 * in. */
static void sack_ack(struct tcp *u, int i, const struct tcp_repr *r, bool dup, uint32_t flight)
{
    struct tcp_cb *c = &u->cb[i];
    bool fresh = tcp_sack_input(u, i, r) > 0;
    dup = fresh || (dup && !(r->opt.has & TCP_HAS_SACK));
    if (dup)
        u->st.dupacks_rcvd++;
    if (tcp_sack_recovering(u, i) || !flight || !tcp_flight(c))
        return;
    if (dup && c->dupacks < 255)
        c->dupacks++;
    if (!u->ep[i].sb.marks && c->dupacks < 3)
        return;
    tcp_sack_scan(u, i);
    if ((c->dupacks >= 3 || tcp_sack_head_lost(u, i)) &&
        tcp_cc_may_recover(&c->cc, c->snd_una.v, 1))
        tcp_sack_enter_recovery(u, i, tcp_flight(c));
}

/* Fifth, the ACK field (3.10.7.4). Returns false when the segment is
 * done with (dropped or the connection gone). */
static bool ack_input(struct tcp *u, int i, struct seg *g)
{
    struct tcp_cb *c = &u->cb[i];
    const struct tcp_repr *r = &g->r;
    if (c->state == TCPS_SYN_RCVD) {
        if (!tcp_seq_gt(r->ack, c->snd_una) || tcp_seq_gt(r->ack, c->snd_max)) {
            tcp_send_rst_reply(u, r, g->info);
            return false;
        }
        rtt_sample(u, i, r);
        c->snd_una = r->ack;
        tcp_timer_clear(u, i, TCP_T_RTX);
        established(u, i, r, false);
        struct tcp_ep *e = &u->ep[i];
        if (e->parent != TCP_NONE) {
            /* to the listener's accept queue */
            struct tcp_ep *le = &u->ep[e->parent];
            e->aq_next = TCP_NONE;
            if (le->aq_tail != TCP_NONE)
                u->ep[le->aq_tail].aq_next = (uint16_t)i;
            else
                le->aq_head = (uint16_t)i;
            le->aq_tail = (uint16_t)i;
            c->flags |= CB_ACCEPTED;
            tcp_ready(u, e->parent, LYRA_POLL_IN);
        } else {
            tcp_ready(u, i, LYRA_POLL_OUT);
        }
    }
    /* RFC 5961 5.2 (RFC 9293 3.10.7.4, MAY-12): acceptable is
     * SND.UNA - MAX.SND.WND =< SEG.ACK =< SND.NXT (SND.NXT: the highest
     * sent, snd_max). Beyond it, the ACK of something not yet sent or one
     * older than any window the peer could have seen: a blind injection
     * guessing the ACK field. The segment goes, data and all, with a
     * challenge ACK. */
    if (tcp_seq_gt(r->ack, c->snd_max) ||
        tcp_seq_lt(r->ack, tcp_seq(c->snd_una.v - c->snd_wnd_max))) {
        u->st.rx_bad_ack++;
        challenge_ack(u, i);
        return false;
    }
    uint32_t win = (uint32_t)r->window << c->snd_ws;
    uint32_t flight = tcp_flight(c);
    bool same = tcp_seq_eq(r->ack, c->snd_una);
    /* RFC 5681 2: a duplicate ACK (no data, no SYN/FIN, same window, data
     * outstanding) */
    bool dup = same && !g->r.payload_len &&
               !(r->flags & (TCP_SYN | TCP_FIN)) && win == c->snd_wnd && flight > 0 &&
               tcp_seq_ge(c->snd_nxt, c->snd_max);
    if (tcp_seq_gt(r->ack, c->snd_una)) {
        uint32_t acked = (uint32_t)tcp_seq_diff(r->ack, c->snd_una);
        rtt_sample(u, i, r);
        c->retries = 0;
        c->flags &= (uint16_t)~CB_RTX_RUN;
        c->dupacks = 0;
        tcp_sndq_acked(u, i, r->ack);
        u->ep[i].bytes_acked += acked;
        c->snd_una = r->ack;
        if (tcp_seq_lt(c->snd_nxt, c->snd_una))
            c->snd_nxt = c->snd_una;
        c->rtx_start = tcp_ms(u);
        /* with SACK a partial ACK neither deflates nor resends: the
         * scoreboard decides (RFC 6675 5) */
        struct tcp_cc_ack ca = {.acked = acked, .snd_una = c->snd_una.v, .flight = flight,
                                .now_ms = tcp_ms(u), .rtt_ms = c->rto.srtt / 1000u,
                                .sack = (c->flags & CB_SACK) != 0};
        if (tcp_cc_on_ack(&c->cc, &ca) & TCP_CC_RETRANSMIT)
            tcp_retransmit_first(u, i); /* RFC 6582 partial ACK */
        tcp_timer_rtx_restart(u, i);
        tcp_ready(u, i, LYRA_POLL_OUT);
    } /* else a duplicate, or an old one: ignored but for its SACK blocks */
    if (c->flags & CB_SACK) {
        sack_ack(u, i, r, dup, flight);
    } else {
        tcp_sack_input(u, i, r); /* blocks without SACK-permitted: counted, ignored */
        if (dup) {
            u->st.dupacks_rcvd++;
            if (c->dupacks < 255)
                c->dupacks++;
            if (tcp_cc_on_dupack(&c->cc, c->dupacks, c->snd_una.v, c->snd_max.v, flight,
                                 tcp_ms(u)) & TCP_CC_RETRANSMIT) {
                u->st.fast_retransmits++;
                tcp_retransmit_first(u, i);
            }
        }
    }
    if (same && !win && flight)
        c->retries = 0; /* a zero window answered: the peer lives (RFC 1122 4.2.2.17) */
    tcp_snd_wnd_update(c, r->seq, r->ack, win);
    bool fin_acked = (c->flags & CB_FIN_SENT) && tcp_seq_eq(c->snd_una, c->snd_max);
    switch (c->state) {
    case TCPS_FIN_WAIT_1:
        if (fin_acked) {
            tcp_set_state(u, i, TCPS_FIN_WAIT_2);
            if (c->flags & CB_ORPHAN)
                tcp_timer_set(u, i, TCP_T_KEEP, u->cfg.time_wait_ms);
            else
                tcp_ready(u, i, LYRA_POLL_OUT); /* a lingering close waits for this */
        }
        break;
    case TCPS_CLOSING:
        if (fin_acked) {
            tcp_enter_time_wait(u, i);
            return false;
        }
        break;
    case TCPS_LAST_ACK:
        if (fin_acked) {
            tcp_conn_drop(u, i, 0);
            return false;
        }
        break;
    default:
        break;
    }
    return true;
}

/* Sixth, the URG bit (3.8.5, 3.10.7.4; RFC 6093): urgent data stays in
 * line, RCV.UP is the mark just after it. A pointer beyond the mark
 * (urgent data new, or more of it) moves the mark and signals the user
 * (MUST-32: POLLPRI, held until the application reads past the mark);
 * one at or before it, or before what was read, changes nothing. The
 * mark is kept as the bytes left to read before it (MUST-33: recv stops
 * there, sockatmark says when it is reached). */
static void urg_input(struct tcp *u, int i, const struct seg *g)
{
    const struct tcp_cb *c = &u->cb[i];
    struct tcp_ep *e = &u->ep[i];
    if (!(g->r.flags & TCP_URG) || (c->flags & CB_ORPHAN))
        return;
    /* the next byte to read: no FIN is in rcv_nxt in these states */
    tcp_seq_t rd = tcp_seq(c->rcv_nxt.v - e->rcv_bytes);
    int32_t left = tcp_seq_diff(g->up, rd);
    if (left <= 0 || (e->urg_left != TCP_URG_NONE && (uint32_t)left <= e->urg_left))
        return;
    e->urg_left = (uint32_t)left;
    tcp_ready(u, i, LYRA_POLL_PRI);
}

/* Sixth and seventh: urgent data and the payload. */
static void data_input(struct tcp *u, int i, struct seg *g)
{
    struct tcp_cb *c = &u->cb[i];
    if (c->state != TCPS_ESTABLISHED && c->state != TCPS_FIN_WAIT_1 &&
        c->state != TCPS_FIN_WAIT_2)
        return; /* the peer's FIN came before: nothing more from it (URG ignored) */
    urg_input(u, i, g);
    if (!g->len)
        return;
    if (c->flags & CB_ORPHAN) {
        /* nobody will read it (RFC 9293 3.10.4 / RFC 2525 2.17): RST */
        u->st.rx_after_close++;
        tcp_send_rst(u, i);
        tcp_conn_drop(u, i, ECONNRESET);
        return;
    }
    bool had_ooo = c->ooo.n != 0;
    tcp_seq_t seq = g->r.seq;
    u->st.rx_bytes += g->len;
    u->ep[i].bytes_received += g->len;
    bool in_order = tcp_rcvq_data(u, i, g->skb, seq, g->len);
    g->skb = NULL;
    if (!in_order || had_ooo) {
        c->flags |= CB_ACK_NOW; /* 3.8.6.3 / RFC 5681 4.2: out of order or filling a hole */
        g->ack_at_once = true;
        c->quick = TCP_QUICK_ACKS;
    } else {
        tcp_owe_ack_in_order(c);
    }
    if (in_order)
        tcp_ready(u, i, LYRA_POLL_IN);
}

/* Eighth, the FIN (3.10.7.4): processed once everything before it is in.
 * One beyond a hole is held (as Linux keeps it with its out-of-order skb)
 * and taken by the segment that fills the hole: without that the peer
 * must resend it, a retransmission timeout at the end of a lossy transfer. */
static void fin_input(struct tcp *u, int i, struct seg *g)
{
    struct tcp_cb *c = &u->cb[i];
    struct tcp_ep *e = &u->ep[i];
    if (c->state == TCPS_FREE || c->state == TCPS_CLOSED)
        return;
    if (g->r.flags & TCP_FIN) {
        tcp_seq_t at = tcp_seq_add(g->r.seq, g->len);
        if (!tcp_seq_eq(at, c->rcv_nxt) || c->ooo.n) {
            if (tcp_seq_gt(at, c->rcv_nxt) && !(c->flags & CB_FIN_RCVD)) {
                if (!e->fin_held) {
                    e->fin_held = 1;
                    e->fin_seq = at;
                }
                /* out of order, if only a FIN: a duplicate ACK at once
                 * (RFC 5681 4.2), as data beyond the hole gets */
                c->flags |= CB_ACK_NOW;
                g->ack_at_once = true;
            }
            return;
        }
    } else if (!e->fin_held || !tcp_seq_eq(e->fin_seq, c->rcv_nxt) || c->ooo.n) {
        return;
    }
    e->fin_held = 0;
    if (!(c->flags & CB_FIN_RCVD)) {
        c->rcv_nxt = tcp_seq_add(c->rcv_nxt, 1);
        c->flags |= CB_FIN_RCVD;
    }
    c->flags |= CB_ACK_NOW;
    tcp_ready(u, i, LYRA_POLL_IN | LYRA_POLL_RDHUP);
    switch (c->state) {
    case TCPS_SYN_RCVD:
    case TCPS_ESTABLISHED:
        tcp_set_state(u, i, TCPS_CLOSE_WAIT);
        break;
    case TCPS_FIN_WAIT_1:
        if ((c->flags & CB_FIN_SENT) && tcp_seq_eq(c->snd_una, c->snd_max))
            tcp_enter_time_wait(u, i);
        else
            tcp_set_state(u, i, TCPS_CLOSING);
        break;
    case TCPS_FIN_WAIT_2:
        tcp_enter_time_wait(u, i);
        break;
    case TCPS_TIME_WAIT:
        tcp_timer_set(u, i, TCP_T_KEEP, u->cfg.time_wait_ms); /* restart the 2 MSL */
        break;
    default:
        break;
    }
}

/* RFC 7323 4.3 (2): a segment at or below Last.ACK.sent (RCV.NXT here)
 * with a TSval no older than TS.Recent gives the timestamp to echo. */
static void ts_recent_take(struct tcp_cb *c, const struct tcp_repr *r)
{
    if ((c->flags & CB_TS) && (r->opt.has & TCP_HAS_TS) && tcp_seq_le(r->seq, c->rcv_nxt) &&
        !tcp_ts_lt(r->opt.tsval, c->ts_recent))
        c->ts_recent = r->opt.tsval;
}

void tcp_synced_input(struct tcp *u, int i, struct seg *g)
{
    struct tcp_cb *c = &u->cb[i];
    struct tcp_repr *r = &g->r;
    uint32_t seglen = g->len + !!(r->flags & TCP_SYN) + !!(r->flags & TCP_FIN);
    /* RFC 7323 5.3 PAWS: an old timestamp marks an old duplicate */
    if ((c->flags & CB_TS) && (r->opt.has & TCP_HAS_TS) && !(r->flags & TCP_RST) &&
        tcp_ts_lt(r->opt.tsval, c->ts_recent)) {
        u->st.rx_paws++;
        c->flags |= CB_ACK_NOW; /* at the batch's end, as every answer */
        return;
    }
    /* first, the sequence number */
    if (!acceptable(c, r->seq, seglen)) {
        int32_t w = tcp_seq_diff(c->rcv_adv, c->rcv_nxt);
        if (w <= 0 && tcp_seq_eq(r->seq, c->rcv_nxt) && !(r->flags & (TCP_RST | TCP_SYN))) {
            /* zero window: the ACK (and URG) still count, the data not */
            u->st.rx_rcvbuf_full += g->len ? 1 : 0;
            if (g->len || (r->flags & TCP_FIN))
                c->flags |= CB_ACK_NOW; /* a probe: answer with the window (3.8.6.1) */
            g->len = 0;
            r->flags &= (uint8_t)~TCP_FIN;
        } else {
            if (c->state == TCPS_SYN_RCVD && (r->flags & TCP_SYN) &&
                tcp_seq_eq(tcp_seq_add(r->seq, 1), c->rcv_nxt)) {
                /* our SYN-ACK was lost: the SYN came again. Its timestamp is
                 * the one to echo, so that the peer's RTT sample is of the
                 * SYN it sent last */
                ts_recent_take(c, r);
                tcp_send_syn(u, i);
                return;
            }
            if (c->state == TCPS_TIME_WAIT && (r->flags & TCP_FIN) && !(r->flags & TCP_RST))
                /* the peer's FIN again: ACK it, 2 MSL anew (3.10.7.4 TIME-WAIT) */
                tcp_timer_set(u, i, TCP_T_KEEP, u->cfg.time_wait_ms);
            u->st.rx_out_of_window++;
            if (r->flags & TCP_RST)
                u->st.rst_ignored++; /* RFC 5961 3.2: silently */
            else if (r->flags & TCP_SYN)
                challenge_ack(u, i); /* RFC 5961 4.2: whatever its sequence number */
            else
                c->flags |= CB_ACK_NOW;
            if (g->len && tcp_seq_le(tcp_seq_add(r->seq, seglen), c->rcv_nxt)) {
                c->quick = TCP_QUICK_ACKS; /* data we have: the peer lost our ACK */
                /* a newer TSval is the one to echo: the peer's sample is
                 * then the round trip of its retransmission, not the time
                 * since the original went, timeout included (4.3 (C): that
                 * would badly bias its RTT; seen: a 3 s sample, RTOs of 9 s) */
                ts_recent_take(c, r);
            }
            return;
        }
    }
    ts_recent_take(c, r); /* RFC 7323 4.3: remember the timestamp to echo */
    /* second, RST */
    if (r->flags & TCP_RST) {
        rst_input(u, i, g);
        return;
    }
    /* fourth, SYN: RFC 9293 3.10.7.4 (RFC 5961 4.2) challenge ACK: a
     * peer that lost the connection answers it with a RST at RCV.NXT */
    if (r->flags & TCP_SYN) {
        challenge_ack(u, i);
        return;
    }
    /* trim what we have (3.10.7.4 "segments with ... already received") */
    if (tcp_seq_lt(r->seq, c->rcv_nxt)) {
        uint32_t skip = (uint32_t)tcp_seq_diff(c->rcv_nxt, r->seq);
        if (skip >= g->len) {
            if (g->len)
                u->st.rx_dup_data++;
            skip = g->len;
            c->flags |= CB_ACK_NOW; /* a duplicate: the peer lost our ACK */
            c->quick = TCP_QUICK_ACKS;
        }
        lyra_skb_advance(g->skb, skip);
        g->len -= skip;
        r->seq = tcp_seq_add(r->seq, skip);
    }
    int32_t w = tcp_seq_diff(c->rcv_adv, r->seq);
    uint32_t room = w > 0 ? (uint32_t)w : 0;
    if (g->len > room) {
        lyra_skb_trim(g->skb, room); /* beyond the window: cut, the FIN with it */
        g->len = room;
        r->flags &= (uint8_t)~TCP_FIN;
    }
    /* fifth, ACK */
    if (!(r->flags & TCP_ACK))
        return;
    if (!ack_input(u, i, g))
        return;
    if (c->state == TCPS_FREE || c->state == TCPS_CLOSED)
        return;
    data_input(u, i, g);
    if (c->state == TCPS_FREE || c->state == TCPS_CLOSED)
        return;
    fin_input(u, i, g);
}

/* ----- arrival ------------------------------------------------------------------------- */

static void conn_input(struct tcp *u, int i, struct seg *g)
{
    struct tcp_cb *c = &u->cb[i];
    switch (c->state) {
    case TCPS_LISTEN:
        /* a SYN cookie's final ACK makes a connection in SYN-RECEIVED:
         * the segment goes on there */
        i = tcp_listen_input(u, i, &g->r, g->info);
        if (i < 0)
            return;
        c = &u->cb[i];
        tcp_synced_input(u, i, g);
        break;
    case TCPS_SYN_SENT:
        syn_sent_input(u, i, g);
        break;
    default:
        tcp_synced_input(u, i, g);
        break;
    }
    tcp_after_input(u, i, g->ack_at_once);
}

/* A SYN for a connection in TIME_WAIT starts a new one when it cannot be
 * an old duplicate: its sequence number beyond what the old one used (RFC
 * 9293 3.6.1, RFC 1122 4.2.2.13) or, with timestamps, a newer TSval (RFC
 * 6191). Ends the TIME_WAIT entry and says so. */
static bool time_wait_reuse(struct tcp *u, int i, const struct tcp_repr *r)
{
    struct tcp_cb *c = &u->cb[i];
    if (c->state != TCPS_TIME_WAIT || (r->flags & (TCP_SYN | TCP_ACK | TCP_RST)) != TCP_SYN)
        return false;
    bool newer = (c->flags & CB_TS) && (r->opt.has & TCP_HAS_TS)
                     ? tcp_ts_lt(c->ts_recent, r->opt.tsval)
                     : tcp_seq_gt(r->seq, c->rcv_nxt);
    if (!newer)
        return false;
    u->st.tw_reclaimed++;
    if (c->flags & CB_ORPHAN)
        tcp_conn_release(u, i);
    else
        tcp_set_state(u, i, TCPS_CLOSED);
    return true;
}

void tcp_rx(void *user, struct lyra_skb *skb, const struct lyra_l3_rxinfo *info)
{
    struct tcp *u = user;
    if (skb->flags & LYRA_SKB_F_GRO) {
        tcp_rx_run(u, skb, info);
        return;
    }
    /* field by field, not zeroed whole (a memset of the header's
     * representation per segment): the parse fills r, and the other
     * fields are set before anything reads them */
    struct seg g;
    g.info = info;
    g.skb = skb;
    if (!u->started) {
        u->st.rx_down++;
        seg_free(&g);
        return;
    }
    uint32_t tlen = lyra_skb_total(skb);
    uint8_t *p = lyra_skb_pull_up(skb, tlen < TCP_HDR_LEN ? tlen : TCP_HDR_LEN);
    uint32_t hlen = p && tlen >= TCP_HDR_LEN ? (uint32_t)(p[12] >> 4) * 4 : 0;
    if (hlen >= TCP_HDR_LEN && hlen <= tlen)
        p = lyra_skb_pull_up(skb, hlen);
    if (!p || tlen < TCP_HDR_LEN) {
        u->st.rx_bad_hdr++;
        seg_free(&g);
        return;
    }
    if (tcp_repr_parse(p, tlen, &g.r) != TCP_OK) {
        u->st.rx_bad_hdr++;
        seg_free(&g);
        return;
    }
    if (!(skb->flags & LYRA_SKB_F_CSUM_OK) && !(info->flags & LYRA_L3_F_CSUM_OK) &&
        !tcp_csum_sum_ok(lyra_skb_csum(skb, 0, tlen, tcp_pseudo_sum(info->src, info->dst, tlen)))) {
        u->st.rx_bad_csum++;
        seg_free(&g);
        return;
    }
    u->st.rx_segments++;
    if ((info->flags & (LYRA_L3_F_BCAST | LYRA_L3_F_MCAST)) || !g.r.sport || !g.r.dport) {
        u->st.rx_bcast++; /* RFC 1122 4.2.3.10: no TCP to broadcasts */
        seg_free(&g);
        return;
    }
    lyra_skb_pull(skb, g.r.hlen);
    g.len = g.r.payload_len;
    g.ack_at_once = false;
    g.up = tcp_seq_add(g.r.seq, g.r.urg);
    int i = tcp_lookup(u, info->dst, g.r.dport, info->src, g.r.sport);
    if (i >= 0 && time_wait_reuse(u, i, &g.r))
        i = -1; /* RFC 6191: a new incarnation ends TIME_WAIT, the listener takes it */
    if (i < 0)
        i = tcp_lookup_listener(u, info->dst, g.r.dport);
    if (i < 0) {
        /* CLOSED (3.10.7.1) */
        u->st.rx_to_closed++;
        tcp_send_rst_reply(u, &g.r, info);
        seg_free(&g);
        return;
    }
    if (u->run) {
        u->run_i = i;
        u->run_r = g.r;
    }
    if (g.len && (g.r.flags & (uint8_t)~TCP_PSH) == TCP_ACK &&
        tcp_rx_fast(u, i, &g.r, g.r.seq, skb, g.len))
        return; /* header prediction: queued */
    conn_input(u, i, &g);
    seg_free(&g);
}

static void tcp_tx_ready(void *user)
{
    struct tcp *u = user;
    u->st.tx_ready++;
    for (uint32_t k = 0; k < u->cfg.max_conns; k++)
        if (u->cb[k].state >= TCPS_SYN_RCVD)
            tcp_output(u, (int)k);
}

const struct lyra_l3_events tcp_l3_events = {
    .hdr = LYRA_OPS_HDR(LYRA_L3_IFACE, LYRA_L3_MAJOR, LYRA_L3_MINOR, struct lyra_l3_events),
    .rx = tcp_rx,
    .icmp_error = tcp_icmp_error,
    .tx_ready = tcp_tx_ready,
};
