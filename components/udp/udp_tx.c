/* udp send: a datagram built in a pool skb and handed to l3 output. */
#include "udp_priv.h"

/* Maps what l3 output said to our return value and counters. */
static int output_error(struct udp *u, int r)
{
    switch (r) {
    case -ENETUNREACH:
        u->st.tx_noroute++;
        return r;
    case -EAGAIN:
    case -ENOBUFS: /* dropped below for want of room: the caller retries */
        u->st.tx_nobuf++;
        return -EAGAIN;
    default:
        u->st.tx_errors++;
        return r;
    }
}

/* A send that failed frees its skb; a MSG_ZEROCOPY one gives its id back
 * (lyra/l4_zc.h), the skb letting go of the record first. */
static void fail_zc(struct lyra_skb *skb, struct lyra_zc *z, struct lyra_zc_rec *zr, bool zc)
{
    lyra_zc_detach(skb);
    lyra_skb_free(skb);
    if (zc)
        lyra_zc_abort(z, zr);
}

long udp_op_send(void *self, int h, const void *buf, size_t len,
                 const struct lyra_sockaddr4 *to, int flags)
{
    struct udp *u = self;
    struct udp_ep *e = udp_ep_get(u, h);
    if (!e)
        return -EBADF;
    if (flags & LYRA_MSG_OOB)
        return -EOPNOTSUPP; /* no out-of-band data in UDP */
    if (e->o.err) /* a pending error is reported first, once */
        return lyra_l4_take_err(&e->o);
    if (e->shut_wr)
        return -EPIPE;
    if (len > UDP_MAX_PAYLOAD)
        return -EMSGSIZE;
    if (!buf && len)
        return -EFAULT;
    uint32_t dst;
    uint16_t dport;
    if (to) { /* also on a connected endpoint, as Linux allows */
        if (!to->port)
            return -EINVAL;
        dst = to->addr;
        dport = to->port;
    } else if (e->connected) {
        dst = e->raddr;
        dport = e->rport;
    } else {
        return -EDESTADDRREQ;
    }
    struct lyra_l3_route rt;
    memset(&rt, 0, sizeof(rt));
    if (u->l3->route(u->l3_self, dst, &rt)) {
        u->st.tx_noroute++;
        return -ENETUNREACH;
    }
    if (udp_is_bcast(u, dst, &rt) && !e->bcast_ok)
        return -EACCES;
    if (!e->lport) {
        int r = udp_autobind(u, e);
        if (r)
            return r;
    }
    uint32_t src = e->laddr && !e->laddr_bcast ? e->laddr : rt.src;
    uint32_t hr = u->l3->headroom(u->l3_self);
    uint16_t ulen = (uint16_t)(len + UDP_HDR_LEN);
    /* skb 2.0: the payload in the linear part when it fits one buffer,
     * else behind a header buffer, chained by add_data (max_alloc bounds
     * the linear part only) */
    uint32_t lin = len <= lyra_skb_max_alloc(u->skb, u->skb_self, hr + UDP_HDR_LEN) ? (uint32_t)len : 0;
    struct lyra_skb *skb = u->skb->alloc(u->skb_self, hr + UDP_HDR_LEN, lin);
    if (!skb) {
        u->st.tx_nobuf++;
        return -EAGAIN;
    }
    /* MSG_ZEROCOPY on an endpoint with SO_ZEROCOPY (off: ignored, as
     * Linux): the provider may reference buf unprotected until the
     * datagram's `done` (lyra/l4_zc.h) */
    struct lyra_zc *z = &u->zc[h];
    struct lyra_zc_rec *zr = NULL;
    int zcopy = 0;
    bool zc = (flags & LYRA_MSG_ZEROCOPY) && z->on;
    if (zc) {
        zr = lyra_zc_begin(z, NULL, &zcopy);
        if (!zr && !zcopy) {
            lyra_skb_free(skb);
            u->st.zc_nobufs++;
            return -ENOBUFS; /* no record free: read the error queue */
        }
    }
    uint32_t copied = 0;
    int took = len ? u->skb->add_data(u->skb_self, skb, buf, (uint32_t)len,
                                      LYRA_SEG_F_USER | (zr ? LYRA_SEG_F_REF : 0), &copied)
                   : 0;
    if (zr && took > 0) {
        zr->copied |= copied > 0;
        if ((uint32_t)took > copied)
            lyra_zc_attach(zr, skb); /* a new skb: it holds no other record */
    }
    if (took < 0 || (size_t)took < len) {
        fail_zc(skb, z, zr, zc); /* nothing sent: the id is not used */
        if (took == -EMSGSIZE) {
            u->st.tx_too_big++;
            return -EMSGSIZE; /* the pool can never hold it: waiting would not help */
        }
        if (took >= 0) {
            u->st.tx_nobuf++; /* buffers ran out: they come back */
            return -EAGAIN;
        }
        u->st.tx_errors++;
        return took == -EFAULT ? -EFAULT : -ENOBUFS; /* EFAULT: memory it cannot read */
    }
    u->copy_bytes += copied; /* what add_data copied (skb_copy: all of it) */
    uint8_t *p = lyra_skb_push(skb, UDP_HDR_LEN);
    if (!p) {
        u->st.tx_errors++;
        fail_zc(skb, z, zr, zc);
        return -ENOBUFS;
    }
    struct udp_hdr uh = {.sport = e->lport, .dport = dport, .len = ulen, .csum = 0};
    udp_hdr_build(p, &uh);
    skb->l4_off = (uint32_t)(skb->data - skb->head);
    if (u->csum_tx) {
        uint32_t ps = udp_pseudo_sum(src, dst, ulen);
        if ((rt.csum_tx & LYRA_CSUM_UDP) && skb->l4_off <= UINT16_MAX) {
            /* The NIC sums from csum_start (counted from head, skb.h: our
             * header's place in the buffer, whatever ip and l2 push below
             * it) to the end and stores the complement at csum_off; the
             * field holds the pseudo header's sum as its seed (ip resolves
             * it in software if it must fragment). */
            uint32_t seed = ps;
            while (seed >> 16)
                seed = (seed & 0xffff) + (seed >> 16);
            udp_st16(p + UDP_CSUM_OFF, (uint16_t)seed);
            skb->flags |= LYRA_SKB_F_CSUM_TX;
            skb->csum_start = (uint16_t)skb->l4_off; /* lyra_skb_headroom() at our header */
            skb->csum_off = UDP_CSUM_OFF;
            u->st.tx_csum_offload++;
        } else {
            udp_st16(p + UDP_CSUM_OFF, udp_csum_final(lyra_skb_csum(skb, 0, ulen, ps)));
        }
    } /* else 0: no checksum, which RFC 768 allows */
    int r = u->l3->output(u->l3_self, skb, src, dst, LYRA_IPPROTO_UDP, e->o.ttl, e->o.tos, 0);
    if (r) {
        fail_zc(skb, z, zr, zc); /* l3 2.0: refused, still ours */
        return output_error(u, r);
    }
    if (zc) {
        u->st.zc_sends++;
        u->st.zc_copy_fallback += (unsigned)zcopy;
        if (zr)
            lyra_zc_put(zr); /* the call's hold: done now unless the skb references */
    }
    u->st.tx_datagrams++;
    u->st.tx_bytes += len;
    return (long)len;
}
