/* The receive side's buffers: in-order payload skbs waiting for recv
 * (skb->cb[0]: bytes of the head already read), and out-of-order ones in
 * sequence order (cb[0]: seq) with their ranges in the control block's
 * tcp_ooo, which gives the SACK blocks (RFC 2018 4). No copy until recv
 * copies into the application's buffer. */
#include "tcp_priv.h"

static void to_rcvq(struct tcp *u, int i, struct lyra_skb *s, uint32_t len)
{
    struct tcp_ep *e = &u->ep[i];
    s->cb[0] = 0;
    lyra_skbq_push(&e->rcvq, s);
    e->rcv_bytes += len;
    u->cb[i].rcv_nxt = tcp_seq_add(u->cb[i].rcv_nxt, len);
}

/* Out-of-order skbs that rcv_nxt now reaches move to the receive queue. */
static void pull_ooo(struct tcp *u, int i)
{
    struct tcp_cb *c = &u->cb[i];
    struct tcp_ep *e = &u->ep[i];
    struct lyra_skb *s;
    while ((s = e->ooo)) {
        tcp_seq_t seq = tcp_seq((uint32_t)s->cb[0]);
        if (tcp_seq_gt(seq, c->rcv_nxt))
            break;
        e->ooo = s->next;
        s->next = NULL;
        uint32_t len = lyra_skb_total(s);
        e->ooo_bytes -= len;
        int32_t over = tcp_seq_diff(c->rcv_nxt, seq);
        if ((uint32_t)over >= len) {
            u->st.rx_dup_data++;
            lyra_skb_free(s);
            continue;
        }
        lyra_skb_advance(s, (uint32_t)over);
        to_rcvq(u, i, s, len - (uint32_t)over);
    }
    c->rcv_nxt = tcp_seq(tcp_ooo_advance(&c->ooo, c->rcv_nxt.v));
}

bool tcp_rcvq_data(struct tcp *u, int i, struct lyra_skb *skb, tcp_seq_t seq, uint32_t len)
{
    struct tcp_cb *c = &u->cb[i];
    struct tcp_ep *e = &u->ep[i];
    if (tcp_seq_eq(seq, c->rcv_nxt)) {
        to_rcvq(u, i, skb, len);
        if (e->ooo)
            pull_ooo(u, i);
        return true;
    }
    /* beyond rcv_nxt: hold it (RFC 9293 3.10.7.4 "segments with higher
     * beginning sequence numbers SHOULD be held") within the budget */
    tcp_seq_t end = tcp_seq_add(seq, len);
    struct lyra_skb **p = &e->ooo;
    while (*p && tcp_seq_le(tcp_seq((uint32_t)(*p)->cb[0]), seq)) {
        tcp_seq_t ps = tcp_seq((uint32_t)(*p)->cb[0]);
        if (tcp_seq_ge(tcp_seq_add(ps, lyra_skb_total(*p)), end)) {
            u->st.rx_dup_data++; /* all of it is held already */
            lyra_skb_free(skb);
            return false;
        }
        p = &(*p)->next;
    }
    if (e->rcv_bytes + e->ooo_bytes + len > e->rcvbuf ||
        tcp_ooo_add(&c->ooo, c->rcv_nxt.v, seq.v, end.v) < 0) {
        u->st.rx_ooo_drop++;
        lyra_skb_free(skb);
        return false;
    }
    u->st.rx_ooo++;
    skb->cb[0] = seq.v;
    skb->next = *p;
    *p = skb;
    e->ooo_bytes += len;
    return false;
}

/* got bytes left the queue (read or lent): the count and the urgent mark */
static void consumed(struct tcp_ep *e, uint32_t got)
{
    e->rcv_bytes -= got;
    if (e->urg_left != TCP_URG_NONE && got) {
        if (e->urg_left)
            e->urg_left -= got; /* up to the mark at most */
        else
            e->urg_left = TCP_URG_NONE; /* read past the mark: POLLPRI goes */
    }
}

long tcp_rcvq_recv(struct tcp *u, int i, const struct lyra_iov *iov, unsigned iovcnt, int flags)
{
    struct tcp_ep *e = &u->ep[i];
    long got = 0;
    unsigned v = 0;
    uint32_t voff = 0;
    struct lyra_skb *s = e->rcvq.head;
    uint32_t soff = s ? (uint32_t)s->cb[0] : 0;
    /* a read stops at the urgent mark (RFC 9293 3.8.5 MUST-33, as BSD);
     * the next one reads on from it */
    uint32_t lim = e->urg_left && e->urg_left != TCP_URG_NONE ? e->urg_left : UINT32_MAX;
    while (s && v < iovcnt && (uint32_t)got < lim) {
        uint32_t have = lyra_skb_total(s) - soff;
        uint32_t room = (uint32_t)(iov[v].len - voff);
        if (iov[v].len - voff > UINT32_MAX)
            room = UINT32_MAX;
        uint32_t k = have < room ? have : room;
        if (k > lim - (uint32_t)got)
            k = lim - (uint32_t)got;
        if (k) {
            uint8_t *to = (uint8_t *)iov[v].base + voff;
            int moved;
            /* a read of exactly the rest of one segment may have its page
             * moved (skb 2.7, issue 12.3: the application reads with
             * MSS-sized reads); any other read copies, not just the pieces
             * that do not happen to sit at the right offset. A peek leaves
             * the bytes queued: its extra reference tells the provider that
             * the skb's bytes are still wanted, so it copies */
            if (got == 0 && iovcnt == 1 && iov[0].len == have) {
                if (flags & LYRA_MSG_PEEK)
                    lyra_skb_ref(s);
                moved = lyra_skb_move_out(u->skb, u->skb_self, s, soff, to, k);
                if (flags & LYRA_MSG_PEEK)
                    lyra_skb_free(s);
            } else {
                moved = u->skb->copy_out(u->skb_self, s, soff, to, k);
            }
            if (moved <= 0) /* > 0: remapped, not copied */
                u->copy_bytes += k;
        }
        got += k;
        soff += k;
        voff += k;
        if (voff == iov[v].len) {
            v++;
            voff = 0;
        }
        if (soff == lyra_skb_total(s)) {
            struct lyra_skb *nx = s->next;
            if (!(flags & LYRA_MSG_PEEK)) {
                lyra_skb_free(lyra_skbq_pop(&e->rcvq));
            }
            s = nx;
            soff = 0;
        } else if (!(flags & LYRA_MSG_PEEK)) {
            s->cb[0] = soff;
        }
    }
    if (!(flags & LYRA_MSG_PEEK))
        consumed(e, (uint32_t)got);
    return got;
}

long tcp_rcvq_loan(struct tcp *u, int i, struct lyra_l4_loan *ln)
{
    struct tcp_ep *e = &u->ep[i];
    struct lyra_skb *s = e->rcvq.head;
    if (!s)
        return -EAGAIN;
    uint32_t soff = (uint32_t)s->cb[0], at = 0, n = 0;
    const uint8_t *p = NULL;
    struct lyra_skb_iter it;
    lyra_skb_iter_init(&it, s);
    while (lyra_skb_iter_next(&it, &p, &n) && soff >= at + n) /* the piece holding soff */
        at += n;
    uint32_t k = at + n - soff; /* to the piece's end: one contiguous loan */
    if (e->urg_left && e->urg_left != TCP_URG_NONE && k > e->urg_left)
        k = e->urg_left; /* stops at the urgent mark, as a read */
    ln->data = p + (soff - at);
    ln->len = k;
    lyra_zc_lend(&u->zc[i], ln, (uint32_t)i, s);
    /* the loan holds a reference: the queue's own when the loan takes the
     * rest of the skb (popped, so one reference moves, none is taken and
     * dropped: a lock-step reader's every segment), else one more */
    if (soff + k == lyra_skb_total(s))
        (void)lyra_skbq_pop(&e->rcvq);
    else {
        lyra_skb_ref(s);
        s->cb[0] = soff + k;
    }
    consumed(e, k);
    u->st.rx_loaned_bytes += k;
    return (long)k;
}

void tcp_rcvq_purge(struct tcp *u, int i)
{
    struct tcp_ep *e = &u->ep[i];
    e->fin_held = 0;
    lyra_skbq_purge(&e->rcvq);
    struct lyra_skb *s;
    while ((s = e->ooo)) {
        e->ooo = s->next;
        lyra_skb_free(s);
    }
    e->rcv_bytes = e->ooo_bytes = 0;
    e->urg_left = TCP_URG_NONE;
    tcp_ooo_init(&u->cb[i].ooo, u->ranges + (size_t)i * u->cfg.ooo_ranges,
                 (uint16_t)u->cfg.ooo_ranges);
}
