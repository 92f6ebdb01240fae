/* fake_socket_old: a `socket` provider that says 1.2 (before options with
 * byte values) though its table has setopt_buf/getopt_buf set: the public
 * API must not call them (LYRA_SOCKET_HAS), and answers ENOPROTOOPT, or
 * EBADF for a descriptor that is not open. One descriptor, 0, a stream. */
#include <errno.h>

#include "lyra/component.h"
#include "lyra/socket_if.h"

struct fso {
    uint64_t buf_calls;
};

static int k_socket(void *self, int type, int protocol)
{
    return 0;
}

static int k_fd(void *self, int fd)
{
    return fd == 0 ? -EOPNOTSUPP : -EBADF;
}

static int k_addr(void *self, int fd, const struct lyra_sockaddr4 *a)
{
    return k_fd(self, fd);
}

static int k_listen(void *self, int fd, int backlog)
{
    return k_fd(self, fd);
}

static int k_accept(void *self, int fd, struct lyra_sockaddr4 *peer)
{
    return k_fd(self, fd);
}

static long k_send(void *self, int fd, const void *buf, size_t len,
                   const struct lyra_sockaddr4 *to, int flags)
{
    return k_fd(self, fd);
}

static long k_recv(void *self, int fd, const struct lyra_iov *iov, unsigned iovcnt,
                   struct lyra_sockaddr4 *from, struct lyra_l4_dst *to, int flags)
{
    return k_fd(self, fd);
}

static int k_name(void *self, int fd, int peer, struct lyra_sockaddr4 *out)
{
    return k_fd(self, fd);
}

static unsigned k_poll(void *self, int fd)
{
    return fd == 0 ? 0 : LYRA_POLL_ERR;
}

static int k_setopt(void *self, int fd, int opt, int64_t val)
{
    return k_fd(self, fd);
}

static int k_getopt(void *self, int fd, int opt, int64_t *val)
{
    if (fd != 0)
        return -EBADF;
    if (opt != LYRA_FD_TYPE)
        return -ENOPROTOOPT;
    *val = LYRA_SOCK_STREAM;
    return 0;
}

static int k_setopt_buf(void *self, int fd, int opt, const void *val, uint32_t len)
{
    ((struct fso *)self)->buf_calls++;
    return 0;
}

static int k_getopt_buf(void *self, int fd, int opt, void *val, uint32_t *len)
{
    ((struct fso *)self)->buf_calls++;
    return 0;
}

static const struct lyra_socket_ops fso_ops = {
    .hdr = LYRA_OPS_HDR(LYRA_SOCKET_IFACE, LYRA_SOCKET_MAJOR, 2, struct lyra_socket_ops),
    .socket = k_socket,
    .close = k_fd,
    .bind = k_addr,
    .connect = k_addr,
    .listen = k_listen,
    .accept = k_accept,
    .send = k_send,
    .recv = k_recv,
    .shutdown = k_listen,
    .name = k_name,
    .poll = k_poll,
    .setopt = k_setopt,
    .getopt = k_getopt,
    .setopt_buf = k_setopt_buf,
    .getopt_buf = k_getopt_buf,
};

static void fso_stats(void *self, struct lyra_stats_sink *s)
{
    lyra_stat(s, "buf_calls", ((struct fso *)self)->buf_calls);
}

static const struct lyra_provide fso_provides[] = {
    {.iface = LYRA_SOCKET_IFACE, .major = LYRA_SOCKET_MAJOR, .minor = 2, .ops = &fso_ops},
};

LYRA_EXPORT const struct lyra_component lyra_component_fake_socket_old = {
    LYRA_COMPONENT_HDR,
    .name = "fake_socket_old",
    .version = "1.0.0",
    .summary = "test socket provider that says 1.2",
    .provides = fso_provides,
    .n_provides = LYRA_COUNT(fso_provides),
    .instance_size = sizeof(struct fso),
    .stats = fso_stats,
};
