/* udp recv: a queued datagram copied into the caller's pieces. */
#include "udp_priv.h"

/* Copies the first n bytes of skb into the pieces of iov in order;
 * -EFAULT for a piece without a base that bytes would go to. */
static int copy_iov(struct udp *u, struct lyra_skb *skb, uint32_t n, const struct lyra_iov *iov,
                    unsigned cnt)
{
    uint32_t off = 0;
    for (unsigned i = 0; i < cnt && off < n; i++) {
        uint32_t k = n - off < iov[i].len ? n - off : (uint32_t)iov[i].len;
        if (!k)
            continue;
        /* the datagram whole into one piece may have its page moved (skb
         * 2.7); the pieces of a scattered or truncated read are copied */
        int moved = !iov[i].base ? -EFAULT
                    : !off && k == n ? lyra_skb_move_out(u->skb, u->skb_self, skb, 0, iov[i].base, k)
                                     : u->skb->copy_out(u->skb_self, skb, off, iov[i].base, k);
        if (moved < 0)
            return -EFAULT;
        off += k;
        if (!moved) /* > 0: remapped, not copied */
            u->copy_bytes += k;
    }
    return 0;
}

/* Our address a datagram to dst arrived on: dst itself, or for a
 * broadcast (or group) the source a reply through its route would use. */
static uint32_t local_of(struct udp *u, uint32_t dst)
{
    struct lyra_l3_route rt;
    memset(&rt, 0, sizeof(rt));
    bool mcast = (dst >> 28) == 0xe;
    if (u->l3->route(u->l3_self, dst, &rt) != 0)
        return dst == IPV4_LIMITED_BCAST || mcast ? 0 : dst;
    return mcast || udp_is_bcast(u, dst, &rt) ? rt.src : dst;
}

/* The head datagram (len payload bytes) leaves the queue, read or lent. */
static void dequeue(struct udp *u, struct udp_ep *e, uint32_t len)
{
    lyra_skb_free(lyra_skbq_pop(&e->q));
    e->q_bytes -= len;
    if (!e->q.len && !e->shut_rd && !e->o.err) /* the next recv need not ask */
        udp_ready(u, e, LYRA_L4_DRAINED);
}

long udp_op_recv(void *self, int h, const struct lyra_iov *iov, unsigned iovcnt,
                 struct lyra_sockaddr4 *from, struct lyra_l4_dst *to, int flags)
{
    struct udp *u = self;
    struct udp_ep *e = udp_ep_get(u, h);
    if (!e)
        return -EBADF;
    if (!iov && iovcnt)
        return -EFAULT;
    if (flags & (LYRA_MSG_OOB | LYRA_MSG_ERRQUEUE))
        return -EOPNOTSUPP; /* no out-of-band data, no error queue (IP_RECVERR) */
    if (e->o.err)
        return lyra_l4_take_err(&e->o);
    struct lyra_skb *skb = e->q.head;
    if (!skb)
        return e->shut_rd ? 0 : -EAGAIN;
    struct udp_cb cb = cb_get(skb);
    size_t room = 0;
    for (unsigned i = 0; i < iovcnt && room < cb.len; i++)
        room += iov[i].len < cb.len ? iov[i].len : cb.len; /* no overflow */
    uint32_t n = cb.len < room ? cb.len : (uint32_t)room;
    /* a peek keeps the datagram: the extra reference makes a remapping
     * provider (skb_zc) copy rather than give the skb's page away */
    if (flags & LYRA_MSG_PEEK)
        lyra_skb_ref(skb);
    int bad = n && copy_iov(u, skb, n, iov, iovcnt) != 0;
    if (flags & LYRA_MSG_PEEK)
        lyra_skb_free(skb);
    if (bad)
        return -EFAULT;
    if (from) {
        from->addr = cb.src;
        from->port = cb.sport;
    }
    if (to) {
        to->addr = cb.dst;
        to->local = local_of(u, cb.dst);
        to->port = cb.dport;
    }
    if (!(flags & LYRA_MSG_PEEK)) /* the excess of a datagram is discarded */
        dequeue(u, e, cb.len);
    return (flags & LYRA_MSG_TRUNC) ? (long)cb.len : (long)n;
}

/* l4 1.3: the next datagram in place. Its payload is linear (udp_rx pulls
 * a datagram up before queueing it), so one loan is one datagram. */
long udp_op_recv_loan(void *self, int h, struct lyra_l4_loan *ln, int flags)
{
    struct udp *u = self;
    struct udp_ep *e = udp_ep_get(u, h);
    if (!e)
        return -EBADF;
    if (!ln)
        return -EFAULT;
    if (flags)
        return -EINVAL;
    if (e->o.err)
        return lyra_l4_take_err(&e->o);
    struct lyra_skb *skb = e->q.head;
    if (!skb)
        return e->shut_rd ? 0 : -EAGAIN;
    struct lyra_zc *z = &u->zc[h];
    if (z->loans >= z->loan_max)
        return -ENOBUFS; /* LYRA_SO_LOAN_MAX: return some first */
    struct udp_cb cb = cb_get(skb);
    if (skb->len < cb.len)
        return -EIO; /* not linear: udp_rx's rule broken (cannot happen) */
    lyra_skb_ref(skb);
    ln->data = skb->data;
    ln->len = cb.len;
    lyra_zc_lend(z, ln, (uint32_t)h, skb);
    dequeue(u, e, cb.len);
    u->st.rx_loans++;
    u->st.rx_loaned_bytes += cb.len;
    return (long)cb.len;
}

void udp_op_loan_return(void *self, struct lyra_l4_loan *ln)
{
    struct udp *u = self;
    if (ln && ln->skb && ln->h < u->max_sockets)
        lyra_zc_unlend(&u->zc[ln->h], ln);
}
