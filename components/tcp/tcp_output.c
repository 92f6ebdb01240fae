/* Building and sending segments: headers with the options a connection
 * negotiated, data from the send queue under the send window, the
 * congestion window, Nagle (RFC 896, RFC 9293 3.7.4) and sender SWS
 * avoidance (RFC 9293 3.8.6.2.1), ACKs, SYNs, RSTs and probes. */
#include "tcp_priv.h"

/* ----- the receive window we offer ------------------------------------------ */

/* RFC 9293 3.8.6.2.2 (RFC 1122 4.2.3.3): the right edge moves only by at
 * least min(RCV.BUFF / 2, MSS), and never back (3.8.6.2.2: shrinking the
 * window is strongly discouraged). */
uint32_t tcp_rcv_window(struct tcp *u, int i)
{
    struct tcp_cb *c = &u->cb[i];
    struct tcp_ep *e = &u->ep[i];
    uint32_t used = e->rcv_bytes + e->ooo_bytes;
    uint32_t free_ = used >= e->rcvbuf ? 0 : e->rcvbuf - used;
    uint32_t max = TCP_MAX_WIN << c->rcv_ws;
    if (free_ > max)
        free_ = max;
    int32_t cur = tcp_seq_diff(c->rcv_adv, c->rcv_nxt);
    uint32_t curw = cur > 0 ? (uint32_t)cur : 0;
    uint32_t step = e->rcvbuf / 2 < c->rmss ? e->rcvbuf / 2 : c->rmss;
    if (free_ >= curw + step || (free_ > curw && free_ == max))
        return free_;
    return curw;
}

/* The window field for a segment (3.10.7.4; unscaled on SYNs, RFC 7323
 * 2.2), and rcv_adv moved to what it offers. */
static uint16_t window_field(struct tcp *u, int i, bool syn)
{
    struct tcp_cb *c = &u->cb[i];
    uint32_t w = tcp_rcv_window(u, i);
    uint32_t f;
    if (syn) {
        f = w > TCP_MAX_WIN ? TCP_MAX_WIN : w;
    } else {
        f = w >> c->rcv_ws;
        if ((f << c->rcv_ws) < w)
            f++; /* round up: the offer never ends short of rcv_adv */
        if (f > TCP_MAX_WIN)
            f = TCP_MAX_WIN;
    }
    tcp_seq_t edge = tcp_seq_add(c->rcv_nxt, syn ? f : f << c->rcv_ws);
    if (tcp_seq_gt(edge, c->rcv_adv))
        c->rcv_adv = edge;
    return (uint16_t)f;
}

/* ----- one segment ------------------------------------------------------------ */

static uint32_t tsval(struct tcp *u, const struct tcp_cb *c)
{
    return tcp_ms(u) + c->ts_off;
}

/* Options of a non-SYN segment: timestamps (RFC 7323 3.2: on every
 * segment once negotiated), SACK blocks while out-of-order data is held
 * (RFC 2018 4: 3 blocks fit beside timestamps). o comes zeroed (hdr_init
 * clears the whole header). */
static void data_opts(struct tcp *u, const struct tcp_cb *c, struct tcp_hdr_opts *o)
{
    if (c->flags & CB_TS) {
        o->has |= TCP_HAS_TS;
        o->tsval = tsval(u, c);
        o->tsecr = c->ts_recent;
    }
    if ((c->flags & CB_SACK) && c->ooo.n) {
        struct tcp_range b[TCP_SACK_MAX];
        unsigned n = tcp_ooo_sack(&c->ooo, b, (c->flags & CB_TS) ? 3 : 4);
        for (unsigned k = 0; k < n; k++) {
            o->sack[k].left = tcp_seq(b[k].start);
            o->sack[k].right = tcp_seq(b[k].end);
        }
        if (n) {
            o->has |= TCP_HAS_SACK;
            o->nsack = (uint8_t)n;
        }
    }
}

/* Pushes r's header on skb, checksums and hands it to l3, with DF (RFC
 * 1191). Takes skb whatever happens. 0, or the negative error (counted).
 * For a connection's segment (c): the route's path MTU sets its MSS, both
 * ways (lowered for another connection's ICMP, raised back once ip's
 * estimate aged out: RFC 1191 6.3), and a segment with data cut for a
 * larger path is not sent: -EMSGSIZE, the caller cuts it again. */
static int emit(struct tcp *u, struct tcp_cb *c, struct lyra_skb *skb, struct tcp_repr *r,
                uint32_t src, uint32_t dst, uint8_t ttl, uint8_t tos)
{
    uint32_t hlen = TCP_HDR_LEN + tcp_opts_len(&r->opt);
    uint8_t *p = lyra_skb_push(skb, hlen);
    if (!p || !tcp_repr_build(p, hlen, r)) {
        u->st.tx_errors++;
        lyra_skb_free(skb);
        return -ENOBUFS;
    }
    uint32_t tlen = lyra_skb_total(skb);
    skb->l4_off = lyra_skb_headroom(skb);
    uint32_t gso = skb->gso_size;
    /* TSO: the NIC adds each segment's length to the seed (skb.h) */
    uint32_t ps = tcp_pseudo_sum(src, dst, gso ? 0 : tlen);
    struct lyra_l3_route rt;
    memset(&rt, 0, sizeof(rt));
    if (u->l3->route(u->l3_self, dst, &rt)) {
        u->st.tx_noroute++;
        lyra_skb_free(skb);
        return -ENETUNREACH;
    }
    if (c && c->mss_clamp) {
        c->gso_segs = (rt.csum_tx & LYRA_CSUM_TCP) ? rt.gso_segs : 0;
        uint16_t m = tcp_mss_for_mtu(c, rt.mtu);
        if (m != c->mss) {
            u->st.pmtu_mss_synced++;
            tcp_mss_set(c, m);
        }
        /* a segment (each of a TSO frame's) within the path MTU */
        if ((tlen > hlen && (gso ? hlen + gso : tlen) + 20u /* IPv4 header */ > rt.mtu) ||
            (gso && !c->gso_segs)) {
            lyra_skb_free(skb);
            return -EMSGSIZE;
        }
    }
    uint32_t segs = gso ? (tlen - hlen + gso - 1) / gso : 1;
    if ((rt.csum_tx & LYRA_CSUM_TCP) && skb->l4_off <= UINT16_MAX) {
        /* the NIC sums from our header (csum_start counts from head) with
         * the pseudo header's sum as the seed (skb.h F_CSUM_TX) */
        uint32_t seed = ps;
        while (seed >> 16)
            seed = (seed & 0xffff) + (seed >> 16);
        tcp_st16(p + TCP_CSUM_OFF, (uint16_t)seed);
        skb->flags |= LYRA_SKB_F_CSUM_TX;
        skb->csum_start = (uint16_t)skb->l4_off;
        skb->csum_off = TCP_CSUM_OFF;
        u->st.tx_csum_offload++;
    } else {
        uint32_t sum = lyra_skb_csum(skb, 0, tlen, ps);
        tcp_st16(p + TCP_CSUM_OFF, (uint16_t)~sum);
    }
    int e = u->l3->output(u->l3_self, skb, src, dst, LYRA_IPPROTO_TCP, ttl, tos, 1);
    if (e) {
        lyra_skb_free(skb); /* l3 2.0: refused, still ours */
        if (e == -EAGAIN || e == -ENOBUFS)
            u->st.tx_nobuf++;
        else
            u->st.tx_errors++;
        return e;
    }
    u->st.tx_segments += segs;
    if (gso) {
        u->st.tx_tso++;
        u->st.tx_tso_segs += segs;
    }
    return 0;
}

static struct lyra_skb *ctl_skb(struct tcp *u)
{
    uint32_t hr = u->l3->headroom(u->l3_self) + TCP_HDR_MAX;
    struct lyra_skb *s = lyra_skb_alloc_cls(u->skb, u->skb_self, LYRA_SKB_CTL, hr, 0);
    if (!s)
        u->st.tx_nobuf++;
    return s;
}

static void hdr_init(struct tcp *u, int i, struct tcp_repr *r, uint8_t flags, tcp_seq_t seq)
{
    struct tcp_cb *c = &u->cb[i];
    memset(r, 0, sizeof(*r));
    r->sport = c->lport;
    r->dport = c->rport;
    r->seq = seq;
    r->flags = flags;
    if (flags & TCP_ACK)
        r->ack = c->rcv_nxt;
    struct tcp_ep *e = &u->ep[i];
    if (e->snd_urg && !tcp_seq_gt(e->snd_up, c->snd_una))
        e->snd_urg = 0; /* the urgent data is acknowledged: urgent mode ends */
    if (e->snd_urg && flags == TCP_ACK && tcp_seq_gt(e->snd_up, seq)) {
        /* RFC 9293 3.8.5 (MUST-62, RFC 6093): every segment before the
         * mark, data, ACK or probe, points just after the urgent data,
         * 0xffff when it is farther (as Linux) */
        uint32_t up = (uint32_t)tcp_seq_diff(e->snd_up, seq);
        r->flags |= TCP_URG;
        r->urg = (uint16_t)(up > 0xffffu ? 0xffffu : up);
    }
    if (flags & TCP_SYN) {
        r->window = window_field(u, i, true);
    } else {
        data_opts(u, c, &r->opt);
        r->window = window_field(u, i, false);
    }
}

static int emit_conn(struct tcp *u, int i, struct lyra_skb *skb, struct tcp_repr *r)
{
    struct tcp_cb *c = &u->cb[i];
    struct tcp_ep *e = &u->ep[i];
    if (r->flags & TCP_ACK) {
        /* every segment with ACK settles what was owed (3.8.6.3) */
        c->flags &= (uint16_t)~(CB_ACK_NOW | CB_ACK_DEL);
        c->unacked_segs = 0;
        tcp_timer_clear(u, i, TCP_T_DELACK);
    }
    return emit(u, c, skb, r, c->laddr, c->raddr, e->o.ttl, e->o.tos);
}

/* ----- control segments ------------------------------------------------------------ */

void tcp_send_ack(struct tcp *u, int i)
{
    struct lyra_skb *s = ctl_skb(u);
    if (!s)
        return; /* still owed: the next segment or timer carries it */
    struct tcp_repr r;
    /* SEQ = the RFC's SND.NXT, the highest sent: snd_nxt rewinds to
     * snd_una on an RTO, and an ACK with a sequence number below what the
     * peer has would be dropped as unacceptable (3.10.7.4) with the
     * acknowledgment it carries: two sides recovering at once then never
     * hear each other's ACKs */
    hdr_init(u, i, &r, TCP_ACK, u->cb[i].snd_max);
    if (emit_conn(u, i, s, &r) == 0)
        u->st.acks_sent++;
}

int tcp_send_syn(struct tcp *u, int i)
{
    struct tcp_cb *c = &u->cb[i];
    struct lyra_skb *s = ctl_skb(u);
    if (!s)
        return -EAGAIN;
    bool synack = c->state == TCPS_SYN_RCVD;
    struct tcp_repr r;
    hdr_init(u, i, &r, synack ? (TCP_SYN | TCP_ACK) : TCP_SYN, c->iss);
    struct tcp_hdr_opts *o = &r.opt;
    memset(o, 0, sizeof(*o));
    o->has = TCP_HAS_MSS;
    o->mss = c->rmss;
    /* RFC 7323 2.2, 3.2; RFC 2018 2: on a SYN-ACK only what the SYN had
     * (the flags hold what both sides may use) */
    if (synack ? (c->flags & CB_WS) : u->cfg.wscale) {
        o->has |= TCP_HAS_WS;
        o->ws = c->rcv_ws;
    }
    if (synack ? (c->flags & CB_SACK) : u->cfg.sack)
        o->has |= TCP_HAS_SACK_PERM;
    if (synack ? (c->flags & CB_TS) : u->cfg.timestamps) {
        o->has |= TCP_HAS_TS;
        o->tsval = tsval(u, c);
        o->tsecr = synack ? c->ts_recent : 0;
    }
    if (synack) {
        c->flags &= (uint16_t)~(CB_ACK_NOW | CB_ACK_DEL);
        c->unacked_segs = 0;
    }
    int e = emit(u, c, s, &r, c->laddr, c->raddr, u->ep[i].o.ttl, u->ep[i].o.tos);
    if (tcp_seq_eq(c->snd_nxt, c->iss)) {
        c->snd_nxt = tcp_seq_add(c->iss, 1);
        c->snd_max = c->snd_nxt;
    }
    return e;
}

int tcp_send_unbound(struct tcp *u, const struct tcp_repr *r, uint32_t src, uint32_t dst,
                     uint8_t ttl, uint8_t tos)
{
    struct lyra_skb *s = ctl_skb(u);
    if (!s)
        return -ENOBUFS;
    struct tcp_repr h = *r;
    return emit(u, NULL, s, &h, src, dst, ttl, tos);
}

void tcp_send_rst_reply(struct tcp *u, const struct tcp_repr *in,
                        const struct lyra_l3_rxinfo *info)
{
    if (in->flags & TCP_RST)
        return; /* 3.10.7.1: never a RST for a RST */
    if (info->flags & (LYRA_L3_F_BCAST | LYRA_L3_F_MCAST)) {
        u->st.rx_bcast++;
        return;
    }
    struct lyra_skb *s = ctl_skb(u);
    if (!s)
        return;
    struct tcp_repr r;
    memset(&r, 0, sizeof(r));
    r.sport = in->dport;
    r.dport = in->sport;
    if (in->flags & TCP_ACK) {
        r.seq = in->ack; /* <SEQ=SEG.ACK><CTL=RST> */
        r.flags = TCP_RST;
    } else {
        uint32_t seglen = in->payload_len + !!(in->flags & TCP_SYN) + !!(in->flags & TCP_FIN);
        r.seq = tcp_seq(0); /* <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> */
        r.ack = tcp_seq_add(in->seq, seglen);
        r.flags = TCP_RST | TCP_ACK;
    }
    if (emit(u, NULL, s, &r, info->dst, info->src, 0, 0) == 0)
        u->st.rst_sent++;
}

void tcp_send_rst(struct tcp *u, int i)
{
    struct lyra_skb *s = ctl_skb(u);
    if (!s)
        return;
    struct tcp_repr r;
    hdr_init(u, i, &r, TCP_RST | TCP_ACK, u->cb[i].snd_max);
    if (emit_conn(u, i, s, &r) == 0)
        u->st.rst_sent++;
}

void tcp_send_keepalive(struct tcp *u, int i)
{
    struct lyra_skb *s = ctl_skb(u);
    if (!s)
        return;
    struct tcp_repr r;
    /* RFC 1122 4.2.3.6: SEG.SEQ = SND.NXT - 1, no data (as Linux) */
    hdr_init(u, i, &r, TCP_ACK, tcp_seq_add(u->cb[i].snd_una, UINT32_MAX));
    emit_conn(u, i, s, &r);
}

/* ----- data ------------------------------------------------------------------------ */

int tcp_xmit_data(struct tcp *u, int i, tcp_seq_t seq, uint32_t len, bool fin, bool rtx)
{
    struct tcp_cb *c = &u->cb[i];
    struct lyra_skb *s;
    uint16_t mss0 = c->mss;
    /* the header first: its options (SACK blocks come and go) take room
     * from the payload, so the segment stays within the peer's MSS
     * (RFC 9293 3.7.1; RFC 1122 4.2.2.6 counts the options sent) */
    struct tcp_repr r;
    bool owed = (c->flags & (CB_ACK_NOW | CB_ACK_DEL)) != 0;
    hdr_init(u, i, &r, TCP_ACK, seq);
    uint32_t full = c->mss + tcp_ts_len(c);
    uint32_t room = full > tcp_opts_len(&r.opt) + 1 ? full - tcp_opts_len(&r.opt) : 1;
    bool sack_later = false;
    if (len > room && (r.opt.has & TCP_HAS_SACK)) {
        /* SACK blocks would cut the segment in two, the rest of its
         * send-queue skb going as a second, small one: under loss a frame
         * more to lose and a recovery more for the peer. The blocks go in
         * a pure ACK after it instead (when this segment carried an owed
         * acknowledgment: the peer learns the same, RFC 2018 4) */
        r.opt.has &= (uint8_t)~TCP_HAS_SACK;
        r.opt.nsack = 0;
        room = full > tcp_opts_len(&r.opt) + 1 ? full - tcp_opts_len(&r.opt) : 1;
        sack_later = owed;
    }
    /* TSO (skb.h gso_size): new data beyond one segment goes as one frame
     * the NIC cuts into segments of `room` bytes, with the same options
     * (timestamps; never SACK blocks or urgent data) in each */
    bool tso = len > room && c->gso_segs > 1 && !rtx && !(r.opt.has & TCP_HAS_SACK) &&
               !(r.flags & TCP_URG) && tcp_seq_ge(seq, c->snd_max);
    if (len > room && !tso) {
        len = room;
        fin = false;
    }
    uint32_t n = len;
    struct lyra_skb *from = NULL;
    if (len && !rtx && tcp_flight(c) == 0 && tcp_seq_ge(seq, c->snd_max) &&
        tcp_ms(u) - c->rtx_start > c->rto.rto / 1000)
        tcp_cc_on_idle_restart(&c->cc, tcp_ms(u)); /* RFC 5681 4.1: idle longer than an RTO */
    if (len) {
        if ((c->flags & CB_SACK) && (rtx || tcp_seq_lt(seq, c->snd_max)))
            tcp_sndq_fine(u, i); /* `from` is one segment, for its RTX mark */
        s = tso ? tcp_sndq_clone_run(u, i, seq, &n, c->gso_segs)
                : tcp_sndq_clone(u, i, seq, &n, &from);
        if (s && n > room && n % room) {
            n -= n % room; /* cut short by gso_segs pieces: whole segments still */
            lyra_skb_trim(s, n);
        }
        if (s && n > room)
            s->gso_size = (uint16_t)room;
        if (!s) {
            u->st.tx_nobuf++;
            return -EAGAIN;
        }
        if (n < len)
            fin = false; /* the FIN follows the last byte only */
    } else {
        s = ctl_skb(u);
        if (!s)
            return -EAGAIN;
    }
    tcp_seq_t end = tcp_seq_add(seq, n);
    if (fin)
        r.flags |= TCP_FIN;
    if (n && tcp_seq_eq(end, tcp_sndq_end(u, i)))
        r.flags |= TCP_PSH; /* the last queued byte: push it (3.9.1.2) */
    int e = emit_conn(u, i, s, &r);
    if (e == -EMSGSIZE && c->mss < mss0)
        return tcp_xmit_data(u, i, seq, len, fin, rtx); /* the path got smaller: cut again */
    if (sack_later)
        c->flags |= CB_ACK_NOW;
    if (e)
        return e;
    u->st.tx_bytes += n;
    bool resent = rtx || tcp_seq_lt(seq, c->snd_max);
    /* SND.MAX is the highest sequence number sent, kept here where every
     * segment leaves: pure ACKs carry it, and one below the peer's
     * RCV.NXT is dropped by the peer, which then never hears us again */
    tcp_seq_t top = tcp_seq_add(end, fin ? 1u : 0u);
    if (tcp_seq_gt(top, c->snd_max))
        c->snd_max = top;
    if (resent) {
        u->ep[i].total_retrans++;
        u->st.tx_retrans_segs++;
        u->st.tx_retrans_bytes += n;
        if (from && (c->flags & CB_SACK))
            tcp_sack_sent_again(u, i, from); /* pipe counts it (RFC 6675 4) */
        /* Karn (RFC 6298 3): a resent segment gives no RTT sample */
        if ((c->flags & CB_RTT) && tcp_seq_ge(c->rtt_seq, seq) && tcp_seq_lt(c->rtt_seq, end))
            c->flags &= (uint16_t)~CB_RTT;
    } else if (!(c->flags & (CB_TS | CB_RTT)) && n) {
        c->flags |= CB_RTT;
        c->rtt_seq = seq;
        c->rtt_start = tcp_ms(u);
    }
    if (tcp_flight(c) == 0 || !tcp_timers_armed(&c->tm, TCP_T_RTX) || (c->flags & CB_PERSIST)) {
        c->flags &= (uint16_t)~CB_PERSIST;
        if (tcp_flight(c) == 0)
            c->rtx_start = tcp_ms(u);
        tcp_timer_set(u, i, TCP_T_RTX, c->rto.rto / 1000);
    }
    return (int)(n + (fin ? 1u : 0u));
}

int tcp_retransmit_first(struct tcp *u, int i)
{
    struct tcp_cb *c = &u->cb[i];
    if (c->state == TCPS_SYN_SENT || c->state == TCPS_SYN_RCVD) {
        tcp_send_syn(u, i);
        u->st.tx_retrans_segs++;
        return 0;
    }
    tcp_seq_t dend = tcp_sndq_end(u, i);
    int32_t d = tcp_seq_diff(dend, c->snd_una);
    uint32_t len = d > 0 ? (uint32_t)d : 0;
    if (len > c->mss)
        len = c->mss;
    /* within the peer's window; a closed one gets one byte, the probe
     * RFC 9293 3.8.6.1 asks for */
    uint32_t wnd = c->snd_wnd ? c->snd_wnd : 1;
    if (len > wnd)
        len = wnd;
    /* a retransmission repeats what was sent, no more (a persist probe may
     * have sent part of a queued skb): new data goes by tcp_output, under
     * the windows and with an RTT sample */
    uint32_t sent = tcp_flight(c);
    if (len > sent)
        len = sent;
    bool fin = (c->flags & (CB_FIN_SENT | CB_FIN_Q)) && tcp_seq_eq(tcp_seq_add(c->snd_una, len), dend) &&
               tcp_seq_gt(c->snd_max, dend);
    if (!len && !fin)
        return 0;
    int n = tcp_xmit_data(u, i, c->snd_una, len, fin, true);
    return n > 0 ? n : 0;
}

static bool can_send_data(const struct tcp_cb *c)
{
    return c->state == TCPS_ESTABLISHED || c->state == TCPS_CLOSE_WAIT ||
           c->state == TCPS_FIN_WAIT_1 || c->state == TCPS_CLOSING || c->state == TCPS_LAST_ACK;
}

/* New data for one TSO frame: whole segments (a shorter tail goes on its
 * own, under Nagle), at most gso_segs of them, within an IPv4 datagram
 * (headers of at most 60 bytes) and the windows. */
static uint32_t tso_len(const struct tcp_cb *c, uint32_t unsent, uint32_t avail)
{
    uint32_t max = (LYRA_TSO_MAX - 20u - 60u) / c->mss;
    if (max > c->gso_segs)
        max = c->gso_segs;
    uint32_t n = unsent < avail ? unsent : avail;
    n /= c->mss;
    return (n < max ? n : max) * c->mss;
}

uint32_t tcp_output_data(struct tcp *u, int i, uint32_t room, bool one)
{
    struct tcp_cb *c = &u->cb[i];
    tcp_seq_t dend = tcp_sndq_end(u, i);
    uint32_t sent = 0;
    bool auto_room = room == TCP_ROOM_CWND, piped = false;
    for (;;) {
        uint32_t run = UINT32_MAX;
        if (tcp_seq_lt(c->snd_nxt, c->snd_max))
            /* going back after an RTO: what the peer SACKed is not sent
             * again (RFC 6675 5.1) */
            c->snd_nxt = tcp_seq_min(tcp_sack_skip(u, i, c->snd_nxt, &run), dend);
        int32_t un = tcp_seq_diff(dend, c->snd_nxt);
        uint32_t unsent = un > 0 ? (uint32_t)un : 0;
        int32_t aw = tcp_seq_diff(tcp_seq_add(c->snd_una, c->snd_wnd), c->snd_nxt);
        uint32_t avail = aw > 0 ? (uint32_t)aw : 0;
        if (auto_room && !piped && tcp_sack_pipe_mode(u, i)) {
            /* SACK marks held: cwnd bounds pipe, not SND.NXT - SND.UNA
             * (RFC 6675 5 step (3), limited transmit; after an RTO, pipe
             * is what went again since) */
            room = tcp_sack_cwnd_room(u, i);
            piped = true;
        }
        if (auto_room && !piped) {
            int32_t cw = tcp_seq_diff(tcp_seq_add(c->snd_una, c->cc.cwnd), c->snd_nxt);
            if (cw < (int32_t)avail)
                avail = cw > 0 ? (uint32_t)cw : 0;
        } else if (room < avail) {
            avail = room;
        }
        uint32_t len = unsent < c->mss ? unsent : c->mss;
        if (len > run)
            len = run;
        if (len > avail)
            len = avail;
        if (len == c->mss && c->gso_segs > 1 && auto_room && !piped && !one &&
            tcp_seq_ge(c->snd_nxt, c->snd_max))
            len = tso_len(c, unsent, avail < run ? avail : run);
        /* the FIN goes with the last byte (or alone), again after an
         * RTO rewound snd_nxt; once past dend it is out */
        bool fin = (c->flags & CB_FIN_Q) && len == unsent && tcp_seq_le(c->snd_nxt, dend);
        if (!len && !fin)
            break;
        if (len < c->mss && len < unsent && len < run) {
            /* window-limited: sender SWS avoidance (3.8.6.2.1) sends
             * only if that is at least half the largest window seen */
            if (len < c->snd_wnd_max / 2 || !len)
                break;
        } else if (len < c->mss && !(c->flags & CB_NODELAY) && tcp_flight(c) > 0 && !fin &&
                   len == unsent && tcp_seq_ge(c->snd_nxt, c->snd_max)) {
            /* Nagle (RFC 896): a small segment of new data waits for the
             * ACKs (what is sent again after going back, on a smaller
             * path MTU or an RTO, is not held) */
            break;
        }
        int n = tcp_xmit_data(u, i, c->snd_nxt, len, fin, false);
        if (n <= 0)
            break;
        sent += (uint32_t)n;
        if (!auto_room || piped)
            room = room > (uint32_t)n ? room - (uint32_t)n : 0;
        /* a segment ends at its send-queue skb: n may be below len */
        c->snd_nxt = tcp_seq_add(c->snd_nxt, (uint32_t)n);
        if (tcp_seq_gt(c->snd_nxt, c->snd_max))
            c->snd_max = c->snd_nxt;
        if (fin && tcp_seq_gt(c->snd_nxt, dend)) {
            c->flags |= CB_FIN_SENT;
            break;
        }
        if (one)
            break;
    }
    return sent;
}

/* The user closed its side and the FIN has no sequence number yet. */
static bool fin_owed(const struct tcp_cb *c)
{
    return (c->flags & CB_FIN_Q) && !(c->flags & CB_FIN_SENT);
}

void tcp_output(struct tcp *u, int i)
{
    struct tcp_cb *c = &u->cb[i];
    if (can_send_data(c)) {
        if (tcp_sack_recovering(u, i))
            tcp_sack_output(u, i); /* RFC 6675 5 (C): NextSeg() under pipe */
        else if (fin_owed(c) || tcp_seq_lt(c->snd_nxt, c->snd_max) ||
                 tcp_seq_gt(tcp_sndq_end(u, i), c->snd_nxt))
            tcp_output_data(u, i, TCP_ROOM_CWND, false); /* snd_nxt < snd_max: rewound
                                                          * (RTO, path MTU): a FIN again */
        else
            goto ack; /* nothing unsent, no FIN owed: a receiver's usual answer */
        /* zero window with data waiting and nothing out: probe it
         * (3.8.6.1 persist timer) */
        tcp_seq_t dend = tcp_sndq_end(u, i);
        int32_t un = tcp_seq_diff(dend, c->snd_nxt);
        if ((un > 0 || fin_owed(c)) &&
            tcp_flight(c) == 0 && !tcp_timers_armed(&c->tm, TCP_T_RTX)) {
            c->flags |= CB_PERSIST;
            tcp_timer_set(u, i, TCP_T_RTX, c->rto.rto / 1000);
        }
    }
ack:
    if (c->flags & CB_ACK_NOW)
        tcp_send_ack(u, i);
}
