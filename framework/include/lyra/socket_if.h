/* Interface `socket` 1.3: the descriptor table the public socket API
 * (lyra/socket.h) calls into. A provider (components/socket) maps
 * descriptors to l4 endpoints and keeps each descriptor's own options
 * (non-blocking, timeouts). Like l4, every op is non-blocking and returns
 * negative errno values: the public API turns -EAGAIN into a wait when the
 * descriptor is blocking, and errors into -1/errno.
 *
 * Contexts. The user is the framework (framework/src/socket_api.c), not a
 * component: it finds the provider in the stack and, when the provide has
 * `attach`, attaches its events with the stack as user. Ops are called
 * from application threads with the stack lock held (never concurrently
 * with a poll step) and may call the l4 providers. The `ready` event (1.2)
 * comes with the stack lock held, from a poll step (a transport's receive
 * path or timer) or from inside an op (close, a recv that frees room); the
 * user only wakes the calls waiting for that descriptor and must not call
 * ops from it. */
#ifndef LYRA_SOCKET_IF_H
#define LYRA_SOCKET_IF_H

#include <stddef.h>
#include <stdint.h>

#include "lyra/component.h"
#include "lyra/l4.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LYRA_SOCKET_IFACE "socket"
#define LYRA_SOCKET_MAJOR 1
#define LYRA_SOCKET_MINOR 5 /* 1.1: FD_GEN, FD_PKTINFO; 1.2: ready event;
                             * 1.3: setopt_buf, getopt_buf; 1.4: recv_loan, loan_return;
                             * 1.5: rx_idle */

/* In a ready event: the descriptor was closed (its number may be handed
 * out again at once). The value of POLLNVAL. */
#define LYRA_POLL_NVAL 0x020

/* Descriptor options kept by the socket layer (above the l4 ones). */
enum lyra_fdopt {
    LYRA_FD_NONBLOCK = 64, /* 0/1 */
    LYRA_FD_RCVTIMEO,      /* ns; 0: wait forever */
    LYRA_FD_SNDTIMEO,      /* ns; 0: wait forever */
    LYRA_FD_TYPE,          /* get: LYRA_SOCK_* */
    LYRA_FD_GEN,           /* get (1.1): changes each time the number is handed out */
    LYRA_FD_PKTINFO,       /* 0/1 (1.1): IP_PKTINFO, recvmsg reports the destination */
    LYRA_FD_LINGER,        /* (1.2) SO_LINGER: -1 off, else seconds; also set on the
                            * transport (LYRA_SO_LINGER) when it has it */
};

struct lyra_socket_ops {
    struct lyra_ops_hdr hdr;
    /* A descriptor (>= 0) for an endpoint of a provider serving (type,
     * protocol); protocol 0 picks the type's first provider.
     * -EPROTONOSUPPORT, -ESOCKTNOSUPPORT, -EMFILE, -ENOBUFS. */
    int (*socket)(void *self, int type, int protocol);
    /* -EBADF for a descriptor that is not open. */
    int (*close)(void *self, int fd);
    int (*bind)(void *self, int fd, const struct lyra_sockaddr4 *a);
    int (*connect)(void *self, int fd, const struct lyra_sockaddr4 *a);
    int (*listen)(void *self, int fd, int backlog);
    /* A new descriptor, or -EAGAIN. */
    int (*accept)(void *self, int fd, struct lyra_sockaddr4 *peer);
    long (*send)(void *self, int fd, const void *buf, size_t len, const struct lyra_sockaddr4 *to,
                 int flags);
    /* As l4 recv (iov pieces, to: where the datagram was sent). */
    long (*recv)(void *self, int fd, const struct lyra_iov *iov, unsigned iovcnt,
                 struct lyra_sockaddr4 *from, struct lyra_l4_dst *to, int flags);
    int (*shutdown)(void *self, int fd, int how);
    int (*name)(void *self, int fd, int peer, struct lyra_sockaddr4 *out);
    /* LYRA_POLL_* of fd; LYRA_POLL_ERR alone for a bad descriptor (-EBADF
     * is not representable), which callers check with getopt first. */
    unsigned (*poll)(void *self, int fd);
    /* l4 options (enum lyra_sockopt) pass through; LYRA_FD_* are kept here.
     * Values are 64-bit for the timeouts. */
    int (*setopt)(void *self, int fd, int opt, int64_t val);
    int (*getopt)(void *self, int fd, int opt, int64_t *val);
    /* 1.3: l4 options whose values are bytes (l4 1.2: LYRA_TCP_CONGESTION,
     * LYRA_TCP_INFO), passed to the descriptor's transport unchanged: set
     * takes len bytes at val; get fills at most *len bytes and sets *len to
     * what it wrote. LYRA_TCP_CONGESTION is set as the name's bytes (len
     * counts no NUL; the caller puts one after them all the same). -EBADF;
     * -ENOPROTOOPT for an option the transport does not have, or when it
     * has no such ops (older than l4 1.2, or left NULL). */
    int (*setopt_buf)(void *self, int fd, int opt, const void *val, uint32_t len);
    int (*getopt_buf)(void *self, int fd, int opt, void *val, uint32_t *len);
    /* 1.4: l4 1.3's recv_loan on fd's transport, which it records in the
     * loan (l4, l4_self) so that loan_return finds it after fd closed.
     * -EOPNOTSUPP when the transport has no loans. */
    long (*recv_loan)(void *self, int fd, struct lyra_l4_loan *loan, int flags);
    void (*loan_return)(void *self, struct lyra_l4_loan *loan);
    /* 1.5, the one op called WITHOUT the stack lock, from any thread:
     * LYRA_FD_IDLE_DRAINED when fd's transport said nothing is queued (l4
     * DRAINED) and nothing about fd happened since, with
     * LYRA_FD_IDLE_NONBLOCK when fd is O_NONBLOCK; 0 otherwise (not open,
     * not started). A hint that may be stale the moment it is read: a
     * non-blocking read may be answered EAGAIN on it (what the locked call
     * said a moment earlier), nothing may block on it. Started or stopped,
     * it reads memory that lives until destroy. */
    unsigned (*rx_idle)(void *self, int fd);
};
#define LYRA_FD_IDLE_DRAINED 1u
#define LYRA_FD_IDLE_NONBLOCK 2u

/* Does socket provider o have op `field` (by its minor version and table
 * size)? The stack takes any 1.x provider, so callers of ops newer than
 * 1.0 check first. */
#define LYRA_SOCKET_HAS(o, minor_, field)                                                  \
    ((o)->hdr.minor >= (minor_) &&                                                         \
     (o)->hdr.size >= offsetof(struct lyra_socket_ops, field) + sizeof((o)->field) && (o)->field)

/* Events the user implements (1.2). */
struct lyra_socket_events {
    struct lyra_ops_hdr hdr;
    /* fd may progress for the LYRA_POLL_* bits in what (LYRA_POLL_NVAL:
     * it was closed); fd -1: every descriptor (a shared resource such as
     * the skb pool). Spurious events are allowed, missing ones are not. */
    void (*ready)(void *user, int fd, unsigned what);
};

#ifdef __cplusplus
}
#endif
#endif
