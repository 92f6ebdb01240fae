/* fake_stream: a stream transport (type STREAM, protocol 254) inside the
 * instance, for the socket API's stream semantics (issue 8.4). connect to
 * a listening port pairs two endpoints at once; each endpoint receives into
 * a buffer of FS_CAP bytes, so a sender blocks while its peer does not
 * read. shutdown(WR) is the peer's end of stream (RDHUP); close with
 * LYRA_SO_LINGER 0 aborts (the peer's next call: ECONNRESET). Readiness
 * changes go up as l4 1.1 ready events. */
#include <errno.h>
#include <string.h>

#include "lyra/component.h"
#include "lyra/l4.h"

#define FS_EPS 8
#define FS_CAP 64

struct sep {
    int used, listening, pending; /* pending: made by connect, not accepted yet */
    int peer;                     /* -1: none */
    uint16_t port;
    int shut_wr, eof, err, linger;
    unsigned len;
    uint8_t buf[FS_CAP];
    uintptr_t cookie;
};

struct fs {
    struct sep ep[FS_EPS];
    const struct lyra_l4_events *ev;
    void *ev_user;
};

static void ready(struct fs *f, int h, unsigned what)
{
    if (h >= 0 && f->ev && f->ep[h].cookie)
        f->ev->ready(f->ev_user, f->ep[h].cookie, what);
}

static int fs_attach(void *self, const void *events, void *user)
{
    struct fs *f = self;
    f->ev = events;
    f->ev_user = user;
    return 0;
}

static int fs_alloc(struct fs *f)
{
    for (int h = 0; h < FS_EPS; h++)
        if (!f->ep[h].used) {
            memset(&f->ep[h], 0, sizeof(f->ep[h]));
            f->ep[h].used = 1;
            f->ep[h].peer = -1;
            f->ep[h].linger = -1;
            return h;
        }
    return -ENOBUFS;
}

static int fs_open(void *self)
{
    return fs_alloc(self);
}

static void fs_close(void *self, int h)
{
    struct fs *f = self;
    struct sep *e = &f->ep[h];
    int p = e->peer;
    if (p >= 0) {
        struct sep *q = &f->ep[p];
        q->peer = -1;
        if (e->linger == 0)
            q->err = ECONNRESET; /* abort */
        q->eof = 1;
        ready(f, p, LYRA_POLL_IN | LYRA_POLL_RDHUP | LYRA_POLL_HUP | LYRA_POLL_ERR);
    }
    for (int i = 0; i < FS_EPS; i++) /* connections nobody accepted go too */
        if (e->listening && f->ep[i].used && f->ep[i].pending == h + 1)
            f->ep[i].used = 0;
    e->used = 0;
}

static int fs_bind(void *self, int h, const struct lyra_sockaddr4 *a)
{
    struct fs *f = self;
    f->ep[h].port = a->port;
    return 0;
}

static int fs_listen(void *self, int h, int backlog)
{
    struct fs *f = self;
    (void)backlog;
    f->ep[h].listening = 1;
    return 0;
}

static int fs_connect(void *self, int h, const struct lyra_sockaddr4 *a)
{
    struct fs *f = self;
    for (int l = 0; l < FS_EPS; l++)
        if (f->ep[l].used && f->ep[l].listening && f->ep[l].port == a->port) {
            int n = fs_alloc(f);
            if (n < 0)
                return n;
            f->ep[n].pending = l + 1;
            f->ep[n].peer = h;
            f->ep[h].peer = n;
            ready(f, l, LYRA_POLL_IN);
            return 0;
        }
    return -ECONNREFUSED;
}

static int fs_accept(void *self, int h, struct lyra_sockaddr4 *peer)
{
    struct fs *f = self;
    for (int i = 0; i < FS_EPS; i++)
        if (f->ep[i].used && f->ep[i].pending == h + 1) {
            f->ep[i].pending = 0;
            peer->addr = 0x7f000001;
            peer->port = 1;
            return i;
        }
    return -EAGAIN;
}

static long fs_send(void *self, int h, const void *buf, size_t len,
                    const struct lyra_sockaddr4 *to, int flags)
{
    struct fs *f = self;
    struct sep *e = &f->ep[h];
    (void)to;
    if (flags & LYRA_MSG_OOB)
        return -EOPNOTSUPP;
    if (e->err) {
        int r = e->err;
        e->err = 0;
        return -r;
    }
    if (e->shut_wr || e->peer < 0)
        return -EPIPE;
    struct sep *q = &f->ep[e->peer];
    size_t n = FS_CAP - q->len < len ? FS_CAP - q->len : len;
    if (!n && len)
        return -EAGAIN;
    memcpy(q->buf + q->len, buf, n);
    q->len += (unsigned)n;
    ready(f, e->peer, LYRA_POLL_IN);
    return (long)n;
}

static long fs_recv(void *self, int h, const struct lyra_iov *iov, unsigned iovcnt,
                    struct lyra_sockaddr4 *from, struct lyra_l4_dst *to, int flags)
{
    struct fs *f = self;
    struct sep *e = &f->ep[h];
    (void)from, (void)to;
    if (flags & (LYRA_MSG_OOB | LYRA_MSG_ERRQUEUE))
        return -EOPNOTSUPP;
    if (e->err) {
        int r = e->err;
        e->err = 0;
        return -r;
    }
    if (!e->len)
        return e->eof ? 0 : -EAGAIN;
    size_t n = 0;
    for (unsigned i = 0; i < iovcnt && n < e->len; i++) {
        size_t k = e->len - n < iov[i].len ? e->len - n : iov[i].len;
        memcpy(iov[i].base, e->buf + n, k);
        n += k;
    }
    if (!(flags & LYRA_MSG_PEEK)) {
        memmove(e->buf, e->buf + n, e->len - n);
        e->len -= (unsigned)n;
        ready(f, e->peer, LYRA_POLL_OUT);
    }
    return (long)n;
}

static int fs_shutdown(void *self, int h, int how)
{
    struct fs *f = self;
    struct sep *e = &f->ep[h];
    if (how != 0 && !e->shut_wr) {
        e->shut_wr = 1;
        if (e->peer >= 0) {
            f->ep[e->peer].eof = 1;
            ready(f, e->peer, LYRA_POLL_IN | LYRA_POLL_RDHUP);
        }
    }
    return 0;
}

static int fs_name(void *self, int h, int peer, struct lyra_sockaddr4 *out)
{
    struct fs *f = self;
    out->addr = 0x7f000001;
    out->port = peer ? 1 : f->ep[h].port;
    return 0;
}

static unsigned fs_poll(void *self, int h)
{
    struct fs *f = self;
    struct sep *e = &f->ep[h];
    unsigned m = 0;
    if (e->listening) {
        for (int i = 0; i < FS_EPS; i++)
            if (f->ep[i].used && f->ep[i].pending == h + 1)
                m |= LYRA_POLL_IN;
        return m;
    }
    if (e->len || e->eof || e->err)
        m |= LYRA_POLL_IN;
    if (e->eof)
        m |= LYRA_POLL_RDHUP;
    if (e->err)
        m |= LYRA_POLL_ERR;
    if (!e->shut_wr && e->peer >= 0 && f->ep[e->peer].len < FS_CAP)
        m |= LYRA_POLL_OUT;
    if (e->eof && (e->shut_wr || e->peer < 0))
        m |= LYRA_POLL_HUP;
    return m;
}

static int fs_setopt(void *self, int h, int opt, int val)
{
    struct fs *f = self;
    if (opt != LYRA_SO_LINGER)
        return -ENOPROTOOPT;
    f->ep[h].linger = val;
    return 0;
}

static int fs_getopt(void *self, int h, int opt, int *val)
{
    struct fs *f = self;
    if (opt != LYRA_SO_ERROR)
        return -ENOPROTOOPT;
    *val = f->ep[h].err;
    f->ep[h].err = 0;
    return 0;
}

static void fs_set_cookie(void *self, int h, uintptr_t cookie)
{
    struct fs *f = self;
    f->ep[h].cookie = cookie;
}

static const struct lyra_l4_ops fs_ops = {
    .hdr = LYRA_OPS_HDR(LYRA_L4_IFACE, LYRA_L4_MAJOR, LYRA_L4_MINOR, struct lyra_l4_ops),
    .type = LYRA_SOCK_STREAM,
    .protocol = 254,
    .open = fs_open,
    .close = fs_close,
    .bind = fs_bind,
    .connect = fs_connect,
    .listen = fs_listen,
    .accept = fs_accept,
    .send = fs_send,
    .recv = fs_recv,
    .shutdown = fs_shutdown,
    .name = fs_name,
    .poll = fs_poll,
    .setopt = fs_setopt,
    .getopt = fs_getopt,
    .set_cookie = fs_set_cookie,
};

static const struct lyra_provide fs_provides[] = {
    {.iface = LYRA_L4_IFACE, .major = LYRA_L4_MAJOR, .minor = LYRA_L4_MINOR, .ops = &fs_ops,
     .attach = fs_attach},
};

LYRA_EXPORT const struct lyra_component lyra_component_fake_stream = {
    LYRA_COMPONENT_HDR,
    .name = "fake_stream",
    .version = "1.0.0",
    .summary = "test transport: in-instance streams with a 64-byte receive buffer",
    .provides = fs_provides,
    .n_provides = LYRA_COUNT(fs_provides),
    .instance_size = sizeof(struct fs),
};
