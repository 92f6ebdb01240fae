/* ICMP errors about our segments (RFC 9293 3.9.2.2, RFC 1122 4.2.3.9),
 * believed only when they quote a sequence number in flight (RFC 5927
 * 4.1), and path MTU discovery (RFC 1191 6.4): "fragmentation needed"
 * lowers the connection's MSS and what was sent at the old size goes again,
 * cut to the new one. ip keeps the path MTU per destination (l3 2.1), so
 * the connection's other segments, and other connections to the same
 * destination, follow it through the route (tcp_output.c:emit). */
#include "tcp_priv.h"

void tcp_mss_set(struct tcp_cb *c, uint16_t mss)
{
    c->mss = mss;
    c->cc.smss = mss; /* RFC 5681's SMSS is the MSS segments are sent with */
}

/* RFC 5927 4.1 (RFC 9293 3.9.2.2): a TCP error message quotes the
 * segment's sequence number; believe it only for one in flight, SND.UNA <=
 * SEG.SEQ < SND.NXT (snd_max, the RFC's SND.NXT: ours rewinds on an RTO),
 * which in SYN-SENT is the ISS alone. A blind attacker must then guess it. */
static bool quote_in_window(const struct tcp_cb *c, tcp_seq_t seq)
{
    return tcp_seq_ge(seq, c->snd_una) && tcp_seq_lt(seq, c->snd_max);
}

/* "Fragmentation needed" (RFC 1191), already checked against the window. */
static void frag_needed(struct tcp *u, int i, uint32_t mtu)
{
    struct tcp_cb *c = &u->cb[i];
    /* a SYN (60 bytes at most) never needs fragmenting: a claim about one
     * is not believed; and RFC 5927 section 7, RFC 1191 6.3: a next-hop
     * MTU at or above what the connection sends cannot be why its segment
     * was dropped (a stale message, or a forged one) */
    uint32_t optb = tcp_ts_len(c);
    if (!tcp_synced(c) || !c->mss_clamp || mtu >= c->mss + TCP_IP_HDRS + optb) {
        u->st.pmtu_ignored++;
        return;
    }
    /* ip records it for the destination (or refuses a claim below its
     * floor, pmtu_min: RFC 5927 section 7) and says what is in force */
    int r = u->l3->pmtu_update(u->l3_self, c->raddr, mtu);
    uint16_t mss = r > 0 ? tcp_mss_for_mtu(c, (uint32_t)r) : c->mss;
    if (mss >= c->mss) {
        u->st.pmtu_ignored++;
        return;
    }
    u->st.pmtu_lowered++;
    tcp_mss_set(c, mss);
    /* RFC 1191 6.4: the segment was dropped for its size, not for
     * congestion: cwnd and ssthresh stay. What was sent at the old size
     * may all have been dropped: go back to SND.UNA and send it again, cut
     * to the new MSS, as far as the windows allow. */
    c->snd_nxt = c->snd_una;
    tcp_output(u, i);
}

void tcp_icmp_error(void *user, const struct lyra_l3_icmp_err *err)
{
    struct tcp *u = user;
    u->st.icmp_errors_in++;
    uint16_t sport = tcp_ld16(err->l4);
    uint16_t dport = tcp_ld16(err->l4 + 2);
    int i = tcp_lookup(u, err->src, sport, err->dst, dport);
    if (i < 0 || u->cb[i].state == TCPS_LISTEN || u->cb[i].state == TCPS_CLOSED)
        return; /* CLOSED: an earlier error ended it; the application has been told */
    if (!quote_in_window(&u->cb[i], tcp_seq(tcp_ld32(err->l4 + 4)))) {
        u->st.icmp_errors_bad_seq++;
        return;
    }
    int e = lyra_l4_icmp_errno(err->type, err->code);
    if (!e)
        return;
    if (e == EMSGSIZE) {
        frag_needed(u, i, err->mtu); /* code 4: the hard error RFC 1191 turned into PMTUD */
        return;
    }
    /* RFC 1122 4.2.3.9: codes 2 and 3 (protocol, port unreachable) are
     * hard errors: they abort a connection still opening (a passive one
     * goes back to LISTEN, as on a RST); the rest are soft: never fatal. A
     * connection still opening keeps a soft one to report if it gives up
     * (ETIMEDOUT otherwise); an open one reports it once through SO_ERROR
     * / send, and goes on (MUST-56).
     * One exception: our own link's give-up (l3 2.4 local) ends a connect.
     * 4.2.3.9 guards against a router's passing trouble, or a forged
     * message, killing a connection; this one is neither: ARP has asked
     * arp_retries times and nobody holds the address. Waiting out the SYN
     * retries (over three minutes by default) only delays the same
     * EHOSTUNREACH, where Linux fails such a connect after its ~3 s of
     * ARP (RFC 5461 describes stacks that end a connection attempt on any
     * soft error; we do it for this one only). */
    struct tcp_cb *c = &u->cb[i];
    bool hard = e == ECONNREFUSED || e == ENOPROTOOPT;
    if (hard && (c->state == TCPS_SYN_SENT || c->state == TCPS_SYN_RCVD)) {
        if (!(c->flags & CB_PASSIVE))
            u->st.conns_refused++;
        tcp_conn_drop(u, i, ECONNREFUSED); /* a child not accepted: forgotten */
        return;
    }
    if (err->local && c->state == TCPS_SYN_SENT) {
        u->st.conns_unreachable++;
        tcp_conn_drop(u, i, e);
        return;
    }
    if (c->state == TCPS_SYN_SENT || c->state == TCPS_SYN_RCVD) {
        u->ep[i].soft_err = (int16_t)e;
        return;
    }
    u->ep[i].o.err = e;
    tcp_ready(u, i, LYRA_POLL_ERR);
}
