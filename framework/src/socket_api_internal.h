/* What the files of the public socket API share (socket_api.c: calls and
 * waits; socket_close.c: close and SO_LINGER; socket_opt.c: option levels
 * and values): finding the stack's socket provider under the lock, -1/errno,
 * and the lock-free EAGAIN of a drained descriptor. */
#ifndef LYRA_SOCKET_API_INTERNAL_H
#define LYRA_SOCKET_API_INTERNAL_H

#include <errno.h>

#include "lyra/socket.h"
#include "lyra/socket_if.h"
#include "stack_internal.h"

static inline int sock_fail(long r)
{
    errno = (int)-r;
    return -1;
}

/* The provider, or NULL with errno set; on success the stack is locked. */
static inline const struct lyra_socket_ops *sock_enter(struct lyra_stack *s, void **self)
{
    if (!s) {
        errno = EINVAL;
        return NULL;
    }
    const struct lyra_socket_ops *o = lyra_stack_socket(s, self);
    if (!o) {
        errno = EAFNOSUPPORT; /* this assembly has no socket layer */
        return NULL;
    }
    lyra_stack_lock(s);
    return o;
}

/* fd is a stream socket (SOCK_STREAM). */
static inline int sock_is_stream(const struct lyra_socket_ops *o, void *x, int fd)
{
    int64_t t = 0;
    return o->getopt(x, fd, LYRA_FD_TYPE, &t) == 0 && t == LYRA_SOCK_STREAM;
}

/* Unlocks; changed: the call may have given the loop work (wake it). */
static inline void sock_leave(struct lyra_stack *s, int changed)
{
    if (changed)
        lyra_stack_kick(s);
    lyra_stack_unlock(s);
}

/* A non-blocking read of a descriptor whose transport said nothing is
 * queued is answered EAGAIN without the stack lock (socket 1.5 rx_idle):
 * an event-driven reader's "read until EAGAIN" then costs the lock, the
 * dispatch and the wake-up check once a piece, not twice. The hint may be
 * stale: the answer is what the locked call said a moment earlier, and a
 * reader that waits for POLLIN next (lyra_poll, under the lock) sees what
 * arrived since. Never for a call that may block, nor for out-of-band or
 * error-queue reads. */
static inline int idle_eagain(struct lyra_stack *s, int fd, int flags)
{
    void *x;
    const struct lyra_socket_ops *o = s ? lyra_stack_socket(s, &x) : NULL;
    if (!o || (flags & (MSG_OOB | MSG_ERRQUEUE)) || !LYRA_SOCKET_HAS(o, 5, rx_idle))
        return 0;
    unsigned st = o->rx_idle(x, fd);
    return (st & LYRA_FD_IDLE_DRAINED) && ((flags & MSG_DONTWAIT) || (st & LYRA_FD_IDLE_NONBLOCK));
}

#endif
