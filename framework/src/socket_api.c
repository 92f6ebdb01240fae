/* The public socket API (lyra/socket.h): BSD conventions over the stack's
 * `socket` provider. This file owns what BSD adds to the non-blocking
 * socket interface: sockaddr conversion, -1/errno, and the blocking waits
 * (under the stack lock, sleeping until the loop makes progress, or
 * driving the loop when no thread runs it). Option levels and values are
 * socket_opt.c's. */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "lyra/l4_zc.h"
#include "lyra/os.h"
#include "lyra/socket.h"
#include "lyra/socket_if.h"
#include "socket_api_internal.h"
#include "stack_internal.h"

/* What a blocking call is doing, so that one loop can retry any of them. */
enum call_kind { C_SEND, C_RECV, C_ACCEPT, C_LOAN };

struct call {
    enum call_kind kind;
    int fd, flags;
    const void *cbuf;
    size_t len;
    const struct lyra_iov *iov; /* recv: where the data goes */
    unsigned iovcnt;
    struct lyra_l4_dst *dst;    /* recv: where it was sent (IP_PKTINFO) */
    struct lyra_l4_loan *loan;  /* recv_loan */
    struct lyra_sockaddr4 a;
    const struct lyra_sockaddr4 *to;
    /* set by the first wait, kept over the pieces of a stream call */
    uint64_t deadline;
    int64_t gen;
};

/* The flags a call accepts (issue 8.4); any other is refused with
 * EOPNOTSUPP, never dropped. MSG_NOSIGNAL is accepted and means nothing:
 * there are no signals, EPIPE is always an error return. MSG_OOB and
 * MSG_ERRQUEUE go to the transport, which refuses them when it has none. */
#define SEND_FLAGS (MSG_DONTWAIT | MSG_NOSIGNAL | MSG_OOB | MSG_ZEROCOPY)
#define RECV_FLAGS (MSG_DONTWAIT | MSG_WAITALL | MSG_PEEK | MSG_TRUNC | MSG_OOB | MSG_ERRQUEUE)

static int from_sockaddr(const struct sockaddr *sa, socklen_t len, struct lyra_sockaddr4 *out)
{
    if (!sa || len < (socklen_t)sizeof(sa_family_t))
        return -EINVAL;
    if (sa->sa_family == AF_UNSPEC) {
        out->addr = 0;
        out->port = 0;
        return 1; /* connect(AF_UNSPEC) dissolves an association */
    }
    if (sa->sa_family != AF_INET)
        return -EAFNOSUPPORT;
    if (len < (socklen_t)sizeof(struct sockaddr_in))
        return -EINVAL;
    struct sockaddr_in in;
    memcpy(&in, sa, sizeof(in));
    out->addr = ntohl(in.sin_addr.s_addr);
    out->port = ntohs(in.sin_port);
    return 0;
}

static void to_sockaddr(const struct lyra_sockaddr4 *a, struct sockaddr *sa, socklen_t *len)
{
    if (!sa || !len)
        return;
    struct sockaddr_in in;
    memset(&in, 0, sizeof(in));
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = htonl(a->addr);
    in.sin_port = htons(a->port);
    socklen_t n = *len < (socklen_t)sizeof(in) ? *len : (socklen_t)sizeof(in);
    memcpy(sa, &in, n);
    *len = sizeof(in); /* the real size, as BSD reports it */
}

static long do_call(const struct lyra_socket_ops *o, void *x, struct call *c)
{
    switch (c->kind) {
    case C_SEND:
        return o->send(x, c->fd, c->cbuf, c->len, c->to,
                       c->flags & (MSG_OOB | MSG_ZEROCOPY | LYRA_MSG_ZC_CONT | LYRA_MSG_ZC_CALL));
    case C_RECV:
        return o->recv(x, c->fd, c->iov, c->iovcnt, &c->a, c->dst,
                       c->flags & (MSG_PEEK | MSG_TRUNC | MSG_OOB | MSG_ERRQUEUE));
    case C_ACCEPT:
        return o->accept(x, c->fd, &c->a);
    case C_LOAN:
        return o->recv_loan(x, c->fd, c->loan, 0);
    }
    return -EINVAL;
}

/* Deadline for a blocking call on fd from its timeout option; 0 when the
 * call must not block. */
static uint64_t block_deadline(struct lyra_stack *s, const struct lyra_socket_ops *o, void *x,
                               int fd, int flags, int timeo_opt)
{
    int64_t nb = 0, to = 0;
    if ((flags & MSG_DONTWAIT) || o->getopt(x, fd, LYRA_FD_NONBLOCK, &nb) < 0 || nb)
        return 0;
    o->getopt(x, fd, timeo_opt, &to);
    if (to <= 0)
        return LYRA_TIME_NEVER;
    return lyra_stack_now(s) + (uint64_t)to;
}

/* What fd names now (socket 1.1), -1 when closed or the provider cannot
 * say: a blocking call that slept must not go on with another socket that
 * took the number meanwhile. */
static int64_t fd_gen(const struct lyra_socket_ops *o, void *x, int fd)
{
    int64_t g = -1;
    return o->getopt(x, fd, LYRA_FD_GEN, &g) < 0 ? -1 : g;
}

/* Runs c until it completes, fails, or (blocking) its timeout passes:
 * every -EAGAIN waits for a ready event on c's descriptor. */
static long run_call(struct lyra_stack *s, const struct lyra_socket_ops *o, void *x, struct call *c,
                     int timeo_opt)
{
    long r = do_call(o, x, c);
    if (r != -EAGAIN)
        return r;
    if (!c->deadline) {
        c->deadline = block_deadline(s, o, x, c->fd, c->flags, timeo_opt);
        if (!c->deadline)
            return r; /* non-blocking: -EAGAIN, without asking for the generation */
        c->gen = fd_gen(o, x, c->fd);
    }
    uint64_t deadline = c->deadline;
    /* a stream send that took bytes before (send_all's previous round)
     * armed a retransmission timer: a loop asleep until a later deadline
     * learns of it now, once (receives arm none, and stepping the loop on
     * their thread would change who reads what first) */
    if (c->kind == C_SEND)
        lyra_stack_kick(s);
    int64_t gen = c->gen;
    struct lyra_waiter w = {.fd = c->fd, .want = c->kind == C_SEND ? LYRA_POLL_OUT : LYRA_POLL_IN};
    lyra_waiter_add(s, &w);
    for (;;) {
        int e = lyra_stack_wait_locked(s, &w, deadline);
        if (e == -ETIMEDOUT) {
            r = -EAGAIN; /* SO_RCVTIMEO/SO_SNDTIMEO expired, as on Linux */
            break;
        }
        if (e < 0) {
            r = e;
            break;
        }
        if (fd_gen(o, x, c->fd) != gen) {
            r = -EBADF; /* closed while this call slept */
            break;
        }
        r = do_call(o, x, c);
        if (r != -EAGAIN)
            break;
    }
    lyra_waiter_del(s, &w);
    return r;
}

/* A blocking stream send returns when every byte is taken, or on an
 * error, SO_SNDTIMEO or lyra_stack_stop with the count taken so far (as
 * Linux; there are no signals to interrupt it). */
static long send_all(struct lyra_stack *s, const struct lyra_socket_ops *o, void *x,
                     struct call *c)
{
    /* (MSG_DONTWAIT first: block_deadline's answer, without asking the
     * socket its type on every non-blocking send) */
    if ((c->flags & MSG_DONTWAIT) || !sock_is_stream(o, x, c->fd) ||
        !block_deadline(s, o, x, c->fd, c->flags, LYRA_FD_SNDTIMEO))
        return run_call(s, o, x, c, LYRA_FD_SNDTIMEO);
    const char *base = c->cbuf;
    size_t len = c->len, done = 0;
    if (c->flags & MSG_ZEROCOPY)
        c->flags |= LYRA_MSG_ZC_CALL;
    long r;
    for (;;) {
        c->cbuf = base + done;
        c->len = len - done;
        r = run_call(s, o, x, c, LYRA_FD_SNDTIMEO);
        if (r < 0 || (done += (size_t)r) >= len)
            break;
        /* one completion id per call (Linux): the rounds after the first
         * continue it (lyra/l4_zc.h, lyra_zc_cont) */
        if (c->flags & MSG_ZEROCOPY)
            c->flags |= LYRA_MSG_ZC_CONT;
    }
    if (c->flags & LYRA_MSG_ZC_CONT) { /* the call ends: its record may complete */
        c->len = 0;
        (void)do_call(o, x, c);
    }
    return r < 0 ? (done ? (long)done : r) : (long)done;
}

/* MSG_WAITALL on a blocking stream: the pieces are filled, or the stream
 * ends, fails, times out, reaches the urgent mark (as Linux: the transport
 * stopped there, lyra_sockatmark says 1) or the stack stops: the count so
 * far. */
static long recv_all(struct lyra_stack *s, const struct lyra_socket_ops *o, void *x,
                     struct call *c)
{
    if (!(c->flags & MSG_WAITALL) || (c->flags & (MSG_PEEK | MSG_OOB | MSG_ERRQUEUE)) ||
        c->iovcnt > LYRA_RECVMSG_IOV_MAX || !sock_is_stream(o, x, c->fd) ||
        !block_deadline(s, o, x, c->fd, c->flags, LYRA_FD_RCVTIMEO))
        return run_call(s, o, x, c, LYRA_FD_RCVTIMEO);
    const struct lyra_iov *iov = c->iov;
    unsigned cnt = c->iovcnt;
    size_t done = 0, room = 0;
    for (unsigned i = 0; i < cnt; i++)
        room += iov[i].len;
    for (;;) {
        struct lyra_iov v[LYRA_RECVMSG_IOV_MAX];
        unsigned n = 0;
        size_t skip = done;
        for (unsigned i = 0; i < cnt; i++) {
            if (skip >= iov[i].len) {
                skip -= iov[i].len;
                continue;
            }
            v[n].base = (char *)iov[i].base + skip;
            v[n++].len = iov[i].len - skip;
            skip = 0;
        }
        c->iov = v;
        c->iovcnt = n;
        long r = run_call(s, o, x, c, LYRA_FD_RCVTIMEO);
        c->iov = iov;
        c->iovcnt = cnt;
        if (r < 0)
            return done ? (long)done : r;
        done += (size_t)r;
        if (r == 0 || done >= room)
            return (long)done;
        int64_t mark = 0;
        if (o->getopt(x, c->fd, LYRA_SIOCATMARK, &mark) == 0 && mark)
            return (long)done;
    }
}

int lyra_socket(struct lyra_stack *s, int domain, int type, int protocol)
{
    void *x;
    const struct lyra_socket_ops *o = sock_enter(s, &x);
    if (!o)
        return -1;
    int nonblock = (type & SOCK_NONBLOCK) != 0;
    type &= ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
    int r = domain != AF_INET ? -EAFNOSUPPORT : o->socket(x, type, protocol);
    if (r >= 0 && nonblock)
        o->setopt(x, r, LYRA_FD_NONBLOCK, 1);
    sock_leave(s, 0);
    return r < 0 ? sock_fail(r) : r;
}

int lyra_bind(struct lyra_stack *s, int fd, const struct sockaddr *addr, socklen_t len)
{
    struct lyra_sockaddr4 a;
    int r = from_sockaddr(addr, len, &a);
    if (r > 0)
        r = -EAFNOSUPPORT;
    if (r < 0)
        return sock_fail(r);
    void *x;
    const struct lyra_socket_ops *o = sock_enter(s, &x);
    if (!o)
        return -1;
    r = o->bind(x, fd, &a);
    sock_leave(s, 0);
    return r < 0 ? sock_fail(r) : 0;
}

int lyra_connect(struct lyra_stack *s, int fd, const struct sockaddr *addr, socklen_t len)
{
    struct lyra_sockaddr4 a;
    int r = from_sockaddr(addr, len, &a);
    if (r < 0)
        return sock_fail(r);
    void *x;
    const struct lyra_socket_ops *o = sock_enter(s, &x);
    if (!o)
        return -1;
    r = o->connect(x, fd, &a);
    if (r == -EINPROGRESS) {
        /* a stream handshake: blocking descriptors wait for its end; the
         * SYN's timer is armed, so a sleeping loop is told first */
        lyra_stack_kick(s);
        uint64_t deadline = block_deadline(s, o, x, fd, 0, LYRA_FD_SNDTIMEO);
        int64_t gen = fd_gen(o, x, fd);
        struct lyra_waiter wt = {.fd = fd, .want = LYRA_POLL_OUT};
        lyra_waiter_add(s, &wt);
        while (deadline) {
            if (fd_gen(o, x, fd) != gen) {
                r = -EBADF;
                break;
            }
            if (o->poll(x, fd) & (LYRA_POLL_OUT | LYRA_POLL_ERR | LYRA_POLL_HUP)) {
                int64_t e = 0;
                o->getopt(x, fd, LYRA_SO_ERROR, &e);
                r = (int)-e;
                break;
            }
            int w = lyra_stack_wait_locked(s, &wt, deadline);
            if (w < 0) {
                /* SO_SNDTIMEO expired: still connecting, as Linux says */
                r = w == -ETIMEDOUT ? -EINPROGRESS : w;
                break;
            }
        }
        lyra_waiter_del(s, &wt);
    }
    sock_leave(s, 1);
    return r < 0 ? sock_fail(r) : 0;
}

int lyra_listen(struct lyra_stack *s, int fd, int backlog)
{
    void *x;
    const struct lyra_socket_ops *o = sock_enter(s, &x);
    if (!o)
        return -1;
    int r = o->listen(x, fd, backlog);
    sock_leave(s, 1);
    return r < 0 ? sock_fail(r) : 0;
}

int lyra_accept(struct lyra_stack *s, int fd, struct sockaddr *addr, socklen_t *len)
{
    void *x;
    const struct lyra_socket_ops *o = sock_enter(s, &x);
    if (!o)
        return -1;
    struct call c = {.kind = C_ACCEPT, .fd = fd};
    long r = run_call(s, o, x, &c, LYRA_FD_RCVTIMEO);
    sock_leave(s, 1);
    if (r < 0)
        return sock_fail(r);
    to_sockaddr(&c.a, addr, len);
    return (int)r;
}

ssize_t lyra_sendto(struct lyra_stack *s, int fd, const void *buf, size_t len, int flags,
                    const struct sockaddr *to, socklen_t tolen)
{
    struct call c = {.kind = C_SEND, .fd = fd, .flags = flags, .cbuf = buf, .len = len};
    if (to) {
        int r = from_sockaddr(to, tolen, &c.a);
        if (r > 0)
            r = -EAFNOSUPPORT;
        if (r < 0)
            return sock_fail(r);
        c.to = &c.a;
    }
    if (!buf && len)
        return sock_fail(-EFAULT);
    if (flags & ~SEND_FLAGS)
        return sock_fail(-EOPNOTSUPP);
    void *x;
    const struct lyra_socket_ops *o = sock_enter(s, &x);
    if (!o)
        return -1;
    long r = send_all(s, o, x, &c);
    sock_leave(s, 1);
    return r < 0 ? sock_fail(r) : r;
}

ssize_t lyra_send(struct lyra_stack *s, int fd, const void *buf, size_t len, int flags)
{
    return lyra_sendto(s, fd, buf, len, flags, NULL, 0);
}

static long recv_errqueue(struct lyra_stack *s, int fd, struct msghdr *msg);

ssize_t lyra_recvfrom(struct lyra_stack *s, int fd, void *buf, size_t len, int flags,
                      struct sockaddr *from, socklen_t *fromlen)
{
    if (!buf && len)
        return sock_fail(-EFAULT);
    if (flags & ~RECV_FLAGS)
        return sock_fail(-EOPNOTSUPP);
    if (flags & MSG_ERRQUEUE) { /* as Linux: 0, the completion gone (no room to say it) */
        struct msghdr m = {0};
        long e = recv_errqueue(s, fd, &m);
        if (e <= 0)
            return e;
    }
    if (idle_eagain(s, fd, flags))
        return sock_fail(-EAGAIN);
    void *x;
    const struct lyra_socket_ops *o = sock_enter(s, &x);
    if (!o)
        return -1;
    struct lyra_iov v = {buf, len};
    struct call c = {.kind = C_RECV, .fd = fd, .flags = flags, .iov = &v, .iovcnt = 1};
    long r = recv_all(s, o, x, &c);
    /* a stream's window may have opened, a buffer gone back to the pool
     * (a zero-length datagram too) */
    sock_leave(s, r >= 0);
    if (r < 0)
        return sock_fail(r);
    to_sockaddr(&c.a, from, fromlen);
    return r;
}

ssize_t lyra_recv(struct lyra_stack *s, int fd, void *buf, size_t len, int flags)
{
    return lyra_recvfrom(s, fd, buf, len, flags, NULL, NULL);
}

/* One control message (level, type, n bytes at data) into msg's control
 * buffer; MSG_CTRUNC and no message when it does not fit. */
static void put_cmsg(struct msghdr *msg, int level, int type, const void *data, size_t n)
{
    if (!msg->msg_control || msg->msg_controllen < CMSG_LEN(n)) {
        msg->msg_flags |= MSG_CTRUNC;
        msg->msg_controllen = 0;
        return;
    }
    struct cmsghdr h;
    memset(&h, 0, sizeof(h));
    h.cmsg_len = CMSG_LEN(n);
    h.cmsg_level = level;
    h.cmsg_type = type;
    unsigned char *p = msg->msg_control;
    memcpy(p, &h, sizeof(h));
    memcpy(p + CMSG_LEN(0), data, n);
    size_t used = CMSG_SPACE(n);
    msg->msg_controllen = used < msg->msg_controllen ? used : msg->msg_controllen;
}

/* The IP_PKTINFO control message into msg's control buffer; MSG_CTRUNC
 * (and no message) when it does not fit. */
static void put_pktinfo(struct msghdr *msg, const struct lyra_l4_dst *d)
{
    struct in_pktinfo pi;
    memset(&pi, 0, sizeof(pi));
    pi.ipi_ifindex = 1; /* the stack's one interface */
    pi.ipi_spec_dst.s_addr = htonl(d->local);
    pi.ipi_addr.s_addr = htonl(d->addr);
    put_cmsg(msg, IPPROTO_IP, IP_PKTINFO, &pi, sizeof(pi));
}

/* recvmsg(MSG_ERRQUEUE): the oldest MSG_ZEROCOPY completion as Linux
 * gives it (one IP_RECVERR message, struct sock_extended_err), never
 * waiting; EAGAIN when none is queued. 1: the transport keeps no
 * completions (the caller asks it as before). */
static long recv_errqueue(struct lyra_stack *s, int fd, struct msghdr *msg)
{
    void *x;
    const struct lyra_socket_ops *o = sock_enter(s, &x);
    if (!o)
        return -1;
    struct lyra_zc_compl zc;
    uint32_t n = sizeof(zc);
    int r = LYRA_SOCKET_HAS(o, 3, getopt_buf) ? o->getopt_buf(x, fd, LYRA_SO_ZC_COMPL, &zc, &n)
                                                : -ENOPROTOOPT;
    sock_leave(s, 0);
    if (r == -ENOPROTOOPT || r == -EINVAL)
        return 1;
    if (r < 0)
        return sock_fail(r);
    struct sock_extended_err ee;
    memset(&ee, 0, sizeof(ee));
    ee.ee_errno = 0;
    ee.ee_origin = SO_EE_ORIGIN_ZEROCOPY;
    ee.ee_code = zc.copied ? SO_EE_CODE_ZEROCOPY_COPIED : 0;
    ee.ee_info = zc.lo;
    ee.ee_data = zc.hi;
    msg->msg_flags = MSG_ERRQUEUE;
    /* too small a buffer: MSG_CTRUNC, and the completion is gone, as on Linux */
    put_cmsg(msg, SOL_IP, IP_RECVERR, &ee, sizeof(ee));
    return 0;
}

ssize_t lyra_recvmsg(struct lyra_stack *s, int fd, struct msghdr *msg, int flags)
{
    if (!msg || (!msg->msg_iov && msg->msg_iovlen))
        return sock_fail(-EFAULT);
    /* struct iovec to struct lyra_iov on the caller's stack: no allocation
     * on the data path, so the pieces are bounded (LYRA_RECVMSG_IOV_MAX) */
    if (msg->msg_iovlen > LYRA_RECVMSG_IOV_MAX)
        return sock_fail(-EMSGSIZE);
    if (flags & ~RECV_FLAGS)
        return sock_fail(-EOPNOTSUPP);
    if (flags & MSG_ERRQUEUE) {
        long e = recv_errqueue(s, fd, msg);
        if (e <= 0)
            return e;
    }
    if (idle_eagain(s, fd, flags))
        return sock_fail(-EAGAIN);
    struct lyra_iov iov[LYRA_RECVMSG_IOV_MAX];
    unsigned n = (unsigned)msg->msg_iovlen;
    size_t room = 0;
    for (unsigned i = 0; i < n; i++) {
        iov[i].base = msg->msg_iov[i].iov_base;
        iov[i].len = msg->msg_iov[i].iov_len;
        room = iov[i].len > SIZE_MAX - room ? SIZE_MAX : room + iov[i].len;
    }
    void *x;
    const struct lyra_socket_ops *o = sock_enter(s, &x);
    if (!o)
        return -1;
    int64_t type = 0, pktinfo = 0;
    o->getopt(x, fd, LYRA_FD_TYPE, &type);
    o->getopt(x, fd, LYRA_FD_PKTINFO, &pktinfo);
    int dgram = type == LYRA_SOCK_DGRAM;
    struct lyra_l4_dst dst = {0, 0, 0};
    /* a datagram's real length tells whether it was cut (MSG_TRUNC) */
    struct call c = {.kind = C_RECV,
                     .fd = fd,
                     .flags = flags | (dgram ? MSG_TRUNC : 0),
                     .iov = iov,
                     .iovcnt = n,
                     .dst = dgram && pktinfo ? &dst : NULL};
    long r = recv_all(s, o, x, &c);
    sock_leave(s, r >= 0);
    if (r < 0)
        return sock_fail(r);
    msg->msg_flags = 0;
    if (dgram && (size_t)r > room) {
        msg->msg_flags |= MSG_TRUNC;
        if (!(flags & MSG_TRUNC))
            r = (long)room;
    }
    if (msg->msg_name)
        to_sockaddr(&c.a, msg->msg_name, &msg->msg_namelen);
    if (c.dst)
        put_pktinfo(msg, &dst);
    else
        msg->msg_controllen = 0;
    return r;
}

/* Lends the next piece into *loan (which holds none), inside sock_enter
 * (o, x): the end of lyra_recv_loan and lyra_loan_next. */
static ssize_t lend(struct lyra_stack *s, const struct lyra_socket_ops *o, void *x, int fd,
                    struct lyra_loan *loan, int flags)
{
    long r;
    if (!LYRA_SOCKET_HAS(o, 4, recv_loan)) {
        int64_t t;
        r = o->getopt(x, fd, LYRA_FD_TYPE, &t);
        r = r < 0 ? r : -EOPNOTSUPP;
    } else {
        struct call c = {.kind = C_LOAN, .fd = fd, .flags = flags, .loan = &loan->handle};
        r = run_call(s, o, x, &c, LYRA_FD_RCVTIMEO);
    }
    sock_leave(s, r >= 0); /* a stream's window may have opened */
    if (r < 0)
        return sock_fail(r);
    loan->data = loan->handle.data;
    loan->len = loan->handle.len;
    return r;
}

ssize_t lyra_recv_loan(struct lyra_stack *s, int fd, struct lyra_loan *loan, int flags)
{
    if (!loan)
        return sock_fail(-EFAULT);
    memset(loan, 0, sizeof(*loan)); /* whatever fails, *loan holds no loan */
    if (flags & ~MSG_DONTWAIT)
        return sock_fail(-EOPNOTSUPP);
    if (idle_eagain(s, fd, flags))
        return sock_fail(-EAGAIN);
    void *x;
    const struct lyra_socket_ops *o = sock_enter(s, &x);
    if (!o)
        return -1;
    return lend(s, o, x, fd, loan, flags);
}

/* One entry into the stack where a loop of lyra_recv_loan and
 * lyra_loan_return takes two: the lock, the call's dispatch and the
 * wake-up check once a piece (bench/results/zc.md). The held loan goes
 * back before the call may block, so it never waits holding a buffer. */
ssize_t lyra_loan_next(struct lyra_stack *s, int fd, struct lyra_loan *loan, int flags)
{
    if (!loan)
        return sock_fail(-EFAULT);
    if (flags & ~MSG_DONTWAIT)
        return sock_fail(-EOPNOTSUPP);
    if (loan->handle.skb && !loan->handle.l4)
        return sock_fail(-EINVAL); /* as lyra_loan_return: not a loan the stack made */
    void *x;
    const struct lyra_socket_ops *o = sock_enter(s, &x);
    if (!o)
        return -1;
    if (loan->handle.skb && LYRA_SOCKET_HAS(o, 4, loan_return)) {
        o->loan_return(x, &loan->handle);
        /* a buffer went back to the pool (as lyra_loan_return says it): a
         * sender waiting for one, or the receive ring, need not wait for
         * this call to end, which may block */
        lyra_stack_kick(s);
    }
    memset(loan, 0, sizeof(*loan));
    return lend(s, o, x, fd, loan, flags);
}

int lyra_loan_return(struct lyra_stack *s, struct lyra_loan *loan)
{
    if (!loan || !loan->handle.skb || !loan->handle.l4)
        return sock_fail(-EINVAL);
    void *x;
    const struct lyra_socket_ops *o = sock_enter(s, &x);
    if (!o)
        return -1;
    if (LYRA_SOCKET_HAS(o, 4, loan_return))
        o->loan_return(x, &loan->handle);
    sock_leave(s, 1); /* a buffer went back to the pool */
    loan->data = NULL;
    loan->len = 0;
    loan->handle.skb = NULL;
    return 0;
}

int lyra_shutdown(struct lyra_stack *s, int fd, int how)
{
    if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
        return sock_fail(-EINVAL);
    void *x;
    const struct lyra_socket_ops *o = sock_enter(s, &x);
    if (!o)
        return -1;
    int r = o->shutdown(x, fd, how);
    sock_leave(s, 1);
    return r < 0 ? sock_fail(r) : 0;
}

static int get_name(struct lyra_stack *s, int fd, int peer, struct sockaddr *addr, socklen_t *len)
{
    if (!addr || !len)
        return sock_fail(-EFAULT);
    void *x;
    const struct lyra_socket_ops *o = sock_enter(s, &x);
    if (!o)
        return -1;
    struct lyra_sockaddr4 a = {0, 0};
    int r = o->name(x, fd, peer, &a);
    sock_leave(s, 0);
    if (r < 0)
        return sock_fail(r);
    to_sockaddr(&a, addr, len);
    return 0;
}

int lyra_getsockname(struct lyra_stack *s, int fd, struct sockaddr *addr, socklen_t *len)
{
    return get_name(s, fd, 0, addr, len);
}

int lyra_getpeername(struct lyra_stack *s, int fd, struct sockaddr *addr, socklen_t *len)
{
    return get_name(s, fd, 1, addr, len);
}

int lyra_sockatmark(struct lyra_stack *s, int fd)
{
    void *x;
    const struct lyra_socket_ops *o = sock_enter(s, &x);
    if (!o)
        return -1;
    int64_t v = 0;
    int r = o->getopt(x, fd, LYRA_SIOCATMARK, &v);
    sock_leave(s, 0);
    if (r == -ENOPROTOOPT)
        r = -ENOTTY; /* POSIX: not a socket type that has a mark */
    return r < 0 ? sock_fail(r) : v != 0;
}

int lyra_fcntl(struct lyra_stack *s, int fd, int cmd, int arg)
{
    if (cmd != F_GETFL && cmd != F_SETFL)
        return sock_fail(-EINVAL);
    void *x;
    const struct lyra_socket_ops *o = sock_enter(s, &x);
    if (!o)
        return -1;
    int64_t nb = 0;
    int r = cmd == F_GETFL ? o->getopt(x, fd, LYRA_FD_NONBLOCK, &nb)
                           : o->setopt(x, fd, LYRA_FD_NONBLOCK, (arg & O_NONBLOCK) != 0);
    sock_leave(s, 0);
    if (r < 0)
        return sock_fail(r);
    return cmd == F_GETFL ? (O_RDWR | (nb ? O_NONBLOCK : 0)) : 0;
}

/* revents of one entry; closed: the descriptor was closed during the wait
 * (its number may name another socket now). */
static short poll_entry(const struct lyra_socket_ops *o, void *x, const struct lyra_pollfd *p,
                        int closed)
{
    int64_t t;
    if (p->fd < 0)
        return 0;
    if (closed || o->getopt(x, p->fd, LYRA_FD_TYPE, &t) < 0)
        return POLLNVAL;
    unsigned ev = o->poll(x, p->fd);
    unsigned want = (unsigned)p->events & (POLLIN | POLLPRI | POLLOUT | POLLRDHUP);
    return (short)(ev & (want | LYRA_POLL_ERR | LYRA_POLL_HUP));
}

static int was_closed(const struct lyra_waiter *w, int fd)
{
    if (fd < LYRA_POLL_INDEX_FDS)
        return (w->closed[fd / 32] >> (fd % 32)) & 1;
    for (unsigned k = 0; k < w->nready; k++)
        if (w->ready[k] == (fd | LYRA_WAIT_CLOSED))
            return 1;
    return 0;
}

/* Waits for entries to become ready: the entries are indexed by descriptor
 * once, and each wake-up looks only at the descriptors its events named,
 * so its cost does not grow with the idle descriptors watched. */
static int poll_wait(struct lyra_stack *s, const struct lyra_socket_ops *o, void *x,
                     struct lyra_pollfd *fds, unsigned nfds, uint64_t deadline)
{
    uint16_t idx[LYRA_POLL_INDEX_FDS]; /* entry + 1 of each indexed descriptor */
    uint32_t closed[LYRA_POLL_INDEX_FDS / 32];
    memset(idx, 0, sizeof(idx));
    memset(closed, 0, sizeof(closed));
    struct lyra_waiter w = {.fd = -1, .idx = idx, .closed = closed};
    int full = nfds >= UINT16_MAX; /* look at every entry after each wake-up */
    for (unsigned i = 0; i < nfds; i++) {
        int fd = fds[i].fd;
        if (fd < 0)
            continue;
        w.want |= (unsigned)fds[i].events & (POLLIN | POLLPRI | POLLOUT | POLLRDHUP);
        if (fd >= LYRA_POLL_INDEX_FDS)
            w.any = 1;
        else if (idx[fd])
            full = 1; /* the same descriptor twice */
        else if (!full)
            idx[fd] = (uint16_t)(i + 1);
    }
    w.any |= full;
    lyra_waiter_add(s, &w);
    int n = 0;
    while (!n) {
        int e = lyra_stack_wait_locked(s, &w, deadline);
        if (e < 0) {
            n = e == -ETIMEDOUT ? 0 : e;
            break;
        }
        if (w.overflow || w.any) {
            for (unsigned i = 0; i < nfds; i++) {
                fds[i].revents = poll_entry(o, x, &fds[i], fds[i].fd >= 0 && was_closed(&w, fds[i].fd));
                n += fds[i].revents != 0;
            }
        } else {
            for (unsigned k = 0; k < w.nready; k++) {
                int fd = w.ready[k] & ~LYRA_WAIT_CLOSED;
                struct lyra_pollfd *p = &fds[idx[fd] - 1];
                if (!p->revents) {
                    p->revents = poll_entry(o, x, p, was_closed(&w, fd));
                    n += p->revents != 0;
                }
            }
        }
        w.nready = 0;
        w.overflow = 0;
    }
    lyra_waiter_del(s, &w);
    return n;
}

int lyra_poll(struct lyra_stack *s, struct lyra_pollfd *fds, unsigned nfds, int timeout_ms)
{
    if (!fds && nfds)
        return sock_fail(-EFAULT);
    void *x;
    const struct lyra_socket_ops *o = sock_enter(s, &x);
    if (!o)
        return -1;
    uint64_t deadline = timeout_ms < 0 ? LYRA_TIME_NEVER
                                       : lyra_stack_now(s) + (uint64_t)timeout_ms * 1000000u;
    int n = 0;
    for (unsigned i = 0; i < nfds; i++) {
        fds[i].revents = poll_entry(o, x, &fds[i], 0);
        n += fds[i].revents != 0;
    }
    if (!n && timeout_ms != 0)
        n = poll_wait(s, o, x, fds, nfds, deadline);
    sock_leave(s, 0);
    return n < 0 ? sock_fail(n) : n;
}
