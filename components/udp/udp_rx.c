/* udp input: datagrams and ICMP errors from l3, demultiplexed to
 * endpoint queues (RFC 768, RFC 1122 4.1.3.3). */
#include "lyra/l4_ip.h"
#include "udp_priv.h"

/* ----- input -------------------------------------------------------------- */

static void drop(struct lyra_skb *skb, uint64_t *counter)
{
    (*counter)++;
    lyra_skb_free(skb);
}

/* Queues a datagram (data at its payload) on e, within rx_queue datagrams
 * and the endpoint's byte budget. Takes the skb. */
static bool has_room(const struct udp *u, const struct udp_ep *e, uint32_t len)
{
    return e->q.len < u->rx_queue && (uint64_t)e->q_bytes + len <= e->rcvbuf;
}

static void enqueue(struct udp *u, struct udp_ep *e, struct lyra_skb *skb,
                    const struct udp_cb *cb)
{
    if (!has_room(u, e, cb->len)) {
        drop(skb, &u->st.rx_queue_full);
        return;
    }
    cb_put(skb, cb);
    lyra_skbq_push(&e->q, skb);
    e->q_bytes += cb->len;
    u->st.rx_datagrams++;
    u->st.rx_bytes += cb->len;
    udp_ready(u, e, LYRA_POLL_IN);
}

/* A copy of the payload for one more endpoint of a broadcast: a receive
 * buffer and a counted copy_out (the original skb can sit in one queue
 * only: queues link skbs through ->next, so refcount sharing is out). */
static struct lyra_skb *copy_payload(struct udp *u, const struct lyra_skb *skb, uint32_t len)
{
    struct lyra_skb *c = u->skb->alloc_rx(u->skb_self, len);
    uint8_t *p = c ? lyra_skb_put(c, len) : NULL;
    if (!p || u->skb->copy_out(u->skb_self, skb, 0, p, len) < 0) {
        lyra_skb_free(c);
        return NULL;
    }
    c->flags = skb->flags;
    u->copy_bytes += len;
    return c;
}

/* Broadcast and multicast: every endpoint that takes the datagram gets it
 * (RFC 1122 does not say; Linux and BSD do this), the last one the
 * original skb, the others copies. Nobody: dropped silently, as RFC 1122
 * 3.2.2 forbids ICMP errors about broadcasts. Takes the skb. */
static void deliver_multi(struct udp *u, struct lyra_skb *skb, const struct udp_cb *cb)
{
    int prev = -1;
    lyra_skb_pull(skb, UDP_HDR_LEN);
    for (int i = udp_table_next_match(&u->tab, -1, cb->src, cb->sport, cb->dst, cb->dport); i >= 0;
         i = udp_table_next_match(&u->tab, i, cb->src, cb->sport, cb->dst, cb->dport)) {
        if (prev >= 0 && !has_room(u, &u->tab.ep[prev], cb->len)) {
            u->st.rx_queue_full++; /* no copy for a full queue */
        } else if (prev >= 0) {
            struct lyra_skb *c = copy_payload(u, skb, cb->len);
            if (c) {
                u->st.rx_bcast_copies++;
                enqueue(u, &u->tab.ep[prev], c, cb);
            } else {
                u->st.rx_bcast_nobuf++;
            }
        }
        prev = i;
    }
    if (prev < 0) {
        drop(skb, &u->st.no_port_bcast);
        return;
    }
    enqueue(u, &u->tab.ep[prev], skb, cb);
}

/* l3 event: a UDP datagram (data at the UDP header). Takes the skb. */
static void l3_rx(void *user, struct lyra_skb *skb, const struct lyra_l3_rxinfo *info)
{
    struct udp *u = user;
    if (!skb)
        return;
    if (!u->started || !info) {
        drop(skb, &u->st.rx_down);
        return;
    }
    if (!lyra_skb_is_linear(skb)) {
        /* Segments (skb 2.0 receive): pulled up into the linear part (a
         * counted copy); dropped when the buffer has no room for them. */
        uint32_t before = skb->len;
        if (!lyra_skb_pull_up(skb, lyra_skb_total(skb))) {
            drop(skb, &u->st.rx_nonlinear);
            return;
        }
        u->copy_bytes += skb->len - before;
    }
    struct udp_hdr h;
    switch (udp_hdr_parse(skb->data, skb->len, &h)) {
    case UDP_OK:
        break;
    case UDP_E_SHORT:
        drop(skb, &u->st.rx_short);
        return;
    case UDP_E_LEN:
        drop(skb, &u->st.rx_bad_len);
        return;
    }
    lyra_skb_trim(skb, h.len); /* bytes beyond the UDP length (padding) are not ours */
    /* RFC 768: a zero checksum means the sender computed none; RFC 1122
     * 4.1.3.4: a wrong one is discarded silently. */
    if (h.csum && !(info->flags & LYRA_L3_F_CSUM_OK) &&
        !udp_csum_ok(lyra_skb_csum(skb, 0, h.len, udp_pseudo_sum(info->src, info->dst, h.len)))) {
        drop(skb, &u->st.rx_bad_csum);
        return;
    }
    struct udp_cb cb = {.src = info->src, .dst = info->dst, .sport = h.sport, .dport = h.dport,
                        .len = (uint32_t)h.len - UDP_HDR_LEN};
    if (info->flags & (LYRA_L3_F_BCAST | LYRA_L3_F_MCAST)) {
        deliver_multi(u, skb, &cb);
        return;
    }
    int i = udp_table_lookup(&u->tab, cb.src, cb.sport, cb.dst, cb.dport);
    if (i < 0) {
        /* RFC 1122 4.1.3.1: port unreachable; ip applies its rules and rate
         * limit (skb->data is still at the UDP header, l3_off at IP's) */
        u->st.no_port++;
        u->l3->icmp_error(u->l3_self, skb, ICMP_DEST_UNREACH, ICMP_CODE_PORT_UNREACH);
        lyra_skb_free(skb);
        return;
    }
    lyra_skb_pull(skb, UDP_HDR_LEN);
    enqueue(u, &u->tab.ep[i], skb, &cb);
}

/* l3 event: an ICMP error quoting a datagram we sent. RFC 1122 4.1.3.3
 * wants it passed up; as on Linux without IP_RECVERR, only a connected
 * endpoint hears it (an unconnected one could not tell which peer). */
static void l3_icmp_error(void *user, const struct lyra_l3_icmp_err *err)
{
    struct udp *u = user;
    if (!err)
        return;
    u->st.icmp_errors_in++;
    if (!u->started || err->proto != LYRA_IPPROTO_UDP)
        return;
    int e = lyra_l4_icmp_errno(err->type, err->code);
    uint16_t sport = udp_ld16(err->l4), dport = udp_ld16(err->l4 + 2);
    if (!e || sport == 0)
        return;
    for (uint32_t i = 0; i < u->tab.n; i++) {
        struct udp_ep *ep = &u->tab.ep[i];
        if (ep->used && ep->connected && ep->lport == sport &&
            (ep->laddr == 0 || ep->laddr == err->src) && ep->raddr == err->dst &&
            ep->rport == dport) {
            ep->o.err = e;
            u->st.icmp_errors_set++;
            udp_ready(u, ep, LYRA_POLL_IN | LYRA_POLL_ERR);
        }
    }
}

static void l3_tx_ready(void *user)
{
    struct udp *u = user;
    /* Nothing waits here (a datagram is sent whole or refused): senders
     * blocked for room retry when poll says OUT. */
    u->st.tx_ready++;
    udp_ready(u, NULL, LYRA_POLL_OUT);
}

const struct lyra_l3_events udp_l3_events = {
    .hdr = LYRA_OPS_HDR(LYRA_L3_IFACE, LYRA_L3_MAJOR, LYRA_L3_MINOR, struct lyra_l3_events),
    .rx = l3_rx,
    .icmp_error = l3_icmp_error,
    .tx_ready = l3_tx_ready,
};
