/* close(2) of the public socket API, with SO_LINGER's wait (socket_api.c
 * has the other calls). */
#include <stdint.h>

#include "lyra/l4.h"
#include "lyra/socket.h"
#include "socket_api_internal.h"

/* Whether the linger is over: an error, or our FIN acknowledged, which
 * TCP_INFO's state tells (past FIN-WAIT-1, CLOSING and LAST-ACK). HUP does
 * not tell it: it is set as soon as both sides are shut, so after the
 * peer's FIN it came with our FIN still unsent or in flight, close returned
 * at once and a program that ended right after never sent it (a Python
 * peer waited 30 s for our FIN, ASan stage). A transport without TCP_INFO
 * answers HUP alone. */
static int linger_done(const struct lyra_socket_ops *o, void *x, int fd)
{
    unsigned ev = o->poll(x, fd);
    if (ev & LYRA_POLL_ERR)
        return 1;
    struct lyra_tcp_info ti;
    uint32_t n = sizeof(ti);
    if (!LYRA_SOCKET_HAS(o, 3, getopt_buf) || o->getopt_buf(x, fd, LYRA_TCP_INFO, &ti, &n) ||
        n < sizeof(ti.state))
        return (ev & LYRA_POLL_HUP) != 0;
    return ti.state == LYRA_TCPS_FIN_WAIT_2 || ti.state == LYRA_TCPS_TIME_WAIT ||
           ti.state == LYRA_TCPS_CLOSED;
}

/* SO_LINGER with a time on a blocking stream, as Linux: the sending side
 * is shut and close waits until everything sent, the FIN included, is
 * acknowledged (or an error, or the linger time); the peer need not have
 * closed, and when it has, close still waits for its ACK of our FIN. Then the endpoint goes (the transport finishes the
 * closing handshake alone). Without SO_LINGER close returns at once and
 * the transport may keep the endpoint to finish (e.g. TIME_WAIT). */
static void linger(struct lyra_stack *s, const struct lyra_socket_ops *o, void *x, int fd,
                   int64_t lg)
{
    int64_t nb = 0;
    if (lg <= 0 || !sock_is_stream(o, x, fd) ||
        (o->getopt(x, fd, LYRA_FD_NONBLOCK, &nb) == 0 && nb))
        return;
    o->shutdown(x, fd, SHUT_WR);
    uint64_t deadline = lyra_stack_now(s) + (uint64_t)lg * 1000000000u;
    /* tcp reports POLL_OUT when our FIN is acknowledged */
    struct lyra_waiter w = {.fd = fd, .want = LYRA_POLL_HUP | LYRA_POLL_OUT};
    lyra_waiter_add(s, &w);
    while (!linger_done(o, x, fd) && lyra_stack_wait_locked(s, &w, deadline) == 0)
        ;
    lyra_waiter_del(s, &w);
}

int lyra_close(struct lyra_stack *s, int fd)
{
    void *x;
    const struct lyra_socket_ops *o = sock_enter(s, &x);
    if (!o)
        return -1;
    int64_t lg = -1;
    int r = o->getopt(x, fd, LYRA_FD_LINGER, &lg);
    if (r != -EBADF) {
        linger(s, o, x, fd, lg);
        r = o->close(x, fd);
    }
    sock_leave(s, 1);
    return r < 0 ? sock_fail(r) : 0;
}
