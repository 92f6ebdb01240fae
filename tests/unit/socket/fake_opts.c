/* fake_opts: a stream transport (type STREAM, protocol 6) that does nothing
 * but keep options, so the socket layer's option mapping and pass-through
 * can be checked against what arrives: int options (the TCP ones and
 * SO_KEEPALIVE) kept per endpoint, TCP_CONGESTION (a name: "newreno" or
 * "toyreno", ENOENT for others, as Linux) and TCP_INFO (get only, a fixed
 * snapshot) through l4 1.2's setopt_buf/getopt_buf. Counters tell what the
 * last call carried. Built a second time as fake_opts_old with
 * FAKE_OPTS_OLD: its table says l4 1.1 although its buffer ops are set,
 * which the socket layer must not call. */
#include <errno.h>
#include <string.h>

#include "lyra/component.h"
#include "lyra/l4.h"

#ifdef FAKE_OPTS_OLD
#define FO_MINOR 1
#define FO_NAME fake_opts_old
#define FO_SYM lyra_component_fake_opts_old
#else
#define FO_MINOR LYRA_L4_MINOR
#define FO_NAME fake_opts
#define FO_SYM lyra_component_fake_opts
#endif
#define FO_STR2(x) #x
#define FO_STR(x) FO_STR2(x)

#define FO_EPS 4
#define FO_OPTS (LYRA_TCP_USER_TIMEOUT + 1)

struct fo_ep {
    int used;
    int val[FO_OPTS];
    char cc[16];
};

struct fo {
    struct fo_ep ep[FO_EPS];
    uint64_t opt_calls, buf_calls, last_opt, last_len, nul_after;
};

static struct fo_ep *ep_of(struct fo *f, int h)
{
    return h >= 0 && h < FO_EPS && f->ep[h].used ? &f->ep[h] : NULL;
}

static int o_open(void *self)
{
    struct fo *f = self;
    for (int h = 0; h < FO_EPS; h++)
        if (!f->ep[h].used) {
            memset(&f->ep[h], 0, sizeof(f->ep[h]));
            f->ep[h].used = 1;
            f->ep[h].val[LYRA_TCP_MAXSEG] = 1460;
            strcpy(f->ep[h].cc, "newreno");
            return h;
        }
    return -ENOBUFS;
}

static void o_close(void *self, int h)
{
    struct fo_ep *e = ep_of(self, h);
    if (e)
        e->used = 0;
}

static int o_addr(void *self, int h, const struct lyra_sockaddr4 *a)
{
    return -EOPNOTSUPP;
}

static int o_listen(void *self, int h, int backlog)
{
    return -EOPNOTSUPP;
}

static int o_accept(void *self, int h, struct lyra_sockaddr4 *peer)
{
    return -EOPNOTSUPP;
}

static long o_send(void *self, int h, const void *buf, size_t len, const struct lyra_sockaddr4 *to,
                   int flags)
{
    return -ENOTCONN;
}

static long o_recv(void *self, int h, const struct lyra_iov *iov, unsigned iovcnt,
                   struct lyra_sockaddr4 *from, struct lyra_l4_dst *to, int flags)
{
    return -ENOTCONN;
}

static int o_shutdown(void *self, int h, int how)
{
    return -ENOTCONN;
}

static int o_name(void *self, int h, int peer, struct lyra_sockaddr4 *out)
{
    return -ENOTCONN;
}

static unsigned o_poll(void *self, int h)
{
    return 0;
}

static int o_setopt(void *self, int h, int opt, int val)
{
    struct fo *f = self;
    struct fo_ep *e = ep_of(f, h);
    if (!e)
        return -EBADF;
    f->opt_calls++;
    f->last_opt = (uint64_t)opt;
    if (opt != LYRA_TCP_NODELAY && (opt < LYRA_SO_KEEPALIVE || opt > LYRA_TCP_USER_TIMEOUT))
        return -ENOPROTOOPT;
    if (val < 0)
        return -EINVAL;
    e->val[opt] = val;
    return 0;
}

static int o_getopt(void *self, int h, int opt, int *val)
{
    struct fo *f = self;
    struct fo_ep *e = ep_of(f, h);
    if (!e)
        return -EBADF;
    if (opt == LYRA_SO_ERROR) {
        *val = 0;
        return 0;
    }
    f->opt_calls++; /* as o_setopt: the tests count what reached the transport */
    f->last_opt = (uint64_t)opt;
    if (opt != LYRA_TCP_NODELAY && (opt < LYRA_SO_KEEPALIVE || opt > LYRA_TCP_USER_TIMEOUT))
        return -ENOPROTOOPT;
    *val = e->val[opt];
    return 0;
}

static int o_setopt_buf(void *self, int h, int opt, const void *val, uint32_t len)
{
    struct fo *f = self;
    struct fo_ep *e = ep_of(f, h);
    if (!e)
        return -EBADF;
    f->buf_calls++;
    f->last_opt = (uint64_t)opt;
    f->last_len = len;
    if (opt != LYRA_TCP_CONGESTION)
        return -ENOPROTOOPT;
    f->nul_after = ((const char *)val)[len] == 0;
    if ((len != 7 || memcmp(val, "newreno", 7)) && (len != 7 || memcmp(val, "toyreno", 7)))
        return -ENOENT;
    memcpy(e->cc, val, len);
    e->cc[len] = 0;
    return 0;
}

static int o_getopt_buf(void *self, int h, int opt, void *val, uint32_t *len)
{
    struct fo *f = self;
    struct fo_ep *e = ep_of(f, h);
    if (!e)
        return -EBADF;
    f->buf_calls++;
    f->last_opt = (uint64_t)opt;
    f->last_len = *len;
    if (opt == LYRA_TCP_CONGESTION) {
        /* the name and its NUL, or as much of the name as fits */
        uint32_t n = (uint32_t)strlen(e->cc) + 1;
        *len = n < *len ? n : *len;
        memcpy(val, e->cc, *len);
        return 0;
    }
    if (opt != LYRA_TCP_INFO)
        return -ENOPROTOOPT;
    struct lyra_tcp_info ti;
    memset(&ti, 0, sizeof(ti));
    ti.state = LYRA_TCPS_ESTABLISHED;
    ti.options = LYRA_TCPI_OPT_SACK | LYRA_TCPI_OPT_TIMESTAMPS;
    ti.rto = 204000;
    ti.rtt = 1234;
    ti.snd_mss = (uint32_t)e->val[LYRA_TCP_MAXSEG];
    ti.snd_cwnd = 14600;
    ti.bytes_acked = 0x0102030405060708ull;
    strcpy(ti.congestion, e->cc);
    *len = sizeof(ti) < *len ? (uint32_t)sizeof(ti) : *len;
    memcpy(val, &ti, *len);
    return 0;
}

static const struct lyra_l4_ops fo_ops = {
    .hdr = LYRA_OPS_HDR(LYRA_L4_IFACE, LYRA_L4_MAJOR, FO_MINOR, struct lyra_l4_ops),
    .type = LYRA_SOCK_STREAM,
    .protocol = 6,
    .open = o_open,
    .close = o_close,
    .bind = o_addr,
    .connect = o_addr,
    .listen = o_listen,
    .accept = o_accept,
    .send = o_send,
    .recv = o_recv,
    .shutdown = o_shutdown,
    .name = o_name,
    .poll = o_poll,
    .setopt = o_setopt,
    .getopt = o_getopt,
    .setopt_buf = o_setopt_buf,
    .getopt_buf = o_getopt_buf,
};

static void fo_stats(void *self, struct lyra_stats_sink *s)
{
    struct fo *f = self;
    lyra_stat(s, "opt_calls", f->opt_calls);
    lyra_stat(s, "buf_calls", f->buf_calls);
    lyra_stat(s, "last_opt", f->last_opt);
    lyra_stat(s, "last_len", f->last_len);
    lyra_stat(s, "nul_after", f->nul_after);
}

static const struct lyra_provide fo_provides[] = {
    {.iface = LYRA_L4_IFACE, .major = LYRA_L4_MAJOR, .minor = FO_MINOR, .ops = &fo_ops},
};

LYRA_EXPORT const struct lyra_component FO_SYM = {
    LYRA_COMPONENT_HDR,
    .name = FO_STR(FO_NAME),
    .version = "1.0.0",
    .summary = "test transport: keeps options, carries nothing",
    .provides = fo_provides,
    .n_provides = LYRA_COUNT(fo_provides),
    .instance_size = sizeof(struct fo),
    .stats = fo_stats,
};
