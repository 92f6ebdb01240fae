/* Socket options of the public API (lyra_setsockopt, lyra_getsockopt):
 * BSD (level, name) to the socket interface's options, and each value
 * between the caller's bytes and the provider's: ints, struct timeval
 * (SO_RCVTIMEO, SO_SNDTIMEO), struct linger, and values that are bytes
 * (socket 1.3: TCP_CONGESTION, a name; TCP_INFO, struct lyra_tcp_info).
 * Errors as Linux gives them: EFAULT for a NULL pointer, EINVAL for a value
 * too short to set from (or a length that is negative as an int),
 * ENOPROTOOPT for an option the level, the descriptor's transport or the
 * socket provider does not have. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "lyra/socket.h"
#include "lyra/socket_if.h"
#include "socket_api_internal.h"

/* How an option's value travels. */
enum vkind {
    V_INT,    /* int */
    V_TV,     /* struct timeval, ns to the provider */
    V_LINGER, /* struct linger, -1 (off) or seconds to the provider */
    V_NAME,   /* a name, bytes to the provider (setopt_buf/getopt_buf) */
    V_INFO,   /* get only: struct lyra_tcp_info (getopt_buf) */
};

struct optmap {
    int level, name, opt;
    enum vkind kind;
};

static const struct optmap optmap[] = {
    {SOL_SOCKET, SO_ERROR, LYRA_SO_ERROR, V_INT},
    {SOL_SOCKET, SO_BROADCAST, LYRA_SO_BROADCAST, V_INT},
    {SOL_SOCKET, SO_REUSEADDR, LYRA_SO_REUSEADDR, V_INT},
    {SOL_SOCKET, SO_KEEPALIVE, LYRA_SO_KEEPALIVE, V_INT},
    {SOL_SOCKET, SO_RCVBUF, LYRA_SO_RCVBUF, V_INT},
    {SOL_SOCKET, SO_SNDBUF, LYRA_SO_SNDBUF, V_INT},
    {SOL_SOCKET, SO_TYPE, LYRA_FD_TYPE, V_INT},
    {SOL_SOCKET, SO_RCVTIMEO, LYRA_FD_RCVTIMEO, V_TV},
    {SOL_SOCKET, SO_SNDTIMEO, LYRA_FD_SNDTIMEO, V_TV},
    {SOL_SOCKET, SO_LINGER, LYRA_FD_LINGER, V_LINGER},
    {SOL_SOCKET, SO_ZEROCOPY, LYRA_SO_ZEROCOPY, V_INT},
    {SOL_SOCKET, SO_LYRA_LOAN_MAX, LYRA_SO_LOAN_MAX, V_INT},
    {IPPROTO_IP, IP_TTL, LYRA_IP_TTL, V_INT},
    {IPPROTO_IP, IP_TOS, LYRA_IP_TOS, V_INT},
    {IPPROTO_IP, IP_PKTINFO, LYRA_FD_PKTINFO, V_INT},
    {IPPROTO_TCP, TCP_NODELAY, LYRA_TCP_NODELAY, V_INT},
    {IPPROTO_TCP, TCP_MAXSEG, LYRA_TCP_MAXSEG, V_INT},
    {IPPROTO_TCP, TCP_KEEPIDLE, LYRA_TCP_KEEPIDLE, V_INT},
    {IPPROTO_TCP, TCP_KEEPINTVL, LYRA_TCP_KEEPINTVL, V_INT},
    {IPPROTO_TCP, TCP_KEEPCNT, LYRA_TCP_KEEPCNT, V_INT},
    {IPPROTO_TCP, TCP_USER_TIMEOUT, LYRA_TCP_USER_TIMEOUT, V_INT},
    {IPPROTO_TCP, TCP_CONGESTION, LYRA_TCP_CONGESTION, V_NAME},
    {IPPROTO_TCP, TCP_INFO, LYRA_TCP_INFO, V_INFO},
};

/* A congestion control's name with its NUL: the room struct lyra_tcp_info
 * has for it, which is Linux's TCP_CA_NAME_MAX. */
#define NAME_ROOM sizeof(((struct lyra_tcp_info *)0)->congestion)
_Static_assert(NAME_ROOM == 16, "TCP_CONGESTION names as long as Linux's (TCP_CA_NAME_MAX)");

static const struct optmap *map_opt(int level, int name)
{
    for (unsigned i = 0; i < sizeof(optmap) / sizeof(optmap[0]); i++)
        if (optmap[i].level == level && optmap[i].name == name)
            return &optmap[i];
    return NULL;
}

/* The caller's value as the provider takes it (V_INT, V_TV, V_LINGER). */
static int value_in(enum vkind kind, const void *val, socklen_t len, int64_t *v)
{
    if (kind == V_LINGER) {
        struct linger l;
        if (len < (socklen_t)sizeof(l))
            return -EINVAL;
        memcpy(&l, val, sizeof(l));
        if (l.l_onoff && l.l_linger < 0)
            return -EINVAL;
        *v = l.l_onoff ? l.l_linger : -1;
    } else if (kind == V_TV) {
        struct timeval t;
        if (len < (socklen_t)sizeof(t))
            return -EINVAL;
        memcpy(&t, val, sizeof(t));
        if (t.tv_sec < 0 || t.tv_usec < 0 || t.tv_usec >= 1000000)
            return -EDOM;
        /* beyond what 64-bit ns hold: forever, as Linux takes a huge one */
        *v = t.tv_sec >= INT64_MAX / 1000000000 - 1
                 ? 0
                 : (int64_t)t.tv_sec * 1000000000 + (int64_t)t.tv_usec * 1000;
    } else {
        int i;
        if (len < (socklen_t)sizeof(i))
            return -EINVAL;
        memcpy(&i, val, sizeof(i));
        *v = i;
    }
    return 0;
}

/* The provider's value into the caller's, cut to *len (as Linux). */
static void value_out(enum vkind kind, int64_t v, void *val, socklen_t *len)
{
    union {
        struct linger l;
        struct timeval t;
        int i;
    } u;
    socklen_t n;
    memset(&u, 0, sizeof(u));
    if (kind == V_LINGER) {
        u.l.l_onoff = v >= 0;
        u.l.l_linger = v >= 0 ? (int)v : 0;
        n = sizeof(u.l);
    } else if (kind == V_TV) {
        u.t.tv_sec = (time_t)(v / 1000000000);
        u.t.tv_usec = (suseconds_t)(v % 1000000000 / 1000);
        n = sizeof(u.t);
    } else {
        u.i = (int)v;
        n = sizeof(u.i);
    }
    if (*len < n)
        n = *len;
    memcpy(val, &u, n);
    *len = n;
}

/* A socket provider older than 1.3 has no option with bytes for a value:
 * ENOPROTOOPT, or EBADF for a descriptor that is not open. */
static int no_buf_ops(const struct lyra_socket_ops *o, void *x, int fd)
{
    int64_t t;
    int r = o->getopt(x, fd, LYRA_FD_TYPE, &t);
    return r < 0 ? r : -ENOPROTOOPT;
}

/* TCP_CONGESTION: as Linux, at most NAME_ROOM - 1 bytes of val, up to a
 * NUL (a longer name is cut, and then names no algorithm); an empty name
 * is EINVAL. The transport gets the bytes, a NUL after them. */
static int set_name(struct lyra_stack *s, int fd, int opt, const void *val, socklen_t len)
{
    char name[NAME_ROOM];
    memset(name, 0, sizeof(name));
    size_t n = len < sizeof(name) - 1 ? len : sizeof(name) - 1;
    const char *nul = memchr(val, 0, n);
    if (nul)
        n = (size_t)(nul - (const char *)val);
    if (!n)
        return sock_fail(-EINVAL);
    memcpy(name, val, n);
    void *x;
    const struct lyra_socket_ops *o = sock_enter(s, &x);
    if (!o)
        return -1;
    int r = LYRA_SOCKET_HAS(o, 3, setopt_buf) ? o->setopt_buf(x, fd, opt, name, (uint32_t)n)
                                                : no_buf_ops(o, x, fd);
    sock_leave(s, 0);
    return r < 0 ? sock_fail(r) : 0;
}

int lyra_setsockopt(struct lyra_stack *s, int fd, int level, int name, const void *val,
                    socklen_t len)
{
    const struct optmap *m = map_opt(level, name);
    if (!m)
        return sock_fail(-ENOPROTOOPT);
    if (m->opt == LYRA_SO_ERROR || m->opt == LYRA_FD_TYPE || m->kind == V_INFO)
        return sock_fail(-ENOPROTOOPT); /* read-only */
    if (!val)
        return sock_fail(-EFAULT);
    if (m->kind == V_NAME)
        return set_name(s, fd, m->opt, val, len);
    int64_t v;
    int r = value_in(m->kind, val, len, &v);
    if (r < 0)
        return sock_fail(r);
    void *x;
    const struct lyra_socket_ops *o = sock_enter(s, &x);
    if (!o)
        return -1;
    r = o->setopt(x, fd, m->opt, v);
    sock_leave(s, 0);
    return r < 0 ? sock_fail(r) : 0;
}

/* TCP_CONGESTION and TCP_INFO: the transport fills a buffer of the value's
 * size; the caller gets at most *len bytes of it and *len says how many.
 * A name goes out as Linux gives it: its NAME_ROOM bytes, NUL-padded. */
static int get_buf(struct lyra_stack *s, int fd, const struct optmap *m, void *val,
                   socklen_t *len)
{
    union {
        struct lyra_tcp_info info;
        char name[NAME_ROOM];
    } b;
    memset(&b, 0, sizeof(b));
    uint32_t room = m->kind == V_NAME ? (uint32_t)NAME_ROOM : (uint32_t)sizeof(b.info);
    uint32_t n = room;
    void *x;
    const struct lyra_socket_ops *o = sock_enter(s, &x);
    if (!o)
        return -1;
    int r = LYRA_SOCKET_HAS(o, 3, getopt_buf) ? o->getopt_buf(x, fd, m->opt, &b, &n)
                                                : no_buf_ops(o, x, fd);
    sock_leave(s, 0);
    if (r < 0)
        return sock_fail(r);
    if (m->kind == V_NAME || n > room)
        n = room;
    socklen_t out = *len < n ? *len : (socklen_t)n;
    memcpy(val, &b, out);
    *len = out;
    return 0;
}

int lyra_getsockopt(struct lyra_stack *s, int fd, int level, int name, void *val, socklen_t *len)
{
    const struct optmap *m = map_opt(level, name);
    if (!m)
        return sock_fail(-ENOPROTOOPT);
    if (!val || !len)
        return sock_fail(-EFAULT);
    if (*len > (socklen_t)INT_MAX)
        return sock_fail(-EINVAL); /* negative, to Linux's int */
    if (m->kind == V_NAME || m->kind == V_INFO)
        return get_buf(s, fd, m, val, len);
    void *x;
    const struct lyra_socket_ops *o = sock_enter(s, &x);
    if (!o)
        return -1;
    int64_t v = 0;
    int r = o->getopt(x, fd, m->opt, &v);
    sock_leave(s, 0);
    if (r < 0)
        return sock_fail(r);
    value_out(m->kind, v, val, len);
    return 0;
}
