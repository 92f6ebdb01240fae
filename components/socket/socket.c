/* socket: the `socket` interface over up to SOCK_L4_MAX transports. It maps
 * descriptors to (transport, endpoint) and otherwise passes each call to
 * the transport that owns the endpoint; blocking is the public API's job
 * (framework/src/socket_api.c), so every op here returns at once. */
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>

#include "fd_table.h"
#include "lyra/diag.h"
#include "lyra/l4.h"
#include "lyra/os.h"
#include "lyra/socket_if.h"

#define SOCK_L4_MAX 4

struct sock {
    const struct lyra_l4_ops *l4[SOCK_L4_MAX];
    void *l4_self[SOCK_L4_MAX];
    const struct lyra_os_ops *os;
    void *os_self;
    unsigned max_fds;
    struct fd_table t;
    uint64_t opened, closed, emfile, no_proto, bad_fd;
    uint64_t high_water;
    /* the public API's events (socket 1.2), attached by the framework */
    const struct lyra_socket_events *ev;
    void *ev_user;
    /* per descriptor, LYRA_FD_IDLE_DRAINED (the transport said nothing is
     * queued: l4 1.1 DRAINED) and LYRA_FD_IDLE_NONBLOCK (O_NONBLOCK): the
     * one record of both, written under the stack lock and read without
     * it by socket 1.5 rx_idle; max_fds of them, taken at the first start
     * and kept until destroy (a lock-free reader may race a stop); 0 while
     * a descriptor is closed */
    _Atomic unsigned char *idle;
};

/* fd's LYRA_FD_IDLE_* bits (under the lock: nobody else writes them). */
static unsigned fd_idle(const struct sock *k, int fd)
{
    return atomic_load_explicit(&k->idle[fd], memory_order_relaxed);
}

static void fd_idle_set(struct sock *k, int fd, unsigned bit, bool on)
{
    unsigned v = fd_idle(k, fd);
    v = on ? v | bit : v & ~bit;
    atomic_store_explicit(&k->idle[fd], (unsigned char)v, memory_order_release);
}

/* fd's endpoint is closed: the descriptor goes, and with it its idle
 * bits (0: a lock-free reader sees a closed descriptor, not the old one's
 * DRAINED). */
static void fd_gone(struct sock *k, int fd)
{
    fd_release(&k->t, fd);
    atomic_store_explicit(&k->idle[fd], 0, memory_order_release);
    k->closed++;
}

static unsigned s_rx_idle(void *self, int fd)
{
    struct sock *k = self;
    if (!k->idle || fd < 0 || (unsigned)fd >= k->max_fds)
        return 0;
    unsigned v = atomic_load_explicit(&k->idle[fd], memory_order_acquire);
    return v & LYRA_FD_IDLE_DRAINED ? v : 0;
}

/* A descriptor may progress: tell whoever waits on it (the public API). */
static void notify(struct sock *k, int fd, unsigned what)
{
    if (k->ev && k->ev->ready)
        k->ev->ready(k->ev_user, fd, what);
}

/* l4 1.1 ready: the cookie is the descriptor + 1 (0 is "none"). DRAINED
 * stays here: a recv on that descriptor is answered -EAGAIN without asking
 * the transport until its next event. */
static void l4_ready(void *user, uintptr_t cookie, unsigned what)
{
    struct sock *k = user;
    if (cookie == LYRA_L4_EVERY) {
        for (unsigned fd = 0; (what & ~LYRA_POLL_OUT) && fd < k->t.n; fd++)
            fd_idle_set(k, (int)fd, LYRA_FD_IDLE_DRAINED, false);
        notify(k, -1, what);
        return;
    }
    if (cookie == LYRA_L4_NO_COOKIE || cookie - 1 >= k->t.n)
        return;
    if (what == LYRA_L4_DRAINED || (what & ~LYRA_POLL_OUT))
        fd_idle_set(k, (int)(cookie - 1), LYRA_FD_IDLE_DRAINED, what == LYRA_L4_DRAINED);
    if (what != LYRA_L4_DRAINED)
        notify(k, (int)(cookie - 1), what);
}

static const struct lyra_l4_events sock_l4_events = {
    .hdr = LYRA_OPS_HDR(LYRA_L4_IFACE, LYRA_L4_MAJOR, LYRA_L4_MINOR, struct lyra_l4_events),
    .ready = l4_ready,
};

static int sock_attach(void *self, const void *events, void *user)
{
    struct sock *k = self;
    k->ev = events;
    k->ev_user = user;
    return 0;
}

/* Gives endpoint h of transport i the cookie of fd. */
static void set_cookie(struct sock *k, unsigned i, int h, int fd)
{
    if (k->l4[i]->set_cookie)
        k->l4[i]->set_cookie(k->l4_self[i], h, (uintptr_t)fd + 1);
}

static unsigned n_l4(const struct sock *k)
{
    unsigned n = 0;
    while (n < SOCK_L4_MAX && k->l4[n])
        n++;
    return n;
}

/* The transport serving (type, protocol). Protocol 0 means the type's
 * usual one (UDP for datagrams, TCP for streams, as BSD), whatever order
 * the manifest lists the transports in; else the type's first. */
static int find_l4(const struct sock *k, int type, int protocol)
{
    if (protocol == 0) {
        int usual = type == LYRA_SOCK_DGRAM ? 17 : type == LYRA_SOCK_STREAM ? 6 : -1;
        for (unsigned i = 0; i < n_l4(k); i++)
            if (k->l4[i]->type == type && k->l4[i]->protocol == usual)
                return (int)i;
    }
    int type_seen = 0;
    for (unsigned i = 0; i < n_l4(k); i++) {
        if (k->l4[i]->type != type)
            continue;
        type_seen = 1;
        if (protocol == 0 || k->l4[i]->protocol == protocol)
            return (int)i;
    }
#ifdef ESOCKTNOSUPPORT
    return type_seen ? -EPROTONOSUPPORT : -ESOCKTNOSUPPORT;
#else /* newlib without Linux errno extensions: the nearest portable errno */
    (void)type_seen;
    return -EPROTONOSUPPORT;
#endif
}

static int s_socket(void *self, int type, int protocol)
{
    struct sock *k = self;
    if (!k->t.e)
        return -ENETDOWN;
    int i = find_l4(k, type, protocol);
    if (i < 0) {
        k->no_proto++;
        return i;
    }
    if (k->t.open >= k->t.n) {
        k->emfile++;
        return -EMFILE;
    }
    int h = k->l4[i]->open(k->l4_self[i]);
    if (h < 0)
        return h;
    int fd = fd_alloc(&k->t, (uint8_t)i, h);
    if (fd < 0) {
        k->l4[i]->close(k->l4_self[i], h);
        return fd;
    }
    set_cookie(k, (unsigned)i, h, fd);
    k->opened++;
    if (k->t.open > k->high_water)
        k->high_water = k->t.open;
    return fd;
}

/* The entry and its transport, or -EBADF (counted). */
#define LOOKUP(k, fd, e)          \
    struct fd_entry *e = fd_get(&(k)->t, (fd)); \
    if (!e) {                     \
        (k)->bad_fd++;            \
        return -EBADF;            \
    }                             \
    const struct lyra_l4_ops *L = (k)->l4[e->l4]; \
    void *LS = (k)->l4_self[e->l4]

static int s_close(void *self, int fd)
{
    struct sock *k = self;
    LOOKUP(k, fd, e);
    if (L->set_cookie) /* events about it no longer name this descriptor */
        L->set_cookie(LS, e->handle, LYRA_L4_NO_COOKIE);
    L->close(LS, e->handle);
    fd_gone(k, fd);
    notify(k, fd, LYRA_POLL_NVAL); /* calls blocked on it end with EBADF */
    return 0;
}

static int s_bind(void *self, int fd, const struct lyra_sockaddr4 *a)
{
    struct sock *k = self;
    LOOKUP(k, fd, e);
    return L->bind(LS, e->handle, a);
}

static int s_connect(void *self, int fd, const struct lyra_sockaddr4 *a)
{
    struct sock *k = self;
    LOOKUP(k, fd, e);
    return L->connect(LS, e->handle, a);
}

static int s_listen(void *self, int fd, int backlog)
{
    struct sock *k = self;
    LOOKUP(k, fd, e);
    return L->listen(LS, e->handle, backlog);
}

static int s_accept(void *self, int fd, struct lyra_sockaddr4 *peer)
{
    struct sock *k = self;
    LOOKUP(k, fd, e);
    if (k->t.open >= k->t.n) {
        k->emfile++;
        return -EMFILE; /* leave the connection queued for later */
    }
    int h = L->accept(LS, e->handle, peer);
    if (h < 0)
        return h;
    uint8_t l4 = e->l4;
    int nfd = fd_alloc(&k->t, l4, h);
    if (nfd < 0) {
        L->close(LS, h);
        return nfd;
    }
    set_cookie(k, l4, h, nfd);
    k->opened++;
    if (k->t.open > k->high_water)
        k->high_water = k->t.open;
    return nfd;
}

static long s_send(void *self, int fd, const void *buf, size_t len, const struct lyra_sockaddr4 *to,
                   int flags)
{
    struct sock *k = self;
    LOOKUP(k, fd, e);
    return L->send(LS, e->handle, buf, len, to, flags);
}

static long s_recv(void *self, int fd, const struct lyra_iov *iov, unsigned iovcnt,
                   struct lyra_sockaddr4 *from, struct lyra_l4_dst *to, int flags)
{
    struct sock *k = self;
    LOOKUP(k, fd, e);
    /* DRAINED is about the receive queue: urgent data and the error
     * queue are the transport's to answer (tcp: EINVAL for MSG_OOB) */
    if ((fd_idle(k, fd) & LYRA_FD_IDLE_DRAINED) && !(flags & (LYRA_MSG_OOB | LYRA_MSG_ERRQUEUE)))
        return -EAGAIN;
    return L->recv(LS, e->handle, iov, iovcnt, from, to, flags);
}

static int s_shutdown(void *self, int fd, int how)
{
    struct sock *k = self;
    LOOKUP(k, fd, e);
    return L->shutdown(LS, e->handle, how);
}

static int s_name(void *self, int fd, int peer, struct lyra_sockaddr4 *out)
{
    struct sock *k = self;
    LOOKUP(k, fd, e);
    return L->name(LS, e->handle, peer, out);
}

static unsigned s_poll(void *self, int fd)
{
    struct sock *k = self;
    struct fd_entry *e = fd_get(&k->t, fd);
    if (!e)
        return LYRA_POLL_ERR;
    return k->l4[e->l4]->poll(k->l4_self[e->l4], e->handle);
}

static int s_setopt(void *self, int fd, int opt, int64_t val)
{
    struct sock *k = self;
    LOOKUP(k, fd, e);
    switch (opt) {
    case LYRA_FD_NONBLOCK:
        fd_idle_set(k, fd, LYRA_FD_IDLE_NONBLOCK, val != 0);
        return 0;
    case LYRA_FD_PKTINFO:
        e->pktinfo = val != 0;
        return 0;
    case LYRA_FD_RCVTIMEO:
    case LYRA_FD_SNDTIMEO:
        if (val < 0)
            return -EDOM;
        *(opt == LYRA_FD_RCVTIMEO ? &e->rcvtimeo : &e->sndtimeo) = val;
        return 0;
    case LYRA_FD_LINGER: {
        if (val < -1 || val > INT32_MAX)
            return -EINVAL;
        int r = L->setopt(LS, e->handle, LYRA_SO_LINGER, (int)val);
        if (r < 0 && r != -ENOPROTOOPT)
            return r; /* a transport without it has nothing to linger for */
        e->linger_on = val >= 0;
        e->linger = val < 0 ? 0 : (int32_t)val;
        return 0;
    }
    case LYRA_FD_TYPE:
    case LYRA_FD_GEN:
        return -ENOPROTOOPT; /* read-only */
    default:
        if (opt > LYRA_SO__L4_LAST || val < INT32_MIN || val > INT32_MAX)
            return opt > LYRA_SO__L4_LAST ? -ENOPROTOOPT : -EINVAL;
        return L->setopt(LS, e->handle, opt, (int)val);
    }
}

static int s_getopt(void *self, int fd, int opt, int64_t *val)
{
    struct sock *k = self;
    LOOKUP(k, fd, e);
    switch (opt) {
    case LYRA_FD_NONBLOCK:
        *val = (fd_idle(k, fd) & LYRA_FD_IDLE_NONBLOCK) != 0;
        return 0;
    case LYRA_FD_PKTINFO:
        *val = e->pktinfo;
        return 0;
    case LYRA_FD_RCVTIMEO:
        *val = e->rcvtimeo;
        return 0;
    case LYRA_FD_SNDTIMEO:
        *val = e->sndtimeo;
        return 0;
    case LYRA_FD_TYPE:
        *val = L->type;
        return 0;
    case LYRA_FD_GEN:
        *val = e->gen;
        return 0;
    case LYRA_FD_LINGER:
        *val = e->linger_on ? e->linger : -1;
        return 0;
    default: {
        if (opt > LYRA_SO__L4_LAST)
            return -ENOPROTOOPT;
        int v = 0, r = L->getopt(LS, e->handle, opt, &v);
        if (r == 0)
            *val = v;
        return r;
    }
    }
}

/* Does transport L have l4 1.2 op `field`? Its minor version and table
 * size say so, and it is set: the l4 slot takes 1.1 transports too. */
#define L4_HAS(L, field)                                                               \
    ((L)->hdr.minor >= 2 &&                                                            \
     (L)->hdr.size >= offsetof(struct lyra_l4_ops, field) + sizeof((L)->field) && (L)->field)

/* socket 1.4: loans (l4 1.3). The loan remembers its transport: it may
 * come back after its descriptor closed. */
static long s_recv_loan(void *self, int fd, struct lyra_l4_loan *loan, int flags)
{
    struct sock *k = self;
    LOOKUP(k, fd, e);
    if (!LYRA_L4_HAS(L, 3, recv_loan) || !LYRA_L4_HAS(L, 3, loan_return))
        return -EOPNOTSUPP;
    if (fd_idle(k, fd) & LYRA_FD_IDLE_DRAINED) /* as recv: nothing queued, the transport said so */
        return -EAGAIN;
    long r = L->recv_loan(LS, e->handle, loan, flags);
    if (r > 0) {
        loan->l4 = L;
        loan->l4_self = LS;
    }
    return r;
}

static void s_loan_return(void *self, struct lyra_l4_loan *loan)
{
    (void)self;
    const struct lyra_l4_ops *L = loan->l4;
    if (L)
        L->loan_return(loan->l4_self, loan);
    loan->l4 = NULL;
}

/* socket 1.3: options whose values are bytes go to the transport as they
 * are; the descriptor keeps none of them. */
static int s_setopt_buf(void *self, int fd, int opt, const void *val, uint32_t len)
{
    struct sock *k = self;
    LOOKUP(k, fd, e);
    if (opt > LYRA_SO__L4_LAST || !L4_HAS(L, setopt_buf))
        return -ENOPROTOOPT;
    if (!val && len)
        return -EFAULT;
    return L->setopt_buf(LS, e->handle, opt, val, len);
}

static int s_getopt_buf(void *self, int fd, int opt, void *val, uint32_t *len)
{
    struct sock *k = self;
    LOOKUP(k, fd, e);
    if (opt > LYRA_SO__L4_LAST || !L4_HAS(L, getopt_buf))
        return -ENOPROTOOPT;
    if (!len || (!val && *len))
        return -EFAULT;
    return L->getopt_buf(LS, e->handle, opt, val, len);
}

static const struct lyra_socket_ops sock_ops = {
    .hdr = LYRA_OPS_HDR(LYRA_SOCKET_IFACE, LYRA_SOCKET_MAJOR, LYRA_SOCKET_MINOR,
                        struct lyra_socket_ops),
    .socket = s_socket,
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
    .setopt_buf = s_setopt_buf,
    .getopt_buf = s_getopt_buf,
    .recv_loan = s_recv_loan,
    .loan_return = s_loan_return,
    .rx_idle = s_rx_idle,
};

enum { P_MAX_FDS, P__COUNT };

static int sock_create(void *self, const struct lyra_value *p, struct lyra_diag *d)
{
    struct sock *k = self;
    k->max_fds = (unsigned)p[P_MAX_FDS].u.i;
    return 0;
}

static int sock_start(void *self)
{
    struct sock *k = self;
    /* two transports of one (type, protocol) would make socket() ambiguous */
    for (unsigned i = 0; i < n_l4(k); i++)
        for (unsigned j = 0; j < i; j++)
            if (k->l4[i]->type == k->l4[j]->type && k->l4[i]->protocol == k->l4[j]->protocol)
                return -EEXIST;
    k->t.e = k->os->mem_alloc(k->os_self, k->max_fds * sizeof(struct fd_entry), 8);
    if (!k->t.e)
        return -ENOMEM;
    memset(k->t.e, 0, k->max_fds * sizeof(struct fd_entry));
    k->t.n = k->max_fds;
    k->t.open = 0;
    if (!k->idle) {
        k->idle = k->os->mem_alloc(k->os_self, k->max_fds, 8);
        if (!k->idle) {
            k->os->mem_free(k->os_self, k->t.e);
            k->t.e = NULL;
            k->t.n = 0;
            return -ENOMEM;
        }
        for (unsigned fd = 0; fd < k->max_fds; fd++)
            atomic_init(&k->idle[fd], 0);
    }
    return 0;
}

static void sock_stop(void *self)
{
    struct sock *k = self;
    if (!k->t.e)
        return;
    /* descriptors the application left open: their endpoints go too */
    for (unsigned fd = 0; fd < k->t.n; fd++)
        if (k->t.e[fd].used) {
            k->l4[k->t.e[fd].l4]->close(k->l4_self[k->t.e[fd].l4], k->t.e[fd].handle);
            fd_gone(k, (int)fd);
        }
    k->os->mem_free(k->os_self, k->t.e);
    k->t.e = NULL;
    k->t.n = 0;
}

static void sock_destroy(void *self)
{
    struct sock *k = self;
    sock_stop(self);
    if (k->idle)
        k->os->mem_free(k->os_self, (void *)k->idle);
    k->idle = NULL;
}

static void sock_stats(void *self, struct lyra_stats_sink *sink)
{
    struct sock *k = self;
    lyra_stat(sink, "open", k->t.open);
    lyra_stat(sink, "opened", k->opened);
    lyra_stat(sink, "closed", k->closed);
    lyra_stat(sink, "high_water", k->high_water);
    lyra_stat(sink, "emfile", k->emfile);
    lyra_stat(sink, "no_proto", k->no_proto);
    lyra_stat(sink, "bad_fd", k->bad_fd);
}

static const struct lyra_provide sock_provides[] = {
    {
        .iface = LYRA_SOCKET_IFACE,
        .major = LYRA_SOCKET_MAJOR,
        .minor = LYRA_SOCKET_MINOR,
        .ops = &sock_ops,
        .attach = sock_attach,
        .max_users = 0,
        .doc = LYRA_DOC("descriptors for the public socket API (lyra/socket.h)"),
    },
};

static const struct lyra_slot sock_slots[] = {
    {
        .name = "l4",
        .iface = LYRA_L4_IFACE,
        .major = LYRA_L4_MAJOR,
        .minor = 1, /* 1.2's setopt_buf/getopt_buf are used when present (L4_HAS) */
        .min = 1,
        .max = SOCK_L4_MAX,
        .events = &sock_l4_events,
        LYRA_SLOT_STORE(struct sock, l4, l4_self),
        .doc = LYRA_DOC("transports (udp, tcp, ip's ICMP echo sockets), one per (type, protocol)"),
    },
    {
        .name = "os",
        .iface = LYRA_OS_IFACE,
        .major = LYRA_OS_MAJOR,
        .minor = 0,
        .min = 1,
        .max = 1,
        LYRA_SLOT_STORE(struct sock, os, os_self),
        .doc = LYRA_DOC("the descriptor table's memory at start"),
    },
};

static const struct lyra_param sock_params[P__COUNT] = {
    [P_MAX_FDS] = {"max_fds", LYRA_P_INT, "32", 1, 4096,
                   LYRA_DOC("descriptors open at once (socket() and accept() fail with EMFILE "
                   "beyond)")},
};

LYRA_EXPORT const struct lyra_component lyra_component_socket = {
    LYRA_COMPONENT_HDR,
    .name = "socket",
    .version = "1.0.0",
    .summary = LYRA_DOC("BSD socket descriptors over the transports"),
    .doc = LYRA_DOC("@component socket\n"
           "@summary descriptors for lyra_socket() and friends over l4 transports\n"
           "@provides socket 1.3 (the public API in lyra/socket.h finds it in the stack; "
           "event ready per descriptor; options with byte values)\n"
           "@uses l4 l4 1.1 (1 to 4 transports, one per type and protocol; event ready; "
           "1.2's options with byte values when a transport has them); "
           "os os 2.0\n"
           "@context the caller's, under the stack lock the public API takes\n"
           "Descriptors are the lowest free numbers from 0, per stack. O_NONBLOCK and the "
           "timeouts live here; everything else is the transport's. Descriptors left open "
           "are closed at stop.\n"
           "@stat open opened closed high_water; emfile: table full; no_proto: socket() for "
           "a type or protocol no transport serves; bad_fd: calls on descriptors not open\n"),
    .provides = sock_provides,
    .n_provides = LYRA_COUNT(sock_provides),
    .slots = sock_slots,
    .n_slots = LYRA_COUNT(sock_slots),
    .params = sock_params,
    .n_params = LYRA_COUNT(sock_params),
    .instance_size = sizeof(struct sock),
    .create = sock_create,
    .start = sock_start,
    .stop = sock_stop,
    .destroy = sock_destroy,
    .stats = sock_stats,
};
