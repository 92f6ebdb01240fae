/* ICMP echo sockets (see icmp_sock.h): the endpoint table, ip's l4 ops,
 * and the two hooks icmp.c calls (echo replies, errors quoting our echo
 * requests).
 *
 * Ownership: send builds one skb and hands it to ip_output (which takes
 * it on every path); an echo reply matched by icmp_sock_input is queued
 * or freed next to its counter; recv frees what it dequeues, close and
 * stop free what is left. */
#include "icmp_sock.h"

#include <errno.h>
#include <string.h>

#include "icmp_wire.h"
#include "ip_internal.h"
#include "lyra/inet_csum.h"
#include "lyra/l4_ip.h"

/* ----- table -------------------------------------------------------------- */

void icmp_sock_init(struct icmp_socks *t, struct icmp_ep *mem, unsigned n)
{
    t->ep = mem;
    t->n = mem ? n : 0;
    for (unsigned i = 0; i < t->n; i++) {
        memset(&t->ep[i], 0, sizeof(t->ep[i]));
        lyra_skbq_init(&t->ep[i].rq);
    }
}

int icmp_sock_attach(void *self, const void *events, void *user)
{
    struct ip *ip = self;
    ip->socks.ev = events;
    ip->socks.ev_user = user;
    return 0;
}

static void ep_close(struct icmp_ep *e)
{
    lyra_skbq_purge(&e->rq);
    memset(e, 0, sizeof(*e));
    lyra_skbq_init(&e->rq);
}

void icmp_sock_purge(struct icmp_socks *t)
{
    for (unsigned i = 0; i < t->n; i++)
        if (t->ep[i].used)
            ep_close(&t->ep[i]);
}

static struct icmp_ep *ep_get(struct ip *ip, int h)
{
    if (h < 0 || (unsigned)h >= ip->socks.n || !ip->socks.ep[h].used)
        return NULL;
    return &ip->socks.ep[h];
}

static bool id_in_use(const struct ip *ip, uint16_t id)
{
    for (unsigned i = 0; i < ip->socks.n; i++) {
        const struct icmp_ep *e = &ip->socks.ep[i];
        if (e->used && e->bound && e->id == id)
            return true;
    }
    return false;
}

/* An ephemeral identifier: random, then the next free one after it (at
 * most n endpoints hold one, so n + 1 tries find one). Never 0, which bind
 * reads as "pick one". */
static int autobind(struct ip *ip, struct icmp_ep *e)
{
    uint8_t rnd[2];
    ip->os.ops->random(ip->os.self, rnd, sizeof(rnd));
    uint32_t r = ip_ld16(rnd);
    for (uint32_t k = 0; k < 65535; k++) {
        uint16_t id = (uint16_t)(1 + (r + k) % 65535);
        if (!id_in_use(ip, id)) {
            e->id = id;
            e->bound = true;
            return 0;
        }
    }
    return -EADDRINUSE; /* unreachable: the table is far smaller */
}

/* Endpoint e may progress for what (l4 1.1 ready). */
static void ready(struct ip *ip, const struct icmp_ep *e, unsigned what)
{
    const struct lyra_l4_events *ev = ip->socks.ev;
    if (ev && ev->ready && e->cookie != LYRA_L4_NO_COOKIE)
        ev->ready(ip->socks.ev_user, e->cookie, what);
}

/* ----- l4 ops ------------------------------------------------------------- */

static int s_open(void *self)
{
    struct ip *ip = self;
    if (!ip->started)
        return -ENETDOWN;
    for (unsigned i = 0; i < ip->socks.n; i++) {
        struct icmp_ep *e = &ip->socks.ep[i];
        if (!e->used) {
            memset(e, 0, sizeof(*e));
            lyra_skbq_init(&e->rq);
            lyra_l4_ipopts_init(&e->o);
            e->used = true;
            return (int)i;
        }
    }
    return -ENOBUFS;
}

static void s_close(void *self, int h)
{
    struct icmp_ep *e = ep_get(self, h);
    if (e)
        ep_close(e);
}

static int s_bind(void *self, int h, const struct lyra_sockaddr4 *a)
{
    struct ip *ip = self;
    struct icmp_ep *e = ep_get(ip, h);
    if (!e)
        return -EBADF;
    if (!a || e->bound)
        return -EINVAL;
    /* As Linux: a unicast address of ours, or any. */
    if (a->addr && a->addr != ip->addr)
        return -EADDRNOTAVAIL;
    if (a->port) {
        if (id_in_use(ip, a->port))
            return -EADDRINUSE;
        e->id = a->port;
        e->bound = true;
    } else {
        int r = autobind(ip, e);
        if (r)
            return r;
    }
    e->laddr = a->addr;
    return 0;
}

/* Where a message to dst may go: 0, -EACCES (broadcast: no SO_BROADCAST
 * here; RFC 1122 3.2.2.6 lets hosts ignore such echoes anyway),
 * -ENETUNREACH. */
static int dst_check(const struct ip *ip, uint32_t dst)
{
    uint32_t nh, src;
    if (!ip->started)
        return -ENETDOWN;
    if (ip_addr_is_bcast(ip, dst))
        return -EACCES;
    return ip_resolve(ip, dst, &nh, &src) ? -ENETUNREACH : 0;
}

static int s_connect(void *self, int h, const struct lyra_sockaddr4 *a)
{
    struct ip *ip = self;
    struct icmp_ep *e = ep_get(ip, h);
    if (!e)
        return -EBADF;
    if (!a)
        return -EINVAL;
    if (a->addr == 0 && a->port == 0) { /* dissolves the association */
        e->connected = false;
        e->peer = 0;
        return 0;
    }
    int r = dst_check(ip, a->addr);
    if (r)
        return r;
    if (!e->bound && (r = autobind(ip, e)) != 0)
        return r;
    e->peer = a->addr;
    e->connected = true;
    return 0;
}

static int s_listen(void *self, int h, int backlog)
{
    (void)self, (void)h, (void)backlog;
    return -EOPNOTSUPP;
}

static int s_accept(void *self, int h, struct lyra_sockaddr4 *peer)
{
    (void)self, (void)h, (void)peer;
    return -EOPNOTSUPP;
}

static int s_shutdown(void *self, int h, int how)
{
    (void)self, (void)h, (void)how;
    return -EOPNOTSUPP;
}

/* RFC 792 echo request from the application: its type, code, sequence
 * number and data are kept; the identifier is the endpoint's and the
 * checksum ours (the application's is ignored, as Linux does). */
static long s_send(void *self, int h, const void *buf, size_t len,
                   const struct lyra_sockaddr4 *to, int flags)
{
    struct ip *ip = self;
    struct icmp_ep *e = ep_get(ip, h);
    const uint8_t *m = buf;
    if (!e)
        return -EBADF;
    if (flags & LYRA_MSG_OOB)
        return -EOPNOTSUPP;
    if (!buf && len)
        return -EFAULT;
    if (len > IPV4_MAX_LEN - IPV4_HDR_LEN)
        return -EMSGSIZE;
    if (len < ICMP_HDR_LEN || m[0] != ICMP_ECHO || m[1] != 0)
        return -EINVAL;
    if (!to && !e->connected)
        return -EDESTADDRREQ;
    uint32_t dst = to ? to->addr : e->peer;
    if (e->o.err)
        return lyra_l4_take_err(&e->o);
    int r = dst_check(ip, dst);
    if (r)
        return r;
    if (!e->bound && (r = autobind(ip, e)) != 0)
        return r;

    uint32_t n = (uint32_t)len, body = n - ICMP_HDR_LEN;
    /* skb 2.0, as udp: the message linear when it fits one buffer, else
     * its header in one and the body chained by add_data */
    uint32_t lin = n <= lyra_skb_max_alloc(ip->skb, ip->skb_self, ip_headroom(ip)) ? n : ICMP_HDR_LEN;
    struct lyra_skb *skb = ip->skb->alloc(ip->skb_self, ip_headroom(ip), lin);
    uint8_t *p = skb ? lyra_skb_put(skb, ICMP_HDR_LEN) : NULL;
    if (!p) {
        lyra_skb_free(skb);
        ip->st.icmp_sock_tx_nobuf++;
        return -EAGAIN; /* back-pressure, as udp's */
    }
    memcpy(p, m, ICMP_HDR_LEN);
    ip_st16(p + 4, e->id);
    icmp_set_csum(p, ICMP_HDR_LEN, lyra_csum_add(m + ICMP_HDR_LEN, body, 0));
    uint32_t copied = 0;
    int took = body ? ip->skb->add_data(ip->skb_self, skb, m + ICMP_HDR_LEN, body,
                                        LYRA_SEG_F_USER, &copied)
                    : 0;
    if (took < 0 || (uint32_t)took < body) {
        lyra_skb_free(skb);
        if (took == -EMSGSIZE)
            return -EMSGSIZE; /* the pool can never hold it: not back-pressure */
        ip->st.icmp_sock_tx_nobuf++;
        return took < 0 ? -ENOBUFS : -EAGAIN;
    }
    ip->copy_bytes += copied; /* what add_data copied (skb_copy: all of it) */
    r = ip_output(ip, skb, e->laddr, dst, LYRA_IPPROTO_ICMP, e->o.ttl, e->o.tos, 0);
    if (r)
        return r;
    ip->st.icmp_sock_tx++;
    return (long)len;
}

static long s_recv(void *self, int h, const struct lyra_iov *iov, unsigned iovcnt,
                   struct lyra_sockaddr4 *from, struct lyra_l4_dst *to, int flags)
{
    struct ip *ip = self;
    struct icmp_ep *e = ep_get(ip, h);
    if (!e)
        return -EBADF;
    if (!iov && iovcnt)
        return -EFAULT;
    if (flags & (LYRA_MSG_OOB | LYRA_MSG_ERRQUEUE))
        return -EOPNOTSUPP;
    for (unsigned i = 0; i < iovcnt; i++)
        if (!iov[i].base && iov[i].len)
            return -EFAULT;
    if (e->o.err) /* as Linux's datagram receive: the error first */
        return lyra_l4_take_err(&e->o);
    struct lyra_skb *skb = e->rq.head;
    if (!skb)
        return -EAGAIN;
    uint32_t total = lyra_skb_total(skb), n = 0;
    /* copy_out copies (skb 2.7): a peek keeps the datagram as it was */
    int bad = 0;
    for (unsigned i = 0; i < iovcnt && n < total && !bad; i++) {
        uint32_t k = total - n < iov[i].len ? total - n : (uint32_t)iov[i].len;
        bad = k && ip->skb->copy_out(ip->skb_self, skb, n, iov[i].base, k) < 0;
        if (!bad) {
            n += k;
            ip->copy_bytes += k;
        }
    }
    if (bad)
        return -EIO; /* cannot be: the skb's own length */
    if (from) {
        from->addr = (uint32_t)skb->cb[0];
        from->port = 0;
    }
    if (to) {
        uint32_t dst = (uint32_t)skb->cb[1], nh, src = dst;
        if ((ip_addr_is_bcast(ip, dst) || (dst >> 28) == 0xe) && ip_resolve(ip, dst, &nh, &src))
            src = 0;
        *to = (struct lyra_l4_dst){.addr = dst, .local = src, .port = e->id};
    }
    if (!(flags & LYRA_MSG_PEEK))
        lyra_skb_free(lyra_skbq_pop(&e->rq));
    return (flags & LYRA_MSG_TRUNC) ? (long)total : (long)n;
}

static int s_name(void *self, int h, int peer, struct lyra_sockaddr4 *out)
{
    struct icmp_ep *e = ep_get(self, h);
    if (!e)
        return -EBADF;
    if (!out)
        return -EINVAL;
    if (peer) {
        if (!e->connected)
            return -ENOTCONN;
        *out = (struct lyra_sockaddr4){.addr = e->peer, .port = 0};
    } else {
        *out = (struct lyra_sockaddr4){.addr = e->laddr, .port = e->bound ? e->id : 0};
    }
    return 0;
}

static unsigned s_poll(void *self, int h)
{
    struct ip *ip = self;
    struct icmp_ep *e = ep_get(ip, h);
    if (!e)
        return LYRA_POLL_ERR;
    unsigned m = 0;
    if (e->rq.len)
        m |= LYRA_POLL_IN;
    if (e->o.err)
        m |= LYRA_POLL_ERR;
    /* POLLOUT only when a send's alloc can succeed (issue 8.1): avail
     * counts buffers held back for receive and control. */
    if (ip->started && lyra_skb_tx_avail(ip->skb, ip->skb_self, LYRA_SKB_DATA, ip_headroom(ip)))
        m |= LYRA_POLL_OUT;
    return m;
}

static int s_setopt(void *self, int h, int opt, int val)
{
    struct icmp_ep *e = ep_get(self, h);
    if (!e)
        return -EBADF;
    int r = lyra_l4_ipopt_set(&e->o, opt, val);
    return r <= 0 ? r : -ENOPROTOOPT;
}

static int s_getopt(void *self, int h, int opt, int *val)
{
    struct ip *ip = self;
    struct icmp_ep *e = ep_get(ip, h);
    if (!e)
        return -EBADF;
    if (!val)
        return -EINVAL;
    return lyra_l4_ipopt_get(&e->o, opt, val, ip->ttl) == 0 ? 0 : -ENOPROTOOPT;
}

static void s_set_cookie(void *self, int h, uintptr_t cookie)
{
    struct icmp_ep *e = ep_get(self, h);
    if (e)
        e->cookie = cookie;
}

const struct lyra_l4_ops icmp_sock_l4_ops = {
    .hdr = LYRA_OPS_HDR(LYRA_L4_IFACE, LYRA_L4_MAJOR, LYRA_L4_MINOR, struct lyra_l4_ops),
    .type = LYRA_SOCK_DGRAM,
    .protocol = LYRA_IPPROTO_ICMP,
    .open = s_open,
    .close = s_close,
    .bind = s_bind,
    .connect = s_connect,
    .listen = s_listen,
    .accept = s_accept,
    .send = s_send,
    .recv = s_recv,
    .shutdown = s_shutdown,
    .name = s_name,
    .poll = s_poll,
    .setopt = s_setopt,
    .getopt = s_getopt,
    .set_cookie = s_set_cookie,
};

/* ----- from icmp.c -------------------------------------------------------- */

bool icmp_sock_input(struct ip *ip, struct lyra_skb *skb, const struct lyra_l3_rxinfo *info)
{
    if (skb->len < ICMP_HDR_LEN)
        return false; /* checked by icmp_input; never read past the header */
    uint16_t id = ip_ld16(skb->data + 4);
    for (unsigned i = 0; i < ip->socks.n; i++) {
        struct icmp_ep *e = &ip->socks.ep[i];
        if (!e->used || !e->bound || e->id != id || (e->laddr && e->laddr != info->dst) ||
            (e->connected && e->peer != info->src))
            continue;
        if (e->rq.len >= ICMP_SOCK_QLEN) {
            ip->st.icmp_sock_queue_full++;
            lyra_skb_free(skb);
            return true;
        }
        skb->cb[0] = info->src;
        skb->cb[1] = info->dst;
        lyra_skbq_push(&e->rq, skb);
        ip->st.icmp_sock_rx++;
        ready(ip, e, LYRA_POLL_IN);
        return true;
    }
    return false;
}

int icmp_sock_errno(uint8_t type, uint8_t code)
{
    /* The map udp uses too (lyra/l4_ip.h); an echo socket reports every
     * error it is given, so what the map ignores is EHOSTUNREACH here. */
    int e = lyra_l4_icmp_errno(type, code);
    return e ? e : EHOSTUNREACH;
}

bool icmp_sock_error(struct ip *ip, const struct lyra_l3_icmp_err *err)
{
    if (err->l4[0] != ICMP_ECHO)
        return false;
    uint16_t id = ip_ld16(err->l4 + 4);
    for (unsigned i = 0; i < ip->socks.n; i++) {
        struct icmp_ep *e = &ip->socks.ep[i];
        if (!e->used || !e->bound || e->id != id || (e->laddr && e->laddr != err->src))
            continue;
        /* Only a connected endpoint learns of it (as Linux without
         * IP_RECVERR), and only about a request to its peer. */
        if (e->connected && e->peer == err->dst) {
            e->o.err = icmp_sock_errno(err->type, err->code);
            ip->st.icmp_sock_errors++;
            ready(ip, e, LYRA_POLL_IN | LYRA_POLL_ERR);
        }
        return true;
    }
    return false;
}
