/* Component `udp`: UDP for a host (RFC 768, RFC 1122 section 4.1) as an
 * `l4` provider (type LYRA_SOCK_DGRAM, protocol 17) over one `l3`.
 *
 * Endpoints live in a table from os mem_alloc at start (udp_table.c);
 * header and checksum in udp_wire.c. Received datagrams are queued as the
 * skbs ip handed up (header pulled, source in skb->cb): no copy until recv
 * copies into the user's buffer with skb copy_out. Sending takes a pool
 * skb with room for the headers below and puts the payload in with skb
 * add_data (skb_copy copies, skb_zc may reference the user's memory).
 *
 * Ownership: every skb l3 hands up ends in an endpoint queue or is freed
 * next to the counter saying why; queued skbs are freed by recv, close and
 * stop. Every skb made for output is handed to l3 output (which takes it)
 * or freed on the error path that counts it. */
#include <errno.h>
#include <stdalign.h>
#include <string.h>

#include "lyra/component.h"
#include "lyra/diag.h"
#include "lyra/l2.h"
#include "lyra/l3.h"
#include "lyra/l4.h"
#include "lyra/netdev.h"
#include "lyra/os.h"
#include "lyra/skb.h"
#include "udp_table.h"
#include "udp_wire.h"

#define WHO "udp"
#define IPV4_LIMITED_BCAST 0xffffffffu

/* ICMP (RFC 792) as far as errors map to errno values. */
#define ICMP_DEST_UNREACH 3
#define ICMP_TIME_EXCEEDED 11
#define ICMP_PARAM_PROBLEM 12
#define ICMP_CODE_NET_UNREACH 0
#define ICMP_CODE_PORT_UNREACH 3
#define ICMP_CODE_NET_UNKNOWN 6
#define ICMP_CODE_NET_PROHIBITED 9
#define ICMP_CODE_NET_UNREACH_TOS 11

#define UDP_STATS(X)                                                                          \
    X(rx_datagrams) X(rx_bytes) X(rx_short) X(rx_bad_len) X(rx_bad_csum) X(rx_nonlinear)     \
    X(rx_down) X(no_port) X(no_port_bcast) X(rx_queue_full) X(rx_bcast_copies)                 \
    X(rx_bcast_nobuf) X(tx_datagrams) X(tx_bytes) X(tx_nobuf) X(tx_too_big) X(tx_noroute) X(tx_errors)       \
    X(tx_csum_offload) X(icmp_errors_in) X(icmp_errors_set) X(tx_ready)

struct udp_stats {
#define UDP_STAT_FIELD(n) uint64_t n;
    UDP_STATS(UDP_STAT_FIELD)
#undef UDP_STAT_FIELD
};

struct udp {
    struct lyra_os os;
    const struct lyra_skb_ops *skb;
    void *skb_self;
    const struct lyra_l3_ops *l3;
    void *l3_self;
    /* parameters */
    uint32_t max_sockets, rx_queue, rx_bytes;
    bool csum_tx;
    uint16_t port_min, port_max;
    /* state */
    bool started, registered;
    struct udp_ep *mem;
    struct udp_table tab;
    struct udp_stats st;
};

/* What recv needs of a queued datagram, kept in skb->cb (written and read
 * with memcpy: cb is an array of another type). */
struct udp_cb {
    uint32_t src, dst;
    uint16_t sport, dport;
    uint32_t len; /* payload bytes */
};

_Static_assert(sizeof(struct udp_cb) <= sizeof(((struct lyra_skb *)0)->cb), "cb too small");

static void cb_put(struct lyra_skb *skb, const struct udp_cb *cb)
{
    memcpy(skb->cb, cb, sizeof(*cb));
}

static struct udp_cb cb_get(const struct lyra_skb *skb)
{
    struct udp_cb cb;
    memcpy(&cb, skb->cb, sizeof(cb));
    return cb;
}

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
}

/* A copy of the payload for one more endpoint of a broadcast: a receive
 * buffer and a counted copy_out (the original skb can sit in one queue
 * only: queues link skbs through ->next, so refcount sharing is out). */
static struct lyra_skb *copy_payload(struct udp *u, const struct lyra_skb *skb, uint32_t len)
{
    struct lyra_skb *c = u->skb->alloc_rx(u->skb_self, len);
    uint8_t *p = c ? lyra_skb_put(c, len) : NULL;
    if (!p || u->skb->copy_out(u->skb_self, skb, 0, p, len) != 0) {
        lyra_skb_free(c);
        return NULL;
    }
    c->flags = skb->flags;
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
    if (skb->nseg) { /* received skbs are linear (skb.h) */
        drop(skb, &u->st.rx_nonlinear);
        return;
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
        !udp_csum_ok(udp_csum_skb(skb, 0, h.len, udp_pseudo_sum(info->src, info->dst, h.len)))) {
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

/* The errno an ICMP error means to a connected endpoint, 0: ignored. */
static int icmp_errno(uint8_t type, uint8_t code)
{
    switch (type) {
    case ICMP_DEST_UNREACH:
        switch (code) {
        case ICMP_CODE_PORT_UNREACH:
            return ECONNREFUSED;
        case ICMP_CODE_NET_UNREACH:
        case ICMP_CODE_NET_UNKNOWN:
        case ICMP_CODE_NET_PROHIBITED:
        case ICMP_CODE_NET_UNREACH_TOS:
            return ENETUNREACH;
        default:
            return EHOSTUNREACH;
        }
    case ICMP_TIME_EXCEEDED:
        return EHOSTUNREACH;
    case ICMP_PARAM_PROBLEM:
        return EPROTO;
    default:
        return 0; /* source quench and the rest: nothing to report (RFC 6633) */
    }
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
    int e = icmp_errno(err->type, err->code);
    uint16_t sport = udp_ld16(err->l4), dport = udp_ld16(err->l4 + 2);
    if (!e || sport == 0)
        return;
    for (uint32_t i = 0; i < u->tab.n; i++) {
        struct udp_ep *ep = &u->tab.ep[i];
        if (ep->used && ep->connected && ep->lport == sport &&
            (ep->laddr == 0 || ep->laddr == err->src) && ep->raddr == err->dst &&
            ep->rport == dport) {
            ep->err = e;
            u->st.icmp_errors_set++;
        }
    }
}

static void l3_tx_ready(void *user)
{
    struct udp *u = user;
    /* Nothing waits here (a datagram is sent whole or refused): senders
     * retry when poll says OUT. Counted to show it arrives. */
    u->st.tx_ready++;
}

static const struct lyra_l3_events udp_l3_events = {
    .hdr = LYRA_OPS_HDR(LYRA_L3_IFACE, LYRA_L3_MAJOR, LYRA_L3_MINOR, struct lyra_l3_events),
    .rx = l3_rx,
    .icmp_error = l3_icmp_error,
    .tx_ready = l3_tx_ready,
};

/* ----- helpers for the ops ------------------------------------------------ */

/* Is a one of the broadcast addresses (limited, or a subnet's directed
 * broadcast, which ip routes to the link broadcast)? */
static bool is_bcast(struct udp *u, uint32_t a, const struct lyra_l3_route *rt)
{
    if (a == IPV4_LIMITED_BCAST)
        return true;
    struct lyra_l3_route r;
    if (!rt) {
        memset(&r, 0, sizeof(r));
        if (u->l3->route(u->l3_self, a, &r))
            return false;
        rt = &r;
    }
    return rt->next_hop == LYRA_L2_BROADCAST;
}

static int autobind(struct udp *u, struct udp_ep *e)
{
    uint16_t port;
    if (udp_table_ephemeral(&u->tab, &port))
        return -EAGAIN; /* as Linux when no ephemeral port is left */
    e->lport = port;
    return 0;
}

static struct udp_ep *ep_get(struct udp *u, int h)
{
    return u->started ? udp_table_get(&u->tab, h) : NULL;
}

/* ----- l4 ops ------------------------------------------------------------- */

static int op_open(void *self)
{
    struct udp *u = self;
    if (!u->started)
        return -ENETDOWN;
    return udp_table_open(&u->tab, u->rx_bytes);
}

static void op_close(void *self, int h)
{
    struct udp *u = self;
    if (u->started)
        udp_table_close(&u->tab, h); /* frees what is queued */
}

static int op_bind(void *self, int h, const struct lyra_sockaddr4 *a)
{
    struct udp *u = self;
    struct udp_ep *e = ep_get(u, h);
    if (!e)
        return -EBADF;
    if (!a || e->lport)
        return -EINVAL;
    if (a->addr && !u->l3->is_local(u->l3_self, a->addr))
        return -EADDRNOTAVAIL;
    uint16_t port = a->port;
    if (!port) {
        if (udp_table_ephemeral(&u->tab, &port))
            return -EADDRINUSE;
    } else if (udp_table_clash(&u->tab, h, a->addr, port, e->reuse)) {
        return -EADDRINUSE;
    }
    e->laddr = a->addr;
    e->lport = port;
    e->addr_locked = a->addr != 0;
    e->laddr_bcast = a->addr && is_bcast(u, a->addr, NULL);
    return 0;
}

static void dissolve(struct udp_ep *e)
{
    e->connected = false;
    e->raddr = 0;
    e->rport = 0;
    if (!e->addr_locked) { /* the address connect chose goes (Linux does so) */
        e->laddr = 0;
        e->laddr_bcast = false;
    }
}

static int op_connect(void *self, int h, const struct lyra_sockaddr4 *a)
{
    struct udp *u = self;
    struct udp_ep *e = ep_get(u, h);
    if (!e)
        return -EBADF;
    if (!a)
        return -EINVAL;
    if (a->addr == 0 && a->port == 0) {
        dissolve(e);
        return 0;
    }
    if (a->port == 0)
        return -EINVAL;
    struct lyra_l3_route rt;
    memset(&rt, 0, sizeof(rt));
    if (u->l3->route(u->l3_self, a->addr, &rt))
        return -ENETUNREACH;
    if (is_bcast(u, a->addr, &rt) && !e->bcast_ok)
        return -EACCES;
    if (!e->lport) {
        int r = autobind(u, e);
        if (r)
            return r;
    }
    if (!e->laddr) /* the route's source: only replies to it are ours */
        e->laddr = rt.src;
    e->raddr = a->addr;
    e->rport = a->port;
    e->connected = true;
    return 0;
}

static int op_listen(void *self, int h, int backlog)
{
    (void)self, (void)h, (void)backlog;
    return -EOPNOTSUPP;
}

static int op_accept(void *self, int h, struct lyra_sockaddr4 *peer)
{
    (void)self, (void)h, (void)peer;
    return -EOPNOTSUPP;
}

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

static long op_send(void *self, int h, const void *buf, size_t len,
                    const struct lyra_sockaddr4 *to, int flags)
{
    struct udp *u = self;
    struct udp_ep *e = ep_get(u, h);
    (void)flags;
    if (!e)
        return -EBADF;
    if (e->err) { /* a pending error is reported first, once */
        int r = e->err;
        e->err = 0;
        return -r;
    }
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
    if (is_bcast(u, dst, &rt) && !e->bcast_ok)
        return -EACCES;
    if (!e->lport) {
        int r = autobind(u, e);
        if (r)
            return r;
    }
    uint32_t src = e->laddr && !e->laddr_bcast ? e->laddr : rt.src;
    uint32_t hr = u->l3->headroom(u->l3_self);
    uint16_t ulen = (uint16_t)(len + UDP_HDR_LEN);
    if (len > lyra_skb_max_alloc(u->skb, u->skb_self, hr + UDP_HDR_LEN)) {
        u->st.tx_too_big++;
        return -EMSGSIZE; /* no buffer of this pool can ever hold it */
    }
    struct lyra_skb *skb = u->skb->alloc(u->skb_self, hr + UDP_HDR_LEN, (uint32_t)len);
    if (!skb) {
        u->st.tx_nobuf++;
        return -EAGAIN;
    }
    if (len && u->skb->add_data(u->skb_self, skb, buf, (uint32_t)len, LYRA_SEG_F_USER)) {
        u->st.tx_errors++;
        lyra_skb_free(skb);
        return -ENOBUFS;
    }
    uint8_t *p = lyra_skb_push(skb, UDP_HDR_LEN);
    if (!p) {
        u->st.tx_errors++;
        lyra_skb_free(skb);
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
            udp_st16(p + UDP_CSUM_OFF, udp_csum_final(udp_csum_skb(skb, 0, ulen, ps)));
        }
    } /* else 0: no checksum, which RFC 768 allows */
    int r = u->l3->output(u->l3_self, skb, src, dst, LYRA_IPPROTO_UDP, e->ttl, e->tos, 0);
    if (r)
        return output_error(u, r);
    u->st.tx_datagrams++;
    u->st.tx_bytes += len;
    return (long)len;
}

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
        if (!iov[i].base || u->skb->copy_out(u->skb_self, skb, off, iov[i].base, k) != 0)
            return -EFAULT;
        off += k;
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
    return mcast || is_bcast(u, dst, &rt) ? rt.src : dst;
}

static long op_recv(void *self, int h, const struct lyra_iov *iov, unsigned iovcnt,
                    struct lyra_sockaddr4 *from, struct lyra_l4_dst *to, int flags)
{
    struct udp *u = self;
    struct udp_ep *e = ep_get(u, h);
    if (!e)
        return -EBADF;
    if (!iov && iovcnt)
        return -EFAULT;
    if (e->err) {
        int r = e->err;
        e->err = 0;
        return -r;
    }
    struct lyra_skb *skb = e->q.head;
    if (!skb)
        return e->shut_rd ? 0 : -EAGAIN;
    struct udp_cb cb = cb_get(skb);
    size_t room = 0;
    for (unsigned i = 0; i < iovcnt && room < cb.len; i++)
        room += iov[i].len < cb.len ? iov[i].len : cb.len; /* no overflow */
    uint32_t n = cb.len < room ? cb.len : (uint32_t)room;
    if (n && copy_iov(u, skb, n, iov, iovcnt) != 0)
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
    if (!(flags & LYRA_MSG_PEEK)) { /* the excess of a datagram is discarded */
        lyra_skbq_pop(&e->q);
        e->q_bytes -= cb.len;
        lyra_skb_free(skb);
    }
    return (flags & LYRA_MSG_TRUNC) ? (long)cb.len : (long)n;
}

static int op_shutdown(void *self, int h, int how)
{
    struct udp *u = self;
    struct udp_ep *e = ep_get(u, h);
    if (!e)
        return -EBADF;
    if (how < 0 || how > 2)
        return -EINVAL;
    if (!e->connected)
        return -ENOTCONN;
    if (how != 1)
        e->shut_rd = true;
    if (how != 0)
        e->shut_wr = true;
    return 0;
}

static int op_name(void *self, int h, int peer, struct lyra_sockaddr4 *out)
{
    struct udp *u = self;
    struct udp_ep *e = ep_get(u, h);
    if (!e)
        return -EBADF;
    if (!out)
        return -EINVAL;
    if (peer) {
        if (!e->connected)
            return -ENOTCONN;
        out->addr = e->raddr;
        out->port = e->rport;
    } else {
        out->addr = e->laddr;
        out->port = e->lport;
    }
    return 0;
}

static unsigned op_poll(void *self, int h)
{
    struct udp *u = self;
    struct udp_ep *e = ep_get(u, h);
    if (!e)
        return LYRA_POLL_ERR;
    unsigned m = 0;
    if (e->q.len || e->err || e->shut_rd)
        m |= LYRA_POLL_IN;
    if (e->err)
        m |= LYRA_POLL_ERR;
    if (!e->shut_wr && u->skb->avail(u->skb_self) > 0)
        m |= LYRA_POLL_OUT;
    if (e->shut_rd && e->shut_wr)
        m |= LYRA_POLL_HUP;
    return m;
}

static int op_setopt(void *self, int h, int opt, int val)
{
    struct udp *u = self;
    struct udp_ep *e = ep_get(u, h);
    if (!e)
        return -EBADF;
    int r = lyra_l4_ip_setopt(opt, val, &e->ttl, &e->tos);
    if (r <= 0)
        return r;
    switch (opt) {
    case LYRA_SO_BROADCAST:
        e->bcast_ok = val != 0;
        return 0;
    case LYRA_SO_REUSEADDR:
        e->reuse = val != 0;
        return 0;
    case LYRA_SO_RCVBUF:
        if (val <= 0)
            return -EINVAL;
        e->rcvbuf = (uint32_t)val; /* taken as given (Linux doubles it) */
        return 0;
    default:
        return -ENOPROTOOPT;
    }
}

static int op_getopt(void *self, int h, int opt, int *val)
{
    struct udp *u = self;
    struct udp_ep *e = ep_get(u, h);
    if (!e)
        return -EBADF;
    if (!val)
        return -EINVAL;
    switch (opt) {
    case LYRA_SO_ERROR:
        *val = e->err;
        e->err = 0;
        return 0;
    case LYRA_SO_BROADCAST:
        *val = e->bcast_ok;
        return 0;
    case LYRA_SO_REUSEADDR:
        *val = e->reuse;
        return 0;
    case LYRA_SO_RCVBUF:
        *val = e->rcvbuf > INT32_MAX ? INT32_MAX : (int)e->rcvbuf;
        return 0;
    case LYRA_IP_TTL:
        *val = e->ttl;
        return 0;
    case LYRA_IP_TOS:
        *val = e->tos;
        return 0;
    default:
        return -ENOPROTOOPT;
    }
}

static const struct lyra_l4_ops udp_l4_ops = {
    .hdr = LYRA_OPS_HDR(LYRA_L4_IFACE, LYRA_L4_MAJOR, LYRA_L4_MINOR, struct lyra_l4_ops),
    .type = LYRA_SOCK_DGRAM,
    .protocol = LYRA_IPPROTO_UDP,
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
};

/* ----- lifecycle ---------------------------------------------------------- */

enum { P_MAX_SOCKETS, P_RX_QUEUE, P_RX_BYTES, P_CSUM_TX, P_PORT_MIN, P_PORT_MAX, P__COUNT };

static const struct lyra_param udp_params[P__COUNT] = {
    [P_MAX_SOCKETS] = {"max_sockets", LYRA_P_INT, "16", 1, 4096,
                       "endpoints open at once (the table is allocated at start)"},
    [P_RX_QUEUE] = {"rx_queue", LYRA_P_INT, "16", 1, 65536,
                    "datagrams queued per endpoint; more are dropped (rx_queue_full)"},
    [P_RX_BYTES] = {"rx_bytes", LYRA_P_SIZE, "64k", 0, 1 << 30,
                    "payload bytes queued per endpoint (SO_RCVBUF sets it per endpoint); "
                    "more are dropped (rx_queue_full)"},
    [P_CSUM_TX] = {"csum_tx", LYRA_P_BOOL, "on", 0, -1,
                   "checksum what is sent (off: 0, \"none\", which RFC 768 allows); the NIC "
                   "computes it when it offers UDP checksum offload"},
    [P_PORT_MIN] = {"port_min", LYRA_P_INT, "49152", 1, 65535,
                    "lowest ephemeral port (RFC 6335 dynamic range by default)"},
    [P_PORT_MAX] = {"port_max", LYRA_P_INT, "65535", 1, 65535,
                    "highest ephemeral port, at least port_min"},
};

/* Rules between parameters (check hook, ABI 0.1): run before anything starts. */
static int udp_check(const struct lyra_value *p, struct lyra_diag *d)
{
    if (p[P_PORT_MIN].u.i > p[P_PORT_MAX].u.i) {
        lyra_diag_add(d, LYRA_E_RANGE, P_PORT_MIN + 1, "%lld exceeds port_max (%lld)",
                      (long long)p[P_PORT_MIN].u.i, (long long)p[P_PORT_MAX].u.i);
        return 1;
    }
    return 0;
}

static int udp_create(void *self, const struct lyra_value *p, struct lyra_diag *d)
{
    struct udp *u = self;
    memset(u, 0, sizeof(*u));
    u->max_sockets = (uint32_t)p[P_MAX_SOCKETS].u.i;
    u->rx_queue = (uint32_t)p[P_RX_QUEUE].u.i;
    u->rx_bytes = (uint32_t)p[P_RX_BYTES].u.i;
    u->csum_tx = p[P_CSUM_TX].u.b;
    int64_t lo = p[P_PORT_MIN].u.i, hi = p[P_PORT_MAX].u.i;
    if (lo < 1 || hi > 65535 || lo > hi || u->max_sockets == 0 || u->rx_queue == 0) {
        lyra_diag_add(d, LYRA_E_RANGE, 0,
                      "port_min (%lld) must not exceed port_max (%lld), both in 1..65535",
                      (long long)lo, (long long)hi);
        return -EINVAL;
    }
    u->port_min = (uint16_t)lo;
    u->port_max = (uint16_t)hi;
    return 0;
}

static void release(struct udp *u)
{
    for (uint32_t i = 0; i < u->tab.n; i++)
        udp_table_close(&u->tab, (int)i);
    if (u->mem)
        u->os.ops->mem_free(u->os.self, u->mem);
    u->mem = NULL;
    udp_table_init(&u->tab, NULL, 0, u->port_min, u->port_max, 0);
}

static int udp_start(void *self)
{
    struct udp *u = self;
    if (!u->os.ops || !u->skb || !u->l3)
        return -ENOTCONN;
    if (u->started)
        return 0;
    u->mem = u->os.ops->mem_alloc(u->os.self, (size_t)u->max_sockets * sizeof(struct udp_ep),
                                  alignof(struct udp_ep));
    if (!u->mem) {
        lyra_log(&u->os, LYRA_LOG_ERROR, WHO, "no memory for %u endpoints",
                 (unsigned)u->max_sockets);
        return -ENOMEM;
    }
    uint8_t rnd[4];
    u->os.ops->random(u->os.self, rnd, sizeof(rnd));
    uint32_t r = (uint32_t)rnd[0] << 24 | (uint32_t)rnd[1] << 16 | (uint32_t)rnd[2] << 8 | rnd[3];
    udp_table_init(&u->tab, u->mem, u->max_sockets, u->port_min, u->port_max, r);
    int e = u->l3->register_proto(u->l3_self, LYRA_IPPROTO_UDP, &udp_l3_events, u);
    if (e == -EEXIST && u->registered)
        e = 0; /* registered at an earlier start (l3 has no unregister) */
    if (e) {
        lyra_log(&u->os, LYRA_LOG_ERROR, WHO, "l3 refused IP protocol 17 (%d)", e);
        release(u);
        return e;
    }
    u->registered = true;
    u->started = true;
    return 0;
}

static void udp_stop(void *self)
{
    struct udp *u = self;
    if (!u->started)
        return;
    u->started = false;
    release(u); /* every endpoint and queued skb goes */
}

static void udp_destroy(void *self)
{
    udp_stop(self);
}

static void udp_stats(void *self, struct lyra_stats_sink *sink)
{
    struct udp *u = self;
#define UDP_STAT_EMIT(n) lyra_stat(sink, #n, u->st.n);
    UDP_STATS(UDP_STAT_EMIT)
#undef UDP_STAT_EMIT
    uint32_t queued = 0;
    lyra_stat(sink, "endpoints", udp_table_count(&u->tab, &queued));
    lyra_stat(sink, "rx_queued", queued);
}

/* ----- descriptor --------------------------------------------------------- */

static const struct lyra_provide udp_provides[] = {
    {
        .iface = LYRA_L4_IFACE,
        .major = LYRA_L4_MAJOR,
        .minor = LYRA_L4_MINOR,
        .ops = &udp_l4_ops,
        .attach = NULL,
        .max_users = 1,
        .doc = "datagram endpoints (SOCK_DGRAM, IP protocol 17) for the socket layer",
    },
};

static const struct lyra_slot udp_slots[] = {
    {
        .name = "l3",
        .iface = LYRA_L3_IFACE,
        .major = LYRA_L3_MAJOR,
        .minor = LYRA_L3_MINOR,
        .min = 1,
        .max = 1,
        LYRA_SLOT_STORE(struct udp, l3, l3_self),
        .doc = "IPv4: protocol 17 registered at start, routes, output, ICMP errors",
    },
    {
        .name = "skb",
        .iface = LYRA_SKB_IFACE,
        .major = LYRA_SKB_MAJOR,
        .minor = 0, /* 1.0 suffices (1.1 max_alloc is used when present) */
        .min = 1,
        .max = 1,
        LYRA_SLOT_STORE(struct udp, skb, skb_self),
        .doc = "buffers for sent datagrams; copies into user memory on recv",
    },
    {
        .name = "os",
        .iface = LYRA_OS_IFACE,
        .major = LYRA_OS_MAJOR,
        .minor = 0, /* 1.0 is all udp uses */
        .min = 1,
        .max = 1,
        LYRA_SLOT_STORE(struct udp, os.ops, os.self),
        .doc = "the endpoint table's memory at start, randomness for ephemeral ports, logging",
    },
};

LYRA_EXPORT const struct lyra_component lyra_component_udp = {
    LYRA_COMPONENT_HDR,
    .name = "udp",
    .version = "1.0.0",
    .summary = "UDP (RFC 768, RFC 1122 4.1): datagram endpoints over l3",
    .doc = "@component udp\n"
           "@summary UDP: checksums, demultiplexing by most specific endpoint, bounded "
           "receive queues, ephemeral ports, ICMP errors to connected endpoints\n"
           "@provides l4 1.0 (one user: the socket layer; SOCK_DGRAM, protocol 17)\n"
           "@uses l3 l3 1.0 (events rx, icmp_error, tx_ready); skb skb 1.0; os os 1.0\n"
           "@context task (the stack's poll step; ops under the socket layer's lock)\n"
           "@rfc 768 (UDP), 1122 4.1 (host rules), 6335 (port ranges), 6056 (port choice)\n"
           "Received datagrams are queued as they came (no copy) up to rx_queue datagrams "
           "and rx_bytes payload bytes per endpoint; recv copies them out. A datagram goes "
           "to the most specific endpoint (connected to its source, then bound to its "
           "destination address, then bound to any); a broadcast or multicast one to every "
           "matching endpoint (copies for all but the last). Unicast with no endpoint gets "
           "ICMP port unreachable (rate-limited by ip). Checksums: verified unless 0 or the "
           "NIC did it; computed on send in software, or by the NIC when the route says it "
           "offers UDP checksum offload; csum_tx=off sends 0. Ephemeral ports come from "
           "port_min..port_max, the first at a random offset, then in order, skipping ports "
           "in use.\n"
           "@stat rx_datagrams rx_bytes: datagrams (and payload bytes) an endpoint queued; "
           "rx_short rx_bad_len rx_bad_csum: malformed; rx_nonlinear: skb with segments; "
           "rx_down: received while stopped\n"
           "@stat no_port: unicast for no endpoint (ICMP requested); no_port_bcast: broadcast "
           "or multicast for no endpoint; rx_queue_full: over rx_queue or the byte budget\n"
           "@stat rx_bcast_copies rx_bcast_nobuf: copies of a broadcast for more endpoints, "
           "and those the pool could not give\n"
           "@stat tx_datagrams tx_bytes; tx_too_big: larger than any buffer of the pool (-EMSGSIZE); tx_nobuf: no buffer or dropped below for want of "
           "room (-EAGAIN); tx_noroute; tx_errors: other output failures; tx_csum_offload: "
           "checksums left to the NIC\n"
           "@stat icmp_errors_in: ICMP errors l3 passed up; icmp_errors_set: errors pending "
           "on an endpoint because of them; tx_ready: l3 said room is back\n"
           "@stat endpoints rx_queued: endpoints open and datagrams queued now\n",
    .provides = udp_provides,
    .n_provides = LYRA_COUNT(udp_provides),
    .slots = udp_slots,
    .n_slots = LYRA_COUNT(udp_slots),
    .params = udp_params,
    .n_params = LYRA_COUNT(udp_params),
    .instance_size = sizeof(struct udp),
    .create = udp_create,
    .start = udp_start,
    .stop = udp_stop,
    .destroy = udp_destroy,
    .poll = NULL,
    .stats = udp_stats,
    .check = udp_check,
};
