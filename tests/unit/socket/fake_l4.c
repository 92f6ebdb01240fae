/* fake_l4: a datagram transport (type DGRAM, protocol 253, "experimental")
 * whose network is a queue inside the instance: a send is delivered to the
 * endpoint bound to the destination port at the next poll step, so a test
 * can tell whether a blocked caller made the stack's loop run. */
#include <errno.h>
#include <string.h>

#include "lyra/component.h"
#include "lyra/l4.h"

#define FL4_EPS 8
#define FL4_Q 4
#define FL4_DG 256

struct dg {
    uint16_t src, dst;
    uint16_t len;
    uint8_t data[FL4_DG];
};

struct ep {
    int used;
    uint16_t port, peer;
    int ttl;
    struct dg q[FL4_Q];
    unsigned qh, qn;
    uintptr_t cookie;
};

struct fl4 {
    struct ep ep[FL4_EPS];
    struct dg fly[FL4_Q * 2];
    unsigned nfly;
    uint64_t opened, closed, delivered, lost;
    uint64_t loan_calls, loans_out; /* recv_loan calls that reached us; loans not returned */
    const struct lyra_l4_events *ev; /* l4 1.1 */
    void *ev_user;
};

static void ready(struct fl4 *f, uintptr_t cookie, unsigned what)
{
    if (f->ev && cookie != LYRA_L4_NO_COOKIE)
        f->ev->ready(f->ev_user, cookie, what);
}

static int f_attach(void *self, const void *events, void *user)
{
    struct fl4 *f = self;
    f->ev = events;
    f->ev_user = user;
    return 0;
}

static void f_set_cookie(void *self, int h, uintptr_t cookie)
{
    struct fl4 *f = self;
    f->ep[h].cookie = cookie;
}

static int f_open(void *self)
{
    struct fl4 *f = self;
    for (int h = 0; h < FL4_EPS; h++)
        if (!f->ep[h].used) {
            memset(&f->ep[h], 0, sizeof(f->ep[h]));
            f->ep[h].used = 1;
            f->ep[h].ttl = 64;
            f->opened++;
            return h;
        }
    return -ENOBUFS;
}

static void f_close(void *self, int h)
{
    struct fl4 *f = self;
    f->ep[h].used = 0;
    f->closed++;
}

static int f_bind(void *self, int h, const struct lyra_sockaddr4 *a)
{
    struct fl4 *f = self;
    for (int i = 0; i < FL4_EPS; i++)
        if (f->ep[i].used && f->ep[i].port == a->port && a->port)
            return -EADDRINUSE;
    f->ep[h].port = a->port ? a->port : (uint16_t)(40000 + h);
    return 0;
}

static int f_connect(void *self, int h, const struct lyra_sockaddr4 *a)
{
    struct fl4 *f = self;
    f->ep[h].peer = a->port;
    return 0;
}

static int f_nosup(void *self, int h, int x)
{
    return -EOPNOTSUPP;
}

static int f_accept(void *self, int h, struct lyra_sockaddr4 *peer)
{
    return -EOPNOTSUPP;
}

static long f_send(void *self, int h, const void *buf, size_t len, const struct lyra_sockaddr4 *to,
                   int flags)
{
    struct fl4 *f = self;
    uint16_t dst = to ? to->port : f->ep[h].peer;
    if (flags & LYRA_MSG_OOB)
        return -EOPNOTSUPP;
    if (!dst)
        return -EDESTADDRREQ;
    if (len > FL4_DG)
        return -EMSGSIZE;
    if (f->nfly == FL4_Q * 2)
        return -EAGAIN;
    struct dg *d = &f->fly[f->nfly++];
    d->src = f->ep[h].port;
    d->dst = dst;
    d->len = (uint16_t)len;
    memcpy(d->data, buf, len);
    return (long)len;
}

static long f_recv(void *self, int h, const struct lyra_iov *iov, unsigned iovcnt,
                   struct lyra_sockaddr4 *from, struct lyra_l4_dst *to, int flags)
{
    struct fl4 *f = self;
    struct ep *e = &f->ep[h];
    if (flags & (LYRA_MSG_OOB | LYRA_MSG_ERRQUEUE))
        return -EOPNOTSUPP;
    if (!e->qn)
        return -EAGAIN;
    struct dg *d = &e->q[e->qh];
    size_t n = 0;
    for (unsigned i = 0; i < iovcnt && n < d->len; i++) {
        size_t k = d->len - n < iov[i].len ? d->len - n : iov[i].len;
        if (k)
            memcpy(iov[i].base, d->data + n, k);
        n += k;
    }
    if (from) {
        from->addr = 0x7f000001;
        from->port = d->src;
    }
    if (to) { /* every datagram goes to 127.0.0.1 */
        to->addr = 0x7f000001;
        to->local = 0x7f000001;
        to->port = d->dst;
    }
    long r = (flags & LYRA_MSG_TRUNC) ? d->len : (long)n;
    if (!(flags & LYRA_MSG_PEEK)) {
        e->qh = (e->qh + 1) % FL4_Q;
        e->qn--;
    }
    return r;
}

/* l4 1.3 loans: the head datagram in place (taken off the queue; its
 * slot is not reused before FL4_Q more arrive, enough for the tests). The
 * call that takes the last one says DRAINED, as tcp and udp do. */
static long f_recv_loan(void *self, int h, struct lyra_l4_loan *ln, int flags)
{
    struct fl4 *f = self;
    struct ep *e = &f->ep[h];
    f->loan_calls++;
    if (flags)
        return -EINVAL;
    if (!e->qn)
        return -EAGAIN;
    struct dg *d = &e->q[e->qh];
    e->qh = (e->qh + 1) % FL4_Q;
    e->qn--;
    ln->data = d->data;
    ln->len = d->len;
    ln->skb = d;
    ln->h = (uint32_t)h;
    f->loans_out++;
    if (!e->qn)
        ready(f, e->cookie, LYRA_L4_DRAINED);
    return d->len;
}

static void f_loan_return(void *self, struct lyra_l4_loan *ln)
{
    struct fl4 *f = self;
    if (ln && ln->skb)
        f->loans_out--;
}

static int f_name(void *self, int h, int peer, struct lyra_sockaddr4 *out)
{
    struct fl4 *f = self;
    if (peer && !f->ep[h].peer)
        return -ENOTCONN;
    out->addr = 0x7f000001;
    out->port = peer ? f->ep[h].peer : f->ep[h].port;
    return 0;
}

static unsigned f_poll(void *self, int h)
{
    struct fl4 *f = self;
    return (f->ep[h].qn ? LYRA_POLL_IN : 0) | (f->nfly < FL4_Q * 2 ? LYRA_POLL_OUT : 0);
}

static int f_setopt(void *self, int h, int opt, int val)
{
    struct fl4 *f = self;
    if (opt != LYRA_IP_TTL)
        return -ENOPROTOOPT;
    f->ep[h].ttl = val;
    return 0;
}

static int f_getopt(void *self, int h, int opt, int *val)
{
    struct fl4 *f = self;
    if (opt == LYRA_SO_ERROR) {
        *val = 0;
        return 0;
    }
    if (opt != LYRA_IP_TTL)
        return -ENOPROTOOPT;
    *val = f->ep[h].ttl;
    return 0;
}

static const struct lyra_l4_ops fl4_ops = {
    .hdr = LYRA_OPS_HDR(LYRA_L4_IFACE, LYRA_L4_MAJOR, LYRA_L4_MINOR, struct lyra_l4_ops),
    .type = LYRA_SOCK_DGRAM,
    .protocol = 253,
    .open = f_open,
    .close = f_close,
    .bind = f_bind,
    .connect = f_connect,
    .listen = f_nosup,
    .accept = f_accept,
    .send = f_send,
    .recv = f_recv,
    .shutdown = f_nosup,
    .name = f_name,
    .poll = f_poll,
    .setopt = f_setopt,
    .getopt = f_getopt,
    .set_cookie = f_set_cookie,
    .recv_loan = f_recv_loan,
    .loan_return = f_loan_return,
};

/* The "network": everything in flight arrives now (or is lost when its
 * port has no endpoint or a full queue). */
static int fl4_poll(void *self, unsigned budget)
{
    struct fl4 *f = self;
    unsigned n = f->nfly;
    for (unsigned i = 0; i < n; i++) {
        struct dg *d = &f->fly[i];
        struct ep *e = NULL;
        for (int h = 0; h < FL4_EPS && !e; h++)
            if (f->ep[h].used && f->ep[h].port == d->dst)
                e = &f->ep[h];
        if (!e || e->qn == FL4_Q) {
            f->lost++;
            continue;
        }
        e->q[(e->qh + e->qn++) % FL4_Q] = *d;
        f->delivered++;
        ready(f, e->cookie, LYRA_POLL_IN);
    }
    f->nfly = 0;
    if (n)
        ready(f, LYRA_L4_EVERY, LYRA_POLL_OUT); /* room in flight again */
    return (int)n;
}

static void fl4_stats(void *self, struct lyra_stats_sink *s)
{
    struct fl4 *f = self;
    lyra_stat(s, "opened", f->opened);
    lyra_stat(s, "closed", f->closed);
    lyra_stat(s, "delivered", f->delivered);
    lyra_stat(s, "lost", f->lost);
    lyra_stat(s, "loan_calls", f->loan_calls);
    lyra_stat(s, "loans_out", f->loans_out);
}

static const struct lyra_provide fl4_provides[] = {
    {.iface = LYRA_L4_IFACE, .major = LYRA_L4_MAJOR, .minor = LYRA_L4_MINOR, .ops = &fl4_ops,
     .attach = f_attach},
};

LYRA_EXPORT const struct lyra_component lyra_component_fake_l4 = {
    LYRA_COMPONENT_HDR,
    .name = "fake_l4",
    .version = "1.0.0",
    .summary = "test transport: datagrams delivered by port at the next poll step",
    .provides = fl4_provides,
    .n_provides = LYRA_COUNT(fl4_provides),
    .instance_size = sizeof(struct fl4),
    .poll = fl4_poll,
    .stats = fl4_stats,
};
