/* udp endpoint ops: open, bind, connect, shutdown, names, poll,
 * options, and the l4 ops table. */
#include "udp_priv.h"

/* ----- helpers for the ops ------------------------------------------------ */

/* Is a one of the broadcast addresses (limited, or a subnet's directed
 * broadcast, which ip routes to the link broadcast)? */
bool udp_is_bcast(struct udp *u, uint32_t a, const struct lyra_l3_route *rt)
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

int udp_autobind(struct udp *u, struct udp_ep *e)
{
    uint16_t port;
    if (udp_table_ephemeral(&u->tab, &port))
        return -EAGAIN; /* as Linux when no ephemeral port is left */
    e->lport = port;
    return 0;
}

struct udp_ep *udp_ep_get(struct udp *u, int h)
{
    return u->started ? udp_table_get(&u->tab, h) : NULL;
}

void udp_ready(struct udp *u, const struct udp_ep *e, unsigned what)
{
    if (!u->ev || !u->ev->ready)
        return;
    if (!e)
        u->ev->ready(u->ev_user, LYRA_L4_EVERY, what);
    else if (e->cookie != LYRA_L4_NO_COOKIE)
        u->ev->ready(u->ev_user, e->cookie, what);
}

int udp_l4_attach(void *self, const void *events, void *user)
{
    struct udp *u = self;
    u->ev = events;
    u->ev_user = user;
    return 0;
}

/* ----- l4 ops ------------------------------------------------------------- */

static int op_open(void *self)
{
    struct udp *u = self;
    if (!u->started)
        return -ENETDOWN;
    int h = udp_table_open(&u->tab, u->rx_bytes);
    if (h >= 0)
        lyra_zc_reset(&u->zc[h]);
    return h;
}

void udp_zc_notify(void *ctx, struct lyra_zc *z)
{
    struct udp *u = ctx;
    const struct udp_ep *e = udp_ep_get(u, (int)(z - u->zc));
    if (e) /* closed: nobody to tell (NULL would mean every endpoint) */
        udp_ready(u, e, LYRA_POLL_ERR);
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
    struct udp_ep *e = udp_ep_get(u, h);
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
    e->laddr_bcast = a->addr && udp_is_bcast(u, a->addr, NULL);
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
    struct udp_ep *e = udp_ep_get(u, h);
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
    if (udp_is_bcast(u, a->addr, &rt) && !e->bcast_ok)
        return -EACCES;
    if (!e->lport) {
        int r = udp_autobind(u, e);
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

static int op_shutdown(void *self, int h, int how)
{
    struct udp *u = self;
    struct udp_ep *e = udp_ep_get(u, h);
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
    udp_ready(u, e, LYRA_POLL_IN | LYRA_POLL_OUT | LYRA_POLL_HUP); /* a blocked recv returns 0 */
    return 0;
}

static int op_name(void *self, int h, int peer, struct lyra_sockaddr4 *out)
{
    struct udp *u = self;
    struct udp_ep *e = udp_ep_get(u, h);
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
    struct udp_ep *e = udp_ep_get(u, h);
    if (!e)
        return LYRA_POLL_ERR;
    unsigned m = 0;
    if (e->q.len || e->o.err || e->shut_rd)
        m |= LYRA_POLL_IN;
    if (e->o.err || lyra_zc_pending(&u->zc[h]))
        m |= LYRA_POLL_ERR;
    /* POLLOUT only when a send's alloc can succeed (issue 8.1): avail
     * counts buffers held back for receive and control. */
    if (!e->shut_wr && lyra_skb_tx_avail(u->skb, u->skb_self, LYRA_SKB_DATA,
                                         u->l3->headroom(u->l3_self) + UDP_HDR_LEN))
        m |= LYRA_POLL_OUT;
    if (e->shut_rd && e->shut_wr)
        m |= LYRA_POLL_HUP;
    return m;
}

static int op_setopt(void *self, int h, int opt, int val)
{
    struct udp *u = self;
    struct udp_ep *e = udp_ep_get(u, h);
    if (!e)
        return -EBADF;
    int r = lyra_l4_ipopt_set(&e->o, opt, val);
    if (r <= 0)
        return r;
    switch (opt) {
    case LYRA_SO_BROADCAST:
        e->bcast_ok = val != 0;
        return 0;
    case LYRA_SO_ZEROCOPY:
        u->zc[h].on = val != 0;
        return 0;
    case LYRA_SO_LOAN_MAX:
        return lyra_zc_set_loan_max(&u->zc[h], val);
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
    struct udp_ep *e = udp_ep_get(u, h);
    if (!e)
        return -EBADF;
    if (!val)
        return -EINVAL;
    if (lyra_l4_ipopt_get(&e->o, opt, val, 0) == 0)
        return 0; /* 0 for IP_TTL: ip's own (udp cannot know it) */
    switch (opt) {
    case LYRA_SO_BROADCAST:
        *val = e->bcast_ok;
        return 0;
    case LYRA_SO_ZEROCOPY:
        *val = u->zc[h].on;
        return 0;
    case LYRA_SO_LOAN_MAX:
        *val = u->zc[h].loan_max;
        return 0;
    case LYRA_SO_REUSEADDR:
        *val = e->reuse;
        return 0;
    case LYRA_SO_RCVBUF:
        *val = e->rcvbuf > INT32_MAX ? INT32_MAX : (int)e->rcvbuf;
        return 0;
    default:
        return -ENOPROTOOPT;
    }
}

/* l4 1.2's bytes options: only the zero-copy completions (1.3). */
static int op_setopt_buf(void *self, int h, int opt, const void *val, uint32_t len)
{
    (void)val;
    (void)len;
    return udp_ep_get(self, h) ? (opt == LYRA_SO_ZC_COMPL ? -EINVAL : -ENOPROTOOPT) : -EBADF;
}

static int op_getopt_buf(void *self, int h, int opt, void *val, uint32_t *len)
{
    struct udp *u = self;
    if (!udp_ep_get(u, h))
        return -EBADF;
    if (opt != LYRA_SO_ZC_COMPL)
        return -ENOPROTOOPT;
    if (!val || !len)
        return -EFAULT;
    return lyra_zc_take_buf(&u->zc[h], val, len);
}

static void op_set_cookie(void *self, int h, uintptr_t cookie)
{
    struct udp_ep *e = udp_ep_get(self, h);
    if (e)
        e->cookie = cookie;
}

const struct lyra_l4_ops udp_l4_ops = {
    .hdr = LYRA_OPS_HDR(LYRA_L4_IFACE, LYRA_L4_MAJOR, LYRA_L4_MINOR, struct lyra_l4_ops),
    .type = LYRA_SOCK_DGRAM,
    .protocol = LYRA_IPPROTO_UDP,
    .open = op_open,
    .close = op_close,
    .bind = op_bind,
    .connect = op_connect,
    .listen = op_listen,
    .accept = op_accept,
    .send = udp_op_send,
    .recv = udp_op_recv,
    .shutdown = op_shutdown,
    .name = op_name,
    .poll = op_poll,
    .setopt = op_setopt,
    .getopt = op_getopt,
    .set_cookie = op_set_cookie,
    .setopt_buf = op_setopt_buf,
    .getopt_buf = op_getopt_buf,
    .recv_loan = udp_op_recv_loan,
    .loan_return = udp_op_loan_return,
};
